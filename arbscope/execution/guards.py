"""The risk gate: the guard rails a decision passes through before the executor acts on it
(the caps, the UTC day's cap across runs kept in the journal's ledger), and what arming
checks (keypair, RPC, caps, the node, SOL for fees). The kill switch is the executor's
(``LiveExecutor.kill``), over the shared state the gate reads (``ExecutorCore.armed``).
"""

from __future__ import annotations

import calendar
import json
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine_rs.records import FeeContext, Opportunity
from feeds.clients.rpc import RpcError
from feeds.redact import redact
from feeds.wire import instructions as I
from storage.journal import Event, Journal, JournalError
from storage.recorder import Recorder

from .core import ExecutorCore, utc_day
from .keys import KeypairError, load_wallet
from .orders import (
    NOT_SENT,
    TERMINAL,
    LiveOrder,
)

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


class RiskGate:
    """The guard rails of live trading (see the module doc): what a decision passes
    through before the executor acts on it (:meth:`refuse`), what arming checks
    (:meth:`admit`), the UTC day's cap before an order is built (:meth:`day_holds_now`).
    Modelled on NautilusTrader's ``RiskEngine``: orders pass through it; it is not a base
    class of the executor."""

    def __init__(self, core: ExecutorCore) -> None:
        self.core = core

    def checks(self) -> list[str]:
        """The guard rails as the confirmation screen lists them (✓ / ✗)."""
        c = self.core.config
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
        cap_err = self.caps_error()
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
        out.append(f"  send via {via} (tip: {self.core.tip.shown()})")
        out.append(
            "  bundles go UNSIMULATED (live.simulate = plain): block engines do not land "
            "a failing bundle; the minimums still hold on chain"
            if self.core.skips_simulation()
            else "  every order simulated before it is sent (live.simulate = always)"
        )
        if self.core.escalating():
            out.append(
                f"  durable nonces: {c.max_open} nonce account(s) of the wallet, found "
                "on the node or made when armed (rent ≈ 0.0014 SOL each, returned "
                "on withdrawal)"
            )
        out.append(
            "  orders as v0 messages through the wallet's address lookup tables: found "
            "on the node, or made when armed (rent ≈ 0.0013 SOL a table + 0.00022 SOL "
            "an account, returned when a table is closed)"
            if self.core.tables is None
            else "  " + self.tables_note()
        )
        return out

    def caps_error(self) -> str:
        c = self.core.config
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

    def refuse(
        self, opp: Opportunity, fees: FeeContext, pool_slots: tuple[int, ...], trigger: str
    ) -> str:
        """Why a decision on ``opp`` does not become a live order ("" when it may): every
        cap, checked before any I/O; the refusals that cost least first (most decisions
        are refused: a cycle already pending, or its pools in an open order, on every
        frame that moves them)."""
        c = self.core.config
        if not self.core.armed or self.core.wallet is None:
            return "live trading is not armed"
        if opp.base_mint != self.core.base:
            return f"not a {self.core.names.symbol(self.core.base)} cycle"
        key = (opp.base_mint, tuple(opp.pools))
        # one pass over the orders: the same cycle pending, the open ones, the first
        # open one sharing a pool (its quote would not hold once that order lands)
        opened, busy, mine = 0, None, frozenset(opp.pools)
        for o in self.core.orders:
            if o.status in TERMINAL:
                continue
            if o.key == key:
                return "already pending"
            opened += 1
            if busy is None and not mine.isdisjoint(o.pools):
                busy = o
        if trigger == "auto" and self.core.traded.get(key) == pool_slots:
            return "traded in this pool state"
        if trigger == "auto":
            stale = self.core.stale_block(key, pool_slots)
            if stale:
                return stale
        amount = int(opp.amount_in)
        if amount <= 0:
            return "no profitable size"
        if opened >= c.max_open:
            return f"max open orders reached ({c.max_open})"
        if busy is not None:
            return f"a pool of this cycle is in open order #{busy.seq}"
        if self.core.not_run:
            gone = self.core.through_refused(opp.pools)
            if gone:
                return gone
        if getattr(fees, "base_rate_missing", False):
            symbol = self.core.names.symbol(opp.base_mint)
            return f"no price of SOL in {symbol}: its fees cannot be counted"
        assert c.max_trade is not None and c.max_day is not None
        if amount > c.max_trade:
            return f"size {amount:,} over the per-trade cap {c.max_trade:,}"
        too_large = self.core.sendable(opp)
        if too_large:
            return too_large
        self.core.roll_day()
        day_err = self.day_error(amount)
        if day_err:
            return day_err
        have = self.core.balances.get(self.core.base)
        if have is not None and amount > have:
            return f"size {amount:,} over the wallet's balance {have:,}"
        return ""

    async def admit(self) -> str:
        """The guard rails arming checks first (the keypair, the RPC, the caps, the
        journal's day total, the node, SOL for fees): why live trading may not start, ""
        when they hold (:meth:`LiveExecutor.arm` then prepares the rest)."""
        c = self.core.config
        try:
            if not c.keypair:
                return "no keypair: pass --keypair FILE (or set ARBSCOPE_KEYPAIR)"
            self.core.wallet = load_wallet(c.keypair)
        except KeypairError as exc:
            return str(exc)
        if not c.rpc:
            return "no RPC endpoint to send transactions with (--send-rpc URL)"
        err = self.caps_error()
        if err:
            return err
        if self.core.ledger is None:
            return (
                "live trading needs the journal: it keeps the UTC day's total "
                "(--max-day) across runs; run without --no-record"
            )
        self.core.roll_day()
        try:
            await self.read_elsewhere()
        except JournalError as exc:
            return f"cannot read the day's live total from the journal: {exc}"
        rpc = self.core.client()
        try:
            version = await rpc.get_version()
            name = str(version.get("solana-core", "?"))
            if "arbscope-sim" in name:
                info = await rpc.call("simInfo")
                if not isinstance(info, dict) or not info.get("acceptsTransactions"):
                    return (
                        "the simulator does not accept transactions: start it with "
                        "`arbscope sim --accept-tx` (or run with --sim-accept-tx)"
                    )
                self.core.node = f"arbscope simulator {name} (accepts transactions)"
            else:
                self.core.node = f"solana-core {name}"
            await self.core.latest_blockhash(force=True)
            self.core.lamports = await rpc.get_balance(self.core.wallet.pubkey)
            base = (await rpc.get_multiple_accounts([self.core.base])).get(self.core.base)
            if base is not None:  # its program names the wallet's account of it
                self.core.programs[self.core.base] = base.owner
        except RpcError as exc:
            return f"RPC not usable: {exc}"
        if not self.core.lamports:
            return f"wallet {self.core.wallet.pubkey} has no SOL to pay fees"
        return ""

    async def read_elsewhere(self) -> None:
        """Read the other sessions' total of the current day from the ledger."""
        assert self.core.ledger is not None
        day = self.core.day
        spent, where = await self.core.ledger.spent_elsewhere(day)
        if day == self.core.day:
            self.core.spent_elsewhere, self.core.elsewhere_from = spent, where

    def day_error(self, amount: int, counted: bool = False) -> str:
        """Why an order of ``amount`` would pass the daily cap ("" when it would not);
        ``counted``: the order is in ``spent_today`` already."""
        cap = self.core.config.max_day
        assert cap is not None
        mine = self.core.spent_today - (amount if counted else 0)
        used = mine + self.core.spent_elsewhere
        if used + amount <= cap:
            return ""
        return (
            f"size {amount:,} over the daily cap {cap:,}: {used:,} used today (UTC "
            f"{self.core.day}): {mine:,} by this session, {self.core.spent_elsewhere:,} by "
            f"{self.core.elsewhere_from}"
        )

    async def day_holds(self, o: LiveOrder) -> bool:
        """:meth:`_day_holds_now` (the ordinary way's step)."""
        return self.day_holds_now(o)

    def day_holds_now(self, o: LiveOrder) -> bool:
        """Before anything is built: the other sessions' total read again (they may have
        traded since: the day file's new lines, with the journal as the keeper last read
        it), the cap checked with it, and the order written to the day file. False (the
        order refused) when the cap would be passed or the total cannot be kept (a full
        disk): fail safe."""
        assert self.core.ledger is not None
        try:
            day = self.core.day
            spent, where = self.core.ledger.spent_now(day)  # the day file's new lines: no query
            if day == self.core.day:
                self.core.spent_elsewhere, self.core.elsewhere_from = spent, where
            over = self.day_error(o.amount_in, counted=True)
            if over:
                self.core.finish(o, "refused", over)
                return False
            self.core.ledger.note(o.seq, day, o.amount_in)
        except JournalError as exc:
            self.core.finish(
                o,
                "refused",
                f"the journal cannot keep the day's live total ({exc}): "
                "live orders are refused until it can",
            )
            return False
        return True

    def tables_note(self) -> str:
        """The lookup tables in a line: how many, the accounts they hold, what making and
        extending them cost this process (or why they could not be made)."""
        t = self.core.tables.view if self.core.tables is not None else None
        if t is None:
            return ""
        if t.error:
            return t.error
        cost = f", cost {t.spent / 1e9:.4f} SOL" if t.spent else " (found, no cost)"
        return f"lookup tables: {len(t.tables)} holding {t.addresses} accounts{cost}"
