"""Meteora DAMM v2's simulated program (``feeds/venues/meteora_damm_v2/sim.py``): its
encoder against the real pool accounts, a market trade as the program writes it (the
engine's swap on the account's bytes, the reserves, the dynamic fee, the fee accruals),
and its ``EvtSwap2`` by self-CPI read back by the engine.

No DAMM v2 binary is in ``../shared/programs``: the simulated program's swap is the
engine's, held to Meteora's own SDKs (``tests/engine/test_meteora_damm_v2.py``)."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest

import engine_rs
from engine_rs.python.venues import meteora_damm_v2 as twin
from feeds.sim.world import World, WorldConfig
from feeds.venues.meteora_damm_v2 import PROGRAM, event_authority
from feeds.venues.meteora_damm_v2 import sim as S
from feeds.wire.instructions import Swap

DATA = Path(__file__).parents[2] / "data" / "venues" / "meteora_damm_v2"
REAL = (
    "3u2BK3ykdjv1hAeGQwAkZMxjb4otV5yvW7g72uviCaZZ.bin",
    "CGPxT5d1uf9a8cKVJuZaJAU76t2EfLGbTmRbfvLLZp5j.bin",
    "pool_account.bin",
)


@pytest.mark.parametrize("name", REAL)
def test_the_encoder_rebuilds_real_pool_accounts(name: str) -> None:
    """Every field the decoder reads, written over the real bytes, gives them back; over
    zeros, the decoder reads the same record."""
    raw = (DATA / name).read_bytes()
    rec = twin.decode_meteora_damm_pool(raw, PROGRAM)
    assert S.encode_pool(rec, raw) == raw
    assert twin.decode_meteora_damm_pool(S.encode_pool(rec), PROGRAM) == rec


def _world_with_damm(seed: int = 5) -> World:
    for k in range(32):
        w = World(WorldConfig(seed=seed + k, tokens=8, pools=24, trades_per_slot=0))
        if any(p.kind == "damm_v2" for p in w.pools):
            return w
    raise AssertionError("no DAMM v2 pool")


@pytest.mark.parametrize("a_to_b", [True, False])
def test_a_market_trade_is_the_programs_swap_written_as_the_program_writes_it(
    a_to_b: bool,
) -> None:
    w = _world_with_damm()
    eng = engine_rs.load("rust")
    for pool in (p for p in w.pools if p.kind == "damm_v2"):
        before = w.accounts[pool.address].data
        rec0 = twin.decode_meteora_damm_pool(before)
        amount = (rec0.token_a_amount if a_to_b else rec0.token_b_amount) // 500
        want = eng.meteora_damm_v2.swap(before, w.slot, amount, a_to_b)
        assert not isinstance(want, str)
        t = w.swap(pool, a_to_b, amount)
        assert t is not None
        rec = twin.decode_meteora_damm_pool(w.accounts[pool.address].data)
        assert rec == pool.record and rec.sqrt_price == want.next_sqrt_price
        gross_out = want.output_amount + (
            0
            if want.fees_on_input
            else want.claiming_fee + want.compounding_fee + want.protocol_fee
        )
        ins, outs = (
            (rec.token_a_amount - rec0.token_a_amount, rec0.token_b_amount - rec.token_b_amount)
            if a_to_b
            else (rec.token_b_amount - rec0.token_b_amount, rec0.token_a_amount - rec.token_a_amount)
        )  # fmt: skip
        compounding = want.compounding_fee
        if a_to_b:
            assert ins == want.excluded_fee_input_amount
            assert outs == gross_out - compounding
        else:
            assert ins == want.excluded_fee_input_amount + compounding
            assert outs == gross_out
        # the protocol's fee is owed in the fee's token, the LP fee accrues per liquidity
        in_a = not a_to_b and not want.fees_on_input
        owed = rec.protocol_a_fee - rec0.protocol_a_fee, rec.protocol_b_fee - rec0.protocol_b_fee
        assert owed == ((want.protocol_fee, 0) if in_a else (0, want.protocol_fee))
        per = 488 if in_a else 520
        data = w.accounts[pool.address].data
        assert (
            int.from_bytes(data[per : per + 32], "little")
            - int.from_bytes(before[per : per + 32], "little")
            == (want.claiming_fee << 128) // rec0.liquidity
        )
        # the dynamic fee follows the price: its accumulator from the reference price
        if rec0.dynamic_fee_initialized:
            moved = S.delta_bin(rec0.bin_step_u128, rec.sqrt_price, rec.sqrt_price_reference)
            assert rec.volatility_accumulator == min(
                rec.volatility_reference + moved * 10_000, rec0.max_volatility_accumulator
            )


def test_its_event_goes_by_self_cpi_and_reads_back_as_the_swap() -> None:
    w = _world_with_damm()
    pool = next(p for p in w.pools if p.kind == "damm_v2")
    amount = pool.record.token_a_amount // 1_000
    t = w.swap(pool, True, amount)
    assert t is not None
    s = Swap(PROGRAM, pool.address, amount, 1, "src", "dst", "me", {})
    before, after = S._cpi_events(w, pool, s, ())
    assert before == [] and len(after) == 1
    ix = after[0]
    assert ix.program == PROGRAM and tuple(ix.accounts) == (event_authority(),)
    assert ix.data[:8] == S.EVENT_IX_TAG
    ev = engine_rs.load("rust").parse_program_data(base64.b64encode(ix.data[8:]).decode(), PROGRAM)
    assert ev == twin.parse_event(ix.data[8:])
    last: S.Swapped = pool.spec.state
    assert (ev.pool, ev.trade_direction, ev.amount_0, ev.amount_1) == (pool.address, 0, amount, 1)
    assert ev.output_amount == last.result.output_amount == t.amount_out
    assert (ev.reserve_a_amount, ev.reserve_b_amount) == (
        pool.record.token_a_amount,
        pool.record.token_b_amount,
    )


def test_the_dynamic_fee_decays_as_the_program_decays_it() -> None:
    """``update_references``: within the filter period nothing moves; within the decay
    period the reference is the accumulator times the reduction factor; past it, 0."""
    w = _world_with_damm()
    pool = next(p for p in w.pools if p.kind == "damm_v2" and p.record.dynamic_fee_initialized)
    rec = replace(pool.record, volatility_accumulator=50_000, last_update_timestamp=1_000)
    s = rec.sqrt_price
    same = S.dynamic_after(rec, s, s, 1_000 + rec.filter_period - 1)
    assert same["volatility_reference"] == rec.volatility_reference
    decayed = S.dynamic_after(rec, s, s, 1_000 + rec.filter_period)
    assert decayed["volatility_reference"] == 50_000 * rec.dynamic_reduction_factor // 10_000
    gone = S.dynamic_after(rec, s, s, 1_000 + rec.decay_period)
    assert gone["volatility_reference"] == 0 and gone["last_update_timestamp"] == 1_000
