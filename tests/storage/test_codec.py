"""The input record format and the chunk codecs: round trips, and damage is a
JournalError (never a crash or a silently short replay)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.codec import (
    Compressor,
    Kind,
    best_codec,
    compress,
    compress_parts,
    decompress,
    pack,
    unpack,
)
from storage.journal import JournalError

inputs = st.lists(
    st.tuples(
        st.sampled_from(list(Kind)),
        st.integers(0, 65_535),
        st.integers(0, 2**63 - 1),
        st.integers(0, 2**62),
        st.binary(max_size=300),
    ),
    max_size=40,
)


@given(items=inputs, codec=st.sampled_from(["none", "zlib", "zstd"]))
@settings(max_examples=80, deadline=None)
def test_pack_compress_round_trip(
    items: list[tuple[Kind, int, int, int, bytes]], codec: str
) -> None:
    raw = b"".join(pack(*it) for it in items)
    blob = compress(raw, codec)
    back = list(unpack(decompress(blob, codec, len(raw))))
    assert [(i.kind, i.endpoint, i.t_ns, i.wall_us, i.payload) for i in back] == items


@given(items=inputs.filter(bool), cut=st.integers(1, 10_000))
@settings(max_examples=60, deadline=None)
def test_a_cut_chunk_is_an_error_or_fewer_records(
    items: list[tuple[Kind, int, int, int, bytes]], cut: int
) -> None:
    raw = b"".join(pack(*it) for it in items)
    short = raw[: max(0, len(raw) - 1 - cut % len(raw))]
    try:
        out = list(unpack(short))
    except JournalError:
        return
    # a cut exactly on a record boundary parses (decompress's length check catches it)
    assert len(out) < len(items)


@pytest.mark.parametrize("codec", ["zlib", "zstd"])
def test_damaged_blob_or_wrong_length_is_a_journal_error(codec: str) -> None:
    raw = pack(Kind.FRAME, 1, 2, 3, b'{"jsonrpc":"2.0"}' * 50)
    blob = bytearray(compress(raw, codec))
    with pytest.raises(JournalError):
        decompress(bytes(blob), codec, len(raw) + 1)
    blob[len(blob) // 2] ^= 0xFF
    blob[-1] ^= 0xFF
    with pytest.raises(JournalError):
        decompress(bytes(blob), codec, len(raw))
    with pytest.raises(JournalError, match="unknown codec"):
        decompress(bytes(blob), "lz9", len(raw))


def test_unknown_kind_is_a_journal_error() -> None:
    raw = pack(Kind.TICK, 0, 1, 1, b"")
    bad = bytes([200]) + raw[1:]
    with pytest.raises(JournalError, match="unknown input kind"):
        list(unpack(bad))


def test_zstd_is_the_default_when_installed() -> None:
    pytest.importorskip("zstandard")
    assert best_codec() == "zstd"


@given(
    parts=st.lists(st.binary(max_size=2_000), max_size=60),
    codec=st.sampled_from(["none", "zlib", "zstd"]),
)
@settings(max_examples=80, deadline=None)
def test_compressing_the_parts_reads_back_as_their_join(parts: list[bytes], codec: str) -> None:
    """``compress_parts`` (a batch compressed without joining its inputs first) reads back
    with the same ``decompress`` as ``compress`` of the joined bytes."""
    raw = b"".join(parts)
    assert decompress(compress_parts(parts, codec), codec, len(raw)) == raw


@given(
    blobs=st.lists(st.binary(max_size=3_000), min_size=1, max_size=8),
    codec=st.sampled_from(["none", "zlib", "zstd"]),
    level=st.sampled_from([-1, 3]),
)
@settings(max_examples=60, deadline=None)
def test_a_kept_compressor_makes_what_compress_makes_of_each_buffer(
    blobs: list[bytes], codec: str, level: int
) -> None:
    """``Compressor`` (its zstd context kept, as the publisher keeps it) makes, call after
    call, what ``compress`` makes of the same bytes, from a view into a larger buffer
    overwritten between calls, and ``decompress`` reads it back."""
    c = Compressor(codec, level)
    scratch = bytearray(4_000)
    for raw in blobs:
        scratch[: len(raw)] = raw
        with memoryview(scratch) as v, v[: len(raw)] as view:
            blob = c.compress(view)
        scratch[: len(raw)] = bytes(len(raw))
        assert type(blob) is bytes and blob == compress(raw, codec, level)
        assert decompress(blob, codec, len(raw)) == raw


def test_a_compressor_of_an_unknown_codec_is_refused() -> None:
    with pytest.raises(JournalError, match="unknown codec"):
        Compressor("lz4")
