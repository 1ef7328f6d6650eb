"""FeedIngest follows the Token-2022 mints of the pools it tracks (both backends).

A vault owned by the Token-2022 program gives its mint the role ``mint`` for its pool:
the mint is watched (fetched and subscribed like every watched account), its bytes go to
``PoolGraph.set_mint`` by every path (snapshot, notification, re-fetch), and the pool
does not enter the graph until the graph took them, so no quote is ever made without
the transfer fee. SPL Token vaults follow no mint. A notification cannot move a vault to
another token program; malformed mint bytes are the decoders' typed errors and change
nothing.

The oracle of the amounts is the composition of kernels checked elsewhere against
spl-token-2022's own vectors and @solana/spl-token (``post_fee_amount``) and Raydium's
curve (``cpmm_amount_out``); the two backends also agree call by call on random
sequences of mint, vault and pool updates.
"""

from __future__ import annotations

import base64
import json
import random
import struct
import types
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine_rs
from engine_rs.errors import (
    AccountTooShortError,
    DecodeError,
    InvalidInputError,
    WrongOwnerError,
)
from feeds.sim.layouts import encode_token2022_mint, encode_token_account
from feeds.venues.raydium_cpmm.sim import encode_amm_config, encode_pool
from feeds.wire.protocol import account_notification
from feeds.wire.tokens import SPL_TOKEN, TOKEN_2022

NS = types.SimpleNamespace
CPMM = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
SYSTEM = "11111111111111111111111111111111"
FEE_DEN = 1_000_000  # CP-Swap's trade fee denominator
RATE = 2_500  # the config's trade fee: 25 bps
TRANSFER_FEE_CONFIG, TRANSFER_HOOK, PAUSABLE = 1, 14, 26
SLOT = 100
ENDPOINTS = 3
_b58 = engine_rs.load("python").b58encode


def key(n: int) -> str:
    return str(_b58(bytes([n]) * 31 + bytes([7])))


POOL, POOL2, CFG = key(10), key(20), key(11)
VA, VB, VA2, VB2, VNEW = key(12), key(13), key(22), key(23), key(30)
MA, MB = key(14), key(15)  # MA: the Token-2022 fee mint; MB: an SPL Token mint
VA_AMOUNT, VB_AMOUNT, HELD = 10**12 + 100, 2 * 10**12 + 200, (100, 200)


def pool_bytes(va: str = VA, vb: str = VB, ma: str = MA, mb: str = MB) -> bytes:
    """A CP-Swap PoolState (its protocol fees are not reserves: HELD)."""
    unset = ["status", "creator_fee_on", "open_time", "recent_epoch"]
    unset += [f"{fees}_fees_token_{i}" for fees in ("fund", "creator") for i in (0, 1)]
    r = NS(
        amm_config=CFG,
        pool_creator=key(1),
        token_0_vault=va,
        token_1_vault=vb,
        lp_mint=key(2),
        token_0_mint=ma,
        token_1_mint=mb,
        token_0_program=TOKEN_2022,
        token_1_program=SPL_TOKEN,
        observation_key=key(3),
        auth_bump=1,
        lp_mint_decimals=9,
        mint_0_decimals=6,
        mint_1_decimals=6,
        lp_supply=1,
        protocol_fees_token_0=HELD[0],
        protocol_fees_token_1=HELD[1],
        enable_creator_fee=False,
        **dict.fromkeys(unset, 0),
    )
    return encode_pool(r)


CONFIG = encode_amm_config(
    NS(
        bump=1,
        disable_create_pool=False,
        index=0,
        trade_fee_rate=RATE,
        protocol_fee_rate=0,
        fund_fee_rate=0,
        create_pool_fee=0,
        creator_fee_rate=0,
        protocol_owner=key(4),
        fund_owner=key(5),
    )
)


def vault(mint: str, amount: int) -> bytes:
    return encode_token_account(
        NS(
            mint=mint,
            owner=key(6),
            amount=amount,
            delegate=None,
            state=1,
            is_native=None,
            delegated_amount=0,
            close_authority=None,
        )
    )


Fee = tuple[int, int, int]


def mint_bytes(older: Fee, newer: Fee, extra: dict[int, bytes] | None = None) -> bytes:
    """A Token-2022 mint with a TransferFeeConfig (spec §3: two authorities, the
    withheld amount, then older and newer fee as epoch u64, maximum u64, bps u16)."""
    cfg = bytes(64) + struct.pack("<Q", 0)
    for e, m, b in (older, newer):
        cfg += struct.pack("<QQH", e, m, b)
    r = NS(
        mint_authority=None, supply=10**15, decimals=6, is_initialized=True, freeze_authority=None
    )
    return encode_token2022_mint(r, {TRANSFER_FEE_CONFIG: cfg, **(extra or {})})


FEE1: Fee = (0, 10**9, 100)  # 1 %
FEE2: Fee = (0, 10**9, 300)  # 3 %
HOOK = {TRANSFER_HOOK: bytes(32) + bytes(range(1, 33))}  # no authority, a program set


def spl_pool(eng: Any) -> tuple[Any, Any]:
    """A graph and an ingest holding the CP-Swap pool with both vaults SPL Token's."""
    g = eng.PoolGraph(base_mints=[MB], max_hops=3)
    ing = eng.FeedIngest(g)
    ing.track_pool(POOL, "cpmm")
    assert ing.account(POOL, CPMM, pool_bytes(), SLOT)
    assert ing.account(CFG, CPMM, CONFIG, SLOT)
    assert ing.account(VB, SPL_TOKEN, vault(MB, VB_AMOUNT), SLOT)
    return g, ing


def t22_pool(eng: Any, fee: Fee = FEE1) -> tuple[Any, Any]:
    """The same pool with vault a Token-2022's and its mint (``fee``) read: in the graph."""
    g, ing = spl_pool(eng)
    assert ing.account(VA, TOKEN_2022, vault(MA, VA_AMOUNT), SLOT)
    assert POOL not in g.pools()
    assert ing.account(MA, TOKEN_2022, mint_bytes(fee, fee), SLOT)
    assert g.pools() == [POOL]
    return g, ing


def by_hand(eng: Any, fee: Fee | None, mint_in: str, x: int) -> int:
    """The pool's exact-in swap from the kernels: the pool receives the input less MA's
    fee (when MA goes in); the trader the output less MA's (when MA comes out)."""
    ra, rb = VA_AMOUNT - HELD[0], VB_AMOUNT - HELD[1]
    cfg = None if fee is None else (fee, fee)
    if mint_in == MA:
        into = x if cfg is None else eng.post_fee_amount(cfg, 0, x)
        return int(eng.cpmm_amount_out(into, ra, rb, RATE, FEE_DEN))
    out = eng.cpmm_amount_out(x, rb, ra, RATE, FEE_DEN)
    return int(out if cfg is None else eng.post_fee_amount(cfg, 0, out))


def quotes(g: Any) -> tuple[Any, ...]:
    out = []
    for mint in (MA, MB):
        try:
            out.append(tuple(g.quote([POOL], mint, 10**9)))
        except Exception as exc:  # what must agree is the class
            out.append(type(exc).__name__)
    return tuple(out)


def frame(sub: int, slot: int, owner: str, data: bytes) -> bytes:
    value = {
        "lamports": 1,
        "data": [base64.b64encode(data).decode(), "base64"],
        "owner": owner,
        "executable": False,
        "rentEpoch": 0,
        "space": len(data),
    }
    return account_notification(sub, slot, json.dumps(value)).encode()


SUBS = {MA: 1, VA: 2, VB: 3, POOL: 4}


def bind(ing: Any) -> None:
    for ep in range(ENDPOINTS):
        for label, sub in SUBS.items():
            ing.bind(ep, sub, label, "account")


# ---------------------------------------------------------------- the snapshot path
def test_a_token_2022_pool_waits_for_its_mint_and_quotes_its_fee(eng: types.ModuleType) -> None:
    g, ing = spl_pool(eng)
    assert ing.watched() == [POOL, CFG, VA, VB]
    assert ing.take_changed() == []  # vault a not read: not whole yet
    # vault a is a Token-2022 account: its mint is followed, the pool waits for it
    assert ing.account(VA, TOKEN_2022, vault(MA, VA_AMOUNT), SLOT)
    assert ing.watched() == [POOL, CFG, VA, VB, MA]
    assert ing.roles(MA) == [("mint", POOL)]
    assert ing.roles(VA) == [("vault_a", POOL)]
    assert POOL not in g.pools() and ing.take_changed() == []
    # a copy of a mint that is not its vault's program's: refused, still waiting
    with pytest.raises(WrongOwnerError):
        ing.account(MA, SPL_TOKEN, mint_bytes(FEE1, FEE1), SLOT)
    assert POOL not in g.pools() and g.mint_fee(MA) is None
    # the mint read: in the graph, and its quotes pay the fee both ways
    assert ing.account(MA, TOKEN_2022, mint_bytes(FEE1, FEE1), SLOT)
    assert g.pools() == [POOL] and ing.take_changed() == [POOL]
    assert g.mint_fee(MA) == (FEE1, FEE1)
    for mint in (MA, MB):
        want = by_hand(eng, FEE1, mint, 10**9)
        assert g.quote([POOL], mint, 10**9) == [10**9, want]
        assert want < by_hand(eng, None, mint, 10**9)  # the fee is not nothing


def test_the_fee_in_force_follows_the_schedule_the_ingest_is_given(
    eng: types.ModuleType,
) -> None:
    """``set_epoch_schedule`` reaches the graph: the newer fee from its epoch on."""
    g, ing = t22_pool(eng)
    newer: Fee = (3, 10**9, 400)
    assert ing.account(MA, TOKEN_2022, mint_bytes(FEE1, newer), SLOT + 1)
    g.set_slot(3 * 32 - 1)
    assert g.epoch == 0  # mainnet's schedule: epoch 0 for a long time yet
    ing.set_epoch_schedule(32)
    assert g.epoch == 2
    cfg = (FEE1, newer)
    ra, rb = VA_AMOUNT - HELD[0], VB_AMOUNT - HELD[1]
    for epoch, slot in ((2, 95), (3, 96)):
        g.set_slot(slot)
        assert g.epoch == epoch
        into = eng.post_fee_amount(cfg, epoch, 10**9)
        assert g.quote([POOL], MA, 10**9)[1] == eng.cpmm_amount_out(into, ra, rb, RATE, FEE_DEN)
    with pytest.raises(InvalidInputError):
        ing.set_epoch_schedule(31)  # below Agave's MINIMUM_SLOTS_PER_EPOCH
    assert g.epoch == 3


def test_an_spl_token_pool_follows_no_mint(eng: types.ModuleType) -> None:
    g, ing = spl_pool(eng)
    assert ing.account(VA, SPL_TOKEN, vault(MA, VA_AMOUNT), SLOT)
    assert ing.watched() == [POOL, CFG, VA, VB]
    assert all(r != "mint" for k in ing.watched() for r, _ in ing.roles(k))
    assert ing.roles(MA) == [] and ing.account(MA, TOKEN_2022, mint_bytes(FEE1, FEE1), 1) is False
    assert g.pools() == [POOL] and g.mint_fee(MA) is None
    assert g.quote([POOL], MA, 10**9) == [10**9, by_hand(eng, None, MA, 10**9)]


def test_a_mint_many_pools_share_is_one_account_with_a_role_each(eng: types.ModuleType) -> None:
    g, ing = t22_pool(eng)
    ing.track_pool(POOL2, "cpmm")
    assert ing.account(POOL2, CPMM, pool_bytes(VA2, VB2), SLOT)
    assert ing.account(CFG, CPMM, CONFIG, SLOT)  # the config both pools name
    assert ing.account(VB2, SPL_TOKEN, vault(MB, VB_AMOUNT), SLOT)
    assert ing.account(VA2, TOKEN_2022, vault(MA, VA_AMOUNT), SLOT)
    assert ing.watched().count(MA) == 1
    assert ing.roles(MA) == [("mint", POOL), ("mint", POOL2)]
    # the graph took MA already: the second pool needs no second read
    assert sorted(g.pools()) == sorted([POOL, POOL2])
    # one read reprices both
    ing.take_changed()
    assert ing.account(MA, TOKEN_2022, mint_bytes(FEE2, FEE2), SLOT + 1)
    assert ing.take_changed() == [POOL, POOL2]
    assert g.quote([POOL2], MA, 10**9)[1] == by_hand(eng, FEE2, MA, 10**9)


MALFORMED: list[tuple[str, str, bytes, type[Exception]]] = [
    ("short", TOKEN_2022, mint_bytes(FEE2, FEE2)[:60], AccountTooShortError),
    ("past the end", TOKEN_2022, mint_bytes(FEE2, FEE2)[:-5], AccountTooShortError),
    ("not a mint", TOKEN_2022, mint_bytes(FEE2, FEE2)[:165] + b"\x02" + bytes(8), DecodeError),
    ("bps > 100 %", TOKEN_2022, mint_bytes(FEE2, (0, 1, 10_001)), InvalidInputError),
    ("SPL owner", SPL_TOKEN, mint_bytes(FEE2, FEE2), WrongOwnerError),
    ("system owner", SYSTEM, mint_bytes(FEE2, FEE2), WrongOwnerError),
]


@pytest.mark.parametrize(("what", "owner", "data", "cls"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_mint_bytes_raise_a_typed_error_and_change_nothing(
    eng: types.ModuleType, what: str, owner: str, data: bytes, cls: type[Exception]
) -> None:
    g, ing = t22_pool(eng)
    before, watched = quotes(g), ing.watched()
    ing.take_changed()
    with pytest.raises(cls) as err:  # by the trusted path
        ing.account(MA, owner, data, SLOT + 1)
    assert type(err.value) is cls
    bind(ing)
    with pytest.raises(cls) as err:  # by a notification
        ing.frame(0, frame(SUBS[MA], SLOT + 2, owner, data), 1)
    assert type(err.value) is cls
    assert quotes(g) == before and g.mint_fee(MA) == (FEE1, FEE1) and g.refusal(MA) == []
    assert ing.watched() == watched and g.pools() == [POOL] and ing.take_changed() == []
    assert not any(e.quarantined for e in ing.endpoint_stats())  # bad bytes, no lie
    # and before any good copy, the pool keeps waiting
    g2, ing2 = spl_pool(eng)
    ing2.account(VA, TOKEN_2022, vault(MA, VA_AMOUNT), SLOT)
    with pytest.raises(cls):
        ing2.account(MA, owner, data, SLOT)
    assert g2.pools() == [] and g2.mint_fee(MA) is None


# ---------------------------------------------------------------- notifications
def test_a_mint_notification_reprices_and_a_hook_refuses_the_pool(eng: types.ModuleType) -> None:
    g, ing = t22_pool(eng)
    bind(ing)
    ing.take_changed()
    # the authority raised the fee: the next quote pays it
    assert ing.frame(0, frame(SUBS[MA], SLOT + 1, TOKEN_2022, mint_bytes(FEE2, FEE2)), 1) == 1
    assert ing.take_changed() == [POOL] and g.mint_fee(MA) == (FEE2, FEE2)
    for mint in (MA, MB):
        assert g.quote([POOL], mint, 10**9)[1] == by_hand(eng, FEE2, mint, 10**9)
    # other endpoints' copies of it are duplicates: nothing moves
    assert ing.frame(1, frame(SUBS[MA], SLOT + 1, TOKEN_2022, mint_bytes(FEE2, FEE2)), 2) == 1
    assert ing.stats().duplicates == 1
    # a transfer hook set: every quote through the pool refused, naming it
    hooked = mint_bytes(FEE2, FEE2, HOOK)
    assert ing.frame(0, frame(SUBS[MA], SLOT + 2, TOKEN_2022, hooked), 3) == 1
    assert g.refusal(MA) == ["TransferHook"]
    for mint in (MA, MB):
        with pytest.raises(InvalidInputError, match="TransferHook"):
            g.quote([POOL], mint, 10**9)
    # paused, then unpaused and unhooked: tradable again
    paused = mint_bytes(FEE2, FEE2, {PAUSABLE: bytes(32) + b"\x01"})
    assert ing.frame(0, frame(SUBS[MA], SLOT + 3, TOKEN_2022, paused), 4) == 1
    assert g.refusal(MA) == ["Pausable"]
    ok = mint_bytes(FEE1, FEE1, {PAUSABLE: bytes(32) + b"\x00"})
    assert ing.frame(0, frame(SUBS[MA], SLOT + 4, TOKEN_2022, ok), 5) == 1
    assert g.refusal(MA) == [] and g.quote([POOL], MA, 10**9)[1] == by_hand(eng, FEE1, MA, 10**9)
    # an older copy is not applied
    assert ing.frame(2, frame(SUBS[MA], SLOT + 1, TOKEN_2022, hooked), 6) == 1
    assert g.refusal(MA) == []


def test_a_notification_cannot_move_a_vault_to_another_token_program(
    eng: types.ModuleType,
) -> None:
    """A token account never changes program: a copy that says so is a lie, refused and
    its endpoint quarantined (as a re-pointed vault's); the trusted path may (and the
    roles follow)."""
    g, ing = t22_pool(eng)
    bind(ing)
    watched, before = ing.watched(), quotes(g)
    with pytest.raises(DecodeError, match="Token-2022"):
        ing.frame(1, frame(SUBS[VA], SLOT + 1, SPL_TOKEN, vault(MA, VA_AMOUNT)), 1)
    with pytest.raises(DecodeError, match="SPL Token"):
        ing.frame(2, frame(SUBS[VB], SLOT + 1, TOKEN_2022, vault(MB, VB_AMOUNT)), 2)
    e = {s.endpoint: s for s in ing.endpoint_stats()}
    assert e[1].quarantined and e[1].identity == 1 and e[2].quarantined
    assert ing.watched() == watched and quotes(g) == before and ing.roles(MB) == []
    # the same vault at its own program: applied
    assert (
        ing.frame(0, frame(SUBS[VA], SLOT + 2, TOKEN_2022, vault(MA, VA_AMOUNT + 10**10)), 3) == 2
    )
    assert g.quote([POOL], MB, 10**9)[1] != before[1][1]


def test_versions_of_a_mint_are_checked_like_any_account(eng: types.ModuleType) -> None:
    """Two copies of one mint at one slot that differ: decided by majority, the loser
    quarantined; a garbage copy is no version (its typed error, nobody blamed)."""
    g, ing = t22_pool(eng)
    bind(ing)
    a, b = mint_bytes(FEE2, FEE2), mint_bytes(FEE2, FEE2, HOOK)
    assert ing.frame(0, frame(SUBS[MA], SLOT + 1, TOKEN_2022, a), 1) == 1
    with pytest.raises(AccountTooShortError):
        ing.frame(2, frame(SUBS[MA], SLOT + 1, TOKEN_2022, a[:40]), 2)
    assert ing.frame(2, frame(SUBS[MA], SLOT + 1, TOKEN_2022, b), 3) == 1
    assert ing.frame(1, frame(SUBS[MA], SLOT + 1, TOKEN_2022, a), 4) == 1
    e = {s.endpoint: s for s in ing.endpoint_stats()}
    assert e[2].quarantined and e[2].disagreed == 1 and not e[0].quarantined
    assert g.refusal(MA) == [] and g.mint_fee(MA) == (FEE2, FEE2)


# ---------------------------------------------------------------- the roles follow
def test_the_mint_role_follows_the_vaults_program_and_the_pools_vaults(
    eng: types.ModuleType,
) -> None:
    g, ing = t22_pool(eng)
    # re-fetched as SPL Token's (trusted): the mint is followed no more; the graph keeps
    # the rules it last took (a fee charged that may no longer be is the safe mistake)
    assert ing.account(VA, SPL_TOKEN, vault(MA, VA_AMOUNT), SLOT + 1)
    assert MA not in ing.watched() and ing.roles(MA) == []
    assert g.pools() == [POOL] and g.mint_fee(MA) == (FEE1, FEE1)
    assert g.quote([POOL], MB, 10**9)[1] == by_hand(eng, FEE1, MB, 10**9)
    # Token-2022's again: followed again, and out of the graph until read again
    assert ing.account(VA, TOKEN_2022, vault(MA, VA_AMOUNT), SLOT + 2)
    assert ing.roles(MA) == [("mint", POOL)] and g.pools() == []
    assert ing.account(MA, TOKEN_2022, mint_bytes(FEE2, FEE2), SLOT + 2)
    assert g.pools() == [POOL]
    # the pool re-pointed to a new vault a (a re-fetch confirms it): the old vault and
    # its mint's role go; the new vault's program decides again
    assert ing.account(POOL, CPMM, pool_bytes(va=VNEW), SLOT + 3)
    assert VA not in ing.watched() and MA not in ing.watched() and VNEW in ing.watched()
    assert g.pools() == []
    assert ing.account(VNEW, TOKEN_2022, vault(MA, VA_AMOUNT), SLOT + 3)
    assert ing.watched()[-1] == MA and g.pools() == []  # the mint is read anew
    assert ing.account(MA, TOKEN_2022, mint_bytes(FEE1, FEE1), SLOT + 3)
    assert g.pools() == [POOL]
    # the pool's mints change (re-initialised): the vaults and the mint wait again
    assert ing.account(POOL, CPMM, pool_bytes(va=VNEW, ma=key(40)), SLOT + 4)
    assert MA not in ing.watched() and g.pools() == []


def test_a_whirlpool_leaves_the_graph_when_its_vault_proves_token_2022(
    eng: types.ModuleType,
) -> None:
    """A venue whose quote reads no vault (a Whirlpool) is in the graph once its pool
    account is read; when a vault proves to be Token-2022 it leaves it until its mint
    is read, then quotes the pool's own swap of the input less the fee."""
    from tests.support.frames import SEEDS, market

    m = market(SEEDS[0])
    p = next(p for p in m.world.pools if p.kind == "whirlpool")

    def whirlpool_read() -> tuple[Any, Any]:
        """A graph and its ingest that have read the pool and its arrays (no vault)."""
        g = eng.PoolGraph(base_mints=m.bases, max_hops=3)
        ing = eng.FeedIngest(g)
        ing.track_pool(p.address, "whirlpool")
        for ta in p.tick_arrays:
            ing.track_array(ta, p.address)
        for k in [p.address, *p.tick_arrays]:
            ing.account(k, *m.initial[k], m.first_slot)
        return g, ing

    g, ing = whirlpool_read()
    plain = g.quote([p.address], p.mint_a, 10**6)
    assert g.pools() == [p.address]
    ing.account(p.vault_b, SPL_TOKEN, m.initial[p.vault_b][1], m.first_slot)
    ing.account(p.vault_a, TOKEN_2022, m.initial[p.vault_a][1], m.first_slot)
    assert g.pools() == [] and ing.roles(p.mint_a) == [("mint", p.address)]
    ing.account(p.mint_a, TOKEN_2022, mint_bytes(FEE1, FEE1), m.first_slot)
    got = g.quote([p.address], p.mint_a, 10**6)
    less = eng.post_fee_amount((FEE1, FEE1), 0, 10**6)
    # the same pool without the fee, sent what arrives after it
    bare, _ = whirlpool_read()
    assert got == [10**6, bare.quote([p.address], p.mint_a, less)[1]]
    assert got[1] < plain[1]


# ---------------------------------------------------------------- the two agree
STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]
OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["mint", "mint_frame", "vault_a", "vault_frame", "pool", "slot", "schedule", "garbage"]
        ),
        st.integers(0, 2**32 - 1),
    ),
    min_size=1,
    max_size=25,
)


def _op(ing: Any, g: Any, what: str, r: random.Random, slot: int) -> Any:
    if what in ("mint", "mint_frame"):
        fee: Fee = (r.randrange(4), r.choice([0, 10**4, 10**12]), r.choice([0, 1, 250, 10_000]))
        extra = r.choice([None, HOOK, {PAUSABLE: bytes(32) + bytes([r.randrange(2)])}])
        owner = r.choice([TOKEN_2022, TOKEN_2022, SPL_TOKEN])
        data = mint_bytes((0, 10**9, r.randrange(500)), fee, extra)
        if what == "mint":
            return ing.account(MA, owner, data, slot)
        return ing.frame(r.randrange(ENDPOINTS), frame(SUBS[MA], slot, owner, data), slot)
    if what in ("vault_a", "vault_frame"):
        owner = r.choice([TOKEN_2022, SPL_TOKEN])
        data = vault(MA, VA_AMOUNT + r.randrange(10**9))
        if what == "vault_a":
            return ing.account(VA, owner, data, slot)
        return ing.frame(r.randrange(ENDPOINTS), frame(SUBS[VA], slot, owner, data), slot)
    if what == "pool":
        va = r.choice([VA, VA, VNEW])
        return ing.account(POOL, CPMM, pool_bytes(va=va), slot)
    if what == "slot":
        return g.set_slot(r.randrange(10**6))
    if what == "schedule":
        return ing.set_epoch_schedule(r.choice([31, 32, 64, 432_000]), r.random() < 0.3)
    data = mint_bytes(FEE1, FEE1)
    cut = data[: r.randrange(len(data))]
    return ing.frame(r.randrange(ENDPOINTS), frame(SUBS[MA], slot, TOKEN_2022, cut), slot)


def _outcome(fn: Any) -> tuple[str, Any]:
    try:
        return ("ok", fn())
    except Exception as exc:  # the class is what must agree
        return ("error", type(exc).__name__)


@settings(max_examples=60, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(ops=OPS)
def test_rust_and_twin_agree_on_mint_updates(
    rust: types.ModuleType, py: types.ModuleType, ops: list[tuple[str, int]]
) -> None:
    pairs = [spl_pool(e) for e in (rust, py)]
    for _, ing in pairs:
        bind(ing)
        ing.bind(0, SUBS[VA] + 100, VNEW, "account")
    slot = SLOT
    seen = (pairs[0][1].watched(), pairs[0][1].watched_version())
    for what, seed in ops:
        slot += 1
        got = [
            _outcome(
                lambda g=g, ing=ing, w=what, r=seed, t=slot: _op(ing, g, w, random.Random(r), t)
            )
            for g, ing in pairs
        ]
        assert got[0] == got[1], (what, got)
        (ga, ia), (gb, ib) = pairs
        assert ia.watched() == ib.watched()
        # the version moves whenever the watched set does (a re-pointed vault, a mint
        # followed or dropped), so a copy keyed by it is never stale
        assert ia.watched_version() == ib.watched_version()
        if ia.watched() != seen[0]:
            assert ia.watched_version() != seen[1], what
        seen = (ia.watched(), ia.watched_version())
        assert [ia.roles(k) for k in ia.watched()] == [ib.roles(k) for k in ib.watched()]
        assert ia.take_changed() == ib.take_changed()
        assert ga.pools() == gb.pools() and ga.epoch == gb.epoch
        assert (ga.mint_fee(MA), ga.refusal(MA)) == (gb.mint_fee(MA), gb.refusal(MA))
        assert quotes(ga) == quotes(gb)
        ea = [(e.endpoint, e.identity, e.quarantined) for e in ia.endpoint_stats()]
        assert ea == [(e.endpoint, e.identity, e.quarantined) for e in ib.endpoint_stats()]
