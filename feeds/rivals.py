"""Other people's trades: the swaps of one landed transaction, decoded per venue or read
from its token flows, and what the transaction was (:func:`classify`). Pure: reads a
:class:`~feeds.wire.txview.TxView`.

**Swaps of the venues.** An instruction is a swap when the program that ran it is one of
the venues' (outer, or inner: an aggregator's or a bot's CPI into a DEX is a swap too) and
the venue's ``decode_swap`` reads it (pool, user accounts; the mints are the user accounts'
mints in the transaction's token balances, else as the transaction's own instructions
state them: ``InitializeAccount*``, ``TransferChecked``, for an account opened and closed
in it). An instruction of a venue's program that ``decode_swap`` does not read (an
exact-output swap, an AMM v4 ``SwapBaseIn`` with its market accounts, a Whirlpool two-hop
swap ...) is a swap when the venue logged a swap event for it: one leg per event, its pool
and amounts the event's, its mints from the token transfers the instruction made (those of
the event's amounts); when it logged none, its token flows are read as below (venue the
venue's). An Anchor event instruction (the program's CPI into itself, data beginning with
Anchor's ``EVENT_IX_TAG``) is no swap: it carries its parent's event. A venue's program
never gives two legs for one instruction.

**Swaps of programs arbscope does not decode** (``SwapLeg.venue`` ""; ``program`` says
which): an instruction, outer or inner, whose token transfers (``Transfer`` /
``TransferChecked`` of either token program, invoked by it directly or through a program
it called, as ``meta.innerInstructions`` and their stack heights say) move one mint from
the trader's side to accounts the program controls and another mint back:

- the trader is the one authority of those transfers that is a signer of the transaction
  or that authorizes a transfer outside every frame of that program (a router's; a pool's
  authority is an address of the pool's program, which only that program signs for);
  none or several: no leg;
- the input is what the trader sent to accounts not its own, net of what came back of the
  same mint; the output what others sent to its accounts (its own: the token balances'
  owner, the owner an ``InitializeAccount*`` or ``CloseAccount`` of the transaction names,
  or an account it moves tokens out of); exactly one mint each, two different ones;
  amounts from the transfers (``"transfers"``; none for a failed transaction);
- its pool: the one holder of the accounts on the pool's side, when the instruction names
  it writable and it is no token account (a pool that holds its vaults); else the
  instruction's first writable account that is no signer, no token account, not the
  trader's authority and not the program (the pool of vaults a global authority holds,
  an order book's market);
- an outer instruction under which the node kept no inner instruction: from the token
  balances of the accounts it names (``"balances"``): those no signer holds, named by no
  other instruction, gained one mint (the input) and lost another (the output);
- an instruction a swap ran under is a router (an aggregator's, a bot's), never a swap,
  and one a venue's swap invoked is part of that swap, never another; the aggregators
  (:data:`AGGREGATORS`: Jupiter, OKX, Raydium's router, DFlow, Titan) and the system,
  token, compute-budget and other builtin programs are never read;
- without stack heights (nodes older than v1.14.6) no such leg is read.

**Amounts** of the venues' legs, from the first source that has them (``SwapLeg.source``):

1. ``"event"``: the venue's event for that instruction, parsed by the engine
   (``parse_logs`` / ``parse_program_data``): AMM v4 ``ray_log``, Whirlpool ``Traded``,
   CLMM and CP-Swap ``SwapEvent`` from ``Program data:`` lines (each line given to the
   instruction whose frame it is in: the log's ``invoke`` lines walked with the
   instructions in execution order; a line in another program's frame is that program's,
   even when it is a venue's event), Meteora DLMM ``Swap`` and PumpSwap ``BuyEvent`` /
   ``SellEvent`` from their self-CPI inner instructions. OpenBook's
   ``TotalOrderFillEvent`` is not used (a bid's ``total_quantity_paid`` counts the whole
   taker fee, which its transfers do not).
2. ``"transfers"``: the token transfers the swap instruction made by CPI (its children in
   ``meta.innerInstructions``): what left the user's source account, what reached the user's
   destination account.
3. ``"balances"``: the change of the pool's accounts (the instruction's token accounts
   other than the user's) in the transaction's token balances: ``amount_in`` what they
   gained of the input mint, ``amount_out`` what they lost of the output mint (a pool's
   fee accounts included: by conservation, what the user paid and received). Only when no
   other leg names those accounts (a pool swapped twice cannot be split by balances).
4. ``"instruction"``: only ``amount_in`` as the exact-input instruction states it (a failed
   transaction's legs: nothing moved); ``amount_out`` None.
5. ``"none"``: nothing says.

**Kinds** (:attr:`RivalTx.kind`): ``"arbitrage"``: the legs close into a cycle (every mint
is left as often as it is entered, and the legs are connected: a chain ``mint_out ->
mint_in`` that starts and ends in the same token, splits included) and the cycle's output
exceeds its input (``profit`` > 0, in the first leg's input mint: the base);
``"failed_arbitrage"``: the transaction failed (``err`` set) and its legs would close into
a cycle; ``"route"``: two or more legs that are not one of those (a chain that does not
close, a cycle without gain, unrelated swaps); ``"swap"``: one leg; ``"none"``: no swap.

**Money**, in raw base units of the base mint (the first leg's input mint):

- ``profit``: for legs that close into a cycle (a transaction that did not fail), **the
  cycle's gain** in the base token: what the legs brought back of it minus what they put
  in, before the fee, the tip and any other payment. Otherwise (one swap, a chain that
  does not close, a failed transaction, a cycle with an amount of the base unknown) the
  signer's change in the base token before costs: ``net`` with the fee and the tip added
  back for SOL, ``net`` for another token (0 for a failed transaction: nothing moved).
- ``net``: the signer's (fee payer's) whole change in the base token, after everything:
  for an SPL token, the change of its token accounts of that mint (the token balances'
  owner is the signer; a row missing before or after counts 0); for SOL / WSOL, the
  change of the signer's lamports plus the lamports of its WSOL token accounts (wrapped
  or not, rent included: an account opened and closed in the transaction counts 0), so
  the fee, the tip and any other payment are in it. For a SOL cycle ``net = profit - fee
  - tip - paid_away`` when nothing else (a rent) moved.
- ``paid_away``: lamports the signer sent by system transfers (outer or inner) to
  accounts that are neither tip accounts nor its own (itself, the transaction's other
  signers, token accounts it holds): where a gain went when ``net`` is below it; 0 for a
  failed transaction.
- ``fee`` = ``meta.fee``; ``base_fee`` = 5,000 lamports per signature (the transaction's
  and the ed25519 / secp256k1 / secp256r1 precompiles'); ``priority_fee`` = ``cu_price
  × cu_limit / 10^6`` rounded up (Agave's ``get_prioritization_fee``) from the
  transaction's compute-budget instructions; ``cu_limit`` the requested limit, or, when
  none is set, Agave's default: 200,000 per instruction of a program that is not a
  builtin and 3,000 per builtin's (SIMD-170; the builtins of Agave's
  ``builtins-default-costs``: vote, system, compute budget, the four loaders,
  secp256k1, ed25519), at most 1,400,000; ``cu_price`` in micro-lamports (0 when none).
- ``tip``: lamports the signer sent to the Jito tip accounts by system transfers (outer or
  inner), when the transaction succeeded (a failed one's transfers were undone: 0);
  ``tip_account`` the (first) tip account paid.
"""

from __future__ import annotations

import base64
import struct
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import engine_rs
from engine_rs import decoded as D

from .venues import VENUES, Venue
from .wire import instructions as I
from .wire.txview import Ix, TxView

__all__ = [
    "AGGREGATORS",
    "EVENT_IX_TAG",
    "KINDS",
    "SOURCES",
    "WSOL",
    "RivalTx",
    "SwapLeg",
    "classify",
    "priority_fee",
    "signer_change",
]

KINDS = ("arbitrage", "failed_arbitrage", "route", "swap", "none")
SOURCES = ("event", "transfers", "balances", "instruction", "none")
WSOL = "So11111111111111111111111111111111111111112"
LAMPORTS_PER_SIGNATURE = 5_000
# Anchor's ``EVENT_IX_TAG`` (sha256("anchor:event")[..8], u64 0x1d9acb512ea545e4 LE): the
# data of an ``emit_cpi!`` self-invocation starts with it, then the event (discriminator
# and body) as a ``Program data:`` line would carry it
EVENT_IX_TAG = bytes.fromhex("e445a52e51cb9a1d")
# Agave builtins-default-costs (NON_MIGRATING_BUILTINS_COSTS): a builtin's instruction gets
# 3,000 units of the default limit
BUILTINS = frozenset(
    {
        "Vote111111111111111111111111111111111111111",
        I.SYSTEM_PROGRAM,
        I.COMPUTE_BUDGET,
        "BPFLoaderUpgradeab1e11111111111111111111111",
        "BPFLoader1111111111111111111111111111111111",
        "BPFLoader2111111111111111111111111111111111",
        "LoaderV411111111111111111111111111111111111",
        "KeccakSecp256k11111111111111111111111111111",
        "Ed25519SigVerify111111111111111111111111111",
    }
)
# the precompiles whose signatures the base fee counts (their data's first byte: how many)
PRECOMPILES = frozenset(
    {
        "KeccakSecp256k11111111111111111111111111111",
        "Ed25519SigVerify111111111111111111111111111",
        "Secp256r1SigVerify1111111111111111111111111",
    }
)
# aggregators: routers, not venues (their own transfers between the user's accounts are no
# swap; an instruction a swap ran under is a router anyway, these are named for when the
# swaps under them cannot be read): Jupiter v6 and v4, OKX's DEX router and its proxy,
# Raydium's router, DFlow, Titan
AGGREGATORS = frozenset(
    {
        "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4",
        "JUP4Fb2cqiRUcaTHdrPC8h2gNsA2ETXiPDD33WcGuJB",
        "6m2CDdhRgxpH4WjvdzxAYbGxwdGUz5MziiL5jek2kBma",
        "proVF4pMXVaYqmy4NjniPh4pqKNfMmsihgd4wdkCX3u",
        "routeUGWgWzqBWFcrCfv8tritsqukccJPu3q5GPP3xS",
        "DF1ow4tspfHX9JwWJsAb9epbkA8hmpSEAtxXy1V27QBH",
        "T1TANpTeScyeqVzzgNViGDNrkQ6qHz9KrSBS4aNXvGT",
    }
)
# programs whose instructions are never a swap
NOT_VENUES = frozenset(
    {
        *AGGREGATORS,
        *BUILTINS,
        *PRECOMPILES,
        *I.TOKEN_PROGRAMS,
        I.ATA_PROGRAM,
        I.MEMO_PROGRAM,
        I.JITO_TIP_PROGRAM,
    }
)
# every AMM v4 swap instruction names the pool (``amm``) second (spec §1.3): where the pool
# of a ``ray_log`` (which does not name it) is read when the decoder does not read the
# instruction
_AMM_V4_POOL_ACCOUNT = 1
_LOG_TRUNCATED = "Log truncated"


@dataclass(frozen=True, slots=True)
class SwapLeg:
    """One swap of a transaction: ``venue`` (the engine's venue name; "" for a program
    arbscope does not decode, read from its token flows), the ``program`` that ran it,
    its ``pool``, ``mint_in`` -> ``mint_out`` (None: not found), the raw amounts (None:
    not known; see the module docstring for ``source``), ``outer`` the outer instruction
    it is or runs under, ``position`` its instruction's place in execution order
    (:attr:`TxView.instructions`), ``user_source`` / ``user_dest`` the token accounts it
    took from and paid into (None: not known)."""

    venue: str
    program: str
    pool: str
    mint_in: str | None
    mint_out: str | None
    amount_in: int | None
    amount_out: int | None
    outer: int
    source: str
    position: int
    user_source: str | None = None
    user_dest: str | None = None


@dataclass(frozen=True, slots=True)
class RivalTx:
    """What one transaction was (see the module docstring for the kinds and the
    conventions of ``profit``, ``net`` and ``paid_away``)."""

    signature: str
    slot: int
    index: int | None
    signer: str
    legs: tuple[SwapLeg, ...]
    kind: str
    base_mint: str | None
    profit: int | None
    net: int | None
    fee: int
    base_fee: int
    priority_fee: int
    cu_limit: int
    cu_price: int
    tip: int
    tip_account: str | None
    paid_away: int
    failed: bool

    @property
    def path(self) -> tuple[str, ...]:
        """The mints the legs go through, in order (the first leg's input, then each
        leg's output; empty when a mint is unknown)."""
        if not self.legs or any(x.mint_in is None or x.mint_out is None for x in self.legs):
            return ()
        return (str(self.legs[0].mint_in), *(str(x.mint_out) for x in self.legs))

    @property
    def venues(self) -> tuple[str, ...]:
        return tuple(x.venue for x in self.legs)


# ---------------------------------------------------------------------- fees
def priority_fee(cu_price: int, cu_limit: int) -> int:
    """``ceil(cu_price × cu_limit / 10^6)``, saturating at u64::MAX (Agave)."""
    return min(-(-cu_price * cu_limit // 1_000_000), (1 << 64) - 1)


def _budget(tx: TxView) -> tuple[int, int]:
    """(compute unit limit, price) as the runtime takes them from the outer
    instructions (Borsh: a tag, then the value; trailing bytes are not read)."""
    limit: int | None = None
    price = 0
    builtin = other = 0
    for ix in tx.outer_instructions():
        program = tx.program_of(ix)
        if program in BUILTINS:
            builtin += 1
        else:
            other += 1
        if program != I.COMPUTE_BUDGET:
            continue
        d = ix.data
        if d[:1] == b"\x02" and len(d) >= 5 and limit is None:
            limit = struct.unpack_from("<I", d, 1)[0]
        elif d[:1] == b"\x03" and len(d) >= 9:
            price = struct.unpack_from("<Q", d, 1)[0]
    if limit is None:
        limit = (
            I.DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT * other
            + I.MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT * builtin
        )
    return min(limit, I.MAX_COMPUTE_UNIT_LIMIT), price


def _signature_count(tx: TxView) -> int:
    n = len(tx.signatures)
    for ix in tx.outer_instructions():
        if tx.program_of(ix) in PRECOMPILES and ix.data:
            n += ix.data[0]
    return n


def _signer_transfers(tx: TxView) -> Iterator[I.Transfer]:
    """The system transfers (outer and inner) the signer made, in order."""
    for ix in tx.instructions:
        if tx.program_of(ix) != I.SYSTEM_PROGRAM:
            continue
        try:
            rec = I.decode(I.SYSTEM_PROGRAM, ix.data, tx.accounts_of(ix))
        except I.InstructionError:
            continue
        if isinstance(rec, I.Transfer) and rec.source == tx.signer:
            yield rec


def _tips(tx: TxView) -> tuple[int, str | None]:
    """Lamports the signer sent to the tip accounts (outer and inner transfers)."""
    tips = set(I.JITO_TIP_ACCOUNTS)
    total, first = 0, None
    for rec in _signer_transfers(tx):
        if rec.dest in tips:
            total += rec.lamports
            first = first or rec.dest
    return total, first


# ---------------------------------------------------------------------- balances
@dataclass(frozen=True, slots=True)
class _Token:
    mint: str
    owner: str | None
    pre: int
    post: int


def _token_accounts(tx: TxView) -> dict[int, _Token]:
    """Each token account of the balances by key index: mint, owner, amounts before and
    after (0 where a row is missing: opened or closed in the transaction)."""
    rows: dict[int, _Token] = {}
    for t in tx.pre_tokens:
        rows[t.account] = _Token(t.mint, t.owner, t.amount, 0)
    for t in tx.post_tokens:
        old = rows.get(t.account)
        owner = t.owner if t.owner is not None or old is None else old.owner
        rows[t.account] = _Token(t.mint, owner, 0 if old is None else old.pre, t.amount)
    return rows


def signer_change(tx: TxView, mint: str) -> int:
    """The signer's net change in ``mint`` (raw units) as the module docstring says:
    its token accounts of that mint, and for WSOL its lamports plus its WSOL accounts'
    lamports (no fee or tip added back)."""
    rows = _token_accounts(tx)
    signer = tx.signer
    if mint == WSOL:
        total = tx.post_lamports[0] - tx.pre_lamports[0]
        for i, t in rows.items():
            if t.mint == WSOL and t.owner == signer and i != 0:
                total += tx.post_lamports[i] - tx.pre_lamports[i]
        return total
    return sum(t.post - t.pre for t in rows.values() if t.mint == mint and t.owner == signer)


# ---------------------------------------------------------------------- events
def _log_events(tx: TxView, programs: dict[str, Venue]) -> dict[int, list[Any]]:
    """The swap events of the log lines, by the position of the instruction whose frame
    each line is in: the ``invoke`` lines are the instructions in execution order (each
    checked against it: a log that does not match, or is truncated, gives nothing past
    that point)."""
    out: dict[int, list[Any]] = defaultdict(list)
    if tx.logs is None:
        return out
    eng = engine_rs.backend()
    outers = [pos for pos, ix in enumerate(tx.instructions) if not ix.inner]
    recorded = {ix.outer for ix in tx.instructions if ix.inner}  # outers with inner ones
    stack: list[int | None] = []
    outer = -1
    nxt = 0  # the next position an inner invoke is
    for line in tx.logs:
        if line.startswith(_LOG_TRUNCATED):
            break
        if not line.startswith("Program "):
            continue
        rest = line[len("Program ") :]
        head, _, tail = rest.partition(" ")
        if tail.startswith("invoke ["):
            depth = tail[len("invoke [") :].rstrip("]")
            if depth == "1":
                # the next outer instruction of that program (one that logs nothing, as
                # a precompile may, is passed over)
                outer = next(
                    (
                        o
                        for o in range(outer + 1, len(outers))
                        if tx.program_of(tx.instructions[outers[o]]) == head
                    ),
                    len(outers),
                )
                if outer >= len(outers) or stack:
                    break
                pos: int | None = outers[outer]
                nxt = outers[outer] + 1
            elif outer not in recorded:
                pos = None  # a CPI of an outer instruction whose inner ones were not kept
            else:
                pos = nxt
                nxt += 1
            if pos is not None:
                if pos >= len(tx.instructions):
                    break
                ix = tx.instructions[pos]
                if tx.program_of(ix) != head or ix.outer != outer:
                    break  # logs and instructions disagree: read no further
                if ix.stack_height is not None and str(ix.stack_height) != depth:
                    break
            stack.append(pos)
            continue
        # "Program <id> success / failed: ..." (not "Program log: success")
        if not head.endswith(":") and (tail == "success" or tail.startswith("failed")):
            if stack:
                stack.pop()
            continue
        if not stack or not (rest.startswith("data: ") or rest.startswith("log: ")):
            continue
        top = stack[-1]
        if top is None:
            continue
        program = tx.program_of(tx.instructions[top])
        if program not in programs:
            continue
        pos = top
        # the engine reads a line inside its program's frame (its LogScan)
        for _, ev in eng.parse_logs([f"Program {program} invoke [1]", line]):
            out[pos].append(ev)
    return out


def _cpi_events(tx: TxView, programs: dict[str, Venue]) -> tuple[dict[int, list[Any]], set[int]]:
    """Anchor self-CPI events, by the position of the instruction that emitted them
    (the closest earlier instruction one level up, of the same program); and the
    positions of the event instructions themselves."""
    out: dict[int, list[Any]] = defaultdict(list)
    carriers: set[int] = set()
    eng = engine_rs.backend()
    for pos, ix in enumerate(tx.instructions):
        if not ix.inner or ix.data[:8] != EVENT_IX_TAG:
            continue
        program = tx.program_of(ix)
        if program not in programs:
            continue
        carriers.add(pos)
        parent = _parent(tx, pos)
        if parent is None or tx.program_of(tx.instructions[parent]) != program:
            continue
        try:
            ev = eng.parse_program_data(base64.b64encode(ix.data[8:]).decode(), program)
        except ValueError:
            continue
        if ev is not None:
            out[parent].append(ev)
    return out, carriers


def _parent(tx: TxView, pos: int) -> int | None:
    """The instruction that invoked the one at ``pos`` (None: an outer one). Without
    stack heights: the closest earlier instruction of the same outer one that ran the
    same program (a self-CPI's parent)."""
    ix = tx.instructions[pos]
    if not ix.inner:
        return None
    for back in range(pos - 1, -1, -1):
        up = tx.instructions[back]
        if up.outer != ix.outer:
            return None
        if ix.stack_height is None or up.stack_height is None:
            if tx.program_of(up) == tx.program_of(ix) and up.data[:8] != EVENT_IX_TAG:
                return back
        elif up.stack_height == ix.stack_height - 1:
            return back
    return None


def _children(tx: TxView, pos: int) -> list[int]:
    """The positions of the instructions the one at ``pos`` invoked directly (empty
    when stack heights are unknown)."""
    ix = tx.instructions[pos]
    if ix.stack_height is None:
        return []
    out = []
    for nxt in range(pos + 1, len(tx.instructions)):
        sub = tx.instructions[nxt]
        if sub.outer != ix.outer or sub.stack_height is None or sub.stack_height <= ix.stack_height:
            break
        if sub.stack_height == ix.stack_height + 1:
            out.append(nxt)
    return out


def _transfers(tx: TxView, pos: int) -> list[I.TokenTransfer]:
    out = []
    for c in _children(tx, pos):
        ix = tx.instructions[c]
        program = tx.program_of(ix)
        if program not in I.TOKEN_PROGRAMS:
            continue
        try:
            rec = I.decode(program, ix.data, tx.accounts_of(ix))
        except I.InstructionError:
            continue
        if isinstance(rec, I.TokenTransfer):
            out.append(rec)
    return out


@dataclass(frozen=True, slots=True)
class _Ev:
    """What a swap event says: pool (None: it does not name it), amounts, the user's
    token accounts and mints where it names them."""

    pool: str | None
    amount_in: int
    amount_out: int
    user_source: str | None = None
    user_dest: str | None = None
    mint_in: str | None = None
    mint_out: str | None = None


def _read_event(ev: Any) -> _Ev | None:
    if isinstance(ev, D.SwapBaseInLog):
        return _Ev(None, ev.amount_in, ev.out_amount)
    if isinstance(ev, D.SwapBaseOutLog):
        return _Ev(None, ev.deduct_in, ev.amount_out)
    if isinstance(ev, D.Traded):
        return _Ev(ev.whirlpool, ev.input_amount, ev.output_amount)
    if isinstance(ev, D.CpmmSwapEvent):
        return _Ev(
            ev.pool_id,
            ev.input_amount,
            ev.output_amount,
            mint_in=ev.input_mint,
            mint_out=ev.output_mint,
        )
    if isinstance(ev, D.RaydiumClmmSwapEvent):
        a0, a1 = (ev.token_account_0, ev.token_account_1)
        if ev.zero_for_one:
            return _Ev(ev.pool_state, ev.amount_0, ev.amount_1, a0, a1)
        return _Ev(ev.pool_state, ev.amount_1, ev.amount_0, a1, a0)
    if isinstance(ev, D.DlmmSwapEvent):
        return _Ev(ev.lb_pair, ev.amount_in, ev.amount_out)
    if isinstance(ev, D.PumpSwapEvent):
        if ev.buy:
            return _Ev(ev.pool, ev.user_quote_amount, ev.base_amount)
        return _Ev(ev.pool, ev.base_amount, ev.user_quote_amount)
    for v in VENUES:  # a venue that reads its own events
        said = v.read_event(ev) if v.read_event is not None else None
        if said is not None:
            return _Ev(*said)
    return None  # OpenBook's TotalOrderFillEvent and any other: not a user-side amount


# ---------------------------------------------------------------------- legs
@dataclass(slots=True)
class _Draft:
    venue: str  # the venue's name ("" : a program arbscope does not decode)
    pool: str
    position: int
    user_source: str | None
    user_dest: str | None
    mint_in: str | None
    mint_out: str | None
    amount_in: int | None = None
    amount_out: int | None = None
    source: str = "none"
    pool_accounts: frozenset[str] = frozenset()  # the instruction's non-user token accounts
    stated_in: int | None = None  # the exact input the instruction states


# ---------------------------------------------------------------------- token flows
# the token program's account instructions that say who holds an account
_INITIALIZE_ACCOUNT = 1  # [account, mint, owner, rent]
_CLOSE_ACCOUNT = 9  # [account, destination, owner]
_INITIALIZE_ACCOUNT_2 = 16  # [account, mint, rent], the owner in the data
_INITIALIZE_ACCOUNT_3 = 18  # [account, mint], the owner in the data


@dataclass(frozen=True, slots=True)
class _Move:
    """One token transfer (``Transfer`` / ``TransferChecked``, either token program) at
    ``position``; ``mint`` None when neither its data nor the balances say."""

    position: int
    source: str
    dest: str
    authority: str
    amount: int
    mint: str | None


def _parents(tx: TxView) -> list[int | None]:
    """The position of the instruction that invoked each one (None: an outer one), by
    the stack heights; an inner one whose height is unknown is put under its outer."""
    out: list[int | None] = []
    stack: list[int] = []
    for pos, ix in enumerate(tx.instructions):
        if not ix.inner:
            stack = [pos]
            out.append(None)
        elif not stack:
            out.append(None)
        elif ix.stack_height is None:
            out.append(stack[0])
        else:
            del stack[max(1, min(len(stack), ix.stack_height - 1)) :]
            out.append(stack[-1])
            stack.append(pos)
    return out


class _Flows:
    """The transaction's token transfers, who holds which token account and which
    instruction invoked which: what the legs of programs arbscope does not decode are
    read from (:meth:`leg`, :meth:`from_balances`)."""

    def __init__(self, tx: TxView, rows: dict[int, _Token]) -> None:
        self.tx = tx
        self.parents = _parents(tx)
        self.children: list[list[int]] = [[] for _ in tx.instructions]
        for pos, up in enumerate(self.parents):
            if up is not None:
                self.children[up].append(pos)
        # the outer instructions whose inner ones all say their stack height
        self.complete = [True] * len(tx.outer_instructions())
        for ix in tx.instructions:
            if ix.inner and ix.stack_height is None and ix.outer < len(self.complete):
                self.complete[ix.outer] = False
        self.signers = frozenset(tx.keys[: tx.header[0]])
        self.rows = {tx.keys[i]: t for i, t in rows.items()}
        # each token account's mint and holder: the balances', else as the transaction's
        # own instructions state them (an account opened and closed in it has no rows)
        self.mints: dict[str, str] = {k: t.mint for k, t in self.rows.items()}
        self.owner: dict[str, str] = {k: t.owner for k, t in self.rows.items() if t.owner}
        self.token_accounts = set(self.rows)
        self.moves: dict[int, _Move] = {}
        self.moved_from: dict[str, set[str]] = defaultdict(set)  # authority -> sources
        self.named: dict[str, set[int]] = defaultdict(set)  # key -> instructions naming it
        b58 = engine_rs.backend().b58encode
        transfers: list[tuple[int, I.TokenTransfer]] = []
        for pos, ix in enumerate(tx.instructions):
            accounts = tx.accounts_of(ix)
            for k in accounts:
                self.named[k].add(pos)
            program = tx.program_of(ix)
            if program not in I.TOKEN_PROGRAMS or not ix.data:
                continue
            tag, data = ix.data[0], ix.data
            if tag == _CLOSE_ACCOUNT and len(accounts) >= 3:
                self._account(accounts[0], None, accounts[2])
            elif tag == _INITIALIZE_ACCOUNT and len(accounts) >= 3:
                self._account(accounts[0], accounts[1], accounts[2])
            elif tag in (_INITIALIZE_ACCOUNT_2, _INITIALIZE_ACCOUNT_3) and len(data) >= 33:
                if len(accounts) >= 2:
                    self._account(accounts[0], accounts[1], b58(data[1:33]))
            else:
                try:
                    rec = I.decode(program, data, accounts)
                except I.InstructionError:
                    continue
                if isinstance(rec, I.TokenTransfer):
                    transfers.append((pos, rec))
                    self._account(rec.source, rec.mint, None)
                    self._account(rec.dest, rec.mint, None)
        for pos, rec in transfers:
            mint = rec.mint or self.mints.get(rec.source) or self.mints.get(rec.dest)
            self.moves[pos] = _Move(pos, rec.source, rec.dest, rec.authority, rec.amount, mint)
            self.moved_from[rec.authority].add(rec.source)

    def _account(self, account: str, mint: str | None, owner: str | None) -> None:
        self.token_accounts.add(account)
        if mint is not None:
            self.mints.setdefault(account, mint)
        if owner is not None:
            self.owner.setdefault(account, owner)

    def descendants(self, pos: int) -> list[int]:
        """The instructions the one at ``pos`` invoked, directly or through the programs
        it called, in execution order."""
        out: list[int] = []
        todo = list(reversed(self.children[pos]))
        while todo:
            c = todo.pop()
            out.append(c)
            todo.extend(reversed(self.children[c]))
        return out

    def ancestors(self, pos: int) -> list[int]:
        out = []
        up = self.parents[pos]
        while up is not None:
            out.append(up)
            up = self.parents[up]
        return out

    def _trader(self, authority: str, program: str) -> bool:
        """``authority`` is a trader's for a swap of ``program``: a signer of the
        transaction, or an account that authorizes a transfer outside every frame of
        ``program`` (a router's authority; a pool's is a program address of the pool's
        program, which only that program signs for)."""
        if authority in self.signers:
            return True
        tx = self.tx
        for m in self.moves.values():
            if m.authority == authority and all(
                tx.program_of(tx.instructions[up]) != program for up in self.ancestors(m.position)
            ):
                return True
        return False

    def _holds(self, holder: str, account: str) -> bool:
        """``account`` is ``holder``'s: its owner in the balances (or the instruction that
        opened or closed it), or ``holder`` moves tokens out of it in the transaction."""
        return self.owner.get(account) == holder or account in self.moved_from[holder]

    def _pool(self, ix: Ix, side: Sequence[str], trader: str) -> str:
        """The pool of a leg whose pool-side token accounts are ``side``: their one owner
        when the instruction names it writable and it is no token account (a pool that
        holds its vaults: CLMM, Whirlpool); else the instruction's first writable account
        that is no signer, no token account and not the trader's authority (a pool whose
        vaults a global authority holds: AMM v4, DAMM v2; an order book's market)."""
        tx = self.tx
        accounts = tx.accounts_of(ix)

        def poolish(k: str) -> bool:
            i = tx.key_index(k)
            return (
                i is not None
                and tx.writable[i]
                and k in accounts
                and k not in self.signers
                and k != trader
                and k not in self.token_accounts
                and k != tx.program_of(ix)
            )

        owners = {self.owner.get(k) for k in side}
        if len(owners) == 1:
            (o,) = owners
            if o is not None and poolish(o):
                return o
        return next((k for k in accounts if poolish(k)), side[0])

    def leg(self, pos: int, venue: str) -> _Draft | None:
        """The swap the instruction at ``pos`` made, read from the token transfers it
        invoked (directly, or through a program it called: a pool whose vaults another
        program keeps), or None. The trader is the one authority among them that
        :meth:`_trader` says is a trader's; what it sent to accounts not its own, net of
        what came back of the same mint, is the input; what others sent to its accounts
        is the output: exactly one mint each, two different ones."""
        tx = self.tx
        ix = tx.instructions[pos]
        if ix.outer >= len(self.complete) or not self.complete[ix.outer]:
            return None  # without stack heights, what it invoked directly is unknown
        kids = [self.moves[c] for c in self.descendants(pos) if c in self.moves]
        if len(kids) < 2:
            return None
        program = tx.program_of(ix)
        traders = [a for a in dict.fromkeys(m.authority for m in kids) if self._trader(a, program)]
        if len(traders) != 1:
            return None
        (trader,) = traders
        net: dict[str, int] = defaultdict(int)
        paid: list[_Move] = []
        got: list[_Move] = []
        for m in kids:
            mine = self._holds(trader, m.dest)
            if m.authority == trader and not mine:
                paid.append(m)
            elif m.authority != trader and mine:
                got.append(m)
            else:
                continue
            if m.mint is None:
                return None  # nothing is guessed
            net[m.mint] += m.amount if m.authority == trader else -m.amount
        ins = [k for k, n in net.items() if n > 0]
        outs = [k for k, n in net.items() if n < 0]
        if len(ins) != 1 or len(outs) != 1:
            return None
        mint_in, mint_out = ins[0], outs[0]
        side = [*(m.dest for m in paid), *(m.source for m in got)]
        d = _Draft(
            venue,
            self._pool(ix, side, trader),
            pos,
            next(m.source for m in paid if m.mint == mint_in),
            next(m.dest for m in got if m.mint == mint_out),
            mint_in,
            mint_out,
        )
        d.pool_accounts = frozenset(side)
        if not tx.failed:  # a failed transaction's transfers were undone
            d.amount_in, d.amount_out, d.source = net[mint_in], -net[mint_out], "transfers"
        return d

    def from_balances(self, pos: int) -> _Draft | None:
        """The swap of an outer instruction under which the node kept no inner
        instruction, from the token balances of the accounts it names: those no signer
        holds (and no other instruction names) gained one mint (the input) and lost
        another (the output); the signer's among them are the user's accounts."""
        tx = self.tx
        ix = tx.instructions[pos]
        accounts = list(dict.fromkeys(tx.accounts_of(ix)))
        side = [
            k
            for k in accounts
            if k in self.rows
            and self.owner.get(k) is not None
            and self.owner[k] not in self.signers
        ]
        if not side or any(self.named[k] != {pos} for k in side):
            return None
        change: dict[str, int] = defaultdict(int)
        for k in side:
            change[self.rows[k].mint] += self.rows[k].post - self.rows[k].pre
        ins = [m for m, n in change.items() if n > 0]
        outs = [m for m, n in change.items() if n < 0]
        if len(ins) != 1 or len(outs) != 1:
            return None
        mint_in, mint_out = ins[0], outs[0]

        def users(mint: str) -> str | None:
            return next(
                (
                    k
                    for k in accounts
                    if k in self.rows
                    and self.rows[k].mint == mint
                    and self.owner.get(k) in self.signers
                ),
                None,
            )

        pool = self._pool(ix, side, tx.signer)
        d = _Draft("", pool, pos, users(mint_in), users(mint_out), mint_in, mint_out)
        d.amount_in, d.amount_out, d.source = change[mint_in], -change[mint_out], "balances"
        d.pool_accounts = frozenset(side)
        return d


def _legs(tx: TxView, venues: Sequence[Venue], flows: _Flows) -> list[SwapLeg]:
    programs = {p: v for v in venues for p in v.ids.program_ids}
    unread = {p for v in VENUES for p in v.ids.program_ids} - set(programs)
    logged = _log_events(tx, programs)
    emitted, carriers = _cpi_events(tx, programs)
    rows = _token_accounts(tx)
    mints = flows.mints
    drafts: list[_Draft] = []
    read: list[_Draft] = []  # the legs read from token flows (venue "" or a venue's)
    for pos, ix in enumerate(tx.instructions):
        program = tx.program_of(ix)
        venue = programs.get(program)
        if pos in carriers or program in NOT_VENUES or program in unread:
            continue
        if venue is None:
            d = flows.leg(pos, "")
            if d is None and not ix.inner and not flows.children[pos]:
                d = flows.from_balances(pos)
            if d is not None:
                read.append(d)
            continue
        events = [
            e for e in (_read_event(x) for x in (*logged.get(pos, ()), *emitted.get(pos, ()))) if e
        ]
        events = list(dict.fromkeys(events))  # a line and a self-CPI of the same event
        accounts = tx.accounts_of(ix)
        try:
            swap = venue.decode_swap(ix.data, accounts)
        except (I.InstructionError, ValueError, IndexError, struct.error):
            swap = None
        if swap is not None:
            drafts.append(_decoded(tx, pos, ix, venue, swap, events, mints))
            continue
        got = [d for d in (_from_event(tx, pos, ix, venue, ev, mints) for ev in events) if d]
        if got:
            drafts.extend(got)
        else:
            d = flows.leg(pos, venue.name)
            if d is not None:
                read.append(d)
    # an instruction a swap ran under is a router (an aggregator's, a bot's), not a swap;
    # what a venue's swap invoked is that swap's (one swap, one leg)
    inside = {p for d in (*drafts, *read) for p in flows.ancestors(d.position)}
    decoded = {d.position for d in drafts}
    drafts.extend(
        d
        for d in read
        if d.position not in inside and decoded.isdisjoint(flows.ancestors(d.position))
    )
    drafts.sort(key=lambda d: d.position)
    _fill_from_balances(tx, drafts, rows)
    return [
        SwapLeg(
            venue=d.venue,
            program=tx.program_of(tx.instructions[d.position]),
            pool=d.pool,
            mint_in=d.mint_in,
            mint_out=d.mint_out,
            amount_in=d.amount_in,
            amount_out=d.amount_out,
            outer=tx.instructions[d.position].outer,
            source=d.source,
            position=d.position,
            user_source=d.user_source,
            user_dest=d.user_dest,
        )
        for d in drafts
    ]


def _decoded(
    tx: TxView,
    pos: int,
    ix: Ix,
    venue: Venue,
    swap: I.Swap,
    events: list[_Ev],
    mints: dict[str, str],
) -> _Draft:
    d = _Draft(
        venue.name,
        swap.pool,
        pos,
        swap.user_source,
        swap.user_dest,
        mints.get(swap.user_source),
        mints.get(swap.user_dest),
        stated_in=None if swap.order else swap.amount_in,
    )
    users = {swap.user_source, swap.user_dest}
    d.pool_accounts = frozenset(k for k in tx.accounts_of(ix) if k not in users and k in mints)
    if tx.failed:
        _fallback(d)
        return d
    for ev in events:
        if ev.pool is not None and ev.pool != swap.pool:
            continue
        if ev.mint_in is not None and d.mint_in is not None and ev.mint_in != d.mint_in:
            continue
        d.amount_in, d.amount_out, d.source = ev.amount_in, ev.amount_out, "event"
        d.mint_in = d.mint_in or ev.mint_in
        d.mint_out = d.mint_out or ev.mint_out
        return d
    transfers = _transfers(tx, pos)
    paid = sum(t.amount for t in transfers if t.source == swap.user_source)
    got = sum(t.amount for t in transfers if t.dest == swap.user_dest)
    if paid > 0 and got > 0:
        d.amount_in, d.amount_out, d.source = paid, got, "transfers"
    return d


def _from_event(
    tx: TxView, pos: int, ix: Ix, venue: Venue, ev: _Ev, mints: dict[str, str]
) -> _Draft | None:
    """A leg of an instruction the venue's decoder does not read, from its event: the
    user's accounts and mints from the event where it names them, else from the
    instruction's transfers: the account that sent exactly the event's input (all its
    transfers together: a PumpSwap buy pays the pool and two fee accounts), the one that
    received exactly its output. A failed transaction's event is no trade: its amounts
    are not kept (``"none"``)."""
    pool = ev.pool
    if pool is None:
        accounts = tx.accounts_of(ix)
        if venue.name != "raydium_amm_v4" or len(accounts) <= _AMM_V4_POOL_ACCOUNT:
            return None
        pool = accounts[_AMM_V4_POOL_ACCOUNT]
    src, dst = ev.user_source, ev.user_dest
    sent: dict[str, int] = defaultdict(int)
    got: dict[str, int] = defaultdict(int)
    for t in _transfers(tx, pos):
        sent[t.source] += t.amount
        got[t.dest] += t.amount
    if src is None:
        src = next((k for k, n in sent.items() if n == ev.amount_in), None)
    if dst is None:
        dst = next((k for k, n in got.items() if n == ev.amount_out and k != src), None)
    mint_in = ev.mint_in or (None if src is None else mints.get(src))
    mint_out = ev.mint_out or (None if dst is None else mints.get(dst))
    if mint_in is not None and mint_in == mint_out:
        mint_in = mint_out = None  # not a swap as read: say nothing rather than a wrong pair
    d = _Draft(venue.name, pool, pos, src, dst, mint_in, mint_out)
    d.pool_accounts = frozenset(k for k in tx.accounts_of(ix) if k not in (src, dst) and k in mints)
    if not tx.failed:
        d.amount_in, d.amount_out, d.source = ev.amount_in, ev.amount_out, "event"
    return d


def _fill_from_balances(tx: TxView, drafts: list[_Draft], rows: dict[int, _Token]) -> None:
    """Legs still without amounts: the change of the pool's accounts (each named by this
    leg alone), else what the instruction states."""
    if not tx.failed:
        named: dict[str, int] = defaultdict(int)
        for d in drafts:
            for k in d.pool_accounts:
                named[k] += 1
        for d in drafts:
            if d.source != "none" or not d.pool_accounts or d.mint_in is None or d.mint_out is None:
                continue
            if any(named[k] > 1 for k in d.pool_accounts):
                continue
            gained = lost = 0
            for k in d.pool_accounts:
                i = tx.key_index(k)
                t = None if i is None else rows.get(i)
                if t is None:
                    continue
                if t.mint == d.mint_in:
                    gained += t.post - t.pre
                elif t.mint == d.mint_out:
                    lost += t.pre - t.post
            if gained > 0 and lost > 0:
                d.amount_in, d.amount_out, d.source = gained, lost, "balances"
    for d in drafts:
        if d.source == "none":
            _fallback(d)


def _fallback(d: _Draft) -> None:
    if d.stated_in is not None:
        d.amount_in, d.amount_out, d.source = d.stated_in, None, "instruction"


# ---------------------------------------------------------------------- kinds
def _closes(legs: Sequence[SwapLeg]) -> bool:
    """The legs close into a cycle: every mint left as often as entered, all connected."""
    if len(legs) < 2 or any(x.mint_in is None or x.mint_out is None for x in legs):
        return False
    degree: dict[str, int] = defaultdict(int)
    parent: dict[str, str] = {}

    def find(m: str) -> str:
        while parent.setdefault(m, m) != m:
            m = parent[m]
        return m

    for x in legs:
        a, b = str(x.mint_in), str(x.mint_out)
        degree[a] -= 1
        degree[b] += 1
        parent[find(a)] = find(b)
    return all(v == 0 for v in degree.values()) and len({find(m) for m in degree}) == 1


def _cycle_gain(legs: Sequence[SwapLeg], base: str) -> int | None:
    """What the legs brought back of ``base`` minus what they put in (None: an amount
    of ``base`` is not known)."""
    total = 0
    for x in legs:
        if x.mint_in == base:
            if x.amount_in is None:
                return None
            total -= x.amount_in
        if x.mint_out == base:
            if x.amount_out is None:
                return None
            total += x.amount_out
    return total


def _paid_away(tx: TxView, flows: _Flows) -> int:
    """Lamports the signer sent by system transfers (outer or inner) to accounts that are
    neither tip accounts nor its own (itself, the transaction's other signers, token
    accounts it holds); 0 for a failed transaction (its transfers were undone)."""
    if tx.failed:
        return 0
    tips = set(I.JITO_TIP_ACCOUNTS)
    signer = tx.signer
    total = 0
    for rec in _signer_transfers(tx):
        if rec.dest in tips:
            continue
        if rec.dest in flows.signers or flows.owner.get(rec.dest) == signer:
            continue
        total += rec.lamports
    return total


def classify(tx: TxView, venues: Sequence[Venue] = VENUES) -> RivalTx:
    """What ``tx`` was: its swaps on ``venues`` (the registry's by default; the
    registry's other venues are not read at all) and by programs arbscope does not
    decode, its kind, base mint, profit, fees, compute budget and tip (the module
    docstring has the rules)."""
    flows = _Flows(tx, _token_accounts(tx))
    legs = tuple(_legs(tx, venues, flows))
    cu_limit, cu_price = _budget(tx)
    tip, tip_account = _tips(tx)
    if tx.failed:
        tip, tip_account = 0, None
    base = legs[0].mint_in if legs else None
    closed = _closes(legs)
    profit = net = None
    if base is not None:
        net = signer_change(tx, base)
        gain = _cycle_gain(legs, base) if closed and not tx.failed else None
        if gain is not None:
            profit = gain
        else:
            profit = net + tx.fee + tip if base == WSOL else net
    if not legs:
        kind = "none"
    elif tx.failed and closed:
        kind = "failed_arbitrage"
    elif closed and not tx.failed and profit is not None and profit > 0:
        kind = "arbitrage"
    elif len(legs) == 1:
        kind = "swap"
    else:
        kind = "route"
    return RivalTx(
        signature=tx.signature,
        slot=tx.slot,
        index=tx.index,
        signer=tx.signer,
        legs=legs,
        kind=kind,
        base_mint=base,
        profit=profit,
        net=net,
        fee=tx.fee,
        base_fee=LAMPORTS_PER_SIGNATURE * _signature_count(tx),
        priority_fee=priority_fee(cu_price, cu_limit),
        cu_limit=cu_limit,
        cu_price=cu_price,
        tip=tip,
        tip_account=tip_account,
        paid_away=_paid_away(tx, flows),
        failed=tx.failed,
    )
