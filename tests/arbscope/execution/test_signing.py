"""The live path's signer (``keys.Signer``: OpenSSL's ed25519) against solders' own: the
same signatures, and the same transactions as solders' ``VersionedTransaction`` signs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from arbscope.execution.keys import Signer
from arbscope.execution.live import compile_and_sign
from feeds.wire import instructions as I

seeds = st.binary(min_size=32, max_size=32)


@given(seeds, st.binary(max_size=1_300))
def test_the_signer_signs_as_the_keypair_does(seed: bytes, message: bytes) -> None:
    kp = Keypair.from_seed(seed)
    signer = Signer(kp)
    got = signer.sign_message(message)
    assert got == kp.sign_message(message)
    assert got.verify(kp.pubkey(), message)
    assert signer.pubkey == kp.pubkey()


@given(
    seeds,
    st.binary(min_size=32, max_size=32),
    st.integers(0, 1_400_000),
    st.integers(0, 2**64 - 1),
    st.integers(1, 2**64 - 1),
)
def test_a_transaction_signed_by_the_signer_is_solders_own(
    seed: bytes, blockhash: bytes, limit: int, price: int, lamports: int
) -> None:
    """Byte for byte the transaction solders' constructor signs with the keypair."""
    kp = Keypair.from_seed(seed)
    me = str(kp.pubkey())
    ixs = [
        I.set_compute_unit_limit(limit),
        I.set_compute_unit_price(price),
        I.transfer(me, I.JITO_TIP_ACCOUNTS[seed[0] % len(I.JITO_TIP_ACCOUNTS)], lamports),
    ]
    bh = Hash(blockhash)
    ours = compile_and_sign(Signer(kp), kp.pubkey(), ixs, str(bh))
    msg = MessageV0.try_compile(kp.pubkey(), ixs, [], bh)
    assert bytes(ours) == bytes(VersionedTransaction(msg, [kp]))


def test_the_signer_never_shows_its_key() -> None:
    kp = Keypair()
    shown = repr(Signer(kp))
    assert str(kp.pubkey()) in shown
    assert str(kp) not in shown and bytes(kp)[:32].hex() not in shown
