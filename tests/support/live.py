"""A live session on the simulator and the waits on it: arming, ticking the session
until a condition holds, an order until it ended, and what landed on the chain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from arbscope import sources
from arbscope.execution.live import LiveConfig
from arbscope.session import FeedSession, RecordSettings
from feeds.sim.chain import BlockEngine
from feeds.sim.world import WorldConfig
from feeds.venues import VENUES
from tests.support.hostile import until

CAPS = {"max_trade": 10**12, "max_day": 10**13}

VENUE_PROGRAMS = {p for v in VENUES for p in v.ids.program_ids}


def quiet(seed: int) -> WorldConfig:
    """A market that only moves when a test knocks a pool off its price; of the first
    three venues only (``venue_mix`` off): the orders' hops are checked by hand on the
    specs' curves, and a 3-hop route through a DLMM pair (15 accounts and its bin
    arrays) does not fit a packet without an address lookup table."""
    return WorldConfig(
        seed=seed, slot_seconds=0.1, trades_per_slot=0, dislocation_rate=0.0, venue_mix=False
    )


@asynccontextmanager
async def live_session(
    keyfile: Path,
    seed: int = 11,
    accept: bool = True,
    db: Path | None = None,
    world: WorldConfig | None = None,
    max_hops: int = 3,
    **cfg: Any,
) -> AsyncIterator[FeedSession]:
    config = LiveConfig(keypair=str(keyfile), **{**CAPS, **cfg})
    # always recorded (db None: the test's own journal): the day's total lives there
    sim_config = world if world is not None else quiet(seed)
    s = sources.session(
        sources.Watch(max_hops=max_hops, seed=seed),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(world=sim_config, endpoints=1, accept_tx=accept),
        record=RecordSettings(db, batch_s=0.1),
        live=config,
    )
    await s.start()
    assert s.start_error == ""
    try:
        yield s
    finally:
        await s.stop()


async def tick_until(s: FeedSession, cond: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Take the session's turns until ``cond()`` holds; its value."""
    got: Any = None

    def turn() -> Any:
        nonlocal got
        s.tick()
        got = cond()
        return got

    try:
        await until(turn, timeout)
    except TimeoutError:
        raise AssertionError("timed out") from None
    return got


async def settled(s: FeedSession) -> None:
    """Wait until the session holds every account it watches as the world holds it now
    (those bytes, or a state of a later slot), and has read a slot past the world's
    current one. Call it after stopping whatever moved the market (a script,
    dislocations): on a busy machine the world may have stepped (and knocked a pool
    again) between the session seeing a GO and the test stopping the knocks, and an order
    quoted from the older state would land other than it quoted. The slot alone is not
    enough: the session had read the slot after the last knock's while it still held the
    knocked pool as of two slots before (the fee-mint test's ``dlmm·cpmm`` case, one run
    in two on a quiet machine)."""
    assert s.feeds.server is not None
    w = s.feeds.server.world
    last = w.slot
    ingest = s.ingest
    accounts = w.accounts
    now = [
        (k, accounts[k].owner, bytes(accounts[k].data)) for k in ingest.watched() if k in accounts
    ]

    def holds() -> bool:
        # (0: nothing held of it, nothing the graph reads either)
        return s.slot > last and all(
            h is None or h[1] or h[0] == 0 or h[0] > last for h in ingest.compare(now)
        )

    await tick_until(s, holds)


async def knock_until(
    s: FeedSession,
    knock: Callable[[Any], list[Any]],
    pick: Callable[[], Any],
    timeout: float = 20.0,
) -> Any:
    """Run ``knock`` as the world's script (each slot) until ``pick()`` holds, stop it,
    let the session read what the last knocks wrote (:func:`settled`) and pick again
    from that state (knocking again if the pick is gone): what the test trades is
    quoted from the state the chain has."""
    assert s.feeds.server is not None
    w = s.feeds.server.world
    for _ in range(5):
        w.script = knock
        try:
            await tick_until(s, pick, timeout)
        finally:
            w.script = None
        await settled(s)
        got = pick()
        if got:
            return got
    raise AssertionError("the pick never held once the knocks stopped")


@dataclass(frozen=True, slots=True)
class Opp:
    """What ``LiveExecutor.submit`` reads of an opportunity (an order placed by hand, on
    a cycle the session need not index: longer than its ``max_hops``, or one it would
    not open)."""

    base_mint: str
    pools: tuple[str, ...]
    tokens: tuple[str, ...]
    kinds: tuple[str, ...]
    amount_in: int


@dataclass(frozen=True, slots=True)
class Score:
    net_profit: int = 0


async def knock_into_go(s: FeedSession, target: Any, pools: set[str]) -> Any:
    """Knock ``target`` (a swap a to b of 2 % of its depth each slot, :func:`knock_until`)
    until the cycle of the first base mint through exactly ``pools`` is a GO: its
    ``(opportunity, decision)``."""

    def knock(world: Any) -> list[Any]:
        t = world.swap(target, True, world._trade_size(target, True, 0.02))
        return [] if t is None else [t]

    def pick() -> Any:
        return next(
            (
                v
                for k, v in sorted(s.live.items())
                if v[1].go and k[0] == s.base_mints[0] and set(k[1]) == pools
            ),
            None,
        )

    return await knock_until(s, knock, pick)


async def go_cycle(s: FeedSession) -> tuple[Any, Any]:
    """Knock pools off their price until the scorer says GO for a cycle (picked once
    the knocks stopped and the session read their last slot)."""
    assert s.feeds.server is not None
    w = s.feeds.server.world
    base = w.config

    def pick() -> Any:
        return next(
            (v for k, v in sorted(s.live.items()) if v[1].go and k[0] == s.base_mints[0]), None
        )

    for _ in range(5):
        w.config = replace(base, dislocation_rate=1.0)
        try:
            await tick_until(s, pick)
        finally:
            w.config = base
        await settled(s)
        got = pick()
        if got:
            return got  # type: ignore[no-any-return]
    raise AssertionError("no GO cycle held once the knocks stopped")


def record_landings(s: FeedSession) -> dict[str, tuple[Any, ...]]:
    """Wrap the simulator's landing step: the pools and accounts just before and just
    after each slot's transactions ran, by signature."""
    assert s.feeds.server is not None
    chain, w = s.feeds.server.chain, s.feeds.server.world
    seen: dict[str, tuple[Any, ...]] = {}
    land = chain.land

    def wrapped(slot: int, *rest: Any) -> Any:
        pools = {p.address: replace(p.spec) for p in w.pools}
        accounts = {k: (a.lamports, a.data) for k, a in w.accounts.items()}
        out = land(slot, *rest)
        after_pools = {p.address: replace(p.spec) for p in w.pools}
        after = {k: (a.lamports, a.data) for k, a in w.accounts.items()}
        for tx in out:
            seen[tx.signature] = (pools, accounts, after_pools, after, tx)
        return out

    chain.land = wrapped  # type: ignore[method-assign]
    return seen


def amount(accounts: dict[str, tuple[int, bytes]], key: str) -> int:
    return int.from_bytes(accounts[key][1][64:72], "little") if key in accounts else 0


def hop_by_hand(
    eng: Any, spec: Any, token_in: str, amount_in: int, kept: int = 0
) -> tuple[int, Any]:
    """(output, new state) of an exact-in swap through the pool's exact curve; ``kept``:
    what the program keeps of the input outside the reserves (CP-Swap's protocol and
    fund fees)."""
    a_to_b = token_in == spec.mint_a
    if spec.kind == "cpmm":
        rin, rout = (spec.reserve_a, spec.reserve_b) if a_to_b else (spec.reserve_b, spec.reserve_a)
        out = eng.cpmm_amount_out(amount_in, rin, rout, spec.fee_num, spec.fee_den)
        grown = rin + amount_in - kept
        return out, ((grown, rout - out) if a_to_b else (rout - out, grown))
    r = eng.orca_whirlpool.swap(*spec.curve(), amount_in, a_to_b)
    assert r.amount_in == amount_in
    return r.amount_out, (r.sqrt_price_x64, r.tick_current, r.liquidity)


def sent(s: FeedSession) -> int:
    """The transactions sent to the simulator other than the wallet's lookup tables' (made
    when live is armed, extended between orders): the orders' own."""
    from feeds.wire.alt import ALT_PROGRAM

    assert s.feeds.server is not None
    chain = s.feeds.server.chain
    txs = [st.tx for st in chain.ledger.values()] + [
        t for p in chain.pending for t in p.txs if p.bundle is None
    ]
    tables = sum(1 for t in txs if ALT_PROGRAM in {str(k) for k in t.message.account_keys})
    return chain.stats.sent - tables


async def finished(s: FeedSession, seq: int, timeout: float = 20.0) -> Any:
    ex = s.ev.executor
    assert ex is not None
    terminal = {"confirmed", "failed", "expired", "unknown", "refused", "cancelled", "error"}
    return await tick_until(
        s,
        lambda: next((o for o in ex.orders if o.seq == seq and o.status in terminal), None),
        timeout,
    )


def block_engines(s: Any, **regions: BlockEngine) -> tuple[str, ...]:
    """Point the executor at the simulator's block engines ``regions``."""
    assert s.feeds.server is not None and s.ev.executor is not None
    s.feeds.server.chain.engines.update(regions)
    base = s.feeds.endpoints[0].http.rstrip("/")
    urls = tuple(f"{base}/{r}" for r in regions)
    s.ev.executor.config = replace(s.ev.executor.config, jito=urls)
    return urls
