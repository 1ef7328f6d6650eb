"""PumpSwap (``pump_amm``), both backends: real mainnet accounts decoded and cross-checked
by PDA, real mainnet swaps and events reproduced integer for integer by ``pump_amm.swap``
(the venue's quote), the decoders' checks, and Rust == twin on random pools and amounts,
errors included.

The oracle data is ``tests/data/venues/pump_amm/mainnet.json`` (real account bytes, real
swaps with their pre-trade reserves and fee rates, real ``Program data:`` events; each with
where it was found). The PDA seeds are the IDL's (``pump-fun/pump-public-docs``)."""

from __future__ import annotations

import base64
import hashlib
import json
import types
from operator import attrgetter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_rs.errors import (
    AccountTooShortError,
    DecodeError,
    InvalidInputError,
    WrongDiscriminatorError,
    WrongOwnerError,
)
from engine_rs.python.venues import pump_amm as pa

DATA = json.loads(
    (
        Path(__file__).resolve().parents[1] / "data" / "venues" / "pump_amm" / "mainnet.json"
    ).read_text()
)
ACCOUNTS = DATA["accounts"]
SWAPS = DATA["swaps"]
EVENTS = DATA["events"]
ATA_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
TOKEN_PROGRAMS = (
    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
    "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
)
WSOL = "So11111111111111111111111111111111111111112"
STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]


def _bytes(name: str) -> bytes:
    return base64.b64decode(ACCOUNTS[name]["data"])


def _ata(eng: types.ModuleType, owner: str, mint: str) -> set[str]:
    """The associated token account of (owner, mint) under either token program."""
    b = eng.b58decode
    return {
        eng.find_program_address([b(owner), b(tp), b(mint)], ATA_PROGRAM)[0]
        for tp in TOKEN_PROGRAMS
    }


def _pool_pda(eng: types.ModuleType, index: int, creator: str, base: str, quote: str) -> str:
    b = eng.b58decode
    seeds = [b"pool", index.to_bytes(2, "little"), b(creator), b(base), b(quote)]
    return str(eng.find_program_address(seeds, pa.PROGRAM_ID)[0])


# ---------------------------------------------------------------- ids and discriminators
def test_discriminators_are_the_anchor_hashes_of_the_idl_names() -> None:
    for disc, name in [
        (pa.DISC_POOL, "account:Pool"),
        (pa.DISC_GLOBAL_CONFIG, "account:GlobalConfig"),
        (pa.DISC_BUY_EVENT, "event:BuyEvent"),
        (pa.DISC_SELL_EVENT, "event:SellEvent"),
    ]:
        assert disc == hashlib.sha256(name.encode()).digest()[:8], name


def test_pdas_of_the_docs(eng: types.ModuleType) -> None:
    # docs/PUMP_SWAP_README.md: the GlobalConfig, and its example pool (index 0)
    assert eng.find_program_address([b"global_config"], pa.PROGRAM_ID)[0] == pa.GLOBAL_CONFIG_ID
    pool = _pool_pda(
        eng,
        0,
        "9XDYTfQKwW8sHPqnFdUreMmtmffmkHVPGTNV2e3LKxNW",
        "7LSsEoJGhLeZzGvDofTdNg7M3JttxQqGWNLo6vWMpump",
        WSOL,
    )
    assert pool == "GseMAnNDvntR5uFePZ51yZBXzNSn7GdFPkfHwfr6d77J"


# ---------------------------------------------------------------- real accounts
@pytest.mark.parametrize("name", ["pool_211_old_layout", "pool_GUXAutvX", "pool_HM4BKer"])
def test_real_pools_decode_and_their_addresses_derive(eng: types.ModuleType, name: str) -> None:
    acc = ACCOUNTS[name]
    rec = eng.pump_amm.decode_pool(_bytes(name), pa.PROGRAM_ID)
    for field, want in acc["fields"].items():
        assert getattr(rec, field) == want, field
    if len(_bytes(name)) < 243:
        assert rec.coin_creator == pa.ZERO_KEY and not rec.is_mayhem_mode
    address = _pool_pda(eng, rec.index, rec.creator, rec.base_mint, rec.quote_mint)
    if "address" in acc:
        assert address == acc["address"]
    # the vaults are the pool's associated token accounts of its mints
    assert rec.pool_base_token_account in _ata(eng, address, rec.base_mint)
    assert rec.pool_quote_token_account in _ata(eng, address, rec.quote_mint)


def test_real_global_configs(eng: types.ModuleType) -> None:
    # docs/PUMP_SWAP_README.md lists the admin, 20 / 5 bps and the 8 recipients
    old = eng.pump_amm.decode_global_config(_bytes("global_config_313"), pa.PROGRAM_ID)
    assert old.admin == "FFWtrEQ4B4PKQoVuHYzZq8FabGkVatYzDpEVHsK5rrhF"
    assert (old.lp_fee_basis_points, old.protocol_fee_basis_points) == (20, 5)
    assert (old.disable_flags, old.coin_creator_fee_basis_points) == (0, 0)
    assert old.protocol_fee_recipients == (
        "62qc2CNXwrYqQScmEdiZFFAnJR262PxWEuNQtxfafNgV",
        "7VtfL8fvgNfhz17qKRMjzQEXgbdpnHHHQRh54R9jP2RJ",
        "7hTckgnGnLQR6sdH7YkqFTAA7VwTfYFaZ6EhEsU3saCX",
        "9rPYyANsfQZw3DnDmKE3YCQF5E8oD89UXoHn9JFEhJUz",
        "AVmoTthdrX6tKt4nDjco2D775W2YK3sDhxPcMmzUAmTY",
        "FWsW1xNtWscwNmKv6wVsU1iTzRN6wmmk3MjxRP5tT7hz",
        "G5UZAVbAf46s7cKWoyKu8kYTip9DGTpbLZ2qa9Aq69dP",
        "JCRGumoE9Qi5BBgULTgdgTLjSgkCMSbF62ZZfGs84JeU",
    )
    new = eng.pump_amm.decode_global_config(_bytes("global_config_current"), pa.PROGRAM_ID)
    assert (new.lp_fee_basis_points, new.protocol_fee_basis_points) == (20, 5)
    assert new.coin_creator_fee_basis_points == 5  # the dump's own note: 20 / 5 / 5 bps
    assert new.protocol_fee_recipients[:5] == old.protocol_fee_recipients[:5]


def test_decoders_check_owner_discriminator_and_size(eng: types.ModuleType) -> None:
    pool = _bytes("pool_GUXAutvX")
    cfg = _bytes("global_config_current")
    with pytest.raises(WrongOwnerError):
        eng.pump_amm.decode_pool(pool, "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C")
    with pytest.raises(WrongDiscriminatorError):
        eng.pump_amm.decode_pool(cfg, pa.PROGRAM_ID)
    with pytest.raises(WrongDiscriminatorError):
        eng.pump_amm.decode_global_config(pool, pa.PROGRAM_ID)
    with pytest.raises(AccountTooShortError):
        eng.pump_amm.decode_pool(pool[:210], pa.PROGRAM_ID)
    with pytest.raises(AccountTooShortError):
        eng.pump_amm.decode_global_config(cfg[:312], None)
    bad = bytearray(pool)
    bad[243] = 2  # is_mayhem_mode is a bool
    with pytest.raises(DecodeError):
        eng.pump_amm.decode_pool(bytes(bad))
    # a CP-Swap pool's discriminator is not a PumpSwap pool's
    with pytest.raises(WrongDiscriminatorError):
        eng.pump_amm.decode_pool(bytes.fromhex("f7ede3f5d7c3de46") + bytes(700))


# ---------------------------------------------------------------- real swaps
def _swap_cases() -> list[tuple[str, tuple[int, int, int], bool, list[Any]]]:
    out = []
    for name, group in SWAPS.items():
        if name.startswith("_"):
            continue
        for kind, rows in (("sell", True), ("buy_exact_quote_in", False)):
            for row in group[kind]:
                out.append((f"{name}/{row[4]}", tuple(group["bps"]), rows, row))
    return out


SWAP_CASES = _swap_cases()


@pytest.mark.parametrize(("case", "bps", "sell", "row"), SWAP_CASES, ids=[c[0] for c in SWAP_CASES])
def test_real_swaps_reproduced(
    eng: types.ModuleType, case: str, bps: tuple[int, int, int], sell: bool, row: list[Any]
) -> None:
    base, quote, amount_in, out = row[:4]
    assert eng.pump_amm.swap(base, quote, *bps, amount_in, sell) == out


def test_fifteen_real_swaps() -> None:
    assert len(SWAP_CASES) == 15


def test_real_events_parse_and_reproduce(eng: types.ModuleType) -> None:
    buy = eng.parse_program_data(EVENTS["buy_exact_quote_in"], pa.PROGRAM_ID)
    sell = eng.parse_program_data(EVENTS["sell"], pa.PROGRAM_ID)
    assert type(buy).__name__ == "PumpSwapEvent" and buy.buy and not sell.buy
    assert buy.pool == sell.pool == "GnpU6c7H9CbPrbb9cUkQMxgz6DZV41h8XbU4pLh4C27e"
    assert (buy.quote_amount, buy.base_amount) == (999_000_000, 2_374_370_725_319)
    assert (buy.lp_fee_basis_points, buy.protocol_fee_basis_points) == (2, 93)
    assert (buy.coin_creator_fee_basis_points, buy.coin_creator_fee) == (30, 2_960_000)
    # the fees are each ceil(net · bps / 10 000) of the net the budget buys
    net = buy.user_quote_amount
    assert buy.lp_fee == -(-net * 2 // 10_000) and buy.protocol_fee == -(-net * 93 // 10_000)
    assert net + buy.lp_fee + buy.protocol_fee + buy.coin_creator_fee == buy.quote_amount
    # the first trade prices with the migration's quote amount (vault + virtual reserves)
    q = EVENTS["migration_sol_amount"]
    assert buy.pool_base_token_reserves == 206_900_000_000_000
    assert eng.pump_amm.swap(buy.pool_base_token_reserves, q, 2, 93, 30, 999_000_000, False) == (
        buy.base_amount
    )
    virtual = q - buy.pool_quote_token_reserves
    bps = (
        sell.lp_fee_basis_points,
        sell.protocol_fee_basis_points,
        sell.coin_creator_fee_basis_points,
    )
    assert bps == (20, 5, 95)
    got = eng.pump_amm.swap(
        sell.pool_base_token_reserves,
        sell.pool_quote_token_reserves + virtual,
        *bps,
        sell.base_amount,
        True,
    )
    assert got == sell.user_quote_amount == 1_560_073_404
    gross = sell.quote_amount
    assert (sell.lp_fee, sell.protocol_fee, sell.coin_creator_fee) == tuple(
        -(-gross * b // 10_000) for b in bps
    )


def test_events_are_its_own_only(eng: types.ModuleType) -> None:
    raw = base64.b64decode(EVENTS["sell"])
    assert pa.parse_event(raw) is not None
    # CP-Swap's SwapEvent discriminator is not one of PumpSwap's
    assert pa.parse_event(bytes([64, 198, 205, 232, 38, 8, 113, 226]) + raw[8:]) is None
    short = base64.b64encode(raw[: pa.EVENT_HEAD - 1]).decode()
    with pytest.raises(AccountTooShortError):
        eng.parse_program_data(short, pa.PROGRAM_ID)
    head = eng.parse_program_data(base64.b64encode(raw[: pa.EVENT_HEAD]).decode(), pa.PROGRAM_ID)
    assert head.coin_creator_fee is None and head.base_amount == 3_404_391_149_115


# ---------------------------------------------------------------- math edges
def test_refusals_and_zero(eng: types.ModuleType) -> None:
    assert eng.pump_amm.swap(10**12, 10**9, 20, 5, 5, 0, True) == 0
    assert eng.pump_amm.swap(10**12, 10**9, 20, 5, 5, 0, False) == 0
    # a budget too small to buy anything after the fees
    assert eng.pump_amm.swap(10**12, 10**9, 20, 5, 5, 1, False) is None
    # fees larger than a dust sell's output
    assert eng.pump_amm.swap(10**9, 10**9, 9_000, 500, 400, 3, True) is None
    with pytest.raises(InvalidInputError):
        eng.pump_amm.swap(0, 10**9, 20, 5, 5, 10, True)
    with pytest.raises(InvalidInputError):
        eng.pump_amm.swap(10**9, 10**9, 5_000, 5_000, 0, 10, True)


U64 = (1 << 64) - 1


@settings(max_examples=400, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    base=st.one_of(st.integers(0, U64), st.integers(0, 10**16)),
    quote=st.one_of(st.integers(0, U64), st.integers(0, 10**13)),
    lp=st.integers(0, 10_500),
    protocol=st.integers(0, 300),
    creator=st.integers(0, 300),
    amount=st.one_of(st.integers(0, U64), st.integers(0, 10**12), st.integers(-5, (1 << 65))),
    sell=st.booleans(),
)
def test_rust_and_twin_agree(
    rust: types.ModuleType,
    py: types.ModuleType,
    base: int,
    quote: int,
    lp: int,
    protocol: int,
    creator: int,
    amount: int,
    sell: bool,
) -> None:
    def run(eng: types.ModuleType) -> Any:
        try:
            return eng.pump_amm.swap(base, quote, lp, protocol, creator, amount, sell)
        except Exception as exc:
            return type(exc)

    assert run(rust) == run(py)


@settings(max_examples=300, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    data=st.binary(min_size=0, max_size=700),
    disc=st.sampled_from(
        [b"", pa.DISC_POOL, pa.DISC_GLOBAL_CONFIG, pa.DISC_BUY_EVENT, pa.DISC_SELL_EVENT]
    ),
)
def test_random_bytes_give_a_record_or_a_decode_error(
    rust: types.ModuleType, py: types.ModuleType, data: bytes, disc: bytes
) -> None:
    raw = disc + data
    for fn in ("pump_amm.decode_pool", "pump_amm.decode_global_config"):
        results = []
        for eng in (rust, py):
            try:
                results.append(attrgetter(fn)(eng)(raw))
            except DecodeError as exc:
                results.append(type(exc))
        assert results[0] == results[1]
    if len(raw) >= 8:
        b64 = base64.b64encode(raw).decode()
        outs = []
        for eng in (rust, py):
            try:
                outs.append(eng.parse_program_data(b64, pa.PROGRAM_ID))
            except DecodeError as exc:
                outs.append(type(exc))
        assert outs[0] == outs[1]


def test_its_events_are_decoded_only_in_its_own_frames(eng: types.ModuleType) -> None:
    # a real PumpSwap sell transcript's shape: the program's frame, its inner SPL Token
    # transfers, then its events; the same bytes in another program's frame are no swap
    cpmm = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
    token = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
    logs = [
        f"Program {pa.PROGRAM_ID} invoke [1]",
        "Program log: Instruction: Sell",
        f"Program {token} invoke [2]",
        "Program log: Instruction: TransferChecked",
        f"Program {token} success",
        f"Program data: {EVENTS['sell']}",
        f"Program data: {EVENTS['buy_exact_quote_in']}",
        f"Program {pa.PROGRAM_ID} success",
        f"Program {cpmm} invoke [1]",
        f"Program data: {EVENTS['sell']}",
        f"Program {cpmm} success",
    ]
    got = eng.parse_logs(logs)
    assert [(name, ev.buy) for name, ev in got] == [("pump_amm", False), ("pump_amm", True)]
    assert eng.parse_program_data(EVENTS["sell"], cpmm) is None


def test_a_graph_holds_pump_pools_and_quotes_them_exactly(eng: types.ModuleType) -> None:
    base, quote = "7LSsEoJGhLeZzGvDofTdNg7M3JttxQqGWNLo6vWMpump", WSOL
    pool = "GseMAnNDvntR5uFePZ51yZBXzNSn7GdFPkfHwfr6d77J"
    g = eng.PoolGraph(base_mints=[WSOL], max_hops=3)
    rb, rq, x, out = SWAPS["coin_creator_20_5_5"]["buy_exact_quote_in"][0][:4]
    g.upsert_pump(pool, base, quote, rb, rq, 20, 5, 5, 3)
    assert g.quote([pool], quote, x) == [x, out]
    rb, rq, x, out = SWAPS["coin_creator_20_5_5"]["sell"][0][:4]
    g.upsert_pump(pool, base, quote, rb, rq, 20, 5, 5, 4)
    assert g.quote([pool], base, x) == [x, out]
    with pytest.raises(InvalidInputError):
        g.upsert_pump(pool, base, quote, 0, rq, 20, 5, 5, 5)
    with pytest.raises(InvalidInputError):
        g.upsert_pump(pool, base, base, 1, 1, 20, 5, 5, 5)


def _ingest_quote(
    eng: types.ModuleType,
    pool_rec: Any,
    pool: str,
    reserves: tuple[int, int],
    supply: int,
    a_to_b: bool,
    amount: int,
) -> int | None:
    """The engine's quote of a pool its feed ingest assembled from accounts: the pool, its
    vaults holding ``reserves``, the real GlobalConfig, a FeeConfig with the tiers of
    docs/fees.png and the base mint with ``supply``."""
    from engine_rs import decoded as D
    from feeds.sim import layouts as L
    from feeds.venues.pump_amm import sim as PA

    token = TOKEN_PROGRAMS[0]
    fees = D.PumpFeeConfig(255, pa.ZERO_KEY, PA.SIM_FLAT_FEES, PA.SIM_FEE_TIERS, ())
    accounts = {
        pool: (pa.PROGRAM_ID, PA.encode_pool(pool_rec)),
        pa.GLOBAL_CONFIG_ID: (pa.PROGRAM_ID, _bytes("global_config_current")),
        pa.FEE_CONFIG_ID: (pa.FEE_PROGRAM_ID, PA.encode_fee_config(fees)),
        pool_rec.base_mint: (token, L.encode_mint(D.Mint(None, supply, 6, True, None))),
    }
    for vault, mint, amount_held in (
        (pool_rec.pool_base_token_account, pool_rec.base_mint, reserves[0]),
        (pool_rec.pool_quote_token_account, pool_rec.quote_mint, reserves[1]),
    ):
        rec = D.TokenAccount(mint, pool, amount_held, None, 1, None, 0, None)
        accounts[vault] = (token, L.encode_token_account(rec))
    g = eng.PoolGraph(base_mints=[WSOL], max_hops=3)
    ing = eng.FeedIngest(g)
    ing.track_pool(pool, "pumpswap")
    for _ in range(3):
        for k in ing.watched():
            ing.account(k, *accounts[k], 9)
    path = g.quote([pool], pool_rec.base_mint if a_to_b else pool_rec.quote_mint, amount)
    return path[-1] if path else None


def test_real_events_through_the_fee_tiers_of_the_docs(eng: types.ModuleType) -> None:
    # pool GnpU6c…: its PDA from the migrated mint and the Pump program's pool authority
    # (a canonical pool); its events' market caps fall in the first tier (the buy, 2 / 93
    # / 30 bps) and the second (the sell, 20 / 5 / 95) of docs/fees.png, with the pump
    # supply of 10^15 and the quote reserve the program prices with (vault + virtual)
    mint = "ELJFma9JzJfLWbc2fBSXPMAExayXoTr2LUNJLbPpump"
    b = eng.b58decode
    authority = eng.find_program_address([b"pool-authority", b(mint)], pa.PUMP_PROGRAM_ID)[0]
    pool = _pool_pda(eng, 0, authority, mint, WSOL)
    assert pool == "GnpU6c7H9CbPrbb9cUkQMxgz6DZV41h8XbU4pLh4C27e"
    raw = base64.b64decode(EVENTS["sell"])
    coin_creator = eng.b58encode(raw[8 + 112 + 6 * 32 : 8 + 112 + 7 * 32])
    from engine_rs import decoded as D

    q = EVENTS["migration_sol_amount"]
    buy = eng.parse_program_data(EVENTS["buy_exact_quote_in"], pa.PROGRAM_ID)
    sell = eng.parse_program_data(EVENTS["sell"], pa.PROGRAM_ID)
    virtual = q - buy.pool_quote_token_reserves  # the pool's virtual quote reserves
    vaults = [
        eng.find_program_address([b(pool), b(TOKEN_PROGRAMS[0]), b(m)], ATA_PROGRAM)[0]
        for m in (mint, WSOL)
    ]
    rec = D.PumpAmmPool(
        254, 0, authority, mint, WSOL, pa.ZERO_KEY, *vaults, 0, coin_creator, False, False, virtual
    )
    # the vaults hold what the events say; the pool account its virtual quote reserves
    got = _ingest_quote(
        eng,
        rec,
        pool,
        (buy.pool_base_token_reserves, buy.pool_quote_token_reserves),
        10**15,
        False,
        buy.quote_amount,
    )
    assert got == buy.base_amount
    reserves = (sell.pool_base_token_reserves, sell.pool_quote_token_reserves)
    got = _ingest_quote(eng, rec, pool, reserves, 10**15, True, sell.base_amount)
    assert got == sell.user_quote_amount
    # without them, neither reproduces
    plain = D.PumpAmmPool(*as_tuple(rec)[:-1], 0)
    assert _ingest_quote(eng, plain, pool, reserves, 10**15, True, sell.base_amount) != got
    # not canonical (another creator): the flat fees, 25 / 5 / 0
    flat = D.PumpAmmPool(*[rec.pool_bump, rec.index, WSOL], *list(as_tuple(rec))[3:])
    got = _ingest_quote(eng, flat, pool, reserves, 10**15, True, sell.base_amount)
    effective = (reserves[0], reserves[1] + virtual)
    assert got == eng.pump_amm.swap(*effective, 25, 5, 0, sell.base_amount, True)


def as_tuple(rec: Any) -> tuple[Any, ...]:
    from engine_rs.records import as_dict

    return tuple(as_dict(rec).values())


_TIER = st.tuples(
    st.integers(0, 10**13), st.integers(0, 60), st.integers(0, 120), st.integers(0, 120)
)


@settings(max_examples=60, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    tiers=st.lists(_TIER, min_size=0, max_size=6),
    canonical=st.booleans(),
    creator=st.booleans(),
    base=st.integers(0, 10**15),
    quote=st.integers(0, 10**12),
    supply=st.integers(0, 2**64 - 1),
    amount=st.integers(0, 10**12),
    sell=st.booleans(),
    virtual=st.one_of(st.just(0), st.integers(-(10**12), 10**12), st.just(2**127 - 1)),
)
def test_rust_and_twin_assemble_and_quote_alike(
    rust: types.ModuleType,
    py: types.ModuleType,
    tiers: list[tuple[int, int, int, int]],
    canonical: bool,
    creator: bool,
    base: int,
    quote: int,
    supply: int,
    amount: int,
    sell: bool,
    virtual: int,
) -> None:
    """A pool assembled from random FeeConfig tiers, reserves, supply and virtual quote
    reserves: the same
    quote, or the same error, from both backends' ingest."""
    from engine_rs import decoded as D
    from feeds.sim import layouts as L
    from feeds.venues.pump_amm import sim as PA

    mint = "ELJFma9JzJfLWbc2fBSXPMAExayXoTr2LUNJLbPpump"
    authority = py.find_program_address(
        [b"pool-authority", py.b58decode(mint)], pa.PUMP_PROGRAM_ID
    )[0]
    who = authority if canonical else WSOL[:-1] + "3"
    pool = "GnpU6c7H9CbPrbb9cUkQMxgz6DZV41h8XbU4pLh4C27e"
    rec = D.PumpAmmPool(
        254,
        0,
        who,
        mint,
        WSOL,
        pa.ZERO_KEY,
        pa.GLOBAL_CONFIG_ID[:-1] + "1",
        pa.FEE_CONFIG_ID[:-1] + "1",
        0,
        pa.PUMP_PROGRAM_ID if creator else pa.ZERO_KEY,
        False,
        False,
        virtual,
    )
    tiers = sorted(tiers)
    fees = D.PumpFeeConfig(1, pa.ZERO_KEY, (25, 5, 0), tuple(tiers), ())

    def run(eng: types.ModuleType) -> Any:
        accounts = {
            pool: (pa.PROGRAM_ID, PA.encode_pool(rec)),
            pa.GLOBAL_CONFIG_ID: (pa.PROGRAM_ID, _bytes("global_config_current")),
            pa.FEE_CONFIG_ID: (pa.FEE_PROGRAM_ID, PA.encode_fee_config(fees)),
            mint: (TOKEN_PROGRAMS[0], L.encode_mint(D.Mint(None, supply, 6, True, None))),
        }
        for vault, m, held in (
            (rec.pool_base_token_account, mint, base),
            (rec.pool_quote_token_account, WSOL, quote),
        ):
            t = D.TokenAccount(m, pool, held, None, 1, None, 0, None)
            accounts[vault] = (TOKEN_PROGRAMS[0], L.encode_token_account(t))
        g = eng.PoolGraph(base_mints=[WSOL], max_hops=3)
        ing = eng.FeedIngest(g)
        ing.track_pool(pool, "pumpswap")
        try:
            for _ in range(3):
                for k in ing.watched():
                    ing.account(k, *accounts[k], 9)
            return g.quote([pool], mint if sell else WSOL, amount)
        except Exception as exc:  # the class is what is compared
            return type(exc).__name__

    assert run(rust) == run(py)


@settings(max_examples=200, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(data=st.binary(min_size=0, max_size=400))
def test_random_fee_configs_decode_alike(
    rust: types.ModuleType, py: types.ModuleType, data: bytes
) -> None:
    raw = pa.DISC_FEE_CONFIG + data
    out = []
    for eng in (rust, py):
        try:
            out.append(eng.pump_amm.decode_fee_config(raw, pa.FEE_PROGRAM_ID))
        except DecodeError as exc:
            out.append(type(exc))
    assert out[0] == out[1]
