"""``tui.cycles_freed``: what Textual's ``LRUCache.clear`` and ``Strip.divide`` leave
is freed when its last reference goes, not at the next garbage collection; and both
answer exactly as Textual's own methods (kept in ``cycles_freed.originals``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip

import tui.app  # noqa: F401  (mends both, as the dashboard does)
from tui import cycles_freed


class Value:
    """A cached value a weak reference can watch."""


@contextmanager
def no_collector() -> Iterator[None]:
    """Only reference counting frees objects here (the collector off, then restored)."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def test_both_are_mended_on_this_textual() -> None:
    assert cycles_freed.mend() == {"lru_clear": True, "strip_divide": True}


def test_a_cleared_lru_caches_links_and_values_are_freed_at_once() -> None:
    with no_collector():
        cache: LRUCache[int, Value] = LRUCache(100)
        values = [Value() for _ in range(50)]
        watched = [weakref.ref(v) for v in values]
        for i, v in enumerate(values):
            cache.set(i, v)
        assert cache.get(3) is values[3]
        del values, v
        assert all(w() is not None for w in watched)  # held by the cache
        cache.clear()
        assert not any(w() is not None for w in watched)  # Textual's own: all 50 alive
    assert len(cache) == 0 and cache.get(3) is None
    cache.set(7, Value())  # usable again, LRU order kept
    cache.set(8, Value())
    assert list(cache.keys()) == [7, 8]


def test_a_strip_divided_at_its_own_length_is_freed_at_once() -> None:
    with no_collector():
        strip = Strip([Segment("hello ", Style(bold=True)), Segment("world")])
        assert list(strip.divide([11])) == [strip]
        assert list(strip.divide([11, 40])) == [strip]  # cuts past the end are dropped
        del strip
        # nothing left for the collector (a Strip takes no weak reference): Textual's
        # own keeps [self] in the strip's cache, and the collector finds ~20 objects
        assert gc.collect() == 0


texts = st.text(alphabet="ab cd", min_size=0, max_size=6)
strips = st.lists(
    st.tuples(texts, st.sampled_from([None, Style(bold=True), Style(italic=True)])),
    max_size=5,
).map(lambda parts: Strip([Segment(t, s) for t, s in parts]))


@given(strips, st.lists(st.integers(0, 32), max_size=5))
def test_divide_answers_as_textuals_own(strip: Strip, cuts: list[int]) -> None:
    cuts = [*sorted(set(cuts)), strip.cell_length]
    ours = strip.divide(cuts)
    theirs = cycles_freed.originals["strip_divide"](Strip(strip._segments), cuts)
    assert [s.text for s in ours] == [s.text for s in theirs]
    assert [list(s) for s in ours] == [list(s) for s in theirs]
    assert [s.cell_length for s in ours] == [s.cell_length for s in theirs]


@given(st.lists(st.tuples(st.sampled_from("sgdc"), st.integers(0, 6)), max_size=40))
def test_the_lru_cache_answers_as_textuals_own(ops: list[tuple[str, int]]) -> None:
    ours: LRUCache[int, int] = LRUCache(4)
    theirs: LRUCache[int, int] = LRUCache(4)
    clear = cycles_freed.originals["lru_clear"]
    for op, key in ops:
        if op == "s":
            ours.set(key, key * 10)
            theirs.set(key, key * 10)
        elif op == "g":
            assert ours.get(key) == theirs.get(key)
        elif op == "d":
            ours.discard(key)
            theirs.discard(key)
        else:
            ours.clear()
            clear(theirs)
        assert list(ours.keys()) == list(theirs.keys())
        assert len(ours) == len(theirs)
