"""What-if replays of the committed recording (``tests/data/replay-seed2.sqlite``): the
recorded settings give the recorded digest and the fills the live session journaled;
other settings are applied (a huge ``min_profit`` trades nothing, a tip costs exactly
the tip per attempt); the maximum drawdown against curves worked by hand; the policy
file through the config's own checks."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import types
from pathlib import Path
from typing import Any

import pytest

from arbscope import cli
from arbscope.replay import load_info
from arbscope.whatif import Drawdown, WhatIf, max_drawdown, read_policy, replay
from storage.journal import Journal, SessionInfo
from tests.support.processes import run_python

ROOT = Path(__file__).resolve().parents[2]
RECORDING = ROOT / "tests" / "data" / "replay-seed2.sqlite"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A copy of the committed recording (opening a journal switches it to WAL)."""
    path = tmp_path / "replay.sqlite"
    shutil.copyfile(RECORDING, path)
    return path


def info_of(db: Path) -> SessionInfo:
    return asyncio.run(load_info(db, ""))


def what_if(
    db: Path,
    overrides: dict[str, Any],
    until_s: float | None = None,
    backend: types.ModuleType | None = None,
) -> WhatIf:
    return asyncio.run(replay(db, info_of(db), overrides, until_s, backend=backend))


def recorded_fills(db: Path) -> list[dict[str, Any]]:
    """The paper fills the live session journaled (``fill`` events), in order."""

    sid = info_of(db).id

    async def go() -> list[dict[str, Any]]:
        async with await Journal.open(db, create=False, write=False) as j:
            return [e.payload for e in await j.events(sid, ["fill"])]

    return asyncio.run(go())


def arbscope(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "arbscope", *args])


def test_the_recorded_settings_give_the_recorded_digest_and_fills(db: Path) -> None:
    """No override: the digest the live session stored, and the equity curve is the
    live session's own fills (the journal's ``fill`` events: slot, profit, outcome), its
    end the PnL the journal stored for the session."""
    info = info_of(db)
    r = what_if(db, {})
    assert r.recorded_known and r.changed == {}
    assert r.complete and r.digest == info.digest and r.digest_matches is True
    live = recorded_fills(db)
    assert len(live) == r.fills > 0
    assert [(p.slot, p.pnl, p.ok) for p in r.curve] == [
        (f["slot"], f["profit"], f["ok"]) for f in live
    ]
    assert r.pnl == sum(f["profit"] for f in live) == int(info.pnl)
    assert r.curve[-1].equity == r.initial + r.pnl
    assert r.wins == sum(f["ok"] and f["profit"] > 0 for f in live)
    assert r.fee_lamports == sum(f["fee_lamports"] for f in live)
    assert r.fees_paid == sum(f["fees"] for f in live)
    assert (r.symbol, r.decimals) == ("SOL", 9)  # the base mint by the session's names


@pytest.mark.slow
def test_overrides_are_applied(db: Path) -> None:
    """A min_profit above any cycle's profit: no attempt, another digest. A tip below
    every attempted cycle's expected net (the recording's fills: quoted gain less fees):
    the same attempts, each paying exactly the tip more (paper's fee: base + priority +
    tip), the digest another."""
    info = info_of(db)
    base = what_if(db, {})
    none = what_if(db, {"policy.min_profit": 10**15})
    assert none.fills == 0 and none.pnl == 0 and none.curve == ()
    assert none.digest != info.digest and none.digest_matches is False
    assert none.changed == {"policy.min_profit": (1, 10**15)}
    net = min(f["expected_out"] - f["amount_in"] - f["fees"] for f in recorded_fills(db))
    tip = net // 2  # (the base is SOL: the tip and the net in the same unit)
    assert tip > 0
    tipped = what_if(db, {"fees.tip_lamports": tip})
    assert tipped.fills == base.fills
    assert tipped.fee_lamports - base.fee_lamports == tip * base.fills
    assert tipped.digest not in (info.digest, none.digest)
    fewer = what_if(db, {"policy.min_persistence": 4})
    assert 0 < fewer.fills < base.fills


@pytest.mark.slow
def test_both_engines_replay_the_same_what_if(db: Path, eng: types.ModuleType) -> None:
    """The twin and the extension decide alike under other settings too (the Rust result
    is the reference the Python one must equal to the unit)."""
    overrides = {"policy.min_persistence": 1, "fees.tip_lamports": 5_000_000}
    r = what_if(db, overrides, backend=eng)
    ref = what_if(db, overrides)  # the default backend (Rust when built)
    assert (r.digest, r.pnl, r.fills, r.curve) == (ref.digest, ref.pnl, ref.fills, ref.curve)


def test_until_cuts_the_replay_short_and_compares_no_digest(db: Path) -> None:
    full = what_if(db, {})
    cut = what_if(db, {}, until_s=2.0)
    assert not cut.complete and cut.end_s == 2.0 and cut.digest_matches is None
    assert cut.inputs < full.inputs
    assert all(p.t_s <= 2.0 for p in cut.curve)
    # the start of the full replay's curve, exactly
    assert cut.curve == full.curve[: len(cut.curve)]


@pytest.mark.parametrize(
    ("equity", "expected"),
    [
        ([], Drawdown(0, 0.0, 0, 0)),
        ([100], Drawdown(0, 0.0, 0, 0)),
        ([100, 110, 120], Drawdown(0, 0.0, 0, 0)),  # never below a peak
        ([100, 90], Drawdown(10, 10.0, 0, 1)),  # the first attempt loses
        # peaks 120 and 130: 120 -> 90 is 30, 130 -> 80 is 50, the larger
        ([100, 120, 90, 130, 80, 140], Drawdown(50, 100 * 50 / 130, 3, 4)),
        # the trough after a peak, not before it: 200 -> 150, not 50 -> ...
        ([50, 200, 150, 180, 160], Drawdown(50, 25.0, 1, 2)),
        # a deeper fall from a lower peak is still the larger one in base units
        ([1000, 990, 400, 300], Drawdown(700, 70.0, 0, 3)),
    ],
)
def test_max_drawdown_against_curves_worked_by_hand(equity: list[int], expected: Drawdown) -> None:
    assert max_drawdown(equity) == expected


def test_the_drawdown_of_a_replay_is_that_of_its_curve(db: Path) -> None:
    """The result's drawdown is taken over the curve from the starting balance (by hand:
    the largest fall from a running peak)."""
    r = what_if(db, {"policy.min_persistence": 1, "fees.tip_lamports": 5_000_000})
    curve = [r.initial, *(p.equity for p in r.curve)]
    worst, peak = 0, curve[0]
    for e in curve:
        peak = max(peak, e)
        worst = max(worst, peak - e)
    assert r.drawdown.amount == worst
    assert r.curve[-1].equity - r.initial == r.pnl


@pytest.mark.slow
def test_the_cli_prints_the_summary_and_json(db: Path, tmp_path: Path) -> None:
    """``--policy`` with the recorded values: the digest matches (exit 0). Another
    min_profit: the digest differs by design, said so, exit 0; ``--json`` for machines."""
    same = tmp_path / "same.toml"
    same.write_text("[policy]\nmin_profit = 1\nmin_persistence = 2\n[fees]\ntip_lamports = 0\n")
    p = arbscope("replay", "--db", str(db), "", "--headless", "--policy", str(same))
    assert p.returncode == 0, p.stderr
    assert "settings   as recorded" in p.stdout
    assert "matches the recorded one" in p.stdout
    pnl = int(info_of(db).pnl)  # what the live session stored
    sol = f"{pnl / 10**9:.9f}".rstrip("0").rstrip(".")  # units without trailing zeros
    assert f"PnL        {pnl:+,} base units = +{sol} SOL" in p.stdout
    other = tmp_path / "other.toml"
    other.write_text("# nothing is worth it\n[policy]\nmin_profit = 1_000_000_000_000\n")
    p = arbscope("replay", "--db", str(db), "", "--headless", "--policy", str(other), "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["fills"] == 0 and out["pnl"] == 0 and out["digest_matches"] is False
    assert out["changed"] == {"policy.min_profit": {"recorded": 1, "now": 10**12}}
    assert out["settings"]["policy.min_profit"] == 10**12


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "[policy]\nmin_proft = 5\n",
            'policy.toml:2: unknown key "policy.min_proft" (did you mean "policy.min_profit"?)',
        ),
        (
            "[policy]\n\nmin_profit = -5\n",
            "policy.toml:3: policy.min_profit: expected a value >= 0, got -5",
        ),
        (
            '[fees]\ntip_lamports = "lots"\n',
            "policy.toml:2: fees.tip_lamports: expected an integer >= 0, got 'lots'",
        ),
        ("[live]\nmax_open = 2\n", "policy.toml:2: live.max_open: not a what-if key"),
        ("[policy\n", "policy.toml: not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_one_line_naming_file_line_and_key(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problem: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(Exception) as exc:
        read_policy(path)
    assert str(exc.value).replace(str(tmp_path) + "/", "").startswith(problem)
    rc = cli.main(["replay", "--db", str(db), "", "--headless", "--policy", str(path)])
    err = capsys.readouterr()
    assert rc == 2 and err.out == ""
    lines = err.err.replace(str(tmp_path) + "/", "").splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"arbscope: {problem}")


def test_a_missing_policy_file_and_a_screen_replay_are_refused(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.toml"
    assert cli.main(["replay", "--db", str(db), "", "--headless", "--policy", str(missing)]) == 2
    assert capsys.readouterr().err == f"arbscope: {missing}: no such policy file\n"
    assert cli.main(["replay", "--db", str(db), "", "--policy", str(missing)]) == 2
    assert "for --headless replays" in capsys.readouterr().err
