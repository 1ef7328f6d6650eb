"""Long work on the event loop, cut into slices: a large HTTP answer's JSON parse and its
accounts' decoding, with the loop given a turn between slices.

Why not a thread: the standard library's JSON parser is one C call that holds the GIL
from the first byte to the last (a 63 MiB ``getProgramAccounts`` answer of small
accounts: 0.7 s on an idle machine, 1.6-3 s on a busy one), and a thread that holds the
GIL stops the loop as surely as the loop doing it itself — ``/health``, ``/metrics``, the
feeds and the screen all waited that long. Nor a process: the parsed answer would have
to come back through pickle, another parse of the same size.

So the parse walks the answer's outer structure in Python — the top-level object, the
containers in it down to :data:`WALK_DEPTH` — and hands every value below that
(an account, one entry of ``getProgramAccounts``) to the standard library's C scanner
whole. The work is a generator that yields whenever its :class:`Pace` says the slice
is spent; :func:`run_sliced` drives it, giving the loop a turn at each yield. A slice
is as long as the largest value below the walked levels takes to scan (an account of
10 MiB, the largest there is: a few milliseconds) plus :data:`SLICE_S`.

The result is exactly ``json.loads``'s (same decoding of bytes, same values, same
duplicate-key rule, a :class:`json.JSONDecodeError` where it raises one); the tests
hold the two to each other.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import json
import re
import time
from collections.abc import Callable, Generator, Iterator
from json import JSONDecodeError
from typing import Any, TypeVar, cast

SLICE_S = 0.005  # the loop gets a turn at least this often while a slice runs (s)
WALK_DEPTH = 3  # containers above this depth are walked here; values below, scanned whole
DECODE_STEP = 1 << 20  # bytes decoded to text per step

T = TypeVar("T")
Steps = Generator[None, None, T]  # work that yields where the loop may take a turn

# JSON's whitespace (json.decoder.WHITESPACE): it always matches, maybe empty
_ws = cast(Callable[[str, int], "re.Match[str]"], re.compile(r"[ \t\n\r]*").match)
_OPENS = ("{", "[")
_NUMBER_TAIL = frozenset("0123456789.eE+-")  # what may follow a number's start in it
_decoder = json.JSONDecoder()
_scan = _decoder.scan_once  # type: ignore[attr-defined]  # (text, at) -> (value, end); StopIteration(at): no value there
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]  # (text, after ") -> (str, end)


class Pace:
    """When a slice is spent: :meth:`due` once ``slice_s`` has passed since the last
    :meth:`restart` (``clock`` in seconds; ``slice_s`` 0: after every step, for tests
    that count the loop's turns; ``inf``: never, for work done in one go)."""

    __slots__ = ("clock", "slice_s", "until")

    def __init__(
        self, slice_s: float = SLICE_S, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.slice_s, self.clock = slice_s, clock
        self.until = clock() + slice_s

    def due(self) -> bool:
        return self.clock() >= self.until

    def restart(self) -> None:
        self.until = self.clock() + self.slice_s


ONE_GO = float("inf")  # a Pace that is never due

_pauses = 0  # gc_paused blocks open
_was_enabled = False  # the cyclic collector's state when the first opened


@contextlib.contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """The cyclic garbage collector held off for the block (when ``pause``; blocks may
    nest and overlap across tasks: it runs again when the last ends, if it ran before
    the first). A large answer's parse makes a million containers in a few hundred
    milliseconds; each time their count passes the collector's thresholds it walks
    them all again, in one go — 8-13 walks of up to 200 ms for a 63 MiB answer of
    small accounts, longer than any slice. Parsed JSON holds no reference cycles, and
    what the rest of the program leaves meanwhile waits a second to be collected."""
    global _pauses, _was_enabled
    if not pause:
        yield
        return
    if _pauses == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0 and _was_enabled:
            gc.enable()


async def run_sliced(steps: Steps[T], pace: Pace) -> T:
    """Run ``steps`` to its end, giving the loop a turn at every yield (and restarting
    ``pace`` after it); its return value."""
    import asyncio

    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        await asyncio.sleep(0)
        pace.restart()


def run_whole(steps: Steps[T]) -> T:
    """Run ``steps`` to its end without a turn (for work known to be short)."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def parse_json(raw: bytes | bytearray | str, pace: Pace, step: int = DECODE_STEP) -> Steps[Any]:
    """``json.loads(raw)``, in steps (see the module docstring), the bytes decoded
    ``step`` at a time. Raises what it raises: ``JSONDecodeError`` (a ``ValueError``),
    ``UnicodeDecodeError`` for bytes that are not text, ``RecursionError`` for nesting
    deeper than Python's stack."""
    if isinstance(raw, str) and raw.startswith("\ufeff"):
        raise JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
    return (yield from _Parser(raw, pace, step).document())


class _Parser:
    """One answer, parsed through a window of its text: the bytes are decoded
    :data:`DECODE_STEP` at a time as the walk reaches them (never one string of the
    whole answer: making and filling that alone held the loop ~30 ms at 63 MiB), the
    text behind the walk dropped. A value scanned at the window's end may be cut
    short: it is scanned again in a window grown to hold it."""

    __slots__ = ("_done", "_segments", "pace", "s", "step")

    def __init__(self, raw: bytes | bytearray | str, pace: Pace, step: int) -> None:
        self.s = ""  # the window: the text from somewhere before the walk on
        self.pace, self.step = pace, step
        self._segments = iter((raw,)) if isinstance(raw, str) else _segments(raw, step)
        self._done = False  # the window holds the rest of the text

    def more(self, at: int, want: int) -> int:
        """Drop the window's text before ``at`` and read on until the window holds at
        least ``want`` characters from there (or the text ends); ``at``'s new index."""
        parts = [self.s[at:]]
        have = len(parts[0])
        while have < want:
            seg = next(self._segments, None)
            if seg is None:
                self._done = True
                break
            parts.append(seg)
            have += len(seg)
        self.s = "".join(parts)
        return 0

    def skip(self, at: int) -> int:
        """Past the whitespace at ``at``: at a character, or at the text's end."""
        while True:
            at = _ws(self.s, at).end()
            if at < len(self.s) or self._done:
                return at
            at = self.more(at, 1)

    def leaf(self, at: int) -> tuple[Any, int]:
        """The value at ``at``, scanned whole by the C scanner; where it ends."""
        while True:
            s = self.s
            try:
                value, end = _scan(s, at)
            except StopIteration as err:
                if self._done:
                    raise JSONDecodeError("Expecting value", s, err.value) from None
            except JSONDecodeError:
                if self._done:
                    raise
            else:  # a number cut by the window's end would scan as a shorter one
                if self._done or (end < len(s) and s[end] not in _NUMBER_TAIL):
                    return value, end
            at = self.more(at, max(self.step, 2 * (len(s) - at)))

    def key(self, at: int) -> tuple[str, int]:
        """The object key whose opening quote is at ``at``; where it ends."""
        while True:
            s = self.s
            try:
                return _scanstring(s, at + 1, True)  # type: ignore[no-any-return]
            except JSONDecodeError:
                if self._done:
                    raise
            at = self.more(at, max(self.step, 2 * (len(s) - at)))

    def document(self) -> Steps[Any]:
        at = self.skip(0)
        value, end = yield from self.value(at, 0)
        end = self.skip(end)
        if end != len(self.s):
            raise JSONDecodeError("Extra data", self.s, end)
        return value

    def value(self, at: int, depth: int) -> Steps[tuple[Any, int]]:
        """The value at ``at`` (a character, not whitespace) and where it ends."""
        c = self.s[at : at + 1]
        if depth < WALK_DEPTH and c == "{":
            return (yield from self.object(at + 1, depth))
        if depth < WALK_DEPTH and c == "[":
            return (yield from self.array(at + 1, depth))
        return self.leaf(at)

    def object(self, at: int, depth: int) -> Steps[tuple[dict[str, Any], int]]:
        """The object whose ``{`` is just before ``at``."""
        out: dict[str, Any] = {}
        at = self.skip(at)
        if self.s[at : at + 1] == "}":
            return out, at + 1
        inner = depth + 1
        while True:
            if self.s[at : at + 1] != '"':
                raise JSONDecodeError(
                    "Expecting property name enclosed in double quotes", self.s, at
                )
            key, at = self.key(at)
            at = self.skip(at)
            if self.s[at : at + 1] != ":":
                raise JSONDecodeError("Expecting ':' delimiter", self.s, at)
            at = self.skip(at + 1)
            if inner < WALK_DEPTH and self.s[at : at + 1] in _OPENS:
                out[key], at = yield from self.value(at, inner)
            else:  # scanned whole, without a generator of its own: most members
                out[key], at = self.leaf(at)
            if self.pace.due():
                yield
            at = self.skip(at)
            c = self.s[at : at + 1]
            if c == "}":
                return out, at + 1
            if c != ",":
                raise JSONDecodeError("Expecting ',' delimiter", self.s, at)
            at = self.skip(at + 1)

    def array(self, at: int, depth: int) -> Steps[tuple[list[Any], int]]:
        """The array whose ``[`` is just before ``at``."""
        out: list[Any] = []
        at = self.skip(at)
        if self.s[at : at + 1] == "]":
            return out, at + 1
        inner = depth + 1
        while True:
            if inner < WALK_DEPTH and self.s[at : at + 1] in _OPENS:
                value, at = yield from self.value(at, inner)
            else:
                value, at = self.leaf(at)
            out.append(value)
            if self.pace.due():
                yield
            at = self.skip(at)
            c = self.s[at : at + 1]
            if c == "]":
                return out, at + 1
            if c != ",":
                raise JSONDecodeError("Expecting ',' delimiter", self.s, at)
            at = self.skip(at + 1)


def _segments(raw: bytes | bytearray, step: int) -> Iterator[str]:
    """``raw`` as text, as ``json.loads`` decodes bytes (UTF-8, -16 or -32 by its first
    bytes, a UTF-8 BOM dropped, surrogates passed), ``step`` bytes a piece."""
    dec = codecs.getincrementaldecoder(json.detect_encoding(raw))("surrogatepass")
    n = len(raw)
    with memoryview(raw) as view:
        for at in range(0, n, step):
            yield dec.decode(view[at : at + step], final=at + step >= n)
    if not n:
        yield dec.decode(b"", final=True)
