"""The simulator answers as the real node did: the probes of ``tests/support/probes.py``
sent to the simulator alone, their shapes compared with what Agave's validator answered
to the same probes (``tests/data/node/conformance.json``, recorded by
``tests/node/test_conformance.py``), so a clone without ../shared (no validator, no
program binaries) still holds the simulator to the node. Values that depend on the
state are compared where the recorded node's state was the same (the exported market's
genesis); those that need the real programs are left to the node test."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from feeds.sim.export import export
from feeds.sim.world import WorldConfig
from tests.support import conformance as C
from tests.support import probes as P


@pytest.mark.slow
async def test_the_simulator_answers_as_the_recorded_node_did(tmp_path: Path) -> None:
    fixture = C.recorded()
    programs = C.placeholder_programs(tmp_path / "programs", fixture["how"]["programs"])
    market = export(WorldConfig(seed=63), tmp_path / "market", programs)
    async with aiohttp.ClientSession() as session, C.sim_server(tmp_path / "market") as srv:
        info = srv.infos()[0]
        target = C.Target(
            "sim",
            info.http_url,
            info.ws_url,
            market,
            session,
            real_programs=False,
            run=fixture["how"]["run"],  # the recorded run's keys: the same accounts
        )
        got = await P.run(target)
    shapes = {k: C.shape(v) for k, v in got.items()}
    skipped: list[str] = []
    diff = C.compare(fixture["shapes"], shapes, skipped)
    bad = C.unexpected(diff)
    assert not bad, C.explain(bad)
    # the real programs' values and little else are left to the node test
    assert len(shapes) > 300 and all(k.startswith("swap: ") for k in skipped), skipped
