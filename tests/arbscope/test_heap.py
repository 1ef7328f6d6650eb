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


def _fresh(code: str) -> None:
    """``code`` in a fresh interpreter (the allocator's state is the process's); it
    prints ``ok`` when its assertions held."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_what_the_process_freed_goes_back_to_the_system() -> None:
    # ~200 MB in blocks the C allocator serves (bytes over pymalloc's 512), freed but
    # for the last one: the free memory is below the heap's top, so free() keeps it and
    # the RSS stays; release() gives it back (glibc: malloc_trim). Elsewhere there is
    # no such call: release() says so (None) and the test ends there.
    _fresh(
        """
        from arbscope import heap
        if heap.release() is None:
            print("ok")
            raise SystemExit
        blocks = [bytes(2000) for _ in range(100_000)]
        last = blocks[-1]
        del blocks
        before = heap.rss_bytes()
        assert heap.release() is True
        after = heap.rss_bytes()
        assert before is not None and after is not None
        assert before - after >= 100 * 2**20, (before, after)
        assert len(last) == 2000
        print("ok")
        """
    )


def test_the_trimmer_calls_on_its_period_and_settle_starts_it() -> None:
    _fresh(
        """
        from arbscope import heap
        import pytest
        with pytest.raises(ValueError):
            heap.Trimmer(0)
        heap.TRIM_EVERY_S = 0.02
        heap.enable()
        assert heap.settle() is True
        t = heap.trimmer()
        if not t.available:
            print("ok")
            raise SystemExit
        assert t.wait_trims(3, 60.0), t.trims
        t.stop()
        n = t.trims
        assert n >= 3 and t.longest_s > 0
        assert heap.trimmer() is t  # one per process
        print("ok")
        """
    )


def test_a_full_pass_walks_what_came_since_the_last_and_frozen_cycles_are_freed() -> None:
    # a settled process freezes what survives each full pass (a session's state turns
    # over: the old generation held it all again within minutes and each full pass
    # walked it), and makes the next full pass whole once the frozen objects are half as
    # many again as after the last whole one, freeing the cycles among them
    _fresh(
        """
        import gc, weakref
        from arbscope import heap
        class Node:
            pass
        keep = [[i] for i in range(20_000)]
        heap.enable()
        assert heap.settle() is True
        gc.set_threshold(100, 2, 2)  # (passes often, for the test)
        walked = []
        def on(phase, info):
            if phase == "start" and info["generation"] == 2:
                walked.append(len(gc.get_objects(generation=2)))
        gc.callbacks.insert(0, on)
        rings, refs, most = [], [], 0
        for i in range(300_000):
            keep.append([i])  # long-lived: promoted, then frozen
            ring = Node(); ring.me = ring; rings.append(ring)  # a cycle
            if len(rings) == 10_000:  # dropped, after full passes froze most of them
                refs.append(weakref.ref(rings[0]))
                rings = []
                most = max(most, gc.get_freeze_count())  # (a walk of its list)
        gc.callbacks.remove(on)
        small = [n for n in walked if n < 5_000]
        assert len(walked) >= 20 and len(small) >= len(walked) * 3 // 4, walked
        alive = sum(r() is not None for r in refs)
        assert alive <= len(refs) // 4, (alive, len(refs))  # freed by whole passes
        assert most < len(keep) * 3 // 2, (most, len(keep))
        print("ok")
        """
    )
