"""Mint and token-metadata decoders (feeds.wire.mints) against real mainnet bytes, the
engine's own mint decoder, solana-py's SPL layouts and solders' PDA derivation; the
simulator's encoders round-trip through them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

import engine_rs
from engine_rs import decoded as D
from feeds.sim import layouts as L
from feeds.wire import mints as M
from feeds.wire.tokens import BY_SYMBOL, SPL_TOKEN, TOKEN_2022

PUMP = "73edX6xoGY4v5y2hzuKdrUbJXLntqgmo74au1Ki1pump"  # a Token-2022 mint with metadata
SOL = "So11111111111111111111111111111111111111112"


def _accounts(shared: Path) -> dict[str, tuple[bytes, str]]:
    d = json.loads((shared / "raydium" / "cpmm_wsol_pump.json").read_text())
    out = {}
    for k, a in d["accounts"].items():
        raw = a["data"] if isinstance(a["data"], str) else a["data"][0]
        out[k] = (base64.b64decode(raw), a["owner"])
    return out


def test_real_token2022_mint_with_its_metadata_extension(shared_fixtures: Path) -> None:
    data, owner = _accounts(shared_fixtures)[PUMP]
    assert owner == TOKEN_2022 and len(data) == 414
    m = M.decode_mint(data, owner)
    eng = engine_rs.backend().decode_mint(data, owner)  # the engine's decoder: the oracle
    assert (m.decimals, m.supply, m.is_initialized) == (eng.decimals, eng.supply, True)
    assert set(m.extensions) == {M.EXT_METADATA_POINTER, M.EXT_TOKEN_METADATA}
    # the pointer (authority, metadata address) points at the mint itself, and the
    # extension names the mint it belongs to: both are the account's own address
    pointer = m.extensions[M.EXT_METADATA_POINTER]
    assert str(Pubkey.from_bytes(pointer[32:64])) == PUMP
    assert m.metadata is not None and m.metadata.mint == PUMP
    assert (m.metadata.name, m.metadata.symbol) == (
        "Solana Fork Staccana ",
        "Staccana",
    )  # as stored, space and all
    assert m.metadata.uri.startswith("https://ipfs.io/ipfs/Qm")
    assert m.metadata.update_authority is None  # 32 zero bytes: no authority
    assert m.metadata.additional == ()


def test_real_spl_mints_agree_with_the_engine_and_solana_py(shared_fixtures: Path) -> None:
    from spl.token._layouts import MINT_LAYOUT  # solana-py's layout: an outside oracle

    seen = 0
    for addr, (data, owner) in _accounts(shared_fixtures).items():
        if owner != SPL_TOKEN or len(data) != M.MINT_SIZE:
            continue
        m = M.decode_mint(data, owner)
        ref: Any = MINT_LAYOUT.parse(data)
        assert (m.decimals, m.supply, m.is_initialized) == (
            ref.decimals,
            ref.supply,
            bool(ref.is_initialized),
        )
        assert m.extensions == {} and m.metadata is None
        if addr == SOL:
            assert m.decimals == BY_SYMBOL["SOL"].decimals == 9
        seen += 1
    assert seen >= 2


def test_wrong_sizes_owners_and_layouts_are_clear_errors() -> None:
    rec = D.Mint(None, 1, 6, True, None)
    spl = L.encode_mint(rec)
    with pytest.raises(M.TokenDataError, match="82 bytes, this one 81"):
        M.decode_mint(spl[:81], SPL_TOKEN)
    with pytest.raises(M.TokenDataError, match="82 bytes, this one 165"):
        M.decode_mint(spl + bytes(83), SPL_TOKEN)
    with pytest.raises(M.TokenDataError, match="not a mint: owned by"):
        M.decode_mint(spl, M.METADATA_PROGRAM)
    with pytest.raises(M.TokenDataError, match="not 355"):
        M.decode_mint(spl + bytes(M.MULTISIG_SIZE - 82), TOKEN_2022)
    ext = L.encode_token2022_mint(
        rec, {M.EXT_TOKEN_METADATA: L.encode_token_metadata(SOL, "n", "s")}
    )
    bad = bytearray(ext)
    bad[165] = 2  # an Account, not a Mint
    with pytest.raises(M.TokenDataError, match="account type 2"):
        M.decode_mint(bytes(bad), TOKEN_2022)
    with pytest.raises(M.TokenDataError, match="claims"):
        M.decode_mint(ext[:-3], TOKEN_2022)  # the last entry cut short
    meta = L.encode_metaplex_metadata(SOL, "Wrapped SOL", "SOL")
    with pytest.raises(M.TokenDataError, match="key 0"):
        M.decode_metaplex(bytes(1) + meta[1:])
    with pytest.raises(M.TokenDataError, match="owned by"):
        M.decode_metaplex(meta, SPL_TOKEN)
    with pytest.raises(M.TokenDataError, match="at least"):
        M.decode_metaplex(meta[:40])
    long_name = bytearray(meta)
    long_name[65:69] = (40).to_bytes(4, "little")
    with pytest.raises(M.TokenDataError, match="name of 40 bytes"):
        M.decode_metaplex(bytes(long_name))


def test_token2022_encoder_round_trips_and_the_engine_reads_its_base() -> None:
    rec = D.Mint("11111111111111111111111111111111", 10**15, 6, True, None)
    value = L.encode_token_metadata(PUMP, "Kelp", "KELP", "https://x", SOL, (("k", "v"),))
    data = L.encode_token2022_mint(
        rec,
        {
            M.EXT_METADATA_POINTER: bytes(32) + bytes(Pubkey.from_string(PUMP)),
            M.EXT_TOKEN_METADATA: value,
        },
    )
    m = M.decode_mint(data, TOKEN_2022)
    assert m.metadata == M.TokenMetadata(PUMP, "Kelp", "KELP", "https://x", SOL, (("k", "v"),))
    eng = engine_rs.backend().decode_mint(data, TOKEN_2022)
    assert (eng.decimals, eng.supply) == (6, 10**15)
    assert L.encode_token2022_mint(rec, {}) == L.encode_mint(rec)


def test_metaplex_layout_offsets_and_round_trip() -> None:
    """The encoder writes the program's layout: name / symbol / uri padded to 32 / 10 /
    200 (``puff_out_data_fields``), so the creators option sits at 321 and the first
    creator would start at 326 (``OFFSET_TO_CREATORS`` in Metaplex's clients), and the
    account is ``MAX_METADATA_LEN`` (679) bytes."""
    data = L.encode_metaplex_metadata(PUMP, "USD Coin", "USDC", "https://u", SOL)
    assert len(data) == M.MAX_METADATA_LEN == 679
    assert data[0] == 4 and int.from_bytes(data[65:69], "little") == 32
    assert data[69:77] == b"USD Coin" and not any(data[77:101])
    assert int.from_bytes(data[101:105], "little") == 10 and data[105:109] == b"USDC"
    assert int.from_bytes(data[115:119], "little") == 200
    assert data[321] == 0  # creators: None (a creator would start at 326)
    md = M.decode_metaplex(data, M.METADATA_PROGRAM)
    assert md == M.TokenMetadata(PUMP, "USD Coin", "USDC", "https://u", SOL)
    with pytest.raises(ValueError, match="at most 10 bytes"):
        L.encode_metaplex_metadata(PUMP, "n", "ELEVENCHARS")


@pytest.mark.parametrize("mint", [SOL, PUMP, BY_SYMBOL["USDC"].mint])
def test_metadata_pda_agrees_with_solders(mint: str) -> None:
    program = Pubkey.from_string(M.METADATA_PROGRAM)
    want, _ = Pubkey.find_program_address(
        [b"metadata", bytes(program), bytes(Pubkey.from_string(mint))], program
    )
    assert M.metadata_address(mint) == str(want)


def test_the_token_program_ids_are_the_engines() -> None:
    """One Token-2022 id everywhere: the table's and the simulator's are the engine's
    (the owner of the real Token-2022 accounts in the fixtures); a typo here once made
    every Token-2022 mint 'not a mint'."""
    from engine_rs.python import decode as twin
    from feeds.sim import node

    assert TOKEN_2022 == node.TOKEN_2022 == twin.TOKEN_2022
    assert SPL_TOKEN == twin.SPL_TOKEN
