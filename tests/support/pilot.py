"""Waiting on the app under Textual's pilot without sleeping as synchronisation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any


async def until(pilot: Any, cond: Callable[[], object], timeout: float = 30.0) -> None:
    """Let the app run (redraws, timers, the source's loop) until ``cond()`` holds;
    AssertionError after ``timeout`` s, the failure mode of a test that would hang."""
    try:
        async with asyncio.timeout(timeout):
            while not cond():
                await pilot.pause(0.02)
    except TimeoutError:
        raise AssertionError("the condition never held") from None


@asynccontextmanager
async def on_live_screen(source: Any, size: tuple[int, int]) -> AsyncIterator[tuple[Any, Any]]:
    """``source`` on the dashboard (``fix_app``) at ``size``, let run for 0.3 s: the app
    and its pilot, the app's screen held to be the live screen."""
    from tests.support.staging import fix_app
    from tui.app import ArbscopeApp
    from tui.screens.live import LiveScreen

    app = fix_app(ArbscopeApp(source))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        assert isinstance(app.screen, LiveScreen)
        yield app, pilot
