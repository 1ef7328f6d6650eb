"""A venue the chain does not run: a swap program that refuses arbscope's instruction
itself (the runtime's ``InvalidInstructionData``, Anchor's 100-103) is marked for the
session and no order goes through its pools again; any other error is only the order's.
Anchor's framework errors are named as Anchor names them. (On the real node:
``tests/node/test_live.py``, Raydium AMM v4's binary refusing ``SwapBaseInV2``.)"""

from __future__ import annotations

from typing import Any

from solders.instruction import Instruction

from arbscope.execution.core import ExecutorCore, StaticPool
from arbscope.execution.live import LiveConfig, LiveOrder
from arbscope.execution.orders import describe_error
from feeds import venues
from feeds.wire import instructions as I

WSOL = "So11111111111111111111111111111111111111112"
POOL_V4, POOL_CP, POOL_OB = "V4pool1111111111111111111111111111111111111", "CPpool", "OBpool"


def _core() -> ExecutorCore:
    core = ExecutorCore(LiveConfig(), WSOL, graph=lambda: None)
    for pool, kind in ((POOL_V4, "amm_v4"), (POOL_CP, "cpmm"), (POOL_OB, "openbook")):
        core.static[pool] = StaticPool(kind, None, {})
    return core


def _ix(kind: str) -> Instruction:
    from solders.pubkey import Pubkey

    return Instruction(Pubkey.from_string(venues.by_kind(kind).program), b"\x10", [])


def _order(pools: list[str]) -> LiveOrder:
    return LiveOrder(7, "manual", ("m", tuple(pools)), [], pools, [], 1, [1])


def _refused(core: ExecutorCore, err: Any, kinds: list[str]) -> Any:
    ixs = [I.set_compute_unit_limit(1), I.set_compute_unit_price(0), *map(_ix, kinds)]
    return core.refused_venue(_order([]), err, ixs)


def test_a_program_refusing_the_instruction_itself_is_not_run_for_the_session() -> None:
    core = _core()
    assert core.through_refused([POOL_V4, POOL_CP]) == ""
    # a slippage error (a custom code of the program's own) is the order's alone
    assert _refused(core, {"InstructionError": [2, {"Custom": 30}]}, ["amm_v4"]) is None
    assert _refused(core, {"InstructionError": [3, {"Custom": 6005}]}, ["amm_v4", "cpmm"]) is None
    assert core.not_run == {}
    # the runtime's InvalidInstructionData from AMM v4's swap: its venue is not run here
    got = _refused(core, {"InstructionError": [2, "InvalidInstructionData"]}, ["amm_v4", "cpmm"])
    assert got is not None and got[0] == "raydium_amm_v4"
    assert "InvalidInstructionData" in got[1] and "order #7" in got[1]
    assert list(core.not_run) == [venues.by_kind("amm_v4").program]
    why = core.through_refused([POOL_CP, POOL_V4])
    assert why.startswith(f"pool {POOL_V4[:8]}") and "raydium_amm_v4" in why
    assert core.through_refused([POOL_CP, "unknown pool"]) == ""  # not held yet: no opinion
    # the same venue refusing again keeps its first reason
    again = _refused(core, {"InstructionError": [2, "InvalidInstructionData"]}, ["amm_v4"])
    assert again == got


def test_anchors_instruction_errors_mark_an_anchor_venue_and_only_one() -> None:
    core = _core()
    # OpenBook (Anchor): InstructionDidNotDeserialize (102) is a refusal of the instruction
    got = _refused(core, {"InstructionError": [2, {"Custom": 102}]}, ["openbook"])
    assert got is not None and got[0] == "openbook_v2" and "Anchor 102" in got[1]
    # AMM v4 is no Anchor program: its own code 102 is not Anchor's
    assert venues.by_kind("amm_v4").anchor is False
    assert _refused(_core(), {"InstructionError": [2, {"Custom": 102}]}, ["amm_v4"]) is None
    # an instruction that is not a swap (the compute budget's) marks nothing
    assert _refused(_core(), {"InstructionError": [0, "InvalidInstructionData"]}, []) is None
    # malformed errors are no refusal
    for err in ("AccountNotFound", {"InstructionError": "x"}, {"InstructionError": [9, "X"]}):
        assert _refused(_core(), err, ["cpmm"]) is None


def test_anchor_framework_errors_are_named() -> None:
    ob = _ix("openbook")
    text = describe_error({"InstructionError": [0, {"Custom": 0x66}]}, [ob])
    assert (
        text
        == f"instruction 0 ({str(ob.program_id)[:4]}…): InstructionDidNotDeserialize (Anchor 102)"
    )
    assert venues.error_name(str(ob.program_id), 3012).startswith("AccountNotInitialized")
    # a venue's own name wins; a code nobody names stays a code
    cp = str(_ix("cpmm").program_id)
    assert "Anchor" not in venues.error_name(cp, 6005)
    assert venues.error_name(cp, 4242) == "custom program error 0x1092"
    assert venues.refused_instruction({"InstructionError": [1, {"Custom": 101}]}, True) == (
        "Anchor 101 InstructionFallbackNotFound"
    )
