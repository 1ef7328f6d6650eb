"""The input record format and the chunk codecs: round trips, and damage is a
JournalError (never a crash or a silently short replay)."""

from __future__ import annotations

import base64
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import storage.codec as codec_mod
from storage.codec import (
    DICT_CODEC,
    HEADER,
    STREAM_CODEC,
    ChunkCompressor,
    ChunkDecoder,
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


# ---------------------------------------------------------------- a session's dictionary
@pytest.fixture
def quick_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dictionary trained after 8 chunks and 256 KB (a session's: 64 and 4 MB)."""
    monkeypatch.setattr(codec_mod, "TRAIN_CHUNKS", 8)
    monkeypatch.setattr(codec_mod, "TRAIN_MIN_BYTES", 256 * 1024)
    monkeypatch.setattr(codec_mod, "DICT_BYTES", 16 * 1024)


def _notification(rng: random.Random, sub: int, slot: int, data: bytes) -> bytes:
    """An ``accountNotification`` as the simulator sends it."""
    value = {
        "lamports": 2_039_280 + rng.randrange(10),
        "data": [base64.b64encode(data).decode(), "base64"],
        "owner": "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc",
        "executable": False,
        "rentEpoch": 18446744073709551615,
        "space": len(data),
    }
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "accountNotification",
            "params": {"result": {"context": {"slot": slot}, "value": value}, "subscription": sub},
        }
    ).encode()


def _session(chunks: int, seed: int = 3) -> list[list[bytes]]:
    """A session's batches (header, payload, ...): 40 pool accounts of 653 bytes, a few
    words of a few of them changed each slot, sent by three endpoints."""
    rng = random.Random(seed)
    accounts = [bytearray(rng.randbytes(200) + bytes(453)) for _ in range(40)]
    out = []
    for slot in range(chunks):
        parts: list[bytes] = []
        for _ in range(12):
            k = rng.randrange(40)
            accounts[k][rng.randrange(653)] = rng.randrange(256)
            frame = _notification(rng, 100 + k, 300_000_000 + slot, bytes(accounts[k]))
            for ep in range(3):  # as the recorder holds them: a header, then the payload
                parts += [HEADER.pack(Kind.FRAME, ep, slot * 1000 + ep, slot, len(frame)), frame]
        out.append(parts)
    return out


def _stored(batches: list[list[bytes]], stream: bool = False) -> list[tuple[int, bytes, str, int]]:
    """The batches as the recorder stores them (``stream``: now; else as before, each
    chunk alone with a dictionary): (chunk number, blob, codec, raw length)."""
    zc, out = ChunkCompressor("zstd", stream=stream), []
    for no, parts in enumerate(batches):
        blob, codec, made = zc.compress(parts)
        zc.adopt(made, no)
        out.append((no, blob, codec, sum(map(len, parts))))
    return out


def test_a_session_s_dictionary_is_trained_carried_and_read_back(quick_training: None) -> None:
    """After TRAIN_CHUNKS chunks the next one carries a dictionary trained on the inputs
    seen; every later chunk names it; a reader from the first chunk gets every chunk's
    bytes back, and the later chunks are smaller than each compressed alone."""
    batches = _session(40)
    stored = _stored(batches)
    codecs = [c for _, _, c, _ in stored]
    first = codecs.index(DICT_CODEC)
    assert codecs == ["zstd"] * first + [DICT_CODEC] + [f"zstd@{first}"] * (39 - first)
    assert first == codec_mod.TRAIN_CHUNKS - 1  # (trained on 8 chunks' inputs, its own too)
    decoder = ChunkDecoder()
    for (no, blob, codec, raw_len), parts in zip(stored, batches, strict=True):
        assert decoder.raw(no, blob, codec, raw_len) == b"".join(parts)
    later = [len(blob) for _, blob, _, _ in stored[first + 1 :]]
    alone = [len(compress_parts(parts, "zstd")) for parts in batches[first + 1 :]]
    assert sum(later) < 0.8 * sum(alone)
    # the chunk that carries it reads alone too
    no, blob, codec, raw_len = stored[first]
    assert decompress(blob, codec, raw_len) == b"".join(batches[first])


def test_a_chunk_whose_dictionary_was_not_read_is_a_journal_error(quick_training: None) -> None:
    """Read from the middle (or its dictionary's chunk damaged): a JournalError naming
    the chunk it needs, never wrong bytes."""
    stored = _stored(_session(14))
    first = [c for _, _, c, _ in stored].index(DICT_CODEC)
    no, blob, codec, raw_len = stored[first + 1]
    with pytest.raises(JournalError, match=f"dictionary of chunk {first}, which was not read"):
        ChunkDecoder().raw(no, blob, codec, raw_len)
    with pytest.raises(JournalError, match="from its first chunk"):
        decompress(blob, codec, raw_len)
    _, carrier, _, carrier_len = stored[first]
    right = ChunkDecoder().raw(first, carrier, DICT_CODEC, carrier_len)
    frame_at = 4 + int.from_bytes(carrier[:4], "little")  # (after its length and dictionary)
    for at in [0, 1, 3, *range(5, len(carrier), 97), len(carrier) - 1]:
        bad = bytearray(carrier)
        bad[at] ^= 0x5A
        try:  # an error, or the right bytes (a dictionary byte the frame never used)
            assert ChunkDecoder().raw(first, bytes(bad), DICT_CODEC, carrier_len) == right
            assert 4 <= at < frame_at
        except JournalError as exc:
            assert "damaged" in str(exc)
    with pytest.raises(JournalError, match="unknown codec"):
        ChunkDecoder().raw(no, blob, "zstd@x", raw_len)


def test_no_dictionary_for_other_codecs_or_a_quiet_session(quick_training: None) -> None:
    """zlib and none never train; a session whose chunks are too small waits (and its
    chunks stay plain zstd)."""
    for name in ("zlib", "none"):
        zc = ChunkCompressor(name)
        assert {zc.compress(p)[1] for p in _session(12)} == {name}
    assert not ChunkCompressor("zstd").train  # (a stream trains none: decision 0015)
    quiet = [parts[:2] for parts in _session(30)]  # one input a chunk: 30 KB in all
    assert {c for _, _, c, _ in _stored(quiet)} == {"zstd"}


# ---------------------------------------------------------------- a session's stream
def test_a_session_s_chunks_are_one_stream_read_back_from_its_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """zstd's chunks are blocks of one stream: the first starts it, each later one names
    the chunk before it; a new stream every STREAM_CHUNKS chunks; a reader from the first
    chunk gets every chunk's bytes back, and the stream's chunks after its first are far
    smaller than each compressed alone with the session's dictionary."""
    monkeypatch.setattr(codec_mod, "STREAM_CHUNKS", 16)
    batches = _session(40)
    stored = _stored(batches, stream=True)
    starts = [0, 16, 32]
    assert [c for _, _, c, _ in stored] == [
        STREAM_CODEC if no in starts else f"zstd>{no - 1}" for no in range(40)
    ]
    decoder = ChunkDecoder()
    for (no, blob, codec, raw_len), parts in zip(stored, batches, strict=True):
        assert decoder.raw(no, blob, codec, raw_len) == b"".join(parts)
    later = sum(len(b) for no, b, _, _ in stored if no not in starts)
    alone = sum(len(b) for no, b, _, _ in _stored(batches) if no not in starts)
    assert later < 0.5 * alone
    with pytest.raises(JournalError, match="from its first chunk"):
        decompress(stored[5][1], stored[5][2], stored[5][3])


def test_a_stream_also_starts_anew_past_its_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    batches = _session(12)
    size = sum(map(len, batches[0]))
    monkeypatch.setattr(codec_mod, "STREAM_RAW_BYTES", 3 * size + size // 2)
    codecs = [c for _, _, c, _ in _stored(batches, stream=True)]
    assert codecs == [STREAM_CODEC if no % 3 == 0 else f"zstd>{no - 1}" for no in range(12)]


@given(
    plan=st.lists(
        st.tuples(st.booleans(), st.integers(1, 6), st.booleans()), min_size=1, max_size=30
    ),
    limit=st.integers(1, 8),
)
@settings(max_examples=60, deadline=None)
def test_chunks_never_numbered_and_chunks_alone_leave_the_stream_readable(
    plan: list[tuple[bool, int, bool]], limit: int
) -> None:
    """Whatever the recorder does between the stream's chunks — a chunk made and never
    numbered (a failed seal: made again later), a spilled chunk compressed alone — the
    chunks it numbered read back in order, each exactly."""
    rng = random.Random(len(plan) * 31 + limit)
    zc = ChunkCompressor("zstd")
    decoder = ChunkDecoder()
    old, codec_mod.STREAM_CHUNKS = codec_mod.STREAM_CHUNKS, limit
    try:
        no = 0
        for numbered, k, spilled in plan:
            parts = [
                x
                for _ in range(k)
                for x in (b"h" * 23, bytes(rng.randrange(4) for _ in range(rng.randrange(900))))
            ]
            if spilled:
                blob, codec, made = compress_parts(parts, "zstd"), "zstd", None
            else:
                blob, codec, made = zc.compress(parts)
            if not numbered:
                continue  # (its inputs are made again into the next chunk)
            zc.adopt(made, no)
            assert decoder.raw(no, blob, codec, sum(map(len, parts))) == b"".join(parts)
            no += 1
    finally:
        codec_mod.STREAM_CHUNKS = old


def test_a_stream_read_from_its_middle_or_past_damage_is_a_journal_error() -> None:
    """A chunk whose stream's chunk before it was not read, or was damaged: a
    JournalError naming that chunk, never wrong bytes; the next stream reads again."""
    old, codec_mod.STREAM_CHUNKS = codec_mod.STREAM_CHUNKS, 6
    try:
        batches = _session(12)
        stored = _stored(batches, stream=True)
    finally:
        codec_mod.STREAM_CHUNKS = old
    no, blob, codec, raw_len = stored[3]
    with pytest.raises(JournalError, match="stream of chunk 2, which was not read"):
        ChunkDecoder().raw(no, blob, codec, raw_len)
    _, second, second_codec, second_len = stored[1]
    for at in [*range(0, len(second), max(1, len(second) // 60)), len(second) - 1]:
        bad = bytearray(second)
        bad[at] ^= 0x5A
        decoder = ChunkDecoder()
        decoder.raw(*stored[0])
        with pytest.raises(JournalError, match="damaged"):
            decoder.raw(1, bytes(bad), second_codec, second_len)
        with pytest.raises(JournalError, match="stream of chunk 1, which could not be read"):
            decoder.raw(*stored[2])
        with pytest.raises(JournalError, match="stream of chunk 2, which could not be read"):
            decoder.raw(*stored[3])
        assert decoder.raw(*stored[6]) == b"".join(batches[6])  # the next stream's start
        assert decoder.raw(*stored[7]) == b"".join(batches[7])
    with pytest.raises(JournalError, match="damaged"):  # cut short
        d = ChunkDecoder()
        d.raw(*stored[0])
        d.raw(1, second[:-7], second_codec, second_len)
    with pytest.raises(JournalError, match="unknown codec"):
        ChunkDecoder().raw(no, blob, "zstd>x", raw_len)


def test_a_chunk_whose_compression_failed_midway_leaves_the_stream_readable() -> None:
    """The stream took part of a chunk and then failed (an input it cannot read): the
    next chunk starts a new stream, and the chunks numbered read back."""
    batches = _session(4)
    zc, decoder = ChunkCompressor("zstd"), ChunkDecoder()
    blob, codec, made = zc.compress(batches[0])
    zc.adopt(made, 0)
    assert decoder.raw(0, blob, codec, sum(map(len, batches[0]))) == b"".join(batches[0])
    with pytest.raises(TypeError):
        zc.compress([*batches[1], "not bytes"])  # type: ignore[list-item]
    for no, parts in enumerate(batches[2:], start=1):
        blob, codec, made = zc.compress(parts)
        assert codec == (STREAM_CODEC if no == 1 else f"zstd>{no - 1}")
        zc.adopt(made, no)
        assert decoder.raw(no, blob, codec, sum(map(len, parts))) == b"".join(parts)
