"""Instruction layouts every venue shares: what the live executor builds and the
simulator decodes, apart from the swaps (each venue's own, in :mod:`feeds.venues`).

Every layout is the spec's (``../shared/spec/solana.md``):
- Compute Budget (§5.3): ``SetComputeUnitLimit`` = ``[2] ‖ u32``, ``SetComputeUnitPrice``
  = ``[3] ‖ u64`` (micro-lamports per CU), no accounts.
- System transfer (the Jito tip, §5.4): ``u32 2 ‖ u64 lamports``; accounts from (signer,
  writable), to (writable).
- System nonce instructions (durable nonces: not in the spec pack; solana-program
  ``system_instruction``): built by solders' ``system_program`` (the library Agave's
  layouts come from); a nonce account of the wallet lives at ``create_with_seed(wallet,
  seed, system program)`` so it is found again without a scan.
- Associated Token Account (§3): the address is the PDA of ``[wallet, token_program,
  mint]`` under the ATA program; ``CreateIdempotent`` = ``[1]`` with payer, ATA, wallet,
  mint, system program, token program (SPL ATA program; not in the spec pack, from
  solana-program-library ``associated-token-account``).

Builders return solders ``Instruction``s; :func:`decode` turns a program id, data and
account list back into a typed record, or raises :class:`InstructionError` naming what
is wrong (the simulator answers with it as a node would). :class:`Swap` is the decoded
form every venue's swap decoder returns.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

COMPUTE_BUDGET = "ComputeBudget111111111111111111111111111111"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
ATA_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
# SPL Memo v2 (anchor-spl ``memo::ID``): the swap_v2 instructions pass it for transfers to
# accounts that require a memo, and Whirlpool logs the transfer fee it applied through it
MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
JITO_TIP_PROGRAM = "T1pyyaTNZsKv2WcRAB8oVnk93mLJw2XzjtVYqCsaHqt"
# spec §5.5: PDAs of the tip-payment program, seeds b"TIP_ACCOUNT_0" .. b"TIP_ACCOUNT_7"
JITO_TIP_ACCOUNTS = (
    "96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5",
    "HFqU5x63VTqvQss8hp11i4wVV8bD44PvwucfZ2bU7gRe",
    "Cw8CFyM9FkoMi7K7Crf6HNQqf4uEMzpKw6QNghXLvLkY",
    "ADaUMid9yfUytqMBgopwjb2DTLSokTSzL1zt6iGPaS49",
    "DfXygSm4jCyNCybVYYK6DwvWqjKee8pbDmJGcLWNDXjh",
    "ADuUkR4vqLUMWXxW9gh6D6L8pMSawimctcNZ5pGwDcEt",
    "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL",
    "3AVi9Tg9Uo68tJfuvoKvqKNWKkC5wPdSSdeBnizKZ6jT",
)
JITO_MIN_TIP = 1_000  # lamports (spec §5.4)

MAX_COMPUTE_UNIT_LIMIT = 1_400_000
DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT = 200_000
# SIMD-170: the default limit gives a builtin's instruction (system, compute budget) this
MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT = 3_000

# spl-token / token-2022 TokenError, by position: what a token transfer fails with
TOKEN_ERRORS = {
    1: "InsufficientFunds",
    3: "MintMismatch",
    4: "OwnerMismatch",
    17: "AccountFrozen",
    18: "MintDecimalsMismatch",
    31: "MintRequiredForTransfer",
}
TOKEN_PROGRAMS = frozenset({SPL_TOKEN, TOKEN_2022})


class InstructionError(ValueError):
    """Instruction data or accounts that do not fit the program's layout. ``kind`` is
    the runtime's name for it (``InvalidInstructionData``, ``NotEnoughAccountKeys``,
    ``IncorrectProgramId``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def pubkey(key: str | Pubkey) -> Pubkey:
    """``key`` as a solders ``Pubkey`` (base58 text or a ``Pubkey`` already)."""
    return key if isinstance(key, Pubkey) else _parsed(key)


@lru_cache(maxsize=1 << 16)
def _parsed(key: str) -> Pubkey:
    """A base58 key parsed once (an order names the same few dozen accounts every time:
    parsing each again was a fifth of building it); ValueError is not remembered."""
    return Pubkey.from_string(key)


def account_meta(key: str, signer: bool = False, writable: bool = False) -> AccountMeta:
    """One account of an instruction, with its signer and writable flags."""
    return AccountMeta(pubkey(key), is_signer=signer, is_writable=writable)


def readonly(*keys: str) -> list[AccountMeta]:
    """Accounts an instruction only reads, in order."""
    return [account_meta(k) for k in keys]


def writable(*keys: str) -> list[AccountMeta]:
    """Accounts an instruction writes (not signers), in order."""
    return [account_meta(k, writable=True) for k in keys]


def instruction(program: str, data: bytes, metas: list[AccountMeta]) -> Instruction:
    """An instruction of ``program`` with ``data`` and the accounts ``metas``, in order."""
    return Instruction(pubkey(program), data, metas)


# ------------------------------------------------------------------ builders
def set_compute_unit_limit(units: int) -> Instruction:
    """``SetComputeUnitLimit``: the compute units the transaction may use (and pays for)."""
    if not 0 <= units <= 0xFFFF_FFFF:
        raise ValueError(f"compute unit limit {units} does not fit in u32")
    return instruction(COMPUTE_BUDGET, struct.pack("<BI", 2, units), [])


def set_compute_unit_price(micro_lamports: int) -> Instruction:
    """``SetComputeUnitPrice``: the priority fee, in micro-lamports per compute unit."""
    if not 0 <= micro_lamports < 1 << 64:
        raise ValueError(f"compute unit price {micro_lamports} does not fit in u64")
    return instruction(COMPUTE_BUDGET, struct.pack("<BQ", 3, micro_lamports), [])


def transfer(source: str, dest: str, lamports: int) -> Instruction:
    """A system transfer (the Jito tip is one, to a tip account)."""
    if not 0 <= lamports < 1 << 64:
        raise ValueError(f"lamports {lamports} does not fit in u64")
    metas = [account_meta(source, True, True), account_meta(dest, False, True)]
    return instruction(SYSTEM_PROGRAM, struct.pack("<IQ", 2, lamports), metas)


def nonce_address(base: str, seed: str) -> str:
    """The address ``create_with_seed(base, seed, system program)``: where a nonce account
    made with :func:`create_nonce_account_with_seed` lives."""
    return str(Pubkey.create_with_seed(pubkey(base), seed, pubkey(SYSTEM_PROGRAM)))


def create_nonce_account_with_seed(
    payer: str, nonce: str, seed: str, authority: str, lamports: int
) -> list[Instruction]:
    """``CreateAccountWithSeed`` (80 bytes, the System program's, ``payer`` the base and
    funder) and ``InitializeNonceAccount`` with ``authority``: a new durable nonce."""
    from solders import system_program as sp

    return list(
        sp.create_nonce_account_with_seed(
            pubkey(payer), pubkey(nonce), pubkey(payer), seed, pubkey(authority), lamports
        )
    )


NONCE_LEN = 80  # Versions::Current(State::Initialized(Data)) in bincode


def read_nonce_account(owner: str, data: bytes) -> tuple[str, str] | None:
    """(authority, durable nonce) of a current, initialized nonce account of the System
    program (u32 1, u32 1, authority, durable nonce, u64 lamports per signature); None
    for anything else (a legacy nonce cannot be used as a durable nonce)."""
    if owner != SYSTEM_PROGRAM or len(data) != NONCE_LEN or data[:8] != bytes([1, 0, 0, 0] * 2):
        return None
    return str(Pubkey.from_bytes(data[8:40])), str(Pubkey.from_bytes(data[40:72]))


def advance_nonce(nonce: str, authority: str) -> Instruction:
    """``AdvanceNonceAccount``: the first instruction of a durable transaction."""
    from solders import system_program as sp

    return sp.advance_nonce_account(
        sp.AdvanceNonceAccountParams(
            nonce_pubkey=pubkey(nonce), authorized_pubkey=pubkey(authority)
        )
    )


def withdraw_nonce(nonce: str, authority: str, to: str, lamports: int) -> Instruction:
    """``WithdrawNonceAccount``: lamports out of a nonce account (all of them closes it)."""
    from solders import system_program as sp

    return sp.withdraw_nonce_account(
        sp.WithdrawNonceAccountParams(
            nonce_pubkey=pubkey(nonce),
            authorized_pubkey=pubkey(authority),
            to_pubkey=pubkey(to),
            lamports=lamports,
        )
    )


_cache: Any = None


def pdas() -> Any:
    """One derive-once PDA cache of the engine (Rust when built, else the twin's)."""
    global _cache
    if _cache is None:
        import engine_rs

        _cache = engine_rs.backend().PdaCache()
    return _cache


@lru_cache(maxsize=4096)
def ata_address(wallet: str, mint: str, token_program: str = SPL_TOKEN) -> str:
    """The associated token account of ``wallet`` for ``mint`` (spec §3)."""
    addr, _ = pdas().find(
        [pubkey(wallet).__bytes__(), pubkey(token_program).__bytes__(), pubkey(mint).__bytes__()],
        ATA_PROGRAM,
    )
    return str(addr)


def transfer_checked(
    program: str, source: str, mint: str, dest: str, authority: str, amount: int, decimals: int
) -> Instruction:
    """A token program's ``TransferChecked`` (tag 12: amount u64, decimals u8; accounts
    source, mint, destination, authority): the transfer Token-2022 requires of a mint
    with a transfer fee, on either program."""
    if not 0 <= amount < 1 << 64 or not 0 <= decimals < 256:
        raise ValueError(f"amount {amount} / decimals {decimals} out of range")
    data = b"\x0c" + struct.pack("<QB", amount, decimals)
    return instruction(
        program,
        data,
        [
            account_meta(source, writable=True),
            account_meta(mint),
            account_meta(dest, writable=True),
            account_meta(authority, signer=True),
        ],
    )


def create_ata_idempotent(
    payer: str, wallet: str, mint: str, token_program: str = SPL_TOKEN
) -> Instruction:
    """Create ``wallet``'s ATA for ``mint`` unless it exists (payer pays the rent)."""
    ata = ata_address(wallet, mint, token_program)
    return create_ata_instruction(payer, ata, wallet, mint, token_program)


def create_ata_instruction(
    payer: str, ata: str, wallet: str, mint: str, token_program: str = SPL_TOKEN
) -> Instruction:
    """``CreateIdempotent`` with the token account's address given (not derived): the
    builder of :func:`create_ata_idempotent`, and the shape transaction sizing counts."""
    return instruction(
        ATA_PROGRAM,
        bytes([1]),
        [
            account_meta(payer, True, True),
            account_meta(ata, False, True),
            account_meta(wallet),
            account_meta(mint),
            account_meta(SYSTEM_PROGRAM),
            account_meta(token_program),
        ],
    )


# ------------------------------------------------------------------ decoded forms
@dataclass(frozen=True, slots=True)
class ComputeUnitLimit:
    units: int


@dataclass(frozen=True, slots=True)
class ComputeUnitPrice:
    micro_lamports: int


@dataclass(frozen=True, slots=True)
class Transfer:
    source: str
    dest: str
    lamports: int


@dataclass(frozen=True, slots=True)
class AdvanceNonce:
    nonce: str
    authority: str


@dataclass(frozen=True, slots=True)
class CreateAta:
    payer: str
    ata: str
    wallet: str
    mint: str
    token_program: str
    idempotent: bool


@dataclass(frozen=True, slots=True)
class TokenTransfer:
    """A token program's ``Transfer`` (3) or ``TransferChecked`` (12), either program."""

    program: str
    name: str  # Transfer | TransferChecked
    source: str
    dest: str
    authority: str
    amount: int
    mint: str | None = None  # TransferChecked names its mint and decimals
    decimals: int | None = None


@dataclass(frozen=True, slots=True)
class Swap:
    """A swap instruction of any venue, exact input: ``amount_in`` of the source
    account's token for at least ``minimum_out`` into the destination account.
    ``accounts`` is the instruction's account list by the program's names."""

    program: str
    pool: str
    amount_in: int
    minimum_out: int
    user_source: str
    user_dest: str
    owner: str
    accounts: dict[str, str]
    a_to_b: bool | None = None  # Whirlpool: the direction it states
    tick_arrays: tuple[str, ...] = ()
    # an order book's taker order as its instruction states it, in lots (OpenBook v2's
    # side, price_lots, max_base_lots, max_quote_lots_including_fees, order_type, limit):
    # ``amount_in`` is then the input side's lots and ``minimum_out`` 0 (the program has
    # no minimum; its price limit and fill-or-kill stand for one)
    order: tuple[int, ...] = ()
    name: str = ""  # the instruction's name as its program logs it ("" : the venue's usual)


def need_accounts(accounts: list[str], n: int, what: str) -> None:
    """``NotEnoughAccountKeys`` unless ``accounts`` holds at least ``n`` keys."""
    if len(accounts) < n:
        raise InstructionError(
            "NotEnoughAccountKeys", f"{what} takes {n} accounts, got {len(accounts)}"
        )


def named_accounts(accounts: list[str], names: tuple[str, ...], what: str) -> dict[str, str]:
    """``accounts`` by the program's ``names`` for them, in order (``NotEnoughAccountKeys``
    when there are fewer; the ones past the names are left out)."""
    need_accounts(accounts, len(names), what)
    return dict(zip(names, accounts))


def swap_of(
    program: str,
    acc: dict[str, str],
    roles: tuple[str, str, str, str],
    amount_in: int,
    minimum_out: int,
    a_to_b: bool | None = None,
    tick_arrays: tuple[str, ...] = (),
    name: str = "",
) -> Swap:
    """A venue's exact-input swap as a :class:`Swap`: ``acc`` its accounts by name,
    ``roles`` the names of its pool, the user's source and destination and the signer."""
    pool, source, dest, owner = (acc[role] for role in roles)
    return Swap(
        program,
        pool,
        amount_in,
        minimum_out,
        source,
        dest,
        owner,
        acc,
        a_to_b,
        tick_arrays,
        (),
        name,
    )


def read_u64s(data: bytes, off: int, n: int, what: str) -> tuple[int, ...]:
    """``n`` little-endian u64s of ``data`` from byte ``off`` (``InvalidInstructionData``
    when it is too short)."""
    if len(data) < off + 8 * n:
        raise InstructionError("InvalidInstructionData", f"{what}: {len(data)} bytes of data")
    return struct.unpack_from(f"<{n}Q", data, off)


def decode(program: str, data: bytes, accounts: list[str]) -> Any:
    """``(program id, instruction data, account keys in order)`` of a shared program as a
    record above; :class:`InstructionError` when it does not fit a layout this module
    knows (``IncorrectProgramId`` for another program: a venue's swap is decoded by
    :func:`feeds.venues.decode`)."""
    if program == COMPUTE_BUDGET:
        if data[:1] == b"\x02" and len(data) == 5:
            return ComputeUnitLimit(struct.unpack_from("<I", data, 1)[0])
        if data[:1] == b"\x03" and len(data) == 9:
            return ComputeUnitPrice(struct.unpack_from("<Q", data, 1)[0])
        raise InstructionError("InvalidInstructionData", f"compute budget: {data[:1].hex()}")
    if program == SYSTEM_PROGRAM:
        if len(data) == 12 and struct.unpack_from("<I", data)[0] == 2:
            need_accounts(accounts, 2, "system transfer")
            return Transfer(accounts[0], accounts[1], struct.unpack_from("<Q", data, 4)[0])
        if data[:4] == b"\x04\x00\x00\x00":
            need_accounts(accounts, 3, "advance nonce account")
            return AdvanceNonce(accounts[0], accounts[2])
        raise InstructionError(
            "InvalidInstructionData", "system: only transfer and advance nonce are decoded here"
        )
    if program == ATA_PROGRAM:
        if data not in (b"", b"\x00", b"\x01"):
            raise InstructionError("InvalidInstructionData", "associated token: unknown")
        need_accounts(accounts, 6, "create associated token account")
        return CreateAta(
            accounts[0], accounts[1], accounts[2], accounts[3], accounts[5], data == b"\x01"
        )
    if program in TOKEN_PROGRAMS:
        tag = data[:1]
        if tag == b"\x03" and len(data) == 9:
            need_accounts(accounts, 3, "Transfer")
            (amount,) = struct.unpack_from("<Q", data, 1)
            return TokenTransfer(program, "Transfer", accounts[0], accounts[1], accounts[2], amount)
        if tag == b"\x0c" and len(data) == 10:
            need_accounts(accounts, 4, "TransferChecked")
            amount, decimals = struct.unpack_from("<QB", data, 1)
            return TokenTransfer(
                program,
                "TransferChecked",
                accounts[0],
                accounts[2],
                accounts[3],
                amount,
                accounts[1],
                decimals,
            )
        raise InstructionError(
            "InvalidInstructionData",
            f"token program: instruction {data[:1].hex()} is not one the simulator runs",
        )
    raise InstructionError("IncorrectProgramId", f"program {program} is not one the simulator runs")
