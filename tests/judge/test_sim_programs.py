"""The simulator with the real programs of ``../shared/programs`` as its bank
(``arbscope sim --programs DIR``), and ``arbscope programs dump`` reading them back.

- The chain: a transaction whose programs the bank runs lands as the real programs left
  the accounts (the world's own state of the pool read back, so its next quote is what
  the program pays next); a failure costs the fee and nothing else; a simulation and a
  failing bundle change nothing; a durable nonce the bank advanced holds the chain's
  nonce; a transaction through a program without a binary (PumpSwap), or whose binary
  refuses arbscope's swap (the AMM v4 binary before ``SwapBaseInV2``), runs on the
  simulator's own programs; both counted.
- The node: every loaded program served as mainnet serves it (the upgradeable loader's
  program and programdata accounts, or the older loader's ELF account), so that
  ``programs dump`` from the simulator writes each binary back byte for byte; its bad
  inputs are one line each, the URL redacted.

Every test needs the binaries (:func:`tests.support.judge.programs`: skipped with the
reason without them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from solders.hash import Hash
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from arbscope.programs import dump
from feeds import venues
from feeds.clients.rpc import RpcClient
from feeds.sim import programs as sim_programs
from feeds.sim import system as SYS
from feeds.sim.bank import Bank, find_programs
from feeds.sim.chain import CU_BUILTIN, Chain
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.state import Account
from feeds.sim.world import WorldConfig
from feeds.wire import instructions as I
from feeds.wire import loader
from tests.support.hostile import until_answered
from tests.support.judge import QUIET, Judge, consumed, pools_of, programs, token_amount
from tests.support.pools import view
from tests.support.processes import cli_env, run_arbscope

pytestmark = pytest.mark.judge

FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
STILL = 3600.0  # seconds per slot: the market holds still while a test reads it
SECRET = "Zq8RkT4mW2nX7pL1vB6cH3dJ"
RENT_80 = 1_447_680


def banked(seed: int = 3) -> Judge:
    """A judge whose chain has the real programs as its bank (the judge's own LiteSVM
    beside it, for comparisons)."""
    j = Judge(WorldConfig(seed=seed, **QUIET))  # type: ignore[arg-type]
    j.chain = Chain(j.world, accept=True, bank=Bank.from_folder(programs()))
    return j


def b64(tx: Any) -> str:
    return base64.b64encode(bytes(tx)).decode()


# ------------------------------------------------------------------ the chain
def test_the_probe_refuses_exactly_the_binaries_older_than_arbscopes_swap() -> None:
    """The newest build of each program is loaded. AMM v4's binary predates
    ``SwapBaseInV2`` (InvalidInstructionData): refused, with the reason; every other DEX
    binary runs arbscope's swap of the world's pools and is run (OpenBook's mainnet build
    takes the immediate-or-cancel order live sends; the 2026-04 Raydium CLMM build reads
    today's ``ObservationState``). With the oldest builds, OpenBook's pre-release cannot
    read ``place_take_order``'s accounts and arguments (Anchor's 102 on a fill-or-kill
    order, an account check on live's) and the 2024 Raydium CLMM build panics on today's
    ``ObservationState`` (a real swap of a world pool at start): refused too."""
    j = banked()
    bank = j.chain.bank
    amm = venues.by_kind("amm_v4").program
    assert set(bank.refused) == {amm}
    assert "InvalidInstructionData" in bank.refused[amm]
    for v in venues.VENUES:
        if v.program in bank.loaded and v.program not in bank.refused:
            assert bank.runs_program(v.program)
    ran = {v.kind for v in venues.VENUES if bank.runs_binary(v.program)}
    assert ran == {"whirlpool", "cpmm", "dlmm", "clmm", "openbook", "damm_v2", "manifest"}
    lines = bank.describe()
    assert len(lines) == len(bank.loaded) + 1
    (line,) = lines[-1:]  # the file, its sha256, why, in one line
    assert "not run" in line and "sha256" in line and "stay on the simulator's" in line
    # the oldest builds: the older OpenBook and CLMM binaries refused as well
    old = Judge(WorldConfig(seed=3, **QUIET), builds="oldest")  # type: ignore[arg-type]
    old.chain = Chain(old.world, accept=True, bank=Bank.from_folder(programs(), builds="oldest"))
    refused = old.chain.bank.refused
    book, clmm = venues.by_kind("openbook").program, venues.by_kind("clmm").program
    assert set(refused) == {amm, book, clmm}
    assert "cannot read" in refused[clmm] and "ProgramFailedToComplete" in refused[clmm]


def test_a_swap_the_bank_runs_lands_as_the_real_program_left_it() -> None:
    """A Whirlpool swap (its binary runs) through the chain: the world's accounts are
    what the program leaves (the same run beside it in the judge's LiteSVM), the
    writable ones notified, the pool's state read back so that the world's own quote
    of the next swap is what the program then pays; counted as the bank's."""
    j = banked()
    pool = next(iter(pools_of(j.world, "whirlpool", spl_only=True)))
    j.fund(pool.mint_a, 10**12)
    j.fund(pool.mint_b, 0)
    for k, amount in enumerate((10**6, 3 * 10**7, 10**8)):  # state carried from each to next
        tx = j.tx([j.swap_ix(pool, pool.mint_a, amount)], cu_price=k)
        real = j.real(tx)  # the same transaction, beside, on the same accounts
        predicted = j.world.quote_swap(pool, True, amount)
        assert predicted is not None
        got = j.balance(pool.mint_b)
        j.world._touched = []
        out = j.chain.run(tx, commit=True)
        assert out.err is None and real.err is None
        assert (out.logs, out.units, out.fee) == (real.logs, real.units, real.fee)
        for key, acc in real.post.items():
            assert j.world.accounts.get(key) == acc, key
        # what it paid is what the world's own state of the pool quoted before it
        assert token_amount(real.post[j.ata(pool.mint_b)]) - got == predicted.out
        keys = j.keys(tx)
        writable = [k for i, k in enumerate(keys) if tx.message.is_maybe_writable(i)]
        # notified: every writable account but those never there (an array nobody made)
        assert {k for k in writable if k in j.world.accounts} <= set(j.world._touched)
        assert any(k not in j.world.accounts for k in writable)  # the swap named one
        before = view(pool)
        load = sim_programs.by_kind(pool.kind).program.load
        assert load is not None
        load(j.world, pool)  # already read back: a no-op
        assert view(pool) == before
    assert (j.chain.stats.by_bank, j.chain.stats.by_python) == (3, 0)


def test_the_worlds_next_quote_after_a_bank_swap_is_what_the_program_pays() -> None:
    """After the real program moved a pool, the simulator's own state of it (read back
    from the bytes) quotes the next swap to the unit of what the program pays for it."""
    j = banked(seed=7)
    pool = next(iter(pools_of(j.world, "whirlpool", spl_only=True)))
    j.fund(pool.mint_a, 10**13)
    j.fund(pool.mint_b, 10**13)
    side = [(pool.mint_a, True), (pool.mint_b, False)]
    for k, amount in enumerate((10**6, 5 * 10**7, 2 * 10**8, 10**7, 3 * 10**8)):
        mint, a_to_b = side[k % 2]
        q = j.world.quote_swap(pool, a_to_b, amount)
        assert q is not None
        got = j.balance(pool.mint_b if a_to_b else pool.mint_a)
        out = j.chain.run(j.tx([j.swap_ix(pool, mint, amount)], cu_price=k), commit=True)
        assert out.err is None, out.logs[-3:]
        assert j.balance(pool.mint_b if a_to_b else pool.mint_a) - got == q.out


def test_a_failing_transaction_costs_its_fee_and_nothing_else() -> None:
    """The program's own error (Whirlpool's 6036, below the minimum) at its
    instruction, its logs; the payer charged the fee; every other account, and the
    pool's state, as before."""
    j = banked()
    pool = next(iter(pools_of(j.world, "whirlpool", spl_only=True)))
    j.fund(pool.mint_a, 10**12)
    j.fund(pool.mint_b, 0)
    tx = j.tx([j.swap_ix(pool, pool.mint_a, 10**6, minimum=10**15)])
    keys = j.keys(tx)
    before = {k: replace(j.world.accounts[k]) for k in keys if k in j.world.accounts}
    state = view(pool)
    real = j.real(tx)
    out = j.chain.run(tx, commit=True)
    assert out.err == real.err == {"InstructionError": [2, {"Custom": 6036}]}
    assert out.logs == real.logs and out.ran
    for k, acc in before.items():
        now = j.world.accounts[k]
        if k == j.me:
            assert now.lamports == acc.lamports - out.fee
        else:
            assert now == acc, k
    assert view(pool) == state


def test_a_simulation_and_a_failing_bundle_change_nothing() -> None:
    """``simulateTransaction`` runs in the bank and keeps nothing (the accounts asked
    come back as they would be); a bundle whose second transaction fails lands nothing
    of the first (the chain's all-or-nothing over the bank's runs)."""
    j = banked()
    pool = next(iter(pools_of(j.world, "whirlpool", spl_only=True)))
    j.fund(pool.mint_a, 10**12)
    j.fund(pool.mint_b, 0)
    good = j.tx([j.swap_ix(pool, pool.mint_a, 10**6)])
    bad = j.tx([j.swap_ix(pool, pool.mint_a, 10**6, minimum=10**15)], cu_price=1)
    snapshot = {k: replace(a) for k, a in j.world.accounts.items()}
    state = view(pool)
    real = j.real(good, commit=False)
    sim = j.chain.simulate(
        [
            b64(good),
            {
                "encoding": "base64",
                "accounts": {"addresses": [j.ata(pool.mint_b)], "encoding": "base64"},
            },
        ]
    )
    assert sim["err"] is None and sim["unitsConsumed"] == real.units
    got = base64.b64decode(sim["accounts"][0]["data"][0])
    assert got == real.post[j.ata(pool.mint_b)].data  # type: ignore[union-attr]
    assert j.world.accounts == snapshot and view(pool) == state
    value = j.chain.simulate_bundle([{"encodedTransactions": [b64(good), b64(bad)]}])
    assert value["summary"] != "succeeded" and value["transactionResults"][0]["err"] is None
    assert j.world.accounts == snapshot and view(pool) == state
    j.chain.engines[""] = replace(j.chain.engines[""], rps=0)
    tip = j.tx(
        [
            I.transfer(j.me, I.JITO_TIP_ACCOUNTS[0], 2_000),
            *[j.swap_ix(pool, pool.mint_a, 10**6, minimum=10**15)],
        ],
        cu_price=2,
    )
    j.chain.send_bundle([[b64(good), b64(tip)], {"encoding": "base64"}])
    landed = j.chain.land(j.world.slot + 1)
    assert landed == [] and j.chain.stats.failed == 1
    assert view(pool) == state
    for k, a in snapshot.items():
        assert j.world.accounts[k] == a, k


def test_a_durable_nonce_the_bank_advanced_holds_the_chains_nonce() -> None:
    """A durable transaction (advance the nonce, then a Whirlpool swap) the bank runs:
    the nonce account holds the chain's durable nonce of its blockhash (LiteSVM stores
    its own), so the next version is refused as the node refuses it; in the same slot
    a recent-blockhash transaction advancing it again fails on the simulator's system
    program, as the runtime's once-per-slot rule says."""
    j = banked()
    pool = next(iter(pools_of(j.world, "whirlpool", spl_only=True)))
    j.fund(pool.mint_a, 10**12)
    j.fund(pool.mint_b, 0)
    seed = "arbscope-nonce-0"
    nonce = I.nonce_address(j.me, seed)
    made = j.tx(I.create_nonce_account_with_seed(j.me, nonce, seed, j.me, RENT_80))
    assert j.chain.run(made, commit=True).err is None
    j.world.step()
    stored = I.read_nonce_account(I.SYSTEM_PROGRAM, j.world.accounts[nonce].data)
    assert stored is not None
    ixs = [
        I.advance_nonce(nonce, j.me),
        I.set_compute_unit_limit(400_000),
        j.swap_ix(pool, pool.mint_a, 10**6),
    ]
    msg = Message.new_with_blockhash(ixs, j.kp.pubkey(), Hash.from_string(stored[1]))
    tx = VersionedTransaction(msg, [j.kp])
    by_bank = j.chain.stats.by_bank
    out = j.chain.run(tx, commit=True)
    assert out.err is None and j.chain.stats.by_bank == by_bank + 1
    now = I.read_nonce_account(I.SYSTEM_PROGRAM, j.world.accounts[nonce].data)
    assert now == (j.me, SYS.durable_nonce(j.chain.latest_blockhash()[0]))
    assert j.chain.run(tx, commit=False).err in ("BlockhashNotFound", "AlreadyProcessed")
    again = j.tx([I.advance_nonce(nonce, j.me), j.swap_ix(pool, pool.mint_a, 10**6)], cu_price=9)
    # (after the judge's two compute-budget instructions)
    assert j.chain.run(again, commit=False).err == {"InstructionError": [2, {"Custom": 7}]}


def test_what_the_bank_cannot_run_runs_on_the_simulators_programs() -> None:
    """PumpSwap (no binary) and AMM v4 (its binary refused) swaps run on the Python
    programs; a transaction mixing one with a Whirlpool swap runs the Whirlpool swap in
    the bank (the real program's payout, logs and compute units, as that swap alone pays
    in the bank) and the other here, all or nothing: counted apart from both."""
    j = banked(seed=7)
    wp = next(iter(pools_of(j.world, "whirlpool", spl_only=True)))
    others = [next(iter(pools_of(j.world, k, spl_only=True))) for k in ("pumpswap", "amm_v4")]
    for p in (wp, *others):
        j.fund(p.mint_a, 10**12)
        j.fund(p.mint_b, 10**12)
    for n, p in enumerate(others):
        got = j.balance(p.mint_b)
        q = j.world.quote_swap(p, True, 10**6)
        assert q is not None
        out = j.chain.run(j.tx([j.swap_ix(p, p.mint_a, 10**6)], cu_price=n), commit=True)
        assert out.err is None and j.balance(p.mint_b) - got == q.out - j.world.transfer_fee(
            p.mint_b, q.out
        )
    assert (j.chain.stats.by_bank, j.chain.stats.by_python, j.chain.stats.mixed) == (0, 2, 0)
    v4 = others[1]
    # the Whirlpool swap alone, simulated: the bank runs that transaction whole
    alone = j.chain.run(
        j.tx([j.swap_ix(wp, wp.mint_a, 10**6)], cu_price=4),
        commit=False,
        want_accounts=[j.ata(wp.mint_b)],
    )
    assert alone.err is None and j.chain.stats.by_bank == 1
    assert alone.accounts is not None and alone.accounts[0] is not None
    after = alone.accounts[0]
    paid = token_amount(
        Account(after["owner"], base64.b64decode(after["data"][0]), after["lamports"])
    ) - j.balance(wp.mint_b)
    q4 = j.world.quote_swap(v4, True, 10**6)
    assert q4 is not None and paid > 0
    got_wp, got_v4 = j.balance(wp.mint_b), j.balance(v4.mint_b)
    mixed = j.tx([j.swap_ix(wp, wp.mint_a, 10**6), j.swap_ix(v4, v4.mint_a, 10**6)], cu_price=5)
    out = j.chain.run(mixed, commit=True)
    assert out.err is None
    assert (j.chain.stats.by_bank, j.chain.stats.by_python, j.chain.stats.mixed) == (1, 2, 1)
    assert j.chain.stats.bank_instructions == 1
    assert j.balance(wp.mint_b) - got_wp == paid  # the real program's payout
    assert j.balance(v4.mint_b) - got_v4 == q4.out - j.world.transfer_fee(v4.mint_b, q4.out)
    # the real program's log lines and units for its instruction, the simulator's for the other
    wp_id, v4_id = (venues.by_kind(p.kind).program for p in (wp, v4))
    assert consumed(out.logs, wp_id) == consumed(alone.logs, wp_id)
    assert "Program log: Instruction: Swap" in out.logs
    assert (
        out.units
        == sum(consumed(out.logs, wp_id)) + sum(consumed(out.logs, v4_id)) + 2 * CU_BUILTIN
    )
    # a refusal by the real program undoes the instructions before it: its error, its index
    before = {k: replace(j.world.accounts[k]) for k in (v4.address, v4.vault_a, wp.address)}
    both = j.tx(
        [j.swap_ix(v4, v4.mint_a, 10**6), j.swap_ix(wp, wp.mint_a, 10**6, minimum=paid * 2)],
        cu_price=6,
    )
    out = j.chain.run(both, commit=True)
    assert out.err == {"InstructionError": [3, {"Custom": 0x1794}]}  # AmountOutBelowMinimum
    assert {k: j.world.accounts[k] for k in before} == before
    assert j.chain.stats.mixed == 2


# ------------------------------------------------------------------ the node, the dump
async def test_each_program_is_served_as_mainnet_shows_it() -> None:
    """``getMultipleAccounts`` on the loaded programs: the upgradeable loader's executable
    program account naming its programdata account (the loader's PDA of the id), which
    holds ``u32 3``, the deployment slot, an upgrade authority and the file's bytes; SPL
    Token and the ATA program as the older loader's executable accounts holding the ELF
    itself."""
    folder = programs()
    files = find_programs(folder)
    async with SimServer(
        WorldConfig(seed=3, programs=str(folder)), FAST, slot_seconds=STILL
    ) as srv:
        async with RpcClient(srv.infos()[0].http_url) as rpc:
            ids = sorted(files)
            res = await rpc.call("getMultipleAccounts", [ids, {"encoding": "base64"}])
            for pid, v in zip(ids, res["value"], strict=True):
                elf = files[pid].read_bytes()
                data = base64.b64decode(v["data"][0])
                assert v["executable"] is True, pid
                if pid in loader.LOADER_V2_PROGRAMS:
                    assert v["owner"] == loader.LOADER_V2 and data == elf
                    continue
                assert v["owner"] == loader.UPGRADEABLE_LOADER
                assert len(data) == 36 and struct.unpack_from("<I", data)[0] == 2
                where = str(Pubkey.from_bytes(data[4:]))
                assert where == loader.programdata_address(pid)
                pd = await rpc.call("getAccountInfo", [where, {"encoding": "base64"}])
                raw = base64.b64decode(pd["value"]["data"][0])
                assert pd["value"]["owner"] == loader.UPGRADEABLE_LOADER
                assert pd["value"]["executable"] is False
                assert struct.unpack_from("<IQ", raw) == (3, srv.world.config.first_slot)
                assert raw[12] == 1 and raw[45:] == elf
            info = await rpc.call("simInfo")
            refused = {p["programId"] for p in info["programs"] if p["refused"]}
            assert refused == set(srv.chain.bank.refused) and len(info["programs"]) == len(ids)
            assert {"by_bank", "by_python"} <= set(info["stats"])


async def test_programs_dump_from_the_simulator_writes_each_binary_back(tmp_path: Path) -> None:
    """``arbscope programs dump`` against a simulator serving the binaries: every program
    it trades (and the others loaded, with ``--program``) written as ``<id>.so``, byte for
    byte the file the simulator loaded; the manifest names each (sha256, deployment
    slot, authority) and the venue with no binary here (PumpSwap) as not read —
    the exit status 1 for those, a line each, the URL's key never shown. The folder written is
    one ``arbscope sim --programs`` loads."""
    folder = programs()
    files = find_programs(folder)
    sha = {pid: hashlib.sha256(p.read_bytes()).hexdigest() for pid, p in files.items()}
    out = tmp_path / "dumped"
    async with SimServer(
        WorldConfig(seed=3, programs=str(folder)), FAST, slot_seconds=STILL
    ) as srv:
        url = f"{srv.infos()[0].http_url}/?api-key={SECRET}"
        args = ["programs", "dump", "--rpc", url, "--out", str(out)]
        for pid in files:
            args += ["--program", pid]
        code, stdout, stderr = await run_arbscope(args, cli_env(tmp_path))
    assert SECRET not in stdout + stderr + (out / "manifest.json").read_text()
    assert "Traceback" not in stderr
    # the venues with no binary here: one line each, in the registry's order
    unread = [v for v in venues.VENUES if v.program not in files]
    assert {v.name for v in unread} == {"pump_amm"}
    assert code == 1 and stderr.strip().splitlines() == [
        f"not read: {v.name}: {v.program}: no such account on this node" for v in unread
    ]
    dumped = find_programs(out)
    assert set(dumped) == set(files)
    for pid, p in dumped.items():
        assert hashlib.sha256(p.read_bytes()).hexdigest() == sha[pid], pid
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rpc"].endswith("api-key=***")
    assert {m["program_id"]: m["sha256"] for m in manifest["programs"]} == sha
    for m in manifest["programs"]:
        upgradeable = m["program_id"] not in loader.LOADER_V2_PROGRAMS
        assert (m["deployed_slot"] is not None) == upgradeable == (m["authority"] is not None)
    assert [u["program_id"] for u in manifest["not_read"]] == [v.program for v in unread]
    assert f"wrote {len(files)} of {len(files) + len(unread)} programs" in stdout
    assert {p.sha256 for p in Bank.from_folder(out).loaded.values()} == set(sha.values())


async def test_programs_dump_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    """A dead endpoint (exit 2, its URL redacted), and accounts that are not programs:
    a pool (owned by its program), the wallet (the system program's), a programdata
    account, a program account that is not executable, an id that is not one: each one
    line, never a traceback."""
    folder = programs()
    said: list[str] = []
    dead = f"http://127.0.0.1:9/{SECRET}"
    code = await dump(dead, tmp_path / "x", timeout_s=2.0, say=said.append, warn=said.append)
    assert code == 2 and len(said) == 1 and SECRET not in said[0]
    assert said[0].startswith("arbscope: programs dump: ") and "127.0.0.1:9" in said[0]
    assert not (tmp_path / "x").exists()
    said.clear()
    assert await dump(dead, tmp_path / "x", ["not-a-key"], say=said.append, warn=said.append) == 2
    assert len(said) == 1 and said[0].startswith(
        "arbscope: --program 'not-a-key': not a program id"
    )
    async with SimServer(
        WorldConfig(seed=3, programs=str(folder)), FAST, slot_seconds=STILL
    ) as srv:
        w = srv.world
        wp = venues.by_kind("whirlpool").program
        stopped = str(Pubkey.from_bytes(hashlib.sha256(b"stopped").digest()))
        w.accounts[stopped] = Account(loader.UPGRADEABLE_LOADER, w.accounts[wp].data, 10**9)
        wallet = str(Pubkey.from_bytes(hashlib.sha256(b"wallet").digest()))
        w.credit_lamports(wallet, 10**9)
        pool = w.pools[0].address
        bad = {
            pool: f"is not a program: its account is owned by {w.accounts[pool].owner}",
            wallet: f"is not a program: its account is owned by {I.SYSTEM_PROGRAM}",
            loader.programdata_address(wp): "is a programdata account, not a program",
            stopped: "is not executable",
        }
        said.clear()
        code = await dump(
            srv.infos()[0].http_url, tmp_path / "y", list(bad), say=said.append, warn=said.append
        )
    assert code == 1
    problems = [s for s in said if s.startswith("not read: --program")]
    assert len(problems) == len(bad)
    for key, why in bad.items():
        (line,) = [s for s in problems if key in s]
        assert why in line, line


# ------------------------------------------------------------------ the commands
async def test_arbscope_sim_says_what_runs_and_the_split_when_it_stops(tmp_path: Path) -> None:
    """``arbscope sim --programs DIR --accept-tx``: each loaded program (id, file, sha256)
    and each refused binary (why) one line on stderr, the URLs alone on stdout; a
    Whirlpool swap sent to it lands by the real program; on SIGINT the split of the runs."""
    import asyncio
    import signal
    import sys

    from solders.keypair import Keypair

    import engine_rs
    from arbscope import SIM_SEED
    from arbscope.execution.live import compile_and_sign
    from feeds.sim.world import World
    from tests.support.paths import ROOT

    folder = programs()
    p = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "arbscope",
        "sim",
        "--programs",
        str(folder),
        "--accept-tx",
        "--endpoints",
        "1",
        "--slot-ms",
        "100",
        cwd=ROOT,
        env=cli_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert p.stdout is not None and p.stderr is not None
        ws = (await asyncio.wait_for(p.stdout.readline(), 60)).decode().strip()
        http = (await asyncio.wait_for(p.stdout.readline(), 10)).decode().strip()
        assert ws.startswith("ws://") and http.startswith("http://")
        kp = Keypair()
        me = str(kp.pubkey())
        # the command's world (its default seed), beside, to pick a Whirlpool of SPL mints
        w = World(WorldConfig(seed=SIM_SEED))
        pool = next(iter(pools_of(w, "whirlpool", spl_only=True)))
        venue = venues.by_kind("whirlpool")
        async with RpcClient(http) as rpc:
            info = await rpc.call("simInfo")
            assert len(info["programs"]) == len(find_programs(folder))
            await rpc.call("requestAirdrop", [me, 10**10])
            src = (await rpc.call("simFund", [me, pool.mint_a, 10**12]))["ata"]
            dst = (await rpc.call("simFund", [me, pool.mint_b, 0]))["ata"]
            acc = (await rpc.get_multiple_accounts([pool.address]))[pool.address]
            assert acc is not None
            rec = venue.decode_pool(engine_rs.backend(), acc.data, acc.owner)
            leg = venues.Leg(
                pool.address,
                rec,
                me,
                pool.mint_a,
                pool.mint_b,
                src,
                dst,
                10**6,
                1,
                {pool.mint_a: I.SPL_TOKEN, pool.mint_b: I.SPL_TOKEN},
            )
            bh, _ = await rpc.get_latest_blockhash()
            tx = compile_and_sign(
                kp,
                kp.pubkey(),
                [I.set_compute_unit_limit(400_000), venue.swap_instruction(leg)],
                bh,
                [],
            )
            sig = await rpc.send_transaction(b64(tx), skip_preflight=False)
            # the command is another process: its status is polled, until it says or a
            # minute passes (a busy machine's slots are slower, not fewer)
            got: list[Any] = []

            async def answered() -> bool:
                got[:] = await rpc.get_signature_statuses([sig])
                return got[0] is not None

            await until_answered(answered, 60.0, every=0.1)
            assert got[0]["err"] is None
            stats = (await rpc.call("simInfo"))["stats"]
            assert stats["by_bank"] >= 2  # its preflight and its landing
        p.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(p.communicate(), 60)
    finally:
        if p.returncode is None:
            p.kill()
            await p.wait()
    lines = err.decode().strip().splitlines()
    loaded = [ln for ln in lines if ln.startswith("arbscope sim: program ") and "sha256" in ln]
    assert len(loaded) == len(find_programs(folder)) + 1  # every program, then AMM v4's
    assert sum("not run:" in ln for ln in loaded) == 1
    assert lines[-1].startswith("arbscope sim: transactions run by the real programs ")
    assert "Traceback" not in err.decode()


async def test_a_programs_folder_that_cannot_be_used_is_one_line(tmp_path: Path) -> None:
    """``sim --programs`` and ``run --programs`` of a folder without binaries, or of
    none: one line, exit 2."""
    programs()
    (tmp_path / "empty").mkdir()
    for args in (
        ["sim", "--programs", str(tmp_path / "empty")],
        ["run", "--headless", "--no-record", "--programs", str(tmp_path / "nope")],
    ):
        code, _, stderr = await run_arbscope(args, cli_env(tmp_path), timeout=60)
        assert code == 2 and "Traceback" not in stderr, stderr
        assert "programs" in stderr and len(stderr.strip().splitlines()) <= 2, stderr


def test_the_bench_measures_the_simulator_both_ways(tmp_path: Path) -> None:
    """``python -m bench.sim_bank`` (a tiny run): its table and JSON, both ways, the
    Whirlpool swaps run by the bank, AMM v4's by the Python programs, a transaction of
    both by both (numbers are measured, never asserted)."""
    from tests.support.processes import run_python

    folder = programs()
    out = tmp_path / "bank.json"
    args = ["--programs", str(folder), "--slots", "2", "--txs", "2", "--reps", "1"]
    run = run_python(["-m", "bench.sim_bank", *args, "--json", str(out)], timeout=300)
    assert run.returncode == 0, run.stderr
    assert "with --programs" in run.stdout and "whirlpool txs a slot, tx/s" in run.stdout
    data = json.loads(out.read_text())
    wp, v4 = data["flows"]["whirlpool"]["with"], data["flows"]["amm_v4"]["with"]
    both = data["flows"]["whirlpool+amm_v4"]["with"]
    assert wp["by_bank"] > 0 and wp["by_python"] == 0 == wp["mixed"]
    assert v4["by_bank"] == 0 == v4["mixed"] and v4["by_python"] > 0
    assert both["mixed"] > 0 and both["by_bank"] == 0 == both["by_python"]
