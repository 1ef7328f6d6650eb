"""``bench.ui --growth``: the memory it says the window made and kept, by the line that
made it, is what the window kept (untracked bytes), not what it made and let go."""

from __future__ import annotations

import tracemalloc

from bench.ui import Growth

KEPT: list[object] = []


def test_growth_names_the_lines_whose_allocations_the_window_kept() -> None:
    was = tracemalloc.is_tracing()  # (PYTHONTRACEMALLOC: left on, as it was)
    g = Growth()
    try:
        blob = bytes(3 << 20)  # 3 MiB the collector does not track, kept
        _gone = [bytes(1 << 20) for _ in range(8)]  # 8 MiB made and let go
        del _gone
        KEPT.append(blob)
        lines = g.report()
    finally:
        KEPT.clear()
    assert tracemalloc.is_tracing() == was  # (the report stops what the window started)
    head = next(i for i, x in enumerate(lines) if x.startswith("allocated in the window"))
    here = [x for x in lines[head + 1 :] if __file__ in x]
    assert here, lines[head:]
    sizes = [float(x.split()[0]) for x in here]
    assert 2.9 < max(sizes) < 4.0  # the 3 MiB kept, not the 8 let go
