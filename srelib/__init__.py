"""SRE Value Workbench: operational data in, trustworthy numbers, narratives and reports out."""

import importlib
import importlib.util
import sys
import types
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("srelib")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]


def _defer_iri_grammar() -> None:
    """Keep about a second out of the start of every srelib process: jsonschema (imported by
    altair, nbformat and jupyter_events) imports ``rfc3987_syntax`` for its ``iri`` format
    checker, which compiles some thirty Earley grammars at import (python-jsonschema/jsonschema
    issues 1428 and 1392). No schema a srelib process validates uses that format. jsonschema
    gets a stand-in module: the real one is imported the first time anything of it is used.
    Done once, before jsonschema is imported; nothing happens when either is already imported or
    rfc3987_syntax is not installed."""
    name = "rfc3987_syntax"
    if name in sys.modules or "jsonschema._format" in sys.modules or importlib.util.find_spec(name) is None:
        return

    def real() -> types.ModuleType:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return importlib.import_module(name)

    class StandIn(types.ModuleType):
        def __getattr__(self, attribute: str) -> Any:
            if attribute.startswith("__"):  # the import system asks for __path__, __spec__, ...
                raise AttributeError(attribute)
            return getattr(real(), attribute)

    def is_valid_syntax(term: str, value: str) -> bool:  # what jsonschema imports from it
        return bool(real().is_valid_syntax(term, value))

    stand_in = StandIn(name, "Imported on first use (srelib._defer_iri_grammar)")
    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    sys.modules[name] = stand_in


_defer_iri_grammar()
