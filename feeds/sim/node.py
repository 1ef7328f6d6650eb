"""What a Solana node's JSON-RPC does with parameters and accounts, as rules without I/O:
the simulator's server (:mod:`feeds.sim.server`) answers through them so that clients
written by other people meet the shapes, limits and error wording of a node.

Sources (Agave v3.1, ``rpc/src/rpc.rs``, ``rpc-client-types/src/filter.rs`` and
``custom_error.rs``, ``account-decoder/src/lib.rs`` and ``parse_token.rs``; jsonrpc-core
for the generic errors):

- **Pubkeys, signatures, hashes** parse as ``Pubkey::from_str`` does: more than 44
  characters (88 for a signature) or the wrong decoded length is ``WrongSize``, a
  character outside base58 ``Invalid``; the node answers -32602 ``Invalid param: <that>``.
- **Parameters** that do not deserialize answer -32602 ``Invalid params: <serde's
  message>.``; a missing required one ```params` should have at least N argument(s)``.
- **Commitment** is one of ``processed``, ``confirmed``, ``finalized`` (the default);
  ``minContextSlot`` above the context slot is -32016 ``Minimum context slot has not been
  reached`` with ``data.contextSlot``.
- **Accounts** are encoded ``binary`` (a bare base58 string, the default of
  ``getAccountInfo`` and ``getProgramAccounts``), ``base58``, ``base64``,
  ``base64+zstd`` or ``jsonParsed`` (SPL Token accounts and mints, address lookup
  tables, durable nonce accounts; anything else falls back to base64). ``dataSlice``
  cuts the data (``space`` stays the full length); more than 128 bytes of base58 is
  -32600 ``Encoded binary (base 58) data should be less than 128 bytes, please use
  Base64 encoding.``
- **Filters** (``getProgramAccounts``, ``programSubscribe``): at most 4; ``dataSize``,
  ``memcmp`` (``bytes`` in base58 by default or base64 with ``"encoding":"base64"``, at
  most 128 decoded bytes: 175 base58 / 172 base64 characters) and ``tokenAccountState``;
  a bad one is -32602 ``Invalid param: DataTooLarge`` (or the decoder's error).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import zstandard

from ..wire.alt import ALT_PROGRAM
from ..wire.instructions import SPL_TOKEN, SYSTEM_PROGRAM
from . import layouts as L
from .state import Account, rent_epoch

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
INTERNAL_ERROR = -32603
MIN_CONTEXT_SLOT_NOT_REACHED = -32016
MAX_FILTERS = 4  # MAX_GET_PROGRAM_ACCOUNT_FILTERS
MAX_FILTER_BYTES, MAX_FILTER_B58, MAX_FILTER_B64 = 128, 175, 172
MAX_BASE58_BYTES = 128  # account data a node encodes in base58
MAX_PUBKEY_B58, MAX_SIGNATURE_B58 = 44, 88
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
TOKEN_PROGRAMS = frozenset({SPL_TOKEN, TOKEN_2022})
COMMITMENTS = ("processed", "confirmed", "finalized")
ACCOUNT_ENCODINGS = ("binary", "base58", "base64", "jsonParsed", "base64+zstd")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


class RpcFault(Exception):
    """A JSON-RPC error as the node answers it: ``code``, ``message``, optional ``data``."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def invalid_params(message: str) -> RpcFault:
    return RpcFault(INVALID_PARAMS, message)


# ------------------------------------------------------------------ the envelope
# What jsonrpc-core (paritytech/jsonrpc ``core/src/types/request.rs``, ``io.rs``), which
# Agave's RPC and PubSub both hand each message to, makes of a request before any method
# runs. A request is one call or a batch (a JSON array) of calls; a call is, in this
# order, the first shape it fits:
# - a **method call**: only the keys ``jsonrpc``, ``method``, ``params``, ``id``, with a
#   string ``method``, ``jsonrpc`` absent, null or "2.0", ``params`` absent, null, an array
#   or an object, and an ``id`` that is null, an unsigned 64-bit integer or a string. It is
#   answered; without ``"jsonrpc": "2.0"`` the answer is -32600 ``Unsupported JSON-RPC
#   protocol version`` and carries no ``jsonrpc`` key.
# - a **notification**: the same without ``id``. Nothing runs (Solana registers no
#   notification handlers: every method is a method) and nothing is answered.
# - **invalid**: any other object whose ``id``, if present, is a valid id: -32600
#   ``Invalid request`` with that id (null when absent).
# Anything else (invalid JSON, a scalar, an object with a negative, fractional, boolean
# or structured ``id``, a batch with such an element) is -32700 ``Parse error`` for the
# whole request. A batch answers the answers of its calls, in order, leaving out the
# notifications; one with no answers left answers nothing at all. Over HTTP "nothing" is
# 200 with an empty body. An empty array ``[]`` is an empty batch: nothing is answered
# (Agave 3.1.12's HTTP service answers it 200 with an empty body). (A batch element that
# is itself an array is not modelled: it is taken as a parse error.)
_CALL_KEYS = frozenset({"jsonrpc", "method", "params", "id"})
U64_MAX = (1 << 64) - 1


def is_id(value: Any) -> bool:
    """Whether ``value`` deserializes as jsonrpc-core's ``Id`` (null, u64, string)."""
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= U64_MAX


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a request as jsonrpc-core sorts it: ``kind`` is ``method``,
    ``notification`` or ``invalid``; ``params`` is always a list or a dict (absent or null:
    an empty list)."""

    kind: str
    rid: Any = None
    method: str = ""
    params: list[Any] | dict[str, Any] = dataclasses.field(default_factory=list)
    versioned: bool = True  # ``"jsonrpc": "2.0"`` was given


def parse_call(obj: Any) -> Call | None:
    """One call (see the envelope rules above), or None when it is not one at all (the
    whole request is then a parse error)."""
    if not isinstance(obj, dict):
        return None
    version, params, method = obj.get("jsonrpc"), obj.get("params"), obj.get("method")
    shaped = (
        set(obj) <= _CALL_KEYS
        and isinstance(method, str)
        and (version is None or version == "2.0")
        and (params is None or isinstance(params, (list, dict)))
    )
    if shaped and "id" in obj and is_id(obj["id"]):
        return Call(
            "method", obj["id"], str(method), [] if params is None else params, version == "2.0"
        )
    if shaped and "id" not in obj:
        return Call(
            "notification", None, str(method), [] if params is None else params, version == "2.0"
        )
    if "id" not in obj or is_id(obj["id"]):
        return Call("invalid", obj.get("id"))
    return None


def parse_request(body: Any) -> list[Call] | Call | None:
    """A decoded JSON request as jsonrpc-core reads it: one :class:`Call`, a batch (a
    list of them: ``[]`` is an empty batch, answered with nothing), or None for a parse
    error."""
    if isinstance(body, list):
        calls = [parse_call(x) for x in body]
        return None if any(c is None for c in calls) else [c for c in calls if c is not None]
    return parse_call(body)


def error_response(
    rid: Any, code: int, message: str, data: Any = None, versioned: bool = True
) -> dict[str, Any]:
    """A JSON-RPC failure as jsonrpc-core writes it (``data`` only when there is one;
    ``jsonrpc`` only when the call gave it)."""
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    out: dict[str, Any] = {"jsonrpc": "2.0"} if versioned else {}
    out.update(error=err, id=rid)
    return out


def answer_call(
    call: Call, run: Callable[[str, Any], Any], takes_none: frozenset[str] = frozenset()
) -> dict[str, Any] | None:
    """jsonrpc-core's handling of one call: ``run(method, params)`` for a method call
    (its result, or an :class:`RpcFault`), nothing for a notification. Parameters given
    by name are refused as jsonrpc-derive refuses them (``params`` should be an array),
    except for the methods in ``takes_none``, which get them to refuse with
    :func:`no_params`."""
    if call.kind == "notification":
        return None
    if call.kind == "invalid":
        return error_response(call.rid, INVALID_REQUEST, "Invalid request")
    if not call.versioned:
        return error_response(
            call.rid, INVALID_REQUEST, "Unsupported JSON-RPC protocol version", versioned=False
        )
    try:
        params = call.params
        if isinstance(params, dict) and call.method not in takes_none:
            raise invalid_params("`params` should be an array")  # positional only
        result = run(call.method, params)
    except RpcFault as f:
        return error_response(call.rid, f.code, f.message, f.data)
    return {"jsonrpc": "2.0", "result": result, "id": call.rid}


UNPARSED = object()  # a request body that is not JSON


def answer_body(
    body: Any,
    run: Callable[[str, Any], Any],
    batches: bool = True,
    takes_none: frozenset[str] = frozenset(),
) -> Any:
    """A whole decoded request (:data:`UNPARSED` when it was not JSON) answered as
    jsonrpc-core does: a response object, a list of them (a batch), or None when nothing
    is to be answered. ``batches`` False takes a batch as a parse error (the Jito block
    engine's paths)."""
    req = None if body is UNPARSED else parse_request(body)
    if req is None or (isinstance(req, list) and not batches):
        return error_response(None, PARSE_ERROR, "Parse error")
    if isinstance(req, Call):
        return answer_call(req, run, takes_none)
    out = [a for a in (answer_call(c, run, takes_none) for c in req) if a is not None]
    return out or None


def answer_text(
    text: str | bytes, run: Callable[[str, Any], Any], takes_none: frozenset[str] = frozenset()
) -> Any:
    """:func:`answer_body` of a request's text."""
    try:
        body = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        body = UNPARSED
    return answer_body(body, run, takes_none=takes_none)


# ------------------------------------------------------------------ base58
class Base58Error(ValueError):
    """What the ``bs58`` crate reports: ``InvalidCharacter { character, index }`` or
    ``NonAsciiCharacter { index }`` (``str()`` is its Debug form, as nodes print it)."""


def b58decode(text: str) -> bytes:
    """Base58 (Bitcoin alphabet) to bytes; :class:`Base58Error` at the first bad char."""
    n = 0
    for i, ch in enumerate(text):
        v = _B58_INDEX.get(ch)
        if v is None:
            index = len(text[:i].encode())
            if not ch.isascii():
                raise Base58Error(f"NonAsciiCharacter {{ index: {index} }}")
            raise Base58Error(f"InvalidCharacter {{ character: {_rust_char(ch)}, index: {index} }}")
        n = n * 58 + v
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + (n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b"")


def b58encode(data: bytes) -> str:
    """Bytes to base58 (Bitcoin alphabet)."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def _rust_char(ch: str) -> str:
    """A char as Rust's Debug prints it (``'I'``, ``'\\''``, ``'\\n'``)."""
    esc = {"'": "\\'", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
    return "'" + esc.get(ch, ch) + "'"


def _key_problem(text: str, size: int, max_chars: int) -> str | None:
    """``WrongSize`` / ``Invalid`` as ``FromStr`` of a 32- or 64-byte key says it."""
    if len(text) > max_chars:
        return "WrongSize"
    try:
        raw = b58decode(text)
    except Base58Error:
        return "Invalid"
    return None if len(raw) == size else "WrongSize"


def bincode(exc: BaseException) -> str:
    """A deserializer's error in bincode's words, as a node prints it: input that ends
    too soon is ``io error: failed to fill whole buffer`` (solders says "Attempting to
    read N bytes")."""
    text = str(exc)
    return "io error: failed to fill whole buffer" if "Attempting to read" in text else text


def _parse_key(value: Any, size: int, longest: int, prefix: str) -> str:
    """A key parameter of ``size`` bytes (at most ``longest`` base58 characters);
    RpcFault(-32602) with ``prefix`` and the problem otherwise."""
    text = expect_str(value)
    problem = _key_problem(text, size, longest)
    if problem:
        raise invalid_params(f"{prefix}{problem}")
    return text


def parse_pubkey(value: Any) -> str:
    """A pubkey parameter as ``verify_pubkey`` checks it; RpcFault(-32602) otherwise."""
    return _parse_key(value, 32, MAX_PUBKEY_B58, "Invalid param: ")


def parse_signature(value: Any) -> str:
    """A signature parameter as ``verify_signature`` checks it."""
    return _parse_key(value, 64, MAX_SIGNATURE_B58, "Invalid param: ")


def parse_hash(value: Any) -> str:
    """A blockhash parameter (``isBlockhashValid`` prints the bare error: ``WrongSize``)."""
    return _parse_key(value, 32, MAX_PUBKEY_B58, "")


def pubkey_bytes(text: str) -> bytes:
    """The 32 bytes of a valid pubkey (the node sorts scans by them)."""
    return b58decode(text).rjust(32, b"\0")


# ------------------------------------------------------------------ parameters
def _json_kind(value: Any) -> str:
    """How serde names a JSON value in ``invalid type`` messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def type_error(value: Any, expected: str) -> RpcFault:
    """serde's ``invalid type`` as jsonrpc-core words it."""
    return invalid_params(
        f"Invalid params: invalid type: {_json_kind(value)}, expected {expected}."
    )


def expect_str(value: Any) -> str:
    if not isinstance(value, str):
        raise type_error(value, "a string")
    return value


def expect_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise type_error(value, "a boolean")
    return value


def expect_u64(value: Any, what: str = "u64") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise type_error(value, what)
    if not 0 <= value < 1 << 64:
        raise invalid_params(f"Invalid params: invalid value: integer `{value}`, expected {what}.")
    return value


def value_debug(value: Any) -> str:
    """A JSON value as Rust's ``Debug`` prints serde_json's ``Value``."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return f"Bool({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return f"Number({value})"
    if isinstance(value, str):
        return f"String({json.dumps(value, ensure_ascii=False)})"
    if isinstance(value, list):
        return "Array [" + ", ".join(value_debug(v) for v in value) + "]"
    inner = ", ".join(
        f"{json.dumps(k, ensure_ascii=False)}: {value_debug(v)}" for k, v in value.items()
    )
    return "Object {" + inner + "}"


def no_params(params: list[Any] | dict[str, Any]) -> None:
    """A method that takes none (``Params::expect_no_params``): an empty array or none
    at all; anything else is refused with the ``Params`` in Rust's ``Debug`` as data."""
    if isinstance(params, dict):
        inner = ", ".join(
            f"{json.dumps(k, ensure_ascii=False)}: {value_debug(v)}" for k, v in params.items()
        )
        raise RpcFault(
            INVALID_PARAMS,
            "Invalid parameters: No parameters were expected",
            "Map({" + inner + "})",
        )
    if params:
        raise RpcFault(
            INVALID_PARAMS,
            "Invalid parameters: No parameters were expected",
            "Array([" + ", ".join(value_debug(v) for v in params) + "])",
        )


def need(params: Sequence[Any], n: int) -> None:
    """At least ``n`` positional parameters (jsonrpc-derive's check)."""
    if len(params) < n:
        raise invalid_params(f"`params` should have at least {n} argument(s)")


def arity(params: Sequence[Any], required: int, total: int) -> None:
    """``required`` to ``total`` positional parameters, the trailing ones optional, as
    jsonrpc-derive checks a method whose last parameters are ``Option``s."""
    need(params, required)
    if len(params) > total:
        raise RpcFault(
            INVALID_PARAMS,
            f"Invalid parameters: Expected from {required} to {total} parameters.",
            f'"Got: {len(params)}"',
        )


def exactly(params: Sequence[Any], n: int) -> None:
    """``n`` positional parameters, none optional (serde's tuple, as jsonrpc-derive
    parses a method without ``Option`` parameters)."""
    if len(params) < n:
        raise invalid_params(
            f"Invalid params: invalid length {len(params)}, expected a tuple of size {n}."
        )
    if len(params) > n:
        raise invalid_params(
            f"Invalid params: invalid length {len(params)}, expected fewer elements in array."
        )


# the configuration structs of the methods (``rpc-client-api``'s ``config.rs``), as serde
# names them when a configuration is not an object ("expected struct <name>")
CONTEXT_CONFIG = "RpcContextConfig"
ACCOUNT_CONFIG = "RpcAccountInfoConfig"
PROGRAM_CONFIG = "RpcProgramAccountsConfig"
COMMITMENT_CONFIG = "CommitmentConfig"


def config(params: Sequence[Any], i: int, struct: str = CONTEXT_CONFIG) -> dict[str, Any]:
    """The optional configuration object at ``params[i]`` (absent or null: empty);
    anything else is refused naming the struct the method wanted (``struct``)."""
    cfg = params[i] if len(params) > i else None
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise type_error(cfg, f"struct {struct}")  # serde names the struct it wanted
    return cfg


def variant(value: Any, allowed: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise type_error(value, "string or map")
    if value not in allowed:
        names = ", ".join(f"`{a}`" for a in allowed)
        raise invalid_params(f"Invalid params: unknown variant `{value}`, expected one of {names}.")
    return value


def commitment(cfg: dict[str, Any], default: str = "finalized", flat: bool = True) -> str:
    """The ``commitment`` of a configuration (a node's default is ``finalized``).

    Most configurations carry it ``#[serde(flatten)]`` as an ``Option<CommitmentConfig>``,
    and serde's flatten takes a value that does not deserialize as ``None``: an unknown
    level (``recent``, ``max``: names older nodes took) or one of another type is the
    default, never an error (measured on Agave 3.1.12). A method that takes a
    ``CommitmentConfig`` alone (``flat`` False: ``getMinimumBalanceForRentExemption``,
    ``getTokenSupply``, ``getTokenAccountBalance``) refuses it in serde's words."""
    value = cfg.get("commitment")
    if value is None:
        return default
    if flat:
        return value if value in COMMITMENTS else default
    return variant(value, COMMITMENTS)


def min_context_slot(cfg: dict[str, Any], context_slot: int) -> None:
    """-32016 when the context slot has not reached ``minContextSlot``."""
    want = cfg.get("minContextSlot")
    if want is None:
        return
    if expect_u64(want) > context_slot:
        raise RpcFault(
            MIN_CONTEXT_SLOT_NOT_REACHED,
            "Minimum context slot has not been reached",
            {"contextSlot": context_slot},
        )


def account_encoding(cfg: dict[str, Any], default: str) -> str:
    value = cfg.get("encoding")
    return default if value is None else variant(value, ACCOUNT_ENCODINGS)


@dataclass(frozen=True, slots=True)
class DataSlice:
    """``dataSlice``: ``length`` bytes from ``offset`` (clipped to the data)."""

    offset: int
    length: int

    def cut(self, data: bytes) -> bytes:
        return data[self.offset : self.offset + self.length] if self.offset <= len(data) else b""


def data_slice(cfg: dict[str, Any]) -> DataSlice | None:
    raw = cfg.get("dataSlice")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise type_error(raw, "struct UiDataSliceConfig")
    for key in ("offset", "length"):
        if key not in raw:
            raise invalid_params(f"Invalid params: missing field `{key}`.")
    return DataSlice(expect_u64(raw["offset"], "usize"), expect_u64(raw["length"], "usize"))


# ------------------------------------------------------------------ filters
@dataclass(frozen=True, slots=True)
class Filter:
    """One ``getProgramAccounts`` / ``programSubscribe`` filter, decoded."""

    kind: str  # dataSize | memcmp | tokenAccountState
    size: int = 0
    offset: int = 0
    raw: bytes = b""

    def allows(self, owner: str, data: bytes) -> bool:
        if self.kind == "dataSize":
            return len(data) == self.size
        if self.kind == "memcmp":
            end = self.offset + len(self.raw)
            return end <= len(data) and data[self.offset : end] == self.raw
        # an initialized or frozen SPL token account (Account::valid_account_data)
        return owner in TOKEN_PROGRAMS and len(data) == L.TOKEN_ACCOUNT_LEN and data[108] != 0


def base64_problem(text: str) -> str | None:
    """The base64 crate's DecodeError (standard alphabet, canonical padding), Debug form."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    body = text.rstrip("=")
    pad = len(text) - len(body)
    for i, ch in enumerate(body):
        if ch not in alphabet:
            return f"InvalidByte({len(body[:i].encode())}, {ord(ch) if ch.isascii() else 0})"
    if len(body) % 4 == 1:
        return f"InvalidLength({len(body)})"
    if (len(body) + pad) % 4 != 0 or pad > 2:
        return "InvalidPadding"
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return "InvalidPadding"
    if base64.b64encode(raw).decode() != text:  # non-zero trailing bits
        last = len(body) - 1
        return f"InvalidLastSymbol({last}, {ord(body[last])})"
    return None


def parse_filter(raw: Any) -> Filter:
    """One filter object; RpcFault with the node's wording when it is not one."""
    kinds = ("dataSize", "memcmp", "tokenAccountState")
    if isinstance(raw, str):
        variant(raw, kinds)
        if raw != "tokenAccountState":
            raise invalid_params(f"Invalid params: invalid type: unit variant, expected {raw}.")
        return Filter("tokenAccountState")
    if not isinstance(raw, dict):
        raise type_error(raw, "enum RpcFilterType")
    if len(raw) != 1:
        raise invalid_params("Invalid params: invalid type: map, expected map with a single key.")
    ((kind, value),) = raw.items()
    variant(kind, kinds)
    if kind == "dataSize":
        return Filter("dataSize", size=expect_u64(value))
    if kind == "tokenAccountState":
        return Filter("tokenAccountState")
    if not isinstance(value, dict):
        raise type_error(value, "struct Memcmp")
    for key in ("offset", "bytes"):
        if key not in value:
            raise invalid_params(f"Invalid params: missing field `{key}`.")
    offset = expect_u64(value["offset"], "usize")
    data, encoding = value["bytes"], value.get("encoding")
    if isinstance(data, list):  # raw bytes (a form the Rust client sends)
        if not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in data):
            raise invalid_params(
                "Invalid params: data did not match any variant of untagged enum DataType."
            )
        if len(data) > MAX_FILTER_BYTES:
            raise invalid_params("Invalid param: DataTooLarge")
        return Filter("memcmp", offset=offset, raw=bytes(data))
    if not isinstance(data, str):
        raise invalid_params(
            "Invalid params: data did not match any variant of untagged enum DataType."
        )
    encoding = "base58" if encoding is None else variant(encoding, ("base58", "base64", "bytes"))
    if encoding == "base64":
        if len(data) > MAX_FILTER_B64:
            raise invalid_params("Invalid param: DataTooLarge")
        problem = base64_problem(data)
        if problem:
            raise invalid_params(f"Invalid param: Base64DecodeError({problem})")
        decoded = base64.b64decode(data)
    else:
        if len(data) > MAX_FILTER_B58:
            raise invalid_params("Invalid param: DataTooLarge")
        try:
            decoded = b58decode(data)
        except Base58Error as exc:
            raise invalid_params(f"Invalid param: Base58DecodeError({exc})") from None
    if len(decoded) > MAX_FILTER_BYTES:
        raise invalid_params("Invalid param: DataTooLarge")
    return Filter("memcmp", offset=offset, raw=decoded)


def parse_filters(raw: Any) -> list[Filter]:
    """The ``filters`` of a configuration (absent or null: none)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise type_error(raw, "a sequence")
    if len(raw) > MAX_FILTERS:
        raise invalid_params(f"Too many filters provided; max {MAX_FILTERS}")
    return [parse_filter(f) for f in raw]


# ------------------------------------------------------------------ accounts
Mints = Callable[[str], int | None]  # a mint's decimals, None when it is no mint


def ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    """``UiTokenAmount``: the amount in base units and as a decimal number."""
    text = str(amount).rjust(decimals + 1, "0")
    whole, frac = (text[:-decimals], text[-decimals:]) if decimals else (text, "")
    shown = f"{whole}.{frac}".rstrip("0").rstrip(".") if frac else whole
    return {
        "uiAmount": float(shown),
        "decimals": decimals,
        "amount": str(amount),
        "uiAmountString": shown,
    }


def _coption_key(data: bytes, off: int) -> str | None:
    return b58encode(data[off + 4 : off + 36]) if data[off : off + 4] == b"\1\0\0\0" else None


def _opt_key(raw: bytes) -> str | None:
    """An ``OptionalNonZeroPubkey``: None for all zeros."""
    return b58encode(raw) if any(raw) else None


def _borsh_strings(raw: bytes, off: int, n: int) -> tuple[list[str], int]:
    out = []
    for _ in range(n):
        size = int.from_bytes(raw[off : off + 4], "little")
        out.append(raw[off + 4 : off + 4 + size].decode("utf-8", "replace"))
        off += 4 + size
    return out, off


def _ui_extension(kind: int, v: bytes) -> dict[str, Any]:
    """One Token-2022 extension as the account decoder shows it (``parse_extension``:
    ``{"extension": <camelCase name>, "state": {...}}``, unit variants without a state;
    ``unparseableExtension`` for a value it cannot read or a type shown here as such)."""

    def fee(off: int) -> dict[str, Any]:
        e, m, b = struct.unpack_from("<QQH", v, off)
        return {"epoch": e, "maximumFee": m, "transferFeeBasisPoints": b}

    unit = {
        7: "immutableOwner",
        9: "nonTransferable",
        13: "nonTransferableAccount",
        27: "pausableAccount",
    }
    if kind in unit:
        return {"extension": unit[kind]}
    state: dict[str, Any]
    try:
        if kind == 1 and len(v) == 108:
            name, state = (
                "transferFeeConfig",
                {
                    "transferFeeConfigAuthority": _opt_key(v[0:32]),
                    "withdrawWithheldAuthority": _opt_key(v[32:64]),
                    "withheldAmount": int.from_bytes(v[64:72], "little"),
                    "olderTransferFee": fee(72),
                    "newerTransferFee": fee(90),
                },
            )
        elif kind == 2 and len(v) == 8:
            name, state = "transferFeeAmount", {"withheldAmount": int.from_bytes(v, "little")}
        elif kind == 3 and len(v) == 32:
            name, state = "mintCloseAuthority", {"closeAuthority": _opt_key(v)}
        elif kind == 6 and len(v) == 1 and v[0] <= 2:
            states = ("uninitialized", "initialized", "frozen")
            name, state = "defaultAccountState", {"accountState": states[v[0]]}
        elif kind == 8 and len(v) == 1:
            name, state = "memoTransfer", {"requireIncomingTransferMemos": bool(v[0])}
        elif kind == 11 and len(v) == 1:
            name, state = "cpiGuard", {"lockCpi": bool(v[0])}
        elif kind == 12 and len(v) == 32:
            name, state = "permanentDelegate", {"delegate": _opt_key(v)}
        elif kind == 14 and len(v) == 64:
            name, state = (
                "transferHook",
                {"authority": _opt_key(v[:32]), "programId": _opt_key(v[32:])},
            )
        elif kind == 15 and len(v) == 1:
            name, state = "transferHookAccount", {"transferring": bool(v[0])}
        elif kind in (18, 20, 22) and len(v) == 64:
            field = {18: "metadataAddress", 20: "groupAddress", 22: "memberAddress"}[kind]
            name = {18: "metadataPointer", 20: "groupPointer", 22: "groupMemberPointer"}[kind]
            state = {"authority": _opt_key(v[:32]), field: _opt_key(v[32:])}
        elif kind == 19 and len(v) >= 64:
            (nm, sym, uri), off = _borsh_strings(v, 64, 3)
            count = int.from_bytes(v[off : off + 4], "little")
            flat, _ = _borsh_strings(v, off + 4, 2 * count)
            name, state = (
                "tokenMetadata",
                {
                    "updateAuthority": _opt_key(v[:32]),
                    "mint": b58encode(v[32:64]),
                    "name": nm,
                    "symbol": sym,
                    "uri": uri,
                    "additionalMetadata": [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)],
                },
            )
        elif kind == 26 and len(v) == 33:
            name, state = "pausableConfig", {"authority": _opt_key(v[:32]), "paused": bool(v[32])}
        else:
            return {"extension": "unparseableExtension"}
    except (IndexError, ValueError):
        return {"extension": "unparseableExtension"}
    return {"extension": name, "state": state}


def _extensions(data: bytes) -> list[dict[str, Any]]:
    from .token import tlv

    return [_ui_extension(k, bytes(data[off : off + n])) for k, off, n in tlv(data)]


def parse_token_data(data: bytes, decimals_of: Mints) -> dict[str, Any] | None:
    """``jsonParsed`` of an SPL Token or Token-2022 account or mint (``parse_token``,
    with a Token-2022 account's ``extensions`` as ``parse_extension`` shows them, left
    out when there are none); None when the bytes are neither, or a token account's mint
    is unknown (the node falls back)."""
    extended = len(data) > L.TOKEN_ACCOUNT_LEN and len(data) != 355
    kind = data[L.TOKEN_ACCOUNT_LEN] if extended else 0
    if len(data) == L.TOKEN_ACCOUNT_LEN or kind == 2:
        state = data[108]
        if state == 0:
            return None
        mint = b58encode(data[0:32])
        decimals = decimals_of(mint)
        if decimals is None:
            return None
        amount = int.from_bytes(data[64:72], "little")
        native = data[109:113] == b"\1\0\0\0"  # COption<u64> is_native
        info: dict[str, Any] = {
            "mint": mint,
            "owner": b58encode(data[32:64]),
            "tokenAmount": ui_amount(amount, decimals),
            "state": "initialized" if state == 1 else "frozen",
            "isNative": native,
        }
        delegate = _coption_key(data, 72)
        if delegate is not None:
            info["delegate"] = delegate
            info["delegatedAmount"] = ui_amount(int.from_bytes(data[121:129], "little"), decimals)
        if native:
            info["rentExemptReserve"] = ui_amount(int.from_bytes(data[113:121], "little"), decimals)
        close = _coption_key(data, 129)
        if close is not None:
            info["closeAuthority"] = close
        ext = _extensions(data) if extended else []
        if ext:
            info["extensions"] = ext
        return {"type": "account", "info": info}
    if (len(data) == L.MINT_LEN or kind == 1) and data[45]:
        info = {
            "mintAuthority": _coption_key(data, 0),
            "supply": str(int.from_bytes(data[36:44], "little")),
            "decimals": data[44],
            "isInitialized": True,
            "freezeAuthority": _coption_key(data, 46),
        }
        ext = _extensions(data) if extended else []
        if ext:
            info["extensions"] = ext
        return {"type": "mint", "info": info}
    return None


def parse_lookup_table(data: bytes) -> dict[str, Any] | None:
    """``jsonParsed`` of an address lookup table (the account decoder's
    ``parse_address_lookup_table``: ``lookupTable`` with its slots as strings and the
    authority only when set, ``uninitialized``); None when the bytes are not a table."""
    from .alt import decode

    if len(data) >= 4 and int.from_bytes(data[:4], "little") == 0:
        return {"type": "uninitialized"}
    t = decode(data)
    if t is None:
        return None
    info: dict[str, Any] = {
        "deactivationSlot": str(t.deactivation_slot),
        "lastExtendedSlot": str(t.last_extended_slot),
        "lastExtendedSlotStartIndex": t.start_index,
    }
    if t.authority is not None:
        info["authority"] = t.authority
    info["addresses"] = list(t.addresses)
    return {"type": "lookupTable", "info": info}


def ui_account(
    acc: Account,
    encoding: str,
    data_slice: DataSlice | None = None,
    decimals_of: Mints | None = None,
    check_base58: bool = True,
) -> dict[str, Any]:
    """An account as the node encodes it (``encode_ui_account``; with ``check_base58``
    the RPC's -32600 for base58 of more than 128 bytes)."""
    data = acc.data if data_slice is None else data_slice.cut(acc.data)
    shown: Any
    if encoding == "jsonParsed" and acc.owner in TOKEN_PROGRAMS:
        parsed = parse_token_data(acc.data, decimals_of or (lambda _m: None))
        if parsed is not None:
            program = "spl-token" if acc.owner == SPL_TOKEN else "spl-token-2022"
            shown = {"program": program, "parsed": parsed, "space": len(acc.data)}
            encoding = ""
    if encoding == "jsonParsed" and acc.owner == ALT_PROGRAM:
        parsed = parse_lookup_table(acc.data)
        if parsed is not None:
            shown = {"program": "address-lookup-table", "parsed": parsed, "space": len(acc.data)}
            encoding = ""
    if encoding == "jsonParsed" and acc.owner == SYSTEM_PROGRAM and acc.data:
        from .system import parse_nonce

        parsed = parse_nonce(acc.data)
        if parsed is not None:  # the account decoder's "nonce" (parse_nonce)
            shown = {"program": "nonce", "parsed": parsed, "space": len(acc.data)}
            encoding = ""
    if encoding in ("binary", "base58"):
        if check_base58 and len(data) > MAX_BASE58_BYTES:
            raise RpcFault(
                INVALID_REQUEST,
                f"Encoded binary (base 58) data should be less than {MAX_BASE58_BYTES} bytes, "
                "please use Base64 encoding.",
            )
        text = b58encode(data)
        shown = text if encoding == "binary" else [text, "base58"]
    elif encoding == "base64+zstd":
        packed = zstd_frame(data)
        shown = [base64.b64encode(packed).decode(), "base64+zstd"]
    elif encoding in ("base64", "jsonParsed"):  # jsonParsed of what no parser reads
        shown = [base64.b64encode(data).decode(), "base64"]
    return {
        "lamports": acc.lamports,
        "data": shown,
        "owner": acc.owner,
        "executable": acc.executable,
        "rentEpoch": rent_epoch(acc.owner),
        "space": len(acc.data),
    }


def zstd_frame(data: bytes) -> bytes:
    """``data`` zstd-compressed as the account encoder does it (``zstd::stream::write::
    Encoder`` at the default level, then ``finish``): a streamed frame, whose header
    carries no content size, byte for byte the node's (a client must decompress it as a
    stream, or with a maximum output size)."""
    z = zstandard.ZstdCompressor(level=3).compressobj()
    return z.compress(data) + z.flush()


def program_accounts(
    accounts: Mapping[str, Account],
    program: str,
    filters: Sequence[Filter],
    encoding: str,
    data_slice: DataSlice | None,
    decimals_of: Mints,
    sort: bool = True,
) -> list[dict[str, Any]]:
    """``getProgramAccounts``' keyed accounts: every account ``program`` owns that all
    ``filters`` allow, sorted by pubkey bytes (the node's default ``sortResults``)."""
    keys = [
        k
        for k, a in accounts.items()
        if a.owner == program and all(f.allows(a.owner, a.data) for f in filters)
    ]
    if sort:
        keys.sort(key=pubkey_bytes)
    out: list[dict[str, Any]] = []
    for k in keys:
        shown = ui_account(accounts[k], encoding, data_slice, decimals_of)
        if encoding == "jsonParsed" and program in TOKEN_PROGRAMS and "parsed" not in shown["data"]:
            continue  # a token program's account that does not parse is left out
        out.append({"pubkey": k, "account": shown})
    return out
