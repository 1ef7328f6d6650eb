"""Pool discovery: every pool of the supported venues among a set of mints, ranked by
liquidity, as a pools file (``arbscope pools discover``).

How, on any node that serves ``getProgramAccounts``:

1. per venue and per pair of mints, ``getProgramAccounts`` on the venue's program with
   two ``memcmp`` filters on the layout's mint offsets, in both orders: an AMM v4 pool
   keeps its mints in any order; CP-Swap's and Whirlpool's ``initialize`` require the
   first mint below the second in byte order (raydium-cp-swap ``initialize.rs``
   ``token_0_mint.key() < token_1_mint.key()``, spec §2.2), so there the second order
   answers nothing on mainnet, but it costs one empty answer and still finds a pool
   written without that rule (the simulator's are), and one filter that says "a pool account"
   (AMM v4: ``dataSize`` 752, it has no discriminator; CP-Swap and Whirlpool: their
   Anchor discriminator at offset 0, since an account may be allocated larger than its
   struct) and a ``dataSlice`` of length 0: the answer is addresses only;
2. ``getMultipleAccounts`` (chunks of 100) for the pools, then for their vaults, their
   mints and the CP-Swap ``AmmConfig`` accounts that hold their fees;
3. a price for every mint from the pools found (deepest pool first), in USD through a USD
   stablecoin among the mints, else in units of the first mint; liquidity is the value of
   both vaults at those prices.
4. Token-2022 mints: a transfer fee is named in the pool's comment (the engine counts it
   in every quote); a pool of a mint with an extension arbscope refuses to swap through
   (``refused_extensions``: a transfer hook with a program, non-transferable, paused, a
   frozen default state) is written commented out, with the extension named, so that a
   run does not track it and the operator sees why.

Layout offsets (spec §1.2, §1.4, §2.2, each checked against the engine's decoders by the
tests): AMM v4 ``coin_vault_mint`` 400 / ``pc_vault_mint`` 432 of 752 bytes; CP-Swap
``token_0_mint`` 168 / ``token_1_mint`` 200; Whirlpool ``token_mint_a`` 101 /
``token_mint_b`` 181 of 653 bytes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import engine_rs
from engine_rs.errors import EngineError

from .clients.rpc import RawAccount, RpcClient, RpcError
from .clients.tokens import TokenRegistry
from .venues import VENUES, Venue, by_kind
from .venues.base import Discoverable, PoolLayout
from .wire.tokens import BY_MINT
from .wire.units import TokenBook

METHOD_NOT_FOUND = -32601  # jsonrpc-core: a method the node does not serve


# each venue's part (``Venue.discovery``): its pool layout and how its pools are read;
# a venue without one is passed over
LAYOUTS: dict[str, PoolLayout] = {
    v.kind: v.discovery.layout for v in VENUES if v.discovery is not None
}
VENUE_NAMES = {v.kind: v.discovery.title for v in VENUES if v.discovery is not None}


class DiscoveryError(Exception):
    """Discovery that cannot go on; the message says why and what to do."""


@dataclass(slots=True)
class Found:
    """One pool found: its venue's kind, its mints in the pool's own order, the vault
    balances and decimals, the fee (a fraction), the spot price of ``mint_a`` in
    ``mint_b`` (whole tokens), and its liquidity in the discovery's unit (None: a mint
    without a price path)."""

    address: str
    kind: str
    mint_a: str
    mint_b: str
    vault_a: str
    vault_b: str
    fee: float
    amount_a: int = 0
    amount_b: int = 0
    decimals_a: int = 0
    decimals_b: int = 0
    price: float | None = None
    liquidity: float | None = None
    record: Any = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (mint, its transfer fee)
    refused: str = ""  # why arbscope will not trade it ("" : it will)

    def pair(self, book: TokenBook) -> str:
        """``SOL/USDC``: the pair by the token registry's symbols."""
        return f"{book.symbol(self.mint_a)}/{book.symbol(self.mint_b)}"

    def whole(self, side: str) -> float:
        """The vault's balance in whole tokens."""
        if side == "a":
            return float(self.amount_a / 10**self.decimals_a)
        return float(self.amount_b / 10**self.decimals_b)


@dataclass(slots=True)
class Discovery:
    """What discovery found: ``pools`` ranked by liquidity (after ``min_liquidity``),
    the unit liquidity is in (``$`` or a token's label), how many pools were left out
    by ``min_liquidity`` or could not be read, and the requests made."""

    mints: list[str]
    pools: list[Found]
    unit: str
    usd: bool
    dropped: int = 0
    unreadable: list[str] = field(default_factory=list)
    requests: int = 0
    book: TokenBook = field(default_factory=TokenBook)  # the mints' names (the registry's)


def _pairs(mints: Sequence[str], layout: PoolLayout) -> list[tuple[str, str]]:
    """The (mint at offset a, mint at offset b) pairs to ask for: both orders, the
    program's own order first where it keeps one."""
    b58 = engine_rs.backend().b58decode
    out = []
    for x, y in itertools.combinations(mints, 2):
        if layout.ordered and bytes(b58(y)) < bytes(b58(x)):
            x, y = y, x
        out += [(x, y), (y, x)]
    return out


def _refused(venue: Venue, rpc: RpcClient, exc: RpcError) -> DiscoveryError:
    if exc.code == METHOD_NOT_FOUND:
        return DiscoveryError(
            f"{rpc.shown} does not serve getProgramAccounts ({exc}). Discovery needs a node "
            "that serves it (many public endpoints refuse it); or start from the curated "
            "pools/mainnet.toml"
        )
    where = VENUE_NAMES.get(venue.kind, venue.name)
    return DiscoveryError(f"getProgramAccounts for {where} failed: {exc}")


async def find_addresses(
    rpc: RpcClient, venue: Venue, mints: Sequence[str]
) -> tuple[list[str], int]:
    """The addresses of ``venue``'s pools between any two of ``mints`` (data sliced to
    nothing), and the number of requests that took."""
    layout = LAYOUTS[venue.kind]
    b58 = engine_rs.backend().b58decode
    seen: dict[str, None] = {}
    n = 0
    for a, b in _pairs(mints, layout):
        memcmp = [(layout.mint_a, bytes(b58(a))), (layout.mint_b, bytes(b58(b)))]
        if layout.discriminator is not None:
            memcmp.insert(0, (0, layout.discriminator))
        try:
            found = await rpc.get_program_accounts(
                venue.program,
                data_size=layout.data_size,
                memcmp=memcmp,
                data_slice=(0, 0),
                compress=False,
            )
        except RpcError as exc:
            raise _refused(venue, rpc, exc) from None
        n += 1
        seen.update(dict.fromkeys(sorted(found)))
    return list(seen), n


async def _accounts(
    rpc: RpcClient, keys: Sequence[str]
) -> tuple[dict[str, RawAccount | None], int]:
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}, 0
    try:
        got = await rpc.get_multiple_accounts(keys)
    except RpcError as exc:
        raise DiscoveryError(f"reading {len(keys)} accounts failed: {exc}") from None
    return got, -(-len(keys) // 100)


def _part(kind: str) -> Discoverable:
    d = by_kind(kind).discovery
    assert d is not None  # only venues with one are asked
    return d


def _read_pool(eng: Any, address: str, kind: str, acc: RawAccount) -> Found:
    """A pool account as a :class:`Found` (its amounts come later); EngineError when it
    does not decode."""
    venue = by_kind(kind)
    r = venue.decode_pool(eng, acc.data, acc.owner)
    f = _part(kind).read(r)
    return Found(
        address,
        kind,
        f.mint_a,
        f.mint_b,
        f.vault_a,
        f.vault_b,
        f.fee,
        decimals_a=-1 if f.decimals_a is None else f.decimals_a,
        decimals_b=-1 if f.decimals_b is None else f.decimals_b,
        record=r,
    )


def _reserves(p: Found) -> tuple[int, int]:
    """What the pool's curve trades on (the vaults less what it owes elsewhere)."""
    reserves = _part(p.kind).reserves
    if reserves is None:
        return p.amount_a, p.amount_b
    return reserves(p.record, p.amount_a, p.amount_b)


def _spot(p: Found) -> float | None:
    """The price of one whole ``mint_a`` in whole ``mint_b`` (None: an empty pool)."""
    price = _part(p.kind).price
    if price is not None:
        raw = price(p.record)
        return None if raw is None else float(raw * 10.0 ** (p.decimals_a - p.decimals_b))
    ra, rb = _reserves(p)
    if ra <= 0 or rb <= 0:
        return None
    return float((rb / 10**p.decimals_b) / (ra / 10**p.decimals_a))


def price_mints(pools: Sequence[Found], quote: str) -> dict[str, float]:
    """Every mint's price in ``quote`` reachable through ``pools``: a mint takes its price
    from the pool holding the most value on the side already priced (a shallow pool
    with a wild price does not set it)."""
    prices = {quote: 1.0}
    while True:
        best: dict[str, tuple[float, float]] = {}  # mint -> (depth in quote, price)
        for p in pools:
            if p.price is None:
                continue
            for known, other, side, rate in (
                (p.mint_a, p.mint_b, "a", 1 / p.price),
                (p.mint_b, p.mint_a, "b", p.price),
            ):
                if known in prices and other not in prices:
                    depth = p.whole(side) * prices[known]
                    if depth > best.get(other, (-1.0, 0.0))[0]:
                        best[other] = (depth, prices[known] * rate)
        if not best:
            return prices
        for m, (_, px) in best.items():
            prices[m] = px


def quote_of(mints: Sequence[str], book: TokenBook) -> tuple[str, str, bool]:
    """The mint liquidity is counted in, its unit label, and whether that is USD: the
    first USD stablecoin among ``mints``, else the first mint."""
    for m in mints:
        t = BY_MINT.get(m)
        if t is not None and t.usd_stable:
            return m, "$", True
    return mints[0], book.symbol(mints[0]), False


async def discover(
    rpc: RpcClient,
    mints: Sequence[str],
    kinds: Sequence[str] | None = None,
    min_liquidity: float = 0.0,
) -> Discovery:
    """Every pool of the venues of ``kinds`` (all when None) between two of ``mints``,
    ranked by liquidity, those under ``min_liquidity`` left out."""
    mints = list(dict.fromkeys(mints))
    if len(mints) < 2:
        raise DiscoveryError("give at least two different mints (a pool trades a pair)")
    eng = engine_rs.backend()
    venues = [v for v in VENUES if v.discovery is not None and (kinds is None or v.kind in kinds)]
    requests = 0
    addresses: list[tuple[str, Venue]] = []
    for v in venues:
        found, n = await find_addresses(rpc, v, mints)
        requests += n
        addresses += [(a, v) for a in found]
    raw, n = await _accounts(rpc, [a for a, _ in addresses])
    requests += n
    pools: list[Found] = []
    unreadable: list[str] = []
    wanted = set(mints)
    for address, v in addresses:
        acc = raw.get(address)
        try:
            if acc is None:
                raise EngineError("the account is gone")
            p = _read_pool(eng, address, v.kind, acc)
        except EngineError as exc:
            unreadable.append(f"{address} ({VENUE_NAMES.get(v.kind, v.name)}): {exc}")
            continue
        if {p.mint_a, p.mint_b} <= wanted:  # the node's filters are the node's word
            pools.append(p)
    configs = []
    for p in pools:
        config = _part(p.kind).config
        if config is not None:
            configs.append(config(p.record))
    more, n = await _accounts(
        rpc, [k for p in pools for k in (p.vault_a, p.vault_b)] + mints + configs
    )
    requests += n
    decimals: dict[str, int] = {}
    fees: dict[str, str] = {}  # mint -> its transfer fee, as the comment says it
    refusals: dict[str, list[str]] = {}  # mint -> the extensions arbscope refuses
    for m in mints:
        acc = more.get(m)
        if acc is None:
            continue
        try:
            rec = eng.decode_mint(acc.data, acc.owner)
            refusals[m] = list(eng.refused_extensions(acc.data, acc.owner))
        except EngineError:
            continue
        decimals[m] = rec.decimals
        if rec.newer_transfer_fee is not None:
            fees[m] = _fee_note(rec, rec.decimals)
    ok: list[Found] = []
    for p in pools:
        try:
            va, vb = more.get(p.vault_a), more.get(p.vault_b)
            if va is None or vb is None:
                raise EngineError("a vault is missing")
            p.amount_a = eng.decode_token_account(va.data, va.owner).amount
            p.amount_b = eng.decode_token_account(vb.data, vb.owner).amount
            part = _part(p.kind)
            if part.config is not None and part.fee_of_config is not None:
                key = part.config(p.record)
                c = more.get(key)
                if c is None:
                    raise EngineError(f"its fee account {key} is missing")
                p.fee = part.fee_of_config(eng, c.data, c.owner)
            if p.decimals_a < 0 or p.decimals_b < 0:  # the pool account does not say
                if p.mint_a not in decimals or p.mint_b not in decimals:
                    raise EngineError("a mint account is missing")
                p.decimals_a, p.decimals_b = decimals[p.mint_a], decimals[p.mint_b]
        except EngineError as exc:
            unreadable.append(f"{p.address} ({VENUE_NAMES[p.kind]}): {exc}")
            continue
        p.price = _spot(p)
        p.notes = [(m, fees[m]) for m in (p.mint_a, p.mint_b) if m in fees]
        p.refused = "; ".join(
            f"{m} has {', '.join(refusals[m])}" for m in (p.mint_a, p.mint_b) if refusals.get(m)
        )
        ok.append(p)
    # names: each mint's account and Metaplex metadata (one request; the well-known
    # table and address prefixes when the node has none or fails)
    registry = TokenRegistry(rpc.get_multiple_accounts)
    await registry.resolve(mints)
    requests += 1
    quote, unit, usd = quote_of(mints, registry.book)
    prices = price_mints(ok, quote)
    for p in ok:
        if p.mint_a in prices and p.mint_b in prices:
            p.liquidity = p.whole("a") * prices[p.mint_a] + p.whole("b") * prices[p.mint_b]
    kept = [p for p in ok if min_liquidity <= 0 or (p.liquidity or 0.0) >= min_liquidity]
    kept.sort(key=lambda p: (p.liquidity is None, -(p.liquidity or 0.0), p.address))
    return Discovery(
        mints, kept, unit, usd, len(ok) - len(kept), unreadable, requests, registry.book
    )


def _fee_note(rec: Any, decimals: int) -> str:
    """``transfer fee 1% (at most 5 a transfer)``, and the change to come when the newer
    fee differs from the older one."""

    def one(f: Any) -> str:
        cap = f.maximum_fee / 10**decimals
        capped = "" if f.maximum_fee >= 10**18 else f" (at most {cap:g} a transfer)"
        return f"{fee_text(f.transfer_fee_basis_points / 10_000)}{capped}"

    old, new = rec.older_transfer_fee, rec.newer_transfer_fee
    text = f"transfer fee {one(new)} from epoch {new.epoch}"
    if old is not None and (old.transfer_fee_basis_points, old.maximum_fee) != (
        new.transfer_fee_basis_points,
        new.maximum_fee,
    ):
        text += f", {one(old)} before"
    return text


def amount_text(x: float, unit: str) -> str:
    """``$12.3M``, ``4.56k SOL``: a liquidity for a comment."""
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            num = f"{x / div:.3g}{suffix}"
            break
    else:
        num = f"{x:.3g}"
    return f"${num}" if unit == "$" else f"{num} {unit}"


def fee_text(fee: float) -> str:
    """``0.04%``, ``0.25%``, ``0.0001%``."""
    pct = fee * 100
    return f"{pct:.4f}".rstrip("0").rstrip(".") + "%"


def pool_comment(p: Found, unit: str, book: TokenBook) -> str:
    """``SOL/USDC · Orca Whirlpool · fee 0.04% · liquidity $12.3M`` (and a Token-2022
    mint's transfer fee: ``· KELP transfer fee 1% from epoch 694``)."""
    liq = "unknown (no price path)" if p.liquidity is None else amount_text(p.liquidity, unit)
    text = f"{p.pair(book)} · {VENUE_NAMES[p.kind]} · fee {fee_text(p.fee)} · liquidity {liq}"
    for mint, note in p.notes:
        text += f" · {book.symbol(mint)} {note}"
    return text


def render(d: Discovery, source: str) -> str:
    """The pools file for ``d`` (what :func:`feeds.wire.universe.parse_universe` reads):
    a header saying where and how it was made, ``base_mints`` (the mints asked for),
    one commented ``[[pool]]`` per pool, deepest first."""
    unit_says = (
        "USD, through a USD stablecoin among the mints"
        if d.usd
        else f"units of {d.unit} (no USD stablecoin among the mints)"
    )
    lines = [
        "# pools found by `arbscope pools discover`",
        f"# node: {source}",
        "# mints: " + ", ".join(f"{d.book.symbol(m)} {m}" for m in d.mints),
        f"# ranked by liquidity (both vaults at the pools' own prices), in {unit_says}",
        "# cycles start and end in a base mint: keep the ones you trade from",
        "base_mints = [" + ", ".join(f'"{m}"' for m in d.mints) + "]",
        "",
    ]
    for p in d.pools:
        body = ["[[pool]]", f'address = "{p.address}"', f'kind = "{p.kind}"']
        if p.refused:  # listed, not tracked: the operator sees why
            why = p.refused
            for m in (p.mint_a, p.mint_b):
                why = why.replace(m, d.book.symbol(m))
            body = [
                f"# refused: {why} (arbscope does not swap through it)",
                *(f"# {x}" for x in body),
            ]
        lines += [f"# {pool_comment(p, d.unit, d.book)}", *body, ""]
    return "\n".join(lines)
