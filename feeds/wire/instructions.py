"""Instruction layouts: what the live executor builds and the simulator decodes.

Every layout is the spec's (``../shared/spec/solana.md``):
- Compute Budget (§5.3): ``SetComputeUnitLimit`` = ``[2] ‖ u32``, ``SetComputeUnitPrice``
  = ``[3] ‖ u64`` (micro-lamports per CU), no accounts.
- System transfer (the Jito tip, §5.4): ``u32 2 ‖ u64 lamports``; accounts from (signer,
  writable), to (writable).
- Associated Token Account (§3): the address is the PDA of ``[wallet, token_program,
  mint]`` under the ATA program; ``CreateIdempotent`` = ``[1]`` with payer, ATA, wallet,
  mint, system program, token program (SPL ATA program; not in the spec pack, from
  solana-program-library ``associated-token-account``).
- Raydium AMM v4 ``SwapBaseInV2`` (§1.3): tag 16 ‖ amount_in ‖ minimum_amount_out; 8
  accounts: token program, amm, authority, coin vault, pc vault, user source, user
  destination, user owner (signer).
- Raydium CP-Swap ``swap_base_input`` (§1.5): Anchor discriminator ‖ amount_in ‖
  minimum_amount_out; 13 accounts (payer, authority, amm_config, pool_state, input and
  output token accounts, input and output vaults, their token programs and mints,
  observation state).
- Orca Whirlpool ``swap`` (§2.6): discriminator ‖ amount ‖ other_amount_threshold ‖
  sqrt_price_limit u128 ‖ amount_specified_is_input ‖ a_to_b (42 bytes); 11 accounts
  (token program, authority (signer), whirlpool, owner account a, vault a, owner
  account b, vault b, tick arrays 0..2, oracle).

Builders return solders ``Instruction``s; :func:`decode` turns a program id, data and
account list back into a typed record, or raises :class:`InstructionError` naming what
is wrong (the simulator answers with it as a node would).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from engine_rs.python.accounts import RAYDIUM_AMM_V4 as RAYDIUM_AMM_V4
from engine_rs.python.accounts import RAYDIUM_CPMM as RAYDIUM_CPMM
from engine_rs.python.accounts import SPL_TOKEN as SPL_TOKEN
from engine_rs.python.accounts import TICK_ARRAY_SIZE
from engine_rs.python.accounts import TOKEN_2022 as TOKEN_2022
from engine_rs.python.accounts import WHIRLPOOL as WHIRLPOOL
from engine_rs.python.clmm import is_valid_start_tick

COMPUTE_BUDGET = "ComputeBudget111111111111111111111111111111"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
ATA_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
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
RAYDIUM_AMM_AUTHORITY = "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"  # spec §1.2
CPMM_AUTHORITY = "GpMZbSM2GgvTKHJirzeGfMFoaZ8UR2X7F4v8vHTvxFbL"  # spec §1.4

MAX_COMPUTE_UNIT_LIMIT = 1_400_000
DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT = 200_000

V4_SWAP_BASE_IN_V2 = 16
CPMM_SWAP_BASE_INPUT = hashlib.sha256(b"global:swap_base_input").digest()[:8]
WHIRLPOOL_SWAP = bytes([248, 198, 158, 145, 225, 117, 135, 200])
MIN_SQRT_PRICE_X64 = 4_295_048_016
MAX_SQRT_PRICE_X64 = 79_226_673_515_401_279_992_447_579_055

# Program error codes the simulator answers with (the programs' own enums, by position):
# raydium-amm program/src/error.rs AmmError; raydium-cp-swap error.rs (Anchor, from
# 6000); whirlpool errors.rs (Anchor); spl-token TokenError.
AMM_V4_ERRORS = {22: "InvalidStatus", 29: "InvalidInput", 30: "ExceededSlippage",
                 40: "InsufficientFunds", 42: "InvalidUserToken"}  # fmt: skip
CPMM_ERRORS = {6003: "InvalidInput", 6005: "ExceededSlippage", 6006: "ZeroTradingTokens"}
WHIRLPOOL_ERRORS = {
    6023: "InvalidTickArraySequence",
    6035: "ZeroTradableAmount",
    6036: "AmountOutBelowMinimum",
    6038: "TickArraySequenceInvalidIndex",
}
TOKEN_ERRORS = {1: "InsufficientFunds", 4: "OwnerMismatch"}
PROGRAM_ERRORS = {RAYDIUM_AMM_V4: AMM_V4_ERRORS, RAYDIUM_CPMM: CPMM_ERRORS,
                  WHIRLPOOL: WHIRLPOOL_ERRORS, SPL_TOKEN: TOKEN_ERRORS}  # fmt: skip
SLIPPAGE_ERRORS = {(RAYDIUM_AMM_V4, 30), (RAYDIUM_CPMM, 6005), (WHIRLPOOL, 6036)}


class InstructionError(ValueError):
    """Instruction data or accounts that do not fit the program's layout. ``kind`` is
    the runtime's name for it (``InvalidInstructionData``, ``NotEnoughAccountKeys``,
    ``IncorrectProgramId``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _pk(key: str | Pubkey) -> Pubkey:
    return key if isinstance(key, Pubkey) else Pubkey.from_string(key)


def _meta(key: str, signer: bool = False, writable: bool = False) -> AccountMeta:
    return AccountMeta(_pk(key), is_signer=signer, is_writable=writable)


def _ix(program: str, data: bytes, metas: list[AccountMeta]) -> Instruction:
    return Instruction(_pk(program), data, metas)


# ------------------------------------------------------------------ builders
def set_compute_unit_limit(units: int) -> Instruction:
    if not 0 <= units <= 0xFFFF_FFFF:
        raise ValueError(f"compute unit limit {units} does not fit in u32")
    return _ix(COMPUTE_BUDGET, struct.pack("<BI", 2, units), [])


def set_compute_unit_price(micro_lamports: int) -> Instruction:
    if not 0 <= micro_lamports < 1 << 64:
        raise ValueError(f"compute unit price {micro_lamports} does not fit in u64")
    return _ix(COMPUTE_BUDGET, struct.pack("<BQ", 3, micro_lamports), [])


def transfer(source: str, dest: str, lamports: int) -> Instruction:
    """A system transfer (the Jito tip is one, to a tip account)."""
    if not 0 <= lamports < 1 << 64:
        raise ValueError(f"lamports {lamports} does not fit in u64")
    return _ix(SYSTEM_PROGRAM, struct.pack("<IQ", 2, lamports),
               [_meta(source, True, True), _meta(dest, False, True)])  # fmt: skip


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
        [_pk(wallet).__bytes__(), _pk(token_program).__bytes__(), _pk(mint).__bytes__()],
        ATA_PROGRAM,
    )
    return str(addr)


def oracle(whirlpool: str) -> str:
    """A Whirlpool's oracle account (PDA ``["oracle", whirlpool]``, spec §2.4)."""
    return str(pdas().oracle(whirlpool)[0])


def create_ata_idempotent(
    payer: str, wallet: str, mint: str, token_program: str = SPL_TOKEN
) -> Instruction:
    """Create ``wallet``'s ATA for ``mint`` unless it exists (payer pays the rent)."""
    ata = ata_address(wallet, mint, token_program)
    return _ix(ATA_PROGRAM, bytes([1]), [
        _meta(payer, True, True), _meta(ata, False, True), _meta(wallet), _meta(mint),
        _meta(SYSTEM_PROGRAM), _meta(token_program),
    ])  # fmt: skip


def raydium_v4_swap_base_in(
    amm: str, coin_vault: str, pc_vault: str, user_source: str, user_dest: str, owner: str,
    amount_in: int, minimum_out: int, authority: str = RAYDIUM_AMM_AUTHORITY,
) -> Instruction:  # fmt: skip
    """AMM v4 ``SwapBaseInV2`` (tag 16, the 8-account form without the OpenBook market)."""
    return _ix(RAYDIUM_AMM_V4, struct.pack("<BQQ", V4_SWAP_BASE_IN_V2, amount_in, minimum_out), [
        _meta(SPL_TOKEN), _meta(amm, writable=True), _meta(authority),
        _meta(coin_vault, writable=True), _meta(pc_vault, writable=True),
        _meta(user_source, writable=True), _meta(user_dest, writable=True),
        _meta(owner, signer=True),
    ])  # fmt: skip


def cpmm_swap_base_input(
    payer: str, amm_config: str, pool: str, input_account: str, output_account: str,
    input_vault: str, output_vault: str, input_program: str, output_program: str,
    input_mint: str, output_mint: str, observation: str, amount_in: int, minimum_out: int,
    authority: str = CPMM_AUTHORITY,
) -> Instruction:  # fmt: skip
    """CP-Swap ``swap_base_input`` (spec §1.5)."""
    data = CPMM_SWAP_BASE_INPUT + struct.pack("<QQ", amount_in, minimum_out)
    return _ix(RAYDIUM_CPMM, data, [
        _meta(payer, signer=True), _meta(authority), _meta(amm_config),
        _meta(pool, writable=True), _meta(input_account, writable=True),
        _meta(output_account, writable=True), _meta(input_vault, writable=True),
        _meta(output_vault, writable=True), _meta(input_program), _meta(output_program),
        _meta(input_mint), _meta(output_mint), _meta(observation, writable=True),
    ])  # fmt: skip


def whirlpool_swap(
    authority: str, whirlpool: str, owner_a: str, vault_a: str, owner_b: str, vault_b: str,
    tick_arrays: list[str], oracle: str, amount: int, other_amount_threshold: int,
    a_to_b: bool, exact_in: bool = True, sqrt_price_limit: int = 0,
) -> Instruction:  # fmt: skip
    """Whirlpool ``swap`` (spec §2.6); ``sqrt_price_limit`` 0: the far end of the
    direction (the program's own default)."""
    if len(tick_arrays) != 3:
        raise ValueError("a Whirlpool swap takes exactly 3 tick arrays")
    if sqrt_price_limit == 0:
        sqrt_price_limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
    data = WHIRLPOOL_SWAP + struct.pack("<QQ", amount, other_amount_threshold)
    data += sqrt_price_limit.to_bytes(16, "little") + bytes([int(exact_in), int(a_to_b)])
    return _ix(WHIRLPOOL, data, [
        _meta(SPL_TOKEN), _meta(authority, signer=True), _meta(whirlpool, writable=True),
        _meta(owner_a, writable=True), _meta(vault_a, writable=True),
        _meta(owner_b, writable=True), _meta(vault_b, writable=True),
        *(_meta(t, writable=True) for t in tick_arrays), _meta(oracle, writable=True),
    ])  # fmt: skip


def swap_tick_array_starts(tick_spacing: int, tick_current: int, a_to_b: bool) -> list[int]:
    """The start indices of the (up to 3) tick arrays a swap loads, in order: the array
    holding the current tick (for b->a, the next one when the tick sits in the last
    ``tick_spacing`` ticks of its array), then further in the swap's direction; starts
    past the price range are left out (the engine's ``clmm_swap`` follows the same rule)."""
    size = TICK_ARRAY_SIZE * tick_spacing
    base = tick_current // size * size
    first = base + size if not a_to_b and tick_current + tick_spacing >= base + size else base
    step = -size if a_to_b else size
    out = []
    for k in range(3):
        s = first + k * step
        if not is_valid_start_tick(s, size):
            break
        out.append(s)
    return out


def swap_tick_arrays(
    whirlpool: str, tick_spacing: int, tick_current: int, a_to_b: bool
) -> list[str]:
    """The 3 tick-array accounts of a Whirlpool swap (the last repeated when fewer exist)."""
    starts = swap_tick_array_starts(tick_spacing, tick_current, a_to_b)
    if not starts:
        raise ValueError(f"no tick array holds tick {tick_current} (spacing {tick_spacing})")
    cache = pdas()
    keys = [str(cache.tick_array(whirlpool, s)[0]) for s in starts]
    return (keys + [keys[-1]] * 3)[:3]


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
class CreateAta:
    payer: str
    ata: str
    wallet: str
    mint: str
    token_program: str
    idempotent: bool


@dataclass(frozen=True, slots=True)
class Swap:
    """A swap instruction of any of the three programs, exact input: ``amount_in`` of the
    source account's token for at least ``minimum_out`` into the destination account.
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


def _need(accounts: list[str], n: int, what: str) -> None:
    if len(accounts) < n:
        raise InstructionError(
            "NotEnoughAccountKeys", f"{what} takes {n} accounts, got {len(accounts)}"
        )


def _u64s(data: bytes, off: int, n: int, what: str) -> tuple[int, ...]:
    if len(data) < off + 8 * n:
        raise InstructionError("InvalidInstructionData", f"{what}: {len(data)} bytes of data")
    return struct.unpack_from(f"<{n}Q", data, off)


def decode(program: str, data: bytes, accounts: list[str]) -> Any:
    """``(program id, instruction data, account keys in order)`` as a record above;
    :class:`InstructionError` when it does not fit a layout this module knows."""
    if program == COMPUTE_BUDGET:
        if data[:1] == b"\x02" and len(data) == 5:
            return ComputeUnitLimit(struct.unpack_from("<I", data, 1)[0])
        if data[:1] == b"\x03" and len(data) == 9:
            return ComputeUnitPrice(struct.unpack_from("<Q", data, 1)[0])
        raise InstructionError("InvalidInstructionData", f"compute budget: {data[:1].hex()}")
    if program == SYSTEM_PROGRAM:
        if len(data) == 12 and struct.unpack_from("<I", data)[0] == 2:
            _need(accounts, 2, "system transfer")
            return Transfer(accounts[0], accounts[1], struct.unpack_from("<Q", data, 4)[0])
        raise InstructionError("InvalidInstructionData", "system: only transfer is supported")
    if program == ATA_PROGRAM:
        if data not in (b"", b"\x00", b"\x01"):
            raise InstructionError("InvalidInstructionData", "associated token: unknown")
        _need(accounts, 6, "create associated token account")
        return CreateAta(accounts[0], accounts[1], accounts[2], accounts[3], accounts[5],
                         data == b"\x01")  # fmt: skip
    if program == RAYDIUM_AMM_V4:
        tag = data[:1]
        if tag != bytes([V4_SWAP_BASE_IN_V2]):  # the 8-account form arbscope builds
            raise InstructionError(
                "InvalidInstructionData", f"amm v4: instruction {tag.hex()} is not SwapBaseInV2"
            )
        amount, minimum = _u64s(data, 1, 2, "SwapBaseInV2")
        _need(accounts, 8, "SwapBaseInV2")
        names: tuple[str, ...] = ("token_program", "amm", "authority", "coin_vault", "pc_vault",
                 "user_source", "user_dest", "owner")  # fmt: skip
        acc = dict(zip(names, accounts))
        return Swap(program, acc["amm"], amount, minimum, acc["user_source"], acc["user_dest"],
                    acc["owner"], acc)  # fmt: skip
    if program == RAYDIUM_CPMM:
        if data[:8] != CPMM_SWAP_BASE_INPUT:
            raise InstructionError("InvalidInstructionData", "cp-swap: not swap_base_input")
        amount, minimum = _u64s(data, 8, 2, "swap_base_input")
        _need(accounts, 13, "swap_base_input")
        names = ("payer", "authority", "amm_config", "pool_state", "input_token_account",
                 "output_token_account", "input_vault", "output_vault", "input_token_program",
                 "output_token_program", "input_token_mint", "output_token_mint",
                 "observation_state")  # fmt: skip
        acc = dict(zip(names, accounts))
        return Swap(program, acc["pool_state"], amount, minimum, acc["input_token_account"],
                    acc["output_token_account"], acc["payer"], acc)  # fmt: skip
    if program == WHIRLPOOL:
        if data[:8] != WHIRLPOOL_SWAP:
            raise InstructionError("InvalidInstructionData", "whirlpool: not swap")
        if len(data) < 42:
            raise InstructionError("InvalidInstructionData", f"swap: {len(data)} bytes of data")
        amount, threshold = struct.unpack_from("<QQ", data, 8)
        exact_in, a_to_b = data[40], data[41]
        if exact_in not in (0, 1) or a_to_b not in (0, 1):
            raise InstructionError("InvalidInstructionData", "swap: bool out of range")
        if not exact_in:
            raise InstructionError("InvalidInstructionData", "swap: only exact input is supported")
        _need(accounts, 11, "swap")
        names = ("token_program", "token_authority", "whirlpool", "token_owner_account_a",
                 "token_vault_a", "token_owner_account_b", "token_vault_b", "tick_array_0",
                 "tick_array_1", "tick_array_2", "oracle")  # fmt: skip
        acc = dict(zip(names, accounts))
        acc["sqrt_price_limit"] = str(int.from_bytes(data[24:40], "little"))
        src, dst = (("token_owner_account_a", "token_owner_account_b") if a_to_b
                    else ("token_owner_account_b", "token_owner_account_a"))  # fmt: skip
        return Swap(program, acc["whirlpool"], amount, threshold, acc[src], acc[dst],
                    acc["token_authority"], acc, bool(a_to_b),
                    (acc["tick_array_0"], acc["tick_array_1"], acc["tick_array_2"]))  # fmt: skip
    raise InstructionError("IncorrectProgramId", f"program {program} is not one the simulator runs")


def error_name(program: str, code: int) -> str:
    """The program's name for custom error ``code`` (or ``custom 0x..``)."""
    return PROGRAM_ERRORS.get(program, {}).get(code, f"custom program error 0x{code:x}")


# ------------------------------------------------------------------ transaction size
PACKET_DATA_SIZE = 1232  # the largest transaction a node accepts, in bytes on the wire


def _placeholder(name: str) -> str:
    return str(Pubkey.from_bytes(hashlib.sha256(name.encode()).digest()))


@lru_cache(maxsize=1024)
def _shape_size(kinds: tuple[str, ...], pattern: tuple[int, ...], tip: bool, creates: int) -> int:
    from solders.hash import Hash
    from solders.message import MessageV0
    from solders.signature import Signature
    from solders.transaction import VersionedTransaction

    me = _placeholder("payer")
    tok = [_placeholder(f"token{i}") for i in pattern]
    ata = [_placeholder(f"ata{i}") for i in pattern]
    ixs = [set_compute_unit_limit(1), set_compute_unit_price(1)]
    for i in range(creates):  # an ATA created in the transaction (its mint is a key too)
        ixs.append(_ix(ATA_PROGRAM, bytes([1]), [
            _meta(me, True, True), _meta(_placeholder(f"new-ata{i}"), False, True), _meta(me),
            _meta(_placeholder(f"new-mint{i}")), _meta(SYSTEM_PROGRAM), _meta(SPL_TOKEN),
        ]))  # fmt: skip
    for h, kind in enumerate(kinds):
        k = [_placeholder(f"hop{h}:{j}") for j in range(8)]  # the pool's own accounts
        if kind == "amm_v4":
            ixs.append(raydium_v4_swap_base_in(k[0], k[1], k[2], ata[h], ata[h + 1], me, 1, 1))
        elif kind == "cpmm":  # each pool's config counted apart (they may share one)
            ixs.append(cpmm_swap_base_input(
                me, k[0], k[1], ata[h], ata[h + 1], k[2], k[3], SPL_TOKEN, SPL_TOKEN, tok[h],
                tok[h + 1], k[4], 1, 1,
            ))  # fmt: skip
        else:
            ixs.append(whirlpool_swap(me, k[0], ata[h], k[1], ata[h + 1], k[2],
                                      [k[3], k[4], k[5]], k[6], 1, 1, True))  # fmt: skip
    if tip:
        ixs.append(transfer(me, JITO_TIP_ACCOUNTS[0], 1))
    msg = MessageV0.try_compile(Pubkey.from_string(me), ixs, [], Hash.default())
    return len(bytes(VersionedTransaction.populate(msg, [Signature.default()])))


def swap_tx_size(kinds: list[str], tokens: list[str], tip: bool = False, creates: int = 0) -> int:
    """The size in bytes of the transaction a cycle becomes (compute budget, one swap per
    hop of ``kinds``: amm_v4 | cpmm | whirlpool, through ``tokens``, a tip, ``creates``
    new token accounts), with no address lookup table: the instruction builders above,
    on placeholder keys. Exact when the pools share no account, an upper bound
    otherwise (two CP-Swap pools may share a config). Cached per shape."""
    first: dict[str, int] = {}
    pattern = tuple(first.setdefault(t, len(first)) for t in tokens)
    return _shape_size(tuple(kinds), pattern, tip, creates)
