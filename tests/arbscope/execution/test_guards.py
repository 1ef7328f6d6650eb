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
