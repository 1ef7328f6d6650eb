"""Token-2022 in the simulator: the token programs' accounts and transfers, and every
venue's swap through a Token-2022 pool.

Oracles:
- LiteSVM runs the real Token-2022, SPL Token and ATA programs: the world's own mint
  bytes go into it, and the associated token accounts it creates, the transfers it makes
  (the fee withheld in the destination at the sim's epoch), its refusals and its log
  lines must be the simulator's (compute units aside: the simulator's are a model);
- the engine's pool graph, fed the world's accounts and the mints (``PoolGraph.quote``,
  both backends: the transfer fee composed with each venue's exact swap), must give what
  the simulated program pays the wallet, to the unit.
"""

from __future__ import annotations

import re
import types
from typing import Any

import pytest
from solders.account import Account as SvmAccount
from solders.clock import Clock
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from arbscope import sources
from engine_rs import errors
from feeds import venues
from feeds.sim import token as T
from feeds.sim.chain import Chain
from feeds.sim.world import NATIVE_MINT, Pool, World, WorldConfig
from feeds.venues import Leg
from feeds.wire import instructions as I
from tests.support.chain import sign, svm_error
from tests.support.truth import market_graph

QUIET = {"trades_per_slot": 0, "dislocation_rate": 0.0}
SEED = 63  # the default market: every Token-2022 role is in it
VENUE_SEED = 30  # a market whose fee mints trade on all five venues that take them


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(seed=SEED, **QUIET))  # type: ignore[arg-type]


def _roles(w: World) -> dict[str, str]:
    return {role: mint for mint, role in w.token2022.items()}


def test_the_market_holds_each_token2022_role_on_venues_that_take_it(world: World) -> None:
    roles = _roles(world)
    assert set(roles) == {"fee", "hook", "plain", "fee_capped"}
    for role, mint in roles.items():
        assert world.accounts[mint].owner == I.TOKEN_2022
        kinds = {p.kind for p in world.pools if mint in (p.mint_a, p.mint_b)}
        assert kinds, role
        assert not kinds & {"amm_v4", "openbook"}, (role, kinds)  # SPL Token's only
        if role != "plain":  # PumpSwap refuses fee and hook mints at pool creation
            assert "pumpswap" not in kinds, (role, kinds)
    fee, capped = world.fee_configs[roles["fee"]], world.fee_configs[roles["fee_capped"]]
    assert fee[1][2] == 100 and fee[1][0] == world.epoch()  # 1 % in force now
    assert capped[1][0] == world.epoch() + 1  # its newer fee waits for the next epoch
    assert world.transfer_hook(roles["hook"]) is not None
    assert world.fee_configs.keys() == {roles["fee"], roles["fee_capped"]}


def test_the_vaults_of_a_fee_mint_withhold_the_markets_transfer_fees() -> None:
    w = World(WorldConfig(seed=SEED, trades_per_slot=40))
    fee_mint = _roles(w)["fee"]
    vaults = [
        p.vault_a if p.mint_a == fee_mint else p.vault_b
        for p in w.pools
        if fee_mint in (p.mint_a, p.mint_b)
    ]
    for _ in range(30):
        w.step()
    held = [T.withheld(w.accounts[v].data) for v in vaults]
    assert sum(held) > 0  # traders sent the token in, and paid its fee into the vault


def test_the_events_of_a_fee_pools_trades_carry_its_transfer_fees(eng: types.ModuleType) -> None:
    """With full logs, a trade of a fee mint through CP-Swap or a Whirlpool logs the
    fees the program reports: CP-Swap's SwapEvent the input less its fee and both fees,
    the Whirlpool's Traded the fee-included input and both fees (``swap_v2``'s rule);
    the engine reads them back from the logs."""
    w = World(WorldConfig(seed=VENUE_SEED, full_logs=True, **QUIET))  # type: ignore[arg-type]
    seen: set[str] = set()
    for pool in w.pools:
        fee_mint = next((m for m in (pool.mint_a, pool.mint_b) if m in w.fee_configs), None)
        if pool.kind not in ("cpmm", "whirlpool") or fee_mint is None:
            continue
        if pool.mint_a in w.fee_configs and pool.mint_b in w.fee_configs:
            continue  # both sides charge: the out fee is not 0 below
        a_to_b = pool.mint_a == fee_mint  # the fee mint goes in
        amount = w._trade_size(pool, a_to_b, 0.001)
        t = w.swap(pool, a_to_b, amount)
        assert t is not None
        fee_in, fee_out = w.transfer_fee(fee_mint, amount), 0
        (_, ev), *_ = eng.parse_logs(list(t.logs))
        tokens = [x.split()[1] for x in t.logs if x.endswith("invoke [2]")]
        assert tokens == [
            w.token_programs[fee_mint],
            w.token_programs[pool.mint_b if a_to_b else pool.mint_a],
        ]
        assert (ev.input_transfer_fee, ev.output_transfer_fee) == (fee_in, fee_out) != (0, 0)
        if pool.kind == "cpmm":
            assert (ev.input_amount, ev.output_amount) == (amount - fee_in, t.amount_out)
        else:
            assert (ev.input_amount, ev.output_amount) == (amount, t.amount_out)
        seen.add(pool.kind)
    assert seen == {"cpmm", "whirlpool"}


def _svm_with(w: World, mints: list[str]) -> Any:
    from solders.litesvm import LiteSVM

    svm = LiteSVM()
    # the token programs read the epoch from the Clock: the simulator's
    svm.set_clock(Clock(w.slot, 0, w.epoch(), w.epoch() + 1, w.unix_time()))
    for m in mints:
        acc = w.accounts[m]
        svm.set_account(
            Pubkey.from_string(m),
            SvmAccount(acc.lamports, acc.data, Pubkey.from_string(acc.owner), False, 0),
        )
    return svm


_CU = re.compile(r"consumed \d+ of \d+ compute units")


def _logs(lines: list[str]) -> list[str]:
    """Log lines with the compute units masked (the simulator's are a fixed model)."""
    return [_CU.sub("consumed N of M compute units", x) for x in lines]


@pytest.mark.parametrize("role", ["fee", "fee_capped", "hook", "plain", "spl"])
def test_litesvm_agrees_on_token2022_accounts_transfers_and_refusals(
    world: World, role: str
) -> None:
    """The world's mint in the real programs: the ATAs they create, each transfer's
    balances and withheld fee, each refusal's error and log lines, are the simulator's."""
    w = World(WorldConfig(seed=SEED, **QUIET))  # type: ignore[arg-type]
    chain = Chain(w, accept=True)
    spl = next(m for m in w.mints if w.token_programs[m] == I.SPL_TOKEN and m != NATIVE_MINT)
    mint = _roles(w).get(role) or spl  # (wrapped SOL's lamports are a known gap: not it)
    prog = w.token_programs[mint]
    svm = _svm_with(w, [mint])
    kp, other = Keypair(), str(Keypair().pubkey())
    me = str(kp.pubkey())
    svm.airdrop(kp.pubkey(), 10**10)
    chain.airdrop([me, 10**10])
    src, dst = I.ata_address(me, mint, prog), I.ata_address(other, mint, prog)
    dec = w.decimals[mint]
    steps: list[tuple[str, list[Any]]] = [
        (
            "create",
            [
                I.create_ata_idempotent(me, me, mint, prog),
                I.create_ata_idempotent(me, other, mint, prog),
            ],
        ),
        ("fund", []),
        ("checked", [I.transfer_checked(prog, src, mint, dst, me, 1_234_567, dec)]),
        ("small", [I.transfer_checked(prog, src, mint, dst, me, 3, dec)]),
        ("plain", [_plain_transfer(prog, src, dst, me, 777)]),
        ("overdraw", [I.transfer_checked(prog, src, mint, dst, me, 10**15, dec)]),
        ("decimals", [I.transfer_checked(prog, src, mint, dst, me, 5, (dec + 1) % 256)]),
        (
            "wrong-program",
            [
                I.create_ata_idempotent(
                    me,
                    str(Keypair().pubkey()),
                    mint,
                    I.SPL_TOKEN if prog == I.TOKEN_2022 else I.TOKEN_2022,
                )
            ],
        ),
    ]
    for name, ixs in steps:
        if name == "fund":  # both hold 10^12 in the wallet's account, bytes alike
            a = svm.get_account(Pubkey.from_string(src))
            data = bytearray(a.data)
            data[64:72] = (10**12).to_bytes(8, "little")
            svm.set_account(
                Pubkey.from_string(src), SvmAccount(a.lamports, bytes(data), a.owner, False, 0)
            )
            w.accounts[src].data = bytes(data)
            continue
        r = svm.send_transaction(sign(kp, ixs, svm.latest_blockhash()))
        svm_err = svm_error(r.err()) if hasattr(r, "err") else None
        svm_logs = list((r.meta() if hasattr(r, "meta") else r).logs())
        o = chain.run(sign(kp, ixs, chain.latest_blockhash()[0]), commit=True)
        assert o.err == svm_err, name
        if name not in ("create", "wrong-program"):  # the ATA program's inner calls aside
            assert _logs(o.logs) == _logs(svm_logs), name
        for k in (src, dst):
            got = svm.get_account(Pubkey.from_string(k))
            mine = w.accounts.get(k)
            assert (got is None) == (mine is None), (name, k)
            if got is not None and mine is not None:
                assert (bytes(got.data), got.lamports, str(got.owner)) == (
                    mine.data,
                    mine.lamports,
                    mine.owner,
                ), (name, k)
        svm.expire_blockhash()
    if role in ("fee", "fee_capped"):  # the fee of both transfers, withheld in dst
        cfg = w.fee_configs[mint]
        want = sum(w.eng.transfer_fee(cfg, w.epoch(), x) for x in (1_234_567, 3))
        assert T.withheld(w.accounts[dst].data) == want > 0


def _plain_transfer(program: str, src: str, dst: str, owner: str, amount: int) -> Any:
    import struct

    data = b"\x03" + struct.pack("<Q", amount)
    return I.instruction(
        program,
        data,
        [
            I.account_meta(src, writable=True),
            I.account_meta(dst, writable=True),
            I.account_meta(owner, signer=True),
        ],
    )


# ------------------------------------------------------------------ the venues
def _fee_pools(w: World) -> list[Pool]:
    """One pool of each venue trading a fee mint (both fee mints' pools looked at)."""
    fees = set(w.fee_configs)
    out: dict[str, Pool] = {}
    for p in w.pools:
        if {p.mint_a, p.mint_b} & fees and p.kind not in out:
            out[p.kind] = p
    return list(out.values())


def _leg(w: World, me: str, pool: Pool, a_to_b: bool, amount: int, minimum: int) -> Any:
    tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    programs = {m: w.token_programs[m] for m in (pool.mint_a, pool.mint_b)}
    src, dst = I.ata_address(me, tin, programs[tin]), I.ata_address(me, tout, programs[tout])
    leg = Leg(pool.address, pool.record, me, tin, tout, src, dst, amount, minimum, programs)
    return venues.by_kind(pool.kind).swap_instruction(leg)


def _graph(eng: types.ModuleType, w: World) -> Any:
    g = market_graph(eng, w)
    g.set_slot(w.slot)
    for m in w.token2022:  # the mints, as the feed's mint role applies them
        acc = w.accounts[m]
        g.set_mint(m, acc.data, acc.owner)
    return g


@pytest.mark.slow
def test_each_venues_swap_through_a_fee_pool_pays_the_engines_quote_to_the_unit(
    eng: types.ModuleType,
) -> None:
    """Every venue that takes fee mints (Whirlpool swap_v2, Raydium CLMM swap_v2, CP-Swap,
    DLMM swap2, DAMM v2 swap), both directions: the wallet receives exactly ``PoolGraph.quote`` (input
    fee off before the curve, output fee off after it); the fees are withheld in the
    vault and in the wallet's account; a minimum above what arrives after the fee fails
    on the program's slippage code."""
    w = World(WorldConfig(seed=VENUE_SEED, **QUIET))  # type: ignore[arg-type]
    chain = Chain(w, accept=True)
    kp = Keypair()
    me = str(kp.pubkey())
    chain.airdrop([me, 10**11])
    g = _graph(eng, w)
    pools = _fee_pools(w)
    assert {p.kind for p in pools} == {"whirlpool", "clmm", "cpmm", "dlmm", "damm_v2"}
    for pool in pools:
        venue = venues.by_kind(pool.kind)
        for a_to_b in (True, False):
            tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
            chain.fund([me, tin, 10**15])
            pout = w.token_programs[tout]
            create = I.create_ata_idempotent(me, me, tout, pout)
            vault_in = pool.vault_a if a_to_b else pool.vault_b
            amount = max(10**3, int(w._trade_size(pool, a_to_b, 0.002)))
            hops = g.quote([pool.address], tin, amount)
            assert len(hops) == 2 and hops[1] > 0, pool.kind
            dst = I.ata_address(me, tout, pout)
            tight = chain.run(
                sign(
                    kp,
                    [create, _leg(w, me, pool, a_to_b, amount, hops[1] + 1)],
                    chain.latest_blockhash()[0],
                ),
                commit=True,
            )
            assert tight.err == {"InstructionError": [1, {"Custom": venue.slippage_error}]}, (
                pool.kind,
                a_to_b,
                tight.logs,
            )
            before = (w.token_account(dst), T.withheld(w.accounts[vault_in].data))
            got_before = 0 if before[0] is None else before[0].amount
            held_before = T.withheld(w.accounts[dst].data) if dst in w.accounts else 0
            o = chain.run(
                sign(
                    kp,
                    [create, _leg(w, me, pool, a_to_b, amount, hops[1])],
                    chain.latest_blockhash()[0],
                ),
                commit=True,
            )
            assert o.err is None, (pool.kind, a_to_b, o.logs)
            tok = w.token_account(dst)
            assert tok is not None and tok.amount - got_before == hops[1], (pool.kind, a_to_b)
            fee_in = w.transfer_fee(tin, amount)
            assert T.withheld(w.accounts[vault_in].data) - before[1] == fee_in
            if tout in w.fee_configs:
                assert T.withheld(w.accounts[dst].data) - held_before > 0
            w.step()  # the next slot; the graph follows the pool's new state
            g = _graph(eng, w)


def test_a_pool_with_a_token2022_mint_refuses_the_spl_only_instruction() -> None:
    """Whirlpool ``swap`` and DLMM ``swap`` name SPL Token's accounts: a Token-2022 pool
    refuses them (Anchor's AccountOwnedByWrongProgram; DLMM's transfer goes to SPL Token,
    which owns none of them)."""
    w = World(WorldConfig(seed=SEED, **QUIET))  # type: ignore[arg-type]
    chain = Chain(w, accept=True)
    kp = Keypair()
    me = str(kp.pubkey())
    chain.airdrop([me, 10**11])
    for kind, want in (("whirlpool", {"Custom": 3007}), ("dlmm", "IncorrectProgramId")):
        pool = next(
            p
            for p in w.pools
            if p.kind == kind
            and I.TOKEN_2022 in (w.token_programs[p.mint_a], w.token_programs[p.mint_b])
        )
        chain.fund([me, pool.mint_a, 10**15])
        pb = w.token_programs[pool.mint_b]
        spl = {pool.mint_a: I.SPL_TOKEN, pool.mint_b: I.SPL_TOKEN}  # built as if SPL Token's
        src, dst = (
            I.ata_address(me, pool.mint_a, w.token_programs[pool.mint_a]),
            I.ata_address(me, pool.mint_b, pb),
        )
        leg = Leg(pool.address, pool.record, me, pool.mint_a, pool.mint_b, src, dst, 10**4, 0, spl)
        ixs = [
            I.create_ata_idempotent(me, me, pool.mint_b, pb),
            venues.by_kind(kind).swap_instruction(leg),
        ]
        o = chain.run(sign(kp, ixs, chain.latest_blockhash()[0]), commit=False)
        assert o.err == {"InstructionError": [1, want]}, (kind, o.logs)


def test_a_swap_through_a_hooked_mint_fails_as_a_node_without_its_accounts(
    eng: types.ModuleType,
) -> None:
    """The engine refuses the hooked mint (its quote names the extension); the
    simulated program fails the transfer for the hook's missing accounts."""
    w = World(WorldConfig(seed=SEED, **QUIET))  # type: ignore[arg-type]
    chain = Chain(w, accept=True)
    kp = Keypair()
    me = str(kp.pubkey())
    chain.airdrop([me, 10**11])
    hook = _roles(w)["hook"]
    pool = next(p for p in w.pools if hook in (p.mint_a, p.mint_b) and p.kind == "whirlpool")
    g = _graph(eng, w)
    with pytest.raises(errors.EngineError, match="TransferHook"):
        g.quote([pool.address], pool.mint_a, 10**6)
    other = pool.mint_b if pool.mint_a == hook else pool.mint_a
    chain.fund([me, other, 10**15])
    create = I.create_ata_idempotent(me, me, hook, I.TOKEN_2022)
    o = chain.run(
        sign(
            kp,
            [create, _leg(w, me, pool, pool.mint_a == other, 10**6, 0)],
            chain.latest_blockhash()[0],
        ),
        commit=False,
    )
    assert o.err == {"InstructionError": [1, "MissingAccount"]}


def test_the_wire_transfer_round_trips(world: World) -> None:
    """``transfer_checked`` decodes back as the simulator reads it (both programs)."""
    for prog in (I.SPL_TOKEN, I.TOKEN_2022):
        ix = I.transfer_checked(
            prog,
            "11111111111111111111111111111112",
            world.mints[0],
            "11111111111111111111111111111113",
            world.mints[1],
            9,
            6,
        )
        rec = I.decode(prog, bytes(ix.data), [str(m.pubkey) for m in ix.accounts])
        assert (rec.name, rec.amount, rec.decimals, rec.mint) == (
            "TransferChecked",
            9,
            6,
            world.mints[0],
        )


# ------------------------------------------------------------------ jsonParsed
_NAMES = {
    "transferFeeConfig": "TransferFeeConfig",
    "transferFeeAmount": "TransferFeeAmount",
    "immutableOwner": "ImmutableOwner",
    "transferHook": "TransferHook",
    "transferHookAccount": "TransferHookAccount",
    "metadataPointer": "MetadataPointer",
    "tokenMetadata": "TokenMetadata",
}


@pytest.mark.js
def test_json_parsed_token2022_accounts_read_as_the_spl_token_client_reads_them(
    world: World,
) -> None:
    """``jsonParsed`` of every kind of Token-2022 account the market holds (each role's
    mint, vaults with and without ImmutableOwner, an ATA) as the account decoder shows it
    (``parse_token`` with ``parse_extension``'s names): its extensions in the account's
    order, and each value the official client (@solana/spl-token) reads from the same
    bytes."""
    from feeds.sim import node as N
    from tools.nodejs import install, run_script

    why = install()
    if why:
        pytest.skip(why)
    w = World(WorldConfig(seed=SEED, **QUIET))  # type: ignore[arg-type]
    chain = Chain(w, accept=True)
    me = str(Keypair().pubkey())
    keys = list(w.token2022)
    for p in w.pools:
        for v in (p.vault_a, p.vault_b):
            if w.accounts[v].owner == I.TOKEN_2022 and len(w.accounts[v].data) not in {
                len(w.accounts[k].data) for k in keys if k not in w.token2022
            }:
                keys.append(v)
    keys.append(chain.fund([me, _roles(w)["fee"], 5])["ata"])
    import base64

    theirs = run_script(
        "spl_token_client.mjs",
        {
            "op": "decode",
            "accounts": [
                [base64.b64encode(w.accounts[k].data).decode(), w.accounts[k].owner] for k in keys
            ],
        },
    )
    assert len({len(w.accounts[k].data) for k in keys}) >= 5  # mints, 3 vault shapes, the ATA
    for k, js in zip(keys, theirs, strict=True):
        ours = N.parse_token_data(w.accounts[k].data, w.decimals.get)
        assert ours is not None and ours["type"] == js["kind"], k
        info = ours["info"]
        ext = info.get("extensions", [])
        assert [_NAMES[e["extension"]] for e in ext] == js["types"], k
        for e in ext:
            name = _NAMES[e["extension"]]
            if name not in js["extensions"]:
                assert "state" not in e  # a unit extension (ImmutableOwner)
                continue
            assert _strings(e["state"]) == js["extensions"][name], (k, name)
        if js["kind"] == "account":
            assert (info["mint"], info["owner"], info["tokenAmount"]["amount"]) == (
                js["mint"],
                js["owner"],
                js["amount"],
            )
        else:
            assert (info["decimals"], info["supply"]) == (js["decimals"], js["supply"])


def _strings(v: Any) -> Any:
    """Integers as the client's decimal strings (its u64s are bigints); lists of pairs
    as lists."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return {k: _strings(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_strings(x) for x in v]
    return v


@pytest.mark.slow
async def test_a_session_refuses_the_hooked_mints_pools_and_the_status_line_says_so() -> None:
    """From the sockets up: the default market's hooked mint reaches the engine through
    the feed (a Token-2022 vault makes its mint followed), every pool of it is refused
    (``Snapshot.refused``: the mint, ``TransferHook``, how many pools) and never in a
    cycle shown, the fee mint's fee is in the graph, and the status line names it."""
    from tui.widgets.status import StatusLine

    cfg = WorldConfig(seed=SEED, trades_per_slot=6, slot_seconds=0.05)
    s = sources.session(
        sources.Watch(seed=SEED),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(world=cfg),
    )
    snap = await s.run_for(3.0, tick_s=0.1)
    assert s.feeds.server is not None and s.start_error == ""
    w = s.feeds.server.world
    hook, fee = _roles(w)["hook"], _roles(w)["fee"]
    hooked_pools = [p for p in w.pools if hook in (p.mint_a, p.mint_b)]
    assert snap.refused == ((hook, ("TransferHook",), len(hooked_pools)),)
    assert s.ev.graph.mint_fee(fee) == w.fee_configs[fee]
    assert all(hook not in o.tokens for o, _ in snap.opportunities)

    class _State:  # what StatusLine reads of the app's state
        mode, halted, paused, message, internal_errors, last_error = (
            "PAPER",
            False,
            False,
            "",
            0,
            "",
        )

        @staticmethod
        def clock() -> float:
            return 0.0

    line = StatusLine()
    line.show(snap, _State())  # type: ignore[arg-type]
    text = str(line.render())
    symbol = next(t.symbol for t in w.tokens if t.mint == hook)
    assert f"{len(hooked_pools)} pools refused" in text and f"{symbol}: TransferHook" in text
