"""The opportunity book's ranks (``best``, ``best_key``) against the plain sort of its
live cycles by :func:`best_first`, and the turn's events made from what it wrote against
those a look at every live cycle makes, through entries, re-scores and drops in any
order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbscope.cycle_costs import CycleCost
from arbscope.events import Gone
from arbscope.opportunities import OpportunityBook, best_first
from arbscope.parts.screen import Outbox, Screen
from engine_rs.records import REASON_NO_SOL_PRICE, FeeContext, Opportunity, Score
from storage.recorder import JournaledEvent, event_text

BASES = ("A", "B")
POOLS = ("p", "q", "r", "s")
FEES = FeeContext(cu_limit=200_000, cu_price_micro_lamports=0, base_per_lamport_num=1)


def _opp(base: str, pools: tuple[str, ...]) -> Opportunity:
    n = len(pools)
    return Opportunity(
        base, [base, *"x" * (n - 1), base], list(pools), ["cpmm"] * n, n, 1.01,
        10, 11, 1, 1000.0, [10] * (n + 1), 1, 0, 1, False, [0] * n,
    )  # fmt: skip


def _score(net: int, priced: bool, go: bool) -> Score:
    reasons = [] if go else (["persistence"] if priced else [REASON_NO_SOL_PRICE])
    return Score(net + 5, 5000, 0, 0, 5000, 5, net, 1.0, 1, 0, go, reasons)


def _cost(*_: object) -> CycleCost:
    return CycleCost(FEES, (), ())  # type: ignore[arg-type]


cycle = st.tuples(st.sampled_from(BASES), st.sampled_from([("p", "q"), ("q", "r"), ("p", "s")]))
score = st.builds(_score, st.integers(-50, 50), st.booleans(), st.booleans())
step = st.one_of(
    st.tuples(st.just("enter"), st.sampled_from(POOLS), st.lists(st.tuples(cycle, score))),
    st.tuples(st.just("put"), st.integers(0, 5), score),  # the i-th live cycle, if any
    st.tuples(st.just("drop"), st.integers(0, 5)),  # the i-th live cycle, if any
    st.tuples(st.just("drop_pool"), st.sampled_from(POOLS)),
    st.tuples(st.just("best"), st.integers(0, 8)),
)


def _apply(book: OpportunityBook, op: tuple[Any, ...]) -> None:
    """One drawn step on the book: a pool's cycles entered (those through it that do not
    come back dropped), the i-th live cycle scored again or dropped, a pool's dropped
    (anything else: nothing)."""
    live = sorted(book.live)
    if op[0] == "enter":
        pool = op[1]
        got = [(_opp(b, ps), sc, (), (), 0) for (b, ps), sc in dict(op[2]).items() if pool in ps]
        book.enter(pool, got, 1, _cost, frozenset(), "")
    elif op[0] == "put" and live:
        key = live[op[1] % len(live)]
        book.put(key, book.live[key][0], op[2])
    elif op[0] == "drop" and live:
        book.drop(live[op[1] % len(live)])
    elif op[0] == "drop_pool":
        book.drop_pool(op[1])


@given(st.lists(step, max_size=40))
def test_the_best_are_the_plain_sort_of_the_live_cycles(steps: list[tuple[Any, ...]]) -> None:
    """After any sequence of entries (a pool's cycles, others through it dropped), re-scores
    of live cycles, drops and reads, ``best(n)`` is the first ``n`` of the live cycles
    sorted by ``best_first`` (net known first, the highest net, then by key) and
    ``best_key`` the first's key."""
    book = OpportunityBook()
    for op in steps:
        _apply(book, op)
        want = sorted(book.live.items(), key=best_first)
        n = op[1] if op[0] == "best" else 3
        assert book.best(n) == [v for _, v in want[:n]]
        assert book.best_key() == (want[0][0] if want else None)


@given(
    st.lists(
        st.one_of(
            step,
            st.tuples(
                st.just("enter under"),
                st.sampled_from(POOLS),
                st.lists(st.tuples(cycle, score)),
                st.sampled_from([frozenset(), frozenset({"q"})]),
                st.sampled_from(["", "feeds stalled"]),
            ),
        ),
        max_size=40,
    )
)
def test_the_go_keys_are_the_live_cycles_scored_go(steps: list[tuple[Any, ...]]) -> None:
    """After any sequence of entries (some with pools uncovered or the book held: no-go
    whatever the engine said), re-scores and drops, ``go`` is the live keys whose score
    is GO: what the rivals' book finds a first GO among."""
    book = OpportunityBook()
    for op in steps:
        if op[0] == "enter under":
            _, pool, cycles, uncovered, held = op
            got = [
                (_opp(b, ps), sc, (), (), 0) for (b, ps), sc in dict(cycles).items() if pool in ps
            ]
            book.enter(pool, got, 1, _cost, uncovered, held)
        else:
            _apply(book, op)
        assert book.go == {k for k, (_o, sc) in book.live.items() if sc.go}


class _Sink:
    """The events emitted, as the journal's text."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def emit(self, event: JournaledEvent, slot: int, t_ns: int = 0) -> None:
        self.said.append(f"{type(event).__name__} {event_text(event)}")


def _host(book: OpportunityBook) -> Any:
    """What ``Screen.emit`` reads of a session: its slot, evaluator (the book, its live
    cycles and their costs, the default fees, the last sweep) and feeds (not feeding: no
    health events)."""
    ev = SimpleNamespace(book=book, live=book.live, costs=book.costs, fees=FEES, last_sweep=None)
    return SimpleNamespace(slot=1, ev=ev, feeds=SimpleNamespace(feeding=False))


@pytest.mark.parametrize("later", [False, True])
@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            step,
            st.tuples(st.just("emit"), st.booleans()),
            st.tuples(st.just("drain"), st.integers(0, 4)),
        ),
        max_size=40,
    )
)
def test_the_events_look_only_at_what_the_book_wrote_and_say_what_a_full_look_says(
    later: bool, steps: list[tuple[Any, ...]]
) -> None:
    """Through any sequence of entries, re-scores, drops and turns' events (some with no
    sink: nothing said, the next looks at everything), the events made from what the book
    wrote since the last turn are, in order, those a look at every live cycle makes at
    once. ``later``: made into an outbox as it drains, a few at a time, while the book
    moves on (what it passed on so far is a prefix of them; all of them once drained)."""
    book = OpportunityBook()
    host = _host(book)
    seen, full = Screen(host), Screen(host)
    said, want = _Sink(), _Sink()
    box = Outbox(said)
    box.check_every = 1
    into: Any = box if later else said
    for op in steps:
        if op[0] == "emit":
            seen.emit(into if op[1] else None, 7, later)
            full._synced = False  # every live cycle looked at
            full.emit(want if op[1] else None, 7)
        elif op[0] == "drain":
            box.drain(_after(op[1]))
        else:
            _apply(book, op)
        assert said.said == want.said[: len(said.said)]
        assert later or said.said == want.said
    seen.emit(into, 7, later)
    full._synced = False
    full.emit(want, 7)
    box.drain()
    assert said.said == want.said


def _after(n: int) -> Any:
    """A drain's budget: over once asked ``n`` times (``n`` events made)."""
    asked = iter(range(1, n + 2))
    return lambda: next(asked) >= n


class _Said:
    def __init__(self) -> None:
        self.said: list[tuple[Any, int, int]] = []

    def emit(self, event: Any, slot: int, t_ns: int = 0) -> None:
        self.said.append((event, slot, t_ns))


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("emit"), st.integers(0, 9)),
            st.tuples(st.just("later"), st.integers(0, 5)),
            st.tuples(st.just("drain"), st.integers(0, 6)),
        ),
        max_size=30,
    )
)
def test_the_outbox_passes_events_on_in_the_order_they_were_emitted(
    steps: list[tuple[str, int]],
) -> None:
    """Events emitted at once and jobs that make theirs later, drained a few at a time
    (a budget of ``n`` looks at the clock) or not at all, reach the sink in the order
    making each at once gives, and a last drain leaves nothing waiting."""
    got, want = _Said(), _Said()
    box = Outbox(got)
    box.check_every = 1  # the budget looked at after every event made

    def job(into: Any, names: list[str]) -> Any:
        for name in names:
            into.emit(Gone(name, ()), 1, 2)
            yield

    for i, (what, n) in enumerate(steps):
        if what == "emit":
            box.emit(Gone(f"e{i}", ()), n, i)
            want.emit(Gone(f"e{i}", ()), n, i)
        elif what == "later":
            names = [f"j{i}.{k}" for k in range(n)]
            box.later(job(got, names))
            for _ in job(want, names):
                pass
        else:
            box.drain(_after(n))
            assert got.said == want.said[: len(got.said)]  # a prefix, in order
    box.drain()
    assert not box.waiting and got.said == want.said


@given(
    st.lists(st.tuples(cycle, score), min_size=1),
    st.lists(st.tuples(cycle, score)),
    st.integers(1, 4),
    st.lists(st.tuples(cycle, score)),
    st.integers(0, 4),
)
def test_a_pool_entered_in_pieces_drops_what_a_whole_entry_drops(
    before: list[Any], now: list[Any], pieces: int, meanwhile: list[Any], at: int
) -> None:
    """``p``'s live cycles ``before``, then ``now``'s entered in (up to) ``pieces``
    pieces (``drop=False``) and the end's ``drop_stale``: the book is the one a whole
    entry of ``now`` makes. A whole entry through ``p`` before the piece ``at`` (a
    frame's decision that evaluated the pool whole, dropping what it did not bring)
    counts as a piece: what it and the later pieces entered is live, nothing else."""

    def got(cycles: list[Any]) -> list[Any]:
        return [(_opp(b, ps), sc, (), (), 0) for (b, ps), sc in dict(cycles).items() if "p" in ps]

    def keys(entries: list[Any]) -> set[Any]:
        return {(o.base_mint, tuple(o.pools)) for o, *_ in entries}

    whole, cut = OpportunityBook(), OpportunityBook()
    for book in (whole, cut):
        book.enter("p", got(before), 1, _cost, frozenset(), "")
    whole.enter("p", got(now), 1, _cost, frozenset(), "")
    entries = got(now)
    since = cut.entries + 1
    size = -(-len(entries) // pieces) or 1
    starts = range(0, max(len(entries), 1), size)
    later: set[Any] = set()  # what the pieces from ``at`` on entered
    for i, start in enumerate(starts):
        if i == at:
            cut.enter("p", got(meanwhile), 1, _cost, frozenset(), "")
        piece = entries[start : start + size]
        cut.enter("p", piece, 1, _cost, frozenset(), "", drop=False)
        if i >= at:
            later |= keys(piece)
    cut.drop_stale("p", since)
    if at >= len(starts):  # none came between: the same as one whole entry
        assert set(cut.live) == set(whole.live) == keys(entries)
    else:
        assert set(cut.live) == keys(got(meanwhile)) | later
    assert all(set(ks) <= set(cut.live) for ks in cut.through.values())
