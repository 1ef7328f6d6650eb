"""Transactions for the simulator's runtime (signed, on the wire), a market of every
venue's pools with a funded trader, and LiteSVM's errors in the node's JSON form: the
chain tests of the simulator share them."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from engine_rs.python.venues.orca_whirlpool.pda import oracle_address
from feeds.sim.chain import Chain
from feeds.sim.world import Pool, World, WorldConfig
from feeds.venues import orca_whirlpool as WP
from feeds.venues import raydium_amm_v4 as V4
from feeds.venues import raydium_cpmm as CP
from feeds.wire import instructions as I

QUIET = {"trades_per_slot": 0, "dislocation_rate": 0.0}


def wire(tx: VersionedTransaction) -> str:
    return base64.b64encode(bytes(tx)).decode()


def sign(kp: Keypair, ixs: Sequence[Instruction], blockhash: str | Hash) -> VersionedTransaction:
    bh = blockhash if isinstance(blockhash, Hash) else Hash.from_string(blockhash)
    return VersionedTransaction(MessageV0.try_compile(kp.pubkey(), list(ixs), [], bh), [kp])


class SvmTwin:
    """The simulator and LiteSVM side by side: a quiet world (``seed``) and its chain, a
    LiteSVM, one payer holding 10 SOL in both (the chain tests' twins start as this)."""

    def __init__(self, seed: int) -> None:
        from solders.litesvm import LiteSVM

        self.world = World(WorldConfig(seed=seed, **QUIET))  # type: ignore[arg-type]
        self.chain = Chain(self.world, accept=True)
        self.svm = LiteSVM()
        self.kp = Keypair()
        self.me = self.kp.pubkey()
        self.chain.airdrop([str(self.me), 10**10])
        self.svm.airdrop(self.me, 10**10)


class Market:
    """A quiet simulated market with a funded wallet, accepting transactions."""

    def __init__(self, seed: int = 3, lamports: int = 5 * 10**9) -> None:
        self.world = World(WorldConfig(seed=seed, **QUIET))  # type: ignore[arg-type]
        self.chain = Chain(self.world, accept=True)
        self.kp = Keypair()
        self.me = str(self.kp.pubkey())
        if lamports:
            self.chain.airdrop([self.me, lamports])

    def pool(self, kind: str) -> Pool:
        return next(p for p in self.world.pools if p.kind == kind)

    def tx(self, ixs: Sequence[Instruction], kp: Keypair | None = None) -> VersionedTransaction:
        return sign(kp or self.kp, ixs, self.chain.latest_blockhash()[0])

    def simulate(self, tx: VersionedTransaction, accounts: Sequence[str] = ()) -> dict[str, Any]:
        # at processed, as arbscope's client simulates (a node's default, finalized, knows
        # no blockhash newer than its root)
        cfg: dict[str, Any] = {"encoding": "base64", "commitment": "processed"}
        if accounts:
            cfg["accounts"] = {"addresses": list(accounts), "encoding": "base64"}
        return self.chain.simulate([wire(tx), cfg])

    def balance(self, address: str) -> int:
        t = self.world.token_account(address)
        return -1 if t is None else t.amount

    def swap_ix(self, pool: Pool, a_to_b: bool, amount: int, minimum: int) -> Instruction:
        """The wallet's exact-in swap on ``pool`` (its ATAs for both mints)."""
        me = self.me
        tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
        src, dst = I.ata_address(me, tin), I.ata_address(me, tout)
        if pool.kind == "amm_v4":
            return V4.swap_base_in(
                pool.address, pool.vault_a, pool.vault_b, src, dst, me, amount, minimum
            )
        if pool.kind == "cpmm":
            r = pool.record
            vin, vout = (pool.vault_a, pool.vault_b) if a_to_b else (pool.vault_b, pool.vault_a)
            return CP.swap_base_input(
                me,
                r.amm_config,
                pool.address,
                src,
                dst,
                vin,
                vout,
                I.SPL_TOKEN,
                I.SPL_TOKEN,
                tin,
                tout,
                r.observation_key,
                amount,
                minimum,
            )
        s = pool.spec
        arrays = WP.swap_tick_arrays(pool.address, s.tick_spacing, s.tick_current, a_to_b)
        return WP.swap(
            me,
            pool.address,
            I.ata_address(me, pool.mint_a),
            pool.vault_a,
            I.ata_address(me, pool.mint_b),
            pool.vault_b,
            arrays,
            oracle_address(pool.address)[0],
            amount,
            minimum,
            a_to_b,
        )


# ------------------------------------------------------------------ LiteSVM oracle
def svm_error(e: Any) -> Any:
    """A LiteSVM error in the node's JSON form."""
    name = type(e).__name__
    if name == "TransactionErrorFieldless":
        return str(e).split(".")[-1]
    if name == "TransactionErrorInstructionError":
        inner = e.err
        if type(inner).__name__ == "InstructionErrorCustom":
            return {"InstructionError": [e.index, {"Custom": inner.code}]}
        return {"InstructionError": [e.index, str(inner).split(".")[-1]]}
    if name == "TransactionErrorInsufficientFundsForRent":
        return {"InsufficientFundsForRent": {"account_index": e.account_index}}
    return repr(e)
