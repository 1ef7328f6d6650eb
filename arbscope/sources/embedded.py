"""The embedded simulator as a feed source: a :class:`~feeds.sim.server.SimServer` on
loopback (its world, chain and endpoints: PubSub, and Yellowstone gRPC for the last
``grpc`` of them) read by the session's own sockets, as real endpoints are.

This is the only module of the wiring that imports the simulator (``feeds.sim``), inside
what builds one, and it is itself imported only where a session embeds the simulator: a
session on real endpoints, a consumer and a replay load no simulator module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feeds.clients.pool import Endpoint

from ..ports import Faucet, SourceMarket
from .feeds import EndpointFeeds, FeedOptions, SimSettings
from .known import world_market

if TYPE_CHECKING:
    from feeds.sim.server import SimServer


def programs_problem(folder: str) -> str:
    """Why the simulator cannot run the program binaries of ``folder`` ("" when it can):
    a folder that cannot be used is one line before the start, not a traceback later."""
    from feeds.sim.bank import ProgramsError, find_programs

    try:
        if not find_programs(folder):
            raise ProgramsError(f"{folder}: no program binaries found (*.so named by program id)")
    except ProgramsError as exc:
        return str(exc)
    return ""


class SimFeeds(EndpointFeeds):
    """The embedded simulator's server and the session's sockets on its endpoints."""

    def __init__(self, settings: SimSettings, seed: int, options: FeedOptions) -> None:
        from feeds.sim.server import SimServer, default_profiles

        super().__init__((), options)
        self.settings = settings
        self.world_config = settings.world_config(seed)
        self.server: SimServer = SimServer(
            self.world_config,
            default_profiles(settings.endpoints),
            accept_transactions=settings.accept_tx,
            grpc=settings.grpc > 0,
        )

    @property
    def label(self) -> str:
        """What the status bar and the session's start line say: the endpoints and how
        strong the simulator's rivals are (``rivals mainnet``)."""
        n, grpc = self.settings.endpoints, self.settings.grpc
        rivals = self.server.world.rivals().label(self.world_config.competitors)
        if grpc:
            return f"sim ×{n} (loopback PubSub, {min(grpc, n)} gRPC), rivals {rivals}"
        return f"sim ×{n} (loopback PubSub), rivals {rivals}"

    @property
    def simulated(self) -> bool:
        return True

    @property
    def faucet(self) -> Faucet | None:
        return self if self.settings.accept_tx else None

    def fund(self, wallet: str, lamports: int, mint: str, amount: int) -> None:
        """The faucet: ``lamports`` and ``amount`` of ``mint`` to ``wallet`` (what a devnet
        airdrop is to a real trial)."""
        chain = self.server.chain
        chain.airdrop([wallet, lamports])
        chain.fund([wallet, mint, amount])

    def market(self) -> SourceMarket:
        """What the simulator's world holds: its pools, bases and prop AMMs."""
        return world_market(self.server.world)

    def config(self) -> dict[str, Any]:
        c = self.world_config
        return {
            "sim": {
                "seed": c.seed,
                "tokens": c.tokens,
                "pools": c.pools,
                "bases": c.bases,
                "endpoints": len(self.server.endpoints),
                "rivals": self.server.world.rivals().label(c.competitors),
                "prop_amms": len(self.server.world.prop_amms),
            },
            "endpoints": [],
            "sim_grpc": self.settings.grpc,
        }

    async def open(self) -> None:
        """The server starts: its endpoints (the last ``grpc`` of them over gRPC)."""
        infos = await self.server.start()
        first_grpc = len(infos) - self.settings.grpc
        self._endpoints = [
            Endpoint(i.name, i.ws_url, i.http_url, grpc=i.grpc_url if n >= first_grpc else None)
            for n, i in enumerate(infos)
        ]

    async def stop(self) -> None:
        await super().stop()
        await self.server.stop()
