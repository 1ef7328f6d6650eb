"""The market driver: a real node's market made to live, as the simulator's lives
(``arbscope node drive --rpc URL --market DIR``; ``arbscope node --market DIR --drive``).

A market ``arbscope sim --export`` wrote (:mod:`feeds.sim.export`) stands still on a
validator: nobody trades. The driver trades it with real signed swaps through the real
programs, against any JSON-RPC URL, as the simulator's world trades its own
(:mod:`feeds.sim.world`):

- **Fair prices.** Each token's hidden fair price starts where the export's world put it
  and moves as a geometric Brownian motion with jumps (the world's ``volatility`` and
  ``jump_rate``), on the wall clock.
- **Noise traders** swap a small random amount one way or the other (a move of the
  pool's price of 0.004 % to 0.16 %), **arbitrageurs** (``arbitrageur_share`` of the
  trades) swap a pool that is off its fair price by more than 5 bps back about half of
  the way, and now and then (``dislocation_rate`` a world slot) a **large trade** knocks a
  pool 0.8 % to 2.4 % off its price: a real cycle opens.
- **Rivals** (the ``rival-N`` wallets) look for cycles on the engine's own graph
  (``PoolGraph.cycles`` from the base tokens, at most three hops) and send each paying
  one as one transaction: every hop the venue's own swap instruction, each hop's minimum
  what the next spends (less ``HOP_SLACK``; an order book's buy exactly its quote), the
  last one's the input plus the fee, a priority fee, a v0 message through the rival's
  lookup tables (written at genesis by the export). ``rival-0`` acts on gaps of
  ``rival_gap_bps`` every round; each further one on wider gaps, every other round.

Every swap is built by arbscope's own instruction builders (``feeds.venues``: the
venue's ``swap_instruction(Leg)``), but Raydium AMM v4's, which is ``SwapBaseIn``
(tag 9; :func:`feeds.sim.export.hop_instruction`): the only public binary predates
``SwapBaseInV2``. Amounts are the engine's: each round the driver reads every account the
engine watches for the market's pools (pools, vaults, mints, arrays, configs, the Clock)
with ``getMultipleAccounts`` at ``processed`` and ``minContextSlot`` (never an older
state than it saw), feeds them to a ``FeedIngest`` and its ``PoolGraph``, prices each pool
(``pool_rate``) and sizes each trade by the graph's exact ``quote``.

**Order books are left to be eaten.** The exported OpenBook and Manifest books are the
simulator's makers' orders, written whole; their owners have no keys, and requoting
needs each maker's accounts on the program (OpenBook open-orders accounts, Manifest
seats) and maker instructions arbscope has no builder for. So the books on a node are
what the export left: traders and rivals take from them (some of their orders expire),
nobody requotes, and their prices lag the fair price. Venues without a usable binary are
not on the node at all (PumpSwap: the export leaves its pools out).

It never dies on the node: a refused or failed transaction is counted, a slow or
absent answer makes it skip the round, and it goes on. :class:`Tally` counts what it
sent, what landed, what failed by program error (by venue and error) and what the node
refused or dropped; ``--stats FILE`` writes it (JSON) every few seconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.transaction import VersionedTransaction

import engine_rs
from engine_rs.errors import EngineError

from .. import venues
from ..clients.rpc import RpcClient, RpcError
from ..wire import instructions as I
from ..wire.alt import table_account
from ..wire.tokens import BY_SYMBOL
from ..wire.txsize import PACKET_DATA_SIZE
from .export import Market, hop_instruction, wallet_keypair
from .world import World

log = logging.getLogger("arbscope.driver")

MAX_ACCOUNTS = 100  # keys per getMultipleAccounts
MAX_STATUSES = 256  # signatures per getSignatureStatuses
MAX_HOPS = 3
HOP_SLACK = 3  # bps: a rival's hop asks this much less than the next spends
MIN_GAP = 0.0005  # an arbitrageur leaves a pool closer than this (log) to its fair price
BLOCKHASH_BLOCKS = 150  # a blockhash's last valid block height is this past the newest
SWAP_MARGIN_UNITS = 60_000  # compute units asked beyond the venue's model (Token-2022)
BASE_FEE = 5_000
ARRAYS_EACH_SIDE = 2  # followed arrays on each side of a pool's price (a client's default)
FULL_EVERY = 10  # rounds: every account read again (else the pools' own and what moved)
SYSVAR_CLOCK = "SysvarC1ock11111111111111111111111111111111"
MAX_ACCOUNT_BYTES = 10 * 1024 * 1024  # the largest account a node holds
_ZSTD = zstandard.ZstdDecompressor()
SOL_MINT = BY_SYMBOL["SOL"].mint  # wrapped SOL: its base unit is the lamport


@dataclass(frozen=True, slots=True)
class DriverConfig:
    """How the driver trades (see the module doc); None: the market's world config's."""

    rate: float = 8.0  # the market's own swaps a second (noise traders and arbitrageurs)
    period_s: float = 0.4  # a round: read, price, trade, follow
    dislocation_rate: float | None = None  # per world slot (its ``slot_seconds``)
    arbitrageur_share: float | None = None
    volatility: float | None = None  # of the fair prices, per sqrt(hour)
    jump_rate: float | None = None  # per token per world slot
    rivals: int = 2  # how many rival wallets trade (at most the market's)
    rival_gap_bps: float = 5.0  # rival-0's smallest gap; each further one's twice the last
    seed: int | None = None  # its draws (None: the market's seed)
    max_inflight: int = 400  # transactions followed at once; past it, fewer are sent


@dataclass(slots=True)
class Tally:
    """What the driver did (``--stats FILE`` writes it): transactions sent by role
    (``trade``, ``arbitrage``, ``dislocation``, ``rival``), landed (ok), failed by
    program error (``"<venue> <error>"``), refused by the node at sending, dropped (no
    status once its blockhash expired); the swaps landed by venue kind and by pool, the first
    signature of each failure; the transactions not sent for being over a packet's size;
    rounds, rounds skipped (the node slow or down), the last slot read and the pools
    priced; its own problems (none expected) and the node's (no answer, an error)."""

    sent: Counter[str] = field(default_factory=Counter)
    landed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    venues: Counter[str] = field(default_factory=Counter)  # landed swaps by venue kind
    traded: Counter[str] = field(default_factory=Counter)  # landed swaps by pool address
    examples: dict[str, str] = field(default_factory=dict)  # a failure -> its first signature
    dropped: int = 0
    too_big: int = 0
    rounds: int = 0
    skipped: int = 0
    slot: int = 0
    pools: int = 0
    started: float = field(default_factory=time.time)
    # what went wrong on the driver's side (an account it could not decode, a swap it
    # could not build or compile): none expected
    problems: Counter[str] = field(default_factory=Counter)
    # what the node did not answer (a timeout, an error: a node slow or down), by call
    node: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> str:
        d: dict[str, Any] = {
            k: dict(v) if isinstance(v, Counter) else v
            for k, v in ((f, getattr(self, f)) for f in self.__dataclass_fields__)
        }
        d["totals"] = {
            "sent": sum(self.sent.values()),
            "landed": sum(self.landed.values()),
            "failed": sum(self.failed.values()),
            "refused": sum(self.refused.values()),
        }
        return json.dumps(d, indent=1, sort_keys=True)

    def line(self) -> str:
        """One line: the totals and the commonest failures."""
        fails = ", ".join(f"{k} {n}" for k, n in self.failed.most_common(4))
        return (
            f"driver: slot {self.slot}, {self.rounds} rounds ({self.skipped} skipped), "
            f"sent {sum(self.sent.values())}, landed {sum(self.landed.values())}, "
            f"failed {sum(self.failed.values())}" + (f" ({fails})" if fails else "") + ", "
            f"refused {sum(self.refused.values())}, dropped {self.dropped}"
        )


@dataclass(slots=True)
class _Sent:
    role: str
    kinds: tuple[str, ...]  # each instruction's venue kind ("" for another program)
    last_valid: int  # the block height past which its blockhash is not valid
    pools: tuple[str, ...]
    wallet: str


@dataclass(slots=True)
class _Trade:
    role: str
    wallet: str
    ixs: list[Instruction]
    kinds: tuple[str, ...]
    pools: tuple[str, ...]


class Driver:
    """Trades a node's market (see the module doc). ``run`` until stopped."""

    def __init__(
        self,
        rpc_url: str,
        folder: str | Path,
        config: DriverConfig | None = None,
        market: Market | None = None,
    ) -> None:
        self.url = rpc_url
        self.folder = Path(folder)
        self.market = market if market is not None else Market.read(folder)
        self.config = c = config or DriverConfig()
        wc = self.market.world_config()
        self.world_config = wc
        self.world = World(wc)  # the export's world at slot 0: pools, mints, fair prices
        self.eng = engine_rs.backend()
        self.rng = random.Random(wc.seed * 7_727 + 11 if c.seed is None else c.seed)
        on_node = {a for a, _ in self.market.pools}
        self.pools = {p.address: p for p in self.world.pools if p.address in on_node}
        self.fair = dict(self.world.fair)
        self.token_programs = dict(self.world.token_programs)
        self.keys = {
            name: wallet_keypair(wc.seed, name)
            for name in self.market.wallets
            if name.startswith(("trader-", "rival-"))
        }
        self.traders = sorted(n for n in self.keys if n.startswith("trader-"))
        self.rivals = sorted(n for n in self.keys if n.startswith("rival-"))[: max(0, c.rivals)]
        self.tally = Tally()
        self.graph = self.eng.PoolGraph(base_mints=list(self.market.bases), max_hops=MAX_HOPS)
        self.ingest = self.eng.FeedIngest(self.graph, 65_536, 64)
        for p in self.pools.values():
            self.ingest.track_pool(p.address, p.kind)
            for ta in p.tick_arrays:
                self.ingest.track_array(ta, p.address)
        self.raw: dict[str, bytes] = {}  # the accounts read last, by address
        self.array_of: dict[str, tuple[str, int]] = {}  # followed array -> (pool, start)
        # what every round reads: the pools' accounts, their vaults and the Clock
        self.heads = {SYSVAR_CLOCK}
        for p in self.pools.values():
            self.heads |= {p.address, p.vault_a, p.vault_b}
        self.slot = 0
        self.blockhash = ""
        self.last_valid = 0  # the blockhash's last valid block height
        self.height = 0  # the node's block height, as its newest blockhash says
        self.tables: dict[str, list[AddressLookupTableAccount]] = {}
        self.inflight: dict[str, _Sent] = {}
        self.busy: dict[str, float] = {}  # pool -> until when a rival leaves it alone
        self._last_fair = time.monotonic()
        self._round = 0
        self.stop = asyncio.Event()

    # ------------------------------------------------------------ the node
    async def _accounts(self, rpc: RpcClient, keys: Sequence[str]) -> dict[str, Any] | None:
        """``keys`` at ``processed``, no older than the last slot seen; None when the
        node did not answer (the round is skipped)."""
        cfg = {"encoding": "base64+zstd", "commitment": "processed", "minContextSlot": self.slot}
        chunks = [list(keys[i : i + MAX_ACCOUNTS]) for i in range(0, len(keys), MAX_ACCOUNTS)]
        try:
            answers = await asyncio.gather(
                *(rpc.call("getMultipleAccounts", [c, cfg]) for c in chunks)
            )
        except RpcError as exc:
            self.tally.node[_problem(exc)] += 1
            return None
        out: dict[str, Any] = {}
        slot = self.slot
        for chunk, res in zip(chunks, answers, strict=True):
            try:
                slot = max(slot, int(res["context"]["slot"]))
                for k, v in zip(chunk, res["value"], strict=True):
                    out[k] = v
            except (KeyError, TypeError, ValueError):
                self.tally.node["bad getMultipleAccounts answer"] += 1
                return None
        self.slot = slot
        return out

    async def _read(self, rpc: RpcClient) -> bool:
        """The market read and fed to the ingest (the graph at the slot read); False when
        the node did not answer. Every :data:`FULL_EVERY` rounds every account the
        ingest watches; in between the pools' own accounts and vaults (every swap
        writes them), then what else a pool whose accounts changed names (its arrays,
        its book's sides: up to 120 KB each, not read again while nobody trades it)."""
        if self._round % FULL_EVERY == 1 or not self.raw:
            for _ in range(6):  # pools, then what they name, then their mints: until it holds
                keys = self.ingest.watched()
                got = await self._accounts(rpc, keys)
                if got is None:
                    return False
                self._feed(got)
                if set(self.ingest.watched()) <= set(got):
                    break
        else:
            heads = [k for k in self.ingest.watched() if k in self.heads]
            got = await self._accounts(rpc, heads)
            if got is None:
                return False
            moved = {
                pool for k, data in self._feed(got).items() for _, pool in self.ingest.roles(k)
            }
            tails = [
                k
                for k in self.ingest.watched()
                if k not in self.heads and any(p in moved for _, p in self.ingest.roles(k))
            ]
            if tails:
                more = await self._accounts(rpc, tails)
                if more is None:
                    return False
                self._feed(more)
        new = self._follow_arrays()
        if new:
            got = await self._accounts(rpc, new)
            if got is None:
                return False
            self._feed(got)
        self.tally.slot = self.slot
        return True

    def _absent(self, key: str) -> dict[str, Any] | None:
        """A followed array the node does not hold (nobody initialized it) as its
        program reads it (``Venue.absent``: a Whirlpool, a zeroed tick array), in the
        form of a read account; None for anything else."""
        where = self.array_of.get(key)
        if where is None:
            return None
        absent = venues.by_kind(self.pools[where[0]].kind).absent
        made = None if absent is None else absent(where[1], where[0])
        if made is None:
            return None
        return {"owner": made[0], "data": [base64.b64encode(made[1]).decode(), "base64"]}

    def _follow_arrays(self) -> list[str]:
        """The arrays around each pool's price that its venue follows (``Venue.follow``:
        a Whirlpool's tick arrays, a CLMM's, a DLMM pair's bin arrays), tracked as a
        client keeps them (``feeds.clients.pool``); those newly tracked, to read now."""
        new: list[str] = []
        for address, p in self.pools.items():
            venue = venues.by_kind(p.kind)
            if venue.follow is None:
                continue
            got = self.ingest.record(address)
            if got is None:
                continue
            try:
                arrays = venue.follow(self.eng, address, got[1], ARRAYS_EACH_SIDE)
            except (EngineError, ValueError, KeyError, TypeError):
                continue
            for ta, start in arrays:
                if ta not in self.array_of:
                    self.array_of[ta] = (address, start)
                    self.ingest.track_array(ta, address)
                    new.append(ta)
        return new

    def _feed(self, got: dict[str, Any]) -> dict[str, bytes]:
        """Accounts read fed to the ingest at the slot read; those whose bytes changed."""
        self.graph.set_slot(self.slot)
        changed: dict[str, bytes] = {}
        for k, v in got.items():
            if v is None:
                v = self._absent(k)
                if v is None:
                    continue
            try:
                data = _unpack(v["data"])
                if self.raw.get(k) != data:
                    changed[k] = data
                self.raw[k] = data
                self.ingest.account(k, v["owner"], data, self.slot)
            except (EngineError, KeyError, TypeError, ValueError, zstandard.ZstdError) as exc:
                self.tally.problems[f"account {k[:8]}: {type(exc).__name__}"] += 1
        self.ingest.take_changed()
        return changed

    async def _setup(self, rpc: RpcClient) -> None:
        """The node's epoch schedule (Token-2022 fees by epoch) and the rivals' tables."""
        sched = await rpc.get_epoch_schedule()
        self.ingest.set_epoch_schedule(
            sched.slots_per_epoch, sched.warmup, sched.first_normal_epoch, sched.first_normal_slot
        )
        for name in self.rivals:
            addresses = self.market.tables.get(name, [])
            got = await rpc.get_multiple_accounts(addresses, "processed") if addresses else {}
            held = []
            for a in addresses:
                acc = got.get(a)
                if acc is not None:
                    held.append(table_account(a, acc.data))
            self.tables[name] = held

    async def _blockhash(self, rpc: RpcClient) -> bool:
        try:
            self.blockhash, self.last_valid = await rpc.get_latest_blockhash("confirmed")
            self.height = max(self.height, self.last_valid - BLOCKHASH_BLOCKS)
            return True
        except RpcError as exc:
            self.tally.node[_problem(exc)] += 1
            return False

    # ------------------------------------------------------------ prices
    def _move_fair(self) -> float:
        """The fair prices moved by the time since the last move (GBM with jumps);
        the world slots that passed."""
        now = time.monotonic()
        dt, self._last_fair = now - self._last_fair, now
        wc = self.world_config
        vol = self.config.volatility if self.config.volatility is not None else wc.volatility
        jumps = self.config.jump_rate if self.config.jump_rate is not None else wc.jump_rate
        slots = dt / wc.slot_seconds
        sigma = vol * math.sqrt(dt / 3600.0)
        numeraire = self.world.mints[0]
        for m in self.fair:
            if m == numeraire:
                continue
            z = self.rng.gauss(0.0, 1.0) * sigma - 0.5 * sigma * sigma
            if self.rng.random() < jumps * slots:
                z += self.rng.gauss(0.0, 0.01)
            self.fair[m] *= math.exp(z)
        for m, (anchor, ratio) in self.world.pegs.items():
            self.fair[m] = self.fair[anchor] * ratio
        return slots

    def priced(self) -> list[str]:
        """The pools the graph holds (decoded, priced), in a stable order."""
        held = set(self.graph.pools())
        return [p for p in self.pools if p in held]

    def gap(self, pool: str) -> float | None:
        """log(the pool's mid / its fair price), None where it cannot be said."""
        try:
            a, b, ab, ba, _ = self.graph.pool_rate(pool)
            if ab <= 0 or ba <= 0:
                return None
            return 0.5 * math.log(ab / ba) - math.log(self.fair[a] / self.fair[b])
        except (EngineError, KeyError, ValueError, ZeroDivisionError):
            return None

    def _out(self, pool: str, mint_in: str, amount: int) -> int:
        try:
            q = self.graph.quote([pool], mint_in, amount)
        except (EngineError, ValueError):
            return 0
        return q[-1] if len(q) == 2 else 0

    def amount_for_move(self, pool: str, a_to_b: bool, move: float) -> int:
        """About what to send into ``pool`` to move its price by ``move`` (natural log):
        the amount whose average rate is ``exp(-move / 2)`` of the small-trade rate (a
        constant product's marginal price moves twice as far as its average), found by
        bisection on the graph's exact quote; at most what the pool holds of the input
        side; 0 when nothing fills."""
        p = self.pools[pool]
        mint_in = p.mint_a if a_to_b else p.mint_b
        vault = p.vault_a if a_to_b else p.vault_b
        held = _token_amount(self.raw.get(vault))
        if held <= 0:
            return 0
        probe = max(1, held // 10_000_000)
        first = self._out(pool, mint_in, probe)
        if first <= 0:
            probe = max(1, held // 100_000)
            first = self._out(pool, mint_in, probe)
            if first <= 0:
                return 0
        r0 = first / probe
        want = math.exp(-abs(move) / 2)
        lo, hi = probe, held
        if self._out(pool, mint_in, hi) / hi >= want * r0:
            return hi
        for _ in range(40):
            if hi - lo <= max(1, lo // 1_000):
                break
            mid = int(math.sqrt(lo * hi)) if lo > 0 else hi // 2
            mid = min(max(mid, lo + 1), hi - 1)
            out = self._out(pool, mint_in, mid)
            if out > 0 and out / mid >= want * r0:
                lo = mid
            else:
                hi = mid
        return lo

    # ------------------------------------------------------------ the market's trades
    def _leg(self, wallet: str, pool: str, a_to_b: bool, amount: int, minimum: int) -> venues.Leg:
        p = self.pools[pool]
        owner = self.market.wallets[wallet]
        got = self.ingest.record(pool)
        if got is None:
            raise ValueError(f"pool {pool} not decoded")
        record = got[1]
        mint_in, mint_out = (p.mint_a, p.mint_b) if a_to_b else (p.mint_b, p.mint_a)
        programs = {m: self.token_programs[m] for m in (p.mint_a, p.mint_b)}
        return venues.Leg.of_atas(
            pool, record, owner, (mint_in, mint_out), amount, minimum, programs
        )

    def _minimum(self, pool: str, a_to_b: bool, quoted: int, slack_bps: int) -> int:
        """A hop's minimum out: an order book's buy exactly its quote (fill-or-kill),
        else ``quoted`` less ``slack_bps``."""
        p = self.pools[pool]
        if venues.by_kind(p.kind).exact_buy and not a_to_b:
            return quoted
        return quoted * (10_000 - slack_bps) // 10_000

    def market_trades(self, slots: float) -> list[_Trade]:
        """This round's noise trades, arbitrages and (now and then) a dislocation."""
        c, wc, r = self.config, self.world_config, self.rng
        pools = self.priced()
        if not pools or not self.traders:
            return []
        share = c.arbitrageur_share if c.arbitrageur_share is not None else wc.arbitrageur_share
        disloc = c.dislocation_rate if c.dislocation_rate is not None else wc.dislocation_rate
        want = c.rate * slots * wc.slot_seconds
        n = int(want) + (1 if r.random() < want - int(want) else 0)
        out: list[_Trade] = []
        used: set[str] = set()
        for _ in range(n):
            pool = r.choice(pools)
            if pool in used:
                continue
            gap = self.gap(pool)
            if gap is None:
                continue
            if r.random() < share and abs(gap) > MIN_GAP:
                role, a_to_b, move = "arbitrage", gap > 0, min(0.1, abs(gap) / 2)
            else:
                role, a_to_b, move = "trade", r.random() < 0.5, 2 * r.uniform(0.00002, 0.0008)
            t = self._swap(role, pool, a_to_b, move)
            if t is not None:
                used.add(pool)
                out.append(t)
        if r.random() < disloc * slots:
            pool = r.choice(pools)
            if pool not in used:
                t = self._swap("dislocation", pool, r.random() < 0.5, 2 * r.uniform(0.004, 0.012))
                if t is not None:
                    out.append(t)
        return out

    def _swap(self, role: str, pool: str, a_to_b: bool, move: float) -> _Trade | None:
        amount = self.amount_for_move(pool, a_to_b, move)
        if amount <= 0:
            return None
        p = self.pools[pool]
        mint_in = p.mint_a if a_to_b else p.mint_b
        quoted = self._out(pool, mint_in, amount)
        if quoted <= 0:
            return None
        wallet = self.rng.choice(self.traders)
        minimum = self._minimum(pool, a_to_b, quoted, 100)
        try:
            ix = hop_instruction(self._leg(wallet, pool, a_to_b, amount, minimum), p.kind)
        except (ValueError, KeyError, AttributeError, TypeError, EngineError) as exc:
            self.tally.problems[f"build {p.kind}: {type(exc).__name__}"] += 1
            return None
        units = venues.by_kind(p.kind).compute_units.limit() + SWAP_MARGIN_UNITS
        ixs = [
            I.set_compute_unit_limit(min(I.MAX_COMPUTE_UNIT_LIMIT, units)),
            I.set_compute_unit_price(self.rng.randint(0, 20_000)),
            ix,
        ]
        return _Trade(role, wallet, ixs, ("", "", p.kind), (pool,))

    # ------------------------------------------------------------ the rivals
    def _lamports_per_unit(self, mint: str) -> float:
        """Lamports one base unit of ``mint`` is worth at the fair prices."""
        sol = self.fair.get(SOL_MINT)
        price = self.fair.get(mint)
        if not sol or not price:
            return 0.0
        return price / sol

    def rival_trades(self) -> list[_Trade]:
        """Each rival's best paying cycle through no pool it is trading (see the module
        doc): ``rival-0`` every round at its gap, each further one every other round at
        twice the gap of the one before."""
        if not self.rivals:
            return []
        now = time.monotonic()
        self.busy = {p: t for p, t in self.busy.items() if t > now}
        found: list[tuple[float, int, Any]] = []
        priced = set(self.priced())
        for base in self.market.bases:
            try:
                opps = self.graph.cycles(base, MAX_HOPS)
            except EngineError:
                continue
            value = self._lamports_per_unit(base)
            for opp in opps:
                if opp.profit <= 0 or opp.ticks_missing or not set(opp.pools) <= priced:
                    continue
                found.append((opp.profit * value, len(found), opp))
        found.sort(key=lambda x: (-x[0], x[1]))
        out: list[_Trade] = []
        for i, name in enumerate(self.rivals):
            if i and (self._round + i) % 2:
                continue
            gap = self.config.rival_gap_bps * 2**i
            for worth, _, opp in found:
                if opp.profit_bps < gap or any(p in self.busy for p in opp.pools):
                    continue
                t = self._cycle(name, opp, worth)
                if t is None:
                    continue
                for p in opp.pools:
                    self.busy[p] = now + 2.0
                out.append(t)
                break
        return out

    def _cycle(self, name: str, opp: Any, worth: float) -> _Trade | None:
        """One rival's transaction for ``opp`` (None when it does not pay its fee)."""
        kinds = [self.pools[p].kind for p in opp.pools]
        units = sum(venues.by_kind(k).compute_units.limit() for k in kinds) + SWAP_MARGIN_UNITS
        units = min(I.MAX_COMPUTE_UNIT_LIMIT, units)
        tip = int(min(0.5 * max(0.0, worth - BASE_FEE), 50_000))
        if tip <= 0:
            return None
        price = tip * 1_000_000 // units
        cost = BASE_FEE + tip
        value = self._lamports_per_unit(opp.base_mint)
        cost_units = math.ceil(cost / value) if value > 0 else 0
        ixs = [I.set_compute_unit_limit(units), I.set_compute_unit_price(price)]
        amounts = list(opp.hop_amounts)
        n = len(opp.pools)
        try:
            for i, pool in enumerate(opp.pools):
                p = self.pools[pool]
                a_to_b = opp.tokens[i] == p.mint_a
                quoted = amounts[i + 1]
                if i == n - 1:
                    minimum = max(quoted, opp.amount_in + cost_units)
                    if minimum > quoted:
                        return None
                    minimum = opp.amount_in + cost_units
                else:
                    minimum = self._minimum(pool, a_to_b, quoted, HOP_SLACK)
                leg = self._leg(name, pool, a_to_b, amounts[i], minimum)
                ixs.append(hop_instruction(leg, p.kind))
        except (ValueError, KeyError, AttributeError, TypeError, EngineError) as exc:
            self.tally.problems[f"build cycle: {type(exc).__name__}"] += 1
            return None
        return _Trade("rival", name, ixs, ("", "", *kinds), tuple(opp.pools))

    # ------------------------------------------------------------ sending, following
    def _sign(self, t: _Trade) -> VersionedTransaction | None:
        kp: Keypair = self.keys[t.wallet]
        try:
            msg = MessageV0.try_compile(
                kp.pubkey(), t.ixs, self.tables.get(t.wallet, []), Hash.from_string(self.blockhash)
            )
            tx = VersionedTransaction(msg, [kp])
        except Exception as exc:  # solders' compile errors are its own classes
            self.tally.problems[f"compile: {type(exc).__name__}"] += 1
            return None
        if len(bytes(tx)) > PACKET_DATA_SIZE:
            self.tally.too_big += 1
            return None
        return tx

    async def _send(self, rpc: RpcClient, t: _Trade) -> None:
        tx = self._sign(t)
        if tx is None:
            return
        raw = base64.b64encode(bytes(tx)).decode()
        self.tally.sent[t.role] += 1
        try:
            sig = await rpc.send_transaction(raw, skip_preflight=True)
        except RpcError as exc:
            self.tally.refused[_problem(exc)] += 1
            return
        self.inflight[sig] = _Sent(t.role, t.kinds, self.last_valid, t.pools, t.wallet)

    async def _follow(self, rpc: RpcClient) -> None:
        """Statuses of what is in flight: landed, failed (by the program's error) or,
        once the node's block height passed its blockhash's last valid one with no
        status, dropped (it can never land)."""
        sigs = list(self.inflight)
        for i in range(0, len(sigs), MAX_STATUSES):
            part = sigs[i : i + MAX_STATUSES]
            try:
                got = await rpc.get_signature_statuses(part)
            except RpcError as exc:
                self.tally.node[_problem(exc)] += 1
                return
            for sig, st in zip(part, got, strict=False):
                sent = self.inflight[sig]
                if st is None:
                    if self.height > sent.last_valid:
                        del self.inflight[sig]
                        self.tally.dropped += 1
                    continue
                del self.inflight[sig]
                err = st.get("err") if isinstance(st, dict) else None
                if err is None:
                    self.tally.landed[sent.role] += 1
                    self.tally.venues.update(k for k in sent.kinds if k)
                    self.tally.traded.update(sent.pools)
                    if sent.role == "rival":
                        for p in sent.pools:
                            self.busy.pop(p, None)
                else:
                    what = failure(err, sent.kinds)
                    self.tally.failed[what] += 1
                    self.tally.examples.setdefault(what, sig)

    async def round(self, rpc: RpcClient) -> None:
        """One round: read the market, move the fair prices, trade, follow."""
        self._round += 1
        self.tally.rounds += 1
        if not await self._read(rpc) or not await self._blockhash(rpc):
            self.tally.skipped += 1
            return
        self.tally.pools = len(self.priced())
        slots = self._move_fair()
        trades = self.market_trades(slots) + self.rival_trades()
        room = self.config.max_inflight - len(self.inflight)
        if room <= 0:
            trades = [t for t in trades if t.role == "rival"][:1]
        await asyncio.gather(*(self._send(rpc, t) for t in trades[: max(1, room)]))
        await self._follow(rpc)

    async def run(
        self,
        duration: float | None = None,
        stats: str | Path | None = None,
        report: Callable[[Tally], None] | None = None,
    ) -> Tally:
        """Trade until :attr:`stop` is set (or ``duration`` seconds passed); the tally
        written to ``stats`` (JSON) every few seconds and at the end, and handed to
        ``report`` every 10 s."""
        end = None if duration is None else time.monotonic() + duration
        last_write = last_report = time.monotonic()
        async with RpcClient(self.url, timeout_s=10.0) as rpc:
            while True:  # the node may not be up yet: asked again every second
                try:
                    await self._setup(rpc)
                    break
                except (RpcError, ValueError) as exc:
                    self.tally.node[f"setup: {_problem(exc)}"] += 1
                    if await self._wait(1.0) or (end is not None and time.monotonic() >= end):
                        if stats is not None:
                            write_stats(stats, self.tally)
                        return self.tally
            while not self.stop.is_set() and (end is None or time.monotonic() < end):
                t0 = time.monotonic()
                try:
                    await self.round(rpc)
                except RpcError as exc:  # (each call counts its own; this is a backstop)
                    self.tally.node[_problem(exc)] += 1
                now = time.monotonic()
                if stats is not None and now - last_write >= 2.0:
                    write_stats(stats, self.tally)
                    last_write = now
                if report is not None and now - last_report >= 10.0:
                    report(self.tally)
                    last_report = now
                if await self._wait(max(0.0, self.config.period_s - (now - t0))):
                    break
            await self._follow(rpc)
        if stats is not None:
            write_stats(stats, self.tally)
        return self.tally

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` or until stopped; whether it was stopped."""
        try:
            await asyncio.wait_for(self.stop.wait(), seconds)
            return True
        except asyncio.TimeoutError:
            return False


def _unpack(data: Any) -> bytes:
    """An account's ``[text, "base64+zstd"]`` (or ``base64``) data as bytes."""
    raw = base64.b64decode(data[0])
    if data[1] == "base64+zstd":
        return bytes(_ZSTD.decompress(raw, max_output_size=MAX_ACCOUNT_BYTES))
    return raw


def _token_amount(data: bytes | None) -> int:
    """A token account's amount (bytes 64..72), 0 for anything else."""
    if data is None or len(data) < 72:
        return 0
    return int.from_bytes(data[64:72], "little")


def _problem(exc: Exception) -> str:
    """A node's failure in a few words to count it by: the method and what went wrong,
    never the URL (an endpoint's key may be in it) or a host."""
    text = str(exc)
    method = text.split(" at ", 1)[0].split(":", 1)[0].split()[0] if text else "call"
    if isinstance(exc, RpcError):
        if exc.unreachable:
            return f"{method}: unreachable"
        if exc.rate_limited:
            return f"{method}: rate limited"
        if exc.code is not None:
            return f"{method}: error {exc.code}"
        if "no answer within" in text:
            return f"{method}: no answer in time"
        if exc.transient:
            return f"{method}: connection lost"
    return f"{method}: {type(exc).__name__}"


def failure(err: Any, kinds: Sequence[str]) -> str:
    """A landed transaction's error as ``"<venue kind> <error name>"`` (the program's
    name for a custom code; the runtime's error otherwise)."""
    if isinstance(err, dict) and "InstructionError" in err:
        try:
            index, what = err["InstructionError"]
            kind = kinds[index] if 0 <= index < len(kinds) else ""
        except (TypeError, ValueError):
            return json.dumps(err, sort_keys=True)
        if isinstance(what, dict) and "Custom" in what:
            code = int(what["Custom"])
            if kind:
                venue = venues.by_kind(kind)
                name = venue.error_name(code)
                if name is None and venue.anchor and code < 6_000:
                    name = I.TOKEN_ERRORS.get(code)
                return f"{kind} {name or f'0x{code:x}'}"
            return f"custom 0x{code:x}"
        return f"{kind or 'instruction'} {what}"
    return json.dumps(err, sort_keys=True) if not isinstance(err, str) else err


def write_stats(path: str | Path, tally: Tally) -> None:
    """The tally as JSON at ``path`` (written beside it, then renamed: a reader never
    sees half of it)."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(tally.to_json(), encoding="utf-8")
    os.replace(tmp, p)


def read_stats(path: str | Path) -> dict[str, Any] | None:
    """What :func:`write_stats` wrote (None before it wrote anything)."""
    try:
        got: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        return got
    except (OSError, ValueError):
        return None


__all__ = [
    "Driver",
    "DriverConfig",
    "Tally",
    "failure",
    "read_stats",
    "write_stats",
]
