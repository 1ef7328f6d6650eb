"""Argument checks shared by the twin's kernels, mirroring the extension's argument types."""

from __future__ import annotations

from ..errors import MathOverflowError

U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1


def _check(value: object, lo: int, hi: int, label: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected int, got {type(value).__name__}")
    if value < lo or value > hi:
        raise MathOverflowError(f"{value} does not fit in {label}")
    return value


def u64(value: object) -> int:
    """``value`` if it is an int in [0, 2**64), else TypeError / MathOverflowError."""
    return _check(value, 0, U64_MAX, "u64")


def u128(value: object) -> int:
    """``value`` if it is an int in [0, 2**128)."""
    return _check(value, 0, U128_MAX, "u128")


def i32(value: object) -> int:
    """``value`` if it is an int in [-2**31, 2**31)."""
    return _check(value, -(1 << 31), (1 << 31) - 1, "i32")


def i128(value: object) -> int:
    """``value`` if it is an int in [-2**127, 2**127)."""
    return _check(value, -(1 << 127), (1 << 127) - 1, "i128")


def i64(value: object) -> int:
    """``value`` if it is an int in [-2**63, 2**63)."""
    return _check(value, -(1 << 63), (1 << 63) - 1, "i64")
