"""The same requests and subscriptions sent to two nodes: Agave's own validator and the
simulator over the same market (``arbscope sim --export``), their answers reduced to
shapes (keys, types, error codes and messages) and, where the state is the same, values.

A **probe** is an async function of a :class:`Target` (one node: its RPC and PubSub URLs,
the market's wallets) that sends requests, waits for what it needs (a status, a
notification) and returns named answers: whole JSON-RPC responses, HTTP answers
(:class:`Http`), notifications, and :class:`Exact` values to compare as they are. The
same probe runs on both nodes; :func:`shape` reduces each answer; :func:`compare` says
where the two differ. ``tests/data/node/conformance.json`` holds the node's shapes
(:func:`record`), so a clone without the validator still holds the simulator to them.

What a shape keeps: every key, the JSON type of every value (``int``, ``float``,
``str``, ``bool``, ``null``), a list as the set of its elements' shapes, a string that
is one of the node's enum words (:data:`ENUMS`: ``base64``, ``confirmed``,
``lookupTable``, a parsed instruction's type) as itself, and an error's ``code`` and ``message`` as they are. A probe puts
what varies from run to run (a slot, a signature) out of its messages with :func:`mask`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.transaction import VersionedTransaction

from feeds.sim.export import Market, wallet_keypair
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.state import Account
from feeds.wire import instructions as I

DEADLINE_S = 60.0  # a condition on a busy machine: generous, never a sleep
# the enum words of the node's JSON a shape keeps as they are (any other string is "str")
ENUMS = frozenset(
    {
        *("binary", "base58", "base64", "base64+zstd", "json", "jsonParsed"),
        *("processed", "confirmed", "finalized", "legacy", "ok", "receivedSignature"),
        *("account", "mint", "lookupTable", "uninitialized", "initialized", "frozen", "nonce"),
        *("transaction", "lookupTable", "system", "immutableOwner"),
        *("transfer", "transferChecked", "createAccount", "createIdempotent", "create"),
        *("getAccountDataSize", "initializeImmutableOwner", "initializeAccount3"),
        *("createdBank", "completed", "optimisticConfirmation", "root", "firstShredReceived"),
        *("accountNotification", "programNotification", "logsNotification"),
        *("signatureNotification", "slotNotification", "rootNotification"),
        "slotsUpdatesNotification",
    }
)
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "node" / "conformance.json"


# ------------------------------------------------------------------ answers
@dataclass(frozen=True, slots=True)
class Exact:
    """A value compared as it is (the same state on both nodes gives the same value);
    ``when``: the names of other answers (of the same probe) that must be equal on both
    nodes for this one to be compared (the state it depends on); ``gate``: a value that
    only says whether others are compared (a state the session may have changed), never a
    difference itself."""

    value: Any
    when: tuple[str, ...] = ()
    gate: bool = False


@dataclass(frozen=True, slots=True)
class Http:
    """An HTTP answer: its status, content type and body (JSON when it parses)."""

    status: int
    content_type: str
    body: Any


def mask(text: str, values: dict[str, Any]) -> str:
    """``text`` with each value's text replaced by its name in angle brackets."""
    for name, v in values.items():
        text = text.replace(str(v), f"<{name}>")
    return text


def shape(v: Any) -> Any:
    """The shape of a JSON value (see the module doc)."""
    if isinstance(v, Exact):
        out: dict[str, Any] = {"=": v.value}
        if v.when:
            out["when"] = list(v.when)
        if v.gate:
            out["gate"] = True
        return out
    if isinstance(v, Http):
        return {"http": v.status, "type": v.content_type, "body": shape(v.body)}
    if isinstance(v, dict):
        if isinstance(v.get("code"), int) and isinstance(v.get("message"), str):
            out = {"code": v["code"], "message": v["message"]}
            if "data" in v:
                out["data"] = shape(v["data"])
            return {"error": out}
        return {k: shape(x) for k, x in sorted(v.items())}
    if isinstance(v, list):
        seen: dict[str, Any] = {}
        for x in v:
            s = shape(x)
            seen.setdefault(json.dumps(s, sort_keys=True), s)
        return {"[]": [seen[k] for k in sorted(seen)]}
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return v if v in ENUMS else "str"
    return type(v).__name__


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where shapes ``a`` and ``b`` differ, one line each (``path: a != b``)."""
    if isinstance(a, dict) and isinstance(b, dict) and "=" not in a and "error" not in a:
        out: list[str] = []
        if set(a) == {"[]"} == set(b):  # lists: element shapes as sets
            sa = {json.dumps(x, sort_keys=True): x for x in a["[]"]}
            sb = {json.dumps(x, sort_keys=True): x for x in b["[]"]}
            if not sa or not sb or sa.keys() == sb.keys():
                return []  # an empty list fits any (what is in it is the state's)
            if len(sa) == len(sb) == 1:
                return differences(next(iter(sa.values())), next(iter(sb.values())), path + "[]")
            return [f"{path}[]: {sorted(sa)} != {sorted(sb)}"]
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: absent != {json.dumps(b[k], sort_keys=True)[:200]}")
            elif k not in b:
                out.append(f"{path}.{k}: {json.dumps(a[k], sort_keys=True)[:200]} != absent")
            else:
                out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if a == b:
        return []
    sa, sb = json.dumps(a, sort_keys=True), json.dumps(b, sort_keys=True)
    return [f"{path or '.'}: {sa[:300]} != {sb[:300]}"]


def compare(
    node: dict[str, Any],
    sim: dict[str, Any],
    skipped: list[str] | None = None,
    exact: bool = True,
) -> dict[str, list[str]]:
    """Per answer name (``probe: answer``), where the node's shape and the simulator's
    differ. An exact value whose ``when`` answers differ is not compared (its name goes
    to ``skipped``); ``exact`` False: no exact value is (two runs of the node: their
    keys differ)."""
    out: dict[str, list[str]] = {}
    for name in sorted(set(node) | set(sim)):
        if name not in sim:
            out[name] = ["the simulator gave no such answer"]
            continue
        if name not in node:
            out[name] = ["the node gave no such answer"]
            continue
        a, b = node[name], sim[name]
        if isinstance(a, dict) and (a.get("gate") or (not exact and "=" in a)):
            continue  # a state, not an answer (or a value not to compare)
        when = a.get("when", []) if isinstance(a, dict) and "=" in a else []
        probe = name.split(": ", 1)[0]
        gates = [f"{probe}: {w}" for w in when]
        if any(node.get(g) != sim.get(g) for g in gates):
            if skipped is not None:
                skipped.append(name)
            continue
        d = differences(a, b)
        if d:
            out[name] = d
    return out


# ------------------------------------------------------------------ one node
@dataclass
class Target:
    """One node as the probes see it: its URLs and the market written for it."""

    name: str  # "node" | "sim"
    rpc_url: str
    ws_url: str
    market: Market
    session: aiohttp.ClientSession
    real_programs: bool = True  # its transactions run the real program binaries
    run: str = "0"  # the run's name: both nodes make the same keys of it (:meth:`key`)
    ids: int = 0
    # what the probes leave for each other (a landed signature, its slot, ...)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.market.config["seed"])

    def wallet(self, name: str) -> Keypair:
        return wallet_keypair(self.seed, name)

    def key(self, name: str) -> Keypair:
        """A key of this run named ``name``: the same on both nodes (so their accounts,
        and the order of a message's keys, are the same), new every run."""
        digest = hashlib.sha256(f"arbscope-conformance:{self.run}:{name}".encode()).digest()
        return Keypair.from_seed(digest)

    async def post(
        self,
        body: str | bytes,
        content_type: str = "application/json",
        method: str = "POST",
    ) -> Http:
        """One HTTP request to the RPC URL as it is, its answer as :class:`Http`."""
        headers = {"Content-Type": content_type} if content_type else {}
        async with self.session.request(
            method, self.rpc_url, data=body, headers=headers, skip_auto_headers=["Content-Type"]
        ) as r:
            text = await r.text()
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            ctype = r.headers.get("Content-Type", "").split(";")[0].strip()
            return Http(r.status, ctype, parsed)

    async def get(self, path: str) -> Http:
        """A GET of ``path`` on the RPC port (``/health``)."""
        async with self.session.get(self.rpc_url.rstrip("/") + path) as r:
            ctype = r.headers.get("Content-Type", "").split(";")[0].strip()
            return Http(r.status, ctype, await r.text())

    async def call(self, method: str, params: Sequence[Any] | None = None) -> dict[str, Any]:
        """One JSON-RPC call; the whole response object."""
        self.ids += 1
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": self.ids, "method": method}
        if params is not None:
            body["params"] = list(params)
        async with self.session.post(self.rpc_url, json=body) as r:
            out: dict[str, Any] = json.loads(await r.text())
            return out

    async def result(self, method: str, params: Sequence[Any] | None = None) -> Any:
        """A call's result (AssertionError with the node's error)."""
        out = await self.call(method, params)
        assert "result" in out, (self.name, method, out)
        return out["result"]

    async def slot(self, level: str = "processed") -> int:
        return int(await self.result("getSlot", [{"commitment": level}]))

    async def blockhash(self, level: str = "confirmed") -> str:
        got = await self.result("getLatestBlockhash", [{"commitment": level}])
        return str(got["value"]["blockhash"])

    async def until(
        self, check: Callable[[], Awaitable[Any]], what: str, timeout: float = DEADLINE_S
    ) -> Any:
        """Poll ``check()`` until it answers something true; AssertionError after
        ``timeout`` seconds saying what was waited for."""
        deadline = time.monotonic() + timeout
        while True:
            got = await check()
            if got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {what} in {timeout:.0f} s")
            await asyncio.sleep(0.05)

    async def status(self, sig: str, level: str = "confirmed") -> dict[str, Any]:
        """The signature's status once it has reached ``level``."""
        order = ("processed", "confirmed", "finalized")

        async def check() -> dict[str, Any] | None:
            got = await self.result("getSignatureStatuses", [[sig]])
            st = got["value"][0]
            if st is None or order.index(st["confirmationStatus"]) < order.index(level):
                return None
            return dict(st)

        return dict(await self.until(check, f"{level} status of {sig}"))

    async def past(self, slot: int, level: str) -> int:
        """Wait until the node's ``level`` slot is at least ``slot``; that slot."""

        async def check() -> int:
            s = await self.slot(level)
            return s if s >= slot else 0

        return int(await self.until(check, f"{level} slot {slot}"))

    def sign(
        self,
        payer: Keypair,
        ixs: Sequence[Instruction],
        blockhash: str,
        v0: bool = False,
        signers: Sequence[Keypair] = (),
    ) -> VersionedTransaction:
        bh = Hash.from_string(blockhash)
        msg: Message | MessageV0 = (
            MessageV0.try_compile(payer.pubkey(), list(ixs), [], bh)
            if v0
            else Message.new_with_blockhash(list(ixs), payer.pubkey(), bh)
        )
        return VersionedTransaction(msg, [payer, *signers])

    def pubsub(self) -> PubSub:
        return PubSub(self)


def wire(tx: VersionedTransaction) -> str:
    return base64.b64encode(bytes(tx)).decode()


def transfer(src: Keypair, dst: str, lamports: int) -> Instruction:
    return I.transfer(str(src.pubkey()), dst, lamports)


# ------------------------------------------------------------------ PubSub
class PubSub:
    """One PubSub connection: requests answered by id, notifications kept in order."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.answers: dict[Any, dict[str, Any]] = {}
        self.notes: list[dict[str, Any]] = []
        self.raw: list[Any] = []  # every message as it came (notifications and answers)
        self.ids = 0
        self._reader: asyncio.Task[None] | None = None
        self.closed: tuple[Any, ...] | None = None

    async def __aenter__(self) -> PubSub:
        self.ws = await self.target.session.ws_connect(self.target.ws_url, autoping=True)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with _suppress():
                await self._reader

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            obj = json.loads(msg.data)
            self.raw.append(obj)
            if isinstance(obj, dict) and "method" in obj and "id" not in obj:
                self.notes.append(obj)
            elif isinstance(obj, dict):
                self.answers[obj.get("id")] = obj
            else:
                self.answers[("batch", len(self.answers))] = obj
        self.closed = (self.ws.close_code,)

    async def send_text(self, text: str, rid: Any) -> dict[str, Any]:
        """Send ``text`` as it is; the answer with id ``rid``."""
        assert self.ws is not None
        await self.ws.send_str(text)
        return dict(await self.target.until(lambda: _ready(self.answers.get(rid)), f"answer {rid}"))

    async def request(self, method: str, params: Sequence[Any] | None = None) -> dict[str, Any]:
        self.ids += 1
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": self.ids, "method": method}
        if params is not None:
            body["params"] = list(params)
        return await self.send_text(json.dumps(body), self.ids)

    async def subscribe(self, method: str, params: Sequence[Any] | None = None) -> int:
        out = await self.request(method, params)
        assert "result" in out, (self.target.name, method, out)
        return int(out["result"])

    async def note(
        self,
        sub: int,
        where: Callable[[dict[str, Any]], bool] = lambda n: True,
        timeout: float = DEADLINE_S,
    ) -> dict[str, Any]:
        """The first notification of ``sub`` (that ``where`` accepts)."""

        async def check() -> dict[str, Any] | None:
            for n in self.notes:
                if n["params"]["subscription"] == sub and where(n):
                    return n
            return None

        return dict(await self.target.until(check, f"notification of {sub}", timeout))

    def of(self, sub: int) -> list[dict[str, Any]]:
        return [n for n in self.notes if n["params"]["subscription"] == sub]


async def _ready(x: Any) -> Any:
    return x


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


# ------------------------------------------------------------------ the fixture
def record(shapes: dict[str, Any], how: dict[str, Any]) -> None:
    """Write the node's shapes to the fixture with how they were made."""
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(
        json.dumps({"how": how, "shapes": shapes}, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )


def recorded() -> dict[str, Any]:
    """The fixture: ``{"how": ..., "shapes": {name: shape}}``."""
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


# ------------------------------------------------------------------ the simulator's side
def read_accounts(folder: Path) -> dict[str, Account]:
    """Every account ``arbscope sim --export`` wrote into ``folder/accounts``."""
    out: dict[str, Account] = {}
    for f in sorted((folder / "accounts").glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        a = d["account"]
        out[d["pubkey"]] = Account(
            a["owner"], base64.b64decode(a["data"][0]), int(a["lamports"]), bool(a["executable"])
        )
    return out


def sim_server(folder: Path, programs: str = "", slot_seconds: float = 0.1) -> SimServer:
    """A simulator serving the market of ``folder`` as the node does at its genesis: the
    same world (its config from ``market.json``) holding every exported account (the
    wallets too), still (no trades: the node's market does not move either), accepting
    transactions, one endpoint without latency or loss; ``programs``: its bank's binaries."""
    market = Market.read(folder)
    config = replace(
        market.world_config(),
        trades_per_slot=0,
        dislocation_rate=0.0,
        volatility=0.0,
        jump_rate=0.0,
        programs=programs,
    )
    srv = SimServer(
        config,
        [EndpointProfile("sim", latency_ms=0, jitter_ms=0)],
        slot_seconds=slot_seconds,
        accept_transactions=True,
    )
    for k, acc in read_accounts(folder).items():
        srv.world.accounts[k] = acc
        srv.genesis[k] = Account(acc.owner, acc.data, acc.lamports, acc.executable)
    return srv


# ------------------------------------------------------------------ what stays different
# Differences between Agave 3.1.12 and the simulator the simulator keeps, by answer name,
# with the reason (docs/simulator.md, "Where it still differs from a node", lists them).
# An entry may also not differ in a run (the node's timing).
KNOWN: dict[str, str] = {
    **{
        f"transfer: {what} logs {level}": (
            "a logs subscription on the node may tell of a transaction more than once, "
            "first under slots before the one it landed in: its leader executed it in a "
            "bank, whose log collector kept its logs (and notified them), but the bank's "
            "block did not take it, and it ran again in a later one; the simulator tells "
            "it once, under the slot it landed in"
        )
        for what in ("notifications", "context slots")
        for level in ("processed", "confirmed", "finalized")
    },
    "swap: simulate units": (
        "the validator's genesis has newer builds of Token-2022 and the associated token "
        "account program than ../shared/programs (GetAccountDataSize 1,444 units against "
        "2,918, TransferChecked 2,355 against 8,333) and its token programs' binaries are "
        "of other sizes (loadedAccountsDataSize)"
    ),
    "swap: getTransaction json units": "the token programs' builds (as swap: simulate units)",
    "swap: getTransaction jsonParsed units": "the token programs' builds (as above)",
    "cluster: simulateBundle": (
        "the simulator's node is a jito-solana node, which serves simulateBundle; Agave's "
        "answers -32601"
    ),
    "cluster: GET /health": (
        "aiohttp writes a content type on every answer (text/plain); the node's /health "
        "answers ok with none"
    ),
}


def unexpected(diff: dict[str, list[str]]) -> dict[str, list[str]]:
    """The differences not in :data:`KNOWN`."""
    return {k: v for k, v in diff.items() if k not in KNOWN}


def placeholder_programs(folder: Path, program_ids: Sequence[str]) -> Path:
    """A programs folder of empty ELF files named by ``program_ids``: what
    :func:`feeds.sim.export.export` needs to keep those programs' pools when the real
    binaries are absent (a clone without ../shared). Nothing runs them."""
    folder.mkdir(parents=True, exist_ok=True)
    for pid in program_ids:
        (folder / f"{pid}.so").write_bytes(b"\x7fELF")
    return folder


def explain(diff: dict[str, list[str]]) -> str:
    """Differences, one block per answer (a test's failure message)."""
    return "\n".join(f"{name}:\n  " + "\n  ".join(lines) for name, lines in diff.items())
