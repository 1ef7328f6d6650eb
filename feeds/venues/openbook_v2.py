"""OpenBook v2 (``opnb2LA…``) — a PLACEHOLDER so that ``feeds.venues`` imports while the
engine lists the venue: the engine's decoders only, no swap instruction, no simulated
markets (``sim.takes`` is always False). The feeds engineer's real module (the
``place_take_order`` builder and decoder, the simulator's markets and program) replaces
this file; theirs wins at the merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from solders.instruction import Instruction

from ..wire.instructions import Swap
from .base import Leg, SimVenue, Venue
from .ids import ids

IDS = ids("openbook_v2")
PLACEHOLDER = True  # tests skip what needs its simulated pools

# the program's error names (programs/openbook-v2/src/error.rs, Anchor: 6000 + position)
ERRORS = {
    6000: "SomeError",
    6001: "InvalidInputNameLength",
    6002: "InvalidInputMarketExpired",
    6003: "InvalidInputMarketFees",
    6004: "InvalidInputLots",
    6005: "InvalidInputLotsSize",
    6006: "InvalidInputOrdersAmounts",
    6007: "InvalidInputCancelSize",
    6008: "InvalidInputPriceLots",
    6009: "InvalidInputPegLimit",
    6010: "InvalidInputOrderType",
    6011: "InvalidInputOrderId",
    6012: "InvalidInputHeapSlots",
    6013: "InvalidOracleTypes",
    6014: "InvalidSecondOracle",
    6015: "NoCloseMarketAdmin",
    6016: "InvalidCloseMarketAdmin",
    6017: "InvalidOpenOrdersAdmin",
    6018: "InvalidConsumeEventsAdmin",
    6019: "InvalidMarketVault",
    6020: "IndexerActiveOO",
    6021: "OraclePegInvalidOracleState",
    6022: "UnknownOracleType",
    6023: "OracleConfidence",
    6024: "OracleStale",
    6025: "OrderIdNotFound",
    6026: "EventHeapContainsElements",
    6027: "InvalidOrderPostIOC",
    6028: "InvalidOrderPostMarket",
    6029: "WouldSelfTrade",
    6030: "MarketHasExpired",
    6031: "InvalidPriceLots",
    6032: "InvalidOraclePrice",
    6033: "MarketHasNotExpired",
    6034: "NoOwnerOrDelegate",
    6035: "NoOwner",
    6036: "OpenOrdersFull",
    6037: "BookContainsElements",
    6038: "OpenOrdersOrderNotFound",
    6039: "InvalidPostAmount",
    6040: "DisabledOraclePeg",
    6041: "NonEmptyMarket",
    6042: "NonEmptyOpenOrdersPosition",
    6043: "WouldExecutePartially",
}


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``Market`` account through the engine's decoder."""
    return eng.decode_openbook_market(data, owner)


def _missing(*_: object) -> NoReturn:
    raise NotImplementedError("openbook_v2: the Python side is a placeholder")


def swap_instruction(leg: Leg) -> Instruction:
    _missing()


def sizing_swap(
    payer: str, pool_keys: Sequence[str], source: str, dest: str, mint_in: str, mint_out: str
) -> Instruction:
    _missing()


def decode_swap(data: bytes, accounts: list[str]) -> Swap:
    _missing()


VENUE = Venue(
    ids=IDS,
    decode_pool=decode_pool,
    swap_instruction=swap_instruction,
    sizing_swap=sizing_swap,
    decode_swap=decode_swap,
    errors=ERRORS,
    slippage_error=6043,  # WouldExecutePartially (placeholder choice)
    compute_units=1,
    fresh_state=False,
    anchor=True,
    sim=SimVenue(
        check=_missing,
        quote_error=lambda text: 0,
        no_output_error=6004,  # InvalidInputLots (placeholder choice)
        cost=lambda pool, tick_before: 0,
        instruction_name="PlaceTakeOrder",
        setup=lambda world: None,
        takes=lambda spec: False,
        create=_missing,
        swapped=_missing,
        state_in_pool_account=False,
        rent={IDS.pool_account_size: (IDS.pool_account_size + 128) * 6960},
    ),
)
