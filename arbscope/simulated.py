"""The embedded simulator of a simulated session (``arbscope run`` with no endpoints, the
demo's feeds): its one door into :mod:`feeds.sim`, imported only where a session has
one, so a live session loads no simulator module (``tests/feeds/test_sim_room.py``)."""

from __future__ import annotations

from feeds.sim.server import SimServer, default_profiles
from feeds.sim.world import WorldConfig


def embedded(
    config: WorldConfig | None, seed: int, endpoints: int, accept_transactions: bool, grpc: bool
) -> tuple[SimServer, WorldConfig]:
    """The simulator a session embeds, and its world's configuration: ``config`` (None:
    the default world of ``seed``) served on ``endpoints`` loopback endpoints of the
    default profiles, taking transactions when asked, with Yellowstone gRPC beside
    PubSub when ``grpc``."""
    config = config or WorldConfig(seed=seed)
    server = SimServer(
        config,
        default_profiles(endpoints),
        accept_transactions=accept_transactions,
        grpc=grpc,
    )
    return server, config
