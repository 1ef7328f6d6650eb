"""The tokens' names and decimals: read once the session's own sockets are up (in a task of
its own: the screen shows the well-known table and mint prefixes until then), taken from
a region's collectors, or from the journal (a replay); cached in the journal for replays."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from feeds.clients.rpc import RawAccount
from feeds.clients.tokens import TokenRegistry
from feeds.wire.units import TokenBook, TokenInfo
from storage.codec import Kind

if TYPE_CHECKING:
    from ..session import FeedSession

# when the token names' request went unanswered: asked again after each of these
TOKEN_RETRY_S = (2.0, 5.0, 10.0, 30.0, 60.0)
log = logging.getLogger("arbscope.session")  # the session's log, as before its parts


class Tokens:
    """The ``registry`` of ``host``'s tokens and the tasks that fill it."""

    def __init__(self, host: FeedSession) -> None:
        self.host = host
        self.registry = TokenRegistry()
        self.names_task: asyncio.Task[None] | None = None
        self._bg: set[asyncio.Task[None]] = set()  # fire-and-forget tasks, held until done

    def started(self) -> None:
        """The session's own sockets are up: the token names are read now."""
        self.names_task = asyncio.create_task(self.learn(), name="tokens")

    async def fetch_accounts(self, keys: Sequence[str]) -> dict[str, RawAccount | None]:
        return await self.host.feeds.fetch_accounts(keys)

    def _named(self) -> None:
        """The registry's names to the evaluator, and to the next snapshot."""
        self.host.ev.set_names(self.registry.book)
        self.host.screen.stale()

    async def learn(self) -> None:
        """Read the graph's mints and their metadata, then cache what was learnt in the
        journal with the session, for its replays; asked again after
        :data:`TOKEN_RETRY_S` while no endpoint answered (a node under load: the real
        node's first answer came after the 5 s timeout, and one lost request left every
        token unnamed for the session). Never raises: a failure leaves the fallbacks on
        the screen and says why in the log."""
        host = self.host
        self.registry.fetch = self.fetch_accounts
        for wait in (0.0, *TOKEN_RETRY_S):
            if wait:
                log.info("tokens: no endpoint answered; asking again in %g s", wait)
                await asyncio.sleep(wait)
            try:
                seen = len(self.registry.problems)
                new = await self.registry.resolve(host.ev.graph.tokens())
                host.ev.set_names(self.registry.book)
                if host.publisher is not None:  # a collector: its consumers have no RPC
                    rows = [dataclasses.asdict(t) for t in self.registry.book.tokens.values()]
                    host.put_input(Kind.TOKENS, rows)
                for problem in self.registry.problems[seen:]:
                    log.warning("tokens: %s", problem)
                host.screen.stale()
                log.info(
                    "tokens: %d read (%s)",
                    len(new),
                    ", ".join(sorted(t.symbol for t in new if t.symbol))[:300],
                )
                if host.journal is not None and host.session_id and new:
                    rows = [dataclasses.asdict(t) for t in new]
                    await host.journal.put_tokens(host.session_id, rows)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the names are a nicety: never the session's end
                log.warning("tokens: not read: %s: %s", type(exc).__name__, exc)
                return
            if not self.registry.unanswered:
                return

    def on_tokens(self, rows: Sequence[dict[str, Any]]) -> None:
        """Token names a region's collector read (a consumer reads none itself): added
        to the registry, and to the journal for the session's replays."""
        try:
            known = self.registry.book.tokens
            new = [t for t in (TokenInfo(**r) for r in rows) if t.mint not in known]
        except TypeError as exc:
            log.warning("tokens from a collector not read: %s", exc)
            return
        if not new:
            return
        self.registry.book = TokenBook({**known, **{t.mint: t for t in new}})
        self._named()
        log.info(
            "tokens: %d from the collectors (%s)",
            len(new),
            ", ".join(sorted(t.symbol for t in new if t.symbol))[:300],
        )
        host = self.host
        if host.journal is not None and host.session_id:
            task = asyncio.get_running_loop().create_task(
                self._journal([dataclasses.asdict(t) for t in new]), name="tokens-journal"
            )
            self._bg.add(task)  # held until done (the loop keeps only weak references)
            task.add_done_callback(self._bg.discard)

    async def _journal(self, rows: list[dict[str, Any]]) -> None:
        journal = self.host.journal
        if journal is None:
            return
        try:
            await journal.put_tokens(self.host.session_id, rows)
        except Exception as exc:  # the names are a nicety: never the session's end
            log.warning("tokens: not journaled: %s: %s", type(exc).__name__, exc)

    def use(self, rows: Sequence[dict[str, Any]]) -> None:
        """Names from a journal (a replay): what the recording session read."""
        self.registry = TokenRegistry(known=[TokenInfo(**r) for r in rows])
        self._named()
