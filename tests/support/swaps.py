"""Signed swaps from the node market's wallets (``feeds.sim.export.wallet_keypair``)
through a venue's own instruction builder, sent to any JSON-RPC URL: the real node's or
the simulator's playing the same market. Blocking (the launcher's ``rpc_call``); an
async caller runs them in a thread.

Until the market driver moves the node's market, the gRPC tests move it with these: a
Whirlpool swap whose tick arrays include one nobody initialized is what made the real
Yellowstone plugin send an account owned by the system program (issue 62)."""

from __future__ import annotations

import base64
from typing import Any

import engine_rs
from feeds import venues
from feeds.sim.export import wallet_keypair
from feeds.sim.validator import rpc_call
from feeds.venues.base import Leg
from feeds.venues.orca_whirlpool.instructions import swap_tick_arrays
from feeds.wire import instructions as I
from tests.support.chain import sign, wire

WHIRLPOOL = "whirlpool"


def account(url: str, key: str, commitment: str = "processed") -> Any:
    value = rpc_call(url, "getAccountInfo", [key, {"encoding": "base64", "commitment": commitment}])
    return value["value"]


def whirlpool(url: str, pool: str) -> Any:
    """The pool's record as the node holds it now."""
    acc = account(url, pool)
    eng = engine_rs.backend()
    return venues.by_kind(WHIRLPOOL).decode_pool(
        eng, base64.b64decode(acc["data"][0]), acc["owner"]
    )


def spl_pools(url: str, pools: list[tuple[str, str]]) -> list[str]:
    """The Whirlpools of ``pools`` whose two mints are SPL Token's (no Token-2022 mint,
    no transfer hook): a plain ``swap`` trades them."""
    out = []
    for address, kind in pools:
        if kind != WHIRLPOOL:
            continue
        r = whirlpool(url, address)
        if all(account(url, m)["owner"] == I.SPL_TOKEN for m in (r.token_mint_a, r.token_mint_b)):
            out.append(address)
    return out


def absent_array(url: str, pool: str) -> tuple[bool, str] | None:
    """A direction of ``pool``'s swap whose tick arrays include one the chain does not
    hold, and that array; None when every array either way exists."""
    r = whirlpool(url, pool)
    for a_to_b in (True, False):
        arrays = swap_tick_arrays(pool, r.tick_spacing, r.tick_current_index, a_to_b)
        got = rpc_call(
            url,
            "getMultipleAccounts",
            [
                arrays,
                {
                    "encoding": "base64",
                    "commitment": "processed",
                    "dataSlice": {"offset": 0, "length": 0},
                },
            ],
        )["value"]
        for key, acc in zip(arrays, got, strict=True):
            if acc is None:
                return a_to_b, key
    return None


def whirlpool_swap(
    url: str, seed: int, pool: str, a_to_b: bool, amount: int, wallet: str = "faucet"
) -> str:
    """A swap of ``amount`` through ``pool`` from the market's ``wallet`` (its associated
    token accounts), no minimum out, sent with preflight at ``processed``: its
    signature."""
    r = whirlpool(url, pool)
    kp = wallet_keypair(seed, wallet)
    owner = str(kp.pubkey())
    mints = (r.token_mint_a, r.token_mint_b)
    programs = {m: account(url, m)["owner"] for m in mints}
    mint_in, mint_out = mints if a_to_b else mints[::-1]
    src, dst = (
        I.ata_address(owner, mint_in, programs[mint_in]),
        I.ata_address(owner, mint_out, programs[mint_out]),
    )
    leg = Leg(pool, r, owner, mint_in, mint_out, src, dst, amount, 0, programs)
    ix = venues.by_kind(WHIRLPOOL).swap_instruction(leg)
    latest = rpc_call(url, "getLatestBlockhash", [{"commitment": "processed"}])["value"]
    tx = sign(kp, [I.set_compute_unit_limit(400_000), ix], latest["blockhash"])
    options = {"encoding": "base64", "preflightCommitment": "processed"}
    return str(rpc_call(url, "sendTransaction", [wire(tx), options]))
