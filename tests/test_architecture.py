"""The documents a person reads stay short and true to the repository.

The tree in ARCHITECTURE.md (the fenced block under "## The rooms") is held to the
folders. Its rule:

- Each line is an entry: two spaces of indent per level, a name (a folder ends in ``/``),
  then its one-line description. An entry's path is its parent folder's path plus its
  name. Every entry exists and has a description.
- ``<venue>/`` (any name in angle brackets) stands for every folder beside it that the
  tree does not name; there must be at least one.
- Every folder that holds a file git tracks is in the tree, at any depth, except
  ``tests/`` (one room, listed once), ``docs/``, ``screenshots/`` and hidden folders.
  Files need not be listed.

Also: README under 200 lines, ARCHITECTURE under 300, and every relative link in README,
ARCHITECTURE and docs/ (decision records included) names a file that exists and, for a
Markdown file, a heading that exists.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT

UNLISTED = ("tests", "docs", "screenshots")


def tree_entries() -> tuple[set[str], dict[str, str]]:
    """The tree's paths (folders end in ``/``) and its placeholders (parent -> token)."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    block = re.search(r"^## The rooms\n.*?^```\n(.*?)^```", text, re.S | re.M)
    assert block is not None, "ARCHITECTURE.md has no tree under '## The rooms'"
    paths: set[str] = set()
    placeholders: dict[str, str] = {}
    stack: list[str] = []
    for line in block.group(1).splitlines():
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"odd indent: {line!r}"
        level = indent // 2
        assert level <= len(stack), f"indented too far: {line!r}"
        name, _, description = line.strip().partition(" ")
        assert description.strip(), f"no description: {line!r}"
        del stack[level:]
        parent = "".join(stack)
        if name.startswith("<"):
            placeholders[parent] = name
        else:
            paths.add(parent + name)
        if name.endswith("/"):
            stack.append(name)
    return paths, placeholders


def tracked_folders() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    folders: set[str] = set()
    for file in out.stdout.splitlines():
        parts = file.split("/")[:-1]
        if not parts or parts[0] in UNLISTED or any(p.startswith(".") for p in parts):
            continue
        for depth in range(1, len(parts) + 1):
            folders.add("/".join(parts[:depth]) + "/")
    return folders


def test_every_entry_of_the_tree_exists() -> None:
    paths, placeholders = tree_entries()
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"ARCHITECTURE.md names what does not exist: {missing}"
    for parent, token in placeholders.items():
        named = {p for p in paths if p.startswith(parent) and p.count("/") == parent.count("/") + 1}
        others = [
            d for d in (ROOT / parent).iterdir() if d.is_dir() and f"{parent}{d.name}/" not in named
        ]
        assert others, f"{parent}{token} stands for no folder"


def test_every_folder_is_in_the_tree() -> None:
    paths, placeholders = tree_entries()
    assert "tests/" in paths
    unlisted = []
    for folder in sorted(tracked_folders()):
        if folder in paths:
            continue
        parent = folder[: folder.rstrip("/").rfind("/") + 1]
        if parent in placeholders:
            continue
        if any(folder.startswith(f"{p}{t}") for p, t in placeholders.items()):
            continue  # inside a placeholder's folder: <venue>/ covers what it holds
        unlisted.append(folder)
    assert not unlisted, f"folders missing from ARCHITECTURE.md's tree: {unlisted}"


def test_the_documents_are_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) < 200
    assert len((ROOT / "ARCHITECTURE.md").read_text().splitlines()) < 300


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", doc.read_text(), flags=re.S | re.M)
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}


DOCS = [
    ROOT / "README.md",
    ROOT / "ARCHITECTURE.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "docs" / "decisions").glob("*.md")),
]


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    text = re.sub(r"^```.*?^```", "", doc.read_text(), flags=re.S | re.M)
    for url in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", url):
            continue
        path, _, anchor = url.partition("#")
        target = (doc.parent / path).resolve() if path else doc
        assert target.exists(), f"{doc.name}: {url}"
        if anchor and target.suffix == ".md":
            assert anchor in anchors(target), f"{doc.name}: {url}: no such heading"


def test_the_engine_api_page_is_generated_and_current() -> None:
    """docs/engine-api.md is what `make docs` (tools/api_docs.py) writes from the stub."""
    from tools import api_docs

    committed = (ROOT / "docs" / "engine-api.md").read_text()
    assert committed == api_docs.render(), "docs/engine-api.md is stale: run `make docs`"


def test_the_benchmarks_page_is_generated_from_the_history_and_current() -> None:
    """docs/benchmarks.md is what `make bench-page` (tools/bench_page.py) writes from
    docs/benchmarks/history.json, and the history is laid out as the tool writes it."""
    from tools import bench_page

    h = bench_page.load()
    committed = (ROOT / "docs" / "benchmarks.md").read_text()
    assert committed == bench_page.render(h), "docs/benchmarks.md is stale: run `make bench-page`"
    assert bench_page.HISTORY.read_text() == bench_page.dumps(h)
    ids = [e["id"] for e in h["entries"]]
    assert len(set(ids)) == len(ids)
    assert {e["bench"] for e in h["entries"]} <= {b["key"] for b in h["benches"]}
    # every entry is dated and oldest first (a new run is appended at the end)
    when = [(e["date"] or "", e["time"] or "") for e in h["entries"]]
    assert all(d for d, _ in when) and [d for d, _ in when] == sorted(d for d, _ in when)


def test_a_new_run_joins_the_history_and_becomes_the_pages_latest(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tools import bench_page

    h = bench_page.load()
    before = len(h["entries"])
    e = bench_page.run_entry(
        "goals",
        "One `make bench-goals` run",
        "the 2-core machine, idle",
        ("goal", "measured"),
        [("replay, headless", "151x real time")],
        commit="abc1234",
        now=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
    )
    bench_page.append(h, e)
    bench_page.save(h, tmp_path / "history.json", tmp_path / "page.md")
    again = bench_page.load(tmp_path / "history.json")
    assert len(again["entries"]) == before + 1 and again["entries"][-1] == e
    assert bench_page.latest(again, "goals") == e
    page = (tmp_path / "page.md").read_text()
    goals = page.split("## Issue 38's goals", 1)[1].split("\n## ", 1)[0]
    assert "`abc1234`" in goals and "2030-01-02 03:04" in goals
    assert "| replay, headless | 151x real time |" in goals
    assert "the 2-core machine, idle" in goals
    with pytest.raises(ValueError, match="unknown bench"):
        bench_page.append(h, {**e, "bench": "nope"})
