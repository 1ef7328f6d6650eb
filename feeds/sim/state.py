"""What the simulated node holds: accounts as it serves them, and the pools the world
trades. Its own module so that the venues' simulated programs
(``feeds/venues/<venue>/sim.py``), which create pools, and the world, which dispatches to
them, both import it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import engine_rs

from . import synthetic


def sim_key(*parts: object) -> str:
    """A deterministic address for a simulated account named by ``parts`` (base58 of
    the sha256 of the name): the same seed gives the same market, byte for byte."""
    name = ":".join(map(str, ("arbscope-sim", *parts)))
    return str(engine_rs.backend().b58encode(hashlib.sha256(name.encode()).digest()))


# the owners whose accounts a node shows with rent epoch 0 (the builtin programs' and
# the sysvars', as Agave's genesis makes them); every other account is rent-exempt and
# shows u64::MAX
RENT_EPOCH_ZERO = frozenset(
    ("NativeLoader1111111111111111111111111111111", "Sysvar1111111111111111111111111111111111111")
)
RENT_EXEMPT_EPOCH = 18446744073709551615


def rent_epoch(owner: str) -> int:
    """The ``rentEpoch`` a node shows for an account of ``owner``."""
    return 0 if owner in RENT_EPOCH_ZERO else RENT_EXEMPT_EPOCH


@dataclass(slots=True)
class Account:
    """One account as a node serves it."""

    owner: str
    data: bytes
    lamports: int
    executable: bool = False  # a program's account (the loaders' program accounts)

    def value(self) -> dict[str, Any]:
        """The JSON ``value`` of ``getAccountInfo`` / ``accountNotification`` (base64)."""
        return {
            "lamports": self.lamports,
            "data": [base64.b64encode(self.data).decode(), "base64"],
            "owner": self.owner,
            "executable": self.executable,
            "rentEpoch": rent_epoch(self.owner),
            "space": len(self.data),
        }

    def value_json(self) -> str:
        """``json.dumps(self.value())``, the same text, written out: the encoder does not
        scan the base64 (an order book side's is 122 KB, every slot it moves), whose
        alphabet JSON never escapes."""
        b64 = base64.b64encode(self.data).decode()
        executable = "true" if self.executable else "false"
        rent = 0 if self.owner in RENT_EPOCH_ZERO else RENT_EXEMPT_EPOCH
        return (
            f'{{"lamports": {int(self.lamports)}, "data": ["{b64}", "base64"], '
            f'"owner": {json.dumps(self.owner)}, "executable": {executable}, '
            f'"rentEpoch": {rent}, "space": {len(self.data)}}}'
        )


KeyTest = Callable[[str], bool]  # a set of keys as a built-in program asks it: is this one in
Ran = tuple[int, list[str]]  # what a built-in program's instruction took: compute units, logs


class Ledger(NamedTuple):
    """The world's accounts as a built-in program (System, Address Lookup Table) writes
    them: ``credit`` moves lamports (the world's, so subscribers hear of it), ``touch``
    marks an account written, ``rent`` is the rent-exempt minimum of a size."""

    accounts: dict[str, Account]
    credit: Callable[[str, int], None]
    touch: Callable[[str], None]
    rent: Callable[[int], int]


@dataclass(slots=True)
class Pool:
    """A pool the world trades: its venue's kind, state and the addresses of its accounts."""

    kind: str  # the venue's kind: amm_v4 | cpmm | whirlpool
    address: str
    mint_a: str
    mint_b: str
    vault_a: str
    vault_b: str
    record: Any  # the decoded-record form of the pool account (replace() to change it)
    spec: synthetic.PoolSpec  # the engine's view: reserves or sqrt price / liquidity
    fees_a: int = 0  # amounts in the vaults that are not reserves (pnl, protocol fees)
    fees_b: int = 0
    tick_arrays: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InnerIx:
    """One inner instruction (a CPI) a top-level instruction made, as a node records it
    (``meta.innerInstructions``): the program it invoked, the accounts it passed, its
    data and its stack height (2: called by the top-level instruction)."""

    program: str
    accounts: tuple[str, ...]
    data: bytes
    stack_height: int = 2
