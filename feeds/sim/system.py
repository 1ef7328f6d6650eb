"""The System program's account-creating and durable-nonce instructions, and the
runtime's durable-nonce rule, as a node runs them (Agave ``programs/system``:
``system_processor.rs`` for the dispatch, the account checks and ``create_account``;
``system_instruction.rs`` for the nonce instructions; the runtime's rule in
``runtime/src/bank/check_transactions.rs``; the state in ``solana-nonce``). The System
program's transfer (a Jito tip) runs in :mod:`feeds.sim.chain`.

- **Instructions** (bincode ``SystemInstruction``: a u32 tag, then its fields; data
  that does not decode is ``InvalidInstructionData``): ``CreateAccount`` (0),
  ``CreateAccountWithSeed`` (3: the address must be ``create_with_seed(base, seed,
  owner)``, the base signs), ``AdvanceNonceAccount`` (4), ``WithdrawNonceAccount`` (5),
  ``InitializeNonceAccount`` (6), ``AuthorizeNonceAccount`` (7), ``UpgradeNonceAccount``
  (12). Each costs 150 compute units (``DEFAULT_COMPUTE_UNITS``); the failures log the
  program's own ``ic_msg!`` line and fail with its error (``SystemError`` codes are
  ``Custom``: ``AccountAlreadyInUse`` 0, ``ResultWithNegativeLamports`` 1,
  ``AddressWithSeedMismatch`` 5, ``NonceBlockhashNotExpired`` 7).
- **Nonce account**: 80 bytes, bincode ``Versions::Current(State::Initialized(Data))``:
  u32 1, u32 1, the authority (32), the durable nonce (32), the fee calculator's
  lamports per signature (u64). The durable nonce of a blockhash is ``sha256(b"DURABLE_NONCE"
  ‖ blockhash)`` (``DurableNonce::from_blockhash``); initializing or advancing stores the
  durable nonce of the current blockhash, and advancing twice in one slot (the stored
  nonce already that one) is ``NonceBlockhashNotExpired``. The nonce instructions name
  the ``RecentBlockhashes`` sysvar (and Initialize / Withdraw the ``Rent`` sysvar) at
  fixed positions: another account there is ``InvalidArgument``.
- **The runtime's rule** (:func:`nonce_for`): a transaction whose blockhash is not a
  recent one is valid only when its first instruction is ``AdvanceNonceAccount`` of a
  writable static account that is a current, initialized nonce account of the System
  program whose durable nonce is the message's blockhash, whose authority signs that
  instruction, and which has not been advanced in this slot; otherwise
  ``BlockhashNotFound`` (dropped: no fee). Such a transaction advances the nonce even
  when a later instruction fails (the fee and the advanced nonce are kept, all else is
  undone), so every other transaction naming the same nonce can never land.

Pure computation over the world's accounts; no I/O.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from solders.pubkey import Pubkey

from ..wire.instructions import SYSTEM_PROGRAM
from . import node as N
from .state import Account, KeyTest, Ledger, Ran

RECENT_BLOCKHASHES = "SysvarRecentB1ockHashes11111111111111111111"
RENT_SYSVAR = "SysvarRent111111111111111111111111111111111"
NONCE_LEN = 80  # nonce::State::size(): Versions::Current(State::Initialized(Data))
DURABLE_NONCE_PREFIX = b"DURABLE_NONCE"
LAMPORTS_PER_SIGNATURE = 5_000
MAX_PERMITTED_DATA_LENGTH = 10 * 1024 * 1024
MAX_SEED_LEN = 32
CU_SYSTEM = 150  # system_processor::DEFAULT_COMPUTE_UNITS

CREATE, CREATE_WITH_SEED, ADVANCE, WITHDRAW, INITIALIZE, AUTHORIZE, UPGRADE = 0, 3, 4, 5, 6, 7, 12
# the instructions this module runs (Transfer, 2, runs in the chain)
TAGS = frozenset((CREATE, CREATE_WITH_SEED, ADVANCE, WITHDRAW, INITIALIZE, AUTHORIZE, UPGRADE))
_PDA_MARKER = b"ProgramDerivedAddress"


def durable_nonce(blockhash: str) -> str:
    """The durable nonce a nonce account stores for ``blockhash`` (base58)."""
    digest = hashlib.sha256(DURABLE_NONCE_PREFIX + N.b58decode(blockhash)).digest()
    return N.b58encode(digest)


@dataclass(frozen=True, slots=True)
class NonceData:
    """An initialized nonce: who may advance it, the durable nonce a transaction must
    name as its blockhash, and the fee calculator's lamports per signature."""

    authority: str
    nonce: str
    lamports_per_signature: int = LAMPORTS_PER_SIGNATURE


@dataclass(frozen=True, slots=True)
class Versions:
    """A nonce account's bincode state: ``legacy`` (tag 0) or current (tag 1), and the
    data when it is initialized (None: ``Uninitialized``)."""

    legacy: bool
    data: NonceData | None

    def encode(self) -> bytes:
        head = struct.pack("<II", 0 if self.legacy else 1, 0 if self.data is None else 1)
        if self.data is None:
            return head
        d = self.data
        return (
            head
            + N.b58decode(d.authority)
            + N.b58decode(d.nonce)
            + struct.pack("<Q", d.lamports_per_signature)
        )


def read_versions(data: bytes) -> Versions | None:
    """A nonce account's state as bincode reads it (trailing bytes allowed); None when it
    does not decode (the program's ``InvalidAccountData``)."""
    if len(data) < 8:
        return None
    version, state = struct.unpack_from("<II", data)
    if version > 1 or state > 1:
        return None
    if state == 0:
        return Versions(version == 0, None)
    if len(data) < NONCE_LEN:
        return None
    lps = struct.unpack_from("<Q", data, 72)[0]
    return Versions(version == 0, NonceData(N.b58encode(data[8:40]), N.b58encode(data[40:72]), lps))


def nonce_account_data(authority: str, nonce: str, lps: int = LAMPORTS_PER_SIGNATURE) -> bytes:
    """The 80 bytes of a current, initialized nonce account."""
    return Versions(False, NonceData(authority, nonce, lps)).encode()


def parse_nonce(data: bytes) -> dict[str, Any] | None:
    """``jsonParsed`` of a System account's data as the account decoder shows a nonce
    (``parse_nonce``: ``initialized`` with the authority, the durable nonce as
    ``blockhash`` and the fee calculator); None when it is not an initialized nonce (an
    uninitialized one is not parsed either: the decoder refuses it)."""
    v = read_versions(data)
    if v is None or v.data is None:
        return None
    d = v.data
    return {
        "type": "initialized",
        "info": {
            "authority": d.authority,
            "blockhash": d.nonce,
            "feeCalculator": {"lamportsPerSignature": str(d.lamports_per_signature)},
        },
    }


def nonce_for(
    msg: Any,
    keys: list[str],
    accounts: dict[str, Account],
    current_blockhash: str,
    advanceable: bool = True,
) -> tuple[str, NonceData] | None:
    """The runtime's durable-nonce rule (see the module doc): (the nonce account, its
    data) when ``msg`` may use its blockhash as a durable nonce, else None.
    ``advanceable`` False skips the once-per-slot check (``getFeeForMessage``)."""
    blockhash = str(msg.recent_blockhash)
    if advanceable and blockhash == durable_nonce(current_blockhash):
        return None
    if not msg.instructions:
        return None
    ix = msg.instructions[0]
    static = len(msg.account_keys)
    if ix.program_id_index >= static or keys[ix.program_id_index] != SYSTEM_PROGRAM:
        return None
    if bytes(ix.data)[:4] != struct.pack("<I", ADVANCE):
        return None
    idx = bytes(ix.accounts)
    if not idx or idx[0] >= static or not _writable(msg, idx[0]):
        return None  # a nonce account from a lookup table is refused (static only)
    address = keys[idx[0]]
    acc = accounts.get(address)
    if acc is None or acc.owner != SYSTEM_PROGRAM:
        return None
    v = read_versions(acc.data)
    if v is None or v.legacy or v.data is None or v.data.nonce != blockhash:
        return None
    signers = {keys[j] for j in idx if msg.is_signer(j)}
    if v.data.authority not in signers:
        return None
    return address, v.data


def _writable(msg: Any, i: int) -> bool:
    """Whether static account ``i`` of a message is writable (its header's rule)."""
    h = msg.header
    if i < h.num_required_signatures:
        return bool(i < h.num_required_signatures - h.num_readonly_signed_accounts)
    return bool(i < len(msg.account_keys) - h.num_readonly_unsigned_accounts)


class SysFail(Exception):
    """The program failed: ``detail`` the InstructionError, ``logs`` its lines."""

    def __init__(self, detail: Any, logs: list[str]) -> None:
        super().__init__(detail)
        self.detail, self.logs = detail, logs


class _Bad(Exception):
    """Instruction data that does not decode."""


def _take(data: bytes, off: int, n: int) -> tuple[bytes, int]:
    if len(data) < off + n:
        raise _Bad
    return data[off : off + n], off + n


def _u64(data: bytes, off: int) -> tuple[int, int]:
    raw, off = _take(data, off, 8)
    return int.from_bytes(raw, "little"), off


def _key(data: bytes, off: int) -> tuple[str, int]:
    raw, off = _take(data, off, 32)
    return N.b58encode(raw), off


def _address(key: str, base: str | None) -> str:
    """An ``Address`` as the program's ``{:?}`` shows it in its log lines."""
    return f"Address {{ address: {key}, base: {'None' if base is None else f'Some({base})'} }}"


class Program:
    """One System instruction against the world's accounts (:class:`~.state.Ledger`);
    ``blockhash`` is the current one (what initialize and advance store)."""

    def __init__(self, ledger: Ledger, blockhash: str) -> None:
        self.accounts, self.credit, self.touch, self.rent = ledger
        self.blockhash = blockhash
        self.logs: list[str] = []

    def run(self, data: bytes, keys: list[str], signer: KeyTest, writable: KeyTest) -> Ran:
        """(compute units, log lines); SysFail."""
        self.logs = []
        self.signer, self.writable = signer, writable
        try:
            tag = int.from_bytes(_take(data, 0, 4)[0], "little")
            if tag in (CREATE, CREATE_WITH_SEED):
                self._create(tag, data, keys)
            elif tag == ADVANCE:
                self._need(keys, 1)
                self._sysvar(keys, 1, RECENT_BLOCKHASHES)
                self._advance(keys[0])
            elif tag == WITHDRAW:
                lamports, _ = _u64(data, 4)
                self._need(keys, 2)
                self._sysvar(keys, 2, RECENT_BLOCKHASHES)
                self._sysvar(keys, 3, RENT_SYSVAR)
                self._withdraw(keys[0], keys[1], lamports)
            elif tag == INITIALIZE:
                authority, _ = _key(data, 4)
                self._need(keys, 1)
                self._sysvar(keys, 1, RECENT_BLOCKHASHES)
                self._sysvar(keys, 2, RENT_SYSVAR)
                self._initialize(keys[0], authority)
            elif tag == AUTHORIZE:
                authority, _ = _key(data, 4)
                self._need(keys, 1)
                self._authorize(keys[0], authority)
            elif tag == UPGRADE:
                self._need(keys, 1)
                self._upgrade(keys[0])
            else:
                raise _Bad
        except _Bad:
            raise self.fail("InvalidInstructionData") from None
        return CU_SYSTEM, self.logs

    # ------------------------------------------------------------ helpers
    def fail(self, detail: Any, msg: str | None = None) -> SysFail:
        if msg is not None:
            self.logs.append(msg)
        return SysFail(detail, self.logs)

    def _need(self, keys: list[str], n: int) -> None:
        """``check_number_of_instruction_accounts`` (``MissingAccount`` in the runtime
        LiteSVM 0.29 runs, once ``NotEnoughAccountKeys``)."""
        if len(keys) < n:
            raise self.fail("MissingAccount")

    def _sysvar(self, keys: list[str], i: int, sysvar: str) -> None:
        """``get_sysvar_with_account_check``: the sysvar's own address at position ``i``."""
        if len(keys) <= i:
            raise self.fail("MissingAccount")
        if keys[i] != sysvar:
            raise self.fail("InvalidArgument")

    def _account(self, key: str) -> Account:
        """The account as the runtime loads it (a missing one: empty, the System's)."""
        return self.accounts.get(key) or Account(SYSTEM_PROGRAM, b"", 0)

    def _state(self, key: str) -> Versions:
        v = read_versions(self._account(key).data)
        if v is None:
            raise self.fail("InvalidAccountData")
        return v

    def _set_state(self, key: str, v: Versions) -> None:
        """``set_state``: the program may write only its own, writable accounts, and the
        state must fit the data (the rest of the bytes stay)."""
        acc = self._account(key)
        raw = v.encode()
        if len(raw) > len(acc.data):
            raise self.fail("AccountDataTooSmall")
        if not self.writable(key):
            raise self.fail("ReadonlyDataModified")
        if acc.owner != SYSTEM_PROGRAM:
            raise self.fail("ExternalAccountDataModified")
        self.accounts[key] = Account(acc.owner, raw + acc.data[len(raw) :], acc.lamports)
        self.touch(key)

    def _move(self, source: str, dest: str, lamports: int) -> None:
        """``checked_sub_lamports`` / ``checked_add_lamports`` of the runtime."""
        if lamports == 0:
            return
        if not self.writable(source):
            raise self.fail("ReadonlyLamportChange")
        if self._account(source).owner != SYSTEM_PROGRAM:
            raise self.fail("ExternalAccountLamportSpend")
        if not self.writable(dest):
            raise self.fail("ReadonlyLamportChange")
        self.credit(source, -lamports)
        self.credit(dest, lamports)
        if source in self.accounts and self.accounts[source].lamports == 0:
            del self.accounts[source]  # an account of no lamports is gone once committed

    # ------------------------------------------------------------ create
    def _create(self, tag: int, data: bytes, keys: list[str]) -> None:
        base: str | None = None
        if tag == CREATE:
            lamports, off = _u64(data, 4)
            space, off = _u64(data, off)
            owner, _ = _key(data, off)
        else:
            base, off = _key(data, 4)
            n, off = _u64(data, off)
            raw, off = _take(data, off, n)
            try:
                seed = raw.decode()
            except UnicodeDecodeError:
                raise _Bad from None
            lamports, off = _u64(data, off)
            space, off = _u64(data, off)
            owner, _ = _key(data, off)
        self._need(keys, 2)
        source, to = keys[0], keys[1]
        if base is not None:
            if len(raw) > MAX_SEED_LEN:
                raise self.fail("MaxSeedLengthExceeded")
            if N.b58decode(owner)[-len(_PDA_MARKER) :] == _PDA_MARKER:
                raise self.fail("IllegalOwner")
            derived = str(
                Pubkey.create_with_seed(Pubkey.from_string(base), seed, Pubkey.from_string(owner))
            )
            if derived != to:
                raise self.fail(
                    {"Custom": 5}, f"Create: address {to} does not match derived address {derived}"
                )
        shown = _address(to, base)
        acc = self._account(to)
        if acc.lamports > 0:
            raise self.fail({"Custom": 0}, f"Create Account: account {shown} already in use")
        if not self.signer(to if base is None else base):
            raise self.fail("MissingRequiredSignature", f"Allocate: 'to' account {shown} must sign")
        if acc.data or acc.owner != SYSTEM_PROGRAM:
            raise self.fail({"Custom": 0}, f"Allocate: account {shown} already in use")
        if space > MAX_PERMITTED_DATA_LENGTH:
            raise self.fail(
                {"Custom": 3},
                f"Allocate: requested {space}, max allowed {MAX_PERMITTED_DATA_LENGTH}",
            )
        if space and not self.writable(to):
            raise self.fail("ReadonlyDataModified")
        if owner != SYSTEM_PROGRAM and not self.writable(to):
            raise self.fail("ModifiedProgramId")
        # the transfer: from signs, carries no data, holds enough
        if not self.signer(source):
            raise self.fail(
                "MissingRequiredSignature", f"Transfer: `from` account {source} must sign"
            )
        if self._account(source).data:
            raise self.fail("InvalidArgument", "Transfer: `from` must not carry data")
        have = self._account(source).lamports
        if lamports > have:
            raise self.fail(
                {"Custom": 1}, f"Transfer: insufficient lamports {have}, need {lamports}"
            )
        self.accounts[to] = Account(owner, bytes(space), 0)
        self.touch(to)
        self._move(source, to, lamports)
        if to in self.accounts and not lamports:  # allocated, no lamports: gone again
            del self.accounts[to]

    # ------------------------------------------------------------ nonces
    def _advance(self, key: str) -> None:
        if not self.writable(key):
            raise self.fail(
                "InvalidArgument", f"Advance nonce account: Account {key} must be writeable"
            )
        v = self._state(key)
        if v.data is None:
            raise self.fail(
                "InvalidAccountData", f"Advance nonce account: Account {key} state is invalid"
            )
        if not self.signer(v.data.authority):
            raise self.fail(
                "MissingRequiredSignature",
                f"Advance nonce account: Account {v.data.authority} must be a signer",
            )
        nxt = durable_nonce(self.blockhash)
        if v.data.nonce == nxt:
            raise self.fail(
                {"Custom": 7}, "Advance nonce account: nonce can only advance once per slot"
            )
        self._set_state(key, Versions(False, NonceData(v.data.authority, nxt)))

    def _withdraw(self, key: str, to: str, lamports: int) -> None:
        if not self.writable(key):
            raise self.fail(
                "InvalidArgument", f"Withdraw nonce account: Account {key} must be writeable"
            )
        v = self._state(key)
        have = self._account(key).lamports
        if v.data is None:
            if lamports > have:
                raise self.fail(
                    "InsufficientFunds",
                    f"Withdraw nonce account: insufficient lamports {have}, need {lamports}",
                )
            signer = key
        else:
            if lamports == have:
                if v.data.nonce == durable_nonce(self.blockhash):
                    raise self.fail(
                        {"Custom": 7},
                        "Withdraw nonce account: nonce can only advance once per slot",
                    )
                self._set_state(key, Versions(False, None))
            else:
                need = lamports + self.rent(len(self._account(key).data))
                if need >= 1 << 64:
                    raise self.fail("InsufficientFunds")
                if need > have:
                    raise self.fail(
                        "InsufficientFunds",
                        f"Withdraw nonce account: insufficient lamports {have}, need {need}",
                    )
            signer = v.data.authority
        if not self.signer(signer):
            raise self.fail(
                "MissingRequiredSignature", f"Withdraw nonce account: Account {signer} must sign"
            )
        self._move(key, to, lamports)

    def _initialize(self, key: str, authority: str) -> None:
        if not self.writable(key):
            raise self.fail(
                "InvalidArgument", f"Initialize nonce account: Account {key} must be writeable"
            )
        v = self._state(key)
        if v.data is not None:
            why = f"Initialize nonce account: Account {key} state is invalid"
            raise self.fail("InvalidAccountData", why)
        acc = self._account(key)
        need = self.rent(len(acc.data))
        if acc.lamports < need:
            raise self.fail(
                "InsufficientFunds",
                f"Initialize nonce account: insufficient lamports {acc.lamports}, need {need}",
            )
        self._set_state(key, Versions(False, NonceData(authority, durable_nonce(self.blockhash))))

    def _authorize(self, key: str, authority: str) -> None:
        if not self.writable(key):
            raise self.fail(
                "InvalidArgument", f"Authorize nonce account: Account {key} must be writeable"
            )
        v = self._state(key)
        if v.data is None:
            raise self.fail(
                "InvalidAccountData", f"Authorize nonce account: Account {key} state is invalid"
            )
        if not self.signer(v.data.authority):
            raise self.fail(
                "MissingRequiredSignature",
                f"Authorize nonce account: Account {v.data.authority} must sign",
            )
        d = v.data
        self._set_state(
            key, Versions(v.legacy, NonceData(authority, d.nonce, d.lamports_per_signature))
        )

    def _upgrade(self, key: str) -> None:
        if self._account(key).owner != SYSTEM_PROGRAM:
            raise self.fail("InvalidAccountOwner")
        if not self.writable(key):
            raise self.fail("InvalidArgument")
        v = self._state(key)
        if not v.legacy or v.data is None:
            raise self.fail("InvalidArgument")
        d = v.data
        self._set_state(
            key,
            Versions(
                False, NonceData(d.authority, durable_nonce(d.nonce), d.lamports_per_signature)
            ),
        )
