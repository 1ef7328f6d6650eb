"""What a simulated world tells the session of its market before the session starts
(:class:`~arbscope.ports.SourceMarket`): filled here, in one place, so a new thing the
simulator models and the session observes is a field of the record and a line here, never
a change to a source adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ports import SourceMarket

if TYPE_CHECKING:
    from feeds.sim.world import World


def world_market(world: World) -> SourceMarket:
    """``world``'s pools, base mints, prop AMMs (program id -> name: one per major pair,
    ``feeds.sim.propamm``) and its rival bots' wallets, each by its roster name
    (``sim fast``: ``feeds.sim.competition``)."""
    rivals = world.competition.wallets if world.competition is not None else {}
    return SourceMarket(
        universe=tuple(world.universe()),
        base_mints=tuple(world.bases),
        prop_amms={p: a.name for p, a in world.prop_amms.items()},
        known_wallets={wallet: f"sim {name}" for name, wallet in rivals.items()},
    )
