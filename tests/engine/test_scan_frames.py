"""``FeedIngest.scan_frames``: the frames stored whole that follow one another in a
decompressed journal chunk (a headless replay's reader gathers them in runs,
``arbscope.replay.runs``). The oracle is a walk of the chunk with ``storage.codec``'s own
header: Rust and twin give what it gives, whatever the chunk (frames, other inputs,
slot notifications in and past the window, a chunk cut short, any start)."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.codec import HEADER

NOTICE = b'"slotNotification"'
Scan = Callable[[bytes, int, bytes, int], tuple[int, list[int], list[int], int, bool]]


def oracle(raw: bytes, start: int, notice: bytes, within: int) -> tuple[Any, ...]:
    """What the reader wants, from the chunk's own layout, input by input."""
    offs, ts, top, pos = [], [], 0, start
    while pos + HEADER.size <= len(raw):
        kind, ep, t_ns, _wall, length = HEADER.unpack_from(raw, pos)
        payload = raw[pos + HEADER.size : pos + HEADER.size + length]
        if kind != 1 or len(payload) != length:
            break
        offs.append(pos)
        ts.append(t_ns)
        top = max(top, ep + 1)
        pos += HEADER.size + length
        if notice in payload[:within]:
            return pos, offs, ts, top, True
    return pos if offs else start, offs, ts, top, False


_payloads = st.builds(
    lambda pre, notice, post: pre + notice + post,
    st.binary(max_size=40),
    st.sampled_from([b"", NOTICE, b'"slot', b"x"]),
    st.binary(max_size=8),
)
_inputs = st.lists(
    st.tuples(
        st.sampled_from([1, 1, 1, 21, 3, 17, 0, 255]),  # mostly frames
        st.integers(0, 2**16 - 1),
        st.integers(-(2**63), 2**63 - 1),
        _payloads,
    ),
    max_size=12,
)
_chunks = st.builds(
    lambda inputs, cut: b"".join(HEADER.pack(k, e, t, 0, len(p)) + p for k, e, t, p in inputs)[
        : None if cut == 0 else -cut
    ],
    _inputs,
    st.sampled_from([0, 0, 1, 5, 30]),  # a chunk cut short (a damage)
)


def _agree(scans: list[Scan], raw: bytes, at: int, notice: bytes, within: int) -> None:
    want = oracle(raw, at, notice, within)
    for scan in scans:
        assert scan(raw, at, notice, within) == want


def _starts(raw: bytes) -> list[int]:
    """Every input's start (as the reader calls it), and a few others."""
    out, pos = [0], 0
    while pos + HEADER.size <= len(raw):
        pos += HEADER.size + HEADER.unpack_from(raw, pos)[4]
        out.append(pos)
    return [*out, 1, len(raw), len(raw) + 7]


@given(
    raw=_chunks,
    notice=st.sampled_from([NOTICE, b"x", b""]),
    within=st.sampled_from([0, 1, 20, 256, 2**20]),
)
def test_a_scan_is_the_chunks_frames_up_to_another_input_or_a_notice(
    rust: types.ModuleType, py: types.ModuleType, raw: bytes, notice: bytes, within: int
) -> None:
    scans = [rust.FeedIngest.scan_frames, py.FeedIngest.scan_frames]
    for at in _starts(raw):
        _agree(scans, raw, at, notice, within)


def test_the_scans_refuse_what_is_not_bytes_alike(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    for eng in (rust, py):
        with pytest.raises(TypeError):
            eng.FeedIngest.scan_frames("text", 0, NOTICE, 256)
        with pytest.raises(OverflowError):
            eng.FeedIngest.scan_frames(b"", -1, NOTICE, 256)


def _broken(raw: bytes, start: int, notice: bytes, within: int) -> tuple[Any, ...]:
    """A scan that looks for the notice in the whole payload, not its first bytes."""
    from engine_rs.python.copies import scan_frames

    return scan_frames(raw, start, notice, 2**30)


def test_the_property_fails_on_a_broken_scan() -> None:
    """The oracle tells a scan that looks past the window from a right one: the
    property above can fail."""
    found = hypothesis.find(
        st.tuples(_chunks, st.sampled_from([0, 1, 20])),
        lambda c: any(
            _broken(c[0], at, NOTICE, c[1]) != oracle(c[0], at, NOTICE, c[1])
            for at in _starts(c[0])
        ),
        settings=hypothesis.settings(database=None, derandomize=True),
    )
    assert NOTICE in found[0]
