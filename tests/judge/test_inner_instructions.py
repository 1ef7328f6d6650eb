"""The inner instructions of a swap (``meta.innerInstructions``) judged by the real
binaries: every pool of Orca Whirlpool, Raydium CP-Swap and Meteora DLMM in three
markets (SPL Token and Token-2022 mints, transfer-fee mints among them), both
directions, built as the live executor builds a hop (``Judge``), run through the binary
in LiteSVM and through the simulator's own programs. Each swap that goes through makes
the same inner instructions in both, in the same order, to the byte: the token program,
its accounts (source, mint, destination, authority: the user's signature in, the pool's
authority out), ``transfer`` or ``transfer_checked`` and its data (amount, decimals);
Whirlpool's ``swap_v2`` memo of a transfer-fee mint's fee (``TFe: <bps>, <max>``) before
that mint's transfer; DLMM's events by self-CPI (``Swap`` before the transfers and
``Swap2Evt`` after them by ``swap2``, both after them by ``swap``); stack height 2.

Not compared: a swap that fails. A real program records the inner instructions it made
before it failed (a CP-Swap transfer into a transfer-hook mint: the transfer that
failed); the simulator's programs check before they move anything and record none.
"""

from __future__ import annotations

from collections import Counter

import pytest

from feeds.sim.bank import Bank
from feeds.sim.chain import Chain
from feeds.sim.world import WorldConfig
from feeds.wire import instructions as I
from tests.support.judge import QUIET, Judge, pools_of, programs

pytestmark = pytest.mark.judge

KINDS = ("whirlpool", "cpmm", "dlmm")


@pytest.mark.parametrize("seed", [3, 7, 11])
def test_each_swaps_inner_instructions_are_the_real_programs(seed: int) -> None:
    j = Judge(WorldConfig(seed=seed, trades_per_slot=0, dislocation_rate=0.0))
    seen: Counter[str] = Counter()
    for pool in [p for p in j.world.pools if p.kind in KINDS]:
        for a_to_b in (True, False):
            mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
            amount = max(1, j.world._trade_size(pool, a_to_b, 0.0005))
            j.fund(mint_in, amount)
            j.fund(mint_out, 0)
            r = j.run(j.tx([j.swap_ix(pool, mint_in, amount)]))
            if r.real.err is not None:
                seen["failed, not compared"] += 1
                continue
            assert r.sim.err is None, (pool.kind, r.sim.err)
            assert r.sim.inner == r.real.instructions, (pool.kind, pool.address, a_to_b)
            ((at, calls),) = r.real.instructions
            assert at == 2  # after the two compute-budget instructions
            assert {c.stack_height for c in calls} == {2}
            for c in calls:
                if c.program == I.MEMO_PROGRAM:
                    seen["fee memo"] += 1
                elif c.program in I.TOKEN_PROGRAMS:
                    seen[f"{pool.kind} {'checked' if c.data[0] == 12 else 'transfer'}"] += 1
                else:
                    seen[f"{pool.kind} self-CPI event"] += 1
    print(seed, dict(seen))
    for kind in KINDS:
        assert any(k.startswith(kind) for k in seen), (kind, seen)
    assert seen["dlmm self-CPI event"] > 0


def test_a_chain_with_the_real_programs_records_the_banks_inner_instructions() -> None:
    """With the real programs as the chain's bank, a transaction the bank runs whole
    carries LiteSVM's inner instructions as they are; one it runs instruction by
    instruction (a Whirlpool swap beside an AMM v4 one, whose binary is refused) carries
    the bank's for the Whirlpool swap at that swap's index and the simulator's own for the
    AMM v4 swap."""
    j = Judge(WorldConfig(seed=7, **QUIET))  # type: ignore[arg-type]
    j.chain = Chain(j.world, accept=True, bank=Bank.from_folder(programs()))
    wp = next(iter(pools_of(j.world, "whirlpool", spl_only=True)))
    v4 = next(iter(pools_of(j.world, "amm_v4", spl_only=True)))
    for p in (wp, v4):
        j.fund(p.mint_a, 10**12)
        j.fund(p.mint_b, 10**12)
    tx = j.tx([j.swap_ix(wp, wp.mint_a, 10**6)])
    real = j.real(tx, commit=False)
    alone = j.chain.run(tx, commit=True)
    assert alone.err is None and alone.inner == real.instructions and alone.inner
    mixed = j.tx([j.swap_ix(wp, wp.mint_a, 10**6), j.swap_ix(v4, v4.mint_a, 10**6)], cu_price=1)
    out = j.chain.run(mixed, commit=True)
    assert out.err is None and j.chain.stats.mixed == 1
    assert [at for at, _ in out.inner] == [2, 3]
    wp_calls, v4_calls = (calls for _, calls in out.inner)
    assert [c.data[0] for c in wp_calls] == [3, 3]  # the binary's two SPL Token transfers
    assert wp_calls[0].accounts == (j.ata(wp.mint_a), wp.vault_a, j.me)
    assert [c.data[0] for c in v4_calls] == [3, 3]  # AMM v4 moves tokens with ``transfer``
    assert v4_calls[0].accounts == (j.ata(v4.mint_a), v4.vault_a, j.me)
    assert {c.stack_height for _, calls in out.inner for c in calls} == {2}
