"""What commitment each request names, where a node's default (``finalized``, ~32 slots
behind) would be wrong: a transaction's preflight, and a polled signature's status.

The real node shows why (``tests/node/test_live.py``): a preflight at ``finalized`` does
not know a ``confirmed`` blockhash ("Blockhash not found") nor an account made since, and
a status listed at ``processed`` is not yet what a ``confirmed`` read sees."""

from __future__ import annotations

from feeds.clients.confirm import SignatureWatcher
from feeds.clients.rpc import RpcClient


def test_a_preflight_names_its_commitment_and_a_skipped_one_none() -> None:
    tx, cfg = RpcClient.send_params("AAAA", skip_preflight=False)
    assert tx == "AAAA"
    assert cfg == {
        "encoding": "base64",
        "skipPreflight": False,
        "preflightCommitment": "confirmed",
        "maxRetries": 0,
    }
    _, cfg = RpcClient.send_params("AAAA", skip_preflight=False, preflight_commitment="processed")
    assert cfg["preflightCommitment"] == "processed"
    _, cfg = RpcClient.send_params("AAAA")  # no preflight: nothing to name
    assert cfg == {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}


def test_a_polled_status_counts_once_it_reached_the_watchers_commitment() -> None:
    rpc = RpcClient("http://127.0.0.1:9")
    confirmed = SignatureWatcher(None, rpc)
    assert not confirmed.reached({"confirmationStatus": "processed", "err": None})
    assert confirmed.reached({"confirmationStatus": "confirmed", "err": None})
    assert confirmed.reached({"confirmationStatus": "finalized", "err": None})
    # a node that does not say (before 1.5): as it always was taken
    assert confirmed.reached({"err": None, "confirmations": 3})
    processed = SignatureWatcher(None, rpc, commitment="processed")
    assert processed.reached({"confirmationStatus": "processed"})
    finalized = SignatureWatcher(None, rpc, commitment="finalized")
    assert not finalized.reached({"confirmationStatus": "confirmed"})
