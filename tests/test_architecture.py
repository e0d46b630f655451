"""The layer rule of docs/architecture.md, checked on every import in srelib (top-level and lazy).

``ingest`` → ``metrics`` → ``summary`` → ``present`` → ``run`` → ``serve`` and ``demo`` → ``cli``:
a module imports only from its own layer or the layers before it; ``config``, ``period``,
``errors``, ``files`` and ``resources`` are below them all and import nothing above.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRELIB = Path(__file__).resolve().parent.parent / "srelib"

LAYERS = {  # layer: rank; a module may import from layers of a lower rank, and from its own
    "base": 0,
    "ingest": 1,
    "metrics": 2,
    "summary": 3,
    "present": 4,
    "run": 5,
    "serve": 6,
    "demo": 6,
    "cli": 7,
}
BASE = {
    "srelib",
    "srelib.config",
    "srelib.period",
    "srelib.errors",
    "srelib.files",
    "srelib.redact",
    "srelib.resources",
}


def layer_of(module: str) -> str:
    if module in BASE:
        return "base"
    if module in ("srelib.cli", "srelib.__main__"):
        return "cli"
    if module == "srelib.summary":
        return "summary"
    part = module.split(".")[1]
    if part not in LAYERS:
        raise AssertionError(f"{module} is in no layer: put it in one of {', '.join(LAYERS)} (docs/architecture.md)")
    return part


def module_name(path: Path, root: Path = SRELIB) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = SRELIB) -> list[tuple[int, str]]:
    """Every srelib module ``path`` imports, with its line; ``from srelib import x`` counts as srelib.x
    when x is a module, else as the srelib package."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "srelib"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "srelib":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                file = root.parent / sub.replace(".", "/")
                is_module = file.with_suffix(".py").exists() or (file / "__init__.py").exists()
                found.add((node.lineno, sub if is_module else target))
    return sorted(found)


def violations(path: Path, root: Path = SRELIB) -> list[str]:
    me = module_name(path, root)
    mine = layer_of(me)
    wrong = []
    for line, target in imports(path, root):
        theirs = layer_of(target)
        if theirs != mine and LAYERS[theirs] >= LAYERS[mine]:
            wrong.append(f"{path.relative_to(root.parent)}:{line}: {me} ({mine}) imports {target} ({theirs})")
    return wrong


MODULES = sorted(SRELIB.rglob("*.py"))


def test_every_module_is_in_a_layer():
    for path in MODULES:
        layer_of(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_a_module_imports_only_from_its_layer_and_those_before_it(path):
    wrong = violations(path)
    assert not wrong, "layer rule broken (docs/architecture.md):\n" + "\n".join(wrong)


def test_the_rule_catches_an_upward_import_even_a_lazy_one(tmp_path):
    """The check itself can fail: a metric that imports the narrative, inside a function, is reported."""
    root = tmp_path / "srelib"
    (root / "present").mkdir(parents=True)
    (root / "metrics").mkdir()
    for package in (root, root / "present", root / "metrics"):
        (package / "__init__.py").write_text("")
    (root / "present" / "narrative.py").write_text("")
    rogue = root / "metrics" / "rogue.py"
    rogue.write_text("from srelib import period\n\n\ndef f():\n    from srelib.present import narrative\n")
    assert violations(rogue, root) == [
        "srelib/metrics/rogue.py:5: srelib.metrics.rogue (metrics) imports srelib.present.narrative (present)"
    ]


def test_a_srelib_process_imports_jsonschema_without_compiling_the_iri_grammars():
    """rfc3987_syntax compiles its grammars at import (about a second of every process that imports
    altair, nbformat or jupyter_events); srelib defers it to the first IRI check, which still works."""
    code = (
        "import sys, srelib, jsonschema, altair, nbformat\n"
        "assert 'rfc3987_syntax.syntax_helpers' not in sys.modules\n"
        "check = jsonschema.Draft202012Validator.FORMAT_CHECKER\n"
        "assert check.conforms('https://example.com/ä', 'iri') and not check.conforms('https://exa mple.com', 'iri')\n"
        "assert 'rfc3987_syntax.syntax_helpers' in sys.modules\n"
        "import rfc3987_syntax\n"
        "assert rfc3987_syntax.RFC3987_SYNTAX_TERMS[0] == 'iri'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
