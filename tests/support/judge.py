"""The real programs as the judge: a simulated market beside LiteSVM running the real
binaries of ``../shared/programs/`` (:class:`feeds.sim.bank.Bank`), one wallet in both.

A :class:`Judge` builds a hop exactly as the live executor does (the pool account decoded
by its venue from the world's bytes, each mint's token program read from the mint's
owner, the wallet's associated token accounts of those programs, the venue's
``swap_instruction``, live's ``compile_and_sign``), runs the transaction through the real
programs on a copy of the world's accounts and through the simulator's own runtime
(:class:`feeds.sim.chain.Chain`), and quotes the same hop through the engine the way a
session does (``FeedIngest`` fed the world's accounts, ``PoolGraph.quote``), on both
backends. Tests compare the three to the unit.

The binaries are test data: absent (a user's clone), every test using :func:`programs`
skips with the reason.
"""

from __future__ import annotations

import hashlib
import os
import types
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import strategies as st
from solders.keypair import Keypair

import engine_rs
from arbscope.execution.live import compile_and_sign
from engine_rs.errors import EngineError
from feeds import venues
from feeds.sim.bank import Bank, Result
from feeds.sim.chain import Chain, Outcome
from feeds.sim.state import Account, Pool
from feeds.sim.world import SYSVAR_CLOCK, World, WorldConfig
from feeds.wire import instructions as I
from tests.support.truth import feed

ROOT = Path(__file__).resolve().parents[2]
# ``../shared/programs`` beside the checkout; ARBSCOPE_PROGRAMS names another folder (a
# git worktree's checkout is not beside it)
PROGRAMS = Path(os.environ.get("ARBSCOPE_PROGRAMS") or ROOT.parent / "shared" / "programs")
QUIET = {"trades_per_slot": 0, "dislocation_rate": 0.0}
# one bank a folder and build choice for the whole test session: loading a dozen binaries
# into LiteSVM is most of what a new judge costs, and a bank keeps nothing from one run to
# the next that a run reads (every account a transaction names is set before it runs, the
# Clock sysvar too, a fresh blockhash each time)
_BANKS: dict[tuple[str, str], Bank] = {}


def shared_bank(folder: Path, builds: str = "newest") -> Bank:
    """The session's bank of ``folder``'s programs (``builds``: the newest or the oldest
    build of each)."""
    key = (str(folder), builds)
    if key not in _BANKS:
        _BANKS[key] = Bank.from_folder(folder, builds=builds)
    return _BANKS[key]


def programs() -> Path:
    """``../shared/programs`` (skips the calling test with the reason when absent)."""
    if not PROGRAMS.is_dir():
        pytest.skip(f"{PROGRAMS} absent (a user's clone): the real programs are not run")
    return PROGRAMS


@dataclass(slots=True)
class Run:
    """One transaction through both runtimes: the simulator's ``sim`` and the real
    programs' ``real``."""

    sim: Outcome
    real: Result


Arrays = Sequence[str] | None  # the tick / bin arrays a quote tracks (None: every one)


class Judge:
    """A quiet simulated market (``config``) and the real programs of ``folder`` (the
    newest build of each; ``builds="oldest"``: the oldest, to say how a program changed),
    one funded wallet (``me``) in both (the bank reads the world's accounts)."""

    def __init__(
        self,
        config: WorldConfig | None = None,
        folder: Path | None = None,
        lamports: int = 100 * 10**9,
        builds: str = "newest",
    ) -> None:
        self.world = World(config or WorldConfig(seed=3, **QUIET))  # type: ignore[arg-type]
        self.chain = Chain(self.world, accept=True)
        self.bank = shared_bank(folder or programs(), builds)
        # the wallet is the world's seed's (a random one would change the accounts'
        # order in each transaction, and with it what a derandomized property test draws)
        seed = hashlib.sha256(f"arbscope-judge-wallet:{self.world.config.seed}".encode())
        self.kp = Keypair.from_seed(seed.digest())
        self.me = str(self.kp.pubkey())
        self.chain.airdrop([self.me, lamports])

    # ------------------------------------------------------------ the wallet
    def program_of(self, mint: str) -> str:
        """The token program that owns ``mint`` (what live reads off the mint account)."""
        return self.world.accounts[mint].owner

    def ata(self, mint: str) -> str:
        return I.ata_address(self.me, mint, self.program_of(mint))

    def fund(self, mint: str, amount: int) -> str:
        """``amount`` more of ``mint`` in the wallet's token account (made if missing)."""
        return str(self.chain.fund([self.me, mint, amount])["ata"])

    def balance(self, mint: str) -> int:
        t = self.world.token_account(self.ata(mint))
        return -1 if t is None else t.amount

    def advance(self, seconds: float) -> None:
        """Move the chain's clock about ``seconds`` on (at least a slot) with nothing
        traded in between: the world's slot and Clock sysvar, a blockhash of the new
        slot (what a time-dependent program reads: a DLMM pair's fee decays)."""
        self.world.slot += max(1, round(seconds / self.world.config.slot_seconds))
        self.world._write_clock()
        self.chain._record_slot(self.world.slot)

    # ------------------------------------------------------------ what live builds
    def leg(self, pool: Pool, mint_in: str, amount: int, minimum: int = 0) -> venues.Leg:
        """The hop as ``LiveExecutor._build`` makes it (the pool read now)."""
        venue = venues.by_kind(pool.kind)
        acc = self.world.accounts[pool.address]
        rec = venue.decode_pool(engine_rs.backend(), acc.data, acc.owner)
        mint_out = pool.mint_b if mint_in == pool.mint_a else pool.mint_a
        programs = {m: self.program_of(m) for m in (pool.mint_a, pool.mint_b)}
        return venues.Leg(
            pool.address,
            rec,
            self.me,
            mint_in,
            mint_out,
            self.ata(mint_in),
            self.ata(mint_out),
            amount,
            minimum,
            programs,
        )

    def swap_ix(self, pool: Pool, mint_in: str, amount: int, minimum: int = 0) -> Any:
        return venues.by_kind(pool.kind).swap_instruction(self.leg(pool, mint_in, amount, minimum))

    def tx(
        self,
        ixs: Sequence[Any],
        cu_limit: int = I.MAX_COMPUTE_UNIT_LIMIT,
        cu_price: int = 0,
        tables: Sequence[Any] = (),
    ) -> Any:
        """A v0 transaction of ``ixs`` after a compute budget, signed as live signs."""
        budget = [I.set_compute_unit_limit(cu_limit), I.set_compute_unit_price(cu_price)]
        bh = self.chain.latest_blockhash()[0]
        return compile_and_sign(self.kp, self.kp.pubkey(), [*budget, *ixs], bh, tables)

    # ------------------------------------------------------------ running it
    def keys(self, tx: Any) -> list[str]:
        return self.chain.account_keys(tx.message)

    def real(self, tx: Any, commit: bool = True) -> Result:
        """``tx`` through the real programs on the world's accounts as they are now."""
        msg = tx.message
        tables = {
            str(t.account_key): self.world.accounts[str(t.account_key)]
            for t in getattr(msg, "address_table_lookups", ())
            if str(t.account_key) in self.world.accounts
        }
        self.bank.set_clock_bytes(self.world.accounts[SYSVAR_CLOCK].data)
        return self.bank.execute(tx, self.keys(tx), self.world.accounts, tables, commit)

    def run(self, tx: Any) -> Run:
        """``tx`` through the real programs, then through the simulator's runtime
        (committed: the world moves on by the simulator's programs)."""
        real = self.real(tx)
        return Run(self.chain.run(tx, commit=True), real)

    def step(self, slots: int) -> None:
        """The market ``slots`` slots on (a quiet world trades nothing of its own: its
        clock moves, and its prices and order books' makers; :meth:`advance` moves the
        clock alone)."""
        for _ in range(slots):
            self.world.step()

    def adopt(self, real: Result) -> None:
        """Make the world's accounts what the real programs left (the bank's post-state
        of every account the transaction named)."""
        for k, acc in real.post.items():
            if acc is None:
                self.world.accounts.pop(k, None)
            else:
                self.world.accounts[k] = acc

    # ------------------------------------------------------------ the engine's quote
    def quote(
        self, eng: types.ModuleType, pool: Pool, mint_in: str, amount: int, arrays: Arrays = None
    ) -> int | str:
        """The hop's output as a session's engine quotes it from the world's accounts (a
        ``FeedIngest`` fed every account it watches, as the snapshot feeds it), or the
        engine error's class name. ``arrays``: the tick / bin arrays the session tracks
        (None: every array of the pool)."""
        got = self.quote_steps(eng, pool, mint_in, amount, arrays)
        return got if isinstance(got, str) else got[0]

    def quote_steps(
        self,
        eng: types.ModuleType,
        pool: Pool,
        mint_in: str,
        amount: int,
        arrays: Sequence[str] | None = None,
    ) -> tuple[int, int] | str:
        """:meth:`quote` with the steps the engine counts for the hop's curve in its
        venue's compute-unit model (``PoolGraph.quote_steps``): ``(output, steps)``, or
        the engine error's class name, or ``"no fill"``."""
        g = eng.PoolGraph(base_mints=[], max_hops=3)
        g.set_slot(self.world.slot)  # the chain's slot, as a session's graph follows it:
        # its epoch picks a fee mint's transfer fee (mainnet's schedule, the world's)
        ing = eng.FeedIngest(g, 4096, 64)
        ing.track_pool(pool.address, pool.kind)
        accounts: dict[str, Account] = self.world.accounts
        venue = venues.by_kind(pool.kind)
        if arrays is None and venue.follow is not None:  # the arrays a session follows
            # around the price, an absent one as its program reads it (``_or_zeroed``)
            acc = accounts[pool.address]
            rec = venue.decode_pool(eng, acc.data, acc.owner)
            accounts = dict(accounts)
            for ta, start in venue.follow(eng, pool.address, rec, 2):
                ing.track_array(ta, pool.address)
                made = None if venue.absent is None else venue.absent(start, pool.address)
                if ta not in accounts and made is not None:
                    accounts[ta] = Account(made[0], made[1], 0)
        for ta in pool.tick_arrays if arrays is None else arrays:
            ing.track_array(ta, pool.address)
        feed(ing, accounts, self.world.slot)
        try:
            hops, steps = g.quote_steps([pool.address], mint_in, amount)
        except EngineError as e:
            return type(e).__name__
        return (int(hops[-1]), int(steps[-1])) if hops else "no fill"


def token_amount(acc: Account | None) -> int:
    """A token account's amount (-1: no account)."""
    return -1 if acc is None else int.from_bytes(acc.data[64:72], "little")


def differing(a: bytes, b: bytes) -> list[tuple[int, int]]:
    """The byte ranges where ``a`` and ``b`` differ, as (start, end) pairs."""
    out: list[tuple[int, int]] = []
    n = max(len(a), len(b))
    i = 0
    while i < n:
        if i >= len(a) or i >= len(b) or a[i] != b[i]:
            j = i
            while j < n and (j >= len(a) or j >= len(b) or a[j] != b[j]):
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def pools_of(world: World, kind: str, spl_only: bool = False) -> Iterable[Pool]:
    """The world's pools of venue ``kind`` (with ``spl_only``: both mints SPL Token's)."""
    for p in world.pools:
        if p.kind != kind:
            continue
        if spl_only and I.TOKEN_2022 in (
            world.token_programs[p.mint_a],
            world.token_programs[p.mint_b],
        ):
            continue
        yield p


def consumed(logs: Sequence[str], program: str) -> list[int]:
    """The compute units each top-level invocation of ``program`` consumed (its
    ``Program <id> consumed N of M compute units`` lines at depth 1: the instruction
    with every program it invoked)."""
    out: list[int] = []
    depth = 0
    for line in logs:
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "Program" and parts[2] == "invoke":
            depth += 1
        elif len(parts) >= 3 and parts[0] == "Program" and parts[2] in ("success", "failed:"):
            depth -= 1
        elif depth == 1 and line.startswith(f"Program {program} consumed "):
            out.append(int(parts[3]))
    return out


def program_data(logs: Sequence[str], program: str) -> list[bytes]:
    """The ``Program data:`` lines ``program`` logged itself (not the programs it
    invoked), decoded."""
    import base64

    stack: list[str] = []
    out: list[bytes] = []
    for line in logs:
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "Program" and parts[2] == "invoke":
            stack.append(parts[1])
        elif len(parts) >= 3 and parts[0] == "Program" and parts[2] in ("success", "failed:"):
            if stack:
                stack.pop()
        elif line.startswith("Program data: ") and stack and stack[-1] == program:
            out.append(base64.b64decode(line[len("Program data: ") :]))
    return out


def backends() -> dict[str, types.ModuleType]:
    """Both engines by name: the Rust extension and its Python twin."""
    return {"rust": engine_rs.load("rust"), "python": engine_rs.load("python")}


def quoted(
    j: Judge, pool: Pool, mint_in: str, amount: int, counts: Counter[str] | None = None
) -> Any:
    """The engine's quote of one hop of ``amount`` of ``mint_in`` through ``pool``: the
    same in both backends (each counted as ``quote NAME`` in ``counts``)."""
    quotes = {name: j.quote(eng, pool, mint_in, amount) for name, eng in backends().items()}
    assert quotes["python"] == quotes["rust"], quotes
    if counts is not None:
        for name in quotes:
            counts[f"quote {name}"] += 1
    return quotes["rust"]


class Hop(NamedTuple):
    """One hop through both runtimes (:func:`run_hop`): its mints, the engine's quote
    ``q``, the wallet's balances of the output and input before, each runtime's result."""

    mint_in: str
    mint_out: str
    q: Any
    out_before: int
    in_before: int
    real: Result
    sim: Outcome


def run_hop(
    j: Judge, pool: Pool, a_to_b: bool, amount: int, above: bool, counts: Counter[str]
) -> Hop:
    """``amount`` into ``pool`` (``a_to_b``) through both runtimes, the wallet funded
    with it first; its minimum the engine's quote (:func:`quoted`, counted in
    ``counts``), one unit over it with ``above``, 0 when the engine quotes none."""
    mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    q = quoted(j, pool, mint_in, amount, counts)
    minimum = (q + 1 if above else q) if isinstance(q, int) else 0
    j.fund(mint_in, amount)
    j.fund(mint_out, 0)
    out_before, in_before = j.balance(mint_out), j.balance(mint_in)
    run = j.run(j.tx([j.swap_ix(pool, mint_in, amount, minimum)]))
    return Hop(mint_in, mint_out, q, out_before, in_before, run.real, run.sim)


def charged_as_modeled(
    real: Result,
    sim: Outcome,
    program: str,
    cu: Any,
    steps: int,
    units: list[tuple[int, int, int]],
) -> None:
    """A swap's compute units: the simulator charged the model's use at ``steps``; the
    program's use is kept in ``units`` (``(steps, used, charged)``), held to the model at
    the end (:func:`units_off`)."""
    (used,) = consumed(real.logs, program)
    (charged,) = consumed(sim.logs, program)
    assert charged == cu.use(steps), (charged, steps)
    units.append((steps, used, charged))


def adopt_and_reload(j: Judge, real: Result, pool: Pool, load: Any) -> None:
    """The world takes the program's bytes (:meth:`Judge.adopt`) and the venue's
    simulator reloads ``pool`` from them (its ``SimVenue.load``)."""
    j.adopt(real)
    assert load is not None
    load(j.world, pool)


def units_by_steps(units: Sequence[tuple[int, int, int]]) -> dict[int, tuple[int, int]]:
    """The fewest and the most compute units used at each step count of ``units``
    (``(steps, used, charged)`` a swap), to print the model's fit."""
    return {
        n: (min(u for m, u, _ in units if m == n), max(u for m, u, _ in units if m == n))
        for n in sorted({n for n, _, _ in units})
    }


def units_off(
    units: Sequence[tuple[int, int, int]], margin: float, cu: Any
) -> list[tuple[int, int, int]]:
    """The swaps of ``units`` (``(steps, used, charged)``) whose use is off what the
    model charged by more than ``margin`` of it, or over the limit a hop requests."""
    return [(n, u, c) for n, u, c in units if abs(u - c) > margin * c or u > cu.limit(n)]


def same_accounts(world: World, post: dict[str, Account | None], data: bool = True) -> None:
    """Every account a transaction named is as the simulator's ``world`` left it: both
    there or both gone, the same owner and lamports, and (``data``) the same bytes."""
    for key, acc in post.items():
        mine = world.accounts.get(key)
        assert (acc is None) == (mine is None), key
        if acc is None or mine is None:
            continue
        if data:
            assert acc.data == mine.data, (key, differing(acc.data, mine.data)[:8])
        assert (acc.owner, acc.lamports) == (mine.owner, mine.lamports), key


def amount_of(size: int | float, depth: Callable[[], float]) -> int:
    """A drawn size as an amount: a whole number as it is, a float as that share of the
    input side's ``depth()`` (1 to 2^62)."""
    if isinstance(size, int):
        return size
    return max(1, min(2**62, int(depth() * size)))


# a swap's minimum one unit above the quote (else the quote): one in four
ABOVE = st.sampled_from([False, False, False, True])


def swaps(
    sizes: st.SearchStrategy[Any],
    waits: Sequence[int],
    minimums: st.SearchStrategy[Any] = ABOVE,
    max_size: int = 4,
) -> st.SearchStrategy[list[tuple[bool, Any, Any, int]]]:
    """Sequences of swaps on one pool: (a to b, size, minimum, slots waited before)."""
    return st.lists(
        st.tuples(st.booleans(), sizes, minimums, st.sampled_from(list(waits))),
        min_size=1,
        max_size=max_size,
    )


def counts_report(title: str, counts: Counter[str]) -> Callable[[], Iterator[None]]:
    """A module's autouse fixture printing its cases' ``counts`` after its last test
    (``_report = counts_report("CP-Swap", COUNTS)``; seen with ``-s``)."""

    @pytest.fixture(scope="module", autouse=True)
    def _report() -> Iterator[None]:
        yield
        if counts:
            print(f"\n{title} cases:", dict(sorted(counts.items())))

    return _report  # type: ignore[no-any-return]
