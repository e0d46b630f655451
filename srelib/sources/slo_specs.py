"""SLO specs kept anywhere: OpenSLO (``openslo/v1``, ``v1alpha``) and Sloth (``prometheus/v1``) files or folders.

A data directory's ``slos.yaml`` and ``slos/`` are always read; these sources add specs kept
elsewhere (a Sloth repository checkout, an OpenSLO folder shared with other tools). The files
are parsed by :mod:`srelib.slo_spec` together with the data directory's, so every problem is
reported the same way. ``kind: openslo`` accepts only OpenSLO documents and ``kind: sloth`` only
Sloth's (``prometheus/v1``, and the ``openslo/v1alpha`` Sloth also reads), so a file in the wrong
folder is reported instead of silently read.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import yaml

from srelib.errors import Problem
from srelib.slo_spec import spec_files
from srelib.sources import register
from srelib.sources.base import Adapter, Extract


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
        """Documents of the other format (unreadable files are reported by the spec loader)."""
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError, ValueError):
            return []
        problems = []
        for number, body in enumerate(documents, start=1):
            version = (body.get("apiVersion") or body.get("version")) if isinstance(body, dict) else None
            if version is not None and version not in self.versions:
                expected = " or ".join(self.versions)
                problems.append(
                    Problem(shown, number, "apiVersion", f"a {self.kind} source expects {expected}, got {version!r}")
                )
        return problems


@register
class OpenSlo(SloSpecs):
    kind = "openslo"
    versions = ("openslo/v1", "openslo/v1alpha")


@register
class Sloth(SloSpecs):
    kind = "sloth"
    versions = ("prometheus/v1", "openslo/v1alpha")  # what Sloth itself reads
