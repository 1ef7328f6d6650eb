"""The guard rails: what arming checks (keypair, RPC, caps, the node, SOL for fees, lookup
tables, durable nonces), the UTC day's cap across runs (the journal's ledger), the kill
switch.
"""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Iterable
from typing import Any

from feeds.clients.rpc import RpcError
from feeds.redact import redact
from feeds.wire import instructions as I
from storage.journal import Event, Journal, JournalError
from storage.recorder import Recorder

from ..events import Armed, Disarmed
from .core import utc_day
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
    total, sessions = 0, set()
    for (sid, _), o in orders.items():
        if o["day"] != day or (o["end"] in NOT_SENT and not o["sent"]):
            continue
        total += o["amount"]
        if o["amount"]:
            sessions.add(sid)
    return total, len(sessions)


class JournalLedger:
    """The day's total from the journal: the ``tx`` events of its other sessions (earlier
    runs and concurrent processes on the same file), and this session's recorder, whose
    flush makes an order's ``accepted`` event durable before the order can be sent."""

    def __init__(self, journal: Journal, recorder: Recorder) -> None:
        self.journal, self.recorder = journal, recorder

    async def spent_elsewhere(self, day: str) -> tuple[int, str]:
        start = calendar.timegm(time.strptime(day, "%Y-%m-%d"))
        rows = await self.journal.events_of("tx", since=start, exclude=self.recorder.session)
        total, n = day_spent(rows, day)
        return total, f"{n} other session{'s' if n != 1 else ''} in journal {self.journal.path}"

    async def commit(self) -> None:
        if self.recorder.stopped:
            raise JournalError(self.recorder.error)
        await self.recorder.flush()


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
        if gen != self.generation:
            return False, "the kill switch was pressed while the guard rails were checked"
        self._roll_day()
        if self.base_start is None:
            self.base_start = self.balances.get(self.base, 0)
        self.armed = True
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
        """Before anything is built: the other sessions' total read again (they may have
        traded since), the cap checked with it, and the order's ``accepted`` event
        committed to the journal. False (the order refused) when the cap would be passed
        or the journal cannot keep the total (a full disk): fail safe."""
        assert self.ledger is not None
        try:
            await self._read_elsewhere()
            over = self._day_error(o.amount_in, counted=True)
            if over:
                self._finish(o, "refused", over)
                return False
            await self.ledger.commit()
        except JournalError as exc:
            self._finish(
                o,
                "refused",
                f"the journal cannot keep the day's live total ({exc}): "
                "live orders are refused until it can",
            )
            return False
        return True
