"""One YAML spec document as written, and the pieces every spec format's reader shares.

A :class:`Document` gives field access by path (``spec.objectives[0].target``) and records each
problem with the document's number and the field's path; a :class:`Format` says how the
documents of one spec version are read (the registry is :data:`srelib.ingest.specs.loader.FORMATS`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from srelib.errors import Problem
from srelib.ingest.specs.model import SloSpec


def document_version(body: dict[str, Any]) -> Any:
    """A document's spec version: ``apiVersion`` (OpenSLO, Sloth's Kubernetes form) or ``version`` (Sloth)."""
    return body.get("apiVersion") or body.get("version")


class Document:
    """Field access on one YAML document that records problems with their path."""

    def __init__(self, file: str, number: int, body: dict[str, Any], problems: list[Problem]):
        self.file, self.number, self.body, self.problems = file, number, body, problems

    @property
    def version(self) -> Any:
        return document_version(self.body)

    @property
    def source(self) -> str:
        return f"{self.file}#{self.number}"

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.number, path, message))

    def get(self, path: str, *, required: bool = False, kind: type | tuple[type, ...] = object) -> Any:
        node: Any = self.body
        for part in path.split("."):
            m = re.fullmatch(r"(\w+)\[(\d+)\]", part)
            key, index = (m[1], int(m[2])) if m else (part, None)
            node = node.get(key) if isinstance(node, dict) else None
            if index is not None:
                node = node[index] if isinstance(node, list) and len(node) > index else None
            if node is None:
                if required:
                    self.problem(path, "required field is missing")
                return None
        if not accepts(node, kind):
            self.problem(path, f"expected {_kind_name(kind)}, got {type(node).__name__}")
            return None
        return node

    def text(self, path: str) -> str | None:
        """The scalar at ``path`` as text (a number as written, true/false in lower case), None when
        absent. A mapping or a list there is a problem: a display name or a description is shown to
        readers, so it is text, never a structure (which an alias could make any size)."""
        value = self.get(path)
        if isinstance(value, (dict, list)):
            self.problem(path, f"expected text, got {'a mapping' if isinstance(value, dict) else 'a list'}")
            return None
        return None if value is None else _text(value)

    def unknown_fields(self, path: str, known: frozenset[str]) -> None:
        """Report each field of the mapping at ``path`` that ``known`` does not hold (see the module docstring)."""
        for key in mapping(self.get(path)):
            if key not in known:
                near = difflib.get_close_matches(str(key), known, n=1)
                hint = (
                    f": did you mean {near[0]!r}?" if near else f": {self.version} defines {', '.join(sorted(known))}"
                )
                self.problem(f"{path}.{key}", f"unknown field in an {self.version} SLO{hint}")


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (the field's own check reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def accepts(value: Any, kind: type | tuple[type, ...]) -> bool:
    """``isinstance``, except that true and false are not numbers (YAML's ``yes`` is no target)."""
    kinds = _kinds(kind)
    if isinstance(value, bool) and bool not in kinds and (int in kinds or float in kinds):
        return False
    return isinstance(value, kinds)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "true or false"}
    return " or ".join(names.get(k, "a number" if k in (int, float) else k.__name__) for k in _kinds(kind))


Indicators = dict[tuple[str, str], dict[str, Any]]  # (apiVersion, SLI name) → the SLI's spec
Reader = Callable[[Document, Indicators], list[SloSpec]]


@dataclass(frozen=True)
class Format:
    """How the documents of one spec version are read."""

    read: Reader
    slo_kind: str | None  # the kind that defines SLOs; None: every document does (Sloth's prometheus/v1)
    other_kinds: tuple[str, ...] = ()  # recognised kinds that define no SLO: skipped
    sli_kind: str | None = None  # the kind whose documents SLOs refer to by name


def read_labels(doc: Document, path: str) -> dict[str, list[str]]:
    """Each label's values as text; a list of strings is several values (OpenSLO v1: ``string[]``)."""
    labels: dict[str, list[str]] = {}
    for key, value in mapping(doc.get(path, kind=dict)).items():
        values = value if isinstance(value, list) else [] if value is None else [value]
        if not all(isinstance(v, (str, int, float)) for v in values):
            doc.problem(f"{path}.{key}", "expected text or a list of text")
            continue
        labels[str(key)] = [_text(v) for v in values]
    return labels


def _text(value: Any) -> str:
    """A scalar as a reader sees it: YAML's ``true`` as "true", not Python's "True"."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def team_label(labels: dict[str, list[str]], *keys: str) -> str | None:
    """The first value of the first of ``keys`` that has one (see the module docstring)."""
    return next((labels[k][0] for k in keys if labels.get(k)), None)


def shown_labels(labels: dict[str, list[str]]) -> dict[str, str]:
    return {key: ", ".join(values) for key, values in labels.items()}
