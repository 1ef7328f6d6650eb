"""What the dashboard reads, as protocols: the wiring package (arbscope) provides it.

tui imports nothing from arbscope (arbscope imports tui), so the screen is written
against these shapes. Every source is a :class:`LiveSource` (``arbscope.demo.SimMarket``,
``arbscope.session.FeedSession``, ``arbscope.replay.ReplaySession``): it owns its clock
and run loop, and the screen only reads its latest snapshot. What only some sources can
do is a capability the app asks for with ``isinstance`` (these protocols are
``runtime_checkable``): :class:`ReplayControls`, :class:`Trading`, :class:`LiveArming`;
the journal behind the ``r`` key is a :class:`JournalBrowsing`. A key whose capability
the source lacks is shown dimmed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from engine_rs.records import Cycle, Opportunity, Score


class TimingRowView(Protocol):
    """One kernel's timings (µs) and shadow-check counts."""

    @property
    def kernel(self) -> str: ...
    @property
    def calls(self) -> int: ...
    @property
    def rust_p50_us(self) -> float | None: ...
    @property
    def rust_p99_us(self) -> float | None: ...
    @property
    def python_p50_us(self) -> float | None: ...
    @property
    def python_p99_us(self) -> float | None: ...
    @property
    def shadow_checks(self) -> int: ...
    @property
    def mismatches(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def speedup(self) -> float | None: ...


class FeedView(Protocol):
    """One endpoint's health (``feeds.health.FeedHealth``)."""

    @property
    def name(self) -> str: ...
    @property
    def connected(self) -> bool: ...
    @property
    def messages_per_s(self) -> float: ...
    @property
    def lead(self) -> int: ...
    @property
    def lag_p50_ms(self) -> float | None: ...
    @property
    def lag_p99_ms(self) -> float | None: ...
    @property
    def missed(self) -> int: ...
    @property
    def malformed(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def reconnects(self) -> int: ...
    @property
    def stale(self) -> int: ...
    @property
    def last_error(self) -> str: ...
    @property
    def older(self) -> int: ...
    @property
    def implausible(self) -> int: ...
    @property
    def unknown(self) -> int: ...
    @property
    def identity(self) -> int: ...
    @property
    def disagreed(self) -> int: ...
    @property
    def quarantined(self) -> bool: ...
    @property
    def lagging(self) -> bool: ...
    @property
    def behind(self) -> int: ...
    @property
    def rate_limited(self) -> int: ...
    @property
    def backoff_s(self) -> float: ...
    @property
    def uncovered(self) -> int: ...
    @property
    def transport(self) -> str: ...


class TokenNames(Protocol):
    """Tokens by name, amounts in units (``feeds.wire.units.TokenBook``): every panel
    formats mints and base-unit amounts with it; raw values stay in the detail screen."""

    def symbol(self, mint: str) -> str: ...
    def decimals(self, mint: str) -> int | None: ...
    def amount(self, mint: str, raw: int, symbol: bool = True) -> str:
        """``raw`` base units of ``mint`` in units: ``1.2345 SOL``."""
        ...

    def path(self, mints: Sequence[str]) -> str:
        """``SOL→USDC→JUP→SOL``."""
        ...

    def usd_text(self, mint: str, raw: int) -> str:
        """``raw`` base units in USD (``$1.23``), "" where no stablecoin path exists."""
        ...


class BookLevelView(Protocol):
    """One price level of an order book (``engine_rs.records.BookLevel``): the price in
    quote units per base unit, the size summed over its orders in base units, both also
    in lots, and how many orders rest there."""

    @property
    def price(self) -> float: ...
    @property
    def size(self) -> float: ...
    @property
    def price_lots(self) -> int: ...
    @property
    def size_lots(self) -> int: ...
    @property
    def orders(self) -> int: ...


class BookLadderView(Protocol):
    """An order book's L2 ladder (``engine_rs.records.BookLadder``): bids best (highest)
    first, asks best (lowest) first, as its market's account notifications left it."""

    @property
    def market(self) -> str: ...
    @property
    def base_mint(self) -> str: ...
    @property
    def quote_mint(self) -> str: ...
    @property
    def bids(self) -> Sequence[BookLevelView]: ...
    @property
    def asks(self) -> Sequence[BookLevelView]: ...
    @property
    def best_bid(self) -> float | None: ...
    @property
    def best_ask(self) -> float | None: ...
    @property
    def spread(self) -> float | None: ...
    @property
    def mid(self) -> float | None: ...
    @property
    def slot(self) -> int: ...


class PriceSeriesView(Protocol):
    """A pair's recent per-slot values for the price chart (``arbscope.prices.PriceSeries``),
    oldest first, all of one length: the slot, the mid (raw units of the second mint per
    raw unit of the first) and the engine's indicators after it (NaN in their warm-up)."""

    @property
    def slots(self) -> Sequence[int]: ...
    @property
    def mid(self) -> Sequence[float]: ...
    @property
    def lower(self) -> Sequence[float]: ...
    @property
    def middle(self) -> Sequence[float]: ...
    @property
    def upper(self) -> Sequence[float]: ...
    @property
    def ema(self) -> Sequence[float]: ...
    @property
    def kama(self) -> Sequence[float]: ...


class EquityPointView(Protocol):
    """One point of an equity curve (``arbscope.equity.EquityPoint``): the series' PnL
    after it in base units, at ``t_s`` seconds of the session's clock; ``fill`` the
    attempt's own PnL (None: no attempt, the series' start), ``ok`` False when it failed."""

    @property
    def series(self) -> str: ...
    @property
    def t_s(self) -> float: ...
    @property
    def slot(self) -> int: ...
    @property
    def pnl(self) -> int: ...
    @property
    def fill(self) -> int | None: ...
    @property
    def ok(self) -> bool: ...
    @property
    def win(self) -> bool: ...


class CuBudgetView(Protocol):
    """A transaction's compute-unit limit part by part (``arbscope.execution.compute.
    CuBudget``): each hop's limit, the token accounts it creates, the configured override."""

    @property
    def hops(self) -> Sequence[int]: ...
    @property
    def accounts(self) -> int: ...
    @property
    def base(self) -> int: ...
    @property
    def per_account(self) -> int: ...
    @property
    def override(self) -> int | None: ...
    @property
    def steps(self) -> Sequence[int | None]:
        """Each hop's steps it was priced at (None: not known, its venue's most)."""
        ...

    @property
    def limit(self) -> int: ...
    def text(self) -> str:
        """The arithmetic in a line."""
        ...


class LamportPriceView(Protocol):
    """A lamport's price in a base token (``arbscope.solprice.LamportPrice``): ``num /
    den`` base units per lamport, read through ``pools`` (SOL to the base, via
    ``tokens``): ``probe`` lamports gave ``out`` base units."""

    @property
    def base(self) -> str: ...
    @property
    def num(self) -> int: ...
    @property
    def den(self) -> int: ...
    @property
    def pools(self) -> Sequence[str]: ...
    @property
    def tokens(self) -> Sequence[str]: ...
    @property
    def probe(self) -> int: ...
    @property
    def out(self) -> int: ...
    def per_sol(self) -> int:
        """Base units a whole SOL is worth at this price."""
        ...


class CycleCostView(Protocol):
    """What a cycle's transaction costs as the scorer priced it (``arbscope.market.
    CycleCost``): the fee context it was scored with, its compute units, the lamport's
    price in its base token (None: none known)."""

    @property
    def fees(self) -> Any: ...
    @property
    def budget(self) -> CuBudgetView: ...
    @property
    def price(self) -> LamportPriceView | None: ...


class SnapshotView(Protocol):
    """The session's state after its latest tick."""

    @property
    def seed(self) -> int: ...
    @property
    def backend(self) -> str: ...
    @property
    def shadow(self) -> str | None: ...
    @property
    def slot(self) -> int: ...
    @property
    def pools(self) -> int: ...
    @property
    def tokens(self) -> int: ...
    @property
    def updates(self) -> int: ...
    @property
    def updates_per_s(self) -> float: ...
    @property
    def errors(self) -> int: ...
    @property
    def mismatches(self) -> int: ...
    @property
    def opportunities(self) -> Sequence[tuple[Opportunity, Score]]: ...
    @property
    def timings(self) -> Sequence[TimingRowView]: ...
    @property
    def last_sweep(self) -> Cycle | None: ...
    @property
    def source(self) -> str: ...
    @property
    def feeds(self) -> Sequence[FeedView]: ...
    @property
    def note(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def prices(self) -> Sequence[Any]: ...
    @property
    def fee(self) -> Any: ...
    @property
    def ages(self) -> Mapping[str, int]: ...
    @property
    def fees_ctx(self) -> Any: ...
    @property
    def portfolio(self) -> Any: ...
    @property
    def live(self) -> Any: ...
    @property
    def health(self) -> str: ...
    @property
    def problems(self) -> Sequence[str]: ...
    @property
    def names(self) -> TokenNames: ...
    @property
    def commitment(self) -> str:
        """The commitment of the feeds' subscriptions and reads ("" where there are none)."""
        ...

    @property
    def coverage(self) -> Mapping[str, int]:
        """Per pool, how many endpoints have all its accounts subscribed ({} where there
        are no feeds: the demo, a replay)."""
        ...

    @property
    def endpoints(self) -> int:
        """How many endpoints the feeds have (0 where there are none)."""
        ...

    @property
    def unsendable(self) -> Mapping[str, str]:
        """Per row key of the cycles shown that one transaction cannot hold (before
        address lookup tables), why ({} where every cycle fits or nobody knows)."""
        ...

    @property
    def labels(self) -> Mapping[str, str]:
        """Per pool of the cycles shown, its venue's short label (``wp``, ``clmm``,
        ``dlmm``, ``pump`` ...; {} where pools have no venue: the demo)."""
        ...

    @property
    def books(self) -> Sequence[BookLadderView]:
        """The order-book markets' ladders, by market address (() where there are none)."""
        ...

    @property
    def refused(self) -> Sequence[tuple[str, Sequence[str], int]]:
        """The mints the engine refuses to swap through, as ``(mint, the extensions
        named, pools of the graph trading it)`` (() where there are none)."""
        ...

    @property
    def price_series(self) -> Mapping[tuple[str, str], PriceSeriesView]:
        """The price chart's series by pair, ``(base, quote)`` (``feeds.wire.tokens.
        pair_order``): the price rows' pairs and each shown cycle's first hop ({} where the
        source keeps none)."""
        ...

    def pair_order(self, a: str, b: str) -> tuple[str, str]:
        """``(base, quote)`` of the pair of mints ``a`` and ``b``: the one rule every
        price, chart and book names a pair by (``SOL/USDC``, never ``USDC/SOL``)."""
        ...

    @property
    def costs(self) -> Mapping[str, CycleCostView]:
        """Per row key of the cycles shown, what its transaction costs as it was scored
        ({} where the source does not say)."""
        ...

    @property
    def lamport_prices(self) -> Mapping[str, LamportPriceView | None]:
        """Per base mint, the price of a lamport in it (None: none known)."""
        ...

    @property
    def equity(self) -> Sequence[EquityPointView]:
        """The equity curves, paper's points then live's, each oldest first (the same
        object until a point is added; () before the first tick)."""
        ...


class LiveSource(Protocol):
    """A session the dashboard shows. It owns its time: :meth:`run` is its run loop
    (the app runs it after :meth:`start` and never drives the engine itself);
    ``snapshot`` is its state after its latest tick, read at the screen's frame rate."""

    @property
    def snapshot(self) -> SnapshotView: ...
    def set_paused(self, paused: bool) -> None:
        """Stop (True) or restart (False) the session's evaluation (space)."""
        ...

    async def start(self) -> None: ...
    async def run(self, on_error: Callable[[Exception], None] | None = None) -> None:
        """Run until stopped; ``on_error`` gets what a turn raised (the loop goes on)."""
        ...

    async def stop(self) -> None: ...


@runtime_checkable
class ReplayControls(Protocol):
    """A recorded session's clock: pause, step, speed and seek (the replay keys)."""

    @property
    def pos_ns(self) -> int:
        """The replay's position, ns since the recording's first input."""
        ...

    def toggle_pause(self) -> None: ...
    async def step_frame(self) -> None:
        """Pause, then apply inputs through the next frame (done when it returns)."""
        ...

    async def step_slot(self) -> None:
        """Pause, then apply inputs through the first tick after the slot moved."""
        ...

    def faster(self) -> None: ...
    def slower(self) -> None: ...
    def seek(self, t_s: float) -> None:
        """Go to ``t_s`` seconds after the start, then pause (the source's run loop
        fast-forwards)."""
        ...


@runtime_checkable
class Trading(Protocol):
    """A source that takes orders: ``x`` on a cycle, the kill switch, resume."""

    def trade(self, base: str, pools: list[str]) -> str:
        """An order on the cycle now; why not, or ""."""
        ...

    def kill(self) -> int:
        """Back to paper, no automatic orders, pending ones cancelled; how many."""
        ...

    def resume(self) -> None: ...


@runtime_checkable
class LiveArming(Protocol):
    """A source that may switch to live trading (``m``), behind its guard rails."""

    def live_checks(self) -> list[str]:
        """The guard rails, one line each (✓ / ✗), for the confirmation screen."""
        ...

    def request_live(self) -> Awaitable[tuple[bool, str]] | tuple[bool, str]:
        """(allowed, why not): the guard rails checked again (it may ask the node)."""
        ...

    def to_paper(self) -> None:
        """Live -> paper at once."""
        ...


@dataclass(slots=True)
class UiState:
    """The app's own state, shared with its screens."""

    paused: bool = False
    internal_errors: int = 0  # exceptions other than engine errors, caught in a tick
    last_error: str = ""
    mode: str = "PAPER"  # PAPER | LIVE: the app always starts in paper
    halted: bool = False  # the kill switch was pressed
    message: str = ""  # the answer to the operator's last command
    clock: Callable[[], float] = time.time  # the status bar's clock (fixed in screenshots)


class JournalBrowsing(Protocol):
    """The journal as the app sees it: ``r`` lists recorded sessions and opens one."""

    async def list(self) -> list[tuple[str, str]]:
        """(session id, one-line label), newest first."""
        ...

    async def open(self, session_id: str) -> LiveSource:
        """A replay source for the session (not started)."""
        ...
