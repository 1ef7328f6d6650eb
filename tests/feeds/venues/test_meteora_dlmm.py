"""Meteora DLMM on the Python side: its accounts' encoders against the real mainnet
accounts of ``MeteoraAg/dlmm-sdk`` (kept in tests/data/venues/meteora_dlmm), and the
simulator's pairs: a swap built by the venue pays the engine's quote through the
transaction runtime, moves the bins and the pair as the program does, and the program's
checks refuse bad bin arrays with its codes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from solders.instruction import Instruction

import engine_rs.python as py
from engine_rs.errors import TicksMissingError
from feeds.sim.state import Pool
from feeds.venues import Leg
from feeds.venues import meteora_dlmm as DL
from feeds.venues.meteora_dlmm import sim as DLsim
from feeds.wire import instructions as I
from tests.support.chain import Market

DATA = Path(__file__).parents[2] / "data" / "venues" / "meteora_dlmm"


def test_the_encoders_rebuild_real_accounts_byte_for_byte() -> None:
    pairs = sorted(p.parent for p in DATA.glob("*/lb_pair.bin"))
    assert len(pairs) == 2
    for d in pairs:
        raw = (d / "lb_pair.bin").read_bytes()
        assert DLsim.encode_lb_pair(py.meteora_dlmm.decode_pool(raw, DL.PROGRAM)) == raw
    # a current (version 2) bin array; an older one also holds per-bin fee fields the
    # simulator does not keep
    for f in (DATA / "9t3EyC9FweyL7PBWvKz3mrXg8B9fwFc9SK3QxM4ENqhd").glob("bin_array_*.bin"):
        raw = f.read_bytes()
        b = py.meteora_dlmm.decode_bin_array(raw, DL.PROGRAM)
        assert b.version == 2
        assert DLsim.encode_bin_array(b.index, b.lb_pair, b.bins) == raw
        assert (
            DL.bin_array_address(b.lb_pair, b.index)
            == py.find_program_address(
                [b"bin_array", py.b58decode(b.lb_pair), b.index.to_bytes(8, "little", signed=True)],
                DL.PROGRAM,
            )[0]
        )


def _leg(m: Market, pool: Pool, a_to_b: bool, amount: int, minimum: int) -> Instruction:
    tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    programs = {t: m.world.token_programs[t] for t in (pool.mint_a, pool.mint_b)}
    src, dst = I.ata_address(m.me, tin, programs[tin]), I.ata_address(m.me, tout, programs[tout])
    leg = Leg(pool.address, pool.record, m.me, tin, tout, src, dst, amount, minimum, programs)
    return DL.swap_instruction(leg)


def _spl(m: Market, pool: Pool) -> bool:
    """A pool of two SPL Token mints (the program's own math, no transfer fee)."""
    return {m.world.token_programs[pool.mint_a], m.world.token_programs[pool.mint_b]} == {
        I.SPL_TOKEN
    }


def test_a_swap_pays_the_engine_quote_and_moves_the_pair_as_the_program() -> None:
    m = Market()
    pool = next(p for p in m.world.pools if p.kind == "dlmm" and _spl(m, p))
    rec = pool.record
    assert (pool.vault_a, pool.vault_b) == (
        DL.reserve_address(pool.address, rec.token_x_mint),
        DL.reserve_address(pool.address, rec.token_y_mint),
    )
    assert rec.oracle == DL.oracle_address(pool.address)
    assert pool.address == DL.lb_pair_address(
        rec.token_x_mint, rec.token_y_mint, rec.bin_step, rec.base_factor
    )
    for a_to_b in (True, False):
        mint_in = pool.mint_a if a_to_b else pool.mint_b
        mint_out = pool.mint_b if a_to_b else pool.mint_a
        m.chain.fund([m.me, mint_in, 10**15])
        create = I.create_ata_idempotent(m.me, m.me, mint_out)
        dst = I.ata_address(m.me, mint_out)
        amount = int(DLsim._depth(pool, a_to_b) * 0.05)  # crosses several bins
        q = m.world.quote_swap(pool, a_to_b, amount)
        assert q is not None and len(q.after.fills) > 2
        tight = m.simulate(m.tx([create, _leg(m, pool, a_to_b, amount, q.out + 1)]))
        assert tight["err"] == {"InstructionError": [1, {"Custom": 6003}]}
        vout = pool.vault_b if a_to_b else pool.vault_a
        ok = m.simulate(m.tx([create, _leg(m, pool, a_to_b, amount, q.out)]), [dst, vout])
        assert ok["err"] is None, ok["logs"]
        after = [base64.b64decode(a["data"][0]) for a in ok["accounts"]]
        held = max(m.balance(dst), 0)  # the simulation changed nothing
        assert int.from_bytes(after[0][64:72], "little") == held + q.out
    # a trade the world commits: the pair and its bins are what the engine's swap says
    before = {a: m.world.accounts[a].data for a in pool.tick_arrays}
    amount = int(DLsim._depth(pool, True) * 0.05)
    q = m.world.quote_swap(pool, True, amount)
    assert q is not None
    t = m.world.swap(pool, True, amount)
    assert t is not None and t.amount_out == q.out
    rec = py.meteora_dlmm.decode_pool(m.world.accounts[pool.address].data, DL.PROGRAM)
    assert (rec.active_id, rec.volatility_accumulator, rec.index_reference) == (
        q.after.active_id,
        q.after.volatility_accumulator,
        q.after.index_reference,
    )
    moved = {a for a in pool.tick_arrays if m.world.accounts[a].data != before[a]}
    assert moved, "the bins it crossed were rewritten"
    got = {}
    for a in moved:
        b = py.meteora_dlmm.decode_bin_array(m.world.accounts[a].data, DL.PROGRAM)
        old = py.meteora_dlmm.decode_bin_array(before[a], DL.PROGRAM)
        for i, (new_bin, old_bin) in enumerate(zip(b.bins, old.bins)):
            if new_bin != old_bin:
                got[b.index * 70 + i] = (new_bin[0] - old_bin[0], old_bin[1] - new_bin[1])
    assert got == {bin_id: (used, out) for bin_id, used, out, *_ in q.after.fills}


def test_bad_bin_arrays_fail_with_the_programs_codes() -> None:
    m = Market()
    pool = next(p for p in m.world.pools if p.kind == "dlmm" and _spl(m, p))
    m.chain.fund([m.me, pool.mint_a, 10**15])
    m.chain.fund([m.me, pool.mint_b, 0])
    ix = _leg(m, pool, True, 10**3, 0)
    accs = list(ix.accounts)
    # another pair's array in the walk's place: InvalidBinArray
    other = next(p for p in m.world.pools if p.kind == "dlmm" and p is not pool and _spl(m, p))
    accs[15] = type(accs[15])(I.pubkey(other.tick_arrays[0]), False, True)
    r = m.simulate(m.tx([Instruction(ix.program_id, bytes(ix.data), accs)]))
    assert r["err"] == {"InstructionError": [0, {"Custom": 6027}]}
    # only the active bin's array for a swap that walks past it: AccountNotEnoughKeys (a
    # pair and direction whose bins lie in more than one array: the world lays a pair's
    # bins out from its price, and one side may lie in the active array alone)
    pool, a_to_b = next(
        (p, d)
        for p in m.world.pools
        for d in (True, False)
        if p.kind == "dlmm" and _spl(m, p) and len(DL.swap_array_indexes(p.record, d, 64)) > 1
    )
    big = int(DLsim._depth(pool, a_to_b) * 0.9)
    ix = _leg(m, pool, a_to_b, big, 0)
    accs = list(ix.accounts)[:16]
    with pytest.raises(TicksMissingError):  # the swap does walk past the array it names
        DLsim._quote(m.world, pool, a_to_b, big, [str(accs[15].pubkey)])
    tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    m.chain.fund([m.me, tin, 10**18])
    m.chain.fund([m.me, tout, 0])
    r = m.simulate(m.tx([Instruction(ix.program_id, bytes(ix.data), accs)]))
    assert r["err"] == {"InstructionError": [0, {"Custom": 3005}]}


def test_follow_takes_the_arrays_the_bitmap_marks_around_the_active_one() -> None:
    from types import SimpleNamespace

    bitmap = [0] * 16
    for idx in (-7, -1, 0, 4, 9):  # a sparse pair: liquidity in five arrays
        off = idx + DL.BITMAP_SIZE
        bitmap[off // 64] |= 1 << (off % 64)
    pair = "11111111111111111111111111111111"
    rec = SimpleNamespace(active_id=35, bin_array_bitmap=tuple(bitmap))
    got = [i for _, i in DL._follow(py, pair, rec, 1)]
    assert got == [-1, 0, 4]  # the active one's and the next marked one each way
    assert [i for _, i in DL._follow(py, pair, rec, 2)] == [-7, -1, 0, 4, 9]
    # an active bin in an empty array: it, and the marked ones the walk reaches
    rec = SimpleNamespace(active_id=2 * 70, bin_array_bitmap=tuple(bitmap))
    assert [i for _, i in DL._follow(py, pair, rec, 1)] == [-1, 0, 2, 4, 9]
    assert DL._follow(py, pair, rec, 0)[1] == (DL.bin_array_address(pair, 2), 2)
