"""FeedIngest: frames of a simulated market (the bytes a Solana node sends) through the
Rust port and the twin. Each backend alone builds the market's graph from the frames;
the two fed the same deliveries (lost, duplicated, reordered, corrupted) agree call by
call (return value or error class), and on stats, changed pools, lead/lag and the graph.
Malformed frames are FrameError in both, bad accounts the same DecodeError subclass,
and random bytes never crash either."""

from __future__ import annotations

import json
import random
import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine_rs
from engine_rs.errors import (
    AccountTooShortError,
    Base58Error,
    DecodeError,
    EngineError,
    FrameError,
    InvalidInputError,
    MathOverflowError,
    WrongDiscriminatorError,
    WrongOwnerError,
)
from engine_rs.records import as_dict
from feeds import venues
from feeds.sim import programs
from tests.support.frames import (
    ENDPOINTS,
    SEEDS,
    SPL_TOKEN,
    STATELESS_FIXTURE,
    STEPS,
    SYSTEM_PROGRAM,
    WHIRLPOOL,
    Market,
    Message,
    account_frame,
    account_value,
    assert_same_state,
    corrupt,
    make_ingest,
    market,
    messages,
    same_call,
    sid,
    slot_frame,
)
from tests.support.truth import market_graph


# ---------------------------------------------------------------- each backend alone
@pytest.mark.parametrize("seed", SEEDS)
def test_the_frames_rebuild_the_market(eng: types.ModuleType, seed: int) -> None:
    m = market(seed)
    g, ing = make_ingest(eng, m)
    assert len(g) == len(m.universe) == len(ing.take_changed())
    ns = 0
    sent = {"account": 0, "logs": 0, "slot": 0}
    for step in m.steps:
        for msg in messages(m, ing, step):
            for ep in range(ENDPOINTS):  # every endpoint sends every notification
                ns += 1_000
                assert ing.frame(ep, msg.text(ep).encode(), ns) == sid(ep, msg.label, msg.index)
            sent[msg.kind] += 1
    s = ing.stats()
    total = sum(sent.values())
    assert s.frames == s.notifications == ENDPOINTS * total
    assert s.first_copies == total and s.duplicates == (ENDPOINTS - 1) * total
    assert (s.accounts, s.logs, s.slots, s.unknown) == (
        sent["account"],
        sent["logs"],
        sent["slot"],
        0,
    )
    swaps = sum("ray_log" in v or "Program data" in v for step in m.steps for _, v in step.trades)
    assert s.swaps == swaps
    assert s.slot == g.slot == m.steps[-1].slot
    stats = {d.endpoint: d for d in ing.dedup_stats()}
    assert stats[0].first_seen == total and stats[0].duplicates == 0
    assert stats[2].duplicates == total and stats[2].lag_mean_ns == 2_000.0
    # the graph is the market's: same pools, same cycles and sizes
    want = market_graph(eng, m.world)
    # and a pool of a venue with a state of its own quotes what its simulated program gives
    own = [p for p in m.world.pools if programs.by_kind(p.kind).curve is not None]
    for p in own:
        curve = programs.by_kind(p.kind).curve
        assert curve is not None
        for a_to_b in (True, False):
            amount = max(1, int(curve.depth(p, a_to_b) / 1_000))
            if venues.by_kind(p.kind).ids.graph_kind == "book":  # whole lots: a fifth of a side
                amount = int(curve.depth(p, a_to_b) / 5)
            q = m.world.quote_swap(p, a_to_b, amount)
            path = g.quote([p.address], p.mint_a if a_to_b else p.mint_b, amount)
            assert (path[-1] if path else None) == (None if q is None else q.out), p.kind
    assert sorted(g.pools()) == sorted(want.pools())
    for base in m.bases:
        got = [(o.pools, o.amount_in, o.profit) for o in g.cycles(base, 3)]
        assert got == [(o.pools, o.amount_in, o.profit) for o in want.cycles(base, 3)]
    assert {k for k, _ in ing.whirlpools()} == {
        p.address for p in m.world.pools if p.kind == "whirlpool"
    }
    assert [(k, kind) for k, kind, _ in ing.records()] == [(k, kind) for k, kind in m.universe]
    some = ["whirlpool", "dlmm"]  # only those kinds' records (the others are not converted)
    assert [(k, kind) for k, kind, _ in ing.records(some)] == [
        (k, kind) for k, kind in m.universe if kind in some
    ]


def test_frames_read_in_place_from_a_reused_buffer_build_what_bytes_build(
    eng: types.ModuleType,
) -> None:
    """The PubSub transport (picows) hands the ingest a memoryview into its read buffer,
    which the next read overwrites: read in place (no copy in the Rust backend), every
    answer, statistic and the graph equal those of the same frames as bytes — so nothing
    the ingest keeps points into the buffer. Views that cannot be read in place (strided,
    another item format) are copied and read alike."""
    m = market(SEEDS[0])
    g_bytes, by_bytes = make_ingest(eng, m)
    g_view, by_view = make_ingest(eng, m)
    buf = bytearray(1 << 20)
    ns = 0
    for step in m.steps:
        for msg in messages(m, by_bytes, step):
            for ep in range(ENDPOINTS):
                raw = msg.text(ep).encode()
                ns += 1_000
                buf[: len(raw)] = raw
                view = memoryview(buf)[: len(raw)]
                assert by_view.frame(ep, view, ns) == by_bytes.frame(ep, raw, ns)
                buf[: len(raw)] = bytes(len(raw))  # the next read's bytes over it
    for got, want in ((by_view.stats(), by_bytes.stats()), (g_view.slot, g_bytes.slot)):
        assert got == want
    assert sorted(g_view.pools()) == sorted(g_bytes.pools())
    for base in m.bases:
        got = [(o.pools, o.amount_in, o.profit) for o in g_view.cycles(base, 3)]
        assert got == [(o.pools, o.amount_in, o.profit) for o in g_bytes.cycles(base, 3)]
    # not readable in place: strided, or not bytes; copied, the same answer
    good = b'{"jsonrpc":"2.0","result":5,"id":1}'
    strided = memoryview(bytes(b for c in good for b in (c, 0)))[::2]
    assert not strided.c_contiguous and strided.tobytes() == good
    assert by_view.frame(0, strided, 1) == -1
    padded = good + b" " * (-len(good) % 4)  # JSON allows the trailing blanks
    words = memoryview(padded).cast("I")
    assert words.format == "I" and by_view.frame(0, words, 1) == -1


def test_bad_accounts_raise_their_decode_error(eng: types.ModuleType) -> None:
    m = market(SEEDS[0])
    g, ing = make_ingest(eng, m)
    pool = next(p for p in m.world.pools if p.kind == "whirlpool")
    owner, data = m.initial[pool.address]
    ing.take_changed()
    cases: list[tuple[str, str, bytes, type[Exception]]] = [
        (pool.address, SYSTEM_PROGRAM, data, WrongOwnerError),
        (pool.address, owner, data[:300], AccountTooShortError),
        (pool.address, owner, bytes(8) + data[8:], WrongDiscriminatorError),
        (pool.vault_a, SPL_TOKEN, bytes(32) + m.initial[pool.vault_a][1][32:], DecodeError),
    ]
    ta = pool.tick_arrays[0]
    other = next(p for p in m.world.pools if p.address != pool.address)
    ta_data = m.initial[ta][1]
    cases.append((ta, WHIRLPOOL, ta_data[:9956] + bytes.fromhex("00" * 32), DecodeError))
    s0 = m.first_slot  # the snapshot's slot: older copies are not applied
    labels = ["slot", *ing.watched(), *m.programs]
    for n, (pubkey, own, raw, cls) in enumerate(cases, 1):
        with pytest.raises(cls) as err:
            ing.account(pubkey, own, raw, s0 + n)
        assert type(err.value) is cls
        i = labels.index(pubkey)
        ep = n % ENDPOINTS  # a vault re-pointed by a notification quarantines its endpoint
        text = account_frame(sid(ep, pubkey, i), s0 + 10 + n, json.dumps(account_value(own, raw)))
        with pytest.raises(cls) as err:
            ing.frame(ep, text.encode(), n)
        assert type(err.value) is cls
    # the snapshot's vault of the wrong mint took the pool out; the notification's copy
    # was refused and counted against its endpoint; a good copy brings the pool back
    assert pool.address not in g.pools() and pool.address in ing.take_changed()
    bad = {e.endpoint: e for e in ing.endpoint_stats()}[4 % ENDPOINTS]
    assert bad.identity == 1 and bad.quarantined
    assert ing.account(pool.vault_a, SPL_TOKEN, m.initial[pool.vault_a][1], s0 + 20)
    assert pool.address in g.pools()
    # a pool whose vault holds less than its fees leaves the graph: InvalidInputError
    amm = next((p for p in m.world.pools if p.kind in ("cpmm", "amm_v4")), None)
    assert amm is not None and other is not None
    vault = m.initial[amm.vault_a][1]
    with pytest.raises(InvalidInputError):
        ing.account(amm.vault_a, SPL_TOKEN, vault[:64] + bytes(8) + vault[72:], s0 + 21)
    assert amm.address not in g.pools()
    assert ing.account(amm.vault_a, SPL_TOKEN, vault, s0 + 22) and amm.address in g.pools()
    # a copy older than the state held is not applied (and says so: True, it is known)
    assert ing.account(amm.vault_a, SPL_TOKEN, vault[:64] + bytes(8) + vault[72:], s0)
    assert amm.address in g.pools()
    assert ing.account("not a watched account", SPL_TOKEN, b"", 1) is False


def test_arguments_and_registration(eng: types.ModuleType) -> None:
    g = eng.PoolGraph()
    ing = eng.FeedIngest(g)
    good = b'{"jsonrpc":"2.0","result":5,"id":1}'
    assert ing.frame(0, good, 1) == -1
    assert ing.frame(0, bytearray(good), 1) == -1
    assert ing.frame(0, memoryview(good), 1) == -1
    assert ing.frame(0, good.decode(), 1) == -1
    assert ing.frame(0, good, "not checked: no dedup for a response") == -1
    for bad_ep, cls in (
        (-1, InvalidInputError),
        (65_536, InvalidInputError),
        ("0", TypeError),
        (True, TypeError),
    ):
        with pytest.raises(cls):
            ing.frame(bad_ep, good, 1)
    with pytest.raises(TypeError):
        ing.frame(0, 12, 1)
    assert ing.stats().frames == 5  # the ones that got past the argument checks
    with pytest.raises(InvalidInputError):
        ing.bind(0, 1, "x", "blocks")
    with pytest.raises(InvalidInputError):
        ing.bind(0, -1, "x", "slot")
    with pytest.raises(InvalidInputError):
        ing.bind(0, 1 << 64, "x", "slot")
    with pytest.raises(TypeError):
        ing.bind(0, 1.0, "x", "slot")
    with pytest.raises(TypeError):
        ing.bind(0, 1, None, "account")
    ing.bind(0, 5, "slot", "slot")
    slot = slot_frame(5, 77).encode()
    with pytest.raises(TypeError):  # recv_ns is checked when the dedup needs it
        ing.frame(0, slot, "later")
    with pytest.raises(MathOverflowError):
        ing.frame(0, slot, 1 << 70)
    assert ing.frame(0, slot, 1) == 5 and ing.slot == 0 == g.slot  # one frame is no slot
    assert ing.frame(0, slot_frame(5, 78).encode(), 2) == 5 and ing.slot == 78 == g.slot
    ing.unbind(0)
    assert ing.frame(0, slot_frame(5, 79).encode(), 3) == 5
    assert ing.slot == 78 and ing.stats().unknown == 1
    assert [(e.endpoint, e.unknown, e.slot) for e in ing.endpoint_stats()] == [(0, 1, 78)]
    with pytest.raises(InvalidInputError):
        ing.track_pool(WHIRLPOOL, "serum")  # not a venue's kind ("clmm" is Raydium CLMM's)
    with pytest.raises(Base58Error):
        ing.track_pool("0OIl", "cpmm")
    with pytest.raises(InvalidInputError):
        ing.track_array(SPL_TOKEN, WHIRLPOOL)  # not a tracked whirlpool
    ing.track_pool(WHIRLPOOL, "whirlpool")
    with pytest.raises(InvalidInputError):
        ing.track_pool(WHIRLPOOL, "cpmm")  # one kind per address
    v = ing.watched_version()
    ing.track_array(SPL_TOKEN, WHIRLPOOL)
    assert ing.watched() == [WHIRLPOOL, SPL_TOKEN]
    # the version moves with the watched set, and only with it
    assert ing.watched_version() != v
    v = ing.watched_version()
    ing.track_array(SPL_TOKEN, WHIRLPOOL)  # tracked already: nothing changes
    assert ing.watched_version() == v
    ing.untrack_array(SPL_TOKEN, WHIRLPOOL)
    assert ing.watched() == [WHIRLPOOL] and ing.watched_version() != v
    ing.track_array(SPL_TOKEN, WHIRLPOOL)
    with pytest.raises(TypeError):
        eng.FeedIngest(g, "big")
    with pytest.raises(InvalidInputError):
        eng.FeedIngest(g, 1)


# ---------------------------------------------------------------- the two agree
deliveries = st.fixed_dictionaries(
    {
        "seed": st.sampled_from(SEEDS),
        "steps": st.integers(1, STEPS),
        "rng": st.integers(0, 2**32 - 1),
        "drop": st.sampled_from([0.0, 0.1, 0.5]),
        "corrupt": st.sampled_from([0.0, 0.05, 0.3]),
        "capacity": st.sampled_from([4, 64, 65_536]),
        "hostile": st.booleans(),
        "late": st.sampled_from([0.0, 0.2]),
        "ns_step": st.sampled_from([1, 100_000]),  # up to 0.5 s between frames
    }
)
CORRUPTIONS = [
    "truncate",
    "flip",
    "owner",
    "short",
    "empty_vault",
    "other_mint",
    "future",
    "plausible",
    "repoint",
]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(plan=deliveries)
def test_rust_and_twin_agree_on_a_faulty_feed(
    rust: types.ModuleType, py: types.ModuleType, plan: dict[str, Any]
) -> None:
    m = market(plan["seed"])
    rnd = random.Random(plan["rng"])
    pairs = [make_ingest(e, m, plan["capacity"]) for e in (rust, py)]
    graphs, ings = [p[0] for p in pairs], [p[1] for p in pairs]
    assert_same_state(ings, graphs, m, final=False)
    ns = 0
    hostile = rnd.randrange(ENDPOINTS) if plan["hostile"] else None
    sent: list[Message] = []
    for step in m.steps[: plan["steps"]]:
        # each pool's record before the step, and the mark that reads what it replaced
        before = [({k: r for k, _, r in ing.records()}, ing.record_seq()) for ing in ings]
        arrivals = []
        for msg in messages(m, ings[0], step):
            for ep in range(ENDPOINTS):
                if rnd.random() < plan["drop"]:
                    continue
                if rnd.random() < plan["corrupt"] or (ep == hostile and rnd.random() < 0.5):
                    raw = corrupt(msg, ep, rnd.choice(CORRUPTIONS), rnd)
                else:
                    raw = msg.text(ep).encode()
                arrivals.append((ep, raw))
                if rnd.random() < 0.1:
                    arrivals.append((ep, raw))  # a repeat on one connection
            if sent and rnd.random() < plan["late"]:  # a slow endpoint's older copy
                old, late = rnd.choice(sent), rnd.randrange(ENDPOINTS)
                arrivals.append((late, old.text(late).encode()))
        sent += messages(m, ings[0], step)
        rnd.shuffle(arrivals)
        for ep, raw in arrivals:
            ns += rnd.randint(1, 5_000) * plan["ns_step"]
            same_call(ings, lambda ing, ep=ep, raw=raw, ns=ns: ing.frame(ep, raw, ns))
        # the session re-fetches what an identity change asked for (the world's truth)
        wanted = [ing.take_refetch() for ing in ings]
        assert wanted[0] == wanted[1]
        at = step.slot
        for pubkey, _ in wanted[0]:
            owner, data = m.world.accounts[pubkey].owner, state_at(m, pubkey, at)
            same_call(ings, lambda ing, k=pubkey, o=owner, d=data, t=at: ing.account(k, o, d, t))
        assert_same_state(ings, graphs, m, final=False)
        # records(since=mark) lists every pool whose record differs from the one it had
        # at the mark (what FeedPool's array follow reads each round), in both backends
        since = []
        for ing, (old, mark) in zip(ings, before, strict=True):
            listed = ing.records(None, mark)
            moved = {k for k, _, r in ing.records() if old.get(k) != r}
            assert moved <= {k for k, _, _ in listed}
            assert ing.record_seq() >= mark
            since.append([(k, kind) for k, kind, _ in listed])
        assert since[0] == since[1]
    assert_same_state(ings, graphs, m, final=True)


def state_at(m: Market, pubkey: str, slot: int) -> bytes:
    """An account's bytes after ``slot`` (what a node's getMultipleAccounts answers)."""
    data = m.initial[pubkey][1]
    for step in m.steps:
        if step.slot > slot:
            break
        for k, _, d in step.accounts:
            if k == pubkey:
                data = d
    return data


def _frame_outcomes(rust: types.ModuleType, py: types.ModuleType, frames: list[Any]) -> list[Any]:
    """Feed `frames` (endpoint 0, subscription 1 bound to a tracked Whirlpool) to both."""
    m = market(SEEDS[0])
    pool = next(p for p in m.world.pools if p.kind == "whirlpool")
    ings = []
    for e in (rust, py):
        g = e.PoolGraph()
        ing = e.FeedIngest(g)
        ing.track_pool(pool.address, "whirlpool")
        ing.bind(0, 1, pool.address, "account")
        ing.bind(0, 2, "slot", "slot")
        ing.bind(0, 3, WHIRLPOOL, "logs")
        ings.append(ing)
    out = [
        same_call(ings, lambda ing, f=f, i=i: ing.frame(0, f, i + 1)) for i, f in enumerate(frames)
    ]
    assert as_dict(ings[0].stats()) == as_dict(ings[1].stats())
    return out


def test_json_is_read_as_python_reads_it(rust: types.ModuleType, py: types.ModuleType) -> None:
    m = market(SEEDS[0])
    pool = next(p for p in m.world.pools if p.kind == "whirlpool")
    owner, data = m.initial[pool.address]
    value = json.dumps(account_value(owner, data))
    good = account_frame(1, 5, value)
    b64 = account_value(owner, data)["data"][0]
    unbound = account_frame(9, 5, '{"owner": "x", "data": ["%s", "base64"]}')
    cases: list[tuple[Any, Any]] = [
        (good, ("ok", 1)),
        (good.encode("utf-16"), ("ok", 1)),  # json.loads detects UTF-16/32 by BOM and zeros
        (good.encode("utf-16-le"), ("ok", 1)),
        (good.encode("utf-32-be"), ("ok", 1)),
        (b"\xef\xbb\xbf" + good.encode(), ("ok", 1)),
        ("\ufeff" + good, ("error", FrameError)),  # a str with a BOM is refused
        (good.replace('"jsonrpc":"2.0"', '"jsonrpc":"1.0","jsonrpc":"2.0"'), ("ok", 1)),
        (good.replace('"jsonrpc":"2.0"', '"jsonrpc":"2.0","jsonrpc":2.0'), ("error", FrameError)),
        (good.replace("accountNotification", "account\\u004eotification"), ("ok", 1)),
        (good.replace('"slot":5', '"slot":-0'), ("ok", 1)),
        (good.replace('"slot":5', '"slot":5.0'), ("error", FrameError)),
        (good.replace('"slot":5', '"slot":18446744073709551616'), ("error", FrameError)),
        (good.replace('"slot":5', '"slot":true'), ("error", FrameError)),
        (good.replace('"lamports": 2039280', '"lamports": NaN'), ("ok", 1)),
        (good.replace('"lamports": 2039280', '"lamports": -Infinity'), ("ok", 1)),
        (good.replace('"lamports": 2039280', '"lamports": ' + "9" * 4300), ("ok", 1)),
        (good.replace('"lamports": 2039280', '"lamports": ' + "9" * 4301), ("error", FrameError)),
        (good.replace('"lamports": 2039280', '"lamports": ' + "[" * 200 + "]" * 200), ("ok", 1)),
        (
            good.replace('"lamports": 2039280', '"lamports": ' + "[" * 5000 + "]" * 5000),
            ("error", FrameError),
        ),
        (good.replace('"executable": false', '"executable": "\\ud800"'), ("ok", 1)),
        (good.replace('"executable": false', '"executable": "\ud800"'), ("ok", 1)),  # a str frame
        (good.replace('"executable": false', '"executable": "\x01"'), ("error", FrameError)),
        (good.replace('"executable": false', '"executable": "\\x"'), ("error", FrameError)),
        (good.replace(f'"owner": "{owner}"', '"owner": "\\ud800"'), ("error", WrongOwnerError)),
        (good.replace('"base64"]', '"base58"]'), ("error", FrameError)),
        (good.replace(b64, b64[:-1]), ("error", FrameError)),
        (good.replace(b64, b64.replace("A", "\\u0041", 3)), ("ok", 1)),
        (good.replace(b64, b64[:100] + "\\n" + b64[100:]), ("error", FrameError)),
        (good + " \n", ("ok", 1)),
        (good + " x", ("error", FrameError)),
        (good[:-1], ("error", FrameError)),
        (b"\xff" + good.encode(), ("error", FrameError)),
        (good.encode().replace(b"whirlpool", b"\xed\xa0\x80", 1), ("ok", 1)),
        ('{"jsonrpc":"2.0","method":null,"params":5}', ("ok", -1)),
        ('{"jsonrpc":"2.0","id":1,"error":{"code":-32600}}', ("ok", -1)),
        (
            '{"jsonrpc":"2.0","method":"fooNotification","params":{"subscription":1,"result":{}}}',
            ("error", FrameError),
        ),
        (
            '{"jsonrpc":"2.0","method":"slotNotification","params":{"subscription":2,"result":{"slot":9}}}',
            ("ok", 2),
        ),
    ]
    # base64 exactly as b64decode(validate=True) reads it (on an unbound subscription)
    for text, ok in (
        ("", True),
        ("=", False),
        ("QUJD", True),
        ("QUJD=", True),
        ("QUJD===", True),
        ("QUI=", True),
        ("QUI==", False),
        ("QQ==", True),
        ("QR==", True),
        ("QQ=", False),
        ("QQ", False),
        ("Q", False),
        ("QQ=A=", False),
        ("QU D", False),
        ("QUJ\u00e9", False),
    ):
        cases.append((unbound % text, ("ok", 9) if ok else ("error", FrameError)))
    got = _frame_outcomes(rust, py, [c for c, _ in cases])
    for (frame, want), have in zip(cases, got):
        assert have == want, (frame if len(str(frame)) < 300 else str(frame)[:300], have, want)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    extra=json_values,
    where=st.sampled_from(["params", "result", "value", "context", "top"]),
    key=st.sampled_from(["x", "slot", "owner", "data", "jsonrpc", "method", "subscription", "err"]),
    cut=st.integers(0, 2000),
    encode=st.sampled_from(["utf-8", "utf-16", "str"]),
)
def test_any_json_gets_the_same_answer(
    rust: types.ModuleType,
    py: types.ModuleType,
    extra: Any,
    where: str,
    key: str,
    cut: int,
    encode: str,
) -> None:
    m = market(SEEDS[0])
    pool = next(p for p in m.world.pools if p.kind == "whirlpool")
    owner, data = m.initial[pool.address]
    msg = {
        "jsonrpc": "2.0",
        "method": "accountNotification",
        "params": {
            "result": {"context": {"slot": 5}, "value": account_value(owner, data)},
            "subscription": 1,
        },
    }
    target = {
        "top": msg,
        "params": msg["params"],
        "result": msg["params"]["result"],
        "value": msg["params"]["result"]["value"],
        "context": msg["params"]["result"]["context"],
    }[where]
    target[key] = extra
    text = json.dumps(msg)
    frames: list[Any] = [text, text[: cut % (len(text) + 1)]]
    frames = [f if encode == "str" else f.encode(encode, "surrogatepass") for f in frames]
    _frame_outcomes(rust, py, frames)


@settings(max_examples=300, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    raw=st.binary(max_size=300)
    | st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_random_bytes_never_crash(rust: types.ModuleType, py: types.ModuleType, raw: bytes) -> None:
    for have in _frame_outcomes(rust, py, [raw, b'{"jsonrpc":"2.0",' + raw]):
        assert have[0] == "ok" or have[1] is FrameError


@settings(max_examples=100, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(rng=st.integers(0, 2**32 - 1), n=st.integers(1, 8))
def test_byte_flips_get_the_same_answer(
    rust: types.ModuleType, py: types.ModuleType, rng: int, n: int
) -> None:
    m = market(SEEDS[0])
    pool = next(p for p in m.world.pools if p.kind == "whirlpool")
    owner, data = m.initial[pool.address]
    good = account_frame(1, 5, json.dumps(account_value(owner, data))).encode()
    rnd = random.Random(rng)
    frames = []
    for _ in range(n):
        raw = bytearray(good)
        for _ in range(rnd.randint(1, 4)):
            raw[rnd.randrange(len(raw))] = rnd.choice(b'"\\{}[],:0123456789aAeE-+. \x00\xff')
        frames.append(bytes(raw))
    for have in _frame_outcomes(rust, py, frames):
        assert have[0] == "ok" or issubclass(have[1], EngineError)  # a bad price is a bad pool


def test_an_identity_change_needs_a_refetch_and_follows_it(eng: types.ModuleType) -> None:
    """A pool re-initialised on chain (new vaults): the notification is refused and asked
    for again; the re-fetch confirms it, the endpoint that said so is cleared, and the
    watched accounts move from the old vaults to the new ones (no more, no fewer)."""
    m = market(SEEDS[0])
    g, ing = make_ingest(eng, m)
    pool = next(p for p in m.world.pools if p.kind == "cpmm")
    owner, data = m.initial[pool.address]
    new_vault = bytes(range(1, 33))
    changed = data[:72] + new_vault + data[104:]  # token_0_vault re-pointed
    labels = ["slot", *ing.watched(), *m.programs]
    i = labels.index(pool.address)
    s0 = m.first_slot
    text = account_frame(sid(1, pool.address, i), s0 + 5, json.dumps(account_value(owner, changed)))
    with pytest.raises(DecodeError, match="identity"):
        ing.frame(1, text.encode(), 10)
    assert {e.endpoint: e.quarantined for e in ing.endpoint_stats()}[1]
    assert ing.take_refetch() == [(pool.address, 1)]
    assert ing.take_refetch() == []  # asked once
    # a re-fetch from before the notification's slot (a lagging node: the old pool)
    # cannot settle it: asked again, nobody blamed
    assert ing.account(pool.address, owner, data, s0 + 1)
    assert ing.take_refetch() == [(pool.address, 1)]
    before = ing.watched()
    assert ing.account(pool.address, owner, changed, s0 + 6)
    e1 = {e.endpoint: e for e in ing.endpoint_stats()}[1]
    assert not e1.quarantined and e1.disagreed == 0 and e1.identity == 1
    new_name = eng.b58encode(new_vault)
    old_vault = eng.raydium_cpmm.decode_pool(data).token_0_vault
    assert old_vault in before and old_vault not in ing.watched()
    assert ing.watched() == [k for k in before if k != old_vault] + [new_name]
    assert ing.take_refetch() == []
    # the old vault's balance is not the pool's: out of the graph until the new one's is
    assert pool.address not in g.pools()
    vault = m.initial[old_vault][1]
    assert ing.account(new_name, SPL_TOKEN, vault, s0 + 6)
    assert pool.address in g.pools()


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    plan=deliveries,
    emap=st.lists(st.integers(-1, 3), min_size=0, max_size=ENDPOINTS + 1),
    offset=st.integers(-(2**40), 2**40),
    tail=st.sampled_from(["end", "state", "truncated"]),
)
def test_a_packed_run_of_frames_is_frame_by_frame(
    rust: types.ModuleType,
    py: types.ModuleType,
    plan: dict[str, Any],
    emap: list[int],
    offset: int,
    tail: str,
) -> None:
    """``frames`` (a NATS consumer's batch of recorded frames) does what ``frame`` one by
    one does (the oracle: the twin frame by frame), Rust and twin alike: each frame from
    its mapped endpoint at its time less the offset, refusals counted, unmapped endpoints
    passed over, the run ending at the first input of another kind; a batch cut short is
    refused by both."""
    from storage.codec import HEADER

    m = market(plan["seed"])
    rnd = random.Random(plan["rng"])
    # Rust, twin, and an oracle for each (the state comparison takes the changed sets)
    pairs = [make_ingest(e, m, plan["capacity"]) for e in (rust, py, py, py)]
    graphs, ings = [p[0] for p in pairs], [p[1] for p in pairs]
    ns, raw, expect = 2**41, b"", []
    for step in m.steps[: plan["steps"]]:
        for msg in messages(m, ings[0], step):
            for ep in range(ENDPOINTS + 1):  # the last one: past a short map
                if rnd.random() < plan["drop"]:
                    continue
                text = msg.text(ep % ENDPOINTS).encode()
                if rnd.random() < plan["corrupt"]:
                    text = corrupt(msg, ep % ENDPOINTS, rnd.choice(CORRUPTIONS), rnd)
                ns += rnd.randint(1, 5_000) * plan["ns_step"]
                raw += HEADER.pack(1, ep, ns, 0, len(text)) + text
                expect.append((ep, text, ns))
    run_end = len(raw)
    if tail == "state":  # another kind ends the run; what follows waits for the caller
        raw += HEADER.pack(2, 0, 0, 0, 2) + b"{}" + HEADER.pack(1, 0, ns, 0, 2) + b"{}"
    elif tail == "truncated":
        raw += HEADER.pack(1, 0, ns, 0, 50) + b"{}"
    got = same_call(ings[:2], lambda ing: ing.frames(raw, 0, emap, offset))
    refused, per_ep = 0, {}
    for ep, text, t in expect:
        mapped = emap[ep] if ep < len(emap) else -1
        if mapped < 0:
            continue
        for oracle in ings[2:]:
            try:
                oracle.frame(mapped, text, t - offset)
            except engine_rs.errors.EngineError:
                refused += oracle is ings[2]
        n, first, _ = per_ep.get(mapped, (0, t - offset, 0))
        per_ep[mapped] = (n + 1, first, t - offset)
    if tail == "truncated":
        assert got == ("error", engine_rs.errors.InvalidInputError), got
    else:
        runs = [(e, n, first, last) for e, (n, first, last) in per_ep.items()]
        assert got == ("ok", (run_end, runs, refused))
    for k in (0, 1):
        assert_same_state([ings[k], ings[k + 2]], [graphs[k], graphs[k + 2]], m, final=False)


@pytest.mark.parametrize("as_", ["bytearray", "memoryview", "memoryview slice"])
def test_a_packed_run_read_from_a_buffer_is_the_run_read_from_bytes(
    eng: types.ModuleType, as_: str
) -> None:
    """``frames`` reads any C-contiguous byte buffer in place (a native gRPC stream hands
    its batch over as one, ``GrpcBatch``): the answer and the state it builds are those of
    the same batch as bytes (the oracle: the same backend fed bytes)."""
    from storage.codec import HEADER

    m = market(SEEDS[0])
    ref, other = make_ingest(eng, m), make_ingest(eng, m)
    raw, ns = b"", 2**41
    for step in m.steps[:3]:
        for msg in messages(m, ref[1], step):
            for ep in range(ENDPOINTS):
                text = msg.text(ep).encode()
                ns += 1_000
                raw += HEADER.pack(1, ep, ns, 0, len(text)) + text
    emap = list(range(ENDPOINTS))
    if as_ == "bytearray":
        batch: Any = bytearray(raw)
    elif as_ == "memoryview":
        batch = memoryview(raw)
    else:  # a view into a larger buffer: its own offsets, not the buffer's
        batch = memoryview(b"x" * 7 + raw + b"y" * 5)[7:-5]
    want = ref[1].frames(raw, 0, emap, 0)
    assert want[0] == len(raw) and want[1]
    assert other[1].frames(batch, 0, emap, 0) == want
    assert_same_state([ref[1], other[1]], [ref[0], other[0]], m, final=False)
    with pytest.raises(TypeError):
        other[1].frames([1, 2, 3], 0, emap, 0)
