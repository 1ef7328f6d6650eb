"""The simulated market behind the simulator server: accounts with real layouts.

Tokens have hidden fair prices that follow a geometric Brownian motion with jumps. Pools
of every venue in the registry (:mod:`feeds.venues`: Raydium AMM v4, Raydium CP-Swap,
Orca Whirlpool...) hold real account bytes: pool accounts, SPL token vaults, mints, and
what each venue adds (CP-Swap configs, fixed tick arrays at their PDAs). The venues'
simulated programs (:mod:`feeds.sim.programs`) write their accounts; the world picks the
venue of each synthetic pool, moves prices and trades. Each slot, noise traders trade in
random directions, arbitrageurs trade pools back towards the fair price (so dislocations
decay), and now and then a large trade knocks a pool off its price: a real arbitrage
cycle opens.

Every trade is executed with the engine's own swap math, so the bytes a client decodes
price exactly like the pool the sim holds. The world is pure computation: no I/O, no
clock; ``step()`` advances one slot. Same seed, same slots, same bytes.
"""

from __future__ import annotations

import hashlib
import math
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import engine_rs
from engine_rs import decoded as D

from ..wire.instructions import SPL_TOKEN, SYSTEM_PROGRAM, TOKEN_2022
from ..wire.mints import MAX_METADATA_LEN, METADATA_PROGRAM, metadata_address
from ..wire.tokens import BY_SYMBOL
from . import clmm, programs, propamm, synthetic
from . import layouts as L
from . import token as T
from .competition import Competition, Rivals
from .state import Account, Pool, sim_key
from .venue import SimVenue

# lamports of each account the simulator creates, by its size in bytes (rent-exempt
# minimums as mainnet shows them): the shared token accounts and mints, then each venue's
# rent-exempt minimums: (128 + size) * 3480 * 2 lamports
NATIVE_MINT = BY_SYMBOL["SOL"].mint  # wrapped SOL
NATIVE_TAG = b"\x01\x00\x00\x00"  # a token account's is_native COption: Some (bytes 109..113)
RENT = {L.TOKEN_ACCOUNT_LEN: 2_039_280, L.MINT_LEN: 1_461_600, MAX_METADATA_LEN: 5_616_720}
for _s in programs.SIMULATED:
    RENT.update(_s.rent)
SIM_TIME0 = 1_700_000_000  # the simulated clock's unix time at slot 0
SLOTS_PER_EPOCH = 432_000  # mainnet's epoch schedule (no warmup)
# the Clock sysvar (what a program's ``Clock::get()`` reads) and the sysvars' owner
SYSVAR_CLOCK = "SysvarC1ock11111111111111111111111111111111"
SYSVAR_OWNER = "Sysvar1111111111111111111111111111111111111"
CLOCK_RENT = 1_169_280  # lamports the Clock sysvar holds on mainnet (rent for 40 bytes)
_ON_SLOT = tuple(s.market.on_slot for s in programs.SIMULATED if s.market.on_slot is not None)


@dataclass(frozen=True, slots=True)
class Trade:
    """One executed swap, as the logs of its transaction tell it."""

    signature: str
    program: str
    pool: str
    a_to_b: bool
    amount_in: int
    amount_out: int
    log: str  # the "Program log: ray_log: ..." or "Program data: ..." line
    logs: tuple[str, ...] = ()  # the whole transaction's logs, when the world writes them
    # (``WorldConfig.full_logs``); empty: subscribers see invoke, ``log``, success
    cu_price: int = -1  # its compute-unit price when the world knows it (a competitor's
    # bid); -1: the fee sample's (``SimServer.writable_fees``)
    # the program's event lines (``Program data: ...``; ``Logs.event``)
    events: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FailedSwap:
    """A swap transaction that failed on its program's slippage check (``failed_swap_rate``):
    it pays its fee and changes nothing; subscribers see its logs and error."""

    signature: str
    program: str
    pool: str
    err: Any  # {"InstructionError": [0, {"Custom": code}]}
    logs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SwapQuote:
    """What an exact-in swap would do: tokens taken and given; for a Whirlpool, the
    price, tick and liquidity after it."""

    paid_in: int
    out: int
    sqrt_price: int = 0
    tick: int = 0
    liquidity: int = 0
    after: Any = None  # a venue's own state after the swap (``Curve.quote``)


@dataclass(frozen=True, slots=True)
class SlotResult:
    """What one slot changed: accounts (in write order), trades, the slot's fee sample."""

    slot: int
    changed: list[str]
    trades: list[Trade]
    priority_fee: int  # the lowest CU price (micro-lamports) that landed in the slot
    congested: bool
    landed: tuple[Any, ...] = ()  # feeds.sim.chain.Landed: transactions that ran this slot
    failed: tuple[FailedSwap, ...] = ()  # swaps that failed (``failed_swap_rate``)


@dataclass(frozen=True, slots=True)
class WorldConfig:
    """The market's shape; the defaults make a lively screen."""

    seed: int = 7
    tokens: int = 16
    pools: int = 48
    bases: int = 2
    trades_per_slot: int = 12
    slot_seconds: float = 0.4
    volatility: float = 0.02  # of the fair prices, per sqrt(hour): 2 bps a slot
    jump_rate: float = 0.002  # per token per slot
    dislocation_rate: float = 0.3  # per slot: a large trade knocks one pool off
    arbitrageur_share: float = 0.6
    congestion_switch: float = 0.01  # per slot: calm <-> congested
    first_slot: int = 300_000_000
    # the Clock's unix time at slot 0 (``arbscope sim --export`` starts a market at slot
    # 0 and the time the node it is written for starts: a real validator's clock)
    time0: int = SIM_TIME0
    # what mainnet's stream has and the default one lacks (each off by default: on, the
    # stream differs from the recordings made without it; ``arbscope sim --mainnet-like``).
    # What a program writes to its accounts on every swap (``SimVenue.record_swap``: AMM
    # v4's counters, CP-Swap's fees and observation) is no switch: the world always
    # writes it, as the program does.
    full_logs: bool = False  # compute-unit lines, the inner token transfers, CP-Swap events
    failed_swap_rate: float = 0.0  # failed swaps (slippage) per successful one
    # the venues beyond the first three (Raydium CLMM, Meteora DLMM, PumpSwap) take their
    # share of the pools (``Market.share``); off, the market has the first three only
    venue_mix: bool = True
    # some invented tokens are Token-2022 mints (``synthetic.token2022_roles``): a fee
    # mint, a mint with a transfer hook, a plain one, a fee mint whose cap binds
    token2022: bool = True
    # competing arbitrageurs (``feeds.sim.competition``): this many of the ``rivals``
    # preset's roster race for the pools knocked off their price with real transactions
    # (0: none; their own draws, so the market's are the same either way), the preset's
    # knobs (None: its own): the fastest's reaction in slots, the best's median tip
    # (lamports), the keenest's smallest gap (bps)
    competitors: int = 0
    rivals: str = "mainnet"
    rival_reaction: int | None = None
    rival_tip: float | None = None
    rival_gap_bps: float | None = None
    # a folder of real program binaries (``arbscope sim --programs DIR``): the server's
    # chain runs transactions with them as its bank (:mod:`feeds.sim.bank`); "" none
    programs: str = ""
    # how often an order book's makers requote, in seconds of the world's time on average
    # (None: about every fourth slot, whatever a slot lasts). A world whose slots are
    # shorter than mainnet's for a busy market (``bench.ui``'s 40 ms) sets it, so its
    # books move as often a second as mainnet's, not ten times as often
    book_requote_s: float | None = None
    # a prop AMM per major pair (``feeds.sim.propamm``): closed-state market makers quoting
    # the fair price, updating first, traded by a taker, all through the chain (their own
    # draws: the market's are the same either way)
    prop_amms: bool = False

    @classmethod
    def mainnet_like(cls, **kw: Any) -> WorldConfig:
        """A config with every mainnet trait on (full logs, failed swaps)."""
        return cls(**{"full_logs": True, "failed_swap_rate": 0.15, **kw})


class World:
    """The simulated market (see the module docstring)."""

    def __init__(self, config: WorldConfig | None = None, backend: Any = None) -> None:
        self.config = c = config or WorldConfig()
        self.eng = backend or engine_rs.backend()
        self.rng = random.Random(c.seed)
        self.slot = c.first_slot
        self.congested = False
        self._touched: list[str] = []  # accounts written since the slot began
        self.accounts: dict[str, Account] = {}
        self._write_clock()
        self.pools: list[Pool] = []
        mk = synthetic.market(
            c.seed,
            c.tokens,
            c.pools,
            bases=c.bases,
            hub_share=0.35,
            clmm_share=0.3,
            dislocation=0.0,
            noise=0.0005,
            known=synthetic.real_prices(c.seed),
        )
        # the well-known tokens it names have their real mints, decimals and magnitudes
        # (SOL in the low hundreds of dollars, USDC and USDT at $1, the liquid staking
        # tokens at their SOL rate); the others are named (synthetic.named) and carry
        # Metaplex metadata accounts like real ones
        mk, self.tokens = synthetic.named(mk)
        if c.venue_mix:  # the venues beyond the first three take their share of pools
            synthetic.assign_venues(
                mk,
                c.seed,
                [
                    (s.venue.name, s.market.from_kind, s.market.share)
                    for s in programs.SIMULATED
                    if s.market.share and not s.market.beside
                ],
            )
            # the quote tokens of real markets, first preferred: the stablecoins, then SOL
            quotes = [t.mint for t in self.tokens if t.usd_stable]
            quotes += [t.mint for t in self.tokens if t.symbol == "SOL" and t.well_known]
            for s in programs.SIMULATED:  # an order book beside the AMM pools of its pair
                if s.market.share and s.market.beside:
                    synthetic.add_beside(mk, c.seed, s.venue.name, s.market.share, quotes)
        # Token-2022 mints among the invented tokens (their pools moved to venues that
        # take them); SPL Token for the others
        self.token2022: dict[str, str] = {}  # mint -> role (synthetic.TOKEN2022_ROLES)
        if c.token2022:
            invented = [t.mint for t in self.tokens if not t.well_known]
            self.token2022 = synthetic.token2022_roles(mk, invented)
            # a venue that trades no fee or hook mint has no pool of its own on one
            refusing = {s.venue.name for s in programs.SIMULATED if not s.token2022_fees}
            charged = {m for m, role in self.token2022.items() if role != "plain"}
            mk.pools = [
                p for p in mk.pools if not (p.venue in refusing and charged & {p.mint_a, p.mint_b})
            ]
        self.mints = list(mk.tokens)
        self.bases = list(mk.bases)
        self.fair = dict(zip(mk.tokens, mk.prices))
        # the pegged tokens (USDT to USDC, the liquid staking tokens to SOL): mint ->
        # (the mint it follows, its price in it), kept as the fair prices move
        self.pegs = {
            m: (anchor, self.fair[m] / self.fair[anchor])
            for m, anchor in synthetic.pegs(self.tokens).items()
        }
        drawn = {m: self.rng.choice([6, 9]) for m in self.mints}  # kept: the draws go on
        self.decimals = {t.mint: t.decimals for t in self.tokens}
        assert drawn.keys() == self.decimals.keys()
        self.token_programs: dict[str, str] = {}  # mint -> the program that owns it
        self.fee_configs: dict[str, tuple[T.Fee, T.Fee]] = {}  # the fee mints' configs
        for t in self.tokens:
            rec = D.Mint(None, 10**18, t.decimals, True, None)
            role = self.token2022.get(t.mint)
            if role is None:
                self.token_programs[t.mint] = SPL_TOKEN
                self.put(t.mint, SPL_TOKEN, L.encode_mint(rec))
                meta = L.encode_metaplex_metadata(t.mint, t.name[:32], t.symbol)
                self.put(metadata_address(t.mint), METADATA_PROGRAM, meta)
                continue
            self.token_programs[t.mint] = TOKEN_2022
            self.put(t.mint, TOKEN_2022, L.encode_token2022_mint(rec, self._extensions(t, role)))
            cfg = T.fee_config(self.accounts[t.mint].data)
            if cfg is not None:
                self.fee_configs[t.mint] = cfg
        # what a venue's pools share (CP-Swap's configs), by venue name
        self.venue_state: dict[str, Any] = {
            s.venue.name: s.market.setup(self) for s in programs.SIMULATED
        }
        for i, spec in enumerate(mk.pools):
            self.pools.append(self._make_pool(i, spec))
        self.by_address = {p.address: p for p in self.pools}
        self._sig = 0
        # the mainnet traits draw from a generator of their own, so switching them on
        # leaves the market's own draws (prices, trades) as they were
        self.extra_rng = random.Random(c.seed * 7_919 + 1)
        self.chain: Any = None  # the transaction runtime (feeds.sim.chain.Chain), if any
        self.competition: Competition | None = None
        roster = self.rivals().roster() if c.competitors else ()
        if roster:  # their keys funded at genesis (accounts of their own)
            self.competition = Competition(roster, c.seed, self)
        # the prop AMMs by program id (their accounts and keys funded at genesis)
        self.prop_amms: dict[str, propamm.SimPropAmm] = {}
        self.prop_rng = random.Random(c.seed * 15_485_863 + 3)
        if c.prop_amms:
            self.prop_amms = {a.program: a for a in propamm.setup(self)}
        self.last_fees = (0, 0)  # the last trade's transfer fees (in, out): its events say them
        # the swap a transaction is committing, as its program's log says it: (minimum
        # out, the user's source balance before); None: the market's own trade (no user)
        self.order: tuple[int, int] | None = None
        # trades a test scripts into every slot (after the prices move, before the
        # traders): called with the world, returns the trades it made
        self.script: Callable[[World], list[Trade]] | None = None

    def rivals(self) -> Rivals:
        """The competitors' settings of this world's config."""
        c = self.config
        return Rivals(c.rivals, c.competitors, c.rival_reaction, c.rival_tip, c.rival_gap_bps)

    def _extensions(self, t: synthetic.SimToken, role: str) -> dict[int, bytes]:
        """The Token-2022 extensions of an invented token made ``role``: its transfer fee
        or hook, then a metadata pointer to the mint itself and the token's metadata in
        it (as a pump.fun coin of ``create_v2`` carries them)."""
        authority = self.eng.b58decode(sim_key("token-authority", t.mint))
        epoch = self.epoch()
        ext: dict[int, bytes] = {}
        if role == "fee":  # 1 % now, 0.5 % before this epoch; the cap far away
            older, newer = (0, 10**18, 50), (epoch, 10**18, 100)
            ext[T.TRANSFER_FEE_CONFIG] = T.transfer_fee_config(older, newer, authority, authority)
        elif role == "fee_capped":  # 2 % up to 0.01 token a transfer; 2.5 % from next epoch
            cap = 10**t.decimals // 100
            older, newer = (0, cap, 200), (epoch + 1, cap, 250)
            ext[T.TRANSFER_FEE_CONFIG] = T.transfer_fee_config(older, newer, authority, authority)
        elif role == "hook":  # a transfer invokes a program of its own
            program = self.eng.b58decode(sim_key("transfer-hook-program", t.mint))
            ext[T.TRANSFER_HOOK] = authority + program
        mint = self.eng.b58decode(t.mint)
        ext[T.METADATA_POINTER] = bytes(32) + mint
        ext[T.TOKEN_METADATA] = L.encode_token_metadata(t.mint, t.name, t.symbol)
        return ext

    # ------------------------------------------------------------ the clock
    def epoch(self) -> int:
        """The epoch of the current slot (mainnet's schedule: no warmup)."""
        return self.slot // SLOTS_PER_EPOCH

    def unix_time(self) -> int:
        """The simulated chain's unix time (``Clock::unix_timestamp``): slots of
        ``slot_seconds`` since ``config.time0`` (:data:`SIM_TIME0`) at slot 0."""
        return self.config.time0 + int(self.slot * self.config.slot_seconds)

    def _write_clock(self) -> None:
        """The Clock sysvar of this slot (40 bytes: slot, epoch start time, epoch, leader
        schedule epoch, unix time), as a node serves and notifies it every slot."""
        epoch = self.slot // SLOTS_PER_EPOCH
        start = self.config.time0 + int(epoch * SLOTS_PER_EPOCH * self.config.slot_seconds)
        data = struct.pack("<QqQQq", self.slot, start, epoch, epoch + 1, self.unix_time())
        self.accounts[SYSVAR_CLOCK] = Account(SYSVAR_OWNER, data, CLOCK_RENT)
        self._touched.append(SYSVAR_CLOCK)

    # ------------------------------------------------------------ construction
    def put(self, address: str, owner: str, data: bytes) -> None:
        """Create (or overwrite) the account at ``address``, rent-exempt for its size."""
        self.accounts[address] = Account(owner, data, RENT.get(len(data)) or rent_exempt(len(data)))

    def vault(
        self, address: str, mint: str, owner: str, amount: int, immutable_owner: bool = False
    ) -> None:
        """A token account of ``mint`` owned by ``owner`` holding ``amount``, of the
        mint's program: a Token-2022 mint's with the extensions its mint requires (and
        ImmutableOwner first when ``immutable_owner``: an ATA, the vaults some programs
        create; see :mod:`feeds.sim.token`)."""
        # an account of the native mint (wrapped SOL) is native: SPL Token's
        # InitializeAccount sets is_native to its rent-exempt reserve (LiteSVM agrees,
        # tests/feeds/sim/test_chain.py), and its lamports are that reserve plus the amount
        # (a native transfer moves both: the real token program refuses to move more
        # than the lamports above the reserve)
        native = RENT[L.TOKEN_ACCOUNT_LEN] if mint == NATIVE_MINT else None
        rec = D.TokenAccount(mint, owner, amount, None, 1, native, 0, None)
        program = self.token_programs.get(mint, SPL_TOKEN)
        data = L.encode_token_account(rec)
        if program == TOKEN_2022:
            data = T.extend_account(
                data, T.account_extensions(self.accounts[mint].data, immutable_owner)
            )
        self.put(address, program, data)
        if native is not None:
            self.accounts[address].lamports = native + amount

    def _make_pool(self, i: int, spec: synthetic.PoolSpec) -> Pool:
        """The ``i``-th synthetic pool as a pool of the one venue that takes it."""
        (sim,) = [s for s in programs.SIMULATED if s.market.takes(spec)]
        return sim.market.create(self, i, spec)

    # ------------------------------------------------------------ the market
    def fair_price(self, pool: Pool) -> float:
        """Units of b per unit of a at the hidden fair prices."""
        return self.fair[pool.mint_a] / self.fair[pool.mint_b]

    def pool_price(self, pool: Pool) -> float:
        curve = programs.by_kind(pool.kind).curve
        if curve is not None:
            return curve.price(pool)
        s = pool.spec
        if s.kind == "cpmm":
            return s.reserve_b / s.reserve_a
        return (s.sqrt_price_x64 / 2**64) ** 2

    def _move_prices(self) -> None:
        c, r = self.config, self.rng
        dt_hours = c.slot_seconds / 3600.0
        sigma = c.volatility * math.sqrt(dt_hours)
        for m in self.mints:
            if m == self.mints[0]:
                continue  # the numeraire
            z = r.gauss(0.0, 1.0) * sigma - 0.5 * sigma * sigma
            if r.random() < c.jump_rate:
                z += r.gauss(0.0, 0.01)
            self.fair[m] *= math.exp(z)
        for m, (anchor, ratio) in self.pegs.items():
            self.fair[m] = self.fair[anchor] * ratio

    def _signature(self) -> str:
        self._sig += 1
        digest = hashlib.sha512(f"sig:{self.config.seed}:{self._sig}".encode()).digest()
        return str(self.eng.b58encode(digest))

    def swap(self, pool: Pool, a_to_b: bool, amount: int, cu_price: int = -1) -> Trade | None:
        """Execute one exact-in swap of ``amount`` sent to ``pool`` with the engine's
        math (a fee mint's transfer fee withheld in the vault first); the accounts it
        writes are updated. None when the pool cannot take it (out of liquidity).
        ``cu_price``: the trader's compute-unit price, when it is known."""
        fee = self.transfer_fee(pool.mint_a if a_to_b else pool.mint_b, amount)
        q = self.quote_swap(pool, a_to_b, amount - fee)
        if q is None or q.out > self.balance(pool.vault_b if a_to_b else pool.vault_a):
            return None  # (more than its vault holds: the token program refuses the transfer)
        t = self.commit_swap(pool, a_to_b, q, self._signature(), fee_in=fee)
        return t if cu_price < 0 else replace(t, cu_price=cu_price)

    def amount_to_close(self, pool: Pool, a_to_b: bool, log_gap: float) -> int:
        """About what to send into ``pool`` (direction ``a_to_b``) to move its price by
        ``log_gap`` (natural log): a share of the input side's depth (the traders'
        rule: a ``frac`` of the depth moves a constant-product price by about 2 x frac),
        at most what the pool can take (:meth:`fillable`: a concentrated pool's depth
        is its virtual reserve, and its liquidity may end first — an arbitrageur sends
        what fills, it does not give up on the gap)."""
        return self.fillable(pool, a_to_b, self._trade_size(pool, a_to_b, min(0.05, log_gap / 2)))

    def fillable(self, pool: Pool, a_to_b: bool, amount: int) -> int:
        """``amount``, or the most below it (to 0.1 %) that ``pool`` takes whole in an
        exact-in swap (its liquidity, its book or its bins run out beyond); 0: none."""
        mint_in = pool.mint_a if a_to_b else pool.mint_b

        def fits(x: int) -> bool:
            return self.quote_swap(pool, a_to_b, x - self.transfer_fee(mint_in, x)) is not None

        if amount <= 0 or fits(amount):
            return max(0, amount)
        lo, hi = 0, amount  # lo is taken (nothing trivially), hi is not
        while hi - lo > max(1, hi // 1_000):
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        return lo

    # ------------------------------------------------------------ Token-2022 fees
    def transfer_fee(self, mint: str, amount: int) -> int:
        """What a transfer of ``amount`` of ``mint`` withholds now (0 but for a fee mint)."""
        cfg = self.fee_configs.get(mint)
        if cfg is None or amount <= 0:
            return 0
        fee: int = self.eng.transfer_fee(cfg, self.epoch(), amount)
        return fee

    def pre_fee_amount(self, mint: str, post: int) -> int:
        """What must be sent of ``mint`` for ``post`` to arrive (``post`` but for a fee
        mint)."""
        cfg = self.fee_configs.get(mint)
        if cfg is None:
            return post
        pre: int = self.eng.pre_fee_amount(cfg, self.epoch(), post)
        return pre

    def transfer_hook(self, mint: str) -> str | None:
        """The program a mint's transfer hook invokes (None: none)."""
        acc = self.accounts.get(mint)
        if acc is None or acc.owner != TOKEN_2022:
            return None
        program = T.transfer_hook_program(acc.data)
        return None if program is None else str(self.eng.b58encode(program))

    def quote_swap(self, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
        """What an exact-in swap of ``amount`` would do to ``pool`` now (nothing changes);
        None when the pool cannot take it (no output, or out of liquidity)."""
        from engine_rs.errors import EngineError

        try:
            return self._quote(pool, a_to_b, amount)
        except EngineError:
            return None

    def _quote(self, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
        """:meth:`quote_swap`, letting the engine's errors through (the simulator's
        runtime turns them into program errors)."""
        curve = programs.by_kind(pool.kind).curve
        if curve is not None:
            return curve.quote(self, pool, a_to_b, amount)
        s = pool.spec
        if s.kind == "cpmm":
            rin, rout = (s.reserve_a, s.reserve_b) if a_to_b else (s.reserve_b, s.reserve_a)
            out = self.eng.cpmm_amount_out(amount, rin, rout, s.fee_num, s.fee_den)
            if out <= 0 or out >= rout:
                return None
            return SwapQuote(amount, out)
        res = self.eng.orca_whirlpool.swap(*clmm.state_args(s), s.ticks, amount, a_to_b)
        return None if res.amount_out <= 0 else clmm.quote_of(res)

    def commit_swap(
        self, pool: Pool, a_to_b: bool, q: SwapQuote, signature: str, fee_in: int = 0
    ) -> Trade:
        """Apply a quoted swap: the pool's state, its vaults (and account; ``fee_in``: the
        transfer fee the input vault withholds), the log line (with ``full_logs``, the
        transaction's whole logs)."""
        s = pool.spec
        paid_in, out = q.paid_in, q.out
        sim = programs.by_kind(pool.kind)
        venue = sim.venue
        vin, vout = (pool.vault_a, pool.vault_b) if a_to_b else (pool.vault_b, pool.vault_a)
        fin, fout = (pool.fees_a, pool.fees_b) if a_to_b else (pool.fees_b, pool.fees_a)
        # the reserves before the swap (vaults less fees) and the tick it starts from
        before = (self.balance(vin) - fin, self.balance(vout) - fout, s.tick_current)
        kept = 0  # of the input, what the program keeps outside the reserves (its fees)
        if sim.record_swap is not None:
            kept = sim.record_swap(self, pool, a_to_b, paid_in, out)
            if kept:
                if a_to_b:
                    pool.fees_a += kept
                else:
                    pool.fees_b += kept
        if sim.curve is not None:
            sim.curve.apply(self, pool, a_to_b, q, kept)
        elif s.kind == "cpmm":
            if a_to_b:
                s.reserve_a, s.reserve_b = s.reserve_a + paid_in - kept, s.reserve_b - out
            else:
                s.reserve_b, s.reserve_a = s.reserve_b + paid_in - kept, s.reserve_a - out
        else:
            s.sqrt_price_x64, s.tick_current, s.liquidity = q.sqrt_price, q.tick, q.liquidity
        self._write_pool(pool, a_to_b, paid_in, out)
        if fee_in:
            self.withhold(vin, fee_in)
        # the transfer fees of this trade (input, output), for the events that report them
        self.last_fees = (fee_in, self.transfer_fee(pool.mint_b if a_to_b else pool.mint_a, out))
        if sim.record_swap is not None:
            self._touched.insert(len(self._touched) - 2, pool.address)  # before its vaults
        log = sim.market.swapped(self, pool, a_to_b, paid_in, out)
        logs: tuple[str, ...] = ()
        event = sim.logs.event
        extra: tuple[str, ...] = ()
        if event is not None:  # its lines, one a line
            extra = tuple(
                x for x in event(self, pool, a_to_b, paid_in, out, before).split("\n") if x
            )
        if self.config.full_logs:
            mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
            tokens = (self.token_programs[mint_in], self.token_programs[mint_out])
            logs = swap_logs(sim, log, extra, sim.program.cost(pool, before[2]), tokens)
        return Trade(
            signature, venue.program, pool.address, a_to_b, paid_in, out, log, logs, events=extra
        )

    def _failed_swaps(self) -> list[FailedSwap]:
        """This slot's failed swaps (``failed_swap_rate``): a trader's minimum above what
        the pool would give, refused by the program's slippage check."""
        c, r = self.config, self.extra_rng
        out: list[FailedSwap] = []
        n = c.trades_per_slot * c.failed_swap_rate
        count = int(n) + (1 if r.random() < n - int(n) else 0)
        for _ in range(count):
            pool = r.choice(self.pools)
            sim = programs.by_kind(pool.kind)
            venue = sim.venue
            code = venue.slippage_error
            prog = venue.program
            cost = sim.program.cost(pool, pool.spec.tick_current) // 2
            head: tuple[str, ...] = ()
            if venue.anchor:
                head = (f"Program log: Instruction: {sim.program.name}",)
            elif sim.logs.slippage_lines is not None:  # it logs the swap, then fails
                a_to_b = r.random() < 0.5
                amount = self._trade_size(pool, a_to_b, r.uniform(0.00002, 0.0008))
                q = self.quote_swap(pool, a_to_b, amount)
                if q is not None:
                    head = sim.logs.slippage_lines(self, pool, a_to_b, q.paid_in, q.out)
            logs = (
                f"Program {prog} invoke [1]",
                *head,
                f"Program {prog} consumed {cost} of {CU_LIMIT} compute units",
                f"Program {prog} failed: custom program error: 0x{code:x}",
            )
            err = {"InstructionError": [0, {"Custom": code}]}
            out.append(FailedSwap(self._signature(), prog, pool.address, err, logs))
        return out

    # ------------------------------------------------------------ user accounts
    def lamports(self, address: str) -> int:
        acc = self.accounts.get(address)
        return 0 if acc is None else acc.lamports

    def credit_lamports(self, address: str, lamports: int) -> None:
        """Add lamports to ``address`` (a system account, created when new)."""
        acc = self.accounts.get(address)
        if acc is None:
            self.accounts[address] = Account(SYSTEM_PROGRAM, b"", lamports)
        else:
            acc.lamports += lamports
        self._touched.append(address)

    def open_token_account(self, address: str, mint: str, owner: str, amount: int = 0) -> None:
        """A new associated token account (the runtime's ATA program, or the faucet's):
        of the mint's program; a Token-2022 one with ImmutableOwner."""
        self.vault(address, mint, owner, amount, immutable_owner=True)
        self._touched.append(address)

    def token_account(self, address: str) -> D.TokenAccount | None:
        """The token account (either program) at ``address``, decoded (None: not one)."""
        acc = self.accounts.get(address)
        if acc is None or acc.owner not in T.PROGRAMS or len(acc.data) < L.TOKEN_ACCOUNT_LEN:
            return None
        if len(acc.data) > L.TOKEN_ACCOUNT_LEN and acc.data[L.TOKEN_ACCOUNT_LEN] != 2:
            return None  # a Token-2022 mint, not an account
        rec: D.TokenAccount = self.eng.decode_token_account(acc.data, acc.owner)
        return rec

    def move_tokens(self, address: str, delta: int, withheld: int = 0) -> None:
        """Add ``delta`` (may be negative) to a token account's amount, and ``withheld``
        to the transfer fee it holds back (a fee mint's account)."""
        self._set_balance(address, self.balance(address) + delta)
        if withheld:
            self.withhold(address, withheld)
        self._touched.append(address)

    def withhold(self, address: str, fee: int) -> None:
        """Add ``fee`` to what a fee mint's token account withholds (TransferFeeAmount)."""
        acc = self.accounts[address]
        acc.data = T.with_withheld(acc.data, fee)

    def balance(self, vault: str) -> int:
        """The amount a token account holds (its bytes 64..72), in base units."""
        return int.from_bytes(self.accounts[vault].data[64:72], "little")

    def _set_balance(self, vault: str, amount: int) -> None:
        acc = self.accounts[vault]
        acc.data = acc.data[:64] + amount.to_bytes(8, "little") + acc.data[72:]
        if acc.data[109:113] == NATIVE_TAG:  # wrapped SOL: the reserve plus the amount
            acc.lamports = int.from_bytes(acc.data[113:121], "little") + amount

    def _write_pool(self, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> None:
        va, vb = (pool.vault_a, pool.vault_b) if a_to_b else (pool.vault_b, pool.vault_a)
        self._set_balance(va, self.balance(va) + paid_in)
        left = self.balance(vb) - out
        if left < 0:  # the callers refuse it first, as the token program refuses it
            raise ValueError(f"vault {vb} pays {out} holding {self.balance(vb)}")
        self._set_balance(vb, left)
        self._touched.extend(
            [pool.address, pool.vault_a, pool.vault_b]
            if programs.by_kind(pool.kind).state_in_pool_account
            else [pool.vault_a, pool.vault_b]
        )

    def _trade_size(self, pool: Pool, a_to_b: bool, frac: float) -> int:
        s = pool.spec
        curve = programs.by_kind(pool.kind).curve
        if curve is not None:
            depth: float = curve.depth(pool, a_to_b)
        elif s.kind == "cpmm":
            depth = s.reserve_a if a_to_b else s.reserve_b
        else:
            sqrt = s.sqrt_price_x64 / 2**64
            depth = s.liquidity / sqrt if a_to_b else s.liquidity * sqrt
        return max(1, min(2**62, int(depth * frac)))

    def step(self) -> SlotResult:
        """One slot: prices move, traders and arbitrageurs trade, sometimes a pool is
        knocked off its price. Returns what changed."""
        c, r = self.config, self.rng
        self.slot += 1
        between = self._touched  # written between slots (the faucet, a test's own trade)
        self._touched = []
        self._write_clock()
        trades: list[Trade] = []
        landed: list[Any] = []
        if self.chain is None and (self.competition is not None or self.prop_amms):
            from .chain import Chain

            Chain(self)  # the competitors send transactions: a node's runtime lands them
        # transactions sent last slot (the competitors' due among them) land first in this
        # one, in the leader's order
        if self.chain is not None:
            landed = self.chain.land(self.slot)
        self._move_prices()
        if self.prop_amms:  # the prop AMMs quote the new fair prices first, then a taker
            landed += propamm.on_slot(self, list(self.prop_amms.values()), self.prop_rng)
        for v in _ON_SLOT:  # the venues' own per-slot part (an order book's makers)
            v(self)
        if self.script is not None:
            trades += self.script(self)
        if r.random() < c.congestion_switch:
            self.congested = not self.congested
        for _ in range(c.trades_per_slot):
            pool = r.choice(self.pools)
            gap = math.log(self.pool_price(pool) / self.fair_price(pool))
            if r.random() < c.arbitrageur_share and abs(gap) > 0.0005:
                # sell the expensive side until about half of the gap is gone
                a_to_b = gap > 0
                frac = min(0.05, abs(gap) / 4)
            else:
                a_to_b = r.random() < 0.5
                frac = r.uniform(0.00002, 0.0008)
            t = self.swap(pool, a_to_b, self._trade_size(pool, a_to_b, frac))
            if t is not None:
                trades.append(t)
        if r.random() < c.dislocation_rate:
            pool = r.choice(self.pools)
            a_to_b = r.random() < 0.5
            t = self.swap(pool, a_to_b, self._trade_size(pool, a_to_b, r.uniform(0.004, 0.012)))
            if t is not None:
                trades.append(t)
        failed = self._failed_swaps() if c.failed_swap_rate > 0 else []
        if self.competition is not None:  # they see the slot as it ends
            self.competition.observe(self, [*between, *self._touched])
        changed = list(dict.fromkeys(self._touched))
        if self.congested:
            fee = int(r.lognormvariate(math.log(200_000), 0.6))
        else:
            fee = 0 if r.random() < 0.4 else int(r.lognormvariate(math.log(2_000), 1.0))
        return SlotResult(
            self.slot, changed, trades, fee, self.congested, tuple(landed), tuple(failed)
        )

    # ------------------------------------------------------------ what clients ask
    def universe(self) -> list[tuple[str, str]]:
        """Every pool as ``(address, kind)``: what a pool-universe file would list."""
        return [(p.address, p.kind) for p in self.pools]


def rent_exempt(data_len: int) -> int:
    """The rent-exempt minimum of an account of ``data_len`` bytes (default rent: 3,480
    lamports per byte-year, 2 years, 128 bytes of account overhead)."""
    return (128 + data_len) * 3_480 * 2


CU_LIMIT = 200_000  # a swap transaction's compute budget (one instruction, no request)
TOKEN_CU = {"Transfer": 4_645, "TransferChecked": 6_238}  # what SPL Token's transfers take


def swap_logs(
    sim: SimVenue,
    line: str,
    extra: tuple[str, ...],
    cost: int,
    tokens: tuple[str, str] = (SPL_TOKEN, SPL_TOKEN),
) -> tuple[str, ...]:
    """A swap transaction's logs as mainnet shows them: the program's invocation, its
    own line (and event), the two inner token transfers (in, then out, each by its mint's
    program in ``tokens``: Token-2022's always ``TransferChecked``) with their compute
    units, then what the program consumed of the budget (``cost`` units in all)."""
    prog = sim.venue.program
    inner: list[str] = []
    left = CU_LIMIT - cost // 3
    for token in tokens:
        ix = sim.logs.token_instruction if token == SPL_TOKEN else "TransferChecked"
        used = TOKEN_CU[ix] if token == SPL_TOKEN else T.CU[(token, ix)]
        inner += [
            f"Program {token} invoke [2]",
            f"Program log: Instruction: {ix}",
            f"Program {token} consumed {used} of {left} compute units",
            f"Program {token} success",
        ]
        left -= used + cost // 6
    own = [line, *extra]
    if sim.logs.log_after_transfers:
        body = [f"Program log: Instruction: {sim.program.name}", *inner, *own]
    elif line.startswith("Program log: Instruction:"):
        body = [line, *extra, *inner]
    else:
        body = [*own, *inner]
    return (
        f"Program {prog} invoke [1]",
        *body,
        f"Program {prog} consumed {cost} of {CU_LIMIT} compute units",
        f"Program {prog} success",
    )
