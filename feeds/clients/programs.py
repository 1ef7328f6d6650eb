"""Deployed programs read from a node, as ``solana program dump`` reads them (``arbscope
programs dump``): each program's account by ``getAccountInfo`` (base64), then, for the
upgradeable loader, its programdata account; the ELF and its facts from the layouts of
:mod:`feeds.wire.loader`.

One account a request: a program's bytes are up to a few MiB (an older loader's program
account is the ELF itself; a programdata account is at most 10 MiB, about 13.4 MiB in
base64), so the client's answer bound is raised to :data:`MAX_PROGRAM_ANSWER` for these
reads, and each answer stays one account. A node that cannot be reached (or answers
nonsense) is the client's :class:`~.rpc.RpcError` (its URL redacted); an account that is
not a deployed program is a :class:`Read` with the reason, never an exception.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..wire import loader
from .rpc import RpcClient, RpcError

# the largest answer read here: a programdata account of 10 MiB in base64, with room
MAX_PROGRAM_ANSWER = 16 << 20


@dataclass(frozen=True, slots=True)
class Read:
    """One program as the node showed it: ``deployed`` (its ELF and facts), or None and
    ``why`` it could not be read; ``slot``: the node's slot of the answer."""

    program_id: str
    deployed: loader.Deployed | None
    why: str = ""
    slot: int = 0


def _value(rpc: RpcClient, res: Any) -> tuple[dict[str, Any] | None, int]:
    """A ``getAccountInfo`` answer: (its account object or None, its slot); RpcError
    when it is malformed."""
    try:
        slot = int(res["context"]["slot"])
        value = res["value"]
        if value is not None and not isinstance(value, dict):
            raise TypeError("value is not an account")
        return value, slot
    except (KeyError, TypeError, ValueError) as exc:
        raise RpcError(f"getAccountInfo at {rpc.shown}: bad answer ({exc})") from None


def _fields(rpc: RpcClient, v: dict[str, Any]) -> tuple[str, bytes, bool]:
    """(owner, data, executable) of an account object in base64."""
    try:
        data = v["data"]
        if not isinstance(data, list) or len(data) != 2 or data[1] != "base64":
            raise ValueError("data is not base64")
        return str(v["owner"]), base64.b64decode(data[0], validate=True), bool(v["executable"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise RpcError(f"getAccountInfo at {rpc.shown}: bad answer ({exc})") from None


async def _account(
    rpc: RpcClient, key: str, commitment: str
) -> tuple[tuple[str, bytes, bool] | None, int]:
    res = await rpc.call("getAccountInfo", [key, {"encoding": "base64", "commitment": commitment}])
    value, slot = _value(rpc, res)
    return (None if value is None else _fields(rpc, value)), slot


async def read_program(rpc: RpcClient, program_id: str, commitment: str = "confirmed") -> Read:
    """``program_id``'s deployed ELF and facts, or why it cannot be read (RpcError: the
    node failed)."""
    got, slot = await _account(rpc, program_id, commitment)
    if got is None:
        return Read(program_id, None, f"{program_id}: no such account on this node", slot)
    owner, data, executable = got
    try:
        where = loader.program_account(program_id, owner, data, executable)
        if where is None:
            return Read(program_id, loader.deployed(program_id, owner, data), "", slot)
        pd, slot = await _account(rpc, where, commitment)
        return Read(
            program_id,
            loader.deployed(
                program_id, owner, data, None if pd is None else pd[1], "" if pd is None else pd[0]
            ),
            "",
            slot,
        )
    except loader.NotAProgram as exc:
        return Read(program_id, None, str(exc), slot)


async def read_programs(
    rpc: RpcClient, program_ids: Sequence[str], commitment: str = "confirmed"
) -> list[Read]:
    """Every program of ``program_ids``, one after the other (each answer one account:
    a node's answer size stays that of one program)."""
    return [await read_program(rpc, pid, commitment) for pid in program_ids]
