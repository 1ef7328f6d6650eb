"""The journal's day file (``DayFile``): every session's live orders, one line each,
read incrementally — a read parses only what was added since the last one, a line
written halfway is read once it is whole, a damaged line is counted and skipped, and a
file replaced under the reader is read again from its start."""

from __future__ import annotations

import json
from pathlib import Path

from arbscope.execution.guards import DayFile


def test_the_day_file_is_read_incrementally_and_survives_damage(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite.live"
    writer, reader = DayFile(path), DayFile(path)
    assert reader.read() == {}  # no file yet: no orders
    writer.append("A", 1, "2026-11-26", 500)
    writer.append("B", 1, "2026-11-26", 700)
    assert reader.read() == {("A", 1): ("2026-11-26", 500), ("B", 1): ("2026-11-26", 700)}
    assert reader.read() == {}  # nothing new
    with path.open("ab") as f:  # another process, halfway through its line
        f.write(b'{"s": "C", "seq": 4, "day": "2026-11-26", ')
    assert reader.read() == {}
    with path.open("ab") as f:
        f.write(b'"amount": 9}\nnot json\n')
    assert reader.read() == {("C", 4): ("2026-11-26", 9)}
    assert reader.malformed == 1
    assert len(reader.entries) == 3
    writer.close()
    path.unlink()  # replaced: a new file in its place
    path.write_text(json.dumps({"s": "D", "seq": 1, "day": "2026-11-27", "amount": 3}) + "\n")
    assert reader.read() == {("D", 1): ("2026-11-27", 3)}
    reader.close()
    reader.close()  # twice is harmless


def test_a_line_appended_here_is_kept_without_reading_it_back(tmp_path: Path) -> None:
    """One DayFile that reads and appends (a session's): its own line is kept as written
    when nothing else came before it, and read from the file when another process wrote
    in between — the entries and the file's lines are the same either way, each line the
    JSON ``json.dumps`` writes."""
    path = tmp_path / "j.sqlite.live"
    me, other = DayFile(path), DayFile(path)
    assert me.read() == {}
    other.append("B", 1, "2026-11-26", 7)
    assert me.read() == {("B", 1): ("2026-11-26", 7)}
    me.append('A "quoted"', 1, "2026-11-26", 500)  # nothing between: kept, not read back
    assert me.read() == {}
    other.append("B", 2, "2026-11-26", 8)
    me.append('A "quoted"', 2, "2026-11-26", 600)  # B's line first: both read
    assert me.read() == {("B", 2): ("2026-11-26", 8), ('A "quoted"', 2): ("2026-11-26", 600)}
    assert me.read() == {}
    lines = path.read_text().splitlines()
    want = [
        ("B", 1, "2026-11-26", 7),
        ('A "quoted"', 1, "2026-11-26", 500),
        ("B", 2, "2026-11-26", 8),
        ('A "quoted"', 2, "2026-11-26", 600),
    ]
    assert lines == [json.dumps({"s": s, "seq": q, "day": d, "amount": a}) for s, q, d, a in want]
    fresh = DayFile(path)
    fresh.read()
    assert fresh.entries == me.entries and me.malformed == fresh.malformed == 0
    for f in (me, other, fresh):
        f.close()
