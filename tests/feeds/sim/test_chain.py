"""The simulator's transaction runtime (feeds.sim.chain) answers like a node.

Oracles: LiteSVM (solders' embedded Solana runtime, with the real SPL Token and ATA
programs) runs the same signed transactions where it can — compute budget, fees, rent,
ATA creation, transfers, blockhash and signature checks — and must agree with the
simulator; solana-py's own clients (which parse with solders) must accept every answer.
The DEX programs cannot run in LiteSVM (no program binaries here): their swaps are
checked against the engine's exact curves and the programs' own error codes.
"""

from __future__ import annotations

import base64
import itertools
import sys
from typing import Any

import aiohttp
import pytest
from solders.account import Account as SvmAccount
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from engine_rs import decoded as D
from feeds.clients.confirm import SignatureWatcher
from feeds.clients.rpc import RpcClient
from feeds.sim import layouts as L
from feeds.sim.chain import Chain, ChainError, rent_exempt
from feeds.sim.server import SimServer, default_profiles
from feeds.sim.world import World, WorldConfig
from feeds.venues import orca_whirlpool as WP
from feeds.venues import raydium_amm_v4 as V4
from feeds.venues import raydium_cpmm as CP
from feeds.wire import instructions as I
from feeds.wire.txsize import swap_tx_size
from tests.support.chain import (
    QUIET,
    Market,
    sign,
    svm_error,
    wire,
)

needs_solana = pytest.mark.skipif(sys.version_info < (3, 11), reason="solana-py needs 3.11")


def _mint_bytes() -> bytes:
    return L.encode_mint(D.Mint(None, 10**18, 6, True, None))


@pytest.mark.parametrize(
    "case",
    [
        "new-ata-and-tip",
        "existing-ata",
        "overdraw",
        "create-existing",
        "fee-example",
        "leaves-payer-rent-paying",
        "fee-leaves-payer-rent-paying",
        "unknown-blockhash",
        "price-without-limit",
        "price-without-limit-ata",
    ],
)
def test_litesvm_agrees_on_fees_rent_errors_and_the_accounts_created(case: str) -> None:
    from solders.litesvm import LiteSVM

    m = Market(lamports=0)
    svm = LiteSVM()
    payer = Keypair()
    me = str(payer.pubkey())
    mint = m.world.mints[0]
    start = {"fee-leaves-payer-rent-paying": 893_000, "leaves-payer-rent-paying": 2_000_000}
    lamports = start.get(case, 5 * 10**9)
    m.chain.airdrop([me, lamports])
    svm.airdrop(payer.pubkey(), lamports)
    tip = I.JITO_TIP_ACCOUNTS[0]
    owner_tip = Pubkey.from_string(I.JITO_TIP_PROGRAM)
    svm.set_account(Pubkey.from_string(tip), SvmAccount(10**9, b"", owner_tip, False, 0))
    svm.set_account(
        Pubkey.from_string(mint),
        SvmAccount(1_461_600, _mint_bytes(), Pubkey.from_string(I.SPL_TOKEN), False, 0),
    )
    create = I.create_ata_idempotent(me, me, mint)
    plain_create = Instruction(create.program_id, b"", create.accounts)
    pre: list[Instruction] = []
    ixs: list[Instruction] = {
        "new-ata-and-tip": [
            I.set_compute_unit_limit(100_000),
            I.set_compute_unit_price(10_000),
            create,
            I.transfer(me, tip, 5_000),
        ],
        "existing-ata": [create],
        "overdraw": [I.transfer(me, tip, 10**12)],
        "create-existing": [plain_create],
        "fee-example": [
            I.set_compute_unit_limit(300_000),
            I.set_compute_unit_price(1),
            I.transfer(me, tip, 1_000),
        ],  # spec §5.3: price 1, limit 300k -> 5001
        "leaves-payer-rent-paying": [I.transfer(me, tip, 1_500_000)],
        "fee-leaves-payer-rent-paying": [I.transfer(me, tip, 1)],
        "unknown-blockhash": [I.transfer(me, tip, 1)],
        # the default limit: 3,000 per builtin instruction, 200,000 per program's (SIMD-170)
        "price-without-limit": [
            I.set_compute_unit_price(1_000_000),
            I.transfer(me, tip, 1_000),
            I.transfer(me, tip, 1_001),
        ],
        "price-without-limit-ata": [I.set_compute_unit_price(1_000_001), create],
    }[case]
    if case in ("existing-ata", "create-existing"):
        pre = [I.set_compute_unit_price(7), create]  # not the same transaction (signature)
    results = []
    for run in ("svm", "sim"):
        if pre:  # make the ATA exist first, on both
            if run == "svm":
                svm.send_transaction(sign(payer, pre, svm.latest_blockhash()))
            else:
                m.chain.send(
                    [wire(sign(payer, pre, m.chain.latest_blockhash()[0])), {"encoding": "base64"}]
                )
                m.world.step()
        bh: Any = Hash.new_unique() if case == "unknown-blockhash" else None
        if run == "svm":
            before = svm.get_balance(payer.pubkey()) or 0
            r = svm.send_transaction(sign(payer, ixs, bh or svm.latest_blockhash()))
            err = svm_error(r.err()) if hasattr(r, "err") else None
            ata = svm.get_account(Pubkey.from_string(I.ata_address(me, mint)))
            got = (
                err,
                before - (svm.get_balance(payer.pubkey()) or 0),
                None if ata is None else (bytes(ata.data), ata.lamports, str(ata.owner)),
                (svm.get_balance(Pubkey.from_string(tip)) or 0) - 10**9,
            )
        else:
            before = m.world.lamports(me)
            tx = sign(payer, ixs, bh or m.chain.latest_blockhash()[0])
            o = m.chain.run(tx, commit=True)
            acc = m.world.accounts.get(I.ata_address(me, mint))
            got = (
                o.err,
                before - m.world.lamports(me),
                None if acc is None else (acc.data, acc.lamports, acc.owner),
                m.world.lamports(tip) - 10**9,
            )
        results.append(got)
    assert results[0] == results[1], case
    if case == "new-ata-and-tip":  # 5,000 + ceil(10,000 x 100,000 / 1e6) + rent + tip
        assert results[1][1] == 5_000 + 1_000 + rent_exempt(165) + 5_000
    if case == "fee-example":
        assert results[1][1] == 5_001 + 1_000


# ------------------------------------------------------------------ the DEX programs
@pytest.mark.parametrize("kind", ["amm_v4", "cpmm", "whirlpool"])
def test_a_swap_pays_exactly_the_engine_quote_and_the_minimum_is_enforced(kind: str) -> None:
    m = Market()
    pool = m.pool(kind)
    m.chain.fund([m.me, pool.mint_a, 10**12])
    amount = 10**6
    q = m.world.quote_swap(pool, True, amount)
    assert q is not None
    create = I.create_ata_idempotent(m.me, m.me, pool.mint_b)
    dst = I.ata_address(m.me, pool.mint_b)
    tooth = m.simulate(m.tx([create, m.swap_ix(pool, True, amount, q.out + 1)]))
    code = {"amm_v4": 30, "cpmm": 6005, "whirlpool": 6036}[kind]  # ExceededSlippage et al.
    assert tooth["err"] == {"InstructionError": [1, {"Custom": code}]}
    assert f"custom program error: 0x{code:x}" in tooth["logs"][-1]
    ok = m.simulate(m.tx([create, m.swap_ix(pool, True, amount, q.out)]), [dst, pool.vault_b])
    assert ok["err"] is None and ok["unitsConsumed"] > 0
    after = [base64.b64decode(a["data"][0]) for a in ok["accounts"]]
    assert int.from_bytes(after[0][64:72], "little") == q.out
    assert int.from_bytes(after[1][64:72], "little") == m.world.balance(pool.vault_b) - q.out
    assert m.balance(dst) == -1, "a simulation changes nothing"


@pytest.mark.parametrize(("kind", "code"), [("amm_v4", 40), ("cpmm", 1), ("whirlpool", 1)])
def test_too_few_tokens_fail_with_the_programs_code(kind: str, code: int) -> None:
    m = Market()
    pool = m.pool(kind)
    m.chain.fund([m.me, pool.mint_a, 999])
    m.chain.fund([m.me, pool.mint_b, 0])
    r = m.simulate(m.tx([m.swap_ix(pool, True, 1_000_000, 0)]))
    assert r["err"] == {"InstructionError": [0, {"Custom": code}]}


def test_whirlpool_swap_with_the_wrong_tick_arrays_is_refused() -> None:
    m = Market()
    pool = m.pool("whirlpool")
    m.chain.fund([m.me, pool.mint_a, 10**12])
    m.chain.fund([m.me, pool.mint_b, 0])
    ix = m.swap_ix(pool, True, 10**6, 0)
    accs = list(ix.accounts)
    accs[7], accs[8] = accs[8], accs[7]  # tick arrays out of order
    bad = Instruction(ix.program_id, bytes(ix.data), accs)
    r = m.simulate(m.tx([bad]))
    assert r["err"] == {"InstructionError": [0, {"Custom": 6023}]}  # InvalidTickArraySequence


def test_a_landed_failure_pays_its_fee_and_changes_nothing_else() -> None:
    m = Market()
    pool = m.pool("amm_v4")
    m.chain.fund([m.me, pool.mint_a, 10**9])
    m.chain.fund([m.me, pool.mint_b, 0])
    q = m.world.quote_swap(pool, True, 10**6)
    assert q is not None
    reserves = (pool.spec.reserve_a, pool.spec.reserve_b)
    tx = m.tx([m.swap_ix(pool, True, 10**6, q.out + 1)])
    with pytest.raises(ChainError) as e:  # preflight refuses it
        m.chain.send([wire(tx), {"encoding": "base64", "preflightCommitment": "processed"}])
    assert e.value.code == -32002 and "0x1e" in e.value.message
    assert e.value.data["err"] == {"InstructionError": [0, {"Custom": 30}]}
    lamports = m.world.lamports(m.me)
    sig = m.chain.send([wire(tx), {"encoding": "base64", "skipPreflight": True}])
    res = m.world.step()
    assert [x.signature for x in res.landed] == [sig] and res.landed[0].err is not None
    assert lamports - m.world.lamports(m.me) == 5_000
    assert (pool.spec.reserve_a, pool.spec.reserve_b) == reserves
    assert m.balance(I.ata_address(m.me, pool.mint_a)) == 10**9
    st = m.chain.signature_statuses([[sig]], root=m.world.slot - 32)[0]
    assert st is not None and st["err"] == {"InstructionError": [0, {"Custom": 30}]}


def test_expired_blockhash_bad_signature_and_the_fee_payer_are_checked_first() -> None:
    m = Market()
    pool = m.pool("amm_v4")
    m.chain.fund([m.me, pool.mint_a, 10**9])
    old = m.tx([I.transfer(m.me, I.JITO_TIP_ACCOUNTS[0], 1)])
    for _ in range(151):
        m.world.step()
    assert m.simulate(old)["err"] == "BlockhashNotFound"
    with pytest.raises(ChainError) as e:  # (at finalized, 32 slots back, it is not old yet)
        m.chain.send([wire(old), {"encoding": "base64", "preflightCommitment": "processed"}])
    assert e.value.code == -32002 and "Blockhash not found" in e.value.message
    tx = m.tx([I.transfer(m.me, I.JITO_TIP_ACCOUNTS[0], 1)])
    raw = bytearray(bytes(tx))
    raw[1 + 10] ^= 0xFF  # a byte of the signature
    forged = base64.b64encode(bytes(raw)).decode()
    now = {"encoding": "base64", "commitment": "processed", "preflightCommitment": "processed"}
    with pytest.raises(ChainError) as e:  # Agave 3.1: a preflight that fails (-32002)
        m.chain.send([forged, now])
    assert e.value.code == -32002 and e.value.data["err"] == "SignatureFailure"
    assert e.value.message.endswith("Transaction did not pass signature verification")
    checked = m.chain.simulate([forged, {**now, "sigVerify": True}])  # a value, not an error
    assert checked["err"] == "SignatureFailure" and checked["fee"] is None
    assert m.chain.simulate([forged, now])["err"] is None  # unsigned is fine
    nobody, poor = Keypair(), Keypair()
    m.chain.airdrop([str(poor.pubkey()), 100])
    assert m.simulate(m.tx([I.transfer(str(nobody.pubkey()), m.me, 1)], nobody))["err"] == (
        "AccountNotFound"
    )
    assert m.simulate(m.tx([I.transfer(str(poor.pubkey()), m.me, 1)], poor))["err"] == (
        "InsufficientFundsForFee"
    )
    with pytest.raises(ChainError) as e:
        m.chain.send(["not base64!", {"encoding": "base64"}])
    assert e.value.code == -32602


def test_a_simulator_not_asked_to_accept_transactions_refuses_them() -> None:
    w = World(WorldConfig(seed=2, **QUIET))  # type: ignore[arg-type]
    c = Chain(w)
    kp = Keypair()
    tx = sign(
        kp, [I.transfer(str(kp.pubkey()), str(Pubkey.new_unique()), 1)], c.latest_blockhash()[0]
    )
    for call in (c.simulate, c.send, c.send_bundle, c.airdrop, c.fund):
        with pytest.raises(ChainError) as e:
            call([wire(tx), {"encoding": "base64"}])
        assert e.value.code == -32601 and "--accept-tx" in e.value.message


# ------------------------------------------------------------------ over the wire
def _accepting(seed: int, slot_seconds: float) -> SimServer:
    """One endpoint on a quiet market (``seed``) that takes transactions."""
    return SimServer(
        WorldConfig(seed=seed, **QUIET),
        default_profiles(1),  # type: ignore[arg-type]
        slot_seconds=slot_seconds,
        accept_transactions=True,
    )


async def _post(url: str, method: str, params: list[Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s:
        async with s.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        ) as r:
            out: dict[str, Any] = await r.json()
            return out


async def test_jito_bundles_land_whole_or_not_at_all() -> None:
    async with _accepting(4, 3600) as srv:
        url = srv.infos()[0].http_url + "/api/v1/bundles"
        w, c = srv.world, srv.chain
        ticks = itertools.count()  # each request a second after the last: under Jito's 1/s
        srv.jito_clock = lambda: float(next(ticks))
        kp = Keypair()
        me = str(kp.pubkey())
        c.airdrop([me, 10**9])
        pool = next(p for p in w.pools if p.kind == "cpmm")
        c.fund([me, pool.mint_a, 10**9])
        c.fund([me, pool.mint_b, 0])
        tips = (await _post(url, "getTipAccounts", []))["result"]
        assert tips == list(I.JITO_TIP_ACCOUNTS)
        mk = Market.__new__(Market)
        mk.world, mk.chain, mk.kp, mk.me = w, c, kp, me
        q = w.quote_swap(pool, True, 10**6)
        assert q is not None
        good = mk.tx([mk.swap_ix(pool, True, 10**6, q.out)])
        no_tip = await _post(url, "sendBundle", [[wire(good)], {"encoding": "base64"}])
        assert "tip" in no_tip["error"]["message"]
        tip = mk.tx([I.transfer(me, tips[3], 2_000)])
        bad = mk.tx([mk.swap_ix(pool, True, 10**6, 10**15)])
        lamports, reserves = w.lamports(me), (pool.spec.reserve_a, pool.spec.reserve_b)
        failing = (
            await _post(
                url, "sendBundle", [[wire(good), wire(tip), wire(bad)], {"encoding": "base64"}]
            )
        )["result"]
        srv.step()
        st = (await _post(url, "getInflightBundleStatuses", [[failing]]))["result"]["value"][0]
        assert st["status"] == "Failed"
        assert w.lamports(me) == lamports and (pool.spec.reserve_a, pool.spec.reserve_b) == reserves
        ok = await _post(url, "sendBundle", [[wire(good), wire(tip)], {"encoding": "base64"}])
        srv.step()
        st = (await _post(url, "getInflightBundleStatuses", [[ok["result"]]]))["result"]["value"][0]
        assert st["status"] == "Landed" and st["landed_slot"] == w.slot
        assert w.lamports(tips[3]) == 10**9 + 2_000
        assert mk.balance(I.ata_address(me, pool.mint_b)) == q.out


async def test_signature_subscription_notifies_when_it_lands() -> None:
    async with _accepting(5, 0.05) as srv:
        info = srv.infos()[0]
        kp = Keypair()
        srv.chain.airdrop([str(kp.pubkey()), 10**9])
        async with RpcClient(info.http_url) as rpc:
            bh, last = await rpc.get_latest_blockhash()
            tx = sign(kp, [I.transfer(str(kp.pubkey()), I.JITO_TIP_ACCOUNTS[0], 5_000)], bh)
            sig = str(tx.signatures[0])
            watcher = SignatureWatcher(info.ws_url, rpc, poll_s=5.0)  # the notification wins
            try:
                fut = await watcher.subscribe(sig)
                assert await rpc.send_transaction(wire(tx)) == sig
                conf = await watcher.wait(sig, fut, last, timeout_s=10)
            finally:
                await watcher.close()
            assert conf.status == "confirmed" and conf.via == "subscription"
            assert conf.slot == srv.chain.statuses[sig][0]


@needs_solana
async def test_solana_py_signs_simulates_sends_and_confirms_against_the_simulator() -> None:
    from solana.rpc.async_api import AsyncClient

    async with _accepting(6, 0.05) as srv:
        # read at confirmed: a node's finalized state is 32 slots behind what just landed
        c = AsyncClient(srv.infos()[0].http_url, commitment="confirmed")
        try:
            kp = Keypair()
            me = str(kp.pubkey())
            air = await c.request_airdrop(kp.pubkey(), 10**9)
            assert isinstance(air.value, Signature)
            pool = next(p for p in srv.world.pools if p.kind == "whirlpool")
            srv.chain.fund([me, pool.mint_a, 10**9])
            bh = (await c.get_latest_blockhash()).value
            mk = Market.__new__(Market)
            mk.world, mk.chain, mk.kp, mk.me = srv.world, srv.chain, kp, me
            q = srv.world.quote_swap(pool, True, 10**6)
            assert q is not None
            ixs = [
                I.set_compute_unit_limit(200_000),
                I.set_compute_unit_price(1_000),
                I.create_ata_idempotent(me, me, pool.mint_b),
                mk.swap_ix(pool, True, 10**6, q.out),
            ]
            tx = sign(kp, ixs, bh.blockhash)
            sim = (await c.simulate_transaction(tx)).value
            assert sim.err is None and sim.units_consumed and sim.logs
            sent = await c.send_transaction(tx)  # with preflight (solana-py's default)
            assert sent.value == tx.signatures[0]
            done = await c.confirm_transaction(sent.value, "confirmed", sleep_seconds=0.05)
            assert done.value[0] is not None and done.value[0].err is None
            bal = (
                await c.get_token_account_balance(
                    Pubkey.from_string(I.ata_address(me, pool.mint_b))
                )
            ).value
            assert int(bal.amount) == q.out
            assert (await c.get_balance(kp.pubkey())).value == 10**9 - 5_000 - 200 - rent_exempt(
                165
            )
        finally:
            await c.close()


@pytest.mark.parametrize(
    "kinds",
    [
        ("amm_v4", "cpmm"),
        ("cpmm", "whirlpool"),
        ("whirlpool", "amm_v4", "whirlpool"),
        ("cpmm", "amm_v4", "whirlpool"),
        ("whirlpool", "cpmm", "whirlpool"),
        ("cpmm", "cpmm", "cpmm"),
    ],
)
@pytest.mark.parametrize("tip", [False, True])
def test_the_size_estimate_is_the_built_transactions_size(
    kinds: tuple[str, ...], tip: bool
) -> None:
    """A real transaction from real pools (their own accounts, the wallet's ATAs for a
    path of distinct tokens back to the start) against ``swap_tx_size``: equal when the
    pools share no account, an upper bound when CP-Swap pools share their config."""
    m = Market(seed=8)
    used: set[str] = set()
    hops = []
    for k in kinds:
        pool = next(p for p in m.world.pools if p.kind == k and p.address not in used)
        used.add(pool.address)
        hops.append(pool)
    path = [str(Pubkey.new_unique()) for _ in kinds]
    path.append(path[0])
    me = m.me
    ixs = [I.set_compute_unit_limit(200_000), I.set_compute_unit_price(1)]
    for pool, tin, tout in zip(hops, path, path[1:], strict=False):
        src, dst = I.ata_address(me, tin), I.ata_address(me, tout)
        if pool.kind == "amm_v4":
            ixs.append(
                V4.swap_base_in(pool.address, pool.vault_a, pool.vault_b, src, dst, me, 1, 1)
            )
        elif pool.kind == "cpmm":
            r = pool.record
            ixs.append(
                CP.swap_base_input(
                    me,
                    r.amm_config,
                    pool.address,
                    src,
                    dst,
                    pool.vault_a,
                    pool.vault_b,
                    I.SPL_TOKEN,
                    I.SPL_TOKEN,
                    tin,
                    tout,
                    r.observation_key,
                    1,
                    1,
                )
            )
        else:
            s = pool.spec
            arrays = WP.swap_tick_arrays(pool.address, s.tick_spacing, s.tick_current, True)
            ixs.append(
                WP.swap(
                    me,
                    pool.address,
                    src,
                    pool.vault_a,
                    dst,
                    pool.vault_b,
                    arrays,
                    WP.oracle(pool.address),
                    1,
                    1,
                    True,
                )
            )
    if tip:
        ixs.append(I.transfer(me, I.JITO_TIP_ACCOUNTS[2], 1_000))
    actual = len(bytes(m.tx(ixs)))
    estimate = swap_tx_size(list(kinds), path, tip)
    configs = [p.record.amm_config for p in hops if p.kind == "cpmm"]
    shared = len(configs) - len(set(configs))
    arrays_dup = sum(
        3 - len(set(WP.swap_tick_arrays(p.address, p.spec.tick_spacing, p.spec.tick_current, True)))
        for p in hops
        if p.kind == "whirlpool"
    )
    assert estimate == actual + 32 * (shared + arrays_dup)


@pytest.mark.parametrize("kind", ["amm_v4", "cpmm", "whirlpool"])
def test_a_swap_through_a_lookup_table_is_the_same_swap_in_fewer_bytes(kind: str) -> None:
    """The pool's accounts looked up in a table (feeds.wire.alt), as the executor will
    send them: the program sees the same accounts, the transaction is smaller."""
    from feeds.wire import alt as A

    m = Market()
    pool = m.pool(kind)
    m.chain.fund([m.me, pool.mint_a, 10**12])
    m.chain.fund([m.me, pool.mint_b, 1])
    ix, table = A.create_lookup_table(m.kp.pubkey(), m.kp.pubkey(), m.world.slot - 1)
    assert m.chain.run(m.tx([ix]), commit=True).err is None
    amount = 10**6
    swap = m.swap_ix(pool, True, amount, 0)
    shared = [a.pubkey for a in swap.accounts if not a.is_signer]
    assert (
        m.chain.run(
            m.tx(
                [
                    A.extend_lookup_table(
                        table, m.kp.pubkey(), m.kp.pubkey(), A.missing(None, shared)
                    )
                ]
            ),
            commit=True,
        ).err
        is None
    )
    m.world.step()
    acc = A.table_account(table, m.world.accounts[str(table)].data)
    q = m.world.quote_swap(pool, True, amount)
    assert q is not None
    plain = m.tx([m.swap_ix(pool, True, amount, q.out)])
    msg = A.compile_v0(
        m.kp.pubkey(), [m.swap_ix(pool, True, amount, q.out)], m.chain.latest_blockhash()[0], [acc]
    )
    looked = VersionedTransaction(msg, [m.kp])
    assert msg.address_table_lookups and len(bytes(looked)) < len(bytes(plain))
    dst = I.ata_address(m.me, pool.mint_b)
    before = m.balance(dst)
    out = m.chain.run(looked, commit=True)
    assert out.err is None, out.logs
    assert m.balance(dst) - before == q.out
    assert set(out.loaded[0]) | set(out.loaded[1]) <= {str(k) for k in shared}
