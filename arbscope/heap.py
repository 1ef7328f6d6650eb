"""The garbage collector of a long-running session.

A session on a mainnet-size market holds millions of long-lived objects (the graph's
mirror, the feeds' books, the screen's rows); CPython's collector walks the older ones
again and again: on the 3,000-pool market, over 20 s of a session, 2 full collections
took 650 ms (one pause of 351 ms) and 493 young ones 519 ms — pauses that land on a
key or on an order's way to the wire. Once the session has started (its snapshot read,
its feeds subscribed), :func:`settle` collects once, freezes what survives
(``gc.freeze``: the collector no longer walks it) and lets the young generation grow
to :data:`YOUNG` allocations before it is collected (the same run: 30 young
collections in 95 ms, no full one). Cycles among frozen objects are not freed: the
start's own garbage is collected before the freeze. The state then turns over (cycles,
scores and records made anew as the market moves; a reconnect reads thousands of
accounts again), and within minutes the old generation held the whole live state again,
each full pass walking it (the dashboard's 10-minute soak: 526-871 ms a pass): so what
survives a full pass is frozen too (:func:`_after_collection`, a ``gc.callbacks``
entry), and once the frozen objects are half as many again as at the last whole pass,
everything is unfrozen for the next full pass to walk once (the cycles among frozen
objects freed; frozen garbage stays under half the heap). Only a headless operator's process
does it (:func:`enable`: ``arbscope run --headless``, ``arbscope collect``,
``bench.turn``), once; the dashboard's app has a policy of its own that also takes the
collector off the screen's turns (``tui.app.settle_gc``, ``collect_due``).

And the C allocator's. What Python, the engine and the libraries free goes back to the
C allocator, which keeps it for the next allocation rather than return it to the
system: glibc's ``malloc`` gives back only the top of its heap, and only once that is
past its trim threshold, which it raises as large blocks come and go. A reconnect or a
burst (tens of thousands of subscriptions answered, a market's accounts fetched again)
leaves that memory free inside the process for good: on the 3,000-pool market the
dashboard's RSS held ~100-150 MB more than it used after the bursts of an idle
10-minute soak (``python -m bench.ui ... --seconds 600``), and its figure is what an
operator's ``top`` shows. :class:`Trimmer` asks the allocator to give back what is free
(``malloc_trim(0)``: every free page of every arena, not only the top) every
:data:`TRIM_EVERY_S`, from a thread of its own: the call releases the GIL, so the event
loop only waits for the allocator's lock while pages are given back (~1 ms). Where the
C library is not glibc there is no such call and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import mmap
import threading
import time
from collections.abc import Callable

# allocations (less deallocations) before a young collection; CPython's default is 700
YOUNG = 10_000
# young collections before a middle one, middle ones before a full one (defaults 10, 10)
MIDDLE, OLD = 20, 20


_state = {"enabled": False, "settled": False}
# the objects frozen after the last whole pass; whether the next full pass is whole
_frozen = {"after_whole": 0, "whole_next": False}


def enable() -> None:
    """This process is a headless operator's (a headless run, a collector):
    :func:`settle` acts, once. Libraries and tests that start many sessions in one
    process leave it off: their heaps are not one session's."""
    _state["enabled"] = True


def settle() -> bool:
    """Collect, freeze the survivors and raise the thresholds (see the module), the
    first time a session of an enabled process has started; whether it did."""
    if not _state["enabled"] or _state["settled"]:
        return False
    _state["settled"] = True
    gc.collect()
    gc.freeze()
    _frozen.update(after_whole=gc.get_freeze_count(), whole_next=False)
    gc.set_threshold(YOUNG, MIDDLE, OLD)
    if _after_collection not in gc.callbacks:
        gc.callbacks.append(_after_collection)
    trimmer().start()
    return True


def _after_collection(phase: str, info: dict[str, int]) -> None:
    """After a full pass of a settled process: its survivors frozen, and every so often
    the next full pass made whole (see the module doc). A ``gc.callbacks`` entry (the
    collector has finished: freezing moves its lists, it collects nothing)."""
    if phase != "stop" or info.get("generation") != 2:
        return
    gc.freeze()
    n = gc.get_freeze_count()
    if _frozen["whole_next"]:  # this pass walked everything
        _frozen.update(after_whole=n, whole_next=False)
    elif n > _frozen["after_whole"] * 3 // 2:
        gc.unfreeze()  # the next full pass walks all of it once
        _frozen["whole_next"] = True


# how often the allocator is asked to give back what is free (seconds)
TRIM_EVERY_S = 10.0


def _find_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None (another C library: musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        fn = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn  # type: ignore[no-any-return]


_trim = _find_trim()


def rss_bytes(pid: int | None = None) -> int | None:
    """This process's (or ``pid``'s) resident memory (``/proc/<pid>/statm``), or None
    where there is no ``/proc`` (or no such process)."""
    try:
        with open(f"/proc/{pid or 'self'}/statm", "rb") as f:
            return int(f.read().split()[1]) * mmap.PAGESIZE
    except (OSError, ValueError, IndexError):
        return None


def release() -> bool | None:
    """Ask the C allocator to give back to the system every free page it holds
    (``malloc_trim(0)``); whether it gave back any, None where it cannot be asked."""
    if _trim is None:
        return None
    return bool(_trim(0))


class Trimmer:
    """:func:`release` every ``every_s`` seconds in a daemon thread, until :meth:`stop`.
    Counts what it did: ``trims``, the bytes of RSS given back (``released``, RSS before
    less after each call, never below 0) and the longest call (``longest_s``)."""

    def __init__(self, every_s: float = TRIM_EVERY_S) -> None:
        if not every_s > 0:
            raise ValueError(f"every_s must be positive, not {every_s!r}")
        self.every_s = every_s
        self.trims = 0
        self.released = 0
        self.longest_s = 0.0
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return _trim is not None

    def start(self) -> bool:
        """Start the thread (once); False where the allocator cannot be asked."""
        if _trim is None:
            return False
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="heap-trim", daemon=True)
            self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def wait_trims(self, n: int, timeout_s: float) -> bool:
        """Wait until ``n`` calls have been made (at most ``timeout_s``); whether they
        were."""
        with self._done:
            return self._done.wait_for(lambda: self.trims >= n, timeout_s)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            before = rss_bytes()
            t0 = time.perf_counter()
            release()
            took = time.perf_counter() - t0
            after = rss_bytes()
            with self._done:
                self.trims += 1
                if before is not None and after is not None:
                    self.released += max(0, before - after)
                self.longest_s = max(self.longest_s, took)
                self._done.notify_all()


_trimmer: Trimmer | None = None


def trimmer() -> Trimmer:
    """The process's one :class:`Trimmer` (started by the operator's process: the
    dashboard's app once its source started, :func:`settle` for a headless one)."""
    global _trimmer
    if _trimmer is None:
        _trimmer = Trimmer(TRIM_EVERY_S)
    return _trimmer
