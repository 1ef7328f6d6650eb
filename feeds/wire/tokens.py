"""Well-known mainnet tokens: symbol, name, mint address, decimals and token program.

The one table of facts about real tokens that the token registry, pool discovery, the
curated ``pools.toml`` and the simulator (which uses these real mints and decimals for
the tokens it names) read. Addresses are mainnet facts, cross-checked against several
public token lists (the Solana Labs token list, Jupiter's, CoinGecko mappings); the
registry still reads each mint's decimals from its account, and a disagreement with
this table is an error, not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"


@dataclass(frozen=True, slots=True)
class KnownToken:
    symbol: str
    name: str
    mint: str
    decimals: int
    program: str = SPL_TOKEN
    usd_stable: bool = False  # a USD stablecoin: profit converts to USD through it


WELL_KNOWN: tuple[KnownToken, ...] = (
    KnownToken("SOL", "Wrapped SOL", "So11111111111111111111111111111111111111112", 9),
    KnownToken(
        "USDC", "USD Coin", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6, usd_stable=True
    ),
    KnownToken("USDT", "USDT", "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", 6, usd_stable=True),
    KnownToken("JUP", "Jupiter", "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", 6),
    KnownToken("BONK", "Bonk", "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263", 5),
    KnownToken("WIF", "dogwifhat", "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm", 6),
    KnownToken("RAY", "Raydium", "4k3Dyjzvzp8eMZWUXbBCjEvwSkkk59S5iCNLY3QrkX6R", 6),
    KnownToken("mSOL", "Marinade staked SOL", "mSoLzYCxHdYgdzU16g5QSh3i5K3z3KZK7ytfqcJm7So", 9),
    KnownToken("JitoSOL", "Jito Staked SOL", "J1toso1uCk3RLmjorhTtrVwY9HJ7X8V9yYac6Y7kGCPn", 9),
)

BY_SYMBOL: dict[str, KnownToken] = {t.symbol.upper(): t for t in WELL_KNOWN}
BY_MINT: dict[str, KnownToken] = {t.mint: t for t in WELL_KNOWN}

# The quote token of a pair, most preferred first: a pair is named and priced base/quote
# with its quote the first of these it holds (``SOL/USDC``, ``JUP/SOL``, ``mSOL/SOL``), as
# markets are listed; a pair holding none of them quotes in its greater mint (by address:
# stable, whatever the tokens are named). Prices, charts, order books and exports follow
# this one rule (:func:`pair_order`).
QUOTE_PREFERENCE: tuple[str, ...] = tuple(
    BY_SYMBOL[s].mint for s in ("USDC", "USDT", "SOL", "JITOSOL", "MSOL")
)
_QUOTE_RANK = {m: i for i, m in enumerate(QUOTE_PREFERENCE)}


def pair_order(a: str, b: str) -> tuple[str, str]:
    """``(base, quote)`` of the pair of mints ``a`` and ``b`` (see
    :data:`QUOTE_PREFERENCE`): its price is the quote's units per unit of the base."""
    ra, rb = _QUOTE_RANK.get(a, len(_QUOTE_RANK)), _QUOTE_RANK.get(b, len(_QUOTE_RANK))
    if ra != rb:
        return (b, a) if ra < rb else (a, b)
    return (a, b) if a < b else (b, a)


def resolve_mint(text: str) -> str:
    """A mint address from a symbol of the table (any case: ``sol``, ``USDC``) or an
    address given as is; an unknown symbol is a ``ValueError`` naming the known ones."""
    t = BY_SYMBOL.get(text.upper())
    if t is not None:
        return t.mint
    if 32 <= len(text) <= 44:
        return text
    known = ", ".join(t.symbol for t in WELL_KNOWN)
    raise ValueError(f"unknown token {text!r}: give a mint address or one of {known}")
