"""Token-2022 kernels against the official SPL Token TypeScript client
(``@solana/spl-token``, pinned by ``tests/js/package-lock.json``; run by
``tests/js/spl_token_client.mjs``): its ``calculateEpochFee`` on random configs, epochs
and amounts, and its ``ExtensionType`` numbers against the names the engine refuses by.
Skipped with the reason where npm cannot install the packages."""

from __future__ import annotations

import random
import types

import pytest

from engine_rs.python import token2022 as twin_t22
from tools.nodejs import install, run_script

pytestmark = pytest.mark.js

SCRIPT = "spl_token_client.mjs"
U64 = (1 << 64) - 1


@pytest.fixture(scope="module")
def js() -> None:
    why = install()
    if why:
        pytest.skip(why)


def _amount(r: random.Random) -> int:
    return r.choice([0, 1, r.randint(0, 10_000), r.randint(0, 10**12), r.randint(0, U64), U64])


def _fee(r: random.Random, epoch: int) -> tuple[int, int, int]:
    bps = r.choice([0, 1, 10_000, r.randint(0, 10_000)])
    return (epoch, r.choice([0, 1, r.randint(0, 10**9), U64]), bps)


def test_calculate_epoch_fee_matches_the_ts_client(js: None, eng: types.ModuleType) -> None:
    r = random.Random(2022)
    cases = []
    for _ in range(2_000):
        newer_epoch = r.randint(0, 1_000)
        epoch = r.choice([newer_epoch - 1, newer_epoch, newer_epoch + 1, r.randint(0, 2_000)])
        cases.append((_fee(r, r.randint(0, 10)), _fee(r, newer_epoch), max(epoch, 0), _amount(r)))
    request = [[[str(x) for x in o], [str(x) for x in n], str(e), str(a)] for o, n, e, a in cases]
    want = run_script(SCRIPT, {"op": "fees", "cases": request})
    got = [str(eng.transfer_fee((o, n), e, a)) for o, n, e, a in cases]
    assert got == want


def test_extension_numbers_match_the_ts_client(js: None) -> None:
    """The client's enum names some types with a ``Config`` suffix the program's enum does
    not have (``PausableConfig``, ``ScaledUiAmountConfig``) and lacks the confidential
    fee and mint-burn types; every number it has names the same type here."""
    theirs: dict[str, int] = run_script(SCRIPT, {"op": "extension_types"})
    for name, number in theirs.items():
        ours = twin_t22.EXTENSION_NAMES[number]
        assert name in (ours, ours + "Config"), (number, name, ours)
