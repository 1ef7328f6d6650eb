"""The byte format of recorded inputs and their chunks.

An input is a 23-byte little-endian header and a payload::

    kind u8 | endpoint u16 | t_ns i64 (monotonic ns) | wall_us i64 (Unix µs) | length u32

A chunk is the concatenation of a batch's inputs, compressed as one blob (``zstd``
level 3 when the ``zstandard`` package is present, else ``zlib`` level 6, or ``none``).
The codec name is stored with the chunk, so a journal written with one reads with any.
Whole-batch compression is what pays: PubSub frames are JSON with base64 account data
and the same keys over and over (see ``make bench``: bytes per recorded hour).
"""

from __future__ import annotations

import json
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from .journal import JournalError

HEADER = struct.Struct("<BHqqI")  # kind, endpoint, t_ns, wall_us, payload length


class Kind(IntEnum):
    """What an input is; how replay feeds it back (``arbscope.replay``)."""

    FRAME = 1  # a raw PubSub frame: endpoint, recv ns, bytes
    ACCOUNT = 2  # an account fetched over HTTP: [pubkey, owner, slot] NUL data
    TRACK_POOL = 3  # [address, kind]
    TRACK_TICK_ARRAY = 4  # [address, pool]: an array of the pool (FeedIngest.track_array)
    BIND = 5  # endpoint; [subscription, label, kind]
    UNBIND = 6  # endpoint
    FEES = 7  # [[slot, fee], ...] from getRecentPrioritizationFees
    TICK = 8  # the session evaluated what changed (t_ns is its clock)
    DRAIN = 9  # the changed-pool set was read and cleared outside a tick (after bootstrap)
    TRADE = 10  # the operator's paper order on a cycle: [base, [pools]]
    KILL = 11  # the kill switch
    RESUME = 12  # automatic orders allowed again
    UNTRACK_TICK_ARRAY = 13  # [address, pool]: the price moved away from it (untrack_array)
    # [slots_per_epoch, warmup, first_normal_epoch, first_normal_slot] from getEpochSchedule
    # (a recording without one replays on mainnet's schedule, the engine's default)
    EPOCH_SCHEDULE = 14
    TIPS = 15  # [p25, p50, p75, p95, p99]: the block engines' landed tips, lamports
    LANDING = 16  # [slots]: a live order landed this many slots after its decision
    GRPC = 17  # a raw Yellowstone gRPC SubscribeUpdate (protobuf): endpoint, recv ns, bytes
    # [{mint, symbol, name, decimals, ...}]: a collector's token names, for its consumers
    # (NATS batches only: a session keeps its names in the journal's tokens table)
    TOKENS = 18
    # [pool, ...]: the pools no endpoint covers now (every subscription of one of their
    # accounts refused, capped or not connected), recorded when the set changes: their
    # cycles are no-go (``uncovered``) until a feed reports them again
    UNCOVERED = 19
    # a transaction that touched a watched pool, with its meta (fetched for a logs
    # notification or read from a gRPC update): feeds.wire.txview's JSON form; what the
    # rivals' book (arbscope.rivals) reads
    TRANSACTION = 20
    # a FRAME or ACCOUNT input whose long span (the account's data) is stored as a delta
    # against the last stored copy of the same account (``storage.delta``: a reader
    # restores it, reading the session in order from its first chunk)
    DELTA = 21
    # a frame moved pools while the session traded live on its own: it evaluated them and
    # decided on their cycles at once (t_ns is its clock), before the next TICK
    DECIDE = 22
    # [armed, base, {mint: its account exists}]: the live wallet the cycles are scored
    # with from here on (the token accounts a transaction would create cost compute units)
    WALLET = 23
    # [n]: a turn's evaluation done in slices (the event loop given back between them):
    # the pools changed since joined the session's backlog (each once, where it already
    # waited), then its first n were evaluated (t_ns is the turn's clock)
    SLICE = 24
    # the rest of a turn whose evaluation was done in slices (t_ns is its clock): a TICK
    # that evaluates nothing itself (what still waits is the next turn's slices' work)
    TURN = 25
    # [paper seq, live seq]: a live order went out and the paper order decided with it
    # shadows it (the paper fill's ``live_seq``); whether a live order went out depends
    # on the chain and the wallet, which a replay does not have, so it is an input
    LINK = 26
    # the reconcile found an account's bytes on the trusted path (getMultipleAccounts)
    # differing from the bytes the engine last applied, a change no stream delivered:
    # [pubkey, owner, slot] NUL data, as ACCOUNT (FeedIngest.reconcile applies it and
    # charges the endpoints that stream it)
    RECONCILE = 27
    # a turn's report (t_ns is its clock), a loop step after its TURN: the turn's cycles
    # and orders set against the rivals' (RivalBook.observe) and its derived events
    # (a recording from before it, config without "turn_report", reports in the TURN)
    REPORT = 28
    # a turn's decisions (t_ns is its clock), a loop step after its TURN and before its
    # REPORT: the paper orders on its go cycles, and the live ones when trading live
    # (a recording from before it, config without "turn_decide", decides in the TURN)
    DECISIONS = 29
    # a turn's derived events (t_ns is its clock), a loop step after its REPORT (which
    # then sets the turn against the rivals' only) (a recording from before it, config
    # without "turn_events", makes them in the REPORT)
    EVENTS = 30


@dataclass(frozen=True, slots=True)
class Input:
    kind: Kind
    endpoint: int
    t_ns: int
    wall_us: int
    payload: bytes

    def json(self) -> Any:
        """The JSON part of the payload (before a NUL, if any)."""
        head = self.payload.split(b"\0", 1)[0]
        try:
            return json.loads(head)
        except ValueError:
            raise JournalError(f"a recorded {self.kind.name} input is damaged") from None

    def data(self) -> bytes:
        """The bytes after the NUL (an account's data)."""
        parts = self.payload.split(b"\0", 1)
        return parts[1] if len(parts) == 2 else b""


def pack(kind: Kind, endpoint: int, t_ns: int, wall_us: int, payload: bytes) -> bytes:
    return HEADER.pack(kind, endpoint, t_ns, wall_us, len(payload)) + payload


def json_payload(obj: Any, data: bytes | None = None) -> bytes:
    head = json.dumps(obj, separators=(",", ":")).encode()
    return head if data is None else head + b"\0" + data


KINDS = {int(k): k for k in Kind}  # a kind's number -> Kind


def unpack(raw: bytes) -> Iterator[Input]:
    """The inputs of one decompressed chunk; JournalError if it is cut short."""
    off, n, size = 0, len(raw), HEADER.size
    kinds, head = KINDS, HEADER.unpack_from
    while off < n:
        if off + size > n:
            raise JournalError("a recorded chunk is truncated (header)")
        kind, ep, t_ns, wall_us, length = head(raw, off)
        off += size
        end = off + length
        if end > n:
            raise JournalError("a recorded chunk is truncated (payload)")
        k = kinds.get(kind)
        if k is None:
            raise JournalError(f"a recorded chunk holds an unknown input kind {kind}")
        yield Input(k, ep, t_ns, wall_us, raw[off:end])
        off = end


def _zstd() -> Any:
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard


def best_codec() -> str:
    """``zstd`` when the package is installed, else ``zlib``."""
    return "zstd" if _zstd() is not None else "zlib"


def compress(raw: bytes, codec: str, level: int = 3) -> bytes:
    """``raw`` compressed by ``codec`` (``level``: zstd's; 1 is the fastest that still
    finds the repeats within a batch)."""
    if codec == "none":
        return raw
    if codec == "zlib":
        return zlib.compress(raw, 6)
    if codec == "zstd":
        z = _zstd()
        if z is None:
            raise JournalError("zstd compression needs the zstandard package")
        return bytes(z.ZstdCompressor(level=level).compress(raw))
    raise JournalError(f"unknown codec {codec!r}")


class Compressor:
    """:func:`compress` of one codec and level, kept: a zstd context made once and used
    for every call (making one costs more than compressing a small batch), reading any
    byte buffer (a ``memoryview`` of a buffer written in place). One caller at a time."""

    def __init__(self, codec: str, level: int = 3) -> None:
        if codec not in ("none", "zlib", "zstd"):
            raise JournalError(f"unknown codec {codec!r}")
        self.codec, self.level = codec, level
        self._zstd: Any = None
        if codec == "zstd":
            zs = _zstd()
            if zs is None:
                raise JournalError("zstd compression needs the zstandard package")
            self._zstd = zs.ZstdCompressor(level=level)

    def compress(self, raw: bytes | bytearray | memoryview) -> bytes:
        """What ``compress(bytes(raw), codec, level)`` makes, as bytes of its own."""
        if self._zstd is not None:
            return bytes(self._zstd.compress(raw))
        if self.codec == "zlib":
            return zlib.compress(raw, 6)
        return bytes(raw)


def compress_parts(parts: Sequence[bytes], codec: str, level: int = 3) -> bytes:
    """What :func:`compress` makes of ``b"".join(parts)`` (the same format, read the same
    way), without joining them first: a batch of tens of MB is never copied whole (a fresh
    allocation that size costs a page fault per 4 KiB, and the time to copy it)."""
    if codec == "none":
        return b"".join(parts)
    if codec == "zlib":
        z = zlib.compressobj(6)
        return b"".join([*(z.compress(p) for p in parts), z.flush()])
    if codec == "zstd":
        zs = _zstd()
        if zs is None:
            raise JournalError("zstd compression needs the zstandard package")
        c = zs.ZstdCompressor(level=level).compressobj(size=sum(len(p) for p in parts))
        return b"".join([*(c.compress(p) for p in parts), c.flush()])
    raise JournalError(f"unknown codec {codec!r}")


# ---------------------------------------------------------------- a session's dictionary
# A chunk holds 0.2 s of a session's inputs and is compressed alone: the JSON keys, the
# pubkeys, the accounts' unchanged bytes are learnt again in every chunk. A zstd
# dictionary trained on the session's own first inputs (each input a sample) gives every
# later chunk that start: on bench.journal's recording the chunks after the first 300 took
# 0.75 of their size (the first 64 chunks' inputs, 13 MB, trained in 0.5 s).
#
# The dictionary travels in the chunk that first uses it, whose codec is DICT_CODEC:
#     dictionary length u32 | the dictionary | a zstd frame made with it
# and each later chunk names that chunk in its codec, ``zstd@<no>``. So a chunk of either
# kind is read by whoever read the session from its start (a replay, from the file or the
# stream, as the deltas already ask); one whose dictionary was not read is a JournalError
# that says so, never wrong bytes (a zstd frame names its dictionary's id, checked).
DICT_CODEC = "zstd+dict"
DICT_USER = "zstd@"
DICT_BYTES = 128 * 1024  # the dictionary's size (zstd's own default is 110 KB)
TRAIN_CHUNKS = 64  # chunks sampled before training (about 13 s of a live session) ...
TRAIN_MIN_BYTES = 4 << 20  # ... and at least this much of them (a quiet session waits)
TRAIN_MAX_BYTES = 16 << 20  # sampled at most (memory, and training's time: ~0.6 s)
_DLEN = struct.Struct("<I")


# ---------------------------------------------------------------- a session's stream
# Each chunk compressed alone relearns what the chunks before it held (even with the
# dictionary above); one zstd stream over the session, flushed at each chunk's end (a whole
# block: the chunk decodes from its own bytes and the stream's before it), stores
# bench.journal's session in 77.6 MB per recorded hour against 132.5 (decision 0015).
#
# A chunk that starts a stream has codec ``zstd+stream``; each later chunk of it
# ``zstd><no>``, naming the stream's chunk before it. Its blob is zstd's flushed block(s)
# and the CRC-32 of the chunk's bytes (u32 LE): a block has no checksum of its own, and a
# damaged chunk must never read as wrong bytes. The recorder starts a new stream every
# STREAM_CHUNKS chunks or STREAM_RAW_BYTES of inputs (a damaged chunk loses the rest of its
# stream, no more), and when a chunk it made was never numbered (a failed seal: its block
# is in the compressor's history and in no chunk). One stream at a time: a stream's start
# ends the one before it, for the reader too. A stream learns faster than a dictionary
# helps: streams started with the session's dictionary stored 79.4 MB an hour, so a
# session recorded as streams trains none.
STREAM_CODEC = "zstd+stream"
STREAM_NEXT = "zstd>"
STREAM_CHUNKS = 256  # a stream's chunks at most (about 50 s of a live session) ...
STREAM_RAW_BYTES = 256 << 20  # ... and its inputs' bytes at most (a burst's)
_CRC = struct.Struct("<I")


@dataclass(slots=True, eq=False)
class Made:
    """What a chunk :meth:`ChunkCompressor.compress` made brings with it: the dictionary it
    introduces or the stream it is a block of; numbered by :meth:`ChunkCompressor.adopt`."""

    dictionary: Any = None
    stream: Any = None  # the stream's compression object, when it is a block of one
    no: int | None = None  # its chunk's number, once adopted


class ChunkCompressor:
    """A session's chunks compressed as the recorder writes them (in order; calls are
    serialised): with ``codec``; for zstd as one stream (``stream``, above), or (``stream``
    False) each chunk alone with a dictionary trained on the session's first inputs
    (``train``) once :data:`TRAIN_CHUNKS` chunks and :data:`TRAIN_MIN_BYTES` of them were
    seen.
    :meth:`compress` returns the chunk's blob and codec, and what the chunk brings (a
    :class:`Made`, or None); the caller adopts it (:meth:`adopt`) once the chunk has its
    number. A chunk that never got one (a failed seal) is made again: with the same
    dictionary, in a new stream."""

    def __init__(self, codec: str, level: int = 3, train: bool = True, stream: bool = True) -> None:
        self.codec, self.level = codec, level
        zstd = codec == "zstd" and _zstd() is not None
        self.stream = stream and zstd
        self.train = train and zstd and not self.stream
        self.samples: list[bytes] = []
        self.sampled = self.chunks = 0
        self.pending: Any = None  # a dictionary trained, its chunk not yet numbered
        self.current: Any = None  # (the dictionary, its chunk's number), adopted
        self.error = ""  # why there is no dictionary (training failed), once
        self.streams = 0  # streams started
        self._cctx: tuple[Any, Any] | None = None  # (dictionary, its compressor)
        self._lock = threading.Lock()  # (a seal's thread outlives a cancelled await)
        self._last: Made | None = None  # the stream's last chunk made
        self._stream: Any = None  # the stream's compression object
        self._stream_chunks = self._stream_raw = 0

    def compress(self, parts: Sequence[bytes]) -> tuple[bytes, str, Made | None]:
        """(blob, codec, what it brings or None) of the inputs ``parts`` (header, payload,
        header, payload ...)."""
        with self._lock:
            if self.stream:
                return self._streamed(parts)
            if self.current is not None:
                d, no = self.current
                return self._with(parts, d), f"{DICT_USER}{no}", None
            if self.train and self.pending is None:
                self._sample(parts)
            if self.pending is not None:  # the dictionary's chunk, alone
                d = self.pending
                head = d.as_bytes()
                blob = b"".join([_DLEN.pack(len(head)), head, self._with(parts, d)])
                return blob, DICT_CODEC, Made(dictionary=d)
            return compress_parts(parts, self.codec, self.level), self.codec, None

    def adopt(self, made: Made | None, no: int) -> None:
        """The chunk that brought ``made`` is chunk ``no``: later chunks name it."""
        if made is None:
            return
        with self._lock:
            made.no = no
            if made.dictionary is not None:
                self.current, self.pending, self.samples = (made.dictionary, no), None, []

    def _streamed(self, parts: Sequence[bytes]) -> tuple[bytes, str, Made]:
        zs, raw, last = _zstd(), sum(len(p) for p in parts), self._last
        if (
            last is None
            or last.stream is not self._stream
            or last.no is None  # never numbered: its block is in no chunk
            or self._stream_chunks >= STREAM_CHUNKS
            or self._stream_raw + raw > STREAM_RAW_BYTES
        ):
            self._stream = zs.ZstdCompressor(level=self.level).compressobj()
            self._stream_chunks = self._stream_raw = 0
            self.streams += 1
            codec = STREAM_CODEC
        else:
            codec = f"{STREAM_NEXT}{last.no}"
        c, crc, out = self._stream, 0, []
        try:
            for p in parts:
                crc = zlib.crc32(p, crc)
                out.append(c.compress(p))
            out += [c.flush(zs.COMPRESSOBJ_FLUSH_BLOCK), _CRC.pack(crc)]
        except BaseException:
            self._stream = None  # what it took is in no chunk: the next starts anew
            raise
        self._stream_chunks += 1
        self._stream_raw += raw
        self._last = Made(stream=c)
        return b"".join(out), codec, self._last

    def _with(self, parts: Sequence[bytes], d: Any) -> bytes:
        if self._cctx is None or self._cctx[0] is not d:  # (made once per dictionary)
            zs = _zstd()
            # (with its checksum: a damaged dictionary could otherwise make wrong bytes)
            self._cctx = (d, zs.ZstdCompressor(level=self.level, dict_data=d, write_checksum=True))
        c = self._cctx[1].compressobj(size=sum(len(p) for p in parts))
        return b"".join([*(c.compress(p) for p in parts), c.flush()])

    def _sample(self, parts: Sequence[bytes]) -> None:
        self.chunks += 1
        for i in range(0, len(parts) - 1, 2):
            if self.sampled >= TRAIN_MAX_BYTES:
                break
            one = parts[i] + parts[i + 1]  # an input, its header and payload
            self.samples.append(one)
            self.sampled += len(one)
        if self.chunks < TRAIN_CHUNKS and self.sampled < TRAIN_MAX_BYTES:
            return
        if self.sampled < TRAIN_MIN_BYTES:
            return
        zs = _zstd()
        try:
            d = zs.train_dictionary(DICT_BYTES, self.samples, level=self.level)
            d.precompute_compress(level=self.level)
        except zs.ZstdError as exc:  # (too few or too alike samples): no dictionary
            self.error = f"no compression dictionary: {exc}"
            self.train = False
        else:
            self.pending = d
        self.samples = []


class ChunkDecoder:
    """A session's chunks made bytes again, read in order from its first: it keeps the
    dictionaries the chunks introduce (:data:`DICT_CODEC`) for the chunks that name them,
    and the stream being read (:data:`STREAM_CODEC`) for its next chunk."""

    def __init__(self) -> None:
        self.dicts: dict[int, Any] = {}  # chunk number -> its dictionary's decompressor
        self._stream: tuple[int, Any] | None = None  # (its last chunk read, its decoder)
        self._lost: set[int] = set()  # chunks of a stream that could not be read

    def chunk(self, c: Any) -> bytes:
        """:meth:`raw` of a ``storage.journal.Chunk``."""
        return self.raw(c.no, c.blob, c.codec, c.raw_len)

    def raw(self, no: int, blob: bytes, codec: str, raw_len: int) -> bytes:
        """Chunk ``no``'s bytes (JournalError: damaged, an unknown codec, or the chunk
        its dictionary or stream needs not read)."""
        if _of_a_stream(codec):
            return self._streamed(no, blob, codec, raw_len)
        if codec.startswith(DICT_USER):
            dctx = self.dicts.get(_dict_chunk(codec))
            if dctx is None:
                raise JournalError(
                    f"chunk {no} is compressed with the dictionary of chunk "
                    f"{codec[len(DICT_USER) :]}, which was not read (read the session from its "
                    "first chunk; a damaged chunk loses the ones that need it)"
                )
            return _unzstd(blob, raw_len, dctx)
        if codec == DICT_CODEC:
            dctx, frame = _split_dict(blob)
            out = _unzstd(frame, raw_len, dctx)
            self.dicts[no] = dctx
            return out
        return decompress(blob, codec, raw_len)

    def _streamed(self, no: int, blob: bytes, codec: str, raw_len: int) -> bytes:
        zs = _zstd()
        if zs is None:
            raise JournalError("this journal is zstd-compressed: install zstandard")
        if codec.startswith(STREAM_NEXT):
            before = _number(codec, STREAM_NEXT)
            if self._stream is None or self._stream[0] != before:
                self._lost.add(no)
                why = (
                    "which could not be read (damaged, or a chunk before it in the stream)"
                    if before in self._lost
                    else "which was not read (read the session from its first chunk)"
                )
                raise JournalError(
                    f"chunk {no} continues the compression stream of chunk {before}, {why}"
                )
            dobj = self._stream[1]
        else:  # a stream's start (which ends the one before)
            dobj = zs.ZstdDecompressor().decompressobj()
        self._stream = None
        view = memoryview(blob)
        try:
            if len(view) < _CRC.size:
                raise ValueError("shorter than its checksum")
            out = bytes(dobj.decompress(view[: -_CRC.size]))
            if len(out) != raw_len:
                raise ValueError(f"{len(out)} bytes, {raw_len} expected")
            if zlib.crc32(out) != _CRC.unpack_from(view, len(view) - _CRC.size)[0]:
                raise ValueError("its checksum differs")
        except (zs.ZstdError, ValueError, MemoryError) as exc:
            self._lost.add(no)
            raise JournalError(f"a recorded chunk is damaged ({exc})") from None
        self._stream = (no, dobj)
        return out


def _number(codec: str, prefix: str) -> int:
    try:
        return int(codec[len(prefix) :])
    except ValueError:
        raise JournalError(f"a chunk uses an unknown codec {codec!r}") from None


def _dict_chunk(codec: str) -> int:
    return _number(codec, DICT_USER)


def _of_a_stream(codec: str) -> bool:
    """A chunk's codec is one of a stream's (its start, or a later block)."""
    return codec == STREAM_CODEC or codec.startswith(STREAM_NEXT)


def _split_dict(blob: bytes | memoryview) -> tuple[Any, memoryview]:
    """A :data:`DICT_CODEC` chunk's dictionary (a decompressor made with it) and its zstd
    frame."""
    zs = _zstd()
    if zs is None:
        raise JournalError("this journal is zstd-compressed: install zstandard")
    view = memoryview(blob)
    try:
        (n,) = _DLEN.unpack_from(view, 0)
    except struct.error:
        raise JournalError("a recorded chunk is damaged (its dictionary is cut short)") from None
    if _DLEN.size + n > len(view):
        raise JournalError("a recorded chunk is damaged (its dictionary is cut short)")
    try:  # (a damaged one that still parses fails the frame's checks)
        d = zs.ZstdCompressionDict(bytes(view[_DLEN.size : _DLEN.size + n]))
        dctx = zs.ZstdDecompressor(dict_data=d)
    except zs.ZstdError as exc:
        raise JournalError(f"a recorded chunk is damaged (its dictionary: {exc})") from None
    return dctx, view[_DLEN.size + n :]


def _unzstd(frame: bytes | memoryview, raw_len: int, dctx: Any) -> bytes:
    """A frame made with a dictionary, by ``dctx`` (its ``ZstdDecompressor``)."""
    zs = _zstd()
    try:
        out = bytes(dctx.decompress(frame, max_output_size=raw_len))
    except (zs.ZstdError, ValueError, MemoryError) as exc:
        raise JournalError(f"a recorded chunk is damaged ({exc})") from None
    if len(out) != raw_len:
        raise JournalError(f"a recorded chunk is damaged ({len(out)} bytes, {raw_len} expected)")
    return out


def decompress(blob: bytes, codec: str, raw_len: int) -> bytes:
    """The chunk's bytes; JournalError if the codec is unknown or the blob damaged (a
    chunk that names another's dictionary: see :class:`ChunkDecoder`)."""
    if codec == DICT_CODEC:
        dctx, frame = _split_dict(blob)
        return _unzstd(frame, raw_len, dctx)
    if _of_a_stream(codec):
        if codec != STREAM_CODEC:
            _number(codec, STREAM_NEXT)  # (an unknown codec said as such)
        raise JournalError(
            f"this chunk is a block of a compression stream ({codec}): read the session "
            "from its first chunk"
        )
    if codec.startswith(DICT_USER):
        _dict_chunk(codec)
        raise JournalError(
            f"this chunk is compressed with the dictionary of chunk {codec[len(DICT_USER) :]}: "
            "read the session from its first chunk"
        )
    try:
        if codec == "none":
            out = bytes(blob)
        elif codec == "zlib":
            out = zlib.decompress(blob)
        elif codec == "zstd":
            z = _zstd()
            if z is None:
                raise JournalError("this journal is zstd-compressed: install zstandard")
            out = bytes(z.ZstdDecompressor().decompress(blob, max_output_size=raw_len))
        else:
            raise JournalError(f"a chunk uses an unknown codec {codec!r}")
    except (zlib.error, ValueError, MemoryError) as exc:
        raise JournalError(f"a recorded chunk is damaged ({exc})") from None
    except Exception as exc:  # zstandard.ZstdError
        if type(exc).__name__ == "ZstdError":
            raise JournalError(f"a recorded chunk is damaged ({exc})") from None
        raise
    if len(out) != raw_len:
        raise JournalError(f"a recorded chunk is damaged ({len(out)} bytes, {raw_len} expected)")
    return out
