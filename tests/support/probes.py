"""The conformance probes (:mod:`tests.support.conformance`): every JSON-RPC method and
PubSub subscription arbscope calls or the simulator serves, each sent the same way to
Agave's validator and to the simulator over the same market.

Each probe returns named answers; :data:`PROBES` lists them. :func:`run` runs them on
one node in strands at once: the reads, and the transactions (``setup`` first: the
others spend what it funds; then the transfer beside the rest, each with its own payer).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import zstandard
from solders.keypair import Keypair

from feeds.sim import node as N
from feeds.sim.export import WALLET_LAMPORTS
from feeds.wire import instructions as I
from tests.support.conformance import Exact, Target, mask, transfer, wire
from tests.support.envelope import CASES

Probe = Callable[[Target], Awaitable[dict[str, Any]]]
PROBES: dict[str, Probe] = {}
ALT_PROGRAM = "AddressLookupTab1e1111111111111111111111111"
NOWHERE = "8opHzTAnfzRpPEx21XtnrVTX28YQuCpAjcn1PczScKh"  # a key no account has


def probe(fn: Probe) -> Probe:
    PROBES[fn.__name__.removeprefix("p_")] = fn
    return fn


# the transactions: ``setup`` first, then two strands at once (each its own payer)
SETUP = "setup"
STRANDS = (("transfer",), ("refusals", "swap", "lookup_table"))
CHAIN = (SETUP, *(n for strand in STRANDS for n in strand))


async def run(
    t: Target, names: Sequence[str] | None = None, seconds: dict[str, float] | None = None
) -> dict[str, Any]:
    """Every probe (or those of ``names``) on ``t``: ``{"probe: answer": answer}``
    (``seconds``: each probe's time, filled in)."""
    import asyncio
    import time

    wanted = list(PROBES) if names is None else list(names)
    out: dict[str, Any] = {}

    async def strand(group: list[str]) -> None:
        for name in group:
            began = time.monotonic()
            for key, value in (await PROBES[name](t)).items():
                out[f"{name}: {key}"] = value
            if seconds is not None:
                seconds[name] = round(time.monotonic() - began, 2)

    async def transactions() -> None:
        if SETUP in wanted:
            await strand([SETUP])
        await asyncio.gather(*(strand([n for n in s if n in wanted]) for s in STRANDS))

    await asyncio.gather(strand([n for n in wanted if n not in CHAIN]), transactions())
    return dict(sorted(out.items()))


def _pool(t: Target, kind: str) -> str:
    return next(a for a, k in t.market.pools if k == kind)


def _error(answer: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A JSON-RPC answer with its error's message masked (see :func:`mask`)."""
    if "error" in answer:
        err = dict(answer["error"])
        err["message"] = mask(err["message"], values)
        if isinstance(err.get("data"), str):
            err["data"] = mask(err["data"], values)
        return {**answer, "error": err}
    return answer


# ------------------------------------------------------------------ the cluster
@probe
async def p_cluster(t: Target) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for method in ("getHealth", "getVersion", "getGenesisHash", "getEpochSchedule"):
        out[method] = await t.call(method)
    out["getEpochSchedule extra"] = await t.call("getEpochSchedule", [1])
    for level in ("processed", "confirmed", "finalized"):
        cfg = [{"commitment": level}]
        out[f"getSlot {level}"] = await t.call("getSlot", cfg)
        out[f"getBlockHeight {level}"] = await t.call("getBlockHeight", cfg)
        out[f"getEpochInfo {level}"] = await t.call("getEpochInfo", cfg)
        out[f"getLatestBlockhash {level}"] = await t.call("getLatestBlockhash", cfg)
    out["getSlot default"] = await t.call("getSlot")
    out["getSlot bad commitment"] = await t.call("getSlot", [{"commitment": "recent"}])
    slot = await t.slot("processed")
    far = slot + 1_000_000
    out["getSlot minContextSlot"] = _error(
        await t.call("getSlot", [{"commitment": "processed", "minContextSlot": far}]), far=far
    )
    ok = await t.call("getLatestBlockhash", [{"commitment": "processed"}])
    bh = ok["result"]["value"]["blockhash"]
    out["isBlockhashValid"] = await t.call("isBlockhashValid", [bh, {"commitment": "processed"}])
    out["isBlockhashValid unknown"] = await t.call(
        "isBlockhashValid", [NOWHERE, {"commitment": "processed"}]
    )
    out["isBlockhashValid bad"] = await t.call("isBlockhashValid", ["xyz0"])
    out["getMinimumBalanceForRentExemption"] = await t.call(
        "getMinimumBalanceForRentExemption", [165]
    )
    out["rent 165"] = Exact(out["getMinimumBalanceForRentExemption"].get("result"))
    out["rent too large"] = await t.call("getMinimumBalanceForRentExemption", [11 * 1024 * 1024])
    out["getRecentPrioritizationFees"] = await t.call("getRecentPrioritizationFees", [])
    out["requestAirdrop"] = await t.call("requestAirdrop", [str(t.key("airdrop").pubkey()), 10**9])
    out["requestAirdrop bad key"] = await t.call("requestAirdrop", ["nope", 10**9])
    out["simulateBundle"] = await t.call("simulateBundle", [{"encodedTransactions": []}])
    out["GET /health"] = await t.get("/health")
    out["getRecentPrioritizationFees bad key"] = await t.call(
        "getRecentPrioritizationFees", [["nope"]]
    )
    out["getRecentPrioritizationFees too many"] = await t.call(
        "getRecentPrioritizationFees", [[NOWHERE] * 129]
    )
    return out


# ------------------------------------------------------------------ the envelope
@probe
async def p_envelope(t: Target) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["unknown method"] = await t.call("getNothing", [])
    out["bad json"] = await t.post(b'{"jsonrpc":"2.0","id":1,"method":"getSlot"')
    out["not an object"] = await t.post(b"42")
    out["no version"] = await t.post(b'{"id":1,"method":"getSlot"}')
    out["old version"] = await t.post(b'{"jsonrpc":"1.0","id":1,"method":"getSlot"}')
    out["notification"] = await t.post(b'{"jsonrpc":"2.0","method":"getSlot"}')
    out["batch"] = await t.post(
        b'[{"jsonrpc":"2.0","id":1,"method":"getHealth"},'
        b'{"jsonrpc":"2.0","method":"getHealth"},{"jsonrpc":"2.0","id":3,"method":"nope"}]'
    )
    out["empty batch"] = await t.post(b"[]")
    out["named params"] = await t.post(
        b'{"jsonrpc":"2.0","id":1,"method":"getBalance","params":{"pubkey":"x"}}'
    )
    out["no params where needed"] = await t.call("getBalance", [])
    out["too many params"] = await t.call("getBalance", [NOWHERE, {}, 3])
    out["params to a method taking none"] = await t.call("getHealth", [1])
    out["wrong type"] = await t.call("getBalance", [5])
    out["bad pubkey"] = await t.call("getBalance", ["0OIl"])
    out["short pubkey"] = await t.call("getBalance", ["1111"])
    out["GET"] = await t.post(b"", content_type="", method="GET")
    out["text/plain"] = await t.post(b'{"jsonrpc":"2.0","id":1,"method":"getSlot"}', "text/plain")
    return out


# ------------------------------------------------------------------ accounts
ENCODINGS = ("base58", "base64", "base64+zstd", "jsonParsed", "binary")


def _data(value: Any) -> bytes | None:
    """The account data an encoded value carries (None: parsed JSON)."""
    if isinstance(value, str):
        return N.b58decode(value)
    if isinstance(value, list):
        text, enc = value
        if enc == "base58":
            return N.b58decode(text)
        raw = base64.b64decode(text)
        return (
            zstandard.ZstdDecompressor().decompressobj().decompress(raw)
            if enc == "base64+zstd"
            else raw
        )
    return None


def _account(answer: dict[str, Any]) -> Any:
    """An account answer's value with its data decoded, for an exact comparison."""
    v = answer.get("result", {})
    v = v.get("value") if isinstance(v, dict) and "context" in v else v
    if not isinstance(v, dict) or "data" not in v:
        return v
    d = _data(v["data"])
    return {**v, "data": base64.b64encode(d).decode() if d is not None else v["data"]}


@probe
async def p_accounts(t: Target) -> dict[str, Any]:
    out: dict[str, Any] = {}
    mint = t.market.bases[1]  # USDC: a mint nothing moves
    trader = str(t.wallet("trader-3").pubkey())
    ata = I.ata_address(trader, mint)
    pool = _pool(t, "whirlpool")
    processed = {"commitment": "processed"}
    out["getBalance"] = await t.call("getBalance", [trader, processed])
    # the market's wallet as exported (another test of the session may have spent it)
    balance = out["getBalance"].get("result", {}).get("value")
    out["trader untouched"] = Exact(balance == WALLET_LAMPORTS, gate=True)
    untouched = ("trader untouched",)
    out["getBalance value"] = Exact(balance, untouched)
    for key, name in ((mint, "mint"), (ata, "token account"), (trader, "wallet")):
        for enc in ENCODINGS:
            got = await t.call("getAccountInfo", [key, {"encoding": enc, **processed}])
            out[f"getAccountInfo {name} {enc}"] = got
            out[f"getAccountInfo {name} {enc} value"] = Exact(_account(got), untouched)
    for key in (I.SYSTEM_PROGRAM, I.COMPUTE_BUDGET, "SysvarC1ock11111111111111111111111111111111"):
        got = await t.call("getAccountInfo", [key, {"encoding": "base64", **processed}])
        out[f"getAccountInfo {key[:12]}"] = got
        value = (got.get("result") or {}).get("value") or {}
        if key != "SysvarC1ock11111111111111111111111111111111":  # the clock moves
            out[f"getAccountInfo {key[:12]} value"] = Exact(value)
        else:
            out[f"getAccountInfo {key[:12]} value"] = Exact({**value, "data": "…"})
    out["getAccountInfo default encoding"] = await t.call("getAccountInfo", [mint, processed])
    out["getAccountInfo missing"] = await t.call("getAccountInfo", [NOWHERE, processed])
    out["getAccountInfo big base58"] = await t.call(
        "getAccountInfo", [pool, {"encoding": "base58", **processed}]
    )
    for enc in ENCODINGS:
        cut = {"encoding": enc, "dataSlice": {"offset": 4, "length": 40}, **processed}
        got = await t.call("getAccountInfo", [pool, cut])
        out[f"getAccountInfo slice {enc}"] = got
        out[f"getAccountInfo slice {enc} value"] = Exact(_account(got))
    out["getAccountInfo slice past the end"] = await t.call(
        "getAccountInfo", [mint, {"encoding": "base64", "dataSlice": {"offset": 900, "length": 4}}]
    )
    out["getAccountInfo bad encoding"] = await t.call("getAccountInfo", [mint, {"encoding": "hex"}])
    out["getAccountInfo bad slice"] = await t.call(
        "getAccountInfo", [mint, {"dataSlice": {"offset": 1}}]
    )
    out["getMultipleAccounts"] = await t.call(
        "getMultipleAccounts", [[mint, NOWHERE, pool], processed]
    )
    out["getMultipleAccounts default"] = await t.call("getMultipleAccounts", [[mint]])
    out["getMultipleAccounts too many"] = await t.call("getMultipleAccounts", [[mint] * 101])
    out["getMultipleAccounts not a list"] = await t.call("getMultipleAccounts", [mint])
    for enc in ENCODINGS:
        out[f"getMultipleAccounts {enc}"] = await t.call(
            "getMultipleAccounts",
            [[mint, ata], {"encoding": enc, **processed, "dataSlice": {"offset": 0, "length": 8}}],
        )
    out["getBalance missing"] = await t.call("getBalance", [NOWHERE, processed])
    out["getTokenAccountBalance"] = await t.call("getTokenAccountBalance", [ata, processed])
    out["getTokenAccountBalance value"] = Exact(
        out["getTokenAccountBalance"].get("result", {}).get("value"), untouched
    )
    out["getTokenAccountBalance not a token account"] = await t.call(
        "getTokenAccountBalance", [trader, processed]
    )
    out["getTokenAccountBalance missing"] = await t.call(
        "getTokenAccountBalance", [NOWHERE, processed]
    )
    out["getTokenSupply"] = await t.call("getTokenSupply", [mint, processed])
    out["getTokenSupply value"] = Exact(out["getTokenSupply"].get("result", {}).get("value"))
    out["getTokenSupply not a mint"] = await t.call("getTokenSupply", [ata, processed])
    out["getTokenAccountsByOwner mint"] = await t.call(
        "getTokenAccountsByOwner", [trader, {"mint": mint}, {"encoding": "jsonParsed", **processed}]
    )
    out["getTokenAccountsByOwner program"] = await t.call(
        "getTokenAccountsByOwner",
        [trader, {"programId": I.SPL_TOKEN}, {"encoding": "base64", **processed}],
    )
    out["getTokenAccountsByOwner bad program"] = await t.call(
        "getTokenAccountsByOwner", [trader, {"programId": NOWHERE}, processed]
    )
    out["getTokenAccountsByOwner bad filter"] = await t.call(
        "getTokenAccountsByOwner", [trader, {"owner": mint}, processed]
    )
    return out


@probe
async def p_program_accounts(t: Target) -> dict[str, Any]:
    out: dict[str, Any] = {}
    from feeds.venues import by_kind

    wp = by_kind("whirlpool")
    pools = sorted(a for a, k in t.market.pools if k == "whirlpool")
    first = pools[0]
    processed = {"commitment": "processed"}
    size = {"dataSize": 653}
    cut = {"offset": 0, "length": 8}
    for enc in ENCODINGS:
        got = await t.call(
            "getProgramAccounts",
            [wp.program, {"encoding": enc, "filters": [size], "dataSlice": cut, **processed}],
        )
        out[f"getProgramAccounts {enc}"] = got
    got = await t.call(
        "getProgramAccounts",
        [wp.program, {"encoding": "base64", "filters": [size], "dataSlice": cut, **processed}],
    )
    out["getProgramAccounts pools"] = Exact(sorted(x["pubkey"] for x in got.get("result", [])))
    out["getProgramAccounts order"] = Exact(
        [x["pubkey"] for x in got.get("result", [])]
        == sorted((x["pubkey"] for x in got.get("result", [])), key=N.pubkey_bytes)
    )
    acc = await t.result("getAccountInfo", [first, {"encoding": "base64", **processed}])
    mint_a = base64.b64decode(acc["value"]["data"][0])[101:133]
    for name, memcmp in (
        ("base58", {"offset": 101, "bytes": N.b58encode(mint_a)}),
        (
            "base64",
            {"offset": 101, "bytes": base64.b64encode(mint_a).decode(), "encoding": "base64"},
        ),
    ):
        got = await t.call(
            "getProgramAccounts",
            [
                wp.program,
                {
                    "encoding": "base64",
                    "dataSlice": cut,
                    "filters": [size, {"memcmp": memcmp}],
                    **processed,
                },
            ],
        )
        out[f"getProgramAccounts memcmp {name}"] = Exact(
            sorted(x["pubkey"] for x in got.get("result", []))
        )
    out["getProgramAccounts withContext"] = await t.call(
        "getProgramAccounts",
        [
            wp.program,
            {
                "encoding": "base64",
                "dataSlice": cut,
                "filters": [size],
                "withContext": True,
                **processed,
            },
        ],
    )
    trader = str(t.wallet("trader-3").pubkey())
    out["getProgramAccounts tokenAccountState"] = await t.call(
        "getProgramAccounts",
        [
            I.SPL_TOKEN,
            {
                "encoding": "jsonParsed",
                "filters": [
                    "tokenAccountState",
                    {"memcmp": {"offset": 32, "bytes": trader}},
                ],
                **processed,
            },
        ],
    )
    out["getProgramAccounts too many filters"] = await t.call(
        "getProgramAccounts", [wp.program, {"filters": [size] * 5}]
    )
    out["getProgramAccounts memcmp too long"] = await t.call(
        "getProgramAccounts",
        [wp.program, {"filters": [{"memcmp": {"offset": 0, "bytes": "1" * 200}}]}],
    )
    out["getProgramAccounts bad base58"] = await t.call(
        "getProgramAccounts",
        [wp.program, {"filters": [{"memcmp": {"offset": 0, "bytes": "0OIl"}}]}],
    )
    out["getProgramAccounts bad filter"] = await t.call(
        "getProgramAccounts", [wp.program, {"filters": [{"dataLength": 3}]}]
    )
    out["getProgramAccounts big base58"] = await t.call(
        "getProgramAccounts",
        [wp.program, {"encoding": "base58", "filters": [size], **processed}],
    )
    return out


# ------------------------------------------------------------------ configurations
SIG = "5" * 88  # a signature's length, decoding to the wrong size
SIG_OK = N.b58encode(bytes(range(1, 65)))  # a well-formed signature nothing has


@probe
async def p_configs(t: Target) -> dict[str, Any]:
    """Each method's configuration given as a string (serde names the struct it
    wanted), and a commitment that is no level (flattened into the configuration: the
    node takes the default; given alone: refused)."""
    out: dict[str, Any] = {}
    mint = t.market.bases[1]
    ata = I.ata_address(str(t.wallet("trader-3").pubkey()), mint)
    calls: list[tuple[str, list[Any]]] = [
        ("getSlot", []),
        ("getBlockHeight", []),
        ("getEpochInfo", []),
        ("getLatestBlockhash", []),
        ("isBlockhashValid", [NOWHERE]),
        ("getBalance", [NOWHERE]),
        ("getAccountInfo", [NOWHERE]),
        ("getMultipleAccounts", [[NOWHERE]]),
        ("getProgramAccounts", [NOWHERE]),
        ("getTokenAccountsByOwner", [NOWHERE, {"programId": I.SPL_TOKEN}]),
        ("getTokenAccountBalance", [ata]),
        ("getTokenSupply", [mint]),
        ("getMinimumBalanceForRentExemption", [10]),
        ("getSignaturesForAddress", [NOWHERE]),
        ("getSignatureStatuses", [[SIG_OK]]),
        ("getTransaction", [SIG_OK]),
        ("getBlock", [0]),
        ("getFeeForMessage", ["AQ=="]),
    ]
    for method, params in calls:
        out[f"{method} config string"] = await t.call(method, [*params, "x"])
        out[f"{method} config number"] = await t.call(method, [*params, 7])
        bogus = await t.call(method, [*params, {"commitment": "bogus"}])
        if "result" in bogus and isinstance(bogus["result"], dict):
            bogus = {"result": "<answered>"}
        out[f"{method} commitment bogus"] = bogus
        ctx = await t.call(method, [*params, {"commitment": 3}])
        if "result" in ctx and isinstance(ctx["result"], dict):
            ctx = {"result": "<answered>"}
        out[f"{method} commitment number"] = ctx
    return out


# ------------------------------------------------------------------ transactions
CONFIRMED = {"commitment": "confirmed"}
B64 = {"encoding": "base64"}


async def _land(t: Target, tx: Any, what: str) -> tuple[str, int]:
    """Send ``tx`` (preflight at confirmed) and wait until it is confirmed: its
    signature and slot."""
    got = await t.call("sendTransaction", [wire(tx), {**B64, "preflightCommitment": "confirmed"}])
    assert "result" in got, (t.name, what, got)
    st = await t.status(got["result"])
    assert st["err"] is None, (t.name, what, st)
    return str(got["result"]), int(st["slot"])


@probe
async def p_setup(t: Target) -> dict[str, Any]:
    """Fresh wallets of this run, funded from the faucet: ``me`` (10 SOL and 1,000
    USDC in its associated token account: the swap and the lookup table), ``sender``
    and ``refused`` (10 SOL each: the transfer and the refusals, which run beside the
    others) and ``thin`` (the rent-exempt minimum and 1,000 lamports: a fee leaves it
    rent-paying)."""
    faucet = t.wallet("faucet")
    me, thin = t.key("me"), t.key("thin")
    sender, refused = t.key("sender"), t.key("refused")
    usdc = t.market.bases[1]
    f = str(faucet.pubkey())
    ixs = [
        transfer(faucet, str(me.pubkey()), 10 * 10**9),
        transfer(faucet, str(sender.pubkey()), 10 * 10**9),
        transfer(faucet, str(refused.pubkey()), 10 * 10**9),
        transfer(faucet, str(thin.pubkey()), 890_880 + 1_000),
        I.create_ata_idempotent(f, str(me.pubkey()), usdc),
        I.transfer_checked(
            I.SPL_TOKEN,
            I.ata_address(f, usdc),
            usdc,
            I.ata_address(str(me.pubkey()), usdc),
            f,
            1_000 * 10**6,
            6,
        ),
    ]
    tx = t.sign(faucet, ixs, await t.blockhash())
    await _land(t, tx, "the setup")
    t.notes.update(me=me, thin=thin, sender=sender, refused=refused)
    ata = I.ata_address(str(me.pubkey()), usdc)
    got = await t.call("getAccountInfo", [ata, {"encoding": "jsonParsed", **CONFIRMED}])
    return {"my token account": got}


def _slots(notes: list[dict[str, Any]]) -> list[int | None]:
    out: list[int | None] = []
    for n in notes:
        r = n["params"]["result"]
        out.append(r["context"]["slot"] if isinstance(r, dict) and "context" in r else None)
    return out


VOTE_PROGRAM = "Vote111111111111111111111111111111111111111"


def _no_votes(answer: dict[str, Any], sig: str | None = None) -> dict[str, Any]:
    """A block without its vote transactions (the simulated cluster has no validators
    voting: its blocks hold none; docs/simulator.md) and without the leader's fee
    reward (it pays no rewards); with ``sig``, only that transaction (another probe's
    may land in the same slot on either node, as the machine's load decides)."""
    block = answer.get("result")
    if not isinstance(block, dict):
        return answer
    block = dict(block)
    if "rewards" in block:
        block["rewards"] = []
    txs = block.get("transactions")
    if isinstance(txs, list):

        def voting(x: dict[str, Any]) -> bool:
            keys = x["transaction"].get("accountKeys") or x["transaction"]["message"]["accountKeys"]
            return any((k if isinstance(k, str) else k["pubkey"]) == VOTE_PROGRAM for k in keys)

        def other(x: dict[str, Any]) -> bool:
            return sig is not None and sig not in x["transaction"]["signatures"]

        block["transactions"] = [x for x in txs if not voting(x) and not other(x)]
    sigs = block.get("signatures")
    if isinstance(sigs, list) and sig is not None:
        block["signatures"] = [s for s in sigs if s == sig]
    return {**answer, "result": block}


@probe
async def p_transfer(t: Target) -> dict[str, Any]:
    """A transfer from ``me`` to a new account: simulated every way, sent, followed by
    account, logs and signature subscriptions at every commitment on one connection
    (what each says, in what order, at which context slot), then read back from the
    ledger."""
    out: dict[str, Any] = {}
    me: Keypair = t.notes["sender"]
    dest = str(t.key("transfer dest").pubkey())
    bh = await t.blockhash()
    tx = t.sign(me, [transfer(me, dest, 2_000_000)], bh)
    sig = str(tx.signatures[0])
    # simulateTransaction
    text = wire(tx)
    out["simulate default commitment"] = await t.call("simulateTransaction", [text, B64])
    out["simulate"] = await t.call("simulateTransaction", [text, {**B64, **CONFIRMED}])
    sim = out["simulate"].get("result", {}).get("value", {})
    out["simulate value"] = Exact(
        {k: sim.get(k) for k in ("err", "logs", "unitsConsumed", "fee", "returnData")}
    )
    out["simulate base58"] = await t.call(
        "simulateTransaction", [N.b58encode(bytes(tx)), CONFIRMED]
    )
    out["simulate sigVerify"] = await t.call(
        "simulateTransaction", [text, {**B64, **CONFIRMED, "sigVerify": True}]
    )
    out["simulate replaceRecentBlockhash"] = await t.call(
        "simulateTransaction", [text, {**B64, **CONFIRMED, "replaceRecentBlockhash": True}]
    )
    out["simulate both"] = await t.call(
        "simulateTransaction",
        [text, {**B64, **CONFIRMED, "replaceRecentBlockhash": True, "sigVerify": True}],
    )
    accounts = {"addresses": [str(me.pubkey()), dest], "encoding": "base64"}
    got = await t.call(
        "simulateTransaction",
        [text, {**B64, **CONFIRMED, "accounts": accounts, "innerInstructions": True}],
    )
    out["simulate accounts inner"] = got
    value = got.get("result", {}).get("value", {})
    out["simulate accounts value"] = Exact(
        [None if a is None else {**a, "lamports": "…"} for a in value.get("accounts") or []]
    )
    for enc in ("jsonParsed", "base58", "base64+zstd"):
        out[f"simulate accounts {enc}"] = await t.call(
            "simulateTransaction",
            [text, {**B64, **CONFIRMED, "accounts": {**accounts, "encoding": enc}}],
        )
    # subscriptions, then the send
    async with t.pubsub() as ps:
        subs: dict[str, int] = {}
        for level in ("processed", "confirmed", "finalized"):
            c = {"commitment": level, "encoding": "base64"}
            subs[f"account {level}"] = await ps.subscribe("accountSubscribe", [dest, c])
            subs[f"logs {level}"] = await ps.subscribe(
                "logsSubscribe", [{"mentions": [dest]}, {"commitment": level}]
            )
            subs[f"signature {level}"] = await ps.subscribe(
                "signatureSubscribe", [sig, {"commitment": level}]
            )
        subs["signature received"] = await ps.subscribe(
            "signatureSubscribe",
            [sig, {"commitment": "confirmed", "enableReceivedNotification": True}],
        )
        out["send"] = await t.call(
            "sendTransaction", [text, {**B64, "preflightCommitment": "confirmed"}]
        )
        st = await t.status(sig, "confirmed")
        slot = int(st["slot"])
        out["status confirmed"] = Exact({**st, "slot": "…", "confirmations": "…"})
        out["status confirmed confirmations"] = Exact(st["confirmations"] >= 1)
        await ps.note(subs["signature finalized"])
        await ps.note(subs["account finalized"])
        await ps.note(subs["logs finalized"])
        for name, sid in subs.items():
            notes = ps.of(sid)
            out[f"notification {name}"] = notes[0] if notes else None
            out[f"notifications {name}"] = Exact(len(notes))
            # each notification's slot after the transaction's; at finalized, whether it
            # is at or after it: a node tells of what a new root finalized at that root,
            # and a busy one's root moves several slots at once (Agave's validator on a
            # loaded 2-core box: 3 slots after, where an idle one says 0)
            out[f"context slots {name}"] = Exact(
                [
                    None if s is None else (s >= slot if "finalized" in name else s - slot)
                    for s in _slots(notes)
                ]
            )
        # the order of the levels on the connection: every processed notification
        # before every confirmed one (within a level a node's order is its hash map's;
        # the logs subscriptions are left out: a node may tell of a transaction before it
        # lands, docs/simulator.md)
        level = {
            sid: "processed" if "processed" in name else "confirmed"
            for name, sid in subs.items()
            if "finalized" not in name and not name.startswith("logs")
        }
        out["order"] = Exact(
            [
                level[n["params"]["subscription"]]
                for n in ps.notes
                if n["params"]["subscription"] in level
            ]
        )
    # the ledger
    out["status"] = await t.call("getSignatureStatuses", [[sig]])
    out["status history"] = await t.call(
        "getSignatureStatuses", [[sig, SIG_OK], {"searchTransactionHistory": True}]
    )
    st = (await t.result("getSignatureStatuses", [[sig]]))["value"][0]
    out["status value"] = Exact({**st, "slot": "…"})
    for enc in ("json", "jsonParsed", "base64", "base58"):
        got = await t.call("getTransaction", [sig, {"encoding": enc, **CONFIRMED}])
        out[f"getTransaction {enc}"] = got
    got = await t.call("getTransaction", [sig, {"encoding": "json", **CONFIRMED}])
    meta = (got.get("result") or {}).get("meta") or {}
    out["getTransaction meta value"] = Exact(
        {
            k: meta.get(k)
            for k in (
                "err",
                "fee",
                "logMessages",
                "computeUnitsConsumed",
                "innerInstructions",
                "rewards",
                "loadedAddresses",
                "preTokenBalances",
                "postTokenBalances",
            )
        }
    )
    out["getTransaction version 0"] = await t.call(
        "getTransaction", [sig, {**CONFIRMED, "maxSupportedTransactionVersion": 0}]
    )
    out["getTransaction processed"] = await t.call(
        "getTransaction", [sig, {"commitment": "processed"}]
    )
    out["getTransaction finalized"] = await t.call(
        "getTransaction", [sig, {"commitment": "finalized"}]
    )
    out["getTransaction encoding string"] = await t.call("getTransaction", [sig, "json"])
    out["getTransaction bad encoding"] = await t.call("getTransaction", [sig, {"encoding": "hex"}])
    out["getTransaction unknown"] = await t.call("getTransaction", [SIG_OK, CONFIRMED])
    out["getSignaturesForAddress"] = await t.call("getSignaturesForAddress", [dest, CONFIRMED])
    out["getSignaturesForAddress limit"] = await t.call(
        "getSignaturesForAddress", [str(me.pubkey()), {**CONFIRMED, "limit": 1}]
    )
    out["getSignaturesForAddress bad limit"] = await t.call(
        "getSignaturesForAddress", [dest, {**CONFIRMED, "limit": 5000}]
    )
    out["getSignaturesForAddress processed"] = await t.call(
        "getSignaturesForAddress", [dest, {"commitment": "processed"}]
    )
    for details in ("full", "accounts", "signatures", "none"):
        got = await t.call(
            "getBlock",
            [
                slot,
                {**CONFIRMED, "transactionDetails": details, "maxSupportedTransactionVersion": 0},
            ],
        )
        out[f"getBlock {details}"] = _no_votes(got, sig)
    got = await t.call("getBlock", [slot, {**CONFIRMED, "maxSupportedTransactionVersion": 0}])
    out["getBlock has it"] = Exact(
        any(
            sig in x["transaction"]["signatures"]
            for x in (got.get("result") or {}).get("transactions", [])
        )
    )
    out["getBlock jsonParsed rewards off"] = _no_votes(
        await t.call(
            "getBlock",
            [
                slot,
                {
                    **CONFIRMED,
                    "encoding": "jsonParsed",
                    "rewards": False,
                    "maxSupportedTransactionVersion": 0,
                },
            ],
        ),
        sig,
    )
    out["getBlock processed"] = await t.call("getBlock", [slot, {"commitment": "processed"}])
    far = slot + 100_000
    out["getBlock future"] = _error(await t.call("getBlock", [far, CONFIRMED]), slot=far)
    out["getBlockTime"] = await t.call("getBlockTime", [slot])
    out["getBlockTime future"] = _error(await t.call("getBlockTime", [far]), slot=far)
    out["getBlockTime bad"] = await t.call("getBlockTime", ["x"])
    t.notes.update(transfer_sig=sig, transfer_slot=slot, dest=dest)
    # the same transaction again
    out["send again"] = await t.call(
        "sendTransaction", [text, {**B64, "preflightCommitment": "confirmed"}]
    )
    out["send again skipPreflight"] = await t.call(
        "sendTransaction", [text, {**B64, "skipPreflight": True}]
    )
    out["simulate again"] = await t.call("simulateTransaction", [text, {**B64, **CONFIRMED}])
    return out


@probe
async def p_refusals(t: Target) -> dict[str, Any]:
    """What ``sendTransaction`` and ``simulateTransaction`` refuse: an unknown
    blockhash, a fee payer with nothing, one a fee leaves rent-paying, a failing
    instruction, a bad signature, text that is no transaction."""
    out: dict[str, Any] = {}
    me: Keypair = t.notes["refused"]
    thin: Keypair = t.notes["thin"]
    bh = await t.blockhash()
    dest = str(t.key("refusals dest").pubkey())
    pre = {**B64, "preflightCommitment": "confirmed"}
    cases = {
        "unknown blockhash": t.sign(me, [transfer(me, dest, 1_000_000)], NOWHERE),
        "payer without an account": t.sign(
            (nobody := t.key("nobody")), [transfer(nobody, dest, 1_000_000)], bh
        ),
        "payer left rent-paying": t.sign(thin, [transfer(thin, dest, 1)], bh),
        "instruction fails": t.sign(me, [transfer(me, dest, 10**18)], bh),
        "rent-paying destination": t.sign(me, [transfer(me, dest, 1_000)], bh),
    }
    for name, tx in cases.items():
        text = wire(tx)
        out[f"simulate {name}"] = await t.call("simulateTransaction", [text, {**B64, **CONFIRMED}])
        got = out[f"simulate {name}"].get("result", {}).get("value", {})
        out[f"simulate {name} value"] = Exact(
            {k: got.get(k) for k in ("err", "logs", "unitsConsumed", "fee")}
        )
        out[f"send {name}"] = await t.call("sendTransaction", [text, pre])
    forged = bytearray(bytes(cases["instruction fails"]))
    forged[5] ^= 0xFF  # a byte of the signature
    text = base64.b64encode(bytes(forged)).decode()
    out["send bad signature"] = await t.call("sendTransaction", [text, pre])
    out["simulate bad signature sigVerify"] = await t.call(
        "simulateTransaction", [text, {**B64, **CONFIRMED, "sigVerify": True}]
    )
    out["simulate bad signature"] = await t.call(
        "simulateTransaction", [text, {**B64, **CONFIRMED}]
    )
    sig = N.b58encode(bytes(forged[1:65]))
    out["send bad signature skipPreflight"] = _error(
        await t.call("sendTransaction", [text, {**B64, "skipPreflight": True}]), sig=sig
    )
    out["send not base64"] = await t.call("sendTransaction", ["@@@@", B64])
    out["send not base58"] = await t.call("sendTransaction", ["0OIl"])
    out["send garbage"] = await t.call(
        "sendTransaction", [base64.b64encode(b"\x01\x02").decode(), B64]
    )
    out["send too large"] = await t.call("sendTransaction", ["A" * 2000, B64])
    out["send bad encoding"] = await t.call("sendTransaction", ["AA==", {"encoding": "json"}])
    out["send no params"] = await t.call("sendTransaction", [])
    out["simulate garbage"] = await t.call(
        "simulateTransaction", [base64.b64encode(b"\x01\x02").decode(), B64]
    )
    out["simulate bad accounts"] = await t.call(
        "simulateTransaction",
        [wire(cases["instruction fails"]), {**B64, **CONFIRMED, "accounts": {"addresses": ["x"]}}],
    )
    fine = t.sign(me, [transfer(me, dest, 1_000_000)], bh)
    out["simulate bad accounts ok"] = await t.call(
        "simulateTransaction",
        [wire(fine), {**B64, **CONFIRMED, "accounts": {"addresses": ["x"]}}],
    )
    out["simulate no addresses"] = await t.call(
        "simulateTransaction", [wire(fine), {**B64, **CONFIRMED, "accounts": {}}]
    )
    out["simulate too many accounts"] = await t.call(
        "simulateTransaction",
        [wire(cases["instruction fails"]), {**B64, "accounts": {"addresses": [NOWHERE] * 200}}],
    )
    # getFeeForMessage
    msg = cases["instruction fails"].message
    raw = base64.b64encode(bytes(msg)).decode()
    out["getFeeForMessage"] = await t.call("getFeeForMessage", [raw, CONFIRMED])
    out["getFeeForMessage value"] = Exact(out["getFeeForMessage"].get("result", {}).get("value"))
    old = base64.b64encode(bytes(cases["unknown blockhash"].message)).decode()
    out["getFeeForMessage unknown blockhash"] = await t.call("getFeeForMessage", [old, CONFIRMED])
    out["getFeeForMessage garbage"] = await t.call("getFeeForMessage", ["AQID", CONFIRMED])
    out["getFeeForMessage not base64"] = await t.call("getFeeForMessage", ["@@", CONFIRMED])
    return out


# ------------------------------------------------------------------ a swap
_CONSUMED = re.compile(r"consumed \d+ of \d+ compute units")


def _units_masked(logs: Any) -> Any:
    """Log lines with their compute units left out (what the builds of the token
    programs make differ; the lines themselves are compared)."""
    if not isinstance(logs, list):
        return logs
    return [_CONSUMED.sub("consumed … of … compute units", x) for x in logs]


async def _bytes(t: Target, keys: list[str]) -> list[str | None]:
    """The base64 data of ``keys`` at processed (None: absent)."""
    got = await t.result(
        "getMultipleAccounts", [keys, {"encoding": "base64", "commitment": "processed"}]
    )
    return [None if a is None else a["data"][0] for a in got["value"]]


@probe
async def p_swap(t: Target) -> dict[str, Any]:
    """``me`` swaps 1 USDC on a CP-Swap pool through the venue's own builder (its
    output account created in the same transaction): simulated with its inner
    instructions and the accounts it writes, sent, read back from the ledger. The
    values are compared where the pool's accounts are the same on both nodes."""
    import engine_rs
    from feeds.venues import by_kind
    from feeds.venues.base import Leg

    out: dict[str, Any] = {}
    me: Keypair = t.notes["me"]
    owner = str(me.pubkey())
    usdc = t.market.bases[1]
    eng = engine_rs.backend()
    venue = by_kind("cpmm")
    for address, kind in sorted(t.market.pools):
        if kind != "cpmm":
            continue
        acc = await t.result(
            "getAccountInfo", [address, {"encoding": "base64", "commitment": "processed"}]
        )
        data = base64.b64decode(acc["value"]["data"][0])
        record = venue.decode_pool(eng, data, acc["value"]["owner"])
        if usdc in (record.token_0_mint, record.token_1_mint):
            break
    else:
        raise AssertionError("no CP-Swap pool trades USDC")
    other = record.token_1_mint if record.token_0_mint == usdc else record.token_0_mint
    mint_acc = await t.result(
        "getAccountInfo", [other, {"encoding": "base64", "commitment": "processed"}]
    )
    programs = {usdc: I.SPL_TOKEN, other: mint_acc["value"]["owner"]}
    dest = I.ata_address(owner, other, programs[other])
    leg = Leg(
        address, record, owner, usdc, other, I.ata_address(owner, usdc), dest, 10**6, 1, programs
    )
    ixs = [
        I.set_compute_unit_limit(200_000),
        I.create_ata_idempotent(owner, owner, other, programs[other]),
        venue.swap_instruction(leg),
    ]
    state = [address, record.token_0_vault, record.token_1_vault, record.observation_key]
    out["pool state"] = Exact(await _bytes(t, state), gate=True)
    out["real programs"] = Exact(t.real_programs, gate=True)
    same, real = ("pool state",), ("pool state", "real programs")
    tx = t.sign(me, ixs, await t.blockhash())
    text = wire(tx)
    cfg = {
        **B64,
        **CONFIRMED,
        "innerInstructions": True,
        "accounts": {"addresses": [leg.source, dest], "encoding": "jsonParsed"},
    }
    got = await t.call("simulateTransaction", [text, cfg])
    out["simulate"] = got
    v = got.get("result", {}).get("value", {})
    out["simulate value"] = Exact(
        {k: v.get(k) for k in ("err", "fee", "innerInstructions", "accounts")}, same
    )
    out["simulate logs"] = Exact(_units_masked(v.get("logs")), real)
    out["simulate units"] = Exact(
        {k: v.get(k) for k in ("unitsConsumed", "loadedAccountsDataSize", "returnData")}, real
    )
    async with t.pubsub() as ps:
        mine = {"memcmp": {"offset": 32, "bytes": owner}}  # the token accounts of ``me``
        subs = {
            enc: await ps.subscribe(
                "programSubscribe",
                [programs[other], {"encoding": enc, "commitment": "confirmed", "filters": [mine]}],
            )
            for enc in ("base64", "jsonParsed")
        }
        subs["account jsonParsed"] = await ps.subscribe(
            "accountSubscribe", [leg.source, {"encoding": "jsonParsed", "commitment": "confirmed"}]
        )
        sig, slot = await _land(t, tx, "the swap")
        for name, sid in subs.items():
            note = await ps.note(sid)
            out[f"notification {name}"] = note
            out[f"notification {name} slot"] = Exact(
                note["params"]["result"]["context"]["slot"] - slot
            )
        got = await ps.note(subs["jsonParsed"])
        out["program notification value"] = Exact(got["params"]["result"]["value"], same)
    fees = await t.call("getRecentPrioritizationFees", [[address]])
    out["getRecentPrioritizationFees pool"] = fees
    out["prioritization fee of the swap's slot"] = Exact(
        [x["prioritizationFee"] for x in fees.get("result", []) if x["slot"] == slot]
    )
    for enc in ("json", "jsonParsed"):
        got = await t.call("getTransaction", [sig, {"encoding": enc, **CONFIRMED}])
        out[f"getTransaction {enc}"] = got
        meta = (got.get("result") or {}).get("meta") or {}
        out[f"getTransaction {enc} meta value"] = Exact(
            {k: meta.get(k) for k in ("err", "fee", "innerInstructions")}, same
        )
        out[f"getTransaction {enc} logs"] = Exact(_units_masked(meta.get("logMessages")), real)
        out[f"getTransaction {enc} units"] = Exact(
            {k: meta.get(k) for k in ("computeUnitsConsumed", "costUnits")}, real
        )
    got = await t.call("getTransaction", [sig, {"encoding": "json", **CONFIRMED}])
    meta = (got.get("result") or {}).get("meta") or {}
    out["token balances"] = Exact(
        [
            [{**b, "owner": "…"} for b in meta.get(k, [])]
            for k in ("preTokenBalances", "postTokenBalances")
        ],
        same,
    )
    return out


# ------------------------------------------------------------------ lookup tables
@probe
async def p_lookup_table(t: Target) -> dict[str, Any]:
    """A lookup table ``me`` creates and extends, read as an account in every
    encoding; a v0 transaction through it."""
    from feeds.wire import alt as ALT

    out: dict[str, Any] = {}
    me: Keypair = t.notes["me"]
    owner = str(me.pubkey())
    # a slot in the SlotHashes of the bank the preflight runs at (confirmed): one with a
    # block (a node skips some, the simulator none: docs/simulator.md) before that bank's
    # own (a bank's SlotHashes holds its ancestors only): the confirmed block's parent
    block = await t.result(
        "getBlock", [await t.slot("confirmed"), {**CONFIRMED, "transactionDetails": "none"}]
    )
    recent = int(block["parentSlot"])
    create, table = ALT.create_lookup_table(owner, owner, recent)
    addresses = [str(t.key(f"table entry {i}").pubkey()) for i in range(3)]
    extend = ALT.extend_lookup_table(table, owner, owner, addresses)
    tx = t.sign(me, [create, extend], await t.blockhash())
    got = await t.call("sendTransaction", [wire(tx), {**B64, "preflightCommitment": "confirmed"}])
    out["create"] = got
    if "result" not in got:
        return out
    st = await t.status(got["result"])
    out["create status"] = Exact(st["err"])
    await t.past(int(st["slot"]) + 1, "confirmed")
    for enc in ("base64", "jsonParsed", "base64+zstd"):
        got = await t.call("getAccountInfo", [str(table), {"encoding": enc, **CONFIRMED}])
        out[f"table {enc}"] = got
    got = await t.call("getAccountInfo", [str(table), {"encoding": "jsonParsed", **CONFIRMED}])
    info = ((got.get("result") or {}).get("value") or {}).get("data") or {}
    info = info.get("parsed", {}).get("info", {}) if isinstance(info, dict) else {}
    out["table addresses"] = Exact(info.get("addresses"))
    out["table authority"] = Exact(info.get("authority") == owner)
    out["table slots"] = Exact(
        {
            k: int(v) - int(st["slot"])
            for k, v in info.items()
            if k.endswith("Slot") and v != "18446744073709551615"
        }
    )
    out["table deactivation"] = Exact(info.get("deactivationSlot"))
    # a v0 transfer naming its destination through the table
    from solders.address_lookup_table_account import AddressLookupTableAccount
    from solders.hash import Hash
    from solders.message import MessageV0
    from solders.pubkey import Pubkey
    from solders.transaction import VersionedTransaction

    lut = AddressLookupTableAccount(table, [Pubkey.from_string(a) for a in addresses])
    msg = MessageV0.try_compile(
        me.pubkey(),
        [transfer(me, addresses[0], 1_000_000)],
        [lut],
        Hash.from_string(await t.blockhash()),
    )
    v0 = VersionedTransaction(msg, [me])
    got = await t.call("simulateTransaction", [wire(v0), {**B64, **CONFIRMED}])
    out["simulate v0"] = got
    sig, _slot = await _land(t, v0, "the v0 transfer")
    out["getTransaction v0 without version"] = await t.call("getTransaction", [sig, CONFIRMED])
    out["getTransaction v0"] = await t.call(
        "getTransaction", [sig, {**CONFIRMED, "maxSupportedTransactionVersion": 0}]
    )
    out["getTransaction v0 jsonParsed"] = await t.call(
        "getTransaction",
        [sig, {**CONFIRMED, "encoding": "jsonParsed", "maxSupportedTransactionVersion": 0}],
    )
    return out


# ------------------------------------------------------------------ PubSub
@probe
async def p_pubsub(t: Target) -> dict[str, Any]:
    """Slot, root and slot-update subscriptions, program subscriptions, unsubscribes
    and what the PubSub service refuses."""
    out: dict[str, Any] = {}
    async with t.pubsub() as ps:
        slot = await ps.subscribe("slotSubscribe")
        root = await ps.subscribe("rootSubscribe")
        updates = await ps.subscribe("slotsUpdatesSubscribe")
        out["slotNotification"] = await ps.note(slot)
        out["rootNotification"] = await ps.note(root)
        for kind in ("createdBank", "frozen", "completed", "optimisticConfirmation", "root"):
            out[f"slotsUpdates {kind}"] = await ps.note(
                updates, lambda n, k=kind: n["params"]["result"]["type"] == k
            )
        first = ps.of(slot)[0]["params"]["result"]
        # the root at least 32 slots back (a busy node's lags more), the first slot at first
        out["slot root"] = Exact(first["root"] == 0 or first["slot"] - first["root"] >= 32)
        out["slot parent"] = Exact(first["slot"] - first["parent"] >= 1)
        for _name, sid, method in (
            ("slot", slot, "slotUnsubscribe"),
            ("root", root, "rootUnsubscribe"),
            ("slotsUpdates", updates, "slotsUpdatesUnsubscribe"),
        ):
            out[f"{method}"] = await ps.request(method, [sid])
            out[f"{method} again"] = await ps.request(method, [sid])
        out["accountUnsubscribe unknown"] = await ps.request("accountUnsubscribe", [987654])
        sid = await ps.subscribe("accountSubscribe", [NOWHERE])
        out["logsUnsubscribe of an account"] = await ps.request("logsUnsubscribe", [sid])
        out["accountUnsubscribe no params"] = await ps.request("accountUnsubscribe", [])
        out["accountUnsubscribe string"] = await ps.request("accountUnsubscribe", ["1"])
        out["accountSubscribe bad key"] = await ps.request("accountSubscribe", ["nope"])
        out["accountSubscribe no params"] = await ps.request("accountSubscribe", [])
        out["accountSubscribe bad encoding"] = await ps.request(
            "accountSubscribe", [NOWHERE, {"encoding": "hex"}]
        )
        out["accountSubscribe bogus commitment"] = await ps.request(
            "accountSubscribe", [NOWHERE, {"commitment": "bogus"}]
        )
        out["accountSubscribe config string"] = await ps.request("accountSubscribe", [NOWHERE, "x"])
        out["programSubscribe"] = await ps.request(
            "programSubscribe",
            [I.SPL_TOKEN, {"encoding": "base64", "filters": [{"dataSize": 165}]}],
        )
        out["programSubscribe too many filters"] = await ps.request(
            "programSubscribe", [I.SPL_TOKEN, {"filters": [{"dataSize": 165}] * 5}]
        )
        out["programSubscribe bad filter"] = await ps.request(
            "programSubscribe",
            [I.SPL_TOKEN, {"filters": [{"memcmp": {"offset": 0, "bytes": "0OIl"}}]}],
        )
        out["logsSubscribe two"] = await ps.request(
            "logsSubscribe", [{"mentions": [NOWHERE, NOWHERE]}]
        )
        out["logsSubscribe bad key"] = await ps.request("logsSubscribe", [{"mentions": ["x"]}])
        out["logsSubscribe mentions alone"] = await ps.request("logsSubscribe", ["mentions"])
        out["logsSubscribe all"] = await ps.request("logsSubscribe", ["all"])
        out["logsSubscribe allWithVotes"] = await ps.request("logsSubscribe", ["allWithVotes"])
        out["logsSubscribe other"] = await ps.request("logsSubscribe", ["everything"])
        out["signatureSubscribe bad"] = await ps.request("signatureSubscribe", ["x"])
        out["signatureSubscribe config"] = await ps.request("signatureSubscribe", [SIG_OK, "x"])
        out["slotSubscribe params"] = await ps.request("slotSubscribe", [1])
        out["unknown method"] = await ps.request("getNothing", [])
        out["getAccountInfo over PubSub"] = await ps.request("getAccountInfo", [NOWHERE])
        out["getVersion over PubSub"] = await ps.request("getVersion")
        out["bad json"] = await ps.send_text('{"jsonrpc":"2.0","id":77,', None)
    return out


@probe
async def p_envelope_cases(t: Target) -> dict[str, Any]:
    """Every request of the simulator's envelope table (``tests/feeds/sim/
    test_node_envelope.py``, ``tests/support/envelope.py``: notifications, batches, ids, versions, named params) over
    HTTP, and the empty batch over PubSub."""
    out: dict[str, Any] = {}
    for text, _want in CASES:
        out[f"HTTP {text}"] = await t.post(text.encode())
    async with t.pubsub() as ps:
        assert ps.ws is not None
        await ps.ws.send_str("[]")
        out["PubSub [] then a request"] = await ps.request("getVersion")
        out["PubSub messages"] = Exact(len(ps.raw))
    return out
