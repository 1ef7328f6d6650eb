"""Real program binaries as the simulator's bank: LiteSVM (in solders) runs a
transaction with the compiled programs found in a folder, on a copy of the world's
accounts, and hands back what a node would: the error in the node's JSON form, the
logs, the compute units, the fee, and every account the transaction named as it left it.

The folder holds BPF ELF files (``../shared/programs/``, or what ``arbscope programs
dump`` wrote): a file is a program's when its name is the program's id (``<base58>.so``,
as ``programs dump`` names them) or one of the names in :data:`KNOWN` (the names the
programs' public repositories give their test artifacts).

What the bank decides and what it leaves to the caller (:class:`~feeds.sim.chain.Chain`):
the chain checks what a node checks before running anything (signatures, blockhash or
durable nonce, the fee payer, the account locks) and keeps the ledger; the bank runs the
instructions — every one, the builtins and token programs too, so a transaction is all
or nothing as the runtime makes it — with signature and blockhash checks off (the chain
made them). A durable nonce advanced in the bank stores LiteSVM's blockhash; the chain
stores its own instead (:func:`feeds.sim.system.durable_nonce`), as a node stores the
durable nonce of its bank's blockhash.

What a node serves of a program (:func:`program_accounts`, layouts in
:mod:`feeds.wire.loader`): the upgradeable loader's program account and its programdata
account holding the ELF, or for the programs mainnet keeps on the older loader one
executable account whose data is the ELF: what ``getAccountInfo`` shows and ``arbscope
programs dump`` reads back.

A binary older than the instruction arbscope sends (the shared AMM v4 binary predates
``SwapBaseInV2``) must not fail every order: :meth:`Bank.probe` runs each venue's own swap
(``Venue.sizing_swap``) on placeholder keys, and a program that refuses the instruction
itself — the runtime's ``InvalidInstructionData``, or an Anchor program's
``InstructionMissing`` / ``InstructionFallbackNotFound`` / ``InstructionDidNotDeserialize``
(anchor-lang ``ErrorCode`` 100 to 103), all raised before any account is read — cannot run
arbscope's swap: the bank refuses it (:attr:`Bank.refused`, with the reason) and its
transactions stay on the simulator's own programs. A binary older than the accounts the
world holds (the shared Raydium CLMM build reads an ``ObservationState`` of another
layout and panics on today's) is found the same way by a real swap of a world pool
(:func:`account_refusal`, run by the chain at start: :meth:`Chain._probe_accounts`).

Nothing here does I/O but reading the folder once; the bank is pure computation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..venues import refused_instruction
from ..wire import loader
from .state import Account, InnerIx

# the file names of the programs' public test artifacts (``../shared/programs/README.md``):
# program id and the date of the build (where several builds of one program are in a
# folder, the newest is the one loaded: the judge is today's program, as near as we have it)
KNOWN_BUILDS = {
    "whirlpool-20250911.so": ("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc", "2025-09-11"),
    "lb_clmm_prod.so": ("LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo", "2025-01-01"),
    "raydium_cp_swap.so": ("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C", "2025-02-01"),
    "raydium_cp_swap-20260417.so": ("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C", "2026-04-17"),
    "raydium_amm_v3.so": ("CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK", "2024-04-01"),
    "raydium_clmm-20260427.so": ("CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK", "2026-04-27"),
    "raydium_amm_legacy_v4.so": ("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8", "2025-05-01"),
    "openbook_v2.so": ("opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb", "2023-10-01"),
    "openbook_v2-mainnet-2024.so": ("opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb", "2024-09-01"),
    "cp_amm-20260316.so": ("cpamdpZCGKUy5JxQXB4dcpGPiikHawvSWAd6mEn1sGG", "2026-03-16"),
    "manifest-20260112.so": ("MNFSTqtC93rEfYHB6hF82sKdZpUDFWkViLByLd1k1Ms", "2026-01-12"),
    "spl_token_2022.so": ("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb", ""),
    "spl_token.so": ("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", ""),
    "spl_associated_token_account.so": ("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL", ""),
    "mpl_token_metadata.so": ("metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s", ""),
}
KNOWN = {name: pid for name, (pid, _) in KNOWN_BUILDS.items()}
ELF_MAGIC = b"\x7fELF"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
# what LiteSVM runs without a file: the builtins, and the programs it carries (SPL Token,
# Token-2022, the ATA program, the memo programs, the lookup-table program)
BUILTINS = frozenset(
    (
        SYSTEM_PROGRAM,
        "ComputeBudget111111111111111111111111111111",
        "AddressLookupTab1e1111111111111111111111111",
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
        "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
        "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
        "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
        "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo",
    )
)
SYSVARS_PREFIX = "Sysvar"  # the sysvars are the bank's own (the clock set from the world's)
LAMPORTS_PER_SIGNATURE = 5_000  # what LiteSVM charges a signature


class ProgramsError(ValueError):
    """A programs folder that cannot be used: missing, empty, or a file that is not a
    program (said in one line, with the path)."""


def _is_key(text: str) -> bool:
    from solders.pubkey import Pubkey

    try:
        return len(bytes(Pubkey.from_string(text))) == 32
    except ValueError:
        return False


def find_programs(folder: str | Path, builds: str = "newest") -> dict[str, Path]:
    """The programs in ``folder``: program id -> file (see the module doc). Files whose
    name says no program id are passed over; a file named for one that is not an ELF
    is a :class:`ProgramsError`. Where the folder holds several builds of one program
    (``KNOWN_BUILDS``), the newest is taken (``builds="oldest"``: the oldest, to say how
    the program changed); a file named by its program id is taken over any dated one
    (what ``arbscope programs dump`` read off a chain is today's)."""
    return {
        pid: found[-1 if builds == "newest" else 0] for pid, found in all_builds(folder).items()
    }


def all_builds(folder: str | Path) -> dict[str, list[Path]]:
    """Every build of each program in ``folder``, oldest first (a file named by its
    program id last: a dump of the chain's program is today's)."""
    root = Path(folder)
    if not root.is_dir():
        raise ProgramsError(f"{root}: not a folder of program binaries")
    found: dict[str, list[tuple[str, Path]]] = {}
    for path in sorted(root.glob("*.so")):
        if path.name in KNOWN_BUILDS:
            pid, date = KNOWN_BUILDS[path.name]
        elif _is_key(path.stem):
            pid, date = path.stem, "9999"
        else:
            continue
        with path.open("rb") as f:
            if f.read(4) != ELF_MAGIC:
                raise ProgramsError(f"{path}: not a program binary (no ELF header)")
        found.setdefault(pid, []).append((date, path))
    return {pid: [p for _, p in sorted(v)] for pid, v in found.items()}


@dataclass(frozen=True, slots=True)
class Program:
    """One loaded program: its id, its bytes' sha256 (what an operator compares with the
    chain's), where it came from."""

    program_id: str
    sha256: str
    path: str
    size: int


@dataclass(slots=True)
class Result:
    """What the bank did with a transaction: ``err`` None or the node's JSON form of the
    ``TransactionError``; ``logs``, ``units`` (compute units consumed), ``fee``
    (lamports the payer was charged), ``post`` (every account the transaction named, as it left
    it: None when it does not exist), ``inner`` (per top-level instruction index, the
    programs its inner instructions invoked: the events a program emits by self-CPI are
    among them), ``return_data``, ``instructions`` (the inner instructions in full, as
    a node records them: per top-level instruction index that made any, each one's
    program, accounts, data and stack height)."""

    err: Any
    logs: list[str]
    units: int
    fee: int
    post: dict[str, Account | None]
    inner: list[list[tuple[str, bytes]]] = field(default_factory=list)
    return_data: bytes = b""
    instructions: list[tuple[int, tuple[InnerIx, ...]]] = field(default_factory=list)


def node_error(e: Any) -> Any:
    """A LiteSVM ``TransactionError`` in the JSON form a node's RPC shows
    (``{"InstructionError": [i, {"Custom": n}]}``, ``"AccountNotFound"``...)."""
    name = type(e).__name__
    if name == "TransactionErrorFieldless":
        return _pascal(str(e).split(".")[-1])
    if name == "TransactionErrorInstructionError":
        inner = e.err
        iname = type(inner).__name__
        if iname == "InstructionErrorCustom":
            return {"InstructionError": [e.index, {"Custom": inner.code}]}
        if iname == "InstructionErrorBorshIO":
            return {"InstructionError": [e.index, {"BorshIoError": str(inner.value)}]}
        return {"InstructionError": [e.index, _pascal(str(inner).split(".")[-1])]}
    if name == "TransactionErrorInsufficientFundsForRent":
        return {"InsufficientFundsForRent": {"account_index": e.account_index}}
    if name == "TransactionErrorDuplicateInstruction":
        return {"DuplicateInstruction": e.index}
    return _pascal(str(e).split(".")[-1].split("(")[0])


def _pascal(text: str) -> str:
    """solders prints some error variants in their Rust names already; others in
    ``UPPER_SNAKE`` (its Python enum's): the node writes them in PascalCase."""
    if "_" not in text and not text.isupper():
        return text
    return "".join(p.capitalize() for p in text.lower().split("_"))


def program_accounts(
    program_id: str, elf: bytes, slot: int, authority: str | None, rent: Any
) -> dict[str, Account]:
    """The accounts a node holds for a deployed program, as mainnet shows them
    (:func:`feeds.wire.loader.program_accounts`: the upgradeable loader's program and
    programdata accounts, or one older loader's account holding the ELF).
    ``rent(size)``: the rent-exempt lamports of an account of that size."""
    return {
        k: Account(*v)
        for k, v in loader.program_accounts(program_id, elf, slot, authority, rent).items()
    }


# why a program refused an instruction's data itself (InvalidInstructionData, Anchor 100-103):
# the rule the live executor applies to a real node's refusal too
refusal = refused_instruction


# Anchor's account errors (anchor-lang ``ErrorCode`` 3000 to 3999: discriminator, owner,
# size, deserialization, ...): an account the program cannot read as its own
ANCHOR_ACCOUNT_ERRORS = range(3000, 4000)


def account_refusal(err: Any, logs: Sequence[str], program: str, anchor: bool) -> str | None:
    """Why ``program`` could not read the accounts of a well-formed swap of its own pool,
    from a simulation's error and logs (None: it read them, whatever came after): it
    panicked (``ProgramFailedToComplete``: an account of another layout read past its
    end, say), or an Anchor program failed one of its account checks."""
    if not isinstance(err, dict) or "InstructionError" not in err:
        return None
    detail = err["InstructionError"][1]
    panic = next(
        (
            line.removeprefix("Program log: ")
            for line in logs
            if line.startswith("Program log: panicked")
        ),
        "",
    )
    if detail == "ProgramFailedToComplete":
        return "ProgramFailedToComplete" + (f" ({panic})" if panic else "")
    code = detail.get("Custom") if isinstance(detail, dict) else None
    if anchor and code in ANCHOR_ACCOUNT_ERRORS:
        said = next((line for line in logs if "AnchorError" in line), "")
        return f"Anchor {code}" + (f" ({said.removeprefix('Program log: ')[:160]})" if said else "")
    return None


class Bank:
    """LiteSVM with the programs of ``programs`` (program id -> ELF bytes) loaded at
    their ids. :meth:`execute` runs one transaction on the accounts it is given.
    ``refused``: the loaded programs the bank does not run, with the reason
    (:meth:`probe`)."""

    def __init__(self, programs: Mapping[str, bytes], origin: Mapping[str, str] | None = None):
        from solders.litesvm import LiteSVM
        from solders.pubkey import Pubkey

        self._svm = LiteSVM().with_sigverify(False).with_blockhash_check(False)
        self.loaded: dict[str, Program] = {}
        for pid, elf in programs.items():
            if elf[:4] != ELF_MAGIC:
                raise ProgramsError(f"{pid}: not a program binary (no ELF header)")
            self._svm.add_program(Pubkey.from_string(pid), bytes(elf))
            where = (origin or {}).get(pid, "")
            self.loaded[pid] = Program(pid, hashlib.sha256(elf).hexdigest(), where, len(elf))
        self.elf: dict[str, bytes] = {k: bytes(v) for k, v in programs.items()}
        self.refused: dict[str, str] = {}
        self.runs = 0

    @classmethod
    def from_folder(
        cls, folder: str | Path, only: Iterable[str] | None = None, builds: str = "newest"
    ) -> Bank:
        """A bank with every program of ``folder`` (:func:`find_programs`: the newest
        build of each, or with ``builds="oldest"`` the oldest), or only those of
        ``only``; :class:`ProgramsError` when it holds none."""
        found = find_programs(folder, builds)
        if only is not None:
            keep = set(only)
            found = {k: v for k, v in found.items() if k in keep}
        if not found:
            raise ProgramsError(
                f"{folder}: no program binaries found (*.so named by program "
                "id, or by the names of ../shared/programs/README.md)"
            )
        return cls(
            {k: p.read_bytes() for k, p in found.items()}, {k: str(p) for k, p in found.items()}
        )

    def describe(self) -> list[str]:
        """One line per loaded program (id, file, sha256), then one per refused program
        (the file, its sha256, why): what the simulator says at start."""
        out = [
            f"program {p.program_id} {p.path or '(bytes)'} sha256 {p.sha256}"
            for p in self.loaded.values()
        ]
        for pid, why in self.refused.items():
            p = self.loaded[pid]
            out.append(
                f"program {pid} not run: {p.path or '(bytes)'} (sha256 {p.sha256}) "
                f"{why}; its pools stay on the simulator's own program"
            )
        return out

    def runs_program(self, program_id: str) -> bool:
        """Whether the bank can run ``program_id`` (a loaded binary or one LiteSVM
        carries, and not one it refused)."""
        if program_id in self.refused:
            return False
        return program_id in self.loaded or program_id in BUILTINS

    def runs_binary(self, program_id: str) -> bool:
        """Whether ``program_id`` is a loaded binary the bank runs (not refused)."""
        return program_id in self.loaded and program_id not in self.refused

    def instruction(
        self,
        program: str,
        metas: Sequence[tuple[str, bool, bool]],
        data: bytes,
        payer: str,
        limit: int,
        accounts: Mapping[str, Account | None],
    ) -> Result:
        """Run one instruction of a transaction the bank cannot run whole (another of
        its programs has no binary here): ``program`` with ``metas`` (key, signs, is
        writable: as the transaction gives them) and ``data``, on ``accounts``, with
        ``limit`` compute units left of the transaction's budget. It runs as a
        transaction of its own (a compute-unit limit of ``limit``, then the
        instruction) from ``payer``, which pays no fee for it (the transaction paid
        its own). The result is the instruction's alone: its error at index 0, its
        log lines from its ``invoke [1]``, the units it consumed (its
        ``consumed`` line: its inner calls included), every account it named as it
        left it."""
        from solders.hash import Hash
        from solders.instruction import AccountMeta, Instruction
        from solders.message import MessageV0
        from solders.pubkey import Pubkey
        from solders.signature import Signature
        from solders.transaction import VersionedTransaction

        from ..wire.instructions import set_compute_unit_limit

        ix = Instruction(
            Pubkey.from_string(program),
            data,
            [AccountMeta(Pubkey.from_string(k), s, w) for k, s, w in metas],
        )
        ixs = [set_compute_unit_limit(limit), ix]
        msg = MessageV0.try_compile(Pubkey.from_string(payer), ixs, [], Hash.default())
        tx = VersionedTransaction.populate(
            msg, [Signature.default()] * msg.header.num_required_signatures
        )
        keys = [str(k) for k in msg.account_keys]
        # the payer holds what its fee here takes, and gets it back after
        fee = LAMPORTS_PER_SIGNATURE * msg.header.num_required_signatures
        before = accounts.get(payer)
        seen: dict[str, Account | None] = {k: accounts.get(k) for k in keys}
        if before is not None:
            seen[payer] = Account(
                before.owner, before.data, before.lamports + fee, before.executable
            )
        out = self.execute(tx, keys, seen, commit=False)
        paid = out.post.get(payer)
        if paid is not None:
            out.post[payer] = Account(
                paid.owner, paid.data, paid.lamports - fee + out.fee, paid.executable
            )
        err = out.err
        if isinstance(err, dict) and "InstructionError" in err:
            err = {"InstructionError": [0, err["InstructionError"][1]]}
        start = next(
            (j for j, line in enumerate(out.logs) if line == f"Program {program} invoke [1]"), 0
        )
        logs = out.logs[start:]
        units = out.units
        for line in logs:
            if line.startswith(f"Program {program} consumed "):
                units = int(line.split()[3])  # the last: its top-level invocation's
        # its inner instructions: those of the transaction's instruction 1 (after the
        # compute budget), at the caller's index (0 here; the caller sets its own)
        calls = [(0, ixs_) for at, ixs_ in out.instructions if at == 1]
        return Result(err, logs, units, 0, out.post, out.inner, out.return_data, calls)

    def probe(self, venues: Iterable[Any]) -> dict[str, str]:
        """Refuse every loaded DEX program that cannot run the swap arbscope builds for
        it (see the module doc): its venue's ``sizing_swap`` — the SPL Token form and
        the Token-2022 one, where the venue builds another — on placeholder keys, in a
        transaction of its own from a funded payer; a refusal of the instruction data
        is kept in :attr:`refused` (program id -> why, naming the instruction's first
        bytes). The newly refused programs are returned."""
        from solders.hash import Hash
        from solders.keypair import Keypair
        from solders.message import MessageV0
        from solders.pubkey import Pubkey
        from solders.transaction import VersionedTransaction

        payer = Keypair.from_seed(hashlib.sha256(b"arbscope-bank-probe").digest())
        me = str(payer.pubkey())

        def key(*parts: object) -> str:
            seed = hashlib.sha256(":".join(map(str, ("arbscope-probe", *parts))).encode())
            return str(Pubkey(seed.digest()))

        token, token22 = (
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
            ("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"),
        )
        found: dict[str, str] = {}
        for v in venues:
            pid = v.program
            if pid not in self.loaded or pid in self.refused:
                continue
            keys = [key(v.name, i) for i in range(8)]
            shapes: dict[bytes, Any] = {}
            for programs in ((token, token), (token22, token22)):
                ix = v.sizing_swap(
                    me, keys, key("source"), key("dest"), key("mint-in"), key("mint-out"), programs
                )
                shapes.setdefault(bytes(ix.data)[:8], ix)
            for head, ix in shapes.items():
                msg = MessageV0.try_compile(payer.pubkey(), [ix], [], Hash.default())
                tx = VersionedTransaction(msg, [payer])
                names = [str(k) for k in msg.account_keys]
                out = self.execute(
                    tx, names, {me: Account(SYSTEM_PROGRAM, b"", 10**9)}, commit=False
                )
                why = refusal(out.err, bool(v.anchor))
                if why is not None:
                    found[pid] = (
                        f"refuses arbscope's {v.name} swap (instruction data "
                        f"{head.hex()}...) with {why}"
                    )
                    break
        self.refused.update(found)
        return found

    def programs_of(self, tx: Any, keys: list[str]) -> list[str]:
        """The programs ``tx``'s top-level instructions invoke (``keys``: its resolved
        account keys)."""
        return list(dict.fromkeys(keys[ix.program_id_index] for ix in tx.message.instructions))

    def can_run(self, tx: Any, keys: list[str]) -> bool:
        """Whether every program ``tx`` invokes at the top level is one the bank runs,
        and one of them a loaded binary (else the simulator's own programs run it)."""
        progs = self.programs_of(tx, keys)
        return all(self.runs_program(p) for p in progs) and any(p in self.loaded for p in progs)

    def set_clock(
        self, slot: int, epoch_start: int, epoch: int, leader_epoch: int, unix_time: int
    ) -> None:
        """The Clock sysvar the programs read (``Clock::get``)."""
        from solders.clock import Clock

        self._svm.set_clock(Clock(slot, epoch_start, epoch, leader_epoch, unix_time))

    def set_clock_bytes(self, data: bytes) -> None:
        """The Clock sysvar from its 40 account bytes (slot, epoch start, epoch, leader
        schedule epoch, unix time)."""
        import struct

        slot, start, epoch, leader, unix = struct.unpack_from("<QqQQq", data)
        self.set_clock(slot, start, epoch, leader, unix)

    def _put(self, key: str, acc: Account | None) -> None:
        from solders.account import Account as SvmAccount
        from solders.pubkey import Pubkey

        pk = Pubkey.from_string(key)
        if acc is None:  # absent: as the runtime sees a missing account
            self._svm.set_account(pk, SvmAccount(0, b"", Pubkey.from_string(SYSTEM_PROGRAM)))
            return
        self._svm.set_account(
            pk, SvmAccount(acc.lamports, acc.data, Pubkey.from_string(acc.owner), acc.executable)
        )

    def _get(self, key: str) -> Account | None:
        from solders.pubkey import Pubkey

        a = self._svm.get_account(Pubkey.from_string(key))
        if a is None or (a.lamports == 0 and not a.data):
            return None
        return Account(str(a.owner), bytes(a.data), a.lamports, bool(a.executable))

    def execute(
        self,
        tx: Any,
        keys: list[str],
        accounts: Mapping[str, Account | None],
        tables: Mapping[str, Account] | None = None,
        commit: bool = True,
    ) -> Result:
        """Run ``tx`` (a solders ``VersionedTransaction``; ``keys``: every account it
        names, static then looked up) on ``accounts`` (the world's value of each key;
        missing or None: the account does not exist) and ``tables`` (the lookup tables a
        v0 message resolves through). ``commit`` False: a simulation (nothing is kept
        in the bank either way: each run starts from the accounts given)."""
        for k in keys:
            if k in self.loaded or k in BUILTINS or k.startswith(SYSVARS_PREFIX):
                continue  # programs and sysvars are the bank's own
            self._put(k, accounts.get(k))
        for k, acc in (tables or {}).items():
            self._put(k, acc)
        self._svm.expire_blockhash()  # a fresh blockhash: a durable nonce may advance
        self.runs += 1
        from solders.transaction_metadata import (
            FailedTransactionMetadata,
            SimulatedTransactionInfo,
        )

        out = self._svm.simulate_transaction(tx) if not commit else self._svm.send_transaction(tx)
        err = None
        post: dict[str, Account | None] = {}
        if isinstance(out, FailedTransactionMetadata):
            err = node_error(out.err())
            meta = out.meta()
        elif isinstance(out, SimulatedTransactionInfo):
            meta = out.meta()
            got = {str(k): a for k, a in out.post_accounts()}
            for k in keys:
                if k in self.loaded or k in BUILTINS or k.startswith(SYSVARS_PREFIX):
                    continue  # the bank's own, as after a committed run
                a = got.get(k)
                if a is None:
                    post[k] = self._get(k)
                elif a.lamports == 0 and not a.data:
                    post[k] = None
                else:
                    post[k] = Account(str(a.owner), bytes(a.data), a.lamports, bool(a.executable))
        else:
            meta = out
        if not isinstance(out, SimulatedTransactionInfo):
            for k in keys:
                if k in self.loaded or k in BUILTINS or k.startswith(SYSVARS_PREFIX):
                    continue
                post[k] = self._get(k)
        groups = list(meta.inner_instructions() or [])
        inner = [
            [(keys[c.program_id_index], bytes(c.data)) for c in (ii.instruction() for ii in group)]
            for group in groups
        ]
        calls = [
            (
                at,
                tuple(
                    InnerIx(
                        keys[c.program_id_index],
                        tuple(keys[j] for j in bytes(c.accounts)),
                        bytes(c.data),
                        int(ii.stack_height() or 2),
                    )
                    for ii in group
                    for c in (ii.instruction(),)
                ),
            )
            for at, group in enumerate(groups)
            if group
        ]
        rd = meta.return_data()
        return Result(
            err,
            list(meta.logs()),
            int(meta.compute_units_consumed()),
            int(meta.fee()),
            post,
            inner,
            bytes(rd.data) if rd is not None else b"",
            calls,
        )
