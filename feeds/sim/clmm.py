"""What the simulated tick venues (Orca Whirlpool, Raydium CLMM) share: the initialized
ticks a swap crossed, the steps of its compute-unit model, the tokens a set of
positions holds at a price, a pool's state as the engine's swap takes it and its
answer as a quote, the pool's price and depth. Each venue's ``sim`` module binds them to
its own constants (its Token-2022 surcharge, its ``sqrt_price_at_tick``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .state import Pool

if TYPE_CHECKING:
    from ..venues.base import ComputeUnits
    from .synthetic import PoolSpec
    from .world import SwapQuote


def crossed_ticks(
    ticks: Sequence[tuple[int, int]], tick_before: int, tick_after: int, a_to_b: bool
) -> list[int]:
    """The initialized ticks a swap from ``tick_before`` to ``tick_after`` crossed, in
    its order: going down (a to b) those in ``(after, before]`` (a crossed tick leaves
    the current tick one below it), going up those in ``(before, after]``."""
    if a_to_b:
        return sorted((t for t, _ in ticks if tick_after < t <= tick_before), reverse=True)
    return sorted(t for t, _ in ticks if tick_before < t <= tick_after)


def swap_steps(pool: Pool, tick_before: int, token_2022_steps: int) -> int:
    """The steps of a venue's compute-unit model a swap from ``tick_before`` to the pool's
    tick now took: the initialized ticks it crossed (a swap down leaves the tick below
    the last one crossed, so the direction shows in the ticks), and the Token-2022
    surcharge ``token_2022_steps`` of a pool with such a mint."""
    s = pool.spec
    crossed = crossed_ticks(s.ticks, tick_before, s.tick_current, s.tick_current < tick_before)
    t22 = isinstance(s.state, dict) and s.state.get("token_2022", False)
    return len(crossed) + (token_2022_steps if t22 else 0)


def cost(units: ComputeUnits, token_2022_steps: int) -> Callable[[Pool, int], int]:
    """A tick venue's ``Program.cost``: its model ``units`` at the steps a swap from
    ``tick_before`` took (:func:`swap_steps`)."""
    return lambda pool, tick_before: units.use(swap_steps(pool, tick_before, token_2022_steps))


def position_amounts(
    sqrt_price_at_tick: Callable[[int], int],
    positions: Sequence[tuple[int, int, int]],
    sqrt_price: int,
    tick: int,
) -> tuple[int, int]:
    """The tokens (a, b) ``positions`` (lower tick, upper tick, liquidity) hold at
    ``sqrt_price`` (the current ``tick``), each rounded up as a deposit is (Whirlpool's
    ``try_get_amount_delta_a/b`` with ``round_up``, Raydium's
    ``liquidity_math::get_delta_amounts_signed``)."""
    a = b = 0
    for lo, hi, liq in positions:
        pl, pu = sqrt_price_at_tick(lo), sqrt_price_at_tick(hi)
        p = pl if tick < lo else pu if tick >= hi else sqrt_price
        if pu > p:  # a: L * (pu - p) * 2^64 / (p * pu), up
            a += -(-(liq * (pu - p) << 64) // (p * pu))
        if p > pl:  # b: L * (p - pl) / 2^64, up
            b += -(-liq * (p - pl) >> 64)
    return a, b


def state_args(s: PoolSpec) -> tuple[int, int, int, int, int]:
    """A tick pool's state as the engine's swaps take it first: sqrt price (Q64.64),
    active liquidity, current tick, tick spacing, fee rate."""
    return s.sqrt_price_x64, s.liquidity, s.tick_current, s.tick_spacing, s.fee_rate


def quote_of(res: Any, after: Any = None) -> SwapQuote:
    """The engine's tick swap ``res`` as the world's quote (``after``: the venue's own)."""
    from .world import SwapQuote

    return SwapQuote(
        res.amount_in, res.amount_out, res.sqrt_price_x64, res.tick_current, res.liquidity, after
    )


def price(pool: Pool) -> float:
    """Units of b per unit of a at the pool's price."""
    return float((pool.spec.sqrt_price_x64 / 2**64) ** 2)


def depth(pool: Pool, a_to_b: bool) -> float:
    """The input side's virtual reserve at the price (the traders' sizes)."""
    s = pool.spec
    sqrt = s.sqrt_price_x64 / 2**64
    return float(s.liquidity / sqrt if a_to_b else s.liquidity * sqrt)
