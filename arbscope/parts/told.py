"""The session's own inputs (``arbscope.ports.SessionInputs``): what it is told besides the
feeds' frames — by its source, by a replay of its journal, by a collector's stream, by
the operator — each handed to the part it is for (the turn's to its turn)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from feeds.wire.txview import TxView
from storage.codec import Kind

if TYPE_CHECKING:
    from ..session import FeedSession


class Told:
    """``host``'s :class:`~arbscope.ports.SessionInputs`."""

    def __init__(self, host: FeedSession) -> None:
        self.host = host

    # what a source (or a collector's stream) tells it
    def on_fees(self, samples: list[tuple[int, int]]) -> None:
        self.host.fees.on_fees(samples)

    def on_uncovered(self, pools: list[str]) -> None:
        """The pools no endpoint covers now (the session's feeds, or a collector's):
        journaled and published as an input (``UNCOVERED``), so a replay and a consumer
        decide as this session did; their cycles are no-go until covered again."""
        self.host.put_input(Kind.UNCOVERED, pools)
        if self.host.ev.set_uncovered(pools):
            self.host.screen.stale()

    def on_tokens(self, rows: Sequence[dict[str, Any]]) -> None:
        self.host.tokens.on_tokens(rows)

    def on_transaction(self, tx: TxView) -> None:
        self.host.observed.on_transaction(tx)

    def on_tips(self, lamports: list[int]) -> None:
        self.host.fees.on_tips(lamports)

    def on_landing(self, slots: int, send_ns: int = 0) -> None:
        self.host.fees.on_landing(slots, send_ns)

    # the turn's
    def tick(self, now_ns: int | None = None) -> None:
        self.host.tick(now_ns)

    def decide(self, now_ns: int | None = None) -> None:
        self.host.decide(now_ns)

    def evaluate_slice(self, now_ns: int, n: int) -> None:
        self.host.turn.evaluate_slice(now_ns, n)

    def end_turn(self, now_ns: int) -> None:
        self.host.turn.end_turn(now_ns)

    def decide_turn(self, now_ns: int) -> None:
        self.host.turn.decide_turn(now_ns)

    def report_turn(self, now_ns: int) -> None:
        self.host.turn.report_turn(now_ns, events=self.host.turn_events == "inline")

    def events_turn(self, now_ns: int) -> None:
        self.host.turn.events_turn(now_ns)

    # the desk's
    def on_wallet(self, armed: bool, base: str, accounts: dict[str, bool]) -> None:
        self.host.desk.on_wallet(armed, base, accounts)

    def trade(self, base: str, pools: list[str]) -> str:
        return self.host.desk.trade(base, pools)

    def on_link(self, seq: int, live_seq: int) -> None:
        self.host.desk.on_link(seq, live_seq)

    def kill(self) -> int:
        return self.host.desk.kill()

    def resume(self) -> None:
        self.host.desk.resume()
