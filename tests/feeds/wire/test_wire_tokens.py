"""The well-known token table: addresses are valid keys, symbols unique, and the
symbols resolve in any case."""

from __future__ import annotations

import pytest
from solders.pubkey import Pubkey

from feeds.wire import tokens


def test_every_mint_is_a_32_byte_key_and_symbols_are_unique() -> None:
    for t in tokens.WELL_KNOWN:
        assert str(Pubkey.from_string(t.mint)) == t.mint
        assert 0 <= t.decimals <= 18
        assert t.program in (tokens.SPL_TOKEN, tokens.TOKEN_2022)
    assert len(tokens.BY_SYMBOL) == len(tokens.WELL_KNOWN)
    assert len(tokens.BY_MINT) == len(tokens.WELL_KNOWN)


def test_resolve_mint_by_symbol_in_any_case_or_address() -> None:
    usdc = tokens.BY_SYMBOL["USDC"].mint
    assert tokens.resolve_mint("usdc") == usdc
    assert tokens.resolve_mint(usdc) == usdc
    with pytest.raises(ValueError, match="unknown token 'NOPE'"):
        tokens.resolve_mint("NOPE")
