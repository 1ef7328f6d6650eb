"""``bench.jspeer.ts_ladder_ns``: the TypeScript client's self-timed ladder, the bench's
peer of ``openbook_v2.ladder``. Timings are measured, never asserted: only present."""

from __future__ import annotations

import pytest

from bench.jspeer import ts_ladder_ns
from tests.support.jsbook import OpenBookJs


@pytest.mark.slow
def test_ts_client_times_its_ladder(objs: OpenBookJs) -> None:
    (book,) = objs.random([{"seed": 11, "bids": 50, "asks": 50, "events": 0}])
    ns = ts_ladder_ns(book.market, book.bids, book.asks, iterations=5, now=book.now)
    assert ns is not None and ns > 0


@pytest.mark.slow
def test_bytes_the_client_cannot_decode_have_no_row(objs: OpenBookJs) -> None:
    (book,) = objs.random([{"seed": 12, "bids": 1, "asks": 1, "events": 0}])
    assert ts_ladder_ns(b"\0" * len(book.market), book.bids, book.asks, iterations=2) is None


def test_without_node_there_is_no_row_and_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """No node on PATH: the install says why (the tests skip with it) and the peer has no row."""
    import tools.nodejs as nodejs

    monkeypatch.setattr(nodejs, "_problem", [])
    monkeypatch.setattr(nodejs.shutil, "which", lambda _name: None)
    assert "node and npm are not installed" in nodejs.install()
    assert ts_ladder_ns(b"", b"", b"", iterations=1) is None
