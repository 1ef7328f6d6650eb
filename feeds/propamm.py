"""Prop AMMs observed: the closed-state market makers' programs (HumidiFi, SolFi, Tessera
V, ...) whose quotes are not published and whose math is closed, read only through what
their transactions did. Pure: reads a :class:`~feeds.wire.txview.TxView`.

**The table.** :data:`PROP_AMMS` lists each program id with the public source it was found
in (no id here without one; the names of the prop AMMs whose id was not found are in
``docs/propamm.md``). :func:`programs` merges it with the ids a user adds (the config's
``propamm.programs_file``, :func:`load_programs`): program id -> name.

**A swap** (:class:`PropSwap`) is an instruction, outer or inner (an aggregator's CPI into
the program counts; the program calling itself does not count again), of a program of the
table, read from the transaction's token balances (``meta.pre/postTokenBalances``): the
token accounts the instruction names that no signer of the transaction owns are the prop
AMM's side (its vaults, its fee accounts); what they gained is what the trader paid
(``amount_in`` of ``mint_in``), what they lost is what the trader got (``amount_out`` of
``mint_out``). Exactly one mint gained and one lost, or it is no swap. Read from the pool's
side, the price is the same whether the trader paid native SOL wrapped in the same
transaction or WSOL it held, and whatever fee or tip its signer paid. When two
instructions of the table name one account (a market swapped twice in one transaction)
the balances cannot be split: each is read from the token transfers it made by CPI
(``source`` ``"transfers"``) instead. Its ``market`` is the first account the instruction
names writable that is no signer, no token account and not the program (the market /
pool state the program keeps, as the prop AMMs' instructions name it).

**An oracle update** (:class:`PropOracle`): a transaction of a program of the table that
did not fail and moved no tokens (no token balance changed): the prop AMM's own quote
update (HumidiFi's are instructions of three accounts, its swaps of nine: Dune's spellbook,
``humidifi_solana_stg_raw_swaps.sql``). Its ``markets``: the accounts its instructions
name writable that are no signer.

The realized price of a swap (:meth:`PropSwap.price`) is in raw units of the pair's quote
per raw unit of its base (``feeds.wire.tokens.pair_order``), as the Prices panel's mids are;
:meth:`PropSwap.price_units` applies the decimals the token balances state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import tomllib

from .wire import instructions as I
from .wire.tokens import pair_order
from .wire.txview import Ix, TxView

__all__ = [
    "PROP_AMMS",
    "PropAmm",
    "PropOracle",
    "PropSwap",
    "PropTx",
    "load_programs",
    "observe",
    "programs",
]


@dataclass(frozen=True, slots=True)
class PropAmm:
    """One prop AMM program: its id, its name, and the public source its id was read in
    (a repository and path, or a page's address)."""

    program: str
    name: str
    source: str


_SPELLBOOK = "github.com/duneanalytics/spellbook dbt_subprojects/solana/models/_sector/dex/"
# the known prop AMMs' programs, each with where its id was found (see the module doc)
PROP_AMMS: tuple[PropAmm, ...] = (
    PropAmm(
        "9H6tua7jkLhdm3w8BvgpTn5LZNU7g4ZynDmCiNN3q6Rp",
        "HumidiFi",
        _SPELLBOOK + "humidifi/humidifi_solana_stg_raw_swaps.sql",
    ),
    PropAmm(
        "SoLFiHG9TfgtdUXUjWAxi3LtvYuFyDLVhBWxdMZxyCe",
        "SolFi",
        _SPELLBOOK + "solfi/solfi_solana_base_trades.sql",
    ),
    PropAmm(
        "SV2EYYJyRz2YhfXwXnhNAevDEui5Q6yrfyo13WtupPF",
        "SolFi V2",
        _SPELLBOOK + "solfi/solfi_v2_solana_stg_raw_swaps.sql",
    ),
    PropAmm(
        "TessVdML9pBGgG9yGks7o4HewRaXVAMuoVj4x83GLQH",
        "Tessera V",
        _SPELLBOOK + "tessera/tessera_solana_stg_raw_swaps.sql",
    ),
    PropAmm(
        "goonERTdGsjnkZqWuVjs73BZ3Pb9qoCUdBUL17BnS5j",
        "GoonFi",
        _SPELLBOOK + "goonfi/goonfi_solana_stg_raw_swaps.sql",
    ),
    PropAmm(
        "goonuddtQRrWqqn5nFyczVKaie28f3kDkHWkHtURSLE",
        "GoonFi V2",
        _SPELLBOOK + "goonfi/goonfi_v2_solana_stg_raw_swaps.sql",
    ),
    PropAmm(
        "ZERor4xhbUycZ6gb9ntrhqscUcZmAbQDjEAtCf4hbZY",
        "ZeroFi",
        _SPELLBOOK + "zerofi/zerofi_solana_stg_raw_swaps.sql",
    ),
    PropAmm(
        "obriQD1zbpyLz95G5n7nJe6a4DPjpFwa5XYPoNm113y",
        "Obric",
        _SPELLBOOK + "obric/obric_solana_stg_raw_swaps.sql",
    ),
    PropAmm(
        "ALPHAQmeA7bjrVuccPsYPiCvsi428SNwte66Srvs4pHA",
        "AlphaQ",
        _SPELLBOOK + "alphaq/alphaq_solana_stg_raw_swaps.sql (commit ca078f5a)",
    ),
    PropAmm(
        "BiSoNHVpsVZW2F7rx2eQ59yQwKxzU5NvBcmKshCSUypi",
        "BisonFi",
        "github.com/DefiLlama/dimension-adapters dexs/bisonfi/index.ts",
    ),
    PropAmm(
        "AQU1FRd7papthgdrwPTTq5JacJh8YtwEXaBfKU3bTz45",
        "Aquifer",
        _SPELLBOOK + "aquifer/aquifer_solana_stg_raw_swaps.sql",
    ),
)


def programs(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Program id -> name: :data:`PROP_AMMS` and then ``extra`` (a user's, which may
    rename a known one)."""
    out = {p.program: p.name for p in PROP_AMMS}
    out.update(extra or {})
    return out


def load_programs(path: str | Path | None) -> dict[str, str]:
    """A programs file (TOML: ``<program id> = "name"``, top level or in a ``[programs]``
    table): the prop AMMs a user adds to :data:`PROP_AMMS`. ``None``: none. A file that
    cannot be read, or an entry that is not an address and a name, is a ``ValueError``
    saying what and where."""
    if not path:
        return {}
    p = Path(path).expanduser()
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {p}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p} is not TOML: {exc}") from None
    table = doc.get("programs", doc)
    if not isinstance(table, dict):
        raise ValueError(f'{p}: [programs] must be a table of <program id> = "name"')
    out: dict[str, str] = {}
    for k, v in table.items():
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{p}: {k}: expected a name (a non-empty string)")
        if not 32 <= len(k) <= 44 or not all(c in _B58 for c in k):
            raise ValueError(f"{p}: {k!r} is not a program id (base58, 32 to 44 characters)")
        out[k] = v.strip()
    return out


_B58 = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class PropSwap:
    """One swap on a prop AMM (see the module doc): raw amounts, the decimals the token
    balances state (None: not stated), ``position`` its instruction's place in
    :attr:`TxView.instructions`, ``source`` ``"balances"`` or ``"transfers"``."""

    signature: str
    slot: int
    index: int | None
    program: str
    name: str
    market: str | None
    mint_in: str
    mint_out: str
    amount_in: int
    amount_out: int
    decimals_in: int | None
    decimals_out: int | None
    position: int
    source: str

    @property
    def pair(self) -> tuple[str, str]:
        """``(base, quote)`` of the swap's two mints."""
        return pair_order(self.mint_in, self.mint_out)

    @property
    def buy(self) -> bool:
        """The trader bought the base (paid the quote)."""
        return self.mint_in == self.pair[1]

    @property
    def price(self) -> float:
        """The realized price: raw units of the quote per raw unit of the base."""
        if self.buy:
            return self.amount_in / self.amount_out
        return self.amount_out / self.amount_in

    def price_units(self) -> float | None:
        """The realized price in units of the quote per unit of the base (None: the
        decimals were not stated)."""
        base, _ = self.pair
        if self.decimals_in is None or self.decimals_out is None:
            return None
        d_base, d_quote = (
            (self.decimals_in, self.decimals_out)
            if self.mint_in == base
            else (self.decimals_out, self.decimals_in)
        )
        return self.price * 10.0 ** (d_base - d_quote)


@dataclass(frozen=True, slots=True)
class PropOracle:
    """An oracle (quote) update of a prop AMM: a transaction of its program that moved no
    tokens; ``markets`` the accounts its instructions name writable that are no signer."""

    signature: str
    slot: int
    index: int | None
    program: str
    name: str
    markets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PropTx:
    """What one transaction did on the prop AMMs: its swaps, in execution order, and its
    oracle updates (one per program; none when it moved tokens)."""

    signature: str
    slot: int
    failed: bool
    swaps: tuple[PropSwap, ...]
    oracles: tuple[PropOracle, ...]


@dataclass(frozen=True, slots=True)
class _Row:
    mint: str
    owner: str | None
    pre: int
    post: int
    decimals: int


def _rows(tx: TxView) -> dict[int, _Row]:
    """Each token account of the balances by key index (a row missing before or after
    counts 0: an account opened or closed in the transaction)."""
    rows: dict[int, _Row] = {}
    for t in tx.pre_tokens:
        rows[t.account] = _Row(t.mint, t.owner, t.amount, 0, t.decimals)
    for t in tx.post_tokens:
        old = rows.get(t.account)
        owner = t.owner if t.owner is not None or old is None else old.owner
        rows[t.account] = _Row(t.mint, owner, 0 if old is None else old.pre, t.amount, t.decimals)
    return rows


def _parents(tx: TxView) -> list[int | None]:
    """Each instruction's parent (the position of the instruction that invoked it; None
    for an outer one, or an inner one whose node kept no stack height)."""
    out: list[int | None] = []
    stack: list[tuple[int, int]] = []  # (stack height, position)
    for pos, ix in enumerate(tx.instructions):
        if not ix.inner:
            stack = [(1, pos)]
            out.append(None)
            continue
        h = ix.stack_height
        if h is None:
            out.append(None)
            continue
        while stack and stack[-1][0] >= h:
            stack.pop()
        out.append(stack[-1][1] if stack else None)
        stack.append((h, pos))
    return out


def _market(tx: TxView, ix: Ix, rows: Mapping[int, _Row], signers: set[int]) -> str | None:
    for i in ix.accounts:
        if tx.writable[i] and i not in signers and i not in rows and i != ix.program:
            return tx.keys[i]
    return None


def _by_transfers(
    tx: TxView, pos: int, side: set[int], rows: Mapping[int, _Row], parents: list[int | None]
) -> tuple[dict[str, int], dict[str, int]]:
    """What the prop AMM's side (``side``: key indexes) received and sent by the token
    transfers the instruction at ``pos`` made (directly or deeper), per mint."""
    got: dict[str, int] = defaultdict(int)
    sent: dict[str, int] = defaultdict(int)
    for q, ix in enumerate(tx.instructions):
        if q <= pos or tx.program_of(ix) not in I.TOKEN_PROGRAMS:
            continue
        p = parents[q]
        while p is not None and p != pos:
            p = parents[p]
        if p != pos:
            continue
        try:
            rec = I.decode(tx.program_of(ix), ix.data, tx.accounts_of(ix))
        except I.InstructionError:
            continue
        if not isinstance(rec, I.TokenTransfer):
            continue
        src, dst = tx.key_index(rec.source), tx.key_index(rec.dest)
        row = rows.get(src if src is not None else -1) or rows.get(dst if dst is not None else -1)
        mint = rec.mint or (row.mint if row is not None else None)
        if mint is None:
            continue
        if dst in side and src not in side:
            got[mint] += rec.amount
        elif src in side and dst not in side:
            sent[mint] += rec.amount
    return got, sent


def _subtree(tx: TxView, pos: int, parents: list[int | None]) -> set[int]:
    """The instruction at ``pos`` and every one it ran (directly or deeper)."""
    out = {pos}
    for q in range(pos + 1, len(tx.instructions)):
        p = parents[q]
        while p is not None and p != pos:
            p = parents[p]
        if p == pos:
            out.add(q)
    return out


def _side(
    tx: TxView,
    pos: int,
    rows: Mapping[int, _Row],
    parents: list[int | None],
    signer_keys: set[str],
    theirs: set[int],
) -> set[int]:
    """The prop AMM's token accounts of the instruction at ``pos``: those it names that
    no signer owns and that no other instruction names, other than the instructions it ran
    under (a router names every hop's accounts), the prop AMMs' own and what they ran
    (``theirs``: a market swapped twice, two instructions name its vaults). A router's
    account between two hops is named by the next hop's instruction: not the pool's."""
    family = set(theirs)
    p = parents[pos]
    while p is not None:
        family.add(p)
        p = parents[p]
    foreign: set[int] = set()
    for q, ix in enumerate(tx.instructions):
        if q not in family:
            foreign.update(ix.accounts)
    return {
        i
        for i in tx.instructions[pos].accounts
        if i in rows and rows[i].owner not in signer_keys and i not in foreign
    }


def observe(tx: TxView, table: Mapping[str, str]) -> PropTx | None:
    """The prop AMMs' part of ``tx`` (``table``: program id -> name, :func:`programs`):
    None when no instruction of it is one of theirs."""
    ixs = tx.instructions
    mine = [pos for pos, ix in enumerate(ixs) if tx.program_of(ix) in table]
    if not mine:
        return None
    parents = _parents(tx)
    # the program calling itself (an event, an inner step) is part of its own instruction
    tops = []
    for pos in mine:
        prog = tx.program_of(ixs[pos])
        p = parents[pos]
        while p is not None and tx.program_of(ixs[p]) != prog:
            p = parents[p]
        if p is None:
            tops.append(pos)
    rows = _rows(tx)
    signers = set(range(tx.header[0]))
    signer_keys = {tx.keys[i] for i in signers}
    theirs = set().union(*(_subtree(tx, pos, parents) for pos in tops))
    sides = {pos: _side(tx, pos, rows, parents, signer_keys, theirs) for pos in tops}
    claimed: dict[int, int] = defaultdict(int)
    for side in sides.values():
        for i in side:
            claimed[i] += 1
    swaps: list[PropSwap] = []
    if not tx.failed:
        for pos in tops:
            ix = ixs[pos]
            side = sides[pos]
            if any(claimed[i] > 1 for i in side):
                got, sent = _by_transfers(tx, pos, side, rows, parents)
                source = "transfers"
            else:
                got, sent = defaultdict(int), defaultdict(int)
                for i in side:
                    r = rows[i]
                    d = r.post - r.pre
                    if d > 0:
                        got[r.mint] += d
                    elif d < 0:
                        sent[r.mint] -= d
                # a mint both gained and lost by the side counts by its net
                for m in set(got) & set(sent):
                    net = got.pop(m) - sent.pop(m)
                    if net > 0:
                        got[m] = net
                    elif net < 0:
                        sent[m] = -net
                source = "balances"
            ins = [m for m, v in got.items() if v > 0]
            outs = [m for m, v in sent.items() if v > 0]
            if len(ins) != 1 or len(outs) != 1 or ins[0] == outs[0]:
                continue
            m_in, m_out = ins[0], outs[0]
            dec = {r.mint: r.decimals for r in rows.values()}
            prog = tx.program_of(ix)
            swaps.append(
                PropSwap(
                    tx.signature,
                    tx.slot,
                    tx.index,
                    prog,
                    table[prog],
                    _market(tx, ix, rows, signers),
                    m_in,
                    m_out,
                    got[m_in],
                    sent[m_out],
                    dec.get(m_in),
                    dec.get(m_out),
                    pos,
                    source,
                )
            )
    oracles: list[PropOracle] = []
    moved = any(r.pre != r.post for r in rows.values())
    if not tx.failed and not swaps and not moved:
        by_program: dict[str, list[str]] = {}
        for pos in tops:
            ix = ixs[pos]
            prog = tx.program_of(ix)
            ms = by_program.setdefault(prog, [])
            for i in ix.accounts:
                k = tx.keys[i]
                if tx.writable[i] and i not in signers and i != ix.program and k not in ms:
                    ms.append(k)
        for prog, ms in by_program.items():
            oracles.append(
                PropOracle(tx.signature, tx.slot, tx.index, prog, table[prog], tuple(ms))
            )
    return PropTx(tx.signature, tx.slot, tx.failed, tuple(swaps), tuple(oracles))
