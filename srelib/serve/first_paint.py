"""A dashboard's first paint: its first view as plain HTML, shown before the widgets are live.

A page voila serves shows nothing until its JavaScript (about 2.5 MB), the widget manager and
the kernel's websocket are up and the widgets have drawn themselves: 1.5–2.5 s on 2 cores,
however fast the figures were computed. The preheated kernel has computed them before the
visitor came, so ``srelib dashboard`` sends them in the page itself: the dashboard's kernel
displays its widget tree drawn as static HTML (:func:`static_html`), under a MIME type of its
own (:data:`MIME`) that the workbench's voila template (``templates/voila/templates/srelib``)
writes into the page as it is, above the cells, where the browser shows it as soon as it has
read it. The filters show the chosen values, disabled; a chart waits for the widgets. When the
widgets have drawn (their last child, the :data:`DRAWN` marker, is on the page), the template's
script removes the first paint, in the same frame, so the page holds one copy of each figure.
A page whose widgets have not drawn after ``LIVE_WITHIN`` seconds (a proxy that does not pass
websockets, a kernel gone) says so on the first paint, which would otherwise look complete.

The first paint is the same HTML as the widgets' (the same report functions, run once), so its
figures cannot differ from the live ones. Only ``srelib dashboard`` asks for it
(:data:`ENVIRONMENT`); a notebook run in JupyterLab or its voila preview shows the widgets only.
"""

from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ipywidgets as widgets

MIME = "application/vnd.srelib.first-paint+html"
ENVIRONMENT = "SRELIB_FIRST_PAINT"  # set by ``srelib dashboard`` for its kernels
DRAWN = "srelib-drawn"  # the class of the marker the widget page ends with
CHART_PENDING = "The chart is drawn in a moment…"


def wanted() -> bool:
    """Whether this kernel serves a page whose template shows a first paint."""
    return os.environ.get(ENVIRONMENT) == "1"


def marker() -> widgets.HTML:
    """The widget a dashboard's page ends with: on the page, the widgets have drawn."""
    import ipywidgets as widgets

    return widgets.HTML(f"<span class='{DRAWN}' hidden></span>")


def _classes(widget: widgets.DOMWidget, *own: str) -> str:
    return html.escape(" ".join([*own, *widget._dom_classes]), quote=True)


def _layout(widget: widgets.DOMWidget) -> str:
    """The layout attributes a dashboard sets, as CSS."""
    layout = widget.layout
    style = {"flex-flow": layout.flex_flow, "min-height": layout.min_height}
    shown = "; ".join(f"{name}: {value}" for name, value in style.items() if value)
    return f' style="{html.escape(shown, quote=True)}"' if shown else ""


def static_html(widget: widgets.Widget) -> str:
    """``widget`` (a dashboard's boxes, HTML views, dropdowns, buttons and chart outputs) as
    static HTML; any other widget is left out until the widgets are live. An HTML widget's value
    (the report functions' escaped HTML) is written as it is; every other text is escaped."""
    import ipywidgets as widgets  # not for ``srelib dashboard``'s own process, which only sets ENVIRONMENT

    if isinstance(widget, widgets.Box):
        kind = "srelib-fp-hbox" if isinstance(widget, widgets.HBox) else "srelib-fp-vbox"
        children = "".join(static_html(child) for child in widget.children)
        return f'<div class="{_classes(widget, kind)}"{_layout(widget)}>{children}</div>'
    if isinstance(widget, widgets.HTML):
        return f'<div class="{_classes(widget, "srelib-fp-html")}"{_layout(widget)}>{widget.value}</div>'
    if isinstance(widget, widgets.Dropdown):
        chosen = "" if widget.label is None else widget.label
        return (
            f'<label class="{_classes(widget, "srelib-fp-dropdown")}">{html.escape(widget.description)} '
            f"<select disabled><option selected>{html.escape(chosen)}</option></select></label>"
        )
    if isinstance(widget, widgets.Button):
        label = html.escape(widget.description)
        return f'<button class="{_classes(widget, "srelib-fp-button")}" disabled>{label}</button>'
    if isinstance(widget, widgets.Output):
        return f'<div class="srelib-fp-pending">{html.escape(CHART_PENDING)}</div>'
    return ""  # a widget a workbench's own dashboard adds, drawn once the widgets are live


def bundle(style: str, *shown: widgets.Widget) -> dict[str, Any]:
    """The display data of a first paint of the ``shown`` widgets, with the report ``style`` sheet."""
    body = "".join(static_html(widget) for widget in shown)
    return {MIME: f"<style>{style}</style>{body}", "text/plain": ""}
