"""The venue registry: every DEX program arbscope reads and trades, in :data:`VENUES`,
one per venue of the engine's registry (``venue_infos()``).

A venue's client side is one package here (named as the engine names the venue): its
ids (from :mod:`.ids`, the one place of program ids), its swap instruction's layout,
builder and decoder, its program's error names, the accounts a swap needs, its pool's
layout for discovery (:class:`~.base.Venue`). Clients, the simulator and the live
executor dispatch through this registry. Adding a venue here is its package alone:
:data:`VENUES` loads ``feeds.venues.<name>`` for every venue the engine lists, and fails
at import, naming the venue, when one has no package.

Each package's ``sim`` module is the venue's simulated program: only the simulator
(:mod:`feeds.sim.programs`, its own registry) and tests load it, so a live session loads
no simulator module.
"""

from __future__ import annotations

from typing import Any

from ..wire import instructions as shared
from .base import ByVenue, ComputeUnits, Leg, Venue, import_part

__all__ = [
    "ANCHOR_ERRORS",
    "ANCHOR_INSTRUCTION_ERRORS",
    "KINDS",
    "ComputeUnits",
    "VENUES",
    "Leg",
    "Venue",
    "by_kind",
    "by_program",
    "decode",
    "error_name",
    "refused_instruction",
]


def _load() -> tuple[Venue, ...]:
    """Every venue of the engine's registry, in its order, by its package here."""
    from .ids import table

    out: list[Venue] = []
    for info in table():
        missing = (
            f"the engine has venue {info.name!r} but feeds/venues/{info.name}/ does not "
            "exist: every venue needs its Python side (ARCHITECTURE.md, How to add a venue)"
        )
        out.append(import_part(f"{__name__}.{info.name}", missing).VENUE)
    return tuple(out)


VENUES: tuple[Venue, ...] = _load()

KINDS: tuple[str, ...] = tuple(v.kind for v in VENUES)  # what pools files may name
_BY = ByVenue.of(VENUES, lambda v: v)


def by_kind(kind: str) -> Venue:
    """The venue pools files call ``kind`` (KeyError naming the known kinds otherwise)."""
    return _BY.kind(kind)


def by_program(program: str) -> Venue | None:
    """The venue whose swaps go to ``program``, or None (not a DEX program of ours)."""
    return _BY.program(program)


def decode(program: str, data: bytes, accounts: list[str]) -> Any:
    """Any instruction the simulator runs, as a record: a venue's swap
    (:class:`~feeds.wire.instructions.Swap`) or a shared program's;
    :class:`~feeds.wire.instructions.InstructionError` when it fits no layout."""
    venue = _BY.program(program)
    if venue is not None:
        return venue.decode_swap(data, accounts)
    return shared.decode(program, data, accounts)


# the Anchor framework's own errors (anchor-lang ``ErrorCode``, below a program's 6000):
# an Anchor program raises them before or around its own code
ANCHOR_ERRORS: dict[int, str] = {
    100: "InstructionMissing",
    101: "InstructionFallbackNotFound",
    102: "InstructionDidNotDeserialize",
    103: "InstructionDidNotSerialize",
    1000: "IdlInstructionStub",
    1001: "IdlInstructionInvalidProgram",
    1002: "IdlAccountNotEmpty",
    1500: "EventInstructionStub",
    **dict(
        enumerate(
            (
                "ConstraintMut ConstraintHasOne ConstraintSigner ConstraintRaw "
                "ConstraintOwner ConstraintRentExempt ConstraintSeeds ConstraintExecutable "
                "ConstraintState ConstraintAssociated ConstraintAssociatedInit "
                "ConstraintClose ConstraintAddress ConstraintZero ConstraintTokenMint "
                "ConstraintTokenOwner ConstraintMintMintAuthority "
                "ConstraintMintFreezeAuthority ConstraintMintDecimals ConstraintSpace "
                "ConstraintAccountIsNone ConstraintTokenTokenProgram "
                "ConstraintMintTokenProgram ConstraintAssociatedTokenTokenProgram"
            ).split(),
            2000,
        )
    ),
    **dict(
        enumerate(
            (
                "RequireViolated RequireEqViolated RequireKeysEqViolated "
                "RequireNeqViolated RequireKeysNeqViolated RequireGtViolated "
                "RequireGteViolated"
            ).split(),
            2500,
        )
    ),
    **dict(
        enumerate(
            (
                "AccountDiscriminatorAlreadySet AccountDiscriminatorNotFound "
                "AccountDiscriminatorMismatch AccountDidNotDeserialize "
                "AccountDidNotSerialize AccountNotEnoughKeys AccountNotMutable "
                "AccountOwnedByWrongProgram InvalidProgramId InvalidProgramExecutable "
                "AccountNotSigner AccountNotSystemOwned AccountNotInitialized "
                "AccountNotProgramData AccountNotAssociatedTokenAccount "
                "AccountSysvarMismatch AccountReallocExceedsLimit AccountDuplicateReallocs"
            ).split(),
            3000,
        )
    ),
    4100: "DeclaredProgramIdMismatch",
    4101: "TryingToInitPayerAsProgramAccount",
    4102: "InvalidNumericConversion",
    5000: "Deprecated",
}
# the ones that say the program cannot read the instruction's data itself (raised before
# any account is read): InstructionMissing, InstructionFallbackNotFound,
# InstructionDidNotDeserialize, InstructionDidNotSerialize
ANCHOR_INSTRUCTION_ERRORS = frozenset((100, 101, 102, 103))


def refused_instruction(err: Any, anchor: bool) -> str | None:
    """Why a program refused an instruction's data itself, from a transaction's error
    (``{"InstructionError": [i, detail]}``; None: it knew the instruction, whatever came
    after): the runtime's ``InvalidInstructionData``, or one of Anchor's instruction
    errors (:data:`ANCHOR_INSTRUCTION_ERRORS`) from an Anchor program. Such a program
    cannot run the instruction at all (a binary older than it: Raydium AMM v4's without
    ``SwapBaseInV2``), whatever the accounts or amounts."""
    if not isinstance(err, dict) or "InstructionError" not in err:
        return None
    try:
        detail = err["InstructionError"][1]
    except (TypeError, IndexError, KeyError):
        return None
    if detail == "InvalidInstructionData":
        return "InvalidInstructionData"
    if anchor and isinstance(detail, dict) and detail.get("Custom") in ANCHOR_INSTRUCTION_ERRORS:
        code = detail["Custom"]
        return f"Anchor {code} {ANCHOR_ERRORS[code]}"
    return None


def error_name(program: str, code: int) -> str:
    """The program's name for custom error ``code`` (or ``custom program error 0x..``):
    a venue's own, the Anchor framework's for an Anchor venue, a token program's."""
    venue = _BY.program(program)
    if venue is not None:
        name = venue.error_name(code)
        if name is None and venue.anchor and code in ANCHOR_ERRORS:
            name = f"{ANCHOR_ERRORS[code]} (Anchor {code})"
    elif program in shared.TOKEN_PROGRAMS:
        name = shared.TOKEN_ERRORS.get(code)
    else:
        name = None
    return name if name is not None else f"custom program error 0x{code:x}"
