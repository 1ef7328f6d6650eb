"""Meteora DLMM's simulated program (the simulator's part of
:mod:`feeds.venues.meteora_dlmm`; only the simulator and tests import it): the encoders
of ``LbPair``, ``Oracle`` and ``BinArray``, ``swap`` / ``swap2``'s checks, the market's
pairs (:class:`PairShape`, :func:`create_pair`), a swap as the program writes it (bins,
pair, oracle) and the events it emits by self-CPI (:func:`swap_events`) (:data:`SIM`)."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from engine_rs import decoded as D
from engine_rs.errors import TicksMissingError

from ...sim import venue as sv
from ...sim.state import InnerIx, Pool, sim_key
from ...sim.venue import ANCHOR_CONSTRAINT_ADDRESS, InstructionFailed, ProgramError
from ...wire.instructions import MEMO_PROGRAM, SPL_TOKEN, TOKEN_2022, Swap
from ...wire.writer import Writer
from . import (
    BIN_ARRAY_LEN,
    BIN_LEN,
    BINS_PER_ARRAY,
    BITMAP_SIZE,
    COMPUTE_UNITS,
    DISC_BIN_ARRAY,
    DISC_LB_PAIR,
    DISC_ORACLE,
    EMPTY_BINS_PER_STEP,
    IDS,
    ORACLE_LENGTH,
    POOL_LEN,
    PROGRAM,
    SAMPLE_LIFETIME,
    VENUE,
    bin_array_address,
    decode_pool,
    event_authority,
    lb_pair_pda,
    next_array,
    oracle_address,
    reserve_address,
    swap_array_indexes,
)
from .layout import _raw

if TYPE_CHECKING:
    from ...sim import synthetic
    from ...sim.world import SwapQuote, World


ANCHOR_NOT_ENOUGH_KEYS = 3005  # anchor-lang AccountNotEnoughKeys


# ------------------------------------------------------------------ simulator: layouts
def encode_lb_pair(r: Any, base: bytes | None = None) -> bytes:
    """Meteora DLMM ``LbPair`` (904 bytes, ``idls/dlmm.json``)."""
    w = Writer(POOL_LEN, base, DISC_LB_PAIR)
    b = w.buf
    struct.pack_into(
        "<HHHHIIiiHBBB",
        b,
        8,
        r.base_factor,
        r.filter_period,
        r.decay_period,
        r.reduction_factor,
        r.variable_fee_control,
        r.max_volatility_accumulator,
        r.min_bin_id,
        r.max_bin_id,
        r.protocol_share,
        r.base_fee_power_factor,
        r.function_type,
        r.collect_fee_mode,
    )
    struct.pack_into(
        "<IIi", b, 40, r.volatility_accumulator, r.volatility_reference, r.index_reference
    )
    struct.pack_into("<q", b, 56, r.last_update_timestamp)
    struct.pack_into(
        "<BHBiHBBHBB",
        b,
        72,
        r.bump_seed,
        r.bin_step_seed,
        r.pair_type,
        r.active_id,
        r.bin_step,
        r.status,
        r.require_base_factor_seed,
        r.base_factor_seed,
        r.activation_type,
        r.creator_pool_on_off_control,
    )
    for off, k in (
        (88, r.token_x_mint),
        (120, r.token_y_mint),
        (152, r.reserve_x),
        (184, r.reserve_y),
        (264, r.reward_mints[0]),
        (408, r.reward_mints[1]),
        (552, r.oracle),
        (752, r.pre_activation_swap_address),
        (784, r.base_key),
        (848, r.creator),
    ):
        w.key(off, k)
    w.u64(216, r.protocol_fee_x)
    w.u64(224, r.protocol_fee_y)
    struct.pack_into("<16Q", b, 584, *r.bin_array_bitmap)
    struct.pack_into("<q", b, 712, r.last_updated_at)
    w.u64(816, r.activation_point)
    w.u64(824, r.pre_activation_duration)
    struct.pack_into(
        "<BBB", b, 880, r.token_mint_x_program_flag, r.token_mint_y_program_flag, r.version
    )
    return w.done()


def encode_oracle(
    idx: int,
    active_size: int,
    length: int,
    observations: Sequence[tuple[int, int, int]],
    base: bytes | None = None,
) -> bytes:
    """An ``Oracle`` (``state/oracle.rs``): idx, active_size, length (u64 each) after the
    discriminator, then ``length`` observations of (cumulative_active_bin_id i128,
    created_at i64, last_updated_at i64)."""
    size = 32 + 32 * length
    w = Writer(size, base, DISC_ORACLE)
    struct.pack_into("<QQQ", w.buf, 8, idx, active_size, length)
    for i, (cum, created, last) in enumerate(observations):
        w.i128(32 + 32 * i, cum)
        struct.pack_into("<qq", w.buf, 48 + 32 * i, created, last)
    return w.done()


def encode_bin_array(
    index: int, pair: str, bins: Sequence[Sequence[int]], base: bytes | None = None
) -> bytes:
    """A ``BinArray`` (10,136 bytes, version 2) with its 70 bins as ``(amount_x,
    amount_y, price, liquidity_supply, open_order_amount,
    processed_order_remaining_amount, limit_order_ask_side)`` (the other fields zero)."""
    if len(bins) != BINS_PER_ARRAY:
        raise ValueError(f"a bin array holds {BINS_PER_ARRAY} bins, not {len(bins)}")
    w = Writer(BIN_ARRAY_LEN, base, DISC_BIN_ARRAY)
    b = w.buf
    struct.pack_into("<qB", b, 8, index, 2)
    w.key(24, pair)
    for i, (ax, ay, price, liq, open_, processed, ask) in enumerate(bins):
        o = 56 + BIN_LEN * i
        struct.pack_into("<QQ", b, o, ax, ay)
        w.u128(o + 16, price)
        w.u128(o + 32, liq)
        w.u64(o + 112, open_)
        w.u64(o + 128, processed)
        w.u8(o + 140, ask)
    return w.done()


# ------------------------------------------------------------------ simulator: market
SIM_BIN_STEPS = (20, 50, 100)  # bp; the smallest that keeps the pair in its own bitmap
SIM_BINS_EACH_SIDE = 45  # bins holding liquidity on each side of the active one
NO_KEY = "11111111111111111111111111111111"
# a bin's fields the simulated swap writes (offsets in its 144 bytes, idls/dlmm.json Bin)
BIN_AMOUNT_X, BIN_AMOUNT_Y, BIN_PRICE, BIN_LIQUIDITY = 0, 8, 16, 32
BIN_FEE_X_PER_TOKEN, BIN_FEE_Y_PER_TOKEN = 80, 96
MAX_FEE_RATE = 100_000_000  # 10 % of FEE_PRECISION (1e9)
EVENT_IX_TAG = bytes.fromhex("e445a52e51cb9a1d")  # Anchor's emit_cpi! instruction tag
DISC_SWAP_EVENT = bytes([81, 108, 227, 190, 205, 208, 10, 196])  # sha256("event:Swap")[..8]
DISC_SWAP2_EVENT = bytes([46, 116, 82, 215, 148, 27, 84, 77])  # sha256("event:Swap2Evt")[..8]


def sim_now(world: World) -> int:
    """The simulated clock's unix time now (the world's Clock sysvar)."""
    return world.unix_time()


@dataclass(frozen=True, slots=True)
class Swapped:
    """What the program's last swap of a pair says in its events (``Swap``,
    ``Swap2Evt``): the bins it started and ended at, the direction, what the user sent
    (the input's transfer fee included) and what the pair paid (before the output's), its
    fees (the market makers', the protocol's, the limit orders'), the fee rate at its end,
    where the fee was taken, and the bins it filled and walked through (its compute
    units)."""

    start_bin_id: int
    end_bin_id: int
    swap_for_y: bool
    amount_in: int
    amount_out: int
    mm_fee: int
    protocol_fee: int
    limit_order_fee: int
    fee_rate: int
    fee_on_input: bool
    filled: int = 1  # bins it filled
    visited: int = 1  # bins it walked through (filled or empty; not the arrays skipped)

    @property
    def steps(self) -> int:
        """Its compute-unit steps (:data:`COMPUTE_UNITS`): each bin filled after the
        first, and one for every :data:`EMPTY_BINS_PER_STEP` empty bins walked past."""
        empty = max(0, self.visited - self.filled)
        return max(0, self.filled - 1) + -(-empty // EMPTY_BINS_PER_STEP)


@dataclass(slots=True)
class DlmmMarket:
    """A simulated pair's bin arrays (index -> (address, its 70 bins as ``[amount_x,
    amount_y, price, liquidity_supply, open orders, processed orders remaining, ask
    side]``) and its last swap (None before one)."""

    arrays: dict[int, tuple[str, list[list[int]]]]
    last: Swapped | None = None
    # the instruction the runtime is running on the pair (``Swap2``, set by its checks;
    # empty: the one arbscope's builder picks, ``swap2`` for a Token-2022 mint)
    instruction: str = ""


@dataclass(frozen=True, slots=True)
class PairShape:
    """A pair to create (:func:`create_pair`): its bin step, base factor (the base fee
    ``base_factor * bin_step * 10 * 10^base_fee_power_factor`` per 1e9) and variable fee
    parameters (``StaticParameters``), the active bin, the liquidity of each bin
    (``bins``: id -> (amount_x, amount_y)), its volatility state now (accumulator,
    reference, index reference; None: all at rest on the active bin) and how many
    seconds ago its last swap moved the active bin (``idle``). ``collect_fee_mode`` 1:
    the fee is taken in token Y (on the output of a swap X for Y)."""

    bin_step: int
    base_factor: int
    active_id: int
    bins: Mapping[int, tuple[int, int]]
    filter_period: int = 30
    decay_period: int = 600
    reduction_factor: int = 5_000
    variable_fee_control: int = 7_500
    max_volatility_accumulator: int = 350_000
    protocol_share: int = 500
    base_fee_power_factor: int = 0
    collect_fee_mode: int = 0
    volatility: tuple[int, int, int] | None = None
    idle: int = 0


def _takes(spec: synthetic.PoolSpec) -> bool:
    """The synthetic pools the world gives this venue (``spec.venue``)."""
    return spec.venue == IDS.name


def _program_flag(world: World, mint: str) -> int:
    """``LbPair.token_mint_x/y_program_flag``: 0 SPL Token, 1 Token-2022."""
    return int(world.token_programs.get(mint, SPL_TOKEN) != SPL_TOKEN)


def _create(world: World, i: int, spec: synthetic.PoolSpec) -> Pool:
    """A pair from a constant-product spec's price and depth: bins of ``bin_step``
    around the active one (X above, Y below, both in the active bin), the fee the spec's
    (base factor), a small variable fee (:func:`create_pair`)."""
    price = spec.reserve_b / spec.reserve_a
    for step in SIM_BIN_STEPS:
        active = round(math.log(price) / math.log1p(step / 10_000))
        if abs(active) // BINS_PER_ARRAY < BITMAP_SIZE - 2:
            break
    fee = spec.fee_num * 1_000_000_000 // spec.fee_den  # per 1e9
    base_factor = max(1, min(0xFFFF, fee // (step * 10)))
    n = SIM_BINS_EACH_SIDE
    unit_x, unit_y = spec.reserve_a // (n + 1), spec.reserve_b // (n + 1)
    bins = {
        b: (unit_x if b >= active else 0, unit_y if b <= active else 0)
        for b in range(active - n, active + n + 1)
    }
    return create_pair(world, i, spec, PairShape(step, base_factor, active, bins))


def create_pair(world: World, i: int, spec: synthetic.PoolSpec, shape: PairShape) -> Pool:
    """A permissionless pair of ``spec``'s mints (X its mint a) shaped as ``shape``, as
    ``initialize_lb_pair2`` and deposits leave it: the ``LbPair`` at its PDA ``[min mint,
    max mint, bin_step, base_factor]`` with the seeds the program signs its reserves with
    (``require_base_factor_seed`` 1, ``base_factor_seed``, ``bin_step_seed``, the bump:
    ``LbPair::seeds``, ``state/lb_pair.rs``; a second pair of the same mints and step
    takes the next base factor free), its ``Oracle`` at ``["oracle", pair]`` (no sample
    yet), the bin arrays holding ``shape.bins`` at their PDAs (each bin's price stored,
    its liquidity supply ``amount_x * price + amount_y << 64``: a first deposit's shares)
    and the reserves at ``[pair, mint]`` holding the bins' amounts. ``spec`` takes the
    pair's address and market state; the pool is returned (the world lists it)."""
    eng = world.eng
    mx, my = spec.mint_a, spec.mint_b
    step, base_factor = shape.bin_step, shape.base_factor
    addr, bump = lb_pair_pda(mx, my, step, base_factor)
    while addr in world.accounts:  # a second pair of the same mints and fee
        base_factor += 1
        addr, bump = lb_pair_pda(mx, my, step, base_factor)
    spec.pool_id = addr
    rx, ry = reserve_address(addr, mx), reserve_address(addr, my)
    arrays: dict[int, tuple[str, list[list[int]]]] = {}
    for bin_id, (x, y) in sorted(shape.bins.items()):
        idx = bin_id // BINS_PER_ARRAY
        if idx not in arrays:
            bins = [[0, 0, 0, 0, 0, 0, 0] for _ in range(BINS_PER_ARRAY)]
            arrays[idx] = (bin_array_address(addr, idx), bins)
        p = eng.meteora_dlmm.bin_price(bin_id, step)
        arrays[idx][1][bin_id - idx * BINS_PER_ARRAY] = [x, y, p, x * p + (y << 64), 0, 0, 0]
    bitmap = [0] * 16
    for idx in arrays:
        off = idx + BITMAP_SIZE
        bitmap[off // 64] |= 1 << (off % 64)
    now = sim_now(world)
    acc, ref, index_ref = shape.volatility or (0, 0, shape.active_id)
    rec = D.MeteoraLbPair(
        shape.base_factor,
        shape.filter_period,
        shape.decay_period,
        shape.reduction_factor,
        shape.variable_fee_control,
        shape.max_volatility_accumulator,
        -443_636,
        443_636,
        shape.protocol_share,
        shape.base_fee_power_factor,
        0,
        shape.collect_fee_mode,
        acc,
        ref,
        index_ref,
        now - shape.idle,
        bump,
        step,
        0,
        shape.active_id,
        step,
        0,
        1,
        base_factor,
        0,
        0,
        mx,
        my,
        rx,
        ry,
        0,
        0,
        (NO_KEY, NO_KEY),
        oracle_address(addr),
        tuple(bitmap),
        now,
        NO_KEY,
        NO_KEY,
        0,
        0,
        sim_key("dlmm-creator", i),
        _program_flag(world, mx),
        _program_flag(world, my),
        1,
    )
    world.put(addr, PROGRAM, encode_lb_pair(rec))
    world.put(rec.oracle, PROGRAM, encode_oracle(0, 0, ORACLE_LENGTH, ()))
    for idx, (a, bins) in sorted(arrays.items()):
        world.put(a, PROGRAM, encode_bin_array(idx, addr, bins))
    total_x = sum(b[0] for _, bins in arrays.values() for b in bins)
    total_y = sum(b[1] for _, bins in arrays.values() for b in bins)
    world.vault(rx, mx, addr, total_x)
    world.vault(ry, my, addr, total_y)
    spec.state = DlmmMarket(arrays)
    spec.tick_current = shape.active_id
    names = [a for _, (a, _) in sorted(arrays.items())]
    return Pool(IDS.kind, addr, mx, my, rx, ry, rec, spec, tick_arrays=names)


def _market(pool: Pool) -> DlmmMarket:
    state = pool.spec.state
    assert isinstance(state, DlmmMarket)
    return state


def _quote(
    world: World, pool: Pool, a_to_b: bool, amount: int, arrays: Sequence[str] | None = None
) -> SwapQuote | None:
    """The program's swap now (the engine's ``meteora_dlmm.swap`` on the accounts'
    bytes, at the Clock sysvar's time): ``after`` is the engine's ``DlmmSwapQuote``
    (active bin, volatility, fills); None when it pays nothing, or nothing after the
    output mint's transfer fee (the program refuses both: 6039)."""
    from ...sim.world import SwapQuote

    keys = pool.tick_arrays if arrays is None else arrays
    data = [world.accounts[k].data for k in keys if k in world.accounts]
    r = world.eng.meteora_dlmm.swap(
        world.accounts[pool.address].data, data, amount, a_to_b, sim_now(world), world.slot
    )
    if r is None:
        return None
    mint_out = pool.mint_b if a_to_b else pool.mint_a
    if world.transfer_fee(mint_out, r.amount_out) >= r.amount_out:
        return None  # nothing would reach the user: InsufficientOutAmount (the program's)
    return SwapQuote(amount, r.amount_out, tick=r.active_id, after=r)


def total_fee_rate(rec: Any, accumulator: int) -> int:
    """The fee rate (per 1e9) at volatility ``accumulator``: the base fee and the
    variable fee ``variable_fee_control * (accumulator * bin_step)^2``, rounded up to
    1e9 units, together capped at 10 % (``LbPair::get_total_fee``, ``state/lb_pair.rs``)."""
    base: int = rec.base_factor * rec.bin_step * 10 * 10**rec.base_fee_power_factor
    variable = 0
    if rec.variable_fee_control > 0:
        square = (accumulator * rec.bin_step) ** 2
        variable = (rec.variable_fee_control * square + 99_999_999_999) // 100_000_000_000
    return min(base + variable, MAX_FEE_RATE)


def observe(data: bytes, active_id: int, now: int) -> bytes:
    """The pair's ``Oracle`` after a swap at ``now`` from bin ``active_id`` (the active
    bin before it: ``DynamicOracle::update``, ``state/oracle.rs``): the latest sample
    accumulates ``active_id`` for the seconds since it was last updated (a new one
    starts at ``active_id``); past its lifetime (:data:`SAMPLE_LIFETIME` s since it was
    created) the next sample of the ring is reset and takes the sum."""
    idx, size, length = struct.unpack_from("<QQQ", data, 8)
    b = bytearray(data)
    if size == 0:
        size = 1

    def sample(i: int) -> tuple[int, int, int]:
        o = 32 + 32 * i
        cum = int.from_bytes(b[o : o + 16], "little", signed=True)
        created, last = struct.unpack_from("<qq", b, o + 16)
        return cum, created, last

    cum, created, last = sample(idx)
    initialized = created > 0 and last > 0
    cum = cum + active_id * (now - last) if initialized else active_id
    if initialized and now >= created + SAMPLE_LIFETIME:
        idx = (idx + 1) % length
        _, c2, l2 = sample(idx)
        if not (c2 > 0 and l2 > 0):
            size = min(size + 1, length)
        created = 0
    if not (created > 0 and now > 0):
        created = now
    o = 32 + 32 * idx
    b[o : o + 16] = cum.to_bytes(16, "little", signed=True)
    struct.pack_into("<qq", b, o + 16, created, now)
    struct.pack_into("<QQ", b, 8, idx, size)
    return bytes(b)


def bins_visited(bitmap: Sequence[int], start: int, end: int, swap_for_y: bool) -> int:
    """The bins a swap from ``start`` to ``end`` walks through (the arrays the pair's
    bitmap marks empty are skipped: from the start's array it jumps to the next marked
    one's first bin in its direction)."""
    visited, active = 0, start
    for _ in range(2 * BITMAP_SIZE):
        idx = active // BINS_PER_ARRAY
        found = next_array(bitmap, idx, swap_for_y)
        if found is None:
            break
        lower = found * BINS_PER_ARRAY
        upper = lower + BINS_PER_ARRAY - 1
        if found != idx:
            active = upper if swap_for_y else lower
        if lower <= end <= upper:
            return visited + abs(active - end) + 1
        visited += active - lower + 1 if swap_for_y else upper - active + 1
        active = lower - 1 if swap_for_y else upper + 1
    return visited + 1


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    """The swap as the program writes it: each bin filled takes the input net of an
    input fee and gives the output before an output fee (its liquidity supply stays),
    and its fee per liquidity (in the token the fee is taken in) grows by the market
    makers' part of its fee; the pair's active bin, volatility state, protocol fee
    (in the fee's token: the input, or Y when the pair collects only Y) and, when the
    active bin moved, ``last_update_timestamp``; the oracle's sample. The market state
    is replaced, never changed in place (the runtime's undo keeps the old)."""
    r = q.after
    rec = pool.record
    now = sim_now(world)
    fee_on_input = rec.collect_fee_mode != 1 or not a_to_b
    fee_in_x = a_to_b and fee_on_input
    fee_at = BIN_FEE_X_PER_TOKEN if fee_in_x else BIN_FEE_Y_PER_TOKEN
    market = _market(pool)
    arrays = dict(market.arrays)
    touched = sorted({f[0] // BINS_PER_ARRAY for f in r.fills})
    raw = {idx: bytearray(world.accounts[arrays[idx][0]].data) for idx in touched}
    for idx in touched:
        a, bins = arrays[idx]
        arrays[idx] = (a, [list(b) for b in bins])
    for bin_id, used, out, _fee, _protocol, lp in r.fills:
        idx = bin_id // BINS_PER_ARRAY
        i = bin_id - idx * BINS_PER_ARRAY
        b = arrays[idx][1][i]
        if a_to_b:
            b[0], b[1] = b[0] + used, b[1] - out
        else:
            b[1], b[0] = b[1] + used, b[0] - out
        o = 56 + BIN_LEN * i
        d = raw[idx]
        struct.pack_into("<QQ", d, o + BIN_AMOUNT_X, b[0], b[1])
        shares = int.from_bytes(d[o + BIN_LIQUIDITY : o + BIN_LIQUIDITY + 16], "little") >> 64
        if shares:  # update_fee_per_token_stored (a bin of no whole share: none, seen)
            per = int.from_bytes(d[o + fee_at : o + fee_at + 16], "little")
            per += (lp << 64) // shares
            d[o + fee_at : o + fee_at + 16] = (per % (1 << 128)).to_bytes(16, "little")
    for idx in touched:
        a = arrays[idx][0]
        world.accounts[a].data = bytes(raw[idx])
        world._touched.append(a)
    moved = r.active_id != rec.active_id
    protocol = sum(f[4] for f in r.fills)
    lp_total = sum(f[5] for f in r.fills)
    market = DlmmMarket(
        arrays,
        Swapped(
            rec.active_id,
            r.active_id,
            a_to_b,
            q.paid_in,
            q.out,
            lp_total,
            protocol,
            r.fee - protocol - lp_total,
            total_fee_rate(rec, r.volatility_accumulator),
            fee_on_input,
            len(r.fills),
            bins_visited(rec.bin_array_bitmap, rec.active_id, r.active_id, a_to_b),
        ),
    )
    pool.spec.state = market
    oracle = world.accounts[rec.oracle]
    oracle.data = observe(oracle.data, rec.active_id, now)
    rec = replace(
        rec,
        active_id=r.active_id,
        volatility_accumulator=r.volatility_accumulator,
        volatility_reference=r.volatility_reference,
        index_reference=r.index_reference,
        # the program stamps the time only when the active bin moved (seen in LiteSVM)
        last_update_timestamp=now if moved else rec.last_update_timestamp,
        protocol_fee_x=rec.protocol_fee_x + (protocol if fee_in_x else 0),
        protocol_fee_y=rec.protocol_fee_y + (0 if fee_in_x else protocol),
    )
    pool.record = rec
    pool.spec.tick_current = r.active_id
    world.accounts[pool.address].data = encode_lb_pair(rec, world.accounts[pool.address].data)


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    """After a trade (its transfer fees known: ``World.last_fees``): the amount its
    events say came in is what the user sent, the input mint's transfer fee included
    (seen running the program); its log line, the instruction's name (the program logs
    nothing more of its own: its events go by self-CPI)."""
    market = _market(pool)
    last = market.last
    if last is not None:
        last = replace(last, amount_in=last.amount_in + world.last_fees[0])
    name = market.instruction
    if not name:
        t22 = TOKEN_2022 in (
            world.token_programs.get(pool.mint_a, SPL_TOKEN),
            world.token_programs.get(pool.mint_b, SPL_TOKEN),
        )
        name = "Swap2" if t22 else "Swap"
    pool.spec.state = replace(market, last=last, instruction="")
    return f"Program log: Instruction: {name}"


def swap_events(pool: Pool, user: str) -> tuple[bytes, bytes]:
    """The data of the two self-CPI instructions the program emits its last swap's
    events with (``emit_cpi!``: Anchor's event tag, then the event): ``Swap`` (lb_pair,
    from, start and end bin, amount in and out, direction, total fee, protocol fee, fee
    rate, host fee) and ``Swap2Evt`` (lb_pair, from, start and end bin, direction, fee
    rate, amount in, amount left, amount out, the market makers', protocol's, limit
    orders' and host's fees, whether the fee was taken on the input and in token X);
    ``user`` is the swap's signer (idls/dlmm.json ``events``, ``types``)."""
    last = _market(pool).last
    if last is None:
        raise ValueError(f"pair {pool.address} has not swapped")
    pair, who = _raw(pool.address), _raw(user)
    fee = last.mm_fee + last.protocol_fee + last.limit_order_fee
    rate = last.fee_rate.to_bytes(16, "little")
    swap = (
        EVENT_IX_TAG
        + DISC_SWAP_EVENT
        + pair
        + who
        + struct.pack(
            "<iiQQ?QQ",
            last.start_bin_id,
            last.end_bin_id,
            last.amount_in,
            last.amount_out,
            last.swap_for_y,
            fee,
            last.protocol_fee,
        )
        + rate
        + struct.pack("<Q", 0)
    )
    fee_in_x = last.swap_for_y == last.fee_on_input
    swap2 = (
        EVENT_IX_TAG
        + DISC_SWAP2_EVENT
        + pair
        + who
        + struct.pack("<ii?", last.start_bin_id, last.end_bin_id, last.swap_for_y)
        + rate
        + struct.pack(
            "<QQQQQQQ??",
            last.amount_in,
            0,
            last.amount_out,
            last.mm_fee,
            last.protocol_fee,
            last.limit_order_fee,
            0,
            last.fee_on_input,
            fee_in_x,
        )
    )
    return swap, swap2


def _cpi_events(
    world: World, pool: Pool, s: Swap, events: tuple[str, ...]
) -> tuple[list[InnerIx], list[InnerIx]]:
    """``Logs.cpi_events``: the ``Swap`` and ``Swap2Evt`` events by self-CPI, each
    to the program with its event authority: ``swap2`` emits ``Swap`` before its token
    transfers and ``Swap2Evt`` after them, ``swap`` both after them (the real binary's
    order, ``tests/judge/test_inner_instructions.py``)."""
    swap, swap2 = swap_events(pool, s.owner)
    auth = (event_authority(),)
    first, second = InnerIx(PROGRAM, auth, swap), InnerIx(PROGRAM, auth, swap2)
    return ([first], [second]) if s.name == "Swap2" else ([], [first, second])


def _price(pool: Pool) -> float:
    """Units of Y per unit of X at the active bin."""
    rec = pool.record
    return float((1.0 + rec.bin_step / 10_000) ** rec.active_id)


def _depth(pool: Pool, a_to_b: bool) -> float:
    """The input side's depth: the other side's bins at the active price."""
    m = _market(pool)
    if a_to_b:
        return sum(b[1] for _, bins in m.arrays.values() for b in bins) / _price(pool)
    return sum(b[0] for _, bins in m.arrays.values() for b in bins) * _price(pool)


# ------------------------------------------------------------------ simulator: program
def _check(world: World, s: Swap, pool: Pool, src: D.TokenAccount, dst: D.TokenAccount) -> bool:
    """The program's checks of a swap, in its order; the direction (X for Y)."""
    acc = s.accounts
    rec = pool.record
    want = {
        "reserve_x": rec.reserve_x,
        "reserve_y": rec.reserve_y,
        "token_x_mint": rec.token_x_mint,
        "token_y_mint": rec.token_y_mint,
        "oracle": rec.oracle,
        "event_authority": event_authority(),
        "program": PROGRAM,
        "token_x_program": SPL_TOKEN,
        "token_y_program": SPL_TOKEN,
    }
    pool.spec.state = replace(_market(pool), instruction=s.name or "Swap")
    if s.name == "Swap2":  # each token program its mint's owner; the memo program
        want["token_x_program"] = world.token_programs.get(rec.token_x_mint, SPL_TOKEN)
        want["token_y_program"] = world.token_programs.get(rec.token_y_mint, SPL_TOKEN)
        want["memo_program"] = MEMO_PROGRAM
    if any(acc[k] != v for k, v in want.items()):
        raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
    if s.name != "Swap2" and any(  # ``swap``'s transfers go to SPL Token, which owns none
        world.accounts[acc[k]].owner != SPL_TOKEN
        for k in ("reserve_x", "reserve_y", "user_token_in", "user_token_out")
        if acc[k] in world.accounts
    ):
        raise InstructionFailed("IncorrectProgramId", "incorrect program id for instruction")
    if src.mint not in (rec.token_x_mint, rec.token_y_mint) or dst.mint == src.mint:
        raise ProgramError(6010)  # InvalidTokenMint
    if dst.mint not in (rec.token_x_mint, rec.token_y_mint):
        raise ProgramError(6010)
    swap_for_y: bool = src.mint == rec.token_x_mint
    # the bin arrays it walks must be passed, in its order (the engine's swap on exactly
    # the arrays named: one it needs and was not given is the program's 3005)
    wanted = [bin_array_address(pool.address, i) for i in swap_array_indexes(rec, swap_for_y, 64)]
    named = list(s.tick_arrays)
    while len(named) > 1 and named[-1] == named[-2]:  # a repeated last array
        named.pop()
    if not named or named != wanted[: len(named)]:
        raise ProgramError(6027)  # InvalidBinArray
    if len(named) < len(wanted):  # a walk past the last named array
        try:
            _quote(world, pool, swap_for_y, s.amount_in, named)
        except TicksMissingError:
            raise ProgramError(ANCHOR_NOT_ENOUGH_KEYS) from None
    return swap_for_y


def _quote_error(text: str) -> int:
    """The program's code when the engine refuses the swap: it leaves the pair's bitmap
    (the program asks for the bitmap extension) or overflows."""
    return 6036 if "bin arrays" in text else 6018  # BitmapExtension...NotProvided, MathOverflow


def _cost(pool: Pool, active_before: int) -> int:
    """The compute units of the swap that just moved the pair from ``active_before``
    (:data:`COMPUTE_UNITS` at its steps); a swap that did not happen (a failed one's
    logs): the base."""
    last = _market(pool).last
    steps = 0
    if last is not None and (last.start_bin_id, last.end_bin_id) == (
        active_before,
        pool.spec.tick_current,
    ):
        steps = last.steps
    return COMPUTE_UNITS.use(steps)


def _load(world: World, pool: Pool) -> None:
    """``Program.load``: the pair read back from its accounts: ``LbPair``, its active
    bin, and the bins of its bin arrays as the market keeps them (the Python program
    keeps no fees apart: ``fees_a``/``fees_b`` are left as they are)."""
    acc = world.accounts[pool.address]
    r = decode_pool(world.eng, acc.data, acc.owner)
    pool.record = r
    arrays: dict[int, tuple[str, list[list[int]]]] = {}
    for a in pool.tick_arrays:
        data = world.accounts[a].data if a in world.accounts else b""
        if len(data) != BIN_ARRAY_LEN:
            continue
        bins = []
        for i in range(BINS_PER_ARRAY):
            o = 56 + BIN_LEN * i
            ax, ay = struct.unpack_from("<QQ", data, o)
            price = int.from_bytes(data[o + 16 : o + 32], "little")
            liq = int.from_bytes(data[o + 32 : o + 48], "little")
            (open_,) = struct.unpack_from("<Q", data, o + 112)
            (processed,) = struct.unpack_from("<Q", data, o + 128)
            bins.append([ax, ay, price, liq, open_, processed, data[o + 140]])
        arrays[struct.unpack_from("<q", data, 8)[0]] = (a, bins)
    pool.spec.state = DlmmMarket(arrays)
    pool.spec.tick_current = int(r.active_id)


NO_OUTPUT = 6039  # InsufficientOutAmount: a swap that pays nothing
RUNS = sv.Program(_check, _quote_error, NO_OUTPUT, _cost, "Swap", _load)
MARKET = sv.Market(lambda world: None, _takes, _create, _swapped, share=0.25, from_kind="cpmm")
RENT = {POOL_LEN: 7_182_720, BIN_ARRAY_LEN: 71_437_440}
LOGS = sv.Logs(cpi_events=_cpi_events, token_instruction=sv.TRANSFER_CHECKED)
SIM = sv.SimVenue(VENUE, RUNS, MARKET, RENT, sv.Curve(_quote, _apply, _price, _depth), LOGS)
