"""Waiting on the app under Textual's pilot without sleeping as synchronisation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
