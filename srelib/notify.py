"""Announcing a batch of runs: a message to Slack or Teams, the newsletter by e-mail.

Configured in ``params/publish.yaml``; the file names the *environment variables* that hold
the secrets (the webhook URL, the SMTP login), never the secrets themselves, so they appear in
no notebook, output or log. Messages about a delivery never quote a secret either.

- **Webhook.** Slack incoming webhooks get Block Kit JSON; Teams (Workflows or connector)
  webhooks get an Adaptive Card. The message gives the batch's tally, the headline figures of
  the newest period published, and a link to each report (when ``portal_url`` is set).
- **E-mail.** Each newly published newsletter goes out by SMTP as a multipart message (text and
  HTML, charts as inline images). A newsletter is sent once per period: re-rendering it later
  (new data) does not send it again. ``outputs/deliveries.jsonl`` records each delivery.

A delivery that fails (server down, refused, bad answer) is reported with a clear message; the
reports stay published, and the command exits 1.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from srelib.config import Workbench, _model
from srelib.errors import ConfigError, SrelibError
from srelib.files import locked
from srelib.history import records
from srelib.period import Period
from srelib.runner import OK, Outcome


class DeliveryError(SrelibError):
    """A message could not be delivered (the reports are published all the same)."""


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["slack", "teams"] = "slack"
    url_env: str = Field(default="SRELIB_WEBHOOK_URL", description="the environment variable holding the URL")
    timeout_seconds: float = Field(default=10, gt=0, le=120)


class Email(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: str | None = Field(default=None, description="the environment variable holding the login")
    password_env: str | None = Field(default=None, description="the environment variable holding the password")
    sender: str
    to: list[str] = Field(min_length=1)
    reports: list[str] = Field(default_factory=lambda: ["newsletter"])
    timeout_seconds: float = Field(default=30, gt=0, le=300)


class PublishConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    portal_url: str | None = Field(default=None, description="where outputs/ is served, for links in messages")
    webhook: Webhook | None = None
    email: Email | None = None

    @property
    def configured(self) -> bool:
        return self.webhook is not None or self.email is not None


def load_config(workbench: Workbench) -> PublishConfig:
    """``params/publish.yaml`` (none: nothing is announced), its secrets' variables checked."""
    config = _model(PublishConfig, workbench.root / "params" / "publish.yaml")
    needed = []
    if config.webhook:
        needed.append(("webhook.url_env", config.webhook.url_env))
    if config.email:
        needed += [(f"email.{k}", v) for k, v in (("username_env", config.email.username_env),) if v]
        needed += [(f"email.{k}", v) for k, v in (("password_env", config.email.password_env),) if v]
    for field_name, variable in needed:
        if not os.environ.get(variable):
            raise ConfigError(
                f"params/publish.yaml: {field_name}: the environment variable {variable} is not set "
                "(secrets come from the environment, never from params)"
            )
    return config


def announce(workbench: Workbench, outcomes: Sequence[Outcome], config: PublishConfig | None = None) -> list[str]:
    """Deliver what ``params/publish.yaml`` asks for about this batch; returns what was done.

    Every delivery is tried; if any failed, :class:`DeliveryError` lists them all afterwards.
    """
    config = config or load_config(workbench)
    done: list[str] = []
    problems: list[str] = []
    if config.webhook and outcomes:
        try:
            post_webhook(config.webhook, message(workbench, outcomes, config))
            done.append(f"announced {len(outcomes)} run(s) on {config.webhook.kind.capitalize()}")
        except DeliveryError as exc:
            problems.append(str(exc))
    if config.email:
        # This batch's newsletters, and any whose delivery failed last time.
        folders = {
            (o.job.report, o.job.period): Path(o.html).parent
            for o in outcomes
            if o.status == OK and o.job.report in config.email.reports and o.html and not o.job.team
        }
        outputs = workbench.outputs_path
        for (what, period), record in _deliveries(outputs).items():
            if record.get("status") == "failed" and what in config.email.reports:
                folders.setdefault((what, period), outputs / period)
        for (what, period), folder in sorted(folders.items()):
            try:
                done += send_newsletter(workbench, config.email, folder, period, what)
            except DeliveryError as exc:
                problems.append(str(exc))
    if problems:
        raise DeliveryError("; ".join(problems) + " (the reports are published)")
    return done


# ---------------------------------------------------------------- the webhook message


@dataclass(frozen=True)
class Announcement:
    """What a webhook message says, whatever its format."""

    heading: str
    tally: str
    figures: list[tuple[str, str]]  # (label, value)
    lines: list[tuple[str, str | None, str | None]]  # (report, link, problem)
    more: int  # reports not listed
    footer: str


def _headlines(workbench: Workbench, outcomes: Sequence[Outcome]) -> tuple[str, list[tuple[str, str]]]:
    """The newest period's title and headline figures, from an organisation-wide summary.json."""
    from srelib import report
    from srelib.summary import PeriodSummary

    published = [o for o in outcomes if o.status == OK and o.html and not o.job.team and not o.job.parameters]
    if not published:
        return "", []
    newest = max(published, key=lambda o: Period.parse(o.job.period).end)
    path = Path(newest.html or "").parent / "summary.json"
    try:
        summary = PeriodSummary.read(path)
    except (OSError, ValueError):
        return newest.job.period, []
    wanted = {"Incidents", "Median time to resolve", "SLOs met / at risk / breached / no data"}
    rows = [
        (r["label"], f"{r['now']} (before: {r['before']})") for r in report.kpi_rows(summary) if r["label"] in wanted
    ]
    return summary.title, rows


def _link(workbench: Workbench, config: PublishConfig, outcome: Outcome) -> str | None:
    if not config.portal_url or not outcome.html:
        return None
    relative = Path(outcome.html).resolve().relative_to(workbench.outputs_path.resolve()).as_posix()
    return config.portal_url.rstrip("/") + "/" + relative


def _tally(outcomes: Sequence[Outcome]) -> str:
    ok = sum(o.status == OK for o in outcomes)
    return f"{ok} report(s) published, {len(outcomes) - ok} not published"


def message(workbench: Workbench, outcomes: Sequence[Outcome], config: PublishConfig) -> dict[str, Any]:
    """The JSON body for the configured webhook kind."""
    assert config.webhook is not None
    title, figures = _headlines(workbench, outcomes)
    heading = f"{workbench.org.name} · SRE reports{f': {title}' if title else ''}"
    lines: list[tuple[str, str | None, str | None]] = []
    for o in outcomes[:40]:
        label = o.job.label
        if o.status == OK:
            lines.append((label, _link(workbench, config, o), None))
        else:
            lines.append((label, None, f"{o.status}: {o.message[:200]}"))
    more = len(outcomes) - len(lines)
    footer = f"srelib · {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    if config.portal_url:
        footer += f" · all reports: {config.portal_url}"
    announcement = Announcement(heading, _tally(outcomes), figures, lines, more, footer)
    return _adaptive_card(announcement) if config.webhook.kind == "teams" else _block_kit(announcement)


def _slack(text: str) -> str:
    """Slack mrkdwn escapes only these three characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _block_kit(a: Announcement) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": a.heading[:150], "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack(a.tally)}*"}},
    ]
    if a.figures:
        fields = [{"type": "mrkdwn", "text": f"*{_slack(k)}*\n{_slack(v)}"} for k, v in a.figures[:10]]
        blocks.append({"type": "section", "fields": fields})
    items = []
    for label, url, problem in a.lines:
        text = f"<{url}|{_slack(label)}>" if url else _slack(label)
        items.append(f"• {text}{f' — *{_slack(problem)}*' if problem else ''}")
    if a.more:
        items.append(f"… and {a.more} more")
    chunk: list[str] = []
    for item in items:  # a section's text holds at most 3000 characters
        if sum(len(i) + 1 for i in chunk) + len(item) > 2900:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
            chunk = []
        chunk.append(item)
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _slack(a.footer)}]})
    return {"text": f"{a.heading}: {a.tally}", "blocks": blocks[:50]}


def _adaptive_card(a: Announcement) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": a.heading, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": a.tally, "wrap": True},
    ]
    if a.figures:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in a.figures]})
    items = []
    for label, url, problem in a.lines:
        text = f"[{label}]({url})" if url else label
        items.append(f"- {text}{f' — **{problem}**' if problem else ''}")
    if a.more:
        items.append(f"- … and {a.more} more")
    body.append({"type": "TextBlock", "text": "\n".join(items), "wrap": True})
    body.append({"type": "TextBlock", "text": a.footer, "isSubtle": True, "size": "Small", "wrap": True})
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard"}
    card |= {"version": "1.4", "body": body}
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
    return {"type": "message", "attachments": [attachment]}


def post_webhook(webhook: Webhook, body: dict[str, Any], attempts: int = 3, backoff: float = 1.0) -> None:
    """POST ``body``; a refused connection, a timeout, 429 or 5xx is tried again (with back-off)."""
    url = os.environ.get(webhook.url_env, "")
    what = f"the {webhook.kind.capitalize()} webhook (${webhook.url_env})"
    if not url.startswith(("https://", "http://")):
        raise DeliveryError(f"{what} is not an http(s) URL")
    problem = ""
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.post(url, json=body, timeout=webhook.timeout_seconds, follow_redirects=False)
        except httpx.TimeoutException:
            problem = f"{what} did not answer within {webhook.timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            problem = f"cannot reach {what}: {_redact(_reason(exc), url)}"
        else:
            if response.status_code < 300:
                return
            detail = _redact(response.text.strip()[:200], url)
            problem = f"{what} answered HTTP {response.status_code}{f': {detail}' if detail else ''}"
            if response.status_code != 429 and response.status_code < 500:
                break  # a request the server rejects will be rejected again
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    raise DeliveryError(problem)


def _reason(exc: Exception) -> str:
    """The innermost cause's words (httpx wraps the socket error that says what happened)."""
    cause: BaseException = exc
    while (inner := cause.__cause__ or cause.__context__) is not None:
        cause = inner
    text = str(cause) or type(cause).__name__
    return "connection refused" if "refused" in text.lower() else text


def _redact(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# ---------------------------------------------------------------- the newsletter by e-mail


def send_newsletter(
    workbench: Workbench, email: Email, folder: Path, period: str, what: str = "newsletter", resend: bool = False
) -> list[str]:
    """E-mail the newsletter published in ``folder``, unless it went out for ``period`` before;
    record the delivery (or its failure, retried after the next batch) in ``deliveries.jsonl``."""
    from srelib import newsletter
    from srelib.summary import PeriodSummary

    outputs = workbench.outputs_path
    if not resend and _deliveries(outputs).get((what, period), {}).get("status") == "sent":
        return []
    letter = newsletter.build(PeriodSummary.read(folder / "summary.json"), workbench)
    mail = newsletter.mime_message(letter, email.sender, email.to)
    record: dict[str, Any] = {"what": what, "period": period, "to": len(email.to), "at": _now()}
    try:
        send_mail(email, mail)
    except DeliveryError as exc:
        _record(outputs, {**record, "status": "failed", "error": str(exc)})
        raise DeliveryError(f"the {period} {what} was not sent: {exc}") from None
    _record(outputs, {**record, "status": "sent"})
    return [f"sent the {period} {what} to {len(email.to)} recipient(s)"]


def _record(outputs: Path, record: dict[str, Any]) -> None:
    with locked(outputs / ".runs.lock"), (outputs / "deliveries.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


def _deliveries(outputs: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest delivery record of each (what, period)."""
    return {(str(r.get("what")), str(r.get("period"))): r for r in records(outputs / "deliveries.jsonl")}


def send_mail(email: Email, mail: Any) -> None:
    user = os.environ.get(email.username_env or "", "") if email.username_env else ""
    password = os.environ.get(email.password_env or "", "") if email.password_env else ""
    where = f"the SMTP server {email.host}:{email.port}"
    try:
        if email.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                email.host, email.port, timeout=email.timeout_seconds, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(email.host, email.port, timeout=email.timeout_seconds)
        with server:
            if email.security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if user:
                server.login(user, password)
            refused = server.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{where} refused the login of ${email.username_env} ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"{where} refused every recipient: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(f"{where} does not offer STARTTLS (security: starttls in params/publish.yaml)") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"{where}: {_redact(str(exc), password, user)}") from None
    except (OSError, TimeoutError) as exc:
        text = "connection refused" if isinstance(exc, ConnectionRefusedError) else (str(exc) or type(exc).__name__)
        raise DeliveryError(f"cannot reach {where}: {_redact(text, password)}") from None
    if refused:
        raise DeliveryError(f"{where} refused {', '.join(refused)}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
