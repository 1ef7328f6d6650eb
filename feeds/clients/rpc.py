"""Solana HTTP JSON-RPC client (spec §5.2) on aiohttp.

Only what the session needs: ``getMultipleAccounts`` (chunks of 100, the node's limit,
fetched concurrently), ``getProgramAccounts`` (filters, ``dataSlice``, zstd-compressed
data), ``getRecentPrioritizationFees``, ``getSlot``, ``getHealth``; for
execution ``getVersion``, ``getLatestBlockhash``, ``getBlockHeight``, ``getBalance``,
``simulateTransaction``, ``sendTransaction``, ``getSignatureStatuses``; the Jito block
engine's ``sendBundle`` and ``getInflightBundleStatuses`` (:class:`JitoClient`).
Every failure is an :class:`RpcError` whose message names the method and the
*redacted* URL: timeouts, refused connections, HTTP errors, non-JSON bodies, answers over
the size limit and JSON-RPC error objects alike. A rate-limit answer (HTTP 429, or a
JSON-RPC rate-limit code: :mod:`.ratelimit`) is an RpcError with ``rate_limited`` set and
``retry_after`` (seconds, when the provider said); it closes the client's
:class:`~.ratelimit.RateGate` (shared per endpoint by the caller that owns several
clients), and until the gate opens the client sends nothing: a call waits for it when
it opens within the call's timeout, else fails at once, unsent.

Answers are bounded: more than ``max_answer_bytes`` (default 64 MiB, room for
``getMultipleAccounts`` of 100 large accounts) is refused — by its Content-Length before
reading, or while reading a chunked one — and the connection closed. A body over
``PARSE_IN_SLICES_BYTES`` is parsed, and its accounts decoded, in slices of a few
milliseconds with the event loop taking a turn between them (:mod:`.slices`: a thread
would not do, the JSON parser holds the GIL throughout), so the loop keeps serving the
feeds, ``/health``, ``/metrics`` and the screen.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import itertools
import json
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import zstandard

import engine_rs

from ..health import size_text
from ..redact import redact
from ..wire.universe import address_problem
from .ratelimit import RATE_LIMIT_CODES, RateGate, retry_after_seconds
from .slices import ONE_GO, SLICE_S, Pace, Steps, gc_paused, parse_json, run_sliced
from .tls import DEFAULT_MAX_FRAME_BYTES, FRAME_HINT, ssl_for, tls_problem

MAX_ACCOUNTS = 100  # getMultipleAccounts' limit per request
MAX_ANSWER_BYTES = DEFAULT_MAX_FRAME_BYTES  # the largest answer read (bytes)
PARSE_IN_SLICES_BYTES = 1 << 20  # answers larger than this are parsed in slices (bytes)
READ_CHUNK = 1 << 16
MAX_ACCOUNT_BYTES = 10 << 20  # a Solana account's largest size (MAX_PERMITTED_DATA_LENGTH)
MAX_FILTERS = 4  # getProgramAccounts' filters per request
MAX_MEMCMP_BYTES = 128  # bytes one memcmp filter may compare
# JSON-RPC errors of a node that is up but cannot serve the read now (Agave's
# ``NodeUnhealthy`` -32005: behind the cluster; -32004: block not available yet)
TRANSIENT_CODES = frozenset({-32005, -32004})
T = TypeVar("T")


class RpcError(Exception):
    """An RPC call that failed; ``code`` is the JSON-RPC error code when there is one,
    ``data`` its ``error.data`` (a failed preflight carries the simulation there);
    ``transport`` is ``"tls"`` (a certificate that does not verify, a failed handshake)
    or ``"oversize"`` (an answer over the limit) for what the operator must fix, else "";
    ``rate_limited`` when the endpoint said "slow down" (or the call was not sent because
    it still is backing off), ``retry_after`` the seconds it asked for, if it did;
    ``transient`` when asking again later may well work (no answer within the timeout, a
    dropped connection, HTTP 5xx, a node that says it is behind: a node under load),
    ``unreachable`` when nothing took the connection (refused, no such host: a node that
    is down or a wrong URL)."""

    def __init__(
        self,
        message: str,
        code: int | None = None,
        data: Any = None,
        transport: str = "",
        rate_limited: bool = False,
        retry_after: float | None = None,
        transient: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.code, self.data, self.transport = code, data, transport
        self.rate_limited, self.retry_after = rate_limited, retry_after
        self.transient, self.unreachable = transient, unreachable


@dataclass(frozen=True, slots=True)
class RawAccount:
    """An account as ``getMultipleAccounts`` returned it (data base64-decoded)."""

    owner: str
    data: bytes
    lamports: int
    slot: int


@dataclass(frozen=True, slots=True)
class EpochSchedule:
    """A cluster's epoch schedule as ``getEpochSchedule`` answers it (slots, epochs):
    ``slots_per_epoch`` once past the warmup, the leader schedule's lead, whether the
    first epochs are short (from 32 slots, doubling), and the first epoch and slot of
    full length."""

    slots_per_epoch: int
    leader_schedule_slot_offset: int
    warmup: bool
    first_normal_epoch: int
    first_normal_slot: int


MAINNET_EPOCH_SCHEDULE = EpochSchedule(432_000, 432_000, False, 0, 0)


async def _stamp_written(
    _session: aiohttp.ClientSession,
    ctx: types.SimpleNamespace,
    _params: aiohttp.TraceRequestChunkSentParams,
) -> None:
    """A request body's chunk goes to the socket (aiohttp calls this right before its
    synchronous write): the request's ``written`` list, when it has one, gets the time."""
    stamps = ctx.trace_request_ctx
    if isinstance(stamps, list):
        stamps.append(time.monotonic_ns())


def _tracing() -> aiohttp.TraceConfig:
    tc = aiohttp.TraceConfig()
    tc.on_request_chunk_sent.append(_stamp_written)
    return tc


class RpcClient:
    """One HTTP JSON-RPC endpoint. Use as ``async with RpcClient(url) as rpc``.
    ``https://`` is verified against the system's trust store and ``ca_file`` (a private
    CA, PEM) when given (:mod:`feeds.clients.tls`)."""

    def __init__(
        self,
        url: str,
        timeout_s: float = 5.0,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        ca_file: str | None = None,
        gate: RateGate | None = None,
        inflight: asyncio.Semaphore | None = None,
    ) -> None:
        # ``inflight``: the endpoint's bound on requests in flight at once (shared by the
        # clients of one endpoint, as ``gate``); a request waits for a place before it is
        # sent, and its timeout runs from then
        self.inflight = inflight
        self.url = url
        self.shown = redact(url)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_answer_bytes = max_answer_bytes
        self.ca_file = ca_file
        self._ssl = ssl_for(url, ca_file)  # TlsSetupError for a CA file that cannot be used
        self.gate = gate if gate is not None else RateGate()
        # the HTTP session (its kept-alive connections), in a box that the client's
        # ``timed`` copies share
        self._box: list[aiohttp.ClientSession | None] = [None]
        self._ids = itertools.count(1)

    def timed(self, timeout_s: float) -> RpcClient:
        """This client with another timeout per request, over the same connections
        (closing either closes them)."""
        other = copy.copy(self)
        other.timeout = aiohttp.ClientTimeout(total=timeout_s)
        return other

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        session, self._box[0] = self._box[0], None
        if session is not None:
            await session.close()

    def _http(self) -> aiohttp.ClientSession:
        session = self._box[0]
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True)
            session = self._box[0] = aiohttp.ClientSession(
                timeout=self.timeout, connector=connector, trace_configs=[_tracing()]
            )
        return session

    async def call(
        self, method: str, params: Sequence[Any] = (), written: list[int] | None = None
    ) -> Any:
        """One JSON-RPC call; its ``result``. ``written`` (a list) gets the
        ``time.monotonic_ns`` at which aiohttp handed the request's body to its writer
        (the socket write follows in the same call, no turn of the loop between)."""
        result, _ = await self._call(method, params, written=written)
        return result

    async def _call(
        self,
        method: str,
        params: Sequence[Any] = (),
        decode: Callable[[Any, Pace], Steps[T]] | None = None,
        written: list[int] | None = None,
    ) -> tuple[Any, int]:
        """One JSON-RPC call: its ``result`` (passed through ``decode`` when given) and
        the answer's size in bytes. An answer over :data:`PARSE_IN_SLICES_BYTES` is
        parsed and decoded in slices, the loop taking a turn between them
        (:mod:`.slices`)."""
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params:
            body["params"] = list(params)
        where = f"{method} at {self.shown}"
        gate = self.gate
        if not await gate.wait(self.timeout.total):
            raise RpcError(
                f"{where}: not sent, backing off for {gate.remaining():.1f} s after "
                "a rate-limit answer",
                rate_limited=True,
            )
        if self.inflight is None:
            raw = await self._post(body, where, method, written)
        else:
            async with self.inflight:
                raw = await self._post(body, where, method, written)
        size = len(raw)
        big = size > PARSE_IN_SLICES_BYTES
        pace = Pace(SLICE_S if big else ONE_GO)
        with gc_paused(big):
            try:
                msg = await run_sliced(parse_json(raw, pace), pace) if big else json.loads(raw)
            except (ValueError, RecursionError):  # UnicodeDecodeError included
                raise RpcError(f"{where}: the answer is not JSON") from None
            del raw  # the text is parsed: its bytes go before the decoding makes more
            try:
                result = self.result_of(msg, where)
            except RpcError as exc:
                if exc.rate_limited:
                    gate.refused(None)
                raise
            del msg
            gate.answered()
            if decode is not None:
                result = await run_sliced(decode(result, pace), pace)
        return result, size

    async def _post(
        self, body: dict[str, Any], where: str, method: str, written: list[int] | None
    ) -> bytearray:
        """POST one request; the answer's bytes (RpcError for every failure, classified:
        ``transient``, ``unreachable``, ``rate_limited``, ``transport``)."""
        gate = self.gate
        try:
            async with self._http().post(
                self.url, json=body, trace_request_ctx=written, timeout=self.timeout
            ) as resp:
                if resp.status == 429:
                    after = retry_after_seconds(resp.headers.get("Retry-After"))
                    gate.refused(after)
                    code, said = await self._said(resp)
                    said = _clean(said, self.url)
                    raise RpcError(
                        f"{where}: HTTP 429 rate limited"
                        + (f", Retry-After {after:g} s" if after is not None else "")
                        + (f" ({said})" if said else ""),
                        code if code is not None else 429,
                        rate_limited=True,
                        retry_after=after,
                    )
                if resp.status != 200:
                    raise RpcError(f"{where}: HTTP {resp.status}", transient=resp.status >= 500)
                return await self._read(resp, where)
        except asyncio.TimeoutError:
            raise RpcError(
                f"{where}: no answer within {self.timeout.total:g} s", transient=True
            ) from None
        except aiohttp.ClientError as exc:
            tls = tls_problem(exc, self.url, self.ca_file)
            if tls is not None:  # one line, never the handshake's traceback
                raise RpcError(f"{method}: {tls}", transport="tls") from None
            # nothing took the connection (refused, no such host): down, or a wrong URL;
            # a connection that broke or was dropped mid-answer: a node under load
            down = isinstance(exc, aiohttp.ClientConnectorError)
            raise RpcError(
                f"{where}: {type(exc).__name__}: {_clean(str(exc), self.url)}",
                transient=not down,
                unreachable=down,
            ) from None

    @staticmethod
    async def _said(resp: aiohttp.ClientResponse) -> tuple[int | None, str]:
        """What a refusal's body says: its JSON-RPC error's code and the words (at most
        4 KiB read), or (None, "")."""
        try:
            raw = await resp.content.read(4096)
            err = json.loads(raw).get("error")
            code = err.get("code")
            code = code if isinstance(code, int) and not isinstance(code, bool) else None
            return code, f"error {err.get('code')}: {str(err.get('message'))[:160]}"
        except Exception:  # any body at all: the status said enough
            return None, ""

    async def _read(self, resp: aiohttp.ClientResponse, where: str) -> bytearray:
        """The body, refused (and the connection closed) past ``max_answer_bytes``."""
        limit = self.max_answer_bytes
        if resp.content_length is not None and resp.content_length > limit:
            resp.close()
            raise RpcError(
                f"{where}: an answer of {size_text(resp.content_length)} refused, "
                f"over the {size_text(limit)} limit; {FRAME_HINT}",
                transport="oversize",
            )
        buf = bytearray()
        async for chunk in resp.content.iter_chunked(READ_CHUNK):
            buf += chunk
            if len(buf) > limit:
                resp.close()
                raise RpcError(
                    f"{where}: an answer of more than {size_text(limit)} refused; {FRAME_HINT}",
                    transport="oversize",
                )
        return buf

    @staticmethod
    def result_of(msg: Any, where: str) -> Any:
        """A JSON-RPC answer's ``result``, or its error as :class:`RpcError` (a rate limit
        flagged), as every client of this module reads one."""
        if not isinstance(msg, dict):
            raise RpcError(f"{where}: the answer is not a JSON-RPC object")
        err = msg.get("error")
        if err is not None:
            code = err.get("code") if isinstance(err, dict) else None
            text = err.get("message", err) if isinstance(err, dict) else err
            limited = isinstance(code, int) and code in RATE_LIMIT_CODES
            raise RpcError(
                f"{where}: error {code}: {text}" + (" (rate limited)" if limited else ""),
                code if isinstance(code, int) else None,
                err.get("data") if isinstance(err, dict) else None,
                rate_limited=limited,
                transient=code in TRANSIENT_CODES,
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
            *(self._call("getMultipleAccounts", [c, cfg], self._accounts(c)) for c in chunks)
        )
        out: dict[str, RawAccount | None] = {}
        for got, _ in answers:
            out.update(got)
        return out

    def _accounts(
        self, keys: list[str]
    ) -> Callable[[Any, Pace], Steps[dict[str, RawAccount | None]]]:
        """The decoder of one ``getMultipleAccounts`` answer for ``keys`` (RpcError when
        the answer is malformed)."""

        def decode(res: Any, pace: Pace) -> Steps[dict[str, RawAccount | None]]:
            try:
                slot = int(res["context"]["slot"])
                values = res["value"]
                if not isinstance(values, list) or len(values) != len(keys):
                    raise TypeError("value is not one entry per key")
                out: dict[str, RawAccount | None] = {}
                for i, (k, v) in enumerate(zip(keys, values)):
                    out[k] = None if v is None else _account(v, slot)
                    values[i] = None  # each entry freed as it is decoded, not all at the end
                    if pace.due():
                        yield
                return out
            except (KeyError, TypeError, ValueError, binascii.Error) as exc:
                raise RpcError(f"getMultipleAccounts at {self.shown}: bad answer ({exc})") from None

        return decode

    async def get_program_accounts(
        self,
        program: str,
        *,
        data_size: int | None = None,
        memcmp: Sequence[tuple[int, bytes]] = (),
        data_slice: tuple[int, int] | None = None,
        commitment: str = "confirmed",
        compress: bool = True,
    ) -> dict[str, RawAccount]:
        """Every account ``program`` owns that matches all filters (``data_size``: the
        data's length in bytes; ``memcmp``: ``(offset, bytes)`` pairs that must appear at
        that byte offset), by address; ``data_slice`` ``(offset, length)`` returns only
        those bytes of each account. Data travels zstd-compressed unless ``compress`` is
        False. A node takes at most 4 filters of at most 128 bytes each: more is a
        ValueError here, before anything is sent."""
        why = address_problem(program)
        if why:
            raise ValueError(f"getProgramAccounts: {program!r} is not a program id ({why})")
        filters: list[dict[str, Any]] = []
        if data_size is not None:
            if not 0 <= data_size <= MAX_ACCOUNT_BYTES:
                raise ValueError(
                    f"getProgramAccounts: data_size {data_size} is not an "
                    f"account size (0 to {MAX_ACCOUNT_BYTES} bytes)"
                )
            filters.append({"dataSize": data_size})
        b58 = engine_rs.backend().b58encode
        for offset, raw in memcmp:
            if offset < 0 or not 0 < len(raw) <= MAX_MEMCMP_BYTES:
                raise ValueError(
                    f"getProgramAccounts: memcmp at offset {offset} of {len(raw)} bytes "
                    f"(1 to {MAX_MEMCMP_BYTES} bytes at offset >= 0)"
                )
            filters.append({"memcmp": {"offset": offset, "bytes": str(b58(bytes(raw)))}})
        if len(filters) > MAX_FILTERS:
            raise ValueError(
                f"getProgramAccounts: {len(filters)} filters, a node takes {MAX_FILTERS}"
            )
        cfg: dict[str, Any] = {
            "encoding": "base64+zstd" if compress else "base64",
            "commitment": commitment,
            "withContext": True,
        }
        if filters:
            cfg["filters"] = filters
        if data_slice is not None:
            cfg["dataSlice"] = {"offset": data_slice[0], "length": data_slice[1]}
        got, _ = await self._call("getProgramAccounts", [program, cfg], self._keyed_accounts)
        accounts: dict[str, RawAccount] = got
        return accounts

    def _keyed_accounts(self, res: Any, pace: Pace) -> Steps[dict[str, RawAccount]]:
        """A ``getProgramAccounts`` answer (with context), decoded."""
        try:
            slot = int(res["context"]["slot"])
            values = res["value"]
            if not isinstance(values, list):
                raise TypeError("value is not a list")
            out: dict[str, RawAccount] = {}
            for i, v in enumerate(values):
                out[str(v["pubkey"])] = _account(v["account"], slot)
                values[i] = None  # each entry freed as it is decoded, not all at the end
                if pace.due():
                    yield
            return out
        except (KeyError, TypeError, ValueError, binascii.Error, zstandard.ZstdError) as exc:
            raise RpcError(f"getProgramAccounts at {self.shown}: bad answer ({exc})") from None

    async def get_recent_prioritization_fees(
        self, addresses: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        """``(slot, micro-lamports per CU)`` for the node's recent slots."""
        res = await self.call("getRecentPrioritizationFees", [list(addresses)] if addresses else [])
        try:
            return [(int(x["slot"]), int(x["prioritizationFee"])) for x in res]
        except (KeyError, TypeError, ValueError):
            raise RpcError(f"getRecentPrioritizationFees at {self.shown}: bad answer") from None

    async def get_epoch_schedule(self) -> EpochSchedule:
        """The cluster's epoch schedule (``getEpochSchedule``: from its genesis, the same
        at every commitment)."""
        res = await self.call("getEpochSchedule")
        try:
            fields = (
                res["slotsPerEpoch"],
                res["leaderScheduleSlotOffset"],
                res["firstNormalEpoch"],
                res["firstNormalSlot"],
            )
            warmup = res["warmup"]
            if not isinstance(warmup, bool) or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 64 for v in fields
            ):
                raise TypeError("a field is not a u64 / bool")
        except (KeyError, TypeError):
            raise RpcError(f"getEpochSchedule at {self.shown}: bad answer {res!r}"[:300]) from None
        spe, offset, epoch, slot = fields
        return EpochSchedule(spe, offset, warmup, epoch, slot)

    async def get_slot(self, commitment: str = "confirmed") -> int:
        res = await self.call("getSlot", [{"commitment": commitment}])
        if not isinstance(res, int) or isinstance(res, bool):
            raise RpcError(f"getSlot at {self.shown}: bad answer {res!r}")
        return res

    # ------------------------------------------------------------ execution
    async def get_version(self) -> dict[str, Any]:
        res = await self.call("getVersion")
        if not isinstance(res, dict):
            raise RpcError(f"getVersion at {self.shown}: bad answer")
        return res

    async def get_latest_blockhash(self, commitment: str = "confirmed") -> tuple[str, int]:
        """(blockhash, lastValidBlockHeight)."""
        res = await self.call("getLatestBlockhash", [{"commitment": commitment}])
        try:
            v = res["value"]
            return str(v["blockhash"]), int(v["lastValidBlockHeight"])
        except (KeyError, TypeError, ValueError):
            raise RpcError(f"getLatestBlockhash at {self.shown}: bad answer") from None

    async def get_block_height(self, commitment: str = "confirmed") -> int:
        res = await self.call("getBlockHeight", [{"commitment": commitment}])
        if not isinstance(res, int) or isinstance(res, bool):
            raise RpcError(f"getBlockHeight at {self.shown}: bad answer {res!r}")
        return res

    async def get_balance(self, pubkey: str, commitment: str = "confirmed") -> int:
        res = await self.call("getBalance", [pubkey, {"commitment": commitment}])
        try:
            return int(res["value"])
        except (KeyError, TypeError, ValueError):
            raise RpcError(f"getBalance at {self.shown}: bad answer") from None

    async def simulate_transaction(
        self,
        tx_b64: str,
        accounts: Sequence[str] = (),
        sig_verify: bool = True,
        commitment: str = "processed",
    ) -> dict[str, Any]:
        """``simulateTransaction``'s ``value`` (err, logs, unitsConsumed, accounts, fee)."""
        cfg: dict[str, Any] = {
            "encoding": "base64",
            "commitment": commitment,
            "sigVerify": sig_verify,
        }
        if accounts:
            cfg["accounts"] = {"addresses": list(accounts), "encoding": "base64"}
        res = await self.call("simulateTransaction", [tx_b64, cfg])
        if not isinstance(res, dict) or not isinstance(res.get("value"), dict):
            raise RpcError(f"simulateTransaction at {self.shown}: bad answer")
        value: dict[str, Any] = res["value"]
        return value

    async def simulate_bundle(
        self,
        txs_b64: Sequence[str],
        post_accounts: Sequence[Sequence[str] | None] = (),
        sig_verify: bool = True,
    ) -> dict[str, Any]:
        """Jito's ``simulateBundle`` (a jito-solana node's method): the transactions in
        order, each on the state the earlier ones left; the ``value`` (``summary``,
        ``transactionResults`` with the accounts of ``post_accounts[i]`` after
        transaction ``i``). ``RpcError`` with code -32601 where the node has no such
        method (a plain Agave node)."""
        posts = list(post_accounts) or [None] * len(txs_b64)
        cfg = {
            "preExecutionAccountsConfigs": [None] * len(txs_b64),
            "postExecutionAccountsConfigs": [
                None if a is None else {"addresses": list(a), "encoding": "base64"} for a in posts
            ],
            "skipSigVerify": not sig_verify,
        }
        res = await self.call("simulateBundle", [{"encodedTransactions": list(txs_b64)}, cfg])
        if not isinstance(res, dict) or not isinstance(res.get("value"), dict):
            raise RpcError(f"simulateBundle at {self.shown}: bad answer")
        value: dict[str, Any] = res["value"]
        return value

    @staticmethod
    def send_params(tx_b64: str, skip_preflight: bool = True) -> list[Any]:
        """``sendTransaction``'s params for a base64 transaction (no retries by the node:
        the executor follows and resends itself). A preflight runs at ``confirmed``, the
        commitment arbscope's blockhashes come from: a node's default, ``finalized``,
        refuses a newer blockhash ("Blockhash not found") and a lookup table naming its
        root's slot ("not a recent slot")."""
        cfg: dict[str, Any] = {"encoding": "base64", "skipPreflight": skip_preflight}
        if not skip_preflight:
            cfg["preflightCommitment"] = "confirmed"
        cfg["maxRetries"] = 0
        return [tx_b64, cfg]

    async def send_transaction(
        self, tx_b64: str, skip_preflight: bool = True, written: list[int] | None = None
    ) -> str:
        """``sendTransaction``: the signature the node answers (``written``: see
        :meth:`call`)."""
        res = await self.call("sendTransaction", self.send_params(tx_b64, skip_preflight), written)
        if not isinstance(res, str):
            raise RpcError(f"sendTransaction at {self.shown}: bad answer")
        return res

    async def get_signature_statuses(self, signatures: Sequence[str]) -> list[Any]:
        res = await self.call("getSignatureStatuses", [list(signatures)])
        try:
            value = res["value"]
        except (KeyError, TypeError):
            raise RpcError(f"getSignatureStatuses at {self.shown}: bad answer") from None
        if not isinstance(value, list):
            raise RpcError(f"getSignatureStatuses at {self.shown}: bad answer")
        return value


PACE_MARGIN = 1.15  # requests to a rate-limited engine go this much wider apart than its
# rate: the engine counts them when they arrive, and their trip there varies


class JitoClient:
    """A Jito block engine (spec §5.4): ``base_url`` such as
    ``https://mainnet.block-engine.jito.wtf``; bundles go to ``/api/v1/bundles``."""

    def __init__(
        self, base_url: str, timeout_s: float = 5.0, ca_file: str | None = None, rps: float = 0.0
    ) -> None:
        # ``rps``: the engine's rate limit (Jito's default: 1 request a second per IP and
        # region); every request is paced a little wider than that (0: not paced)
        gate = RateGate(interval_s=PACE_MARGIN / rps if rps > 0 else 0.0)
        self.rpc = RpcClient(
            base_url.rstrip("/") + "/api/v1/bundles", timeout_s, ca_file=ca_file, gate=gate
        )
        self.shown = self.rpc.shown

    async def close(self) -> None:
        await self.rpc.close()

    async def send_bundle(self, txs_b64: Sequence[str], written: list[int] | None = None) -> str:
        res = await self.rpc.call("sendBundle", [list(txs_b64), {"encoding": "base64"}], written)
        if not isinstance(res, str):
            raise RpcError(f"sendBundle at {self.shown}: bad answer")
        return res

    async def inflight_status(self, bundle_id: str) -> str:
        """``Invalid`` | ``Pending`` | ``Failed`` | ``Landed``."""
        res = await self.rpc.call("getInflightBundleStatuses", [[bundle_id]])
        try:
            return (
                str(res["value"][0]["status"]) if isinstance(res, dict) else str(res[0]["status"])
            )
        except (KeyError, TypeError, IndexError):
            raise RpcError(f"getInflightBundleStatuses at {self.shown}: bad answer") from None


def _account(v: dict[str, Any], slot: int) -> RawAccount:
    """An account object with base64 or base64+zstd data (decompressed to at most the
    largest account a node holds)."""
    data = v["data"]
    if not isinstance(data, list) or len(data) != 2 or data[1] not in ("base64", "base64+zstd"):
        raise ValueError("data is not base64")
    raw = base64.b64decode(data[0], validate=True)
    if data[1] == "base64+zstd":
        raw = zstandard.ZstdDecompressor().decompress(raw, max_output_size=MAX_ACCOUNT_BYTES)
    return RawAccount(str(v["owner"]), raw, int(v["lamports"]), slot)


def _clean(text: str, url: str) -> str:
    from ..redact import scrub

    return scrub(text, url)
