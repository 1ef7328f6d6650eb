"""Export one session's opportunities, paper fills and live transaction steps as CSV (and
Parquet with pyarrow).

An opportunity's fees are those the scorer priced: ``cu_limit`` the compute units its
transaction requests, ``base_per_lamport`` the price of a lamport in its base token it
converted them with (``num/den`` base units per lamport). Where the session had no such
price (``reasons`` says ``no_sol_price``) ``base_per_lamport``, ``fees_in_base`` and
``net_profit`` are empty: not converted, not known. A recording older than these columns
leaves them empty.

A journal whose pages holding the session's events are damaged is refused with what
could not be read (SQLite can skip a damaged row without an error; the rows are counted
against the session's counters and SQLite checks the table): an export is all of the
session's rows or none."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from .journal import Journal, JournalError


class Names(Protocol):
    """Tokens by name, amounts in units (``feeds.wire.units.TokenBook``, which the CLI
    builds from the session's cached registry: storage imports nothing of ours)."""

    def symbol(self, mint: str) -> str: ...
    def amount(self, mint: str, raw: int, symbol: bool = True) -> str: ...
    def path(self, mints: Sequence[str]) -> str: ...


# the columns in units, after the raw ones: (column, raw column)
OPP_UNITS = (
    ("amount_in_units", "amount_in"),
    ("profit_units", "profit"),
    ("net_profit_units", "net_profit"),
    ("fees_in_base_units", "fees_in_base"),
)
FILL_UNITS = (("amount_in_units", "amount_in"), ("profit_units", "profit"))
TX_UNITS = (("amount_in_units", "amount_in"), ("realized_units", "realized"))

OPP_COLUMNS = (
    "seq",
    "slot",
    "t_s",
    "base",
    "path",
    "kinds",
    "hops",
    "amount_in",
    "amount_out",
    "profit",
    "profit_bps",
    "net_profit",
    "fees_in_base",
    "total_fee_lamports",
    "persistence",
    "staleness_slots",
    "go",
    "reasons",
    "base_symbol",
    "path_symbols",
    *(c for c, _ in OPP_UNITS),
    "cu_limit",
    "base_per_lamport",
)
FILL_COLUMNS = (
    "seq",
    "slot",
    "t_s",
    "mode",
    "path",
    "amount_in",
    "amount_out",
    "profit",
    "fees",
    "signature",
    "status",
    "path_symbols",
    *(c for c, _ in FILL_UNITS),
)


TX_COLUMNS = (
    "seq",
    "slot",
    "t_s",
    "order",
    "step",
    "ms",
    "signature",
    "trigger",
    "path",
    "amount_in",
    "min_out",
    "simulated_out",
    "realized",
    "fee",
    "units",
    "via",
    "detail",
    "path_symbols",
    *(c for c, _ in TX_UNITS),
)


# one row per live order: what an operator audits it against the chain with — the
# engine's quote (each hop's amount, in the order of its pools), the transactions that
# prepared it (its token accounts', the lookup tables' it loaded from, its nonce's) and
# how it ended
ORDER_UNITS = (
    ("amount_in_units", "amount_in"),
    ("quoted_out_units", "quoted_out"),
    ("realized_units", "realized"),
)
ORDER_COLUMNS = (
    "order",
    "trigger",
    "status",
    "signature",
    "slot",
    "path",
    "pools",
    "kinds",
    "amount_in",
    "quote",
    "quoted_out",
    "min_out",
    "simulated_out",
    "realized",
    "fee",
    "units",
    "cu_limit",
    "cu_price",
    "tip",
    "accounts_signature",
    "tables",
    "table_signatures",
    "nonce",
    "nonce_signatures",
    "detail",
    "path_symbols",
    *(c for c, _ in ORDER_UNITS),
)
TERMINAL_STEPS = frozenset(
    {"confirmed", "failed", "expired", "unknown", "refused", "cancelled", "error"}
)


def _joined(v: Any, sep: str = ">") -> str:
    return sep.join(str(x) for x in v) if isinstance(v, list) else ("" if v is None else str(v))


def _order_rows(
    steps: Sequence[tuple[int, dict[str, Any]]],
    tables: Sequence[tuple[int, dict[str, Any]]],
    nonces: Sequence[tuple[int, dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Each live order of a session, from its ``tx`` steps (journal seq, payload), with
    the signatures of the ``tables`` and ``nonces`` transactions journaled before it
    signed (the tables it loads from, the nonce it advances)."""
    orders: dict[Any, dict[str, Any]] = {}
    for seq, p in steps:
        o = orders.setdefault(p.get("seq"), {c: "" for c in ORDER_COLUMNS})
        o["order"] = p.get("seq", "")
        step = p.get("step")
        for c in ("trigger", "amount_in"):
            if p.get(c) not in (None, ""):
                o[c] = p[c]
        if not o["path"]:
            o["path"], o["pools"] = _joined(p.get("path")), _joined(p.get("pools"))
            o["_mints"] = p.get("path")
            hops = p.get("hops")
            o["quote"] = _joined(hops)
            o["quoted_out"] = hops[-1] if isinstance(hops, list) and hops else ""
        if p.get("signature"):
            o["signature"] = p["signature"]
        if step == "accepted":
            o["cu_price"] = p.get("cu_price", "")
        elif step == "signed":
            o["min_out"], o["cu_limit"] = p.get("min_out", ""), p.get("cu_limit", "")
            o["kinds"] = _joined(p.get("kinds"), ",")
            used = [str(t) for t in p.get("tables") or []]
            o["tables"] = ">".join(used)
            o["table_signatures"] = " ".join(
                f"{t.get('step')}:{t.get('signature')}"
                for at, ev in tables
                if at < seq
                for t in ev.get("signatures") or []
                if isinstance(t, dict) and t.get("table") in used
            )
            nonce = p.get("nonce") or ""
            o["nonce"] = nonce
            o["nonce_signatures"] = " ".join(
                str(sig)
                for at, ev in nonces
                if at < seq and nonce and nonce in (ev.get("accounts") or [])
                for sig in ev.get("signatures") or []
            )
        elif step == "accounts":
            o["accounts_signature"] = p.get("accounts_signature", "")
        elif step == "sent":
            o["tip"] = p.get("tip", "")
        elif step in TERMINAL_STEPS:
            o["status"], o["detail"] = step, p.get("detail", "")
            for c in ("slot", "realized", "simulated_out", "fee", "units", "tip"):
                if p.get(c) is not None:
                    o[c] = p[c]
    return list(orders.values())


RIVAL_UNITS = (("amount_in_units", "amount_in"), ("profit_units", "profit"))
RIVAL_COLUMNS = (
    "seq",
    "slot",
    "t_s",
    "signature",
    "index",
    "signer",
    "landed",
    "base",
    "pools",
    "venues",
    "amount_in",
    "amount_out",
    "profit",
    "fee",
    "tip",
    "priority",
    "held",
    "lead",
    "verdict",
    "ahead",
    "traded",
    "outcome",
    "base_symbol",
    *(c for c, _ in RIVAL_UNITS),
)


def _rival_row(seq: int, t_s: float, p: dict[str, Any]) -> dict[str, Any]:
    row = {c: p.get(c, "") for c in RIVAL_COLUMNS}
    row.update(seq=seq, t_s=round(t_s, 6))
    for c in ("pools", "venues"):
        if isinstance(row[c], list):
            row[c] = ">".join(str(x) for x in row[c])
    for c in ("lead", "ahead", "index"):
        if p.get(c) is None:
            row[c] = ""
    return row


def _tx_row(seq: int, t_s: float, p: dict[str, Any]) -> dict[str, Any]:
    row = {c: p.get(c, "") for c in TX_COLUMNS}
    row.update(seq=seq, t_s=round(t_s, 6), order=p.get("seq", ""), slot=p.get("slot", ""))
    if isinstance(row["path"], list):
        row["path"] = ">".join(row["path"])
    return row


def _opp_row(seq: int, slot: int, t_s: float, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": seq,
        "slot": slot,
        "t_s": round(t_s, 6),
        "base": p.get("base", ""),
        "path": ">".join(p.get("tokens", [])),
        "kinds": ",".join(p.get("kinds", [])),
        "hops": p.get("hops"),
        "amount_in": p.get("amount_in"),
        "amount_out": p.get("amount_out"),
        "profit": p.get("profit"),
        "profit_bps": p.get("profit_bps"),
        "net_profit": p.get("net_profit"),
        "fees_in_base": p.get("fees_in_base"),
        "total_fee_lamports": p.get("total_fee_lamports"),
        "persistence": p.get("persistence"),
        "staleness_slots": p.get("staleness_slots"),
        "go": p.get("go"),
        "reasons": "; ".join(p.get("reasons", [])),
        "cu_limit": p.get("cu_limit", ""),
        "base_per_lamport": _ratio(p.get("base_per_lamport")),
    }


def _ratio(v: Any) -> str:
    """``num/den`` of a journaled ``[num, den]`` ("" for none)."""
    if isinstance(v, list) and len(v) == 2:
        return f"{v[0]}/{v[1]}"
    return ""


def _not_converted(p: dict[str, Any]) -> bool:
    """Whether an ``opp`` payload's fees were not converted (no price of a lamport)."""
    return "base_per_lamport" in p and p["base_per_lamport"] is None


def _fill_row(seq: int, slot: int, t_s: float, p: dict[str, Any]) -> dict[str, Any]:
    row = {c: p.get(c, "") for c in FILL_COLUMNS}
    row.update(seq=seq, slot=slot, t_s=round(t_s, 6))
    if isinstance(row["path"], list):
        row["path"] = ">".join(row["path"])
    return row


def _units(row: dict[str, Any], mints: Any, base: str, cols: Any, names: Names | None) -> None:
    """The symbol and unit columns of ``row`` (empty without names or amounts)."""
    for c, raw in cols:
        v = row.get(raw)
        row[c] = names.amount(base, v) if names is not None and base and isinstance(v, int) else ""
    ok = names is not None and isinstance(mints, list) and mints
    row["path_symbols"] = names.path(mints) if ok and names is not None else ""
    if cols is OPP_UNITS:
        row["base_symbol"] = names.symbol(base) if names is not None and base else ""


async def export_session(
    db: str | Path | None,
    session: str,
    out: Path,
    parquet: bool = False,
    names_for: Callable[[list[dict[str, Any]]], Names] | None = None,
) -> list[Path]:
    """Write ``<id>-opportunities.csv``, ``<id>-fills.csv`` and, when it traded live,
    ``<id>-transactions.csv`` (every step) and ``<id>-orders.csv`` (each order: its
    quote, its pools in order, the transactions that prepared it, its end), and when it
    saw rivals' arbitrage on its pools,
    ``<id>-rivals.csv`` (and ``.parquet``) into ``out``; the paths written. The raw
    columns are as journaled; ``names_for`` (the session's cached token rows -> names)
    adds the symbol and unit columns."""
    if parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise JournalError("--parquet needs pyarrow (pip install pyarrow)") from None
    async with await Journal.open(db, create=False, write=False) as j:
        info = await j.session(session)
        events = await j.events(info.id, ["opp", "fill", "tx", "rival", "tables", "nonces"])
        unreadable = await j.unreadable_events(info, events)
        if unreadable:  # a partial table is refused, never written as if it were whole
            raise JournalError(
                f"journal {j.path} is damaged: session {info.id}: {unreadable}; nothing "
                "was exported"
            )
        names = names_for(await j.tokens(info.id)) if names_for is not None else None
    t0 = info.first_ns or 0
    opps, fills, txs, rivals = [], [], [], []
    steps: list[tuple[int, dict[str, Any]]] = []
    made: dict[str, list[tuple[int, dict[str, Any]]]] = {"tables": [], "nonces": []}
    for e in events:
        if e.kind in made:
            made[e.kind].append((e.seq, e.payload))
            continue
        p, t_s = e.payload, (e.t_ns - t0) / 1e9
        mints = p.get("tokens") if e.kind == "opp" else p.get("path")
        first = mints[0] if isinstance(mints, list) and mints else ""
        if e.kind == "opp":
            opps.append(row := _opp_row(e.seq, e.slot, t_s, p))
            if _not_converted(p):  # no price of a lamport: the fees and net are not known
                row["fees_in_base"] = row["net_profit"] = None
            _units(row, mints, p.get("base", "") or first, OPP_UNITS, names)
        elif e.kind == "fill":
            fills.append(row := _fill_row(e.seq, e.slot, t_s, p))
            _units(row, mints, first, FILL_UNITS, names)
        elif e.kind == "tx":
            txs.append(row := _tx_row(e.seq, t_s, p))
            _units(row, mints, first, TX_UNITS, names)
            steps.append((e.seq, p))
        elif e.kind == "rival":
            rivals.append(row := _rival_row(e.seq, t_s, p))
            base = str(p.get("base", ""))
            row["base_symbol"] = names.symbol(base) if names is not None and base else ""
            for c, raw in RIVAL_UNITS:
                v = row.get(raw)
                ok = names is not None and base and isinstance(v, int)
                row[c] = names.amount(base, int(v or 0)) if ok and names is not None else ""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalError(f"cannot create {out}: {exc.strerror}") from None
    written = []
    tables = [("opportunities", OPP_COLUMNS, opps), ("fills", FILL_COLUMNS, fills)]
    if txs:  # a session that traded live: every step of every live order, each order
        tables.append(("transactions", TX_COLUMNS, txs))
        orders = _order_rows(steps, made["tables"], made["nonces"])
        for row in orders:
            mints = row.pop("_mints", None)
            base = mints[0] if isinstance(mints, list) and mints else ""
            _units(row, mints, base, ORDER_UNITS, names)
        tables.append(("orders", ORDER_COLUMNS, orders))
    if rivals:  # others' arbitrage on its pools, and how it compared
        tables.append(("rivals", RIVAL_COLUMNS, rivals))
    for name, cols, rows in tables:
        path = out / f"{info.id}-{name}.csv"
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(cols))
            w.writeheader()
            w.writerows(rows)
        written.append(path)
        if parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist(rows) if rows else pa.table({c: [] for c in cols})
            ppath = out / f"{info.id}-{name}.parquet"
            pq.write_table(table, ppath)
            written.append(ppath)
    return written
