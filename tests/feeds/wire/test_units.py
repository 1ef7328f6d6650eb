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


def _reference_usd(book: TokenBook, mids: dict[tuple[str, str], float]) -> dict[str, float]:
    """USD per base unit as the dashboard defines it, every pair looked at each time:
    stablecoins of known decimals at 10^-decimals, then breadth first over the pairs with
    a usable mid (each round's tokens and each one's neighbours by mint, then rate), the
    first path to a token setting its rate; none not above 0."""
    rates: dict[str, float] = {}
    for mint in {m for pair in mids for m in pair} | set(book.tokens):
        t = book.info(mint)
        if t.usd_stable and t.decimals is not None:
            rates[mint] = 10.0**-t.decimals
    near: dict[str, list[tuple[str, float]]] = {}
    for (a, b), mid in mids.items():
        if 0 < mid < float("inf"):
            near.setdefault(a, []).append((b, mid))
            near.setdefault(b, []).append((a, 1.0 / mid))
    ring = sorted(rates)
    while ring:
        ahead = []
        for m in ring:
            for other, x in sorted(near.get(m, [])):
                if other not in rates:
                    rates[other] = rates[m] / x
                    ahead.append(other)
        ring = sorted(ahead)
    return {m: r for m, r in rates.items() if r > 0}


MINTS = [USDC, SOL, JUP, BY_SYMBOL["USDT"].mint, ODD, "Zz" + ODD[2:], "Yy" + ODD[2:]]
MID = st.one_of(
    st.floats(1e-12, 1e12),
    st.sampled_from([0.0, -1.0, float("nan"), float("inf"), 5e-324, 1e308]),
)
PAIRS = st.lists(
    st.tuples(st.sampled_from(MINTS), st.sampled_from(MINTS)).filter(lambda p: p[0] != p[1]),
    max_size=12,
    unique=True,
)


@given(
    PAIRS,
    st.lists(st.tuples(st.booleans(), PAIRS, st.lists(MID, min_size=12, max_size=12)), max_size=8),
    st.booleans(),
)
def test_usd_rates_kept_between_frames_are_with_usds_to_the_bit(
    first: list[tuple[str, str]],
    steps: list[tuple[bool, list[tuple[str, str]], list[float]]],
    learned: bool,
) -> None:
    """One ``UsdRates`` asked frame after frame (the mids' values moving, pairs coming
    and going, mids no longer usable, the book learning a token) gives what
    ``with_usd`` gives and what the definition gives, to the bit."""
    from feeds.wire.units import UsdRates

    books = [TokenBook(), TokenBook.of([TokenInfo(ODD, "ODD", "", 6, usd_stable=True)])]
    kept = UsdRates()
    pairs = first
    for n, (new_pairs, other, values) in enumerate(steps):
        if new_pairs:
            pairs = other
        mids = dict(zip(pairs, values, strict=False))
        book = books[n % 2] if learned else books[0]
        got = kept.book(book, mids).usd_per_raw
        assert got == book.with_usd(mids).usd_per_raw == _reference_usd(book, mids)


def test_usd_rates_find_the_paths_again_only_when_the_pairs_change() -> None:
    from feeds.wire.units import UsdRates

    kept, book = UsdRates(), TokenBook()
    mids = {(SOL, USDC): 0.15, (JUP, SOL): 1 / 0.3}
    for price in (0.15, 0.16, 0.17):
        mids[(SOL, USDC)] = price
        assert kept.book(book, mids).usd(SOL, 10**9) == book.with_usd(mids).usd(SOL, 10**9)
    assert kept.found == 1  # the mids moved, the paths stayed
    mids[(JUP, USDC)] = 0.5  # a new pair: JUP one hop from USDC now ($0.5)
    assert kept.book(book, mids).usd(JUP, 10**6) == 0.5 and kept.found == 2
    mids[(JUP, USDC)] = float("nan")  # no longer usable: JUP through SOL again
    through_sol = 10**6 / 0.3 * 0.17 * 1e-6  # 1 JUP: 3.33 raw SOL a raw JUP, $170 a SOL
    assert abs(kept.book(book, mids).usd(JUP, 10**6) - through_sol) < 1e-9  # type: ignore[operator]
    assert kept.found == 3
