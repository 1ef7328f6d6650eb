"""The simulator answers as the node does (issue 62 §3, JSON-RPC and PubSub): every probe
of ``tests/support/probes.py`` sent to Agave's validator and to the simulator serving the
same exported market (the same accounts at genesis, the real program binaries as its
bank), their answers compared in shape and, where the state is the same, in value.

What still differs is :data:`tests.support.conformance.KNOWN`, each with its reason
(docs/simulator.md lists them); anything else fails here. The node's shapes are also held
to ``tests/data/node/conformance.json``, which a clone without ../shared holds the
simulator to (``tests/feeds/sim/test_conformance_recorded.py``): when the node answers
otherwise than recorded, record it again with ``ARBSCOPE_RECORD_NODE=1`` (the fixture
says how it was made).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo, rpc_call
from tests.support import conformance as C
from tests.support import probes as P
from tests.support.realnode import PROGRAMS

pytestmark = pytest.mark.node
RECORD = os.environ.get("ARBSCOPE_RECORD_NODE") == "1"


async def _both(node: NodeInfo, folder: Path, market: Market, run: str) -> tuple[Any, Any]:
    async with aiohttp.ClientSession() as session, C.sim_server(folder, str(PROGRAMS)) as srv:
        info = srv.infos()[0]
        on_node = C.Target("node", node.rpc_url, node.ws_url, market, session, run=run)
        on_sim = C.Target("sim", info.http_url, info.ws_url, market, session, run=run)
        seconds: dict[str, dict[str, float]] = {"node": {}, "sim": {}}
        got = await asyncio.gather(
            P.run(on_node, seconds=seconds["node"]), P.run(on_sim, seconds=seconds["sim"])
        )
        print("seconds a probe took:", seconds)  # shown with -s (the CI budget)
        return got


def test_the_simulator_answers_as_the_node_does(
    node: NodeInfo, node_market: tuple[Path, Market]
) -> None:
    folder, market = node_market
    run = f"{time.time():.6f}"  # the run's keys: new on every run, the same on both nodes
    got_node, got_sim = asyncio.run(_both(node, folder, market, run))
    node_shapes = {k: C.shape(v) for k, v in got_node.items()}
    sim_shapes = {k: C.shape(v) for k, v in got_sim.items()}
    skipped: list[str] = []
    diff = C.compare(node_shapes, sim_shapes, skipped)
    bad = C.unexpected(diff)
    assert not bad, C.explain(bad)
    # the swap ran on a pool the session had not traded yet (a test before this one may
    # have): then its amounts and logs were compared too
    assert len(node_shapes) > 300 and len(skipped) < 20, skipped
    if RECORD:
        version = rpc_call(node.rpc_url, "getVersion")
        C.record(
            node_shapes,
            {
                "node": f"solana-test-validator {version['solana-core']} "
                f"(feature set {version['feature-set']})",
                "market": "arbscope sim --export, seed 63 (tests/support/realnode.py), "
                "the newest binary of each program of ../shared/programs",
                "programs": sorted(p.program_id for p in market.programs),
                "made": datetime.date.today().isoformat(),
                "run": run,
                "how": "ARBSCOPE_RECORD_NODE=1 pytest -p no:xdist "
                "tests/node/test_conformance.py (the probes of tests/support/probes.py, "
                "reduced by tests.support.conformance.shape)",
            },
        )
    # the node answers in the shapes recorded (else the fixture is out of date: record it
    # again); the values are this run's (its keys)
    recorded = C.recorded()["shapes"]
    again = C.unexpected(C.compare(recorded, node_shapes, exact=False))
    assert not again, "the node answers otherwise than recorded (ARBSCOPE_RECORD_NODE=1):\n" + (
        C.explain(again)
    )
