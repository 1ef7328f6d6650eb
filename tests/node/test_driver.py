"""The market driver on the real node (``feeds/sim/driver.py``, the ``driven`` fixture):
its swaps land through every program the node runs, the node's own record of the
market's wallets agrees with its tally, and the rivals' cycles land as arbitrage (their
base token back with more)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo, rpc_call
from feeds.wire import instructions as I
from tests.support.driver import Driven, world_of

pytestmark = pytest.mark.node

# the OpenBook v2 binary on the node (a 2024 mainnet dump) refuses the FillOrKill order
# type arbscope's taker sends (error 0x66): its swaps fail until the taker sends one it
# runs (issue 62, the judge's part); every other venue's land
REFUSED = {"openbook"}


def _ok_signatures(node: NodeInfo, wallet: str) -> int:
    """How many transactions the node says ``wallet`` signed and landed without error
    (``getSignaturesForAddress``, newest 1,000, confirmed)."""
    got = rpc_call(
        node.rpc_url,
        "getSignaturesForAddress",
        [wallet, {"limit": 1000, "commitment": "confirmed"}],
        timeout=30,
    )
    return sum(1 for s in got if s["err"] is None)


def test_the_driver_trades_every_venue_on_the_node(
    driven: Driven, node: NodeInfo, node_market: tuple[Path, Market]
) -> None:
    folder, market = node_market
    kinds = {k for _, k in market.pools} - REFUSED
    tally = driven.wait_for(
        lambda t: (
            t["landed"].get("trade", 0) >= 10
            and t["landed"].get("arbitrage", 0) >= 5
            and kinds <= set(t["venues"])
        ),
        timeout=240,
    )
    assert tally["problems"] == {}, tally["problems"]
    # the node's own record: at least as many landed transactions of the traders as the
    # tally counted (it read them after the tally was written; more may have landed)
    traders = [w for name, w in market.wallets.items() if name.startswith("trader-")]
    mine = sum(tally["landed"].get(r, 0) for r in ("trade", "arbitrage", "dislocation"))
    assert sum(_ok_signatures(node, w) for w in traders) >= mine > 0
    # and the market moved where the driver says it traded: every pool with a landed
    # swap holds another amount than the export wrote in one of its vaults at least
    # (what the node holds now, read after the tally was written)
    world = world_of(market)
    vaults = {p.address: (p.vault_a, p.vault_b) for p in world.pools}
    traded = [p for p in tally["traded"] if p in vaults]
    assert {k for p, k in market.pools if p in tally["traded"]} >= kinds
    exported = _exported_amounts(folder)
    now = _amounts(node, sorted({v for p in traded for v in vaults[p]}))
    still = [p for p in traded if all(now[v] == exported.get(v) for v in vaults[p])]
    assert still == [], (still, len(traded))


def _exported_amounts(folder: Path) -> dict[str, int]:
    """The amount of every token account the export wrote, by address."""
    out: dict[str, int] = {}
    for f in (folder / "accounts").glob("*.json"):
        d = json.loads(f.read_text())
        acc = d["account"]
        if acc["owner"] in (I.SPL_TOKEN, I.TOKEN_2022) and acc["space"] >= 165:
            out[d["pubkey"]] = int.from_bytes(base64.b64decode(acc["data"][0])[64:72], "little")
    return out


def _amounts(node: NodeInfo, keys: list[str]) -> dict[str, int | None]:
    """The amounts the node holds in the token accounts ``keys`` (processed)."""
    out: dict[str, int | None] = {}
    for i in range(0, len(keys), 100):
        part = keys[i : i + 100]
        got = rpc_call(
            node.rpc_url,
            "getMultipleAccounts",
            [part, {"encoding": "base64", "commitment": "processed"}],
            timeout=30,
        )["value"]
        for k, acc in zip(part, got, strict=True):
            out[k] = (
                None
                if acc is None
                else int.from_bytes(base64.b64decode(acc["data"][0])[64:72], "little")
            )
    return out


def test_rival_cycles_land_as_arbitrage(
    driven: Driven, node: NodeInfo, node_market: tuple[Path, Market]
) -> None:
    """A rival's landed transaction is a cycle: two hops or more through the market's
    programs, and its wallet holds more of the cycle's base token after it than
    before (its last hop's minimum: the input back and its fees)."""
    _folder, market = node_market
    driven.wait_for(lambda t: t["landed"].get("rival", 0) >= 1, timeout=240)
    programs = {p.program_id for p in market.programs}
    seen = 0
    for name, wallet in market.wallets.items():
        if not name.startswith("rival-"):
            continue
        sigs = rpc_call(
            node.rpc_url,
            "getSignaturesForAddress",
            [wallet, {"limit": 50, "commitment": "confirmed"}],
            timeout=30,
        )
        for s in sigs:
            if s["err"] is not None:
                continue
            tx = _transaction(node, s["signature"])
            keys = _keys(tx)
            hops = [
                ix
                for ix in tx["transaction"]["message"]["instructions"]
                if keys[ix["programIdIndex"]] in programs
            ]
            assert len(hops) >= 2, hops
            gains = _gains(tx, wallet)
            assert max(gains.get(b, 0) for b in market.bases) > 0, gains
            seen += 1
    assert seen >= 1


def _transaction(node: NodeInfo, signature: str) -> Any:
    return rpc_call(
        node.rpc_url,
        "getTransaction",
        [
            signature,
            {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0},
        ],
        timeout=30,
    )


def _keys(tx: Any) -> list[str]:
    msg = tx["transaction"]["message"]
    loaded = tx["meta"].get("loadedAddresses") or {}
    return [*msg["accountKeys"], *loaded.get("writable", []), *loaded.get("readonly", [])]


def _gains(tx: Any, wallet: str) -> dict[str, int]:
    """What ``wallet``'s token accounts gained in ``tx``, by mint."""

    def held(side: str) -> dict[str, int]:
        return {
            b["mint"]: int(b["uiTokenAmount"]["amount"])
            for b in tx["meta"][side]
            if b.get("owner") == wallet
        }

    pre, post = held("preTokenBalances"), held("postTokenBalances")
    return {m: post.get(m, 0) - pre.get(m, 0) for m in {*pre, *post}}
