"""The simulator's answers to the node methods a client written by someone else reaches
for beyond the feed's own (issue 17): each one as Agave v3.1 answers it (``rpc/src/
rpc.rs``; parameter rules and wording in :mod:`feeds.sim.node`).

``getProgramAccounts``, ``getEpochInfo``, ``getEpochSchedule``,
``getMinimumBalanceForRentExemption``,
``getFeeForMessage``, ``getGenesisHash``, ``getTokenSupply``, ``getTokenAccountsByOwner``,
``getTransaction``, ``getBlock``, ``getSignaturesForAddress`` (transactions that landed
through the chain; the market's own swaps have no body).
Each takes the server (its world, chain and commitment slots) and the request's
``params``; :data:`METHODS` names them for the server's dispatch.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from solders.message import Message, MessageV0, from_bytes_versioned

from ..wire.instructions import ATA_PROGRAM, MEMO_PROGRAM, SPL_TOKEN, SYSTEM_PROGRAM, TOKEN_2022
from ..wire.txsize import PACKET_DATA_SIZE
from . import node as N
from .alt import LOADER_ERRORS, AltError
from .chain import MAX_BASE64_SIZE, Stored, is_writable
from .layouts import MINT_LEN, TOKEN_ACCOUNT_LEN
from .state import InnerIx
from .world import rent_exempt

if TYPE_CHECKING:
    from .server import SimServer

SLOTS_PER_EPOCH = 432_000  # mainnet's epoch schedule (no warmup)
MAX_PERMITTED_DATA_LENGTH = 10 * 1024 * 1024  # the largest account (bytes)
NATIVE_MINT = "So11111111111111111111111111111111111111112"
_MESSAGE_TYPE = "solana_message::non_bpf_modules::versions::VersionedMessage"


def bank_slot(srv: SimServer, cfg: dict[str, Any]) -> int:
    """The slot of the bank a request with ``cfg`` (commitment, minContextSlot) reads."""
    slot = srv.context_slot(N.commitment(cfg))
    N.min_context_slot(cfg, slot)
    return slot


def _response(srv: SimServer, slot: int, value: Any) -> dict[str, Any]:
    return {"context": srv.context(slot), "value": value}


def get_program_accounts(srv: SimServer, params: list[Any]) -> Any:
    """``getProgramAccounts [program, config?]``: filters, ``dataSlice``, encodings,
    ``withContext``, ``sortResults``, ``minContextSlot``."""
    N.arity(params, 1, 2)
    cfg = N.config(params, 1, N.PROGRAM_CONFIG)
    encoding = N.account_encoding(cfg, "binary")
    cut = N.data_slice(cfg)
    level = N.commitment(cfg)
    with_context, sort = cfg.get("withContext"), cfg.get("sortResults")
    for flag in (with_context, sort):
        if flag is not None and not isinstance(flag, bool):
            raise N.type_error(flag, "a boolean")
    program = N.parse_pubkey(params[0])
    filters = N.parse_filters(cfg.get("filters"))
    slot = srv.state_slot(level)
    N.min_context_slot(cfg, slot)
    value = N.program_accounts(
        srv.accounts_at(level),
        program,
        filters,
        encoding,
        cut,
        srv.decimals_of,
        sort=sort is not False,
    )
    return _response(srv, slot, value) if with_context else value


def get_epoch_info(srv: SimServer, params: list[Any]) -> dict[str, Any]:
    """``getEpochInfo [config?]``: the bank's epoch on mainnet's schedule."""
    N.arity(params, 0, 1)
    slot = bank_slot(srv, N.config(params, 0))
    return {
        "absoluteSlot": slot,
        "blockHeight": srv.chain.block_height(slot),
        "epoch": slot // SLOTS_PER_EPOCH,
        "slotIndex": slot % SLOTS_PER_EPOCH,
        "slotsInEpoch": SLOTS_PER_EPOCH,
        "transactionCount": srv.transaction_count,
    }


def get_epoch_schedule(srv: SimServer, params: list[Any]) -> dict[str, Any]:
    """``getEpochSchedule``: the cluster's epoch schedule from its genesis (Agave's
    ``get_epoch_schedule``: no parameters, no commitment; ``rpc/src/rpc.rs``). The
    simulated cluster's is mainnet's: 432,000 slots an epoch, each epoch's leader
    schedule computed an epoch ahead, no warmup (so the first normal epoch and slot are
    0). The fields are ``solana_epoch_schedule::EpochSchedule``'s, camelCase, in the
    order a node's JSON map gives them (by name)."""
    N.no_params(params)
    return {
        "firstNormalEpoch": 0,
        "firstNormalSlot": 0,
        "leaderScheduleSlotOffset": SLOTS_PER_EPOCH,
        "slotsPerEpoch": SLOTS_PER_EPOCH,
        "warmup": False,
    }


def get_minimum_balance_for_rent_exemption(srv: SimServer, params: list[Any]) -> int:
    """``getMinimumBalanceForRentExemption [data_len, commitment?]``: the rent-exempt
    minimum from the rent parameters (3,480 lamports per byte-year, 2 years, 128 bytes
    of overhead); over 10 MiB is the node's bare -32600 ``Invalid request``."""
    N.arity(params, 1, 2)
    size = N.expect_u64(params[0], "usize")
    N.commitment(N.config(params, 1, N.COMMITMENT_CONFIG), flat=False)
    if size > MAX_PERMITTED_DATA_LENGTH:
        raise N.RpcFault(N.INVALID_REQUEST, "Invalid request")
    return rent_exempt(size)


def get_genesis_hash(srv: SimServer, params: list[Any]) -> str:
    """``getGenesisHash``: the simulated cluster's own (a hash of its seed), so no client
    takes it for mainnet's."""
    N.no_params(params)
    digest = hashlib.sha256(f"arbscope-sim-genesis:{srv.world.config.seed}".encode()).digest()
    return N.b58encode(digest)


def get_token_supply(srv: SimServer, params: list[Any]) -> dict[str, Any]:
    """``getTokenSupply [mint, commitment?]``: the mint's supply as a ``UiTokenAmount``."""
    N.arity(params, 1, 2)
    level = N.commitment(N.config(params, 1, N.COMMITMENT_CONFIG), flat=False)
    slot = srv.state_slot(level)
    mint = N.parse_pubkey(params[0])
    acc = srv.accounts_at(level).get(mint)
    if acc is None:
        raise N.invalid_params("Invalid param: could not find account")
    if acc.owner not in N.TOKEN_PROGRAMS:
        raise N.invalid_params("Invalid param: not a Token mint")
    if len(acc.data) != MINT_LEN or not acc.data[45]:
        raise N.invalid_params("Invalid param: mint could not be unpacked")
    supply = int.from_bytes(acc.data[36:44], "little")
    return _response(srv, slot, N.ui_amount(supply, acc.data[44]))


def get_token_accounts_by_owner(srv: SimServer, params: list[Any]) -> dict[str, Any]:
    """``getTokenAccountsByOwner [owner, {mint}|{programId}, config?]``: the owner's
    initialized token accounts (of one mint, or of one token program), by address."""
    N.arity(params, 2, 3)
    which = params[1]
    if not isinstance(which, dict):
        raise N.type_error(which, "enum RpcTokenAccountsFilter")
    if len(which) != 1 or next(iter(which)) not in ("mint", "programId"):
        key = next(iter(which), "")
        raise N.invalid_params(
            f"Invalid params: unknown variant `{key}`, expected `mint` or `programId`."
        )
    cfg = N.config(params, 2, N.ACCOUNT_CONFIG)
    encoding = N.account_encoding(cfg, "binary")
    cut = N.data_slice(cfg)
    level = N.commitment(cfg)
    owner = N.parse_pubkey(params[0])
    ((kind, key),) = which.items()
    key = N.parse_pubkey(key)
    slot = srv.state_slot(level)
    N.min_context_slot(cfg, slot)
    filters = [
        N.Filter("tokenAccountState"),
        N.Filter("memcmp", offset=32, raw=N.pubkey_bytes(owner)),
    ]
    if kind == "mint":
        program = _mint_owner(srv, key)
        filters.append(N.Filter("memcmp", offset=0, raw=N.pubkey_bytes(key)))
    elif key in N.TOKEN_PROGRAMS:
        program = key
    else:
        raise N.invalid_params("Invalid param: unrecognized Token program id")
    value = N.program_accounts(
        srv.accounts_at(level), program, filters, encoding, cut, srv.decimals_of
    )
    return _response(srv, slot, value)


def _mint_owner(srv: SimServer, mint: str) -> str:
    """The token program of ``mint`` (``get_mint_owner_and_additional_data``)."""
    if mint == NATIVE_MINT:
        return SPL_TOKEN
    acc = srv.world.accounts.get(mint)
    if acc is None:
        raise N.invalid_params("Invalid param: could not find mint")
    if len(acc.data) < MINT_LEN or not acc.data[45] or len(acc.data) == TOKEN_ACCOUNT_LEN:
        raise N.invalid_params("Invalid param: Token mint could not be unpacked")
    if acc.owner not in N.TOKEN_PROGRAMS:
        raise N.invalid_params("Invalid param: not a Token mint")
    return acc.owner


def decode_message(text: Any) -> Message | MessageV0:
    """A base64 ``VersionedMessage`` as ``decode_and_deserialize`` takes it."""
    text = N.expect_str(text)
    if len(text) > MAX_BASE64_SIZE:
        raise N.invalid_params(
            f"base64 encoded {_MESSAGE_TYPE} too large: {len(text)} bytes "
            f"(max: encoded/raw {MAX_BASE64_SIZE}/{PACKET_DATA_SIZE})"
        )
    problem = N.base64_problem(text)
    if problem:
        raise N.invalid_params(f"invalid base64 encoding: {problem}")
    raw = base64.b64decode(text)
    if len(raw) > PACKET_DATA_SIZE:
        raise N.invalid_params(
            f"decoded {_MESSAGE_TYPE} too large: {len(raw)} bytes (max: {PACKET_DATA_SIZE} bytes)"
        )
    try:
        msg = from_bytes_versioned(raw)
    except (ValueError, binascii.Error, TypeError) as exc:
        raise N.invalid_params(f"failed to deserialize {_MESSAGE_TYPE}: {N.bincode(exc)}") from None
    except Exception as exc:  # solders raises its own error types
        what = f"failed to deserialize {_MESSAGE_TYPE}: {N.bincode(exc)}"
        raise N.invalid_params(what[:300]) from None
    if not isinstance(msg, (Message, MessageV0)):
        raise N.invalid_params("invalid transaction message: unsupported message version")
    return msg


def get_fee_for_message(srv: SimServer, params: list[Any]) -> dict[str, Any]:
    """``getFeeForMessage [message, config?]``: what the message would pay (signatures
    and its compute-budget price), or null when its blockhash is not one the bank
    knows."""
    N.arity(params, 1, 2)
    cfg = N.config(params, 1)  # the parameters deserialize before the message decodes
    msg = decode_message(params[0])
    slot = bank_slot(srv, cfg)
    try:  # a v0 message's lookups resolve against the bank, as SanitizedMessage::try_new
        srv.chain.lookups(msg)
    except AltError as exc:
        raise N.RpcFault(
            -32602, f"invalid transaction message: {LOADER_ERRORS[exc.name]}"
        ) from None
    fee = srv.chain.fee_for_message(msg, slot)
    return _response(srv, slot, fee)


# ------------------------------------------------------------------ the ledger
TX_ENCODINGS = ("binary", "base64", "base58", "json", "jsonParsed")
MAX_SIGNATURES = 1_000  # getSignaturesForAddress's largest page
_BELOW_CONFIRMED = "Method does not support commitment below `confirmed`"
UNSUPPORTED_VERSION = (
    "Transaction version (0) is not supported by the requesting client. Please try the "
    'request again with the following configuration parameter: "maxSupportedTransactionVersion": 0'
)


WRAPPER_REFUSED = (
    "Invalid params: data did not match any variant of untagged enum RpcEncodingConfigWrapper."
)


def _wrapped_config(params: list[Any], block: bool) -> dict[str, Any]:
    """The configuration of ``getTransaction`` / ``getBlock`` (``params[1]``), an
    untagged ``RpcEncodingConfigWrapper``: an encoding alone (the old form) or the
    configuration object; anything that fits neither — a string that is no encoding, a
    number, an object one of whose fields does not deserialize — is refused in serde's
    words for an untagged enum, whatever the field (measured on Agave 3.1.12)."""
    raw = params[1] if len(params) > 1 else None
    if raw is None:
        return {}
    if isinstance(raw, str):
        if raw not in TX_ENCODINGS:
            raise N.invalid_params(WRAPPER_REFUSED)
        return {"encoding": raw}
    if not isinstance(raw, dict):
        raise N.invalid_params(WRAPPER_REFUSED)
    try:
        if raw.get("encoding") is not None:
            N.variant(raw["encoding"], TX_ENCODINGS)
        if raw.get("maxSupportedTransactionVersion") is not None:
            N.expect_u64(raw["maxSupportedTransactionVersion"], "u8")
            if raw["maxSupportedTransactionVersion"] > 255:
                raise N.invalid_params("u8")
        if block and raw.get("transactionDetails") is not None:
            N.variant(raw["transactionDetails"], BLOCK_DETAILS)
        if block and raw.get("rewards") is not None:
            N.expect_bool(raw["rewards"])
    except N.RpcFault:
        raise N.invalid_params(WRAPPER_REFUSED) from None
    return raw


def _ledger_level(cfg: dict[str, Any]) -> str:
    """The commitment of a ledger read: ``confirmed`` or ``finalized`` (the default)."""
    level = N.commitment(cfg)
    if level == "processed":
        raise N.invalid_params(_BELOW_CONFIRMED)
    return level


def _visible(srv: SimServer, slot: int, level: str) -> bool:
    """Whether a transaction of ``slot`` is in the ledger at ``level`` (finalized: the
    root has reached it)."""
    return slot <= srv.context_slot(level)


def _ui_message(msg: Message | MessageV0) -> dict[str, Any]:
    """A message as ``json`` encodes it (``UiRawMessage``)."""
    h = msg.header
    out: dict[str, Any] = {
        "header": {
            "numRequiredSignatures": h.num_required_signatures,
            "numReadonlySignedAccounts": h.num_readonly_signed_accounts,
            "numReadonlyUnsignedAccounts": h.num_readonly_unsigned_accounts,
        },
        "accountKeys": [str(k) for k in msg.account_keys],
        "recentBlockhash": str(msg.recent_blockhash),
        "instructions": [
            {
                "programIdIndex": ix.program_id_index,
                "accounts": list(bytes(ix.accounts)),
                "data": N.b58encode(bytes(ix.data)),
                "stackHeight": 1,  # a top-level instruction's (Agave 3.1 writes it)
            }
            for ix in msg.instructions
        ],
    }
    if isinstance(msg, MessageV0):
        out["addressTableLookups"] = _lookups(msg)
    return out


def _lookups(msg: MessageV0) -> list[dict[str, Any]]:
    """A v0 message's ``addressTableLookups`` as the node's JSON shows them."""
    return [
        {
            "accountKey": str(t.account_key),
            "writableIndexes": list(bytes(t.writable_indexes)),
            "readonlyIndexes": list(bytes(t.readonly_indexes)),
        }
        for t in msg.address_table_lookups
    ]


def _parsed_instruction(
    program: str,
    accounts: list[str],
    data: bytes,
    stack_height: int | None,
    decimals: Callable[[str], int],
) -> dict[str, Any]:
    """One instruction as ``jsonParsed`` shows it (``parse_ui_instruction``): parsed
    where the node parses its program — a system transfer or account creation, an SPL
    Token or Token-2022 ``transfer`` / ``transferChecked`` (``parse_token.rs``: the
    amount as a string, a checked one's ``tokenAmount``; the program named
    ``spl-token`` for both), the instructions an associated token account's creation
    makes (``getAccountDataSize``, ``initializeImmutableOwner``,
    ``initializeAccount3``) and the creation itself (``parse_associated_token.rs``), a
    memo (its text) — and partially decoded otherwise."""
    if program == SYSTEM_PROGRAM and len(data) == 12 and data[:4] == bytes((2, 0, 0, 0)):
        info: dict[str, Any] = {
            "destination": accounts[1],
            "lamports": int.from_bytes(data[4:12], "little"),
            "source": accounts[0],
        }
        return _parsed("system", program, "transfer", info, stack_height)
    if (
        program == SYSTEM_PROGRAM
        and len(data) == 52
        and data[:4] == bytes(4)
        and len(accounts) >= 2
    ):
        info = {
            "lamports": int.from_bytes(data[4:12], "little"),
            "newAccount": accounts[1],
            "owner": N.b58encode(data[20:52]),
            "source": accounts[0],
            "space": int.from_bytes(data[12:20], "little"),
        }
        return _parsed("system", program, "createAccount", info, stack_height)
    if program in TOKEN_PROGRAMS and data[:1] == b"\x15" and len(data) % 2 == 1 and accounts:
        kinds = [int.from_bytes(data[j : j + 2], "little") for j in range(1, len(data), 2)]
        if all(k in _EXTENSION_NAMES for k in kinds):
            info = {"extensionTypes": [_EXTENSION_NAMES[k] for k in kinds], "mint": accounts[0]}
            return _parsed("spl-token", program, "getAccountDataSize", info, stack_height)
    if program in TOKEN_PROGRAMS and data == b"\x16" and accounts:
        info = {"account": accounts[0]}
        return _parsed("spl-token", program, "initializeImmutableOwner", info, stack_height)
    if program in TOKEN_PROGRAMS and data[:1] == b"\x12" and len(data) == 33 and len(accounts) >= 2:
        info = {"account": accounts[0], "mint": accounts[1], "owner": N.b58encode(data[1:33])}
        return _parsed("spl-token", program, "initializeAccount3", info, stack_height)
    if program == ATA_PROGRAM and data in (b"", b"\x00", b"\x01") and len(accounts) >= 6:
        info = {
            "account": accounts[1],
            "mint": accounts[3],
            "source": accounts[0],
            "systemProgram": accounts[4],
            "tokenProgram": accounts[5],
            "wallet": accounts[2],
        }
        kind = "createIdempotent" if data == b"\x01" else "create"
        return _parsed("spl-associated-token-account", program, kind, info, stack_height)
    if program in TOKEN_PROGRAMS and data[:1] == b"\x03" and len(data) == 9 and len(accounts) >= 3:
        info = {
            "amount": str(int.from_bytes(data[1:9], "little")),
            "authority": accounts[2],
            "destination": accounts[1],
            "source": accounts[0],
        }
        return _parsed(_TOKEN_NAMES[program], program, "transfer", info, stack_height)
    if program in TOKEN_PROGRAMS and data[:1] == b"\x0c" and len(data) == 10 and len(accounts) >= 4:
        amount, dec = int.from_bytes(data[1:9], "little"), data[9]
        info = {
            "authority": accounts[3],
            "destination": accounts[2],
            "mint": accounts[1],
            "source": accounts[0],
            "tokenAmount": N.ui_amount(amount, dec),
        }
        return _parsed(_TOKEN_NAMES[program], program, "transferChecked", info, stack_height)
    if program == MEMO_PROGRAM:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = None
        if text is not None:
            return {
                "parsed": text,
                "program": "spl-memo",
                "programId": program,
                "stackHeight": stack_height,
            }
    return {
        "accounts": accounts,
        "data": N.b58encode(data),
        "programId": program,
        "stackHeight": stack_height,
    }


# ``jsonParsed`` names both token programs' instructions ``spl-token`` (Agave 3.1.12;
# an account of Token-2022 is ``spl-token-2022``)
_TOKEN_NAMES = {SPL_TOKEN: "spl-token", TOKEN_2022: "spl-token"}
_EXTENSION_NAMES = {7: "immutableOwner"}  # extension types an ATA's creation asks about
TOKEN_PROGRAMS = frozenset(_TOKEN_NAMES)


def _parsed(
    name: str, program: str, kind: str, info: dict[str, Any], stack_height: int | None
) -> dict[str, Any]:
    return {
        "parsed": {"info": info, "type": kind},
        "program": name,
        "programId": program,
        "stackHeight": stack_height,
    }


def _account_roles(
    msg: Message | MessageV0, loaded: tuple[tuple[str, ...], tuple[str, ...]]
) -> list[dict[str, Any]]:
    """The accounts of a message with their roles (``parse_accounts.rs``): the static
    ones, then the looked-up ones (writable first)."""
    roles = [
        {
            "pubkey": k,
            "writable": is_writable(msg, i),
            "signer": msg.is_signer(i),
            "source": "transaction",
        }
        for i, k in enumerate(str(k) for k in msg.account_keys)
    ]
    return roles + [
        {"pubkey": k, "writable": j == 0, "signer": False, "source": "lookupTable"}
        for j, part in enumerate(loaded)
        for k in part
    ]


def _parsed_message(
    msg: Message | MessageV0,
    loaded: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
    decimals: Callable[[str], int] = lambda mint: 0,
) -> dict[str, Any]:
    """A message as ``jsonParsed`` encodes it: keys with their roles, each instruction
    parsed where the node parses its program and partially decoded otherwise."""
    keys = [str(k) for k in msg.account_keys] + [*loaded[0], *loaded[1]]
    instructions = [
        _parsed_instruction(
            keys[ix.program_id_index],
            [keys[j] for j in bytes(ix.accounts)],
            bytes(ix.data),
            1,
            decimals,
        )
        for ix in msg.instructions
    ]
    out: dict[str, Any] = {
        "accountKeys": _account_roles(msg, loaded),
        "recentBlockhash": str(msg.recent_blockhash),
        "instructions": instructions,
    }
    if isinstance(msg, MessageV0):
        out["addressTableLookups"] = _lookups(msg)
    return out


def token_balances(
    rows: tuple[tuple[int, str, str, int, str], ...], decimals: Mapping[str, int]
) -> list[Any]:
    """Token balances (``UiTransactionTokenBalance``) of (account index, mint, owner,
    amount, token program) rows."""
    out = []
    for index, mint, owner, amount, program in rows:
        out.append(
            {
                "accountIndex": index,
                "mint": mint,
                "uiTokenAmount": N.ui_amount(amount, decimals.get(mint, 0)),
                "owner": owner,
                "programId": program,
            }
        )
    return out


def _token_balances(srv: SimServer, rows: tuple[tuple[int, str, str, int, str], ...]) -> list[Any]:
    return token_balances(rows, srv.chain.world.decimals)


def inner_instructions(
    keys: Sequence[str],
    inner: Sequence[tuple[int, Sequence[InnerIx]]],
    decimals: Mapping[str, int],
    parsed: bool,
) -> list[dict[str, Any]]:
    """``innerInstructions``: per top-level instruction that made any, its inner
    instructions in order (``json``: indexes into the transaction's keys, static then
    looked up; ``jsonParsed``: parsed as the top-level ones are, with their stack
    height)."""
    at: dict[str, int] = {}
    for i, k in enumerate(keys):
        at.setdefault(k, i)
    out: list[dict[str, Any]] = []
    for index, calls in inner:
        ixs: list[dict[str, Any]] = []
        for c in calls:
            if c.program not in at or any(a not in at for a in c.accounts):
                continue  # a CPI names only the transaction's accounts: never here
            if parsed:
                ixs.append(
                    _parsed_instruction(
                        c.program,
                        list(c.accounts),
                        c.data,
                        c.stack_height,
                        lambda m: decimals.get(m, 0),
                    )
                )
            else:
                ixs.append(
                    {
                        "programIdIndex": at[c.program],
                        "accounts": [at[a] for a in c.accounts],
                        "data": N.b58encode(c.data),
                        "stackHeight": c.stack_height,
                    }
                )
        out.append({"index": index, "instructions": ixs})
    return out


def _inner_instructions(srv: SimServer, stored: Stored, parsed: bool) -> list[dict[str, Any]]:
    return inner_instructions(stored.keys(), stored.outcome.inner, srv.chain.world.decimals, parsed)


def _status(stored: Stored) -> dict[str, Any]:
    """What every form of a landed transaction's meta opens with: its error, status, fee
    and lamport balances before and after."""
    o = stored.outcome
    return {
        "err": o.err,
        "status": {"Ok": None} if o.err is None else {"Err": o.err},
        "fee": o.fee,
        "preBalances": list(stored.pre),
        "postBalances": list(stored.post),
    }


def _meta(srv: SimServer, stored: Stored, encoding: str, rewards: bool) -> dict[str, Any]:
    """A landed transaction's status meta as ``encoding`` shows it (``jsonParsed``: no
    ``loadedAddresses``, its inner instructions parsed); ``rewards`` False: null (a
    block asked without them)."""
    o = stored.outcome
    meta: dict[str, Any] = {
        **_status(stored),
        "innerInstructions": _inner_instructions(srv, stored, encoding == "jsonParsed"),
        "logMessages": list(o.logs),
        "preTokenBalances": _token_balances(srv, stored.pre_tokens),
        "postTokenBalances": _token_balances(srv, stored.post_tokens),
        "rewards": [] if rewards else None,
    }
    if encoding != "jsonParsed":
        meta["loadedAddresses"] = {"writable": list(o.loaded[0]), "readonly": list(o.loaded[1])}
    meta["computeUnitsConsumed"] = o.units
    meta["costUnits"] = cost_units(stored)
    return meta


# the cost model's weights (Agave's ``cost-model`` ``block_cost_limits.rs``: compute units
# per microsecond 30, a signature 24 us, a write lock 10 us, 140 us of instruction data
# per byte ... as integer divisions)
SIGNATURE_COST, WRITE_LOCK_UNITS, INSTRUCTION_DATA_BYTES_COST = 720, 300, 4
LOADED_PAGE_BYTES, LOADED_PAGE_COST = 32 * 1024, 8


def cost_units(stored: Stored) -> int:
    """``meta.costUnits``: what the cost model charged the block for the transaction
    (``CostModel::calculate_cost_for_executed_transaction``): its signatures, its
    write locks, its instruction data (a unit per 4 bytes), the compute units it
    consumed and its loaded accounts' data (8 units a started 32 KiB page)."""
    msg = stored.tx.message
    data = sum(len(bytes(ix.data)) for ix in msg.instructions)
    pages = -(-stored.outcome.loaded_size // LOADED_PAGE_BYTES)
    return (
        SIGNATURE_COST * msg.header.num_required_signatures
        + WRITE_LOCK_UNITS * len(set(stored.writable()))
        + data // INSTRUCTION_DATA_BYTES_COST
        + stored.outcome.units
        + LOADED_PAGE_COST * pages
    )


def _version(stored: Stored, version: int | None) -> int | str | None:
    """The ``version`` field a node writes (None: left out, a client that asked for no
    version and a legacy transaction); -32015 for a v0 transaction such a client cannot
    read (``validate_version``)."""
    v0 = isinstance(stored.tx.message, MessageV0)
    if version is None:
        if v0:
            raise N.RpcFault(-32015, UNSUPPORTED_VERSION)
        return None
    return 0 if v0 else "legacy"


def encode_transaction(
    srv: SimServer, stored: Stored, encoding: str, version: int | None, rewards: bool = True
) -> dict[str, Any]:
    """A landed transaction as ``getTransaction`` and a ``full`` block show it
    (``EncodedTransactionWithStatusMeta``): its body in ``encoding`` (``json``,
    ``jsonParsed``, ``base58``, ``base64``, ``binary``), its status meta, its version."""
    tx, o = stored.tx, stored.outcome
    msg = tx.message
    assert isinstance(msg, (Message, MessageV0))  # the chain takes no other
    shown = _version(stored, version)
    raw = bytes(tx)
    if encoding in ("base58", "binary"):
        body: Any = [N.b58encode(raw), "base58"] if encoding == "base58" else N.b58encode(raw)
    elif encoding == "base64":
        body = [base64.b64encode(raw).decode(), "base64"]
    else:
        decimals = srv.chain.world.decimals
        message = (
            _parsed_message(msg, o.loaded, lambda m: decimals.get(m, 0))
            if encoding == "jsonParsed"
            else _ui_message(msg)
        )
        body = {"signatures": [str(x) for x in tx.signatures], "message": message}
    out: dict[str, Any] = {"transaction": body, "meta": _meta(srv, stored, encoding, rewards)}
    if shown is not None:
        out["version"] = shown
    return out


def _accounts_form(
    srv: SimServer, stored: Stored, version: int | None, rewards: bool
) -> dict[str, Any]:
    """A landed transaction as a block with ``transactionDetails: accounts`` shows it
    (``build_json_accounts``): its signatures and keys with their roles; a meta without
    inner instructions, logs, loaded addresses or compute units."""
    msg = stored.tx.message
    assert isinstance(msg, (Message, MessageV0))
    shown = _version(stored, version)
    meta: dict[str, Any] = {
        **_status(stored),
        "preTokenBalances": _token_balances(srv, stored.pre_tokens),
        "postTokenBalances": _token_balances(srv, stored.post_tokens),
    }
    if rewards:
        meta["rewards"] = []
    out: dict[str, Any] = {
        "transaction": {
            "signatures": [str(x) for x in stored.tx.signatures],
            "accountKeys": _account_roles(msg, stored.outcome.loaded),
        },
        "meta": meta,
    }
    if shown is not None:
        out["version"] = shown
    return out


def get_transaction(srv: SimServer, params: list[Any]) -> dict[str, Any] | None:
    """``getTransaction [signature, config?]``: a landed transaction from the ledger (its
    body in ``json``, ``jsonParsed``, ``base58`` or ``base64``; its status meta: fee,
    balances, token balances, inner instructions, logs, compute units), or null.
    ``finalized`` (the default) sees it once the root passes its slot; a v0 transaction
    needs ``maxSupportedTransactionVersion``. The market's own swaps carry no body here:
    null."""
    N.arity(params, 1, 2)
    cfg = _wrapped_config(params, block=False)
    sig = N.parse_signature(params[0])
    encoding = cfg.get("encoding") or "json"
    level = _ledger_level(cfg)
    version = cfg.get("maxSupportedTransactionVersion")
    if version is not None:
        version = N.expect_u64(version, "u8")
    stored = srv.chain.ledger.get(sig)
    if stored is None or not _visible(srv, stored.slot, level):
        return None
    got = encode_transaction(srv, stored, encoding, version)
    out: dict[str, Any] = {
        "slot": stored.slot,
        "transaction": got["transaction"],
        "meta": got["meta"],
        "blockTime": srv.slot_times.get(stored.slot),
    }
    if "version" in got:
        out["version"] = got["version"]
    return out


BLOCK_DETAILS = ("full", "accounts", "signatures", "none")  # TransactionDetails


def get_block(srv: SimServer, params: list[Any]) -> dict[str, Any] | None:
    """``getBlock [slot, config?]`` as Agave answers it (``rpc.rs get_block``,
    ``ConfirmedBlock::encode_with_options``): ``confirmed`` or ``finalized`` (the
    default; ``processed`` refused); the block's transactions in their order —
    ``transactionDetails`` ``full`` (each as ``getTransaction`` shows it, in
    ``encoding``), ``accounts`` (signatures and keys with their roles, a shorter
    meta), ``signatures`` or ``none``; ``rewards`` (the simulated cluster pays none:
    an empty list, left out when not asked for); blockhash and the parent's,
    parentSlot, blockTime, blockHeight. A v0 transaction in a block asked without
    ``maxSupportedTransactionVersion`` fails the whole block with -32015. A slot not
    yet confirmed (or not yet rooted, at ``finalized``) is -32004 ``Block not available
    for slot N``; a slot before the simulator's first, or one whose block it no longer
    keeps, is -32001 (``Block N cleaned up, does not exist on node. First available
    block: M``). Only what landed through the chain has a body: the market's own swaps
    are not in the blocks."""
    N.arity(params, 1, 2)
    slot = N.expect_u64(params[0])
    cfg = _wrapped_config(params, block=True)
    encoding = cfg.get("encoding") or "json"
    details = cfg.get("transactionDetails") or "full"
    rewards = cfg.get("rewards")
    show_rewards = True if rewards is None else bool(rewards)
    level = _ledger_level(cfg)
    version = cfg.get("maxSupportedTransactionVersion")
    if version is not None:
        version = N.expect_u64(version, "u8")
    chain = srv.chain
    first = chain.first_block()
    if slot > srv.context_slot(level) or slot > srv.world.slot:
        raise N.RpcFault(-32004, f"Block not available for slot {slot}")
    if slot < first:
        raise N.RpcFault(
            -32001,
            f"Block {slot} cleaned up, does not exist on node. First available block: {first}",
        )
    sigs = chain.blocks.get(slot, [])
    stored = [chain.ledger[s] for s in sigs if s in chain.ledger]
    out: dict[str, Any] = {
        "previousBlockhash": chain.blockhash(slot - 1),
        "blockhash": chain.blockhash(slot),
        "parentSlot": slot - 1,
    }
    if details == "full":
        out["transactions"] = [
            encode_transaction(srv, st, encoding, version, show_rewards) for st in stored
        ]
    elif details == "accounts":
        out["transactions"] = [_accounts_form(srv, st, version, show_rewards) for st in stored]
    elif details == "signatures":
        out["signatures"] = [str(st.tx.signatures[0]) for st in stored]
    if show_rewards:
        out["rewards"] = []
    out["blockTime"] = srv.slot_times.get(slot)
    out["blockHeight"] = chain.block_height(slot)
    return out


def get_signatures_for_address(srv: SimServer, params: list[Any]) -> list[dict[str, Any]]:
    """``getSignaturesForAddress [address, config?]``: the landed transactions that named
    ``address``, newest first, at most ``limit`` (1,000, the default and the most),
    before and until the given signatures; ``finalized`` by default."""
    N.arity(params, 1, 2)
    address = N.parse_pubkey(params[0])
    cfg = N.config(params, 1, "RpcSignaturesForAddressConfig")
    limit = cfg.get("limit")
    limit = MAX_SIGNATURES if limit is None else N.expect_u64(limit, "usize")
    if not 1 <= limit <= MAX_SIGNATURES:
        raise N.invalid_params(f"Invalid limit; max {MAX_SIGNATURES}")
    before = cfg.get("before")
    until = cfg.get("until")
    before = None if before is None else N.parse_signature(before)
    until = None if until is None else N.parse_signature(until)
    level = _ledger_level(cfg)
    N.min_context_slot(cfg, srv.context_slot(level))
    sigs = srv.chain.by_address.get(address, [])
    out: list[dict[str, Any]] = []
    started = before is None
    for sig in reversed(sigs):
        if not started:
            started = sig == before
            continue
        if sig == until:
            break
        stored = srv.chain.ledger.get(sig)
        if stored is None or not _visible(srv, stored.slot, level):
            continue
        final = stored.slot <= srv.context_slot("finalized")
        out.append(
            {
                "signature": sig,
                "slot": stored.slot,
                "err": stored.outcome.err,
                "memo": None,
                "blockTime": srv.slot_times.get(stored.slot),
                "confirmationStatus": "finalized" if final else "confirmed",
            }
        )
        if len(out) == limit:
            break
    return out


Method = Callable[["SimServer", list[Any]], Any]
METHODS: dict[str, Method] = {
    "getProgramAccounts": get_program_accounts,
    "getEpochInfo": get_epoch_info,
    "getEpochSchedule": get_epoch_schedule,
    "getMinimumBalanceForRentExemption": get_minimum_balance_for_rent_exemption,
    "getGenesisHash": get_genesis_hash,
    "getTokenSupply": get_token_supply,
    "getTokenAccountsByOwner": get_token_accounts_by_owner,
    "getFeeForMessage": get_fee_for_message,
    "getTransaction": get_transaction,
    "getBlock": get_block,
    "getSignaturesForAddress": get_signatures_for_address,
}
