"""The official OpenBook v2 TypeScript client (``@openbook-dex/openbook-v2`` from npm,
``tests/js/openbook_client.mjs``) as a bench peer of ``openbook_v2.ladder``: node times its
own decode of a market and both book sides plus its L2 rebuild of each
(``process.hrtime.bigint()``, median of ``iterations``), so the number excludes the
process start and the JSON round trip.

The package is installed on first use (``tools/nodejs.py``); without node or the package
the peer has no row (None).
"""

from __future__ import annotations

import base64

from tools.nodejs import NodeScriptError, install, run_script

__all__ = ["ts_ladder_ns"]


def ts_ladder_ns(
    market: bytes, bids: bytes, asks: bytes, iterations: int, depth: int = 1000, now: int = 0
) -> float | None:
    """Median ns per op of the TS client decoding ``market``, ``bids`` and ``asks`` and
    rebuilding both sides' L2 (``BookSide.getL2(depth)``); None where node or the package
    is missing or the client cannot decode the bytes."""
    if install():
        return None
    b64 = base64.b64encode
    request = {
        "op": "time",
        "market": b64(market).decode(),
        "bids": b64(bids).decode(),
        "asks": b64(asks).decode(),
        "iterations": iterations,
        "depth": depth,
        "now": now,
    }
    try:
        answer = run_script("openbook_client.mjs", request, timeout_s=120.0 + iterations * 0.1)
    except (NodeScriptError, OSError):
        return None
    return float(answer["median_ns"])
