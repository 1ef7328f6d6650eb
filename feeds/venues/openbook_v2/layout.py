"""OpenBook v2's accounts as a client needs them: the program, the ``Market`` (848
bytes: its discriminator and size, its fee scale), the book's discriminators, the
order sides and types a taker order names, and the market authority's PDA. The bytes of
the book sides and the event heap, and the program's operations on them, are the
simulator's (:mod:`feeds.sim.orderbook`, which takes these constants from here)."""

from __future__ import annotations

import hashlib
from typing import Any

from solders.pubkey import Pubkey

from ...wire.instructions import pdas
from ..ids import ids, program

IDS = ids("openbook_v2")
PROGRAM = program(IDS)
ZERO_KEY = "11111111111111111111111111111111"
DISC_MARKET = hashlib.sha256(b"account:Market").digest()[:8]
DISC_BOOKSIDE = hashlib.sha256(b"account:BookSide").digest()[:8]
DISC_EVENT_HEAP = hashlib.sha256(b"account:EventHeap").digest()[:8]
MARKET_LEN = 8 + 840  # the discriminator + size_of::<Market>() (const_assert_eq 840)
FEES_SCALE_FACTOR = 1_000_000
DROP_EXPIRED_ORDER_LIMIT = 5  # expired orders a taker order drops at most
BID, ASK = 0, 1  # Side
# PlaceOrderType
LIMIT, IMMEDIATE_OR_CANCEL, POST_ONLY, MARKET, POST_ONLY_SLIDE, FILL_OR_KILL = range(6)
I64_MAX = (1 << 63) - 1


# ------------------------------------------------------------------ addresses
def _b(key: str) -> bytes:
    return bytes(Pubkey.from_string(key))


def market_authority(market: str) -> tuple[str, int]:
    """The market's PDA that signs for its vaults: ``["Market", market]``."""
    addr, bump = pdas().find([b"Market", _b(market)], PROGRAM)
    return str(addr), int(bump)


def _opt(key: Any) -> str | None:
    """A ``NonZeroPubkeyOption`` as the engine's record gives it (None or the zero key:
    unset)."""
    if key is None or key == ZERO_KEY:
        return None
    return str(key)


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``Market`` account, decoded by the engine."""
    return eng.openbook_v2.decode_market(data, owner)
