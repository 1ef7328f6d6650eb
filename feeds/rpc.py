"""Solana HTTP JSON-RPC client (spec §5.2) on aiohttp.

Only what the session needs: ``getMultipleAccounts`` (chunks of 100, the node's limit,
fetched concurrently), ``getRecentPrioritizationFees``, ``getSlot``, ``getHealth``.
Every failure is an :class:`RpcError` whose message names the method and the
*redacted* URL: timeouts, refused connections, HTTP errors, non-JSON bodies and JSON-RPC
error objects alike.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from .health import redact

MAX_ACCOUNTS = 100  # getMultipleAccounts' limit per request


class RpcError(Exception):
    """An RPC call that failed; ``code`` is the JSON-RPC error code when there is one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class RawAccount:
    """An account as ``getMultipleAccounts`` returned it (data base64-decoded)."""

    owner: str
    data: bytes
    lamports: int
    slot: int


class RpcClient:
    """One HTTP JSON-RPC endpoint. Use as ``async with RpcClient(url) as rpc``."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.shown = redact(url)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; its ``result``."""
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params:
            body["params"] = list(params)
        where = f"{method} at {self.shown}"
        try:
            async with self._http().post(self.url, json=body) as resp:
                if resp.status != 200:
                    raise RpcError(f"{where}: HTTP {resp.status}")
                try:
                    msg = await resp.json(content_type=None)
                except ValueError:
                    raise RpcError(f"{where}: the answer is not JSON") from None
        except asyncio.TimeoutError:
            raise RpcError(f"{where}: no answer within {self.timeout.total:g} s") from None
        except aiohttp.ClientError as exc:
            raise RpcError(f"{where}: {type(exc).__name__}: {_clean(str(exc), self.url)}") from None
        if not isinstance(msg, dict):
            raise RpcError(f"{where}: the answer is not a JSON-RPC object")
        err = msg.get("error")
        if err is not None:
            code = err.get("code") if isinstance(err, dict) else None
            text = err.get("message", err) if isinstance(err, dict) else err
            raise RpcError(
                f"{where}: error {code}: {text}", code if isinstance(code, int) else None
            )
        if "result" not in msg:
            raise RpcError(f"{where}: the answer has no result")
        return msg["result"]

    async def get_multiple_accounts(
        self, pubkeys: Sequence[str], commitment: str = "confirmed"
    ) -> dict[str, RawAccount | None]:
        """The accounts at ``pubkeys`` (None where there is none), any number of keys."""
        chunks = [list(pubkeys[i : i + MAX_ACCOUNTS]) for i in range(0, len(pubkeys), MAX_ACCOUNTS)]
        cfg = {"encoding": "base64", "commitment": commitment}
        answers = await asyncio.gather(
            *(self.call("getMultipleAccounts", [c, cfg]) for c in chunks)
        )
        out: dict[str, RawAccount | None] = {}
        for keys, res in zip(chunks, answers):
            try:
                slot = int(res["context"]["slot"])
                values = res["value"]
                if not isinstance(values, list) or len(values) != len(keys):
                    raise TypeError("value is not one entry per key")
                for k, v in zip(keys, values):
                    out[k] = None if v is None else _account(v, slot)
            except (KeyError, TypeError, ValueError, binascii.Error) as exc:
                raise RpcError(f"getMultipleAccounts at {self.shown}: bad answer ({exc})") from None
        return out

    async def get_recent_prioritization_fees(
        self, addresses: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        """``(slot, micro-lamports per CU)`` for the node's recent slots."""
        res = await self.call("getRecentPrioritizationFees", [list(addresses)] if addresses else [])
        try:
            return [(int(x["slot"]), int(x["prioritizationFee"])) for x in res]
        except (KeyError, TypeError, ValueError):
            raise RpcError(f"getRecentPrioritizationFees at {self.shown}: bad answer") from None

    async def get_slot(self, commitment: str = "confirmed") -> int:
        res = await self.call("getSlot", [{"commitment": commitment}])
        if not isinstance(res, int) or isinstance(res, bool):
            raise RpcError(f"getSlot at {self.shown}: bad answer {res!r}")
        return res


def _account(v: dict[str, Any], slot: int) -> RawAccount:
    data = v["data"]
    if not isinstance(data, list) or data[1] != "base64":
        raise ValueError("data is not base64")
    return RawAccount(
        str(v["owner"]), base64.b64decode(data[0], validate=True), int(v["lamports"]), slot
    )


def _clean(text: str, url: str) -> str:
    from .health import scrub

    return scrub(text, url)
