"""OpenBook v2's taker order (``place_take_order``: see the package's docstring): its
arguments in the market's lots for an exact-in hop with a minimum output, its accounts,
the builder, the sizing shape and the decoder."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from solders.instruction import Instruction

from ...wire import instructions as wire
from ...wire.instructions import SPL_TOKEN, SYSTEM_PROGRAM, InstructionError, Swap
from ..base import Leg, Sizing
from .layout import (
    ASK,
    BID,
    FEES_SCALE_FACTOR,
    I64_MAX,
    IMMEDIATE_OR_CANCEL,
    PROGRAM,
    _opt,
)

PLACE_TAKE_ORDER = hashlib.sha256(b"global:place_take_order").digest()[:8]
TAKE_LIMIT = 50  # the most maker orders one order fills (``limit``): the engine quotes with 50
# the IDL's placeTakeOrder accounts, in its order
_NAMES = (
    "signer",
    "penalty_payer",
    "market",
    "market_authority",
    "bids",
    "asks",
    "market_base_vault",
    "market_quote_vault",
    "event_heap",
    "user_base_account",
    "user_quote_account",
    "oracle_a",
    "oracle_b",
    "token_program",
    "system_program",
    "open_orders_admin",
)
_ARGS = struct.Struct("<BqqqBB")  # PlaceTakeOrderArgs (Borsh)


# ------------------------------------------------------------------ the swap instruction
@dataclass(frozen=True, slots=True)
class TakeArgs:
    """``PlaceTakeOrderArgs``: side (0 bid, 1 ask), price_lots, max_base_lots,
    max_quote_lots_including_fees, order_type (1 IOC, 3 market; 5 FOK in v0.2.1's source,
    which the deployed program does not know), limit."""

    side: int
    price_lots: int
    max_base_lots: int
    max_quote_lots_including_fees: int
    order_type: int
    limit: int

    def pack(self) -> bytes:
        return PLACE_TAKE_ORDER + _ARGS.pack(
            self.side,
            self.price_lots,
            self.max_base_lots,
            self.max_quote_lots_including_fees,
            self.order_type,
            self.limit,
        )


def sell_receives(rec: Any, lots: int, price: int) -> int:
    """The least a sell of ``lots`` base lots, every one filled at ``price`` (quote lots
    per base lot), receives however the book splits it into fills: the quote taken ``Q``
    less the makers' rebates, each fill's rounded down (``maker_rebate_floor``). Their sum
    is at most ``floor(Q x rebate)`` (one fill), so ``Q - floor(Q x rebate)``; a quote
    over several fills can receive up to one unit per further fill more."""
    quote = lots * int(rec.quote_lot_size) * price
    return quote - quote * max(0, -int(rec.maker_fee)) // FEES_SCALE_FACTOR


def sell_limit(rec: Any, lots: int, minimum_out: int) -> int:
    """The lowest price (quote lots per base lot) at which a sell of ``lots`` base lots,
    every one filled there or better, still receives ``minimum_out`` whatever the fills
    (:func:`sell_receives`, which never falls as the price rises). A bound from the
    rebate's fraction alone (``ceil(minimum / (1 - rebate))``) can be a lot's price above
    that lowest one: an order at its own quote then stops short of the level the quote
    sold at (found by tests/judge/test_openbook_v2.py).

    The bound holds for any split of the fills: the program has no minimum output, the
    price limit is the only guarantee (the order is immediate-or-cancel: the lots the book
    holds at the limit or better fill, the others stay with the seller). So a sell whose
    ``minimum_out`` is its exact quote over several orders at one price, whose rebates
    rounded down one by one came to less than the whole's rounded down, gets the next
    price lot up as its limit and fills nothing there: at that price one order could pay
    a unit short. The binary agrees; a minimum below the quote by the fills less one unit
    fills every lot (tests/judge/test_openbook_v2.py pins the case); a minimum whose
    limit is above the deepest level the quote reaches fills only the levels above it."""
    qls, scale = int(rec.quote_lot_size), FEES_SCALE_FACTOR
    rebate = max(0, -int(rec.maker_fee))
    low = max(1, -(-minimum_out // (lots * qls)))  # the rebate only lowers what it gets
    high = max(low, -(-minimum_out * scale // (lots * qls * (scale - rebate))))
    while low < high:  # sell_receives(high) >= minimum_out: the smallest such price
        mid = (low + high) // 2
        if sell_receives(rec, lots, mid) >= minimum_out:
            high = mid
        else:
            low = mid + 1
    return low


def take_args(rec: Any, a_to_b: bool, amount_in: int, minimum_out: int) -> TakeArgs:
    """The taker order of an exact-in hop with a minimum output, in the market's lots
    (see the package's docstring): immediate-or-cancel, the one taker order type every
    deployed version of the program runs (``FillOrKill`` came with v0.2.1's source,
    2024-03-18; the program on mainnet, dumped there in 2024, does not deserialize it)."""
    bls, qls = int(rec.base_lot_size), int(rec.quote_lot_size)
    if a_to_b:  # sell base: every lot that fills fills at the limit or better
        lots = min(amount_in // bls, I64_MAX // bls)
        price = 1 if lots == 0 or minimum_out == 0 else sell_limit(rec, lots, minimum_out)
        return TakeArgs(
            ASK, min(price, I64_MAX), lots, I64_MAX // qls, IMMEDIATE_OR_CANCEL, TAKE_LIMIT
        )
    quote = min(amount_in // qls, I64_MAX // qls)
    need = -(-minimum_out // bls)  # base lots the minimum needs
    if need == 0:  # no minimum: whatever the quote buys
        return TakeArgs(BID, I64_MAX, I64_MAX // bls, quote, IMMEDIATE_OR_CANCEL, TAKE_LIMIT)
    # the lots the minimum needs, from at most the quote: never more (a price limit from
    # the average would stop short of the deeper levels a quote crossing several needs);
    # fewer when the book holds fewer within the budget (the program has no minimum
    # output: the hop after it then finds its input short)
    return TakeArgs(BID, I64_MAX, min(need, I64_MAX // bls), quote, IMMEDIATE_OR_CANCEL, TAKE_LIMIT)


@dataclass(frozen=True, slots=True)
class TakeKeys:
    """The accounts of one taker order besides the user's."""

    market: str
    market_authority: str
    bids: str
    asks: str
    base_vault: str
    quote_vault: str
    event_heap: str
    oracle_a: str | None = None
    oracle_b: str | None = None
    open_orders_admin: str | None = None


def place_take_order(
    user: str, k: TakeKeys, user_base: str, user_quote: str, args: TakeArgs
) -> Instruction:
    """``place_take_order`` with the IDL's accounts in order; the user pays the penalty
    (``penalty_payer``); an optional account left out is the program id, as Anchor's
    clients write it."""

    def opt(key: str | None, signer: bool = False) -> Any:
        return wire.account_meta(PROGRAM) if key is None else wire.account_meta(key, signer=signer)

    metas = [
        wire.account_meta(user, signer=True, writable=True),
        wire.account_meta(user, signer=True, writable=True),
        wire.account_meta(k.market, writable=True),
        wire.account_meta(k.market_authority),
        *wire.writable(k.bids, k.asks, k.base_vault, k.quote_vault, k.event_heap),
        *wire.writable(user_base, user_quote),
        opt(k.oracle_a),
        opt(k.oracle_b),
        wire.account_meta(SPL_TOKEN),
        wire.account_meta(SYSTEM_PROGRAM),
        opt(k.open_orders_admin, signer=True),
    ]
    return wire.instruction(PROGRAM, args.pack(), metas)


def take_keys(market: str, rec: Any) -> TakeKeys:
    return TakeKeys(
        market,
        str(rec.market_authority),
        str(rec.bids),
        str(rec.asks),
        str(rec.market_base_vault),
        str(rec.market_quote_vault),
        str(rec.event_heap),
        _opt(rec.oracle_a),
        _opt(rec.oracle_b),
        _opt(rec.open_orders_admin),
    )


def swap_instruction(leg: Leg) -> Instruction:
    """The hop's taker order: an ``Ask`` selling base, a ``Bid`` buying it."""
    r = leg.record
    a_to_b = leg.mint_in == str(r.base_mint)
    args = take_args(r, a_to_b, leg.amount_in, leg.minimum_out)
    base, quote = (leg.source, leg.dest) if a_to_b else (leg.dest, leg.source)
    return place_take_order(leg.owner, take_keys(leg.pool, r), base, quote, args)


def sizing_swap(s: Sizing) -> Instruction:
    """The taker order's shape on placeholder keys (market, authority, bids, asks, the two
    vaults, the event heap; no oracles, no admin: both sides have one shape)."""
    k = TakeKeys(*s.keys[:7])
    return place_take_order(
        s.payer, k, *s.users, TakeArgs(ASK, 1, 1, 1, IMMEDIATE_OR_CANCEL, TAKE_LIMIT)
    )


def decode_swap(data: bytes, accounts: list[str]) -> Swap:
    """A ``place_take_order`` back as a :class:`Swap`: ``order`` holds its arguments,
    ``amount_in`` the input side's lots (an ask's base lots, a bid's quote lots with
    fees), ``minimum_out`` 0; ``a_to_b``: an ask (selling base)."""
    if data[:8] != PLACE_TAKE_ORDER:
        raise InstructionError("InvalidInstructionData", "openbook v2: not place_take_order")
    if len(data) < 8 + _ARGS.size:
        raise InstructionError("InvalidInstructionData", f"place_take_order: {len(data)} bytes")
    side, price, base_lots, quote_lots, order_type, limit = _ARGS.unpack_from(data, 8)
    if side > 1 or order_type > 5:  # Borsh refuses an unknown enum variant
        raise InstructionError("InvalidInstructionData", "place_take_order: side / order type")
    acc = wire.named_accounts(accounts, _NAMES, "place_take_order")
    base, quote = acc["user_base_account"], acc["user_quote_account"]
    ask = side == ASK
    src, dst = (base, quote) if ask else (quote, base)
    return Swap(
        PROGRAM,
        acc["market"],
        base_lots if ask else quote_lots,
        0,
        src,
        dst,
        acc["signer"],
        acc,
        ask,
        (),
        (side, price, base_lots, quote_lots, order_type, limit),
    )
