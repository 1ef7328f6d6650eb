"""Meteora DLMM judged by its real binary: ``../shared/programs/lb_clmm_prod.so`` (the
SDK's production artifact, ``lb_clmm`` 0.12.0, ``LBUZKhR…``) runs arbscope's own swaps
(``swap``; ``swap2`` for a pair with a Token-2022 mint, as live builds them) beside the
simulator's program, on one world (:mod:`tests.support.judge`).

Per trade, executed or refused:

- the engine's quote, as a session makes it (a ``FeedIngest`` fed the world's accounts:
  the pair, its reserves, the bin arrays a session follows, the Clock sysvar), on both
  backends, is the program's payout to the unit; where the program refuses, the engine
  refuses too (``TicksMissingError`` for a walk past the arrays named or the pair's
  bitmap, 3005 / 6036; no fill for a swap paying nothing, 6039; one difference, named
  in :func:`trade`: a swap whose output a transfer fee takes entirely, which the program
  refuses with 6039 too, the graph quotes 0, by its transfer-fee step every venue
  shares: nothing reaches the user either way);
- the simulator's program pays the same, fails with the same error, and leaves every
  account the transaction names with the program's bytes (pair, bin arrays, oracle,
  reserves, the user's accounts, the fee payer), its own log lines and its two events
  (``Swap``, ``Swap2Evt``, emitted by self-CPI: the inner instructions' data) are the
  program's; the compute units it charges are the model's
  (:data:`feeds.venues.meteora_dlmm.COMPUTE_UNITS`), what the program used never above
  what a hop requests (the model's limit) and within the model's margin of the charge
  (a swap through dust bins, under :data:`DUST` units of input a bin, costs the program
  less, as it has no fee to credit: there the model only bounds it, between a one-bin
  swap's units and the limit).

Pairs are random (:class:`~feeds.venues.meteora_dlmm.sim.PairShape`): bin step, base factor
and power, the variable fee's parameters, protocol share, ``collect_fee_mode`` 0 and 1,
the volatility state and how long the pair has been idle, liquidity dense or with gaps
of empty bins and empty arrays, spanning up to five arrays, one unit to 10^13 a bin; SPL
Token mints or a Token-2022 one (plain, with a transfer fee, with a capped fee). Sizes go
from one unit to past the liquidity, both ways, in sequences with the clock moved on
between trades (within the filter period, into the decay window, past it) and the state
carried.

Not compared, and why: the limit-order fields of a bin (the world places no limit
orders, so no pair here holds any: the simulator does not model their bookkeeping);
transfer-hook mints (the swap would need the hook's accounts, which neither arbscope's
builder nor the simulator passes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine_rs
from feeds.sim.state import Pool
from feeds.venues import meteora_dlmm as DL
from feeds.venues.meteora_dlmm import sim as DLsim
from feeds.wire import instructions as I
from tests.support.dlmm_pairs import (
    add_pair,
    shapes,
    spl_mints,
)
from tests.support.judge import Judge, differing, token_amount

pytestmark = pytest.mark.judge

BACKENDS = ("rust", "python")
CASES: Counter[str] = Counter()  # compared outcomes, by backend and kind (the report's)
FUND = 10**19
DUST = 1_000  # units of input a bin filled, on average, under which a swap is dust


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    """One quiet market beside the real programs, the wallet funded in every mint a
    pair here trades (the hook mint's pairs are not built)."""
    j = Judge()
    for m in j.world.mints:
        if j.world.token2022.get(m) != "hook":
            j.fund(m, FUND)
    yield j


# ------------------------------------------------------------------ helpers


def session_quote(j: Judge, eng: Any, pool: Pool, mint_in: str, amount: int) -> int | str:
    """The engine's quote with the bin arrays a session follows around the active bin
    (``Venue.follow``, two arrays each way as the pool client's default)."""
    acc = j.world.accounts[pool.address]
    rec = DL.decode_pool(engine_rs.backend(), acc.data, acc.owner)
    arrays = [a for a, _ in DL.VENUE.follow(eng, pool.address, rec, 2)]  # type: ignore[misc]
    return j.quote(eng, pool, mint_in, amount, arrays)


def units_of(logs: list[str]) -> int:
    """The compute units the swap instruction consumed (its own line, after its inner
    instructions')."""
    lines = [x for x in logs if x.startswith(f"Program {DL.PROGRAM} consumed ")]
    return int(lines[-1].split()[3])


def own_lines(logs: list[str]) -> list[str]:
    """The swap instruction's own ``Program log:`` lines (not its inner invocations')."""
    depth, out = 0, []
    for line in logs:
        if line.endswith("]") and " invoke [" in line:
            depth = int(line.rsplit("[", 1)[1][:-1])
        elif line.startswith("Program ") and line.endswith((" success", "compute units")):
            if line.endswith(" success"):
                depth -= 1
        elif depth == 1 and line.startswith("Program log: "):
            out.append(line)
    return out


def trade(j: Judge, pool: Pool, a_to_b: bool, amount: int) -> bool:
    """One swap through both runtimes, everything compared (see the module doc); True
    when the program executed it."""
    mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    if j.balance(mint_in) < amount:  # the wallet never runs dry (trades here are big)
        j.fund(mint_in, amount - j.balance(mint_in))
    quotes = {n: session_quote(j, engine_rs.load(n), pool, mint_in, amount) for n in BACKENDS}
    held = j.balance(mint_out)
    r = j.run(j.tx([j.swap_ix(pool, mint_in, amount)]))
    real, sim = r.real, r.sim
    assert sim.err == real.err, (real.logs, sim.logs)
    if real.err is not None:
        code = real.err["InstructionError"][1]["Custom"]
        assert code in (3005, 6036, 6039), real.logs
        want: int | str = "TicksMissingError" if code in (3005, 6036) else "no fill"
        if code == 6039 and eaten_by_fee(j, pool, a_to_b, amount):
            want = 0  # the graph's transfer-fee step (every venue's) quotes 0, not no fill
        for n in BACKENDS:
            assert quotes[n] == want, (n, real.err)
            CASES[f"{n} refused"] += 1
        return False
    paid = token_amount(real.post[j.ata(mint_out)]) - held
    for n in BACKENDS:
        assert quotes[n] == paid, (n, quotes, paid)
        CASES[f"{n} quoted"] += 1
    assert j.balance(mint_out) - held == paid  # the simulator paid the same
    for k, acc in real.post.items():
        mine = j.world.accounts.get(k)
        assert (acc is None) == (mine is None), k
        if acc is not None and mine is not None:
            assert (acc.owner, acc.lamports) == (mine.owner, mine.lamports), k
            assert differing(acc.data, mine.data) == [], k
    assert own_lines(sim.logs) == own_lines(real.logs)
    events = [d for group in real.inner for prog, d in group if prog == DL.PROGRAM]
    assert events == list(DLsim.swap_events(pool, j.me))
    last = DLsim._market(pool).last
    assert last is not None
    charged, used = units_of(sim.logs), units_of(real.logs)
    assert charged == DL.COMPUTE_UNITS.use(last.steps)
    assert used <= DL.COMPUTE_UNITS.limit(last.steps), (used, last)  # never short
    if last.amount_in >= DUST * last.filled:
        assert abs(used - charged) <= DL.COMPUTE_UNITS.margin * charged, (used, charged, last)
    else:  # dust bins cost the program less (no fee to credit): the model bounds it
        assert used >= (1 - DL.COMPUTE_UNITS.margin) * DL.COMPUTE_UNITS.use(0), (used, last)
    CASES["simulator"] += 1
    return True


def eaten_by_fee(j: Judge, pool: Pool, a_to_b: bool, amount: int) -> bool:
    """Whether the pair pays out but the output mint's transfer fee takes all of it (the
    program refuses that too, 6039: nothing would reach the user)."""
    mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    q = j.world.eng.meteora_dlmm.swap(
        j.world.accounts[pool.address].data,
        [j.world.accounts[a].data for a in pool.tick_arrays],
        amount - j.world.transfer_fee(mint_in, amount),
        a_to_b,
        j.world.unix_time(),
        j.world.slot,
    )
    return q is not None and j.world.transfer_fee(mint_out, q.amount_out) >= q.amount_out


def dense(active: int, below: int, above: int, amount: int) -> dict[int, tuple[int, int]]:
    """Y in ``below`` bins under the active one, X in ``above`` over it, both in it."""
    return {
        b: (amount if b >= active else 0, amount if b <= active else 0)
        for b in range(active - below, active + above + 1)
    }


# ------------------------------------------------------------------ the world's pairs
def test_the_worlds_pairs_sign_for_their_reserves_and_trade_as_the_program(
    judge: Judge,
) -> None:
    """The pairs the simulated market creates: their seeds give their address (the
    program signs its reserves' transfers with them), their oracle is the program's,
    and trades of every size through them, with the clock moved on, are the program's."""
    j = judge
    pools = [p for p in j.world.pools if p.kind == DL.IDS.kind]
    assert pools
    eng = engine_rs.backend()
    for pool in pools:
        rec = pool.record
        lo, hi = sorted(eng.b58decode(m) for m in (rec.token_x_mint, rec.token_y_mint))
        assert rec.require_base_factor_seed == 1
        seeds = [
            lo,
            hi,
            rec.bin_step_seed.to_bytes(2, "little"),
            rec.base_factor_seed.to_bytes(2, "little"),
        ]
        assert eng.find_program_address(seeds, DL.PROGRAM) == (pool.address, rec.bump_seed)
        oracle = j.world.accounts[rec.oracle]
        assert (oracle.owner, oracle.data[:8]) == (DL.PROGRAM, DL.DISC_ORACLE)
    hooks = {m for m, role in j.world.token2022.items() if role == "hook"}
    tradable = [p for p in pools if not {p.mint_a, p.mint_b} & hooks]
    t22 = [p for p in tradable if I.TOKEN_2022 in map(j.program_of, (p.mint_a, p.mint_b))]
    assert t22, "a world pair with a Token-2022 mint (swap2)"
    for pool in [*tradable[:2], t22[0]]:
        for a_to_b, frac, wait in (
            (True, 1e-4, 0),
            (True, 0.05, 2),
            (False, 0.08, 40),
            (False, 1e-3, 5),
            (True, 0.2, 700),
            (True, 1e-3, 1),
        ):
            j.advance(wait)
            assert trade(j, pool, a_to_b, max(1, int(DLsim._depth(pool, a_to_b) * frac)))


def test_idle_pairs_quote_at_the_chains_clock(judge: Judge) -> None:
    """A pair whose last swap crossed bins, then idle: within its filter period, into
    the decay window, past it. The program prices each swap at the Clock sysvar's time
    (its volatility reference decays): so does the engine, and at the pair's
    ``last_update_timestamp`` (what it quoted at before) it would have been wrong."""
    j = judge
    x, y = spl_mints(j)[2:4]
    shape = DLsim.PairShape(10, 20, 100, dense(100, 150, 150, 10**9), variable_fee_control=40_000)
    pool = add_pair(j, shape, x, y)
    stale = 0
    for a_to_b, bins, wait in (
        (True, 12.5, 0),
        (False, 2.5, 10),
        (False, 2.5, 25),
        (True, 30.5, 1),
        (True, 0.5, 300),
        (False, 0.5, 10),
        (True, 9.5, 4_000),
        (False, 20.5, 45),
    ):
        j.advance(wait)
        price = DLsim._price(pool)
        amount = int(bins * 10**9 * (price if a_to_b else 1 / price))
        at_stamp = j.world.eng.meteora_dlmm.quote(
            j.world.accounts[pool.address].data,
            [j.world.accounts[a].data for a in pool.tick_arrays],
            amount,
            a_to_b,
            pool.record.last_update_timestamp,
            j.world.slot,
        )
        before = j.balance(pool.mint_b if a_to_b else pool.mint_a)
        assert trade(j, pool, a_to_b, amount)
        stale += at_stamp != j.balance(pool.mint_b if a_to_b else pool.mint_a) - before
    assert stale >= 3  # the clock mattered


def test_refusals_are_the_programs(judge: Judge) -> None:
    """One unit (pays nothing: 6039), past the pair's liquidity (the bitmap ends: the
    program asks for the bitmap extension, 6036), past the three arrays a built swap
    names (3005): the engine refuses each (no fill, TicksMissingError)."""
    j = judge
    x, y = spl_mints(j)[4:6]
    small = add_pair(j, DLsim.PairShape(25, 40, -30, dense(-30, 5, 5, 10**6)), x, y)
    for a_to_b in (True, False):
        assert not trade(j, small, a_to_b, 1)
        assert not trade(j, small, a_to_b, 10**12)
    wide = add_pair(j, DLsim.PairShape(25, 41, -30, dense(-30, 300, 300, 10**6)), x, y)
    for a_to_b in (True, False):
        assert not trade(j, wide, a_to_b, 10**12)


# ------------------------------------------------------------------ random pairs


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(drawn=shapes(), data=st.data())
def test_random_pairs_trade_as_the_program(
    judge: Judge, drawn: tuple[DLsim.PairShape, str], data: st.DataObject
) -> None:
    j = judge
    shape, role = drawn
    x, y = spl_mints(j)[:2]
    if role:
        t22 = next(m for m, r in j.world.token2022.items() if r == role)
        x, y = (t22, y) if data.draw(st.booleans(), "t22 is x") else (x, t22)
    pool = add_pair(j, shape, x, y)
    for _ in range(data.draw(st.integers(1, 3), "trades")):
        a_to_b = data.draw(st.booleans(), "a_to_b")
        depth = max(1.0, DLsim._depth(pool, a_to_b))
        frac = data.draw(st.sampled_from([0.0, 1e-6, 1e-3, 0.05, 0.3, 0.9, 1.5]), "frac")
        amount = max(1, min(2**63, int(depth * frac)))
        if frac == 0.0:
            amount = data.draw(st.integers(1, 1_000), "dust")
        trade(j, pool, a_to_b, amount)
        j.advance(data.draw(st.sampled_from([0, 1, 20, 60, 700, 90_000]), "wait"))
