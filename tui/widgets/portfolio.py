"""The portfolio panel: paper by default (balances, equity, fills, PnL, hit rate); in
live mode the wallet (SOL, base token), per route landed / expired / failed, the live
orders and their last steps, with the paper result of the same decisions underneath
(paper shadows live)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from ..source import TokenNames
from .palette import Palette
from .panel import TextPanel
from .prices import sparkline

SHORT = {
    "confirmed": "ok",
    "failed": "FAILED",
    "cancelled": "cancel",
    "accepted": "…",
    "signed": "signed",
    "simulated": "sim ok",
    "sent": "sent",
}
STATUS_STYLE = {"refused": "yellow", "cancelled": "dim", "unknown": "yellow"}
# outcomes in the theme's profit (True) / loss (False) colour, and their weight
STATUS_PNL = {
    "confirmed": (True, "bold"),
    "failed": (False, "bold"),
    "expired": (False, ""),
    "error": (False, ""),
}


class PortfolioPanel(TextPanel):
    """What the execution engine reports; a note until it has traded. Five lines fit
    in the wide layout."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Portfolio (paper)"
        self._last: Any = object()
        self.names: TokenNames | None = None

    def _amt(self, mint: str, raw: int, sign: bool = False, symbol: bool = True) -> str:
        """``raw`` base units of ``mint`` in units (``+0.0123 SOL``); raw without names."""
        if self.names is None:
            return f"{raw:+,}" if sign else f"{raw:,}"
        text = self.names.amount(mint, raw, symbol=symbol)
        return "+" + text if sign and raw >= 0 else text

    def show(self, pf: Any, mode: str, live: Any = None, names: TokenNames | None = None) -> None:
        self.border_title = f"Portfolio ({mode.lower()})"
        self.names = names
        if live is not None and (mode == "LIVE" or live.sent):
            self.border_title = f"Live PnL {self._amt(live.base, live.pnl, sign=True)}"
        palette = Palette.of(self.app)
        key = (pf, mode, live, palette, id(names))
        if key == self._last:
            return
        self._last = key
        if live is not None and (mode == "LIVE" or live.sent or live.refused):
            self.put(self._live(pf, live, palette))
            return
        self.border_subtitle = ""
        if pf is None or not pf.fills:
            self.put(Text("no fills yet", style="dim"))
            return
        t = Text()
        self._paper(t, pf, palette, self._amt)
        t.append(f"{sparkline(pf.equity, 26)}\n")
        t.append(f"{pf.lamports / 1e9:,.4f} SOL for fees")
        self.put(t)

    @staticmethod
    def _paper(t: Text, pf: Any, palette: Palette, amt: Any, prefix: str = "") -> None:
        t.append(f"{prefix}PnL ")
        t.append(amt(pf.base, pf.pnl, sign=True), style=f"bold {palette.pnl(pf.pnl)}")
        t.append("\n")
        t.append(f"fills {pf.fills}  hit {100 * pf.hit_rate:.0f}%  failed {pf.failed}\n")
        reasons = getattr(pf, "reasons", ())
        if reasons:  # why paper's orders failed at landing, most first
            t.append("  ".join(f"{why} {n}" for why, n in reasons[:3]) + "\n", style="dim")
        slip = getattr(pf, "slippage_bps", 0.0)
        t.append(
            f"fees {amt(pf.base, pf.fees, symbol=False)}  pending {pf.pending}"
            + (f"  slip {slip:.1f} bps" if pf.fills > pf.failed else "")
            + "\n"
        )

    def _live(self, pf: Any, lv: Any, palette: Palette) -> Text:
        width = 28  # the panel's inside
        t = Text(no_wrap=True, overflow="ellipsis")
        sol = "?" if lv.lamports is None else f"{lv.lamports / 1e9:,.4f}"
        t.append(f"{lv.wallet[:6]}… ", style="bold")
        t.append(f"{sol} SOL\n")
        for mint, amount in lv.balances[:1]:
            t.append(f"{self._amt(mint, amount)}\n"[: width + 1])
        t.append("ok ", style="dim")
        t.append(f"{lv.confirmed}", style=palette.profit)
        t.append(" fail ", style="dim")
        t.append(f"{lv.failed}", style=palette.loss if lv.failed else "")
        t.append(f" ref {lv.refused} open {lv.open}\n", style="dim")
        t2t, unsimulated = getattr(lv, "t2t_us", None), getattr(lv, "simulate", "") == "plain"
        if t2t is not None or unsimulated:  # tick to trade, and bundles sent unsimulated
            line = Text()
            if t2t is not None:
                line.append("t2t ", style="dim")
                line.append(f"{t2t / 1e3:.2f} ms" if t2t >= 1e3 else f"{t2t:.0f} µs")
                line.append(f" {getattr(lv, 't2t_path', '')} ", style="dim")
            if unsimulated:
                line.append("unsimulated", style=palette.warning)
            line.truncate(width, overflow="ellipsis")
            t.append_text(line)
            t.append("\n")
        not_run = getattr(lv, "not_run", ())
        if not_run:  # venues whose program here refused our swap itself: no orders
            line = Text("not run here: ", style=palette.warning)
            line.append(", ".join(name for name, _ in not_run), style=palette.warning)
            line.truncate(width, overflow="ellipsis")
            t.append_text(line)
            t.append("\n")
        routes = getattr(lv, "routes", ())
        if routes:  # where orders went: landed / expired / failed per route
            line = Text()
            for r in routes:
                line.append(f"{_short(r.route)} ", style="dim")
                line.append(f"{r.landed}", style=palette.profit if r.landed else "")
                line.append(f"/{r.expired}/", style="dim")
                line.append(f"{r.failed} ", style=palette.loss if r.failed else "dim")
            line.truncate(width, overflow="ellipsis")
            t.append_text(line)
            t.append("\n")
        for o in lv.orders[-(1 if routes else 2) :][::-1]:
            word = SHORT.get(o.status, o.status)
            line = Text(f"#{o.seq} ")
            line.append(word, style=_status_style(o.status, palette))
            if o.realized is not None:
                line.append(f" {self._amt(lv.base, o.realized, sign=True, symbol=False)}")
            elif o.status in ("refused", "failed", "error", "expired"):
                line.append(f" {_reason(o.detail)}", style="dim")
            if o.signature and o.realized is not None:
                line.append(f" {o.signature[:4]}…", style="dim")
            line.truncate(width, overflow="ellipsis")
            t.append_text(line)
            t.append("\n")
        self.border_subtitle = (
            f"paper {self._amt(pf.base, pf.pnl, sign=True)}" if pf is not None and pf.fills else ""
        )
        t.rstrip()
        return t


def _status_style(status: str, palette: Palette) -> str:
    """An order status's style: outcomes in the theme's profit / loss colours."""
    if status in STATUS_PNL:
        good, weight = STATUS_PNL[status]
        return f"{weight} {palette.profit if good else palette.loss}".strip()
    return STATUS_STYLE.get(status, "cyan")


def _short(route: str) -> str:
    """A route's name in a few letters: ``rpc``, or a Jito engine's region (the path, or
    the host's first label: ``ny``, ``frankfurt``, ``mainnet``)."""
    if not route.startswith("jito:"):
        return route
    where = route[5:]
    host, _, path = where.partition("/")
    return (path.rsplit("/", 1)[-1] if path else host.split(".")[0])[:9]


def _reason(detail: str) -> str:
    """The short reason of a refusal or failure: the program's error name after the
    ``instruction N (prog…): `` prefix when there is one, else the last clause."""
    if "…): " in detail:
        return detail.split("…): ", 1)[1]
    return detail.rsplit(": ", 1)[-1]
