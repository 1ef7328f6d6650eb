"""An endpoint's health counters: the last error kept short without losing its end."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from feeds.clients.tls import CA_HINT
from feeds.health import ERROR_CHARS, HealthCounters, clip


@given(st.text(max_size=600), st.integers(min_value=8, max_value=400))
def test_a_clipped_text_keeps_its_start_and_end_within_the_limit(text: str, limit: int) -> None:
    out = clip(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        head, _, tail = out.partition(" … ")
        assert len(out) == limit and text.startswith(head) and text.endswith(tail)
        assert len(tail) >= (limit - 3) // 3  # the end, where the fix is said, is kept


def test_an_error_naming_a_long_ca_file_keeps_its_hint() -> None:
    """Under pytest-xdist the test's CA path grew past what fitted, and the hint was cut
    ("the CA file ... does not "): the operator's own paths can be as long."""
    c = HealthCounters(0, "tls", "wss://node.example")
    path = "/home/operator/" + "deeply/nested/" * 12 + "ca.pem"
    hint = f"the CA file {path} does not vouch for it either: check --ca-file"
    c.error(f"certificate verify failed at wss://node.example (unable to get issuer); {hint}")
    assert len(c.last_error) == ERROR_CHARS
    assert c.last_error.startswith("certificate verify failed at wss://node.example")
    assert c.last_error.endswith("does not vouch for it either: check --ca-file")
    c.error(f"certificate verify failed at wss://node.example (why); {CA_HINT}")
    assert c.last_error.endswith(CA_HINT)  # (short: whole)
