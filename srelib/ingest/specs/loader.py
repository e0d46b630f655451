"""SLO spec files and documents → one :class:`~srelib.ingest.specs.model.SloCatalogue`.

Read: OpenSLO ``openslo/v1``, ``openslo/v1alpha`` and ``openslo.com/v2alpha``; Sloth's
``prometheus/v1`` and its Kubernetes form (``apiVersion: sloth.slok.dev/v1``,
``kind: PrometheusServiceLevel``). Three layers, as in Sloth: the YAML as written (dicts), the
validated model (:class:`SloSpec`), and the computations in :mod:`srelib.metrics.slo`. One
reader per spec version (:mod:`srelib.ingest.specs.openslo`, :mod:`srelib.ingest.specs.sloth`),
registered in :data:`FORMATS` by ``apiVersion``, as Sloth's ``internal/storage/io`` has one loader
per format: loading a file never asks which format it is.

Documents and their numbers. A file holds YAML documents separated by ``---``; a document that
is a list (``- apiVersion: ...`` items at top level, as oslo and sloctl accept) holds one
document per item. Documents are numbered from 1 in file order: each list item counts as one,
an empty document keeps its number. So a list of two items, then ``---`` and one mapping, holds
documents 1, 2 and 3. Every problem is a :class:`~srelib.errors.Problem` whose row is that
number and whose column is the field's path in the document (``spec.objectives[0].target``).

Kinds. Documents of kinds that define no SLO (Service, AlertPolicy, DataSource, ...) are
recognised and listed as skipped with the reason; SLI documents are used by the SLOs that name
them (``indicatorRef``, v2alpha ``sliRef``). An unknown ``apiVersion`` or kind is a problem.

Where the specs leave room, the workbench decides:

- Unknown fields. In an SLO's ``spec`` and in the objective it reads, a field its spec version
  does not define is a problem (naming the nearest known field): those fields decide the
  figures, and a misspelt one (``budgetingMetod``) would otherwise fall back silently to a
  default. Elsewhere (metadata, data source details, documents that define no SLO) unknown
  fields are ignored, as extra columns are in data files (docs/architecture.md): they change no figure.
  oslo rejects them everywhere; its ``validate__unknown-field.yaml`` is a Service, skipped here.
- Labels. OpenSLO v1 allows a label's value to be a list of strings (README, "metadata.labels:
  map[string]string|string[]"). ``labels`` keeps every value, joined with ", " for display;
  ``team`` is the first value of the ``team`` label (Sloth: ``team``, else ``owner``): the model
  has one team per SLO, and the team listed first owns it (the service catalogue in ``params/``
  wins over labels anyway). A label value that is not text or a list of text is a problem.
- Timeslices in openslo/v1alpha. v1alpha defines ``timeSliceTarget`` but no length of a slice
  (OpenSLO README at v1alpha; oslo's ``pkg/manifest/v1alpha``), and no length would be right for
  every data source. A v1alpha ``Timeslices`` or ``RatioTimeslices`` SLO must give
  ``timeSliceWindow`` in its objective, as openslo/v1 defines it; without it the SLO is refused
  by name, never computed with a guessed slice (a wrong, or ``no_data``, status).
- openslo.com/v2alpha maps onto :class:`SloSpec` as v1 does: ``sli``/``sliRef`` in place of
  ``indicator``/``indicatorRef``, each metric's query under its ``spec`` (OpenSLO
  ``enhancements/v2alpha.md`` and ``pkg/openslo/v2alpha``).
- Sloth: both forms carry the same spec (``service``, ``labels``, ``slos``; at the top level
  in ``prometheus/v1``, under ``spec`` in the Kubernetes form, whose field names are camelCase),
  so they give the same SLOs, named ``<service>-<slo name>`` as Sloth names them, with a 30-day
  window (Sloth's default period). An SLI by plugin (``sli.plugin``) loads with
  ``indicator_kind`` "plugin" and no queries: its status is computed from the ``sli`` rows
  supplied for it; the workbench cannot run the plugin to fetch them.

References: OpenSLO specification (github.com/OpenSLO/OpenSLO: README "SLO", "SLI" and
"Objectives" for v1; the README's v1alpha revision; ``enhancements/v2alpha.md``); oslo
(github.com/OpenSLO/oslo, ``pkg/manifest``); Sloth's specs (sloth.dev/specs/default,
``pkg/kubernetes/api/sloth/v1``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from srelib.config import load_yaml_documents, yaml_problem
from srelib.errors import Problem
from srelib.files import file_problem
from srelib.ingest.specs import openslo, sloth
from srelib.ingest.specs.document import Document, Format, Indicators, mapping
from srelib.ingest.specs.model import SloCatalogue, SloSpec

FORMATS: dict[str, Format] = {**openslo.FORMATS, **sloth.FORMATS}
"""Every spec version read, by ``apiVersion`` (Sloth's ``prometheus/v1``: ``version``)."""


def spec_files(path: Path) -> list[Path]:
    """The SLO spec files at ``path``: the file itself, or a directory's ``*.yaml``/``*.yml`` files in name order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))
    return [path] if path.is_file() else []


def data_dir_spec_files(directory: Path) -> list[Path]:
    """A data directory's SLO specs: ``slos.yaml`` (or ``slos.yml``) and the files in ``slos/``."""
    found = [p for p in (directory / "slos.yaml", directory / "slos.yml") if p.is_file()]
    return found + spec_files(directory / "slos") if (directory / "slos").is_dir() else found


def spec_documents(path: Path, shown: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    """The documents of one spec file, numbered as the module docstring says, and what is wrong with the file."""
    if reason := file_problem(path):  # an LFS pointer, binary, not UTF-8, empty
        return [], [Problem(shown, None, None, reason)]
    text = path.read_text(encoding="utf-8")
    documents: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    try:
        for number, body in _numbered(load_yaml_documents(text)):
            if isinstance(body, dict):
                documents.append((number, body))
            elif body is not None:
                problems.append(Problem(shown, number, None, "document is not a mapping"))
    except yaml.YAMLError as exc:  # an alias bomb too: see srelib.config.SafeYamlLoader
        problems.append(Problem(shown, None, None, yaml_problem(exc)))
    return documents, problems


def _numbered(documents: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """Each document with its number: a top-level list's items one number each."""
    number = 0
    for body in documents:
        for item in body if isinstance(body, list) else [body]:
            number += 1
            yield number, item


def load_slo_files(paths: list[Path], display_root: Path | None = None) -> SloCatalogue:
    """Read every SLO document in ``paths`` (YAML, several documents per file)."""
    catalogue = SloCatalogue()
    documents: list[Document] = []
    for path in paths:
        shown = str(path.relative_to(display_root)) if display_root and path.is_relative_to(display_root) else str(path)
        found, problems = spec_documents(path, shown)
        catalogue.problems += problems
        documents += [Document(shown, number, body, catalogue.problems) for number, body in found]
    indicators = _indicators(documents)
    for doc in documents:
        _read_document(doc, indicators, catalogue)
    catalogue.problems += _duplicates(catalogue.slos)
    return catalogue


def _format(doc: Document) -> Format | None:
    version = doc.version
    if version is None:
        doc.problem("apiVersion", f"missing: expected {_choices(FORMATS)}")
        return None
    if not isinstance(version, str) or version not in FORMATS:
        path = "apiVersion" if "apiVersion" in doc.body else "version"
        doc.problem(path, f"unsupported version {version!r}: expected {_choices(FORMATS)}")
        return None
    return FORMATS[version]


def _choices(names: Iterable[str]) -> str:
    *first, last = list(names)
    return f"{', '.join(first)} or {last}" if first else last


def _indicators(documents: list[Document]) -> Indicators:
    """The SLI documents, by version and name, for the SLOs that refer to them."""
    found: Indicators = {}
    for doc in documents:
        version = doc.version
        fmt = FORMATS.get(version) if isinstance(version, str) else None
        if fmt and fmt.sli_kind and doc.body.get("kind") == fmt.sli_kind:
            name = mapping(doc.body.get("metadata")).get("name")
            if isinstance(name, str):
                found[(version, name)] = mapping(doc.body.get("spec"))
    return found


def _read_document(doc: Document, indicators: Indicators, catalogue: SloCatalogue) -> None:
    fmt = _format(doc)
    if fmt is None:
        return
    kind = doc.body.get("kind")
    if fmt.slo_kind is None or kind == fmt.slo_kind:
        catalogue.slos += fmt.read(doc, indicators)
    elif fmt.sli_kind is not None and kind == fmt.sli_kind:
        doc.get("metadata.name", required=True, kind=str)  # used by the SLOs that name it
    elif isinstance(kind, str) and kind in fmt.other_kinds:
        name = mapping(doc.body.get("metadata")).get("name", "?")
        catalogue.skipped.append((doc.file, str(name), f"{kind} document: defines no SLO"))
    else:
        kinds = [k for k in (fmt.slo_kind, fmt.sli_kind, *fmt.other_kinds) if k]
        detail = "required field is missing" if kind is None else f"unsupported {doc.version} kind {kind!r}"
        doc.problem("kind", f"{detail}: expected {_choices(kinds)}")


def _duplicates(slos: list[SloSpec]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for slo in slos:
        if slo.name in seen:
            message = f"SLO {slo.name!r} is defined twice (also in {seen[slo.name]})"
            problems.append(Problem(slo.source, None, "metadata.name", message))
        seen.setdefault(slo.name, slo.source)
    return problems
