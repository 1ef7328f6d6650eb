"""What others do on the watched pools: the transactions that touch them, classified (the
rivals' arbitrage, ``arbscope.rivals``) and read for the prop AMMs' quotes
(``arbscope.propamm``); and, each turn, how our cycles and orders compare."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine_rs.errors import EngineError
from feeds.propamm import observe as observe_prop
from feeds.rivals import classify
from feeds.wire.txview import TxView
from storage.codec import Kind

from ..execution.paper import Fill

if TYPE_CHECKING:
    from ..session import FeedSession

log = logging.getLogger("arbscope.session")  # the session's log, as before its parts


class Observed:
    """``host``'s rivals (``host.rivals``) and prop AMMs (``host.props``, of the programs
    ``host.prop_programs``); ``errors``: the transactions the classifier could not read."""

    def __init__(self, host: FeedSession) -> None:
        self.host = host
        self.errors = 0
        # the opportunity book the rivals' book was last told the moves of (an engine
        # built again makes a new one: the next call then compares every live cycle)
        self._book: object | None = None

    def on_transaction(self, tx: TxView) -> None:
        """A transaction that touched a watched pool (its body and meta): journaled and
        published as an input (``TRANSACTION``), classified, and, when it is someone
        else's arbitrage on our pools, compared with what we held (``rival`` event)."""
        host = self.host
        host.put_input(Kind.TRANSACTION, tx)
        if host.prop_programs:
            obs = observe_prop(tx, host.prop_programs)
            if obs is not None and host.props.add(obs):
                host.screen.stale()
        try:
            rt = classify(tx)
        except ValueError as exc:
            self.errors += 1
            log.debug("transaction %s not classified: %s", tx.signature, exc)
            return
        r = host.rivals.add(rt, self.pool_state)
        if r is not None:
            host.screen.stale()
            if host.sink is not None:
                host.sink.emit(r, host.slot, host.now_ns)

    def pool_state(self, pool: str) -> tuple[str, str, float, float, int] | None:
        """The graph's state of ``pool`` now (``pool_rate``), None where it holds none: a
        rival's hops are set against it (in journal order, so a replay reads the same)."""
        try:
            a, b, ab, ba, slot = self.host.ev.graph.pool_rate(pool)
        except EngineError:  # not in the graph (UnknownPoolError), or no state yet
            return None
        return str(a), str(b), float(ab), float(ba), int(slot)

    def turned(self, fills: list[Fill]) -> None:
        """The turn's end: the live cycles, our pending orders and the fills that landed,
        set against the rivals'."""
        host = self.host
        ev, rivals = host.ev, host.rivals
        # only the cycles that came or went are compared, while the book is the same;
        # a first GO is found among the book's GO keys
        book = ev.book
        moved = book.take_moved() if book is self._book else None
        self._book = book
        rivals.observe(host.slot, ev.live, ev.fees.cu_price_micro_lamports, moved, book.go)
        if ev.broker is not None:
            for order in ev.broker.pending:
                rivals.traded(order.key[1], order.key[0], order.slot)
        for f in fills:
            if f.ok:
                rivals.landed(f.slot_landed or f.slot_filled)
