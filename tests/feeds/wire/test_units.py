"""The one formatting helper: amounts in units from integers (no float error on u64),
paths by symbol, spoofed symbols marked, USD only through a stablecoin path."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from feeds.wire.tokens import BY_SYMBOL
from feeds.wire.units import TokenBook, TokenInfo, format_amount

SOL, USDC, JUP = (BY_SYMBOL[s].mint for s in ("SOL", "USDC", "JUP"))
ODD = "Ke1pKe1pKe1pKe1pKe1pKe1pKe1pKe1pKe1pKe1pKe1"


def test_amounts_in_units() -> None:
    assert format_amount(1_234_500_000, 9, "SOL") == "1.2345 SOL"
    assert format_amount(0, 9, "SOL") == "0 SOL"
    assert format_amount(1, 9) == "0.000000001"
    assert format_amount(1_234_567_891_234, 6) == "1,234,568"  # the integer part whole
    assert format_amount(123_456_789, 6, "USDC") == "123.457 USDC"
    assert format_amount(-2_500_000, 6) == "-2.5"
    assert format_amount(12345, None, "Kelp…") == "12,345 raw Kelp…"
    # u64::MAX of a 9-decimal token: exact where a float would round
    assert format_amount(2**64 - 1, 9, digits=30) == "18,446,744,073.709551615"


@given(st.integers(0, 2**64 - 1), st.integers(0, 12))
def test_rounding_is_decimal_exact(raw: int, decimals: int) -> None:
    """The shown value is the exact one rounded to 6 significant digits (or whole)."""
    text = format_amount(raw, decimals).replace(",", "")
    shown, exact = Decimal(text), Decimal(raw).scaleb(-decimals)
    if raw:
        step = Decimal(1).scaleb(min(0, exact.adjusted() - 5))
        assert abs(shown - exact) <= step / 2
    else:
        assert shown == 0


def test_symbols_paths_and_spoofs() -> None:
    book = TokenBook.of(
        [
            TokenInfo(ODD, "USDC", "Fake", 6, source="chain"),
            TokenInfo(JUP, "JUP", "Jupiter", 6, source="chain"),
        ]
    )
    assert book.path([SOL, USDC, JUP, SOL]) == "SOL→USDC→JUP→SOL"  # table fallback
    assert book.symbol(ODD) == "USDC(Ke1p)"  # not the real USDC
    unknown = "Zz" + ODD[2:]
    assert book.symbol(unknown) == "Zz1p…" and book.decimals(unknown) is None
    assert book.amount(SOL, 1_500_000_000) == "1.5 SOL"


def test_usd_only_through_a_stablecoin_path() -> None:
    # raw USDC per raw SOL = 150e6 / 1e9; raw JUP per raw SOL = 300e6 / 1e9 (JUP $0.5)
    mids = {(SOL, USDC): 0.15, (JUP, SOL): 1 / 0.3, (ODD, "X" + ODD[1:]): 2.0}
    book = TokenBook().with_usd(mids)
    assert abs(book.usd(SOL, 10**9) - 150.0) < 1e-9  # type: ignore[operator]
    assert abs(book.usd(JUP, 2 * 10**6) - 1.0) < 1e-9  # type: ignore[operator]
    assert book.usd(USDC, 2_500_000) == 2.5
    assert book.usd(ODD, 10**6) is None and book.usd_text(ODD, 1) == ""
    assert book.usd_text(SOL, 10**9) == "$150.00"
    assert TokenBook().with_usd({(SOL, JUP): 3.0}).usd(SOL, 1) is None  # no stablecoin
