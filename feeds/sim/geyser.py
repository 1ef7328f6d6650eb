"""Yellowstone gRPC beside PubSub: each simulated endpoint's Geyser service, a grpc.aio
server on a loopback port of its own, serving the same world, slots and accounts as the
endpoint's PubSub with the same latency, jitter and drop rate.

It answers as a Yellowstone server (rpcpool/yellowstone-grpc, ``yellowstone-grpc-geyser``)
does, as the real plugin on Agave's validator answered the same requests on the same
market (``tests/data/node/geyser_shapes.json``; what differs is in ``docs/simulator.md``):

- ``Subscribe`` (bidirectional): nothing but pings until the client's first
  ``SubscribeRequest``; each later request replaces the filter, except one carrying
  ``ping``, which is answered with a ``pong`` of its id and changes nothing
  (``Filter::get_pong_msg`` in ``plugin/filter/filter.rs``). A ping
  (``SubscribeUpdatePing``) goes out when the stream opens and every ``ping_s`` (10 s in
  ``grpc.rs``'s ping task). A filter it cannot make ends the stream with
  ``INVALID_ARGUMENT`` "failed to create filter: <reason>" (``grpc.rs``), the reasons in
  its words: an invalid pubkey (solana-pubkey's ``ParsePubkeyError``: "Invalid Base58
  string", "String is the wrong size"), an account or transaction filter with no
  criteria ("Subscribe on full stream with `any` is not allowed, at least one filter
  required", when the server's limits refuse ``any``), an oversized filter name, an
  unknown commitment ("failed to create CommitmentLevel from N"), an account filter's
  data filters (``FilterAccountsState::new``: "Too many filters provided; max 4", "data
  too large", "invalid base58", "invalid base64", "datasize used more than once",
  "token_account_state only allowed to be true", ...).
- Account filters: by key, by owner, and by data (``memcmp`` in bytes, base58 or base64,
  ``datasize``, ``token_account_state``, ``lamports`` comparisons) and
  ``nonempty_txn_signature``; each update names every filter it matched.
- ``from_slot``: the stored slots from there are sent first, each slot's statuses then
  its accounts and transactions (once the slot reached the stream's commitment), as
  ``grpc.rs`` replays them. The store holds the slots from the finalized slot less
  ``replay_stored_slots`` (150 by default in ``config.rs``) and 10 on; one older than the
  oldest stored ends the stream with ``OUT_OF_RANGE`` "broadcast from N is not available,
  last available: M"; one in the future replays nothing; a server without the store
  ends it with ``INTERNAL`` "from_slot is not supported".
- Each slot, in the plugin's order (measured): at ``processed`` the bank created
  (``SLOT_CREATED_BANK``, interslot), the slot's accounts and transactions, then
  ``SLOT_COMPLETED`` (interslot), ``SLOT_PROCESSED`` and ``SLOT_CONFIRMED`` (the simulator
  confirms at once, as a lone validator does); at ``confirmed`` its statuses up to
  processed, then its accounts and transactions, then confirmed; at ``finalized`` its
  statuses, then the root's (32 slots back) accounts and transactions; then the root's
  ``SLOT_FINALIZED``. With ``filter_by_commitment`` only the stream's commitment's
  status; the interslot statuses only to a slot filter with ``interslot_updates``. The
  created, processed and finalized statuses carry the parent slot. Account updates carry
  ``write_version`` (one counter over every account of the chain) and the transaction
  that wrote them (``txn_signature``); an account a landed transaction locked writable
  that does not exist (an uninitialized tick array a swap names) is sent too, owned by
  the system program with no data (rent epoch 0), as the plugin sends it. Transaction
  updates of the transactions naming an ``account_include`` key (votes never: the
  simulator has none).
- ``x-token``: with a token set, a call without it is ``UNAUTHENTICATED`` "No valid auth
  token" (``XTokenInterceptor``).
- Unary calls, from the published blocks (``BlockMetaStorage`` in ``grpc.rs``):
  ``GetSlot``, ``GetBlockHeight``, ``GetLatestBlockhash`` (its last valid height the
  block's height + 300) at a commitment (processed and confirmed the newest, finalized
  32 back; "block is not available yet" before there is one; a bad commitment
  ``UNKNOWN`` "failed to create CommitmentLevel from N"); ``IsBlockhashValid`` (``INTERNAL``
  "startup" until 332 blockhashes are held, as the plugin after its start); ``Ping``;
  ``GetVersion`` (the plugin's JSON keys); ``SubscribeReplayInfo`` (the oldest slot
  ``from_slot`` can ask for: u64::MAX until the store first dropped a slot).

Each stream's messages wait in a channel of the profile's ``grpc_channel_capacity``
(``channel_capacity`` in ``config.rs``, 250,000 by default): an update that finds it
full ends the stream with ``INTERNAL`` "lagged to send an update", after what was
already in it (``grpc.rs``: the client task's ``try_send`` fails ``Full``, and the status
is sent with a waiting ``send``), and nothing more is queued for it. Pings, pongs and
statuses never end a stream (Yellowstone's ping task waits for room; here they are
queued at once).

Faults from the endpoint's profile: ``close_after`` updates a stream, then it ends
``UNAVAILABLE`` (a connection cut); ``malformed_rate`` cuts an update's bytes in half;
``stall_after`` updates, then silence; ``silent`` never answers. Tests end every stream
at once with :meth:`GeyserService.drop_streams`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import random
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message

from ..wire.geyser import geyser_pb2 as pb
from ..wire.geyser import solana_storage_pb2 as storage

REPLAY_SLOTS = 150  # yellowstone-grpc-geyser's default replay_stored_slots
PING_S = 10.0  # its ping task's interval
FILTER_NAME_MAX = 128  # its default filter_name_size_limit
ROOT_DISTANCE = 32
# GetVersion: the JSON of ``GrpcVersionInfo`` (``version.rs``), its values the simulator's
VERSION = json.dumps(
    {
        "version": {
            "package": "yellowstone-grpc-geyser",
            "version": "arbscope-sim",
            "proto": "arbscope-sim",
            "solana": "arbscope-sim",
            "git": "arbscope-sim",
            "rustc": "arbscope-sim",
            "buildts": "arbscope-sim",
        },
        "extra": {"hostname": socket.gethostname()},
    }
)
PROCESSED, CONFIRMED, FINALIZED = 0, 1, 2
COMPLETED, CREATED_BANK = 4, 5  # the interslot statuses a single node sends
# each slot's statuses in the order the plugin sends them (as measured on Agave's own
# validator): the bank created, then (its accounts and transactions at processed) the
# slot completed, processed, and at once confirmed (one validator: its own vote)
BEFORE = {PROCESSED: (CREATED_BANK,), CONFIRMED: (CREATED_BANK, COMPLETED, PROCESSED)}
AFTER = {PROCESSED: (COMPLETED, PROCESSED, CONFIRMED), CONFIRMED: (CONFIRMED,)}
WITH_PARENT = (PROCESSED, FINALIZED, CREATED_BANK)  # the statuses that carry the parent
# IsBlockhashValid answers "startup" until it holds this many blockhashes
# (MAX_RECENT_BLOCKHASHES + 32 in grpc.rs); a blockhash is valid that long too
BLOCKHASHES_HELD = 300 + 32
RECENT_BLOCKHASHES = 300  # GetLatestBlockhash's last valid height: the block's height + this
FINALIZATION_SAFETY_BUFFER = 10  # grpc.rs: slots kept past the replay store's
U64_MAX = 2**64 - 1
# an account filter's data filters (FilterAccountsState::new in filter.rs)
MAX_DATA_FILTERS, MAX_DATA_SIZE, MAX_DATA_BASE58, MAX_DATA_BASE64 = 4, 128, 175, 172
LAGGED = "lagged to send an update"  # grpc.rs, a client whose channel is full
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _unary(
    method: Callable[[Any, Any], Awaitable[Message]],
    request: type[Message],
    response: type[Message],
) -> Any:
    """A unary gRPC method's handler: ``method`` answers a ``request`` message with a
    ``response`` one (grpc is untyped: its handler is Any)."""
    return grpc.unary_unary_rpc_method_handler(
        method,
        request_deserializer=request.FromString,
        response_serializer=response.SerializeToString,
    )


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        i = _B58.find(ch)
        if i < 0:
            raise ValueError("Invalid Base58 string")
        n = n * 58 + i
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + (n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b"")


def parse_pubkey(text: str) -> bytes:
    """A pubkey as solana-pubkey's ``FromStr`` reads it, with its errors' words."""
    if len(text) > 44:
        raise ValueError("String is the wrong size")
    raw = _b58decode(text)
    if len(raw) != 32:
        raise ValueError("String is the wrong size")
    return raw


@dataclass(frozen=True, slots=True)
class TxRecord:
    """One transaction of a published slot as its gRPC update carries it: its signature,
    error (the node's JSON form), logs, every account key it names (static then looked
    up: what ``account_include`` is matched against), and its whole body and status meta
    (Yellowstone's ``storage`` messages; None for the market's own swaps, which have no
    body: a message naming their programs and a meta of their logs stand in)."""

    signature: str
    err: Any
    logs: tuple[str, ...]
    keys: tuple[str, ...]
    transaction: storage.Transaction | None = None
    meta: storage.TransactionStatusMeta | None = None


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """One account of a published slot as its gRPC update carries it: its state after the
    slot, the chain's ``write_version`` of that write (one counter over every account)
    and the transaction that wrote it (None: written by no transaction)."""

    pubkey: str
    owner: str
    lamports: int
    data: bytes
    write_version: int = 0
    txn_signature: str | None = None


@dataclass(frozen=True, slots=True)
class SlotRecord:
    """One published slot as the replay store keeps it: its accounts as they were and its
    transactions, in the block's order; its parent (the simulator skips no slot)."""

    slot: int
    accounts: tuple[AccountRecord, ...]
    txs: tuple[TxRecord, ...]

    @property
    def parent(self) -> int:
        return max(0, self.slot - 1)


# the runtime's TransactionError and InstructionError variants in declaration order
# (solana-transaction-error, solana-instruction-error): bincode writes a variant as its
# index (u32), then its fields
TX_ERRORS = (
    "AccountInUse AccountLoadedTwice AccountNotFound ProgramAccountNotFound "
    "InsufficientFundsForFee InvalidAccountForFee AlreadyProcessed BlockhashNotFound "
    "InstructionError CallChainTooDeep MissingSignatureForFee InvalidAccountIndex "
    "SignatureFailure InvalidProgramForExecution SanitizeFailure ClusterMaintenance "
    "AccountBorrowOutstanding WouldExceedMaxBlockCostLimit UnsupportedVersion "
    "InvalidWritableAccount WouldExceedMaxAccountCostLimit WouldExceedAccountDataBlockLimit "
    "TooManyAccountLocks AddressLookupTableNotFound InvalidAddressLookupTableOwner "
    "InvalidAddressLookupTableData InvalidAddressLookupTableIndex InvalidRentPayingAccount "
    "WouldExceedMaxVoteCostLimit WouldExceedAccountDataTotalLimit DuplicateInstruction "
    "InsufficientFundsForRent MaxLoadedAccountsDataSizeExceeded "
    "InvalidLoadedAccountsDataSizeLimit ResanitizationNeeded "
    "ProgramExecutionTemporarilyRestricted UnbalancedTransaction ProgramCacheHitMaxLimit "
    "CommitCancelled"
).split()
IX_ERRORS = (
    "GenericError InvalidArgument InvalidInstructionData InvalidAccountData "
    "AccountDataTooSmall InsufficientFunds IncorrectProgramId MissingRequiredSignature "
    "AccountAlreadyInitialized UninitializedAccount UnbalancedInstruction ModifiedProgramId "
    "ExternalAccountLamportSpend ExternalAccountDataModified ReadonlyLamportChange "
    "ReadonlyDataModified DuplicateAccountIndex ExecutableModified RentEpochModified "
    "NotEnoughAccountKeys AccountDataSizeChanged AccountNotExecutable AccountBorrowFailed "
    "AccountBorrowOutstanding DuplicateAccountOutOfSync Custom InvalidError "
    "ExecutableDataModified ExecutableLamportChange ExecutableAccountNotRentExempt "
    "UnsupportedProgramId CallDepth MissingAccount ReentrancyNotAllowed MaxSeedLengthExceeded "
    "InvalidSeeds InvalidRealloc ComputationalBudgetExceeded PrivilegeEscalation "
    "ProgramEnvironmentSetupFailure ProgramFailedToComplete ProgramFailedToCompile Immutable "
    "IncorrectAuthority BorshIoError AccountNotRentExempt InvalidAccountOwner "
    "ArithmeticOverflow UnsupportedSysvar IllegalOwner MaxAccountsDataAllocationsExceeded "
    "MaxAccountsExceeded MaxInstructionTraceLengthExceeded "
    "BuiltinProgramsMustConsumeComputeUnits BailOut"
).split()


def error_bytes(err: Any) -> bytes:
    """A transaction error (the node's JSON form) as Yellowstone's ``TransactionError.err``
    carries it: the bincode of the runtime's ``TransactionError`` (``convert_to.rs``
    ``create_transaction_error``). ValueError for a form the runtime has no variant of."""

    def variant(names: list[str], name: str) -> bytes:
        if name not in names:
            raise ValueError(f"no such error variant: {name}")
        return names.index(name).to_bytes(4, "little")

    if isinstance(err, str):
        return variant(TX_ERRORS, err)
    if isinstance(err, dict) and len(err) == 1:
        ((name, value),) = err.items()
        head = variant(TX_ERRORS, name)
        if name == "InstructionError":
            index, detail = value
            body = bytes([index])
            if isinstance(detail, dict) and "Custom" in detail:
                code = int(detail["Custom"]).to_bytes(4, "little")
                return head + body + variant(IX_ERRORS, "Custom") + code
            if isinstance(detail, dict) and len(detail) == 1:  # {"BorshIoError": text}: now a unit
                detail = next(iter(detail))
            return head + body + variant(IX_ERRORS, str(detail))
        if name == "DuplicateInstruction":
            return head + bytes([value])
        if name in ("InsufficientFundsForRent", "ProgramExecutionTemporarilyRestricted"):
            return head + bytes([value["account_index"]])
    raise ValueError(f"not a transaction error: {err!r}")


@dataclass(frozen=True, slots=True)
class AccountData:
    """An account filter's data filters (``FilterAccountsState``): ``memcmp`` (offset,
    bytes), ``datasize``, ``token_account_state``, ``lamports`` comparisons; and
    ``nonempty_txn_signature`` (None: either)."""

    memcmp: tuple[tuple[int, bytes], ...] = ()
    datasize: int | None = None
    token_account_state: bool = False
    lamports: tuple[tuple[str, int], ...] = ()
    nonempty_txn_signature: bool | None = None

    def empty(self) -> bool:
        return not (
            self.memcmp or self.datasize is not None or self.token_account_state or self.lamports
        )

    def matches(self, a: AccountRecord) -> bool:
        if self.nonempty_txn_signature is not None and self.nonempty_txn_signature != (
            a.txn_signature is not None
        ):
            return False
        if self.empty():
            return True
        data = a.data
        if self.datasize is not None and len(data) != self.datasize:
            return False
        if self.token_account_state and not _token_account(data):
            return False
        for cmp, value in self.lamports:
            if not _LAMPORTS[cmp](a.lamports, value):
                return False
        return all(
            data[off : off + len(raw)] == raw and off + len(raw) <= len(data)
            for off, raw in self.memcmp
        )


_LAMPORTS = {
    "eq": lambda have, v: have == v,
    "ne": lambda have, v: have != v,
    "lt": lambda have, v: have < v,
    "gt": lambda have, v: have > v,
}


def _token_account(data: bytes) -> bool:
    """SPL Token's ``valid_account_data`` as Token-2022 extends it: an initialized token
    account (its state byte, 108, not 0), or a longer one whose account type byte (165)
    says Account (2)."""
    if len(data) == 165:
        return data[108] != 0
    return len(data) > 165 and data[165] == 2 and data[108] != 0


@dataclass(slots=True)
class Filter:
    """A stream's filter (what ``Filter::new`` makes of a SubscribeRequest)."""

    # name -> (accounts, owners, data filters)
    accounts: dict[str, tuple[frozenset[str], frozenset[str], AccountData]] = field(
        default_factory=dict
    )
    slots: dict[str, tuple[bool, bool]] = field(
        default_factory=dict
    )  # name -> (filter_by_commitment, interslot_updates)
    txs: dict[str, tuple[bool | None, frozenset[str], frozenset[str], frozenset[str]]] = field(
        default_factory=dict
    )  # name -> (failed, include, exclude, required)
    commitment: int = PROCESSED


class FilterError(Exception):
    """Why a SubscribeRequest makes no filter (the server's words)."""


def make_filter(req: Any, allow_any: bool = True) -> Filter:
    """``Filter::new`` (``plugin/filter/filter.rs``) for the parts the simulator serves."""
    f = Filter()
    names: set[str] = set()

    def name(n: str) -> str:
        if len(n) > FILTER_NAME_MAX:
            raise FilterError(
                f"oversized filter name (max allowed size {FILTER_NAME_MAX}), found {len(n)}"
            )
        names.add(n)
        return n

    def keys(values: Sequence[str]) -> frozenset[str]:
        try:
            for v in values:
                parse_pubkey(v)
        except ValueError as exc:
            raise FilterError(str(exc)) from None
        return frozenset(values)

    for n, a in req.accounts.items():
        if not a.account and not a.owner and not allow_any:
            raise FilterError(
                "Subscribe on full stream with `any` is not allowed, at least one filter required"
            )
        acc, own = keys(a.account), keys(a.owner)
        data = account_data(a)
        f.accounts[name(n)] = (acc, own, data)
    for n, s in req.slots.items():
        f.slots[name(n)] = (
            s.filter_by_commitment if s.HasField("filter_by_commitment") else False,
            s.interslot_updates if s.HasField("interslot_updates") else False,
        )
    for n, t in req.transactions.items():
        empty = not (
            t.HasField("vote")
            or t.HasField("failed")
            or t.account_include
            or t.account_exclude
            or t.account_required
        )
        if empty and not allow_any:
            raise FilterError(
                "Subscribe on full stream with `any` is not allowed, at least one filter required"
            )
        failed = t.failed if t.HasField("failed") else None
        f.txs[name(n)] = (
            failed,
            keys(t.account_include),
            keys(t.account_exclude),
            keys(t.account_required),
        )
    commitment = req.commitment if req.HasField("commitment") else PROCESSED
    if commitment not in (PROCESSED, CONFIRMED, FINALIZED):
        raise FilterError(f"failed to create CommitmentLevel from {commitment}")
    f.commitment = commitment
    return f


def account_data(a: Any) -> AccountData:
    """An account filter's data filters (``FilterAccountsState::new``), with its errors'
    words."""
    if len(a.filters) > MAX_DATA_FILTERS:
        raise FilterError(f"Too many filters provided; max {MAX_DATA_FILTERS}")
    memcmp: list[tuple[int, bytes]] = []
    datasize: int | None = None
    token = False
    lamports: list[tuple[str, int]] = []
    for flt in a.filters:
        which = flt.WhichOneof("filter")
        if which == "memcmp":
            m = flt.memcmp
            kind = m.WhichOneof("data")
            if kind == "bytes":
                raw = bytes(m.bytes)
            elif kind == "base58":
                if len(m.base58) > MAX_DATA_BASE58:
                    raise FilterError("data too large")
                try:
                    raw = _b58decode(m.base58)
                except ValueError:
                    raise FilterError("invalid base58") from None
            elif kind == "base64":
                if len(m.base64) > MAX_DATA_BASE64:
                    raise FilterError("data too large")
                try:
                    raw = base64.b64decode(m.base64, validate=True)
                except (binascii.Error, ValueError):
                    raise FilterError("invalid base64") from None
            else:
                raise FilterError("data for memcmp should be defined")
            if len(raw) > MAX_DATA_SIZE:
                raise FilterError("data too large")
            memcmp.append((m.offset, raw))
        elif which == "datasize":
            if datasize is not None:
                raise FilterError("datasize used more than once")
            datasize = flt.datasize
        elif which == "token_account_state":
            if not flt.token_account_state:
                raise FilterError("token_account_state only allowed to be true")
            token = True
        elif which == "lamports":
            cmp = flt.lamports.WhichOneof("cmp")
            if cmp is None:
                raise FilterError("cmp for lamports should be defined")
            lamports.append((cmp, getattr(flt.lamports, cmp)))
        else:
            raise FilterError("filter should be defined")
    nonempty = a.nonempty_txn_signature if a.HasField("nonempty_txn_signature") else None
    return AccountData(tuple(memcmp), datasize, token, tuple(lamports), nonempty)


def transaction_parts(
    stored: Any, decimals: Mapping[str, int]
) -> tuple[storage.Transaction, storage.TransactionStatusMeta]:
    """A landed transaction (the chain's ``Stored``) as Yellowstone's ``storage``
    messages carry it (``convert_to.rs``: ``create_transaction``,
    ``create_transaction_meta``): signatures, message (header, static keys, blockhash,
    compiled instructions, ``versioned``, lookups); meta (err as bincode, fee,
    balances, inner instructions, logs, token balances, loaded addresses, compute
    units). ``decimals``: the mints' decimals."""
    tx, o = stored.tx, stored.outcome
    msg = tx.message
    h = msg.header
    lookups = list(getattr(msg, "address_table_lookups", ()) or ())
    body = storage.Transaction(
        signatures=[bytes(x) for x in tx.signatures],
        message=storage.Message(
            header=storage.MessageHeader(
                num_required_signatures=h.num_required_signatures,
                num_readonly_signed_accounts=h.num_readonly_signed_accounts,
                num_readonly_unsigned_accounts=h.num_readonly_unsigned_accounts,
            ),
            account_keys=[bytes(k) for k in msg.account_keys],
            recent_blockhash=bytes(msg.recent_blockhash),
            instructions=[
                storage.CompiledInstruction(
                    program_id_index=ix.program_id_index,
                    accounts=bytes(ix.accounts),
                    data=bytes(ix.data),
                )
                for ix in msg.instructions
            ],
            versioned=hasattr(msg, "address_table_lookups"),
            address_table_lookups=[
                storage.MessageAddressTableLookup(
                    account_key=bytes(t.account_key),
                    writable_indexes=bytes(t.writable_indexes),
                    readonly_indexes=bytes(t.readonly_indexes),
                )
                for t in lookups
            ],
        ),
    )
    keys = stored.keys()
    at: dict[str, int] = {}
    for i, k in enumerate(keys):
        at.setdefault(k, i)

    def balances(rows: Any) -> list[storage.TokenBalance]:
        out = []
        for index, mint, owner, amount, program in rows:
            dec = decimals.get(mint, 0)
            text = str(amount).rjust(dec + 1, "0")
            shown = f"{text[:-dec]}.{text[-dec:]}".rstrip("0").rstrip(".") if dec else text
            out.append(
                storage.TokenBalance(
                    account_index=index,
                    mint=mint,
                    ui_token_amount=storage.UiTokenAmount(
                        ui_amount=float(shown),
                        decimals=dec,
                        amount=str(amount),
                        ui_amount_string=shown,
                    ),
                    owner=owner,
                    program_id=program,
                )
            )
        return out

    meta = storage.TransactionStatusMeta(
        fee=o.fee,
        pre_balances=list(stored.pre),
        post_balances=list(stored.post),
        inner_instructions=[
            storage.InnerInstructions(
                index=index,
                instructions=[
                    storage.InnerInstruction(
                        program_id_index=at[c.program],
                        accounts=bytes(at[a] for a in c.accounts),
                        data=c.data,
                        stack_height=c.stack_height,
                    )
                    for c in calls
                    if c.program in at and all(a in at for a in c.accounts)
                ],
            )
            for index, calls in o.inner
        ],
        log_messages=list(o.logs),
        pre_token_balances=balances(stored.pre_tokens),
        post_token_balances=balances(stored.post_tokens),
        loaded_writable_addresses=[parse_pubkey(k) for k in o.loaded[0]],
        loaded_readonly_addresses=[parse_pubkey(k) for k in o.loaded[1]],
        return_data_none=True,
        compute_units_consumed=o.units,
    )
    if o.err is not None:
        meta.err.err = error_bytes(o.err)
    return body, meta


def slot_update(f: Filter, slot: int, parent: int, status: int) -> bytes | None:
    """A slot status for the slot filters that want it (``FilterSlots::get_updates``:
    with ``filter_by_commitment`` only the stream's commitment's; the interslot
    statuses only with ``interslot_updates``), None when none does."""
    names = [
        n
        for n, (by_commitment, interslot) in f.slots.items()
        if (not by_commitment or status == f.commitment)
        and (interslot or status in (PROCESSED, CONFIRMED, FINALIZED))
    ]
    if not names:
        return None
    su = pb.SubscribeUpdateSlot(slot=slot, status=status)  # type: ignore[arg-type]
    if status in WITH_PARENT:
        su.parent = parent
    return pb.SubscribeUpdate(filters=names, slot=su).SerializeToString()


def render(
    f: Filter,
    rec: SlotRecord,
    before: Sequence[int],
    after: Sequence[int] = (),
    data: bool = True,
) -> list[bytes]:
    """The updates ``f`` wants of one stored slot: the slot statuses ``before``, then
    (``data``) its accounts and its transactions (each with the names of the filters it
    matched), then the statuses ``after``. Live, a slot's accounts and transactions come
    before its PROCESSED status at ``processed``, and before its CONFIRMED one at
    ``confirmed`` (:data:`BEFORE`, :data:`AFTER`); a replay sends a slot's statuses
    first (``grpc.rs``: ``messages_slots`` then ``messages``)."""
    out: list[bytes] = []
    for status in before:
        raw = slot_update(f, rec.slot, rec.parent, status)
        if raw is not None:
            out.append(raw)
    if data and f.accounts:
        for a in rec.accounts:
            names = [
                n
                for n, (acc, own, flt) in f.accounts.items()
                if (not acc or a.pubkey in acc) and (not own or a.owner in own) and flt.matches(a)
            ]
            if not names:
                continue
            info = pb.SubscribeUpdateAccountInfo(
                pubkey=parse_pubkey(a.pubkey),
                lamports=a.lamports,
                owner=parse_pubkey(a.owner),
                # rent-exempt accounts' epoch; an account that does not exist: 0 (Agave's
                # default account, as the plugin sends an absent one)
                rent_epoch=U64_MAX if a.lamports else 0,
                data=a.data,
                write_version=a.write_version,
            )
            if a.txn_signature is not None:
                info.txn_signature = _b58decode(a.txn_signature)
            out.append(
                pb.SubscribeUpdate(
                    filters=names, account=pb.SubscribeUpdateAccount(account=info, slot=rec.slot)
                ).SerializeToString()
            )
    if data and f.txs:
        for index, tx in enumerate(rec.txs):
            keys = set(tx.keys)
            err = tx.err
            names = [
                n
                for n, (failed, inc, exc, req) in f.txs.items()
                if (failed is None or failed == (err is not None))
                and (not inc or keys & inc)
                and not keys & exc
                and req <= keys
            ]
            if not names:
                continue
            raw_sig = _b58decode(tx.signature)
            meta, body = tx.meta, tx.transaction
            if meta is None or body is None:  # a market's own swap: no body
                meta = storage.TransactionStatusMeta(log_messages=list(tx.logs), fee=5_000)
                if err is not None:
                    meta.err.err = error_bytes(err)
                body = storage.Transaction(signatures=[raw_sig])
                body.message.account_keys.extend(parse_pubkey(p) for p in tx.keys)
            info_t = pb.SubscribeUpdateTransactionInfo(
                signature=raw_sig, is_vote=False, transaction=body, meta=meta, index=index
            )
            out.append(
                pb.SubscribeUpdate(
                    filters=names,
                    transaction=pb.SubscribeUpdateTransaction(transaction=info_t, slot=rec.slot),
                ).SerializeToString()
            )
    for status in after:
        raw = slot_update(f, rec.slot, rec.parent, status)
        if raw is not None:
            out.append(raw)
    return out


def live(f: Filter, rec: SlotRecord, rooted: SlotRecord | None) -> list[bytes]:
    """What a stream of ``f`` is sent when slot ``rec`` is published and ``rooted``
    becomes the root (finalized), in the plugin's order: at ``processed`` the slot's
    bank created, its accounts and transactions, then completed, processed, confirmed;
    at ``confirmed`` its statuses up to processed, then its accounts and transactions,
    then confirmed; at ``finalized`` its statuses, then the root's accounts and
    transactions; then the root's FINALIZED status."""
    if f.commitment == FINALIZED:
        out = render(f, rec, (CREATED_BANK, COMPLETED, PROCESSED, CONFIRMED), data=False)
        if rooted is not None:
            out += render(f, rooted, (), (FINALIZED,))
        return out
    out = render(f, rec, BEFORE[f.commitment], AFTER[f.commitment])
    if rooted is not None:
        out += render(f, rooted, (FINALIZED,), data=False)
    return out


class _End:
    """Ends a stream with a status (queued after what was due before it)."""

    __slots__ = ("code", "details")

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details


@dataclass(eq=False)
class Stream:
    """One client's Subscribe stream."""

    queue: asyncio.Queue[tuple[float, bytes | _End]] = field(default_factory=asyncio.Queue)
    filter: Filter | None = None
    sent: int = 0
    pings: int = 0
    pongs: int = 0
    requests: int = 0
    lied: bool = False  # its one slot from the future was told (profile.future_after)
    capacity: int = 250_000  # its channel (the profile's grpc_channel_capacity)
    lagged: bool = False  # ended for lag: nothing more is queued for it

    def update(self, due: float, raw: bytes) -> bool:
        """Queue an update as Yellowstone's ``try_send`` does: into a channel with room,
        else the stream ends (``INTERNAL`` after what it holds). False: not queued."""
        if self.lagged:
            return False
        if self.queue.qsize() >= self.capacity:
            self.lagged = True
            self.queue.put_nowait((0.0, _End(grpc.StatusCode.INTERNAL, LAGGED)))
            return False
        self.queue.put_nowait((due, raw))
        return True


class GeyserService:
    """One endpoint's Yellowstone gRPC service (see the module docstring)."""

    def __init__(
        self,
        profile: Any,
        seed: int,
        ping_s: float = PING_S,
        replay_slots: int = REPLAY_SLOTS,
        x_token: str | None = None,
        allow_any: bool = True,
        blocks: Any = None,
    ) -> None:
        self.profile = profile
        self.rng = random.Random(seed ^ 0x6E7C)  # its own draws: PubSub's stay as they were
        self.ping_s, self.replay_slots = ping_s, replay_slots
        self.x_token, self.allow_any = x_token, allow_any
        # the chain's blocks (``feeds.sim.chain.Chain``: ``blockhash(slot)``,
        # ``block_height(slot)``) for the unary calls; None: they say no block is known
        self.blocks = blocks
        self.streams: set[Stream] = set()
        # the slots kept for from_slot: the plugin keeps those from its finalized slot
        # less FINALIZATION_SAFETY_BUFFER and replay_stored_slots on (grpc.rs)
        keep = replay_slots + FINALIZATION_SAFETY_BUFFER + ROOT_DISTANCE + 1
        self.store: deque[SlotRecord] = deque(maxlen=max(1, keep))
        # the blockhashes of the slots published (IsBlockhashValid), oldest first
        self.hashes: dict[str, int] = {}
        self.slot = 0
        self.server: grpc.aio.Server | None = None
        self.port = 0
        self.stats = {
            "streams": 0,
            "updates": 0,
            "dropped": 0,
            "pings": 0,
            "pongs": 0,
            "refused": 0,
            "replayed": 0,
            "lagged": 0,  # streams ended: their channel was full (Stream.update)
        }
        self.stopping = asyncio.Event()

    # ------------------------------------------------------------ server
    async def start(self, host: str, port: int = 0) -> None:
        handlers = {
            "Subscribe": grpc.stream_stream_rpc_method_handler(
                self._subscribe, request_deserializer=pb.SubscribeRequest.FromString
            ),
            "GetSlot": _unary(self._get_slot, pb.GetSlotRequest, pb.GetSlotResponse),
            "GetBlockHeight": _unary(
                self._get_block_height, pb.GetBlockHeightRequest, pb.GetBlockHeightResponse
            ),
            "GetLatestBlockhash": _unary(
                self._get_latest_blockhash,
                pb.GetLatestBlockhashRequest,
                pb.GetLatestBlockhashResponse,
            ),
            "IsBlockhashValid": _unary(
                self._is_blockhash_valid, pb.IsBlockhashValidRequest, pb.IsBlockhashValidResponse
            ),
            "GetVersion": _unary(self._get_version, pb.GetVersionRequest, pb.GetVersionResponse),
            "Ping": _unary(self._ping, pb.PingRequest, pb.PongResponse),
            "SubscribeReplayInfo": _unary(
                self._replay_info, pb.SubscribeReplayInfoRequest, pb.SubscribeReplayInfoResponse
            ),
        }
        self.server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("geyser.Geyser", handlers),)
        )
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        if not self.port:
            raise OSError(f"the simulator's gRPC could not listen on {host}:{port}")
        await self.server.start()

    async def stop(self) -> None:
        self.stopping.set()
        if self.server is not None:
            await self.server.stop(grace=0.2)

    def drop_streams(self, details: str = "stream dropped by the simulator") -> int:
        """End every stream now (``UNAVAILABLE``, as a cut connection): how many."""
        n = len(self.streams)
        for s in self.streams:
            s.queue.put_nowait((0.0, _End(grpc.StatusCode.UNAVAILABLE, details)))
        return n

    async def _authorized(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        if self.x_token is None:
            return
        got = dict(context.invocation_metadata() or ()).get("x-token")
        if got != self.x_token:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "No valid auth token")

    async def _block(self, req: Any, context: Any) -> int:
        """The slot of the block at the request's commitment (``BlockMetaStorage``:
        processed and confirmed the newest, the simulator confirming at once; finalized
        32 slots back), or the call ends with the plugin's status."""
        commitment = req.commitment if req.HasField("commitment") else PROCESSED
        if commitment not in (PROCESSED, CONFIRMED, FINALIZED):
            await context.abort(
                grpc.StatusCode.UNKNOWN, f"failed to create CommitmentLevel from {commitment}"
            )
        slot = self.slot - ROOT_DISTANCE if commitment == FINALIZED else self.slot
        if self.blocks is None or not self.store or slot < self.store[0].slot:
            await context.abort(grpc.StatusCode.INTERNAL, "block is not available yet")
        return slot

    async def _get_slot(self, req: Any, context: Any) -> Any:
        await self._authorized(context)
        return pb.GetSlotResponse(slot=await self._block(req, context))

    async def _get_block_height(self, req: Any, context: Any) -> Any:
        await self._authorized(context)
        slot = await self._block(req, context)
        return pb.GetBlockHeightResponse(block_height=self.blocks.block_height(slot))

    async def _get_latest_blockhash(self, req: Any, context: Any) -> Any:
        await self._authorized(context)
        slot = await self._block(req, context)
        height = self.blocks.block_height(slot)
        return pb.GetLatestBlockhashResponse(
            slot=slot,
            blockhash=self.blocks.blockhash(slot),
            last_valid_block_height=height + RECENT_BLOCKHASHES,
        )

    async def _is_blockhash_valid(self, req: Any, context: Any) -> Any:
        """Whether the plugin holds ``blockhash`` at the commitment: "startup" until it
        holds :data:`BLOCKHASHES_HELD` of them (it keeps those of the slots from its
        finalized slot less that many on)."""
        await self._authorized(context)
        commitment = req.commitment if req.HasField("commitment") else PROCESSED
        if commitment not in (PROCESSED, CONFIRMED, FINALIZED):
            await context.abort(
                grpc.StatusCode.UNKNOWN, f"failed to create CommitmentLevel from {commitment}"
            )
        if len(self.hashes) < BLOCKHASHES_HELD:
            await context.abort(grpc.StatusCode.INTERNAL, "startup")
        slot = self.slot - ROOT_DISTANCE if commitment == FINALIZED else self.slot
        at = self.hashes.get(req.blockhash)
        return pb.IsBlockhashValidResponse(slot=slot, valid=at is not None and at <= slot)

    async def _get_version(self, req: Any, context: Any) -> Any:
        await self._authorized(context)
        return pb.GetVersionResponse(version=VERSION)

    async def _ping(self, req: Any, context: Any) -> Any:
        await self._authorized(context)
        return pb.PongResponse(count=req.count)

    async def _replay_info(self, req: Any, context: Any) -> Any:
        """The oldest slot ``from_slot`` can ask for: u64::MAX until the store first
        dropped a slot (``replay_first_available_slot``), none without a store."""
        await self._authorized(context)
        out = pb.SubscribeReplayInfoResponse()
        if self.replay_slots:
            full = self.store and len(self.store) == self.store.maxlen
            out.first_available = self.store[0].slot if full else U64_MAX
        return out

    async def _subscribe(
        self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[bytes]:
        if self.profile.silent:
            await self.stopping.wait()
            return
        await self._authorized(context)
        stream = Stream(capacity=self.profile.grpc_channel_capacity)
        self.streams.add(stream)
        self.stats["streams"] += 1
        reader = asyncio.create_task(self._read(stream, requests))
        pinger = asyncio.create_task(self._pings(stream))
        p = self.profile
        try:
            while True:
                due, item = await stream.queue.get()
                if isinstance(item, _End):
                    await context.abort(item.code, item.details)
                    return
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if due and p.stall_after is not None and stream.sent >= p.stall_after:
                    continue  # stalled: the stream stays open, nothing more is sent
                yield item
                if due:
                    stream.sent += 1
                    if p.close_after is not None and stream.sent >= p.close_after:
                        await context.abort(grpc.StatusCode.UNAVAILABLE, "stream cut (close_after)")
                        return
        finally:
            reader.cancel()
            pinger.cancel()
            self.streams.discard(stream)

    async def _pings(self, stream: Stream) -> None:
        ping = pb.SubscribeUpdate(ping=pb.SubscribeUpdatePing()).SerializeToString()
        while True:  # one at once, then every ping_s (tokio's interval ticks at once)
            stream.queue.put_nowait((0.0, ping))
            stream.pings += 1
            self.stats["pings"] += 1
            await asyncio.sleep(self.ping_s)

    async def _read(self, stream: Stream, requests: AsyncIterator[Any]) -> None:
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError, Exception):
            async for req in requests:
                stream.requests += 1
                try:
                    f = make_filter(req, self.allow_any)
                except FilterError as exc:
                    self.stats["refused"] += 1
                    why = f"failed to create filter: {exc}"
                    stream.queue.put_nowait((0.0, _End(grpc.StatusCode.INVALID_ARGUMENT, why)))
                    return
                if req.HasField("ping"):  # answered, the filter unchanged
                    pong = pb.SubscribeUpdate(pong=pb.SubscribeUpdatePong(id=req.ping.id))
                    stream.queue.put_nowait((0.0, pong.SerializeToString()))
                    stream.pongs += 1
                    self.stats["pongs"] += 1
                    continue
                stream.filter = f
                if req.HasField("from_slot"):
                    self._replay(stream, req.from_slot)

    def _replay(self, stream: Stream, from_slot: int) -> None:
        """The stored slots from ``from_slot`` on, before anything newer."""
        f = stream.filter
        assert f is not None
        if not self.replay_slots:
            stream.queue.put_nowait(
                (0.0, _End(grpc.StatusCode.INTERNAL, "from_slot is not supported"))
            )
            return
        first = self.store[0].slot if self.store else self.slot
        if from_slot < first:
            stream.queue.put_nowait(
                (
                    0.0,
                    _End(
                        grpc.StatusCode.OUT_OF_RANGE,
                        f"broadcast from {from_slot} is not available, last available: {first}",
                    ),
                )
            )
            return
        root = self.slot - ROOT_DISTANCE
        for rec in self.store:
            if rec.slot < from_slot:
                continue
            # each slot's statuses so far, then its accounts and transactions once the
            # slot reached the stream's commitment (grpc.rs's replay)
            rooted = rec.slot <= root
            statuses = (CREATED_BANK, COMPLETED, PROCESSED, CONFIRMED)
            data = f.commitment != FINALIZED or rooted
            for raw in render(f, rec, statuses + ((FINALIZED,) if rooted else ()), data=data):
                if not self._update(stream, 0.0, raw):
                    return
                self.stats["replayed"] += 1

    # ------------------------------------------------------------ publishing
    def _update(self, stream: Stream, due: float, raw: bytes) -> bool:
        """Queue an update on ``stream`` (:meth:`Stream.update`), its lag counted."""
        was = stream.lagged
        if stream.update(due, raw):
            return True
        if not was:
            self.stats["lagged"] += 1
        return False

    def render_all(self, rec: SlotRecord) -> dict[Stream, list[bytes]]:
        """One slot's updates for every stream with a filter, rendered (the bench flood)."""
        out: dict[Stream, list[bytes]] = {}
        for stream in self.streams:
            f = stream.filter
            if f is not None and f.commitment != FINALIZED:
                out[stream] = render(f, rec, BEFORE[f.commitment], AFTER[f.commitment])
        return out

    async def flood(self, updates: dict[Stream, list[bytes]], rate: float, log: list[int]) -> None:
        """Queue pre-rendered updates on their streams: paced at ``rate`` a second per
        stream (each stamped in ``log``, monotonic ns, as it is queued), or all at once
        when 0 (the bench: bench/grpc_e2e.py)."""
        for stream, raws in updates.items():
            if rate <= 0:
                for raw in raws:
                    if not self._update(stream, 0.0, raw):
                        break
                continue
            start = time.monotonic()
            for i, raw in enumerate(raws):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                log.append(time.monotonic_ns())
                if not self._update(stream, 0.0, raw):
                    break
        self.stats["updates"] += sum(len(v) for v in updates.values())

    def publish(self, rec: SlotRecord, due: float, rooted: SlotRecord | None) -> None:
        """Queue one slot for every stream at ``due`` (monotonic s: the endpoint's own
        delay for this slot); ``rooted``: the slot that became the root (finalized)."""
        p, r = self.profile, self.rng
        self.store.append(rec)
        self.slot = rec.slot
        if self.blocks is not None:
            self.hashes[self.blocks.blockhash(rec.slot)] = rec.slot
            oldest = rec.slot - ROOT_DISTANCE - BLOCKHASHES_HELD
            while self.hashes and next(iter(self.hashes.values())) < oldest:
                del self.hashes[next(iter(self.hashes))]
        told = rec
        if p.lag_slots:  # every slot told this many slots late (the store keeps them)
            if len(self.store) <= p.lag_slots:
                return
            told = self.store[-1 - p.lag_slots]
        for stream in self.streams:
            f = stream.filter
            if f is None:
                continue
            if p.future_after is not None and not stream.lied and stream.sent >= p.future_after:
                # once: a slot and an account future_slots ahead (as the PubSub liar)
                stream.lied = True
                ahead = SlotRecord(told.slot + p.future_slots, told.accounts[:1], ())
                for raw in render(f, ahead, (CONFIRMED,))[:2]:
                    self._update(stream, due, raw)
            out = live(f, told, rooted)
            for raw in out:
                if p.drop_rate and r.random() < p.drop_rate:
                    self.stats["dropped"] += 1
                    continue
                if p.malformed_rate and r.random() < p.malformed_rate:
                    raw = raw[: len(raw) // 2]
                if not self._update(stream, due, raw):
                    break
                self.stats["updates"] += 1
