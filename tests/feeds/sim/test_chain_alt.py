"""Address lookup tables in the simulator (feeds.sim.alt through feeds.sim.chain).

Oracles: LiteSVM runs the real Address Lookup Table program (the live Core BPF one) and
the runtime's v0 address resolution; the same signed transactions run in both at the
same slots (LiteSVM warped there, its SlotHashes set to the 512 slots before, as every
simulated slot has a block) and every table account (bytes, lamports, owner), balance
and error must agree. solders (Agave's state code) is the oracle of which addresses a
table serves at a slot. The JSON-RPC wording of a refused lookup is Agave's
``sanitize_transaction`` (``invalid transaction: {TransactionError}``, -32602) with the
errors' ``Display`` strings (solana-transaction-error).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from typing import Any

import pytest
from solders.account import Account as SvmAccount
from solders.address_lookup_table_account import (
    AddressLookupTable,
    AddressLookupTableAccount,
    LookupTableMeta,
    SlotHashes,
)
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from feeds.sim import alt as SA
from feeds.sim.chain import ChainError
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.wire import alt as A
from feeds.wire import instructions as I
from tests.support.chain import SvmTwin, svm_error
from tests.support.jsclient import Web3Js

QUIET = {"trades_per_slot": 0, "dislocation_rate": 0.0}
ALT_ID = Pubkey.from_string(A.ALT_PROGRAM)


def _program_lines(logs: Sequence[str]) -> list[str]:
    system = f"Program {I.SYSTEM_PROGRAM} "
    return [
        x for x in logs if x.startswith(("Program log:", system, "Transfer:")) or " failed: " in x
    ]


class Twin(SvmTwin):
    """The simulator and LiteSVM side by side at the same slot, one payer/authority."""

    def __init__(self) -> None:
        super().__init__(seed=5)
        self.nonce = 0
        self.step(1)

    def new_table(self, keys: int) -> Pubkey:
        """A lookup table of the payer's, made and extended by ``keys`` new addresses in
        this slot, both runtimes agreeing on each step."""
        ix, table = A.create_lookup_table(self.me, self.me, self.slot - 1)
        agree(self.run([ix]))
        agree(self.run([A.extend_lookup_table(table, self.me, self.me, _keys(keys))]))
        return table

    @property
    def slot(self) -> int:
        return self.world.slot

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.world.step()
        s = self.world.slot
        self.svm.warp_to_slot(s)
        self.svm.set_slot_hashes([(x, Hash.new_unique()) for x in range(s - 1, s - 513, -1)])
        self.svm.expire_blockhash()

    def _tx(
        self,
        ixs: Sequence[Instruction],
        bh: str | Hash,
        tables: Sequence[AddressLookupTableAccount] = (),
        signers: Sequence[Keypair] = (),
    ) -> VersionedTransaction:
        self.nonce += 1  # a distinct signature each time (its price)
        ixs = [I.set_compute_unit_limit(400_000), I.set_compute_unit_price(self.nonce), *ixs]
        msg = A.compile_v0(self.me, ixs, bh, tables)
        return VersionedTransaction(msg, [self.kp, *signers])

    def run(
        self,
        ixs: Sequence[Instruction],
        tables: Sequence[AddressLookupTableAccount] = (),
        signers: Sequence[Keypair] = (),
    ) -> tuple[Any, Any]:
        """Run on both; (LiteSVM's error, the simulator's error), None for success. The
        program's own log lines (``Program log:`` and the failure) must be the same."""
        nonce = self.nonce
        r = self.svm.send_transaction(self._tx(ixs, self.svm.latest_blockhash(), tables, signers))
        svm_err = svm_error(r.err()) if hasattr(r, "err") else None
        self.nonce = nonce
        tx = self._tx(ixs, self.chain.latest_blockhash()[0], tables, signers)
        out = self.chain.run(tx, commit=True)
        meta = r.meta() if hasattr(r, "meta") else r
        assert _program_lines(meta.logs()) == _program_lines(out.logs)
        return svm_err, out.err

    def account(self, key: Pubkey) -> tuple[Any, Any]:
        a = self.svm.get_account(key)
        b = self.world.accounts.get(str(key))
        got_svm = (
            None if a is None or a.lamports == 0 else (bytes(a.data), a.lamports, str(a.owner))
        )
        got_sim = None if b is None else (b.data, b.lamports, b.owner)
        return got_svm, got_sim

    def balance(self, key: Pubkey) -> tuple[int, int]:
        return self.svm.get_balance(key) or 0, self.world.lamports(str(key))

    def same(self, *keys: Pubkey) -> None:
        for k in keys:
            a, b = self.account(k)
            assert a == b, k

    def table(self, key: Pubkey) -> AddressLookupTableAccount:
        return A.table_account(key, self.world.accounts[str(key)].data)


def agree(pair: tuple[Any, Any]) -> Any:
    assert pair[0] == pair[1]
    return pair[0]


def _keys(n: int) -> list[Pubkey]:
    return [Pubkey.new_unique() for _ in range(n)]


def _node() -> SimServer:
    """One endpoint on a quiet market (no trades, a slot only when the test steps one)
    that takes transactions."""
    cfg = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=0)
    return SimServer(
        cfg,
        [EndpointProfile("a", latency_ms=1, jitter_ms=0)],
        slot_seconds=3600.0,
        accept_transactions=True,
    )


def _payer(srv: SimServer) -> tuple[str, Keypair, Pubkey]:
    """The node's RPC URL and a new keypair (its key) holding 1 SOL there."""
    kp = Keypair()
    srv.chain.airdrop([str(kp.pubkey()), 10**9])
    return srv.infos()[0].http_url, kp, kp.pubkey()


@pytest.mark.slow
def test_a_table_lives_as_litesvm_runs_it_create_extend_deactivate_close() -> None:
    t = Twin()
    ix, table = A.create_lookup_table(t.me, t.me, t.slot - 1)
    assert agree(t.run([ix])) is None
    t.same(table, t.me)
    first = _keys(3)
    assert agree(t.run([A.extend_lookup_table(table, t.me, t.me, first)])) is None
    t.same(table, t.me)
    assert agree(t.run([A.extend_lookup_table(table, t.me, t.me, _keys(2))])) is None  # same slot
    t.same(table, t.me)
    t.step()
    assert agree(t.run([A.extend_lookup_table(table, t.me, t.me, _keys(30))])) is None
    t.same(table, t.me)
    t.step()
    assert agree(t.run([A.deactivate_lookup_table(table, t.me)])) is None
    t.same(table)
    deactivated = t.slot
    err = agree(t.run([A.extend_lookup_table(table, t.me, t.me, _keys(1))]))
    assert err == {"InstructionError": [2, "InvalidArgument"]}
    agree(t.run([A.deactivate_lookup_table(table, t.me)]))
    t.step()
    recipient = Pubkey.new_unique()
    assert agree(t.run([A.close_lookup_table(table, t.me, recipient)])) is not None
    t.step(deactivated + 512 - t.slot)  # one block of cooldown left
    assert agree(t.run([A.close_lookup_table(table, t.me, recipient)])) is not None
    t.same(table)
    t.step()
    assert agree(t.run([A.close_lookup_table(table, t.me, recipient)])) is None
    t.same(table)
    assert t.world.accounts.get(str(table)) is None
    agree(t.balance(recipient))
    agree(t.balance(t.me))


def _bad(t: Twin, case: str, other: Keypair) -> list[Instruction]:
    s = t.slot
    if case == "not-recent":
        return [A.create_lookup_table(t.me, t.me, s)[0]]
    if case == "too-old":
        return [A.create_lookup_table(t.me, t.me, s - 513)[0]]
    if case == "wrong-address":
        ix, _ = A.create_lookup_table(t.me, t.me, s - 2)
        _, elsewhere = A.create_lookup_table(t.me, t.me, s - 3)
        metas = [AccountMeta(elsewhere, False, True), *ix.accounts[1:]]
        return [Instruction(ix.program_id, bytes(ix.data), metas)]
    if case == "bad-data":
        return [Instruction(ALT_ID, bytes([9, 0, 0, 0]), [AccountMeta(t.me, True, True)])]
    if case == "poor-payer":
        t.svm.airdrop(other.pubkey(), 1_000_000)
        t.chain.airdrop([str(other.pubkey()), 1_000_000])
        return [A.create_lookup_table(t.me, other.pubkey(), s - 1)[0]]
    if case == "not-a-table":
        return [A.extend_lookup_table(other.pubkey(), t.me, t.me, _keys(1))]
    ix, table = A.create_lookup_table(t.me, t.me, s - 1)
    if case in ("deactivate-frozen", "freeze-deactivated"):
        extend = A.extend_lookup_table(table, t.me, t.me, _keys(2))
        freeze, deactivate = (
            A.freeze_lookup_table(table, t.me),
            A.deactivate_lookup_table(table, t.me),
        )
        return [
            ix,
            extend,
            *([freeze, deactivate] if case == "deactivate-frozen" else [deactivate, freeze]),
        ]
    if case == "twice":
        return [ix, ix]
    if case == "wrong-authority":
        return [ix, A.extend_lookup_table(table, other.pubkey(), t.me, _keys(1))]
    if case == "authority-not-signing":
        ext = A.extend_lookup_table(table, t.me, t.me, _keys(1))
        metas = [ext.accounts[0], AccountMeta(other.pubkey(), False, False), *ext.accounts[2:]]
        return [ix, Instruction(ALT_ID, bytes(ext.data), metas)]
    if case == "empty-extend":
        return [ix, A.extend_lookup_table(table, t.me, t.me, [])]
    if case == "freeze-empty":
        return [ix, A.freeze_lookup_table(table, t.me)]
    if case == "frozen-extend":
        return [
            ix,
            A.extend_lookup_table(table, t.me, t.me, _keys(2)),
            A.freeze_lookup_table(table, t.me),
            A.extend_lookup_table(table, t.me, t.me, _keys(1)),
        ]
    if case == "no-payer":
        return [ix, A.extend_lookup_table(table, t.me, None, _keys(1))]
    if case == "close-active":
        return [ix, A.close_lookup_table(table, t.me, Pubkey.new_unique())]
    if case == "close-to-itself":
        return [
            ix,
            A.deactivate_lookup_table(table, t.me),
            A.close_lookup_table(table, t.me, table),
        ]
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "not-recent",
        "too-old",
        "wrong-address",
        "bad-data",
        "twice",
        "wrong-authority",
        "authority-not-signing",
        "empty-extend",
        "freeze-empty",
        "frozen-extend",
        "no-payer",
        "close-active",
        "close-to-itself",
        "poor-payer",
        "not-a-table",
        "deactivate-frozen",
        "freeze-deactivated",
    ],
)
def test_the_programs_refusals_are_litesvms(case: str) -> None:
    t = Twin()
    t.step(3)
    other = Keypair()
    ixs = _bad(t, case, other)
    signers = [other] if case in ("wrong-authority", "poor-payer") else []
    err = agree(t.run(ixs, signers=signers))
    assert (err is None) == (case == "twice")  # the live program's create is idempotent
    agree(t.balance(t.me))


def test_a_table_fills_to_256_and_refuses_the_257th() -> None:
    t = Twin()
    ix, table = A.create_lookup_table(t.me, t.me, t.slot - 1)
    assert agree(t.run([ix])) is None
    for _ in range(8):
        assert agree(t.run([A.extend_lookup_table(table, t.me, t.me, _keys(30))])) is None
    assert agree(t.run([A.extend_lookup_table(table, t.me, t.me, _keys(17))])) is not None
    assert agree(t.run([A.extend_lookup_table(table, t.me, t.me, _keys(16))])) is None
    t.same(table)
    assert agree(t.run([A.extend_lookup_table(table, t.me, t.me, _keys(1))])) is not None
    assert len(t.table(table).addresses) == A.MAX_ADDRESSES


def _use(t: Twin, table: Pubkey, index: int) -> tuple[list[Instruction], AddressLookupTableAccount]:
    """A transfer to the table's address at ``index`` (looked up), and the table as the
    message compiles against it (every address it holds)."""
    acc = t.table(table)
    dest = acc.addresses[index]
    return [I.transfer(str(t.me), str(dest), 1_000_000)], acc


def test_lookups_resolve_from_the_next_slot_and_fail_as_litesvm_says() -> None:
    t = Twin()
    table = t.new_table(4)
    ixs, acc = _use(t, table, 2)
    dest = acc.addresses[2]
    assert agree(t.run(ixs, [acc])) == "InvalidAddressLookupTableIndex"  # extended this slot
    t.step()
    assert agree(t.run(ixs, [acc])) is None
    agree(t.balance(dest))
    # extended again this slot: the older entries serve, the new ones not yet
    agree(t.run([A.extend_lookup_table(table, t.me, t.me, _keys(2))]))
    assert agree(t.run(ixs, [acc])) is None
    ixs5, acc5 = _use(t, table, 5)
    assert agree(t.run(ixs5, [acc5])) == "InvalidAddressLookupTableIndex"
    t.step()
    assert agree(t.run(ixs5, [acc5])) is None
    # the message's lookups in getTransaction's shape
    out = t.chain.run(t._tx(ixs5, t.chain.latest_blockhash()[0], [acc5]), commit=False)
    assert out.loaded == ((str(acc5.addresses[5]),), ())


@pytest.mark.slow
@pytest.mark.parametrize("case", ["missing", "owner", "data", "deactivated"])
def test_a_bad_or_inactive_table_is_refused_as_litesvm_refuses_it(case: str) -> None:
    t = Twin()
    table = t.new_table(2)
    t.step()
    ixs, acc = _use(t, table, 1)
    if case == "missing":
        acc = AddressLookupTableAccount(Pubkey.new_unique(), acc.addresses)
    elif case in ("owner", "data"):
        key = Pubkey.new_unique()
        data = t.world.accounts[str(table)].data
        owner = ALT_ID if case == "data" else Pubkey.from_string(I.SPL_TOKEN)
        data = data[:-5] if case == "data" else data
        t.svm.set_account(key, SvmAccount(10**7, data, owner, False, 0))
        t.world.accounts[key.__str__()] = type(t.world.accounts[str(table)])(
            str(owner), data, 10**7
        )
        acc = AddressLookupTableAccount(key, acc.addresses)
    else:
        agree(t.run([A.deactivate_lookup_table(table, t.me)]))
        t.step(512)  # the deactivation slot is still in SlotHashes: it serves
        assert agree(t.run(ixs, [acc])) is None
        t.step()
    err = agree(t.run(ixs, [acc]))
    want = {
        "missing": "AddressLookupTableNotFound",
        "owner": "InvalidAddressLookupTableOwner",
        "data": "InvalidAddressLookupTableData",
        "deactivated": "AddressLookupTableNotFound",
    }[case]
    assert err == want


def test_refused_lookups_are_the_nodes_invalid_params_and_never_land() -> None:
    t = Twin()
    table = t.new_table(2)
    ixs, acc = _use(t, table, 0)
    tx = t._tx(ixs, t.chain.latest_blockhash()[0], [acc])
    wire = base64.b64encode(bytes(tx)).decode()
    want = "invalid transaction: Transaction address table lookup uses an invalid index"
    for call in (t.chain.simulate, t.chain.send):
        with pytest.raises(ChainError) as e:
            call([wire, {"encoding": "base64"}])
        assert (e.value.code, e.value.message) == (-32602, want)
    with pytest.raises(ChainError) as e:
        t.chain.send([wire, {"encoding": "base64", "skipPreflight": True}])
    assert e.value.code == -32602
    t.step()  # now it resolves: sent, it lands next slot with its lookups
    sig = t.chain.send([wire, {"encoding": "base64", "preflightCommitment": "processed"}])
    before = t.world.lamports(str(acc.addresses[0]))
    t.world.step()
    assert t.chain.statuses[sig][1] is None
    assert t.world.lamports(str(acc.addresses[0])) == before + 1_000_000
    assert str(acc.addresses[0]) in t.chain.by_address


def test_the_addresses_a_table_serves_are_agaves() -> None:
    rng = random.Random(7)
    for _ in range(400):
        current = 1_000 + rng.randrange(600)
        deact = rng.choice([2**64 - 1, current, current - rng.randrange(1, 530)])
        ext = current - rng.randrange(0, 3)
        n = rng.randrange(1, 20)
        start = rng.randrange(0, n + 1)
        meta = LookupTableMeta(deact, ext, start, Pubkey.new_unique(), 0)
        addrs = _keys(n)
        hashes = SlotHashes([(s, Hash.default()) for s in range(current - 1, current - 513, -1)])
        theirs: int | None
        try:
            # solders' stub names (key, addresses); the class takes (meta, addresses)
            table = AddressLookupTable(meta, addrs)  # type: ignore[arg-type]
            theirs = table.get_active_addresses_len(current, hashes)
        except ValueError:
            theirs = None
        ours = SA.Table(deact, ext, start, str(meta.authority), [str(a) for a in addrs])
        assert SA.active_len(ours, current) == theirs, (current, deact, ext, start)
        back = AddressLookupTable.deserialize(ours.encode())  # Agave's reading of our bytes
        assert (back.meta, back.addresses) == (meta, addrs)
        assert SA.decode(ours.encode()) == ours


async def test_get_transaction_shows_the_lookups_and_the_loaded_addresses() -> None:
    import json

    from solders.transaction_status import EncodedConfirmedTransactionWithStatusMeta

    from tests.support.node import rpc

    async with _node() as srv:
        url, kp, me = _payer(srv)
        ix, table = A.create_lookup_table(me, me, srv.world.slot - 1)
        dests = _keys(3)
        extend = A.extend_lookup_table(table, me, me, dests)
        setup = A.compile_v0(me, [ix, extend], srv.chain.latest_blockhash()[0])
        assert srv.chain.run(VersionedTransaction(setup, [kp]), commit=True).err is None
        srv.step()
        acc = A.table_account(table, srv.world.accounts[str(table)].data)
        pay = [I.transfer(str(me), str(dests[2]), 1_000_000)]
        msg = A.compile_v0(me, pay, srv.chain.latest_blockhash()[0], [acc])
        tx = VersionedTransaction(msg, [kp])
        wire = base64.b64encode(bytes(tx)).decode()
        cfg = {"encoding": "base64", "preflightCommitment": "confirmed"}
        sig = (await rpc(url, "sendTransaction", [wire, cfg]))["result"]
        srv.step()
        for enc in ("json", "jsonParsed"):
            got = await rpc(
                url,
                "getTransaction",
                [
                    sig,
                    {
                        "commitment": "confirmed",
                        "maxSupportedTransactionVersion": 0,
                        "encoding": enc,
                    },
                ],
            )
            parsed = EncodedConfirmedTransactionWithStatusMeta.from_json(json.dumps(got["result"]))
            meta = parsed.transaction.meta
            assert meta is not None and meta.err is None
            if enc == "json":
                assert meta.loaded_addresses is not None
                assert list(meta.loaded_addresses.writable) == [dests[2]]
                lookups = got["result"]["transaction"]["message"]["addressTableLookups"]
                assert lookups == [
                    {"accountKey": str(table), "writableIndexes": [2], "readonlyIndexes": []}
                ]
                assert len(meta.pre_balances) == len(msg.account_keys) + 1
            else:
                keys = got["result"]["transaction"]["message"]["accountKeys"]
                assert keys[-1] == {
                    "pubkey": str(dests[2]),
                    "writable": True,
                    "signer": False,
                    "source": "lookupTable",
                }
        sigs = await rpc(
            url, "getSignaturesForAddress", [str(dests[2]), {"commitment": "confirmed"}]
        )
        assert [s["signature"] for s in sigs["result"]] == [sig]


async def test_a_closed_table_is_gone_from_the_node_and_from_finalized_once_rooted() -> None:
    from tests.support.node import rpc

    async with _node() as srv:
        url, kp, me = _payer(srv)

        def send(ixs: list[Instruction]) -> None:
            msg = A.compile_v0(me, ixs, srv.chain.latest_blockhash()[0])
            wire = base64.b64encode(bytes(VersionedTransaction(msg, [kp]))).decode()
            srv.chain.send([wire, {"encoding": "base64", "preflightCommitment": "processed"}])
            srv.step()

        ix, table = A.create_lookup_table(me, me, srv.world.slot - 1)
        send([ix, A.extend_lookup_table(table, me, me, _keys(2))])
        send([A.deactivate_lookup_table(table, me)])
        for _ in range(A.SLOT_HASHES_MAX + 1):
            srv.step()
        recipient = Pubkey.new_unique()
        send([A.close_lookup_table(table, me, recipient)])
        info = {"encoding": "base64"}
        got = await rpc(url, "getAccountInfo", [str(table), {**info, "commitment": "confirmed"}])
        assert got["result"]["value"] is None
        assert srv.world.lamports(str(recipient)) > 0
        final = await rpc(url, "getAccountInfo", [str(table), info])  # as of the root: still there
        assert final["result"]["value"]["owner"] == A.ALT_PROGRAM
        for _ in range(32):
            srv.step()
        final = await rpc(url, "getAccountInfo", [str(table), info])
        assert final["result"]["value"] is None


def test_extend_batches_fill_a_table_in_transactions_that_fit_the_packet() -> None:
    t = Twin()
    ix, table = A.create_lookup_table(t.me, t.me, t.slot - 1)
    agree(t.run([ix]))
    wanted = _keys(200)
    budget = [I.set_compute_unit_limit(400_000), I.set_compute_unit_price(1)]
    batches = A.extend_batches(table, t.me, t.me, wanted, budget)
    for batch in batches:
        tx = t._tx([A.extend_lookup_table(table, t.me, t.me, batch)], t.chain.latest_blockhash()[0])
        assert len(bytes(tx)) <= 1232  # the signed bytes themselves
        msg = tx.message
        assert isinstance(msg, MessageV0) and A.tx_size(msg) == len(bytes(tx))
        assert agree(t.run([A.extend_lookup_table(table, t.me, t.me, batch)])) is None
    bigger = [*batches[0], wanted[len(batches[0])]]  # one more does not fit
    tx = t._tx([A.extend_lookup_table(table, t.me, t.me, bigger)], t.chain.latest_blockhash()[0])
    assert len(bytes(tx)) > 1232
    t.same(table)
    assert t.table(table).addresses == wanted
    assert A.missing(t.table(table), [*wanted[:3], Pubkey.default(), Pubkey.default()]) == [
        Pubkey.default()
    ]
    with pytest.raises(ValueError):
        A.extend_batches(table, t.me, t.me, _keys(57), room=56)


@pytest.mark.parametrize("n", [64, 65])
def test_a_transaction_names_at_most_64_accounts_with_its_lookups(n: int) -> None:
    t = Twin()
    ix, table = A.create_lookup_table(t.me, t.me, t.slot - 1)
    agree(t.run([ix]))
    ks = _keys(80)
    budget = [I.set_compute_unit_limit(400_000), I.set_compute_unit_price(1)]
    for batch in A.extend_batches(table, t.me, t.me, ks, budget):
        agree(t.run([A.extend_lookup_table(table, t.me, t.me, batch)]))
    t.step()
    base = I.transfer(str(t.me), str(ks[0]), 1_000_000)
    # payer, system program, compute budget program: n - 3 looked-up accounts
    extra = [AccountMeta(k, False, False) for k in ks[1 : n - 3]]
    ixx = Instruction(base.program_id, bytes(base.data), [*base.accounts, *extra])
    err = agree(t.run([ixx], [t.table(table)]))
    assert err == (None if n == 64 else "TooManyAccountLocks")
    agree(t.balance(t.me))


def test_an_account_both_named_and_looked_up_is_loaded_twice() -> None:
    from solders.message import MessageAddressTableLookup

    t = Twin()
    ix, table = A.create_lookup_table(t.me, t.me, t.slot - 1)
    agree(t.run([ix]))
    dest = Pubkey.new_unique()
    agree(t.run([A.extend_lookup_table(table, t.me, t.me, [dest, t.me])]))
    t.step()
    ok = A.compile_v0(
        t.me, [I.transfer(str(t.me), str(dest), 1_000_000)], Hash.default(), [t.table(table)]
    )
    # the same message, but its readonly lookup also loads the payer (index 1)
    lookup = ok.address_table_lookups[0]
    twice = MessageAddressTableLookup(
        lookup.account_key, bytes(lookup.writable_indexes), bytes([1])
    )
    got: list[Any] = []
    for bh in (t.svm.latest_blockhash(), Hash.from_string(t.chain.latest_blockhash()[0])):
        msg = MessageV0(ok.header, ok.account_keys, bh, ok.instructions, [twice])
        tx = VersionedTransaction(msg, [t.kp])
        if len(got) == 0:
            r = t.svm.send_transaction(tx)
            got.append(svm_error(r.err()) if hasattr(r, "err") else None)
        else:
            got.append(t.chain.run(tx, commit=True).err)
    assert got[0] == got[1] == "AccountLoadedTwice"


@pytest.mark.slow
async def test_web3js_makes_reads_and_uses_a_table(web3js: type[Web3Js]) -> None:
    """@solana/web3.js's own ALT builders, ``getAddressLookupTable`` and v0 compiler."""

    async with _node() as srv:
        for _ in range(40):  # a finalized slot past the start
            srv.step()
        kp = Keypair()
        srv.chain.airdrop([str(kp.pubkey()), 10**9])
        secret = list(bytes(kp))
        dests = [str(k) for k in _keys(3)]
        js = web3js(srv.infos()[0].http_url)
        made = await js.one({"op": "altCreate", "secret": secret, "addresses": dests})
        assert made["table"] == str(A.table_address(kp.pubkey(), made["recentSlot"])[0])
        srv.step()
        assert srv.chain.statuses[made["signature"]][1] is None
        srv.step()
        used = await js.one(
            {
                "op": "altUse",
                "secret": secret,
                "table": made["table"],
                "index": 2,
                "lamports": 1_000_000,
            }
        )
        ours = SA.decode(srv.world.accounts[made["table"]].data)
        assert ours is not None
        assert used["addresses"] == ours.addresses == dests
        assert used["authority"] == ours.authority == str(kp.pubkey())
        assert (
            int(used["deactivationSlot"]),
            used["lastExtendedSlot"],
            used["lastExtendedSlotStartIndex"],
        ) == (ours.deactivation_slot, ours.last_extended_slot, ours.start_index)
        assert used["active"] and used["lookups"] == 1
        srv.step()
        assert srv.chain.statuses[used["signature"]][1] is None
        assert srv.world.lamports(dests[2]) == 1_000_000


async def test_json_parsed_shows_a_table_as_the_account_decoder_does() -> None:
    """The shape is Agave's ``parse_address_lookup_table``; the values are checked against
    solders' reading of the same bytes, the answer against solders' RPC parser."""
    from solders.rpc.responses import GetAccountInfoMaybeJsonParsedResp

    from tests.support.node import rpc

    async with _node() as srv:
        url, kp, me = _payer(srv)
        ix, table = A.create_lookup_table(me, me, srv.world.slot - 1)
        extend = A.extend_lookup_table(table, me, me, _keys(3))
        msg = A.compile_v0(me, [ix, extend], srv.chain.latest_blockhash()[0])
        assert srv.chain.run(VersionedTransaction(msg, [kp]), commit=True).err is None
        srv.step()
        params = [str(table), {"encoding": "jsonParsed", "commitment": "confirmed"}]
        got = await rpc(url, "getAccountInfo", params)
        import json

        resp = GetAccountInfoMaybeJsonParsedResp.from_json(json.dumps(got))
        assert isinstance(resp, GetAccountInfoMaybeJsonParsedResp)
        value = resp.value
        assert value is not None and value.owner == ALT_ID
        data = value.data
        assert not isinstance(data, bytes) and data.program == "address-lookup-table"
        raw = AddressLookupTable.deserialize(srv.world.accounts[str(table)].data)
        assert data.parsed == {
            "type": "lookupTable",
            "info": {
                "deactivationSlot": str(raw.meta.deactivation_slot),
                "lastExtendedSlot": str(raw.meta.last_extended_slot),
                "lastExtendedSlotStartIndex": raw.meta.last_extended_slot_start_index,
                "authority": str(raw.meta.authority),
                "addresses": [str(a) for a in raw.addresses],
            },
        }
        assert data.space == A.META_SIZE + 3 * 32


async def test_get_fee_for_message_refuses_lookups_that_do_not_resolve() -> None:
    """Agave's getFeeForMessage: ``invalid transaction message: {SanitizeMessageError}``
    (the AddressLoaderError's Display) for lookups the bank cannot resolve; the fee of one
    that does."""
    from tests.support.node import rpc

    async with _node() as srv:
        url = srv.infos()[0].http_url
        await rpc(url, "getSlot", [])  # the slot clock's first step is behind us
        kp = Keypair()
        me = kp.pubkey()
        srv.chain.airdrop([str(me), 10**9])
        ix, table = A.create_lookup_table(me, me, srv.world.slot - 1)
        dests = _keys(2)
        msg = A.compile_v0(
            me, [ix, A.extend_lookup_table(table, me, me, dests)], srv.chain.latest_blockhash()[0]
        )
        assert srv.chain.run(VersionedTransaction(msg, [kp]), commit=True).err is None
        acc = A.table_account(table, srv.world.accounts[str(table)].data)
        pay = A.compile_v0(
            me, [I.transfer(str(me), str(dests[1]), 5)], srv.chain.latest_blockhash()[0], [acc]
        )
        from solders.message import to_bytes_versioned

        text = base64.b64encode(to_bytes_versioned(pay)).decode()
        got = await rpc(url, "getFeeForMessage", [text, {"commitment": "confirmed"}])
        assert got["error"] == {
            "code": -32602,
            "message": "invalid transaction message: Address lookup contains an invalid index",
        }
        srv.step()
        got = await rpc(url, "getFeeForMessage", [text, {"commitment": "confirmed"}])
        assert got["result"]["value"] == 5_000
