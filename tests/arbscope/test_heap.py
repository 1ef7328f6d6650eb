"""The session's garbage-collector policy: only an operator's process settles, once."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_settle_acts_once_and_only_when_enabled() -> None:
    # in a fresh interpreter: the policy is the process's, not this test run's
    code = textwrap.dedent(
        """
        import gc
        from arbscope import heap
        before = gc.get_threshold()
        assert heap.settle() is False and gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
        keep = [[i] for i in range(50_000)]  # long-lived: a market's structures
        heap.enable()
        assert heap.settle() is True
        assert gc.get_threshold() == (heap.YOUNG, heap.MIDDLE, heap.OLD)
        frozen = gc.get_freeze_count()
        assert frozen >= len(keep)
        assert heap.settle() is False and gc.get_freeze_count() == frozen
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
