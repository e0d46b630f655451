"""Announcing runs: Slack/Teams webhooks and the newsletter by SMTP, against real local servers.

The webhook server is Python's http.server on 127.0.0.1, answering a bounded number of
requests; the SMTP server is aiosmtpd's, on 127.0.0.1. Secrets come from the environment and
must appear nowhere: not in outputs, not in the run log, not in what the command prints.
"""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import yaml

from srelib.config import Workbench
from srelib.period import Period
from tests.runs import probe, srelib

SECRET_PATH = "/services/T000/B000/s3cr3t-t0ken-xyz"


class Hook:
    """A webhook receiver: records each JSON body, answers with ``status`` (at most ``limit`` requests)."""

    def __init__(self, status: int = 200, limit: int = 20):
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.status = status
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.paths.append(self.path)
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok" if hook.status == 200 else b"invalid_blocks")

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 1
        self.url = f"http://127.0.0.1:{self.server.server_port}{SECRET_PATH}"
        self.thread = threading.Thread(target=self._serve, args=(limit,), daemon=True)
        self._stop = threading.Event()

    def _serve(self, limit: int) -> None:
        handled = 0
        while not self._stop.is_set() and handled < limit:
            before = len(self.bodies)
            self.server.handle_request()  # returns after one request or the 1 s timeout
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
def test_teams_gets_an_adaptive_card(bench: Workbench, demo_end: Period):
    probe(bench, "quick", "x = 1")
    publish(bench, {"webhook": {"kind": "teams", "url_env": "TEAMS_HOOK"}})
    with Hook() as hook:
        result = srelib(
            bench.root, "run", "quick", "--period", demo_end.label, "--notify", env={"TEAMS_HOOK": hook.url}
        )
    assert result.returncode == 0, result.stderr
    card = hook.bodies[0]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard" and card["content"]["body"][0]["type"] == "TextBlock"
    assert "1 report(s) published, 0 not published" in json.dumps(card)


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
    with Hook(status=400) as hook:
        rejected = srelib(
            bench.root, "run", "quick", "--period", demo_end.label, "--notify", env={"SRELIB_WEBHOOK_URL": hook.url}
        )
    assert rejected.returncode == 1 and "answered HTTP 400: invalid_blocks" in rejected.stderr
    assert len(hook.bodies) == 1  # a rejected message is not sent again
    with Hook(status=503) as hook:
        busy = srelib(
            bench.root, "run", "quick", "--period", demo_end.label, "--notify", env={"SRELIB_WEBHOOK_URL": hook.url}
        )
    assert busy.returncode == 1 and "answered HTTP 503" in busy.stderr and len(hook.bodies) == 3  # retried
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
        publish(bench, _email_config(box.port, username_env="SMTP_USER", password_env="SMTP_PASSWORD"))
        env = {"SMTP_USER": "sre-bot", "SMTP_PASSWORD": password}
        result = srelib(bench.root, "run", "newsletter", "--period", demo_end.label, "--notify", env=env)
        assert result.returncode == 0, result.stderr
        assert f"sent the {demo_end.label} newsletter to 2 recipient(s)" in result.stderr
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
