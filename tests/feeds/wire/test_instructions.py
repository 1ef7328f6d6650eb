"""Instruction layouts against outside oracles: solders' own builders, the spec's test
vectors, the Anchor discriminator rule and PDA derivations; then encode -> decode
round trips for every layout (the shared ones in feeds.wire.instructions, each venue's
swap in its module), and clear errors for data that fits none."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders import compute_budget as cb
from solders import system_program as sp
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address

from engine_rs.python import pda
from engine_rs.python.venues.orca_whirlpool.swap import (
    MAX_TICK_INDEX,
    MIN_TICK_INDEX,
    TICK_ARRAY_SIZE,
)
from feeds import venues
from feeds.venues import orca_whirlpool as WP
from feeds.venues import raydium_amm_v4 as V4
from feeds.venues import raydium_cpmm as CP
from feeds.wire import instructions as I

keys = st.binary(min_size=32, max_size=32).map(lambda b: str(Pubkey.from_bytes(b)))
u64 = st.integers(0, 2**64 - 1)


def test_compute_budget_matches_the_spec_vectors_and_solders() -> None:
    # spec §5.3: set_compute_unit_limit(257).data == [2,1,1,0,0]; price(u64::MAX) == [3,255x8]
    assert bytes(I.set_compute_unit_limit(257).data) == bytes([2, 1, 1, 0, 0])
    assert bytes(I.set_compute_unit_price(2**64 - 1).data) == bytes([3] + [255] * 8)
    assert str(I.set_compute_unit_limit(1).program_id) == str(cb.ID)


@given(st.integers(0, 2**32 - 1), u64)
def test_compute_budget_equals_solders_builders(limit: int, price: int) -> None:
    assert I.set_compute_unit_limit(limit) == cb.set_compute_unit_limit(limit)
    assert I.set_compute_unit_price(price) == cb.set_compute_unit_price(price)
    assert I.decode(I.COMPUTE_BUDGET, bytes(I.set_compute_unit_limit(limit).data), []) == (
        I.ComputeUnitLimit(limit)
    )
    assert I.decode(I.COMPUTE_BUDGET, bytes(I.set_compute_unit_price(price).data), []) == (
        I.ComputeUnitPrice(price)
    )


@settings(max_examples=50)
@given(keys, keys, u64)
def test_transfer_equals_solders_system_transfer(a: str, b: str, lamports: int) -> None:
    want = sp.transfer(
        {
            "from_pubkey": Pubkey.from_string(a),
            "to_pubkey": Pubkey.from_string(b),
            "lamports": lamports,
        }
    )
    assert I.transfer(a, b, lamports) == want
    assert I.decode(I.SYSTEM_PROGRAM, bytes(want.data), [a, b]) == I.Transfer(a, b, lamports)


@settings(max_examples=50)
@given(keys, keys)
def test_ata_address_equals_solders(wallet: str, mint: str) -> None:
    want = get_associated_token_address(Pubkey.from_string(wallet), Pubkey.from_string(mint))
    assert I.ata_address(wallet, mint) == str(want)
    ix = I.create_ata_idempotent(wallet, wallet, mint)
    got = I.decode(I.ATA_PROGRAM, bytes(ix.data), [str(m.pubkey) for m in ix.accounts])
    assert got == I.CreateAta(wallet, str(want), wallet, mint, I.SPL_TOKEN, True)
    assert [(m.is_signer, m.is_writable) for m in ix.accounts][:2] == [(True, True), (False, True)]


def test_discriminators_follow_the_anchor_rule_and_the_spec() -> None:
    # Appendix A: instruction = sha256("global:" + name)[..8]
    assert (
        hashlib.sha256(b"global:swap_base_input").digest()[:8]
        == bytes([143, 190, 90, 218, 196, 30, 51, 222])
        == CP.SWAP_BASE_INPUT
    )
    assert hashlib.sha256(b"global:swap").digest()[:8] == WP.SWAP
    assert WP.SWAP == bytes([248, 198, 158, 145, 225, 117, 135, 200])


def test_program_authorities_and_tip_accounts_are_the_pdas_the_spec_derives() -> None:
    # AMM v4: create_program_address([b"amm authority", [nonce]]), nonce = the find bump (254)
    addr, bump = pda.find_program_address([b"amm authority"], V4.PROGRAM)
    assert (addr, bump) == (V4.AUTHORITY, 254)
    addr, bump = pda.find_program_address([b"vault_and_lp_mint_auth_seed"], CP.PROGRAM)
    assert (addr, bump) == (CP.AUTHORITY, 253)
    bumps = (255, 254, 255, 255, 252, 255, 252, 255)  # spec §5.5
    for i, (want, b) in enumerate(zip(I.JITO_TIP_ACCOUNTS, bumps, strict=True)):
        assert pda.find_program_address([f"TIP_ACCOUNT_{i}".encode()], I.JITO_TIP_PROGRAM) == (
            want,
            b,
        )


@settings(max_examples=60)
@given(st.lists(keys, min_size=7, max_size=7), u64, u64)
def test_raydium_v4_swap_round_trips(k: list[str], amount: int, minimum: int) -> None:
    amm, coin, pc, src, dst, owner, auth = k
    ix = V4.swap_base_in(amm, coin, pc, src, dst, owner, amount, minimum, auth)
    data = bytes(ix.data)
    assert data == struct.pack("<BQQ", 16, amount, minimum) and len(ix.accounts) == 8
    s = venues.decode(V4.PROGRAM, data, [str(m.pubkey) for m in ix.accounts])
    assert (s.pool, s.amount_in, s.minimum_out, s.user_source, s.user_dest, s.owner) == (
        amm,
        amount,
        minimum,
        src,
        dst,
        owner,
    )
    assert (s.accounts["coin_vault"], s.accounts["pc_vault"], s.accounts["authority"]) == (
        coin,
        pc,
        auth,
    )
    assert [m.is_signer for m in ix.accounts] == [False] * 7 + [True]


@settings(max_examples=60)
@given(st.lists(keys, min_size=12, max_size=12), u64, u64)
def test_cpmm_swap_round_trips(k: list[str], amount: int, minimum: int) -> None:
    ix = CP.swap_base_input(*k, amount, minimum)  # type: ignore[arg-type]
    data = bytes(ix.data)
    assert data[:8] == CP.SWAP_BASE_INPUT and struct.unpack("<QQ", data[8:]) == (
        amount,
        minimum,
    )
    s = venues.decode(CP.PROGRAM, data, [str(m.pubkey) for m in ix.accounts])
    names = (
        "payer",
        "amm_config",
        "pool_state",
        "input_token_account",
        "output_token_account",
        "input_vault",
        "output_vault",
        "input_token_program",
        "output_token_program",
        "input_token_mint",
        "output_token_mint",
        "observation_state",
    )
    assert {n: s.accounts[n] for n in names} == dict(zip(names, k, strict=True))
    assert s.accounts["authority"] == CP.AUTHORITY and s.owner == k[0]
    assert (s.amount_in, s.minimum_out) == (amount, minimum)


@settings(max_examples=60)
@given(st.lists(keys, min_size=10, max_size=10), u64, u64, st.booleans())
def test_whirlpool_swap_round_trips(
    k: list[str], amount: int, threshold: int, a_to_b: bool
) -> None:
    auth, wp, oa, va, ob, vb, t0, t1, t2, oracle = k
    ix = WP.swap(auth, wp, oa, va, ob, vb, [t0, t1, t2], oracle, amount, threshold, a_to_b)
    data = bytes(ix.data)
    assert len(data) == 42  # spec §2.6: discriminator, u64, u64, u128, bool, bool
    limit = WP.MIN_SQRT_PRICE_X64 if a_to_b else WP.MAX_SQRT_PRICE_X64
    assert data[8:] == struct.pack("<QQ", amount, threshold) + limit.to_bytes(16, "little") + (
        bytes([1, int(a_to_b)])
    )
    s = venues.decode(WP.PROGRAM, data, [str(m.pubkey) for m in ix.accounts])
    assert (s.pool, s.amount_in, s.minimum_out, s.a_to_b, s.tick_arrays) == (
        wp,
        amount,
        threshold,
        a_to_b,
        (t0, t1, t2),
    )
    assert (s.user_source, s.user_dest) == ((oa, ob) if a_to_b else (ob, oa))


@pytest.mark.parametrize(
    ("program", "data", "n", "kind"),
    [
        (V4.PROGRAM, bytes([16]) + bytes(8), 8, "InvalidInstructionData"),  # truncated
        (V4.PROGRAM, bytes([16]) + bytes(16), 7, "NotEnoughAccountKeys"),
        (V4.PROGRAM, bytes([3]) + bytes(16), 8, "InvalidInstructionData"),  # not a swap
        (CP.PROGRAM, bytes(24), 13, "InvalidInstructionData"),  # wrong discriminator
        (WP.PROGRAM, WP.SWAP + bytes(33), 11, "InvalidInstructionData"),  # short
        (WP.PROGRAM, WP.SWAP + bytes(32) + bytes([2, 0]), 11, "InvalidInstructionData"),
        (I.COMPUTE_BUDGET, bytes([2, 1]), 0, "InvalidInstructionData"),
        (I.SYSTEM_PROGRAM, bytes(4), 2, "InvalidInstructionData"),
        (str(Pubkey.new_unique()), b"", 0, "IncorrectProgramId"),
    ],
)
def test_data_that_fits_no_layout_is_a_named_error(
    program: str, data: bytes, n: int, kind: str
) -> None:
    accounts = [str(Keypair().pubkey()) for _ in range(n)]
    with pytest.raises(I.InstructionError) as e:
        venues.decode(program, data, accounts)
    assert e.value.kind == kind and str(e.value)


@pytest.mark.parametrize("ts", [1, 8, 64, 128])
def test_swap_tick_arrays_start_where_the_spec_says_and_follow_the_direction(ts: int) -> None:
    size = TICK_ARRAY_SIZE * ts
    # spec §2.3 vectors of the array holding a tick: (740, ts8) -> 704, (-624, ts8) -> -704
    if ts == 8:
        assert WP.swap_tick_array_starts(8, 740, True)[0] == 704
        assert WP.swap_tick_array_starts(8, -624, True)[0] == -704
    for tick in (0, 1, -1, size - ts, size - 1, -size, 12_345 // ts * ts + 3):
        down, up = (
            WP.swap_tick_array_starts(ts, tick, True),
            WP.swap_tick_array_starts(ts, tick, False),
        )
        base = tick // size * size
        assert down == [base, base - size, base - 2 * size]
        # b->a starts one array later when the tick sits in its array's last tick_spacing
        first = base + size if tick + ts >= base + size else base
        assert up == [first, first + size, first + 2 * size]
    # at the ends of the price range fewer arrays exist; the account list repeats the last
    assert len(WP.swap_tick_array_starts(ts, MAX_TICK_INDEX - 1, False)) < 3
    assert len(WP.swap_tick_array_starts(ts, MIN_TICK_INDEX + 1, True)) < 3
    wp = str(Pubkey.new_unique())
    arrays = WP.swap_tick_arrays(wp, ts, MAX_TICK_INDEX - 1, False)
    assert len(arrays) == 3 and arrays[-1] == arrays[-2]
