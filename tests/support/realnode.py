"""A real Solana node for the tests: Agave's ``solana-test-validator`` (``../shared/bin``)
on the simulated market written for it (``arbscope sim --export``), with the newest real
binary of every program (``../shared/programs``) and the real Yellowstone gRPC plugin.

One node serves a whole test session (it takes ~1.5 GB and more than a core): the
session fixtures of ``tests/node/conftest.py`` start it once. Without the binary or the
programs (a user's clone without ``../shared``), every test that asks for it skips with
the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feeds.sim.export import Market, export
from feeds.sim.validator import Validator, find_plugin, find_validator
from feeds.sim.world import WorldConfig
from tests.support.paths import ROOT

PROGRAMS = Path(os.environ.get("ARBSCOPE_PROGRAMS") or ROOT.parent / "shared" / "programs")
NODE_SEED = 63  # make run's market


def validator_binary() -> Path:
    """The validator to run (skips the calling test with the reason when absent)."""
    found = find_validator()
    if found is None:
        pytest.skip("no solana-test-validator (../shared/bin absent: a user's clone)")
    if not PROGRAMS.is_dir():
        pytest.skip(f"{PROGRAMS} absent (a user's clone): the real programs are not loaded")
    return found


def plugin_binary(validator: Path) -> Path:
    found = find_plugin(validator)
    if found is None:
        pytest.skip(f"no Yellowstone gRPC plugin beside {validator}")
    return found


def market(folder: Path, seed: int = NODE_SEED, **config: object) -> Market:
    """The simulated market of ``seed`` written for a node into ``folder``."""
    return export(WorldConfig(seed=seed, **config), folder, PROGRAMS)  # type: ignore[arg-type]


def start(folder: Path, grpc: bool = True) -> Validator:
    """A validator on the market of ``folder`` (started; its ``info`` says where)."""
    binary = validator_binary()
    v = Validator(binary, folder, grpc=grpc, plugin=plugin_binary(binary) if grpc else None)
    v.start()
    return v
