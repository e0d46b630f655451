"""Announcing a batch of runs: a message to Slack or Teams, the e-mail reports by e-mail.

Configured in ``params/publish.yaml``; the file names the *environment variables* that hold
the secrets (the webhook URL, the SMTP login), never the secrets themselves, so they appear in
no notebook, output or log. Messages about a delivery never quote a secret either.

- **Webhook.** Slack incoming webhooks get Block Kit JSON; Teams (Workflows or connector)
  webhooks get an Adaptive Card. The message gives the batch's tally, the headline figures of
  the newest period published, and a link to each report (when ``portal_url`` is set).
- **E-mail.** Each newly published e-mail report (the monthly newsletter, the weekly digest: the
  catalogue's ``email`` reports, or those ``email.reports`` names) goes out by SMTP as a
  multipart message made from its published parts (text and HTML, charts as inline images). It
  is sent once per period: re-rendering it later (new data) does not send it again.
  ``outputs/deliveries.jsonl`` records each delivery.

A delivery that fails (server down, refused, bad answer) is reported with a clear message; the
reports stay published, and the command exits 1. What a server answers, and what httpx or
smtplib raise, is quoted only through :func:`srelib.redact.redact`: a 404 page that echoes the
webhook's path, or an SMTP error that echoes the login, never puts the secret into a message.
Credentials never cross the network in clear unless ``params/publish.yaml`` says so
(``email.allow_insecure``); a plain ``http://`` webhook is announced with a warning.

Data (SLO, team and report names, error messages) is never markup in a message: Slack's mrkdwn
escapes ``&<>``, Teams' Markdown escapes every character that could start emphasis, code, a
link or a list, and line breaks in data become spaces.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from srelib.config import Workbench, _model
from srelib.errors import ConfigError, DeliveryError, SrelibError, printable
from srelib.files import locked
from srelib.period import Period
from srelib.redact import redact
from srelib.run.batch import OK, Outcome
from srelib.run.catalogue import REPORTS
from srelib.run.history import records
from srelib.run.refresh import AlertChange, explorer_link


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
    reports: list[str] = Field(
        default_factory=lambda: [name for name, spec in REPORTS.items() if spec.email],
        description="the e-mail reports to send (default: all of them, the newsletter and the weekly digest)",
    )
    attach: dict[str, list[str]] = Field(
        default_factory=dict,
        description="an e-mail report → the reports whose PDF goes with it, each published PDF once "
        "(e.g. newsletter: [quarterly_business_impact]; publish them with formats: [html, pdf])",
    )
    timeout_seconds: float = Field(default=30, gt=0, le=300)
    allow_insecure: bool = Field(
        default=False, description="send the login over a connection without TLS (security: none)"
    )

    @field_validator("attach")
    @classmethod
    def _attachable(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for mail, reports in value.items():
            if mail not in REPORTS or not REPORTS[mail].email:
                mails = ", ".join(name for name, spec in REPORTS.items() if spec.email)
                raise ValueError(f"{mail!r} is not an e-mail report: they are {mails}")
            unknown = [name for name in reports if name not in REPORTS or REPORTS[name].email]
            if unknown:
                raise ValueError(f"{', '.join(map(repr, unknown))}: only a report's PDF can be attached")
        return value


class PublishConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    portal_url: str | None = Field(default=None, description="where outputs/ is served, for links in messages")
    explorer_url: str | None = Field(
        default=None, description="where `srelib dashboard slo_explorer` is served, for links in SLO alerts"
    )
    webhook: Webhook | None = None
    email: Email | None = None
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @field_validator("portal_url", "explorer_url")
    @classmethod
    def _link_base(cls, value: str | None) -> str | None:
        # It becomes the start of every link in a message: nothing that could end a link early.
        if value is not None and not re.fullmatch(r"https?://[^\s<>|()\[\]{}\"'`\\]+", value):
            raise ValueError("expected an http(s) URL without spaces, quotes, brackets or |")
        return value

    @property
    def configured(self) -> bool:
        return self.webhook is not None or self.email is not None

    @property
    def warnings(self) -> list[str]:
        """Settings that are allowed but weaken security, each naming the file and the key."""
        return list(self._warnings)


def load_config(workbench: Workbench) -> PublishConfig:
    """``params/publish.yaml`` (none: nothing is announced), its secrets' variables checked.

    A login over SMTP without TLS is refused unless ``email.allow_insecure: true``; that, and a
    plain ``http://`` webhook URL, are accepted with a warning (:attr:`PublishConfig.warnings`).
    """
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
    if config.webhook and os.environ[config.webhook.url_env].lower().startswith("http://"):
        config._warnings.append(
            f"params/publish.yaml: webhook.url_env: ${config.webhook.url_env} is a plain http:// URL: "
            "the message and the secret in the URL cross the network unencrypted (use https://)"
        )
    email = config.email
    if email and email.security == "none" and (email.username_env or email.password_env):
        login = ", ".join(f"${v}" for v in (email.username_env, email.password_env) if v)
        if not email.allow_insecure:
            raise ConfigError(
                f"params/publish.yaml: email.security: none would send the SMTP login ({login}) unencrypted: "
                "use starttls or ssl, or set email.allow_insecure: true for a server on a trusted network"
            )
        config._warnings.append(
            f"params/publish.yaml: email.security: none: the SMTP login ({login}) is sent unencrypted "
            "(email.allow_insecure: true)"
        )
    return config


def explorer_url(workbench: Workbench) -> str | None:
    """Where the SLO explorer is served (``params/publish.yaml: explorer_url``), for the links
    from each SLO to its view in the other dashboards; None when not set or when the file is
    invalid (``srelib schedule`` and the runs that announce say why; a dashboard only goes
    without the links). No secret is needed for it, so none is checked."""
    try:
        return _model(PublishConfig, workbench.root / "params" / "publish.yaml").explorer_url
    except ConfigError:
        return None


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
        # This batch's e-mail reports, and any whose delivery failed last time.
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
    """What a webhook message says, whatever its format. Every text is plain text (data among
    it); each format escapes it for its own markup."""

    heading: str
    tally: str
    figures: list[tuple[str, str]]  # (label, value)
    lines: list[tuple[str, str | None, str | None]]  # (report, link, problem)
    more: int  # reports not listed
    footer: str
    portal_url: str | None = None  # where every report is listed


def _headlines(workbench: Workbench, outcomes: Sequence[Outcome]) -> tuple[str, list[tuple[str, str]]]:
    """The newest period's title and headline figures, from an organisation-wide summary.json."""
    from srelib.present import report
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
    """The report's address under ``portal_url``; its path percent-encoded, so that no name in it
    can end the link in either format (``)``, ``|``, ``>``, a space)."""
    if not config.portal_url or not outcome.html:
        return None
    relative = Path(outcome.html).resolve().relative_to(workbench.outputs_path.resolve()).as_posix()
    return config.portal_url.rstrip("/") + "/" + quote(relative, safe="/")


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
    announcement = Announcement(heading, _tally(outcomes), figures, lines, more, footer, config.portal_url)
    return _adaptive_card(announcement) if config.webhook.kind == "teams" else _block_kit(announcement)


def alert_message(workbench: Workbench, change: AlertChange, config: PublishConfig) -> dict[str, Any]:
    """The JSON body announcing that an SLO's alert started or stopped firing (srelib.run.refresh)."""
    assert config.webhook is not None
    heading = f"{workbench.org.name} · SLO alert {change.state}: {change.slo} ({change.severity})"
    if change.state == "firing":
        tally = (
            f"{change.severity.capitalize()} alert: burn rate {change.burn_rate_long:g} over {change.long_window} "
            f"and {change.burn_rate_short:g} over {change.short_window}, at or above {change.factor:g} "
            "(the SRE Workbook's multiwindow alert, scaled to the SLO's window)"
        )
    else:
        tally = (
            f"{change.severity.capitalize()} alert no longer firing: no row of the Workbook's table burns fast enough"
        )
    figures = [("Service", change.service or "?"), ("Data as of", change.at.replace("T", " ")[:16] + " UTC")]
    link = explorer_link(config.explorer_url, change.slo)
    lines: list[tuple[str, str | None, str | None]] = (
        [(f"Open {change.slo} in the SLO explorer", link, None)] if link else []
    )
    footer = f"srelib · {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    announcement = Announcement(heading, tally, figures, lines, 0, footer, None)
    return _adaptive_card(announcement) if config.webhook.kind == "teams" else _block_kit(announcement)


def post_alerts(
    workbench: Workbench, changes: Sequence[AlertChange], config: PublishConfig
) -> tuple[list[AlertChange], list[str]]:
    """Post each alert change to the configured webhook; returns the changes announced (all of
    them when no webhook is configured: there is nothing to deliver) and the deliveries that
    failed, in words."""
    if config.webhook is None:
        return list(changes), []
    sent, problems = [], []
    for change in changes:
        try:
            post_webhook(config.webhook, alert_message(workbench, change, config))
        except DeliveryError as exc:
            problems.append(f"{change.slo} ({change.severity} {change.state}): {exc}")
        else:
            sent.append(change)
    return sent, problems


def _one_line(text: str) -> str:
    """Data on one line: a line break in a name or an error must not start a list item or a block."""
    return " ".join(text.split())


def _slack(text: str) -> str:
    """Plain text in Slack mrkdwn: Slack escapes only these three characters (so that no
    ``<!channel>``, ``<@U…>`` or ``<url|link>`` can form)."""
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _block_kit(a: Announcement) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _one_line(a.heading)[:150], "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack(a.tally)}*"}},
    ]
    if a.figures:
        fields = [{"type": "mrkdwn", "text": f"*{_slack(k)}*\n{_slack(v)}"} for k, v in a.figures[:10]]
        blocks.append({"type": "section", "fields": fields})
    items = []
    for label, url, problem in a.lines:
        text = f"<{_slack(url)}|{_slack(label)}>" if url else _slack(label)
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
    footer = _slack(a.footer) + (f" · all reports: {_slack(a.portal_url)}" if a.portal_url else "")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    # The top-level text (notifications, previews) is mrkdwn too.
    return {"text": f"{_slack(a.heading)}: {_slack(a.tally)}", "blocks": blocks[:50]}


_MARKDOWN_INLINE = re.compile(r"([\\`*_~\[\]()<>|&])")
_MARKDOWN_BLOCK_MARKER = re.compile(r"^[-+#=]")  # a list item, a heading, a setext underline
_MARKDOWN_NUMBERED = re.compile(r"^(\d+)\.")  # an ordered list item ("1)" is escaped already)


def _markdown(text: str) -> str:
    """Plain text in the Markdown of an Adaptive Card (``TextBlock.text``, ``Fact.title`` and
    ``Fact.value``): a backslash before every character that could start emphasis, code, a link,
    an autolink, a mention or an entity (``\\[md\\]\\(javascript:…\\)`` stays text even for a
    renderer that ignores the escapes: ``](`` never forms), and before a list or heading marker
    at the start; line breaks become spaces."""
    escaped = _MARKDOWN_INLINE.sub(r"\\\1", _one_line(text))
    escaped = _MARKDOWN_BLOCK_MARKER.sub(lambda m: "\\" + m.group(), escaped)
    return _MARKDOWN_NUMBERED.sub(r"\1\\.", escaped)


def _adaptive_card(a: Announcement) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _markdown(a.heading), "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": _markdown(a.tally), "wrap": True},
    ]
    if a.figures:
        facts = [{"title": _markdown(k), "value": _markdown(v)} for k, v in a.figures]
        body.append({"type": "FactSet", "facts": facts})
    items = []
    for label, url, problem in a.lines:
        text = f"[{_markdown(label)}]({url})" if url else _markdown(label)
        items.append(f"- {text}{f' — **{_markdown(problem)}**' if problem else ''}")
    if a.more:
        items.append(f"- … and {a.more} more")
    body.append({"type": "TextBlock", "text": "\n".join(items), "wrap": True})
    footer = _markdown(a.footer) + (f" · [all reports]({a.portal_url})" if a.portal_url else "")
    body.append({"type": "TextBlock", "text": footer, "isSubtle": True, "size": "Small", "wrap": True})
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard"}
    card |= {"version": "1.4", "body": body}
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
    return {"type": "message", "attachments": [attachment]}


ANSWER_BYTES = 64 * 1024  # how much of a webhook's error answer is read, to quote its start


def post_webhook(webhook: Webhook, body: dict[str, Any], attempts: int = 3, backoff: float = 1.0) -> None:
    """POST ``body``; a refused connection, a timeout, 429 or 5xx is tried again (with back-off).

    The URL is the secret: no message quotes it, nor any part of it that the server or httpx
    echoes (:func:`srelib.redact.redact`)."""
    url = os.environ.get(webhook.url_env, "")
    what = f"the {webhook.kind.capitalize()} webhook (${webhook.url_env})"
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:  # its message may quote a piece of the URL: say only that it is wrong
        raise DeliveryError(f"{what} is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise DeliveryError(f"{what} is not an http(s) URL")
    problem = ""
    with httpx.Client(timeout=webhook.timeout_seconds, follow_redirects=False) as client:
        for attempt in range(1, attempts + 1):
            try:
                with client.stream("POST", url, json=body) as response:
                    status = response.status_code
                    answer = b"" if status < 300 else _start_of(response, ANSWER_BYTES)
            except httpx.TimeoutException:
                problem = f"{what} did not answer within {webhook.timeout_seconds:g} s"
            except httpx.HTTPError as exc:
                problem = f"cannot reach {what}: {_quoted(_reason(exc), url)}"
            else:
                if status < 300:
                    return
                detail = _quoted(answer.decode("utf-8", "replace"), url)
                problem = f"{what} answered HTTP {status}{f': {detail}' if detail else ''}"
                if status != 429 and status < 500:
                    break  # a request the server rejects will be rejected again
            if attempt < attempts:
                time.sleep(backoff * 2 ** (attempt - 1))
    raise DeliveryError(problem)


def _start_of(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of the answer: an error page is quoted, never held whole."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return data[:limit]


def _quoted(text: str, *secrets: str | None) -> str:
    """Words from a server or a library, fit to quote: secrets redacted (before anything is cut,
    so that no cut leaves half a secret), on one line, printable, at most 200 characters."""
    return printable(_one_line(redact(text, *secrets)))[:200]


def _reason(exc: Exception) -> str:
    """The innermost cause's words (httpx wraps the socket error that says what happened)."""
    cause: BaseException = exc
    while (inner := cause.__cause__ or cause.__context__) is not None:
        cause = inner
    text = str(cause) or type(cause).__name__
    return "connection refused" if "refused" in text.lower() else text


# ---------------------------------------------------------------- e-mail reports (newsletter, weekly digest) by e-mail


def send_newsletter(
    workbench: Workbench, email: Email, folder: Path, period: str, what: str = "newsletter", resend: bool = False
) -> list[str]:
    """E-mail the report ``what`` (the newsletter, the weekly digest: an e-mail report) published in
    ``folder``, as published (its HTML and text parts), unless it went out for ``period`` before;
    record the delivery (or its failure, retried after the next batch) in ``deliveries.jsonl``."""
    from srelib.present import mail as email_parts

    outputs = workbench.outputs_path
    if not resend and _deliveries(outputs).get((what, period), {}).get("status") == "sent":
        return []
    try:
        page = (folder / f"{what}.html").read_text(encoding="utf-8")
        text = (folder / f"{what}.txt").read_text(encoding="utf-8")
    except OSError as exc:
        raise DeliveryError(f"the {period} {what} was not sent: it is not published ({exc.strerror})") from None
    mail = email_parts.message(page, text, email.sender, email.to)
    attached = _attachments(workbench, email, what, period)
    for _, pdf in attached:
        mail.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    record: dict[str, Any] = {"what": what, "period": period, "to": len(email.to), "at": _now()}
    if attached:
        record["attached"] = [label for label, _ in attached]
    try:
        send_mail(email, mail)
    except DeliveryError as exc:
        _record(outputs, {**record, "status": "failed", "error": str(exc)})
        raise DeliveryError(f"the {period} {what} was not sent: {exc}") from None
    _record(outputs, {**record, "status": "sent"})
    return [f"sent the {period} {what} to {len(email.to)} recipient(s)"]


def _attachments(workbench: Workbench, email: Email, what: str, period: str) -> list[tuple[str, Path]]:
    """The PDFs that go with the e-mail report ``what`` for ``period`` (``email.attach``): of each
    report named, the newest published PDF of the organisation for a period that ended by the end
    of ``period``, unless an earlier e-mail that went out carried it; as ("REPORT PERIOD", path)."""
    from srelib.present.portal import manifests

    wanted = email.attach.get(what, [])
    if not wanted:
        return []
    tz = workbench.org.timezone
    end = Period.parse(period, tz).end_utc
    sent = {
        label
        for record in records(workbench.outputs_path / "deliveries.jsonl")
        if record.get("status") == "sent"
        for label in record.get("attached", [])
    }
    found = []
    for report in wanted:
        candidates = []
        for folder in manifests(workbench.outputs_path):
            entry = folder.get("reports", {}).get(report, {})
            if folder.get("team") or folder.get("subject") or entry.get("status") != "ok" or not entry.get("pdf"):
                continue
            name = REPORTS[report].files(("pdf",))["pdf"]  # the catalogue's file name, never the manifest's
            with contextlib.suppress(SrelibError):
                when = Period.parse(str(folder.get("period")), tz)
                pdf = workbench.outputs_path / folder["folder"] / name
                if when.end_utc <= end and pdf.is_file():
                    candidates.append((when.end_utc, f"{report} {when.label}", pdf))
        if candidates:
            _, label, pdf = max(candidates)
            if label not in sent:
                found.append((label, pdf))
    return found


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
    except smtplib.SMTPNotSupportedError as exc:
        if email.security == "starttls" and "STARTTLS" in str(exc):
            raise DeliveryError(
                f"{where} does not offer STARTTLS (security: starttls in params/publish.yaml)"
            ) from None
        raise DeliveryError(f"{where}: {_quoted(str(exc), *_login_secrets(user, password))}") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"{where}: {_quoted(str(exc), *_login_secrets(user, password))}") from None
    except (OSError, TimeoutError) as exc:
        text = "connection refused" if isinstance(exc, ConnectionRefusedError) else (str(exc) or type(exc).__name__)
        raise DeliveryError(f"cannot reach {where}: {_quoted(text, *_login_secrets(user, password))}") from None
    if refused:
        raise DeliveryError(f"{where} refused {', '.join(refused)}")


def _login_secrets(user: str, password: str) -> tuple[str, ...]:
    """The login as a server may echo it: as is, and as AUTH PLAIN and AUTH LOGIN send it (base64)."""
    if not (user or password):
        return ()
    encoded = [base64.b64encode(v.encode()).decode() for v in (f"\0{user}\0{password}", user, password) if v]
    return (password, user, *encoded)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
