"""The wallets a source knows by name (``ports.SourceMarket.known_wallets``): the embedded
simulator's rival bots, each by its roster name (``sim fast``), read by the session's
rival book, so the Rivals panel names them where it showed a short address; the
operator's labels file names a wallet over it. A source that knows none (sockets, NATS
regions, a replay's) adds nothing. The end to end run (the simulator's bots landing
arbitrage on the session's pools, named in the snapshot and its replay) is
``test_rivals_session.py``."""

from __future__ import annotations

from arbscope import sources
from arbscope.sources.known import world_market
from feeds.rivals import RivalTx
from feeds.sim.world import World, WorldConfig
from feeds.wire.units import TokenBook
from tui.widgets.palette import Palette
from tui.widgets.rivals import row_cells, signer_cells

PALETTE = Palette("#00ff00", "#ff0000", "#ffaa00", "#777777")
WORLD = WorldConfig(seed=5, tokens=8, pools=20, competitors=3)


def _arbitrage(signer: str, n: int) -> RivalTx:
    return RivalTx(
        signature=f"sig{n}",
        slot=100 + n,
        index=n,
        signer=signer,
        legs=(),
        kind="arbitrage",
        base_mint="So11111111111111111111111111111111111111112",
        profit=1_000,
        net=500,
        fee=5_000,
        base_fee=5_000,
        priority_fee=0,
        cu_limit=200_000,
        cu_price=0,
        tip=0,
        tip_account=None,
        paid_away=0,
        failed=False,
    )


def test_the_simulators_market_names_its_rival_bots() -> None:
    w = World(WORLD)
    assert w.competition is not None
    wallets = w.competition.wallets
    assert set(wallets) == {"fast", "mid", "spam"}  # the mainnet roster
    known = world_market(w).known_wallets
    assert known == {wallet: f"sim {name}" for name, wallet in wallets.items()}
    # a world without rivals knows no wallet
    assert world_market(World(WorldConfig(seed=5, tokens=8, pools=20))).known_wallets == {}


def test_a_rival_bot_of_the_simulator_is_named_in_the_rivals_panel() -> None:
    s = sources.session(sources.Watch(seed=5), sim=sources.SimSettings(world=WORLD))
    wallets = sources.simulator(s).world.competition.wallets  # type: ignore[union-attr]
    outsider = "Outsider1111111111111111111111111111111111"
    for n, signer in enumerate([wallets["fast"], wallets["fast"], wallets["mid"], outsider]):
        assert s.rivals.add(_arbitrage(signer, n)) is not None
    view = s.rivals.view()  # the snapshot's Rivals panel view
    assert {t.signer: t.label for t in view.top} == {
        wallets["fast"]: "sim fast",
        wallets["mid"]: "sim mid",
        outsider: "",  # not the source's: its short address
    }
    names = TokenBook()
    top = {t.signer: t for t in view.top}
    cell = signer_cells(top[wallets["fast"]], 4, PALETTE, names)[0]
    assert str(cell) == "sim fast"
    assert str(signer_cells(top[outsider], 4, PALETTE, names)[0]) == "Outs…1111"
    signer_col = {
        r.signer: str(row_cells(r, PALETTE, names, view.labels, view.venue_labels)[3])
        for r in view.latest
    }
    assert signer_col == {
        wallets["fast"]: "sim fast",
        wallets["mid"]: "sim mid",
        outsider: "Outs…1111",
    }


def test_the_operators_labels_name_a_wallet_over_the_source() -> None:
    fast = World(WORLD).competition.wallets["fast"]  # type: ignore[union-attr]
    s = sources.session(
        sources.Watch(seed=5, rival_labels={fast: "the fast one"}),
        sim=sources.SimSettings(world=WORLD),
    )
    assert s.rivals.labels[fast] == "the fast one"
    assert sorted(s.rivals.labels.values()) == ["sim mid", "sim spam", "the fast one"]


def test_a_source_that_knows_no_wallet_labels_only_the_operators() -> None:
    labels = {"Outsider1111111111111111111111111111111111": "desk-bot"}
    s = sources.session(sources.Watch(seed=5, rival_labels=labels), sim=None)
    assert s.rivals.labels == labels
