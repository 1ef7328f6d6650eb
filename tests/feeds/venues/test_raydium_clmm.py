"""Raydium CLMM in the simulator: its ``swap_v2`` built from a leg runs through the
transaction runtime (``feeds.sim.chain``), pays exactly the engine's quote, and fails with
the program's own error codes (``error.rs``: 6022 TooLittleOutputReceived, 6025
InvalidInputPoolVault, 6027 NotEnoughTickArrayAccount: the deployed build's numbering); its ``SwapEvent`` is decoded by
its program alone; its accounts sit at their PDAs with the layouts the engine decodes."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.instruction import Instruction

import engine_rs
from feeds.sim.chain import Chain
from feeds.sim.state import Pool
from feeds.sim.world import World, WorldConfig
from feeds.venues import raydium_clmm as RC
from feeds.venues.base import Leg
from feeds.wire import instructions as I
from tests.support.chain import QUIET, sign, wire


def _world() -> World:
    """The first quiet seeded world holding a Raydium CLMM pool."""
    for seed in range(1, 40):
        w = World(WorldConfig(seed=seed, **QUIET))  # type: ignore[arg-type]
        if any(p.kind == "clmm" for p in w.pools):
            return w
    raise AssertionError("no seed gave a Raydium CLMM pool")


class Market:
    def __init__(self) -> None:
        from solders.keypair import Keypair

        self.world = _world()
        self.chain = Chain(self.world, accept=True)
        self.kp = Keypair()
        self.me = str(self.kp.pubkey())
        self.chain.airdrop([self.me, 5 * 10**9])
        self.pool: Pool = next(p for p in self.world.pools if p.kind == "clmm")

    def ix(self, a_to_b: bool, amount: int, minimum: int) -> Instruction:
        p = self.pool
        tin, tout = (p.mint_a, p.mint_b) if a_to_b else (p.mint_b, p.mint_a)
        src, dst = I.ata_address(self.me, tin), I.ata_address(self.me, tout)
        programs = {p.mint_a: I.SPL_TOKEN, p.mint_b: I.SPL_TOKEN}
        leg = Leg(p.address, p.record, self.me, tin, tout, src, dst, amount, minimum, programs)
        return RC.VENUE.swap_instruction(leg)

    def simulate(self, ixs: list[Instruction], accounts: list[str] = []) -> dict[str, Any]:  # noqa: B006
        tx = sign(self.kp, ixs, self.chain.latest_blockhash()[0])
        cfg: dict[str, Any] = {"encoding": "base64", "commitment": "processed"}
        if accounts:
            cfg["accounts"] = {"addresses": accounts, "encoding": "base64"}
        return self.chain.simulate([wire(tx), cfg])


@pytest.mark.parametrize("a_to_b", [True, False])
def test_a_swap_v2_pays_exactly_the_engine_quote_and_logs_its_event(a_to_b: bool) -> None:
    m = Market()
    p = m.pool
    tin, tout = (p.mint_a, p.mint_b) if a_to_b else (p.mint_b, p.mint_a)
    m.chain.fund([m.me, tin, 10**15])
    amount = 10**6
    q = m.world.quote_swap(p, a_to_b, amount)
    assert q is not None and q.paid_in == amount
    create = I.create_ata_idempotent(m.me, m.me, tout)
    dst = I.ata_address(m.me, tout)
    short = m.simulate([create, m.ix(a_to_b, amount, q.out + 1)])
    assert short["err"] == {"InstructionError": [1, {"Custom": 6022}]}  # TooLittleOutputReceived
    vout = p.vault_b if a_to_b else p.vault_a
    ok = m.simulate([create, m.ix(a_to_b, amount, q.out)], [dst, vout])
    assert ok["err"] is None, ok["logs"]
    after = [base64.b64decode(a["data"][0]) for a in ok["accounts"]]
    assert int.from_bytes(after[0][64:72], "little") == q.out
    assert int.from_bytes(after[1][64:72], "little") == m.world.balance(vout) - q.out
    # its event, decoded by its program (parse_logs reads the invoke stack)
    got = engine_rs.backend().parse_logs(ok["logs"])
    ((venue, ev),) = got
    assert venue == "raydium_clmm" and ev.pool_state == p.address
    assert ev.zero_for_one == a_to_b
    assert (ev.amount_0, ev.amount_1) == ((amount, q.out) if a_to_b else (q.out, amount))


def test_swap_v2_account_errors_are_the_programs() -> None:
    m = Market()
    p = m.pool
    m.chain.fund([m.me, p.mint_a, 10**15])
    m.chain.fund([m.me, p.mint_b, 0])
    ix = m.ix(True, 10**6, 0)
    accs = list(ix.accounts)
    # the vaults swapped, not their mints: Anchor's address constraint on the mints
    swapped = [*accs[:5], accs[6], accs[5], *accs[7:]]
    r = m.simulate([Instruction(ix.program_id, bytes(ix.data), swapped)])
    assert r["err"] == {"InstructionError": [0, {"Custom": 2012}]}  # ConstraintAddress
    # a token account of the right mint that is not the pool's vault: InvalidInputPoolVault
    other = [*accs[:5], accs[3], *accs[6:]]
    r = m.simulate([Instruction(ix.program_id, bytes(ix.data), other)])
    assert r["err"] == {"InstructionError": [0, {"Custom": 6025}]}
    # no tick arrays: NotEnoughTickArrayAccount
    r = m.simulate([Instruction(ix.program_id, bytes(ix.data), accs[:14])])
    assert r["err"] == {"InstructionError": [0, {"Custom": 6027}]}
    # a zero amount: ZeroAmountSpecified
    r = m.simulate([m.ix(True, 0, 0)])
    assert r["err"] == {"InstructionError": [0, {"Custom": 6024}]}


def test_its_accounts_are_at_their_pdas_and_decode() -> None:
    m = Market()
    eng = engine_rs.backend()
    p = m.pool
    acc = m.world.accounts
    rec = eng.raydium_clmm.decode_pool(acc[p.address].data, acc[p.address].owner)
    assert (
        eng.raydium_clmm.address("pool", rec.amm_config, rec.token_mint_0, rec.token_mint_1)[0]
        == p.address
    )
    assert eng.b58decode(rec.token_mint_0) < eng.b58decode(rec.token_mint_1)
    for vault, mint in (
        (rec.token_vault_0, rec.token_mint_0),
        (rec.token_vault_1, rec.token_mint_1),
    ):
        assert eng.raydium_clmm.address("vault", p.address, mint)[0] == vault
    cfg = eng.raydium_clmm.decode_config(acc[rec.amm_config].data, acc[rec.amm_config].owner)
    assert eng.raydium_clmm.address("amm_config", cfg.index)[0] == rec.amm_config
    assert cfg.tick_spacing == rec.tick_spacing
    ext = eng.raydium_clmm.address("bitmap_extension", p.address)[0]
    assert (
        eng.raydium_clmm.decode_bitmap_extension(acc[ext].data, acc[ext].owner).pool_id == p.address
    )
    for ta in p.tick_arrays:
        t = eng.raydium_clmm.decode_tick_array(acc[ta].data, acc[ta].owner)
        assert eng.raydium_clmm.address("tick_array", p.address, t.start_tick_index)[0] == ta
        # the pool's bitmap names every array that exists
        bit = t.start_tick_index // (60 * rec.tick_spacing) + 512
        assert rec.tick_array_bitmap[bit // 64] >> (bit % 64) & 1


@given(
    bitmap=st.lists(
        st.one_of(st.just(0), st.integers(0, 2**64 - 1), st.sampled_from([1, 1 << 63])),
        min_size=16,
        max_size=16,
    ),
    spacing=st.sampled_from([1, 10, 60, 120]),
)
def test_the_initialized_starts_are_the_bitmaps_set_bits_in_order(
    bitmap: list[int], spacing: int
) -> None:
    """Bit ``b`` of the pool's 1,024-bit bitmap set: the array starting at ``(b - 512) *
    60 * tick_spacing`` is initialized (``tick_array_bit_map.rs``), lowest bit first."""
    every = [(b - 512) * 60 * spacing for b in range(1024) if bitmap[b // 64] >> (b % 64) & 1]
    assert RC.initialized_starts(bitmap, spacing) == every
