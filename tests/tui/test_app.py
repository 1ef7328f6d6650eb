"""The first screen: fills with cycles on a fixed seed, keys answer, q quits cleanly."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tui.app import ArbscopeApp


async def test_screen_fills_and_quits() -> None:
    app = ArbscopeApp(seed=7)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.5)
        cycles = app.query_one("#cycles", DataTable)
        timings = app.query_one("#timings", DataTable)
        assert cycles.row_count > 0
        assert timings.row_count >= 3
        status = str(app.query_one("#status", Static).render())
        assert "seed 7" in status and "errors 0" in status
        await pilot.press("space")
        assert app.paused
        slot = app.market.snapshot.slot
        await pilot.pause(0.5)
        assert app.market.snapshot.slot == slot  # paused: the market does not move
        await pilot.press("space")
        await pilot.press("q")
    assert app.return_code in (0, None)
