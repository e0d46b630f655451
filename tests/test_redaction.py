"""srelib.redact: the one function every quoted answer and error text passes through.

The live cases (a webhook's 404 page, an SMTP error, a Prometheus answer) are in test_notify.py
and test_prometheus.py; these pin down what is removed and what is left readable.
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote, unquote

import pytest

from srelib.redact import redact, redact_url

TEAMS_URL = (
    "https://prod-12.westus.logic.azure.com:443/workflows/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f/triggers/manual/"
    "paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zq8vX2mK9pL4rT7wY1bN3cF6hJ0sD5gA"
)
SIG = "Zq8vX2mK9pL4rT7wY1bN3cF6hJ0sD5gA"
WORKFLOW = "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
SLACK_URL = "https://hooks.slack.com/services/T0A1B2C3D/B0E4F5G6H/s3cr3tT0kenXyzAbcDef1234"
SLACK_TOKEN = "s3cr3tT0kenXyzAbcDef1234"


def _path_and_query(url: str) -> str:
    return url.split("/", 3)[3]


@pytest.mark.parametrize(
    "echo",
    [
        lambda u: f"The requested URL /{_path_and_query(u)} was not found on this server.",  # Apache
        lambda u: f"<p>Cannot POST {html.escape('/' + _path_and_query(u))}</p>",  # HTML-escaped (&amp;)
        lambda u: f"no route for {unquote('/' + _path_and_query(u))}",  # percent-decoded
        lambda u: f"404 {quote('/' + _path_and_query(u), safe='')}",  # percent-encoded
        lambda u: f"404 {quote('/' + _path_and_query(u), safe='').lower()}",  # in another letter case
        lambda u: json.dumps({"error": "not found", "path": "/" + _path_and_query(u)}),  # JSON, \\/ or not
        lambda u: json.dumps({"url": u}).replace("/", "\\/"),
        lambda u: f"request for {u} failed",  # the whole URL
    ],
    ids=["apache", "html", "decoded", "encoded", "lowercase", "json", "json-slashes", "whole"],
)
@pytest.mark.parametrize("url", [TEAMS_URL, SLACK_URL], ids=["teams", "slack"])
def test_a_webhook_url_echoed_in_any_spelling_is_redacted(echo, url: str) -> None:
    text = redact(echo(url), url)
    for secret in (SIG, WORKFLOW, SLACK_TOKEN, "/services/T0A1B2C3D/B0E4F5G6H"):
        assert secret.lower() not in text.lower(), text
        assert quote(secret, safe="").lower() not in text.lower(), text
    assert "***" in text


def test_pieces_of_a_webhook_url_are_redacted_on_their_own() -> None:
    echoed = f"bad signature {SIG} for workflow {WORKFLOW}; token {SLACK_TOKEN}"
    assert redact(echoed, TEAMS_URL, SLACK_URL) == "bad signature *** for workflow ***; token ***"


def test_any_url_keeps_only_its_scheme_host_and_port() -> None:
    text = "POST https://user:pa55@hooks.example.com:8443/a/b?sig=x#frag failed; see http://127.0.0.1:9090"
    assert redact(text) == "POST https://***@hooks.example.com:8443/*** failed; see http://127.0.0.1:9090"
    assert redact_url("http://prom.internal:9090/") == "http://prom.internal:9090/"
    assert redact_url("https://prom.internal/prometheus") == "https://prom.internal/***"


def test_credentials_named_as_such_are_redacted_without_being_given() -> None:
    text = "Authorization: Basic dXNlcjpwYXNz sent; Bearer eyJhbGciOi.J9x_y; ?api_key=k3y&sig=abc&page=2"
    assert redact(text) == "Authorization: *** sent; Bearer ***; ?api_key=***&sig=***&page=2"


def test_a_token_and_an_smtp_password_are_redacted_in_any_letter_case() -> None:
    assert redact("invalid token Tok-3N-abc, expected ...", "tok-3n-ABC") == "invalid token ***, expected ..."
    assert redact("535 hunter2-correct-horse rejected", "hunter2-correct-horse", None, "") == "535 *** rejected"


def test_words_and_queries_are_left_readable() -> None:
    text = (
        'cannot reach Prometheus at http://127.0.0.1:9090: connection refused (query: sum(rate(x{code=~"5.."}[5m])) '
        "/ sum(rate(x[5m]))); the services path answered 404 invalid_blocks"
    )
    assert redact(text, SLACK_URL, TEAMS_URL) == text
