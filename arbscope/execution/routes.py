"""Where live orders go, and how each way fares.

A *route* is where an order was handed over: ``rpc`` (the sending node's
``sendTransaction``) or ``jito:<engine>`` for each Jito block engine (its host, and the
region's path where one serves several; redacted like every URL). With several block
engines the same signed transaction goes to all of them at once as a bundle: one
signature, so it lands at most once and its tip is paid once (a copy arriving later is
``AlreadyProcessed`` and lands nothing). Per route, :class:`RouteStats` counts what was
handed over (``sent``), refused at the door (``refused``, by reason: ``rate limited`` for
a 429 — Jito allows 1 request a second per IP and region, and the executor paces its
requests to each engine under that —, ``unavailable`` for a dead engine), ``landed``
(the route whose bundle the engine reports ``Landed``; for ``rpc`` the confirmation),
``superseded`` (a version of an order that another version of it beat: see escalation
below), ``expired`` (the blockhash or the escalation window ran out first, or nobody
answered), ``failed`` (landed with an error, named in the program's terms) and the slots
from send to landing.

The tip (:class:`TipPolicy`): ``fixed`` lamports, or a ``percentile`` (25, 50, 75, 95,
99) of the tips of recently landed bundles from the engines' tip floor
(``/api/v1/bundles/tip_floor``, in SOL), never under Jito's minimum of 1,000 lamports
nor over ``max_lamports``.

Escalation (``fees.tip_escalation``, off by default): an order is built as a durable
transaction (its blockhash a nonce account's durable nonce, :mod:`.nonces`); while it has
not landed, every ``every_slots`` slots a new version with the tip raised by ``step``
(at most ``max_lamports``) goes to every engine, for up to ``window_slots`` slots. All
versions share the nonce, so at most one lands and one tip is paid
(:meth:`TipPolicy.escalated`).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from feeds.redact import redact
from feeds.wire import instructions as I

PERCENTILES = (25, 50, 75, 95, 99)
MAX_WINDOW_SLOTS = 150  # a blockhash's lifetime: escalation never outlasts it
TIP_FLOOR_TTL_S = 10.0


def route_name(url: str | None) -> str:
    """``rpc`` for None, else ``jito:<host>[/<region>]`` (redacted: no keys, no query)."""
    if not url:
        return "rpc"
    parts = urlsplit(redact(url))
    path = parts.path.rstrip("/")
    return f"jito:{parts.hostname or '?'}{path}"


@dataclass
class RouteStats:
    """One route's record (see the module doc)."""

    sent: int = 0
    refused: int = 0
    landed: int = 0
    expired: int = 0
    failed: int = 0
    superseded: int = 0  # versions of an order another version of it beat
    errors: Counter[str] = field(default_factory=Counter)  # failed, by the error's name
    refusals: Counter[str] = field(default_factory=Counter)  # refused, by reason
    slots: list[int] = field(default_factory=list)  # slots from send to landing

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile of the slots to land (None before any landed)."""
        if not self.slots:
            return None
        if len(self.slots) == 1:
            return float(self.slots[0])
        return float(statistics.quantiles(self.slots, n=100, method="inclusive")[int(q * 100) - 1])


@dataclass(frozen=True, slots=True)
class RouteView:
    """What the Portfolio panel and ``/metrics`` show of a route."""

    route: str
    sent: int
    refused: int
    landed: int
    expired: int
    failed: int
    errors: tuple[tuple[str, int], ...]
    p50_slots: float | None
    p90_slots: float | None
    slots_sum: int
    slots_count: int
    superseded: int = 0
    refusals: tuple[tuple[str, int], ...] = ()


def views(routes: dict[str, RouteStats]) -> tuple[RouteView, ...]:
    out = []
    for name, r in sorted(routes.items()):
        errors = tuple(sorted(r.errors.items()))
        p50, p90 = r.quantile(0.5), r.quantile(0.9)
        out.append(
            RouteView(
                name,
                r.sent,
                r.refused,
                r.landed,
                r.expired,
                r.failed,
                errors,
                p50,
                p90,
                sum(r.slots),
                len(r.slots),
                r.superseded,
                tuple(sorted(r.refusals.items())),
            )
        )
    return tuple(out)


def error_name(detail: str) -> str:
    """The short name of a failure from its description (the program's error name after
    ``instruction N (prog…): ``; else the last clause)."""
    if "…): " in detail:
        return detail.split("…): ", 1)[1].split()[0]
    return detail.rsplit(": ", 1)[-1][:40]


@dataclass
class TipPolicy:
    """How much to tip (see the module doc)."""

    kind: str = "fixed"  # fixed | percentile
    lamports: int = 0  # fixed: the tip; percentile: the tip until a floor is read
    percentile: int = 50
    max_lamports: int = 1_000_000
    escalate: bool = False  # re-send with a higher tip while it has not landed
    step: float = 1.5  # each version's tip: the last one's times this
    every_slots: int = 4  # slots without landing before the next version
    window_slots: int = 150  # slots after the first version that versions are sent in
    _floor: tuple[float, int] | None = None  # (when read, lamports)

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "percentile"):
            raise ValueError(f"tip policy {self.kind!r}: expected fixed or percentile")
        if self.percentile not in PERCENTILES:
            raise ValueError(f"tip percentile {self.percentile}: expected one of {PERCENTILES}")
        if self.escalate:
            problem = escalation_problem(self.step, self.every_slots, self.window_slots)
            if problem:
                raise ValueError(problem)

    def shown(self) -> str:
        if self.kind == "fixed":
            text = f"fixed {self.lamports:,} lamports"
        else:
            text = (
                f"p{self.percentile} of landed tips (floor {I.JITO_MIN_TIP:,}, "
                f"cap {self.max_lamports:,} lamports)"
            )
        if self.escalate:
            text += (
                f"; escalated x{self.step:g} every {self.every_slots} slot(s) unlanded, "
                f"up to {self.max_lamports:,}, for {self.window_slots} slots (one "
                "durable nonce per order: one version lands, one tip)"
            )
        return text

    def escalated(self, tip: int) -> int:
        """The next version's tip after ``tip``: ``step`` times it (rounded up), at most
        ``max_lamports``, never under Jito's minimum."""
        return max(I.JITO_MIN_TIP, min(self.max_lamports, -int(-tip * self.step // 1)))

    def current(self) -> int:
        """The tip an order pays now."""
        if self.kind == "fixed" or self._floor is None:
            return self.lamports
        return self._floor[1]

    def stale(self, now: float) -> bool:
        return self.kind == "percentile" and (
            self._floor is None or now - self._floor[0] > TIP_FLOOR_TTL_S
        )

    def read_floor(self, answer: Any, now: float) -> int:
        """Take the percentile from a tip-floor answer (a list of one object, in SOL);
        ValueError when it is not one."""
        try:
            row = answer[0] if isinstance(answer, list) else answer
            sol = float(row[f"landed_tips_{self.percentile}th_percentile"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise ValueError("the tip floor answer has no such percentile") from None
        if not sol >= 0 or sol != sol:
            raise ValueError(f"the tip floor answer is not a tip: {sol!r}")
        tip = max(I.JITO_MIN_TIP, min(self.max_lamports, round(sol * 1e9)))
        self._floor = (now, tip)
        return tip


def escalation_problem(step: float, every_slots: int, window_slots: int) -> str:
    """Why these escalation settings cannot work ("" when they can)."""
    if not step > 1.0:
        return f"fees.tip_escalation_step: expected a factor > 1, got {step}"
    if not 1 <= window_slots <= MAX_WINDOW_SLOTS:
        return (
            f"fees.tip_escalation_window: expected 1..{MAX_WINDOW_SLOTS} slots (the "
            f"blockhash window), got {window_slots}"
        )
    if not 1 <= every_slots < window_slots:
        return (
            f"fees.tip_escalation_slots: expected 1 up to the window "
            f"({window_slots} slots) less one, got {every_slots}"
        )
    return ""


async def fetch_tip_floor(session: aiohttp.ClientSession, engine_url: str, ssl: Any = None) -> Any:
    """``GET <engine>/api/v1/bundles/tip_floor`` (JSON)."""
    url = engine_url.rstrip("/") + "/api/v1/bundles/tip_floor"
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=5), ssl=ssl) as resp:
        if resp.status != 200:
            raise ValueError(f"tip floor at {redact(engine_url)}: HTTP {resp.status}")
        return await resp.json(content_type=None)
