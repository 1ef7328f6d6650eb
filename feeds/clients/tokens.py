"""The token registry: each mint's decimals from its account and its name and symbol from
Token-2022's metadata extension or the Metaplex Metadata account, fetched once per
session with ``getMultipleAccounts`` (through the feed's hedged fetch), in a task of its
own: the screen shows the well-known table's names, then short mint prefixes, until the
answer is in, and never waits for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from feeds.wire import mints as M
from feeds.wire.tokens import BY_MINT
from feeds.wire.units import TokenBook, TokenInfo, clean_symbol

from .rpc import RawAccount, RpcError

Fetch = Callable[[Sequence[str]], Awaitable[dict[str, RawAccount | None]]]


def info_from_accounts(
    mint: str, mint_acc: RawAccount | None, meta_acc: RawAccount | None
) -> tuple[TokenInfo | None, list[str]]:
    """What a mint's account and its Metaplex account say (None: nothing usable), and
    the problems found on the way (a wrong layout, a metadata account of another mint,
    decimals that disagree with the well-known table)."""
    problems: list[str] = []
    known = BY_MINT.get(mint)
    if mint_acc is None:
        return None, [f"{mint}: no mint account"]
    try:
        m = M.decode_mint(mint_acc.data, mint_acc.owner)
    except M.TokenDataError as exc:
        return None, [f"{mint}: {exc}"]
    if known is not None and known.decimals != m.decimals:
        problems.append(
            f"{mint}: the chain says {m.decimals} decimals, the table "
            f"{known.decimals} ({known.symbol}): the chain's are used"
        )
    meta = m.metadata if m.metadata is not None and m.metadata.mint == mint else None
    if meta is None and meta_acc is not None:
        try:
            md = M.decode_metaplex(meta_acc.data, meta_acc.owner)
        except M.TokenDataError as exc:
            problems.append(f"{mint}: metadata: {exc}")
        else:
            if md.mint == mint:
                meta = md
            else:
                problems.append(f"{mint}: its metadata account names mint {md.mint}")
    symbol = clean_symbol(meta.symbol) if meta is not None else ""
    name = meta.name.strip().rstrip("\0") if meta is not None else ""
    if known is not None:  # the curated table names the tokens it knows
        symbol, name = known.symbol, name or known.name
    if not symbol:
        return TokenInfo(mint, "", name, m.decimals, m.program, source="chain"), problems
    return TokenInfo(
        mint,
        symbol,
        name,
        m.decimals,
        m.program,
        usd_stable=known is not None and known.usd_stable,
        source="chain",
    ), problems


class TokenRegistry:
    """Names and decimals of the session's tokens (see the module docstring). ``known``:
    what the journal holds already (a replay's registry never fetches)."""

    def __init__(self, fetch: Fetch | None = None, known: Iterable[TokenInfo] = ()) -> None:
        self.fetch = fetch
        self.book = TokenBook.of(known)
        self.problems: list[str] = []
        self.fetched = 0  # mints read from the chain
        # the last :meth:`resolve`'s request went unanswered (a node under load, a
        # rate limit): asking again later may name what is still missing
        self.unanswered = False

    def missing(self, mints: Iterable[str]) -> list[str]:
        """The mints this registry has not read yet."""
        return sorted({m for m in mints if m not in self.book.tokens})

    async def resolve(self, mints: Iterable[str]) -> list[TokenInfo]:
        """Read the mints not known yet (each mint and its Metaplex PDA, one request);
        the new entries, also in :attr:`book`. A failed request leaves the book as it
        was (the fallbacks stay), says why in :attr:`problems` and sets
        :attr:`unanswered` (the caller may ask again later)."""
        todo = self.missing(mints)
        if not todo or self.fetch is None:
            return []
        pdas = {m: M.metadata_address(m) for m in todo}
        try:
            accounts = await self.fetch([*todo, *pdas.values()])
        except RpcError as exc:
            self.problems.append(f"token registry: {exc}")
            self.unanswered = True
            return []
        self.unanswered = False
        new = []
        for m in todo:
            info, problems = info_from_accounts(m, accounts.get(m), accounts.get(pdas[m]))
            self.problems += problems
            if info is not None:
                new.append(info)
        self.fetched += len(new)
        self.book = TokenBook({**self.book.tokens, **{t.mint: t for t in new}})
        return new
