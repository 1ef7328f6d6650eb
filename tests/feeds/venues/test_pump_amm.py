"""PumpSwap in the simulator's runtime: signed ``sell`` / ``buy_exact_quote_in``
transactions against the simulated program — the engine's quote is what the user gets,
the vaults move as the program moves them (the LP fee stays, the protocol and creator
fees leave the quote vault), and the program's checks fail with the IDL's codes."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest
from solders.instruction import Instruction

import engine_rs
from feeds.sim.state import Pool
from feeds.venues import pump_amm as PA
from feeds.venues.pump_amm import sim as PAsim
from feeds.wire import instructions as I
from tests.support.chain import Market


def _pool(m: Market, creator: bool) -> Pool:
    return next(
        p
        for p in m.world.pools
        if p.kind == "pumpswap" and (p.record.coin_creator != PA.ZERO_KEY) == creator
    )


def _ix(m: Market, pool: Pool, sell: bool, amount: int, minimum: int, **bad: str) -> Instruction:
    k = replace(PA.swap_keys(pool.address, pool.record, I.SPL_TOKEN, I.SPL_TOKEN), **bad)
    base, quote = I.ata_address(m.me, pool.mint_a), I.ata_address(m.me, pool.mint_b)
    if sell:
        return PA.sell(m.me, k, base, quote, amount, minimum)
    return PA.buy_exact_quote_in(m.me, k, base, quote, amount, minimum)


def _engine_out(eng_name: str, m: Market, pool: Pool, a_to_b: bool, amount: int) -> int | None:
    """The engine's quote of the pool as its feed ingest assembles it from the world's
    accounts (the pool, vaults, GlobalConfig, FeeConfig, base mint)."""
    eng = engine_rs.load(eng_name)
    w = m.world
    g = eng.PoolGraph(base_mints=w.bases, max_hops=3)
    ing = eng.FeedIngest(g)
    ing.track_pool(pool.address, pool.kind)
    for _ in range(3):  # the pool, then what it names
        for k in ing.watched():
            ing.account(k, w.accounts[k].owner, w.accounts[k].data, w.slot)
    path = g.quote([pool.address], pool.mint_a if a_to_b else pool.mint_b, amount)
    return path[-1] if path else None


def _funded(creator: bool, sell: bool, held: int) -> tuple[Market, Pool, Instruction]:
    """A quiet market holding PumpSwap pools with and without a coin creator: the pool
    (``creator``), the wallet holding ``held`` of what it pays in (the base selling, the
    quote buying), and the instruction making its account of the other."""
    m = Market(seed=4)
    pool = _pool(m, creator)
    paid, got = (pool.mint_a, pool.mint_b) if sell else (pool.mint_b, pool.mint_a)
    m.chain.fund([m.me, paid, held])
    return m, pool, I.create_ata_idempotent(m.me, m.me, got)


def _quoted(m: Market, pool: Pool, a_to_b: bool, amount: int) -> int:
    """The engine's quote (:func:`_engine_out`), the same on both backends."""
    out = _engine_out("rust", m, pool, a_to_b, amount)
    assert out is not None and out == _engine_out("python", m, pool, a_to_b, amount)
    return out


def _amounts(r: dict[str, Any], n: int) -> list[int]:
    return [
        int.from_bytes(base64.b64decode(a["data"][0])[64:72], "little") for a in r["accounts"][:n]
    ]


@pytest.mark.parametrize("creator", [True, False])
def test_a_sell_gives_the_engine_quote_and_the_fees_leave_the_quote_vault(creator: bool) -> None:
    m, pool, create = _funded(creator, True, 10**12)
    x = pool.spec.reserve_a // 1_000
    base_r, quote_r = m.world.balance(pool.vault_a), m.world.balance(pool.vault_b)
    out = _quoted(m, pool, True, x)
    r = m.simulate(m.tx([create, _ix(m, pool, True, x, out + 1)]))
    assert r["err"] == {"InstructionError": [1, {"Custom": 6004}]}  # ExceededSlippage
    dst = I.ata_address(m.me, pool.mint_b)
    ok = m.simulate(m.tx([create, _ix(m, pool, True, x, out)]), [dst, pool.vault_a, pool.vault_b])
    assert ok["err"] is None
    got, va, vb = _amounts(ok, 3)
    gross = quote_r * x // (base_r + x)
    lp = -(-gross * pool.spec.state.bps(pool.spec)[0] // 10_000)
    assert (got, va, vb) == (out, base_r + x, quote_r - (gross - lp))


@pytest.mark.parametrize("creator", [True, False])
def test_a_buy_exact_quote_in_gives_the_engine_quote(creator: bool) -> None:
    m, pool, create = _funded(creator, False, 10**15)
    s = pool.spec.reserve_b // 1_000
    base_r = m.world.balance(pool.vault_a)
    out = _quoted(m, pool, False, s)
    r = m.simulate(m.tx([create, _ix(m, pool, False, s, out + 1)]))
    assert r["err"] == {"InstructionError": [1, {"Custom": 6040}]}  # BuySlippage...
    dst = I.ata_address(m.me, pool.mint_a)
    ok = m.simulate(m.tx([create, _ix(m, pool, False, s, out)]), [dst, pool.vault_a])
    assert ok["err"] is None
    assert _amounts(ok, 2) == [out, base_r - out]
    assert m.simulate(m.tx([create, _ix(m, pool, False, 1, 0)]))["err"] == {
        "InstructionError": [1, {"Custom": 6039}]  # BuyNotEnoughQuoteTokensToCoverFees
    }


def test_the_programs_checks() -> None:
    m = Market(seed=4)  # a quiet market holding PumpSwap pools with and without a coin creator
    pool = _pool(m, True)
    m.chain.fund([m.me, pool.mint_a, 10**12])
    m.chain.fund([m.me, pool.mint_b, 0])
    cases = [
        ({"pool_quote": pool.vault_a}, 6015),  # InvalidPoolQuoteTokenAccount
        ({"pool_base": pool.vault_b}, 6014),  # InvalidPoolBaseTokenAccount
        ({"recipient": m.me}, 6013),  # InvalidProtocolFeeRecipient
        ({"creator_vault_authority": m.me}, 2006),  # ConstraintSeeds
        ({"buyback": m.me}, 6053),  # BuybackFeeRecipientNotAuthorized
    ]
    for bad, code in cases:
        r = m.simulate(m.tx([_ix(m, pool, True, 10**6, 0, **bad)]))
        assert r["err"] == {"InstructionError": [0, {"Custom": code}]}, bad
    r = m.simulate(m.tx([_ix(m, pool, True, 0, 0)]))
    assert r["err"] == {"InstructionError": [0, {"Custom": 6001}]}  # ZeroBaseAmount


def test_the_accounts_a_swap_names_are_the_programs_pdas() -> None:
    from engine_rs.python.venues import pump_amm as pa

    assert PA.fee_config() == PA.FEE_CONFIG_ADDRESS == pa.FEE_CONFIG_ID
    assert PA.GLOBAL_CONFIG == pa.GLOBAL_CONFIG_ID
    assert PA.DISC_POOL == pa.DISC_POOL and PAsim.DISC_SELL_EVENT == pa.DISC_SELL_EVENT
    # docs/PUMP_SWAP_README.md's example pool
    assert PA.pool_address(
        0,
        "9XDYTfQKwW8sHPqnFdUreMmtmffmkHVPGTNV2e3LKxNW",
        "7LSsEoJGhLeZzGvDofTdNg7M3JttxQqGWNLo6vWMpump",
        PA.WSOL,
    ) == ("GseMAnNDvntR5uFePZ51yZBXzNSn7GdFPkfHwfr6d77J", 254)
    # the IDL's order: sell 21 accounts, buy_exact_quote_in 23 (the volume accumulators),
    # then pool-v2, the buyback fee recipient and its ATA (docs/BREAKING_FEE_RECIPIENT.md)
    m = Market(seed=4)  # a quiet market holding PumpSwap pools with and without a coin creator
    pool = _pool(m, True)
    sell = _ix(m, pool, True, 1, 1)
    buy = _ix(m, pool, False, 1, 1)
    names = [str(a.pubkey) for a in buy.accounts]
    assert (len(sell.accounts), len(buy.accounts)) == (24, 26)
    flags = [(a.is_signer, a.is_writable) for a in buy.accounts[23:]]
    assert flags == [(False, False), (False, False), (False, True)]
    assert str(buy.accounts[24].pubkey) in PA.BUYBACK_FEE_RECIPIENTS
    assert names[15:17] == [PA.event_authority(), PA.PROGRAM]
    assert names[19:23] == [
        PA.global_volume_accumulator(),
        PA.user_volume_accumulator(m.me),
        PA.FEE_CONFIG_ADDRESS,
        PA.FEE_PROGRAM,
    ]
    assert bytes(buy.data)[:8] == bytes([198, 46, 21, 82, 180, 217, 232, 112])  # the IDL's
    assert bytes(sell.data)[:8] == bytes([51, 230, 133, 164, 1, 127, 131, 173])
