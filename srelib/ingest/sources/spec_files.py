"""SLO specs kept anywhere: OpenSLO and Sloth files or folders.

A data directory's ``slos.yaml`` and ``slos/`` are always read; these sources add specs kept
elsewhere (a Sloth repository checkout, an OpenSLO folder shared with other tools). The files
are parsed by :mod:`srelib.ingest.specs` together with the data directory's, so every problem is
reported the same way, with the same document numbers.

``kind: openslo`` reads OpenSLO (``openslo/v1``, ``openslo/v1alpha``, ``openslo.com/v2alpha``)
and ``kind: sloth`` reads Sloth (``prometheus/v1``, its Kubernetes form ``sloth.slok.dev/v1``,
and the ``openslo/v1alpha`` Sloth also reads). A document of the other format is reported here,
so a file in the wrong folder is not silently read; a document of a version neither reads, or a
file that cannot be read, is left to the spec loader, so each problem is reported once.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from srelib.errors import Problem
from srelib.ingest.sources import register
from srelib.ingest.sources.base import Adapter, Extract
from srelib.ingest.specs import FORMATS, document_version, spec_documents, spec_files


class SloSpecs(Adapter):
    table = "slos"
    versions: ClassVar[tuple[str, ...]]

    def read(self, path: Path, file: str) -> Extract:
        extract = Extract(self.table, path, file)
        if not path.exists():
            extract.problems.append(Problem(file, None, None, "no such file or folder"))
            return extract
        extract.spec_files = spec_files(path)
        if not extract.spec_files:
            extract.problems.append(Problem(file, None, None, "folder has no .yaml or .yml files"))
        for spec in extract.spec_files:
            extract.problems += self._foreign_documents(spec, file if spec == path else f"{file}/{spec.name}")
        return extract

    def _foreign_documents(self, path: Path, shown: str) -> list[Problem]:
        """Documents of a version the loader reads but this kind of source does not."""
        documents, _ = spec_documents(path, shown)  # what is wrong with the file: the loader says it
        problems = []
        for number, body in documents:
            version = document_version(body)
            if isinstance(version, str) and version in FORMATS and version not in self.versions:
                field = "apiVersion" if "apiVersion" in body else "version"
                message = f"kind: {self.kind} sources read {_one_of(self.versions)}, not {version!r}"
                problems.append(Problem(shown, number, field, message))
        return problems


def _one_of(names: tuple[str, ...]) -> str:
    return f"{', '.join(names[:-1])} or {names[-1]}"


@register
class OpenSlo(SloSpecs):
    kind = "openslo"
    versions = ("openslo/v1", "openslo/v1alpha", "openslo.com/v2alpha")


@register
class Sloth(SloSpecs):
    kind = "sloth"
    versions = ("prometheus/v1", "sloth.slok.dev/v1", "openslo/v1alpha")  # what Sloth itself reads
