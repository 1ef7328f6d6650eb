"""The token registry against the simulator: the session reads every mint and its
Metaplex metadata over the real RPC, the snapshot shows symbols and units, the journal
keeps them, a replay shows the same names with no network, and the export has symbol and
unit columns next to the raw ones."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from arbscope import sources
from arbscope.replay import ReplaySession, load_info
from arbscope.session import RecordSettings
from feeds.clients.rpc import RawAccount
from feeds.clients.tokens import TokenRegistry, info_from_accounts
from feeds.sim import layouts as L
from feeds.sim.world import WorldConfig
from feeds.wire import mints as M
from feeds.wire.tokens import BY_SYMBOL, SPL_TOKEN
from storage.export import export_session
from tests.support.hostile import until

CFG = WorldConfig(seed=9, tokens=12, pools=24, trades_per_slot=10, slot_seconds=0.05)
SOL, USDC = BY_SYMBOL["SOL"].mint, BY_SYMBOL["USDC"].mint


@pytest.mark.slow
async def test_session_names_tokens_journals_them_and_a_replay_shows_them(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    s = sources.session(
        sources.Watch(seed=9),
        sim=sources.SimSettings(world=CFG),
        record=RecordSettings(db, batch_s=0.1),
    )
    await s.start()
    try:
        assert s.start_error == ""
        world = s.feeds.server.world  # type: ignore[union-attr]
        await until(lambda: s.tokens.names_task is not None and s.tokens.names_task.done())
        in_graph = set(s.ev.graph.tokens())
        assert s.tokens.registry.fetched == len(in_graph) > 2
        for _ in range(5):
            s.tick()
        snap = s.snapshot
        names = snap.names
        assert names.symbol(SOL) == "SOL" and names.decimals(USDC) == 6
        # every token as the world named it: decimals from the mint, symbols from Metaplex
        for t in (t for t in world.tokens if t.mint in in_graph):
            info = names.info(t.mint)
            assert (info.symbol, info.decimals, info.source) == (t.symbol, t.decimals, "chain")
        assert s.tokens.registry.problems == []
        assert names.path([SOL, USDC, SOL]) == "SOL→USDC→SOL"
        sid = s.session_id
    finally:
        await s.stop()
    r = ReplaySession(db, await load_info(db, sid))
    await r.start()
    try:
        book = r.session.tokens.registry.book
        assert set(book.tokens) == in_graph
        for t in (t for t in world.tokens if t.mint in in_graph):
            assert (book.info(t.mint).symbol, book.info(t.mint).source) == (t.symbol, "chain")
        assert r.session.tokens.registry.fetch is None  # a replay never asks a network
    finally:
        await r.stop()
    from feeds.wire.units import TokenBook, TokenInfo

    written = await export_session(
        db, sid, tmp_path / "out", names_for=lambda rows: TokenBook.of(TokenInfo(**x) for x in rows)
    )
    opps = list(csv.DictReader(written[0].open()))
    if opps:  # the raw columns stay; the unit ones follow the session's names
        row = opps[0]
        assert row["base_symbol"] in ("SOL", "USDC")
        assert "→" in row["path_symbols"] and row["amount_in"].isdigit()
        assert row["amount_in_units"].endswith(" " + row["base_symbol"])


async def test_registry_falls_back_and_refuses_what_does_not_match() -> None:
    from engine_rs import decoded as D

    other = "Ke1pKe1pKe1pKe1pKe1pKe1pKe1pKe1pKe1pKe1pKe1"
    mint = RawAccount(SPL_TOKEN, L.encode_mint(D.Mint(None, 1, 7, True, None)), 1, 1)
    wrong = L.encode_metaplex_metadata(SOL, "Spoof", "SPF")  # names another mint
    meta = RawAccount(M.METADATA_PROGRAM, wrong, 1, 1)
    info, problems = info_from_accounts(other, mint, meta)
    assert info is not None and info.symbol == "" and info.decimals == 7
    assert any("names mint" in p for p in problems)
    # the table's decimals disagree with the chain's: said, and the chain's used
    info, problems = info_from_accounts(USDC, mint, None)
    assert info is not None and info.decimals == 7 and info.symbol == "USDC"
    assert any("the chain says 7 decimals" in p for p in problems)

    async def failing(keys: object) -> dict[str, RawAccount | None]:
        from feeds.clients.rpc import RpcError

        raise RpcError("no endpoint answered")

    reg = TokenRegistry(failing)
    assert await reg.resolve([USDC, other]) == []
    assert reg.book.symbol(USDC) == "USDC" and reg.book.symbol(other) == "Ke1p…"
    assert reg.problems == ["token registry: no endpoint answered"] and reg.unanswered


async def test_a_session_asks_again_for_names_no_endpoint_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real node under load answered the names' request after the client's timeout:
    the session asks again (``TOKEN_RETRY_S``) and names every token, rather than
    showing prefixes for the rest of the session."""
    from arbscope.parts import tokens as S
    from feeds.clients.rpc import RpcError

    monkeypatch.setattr(S, "TOKEN_RETRY_S", (0.05, 0.05, 0.05))
    s = sources.session(sources.Watch(seed=9), sim=sources.SimSettings(world=CFG))
    asked: list[int] = []
    fetch = s.tokens.fetch_accounts

    async def slow_twice(keys: list[str]) -> dict[str, RawAccount | None]:
        asked.append(len(keys))
        if len(asked) <= 2:
            raise RpcError("getMultipleAccounts: no answer within 5 s", transient=True)
        return await fetch(keys)

    monkeypatch.setattr(s.tokens, "fetch_accounts", slow_twice)
    await s.start()
    try:
        assert s.start_error == ""
        await until(
            lambda: s.tokens.names_task is not None and s.tokens.names_task.done(), timeout=60
        )
        assert len(asked) == 3 and not s.tokens.registry.unanswered
        world = s.feeds.server.world  # type: ignore[union-attr]
        in_graph = set(s.ev.graph.tokens())
        for t in (t for t in world.tokens if t.mint in in_graph):
            assert s.tokens.registry.book.info(t.mint).source == "chain", t
    finally:
        await s.stop()
