"""The session's trading desk: its live executor (built at the start when it has a live
configuration), paper <-> live, the embedded simulator's faucet, the live wallet the
cycles are scored with, and the operator's orders and kill switch — each of the session's
inputs among these journaled before it is applied."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from storage.codec import Kind

from ..execution.core import ExecutorCore
from ..execution.keys import KeypairError, load_wallet
from ..execution.live import JournalLedger, LiveConfig, LiveExecutor
from ..market import PAPER_BALANCE

if TYPE_CHECKING:
    from ..session import FeedSession


class Desk:
    """Trading for ``host``: ``config``, its live configuration (None: paper only), and
    ``funded``, what the embedded simulator's faucet gave the wallet."""

    def __init__(self, host: FeedSession, config: LiveConfig | None) -> None:
        self.host = host
        self.config = config
        self.funded = ""
        if config is not None and config.keypair:  # our own arbitrage is not a rival's
            try:
                host.rivals.own.add(load_wallet(config.keypair).pubkey)
            except KeypairError:
                pass  # arming says why; until then its transactions cannot be ours

    def setup(self) -> None:
        """The live executor, when the session has a live configuration (the embedded
        simulator's URLs stand in for missing ones)."""
        host = self.host
        cfg = self.config
        if cfg is None or not host.base_mints:
            return
        endpoints = host.feeds.endpoints
        if host.feeds.simulated and endpoints:
            ep = endpoints[0]
            cfg = replace(cfg, rpc=cfg.rpc or ep.http, ws=cfg.ws or ep.ws)
            self.config = cfg
        if not cfg.blockhash_rpcs:  # the feeds' nodes: the blockhash read from each too
            hedge = tuple(e.http for e in endpoints if e.http)
            cfg = self.config = replace(cfg, blockhash_rpcs=hedge)
        # the UTC day's total across runs comes from the journal (no journal: live refused)
        ledger = (
            JournalLedger(host.journal, host.recorder)
            if host.journal is not None and host.recorder is not None
            else None
        )
        ex = host.ev.executor = LiveExecutor(
            ExecutorCore(
                cfg,
                host.base_mints[0],
                lambda: host.ev.graph,
                lambda: host.sink,
                sendable=host.ev.sendable,
                ledger=ledger,
            )
        )
        ex.core.on_landing = host.fees.on_landing
        # an order refused because a hop paid less than its quote: its pools are read
        # again at once through the trusted path (the state held may be stale)
        ex.core.on_stale = self.reconcile_now
        host.ev.on_link = self.on_link
        # the fast path builds on the state the session holds (its ingest's, now)
        ex.core.state_of = lambda pool: host.ingest.record(pool)

    def reconcile_now(self, pools: list[str]) -> None:
        """Read ``pools``' accounts again at once (the feeds' reconcile), when the session
        has sockets of its own."""
        pool = self.host.feeds.pool
        if pool is not None:
            pool.reconcile_now(pools)

    async def fund_from_faucet(self, lamports: int = 10 * 10**9, base: int = PAPER_BALANCE) -> str:
        """Give the live wallet SOL and base tokens from the embedded simulator's faucet
        (``--sim-accept-tx``): what a devnet airdrop is to a real trial. A message."""
        faucet = self.host.feeds.faucet
        if faucet is None or self.config is None:
            return ""
        try:
            w = load_wallet(self.config.keypair or "")
        except KeypairError as exc:
            return f"faucet: {exc}"
        faucet.fund(w.pubkey, lamports, self.host.base_mints[0], base)
        self.funded = f"faucet: {lamports / 1e9:g} SOL and {base:,} base units to {w.pubkey[:8]}…"
        return self.funded

    async def request_live(self) -> tuple[bool, str]:
        """Paper -> live, after the typed confirmation: every guard rail is checked again
        (the executor's ``arm``). A replay has no such capability."""
        host = self.host
        ex = host.ev.executor
        if ex is None:
            return False, (
                "this session has no live configuration: start it with --keypair, "
                "--send-rpc, --max-trade and --max-day"
            )
        if host.feeds.simulated and host.feeds.faucet is None:
            return False, (
                "the embedded simulator does not accept transactions: run with "
                "--sim-accept-tx to trade live against it"
            )
        ok, why = await ex.arm()
        if ok:
            host.ev.mode, host.ev.halted = "LIVE", False
            host.screen.stale()
        return ok, why

    def to_paper(self) -> None:
        """Live -> paper (immediate): live orders not yet sent are cancelled."""
        self.host.screen.stale()
        self.host.ev.to_paper()

    def live_checks(self) -> list[str]:
        """The guard rails, as the live confirmation screen lists them."""
        return self.host.ev.live_checks()

    def sync_wallet(self) -> None:
        """Before a live decision point (a turn, a frame's decision, the operator's order):
        when live was armed or disarmed or the wallet's token accounts changed, journal the
        wallet the cycles are scored with from now on (``WALLET``) and score them again."""
        moved = self.host.ev.wallet_moved()
        if moved is not None:
            self.on_wallet(*moved)

    def on_wallet(self, armed: bool, base: str, accounts: dict[str, bool]) -> None:
        """The live wallet the cycles are scored with (how many token accounts a cycle's
        transaction would create counts in its compute units): journaled as an input
        (``WALLET``), so a replay of a live session scores as it did."""
        self.host.put_input(Kind.WALLET, armed, base, accounts)
        self.host.ev.set_wallet(armed, base, accounts)

    def trade(self, base: str, pools: list[str]) -> str:
        """``x``: an order on the cycle now (paper; live too when live); why not, or ""."""
        host = self.host
        self.sync_wallet()
        host.put_input(
            Kind.TRADE, base, pools
        )  # the operator's decision is an input of the session
        host.screen.stale()
        return host.ev.trade(base, pools, host.slot)

    def on_link(self, seq: int, live_seq: int) -> None:
        """Paper order ``seq`` shadows live order ``live_seq``, which went out: journaled
        as an input (``LINK``), since whether a live order went out depends on the chain
        and the wallet, so a replay's paper fill names the live order as the session's did."""
        self.host.put_input(Kind.LINK, seq, live_seq)
        broker = self.host.ev.broker
        if broker is not None:
            broker.link(seq, live_seq)

    def kill(self) -> int:
        """Kill switch: back to paper, no automatic orders, pending ones cancelled."""
        self.host.put_input(Kind.KILL)
        self.host.screen.stale()
        return self.host.ev.kill()

    def resume(self) -> None:
        """Automatic orders again after the kill switch."""
        self.host.put_input(Kind.RESUME)
        self.host.screen.stale()
        self.host.ev.resume()
