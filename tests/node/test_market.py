"""The simulated market on a real node: every account ``arbscope sim --export`` wrote is
what the validator serves, and the programs it runs are the newest binaries."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo, rpc_call

pytestmark = pytest.mark.node


def test_every_exported_account_is_served(node: NodeInfo, node_market: tuple[Path, Market]) -> None:
    folder, market = node_market
    files = sorted((folder / "accounts").glob("*.json"))
    assert len(files) == market.accounts > 0
    want = {}
    for f in files:
        d = json.loads(f.read_text())
        want[d["pubkey"]] = d["account"]
    keys = list(want)
    differing = []
    for i in range(0, len(keys), 100):
        part = keys[i : i + 100]
        got = rpc_call(
            node.rpc_url,
            "getMultipleAccounts",
            [part, {"encoding": "base64", "commitment": "processed"}],
        )["value"]
        for k, acc in zip(part, got, strict=True):
            w = want[k]
            if acc is None or (acc["owner"], acc["lamports"], acc["data"][0]) != (
                w["owner"],
                w["lamports"],
                w["data"][0],
            ):
                differing.append(k)
    assert differing == []
    # the pools file lists only pools whose program the node runs
    programs = {p.program_id for p in market.programs}
    for address, _kind in market.pools:
        owner = want[address]["owner"]
        assert owner in programs, (address, owner)
    # every program the market loads is deployed: executable, at its id
    got = rpc_call(
        node.rpc_url,
        "getMultipleAccounts",
        [sorted(programs), {"encoding": "base64", "commitment": "processed"}],
    )["value"]
    assert all(a is not None and a["executable"] for a in got)
    assert base64.b64decode(got[0]["data"][0])  # the upgradeable loader's program account
