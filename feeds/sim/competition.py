"""Competing arbitrageurs in the simulated market: bots with keys of their own that see
the cycles the pools open and race to take them with real arbitrage transactions, signed
and landed through the chain like anyone's.

**Who they are.** Each competitor (:class:`Competitor`) has a keypair of its own
(deterministic from the world's seed and its name: :func:`rival_keypair`), funded at
genesis as a trader is: SOL for its fees, a token account of every mint of the market
(its associated token account of the mint's program) holding a stock of each base token
it trades from and nothing of the others, and address lookup tables holding every pool's
accounts and theirs (as every bot on mainnet keeps them). Its latency is the chances of
landing 1, 2, ... slots after the slot it saw the cycle in; what it pays is lognormal
about its median (``tip_median`` lamports: a Jito tip inside the transaction for a bundle
bot, the priority fee — compute-unit price x limit — for a bot sending plain
transactions), at most ``tip_share`` of the profit it expects; ``min_gap_bps`` is the
smallest gap it acts on (a cycle's profit in bps of its input), ``close`` the share of the
cycle's most profitable input it sends.

**What it sees.** They watch the market as a bot does: the engine's own graph
(``PoolGraph``, cycles from the base tokens of at most ``MAX_HOPS`` hops) fed the world's
account bytes (``FeedIngest``) as each slot changes them. After each slot, the cycles
that pay (the engine's size and profit), the best first (``MAX_CYCLES``).

**What it sends.** A cycle that pays at least its gap, through no pool it is already
trading: at its share of the engine's size, re-quoted hop by hop with the world's own math
(transfer fees included), sent only when it pays more than its fee and tip. Each hop is
the venue's own swap instruction (``feeds.venues``: ``VENUE.swap_instruction(Leg)``),
spending a little less than the hop before was quoted to give (``HOP_SLACK``) and asking
at least that much out (an order book's buy exactly its lots, as the live executor asks);
the last hop asks for the input back plus its costs, so a raced cycle fails with the
program's slippage error, as on mainnet. Before them a compute-budget limit (each hop's
venue limit) and price; after them, for a bundle bot, a tip transfer to one of
``JITO_TIP_ACCOUNTS``. It is signed (a v0 message through their lookup tables, or legacy
for a ``legacy`` bot, which sends only what fits without them) and queued on the chain
(:class:`feeds.sim.chain.Chain`: ``pending``) to land at the start of the slot its latency
drew, in the slot's priority order with everything else sent (:meth:`Chain.priority`: a
compute-unit price, a bundle's tip per requested compute unit on top). There it runs as
any transaction runs (the simulator's programs, the real binaries when the chain has a
bank): a bundle that fails does not land (nothing paid), a plain transaction that fails
lands with its error and pays its fee. The node serves them as anyone's: logs,
``getTransaction``, ``getBlock``, gRPC transaction updates.

Not traded by them: mints with a transfer hook (the simulator cannot run the hook), a
cycle whose transaction does not fit a packet or locks more than 64 accounts.

**How strong.** :data:`PRESETS` name rosters (``none``, ``weak``, ``mainnet``,
``strong``); :class:`Rivals` takes one and the knobs an operator turns (how many, the
fastest's reaction in slots, the best's median tip, the keenest's smallest gap: each
scales the whole roster alike). The default, ``mainnet``: a tipped bundle bot that lands
in the slot after the one it saw the cycle in 85 % of the time, a slower bundle bot, and
a bot spamming plain transactions whose failures land.

Their draws come from a generator of their own (seeded from the world's seed), so a run
is reproducible and the market's own draws are the same with or without them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from .. import venues
from ..wire import instructions as I
from ..wire.alt import ALT_PROGRAM, MAX_ADDRESSES, table_address
from ..wire.tokens import BY_SYMBOL
from ..wire.txsize import MAX_TX_ACCOUNT_LOCKS, PACKET_DATA_SIZE
from . import alt as ALT
from .state import Account, sim_key

if TYPE_CHECKING:
    from .state import Pool
    from .world import World

RIVAL_LAMPORTS = 1_000 * 10**9  # what each competitor holds for its fees at genesis
HOLDING = 50  # of each base token: this many times the largest vault of it in the market
HOP_SLACK = 3  # bps: a hop spends this much less than the hop before was quoted to give
BASE_FEE = 5_000  # lamports per signature
BUDGET_UNITS = 1_000  # compute units asked beyond the hops' (the budget, the tip)
MAX_HOPS = 3  # the longest cycle they look for
MAX_CYCLES = 8  # paying cycles they act on a slot (the best first)
SLOTS_PER_EPOCH = 432_000  # mainnet's epoch schedule (the world's)
SOL_MINT = BY_SYMBOL["SOL"].mint  # wrapped SOL: its base unit is the lamport


@dataclass(frozen=True, slots=True)
class Competitor:
    """One competing arbitrageur (see the module doc)."""

    name: str
    latency: tuple[float, ...]  # chances of landing 1, 2, ... slots after it saw the gap
    tip_median: float  # lamports: a bundle's tip, or a plain transaction's priority fee
    tip_sigma: float = 0.6
    min_gap_bps: float = 10.0  # the smallest gap it acts on: a cycle's profit, bps of its input
    close: float = 1.0  # the share of the cycle's most profitable input it sends
    bundle: bool = True  # a Jito bundle (tip inside; a failed one does not land)
    tip_share: float = 0.8  # the most of the profit it expects that it pays
    legacy: bool = False  # its transactions are legacy messages (else v0)
    bundle_cu_price: int = 1_000  # micro-lamports per CU a bundle bot asks besides its tip

    @property
    def reaction(self) -> int:
        """The slots after the one it saw a gap in that it most likely lands in."""
        return 1 + max(range(len(self.latency)), key=lambda i: (self.latency[i], -i))


# the rosters an operator picks by name (``--rivals``); the first of each is its best
PRESETS: dict[str, tuple[Competitor, ...]] = {
    "none": (),
    "weak": (
        Competitor("mid", (0.2, 0.5, 0.3), 5_000.0, min_gap_bps=25.0, close=0.7),
        Competitor(
            "slow",
            (0.0, 0.3, 0.4, 0.3),
            2_000.0,
            min_gap_bps=40.0,
            close=0.5,
            bundle=False,
            legacy=True,
        ),
    ),
    "mainnet": (
        Competitor("fast", (0.85, 0.15), 30_000.0, min_gap_bps=5.0),
        Competitor("mid", (0.4, 0.45, 0.15), 10_000.0, min_gap_bps=10.0, close=0.8),
        Competitor("spam", (0.3, 0.4, 0.3), 5_000.0, min_gap_bps=15.0, close=0.6, bundle=False),
    ),
    "strong": (
        Competitor("fast", (0.97, 0.03), 80_000.0, min_gap_bps=2.0),
        Competitor("fast2", (0.9, 0.1), 50_000.0, min_gap_bps=3.0, close=0.9),
        Competitor("mid", (0.7, 0.3), 20_000.0, min_gap_bps=5.0, close=0.8),
        Competitor("spam", (0.5, 0.4, 0.1), 10_000.0, min_gap_bps=8.0, close=0.7, bundle=False),
        Competitor(
            "spam2",
            (0.4, 0.4, 0.2),
            5_000.0,
            min_gap_bps=10.0,
            close=0.6,
            bundle=False,
            legacy=True,
        ),
    ),
}
DEFAULT_PRESET = "mainnet"
ROSTER = PRESETS[DEFAULT_PRESET]
MAX_RIVALS = 8


@dataclass(frozen=True, slots=True)
class Rivals:
    """How strong the competitors are: a :data:`PRESETS` roster and the knobs that
    change it (None: the preset's own). ``count``: how many (the roster's first ones;
    past its length, copies of it by name ``<name>-2``...); ``reaction``: the slots the
    fastest most likely lands after the one it saw a gap in (the others shifted alike);
    ``tip``: the best one's median tip in lamports (the others scaled alike); ``gap_bps``:
    the keenest one's smallest gap (the others scaled alike)."""

    preset: str = DEFAULT_PRESET
    count: int | None = None
    reaction: int | None = None
    tip: float | None = None
    gap_bps: float | None = None

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"rivals {self.preset!r}: one of {', '.join(PRESETS)}")
        if self.count is not None and not 0 <= self.count <= MAX_RIVALS:
            raise ValueError(f"rivals: 0 to {MAX_RIVALS}, not {self.count}")
        if self.reaction is not None and self.reaction < 1:
            raise ValueError(f"rival reaction: at least 1 slot, not {self.reaction}")
        if self.tip is not None and self.tip < 0:
            raise ValueError(f"rival tip: not negative, not {self.tip}")
        if self.gap_bps is not None and self.gap_bps < 0:
            raise ValueError(f"rival gap: not negative, not {self.gap_bps}")

    def roster(self) -> tuple[Competitor, ...]:
        """The competitors these settings make."""
        base = PRESETS[self.preset]
        if not base:
            return ()
        n = len(base) if self.count is None else self.count
        out = [
            c if i < len(base) else dataclasses.replace(c, name=f"{c.name}-{i // len(base) + 1}")
            for i in range(n)
            for c in (base[i % len(base)],)
        ]
        lead = base[0]
        if self.reaction is not None:
            shift = self.reaction - lead.reaction
            out = [dataclasses.replace(c, latency=_shifted(c.latency, shift)) for c in out]
        if self.tip is not None:
            k = self.tip / lead.tip_median
            out = [dataclasses.replace(c, tip_median=c.tip_median * k) for c in out]
        if self.gap_bps is not None:
            k = self.gap_bps / lead.min_gap_bps
            out = [dataclasses.replace(c, min_gap_bps=c.min_gap_bps * k) for c in out]
        return tuple(out)

    def label(self, count: int | None = None) -> str:
        """The settings in a few words (the status bar's ``rivals mainnet``): the preset,
        then what differs from it (``mainnet ×5, reaction 2, tip 5,000, gap 20 bps``);
        ``none`` without rivals. ``count``: how many there are (0: none)."""
        n = len(self.roster()) if count is None else count
        if n == 0 or not PRESETS[self.preset]:
            return "none"
        parts = [self.preset + (f" ×{n}" if n != len(PRESETS[self.preset]) else "")]
        if self.reaction is not None:
            parts.append(f"reaction {self.reaction}")
        if self.tip is not None:
            parts.append(f"tip {self.tip:,.0f}")
        if self.gap_bps is not None:
            parts.append(f"gap {self.gap_bps:g} bps")
        return ", ".join(parts)

    def describe(self) -> str:
        """One line: the preset and what its best rival does (``mainnet: 3 rivals, the
        best lands 1 slot after a gap, tips 30,000 lamports, acts on 15 bps``)."""
        roster = self.roster()
        if not roster:
            return f"{self.preset}: no rivals"
        best = roster[0]
        slot = "slot" if best.reaction == 1 else "slots"
        pays = "tips" if best.bundle else "pays"
        return (
            f"{self.preset}: {len(roster)} rival{'s' if len(roster) > 1 else ''}, the best "
            f"lands {best.reaction} {slot} after a gap, {pays} {best.tip_median:,.0f} "
            f"lamports, acts on {best.min_gap_bps:g} bps"
        )


def _shifted(latency: tuple[float, ...], shift: int) -> tuple[float, ...]:
    """``latency`` ``shift`` slots later (earlier when negative: the chances of the
    slots that fall before the first are the first's)."""
    if shift >= 0:
        return (0.0,) * shift + latency
    cut = min(-shift, len(latency) - 1)
    return (sum(latency[: cut + 1]), *latency[cut + 1 :])


def rival_keypair(seed: int, name: str) -> Keypair:
    """A competitor's keypair: the same seed and name, the same key."""
    return Keypair.from_seed(hashlib.sha256(f"arbscope-sim-rival:{seed}:{name}".encode()).digest())


Hop = tuple["Pool", bool]  # a pool and its direction (a_to_b)


@dataclass(slots=True)
class Plan:
    """A sized cycle: the hops, what each spends and at least gets, the profit expected
    (base units) and its value in lamports."""

    hops: tuple[Hop, ...]
    amounts: list[int]  # what each hop spends
    minimums: list[int]  # what each hop must give at least
    profit: int
    profit_lamports: float


@dataclass(frozen=True, slots=True)
class RivalOrder:
    """A competitor's transaction on its way (what the chain reports back when it lands
    or does not: :meth:`Competition.settled`)."""

    competitor: Competitor
    pool: str  # the cycle's first pool
    slot: int  # the slot it lands in
    tip: int  # lamports: its bundle tip, or its priority fee
    signature: str
    hops: tuple[str, ...]  # the pools of its cycle, in order


@dataclass(slots=True)
class Outcome:
    """What a competitor did: cycles that landed and went through (``traded``), that
    found the pools moved (``missed``: a bundle that did not land, or a plain transaction
    that landed failed and paid its fee), tips paid (its landed bundles', or its landed
    transactions' priority fees), transactions sent."""

    traded: int = 0
    missed: int = 0
    tips: list[int] = field(default_factory=list)
    sent: int = 0
    landed_failed: int = 0


class Competition:
    """The competitors of one world (see the module doc)."""

    def __init__(self, roster: Sequence[Competitor], seed: int, world: World | None = None):
        self.roster = tuple(roster)
        self.seed = seed
        self.rng = random.Random(seed * 104_729 + 17)
        self.stats = {c.name: Outcome() for c in self.roster}
        self.keys = {c.name: rival_keypair(seed, c.name) for c in self.roster}
        self.wallets = {name: str(kp.pubkey()) for name, kp in self.keys.items()}
        self.inflight: dict[str, dict[str, int]] = {c.name: {} for c in self.roster}
        self.orders: dict[str, RivalOrder] = {}  # signature -> what it is, until it lands
        self._seq = 0
        self.graph: Any = None  # what they see: the engine's graph of the pools they trade
        self.ingest: Any = None
        self._watched: frozenset[str] = frozenset()
        self.tables: list[AddressLookupTableAccount] = []
        if world is not None:
            self.fund(world)
            self.watch(world)
            self.make_tables(world)

    # ------------------------------------------------------------ genesis
    def fund(self, w: World) -> None:
        """Each competitor's accounts at genesis: its lamports, and its associated token
        account of every mint of the market (a stock of each base token, nothing of the
        others)."""
        holdings = {b: self.holding(w, b) for b in w.bases}
        for me in self.wallets.values():
            w.accounts[me] = Account(I.SYSTEM_PROGRAM, b"", RIVAL_LAMPORTS)
            for m in w.mints:
                ata = I.ata_address(me, m, w.token_programs.get(m, I.SPL_TOKEN))
                w.vault(ata, m, me, holdings.get(m, 0), immutable_owner=True)

    @staticmethod
    def holding(w: World, mint: str) -> int:
        """What a competitor holds of base token ``mint``: ``HOLDING`` times the largest
        vault of it in the market."""
        most = max(
            (
                w.balance(v)
                for p in w.pools
                for v, m in ((p.vault_a, p.mint_a), (p.vault_b, p.mint_b))
                if m == mint
            ),
            default=0,
        )
        return min(2**62, max(10**12, most * HOLDING))

    def watch(self, w: World) -> None:
        """Their view of the market: the engine's own graph (``PoolGraph``, cycles from
        the base tokens, at most ``MAX_HOPS`` hops) fed the world's account bytes as a
        node serves them (``FeedIngest``: each pool they trade, its arrays, vaults and
        mints)."""
        eng = w.eng
        self.graph = eng.PoolGraph(base_mints=list(w.bases), max_hops=MAX_HOPS)
        self.graph.set_epoch_schedule(SLOTS_PER_EPOCH)
        self.graph.set_slot(w.slot)
        self.ingest = eng.FeedIngest(self.graph, 65_536, 64)
        self.ingest.set_epoch_schedule(SLOTS_PER_EPOCH)
        self.pools = {p.address: p for p in w.pools if tradable(w, p)}
        for p in self.pools.values():
            self.ingest.track_pool(p.address, p.kind)
            for ta in p.tick_arrays:
                self.ingest.track_array(ta, p.address)
        for _ in range(4):  # the pools, then the accounts they name, then their mints
            for k in self.ingest.watched():
                a = w.accounts.get(k)
                if a is not None:
                    self.ingest.account(k, a.owner, a.data, w.slot)
        self.ingest.take_changed()
        self._watched = frozenset(self.ingest.watched())

    def make_tables(self, w: World) -> None:
        """Their address lookup tables, at genesis (as every bot on mainnet keeps them):
        every account a swap of a pool they trade names (but the signer), its arrays,
        and their own token accounts, 256 to a table, active from the first slot."""
        authority = sim_key("rival-lookup-tables", self.seed)
        me = next(iter(self.wallets.values()), authority)
        keys: dict[str, None] = {}
        for wallet in self.wallets.values():
            for m in w.mints:
                keys[I.ata_address(wallet, m, w.token_programs.get(m, I.SPL_TOKEN))] = None
        keys.update(
            ALT.swap_keys(self.pools.values(), lambda p, a_to_b: _swap_ix(w, me, p, a_to_b, 1, 0))
        )
        ordered = list(keys)
        for i in range(0, len(ordered), MAX_ADDRESSES):
            chunk = ordered[i : i + MAX_ADDRESSES]
            address = str(table_address(authority, w.config.first_slot - 1 - i)[0])
            table = ALT.Table(ALT.U64_MAX, w.slot - 1, 0, authority, chunk)
            w.put(address, ALT_PROGRAM, table.encode())
            self.tables.append(
                AddressLookupTableAccount(
                    Pubkey.from_string(address), [Pubkey.from_string(k) for k in chunk]
                )
            )

    # ------------------------------------------------------------ each slot
    def observe(self, w: World, changed: Sequence[str]) -> None:
        """After a slot: the competitors see the accounts it changed (``changed``: their
        graph fed them), and the cycles that pay, the best first; each competitor for whom
        one pays at least its gap (profit bps of the input), and that is not already
        trading one of its pools, sends it at its share of the size that pays most,
        queued on the chain for the slot its latency draws."""
        chain = w.chain
        assert chain is not None, "the competitors send transactions: the world needs a chain"
        for name, flights in self.inflight.items():  # what landed by now is settled
            self.inflight[name] = {k: s for k, s in flights.items() if s > w.slot}
        if not self.roster or self.graph is None:
            return
        self.graph.set_slot(w.slot)
        for k in dict.fromkeys(changed):
            if k in self._watched:
                a = w.accounts.get(k)
                if a is not None:
                    self.ingest.account(k, a.owner, a.data, w.slot)
        self.ingest.take_changed()
        keenest = min(c.min_gap_bps for c in self.roster)
        for opp in self._paying(w, keenest):
            hops = tuple(
                (self.pools[p], opp.tokens[i] == self.pools[p].mint_a)
                for i, p in enumerate(opp.pools)
            )
            for c in self.roster:
                if opp.profit_bps < c.min_gap_bps:
                    continue
                if any(p in self.inflight[c.name] for p in opp.pools):
                    continue  # it is trading one of these pools already
                plan = _sized(w, hops, max(1, int(opp.amount_in * c.close)))
                if plan is not None and plan.profit > 0:
                    self._send(w, c, hops[0][0], plan)

    def _paying(self, w: World, keenest: float) -> list[Any]:
        """The cycles that pay now as the engine sizes them (at least ``keenest`` bps of
        their input; every pool one they trade), the best first (profit in lamports),
        at most ``MAX_CYCLES`` a slot."""
        found: list[tuple[float, int, Any]] = []
        for base in w.bases:
            value = _lamport_value(w, base)
            for opp in self.graph.cycles(base, MAX_HOPS):
                if opp.profit <= 0 or opp.profit_bps < keenest or opp.ticks_missing:
                    continue
                if all(p in self.pools for p in opp.pools):
                    found.append((opp.profit / value, len(found), opp))
        found.sort(key=lambda x: (-x[0], x[1]))
        return [opp for _, _, opp in found[:MAX_CYCLES]]

    def _best(self, w: World, pool_id: str) -> Any:
        """The engine's most profitable cycle through ``pool_id`` (in lamports of its
        base token's profit), every pool of it one they trade; None: none pays."""
        best, value = None, 0.0
        for opp in self.graph.cycles_touching(pool_id, MAX_HOPS):
            if opp.profit <= 0 or opp.ticks_missing or any(p not in self.pools for p in opp.pools):
                continue
            worth = opp.profit / _lamport_value(w, opp.base_mint)
            if worth > value:
                best, value = opp, worth
        return best

    def _send(self, w: World, c: Competitor, pool: Pool, plan: Plan) -> None:
        """Build, sign and queue ``c``'s transaction for ``plan`` (when it pays more than
        it costs)."""
        chain = w.chain
        assert chain is not None
        r = self.rng
        delay = 1 + _pick(r, c.latency)
        drawn = max(I.JITO_MIN_TIP, int(r.lognormvariate(math.log(c.tip_median), c.tip_sigma)))
        room = c.tip_share * (plan.profit_lamports - BASE_FEE)
        pay = int(min(drawn, room))
        if pay < (I.JITO_MIN_TIP if c.bundle else 1):
            return  # it does not pay: not worth sending
        units = sum(venues.by_kind(p.kind).compute_units.limit() for p, _ in plan.hops)
        units = min(I.MAX_COMPUTE_UNIT_LIMIT, units + BUDGET_UNITS)
        price = c.bundle_cu_price if c.bundle else pay * 1_000_000 // units
        fee = BASE_FEE + -(-price * units // 1_000_000)
        base = plan.hops[0][0].mint_a if plan.hops[0][1] else plan.hops[0][0].mint_b
        cost = math.ceil((fee + (pay if c.bundle else 0)) * _lamport_value(w, base))
        minimums = list(plan.minimums)
        minimums[-1] = plan.amounts[0] + max(1, cost)  # the input back and what it paid
        if minimums[-1] > plan.minimums[-1]:  # its quote: it would not pay
            return
        me = self.wallets[c.name]
        kp = self.keys[c.name]
        ixs = [I.set_compute_unit_limit(units), I.set_compute_unit_price(price)]
        try:
            for (p, a_to_b), amount, minimum in zip(plan.hops, plan.amounts, minimums, strict=True):
                ixs.append(_swap_ix(w, me, p, a_to_b, amount, minimum))
        except (ValueError, KeyError):
            return  # a hop that cannot be built now (an array it needs is not there)
        self._seq += 1
        if c.bundle:
            tip_to = I.JITO_TIP_ACCOUNTS[self._seq % len(I.JITO_TIP_ACCOUNTS)]
            ixs.append(I.transfer(me, tip_to, pay))
        bh = Hash.from_string(chain.latest_blockhash()[0])
        msg: Message | MessageV0 = (
            Message.new_with_blockhash(ixs, kp.pubkey(), bh)
            if c.legacy
            else MessageV0.try_compile(kp.pubkey(), ixs, self.tables, bh)
        )
        looked = sum(
            len(t.writable_indexes) + len(t.readonly_indexes)
            for t in getattr(msg, "address_table_lookups", ())
        )
        if len(msg.account_keys) + looked > MAX_TX_ACCOUNT_LOCKS:
            return
        tx = VersionedTransaction(msg, [kp])
        if len(bytes(tx)) > PACKET_DATA_SIZE:
            return  # a cycle this long does not fit a packet
        sig = str(tx.signatures[0])
        slot = w.slot + delay
        order = RivalOrder(c, pool.address, slot, pay, sig, tuple(p.address for p, _ in plan.hops))
        chain.queue_rival(tx, slot, order, c.bundle)
        self.orders[sig] = order
        for p, _ in plan.hops:
            self.inflight[c.name][p.address] = slot
        self.stats[c.name].sent += 1

    def tally(self) -> str:
        """What each competitor did, in one line (said when the simulator stops)."""
        return "; ".join(
            f"{name} sent {st.sent}, traded {st.traded}, missed {st.missed} "
            f"({st.landed_failed} landed failed), paid {sum(st.tips):,} lamports"
            for name, st in self.stats.items()
        )

    def info(self, rivals: Rivals) -> dict[str, Any]:
        """The competitors as ``simInfo`` shows them: the settings, each one's wallet,
        strength and tally."""
        return {
            "preset": rivals.preset,
            "label": rivals.label(len(self.roster)),
            "describe": rivals.describe(),
            "roster": [
                {
                    "name": c.name,
                    "wallet": self.wallets[c.name],
                    "reaction": c.reaction,
                    "latency": list(c.latency),
                    "tipMedian": c.tip_median,
                    "minGapBps": c.min_gap_bps,
                    "bundle": c.bundle,
                    "legacy": c.legacy,
                    "stats": {
                        "sent": self.stats[c.name].sent,
                        "traded": self.stats[c.name].traded,
                        "missed": self.stats[c.name].missed,
                        "landedFailed": self.stats[c.name].landed_failed,
                        "paid": sum(self.stats[c.name].tips),
                    },
                }
                for c in self.roster
            ],
        }

    def settled(self, order: RivalOrder, landed: bool, ok: bool) -> None:
        """What became of ``order`` in its slot: ``landed`` (a bundle that did not land:
        False), ``ok`` (it went through)."""
        self.orders.pop(order.signature, None)
        st = self.stats[order.competitor.name]
        if ok:
            st.traded += 1
            st.tips.append(order.tip)
            return
        st.missed += 1
        if landed:  # a plain transaction lands failed: its fee paid
            st.landed_failed += 1
            st.tips.append(order.tip)


# ------------------------------------------------------------------ the cycles
def tradable(w: World, pool: Pool) -> bool:
    """Whether a competitor trades ``pool``: none with a mint with a transfer hook (the
    simulator cannot run the hook; the engine refuses such pools too)."""
    return w.transfer_hook(pool.mint_a) is None and w.transfer_hook(pool.mint_b) is None


def _arrive(w: World, pool: Pool, a_to_b: bool, amount: int) -> int:
    """What reaches the user's account from an exact-in swap of ``amount`` on ``pool``
    now (transfer fees in and out taken), 0 when the pool cannot take it whole (an order
    book takes what its lots take: the rest stays with the user)."""
    mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    fee = w.transfer_fee(mint_in, amount)
    q = w.quote_swap(pool, a_to_b, amount - fee)
    book = venues.by_kind(pool.kind).exact_buy
    if q is None or (q.paid_in > amount - fee if book else q.paid_in != amount - fee):
        return 0
    return max(0, q.out - w.transfer_fee(mint_out, q.out))


def _sized(w: World, hops: tuple[Hop, ...], start: int) -> Plan | None:
    """The cycle ``hops`` from ``start``: each hop's amount and minimum (the next one's
    amount; the last one's: its quote, set to the input and costs when sent)."""
    amounts, minimums = [], []
    x = start
    for i, (p, d) in enumerate(hops):
        got = _arrive(w, p, d, x)
        if got <= 0:
            return None
        amounts.append(x)
        # an order book's buy gets exactly its minimum (its lots, fill-or-kill), as the
        # live executor asks it; any other hop but the last leaves a little slack
        exact = venues.by_kind(p.kind).exact_buy and not d
        last = i == len(hops) - 1
        nxt = got if exact or last else got * (10_000 - HOP_SLACK) // 10_000
        minimums.append(nxt)
        x = nxt
    profit = x - start
    first, a_to_b = hops[0]
    base = first.mint_a if a_to_b else first.mint_b
    value = _lamport_value(w, base)
    return Plan(hops, amounts, minimums, profit, profit / value if value else 0.0)


def _lamport_value(w: World, mint: str) -> float:
    """Base units of ``mint`` worth one lamport at the fair prices (SOL's base unit is
    the lamport)."""
    sol = w.fair.get(SOL_MINT)
    if not sol or not w.fair.get(mint):
        return 1.0
    return sol / w.fair[mint]


def _swap_ix(w: World, me: str, pool: Pool, a_to_b: bool, amount: int, minimum: int) -> Any:
    """The venue's own swap instruction for one hop (the pool read from its bytes now)."""
    venue = venues.by_kind(pool.kind)
    acc = w.accounts[pool.address]
    record = venue.decode_pool(w.eng, acc.data, acc.owner)
    mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    programs = {m: w.token_programs.get(m, I.SPL_TOKEN) for m in (pool.mint_a, pool.mint_b)}
    leg = venues.Leg.of_atas(
        pool.address, record, me, (mint_in, mint_out), amount, minimum, programs
    )
    return venue.swap_instruction(leg)


def _gap(world: World, pool: Pool) -> float | None:
    """log(pool price / fair price), None where it cannot be said."""
    try:
        return math.log(world.pool_price(pool) / world.fair_price(pool))
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _pick(r: random.Random, chances: Sequence[float]) -> int:
    """An index drawn with ``chances`` (they need not sum to 1: the rest is the last)."""
    x = r.random()
    acc = 0.0
    for i, p in enumerate(chances):
        acc += p
        if x < acc:
            return i
    return len(chances) - 1
