"""Concentrated-liquidity pools built to order in a :class:`~tests.support.judge.Judge`'s
world, for the Whirlpool and Raydium CLMM differential tests: a pool of any price, tick
spacing, fee rates and positions, written by the venue module's own ``place`` (the
accounts the simulated market writes for its pools), and what one swap of it did in
the real program and in the simulator, side by side.
"""

from __future__ import annotations

import base64
import re
import types
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

import engine_rs
from engine_rs.errors import EngineError
from feeds.sim import synthetic
from feeds.sim.state import Pool
from feeds.wire.instructions import SPL_TOKEN, TOKEN_2022
from tests.support.judge import Judge, Run, differing, token_amount

_CONSUMED = re.compile(r"^Program (\w+) consumed (\d+) of \d+ compute units$")
_INVOKE = re.compile(r"^Program (\w+) invoke \[(\d+)\]$")


def fresh(judge: Judge) -> Judge:
    """``judge`` with a new quiet world (its seed's) and runtime, the same bank and
    wallet: an example starts from the same accounts every time it runs (a replayed
    example builds the same pools at the same addresses)."""
    from feeds.sim.chain import Chain
    from feeds.sim.world import World, WorldConfig
    from tests.support.judge import QUIET

    judge.world = World(WorldConfig(seed=3, **QUIET))  # type: ignore[arg-type]
    judge.chain = Chain(judge.world, accept=True)
    judge.chain.airdrop([judge.me, 100 * 10**9])
    return judge


def register(judge: Judge, pool: Pool) -> Pool:
    """Make ``pool`` one of the world's (the simulator's runtime finds it by address)."""
    judge.world.pools.append(pool)
    judge.world.by_address[pool.address] = pool
    return pool


def key_bytes(judge: Judge, key: str) -> bytes:
    return bytes(judge.world.eng.b58decode(key))


def mints(judge: Judge, kind: str) -> tuple[str, str]:
    """Two mints of the world for a pool, in byte order: ``kind`` ``spl`` (both SPL
    Token's), ``fee`` (a Token-2022 transfer-fee mint and an SPL one) or ``fee_capped``
    (a fee mint whose cap binds, and an SPL one)."""
    w = judge.world
    spl = [m for m in w.mints if w.token_programs[m] == SPL_TOKEN]
    if kind == "spl":
        pair = (spl[0], spl[1])
    else:
        t22 = next(m for m, role in w.token2022.items() if role == kind)
        assert w.token_programs[t22] == TOKEN_2022
        pair = (t22, spl[0])
    a, b = sorted(pair, key=lambda m: key_bytes(judge, m))
    return a, b


def spec(
    mint_a: str, mint_b: str, sqrt_price: int, tick: int, tick_spacing: int, fee_rate: int
) -> synthetic.PoolSpec:
    """The spec a venue's ``place`` writes a pool from."""
    return synthetic.PoolSpec(
        "",
        "clmm",
        mint_a,
        mint_b,
        sqrt_price_x64=sqrt_price,
        tick_current=tick,
        tick_spacing=tick_spacing,
        fee_rate=fee_rate,
    )


# a position's liquidity (10^3 to 10^16), a swap's amount (1 to 10^15, with noise in its
# low digits past 10^4), or a share of the input side's depth at the price (-1 to -3000:
# 0.1 % to 3x it; see `sized`)
LIQUIDITY = st.integers(12, 64).map(lambda e: int(10 ** (e / 4)))
AMOUNTS = st.tuples(st.integers(0, 150), st.integers(0, 999)).map(
    lambda t: max(1, int(10 ** (t[0] / 10)) + t[1] * (t[0] > 40))
)
DEPTH = st.integers(1, 3_000).map(lambda k: -k)


def sized(pool: Pool, a_to_b: bool, amount: int) -> int:
    """A plan's amount: as drawn, or (negative) that many thousandths of the input side's
    depth at the pool's price now (its liquidity over, or times, the square root price)."""
    if amount > 0:
        return amount
    s = pool.spec
    sqrt = s.sqrt_price_x64 / 2**64
    depth = s.liquidity / sqrt if a_to_b else s.liquidity * sqrt
    return max(1, min(1 << 62, int(depth * -amount / 1_000)))


def within_tick(venue: Any, tick: int, within: float) -> tuple[int, int]:
    """A square root price ``within`` (0 to 1) of the way through ``tick``, and the tick
    it is in, by the venue's own maths (``eng.orca_whirlpool``, ``eng.raydium_clmm``)."""
    lo_p = venue.sqrt_price_at_tick(tick)
    hi_p = venue.sqrt_price_at_tick(tick + 1)
    sqrt = lo_p + int((hi_p - lo_p - 1) * within)
    return sqrt, venue.tick_at_sqrt_price(sqrt)


def program_lines(logs: Sequence[str], program: str) -> list[str]:
    """The ``Program data:`` lines ``program`` logged at its own level (its events)."""
    out: list[str] = []
    stack: list[str] = []
    for line in logs:
        m = _INVOKE.match(line)
        if m:
            stack.append(m.group(1))
            continue
        if line.startswith(f"Program {stack[-1] if stack else ''} ") and (
            line.endswith(" success") or " failed" in line
        ):
            stack.pop()
            continue
        if line.startswith("Program data: ") and stack and stack[-1] == program:
            out.append(line)
    return out


def event_bytes(line: str) -> bytes:
    return base64.b64decode(line.removeprefix("Program data: "))


def units(logs: Sequence[str], program: str) -> int:
    """What ``program``'s top-level instruction consumed (its CPIs included)."""
    used = [
        int(m.group(2)) for line in logs if (m := _CONSUMED.match(line)) and m.group(1) == program
    ]
    return used[-1] if used else -1


def check_units(
    cu: Any,
    run: Run,
    program: str,
    steps: int,
    where: str,
    counts: Counter[str],
) -> None:
    """A filled swap's compute units: the simulator charges the model's use at its
    ``steps``; the program's use holds to the per-step model within its margin however
    many steps (past what a hop budgets, ``max_steps``, the simulator charges the model's
    most: a crossing's cost varies, the swap past the cap can cost less than the cap, as
    adjacent ticks of one array do), counted as ``past the model's steps``."""
    assert units(run.sim.logs, program) == cu.use(steps)
    used = units(run.real.logs, program)
    linear = cu.base + cu.per_step * steps
    assert abs(used - linear) <= cu.margin * linear, (where, used, steps)
    if steps > cu.max_steps:
        counts["past the model's steps"] += 1


def count_crossed(counts: Counter[str], crossed: int) -> None:
    """A swap's ticks crossed, summed and the most of one, in ``counts``."""
    counts["ticks crossed"] += crossed
    counts["max crossed"] = max(counts["max crossed"], crossed)


def curve(s: Any) -> tuple[int, int, int, int, int]:
    """A CLMM pool spec's curve as the engine kernels' ``swap`` takes it first: sqrt
    price, liquidity, current tick, spacing, fee rate."""
    return (s.sqrt_price_x64, s.liquidity, s.tick_current, s.tick_spacing, s.fee_rate)


def refusals(
    judge: Judge,
    pool: Pool,
    a_to_b: bool,
    amount: int,
    swap: Callable[[types.ModuleType, int], object],
    quote_error: Callable[[str], int],
) -> dict[str, int]:
    """The program's code for the engine kernel's refusal of the swap on the pool's
    state now, by backend; -1 where it fills. ``swap(eng, net)``: the venue's kernel swap
    of the amount less the input's transfer fee, as the program swaps it."""
    mint_in = pool.mint_a if a_to_b else pool.mint_b
    net = amount - judge.world.transfer_fee(mint_in, amount)
    out = {}
    for name in ("rust", "python"):
        try:
            swap(engine_rs.load(name), net)
        except EngineError as exc:
            out[name] = quote_error(str(exc))
        else:
            out[name] = -1  # no refusal
    return out


def custom_code(err: Any) -> Any:
    """A transaction error's custom code (or its error as it is)."""
    if isinstance(err, dict) and "InstructionError" in err:
        detail = err["InstructionError"][1]
        if isinstance(detail, dict) and "Custom" in detail:
            return detail["Custom"]
        return detail
    return err


@dataclass
class Swapped:
    """One hop through both runtimes: the wallet's balances after each, the errors."""

    run: Run
    real_out: int
    sim_out: int
    real_in: int
    sim_in: int


def swap(
    judge: Judge,
    pool: Pool,
    mint_in: str,
    amount: int,
    minimum: int = 0,
    ixs: Sequence[Any] | None = None,
) -> Swapped:
    """Fund the wallet with exactly ``amount`` of ``mint_in`` (nothing else of it), swap
    it through ``pool`` in both runtimes; the balances each left (the real program's
    from its post-state, the simulator's from the world)."""
    mint_out = pool.mint_b if mint_in == pool.mint_a else pool.mint_a
    have = judge.balance(mint_in)
    if have < 0:
        judge.fund(mint_in, 0)
        have = 0
    if have:  # empty it: the wallet holds exactly the amount
        sink = judge.ata(mint_in)
        judge.world._set_balance(sink, 0)
    judge.fund(mint_in, amount)
    if judge.balance(mint_out) < 0:
        judge.fund(mint_out, 0)
    out_before = judge.balance(mint_out)
    if ixs is None:
        ixs = [judge.swap_ix(pool, mint_in, amount, minimum)]
    tx = judge.tx(list(ixs))
    r = judge.run(tx)
    real_out = token_amount(r.real.post.get(judge.ata(mint_out))) - out_before
    real_in = amount - token_amount(r.real.post.get(judge.ata(mint_in)))
    return Swapped(
        r, real_out, judge.balance(mint_out) - out_before, real_in, amount - judge.balance(mint_in)
    )


def account_diffs(judge: Judge, run: Run, keys: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
    """The byte ranges where the real program's post-state and the world differ, by
    account (only those that differ)."""
    out = {}
    named = set(run.real.post)
    for k in keys:
        if k not in named:  # not one of the transaction's accounts
            continue
        real = run.real.post.get(k)
        sim = judge.world.accounts.get(k)
        a = b"" if real is None else real.data
        b = b"" if sim is None else sim.data
        d = [] if a == b else differing(a, b)
        if d or (real is None) != (sim is None):
            out[k] = d
    return out
