"""Base58: the `base58` package and solders as oracles, Rust == twin, typed errors."""

from __future__ import annotations

import types

import base58
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey
from solders.signature import Signature

from engine_rs import errors

STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

data_st = st.one_of(
    st.binary(max_size=100),
    st.builds(lambda z, b: b"\0" * z + b, st.integers(0, 8), st.binary(max_size=40)),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=64, max_size=64),
)


@settings(max_examples=400, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(data=data_st)
def test_matches_the_base58_package(eng: types.ModuleType, data: bytes) -> None:
    want = base58.b58encode(data).decode()
    assert eng.b58encode(data) == want
    assert eng.b58decode(want) == data
    assert eng.b58encode(bytearray(data)) == want == eng.b58encode(memoryview(data))


@settings(max_examples=200, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(text=st.text(alphabet=ALPHABET, max_size=90))
def test_decodes_any_base58_text_like_the_package(eng: types.ModuleType, text: str) -> None:
    assert eng.b58decode(text) == base58.b58decode(text)


@settings(max_examples=200, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(key=st.binary(min_size=32, max_size=32), sig=st.binary(min_size=64, max_size=64))
def test_matches_solders_for_addresses_and_signatures(
    eng: types.ModuleType, key: bytes, sig: bytes
) -> None:
    assert eng.b58encode(key) == str(Pubkey(key))
    assert eng.b58decode(str(Pubkey(key))) == bytes(Pubkey.from_string(str(Pubkey(key))))
    assert eng.b58encode(sig) == str(Signature(sig))
    assert eng.b58decode(str(Signature(sig))) == sig


def test_every_length_and_leading_zeros_in_both_directions(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    for n in range(0, 101):
        for zeros in (0, 1, 3, n):
            data = b"\0" * min(zeros, n) + bytes(
                (i * 37 + 11) % 256 for i in range(n - min(zeros, n))
            )
            text = base58.b58encode(data).decode()
            assert rust.b58encode(data) == py.b58encode(data) == text, n
            assert rust.b58decode(text) == py.b58decode(text) == data, n


def test_spec_vector_and_empty(eng: types.ModuleType) -> None:
    assert eng.b58encode(bytes(32)) == "11111111111111111111111111111111"  # System Program
    assert eng.b58decode("11111111111111111111111111111111") == bytes(32)
    assert eng.b58encode(b"") == "" and eng.b58decode("") == b""


@pytest.mark.parametrize(
    ("text", "char", "pos"),
    [
        ("0", "0", 0),
        ("1O1", "O", 1),
        ("abcI", "I", 3),
        ("l", "l", 0),
        ("1é2", "é", 1),
        (" 2", " ", 0),
    ],
)
def test_bad_characters_are_named(eng: types.ModuleType, text: str, char: str, pos: int) -> None:
    with pytest.raises(errors.Base58Error, match=f"{char!r} at position {pos}"):
        eng.b58decode(text)
    with pytest.raises(ValueError):  # a Base58Error is a ValueError too
        eng.b58decode(text)


@pytest.mark.parametrize("bad", [None, 5, ["a"], b"abc"])
def test_decode_wants_str(eng: types.ModuleType, bad: object) -> None:
    with pytest.raises(TypeError):
        eng.b58decode(bad)


@pytest.mark.parametrize("bad", [None, 5, "abc", [1, 2]])
def test_encode_wants_bytes(eng: types.ModuleType, bad: object) -> None:
    with pytest.raises(TypeError):
        eng.b58encode(bad)
