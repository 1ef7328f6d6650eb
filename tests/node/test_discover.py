"""``arbscope pools discover`` against the real node: among the market's best-known
mints it finds every pool the node holds among them (by ``getProgramAccounts`` on each
venue's program, as on mainnet), no other, each as its venue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo
from feeds.wire.tokens import BY_SYMBOL
from feeds.wire.universe import load_universe
from tests.support.driver import world_of
from tests.support.paths import ROOT
from tests.support.processes import cli_env

pytestmark = pytest.mark.node

SYMBOLS = ("SOL", "USDC", "USDT")


def test_pools_discover_finds_the_pools_the_market_holds(
    node: NodeInfo, node_market: tuple[Path, Market], tmp_path: Path
) -> None:
    _folder, market = node_market
    world = world_of(market)
    mints = {BY_SYMBOL[s].mint for s in SYMBOLS}
    on_node = dict(market.pools)
    want = {
        p.address: p.kind
        for p in world.pools
        if p.address in on_node and {p.mint_a, p.mint_b} <= mints
    }
    assert len(want) >= 4  # SOL against either stablecoin, on several venues
    out = tmp_path / "found.toml"
    args = ["pools", "discover", "--rpc", node.rpc_url, "--out", str(out), "--timeout", "30"]
    for s in SYMBOLS:
        args += ["--mint", s]
    done = subprocess.run(
        [sys.executable, "-m", "arbscope", *args],
        cwd=ROOT,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    found = load_universe(out)
    assert dict(found.pools) == want, set(found.pools) ^ set(want)
