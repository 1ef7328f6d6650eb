"""An attribute of a facade that reads through to one of its parts, written on one line.

A facade (the session's read-only view, the live executor's front, the feeds' front) hands
out what its parts hold; a ``@property`` for each such name is three lines of the same shape
again and again. ``slot = Via(lambda s: s._host.slot)`` says the same: read-only (setting
it raises AttributeError, as a property without a setter does), typed by what ``read``
returns, and a structural match for a protocol's ``@property`` of that type. With
``write`` the attribute is settable too (the setter of the property).

Each module makes its own ``Via[Owner, T]`` maker (a one-line function), so that the
lambda's argument is typed as the owner without naming the types twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, overload

Owner = TypeVar("Owner")
T = TypeVar("T")


class Via(Generic[Owner, T]):
    """A data descriptor: ``read(obj)`` on access, ``write(obj, value)`` on assignment."""

    __slots__ = ("name", "read", "write")

    def __init__(
        self, read: Callable[[Owner], T], write: Callable[[Owner, T], None] | None = None
    ) -> None:
        self.read, self.write, self.name = read, write, "?"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Via[Owner, T]: ...
    @overload
    def __get__(self, obj: Owner, owner: type | None = None) -> T: ...
    def __get__(self, obj: Owner | None, owner: type | None = None) -> T | Via[Owner, T]:
        return self if obj is None else self.read(obj)

    def __set__(self, obj: Owner, value: T) -> None:
        if self.write is None:
            raise AttributeError(f"property {self.name!r} has no setter")
        self.write(obj, value)
