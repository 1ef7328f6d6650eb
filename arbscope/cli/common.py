"""What every command shares: a failure's message, the dashboard's run, the version."""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def fail(message: str) -> int:
    print(f"arbscope: {message}", file=sys.stderr)
    return 2


def run_app(app: Any) -> None:
    """Run the dashboard; whatever ends it (q, an error inside the app), its source is
    stopped afterwards in the same event loop: feeds closed, the journal flushed and its
    connection closed (a connection left open keeps the process from exiting)."""

    async def go() -> None:
        try:
            await app.run_async()
        finally:
            try:
                await app.source.stop()  # q already stopped it: then this does nothing
            except Exception as exc:  # never a traceback on the way out
                print(f"arbscope: stopping: {type(exc).__name__}: {exc}", file=sys.stderr)

    asyncio.run(go())


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("arbscope")
    except metadata.PackageNotFoundError:
        return "unknown"


def journal_call(fn: Any) -> int:
    """Run a journal coroutine; a JournalError is a message and exit status 2."""
    from storage.journal import JournalError

    try:
        return int(asyncio.run(fn))
    except JournalError as exc:
        return fail(str(exc))
