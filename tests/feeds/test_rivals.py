"""The rival classifier (feeds.rivals): other traders' transactions, built and signed with
solders and run through the simulator's chain (balances, logs and errors are the
chain's), read back as its node serves them, decoded per venue and classified.

The chain records each swap's inner instructions (its token transfers, the self-CPI
events of Meteora DLMM and PumpSwap). What it cannot run (an aggregator's CPI into the
DEXes, a truncated log, a node that kept no inner instructions or no stack heights) is
made by reshaping a landed transaction's JSON as a node would show it
(tests/support/rivals.py); the amounts then still have to be the chain's. The expected numbers come from the simulator (its quotes before sending) and
from the transaction's own balances, never from the classifier."""

from __future__ import annotations

import copy
import dataclasses
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from feeds import rivals as R
from feeds.rivals import RivalTx, classify
from feeds.sim.state import Pool
from feeds.venues import VENUES, by_kind
from feeds.venues.meteora_dlmm import sim as DLsim
from feeds.venues.meteora_dlmm.layout import event_authority
from feeds.wire import instructions as I
from feeds.wire.txview import TxView
from tests.support.rivals import (
    USDC,
    WSOL,
    Desk,
    key_index,
    under_aggregator,
    with_inner,
    without_inner,
)

AGGREGATOR = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tQVkTfP3P9n5pM4"
TIP = I.JITO_TIP_ACCOUNTS[3]


@dataclasses.dataclass
class Case:
    result: dict[str, Any]
    pools: list[Pool]
    ins: list[int]
    outs: list[int]
    signer: str

    @property
    def view(self) -> TxView:
        return TxView.from_rpc_json(self.result)


def _cycle(
    d: Desk,
    pools: list[Pool],
    mint: str,
    amount: int,
    budget: list[Any],
    extra: list[Any],
    minimum: int | None = None,
    skip: bool = False,
    tables: Any = (),
) -> Case:
    bot = d.wallet(tokens={mint: 10**12, **{d.other(p, mint): 1 for p in pools[:1]}})
    # every token the path goes through has an account
    m = mint
    for p in pools:
        m = d.other(p, m)
        d.chain.fund([str(bot.pubkey()), m, 1])
    me = str(bot.pubkey())
    if tables == "own":  # a table of the swaps' accounts (made before quoting: it lands a slot)
        probe = d.cycle_ixs(bot, pools, mint, amount, 1)
        named = {str(m.pubkey) for ix in probe for m in ix.accounts if not m.is_signer}
        tables = [d.table(sorted(named - {str(ix.program_id) for ix in probe}))]
    outs = d.quote_path(pools, mint, amount)
    ins = [amount, *outs[:-1]]
    ixs = d.cycle_ixs(bot, pools, mint, amount, amount if minimum is None else minimum)
    sig = d.send(bot, [*budget, *ixs, *[x(me) for x in extra]], skip_preflight=skip, tables=tables)
    d.land()
    return Case(d.rpc(sig), pools, ins, outs, me)


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    d = Desk(3)
    out: dict[str, Case] = {}
    tip = [lambda me: I.transfer(me, TIP, 12_345)]
    budget = [I.set_compute_unit_limit(400_000), I.set_compute_unit_price(5_000)]
    # a 2-hop WSOL arbitrage across AMM v4 and Whirlpool, tipped, with a compute budget
    a, b = d.pair(WSOL)
    x = d.other(a, WSOL)
    d.dislocate(a, x, 0.2)
    out["two_hop"] = _cycle(d, [a, b], WSOL, 10**8, budget, tip)
    # a 3-hop USDC arbitrage across three venues (DLMM among them), a price and no limit
    tri = list(d.triangle(USDC, ("dlmm",)))
    if tri[0].kind == "dlmm":  # the same cycle the other way round: a curve pool first
        tri = tri[::-1]
    d.dislocate(tri[0], d.other(tri[0], USDC), 0.1)
    assert d.quote_path(tri, USDC, 10**7)[-1] > 10**7
    out["three_hop"] = _cycle(
        d, tri, USDC, 10**7, [I.set_compute_unit_price(1_000)], [], tables="own"
    )
    out["three_hop"].result["dlmm_events"] = [
        DLsim.swap_events(p, out["three_hop"].signer) for p in tri if p.kind == "dlmm"
    ]
    # a failed arbitrage: the last hop's minimum is out of reach (slippage), landed anyway
    out["failed"] = _cycle(d, [a, b], WSOL, 10**7, budget, tip, minimum=10**15, skip=True)
    # a route that does not close (WSOL -> X -> Y), through a lookup table
    p1 = a
    p2 = next(
        p for p in d.pools() if x in (p.mint_a, p.mint_b) and WSOL not in (p.mint_a, p.mint_b)
    )
    table = d.table([p1.address, p1.vault_a, p1.vault_b, p2.address, p2.vault_a, p2.vault_b])
    out["route"] = _cycle(d, [p1, p2], WSOL, 10**7, [], [], minimum=1, tables=[table])
    # a round trip on quiet pools: a cycle without gain
    out["no_gain"] = _cycle(d, [b, b], WSOL, 10**7, [], [], minimum=1)
    # one swap; and a transfer (no swap at all)
    one = d.wallet(tokens={WSOL: 10**10, x: 1})
    sig = d.send(one, [d.swap_ix(one, b, WSOL, 10**7, 1)])
    d.land()
    out["swap"] = Case(d.rpc(sig), [b], [10**7], [], str(one.pubkey()))
    sig = d.send(one, [I.transfer(str(one.pubkey()), TIP, 5_000)])
    d.land()
    out["none"] = Case(d.rpc(sig), [], [], [], str(one.pubkey()))
    return out


def _check_money(r: RivalTx, v: TxView) -> None:
    """The fee fields and the profit convention, from the transaction's own numbers."""
    assert r.fee == v.fee == r.base_fee + r.priority_fee
    assert r.priority_fee == -(-r.cu_price * r.cu_limit // 1_000_000)
    if r.base_mint == WSOL:
        signer = v.post_lamports[0] - v.pre_lamports[0]
        wsol = [
            t.account
            for t in (*v.pre_tokens, *v.post_tokens)
            if t.mint == WSOL and t.owner == v.signer
        ]
        signer += sum(v.post_lamports[i] - v.pre_lamports[i] for i in set(wsol))
        assert r.net == signer and r.profit == signer + r.fee + r.tip
    elif r.base_mint is not None:
        pre = sum(t.amount for t in v.pre_tokens if t.mint == r.base_mint and t.owner == v.signer)
        post = sum(t.amount for t in v.post_tokens if t.mint == r.base_mint and t.owner == v.signer)
        assert r.profit == r.net == post - pre


def _check_legs(r: RivalTx, c: Case, sources: tuple[str, ...] = ("event",)) -> None:
    assert [leg.pool for leg in r.legs] == [p.address for p in c.pools]
    assert [leg.venue for leg in r.legs] == [by_kind(p.kind).name for p in c.pools]
    assert [leg.amount_in for leg in r.legs] == c.ins
    assert [leg.amount_out for leg in r.legs] == c.outs
    assert all(leg.source in sources for leg in r.legs), [leg.source for leg in r.legs]
    for leg, nxt in zip(r.legs, r.legs[1:]):
        assert leg.mint_out == nxt.mint_in


# ------------------------------------------------------------------ the kinds
def test_a_two_hop_wsol_arbitrage_across_two_venues_tipped(cases: dict[str, Case]) -> None:
    c = cases["two_hop"]
    v = c.view
    r = classify(v)
    assert (r.kind, r.base_mint, r.signer, r.failed) == ("arbitrage", WSOL, c.signer, False)
    _check_legs(r, c)
    assert r.path == (WSOL, r.legs[0].mint_out, WSOL) and r.venues == (
        "raydium_amm_v4",
        "orca_whirlpool",
    )
    assert (r.tip, r.tip_account) == (12_345, TIP)
    assert (r.cu_limit, r.cu_price, r.priority_fee, r.base_fee) == (400_000, 5_000, 2_000, 5_000)
    assert r.profit == c.outs[-1] - c.ins[0] > 0  # the cycle's gain, before the fee and the tip
    assert r.net == r.profit - r.fee - r.tip
    _check_money(r, v)
    assert (r.signature, r.slot, r.index) == (v.signature, v.slot, None)


def test_a_three_hop_arbitrage_in_a_token_across_three_venues(cases: dict[str, Case]) -> None:
    c = cases["three_hop"]
    r = classify(c.view)
    assert (r.kind, r.base_mint) == ("arbitrage", USDC)
    assert len({leg.venue for leg in r.legs}) == 3
    # CP-Swap's SwapEvent line, PumpSwap's and DLMM's self-CPI events: every hop's own
    _check_legs(r, c)
    assert r.profit == r.net == c.outs[-1] - c.ins[0] > 0
    # no compute-unit limit: Agave's default, 200,000 per program's instruction and 3,000
    # per builtin's (the compute-budget instruction itself)
    assert (r.cu_limit, r.cu_price) == (3 * 200_000 + 3_000, 1_000)
    assert r.priority_fee == 603 and (r.tip, r.tip_account) == (0, None)
    _check_money(r, c.view)


def test_dlmm_self_cpi_events_give_the_amounts_the_balances_gave(cases: dict[str, Case]) -> None:
    """A node that kept no inner instructions: the DLMM hop's amounts come from the
    balances. The chain's: from DLMM's two self-CPI events (``Swap``, ``Swap2Evt``, the
    instructions its program emits), the same amounts; the events alone (no transfers
    beside them) give them too."""
    c = cases["three_hop"]
    result = {k: v for k, v in c.result.items() if k != "dlmm_events"}
    plain = classify(TxView.from_rpc_json(without_inner(result)))
    dlmm = next(leg for leg in plain.legs if leg.venue == "meteora_dlmm")
    assert dlmm.source == "balances" and plain.kind == "arbitrage"
    assert [leg.amount_in for leg in plain.legs] == c.ins
    assert [leg.amount_out for leg in plain.legs] == c.outs
    swap, swap2 = c.result["dlmm_events"][0]
    program = by_kind("dlmm").program
    v = TxView.from_rpc_json(result)
    emitted = [
        ix.data
        for ix in v.instructions
        if ix.outer == dlmm.outer and ix.inner and ix.data[:8] == R.EVENT_IX_TAG
    ]
    assert emitted == [swap, swap2]  # what the chain recorded is the program's events
    reshaped = with_inner(
        without_inner(result),
        dlmm.outer,
        [(program, [event_authority()], swap, 2), (program, [event_authority()], swap2, 2)],
    )
    for r in (classify(v), classify(TxView.from_rpc_json(reshaped))):
        got = next(leg for leg in r.legs if leg.venue == "meteora_dlmm")
        assert got.source == "event" and len(r.legs) == 3  # the event instructions are no swaps
        assert (got.amount_in, got.amount_out) == (dlmm.amount_in, dlmm.amount_out)
        assert r.kind == "arbitrage"


def test_a_failed_arbitrage_counts_its_fee_and_no_tip(cases: dict[str, Case]) -> None:
    c = cases["failed"]
    v = c.view
    r = classify(v)
    assert v.err == {"InstructionError": [3, {"Custom": by_kind(c.pools[1].kind).slippage_error}]}
    assert (r.kind, r.failed, r.base_mint) == ("failed_arbitrage", True, WSOL)
    assert [leg.source for leg in r.legs] == ["instruction", "instruction"]
    assert r.legs[0].amount_in == 10**7 and all(leg.amount_out is None for leg in r.legs)
    assert (r.tip, r.tip_account) == (0, None)  # its transfer was undone
    assert r.net == -r.fee and r.profit == 0
    _check_money(r, v)


def test_a_route_that_does_not_close_through_a_lookup_table(cases: dict[str, Case]) -> None:
    c = cases["route"]
    v = c.view
    assert v.loaded != (0, 0)
    r = classify(v)
    assert r.kind == "route" and r.base_mint == WSOL
    _check_legs(r, c)
    assert r.path[0] != r.path[-1]
    _check_money(r, v)


@pytest.mark.parametrize(("name", "kind"), [("route", "route"), ("two_hop", "arbitrage")])
def test_an_aggregators_route_is_found_in_its_cpis(
    cases: dict[str, Case], name: str, kind: str
) -> None:
    """The swaps (and the tip) run by CPI from one outer instruction of an aggregator:
    a route that does not close (its keys partly from a lookup table), an arbitrage."""
    c = cases[name]
    n = len(c.result["transaction"]["message"]["instructions"])
    first = n - len(c.pools) - (name == "two_hop")  # the tip is the two-hop's last one
    wrapped = under_aggregator(c.result, AGGREGATOR, list(range(first, n)))
    v = TxView.from_rpc_json(wrapped)
    assert v.program_of(v.outer_instructions()[first]) == AGGREGATOR
    r = classify(v)
    assert all(v.instructions[leg.position].inner for leg in r.legs)
    assert {leg.outer for leg in r.legs} == {first}
    assert r.kind == kind
    _check_legs(r, c)
    plain = classify(c.view)
    assert (r.profit, r.tip, r.tip_account) == (plain.profit, plain.tip, plain.tip_account)
    if name == "two_hop":
        assert (r.tip, r.tip_account) == (12_345, TIP)  # an inner transfer to a tip account


def test_a_cycle_without_gain_is_a_route(cases: dict[str, Case]) -> None:
    """There and back through one pool: the fee is lost. (The second hop's quote was on
    the pool before the first: its amount is checked against the balances instead.)"""
    r = classify(cases["no_gain"].view)
    assert r.kind == "route" and r.path[0] == r.path[-1] == WSOL
    assert r.profit is not None and r.profit < 0
    assert r.legs[0].amount_out == cases["no_gain"].outs[0]
    assert r.profit == r.legs[1].amount_out - r.legs[0].amount_in
    _check_money(r, cases["no_gain"].view)


def test_one_swap_is_a_swap_and_a_transfer_is_none(cases: dict[str, Case]) -> None:
    r = classify(cases["swap"].view)
    assert r.kind == "swap" and len(r.legs) == 1 and r.legs[0].amount_in == 10**7
    assert (r.profit, r.net) == (-(10**7), -(10**7) - r.fee)  # WSOL: the fee added back
    n = classify(cases["none"].view)
    assert (n.kind, n.legs, n.base_mint, n.profit) == ("none", (), None, None)
    assert n.tip == 5_000  # a tip alone is still a tip


def test_only_the_venues_given_are_read(cases: dict[str, Case]) -> None:
    v = cases["two_hop"].view
    only = [x for x in VENUES if x.name == "orca_whirlpool"]
    r = classify(v, venues=only)
    assert [leg.venue for leg in r.legs] == ["orca_whirlpool"] and r.kind == "swap"


# ------------------------------------------------------------------ what is odd
def test_truncated_or_disagreeing_logs_leave_the_other_sources(cases: dict[str, Case]) -> None:
    """No event past a truncation, or once the log's invokes disagree with the
    instructions: the amounts come from the swaps' transfers (the chain's inner
    instructions), or from the balances on a node that kept none; the same amounts."""
    c = cases["two_hop"]
    want = classify(c.view)
    assert [leg.source for leg in want.legs] == ["event", "event"]
    amounts = [(x.amount_in, x.amount_out) for x in want.legs]
    logs = c.result["meta"]["logMessages"]
    cut = copy.deepcopy(c.result)
    cut["meta"]["logMessages"] = [*logs[:4], "Log truncated"]
    wrong = copy.deepcopy(c.result)
    wrong["meta"]["logMessages"] = [
        line.replace(I.COMPUTE_BUDGET, I.SYSTEM_PROGRAM) for line in logs
    ]
    for odd in (cut, wrong):
        for result, source in ((odd, "transfers"), (without_inner(odd), "balances")):
            r = classify(TxView.from_rpc_json(result))
            assert [leg.source for leg in r.legs] == [source, source]
            assert [(x.amount_in, x.amount_out) for x in r.legs] == amounts
            assert r.kind == want.kind and r.profit == want.profit
    none = copy.deepcopy(c.result)
    none["meta"]["logMessages"] = None
    assert classify(TxView.from_rpc_json(none)).kind == "arbitrage"
    assert classify(TxView.from_rpc_json(without_inner(none))).kind == "arbitrage"


def test_a_venue_instruction_that_is_no_swap_gives_no_leg(cases: dict[str, Case]) -> None:
    """An AMM v4 instruction that is none of its swaps (four zero bytes: tag 0,
    ``Initialize``, its arguments cut short) and a Whirlpool swap short of its accounts,
    logging nothing: the decoders do not read them and no event says what they did, so
    what they moved decides. Nothing (a node that kept no inner instructions): no leg.
    What the program's initialize moves (the user's two mints into the pool's vaults, the
    LP token minted back: two mints in, none out by transfer): no leg. The swaps' own
    transfers that the chain recorded under them (one mint in, the other back): the
    swaps they were, read from those flows."""
    c = cases["two_hop"]
    want = classify(c.view)
    bad = copy.deepcopy(c.result)
    ix = bad["transaction"]["message"]["instructions"][2]
    ix["data"] = "1111"  # AMM v4, four zero bytes: no instruction it has, nor any event
    ix2 = bad["transaction"]["message"]["instructions"][3]
    ix2["accounts"] = ix2["accounts"][:3]  # a Whirlpool swap short of its accounts
    bad["meta"]["logMessages"] = []
    r = classify(TxView.from_rpc_json(without_inner(bad)))
    assert (r.kind, r.legs) == ("none", ())
    amm, leg = c.pools[0], want.legs[0]
    assert leg.user_source and leg.user_dest and leg.amount_in and leg.amount_out
    vault_in = amm.vault_a if leg.mint_in == amm.mint_a else amm.vault_b
    vault_other = amm.vault_b if vault_in == amm.vault_a else amm.vault_a
    lp_mint, lp_account, authority = _key(208), _key(209), _key(210)
    deposit = [
        (I.SPL_TOKEN, [leg.user_source, vault_in, c.signer], _transfer(leg.amount_in), 2),
        (I.SPL_TOKEN, [leg.user_dest, vault_other, c.signer], _transfer(leg.amount_out), 2),
        # MintTo (tag 7): the LP token, no transfer
        (I.SPL_TOKEN, [lp_mint, lp_account, authority], b"\x07" + _transfer(10**6)[1:], 2),
    ]
    r = classify(TxView.from_rpc_json(with_inner(without_inner(bad), 2, deposit)))
    assert (r.kind, r.legs) == ("none", ())
    r = classify(TxView.from_rpc_json(bad))
    assert [(x.venue, x.pool, x.source) for x in r.legs] == [
        (x.venue, x.pool, "transfers") for x in want.legs
    ]
    assert [(x.mint_in, x.mint_out, x.amount_in, x.amount_out) for x in r.legs] == [
        (x.mint_in, x.mint_out, x.amount_in, x.amount_out) for x in want.legs
    ]
    assert (r.kind, r.profit) == ("arbitrage", want.profit)


def test_an_event_of_another_pool_is_not_this_swaps(cases: dict[str, Case]) -> None:
    c = cases["two_hop"]
    moved = copy.deepcopy(c.result)
    keys = moved["transaction"]["message"]["accountKeys"]
    wp = moved["transaction"]["message"]["instructions"][3]
    # the Whirlpool swap now names another pool (the AMM's): its Traded event is not its
    wp["accounts"][2] = keys.index(c.pools[0].address)
    r = classify(TxView.from_rpc_json(moved))
    assert r.legs[1].source != "event"


# ------------------------------------------------------------------ properties
def _shuffled(result: dict[str, Any], seed: int) -> dict[str, Any]:
    out = copy.deepcopy(result)
    rng = random.Random(seed)
    rng.shuffle(out["meta"]["preTokenBalances"])
    rng.shuffle(out["meta"]["postTokenBalances"])
    return out


@settings(max_examples=25)
@given(
    name=st.sampled_from(["two_hop", "three_hop", "failed", "route", "no_gain", "swap"]),
    seed=st.integers(0, 2**32),
)
def test_the_order_of_token_balance_rows_changes_nothing(
    cases: dict[str, Case], name: str, seed: int
) -> None:
    result = {k: v for k, v in cases[name].result.items() if k != "dlmm_events"}
    assert classify(TxView.from_rpc_json(_shuffled(result, seed))) == classify(
        TxView.from_rpc_json(result)
    )


@settings(max_examples=40)
@given(
    name=st.sampled_from(["two_hop", "three_hop", "no_gain", "swap"]),
    delta=st.integers(-(10**9), 10**9),
)
def test_net_is_the_signers_balance_change_and_profit_the_cycles_gain(
    cases: dict[str, Case], name: str, delta: int
) -> None:
    """Moving the signer's holding of the base mint after the transaction by ``delta``
    moves ``net`` by exactly ``delta``; the profit of a cycle is what its legs brought
    back (``delta`` is a payment elsewhere: it does not move), that of a swap the
    signer's change before costs (it moves by ``delta``). Other accounts' balances
    change nothing."""
    result = {k: v for k, v in cases[name].result.items() if k != "dlmm_events"}
    before = classify(TxView.from_rpc_json(result))
    assert before.base_mint is not None and before.profit is not None
    changed = copy.deepcopy(result)
    meta = changed["meta"]
    signer = changed["transaction"]["message"]["accountKeys"][0]
    if before.base_mint == WSOL:
        if meta["postBalances"][0] + delta < 0:
            return
        meta["postBalances"][0] += delta
    else:
        row = next(
            t
            for t in meta["postTokenBalances"]
            if t["mint"] == before.base_mint and t["owner"] == signer
        )
        if int(row["uiTokenAmount"]["amount"]) + delta < 0:
            return
        row["uiTokenAmount"]["amount"] = str(int(row["uiTokenAmount"]["amount"]) + delta)
    # and a pool's vault of another mint moves: nothing of the signer's
    others = [
        t
        for t in meta["postTokenBalances"]
        if t["owner"] != signer and t["mint"] != before.base_mint
    ]
    if others:
        others[0]["uiTokenAmount"]["amount"] = str(int(others[0]["uiTokenAmount"]["amount"]) + 1)
    after = classify(TxView.from_rpc_json(changed))
    assert after.net is not None and before.net is not None and after.net == before.net + delta
    cycle = len(after.legs) >= 2 and after.path[0] == after.path[-1]
    if cycle:
        put, back = after.legs[0].amount_in, after.legs[-1].amount_out
        assert put is not None and back is not None and after.profit is not None
        assert after.profit == before.profit == back - put
        assert after.kind == ("arbitrage" if after.profit > 0 else "route")
    else:
        assert after.profit == before.profit + delta


# ------------------------------------------------------------------ fee rules
@pytest.mark.parametrize(
    ("price", "limit", "fee"),
    [
        (999_999, 1, 1),
        (1_000_000, 1, 1),
        (1_000_001, 1, 2),
        (200, 100_000, 20),
        (0, 10**6, 0),
        (2**64 - 1, 1_400_000, 2**64 - 1),
    ],
)
def test_the_priority_fee_rounds_up_as_agave_does(price: int, limit: int, fee: int) -> None:
    assert R.priority_fee(price, limit) == fee  # spec §5.3's vectors


# ------------------------------------------------------------------ forms the decoders refuse
def _transfer(amount: int) -> bytes:
    return b"\x03" + amount.to_bytes(8, "little")  # SPL Token Transfer


def _moves(leg: Any, pool: Pool, owner: str, split: bool = False) -> list[Any]:
    """The token transfers a swap makes, as a node records them under it (stack height 2):
    in from the user's source to the pool's vault (in three parts when ``split``: the pool
    and two fee accounts), out from the other vault to the user's destination."""
    vault_in = pool.vault_a if leg.mint_in == pool.mint_a else pool.vault_b
    vault_out = pool.vault_b if vault_in == pool.vault_a else pool.vault_a
    ins = [(vault_in, leg.amount_in)]
    if split:
        ins = [(vault_in, leg.amount_in - 30), (pool.address, 20), (vault_out, 10)]
    rows = [(I.SPL_TOKEN, [leg.user_source, dest, owner], _transfer(n), 2) for dest, n in ins]
    rows.append(
        (I.SPL_TOKEN, [vault_out, leg.user_dest, pool.address], _transfer(leg.amount_out), 2)
    )
    return rows


def test_swaps_the_decoders_do_not_read_are_read_from_their_events_and_transfers(
    cases: dict[str, Case],
) -> None:
    """An AMM v4 instruction its decoder does not read (``SwapBaseIn``, tag 9) and a
    Whirlpool exact-output swap: the legs come from their ``ray_log`` / ``Traded`` events,
    the mints from the transfers of the events' amounts (the chain's, and the same written
    out by hand)."""
    c = cases["two_hop"]
    want = classify(c.view)
    b58 = __import__("engine_rs").backend()
    r = copy.deepcopy(c.result)
    ixs = r["transaction"]["message"]["instructions"]
    amm = bytearray(b58.b58decode(ixs[2]["data"]))
    amm[0] = 9
    ixs[2]["data"] = b58.b58encode(bytes(amm))
    wp = bytearray(b58.b58decode(ixs[3]["data"]))
    wp[40] = 0  # amount_specified_is_input: false
    ixs[3]["data"] = b58.b58encode(bytes(wp))
    written = with_inner(r, 2, _moves(want.legs[0], c.pools[0], c.signer))
    written = with_inner(written, 3, _moves(want.legs[1], c.pools[1], c.signer))
    for result in (r, written):
        got = classify(TxView.from_rpc_json(result))
        assert got.kind == "arbitrage" and got.profit == want.profit
        assert [(x.pool, x.mint_in, x.mint_out, x.amount_in, x.amount_out) for x in got.legs] == [
            (x.pool, x.mint_in, x.mint_out, x.amount_in, x.amount_out) for x in want.legs
        ]
        assert [x.source for x in got.legs] == ["event", "event"]
        assert [(x.user_source, x.user_dest) for x in got.legs] == [
            (x.user_source, x.user_dest) for x in want.legs
        ]
    # a node that kept no transfers: the AMM v4 hop's mints are unknown (its ray_log names
    # no account), the legs do not chain, nothing is guessed
    bare = without_inner(c.result)
    bare["transaction"]["message"]["instructions"][2]["data"] = ixs[2]["data"]
    got = classify(TxView.from_rpc_json(bare))
    assert got.legs[0].mint_in is None and got.kind == "route"


def test_an_input_paid_in_parts_is_one_input(cases: dict[str, Case]) -> None:
    """A PumpSwap buy pays the pool, the protocol's fee account and the coin creator's
    from the user's quote account: the three together are the event's input."""
    c = cases["three_hop"]
    result = {k: v for k, v in c.result.items() if k != "dlmm_events"}
    want = classify(TxView.from_rpc_json(result))
    i = next(n for n, leg in enumerate(want.legs) if leg.venue == "pump_amm")
    leg = want.legs[i]
    b58 = __import__("engine_rs").backend()
    r = copy.deepcopy(result)
    ix = r["transaction"]["message"]["instructions"][leg.outer]
    ix["data"] = b58.b58encode(
        bytes(8) + b58.b58decode(ix["data"])[8:]
    )  # not sell / buy_exact_quote_in
    r = with_inner(r, leg.outer, _moves(leg, c.pools[i], c.signer, split=True))
    got = classify(TxView.from_rpc_json(r))
    g = got.legs[i]
    assert (g.source, g.mint_in, g.mint_out, g.amount_in, g.amount_out) == (
        "event",
        leg.mint_in,
        leg.mint_out,
        leg.amount_in,
        leg.amount_out,
    )
    assert got.kind == "arbitrage"


# ------------------------------------------------------------------ programs arbscope does not decode
def _key(n: int) -> str:
    return str(Pubkey.from_bytes(bytes([n]) * 32))


UNKNOWN = _key(201)  # a DEX arbscope does not decode
ROUTER = _key(202)  # a router arbscope does not know


def _run_by(result: dict[str, Any], outer: int, program: str) -> dict[str, Any]:
    """``result`` with its outer instruction ``outer`` run by ``program`` instead (its
    log lines too: the events it logs are then another program's)."""
    r = copy.deepcopy(result)
    ix = r["transaction"]["message"]["instructions"][outer]
    keys = r["transaction"]["message"]["accountKeys"]
    was = keys[ix["programIdIndex"]]
    ix["programIdIndex"] = key_index(r, program)
    r["meta"]["logMessages"] = [
        line.replace(f"Program {was} ", f"Program {program} ") for line in r["meta"]["logMessages"]
    ]
    return r


@pytest.mark.parametrize("inner", ["transfers", "nested", "none"])
def test_a_swap_by_a_program_arbscope_does_not_decode_is_read_from_its_token_flows(
    cases: dict[str, Case], inner: str
) -> None:
    """The two-hop arbitrage with its Whirlpool hop run by a program arbscope does not
    know (logging Whirlpool's ``Traded`` event, which is then not Whirlpool's): the leg
    comes from the transfers it made (the trader's input to the pool's vault, the vault's
    output back; ``nested``: each made by a vault program it calls), or, where the node
    kept no inner instructions, from the balances of the accounts it names; venue "", the
    pool the vaults' holder; the cycle still closes."""
    c = cases["two_hop"]
    want = classify(c.view)
    r = _run_by(c.result, 3, UNKNOWN)
    moves = _moves(want.legs[1], c.pools[1], c.signer)
    if inner == "transfers":  # the chain's own: the swap's two transfers under it
        kids = [ix for ix in TxView.from_rpc_json(r).instructions if ix.inner and ix.outer == 3]
        assert [ix.data[:1] for ix in kids] == [b"\x03", b"\x03"]  # SPL Token Transfers
    elif inner == "nested":
        vault = _key(207)
        rows = [
            row
            for program, accounts, data, _ in moves
            for row in ((vault, accounts[:2], b"\x01", 2), (program, accounts, data, 3))
        ]
        r = with_inner(r, 3, rows)
    else:
        r = without_inner(r)  # a node that kept no inner instructions
    got = classify(TxView.from_rpc_json(r))
    assert got.legs[0] == want.legs[0]
    leg = got.legs[1]
    source = "balances" if inner == "none" else "transfers"
    assert (leg.venue, leg.program, leg.source) == ("", UNKNOWN, source)
    assert (leg.pool, leg.mint_in, leg.mint_out, leg.amount_in, leg.amount_out) == (
        c.pools[1].address,
        want.legs[1].mint_in,
        want.legs[1].mint_out,
        c.ins[1],
        c.outs[1],
    )
    assert (leg.user_source, leg.user_dest) == (want.legs[1].user_source, want.legs[1].user_dest)
    assert len(got.legs) == 2  # the vault program's instructions are no swaps
    assert (got.kind, got.base_mint, got.profit, got.net) == (
        "arbitrage",
        WSOL,
        want.profit,
        want.net,
    )
    # and with the registry's Whirlpool left out, its program is not read at all
    only = [x for x in VENUES if x.name == "raydium_amm_v4"]
    assert classify(c.view, venues=only).venues == ("raydium_amm_v4",)


def test_a_routers_own_transfers_are_no_swap(cases: dict[str, Case]) -> None:
    """The route's two swaps run under a router arbscope does not know, which first takes
    the trader's input into an account of its own and at the end pays the output out of
    another: those two transfers look like a swap of the router's, but an instruction a
    swap ran under is a router, not a swap."""
    c = cases["route"]
    want = classify(c.view)
    n = len(c.result["transaction"]["message"]["instructions"])
    r = under_aggregator(c.result, ROUTER, list(range(n - 2, n)))
    authority, vault_in, vault_out = _key(203), _key(204), _key(205)
    first, last = want.legs[0], want.legs[-1]
    assert first.user_source and last.user_dest and first.mint_in and last.mint_out
    assert first.amount_in and last.amount_out
    moves = [
        ([first.user_source, first.mint_in, vault_in, c.signer], first.amount_in),
        ([vault_out, last.mint_out, last.user_dest, authority], last.amount_out),
    ]
    for k in (I.SPL_TOKEN, authority, vault_in, vault_out):
        key_index(r, k)  # every key first: a new one moves the loaded ones' indexes
    b58 = __import__("engine_rs").backend()
    rows = [
        {
            "programIdIndex": key_index(r, I.SPL_TOKEN),
            "accounts": [key_index(r, k) for k in accounts],
            "data": b58.b58encode(b"\x0c" + amount.to_bytes(8, "little") + b"\x06"),
            "stackHeight": 2,
        }
        for accounts, amount in moves
    ]
    group = r["meta"]["innerInstructions"][0]["instructions"]
    group[:] = [rows[0], *group, rows[1]]
    v = TxView.from_rpc_json(r)
    assert v.program_of(v.outer_instructions()[n - 2]) == ROUTER
    got = classify(v)
    assert [(x.venue, x.pool, x.amount_in, x.amount_out) for x in got.legs] == [
        (x.venue, x.pool, x.amount_in, x.amount_out) for x in want.legs
    ]
    assert got.kind == "route" and all(x.program != ROUTER for x in got.legs)
    # the router's transfers alone (its swaps gone) are read as its swap: it is then one
    alone = copy.deepcopy(r)
    alone["meta"]["innerInstructions"][0]["instructions"] = rows
    leg = classify(TxView.from_rpc_json(alone)).legs
    assert [(x.program, x.mint_in, x.mint_out, x.amount_in, x.amount_out) for x in leg] == [
        (ROUTER, first.mint_in, last.mint_out, first.amount_in, last.amount_out)
    ]


def test_the_signers_payments_elsewhere_are_paid_away_not_the_cycles(
    cases: dict[str, Case],
) -> None:
    """A lamport transfer from the signer to an account that is neither a tip account nor
    its own comes off ``net``, not off the cycle's ``profit``, and is ``paid_away``; one
    into its own WSOL account is not paid away."""
    c = cases["two_hop"]
    want = classify(c.view)
    assert want.paid_away == 0
    r = copy.deepcopy(c.result)
    other = _key(206)
    wsol = next(x.user_source for x in want.legs if x.mint_in == WSOL)
    assert wsol is not None
    for dest, lamports in ((other, 1_006_460), (wsol, 3_000)):
        i = key_index(r, dest)
        sys_index = key_index(r, I.SYSTEM_PROGRAM)
        data = (2).to_bytes(4, "little") + lamports.to_bytes(8, "little")
        b58 = __import__("engine_rs").backend()
        r["transaction"]["message"]["instructions"].append(
            {"programIdIndex": sys_index, "accounts": [0, i], "data": b58.b58encode(data)}
        )
        r["meta"]["postBalances"][0] -= lamports
        r["meta"]["postBalances"][i] += lamports
        r["meta"]["logMessages"] += [
            f"Program {I.SYSTEM_PROGRAM} invoke [1]",
            f"Program {I.SYSTEM_PROGRAM} success",
        ]
    got = classify(TxView.from_rpc_json(r))
    assert got.paid_away == 1_006_460
    assert (got.kind, got.profit) == ("arbitrage", want.profit)
    assert got.net is not None and want.net is not None and got.profit is not None
    assert got.net == want.net - 1_006_460  # the 3,000 stayed the signer's (its WSOL account)
    assert got.net == got.profit - got.fee - got.tip - got.paid_away


@settings(max_examples=60)
@given(
    name=st.sampled_from(["two_hop", "three_hop", "failed", "route"]),
    data=st.data(),
)
def test_whatever_a_view_holds_is_classified_without_raising(
    cases: dict[str, Case], name: str, data: Any
) -> None:
    """Instruction bytes and log lines mangled at random (a view checks its shape, not
    what programs wrote): classify answers, its legs' amounts are never negative."""
    v = TxView.from_rpc_json({k: x for k, x in cases[name].result.items() if k != "dlmm_events"})
    ixs = list(v.instructions)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(ixs) - 1))
        raw = data.draw(st.binary(max_size=80))
        keep = data.draw(st.integers(0, len(ixs[i].data)))
        ixs[i] = dataclasses.replace(ixs[i], data=ixs[i].data[:keep] + raw)
    logs = list(v.logs or ())
    if logs:
        cut = data.draw(st.integers(0, len(logs)))
        junk = data.draw(
            st.lists(
                st.sampled_from(
                    [
                        "Program log: success",
                        "Program data: AAAA",
                        "Program data: !!",
                        "Program log: ray_log: AwAA",
                        "Log truncated",
                        logs[0],
                    ]
                ),
                max_size=3,
            )
        )
        logs = logs[:cut] + junk + logs[cut:]
    r = classify(dataclasses.replace(v, instructions=tuple(ixs), logs=tuple(logs)))
    assert r.kind in R.KINDS
    for leg in r.legs:
        assert leg.source in R.SOURCES
        assert (leg.amount_in or 0) >= 0 and (leg.amount_out or 0) >= 0
