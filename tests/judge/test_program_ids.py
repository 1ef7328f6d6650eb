"""The ids arbscope knows the programs by are the ids the real binaries declare.

An Anchor program (and Token-2022, Token Metadata) keeps its own id in its code
(``declare_id!``: ``check_id`` compares an account's owner with those 32 bytes), so the
binary itself says at which id it runs. ``../shared/programs/README.md`` and the issue
that brought the binaries name Token Metadata ``metaqbxx…bWyuPP1s``; the binary declares
``metaqbxx…bt518x1s``, the id ``feeds.wire.mints`` reads metadata under, so the binary is
loaded there (``feeds.sim.bank.KNOWN_BUILDS``).
"""

from __future__ import annotations

import pytest
from solders.pubkey import Pubkey

from feeds.sim.bank import KNOWN_BUILDS, all_builds
from feeds.wire.mints import METADATA_PROGRAM
from tests.support.judge import programs

pytestmark = pytest.mark.judge

# the native programs built without declare_id! in their code: Raydium AMM v4 (a plain
# Solana program), SPL Token and the associated token program
NOT_DECLARED = frozenset(
    (
        "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8",
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
        "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
    )
)


def test_every_binary_declares_the_id_it_is_loaded_at() -> None:
    folder = programs()
    found = all_builds(folder)
    assert found, folder
    checked = 0
    for pid, paths in found.items():
        for path in paths:
            elf = path.read_bytes()
            declared = bytes(Pubkey.from_string(pid)) in elf
            assert declared != (pid in NOT_DECLARED), (path.name, pid)
            checked += declared
    assert checked >= 10


def test_token_metadata_is_read_at_the_id_its_binary_declares() -> None:
    path = programs() / "mpl_token_metadata.so"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    elf = path.read_bytes()
    assert bytes(Pubkey.from_string(METADATA_PROGRAM)) in elf
    assert KNOWN_BUILDS[path.name][0] == METADATA_PROGRAM
    # the id the shared README gives it is nowhere in the program
    readme = Pubkey.from_string("metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bWyuPP1s")
    assert bytes(readme) not in elf
