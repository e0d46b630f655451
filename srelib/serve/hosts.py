"""Which names ``srelib dashboard`` answers to, and which addresses need a token.

A browser sends the name in its address bar as the ``Host`` header, and the page's own origin
as ``Origin`` on websockets and scripted requests. A page on ``evil.example`` whose DNS name
is re-pointed at 127.0.0.1 (DNS rebinding) reaches a local server as ``Host: evil.example``;
answering only the names the server was started for closes that door, and answering only
requests whose ``Origin`` (when there is one) is the server itself keeps other sites' pages
from opening its websockets. An IP address as ``Host`` never comes from a DNS name, so it is
safe when the server listens on every interface. See ``docs/security.md``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
EVERY_INTERFACE = ("0.0.0.0", "::", "")


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine (``localhost``, 127.0.0.0/8, ::1)."""
    address = _address(host)
    return host.lower() == "localhost" if address is None else address.is_loopback


@dataclass(frozen=True)
class AllowedHosts:
    """The names a server answers to (lower case), and whether any IP address is fine too
    (when it listens on every interface)."""

    names: frozenset[str]
    any_address: bool = False

    @classmethod
    def for_server(cls, bind: str, extra: Iterable[str] = ()) -> AllowedHosts:
        """The address it binds (unless every interface), this machine's loopback names, and
        ``extra`` (``--allow-host``: the name a reverse proxy forwards); listening on every
        interface adds this machine's own host names and any IP address."""
        names = {*LOCAL_NAMES, *(name.strip("[]").lower() for name in extra)}
        every = bind in EVERY_INTERFACE
        if every:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        else:
            names.add(bind.strip("[]").lower())
        return cls(frozenset(names), any_address=every)

    def allows(self, host: str) -> bool:
        """Whether a ``Host`` header's name (without its port; IPv6 in brackets or not) is one of ours."""
        name = host.strip("[]").lower()
        if name in self.names:
            return True
        address = _address(name)
        return address is not None and (self.any_address or address.is_loopback)

    def allows_request(self, host_header: str, origin: str | None) -> bool:
        """A request's ``Host`` must be ours; its ``Origin``, when it has one, must be the server
        itself (same host and port as ``Host``): a page of another site cannot reach us."""
        try:
            name = urlsplit(f"//{host_header}").hostname or ""
            origin_netloc = None if origin is None else urlsplit(origin).netloc
        except ValueError:  # not a host name at all ("[::1", say)
            return False
        if not self.allows(name):
            return False
        return origin_netloc is None or origin_netloc.lower() == host_header.lower()
