"""The feed hot path: raw PubSub frame in, graph updated (twin of
``crates/core/src/ingest.rs``).

``FeedIngest.frame(endpoint, frame, recv_ns)`` takes the frame's bytes exactly as the
socket delivered them and does everything in one call: JSON parse, base64, the
endpoint-independent dedup key (first copy wins; later copies only update that
endpoint's lead/lag), the decode of the account, the assembly of the pool it belongs to
(AMM v4 and CP-Swap reserves from the vault balances minus the amounts that are not
reserves; Whirlpool ticks from its tick arrays), and the upsert into the
``PoolGraph``. The pools whose graph state changed are collected for
``take_changed()``, so the caller re-evaluates each pool once however many updates
arrived.

Roles: the caller registers the pools it watches (``track_pool``) and the tick arrays
it derived (``track_tick_array``); a pool account, once decoded, registers its own
vaults (and a CP-Swap pool its ``AmmConfig``). ``account()`` feeds an account without
dedup (the ``getMultipleAccounts`` snapshot). ``bind(endpoint, subscription, label,
kind)`` maps a server's subscription id to what it watches.

Errors: a frame that is not JSON-RPC PubSub raises ``FrameError``; an account that does
not decode (wrong owner, size, discriminator, or a vault of the wrong mint) raises a
``DecodeError``; an impossible pool state (a vault below its fees, a zero reserve)
raises ``InvalidInputError``; the pool then leaves the graph until a good update comes.
Its dedup key covers owner and data, so a bad copy never hides a good one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from dataclasses import dataclass, field
from typing import Any

from ..decoded import pool_mints
from ..errors import DecodeError, EngineError, FrameError, InvalidInputError
from ..records import DedupStats, IngestStats
from . import accounts as A
from .dedup import Deduper
from .pda import _id32

POOL_KINDS = ("amm_v4", "cpmm", "whirlpool")
SUB_KINDS = ("account", "logs", "slot")
CPMM_FEE_DEN = 1_000_000
_COUNTER = {"account": "accounts", "logs": "logs", "slot": "slots"}
_RAY_LOG = "Program log: ray_log: "
_PROGRAM_DATA = "Program data: "


@dataclass(slots=True)
class _Pool:
    kind: str
    record: Any = None
    vault_a: int | None = None
    vault_b: int | None = None
    fee_rate: int | None = None  # CP-Swap: the AmmConfig's trade_fee_rate
    arrays: dict[str, tuple[int, list[tuple[int, int]]]] = field(default_factory=dict)
    in_graph: bool = False


def _frame_error(what: str) -> FrameError:
    return FrameError(what)


def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _frame_error(f"{where}: expected an object")
    return v


def _uint(d: dict[str, Any], key: str, where: str) -> int:
    v = d.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 1 << 64:
        raise _frame_error(f"{where}.{key}: expected a u64")
    return v


def _str(d: dict[str, Any], key: str, where: str) -> str:
    v = d.get(key)
    if not isinstance(v, str):
        raise _frame_error(f"{where}.{key}: expected a string")
    return v


class FeedIngest:
    """Frames in, graph updated (see the module docstring)."""

    def __init__(self, graph: Any, capacity: int = 65_536, lag_window: int = 4_096) -> None:
        self._graph = graph
        self._dedup = Deduper(capacity, lag_window)
        self._roles: dict[str, list[tuple[str, str]]] = {}
        self._subs: dict[tuple[int, int], tuple[str, str]] = {}
        self._pools: dict[str, _Pool] = {}
        self._changed: dict[str, None] = {}
        self._n = dict.fromkeys(
            ("frames", "notifications", "first_copies", "duplicates", "accounts", "logs",
             "slots", "swaps", "unknown", "pool_updates"), 0,
        )  # fmt: skip
        self._slot = 0

    # ------------------------------------------------------------ registration
    def _role(self, pubkey: str, role: str, pool: str) -> None:
        roles = self._roles.setdefault(pubkey, [])
        if (role, pool) not in roles:
            roles.append((role, pool))

    def track_pool(self, address: str, kind: str) -> None:
        """Watch the pool at ``address`` (``kind``: amm_v4, cpmm or whirlpool); tracking
        it again as another kind is an error."""
        if kind not in POOL_KINDS:
            raise InvalidInputError(f"pool kind {kind!r} is not one of {POOL_KINDS}")
        _address(address)
        if address not in self._pools:
            self._pools[address] = _Pool(kind)
        elif self._pools[address].kind != kind:
            have = self._pools[address].kind
            raise InvalidInputError(f"pool {address} is tracked as {have}, not {kind}")
        self._role(address, kind, address)

    def track_tick_array(self, address: str, whirlpool: str) -> None:
        """Watch a tick array of a tracked Whirlpool."""
        _address(address)
        p = self._pools.get(whirlpool)
        if p is None or p.kind != "whirlpool":
            raise InvalidInputError(f"{whirlpool} is not a tracked whirlpool")
        self._role(address, "tick_array", whirlpool)

    def watched(self) -> list[str]:
        """Every account it knows a role for (what to subscribe to), in the order
        they became known."""
        return list(self._roles)

    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None:
        """Server subscription id ``subscription`` of ``endpoint`` delivers ``kind``
        notifications (account, logs, slot) about ``label`` (a pubkey, or "slot")."""
        if kind not in SUB_KINDS:
            raise InvalidInputError(f"subscription kind {kind!r} is not one of {SUB_KINDS}")
        key = (_u16(endpoint), _u64(subscription))
        if kind == "account" and not isinstance(label, str):
            raise TypeError(
                f"label: an account subscription needs a pubkey str, got {type(label).__name__}"
            )
        self._subs[key] = (kind, label)

    def unbind(self, endpoint: int) -> None:
        """Forget every subscription id of ``endpoint`` (its connection closed)."""
        ep = _u16(endpoint)
        for k in [k for k in self._subs if k[0] == ep]:
            del self._subs[k]

    # ------------------------------------------------------------ the hot path
    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        """One raw frame from ``endpoint``; the subscription id of a notification, or
        -1 for anything else (a response: the caller's id book handles it)."""
        ep = _u16(endpoint)
        if not isinstance(frame, (bytes, bytearray, memoryview, str)):
            raise TypeError(f"frame: expected bytes, got {type(frame).__name__}")
        self._n["frames"] += 1
        if isinstance(frame, memoryview):
            frame = frame.tobytes()  # json.loads takes str, bytes and bytearray only
        try:
            msg = json.loads(frame)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise _frame_error("frame is not JSON") from None
        msg = _obj(msg, "frame")
        if msg.get("jsonrpc") != "2.0":
            raise _frame_error("frame is not JSON-RPC 2.0")
        method = msg.get("method")
        if method is None:
            return -1
        if not isinstance(method, str):
            raise _frame_error("frame.method: expected a string")
        params = _obj(msg.get("params"), "params")
        sub = _uint(params, "subscription", "params")
        result = _obj(params.get("result"), "params.result")
        bound = self._subs.get((ep, sub))
        if method == "slotNotification":
            slot = _uint(result, "slot", "slot")
            self._notified(ep, b"slot" + struct.pack("<Q", slot), recv_ns, bound, "slot")
            return sub
        if method not in ("accountNotification", "logsNotification"):
            raise _frame_error(f"unknown method {method!r}")
        slot = _uint(_obj(result.get("context"), "result.context"), "slot", "context")
        value = _obj(result.get("value"), "result.value")
        if method == "accountNotification":
            owner = _str(value, "owner", "account")
            data = value.get("data")
            if (
                not isinstance(data, list) or len(data) != 2
                or not isinstance(data[0], str) or data[1] != "base64"
            ):  # fmt: skip
                raise _frame_error('account.data: expected [<base64>, "base64"]')
            try:
                raw = base64.b64decode(data[0], validate=True)
            except (binascii.Error, ValueError):
                raise _frame_error("account.data: not base64") from None
            if bound is None or bound[0] != "account":
                self._n["unknown"] += 1
                return sub
            pubkey = bound[1]
            digest = hashlib.blake2b(_utf8(owner) + b"\0" + raw, digest_size=16).digest()
            key = _utf8(pubkey) + struct.pack("<Q", slot) + digest
            if self._notified(ep, key, recv_ns, bound, "account"):
                self.account(pubkey, owner, raw, slot)
            return sub
        signature = _str(value, "signature", "logs")
        logs = value.get("logs")
        if not isinstance(logs, list) or not all(isinstance(x, str) for x in logs):
            raise _frame_error("logs.logs: expected a list of strings")
        failed = value.get("err") is not None
        key = _utf8(signature) + (b"!" if failed else b"")
        if self._notified(ep, key, recv_ns, bound, "logs") and not failed:
            for line in logs:
                try:
                    if line.startswith(_RAY_LOG):
                        ev: Any = A.parse_ray_log(line[len(_RAY_LOG) :])
                    elif line.startswith(_PROGRAM_DATA):
                        ev = A.parse_program_data(line[len(_PROGRAM_DATA) :])
                    else:
                        continue
                except DecodeError:
                    continue  # the program's own text lines share the prefixes
                if ev is not None:
                    self._n["swaps"] += 1
        return sub

    def _notified(
        self, ep: int, key: bytes, recv_ns: int, bound: tuple[str, str] | None, kind: str
    ) -> bool:
        """Count a notification; True when it is the first copy of one we watch."""
        if bound is None or bound[0] != kind:
            self._n["unknown"] += 1
            return False
        self._n["notifications"] += 1
        if not self._dedup.accept(key, ep, recv_ns):
            self._n["duplicates"] += 1
            return False
        self._n["first_copies"] += 1
        self._n[_COUNTER[kind]] += 1
        if kind == "slot":
            slot = struct.unpack_from("<Q", key, 4)[0]
            if slot > self._slot:
                self._slot = slot
                self._graph.set_slot(slot)
        return True

    # ------------------------------------------------------------ accounts
    def account(self, pubkey: str, owner: str, data: bytes, slot: int) -> bool:
        """Apply one account's bytes (no dedup): decode it in each of its roles and
        refresh the pools it belongs to. False when no role is known for it."""
        roles = self._roles.get(pubkey)
        if not roles:
            return False
        for role, pool_id in list(roles):
            p = self._pools[pool_id]
            if role in POOL_KINDS:
                self._pool_account(pubkey, role, p, owner, data)
                self._refresh(pool_id, p, slot)
            elif role in ("vault_a", "vault_b"):
                acc = A.decode_token_account(data, owner)
                want = self._mints(p)[0 if role == "vault_a" else 1]
                if acc.mint != want:
                    self._drop(pool_id, p)
                    raise DecodeError(
                        f"vault {pubkey} holds mint {acc.mint}, pool {pool_id} trades {want}"
                    )
                if role == "vault_a":
                    p.vault_a = acc.amount
                else:
                    p.vault_b = acc.amount
                self._refresh(pool_id, p, slot)
            elif role == "config":
                p.fee_rate = A.decode_raydium_amm_config(data, owner).trade_fee_rate
                self._refresh(pool_id, p, slot)
            elif role == "tick_array":
                ta = A.decode_tick_array(data, owner)
                if ta.whirlpool != pool_id:
                    raise DecodeError(
                        f"tick array {pubkey} belongs to {ta.whirlpool}, not {pool_id}"
                    )
                p.arrays[pubkey] = (ta.start_tick_index, [(i, net) for i, net, _ in ta.ticks])
                self._refresh(pool_id, p, slot)
        return True

    def _pool_account(self, pubkey: str, kind: str, p: _Pool, owner: str, data: bytes) -> None:
        if kind == "amm_v4":
            rec: Any = A.decode_raydium_amm_v4(data, owner)
            vaults = (rec.coin_vault, rec.pc_vault)
        elif kind == "cpmm":
            rec = A.decode_raydium_cpmm(data, owner)
            vaults = (rec.token_0_vault, rec.token_1_vault)
            self._role(rec.amm_config, "config", pubkey)
        else:
            rec = A.decode_whirlpool(data, owner)
            vaults = (rec.token_vault_a, rec.token_vault_b)
        old = p.record
        p.record = rec
        if old is not None and self._mints(p) != pool_mints(kind, old):
            p.vault_a = p.vault_b = None  # the pool was re-initialised: wait for vaults
        self._role(vaults[0], "vault_a", pubkey)
        self._role(vaults[1], "vault_b", pubkey)

    def _mints(self, p: _Pool) -> tuple[str, str]:
        return pool_mints(p.kind, p.record)

    def _drop(self, pool_id: str, p: _Pool) -> None:
        if p.in_graph:
            self._graph.remove_pool(pool_id)
            p.in_graph = False
            self._changed[pool_id] = None

    def _refresh(self, pool_id: str, p: _Pool, slot: int) -> None:
        """Upsert the pool when everything it needs is known."""
        r = p.record
        if r is None:
            return
        a, b = self._mints(p)
        try:
            if p.kind == "whirlpool":
                ts = r.tick_spacing
                ticks = sorted(
                    (start + i * ts, net) for start, arr in p.arrays.values() for i, net in arr
                )
                self._graph.upsert_clmm(
                    pool_id, a, b, r.sqrt_price, r.liquidity, r.tick_current_index, ts,
                    r.fee_rate, ticks, slot,
                )  # fmt: skip
            else:
                if p.vault_a is None or p.vault_b is None:
                    return
                if p.kind == "amm_v4":
                    held = (r.need_take_pnl_coin, r.need_take_pnl_pc)
                    fee = (r.swap_fee_numerator, r.swap_fee_denominator)
                else:
                    if p.fee_rate is None:
                        return
                    held = (
                        r.protocol_fees_token_0 + r.fund_fees_token_0 + r.creator_fees_token_0,
                        r.protocol_fees_token_1 + r.fund_fees_token_1 + r.creator_fees_token_1,
                    )
                    fee = (p.fee_rate, CPMM_FEE_DEN)
                ra, rb = p.vault_a - held[0], p.vault_b - held[1]
                if ra <= 0 or rb <= 0:
                    raise InvalidInputError(
                        f"pool {pool_id}: vaults ({p.vault_a}, {p.vault_b}) do not cover "
                        f"the amounts that are not reserves ({held[0]}, {held[1]})"
                    )
                self._graph.upsert_cpmm(pool_id, a, b, ra, rb, fee[0], fee[1], slot)
        except EngineError:
            self._drop(pool_id, p)
            raise
        p.in_graph = True
        self._n["pool_updates"] += 1
        self._changed[pool_id] = None

    # ------------------------------------------------------------ results
    def take_changed(self) -> list[str]:
        """Pools whose graph state changed since the last call, first change first."""
        out = list(self._changed)
        self._changed.clear()
        return out

    def stats(self) -> IngestStats:
        return IngestStats(**self._n, slot=self._slot)

    def dedup_stats(self) -> list[DedupStats]:
        """Lead/lag per endpoint (``Deduper.stats``)."""
        return self._dedup.stats()

    def whirlpools(self) -> list[tuple[str, Any]]:
        """``(address, decoded Whirlpool)`` of every tracked Whirlpool decoded so far."""
        return [
            (k, p.record)
            for k, p in self._pools.items()
            if p.kind == "whirlpool" and p.record is not None
        ]

    @property
    def slot(self) -> int:
        return self._slot


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8; the lone surrogates JSON can carry ("\\ud800") as their 3-byte
    forms, so no text fails to encode."""
    return text.encode("utf-8", "surrogatepass")


def _address(address: object) -> None:
    """A tracked address: a base58 ``str`` of 32 bytes (other forms ``_id32`` reads raise
    its errors, or TypeError: the tables are keyed by the text)."""
    _id32(address, "address")
    if not isinstance(address, str):
        raise TypeError(f"address: expected a base58 str, got {type(address).__name__}")


def _u16(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"expected an int, got {type(v).__name__}")
    if not 0 <= v <= 0xFFFF:
        raise InvalidInputError(f"endpoint must be within 0..=65535, got {v}")
    return v


def _u64(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"expected an int, got {type(v).__name__}")
    if not 0 <= v < 1 << 64:
        raise InvalidInputError(f"subscription id must be a u64, got {v}")
    return v
