"""Manifest, an order book whose market account holds the whole book (twin of
``crates/core/src/venues/manifest/``): the ``MarketFixed`` header and its red-black
trees of 80-byte blocks, a mint's ``GlobalFixed`` account (the deposits backing global
orders), the L2 ladder and the program's exact exact-in ``Swap``.

Sources: ``CKS-Systems/manifest`` at 95ee542 (program 3.0.9); the Rust module's docs say
what each rule is. Mint a is the base mint, b the quote mint; a -> b sells base (walking
the bids), b -> a buys base with quote (walking the asks). Prices are quote atoms per
base atom times 10^18; a full fill rounds in the taker's favour, the last partial fill
in the maker's; no fees, no lots. The state refuses a market with fewer than two free
blocks (the swap would pay to grow it) and judges expiry at the clock's slot (or the
notification's) plus :data:`EXPIRY_MARGIN`.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass

from ...decoded import ManifestFillLog, ManifestGlobal, ManifestMarket, ManifestOrder, ManifestSwap
from ...errors import DecodeError, InvalidInputError, TicksMissingError
from ...records import BookLadder, BookLevel, VenueInfo
from .._ints import i64, u64
from ..b58 import b58decode
from ..decode import SYSVAR_CLOCK, as_bytes, check, clock_slot_and_time
from ..derive import find_program_address
from . import base, book
from .base import CLOCK, Assembly, OwnAccount, no_role
from .book import ladder_of as ladder_of
from .book import leg as leg
from .book import pow10
from .book import quote as quote
from .book import quote_checked as quote_checked
from .book import quote_steps as quote_steps
from .book import spot_rate as spot_rate

PROGRAM_ID = "MNFSTqtC93rEfYHB6hF82sKdZpUDFWkViLByLd1k1Ms"
DISC_MARKET = (4_859_840_929_024_028_656).to_bytes(8, "little")
DISC_GLOBAL = (10_787_423_733_276_977_665).to_bytes(8, "little")
DISC_FILL_LOG = bytes([58, 230, 242, 3, 75, 113, 4, 169])
DISC_PLACE_ORDER_LOG_V2 = bytes([189, 97, 159, 235, 136, 5, 1, 141])
DISC_GLOBAL_CLEANUP_LOG = bytes([193, 249, 115, 186, 42, 126, 196, 82])
FILL_LOG_SIZE = 8 + 224
MARKET_FIXED_SIZE = 256
MARKET_BLOCK_SIZE = 80
MARKET_MIN_SIZE = MARKET_FIXED_SIZE + MARKET_BLOCK_SIZE
GLOBAL_FIXED_SIZE = 96
GLOBAL_BLOCK_SIZE = 64
NIL = 0xFFFF_FFFF
PAYLOAD_FREE, PAYLOAD_SEAT, PAYLOAD_ORDER = 0, 1, 2
LIMIT, IMMEDIATE_OR_CANCEL, POST_ONLY, GLOBAL, REVERSE, REVERSE_TIGHT = range(6)
D18 = 10**18
PRICE_MIN = 1
PRICE_MAX = 0xFFFF_FFFF * 10**8 * D18
ERR_BASE_OVERFLOW = 105
ERR_QUOTE_PRODUCT_OVERFLOW = 108
ERR_QUOTE_OVERFLOW = 109
ERR_OVERFLOW = 14
INSUFFICIENT_FUNDS = 0xFFFF_FFFF  # the runtime's InsufficientFunds (no custom code)
EXPIRY_MARGIN = 2  # slots: our choice (landing latency), not the program's
EXPANSION_RENT = 556_800
MAX_STEPS = 40  # maker orders a quoted swap may reach: our choice (compute units)
BASE_GLOBAL = "base_global"
QUOTE_GLOBAL = "quote_global"
DEPTH = 20
_U64 = (1 << 64) - 1
_U128 = (1 << 128) - 1
_I64_MAX = (1 << 63) - 1
_NODE_HEADER = 16

ARRAYS: str | None = None
OWN_ROLES = base.own_roles(ARRAYS, BASE_GLOBAL, QUOTE_GLOBAL, CLOCK)
INFO = VenueInfo("manifest", "manifest", "mfx", "book", (PROGRAM_ID,), MARKET_MIN_SIZE, ARRAYS)
LOG_PREFIX: str | None = None
_PROGRAM = b58decode(PROGRAM_ID)


# ------------------------------------------------------------------ decoding
class _Blocks:
    """The dynamic area of an account of ``block``-byte blocks, every index checked."""

    __slots__ = ("block", "budget", "d", "what")

    def __init__(self, d: bytes, block: int, what: str) -> None:
        self.d, self.block, self.what = d, block, what
        self.budget = 16 * (len(d) // block) + 64

    def node(self, i: int) -> bytes:
        if self.budget == 0:
            raise DecodeError(f"{self.what}: a tree walk is longer than its blocks")
        self.budget -= 1
        if i == NIL or i % self.block != 0 or i + self.block > len(self.d):
            raise DecodeError(f"{self.what}: index {i} is not a block of its {len(self.d)} bytes")
        return self.d[i : i + self.block]

    def left(self, i: int) -> int:
        return int.from_bytes(self.node(i)[0:4], "little")

    def right(self, i: int) -> int:
        return int.from_bytes(self.node(i)[4:8], "little")

    def parent(self, i: int) -> int:
        return int.from_bytes(self.node(i)[8:12], "little")

    def max_of(self, root: int) -> int:
        i = root
        while True:
            r = self.right(i)
            if r == NIL:
                return i
            i = r

    def lower(self, i: int) -> int:
        """``get_next_lower_index``: the in-order predecessor."""
        left = self.left(i)
        if left != NIL:
            return self.max_of(left)
        cur = i
        while True:
            p = self.parent(cur)
            if p == NIL:
                return NIL
            if self.left(p) == cur:
                cur = p
                continue
            return p

    def all(self, root: int) -> list[int]:
        out: list[int] = []
        stack = [root] if root != NIL else []
        while stack:
            i = stack.pop()
            n = self.node(i)
            out.append(i)
            for child in (int.from_bytes(n[0:4], "little"), int.from_bytes(n[4:8], "little")):
                if child != NIL:
                    stack.append(child)
        return out


_ORDER = struct.Struct("<QQQQIIBBH")


def _seat_trader(blocks: _Blocks, index: int) -> str:
    n = blocks.node(index)
    if n[13] != PAYLOAD_SEAT:
        raise DecodeError(f"MarketFixed: block {index} is no claimed seat (payload type {n[13]})")
    from ..b58 import b58encode

    return b58encode(n[16:48])


def _side(blocks: _Blocks, root: int, best: int, bid: bool) -> list[ManifestOrder]:
    out = []
    i = blocks.max_of(root) if best == NIL and root != NIL else best
    name = "bids" if bid else "asks"
    while i != NIL:
        n = blocks.node(i)
        if n[13] != PAYLOAD_ORDER:
            raise DecodeError(
                f"MarketFixed: block {i} of the {name} is no order (payload type {n[13]})"
            )
        lo, hi, base, seq, ti, lvs, is_bid, otype, spread = _ORDER.unpack_from(n, _NODE_HEADER)
        if (is_bid != 0) != bid:
            raise DecodeError(
                f"MarketFixed: order {i} of the {name} is a{' bid' if is_bid else 'n ask'}"
            )
        trader = _seat_trader(blocks, ti)
        out.append(
            ManifestOrder(
                i, lo | (hi << 64), base, seq, ti, trader, lvs, is_bid != 0, otype, spread
            )
        )
        i = blocks.lower(i)
    return out


def decode_manifest_market(data: bytes, owner: object = None) -> ManifestMarket:
    """The Manifest market account: its header, its book (both sides best first), its
    seats and free blocks counted; every index checked."""
    r = check(data, "MarketFixed", MARKET_FIXED_SIZE, DISC_MARKET, owner, (PROGRAM_ID,))
    d = r.data
    allocated = r.u32(152)
    end = MARKET_FIXED_SIZE + allocated
    if allocated % MARKET_BLOCK_SIZE != 0 or len(d) < end:
        raise DecodeError(
            f"MarketFixed: {allocated} bytes allocated in an account of {len(d)} (blocks of "
            f"{MARKET_BLOCK_SIZE} after {MARKET_FIXED_SIZE})"
        )
    blocks = _Blocks(d[MARKET_FIXED_SIZE:end], MARKET_BLOCK_SIZE, "MarketFixed")
    bids_root, bids_best, asks_root, asks_best = r.u32(156), r.u32(160), r.u32(164), r.u32(168)
    seats_root, free_head = r.u32(172), r.u32(176)
    bids = _side(blocks, bids_root, bids_best, True)
    asks = _side(blocks, asks_root, asks_best, False)
    seats = len(blocks.all(seats_root))
    free = 0
    i = free_head
    while i != NIL:
        n = blocks.node(i)
        free += 1
        i = int.from_bytes(n[0:4], "little")
    fields = [
        *r.packed(8, "u8*5 _3 key*4 u64"),
        allocated,
        bids_root,
        bids_best,
        asks_root,
        asks_best,
        seats_root,
        free_head,
        r.u64(184),
        tuple(bids),
        tuple(asks),
        seats,
        free,
    ]
    return ManifestMarket(*fields)


decode = decode_manifest_market  # the pool account's decoder


def decode_manifest_global(data: bytes, owner: object = None) -> ManifestGlobal:
    """A mint's global account (``["global", mint]``): its traders' deposits."""
    r = check(data, "GlobalFixed", GLOBAL_FIXED_SIZE, DISC_GLOBAL, owner, (PROGRAM_ID,))
    d = r.data
    allocated = r.u32(88)
    end = GLOBAL_FIXED_SIZE + allocated
    if allocated % GLOBAL_BLOCK_SIZE != 0 or len(d) < end:
        raise DecodeError(f"GlobalFixed: {allocated} bytes allocated in an account of {len(d)}")
    blocks = _Blocks(d[GLOBAL_FIXED_SIZE:end], GLOBAL_BLOCK_SIZE, "GlobalFixed")
    deposits = []
    for i in blocks.all(r.u32(72)):
        n = blocks.node(i)
        trader = n[16:48]
        dep = blocks.node(int.from_bytes(n[48:52], "little"))
        if dep[16:48] != trader:
            raise DecodeError(f"GlobalFixed: the deposit of trader node {i} is another trader's")
        deposits.append((trader, int.from_bytes(dep[48:56], "little")))
    deposits.sort()
    from ..b58 import b58encode

    return ManifestGlobal(
        r.key(8),
        r.key(40),
        allocated,
        r.u8(92),
        r.u8(93),
        r.u16(94),
        tuple((b58encode(k), v) for k, v in deposits),
    )


# ------------------------------------------------------------------ PDAs
def vault_address(market: str, mint: str) -> str:
    """A market's vault of ``mint``: ``["vault", market, mint]``."""
    return find_program_address([b"vault", b58decode(market), b58decode(mint)], PROGRAM_ID)[0]


def global_address(mint: str) -> str:
    """A mint's global account: ``["global", mint]``."""
    return find_program_address([b"global", b58decode(mint)], PROGRAM_ID)[0]


def global_vault_address(mint: str) -> str:
    """A mint's global vault: ``["global-vault", mint]``."""
    return find_program_address([b"global-vault", b58decode(mint)], PROGRAM_ID)[0]


# ------------------------------------------------------------------ the math
class SwapError(Exception):
    """The program's failure of a swap: its code (:func:`error_name`)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def quote_for_base(price: int, base: int, up: bool) -> int:
    """``checked_quote_for_base``: ⌈ or ⌊ price · base / 10^18 ⌋."""
    p = price * base
    if p > _U128:
        raise SwapError(ERR_QUOTE_PRODUCT_OVERFLOW)
    q = -(-p // D18) if up else p // D18
    if q > _U64:
        raise SwapError(ERR_QUOTE_OVERFLOW)
    return q


def base_for_quote(price: int, quote: int, up: bool) -> int:
    """``checked_base_for_quote``: ⌈ or ⌊ 10^18 · quote / price ⌋ (0 for a zero price)."""
    if price == 0:
        return 0
    d = D18 * quote
    b = -(-d // price) if up else d // price
    if b > _U64:
        raise SwapError(ERR_BASE_OVERFLOW)
    return b


def reverse_price(o: ManifestOrder) -> int | None:
    """``RestingOrder::reverse_price`` of a reverse order (type 4: spread in 10^-5, type
    5: in 10^-8): a bid at P flips to an ask at ⌊P·base/(base−spread)⌋, an ask to a bid
    at ⌈P·(base−spread)/base⌉; None for another type, or when the product overflows."""
    if o.order_type == REVERSE:
        base = 100_000
    elif o.order_type == REVERSE_TIGHT:
        base = 100_000_000
    else:
        return None
    if o.is_bid:
        product = o.price * base
        return None if product > _U128 else product // (base - o.reverse_spread)
    product = o.price * (base - o.reverse_spread)
    return None if product > _U128 else -(-product // base)


def _expired(o: ManifestOrder, now_slot: int) -> bool:
    return o.last_valid_slot != 0 and o.last_valid_slot < now_slot


def impact_base_atoms(
    asks: tuple[ManifestOrder, ...],
    limit_quote: int,
    now_slot: int,
    deposits: dict[str, int] | None,
) -> tuple[int, bool, bool]:
    """``impact_base_atoms`` of a buy: (base atoms, the walk ran out of orders, it met a
    global order without its global account)."""
    total, rem = 0, limit_quote
    for o in asks:
        if _expired(o, now_slot):
            continue
        lim = base_for_quote(o.price, rem, False)
        matched = min(o.base_atoms, lim)
        full = lim >= o.base_atoms
        q = quote_for_base(o.price, matched, not full)
        if o.order_type == GLOBAL:
            if deposits is None:
                return total, False, True
            if deposits.get(o.trader, 0) < matched:
                continue
        total += matched
        if total > _U64:
            raise SwapError(ERR_OVERFLOW)
        if not full:
            return total, False, False
        rem -= q
        if rem == 0:
            return total, False, False
    return total, True, False


@dataclass(slots=True)
class Walk:
    """What ``place_order`` of an IOC taker does on one side."""

    base_atoms: int = 0
    quote_atoms: int = 0
    fills: int = 0
    removed: int = 0
    global_fills: int = 0
    missing_global: bool = False


def place_order(
    orders: tuple[ManifestOrder, ...],
    is_bid: bool,
    base: int,
    now_slot: int,
    deposits: dict[str, int] | None,
) -> Walk:
    """``place_order`` of an IOC taker for ``base`` atoms at no price limit."""
    w = Walk()
    rem = base
    spent: dict[str, int] = {}
    for o in orders:
        if rem == 0:
            break
        if _expired(o, now_slot) or o.base_atoms == 0:
            w.removed += 1
            continue
        full = rem >= o.base_atoms
        traded = o.base_atoms if full else rem
        quote = quote_for_base(o.price, traded, is_bid != full)
        if o.order_type == GLOBAL:
            if deposits is None:
                w.missing_global = True
                break
            need = traded if is_bid else quote
            if deposits.get(o.trader, 0) - spent.get(o.trader, 0) < need:
                w.removed += 1
                continue
            spent[o.trader] = spent.get(o.trader, 0) + need
            w.global_fills += 1
        w.base_atoms += traded
        w.quote_atoms += quote
        if w.base_atoms > _U64 or w.quote_atoms > _U64:
            raise SwapError(ERR_OVERFLOW)
        w.fills += 1
        if is_bid:
            # a reverse ask filled: its maker's bid on the other side, sized by the quote
            # it got; the program's conversions there can fail the swap
            p = reverse_price(o)
            if p is not None:
                size = base_for_quote(p, quote, False)
                quote_for_base(p, size, True)
        if not full:
            break
        rem -= traded
    return w


def swap(
    bids: tuple[ManifestOrder, ...],
    asks: tuple[ManifestOrder, ...],
    amount: int,
    base_in: bool,
    now_slot: int,
    deposits: dict[str, int] | None,
) -> ManifestSwap:
    """``process_swap`` exact in (SwapError: the program fails)."""
    is_bid = not base_in
    if base_in:
        target, ran_out, missing = amount, False, False
    else:
        target, ran_out, missing = impact_base_atoms(asks, amount, now_slot, deposits)
    w = place_order(asks if is_bid else bids, is_bid, target, now_slot, deposits)
    if is_bid and w.quote_atoms > amount:
        raise SwapError(INSUFFICIENT_FUNDS)
    amount_in, amount_out = (
        (w.base_atoms, w.quote_atoms) if base_in else (w.quote_atoms, w.base_atoms)
    )
    exhausted = (
        w.base_atoms < amount and not w.missing_global
        if base_in
        else ran_out or w.base_atoms < target
    )
    return ManifestSwap(
        amount_in,
        amount_out,
        target,
        w.fills,
        w.removed,
        w.global_fills,
        exhausted,
        w.missing_global or missing,
    )


def error_name(code: int) -> str:
    """The program's name of a swap error code."""
    if code == INSUFFICIENT_FUNDS:
        return "InsufficientFunds"
    if code == ERR_OVERFLOW:
        return "Overflow"
    if code in (ERR_BASE_OVERFLOW, ERR_QUOTE_PRODUCT_OVERFLOW, ERR_QUOTE_OVERFLOW):
        return f"PriceConversionError({code})"
    return f"Custom({code})"


# ------------------------------------------------------------------ the state
def price_ui(price: int, base_decimals: int, quote_decimals: int) -> float:
    """A price (quote atoms per base atom · 10^18) in quote UI units per base UI unit."""
    native = float(price) / float(D18)
    if base_decimals >= quote_decimals:
        return native * pow10(base_decimals - quote_decimals)
    return native / pow10(quote_decimals - base_decimals)


@dataclass(frozen=True, slots=True)
class BookState:
    """A market ready to be swapped against (the graph's state): both sides, the
    globals' deposits (None: not seen), the slot orders are judged at, its free blocks."""

    base_decimals: int
    quote_decimals: int
    bids: tuple[ManifestOrder, ...]
    asks: tuple[ManifestOrder, ...]
    base_global: dict[str, int] | None
    quote_global: dict[str, int] | None
    now_slot: int
    free_blocks: int

    @staticmethod
    def new(
        m: ManifestMarket,
        now_slot: int,
        base_global: dict[str, int] | None,
        quote_global: dict[str, int] | None,
    ) -> BookState:
        return BookState(
            m.base_mint_decimals,
            m.quote_mint_decimals,
            m.bids,
            m.asks,
            base_global,
            quote_global,
            now_slot,
            m.free_blocks,
        )

    def deposits(self, a_to_b: bool) -> dict[str, int] | None:
        return self.quote_global if a_to_b else self.base_global

    def swap(self, amount: int, a_to_b: bool) -> ManifestSwap:
        return swap(self.bids, self.asks, amount, a_to_b, self.now_slot, self.deposits(a_to_b))

    def quote_steps(self, amount: int, a_to_b: bool) -> tuple[int, int] | None:
        """The output of a complete swap that moves something and reaches at most
        :data:`MAX_STEPS` orders on a market with two free blocks, and the maker orders
        it reached (None: no number; TicksMissingError: a
        global order whose deposits are not held)."""
        if amount == 0:
            return 0, 0
        if self.free_blocks < 2:
            return None
        try:
            s = self.swap(amount, a_to_b)
        except SwapError:
            return None
        if s.missing_global:
            raise TicksMissingError(
                "the swap reaches a global order whose global account is not given"
            )
        steps = s.fills + s.removed
        if s.exhausted or s.amount_out == 0 or steps > MAX_STEPS:
            return None
        return s.amount_out, steps

    checked_steps = quote_steps  # (already checked: the book's face, :mod:`.book`)

    def live(self, o: ManifestOrder, bid: bool) -> bool:
        if _expired(o, self.now_slot) or o.base_atoms == 0:
            return False
        if o.order_type != GLOBAL:
            return True
        d = self.deposits(bid)
        if d is None:
            return False
        if bid:
            try:
                need = quote_for_base(o.price, o.base_atoms, False)
            except SwapError:
                return False
        else:
            need = o.base_atoms
        return d.get(o.trader, 0) >= need

    def spot_rate(self, a_to_b: bool) -> float:
        orders = self.bids if a_to_b else self.asks
        best = next((o for o in orders if self.live(o, a_to_b)), None)
        if best is None:
            return sys.float_info.min  # f64::MIN_POSITIVE
        price = float(best.price) / float(D18)
        return price if a_to_b else 1.0 / price

    def level(self, price: int, size: int, orders: int) -> BookLevel:
        return BookLevel(
            price_ui(price, self.base_decimals, self.quote_decimals),
            size / pow10(self.base_decimals),
            min(price, _I64_MAX),
            size,
            orders,
        )

    def levels(self, bid: bool, depth: int) -> list[BookLevel]:
        side = self.bids if bid else self.asks
        live = ((o.price, o.base_atoms) for o in side if self.live(o, bid))
        return book.levels(live, depth, self.level)

    def ladder(
        self, depth: int, market: str = "", mints: tuple[str, str] = ("", ""), slot: int = 0
    ) -> BookLadder:
        b, a = self.levels(True, depth), self.levels(False, depth)
        return book.ladder(b, a, market, mints, slot)


def _deposits(data: object) -> dict[str, int] | None:
    if data is None:
        return None
    return dict(decode_manifest_global(as_bytes(data, "GlobalFixed")).deposits)


def _book(market: object, now_slot: object, base_global: object, quote_global: object) -> BookState:
    slot = u64(now_slot) & 0xFFFF_FFFF
    m = decode_manifest_market(as_bytes(market, "MarketFixed"))
    return BookState.new(m, slot, _deposits(base_global), _deposits(quote_global))


def _taker(
    amount: object, a_to_b: object, market: object, now_slot: object, *held: object
) -> tuple[BookState, int, bool]:
    """The book a taker of ``amount`` meets, with ``amount`` (u64) and ``a_to_b`` (a bool)
    checked first, as the extension takes its arguments; ``held``: the base and quote
    globals' bytes, or None."""
    x = u64(amount)
    if not isinstance(a_to_b, bool):
        raise TypeError(f"a_to_b: expected bool, got {type(a_to_b).__name__}")
    return _book(market, now_slot, *held), x, a_to_b


def manifest_swap(
    market: bytes,
    now_slot: int,
    amount: int,
    a_to_b: bool,
    base_global: bytes | None = None,
    quote_global: bytes | None = None,
) -> ManifestSwap | str:
    """The program's exact-in swap of ``amount`` (base in when ``a_to_b``) on a market's
    bytes at ``now_slot`` (the program's ``slot as u32``), given the globals passed (the
    maker side's is used): its result, or the program's error name."""
    s, x, flag = _taker(amount, a_to_b, market, now_slot, base_global, quote_global)
    try:
        return s.swap(x, flag)
    except SwapError as e:
        return error_name(e.code)


def manifest_quote(
    market: bytes,
    now_slot: int,
    amount: int,
    a_to_b: bool,
    base_global: bytes | None = None,
    quote_global: bytes | None = None,
) -> int | None:
    """The venue's quote (the graph's) on a market's bytes."""
    s, x, flag = _taker(amount, a_to_b, market, now_slot, base_global, quote_global)
    got = s.quote_steps(x, flag)
    return None if got is None else got[0]


def manifest_ladder(
    market: bytes,
    now_slot: int,
    depth: int = DEPTH,
    base_global: bytes | None = None,
    quote_global: bytes | None = None,
) -> BookLadder:
    """The L2 ladder of a market's bytes at ``now_slot``: ``depth`` levels a side."""
    u64(now_slot)
    n = i64(depth)
    if n < 0:
        raise InvalidInputError(f"depth {n} is negative")
    m = decode_manifest_market(as_bytes(market, "MarketFixed"))
    s = _book(market, now_slot, base_global, quote_global)
    return s.ladder(n, "", (m.base_mint, m.quote_mint), 0)


# ------------------------------------------------------------------ the venue

API = base.api(
    """
    decode_market  decode_manifest_market
    decode_global  decode_manifest_global
    swap           manifest_swap
    quote          manifest_quote
    ladder         manifest_ladder
    """
)


def parse_event(raw: bytes) -> ManifestFillLog | None:
    """Its ``FillLog`` (one maker order filled) when the discriminator is that one."""
    r = base.event_reader(raw, DISC_FILL_LOG, "FillLog", FILL_LOG_SIZE)
    if r is None:
        return None
    fields = [*r.packed(8, "key*5 u128 u64*4"), r.u8(216) != 0, r.u8(217) != 0]
    return ManifestFillLog(*fields)


parse_log = base.no_log


# its pool account's identity (the mints, vaults, decimals, bumps and version), a field a
# line, its mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    version
    base_mint_decimals
    quote_mint_decimals
    base_vault_bump
    quote_vault_bump
    base_mint            mint_a
    quote_mint           mint_b
    base_vault           vault_a
    quote_vault          vault_b
    """
)


def _has_global(orders: tuple[ManifestOrder, ...]) -> bool:
    return any(o.order_type == GLOBAL for o in orders)


def followed(rec: ManifestMarket) -> tuple[tuple[str, str], ...]:
    """The global of a side while that side holds global orders, and the clock."""
    out = []
    if _has_global(rec.asks):
        out.append((BASE_GLOBAL, global_address(rec.base_mint)))
    if _has_global(rec.bids):
        out.append((QUOTE_GLOBAL, global_address(rec.quote_mint)))
    out.append((CLOCK, SYSVAR_CLOCK))
    return tuple(out)


@dataclass(slots=True)
class Own:
    """What the ingest keeps of a market's own accounts."""

    base_global: dict[str, int] | None = None
    quote_global: dict[str, int] | None = None
    clock_slot: int | None = None


def new_own() -> Own:
    return Own()


forget = absent = base.no_arrays


def own_account(own: Own, role: str, cx: OwnAccount) -> None:
    """A global account (its deposits; an empty account: not created) or the clock."""
    if role in (BASE_GLOBAL, QUOTE_GLOBAL):
        data = as_bytes(cx.data, "GlobalFixed")
        deposits = None if not data else dict(decode_manifest_global(data, cx.owner).deposits)
        if role == BASE_GLOBAL:
            own.base_global = deposits
        else:
            own.quote_global = deposits
    elif role == CLOCK:
        own.clock_slot = clock_slot_and_time(cx.data, cx.owner)[0]
    else:
        raise no_role(INFO, role)


def check_own_account(role: str, cx: OwnAccount) -> None:
    own_account(Own(), role, cx)


def judged_slot(clock: int, notified: int) -> int:
    """The slot orders are judged at: the later of the clock's and the notification's,
    plus :data:`EXPIRY_MARGIN`, as the program's ``u32``."""
    return min(max(clock, notified) + EXPIRY_MARGIN, _U64) & 0xFFFF_FFFF


def update(own: Own, rec: ManifestMarket, cx: Assembly) -> tuple[BookState, int] | None:
    """The book once the clock is seen, and the global of a side that holds global
    orders, judged at :func:`judged_slot`."""
    if own.clock_slot is None:
        return None
    # a side without global orders is not followed for them: what was kept is stale
    if not _has_global(rec.asks):
        own.base_global = None
    if not _has_global(rec.bids):
        own.quote_global = None
    if (_has_global(rec.asks) and own.base_global is None) or (
        _has_global(rec.bids) and own.quote_global is None
    ):
        return None
    slot = cx.slot()
    cx.check_ids()
    state = BookState.new(rec, judged_slot(own.clock_slot, slot), own.base_global, own.quote_global)
    return state, slot
