"""Solana JSON-RPC PubSub messages (spec §5.1): requests, subscription bookkeeping and
frame parsing, with no I/O. The feed workers and the simulator both speak through this
module, so what the simulator sends is parsed by the very code that parses a real node.

Every parse either returns a typed frame or raises :class:`ProtocolError` with a message
that says what was wrong: a malformed frame never escapes as a KeyError or TypeError.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass, field
from typing import Any

from engine_rs.errors import FrameError

COMMITMENTS = ("processed", "confirmed", "finalized")


class ProtocolError(FrameError):
    """A frame that is not valid JSON-RPC PubSub, or not what its method promises."""


# ------------------------------------------------------------------ requests
@dataclass(frozen=True, slots=True)
class Subscription:
    """One subscription as asked for: enough to send it again after a reconnect."""

    method: str  # accountSubscribe | logsSubscribe | slotSubscribe
    params: tuple[Any, ...] = ()
    label: str = ""  # what it watches (a pubkey), for keys and health
    # the request frame after its id (``request``'s bytes, rendered once: a session
    # sends each subscription to every endpoint, again on every reconnect)
    tail: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        frame = request(0, self.method, self.params)
        object.__setattr__(self, "tail", frame[len(_HEAD) + 1 :])

    def frame(self, id_: int) -> str:
        """The request frame asking for this subscription with ``id_``: exactly
        ``request(id_, method, params)``."""
        return f"{_HEAD}{id_}{self.tail}"

    @property
    def unsubscribe_method(self) -> str:
        return self.method.replace("Subscribe", "Unsubscribe")

    @property
    def notification(self) -> str:
        return self.method.replace("Subscribe", "Notification")


def account_subscription(
    pubkey: str, commitment: str = "confirmed", encoding: str = "base64"
) -> Subscription:
    """``accountSubscribe`` for ``pubkey`` (base64 data by default)."""
    if commitment not in COMMITMENTS:
        raise ValueError(f"commitment must be one of {COMMITMENTS}, got {commitment!r}")
    opts = {"encoding": encoding, "commitment": commitment}
    return Subscription("accountSubscribe", (pubkey, opts), pubkey)


def logs_subscription(mentions: str, commitment: str = "confirmed") -> Subscription:
    """``logsSubscribe`` for transactions mentioning one address (nodes accept one)."""
    if commitment not in COMMITMENTS:
        raise ValueError(f"commitment must be one of {COMMITMENTS}, got {commitment!r}")
    return Subscription(
        "logsSubscribe", ({"mentions": [mentions]}, {"commitment": commitment}), mentions
    )


def slot_subscription() -> Subscription:
    """``slotSubscribe``."""
    return Subscription("slotSubscribe", (), "slot")


_HEAD = '{"jsonrpc":"2.0","id":'


def request(id_: int, method: str, params: tuple[Any, ...] | list[Any] = ()) -> str:
    """A JSON-RPC 2.0 request frame."""
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params:
        msg["params"] = list(params)
    return json.dumps(msg, separators=(",", ":"))


ACCOUNT = "accountSubscribe"


@dataclass(slots=True)
class Book:
    """JSON-RPC id bookkeeping for one connection: which request id is which
    subscription, and which server subscription id delivers which notifications. The
    active accounts' labels are counted as they come and go (:meth:`accounts`: the set,
    made again only when it changed, where a walk over ~21,000 active subscriptions at
    3,000 pools took ~4 ms each time the screen's health asked). ``active`` is changed
    through the methods here only."""

    next_id: int = 1
    pending: dict[int, Subscription] = field(default_factory=dict)
    active: dict[int, Subscription] = field(default_factory=dict)  # server id -> sub
    # the active accountSubscribes per label; the set of labels as last made, and
    # whether a label came or went since
    _counts: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _accounts: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _moved: bool = field(default=False, repr=False, compare=False)

    def subscribe(self, sub: Subscription) -> str:
        """The request frame for ``sub``; its id is remembered until answered."""
        i = self.next_id
        self.next_id += 1
        self.pending[i] = sub
        return sub.frame(i)

    def unsubscribe_all(self) -> list[str]:
        """Unsubscribe frames for every active subscription (on shutdown)."""
        frames = []
        for server_id, sub in self.active.items():
            frames.append(request(self.next_id, sub.unsubscribe_method, (server_id,)))
            self.next_id += 1
        return frames

    def answered(self, resp: Response) -> Subscription | None:
        """Record a response: a subscribe's server id becomes active. Returns the
        subscription it answered, or None (an unsubscribe ack or an unknown id)."""
        sub = self.pending.pop(resp.id, None)
        if sub is None:
            return None
        if isinstance(resp.result, bool) or not isinstance(resp.result, int):
            raise ProtocolError(f"{sub.method} answered with {resp.result!r}, not an id")
        was = self.active.get(resp.result)  # (an id the server gave before: replaced)
        if was is not None:
            self._uncount(was)
        self.active[resp.result] = sub
        if sub.method == ACCOUNT:
            counts = self._counts
            n = counts.get(sub.label, 0)
            counts[sub.label] = n + 1
            if not n:
                self._moved = True
        return sub

    def drop(self, server_id: int) -> Subscription | None:
        """``server_id`` is no longer active (unsubscribed); what it was, if anything."""
        sub = self.active.pop(server_id, None)
        if sub is not None:
            self._uncount(sub)
        return sub

    def _uncount(self, sub: Subscription) -> None:
        if sub.method == ACCOUNT:
            counts = self._counts
            n = counts[sub.label] - 1
            if n:
                counts[sub.label] = n
            else:
                del counts[sub.label]
                self._moved = True

    def clear_active(self) -> None:
        """No subscription is active any more (all unsubscribed, or the connection gone)."""
        self.active.clear()
        self._counts.clear()
        self._moved = True

    def accounts(self) -> frozenset[str]:
        """The labels of the active account subscriptions (the same object while they
        are the same)."""
        if self._moved:
            self._moved = False
            now = frozenset(self._counts)
            if now != self._accounts:  # (a label that went and came back: the same set)
                self._accounts = now
        return self._accounts

    def reset(self) -> list[Subscription]:
        """Forget the connection's ids (it closed); returns what to subscribe again."""
        subs = list(self.active.values()) + list(self.pending.values())
        self.pending.clear()
        self.clear_active()
        return subs


# ------------------------------------------------------------------ frames
@dataclass(frozen=True, slots=True)
class Response:
    id: int
    result: Any


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    id: int | None
    code: int
    message: str


@dataclass(frozen=True, slots=True)
class AccountNotification:
    subscription: int
    slot: int
    lamports: int
    owner: str
    data: bytes
    executable: bool
    rent_epoch: int


@dataclass(frozen=True, slots=True)
class LogsNotification:
    subscription: int
    slot: int
    signature: str
    err: Any
    logs: list[str]


@dataclass(frozen=True, slots=True)
class SlotNotification:
    subscription: int
    slot: int
    parent: int
    root: int


Frame = Response | ErrorResponse | AccountNotification | LogsNotification | SlotNotification


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise ProtocolError(f"{where}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise ProtocolError(f"{where}: missing {key!r}")
    v = obj[key]
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise ProtocolError(f"{where}.{key}: expected {getattr(kind, '__name__', kind)}")
    return v


def _int(obj: Any, key: str, where: str) -> int:
    v = _get(obj, key, int, where)
    if isinstance(v, bool) or v < 0:
        raise ProtocolError(f"{where}.{key}: expected a non-negative int, got {v!r}")
    return int(v)


def _account_data(value: dict[str, Any]) -> bytes:
    data = _get(value, "data", list, "account")
    if len(data) != 2 or not all(isinstance(x, str) for x in data):
        raise ProtocolError("account.data: expected [<data>, <encoding>]")
    payload, encoding = data
    if encoding != "base64":
        raise ProtocolError(f"account.data: encoding {encoding!r} (subscribe with base64)")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("account.data: not base64") from None


def account_notification(subscription: int, slot: int, value_json: str) -> str:
    """An ``accountNotification`` frame as a node sends it (``value_json``: the account's
    JSON ``value``, base64 data), for the simulator and the benchmarks."""
    return (
        '{"jsonrpc":"2.0","method":"accountNotification","params":{"result":{"context":'
        f'{{"slot":{slot}}},"value":{value_json}}},"subscription":{subscription}}}}}'
    )


def parse_frame(frame: str | bytes) -> Frame:
    """One PubSub frame (text or bytes) as a typed frame; :class:`ProtocolError` when
    it is not valid JSON-RPC or lacks what its method promises."""
    try:
        msg = json.loads(frame)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ProtocolError(f"not JSON: {str(exc)[:200]}") from None
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
        raise ProtocolError("not a JSON-RPC 2.0 message")
    if "error" in msg:
        err = _get(msg, "error", dict, "error response")
        code = err.get("code", 0)
        rid = msg.get("id")
        return ErrorResponse(
            rid if isinstance(rid, int) and not isinstance(rid, bool) else None,
            code if isinstance(code, int) and not isinstance(code, bool) else 0,
            str(err.get("message", "")),
        )
    if "id" in msg and "method" not in msg:
        rid = msg["id"]
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise ProtocolError(f"response id {rid!r} is not an int")
        if "result" not in msg:
            raise ProtocolError("response without result")
        return Response(rid, msg["result"])
    method = msg.get("method")
    params = _get(msg, "params", dict, "notification")
    sub = _int(params, "subscription", "params")
    result = params.get("result")
    if method == "slotNotification":
        return SlotNotification(
            sub,
            _int(result, "slot", "slot"),
            _int(result, "parent", "slot"),
            _int(result, "root", "slot"),
        )
    if method in ("accountNotification", "logsNotification"):
        ctx = _get(result, "context", dict, "result")
        slot = _int(ctx, "slot", "context")
        value = _get(result, "value", dict, "result")
        if method == "accountNotification":
            return AccountNotification(
                sub,
                slot,
                _int(value, "lamports", "account"),
                _get(value, "owner", str, "account"),
                _account_data(value),
                bool(value.get("executable", False)),
                _rent_epoch(value.get("rentEpoch", 0)),
            )
        logs = _get(value, "logs", list, "logs")
        if not all(isinstance(x, str) for x in logs):
            raise ProtocolError("logs.logs: expected strings")
        return LogsNotification(
            sub, slot, _get(value, "signature", str, "logs"), value.get("err"), logs
        )
    raise ProtocolError(f"unknown method {method!r}")


def _rent_epoch(v: Any) -> int:
    # u64::MAX arrives as a float-looking 18446744073709551615 from some nodes
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProtocolError(f"account.rentEpoch: expected a number, got {v!r}")
    return int(v)


# ------------------------------------------------------------------ dedup keys
def account_key(pubkey: str, slot: int, data: bytes) -> bytes:
    """Dedup key of an account update: ``pubkey ‖ slot ‖ 8 bytes of blake2b(data)``
    (two writes in one slot stay distinct; the subscription id is not in it, since it
    differs per endpoint)."""
    import hashlib

    digest = hashlib.blake2b(data, digest_size=8).digest()
    return pubkey.encode() + struct.pack("<Q", slot) + digest


def logs_key(signature: str, failed: bool) -> bytes:
    """Dedup key of a logs notification: the signature (and whether it failed)."""
    return signature.encode() + (b"!" if failed else b"")


def slot_key(slot: int) -> bytes:
    """Dedup key of a slot notification."""
    return b"slot" + struct.pack("<Q", slot)
