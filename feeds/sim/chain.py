"""The simulator's transaction runtime: what a node and the programs do with a signed
transaction, run against the :class:`~feeds.sim.world.World`'s accounts.

- **Blockhashes**: one per slot; a transaction's blockhash must be one of the last 150
  slots' (``lastValidBlockHeight`` = its height + 150), else ``BlockhashNotFound``.
- **Size**: a transaction over 1,232 bytes (the packet limit,
  :data:`feeds.wire.txsize.PACKET_DATA_SIZE`) is refused as a node's RPC refuses it,
  before it is even decoded.
- **Checks before anything runs** (nothing charged when they fail): the signatures
  (``sendTransaction`` with preflight, ``simulateTransaction`` with ``sigVerify``), the
  blockhash, a signature already processed (``AlreadyProcessed``), the fee payer
  (``AccountNotFound``, ``InsufficientFundsForFee``). With ``skipPreflight`` a node
  checks none of them (only that the transaction decodes) and answers its signature; one
  with a bad signature or an unknown blockhash is then dropped where it would land: no
  status, no fee, no notification, ever.
- **Fee** (spec §5.3): 5,000 lamports per signature + ``ceil(price x limit / 1e6)`` with
  the *requested* compute-unit limit (when none is set: 200,000 per instruction of a
  program, 3,000 per instruction of a builtin — system, compute budget —, SIMD-170; at
  most 1,400,000). Charged even when an instruction fails.
- **Instructions** (shared layouts in :mod:`feeds.wire.instructions`, the swaps in each
  venue's package, :mod:`feeds.venues`): compute budget, system transfer (Jito tips),
  associated-token-account creation, and exact-input swaps on every venue (Raydium AMM
  v4, CP-Swap, Orca Whirlpool). A swap runs here the same way for every venue: the pool
  and the user's token accounts looked up, the venue's program checks the accounts and
  says the direction (its simulated program, :mod:`feeds.sim.programs`), the engine's
  own swap math quotes, the minimum is enforced, tokens move; the program's own error
  codes come from its venue (slippage: AMM v4 ``0x1e``, CP-Swap ``0x1775``, Whirlpool
  ``0x1794``; token balance: AMM v4 ``0x28``, SPL Token ``0x1``). Each instruction
  costs compute units from a fixed model (a swap's from its venue); going over the
  limit fails with ``ComputationalBudgetExceeded``.
- **Address lookup tables** (:mod:`feeds.sim.alt`): the program's instructions, and a
  v0 message's lookups resolved first, at the slot it runs in (refused: -32602
  ``invalid transaction: ...`` from ``sendTransaction``/``simulateTransaction``, dropped
  at landing); looked-up accounts follow the static keys.
- **System program and durable nonces** (:mod:`feeds.sim.system`): account creation
  and the nonce instructions; a transaction whose blockhash is not a recent one may
  name a nonce account's durable nonce instead (its first instruction advancing that
  nonce, its authority signing), else ``BlockhashNotFound``. Once one such transaction
  ran, the nonce moved on and every other naming it is dropped where it would land.
- **All or nothing**: a failing instruction undoes every change the transaction made
  except the fee (and a durable nonce's advance). ``simulateTransaction`` always undoes
  everything.
- **The real programs** (``bank``, :class:`feeds.sim.bank.Bank`: LiteSVM with the
  binaries of ``arbscope sim --programs DIR``): once the checks above pass, a transaction
  whose every top-level program the bank runs (and one of them a loaded binary) runs
  there, on the world's accounts: what it leaves is written back (closed accounts
  removed; the writable ones notified), its logs, compute units, fee and error are the
  bank's, a pool it touched has the simulator's own state of it read back from the bytes
  (``Program.load``), and a durable nonce it advanced holds the chain's durable nonce
  (LiteSVM stores its own blockhash's). A failure is the node's: everything undone but
  the fee and the nonce's advance. A transaction that also invokes a program the bank
  cannot run (one without a binary, such as PumpSwap's, or one whose binary refuses
  arbscope's swap, :meth:`Bank.probe`) runs here instruction by instruction, and each
  instruction of a binary's program runs in the bank (:meth:`Bank.instruction`: its
  payout, logs, compute units against what the transaction has left, and error are the
  real program's), all or nothing as above; one that invokes no binary runs on the
  simulator's Python programs. :class:`ChainStats` counts the three. The bank keeps
  nothing between runs: the world is the ledger.
- **Landing**: ``sendTransaction`` queues; the transaction runs at the start of the next
  slot (before the market's own trades) and its status is kept for
  ``getSignatureStatuses`` and ``signatureSubscribe``. A Jito bundle (up to 5
  transactions, one of them tipping >= 1,000 lamports to a tip account) lands whole or
  not at all, and pays nothing when it fails. Each block engine takes at most ``rps``
  requests a second (Jito's default: 1 per IP per region; :meth:`BlockEngine.admit`,
  clocked by the server) and refuses the others with HTTP 429.

Pure computation, like the world: no I/O, no clock.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import random
import struct
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from typing import Any

from solders.message import Message, MessageV0
from solders.transaction import VersionedTransaction

from engine_rs.errors import EngineError

from .. import venues
from ..wire import instructions as I
from ..wire.alt import ALT_PROGRAM
from ..wire.instructions import SYSTEM_PROGRAM
from ..wire.loader import UPGRADEABLE_LOADER
from ..wire.txsize import MAX_TX_ACCOUNT_LOCKS, PACKET_DATA_SIZE
from . import alt as ALT
from . import node as N
from . import programs as PROGRAMS
from . import propamm as PROP
from . import system as SYS
from . import token as T
from .layouts import TOKEN_ACCOUNT_LEN
from .state import Account, InnerIx, Ledger
from .venue import InstructionFailed, ProgramError
from .world import SYSVAR_CLOCK, SwapQuote, World, rent_exempt

BLOCKHASH_SLOTS = 150  # a blockhash is valid this many slots (MAX_PROCESSING_AGE)
ROOT_DISTANCE = 32  # slots between a slot and its root (finalized) on mainnet
# SIMD-0186: every account a transaction loads counts its data and this much (one that
# does not exist counts nothing); every lookup table it resolves counts a full table
ACCOUNT_BASE_SIZE, LOOKUP_TABLE_BASE_SIZE = 64, 8_248
NATIVE_LOADER = "NativeLoader1111111111111111111111111111111"
# the builtin programs' accounts as a node holds them (owned by the native loader, one
# lamport, executable, the program's name as data, rent epoch 0)
NATIVE_PROGRAMS = {SYSTEM_PROGRAM: b"system_program", I.COMPUTE_BUDGET: b"compute_budget_program"}
# the preflight's refusals the node reports as simulation results it never ran
_SIM_CONFIG = "RpcSimulateTransactionConfig"
MAX_BASE64_SIZE = 1644  # PACKET_DATA_SIZE in base64
MAX_BASE58_SIZE = 1683  # PACKET_DATA_SIZE in base58
TX_ENCODINGS = ("binary", "base64", "base58", "json", "jsonParsed")  # UiTransactionEncoding
LAMPORTS_PER_SIGNATURE = 5_000
MAX_PENDING = 1_000
MAX_BUNDLE = 5
MAX_SIMULATED_BUNDLE = 20  # transactions simulateBundle takes (jito-solana's limit)
# the builtin programs the simulator runs (not migrated to sBPF: the default compute
# limit gives their instructions 3,000 units; the lookup-table program is sBPF now)
BUILTINS = frozenset((SYSTEM_PROGRAM, I.COMPUTE_BUDGET))
STATUS_KEEP = 20_000  # signature statuses remembered
MAX_SIGNATURE_STATUSES = 256  # MAX_GET_SIGNATURE_STATUSES_QUERY_ITEMS
BLOCK_SLOTS = 2_000  # slots whose blocks the ledger keeps (getBlock)
TIP_FLOOR_WINDOW = 500  # landed bundles the tip floor is computed over
RIVAL_ENGINE = "rivals"  # the block engine the simulator's competitors' bundles come through

# compute units per instruction (a fixed model: the order of magnitude mainnet shows;
# a swap's comes from its venue, ``Program.cost``)
CU_BUILTIN = 150
CU_ATA_EXISTS, CU_ATA_NEW = 4_000, 22_000


class ChainError(Exception):
    """A request the node refuses outright: a JSON-RPC error (``code``, ``message``, and
    for a failed preflight the simulation result as ``data``)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class _Fail(Exception):
    """An instruction failed: its index, the runtime's error detail and a log line
    (index -1: the transaction failed as a whole, ``detail`` is the error), and the
    compute units it consumed before it failed (a builtin's are charged first)."""

    def __init__(self, index: int, detail: Any, log: str, units: int = 0) -> None:
        super().__init__(log)
        self.index, self.detail, self.log, self.units = index, detail, log, units


@dataclass(slots=True)
class Outcome:
    """What running a transaction did (or, simulated, would do)."""

    signature: str
    err: Any  # None, or the TransactionError as the node's JSON shows it
    logs: list[str]
    units: int
    fee: int
    programs: list[str]  # the programs it invoked (logsSubscribe mentions)
    accounts: list[dict[str, Any] | None] | None = None  # requested post-states (simulate)
    ran: bool = False  # it was executed and its fee charged (it lands, even with an error)
    loaded: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # looked up: writable, readonly
    # its inner instructions (``meta.innerInstructions``): per top-level instruction index
    # that made any, in order
    inner: list[tuple[int, tuple[InnerIx, ...]]] = field(default_factory=list)
    # the bytes of the accounts it loaded (SIMD-0186: ``loadedAccountsDataSize``); 0 when
    # it was refused before its accounts were loaded
    loaded_size: int = 0
    # simulated: the lamports and token balances of its accounts after it ran, before
    # the simulation was undone (what ``_balances`` gives)
    after: tuple[tuple[int, ...], tuple[Any, ...]] | None = None


@dataclass(frozen=True, slots=True)
class Landed:
    """A transaction that landed in ``slot``: what signature and logs subscribers see."""

    signature: str
    slot: int
    err: Any
    logs: tuple[str, ...]
    programs: tuple[str, ...]
    keys: tuple[str, ...] = ()  # every account it names: static, then looked up


@dataclass(frozen=True, slots=True)
class Stored:
    """A transaction that landed, kept as a node's ledger keeps it for ``getTransaction``
    and ``getSignaturesForAddress``: its body, slot, outcome and the balances of its
    accounts before and after (lamports; token accounts of either program as (index,
    mint, owner, amount, token program)), and its position in its block."""

    tx: VersionedTransaction
    slot: int
    outcome: Outcome
    pre: tuple[int, ...]
    post: tuple[int, ...]
    pre_tokens: tuple[tuple[int, str, str, int, str], ...]
    post_tokens: tuple[tuple[int, str, str, int, str], ...]
    index: int = 0

    def keys(self) -> list[str]:
        """Every account of the transaction: its static keys, then the looked-up ones
        (writable, then readonly) as they resolved when it ran."""
        loaded = self.outcome.loaded
        return [str(k) for k in self.tx.message.account_keys] + [*loaded[0], *loaded[1]]

    def writable(self) -> list[str]:
        """The accounts it locked writable (static ones by its header, then the
        looked-up writable ones)."""
        msg = self.tx.message
        static = [str(k) for j, k in enumerate(msg.account_keys) if is_writable(msg, j)]
        return static + list(self.outcome.loaded[0])


@dataclass(slots=True)
class _Snapshot:
    accounts: dict[str, Account | None]
    pools: dict[str, tuple[Any, Any, int, int]]  # address -> spec, record, fees_a, fees_b
    touched: int


@dataclass(slots=True)
class _Pending:
    txs: list[VersionedTransaction]
    bundle: str | None = None  # the bundle id (Jito), None for sendTransaction
    engine: str = ""  # the block engine (region) it came through
    not_before: int = 0  # the first slot it may land in (an engine's delay)
    # a competitor's order (``feeds.sim.competition.RivalOrder``): the world's
    # competition hears what became of it; None: sent to the node
    rival: Any = None


@dataclass(slots=True)
class BlockEngine:
    """One Jito block engine (a region) as the simulator serves it: ``delay_slots`` before
    its bundles reach the leader, the share of them it ``drop``s (never landed: status
    ``Failed``), ``down`` (answers 503), and its rate limit: ``rps`` JSON-RPC requests a
    second (Jito's default of 1 per IP per region, lowlatencytxnsend.md "Rate Limits";
    0: none), a token bucket of ``max(1, rps)`` requests refilled at ``rps`` a second.
    ``drop_first`` drops that many bundles before any reaches the leader (tests: an
    engine that loses the first versions of an order)."""

    delay_slots: int = 0
    drop: float = 0.0
    down: bool = False
    rps: float = 1.0
    drop_first: int = 0
    limited: int = 0  # requests refused over the rate
    _tokens: float = -1.0  # the bucket (-1: full, not used yet)
    _at: float = 0.0  # when the bucket was last filled (the server's clock, seconds)

    def admit(self, now: float) -> bool:
        """One more request at ``now`` (seconds on the server's clock); False (and
        counted) when it is over the rate."""
        if self.rps <= 0:
            return True
        cap = max(1.0, self.rps)
        if self._tokens < 0:
            self._tokens, self._at = cap, now
        self._tokens = min(cap, self._tokens + max(0.0, now - self._at) * self.rps)
        self._at = max(self._at, now)
        if self._tokens < 1.0:
            self.limited += 1
            return False
        self._tokens -= 1.0
        return True


@dataclass(slots=True)
class ChainStats:
    simulated: int = 0
    sent: int = 0
    bundles: int = 0
    landed: int = 0
    failed: int = 0  # landed with an error (fee charged) or a bundle that did not land
    rejected: int = 0  # refused before queueing (signature, preflight, bad encoding)
    # transactions executed (simulated or landed) by the real programs (the bank) and by
    # the simulator's own Python programs
    by_bank: int = 0
    by_python: int = 0
    # transactions of both: the instructions of a binary's program ran in the bank (counted
    # in bank_instructions), the others here
    mixed: int = 0
    bank_instructions: int = 0

    def bank_split(self) -> str:
        """Who ran the transactions, in one phrase (said when a simulator with the real
        programs stops)."""
        return (
            f"transactions run by the real programs {self.by_bank}, by the simulator's "
            f"own {self.by_python}, by both {self.mixed} ({self.bank_instructions} "
            "instructions in the real programs)"
        )


# the upgrade authority the simulator shows for the programs it serves from a programs
# folder (a key of its own, named by this and the program id; mainnet's authority and
# deployment slot are not in the binaries: they show the world's first slot)
PROGRAM_AUTHORITY_NAME = "program-upgrade-authority"


@dataclass
class Chain:
    """Transactions against ``world`` (see the module doc). ``accept`` False: the
    simulator refuses every transaction method (the default: it is a market feed).
    ``bank``: the real programs (:class:`feeds.sim.bank.Bank`), or None: the simulator's
    own programs run everything."""

    world: World
    accept: bool = False
    bank: Any = None
    stats: ChainStats = field(default_factory=ChainStats)
    # the same of the world's competitors' transactions (feeds.sim.competition)
    rival_stats: ChainStats = field(default_factory=ChainStats)

    def __post_init__(self) -> None:
        self.hashes: OrderedDict[str, int] = OrderedDict()  # blockhash -> slot
        self.pending: list[_Pending] = []
        self.statuses: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        # (engine, bundle id) -> status: each engine answers for the bundles sent to it
        self.bundles: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        # the default engine (/api/v1/...) and regions (/<region>/api/v1/...), each its
        # own latency to the leader; tests set their own
        self.engines: dict[str, BlockEngine] = {
            "": BlockEngine(),
            "frankfurt": BlockEngine(),
            "amsterdam": BlockEngine(1),
            "ny": BlockEngine(0, drop=0.05),
            "tokyo": BlockEngine(2),
        }
        self._calls: list[InnerIx] = []  # the running instruction's inner instructions
        self.landed_tips: deque[int] = deque(maxlen=TIP_FLOOR_WINDOW)  # landed bundles'
        self._engine_rng = random.Random(self.world.config.seed ^ 0x5EED_B10C)
        self.ledger: OrderedDict[str, Stored] = OrderedDict()  # signature -> what landed
        self.by_address: dict[str, list[str]] = {}  # address -> its signatures, oldest first
        # slot -> the signatures of what landed in it, in the block's order (getBlock)
        self.blocks: OrderedDict[int, list[str]] = OrderedDict()
        self._block_floor = 0  # the first slot whose block the ledger still holds whole
        self.first_slot = self.world.config.first_slot
        self._record_slot(self.world.slot)
        self.world.chain = self
        for tip in I.JITO_TIP_ACCOUNTS:  # as on mainnet: they exist (tips only credit them)
            self.world.accounts.setdefault(tip, Account(I.JITO_TIP_PROGRAM, b"", 10**9))
        for program, name in NATIVE_PROGRAMS.items():  # the builtins' accounts
            self.world.accounts.setdefault(program, Account(NATIVE_LOADER, name, 1, True))
        # every account of a pool (itself, its vaults, its arrays) -> the pool
        self._pool_of: dict[str, Any] = {}
        for p in self.world.pools:
            for k in (p.address, p.vault_a, p.vault_b, *p.tick_arrays):
                self._pool_of.setdefault(k, p)
        if self.bank is not None:
            self._serve_programs()

    def _probe_accounts(self) -> None:
        """Refuse every loaded DEX binary that cannot read the accounts the world holds
        for its pools (:func:`feeds.sim.bank.account_refusal`): a swap of a small amount
        through the first pool of its venue whose mints are SPL Token's, built as live
        builds it, simulated in the bank on the world's accounts with a wallet holding the
        input (nothing of the world is changed)."""
        from solders.hash import Hash
        from solders.keypair import Keypair
        from solders.message import MessageV0
        from solders.transaction import VersionedTransaction

        from engine_rs import decoded as D

        from .bank import account_refusal
        from .layouts import encode_token_account

        assert self.bank is not None
        w = self.world
        payer = Keypair.from_seed(hashlib.sha256(b"arbscope-bank-account-probe").digest())
        me = str(payer.pubkey())
        for v in venues.VENUES:
            if v.program not in self.bank.loaded or v.program in self.bank.refused:
                continue
            pool = next(
                (
                    p
                    for p in w.pools
                    if p.kind == v.kind
                    and w.token_programs.get(p.mint_a) == I.SPL_TOKEN
                    and w.token_programs.get(p.mint_b) == I.SPL_TOKEN
                ),
                None,
            )
            if pool is None:
                continue
            overlay: dict[str, Account | None] = {me: Account(SYSTEM_PROGRAM, b"", 10**12)}
            atas = {}
            for mint, amount in ((pool.mint_a, 10**15), (pool.mint_b, 0)):
                atas[mint] = ata = I.ata_address(me, mint)
                rec = D.TokenAccount(mint, me, amount, None, 1, None, 0, None)
                overlay[ata] = Account(I.SPL_TOKEN, encode_token_account(rec), 2_039_280)
            acc = w.accounts[pool.address]
            record = v.decode_pool(w.eng, acc.data, acc.owner)
            programs = {pool.mint_a: I.SPL_TOKEN, pool.mint_b: I.SPL_TOKEN}
            amount = max(1, w._trade_size(pool, True, 1e-6))
            leg = venues.Leg(
                pool.address,
                record,
                me,
                pool.mint_a,
                pool.mint_b,
                atas[pool.mint_a],
                atas[pool.mint_b],
                amount,
                0,
                programs,
            )
            try:
                ix = v.swap_instruction(leg)
            except (ValueError, KeyError):
                continue  # a swap this pool cannot build now
            ixs = [I.set_compute_unit_limit(I.MAX_COMPUTE_UNIT_LIMIT), ix]
            msg = MessageV0.try_compile(payer.pubkey(), ixs, [], Hash.default())
            tx = VersionedTransaction(msg, [payer])
            keys = [str(k) for k in msg.account_keys]
            self.bank.set_clock_bytes(w.accounts[SYSVAR_CLOCK].data)
            seen: collections.ChainMap[str, Account | None] = collections.ChainMap(
                overlay, dict(w.accounts)
            )
            out = self.bank.execute(tx, keys, seen, commit=False)
            why = account_refusal(out.err, out.logs, v.program, v.anchor)
            if why is not None:
                self.bank.refused[v.program] = (
                    f"cannot read the simulator's {v.name} accounts (today's layouts): a swap "
                    f"of pool {pool.address} fails with {why}"
                )

    def _serve_programs(self) -> None:
        """The bank's programs: the DEX binaries that cannot run arbscope's swaps
        refused (:meth:`Bank.probe`), and every loaded program's accounts in the world as
        a node serves them (:func:`feeds.sim.bank.program_accounts`: deployed at the
        world's first slot, its upgrade authority a key of the simulator's)."""
        from .bank import program_accounts
        from .state import sim_key

        self.bank.probe(venues.VENUES)
        self._probe_accounts()
        w = self.world
        for pid, elf in self.bank.elf.items():
            authority = sim_key(PROGRAM_AUTHORITY_NAME, pid)
            accounts = program_accounts(pid, elf, w.config.first_slot, authority, rent_exempt)
            w.accounts.update(accounts)

    # ------------------------------------------------------------ blockhashes
    def blockhash(self, slot: int) -> str:
        seed = self.world.config.seed
        digest = hashlib.sha256(f"arbscope-sim-blockhash:{seed}:{slot}".encode()).digest()
        return str(self.world.eng.b58encode(digest))

    def block_height(self, slot: int | None = None) -> int:
        return (self.world.slot if slot is None else slot) - self.first_slot

    def latest_blockhash(self) -> tuple[str, int]:
        """(blockhash, lastValidBlockHeight) of the current slot."""
        return self.blockhash(self.world.slot), self.block_height() + BLOCKHASH_SLOTS

    def _record_slot(self, slot: int) -> None:
        self.hashes[self.blockhash(slot)] = slot
        while len(self.hashes) > 2 * BLOCKHASH_SLOTS:
            self.hashes.popitem(last=False)

    def blockhash_valid(self, blockhash: str, at: int | None = None) -> bool:
        """Whether ``blockhash`` is in the blockhash queue of the bank of slot ``at``
        (None: the newest): made at or before it, at most 150 slots before."""
        slot = self.hashes.get(blockhash)
        at = self.world.slot if at is None else at
        return slot is not None and slot <= at and at - slot <= BLOCKHASH_SLOTS

    def bank_at(self, level: str) -> int:
        """The slot of the bank a request at commitment ``level`` reads: the newest for
        ``processed`` and ``confirmed`` (the simulated cluster has no forks), the root
        (``ROOT_DISTANCE`` slots back, never before the first slot) for ``finalized``."""
        if level == "finalized":
            return max(self.first_slot, self.world.slot - ROOT_DISTANCE)
        return self.world.slot

    # ------------------------------------------------------------ decoding
    def _require_accept(self) -> None:
        if not self.accept:
            raise ChainError(
                -32601,
                "the arbscope simulator does not accept transactions (start it with --accept-tx)",
            )

    @staticmethod
    def decode_tx(text: Any, encoding: Any = "base58") -> VersionedTransaction:
        """A transaction from its wire text as a node's ``decode_and_deserialize`` reads
        it: ``base58`` (the default; ``binary`` is the same) or ``base64``, each with its
        size limit before and after decoding; ChainError(-32602) in the node's words."""
        if not isinstance(text, str):
            raise ChainError(-32602, N.type_error(text, "a string").message)
        try:
            enc = N.variant(encoding, TX_ENCODINGS)
        except N.RpcFault as f:
            raise ChainError(f.code, f.message) from None
        if enc not in ("base58", "base64", "binary"):
            raise ChainError(
                -32602, f"unsupported encoding: {enc}. Supported encodings: base58, base64"
            )
        kind = "solana_transaction::versioned::VersionedTransaction"
        name, limit = (
            ("base64", MAX_BASE64_SIZE) if enc == "base64" else ("base58", MAX_BASE58_SIZE)
        )
        if len(text) > limit:
            raise ChainError(
                -32602,
                f"{name} encoded {kind} too large: {len(text)} bytes "
                f"(max: encoded/raw {limit}/{PACKET_DATA_SIZE})",
            )
        if name == "base64":
            problem = N.base64_problem(text)
            if problem:
                raise ChainError(-32602, f"invalid base64 encoding: {problem}")
            raw = base64.b64decode(text)
        else:
            try:
                raw = N.b58decode(text)
            except N.Base58Error as exc:
                raise ChainError(-32602, f"invalid base58 encoding: {exc}") from None
        if len(raw) > PACKET_DATA_SIZE:
            raise ChainError(
                -32602,
                f"decoded {kind} too large: {len(raw)} bytes (max: {PACKET_DATA_SIZE} bytes)",
            )
        try:
            tx = VersionedTransaction.from_bytes(raw)
        except Exception as exc:  # solders raises its own error types
            what = f"failed to deserialize {kind}: {N.bincode(exc)}"
            raise ChainError(-32602, what[:300]) from None
        try:
            tx.sanitize()
        except Exception as exc:
            raise ChainError(-32602, f"invalid transaction: {exc}"[:200]) from None
        if not isinstance(tx.message, (Message, MessageV0)):
            raise ChainError(-32602, "invalid transaction: unsupported message version")
        return tx

    @staticmethod
    def _verify(tx: VersionedTransaction) -> None:
        if not all(tx.verify_with_results()):
            raise ChainError(-32003, "Transaction signature verification failure")

    # ------------------------------------------------------------ state undo
    def _snapshot(self, keys: list[str]) -> _Snapshot:
        w = self.world
        accounts = {}
        for k in keys:
            a = w.accounts.get(k)
            accounts[k] = None if a is None else replace(a)
        # the pools of these accounts (a vault's, an array's too: the real programs'
        # runs read a pool back from any of its accounts)
        pools = {
            p.address: (replace(p.spec), p.record, p.fees_a, p.fees_b)
            for k in keys
            if (p := self._pool_of.get(k) or w.by_address.get(k)) is not None
        }
        return _Snapshot(accounts, pools, len(w._touched))

    def _restore(self, snap: _Snapshot) -> None:
        w = self.world
        for k, a in snap.accounts.items():
            if a is None:
                w.accounts.pop(k, None)
            else:
                w.accounts[k] = replace(a)
        for k, (spec, record, fees_a, fees_b) in snap.pools.items():
            pool = w.by_address[k]
            pool.spec, pool.record = replace(spec), record
            pool.fees_a, pool.fees_b = fees_a, fees_b
        del w._touched[snap.touched :]

    # ------------------------------------------------------------ running
    def fee_for_message(self, msg: Message | MessageV0, at: int | None = None) -> int | None:
        """``getFeeForMessage``: what ``msg`` would pay in lamports, None when its
        blockhash is not a valid one at the bank of slot ``at`` (compute-budget
        instructions that do not decode leave the base fee)."""
        keys = [str(k) for k in msg.account_keys]
        if (
            not self.blockhash_valid(str(msg.recent_blockhash), at)
            and self._nonce(msg, keys, advanceable=False) is None
        ):
            return None
        try:
            return self._fee_and_limit(msg, keys)[0]
        except _Fail:
            return LAMPORTS_PER_SIGNATURE * msg.header.num_required_signatures

    def _fee_and_limit(self, msg: Message | MessageV0, keys: list[str]) -> tuple[int, int, int]:
        """(fee, compute unit limit, price) from the compute-budget instructions."""
        limit: int | None = None
        price = 0
        other = builtin = 0
        for i, ix in enumerate(msg.instructions):
            prog = keys[ix.program_id_index]
            if prog in BUILTINS:
                builtin += 1
            else:
                other += 1
            if prog != I.COMPUTE_BUDGET:
                continue
            try:
                rec = I.decode(prog, bytes(ix.data), [])
            except I.InstructionError:
                raise _Fail(i, "InvalidInstructionData", "compute budget: bad data") from None
            if isinstance(rec, I.ComputeUnitLimit):
                if limit is not None:
                    raise _Fail(i, "DuplicateInstruction", "compute unit limit set twice")
                limit = rec.units
            elif isinstance(rec, I.ComputeUnitPrice):
                price = rec.micro_lamports
        if limit is None:  # SIMD-170: 200,000 per program instruction, 3,000 per builtin's
            limit = (
                I.DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT * other
                + I.MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT * builtin
            )
        limit = min(limit, I.MAX_COMPUTE_UNIT_LIMIT)
        sigs = msg.header.num_required_signatures
        priority = min((price * limit + 999_999) // 1_000_000, (1 << 64) - 1)
        return LAMPORTS_PER_SIGNATURE * sigs + priority, limit, price

    def loaded_size(self, keys: list[str], programs: list[str], tables: int) -> int:
        """The bytes a transaction with accounts ``keys`` invoking ``programs`` through
        ``tables`` lookup tables loads (SIMD-0186, ``loadedAccountsDataSize``): each
        account that exists its data and a base of 64 bytes (one that does not exist:
        nothing), an upgradeable program's programdata the same, each table 8,248."""
        w = self.world
        total = LOOKUP_TABLE_BASE_SIZE * tables
        seen = set()
        for k in [*keys, *(self._programdata(p) for p in programs)]:
            acc = w.accounts.get(k) if k else None
            if acc is not None and k not in seen:
                seen.add(k)
                total += ACCOUNT_BASE_SIZE + len(acc.data)
        return total

    def _programdata(self, program: str) -> str:
        """The programdata account of an upgradeable program ("" for another)."""
        acc = self.world.accounts.get(program)
        if acc is None or acc.owner != UPGRADEABLE_LOADER or len(acc.data) < 36:
            return ""
        return N.b58encode(acc.data[4:36])

    def run(
        self,
        tx: VersionedTransaction,
        commit: bool,
        check_blockhash: bool = True,
        want_accounts: list[str] | None = None,
        bank_slot: int | None = None,
    ) -> Outcome:
        """Run ``tx`` against the world (see the module doc); ``commit`` False undoes it
        all afterwards (and the outcome carries the balances it left). ``bank_slot``: the
        bank whose blockhash queue a recent blockhash must be in (a simulation at a
        commitment; None: the newest). Signatures are the caller's business
        (``_verify``)."""
        w = self.world
        msg = tx.message
        sig = str(tx.signatures[0])
        static = [str(k) for k in msg.account_keys]
        try:  # the node resolves a v0 message's lookups first (sanitizing it)
            loaded = self.lookups(msg)
        except ALT.AltError as exc:
            return Outcome(sig, exc.name, [], 0, 0, [])
        keys = static + list(loaded[0]) + list(loaded[1])
        if len(keys) > MAX_TX_ACCOUNT_LOCKS:  # validate_account_locks, before locking
            return Outcome(sig, "TooManyAccountLocks", [], 0, 0, [])
        if len(set(keys)) != len(keys):
            return Outcome(sig, "AccountLoadedTwice", [], 0, 0, [])
        nonce = None  # (address, data): the durable nonce it uses instead of a blockhash
        if check_blockhash and not self.blockhash_valid(str(msg.recent_blockhash), bank_slot):
            nonce = self._nonce(msg, keys)
            if nonce is None:
                return Outcome(sig, "BlockhashNotFound", [], 0, 0, [])
        if sig in self.statuses:
            return Outcome(sig, "AlreadyProcessed", [], 0, 0, [])
        try:
            assert isinstance(msg, (Message, MessageV0))  # decode_tx refused the others
            fee, limit, _price = self._fee_and_limit(msg, keys)
        except _Fail as f:
            return Outcome(sig, {"InstructionError": [f.index, f.detail]}, [], 0, 0, [])
        payer = keys[0]
        acc = w.accounts.get(payer)
        if acc is None:
            return Outcome(sig, "AccountNotFound", [], 0, 0, [])
        if acc.owner != SYSTEM_PROGRAM or acc.lamports < fee:
            return Outcome(sig, "InsufficientFundsForFee", [], 0, 0, [])
        left = acc.lamports - fee
        if 0 < left < rent_exempt(len(acc.data)):  # the fee would leave it rent-paying
            return Outcome(sig, {"InsufficientFundsForRent": {"account_index": 0}}, [], 0, 0, [])
        snap = self._snapshot(keys)  # every account it can touch is one of its keys
        invoked = list(dict.fromkeys(keys[ix.program_id_index] for ix in msg.instructions))
        size = self.loaded_size(keys, invoked, len(getattr(msg, "address_table_lookups", ())))
        signers = frozenset(k for j, k in enumerate(keys) if msg.is_signer(j))
        writables = frozenset(
            [k for j, k in enumerate(static) if is_writable(msg, j)] + list(loaded[0])
        )
        if (
            self.bank is not None
            and self.bank.can_run(tx, keys)
            and not self._spent_nonce(msg, keys)
        ):
            out = self._run_bank(tx, keys, loaded, writables, nonce, snap, commit, want_accounts)
            out.loaded_size = size
            return out
        w.credit_lamports(payer, -fee)
        mixed = False  # some of its instructions ran in the bank
        logs: list[str] = []
        programs: list[str] = []
        inner: list[tuple[int, tuple[InnerIx, ...]]] = []
        units = 0
        err: Any = None
        try:
            for i, ix in enumerate(msg.instructions):
                prog = keys[ix.program_id_index]
                accounts = [keys[j] for j in bytes(ix.accounts)]
                if prog not in programs:
                    programs.append(prog)
                self._calls = []  # what this instruction invokes (its inner instructions)
                if self.bank is not None and self.bank.runs_binary(prog):
                    # a program with a binary, in a transaction the bank cannot run whole
                    # (another of its programs has none): this instruction runs there
                    mixed = True
                    cost, lines = self._bank_instruction(
                        i,
                        prog,
                        accounts,
                        bytes(ix.data),
                        keys[0],
                        signers,
                        writables,
                        limit - units,
                    )
                    units += cost
                    logs.extend(lines)
                    if self._calls:
                        inner.append((i, tuple(self._calls)))
                    continue
                logs.append(f"Program {prog} invoke [1]")
                cost, lines = self._instruction(
                    i, prog, bytes(ix.data), accounts, sig, signers, writables, limit - units
                )
                units += cost
                if units > limit:
                    logs.append(
                        f"Program {prog} consumed {limit - (units - cost)} of "
                        f"{limit - (units - cost)} compute units"
                    )
                    raise _Fail(
                        i,
                        "ComputationalBudgetExceeded",
                        f"Program {prog} failed: exceeded CUs meter at BPF instruction",
                    )
                logs.extend(lines)
                if prog != I.COMPUTE_BUDGET and prog != SYSTEM_PROGRAM:
                    logs.append(
                        f"Program {prog} consumed {cost} of {limit - units + cost} compute units"
                    )
                logs.append(f"Program {prog} success")
                if self._calls:
                    inner.append((i, tuple(self._calls)))
            self._rent_check(snap, keys)
        except _Fail as f:
            if f.log:
                logs.extend(f.log.split("\n"))
            units += f.units
            err = f.detail if f.index < 0 else {"InstructionError": [f.index, f.detail]}
            self._restore(snap)
            w.credit_lamports(payer, -fee)  # a failed transaction still pays
            if nonce is not None:  # ... and its durable nonce is used up all the same
                self._advance_nonce(*nonce)
        accounts_after = None
        if want_accounts is not None:
            accounts_after = [
                w.accounts[k].value() if k in w.accounts else None for k in want_accounts
            ]
        if mixed:
            self.stats.mixed += 1
        else:
            self.stats.by_python += 1
        after = None
        if not commit:
            after = self._balances(tx)
            self._restore(snap)
        return Outcome(
            sig, err, logs, units, fee, programs, accounts_after, True, loaded, inner, size, after
        )

    def _run_bank(
        self,
        tx: VersionedTransaction,
        keys: list[str],
        loaded: tuple[tuple[str, ...], tuple[str, ...]],
        writables: frozenset[str],
        nonce: tuple[str, SYS.NonceData] | None,
        snap: _Snapshot,
        commit: bool,
        want_accounts: list[str] | None,
    ) -> Outcome:
        """Run ``tx`` (its checks made) with the real programs (see the module doc)."""
        w = self.world
        sig = str(tx.signatures[0])
        msg = tx.message
        tables = {
            str(t.account_key): w.accounts[str(t.account_key)]
            for t in getattr(msg, "address_table_lookups", ())
            if str(t.account_key) in w.accounts
        }
        self.bank.set_clock_bytes(w.accounts[SYSVAR_CLOCK].data)
        res = self.bank.execute(tx, keys, w.accounts, tables, commit=False)
        self.stats.by_bank += 1
        if res.err is None:
            self._adopt(res.post, writables)
        else:  # a failure: nothing of it but the fee and the durable nonce's advance
            w.credit_lamports(keys[0], -res.fee)
            if nonce is not None:
                self._advance_nonce(*nonce)
        accounts_after = None
        if want_accounts is not None:
            accounts_after = [
                w.accounts[k].value() if k in w.accounts else None for k in want_accounts
            ]
        after = None
        if not commit:
            after = self._balances(tx)
            self._restore(snap)
        programs = self.bank.programs_of(tx, keys)
        return Outcome(
            sig,
            res.err,
            res.logs,
            res.units,
            res.fee,
            programs,
            accounts_after,
            True,
            loaded,
            list(res.instructions),
            after=after,
        )

    def _bank_instruction(
        self,
        i: int,
        prog: str,
        accounts: list[str],
        data: bytes,
        payer: str,
        signers: frozenset[str],
        writables: frozenset[str],
        left: int,
    ) -> tuple[int, list[str]]:
        """Run instruction ``i`` (``prog``, a binary the bank runs) of a transaction the
        bank cannot run whole, in the bank on the world's accounts (the rest of the
        transaction runs here): what it leaves is the world's (:meth:`_adopt`);
        (compute units, its log lines from ``invoke`` to ``success``), or _Fail with
        its error and lines (the caller undoes the whole transaction)."""
        assert self.bank is not None
        metas = [(k, k in signers, k in writables) for k in accounts]
        self.bank.set_clock_bytes(self.world.accounts[SYSVAR_CLOCK].data)
        res = self.bank.instruction(prog, metas, data, payer, left, self.world.accounts)
        self.stats.bank_instructions += 1
        if isinstance(res.err, dict) and "InstructionError" in res.err:
            raise _Fail(i, res.err["InstructionError"][1], "\n".join(res.logs))
        if res.err is not None:  # the transaction's own (rent): the whole one fails
            raise _Fail(-1, res.err, "\n".join(res.logs))
        self._adopt(res.post, writables)
        self._calls.extend(c for _, calls in res.instructions for c in calls)
        return res.units, res.logs

    def _adopt(self, post: dict[str, Account | None], writables: frozenset[str]) -> None:
        """Make the world what the bank left: every account written back (a closed one
        removed), the writable ones notified (but one that was never there and still is
        not); a durable nonce the bank stored holds the chain's instead; the pools of the
        accounts that changed read back."""
        w = self.world
        changed: list[str] = []
        for k, acc in post.items():
            before = w.accounts.get(k)
            if acc is None:
                if before is None:
                    continue  # named, never there (an array nobody made): nothing stored
                del w.accounts[k]
                changed.append(k)
            else:
                if acc.owner == SYSTEM_PROGRAM and len(acc.data) >= SYS.NONCE_LEN:
                    acc = self._own_nonce(before, acc)
                if before is None or before != acc:
                    changed.append(k)
                w.accounts[k] = acc
            if k in writables:
                w._touched.append(k)
        for p in {id(p): p for k in changed if (p := self._pool_of.get(k)) is not None}.values():
            load = PROGRAMS.by_kind(p.kind).program.load
            if load is not None:
                load(w, p)

    def _own_nonce(self, before: Account | None, acc: Account) -> Account:
        """``acc`` (a system account the bank left) with the chain's durable nonce where
        the bank stored a new one (an advance, an initialization)."""
        v = SYS.read_versions(acc.data)
        if v is None or v.data is None:
            return acc
        old = None if before is None else SYS.read_versions(before.data)
        if old is not None and old.data is not None and old.data.nonce == v.data.nonce:
            return acc
        nxt = SYS.nonce_account_data(
            v.data.authority, SYS.durable_nonce(self.latest_blockhash()[0])
        )
        return Account(acc.owner, nxt + acc.data[len(nxt) :], acc.lamports, acc.executable)

    def _spent_nonce(self, msg: Any, keys: list[str]) -> bool:
        """Whether ``msg`` advances a nonce already advanced in this slot (the bank's
        blockhash is new every run, so it would not refuse it: the simulator's own system
        program does, ``nonce can only advance once per slot``)."""
        now = SYS.durable_nonce(self.latest_blockhash()[0])
        for ix in msg.instructions:
            if keys[ix.program_id_index] != SYSTEM_PROGRAM:
                continue
            data, idx = bytes(ix.data), bytes(ix.accounts)
            if data[:4] != SYS.ADVANCE.to_bytes(4, "little") or not idx:
                continue
            acc = self.world.accounts.get(keys[idx[0]])
            v = None if acc is None else SYS.read_versions(acc.data)
            if v is not None and v.data is not None and v.data.nonce == now:
                return True
        return False

    def lookups(self, msg: Any, slot: int | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A v0 message's looked-up addresses (writable, readonly) at ``slot`` (default:
        the current one), as the runtime resolves them; ``ALT.AltError`` when it refuses
        (see :mod:`feeds.sim.alt`)."""
        if not isinstance(msg, MessageV0) or not msg.address_table_lookups:
            return (), ()
        found = [
            (str(t.account_key), bytes(t.writable_indexes), bytes(t.readonly_indexes))
            for t in msg.address_table_lookups
        ]
        w, r = ALT.resolve(self.world.accounts, found, self.world.slot if slot is None else slot)
        return tuple(w), tuple(r)

    def account_keys(self, msg: Any) -> list[str]:
        """Every account of ``msg``: its static keys, then the looked-up ones (none when
        its lookups do not resolve now)."""
        try:
            w, r = self.lookups(msg)
        except ALT.AltError:
            w, r = (), ()
        return [str(k) for k in msg.account_keys] + list(w) + list(r)

    def _sanitize(self, tx: VersionedTransaction) -> None:
        """The node's ``sanitize_transaction``: lookups that do not resolve are refused
        before anything else, in its words (``invalid transaction: ...``)."""
        try:
            self.lookups(tx.message)
        except ALT.AltError as exc:
            raise ChainError(-32602, f"invalid transaction: {describe(exc.name)}") from None

    def _rent_check(self, snap: _Snapshot, keys: list[str]) -> None:
        """No account may be left holding lamports under its rent-exempt minimum unless
        it already did (and did not grow): ``InsufficientFundsForRent``."""
        w = self.world
        for idx, k in enumerate(keys):
            a = w.accounts.get(k)
            if a is None or a.lamports == 0 or a.lamports >= rent_exempt(len(a.data)):
                continue
            b = snap.accounts.get(k)
            if (
                b is not None
                and 0 < b.lamports < rent_exempt(len(b.data))
                and len(b.data) == len(a.data)
                and a.lamports <= b.lamports
            ):
                continue
            raise _Fail(
                -1,
                {"InsufficientFundsForRent": {"account_index": idx}},
                "",  # the runtime's check after the instructions: no log line
            )

    def _instruction(
        self,
        i: int,
        prog: str,
        data: bytes,
        accounts: list[str],
        sig: str,
        signers: frozenset[str],
        writables: frozenset[str],
        left: int = I.MAX_COMPUTE_UNIT_LIMIT,
    ) -> tuple[int, list[str]]:
        """Run one instruction: (compute units, log lines); _Fail when it fails.
        ``signers`` / ``writables``: the transaction's keys that sign / may be written;
        ``left``: the compute units the transaction has left."""
        if prog == ALT_PROGRAM or (
            prog == SYSTEM_PROGRAM and int.from_bytes(data[:4], "little") in SYS.TAGS
        ):
            return self._builtin(i, prog, data, accounts, signers, writables)
        amm = self.world.prop_amms.get(prog)
        if amm is not None:  # a prop AMM's program (feeds.sim.propamm)
            try:
                cost, lines, calls = PROP.run(self.world, amm, data, accounts, signers.__contains__)
            except PROP.PropError as exc:
                raise _Fail(
                    i,
                    {"Custom": exc.code},
                    f"Program {prog} failed: custom program error: 0x{exc.code:x}",
                ) from None
            self._calls.extend(calls)
            return cost, lines
        try:
            rec = venues.decode(prog, data, accounts)
        except I.InstructionError as exc:
            raise _Fail(i, exc.kind, f"Program {prog} failed: {exc}") from None
        signer, writable = signers.__contains__, writables.__contains__
        if isinstance(rec, (I.ComputeUnitLimit, I.ComputeUnitPrice)):
            return CU_BUILTIN, []
        if isinstance(rec, I.Transfer):
            return self._transfer(i, rec, signer, writable)
        if isinstance(rec, I.CreateAta):
            return self._create_ata(i, rec, signer)
        if isinstance(rec, I.TokenTransfer):
            return self._token_transfer(i, rec, signer, writable, left)
        assert isinstance(rec, I.Swap)
        if not signer(rec.owner):
            raise _Fail(i, "MissingRequiredSignature", f"Program {prog} failed: missing signer")
        for k in (rec.pool, rec.user_source, rec.user_dest):
            if not writable(k):
                raise _Fail(
                    i, "ReadonlyDataModified", f"Program {prog} failed: {k} is not writable"
                )
        return self._swap(i, rec, sig)

    def _builtin(
        self,
        i: int,
        program: str,
        data: bytes,
        accounts: list[str],
        signers: frozenset[str],
        writables: frozenset[str],
    ) -> tuple[int, list[str]]:
        """The Address Lookup Table program (:mod:`feeds.sim.alt`) and the System
        program's create and nonce instructions (:mod:`feeds.sim.system`)."""
        w = self.world
        ledger = Ledger(w.accounts, w.credit_lamports, w._touched.append, rent_exempt)
        prog: ALT.Program | SYS.Program
        if program == ALT_PROGRAM:
            prog = ALT.Program(ledger, w.slot)
        else:
            prog = SYS.Program(ledger, self.latest_blockhash()[0])
            signers = frozenset(accounts) & signers  # it sees its instruction's signers only
        try:
            return prog.run(data, accounts, signers.__contains__, writables.__contains__)
        except (ALT.AltFail, SYS.SysFail) as f:
            what = describe({"InstructionError": [i, f.detail]}).split(": ", 1)[1]
            lines = [*f.logs, f"Program {program} failed: {what}"]
            raise _Fail(i, f.detail, "\n".join(lines)) from None

    # ------------------------------------------------------------ system program, nonces
    def _nonce(
        self, msg: Any, keys: list[str], advanceable: bool = True
    ) -> tuple[str, SYS.NonceData] | None:
        """The durable nonce ``msg`` may use instead of a recent blockhash (the runtime's
        ``check_load_and_advance_message_nonce_account``), or None."""
        return SYS.nonce_for(
            msg, keys, self.world.accounts, self.latest_blockhash()[0], advanceable
        )

    def _advance_nonce(self, address: str, data: SYS.NonceData) -> None:
        """Store the next durable nonce in a nonce account a failed transaction used."""
        w = self.world
        acc = w.accounts.get(address)
        if acc is None:
            return
        nxt = SYS.nonce_account_data(data.authority, SYS.durable_nonce(self.latest_blockhash()[0]))
        w.accounts[address] = Account(acc.owner, nxt + acc.data[len(nxt) :], acc.lamports)
        w._touched.append(address)

    def _transfer(self, i: int, t: I.Transfer, signer: Any, writable: Any) -> tuple[int, list[str]]:
        w = self.world
        if not signer(t.source):
            raise _Fail(i, "MissingRequiredSignature", "Transfer: `from` must sign")
        if not writable(t.dest):
            raise _Fail(i, "ReadonlyLamportChange", "Transfer: `to` is not writable")
        have = w.lamports(t.source)
        if have < t.lamports:
            lines = (
                f"Transfer: insufficient lamports {have}, need {t.lamports}\n"
                f"Program {SYSTEM_PROGRAM} failed: custom program error: 0x1"
            )
            raise _Fail(i, {"Custom": 1}, lines, CU_BUILTIN)
        w.credit_lamports(t.source, -t.lamports)
        w.credit_lamports(t.dest, t.lamports)
        return CU_BUILTIN, []

    def _create_ata(self, i: int, c: I.CreateAta, signer: Any) -> tuple[int, list[str]]:
        w = self.world
        prog = I.ATA_PROGRAM
        if not signer(c.payer):
            raise _Fail(i, "MissingRequiredSignature", f"Program {prog} failed: payer must sign")
        if c.token_program not in T.PROGRAMS:
            raise _Fail(i, "IncorrectProgramId", f"Program {prog} failed: not a token program")
        if c.ata != I.ata_address(c.wallet, c.mint, c.token_program):
            raise _Fail(i, "InvalidSeeds", f"Program {prog} failed: not the ATA of that wallet")
        mint = w.accounts.get(c.mint)
        if mint is None or mint.owner not in T.PROGRAMS:
            raise _Fail(i, "InvalidAccountData", f"Program {prog} failed: no such mint")
        if mint.owner != c.token_program:  # the token program does not own the mint
            raise _Fail(
                i,
                "IncorrectProgramId",
                f"Program {prog} failed: incorrect program id for instruction",
            )
        logs = ["Program log: CreateIdempotent" if c.idempotent else "Program log: Create"]
        existing = w.token_account(c.ata)
        if c.ata in w.accounts:
            if not c.idempotent:  # the account is not the system program's any more
                raise _Fail(
                    i, "IllegalOwner", f"Program {prog} failed: Provided owner is not allowed"
                )
            if existing is None or existing.owner != c.wallet or existing.mint != c.mint:
                raise _Fail(i, {"Custom": 0}, f"Program {prog} failed: invalid owner")
            return CU_ATA_EXISTS, logs
        # a Token-2022 ATA: ImmutableOwner and what the mint requires (GetAccountDataSize)
        size = TOKEN_ACCOUNT_LEN
        if c.token_program == I.TOKEN_2022:
            size = T.account_len(T.account_extensions(mint.data, immutable_owner=True))
        rent = rent_exempt(size)
        if w.lamports(c.payer) < rent:
            raise _Fail(i, {"Custom": 1}, f"Program {prog} failed: insufficient lamports for rent")
        w.credit_lamports(c.payer, -rent)
        w.open_token_account(c.ata, c.mint, c.wallet)
        # what the program invokes (spl-associated-token-account's ``process_create``):
        # the token program's GetAccountDataSize (ImmutableOwner), the system program's
        # CreateAccount, InitializeImmutableOwner and InitializeAccount3
        tp = c.token_program
        create = bytes(4) + struct.pack("<QQ", rent, size) + bytes(I.pubkey(tp))
        self._calls.extend(
            (
                InnerIx(tp, (c.mint,), bytes((21, 7, 0)), 2),
                InnerIx(SYSTEM_PROGRAM, (c.payer, c.ata), create, 2),
                InnerIx(tp, (c.ata,), bytes((22,)), 2),
                InnerIx(tp, (c.ata, c.mint), bytes((18,)) + bytes(I.pubkey(c.wallet)), 2),
            )
        )
        return CU_ATA_NEW, logs

    def _token_transfer(
        self, i: int, t: I.TokenTransfer, signer: Any, writable: Any, left: int
    ) -> tuple[int, list[str]]:
        """A token program's ``Transfer`` / ``TransferChecked`` (:mod:`feeds.sim.token`):
        the fee a Token-2022 fee mint withholds in the destination, Token-2022's refusal
        of a plain ``Transfer`` from an account holding withheld fees, a mint's transfer
        hook (its program is not one the simulator runs: as a node without it)."""
        w = self.world
        prog = t.program
        # Token-2022 logs the instruction's name; SPL Token as LiteSVM carries it (the
        # p-token rewrite, SIMD-0266) logs none
        logs = [f"Program log: Instruction: {t.name}"] if prog == I.TOKEN_2022 else []
        used = f"Program {prog} consumed {T.CU_FAILED} of {left} compute units"

        def fail(code: int) -> _Fail:
            line = T.ERROR_LOGS.get(code, "")
            head = "\n".join([*logs, f"Program log: {line}"] if line else logs)
            last = f"Program {prog} failed: custom program error: 0x{code:x}"
            return _Fail(i, {"Custom": code}, f"{head}\n{used}\n{last}")

        for k in (t.source, t.dest):
            acc = w.accounts.get(k)
            if acc is None or acc.owner != prog:
                raise _Fail(
                    i,
                    "IncorrectProgramId" if acc is not None else "InvalidAccountData",
                    f"Program {prog} failed: {k} is not its token account",
                )
            if not writable(k):
                raise _Fail(i, "ReadonlyDataModified", f"Program {prog} failed: {k} is read-only")
        src, dst = w.token_account(t.source), w.token_account(t.dest)
        if src is None or dst is None:
            raise _Fail(i, "UninitializedAccount", f"Program {prog} failed: uninitialized")
        src_data = w.accounts[t.source].data
        if t.mint is None and prog == I.TOKEN_2022 and T.needs_mint(src_data):
            raise fail(T.MINT_REQUIRED_FOR_TRANSFER)
        if src.amount < t.amount:
            raise fail(T.INSUFFICIENT_FUNDS)
        if src.mint != dst.mint:
            raise fail(T.MINT_MISMATCH)
        if t.mint is not None:
            if t.mint != src.mint:
                raise fail(T.MINT_MISMATCH)
            if t.decimals != w.decimals.get(src.mint):
                raise fail(T.MINT_DECIMALS_MISMATCH)
        if src.owner != t.authority:
            raise fail(T.OWNER_MISMATCH)
        if not signer(t.authority):
            what = "missing required signature for instruction"
            raise _Fail(i, "MissingRequiredSignature", f"Program {prog} failed: {what}")
        hook = w.transfer_hook(src.mint) if t.mint is not None else None
        if hook is not None:  # the runtime cannot find the hook's program
            missing = _IX_ERRORS["MissingAccount"]
            raise _Fail(
                i,
                "MissingAccount",
                "\n".join(
                    [*logs, f"Unknown program {hook}", used, f"Program {prog} failed: {missing}"]
                ),
            )
        fee = w.transfer_fee(src.mint, t.amount) if prog == I.TOKEN_2022 else 0
        w.move_tokens(t.source, -t.amount)
        w.move_tokens(t.dest, t.amount - fee, withheld=fee)
        return T.CU[(prog, t.name)], logs

    def _swap(self, i: int, s: I.Swap, sig: str) -> tuple[int, list[str]]:
        """Run a decoded swap: the runtime's part here; the program's checks, error codes
        and compute units from its venue (``SimVenue``)."""
        w = self.world
        prog = s.program
        sim = PROGRAMS.by_program(prog)
        assert sim is not None  # it decoded as a swap: a venue's program
        venue = sim.venue
        pool = w.by_address.get(s.pool)

        def fail(code: int) -> _Fail:
            return _Fail(
                i, {"Custom": code}, f"Program {prog} failed: custom program error: 0x{code:x}"
            )

        if pool is None or pool.kind != venue.kind:
            raise _Fail(i, "InvalidAccountData", f"Program {prog} failed: {s.pool} is not its pool")
        src, dst = w.token_account(s.user_source), w.token_account(s.user_dest)
        if src is None or dst is None:
            raise _Fail(
                i,
                "UninitializedAccount",
                f"Program {prog} failed: a user token account does not exist",
            )
        try:
            a_to_b = sim.program.check(w, s, pool, src, dst)
        except ProgramError as exc:
            raise fail(exc.code) from None
        except InstructionFailed as exc:
            raise _Fail(i, exc.detail, f"Program {prog} failed: {exc}") from None
        mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
        hooks = [m for m in (mint_in, mint_out) if w.transfer_hook(m) is not None]
        if hooks and sim.hook_error is None:  # its transfer invokes a program not passed
            what = f"the transfer hook of {hooks[0]} needs accounts the instruction does not pass"
            raise _Fail(i, "MissingAccount", f"Program {I.TOKEN_2022} failed: {what}")
        # a fee mint's transfer fee: the pool swaps what reaches its vault, the user gets
        # what leaves the pool's less the output mint's fee (each program's rule)
        fee_in = w.transfer_fee(mint_in, s.amount_in)
        try:
            take = sim.take
            q: SwapQuote | None
            if take is not None:  # an order book: the instruction's own order
                q = take(w, pool, s, a_to_b)
            else:
                q = w._quote(pool, a_to_b, s.amount_in - fee_in)
        except ProgramError as exc:
            raise fail(exc.code) from None
        except EngineError as exc:
            raise fail(sim.program.quote_error(str(exc))) from None
        if q is None:  # nothing would come out
            raise fail(sim.program.no_output_error)
        if take is not None or q.paid_in != s.amount_in - fee_in:
            # what the pool took is not what was sent less its fee (a book's lots, a
            # pool run dry): the program sends what makes that arrive
            sent = w.pre_fee_amount(mint_in, q.paid_in)
            fee_in = sent - q.paid_in
        else:
            sent = s.amount_in
        fee_out = w.transfer_fee(mint_out, q.out)
        if q.out - fee_out <= 0 and sim.nothing_received_error is not None:
            raise fail(sim.nothing_received_error)
        if q.out - fee_out < s.minimum_out:
            raise fail(venue.slippage_error)
        if src.amount < sent:  # the transfer in fails in the token program
            prog_in = w.token_programs.get(mint_in, I.SPL_TOKEN)
            raise _Fail(i, {"Custom": 1}, f"Program {prog_in} failed: custom program error: 0x1")
        if w.balance(pool.vault_b if a_to_b else pool.vault_a) < q.out:
            # the vault pays more than it holds: the transfer out fails (InsufficientFunds)
            prog_out = w.token_programs.get(mint_out, I.SPL_TOKEN)
            raise _Fail(i, {"Custom": 1}, f"Program {prog_out} failed: custom program error: 0x1")
        if hooks:  # the program's transfer through a hooked mint, its hook's accounts absent
            code = sim.hook_error
            raise _Fail(
                i,
                {"Custom": code},
                f"Program {I.TOKEN_2022} failed: custom program error: 0x{code:x}",
            )
        start_tick = pool.spec.tick_current
        w.order = (s.minimum_out, src.amount)
        try:
            trade = w.commit_swap(pool, a_to_b, q, sig, fee_in=fee_in)
        finally:
            w.order = None
        w.move_tokens(s.user_source, -sent)
        w.move_tokens(s.user_dest, q.out - fee_out, withheld=fee_out)
        self._calls.extend(self._swap_calls(s, pool, a_to_b, sent, q.out, trade.events))
        lines = [f"Program log: Instruction: {s.name or sim.program.name}"]
        if trade.log != lines[0]:  # a CP-Swap trade logs nothing more
            lines.append(trade.log)
        lines.extend(trade.events)  # the program's events (``Program data:``)
        return sim.program.cost(pool, start_tick), lines

    def _swap_calls(
        self, s: I.Swap, pool: Any, a_to_b: bool, sent: int, out: int, events: tuple[str, ...]
    ) -> list[InnerIx]:
        """The inner instructions of a swap that went through: the program's token
        transfers (``sent`` from the user's source account to the pool's input vault, its
        owner signing; ``out`` from the output vault to the user, the vault's owner — the
        pool's authority — signing), each by its mint's program: ``transfer_checked``
        (source, mint, destination, authority; amount, decimals) where the program uses
        it (``Logs.token_instruction``, its ``v2_name`` instruction, a Token-2022 mint),
        else ``transfer`` (source, destination, authority; amount); with the events it
        emits by self-CPI around them (``Logs.cpi_events``). Checked against the real
        binaries in LiteSVM where ``../shared/programs`` has one
        (``tests/judge/test_inner_instructions.py``)."""
        w = self.world
        sim = PROGRAMS.by_kind(pool.kind)
        v2 = bool(sim.logs.v2_name) and s.name == sim.logs.v2_name
        checked = sim.logs.token_instruction == "TransferChecked" or v2
        mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
        vin, vout = (pool.vault_a, pool.vault_b) if a_to_b else (pool.vault_b, pool.vault_a)
        vault = w.token_account(vout)
        authority = vault.owner if vault is not None else pool.address

        def transfer(src: str, dst: str, mint: str, signer: str, amount: int) -> list[InnerIx]:
            prog = w.token_programs.get(mint, I.SPL_TOKEN)
            calls: list[InnerIx] = []
            if amount == 0 and not sim.logs.zero_transfers:
                return calls
            cfg = w.fee_configs.get(mint)
            if v2 and cfg is not None:  # Whirlpool's memo of the transfer fee it pays
                older, newer = cfg
                now = newer if w.epoch() >= newer[0] else older
                calls.append(InnerIx(I.MEMO_PROGRAM, (), f"TFe: {now[2]}, {now[1]}".encode()))
            raw = amount.to_bytes(8, "little")
            if checked or prog == I.TOKEN_2022:
                data = b"\x0c" + raw + bytes([w.decimals[mint]])
                calls.append(InnerIx(prog, (src, mint, dst, signer), data))
            else:
                calls.append(InnerIx(prog, (src, dst, signer), b"\x03" + raw))
            return calls

        before: list[InnerIx] = []
        after: list[InnerIx] = []
        if sim.logs.cpi_events is not None:
            before, after = sim.logs.cpi_events(w, pool, s, events)
        return [
            *before,
            *transfer(s.user_source, vin, mint_in, s.owner, sent),
            *transfer(vout, s.user_dest, mint_out, authority, out),
            *after,
        ]

    # ------------------------------------------------------------ RPC methods
    def simulate(self, params: list[Any]) -> dict[str, Any]:
        """``simulateTransaction``'s ``value`` as Agave 3.1 answers it: its checks run as
        a landing's would at the bank of its ``commitment`` (a blockhash that bank does
        not know: ``BlockhashNotFound``; the signatures with ``sigVerify``:
        ``SignatureFailure``), what failed before running is a value too (no fee, no
        accounts loaded); the balances and token balances of its accounts before and
        after, ``loadedAddresses``, ``loadedAccountsDataSize``, the accounts asked for in
        ``base64``, ``base64+zstd`` or ``jsonParsed``, the inner instructions (parsed)
        with ``innerInstructions``. The state it runs on is the newest, whatever the
        commitment (see docs/simulator.md)."""
        self._require_accept()
        try:
            N.arity(params, 1, 2)
            cfg = N.config(params, 1, _SIM_CONFIG)
            level = N.commitment(cfg)
            sig_verify = bool(cfg.get("sigVerify") and N.expect_bool(cfg["sigVerify"]))
            replace_bh = bool(
                cfg.get("replaceRecentBlockhash") and N.expect_bool(cfg["replaceRecentBlockhash"])
            )
            inner = bool(cfg.get("innerInstructions") and N.expect_bool(cfg["innerInstructions"]))
            acc_cfg = cfg.get("accounts")
            if acc_cfg is not None and not isinstance(acc_cfg, dict):
                raise N.type_error(acc_cfg, "struct RpcSimulateTransactionAccountsConfig")
            N.min_context_slot(cfg, self.bank_at(level))
        except N.RpcFault as f:
            raise ChainError(f.code, f.message, f.data) from None
        tx = self.decode_tx(params[0], cfg.get("encoding") or "base58")
        if sig_verify and replace_bh:
            raise ChainError(-32602, "sigVerify may not be used with replaceRecentBlockhash")
        self._sanitize(tx)
        want: list[str] | None = None
        encoding = "base64"
        if acc_cfg is not None:
            try:
                encoding = N.account_encoding(acc_cfg, "base64")
                addrs = acc_cfg.get("addresses")
                if not isinstance(addrs, list):
                    raise N.invalid_params("Invalid params: missing field `addresses`.")
                want = [N.expect_str(a) for a in addrs]
            except N.RpcFault as f:
                raise ChainError(f.code, f.message, f.data) from None
            if encoding in ("binary", "base58"):
                raise ChainError(-32602, "base58 encoding not supported")
            n = len(self.account_keys(tx.message))
            if len(want) > n:
                raise ChainError(-32602, f"Too many accounts provided; max {n}")
        self.stats.simulated += 1
        if sig_verify and not all(tx.verify_with_results()):
            out = Outcome(str(tx.signatures[0]), "SignatureFailure", [], 0, 0, [])
            return self._sim_value(tx, out, None, inner=inner)
        pre = self._balances(tx)
        out = self.run(
            tx,
            commit=False,
            check_blockhash=not replace_bh,
            want_accounts=want,
            bank_slot=self.bank_at(level),
        )
        shown: list[dict[str, Any] | None] | None = None
        if want is not None and out.err is not None:
            shown = [None] * len(want)  # a failed simulation returns none, unchecked
        elif want is not None:
            try:  # the addresses are checked only for a simulation that succeeded
                [N.parse_pubkey(a) for a in want]
            except N.RpcFault as f:
                raise ChainError(f.code, f.message, f.data) from None
            shown = [
                None if a is None else self._ui_account(a, encoding) for a in out.accounts or []
            ]
        return self._sim_value(tx, out, pre, replace_bh, inner, shown)

    def _ui_account(self, value: dict[str, Any], encoding: str) -> dict[str, Any]:
        """A returned account (its base64 value) in ``encoding``."""
        data = base64.b64decode(value["data"][0])
        acc = Account(value["owner"], data, value["lamports"], bool(value["executable"]))
        return N.ui_account(acc, encoding, None, self.world.decimals.get, check_base58=False)

    def _sim_value(
        self,
        tx: VersionedTransaction,
        out: Outcome,
        pre: tuple[tuple[int, ...], tuple[Any, ...]] | None,
        replaced: bool = False,
        inner: bool = False,
        accounts: list[dict[str, Any] | None] | None = None,
        preflight: bool = False,
    ) -> dict[str, Any]:
        """A simulation's value (``RpcSimulateTransactionResult``); ``preflight``: as a
        refused ``sendTransaction`` carries it in its error's data (no loaded addresses,
        balances or token balances). ``pre`` None: refused before its accounts were
        read (no balances)."""
        from .methods import inner_instructions, token_balances

        bh, lvbh = self.latest_blockhash()
        post = out.after if out.after is not None else pre
        decimals = self.world.decimals
        balances = pre is not None and post is not None and not preflight
        value: dict[str, Any] = {
            "accounts": accounts,
            "err": out.err,
            "fee": out.fee if out.ran else None,
            "innerInstructions": None,
            "loadedAccountsDataSize": out.loaded_size if out.ran else 0,
            "loadedAddresses": None
            if preflight
            else {"readonly": list(out.loaded[1]), "writable": list(out.loaded[0])},
            "logs": out.logs,
            "postBalances": list(post[0]) if balances and post else None,
            "postTokenBalances": token_balances(post[1], decimals) if balances and post else None,
            "preBalances": list(pre[0]) if balances and pre else None,
            "preTokenBalances": token_balances(pre[1], decimals) if balances and pre else None,
            "replacementBlockhash": {"blockhash": bh, "lastValidBlockHeight": lvbh}
            if replaced
            else None,
            "returnData": None,
            "unitsConsumed": out.units,
        }
        if inner and not preflight:
            keys = self.account_keys(tx.message)
            value["innerInstructions"] = inner_instructions(keys, out.inner, decimals, True)
        return value

    def simulate_bundle(self, params: list[Any]) -> dict[str, Any]:
        """Jito's ``simulateBundle`` (jito-solana ``rpc/src/rpc.rs``, ``rpc-client-api``
        ``bundles.rs``): the transactions run in order, each on the state the ones
        before it left, against the working bank (``simulate_transactions_unchecked``:
        no blockhash age), everything undone afterwards; each one's result with the
        accounts asked before and after it; ``summary`` ``succeeded`` or the first
        failure. Its request checks and wording are the node's."""
        self._require_accept()
        req = params[0] if params else None
        txs_text = req.get("encodedTransactions") if isinstance(req, dict) else None
        if not isinstance(txs_text, list) or not all(isinstance(t, str) for t in txs_text):
            raise ChainError(-32602, "Invalid params: missing field `encodedTransactions`")
        if len(txs_text) > MAX_SIMULATED_BUNDLE:
            raise ChainError(-32602, "bundle size too large, max 20 transactions")
        cfg = params[1] if len(params) > 1 and params[1] is not None else None
        if cfg is not None and not isinstance(cfg, dict):
            raise ChainError(-32602, "Invalid params: expected a configuration object")
        n = len(txs_text)
        if cfg is None:
            pre_cfg: list[Any] = [None] * n
            post_cfg: list[Any] = [None] * n
            cfg = {}
        else:
            for key in ("preExecutionAccountsConfigs", "postExecutionAccountsConfigs"):
                if not isinstance(cfg.get(key), list):
                    raise ChainError(-32602, f"Invalid params: missing field `{key}`")
            pre_cfg, post_cfg = (
                cfg["preExecutionAccountsConfigs"],
                cfg["postExecutionAccountsConfigs"],
            )
        if not len(pre_cfg) == len(post_cfg) == n:
            raise ChainError(
                -32602,
                "pre/post_execution_accounts_configs must be equal in "
                "length to the number of transactions",
            )
        if cfg.get("transactionEncoding", "base64") != "base64":
            raise ChainError(-32602, "Base64 is the only supported encoding for transactions")
        for which, configs in (("pre", pre_cfg), ("post", post_cfg)):
            for c in configs:
                if c is not None and (c.get("encoding") or "base64") != "base64":
                    raise ChainError(
                        -32602,
                        f"Base64 is the only supported encoding for {which}-execution accounts",
                    )
        txs = [self.decode_tx(t, "base64") for t in txs_text]
        if len({bytes(t.message) for t in txs}) != n:
            raise ChainError(-32602, "duplicate transactions")
        for configs in (pre_cfg, post_cfg):
            for c in configs:
                addrs = (c or {}).get("addresses") or []
                if len(addrs) > MAX_TX_ACCOUNT_LOCKS:
                    raise ChainError(
                        -32602, f"Too many accounts provided; max {MAX_TX_ACCOUNT_LOCKS}"
                    )
        skip_verify = bool(cfg.get("skipSigVerify", False))
        if cfg.get("replaceRecentBlockhash", False) and not skip_verify:
            what = "replace_recent_blockhash cannot be used with !skip_sig_verify"
            raise ChainError(-32602, what)
        for t in txs:
            self._sanitize(t)
        if not skip_verify:
            for t in txs:
                if not all(t.verify_with_results()):
                    raise ChainError(
                        -32602,
                        "transaction signature is invalid: Transaction did "
                        "not pass signature verification",
                    )
        self.stats.simulated += 1
        keys = [k for t in txs for k in self.account_keys(t.message)]
        wanted = [a for c in (*pre_cfg, *post_cfg) for a in ((c or {}).get("addresses") or [])]
        snap = self._snapshot(list(dict.fromkeys([*keys, *wanted])))
        results: list[dict[str, Any]] = []
        failed: dict[str, Any] | None = None
        try:
            for t, pre, post in zip(txs, pre_cfg, post_cfg, strict=True):
                before = self._ui_accounts((pre or {}).get("addresses") or [])
                o = self.run(t, commit=True, check_blockhash=False)
                after = self._ui_accounts((post or {}).get("addresses") or [])
                if o.err is not None and failed is None:
                    failed = {
                        "failed": {
                            "error": {"TransactionFailure": [o.signature, describe(o.err)]},
                            "tx_signature": o.signature,
                        }
                    }
                results.append(
                    {
                        "err": o.err,
                        "logs": o.logs,
                        "preExecutionAccounts": before,
                        "postExecutionAccounts": after,
                        "unitsConsumed": o.units,
                        "loadedAccountsDataSize": sum(
                            len(self.world.accounts[k].data)
                            for k in self.account_keys(t.message)
                            if k in self.world.accounts
                        ),
                        "returnData": None,
                        "replacementBlockhash": None,
                        "fee": o.fee,
                        "preBalances": None,
                        "postBalances": None,
                        "preTokenBalances": None,
                        "postTokenBalances": None,
                        "loadedAddresses": {
                            "writable": list(o.loaded[0]),
                            "readonly": list(o.loaded[1]),
                        },
                    }
                )
        finally:
            self._restore(snap)
        return {"summary": failed or "succeeded", "transactionResults": results}

    def _ui_accounts(self, addresses: list[Any]) -> list[dict[str, Any]]:
        """Accounts as ``encode_account`` shows them in base64 (a missing one as the
        default account the bank loads for it)."""
        out = []
        for a in addresses:
            acc = self.world.accounts.get(a) if isinstance(a, str) else None
            out.append((acc or Account(SYSTEM_PROGRAM, b"", 0)).value())
        return out

    def send(self, params: list[Any]) -> str:
        """``sendTransaction``: preflight (unless ``skipPreflight``) — the signatures, then
        a simulation at ``preflightCommitment`` (``finalized`` by default, as a node's:
        a blockhash only a newer bank knows is ``Blockhash not found``), refused -32002
        with the simulation as data —, then queued for the next slot; the first
        signature."""
        self._require_accept()
        try:
            try:
                N.arity(params, 1, 2)
                cfg = N.config(params, 1, "RpcSendTransactionConfig")
                skip = bool(cfg.get("skipPreflight") and N.expect_bool(cfg["skipPreflight"]))
                level = N.commitment({"commitment": cfg.get("preflightCommitment")})
            except N.RpcFault as f:
                raise ChainError(f.code, f.message, f.data) from None
            tx = self.decode_tx(params[0], cfg.get("encoding") or "base58")
            self._sanitize(tx)
            if not skip:
                if not all(tx.verify_with_results()):
                    out = Outcome(str(tx.signatures[0]), "SignatureFailure", [], 0, 0, [])
                else:
                    out = self.run(tx, commit=False, bank_slot=self.bank_at(level))
                if out.err is not None:
                    raise ChainError(
                        -32002,
                        "Transaction simulation failed: " + describe(out.err),
                        self._sim_value(tx, out, None, preflight=True),
                    )
            # skipPreflight: a node checks nothing more and answers the signature; a bad
            # signature or an unknown blockhash only means it never lands (``land``)
            if len(self.pending) >= MAX_PENDING:
                raise ChainError(-32005, "Node is behind: too many queued transactions")
        except ChainError:
            self.stats.rejected += 1
            raise
        self.stats.sent += 1
        self.pending.append(_Pending([tx]))
        return str(tx.signatures[0])

    def send_bundle(self, params: list[Any], engine: str = "") -> str:
        """Jito ``sendBundle`` (spec §5.4) to the block engine ``engine``: the bundle id
        (sha256 of the signatures). The same bundle sent to several engines has one id;
        each engine forwards its copy, and a transaction lands once (``AlreadyProcessed``
        fails the later copies: they land nothing and pay nothing)."""
        self._require_accept()
        cfg = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        items = params[0] if params else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BUNDLE:
            raise ChainError(-32602, f"a bundle holds 1 to {MAX_BUNDLE} transactions")
        txs = [self.decode_tx(t, cfg.get("encoding", "base58")) for t in items]
        for tx in txs:
            self._verify(tx)
        if not any(self._tips(tx) >= I.JITO_MIN_TIP for tx in txs):
            self.stats.rejected += 1
            raise ChainError(
                -32602, f"bundle must tip at least {I.JITO_MIN_TIP} lamports to a Jito tip account"
            )
        bid = hashlib.sha256(b"".join(bytes(t.signatures[0]) for t in txs)).hexdigest()
        self.stats.bundles += 1
        self.bundles[(engine, bid)] = {"bundle_id": bid, "status": "Pending", "landed_slot": None}
        while len(self.bundles) > STATUS_KEEP:
            self.bundles.popitem(last=False)
        delay = self.engines.get(engine, BlockEngine()).delay_slots
        self.pending.append(_Pending(txs, bid, engine, self.world.slot + 1 + delay))
        return bid

    def tip_floor(self) -> list[dict[str, Any]]:
        """Jito's tip floor (``GET /api/v1/bundles/tip_floor``): percentiles of the tips of
        recently landed bundles, in SOL, and the EMA of the median (spec §5.4's fields);
        all 0 while no bundle has landed (no competition from bundles: nothing to outbid)."""
        tips = sorted(self.landed_tips) or [0]

        def pct(q: float) -> float:
            return tips[min(len(tips) - 1, int(q * len(tips)))] / 1e9

        ema = float(tips[0])
        for t in self.landed_tips:
            ema += 0.1 * (t - ema)
        return [
            {
                "time": f"slot {self.world.slot}",
                "landed_tips_25th_percentile": pct(0.25),
                "landed_tips_50th_percentile": pct(0.50),
                "landed_tips_75th_percentile": pct(0.75),
                "landed_tips_95th_percentile": pct(0.95),
                "landed_tips_99th_percentile": pct(0.99),
                "ema_landed_tips_50th_percentile": ema / 1e9,
            }
        ]

    @staticmethod
    def _tips(tx: VersionedTransaction) -> int:
        keys = [str(k) for k in tx.message.account_keys]
        total = 0
        for ix in tx.message.instructions:
            if keys[ix.program_id_index] != SYSTEM_PROGRAM:
                continue
            try:
                rec = I.decode(
                    SYSTEM_PROGRAM, bytes(ix.data), [keys[j] for j in bytes(ix.accounts)]
                )
            except I.InstructionError:
                continue
            if isinstance(rec, I.Transfer) and rec.dest in I.JITO_TIP_ACCOUNTS:
                total += rec.lamports
        return total

    def cu_price(self, tx: VersionedTransaction) -> int:
        """``tx``'s compute-unit price (micro-lamports; 0 when its budget does not
        decode)."""
        try:
            keys = [str(k) for k in tx.message.account_keys]
            return self._fee_and_limit(tx.message, keys)[2]  # type: ignore[arg-type]
        except _Fail:
            return 0

    def priority(self, p: _Pending) -> int:
        """A leader's order of what lands in a slot: a transaction's compute-unit price
        (micro-lamports per CU), a bundle's tip per requested compute unit on top of its
        first transaction's price (Jito's auction ranks bundles by tip)."""
        try:
            limits = [
                self._fee_and_limit(t.message, [str(k) for k in t.message.account_keys])  # type: ignore[arg-type]
                for t in p.txs
            ]  # decode_tx refused the other message versions
        except _Fail:
            return 0
        price = limits[0][2]
        if p.bundle is None:
            return price
        tips = sum(self._tips(t) for t in p.txs)
        return price + tips * 1_000_000 // max(1, sum(x[1] for x in limits))

    def queue_rival(self, tx: VersionedTransaction, slot: int, order: Any, bundle: bool) -> None:
        """A competitor's signed transaction (``feeds.sim.competition``: ``order`` what it
        is), to land in ``slot``: a bundle of it (its id the sha256 of its signature, from
        a block engine of the competitors' own: none of the node's engines' drops or
        statuses) or a plain transaction. Counted in :attr:`rival_stats`, not
        :attr:`stats`."""
        bid = hashlib.sha256(bytes(tx.signatures[0])).hexdigest() if bundle else None
        self.pending.append(_Pending([tx], bid, RIVAL_ENGINE, slot, order))

    def land_now(self, txs: list[VersionedTransaction], slot: int) -> list[Landed]:
        """Run ``txs`` now, in this order, as the first of ``slot`` (the world's own actors
        that update before anyone trades: the prop AMMs' makers and their takers,
        ``feeds.sim.propamm``): landed as anyone's, with bodies and balances."""
        out: list[Landed] = []
        for tx in txs:
            self._land(_Pending([tx], None, "", slot, None), slot, out)
        return out

    def land(self, slot: int) -> list[Landed]:
        """Run what was sent (called by the world at the start of ``slot``), the
        competitors' transactions among it, in one order: the highest priority first, the
        order of arrival among equals (:meth:`priority`)."""
        self._record_slot(slot)
        out: list[Landed] = []
        pending, self.pending = self.pending, []
        due: list[tuple[int, int, _Pending]] = []
        for n, p in enumerate(pending):
            if p.not_before > slot:  # still on its way (a slow engine, a slow competitor)
                self.pending.append(p)
            else:
                due.append((-self.priority(p), n, p))
        due.sort(key=lambda x: (x[0], x[1]))
        for _, _, p in due:
            if p.rival is None:
                self._land(p, slot, out)
                continue
            # a competitor's: counted apart (ChainStats counts what was sent to the node)
            mine, self.stats = self.stats, self.rival_stats
            try:
                got = self._land(p, slot, out)
            finally:
                self.stats = mine
            competition = self.world.competition
            if competition is not None:
                competition.settled(p.rival, got is not None, got is not None and got.err is None)
        return out

    def _land(self, p: _Pending, slot: int, out: list[Landed]) -> Landed | None:
        """Land one transaction or bundle in ``slot`` (appended to ``out``); its last
        landed transaction, None when nothing landed."""
        if p.bundle is None:
            if not all(p.txs[0].verify_with_results()):
                self.stats.failed += 1  # the leader drops it: no fee, no status, ever
                return None
            before = self._balances(p.txs[0])
            landed = self._landed(self.run(p.txs[0], commit=True), slot, p.txs[0], before)
            if landed is not None:
                out.append(landed)
            return landed
        b = self.bundles.get((p.engine, p.bundle))
        eng = self.engines.get(p.engine, BlockEngine())
        dropped = eng.drop_first > 0
        eng.drop_first -= dropped
        if dropped or (eng.drop and self._engine_rng.random() < eng.drop):  # no leader saw it
            self.stats.failed += 1
            if b is not None:
                b["status"] = "Failed"
            return None
        snap = self._snapshot([k for t in p.txs for k in self.account_keys(t.message)])
        results = []
        befores = []
        for t in p.txs:
            befores.append(self._balances(t))
            o = self.run(t, commit=True)
            results.append(o)
            if o.err is not None:
                break
        if results[-1].err is not None:  # the bundle does not land: nothing happened
            self._restore(snap)
            self.stats.failed += 1
            if b is not None:
                b["status"] = "Failed"
                b["err"] = results[-1].err
            return None
        if b is not None:
            b["status"], b["landed_slot"] = "Landed", slot
        self.landed_tips.append(sum(self._tips(t) for t in p.txs))
        last = None
        for o, t, before in zip(results, p.txs, befores, strict=False):
            landed = self._landed(o, slot, t, before)
            if landed is not None:
                out.append(landed)
                last = landed
        return last

    def _balances(self, tx: VersionedTransaction) -> tuple[tuple[int, ...], tuple[Any, ...]]:
        """The lamports of ``tx``'s accounts, and its token accounts' balances (either
        token program's)."""
        keys = self.account_keys(tx.message)
        lamports = tuple(self.world.lamports(k) for k in keys)
        tokens = []
        for i, k in enumerate(keys):
            tok = self.world.token_account(k)
            if tok is not None:
                tokens.append((i, tok.mint, tok.owner, tok.amount, self.world.accounts[k].owner))
        return lamports, tuple(tokens)

    def _landed(
        self,
        o: Outcome,
        slot: int,
        tx: VersionedTransaction | None = None,
        before: tuple[tuple[int, ...], tuple[Any, ...]] | None = None,
    ) -> Landed | None:
        """Record a transaction that ran in ``slot`` (its fee paid, even when an
        instruction failed) with its body in the ledger; None for one dropped before
        running (no status, ever)."""
        self.stats.failed += o.err is not None
        if not o.ran:
            return None
        self.statuses[o.signature] = (slot, o.err)
        while len(self.statuses) > STATUS_KEEP:
            self.statuses.popitem(last=False)
        if tx is not None and before is not None:
            after = self._balances(tx)
            block = self.blocks.setdefault(slot, [])
            self.ledger[o.signature] = Stored(
                tx, slot, o, before[0], after[0], before[1], after[1], len(block)
            )
            block.append(o.signature)
            while self.blocks and next(iter(self.blocks)) <= slot - BLOCK_SLOTS:
                self.blocks.popitem(last=False)
            loaded = [*o.loaded[0], *o.loaded[1]]
            for k in dict.fromkeys([str(k) for k in tx.message.account_keys] + loaded):
                self.by_address.setdefault(k, []).append(o.signature)
            while len(self.ledger) > STATUS_KEEP:
                sig, old = self.ledger.popitem(last=False)
                self._block_floor = max(self._block_floor, old.slot + 1)
                for k in {str(k) for k in old.tx.message.account_keys} | {
                    *old.outcome.loaded[0],
                    *old.outcome.loaded[1],
                }:
                    sigs = self.by_address.get(k)
                    if sigs and sigs[0] == sig:
                        sigs.pop(0)
        self.stats.landed += 1
        keys: tuple[str, ...] = ()
        if tx is not None:
            keys = (*(str(k) for k in tx.message.account_keys), *o.loaded[0], *o.loaded[1])
        return Landed(o.signature, slot, o.err, tuple(o.logs), tuple(o.programs), keys)

    def first_block(self) -> int:
        """The oldest slot whose block the ledger holds whole (``getBlock``; a node's
        first available block): the last ``BLOCK_SLOTS`` slots, none before the
        simulator's first slot, none whose transactions the ledger has let go."""
        return max(self.first_slot, self.world.slot - BLOCK_SLOTS + 1, self._block_floor)

    def signature_statuses(self, params: list[Any], root: int) -> list[dict[str, Any] | None]:
        """``getSignatureStatuses [signatures, {searchTransactionHistory}?]`` as Agave
        answers it: up to 256 signatures (each checked as a signature), the optional
        configuration an ``RpcSignatureStatusConfig`` whose one field is required; each
        status ``finalized`` with no ``confirmations`` once ``root`` has passed its slot,
        else ``confirmed`` with the slots built on it since (at most 31: a vote tower's
        lockouts)."""
        try:
            N.arity(params, 1, 2)
            sigs = params[0]
            if not isinstance(sigs, list):
                raise N.type_error(sigs, "a sequence")
            cfg = N.config(params, 1, "RpcSignatureStatusConfig")
            if len(params) > 1 and params[1] is not None:
                if "searchTransactionHistory" not in cfg:
                    raise N.invalid_params(
                        "Invalid params: missing field `searchTransactionHistory`."
                    )
                N.expect_bool(cfg["searchTransactionHistory"])
            for s in sigs:
                N.expect_str(s)
            if len(sigs) > MAX_SIGNATURE_STATUSES:
                raise N.invalid_params(f"Too many inputs provided; max {MAX_SIGNATURE_STATUSES}")
            for s in sigs:
                N.parse_signature(s)
        except N.RpcFault as f:
            raise ChainError(f.code, f.message, f.data) from None
        out: list[dict[str, Any] | None] = []
        for s in sigs:
            st = self.statuses.get(s)
            if st is None:
                out.append(None)
                continue
            slot, err = st
            final = slot <= root
            out.append(
                {
                    "slot": slot,
                    # confirmed: its slot voted on at least once (the simulated cluster
                    # confirms a slot as it makes it)
                    "confirmations": None if final else min(self.world.slot - slot + 1, 31),
                    "err": err,
                    "status": {"Ok": None} if err is None else {"Err": err},
                    "confirmationStatus": "finalized" if final else "confirmed",
                }
            )
        return out

    def bundle_statuses(
        self, params: list[Any], inflight: bool, engine: str = ""
    ) -> list[dict[str, Any] | None]:
        ids = params[0] if params else None
        if not isinstance(ids, list) or len(ids) > MAX_BUNDLE:
            raise ChainError(-32602, f"Invalid params: expected up to {MAX_BUNDLE} bundle ids")
        out: list[dict[str, Any] | None] = []
        for bid in ids:
            b = self.bundles.get((engine, bid)) if isinstance(bid, str) else None
            if b is None:
                out.append(
                    {"bundle_id": bid, "status": "Invalid", "landed_slot": None}
                    if inflight
                    else None
                )
            elif inflight:
                out.append(
                    {"bundle_id": bid, "status": b["status"], "landed_slot": b["landed_slot"]}
                )
            elif b["status"] == "Landed":
                out.append(
                    {
                        "bundle_id": bid,
                        "slot": b["landed_slot"],
                        "confirmation_status": "confirmed",
                        "err": {"Ok": None},
                    }
                )
            else:
                out.append(None)
        return out

    # ------------------------------------------------------------ the faucet
    def airdrop(self, params: list[Any]) -> str:
        """``requestAirdrop [pubkey, lamports, config?]``: credited at once; a signature.
        Its parameters are checked as a node checks them (serde's words, then the key's
        ``Invalid param: WrongSize``)."""
        self._require_accept()
        try:
            N.arity(params, 2, 3)
            N.expect_str(params[0])
            N.expect_u64(params[1])
            N.config(params, 2, "RpcRequestAirdropConfig")
            N.parse_pubkey(params[0])
        except N.RpcFault as f:
            raise ChainError(f.code, f.message, f.data) from None
        self.world.credit_lamports(params[0], int(params[1]))
        name = f"airdrop:{params[0]}:{self.world.slot}:{len(self.statuses)}"
        sig = str(self.world.eng.b58encode(hashlib.sha512(name.encode()).digest()))
        self.statuses[sig] = (self.world.slot, None)
        return sig

    def fund(self, params: list[Any]) -> dict[str, Any]:
        """``simFund [owner, mint, amount]`` (simulator only): ``amount`` of ``mint`` into
        the owner's associated token account (created when missing)."""
        self._require_accept()
        if (
            len(params) < 3
            or not all(isinstance(p, str) for p in params[:2])
            or not _u64(params[2])
        ):
            raise ChainError(-32602, "Invalid params: expected [owner, mint, amount]")
        owner, mint, amount = params[0], params[1], int(params[2])
        _check_key(owner)
        if mint not in self.world.mints:
            raise ChainError(-32602, f"Invalid params: {mint} is not a mint of this market")
        ata = I.ata_address(owner, mint, self.world.token_programs.get(mint, I.SPL_TOKEN))
        if self.world.token_account(ata) is None:
            self.world.open_token_account(ata, mint, owner, amount)
        else:
            self.world.move_tokens(ata, amount)
        tok = self.world.token_account(ata)
        return {"ata": ata, "amount": 0 if tok is None else tok.amount}


def is_writable(msg: Any, i: int) -> bool:
    """Whether static account ``i`` of a message is writable (its header's rule)."""
    h = msg.header
    n = len(msg.account_keys)
    if i < h.num_required_signatures:
        return bool(i < h.num_required_signatures - h.num_readonly_signed_accounts)
    return bool(i < n - h.num_readonly_unsigned_accounts)


def _u64(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 1 << 64


def _check_key(text: str) -> None:
    from ..wire.universe import address_problem

    if address_problem(text):
        raise ChainError(-32602, f"Invalid params: {text[:60]!r} is not a pubkey")


# how a node words the TransactionErrors and InstructionErrors the simulator produces
# (their ``Display``, ``#[error(...)]`` in solana-transaction-error)
_TX_ERRORS = {
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "AlreadyProcessed": "This transaction has already been processed",
    "BlockhashNotFound": "Blockhash not found",
    "AddressLookupTableNotFound": "Transaction loads an address table account that doesn't exist",
    "InvalidAddressLookupTableOwner": (
        "Transaction loads an address table account with an invalid owner"
    ),
    "InvalidAddressLookupTableData": "Transaction loads an address table account with invalid data",
    "InvalidAddressLookupTableIndex": "Transaction address table lookup uses an invalid index",
    "SignatureFailure": "Transaction did not pass signature verification",
    "TooManyAccountLocks": "Transaction locked too many accounts",
    "AccountLoadedTwice": "Account loaded twice",
}
_IX_ERRORS = {
    "InvalidArgument": "invalid program argument",
    "InvalidInstructionData": "invalid instruction data",
    "InvalidAccountData": "invalid account data for instruction",
    "InsufficientFunds": "insufficient funds for instruction",
    "IncorrectProgramId": "incorrect program id for instruction",
    "MissingRequiredSignature": "missing required signature for instruction",
    "UninitializedAccount": "instruction requires an initialized account",
    "ReadonlyLamportChange": "instruction changed the balance of a read-only account",
    "ReadonlyDataModified": "instruction modified data of a read-only account",
    "InvalidSeeds": "Provided seeds do not result in a valid address",
    "ComputationalBudgetExceeded": "Computational budget exceeded",
    "IllegalOwner": "Provided owner is not allowed",
    "NotEnoughAccountKeys": "insufficient account keys for instruction",
    "AccountAlreadyInitialized": "instruction requires an uninitialized account",
    "InvalidAccountOwner": "Invalid account owner",
    "Immutable": "Account is immutable",
    "IncorrectAuthority": "Incorrect authority provided",
    "AccountDataTooSmall": "account data too small for instruction",
    "ExternalAccountDataModified": "instruction modified data of an account it does not own",
    "ExternalAccountLamportSpend": (
        "instruction spent from the balance of an account it does not own"
    ),
    "ModifiedProgramId": "instruction illegally modified the program id of an account",
    "MaxSeedLengthExceeded": "Length of the seed is too long for address generation",
    "MissingAccount": "An account required by the instruction is missing",
}


def describe(err: Any) -> str:
    """A TransactionError in the node's words (its ``Display``), as the message of a
    failed preflight says it: ``Transaction simulation failed: <this>``."""
    if isinstance(err, str):
        return _TX_ERRORS.get(err, err)
    if isinstance(err, dict) and "InstructionError" in err:
        i, detail = err["InstructionError"]
        if isinstance(detail, dict) and "Custom" in detail:
            return f"Error processing Instruction {i}: custom program error: 0x{detail['Custom']:x}"
        return f"Error processing Instruction {i}: {_IX_ERRORS.get(str(detail), detail)}"
    if isinstance(err, dict) and "InsufficientFundsForRent" in err:
        index = err["InsufficientFundsForRent"]["account_index"]
        return f"Transaction results in an account ({index}) with insufficient funds for rent"
    if isinstance(err, dict) and "DuplicateInstruction" in err:
        return (
            f"Transaction contains a duplicate instruction ({err['DuplicateInstruction']}) "
            "that is not allowed"
        )
    return str(err)
