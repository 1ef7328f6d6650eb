"""Two of Textual's caches that leave reference cycles behind, mended in place.

Python frees an object the moment its last reference goes, unless the object is in a
reference cycle: then only the garbage collector frees it, on a pass that walks every
object it tracks. The dashboard runs those passes in loop turns of their own
(``tui.app.collect_due``), and each one is a wait for a key pressed meanwhile. On the
3,000-pool market (``python -m bench.ui``, ``gc.DEBUG_SAVEALL`` over 20 s) most of
what the passes collected was made by two Textual caches:

- ``textual.cache.LRUCache.clear`` drops its ring of ``[prev, next, key, value]``
  links whole, and a ring is a cycle: every link, key and value of the cache stays
  until a collection. A ``DataTable`` clears seven such caches (up to 10,000 cells'
  segments) each time a cell is updated, which the prices and cycles panels do every
  frame. Here ``clear`` breaks the links first, so all of it is freed at once.
- ``textual.strip.Strip.divide`` at the strip's own length returns ``[self]`` and
  keeps that list in the strip's ``_divide_cache``: the strip then refers to itself,
  with its eight caches, segments and styles. The compositor divides every line it
  shows this way. Here that case is answered without the cache (a one-item list is
  cheaper to make than to look up).

Both keep the methods' results and contracts as they were. Textual 8.2 behaves as
described; :func:`mend` checks the shapes it relies on and leaves a Textual that
differs untouched (a later release may fix either upstream).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from textual.cache import LRUCache
from textual.strip import Strip

_mended: dict[str, bool] = {}
originals: dict[str, Any] = {}  # the methods as Textual has them (the tests' oracle)


def _ring_breaking_clear(clear: Callable[[Any], None]) -> Callable[[Any], None]:
    def clear_links(self: Any) -> None:
        for link in self._cache.values():
            link.clear()  # [prev, next, key, value] -> []: no cycle left
        clear(self)

    clear_links.__doc__ = clear.__doc__
    return clear_links


def _uncached_whole_divide(
    divide: Callable[[Strip, Iterable[int]], Sequence[Strip]],
) -> Callable[[Strip, Iterable[int]], Sequence[Strip]]:
    def divide_whole_uncached(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        length = self.cell_length
        kept = [cut for cut in cuts if cut <= length]
        if kept == [length]:
            return [self]
        return divide(self, kept)

    divide_whole_uncached.__doc__ = divide.__doc__
    return divide_whole_uncached


def mend() -> dict[str, bool]:
    """Mend both caches (once per process); which were mended."""
    if _mended:
        return dict(_mended)
    probe: LRUCache[int, int] = LRUCache(2)
    probe.set(1, 1)
    links = getattr(probe, "_cache", None)
    ok = isinstance(links, dict) and all(
        isinstance(v, list) and len(v) == 4 for v in links.values()
    )
    if ok:
        originals["lru_clear"] = LRUCache.clear
        LRUCache.clear = _ring_breaking_clear(LRUCache.clear)  # type: ignore[method-assign, assignment]
    _mended["lru_clear"] = ok
    strip = Strip([], 0)
    ok = hasattr(strip, "_divide_cache") and list(strip.divide([0])) == [strip]
    if ok:
        originals["strip_divide"] = Strip.divide
        Strip.divide = _uncached_whole_divide(Strip.divide)  # type: ignore[method-assign, assignment]
    _mended["strip_divide"] = ok
    return dict(_mended)
