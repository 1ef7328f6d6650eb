"""The market driver without a node (its node tests are ``tests/node/test_driver.py``):
it names a landed transaction's error as the program does, and against a node that is
not there it neither dies nor prints a traceback: it counts the node's silence, sends
nothing, and stops when told."""

from __future__ import annotations

import json
from pathlib import Path

from feeds import venues
from feeds.sim.driver import failure, read_stats
from feeds.sim.export import export
from feeds.sim.world import WorldConfig
from tests.support.processes import cli_env, run_python

CLI = ("-m", "arbscope")


def test_a_failure_is_named_as_its_program_names_it() -> None:
    kinds = ("", "", "amm_v4", "whirlpool")
    assert failure({"InstructionError": [2, {"Custom": 30}]}, kinds) == "amm_v4 ExceededSlippage"
    # an Anchor program's small code is the token program's it called
    assert failure({"InstructionError": [3, {"Custom": 1}]}, kinds) == "whirlpool InsufficientFunds"
    assert failure({"InstructionError": [3, {"Custom": 6016}]}, kinds).startswith("whirlpool ")
    assert failure({"InstructionError": [2, {"Custom": 999}]}, kinds) == "amm_v4 0x3e7"
    assert failure({"InstructionError": [0, "InvalidInstructionData"]}, kinds) == (
        "instruction InvalidInstructionData"
    )
    assert failure("AccountNotFound", kinds) == "AccountNotFound"
    assert failure({"InsufficientFundsForRent": {"account_index": 0}}, kinds) == (
        '{"InsufficientFundsForRent": {"account_index": 0}}'
    )


def test_against_no_node_it_counts_the_silence_and_stops_cleanly(tmp_path: Path) -> None:
    programs = tmp_path / "programs"
    programs.mkdir()
    for v in venues.VENUES:  # stand-ins named by program id: the export lists them only
        (programs / f"{v.program}.so").write_bytes(b"\x7fELF stand-in")
    market = tmp_path / "market"
    export(WorldConfig(seed=3, tokens=6, pools=10), market, programs)
    stats = tmp_path / "stats.json"
    args = ["--market", str(market), "--duration", "3", "--stats", str(stats)]
    done = run_python(
        [*CLI, "node", "drive", "--rpc", "http://127.0.0.1:9", *args], cli_env(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "driver: slot 0" in done.stderr
    tally = read_stats(stats)
    assert tally is not None and tally["totals"]["sent"] == 0
    assert sum(tally["node"].values()) >= 1 and tally["problems"] == {}
    assert all("127.0.0.1:9" not in k for k in tally["node"])  # no URL in the tally
    json.dumps(tally)


def test_a_market_folder_that_is_not_one_is_a_clear_error(tmp_path: Path) -> None:
    done = run_python(
        [*CLI, "node", "drive", "--rpc", "http://127.0.0.1:9", "--market", str(tmp_path)],
        cli_env(tmp_path),
    )
    assert done.returncode == 2 and "not a market written by arbscope sim --export" in done.stderr
    assert "Traceback" not in done.stderr
