"""Transactions of other traders, built and signed with solders and run through the
simulator's chain (so balances, logs and errors are the chain's), read back as a node
serves them (``getTransaction`` JSON, the gRPC transaction update): what the TxView and
rival-classifier tests share."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Sequence
from typing import Any

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from feeds import venues
from feeds.sim import geyser as G
from feeds.sim import methods as M
from feeds.sim.server import SimServer
from feeds.sim.state import Pool
from feeds.sim.world import WorldConfig
from feeds.venues import Leg
from feeds.wire import alt as A
from feeds.wire import instructions as I

WSOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
CONFIRMED = {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}


class Desk:
    """A quiet simulated market (no trades of its own, no dislocations) accepting
    transactions, with gRPC records kept; traders are funded wallets."""

    def __init__(self, seed: int = 3) -> None:
        cfg = WorldConfig(seed=seed, trades_per_slot=0, dislocation_rate=0.0)
        self.srv = SimServer(cfg, accept_transactions=True, grpc=True)
        self.world = self.srv.world
        self.chain = self.srv.chain

    # ------------------------------------------------------------ the market
    def spl(self, mint: str) -> bool:
        return self.world.token_programs.get(mint, I.SPL_TOKEN) == I.SPL_TOKEN

    def pools(self) -> list[Pool]:
        """Pools of SPL Token mints (no transfer fees), order books left out."""
        return [
            p
            for p in self.world.pools
            if self.spl(p.mint_a) and self.spl(p.mint_b) and p.kind != "openbook"
        ]

    def pair(self, mint: str) -> tuple[Pool, Pool]:
        """Two pools of different venues on one pair with ``mint``."""
        for a, b in itertools.combinations(self.pools(), 2):
            same = {a.mint_a, a.mint_b} == {b.mint_a, b.mint_b}
            if same and a.kind != b.kind and mint in (a.mint_a, a.mint_b):
                return a, b
        raise AssertionError(f"no pair of two venues with {mint}")

    def triangle(self, mint: str, kinds: Sequence[str] = ()) -> tuple[Pool, Pool, Pool]:
        """Three pools of three venues closing a cycle from ``mint`` (each named kind in
        it when ``kinds``)."""
        for trio in itertools.permutations(self.pools(), 3):
            if len({p.kind for p in trio}) < 3 or not set(kinds) <= {p.kind for p in trio}:
                continue
            path = [mint]
            for p in trio:
                if path[-1] not in (p.mint_a, p.mint_b):
                    break
                path.append(p.mint_b if path[-1] == p.mint_a else p.mint_a)
            else:
                if path[-1] == mint and len(set(path)) == 3:
                    return trio[0], trio[1], trio[2]
        raise AssertionError(f"no triangle of three venues from {mint} with {kinds}")

    @staticmethod
    def other(pool: Pool, mint: str) -> str:
        return pool.mint_b if mint == pool.mint_a else pool.mint_a

    def quote(self, pool: Pool, mint_in: str, amount: int) -> int:
        q = self.world.quote_swap(pool, mint_in == pool.mint_a, amount)
        assert q is not None, f"{pool.kind} {pool.address} takes no {amount}"
        return int(q.out)

    def quote_path(self, pools: Sequence[Pool], mint: str, amount: int) -> list[int]:
        """Each hop's output along ``pools`` from ``amount`` of ``mint``."""
        outs = []
        for p in pools:
            amount = self.quote(p, mint, amount)
            mint = self.other(p, mint)
            outs.append(amount)
        return outs

    # ------------------------------------------------------------ traders
    def wallet(self, lamports: int = 10**10, tokens: dict[str, int] | None = None) -> Keypair:
        """A funded wallet with an associated token account of each of ``tokens``."""
        kp = Keypair()
        me = str(kp.pubkey())
        self.chain.airdrop([me, lamports])
        for mint, amount in (tokens or {}).items():
            self.chain.fund([me, mint, amount])
        return kp

    def ata(self, kp: Keypair, mint: str) -> str:
        return I.ata_address(str(kp.pubkey()), mint)

    def swap_ix(
        self, kp: Keypair, pool: Pool, mint_in: str, amount: int, minimum: int
    ) -> Instruction:
        me = str(kp.pubkey())
        tout = self.other(pool, mint_in)
        programs = {pool.mint_a: I.SPL_TOKEN, pool.mint_b: I.SPL_TOKEN}
        src, dst = I.ata_address(me, mint_in), I.ata_address(me, tout)
        leg = Leg(pool.address, pool.record, me, mint_in, tout, src, dst, amount, minimum, programs)
        return venues.by_kind(pool.kind).swap_instruction(leg)

    def cycle_ixs(
        self, kp: Keypair, pools: Sequence[Pool], mint: str, amount: int, minimum_last: int
    ) -> list[Instruction]:
        """The swaps of a path from ``amount`` of ``mint``, each hop the quoted output of
        the one before, the last one's minimum ``minimum_last`` (the others' 1)."""
        outs = self.quote_path(pools, mint, amount)
        ixs = []
        amount_in = amount
        for i, p in enumerate(pools):
            last = i == len(pools) - 1
            ixs.append(self.swap_ix(kp, p, mint, amount_in, minimum_last if last else 1))
            mint, amount_in = self.other(p, mint), outs[i]
        return ixs

    def dislocate(self, pool: Pool, mint_in: str, fraction: float) -> str:
        """A whale sells ``fraction`` of the pool's reserve of ``mint_in`` into it (landed
        at once): the pool's price of ``mint_in`` falls."""
        rec_in = self.world.balance(pool.vault_a if mint_in == pool.mint_a else pool.vault_b)
        amount = int(rec_in * fraction)
        whale = self.wallet(tokens={mint_in: amount, self.other(pool, mint_in): 1})
        sig = self.send(whale, [self.swap_ix(whale, pool, mint_in, amount, 1)])
        self.land()
        return sig

    def table(self, addresses: Sequence[str]) -> AddressLookupTableAccount:
        """A lookup table holding ``addresses``, usable from the next slot (landed)."""
        kp = self.wallet()
        me = kp.pubkey()
        create, table = A.create_lookup_table(me, me, self.world.slot - 1)
        extend = A.extend_lookup_table(table, me, me, [Pubkey.from_string(a) for a in addresses])
        msg = A.compile_v0(me, [create, extend], self.chain.latest_blockhash()[0])
        assert self.chain.run(VersionedTransaction(msg, [kp]), commit=True).err is None
        self.land()
        return A.table_account(table, self.world.accounts[str(table)].data)

    def send(
        self,
        kp: Keypair,
        ixs: Sequence[Instruction],
        skip_preflight: bool = False,
        tables: Sequence[AddressLookupTableAccount] = (),
        legacy: bool = False,
    ) -> str:
        bh = Hash.from_string(self.chain.latest_blockhash()[0])
        msg: Message | MessageV0 = (
            Message.new_with_blockhash(list(ixs), kp.pubkey(), bh)
            if legacy
            else MessageV0.try_compile(kp.pubkey(), list(ixs), list(tables), bh)
        )
        tx = VersionedTransaction(msg, [kp])
        cfg: dict[str, Any] = {"encoding": "base64", "skipPreflight": skip_preflight}
        cfg["preflightCommitment"] = "processed"  # the blockhash is the newest slot's
        return str(self.chain.send([base64.b64encode(bytes(tx)).decode(), cfg]))

    def land(self) -> int:
        """The next slot: what was sent lands."""
        return int(self.srv.step().slot)

    # ------------------------------------------------------------ as a node serves it
    def rpc(self, sig: str, encoding: str = "json") -> dict[str, Any]:
        got = M.get_transaction(self.srv, [sig, {**CONFIRMED, "encoding": encoding}])
        assert got is not None, f"{sig} is not in the ledger"
        return dict(got)

    def grpc(self, sig: str) -> bytes:
        """The simulator's gRPC update of ``sig`` (a ``SubscribeUpdate``'s bytes) as it
        serves it to a stream that asked for every transaction naming its signer."""
        stored = self.chain.ledger[sig]
        rec = self.srv.geyser_records[stored.slot]
        signer = str(stored.tx.message.account_keys[0])
        f = G.Filter(txs={"all": (None, frozenset(), frozenset(), frozenset())})
        for raw in G.render(f, rec, []):
            from feeds.wire.geyser import geyser_pb2 as pb

            u = pb.SubscribeUpdate()
            u.ParseFromString(raw)
            if u.WhichOneof("update_oneof") == "transaction":
                from solders.signature import Signature

                if str(Signature.from_bytes(u.transaction.transaction.signature)) == sig:
                    return raw
        raise AssertionError(f"no gRPC update of {sig} (signer {signer})")


# ------------------------------------------------------------------ reshaping a result
def key_index(result: dict[str, Any], key: str) -> int:
    """The index of ``key`` among ``result``'s keys (static, then loaded); a key not there
    is added as the last static one, readonly unsigned, balances 0: every index of a
    loaded key (instructions, inner instructions, token balances) moves up by one."""
    msg, meta = result["transaction"]["message"], result["meta"]
    static = msg["accountKeys"]
    la = meta.get("loadedAddresses") or {"writable": [], "readonly": []}
    keys = [*static, *la["writable"], *la["readonly"]]
    if key in keys:
        return keys.index(key)
    n = len(static)

    def up(i: int) -> int:
        return i + 1 if i >= n else i

    for ix in msg["instructions"]:
        ix["programIdIndex"] = up(ix["programIdIndex"])
        ix["accounts"] = [up(a) for a in ix["accounts"]]
    for g in meta.get("innerInstructions") or []:
        for ix in g["instructions"]:
            ix["programIdIndex"] = up(ix["programIdIndex"])
            ix["accounts"] = [up(a) for a in ix["accounts"]]
    for rows in (meta.get("preTokenBalances") or [], meta.get("postTokenBalances") or []):
        for t in rows:
            t["accountIndex"] = up(t["accountIndex"])
    static.append(key)
    msg["header"]["numReadonlyUnsignedAccounts"] += 1
    meta["preBalances"].insert(n, 0)
    meta["postBalances"].insert(n, 0)
    return n


def with_inner(
    result: dict[str, Any],
    index: int,
    rows: Sequence[tuple[str, Sequence[str], bytes, int | None]],
) -> dict[str, Any]:
    """``result`` (a getTransaction ``json`` result) with inner instructions under outer
    instruction ``index``: each (program, accounts, data, stack height) by key; keys it
    does not name yet are appended to the static keys as readonly unsigned ones (their
    balances 0). The body's signature no longer signs it: a view does not check."""
    import copy

    out = copy.deepcopy(result)
    meta = out["meta"]

    def at(k: str) -> int:
        return key_index(out, k)

    from engine_rs import backend

    b58 = backend().b58encode
    group = [
        {
            "programIdIndex": at(p),
            "accounts": [at(a) for a in accounts],
            "data": b58(data),
            "stackHeight": height,
        }
        for p, accounts, data, height in rows
    ]
    if meta.get("innerInstructions") is None:  # a node that kept none: now these
        meta["innerInstructions"] = []
    inner = meta["innerInstructions"]
    inner[:] = [g for g in inner if g["index"] != index] + [{"index": index, "instructions": group}]
    inner.sort(key=lambda g: g["index"])
    return out


def under_aggregator(result: dict[str, Any], program: str, outers: Sequence[int]) -> dict[str, Any]:
    """``result`` with its outer instructions ``outers`` (consecutive) run by CPI from one
    outer instruction of ``program`` in their place (an aggregator's route): they become
    its inner instructions at stack height 2, each followed by its own inner ones one
    level deeper, their log lines one level deeper inside the aggregator's frame. A moved
    frame whose log shows none of its inner instructions (the simulator's own programs do
    not log their CPIs; a node logs every one) gets their ``invoke`` / ``success`` lines,
    in execution order, before its ``consumed`` line: the log then walks the
    instructions as a node's does."""
    import copy

    out = copy.deepcopy(result)
    msg, meta = out["transaction"]["message"], out["meta"]
    assert list(outers) == list(range(outers[0], outers[0] + len(outers)))
    agg = key_index(out, program)
    moved = [msg["instructions"][i] for i in outers]
    first = outers[0]
    accounts = sorted(
        {a for ix in moved for a in ix["accounts"]} | {ix["programIdIndex"] for ix in moved}
    )
    msg["instructions"][first : first + len(outers)] = [
        {"programIdIndex": agg, "accounts": accounts, "data": "3Bxs", "stackHeight": None}
    ]
    # each moved instruction at stack height 2, followed by its own inner ones one level
    # deeper; the groups of the instructions after them move up by what was folded
    had = {g["index"]: g["instructions"] for g in meta.get("innerInstructions") or []}
    group: list[dict[str, Any]] = []
    folded: dict[int, list[dict[str, Any]]] = {}  # each moved one's own, as folded
    for i, ix in zip(outers, moved, strict=True):
        group.append({**ix, "stackHeight": 2})
        folded[i] = []
        for sub in had.pop(i, []):
            height = sub.get("stackHeight")
            folded[i].append({**sub, "stackHeight": None if height is None else height + 1})
        group += folded[i]
    shift = len(outers) - 1
    rest = [{"index": i - shift if i > first else i, "instructions": g} for i, g in had.items()]
    meta["innerInstructions"] = sorted(
        [*rest, {"index": first, "instructions": group}], key=lambda g: g["index"]
    )
    # the logs: the moved frames one level down, inside the aggregator's
    keys = [*msg["accountKeys"], *_loaded(meta)]
    logs: list[str] = []
    depth = 0  # the invoke depth of the original logs
    frame = -1  # the outer frame a line is in
    nested = False  # the frame's log shows an inner instruction of it
    moving = range(first, first + len(outers))
    for line in meta["logMessages"]:
        words = line.split(" ")
        invoke = len(words) == 4 and words[0] == "Program" and words[2] == "invoke"
        closing = len(words) >= 3 and words[0] == "Program" and words[2] in ("success", "failed:")
        consumed = len(words) >= 3 and words[0] == "Program" and words[2] == "consumed"
        if invoke:
            depth += 1
            nested = nested or depth > 1
            if depth == 1:
                frame += 1
                nested = False
                if frame == first:
                    logs.append(f"Program {program} invoke [1]")
            if frame in moving:
                line = f"Program {words[1]} invoke [{depth + 1}]"
        elif (consumed or closing) and depth == 1 and frame in moving and not nested:
            logs += _frames(keys, folded.get(frame, []))
            nested = True
        logs.append(line)
        if closing and depth > 0:
            depth -= 1
            if depth == 0 and frame == moving[-1]:
                logs.append(f"Program {program} success")
    meta["logMessages"] = logs
    return out


def _loaded(meta: dict[str, Any]) -> list[str]:
    la = meta.get("loadedAddresses") or {"writable": [], "readonly": []}
    return [*la["writable"], *la["readonly"]]


def _frames(keys: Sequence[str], inner: Sequence[dict[str, Any]]) -> list[str]:
    """The ``invoke`` / ``success`` log lines of ``inner`` (inner instructions in
    execution order, with their stack heights), nested as the heights say."""
    lines: list[str] = []
    open_: list[tuple[str, int]] = []
    for ix in inner:
        assert ix["stackHeight"] is not None, "the depth of a frame is its stack height"
        prog, height = keys[ix["programIdIndex"]], int(ix["stackHeight"])
        while open_ and open_[-1][1] >= height:
            lines.append(f"Program {open_.pop()[0]} success")
        lines.append(f"Program {prog} invoke [{height}]")
        open_.append((prog, height))
    lines += [f"Program {p} success" for p, _ in reversed(open_)]
    return lines


def without_inner(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` as a node that kept no inner instructions serves it
    (``meta.innerInstructions`` null): the chain records them, an old node or one that
    does not store CPIs does not."""
    import copy

    out = copy.deepcopy(result)
    out["meta"]["innerInstructions"] = None
    return out


def without_heights(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` as a node older than v1.14.6 serves it: its inner instructions without
    their stack heights (``stackHeight`` null)."""
    import copy

    out = copy.deepcopy(result)
    for g in out["meta"].get("innerInstructions") or []:
        for ix in g["instructions"]:
            ix["stackHeight"] = None
    return out
