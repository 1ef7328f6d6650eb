"""``TxSigner``: a v0 message template rendered and signed in one call (the live fast
path's build-and-sign step), Rust == twin, against solders' own signed transaction as the
oracle (``VersionedTransaction(msg, [keypair])``), RFC 8032's vectors, typed errors, a
secret never shown."""

from __future__ import annotations

import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from engine_rs import errors
from feeds.wire import instructions as I

STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]
seeds = st.binary(min_size=32, max_size=32)


def _data_at(message: bytes, n: int) -> tuple[int, list[int]]:
    """(where the blockhash is, where each of ``n`` instructions' data starts) in a v0
    message with no lookups (the template's layout, read here on its own)."""

    def compact(at: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            b = message[at]
            at += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value, at
            shift += 7

    keys, at = compact(4)
    bh_at = at + 32 * keys
    count, at = compact(bh_at + 32)
    assert count == n
    out = []
    for _ in range(n):
        accounts, at = compact(at + 1)
        size, at = compact(at + accounts)
        out.append(at)
        at += size
    return bh_at, out


@settings(max_examples=150, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    seed=seeds,
    blockhash=st.binary(min_size=32, max_size=32),
    limit=st.integers(0, 1_400_000),
    price=st.integers(0, 2**64 - 1),
    lamports=st.integers(1, 2**64 - 1),
    tip=st.integers(0, 7),
)
def test_a_rendered_and_signed_template_is_solders_transaction(
    eng: types.ModuleType,
    seed: bytes,
    blockhash: bytes,
    limit: int,
    price: int,
    lamports: int,
    tip: int,
) -> None:
    """A template compiled at a default blockhash and zero amounts, patched in the
    engine to these amounts and blockhash and signed: byte for byte the transaction
    solders compiles and signs afresh."""
    kp = Keypair.from_seed(seed)
    me = str(kp.pubkey())
    to = I.JITO_TIP_ACCOUNTS[tip]

    def ixs(limit: int, price: int, lamports: int) -> list[object]:
        return [
            I.set_compute_unit_limit(limit),
            I.set_compute_unit_price(price),
            I.transfer(me, to, lamports),
        ]

    template = to_bytes_versioned(
        MessageV0.try_compile(kp.pubkey(), ixs(0, 0, 0), [], Hash.default())  # type: ignore[arg-type]
    )
    bh_at, data_at = _data_at(template, 3)
    now = ixs(limit, price, lamports)
    patches = [(at, bytes(ix.data)) for at, ix in zip(data_at, now, strict=True)]  # type: ignore[attr-defined]
    signer = eng.TxSigner(bytes(kp))
    bh = Hash(blockhash)
    raw, sig = signer.sign_v0(template, bh_at, str(bh), patches)
    want = VersionedTransaction(
        MessageV0.try_compile(kp.pubkey(), now, [], bh),  # type: ignore[arg-type]
        [kp],
    )
    assert raw == bytes(want)
    assert sig == str(want.signatures[0])
    # the blockhash as bytes gives the same; the secret alone signs as the keypair
    assert eng.TxSigner(bytes(kp)[:32]).sign_v0(template, bh_at, blockhash, patches) == (
        raw,
        sig,
    )
    assert signer.pubkey == me


@settings(max_examples=150, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(seed=seeds, message=st.binary(max_size=1_300))
def test_signs_as_solders_keypair(eng: types.ModuleType, seed: bytes, message: bytes) -> None:
    kp = Keypair.from_seed(seed)
    got = eng.TxSigner(bytes(kp)).sign(message)
    assert got == bytes(kp.sign_message(message))
    assert Signature(got).verify(kp.pubkey(), message)


def test_rfc8032_vectors(eng: types.ModuleType) -> None:
    """RFC 8032 section 7.1, TESTS 1 and 3."""
    s = eng.TxSigner(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    assert s.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    s = eng.TxSigner(
        bytes.fromhex("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7")
    )
    assert s.sign(bytes.fromhex("af82")).hex() == (
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290"
        "ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
    )


def test_bad_input_is_a_clear_error(eng: types.ModuleType) -> None:
    kp = Keypair()
    with pytest.raises(errors.InvalidInputError, match="64 bytes"):
        eng.TxSigner(bytes(kp)[:31])
    other = bytes(kp)[:32] + bytes(Keypair().pubkey())
    with pytest.raises(errors.InvalidInputError, match="public half"):
        eng.TxSigner(other)
    s = eng.TxSigner(bytes(kp))
    msg = b"\x80\x01\x00\x00" + bytes(40)
    with pytest.raises(errors.InvalidInputError, match="outside"):
        s.sign_v0(msg, 20, bytes(32), [])
    with pytest.raises(errors.InvalidInputError, match="outside"):
        s.sign_v0(msg, 4, bytes(32), [(43, b"\x01\x02")])
    with pytest.raises(errors.InvalidInputError, match="one key"):
        s.sign_v0(b"\x80\x02" + msg[2:], 4, bytes(32), [])
    with pytest.raises(errors.InvalidInputError, match="32 bytes"):
        s.sign_v0(msg, 4, bytes(31), [])


def test_the_secret_is_never_shown(eng: types.ModuleType) -> None:
    kp = Keypair()
    s = eng.TxSigner(bytes(kp))
    shown = repr(s)
    assert str(kp.pubkey()) in shown
    assert bytes(kp)[:32].hex() not in shown and str(kp) not in shown
    assert not any("secret" in n or "key" == n for n in dir(s) if not n.startswith("__"))
