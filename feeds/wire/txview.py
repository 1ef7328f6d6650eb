"""One landed transaction with its status meta, in one normalized form: :class:`TxView`.

Read from a node's ``getTransaction`` result or a ``getBlock`` "full" entry
(:meth:`TxView.from_rpc_json`, :meth:`TxView.from_rpc_block`; encoding ``json``, legacy or
v0 with ``meta.loadedAddresses``, or ``base64`` bodies, decoded by solders), from a
Yellowstone gRPC ``SubscribeUpdateTransaction`` / ``SubscribeUpdateTransactionInfo``
(:meth:`TxView.from_grpc`; the messages of ``feeds/wire/geyser``), and from its own JSON
(:meth:`TxView.to_json` / :meth:`TxView.from_json`: what the journal keeps; versioned by
``"v"``). Pure: no I/O.

The shapes are Agave's: ``UiConfirmedTransactionWithStatusMeta`` / ``UiTransactionStatusMeta``
(``transaction-status-client-types``), the error's JSON of ``UiTransactionError`` (unit
variants as their name, ``{"InstructionError": [index, "Name" | {"Custom": code}]}``,
``{"DuplicateInstruction": index}``, ``{"InsufficientFundsForRent": {"account_index": i}}``);
Yellowstone's ``TransactionStatusMeta`` carries the error as the bincode of the runtime's
``TransactionError`` (``solana-transaction-error``, ``solana-instruction-error``: variants
by position), read into that same JSON.

What a view holds:

- ``keys``: the static account keys, then the addresses loaded from lookup tables, writable
  then readonly (the order instructions index into); ``writable``: each key's flag as the
  message states it (the header's counts; loaded writable ones writable), before the
  runtime demotes program ids and reserved accounts.
- ``instructions``: every instruction in execution order, each outer one followed by its
  inner ones (``meta.innerInstructions``), with its stack height (1: outer; an inner one's
  as the node gives it, None from nodes older than v1.14.6) and its outer index.
- ``err`` (None or the error's JSON), ``fee``, lamports before and after per key, token
  balances before and after (account index, mint, owner, program id, raw amount,
  decimals), ``logs`` (None when the node kept none), ``compute_units`` (None when unknown).

Anything malformed raises :class:`TxViewError` (a ``ValueError``) naming the field, never
a silent wrong value.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import engine_rs

__all__ = [
    "FORMAT",
    "Ix",
    "TokenBalance",
    "TxView",
    "TxViewError",
    "decode_transaction_error",
    "valid_error",
]

FORMAT = 1  # the version of :meth:`TxView.to_json`'s form

# solana-transaction-error's TransactionError, by position (bincode's variant index)
TRANSACTION_ERRORS = (
    "AccountInUse",
    "AccountLoadedTwice",
    "AccountNotFound",
    "ProgramAccountNotFound",
    "InsufficientFundsForFee",
    "InvalidAccountForFee",
    "AlreadyProcessed",
    "BlockhashNotFound",
    "InstructionError",  # (u8, InstructionError)
    "CallChainTooDeep",
    "MissingSignatureForFee",
    "InvalidAccountIndex",
    "SignatureFailure",
    "InvalidProgramForExecution",
    "SanitizeFailure",
    "ClusterMaintenance",
    "AccountBorrowOutstanding",
    "WouldExceedMaxBlockCostLimit",
    "UnsupportedVersion",
    "InvalidWritableAccount",
    "WouldExceedMaxAccountCostLimit",
    "WouldExceedAccountDataBlockLimit",
    "TooManyAccountLocks",
    "AddressLookupTableNotFound",
    "InvalidAddressLookupTableOwner",
    "InvalidAddressLookupTableData",
    "InvalidAddressLookupTableIndex",
    "InvalidRentPayingAccount",
    "WouldExceedMaxVoteCostLimit",
    "WouldExceedAccountDataTotalLimit",
    "DuplicateInstruction",  # (u8)
    "InsufficientFundsForRent",  # { account_index: u8 }
    "MaxLoadedAccountsDataSizeExceeded",
    "InvalidLoadedAccountsDataSizeLimit",
    "ResanitizationNeeded",
    "ProgramExecutionTemporarilyRestricted",  # { account_index: u8 }
    "UnbalancedTransaction",
    "ProgramCacheHitMaxLimit",
    "CommitCancelled",
)
_WITH_INDEX = {"DuplicateInstruction"}
_WITH_ACCOUNT = {"InsufficientFundsForRent", "ProgramExecutionTemporarilyRestricted"}

# solana-instruction-error's InstructionError, by position
INSTRUCTION_ERRORS = (
    "GenericError",
    "InvalidArgument",
    "InvalidInstructionData",
    "InvalidAccountData",
    "AccountDataTooSmall",
    "InsufficientFunds",
    "IncorrectProgramId",
    "MissingRequiredSignature",
    "AccountAlreadyInitialized",
    "UninitializedAccount",
    "UnbalancedInstruction",
    "ModifiedProgramId",
    "ExternalAccountLamportSpend",
    "ExternalAccountDataModified",
    "ReadonlyLamportChange",
    "ReadonlyDataModified",
    "DuplicateAccountIndex",
    "ExecutableModified",
    "RentEpochModified",
    "NotEnoughAccountKeys",
    "AccountDataSizeChanged",
    "AccountNotExecutable",
    "AccountBorrowFailed",
    "AccountBorrowOutstanding",
    "DuplicateAccountOutOfSync",
    "Custom",  # (u32)
    "InvalidError",
    "ExecutableDataModified",
    "ExecutableLamportChange",
    "ExecutableAccountNotRentExempt",
    "UnsupportedProgramId",
    "CallDepth",
    "MissingAccount",
    "ReentrancyNotAllowed",
    "MaxSeedLengthExceeded",
    "InvalidSeeds",
    "InvalidRealloc",
    "ComputationalBudgetExceeded",
    "PrivilegeEscalation",
    "ProgramEnvironmentSetupFailure",
    "ProgramFailedToComplete",
    "ProgramFailedToCompile",
    "Immutable",
    "IncorrectAuthority",
    "BorshIoError",  # (String) before solana-instruction-error 2: the text is dropped
    "AccountNotRentExempt",
    "InvalidAccountOwner",
    "ArithmeticOverflow",
    "UnsupportedSysvar",
    "IllegalOwner",
    "MaxAccountsDataAllocationsExceeded",
    "MaxAccountsExceeded",
    "MaxInstructionTraceLengthExceeded",
    "BuiltinProgramsMustConsumeComputeUnits",
    "BailOut",
)
_U8 = 0xFF
_U32 = 0xFFFF_FFFF
_U64 = (1 << 64) - 1


class TxViewError(ValueError):
    """A transaction that cannot be read: ``field`` names where (``meta.preBalances``,
    ``transaction.message.instructions[2].accounts`` ...)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class TokenBalance:
    """One token account's balance before or after (``meta.pre/postTokenBalances``):
    ``account`` its index in :attr:`TxView.keys`; ``owner`` / ``program`` None when the
    node did not say (older transactions); ``amount`` raw base units."""

    account: int
    mint: str
    owner: str | None
    program: str | None
    amount: int
    decimals: int


@dataclass(frozen=True, slots=True)
class Ix:
    """One instruction as it ran: ``program`` and ``accounts`` index :attr:`TxView.keys`;
    ``stack_height`` 1 for an outer instruction (None: an inner one from a node that did
    not record it); ``outer`` the index of the outer instruction it is or runs under."""

    program: int
    accounts: tuple[int, ...]
    data: bytes
    stack_height: int | None
    outer: int

    @property
    def inner(self) -> bool:
        """It ran by CPI under an outer instruction."""
        return self.stack_height != 1


@dataclass(frozen=True, slots=True)
class TxView:
    """One transaction with its status meta (see the module docstring). ``index``: its
    position in the block (None when unknown); ``version``: None for a legacy message, 0
    for v0; ``header``: (required signatures, readonly signed, readonly unsigned);
    ``loaded``: how many of :attr:`keys` came from lookup tables (writable, readonly).
    ``err`` is JSON (a dict is not hashable: neither is a failed view)."""

    signature: str
    slot: int
    index: int | None
    block_time: int | None
    signatures: tuple[str, ...]
    version: int | None
    header: tuple[int, int, int]
    keys: tuple[str, ...]
    loaded: tuple[int, int]
    writable: tuple[bool, ...]
    recent_blockhash: str
    instructions: tuple[Ix, ...]
    err: Any
    fee: int
    pre_lamports: tuple[int, ...]
    post_lamports: tuple[int, ...]
    pre_tokens: tuple[TokenBalance, ...]
    post_tokens: tuple[TokenBalance, ...]
    logs: tuple[str, ...] | None
    compute_units: int | None
    _index: dict[str, int] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check(self)
        object.__setattr__(self, "_index", {k: i for i, k in reversed(list(enumerate(self.keys)))})

    # ------------------------------------------------------------------ reading
    @property
    def signer(self) -> str:
        """The fee payer: the first account key."""
        return self.keys[0]

    @property
    def failed(self) -> bool:
        return self.err is not None

    def program_of(self, ix: Ix) -> str:
        """The program an instruction ran."""
        return self.keys[ix.program]

    def accounts_of(self, ix: Ix) -> list[str]:
        """An instruction's accounts by key, in its order."""
        return [self.keys[i] for i in ix.accounts]

    def key_index(self, key: str) -> int | None:
        """The first index of ``key`` in :attr:`keys` (None: not there)."""
        return self._index.get(key)

    def outer_instructions(self) -> list[Ix]:
        return [ix for ix in self.instructions if not ix.inner]

    # ------------------------------------------------------------------ readers
    @classmethod
    def from_rpc_json(
        cls,
        obj: Mapping[str, Any],
        slot: int | None = None,
        index: int | None = None,
        block_time: int | None = None,
    ) -> TxView:
        """A ``getTransaction`` result (``slot``, ``blockTime`` read from it) or one entry
        of ``getBlock``'s ``transactions`` with ``transactionDetails`` "full" (``slot``,
        ``index`` and ``block_time`` given by the caller; :meth:`from_rpc_block` reads a
        whole block). Encoding ``json`` (legacy or v0) or ``base64`` / ``base58``
        bodies; ``jsonParsed`` is refused (its instructions are not the program's bytes)."""
        if not isinstance(obj, Mapping):
            raise TxViewError("result", f"an object, not {type(obj).__name__}")
        if slot is None:
            slot = _uint(obj.get("slot"), "slot", _U64)
        else:
            slot = _uint(slot, "slot", _U64)
        if block_time is None and obj.get("blockTime") is not None:
            block_time = _int(obj.get("blockTime"), "blockTime")
        if index is not None:
            index = _uint(index, "index", _U64)
        meta = obj.get("meta")
        if not isinstance(meta, Mapping):
            raise TxViewError("meta", "missing (a transaction without its status meta)")
        body = _rpc_body(obj.get("transaction"))
        said = obj.get("version", body.version if body.version is not None else "legacy")
        if said != ("legacy" if body.version is None else body.version):
            raise TxViewError("version", f"{said!r} is not the message's")
        loaded_w, loaded_r = _rpc_loaded(meta, body.lookups)
        keys = (*body.keys, *loaded_w, *loaded_r)
        outer = body.instructions
        inner = _rpc_inner(meta.get("innerInstructions"), len(outer))
        return _assemble(
            signature=body.signatures[0] if body.signatures else "",
            slot=slot,
            index=index,
            block_time=block_time,
            body=body,
            keys=keys,
            loaded=(len(loaded_w), len(loaded_r)),
            outer=outer,
            inner=inner,
            err=_rpc_err(meta),
            fee=_uint(meta.get("fee"), "meta.fee", _U64),
            pre=_u64s(meta.get("preBalances"), "meta.preBalances"),
            post=_u64s(meta.get("postBalances"), "meta.postBalances"),
            pre_tokens=_rpc_tokens(meta.get("preTokenBalances"), "meta.preTokenBalances"),
            post_tokens=_rpc_tokens(meta.get("postTokenBalances"), "meta.postTokenBalances"),
            logs=_rpc_logs(meta.get("logMessages")),
            units=(
                None
                if meta.get("computeUnitsConsumed") is None
                else _uint(meta.get("computeUnitsConsumed"), "meta.computeUnitsConsumed", _U64)
            ),
        )

    @classmethod
    def from_rpc_block(cls, block: Mapping[str, Any], slot: int) -> list[TxView]:
        """Every transaction of a ``getBlock`` result (``transactionDetails`` "full"), in
        the block's order (``index`` its position), at ``slot`` (a block does not say its
        own slot)."""
        if not isinstance(block, Mapping):
            raise TxViewError("block", f"an object, not {type(block).__name__}")
        txs = block.get("transactions")
        if not isinstance(txs, list):
            raise TxViewError("block.transactions", "missing (transactionDetails must be full)")
        time = block.get("blockTime")
        block_time = None if time is None else _int(time, "block.blockTime")
        out = []
        for i, entry in enumerate(txs):
            try:
                out.append(cls.from_rpc_json(entry, slot, i, block_time))
            except TxViewError as exc:
                raise TxViewError(f"block.transactions[{i}].{exc.field}", exc.problem) from None
        return out

    @classmethod
    def from_grpc(cls, update: Any, slot: int | None = None) -> TxView:
        """A Yellowstone gRPC transaction update: a ``SubscribeUpdate`` carrying one, a
        ``SubscribeUpdateTransaction`` or a ``SubscribeUpdateTransactionInfo`` (message
        objects of ``feeds.wire.geyser``), or the bytes of a ``SubscribeUpdateTransaction``
        (or of a ``SubscribeUpdateTransactionInfo`` when ``slot`` is given: an info does
        not carry its slot). The block time is not in an update: None."""
        from .geyser import geyser_pb2 as pb

        msg = update
        if isinstance(update, (bytes, bytearray, memoryview)):
            kind = (
                pb.SubscribeUpdateTransactionInfo
                if slot is not None
                else pb.SubscribeUpdateTransaction
            )
            msg = kind()
            try:
                msg.ParseFromString(bytes(update))
            except Exception as exc:  # protobuf's DecodeError
                raise TxViewError(kind.__name__, f"not a protobuf message ({exc})") from None
        if isinstance(msg, pb.SubscribeUpdate):
            if msg.WhichOneof("update_oneof") != "transaction":
                raise TxViewError("SubscribeUpdate", "not a transaction update")
            msg = msg.transaction
        if isinstance(msg, pb.SubscribeUpdateTransaction):
            if not msg.HasField("transaction"):
                raise TxViewError("SubscribeUpdateTransaction.transaction", "missing")
            if slot is None:
                slot = msg.slot
            info = msg.transaction
        elif isinstance(msg, pb.SubscribeUpdateTransactionInfo):
            if slot is None:
                raise TxViewError("slot", "a SubscribeUpdateTransactionInfo needs its slot given")
            info = msg
        else:
            raise TxViewError("update", f"not a transaction update: {type(update).__name__}")
        return _from_info(info, _uint(slot, "slot", _U64))

    # ------------------------------------------------------------------ own form
    def to_json(self) -> dict[str, Any]:
        """The view as compact JSON (what the journal keeps): format ``"v"``
        :data:`FORMAT`; instruction data base64; :meth:`from_json` reads it back equal."""
        return {
            "v": FORMAT,
            "signature": self.signature,
            "slot": self.slot,
            "index": self.index,
            "block_time": self.block_time,
            "signatures": list(self.signatures),
            "version": self.version,
            "header": list(self.header),
            "keys": list(self.keys),
            "loaded": list(self.loaded),
            "blockhash": self.recent_blockhash,
            "ixs": [
                [
                    ix.program,
                    list(ix.accounts),
                    base64.b64encode(ix.data).decode(),
                    ix.stack_height,
                    ix.outer,
                ]
                for ix in self.instructions
            ],
            "err": self.err,
            "fee": self.fee,
            "pre": list(self.pre_lamports),
            "post": list(self.post_lamports),
            "pre_tokens": [_token_json(t) for t in self.pre_tokens],
            "post_tokens": [_token_json(t) for t in self.post_tokens],
            "logs": None if self.logs is None else list(self.logs),
            "units": self.compute_units,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TxView:
        """A view from :meth:`to_json`'s form (:class:`TxViewError` for another version or
        a malformed field)."""
        if not isinstance(obj, Mapping):
            raise TxViewError("txview", f"an object, not {type(obj).__name__}")
        if obj.get("v") != FORMAT:
            raise TxViewError("v", f"format {obj.get('v')!r} is not {FORMAT}")
        header = _list(obj.get("header"), "header")
        if len(header) != 3:
            raise TxViewError("header", "three counts")
        loaded = _list(obj.get("loaded"), "loaded")
        if len(loaded) != 2:
            raise TxViewError("loaded", "two counts")
        keys = tuple(_key(k, f"keys[{i}]") for i, k in enumerate(_list(obj.get("keys"), "keys")))
        hdr = (
            _uint(header[0], "header[0]", _U8),
            _uint(header[1], "header[1]", _U8),
            _uint(header[2], "header[2]", _U8),
        )
        nload = (_uint(loaded[0], "loaded[0]", 256), _uint(loaded[1], "loaded[1]", 256))
        ixs = []
        for i, row in enumerate(_list(obj.get("ixs"), "ixs")):
            where = f"ixs[{i}]"
            r = _list(row, where)
            if len(r) != 5:
                raise TxViewError(where, "[program, accounts, data, stack height, outer]")
            ixs.append(
                Ix(
                    _uint(r[0], f"{where}.program", _U8),
                    tuple(
                        _uint(a, f"{where}.accounts", _U8) for a in _list(r[1], f"{where}.accounts")
                    ),
                    _b64(r[2], f"{where}.data"),
                    None if r[3] is None else _uint(r[3], f"{where}.stack_height", _U32),
                    _uint(r[4], f"{where}.outer", _U8),
                )
            )
        logs = obj.get("logs")
        version = obj.get("version")
        if version not in (None, 0):
            raise TxViewError("version", f"{version!r} is not null (legacy) or 0")
        index = obj.get("index")
        block_time = obj.get("block_time")
        units = obj.get("units")
        return cls(
            signature=_sig(obj.get("signature"), "signature"),
            slot=_uint(obj.get("slot"), "slot", _U64),
            index=None if index is None else _uint(index, "index", _U64),
            block_time=None if block_time is None else _int(block_time, "block_time"),
            signatures=tuple(
                _sig(s, f"signatures[{i}]")
                for i, s in enumerate(_list(obj.get("signatures"), "signatures"))
            ),
            version=version,
            header=hdr,
            keys=keys,
            loaded=nload,
            writable=_writable(hdr, len(keys) - sum(nload), nload),
            recent_blockhash=_key(obj.get("blockhash"), "blockhash"),
            instructions=tuple(ixs),
            err=valid_error(obj.get("err"), "err"),
            fee=_uint(obj.get("fee"), "fee", _U64),
            pre_lamports=_u64s(obj.get("pre"), "pre"),
            post_lamports=_u64s(obj.get("post"), "post"),
            pre_tokens=_own_tokens(obj.get("pre_tokens"), "pre_tokens"),
            post_tokens=_own_tokens(obj.get("post_tokens"), "post_tokens"),
            logs=None if logs is None else _strs(logs, "logs"),
            compute_units=None if units is None else _uint(units, "units", _U64),
        )


# ---------------------------------------------------------------------- checks
def _check(v: TxView) -> None:
    """What every view holds, however it was read."""
    n = len(v.keys)
    if n == 0:
        raise TxViewError("keys", "no account keys (a transaction has its fee payer)")
    if not v.signatures:
        raise TxViewError("signatures", "none")
    if v.signature != v.signatures[0]:
        raise TxViewError("signature", "not the transaction's first signature")
    required, ro_signed, ro_unsigned = v.header
    static = n - v.loaded[0] - v.loaded[1]
    if static < 1:
        raise TxViewError("loaded", "more loaded addresses than account keys")
    if v.loaded != (0, 0) and v.version is None:
        raise TxViewError("loaded", "a legacy message loads no addresses")
    if not 1 <= required <= static or ro_signed >= required or ro_unsigned > static - required:
        raise TxViewError("header", f"{v.header} does not fit {static} static keys")
    if len(v.signatures) != required:
        raise TxViewError("signatures", f"{len(v.signatures)}, the header requires {required}")
    if len(v.writable) != n:
        raise TxViewError("writable", f"{len(v.writable)} flags for {n} keys")
    if len(v.pre_lamports) != n:
        raise TxViewError("meta.preBalances", f"{len(v.pre_lamports)} balances for {n} keys")
    if len(v.post_lamports) != n:
        raise TxViewError("meta.postBalances", f"{len(v.post_lamports)} balances for {n} keys")
    outer = -1
    for i, ix in enumerate(v.instructions):
        where = f"instructions[{i}]"
        if ix.program >= n:
            raise TxViewError(f"{where}.program", f"index {ix.program} past {n} keys")
        for a in ix.accounts:
            if a >= n:
                raise TxViewError(f"{where}.accounts", f"index {a} past {n} keys")
        if ix.stack_height == 1:
            if ix.outer != outer + 1:
                raise TxViewError(f"{where}.outer", f"outer {ix.outer} after outer {outer}")
            outer = ix.outer
        else:
            if ix.stack_height is not None and ix.stack_height < 2:
                raise TxViewError(f"{where}.stack_height", f"{ix.stack_height} for an inner one")
            if ix.outer != outer or outer < 0:
                raise TxViewError(f"{where}.outer", f"an inner instruction under {ix.outer}")
    for name, rows in (
        ("meta.preTokenBalances", v.pre_tokens),
        ("meta.postTokenBalances", v.post_tokens),
    ):
        seen: set[int] = set()
        for t in rows:
            if t.account >= n:
                raise TxViewError(name, f"account index {t.account} past {n} keys")
            if t.account in seen:
                raise TxViewError(name, f"account index {t.account} twice")
            seen.add(t.account)


def _writable(
    header: tuple[int, int, int], static: int, loaded: tuple[int, int]
) -> tuple[bool, ...]:
    required, ro_signed, ro_unsigned = header
    flags = [
        i < required - ro_signed if i < required else i < static - ro_unsigned
        for i in range(static)
    ]
    return (*flags, *([True] * loaded[0]), *([False] * loaded[1]))


# ---------------------------------------------------------------------- values
def _int(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TxViewError(where, f"an integer, not {v!r}")
    return v


def _uint(v: Any, where: str, top: int) -> int:
    n = _int(v, where)
    if not 0 <= n <= top:
        raise TxViewError(where, f"{n} out of range")
    return n


def _list(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list | tuple):
        raise TxViewError(where, f"a list, not {type(v).__name__}")
    return list(v)


def _u64s(v: Any, where: str) -> tuple[int, ...]:
    return tuple(_uint(x, f"{where}[{i}]", _U64) for i, x in enumerate(_list(v, where)))


def _strs(v: Any, where: str) -> tuple[str, ...]:
    out = []
    for i, x in enumerate(_list(v, where)):
        if not isinstance(x, str):
            raise TxViewError(f"{where}[{i}]", "not text")
        out.append(x)
    return tuple(out)


def _b58(v: Any, where: str, size: int | None = None) -> bytes:
    if not isinstance(v, str):
        raise TxViewError(where, f"base58 text, not {type(v).__name__}")
    try:
        raw = engine_rs.backend().b58decode(v)
    except ValueError:
        raise TxViewError(where, f"{v[:20]!r} is not base58") from None
    if size is not None and len(raw) != size:
        raise TxViewError(where, f"{len(raw)} bytes, not {size}")
    return bytes(raw)


def _b58text(raw: bytes) -> str:
    return str(engine_rs.backend().b58encode(raw))


def _key(v: Any, where: str) -> str:
    _b58(v, where, 32)
    return str(v)


def _sig(v: Any, where: str) -> str:
    _b58(v, where, 64)
    return str(v)


def _b64(v: Any, where: str) -> bytes:
    if not isinstance(v, str):
        raise TxViewError(where, f"base64 text, not {type(v).__name__}")
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise TxViewError(where, "not base64") from None


def valid_error(err: Any, where: str = "meta.err") -> Any:
    """``err`` when it has the shape of a transaction error's JSON (null, a variant's
    name, or one variant with its data), else :class:`TxViewError`."""
    if err is None:
        return None
    if isinstance(err, str):
        if err not in TRANSACTION_ERRORS:
            raise TxViewError(where, f"{err!r} is not a transaction error")
        return err
    if isinstance(err, Mapping) and len(err) == 1:
        (name,) = err
        if name in TRANSACTION_ERRORS:
            return dict(err)
    raise TxViewError(where, f"{err!r} is not a transaction error")


# ---------------------------------------------------------------------- bincode errors
def decode_transaction_error(raw: bytes, where: str = "meta.err.err") -> Any:
    """The bincode of a ``TransactionError`` (what Yellowstone sends) as its JSON (see
    the module docstring); :class:`TxViewError` for bytes that are not one."""

    def need(n: int, at: int) -> None:
        if len(raw) < at + n:
            raise TxViewError(where, f"{len(raw)} bytes, cut short")

    need(4, 0)
    (tag,) = struct.unpack_from("<I", raw, 0)
    if tag >= len(TRANSACTION_ERRORS):
        raise TxViewError(where, f"transaction error variant {tag} is unknown")
    name = TRANSACTION_ERRORS[tag]
    at = 4
    out: Any
    if name == "InstructionError":
        need(5, at)
        index = raw[at]
        (itag,) = struct.unpack_from("<I", raw, at + 1)
        at += 5
        if itag >= len(INSTRUCTION_ERRORS):
            raise TxViewError(where, f"instruction error variant {itag} is unknown")
        iname = INSTRUCTION_ERRORS[itag]
        inner: Any = iname
        if iname == "Custom":
            need(4, at)
            inner = {"Custom": struct.unpack_from("<I", raw, at)[0]}
            at += 4
        elif iname == "BorshIoError" and len(raw) > at:  # the older form carried a String
            need(8, at)
            (n,) = struct.unpack_from("<Q", raw, at)
            need(8 + n, at)
            at += 8 + n
        out = {"InstructionError": [index, inner]}
    elif name in _WITH_INDEX:
        need(1, at)
        out = {name: raw[at]}
        at += 1
    elif name in _WITH_ACCOUNT:
        need(1, at)
        out = {name: {"account_index": raw[at]}}
        at += 1
    else:
        out = name
    if at != len(raw):
        raise TxViewError(where, f"{len(raw) - at} bytes after the error")
    return out


# ---------------------------------------------------------------------- RPC JSON
@dataclass(frozen=True, slots=True)
class _Body:
    signatures: tuple[str, ...]
    version: int | None
    header: tuple[int, int, int]
    keys: tuple[str, ...]
    blockhash: str
    instructions: tuple[tuple[int, tuple[int, ...], bytes], ...]
    lookups: tuple[tuple[int, int], ...]  # (writable, readonly) counts per table


def _rpc_body(tx: Any) -> _Body:
    """The transaction of a result: a ``json`` object, or ``[text, "base64"|"base58"]``."""
    if isinstance(tx, list):
        if len(tx) != 2 or tx[1] not in ("base64", "base58"):
            raise TxViewError("transaction", 'an encoded body is [text, "base64" | "base58"]')
        text = tx[0]
        if not isinstance(text, str):
            raise TxViewError("transaction[0]", "not text")
        raw = _b64(text, "transaction[0]") if tx[1] == "base64" else _b58(text, "transaction[0]")
        return _binary_body(raw)
    if not isinstance(tx, Mapping):
        raise TxViewError("transaction", "missing")
    sigs = tuple(
        _sig(s, f"transaction.signatures[{i}]")
        for i, s in enumerate(_list(tx.get("signatures"), "transaction.signatures"))
    )
    msg = tx.get("message")
    if not isinstance(msg, Mapping):
        raise TxViewError("transaction.message", "missing")
    raw_keys = _list(msg.get("accountKeys"), "transaction.message.accountKeys")
    if any(isinstance(k, Mapping) for k in raw_keys):
        raise TxViewError(
            "transaction.message.accountKeys", "jsonParsed is not read: ask for json or base64"
        )
    keys = tuple(_key(k, f"transaction.message.accountKeys[{i}]") for i, k in enumerate(raw_keys))
    h = msg.get("header")
    if not isinstance(h, Mapping):
        raise TxViewError("transaction.message.header", "missing")
    header = (
        _uint(
            h.get("numRequiredSignatures"), "transaction.message.header.numRequiredSignatures", _U8
        ),
        _uint(
            h.get("numReadonlySignedAccounts"),
            "transaction.message.header.numReadonlySignedAccounts",
            _U8,
        ),
        _uint(
            h.get("numReadonlyUnsignedAccounts"),
            "transaction.message.header.numReadonlyUnsignedAccounts",
            _U8,
        ),
    )
    ixs = []
    for i, ix in enumerate(_list(msg.get("instructions"), "transaction.message.instructions")):
        ixs.append(_compiled(ix, f"transaction.message.instructions[{i}]"))
    lookups_json = msg.get("addressTableLookups")
    lookups = []
    if lookups_json is not None:
        for i, lk in enumerate(_list(lookups_json, "transaction.message.addressTableLookups")):
            where = f"transaction.message.addressTableLookups[{i}]"
            if not isinstance(lk, Mapping):
                raise TxViewError(where, "not an object")
            _key(lk.get("accountKey"), f"{where}.accountKey")
            w = [
                _uint(x, f"{where}.writableIndexes", _U8)
                for x in _list(lk.get("writableIndexes"), f"{where}.writableIndexes")
            ]
            r = [
                _uint(x, f"{where}.readonlyIndexes", _U8)
                for x in _list(lk.get("readonlyIndexes"), f"{where}.readonlyIndexes")
            ]
            lookups.append((len(w), len(r)))
    return _Body(
        sigs,
        None if lookups_json is None else 0,
        header,
        keys,
        _key(msg.get("recentBlockhash"), "transaction.message.recentBlockhash"),
        tuple(ixs),
        tuple(lookups),
    )


def _binary_body(raw: bytes) -> _Body:
    """A transaction's wire bytes, read by solders."""
    from solders.message import Message, MessageV0
    from solders.transaction import VersionedTransaction

    try:
        tx = VersionedTransaction.from_bytes(raw)
    except Exception as exc:  # solders raises its own error types
        raise TxViewError("transaction[0]", f"not a transaction ({exc})") from None
    msg = tx.message
    lookups: tuple[tuple[int, int], ...] = ()
    if isinstance(msg, MessageV0):
        lookups = tuple(
            (len(bytes(lk.writable_indexes)), len(bytes(lk.readonly_indexes)))
            for lk in msg.address_table_lookups
        )
    elif not isinstance(msg, Message):
        raise TxViewError("transaction[0]", f"a {type(msg).__name__} is not read (legacy or v0)")
    h = msg.header
    v0 = isinstance(msg, MessageV0)
    return _Body(
        tuple(str(s) for s in tx.signatures),
        0 if v0 else None,
        (
            h.num_required_signatures,
            h.num_readonly_signed_accounts,
            h.num_readonly_unsigned_accounts,
        ),
        tuple(str(k) for k in msg.account_keys),
        str(msg.recent_blockhash),
        tuple(
            (ix.program_id_index, tuple(bytes(ix.accounts)), bytes(ix.data))
            for ix in msg.instructions
        ),
        lookups,
    )


def _compiled(ix: Any, where: str) -> tuple[int, tuple[int, ...], bytes]:
    if not isinstance(ix, Mapping):
        raise TxViewError(where, "not an object")
    if "programIdIndex" not in ix:
        raise TxViewError(f"{where}.programIdIndex", "missing (jsonParsed is not read)")
    program = _uint(ix.get("programIdIndex"), f"{where}.programIdIndex", _U8)
    accounts = tuple(
        _uint(a, f"{where}.accounts", _U8) for a in _list(ix.get("accounts"), f"{where}.accounts")
    )
    return program, accounts, _b58(ix.get("data"), f"{where}.data")


def _rpc_loaded(
    meta: Mapping[str, Any], lookups: Sequence[tuple[int, int]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    la = meta.get("loadedAddresses")
    want = (sum(w for w, _ in lookups), sum(r for _, r in lookups))
    if la is None:
        if want != (0, 0):
            raise TxViewError("meta.loadedAddresses", "missing for a v0 transaction with lookups")
        return (), ()
    if not isinstance(la, Mapping):
        raise TxViewError("meta.loadedAddresses", "not an object")
    w = tuple(
        _key(k, f"meta.loadedAddresses.writable[{i}]")
        for i, k in enumerate(_list(la.get("writable"), "meta.loadedAddresses.writable"))
    )
    r = tuple(
        _key(k, f"meta.loadedAddresses.readonly[{i}]")
        for i, k in enumerate(_list(la.get("readonly"), "meta.loadedAddresses.readonly"))
    )
    if (len(w), len(r)) != want:
        raise TxViewError(
            "meta.loadedAddresses",
            f"{len(w)} writable and {len(r)} readonly, the lookups name {want[0]} and {want[1]}",
        )
    return w, r


def _rpc_inner(
    v: Any, outer: int
) -> dict[int, list[tuple[int, tuple[int, ...], bytes, int | None]]]:
    out: dict[int, list[tuple[int, tuple[int, ...], bytes, int | None]]] = {}
    if v is None:
        return out
    for i, group in enumerate(_list(v, "meta.innerInstructions")):
        where = f"meta.innerInstructions[{i}]"
        if not isinstance(group, Mapping):
            raise TxViewError(where, "not an object")
        index = _uint(group.get("index"), f"{where}.index", _U8)
        if index >= outer:
            raise TxViewError(f"{where}.index", f"{index}: the message has {outer} instructions")
        if index in out:
            raise TxViewError(f"{where}.index", f"{index} twice")
        rows = []
        for j, ix in enumerate(_list(group.get("instructions"), f"{where}.instructions")):
            at = f"{where}.instructions[{j}]"
            program, accounts, data = _compiled(ix, at)
            sh = ix.get("stackHeight")
            if sh is not None and _uint(sh, f"{at}.stackHeight", _U32) < 2:
                raise TxViewError(f"{at}.stackHeight", f"{sh} for an inner instruction")
            rows.append(
                (
                    program,
                    accounts,
                    data,
                    None if sh is None else _uint(sh, f"{at}.stackHeight", _U32),
                )
            )
        out[index] = rows
    return out


def _rpc_err(meta: Mapping[str, Any]) -> Any:
    if "err" in meta:
        return valid_error(meta.get("err"))
    status = meta.get("status")  # the deprecated field, what older answers carry alone
    if isinstance(status, Mapping) and "Err" in status:
        return valid_error(status["Err"], "meta.status.Err")
    if isinstance(status, Mapping) and "Ok" in status:
        return None
    raise TxViewError("meta.err", "missing")


def _rpc_tokens(v: Any, where: str) -> tuple[TokenBalance, ...]:
    if v is None:
        return ()
    out = []
    for i, t in enumerate(_list(v, where)):
        at = f"{where}[{i}]"
        if not isinstance(t, Mapping):
            raise TxViewError(at, "not an object")
        ui = t.get("uiTokenAmount")
        if not isinstance(ui, Mapping):
            raise TxViewError(f"{at}.uiTokenAmount", "missing")
        owner, program = t.get("owner"), t.get("programId")
        out.append(
            TokenBalance(
                _uint(t.get("accountIndex"), f"{at}.accountIndex", _U8),
                _key(t.get("mint"), f"{at}.mint"),
                None if owner is None else _key(owner, f"{at}.owner"),
                None if program is None else _key(program, f"{at}.programId"),
                _amount(ui.get("amount"), f"{at}.uiTokenAmount.amount"),
                _uint(ui.get("decimals"), f"{at}.uiTokenAmount.decimals", _U8),
            )
        )
    return tuple(out)


def _amount(v: Any, where: str) -> int:
    if not isinstance(v, str) or not v.isdigit() or not v.isascii():
        raise TxViewError(where, f"a decimal string of base units, not {v!r}")
    n = int(v)
    if n > _U64:
        raise TxViewError(where, f"{n} out of range")
    return n


def _rpc_logs(v: Any) -> tuple[str, ...] | None:
    return None if v is None else _strs(v, "meta.logMessages")


def _assemble(
    *,
    signature: str,
    slot: int,
    index: int | None,
    block_time: int | None,
    body: _Body,
    keys: tuple[str, ...],
    loaded: tuple[int, int],
    outer: Sequence[tuple[int, tuple[int, ...], bytes]],
    inner: Mapping[int, Sequence[tuple[int, tuple[int, ...], bytes, int | None]]],
    err: Any,
    fee: int,
    pre: tuple[int, ...],
    post: tuple[int, ...],
    pre_tokens: tuple[TokenBalance, ...],
    post_tokens: tuple[TokenBalance, ...],
    logs: tuple[str, ...] | None,
    units: int | None,
) -> TxView:
    ixs: list[Ix] = []
    for i, (program, accounts, data) in enumerate(outer):
        ixs.append(Ix(program, accounts, data, 1, i))
        for program_i, accounts_i, data_i, height in inner.get(i, ()):
            ixs.append(Ix(program_i, accounts_i, data_i, height, i))
    static = len(body.keys)
    return TxView(
        signature=signature,
        slot=slot,
        index=index,
        block_time=block_time,
        signatures=body.signatures,
        version=body.version,
        header=body.header,
        keys=keys,
        loaded=loaded,
        writable=_writable(body.header, static, loaded),
        recent_blockhash=body.blockhash,
        instructions=tuple(ixs),
        err=err,
        fee=fee,
        pre_lamports=pre,
        post_lamports=post,
        pre_tokens=pre_tokens,
        post_tokens=post_tokens,
        logs=logs,
        compute_units=units,
    )


# ---------------------------------------------------------------------- gRPC
def _pk(raw: bytes, where: str) -> str:
    if len(raw) != 32:
        raise TxViewError(where, f"{len(raw)} bytes, not 32")
    return _b58text(raw)


def _from_info(info: Any, slot: int) -> TxView:
    if not info.HasField("transaction"):
        raise TxViewError("transaction", "missing")
    if not info.HasField("meta"):
        raise TxViewError("meta", "missing (a transaction without its status meta)")
    tx, meta = info.transaction, info.meta
    for i, s in enumerate(tx.signatures):
        if len(s) != 64:
            raise TxViewError(f"transaction.signatures[{i}]", f"{len(s)} bytes, not 64")
    if len(info.signature) != 64:
        raise TxViewError("signature", f"{len(info.signature)} bytes, not 64")
    sigs = tuple(_b58text(s) for s in tx.signatures)
    if not sigs or _b58text(info.signature) != sigs[0]:
        raise TxViewError("signature", "not the transaction's first signature")
    if not tx.HasField("message"):
        raise TxViewError("transaction.message", "missing")
    msg = tx.message
    h = msg.header
    header = (
        h.num_required_signatures,
        h.num_readonly_signed_accounts,
        h.num_readonly_unsigned_accounts,
    )
    for n, v in zip(
        (
            "num_required_signatures",
            "num_readonly_signed_accounts",
            "num_readonly_unsigned_accounts",
        ),
        header,
    ):
        if v > _U8:
            raise TxViewError(f"transaction.message.header.{n}", f"{v} out of range")
    static = tuple(
        _pk(k, f"transaction.message.account_keys[{i}]") for i, k in enumerate(msg.account_keys)
    )
    if len(msg.recent_blockhash) != 32:
        raise TxViewError(
            "transaction.message.recent_blockhash", f"{len(msg.recent_blockhash)} bytes"
        )
    lookups = []
    for i, lk in enumerate(msg.address_table_lookups):
        _pk(lk.account_key, f"transaction.message.address_table_lookups[{i}].account_key")
        lookups.append((len(lk.writable_indexes), len(lk.readonly_indexes)))
    if lookups and not msg.versioned:
        raise TxViewError("transaction.message.address_table_lookups", "in a legacy message")
    outer = []
    for i, ix in enumerate(msg.instructions):
        if ix.program_id_index > _U8:
            raise TxViewError(
                f"transaction.message.instructions[{i}].program_id_index", "out of range"
            )
        outer.append((ix.program_id_index, tuple(ix.accounts), bytes(ix.data)))
    w = tuple(
        _pk(k, f"meta.loaded_writable_addresses[{i}]")
        for i, k in enumerate(meta.loaded_writable_addresses)
    )
    r = tuple(
        _pk(k, f"meta.loaded_readonly_addresses[{i}]")
        for i, k in enumerate(meta.loaded_readonly_addresses)
    )
    want = (sum(a for a, _ in lookups), sum(b for _, b in lookups))
    if (len(w), len(r)) != want:
        raise TxViewError(
            "meta.loaded_writable_addresses",
            f"{len(w)} writable and {len(r)} readonly, the lookups name {want[0]} and {want[1]}",
        )
    inner: dict[int, list[tuple[int, tuple[int, ...], bytes, int | None]]] = {}
    if not meta.inner_instructions_none:
        for i, group in enumerate(meta.inner_instructions):
            where = f"meta.inner_instructions[{i}]"
            if group.index >= len(outer):
                raise TxViewError(
                    f"{where}.index", f"{group.index}: the message has {len(outer)} instructions"
                )
            if group.index in inner:
                raise TxViewError(f"{where}.index", f"{group.index} twice")
            rows = []
            for j, ix in enumerate(group.instructions):
                if ix.program_id_index > _U8:
                    raise TxViewError(f"{where}.instructions[{j}].program_id_index", "out of range")
                height = ix.stack_height if ix.HasField("stack_height") else None
                if height is not None and height < 2:
                    raise TxViewError(
                        f"{where}.instructions[{j}].stack_height", f"{height} for an inner one"
                    )
                rows.append((ix.program_id_index, tuple(ix.accounts), bytes(ix.data), height))
            inner[group.index] = rows
    body = _Body(
        sigs,
        0 if msg.versioned else None,
        header,
        static,
        _b58text(msg.recent_blockhash),
        tuple(outer),
        tuple(lookups),
    )
    return _assemble(
        signature=sigs[0],
        slot=slot,
        index=info.index,
        block_time=None,
        body=body,
        keys=(*static, *w, *r),
        loaded=(len(w), len(r)),
        outer=outer,
        inner=inner,
        err=decode_transaction_error(bytes(meta.err.err)) if meta.HasField("err") else None,
        fee=meta.fee,
        pre=tuple(meta.pre_balances),
        post=tuple(meta.post_balances),
        pre_tokens=_grpc_tokens(meta.pre_token_balances, "meta.pre_token_balances"),
        post_tokens=_grpc_tokens(meta.post_token_balances, "meta.post_token_balances"),
        logs=None if meta.log_messages_none else tuple(meta.log_messages),
        units=meta.compute_units_consumed if meta.HasField("compute_units_consumed") else None,
    )


def _grpc_tokens(rows: Iterable[Any], where: str) -> tuple[TokenBalance, ...]:
    out = []
    for i, t in enumerate(rows):
        at = f"{where}[{i}]"
        if t.account_index > _U8:
            raise TxViewError(f"{at}.account_index", "out of range")
        if not t.HasField("ui_token_amount"):
            raise TxViewError(f"{at}.ui_token_amount", "missing")
        if t.ui_token_amount.decimals > _U8:
            raise TxViewError(f"{at}.ui_token_amount.decimals", "out of range")
        out.append(
            TokenBalance(
                t.account_index,
                _key(t.mint, f"{at}.mint"),
                _key(t.owner, f"{at}.owner") if t.owner else None,
                _key(t.program_id, f"{at}.program_id") if t.program_id else None,
                _amount(t.ui_token_amount.amount, f"{at}.ui_token_amount.amount"),
                t.ui_token_amount.decimals,
            )
        )
    return tuple(out)


# ---------------------------------------------------------------------- own JSON
def _token_json(t: TokenBalance) -> list[Any]:
    return [t.account, t.mint, t.owner, t.program, str(t.amount), t.decimals]


def _own_tokens(v: Any, where: str) -> tuple[TokenBalance, ...]:
    out = []
    for i, row in enumerate(_list(v, where)):
        at = f"{where}[{i}]"
        r = _list(row, at)
        if len(r) != 6:
            raise TxViewError(at, "[account, mint, owner, program, amount, decimals]")
        out.append(
            TokenBalance(
                _uint(r[0], f"{at}.account", _U8),
                _key(r[1], f"{at}.mint"),
                None if r[2] is None else _key(r[2], f"{at}.owner"),
                None if r[3] is None else _key(r[3], f"{at}.program"),
                _amount(r[4], f"{at}.amount"),
                _uint(r[5], f"{at}.decimals", _U8),
            )
        )
    return tuple(out)
