"""`python -m tools.api_docs` (`make docs`): docs/engine-api.md from the engine's stub.

Reads ``engine_rs/_engine.pyi`` with :mod:`ast` (nothing is imported, nothing is built):
every public name of its ``__all__``, grouped by the stub's sections (``# --- area ---``
comments), with its signature and its docstring. The skin is flat; a venue's names are
shown as its public namespace has them (``raydium_clmm.swap`` for the skin's
``raydium_clmm_swap``: the ``API`` table of each twin venue module, read with ast too),
one section per venue. A docstring is the stub's own when it has one, else the
pure-Python twin's (``engine_rs/python``, the same API; followed through its imports, a
class's bases included), else the record's (``engine_rs/records.py``).
``--check`` exits 1 when the committed file differs (``tests/test_architecture.py`` runs
the same comparison).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUB = ROOT / "engine_rs" / "_engine.pyi"
TWIN = ROOT / "engine_rs" / "python" / "__init__.py"
VENUES = ROOT / "engine_rs" / "python" / "venues"
OUT = ROOT / "docs" / "engine-api.md"

SECTION = re.compile(r"^# --- (.+?) -*$")
NAMED_SECTION = re.compile(r"^# ([A-Z][\w-]*) \(\w+\.rs\)")

Def = ast.FunctionDef | ast.ClassDef


@dataclass
class Section:
    title: str
    entries: list[str] = field(default_factory=list)


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


@dataclass(frozen=True)
class Public:
    """Where a flat name of the skin is public: its venue's namespace and name there."""

    venue: str
    name: str
    module: Path  # the twin venue module whose API table lists it


def venue_apis() -> dict[str, Public]:
    """The skin's flat name -> its place in a venue's namespace, from every twin venue
    module's ``API`` table (``engine_rs/python/venues/<venue>.py`` or its package)."""
    found: dict[str, Public] = {}
    for path in sorted([*VENUES.glob("*.py"), *VENUES.glob("*/__init__.py")]):
        venue = path.parent.name if path.name == "__init__.py" else path.stem
        for node in parse(path).body:
            if not isinstance(node, ast.Assign) or ast.unparse(node.targets[0]) != "API":
                continue
            # API = base.api("""table"""): a line a public name, then its definition's
            # name when that is another (``venues.base.api``)
            table = ast.literal_eval(node.value.args[0]) if isinstance(node.value, ast.Call) else ""
            for row in (line.split() for line in table.splitlines()):
                if row:
                    found[row[-1]] = Public(venue, row[0], path)
    return found


class Twin:
    """Docstrings of the twin's definitions, found through its modules' imports."""

    def __init__(self) -> None:
        self._modules: dict[Path, ast.Module] = {}

    def _module(self, path: Path) -> ast.Module | None:
        if path not in self._modules:
            if not path.exists():
                return None
            self._modules[path] = parse(path)
        return self._modules[path]

    @staticmethod
    def _target(path: Path, node: ast.ImportFrom) -> Path | None:
        if node.level == 0:
            return None  # outside the package: no docstring of ours there
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        for part in (node.module or "").split("."):
            if part:
                base = base / part
        if (base / "__init__.py").exists():
            return base / "__init__.py"
        file = base.with_suffix(".py")
        return file if file.exists() else None

    def find(self, path: Path, name: str, depth: int = 0) -> tuple[Path, Def] | None:
        """The definition of ``name`` as module ``path`` sees it."""
        module = self._module(path)
        if module is None or depth > 8:
            return None
        for node in module.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
                return path, node
        for node in module.body:
            if isinstance(node, ast.ImportFrom) and any(
                (a.asname or a.name) == name for a in node.names
            ):
                alias = next(a for a in node.names if (a.asname or a.name) == name)
                target = self._target(path, node)
                if target is not None:
                    return self.find(target, alias.name, depth + 1)
        return None

    def doc(self, name: str, where: Path = TWIN) -> str | None:
        found = self.find(where, name)
        return ast.get_docstring(found[1]) if found else None

    def method_doc(self, cls: str, method: str, where: Path = TWIN) -> str | None:
        """A method's docstring, looked for in the class and then its bases."""
        todo = [(where, cls)]
        seen: set[tuple[Path, str]] = set()
        while todo:
            path, name = todo.pop(0)
            found = self.find(path, name)
            if found is None or found in seen:
                continue
            seen.add((found[0], name))
            where, node = found
            if not isinstance(node, ast.ClassDef):
                continue
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == method:
                    return ast.get_docstring(item)
                if (  # a read-only attribute: ``name = Readonly[T]("_name", "its doc")``
                    isinstance(item, ast.Assign)
                    and ast.unparse(item.targets[0]) == method
                    and isinstance(item.value, ast.Call)
                ):
                    docs = [ast.literal_eval(a) for a in item.value.args[1:]]
                    return " ".join(str(docs[0]).split()) if docs else None
            todo += [(where, ast.unparse(b)) for b in node.bases if isinstance(b, ast.Name)]
        return None


def signature(node: ast.FunctionDef, name: str | None = None) -> str:
    args = node.args
    if args.posonlyargs + args.args and (args.posonlyargs + args.args)[0].arg in ("self", "cls"):
        args = ast.arguments(
            posonlyargs=args.posonlyargs[1:] if args.posonlyargs else [],
            args=args.args[1:] if not args.posonlyargs else args.args,
            vararg=args.vararg,
            kwonlyargs=args.kwonlyargs,
            kw_defaults=args.kw_defaults,
            kwarg=args.kwarg,
            defaults=args.defaults,
        )
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{name or node.name}({ast.unparse(args)}){returns}"


def first_paragraph(doc: str) -> str:
    return " ".join(doc.split("\n\n")[0].split())


def is_property(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)


def document_function(node: ast.FunctionDef, twin: Twin, public: Public | None) -> str:
    where, name = (TWIN, node.name) if public is None else (public.module, public.name)
    doc = ast.get_docstring(node) or twin.doc(node.name, where)
    shown = name if public is None else f"{public.venue}.{name}"
    lines = [f"### `{shown}`", "", "```python", f"def {signature(node, name)}", "```", ""]
    if doc:
        lines += [inspect.cleandoc(doc), ""]
    return "\n".join(lines)


def document_class(
    node: ast.ClassDef, classes: dict[str, ast.ClassDef], twin: Twin, public: Public | None
) -> str:
    where, name = (TWIN, node.name) if public is None else (public.module, public.name)
    shown = name if public is None else f"{public.venue}.{name}"
    body: list[ast.stmt] = []
    for base in node.bases:  # a private base of the stub's (Rsi(_Incremental)): its members
        if isinstance(base, ast.Name) and base.id.startswith("_") and base.id in classes:
            body += classes[base.id].body
    body += node.body
    doc = ast.get_docstring(node) or twin.doc(node.name, where)
    lines = [f"### class `{shown}`", ""]
    new = next((i for i in body if isinstance(i, ast.FunctionDef) and i.name == "__new__"), None)
    if new is not None:
        lines += ["```python", signature(new, name).removesuffix(" -> Self"), "```", ""]
    if doc:
        lines += [inspect.cleandoc(doc), ""]
    fields = [i for i in body if isinstance(i, ast.AnnAssign) and isinstance(i.target, ast.Name)]
    if fields:
        shown = ", ".join(f"`{ast.unparse(f.target)}: {ast.unparse(f.annotation)}`" for f in fields)
        lines += [f"Fields: {shown}.", ""]
    members = [
        i
        for i in body
        if isinstance(i, ast.FunctionDef) and (not i.name.startswith("_") or i.name == "__len__")
    ]
    for item in members:
        mdoc = twin.method_doc(node.name, item.name, where)
        tail = f": {first_paragraph(mdoc)}" if mdoc else ""
        if is_property(item):
            returns = ast.unparse(item.returns) if item.returns else "Any"
            lines.append(f"- `{item.name}: {returns}` (property){tail}")
        else:
            lines.append(f"- `{signature(item)}`{tail}")
    if members:
        lines.append("")
    return "\n".join(lines)


def render() -> str:
    source = STUB.read_text()
    module = ast.parse(source)
    public: list[str] = []
    for node in module.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            public = list(ast.literal_eval(node.value))
    starts: list[tuple[int, str]] = []
    for number, line in enumerate(source.splitlines(), 1):
        match = SECTION.match(line) or NAMED_SECTION.match(line)
        if match:
            starts.append((number, match.group(1).strip()))
    twin = Twin()
    apis = venue_apis()
    classes = {n.name: n for n in module.body if isinstance(n, ast.ClassDef)}
    sections: dict[str, Section] = {}
    constants: list[str] = []
    for node in module.body:
        title = next((t for n, t in reversed(starts) if n < node.lineno), "the module")
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            if name in public:
                shown = f"{apis[name].venue}.{apis[name].name}" if name in apis else name
                constants.append(f"- `{shown}: {ast.unparse(node.annotation)}`")
            continue
        if not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.name not in public:
            continue
        if node.name.startswith("_"):
            continue  # in __all__ for the bench, not an API
        place = apis.get(node.name)
        if place is not None:
            title = f"venue: {place.venue}"
        section = sections.setdefault(title, Section(title))
        if isinstance(node, ast.FunctionDef):
            section.entries.append(document_function(node, twin, place))
        else:
            section.entries.append(document_class(node, classes, twin, place))
    out = [
        "# The engine API, generated",
        "",
        "<!-- Written by `python -m tools.api_docs` (`make docs`) from `engine_rs/_engine.pyi`;",
        "     do not edit: tests/test_architecture.py fails when it is stale. -->",
        "",
        "Every public name of the compiled engine (`engine_rs._engine`, the same API as the",
        "pure-Python twin `engine_rs.python`), grouped as the stub groups them, with its",
        "signature and docstring (the stub's, else the twin's). A venue's functions and",
        "classes are in its namespace, one section per venue: `eng.raydium_clmm.swap(...)`",
        "with `eng = engine_rs.backend()`. How to call it and what the numbers mean:",
        "[engine.md](engine.md).",
        "",
        "Contents: " + ", ".join(f"[{s.title}](#{slug(s.title)})" for s in ordered(sections)) + ".",
        "",
    ]
    if constants:
        out += ["## Constants", "", *constants, ""]
    for section in ordered(sections):
        out += [f"## {section.title}", ""]
        out += section.entries
    return "\n".join(out).rstrip() + "\n"


def ordered(sections: dict[str, Section]) -> list[Section]:
    """The stub's areas in its order, then one section per venue, by name."""
    areas = [s for s in sections.values() if not s.title.startswith("venue: ")]
    venues = sorted(
        (s for s in sections.values() if s.title.startswith("venue: ")), key=lambda s: s.title
    )
    return [s for s in areas + venues if s.entries]


def slug(title: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
