"""Orca Whirlpool judged by its real binary (``whirlpool-20250911.so``, mainnet's program
of 2025-09-11, at ``whirLbM…``): random pools — price, tick spacing (splash pools
included), fee rate, protocol fee rate, positions whose edges spread over several tick
arrays — and sequences of swaps on each, from one unit to past the liquidity, both
directions, by ``swap`` (v1, SPL Token mints) and ``swap_v2`` (a pool with a Token-2022
transfer-fee mint, and SPL pools too), with the clock moving between swaps.

Each swap is built as the live executor builds it (``Judge``) and runs through the binary
and through the simulator's runtime. In every case:

- the engine's quote as a session makes it (``Judge.quote``, both backends) is the
  program's payout to the unit; "no fill" exactly when the program fills only part of
  the input (the price bound reached: the program succeeds, a cycle cannot use it); or a
  refusal when the program fails, and then the
  engine's kernel on the pool's state (both backends) fails with the program's error
  (the simulator's mapping of the kernel's error names, ``_quote_error``);
- the simulator gives the same payout or error code, leaves every account the
  transaction named byte for byte as the program leaves it (the pool, the tick arrays,
  the vaults, the wallet's accounts), logs the same ``Traded`` event, and charges the
  compute units of its model (``COMPUTE_UNITS.use`` of the steps the swap took), which
  the program's measured use is within (the model's margin; past the model's
  ``max_steps`` the swap costs at least the most it charges). Each example builds its
  pool in a new world (``clmm_pools.fresh``), so a replayed example has the same
  addresses: the program's PDA searches (its oracle's, an absent array's) cost by bump.

The real mainnet Whirlpool accounts of ``../shared/fixtures/orca/accounts/`` run through
the binary too (their mints and vaults made for them; their tick arrays as given, the
others absent), and the engine's quote of each is the program's payout.

Not compared, and why: nothing. The pools carry initialized rewards (their mints set)
whose emissions are zero, so the rewards' growths the program writes stay zero; the
program's general rule is what the simulator writes (``next_reward_growths``).
"""

from __future__ import annotations

import base64
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import engine_rs
from engine_rs import decoded as D
from feeds.sim import layouts as L
from feeds.sim.state import Account, Pool
from feeds.venues import orca_whirlpool as W
from feeds.venues.orca_whirlpool import sim as Wsim
from feeds.wire.instructions import SPL_TOKEN
from tests.support import clmm_pools as C
from tests.support.judge import PROGRAMS, Judge, programs, token_amount
from tests.support.whirlpool_pools import (
    COUNTS,
    make_pool,
    plans,
)

pytestmark = pytest.mark.judge

BACKENDS = ("rust", "python")


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    programs()
    yield Judge()


# ------------------------------------------------------------------ random pools


def v2_instruction(judge: Judge, pool: Pool, mint_in: str, amount: int) -> Any:
    """``swap_v2`` for the hop on a pool of SPL Token mints (live sends ``swap`` there)."""
    leg = judge.leg(pool, mint_in, amount)
    r = leg.record
    a_to_b = mint_in == r.token_mint_a
    arrays = W.swap_tick_arrays(pool.address, r.tick_spacing, r.tick_current_index, a_to_b)
    owner_a, owner_b = (leg.source, leg.dest) if a_to_b else (leg.dest, leg.source)
    return W.swap(
        leg.owner,
        pool.address,
        owner_a,
        r.token_vault_a,
        owner_b,
        r.token_vault_b,
        arrays,
        W.oracle(pool.address),
        amount,
        0,
        a_to_b,
        v2=((r.token_mint_a, r.token_mint_b), (SPL_TOKEN, SPL_TOKEN)),
    )


def kernel_refusal(judge: Judge, pool: Pool, a_to_b: bool, amount: int) -> dict[str, int]:
    """The program's code for the engine kernel's refusal of the swap on the pool's state
    now, by backend (the amount less the input's transfer fee, as the program swaps)."""
    s = pool.spec
    fee = pool.record.protocol_fee_rate

    def swap(eng: types.ModuleType, net: int) -> object:
        return eng.orca_whirlpool.swap(*C.curve(s), s.ticks, net, a_to_b, protocol_fee_rate=fee)

    return C.refusals(judge, pool, a_to_b, amount, swap, Wsim.SIM.program.quote_error)


def check_swap(judge: Judge, pool: Pool, a_to_b: bool, amount: int, v2: bool) -> None:
    """One swap through the binary and the simulator, compared (module docstring)."""
    mint_in = pool.mint_a if a_to_b else pool.mint_b
    quotes = {name: judge.quote(engine_rs.load(name), pool, mint_in, amount) for name in BACKENDS}
    refusal = kernel_refusal(judge, pool, a_to_b, amount)
    tick_before = pool.spec.tick_current
    ixs = [v2_instruction(judge, pool, mint_in, amount)] if v2 else None
    got = C.swap(judge, pool, mint_in, amount, ixs=ixs)
    real, sim = got.run.real, got.run.sim
    code = C.custom_code(real.err)
    assert C.custom_code(sim.err) == code, (real.logs, sim.logs)
    where = f"{pool.address} a_to_b={a_to_b} amount={amount}"
    if real.err is None and got.real_in < amount:
        # the price limit (live's: the program's bound, no explicit limit) reached before
        # the input was used: the program fills part of it and succeeds (it refuses a
        # partial fill of an exact-out swap only); the engine quotes no hop that cannot
        # take its whole input (a cycle never sends one): "no fill", on both backends
        assert got.sim_out == got.real_out and got.sim_in == got.real_in, where
        assert quotes == {"rust": "no fill", "python": "no fill"}, (where, quotes)
        COUNTS["partial fill, no quote"] += 1
    elif real.err is None:
        assert got.real_out == got.sim_out == quotes["rust"] == quotes["python"], where
        assert got.real_in == got.sim_in, where
        COUNTS["filled"] += 1
    else:
        assert not any(isinstance(q, int) for q in quotes.values()), (where, quotes, code)
        assert refusal == {"rust": code, "python": code}, (where, refusal, code)
        COUNTS[f"refused {code}"] += 1
    diffs = C.account_diffs(judge, got.run, list(real.post))
    assert diffs == {}, (where, diffs)
    for k, acc in real.post.items():  # lamports too (the fee payer's fee, rent)
        mine = judge.world.accounts.get(k)
        assert (None if acc is None else (acc.owner, acc.lamports)) == (
            None if mine is None else (mine.owner, mine.lamports)
        ), k
    assert C.program_lines(real.logs, W.PROGRAM) == C.program_lines(sim.logs, W.PROGRAM), where
    if real.err is None:
        steps = Wsim.swap_steps(pool, tick_before)
        C.check_units(W.COMPUTE_UNITS, got.run, W.PROGRAM, steps, where, COUNTS)
        crossed = len(
            Wsim.crossed_ticks(pool.spec.ticks, tick_before, pool.spec.tick_current, a_to_b)
        )
        size = W.TICK_ARRAY_SIZE * pool.spec.tick_spacing
        moved = abs(pool.spec.tick_current // size - tick_before // size)
        C.count_crossed(COUNTS, crossed)
        COUNTS["into another array"] += moved > 0
    COUNTS["swap_v2" if v2 or pool.spec.state.get("token_2022") else "swap"] += 1
    COUNTS["a_to_b" if a_to_b else "b_to_a"] += 1
    for name in BACKENDS:
        COUNTS[f"quotes {name}"] += 1


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans())
def test_random_pools_swap_as_the_program(judge: Judge, plan: dict[str, Any]) -> None:
    """Random pools and swap sequences (module docstring): the engine's quote, the
    simulator's payout, error, accounts, event and compute units are the program's."""
    pool = make_pool(C.fresh(judge), plan)
    if pool is None:
        return
    for a_to_b, amount, v2, wait in plan["swaps"]:
        for _ in range(wait):  # the clock moves on: the rewards' update time with it
            judge.world.step()
        t22 = pool.spec.state.get("token_2022")
        check_swap(judge, pool, a_to_b, C.sized(pool, a_to_b, amount), v2 and not t22)


# ------------------------------------------------------------------ mainnet's accounts
def _fixture_accounts() -> list[Path]:
    root = PROGRAMS.parent / "fixtures" / "orca" / "accounts"
    return sorted(root.glob("*/whirlpool.json")) if root.is_dir() else []


def _load(path: Path) -> tuple[str, Account]:
    d = json.loads(path.read_text())
    a = d["account"]
    return d["pubkey"], Account(a["owner"], base64.b64decode(a["data"][0]), a["lamports"])


def mainnet_pool(judge: Judge, path: Path) -> Pool:
    """A mainnet Whirlpool account (its fixture's folder: the pool and any tick arrays)
    in the judge's world, with SPL mints at its mints' addresses and vaults holding more
    than any swap here takes (what the binary needs to run a swap of it)."""
    w = judge.world
    key, acc = _load(path)
    for other in path.parent.glob("*.json"):
        k, a = _load(other)
        w.accounts[k] = a
    rec = w.eng.orca_whirlpool.decode_pool(acc.data, acc.owner)
    for mint, vault in (
        (rec.token_mint_a, rec.token_vault_a),
        (rec.token_mint_b, rec.token_vault_b),
    ):
        if mint not in w.accounts:
            w.put(mint, SPL_TOKEN, L.encode_mint(D.Mint(None, 10**18, 6, True, None)))
            w.token_programs[mint] = SPL_TOKEN
            w.decimals[mint] = 6
            w.mints.append(mint)
        w.vault(vault, mint, key, 10**17)
    arrays = [
        k
        for k, a in w.accounts.items()
        if a.owner == W.PROGRAM
        and a.data[:8] == W.DISC_FIXED_TICK_ARRAY
        and a.data[9956:9988] == bytes(w.eng.b58decode(key))
    ]
    spec = C.spec(
        rec.token_mint_a,
        rec.token_mint_b,
        rec.sqrt_price,
        rec.tick_current_index,
        rec.tick_spacing,
        rec.fee_rate,
    )
    return Pool(
        W.IDS.kind,
        key,
        rec.token_mint_a,
        rec.token_mint_b,
        rec.token_vault_a,
        rec.token_vault_b,
        rec,
        spec,
        tick_arrays=arrays,
    )


@pytest.mark.parametrize("path", _fixture_accounts(), ids=lambda p: p.parent.name)
def test_mainnet_pools_pay_the_engines_quote(path: Path) -> None:
    """Each mainnet Whirlpool fixture, swapped both ways at sizes from one unit to past
    its liquidity by the binary (``real`` only: the simulator holds no such pool): the
    engine's quote (both backends) is the payout, or a refusal when the program fails."""
    judge = Judge()
    pool = mainnet_pool(judge, path)
    for a_to_b in (True, False):
        mint_in = pool.mint_a if a_to_b else pool.mint_b
        for amount in (1, 10**3, 10**6, 10**9, 10**12, 10**15):
            quotes = {n: judge.quote(engine_rs.load(n), pool, mint_in, amount) for n in BACKENDS}
            judge.fund(mint_in, amount)
            mint_out = pool.mint_b if a_to_b else pool.mint_a
            judge.fund(mint_out, 0)
            before = judge.balance(mint_out)
            real = judge.real(judge.tx([judge.swap_ix(pool, mint_in, amount)]), commit=False)
            if real.err is None:
                paid = token_amount(real.post[judge.ata(mint_out)]) - before
                assert quotes == {"rust": paid, "python": paid}, (amount, a_to_b, real.logs)
                COUNTS["mainnet filled"] += 1
            else:
                assert not any(isinstance(q, int) for q in quotes.values()), (real.err, quotes)
                COUNTS["mainnet refused"] += 1


def test_zz_the_cases_cover_what_the_module_promises() -> None:
    """The random cases above (run first, in file order) reached what the docstring
    says: fills and refusals of each kind, both directions, both instructions, ticks
    crossed by the dozen, swaps into further arrays, both backends' quotes."""
    programs()
    print(dict(COUNTS))  # the case counts (pytest -s shows them)
    assert COUNTS["filled"] >= 50 and COUNTS["swap"] >= 20 and COUNTS["swap_v2"] >= 20
    assert COUNTS["a_to_b"] >= 20 and COUNTS["b_to_a"] >= 20
    assert COUNTS["refused 6038"] >= 3  # past the three arrays' liquidity
    assert COUNTS["max crossed"] >= 5 and COUNTS["into another array"] >= 5
    assert COUNTS["quotes rust"] == COUNTS["quotes python"] > 0
