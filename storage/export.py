"""Export one session's opportunities, paper fills and live transaction steps as CSV (and
Parquet with pyarrow)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from .journal import Journal, JournalError

OPP_COLUMNS = (
    "seq", "slot", "t_s", "base", "path", "kinds", "hops", "amount_in", "amount_out",
    "profit", "profit_bps", "net_profit", "fees_in_base", "total_fee_lamports",
    "persistence", "staleness_slots", "go", "reasons",
)  # fmt: skip
FILL_COLUMNS = (
    "seq", "slot", "t_s", "mode", "path", "amount_in", "amount_out", "profit", "fees",
    "signature", "status",
)  # fmt: skip


TX_COLUMNS = (
    "seq", "slot", "t_s", "order", "step", "ms", "signature", "trigger", "path", "amount_in",
    "min_out", "simulated_out", "realized", "fee", "units", "via", "detail",
)  # fmt: skip


def _tx_row(seq: int, t_s: float, p: dict[str, Any]) -> dict[str, Any]:
    row = {c: p.get(c, "") for c in TX_COLUMNS}
    row.update(seq=seq, t_s=round(t_s, 6), order=p.get("seq", ""), slot=p.get("slot", ""))
    if isinstance(row["path"], list):
        row["path"] = ">".join(row["path"])
    return row


def _opp_row(seq: int, slot: int, t_s: float, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": seq, "slot": slot, "t_s": round(t_s, 6), "base": p.get("base", ""),
        "path": ">".join(p.get("tokens", [])), "kinds": ",".join(p.get("kinds", [])),
        "hops": p.get("hops"), "amount_in": p.get("amount_in"), "amount_out": p.get("amount_out"),
        "profit": p.get("profit"), "profit_bps": p.get("profit_bps"),
        "net_profit": p.get("net_profit"), "fees_in_base": p.get("fees_in_base"),
        "total_fee_lamports": p.get("total_fee_lamports"), "persistence": p.get("persistence"),
        "staleness_slots": p.get("staleness_slots"), "go": p.get("go"),
        "reasons": "; ".join(p.get("reasons", [])),
    }  # fmt: skip


def _fill_row(seq: int, slot: int, t_s: float, p: dict[str, Any]) -> dict[str, Any]:
    row = {c: p.get(c, "") for c in FILL_COLUMNS}
    row.update(seq=seq, slot=slot, t_s=round(t_s, 6))
    if isinstance(row["path"], list):
        row["path"] = ">".join(row["path"])
    return row


async def export_session(
    db: str | Path | None, session: str, out: Path, parquet: bool = False
) -> list[Path]:
    """Write ``<id>-opportunities.csv``, ``<id>-fills.csv`` and, when it traded live,
    ``<id>-transactions.csv`` (and ``.parquet``) into ``out``; the paths written."""
    if parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise JournalError("--parquet needs pyarrow (pip install pyarrow)") from None
    async with await Journal.open(db, create=False, write=False) as j:
        info = await j.session(session)
        events = await j.events(info.id, ["opp", "fill", "tx"])
    t0 = info.first_ns or 0
    opps = [_opp_row(e.seq, e.slot, (e.t_ns - t0) / 1e9, e.payload) for e in events
            if e.kind == "opp"]  # fmt: skip
    fills = [_fill_row(e.seq, e.slot, (e.t_ns - t0) / 1e9, e.payload) for e in events
             if e.kind == "fill"]  # fmt: skip
    txs = [_tx_row(e.seq, (e.t_ns - t0) / 1e9, e.payload) for e in events if e.kind == "tx"]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalError(f"cannot create {out}: {exc.strerror}") from None
    written = []
    tables = [("opportunities", OPP_COLUMNS, opps), ("fills", FILL_COLUMNS, fills)]
    if txs:  # a session that traded live: every step of every live order
        tables.append(("transactions", TX_COLUMNS, txs))
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
