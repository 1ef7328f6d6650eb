"""The rival classifier (feeds.rivals.classify) on real mainnet transactions: the files
under tests/data/transactions/ and their hand-checked labels (labels.json; what each
field means: tests/data/transactions/README.md, where each file came from: SOURCES.md).
tests/feeds/wire/test_real_transactions.py checks the data against solders; this module
checks that the classifier agrees with every label: kind, signer, failed, base mint,
the profit's sign, fee, Jito tip, compute budget, and the DEX programs that swapped, in
order (aggregators and routers left out; programs arbscope does not decode included,
read from their token flows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from feeds.rivals import WSOL, RivalTx, classify
from feeds.venues import VENUES
from feeds.wire.txview import TxView
from tests.support.paths import DATA

DIR = DATA / "transactions"
LABELS: dict[str, dict[str, Any]] = json.loads((DIR / "labels.json").read_text())
KIND = {"other": "none"}  # a label's kind -> the classifier's, where the names differ
VENUE_OF = {p: v.name for v in VENUES for p in v.ids.program_ids}


def _classified(name: str) -> tuple[RivalTx, TxView, dict[str, Any]]:
    v = TxView.from_rpc_json(json.loads((DIR / name).read_text()))
    return classify(v), v, LABELS[name]


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def test_every_file_is_labelled() -> None:
    files = {p.name for p in Path(DIR).glob("*.json")} - {"labels.json"}
    assert files == set(LABELS)


@pytest.mark.parametrize("name", sorted(LABELS), ids=lambda n: n.removesuffix(".json"))
def test_the_classifier_agrees_with_the_label(name: str) -> None:
    r, _, label = _classified(name)
    assert r.kind == KIND.get(label["kind"], label["kind"])
    assert (r.signature, r.signer, r.failed) == (
        label["signature"],
        label["signer"],
        label["failed"],
    )
    assert r.fee == label["fee"] == r.base_fee + r.priority_fee
    assert r.tip == label["jito_tip"]
    if label["compute_unit_limit"] is not None:
        assert r.cu_limit == label["compute_unit_limit"]
    if label["compute_unit_price"] is not None:
        assert r.cu_price == label["compute_unit_price"]
    else:
        assert r.cu_price == 0
    # the DEX programs that swapped, in the order they ran, each under its venue's name
    # ("" : a program arbscope does not decode)
    assert [leg.program for leg in r.legs] == label["programs"]
    assert list(r.venues) == [VENUE_OF.get(p, "") for p in label["programs"]]
    if label["base_mint"] is not None:
        assert r.base_mint == label["base_mint"]
        assert r.path[0] == r.path[-1] == label["base_mint"]


@pytest.mark.parametrize("name", sorted(LABELS), ids=lambda n: n.removesuffix(".json"))
def test_the_profit_agrees_with_the_balances(name: str) -> None:
    """An arbitrage's profit (its cycle's gain, before the fee and the tip) is above 0,
    and its ``net`` is the signer's whole change: the label's ``signer_net`` (which adds
    the fee back) less the fee; what went elsewhere is ``paid_away``. A failed one gained
    nothing. Another transaction's profit is the signer's change in its first input
    before costs: the label's, with the tip added back for SOL."""
    r, _, label = _classified(name)
    if r.base_mint is None:
        assert r.kind == "none" or all(leg.mint_in is None for leg in r.legs[:1])
        return
    assert r.profit is not None and r.net is not None
    said = label["signer_net"].get(r.base_mint, 0)
    fee = r.fee if r.base_mint == WSOL else 0
    if r.kind == "arbitrage":
        assert r.profit > 0
        assert r.net == said - fee
        if r.base_mint == WSOL:
            assert r.net == r.profit - r.fee - r.tip - r.paid_away
    elif r.kind == "failed_arbitrage":
        assert r.profit == 0 and said == 0 and r.net == -fee
    else:
        tip = r.tip if r.base_mint == WSOL else 0
        assert r.profit == said + tip
        assert _sign(r.profit) == _sign(said + tip)


def test_a_swap_through_a_program_emitting_clmms_event_is_that_programs() -> None:
    """HpNfyc2S... emits Raydium CLMM's SwapEvent but is not the CLMM program: its hop is
    read from its transfers (venue "", the pool the vaults' holder) and closes the cycle;
    the event is not taken for CLMM's."""
    r, v, _ = _classified("arb_jup_whirlpool_clmm_jito.json")
    leg = r.legs[0]
    assert (leg.venue, leg.program, leg.source) == (
        "",
        "HpNfyc2Saw7RKkQd8nEL4khUcuPhQ7WwY1B2qjx8jxFq",
        "transfers",
    )
    # the notes' numbers: WSOL vault +53,310,000, USDC vault -6,981,620
    assert (leg.mint_in, leg.amount_in, leg.amount_out) == (WSOL, 53_310_000, 6_981_620)
    assert leg.pool == "DJNtGuBGEQiUCWE8F981M2C3ZghZt2XLD8f2sQdZ6rsZ"
    assert v.writable[v.key_index(leg.pool) or 0]
    assert r.profit == 53_659_900 - 53_310_000 == 349_900
    assert r.net == 133_617 - 5_000 and r.tip == 216_283 and r.paid_away == 0


def test_a_payment_elsewhere_is_paid_away_not_the_cycles() -> None:
    """The five-hop cycle gains 91,675 lamports; the transaction also sends 1,006,460 to
    an account that is no tip account: the signer's whole change is a loss."""
    r, _, _ = _classified("arb_cpswap_dammv2_clmm_ammv4.json")
    assert (r.kind, r.profit, r.paid_away, r.tip) == ("arbitrage", 91_675, 1_006_460, 0)
    assert r.net == 91_675 - 5_000 - 1_006_460 == -919_785
    # its DAMM v2 hop is read from the program's own EvtSwap2 (self-CPI), whose amounts are
    # the user's transfers to the unit
    damm = r.legs[1]
    assert (damm.venue, damm.source, damm.amount_in, damm.amount_out) == (
        "meteora_damm_v2",
        "event",
        282_586_950_804_282,
        161_264_858,
    )
