"""``delta_changes``: the ranges where a large account's next copy differs from the last
one the journal stored (the ``RANGES`` body of ``storage.delta``), computed in every
frame's receipt by a recording session. The oracle is the journal's own
``storage.delta.changes`` (numpy, the format's reference): Rust and twin give its bytes
for any two spans of one length, and the journal's ``apply`` turns the copy into the
span with them."""

from __future__ import annotations

import types

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_rs.errors import InvalidInputError
from storage.delta import GAP, apply, changes


@st.composite
def copies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A copy and its next one: edits anywhere (runs of new bytes, single bytes flipped,
    at the end past the last whole word), as often near one another as apart."""
    base = draw(st.binary(min_size=0, max_size=700))
    new = bytearray(base)
    for at, data in draw(
        st.lists(st.tuples(st.integers(0, 699), st.binary(min_size=1, max_size=40)), max_size=8)
    ):
        if new:
            at %= len(new)
            new[at : at + len(data)] = data[: len(new) - at]
    if new and draw(st.booleans()):  # one of the last bytes
        new[-1 - draw(st.integers(0, min(7, len(new) - 1)))] ^= 0x5A
    return base, bytes(new)


@given(pair=copies())
@settings(max_examples=300, deadline=None)
def test_changes_are_the_journals_own(
    rust: types.ModuleType, py: types.ModuleType, pair: tuple[bytes, bytes]
) -> None:
    base, span = pair
    want = changes(base, span) if base != span else (0).to_bytes(4, "little")
    for eng in (rust, py):
        got = eng.delta_changes(base, span)
        assert got == want
        assert apply(base, got) == span
    # bytes-like arguments as the recorder may hold them
    assert rust.delta_changes(memoryview(base), bytearray(span)) == want


@pytest.mark.parametrize("n", [8 * 4096 + 3, 121_000])
def test_a_large_book_side_with_requotes_far_apart_and_near(
    rust: types.ModuleType, py: types.ModuleType, n: int
) -> None:
    """Spans as long as an order book's (past the equal blocks either skips), changed in
    runs closer and farther than the gap."""
    base = bytes(range(256)) * (n // 256) + bytes(n % 256)
    span = bytearray(base)
    for at in (0, 70, 70 + GAP + 9, 5_000, 5_000 + 3 * GAP, n - 1):
        span[at] ^= 0xFF
    want = changes(base, bytes(span))
    assert rust.delta_changes(base, bytes(span)) == want == py.delta_changes(base, bytes(span))


def test_spans_of_other_lengths_or_not_bytes_are_refused(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    for eng in (rust, py):
        with pytest.raises(InvalidInputError):
            eng.delta_changes(b"abcdefgh", b"abcdefg")
        with pytest.raises(TypeError):
            eng.delta_changes("abcdefgh", b"abcdefgh")


def _no_gap(base: bytes, span: bytes) -> bytes:
    """Changed words never joined: a range per word (a format the journal's reader
    restores, but not the journal's bytes)."""
    from engine_rs.python import copies

    old, copies.GAP = copies.GAP, 0
    try:
        return bytes(copies.delta_changes(base, span))
    finally:
        copies.GAP = old


def test_the_property_fails_on_changes_that_do_not_join_near_words() -> None:
    """The oracle tells a diff that does not join words within the gap from the
    journal's: the property above can fail."""
    found = hypothesis.find(
        copies(),
        lambda p: p[0] != p[1] and _no_gap(*p) != changes(*p),
        settings=hypothesis.settings(database=None, derandomize=True),
    )
    assert found[0] != found[1]
