"""Regenerate the SVG screenshots in screenshots/ from seeded states (`make screenshots`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from arbscope.market import SimMarket
from tui.app import ArbscopeApp

OUT = Path(__file__).resolve().parent.parent / "screenshots"


async def shoot() -> None:
    """The first screen after ~2 s of the seed-7 market, at 120x40."""
    OUT.mkdir(exist_ok=True)
    app = ArbscopeApp(SimMarket(seed=7))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(2.0)
        await pilot.press("space")  # freeze the frame
        await pilot.pause(0.3)
        app.save_screenshot(filename="first-screen.svg", path=str(OUT))


if __name__ == "__main__":
    asyncio.run(shoot())
