"""Raw JSON-RPC calls to the simulator as a node, and a signed transfer to send it."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from feeds.sim import node as N
from feeds.sim.server import SimServer


async def rpc(url: str, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    """One raw JSON-RPC call: the whole answer object."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    async with aiohttp.ClientSession() as s, s.post(url, json=body) as r:
        out: dict[str, Any] = await r.json()
        return out


def owned(srv: SimServer, program: str) -> dict[str, bytes]:
    """What the simulated market holds for ``program``: address -> data."""
    return {k: a.data for k, a in srv.world.accounts.items() if a.owner == program}


def signed_transfer(
    srv: SimServer, blockhash: str | None = None, forge: bool = False
) -> tuple[str, str]:
    """A funded wallet's transfer to a tip account, as (base64 wire, signature); with
    ``blockhash`` one the node never made, with ``forge`` a signature that fails."""
    from solders.hash import Hash
    from solders.keypair import Keypair
    from solders.message import Message
    from solders.transaction import VersionedTransaction

    from feeds.wire import instructions as I

    kp = Keypair()
    srv.chain.airdrop([str(kp.pubkey()), 10**9])
    bh = Hash.from_string(blockhash or srv.chain.latest_blockhash()[0])
    msg = Message.new_with_blockhash(
        [I.transfer(str(kp.pubkey()), I.JITO_TIP_ACCOUNTS[1], 9_000)], kp.pubkey(), bh
    )
    tx = VersionedTransaction(msg, [kp])
    raw = bytearray(bytes(tx))
    if forge:
        raw[1 + 5] ^= 0xFF  # a byte of the signature
    return base64.b64encode(bytes(raw)).decode(), N.b58encode(bytes(raw[1:65]))
