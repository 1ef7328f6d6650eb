"""The token programs as the simulator runs them: SPL Token and Token-2022 accounts, their
sizes and extensions, and the transfers a swap makes (pure computation, no I/O).

Facts (checked against the real programs in LiteSVM, ``tests/feeds/sim/test_token2022.py``):

- **Accounts.** An SPL Token account is 165 bytes. A Token-2022 account without
  extensions is the same 165 bytes; with extensions it is the base padded to 165, the
  account type ``2`` (Account) at byte 165, then TLV entries (``type u16 | length u16 |
  value``) from 166 (token-2022 ``interface/src/extension/mod.rs``). A mint's extensions
  require account extensions (``ExtensionType::get_required_init_account_extensions``):
  TransferFeeConfig → TransferFeeAmount (8 bytes: the fee withheld in the account),
  NonTransferable → NonTransferableAccount, TransferHook → TransferHookAccount (1 byte),
  Pausable → PausableAccount. An associated token account (the ATA program) and the vaults
  Orca's and Raydium CLMM's programs create also carry ImmutableOwner, initialised first,
  so it comes first; CP-Swap's and DLMM's vaults carry only what the mint requires.
- **Fees.** A transfer of ``amount`` of a mint with TransferFeeConfig withholds
  ``transfer_fee(config, epoch, amount)`` in the destination account's TransferFeeAmount:
  the source loses ``amount``, the destination's balance grows by ``amount - fee``
  (``process_transfer``; the engine's ``transfer_fee`` kernel is the fee).
- **Instructions.** ``TransferChecked`` (12: amount u64, decimals u8; accounts source,
  mint, destination, authority) on either program; ``Transfer`` (3) is refused by
  Token-2022 for an account holding TransferFeeAmount: ``MintRequiredForTransfer`` (31).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from ..wire.instructions import SPL_TOKEN, TOKEN_2022

PROGRAMS = frozenset({SPL_TOKEN, TOKEN_2022})
BASE = 165  # the Account length every extended Token-2022 account is padded to
ACCOUNT_TYPE_ACCOUNT = 2
# ExtensionType (spec §3)
TRANSFER_FEE_CONFIG, TRANSFER_FEE_AMOUNT, IMMUTABLE_OWNER = 1, 2, 7
NON_TRANSFERABLE, NON_TRANSFERABLE_ACCOUNT = 9, 13
TRANSFER_HOOK, TRANSFER_HOOK_ACCOUNT = 14, 15
METADATA_POINTER, TOKEN_METADATA = 18, 19
PAUSABLE, PAUSABLE_ACCOUNT = 26, 27
# what a mint's extension requires of every account of the mint, and its value's size
_REQUIRED = {
    TRANSFER_FEE_CONFIG: (TRANSFER_FEE_AMOUNT, 8),
    NON_TRANSFERABLE: (NON_TRANSFERABLE_ACCOUNT, 0),
    TRANSFER_HOOK: (TRANSFER_HOOK_ACCOUNT, 1),
    PAUSABLE: (PAUSABLE_ACCOUNT, 0),
}
# TokenError codes (spl-token / token-2022 ``error.rs``) and the log line the programs
# write before failing with them (their ``PrintProgramError``)
INSUFFICIENT_FUNDS, MINT_MISMATCH, OWNER_MISMATCH = 1, 3, 4
# a hooked mint's transfer without the hook's accounts: Token-2022 fails it with
# spl-transfer-hook-interface's TransferHookError::IncorrectAccount (LiteSVM: 0x7dc8348c)
TRANSFER_HOOK_INCORRECT_ACCOUNT = 2_110_272_652
MINT_DECIMALS_MISMATCH, MINT_REQUIRED_FOR_TRANSFER = 18, 31
ERROR_LOGS = {
    INSUFFICIENT_FUNDS: "Error: insufficient funds",
    MINT_MISMATCH: "Error: Account not associated with this Mint",
    OWNER_MISMATCH: "Error: owner does not match",
    MINT_DECIMALS_MISMATCH: "Error: decimals different from the Mint decimals",
    MINT_REQUIRED_FOR_TRANSFER: (
        "Mint required for this account to transfer tokens, use `transfer_checked` or "
        "`transfer_checked_with_fee`"
    ),
}
# compute units the programs take for a transfer (a fixed model: what mainnet shows)
CU = {
    (SPL_TOKEN, "Transfer"): 4_645,
    (SPL_TOKEN, "TransferChecked"): 6_238,
    (TOKEN_2022, "Transfer"): 1_642,
    (TOKEN_2022, "TransferChecked"): 3_109,
}
CU_FAILED = 1_500  # what a refused transfer takes (LiteSVM: 1,410 to 1,715)

Fee = tuple[int, int, int]  # (epoch, maximum_fee, transfer_fee_basis_points)


class TokenFail(Exception):
    """A token program refusing: its custom error ``code`` (``detail`` a runtime
    error's name instead when set) and its log line."""

    def __init__(self, code: int, log: str, detail: str = "") -> None:
        super().__init__(log)
        self.code, self.log, self.detail = code, log, detail


def tlv(data: bytes) -> list[tuple[int, int, int]]:
    """The TLV entries of an extended Token-2022 account or mint as ``(type, offset of
    the value, length)``, in order (none for a base-size account; type 0 ends them)."""
    out: list[tuple[int, int, int]] = []
    if len(data) <= BASE or len(data) == 355:  # the Multisig size is never extended
        return out
    i = BASE + 1
    while i + 4 <= len(data):
        kind, length = struct.unpack_from("<HH", data, i)
        if kind == 0 or i + 4 + length > len(data):
            break
        out.append((kind, i + 4, length))
        i += 4 + length
    return out


def extension(data: bytes, kind: int) -> bytes | None:
    """The value of extension ``kind`` (None: the account has none)."""
    for k, off, n in tlv(data):
        if k == kind:
            return bytes(data[off : off + n])
    return None


def mint_extensions(data: bytes) -> list[int]:
    """The extension types of a mint, in the account's order."""
    return [k for k, _, _ in tlv(data)]


def needs_mint(data: bytes) -> bool:
    """Whether Token-2022 refuses a plain ``Transfer`` from this account (its
    ``process_transfer`` without a mint: the account holds a transfer fee, a hook's
    flag or a pausable mint's extension, whose rules need the mint)."""
    kinds = {k for k, _, _ in tlv(data)}
    return bool(kinds & {TRANSFER_FEE_AMOUNT, TRANSFER_HOOK_ACCOUNT, PAUSABLE_ACCOUNT})


def transfer_fee_config(
    older: Fee,
    newer: Fee,
    config_authority: bytes = bytes(32),
    withdraw_authority: bytes = bytes(32),
    withheld: int = 0,
) -> bytes:
    """The TransferFeeConfig value (108 bytes, spec §3): the two authorities (zeros: none),
    the amount withheld in the mint, then the older and newer fee, each ``epoch u64 |
    maximum_fee u64 | transfer_fee_basis_points u16``."""
    fee = struct.Struct("<QQH")
    return (
        config_authority
        + withdraw_authority
        + struct.pack("<Q", withheld)
        + fee.pack(*older)
        + fee.pack(*newer)
    )


def fee_config(data: bytes) -> tuple[Fee, Fee] | None:
    """A mint's ``(older, newer)`` transfer fee (None: no TransferFeeConfig)."""
    v = extension(data, TRANSFER_FEE_CONFIG)
    if v is None or len(v) != 108:
        return None
    older = struct.unpack_from("<QQH", v, 72)
    newer = struct.unpack_from("<QQH", v, 90)
    return (older[0], older[1], older[2]), (newer[0], newer[1], newer[2])


def transfer_hook_program(data: bytes) -> bytes | None:
    """The program a mint's TransferHook names (None: no hook, or none set)."""
    v = extension(data, TRANSFER_HOOK)
    if v is None or len(v) != 64 or not any(v[32:]):
        return None
    return v[32:]


def account_extensions(mint_data: bytes, immutable_owner: bool) -> list[tuple[int, bytes]]:
    """The extensions a new account of the mint ``mint_data`` starts with: ImmutableOwner
    when asked (first: initialised before the account), then what the mint's extensions
    require, in the mint's order, zeroed."""
    out = [(IMMUTABLE_OWNER, b"")] if immutable_owner else []
    for kind in mint_extensions(mint_data):
        req = _REQUIRED.get(kind)
        if req is not None:
            out.append((req[0], bytes(req[1])))
    return out


def account_len(extensions: Sequence[tuple[int, bytes]]) -> int:
    """The size of a Token-2022 account with ``extensions`` (165 without any)."""
    if not extensions:
        return BASE
    return BASE + 1 + sum(4 + len(v) for _, v in extensions)


def extend_account(base: bytes, extensions: Iterable[tuple[int, bytes]]) -> bytes:
    """A 165-byte account with ``extensions`` written after its account type."""
    ext = list(extensions)
    if not ext:
        return base
    out = bytearray(base[:BASE]) + bytes([ACCOUNT_TYPE_ACCOUNT])
    for kind, value in ext:
        out += struct.pack("<HH", kind, len(value)) + value
    return bytes(out)


def withheld(data: bytes) -> int:
    """The fee withheld in a token account (its TransferFeeAmount; 0 without one)."""
    v = extension(data, TRANSFER_FEE_AMOUNT)
    return 0 if v is None or len(v) != 8 else int.from_bytes(v, "little")


def with_withheld(data: bytes, add: int) -> bytes:
    """``data`` with ``add`` more withheld in its TransferFeeAmount (ValueError when the
    account has none: a fee mint's accounts always do)."""
    for kind, off, n in tlv(data):
        if kind == TRANSFER_FEE_AMOUNT and n == 8:
            now = int.from_bytes(data[off : off + 8], "little") + add
            return data[:off] + now.to_bytes(8, "little") + data[off + 8 :]
    raise ValueError("the token account has no TransferFeeAmount extension")
