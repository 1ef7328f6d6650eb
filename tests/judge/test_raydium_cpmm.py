"""Raydium CP-Swap judged by its real binary (``raydium_cp_swap-20260417.so`` at
``CPMMoo8…``: today's program, with creator fees and the permission PDA, code of 2025-08 or
later): the hop live builds (``swap_base_input``,
:func:`feeds.venues.raydium_cpmm.swap_instruction`) run through the program in LiteSVM
and through the simulator's runtime, quoted by the engine on both backends as a session
quotes it.

Random pools (reserves, held protocol, fund and creator fees, the ``AmmConfig``'s trade,
protocol, fund and creator fee rates, the pool's ``enable_creator_fee`` and
``creator_fee_on``: on both tokens, token 0 only, token 1 only), on SPL Token mints and on
Token-2022 mints (a transfer-fee mint whose cap binds above 0.5 token, a plain one), sizes
from one unit to ten times the pool's depth, both directions, a minimum at the quote or
one above it, sequences of trades with the state carried (after each trade the world
takes the state the program left: ``Judge.adopt``), the clock held or moved between
trades (within the observation's 15 s, where today's program adds to the last
observation in place, and past it). Each trade: the engine's quote (Rust and Python) ==
the program's payout == the simulator's; the same error code; the bytes the program
left in every account the transaction names (the pool with its owed fees, the
observation, the vaults, the user's accounts) == the simulator's; its 170-byte
``SwapEvent`` (the trade fee, the creator fee and its side); its compute units within
:data:`~feeds.venues.raydium_cpmm.VENUE`'s ``compute_units`` model.

What this binary found, fixed at the cause: the engine and the simulator charged no
creator fee (a pool charging one was over-quoted: a live order would have been refused on
its minimum); a swap whose fees come off the input with no fee at all (trade and creator
rates 0) is refused by the program, ``ZeroTradingTokens`` (6006: ``split_creator_fee``
divides by the rates' sum), where the simulator paid and the engine quoted it.

**The older binary** (``raydium_cp_swap.so``, 2025-02, before creator fees) keeps a test
of its own (:func:`test_the_older_binary_had_no_creator_fee`): on a pool charging no
creator fee it pays what today's program pays and logs the 89-byte event today's begins
with; a creator fee is padding to it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine_rs import decoded as D
from feeds.sim.state import Pool, sim_key
from feeds.sim.token import TRANSFER_HOOK_INCORRECT_ACCOUNT
from feeds.venues import raydium_cpmm as CP
from feeds.venues.raydium_cpmm import sim as CPsim
from feeds.wire import instructions as I
from tests.support.judge import (
    Judge,
    amount_of,
    backends,
    consumed,
    counts_report,
    program_data,
    run_hop,
    same_accounts,
    swaps,
    token_amount,
    units_by_steps,
    units_off,
)

pytestmark = pytest.mark.judge

OLD_EVENT_LEN = 8 + 32 + 6 * 8 + 1  # the older binary's SwapEvent, discriminator included
FIT = 0.05  # the compute-unit model's use within 5 % of every swap the program ran
COUNTS: Counter[str] = Counter()  # cases compared, by kind and backend (the report's)
# every swap the program ran: (steps, units the program used, units charged)
UNITS: list[tuple[int, int, int]] = []
_SERIAL = itertools.count()


def judge(builds: str = "newest") -> Judge:
    """A new judge for each example (its world and bank): an example replayed starts
    where it first did (one judge shared across examples made each depend on those
    before it: irreproducible, which Hypothesis reports as flaky)."""
    return Judge(builds=builds)


_report = counts_report("CP-Swap", COUNTS)


def cpmm_pool(j: Judge, mints: str) -> Pool:
    """A CP-Swap pool of the world whose mints are ``spl`` (both SPL Token's),
    ``fee_capped`` or ``plain`` (one a Token-2022 mint of that role) or ``hook``."""
    w = j.world
    for p in w.pools:
        if p.kind != "cpmm":
            continue
        roles = {w.token2022.get(m) for m in (p.mint_a, p.mint_b)} - {None}
        if (mints == "spl" and not roles) or roles == {mints}:
            return p
    raise LookupError(mints)


@dataclass(frozen=True)
class Shape:
    """A pool's state as an example draws it: reserves, the fees its vaults hold beyond
    them (protocol, fund; per token), the config's rates (per 1e6)."""

    reserve_a: int
    reserve_b: int
    protocol_a: int
    protocol_b: int
    fund_a: int
    fund_b: int
    trade_fee_rate: int
    protocol_fee_rate: int
    fund_fee_rate: int
    creator_fee_rate: int
    creator_fee_on: int
    enable_creator_fee: bool = False
    creator_a: int = 0  # creator fees the vaults hold
    creator_b: int = 0


@st.composite
def shapes(draw: Any) -> Shape:
    reserve = st.integers(10, 10**17)
    held = st.integers(0, 10**12)
    protocol = draw(st.sampled_from([0, 1, 120_000, 250_000, 1_000_000]))
    fund = draw(st.integers(0, 1_000_000 - protocol))
    trade = draw(st.sampled_from([0, 1, 100, 2_500, 3_000, 10_000, 40_000, 999_999]))
    return Shape(
        draw(reserve),
        draw(reserve),
        draw(held),
        draw(held),
        draw(held),
        draw(held),
        trade,
        protocol,
        fund,
        # a config's trade and creator rates sum under 100 % (``create_amm_config``
        # asserts it; the engine refuses such a pool as InvalidInput)
        draw(st.sampled_from([r for r in (0, 0, 1, 2_500, 10_000, 100_000) if trade + r < 10**6])),
        draw(st.integers(0, 2)),
        draw(st.booleans()),
        draw(held),
        draw(held),
    )


def shape(j: Judge, pool: Pool, s: Shape) -> None:
    """Make ``pool`` the drawn one in the world: a new ``AmmConfig`` it names, its held
    fees, its vaults, a fresh observation; the simulator's view of it (reserves, fee,
    what the vaults hold beyond them) to match."""
    w = j.world
    n = next(_SERIAL)
    config = sim_key("judge-cpmm-config", n)
    cfg = D.RaydiumAmmConfig(
        254,
        False,
        n % 65_536,
        s.trade_fee_rate,
        s.protocol_fee_rate,
        s.fund_fee_rate,
        0,
        sim_key("owner", 0),
        sim_key("owner", 1),
        s.creator_fee_rate,
    )
    w.put(config, CP.PROGRAM, CPsim.encode_amm_config(cfg))
    rec = replace(
        pool.record,
        amm_config=config,
        status=0,
        open_time=0,
        protocol_fees_token_0=s.protocol_a,
        protocol_fees_token_1=s.protocol_b,
        fund_fees_token_0=s.fund_a,
        fund_fees_token_1=s.fund_b,
        creator_fee_on=s.creator_fee_on,
        enable_creator_fee=s.enable_creator_fee,
        creator_fees_token_0=s.creator_a,
        creator_fees_token_1=s.creator_b,
    )
    w.accounts[pool.address].data = CPsim.encode_pool(rec, w.accounts[pool.address].data)
    w.accounts[rec.observation_key].data = CPsim.encode_observation(pool.address)
    pool.record = rec
    held_a, held_b = s.protocol_a + s.fund_a + s.creator_a, s.protocol_b + s.fund_b + s.creator_b
    for vault, amount in (
        (pool.vault_a, s.reserve_a + held_a),
        (pool.vault_b, s.reserve_b + held_b),
    ):
        w.move_tokens(vault, amount - w.balance(vault))
    pool.spec.reserve_a, pool.spec.reserve_b = s.reserve_a, s.reserve_b
    pool.spec.fee_num, pool.spec.fee_den = s.trade_fee_rate, 1_000_000
    pool.fees_a, pool.fees_b = held_a, held_b


def amm_creator_rate(j: Judge, pool: Pool) -> int:
    """The creator fee rate of the pool's config."""
    return int(CPsim.amm_config(j.world, pool).creator_fee_rate)


def steps(j: Judge, pool: Pool) -> int:
    """The compute-unit model's steps of a swap on ``pool``: its Token-2022 sides."""
    return sum(j.world.token_programs[m] == I.TOKEN_2022 for m in (pool.mint_a, pool.mint_b))


def trade(j: Judge, pool: Pool, a_to_b: bool, amount: int, above: bool) -> None:
    """One hop through both runtimes, compared (see the module docstring); ``above``: its
    minimum one unit above the quote (else the quote)."""
    w = j.world
    hop = run_hop(j, pool, a_to_b, amount, above, COUNTS)
    mint_in, mint_out, q, out_before, in_before, real, sim = hop
    assert real.err == sim.err, (real.err, real.logs, sim.logs)
    cu = CP.VENUE.compute_units
    if real.err is None:
        (units,) = consumed(real.logs, CP.PROGRAM)
        (charged,) = consumed(sim.logs, CP.PROGRAM)
        paid = token_amount(real.post[j.ata(mint_out)]) - out_before
        assert paid == j.balance(mint_out) - out_before == q
        assert in_before - token_amount(real.post[j.ata(mint_in)]) == amount
        COUNTS["paid"] += 1
        if pool.record.enable_creator_fee and amm_creator_rate(j, pool):
            COUNTS["paid a creator fee"] += 1
        # the bytes: every account the transaction named, as each runtime left it
        same_accounts(w, real.post)
        # the event, the inner instructions (the two transfers)
        assert program_data(real.logs, CP.PROGRAM) == program_data(sim.logs, CP.PROGRAM)
        assert sim.inner == real.instructions
        # compute units: the simulator charges the model's use; the program stays within
        # the model's margin of it and under the limit a hop requests
        assert charged == cu.use(steps(j, pool))
        UNITS.append((steps(j, pool), units, charged))
        j.adopt(real)
    else:
        # nothing paid: the engine quotes nothing out (or refuses), or the minimum is above it
        assert above or q == 0 or isinstance(q, str), (q, real.err)
        COUNTS[f"error {real.err['InstructionError'][1]['Custom']}"] += 1


sizes = st.one_of(
    st.integers(1, 1_000),
    st.floats(1e-9, 10.0),  # a share of the input side's depth
)


def _amount(pool: Pool, a_to_b: bool, size: int | float) -> int:
    return amount_of(size, lambda: pool.spec.reserve_a if a_to_b else pool.spec.reserve_b)


@settings(max_examples=100)
@example(  # no fee at all, the creator's on the input: ZeroTradingTokens (6006)
    mints="fee_capped",
    pool_shape=Shape(10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    trades=[(True, 1, False, 0)],
)
@example(  # one unit out, which the capped fee mint's fee takes whole (2505)
    mints="fee_capped",
    pool_shape=Shape(10, 11, 0, 0, 0, 0, 1, 0, 0, 0, 0),
    trades=[(True, 1, False, 0)],
)
@example(  # a creator fee on token 1 only: off the output a -> b, off the input b -> a
    mints="spl",
    pool_shape=Shape(10**12, 3 * 10**12, 0, 0, 0, 0, 2_500, 120_000, 40_000, 10_000, 2, True),
    trades=[(True, 0.01, False, 0), (False, 0.01, False, 10), (True, 0.3, True, 0)],
)
@given(
    mints=st.sampled_from(["spl", "spl", "fee_capped", "plain"]),
    pool_shape=shapes(),
    trades=swaps(sizes, [0, 0, 10, 40], max_size=5),
)
def test_the_program_pays_the_engines_quote_and_writes_what_the_simulator_writes(
    mints: str, pool_shape: Shape, trades: list[tuple[bool, Any, bool, int]]
) -> None:
    """Sequences of hops on a random pool: payout, error, bytes, event and compute units
    agree with the program (the module docstring); a minimum above the quote fails on
    the program's slippage check as on the simulator's."""
    j = judge()
    pool = cpmm_pool(j, mints)
    shape(j, pool, pool_shape)
    for a_to_b, size, above, wait in trades:
        if wait:
            j.step(wait)  # 4 s: the last observation added to; 16 s: a new one
        trade(j, pool, a_to_b, _amount(pool, a_to_b, size), above)


def test_a_hooked_mint_fails_in_token_2022_after_the_programs_checks() -> None:
    """A pool with a transfer-hook mint: the engine refuses to quote it; the program and
    the simulator both fail the transfer (Token-2022's ``IncorrectAccount``, its hook's
    accounts not given), and an output of nothing fails before it (``require_gt!``)."""
    j = judge()
    pool = cpmm_pool(j, "hook")
    for a_to_b in (True, False):
        mint_in = pool.mint_a if a_to_b else pool.mint_b
        for eng in backends().values():
            assert isinstance(j.quote(eng, pool, mint_in, 10**6), str)
        for amount, code in (
            (10**7, TRANSFER_HOOK_INCORRECT_ACCOUNT),
            (1, CP.ANCHOR_REQUIRE_GT),
        ):
            j.fund(mint_in, amount)
            j.fund(pool.mint_b if a_to_b else pool.mint_a, 0)
            run = j.run(j.tx([j.swap_ix(pool, mint_in, amount)]))
            assert run.real.err == run.sim.err == {"InstructionError": [2, {"Custom": code}]}
            COUNTS[f"error {code}"] += 1


def test_the_older_binary_had_no_creator_fee() -> None:
    """The 2025-02 build (before b0b2a08, 2025-08-18, "support creator fee"), kept to say
    how the program changed: on the world's pools (no creator fee charged) it pays what
    today's program pays and logs the 89-byte ``SwapEvent`` today's 170 bytes begin with;
    on a pool charging a creator fee (``enable_creator_fee`` is padding to it) it pays
    more than today's program, which charges the fee."""
    old, new = judge("oldest"), judge()
    assert old.bank.loaded[CP.PROGRAM].path.endswith("raydium_cp_swap.so")
    for creator in (False, True):
        got = []
        for j in (old, new):
            pool = cpmm_pool(j, "spl")
            shape(j, pool, Shape(10**12, 10**12, 0, 0, 0, 0, 2_500, 0, 0, 50_000, 0, creator))
            j.fund(pool.mint_a, 10**9)
            j.fund(pool.mint_b, 0)
            before = j.balance(pool.mint_b)
            real = j.real(j.tx([j.swap_ix(pool, pool.mint_a, 10**9)]), commit=False)
            assert real.err is None
            got.append(
                (
                    token_amount(real.post[j.ata(pool.mint_b)]) - before,
                    program_data(real.logs, CP.PROGRAM),
                )
            )
        (paid_old, (event_old,)), (paid_new, (event_new,)) = got
        assert len(event_old) == OLD_EVENT_LEN and len(event_new) == OLD_EVENT_LEN + 81
        if creator:
            assert paid_old > paid_new
        else:
            assert paid_old == paid_new and event_new[:OLD_EVENT_LEN] == event_old
        COUNTS[f"older binary, creator fee {'on' if creator else 'off'}"] += 1


def test_zz_the_cases_cover_what_the_module_promises() -> None:
    """The random cases above (run first, in file order) reached what the docstring says;
    every swap's compute units (the model's fit, printed) within FIT of the model's use and
    under the limit a hop requests."""
    if not COUNTS:
        pytest.skip("the cases above did not run")
    cu = CP.VENUE.compute_units
    print(
        dict(COUNTS),
        "CP-Swap units by steps:",
        units_by_steps(UNITS),
    )
    off = units_off(UNITS, FIT, cu)
    assert not off, off[:10]
    assert COUNTS["paid"] >= 100 and COUNTS["paid a creator fee"] >= 20
    assert COUNTS["error 6006"] >= 1 and COUNTS["error 2505"] >= 1
    assert COUNTS["quote rust"] == COUNTS["quote python"] > 0
