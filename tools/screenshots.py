"""Regenerate the SVG screenshots in screenshots/ from the staged states the snapshot
tests use (`make screenshots`): seeded market, fixed clocks, a committed recording
(``tests/support/staging.py``: test support, not part of the wheel)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the staging lives in tests/, beside the packages

from tests.support.staging import (  # noqa: E402
    fix_app,
    staged_books,
    staged_charts,
    staged_live,
    staged_props,
    staged_replay,
    staged_rivals,
    staged_sim,
)
from tui.app import ArbscopeApp  # noqa: E402

OUT = ROOT / "screenshots"

SHOTS: tuple[tuple[str, tuple[int, int], Sequence[str], str], ...] = (
    ("first-screen", (120, 40), (), "dark"),
    ("narrow-80x24", (80, 24), (), "dark"),
    ("cycle-detail", (120, 40), ("enter",), "dark"),
    ("help", (120, 40), ("question_mark",), "dark"),
    ("live-confirm", (120, 40), ("m",), "dark"),
    ("theme-light", (120, 40), (), "light"),
    ("theme-contrast", (120, 40), (), "contrast"),
)

# ``c`` on a market long enough for the indicators: the prices focused (tab, tab) first
CHART_SHOTS: tuple[tuple[str, tuple[int, int], Sequence[str]], ...] = (
    ("price-chart", (120, 40), ("tab", "tab", "c")),
    ("equity", (120, 40), ("c", "c")),
    ("narrow-chart", (80, 24), ("c",)),
)


async def shoot(app: ArbscopeApp, name: str, size: tuple[int, int], keys: Sequence[str]) -> None:
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        if keys:
            await pilot.press(*keys)
            await pilot.pause(0.2)
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, size, keys, theme in SHOTS:
        await shoot(fix_app(ArbscopeApp(staged_sim(), theme=theme)), name, size, keys)
    await shoot(fix_app(ArbscopeApp(staged_books())), "order-books", (140, 45), ("o",))
    for name, size, keys in CHART_SHOTS:
        await shoot(fix_app(ArbscopeApp(staged_charts())), name, size, keys)
    # ``v``: the Rivals panel at 160 columns, and a rival's detail
    for name, size, keys in (
        ("rivals", (160, 45), ("v",)),
        ("rival-detail", (120, 40), ("v", "enter")),
    ):
        await shoot(fix_app(ArbscopeApp(staged_rivals())), name, size, keys)
    # the prop AMMs: their columns beside the mid, and the first pair's chart (prop line)
    await shoot(fix_app(ArbscopeApp(staged_props())), "prop-amm", (120, 40), ("tab", "tab", "c"))
    for name, keys in (("live-mode", ()), ("live-equity", ("c", "c"))):
        live = fix_app(ArbscopeApp(staged_live()))
        live.state.mode = "LIVE"
        await shoot(live, name, (120, 40), keys)
    r = await staged_replay()
    try:
        await shoot(fix_app(ArbscopeApp(r)), "replay", (120, 40), ())
    finally:
        await r.stop()


if __name__ == "__main__":
    asyncio.run(main())
