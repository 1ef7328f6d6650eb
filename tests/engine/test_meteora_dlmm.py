"""Meteora DLMM: decoders, PDAs, the program's exact-in swap, events; the twins agree.

Oracles come from outside (``tests/data/venues/meteora_dlmm/``):

- real mainnet accounts of two pairs from ``MeteoraAg/dlmm-sdk``
  ``commons/tests/fixtures`` (``EtAd…``: an older pair whose bins still carry the old
  per-bin fields in the limit-order slots; ``9t3E…``: a limit-order pair collecting its
  fee in Y), their addresses as the SDK's integration tests name them, cross-checked by
  PDA;
- the real program (``commons/tests/artifacts/lb_clmm_prod.so``) run once in LiteSVM on
  those accounts: 194 exact-in swaps, both directions, dust to past the arrays given, at
  clock times from the last swap's to past the decay period (the variable fee's
  references), with the program's output, fee and protocol fee (its Swap event), active
  bin and volatility state after, or its error (6039 a swap paying nothing; 6042 a
  permissioned pair before its activation slot; 3005 / 6036 a bin array or the bitmap
  extension not passed: the engine's TicksMissingError);
- the events the program emitted (self-CPI) in one of those swaps.
"""

from __future__ import annotations

import base64
import json
import struct
import types
from operator import attrgetter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_rs import errors
from engine_rs.python.b58 import b58decode
from engine_rs.python.venues import VENUES
from engine_rs.python.venues import meteora_dlmm as twin

DATA = Path(__file__).parents[1] / "data" / "venues" / "meteora_dlmm"
CASES = json.loads((DATA / "swaps.json").read_text())
PAIRS = sorted(CASES["accounts"])
OWNER = twin.PROGRAM_ID
ILM_BASE_KEY = "MFGQxwAmB91SwuYX36okv2Qmdc9aMuHTwWGUrp4AtB1"  # dlmm-sdk commons/src/seeds.rs


def _pair(pair: str) -> tuple[bytes, list[bytes]]:
    lb = (DATA / pair / "lb_pair.bin").read_bytes()
    arrays = [
        (DATA / pair / f).read_bytes() for f in CASES["accounts"][pair]["bin_arrays"].values()
    ]
    return lb, arrays


def _outcome(eng: types.ModuleType, lb: bytes, arrays: list[bytes], c: dict[str, Any]) -> Any:
    try:
        return eng.meteora_dlmm.swap(
            lb, arrays, c["amount_in"], c["swap_for_y"], c["now"], c["slot"]
        )
    except errors.TicksMissingError:
        return "ticks_missing"


# --------------------------------------------------------------------------------------
# the program on real accounts


def test_every_swap_is_the_programs(eng: types.ModuleType) -> None:
    assert len(CASES["cases"]) == 194
    for c in CASES["cases"]:
        lb, arrays = _pair(c["pair"])
        got = _outcome(eng, lb, arrays, c)
        want = c["amount_out"]
        if want is None or want == "ticks_missing":
            assert got == want, c
            continue
        assert got is not None and got != "ticks_missing", c
        assert got.amount_out == want, c
        assert (got.fee, got.protocol_fee) == (c["fee"], c["protocol_fee"]), c
        assert got.active_id == c["active_id_after"], c
        assert [got.volatility_accumulator, got.volatility_reference, got.index_reference] == (
            c["volatility_after"]
        ), c


def test_the_cases_cover_both_ways_fees_and_refusals() -> None:
    cs = CASES["cases"]
    assert {c["swap_for_y"] for c in cs} == {True, False}
    assert {c["error"] for c in cs if "error" in c} == {3005, 6036, 6039, 6042}
    moved = [c for c in cs if isinstance(c["amount_out"], int)]
    assert len({c["volatility_after"][0] for c in moved}) > 3, "accumulators"
    assert len({c["volatility_after"][1] for c in moved}) >= 2, "decayed references"
    assert any(c["active_id_after"] < -1 for c in moved), "a walk across two arrays"


# --------------------------------------------------------------------------------------
# decoders and PDAs on the real accounts


@pytest.mark.parametrize("pair", PAIRS)
def test_real_accounts_decode_and_agree_by_pda(eng: types.ModuleType, pair: str) -> None:
    acc = CASES["accounts"][pair]
    lb, _ = _pair(pair)
    rec = eng.meteora_dlmm.decode_pool(lb, OWNER)
    assert rec == twin.decode_meteora_lb_pair(lb, OWNER)
    assert (rec.token_x_mint, rec.token_y_mint) == (acc["token_x_mint"], acc["token_y_mint"])
    assert (rec.reserve_x, rec.reserve_y) == (acc["reserve_x"], acc["reserve_y"])
    assert rec.oracle == acc["oracle"]
    # the program's seeds give the same addresses: the pair's own (a permissionless pair:
    # mints, bin step, base factor; a customizable one: the SDK's ILM base key and the
    # mints), with the bump it keeps
    lo, hi = sorted((b58decode(rec.token_x_mint), b58decode(rec.token_y_mint)))
    if rec.pair_type == 0:
        address, bump = twin.lb_pair_address(
            rec.token_x_mint, rec.token_y_mint, rec.bin_step, rec.base_factor
        )
    else:
        assert rec.pair_type == 2
        address, bump = eng.find_program_address([b58decode(ILM_BASE_KEY), lo, hi], OWNER)
    assert (address, bump) == (pair, rec.bump_seed)
    assert twin.reserve_address(pair, rec.token_x_mint)[0] == rec.reserve_x
    assert twin.reserve_address(pair, rec.token_y_mint)[0] == rec.reserve_y
    assert twin.oracle_address(pair)[0] == rec.oracle
    for index, address in acc["bin_array_addresses"].items():
        assert twin.bin_array_address(pair, int(index))[0] == address
        data = (DATA / pair / acc["bin_arrays"][index]).read_bytes()
        ba = eng.meteora_dlmm.decode_bin_array(data, OWNER)
        assert ba == twin.decode_meteora_bin_array(data, OWNER)
        assert (ba.index, ba.lb_pair, len(ba.bins)) == (int(index), pair, 70)
    # the active bin's array is one of them, and its bit is set in the pair's bitmap
    active = twin.bin_array_index(rec.active_id)
    assert str(active) in acc["bin_arrays"]
    off = active + 512
    assert rec.bin_array_bitmap[off // 64] >> (off % 64) & 1
    # the stored price of a bin with liquidity is the id's price
    data = (DATA / pair / acc["bin_arrays"][str(active)]).read_bytes()
    b = twin.decode_meteora_bin_array(data).bins[rec.active_id - active * 70]
    assert b[2] == twin.price_from_id(rec.active_id, rec.bin_step)


def test_checks_of_owner_discriminator_and_size(eng: types.ModuleType) -> None:
    lb, arrays = _pair(PAIRS[0])
    with pytest.raises(errors.WrongOwnerError):
        eng.meteora_dlmm.decode_pool(lb, "11111111111111111111111111111111")
    with pytest.raises(errors.WrongDiscriminatorError):
        eng.meteora_dlmm.decode_bin_array(lb)
    with pytest.raises(errors.WrongDiscriminatorError):
        eng.meteora_dlmm.decode_pool(arrays[0])
    with pytest.raises(errors.AccountTooShortError):
        eng.meteora_dlmm.decode_pool(lb[:903])
    with pytest.raises(errors.AccountTooShortError):
        eng.meteora_dlmm.decode_bin_array(arrays[0][:10_000])
    ext = twin.DISC_BITMAP_EXTENSION + bytes(32) + struct.pack("<Q", 5) + bytes(1_528)
    e = eng.meteora_dlmm.decode_bitmap_extension(ext, OWNER)
    assert e == twin.decode_meteora_bitmap_extension(ext, OWNER)
    assert e.positive[0][0] == 5 and e.lb_pair == "11111111111111111111111111111111"


def test_discriminators_are_anchors() -> None:
    assert twin.DISC_LB_PAIR == twin.anchor_discriminator("account", "LbPair")
    assert twin.DISC_BIN_ARRAY == twin.anchor_discriminator("account", "BinArray")
    assert twin.DISC_BITMAP_EXTENSION == twin.anchor_discriminator(
        "account", "BinArrayBitmapExtension"
    )
    assert twin.DISC_SWAP_EVENT == twin.anchor_discriminator("event", "Swap")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(min_size=0, max_size=1_600),
    disc=st.sampled_from(
        [
            b"",
            *[
                twin.DISC_LB_PAIR,
                twin.DISC_BIN_ARRAY,
                twin.DISC_BITMAP_EXTENSION,
                twin.DISC_SWAP_EVENT,
            ],
        ]
    ),
)
def test_random_bytes_fail_typed_in_both_backends(data: bytes, disc: bytes) -> None:
    import engine_rs.python as py
    import engine_rs.rust as rs

    raw = disc + data
    for name in (
        "meteora_dlmm.decode_pool",
        "meteora_dlmm.decode_bin_array",
        "meteora_dlmm.decode_bitmap_extension",
    ):
        outs = []
        for m in (rs, py):
            try:
                outs.append(attrgetter(name)(m)(raw))
            except errors.EngineError as e:
                outs.append(type(e))
        assert outs[0] == outs[1]


# --------------------------------------------------------------------------------------
# events


def test_the_programs_swap_event_and_no_other_venue_claims_it(eng: types.ModuleType) -> None:
    ev = CASES["events"]
    swap_raw, swap2_raw = (base64.b64decode(d) for d in ev["data"])
    got = twin.parse_event(swap_raw)
    assert got is not None
    assert (got.lb_pair, got.amount_in, got.amount_out, got.swap_for_y) == (
        ev["pair"],
        ev["amount_in"],
        ev["amount_out"],
        True,
    )
    assert (got.start_bin_id, got.end_bin_id) == (ev["start_bin_id"], ev["end_bin_id"])
    assert eng.parse_program_data(base64.b64encode(swap_raw).decode(), twin.PROGRAM_ID) == got
    for v in VENUES:
        if v is not twin:
            assert v.parse_event(swap_raw) is None, v.INFO.name
    # the real mainnet transcripts' events (Whirlpool, CP-Swap, CLMM, Jupiter: other
    # programs' data, some with colliding discriminators) are never DLMM swaps
    logs = Path(__file__).parents[1] / "data" / "logs"
    lines = [
        line.split("Program data: ", 1)[1].strip()
        for f in sorted(logs.glob("*.txt"))
        for line in f.read_text().splitlines()
        if "Program data: " in line
    ]
    assert lines
    for b64 in lines:
        assert twin.parse_event(base64.b64decode(b64)) is None
    # its Swap2Evt is no swap event of ours (nor of anyone's)
    assert eng.parse_program_data(base64.b64encode(swap2_raw).decode(), twin.PROGRAM_ID) is None


# --------------------------------------------------------------------------------------
# Rust == twin on random pools and amounts


def _mutated(pair: str, d: st.DataObject) -> tuple[bytes, list[bytes]]:
    """A real pair with random fee parameters, volatility state and bin amounts."""
    lb, arrays = _pair(pair)
    b = bytearray(lb)
    struct.pack_into(
        "<HHHH",
        b,
        8,
        d.draw(st.integers(0, 20_000)),
        d.draw(st.integers(0, 600)),
        d.draw(st.integers(0, 1_200)),
        d.draw(st.integers(0, 10_000)),
    )
    struct.pack_into(
        "<II", b, 16, d.draw(st.integers(0, 2**32 - 1)), d.draw(st.integers(0, 400_000))
    )
    b[34] = d.draw(st.integers(0, 3))  # base_fee_power_factor
    b[35] = d.draw(st.integers(0, 3))  # function_type
    b[36] = d.draw(st.integers(0, 2))  # collect_fee_mode
    struct.pack_into(
        "<IIi",
        b,
        40,
        d.draw(st.integers(0, 400_000)),
        d.draw(st.integers(0, 400_000)),
        d.draw(st.integers(-200, 200)),
    )
    struct.pack_into("<i", b, 76, d.draw(st.integers(-75, 75)))  # active id
    struct.pack_into("<H", b, 80, d.draw(st.integers(1, 400)))  # bin step
    out = []
    for a in arrays:
        ab = bytearray(a)
        for _ in range(d.draw(st.integers(0, 8))):
            i = d.draw(st.integers(0, 69))
            o = 56 + 144 * i
            struct.pack_into(
                "<QQ", ab, o, d.draw(st.integers(0, 2**40)), d.draw(st.integers(0, 2**40))
            )
            if d.draw(st.booleans()):
                ab[o + 16 : o + 32] = bytes(16)  # price not stored yet
            struct.pack_into("<Q", ab, o + 112, d.draw(st.integers(0, 2**30)))
            ab[o + 140] = d.draw(st.integers(0, 1))
        out.append(bytes(ab))
    return bytes(b), out


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(d=st.data())
def test_rust_and_the_twin_agree_on_random_pools(d: st.DataObject) -> None:
    import engine_rs.python as py
    import engine_rs.rust as rs

    pair = d.draw(st.sampled_from(PAIRS))
    lb, arrays = _mutated(pair, d)
    c = dict(
        amount_in=d.draw(st.one_of(st.integers(0, 10**6), st.integers(0, 2**64 - 1))),
        swap_for_y=d.draw(st.booleans()),
        now=d.draw(st.integers(1_734_000_000, 1_800_000_000)),
        slot=d.draw(st.integers(0, 2**40)),
    )
    outs = []
    quotes = []
    for m in (rs, py):
        try:
            outs.append(_outcome(m, lb, arrays, c))
        except errors.EngineError as e:
            outs.append(type(e))
        try:
            quotes.append(
                m.meteora_dlmm.quote(
                    lb, arrays, c["amount_in"], c["swap_for_y"], c["now"], c["slot"]
                )
            )
        except errors.EngineError as e:
            quotes.append(type(e))
    assert outs[0] == outs[1], c
    assert quotes[0] == quotes[1], c
    # the quote kernel is the swap's output (0 for 0: the swap itself pays nothing)
    if c["amount_in"] == 0 and not isinstance(quotes[0], type):
        assert quotes[0] == 0
    elif outs[0] == "ticks_missing":
        assert quotes[0] is errors.TicksMissingError
    elif not isinstance(outs[0], type):
        assert quotes[0] == (None if outs[0] is None else outs[0].amount_out)


def test_bad_arguments_fail_alike(eng: types.ModuleType) -> None:
    lb, arrays = _pair(PAIRS[0])
    with pytest.raises(OverflowError):
        eng.meteora_dlmm.swap(lb, arrays, 2**64, True, 0, 0)
    with pytest.raises(OverflowError):
        eng.meteora_dlmm.swap(lb, arrays, 1, True, 2**63, 0)
    with pytest.raises(errors.DecodeError):
        eng.meteora_dlmm.swap(lb, [lb], 1, True, 0, 0)


# --------------------------------------------------------------------------------------
# the chain's clock


def test_a_pair_follows_the_clock_sysvar_and_quotes_at_its_time(eng: types.ModuleType) -> None:
    """The program prices a swap at the Clock sysvar's time (the volatility reference
    decays with it), never the pair's ``last_update_timestamp``: a pair follows the
    sysvar (role ``clock``, named by the pair), quotes at the pair's stamp until the
    node answers it, then at its time, and again at each new time it is notified; a
    clock of another owner is refused. The numbers are the program's swap (the kernel)
    at those times."""
    from feeds.sim.world import SYSVAR_CLOCK, World, WorldConfig
    from feeds.venues import meteora_dlmm as DL
    from feeds.venues.meteora_dlmm import sim as DLsim

    world = World(WorldConfig(seed=3, trades_per_slot=0, dislocation_rate=0.0), backend=eng)
    pool = next(
        p
        for p in world.pools
        if p.kind == "dlmm"
        and {world.token_programs[p.mint_a], world.token_programs[p.mint_b]}
        == {"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"}
    )
    for a_to_b, f in ((False, 0.05), (True, 0.08), (True, 0.05)):  # volatile: bins crossed
        assert world.swap(pool, a_to_b, int(DLsim._depth(pool, a_to_b) * f)) is not None
    stamp = pool.record.last_update_timestamp
    graph = eng.PoolGraph(base_mints=[], max_hops=3)
    graph.set_slot(world.slot)
    ing = eng.FeedIngest(graph)
    ing.track_pool(pool.address, pool.kind)
    for a in pool.tick_arrays:
        ing.track_array(a, pool.address)

    def feed(clock: bool) -> None:
        for _ in range(4):
            for k in list(ing.watched()):
                if k in world.accounts and (clock or k != SYSVAR_CLOCK):
                    a = world.accounts[k]
                    ing.account(k, a.owner, a.data, world.slot)

    def program(now: int, a_to_b: bool, amount: int) -> int | None:
        out: int | None = eng.meteora_dlmm.quote(
            world.accounts[pool.address].data,
            [world.accounts[a].data for a in pool.tick_arrays],
            amount,
            a_to_b,
            now,
            world.slot,
        )
        return out

    amounts = [
        (a_to_b, int(DLsim._depth(pool, a_to_b) * f))
        for a_to_b in (True, False)
        for f in (1e-4, 0.02, 0.1)
    ]
    feed(clock=False)
    assert ("clock", pool.address) in ing.roles(SYSVAR_CLOCK)
    assert [
        graph.quote([pool.address], pool.mint_a if a else pool.mint_b, n)[-1] for a, n in amounts
    ] == [program(stamp, a, n) for a, n in amounts]
    differ = 0
    for wait in (5, 40, 400, 4_000):  # within the filter period, decaying, decayed
        world.slot += int(wait / world.config.slot_seconds)
        world._write_clock()
        feed(clock=True)
        now = world.unix_time()
        got = [
            graph.quote([pool.address], pool.mint_a if a else pool.mint_b, n)[-1]
            for a, n in amounts
        ]
        assert got == [program(now, a, n) for a, n in amounts], wait
        differ += got != [program(stamp, a, n) for a, n in amounts]
    assert differ >= 2  # the time mattered
    clock = world.accounts[SYSVAR_CLOCK]
    with pytest.raises(errors.WrongOwnerError):
        ing.account(SYSVAR_CLOCK, DL.PROGRAM, clock.data, world.slot + 1)
    with pytest.raises(errors.AccountTooShortError):
        ing.account(SYSVAR_CLOCK, clock.owner, clock.data[:39], world.slot + 1)
