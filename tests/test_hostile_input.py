"""Hostile input (issue 15): YAML alias bombs, terminal control sequences in names, team names as paths.

Data and params are written by people the workbench does not control (an exported spec, a CSV
from a vendor): a few KB must not take minutes or gigabytes, a name must never reach the
terminal as a control sequence, and no name may become a path. docs/security.md says
which test holds which promise.
"""

from __future__ import annotations

import io
import os
import pty
import re
import resource
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from srelib.config import MAX_ALIASED_VALUES, Workbench, load_yaml, load_yaml_documents
from srelib.errors import ConfigError, InputError
from srelib.ingest.specs import load_slo_files
from tests.conftest import CONFORMANCE, INCIDENT_COLUMNS, make_workbench, run_cli, slo_document, write_csv, write_slos

OSC_TITLE = "\x1b]0;pwned\x07"  # sets the terminal window's title
CSI_CLEAR = "\x1b[2J"  # clears the screen
C1_CSI = "\x9b2J"  # the same, as one 8-bit control
BIDI = "\u202e"  # right-to-left override: the rest of the line reads backwards
SLO_NAME = f"api-availability{OSC_TITLE}{CSI_CLEAR}"
TEAM_NAME = f"ops{OSC_TITLE}{C1_CSI}{BIDI}"


def alias_bomb(levels: int, key: str = "bomb") -> str:
    """YAML lines of nested aliases, each level nine of the one before ("billion laughs"): the
    last anchor stands for 9 ** (levels + 1) values in a few hundred bytes."""
    lines = [f"{key}:", '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def bomb_spec(levels: int, in_target: bool) -> str:
    """An OpenSLO SLO carrying a bomb: in a field nobody reads (metadata.annotations), or as its
    target, whose problem message once quoted the value (53 s and 2.9 GB, then MemoryError)."""
    annotations = alias_bomb(levels, "annotations").replace("\n", "\n  ").rstrip() + "\n"
    target = f"*a{levels}" if in_target else "0.99"
    return (
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: api-availability\n  "
        + annotations
        + f"spec:\n  service: api\n  objectives:\n    - target: {target}\n"
    )


def no_control_sequence(text: str) -> bool:
    return not any(c in text for c in ("\x1b", "\x07", "\x9b", "\x9d", BIDI))


# ---- YAML alias bombs --------------------------------------------------------------------------


def test_an_alias_bomb_in_an_slo_spec_is_a_problem_naming_the_file_found_in_under_a_second(tmp_path):
    path = tmp_path / "slos.yaml"
    path.write_text(bomb_spec(levels=9, in_target=False), encoding="utf-8")
    started = time.perf_counter()
    catalogue = load_slo_files([path], display_root=tmp_path)
    assert time.perf_counter() - started < 1
    assert [(p.file, p.row) for p in catalogue.problems] == [("slos.yaml", None)]
    message = catalogue.problems[0].message
    assert message.startswith("invalid YAML at line ") and "aliases repeat more than 10,000 values" in message
    assert catalogue.slos == []


def _limited_memory() -> None:
    """A child that would blow up stops at 2 GB of address space instead of taking the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


def test_srelib_validate_refuses_an_alias_bomb_with_exit_2_naming_the_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "slos.yaml").write_text(bomb_spec(levels=9, in_target=True), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "srelib", "validate", str(data)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited_memory,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "slos.yaml" in result.stderr and "aliases repeat more than 10,000 values" in result.stderr
    assert "nothing was written" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("file", "text"),
    [
        ("org.yaml", "name: Test Org\n" + alias_bomb(5, "extra")),
        ("services.yaml", alias_bomb(5, "x-anchors") + "services:\n  api:\n    team: platform\n    notes: *a5\n"),
        ("value.yaml", alias_bomb(5, "currency")),
    ],
)
def test_an_alias_bomb_in_params_is_a_config_error_naming_the_file(tmp_path, file, text):
    make_workbench(tmp_path, {"api": "platform"})
    (tmp_path / "params" / file).write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=rf"params/{file}: invalid YAML at line \d+, column \d+: aliases repeat"):
        Workbench.load(tmp_path)
    assert time.perf_counter() - started < 1
    result = run_cli(tmp_path, "metrics", "--period", "2026-10")
    assert result.returncode == 2 and f"params/{file}: invalid YAML" in result.stderr


def test_an_alias_bomb_in_params_sources_or_schedule_is_refused_naming_the_file(tmp_path):
    from srelib.ingest.sources import load_config
    from srelib.run.schedule import load_schedule

    workbench = make_workbench(tmp_path, {"api": "platform"})
    sources = tmp_path / "params" / "sources.yaml"
    sources.write_text(alias_bomb(5, "x-anchors") + "sources: []\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_config(sources)
    assert "aliases repeat more than" in caught.value.report() and "sources.yaml" in caught.value.report()
    (tmp_path / "params" / "schedule.yaml").write_text(alias_bomb(5, "x-anchors") + "reports: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schedule.yaml: invalid YAML at line .*aliases repeat more than"):
        load_schedule(workbench)


def test_an_alias_inside_what_it_repeats_and_deep_nesting_are_refused_at_once():
    """Deep nesting once ran PyYAML out of stack after seconds (a RecursionError: exit 1 and a traceback)."""
    for text, reason in [
        ("&a [1, *a]", "alias *a is inside the &a it repeats"),
        ("&m {self: *m}", "alias *m is inside the &m it repeats"),
        ("[\n" * 5000 + "]" * 5000, "nested more than 100 levels deep"),
        ("- " * 5000 + "1", "nested more than 100 levels deep"),
        ("a: " + "{b: " * 200 + "1" + "}" * 200, "nested more than 100 levels deep"),
    ]:
        started = time.perf_counter()
        with pytest.raises(yaml.YAMLError, match=re.escape(reason)):
            load_yaml(text)
        assert time.perf_counter() - started < 1
    # 100,000 brackets on one line: libyaml refuses past its own limit of 1,000 levels before the
    # events reach the composer (PyYAML's own scanner, where PyYAML lacks libyaml, takes a second
    # or so and the composer refuses); refused either way.
    with pytest.raises(yaml.YAMLError, match=r"nested more than 100 levels deep|exceeded maximum nesting depth"):
        load_yaml("[" * 100_000)


def test_anchors_aliases_and_merge_keys_within_the_limit_still_load(tmp_path):
    """Spec authors share labels and defaults with anchors (within a document: a list of SLOs,
    as oslo and sloctl read); that stays legal."""
    path = tmp_path / "slos.yaml"
    path.write_text(
        """\
- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: checkout-availability, labels: &labels {team: payments, tier: "1"}}
  spec:
    service: checkout
    objectives: [&objective {target: 0.99}]
- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: checkout-latency, labels: {<<: *labels, tier: "2"}}
  spec:
    service: checkout
    objectives: [{<<: *objective, target: 0.95}]
""",
        encoding="utf-8",
    )
    catalogue = load_slo_files([path], display_root=tmp_path)
    assert [str(p) for p in catalogue.problems] == []
    assert [(s.name, s.team, s.labels["tier"], s.target) for s in catalogue.slos] == [
        ("checkout-availability", "payments", "1", 0.99),
        ("checkout-latency", "payments", "2", 0.95),
    ]
    many = "x: &x {team: payments}\n" + "".join(f"k{i}: *x\n" for i in range(MAX_ALIASED_VALUES // 3 - 10))
    assert len(load_yaml(many)) > 3000  # thousands of small aliases are fine


def test_every_conformance_file_reads_as_pyyaml_reads_it(conformance):
    """The public OpenSLO, oslo and Sloth examples use no anchors; the bounded loader reads them unchanged."""
    files = sorted(p for p in CONFORMANCE.rglob("*") if p.suffix in (".yaml", ".yml"))
    assert len(files) > 30
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert list(load_yaml_documents(text)) == list(yaml.safe_load_all(text)), path


# ---- terminal control sequences ----------------------------------------------------------------


def hostile_workbench(root: Path) -> Path:
    """A workbench whose data names an SLO and a team with control sequences; the SLO is breached,
    so the narrative names it."""
    make_workbench(root, {"api": "platform"})
    data = root / "data"
    incident = dict(
        incident_id="I1",
        title=f"API down{OSC_TITLE}",
        service="api",
        team=TEAM_NAME,
        severity="SEV1",
        started_at="2026-10-01T10:00:00Z",
        resolved_at="2026-10-01T11:00:00Z",
    )
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, [incident])
    bucket = dict(timestamp="2026-10-01T10:00:00Z", slo=SLO_NAME, good=50, total=100)
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], [bucket])
    write_slos(data, [slo_document(SLO_NAME, "api", 0.99)])
    return root


def test_srelib_metrics_never_prints_a_control_sequence_from_the_data(tmp_path):
    root = hostile_workbench(tmp_path)
    result = run_cli(root, "metrics", "--period", "2026-10", "--data", "data")
    assert result.returncode == 0, result.stderr
    assert "api-availability\\x1b]0;pwned\\x07\\x1b[2J" in result.stdout  # shown, as escapes
    assert no_control_sequence(result.stdout + result.stderr)
    assert "\n  Incidents" in result.stdout  # the table's layout is kept


def test_srelib_metrics_on_a_terminal_never_sends_a_control_sequence_from_the_data(tmp_path):
    """The same through a real pseudo-terminal, where rich and click write for a terminal."""
    root = hostile_workbench(tmp_path)
    controller, terminal = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "srelib", "metrics", "--period", "2026-10", "--data", "data"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    output, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert process.wait(timeout=30) == 0, output.decode(errors="replace")[-2000:]
    text = output.decode("utf-8")
    assert "api-availability\\x1b]0;pwned\\x07" in text
    assert no_control_sequence(text)


def test_srelib_metrics_names_only_configured_teams_and_prints_no_control_sequence(tmp_path):
    root = hostile_workbench(tmp_path)
    result = run_cli(root, "metrics", "--period", "2026-10", "--data", "data", "--team", "nobody")
    assert result.returncode == 2
    assert "unknown team 'nobody': known teams are platform" in result.stderr
    assert no_control_sequence(result.stdout + result.stderr)


def test_srelib_validate_and_its_problems_never_print_a_control_sequence(tmp_path):
    root = hostile_workbench(tmp_path)
    data = root / "data"
    service = {"apiVersion": "openslo/v1", "kind": "Service", "metadata": {"name": f"svc{OSC_TITLE}"}, "spec": {}}
    write_slos(data, [slo_document(SLO_NAME, "api", 0.99), service])
    valid = run_cli(root, "validate", "data")
    assert valid.returncode == 0, valid.stderr
    assert "skipped slos.yaml: svc\\x1b]0;pwned\\x07" in valid.stdout
    assert no_control_sequence(valid.stdout + valid.stderr)
    bad = dict(timestamp="2026-10-01T10:05:00Z", slo=f"other{OSC_TITLE}{BIDI}", good=1, total=1)
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], [bad])
    (data / f"notes{OSC_TITLE}.csv").write_text("x\n1\n", encoding="utf-8")
    invalid = run_cli(root, "validate", "data")
    assert invalid.returncode == 2
    assert "unknown SLO" in invalid.stderr and "\\x1b]0;pwned\\x07\\u202e" in invalid.stderr
    assert no_control_sequence(invalid.stdout + invalid.stderr)


def test_the_command_lines_rich_consoles_show_data_escaped_and_keep_their_own_styles():
    """On a terminal rich styles the report runs' table (SGR sequences are its own); a message
    from the data is shown escaped, and markup in it makes no hyperlink (OSC 8)."""
    from rich.progress import Progress

    from srelib.cli import TerminalConsole
    from srelib.run.batch import Job, Outcome
    from srelib.run.progress import print_outcomes

    out = TerminalConsole(file=io.StringIO(), force_terminal=True, color_system="standard", width=200)
    job = Job("slo_document", "2026-10", None, {"slo": f"x{OSC_TITLE}"})
    outcome = Outcome(job, "failed", 1.0, f"failed: {CSI_CLEAR}{BIDI} [link=https://evil.example]click[/link]")
    print_outcomes([outcome], out, out)
    out.print(f"[link=https://evil.example]{OSC_TITLE}[/link]")
    with Progress(console=out, auto_refresh=False) as progress:  # its description skips render_str
        progress.add_task(f"running {job.label}", total=1)
        progress.refresh()
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[" in text and "\x1b[?25l" in text  # rich's own styles and cursor controls
    assert "running slo_document 2026-10 (x\\x1b]0;pwned" in text  # (rich drops the BEL there)
    assert "x\\x1b]0;pwned\\x07" in text and "\\x1b[2J\\u202e" in text
    assert "\x1b]" not in text and "\x07" not in text and BIDI not in text and CSI_CLEAR not in text


def test_output_to_a_pipe_is_made_printable_whatever_writes_it():
    """Piped, every write to stdout and stderr goes through ``printable``, even a bare ``print``."""
    from srelib.cli import printable_output

    out, err = io.StringIO(), io.StringIO()
    before = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        with printable_output():
            print(f"a\tb{OSC_TITLE}\nc")
            print(f"{C1_CSI}{BIDI}", file=sys.stderr)
    finally:
        sys.stdout, sys.stderr = before
    assert out.getvalue() == "a\tb\\x1b]0;pwned\\x07\nc\n"
    assert err.getvalue() == "\\x9b2J\\u202e\n"


# ---- team names --------------------------------------------------------------------------------


@pytest.mark.parametrize("team", ["../x", "..", "a/b", ".hidden", f"ops{OSC_TITLE}", ""])
def test_a_team_that_is_not_a_folder_name_is_refused_with_exit_2(tmp_path, team):
    root = hostile_workbench(tmp_path)
    for args in (
        ("metrics", "--period", "2026-10", "--data", "data", "--team", team),
        ("run", "team_scorecard", "--period", "2026-10", "--team", team),
    ):
        result = run_cli(root, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "--team" in result.stderr and "letters, digits" in result.stderr, result.stderr
        assert no_control_sequence(result.stdout + result.stderr)
    assert not (root / "outputs").exists() and not (root / "x").exists()


def test_a_team_named_only_by_incident_data_is_not_a_known_team(tmp_path):
    root = hostile_workbench(tmp_path)
    rows = [
        dict(
            incident_id="I1",
            title="t",
            service="api",
            team="shadow",
            severity="SEV2",
            started_at="2026-10-01T10:00:00Z",
        )
    ]
    write_csv(root / "data" / "incidents.csv", INCIDENT_COLUMNS, rows)
    result = run_cli(root, "metrics", "--period", "2026-10", "--data", "data", "--team", "shadow")
    assert result.returncode == 2
    assert "unknown team 'shadow': known teams are platform" in result.stderr
    assert run_cli(root, "metrics", "--period", "2026-10", "--data", "data", "--team", "platform").returncode == 0


@pytest.mark.parametrize("team", ["../../etc", "a/b", "Team A"])
def test_a_team_in_the_service_catalogue_must_be_a_folder_name(tmp_path, team):
    make_workbench(tmp_path, {"api": "platform"})
    (tmp_path / "params" / "services.yaml").write_text(yaml.safe_dump({"services": {"api": {"team": team}}}))
    with pytest.raises(ConfigError, match=r"params/services.yaml: services\.api\.team: .*letters, digits"):
        Workbench.load(tmp_path)


def test_report_runs_show_names_and_messages_as_written_never_as_console_markup():
    """The closing table and the progress bar's failure lines: rich markup in a name or a
    message (``[link=…]``, ``[red]``) is shown as written, not obeyed."""
    from io import StringIO

    from rich.console import Console
    from rich.progress import Progress

    from srelib.run.batch import Job, Outcome
    from srelib.run.progress import RichListener, outcome_table

    job = Job("monthly_reliability", "2026-10", team="[link=https://evil.example]payments[/link]")
    failed = Outcome(job, "failed", 1.0, message="[red on white]boom[/] [bold]")
    console = Console(file=StringIO(), force_terminal=True, width=250, record=True)
    console.print(outcome_table([failed]))
    with Progress(console=console) as progress:
        RichListener(progress).finished(failed, 1, 1)
    written = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b]8;" not in written  # no hyperlink was made
    shown = console.export_text()
    assert "[link=https://evil.example]payments[/link]" in shown
    assert shown.count("[red on white]boom[/] [bold]") == 2
