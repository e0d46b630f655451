"""Announcing runs: Slack/Teams webhooks and the newsletter by SMTP, against real local servers.

The webhook server is Python's http.server on 127.0.0.1, answering a bounded number of
requests; the SMTP server is aiosmtpd's, on 127.0.0.1. Secrets come from the environment and
must appear nowhere: not in outputs, not in the run log, not in what the command prints, not
even when a server echoes them back. Data reaches a message as text, never as markup.
"""

from __future__ import annotations

import base64
import html
import json
import socket
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from srelib.config import Workbench
from srelib.errors import ConfigError, DeliveryError
from srelib.period import Period
from srelib.run.notify import (
    Announcement,
    Email,
    Webhook,
    _adaptive_card,
    _block_kit,
    _markdown,
    load_config,
    post_webhook,
    send_mail,
)
from tests.conftest import make_workbench
from tests.runs import probe, srelib

SECRET_PATH = "/services/T000/B000/s3cr3t-t0ken-xyz"
# A Teams Workflows URL: the path names the flow, the query's sig= is the credential.
TEAMS_SIG = "Zq8vX2mK9pL4rT7wY1bN3cF6hJ0sD5gA-x_y"
TEAMS_PATH = (
    "/workflows/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f/triggers/manual/paths/invoke"
    f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={TEAMS_SIG}"
)
HOSTILE = "[md](javascript:alert(1)) *bold* _it_ ~s~ `code` <at>all</at> <!channel> &#91;x&#93; \n- item"


def apache_404(path: str) -> bytes:
    """Apache's 404 page, which echoes the request's path (and many proxies' pages do the same)."""
    return (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n'
        f"</head><body>\n<h1>Not Found</h1>\n<p>The requested URL {html.escape(path)} was not found on this "
        "server.</p>\n</body></html>\n"
    ).encode()


class Hook:
    """A webhook receiver: records each JSON body, answers with ``status`` and ``answer(path)``
    (at most ``limit`` requests)."""

    def __init__(self, status: int = 200, limit: int = 20, answer: Callable[[str], bytes] | None = None):
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.status = status
        hook = self
        answer = answer or (lambda path: b"ok" if hook.status == 200 else b"invalid_blocks")

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.paths.append(self.path)
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(answer(self.path))

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 0.1
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.url = f"{self.base}{SECRET_PATH}"
        self.thread = threading.Thread(target=self._serve, args=(limit,), daemon=True)
        self._stop = threading.Event()

    def _serve(self, limit: int) -> None:
        handled = 0
        while not self._stop.is_set() and handled < limit:
            before = len(self.bodies)
            self.server.handle_request()  # returns after one request or the 0.1 s timeout
            handled += len(self.bodies) - before

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(5)
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def publish(workbench: Workbench, config: dict) -> None:
    (workbench.root / "params" / "publish.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def nowhere(workbench: Workbench, *secrets: str, also: str = "") -> None:
    """No secret in any file under outputs/ nor in ``also`` (what a command printed)."""
    for path in workbench.outputs_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"{secret} leaked into {path}"
    for secret in secrets:
        assert secret not in also


@pytest.mark.timeout(300)
def test_slack_gets_a_block_kit_summary_with_links_and_the_secret_stays_secret(bench: Workbench, demo_end: Period):
    probe(bench, "quick", "x = 1")
    probe(bench, "broken", "raise RuntimeError('boom')")
    publish(bench, {"portal_url": "https://sre.example.com/reports", "webhook": {"kind": "slack"}})
    with Hook() as hook:
        env = {"SRELIB_WEBHOOK_URL": hook.url}
        result = srelib(
            bench.root, "run", "executive_summary", "quick", "broken", "--period", demo_end.label, "--notify", env=env
        )
    assert result.returncode == 1, result.stderr  # one report failed; the message was still sent
    assert "announced 3 run(s) on Slack" in result.stderr
    assert "warning: params/publish.yaml: webhook.url_env: $SRELIB_WEBHOOK_URL is a plain http:// URL" in result.stderr
    assert hook.paths == [SECRET_PATH]
    body = hook.bodies[0]
    kinds = [block["type"] for block in body["blocks"]]
    assert kinds[0] == "header" and kinds[-1] == "context" and "section" in kinds
    assert demo_end.title in body["blocks"][0]["text"]["text"]
    assert "2 report(s) published, 1 not published" in body["text"]
    text = json.dumps(body)
    link = (
        f"<https://sre.example.com/reports/{demo_end.label}/executive_summary.html|executive_summary {demo_end.label}>"
    )
    assert link in text
    assert "broken" in text and "boom" in text
    fields = next(b for b in body["blocks"] if "fields" in b)["fields"]
    assert any("Incidents" in f["text"] for f in fields)
    nowhere(bench, hook.url, SECRET_PATH, also=result.stdout + result.stderr)


@pytest.mark.timeout(300)
def test_teams_gets_an_adaptive_card_where_data_is_never_markdown(bench: Workbench, demo_end: Period):
    probe(bench, "quick", "x = 1")
    probe(bench, "hostile", f"raise RuntimeError({HOSTILE!r})")  # an error quoting a name from the data
    publish(
        bench, {"portal_url": "https://sre.example.com/reports", "webhook": {"kind": "teams", "url_env": "TEAMS_HOOK"}}
    )
    with Hook() as hook:
        result = srelib(
            bench.root, "run", "quick", "hostile", "--period", demo_end.label, "--notify", env={"TEAMS_HOOK": hook.url}
        )
    assert result.returncode == 1, result.stderr  # the hostile report failed; the card was sent
    card = hook.bodies[0]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard" and card["content"]["body"][0]["type"] == "TextBlock"
    rendered = "".join(_commonmark().render(text) for text in _markdown_fields(card["content"]))
    assert "1 report(s) published, 1 not published" in rendered
    assert "javascript:" in rendered and 'href="javascript' not in rendered  # shown as text, never a link
    assert "<em>" not in rendered and "<code>" not in rendered and "<at>" not in rendered
    links = [part.split('"')[0] for part in rendered.split('href="')[1:]]
    assert links and all(link.startswith("https://sre.example.com/reports") for link in links)


@pytest.mark.timeout(300)
def test_webhook_failures_are_clear_and_the_reports_stay_published(bench: Workbench, demo_end: Period):
    probe(bench, "quick", "x = 1")
    publish(bench, {"webhook": {"kind": "slack"}})
    down = f"http://127.0.0.1:{free_port()}{SECRET_PATH}"
    result = srelib(
        bench.root, "run", "quick", "--period", demo_end.label, "--notify", env={"SRELIB_WEBHOOK_URL": down}
    )
    assert result.returncode == 1
    assert "cannot reach the Slack webhook ($SRELIB_WEBHOOK_URL): connection refused" in result.stderr
    assert "(the reports are published)" in result.stderr
    assert (bench.outputs_path / demo_end.label / "quick.html").is_file()
    nowhere(bench, SECRET_PATH, also=result.stdout + result.stderr)
    unset = srelib(bench.root, "run", "quick", "--period", demo_end.label, "--notify", env={"SRELIB_WEBHOOK_URL": ""})
    assert unset.returncode == 2 and "the environment variable SRELIB_WEBHOOK_URL is not set" in unset.stderr


class Mailbox:
    """aiosmtpd on 127.0.0.1, keeping what it receives; optionally with a login."""

    def __init__(self, login: tuple[str, str] | None = None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[tuple[list[str], bytes]] = []
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                box.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = login is not None and (auth_data.login.decode(), auth_data.password.decode()) == login
            return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

        self.port = free_port()
        options = {"authenticator": authenticate, "auth_require_tls": False} if login else {}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def _email_config(port: int, **extra: object) -> dict:
    return {
        "email": {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "sender": "SRE team <sre@example.com>",
            "to": ["engineering@example.com", "product@example.com"],
            **extra,
        }
    }


@pytest.mark.timeout(300)
def test_the_newsletter_goes_out_once_by_smtp_with_text_html_and_inline_images(bench: Workbench, demo_end: Period):
    password = "hunter2-correct-horse"
    with Mailbox(login=("sre-bot", password)) as box:
        login = {"username_env": "SMTP_USER", "password_env": "SMTP_PASSWORD"}
        publish(bench, _email_config(box.port, **login, allow_insecure=True))  # a test server without TLS
        env = {"SMTP_USER": "sre-bot", "SMTP_PASSWORD": password}
        result = srelib(bench.root, "run", "newsletter", "--period", demo_end.label, "--notify", env=env)
        assert result.returncode == 0, result.stderr
        assert f"sent the {demo_end.label} newsletter to 2 recipient(s)" in result.stderr
        assert "warning: params/publish.yaml: email.security: none: the SMTP login" in result.stderr
        again = srelib(bench.root, "run", "newsletter", "--period", demo_end.label, "--notify", env=env)
        assert again.returncode == 0 and "sent the" not in again.stderr  # once per period
        wrong = srelib(
            bench.root,
            "run",
            "newsletter",
            "--period",
            demo_end.previous().label,
            "--notify",
            env={**env, "SMTP_PASSWORD": "wrong-password"},
        )
    assert len(box.messages) == 1
    recipients, raw = box.messages[0]
    assert recipients == ["engineering@example.com", "product@example.com"]
    mail = message_from_bytes(raw, policy=policy.default)
    assert demo_end.title in mail["Subject"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",))
    html = html_part.get_content()
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert images and all(f"cid:{p['Content-ID'].strip('<>')}" in html for p in images)
    published = (bench.outputs_path / demo_end.label / "newsletter.txt").read_text()
    assert text.strip() == published.strip()
    assert wrong.returncode == 1 and "refused the login of $SMTP_USER" in wrong.stderr
    assert (bench.outputs_path / demo_end.previous().label / "newsletter.html").is_file()  # published anyway
    nowhere(bench, password, "wrong-password", also=result.stderr + wrong.stderr + again.stderr)


@pytest.mark.timeout(300)
def test_smtp_down_is_a_clear_message_and_the_newsletter_is_sent_after_the_next_batch(
    bench: Workbench, demo_end: Period
):
    port = free_port()
    publish(bench, _email_config(port))
    probe(bench, "quick", "x = 1")
    down = srelib(bench.root, "run", "newsletter", "--period", demo_end.label, "--notify")
    assert down.returncode == 1
    assert f"the {demo_end.label} newsletter was not sent: cannot reach the SMTP server 127.0.0.1:{port}" in down.stderr
    assert "connection refused" in down.stderr
    assert (bench.outputs_path / demo_end.label / "newsletter.html").is_file()
    deliveries = [json.loads(line) for line in (bench.outputs_path / "deliveries.jsonl").read_text().splitlines()]
    assert deliveries[-1]["status"] == "failed"
    with Mailbox() as box:
        box_config = _email_config(box.port)
        publish(bench, box_config)
        later = srelib(bench.root, "run", "quick", "--period", demo_end.label, "--notify")
    assert later.returncode == 0, later.stderr
    assert f"sent the {demo_end.label} newsletter" in later.stderr and len(box.messages) == 1


# ---------------------------------------------------------------- secrets echoed back (fast: no report runs)


def _teams_webhook(monkeypatch: pytest.MonkeyPatch, url: str) -> Webhook:
    monkeypatch.setenv("TEAMS_HOOK", url)
    return Webhook(kind="teams", url_env="TEAMS_HOOK")


def test_a_404_page_echoing_the_webhook_path_and_sig_leaks_neither(monkeypatch: pytest.MonkeyPatch):
    """What the command prints and the scheduler logs ("could not announce the runs: ...") is this
    DeliveryError's text: it says what happened and quotes the page, without the secret."""
    with Hook(status=404, answer=apache_404) as hook, pytest.raises(DeliveryError) as caught:
        post_webhook(_teams_webhook(monkeypatch, hook.base + TEAMS_PATH), {"type": "message"})
    assert hook.paths == [TEAMS_PATH]  # the server saw the secret, and its page echoed it
    said = str(caught.value)
    assert said.startswith("the Teams webhook ($TEAMS_HOOK) answered HTTP 404: <!DOCTYPE HTML")
    assert "The requested URL *** was not found" in said
    for secret in (TEAMS_SIG, "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", "/workflows/", "sig="):
        assert secret not in said
    assert caught.value.__cause__ is None and caught.value.__context__ is None  # no chained httpx text


def test_a_rejected_message_is_not_sent_again_and_a_busy_webhook_is_tried_three_times(
    monkeypatch: pytest.MonkeyPatch,
):
    """The end-to-end test above runs a report with the webhook down; these answers come from a
    receiver that is up (HTTP 400 is the message's fault: sending it again cannot help)."""
    with Hook(status=400) as hook, pytest.raises(DeliveryError) as caught:
        post_webhook(_teams_webhook(monkeypatch, hook.url), {"type": "message"}, backoff=0.01)
    assert str(caught.value) == "the Teams webhook ($TEAMS_HOOK) answered HTTP 400: invalid_blocks"
    assert len(hook.bodies) == 1
    with Hook(status=503) as hook, pytest.raises(DeliveryError) as caught:
        post_webhook(_teams_webhook(monkeypatch, hook.url), {"type": "message"}, backoff=0.01)
    assert str(caught.value).startswith("the Teams webhook ($TEAMS_HOOK) answered HTTP 503")
    assert len(hook.bodies) == 3 and SECRET_PATH not in str(caught.value)


def test_a_webhook_url_httpx_cannot_parse_is_not_quoted(monkeypatch: pytest.MonkeyPatch):
    # A '/' in the password ends the authority early: httpx would say "Invalid port: 's3cr'".
    webhook = _teams_webhook(monkeypatch, "https://hook-user:s3cr/et-pa55@127.0.0.1:9/x")
    with pytest.raises(DeliveryError) as caught:
        post_webhook(webhook, {}, attempts=1)
    assert str(caught.value) == "the Teams webhook ($TEAMS_HOOK) is not a valid URL"


def test_a_refused_connection_names_neither_the_path_nor_the_login(monkeypatch: pytest.MonkeyPatch):
    url = f"http://hook-user:pa55w0rd-x@127.0.0.1:{free_port()}{TEAMS_PATH}"
    with pytest.raises(DeliveryError) as caught:
        post_webhook(_teams_webhook(monkeypatch, url), {}, attempts=1)
    assert str(caught.value) == "cannot reach the Teams webhook ($TEAMS_HOOK): connection refused"


class EchoingMailbox:
    """aiosmtpd on 127.0.0.1 that accepts the login, then rejects the message quoting it back
    (as AUTH PLAIN sent it, and decoded): a server whose errors echo credentials."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                login, password = session.auth_data.login.decode(), session.auth_data.password.decode()
                plain = base64.b64encode(f"\0{login}\0{password}".encode()).decode()
                return f"554 5.7.1 rejected: AUTH PLAIN {plain} ({login}/{password}) over quota"

        def authenticate(server, session, envelope, mechanism, auth_data):
            return AuthResult(success=True, auth_data=auth_data)

        self.port = free_port()
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticate, auth_require_tls=False
        )

    def __enter__(self) -> EchoingMailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def test_an_smtp_error_echoing_the_login_is_redacted(monkeypatch: pytest.MonkeyPatch):
    password = "hunter2-correct-horse"
    monkeypatch.setenv("SMTP_USER", "sre-bot")
    monkeypatch.setenv("SMTP_PASSWORD", password)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "sre@example.com", "all@example.com", "test"
    mail.set_content("hello")
    with EchoingMailbox() as box:
        email = Email(
            **_email_config(box.port, username_env="SMTP_USER", password_env="SMTP_PASSWORD", allow_insecure=True)[
                "email"
            ]
        )
        with pytest.raises(DeliveryError) as caught:
            send_mail(email, mail)
    said = str(caught.value)
    assert said.startswith(f"the SMTP server 127.0.0.1:{box.port}: (554, b'5.7.1 rejected: AUTH PLAIN ***")
    assert password not in said and base64.b64encode(f"\0sre-bot\0{password}".encode()).decode() not in said


# ---------------------------------------------------------------- insecure settings (fast)


def test_an_smtp_login_without_tls_is_refused_unless_allowed_then_warned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    workbench = make_workbench(tmp_path, {"checkout": "payments"})
    monkeypatch.setenv("SMTP_USER", "sre-bot")
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2")
    login = {"username_env": "SMTP_USER", "password_env": "SMTP_PASSWORD"}
    publish(workbench, _email_config(25, **login))
    with pytest.raises(ConfigError) as refused:
        load_config(workbench)
    assert str(refused.value) == (
        "params/publish.yaml: email.security: none would send the SMTP login ($SMTP_USER, $SMTP_PASSWORD) "
        "unencrypted: use starttls or ssl, or set email.allow_insecure: true for a server on a trusted network"
    )
    publish(workbench, _email_config(25, **login, allow_insecure=True))
    assert load_config(workbench).warnings == [
        "params/publish.yaml: email.security: none: the SMTP login ($SMTP_USER, $SMTP_PASSWORD) is sent "
        "unencrypted (email.allow_insecure: true)"
    ]
    publish(workbench, _email_config(25))  # no login: nothing secret crosses the network
    assert load_config(workbench).warnings == []
    publish(
        workbench,
        _email_config(587, **login) | {"email": {**_email_config(587, **login)["email"], "security": "starttls"}},
    )
    assert load_config(workbench).warnings == []


def test_a_plain_http_webhook_url_is_accepted_with_a_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    workbench = make_workbench(tmp_path, {"checkout": "payments"})
    publish(workbench, {"webhook": {"kind": "slack"}})
    monkeypatch.setenv("SRELIB_WEBHOOK_URL", "http://hooks.example.com" + SECRET_PATH)
    assert load_config(workbench).warnings == [
        "params/publish.yaml: webhook.url_env: $SRELIB_WEBHOOK_URL is a plain http:// URL: the message and the "
        "secret in the URL cross the network unencrypted (use https://)"
    ]
    monkeypatch.setenv("SRELIB_WEBHOOK_URL", "https://hooks.example.com" + SECRET_PATH)
    assert load_config(workbench).warnings == []


# ---------------------------------------------------------------- data is text, never markup (fast)


def _markdown_fields(card: dict) -> list[str]:
    """Every text of an Adaptive Card that Teams reads as Markdown: TextBlock text, Fact title and value."""
    texts = [element["text"] for element in card["body"] if element["type"] == "TextBlock"]
    for element in card["body"]:
        if element["type"] == "FactSet":
            texts += [part for fact in element["facts"] for part in (fact["title"], fact["value"])]
    return texts


def _commonmark() -> MarkdownIt:
    """A CommonMark renderer that, like a chat client might, links any scheme (markdown-it itself
    refuses javascript: links, which would hide a link that formed)."""
    renderer = MarkdownIt("commonmark")
    renderer.validateLink = lambda url: True
    return renderer


def _as_html(text: str) -> str:
    """Text as markdown-it writes it in HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _hostile_announcement() -> Announcement:
    return Announcement(
        heading=f"{HOSTILE} · SRE reports",
        tally="1 report(s) published, 1 not published",
        figures=[(HOSTILE, HOSTILE)],
        lines=[
            (f"team_report 2026-10 ({HOSTILE})", "https://sre.example.com/r/2026-10/teams/a%29b.html", None),
            ("quick 2026-10", None, f"failed: {HOSTILE}"),
        ],
        more=0,
        footer="srelib · 2026-11-01 06:00 UTC",
        portal_url="https://sre.example.com/r",
    )


def test_data_in_a_teams_card_renders_as_its_own_text():
    rendered = [
        _commonmark().render(text)
        for text in _markdown_fields(_adaptive_card(_hostile_announcement())["attachments"][0]["content"])
    ]
    every = "".join(rendered)
    assert 'href="javascript' not in every and "<em>" not in every and "<code>" not in every
    assert "<strong>" in every  # our own emphasis of a failure stays
    assert every.count("<li>") == 2  # our two lines; the data's "- item" is no list item
    links = [part.split('"')[0] for part in every.split('href="')[1:]]
    assert links == ["https://sre.example.com/r/2026-10/teams/a%29b.html", "https://sre.example.com/r"]
    heading = rendered[0]
    assert heading == f"<p>{_as_html(' '.join(HOSTILE.split()))} · SRE reports</p>\n"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1).filter(str.strip))
def test_any_text_escaped_for_teams_markdown_renders_as_itself(text: str):
    """CommonMark (markdown-it) renders the escaped text as one paragraph of exactly that text."""
    rendered = _commonmark().render(_markdown(text))
    assert rendered == f"<p>{_as_html(' '.join(text.split()))}</p>\n"


def _mrkdwn_fields(body: dict) -> list[str]:
    """Every text of a Block Kit message that Slack reads as mrkdwn (the header is plain_text)."""
    texts = [body["text"]]
    for block in body["blocks"]:
        parts = [block.get("text"), *block.get("fields", []), *block.get("elements", [])]
        texts += [p["text"] for p in parts if p and p["type"] == "mrkdwn"]
    return texts


def test_data_in_a_slack_message_cannot_mention_or_link():
    body = _block_kit(_hostile_announcement())
    mrkdwn = "\n".join(_mrkdwn_fields(body))
    assert "<!channel>" not in mrkdwn and "<at>" not in mrkdwn and "&lt;!channel&gt;" in body["text"]
    assert "\n- item" not in json.dumps(body)  # a line break in data does not start a line
    assert body["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": " ".join(f"{HOSTILE} · SRE reports".split()),
        "emoji": False,
    }
    link = next(t for t in _mrkdwn_fields(body) if "team_report" in t)
    assert link.startswith("• <https://sre.example.com/r/2026-10/teams/a%29b.html|team_report 2026-10 ([md]")


# ---------------------------------------------------------------- e-mail reports (fast: parts written here)


def test_the_weekly_digest_is_emailed_as_published_once_per_week_by_default(tmp_path: Path):
    """The batch's published digest goes out as its parts are on disk (an embedded image becoming an
    inline attachment), with the page's title as subject; the same week is not sent twice."""
    from srelib.present import mail
    from srelib.run.batch import Job, Outcome
    from srelib.run.notify import announce, load_config

    workbench = make_workbench(tmp_path / "workbench", {"api": "platform"})
    folder = workbench.outputs_path / "2026-W43"
    folder.mkdir(parents=True)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nnot really").decode()
    page = (
        "<!DOCTYPE html><html><head><title>SRE weekly digest · week 43 of 2026</title></head><body>"
        f'<p>Tip &lt;b&gt;</p><img src="data:image/png;base64,{png}" alt="chart"></body></html>'
    )
    (folder / "weekly_digest.html").write_text(page, encoding="utf-8")
    (folder / "weekly_digest.txt").write_text("TIP OF THE WEEK: Tip <b>\n", encoding="utf-8")
    outcome = Outcome(Job("weekly_digest", "2026-W43"), "ok", 1.0, html=str(folder / "weekly_digest.html"))
    with Mailbox() as box:
        publish(workbench, {"email": {"host": "127.0.0.1", "port": box.port, "security": "none",
                                      "sender": "sre@example.com", "to": ["dev-teams@example.com"]}})  # fmt: skip
        config = load_config(workbench)
        assert config.email is not None and config.email.reports == ["newsletter", "weekly_digest"]
        assert announce(workbench, [outcome], config) == ["sent the 2026-W43 weekly_digest to 1 recipient(s)"]
        assert announce(workbench, [outcome], config) == []  # once per week
    assert len(box.messages) == 1
    sent = message_from_bytes(box.messages[0][1], policy=policy.default)
    assert sent["Subject"] == "SRE weekly digest · week 43 of 2026" == mail.subject(page)
    assert sent.get_body(("plain",)).get_content().strip() == "TIP OF THE WEEK: Tip <b>"
    html_part = sent.get_body(("html",)).get_content()
    image = next(p for p in sent.walk() if p.get_content_type() == "image/png")
    assert image.get_content() == base64.b64decode(png) and "data:image" not in html_part
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html_part and "Tip &lt;b&gt;" in html_part


def test_the_newsletter_carries_the_newest_qbr_pdf_once(tmp_path: Path):
    """``email.attach``: the newsletter takes the organisation's newest published QBR PDF of a
    quarter ended by the newsletter's month, once; a team's QBR or a later quarter's is not taken."""
    from srelib.run.batch import Job, Outcome
    from srelib.run.notify import announce, load_config

    workbench = make_workbench(tmp_path / "workbench", {"api": "platform"})
    outputs = workbench.outputs_path

    def published(folder: Path, report: str, period: str, files: dict[str, str], team: str | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8")
        entry = {
            "status": "ok",
            "html": f"{report}.html",
            **({"pdf": f"{report}.pdf"} if f"{report}.pdf" in files else {}),
        }
        manifest = {"period": period, "team": team, "reports": {report: entry}}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    qbr = "quarterly_business_impact"
    for quarter, text in (("2026-Q2", "%PDF-1.7 Q2"), ("2026-Q3", "%PDF-1.7 Q3"), ("2026-Q4", "%PDF-1.7 Q4")):
        published(outputs / quarter, qbr, quarter, {f"{qbr}.html": "page", f"{qbr}.pdf": text})
    published(outputs / "2026-Q3" / "teams" / "platform", qbr, "2026-Q3", {f"{qbr}.pdf": "%PDF team"}, "platform")
    page = "<!DOCTYPE html><html><head><title>SRE newsletter · October 2026</title></head><body>hi</body></html>"
    for month in ("2026-10", "2026-11"):
        published(outputs / month, "newsletter", month, {"newsletter.html": page, "newsletter.txt": "hi\n"})
    outcomes = [
        Outcome(Job("newsletter", m), "ok", 1.0, html=str(outputs / m / "newsletter.html"))
        for m in ("2026-10", "2026-11")
    ]
    with Mailbox() as box:
        publish(workbench, _email_config(box.port, attach={"newsletter": [qbr]}))
        config = load_config(workbench)
        assert announce(workbench, outcomes, config) == [
            "sent the 2026-10 newsletter to 2 recipient(s)",
            "sent the 2026-11 newsletter to 2 recipient(s)",
        ]
    first, second = (message_from_bytes(raw, policy=policy.default) for _, raw in box.messages)
    attached = [p for p in first.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert [(p.get_filename(), p.get_content()) for p in attached] == [(f"{qbr}.pdf", b"%PDF-1.7 Q3")]
    assert first.get_body(("plain",)).get_content().strip() == "hi"
    assert not list(second.iter_attachments())  # Q3 went out with October; Q4 has not ended by November's end
    deliveries = [json.loads(line) for line in (outputs / "deliveries.jsonl").read_text().splitlines()]
    assert [d.get("attached") for d in deliveries] == [[f"{qbr} 2026-Q3"], None]
    publish(workbench, _email_config(1, attach={"weekly_digest": ["newsletter"]}))
    with pytest.raises(ConfigError, match="only a report's PDF can be attached"):
        load_config(workbench)
    publish(workbench, _email_config(1, attach={"engagement": [qbr]}))
    with pytest.raises(ConfigError, match="'engagement' is not an e-mail report"):
        load_config(workbench)
