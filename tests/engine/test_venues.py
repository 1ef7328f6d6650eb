"""The venue registry (``crates/core/src/venues``, ``engine_rs/python/venues``): both
backends list the same venues with the same facts, and every venue has every part in
both — its decoder, the accounts it follows, its identity, the assembly of its quote
state, its exact quote and its spot rate — checked on a simulated market holding pools
of every venue, so a venue added to one registry and not the other, or added without a
part, fails here."""

from __future__ import annotations

import inspect
import json
import types
from collections.abc import Callable
from typing import Any

import pytest

from engine_rs.errors import DecodeError, InvalidInputError, TicksMissingError
from engine_rs.python.b58 import b58decode
from engine_rs.python.venues import (
    VENUES,
    Assembly,
    OwnAccount,
    Venue,
    by_kind,
    by_name,
    kinds,
)
from engine_rs.records import VenueInfo
from tests.support.frames import (
    SEEDS,
    Market,
    account_frame,
    account_value,
    make_ingest,
    market,
    sid,
)
from tests.support.paths import ROOT, SHARED_FIXTURES

NAMES = [v.INFO.name for v in VENUES]


def test_both_backends_list_the_same_venues(rust: types.ModuleType, py: types.ModuleType) -> None:
    infos = py.venue_infos()
    assert rust.venue_infos() == infos
    assert all(type(i) is VenueInfo for i in [*infos, *rust.venue_infos()])
    # stable strings: pools files and the journal name the kinds, the dashboard shows the
    # labels, and `Opportunity.kinds` (the graph kind) is in the replay digest
    assert [(i.name, i.kind, i.label, i.graph_kind) for i in infos] == [
        ("raydium_amm_v4", "amm_v4", "v4", "cpmm"),
        ("raydium_cpmm", "cpmm", "cp", "cpmm"),
        ("orca_whirlpool", "whirlpool", "wp", "clmm"),
        ("raydium_clmm", "clmm", "clmm", "clmm"),
        ("meteora_dlmm", "dlmm", "dlmm", "dlmm"),
        ("pump_amm", "pumpswap", "pump", "pump"),
        ("openbook_v2", "openbook", "ob", "book"),
        ("meteora_damm_v2", "damm_v2", "damm", "damm"),
        ("manifest", "manifest", "mfx", "book"),
    ]
    assert kinds() == (
        "amm_v4", "cpmm", "whirlpool", "clmm", "dlmm", "pumpswap", "openbook", "damm_v2",
        "manifest",
    )  # fmt: skip
    # the venues with arrays the caller follows (FeedIngest.track_array), by role
    assert {i.name: i.arrays for i in infos if i.arrays} == {
        "orca_whirlpool": "tick_array",
        "raydium_clmm": "tick_array",
        "meteora_dlmm": "bin_array",
    }
    for i in infos:
        assert i.program_ids and all(len(b58decode(p)) == 32 for p in i.program_ids)
        assert i.pool_account_size > 0
        assert by_kind(i.kind).INFO == i and by_name(i.name).INFO == i
        v = by_name(i.name)
        assert i.arrays == v.ARRAYS and (
            i.arrays is None or i.arrays in {r.name for r in v.OWN_ROLES}
        )
    assert len({i.name for i in infos}) == len({i.kind for i in infos}) == len(infos)
    with pytest.raises(InvalidInputError, match="is not one of"):
        by_kind("serum")


def _parts() -> list[str]:
    """The members :class:`Venue` asks of a venue module."""
    names = set(Venue.__annotations__)
    names |= {n for n, f in inspect.getmembers(Venue, inspect.isfunction) if n[0] != "_"}
    return sorted(names)


@pytest.mark.parametrize("name", NAMES)
def test_every_venue_has_every_part_in_both_backends(
    name: str, rust: types.ModuleType, py: types.ModuleType
) -> None:
    v = by_name(name)
    parts = _parts()
    assert {"decode", "identity", "update", "quote", "spot_rate", "followed"} <= set(parts)
    for part in parts:
        assert hasattr(v, part), f"{name} lacks {part}"
    for part in set(parts) - set(Venue.__annotations__):
        assert callable(getattr(v, part)), f"{name}.{part}"
    # the twin module (or package) is named as the Rust module; the Rust core has its
    # folder, the binding its file
    assert v.__name__ == f"engine_rs.python.venues.{name}"  # type: ignore[attr-defined]
    assert (ROOT / f"engine_rs/crates/core/src/venues/{name}/mod.rs").is_file(), "core"
    assert (ROOT / f"engine_rs/crates/py/src/venues/{name}.rs").is_file(), "py"
    # its pool account decoder is public in both backends, under one name of its namespace
    twins, ours = getattr(py, name), getattr(rust, name)
    decoder = next(n for n in twins.__all__ if getattr(twins, n) is v.decode)
    assert decoder.startswith("decode_") and decoder in ours.__all__
    assert callable(getattr(ours, decoder))
    for role in v.OWN_ROLES:
        assert role.name not in ("vault_a", "vault_b", v.INFO.kind)


def _pool_of(m: Market, kind: str) -> Any:
    return next(p for p in m.world.pools if p.kind == kind)


def _market_of(kind: str) -> Market:
    """The first seeded market holding a pool of ``kind`` (the venues beyond the first
    three hold a share of the synthetic pools: not every seed gives each one)."""
    found = next(
        (m for m in map(market, SEEDS) if any(p.kind == kind for p in m.world.pools)), None
    )
    if found is None:
        # a venue whose simulator side is not written yet (OpenBook v2 while
        # feeds/venues/openbook_v2/ is a placeholder) has no pools to walk
        pytest.skip(f"no seeded simulated market holds a pool of kind {kind!r}")
    return found


def _assembled(v: Venue, m: Market, pool: Any) -> tuple[Any, Any]:
    """The twin venue's own walk from the pool's accounts to its quote state: decode,
    follow its own accounts (and the tick arrays the caller tracks), update."""
    owner, data = m.initial[pool.address]
    rec = v.decode(data, owner)
    own = v.new_own()
    mine = [*v.followed(rec), *[(v.ARRAYS, ta) for ta in pool.tick_arrays]]
    for role, key in mine:
        o, d = m.initial[key]
        v.own_account(own, role, OwnAccount(key, pool.address, d, o))
    vaults = tuple(
        int.from_bytes(m.initial[k][1][64:72], "little") for k in v.vaults(rec)
    )  # the token accounts' amounts
    got = v.update(own, rec, Assembly(pool.address, v.reserve_mints(rec), vaults, 7))
    assert got is not None and got[1] == 7
    return rec, got[0]


MISSING = "ticks_missing"


def _outcome(f: Callable[..., Any], *args: Any) -> Any:
    """``f(*args)``, or MISSING when it raised TicksMissingError."""
    try:
        return f(*args)
    except TicksMissingError:
        return MISSING


@pytest.mark.parametrize("name", NAMES)
def test_every_venue_assembles_and_quotes_alike_in_both_backends(
    name: str, rust: types.ModuleType, py: types.ModuleType
) -> None:
    v = by_name(name)
    m = _market_of(v.INFO.kind)
    pool = _pool_of(m, v.INFO.kind)
    (gr, ir), (gp, ip) = make_ingest(rust, m), make_ingest(py, m)
    rec, state = _assembled(v, m, pool)
    # the accounts it follows are watched, in the same order, by both ingests
    assert ir.watched() == ip.watched()
    for key in (*v.vaults(rec), *(k for _, k in v.followed(rec)), *pool.tick_arrays):
        assert key in ip.watched()
    # the pool reached both graphs, with the venue's mints, spot rates and graph kind
    a, b = v.reserve_mints(rec)
    rates = (v.spot_rate(state, True), v.spot_rate(state, False))
    assert gr.pool_rate(pool.address)[:4] == gp.pool_rate(pool.address)[:4] == (a, b, *rates)
    # its exact quotes, both ways, at sizes from dust to a large share of the pool
    for a_to_b, mint in ((True, a), (False, b)):
        for amount in (1, 10**3, 10**6, 10**9, 10**12):
            # a Whirlpool swap past the tick arrays held is no number in either backend
            want = _outcome(v.leg(state, a_to_b).amount_out, amount)
            got = _outcome(gr.quote, [pool.address], mint, amount)
            assert got == _outcome(gp.quote, [pool.address], mint, amount)
            if want == MISSING:
                assert got == MISSING and v.quote(state, amount, a_to_b) is None
            else:
                assert got == ([] if want is None else [amount, want]), (a_to_b, amount)
                assert v.quote(state, amount, a_to_b) == want
    kinds_seen = {
        k
        for o in gr.cycles_touching(pool.address, 3)
        for k, p in zip(o.kinds, o.pools)
        if p == pool.address
    }
    assert kinds_seen <= {v.INFO.graph_kind}


@pytest.mark.parametrize("name", NAMES)
def test_every_venue_refuses_an_identity_change_from_a_notification(
    name: str, eng: types.ModuleType
) -> None:
    """A copy of the pool account with a vault re-pointed is a new identity: refused
    (DecodeError), its endpoint quarantined, the pool asked for again."""
    v = by_name(name)
    m = _market_of(v.INFO.kind)
    pool = _pool_of(m, v.INFO.kind)
    g, ing = make_ingest(eng, m)
    owner, data = m.initial[pool.address]
    rec = v.decode(data, owner)
    same = v.decode(data, owner)
    assert v.identity(rec) == v.identity(same)
    at = data.index(b58decode(v.vaults(rec)[0]))
    changed = data[:at] + bytes(range(1, 33)) + data[at + 32 :]
    assert v.identity(v.decode(changed, owner)) != v.identity(rec)
    labels = ["slot", *ing.watched(), *m.programs]
    text = account_frame(
        sid(1, pool.address, labels.index(pool.address)),
        m.first_slot + 5,
        json.dumps(account_value(owner, changed)),
    )
    with pytest.raises(DecodeError, match="identity"):
        ing.frame(1, text.encode(), 10)
    assert ing.take_refetch() == [(pool.address, 1)]
    assert pool.address in g.pools()  # the pool it had stays


# Each venue's real mainnet accounts, the oracle its decoders answer to
# (tests/engine/test_decode.py reads them): a path under ../shared/fixtures, or None with
# the reason there is none yet. A venue added to the registry without an entry fails.
REAL_ACCOUNTS: dict[str, str | None] = {
    # none in ../shared/fixtures: its decoder is held to spec §1.2's offsets and to the
    # simulator's encoder both ways (test_decode.py); a real account is asked for
    "raydium_amm_v4": None,
    "raydium_cpmm": "raydium/cpmm_wsol_pump.json",
    "orca_whirlpool": "orca/accounts",
    # none in ../shared/fixtures, and none found in a public repository yet: its decoders
    # are held to the program's layouts (offsets from states/*.rs) and to the simulator's
    # encoders both ways (tests/engine/test_raydium_clmm.py); a real account is asked for
    "raydium_clmm": None,
    # none in ../shared/fixtures: real Pool / GlobalConfig bytes, swaps and events are in
    # tests/data/venues/pump_amm/mainnet.json (tests/engine/test_pump_amm.py)
    "pump_amm": None,
    # none in ../shared/fixtures: real pairs of MeteoraAg/dlmm-sdk's fixtures are kept in
    # tests/data/venues/meteora_dlmm (test_meteora_dlmm.py), cross-checked by PDA
    "meteora_dlmm": None,
    # none in ../shared/fixtures yet: its decoders are held to the program's layouts
    # (state/market.rs, orderbook/*.rs, const_assert'd sizes) and to the official
    # TypeScript client decoding the same bytes (the oracle harness); a real account is
    # asked for
    "openbook_v2": None,
    # none in ../shared/fixtures: the real pools committed in MeteoraAg/damm-v2 are kept in
    # tests/data/venues/meteora_damm_v2 with the SDK's quotes (test_meteora_damm_v2.py)
    "meteora_damm_v2": None,
    # none in ../shared/fixtures: the two real mainnet markets (and their vaults) committed
    # in CKS-Systems/manifest are kept in tests/data/venues/manifest, decoded alike by the
    # TypeScript SDK (test_manifest.py)
    "manifest": None,
}


def test_every_venue_names_its_real_accounts() -> None:
    assert sorted(REAL_ACCOUNTS) == sorted(NAMES), (
        "every venue names its real accounts (or why it has none) in REAL_ACCOUNTS"
    )
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"{SHARED_FIXTURES} absent (a user's clone): the files are not checked")
    for name, rel in REAL_ACCOUNTS.items():
        if rel is not None:
            assert (SHARED_FIXTURES / rel).exists(), f"{name}: {rel} is not in the fixtures"
