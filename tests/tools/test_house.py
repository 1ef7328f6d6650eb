"""tools/house.py measures from the source alone: class sizes and methods, inheritance depth
resolved through imports, dynamic getattr calls, and the limits ``--check`` holds. Each test
writes a small synthetic tree into tmp_path; nothing of the project is imported."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest

from tools import house


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


SIZES = """
class Big:
    x: int = 1

    def a(self) -> None:
        pass

    async def b(self) -> None:
        pass

    @property
    def c(self) -> int:
        return 1

    class Inner:
        def d(self) -> None:
            pass

        def e(self) -> None:
            pass


def f() -> None:
    class Local:
        def g(self) -> None:
            pass
"""


def test_class_lines_and_methods(tmp_path: Path) -> None:
    root = write(tmp_path, {"arbscope/__init__.py": "", "arbscope/sizes.py": SIZES})
    classes = house.Project(root).classes
    big = classes["arbscope.sizes.Big"]
    assert (big.lineno, big.lines, big.methods) == (1, 19, 3)  # a, b, the property c
    inner = classes["arbscope.sizes.Big.Inner"]
    assert (inner.lines, inner.methods) == (6, 2)
    local = classes["arbscope.sizes.f.<locals>.Local"]
    assert (local.lines, local.methods) == (3, 1)


TWO_MODULES = {
    "arbscope/__init__.py": "from arbscope.base import Root as Root\n",
    "arbscope/base.py": """
        from typing import Generic, Protocol, TypeVar

        T = TypeVar("T")

        class Root(Generic[T]):
            pass

        class Port(Protocol):
            pass

        class Fail(Exception):
            pass
        """,
    "arbscope/mid.py": """
        from abc import ABC

        from arbscope.base import Port, Root

        class Mid(Root[int], ABC):
            pass

        class Impl(Port):
            pass
        """,
    "arbscope/top.py": """
        import arbscope.mid as m
        from . import mid

        class Top(m.Mid):
            pass

        class Also(mid.Mid):
            pass
        """,
    "arbscope/sub/__init__.py": "",
    "arbscope/sub/leaf.py": """
        import arbscope.top
        from .. import Root
        from ..top import Top as Upper
        from feeds.thing import Thing
        from somewhere import Foreign

        class Leaf(Upper):
            pass

        class Dotted(arbscope.top.Also):
            pass

        class Reexported(Root):
            pass

        class FromFeeds(Thing):
            pass

        class Outside(Foreign):
            pass
        """,
    "feeds/__init__.py": "",
    "feeds/thing.py": """
        from arbscope.base import Root

        class Thing(Root):
            pass
        """,
}


def test_depth_resolves_through_imports(tmp_path: Path) -> None:
    project = house.Project(write(tmp_path, TWO_MODULES))

    def depth(key: str) -> int:
        return len(project.chain(key))

    assert depth("arbscope.base.Root") == 1
    assert depth("arbscope.base.Port") == 1  # Protocol is no project class
    assert depth("arbscope.base.Fail") == 1  # nor is Exception
    assert project.chain("arbscope.mid.Mid") == ["arbscope.mid.Mid", "arbscope.base.Root"]
    assert depth("arbscope.mid.Impl") == 2
    assert depth("arbscope.top.Top") == 3  # import ... as m; m.Mid
    assert depth("arbscope.top.Also") == 3  # from . import mid; mid.Mid
    assert project.chain("arbscope.sub.leaf.Leaf") == [
        "arbscope.sub.leaf.Leaf",
        "arbscope.top.Top",
        "arbscope.mid.Mid",
        "arbscope.base.Root",
    ]
    assert depth("arbscope.sub.leaf.Dotted") == 4  # import a.b; a.b.Also
    assert depth("arbscope.sub.leaf.Reexported") == 2  # through the package's re-export
    assert depth("arbscope.sub.leaf.FromFeeds") == 3  # feeds is the project too
    assert depth("arbscope.sub.leaf.Outside") == 1


def test_depth_report_lists_chains_over_two(tmp_path: Path) -> None:
    report = house.measure(write(tmp_path, TWO_MODULES))
    assert report["max_depth"] == 4
    deep = {d["class"]: d["depth"] for d in house._rows(report["deep"])}
    assert deep == {
        "arbscope.top.Top": 3,
        "arbscope.top.Also": 3,
        "arbscope.sub.leaf.Leaf": 4,
        "arbscope.sub.leaf.Dotted": 4,
        "arbscope.sub.leaf.FromFeeds": 3,
    }  # feeds.thing.Thing is not measured: only arbscope's classes are


def test_import_cycle_and_self_base_end(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "arbscope/__init__.py": "",
            "arbscope/a.py": "from arbscope.b import X\n\nclass A(X):\n    pass\n",
            "arbscope/b.py": "from arbscope.a import X\n",
        },
    )
    project = house.Project(root)
    assert project.classes["arbscope.a.A"].bases == []
    assert project.chain("arbscope.a.A") == ["arbscope.a.A"]


GETATTRS = """
def f(x, name, k):
    getattr(x, "a")
    getattr(x, "a", None)
    getattr(x, name)
    getattr(x, name, None)
    getattr(x, f"on_{k}")
    getattr(x, "on_" + k)
    x.getattr(x, name)
    getattr(x)
"""


def test_dynamic_getattr() -> None:
    assert house.dynamic_getattr(ast.parse(textwrap.dedent(GETATTRS))) == [5, 6, 7, 8]


def big_class(methods: int, pad: int = 0) -> str:
    body = "".join(f"    def m{i}(self) -> None:\n        pass\n" for i in range(methods))
    return "class C:\n" + body + "    x = 1\n" * pad


CLEAN = {
    "arbscope/__init__.py": "",
    "arbscope/session.py": "class S:\n    def run(self) -> None:\n        getattr(self, 'x')\n",
    "feeds/__init__.py": "",
    "feeds/clients/__init__.py": "",
    "feeds/clients/tls.py": "def g(o, n):\n    return getattr(o, n)\n",
}


def test_measure_and_check_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write(tmp_path, CLEAN)
    report = house.measure(root)
    assert report["session_lines"] == 3
    assert report["classes_over"] == []
    assert report["frame_getattr_total"] == 0
    assert report["scope_getattr"] == {"feeds/clients/tls.py": 1}  # off the frame path
    assert house.broken(report) == []
    out = tmp_path / "house.json"
    assert house.main(["--root", str(root), "--check", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["session_lines"] == 3
    assert "session.py lines: 3" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("files", "broken"),
    [
        ({"arbscope/session.py": "x = 1\n" * 501}, "arbscope/session.py: 501 lines > 500"),
        ({"arbscope/big.py": big_class(31)}, "arbscope.big.C: 63 lines, 31 methods"),
        ({"arbscope/long.py": big_class(1, pad=400)}, "arbscope.long.C: 403 lines, 1 methods"),
        (
            {"arbscope/ingest.py": "def f(o, n):\n    return getattr(o, n)\n"},
            "frame path: 1 dynamic getattr calls > 0",
        ),
        (
            {
                "arbscope/deep.py": "class A:\n    pass\nclass B(A):\n    pass\nclass C(B):\n"
                "    pass\n"
            },
            "arbscope.deep.C: depth 3 > 2",
        ),
    ],
)
def test_check_fails_on_each_limit(
    tmp_path: Path, files: dict[str, str], broken: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write(tmp_path, {**CLEAN, **files})
    assert house.broken(house.measure(root)) == [broken]
    assert house.main(["--root", str(root)]) == 0  # without --check, always 0
    assert house.main(["--root", str(root), "--check"]) == 1
    assert f"limit broken: {broken}" in capsys.readouterr().out


def test_limits_at_the_edge_hold(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            **CLEAN,
            "arbscope/session.py": "x = 1\n" * 500,
            "arbscope/big.py": big_class(30),
            "arbscope/long.py": big_class(1, pad=397),  # 400 lines
            "arbscope/deep.py": "class A:\n    pass\nclass B(A):\n    pass\n",
        },
    )
    assert house.broken(house.measure(root)) == []
