"""The voila application ``srelib dashboard`` runs: voila, hardened for a network.

- **Only its own names.** A request whose ``Host`` is not one the server was started for, or
  whose ``Origin`` is another site, gets a 403 before any handler sees it
  (:mod:`srelib.serve.hosts`; voila itself sets ``allow_remote_access`` and checks no Host).
- **A bounded number of kernels.** A page over ``--max-kernels`` gets a short "busy, retry"
  page (HTTP 503, ``Retry-After``) and no kernel (:mod:`srelib.serve.kernels`).
- **The token leaves the URL.** ``/?token=…`` logs the browser in (a cookie) and redirects to the
  same page without it, so the token is not kept in the address bar, the history, a
  ``Referer`` or the kernel's environment; ``/voila/query/<kernel>``, which handed a page's
  query string (token included) to anyone who knew the kernel's id, is not served.
- **Links to a view.** ``?period=``, ``?team=``, ``?service=``, ``?slo=`` open a dashboard on
  that view: such a page gets a kernel started for it, not a preheated one
  (:mod:`srelib.serve.links`).
- **No override from the URL.** ``?template=`` and ``?theme=`` change nothing (voila's overrides
  are off, see :func:`srelib.serve.server.voila_argv`) and take the preheated kernel as any page.
- **A page that closes shuts its kernel down** (:class:`KernelShutdown`), not left to the culler.
- **No traceback to the page.** Kernel messages carrying an error or text written to stderr
  (a failed ``comm_open`` logs a traceback with the server's paths there) are not forwarded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import tornado.web
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.httputil import HTTPServerRequest
from tornado.routing import Matcher, Rule
from traitlets import Instance
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.handler import TornadoVoilaHandler

from srelib.errors import DashboardBusy
from srelib.serve.hosts import LOCAL_NAMES, AllowedHosts
from srelib.serve.links import asks_for_a_view

RETRY_AFTER = 30  # seconds a busy page asks the browser to wait

BUSY_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{RETRY_AFTER}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Dashboard busy</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
    max-width: 34em; margin: 15vh auto; padding: 0 16px; line-height: 1.5; }}
  h1 {{ font-size: 22px; color: #1f4e79; }}
</style></head>
<body><h1>The dashboard is busy</h1>
<p>It is open in as many pages as this server serves at once. A page is freed a few minutes
after someone closes theirs.</p>
<p>This page tries again by itself in {RETRY_AFTER} seconds.</p></body></html>
"""


class Refused(tornado.web.RequestHandler):
    """The answer to every request under a name or from an origin that is not the server's."""

    def prepare(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("403 Forbidden: this dashboard does not answer to this host name or origin.\n")


class ForeignRequest(Matcher):
    """Matches the requests the server must refuse (see :class:`AllowedHosts`)."""

    def __init__(self, allowed: AllowedHosts):
        self.allowed = allowed

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        return None if self.allowed.allows_request(request.host, request.headers.get("Origin")) else {}


class DashboardPage(TornadoVoilaHandler):
    """voila's page, answering "busy" over the kernel cap and taking the token out of the URL."""

    @tornado.web.authenticated
    async def get(self, path: str | None = None) -> None:
        if "token" in self.request.query_arguments:
            # Logged in by the token, which the login cookie now holds: the same page without it.
            arguments = parse_qsl(self.request.query, keep_blank_values=True)
            query = urlencode([(k, v) for k, v in arguments if k != "token"])
            where = "/" + self.request.path.lstrip("/\\")  # never "//host": another site
            self.redirect(where + (f"?{query}" if query else ""))
            return
        if self.kernel_manager.full():  # before voila hands a preheated kernel to this page
            self.busy()
            return
        try:
            await super().get(path)
        except DashboardBusy:  # pages arriving together: the kernel manager refused the last
            if self._headers_written:
                raise
            self.busy()

    def busy(self) -> None:
        pages = self.kernel_manager.serving_pages()
        self.log.warning("dashboard busy: %d pages have a kernel (--max-kernels); answered 503", pages)
        self.clear()
        self.set_status(503)
        self.set_header("Retry-After", str(RETRY_AFTER))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(BUSY_PAGE)

    def should_use_rendered_notebook(  # type: ignore[override]
        self, notebook_data: dict, pool_size: int, template_name: str, theme: str, request_args: dict
    ) -> bool:
        # ?template= and ?theme= are ignored (overrides are off): they must not cost a new kernel.
        # A preheated kernel still starting is not waited for: see DashboardKernels.ready_in_pool.
        # A link to a view (?slo=...) needs a kernel started with the page's query string.
        if asks_for_a_view(self.request.query_arguments):
            return False
        return self.kernel_manager.ready_in_pool(self.notebook_path) and super().should_use_rendered_notebook(
            notebook_data, pool_size, None, None, request_args
        )


class QuietKernelConnection(ZMQChannelsWebsocketConnection):
    """A page's connection to its kernel, less error messages and stderr text: they carry
    tracebacks and server paths (a failed ``comm_open`` logs one to stderr), which a dashboard
    never shows (``show_tracebacks`` is off; a view that fails says so in its own words)."""

    def handle_outgoing_message(self, stream: str, outgoing_msg: list[Any]) -> None:
        _, parts = self.session.feed_identities(outgoing_msg)  # signature, header, parent, metadata, content…
        kind = self.session.unpack(parts[1]).get("msg_type")
        if kind == "error" or (kind == "stream" and self.session.unpack(parts[4]).get("name") == "stderr"):
            self.log.debug("not forwarded to the page: a kernel's %s message", kind)
            return
        super().handle_outgoing_message(stream, outgoing_msg)


class KernelShutdown(VoilaShutdownKernelHandler):
    """A page closing asks for its kernel to be shut down, with a beacon (``navigator.sendBeacon``),
    which cannot carry jupyter_server's ``_xsrf`` token: refused with a 403, the kernel of every
    page a reader left stayed until culled (voila issue #1458). A beacon's ``Origin`` names the
    page that sent it, and one that reaches this handler is this server's own (a foreign one is
    refused before, :class:`ForeignRequest`), which is what the token proves; without an
    ``Origin`` the token is required as before. The login is required either way."""

    def check_xsrf_cookie(self) -> None:
        if self.request.headers.get("Origin") is None:
            super().check_xsrf_cookie()


OURS = {TornadoVoilaHandler: DashboardPage, VoilaShutdownKernelHandler: KernelShutdown}  # voila's handler → ours


class DashboardServer(Voila):
    """voila with :class:`DashboardPage` and without ``/voila/query``, answering only
    ``allowed_hosts`` (kernels and their connections are set by :func:`srelib.serve.server.voila_argv`)."""

    allowed_hosts = Instance(AllowedHosts, kw={"names": frozenset(LOCAL_NAMES)})

    def init_handlers(self) -> list:
        handlers = []
        for pattern, handler, *options in super().init_handlers():
            if handler is RequestInfoSocketHandler:
                continue  # a page's query string (its token too) to anyone knowing the kernel's id
            handlers.append((pattern, OURS.get(handler, handler), *options))
        # Before every route voila adds: a foreign Host or Origin reaches none of them.
        self.app.default_router.rules.insert(0, Rule(ForeignRequest(self.allowed_hosts), Refused))
        return handlers
