"""Transactions as a node's ``getTransaction`` answers them (``json`` encoding), built by
hand for what the simulator does not land: an aggregator's route through two prop AMMs,
a trader paying native SOL wrapped in the same transaction, an oracle update, a market
swapped twice. Keys are named (``key("user")``: a fixed base58 address); each outer
instruction carries its inner ones (program, accounts, data, stack height)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine_rs.python.b58 import b58encode
from feeds.wire import instructions as I


def key(name: str) -> str:
    """A fixed address named ``name``."""
    return str(b58encode(hashlib.sha256(f"txjson:{name}".encode()).digest()))


def signature(name: str) -> str:
    return str(b58encode(hashlib.sha512(f"txjson-sig:{name}".encode()).digest()))


def transfer_data(amount: int) -> bytes:
    """SPL Token ``Transfer`` (3)."""
    return b"\x03" + amount.to_bytes(8, "little")


@dataclass
class Ix:
    """An instruction: its program, accounts (addresses) and data; ``inner`` its CPIs as
    (program, accounts, data, stack height), in execution order."""

    program: str
    accounts: Sequence[str]
    data: bytes = b""
    inner: list[tuple[str, Sequence[str], bytes, int]] = field(default_factory=list)


@dataclass
class Token:
    """A token account's balances: ``pre`` / ``post`` None when it has no row then
    (opened or closed in the transaction)."""

    account: str
    mint: str
    owner: str
    decimals: int
    pre: int | None
    post: int | None


def build(
    name: str,
    signers: Sequence[str],
    writable: Sequence[str],
    readonly: Sequence[str],
    ixs: Sequence[Ix],
    tokens: Sequence[Token] = (),
    lamports: dict[str, tuple[int, int]] | None = None,
    fee: int = 5_000,
    err: Any = None,
    slot: int = 300_000_100,
) -> dict[str, Any]:
    """The ``getTransaction`` result: ``signers`` (the first the fee payer, all writable),
    then the ``writable`` and ``readonly`` unsigned keys (programs are added readonly as
    they appear)."""
    ro = list(readonly)
    for ix in ixs:
        for prog in (ix.program, *(c[0] for c in ix.inner)):
            if prog not in (*signers, *writable, *ro):
                ro.append(prog)
    keys = [*signers, *writable, *ro]
    at = {k: i for i, k in enumerate(keys)}
    lam = lamports or {}
    pre = [lam.get(k, (1_000_000, 1_000_000))[0] for k in keys]
    post = [lam.get(k, (1_000_000, 1_000_000))[1] for k in keys]

    def row(t: Token, amount: int) -> dict[str, Any]:
        return {
            "accountIndex": at[t.account],
            "mint": t.mint,
            "owner": t.owner,
            "programId": I.SPL_TOKEN,
            "uiTokenAmount": {
                "amount": str(amount),
                "decimals": t.decimals,
                "uiAmount": amount / 10**t.decimals,
                "uiAmountString": str(amount / 10**t.decimals),
            },
        }

    outer, inner = [], []
    for n, ix in enumerate(ixs):
        outer.append(
            {
                "programIdIndex": at[ix.program],
                "accounts": [at[a] for a in ix.accounts],
                "data": str(b58encode(ix.data)),
                "stackHeight": None,
            }
        )
        if ix.inner:
            inner.append(
                {
                    "index": n,
                    "instructions": [
                        {
                            "programIdIndex": at[p],
                            "accounts": [at[a] for a in accs],
                            "data": str(b58encode(data)),
                            "stackHeight": h,
                        }
                        for p, accs, data, h in ix.inner
                    ],
                }
            )
    return {
        "slot": slot,
        "blockTime": 1_700_000_000,
        "version": 0,
        "transaction": {
            "signatures": [signature(name)]
            + [signature(f"{name}:{i}") for i in range(1, len(signers))],
            "message": {
                "accountKeys": keys,
                "header": {
                    "numRequiredSignatures": len(signers),
                    "numReadonlySignedAccounts": 0,
                    "numReadonlyUnsignedAccounts": len(ro),
                },
                "recentBlockhash": key("blockhash"),
                "instructions": outer,
                "addressTableLookups": [],
            },
        },
        "meta": {
            "err": err,
            "status": {"Ok": None} if err is None else {"Err": err},
            "fee": fee,
            "preBalances": pre,
            "postBalances": post,
            "preTokenBalances": [row(t, t.pre) for t in tokens if t.pre is not None],
            "postTokenBalances": [row(t, t.post) for t in tokens if t.post is not None],
            "innerInstructions": inner,
            "logMessages": [],
            "loadedAddresses": {"writable": [], "readonly": []},
            "computeUnitsConsumed": 50_000,
        },
    }
