"""Technical indicators, batch and incremental, matching TA-Lib (C library 0.8.x).

Twin of ``crates/core/src/indicators.rs``; each backend runs the same arithmetic for
batch and incremental, so the value after ``n`` updates equals its batch value at index
``n - 1`` bit for bit. (Where the CPU has FMA the extension fuses ``a * b + c`` as
TA-Lib's build does; plain Python cannot, so the two backends agree to ~1e-15 relative.)

TA-Lib's conventions (unstable period 0, default compatibility), followed here:

- ``ema(prices, period)``: ``k = 2 / (period + 1)``; the first value, at index
  ``period - 1``, is the SMA of the first ``period`` prices; then
  ``ema = ema + k·(x − ema)``, computed as ``ema·(1 − k) + k·x`` (TA-Lib:
  ``(x − ema)·k + ema``; the two agree to ~1e-15, see ``_smooth``).
- ``rsi(prices, period=14)``, period >= 2: Wilder's smoothing; the first ``period``
  changes are averaged, the first value is at index ``period``, then
  ``avg = avg * ((period - 1) / period) + change * (1 / period)`` (TA-Lib's textbook
  form divides ``avg * (period - 1) + change`` by the period; the two differ by an ulp
  or two); ``100 * gain / (gain + loss)``, and 0 when that sum is 0 (a flat series) or
  not finite (after a NaN/inf price).
- ``bollinger(prices, period=20, k=2.0) -> (upper, middle, lower)``, period >= 2: SMA
  middle, population σ (0 when the variance is not positive, NaN when it is NaN),
  ``middle ± σ·k``; first value at index ``period - 1``. TA-Lib 0.8.1's running sums
  (shifted, re-shifted to the window's mean when they drift), except that a window of
  ``period`` equal prices has zero width exactly.
- ``kama(prices, period=10, fast=2, slow=30)``: first value at index ``period``, seeded
  with ``x[period - 1]``; ``ER = |x[t] - x[t-period]| / Σ|Δx|`` over the window (1 for a
  straight rise or a path that is not positive; the path of a window of ``period``
  exactly-zero changes is 0, not the running sum's residue; at most 1);
  ``sc = (ER·(2/(fast+1) − 2/(slow+1)) + 2/(slow+1))²``; ``kama += sc·(x − kama)`` (as
  for the EMA). TA-Lib fixes fast/slow at 2/30; ``period = 1`` returns the input.

Batch inputs: anything ``numpy.ascontiguousarray(prices, dtype=float64)`` accepts that
comes out 1-D (a 1-D float64 array is used as is); the output has the input's length,
NaN during the warm-up. Leading NaNs are skipped (TA-Lib's Python wrapper starts at the
first non-NaN price, so they only delay the warm-up). A later NaN or inf propagates as
in TA-Lib: EMA,
KAMA and the bands are NaN from there on (the running sums carry it), RSI is 0 from
there on. Incremental ``update`` refuses non-finite prices with InvalidInputError and
keeps its state. Bad periods raise InvalidInputError.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Generic, TypeVar

import numpy as np

from ..errors import InvalidInputError
from ._ints import Readonly, i64

V = TypeVar("V")

MAX_PERIOD = 100_000
_NAN = float("nan")


def _period(period: object, lo: int, name: str) -> int:
    p = i64(period)
    if not lo <= p <= MAX_PERIOD:
        raise InvalidInputError(f"{name} period must be within {lo}..={MAX_PERIOD}, got {p}")
    return p


def _real(x: object, what: str) -> float:
    if isinstance(x, (str, bytes)) or not hasattr(x, "__float__"):
        raise TypeError(f"{what}: expected float, got {type(x).__name__}")
    return float(x)  # type: ignore[arg-type]


def _price(x: object) -> float:
    v = _real(x, "price")
    if not math.isfinite(v):
        raise InvalidInputError(f"price must be finite, got {v}")
    return v


def _prices(prices: object) -> np.ndarray[Any, np.dtype[np.float64]]:
    a = np.ascontiguousarray(prices, dtype=np.float64)
    if a.ndim != 1:
        raise InvalidInputError(f"prices must be 1-D, got shape {a.shape}")
    return a


def _smooth(v: float, s: float, x: float) -> float:
    """One step of EMA's and KAMA's ``v + s·(x − v)``, as the extension computes it
    (``smooth`` in ``crates/core/src/indicators.rs``): ``v·(1 − s) + s·x`` while both are
    finite, TA-Lib's ``(x − v)·s + v`` otherwise (NaN after an inf, as in TA-Lib)."""
    if math.isfinite(x) and math.isfinite(v):
        return v * (1.0 - s) + s * x
    return (x - v) * s + v


class _Incremental(Generic[V]):
    """What the incremental indicators share: the period, the prices fed (``count``),
    the latest value and when it is warm (``ready``); each computes its ``_step``."""

    __slots__ = ("_count", "_period", "_value")

    _count: int
    _period: int
    _value: V

    def _step(self, x: float) -> V:
        raise NotImplementedError

    def _warm(self) -> bool:
        return self._count >= self._period

    def update(self, price: float) -> V | None:
        """Feed one price; the value once warm, else None."""
        v = self._step(_price(price))
        return v if self._warm() else None

    @property
    def value(self) -> V | None:
        """The latest value once warm, else None."""
        return self._value if self._warm() else None

    @property
    def ready(self) -> bool:
        """Whether enough prices have been fed for a value."""
        return self._warm()

    period = Readonly[int](
        "_period",
        "The look-back, in prices.",
    )

    count = Readonly[int](
        "_count",
        "Prices fed since the last reset.",
    )


class Ema(_Incremental[float]):
    """Incremental EMA, O(1) per update."""

    __slots__ = ("_k", "_sum")

    def __init__(self, period: int) -> None:
        self._period = _period(period, 1, "EMA")
        self._k = 2.0 / (self._period + 1.0)
        self.reset()

    def reset(self) -> None:
        """Forget every price (the parameters stay)."""
        self._count = 0
        self._sum = 0.0
        self._value = _NAN

    def _step(self, x: float) -> float:
        self._count += 1
        if self._count < self._period:
            self._sum += x
            return _NAN
        if self._count == self._period:
            self._sum += x
            self._value = self._sum / self._period
            return self._value
        self._value = _smooth(self._value, self._k, x)
        return self._value


class Rsi(_Incremental[float]):
    """Incremental RSI (Wilder's smoothing), O(1) per update."""

    __slots__ = ("_gain", "_loss", "_prev")

    def __init__(self, period: int = 14) -> None:
        self._period = _period(period, 2, "RSI")
        self.reset()

    def reset(self) -> None:
        """Forget every price (the parameters stay)."""
        self._count = 0
        self._prev = 0.0
        self._gain = 0.0
        self._loss = 0.0
        self._value = _NAN

    def _step(self, x: float) -> float:
        self._count += 1
        if self._count == 1:
            self._prev = x
            return _NAN
        change = x - self._prev
        self._prev = x
        p = float(self._period)
        if self._count <= self._period + 1:
            if change < 0.0:
                self._loss -= change
            else:
                self._gain += change
            if self._count <= self._period:
                return _NAN
            self._loss /= p
            self._gain /= p
        else:
            # avg·((p−1)/p) + part·(1/p), as the extension computes it: with
            # a = change·(1/p)/2, the parts are a + |a| and |a| − a (2a or 0, no branch)
            keep = (p - 1.0) / p
            a = change * (0.5 / p)
            b = abs(a)
            self._loss = self._loss * keep + (b - a)
            self._gain = self._gain * keep + (a + b)
        total = self._gain + self._loss
        ok = total > 0.0 and math.isfinite(total)
        self._value = 100.0 * (self._gain / total) if ok else 0.0
        return self._value

    def _warm(self) -> bool:
        return self._count > self._period  # after period + 1 prices


_RESEED_EVERY = 32  # bars (times the period) between forced reseeds of the variance sums
_RESEED_CANCEL = 1e-6  # reseed when the variance is below this share of E[(x - shift)^2]
_RESEED_OUTLIER = 1e6  # reseed when the deviation leaving is this many times what remains


class Bollinger(_Incremental[tuple[float, float, float]]):
    """Incremental Bollinger bands (SMA middle, population σ), O(1) per update.

    The state is TA-Lib 0.8's for BBANDS with an SMA (see ``crates/core/src/indicators.rs``,
    ``BandSums``): the SMA's running sum, and running sums of ``x - shift`` and its square
    for the variance, reseeded from the window when they drift.
    """

    __slots__ = (
        "_inv",
        "_k",
        "_last_price",
        "_ma",
        "_run",
        "_shift",
        "_since",
        "_v1",
        "_v2",
        "_window",
    )

    def __init__(self, period: int = 20, k: float = 2.0) -> None:
        self._period = _period(period, 2, "Bollinger")
        kf = _real(k, "k")
        if not math.isfinite(kf):
            raise InvalidInputError(f"Bollinger k must be finite, got {kf}")
        self._k = kf
        self._inv = 1.0 / self._period
        self.reset()

    def reset(self) -> None:
        """Forget every price (the parameters stay)."""
        self._count = 0
        self._window: deque[float] = deque()
        self._value = (_NAN, _NAN, _NAN)
        self._seed(0.0)

    def _seed(self, first: float) -> None:
        self._shift = first
        self._ma = 0.0
        self._v1 = 0.0
        self._v2 = 0.0
        self._since = _RESEED_EVERY * self._period
        self._run = 0
        self._last_price = _NAN

    def _add(self, x: float) -> None:
        self._run = self._run + 1 if x == self._last_price else 1
        self._last_price = x
        self._ma += x
        t = x - self._shift
        self._v1 += t
        self._v2 += t * t

    def _step(self, x: float) -> tuple[float, float, float]:
        if self._count == 0:
            self._seed(x)
        self._count += 1
        w = self._window
        w.append(x)
        self._add(x)
        if len(w) < self._period:
            return (_NAN, _NAN, _NAN)
        inv = self._inv
        m1 = self._v1 * inv
        var = self._v2 * inv - m1 * m1
        middle = self._ma / self._period
        oldest = w[0]
        self._ma -= oldest
        t = oldest - self._shift
        self._v1 -= t
        t *= t
        self._v2 -= t
        self._since -= 1
        if (
            var < _RESEED_CANCEL * (self._v2 * inv)
            or t > _RESEED_OUTLIER * self._v2
            or self._since == 0
        ):
            self._since = _RESEED_EVERY * self._period
            total = 0.0
            for v in w:
                total += v
            self._shift = total * inv
            v1 = v2 = 0.0
            for v in w:
                d = v - self._shift
                v1 += d
                v2 += d * d
            m1 = v1 * inv
            var = v2 * inv - m1 * m1
            d = oldest - self._shift
            self._v1 = v1 - d
            self._v2 = v2 - d * d
        w.popleft()
        if self._run >= self._period and math.isfinite(x):
            var = 0.0  # a flat window
        sd = 0.0 if var <= 0.0 else math.sqrt(var)  # NaN stays NaN, as in TA-Lib
        dev = sd * self._k
        self._value = (middle + dev, middle, middle - dev)
        return self._value

    k = Readonly[float]("_k")


class Kama(_Incremental[float]):
    """Incremental Kaufman adaptive moving average, O(1) per update."""

    __slots__ = (
        "_fastest",
        "_flat",
        "_path",
        "_slowest",
        "_window",
    )

    def __init__(self, period: int = 10, fast: int = 2, slow: int = 30) -> None:
        self._period = _period(period, 1, "KAMA")
        f, s = i64(fast), i64(slow)
        if f < 1 or s < 1 or f >= s or s > MAX_PERIOD:
            raise InvalidInputError(
                f"KAMA needs 1 <= fast < slow <= {MAX_PERIOD}, got fast={f}, slow={s}"
            )
        self._slowest = 2.0 / (s + 1.0)
        self._fastest = 2.0 / (f + 1.0) - self._slowest
        self.reset()

    def reset(self) -> None:
        """Forget every price (the parameters stay)."""
        self._count = 0
        self._window: deque[float] = deque()
        self._path = 0.0
        self._flat = 0  # exactly-zero changes in a row, at most the period
        self._value = _NAN

    def _warm(self) -> bool:
        return self._count > self._period or (self._period == 1 and self._count >= 1)

    def _step(self, x: float) -> float:
        self._count += 1
        p = self._period
        if p == 1:
            self._value = x
            return x
        w = self._window
        if self._count <= p + 1:
            if w:
                self._path += abs(w[-1] - x)
                self._flat = min(self._flat + 1, p) if x - w[-1] == 0.0 else 0
            w.append(x)
            if self._count < p + 1:
                if self._count == p:
                    self._value = x  # seed: x[p - 1]
                return _NAN
        else:
            self._path = (self._path - abs(w[0] - w[1])) + abs(x - w[-1])
            # a flat window: its path is 0 exactly, not the running sum's residue (TA-Lib)
            self._flat = min(self._flat + 1, p) if x - w[-1] == 0.0 else 0
            if self._flat >= p:
                self._path = 0.0
            w.popleft()
            w.append(x)
        roc = x - w[0]
        path = self._path
        if path <= 0.0 or path <= roc:
            er = 1.0
        else:
            q = abs(roc / path)
            er = 1.0 if q > 1.0 else q  # at most 1 (NaN stays), as TA-Lib 0.8.1 does
        sc = er * self._fastest + self._slowest
        sc *= sc
        self._value = _smooth(self._value, sc, x)
        return self._value


def _first_valid(values: list[float]) -> int:
    """Index of the first non-NaN value: TA-Lib's Python wrapper starts there."""
    for i, v in enumerate(values):
        if v == v:
            return i
    return len(values)


def _run(state: Any, prices: object) -> np.ndarray[Any, np.dtype[np.float64]]:
    values = _prices(prices).tolist()
    s = _first_valid(values)
    step = state._step
    out = [_NAN] * s + [step(v) for v in values[s:]]
    return np.array(out, dtype=np.float64).reshape(len(values))


def rsi(prices: object, period: int = 14) -> np.ndarray[Any, np.dtype[np.float64]]:
    """RSI over ``prices`` (see the module docs)."""
    return _run(Rsi(period), prices)


def ema(prices: object, period: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """EMA over ``prices`` (see the module docs)."""
    return _run(Ema(period), prices)


def kama(
    prices: object, period: int = 10, fast: int = 2, slow: int = 30
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """KAMA over ``prices`` (see the module docs)."""
    return _run(Kama(period, fast, slow), prices)


def bollinger(
    prices: object, period: int = 20, k: float = 2.0
) -> tuple[
    np.ndarray[Any, np.dtype[np.float64]],
    np.ndarray[Any, np.dtype[np.float64]],
    np.ndarray[Any, np.dtype[np.float64]],
]:
    """``(upper, middle, lower)`` over ``prices`` (see the module docs)."""
    state = Bollinger(period, k)
    values = _prices(prices).tolist()
    s = _first_valid(values)
    rows = [(_NAN, _NAN, _NAN)] * s + [state._step(v) for v in values[s:]]
    out = np.array(rows, dtype=np.float64).reshape(len(values), 3)
    return (
        np.ascontiguousarray(out[:, 0]),
        np.ascontiguousarray(out[:, 1]),
        np.ascontiguousarray(out[:, 2]),
    )
