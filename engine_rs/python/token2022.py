"""Token-2022 mints in a swap, twin of ``crates/core/src/token2022.rs``: the
``TransferFeeConfig`` extension's fee as spl-token-2022 computes it
(``interface/src/extension/transfer_fee/mod.rs``: ``TransferFee::calculate_fee``,
``calculate_pre_fee_amount``, ``calculate_inverse_fee``, ``TransferFeeConfig::get_epoch_fee``)
and the mint extensions arbscope refuses to route through (:func:`refused_extensions`).

A fee is ``(epoch, maximum_fee, transfer_fee_basis_points)``; a config is
``(older, newer)``: the newer fee applies from its epoch on, the older one before.
"""

from __future__ import annotations

from ..errors import InvalidInputError, MathOverflowError
from ._ints import U64_MAX, u64
from .decode import decode_mint

MAX_FEE_BASIS_POINTS = 10_000

Fee = tuple[int, int, int]

EXTENSION_NAMES = (
    "Uninitialized",
    "TransferFeeConfig",
    "TransferFeeAmount",
    "MintCloseAuthority",
    "ConfidentialTransferMint",
    "ConfidentialTransferAccount",
    "DefaultAccountState",
    "ImmutableOwner",
    "MemoTransfer",
    "NonTransferable",
    "InterestBearingConfig",
    "CpiGuard",
    "PermanentDelegate",
    "NonTransferableAccount",
    "TransferHook",
    "TransferHookAccount",
    "ConfidentialTransferFeeConfig",
    "ConfidentialTransferFeeAmount",
    "MetadataPointer",
    "TokenMetadata",
    "GroupPointer",
    "TokenGroup",
    "GroupMemberPointer",
    "TokenGroupMember",
    "ConfidentialMintBurn",
    "ScaledUiAmount",
    "Pausable",
    "PausableAccount",
    "PermissionedBurn",
)
_NON_TRANSFERABLE, _TRANSFER_HOOK, _DEFAULT_ACCOUNT_STATE, _PAUSABLE = 9, 14, 6, 26
_FROZEN = 2  # AccountState::Frozen


def _tuple(value: object, n: int) -> tuple[object, ...]:
    if not isinstance(value, tuple):
        raise TypeError(f"expected tuple, got {type(value).__name__}")
    if len(value) != n:
        raise ValueError(f"expected tuple of length {n}, got {len(value)}")
    return value


def _fee(value: object) -> Fee:
    e, m, b = (u64(x) for x in _tuple(value, 3))
    return e, m, b


def _check_bps(fee: Fee) -> None:
    if fee[2] > MAX_FEE_BASIS_POINTS:
        raise InvalidInputError(
            f"transfer_fee_basis_points {fee[2]} is above {MAX_FEE_BASIS_POINTS}"
        )


def _args(config: object, epoch: object, amount: object) -> tuple[Fee, int]:
    """The fee in force at ``epoch`` and the amount, checked in the extension's order:
    every argument's type and range first, then both fees' basis points."""
    older, newer = (_fee(f) for f in _tuple(config, 2))
    e, a = u64(epoch), u64(amount)
    _check_bps(older)
    _check_bps(newer)
    return (newer if e >= newer[0] else older), a


def _fee_of(fee: Fee, amount: int) -> int:
    _, maximum_fee, bps = fee
    if bps == 0 or amount == 0:
        return 0
    return min(-(-amount * bps // MAX_FEE_BASIS_POINTS), maximum_fee)


def _pre_fee_of(fee: Fee, post: int) -> int:
    _, maximum_fee, bps = fee
    if bps == 0:
        return post
    if post == 0:
        return 0
    if bps == MAX_FEE_BASIS_POINTS:
        pre = maximum_fee + post
    else:
        raw = -(-post * MAX_FEE_BASIS_POINTS // (MAX_FEE_BASIS_POINTS - bps))
        pre = post + maximum_fee if raw - post >= maximum_fee else raw
    if pre > U64_MAX:
        raise MathOverflowError(
            f"no u64 amount arrives as {post} after the fee (maximum {maximum_fee}, {bps} bps)"
        )
    return pre


def transfer_fee(config: tuple[Fee, Fee], epoch: int, amount: int) -> int:
    """The fee withheld when ``amount`` is sent at ``epoch`` (the program's
    ``calculate_epoch_fee``): ceil(amount × bps / 10,000), at most ``maximum_fee``; 0 for
    0 bps or a zero amount. Basis points above 10,000 are ``InvalidInputError``."""
    fee, a = _args(config, epoch, amount)
    return _fee_of(fee, a)


def post_fee_amount(config: tuple[Fee, Fee], epoch: int, amount: int) -> int:
    """What arrives when ``amount`` is sent at ``epoch`` (``calculate_post_fee_amount``)."""
    fee, a = _args(config, epoch, amount)
    return a - _fee_of(fee, a)


def pre_fee_amount(config: tuple[Fee, Fee], epoch: int, post_amount: int) -> int:
    """The amount to send at ``epoch`` so that ``post_amount`` arrives, as the program
    computes it (``calculate_pre_fee_amount``: the smaller amount where two round to the
    same; ``maximum_fee + post`` at 10,000 bps). ``MathOverflowError`` where no u64 amount
    does it."""
    fee, post = _args(config, epoch, post_amount)
    return _pre_fee_of(fee, post)


def inverse_transfer_fee(config: tuple[Fee, Fee], epoch: int, post_amount: int) -> int:
    """The fee on the amount :func:`pre_fee_amount` sends (``calculate_inverse_epoch_fee``)."""
    fee, post = _args(config, epoch, post_amount)
    return _fee_of(fee, _pre_fee_of(fee, post))


def refused_extensions(data: bytes, owner: object = None) -> list[str]:
    """The extensions of a mint that arbscope refuses to swap through, by name, in the
    order the account holds them: ``TransferHook`` with a program set (the transfer invokes
    it, with accounts our swaps do not pass), ``NonTransferable`` (every transfer fails),
    ``Pausable`` while paused (every transfer fails: ``MintPaused``), ``DefaultAccountState``
    when the default is frozen (a new token account cannot send or receive), and any type
    this engine does not know (``Unknown(n)``). A value too short to read is refused.
    An SPL Token mint, or a Token-2022 mint without these, gives an empty list. The bytes
    are checked as ``decode_mint`` checks them."""
    decode_mint(data, owner)
    raw = bytes(data)  # decode_mint accepted it: bytes, bytearray or memoryview
    out: list[str] = []
    if len(raw) <= 165 or len(raw) == 355:
        return out
    off = 166
    while off + 4 <= len(raw):
        ext = int.from_bytes(raw[off : off + 2], "little")
        length = int.from_bytes(raw[off + 2 : off + 4], "little")
        if ext == 0 and length == 0:
            break
        value = raw[off + 4 : off + 4 + length]  # decode_mint: inside the account
        if ext == _NON_TRANSFERABLE:
            refused = True
        elif ext == _TRANSFER_HOOK:  # authority, then program_id: all zeros is None
            refused = len(value) < 64 or any(value[32:64])
        elif ext == _PAUSABLE:  # authority, then paused
            refused = len(value) < 33 or value[32] != 0
        elif ext == _DEFAULT_ACCOUNT_STATE:
            refused = len(value) < 1 or value[0] == _FROZEN
        else:
            refused = ext >= len(EXTENSION_NAMES)
        if refused:
            out.append(EXTENSION_NAMES[ext] if ext < len(EXTENSION_NAMES) else f"Unknown({ext})")
        off += 4 + length
    return out


def mint_rules(data: bytes, owner: object) -> tuple[tuple[Fee, Fee] | None, list[str]]:
    """What the pool graph keeps of a mint (``PoolGraph.set_mint``): its transfer-fee
    config ``(older, newer)`` (None without the extension) and its refused extensions'
    names, with every check ``set_mint`` makes — ``decode_mint``'s, then the fees' basis
    points (above 10,000: ``InvalidInputError``, a mint the program never writes)."""
    m = decode_mint(data, owner)
    refused = refused_extensions(data, owner)
    fee: tuple[Fee, Fee] | None = None
    if m.older_transfer_fee is not None and m.newer_transfer_fee is not None:
        older, newer = m.older_transfer_fee, m.newer_transfer_fee
        fee = (
            (older.epoch, older.maximum_fee, older.transfer_fee_basis_points),
            (newer.epoch, newer.maximum_fee, newer.transfer_fee_basis_points),
        )
        _check_bps(fee[0])
        _check_bps(fee[1])
    return fee, refused
