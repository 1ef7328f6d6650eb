"""TxView (feeds.wire.txview): one landed transaction read from a node's getTransaction /
getBlock JSON, from a Yellowstone gRPC transaction update and from its own JSON.

Oracles: solders' parse of the same JSON (``EncodedConfirmedTransactionWithStatusMeta``,
``UiTransactionStatusMeta``: Agave's types) agrees with the view field by field; the
transactions are built and signed with solders and run through the simulator's chain,
read back as its node serves them (json and base64 bodies), and as a gRPC update built
here from the .proto messages; the bincode of the runtime's errors is written out by
hand from the variant order of solana-transaction-error / solana-instruction-error.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from solders.transaction import Legacy, VersionedTransaction
from solders.transaction_status import (
    EncodedConfirmedTransactionWithStatusMeta,
    InstructionErrorFieldless,
    TransactionErrorFieldless,
)

import engine_rs
from feeds.wire import instructions as I
from feeds.wire import txview as T
from feeds.wire.geyser import geyser_pb2 as pb
from feeds.wire.geyser import solana_storage_pb2 as storage
from feeds.wire.txview import TxView, TxViewError, decode_transaction_error
from tests.support.rivals import WSOL, Desk, under_aggregator, with_inner, without_heights

AGGREGATOR = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tQVkTfP3P9n5pM4"


@pytest.fixture(scope="module")
def landed() -> dict[str, dict[str, Any]]:
    """getTransaction results of transactions landed on the simulator's chain: a v0
    arbitrage with a tip and a compute budget, one through a lookup table, a legacy one,
    a failed one (slippage), and the arbitrage reshaped: under an aggregator, with other
    inner instructions, as an old node serves it (no stack heights)."""
    d = Desk(3)
    a, b = d.pair(WSOL)
    x = d.other(a, WSOL)
    d.dislocate(a, x, 0.2)
    bot = d.wallet(tokens={WSOL: 10**10, x: 1})
    me = str(bot.pubkey())
    budget = [I.set_compute_unit_limit(400_000), I.set_compute_unit_price(5_000)]
    tip = I.transfer(me, I.JITO_TIP_ACCOUNTS[3], 10_000)
    arb = d.send(bot, [*budget, *d.cycle_ixs(bot, [a, b], WSOL, 10**8, 10**8), tip])
    d.land()
    legacy = d.send(bot, d.cycle_ixs(bot, [a, b], WSOL, 10**7, 1), legacy=True)
    d.land()
    failed = d.send(bot, d.cycle_ixs(bot, [b, a], WSOL, 10**7, 10**12), skip_preflight=True)
    d.land()
    table = d.table([a.address, a.vault_a, a.vault_b, b.address, b.vault_a, b.vault_b])
    looked = d.send(bot, d.cycle_ixs(bot, [a, b], WSOL, 10**7, 1), tables=[table])
    d.land()
    out = {
        name: d.rpc(sig)
        for name, sig in (("arb", arb), ("legacy", legacy), ("failed", failed), ("looked", looked))
    }
    out["arb64"] = d.rpc(arb, "base64")
    out["looked64"] = d.rpc(looked, "base64")
    assert out["failed"]["meta"]["err"] is not None
    assert out["looked"]["transaction"]["message"]["addressTableLookups"]
    assert "version" in out["legacy"] and out["legacy"]["version"] == "legacy"
    out["aggregated"] = under_aggregator(out["arb"], AGGREGATOR, [2, 3])
    out["inner"] = with_inner(
        out["arb"],
        2,
        [
            (I.SPL_TOKEN, [me, me, me], b"\x03" + (5).to_bytes(8, "little"), 2),
            (I.SYSTEM_PROGRAM, [me], b"\x00", 3),
        ],
    )
    # as a node older than v1.14.6 serves it: the chain's inner instructions, no heights
    out["inner_old"] = without_heights(out["arb"])
    return out


# ------------------------------------------------------------------ the oracle
def _oracle(result: dict[str, Any]) -> dict[str, Any]:
    """The fields solders' parse of ``result`` gives, in TxView's terms."""
    b58 = engine_rs.backend().b58decode
    e = EncodedConfirmedTransactionWithStatusMeta.from_json(json.dumps(result))
    t = e.transaction
    meta = t.meta
    assert meta is not None
    body = t.transaction
    if isinstance(body, VersionedTransaction):
        msg: Any = body.message
        outer = [
            (ix.program_id_index, tuple(bytes(ix.accounts)), bytes(ix.data))
            for ix in msg.instructions
        ]
    else:
        msg = body.message
        outer = [
            (ix.program_id_index, tuple(ix.accounts), bytes(b58(ix.data)))
            for ix in msg.instructions
        ]
    h = msg.header
    loaded = meta.loaded_addresses
    w = [str(k) for k in loaded.writable] if loaded else []
    r = [str(k) for k in loaded.readonly] if loaded else []
    inner = {g.index: g.instructions for g in (meta.inner_instructions or [])}
    ixs = []
    for i, (p, accs, data) in enumerate(outer):
        ixs.append((p, accs, data, 1, i))
        for ix in inner.get(i, []):
            ixs.append(
                (ix.program_id_index, tuple(ix.accounts), bytes(b58(ix.data)), ix.stack_height, i)
            )

    def tokens(rows: Any) -> list[tuple[Any, ...]]:
        return [
            (
                x.account_index,
                str(x.mint),
                None if x.owner is None else str(x.owner),
                None if x.program_id is None else str(x.program_id),
                int(x.ui_token_amount.amount),
                x.ui_token_amount.decimals,
            )
            for x in rows or []
        ]

    return {
        "signature": str(body.signatures[0]),
        "signatures": [str(s) for s in body.signatures],
        "slot": e.slot,
        "block_time": e.block_time,
        "version": None if t.version is None or isinstance(t.version, Legacy) else int(t.version),
        "header": (
            h.num_required_signatures,
            h.num_readonly_signed_accounts,
            h.num_readonly_unsigned_accounts,
        ),
        "keys": [str(k) for k in msg.account_keys] + w + r,
        "loaded": (len(w), len(r)),
        "blockhash": str(msg.recent_blockhash),
        "instructions": ixs,
        "err": json.loads(meta.to_json())["err"],
        "fee": meta.fee,
        "pre": list(meta.pre_balances),
        "post": list(meta.post_balances),
        "pre_tokens": tokens(meta.pre_token_balances),
        "post_tokens": tokens(meta.post_token_balances),
        "logs": meta.log_messages,
        "units": meta.compute_units_consumed,
    }


def _fields(v: TxView) -> dict[str, Any]:
    def tokens(rows: Any) -> list[tuple[Any, ...]]:
        return [(x.account, x.mint, x.owner, x.program, x.amount, x.decimals) for x in rows]

    return {
        "signature": v.signature,
        "signatures": list(v.signatures),
        "slot": v.slot,
        "block_time": v.block_time,
        "version": v.version,
        "header": v.header,
        "keys": list(v.keys),
        "loaded": v.loaded,
        "blockhash": v.recent_blockhash,
        "instructions": [
            (ix.program, ix.accounts, ix.data, ix.stack_height, ix.outer) for ix in v.instructions
        ],
        "err": v.err,
        "fee": v.fee,
        "pre": list(v.pre_lamports),
        "post": list(v.post_lamports),
        "pre_tokens": tokens(v.pre_tokens),
        "post_tokens": tokens(v.post_tokens),
        "logs": None if v.logs is None else list(v.logs),
        "units": v.compute_units,
    }


CASES = [
    "arb",
    "arb64",
    "legacy",
    "failed",
    "looked",
    "looked64",
    "aggregated",
    "inner",
    "inner_old",
]


@pytest.mark.parametrize("name", CASES)
def test_solders_reads_the_same_transaction_field_by_field(
    landed: dict[str, dict[str, Any]], name: str
) -> None:
    result = landed[name]
    v = TxView.from_rpc_json(result)
    assert _fields(v) == _oracle(result)
    assert v.signer == v.keys[0] == _oracle(result)["keys"][0]  # the fee payer


def test_json_and_base64_bodies_are_one_view(landed: dict[str, dict[str, Any]]) -> None:
    for plain, b64 in (("arb", "arb64"), ("looked", "looked64")):
        assert TxView.from_rpc_json(landed[plain]) == TxView.from_rpc_json(landed[b64])


def test_keys_are_static_then_loaded_writable_then_readonly_with_their_flags(
    landed: dict[str, dict[str, Any]],
) -> None:
    result = landed["looked"]
    v = TxView.from_rpc_json(result)
    msg, la = result["transaction"]["message"], result["meta"]["loadedAddresses"]
    static = msg["accountKeys"]
    assert v.keys == (*static, *la["writable"], *la["readonly"])
    assert v.loaded == (len(la["writable"]), len(la["readonly"])) and v.loaded[0] > 0
    parsed = VersionedTransaction.from_bytes(
        __import__("base64").b64decode(landed["looked64"]["transaction"][0])
    ).message
    for i in range(len(static)):
        assert v.writable[i] == parsed.is_maybe_writable(i), i  # solders' rule of the header
    assert v.writable[len(static) :] == (True,) * v.loaded[0] + (False,) * v.loaded[1]
    assert v.version == 0 and TxView.from_rpc_json(landed["legacy"]).version is None


def test_inner_instructions_follow_their_outer_one_in_execution_order(
    landed: dict[str, dict[str, Any]],
) -> None:
    agg = landed["aggregated"]
    v = TxView.from_rpc_json(agg)
    heights = [(ix.outer, ix.stack_height) for ix in v.instructions]
    groups = {g["index"]: g["instructions"] for g in agg["meta"]["innerInstructions"]}
    want = []
    for i in range(len(agg["transaction"]["message"]["instructions"])):
        want.append((i, 1))
        want += [(i, ix["stackHeight"]) for ix in groups.get(i, [])]
    assert heights == want
    # the aggregator's frame: its two swaps by CPI (height 2), each with the token
    # transfers its program makes (height 3)
    assert [h for o, h in heights if o == 2] == [1, 2, 3, 3, 2, 3, 3]
    assert v.program_of(v.instructions[2]) == AGGREGATOR
    assert [ix.inner for ix in v.instructions] == [h != 1 for _, h in heights]
    assert len(v.outer_instructions()) == 4
    old_json = landed["inner_old"]
    old = TxView.from_rpc_json(old_json)
    kept = [
        (g["index"], None) for g in old_json["meta"]["innerInstructions"] for _ in g["instructions"]
    ]
    assert kept  # the chain's transfers under both swaps
    assert [(ix.outer, ix.stack_height) for ix in old.instructions if ix.inner] == kept


def test_a_block_entry_takes_its_slot_index_and_time_from_the_block(
    landed: dict[str, dict[str, Any]],
) -> None:
    entries = []
    for name in ("arb", "legacy", "failed"):
        r = landed[name]
        entries.append(
            {"transaction": r["transaction"], "meta": r["meta"], "version": r["version"]}
        )
    block = {"blockTime": 1_700_000_000, "blockhash": "x", "transactions": entries}
    views = TxView.from_rpc_block(block, 1234)
    assert [(v.slot, v.index, v.block_time) for v in views] == [
        (1234, i, 1_700_000_000) for i in range(3)
    ]
    assert views[0] == dataclasses.replace(
        TxView.from_rpc_json(landed["arb"]), slot=1234, index=0, block_time=1_700_000_000
    )
    with pytest.raises(TxViewError, match=r"block.transactions\[1\].meta"):
        TxView.from_rpc_block(
            {"transactions": [entries[0], {"transaction": entries[1]["transaction"]}]}, 1
        )
    with pytest.raises(TxViewError, match="slot"):
        TxView.from_rpc_json(entries[0])  # a block entry says no slot


@pytest.mark.parametrize("name", CASES)
def test_its_own_json_reads_back_equal(landed: dict[str, dict[str, Any]], name: str) -> None:
    v = TxView.from_rpc_json(landed[name])
    text = json.dumps(v.to_json())
    back = TxView.from_json(json.loads(text))
    assert back == v and back.to_json() == v.to_json()
    assert json.loads(text)["v"] == T.FORMAT


# ------------------------------------------------------------------ gRPC
def _bincode(err: Any) -> bytes:
    """The runtime error's bincode, written out by hand for a custom program error (the
    only kind the chain's transactions here fail with): ``InstructionError`` is variant 8
    of solana-transaction-error, ``Custom`` variant 25 of solana-instruction-error."""
    (index, inner) = err["InstructionError"]
    code = inner["Custom"]
    return (
        bytes.fromhex("08000000")
        + bytes([index])
        + bytes.fromhex("19000000")
        + code.to_bytes(4, "little")
    )


def _grpc(result: dict[str, Any], index: int) -> pb.SubscribeUpdateTransaction:
    """A Yellowstone transaction update of a getTransaction ``json`` result, built here
    field by field from the .proto messages."""
    b58 = engine_rs.backend().b58decode
    body, meta = result["transaction"], result["meta"]
    msg = body["message"]
    h = msg["header"]
    m = storage.Message(
        header=storage.MessageHeader(
            num_required_signatures=h["numRequiredSignatures"],
            num_readonly_signed_accounts=h["numReadonlySignedAccounts"],
            num_readonly_unsigned_accounts=h["numReadonlyUnsignedAccounts"],
        ),
        account_keys=[b58(k) for k in msg["accountKeys"]],
        recent_blockhash=b58(msg["recentBlockhash"]),
        instructions=[
            storage.CompiledInstruction(
                program_id_index=ix["programIdIndex"],
                accounts=bytes(ix["accounts"]),
                data=b58(ix["data"]),
            )
            for ix in msg["instructions"]
        ],
        versioned=result.get("version") == 0,
        address_table_lookups=[
            storage.MessageAddressTableLookup(
                account_key=b58(lk["accountKey"]),
                writable_indexes=bytes(lk["writableIndexes"]),
                readonly_indexes=bytes(lk["readonlyIndexes"]),
            )
            for lk in msg.get("addressTableLookups") or []
        ],
    )

    def tokens(rows: Any) -> list[Any]:
        return [
            storage.TokenBalance(
                account_index=t["accountIndex"],
                mint=t["mint"],
                ui_token_amount=storage.UiTokenAmount(
                    ui_amount=t["uiTokenAmount"]["uiAmount"] or 0.0,
                    decimals=t["uiTokenAmount"]["decimals"],
                    amount=t["uiTokenAmount"]["amount"],
                    ui_amount_string=t["uiTokenAmount"]["uiAmountString"],
                ),
                owner=t.get("owner") or "",
                program_id=t.get("programId") or "",
            )
            for t in rows
        ]

    sm = storage.TransactionStatusMeta(
        fee=meta["fee"],
        pre_balances=meta["preBalances"],
        post_balances=meta["postBalances"],
        inner_instructions=[
            storage.InnerInstructions(
                index=g["index"],
                instructions=[
                    storage.InnerInstruction(
                        program_id_index=ix["programIdIndex"],
                        accounts=bytes(ix["accounts"]),
                        data=b58(ix["data"]),
                        **(
                            {} if ix["stackHeight"] is None else {"stack_height": ix["stackHeight"]}
                        ),
                    )
                    for ix in g["instructions"]
                ],
            )
            for g in meta["innerInstructions"]
        ],
        log_messages=meta["logMessages"],
        pre_token_balances=tokens(meta["preTokenBalances"]),
        post_token_balances=tokens(meta["postTokenBalances"]),
        loaded_writable_addresses=[b58(k) for k in meta["loadedAddresses"]["writable"]],
        loaded_readonly_addresses=[b58(k) for k in meta["loadedAddresses"]["readonly"]],
        compute_units_consumed=meta["computeUnitsConsumed"],
    )
    if meta["err"] is not None:
        sm.err.err = _bincode(meta["err"])
    info = pb.SubscribeUpdateTransactionInfo(
        signature=b58(body["signatures"][0]),
        is_vote=False,
        transaction=storage.Transaction(signatures=[b58(s) for s in body["signatures"]], message=m),
        meta=sm,
        index=index,
    )
    return pb.SubscribeUpdateTransaction(transaction=info, slot=result["slot"])


@pytest.mark.parametrize(
    "name", ["arb", "legacy", "failed", "looked", "aggregated", "inner", "inner_old"]
)
def test_a_grpc_update_reads_as_the_rpc_json_does(
    landed: dict[str, dict[str, Any]], name: str
) -> None:
    result = landed[name]
    update = _grpc(result, 7)
    want = dataclasses.replace(TxView.from_rpc_json(result), index=7, block_time=None)
    assert TxView.from_grpc(update.SerializeToString()) == want
    assert TxView.from_grpc(update) == want
    assert TxView.from_grpc(pb.SubscribeUpdate(transaction=update)) == want
    assert TxView.from_grpc(update.transaction.SerializeToString(), slot=result["slot"]) == want
    assert TxView.from_grpc(update.transaction, slot=result["slot"]) == want


def test_what_the_simulators_grpc_serves_today_agrees_with_its_rpc() -> None:
    """The simulator's transaction updates are being completed elsewhere: today they carry
    the signature, the logs, the error and the programs; once they carry the whole body and
    meta, the view is the RPC's. Until then the reader refuses them by name."""
    d = Desk(3)
    a, b = d.pair(WSOL)
    bot = d.wallet(tokens={WSOL: 10**10, d.other(a, WSOL): 1})
    sig = d.send(bot, d.cycle_ixs(bot, [a, b], WSOL, 10**7, 1))
    d.land()
    rpc = TxView.from_rpc_json(d.rpc(sig))
    raw = d.grpc(sig)
    u = pb.SubscribeUpdate()
    u.ParseFromString(raw)
    info = u.transaction.transaction
    assert u.transaction.slot == rpc.slot
    assert list(info.meta.log_messages) == list(rpc.logs or ())
    whole = info.transaction.message.header.num_required_signatures > 0
    if whole:
        got = TxView.from_grpc(u)
        assert got == dataclasses.replace(rpc, index=got.index, block_time=None)
    else:
        with pytest.raises(TxViewError) as e:
            TxView.from_grpc(u)
        assert e.value.field in (
            "header",
            "meta.preBalances",
            "transaction.message.recent_blockhash",
        )


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("hexed", "json_form"),
    [
        ("00000000", "AccountInUse"),
        ("07000000", "BlockhashNotFound"),
        ("08000000021900000094170000", {"InstructionError": [2, {"Custom": 6036}]}),
        ("080000000002000000", {"InstructionError": [0, "InvalidInstructionData"]}),
        ("080000000513000000", {"InstructionError": [5, "NotEnoughAccountKeys"]}),
        ("080000000125000000", {"InstructionError": [1, "ComputationalBudgetExceeded"]}),
        ("08000000012c000000", {"InstructionError": [1, "BorshIoError"]}),
        ("08000000012c0000000300000000000000616263", {"InstructionError": [1, "BorshIoError"]}),
        ("1e00000002", {"DuplicateInstruction": 2}),
        ("1f00000003", {"InsufficientFundsForRent": {"account_index": 3}}),
        ("2300000004", {"ProgramExecutionTemporarilyRestricted": {"account_index": 4}}),
        ("26000000", "CommitCancelled"),
    ],
)
def test_the_runtimes_bincode_error_reads_as_its_json(hexed: str, json_form: Any) -> None:
    assert decode_transaction_error(bytes.fromhex(hexed)) == json_form
    assert T.valid_error(json_form) == json_form


@pytest.mark.parametrize(
    "hexed",
    [
        "",
        "000000",
        "27000000",
        "08000000",
        "0800000002190000009417",
        "080000000237000000",
        "0000000000",
    ],
)
def test_bytes_that_are_no_error_are_refused(hexed: str) -> None:
    with pytest.raises(TxViewError, match=r"meta\.err\.err"):
        decode_transaction_error(bytes.fromhex(hexed))


def test_the_error_names_are_solders_own() -> None:
    """Every unit variant solders knows is one of the table's (and the reverse, less the
    ones with data and those newer than solders 0.29)."""
    fieldless = {n for n in dir(TransactionErrorFieldless) if n[0].isupper()}
    with_data = {
        "InstructionError",
        "DuplicateInstruction",
        "InsufficientFundsForRent",
        "ProgramExecutionTemporarilyRestricted",
    }
    assert fieldless <= set(T.TRANSACTION_ERRORS)
    assert (
        set(T.TRANSACTION_ERRORS) - fieldless - with_data
        <= {"CommitCancelled", "UnbalancedTransaction"} | fieldless
    )
    ifieldless = {n for n in dir(InstructionErrorFieldless) if n[0].isupper()}
    assert ifieldless <= set(T.INSTRUCTION_ERRORS)
    assert set(T.INSTRUCTION_ERRORS) - ifieldless <= {"Custom", "BailOut", "MissingAccount"}


# ------------------------------------------------------------------ malformed input
def _set(path: str, value: Any) -> Any:
    def change(r: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = r
        for p in head:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is _DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()
MALFORMED: list[tuple[str, Any, str]] = [
    ("arb", _set("meta", _DELETE), "meta"),
    ("arb", _set("slot", "12"), "slot"),
    ("arb", lambda r: r["meta"]["preBalances"].pop(), "meta.preBalances"),
    ("arb", _set("meta.postBalances.0", -1), "meta.postBalances[0]"),
    (
        "arb",
        _set("transaction.message.instructions.2.accounts", [0, 999]),
        "transaction.message.instructions[2].accounts",
    ),
    (
        "arb",
        _set("transaction.message.instructions.2.accounts", [0, 200]),
        "instructions[2].accounts",
    ),
    (
        "arb",
        _set("transaction.message.instructions.2.programIdIndex", 77),
        "instructions[2].program",
    ),
    (
        "arb",
        _set("transaction.message.instructions.0.data", "0OIl"),
        "transaction.message.instructions[0].data",
    ),
    (
        "arb",
        _set("transaction.message.accountKeys.1", "short"),
        "transaction.message.accountKeys[1]",
    ),
    ("arb", _set("transaction.message.header.numRequiredSignatures", 3), "signatures"),
    ("arb", _set("transaction.message.header.numReadonlyUnsignedAccounts", 40), "header"),
    ("arb", _set("transaction.signatures.0", "1111"), "transaction.signatures[0]"),
    ("arb", _set("meta.err", {"NoSuchError": 1}), "meta.err"),
    ("arb", lambda r: [r["meta"].pop(k) for k in ("err", "status")], "meta.err"),
    ("arb", _set("meta.fee", 1.5), "meta.fee"),
    (
        "arb",
        _set("meta.preTokenBalances.0.uiTokenAmount.amount", "12.5"),
        "meta.preTokenBalances[0].uiTokenAmount.amount",
    ),
    ("arb", _set("meta.preTokenBalances.0.accountIndex", 250), "meta.preTokenBalances"),
    ("arb", _set("meta.preTokenBalances.0.mint", 5), "meta.preTokenBalances[0].mint"),
    ("arb", _set("meta.logMessages", [1]), "meta.logMessages[0]"),
    (
        "arb",
        _set("meta.innerInstructions", [{"index": 9, "instructions": []}]),
        "meta.innerInstructions[0].index",
    ),
    (
        "arb",
        _set(
            "meta.innerInstructions",
            [
                {
                    "index": 1,
                    "instructions": [
                        {"programIdIndex": 0, "accounts": [], "data": "", "stackHeight": 1}
                    ],
                }
            ],
        ),
        "meta.innerInstructions[0].instructions[0].stackHeight",
    ),
    (
        "arb",
        _set("transaction.message.accountKeys.0", {"pubkey": "x"}),
        "transaction.message.accountKeys",
    ),
    ("looked", _set("meta.loadedAddresses", _DELETE), "meta.loadedAddresses"),
    ("looked", lambda r: r["meta"]["loadedAddresses"]["writable"].pop(), "meta.loadedAddresses"),
    (
        "legacy",
        _set("meta.loadedAddresses", {"writable": [WSOL], "readonly": []}),
        "meta.loadedAddresses",
    ),
    ("arb", _set("version", "legacy"), "version"),
    ("legacy", _set("version", 0), "version"),
    ("arb64", _set("transaction.0", "AAAA"), "transaction[0]"),
    ("arb64", _set("transaction.1", "base32"), "transaction"),
    ("arb64", _set("transaction.0", "!!"), "transaction[0]"),
]


@pytest.mark.parametrize(("name", "change", "field"), MALFORMED)
def test_malformed_json_is_refused_naming_the_field(
    landed: dict[str, dict[str, Any]], name: str, change: Any, field: str
) -> None:
    r = copy.deepcopy(landed[name])
    change(r)
    with pytest.raises(TxViewError) as e:
        TxView.from_rpc_json(r)
    assert e.value.field == field, str(e.value)
    assert isinstance(e.value, ValueError)


def test_malformed_grpc_updates_are_refused_naming_the_field(
    landed: dict[str, dict[str, Any]],
) -> None:
    good = _grpc(landed["failed"], 0)

    def refused(u: Any, field: str) -> None:
        with pytest.raises(TxViewError) as e:
            TxView.from_grpc(u)
        assert e.value.field == field, str(e.value)

    refused(good.SerializeToString()[:-9], "SubscribeUpdateTransaction")
    u = copy.deepcopy(good)
    u.transaction.meta.err.err += b"\x00"
    refused(u, "meta.err.err")
    u = copy.deepcopy(good)
    u.transaction.signature = bytes(64)
    refused(u, "signature")
    u = copy.deepcopy(good)
    u.transaction.transaction.message.account_keys[1] = bytes(31)
    refused(u, "transaction.message.account_keys[1]")
    u = copy.deepcopy(good)
    u.transaction.meta.ClearField("pre_balances")
    refused(u, "meta.preBalances")
    u = copy.deepcopy(good)
    u.transaction.meta.pre_token_balances[0].ui_token_amount.amount = "-1"
    refused(u, "meta.pre_token_balances[0].ui_token_amount.amount")
    u = copy.deepcopy(good)
    u.transaction.ClearField("meta")
    refused(u, "meta")
    refused(pb.SubscribeUpdate(ping=pb.SubscribeUpdatePing()), "SubscribeUpdate")
    refused(good.transaction, "slot")  # an info alone does not say its slot


def test_its_own_json_of_another_version_or_shape_is_refused(
    landed: dict[str, dict[str, Any]],
) -> None:
    own = TxView.from_rpc_json(landed["arb"]).to_json()
    for change, field in [
        (_set("v", 2), "v"),
        (_set("ixs.0", [0, [], "AA=="]), "ixs[0]"),
        (_set("ixs.0.2", "%%"), "ixs[0].data"),
        (_set("pre_tokens.0.4", 5), "pre_tokens[0].amount"),
        (_set("version", 1), "version"),
        (_set("keys.0", "x"), "keys[0]"),
        (lambda r: r["post"].append(1), "meta.postBalances"),
    ]:
        bad = copy.deepcopy(own)
        change(bad)
        with pytest.raises(TxViewError) as e:
            TxView.from_json(bad)
        assert e.value.field == field, str(e.value)
