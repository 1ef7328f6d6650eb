"""Token-2022 transfer fee and refused extensions: spl-token-2022's own test vectors
(``tests/engine/data/spl_token_2022_transfer_fee.json``, each citing its line), its
proptest properties, both backends agreeing, typed errors on bad input."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine_rs.python as twin_mod
from engine_rs import errors

U64 = (1 << 64) - 1
VECTORS = json.loads((Path(__file__).parent / "data/spl_token_2022_transfer_fee.json").read_text())
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"


def one(fee: list[int] | tuple[int, int, int]) -> Any:
    """A config whose older and newer fee are the same: the vectors' single ``TransferFee``."""
    f = tuple(fee)
    return (f, f)


@pytest.mark.parametrize("v", VECTORS["calculate_fee"], ids=lambda v: v["lines"])
def test_calculate_fee_vectors(eng: types.ModuleType, v: dict[str, Any]) -> None:
    assert eng.transfer_fee(one(v["fee"]), 0, v["amount"]) == v["want"]
    assert eng.post_fee_amount(one(v["fee"]), 0, v["amount"]) == v["amount"] - v["want"]


@pytest.mark.parametrize("v", VECTORS["calculate_inverse_fee"], ids=lambda v: v["lines"])
def test_inverse_fee_vectors(eng: types.ModuleType, v: dict[str, Any]) -> None:
    assert eng.inverse_transfer_fee(one(v["fee"]), 0, v["post"]) == v["want"]


@pytest.mark.parametrize("v", VECTORS["calculate_pre_fee_amount"], ids=lambda v: v["lines"])
def test_pre_fee_amount_vectors(eng: types.ModuleType, v: dict[str, Any]) -> None:
    assert eng.pre_fee_amount(one(v["fee"]), 0, v["post"]) == v["want"]


@pytest.mark.parametrize("v", VECTORS["calculate_pre_fee_amount_none"], ids=lambda v: v["lines"])
def test_pre_fee_amount_none(eng: types.ModuleType, v: dict[str, Any]) -> None:
    with pytest.raises(errors.MathOverflowError):
        eng.pre_fee_amount(one(v["fee"]), 0, v["post"])
    with pytest.raises(errors.MathOverflowError):
        eng.inverse_transfer_fee(one(v["fee"]), 0, v["post"])


def test_epoch_rule(eng: types.ModuleType) -> None:
    """get_epoch_fee: the newer fee from its epoch on, the older before (its test's
    epochs); told apart by an amount the two fees charge differently."""
    e = VECTORS["epoch_fee"]
    older, newer = tuple(e["older"]), tuple(e["newer"])
    config = (older, newer)
    amount = 10**7
    assert eng.transfer_fee(one(older), 0, amount) != eng.transfer_fee(one(newer), 0, amount)
    for epoch in e["newer_at"]:
        assert eng.transfer_fee(config, epoch, amount) == eng.transfer_fee(one(newer), 0, amount)
        assert eng.pre_fee_amount(config, epoch, amount) == eng.pre_fee_amount(
            one(newer), 0, amount
        )
    for epoch in e["older_at"]:
        assert eng.transfer_fee(config, epoch, amount) == eng.transfer_fee(one(older), 0, amount)


FEES = st.tuples(
    st.integers(0, U64), st.integers(0, U64), st.integers(0, 9_999)
)  # the proptests' ranges: bps in 0..MAX_FEE_BASIS_POINTS


@given(fee=FEES, amount=st.integers(0, U64))
def test_proptest_properties(fee: tuple[int, int, int], amount: int) -> None:
    """The program's proptests inverse_fee_relationship and round_trip_fee_calculation
    (mod.rs 427-469), on both backends.

    The inverse relationship (never more back than was taken) holds everywhere. The round
    trip's bound ``diff < amount / 10^12`` is a heuristic of its proptest, which draws
    amounts uniformly over u64 (almost all above 10^17): near 10^12 the program's own
    arithmetic breaks it (fee (0, 500_100_000_003, 5001) on 1_000_000_000_002: diff 2,
    precision 1; a random run of this test found it; test below). So it is checked where
    its draws live (amount >= 10^17), and everywhere the exact bound of the two roundings:
    with the fee uncapped, ``post = amount - ceil(amount*b/10^4)`` gives a pre-fee amount
    at most ``k = floor((10^4 - 1) / (10^4 - b))`` below ``amount``, so the fees differ by
    at most ``ceil(k*b / 10^4)``. Where the cap binds (the fee is the cap) only the inverse
    relationship holds (fee (0, 162_267_697_560, 1147) on 1_414_714_015_336: diff 1)."""
    max_fee, bps = fee[1], fee[2]
    k = (10_000 - 1) // (10_000 - bps)
    for eng in (twin_mod, _rust()):
        fee_in = eng.transfer_fee(one(fee), 0, amount)
        out = amount - fee_in
        fee_out = eng.inverse_transfer_fee(one(fee), 0, out)
        assert fee_in >= fee_out
        if fee_in < max_fee:
            assert fee_in - fee_out <= -(-k * bps // 10_000)
            if amount >= 10**17:
                assert fee_in - fee_out < amount // 10_000 // 10_000 // 10_000


def test_the_round_trip_is_one_short_where_the_cap_binds() -> None:
    """The case above by the program's formulas: the fee is capped at 162_267_697_560; the
    pre-fee amount of the 1_252_446_317_776 left is ceil(left * 10^4 / 8853), whose excess
    over ``left`` is one below the cap, so its fee is not capped and is one less."""
    fee, amount = (0, 162_267_697_560, 1147), 1_414_714_015_336
    left = amount - fee[1]
    pre = -(-left * 10_000 // (10_000 - 1147))
    assert pre - left == fee[1] - 1
    for eng in (twin_mod, _rust()):
        assert eng.transfer_fee(one(fee), 0, amount) == fee[1]
        assert eng.pre_fee_amount(one(fee), 0, left) == pre
        assert eng.inverse_transfer_fee(one(fee), 0, left) == fee[1] - 1


def test_the_round_trip_is_two_short_where_the_pre_fee_amount_divides_exactly() -> None:
    """The case above by the program's formulas (``calculate_pre_fee_amount``:
    ``ceil(post * 10^4 / (10^4 - bps))``, the cap added only when the excess reaches it):
    the fee of 1_000_000_000_002 is 500_100_000_002, under the cap; the 499_900_000_000
    left times 10^4 divides by 4999 exactly, giving 10^12, whose fee is 500_100_000_000:
    the round trip is 2 short where the program's proptest bound allows 1."""
    fee, amount = (0, 500_100_000_003, 5001), 1_000_000_000_002
    left = amount - 500_100_000_002
    assert left * 10_000 % (10_000 - 5001) == 0
    pre = left * 10_000 // (10_000 - 5001)
    assert pre == 10**12 and -(-pre * 5001 // 10_000) == 500_100_000_000
    for eng in (twin_mod, _rust()):
        assert eng.transfer_fee(one(fee), 0, amount) == 500_100_000_002
        assert eng.pre_fee_amount(one(fee), 0, left) == pre
        assert eng.inverse_transfer_fee(one(fee), 0, left) == 500_100_000_000


def _rust() -> types.ModuleType:
    import engine_rs.rust as rust

    return rust


ANY_INT = st.one_of(st.integers(0, U64), st.integers(-5, U64 + 5), st.integers(0, 20_000))


@given(
    older=st.tuples(ANY_INT, ANY_INT, ANY_INT),
    newer=st.tuples(ANY_INT, ANY_INT, ANY_INT),
    epoch=ANY_INT,
    amount=ANY_INT,
)
def test_backends_agree(
    older: tuple[int, int, int], newer: tuple[int, int, int], epoch: int, amount: int
) -> None:
    """Same answers and same error classes, bad input included (bps above 10,000:
    InvalidInputError; ints outside u64: MathOverflowError)."""
    for name in ("transfer_fee", "post_fee_amount", "pre_fee_amount", "inverse_transfer_fee"):
        got = []
        for eng in (twin_mod, _rust()):
            try:
                got.append(("ok", getattr(eng, name)((older, newer), epoch, amount)))
            except errors.EngineError as exc:
                got.append(("err", type(exc).__name__))
        assert got[0] == got[1], name


def test_bad_types(eng: types.ModuleType) -> None:
    with pytest.raises(TypeError):
        eng.transfer_fee([(0, 1, 1), (0, 1, 1)], 0, 1)
    with pytest.raises(TypeError):
        eng.transfer_fee(((0, 1, 1.0), (0, 1, 1)), 0, 1)
    with pytest.raises(errors.InvalidInputError, match="10001"):
        eng.transfer_fee(((0, 1, 1), (0, 1, 10_001)), 0, 1)


# ------------------------------------------------------------------ extensions
def _mint(*tlv: tuple[int, bytes]) -> bytes:
    """A Token-2022 mint as the program lays it out: the 82-byte base mint, zero padding
    to 165 bytes (the account length), AccountType::Mint (1), then type-length-value
    entries (u16 type, u16 length, value)."""
    base = bytearray(82)
    base[44] = 6  # decimals
    base[45] = 1  # is_initialized
    out = bytes(base) + bytes(165 - 82) + b"\x01"
    for ext, value in tlv:
        out += ext.to_bytes(2, "little") + len(value).to_bytes(2, "little") + value
    return out


FEE_CONFIG = bytes(108)
HOOK = bytes(32) + bytes(range(1, 33))  # authority (none), program id (set)
NO_HOOK = bytes([7]) * 32 + bytes(32)  # an authority, no program: no hook runs


@pytest.mark.parametrize(
    ("tlv", "want"),
    [
        ((), []),
        (((1, FEE_CONFIG),), []),
        (((14, HOOK),), ["TransferHook"]),
        (((9, b""),), ["NonTransferable"]),
        (((14, NO_HOOK),), []),
        (((14, bytes(40)),), ["TransferHook"]),
        (((26, bytes(32) + b"\x01"),), ["Pausable"]),
        (((26, bytes(33)),), []),
        (((6, b"\x02"),), ["DefaultAccountState"]),
        (((6, b"\x01"),), []),
        (((12, bytes(32)), (4, bytes(65)), (10, bytes(52))), []),
        (
            ((1, FEE_CONFIG), (14, HOOK), (9, b""), (400, b"ab")),
            ["TransferHook", "NonTransferable", "Unknown(400)"],
        ),
    ],
)
def test_refused_extensions(
    eng: types.ModuleType, tlv: tuple[tuple[int, bytes], ...], want: list[str]
) -> None:
    assert eng.refused_extensions(_mint(*tlv), TOKEN_2022) == want


def test_refused_extensions_spl_token_and_bad_bytes(eng: types.ModuleType) -> None:
    assert eng.refused_extensions(bytes(82), SPL_TOKEN) == []
    with pytest.raises(errors.WrongOwnerError):
        eng.refused_extensions(_mint(), SPL_TOKEN[:-1] + "B")
    with pytest.raises(errors.AccountTooShortError):
        eng.refused_extensions(_mint((14, HOOK))[:-3], TOKEN_2022)


@given(st.binary(max_size=400))
def test_refused_extensions_agree_on_any_bytes(data: bytes) -> None:
    got = []
    for eng in (twin_mod, _rust()):
        try:
            got.append(("ok", eng.refused_extensions(data)))
        except errors.EngineError as exc:
            got.append(("err", type(exc).__name__))
    assert got[0] == got[1]


@given(fee=FEES, post=st.integers(1, U64))
def test_pre_fee_amount_is_the_smallest_that_arrives(fee: tuple[int, int, int], post: int) -> None:
    """calculate_pre_fee_amount's doc (mod.rs 77-88): the amount whose net is ``post``,
    the smaller one where two round to the same; none (overflow) past u64. Whirlpool's
    swap_v2 relies on the same (its included amount is verified by calculate_fee)."""
    for eng in (twin_mod, _rust()):
        try:
            pre = eng.pre_fee_amount(one(fee), 0, post)
        except errors.MathOverflowError:
            continue
        assert eng.post_fee_amount(one(fee), 0, pre) == post
        assert eng.post_fee_amount(one(fee), 0, pre - 1) < post
        inv = eng.inverse_transfer_fee(one(fee), 0, post)
        assert pre == post + inv
