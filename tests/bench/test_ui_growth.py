"""``bench.ui --growth``: what it says grew over a window is what the window made and
kept (a container held on to, and untracked bytes by the line that made them), not what
it made and let go."""

from __future__ import annotations

import tracemalloc

from bench.ui import Growth

KEPT: list[object] = []


def test_growth_names_the_containers_and_the_lines_that_kept_memory() -> None:
    was = tracemalloc.is_tracing()  # (PYTHONTRACEMALLOC: left on, as it was)
    g = Growth()
    try:
        kept = [str(i) * 3 for i in range(5_000)]  # a container, and its strings
        blob = bytes(3 << 20)  # 3 MiB the collector does not track
        _gone = [bytes(1 << 20) for _ in range(8)]  # made and let go
        del _gone
        KEPT.extend([kept, blob])
        lines = g.report()
    finally:
        KEPT.clear()
    assert tracemalloc.is_tracing() == was  # (the report stops what the window started)
    assert any(line.startswith("  list len 5,000 (+5,000)") for line in lines), lines
    traced = lines[lines.index(next(x for x in lines if x.startswith("allocated in the window"))) :]
    here = [x for x in traced[1:] if __file__ in x]
    assert here, traced
    sizes = [float(x.split()[0]) for x in here]
    assert 2.9 < max(sizes) < 4.0  # the 3 MiB kept, not the 8 let go
