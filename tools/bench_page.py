"""`python -m tools.bench_page` (`make bench-page`): docs/benchmarks.md from the history.

Every figure the benches ever recorded lives in ``docs/benchmarks/history.json``: one
entry per recorded run or study, in the order they were recorded (oldest first), each
with its benchmark, title, date (and time when the run gave one), the commits it names,
its note (the first paragraph: the command, the commit, the machine and its load) and its
body (paragraphs as lines, tables as a header and rows). The page shows, per benchmark,
the command and the latest entry's note and tables (its text, when it has no table) with
its commits; the history stays in
the data file (``--list [BENCH]`` lists its entries, ``--show ID`` prints one as the
ledger had it).

A new run is one more entry: :func:`append` (``python -m bench.goals DIR --record`` adds
the goals table of a ``make bench-goals`` run) and the page is written again.
``--check`` exits 1 when the committed page differs (``tests/test_architecture.py`` runs
the same comparison).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NotRequired, TypedDict

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "docs" / "benchmarks" / "history.json"
OUT = ROOT / "docs" / "benchmarks.md"


class Bench(TypedDict):
    key: str
    title: str  # the page's heading (its anchor is what the other docs link to)
    run: str  # the command, as Markdown


class Block(TypedDict):
    text: NotRequired[list[str]]
    head: NotRequired[list[str]]
    rows: NotRequired[list[list[str]]]


class Entry(TypedDict):
    id: str
    bench: str
    title: str
    parent: str | None  # the section it was a part of in the ledger
    date: str | None  # YYYY-MM-DD of the run (or of the ledger's commit that added it)
    time: str | None  # HH:MM UTC when the run gave one
    commits: list[str]  # every commit the entry names
    recorded: str  # the commit that wrote the entry into the ledger / history
    note: list[str]
    body: list[Block]


class History(TypedDict):
    about: list[str]
    benches: list[Bench]
    entries: list[Entry]


def load(path: Path = HISTORY) -> History:
    data: History = json.loads(path.read_text())
    return data


def _j(x: object) -> str:
    return json.dumps(x, ensure_ascii=False)


def _lines(key: str, xs: Sequence[object], ind: str, last: bool) -> list[str]:
    if not xs:
        return [f"{ind}{_j(key)}: []" + ("" if last else ",")]
    out = [f"{ind}{_j(key)}: ["]
    out += [f"{ind} {_j(x)}" + ("," if i < len(xs) - 1 else "") for i, x in enumerate(xs)]
    return [*out, f"{ind}]" + ("" if last else ",")]


def dumps(h: History) -> str:
    """The history as JSON laid out for reading and diffs: a line of text or a table's
    row per line."""
    out = ["{"]
    out += _lines("about", h["about"], " ", False)
    out += _lines("benches", h["benches"], " ", False)
    out.append(' "entries": [')
    for n, e in enumerate(h["entries"]):
        out.append("  {")
        head = (e["id"], e["bench"], e["title"], e["parent"], e["date"], e["time"])
        keys = ("id", "bench", "title", "parent", "date", "time", "commits", "recorded")
        for k, v in zip(keys, (*head, e["commits"], e["recorded"]), strict=True):
            out.append(f"   {_j(k)}: {_j(v)},")
        out += _lines("note", e["note"], "   ", False)
        out.append('   "body": [')
        for b, blk in enumerate(e["body"]):
            end = "," if b < len(e["body"]) - 1 else ""
            out.append("    {")
            if "text" in blk:
                out += _lines("text", blk["text"], "     ", True)
            else:
                out.append(f'     "head": {_j(blk.get("head", []))},')
                out += _lines("rows", blk.get("rows", []), "     ", True)
            out.append("    }" + end)
        out.append("   ]")
        out.append("  }" + ("," if n < len(h["entries"]) - 1 else ""))
    out += [" ]", "}", ""]
    return "\n".join(out)


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A table block's Markdown lines."""
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def block_lines(b: Block) -> list[str]:
    if "text" in b:
        return list(b["text"])
    return table(b.get("head", []), b.get("rows", []))


def entry_lines(e: Entry) -> list[str]:
    """One entry as the ledger had it: its heading, note and body."""
    level = "###" if e["parent"] else "##"
    out = [f"{level} {e['title']}", *e["note"]]
    for b in e["body"]:
        out += block_lines(b)
    return out


def _has_figures(e: Entry) -> bool:
    return any("head" in b for b in e["body"])


def latest(h: History, bench: str) -> Entry | None:
    """The bench's last entry with a table (its last entry when none has one)."""
    mine = [e for e in h["entries"] if e["bench"] == bench]
    with_figures = [e for e in mine if _has_figures(e)]
    last = with_figures or mine
    return last[-1] if last else None


def _commits(cs: Sequence[str]) -> str:
    return ", ".join(f"`{c}`" for c in cs) if cs else "none named"


def _caption(body: list[Block], i: int) -> list[str]:
    """The paragraph right above table ``i`` (its caption), when there is one."""
    if i == 0 or "text" not in body[i - 1]:
        return []
    text = body[i - 1].get("text", [])
    end = len(text)
    while end and not text[end - 1].strip():
        end -= 1
    start = end
    while start and text[start - 1].strip():
        start -= 1
    return text[start:end]


def _section(h: History, b: Bench) -> list[str]:
    mine = [e for e in h["entries"] if e["bench"] == b["key"]]
    out = [f"## {b['title']}", f"Run: {b['run']}.", ""]
    e = latest(h, b["key"])
    if e is None:
        return [*out, "Nothing recorded yet.", ""]
    when = " ".join(x for x in (e["date"], e["time"]) if x) or "undated"
    out += [
        f"Latest: **{e['title']}** ({when}; commits {_commits(e['commits'])}; entry `{e['id']}`).",
        "",
        *[line for line in e["note"] if line.strip()],
        "",
    ]
    if not _has_figures(e):  # its figures are in its text
        out += [*"\n".join(ln for b in e["body"] for ln in block_lines(b)).strip().split("\n"), ""]
    for i, blk in enumerate(e["body"]):
        if "head" in blk:
            cap = _caption(e["body"], i)
            out += [*cap, *block_lines(blk), ""]
    dates = sorted(x["date"] for x in mine if x["date"])
    span = (
        f", {dates[0]} to {dates[-1]}" if len(set(dates)) > 1 else f", {dates[0]}" if dates else ""
    )
    out.append(
        f"History: {len(mine)} entr{'y' if len(mine) == 1 else 'ies'}{span} "
        f"(`python -m tools.bench_page --list {b['key']}`)."
    )
    return [*out, ""]


def render(h: History) -> str:
    """The page: the about text, then each bench's latest figures."""
    out = ["# Benchmarks", "", *h["about"], ""]
    for b in h["benches"]:
        out += _section(h, b)
    return "\n".join(out).rstrip("\n") + "\n"


_SLUG = re.compile(r"[^\w\- ]")


def slug(title: str) -> str:
    """A heading's anchor, as GitHub makes it (an entry's id)."""
    return _SLUG.sub("", title.strip().lower()).replace(" ", "-")


def append(h: History, e: Entry) -> None:
    """One more entry at the history's end (a new run); its id made unique."""
    ids = {x["id"] for x in h["entries"]}
    base, n = e["id"], 1
    while e["id"] in ids:
        n += 1
        e["id"] = f"{base}-{n}"
    if e["bench"] not in {b["key"] for b in h["benches"]}:
        raise ValueError(f"unknown bench {e['bench']!r}")
    h["entries"].append(e)


def head_commit() -> str:
    """The checked-out commit, short (``unknown`` outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def run_entry(
    bench: str,
    what: str,
    note: str,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    commit: str | None = None,
    now: datetime | None = None,
) -> Entry:
    """A new run's entry: ``what`` (e.g. "one `make bench-goals` run") at ``now`` (UTC)
    on ``commit`` (the checkout's), the note saying where it ran, one table."""
    t = now or datetime.now(UTC)
    c = commit or head_commit()
    date, clock = t.strftime("%Y-%m-%d"), t.strftime("%H:%M")
    title = f"{what} ({date} {clock} UTC, `{c}`)"
    text = f"{what} on commit `{c}`, {date} {clock} UTC" + (f": {note}" if note else ".")
    return {
        "id": slug(title),
        "bench": bench,
        "title": title,
        "parent": None,
        "date": date,
        "time": clock,
        "commits": [c],
        "recorded": c,
        "note": [text],
        "body": [{"text": [""]}, {"head": list(head), "rows": [list(r) for r in rows]}],
    }


def save(h: History, history: Path = HISTORY, page: Path = OUT) -> None:
    """Write the history and the page generated from it."""
    history.write_text(dumps(h))
    page.write_text(render(h))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tools.bench_page", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed page is stale")
    ap.add_argument("--list", nargs="?", const="", metavar="BENCH", help="the history's entries")
    ap.add_argument("--show", metavar="ID", help="one entry as the ledger had it")
    a = ap.parse_args(argv)
    h = load()
    if a.list is not None:
        for e in h["entries"]:
            if a.list in ("", e["bench"]):
                when = " ".join(x for x in (e["date"], e["time"]) if x)
                print(f"{e['bench']:<13} {when:<16} {e['id']}")
        return 0
    if a.show is not None:
        hit = [e for e in h["entries"] if e["id"] == a.show]
        if not hit:
            print(f"no entry {a.show!r} (--list shows them)", file=sys.stderr)
            return 1
        print("\n".join(entry_lines(hit[0])))
        return 0
    if a.check:
        if OUT.read_text() != render(h):
            print("docs/benchmarks.md is stale: run `make bench-page`", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(render(h))
    return 0


if __name__ == "__main__":
    sys.exit(main())
