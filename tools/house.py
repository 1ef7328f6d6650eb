"""Measure what the kernel refactor must hold (its issue's "Done when"), from the source alone.

Four figures, each read from the files as text and AST (nothing of the project is imported):

1. ``arbscope/session.py``'s total line count;
2. every class of ``arbscope/**/*.py``: its lines (``end_lineno - lineno + 1``) and its methods
   (``def``/``async def`` directly in the class body, properties included);
3. the inheritance depth of those classes: the longest chain of bases that resolve, through
   each module's imports, to classes defined in the project (:data:`PROJECT`); a base found
   nowhere in the project (``Protocol``, ``ABC``, ``Enum``, ``Exception``, a library's class)
   ends the chain, so a class with no project base has depth 1;
4. ``getattr(obj, name)`` calls whose name is not a string literal (dispatch by a computed
   name), per file of the frame path (:data:`FRAME_PATH`) and in total over
   :data:`GETATTR_SCOPE`.

``python -m tools.house`` prints them; ``--json PATH`` also writes them as JSON; ``--check``
exits 1 when a limit (:data:`LIMITS`) is broken (the exit code is 0 otherwise, always without
``--check``).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

# The packages whose classes count as the project's when resolving bases.
PROJECT = ("arbscope", "feeds", "storage", "tui", "engine_rs")
# The package whose classes are measured (sizes, methods, depth).
MEASURED = "arbscope"
# The frame path: the files a frame crosses from a feed's client to the session. None of
# them may dispatch through ``getattr`` with a computed name once the refactor lands.
FRAME_PATH = (
    "arbscope/inputs.py",
    "arbscope/ingest.py",
    "arbscope/timing.py",
    "feeds/clients/pubsub.py",
    "feeds/clients/yellowstone.py",
    "feeds/clients/pool.py",
    "arbscope/session.py",
)
# Where dynamic getattr calls are counted in total (directories, relative to the root).
GETATTR_SCOPE = ("arbscope", "feeds/clients")
SESSION = "arbscope/session.py"
TOP = 10

LIMITS = {
    "session_lines": 500,  # arbscope/session.py, at most
    "class_lines": 400,  # a class, at most
    "class_methods": 30,  # a class, at most
    "depth": 2,  # inheritance depth within the project, at most
    "frame_getattr": 0,  # dynamic getattr calls on the frame path, in all
}

SKIP_DIRS = {"target", "__pycache__", "node_modules"}


@dataclass
class ClassInfo:
    """One class: where it is, its size and its project bases (as resolved)."""

    module: str
    qualname: str
    path: str
    lineno: int
    lines: int
    methods: int
    bases: list[str] = field(default_factory=list)  # keys of project classes

    @property
    def key(self) -> str:
        return f"{self.module}.{self.qualname}"


@dataclass
class Module:
    """A parsed module: its classes and the names its top level binds."""

    name: str
    path: str
    is_package: bool
    tree: ast.Module
    # local name -> ("module", dotted module) or ("from", dotted module, attribute)
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)  # top-level, by name


def module_name(rel: Path) -> tuple[str, bool]:
    """``a/b/c.py`` -> (``a.b.c``, False); ``a/b/__init__.py`` -> (``a.b``, True)."""
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def iter_sources(root: Path, packages: tuple[str, ...]) -> list[Path]:
    """The ``.py`` files under ``root/<package>`` for each package, sorted, build dirs left out."""
    out: list[Path] = []
    for pkg in packages:
        base = root / pkg
        if not base.is_dir():
            continue
        for p in base.rglob("*.py"):
            rel = p.relative_to(root)
            if not SKIP_DIRS.intersection(rel.parts) and not any(
                part.startswith(".") for part in rel.parts
            ):
                out.append(p)
    return sorted(out)


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of a module's top level, looking into ``if``/``try``/``with`` blocks."""
    out: list[ast.stmt] = []
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, ast.If):
            out += _top_level(stmt.body) + _top_level(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            out += _top_level(stmt.body) + _top_level(stmt.orelse) + _top_level(stmt.finalbody)
            for h in stmt.handlers:
                out += _top_level(h.body)
        elif isinstance(stmt, ast.With):
            out += _top_level(stmt.body)
    return out


def _absolute(mod: Module, node: ast.ImportFrom) -> str:
    """The dotted module an ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    pkg = mod.name.split(".") if mod.is_package else mod.name.split(".")[:-1]
    if node.level > 1:
        pkg = pkg[: len(pkg) - (node.level - 1)]
    return ".".join([*pkg, *([node.module] if node.module else [])])


def parse_module(root: Path, path: Path) -> Module:
    rel = path.relative_to(root)
    name, is_package = module_name(rel)
    mod = Module(name, rel.as_posix(), is_package, _parse(path))
    for stmt in _top_level(mod.tree.body):
        if isinstance(stmt, ast.ClassDef):
            mod.classes[stmt.name] = stmt
        elif isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.asname:
                    mod.imports[a.asname] = ("module", a.name)
                else:  # ``import a.b`` binds ``a``
                    head = a.name.split(".")[0]
                    mod.imports[head] = ("module", head)
        elif isinstance(stmt, ast.ImportFrom):
            src = _absolute(mod, stmt)
            for a in stmt.names:
                if a.name != "*":
                    mod.imports[a.asname or a.name] = ("from", src, a.name)
    return mod


def count_methods(node: ast.ClassDef) -> int:
    return sum(isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) for s in node.body)


class Project:
    """The project's modules, and the resolution of a class's bases to project classes."""

    def __init__(self, root: Path, packages: tuple[str, ...] = PROJECT) -> None:
        self.root = root
        self.modules: dict[str, Module] = {}
        for p in iter_sources(root, packages):
            m = parse_module(root, p)
            self.modules[m.name] = m
        self.classes: dict[str, ClassInfo] = {}
        for m in self.modules.values():
            self._collect(m, m.tree.body, [], [])

    # -- classes ----------------------------------------------------------------------------

    def _collect(
        self, mod: Module, body: list[ast.stmt], prefix: list[str], scopes: list[dict[str, str]]
    ) -> None:
        """Record every class of ``body`` (nested ones too), its bases resolved.

        ``scopes`` are the classes the enclosing class and function bodies define, innermost
        first: a nested class's base may name one of them; the module's own names come last.
        """
        if prefix:
            local = {
                s.name: ".".join([mod.name, *prefix, s.name])
                for s in _top_level(body)
                if isinstance(s, ast.ClassDef)
            }
            scopes = [local, *scopes]
        for stmt in body:
            self._visit(mod, stmt, prefix, scopes)

    def _visit(
        self, mod: Module, stmt: ast.stmt, prefix: list[str], scopes: list[dict[str, str]]
    ) -> None:
        if isinstance(stmt, ast.ClassDef):
            qual = [*prefix, stmt.name]
            info = ClassInfo(
                module=mod.name,
                qualname=".".join(qual),
                path=mod.path,
                lineno=stmt.lineno,
                lines=(stmt.end_lineno or stmt.lineno) - stmt.lineno + 1,
                methods=count_methods(stmt),
            )
            for b in stmt.bases:
                key = self.resolve_expr(mod, b, scopes)
                if key is not None and key not in info.bases:
                    info.bases.append(key)
            self.classes[info.key] = info
            self._collect(mod, stmt.body, qual, scopes)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self._collect(mod, stmt.body, [*prefix, stmt.name, "<locals>"], scopes)
        else:  # compound statements: if / for / while / try / with / match bodies
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.stmt):
                    self._visit(mod, child, prefix, scopes)
                elif isinstance(child, ast.ExceptHandler | ast.match_case):
                    for s in child.body:
                        self._visit(mod, s, prefix, scopes)

    # -- resolution -------------------------------------------------------------------------

    def resolve_expr(
        self, mod: Module, expr: ast.expr, scopes: list[dict[str, str]] | None = None
    ) -> str | None:
        """The key of the project class ``expr`` (a base) names in ``mod``, or None."""
        if isinstance(expr, ast.Subscript):  # Base[T]
            expr = expr.value
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.insert(0, expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        for scope in scopes or []:
            if expr.id in scope:
                return scope[expr.id] if not parts else None
        return self._lookup(mod.name, [expr.id, *parts], set())

    def _lookup(self, module: str, parts: list[str], seen: set[tuple[str, str]]) -> str | None:
        """The project class ``parts`` names from the top level of ``module`` (or None).

        ``parts[0]`` is a class of the module, a name its imports bind, or a submodule of it
        (a package); the rest are attributes, followed through modules and re-exports.
        """
        if not parts:
            return None  # a module, not a class
        head, rest = parts[0], parts[1:]
        if (module, head) in seen:  # an import cycle
            return None
        seen.add((module, head))
        mod = self.modules.get(module)
        if mod is not None and head in mod.classes:
            return f"{module}.{head}" if not rest else None
        bound = mod.imports.get(head) if mod is not None else None
        if bound is None:  # a submodule, reached as an attribute of its package
            sub = f"{module}.{head}"
            return self._lookup(sub, rest, seen) if self._is_module(sub) else None
        if bound[0] == "module":
            return self._lookup(bound[1], rest, seen) if self._is_module(bound[1]) else None
        src, name = bound[1], bound[2]
        source = self.modules.get(src)
        binds = source is not None and (name in source.classes or name in source.imports)
        if not binds and self._is_module(f"{src}.{name}"):  # ``from pkg import submodule``
            return self._lookup(f"{src}.{name}", rest, seen)
        return self._lookup(src, [name, *rest], seen)

    def _is_module(self, dotted: str) -> bool:
        """Whether ``dotted`` is a project module or package (namespace packages too)."""
        return dotted in self.modules or any(m.startswith(dotted + ".") for m in self.modules)

    def tree(self, rel: str) -> ast.Module:
        """The AST of the file ``rel`` (relative to the root): parsed once, reused."""
        known = {m.path: m.tree for m in self.modules.values()}
        return known[rel] if rel in known else _parse(self.root / rel)

    # -- depth ------------------------------------------------------------------------------

    def chain(self, key: str, _stack: tuple[str, ...] = ()) -> list[str]:
        """The longest chain of project classes from ``key`` up its bases (``key`` first)."""
        if key in _stack or key not in self.classes:
            return []
        best: list[str] = []
        for b in self.classes[key].bases:
            c = self.chain(b, (*_stack, key))
            if len(c) > len(best):
                best = c
        return [key, *best]


def dynamic_getattr(tree: ast.AST) -> list[int]:
    """Line numbers of ``getattr(obj, name, ...)`` calls whose ``name`` is no string literal."""
    out: list[int] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and not (isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))
        ):
            out.append(node.lineno)
    return sorted(out)


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def file_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def measure(root: Path) -> dict[str, object]:
    """Every figure of the house report for the tree at ``root``, as plain data."""
    project = Project(root)
    measured = sorted(
        (c for c in project.classes.values() if c.module.split(".")[0] == MEASURED),
        key=lambda c: (-c.lines, c.key),
    )
    over = [
        c
        for c in measured
        if c.lines > LIMITS["class_lines"] or c.methods > LIMITS["class_methods"]
    ]
    chains = {c.key: project.chain(c.key) for c in measured}
    deep = sorted(
        ((k, ch) for k, ch in chains.items() if len(ch) > LIMITS["depth"]),
        key=lambda kc: (-len(kc[1]), kc[0]),
    )
    frame: dict[str, list[int]] = {}
    for rel in FRAME_PATH:
        p = root / rel
        frame[rel] = dynamic_getattr(project.tree(rel)) if p.is_file() else []
    scope: dict[str, list[int]] = {}
    for p in iter_sources(root, GETATTR_SCOPE):
        rel = p.relative_to(root).as_posix()
        if hits := dynamic_getattr(project.tree(rel)):
            scope[rel] = hits
    session = root / SESSION

    def row(c: ClassInfo) -> dict[str, object]:
        return {
            "class": c.key,
            "path": c.path,
            "line": c.lineno,
            "lines": c.lines,
            "methods": c.methods,
        }

    return {
        "session_lines": file_lines(session) if session.is_file() else 0,
        "classes": len(measured),
        "classes_over": [row(c) for c in over],
        "top_by_lines": [row(c) for c in measured[:TOP]],
        "max_depth": max((len(ch) for ch in chains.values()), default=0),
        "deep": [{"class": k, "depth": len(ch), "chain": ch} for k, ch in deep],
        "frame_getattr": {k: len(v) for k, v in frame.items()},
        "frame_getattr_lines": frame,
        "frame_getattr_total": sum(len(v) for v in frame.values()),
        "scope_getattr": {k: len(v) for k, v in scope.items()},
        "scope_getattr_total": sum(len(v) for v in scope.values()),
        "limits": dict(LIMITS),
    }


def broken(report: dict[str, object]) -> list[str]:
    """The limits ``report`` breaks, one sentence each (empty: the house holds)."""
    out: list[str] = []
    lines = report["session_lines"]
    assert isinstance(lines, int)
    if lines > LIMITS["session_lines"]:
        out.append(f"{SESSION}: {lines} lines > {LIMITS['session_lines']}")
    for c in _rows(report["classes_over"]):
        out.append(f"{c['class']}: {c['lines']} lines, {c['methods']} methods")
    for d in _rows(report["deep"]):
        out.append(f"{d['class']}: depth {d['depth']} > {LIMITS['depth']}")
    total = report["frame_getattr_total"]
    assert isinstance(total, int)
    if total > LIMITS["frame_getattr"]:
        out.append(f"frame path: {total} dynamic getattr calls > {LIMITS['frame_getattr']}")
    return out


def _size(row: dict[str, object]) -> str:
    return f"{row['lines']:>5} lines {row['methods']:>3} methods"


def _rows(value: object) -> list[dict[str, object]]:
    assert isinstance(value, list)
    return value


def render(report: dict[str, object]) -> str:
    """The compact, human form of ``report``."""
    lim = LIMITS
    out = [f"session.py lines: {report['session_lines']} (limit {lim['session_lines']})"]
    over = _rows(report["classes_over"])
    out.append(
        f"classes in {MEASURED}/: {report['classes']}; over {lim['class_lines']} lines "
        f"or {lim['class_methods']} methods: {len(over)}"
    )
    for c in over:
        out.append(f"  {_size(c)}  {c['class']}  ({c['path']})")
    out.append(f"top {TOP} classes by lines:")
    for c in _rows(report["top_by_lines"]):
        out.append(f"  {_size(c)}  {c['class']}")
    deep = _rows(report["deep"])
    out.append(
        f"max inheritance depth: {report['max_depth']} (limit {lim['depth']}); "
        f"classes over: {len(deep)}"
    )
    for d in deep:
        chain = d["chain"]
        assert isinstance(chain, list)
        out.append(f"  {d['depth']}  " + " -> ".join(chain))
    frame = report["frame_getattr"]
    lines = report["frame_getattr_lines"]
    assert isinstance(frame, dict) and isinstance(lines, dict)
    out.append(f"dynamic getattr on the frame path: {report['frame_getattr_total']}")
    for path, n in frame.items():
        at = ", ".join(str(x) for x in lines[path])
        out.append(f"  {n:>3}  {path}" + (f"  (lines {at})" if at else ""))
    scope = report["scope_getattr"]
    assert isinstance(scope, dict)
    out.append(
        f"dynamic getattr over {', '.join(s + '/' for s in GETATTR_SCOPE)}: "
        f"{report['scope_getattr_total']}"
    )
    for path, n in scope.items():
        out.append(f"  {n:>3}  {path}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.house", description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path("."), help="the repository (default: .)")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when a limit is broken")
    args = ap.parse_args(argv)
    report = measure(args.root)
    sys.stdout.write(render(report) + "\n")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.check:
        problems = broken(report)
        for p in problems:
            sys.stdout.write(f"limit broken: {p}\n")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
