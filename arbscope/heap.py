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
start's own garbage is collected before the freeze. Only a headless operator's process
does it (:func:`enable`: ``arbscope run --headless``, ``arbscope collect``,
``bench.turn``), once; the dashboard's app has a policy of its own that also takes the
collector off the screen's turns (``tui.app.settle_gc``, ``collect_due``).
"""

from __future__ import annotations

import gc

# allocations (less deallocations) before a young collection; CPython's default is 700
YOUNG = 10_000
# young collections before a middle one, middle ones before a full one (defaults 10, 10)
MIDDLE, OLD = 20, 20


_state = {"enabled": False, "settled": False}


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
    gc.set_threshold(YOUNG, MIDDLE, OLD)
    return True
