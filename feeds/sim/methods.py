"""The simulator's answers to the node methods a client written by someone else reaches
for beyond the feed's own (issue 17): each one as Agave v3.1 answers it (``rpc/src/
rpc.rs``; parameter rules and wording in :mod:`feeds.sim.node`).

``getProgramAccounts``, ``getEpochInfo``, ``getMinimumBalanceForRentExemption``,
``getFeeForMessage``, ``getGenesisHash``, ``getTokenSupply``, ``getTokenAccountsByOwner``.
Each takes the server (its world, chain and commitment slots) and the request's
``params``; :data:`METHODS` names them for the server's dispatch.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from solders.message import Message, MessageV0, from_bytes_versioned

from ..wire.instructions import SPL_TOKEN
from ..wire.txsize import PACKET_DATA_SIZE
from . import node as N
from .chain import MAX_BASE64_SIZE, rent_exempt
from .layouts import MINT_LEN, TOKEN_ACCOUNT_LEN

if TYPE_CHECKING:
    from .server import SimServer

SLOTS_PER_EPOCH = 432_000  # mainnet's epoch schedule (no warmup)
MAX_PERMITTED_DATA_LENGTH = 10 * 1024 * 1024  # the largest account (bytes)
NATIVE_MINT = "So11111111111111111111111111111111111111112"
_MESSAGE_TYPE = "solana_message::versions::VersionedMessage"


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
    cfg = N.config(params, 1)
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
    value = N.program_accounts(srv.world.accounts, program, filters, encoding, cut,
                               srv.decimals_of, sort=sort is not False)  # fmt: skip
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


def get_minimum_balance_for_rent_exemption(srv: SimServer, params: list[Any]) -> int:
    """``getMinimumBalanceForRentExemption [data_len, commitment?]``: the rent-exempt
    minimum from the rent parameters (3,480 lamports per byte-year, 2 years, 128 bytes
    of overhead); over 10 MiB is the node's bare -32600 ``Invalid request``."""
    N.arity(params, 1, 2)
    size = N.expect_u64(params[0], "usize")
    N.commitment(N.config(params, 1))
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
    slot = srv.state_slot(N.commitment(N.config(params, 1)))
    mint = N.parse_pubkey(params[0])
    acc = srv.world.accounts.get(mint)
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
    cfg = N.config(params, 2)
    encoding = N.account_encoding(cfg, "binary")
    cut = N.data_slice(cfg)
    level = N.commitment(cfg)
    owner = N.parse_pubkey(params[0])
    ((kind, key),) = which.items()
    key = N.parse_pubkey(key)
    slot = srv.state_slot(level)
    N.min_context_slot(cfg, slot)
    filters = [N.Filter("tokenAccountState"), N.Filter("memcmp", offset=32,
                                                        raw=N.pubkey_bytes(owner))]  # fmt: skip
    if kind == "mint":
        program = _mint_owner(srv, key)
        filters.append(N.Filter("memcmp", offset=0, raw=N.pubkey_bytes(key)))
    elif key in N.TOKEN_PROGRAMS:
        program = key
    else:
        raise N.invalid_params("Invalid param: unrecognized Token program id")
    value = N.program_accounts(srv.world.accounts, program, filters, encoding, cut,
                               srv.decimals_of)  # fmt: skip
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
        raise N.invalid_params(f"decoded {_MESSAGE_TYPE} too large: {len(raw)} bytes "
                               f"(max: {PACKET_DATA_SIZE} bytes)")  # fmt: skip
    try:
        msg = from_bytes_versioned(raw)
    except (ValueError, binascii.Error, TypeError) as exc:
        raise N.invalid_params(f"failed to deserialize {_MESSAGE_TYPE}: {exc}") from None
    except Exception as exc:  # solders raises its own error types
        raise N.invalid_params(f"failed to deserialize {_MESSAGE_TYPE}: {exc}"[:300]) from None
    if not isinstance(msg, (Message, MessageV0)):
        raise N.invalid_params("invalid transaction message: unsupported message version")
    return msg


def get_fee_for_message(srv: SimServer, params: list[Any]) -> dict[str, Any]:
    """``getFeeForMessage [message, config?]``: what the message would pay (signatures
    and its compute-budget price), or null when its blockhash is not one the bank
    knows."""
    N.arity(params, 1, 2)
    msg = decode_message(params[0])
    slot = bank_slot(srv, N.config(params, 1))
    fee = srv.chain.fee_for_message(msg)
    return _response(srv, slot, fee)


Method = Callable[["SimServer", list[Any]], Any]
METHODS: dict[str, Method] = {
    "getProgramAccounts": get_program_accounts,
    "getEpochInfo": get_epoch_info,
    "getMinimumBalanceForRentExemption": get_minimum_balance_for_rent_exemption,
    "getGenesisHash": get_genesis_hash,
    "getTokenSupply": get_token_supply,
    "getTokenAccountsByOwner": get_token_accounts_by_owner,
    "getFeeForMessage": get_fee_for_message,
}
