"""The simulator with the real programs as its bank (``arbscope sim --programs``):
the venues' simulated programs (``Program.load``) read a pool's state back from its bytes exactly as the world
holds it; the bank's probe refuses a binary older than arbscope's swap; a chain with a
bank runs what the bank can run there and the rest on the Python programs."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

import pytest
from solders.hash import Hash

from feeds import venues
from feeds.sim import programs
from feeds.sim.world import World, WorldConfig
from tests.support.pools import view


def test_every_venue_reads_its_pools_back() -> None:
    """The registry's parts: every venue's simulator reads its pools back (``load``)."""
    assert [s.venue.name for s in programs.SIMULATED if s.program.load is None] == []


@pytest.mark.parametrize("seed", [3, 7, 63])
@pytest.mark.parametrize("slots", [0, 40])
def test_load_on_the_worlds_own_bytes_is_the_state_it_holds(seed: int, slots: int) -> None:
    """Every pool of every venue, as created and after ``slots`` slots of the market's
    own trades (mainnet's pool writes on: what the programs write beside the price):
    ``load`` on its accounts gives back exactly the state the world holds."""
    w = World(WorldConfig.mainnet_like(seed=seed, competitors=0))
    for _ in range(slots):
        w.step()
    seen: dict[str, int] = {}
    for pool in w.pools:
        load = programs.by_kind(pool.kind).program.load
        assert load is not None
        before = view(pool)
        load(w, pool)
        assert view(pool) == before, (pool.kind, pool.address)
        seen[pool.kind] = seen.get(pool.kind, 0) + 1
    assert set(seen) == set(venues.KINDS), seen  # every venue had pools to read back
    for pool in w.pools:  # and the market's own trades go on from what was read
        for a_to_b in (True, False):
            w.swap(pool, a_to_b, w._trade_size(pool, a_to_b, 0.001))


# ------------------------------------------------------------------ program accounts
ELF = b"\x7fELF" + bytes(range(256)) * 40  # a program's bytes (the layouts never look inside)
AUTHORITY = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"


@pytest.mark.parametrize(
    "pid",
    ["whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc", "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"],
)
@pytest.mark.parametrize("authority", [AUTHORITY, None])
def test_a_programs_accounts_read_back_as_the_dump_reads_them(pid: str, authority: Any) -> None:
    """The accounts the simulator serves for a program (the upgradeable loader's program
    and programdata accounts; SPL Token as the older loader's ELF account) read back as
    ``programs dump`` reads them: the same bytes, slot and authority."""
    from feeds.wire import loader

    accounts = loader.program_accounts(pid, ELF, 300_000_000, authority, lambda n: 7 * n)
    owner, data, lamports, executable = accounts[pid]
    assert executable and lamports == 7 * len(data)
    where = loader.program_account(pid, owner, data, executable)
    if pid in loader.LOADER_V2_PROGRAMS:
        assert where is None and list(accounts) == [pid] and owner == loader.LOADER_V2
        assert loader.deployed(pid, owner, data) == loader.Deployed(ELF, loader.LOADER_V2)
        return
    assert where == loader.programdata_address(pid) and set(accounts) == {pid, where}
    pd_owner, pd, _, pd_exec = accounts[where]
    assert not pd_exec and len(pd) == loader.PROGRAMDATA_HEADER + len(ELF)
    got = loader.deployed(pid, owner, data, pd, pd_owner)
    assert got == loader.Deployed(ELF, loader.UPGRADEABLE_LOADER, 300_000_000, authority, where)


def test_accounts_that_are_not_deployed_programs_say_why() -> None:
    """Each way an account is not a program: owned by no loader, a programdata account
    or a buffer given as a program, not executable, its programdata missing (closed), a
    loader v4 program retracted, bytes that are not an ELF."""
    from feeds.wire import loader

    pid = "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"
    accounts = loader.program_accounts(pid, ELF, 5, None, lambda n: n)
    _, prog, _, _ = accounts[pid]
    where = loader.programdata_address(pid)
    _, pd, _, _ = accounts[where]
    cases: list[tuple[Callable[[], Any], str]] = [
        (
            lambda: loader.program_account(pid, "11111111111111111111111111111111", b"", False),
            "not a loader",
        ),
        (
            lambda: loader.program_account(where, loader.UPGRADEABLE_LOADER, pd, False),
            "a programdata account, not a program",
        ),
        (
            lambda: loader.program_account(
                pid, loader.UPGRADEABLE_LOADER, struct.pack("<I", 1) + bytes(33), False
            ),
            "a program buffer",
        ),
        (
            lambda: loader.program_account(pid, loader.UPGRADEABLE_LOADER, prog, False),
            "is not executable",
        ),
        (
            lambda: loader.deployed(pid, loader.UPGRADEABLE_LOADER, prog, None),
            "does not exist (the program was closed)",
        ),
        (
            lambda: loader.deployed(pid, loader.UPGRADEABLE_LOADER, prog, prog),
            "is not its programdata account",
        ),
        (lambda: loader.deployed(pid, loader.LOADER_V4, bytes(48) + ELF), "retracted"),
        (lambda: loader.deployed(pid, loader.LOADER_V2, b"MZ" + ELF), "not an ELF"),
    ]
    for call, why in cases:
        with pytest.raises(loader.NotAProgram, match=re.escape(why)):
            call()
    v4 = struct.pack("<Q", 9) + bytes(32) + struct.pack("<Q", 2) + ELF  # finalized
    assert loader.deployed(pid, loader.LOADER_V4, v4) == loader.Deployed(ELF, loader.LOADER_V4, 9)


def test_a_refusal_of_the_instruction_itself_is_told_from_an_account_error() -> None:
    """What makes the probe refuse a binary: the runtime's InvalidInstructionData, or an
    Anchor program's instruction errors (100 to 103); an account error (a missing
    account, Anchor's 3012), another program's custom 102, a transaction error: not."""
    from feeds.sim.bank import refusal

    ix = {"InstructionError": [0, "InvalidInstructionData"]}
    assert refusal(ix, False) == refusal(ix, True) == "InvalidInstructionData"
    for code in (100, 101, 102, 103):
        anchor = {"InstructionError": [0, {"Custom": code}]}
        assert refusal(anchor, True) is not None and refusal(anchor, False) is None
    other: Any
    for other in (
        {"InstructionError": [0, {"Custom": 3012}]},
        {"InstructionError": [0, "NotEnoughAccountKeys"]},
        "AccountNotFound",
        None,
    ):
        assert refusal(other, True) is None


def test_a_chain_without_a_bank_counts_its_own_runs() -> None:
    """Without ``--programs`` every transaction that runs is the simulator's own."""
    from solders.keypair import Keypair
    from solders.message import Message
    from solders.transaction import VersionedTransaction

    from feeds.sim.chain import Chain
    from feeds.wire import instructions as I

    w = World(WorldConfig(seed=3, trades_per_slot=0, dislocation_rate=0.0))
    c = Chain(w, accept=True)
    kp = Keypair()
    c.airdrop([str(kp.pubkey()), 10**9])
    msg = Message.new_with_blockhash(
        [I.set_compute_unit_price(1)], kp.pubkey(), Hash.from_string(c.latest_blockhash()[0])
    )
    assert c.run(VersionedTransaction(msg, [kp]), commit=True).err is None
    assert (c.stats.by_bank, c.stats.by_python) == (0, 1)
