"""Constant-product swap math with Raydium AMM v4 / CP-Swap rounding (spec §1.3, §1.5).

Twin of ``crates/core/src/amm.rs``: the fee is charged on the input and rounded up,
the output is floored. Pass the pool's own fee fraction (AMM v4: swap_fee_numerator /
swap_fee_denominator; CP-Swap: trade_fee_rate / 1_000_000).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InsufficientLiquidityError, InvalidInputError, MathOverflowError
from ._ints import U64_MAX, u64


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _check_pool(reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> None:
    """No reserve is zero and the fee is below 1 (InvalidInputError)."""
    if reserve_in == 0 or reserve_out == 0:
        raise InvalidInputError(
            f"zero reserve (reserve_in={reserve_in}, reserve_out={reserve_out})"
        )
    if fee_den == 0:
        raise InvalidInputError("fee_den must be > 0")
    if fee_num >= fee_den:
        raise InvalidInputError(f"fee_num ({fee_num}) must be < fee_den ({fee_den})")


def amount_out_unchecked(
    amount_in: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int
) -> int:
    """:func:`cpmm_amount_out` without checks, for pools validated at upsert (0 -> 0)."""
    net = amount_in - _ceil_div(amount_in * fee_num, fee_den)
    return reserve_out * net // (reserve_in + net)


def cpmm_amount_out(
    amount_in: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int
) -> int:
    """Output (base units) for ``amount_in`` base units in, exact-in.

    ``fee = ceil(amount_in * fee_num / fee_den)``; ``out = floor(reserve_out * net /
    (reserve_in + net))``. Raises InvalidInputError on zero amount/reserve or fee >= 1,
    MathOverflowError when an argument is outside u64. May return 0 for dust.
    """
    args = [u64(v) for v in (amount_in, reserve_in, reserve_out, fee_num, fee_den)]
    amount_in, reserve_in, reserve_out, fee_num, fee_den = args
    if amount_in == 0:
        raise InvalidInputError("amount_in must be > 0")
    _check_pool(reserve_in, reserve_out, fee_num, fee_den)
    return amount_out_unchecked(amount_in, reserve_in, reserve_out, fee_num, fee_den)


def cpmm_amount_in(
    amount_out: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int
) -> int:
    """Input (base units, fee included) needed to receive ``amount_out``, exact-out.

    ``before_fee = ceil(reserve_in * out / (reserve_out - out))``;
    ``amount_in = ceil(before_fee * fee_den / (fee_den - fee_num))``. Raises
    InsufficientLiquidityError when ``amount_out >= reserve_out`` and MathOverflowError
    when the input would not fit in u64.
    """
    args = [u64(v) for v in (amount_out, reserve_in, reserve_out, fee_num, fee_den)]
    amount_out, reserve_in, reserve_out, fee_num, fee_den = args
    if amount_out == 0:
        raise InvalidInputError("amount_out must be > 0")
    _check_pool(reserve_in, reserve_out, fee_num, fee_den)
    if amount_out >= reserve_out:
        raise InsufficientLiquidityError(
            f"amount_out ({amount_out}) must be < reserve_out ({reserve_out})"
        )
    before_fee = _ceil_div(reserve_in * amount_out, reserve_out - amount_out)
    if before_fee > U64_MAX:
        raise MathOverflowError(f"required amount_in {before_fee} exceeds u64")
    amount_in = _ceil_div(before_fee * fee_den, fee_den - fee_num)
    if amount_in > U64_MAX:
        raise MathOverflowError(f"required amount_in {amount_in} exceeds u64")
    return amount_in


def spot_rate_unchecked(reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> float:
    """Same float operations, in the same order, as the Rust kernel."""
    return (float(reserve_out) / float(reserve_in)) * (float(fee_den - fee_num) / float(fee_den))


def cpmm_spot_rate(reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> float:
    """Marginal output per input after the fee, at zero size."""
    reserve_in, reserve_out, fee_num, fee_den = (
        u64(v) for v in (reserve_in, reserve_out, fee_num, fee_den)
    )
    _check_pool(reserve_in, reserve_out, fee_num, fee_den)
    return spot_rate_unchecked(reserve_in, reserve_out, fee_num, fee_den)


@dataclass(slots=True)
class ConstantProduct:
    """A constant-product pool's quote state (Raydium AMM v4 and CP-Swap quote alike): the
    reserves of mint a and mint b in base units and the fee fraction on the input (twin
    of Rust ``amm::ConstantProduct``). Never changed once made (not frozen only because
    a frozen dataclass costs the graph's upsert twice as much)."""

    reserve_a: int
    reserve_b: int
    fee_num: int
    fee_den: int

    @classmethod
    def checked(
        cls, pool_id: str, reserve_a: int, reserve_b: int, fee_num: int, fee_den: int
    ) -> ConstantProduct:
        """The state of pool ``pool_id``, checked once so quotes need no checks: both
        reserves > 0 and the fee in [0, 1) (InvalidInputError naming the pool)."""
        if reserve_a == 0 or reserve_b == 0:
            raise InvalidInputError(f"pool {pool_id}: zero reserve ({reserve_a}, {reserve_b})")
        if fee_den == 0 or fee_num >= fee_den:
            raise InvalidInputError(f"pool {pool_id}: fee {fee_num}/{fee_den} must be in [0, 1)")
        return cls(reserve_a, reserve_b, fee_num, fee_den)

    def reserves(self, a_to_b: bool) -> tuple[int, int]:
        """``(reserve_in, reserve_out)`` for a swap of a into b (``a_to_b``) or b into a."""
        return (self.reserve_a, self.reserve_b) if a_to_b else (self.reserve_b, self.reserve_a)

    def amount_out(self, amount_in: int, a_to_b: bool) -> int:
        """Exact output for ``amount_in`` (0 for 0), Raydium's rounding."""
        if a_to_b:
            return amount_out_unchecked(
                amount_in, self.reserve_a, self.reserve_b, self.fee_num, self.fee_den
            )
        return amount_out_unchecked(
            amount_in, self.reserve_b, self.reserve_a, self.fee_num, self.fee_den
        )

    def spot_rate(self, a_to_b: bool) -> float:
        """Output per input after the fee at zero size (:func:`cpmm_spot_rate`'s floats)."""
        if a_to_b:
            return spot_rate_unchecked(self.reserve_a, self.reserve_b, self.fee_num, self.fee_den)
        return spot_rate_unchecked(self.reserve_b, self.reserve_a, self.fee_num, self.fee_den)

    def leg(self, a_to_b: bool) -> CpmmLeg:
        """This pool as a hop of a cycle, traversed a -> b (``a_to_b``) or b -> a."""
        ri, ro = self.reserves(a_to_b)
        return CpmmLeg(ri, ro, self.fee_num, self.fee_den)


@dataclass(frozen=True, slots=True)
class CpmmLeg:
    """A constant-product hop, oriented in the direction of travel (a sizing leg)."""

    reserve_in: int
    reserve_out: int
    fee_num: int
    fee_den: int

    def spot_rate(self) -> float:
        """Marginal output per input after the fee, at zero size."""
        return spot_rate_unchecked(self.reserve_in, self.reserve_out, self.fee_num, self.fee_den)

    def amount_out(self, amount: int) -> int | None:
        """Exact output for ``amount`` in (never None: a constant product always fills)."""
        if amount == 0:
            return 0
        return amount_out_unchecked(
            amount, self.reserve_in, self.reserve_out, self.fee_num, self.fee_den
        )

    def amount_steps(self, amount: int) -> tuple[int, int] | None:
        """:meth:`amount_out` and its steps: none (its use does not grow with the swap)."""
        out = self.amount_out(amount)
        return None if out is None else (out, 0)

    def constant_product(self) -> tuple[int, int, int, int] | None:
        """``(reserve_in, reserve_out, fee_num, fee_den)``: sizing's closed form applies."""
        return (self.reserve_in, self.reserve_out, self.fee_num, self.fee_den)


def reserves_from_vaults(
    pool_id: str, vaults: tuple[int, int], held: tuple[int, int]
) -> tuple[int, int]:
    """A pool's reserves: its vault balances minus the amounts in them that are not
    reserves (fees owed, PnL to take), in base units. InvalidInputError naming
    ``pool_id`` when a vault does not cover them (or leaves nothing)."""
    ra, rb = vaults[0] - held[0], vaults[1] - held[1]
    if ra <= 0 or rb <= 0:
        raise InvalidInputError(
            f"pool {pool_id}: vaults ({vaults[0]}, {vaults[1]}) do not cover the amounts "
            f"that are not reserves ({held[0]}, {held[1]})"
        )
    return ra, rb
