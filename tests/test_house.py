"""The house rules a reader can count on (issue 36): no module reads another module's
private attributes, the session loads no simulator, NATS or metrics module, and a live
session built from a configuration loads no simulator module.

The import contracts themselves are ``[tool.importlinter]`` in pyproject.toml (make lint);
``tests/feeds/sim/test_sim_room.py`` runs a live session to its updates and checks the same."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.processes import run_python

SHIPPED = ("engine_rs", "feeds", "storage", "tui", "themes", "arbscope")

# A private attribute of a third-party object that cannot be reached otherwise: (file,
# expression) -> why. (Elsewhere there is a public way: aiohttp's bound port is
# ``AppRunner.addresses``, a JetStream context's connection is passed along).
THIRD_PARTY: dict[tuple[str, str], str] = {
    ("feeds/clients/yellowstone.py", "call._cython_call"): (
        "grpc.aio's Core call, wrapped to keep the server's status over a failed write"
        " (grpc/grpc#36066); strike off when grpcio reports it itself"
    ),
}

# Reads across modules inside the simulator (feeds/sim, the venues' simulated programs in
# feeds/venues/<venue>/sim.py) and the engine's twin, parts other work of issue 36 owns:
# listed so that no new one creeps in meanwhile, and so that each one fixed there is
# struck off here (a stale entry fails too).
ELSEWHERE: dict[tuple[str, str], str] = {
    ("engine_rs/python/graph/mints.py", "_t22._fee_of"): "the twin's Token-2022 helper",
    ("engine_rs/python/ingest.py", "self._dedup._retract"): "the twin's deduper",
    ("engine_rs/python/ingest.py", "self._graph._upsert_venue"): "the twin's graph",
    ("feeds/sim/chain.py", "w._touched"): "the simulator's world",
    ("feeds/sim/chain.py", "w._trade_size"): "the simulator's world",
    ("feeds/sim/chain.py", "w._quote"): "the simulator's world",
    ("feeds/sim/server.py", "self.world._touched"): "the simulator's world",
    ("feeds/sim/server.py", "site._server"): "aiohttp's site (AppRunner.addresses has it)",
    ("feeds/sim/server.py", "conn.ws._req"): "aiohttp's WebSocketResponse request",
    ("feeds/venues/manifest/sim.py", "world._touched"): "the simulator's world",
    ("feeds/venues/meteora_dlmm/sim.py", "world._touched"): "the simulator's world",
    ("feeds/venues/openbook_v2/sim.py", "world._touched"): "the simulator's world",
    ("feeds/venues/orca_whirlpool/sim.py", "world._touched"): "the simulator's world",
    ("feeds/venues/raydium_clmm/sim.py", "world._touched"): "the simulator's world",
    ("feeds/venues/raydium_cpmm/sim.py", "world._touched"): "the simulator's world",
}


def _defined(tree: ast.AST) -> set[str]:
    """Every name a module defines: functions, classes, variables, attributes it assigns
    its own objects (``self._x = ...``), parameters, imports."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            obj = node.value  # its own objects' attributes (not a private one set on another's)
            if isinstance(obj, ast.Name) and obj.id in ("self", "cls"):
                out.add(node.attr)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
    return out


def private_reads(path: Path, source: str) -> list[tuple[int, str]]:
    """``x._name`` in ``source``, read or set (not a dunder), whose object is not
    ``self``, ``cls`` or ``super()`` and whose name the module does not define itself:
    (line, expression)."""
    tree = ast.parse(source, str(path))
    defined = _defined(tree)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            continue
        obj = node.value
        if isinstance(obj, ast.Name) and obj.id in ("self", "cls"):
            continue
        if isinstance(obj, ast.Call) and isinstance(obj.func, ast.Name) and obj.func.id == "super":
            continue
        if name in defined:
            continue
        out.append((node.lineno, ast.unparse(node)))
    return out


def shipped_sources() -> list[Path]:
    out = []
    for pkg in SHIPPED:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            rel = p.relative_to(ROOT)
            if "target" in rel.parts or p.name.endswith("_pb2.py"):
                continue
            out.append(p)
    return out


def test_the_check_sees_a_private_read_across_modules() -> None:
    """What the walk flags and what it lets be."""
    src = (
        "import other\n"
        "class A:\n"
        "    def __init__(self, b):\n"
        "        self._mine = 1\n"
        "        self.b = b\n"
        "    def f(self, o):\n"
        "        o._set = 1\n"
        "        return self._mine, o._mine, super()._x, o.__dict__, other._theirs, o._hidden\n"
    )
    assert private_reads(Path("x.py"), src) == [
        (7, "o._set"),
        (8, "other._theirs"),
        (8, "o._hidden"),
    ]


@pytest.mark.slow
def test_no_module_reads_another_modules_private_attributes() -> None:
    found: dict[tuple[str, str], list[int]] = {}
    for path in shipped_sources():
        rel = path.relative_to(ROOT).as_posix()
        for line, expr in private_reads(path, path.read_text()):
            found.setdefault((rel, expr), []).append(line)
    allowed = THIRD_PARTY | ELSEWHERE
    new = {k: v for k, v in found.items() if k not in allowed}
    assert not new, "private attributes read across modules (use or add a public API):\n" + (
        "\n".join(f"  {f}:{lines[0]}: {expr}" for (f, expr), lines in sorted(new.items()))
    )
    stale = sorted(k for k in allowed if k not in found)
    assert not stale, f"allowed reads no longer there (strike them off): {stale}"


PROBE = """
import json, sys
import arbscope.session
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("arbscope", "nats", "feeds"))
print(json.dumps(loaded))
"""


@pytest.mark.slow
def test_the_session_loads_no_fleet_metrics_or_simulator() -> None:
    """The import contract at run time: ``arbscope.session`` alone (a replay's, a live
    one's) loads no NATS client, no metrics server and no simulator module."""
    p = run_python(["-c", PROBE])
    assert p.returncode == 0, p.stderr
    loaded = set(json.loads(p.stdout.strip().splitlines()[-1]))
    assert "arbscope.session" in loaded
    banned = {"arbscope.fleet", "arbscope.metrics", "arbscope.sources", "nats"}
    banned |= {m for m in loaded if m.startswith("feeds.sim") or m.endswith(".sim")}
    assert not loaded & banned, sorted(loaded & banned)


LIVE = """
import json, sys
from arbscope.cli import build_session, parser, resolve_config
args = parser().parse_args(sys.argv[1:])
s = build_session(resolve_config(args))
sim = sorted(m for m in sys.modules if m.startswith("feeds.sim") or m.endswith(".sim"))
print(json.dumps({"source": s.source, "sim": sim, "embedded": "arbscope.sources.embedded" in sys.modules}))
"""


@pytest.mark.slow
def test_a_live_session_loads_no_simulator(tmp_path: Path) -> None:
    """A session on configured endpoints, built as ``arbscope run --ws ...`` builds it:
    no simulator module is loaded, nor the embedded simulator's adapter
    (``arbscope.sources.embedded``, the one door of the wiring into it)."""
    pools = tmp_path / "pools.toml"
    pools.write_text(
        'base_mints = ["So11111111111111111111111111111111111111112"]\n'
        '[[pool]]\naddress = "Czfq3xZZDmsdGdUyrNLtRhGc47cXcZtLG4crryfu44zE"\n'
        'kind = "whirlpool"\n'
    )
    run = ["run", "--ws", "ws://127.0.0.1:1", "--rpc", "http://127.0.0.1:1"]
    run += ["--pools", str(pools), "--no-record", "--no-metrics"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBSCOPE_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"))
    p = run_python(["-c", LIVE, *run], env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["source"] == "live ×1" and not out["embedded"]
    assert out["sim"] == [], out["sim"]


def test_the_house_holds_its_limits() -> None:
    """Issue 63's limits on the tree itself (``python -m tools.house``): session.py at
    most 500 lines, no class of arbscope/ over 400 lines or 30 methods, inheritance at most
    2 deep, no dynamic getattr on the frame path."""
    from tools import house

    assert house.broken(house.measure(ROOT)) == []
