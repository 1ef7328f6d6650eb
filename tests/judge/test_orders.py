"""Whole orders through the real programs: the live executor (``LiveExecutor``, driven
as the session drives it) sends the same orders to a simulator whose transactions run on
the real binaries of ``../shared/programs`` (``WorldConfig.programs``, ``arbscope sim
--programs``) and to one running its own Python programs, from the same seed: each
order must end the same on both — landed, or refused or failed with the same error —
with the same tokens received.

The orders are exactly what live sends: cycles of 1 to 5 hops through the base token,
as v0 messages through the wallet's lookup tables and without them, a legacy message of
the same instructions (built here, sent with ``sendTransaction``), a bundle of two
transactions where one cannot hold the cycle (``_split``), the Jito tip, and durable
transactions (``fees.tip_escalation``: a nonce account, its advance first). Before each
order one pool of the cycle is knocked off its price by the market (the same trade in
both worlds) so that the cycle pays; its size is the best of a few by the world's own
quote, which the session's graph must show before the order goes.

Both worlds hold still but for these trades: no traders, order books whose makers do not
move, and a clock that does not advance (a few microseconds a slot, so a DLMM pair's
volatility and an order's expiry are the same in both however many slots each run
takes); the servers' slots are 50 ms.

The venues: every group of :data:`GROUPS` runs the plan on a world holding its cycles.
The newest build of every program is loaded; a swap through a program without a binary
here (PumpSwap) or one the bank refuses at start (AMM v4's binary predates
``SwapBaseInV2``) runs on the Python programs in both; in a transaction that also swaps
through a binary's venue, that swap runs in the bank (the ``python`` group's Whirlpool
hops). Every other group compares the real programs with the simulator's: Whirlpool,
CP-Swap, Raydium CLMM, DLMM alone, and every binary's venue mixed (OpenBook, DAMM v2 and
Manifest among them).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from solders.hash import Hash
from solders.message import Message
from solders.transaction import VersionedTransaction

import engine_rs
from arbscope import sources
from arbscope.execution.compute import cycle_budget
from arbscope.execution.keys import write_keypair
from arbscope.execution.live import LiveConfig, LiveOrder
from arbscope.session import FeedSession, RecordSettings
from engine_rs.errors import EngineError
from engine_rs.records import FeeContext
from feeds.clients.rpc import RpcError
from feeds.sim.chain import BlockEngine
from feeds.sim.world import World, WorldConfig
from feeds.venues import VENUES
from tests.support.judge import programs
from tests.support.live import Opp, Score, finished, tick_until
from tests.support.truth import market_graph

pytestmark = pytest.mark.judge

# the venues whose swaps the real programs run (binaries here, not refused) and those
# whose transactions stay on the simulator's programs (AMM v4's build is refused at
# start; the session's fixture checks the bank agrees)
BANK_KINDS = frozenset(("whirlpool", "cpmm", "dlmm", "clmm", "openbook", "damm_v2", "manifest"))
PYTHON_KINDS = frozenset(("amm_v4", "pumpswap"))
# each group: which cycles belong to it, by their pools' kinds: the kinds its cycles
# may use, and what the cycle as a whole must hold
GROUPS: dict[str, tuple[frozenset[str], Callable[[Sequence[str]], bool]]] = {
    "whirlpool": (frozenset({"whirlpool"}), lambda kinds: True),
    "cpmm": (frozenset({"cpmm"}), lambda kinds: True),
    "clmm": (frozenset({"clmm"}), lambda kinds: True),
    "dlmm": (frozenset({"dlmm"}), lambda kinds: True),
    # several of the binaries' venues in one cycle (one hop: any of them)
    "mixed": (BANK_KINDS, lambda kinds: len(kinds) == 1 or len(set(kinds)) > 1),
    # a venue whose transactions stay on the simulator's programs, with Whirlpool's
    "python": (PYTHON_KINDS | {"whirlpool"}, lambda kinds: bool(set(kinds) & PYTHON_KINDS)),
}
# (hops, how it is sent); 1 hop: a single swap out of the base (its minimum, as live
# sets a cycle's last, is at least the amount in). The Whirlpool group (its binary runs
# on today's world) goes every way; the others each hop count once, the ``python``
# group durable and as a bundle too.
PLAN = (
    (1, "tables"),
    (1, "legacy"),
    (2, "tables"),
    (2, "legacy"),
    (3, "plain"),
    (3, "nonce"),
    (4, "bundle"),
    (4, "tip"),
    (5, "tables"),
    (5, "nonce"),
)
SHORT_PLAN = ((1, "legacy"), (2, "tables"), (3, "nonce"), (4, "bundle"), (5, "tables"))
PLANS = {g: PLAN if g == "whirlpool" else SHORT_PLAN for g in GROUPS}
# worlds searched, in order, for one holding cycles of every group for every hop count
# of its plan (few tokens, many pools: every venue has cycles of each length)
WORLDS = [dict(seed=s, tokens=t, pools=p) for t, p in ((4, 80), (5, 80)) for s in (2, 3, 4)]
STILL = dict(trades_per_slot=0, dislocation_rate=0.0, slot_seconds=1e-6, competitors=0)
SLOT_S = 0.05
CU_PRICE = 1_000


@dataclass(frozen=True, slots=True)
class Ended:
    """How an order ended, as the two simulators must agree on it."""

    group: str
    hops: int
    mode: str
    kinds: tuple[str, ...]
    status: str
    detail: str
    received: tuple[int, ...]  # each token's change in the wallet, in the cycle's order
    parts: int


def cycles(w: World, base: str, n: int, group: str) -> list[list[Any]]:
    """The first few simple cycles of ``n`` pools out of ``base`` (n == 1: a pool of the
    base) of ``group`` (:data:`GROUPS`), in a fixed order (by pool address)."""
    kinds, ok = GROUPS[group]
    by_mint: dict[str, list[Any]] = collections.defaultdict(list)
    for p in sorted(w.pools, key=lambda p: p.address):
        if p.kind in kinds:
            by_mint[p.mint_a].append(p)
            by_mint[p.mint_b].append(p)
    out: list[list[Any]] = []

    def walk(path: list[Any], tok: str) -> None:
        if len(out) >= 8:
            return
        if len(path) == n:
            if tok == base and ok([p.kind for p in path]):
                out.append(path)
            return
        for p in by_mint[tok]:
            if p in path:
                continue
            nxt = p.mint_b if tok == p.mint_a else p.mint_a
            if n > 1 and (nxt == base) != (len(path) == n - 1):
                continue
            walk([*path, p], nxt)

    if n == 1:  # one swap out of the base
        return [[p] for p in by_mint[base] if ok([p.kind])]
    walk([], base)
    return out


def world_for() -> tuple[WorldConfig, list[tuple[str, int, str, list[str]]]]:
    """The first world of :data:`WORLDS` with a cycle of each group for every hop count
    of its plan, and every order there: (group, hops, mode, the cycle's pool addresses),
    each cycle of pools no earlier order used where there is one. A failure names the
    groups the worlds tried cannot serve."""
    lacking: set[str] = set()
    for kw in WORLDS:
        cfg = WorldConfig(**{**kw, **STILL})  # type: ignore[arg-type]
        w = World(cfg)
        found = {(g, n): cycles(w, w.bases[0], n, g) for g in GROUPS for n, _ in PLANS[g]}
        missing = {g for (g, _), c in found.items() if not c}
        if missing:
            lacking |= missing
            continue
        used: set[str] = set()
        orders = []
        for g in GROUPS:
            for n, mode in PLANS[g]:
                cands = found[(g, n)]
                c = next((c for c in cands if not used & {p.address for p in c}), cands[0])
                used |= {p.address for p in c}
                orders.append((g, n, mode, [p.address for p in c]))
        return cfg, orders
    raise AssertionError(f"no world of WORLDS holds cycles of every hop count of {lacking}")


def tokens_of(pools: Sequence[Any], base: str) -> list[str]:
    out = [base]
    for p in pools:
        out.append(p.mint_b if out[-1] == p.mint_a else p.mint_a)
    return out


def world_quote(w: World, pools: Sequence[Any], tokens: Sequence[str], amount: int) -> list[int]:
    """Each hop's amounts by the world's own state and programs' math (a fee mint's
    transfer fees off the input and the output), as the engine quotes a cycle."""
    hops = [amount]
    for p, tin, tout in zip(pools, tokens, tokens[1:], strict=False):
        sent = hops[-1] - w.transfer_fee(tin, hops[-1])
        q = w.quote_swap(p, tin == p.mint_a, sent) if sent > 0 else None
        if q is None:
            return []
        hops.append(q.out - w.transfer_fee(tout, q.out))
    return hops


@asynccontextmanager
async def session(
    keyfile: Path, db: Path, world: WorldConfig, universe: Sequence[tuple[str, str]]
) -> AsyncIterator[FeedSession]:
    """A session on an embedded simulator of ``world`` (its server's slots of
    :data:`SLOT_S`) watching the pools of ``universe``, live armed with lookup tables
    (of those pools' accounts) and durable nonces (the Jito block engine on the
    simulator's own port, unlimited), orders sent by hand."""
    config = LiveConfig(
        keypair=str(keyfile),
        max_trade=10**15,
        max_day=10**16,
        max_slippage_bps=100,
        tip_lamports=2_000,
    )
    s = sources.session(
        sources.Watch(universe=universe, max_hops=2, seed=world.seed),
        sources.Evaluation(shadow=False, sweep_s=3600.0),
        sim=sources.SimSettings(world=world, endpoints=1, accept_tx=True),
        record=RecordSettings(db, batch_s=0.1),
        live=config,
    )
    assert s.feeds.server is not None
    s.feeds.server.slot_seconds = SLOT_S  # the server's slots; the world's clock holds still
    # the endpoint loses nothing: the simulator's profiles drop a share of notifications
    # as lossy nodes do (sim-fast 0.2 %), and with one endpoint a pool whose update was
    # dropped stays as it was until it changes again: the two worlds' sessions would then
    # size the same order from different states (which notification is lost depends on
    # how many were sent, so on the machine's speed)
    for ep in s.feeds.server.endpoints:
        ep.profile = replace(ep.profile, drop_rate=0.0, malformed_rate=0.0)
    for book in ("openbook_v2", "manifest"):
        for pool in s.feeds.server.world.venue_state.get(book, []):
            pool.spec.state.quiet = True  # the makers hold still, from the first slot
    await s.start()
    try:
        assert s.start_error == "" and s.ev.executor is not None
        s.feeds.server.chain.engines[""] = BlockEngine(rps=0)
        s.ev.executor.config = replace(
            s.ev.executor.config, jito=(str(s.feeds.endpoints[0].http),), tip_escalation=True
        )
        ok, why = await s.desk.request_live()
        assert ok, why
        s.ev.broker.auto = False  # type: ignore[union-attr]
        yield s
    finally:
        await s.stop()


def _mode(s: FeedSession, mode: str, tables: Any) -> None:
    """The executor set up to send as ``mode`` says."""
    ex = s.ev.executor
    assert ex is not None
    engines = (str(s.feeds.endpoints[0].http),) if mode in ("bundle", "tip", "nonce") else ()
    ex.config = replace(ex.config, jito=engines, tip_escalation=mode == "nonce")
    ex.core.tables = tables if mode in ("tables", "tip", "nonce", "legacy") else None


def _balances(s: FeedSession, tokens: Sequence[str]) -> list[int]:
    assert s.feeds.server is not None and s.ev.executor is not None
    w = s.feeds.server.world
    out = []
    for t in tokens:
        acc = w.token_account(s.ev.executor.core.ata(t))
        out.append(0 if acc is None else acc.amount)
    return out


async def _legacy(s: FeedSession, order: LiveOrder) -> tuple[str, str, int]:
    """The order's instructions as live builds them, in a legacy message sent with
    ``sendTransaction`` (preflight on): (status, detail, parts)."""
    ex = s.ev.executor
    assert ex is not None and ex.core.wallet is not None and s.feeds.server is not None
    ixs, _, _, _ = await ex.builder.build(order, CU_PRICE)
    bh, _ = await ex.core.latest_blockhash(force=True)
    msg = Message.new_with_blockhash(ixs, ex.core.wallet.keypair.pubkey(), Hash.from_string(bh))
    tx = VersionedTransaction(msg, [ex.core.wallet.keypair])
    try:
        sig = await ex.core.client().send_transaction(
            base64.b64encode(bytes(tx)).decode(), skip_preflight=False
        )
    except RpcError as exc:
        return "refused", re.sub(r"^sendTransaction at \S+: ", "", str(exc)), 1
    chain = s.feeds.server.chain
    await tick_until(s, lambda: sig in chain.statuses, timeout=30)
    err = chain.statuses[sig][1]
    return ("confirmed", "", 1) if err is None else ("failed", str(err), 1)


async def run_orders(
    keyfile: Path, db: Path, world: WorldConfig, orders: Sequence[tuple[str, int, str, list[str]]]
) -> list[Ended]:
    """``orders`` (group, hops, mode, the cycle's pools) on a session of ``world``: each
    order's end."""
    out: list[Ended] = []
    kinds_of = {p.address: p.kind for p in World(world).pools}
    universe = sorted({(a, kinds_of[a]) for *_, c in orders for a in c})
    async with session(keyfile, db, world, universe) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        bank = s.feeds.server.chain.bank
        if bank is not None:  # the venues the real programs run are the ones said above
            ran = {
                v.kind for v in VENUES if v.program in bank.loaded and v.program not in bank.refused
            }
            assert ran == BANK_KINDS, bank.refused
        ex, w = s.ev.executor, s.feeds.server.world
        tables = ex.core.tables
        base = s.base_mints[0]
        graph = ex.core.graph()
        for group, hops, mode, addresses in orders:
            pools = [w.by_address[a] for a in addresses]
            tokens = tokens_of(pools, base)
            # knock the first pool: the market sells its output token into it
            first = pools[0]
            a_to_b = tokens[1] == first.mint_a

            done: list[tuple[int, Any]] = []  # (the slot, its trade or None)

            def knock(
                world: Any,
                pool: Any = first,
                a_to_b: bool = a_to_b,
                done: list[tuple[int, Any]] = done,
            ) -> list[Any]:
                world.script = None
                t = world.swap(pool, a_to_b, world._trade_size(pool, a_to_b, 0.05))
                done.append((world.slot, t))  # None: past its liquidity, nothing traded
                return [t] if t is not None else []

            w.script = knock
            await tick_until(s, done.__len__)
            knocked, trade = done[0]
            # the size: the best of a few by the world's quote (else the smallest)
            depth = max(1, w._trade_size(first, not a_to_b, 1.0))
            sizes = [max(1, depth * k // 100_000) for k in (1, 3, 10, 30, 100, 300, 1_000)]
            best = (0, sizes[0])
            for a in sizes:
                q = world_quote(w, pools, tokens, a)
                if q and q[-1] - a > best[0]:
                    best = (q[-1] - a, a)
            amount = best[1]
            key = [p.address for p in pools]

            # the session's graph has the knocked pool and every account of that slot
            # (one endpoint: its notifications come in order; a knock past the pool's
            # liquidity traded nothing)
            def caught_up(
                first: str = first.address, knocked: int = knocked, seen: bool = trade is not None
            ) -> bool:
                return int(graph.slot) > knocked and (
                    not seen or int(graph.pool_rate(first)[4]) >= knocked
                )

            def engine_quote(key: list[str] = key, amount: int = amount) -> list[int]:
                try:
                    return [int(x) for x in graph.quote(key, base, amount)]
                except EngineError:  # the executor refuses it the same way
                    return []

            # and every pool of the cycle as the world holds it now: an earlier order's
            # trade through one of them (a cycle reused where the world has too few) may
            # still be on its way to the session on a busy machine, and an order sized by
            # an older state sends other amounts in each world. The engine quotes the
            # cycle as the world's own math does once it has caught up
            expect = world_quote(w, pools, tokens, amount)
            try:
                await tick_until(
                    s, lambda e=expect: caught_up() and engine_quote() == e, timeout=30
                )
            except AssertionError:
                feeds = (s.health.feeds(), s.ingest.stats())
                try:  # the world's accounts as they are, every array held
                    truth: Any = market_graph(engine_rs.backend(), w).quote(key, base, amount)
                except EngineError as exc:
                    truth = exc
                raise AssertionError(
                    f"{group} {mode} {key}: the engine quotes {engine_quote()}, "
                    f"its accounts now {truth}, "
                    f"the world {expect}; rates {[graph.pool_rate(a) for a in key]}; "
                    f"feeds {feeds}; knocked at {knocked} ({trade})"
                ) from None
            want = engine_quote()
            assert want or mode != "legacy", "the engine cannot quote the cycle"
            _mode(s, mode, tables)
            # a blockhash cached as live caches it (20 s) outlives 150 of these short
            # slots; at mainnet's 400 ms it would be fresh: read a new one per order
            ex._blockhash = None
            before = _balances(s, tokens)
            kinds = tuple(p.kind for p in pools)
            if mode == "legacy":
                order = LiveOrder(
                    0, "manual", (base, tuple(key)), tokens, key, list(kinds), amount, want
                )
                status, detail, parts = await _legacy(s, order)
            else:
                opp = Opp(base, tuple(key), tuple(tokens), kinds, amount)
                fees = FeeContext(cycle_budget(kinds).limit, CU_PRICE)  # as a session prices it
                why = ex.submit(opp, Score(), fees, (), "manual")
                if why:  # refused before anything was built (a hop that cannot fill)
                    status, detail, parts = "refused", why, 0
                else:
                    end = await finished(s, ex.seq, timeout=60)
                    status, detail, parts = end.status, end.detail, end.parts
            after = _balances(s, tokens)
            detail = re.sub(r"slot \d+", "slot N", detail)
            out.append(
                Ended(
                    group,
                    hops,
                    mode,
                    kinds,
                    status,
                    detail,
                    tuple(a - b for a, b in zip(after, before, strict=True)),
                    parts,
                )
            )
        stats = s.feeds.server.chain.stats
        print(
            f"\n{'the real programs' if world.programs else 'the simulator'}: {stats.bank_split()}"
        )
        if world.programs:  # the Whirlpool hops of the python group's mixed transactions
            assert stats.mixed > 0 and stats.bank_instructions >= stats.mixed
    return out


@pytest.fixture(scope="module")
def ended(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Ended, Ended]]]:
    """Every order of every group, on the simulator without and with the real programs
    (both at once: each its own simulator, and the orders wait on slots, not on the CPU):
    per group, the pairs of ends."""
    folder = programs()
    tmp = tmp_path_factory.mktemp("orders")
    keyfile = tmp / "keys" / "live.json"
    keyfile.parent.mkdir()
    write_keypair(keyfile)
    world, orders = world_for()

    async def both() -> tuple[list[Ended], list[Ended]]:
        mine, real = await asyncio.gather(
            run_orders(keyfile, tmp / "a.sqlite", world, orders),
            run_orders(keyfile, tmp / "b.sqlite", replace(world, programs=str(folder)), orders),
        )
        return mine, real

    mine, real = asyncio.run(both())
    out: dict[str, list[tuple[Ended, Ended]]] = {g: [] for g in GROUPS}
    for a, b in zip(mine, real, strict=True):
        out[a.group].append((a, b))
        print(
            f"{'=' if a == b else '≠'} {a.group:<9} {b.hops} {'·'.join(b.kinds):<40} "
            f"{b.mode:<7} {a.status:<9} {b.status:<9} {b.detail[:70]}"
        )
    return out


@pytest.mark.parametrize("group", list(GROUPS))
def test_the_same_orders_end_the_same_on_the_real_programs(
    group: str, ended: dict[str, list[tuple[Ended, Ended]]]
) -> None:
    """The plan's orders on cycles of ``group``, on the simulator with the real programs
    and on the one without: the same end for each (landed, or the same error), the same
    tokens received."""
    pairs = ended[group]
    assert len(pairs) == len(PLANS[group])
    mine = [a for a, _ in pairs]
    real = [b for _, b in pairs]
    assert any(e.status == "confirmed" for e in mine), mine  # orders went out and landed
    assert real == mine
