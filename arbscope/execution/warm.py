"""The fast path's keeper: what an order needs and the chain may move, kept while armed
(the pools' static parts, the wallet's token accounts and balances, the tip floor, the
hot connections), and what arming prepares (the lookup tables, the durable nonces).
"""

from __future__ import annotations

import asyncio
import logging
import time
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from solders.pubkey import Pubkey

from engine_rs.decoded import pool_mints
from feeds import venues
from feeds.clients.rpc import JitoClient, RawAccount, RpcError
from feeds.clients.sender import HotSender

from .core import ExecutorCore, StaticPool
from .nonces import NonceKeeper
from .orders import TERMINAL
from .routes import fetch_tip_floor
from .tables import TableKeeper

if TYPE_CHECKING:
    from .build import Templates

log = logging.getLogger(__name__)


def decode_pool(eng: types.ModuleType, acc: RawAccount) -> tuple[str, Any]:
    """(venue kind, decoded pool account) of a pool account, by the program that owns it."""
    venue = venues.by_program(acc.owner)
    if venue is None:
        raise ValueError(f"an account owned by {acc.owner} is not a pool arbscope can trade")
    return venue.kind, venue.decode_pool(eng, acc.data, acc.owner)


class Keeper:
    """The fast path's keeper and what arming prepares (see the module doc)."""

    def __init__(self, core: ExecutorCore, templates: Templates) -> None:
        self.core, self.templates = core, templates

    async def statics(self, pools: Sequence[str]) -> None:
        """Decode the pools not seen before, and the token program of their mints."""
        missing = [p for p in pools if p not in self.core.static]
        if not missing:
            return
        got = await self.core.client().get_multiple_accounts(missing)
        recs: dict[str, tuple[str, Any]] = {}
        for p in missing:
            acc = got.get(p)
            if acc is None:
                raise ValueError(f"pool {p} not found on the node")
            recs[p] = decode_pool(self.core.eng, acc)
        mints = sorted({m for kind, r in recs.values() for m in pool_mints(kind, r)})
        mint_accounts = await self.core.client().get_multiple_accounts(mints)
        programs = {}
        for m in mints:
            acc = mint_accounts.get(m)
            if acc is None:
                raise ValueError(f"mint {m} not found on the node")
            programs[m] = acc.owner
        self.core.programs.update(programs)
        for p, (kind, r) in recs.items():
            self.core.static[p] = StaticPool(kind, r, {m: programs[m] for m in pool_mints(kind, r)})

    async def statics_of(self, pools: Sequence[str], chunk: int = 100) -> None:
        """:meth:`_statics` for ``pools`` not read yet, ``chunk`` at a time; a chunk
        holding a pool of a program not traded (or gone) is read again one by one, and
        such a pool is not asked for again."""
        missing = [
            p for p in pools if p not in self.core.static and p not in self.core.static_refused
        ]
        for i in range(0, len(missing), chunk):
            part = missing[i : i + chunk]
            try:
                await self.statics(part)
            except ValueError:
                for p in part:
                    try:
                        await self.statics([p])
                    except ValueError:
                        self.core.static_refused.add(p)

    async def refresh_tip(self) -> None:
        """The percentile policy's tip from the first engine that answers its tip floor
        (kept for 10 s); on no answer the last one (or the fixed fallback) stays."""
        now = time.monotonic()
        if not self.core.tip.stale(now):
            return
        import aiohttp

        from feeds.clients.tls import ssl_for

        for url in self.core.config.engines():
            try:
                async with aiohttp.ClientSession() as http:
                    answer = await fetch_tip_floor(
                        http, url, ssl_for(url, self.core.config.ca_file)
                    )
                self.core.tip.read_floor(answer, now)
                return
            except (ValueError, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                log.warning("tip floor: %s", self.core.clean(str(exc)))

    async def watched_keys(self) -> list[Pubkey]:
        """The accounts a lookup table could hold of one swap each way through every
        pool of the graph whose program arbscope trades."""
        from .tables import table_keys

        assert self.core.wallet is not None
        me = self.core.wallet.pubkey
        pools = [str(p) for p in self.core.graph().pools()]
        await self.statics_of(pools)
        out: dict[Pubkey, None] = {}
        for p in pools:
            st = self.core.static.get(p)
            if st is None:
                continue
            venue = venues.by_kind(st.kind)
            mints = list(pool_mints(st.kind, st.record))
            for tin, tout in ((mints[0], mints[1]), (mints[1], mints[0])):
                leg = venues.Leg(
                    pool=p,
                    record=st.record,
                    owner=me,
                    mint_in=tin,
                    mint_out=tout,
                    source=self.core.ata(tin),
                    dest=self.core.ata(tout),
                    amount_in=1,
                    minimum_out=0,
                    token_programs=st.programs,
                )
                try:
                    ix = venue.swap_instruction(leg)
                except (ValueError, KeyError):
                    continue  # a swap this pool cannot build now (no tick array ahead)
                out.update(dict.fromkeys(table_keys([ix], me)))
        return list(out)

    async def read_accounts(self) -> None:
        """Whether the wallet's token account of each mint of the pools held exists (the
        mints not read yet)."""
        mints = {m for st in self.core.static.values() for m in st.programs}
        unknown = sorted(m for m in mints if m not in self.core.accounts)
        for i in range(0, len(unknown), 100):
            atas = {self.core.ata(m): m for m in unknown[i : i + 100]}
            got = await self.core.client().get_multiple_accounts(list(atas))
            for a, m in atas.items():
                self.core.saw_account(m, got.get(a) is not None)

    async def open_hot(self) -> None:
        """The :class:`HotSender` connections, open (each sharing its endpoint's rate
        limit): the node's, for ``sendTransaction`` once simulated; when bundles go
        unsimulated (the hot path), one per block engine."""
        c = self.core.config
        if c.rpc and not c.engines() and self.core.fast_path:  # sendTransaction after simulating
            h = self.core.hot.get(c.rpc)
            if h is None:
                h = self.core.hot[c.rpc] = HotSender(
                    c.rpc, size=max(2, c.max_open), ca_file=c.ca_file, gate=self.core.client().gate
                )
            await h.open()
        if not self.core.skips_simulation():
            return
        for url in c.engines():
            h = self.core.hot.get(url)
            if h is None:
                if url not in self.core.jitos:
                    self.core.jitos[url] = JitoClient(url, ca_file=c.ca_file, rps=c.jito_rps)
                h = self.core.hot[url] = HotSender(
                    url.rstrip("/") + "/api/v1/bundles",
                    size=max(2, c.max_open),
                    ca_file=c.ca_file,
                    gate=self.core.jitos[url].rpc.gate,
                )
            await h.open()

    async def refresh_balances(self, mints: Sequence[str] = ()) -> None:
        """Read the wallet's SOL and token balances again (every mint traded so far)."""
        if self.core.wallet is None:
            return
        me = self.core.wallet.pubkey
        want = list(dict.fromkeys([*self.core.balances, *mints]))
        atas = {self.core.ata(m): m for m in want}
        sends = self.core.sends
        try:
            got = await self.core.client().get_multiple_accounts([me, *atas])
        except RpcError as exc:
            self.core.last_error = self.core.clean(str(exc))
            return
        # what the fast path takes as the base balance before an order: read after every
        # sent order had ended on chain, and none sent while it was read
        self.core.balances_clean = sends == self.core.sends and not any(
            o.sent and not o.followed and o.status not in TERMINAL for o in self.core.orders
        )
        acc: RawAccount | None = got.get(me)
        self.core.lamports = acc.lamports if acc is not None else 0
        for a, m in atas.items():
            t = got.get(a)
            self.core.balances[m] = self.core.amount(t.data) if t is not None else 0
            self.core.saw_account(m, t is not None)

    async def prepare_tables(self) -> None:
        """Find the wallet's lookup tables on the node and extend them with every
        account the watched pools' swaps name (both directions, the wallet's token
        accounts), creating tables as needed; the cost is journaled and shown. A failure
        is shown and journaled; orders then go with what the tables hold."""
        assert self.core.wallet is not None
        if self.core.tables is None:
            self.core.tables = TableKeeper(
                self.core.client(),
                self.core.wallet.pubkey,
                self.templates.sign,
                self.core.watch,
                self.core.event,
                self.core.config.confirm_timeout_s,
                budget=self.core.config.tables_budget_lamports,
            )
        keeper = self.core.tables
        try:
            await keeper.load()
            keys = await self.watched_keys()
            await keeper.ensure(keys)
            keeper.view.error = ""
        except (RpcError, ValueError, OSError) as exc:
            keeper.view.error = self.core.clean(f"lookup tables: {exc}")
            self.core.last_error = keeper.view.error
            log.warning("%s", keeper.view.error)

    async def prepare_nonces(self) -> str:
        """Find or make one durable nonce account per order in flight (``max_open``); why
        live trading cannot arm ("" when it can): escalation needs them."""
        assert self.core.wallet is not None
        c = self.core.config
        if self.core.nonces is None:
            self.core.nonces = NonceKeeper(
                self.core.client(),
                self.core.wallet.pubkey,
                c.max_open,
                self.templates.sign,
                self.core.watch,
                self.core.event,
                c.confirm_timeout_s,
                budget=c.nonces_budget_lamports,
            )
        try:
            await self.core.nonces.ensure()
        except (RpcError, ValueError, OSError) as exc:
            self.core.nonces.view.error = self.core.clean(f"durable nonces: {exc}")
        if not self.core.nonces.ready:
            return (self.core.nonces.view.error or "durable nonces: none usable") + (
                " (fees.tip_escalation needs them)"
            )
        return ""
