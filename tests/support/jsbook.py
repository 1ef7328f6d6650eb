"""The official OpenBook v2 TypeScript client (``@openbook-dex/openbook-v2`` 0.2.10 from
npm), driven by ``tests/js/openbook_client.mjs`` under node in a subprocess, as the oracle
of the engine's OpenBook v2 decoders and L2 ladder (``test_openbook_oracle.py``).

- :meth:`OpenBookJs.random` — account bytes (Market, both BookSides, EventHeap) written
  by the script's own order-tree and event-heap writer and encoded by the client's Anchor
  coder, independently of the engine;
- :meth:`OpenBookJs.decode` — the client's view of account bytes: market fields, each
  side's orders in the client's iteration order (``BookSide.items``), its ``getL2`` over
  the orders it counts valid, the event heap's events.

The package is installed on first use (``tools/nodejs.py``); where node, npm or the
package is missing the tests using the ``objs`` fixture are skipped and say why.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

import pytest
from solders.pubkey import Pubkey

from tools.nodejs import install, run_script

SCRIPT = "openbook_client.mjs"

# the Market's fields the client gives as numbers and as keys (its view's names)
MARKET_INTS = (
    "bump",
    "base_decimals",
    "quote_decimals",
    "time_expiry",
    "quote_lot_size",
    "base_lot_size",
    "seq_num",
    "registration_time",
    "maker_fee",
    "taker_fee",
    "fees_accrued",
    "fees_to_referrers",
    "referrer_rebates_accrued",
    "fees_available",
    "maker_volume",
    "taker_volume_wo_oo",
    "base_deposit_total",
    "quote_deposit_total",
    "max_staleness_slots",
)
MARKET_KEYS = (
    "market_authority",
    "collect_fee_admin",
    "open_orders_admin",
    "consume_events_admin",
    "close_market_admin",
    "bids",
    "asks",
    "event_heap",
    "oracle_a",
    "oracle_b",
    "base_mint",
    "quote_mint",
    "market_base_vault",
    "market_quote_vault",
)


@dataclass(frozen=True, slots=True)
class RandomBook:
    """One random market as the script wrote it: the accounts' bytes, the clock they
    were written for and the book's centre (an oracle price its pegged orders straddle)."""

    seed: int
    market: bytes
    bids: bytes
    asks: bytes
    event_heap: bytes
    now: int
    oracle_price_lots: int


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class OpenBookJs:
    """Requests to ``openbook_client.mjs``, batched: one node process per call."""

    @staticmethod
    def _many(requests: list[dict[str, Any]]) -> list[Any]:
        answers: list[dict[str, Any]] = run_script(
            SCRIPT, {"op": "many", "requests": requests}, timeout_s=300.0
        )
        for q, a in zip(requests, answers, strict=True):
            assert "ok" in a, (
                f"the TS client failed on {q.get('op')} seed {q.get('seed')}: {a['error']}"
            )
        return [a["ok"] for a in answers]

    def random(self, specs: list[dict[str, Any]]) -> list[RandomBook]:
        """One random market per spec (``seed`` and the optional counts of
        ``openbook_client.mjs``'s random op)."""
        out = self._many([{"op": "random", **s} for s in specs])
        return [
            RandomBook(
                seed=s["seed"],
                market=base64.b64decode(o["market"]),
                bids=base64.b64decode(o["bids"]),
                asks=base64.b64decode(o["asks"]),
                event_heap=base64.b64decode(o["event_heap"]),
                now=o["now"],
                oracle_price_lots=o["oracle_price_lots"],
            )
            for s, o in zip(specs, out, strict=True)
        ]

    def decode(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The client's view per request: ``market``, ``bids``, ``asks`` and optionally
        ``event_heap`` as bytes, ``now`` (the client's cluster time), ``oracle_price_lots``
        (None: pegged orders are not walked), ``depth``."""
        enc = [
            {"op": "decode", **{k: _b64(v) if isinstance(v, bytes) else v for k, v in r.items()}}
            for r in requests
        ]
        return self._many(enc)


@pytest.fixture(scope="session")
def objs() -> OpenBookJs:
    """The TS client; skips the test (saying why) where it cannot be installed."""
    why = install()
    if why:
        pytest.skip(why)
    return OpenBookJs()


def client_order(o: dict[str, Any]) -> tuple[Any, ...]:
    """What the client says of an order past its key and price: size, owner, owner's
    slot, time, time in force, peg limit, client order id, pegged."""
    return (
        int(o["size_lots"]),
        o["owner"],
        o["owner_slot"],
        int(o["timestamp"]),
        o["time_in_force"],
        int(o["peg_limit"]),
        int(o["client_order_id"]),
        o["pegged"],
    )


def heap_fill(raw: bytes) -> tuple[Any, ...]:
    """An event heap's FillEvent bytes as the fields in order (keys in base58, the
    padding dropped)."""
    f = struct.unpack("<BBBB4xQQ32sQ32sQqqqQ8x", raw)
    return (*f[1:6], str(Pubkey.from_bytes(f[6])), f[7], str(Pubkey.from_bytes(f[8])), *f[9:])


def heap_out(raw: bytes) -> tuple[Any, ...]:
    """An event heap's OutEvent bytes as the fields in order (the owner in base58)."""
    o = struct.unpack("<BBB5xQQ32sq80x", raw)
    return (*o[1:5], str(Pubkey.from_bytes(o[5])), o[6])
