"""Secrets out of messages: the one function that every quoted answer and error text passes through.

A webhook URL is itself a secret (its path and query carry the token, Teams' ``sig=``), and so
are an SMTP login and a Prometheus bearer token. Servers echo them back: a 404 page repeats the
request path, a proxy quotes the query, an SMTP server its AUTH line; httpx's exceptions name
parts of the URL. Whatever the workbench says about a delivery or a fetch goes through
:func:`redact` first, which replaces with ``***``:

1. the userinfo, path, query and fragment of any URL (``https://hooks.example.com/***``);
2. each secret it is given, and for a URL its userinfo, password, path, query and fragment and
   their secret-looking pieces (a path segment, user name or query value of 8+ characters with
   a digit, or of 16+), in every spelling an echo may use: as sent, percent-decoded and
   -encoded, HTML-escaped, JSON-escaped, in any letter case;
3. ``Bearer`` credentials, ``Authorization`` headers and the value of query parameters named
   like secrets (``sig=***``, ``token=***``), given or not.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "***"

_URL = re.compile(
    r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)"
    r"(?P<userinfo>[^\s/?#@<>\"']*@)?"
    r"(?P<host>[^\s/?#<>\"']*)"
    r"(?P<rest>[/?#][^\s<>\"']*)?"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]+=*")
_AUTHORIZATION = re.compile(r"(?i)\b(authorization)\s*[:=]\s*(?:[A-Za-z]+\s+)?[A-Za-z0-9._~+/-]+=*")
_SECRET_PARAMETER = re.compile(
    r"(?i)(?<![\w-])(sig|signature|token|access_token|api[_-]?key|apikey|key|secret|password|passwd|pwd)="
    r"[^&\s\"'<>]+"
)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret in ``secrets`` (in any spelling) and every URL's userinfo, path
    and query replaced by ``***``. Empty or missing secrets are skipped."""
    spellings: set[str] = set()
    for secret in secrets:
        if secret:
            for piece in (secret, *url_secrets(secret)):
                spellings |= _spellings(piece)
    text = _URL.sub(_url_without_secrets, text)
    for spelling in sorted((s for s in spellings if s), key=len, reverse=True):  # longest first
        text = re.sub(re.escape(spelling), MASK, text, flags=re.IGNORECASE)
    text = _AUTHORIZATION.sub(lambda m: f"{m.group(1)}: {MASK}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _SECRET_PARAMETER.sub(lambda m: f"{m.group(1)}={MASK}", text)


def redact_url(url: str) -> str:
    """How a message names a URL: its scheme, host and port (``https://hooks.slack.com/***``)."""
    return _URL.sub(_url_without_secrets, url)


def _url_without_secrets(match: re.Match[str]) -> str:
    userinfo = f"{MASK}@" if match.group("userinfo") else ""
    whole = match.group("rest") or ""
    rest = whole.rstrip(".,:;!?)]")  # the sentence's punctuation after a URL is kept
    shown = "/" + MASK if rest.strip("/") else rest
    return f"{match.group('scheme')}{userinfo}{match.group('host')}{shown}{whole[len(rest) :]}"


def url_secrets(secret: str) -> list[str]:
    """A URL's parts that identify or authorise: userinfo, path, query, fragment, and their
    secret-looking pieces; none for a secret that is not a URL. Give these to :func:`redact`
    instead of the URL when its host may be named (a Prometheus), the URL when nothing of it
    may (a webhook)."""
    if "://" not in secret:
        return []
    try:
        parts = urlsplit(secret)
    except ValueError:  # e.g. an unbalanced IPv6 bracket: fall back on the pieces between separators
        return [p for p in re.split(r"[/?&=#@:;]+", secret.partition("://")[2]) if _looks_secret(p)]
    pieces = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        user, _, password = userinfo.partition(":")
        pieces += [userinfo, password] + ([user] if _looks_secret(user) else [])  # not a name such as "prom"
    if parts.path.strip("/"):
        pieces.append(parts.path)
        pieces += [segment for segment in parts.path.split("/") if _looks_secret(segment)]
    if parts.query:
        pieces.append(parts.query)
        pieces += [value for _, value in parse_qsl(parts.query, keep_blank_values=True) if _looks_secret(value)]
        pieces += [value for _, value in _raw_pairs(parts.query) if _looks_secret(value)]
    if parts.fragment:
        pieces.append(parts.fragment)
    if parts.path.strip("/") and parts.query:
        pieces.append(f"{parts.path}?{parts.query}")
    return pieces


def _raw_pairs(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (pair.partition("=") for pair in re.split(r"[&;]", query))]


def _looks_secret(piece: str) -> bool:
    """A token, an id or a signature rather than a word such as ``services`` or ``invoke``."""
    return len(piece) >= 16 or (len(piece) >= 8 and any(c.isdigit() for c in piece))


def _spellings(piece: str) -> set[str]:
    """How an echo may write ``piece``: as is, percent-decoded or -encoded, HTML- or JSON-escaped."""
    forms = {piece, unquote(piece), quote(piece, safe=""), quote(piece, safe="/"), quote(unquote(piece), safe="/")}
    forms |= {html.escape(f) for f in list(forms)}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}
    forms |= {f.replace("/", "\\/") for f in list(forms)}
    return forms
