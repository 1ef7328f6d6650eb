"""Token-2022 mints in the pool graph, both backends: a mint's transfer fee counts in
every quote, sizing and cycle through its pools (the pool receives the input less its
fee, the trader the output less its), the fee in force follows the epoch of the graph's
slot under the cluster's epoch schedule (solders' ``EpochSchedule`` is the oracle), and
a mint with a refused extension makes its pools unquotable, naming the extension.

The oracle of the amounts is the composition of kernels checked elsewhere against the
program's own vectors and @solana/spl-token (``post_fee_amount``) and Raydium's curve
(``cpmm_amount_out``)."""

from __future__ import annotations

import struct
import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.epoch_schedule import EpochSchedule

import engine_rs
from engine_rs.errors import InvalidInputError
from feeds.sim.layouts import encode_token2022_mint
from feeds.wire.tokens import SPL_TOKEN, TOKEN_2022

A = "So11111111111111111111111111111111111111112"
B = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"  # the fee mint in these tests
C = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
P1, P2, P3 = (
    "11111111111111111111111111111112",
    "11111111111111111111111111111113",
    "11111111111111111111111111111114",
)
TRANSFER_FEE_CONFIG, TRANSFER_HOOK, NON_TRANSFERABLE = 1, 14, 9


def backends() -> list[Any]:
    out = [engine_rs.load("python")]
    try:
        out.append(engine_rs.load("rust"))
    except ImportError:
        pass
    return out


def mint_bytes(
    older: tuple[int, int, int], newer: tuple[int, int, int], extra: dict[int, bytes] | None = None
) -> bytes:
    """A Token-2022 mint with a TransferFeeConfig (108 bytes: two authorities, the
    withheld amount, then older and newer fee as epoch u64, maximum u64, bps u16)."""
    cfg = bytes(64) + struct.pack("<Q", 0)
    for e, m, b in (older, newer):
        cfg += struct.pack("<QQH", e, m, b)
    r = types.SimpleNamespace(
        mint_authority=None, supply=10**15, decimals=6, is_initialized=True, freeze_authority=None
    )
    return encode_token2022_mint(r, {TRANSFER_FEE_CONFIG: cfg, **(extra or {})})


def graph(
    eng: Any, r1: tuple[int, int] = (10**12, 2 * 10**12), r2: tuple[int, int] = (2 * 10**12, 10**12)
) -> Any:
    """A -> B -> A through two constant-product pools (25 bps)."""
    g = eng.PoolGraph(base_mints=[A], max_hops=3)
    g.upsert_cpmm(P1, A, B, r1[0], r1[1], 25, 10_000, 1)
    g.upsert_cpmm(P2, B, A, r2[0], r2[1], 25, 10_000, 1)
    return g


def by_hand(
    eng: Any, fee: tuple[int, int, int], x: int, r1: tuple[int, int], r2: tuple[int, int]
) -> list[int]:
    """A -> B (out pays B's fee) -> A (in pays B's fee), from the kernels."""
    cfg = (fee, fee)
    h1 = eng.post_fee_amount(cfg, 0, eng.cpmm_amount_out(x, r1[0], r1[1], 25, 10_000))
    h2 = eng.cpmm_amount_out(eng.post_fee_amount(cfg, 0, h1), r2[0], r2[1], 25, 10_000)
    return [x, h1, h2]


@pytest.mark.parametrize("eng", backends(), ids=lambda m: m.BACKEND)
def test_a_fee_mint_is_charged_on_the_way_out_and_on_the_way_in(eng: Any) -> None:
    g = graph(eng)
    before = g.quote([P1, P2], A, 10**9)
    assert g.set_mint(B, mint_bytes((0, 10**7, 100), (0, 10**7, 100)), TOKEN_2022) == []
    assert g.mint_fee(B) == ((0, 10**7, 100), (0, 10**7, 100))
    got = g.quote([P1, P2], A, 10**9)
    assert got == by_hand(eng, (0, 10**7, 100), 10**9, (10**12, 2 * 10**12), (2 * 10**12, 10**12))
    assert got[2] < before[2]
    # the cap binds on a large transfer: the fee is the maximum
    big = g.quote([P1, P2], A, 10**11)
    assert big == by_hand(eng, (0, 10**7, 100), 10**11, (10**12, 2 * 10**12), (2 * 10**12, 10**12))
    # an SPL Token mint (or a Token-2022 one without the extension) takes the fee away
    plain = encode_token2022_mint(
        types.SimpleNamespace(
            mint_authority=None, supply=1, decimals=6, is_initialized=True, freeze_authority=None
        ),
        {},
    )
    assert g.set_mint(B, plain, SPL_TOKEN) == [] and g.mint_fee(B) is None
    assert g.quote([P1, P2], A, 10**9) == before


@pytest.mark.parametrize("eng", backends(), ids=lambda m: m.BACKEND)
def test_the_fee_in_force_is_the_epochs(eng: Any) -> None:
    """Older before the newer fee's epoch, newer from it on (``get_epoch_fee``), the epoch
    from the slot under the schedule (32 slots an epoch here, as a test cluster may)."""
    g = graph(eng)
    g.set_epoch_schedule(32)
    g.set_mint(B, mint_bytes((0, 10**9, 50), (3, 10**9, 400)), TOKEN_2022)
    r1, r2 = (10**12, 2 * 10**12), (2 * 10**12, 10**12)
    g.set_slot(95)  # epoch 2
    assert g.epoch == 2
    older = g.quote([P1, P2], A, 10**9)
    assert older == by_hand(eng, (0, 10**9, 50), 10**9, r1, r2)
    g.set_slot(96)  # epoch 3: the newer fee
    assert g.epoch == 3
    assert g.quote([P1, P2], A, 10**9) == by_hand(eng, (3, 10**9, 400), 10**9, r1, r2)
    with pytest.raises(InvalidInputError):
        g.set_epoch_schedule(31)  # below MINIMUM_SLOTS_PER_EPOCH


@pytest.mark.parametrize("eng", backends(), ids=lambda m: m.BACKEND)
@pytest.mark.parametrize("warmup", [False, True])
def test_the_epoch_is_agaves(eng: Any, warmup: bool) -> None:
    spe = 8192
    oracle = EpochSchedule.custom(spe, spe, warmup) if warmup else EpochSchedule(spe)
    g = eng.PoolGraph(base_mints=[A])
    g.set_epoch_schedule(spe, warmup, oracle.first_normal_epoch, oracle.first_normal_slot)
    for slot in [0, 1, 31, 32, 33, 95, 96, 1000, 8159, 8160, 16351, 16352, 10**6, 3 * 10**8]:
        g.set_slot(slot)
        assert g.epoch == oracle.get_epoch(slot), slot


@pytest.mark.parametrize("eng", backends(), ids=lambda m: m.BACKEND)
def test_a_mint_with_a_hook_is_refused_by_name_and_its_cycles_never_offered(eng: Any) -> None:
    # a dislocated pair of pools: profitable through B without its mint's rules
    r1, r2 = (10**12, 3 * 10**12), (2 * 10**12, 10**12)
    g = graph(eng, r1, r2)
    assert any(o.profit > 0 for o in g.cycles(A, 2))
    assert g.find_negative_cycle() is not None
    hook = bytes(32) + bytes(range(1, 33))  # authority none, a program set
    got = g.set_mint(B, mint_bytes((0, 0, 0), (0, 0, 0), {TRANSFER_HOOK: hook}), TOKEN_2022)
    assert got == ["TransferHook"] and g.refusal(B) == ["TransferHook"]
    with pytest.raises(InvalidInputError, match="TransferHook"):
        g.quote([P1, P2], A, 10**9)
    assert all(o.profit == 0 and o.amount_in == 0 for o in g.cycles(A, 2))
    assert g.find_negative_cycle() is None
    assert all(o.amount_in == 0 for o in g.cycles_touching(P1, 3))
    # the hook removed (no program): tradable again
    g.set_mint(B, mint_bytes((0, 0, 0), (0, 0, 0), {TRANSFER_HOOK: bytes(64)}), TOKEN_2022)
    assert g.refusal(B) == [] and g.quote([P1, P2], A, 10**9)[2] > 0


FEES = st.tuples(st.integers(0, 2**40), st.integers(0, 10_000))


@settings(max_examples=60, deadline=None)
@given(
    older=FEES,
    newer=FEES,
    at=st.integers(0, 6),
    slot=st.integers(0, 400),
    r=st.tuples(*[st.integers(10**6, 10**13)] * 4),
    x=st.integers(1, 10**12),
)
def test_both_backends_agree_on_fee_mints(
    older: tuple[int, int],
    newer: tuple[int, int],
    at: int,
    slot: int,
    r: tuple[int, int, int, int],
    x: int,
) -> None:
    engs = backends()
    if len(engs) < 2:
        pytest.skip("the Rust extension is not built")
    answers = []
    for eng in engs:
        g = graph(eng, (r[0], r[1]), (r[2], r[3]))
        g.upsert_cpmm(P3, A, C, 10**12, 10**12, 30, 10_000, 1)
        g.set_epoch_schedule(64)
        g.set_slot(slot)
        g.set_mint(B, mint_bytes((0, *older), (at, *newer)), TOKEN_2022)
        opps = [(o.pools, o.amount_in, o.amount_out, o.hop_amounts) for o in g.cycles(A, 3)]
        cyc = g.find_negative_cycle()
        answers.append((g.epoch, g.quote([P1, P2], A, x), opps, None if cyc is None else cyc.pools))
    assert answers[0] == answers[1]


@pytest.mark.parametrize("eng", backends(), ids=lambda m: m.BACKEND)
def test_the_graph_knows_the_program_of_each_mint_it_was_told(eng: Any) -> None:
    """``mint_program``: the owner ``set_mint`` was given (a plain Token-2022 mint
    included, which changes no quote but does change a venue's swap instruction, hence a
    transaction's size); None for a mint never told (an SPL Token mint the feed does not
    follow) or unknown to the graph; bytes and text owners alike."""
    g = graph(eng)
    assert g.mint_program(B) is None and g.mint_program(C) is None
    plain = types.SimpleNamespace(
        mint_authority=None, supply=1, decimals=6, is_initialized=True, freeze_authority=None
    )
    g.set_mint(B, encode_token2022_mint(plain, {}), TOKEN_2022)
    assert g.mint_program(B) == TOKEN_2022 and g.mint_fee(B) is None and g.refusal(B) == []
    from solders.pubkey import Pubkey

    g.set_mint(A, encode_token2022_mint(plain, {})[:82], bytes(Pubkey.from_string(SPL_TOKEN)))
    assert g.mint_program(A) == SPL_TOKEN
