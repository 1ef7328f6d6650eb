"""Live trading on a real node (``tests/node/``): a wallet funded there (SOL by airdrop,
tokens from the market's ``faucet`` wallet), a pool knocked off its price by a real
signed swap (the venue's own instruction builder, a market wallet signing), and what the
node says a transaction did (``getTransaction``'s token balances).

Everything goes through the node's JSON-RPC, asynchronously (the session under test
shares the event loop), with every read and preflight at an explicit commitment.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

import engine_rs
from engine_rs.decoded import pool_mints
from feeds import venues
from feeds.clients.rpc import RpcClient, RpcError
from feeds.sim.export import Market, wallet_keypair
from feeds.wire import instructions as I
from tests.support.live import Opp, Score

CONFIRM_S = 60.0  # a busy machine's node: generous


@dataclass(frozen=True, slots=True)
class Sent:
    """A transaction a test sent and the node confirmed: its signature and slot."""

    signature: str
    slot: int


class Expired(Exception):
    """A transaction's blockhash expired with no status for it at the node: it never
    lands."""


async def confirmed(
    rpc: RpcClient,
    signature: str,
    timeout: float = CONFIRM_S,
    wire: str = "",
    last_valid: int | None = None,
) -> dict[str, Any]:
    """The signature's status once it reached ``confirmed`` (TimeoutError past
    ``timeout``). ``wire``: the signed transaction, handed to the node again every
    second while the node lists no status for it (``sendTransaction`` with
    ``maxRetries`` 0 is forwarded to the leader once: a packet lost on the way never
    lands; the same signature lands at most once). ``last_valid``: its blockhash's last
    valid block height, past which, unlisted, it raises :class:`Expired`."""
    loop = asyncio.get_running_loop()
    again = loop.time() + 1.0
    async with asyncio.timeout(timeout):
        while True:
            st = (await rpc.get_signature_statuses([signature]))[0]
            if isinstance(st, dict) and st.get("confirmationStatus") in ("confirmed", "finalized"):
                return st
            if wire and st is None and loop.time() > again:
                again = loop.time() + 1.0
                if last_valid is not None and await rpc.get_block_height() > last_valid:
                    raise Expired(signature)
                with contextlib.suppress(RpcError):
                    await rpc.send_transaction(wire)
            await asyncio.sleep(0.05)


async def send(
    rpc: RpcClient, signer: Keypair, ixs: Sequence[Instruction], cu_price: int = 0
) -> Sent:
    """``ixs`` signed by ``signer`` (the payer), preflighted at ``confirmed``, confirmed
    (signed again at a new blockhash when one expired unlanded: a node starved of CPU
    on a busy machine); AssertionError naming the error when it landed failed."""
    budget = [I.set_compute_unit_price(cu_price)] if cu_price else []
    async with asyncio.timeout(3 * CONFIRM_S):
        while True:
            blockhash, last_valid = await rpc.get_latest_blockhash("confirmed")
            msg = MessageV0.try_compile(
                signer.pubkey(), [*budget, *ixs], [], Hash.from_string(blockhash)
            )
            tx = VersionedTransaction(msg, [signer])
            wire = base64.b64encode(bytes(tx)).decode()
            sig = await rpc.send_transaction(
                wire, skip_preflight=False, preflight_commitment="confirmed"
            )
            try:
                st = await confirmed(rpc, sig, 3 * CONFIRM_S, wire, last_valid)
            except Expired:
                continue
            assert st.get("err") is None, (sig, st.get("err"))
            return Sent(sig, int(st["slot"]))


async def airdrop(rpc: RpcClient, to: str, lamports: int) -> None:
    """``lamports`` from the node's faucet to ``to``, confirmed."""
    sig = await rpc.call("requestAirdrop", [to, lamports, {"commitment": "confirmed"}])
    await confirmed(rpc, str(sig))


async def token_programs(rpc: RpcClient, mints: Sequence[str]) -> dict[str, str]:
    """Each mint's token program (its account's owner)."""
    got = await rpc.get_multiple_accounts(list(mints))
    out = {}
    for m in mints:
        acc = got.get(m)
        assert acc is not None, f"mint {m} not on the node"
        out[m] = acc.owner
    return out


async def give(
    rpc: RpcClient, market: Market, to: str, amounts: dict[str, int], wallet: str = "faucet"
) -> Sent:
    """Tokens from the market's ``wallet`` to ``to``'s associated token accounts
    (created when missing): ``amounts`` by mint."""
    kp = wallet_keypair(int(market.config["seed"]), wallet)
    me = str(kp.pubkey())
    programs = await token_programs(rpc, list(amounts))
    decimals = await _decimals(rpc, list(amounts))
    ixs = []
    for mint, amount in amounts.items():
        program = programs[mint]
        ixs.append(I.create_ata_idempotent(me, to, mint, program))
        ixs.append(
            I.transfer_checked(
                program,
                I.ata_address(me, mint, program),
                mint,
                I.ata_address(to, mint, program),
                me,
                amount,
                decimals[mint],
            )
        )
    return await send(rpc, kp, ixs)


async def _decimals(rpc: RpcClient, mints: Sequence[str]) -> dict[str, int]:
    got = await rpc.get_multiple_accounts(list(mints))
    out = {}
    for m in mints:
        acc = got[m]
        assert acc is not None
        out[m] = acc.data[44]  # the SPL mint layout's decimals (Token-2022's base too)
    return out


def token_amount(data: bytes) -> int:
    return int.from_bytes(data[64:72], "little")


@dataclass(frozen=True, slots=True)
class PoolOnNode:
    """A pool as the node holds it now: kind, decoded account, mints, token programs,
    vaults and their balances."""

    address: str
    kind: str
    record: Any
    mints: tuple[str, str]
    programs: dict[str, str]
    vaults: tuple[str, str]
    balances: tuple[int, int]


async def read_pool(rpc: RpcClient, address: str) -> PoolOnNode:
    """The pool at ``address`` read from the node (``confirmed``)."""
    return (await read_pools(rpc, [address]))[address]


async def read_pools(rpc: RpcClient, addresses: Sequence[str]) -> dict[str, PoolOnNode]:
    """The pools at ``addresses`` read from the node (``confirmed``), in three reads."""
    got = await rpc.get_multiple_accounts(list(addresses))
    eng = engine_rs.backend()
    decoded = {}
    for address in addresses:
        acc = got[address]
        assert acc is not None, f"pool {address} not on the node"
        venue = venues.by_program(acc.owner)
        assert venue is not None and venue.discovery is not None, acc.owner
        record = venue.decode_pool(eng, acc.data, acc.owner)
        facts = venue.discovery.read(record)
        decoded[address] = (venue.kind, record, pool_mints(venue.kind, record), facts)
    vaults = [v for *_, f in decoded.values() for v in (f.vault_a, f.vault_b)]
    mints = sorted({m for _, _, ms, _ in decoded.values() for m in ms})
    held = await rpc.get_multiple_accounts(vaults)
    programs = await token_programs(rpc, mints)
    out = {}
    for address, (kind, record, ms, f) in decoded.items():
        pair = (f.vault_a, f.vault_b)
        balances = tuple(
            token_amount(a.data) if (a := held.get(v)) is not None else 0 for v in pair
        )
        out[address] = PoolOnNode(
            address,
            kind,
            record,
            (ms[0], ms[1]),
            {m: programs[m] for m in ms},
            pair,
            balances,  # type: ignore[arg-type]
        )
    return out


async def knock(
    rpc: RpcClient,
    market: Market,
    pool: str,
    share: float,
    a_to_b: bool = True,
    wallet: str = "faucet",
    cu_price: int = 0,
) -> Sent:
    """One swap through ``pool`` of ``share`` of its input vault, from the market's
    ``wallet``, built by the pool's venue (its real instruction, run by its real
    program): the pool's price moves off the others'. A swap the program refuses at
    preflight (a concentrated pool's swap past the tick arrays its instruction names)
    is tried again at half the size, a few times."""
    kp = wallet_keypair(int(market.config["seed"]), wallet)
    me = str(kp.pubkey())
    for _ in range(6):
        p = await read_pool(rpc, pool)
        i = 0 if a_to_b else 1
        tin, tout = p.mints[i], p.mints[1 - i]
        amount = max(1, int(p.balances[i] * share))
        leg = venues.Leg(
            pool=pool,
            record=p.record,
            owner=me,
            mint_in=tin,
            mint_out=tout,
            source=I.ata_address(me, tin, p.programs[tin]),
            dest=I.ata_address(me, tout, p.programs[tout]),
            amount_in=amount,
            minimum_out=0,
            token_programs=p.programs,
        )
        ix = venues.by_kind(p.kind).swap_instruction(leg)
        try:
            return await send(rpc, kp, [I.set_compute_unit_limit(400_000), ix], cu_price)
        except RpcError as exc:
            if exc.code != -32002:  # not a preflight failure
                raise
            share /= 2
    raise AssertionError(f"no knock of pool {pool} passed the preflight")


async def transaction(rpc: RpcClient, signature: str) -> dict[str, Any]:
    """``getTransaction`` of a confirmed signature (``json``, v0 messages read)."""
    cfg = {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}
    async with asyncio.timeout(CONFIRM_S):
        while True:
            try:
                got = await rpc.call("getTransaction", [signature, cfg])
            except RpcError:
                got = None
            if isinstance(got, dict):
                return got
            await asyncio.sleep(0.1)


def token_deltas(tx: dict[str, Any], owner: str) -> dict[str, int]:
    """What ``owner``'s token accounts gained (negative: lost) per mint in ``tx``, from
    its ``preTokenBalances`` and ``postTokenBalances`` (an account created by the
    transaction is absent before: 0)."""
    meta = tx["meta"]

    def of(rows: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
        return {
            (r["accountIndex"], r["mint"]): int(r["uiTokenAmount"]["amount"])
            for r in rows
            if r.get("owner") == owner
        }

    pre, post = of(meta.get("preTokenBalances") or []), of(meta.get("postTokenBalances") or [])
    out: dict[str, int] = {}
    for key in {*pre, *post}:
        out[key[1]] = out.get(key[1], 0) + post.get(key, 0) - pre.get(key, 0)
    return out


def pubkey(k: str) -> Pubkey:
    return Pubkey.from_string(k)


BOOKS = frozenset(("openbook", "manifest"))  # order books: knocked through a pool beside them
# the pools a knock goes through, best first: constant-product pools move by the knock
# alone; a DLMM pair's dynamic fee climbs with a big swap (the cycle would not pay); a
# book is left alone (its makers' orders would be taken, not moved); AMM v4's binary does
# not run the swap our builder makes (SwapBaseInV2)
KNOCK_ORDER = ("cpmm", "damm_v2", "whirlpool", "clmm", "dlmm")


@dataclass(frozen=True, slots=True)
class PoolInfo:
    address: str
    kind: str
    mint_a: str
    mint_b: str


async def pools_of(rpc: RpcClient, market: Market) -> dict[str, PoolInfo]:
    """Every pool of the market as the node holds it: its kind and mints."""
    addresses = [a for a, _ in market.pools]
    got = await rpc.get_multiple_accounts(addresses)
    eng = engine_rs.backend()
    out = {}
    for a, kind in market.pools:
        acc = got[a]
        assert acc is not None, f"pool {a} not on the node"
        venue = venues.by_kind(kind)
        m = pool_mints(kind, venue.decode_pool(eng, acc.data, acc.owner))
        out[a] = PoolInfo(a, kind, m[0], m[1])
    return out


def cycles(
    pools: dict[str, PoolInfo],
    base: str,
    n: int,
    kinds: frozenset[str],
    must: str | None = None,
    avoid: frozenset[str] = frozenset(),
    limit: int = 200,
) -> list[list[PoolInfo]]:
    """Simple cycles of ``n`` pools out of ``base`` and back, of ``kinds`` only (one
    of ``must`` among them when given), in a fixed order (by address), pools in ``avoid``
    last."""
    by_mint: dict[str, list[PoolInfo]] = {}
    for p in sorted(pools.values(), key=lambda p: (p.address in avoid, p.address)):
        if p.kind in kinds:
            by_mint.setdefault(p.mint_a, []).append(p)
            by_mint.setdefault(p.mint_b, []).append(p)
    out: list[list[PoolInfo]] = []

    def walk(path: list[PoolInfo], tok: str, seen: set[str]) -> None:
        if len(out) >= limit:
            return
        if len(path) == n:
            if tok == base and (must is None or any(p.kind == must for p in path)):
                out.append(path)
            return
        for p in by_mint.get(tok, []):
            if p in path:
                continue
            nxt = p.mint_b if tok == p.mint_a else p.mint_a
            last = len(path) == n - 1
            if (nxt == base) != last or (not last and nxt in seen):
                continue
            walk([*path, p], nxt, seen | {nxt})

    walk([], base, {base})
    return out


Cycle = Sequence[PoolInfo]  # a cycle's pools, in its order


def tokens_of(cycle: Sequence[PoolInfo], base: str) -> list[str]:
    out = [base]
    for p in cycle:
        out.append(p.mint_b if out[-1] == p.mint_a else p.mint_a)
    return out


async def open_cycle(
    rpc: RpcClient, market: Market, cycle: Cycle, base: str, share: float = 0.05, cu_price: int = 0
) -> tuple[str, Sent]:
    """Knock a pool of ``cycle`` (the first of the kind :data:`KNOCK_ORDER` puts first)
    so that its hop pays more: the market sells that hop's output token into it. (the
    pool, the knock)."""
    tokens = tokens_of(cycle, base)
    i, p = min(
        ((i, p) for i, p in enumerate(cycle) if p.kind in KNOCK_ORDER),
        key=lambda ip: (KNOCK_ORDER.index(ip[1].kind), ip[0]),
    )
    out = tokens[i + 1]
    return p.address, await knock(rpc, market, p.address, share, out == p.mint_a, cu_price=cu_price)


# ---------------------------------------------------------------- a live session on the node
TERMINAL = frozenset({"confirmed", "failed", "expired", "unknown", "refused", "cancelled", "error"})


@dataclass
class Traded:
    """One order a test placed on a cycle of the node's market: the cycle, the knock that
    opened it, the executor's order, and — once confirmed — the node's transaction,
    what it moved in the wallet, and the other transactions that wrote the cycle's pools
    between the states the order was quoted on and its landing (none: it met them)."""

    cycle: list[PoolInfo]
    knock: Sent
    order: Any
    tx: dict[str, Any] | None = None
    deltas: dict[str, int] | None = None
    moved_first: list[str] | None = None
    states: dict[str, int] | None = None  # pool -> the slot of the state it was quoted on
    reported: set[int] | None = None  # the node's recent compute-unit prices of its pools

    @property
    def order_cu_price(self) -> int:
        """The compute-unit price the order was decided with (its fee context's)."""
        return int(self.order.cu_price)


async def ticked(s: Any, cond: Any, timeout: float) -> Any:
    """Take the session's turns until ``cond()`` is truthy (its value), or None after
    ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        s.tick()
        got = cond()
        if got:
            return got
        await asyncio.sleep(0.02)
    return None


async def profitable(
    s: Any,
    rpc: RpcClient,
    market: Market,
    cycle: list[PoolInfo],
    base: str,
    cu_price: int = 0,
    tries: int = 3,
    wait_s: float = 20.0,
) -> tuple[Sent, int] | None:
    """Knock ``cycle`` open (:func:`open_cycle`, a larger share each try) until the
    session's graph, having read the knock, quotes it a profit: (the knock, the size to
    trade), or None. A cycle the session indexes (no longer than its ``max_hops``) is
    sized by its scorer (the live cycle's ``amount_in``), a longer one here, as the
    scorer would: the best of a few sizes by the graph's own quote."""
    key = (base, tuple(p.address for p in cycle))
    indexed = len(cycle) <= s.max_hops
    held = await read_pools(rpc, [cycle[0].address])
    i = 0 if held[cycle[0].address].mints[0] == base else 1
    depth = max(1, held[cycle[0].address].balances[i])
    sizes = [max(1, depth * k // 100_000) for k in (1, 3, 10, 30, 100, 300, 1_000)]
    share = 0.05
    for _ in range(tries):
        pool, sent = await open_cycle(rpc, market, cycle, base, share, cu_price)
        # the slot of each pool's last write on the node: the knock, and any earlier
        # order's (a pool the graph has not read since would be quoted stale). A pool
        # of several accounts (a pool and its vaults) is written by one notification
        # each: the graph holds all of a slot's once the chain is two slots past it (the
        # node sends a slot's account notifications before the next slots' starts)
        written = await last_writes(rpc, list(key[1]))
        written[pool] = max(written.get(pool, 0), sent.slot)
        settled = max(written.values()) + 2

        def ready(written: dict[str, int] = written, settled: int = settled) -> int:
            if s.ingest.stats().slot < settled or any(
                s.graph.pool_rate(p)[4] < at for p, at in written.items()
            ):
                return 0  # the graph has not read every write yet
            # the graph's own quote answers at once: no profit at any size is none (-1,
            # the next try knocks harder); else the scorer's size once it holds the cycle
            size = best_size(s.graph, list(key[1]), base, sizes)
            if not size:
                return -1
            if indexed:
                e = s.live.get(key)
                return int(e[0].amount_in) if e is not None else 0
            return size

        got = await ticked(s, ready, wait_s)
        if got and got > 0:
            return sent, int(got)
        print(f"cycle {'·'.join(p.kind for p in cycle)} not open after a knock of {share:.0%}")
        share *= 2
    return None


async def last_writes(rpc: RpcClient, pools: Sequence[str]) -> dict[str, int]:
    """The slot of each of ``pools``' last confirmed successful write on the node (absent:
    none in its last 20 transactions; a failed one writes nothing)."""
    out = {}
    for p in pools:
        got = await rpc.call(
            "getSignaturesForAddress", [p, {"limit": 20, "commitment": "confirmed"}]
        )
        slots = [int(r["slot"]) for r in got if r.get("err") is None]
        if slots:
            out[p] = max(slots)
    return out


def best_size(graph: Any, pools: list[str], base: str, sizes: Sequence[int]) -> int:
    """The size of ``sizes`` the graph quotes the most profit for through ``pools`` (0:
    none pays)."""
    from engine_rs.errors import EngineError

    best, size = 0, 0
    for a in sizes:
        try:
            hops = [int(x) for x in graph.quote(pools, base, a)]
        except EngineError:
            continue
        if hops and hops[-1] - a > best:
            best, size = hops[-1] - a, a
    return size


async def place(
    s: Any, base: str, cycle: list[PoolInfo], amount: int, timeout: float = 120.0
) -> Any:
    """An order on ``cycle``: ``x`` (the session's own path: journaled, paper shadowing
    it) when the session holds the cycle live, else the executor's ``submit`` at
    ``amount`` with the session's fees now; the executor's order once it ended, or its
    refusal (a str) when it placed none."""
    pools = [p.address for p in cycle]
    ex = s.ev.executor
    if (base, tuple(pools)) in s.live:
        why = s.desk.trade(base, pools).removeprefix("live refused: ")
    else:
        opp = Opp(
            base,
            tuple(pools),
            tuple(tokens_of(cycle, base)),
            tuple(p.kind for p in cycle),
            amount,
        )
        why = ex.submit(opp, Score(), s.ev.fees, (), "manual")
    if why:
        return why
    seq = ex.seq

    def ended() -> Any:
        o = next((o for o in ex.orders if o.seq == seq), None)
        return o if o is not None and o.status in TERMINAL else None

    o = await ticked(s, ended, timeout)
    assert o is not None, f"order #{seq} did not end within {timeout} s"
    return o


async def written_between(
    rpc: RpcClient, pools: Sequence[str], after: dict[str, int], until_slot: int, ours: set[str]
) -> list[str]:
    """Transactions other than ``ours`` that wrote one of ``pools`` after the slot of the
    state it was quoted on (``after``) and at the latest in ``until_slot``: another
    trade that moved the cycle's pools before (or beside) the order."""
    out = []
    for p in pools:
        got = await rpc.call(
            "getSignaturesForAddress", [p, {"limit": 50, "commitment": "confirmed"}]
        )
        for r in got:
            if r["signature"] in ours or r.get("err") is not None:
                continue
            if after.get(p, 0) < int(r["slot"]) <= until_slot:
                out.append(str(r["signature"]))
    return out


async def follow_up(s: Any, rpc: RpcClient, t: Traded, owner: str, ours: set[str]) -> Traded:
    """What the node says of a confirmed order: its transaction, the wallet's token
    deltas, the other trades that wrote its pools first."""
    o = t.order
    t.tx = await transaction(rpc, o.signature)
    t.deltas = token_deltas(t.tx, owner)
    assert t.states is not None
    t.moved_first = await written_between(
        rpc, o.pools, t.states, int(t.tx["slot"]), ours | {o.signature}
    )
    return t


def cu_price_of(tx: dict[str, Any]) -> int | None:
    """The ``SetComputeUnitPrice`` of a ``getTransaction`` answer (json encoding)."""
    msg = tx["transaction"]["message"]
    keys = msg["accountKeys"]
    for ix in msg["instructions"]:
        if keys[ix["programIdIndex"]] != I.COMPUTE_BUDGET:
            continue
        data = _b58(ix["data"])
        if data[:1] == b"\x03":
            return int.from_bytes(data[1:9], "little")
    return None


def programs_called(tx: dict[str, Any]) -> list[str]:
    """The programs of a transaction's top-level instructions."""
    msg = tx["transaction"]["message"]
    keys = msg["accountKeys"]
    return [keys[ix["programIdIndex"]] for ix in msg["instructions"]]


def _b58(text: str) -> bytes:
    return bytes(engine_rs.backend().b58decode(text))


@asynccontextmanager
async def live_on_node(
    rpc_url: str,
    ws_url: str,
    folder: Path,
    market: Market,
    keyfile: Path,
    db: Path,
    max_hops: int = 3,
    fee_percentile: float = 99.5,
    **live: Any,
) -> AsyncIterator[Any]:
    """A session on the node (its PubSub and RPC, the market's pools file), journaled to
    ``db``, live armed with the wallet of ``keyfile`` (funded here: SOL by airdrop, the
    base token from the market's faucet), orders by hand only: its policy makes no cycle
    go on its own (a profit no cycle reaches), a setting the journal keeps, so its replay
    decides as it did (turning the broker's automatic orders off by hand would not be)."""
    from arbscope import sources
    from arbscope.execution.keys import load_wallet
    from arbscope.execution.live import LiveConfig
    from arbscope.session import Evaluation, FeeSettings, RecordSettings, Watch
    from engine_rs.records import ScorePolicy
    from feeds.clients.pool import Endpoint
    from feeds.wire.universe import load_universe

    me = load_wallet(keyfile).pubkey
    async with RpcClient(rpc_url, timeout_s=30.0) as rpc:
        await airdrop(rpc, me, 50 * 10**9)
        await give(rpc, market, me, {market.bases[0]: 2_000 * 10**9})
    uni = load_universe(folder / "pools.toml")
    config = LiveConfig(
        keypair=str(keyfile),
        rpc=rpc_url,
        ws=ws_url,
        max_trade=10**15,
        max_day=10**16,
        rpc_timeout_s=30.0,
        **live,
    )
    s = sources.session(
        Watch(uni.pools, uni.base_mints, max_hops, int(market.config["seed"]), rival_own=(me,)),
        Evaluation(
            shadow=False,
            fees=FeeSettings(percentile=fee_percentile),
            policy=ScorePolicy(min_profit=2**62, min_persistence=2, max_staleness_slots=150),
        ),
        endpoints=[Endpoint("node", ws_url, rpc_url)],
        record=RecordSettings(db, batch_s=0.1),
        live=config,
    )
    await s.start()
    try:
        assert s.start_error == "", s.start_error
        ok, why = await s.desk.request_live()
        assert ok, why
        yield s
    finally:
        await s.stop()


def order_shape(
    cycle: Sequence[PoolInfo],
    held: dict[str, PoolOnNode],
    base: str,
    owner: str,
    creates: Sequence[str],
    tables: Sequence[Any] = (),
) -> tuple[int, int]:
    """(bytes, accounts named) of the transaction an order on ``cycle`` becomes with
    ``creates`` (mints whose token account it creates) and ``tables``: the venues' own
    swaps on the pools as ``held`` (:func:`read_pool`) says, built as the executor builds
    them (the amounts do not change the size)."""
    tokens = tokens_of(cycle, base)
    progs = {m: prog for p in cycle for m, prog in held[p.address].programs.items()}
    ixs = [I.set_compute_unit_limit(1_400_000), I.set_compute_unit_price(1)]
    ixs += [I.create_ata_idempotent(owner, owner, m, progs[m]) for m in creates]
    for i, p in enumerate(cycle):
        pool = held[p.address]
        tin, tout = tokens[i], tokens[i + 1]
        leg = venues.Leg(
            pool=p.address,
            record=pool.record,
            owner=owner,
            mint_in=tin,
            mint_out=tout,
            source=I.ata_address(owner, tin, progs[tin]),
            dest=I.ata_address(owner, tout, progs[tout]),
            amount_in=10**6,
            minimum_out=1,
            token_programs=pool.programs,
        )
        ixs.append(venues.by_kind(p.kind).swap_instruction(leg))
    msg = MessageV0.try_compile(pubkey(owner), ixs, list(tables), Hash.default())
    tx = VersionedTransaction.populate(msg, [Signature.default()])
    looked = sum(
        len(t.writable_indexes) + len(t.readonly_indexes) for t in msg.address_table_lookups
    )
    return len(bytes(tx)), len(msg.account_keys) + looked
