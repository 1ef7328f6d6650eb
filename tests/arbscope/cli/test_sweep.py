"""``arbscope sweep`` on the committed recording: a 2x2 grid in two processes writes its
CSV (a row per cell, equal to a direct what-if replay of that cell, and the same again
in one process), an equity chart per cell and the overview as valid PNG and SVG, and
prints the table; bad ``--set`` values are one line and exit 2; Ctrl-C stops the workers
and leaves no process behind."""

from __future__ import annotations

import csv
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from arbscope import cli
from tests.support.processes import run_python

ROOT = Path(__file__).resolve().parents[3]
RECORDING = ROOT / "tests" / "data" / "replay-seed2.sqlite"
UNTIL = "3"  # recording seconds each cell plays: the first fills, a quick test
PNG = b"\x89PNG\r\n\x1a\n"
# the Ctrl-C test's cells: each replays the whole recording (~1 s), 2 at a time, so the
# interrupt after the first lands while many are still to run, however busy the machine
CTRL_C_CELLS = 40


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "replay.sqlite"
    shutil.copyfile(RECORDING, path)
    return path


# a cell's outcome as the sweep's CSV has it and ``replay --json`` gives it
COUNTS = ("pnl", "pnl_units", "symbol", "fills", "wins", "failed")
COUNTS += ("fees_paid", "fee_lamports", "max_drawdown")


def arbscope(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "arbscope", *args], env, timeout=300)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@pytest.mark.slow
def test_a_2x2_sweep_writes_its_csv_charts_and_table(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    grid = ["--set", "policy.min_persistence=1,4", "--set", "fees.tip_lamports=0,10000"]
    p = arbscope(
        "sweep", "--db", str(db), "", *grid, "--jobs", "2", "--until", UNTIL, "--out", str(out)
    )
    assert p.returncode == 0, p.stderr
    assert "4 cells (2 × 2), 2 processes" in p.stderr

    columns, rows = read_csv(out / "sweep.csv")
    grid_columns = ["cell", "policy.min_persistence", "fees.tip_lamports"]
    outcome = [*COUNTS[:6], "hit_rate", *COUNTS[6:], "max_drawdown_pct", "digest"]
    assert columns == [*grid_columns, *outcome, "best", "chart"]
    # grid order: the first --set outermost
    assert [(r["cell"], r["policy.min_persistence"], r["fees.tip_lamports"]) for r in rows] == [
        ("1", "1", "0"),
        ("2", "1", "10000"),
        ("3", "4", "0"),
        ("4", "4", "10000"),
    ]
    assert len({r["digest"] for r in rows}) == 4  # four settings, four sets of decisions
    pnl = [int(r["pnl"]) for r in rows]
    best = [r["best"] for r in rows]
    assert best.count("1") == 1 and pnl[best.index("1")] == max(pnl)
    assert all(int(r["fills"]) > 0 for r in rows)  # 3 s hold fills under every cell

    # the charts: one PNG and one SVG per cell, and the overview
    for name in [r["chart"] for r in rows] + ["overview"]:
        png, svg = out / f"{name}.png", out / f"{name}.svg"
        assert png.read_bytes()[:8] == PNG
        assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert len(list(out.glob("*.png"))) == len(list(out.glob("*.svg"))) == 5

    # the table on stdout: a header, a row per cell (the best marked), the key
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["cell", "policy.min_persistence", "fees.tip_lamports"]
    assert len(lines) == 6 and lines[-1] == "* the highest PnL"
    marked = [ln for ln in lines[1:5] if ln.startswith("*")]
    assert len(marked) == 1 and marked[0].split()[1] == str(best.index("1") + 1)

    # a cell is a what-if replay: the direct one of cell 4 gives the same numbers
    policy = tmp_path / "cell4.toml"
    policy.write_text("[policy]\nmin_persistence = 4\n[fees]\ntip_lamports = 10000\n")
    q = arbscope(
        "replay",
        "--db",
        str(db),
        "",
        "--headless",
        "--policy",
        str(policy),
        "--until",
        UNTIL,
        "--json",
    )
    assert q.returncode == 0, q.stderr
    direct = json.loads(q.stdout)
    for col in (*COUNTS, "digest"):
        assert str(direct[col]) == rows[3][col], col
    assert f"{direct['hit_rate']:.6f}" == rows[3]["hit_rate"]

    # deterministic: the same sweep again, in one process and without charts, the same CSV
    again = tmp_path / "again"
    p = arbscope(
        "sweep",
        "--db",
        str(db),
        "",
        *grid,
        "--jobs",
        "1",
        "--until",
        UNTIL,
        "--out",
        str(again),
        "--no-charts",
    )
    assert p.returncode == 0, p.stderr
    assert (again / "sweep.csv").read_bytes() == (out / "sweep.csv").read_bytes()
    assert not list(again.glob("*.png"))


@pytest.mark.parametrize(
    ("sets", "problem"),
    [
        (
            ["policy.min_proft=1,2"],
            'unknown key "policy.min_proft" (did you mean "policy.min_profit"?)',
        ),
        (["policy.min_profit=0,lots"], "policy.min_profit: expected an integer >= 0, got 'lots'"),
        (["policy.min_profit=0,-5"], "policy.min_profit: expected a value >= 0, got -5"),
        (["fees.percentile=50,101"], "fees.percentile: expected a value within 0..100, got 101"),
        (["policy.min_profit="], "policy.min_profit: no values"),
        (["policy.min_profit=1,,2"], "policy.min_profit: an empty value in the list"),
        (["policy.min_profit=1,1"], "policy.min_profit: 1 is given twice"),
        (["policy.min_profit"], "expected KEY=V1,V2,..."),
        (["live.max_open=1,2"], "live.max_open: not a what-if key"),
        (["fees.tip_lamports=0", "fees.tip_lamports=5"], "--set fees.tip_lamports: given twice"),
    ],
)
def test_a_bad_set_is_one_line_and_exit_2(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], sets: list[str], problem: str
) -> None:
    argv = ["sweep", "--db", str(db), "", "--out", str(tmp_path / "out")]
    for s in sets:
        argv += ["--set", s]
    assert cli.main(argv) == 2
    err = capsys.readouterr()
    lines = err.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("arbscope: --set "), err.err
    assert problem in lines[0]
    assert err.out == "" and not (tmp_path / "out").exists()


def test_a_bad_policy_file_for_a_sweep_is_one_line_and_exit_2(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[policy]\nmin_profit = 5\nmin_persistance = 2\n")
    argv = ["sweep", "--db", str(db), "", "--set", "fees.tip_lamports=0,1", "--policy", str(policy)]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == (
        f'arbscope: {policy}:3: unknown key "policy.min_persistance" '
        '(did you mean "policy.min_persistence"?)\n'
    )


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (the sweep and its workers)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker.encode() in env.split(b"\0"):
            found.append(int(pid))
    return found


def _as_a_shell_starts() -> None:
    """In the child before exec: SIGINT delivered and handled by default, as a terminal's
    foreground job gets it — whatever the test process inherited or set (an ignored or
    blocked signal would be inherited across exec, and the sweep never see Ctrl-C)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_ctrl_c_stops_the_workers_and_writes_nothing(db: Path, tmp_path: Path) -> None:
    """Ctrl-C reaches the whole foreground process group (the sweep and its workers):
    the workers ignore it, the sweep stops them at their next step, cancels the cells
    not started, waits for them and exits 130 with one line; no process is left."""
    marker = f"ARBSCOPE_TEST_SWEEP={uuid.uuid4().hex}"
    key, value = marker.split("=")
    out = tmp_path / "out"
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arbscope",
            "sweep",
            "--db",
            str(db),
            "",
            "--set",
            f"policy.min_profit={','.join(map(str, range(CTRL_C_CELLS)))}",
            "--jobs",
            "2",
            "--no-charts",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, key: value},
        start_new_session=True,
        preexec_fn=_as_a_shell_starts,
    )
    try:
        seen = ""
        while f"1/{CTRL_C_CELLS} done" not in seen:  # the workers are running cells now
            ready, _, _ = select.select([p.stderr], [], [], 120)
            assert ready, f"no progress from the sweep: {seen}"
            line = p.stderr.readline()  # type: ignore[union-attr]
            assert line, f"the sweep ended early: {seen}"
            seen += line
        os.killpg(p.pid, signal.SIGINT)  # as the terminal does on Ctrl-C
        stdout, stderr = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)
    assert p.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        "arbscope: sweep interrupted: its processes have stopped; nothing written"
    )
    assert "Traceback" not in stderr and stdout == ""
    assert not (out / "sweep.csv").exists()
    assert _processes_with(marker) == []
