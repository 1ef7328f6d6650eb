"""Building an order's transactions: the pools' accounts, the compute budget, the swaps and the
tip, the token accounts it creates, a bundle of two when one transaction cannot hold it,
simulation; the accounts the lookup tables hold.
"""

from __future__ import annotations

import base64
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from engine_rs.errors import EngineError
from feeds import venues
from feeds.wire import instructions as I
from feeds.wire.txsize import MAX_TX_ACCOUNT_LOCKS, PACKET_DATA_SIZE

from .compute import cycle_budget, cycle_steps
from .core import ExecutorCore, StaticPool
from .keys import Signer
from .orders import (
    SWAP_PROGRAMS,
    LiveOrder,
    confirmation_text,
    describe_error,
)
from .warm import Keeper, decode_pool

log = logging.getLogger(__name__)


def tip_account(pools: Sequence[str]) -> str:
    """The Jito tip account a cycle's orders tip: one of the eight, by its pools (crc32 of
    their addresses), so a cycle's message keeps one shape from order to order (its
    template compiled once, ahead of the order: :meth:`Building.prewarm`) while the tips
    spread over the accounts cycle by cycle."""
    n = len(I.JITO_TIP_ACCOUNTS)
    return I.JITO_TIP_ACCOUNTS[zlib.crc32("/".join(pools).encode()) % n]


def too_big(tx: VersionedTransaction | int, raw: bytes) -> str:
    """Why a node would refuse ``tx`` unrun for its size ("" when it would not): over
    the packet limit, or naming more accounts than a transaction may lock (``tx``: the
    transaction, or the accounts its message names)."""
    if len(raw) > PACKET_DATA_SIZE:
        limit = f"{PACKET_DATA_SIZE:,}-byte packet limit"
        return f"the transaction is {len(raw):,} bytes, over the {limit}"
    locks = tx if isinstance(tx, int) else _accounts_named(tx)
    if locks > MAX_TX_ACCOUNT_LOCKS:  # TooManyAccountLocks
        return (
            f"the transaction names {locks} accounts, over the {MAX_TX_ACCOUNT_LOCKS} one may lock"
        )
    return ""


def _accounts_named(tx: VersionedTransaction) -> int:
    """The accounts a transaction's message names: its static keys and every lookup's
    indexes."""
    msg = tx.message
    looked = sum(
        len(t.writable_indexes) + len(t.readonly_indexes)
        for t in getattr(msg, "address_table_lookups", ())
    )
    return len(msg.account_keys) + looked


def compile_and_sign(
    keypair: Keypair | Signer,
    payer: Pubkey,
    ixs: Sequence[Instruction],
    blockhash: str,
    tables: Sequence[AddressLookupTableAccount] = (),
) -> VersionedTransaction:
    """A v0 message signed by ``keypair``, loading from ``tables`` every account they
    hold that does not sign and is not an invoked program (solders' compiler, Agave's
    rule): the signature over the message bytes, then the transaction populated with it
    (the same bytes as solders' ``VersionedTransaction(msg, [keypair])`` in well under
    half the time; a wallet's :class:`~.keys.Signer` signs faster than its keypair)."""
    msg = MessageV0.try_compile(payer, list(ixs), list(tables), Hash.from_string(blockhash))
    return VersionedTransaction.populate(msg, [keypair.sign_message(to_bytes_versioned(msg))])


# two pairs of (amount in, minimum out) a swap is built at to find where its data holds
# them: distinct little-endian u64s no discriminator or other field is likely to hold
_PROBES = (
    (0x1D2C_3B4A_5968_7786, 0x2E3F_4C5B_6A79_8897),
    (0x0A1B_2C3D_4E5F_6071, 0x3F4E_5D6C_7B8A_99A8),
)
_U64 = 1 << 64


@dataclass(frozen=True, slots=True)
class SwapTemplate:
    """One hop's swap built once — through one pool one way between the wallet's two
    token accounts, of a venue whose accounts do not follow its pool's state
    (``Venue.fresh_state`` False) or at one ``Venue.swap_key`` of that state — at whose
    amounts only two little-endian u64s of its data change:
    :meth:`make` patches them (the accounts, a third of building an order, not built
    again). Made by :func:`swap_template`, which checks it rebuilds a swap byte for byte."""

    program: Pubkey
    accounts: list[AccountMeta]
    data: bytes
    at_in: int
    at_min: int

    def make(self, amount_in: int, minimum_out: int) -> Instruction:
        """The swap of ``amount_in`` for at least ``minimum_out`` (ValueError when either
        is not a u64, as the venue's builder says)."""
        if not (0 <= amount_in < _U64 and 0 <= minimum_out < _U64):
            raise ValueError(f"swap amounts {amount_in}, {minimum_out} do not fit in u64")
        data = bytearray(self.data)
        data[self.at_in : self.at_in + 8] = amount_in.to_bytes(8, "little")
        data[self.at_min : self.at_min + 8] = minimum_out.to_bytes(8, "little")
        return Instruction(self.program, bytes(data), self.accounts)


def swap_template(venue: venues.Venue, leg: venues.Leg) -> SwapTemplate | None:
    """``leg``'s swap as a :class:`SwapTemplate`, or None when it cannot be one: the
    venue's accounts follow its pool's state and it has no ``swap_key`` (with one, the
    template holds for the states of ``leg.record``'s key alone: the caller keys it so),
    or its data does not hold the two amounts once each at fixed places (checked: the
    template must rebuild a second pair of amounts exactly as the venue's builder does)."""
    if venue.fresh_state and venue.swap_key is None:
        return None
    (a1, m1), (a2, m2) = _PROBES
    try:
        first = venue.swap_instruction(replace(leg, amount_in=a1, minimum_out=m1))
        second = venue.swap_instruction(replace(leg, amount_in=a2, minimum_out=m2))
    except (ValueError, KeyError):
        return None
    data = bytes(first.data)
    a, m = a1.to_bytes(8, "little"), m1.to_bytes(8, "little")
    if data.count(a) != 1 or data.count(m) != 1:
        return None
    t = SwapTemplate(first.program_id, list(first.accounts), data, data.find(a), data.find(m))
    return t if bytes(t.make(a2, m2)) == bytes(second) else None


def _compact(buf: bytes, at: int) -> tuple[int, int]:
    """A compact-u16 (Solana's short vector length) at ``at``: (value, where it ends)."""
    value = shift = 0
    while True:
        b = buf[at]
        at += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, at
        shift += 7


def shape_of(ixs: Sequence[Instruction]) -> tuple[Any, ...]:
    """What a v0 message's layout depends on, of its instructions: each one's program, its
    accounts (and their flags) and its data's length — not the data."""
    return tuple((ix.program_id, tuple(ix.accounts), len(ix.data)) for ix in ixs)


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A v0 message compiled once for instructions of one :func:`shape_of` (a route's
    swaps, the wallet's token accounts, the tip account), one payer and lookup tables:
    at another blockhash and other instruction data of the same lengths (amounts,
    minimums, compute-unit limit and price, tip) only those bytes of it change, at fixed
    places — :meth:`render` patches them instead of compiling again (solders' compiler
    converts every lookup table on each call). Made by :func:`message_template`."""

    shape: tuple[Any, ...]
    tables: tuple[AddressLookupTableAccount, ...]  # compared by identity
    message: bytes  # the versioned message's bytes (0x80 prefix)
    blockhash_at: int
    data_at: tuple[int, ...]  # where each instruction's data starts
    accounts_named: int  # static keys and looked-up indexes (the account-lock limit)
    lookups: tuple[str, ...] = ()  # the tables the message loads from (its audit)

    def render(self, ixs: Sequence[Instruction], blockhash: Hash) -> bytes:
        """The message of ``ixs`` (of this template's shape) at ``blockhash``."""
        buf = bytearray(self.message)
        buf[self.blockhash_at : self.blockhash_at + 32] = bytes(blockhash)
        for at, ix in zip(self.data_at, ixs, strict=True):
            data = bytes(ix.data)
            buf[at : at + len(data)] = data
        return bytes(buf)


def message_template(
    payer: Pubkey,
    ixs: Sequence[Instruction],
    tables: Sequence[AddressLookupTableAccount] = (),
) -> MessageTemplate:
    """``ixs`` compiled (solders' compiler, as :func:`compile_and_sign` compiles) into a
    :class:`MessageTemplate`: the places of its blockhash and of each instruction's data
    read from the message's layout (a v0 message: prefix, header, keys, blockhash,
    instructions, lookups)."""
    msg = MessageV0.try_compile(payer, list(ixs), list(tables), Hash.default())
    raw = to_bytes_versioned(msg)
    if raw[1] != 1:  # the header's signatures: the payer's alone (what render's caller signs)
        raise ValueError(f"a message {raw[1]} accounts must sign: the payer's alone is templated")
    keys, at = _compact(raw, 4)  # the 0x80 prefix, then the 3-byte header
    at += 32 * keys
    blockhash_at = at
    at += 32
    n, at = _compact(raw, at)
    data_at = []
    for _ in range(n):
        at += 1  # the program's index
        accounts, at = _compact(raw, at)
        at += accounts
        size, at = _compact(raw, at)
        data_at.append(at)
        at += size
    looked = 0
    lookups, at = _compact(raw, at)
    for _ in range(lookups):
        at += 32
        for _side in range(2):
            k, at = _compact(raw, at)
            looked += k
            at += k
    if at != len(raw) or n != len(ixs):
        raise ValueError("a v0 message of an unexpected layout")  # solders changed its format
    return MessageTemplate(
        shape_of(ixs),
        tuple(tables),
        raw,
        blockhash_at,
        tuple(data_at),
        keys + looked,
        lookups_of(msg),
    )


def lookups_of(msg: Any) -> tuple[str, ...]:
    """The lookup tables a message loads accounts from (none: a legacy message)."""
    return tuple(str(t.account_key) for t in getattr(msg, "address_table_lookups", ()))


def still_loads(
    was: Sequence[AddressLookupTableAccount], now: Sequence[AddressLookupTableAccount]
) -> tuple[AddressLookupTableAccount, ...] | None:
    """``now`` (as a template's tables) when every table of ``was`` is in it holding what
    it held then at the same places (a lookup table only appends: a message compiled
    against ``was`` loads the same accounts from ``now``), else None (a table gone or
    rewritten: compile again). Tables only in ``now`` do not matter to such a message."""
    held = {t.key: t for t in now}
    for old in was:
        new = held.get(old.key)
        if new is None:
            return None
        if new is not old:
            before = old.addresses
            if new.addresses[: len(before)] != before:
                return None
    return tuple(now)


class Templates:
    """Signing an order's transactions: a v0 message through the wallet's lookup tables,
    from the message template of its shape (:class:`MessageTemplate`) on the hot path,
    and each hop's swap from its :class:`SwapTemplate`; both compiled once and kept."""

    def __init__(self, core: ExecutorCore) -> None:
        self.core = core
        # (payer, shape_of(instructions)) -> the v0 message compiled for it
        self.messages: dict[tuple[Any, ...], MessageTemplate] = {}
        # (pool, mint in, mint out, the wallet's two token accounts, the wallet) -> the
        # static part it was made from and the swap's template or None
        self.swaps: dict[tuple[Any, ...], tuple[StaticPool, SwapTemplate | None]] = {}
        # templates (message or swap) compiled so far: an order's share is LiveOrder.compiled
        self.compiles = 0

    async def sign(
        self, ixs: list[Instruction], durable: str = ""
    ) -> tuple[VersionedTransaction, bytes, str, int]:
        """(transaction, its bytes, blockhash, last valid block height) for ``ixs``: a v0
        message that loads from the wallet's lookup tables every account they hold. With
        ``durable`` (a durable nonce) that is its blockhash (it never expires by height:
        the escalation window bounds it)."""
        assert self.core.wallet is not None
        bh, last_valid = await self.core.latest_blockhash()
        if durable:
            bh = durable
        tables = self.core.tables.accounts() if self.core.tables is not None else []
        tx = compile_and_sign(self.core.wallet.signer, self.core.wallet.key, ixs, bh, tables)
        return tx, bytes(tx), bh, last_valid

    def sign_held(self, ixs: list[Instruction]) -> tuple[str, bytes, str, int, int] | None:
        """:meth:`_sign` with the blockhash held, when it is fresh (None when not: the
        keeper reads a new one ahead of its age), from the message template of ``ixs``'s
        shape (:class:`MessageTemplate`, compiled on first use and when the lookup
        tables change other than by growing): (signature, the transaction's bytes,
        blockhash, last valid block height, accounts the message names) — the same bytes
        :func:`compile_and_sign` gives against the tables as the template was compiled
        (after they grew, a message that may name statically an account they now hold)."""
        assert self.core.wallet is not None
        held = self.core.held_blockhash()
        if held is None:
            return None
        t = self.message(ixs)
        # the engine renders the template (the blockhash, each instruction's data) and
        # signs it in one call
        patches = [(at, ix.data) for at, ix in zip(t.data_at, ixs, strict=True)]
        raw, sig = self.core.wallet.tx.sign_v0(t.message, t.blockhash_at, held[0], patches)
        return sig, raw, held[0], held[1], t.accounts_named

    def message(self, ixs: list[Instruction]) -> MessageTemplate:
        """The message template of ``ixs``'s shape, compiled when there is none yet or
        the wallet's lookup tables changed other than by growing (:func:`still_loads`:
        a template compiled against fewer entries names its accounts by indexes the
        grown tables still hold); counted in :attr:`compiles`."""
        assert self.core.wallet is not None
        tables = self.core.tables.accounts() if self.core.tables is not None else []
        shape = (self.core.wallet.key, shape_of(ixs))  # the payer's too
        t = self.messages.get(shape)
        if t is not None and not (
            len(t.tables) == len(tables)
            and all(a is b for a, b in zip(t.tables, tables, strict=True))
        ):
            grown = still_loads(t.tables, tables)
            t = None if grown is None else replace(t, tables=grown)
            if t is not None:
                self.messages[shape] = t  # (compared by identity again from now on)
        if t is None:
            if len(self.messages) > 1_024:
                self.messages.clear()
            t = self.messages[shape] = message_template(self.core.wallet.key, ixs, tables)
            self.compiles += 1
        return t

    def swap_template(
        self,
        venue: venues.Venue,
        pool: str,
        st: StaticPool,
        record: Any,
        tin: str,
        tout: str,
        atas: dict[str, str],
    ) -> SwapTemplate | None:
        """The wallet's swap through ``pool`` from ``tin`` to ``tout`` as a template (made
        on first use, :func:`swap_template`), while the pool's static part and the wallet's
        token accounts are the ones it was made from; a fresh-state venue's at the
        ``swap_key`` of ``record`` (its state now: each key its own template), None when
        it has no key."""
        assert self.core.wallet is not None
        key: tuple[Any, ...] = (pool, tin, tout, atas[tin], atas[tout], self.core.wallet.pubkey)
        if venue.fresh_state:
            if venue.swap_key is None:
                return None
            try:
                key = (*key, venue.swap_key(record, tin))
            except (ValueError, KeyError, AttributeError, TypeError):
                return None  # (the venue's builder says why)
        held = self.swaps.get(key)
        if held is not None and held[0] is st:
            return held[1]
        if len(self.swaps) >= 4_096:  # the oldest made goes (not all: each is 2-3 KB)
            del self.swaps[next(iter(self.swaps))]
        leg = venues.Leg(
            pool=pool,
            record=record,
            owner=self.core.wallet.pubkey,
            mint_in=tin,
            mint_out=tout,
            source=atas[tin],
            dest=atas[tout],
            amount_in=0,
            minimum_out=0,
            token_programs=st.programs,
        )
        template = swap_template(venue, leg)
        self.swaps[key] = (st, template)
        self.compiles += 1
        return template


class Builder:
    """Building an order's instructions (see the module doc): from what is held (the
    fast path) or after reading the accounts; its split into a bundle of two; its token
    accounts created apart."""

    def __init__(self, core: ExecutorCore, templates: Templates, keeper: Keeper) -> None:
        self.core, self.templates, self.keeper = core, templates, keeper

    def prewarm(self, opp: Any) -> bool:
        """Compile ahead, off the hot path, what the fast path's order on ``opp`` (an
        ``Opportunity``) computes on first use: whether it fits (``sendable``), its hops'
        swap templates and its message's template (an order then only patches them: the
        same bytes), from what is held now (:meth:`_warm`; nothing is read from the
        node). Whether a message template was compiled (False too when its order could
        not go the fast way)."""
        if not (self.core.fast_path and self.core.armed) or self.core.wallet is None:
            return False
        amount = int(opp.amount_in)
        if amount <= 0 or opp.base_mint != self.core.base:
            return False
        # whether one transaction holds it (its size computed once for its hops' shape,
        # memoized: the decision's check then sizes nothing, ~0.5 ms on a miss)
        self.core.sendable(opp)
        try:
            quoted, steps = self.core.graph().quote_steps(list(opp.pools), opp.base_mint, amount)
        except EngineError:
            return False
        if not quoted:
            return False
        key = (opp.base_mint, tuple(opp.pools))
        tokens, pools, kinds = list(opp.tokens), list(opp.pools), list(opp.kinds)
        o = LiveOrder(0, "warm", key, tokens, pools, kinds, amount, list(quoted))
        o.steps = [int(x) for x in steps]
        states = self.warm(o)
        if states is None:
            return False
        n = len(self.templates.messages)
        try:
            built = self.build_warm(o, 0, states)  # (a price's data is as long as any)
            if built is None:
                return False
            self.templates.message(built[0])
        except (ValueError, KeyError, EngineError):
            return False  # (its order would go the ordinary way, which says why)
        return len(self.templates.messages) != n

    def warm(self, o: LiveOrder) -> dict[str, Any] | None:
        """Whether ``o`` can be built from what is held already, with no round trip:
        every pool's static part decoded, the wallet's token account of each token known
        to exist or not, its base balance read, and the state (the session graph's
        decoded account) of each pool whose swap follows it.
        Then the pools' states by address, else None (the order reads them from the
        node). A durable order always reads its nonce."""
        if not self.core.fast_path or o.nonce or self.core.base not in self.core.balances:
            return None
        if any(p not in self.core.static for p in o.pools):
            return None
        if any(t not in self.core.accounts for t in o.tokens):
            return None
        out: dict[str, Any] = {}
        for p in o.pools:
            st = self.core.static[p]
            if not venues.by_kind(st.kind).fresh_state:
                continue
            held = self.core.state_of(p) if self.core.state_of is not None else None
            if held is None or held[0] != st.kind:
                return None
            out[p] = held[1]
        return out

    def cold(self, o: LiveOrder) -> str:
        """Why :meth:`_warm` holds nothing for ``o`` ("" when it does): the first thing
        missing (said with an order that went the ordinary way: ``LiveOrder.fallback``)."""
        if not self.core.fast_path:
            return "the fast path is off"
        if o.nonce:
            return "a durable order reads its nonce"
        if self.core.base not in self.core.balances:
            return "the base balance is not read"
        for p in o.pools:
            if p not in self.core.static:
                return f"pool {p[:8]} not decoded yet"
        for t in o.tokens:
            if t not in self.core.accounts:
                return f"the token account of {t[:8]} not read yet"
        for p in o.pools:
            st = self.core.static[p]
            if venues.by_kind(st.kind).fresh_state:
                held = self.core.state_of(p) if self.core.state_of is not None else None
                if held is None or held[0] != st.kind:
                    return f"pool {p[:8]}'s state not held"
        return ""

    def hop_steps(self, o: LiveOrder, kinds: Sequence[str]) -> tuple[int, ...] | None:
        """Each hop's steps in its venue's compute-unit model (``.compute.cycle_steps``):
        its quote's (``o.steps``) and its mints' Token-2022 steps, each mint's program as
        the scorer reads it (the graph's ``mint_program``; the node's, where the graph
        has none). None when the quote's steps are not known (each hop at its most)."""
        if len(o.steps) != len(kinds):
            return None
        g = self.core.graph()
        programs = [g.mint_program(t) or self.core.program(t) for t in o.tokens]
        return cycle_steps(kinds, (), o.steps, programs)

    async def build(
        self, o: LiveOrder, cu_price: int
    ) -> tuple[list[Instruction], str, int, list[str]]:
        """(instructions, base ATA, base balance before, mints whose token account the
        instructions create) for ``o``; sets ``o.min_out``. From what is held when it can
        be (:meth:`build_warm`), else after reading the accounts."""
        warm = self.build_warm(o, cu_price)
        if warm is not None:
            return warm
        assert self.core.wallet is not None
        me = self.core.wallet.pubkey
        await self.keeper.statics(o.pools)
        atas = {t: self.core.ata(t) for t in dict.fromkeys(o.tokens)}
        # pools whose swap names accounts that follow their state (a Whirlpool's tick
        # arrays): read again with the wallet's accounts
        fresh = [p for p in o.pools if venues.by_kind(self.core.static[p].kind).fresh_state]
        o.path = "fetched"
        keys = [*fresh, me, *atas.values(), *([o.nonce] if o.nonce else [])]
        got = await self.core.client().get_multiple_accounts(keys)
        if o.nonce:  # a durable order: its blockhash is the nonce's, read now
            acc = got.get(o.nonce)
            held = I.read_nonce_account(acc.owner, acc.data) if acc is not None else None
            if held is None or held[0] != me:
                raise ValueError(f"nonce account {o.nonce} is not a durable nonce of the wallet")
            o.durable = held[1]
        base_acc = got.get(atas[self.core.base])
        if base_acc is None:
            raise ValueError(f"the wallet has no token account for the base token {self.core.base}")
        pre_base = self.core.amount(base_acc.data)
        exists = {t: got.get(a) is not None for t, a in atas.items()}
        for t, there in exists.items():
            self.core.saw_account(t, there)
        states: dict[str, Any] = {}
        for p in fresh:
            now = got.get(p)
            if now is not None:
                states[p] = decode_pool(self.core.eng, now)[1]
        await self.keeper.refresh_tip()
        ixs, creates = self.instructions(o, cu_price, atas, exists, pre_base, states)
        return ixs, atas[self.core.base], pre_base, creates

    def build_warm(
        self, o: LiveOrder, cu_price: int, states: dict[str, Any] | None = None
    ) -> tuple[list[Instruction], str, int, list[str]] | None:
        """:meth:`_build` from what is held, with no round trip (:meth:`_warm`, or its
        answer as ``states`` when the caller has it): the pools' states the session
        graph holds (the ones ``o`` was quoted on), the wallet's accounts and base
        balance as last read, the tip as last kept. None when something is not held."""
        if states is None:
            states = self.warm(o)
        if states is None:
            return None
        o.path = "fast"
        atas = {t: self.core.ata(t) for t in dict.fromkeys(o.tokens)}
        exists = {t: self.core.accounts[t] for t in atas}
        # exact only when read after every sent order had ended (else the order's
        # simulated output and realized change are not counted from it)
        pre_base = self.core.balances[self.core.base]
        o.pre_known = self.core.balances_clean
        ixs, creates = self.instructions(o, cu_price, atas, exists, pre_base, states)
        return ixs, atas[self.core.base], pre_base, creates

    def instructions(
        self,
        o: LiveOrder,
        cu_price: int,
        atas: dict[str, str],
        exists: dict[str, bool],
        pre_base: int,
        states: dict[str, Any],
    ) -> tuple[list[Instruction], list[str]]:
        """``o``'s instructions (and the mints whose token account they create): each
        token's account of its program (a Token-2022 mint's ATA is Token-2022's; a venue
        builds its Token-2022 instruction for a pool with such a mint, and the quotes,
        hence the minimums, are net of the mints' transfer fees); ``states``: the pools
        whose swap follows their state, decoded."""
        assert self.core.wallet is not None
        me = self.core.wallet.pubkey
        if pre_base < o.amount_in:
            raise ValueError(
                f"the wallet holds {pre_base:,} of the base token, the order needs {o.amount_in:,}"
            )
        bps = self.core.config.max_slippage_bps
        n = len(o.pools)
        # a durable order's first instruction advances its nonce (the runtime's rule)
        ixs: list[Instruction] = [I.advance_nonce(o.nonce, me)] if o.nonce else []
        creates = [t for t in atas if not exists[t]]
        kinds = [self.core.static[p].kind for p in o.pools]
        o.kinds = kinds  # the programs (amm_v4 | cpmm | whirlpool), not the curves
        # what the scorer priced it at, each hop at the steps its quote crosses, from what
        # the wallet holds now (the same, unless an account appeared or went since: the
        # step journals both)
        o.cu_limit = cycle_budget(
            kinds,
            accounts=len(creates),
            override=self.core.config.cu_limit,
            steps=self.hop_steps(o, kinds),
        ).limit
        ixs.append(I.set_compute_unit_limit(o.cu_limit))
        ixs.append(I.set_compute_unit_price(cu_price))
        for t in creates:
            ixs.append(I.create_ata_idempotent(me, me, t, self.core.program(t)))
        for i, pool in enumerate(o.pools):
            tin, tout = o.tokens[i], o.tokens[i + 1]
            amount, quoted = o.hops[i], o.hops[i + 1]
            st = self.core.static[pool]
            venue = venues.by_kind(st.kind)
            # a hop that gets exactly its minimum (an order book's buy) asks for its quote
            exact = venue.exact_buy and tout == self.core.graph().pool_rate(pool)[0]
            minimum = quoted if exact else quoted * (10_000 - bps) // 10_000
            if i == n - 1:
                minimum = max(minimum, o.amount_in)
                o.min_out = minimum
            record = states.get(pool, st.record)
            template = self.templates.swap_template(venue, pool, st, record, tin, tout, atas)
            if template is not None:
                ixs.append(template.make(amount, minimum))
                continue
            leg = venues.Leg(
                pool=pool,
                record=record,
                owner=me,
                mint_in=tin,
                mint_out=tout,
                source=atas[tin],
                dest=atas[tout],
                amount_in=amount,
                minimum_out=minimum,
                token_programs=st.programs,
            )
            ixs.append(venue.swap_instruction(leg))
        tip = self.core.tip.current()
        if tip > 0:
            ixs.append(I.transfer(me, tip_account(o.pools), tip))
            o.tip = tip
        return ixs, creates

    async def split(
        self, o: LiveOrder, ixs: list[Instruction], cu_price: int
    ) -> list[tuple[VersionedTransaction, bytes, list[Instruction]]] | None:
        """``ixs`` (compute budget, new token accounts, one swap per hop, the tip) as two
        transactions of one bundle: the first hops (and the accounts created) in the
        first, the others and the tip in the second, each with the compute units its hops
        take; the cut nearest the middle whose two both fit a packet and the account-lock
        limit, None when no cut does. Both name the same blockhash: they land in the same
        slot, in order, or neither does."""
        at = [i for i, ix in enumerate(ixs) if str(ix.program_id) in SWAP_PROGRAMS]
        if len(at) < 2:
            return None
        first, last = at[0], at[-1]
        head, swaps, tail = ixs[2:first], ixs[first : last + 1], ixs[last + 1 :]
        n = len(swaps)
        over = self.core.config.cu_limit
        # each part's hops at their quote's steps (not known: each at its most)
        steps: Sequence[int | None] = self.hop_steps(o, o.kinds) or [None] * len(o.kinds)
        for k in sorted(range(1, n), key=lambda k: (abs(2 * k - n), k)):
            one = cycle_budget(
                o.kinds[:k], accounts=len(head), override=over, steps=steps[:k]
            ).limit
            two = cycle_budget(o.kinds[k:], override=over, steps=steps[k:]).limit
            groups = [
                [
                    I.set_compute_unit_limit(one),
                    I.set_compute_unit_price(cu_price),
                    *head,
                    *swaps[:k],
                ],
                [
                    I.set_compute_unit_limit(two),
                    I.set_compute_unit_price(cu_price),
                    *swaps[k:],
                    *tail,
                ],
            ]
            out = []
            for g in groups:
                tx, raw, _, _ = await self.templates.sign(g)
                if too_big(tx, raw):
                    break
                out.append((tx, raw, g))
            else:
                return out
        return None

    async def create_accounts(
        self, o: LiveOrder, mints: list[str], cu_price: int, gen: int
    ) -> bool:
        """The wallet's missing token accounts for ``mints`` in a transaction of their own
        (simulated, sent, confirmed; journaled as the order's ``accounts`` step). False
        when that did not work (the order is finished then)."""
        assert self.core.wallet is not None
        me = self.core.wallet.pubkey
        rpc = self.core.client()
        ixs = [
            I.set_compute_unit_limit(cycle_budget((), accounts=len(mints)).limit),
            I.set_compute_unit_price(cu_price),
            *(I.create_ata_idempotent(me, me, m, self.core.program(m)) for m in mints),
        ]
        tx, raw, _, last_valid = await self.templates.sign(ixs)
        sig = str(tx.signatures[0])
        wire = base64.b64encode(raw).decode()
        sim = await rpc.simulate_transaction(wire, accounts=())
        if sim.get("err") is not None:
            self.core.finish(
                o,
                "refused",
                "creating the token accounts would fail: " + describe_error(sim["err"], ixs),
            )
            return False
        if self.core.killed(o, gen):
            return False
        watcher = self.core.watch()
        fut = await watcher.subscribe(sig)
        o.sending = True
        await rpc.send_transaction(wire)
        conf = await watcher.wait(
            sig,
            fut,
            last_valid,
            self.core.config.confirm_timeout_s,
            resend=lambda: rpc.send_transaction(wire),
        )
        o.sending = False
        self.core.step(o, "accounts", accounts_signature=sig, mints=mints, outcome=conf.status)
        if conf.status != "confirmed":
            self.core.finish(
                o,
                "refused",
                "creating the token accounts did not land: " + confirmation_text(conf, ixs),
            )
            return False
        # they exist now: the order rebuilt next, and every later one, creates none (held
        # as missing, each rebuilt order carried the creates again, and the next order's
        # accounts transaction, byte for byte the one before, was refused as already
        # processed: on a real node 89 of 94 created nothing)
        for m in mints:
            self.core.saw_account(m, True)
        return True
