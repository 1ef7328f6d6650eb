"""Argument checks shared by the twin's kernels, mirroring the extension's argument types,
and the read-only attribute of its classes (the extension's getters)."""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Generic, TypeVar, overload

from ..errors import MathOverflowError

T = TypeVar("T")

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


def as_bytes(data: object, what: str) -> bytes:
    """``data`` as bytes (bytes, bytearray or memoryview), else TypeError naming ``what``."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what}: expected bytes, got {type(data).__name__}")


class Readonly(Generic[T]):
    """A read-only attribute, as a compiled class's getter: reads the private attribute
    ``attr`` of the instance; setting or deleting it raises AttributeError."""

    def __init__(self, attr: str, doc: str | None = None) -> None:
        self._get = attrgetter(attr)
        self._name = attr
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Readonly[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object, owner: type | None = None) -> Readonly[T] | T:
        if obj is None:
            return self
        value: T = self._get(obj)
        return value

    def __set__(self, obj: object, value: Any) -> None:
        raise AttributeError(f"attribute {self._name!r} of {type(obj).__name__!r} is not writable")

    def __delete__(self, obj: object) -> None:
        self.__set__(obj, None)
