"""The registry of the engine's kernels: what the running app needs to know of each.

For each kernel: its name, what it does, the comparison that decides whether the two
backends agree on a call (``compare``), and the result fields that depend on earlier
calls (``history_fields``). Its users:

- ``arbscope.timing`` (the live shadow checker behind the timing panel) takes
  ``compare`` and ``history_fields`` by kernel name;
- ``bench/cases.py`` gives every kernel listed here its bench sizes, a deterministic
  input generator, a ready call on a backend and its peer libraries, for
  ``python -m bench`` and for ``tests/engine/test_kernels_registry.py`` (both backends agree on
  each kernel's smallest size).

So a new kernel is one :class:`Kernel` here and one case in ``bench/cases.py``; the
registry test fails when either list lacks the other's name. This module imports
nothing outside ``engine_rs`` (numpy only to compare the indicators' arrays).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .records import RECORD_TYPES, as_dict

__all__ = [
    "KERNELS",
    "Kernel",
    "by_name",
    "rel_tol",
    "same",
]

rel_tol = 1e-12  # floats from the two backends agree to this relative tolerance


def same(a: Any, b: Any, ignore: frozenset[str] = frozenset()) -> bool:
    """Whether two results agree: records field by field (either backend's classes; the
    fields named in ``ignore`` skipped), lists element-wise, floats (and numpy arrays,
    NaN equal to NaN) to :data:`rel_tol` relative, everything else exactly (same type,
    equal)."""
    if type(a).__name__ in _RECORD_NAMES and type(b).__name__ == type(a).__name__:
        da, db = as_dict(a), as_dict(b)
        return all(same(da[k], db[k], ignore) for k in da if k not in ignore)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, ignore) for x, y in zip(a, b))
    if _is_ndarray(a) and _is_ndarray(b):
        import numpy as np

        return bool(
            a.shape == b.shape
            and a.dtype == b.dtype
            and np.allclose(a, b, rtol=rel_tol, atol=0.0, equal_nan=True)
        )
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=rel_tol, abs_tol=0.0)
    return type(a) is type(b) and bool(a == b)


def _is_ndarray(x: Any) -> bool:
    return type(x).__name__ == "ndarray" and type(x).__module__ == "numpy"


_RECORD_NAMES = frozenset(cls.__name__ for cls in RECORD_TYPES)


@dataclass(frozen=True, slots=True)
class Kernel:
    """A kernel of the engine API, as the live shadow checker sees it."""

    name: str
    doc: str
    compare: Callable[[Any, Any], bool] = same
    # result fields that depend on earlier calls, not only on this call's input: a
    # shadow that saw only a sample of the calls compares without them
    history_fields: tuple[str, ...] = ()


KERNELS: tuple[Kernel, ...] = (
    Kernel("cpmm_amount_out", "constant-product output for an exact input"),
    Kernel("cpmm_amount_in", "constant-product input for an exact output"),
    Kernel("clmm_swap", "Whirlpool exact-input swap crossing initialized ticks"),
    Kernel("raydium_clmm_swap", "Raydium CLMM exact-input swap crossing initialized ticks"),
    Kernel(
        "meteora_dlmm_quote",
        "Meteora DLMM exact-input quote (bin walk, variable fee) on a pair's and its bin "
        "arrays' bytes",
    ),
    Kernel(
        "transfer_fee",
        "Token-2022 transfer fee of an amount at an epoch (older / newer fee, ceil, capped)",
    ),
    Kernel(
        "quote",
        "PoolGraph.quote: the exact amounts through a path, Token-2022 transfer fees counted",
    ),
    Kernel(
        "quote_steps",
        "PoolGraph.quote_steps: quote's amounts with the steps each hop crosses in its "
        "venue's compute-unit model (ticks, bins, maker orders)",
    ),
    Kernel(
        "pre_fee_amount",
        "Token-2022: the amount to send so that a given amount arrives after the fee",
    ),
    Kernel("pump_swap", "PumpSwap exact-input sell or buy_exact_quote_in with its fee split"),
    Kernel(
        "meteora_damm_v2_swap",
        "Meteora DAMM v2 exact-input swap on a pool account's bytes (base-fee schedule, "
        "dynamic fee, concentrated or compounding curve, the fee split)",
    ),
    Kernel(
        "openbook_ladder",
        "OpenBook v2 L2 ladder: a market's and both book sides' bytes decoded (order trees "
        "walked best first), expired orders skipped, levels summed",
    ),
    Kernel(
        "openbook_take",
        "OpenBook v2 place_take_order: the exact taker fill walking a prepared book",
    ),
    Kernel("find_negative_cycle", "Bellman-Ford sweep over the whole graph"),
    Kernel("cycles", "every <= 4-hop cycle through a base mint, sized"),
    Kernel(
        "cycles_touching",
        "the indexed cycles of one just-updated pool, re-sized",
        history_fields=("persistence",),
    ),
    Kernel(
        "score_touching",
        "the live cycles of one just-updated pool, re-sized, each with its compute-unit "
        "budget and its score (one call per pool)",
        # persistence counts the evaluations the backend saw; the go and the reasons
        # (not_persistent) follow from it
        history_fields=("persistence", "go", "reasons"),
    ),
    Kernel("score", "net profit after fees and the go / no-go of one opportunity"),
    Kernel(
        "FeeEstimator add+p75",
        "one fee sample into a full 150-slot window, then its 75th percentile",
    ),
    Kernel("Deduper.accept_many", "one batch of notifications from 3 endpoints, first copy wins"),
    Kernel("rsi", "RSI(14) over a price array (Wilder, TA-Lib seeding)"),
    Kernel("ema", "EMA(10) over a price array (SMA seed)"),
    Kernel("bollinger", "Bollinger(20, 2): SMA middle, population sigma"),
    Kernel("kama", "KAMA(10, 2, 30) over a price array"),
    Kernel("Rsi.update", "one live tick into a warm incremental RSI(14), call included"),
    Kernel("decode_whirlpool", "a Whirlpool account's bytes to its record (7 base58 keys)"),
    Kernel(
        "FeedIngest.frame",
        "a Whirlpool accountNotification: JSON, base64, dedup, decode, graph update",
    ),
    Kernel(
        "FeedIngest.frames",
        "a NATS batch of 64 recorded Whirlpool notifications in one call (per frame)",
    ),
    Kernel("delta_changes", "a journal delta: the ranges where a large account's copy changed"),
    Kernel(
        "DeltaEncoder.encode",
        "a recorded account notification stored as the journal stores it (a delta)",
    ),
    Kernel("b58encode", "base58 text of an address (32 B) or a signature (64 B)"),
    Kernel("b58decode", "bytes of a base58 address (32 B) or signature (64 B)"),
    Kernel("find_program_address", "a Whirlpool PDA: sha256 + ed25519 off-curve check per bump"),
    Kernel("PdaCache hit", "a tick array derived at start-up, looked up by base58 whirlpool id"),
)

_BY_NAME = {k.name: k for k in KERNELS}


def by_name(name: str) -> Kernel | None:
    """The registered kernel called ``name``, if any."""
    return _BY_NAME.get(name)
