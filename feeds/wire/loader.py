"""Program accounts on the wire (no I/O): where a deployed program's ELF lives and how a
node shows it, for each loader, as ``solana program dump`` reads them.

- The upgradeable loader (``BPFLoaderUpgradeab1e11111111111111111111111``; Agave
  ``loader-v3-interface`` ``UpgradeableLoaderState``, bincode): the program account is
  executable and holds ``u32 2`` (``Program``) and the 32-byte address of its programdata
  account, the PDA of ``[program_id]`` under the loader; the programdata account holds
  ``u32 3`` (``ProgramData``), the slot of the last deployment (u64), the upgrade
  authority as ``Option<Pubkey>`` (a tag byte and always 32 bytes: 45 bytes of header in
  all, ``size_of_programdata_metadata``), then the ELF (``solana program dump`` writes
  everything after the header). Tags 0 and 1 are an uninitialized account and a buffer.
- The older loaders (``BPFLoader2111111111111111111111111111111111`` and the deprecated
  ``BPFLoader1111111111111111111111111111111111``): one executable account whose data is
  the ELF itself (SPL Token, the associated token account program, Memo on mainnet).
- Loader v4 (``LoaderV411111111111111111111111111111111111``; ``loader-v4-interface``
  ``LoaderV4State``): one account, a 48-byte header (deployment slot u64, authority or
  next version 32 bytes, status u64: 0 retracted, 1 deployed, 2 finalized), then the ELF.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

UPGRADEABLE_LOADER = "BPFLoaderUpgradeab1e11111111111111111111111"
LOADER_V2 = "BPFLoader2111111111111111111111111111111111"
LOADER_V1 = "BPFLoader1111111111111111111111111111111111"
LOADER_V4 = "LoaderV411111111111111111111111111111111111"
LOADERS = (UPGRADEABLE_LOADER, LOADER_V2, LOADER_V1, LOADER_V4)
# the programs mainnet keeps on the older loader (their accounts are the ELF); every
# other program is the upgradeable loader's
LOADER_V2_PROGRAMS = frozenset(
    (
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
        "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
        "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
    )
)
UNINITIALIZED_TAG, BUFFER_TAG, PROGRAM_TAG, PROGRAMDATA_TAG = 0, 1, 2, 3
PROGRAM_LEN = 36  # u32 tag + the programdata address
PROGRAMDATA_HEADER = 45  # u32 tag, u64 slot, Option<Pubkey> (1 + 32): the ELF follows
LOADER_V4_HEADER = 48  # u64 slot, 32 bytes authority or next version, u64 status
LOADER_V4_STATUS = {0: "retracted", 1: "deployed", 2: "finalized"}
ELF_MAGIC = b"\x7fELF"


class NotAProgram(ValueError):
    """An account that is not (or no longer) a deployed program's, in one line."""


@dataclass(frozen=True, slots=True)
class Deployed:
    """A deployed program as its accounts say: the ELF, its loader, the slot of its last
    deployment and its upgrade authority (None: immutable, or not the loader's to say),
    and its programdata account (the upgradeable loader's; "" otherwise)."""

    elf: bytes
    loader: str
    slot: int | None = None
    authority: str | None = None
    programdata: str = ""


def _b58(raw: bytes) -> str:
    from solders.pubkey import Pubkey

    return str(Pubkey.from_bytes(raw))


def programdata_address(program_id: str) -> str:
    """The upgradeable loader's programdata account of ``program_id`` (its PDA of
    ``[program_id]``)."""
    from solders.pubkey import Pubkey

    pid = Pubkey.from_string(program_id)
    addr, _ = Pubkey.find_program_address([bytes(pid)], Pubkey.from_string(UPGRADEABLE_LOADER))
    return str(addr)


def program_account(program_id: str, owner: str, data: bytes, executable: bool) -> str | None:
    """The programdata address a program account names (None: the program's account is
    the ELF itself, an older loader's or loader v4's); :class:`NotAProgram` with the
    reason when the account is not a deployed program."""
    if owner not in LOADERS:
        raise NotAProgram(
            f"{program_id} is not a program: its account is owned by {owner}, not a loader"
        )
    if owner == UPGRADEABLE_LOADER:
        tag = struct.unpack_from("<I", data)[0] if len(data) >= 4 else -1
        if tag == PROGRAMDATA_TAG:
            raise NotAProgram(f"{program_id} is a programdata account, not a program")
        if tag == BUFFER_TAG:
            raise NotAProgram(f"{program_id} is a program buffer, not a deployed program")
        if tag != PROGRAM_TAG or len(data) < PROGRAM_LEN:
            raise NotAProgram(
                f"{program_id} is not a program (an upgradeable loader account "
                f"of {len(data)} bytes, state {tag})"
            )
    if not executable:
        raise NotAProgram(f"{program_id} is not executable (not a deployed program)")
    if owner == UPGRADEABLE_LOADER:
        return _b58(data[4:PROGRAM_LEN])
    return None


def deployed(
    program_id: str,
    owner: str,
    data: bytes,
    programdata: bytes | None = None,
    programdata_owner: str = UPGRADEABLE_LOADER,
) -> Deployed:
    """The program's ELF and facts from its account (and, for the upgradeable loader, its
    programdata account's ``programdata`` bytes; None: there is none); its
    :func:`program_account` already checked. :class:`NotAProgram` when they do not hold a
    deployed ELF."""
    if owner == UPGRADEABLE_LOADER:
        where = _b58(data[4:PROGRAM_LEN])
        if programdata is None:
            raise NotAProgram(
                f"{program_id}: its programdata account {where} does not exist "
                "(the program was closed)"
            )
        tag = struct.unpack_from("<I", programdata)[0] if len(programdata) >= 4 else -1
        if (
            programdata_owner != UPGRADEABLE_LOADER
            or tag != PROGRAMDATA_TAG
            or len(programdata) < PROGRAMDATA_HEADER
        ):
            raise NotAProgram(f"{program_id}: {where} is not its programdata account")
        slot = struct.unpack_from("<Q", programdata, 4)[0]
        authority = _b58(programdata[13:45]) if programdata[12] == 1 else None
        elf = bytes(programdata[PROGRAMDATA_HEADER:])
        out = Deployed(elf, owner, slot, authority, where)
    elif owner == LOADER_V4:
        if len(data) < LOADER_V4_HEADER:
            raise NotAProgram(f"{program_id}: a loader v4 account of {len(data)} bytes")
        slot, status = struct.unpack_from("<Q", data)[0], struct.unpack_from("<Q", data, 40)[0]
        if status == 0:
            raise NotAProgram(f"{program_id} is retracted (loader v4): no program to run")
        authority = _b58(data[8:40]) if status == 1 else None
        out = Deployed(bytes(data[LOADER_V4_HEADER:]), owner, slot, authority)
    else:
        out = Deployed(bytes(data), owner)
    if out.elf[:4] != ELF_MAGIC:
        raise NotAProgram(f"{program_id}: its program bytes are not an ELF")
    return out


def program_accounts(
    program_id: str, elf: bytes, slot: int, authority: str | None, rent: Callable[[int], int]
) -> dict[str, tuple[str, bytes, int, bool]]:
    """The accounts a node holds for ``program_id`` deployed with ``elf``, as mainnet
    shows them, address -> (owner, data, lamports, executable): for a program of
    :data:`LOADER_V2_PROGRAMS` one executable ``BPFLoader2`` account holding the ELF; for
    the others the upgradeable loader's program account and programdata account (see
    the module doc). ``rent(size)``: an account's rent-exempt lamports."""
    from solders.pubkey import Pubkey

    if program_id in LOADER_V2_PROGRAMS:
        return {program_id: (LOADER_V2, bytes(elf), rent(len(elf)), True)}
    where = programdata_address(program_id)
    prog = struct.pack("<I", PROGRAM_TAG) + bytes(Pubkey.from_string(where))
    auth = (
        b"\x00" + bytes(32) if authority is None else b"\x01" + bytes(Pubkey.from_string(authority))
    )
    data = struct.pack("<IQ", PROGRAMDATA_TAG, slot) + auth + bytes(elf)
    return {
        program_id: (UPGRADEABLE_LOADER, prog, rent(len(prog)), True),
        where: (UPGRADEABLE_LOADER, data, rent(len(data)), False),
    }
