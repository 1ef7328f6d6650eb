"""Prop AMMs' transactions read (``feeds.propamm``): the table of programs and its
sources, the user's programs file, and ``observe`` on transactions shaped as a node serves
them: swaps both ways with their decimals, a trader paying native SOL wrapped in the same
transaction against one paying WSOL it held, two prop AMMs in one aggregator route, a
market swapped twice (read from its transfers), an oracle update, a failed swap. The
simulator's own prop AMM's landed transactions: ``tests/feeds/sim/test_propamm_sim.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from feeds import propamm as P
from feeds.wire import instructions as I
from feeds.wire.tokens import BY_SYMBOL
from feeds.wire.txview import TxView
from tests.support.txjson import Ix, Token, build, key, transfer_data

SOL, USDC, USDT = (BY_SYMBOL[s].mint for s in ("SOL", "USDC", "USDT"))
HUMIDIFI = "9H6tua7jkLhdm3w8BvgpTn5LZNU7g4ZynDmCiNN3q6Rp"
SOLFI = "SoLFiHG9TfgtdUXUjWAxi3LtvYuFyDLVhBWxdMZxyCe"
JUPITER = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"
TABLE = P.programs()
USER = key("user")


# ------------------------------------------------------------------ the table
def test_every_known_program_is_a_key_with_a_name_and_a_source() -> None:
    ids = [p.program for p in P.PROP_AMMS]
    assert len(set(ids)) == len(ids)
    assert len({p.name for p in P.PROP_AMMS}) == len(ids)
    for p in P.PROP_AMMS:
        assert len(bytes(Pubkey.from_string(p.program))) == 32
        assert p.name and p.source, p
        assert "github.com/" in p.source or p.source.startswith("https://"), p.source
    want = {"HumidiFi", "SolFi", "Tessera V", "GoonFi", "ZeroFi", "Obric"}
    assert want <= {p.name for p in P.PROP_AMMS}


def _humidifi(
    market: str,
    auth: str,
    vaults: tuple[str, str],
    user: tuple[str, str],
    flow: tuple[str, str],
    paid: int,
    got: int,
) -> Ix:
    """A HumidiFi swap as it lands: the market's ``vaults`` (SOL, USDC), the user's
    accounts it pays from and is paid into (``user``), the vault taking the payment and
    the one paying out (``flow``): its two transfers, ``paid`` in and ``got`` out."""
    src, dst = user
    v_in, v_out = flow
    return Ix(
        HUMIDIFI,
        [USER, market, *vaults, src, dst, auth, I.SPL_TOKEN, key("sysvar")],
        b"\x01" + bytes(24),
        [
            (I.SPL_TOKEN, [src, v_in, USER], transfer_data(paid), 2),
            (I.SPL_TOKEN, [v_out, dst, auth], transfer_data(got), 2),
        ],
    )


def test_humidifis_id_is_the_one_a_bot_spells_out_in_bytes() -> None:
    # a third-party bot's HUMIDIFI_PROGRAM_ID_ARR (its first twelve bytes)
    head = [122, 253, 116, 43, 39, 247, 89, 233, 198, 112, 112, 60]
    assert list(bytes(Pubkey.from_string(HUMIDIFI)))[:12] == head


def test_a_users_programs_are_added_and_may_rename_a_known_one(tmp_path: Path) -> None:
    f = tmp_path / "propamm.toml"
    new = key("new-prop")
    f.write_text(f'"{new}" = "NewProp"\n[programs]\n"{HUMIDIFI}" = "Humidi"\n')
    # a [programs] table wins over top-level keys
    assert P.load_programs(f) == {HUMIDIFI: "Humidi"}
    f.write_text(f'"{new}" = "NewProp"\n"{HUMIDIFI}" = "Humidi"\n')
    table = P.programs(P.load_programs(f))
    assert table[new] == "NewProp" and table[HUMIDIFI] == "Humidi"
    assert table[SOLFI] == "SolFi"
    assert P.load_programs(None) == {} and P.load_programs("") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('"x" = ', "is not TOML"),
        ('"not-an-address" = "X"', "is not a program id"),
        (f'"{HUMIDIFI}" = 3', "expected a name"),
        (f'"{HUMIDIFI}" = "  "', "expected a name"),
        ("programs = 3", "must be a table"),
    ],
)
def test_a_bad_programs_file_says_what_and_where(tmp_path: Path, text: str, says: str) -> None:
    f = tmp_path / "p.toml"
    f.write_text(text)
    with pytest.raises(ValueError, match=says) as got:
        P.load_programs(f)
    assert str(f) in str(got.value)
    with pytest.raises(ValueError, match="cannot read"):
        P.load_programs(tmp_path / "absent.toml")


# ------------------------------------------------------------------ swaps
def _direct(buy: bool, amount_sol: int, amount_usdc: int, err: object = None) -> TxView:
    """A trader's swap straight on HumidiFi's SOL/USDC market (its nine accounts: user,
    market, two vaults, the user's two token accounts, the authority, two more)."""
    market, auth = key("h-market"), key("h-auth")
    vs, vu = key("h-vault-sol"), key("h-vault-usdc")
    us, uu = key("user-wsol"), key("user-usdc")
    src, dst = (uu, us) if buy else (us, uu)
    paid, got = (amount_usdc, amount_sol) if buy else (amount_sol, amount_usdc)
    v_in, v_out = (vu, vs) if buy else (vs, vu)
    ix = _humidifi(market, auth, (vs, vu), (src, dst), (v_in, v_out), paid, got)
    s, u = (1, -1) if buy else (-1, 1)
    tokens = [
        Token(vs, SOL, auth, 9, 10**15, 10**15 - s * amount_sol),
        Token(vu, USDC, auth, 6, 10**13, 10**13 - u * amount_usdc),
        Token(us, SOL, USER, 9, 5 * 10**9, 5 * 10**9 + s * amount_sol),
        Token(uu, USDC, USER, 6, 10**9, 10**9 + u * amount_usdc),
    ]
    if err is not None:
        tokens = [Token(t.account, t.mint, t.owner, t.decimals, t.pre, t.pre) for t in tokens]
    j = build(
        f"direct-{buy}-{err}",
        [USER],
        [market, vs, vu, us, uu],
        [auth, key("sysvar")],
        [Ix(I.COMPUTE_BUDGET, [], b"\x02" + (200_000).to_bytes(4, "little")), ix],
        tokens,
        err=err,
    )
    return TxView.from_rpc_json(j)


def test_a_sell_and_a_buy_read_from_the_vaults_with_their_decimals() -> None:
    sell = P.observe(_direct(False, 2 * 10**9, 299_700_000), TABLE)
    assert sell is not None and not sell.failed and not sell.oracles
    (s,) = sell.swaps
    assert (s.program, s.name, s.market) == (HUMIDIFI, "HumidiFi", key("h-market"))
    assert (s.mint_in, s.amount_in, s.mint_out, s.amount_out) == (SOL, 2 * 10**9, USDC, 299_700_000)
    assert s.pair == (SOL, USDC) and not s.buy and s.source == "balances"
    assert s.price == pytest.approx(299_700_000 / (2 * 10**9))  # raw USDC per lamport
    assert (s.decimals_in, s.decimals_out) == (9, 6)
    assert s.price_units() == pytest.approx(149.85)  # USDC per SOL
    assert s.position == 1

    buy = P.observe(_direct(True, 10**9, 150_200_000), TABLE)
    assert buy is not None
    (b,) = buy.swaps
    assert (b.mint_in, b.mint_out) == (USDC, SOL) and b.buy and b.pair == (SOL, USDC)
    assert b.price_units() == pytest.approx(150.2)


def test_a_failed_swap_is_neither_a_swap_nor_an_oracle_update() -> None:
    err = {"InstructionError": [1, {"Custom": 6001}]}
    got = P.observe(_direct(False, 10**9, 150_000_000, err=err), TABLE)
    assert got is not None and got.failed and got.swaps == () and got.oracles == ()


def test_a_transaction_of_no_prop_amm_is_none() -> None:
    tx = _direct(False, 10**9, 150_000_000)
    assert P.observe(tx, {SOLFI: "SolFi"}) is None


def _native(wrapped_in_tx: bool) -> TxView:
    """A trader selling 2 SOL for USDC on HumidiFi: paying native SOL (its WSOL account
    opened, funded by a system transfer, synced and closed in the same transaction: no
    balance row before or after) or WSOL it held."""
    market, auth = key("h-market"), key("h-auth")
    vs, vu, us, uu = key("h-vault-sol"), key("h-vault-usdc"), key("user-wsol"), key("user-usdc")
    amount, out = 2 * 10**9, 300_000_000
    swap = _humidifi(market, auth, (vs, vu), (us, uu), (vs, vu), amount, out)
    ixs = [Ix(I.COMPUTE_BUDGET, [], b"\x03" + (50_000).to_bytes(8, "little"))]
    lamports = {USER: (10 * 10**9, 10 * 10**9 - 5_000 - 10_000)}
    held: tuple[int | None, int | None] = (5 * 10**9, 3 * 10**9)
    if wrapped_in_tx:
        ixs += [
            Ix(
                I.SYSTEM_PROGRAM,
                [USER, us],
                (2).to_bytes(4, "little") + amount.to_bytes(8, "little"),
            ),
            Ix(I.SPL_TOKEN, [us], b"\x11"),  # SyncNative
        ]
        lamports = {USER: (10 * 10**9, 8 * 10**9 - 5_000 - 10_000), us: (0, 0)}
        held = (None, None)
    ixs.append(swap)
    if wrapped_in_tx:
        ixs.append(Ix(I.SPL_TOKEN, [us, USER, USER], b"\x09"))  # CloseAccount
    tokens = [
        Token(vs, SOL, auth, 9, 10**15, 10**15 + amount),
        Token(vu, USDC, auth, 6, 10**13, 10**13 - out),
        Token(us, SOL, USER, 9, *held),
        Token(uu, USDC, USER, 6, 0, out),
    ]
    j = build(
        f"native-{wrapped_in_tx}",
        [USER],
        [market, vs, vu, us, uu],
        [auth, key("sysvar")],
        ixs,
        tokens,
        lamports=lamports,
        fee=15_000,
    )
    return TxView.from_rpc_json(j)


def test_native_sol_wrapped_in_the_transaction_prices_as_wsol_held_and_the_fee_is_not_in_it() -> (
    None
):
    a, b = P.observe(_native(True), TABLE), P.observe(_native(False), TABLE)
    assert a is not None and b is not None
    (sa,), (sb,) = a.swaps, b.swaps
    assert (sa.mint_in, sa.amount_in, sa.mint_out, sa.amount_out) == (
        SOL,
        2 * 10**9,
        USDC,
        300_000_000,
    )
    assert sa.price == sb.price == pytest.approx(0.15)
    assert sa.price_units() == pytest.approx(150.0)
    assert a.oracles == b.oracles == ()


def test_two_prop_amms_in_one_aggregator_route() -> None:
    """USDC -> SOL on HumidiFi, SOL -> USDT on SolFi, both by CPI from Jupiter's route
    (which names every hop's accounts), the SOL between them in the user's account."""
    h_market, h_auth, hs, hu = key("h-market"), key("h-auth"), key("h-vs"), key("h-vu")
    s_market, s_auth, ss, st = key("s-market"), key("s-auth"), key("s-vs"), key("s-vt")
    uu, us, ut = key("user-usdc"), key("user-wsol"), key("user-usdt")
    usdc_in, sol_mid, usdt_out = 150_300_000, 10**9, 150_050_000
    route_accounts = [USER, uu, us, ut, h_market, hs, hu, h_auth, s_market, ss, st, s_auth]
    route = Ix(
        JUPITER,
        route_accounts,
        b"\xe5\x17\xcb\x97\x7a\xe3\xad\x2a",
        [
            (
                HUMIDIFI,
                [USER, h_market, hs, hu, uu, us, h_auth, I.SPL_TOKEN, key("sysvar")],
                b"\x01" + bytes(24),
                2,
            ),
            (I.SPL_TOKEN, [uu, hu, USER], transfer_data(usdc_in), 3),
            (I.SPL_TOKEN, [hs, us, h_auth], transfer_data(sol_mid), 3),
            (SOLFI, [USER, s_market, ss, st, us, ut, s_auth, I.SPL_TOKEN], b"\x07" + bytes(17), 2),
            (I.SPL_TOKEN, [us, ss, USER], transfer_data(sol_mid), 3),
            (I.SPL_TOKEN, [st, ut, s_auth], transfer_data(usdt_out), 3),
        ],
    )
    tokens = [
        Token(hs, SOL, h_auth, 9, 10**15, 10**15 - sol_mid),
        Token(hu, USDC, h_auth, 6, 10**13, 10**13 + usdc_in),
        Token(ss, SOL, s_auth, 9, 10**15, 10**15 + sol_mid),
        Token(st, USDT, s_auth, 6, 10**13, 10**13 - usdt_out),
        Token(uu, USDC, USER, 6, 10**9, 10**9 - usdc_in),
        Token(us, SOL, USER, 9, 10**7, 10**7),
        Token(ut, USDT, USER, 6, 0, usdt_out),
    ]
    j = build(
        "route",
        [USER],
        [uu, us, ut, h_market, hs, hu, s_market, ss, st],
        [h_auth, s_auth, key("sysvar")],
        [Ix(I.COMPUTE_BUDGET, [], b"\x02" + (400_000).to_bytes(4, "little")), route],
        tokens,
    )
    got = P.observe(TxView.from_rpc_json(j), TABLE)
    assert got is not None
    h, s = got.swaps
    assert (h.name, h.market, h.mint_in, h.amount_in, h.mint_out, h.amount_out) == (
        "HumidiFi",
        h_market,
        USDC,
        usdc_in,
        SOL,
        sol_mid,
    )
    assert (s.name, s.market, s.mint_in, s.amount_in, s.mint_out, s.amount_out) == (
        "SolFi",
        s_market,
        SOL,
        sol_mid,
        USDT,
        usdt_out,
    )
    assert h.buy and h.price_units() == pytest.approx(150.3)
    assert not s.buy and s.pair == (SOL, USDT) and s.price_units() == pytest.approx(150.05)
    assert h.position < s.position and {h.source, s.source} == {"balances"}


def test_a_market_swapped_twice_is_read_from_each_instructions_transfers() -> None:
    """Two HumidiFi swaps on one market in one transaction: the vaults' balances hold only
    their sum, so each swap is read from the transfers it made."""
    market, auth = key("h-market"), key("h-auth")
    vs, vu, us, uu = key("h-vault-sol"), key("h-vault-usdc"), key("user-wsol"), key("user-usdc")
    accounts = [USER, market, vs, vu, us, uu, auth, I.SPL_TOKEN, key("sysvar")]
    sell = Ix(
        HUMIDIFI,
        accounts,
        b"\x01" + bytes(24),
        [
            (I.SPL_TOKEN, [us, vs, USER], transfer_data(10**9), 2),
            (I.SPL_TOKEN, [vu, uu, auth], transfer_data(149_900_000), 2),
        ],
    )
    buy = Ix(
        HUMIDIFI,
        accounts,
        b"\x01" + bytes(24),
        [
            (I.SPL_TOKEN, [uu, vu, USER], transfer_data(75_100_000), 2),
            (I.SPL_TOKEN, [vs, us, auth], transfer_data(5 * 10**8), 2),
        ],
    )
    tokens = [
        Token(vs, SOL, auth, 9, 10**15, 10**15 + 5 * 10**8),
        Token(vu, USDC, auth, 6, 10**13, 10**13 - 74_800_000),
        Token(us, SOL, USER, 9, 2 * 10**9, 15 * 10**8),
        Token(uu, USDC, USER, 6, 0, 74_800_000),
    ]
    j = build("twice", [USER], [market, vs, vu, us, uu], [auth, key("sysvar")], [sell, buy], tokens)
    got = P.observe(TxView.from_rpc_json(j), TABLE)
    assert got is not None
    a, b = got.swaps
    assert (a.mint_in, a.amount_in, a.amount_out, a.source) == (
        SOL,
        10**9,
        149_900_000,
        "transfers",
    )
    assert (b.mint_in, b.amount_in, b.amount_out, b.source) == (
        USDC,
        75_100_000,
        5 * 10**8,
        "transfers",
    )
    assert a.price_units() == pytest.approx(149.9) and b.price_units() == pytest.approx(150.2)


def test_an_oracle_update_moves_no_tokens_and_names_its_market() -> None:
    updater, market = key("h-updater"), key("h-market")
    ix = Ix(HUMIDIFI, [updater, market, key("sysvar")], b"\x09" + bytes(16))
    j = build("oracle", [updater], [market], [key("sysvar")], [ix])
    got = P.observe(TxView.from_rpc_json(j), TABLE)
    assert got is not None and got.swaps == ()
    (o,) = got.oracles
    assert (o.program, o.name, o.markets, o.slot) == (HUMIDIFI, "HumidiFi", (market,), 300_000_100)
    # one that failed, or one that moved tokens, is none
    bad = build(
        "oracle-bad",
        [updater],
        [market],
        [key("sysvar")],
        [ix],
        err={"InstructionError": [0, {"Custom": 1}]},
    )
    failed = P.observe(TxView.from_rpc_json(bad), TABLE)
    assert failed is not None and failed.oracles == () and failed.failed
