"""arbscope, unchanged, in paper against the real node while the market driver trades it:
``arbscope run --ws ws://… --rpc http://… --pools FILE --headless``. The snapshot and the
subscriptions come from Agave's own RPC and PubSub; every pool of the market is decoded
(a transfer-hooked mint's too, refused in cycles only), cycles are found and filled on paper, nothing
errs, and every token is named from the chain (Metaplex metadata for SPL Token mints,
Token-2022's metadata extension), as the export wrote them."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo
from storage.journal import Journal
from tests.support.driver import Driven, world_of
from tests.support.paths import ROOT
from tests.support.processes import headless_env

pytestmark = pytest.mark.node

RUN_S = 25  # seconds of paper trading (the driver opens a cycle every second or two)


def test_arbscope_in_paper_on_the_node(
    driven: Driven, node: NodeInfo, node_market: tuple[Path, Market], tmp_path: Path
) -> None:
    folder, market = node_market
    world = world_of(market)
    db = tmp_path / "journal.sqlite"
    args = [
        "run",
        "--headless",
        "--ws",
        node.ws_url,
        "--rpc",
        node.rpc_url,
        "--pools",
        str(folder / "pools.toml"),
        "--duration",
        str(RUN_S),
        "--db",
        str(db),
        "--no-metrics",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "arbscope", *args],
        cwd=ROOT,
        env=headless_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=RUN_S + 240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    end = re.search(
        r"slot (\d+), (\d+) pools, (\d+) updates, (\d+) live opportunities, (\d+) errors",
        done.stderr,
    )
    assert end is not None, done.stderr[-3000:]
    slot, pools, updates, _live, errors = map(int, end.groups())
    # every pool of the market decoded (a hooked mint's too: refused in cycles only)
    on_node = {a for a, _ in market.pools}
    decodable = [p for p in world.pools if p.address in on_node]
    assert pools == len(market.pools) and slot > 0 and updates > 0, done.stderr[-3000:]
    assert errors == 0, done.stderr[-3000:]
    sid = re.search(r"^session (\S+)$", done.stdout, re.M)
    assert sid is not None, done.stdout
    opps, fills, tokens = asyncio.run(_journal(db, sid.group(1)))
    assert opps > 0  # cycles found
    assert any(f["ok"] for f in fills), fills[:5]  # and filled on paper
    # names from the chain: the export's Metaplex accounts and Token-2022 extensions
    named = {t["mint"]: t for t in tokens}
    for t in world.tokens:
        if t.mint not in named:
            continue
        got = named[t.mint]
        assert got["source"] == "chain", got
        assert (got["symbol"], got["decimals"]) == (t.symbol, t.decimals), got
    traded = {m for p in decodable for m in (p.mint_a, p.mint_b)}
    assert traded <= set(named), traded - set(named)


async def _journal(db: Path, session: str) -> tuple[int, list[dict[str, object]], list[dict]]:
    async with await Journal.open(db, create=False) as j:
        opps = len(await j.events(session, ["opp"]))
        fills = [e.payload for e in await j.events(session, ["fill"])]
        tokens = await j.tokens(session)
    return opps, fills, tokens
