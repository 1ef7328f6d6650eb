"""Exceptions raised by both engine backends.

The Rust extension raises these very classes (it imports this module), so
``except engine_rs.errors.InvalidInputError`` works whichever backend is active.
Each class also subclasses the builtin it refines (``ValueError``, ``OverflowError``,
``KeyError``) so generic handlers keep working.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class InvalidInputError(EngineError, ValueError):
    """An argument is outside its domain: zero reserve or amount, fee >= 1, NaN, bad hops."""


class MathOverflowError(EngineError, OverflowError):
    """An integer does not fit its on-chain type (u64 amounts, u128 prices), or a result would."""


class InsufficientLiquidityError(EngineError, ValueError):
    """The requested output is more than the pool can give."""


class TicksMissingError(EngineError, ValueError):
    """A quote would step past the tick arrays a Whirlpool's state holds (arrays around a
    moved price not received yet): no number is honest, not even a partial one."""


class UnknownPoolError(EngineError, KeyError):
    """A pool id the graph does not hold."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class UnknownTokenError(EngineError, KeyError):
    """A mint the graph does not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class EmptyWindowError(EngineError, LookupError):
    """A statistic was asked of a window that holds no samples (not a silent 0)."""


class Base58Error(EngineError, ValueError):
    """A string that is not base58 (a character outside the Bitcoin alphabet), or that
    decodes to the wrong length for what it should be (32 bytes for an address)."""


class SeedError(EngineError, ValueError):
    """PDA seeds break the runtime's rules: more than 16 seeds (15 plus the bump) or a
    seed longer than 32 bytes (the runtime's MaxSeedLengthExceeded)."""


class InvalidSeedsError(EngineError, ValueError):
    """``create_program_address``: the hash is on the ed25519 curve, so it is not a PDA
    (the runtime's InvalidSeeds)."""


class NoViableBumpError(EngineError, ValueError):
    """``find_program_address``: every bump from 255 down to 1 gave an on-curve hash."""


class DecodeError(EngineError, ValueError):
    """Bytes that are not the account or log they were said to be."""


class WrongOwnerError(DecodeError):
    """The account belongs to another program than the decoder's."""


class WrongDiscriminatorError(DecodeError):
    """The account's first 8 bytes are not the decoder's discriminator."""


class AccountTooShortError(DecodeError):
    """Fewer bytes than the layout needs (longer accounts are fine)."""


class FrameError(EngineError, ValueError):
    """A PubSub frame that is not JSON-RPC 2.0, or lacks what its method promises."""


class InvalidTickError(EngineError, ValueError):
    """A tick index or sqrt price outside the Whirlpool bounds."""


class InternalError(EngineError):
    """A bug inside the engine (a caught Rust panic). Please report it with the input."""


class ClmmError(EngineError):
    """An Orca Whirlpool program error. ``code`` is the program's own name for it."""

    code: str = ""


class ZeroTradableAmountError(ClmmError, ValueError):
    code = "ZeroTradableAmount"


class MultiplicationOverflowError(ClmmError, MathOverflowError):
    code = "MultiplicationOverflow"


class MultiplicationShiftRightOverflowError(ClmmError, MathOverflowError):
    code = "MultiplicationShiftRightOverflow"


class TokenMaxExceededError(ClmmError, MathOverflowError):
    code = "TokenMaxExceeded"


class TokenMinSubceededError(ClmmError, MathOverflowError):
    code = "TokenMinSubceeded"


class AmountCalcOverflowError(ClmmError, MathOverflowError):
    code = "AmountCalcOverflow"


class DivideByZeroError(ClmmError, ZeroDivisionError):
    code = "DivideByZero"


class SqrtPriceOutOfBoundsError(ClmmError, ValueError):
    code = "SqrtPriceOutOfBounds"


class InvalidSqrtPriceLimitDirectionError(ClmmError, ValueError):
    code = "InvalidSqrtPriceLimitDirection"


class PartialFillError(ClmmError, ValueError):
    code = "PartialFillError"


class InvalidTickSpacingError(ClmmError, ValueError):
    code = "InvalidTickSpacing"


class AmountOutBelowMinimumError(ClmmError, ValueError):
    code = "AmountOutBelowMinimum"


class AmountInAboveMaximumError(ClmmError, ValueError):
    code = "AmountInAboveMaximum"


CLMM_ERRORS: dict[str, type[ClmmError]] = {
    cls.code: cls
    for cls in (
        ZeroTradableAmountError,
        MultiplicationOverflowError,
        MultiplicationShiftRightOverflowError,
        TokenMaxExceededError,
        TokenMinSubceededError,
        AmountCalcOverflowError,
        DivideByZeroError,
        SqrtPriceOutOfBoundsError,
        InvalidSqrtPriceLimitDirectionError,
        PartialFillError,
        InvalidTickSpacingError,
        AmountOutBelowMinimumError,
        AmountInAboveMaximumError,
    )
}
"""Program error name -> class, for code that raises by name (the Python twin)."""
