"""Jito's ``simulateBundle`` as a jito-solana node answers it (``rpc/src/rpc.rs``
``simulate_bundle``, ``rpc-client-api/src/bundles.rs``): the transactions run in order,
each on the state the ones before it left, and nothing stays; each one's result with the
accounts asked before and after it; the summary ``succeeded`` or the first failure as
``TransactionFailure`` with its signature; the request checks in the node's words."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from solders.keypair import Keypair

from feeds.sim.chain import ChainError
from feeds.wire import instructions as I
from tests.support.chain import Market, wire


def _b64(data: Any) -> bytes:
    return base64.b64decode(data[0])


def _pair(m: Market) -> tuple[Any, Any, str, str]:
    """tx1 creates the wallet's token account of a mint; tx2 is a second wallet's
    transfer that only works once tx1 funded it (a transfer of lamports to it)."""
    other = Keypair()
    them = str(other.pubkey())
    mint = m.world.mints[1]
    tx1 = m.tx([I.create_ata_idempotent(m.me, m.me, mint), I.transfer(m.me, them, 10**8)])
    tx2 = m.tx([I.transfer(them, m.me, 10**7)], kp=other)
    return tx1, tx2, them, I.ata_address(m.me, mint)


def test_each_transaction_runs_on_the_state_the_ones_before_left_and_nothing_stays() -> None:
    m = Market()
    tx1, tx2, them, ata = _pair(m)
    before = {k: m.world.lamports(k) for k in (m.me, them)}
    alone = m.chain.simulate([wire(tx2), {"encoding": "base64", "commitment": "processed"}])
    assert alone["err"] == "AccountNotFound"  # the second alone: its payer does not exist
    cfg = {
        "preExecutionAccountsConfigs": [None, {"addresses": [them]}],
        "postExecutionAccountsConfigs": [
            {"addresses": [ata, them]},
            {"addresses": [them], "encoding": "base64"},
        ],
    }
    v = m.chain.simulate_bundle([{"encodedTransactions": [wire(tx1), wire(tx2)]}, cfg])
    assert v["summary"] == "succeeded"
    r1, r2 = v["transactionResults"]
    assert r1["err"] is None and r2["err"] is None and r1["preExecutionAccounts"] == []
    token, funded = r1["postExecutionAccounts"]
    assert m.world.eng.decode_token_account(_b64(token["data"])).owner == m.me
    assert funded["lamports"] == 10**8 == r2["preExecutionAccounts"][0]["lamports"]
    assert r2["postExecutionAccounts"][0]["lamports"] == 10**8 - 10**7 - r2["fee"]
    assert r1["fee"] == r2["fee"] == 5_000 and r1["unitsConsumed"] > 0
    assert {k: m.world.lamports(k) for k in (m.me, them)} == before  # nothing stayed
    assert m.world.token_account(ata) is None


def test_the_first_failure_is_the_summary_and_the_others_still_run() -> None:
    m = Market()
    tx1, tx2, _, _ = _pair(m)
    v = m.chain.simulate_bundle([{"encodedTransactions": [wire(tx2), wire(tx1)]}])
    fail = v["summary"]["failed"]
    sig = str(tx2.signatures[0])
    assert fail == {
        "error": {
            "TransactionFailure": [
                sig,
                "Attempt to debit an account but found no record of a prior credit.",
            ]
        },
        "tx_signature": sig,
    }
    r2, r1 = v["transactionResults"]
    assert r2["err"] == "AccountNotFound" and r1["err"] is None
    assert r1["postExecutionAccounts"] == [] and r2["preExecutionAccounts"] == []


@pytest.mark.parametrize(
    "case,wording",
    [
        (
            "lengths",
            "pre/post_execution_accounts_configs must be equal in length to the number "
            "of transactions",
        ),
        ("encoding", "Base64 is the only supported encoding for transactions"),
        ("accounts", "Base64 is the only supported encoding for post-execution accounts"),
        ("duplicate", "duplicate transactions"),
        ("too-many", "bundle size too large, max 20 transactions"),
        ("addresses", "Too many accounts provided; max 64"),
        ("replace", "replace_recent_blockhash cannot be used with !skip_sig_verify"),
        (
            "signature",
            "transaction signature is invalid: Transaction did not pass signature verification",
        ),
    ],
)
def test_requests_a_node_refuses_are_refused_in_its_words(case: str, wording: str) -> None:
    m = Market()
    tx1, tx2, _, _ = _pair(m)
    txs = [wire(tx1), wire(tx2)]
    cfg: dict[str, Any] = {
        "preExecutionAccountsConfigs": [None, None],
        "postExecutionAccountsConfigs": [None, None],
    }
    if case == "lengths":
        cfg["postExecutionAccountsConfigs"] = [None]
    elif case == "encoding":
        cfg["transactionEncoding"] = "base58"
    elif case == "accounts":
        cfg["postExecutionAccountsConfigs"] = [
            None,
            {"addresses": [m.me], "encoding": "jsonParsed"},
        ]
    elif case == "duplicate":
        txs = [txs[0], txs[0]]
        cfg = {
            "preExecutionAccountsConfigs": [None] * 2,
            "postExecutionAccountsConfigs": [None] * 2,
        }
    elif case == "too-many":
        txs = txs * 11
    elif case == "addresses":
        cfg["preExecutionAccountsConfigs"] = [{"addresses": [m.me] * 65}, None]
    elif case == "replace":
        cfg["replaceRecentBlockhash"] = True
    elif case == "signature":
        raw = bytearray(base64.b64decode(txs[1]))
        raw[1] ^= 0xFF  # a signature byte
        txs[1] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(ChainError) as e:
        m.chain.simulate_bundle([{"encodedTransactions": txs}, cfg])
    assert (e.value.code, e.value.message) == (-32602, wording)
