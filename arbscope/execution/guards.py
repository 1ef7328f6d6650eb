"""The guard rails: what arming checks (keypair, RPC, caps, the node, SOL for fees, lookup
tables, durable nonces), the UTC day's cap across runs (the journal's ledger), the kill
switch.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from feeds.clients.rpc import JitoClient, RpcError
from feeds.clients.sender import HotSender
from feeds.redact import redact
from feeds.wire import instructions as I
from storage.journal import Event, Journal, JournalError
from storage.recorder import Recorder

from ..events import Armed, Disarmed
from .core import BLOCKHASH_REFRESH_S, KEEP_WARM_S, utc_day
from .follow import Following
from .keys import KeypairError, load_wallet
from .nonces import NonceKeeper
from .orders import (
    NOT_SENT,
    TERMINAL,
    LiveOrder,
)
from .tables import TableKeeper

log = logging.getLogger(__name__)


def day_spent(rows: Iterable[tuple[str, float, int | None, Event]], day: str) -> tuple[int, int]:
    """(base units, sessions) of the live orders in ``rows`` (journaled ``tx`` events:
    session, its start, its first_ns, event) accepted on UTC ``day`` and sent or possibly
    sent: every order counts unless it ended refused, cancelled or in error without a
    ``sent`` step. An order with no end at all (its process died) counts: it may have
    gone out. The day is the one the executor counted it on (``day`` in the ``accepted``
    payload), else the session's start plus the event's offset."""
    orders = day_orders(rows, day)
    return sum(orders.values()), len({sid for (sid, _), a in orders.items() if a})


def day_orders(
    rows: Iterable[tuple[str, float, int | None, Event]], day: str
) -> dict[tuple[str, int], int]:
    """Each live order of ``rows`` accepted on UTC ``day``, by (session, seq): the base
    units it counts for (0: it ended without being sent; see :func:`day_spent`)."""
    orders: dict[tuple[str, Any], dict[str, Any]] = {}
    for sid, started, first_ns, ev in rows:
        p = ev.payload
        o = orders.setdefault(
            (sid, p.get("seq")), {"amount": 0, "day": "", "sent": False, "end": ""}
        )
        step = p.get("step")
        if step == "accepted":
            try:
                o["amount"] = int(p.get("amount_in") or 0)
            except (TypeError, ValueError):
                o["amount"] = 0
            wall = started + ((ev.t_ns - first_ns) / 1e9 if first_ns is not None else 0.0)
            o["day"] = p.get("day") or utc_day(wall)
        elif step == "sent":
            o["sent"] = True
        elif step in TERMINAL:
            o["end"] = step
    out: dict[tuple[str, int], int] = {}
    for (sid, seq), o in orders.items():
        if o["day"] != day:
            continue
        try:
            key = (str(sid), int(seq))
        except (TypeError, ValueError):
            continue
        out[key] = 0 if o["end"] in NOT_SENT and not o["sent"] else int(o["amount"])
    return out


class DayFile:
    """The live orders every session of a journal accepted, one JSON line each (session,
    seq, UTC day, base units), appended to ``<journal>.live`` before an order is built:
    a write to the file (no flush of the journal, no fsync), so a process that dies
    right after still leaves it for the next one (an operating system crash can lose the
    last lines; the journal's own ``accepted`` events follow within its batch time).
    Read incrementally: each read parses only the lines added since the last; a line this
    object appended is not read back when nothing else was written before it (its
    entry is kept as it was written), so an order costs a ``stat``, a ``write`` and an
    ``fstat`` while no other session trades on the journal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None  # appending
        self._rd: int | None = None  # reading (kept open: a read is a stat when idle)
        self._ino = -1  # the inode ``_rd`` reads
        self._offset = 0
        self._tail = b""
        self.entries: dict[tuple[str, int], tuple[str, int]] = {}  # -> (day, amount)
        self.malformed = 0
        self._quoted: dict[str, str] = {}  # session or day -> its JSON string (cached)

    def _json(self, text: str) -> str:
        q = self._quoted.get(text)
        if q is None:
            if len(self._quoted) > 64:
                self._quoted.clear()
            q = self._quoted[text] = json.dumps(text)
        return q

    def append(self, session: str, seq: int, day: str, amount: int) -> None:
        """One order, written before it goes on (OSError when it cannot be): the line
        ``json.dumps({"s": session, "seq": seq, "day": day, "amount": amount})`` writes."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        seq, amount = int(seq), int(amount)
        line = (
            f'{{"s": {self._json(session)}, "seq": {seq}, "day": {self._json(day)}, '
            f'"amount": {amount}}}\n'
        ).encode()
        os.write(self._fd, line)
        if self._rd is None or self._tail:
            return
        # read up to where this line began, and nothing else was written since: it is
        # this line (O_APPEND), kept without reading it back
        st = os.fstat(self._fd)
        if st.st_ino == self._ino and st.st_size == self._offset + len(line):
            self._offset = st.st_size
            self.entries[(session, seq)] = (day, amount)

    def read(self) -> dict[tuple[str, int], tuple[str, int]]:
        """The orders added to the file since the last read (every one is in
        :attr:`entries`); a file not there yet holds none."""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return {}
        if self._rd is not None and self._ino != now.st_ino:
            os.close(self._rd)  # replaced (removed, then written again): read it anew
            self._rd, self._offset, self._tail = None, 0, b""
        if self._rd is None:
            try:
                self._rd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return {}
            st = os.fstat(self._rd)
            self._ino, size = st.st_ino, st.st_size
        else:
            size = now.st_size  # the same inode: the same file
        if size <= self._offset:
            return {}
        got = os.pread(self._rd, size - self._offset, self._offset)
        self._offset += len(got)
        *lines, self._tail = (self._tail + got).split(b"\n")
        new: dict[tuple[str, int], tuple[str, int]] = {}
        for line in lines:
            try:
                e = json.loads(line)
                new[(str(e["s"]), int(e["seq"]))] = (str(e["day"]), int(e["amount"]))
            except (ValueError, KeyError, TypeError):
                self.malformed += 1
        self.entries.update(new)
        return new

    def close(self) -> None:
        for fd in (self._fd, self._rd):
            if fd is not None:
                os.close(fd)
        self._fd = self._rd = None
        self._ino = -1


class JournalLedger:
    """The day's total from the journal: the ``tx`` events of its other sessions (earlier
    runs and concurrent processes on the same file), and this session's recorder, whose
    flush makes an order's ``accepted`` event durable before the order can be sent."""

    def __init__(self, journal: Journal, recorder: Recorder) -> None:
        self.journal, self.recorder = journal, recorder
        self.file = DayFile(Path(f"{journal.path}.live"))
        # the other sessions' orders of ``_day`` as the journal last said (authoritative
        # for the orders it holds: refused ones count 0)
        self._day, self._journaled = "", {}  # type: tuple[str, dict[tuple[str, int], int]]
        # the other sessions' orders the day file holds, by day (this session's skipped)
        self._others: dict[str, dict[tuple[str, int], int]] = {}
        # spent_now's answer, while neither the journal's orders nor the file's changed
        self._said: tuple[str, tuple[int, str]] | None = None

    async def spent_elsewhere(self, day: str) -> tuple[int, str]:
        start = calendar.timegm(time.strptime(day, "%Y-%m-%d"))
        rows = await self.journal.events_of("tx", since=start, exclude=self.recorder.session)
        self._day, self._journaled = day, day_orders(rows, day)
        self._said = None
        return self.spent_now(day)

    def spent_now(self, day: str) -> tuple[int, str]:
        """The other sessions' total of ``day`` now: the journal's as last read, and every
        order the day file holds that the journal did not yet (each counted whole)."""
        me = str(self.recorder.session)
        for key, (d, amount) in self.file.read().items():
            if key[0] != me:
                self._others.setdefault(d, {})[key] = amount
                self._said = None
        said = self._said
        if said is not None and said[0] == day:
            return said[1]
        journaled = self._journaled if self._day == day else {}
        filed = self._others.get(day, {})
        total = sum(journaled.values())
        sessions = {sid for (sid, _), a in journaled.items() if a}
        for key, amount in filed.items():
            if key not in journaled:
                total += amount
                if amount:
                    sessions.add(key[0])
        n = len(sessions)
        out = total, f"{n} other session{'s' if n != 1 else ''} in journal {self.journal.path}"
        self._said = (day, out)
        return out

    def note(self, seq: int, day: str, amount: int) -> None:
        """This session's order ``seq`` goes on: in the day file before anything is sent
        (JournalError when it cannot be written: fail safe)."""
        if self.recorder.stopped:
            raise JournalError(self.recorder.error)
        try:
            self.file.append(str(self.recorder.session), seq, day, amount)
        except OSError as exc:
            raise JournalError(f"{self.file.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        self.file.close()


class GuardRails(Following):
    """The guard rails of live trading (see the module doc)."""

    # ------------------------------------------------------------ guard rails
    def checks(self) -> list[str]:
        """The guard rails as the confirmation screen lists them (✓ / ✗)."""
        c = self.config
        out = []
        try:
            if c.keypair:
                w = load_wallet(c.keypair)
                out.append(
                    f"✓ keypair {c.keypair} (owner-only, outside any repository): wallet {w.pubkey}"
                )
            else:
                out.append("✗ no keypair (--keypair FILE or ARBSCOPE_KEYPAIR)")
        except KeypairError as exc:
            out.append(f"✗ {exc}")
        out.append(
            f"✓ RPC {redact(c.rpc)}" if c.rpc else "✗ no RPC endpoint to send with (--send-rpc)"
        )
        cap_err = self._caps_error()
        out.append(
            f"✗ {cap_err}"
            if cap_err
            else f"✓ caps: {c.max_trade:,} per trade, {c.max_day:,} per day, {c.max_open} open, "
            f"{c.max_slippage_bps} bps slippage"
        )
        engines = c.engines()
        via = (
            f"Jito bundles to {len(engines)} block engine(s): {c.engines_shown()}"
            if engines
            else "sendTransaction"
        )
        out.append(f"  send via {via} (tip: {self.tip.shown()})")
        out.append(
            "  bundles go UNSIMULATED (live.simulate = plain): block engines do not land "
            "a failing bundle; the minimums still hold on chain"
            if self._skips_simulation()
            else "  every order simulated before it is sent (live.simulate = always)"
        )
        if self._escalating():
            out.append(
                f"  durable nonces: {c.max_open} nonce account(s) of the wallet, found "
                "on the node or made when armed (rent ≈ 0.0014 SOL each, returned "
                "on withdrawal)"
            )
        out.append(
            "  orders as v0 messages through the wallet's address lookup tables: found "
            "on the node, or made when armed (rent ≈ 0.0013 SOL a table + 0.00022 SOL "
            "an account, returned when a table is closed)"
            if self.tables is None
            else "  " + self.tables_note()
        )
        return out

    def _caps_error(self) -> str:
        c = self.config
        if c.max_trade is None or c.max_day is None:
            return "caps not set: --max-trade and --max-day (base-token units) are required"
        if c.max_trade <= 0 or c.max_day <= 0 or c.max_open < 1:
            return "caps must be positive (max trade, max day, max open >= 1)"
        if not 0 < c.max_slippage_bps <= 1_000:
            return "max slippage must be within 1..1000 bps"
        if c.engines() and c.tip_lamports < I.JITO_MIN_TIP:
            return (
                f"a Jito bundle needs a tip of at least {I.JITO_MIN_TIP} lamports (--tip-lamports)"
            )
        return ""

    async def arm(self) -> tuple[bool, str]:
        """Check every guard rail; (True, the lookup tables in a line) when live trading
        may start, else (False, why not)."""
        c = self.config
        gen = self.generation  # a kill switch while the checks run must win over them
        try:
            if not c.keypair:
                return False, "no keypair: pass --keypair FILE (or set ARBSCOPE_KEYPAIR)"
            self.wallet = load_wallet(c.keypair)
        except KeypairError as exc:
            return False, str(exc)
        if not c.rpc:
            return False, "no RPC endpoint to send transactions with (--send-rpc URL)"
        err = self._caps_error()
        if err:
            return False, err
        if self.ledger is None:
            return False, (
                "live trading needs the journal: it keeps the UTC day's total "
                "(--max-day) across runs; run without --no-record"
            )
        self._roll_day()
        try:
            await self._read_elsewhere()
        except JournalError as exc:
            return False, f"cannot read the day's live total from the journal: {exc}"
        rpc = self._client()
        try:
            version = await rpc.get_version()
            core = str(version.get("solana-core", "?"))
            if "arbscope-sim" in core:
                info = await rpc.call("simInfo")
                if not isinstance(info, dict) or not info.get("acceptsTransactions"):
                    return False, (
                        "the simulator does not accept transactions: start it with "
                        "`arbscope sim --accept-tx` (or run with --sim-accept-tx)"
                    )
                self.node = f"arbscope simulator {core} (accepts transactions)"
            else:
                self.node = f"solana-core {core}"
            await self._latest_blockhash(force=True)
            self.lamports = await rpc.get_balance(self.wallet.pubkey)
            base = (await rpc.get_multiple_accounts([self.base])).get(self.base)
            if base is not None:  # its program names the wallet's account of it
                self._programs[self.base] = base.owner
        except RpcError as exc:
            return False, f"RPC not usable: {exc}"
        if not self.lamports:
            return False, f"wallet {self.wallet.pubkey} has no SOL to pay fees"
        await self.refresh_balances([self.base])
        if self.balances.get(self.base, 0) <= 0:
            return False, f"wallet {self.wallet.pubkey} holds none of the base token {self.base}"
        await self._prepare_tables()
        if self._escalating():
            why = await self._prepare_nonces()
            if why:
                return False, why
        if self.fast_path:
            # the fast path warm before the first order: the pools' static parts, the
            # wallet's token accounts, the hot connections (else the orders of the first
            # second read their accounts from the node, or wait for a connection)
            await self.keep_warm()
        if gen != self.generation:
            return False, "the kill switch was pressed while the guard rails were checked"
        self._roll_day()
        if self.base_start is None:
            self.base_start = self.balances.get(self.base, 0)
        self.armed = True
        if self.fast_path:  # the blockhash it signs with, read on threads of their own
            self.blockhashes.start()
        self._start_warming()
        self._event(Armed(self.wallet.pubkey, self.node, c.shown()))
        log.info("live armed: wallet %s via %s", self.wallet.pubkey, redact(c.rpc))
        notes = [self.tables_note(), self.nonces.note() if self.nonces is not None else ""]
        return True, "; ".join(n for n in notes if n)

    def tables_note(self) -> str:
        """The lookup tables in a line: how many, the accounts they hold, what making and
        extending them cost this process (or why they could not be made)."""
        t = self.tables.view if self.tables is not None else None
        if t is None:
            return ""
        if t.error:
            return t.error
        cost = f", cost {t.spent / 1e9:.4f} SOL" if t.spent else " (found, no cost)"
        return f"lookup tables: {len(t.tables)} holding {t.addresses} accounts{cost}"

    async def _prepare_tables(self) -> None:
        """Find the wallet's lookup tables on the node and extend them with every
        account the watched pools' swaps name (both directions, the wallet's token
        accounts), creating tables as needed; the cost is journaled and shown. A failure
        is shown and journaled; orders then go with what the tables hold."""
        assert self.wallet is not None
        if self.tables is None:
            self.tables = TableKeeper(
                self._client(),
                self.wallet.pubkey,
                self._sign,
                self._watch,
                self._event,
                self.config.confirm_timeout_s,
                budget=self.config.tables_budget_lamports,
            )
        keeper = self.tables
        try:
            await keeper.load()
            keys = await self._watched_keys()
            await keeper.ensure(keys)
            keeper.view.error = ""
        except (RpcError, ValueError, OSError) as exc:
            keeper.view.error = self._clean(f"lookup tables: {exc}")
            self.last_error = keeper.view.error
            log.warning("%s", keeper.view.error)

    # ------------------------------------------------------------ lookup tables
    async def _prepare_nonces(self) -> str:
        """Find or make one durable nonce account per order in flight (``max_open``); why
        live trading cannot arm ("" when it can): escalation needs them."""
        assert self.wallet is not None
        c = self.config
        if self.nonces is None:
            self.nonces = NonceKeeper(
                self._client(),
                self.wallet.pubkey,
                c.max_open,
                self._sign,
                self._watch,
                self._event,
                c.confirm_timeout_s,
                budget=c.nonces_budget_lamports,
            )
        try:
            await self.nonces.ensure()
        except (RpcError, ValueError, OSError) as exc:
            self.nonces.view.error = self._clean(f"durable nonces: {exc}")
        if not self.nonces.ready:
            return (self.nonces.view.error or "durable nonces: none usable") + (
                " (fees.tip_escalation needs them)"
            )
        return ""

    def disarm(self, why: str = "back to paper") -> int:
        """Stop live trading at once: every order not yet handed to the node is cancelled
        (never sent). Returns how many were cancelled."""
        was = self.armed
        self.armed = False
        self.generation += 1
        if self._warming is not None:
            self._warming.cancel()
        self.blockhashes.stop()
        n = 0
        for o in self.orders:
            if o.status in TERMINAL or o.sending:
                continue
            task = self.tasks.get(o.seq)
            if task is not None and not task.done():
                task.cancel()
            self._finish(o, "cancelled", f"{why}: cancelled before it was sent")
            n += 1
        if was:
            self._event(Disarmed(why, n))
        return n

    def kill(self) -> int:
        return self.disarm("kill switch")

    # ------------------------------------------------------------ the fast path's keeper
    async def keep_warm(self) -> None:
        """Once, what the fast path needs and the chain may move: the blockhash (ahead of
        its age), the tip floor, the static part of pools the graph gained, whether the
        wallet's token account of each of their mints exists, and the base balance once
        every sent order has ended. An error is noted (``last_error``); the next round
        tries again."""
        try:
            await self._latest_blockhash(refresh_within_s=BLOCKHASH_REFRESH_S)
            await self._refresh_tip()
            await self._statics_of([str(p) for p in self._graph().pools()])
            await self._read_accounts()
            await self._open_hot()
            self._roll_day()
            await self._read_elsewhere()
            if not self._balances_clean and not self.open_orders():
                await self.refresh_balances([self.base])
        except (RpcError, JournalError, OSError, asyncio.TimeoutError) as exc:
            self.last_error = self._clean(f"keeping the fast path warm: {exc}")
            log.warning("%s", self.last_error)

    async def _read_accounts(self) -> None:
        """Whether the wallet's token account of each mint of the pools held exists (the
        mints not read yet)."""
        mints = {m for st in self._static.values() for m in st.programs}
        unknown = sorted(m for m in mints if m not in self.accounts)
        for i in range(0, len(unknown), 100):
            atas = {self._ata(m): m for m in unknown[i : i + 100]}
            got = await self._client().get_multiple_accounts(list(atas))
            for a, m in atas.items():
                self._saw_account(m, got.get(a) is not None)

    async def _open_hot(self) -> None:
        """The :class:`HotSender` connections, open (each sharing its endpoint's rate
        limit): the node's, for ``sendTransaction`` once simulated; when bundles go
        unsimulated (the hot path), one per block engine."""
        c = self.config
        if c.rpc and not c.engines() and self.fast_path:  # sendTransaction after simulating
            h = self._hot.get(c.rpc)
            if h is None:
                h = self._hot[c.rpc] = HotSender(
                    c.rpc, size=max(2, c.max_open), ca_file=c.ca_file, gate=self._client().gate
                )
            await h.open()
        if not self._skips_simulation():
            return
        for url in c.engines():
            h = self._hot.get(url)
            if h is None:
                if url not in self._jitos:
                    self._jitos[url] = JitoClient(url, ca_file=c.ca_file, rps=c.jito_rps)
                h = self._hot[url] = HotSender(
                    url.rstrip("/") + "/api/v1/bundles",
                    size=max(2, c.max_open),
                    ca_file=c.ca_file,
                    gate=self._jitos[url].rpc.gate,
                )
            await h.open()

    def _start_warming(self) -> None:
        """The fast path's keeper: :meth:`keep_warm` every :data:`KEEP_WARM_S` while
        armed (the kill switch or back to paper stops it)."""
        if self._warming is not None and not self._warming.done():
            return
        gen = self.generation

        async def keep() -> None:
            while self.armed and gen == self.generation:
                await self.keep_warm()
                await asyncio.sleep(KEEP_WARM_S)

        self._warming = asyncio.get_running_loop().create_task(keep(), name="live-keep-warm")

    async def _read_elsewhere(self) -> None:
        """Read the other sessions' total of the current day from the ledger."""
        assert self.ledger is not None
        day = self.day
        spent, where = await self.ledger.spent_elsewhere(day)
        if day == self.day:
            self.spent_elsewhere, self.elsewhere_from = spent, where

    def _day_error(self, amount: int, counted: bool = False) -> str:
        """Why an order of ``amount`` would pass the daily cap ("" when it would not);
        ``counted``: the order is in ``spent_today`` already."""
        cap = self.config.max_day
        assert cap is not None
        mine = self.spent_today - (amount if counted else 0)
        used = mine + self.spent_elsewhere
        if used + amount <= cap:
            return ""
        return (
            f"size {amount:,} over the daily cap {cap:,}: {used:,} used today (UTC "
            f"{self.day}): {mine:,} by this session, {self.spent_elsewhere:,} by "
            f"{self.elsewhere_from}"
        )

    async def _day_holds(self, o: LiveOrder) -> bool:
        """:meth:`_day_holds_now` (the ordinary way's step)."""
        return self._day_holds_now(o)

    def _day_holds_now(self, o: LiveOrder) -> bool:
        """Before anything is built: the other sessions' total read again (they may have
        traded since: the day file's new lines, with the journal as the keeper last read
        it), the cap checked with it, and the order written to the day file. False (the
        order refused) when the cap would be passed or the total cannot be kept (a full
        disk): fail safe."""
        assert self.ledger is not None
        try:
            day = self.day
            spent, where = self.ledger.spent_now(day)  # the day file's new lines: no query
            if day == self.day:
                self.spent_elsewhere, self.elsewhere_from = spent, where
            over = self._day_error(o.amount_in, counted=True)
            if over:
                self._finish(o, "refused", over)
                return False
            self.ledger.note(o.seq, day, o.amount_in)
        except JournalError as exc:
            self._finish(
                o,
                "refused",
                f"the journal cannot keep the day's live total ({exc}): "
                "live orders are refused until it can",
            )
            return False
        return True
