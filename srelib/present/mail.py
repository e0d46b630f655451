"""What the e-mail reports (the newsletter, the weekly digest) share: templates, the two parts a
notebook displays, and the message that is sent.

E-mail clients ignore ``<style>`` blocks, scripts and most layout CSS, so an e-mail report's HTML
part is one 600-pixel table with inline styles only, no script and no external resource, its
charts PNG images embedded as ``data:`` URIs (the published page opens alone, offline). Its
notebook displays that part with the plain-text part beside it (:func:`display`); ``srelib run``
publishes them as ``NAME.html`` and ``NAME.txt``, and :func:`message` makes the multipart message
that is sent from them, each embedded image an inline (``cid:``) attachment. What goes out is
what was published.

Every data value is escaped by the HTML templates' autoescaping; the text part is not markup.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from typing import Any

import jinja2

from srelib.resources import templates_dir

WIDTH = 600  # pixels: the width every e-mail client shows without scrolling

# Only the images the templates embed: data in the page is escaped, so its quotes are entities.
_EMBEDDED = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


@dataclass(frozen=True)
class Image:
    cid: str
    png: bytes
    alt: str

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@cache
def environment(folder: str, markup: bool = True) -> jinja2.Environment:
    """The Jinja environment of ``templates/<folder>/``: autoescaped for the HTML part, not for
    the plain-text part (nothing in it is interpreted)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir() / folder),
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=True) if markup else False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_text(folder: str, template: str, **values: Any) -> str:
    """A plain-text part, with runs of blank lines folded to one."""
    text = environment(folder, markup=False).get_template(template).render(**values)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def subject(page: str) -> str:
    """The subject of a published HTML part: its ``<title>``."""
    found = _TITLE.search(page)
    return html.unescape(found[1]).strip() if found else ""


def message(page: str, text: str, sender: str, recipients: list[str]) -> EmailMessage:
    """A multipart/alternative message: the text part, and the HTML part (``page``, as published)
    with each embedded image as an inline attachment referred to by ``cid:``."""
    images: list[bytes] = []
    cids: list[str] = []

    def refer(found: re.Match[str]) -> str:
        images.append(base64.b64decode(found[1]))
        cids.append(make_msgid(domain="srelib")[1:-1])
        return f'src="cid:{cids[-1]}"'

    referring = _EMBEDDED.sub(refer, page)
    mail = EmailMessage()
    mail["Subject"] = subject(page)
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail.set_content(text)
    mail.add_alternative(referring, subtype="html")
    html_part = next(part for part in mail.iter_parts() if part.get_content_type() == "text/html")
    assert isinstance(html_part, EmailMessage)
    for png, cid in zip(images, cids, strict=True):
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    return mail


def display(report: str, page: str, text: str) -> None:
    """Show an e-mail report in its notebook: the HTML part, with the text part alongside. The
    output carries both MIME types, marked for ``srelib run`` to publish as NAME.html and NAME.txt."""
    from IPython.display import publish_display_data

    publish_display_data(
        {"text/html": page, "text/plain": text},
        metadata={"srelib": {"email": report, "subject": subject(page)}},
    )
