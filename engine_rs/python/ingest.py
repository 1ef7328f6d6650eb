"""The feed hot path: raw PubSub frame in, graph updated (twin of
``crates/core/src/ingest.rs``).

``FeedIngest.frame(endpoint, frame, recv_ns)`` takes the frame's bytes exactly as the
socket delivered them and does everything in one call: JSON parse, base64, the
endpoint-independent dedup key (first copy wins; later copies only update that
endpoint's lead/lag), the decode of the account, the assembly of the pool it belongs to
(AMM v4 and CP-Swap reserves from the vault balances minus the amounts that are not
reserves; Whirlpool ticks from its tick arrays), and the upsert into the
``PoolGraph``. The pools whose graph state changed are collected for
``take_changed()``, so the caller re-evaluates each pool once however many updates
arrived. What depends on the DEX (decoding a pool account, its identity, mints, vaults,
its own accounts, the assembly of its quote state) is its venue's
(:mod:`engine_rs.python.venues`); this module keeps what every venue shares.

Roles: the caller registers the pools it watches (``track_pool``) and the arrays of
those whose venue has them (``track_array``: a Whirlpool's or a Raydium CLMM pool's tick
arrays, a DLMM pair's bin arrays; dropped again with ``untrack_array`` when the price
moves away); a pool account, once decoded, registers its own
vaults (and a CP-Swap pool its ``AmmConfig``); a vault owned by the Token-2022 program
registers its mint (role ``mint``; one account with a role per pool when pools share
it). A mint's bytes, by any path, go to ``PoolGraph.set_mint`` (its transfer fee and
refused extensions count in every quote from then on), and a pool with a Token-2022
vault is out of the graph until the graph took its mint: never quoted without the fee.
SPL Token mints are never followed (no extensions; a busy one's supply notifies all the
time). The roles follow the confirmed state: a vault read as SPL Token's again, a
re-pointed vault or new mints drop the mint roles no longer needed (a mint no pool
follows keeps the rules the graph last took). ``roles(pubkey)`` lists an account's.
``set_epoch_schedule`` hands the cluster's schedule to the graph (the epoch picks each
mint's fee in force). ``account()`` feeds an account without
dedup (the ``getMultipleAccounts`` snapshot). ``bind(endpoint, subscription, label,
kind)`` maps a server's subscription id to what it watches.

Errors: a frame that is not JSON-RPC PubSub raises ``FrameError``; an account that does
not decode (wrong owner, size, discriminator, or a vault of the wrong mint) raises a
``DecodeError``; an impossible pool state (a vault below its fees, a zero reserve)
raises ``InvalidInputError``; the pool then leaves the graph until a good update comes.
Its dedup key covers owner and data, so a bad copy never hides a good one.

Integrity: several endpoints, some slow, one perhaps hostile. No single frame decides.
- **An endpoint's slot** (its vote) only moves forward: a slot notification below it is
  counted (``backwards``) and ignored, a repeat is no news. A new slot counts once it is
  plausible — at most ``MAX_SLOT_LEAD`` slots (plus one per ``SLOT_ALLOWANCE_NS`` since
  the chain last moved) beyond the chain — or confirmed by its next slot notification;
  the others are counted (``implausible``) and ignored. It is *steady* since it last
  jumped (a step beyond ``MAX_SLOT_LEAD`` plus one slot per ``SLOT_ALLOWANCE_NS`` since
  its own previous slot). Its *pace* is a moving average of ns per slot over its steps.
  It *votes* while it is live: a slot subscription bound, not quarantined, its slot
  moved within ``LIVE_STEPS`` of its own steps (of the chain's pace, else the slowest
  endpoint's, while it has none; within ``LIVE_MIN_NS`` .. ``LIVE_NS``, ``LIVE_NS``
  with no pace known): a stalled endpoint stops voting after a few of its own slots.
- **The chain's pace** is learned while the voters agree on it: the median of their
  paces (the lower of the middle two) when a strict majority of them is within 25 % of
  it (of two, their mean when within 25 % of each other); half the voters falling
  behind neither slows it nor drags it along. An endpoint is *on time*
  while its slot is at least where that pace puts it since it was last on time; once
  it falls behind, where it is *expected* goes on at the chain's pace from there.
- **The chain's slot** only moves forward, to the highest slot a strict majority of the
  voters reached. With exactly two voters a majority is both, and one lagging, stalled
  or rewound endpoint would hold the chain back: the higher one leads instead when it
  has been steady for ``STEADY_NS`` and is at most ``MAX_LEADER_GAP`` slots beyond where
  the other is — its slot, where it is expected, or the newest context slot of its own
  account notifications (a slot stream behind its own data is not believed); otherwise
  (they agree, or the higher one is not trusted) the lower one. Until two notifications
  agree the chain has no slot. The graph is told the chain's slot only (``set_slot``).
  Before the chain's first slot nothing says how far ahead a slot may be: a slot told
  then and never confirmed, more than ``MAX_SLOT_LEAD`` beyond that first slot, is
  counted ``implausible`` when it is decided; an account copy more than
  ``MAX_SLOT_LEAD`` slots after the state held of its account (the snapshot's) is
  checked as applying it would be, then held back (the newest per account and endpoint,
  at most ``EARLY_COPIES``) and judged, in its order of arrival, at that first slot.
  An endpoint more than ``LAG_SLOTS`` behind the chain, or behind and no longer voting,
  is *lagging*.
  Limits, with two voters: which one is right cannot be known from their slots alone;
  the rule bets on the one that moves at the pace both kept before. A liar ahead moves
  the chain at most ``MAX_LEADER_GAP`` beyond where the honest endpoint is expected (and
  its account updates ``MAX_SLOT_LEAD`` beyond that), only after ``STEADY_NS`` without
  a jump; an endpoint that keeps the chain's pace but is more than ``MAX_LEADER_GAP``
  behind from the start, its account updates as late, holds the chain back as the
  strict majority does (the graph is late by as much, not frozen: a copy refused as
  implausible is taken from the late endpoint when it comes); a liar ahead before the
  pace is known leads within ``MAX_LEADER_GAP`` of the other's slot; when the other
  stops voting (stalled, down) the one left decides alone, as one endpoint always does.
  With three or more voters the majority outvotes one bad endpoint. With four or more,
  a voter more than ``LAG_SLOTS`` behind where it is expected counts there (where the
  chain's pace puts it, not where it says), never beyond a slot two voters reached:
  two of four falling behind (a slow transport, a server starved of CPU) hold the
  chain back at most ``LAG_SLOTS``, and the copies of the two that keep the pace are
  not counted implausible; two liars of four ahead still move it nowhere. Two of four
  behind from the start at the chain's pace still hold it back (by their slots they
  look as two honest ones against two liars ahead): the graph is late, not frozen.
- **Per account, never backwards**: an update whose context slot is older than the
  state held is refused (``older``); one implausibly ahead of the chain is refused
  (``implausible``). Copies of the same account and slot that differ are versions: once
  one has at least two endpoints behind it and more than any other, it is the state,
  and the endpoints of the others disagreed (majority covers endpoints 0..63).
- **Identity**: a pool's identity fields (mints, vaults, program ids, status, decimals,
  tick spacing, config), a vault's mint and its token program (SPL Token or Token-2022)
  never change through a notification: such a
  copy raises ``DecodeError``, its endpoint is quarantined, and the pool is queued for a
  re-fetch (``take_refetch``). ``account()`` (the HTTP snapshot or that re-fetch) may
  change them; it confirms or refutes the queued change. Roles (watched accounts) follow
  the confirmed identity only, so the watched set stays bounded by the universe.
- **Quarantine**: a disagreeing endpoint loses first-copy rights (its new copies are held
  back, neither applied nor remembered) while another endpoint is trusted, and its slot
  does not vote; ``AGREE_TO_LIFT`` copies that agree with the others lift it (twice as
  many for each quarantine before: a repeat offender stays out longer).
- **Lead**: a first copy refused (implausible, older, backwards, an identity change, a
  copy that does not decode) is forgotten by the dedup: it is no lead for its endpoint,
  and the next copy of it is a first copy again, so no other endpoint is charged for
  not sending it.
Per-endpoint counts are in ``endpoint_stats()``, with how each stands to the chain's slot
(``behind``, ``lagging``, ``voting``, ``leading``); unknown subscription ids are counted
there too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    DecodeError,
    EngineError,
    FrameError,
    InvalidInputError,
    MathOverflowError,
    WrongOwnerError,
)
from ..records import DedupStats, EndpointStats, IngestStats
from . import geyser
from ._ints import Readonly, as_bytes, i64
from .b58 import b58encode
from .copies import OTHER, scan_frames, stored, write_ranges
from .decode import TOKEN_2022, decode_token_account, owner_text
from .dedup import Deduper
from .derive import _id32
from .token2022 import mint_rules
from .venues import Assembly, LogScan, OwnAccount, Venue, by_kind, orca_whirlpool

SUB_KINDS = ("account", "logs", "slot")
SYSTEM_PROGRAM = "11111111111111111111111111111111"  # the owner of an account that does not exist
TX_QUEUE = 16_384  # the transactions take_transactions keeps between two reads
# the runtime's and the token programs' ids: their invocations are not counted
PLUMBING = frozenset(
    {
        "11111111111111111111111111111111",
        "ComputeBudget111111111111111111111111111111",
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
        "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
        "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
        "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
        "Memo1UhkJRfHyvLMcVucJwxXeuD728EQVDDwQDxFMNo",
        "AddressLookupTab1e1111111111111111111111111",
        "Sysvar1nstructions1111111111111111111111111",
    }
)


def invokes(lines: Sequence[str]) -> int:
    """How many programs a transaction's logs show invoked, the runtime's and the token
    programs' aside and a program calling itself (an Anchor event) not counted again: a
    plain swap is 1, an arbitrage at least 2. Logs cut short count what they show."""
    stack: list[str] = []
    n = 0
    for line in lines:
        if not line.startswith("Program "):
            continue
        rest = line[len("Program ") :]
        space = rest.find(" ")
        if space < 0:
            continue
        program, tail = rest[:space], rest[space + 1 :]
        if program.endswith(":"):  # "Program log: ...", "Program data: ...": a program's words
            continue
        if tail.startswith("invoke ["):
            if program not in PLUMBING and (not stack or stack[-1] != program):
                n += 1
            stack.append(program)
        elif tail == "success" or tail.startswith("failed"):
            if stack:
                stack.pop()
    return n


_COUNTER = {"account": "accounts", "logs": "logs", "slot": "slots"}

MAX_SLOT_LEAD = 32  # slots an endpoint or an account update may be ahead of the chain
SLOT_ALLOWANCE_NS = 250_000_000  # ... plus one slot per this much time since it moved
LIVE_NS = 10_000_000_000  # an endpoint's slot votes while it moved at most this long ago...
LIVE_MIN_NS = 1_000_000_000  # ... or LIVE_STEPS of its own slot steps, but never less than this
LIVE_STEPS = 16
STEADY_NS = 2_000_000_000  # of two voters, the higher leads once it moved at pace this long
MAX_LEADER_GAP = 64  # ... and is at most this many slots ahead of the other
LAG_SLOTS = 16  # an endpoint this many slots behind the chain (or no longer voting) lags
AGREE_TO_LIFT = 16  # agreeing copies that end a first quarantine (doubled each time again)
HELD_RING = 1_024  # held-back copies remembered per quarantined endpoint
MAX_VERSIONS = 4  # differing copies of one account and slot kept for the majority
VOTERS = 64  # endpoints 0..63 take part in the majority of versions
EARLY_COPIES = 65_536  # copies held back before the chain's first slot, at most


def _lead(dt_ns: int) -> int:
    """How far beyond the chain's slot a slot may be, ``dt_ns`` after it last moved."""
    return MAX_SLOT_LEAD + max(dt_ns, 0) // SLOT_ALLOWANCE_NS


def _live_ns(e: _Endpoint, hint: int) -> int:
    """How long after its slot last moved an endpoint's slot still votes: ``LIVE_STEPS``
    of its own slot steps (of ``hint``, the chain's pace or the slowest endpoint's, while
    it has none; ``LIVE_NS`` without either), within ``LIVE_MIN_NS`` and ``LIVE_NS``."""
    step = e.step_ns or hint
    if not step:
        return LIVE_NS
    return min(max(LIVE_STEPS * step, LIVE_MIN_NS), LIVE_NS)


def _bit(ep: int) -> int:
    return 1 << ep if ep < VOTERS else 0


@dataclass(slots=True)
class _Pool:
    venue: Venue
    own: Any  # what the venue keeps of its own accounts (a CP-Swap config, tick arrays)
    record: Any = None
    vault_a: int | None = None
    vault_b: int | None = None
    # each vault's token program as last applied: Token-2022 (True), SPL Token (False),
    # not yet seen (None); a Token-2022 vault's mint is followed (role ``mint``)
    t22: list[bool | None] = field(default_factory=lambda: [None, None])
    mint_roles: list[str] = field(default_factory=list)  # the mints it follows
    in_graph: bool = False
    slot: int = 0  # the newest slot of its accounts' states (a pool's slot never goes back)
    record_seq: int = 0  # the ingest's record_seq when ``record`` was last replaced
    # its accounts (not arrays) the chain does not hold now (:func:`_is_absent`): a closed
    # vault, a deleted pool or config; out of the graph while any is
    absent: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Endpoint:
    """What the ingest knows of one endpoint: its slot vote and its integrity counts."""

    vote: int = 0  # its newest plausible (or confirmed) slot; 0: none; never goes back
    vote_ns: int = 0  # when its vote last moved
    run_ns: int = 0  # since when it moved at a pace wall time allows (its steadiness)
    step_ns: int = 0  # its slots' pace: ns per slot (a moving average); 0: not known yet
    anchor_slot: int = 0  # its slot when it was last on time (kept the chain's pace); 0: none
    acct_slot: int = 0  # the newest context slot of its account notifications
    anchor_ns: int = 0
    backwards: int = 0  # slots below its vote, ignored
    refused_first: int = 0  # its first copies refused (forgotten by the dedup: no lead)
    pending: int = 0  # an implausible slot waiting for a second notification
    pending_ns: int = 0
    early_max: int = 0  # the highest slot it told, unconfirmed, before the chain had one
    subs: int = 0  # subscriptions bound
    slot_subs: int = 0  # of which slot subscriptions
    implausible: int = 0
    older: int = 0
    unknown: int = 0
    identity: int = 0
    disagreed: int = 0
    held_back: int = 0
    quarantined: bool = False
    repaired: int = 0  # account changes it never delivered, found by the reconcile
    agree: int = 0
    offenses: int = 0  # quarantines so far: each one lasts twice as many agreements
    ring: deque[bytes] = field(default_factory=lambda: deque(maxlen=HELD_RING))


@dataclass(slots=True)
class _Held:
    """The state held of one account: its context slot, and the differing copies of
    that slot (``[key, endpoint bits]``) with the one applied (None: from a snapshot),
    and the digest of the bytes last applied (:func:`_content_digest`; None: none yet)."""

    slot: int = 0
    versions: list[list[Any]] = field(default_factory=list)
    applied: bytes | None = None
    digest: bytes | None = None


def _content_digest(owner: str | None, data: bytes) -> bytes | None:
    """An account's content digest, blake2b-128 of ``owner ‖ 0 ‖ data`` (what a
    notification's dedup key ends with): what :meth:`FeedIngest.compare` holds another
    copy against. Compared only with another of this backend's (Rust's is XXH3-128 of the
    owner's 32 bytes ‖ data). None without an owner (the trusted caller's "unchecked")."""
    if not isinstance(owner, str):
        return None
    return hashlib.blake2b(_utf8(owner) + b"\0" + bytes(data), digest_size=16).digest()


@dataclass(slots=True)
class _Proposal:
    """A pool identity change seen in a notification, waiting for a re-fetch."""

    identity: tuple[Any, ...]
    slot: int
    endpoints: list[int]


_PACKED = struct.Struct("<BHqqI")  # storage.codec.HEADER: kind, endpoint, ns, µs, length


def _frame_error(what: str) -> FrameError:
    return FrameError(what)


def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _frame_error(f"{where}: expected an object")
    return v


def _uint(d: dict[str, Any], key: str, where: str) -> int:
    v = d.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 1 << 64:
        raise _frame_error(f"{where}.{key}: expected a u64")
    return v


def _str(d: dict[str, Any], key: str, where: str) -> str:
    v = d.get(key)
    if not isinstance(v, str):
        raise _frame_error(f"{where}.{key}: expected a string")
    return v


def _bytes(b: object) -> bytes:
    return as_bytes(b, "data")


class FeedIngest:
    """Frames in, graph updated (see the module docstring)."""

    def __init__(self, graph: Any, capacity: int = 65_536, lag_window: int = 4_096) -> None:
        self._graph = graph
        self._dedup = Deduper(capacity, lag_window)
        self._roles: dict[str, list[tuple[str, str]]] = {}
        self._watched_version = 0  # bumped whenever ``_roles`` gains or loses a key
        self._record_seq = 0  # bumped whenever a pool's decoded record is replaced
        self._subs: dict[tuple[int, int], tuple[str, str]] = {}
        self._txs: deque[tuple[str, int, bool, int, int]] = deque(maxlen=TX_QUEUE)
        self._pools: dict[str, _Pool] = {}
        self._changed: dict[str, None] = {}
        # the last copy of each large account's data a replay's deltas change (frame_delta)
        self._copies: dict[bytes, bytes] = {}
        self._n = dict.fromkeys(
            (
                "frames",
                "notifications",
                "first_copies",
                "duplicates",
                "accounts",
                "logs",
                "slots",
                "swaps",
                "unknown",
                "pool_updates",
            ),
            0,
        )
        self._slot = 0  # the chain's slot (see the module docstring)
        self._chain_ns = 0
        self._now = 0  # the newest recv_ns of a slot notification
        self._leader = -1  # the endpoint the chain's slot followed alone at the last vote
        self._voters = 0  # the live voters then
        self._pace_ns = 0  # the chain's pace, ns per slot, as the voters agree on it; 0: unknown
        self._eps: dict[int, _Endpoint] = {}
        self._held: dict[str, _Held] = {}
        self._proposals: dict[str, _Proposal] = {}
        self._refetch: dict[str, int] = {}
        self._quarantined = 0
        # account copies far ahead of their account's state that came before the chain
        # had a slot (nothing then says how far ahead one may be): held back, the newest
        # per account and endpoint, until the first slot is decided:
        # (pubkey, endpoint) -> (seq, key, owner, raw, slot)
        self._early: dict[tuple[str, int], tuple[int, bytes, str, bytes, int]] = {}
        # the followed mints the graph took (``set_mint``): their pools may enter it
        self._minted: set[str] = set()

    # ------------------------------------------------------------ registration
    def _role(self, pubkey: str, role: str, pool: str) -> None:
        roles = self._roles.get(pubkey)
        if roles is None:
            roles = self._roles[pubkey] = []
            self._watched_version += 1
        if (role, pool) not in roles:
            roles.append((role, pool))

    def _unrole(self, pubkey: str, role: str, pool: str) -> None:
        roles = self._roles.get(pubkey)
        if roles is None or (role, pool) not in roles:
            return
        roles.remove((role, pool))
        if not roles:
            del self._roles[pubkey]
            self._watched_version += 1
        if not any(p == pool for _, p in roles):
            # no longer the pool's: its absence no longer holds the pool back
            self._pools[pool].absent.discard(pubkey)

    def track_pool(self, address: str, kind: str) -> None:
        """Watch the pool at ``address`` (``kind``: a venue's universe kind — amm_v4,
        cpmm or whirlpool); tracking it again as another kind is an error."""
        venue = by_kind(kind)
        _address(address)
        if address not in self._pools:
            self._pools[address] = _Pool(venue, venue.new_own())
        elif self._pools[address].venue is not venue:
            have = self._pools[address].venue.INFO.kind
            raise InvalidInputError(f"pool {address} is tracked as {have}, not {kind}")
        self._role(address, kind, address)

    def _array_role(self, pool: str) -> tuple[_Pool, str]:
        """The tracked pool ``pool`` and the role of its venue's arrays
        (InvalidInputError when it is not a tracked pool of a venue with arrays)."""
        p = self._pools.get(pool)
        role = None if p is None else p.venue.ARRAYS
        if p is None or role is None:
            raise InvalidInputError(f"{pool} is not a tracked pool with tick or bin arrays")
        return p, role

    def track_array(self, address: str, pool: str) -> None:
        """Watch an array of a tracked pool whose venue has arrays (a Whirlpool's or a
        Raydium CLMM pool's tick array, a DLMM pair's bin array: its venue's ``ARRAYS``)."""
        _address(address)
        _, role = self._array_role(pool)
        self._role(address, role, pool)

    def untrack_array(self, address: str, pool: str) -> None:
        """Stop watching an array of a tracked pool: its ticks (or bins) leave the pool's
        state, which is assembled again (its held range shrinks) when the pool is whole.
        An array it does not track is no error (nothing changes)."""
        _address(address)
        p, role = self._array_role(pool)
        roles = self._roles.get(address)
        if roles is None or (role, pool) not in roles:
            return
        self._unrole(address, role, pool)
        if p.venue.forget(p.own, address):
            self._refresh(pool, p, p.slot)

    def watched(self) -> list[str]:
        """Every account it knows a role for (what to subscribe to), in the order
        they became known."""
        return list(self._roles)

    def watched_version(self) -> int:
        """A count that changes whenever the watched set does (an account watched, or
        no longer): a copy of :meth:`watched` is read again only when this moved."""
        return self._watched_version

    def roles(self, pubkey: str) -> list[tuple[str, str]]:
        """The roles of ``pubkey`` as ``(role, pool address)``, in the order they were
        given: a venue's kind (the pool account), ``vault_a`` / ``vault_b``, ``mint``
        (a Token-2022 vault's mint), or one of the venue's own (``amm_config``,
        ``tick_array`` ...); empty for an account it does not watch."""
        return list(self._roles.get(pubkey, ()))

    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None:
        """The cluster's epoch schedule (``getEpochSchedule``'s fields; slots), handed to
        the graph: the epoch of its slot picks each Token-2022 mint's transfer fee in
        force. Until told, mainnet's (432,000 slots an epoch, no warmup). Errors as
        ``PoolGraph.set_epoch_schedule`` (fewer than 32 slots an epoch:
        ``InvalidInputError``)."""
        self._graph.set_epoch_schedule(
            slots_per_epoch, warmup, first_normal_epoch, first_normal_slot
        )

    def _ep(self, ep: int) -> _Endpoint:
        e = self._eps.get(ep)
        if e is None:
            e = self._eps[ep] = _Endpoint()
        return e

    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None:
        """Server subscription id ``subscription`` of ``endpoint`` delivers ``kind``
        notifications (account, logs, slot) about ``label`` (a pubkey, or "slot")."""
        if kind not in SUB_KINDS:
            raise InvalidInputError(f"subscription kind {kind!r} is not one of {SUB_KINDS}")
        key = (_u16(endpoint), _u64(subscription))
        if kind == "account" and not isinstance(label, str):
            raise TypeError(
                f"label: an account subscription needs a pubkey str, got {type(label).__name__}"
            )
        e = self._ep(key[0])
        old = self._subs.get(key)
        if old is None:
            e.subs += 1
        elif old[0] == "slot":
            e.slot_subs -= 1
        e.slot_subs += kind == "slot"
        self._subs[key] = (kind, label)

    def unbind(self, endpoint: int) -> None:
        """Forget every subscription id of ``endpoint`` (its connection closed): its slot
        no longer votes."""
        ep = _u16(endpoint)
        for k in [k for k in self._subs if k[0] == ep]:
            del self._subs[k]
        e = self._eps.get(ep)
        if e is not None:
            e.subs = e.slot_subs = 0

    # ------------------------------------------------------------ the hot path
    def frames(
        self,
        batch: bytes | bytearray | memoryview,
        start: int,
        endpoints: Sequence[int],
        offset_ns: int,
        deltas: bool = False,
    ) -> tuple[int, list[tuple[int, int, int, int]], int]:
        """A run of recorded stream messages from ``batch`` (inputs packed as the journal
        packs them: ``storage.codec.HEADER`` then the payload), from byte ``start`` to the
        first input that is neither a PubSub frame (kind 1) nor a gRPC update (kind 17),
        or the end. Each is applied as ``frame`` / ``grpc`` apply it, from endpoint
        ``endpoints[e]`` for its recorded endpoint ``e`` (passed over when ``e`` is past
        the list or maps to a negative number), at its receive ns less ``offset_ns``; one
        the ingest refuses is counted, not raised. With ``deltas``, a PubSub frame stored
        as a delta (kind 21, ``storage.delta``'s layout: :func:`.copies.stored`) is one of
        the run too, applied as ``frame_delta`` applies it (one whose lengths disagree is
        refused; another input's delta ends the run). Returns ``(position after the run,
        [(endpoint, applied, first and last receive ns)], refused)``. A batch cut short
        raises ``InvalidInputError``."""
        if not isinstance(batch, bytes):
            try:  # any C-contiguous byte buffer (a native stream's GrpcBatch), as bytes
                batch = memoryview(batch).cast("B").tobytes()
            except TypeError:
                raise TypeError(f"batch: expected bytes, got {type(batch).__name__}") from None
        pos, n, refused = start, len(batch), 0
        per_ep: dict[int, list[int]] = {}
        while pos < n:
            if pos + _PACKED.size > n:
                raise InvalidInputError("a batch is truncated (header)")
            kind, e, t_ns, _wall, length = _PACKED.unpack_from(batch, pos)
            delta = deltas and kind == 21
            if kind not in (1, 17) and not delta:
                break
            body = pos + _PACKED.size
            if body + length > n:
                raise InvalidInputError("a batch is truncated (payload)")
            parts = stored(batch[body : body + length]) if delta else OTHER
            if delta and parts == OTHER:
                break  # an account's: not a frame of the run
            pos = body + length
            ep = endpoints[e] if e < len(endpoints) else -1
            if not 0 <= ep <= 0xFFFF:
                continue
            recv = min(max(t_ns - offset_ns, -(2**63)), 2**63 - 1)  # saturating, as i64
            try:
                if delta:
                    if isinstance(parts, str):  # damaged
                        raise InvalidInputError("a delta is damaged (its lengths disagree)")
                    key, head, how, body_b, tail = parts
                    self.frame_delta(ep, key, head, how, body_b, tail, recv)
                elif kind == 1:
                    self.frame(ep, batch[body:pos], recv)
                else:
                    self.grpc(ep, batch[body:pos], recv)
            except EngineError:
                refused += 1
            c = per_ep.setdefault(ep, [0, recv, 0])
            c[0] += 1
            c[2] = recv
        return pos, [(ep, c[0], c[1], c[2]) for ep, c in per_ep.items()], refused

    def frame_delta(
        self,
        endpoint: int,
        key: bytes | bytearray | memoryview,
        head: bytes | bytearray | memoryview,
        how: int,
        body: bytes | bytearray | memoryview,
        tail: bytes | bytearray | memoryview,
        recv_ns: int,
    ) -> int:
        """A recorded frame whose account data a journal stored as a delta against the
        last copy stored under ``key``: that copy made the next one (``how``: 0 ``FULL``,
        ``body`` the data; 1 ``SAME``, ``body`` empty; 2 ``RANGES``, ``body`` the ranges
        of ``storage.delta.changes``), then the frame ``head + copy + tail`` applied as
        ``frame`` applies it (the copy changes even when the frame is refused).
        ``InvalidInputError``, nothing changed, when there is no copy to change or the
        delta does not fit it."""
        ep = _u16(endpoint)
        k, body_b = _bytes(key), _bytes(body)
        head_b, tail_b = _bytes(head), _bytes(tail)
        if how == 0:
            span = body_b
        elif how in (1, 2):
            old = self._copies.get(k)
            if old is None:
                raise InvalidInputError("a delta refers to a copy not held")
            if how == 1:
                if body_b:
                    raise InvalidInputError("a delta is damaged (a SAME delta with a body)")
                span = old
            else:
                span = write_ranges(old, body_b)
        else:
            raise InvalidInputError(f"a delta is damaged (how {how})")
        self._copies[k] = span
        return self.frame(ep, head_b + span + tail_b, recv_ns)

    def drop_copy(self, key: bytes | bytearray | memoryview) -> None:
        """Forget the copy ``frame_delta`` holds under ``key`` (none: nothing)."""
        self._copies.pop(_bytes(key), None)

    scan_frames = staticmethod(scan_frames)

    def copies(self) -> tuple[int, int]:
        """How many copies ``frame_delta`` holds, and their bytes."""
        return len(self._copies), sum(map(len, self._copies.values()))

    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        """One raw frame from ``endpoint``; the subscription id of a notification, or
        -1 for anything else (a response: the caller's id book handles it)."""
        ep = _u16(endpoint)
        if not isinstance(frame, (bytes, bytearray, memoryview, str)):
            raise TypeError(f"frame: expected bytes, got {type(frame).__name__}")
        self._n["frames"] += 1
        if isinstance(frame, memoryview):
            frame = frame.tobytes()  # json.loads takes str, bytes and bytearray only
        try:
            msg = json.loads(frame)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise _frame_error("frame is not JSON") from None
        msg = _obj(msg, "frame")
        if msg.get("jsonrpc") != "2.0":
            raise _frame_error("frame is not JSON-RPC 2.0")
        method = msg.get("method")
        if method is None:
            return -1
        if not isinstance(method, str):
            raise _frame_error("frame.method: expected a string")
        params = _obj(msg.get("params"), "params")
        sub = _uint(params, "subscription", "params")
        result = _obj(params.get("result"), "params.result")
        bound = self._subs.get((ep, sub))
        if method == "slotNotification":
            slot = _uint(result, "slot", "slot")
            key = b"slot" + struct.pack("<Q", slot)
            first = self._notified(ep, key, recv_ns, bound, "slot")
            if bound is not None and bound[0] == "slot":  # every copy is a vote
                self._observe_slot(ep, slot, recv_ns, key if first else None)
            return sub
        if method not in ("accountNotification", "logsNotification"):
            raise _frame_error(f"unknown method {method!r}")
        slot = _uint(_obj(result.get("context"), "result.context"), "slot", "context")
        value = _obj(result.get("value"), "result.value")
        if method == "accountNotification":
            owner = _str(value, "owner", "account")
            data = value.get("data")
            if (
                not isinstance(data, list)
                or len(data) != 2
                or not isinstance(data[0], str)
                or data[1] != "base64"
            ):
                raise _frame_error('account.data: expected [<base64>, "base64"]')
            try:
                raw = base64.b64decode(data[0], validate=True)
            except (binascii.Error, ValueError):
                raise _frame_error("account.data: not base64") from None
            if bound is None or bound[0] != "account":
                self._unknown(ep)
                return sub
            pubkey = bound[1]
            digest = hashlib.blake2b(_utf8(owner) + b"\0" + raw, digest_size=16).digest()
            key = _utf8(pubkey) + struct.pack("<Q", slot) + digest
            self._account_copy(ep, pubkey, key, owner, raw, slot, recv_ns)
            return sub
        signature = _str(value, "signature", "logs")
        logs = value.get("logs")
        if not isinstance(logs, list) or not all(isinstance(x, str) for x in logs):
            raise _frame_error("logs.logs: expected a list of strings")
        failed = value.get("err") is not None
        key = _utf8(signature) + (b"!" if failed else b"")
        first = self._notified(ep, key, recv_ns, bound, "logs")
        if first:
            self._told_of(signature, slot, failed, ep, invokes(logs))
        if first and not failed:
            scan = LogScan()
            for line in logs:
                if scan.is_swap(line):
                    self._n["swaps"] += 1
        return sub

    def grpc(self, endpoint: int, update: bytes, recv_ns: int) -> tuple[int, int]:
        """One Yellowstone gRPC ``SubscribeUpdate`` (protobuf bytes) from ``endpoint``,
        through the same path and dedup keys as a PubSub frame's notification: copies of
        one change from a PubSub and a gRPC endpoint are one change (first copy wins), and
        lead/lag compares them. Returns ``(kind, value)``: kind the update's
        ``update_oneof`` field number (2 account, 3 slot, 4 transaction, 6 ping, 9 pong,
        another member's, 0 none), value its slot (a pong: its id as an unsigned 32-bit
        number; else 0).

        An endpoint's updates count once something is bound for it (the worker binds a
        slot subscription when its stream opens); before that, or after ``unbind``, they
        are ``unknown``, as is an account update for an account without a role. A slot
        update votes when its status is processed, confirmed or finalized (the worker
        asks ``filter_by_commitment``: one status a slot); other statuses are neither
        counted nor voted. Vote transactions are not counted. Bytes that are not a
        ``SubscribeUpdate`` raise ``FrameError`` and change nothing but the frame count."""
        ep = _u16(endpoint)
        if not isinstance(update, (bytes, bytearray, memoryview)):
            raise TypeError(f"update: expected bytes, got {type(update).__name__}")
        self._n["frames"] += 1
        try:
            up = geyser.parse(bytes(update))
        except ValueError as exc:
            raise _frame_error(f"update is not a Yellowstone SubscribeUpdate: {exc}") from None
        e = self._eps.get(ep)
        subs, slot_subs = (0, 0) if e is None else (e.subs, e.slot_subs)
        if isinstance(up, geyser.Account):
            pubkey = b58encode(up.pubkey)
            if not subs or pubkey not in self._roles:
                self._unknown(ep)
                return geyser.ACCOUNT, up.slot
            owner = b58encode(up.owner)
            digest = hashlib.blake2b(owner.encode() + b"\0" + up.data, digest_size=16).digest()
            key = pubkey.encode() + struct.pack("<Q", up.slot) + digest
            self._account_copy(ep, pubkey, key, owner, up.data, up.slot, recv_ns)
            return geyser.ACCOUNT, up.slot
        if isinstance(up, geyser.Slot):
            if up.status > 2:
                return geyser.SLOT, up.slot
            bound = ("slot", "slot") if slot_subs else None
            key = b"slot" + struct.pack("<Q", up.slot)
            first = self._notified(ep, key, recv_ns, bound, "slot")
            if bound is not None:  # every copy is a vote
                self._observe_slot(ep, up.slot, recv_ns, key if first else None)
            return geyser.SLOT, up.slot
        if isinstance(up, geyser.Transaction):
            if up.vote:
                return geyser.TRANSACTION, up.slot
            signature = b58encode(up.signature)
            key = signature.encode() + (b"!" if up.failed else b"")
            bound = ("logs", "") if subs else None
            first = self._notified(ep, key, recv_ns, bound, "logs")
            if first:
                self._told_of(signature, up.slot, up.failed, ep, invokes(up.logs))
            if first and not up.failed:
                scan = LogScan()
                for line in up.logs:
                    if scan.is_swap(line):
                        self._n["swaps"] += 1
            return geyser.TRANSACTION, up.slot
        if isinstance(up, geyser.Pong):
            return geyser.PONG, up.id & 0xFFFF_FFFF
        return up.kind, 0

    def _told_of(self, signature: str, slot: int, failed: bool, ep: int, n: int) -> None:
        self._txs.append((signature, slot, failed, ep, n))  # a deque of TX_QUEUE: the oldest go

    def take_transactions(self) -> list[tuple[str, int, bool, int, int]]:
        """The transactions told of since the last call, oldest first: the first copy of
        each logs notification and gRPC transaction update (not votes), as ``(signature,
        slot, failed, endpoint, invokes)``, ``invokes`` the programs its logs show
        invoked (:func:`invokes`); at most ``TX_QUEUE`` are kept between two calls (the
        oldest go)."""
        out = list(self._txs)
        self._txs.clear()
        return out

    def _unknown(self, ep: int) -> None:
        self._n["unknown"] += 1
        self._ep(ep).unknown += 1

    def _notified(
        self, ep: int, key: bytes, recv_ns: int, bound: tuple[str, str] | None, kind: str
    ) -> bool:
        """Count a notification; True when it is the first copy of one we watch."""
        if bound is None or bound[0] != kind:
            self._unknown(ep)
            return False
        self._n["notifications"] += 1
        if not self._dedup.accept(key, ep, recv_ns):
            self._n["duplicates"] += 1
            return False
        self._n["first_copies"] += 1
        self._n[_COUNTER[kind]] += 1
        return True

    # ------------------------------------------------------------ the chain's slot
    def _observe_slot(self, ep: int, slot: int, t: int, key: bytes | None) -> None:
        """One endpoint's slot notification (every copy, first or not): its vote.
        ``key``: its dedup key when it was the first copy (a refused one is forgotten)."""
        e = self._ep(ep)
        self._now = max(self._now, t)
        if e.vote and slot <= e.vote:  # a repeat is no news; a slot going back is ignored
            if slot < e.vote:
                e.backwards += 1
                self._forget(key, ep)
            return
        chain = self._slot
        if chain and slot <= chain + _lead(t - self._chain_ns):
            pass
        elif e.pending and e.pending <= slot <= e.pending + _lead(t - e.pending_ns):
            pass  # confirmed by its next notification
        else:
            if chain:
                e.implausible += 1
                self._forget(key, ep)
            else:
                e.early_max = max(e.early_max, slot)
            e.pending, e.pending_ns = slot, t
            return
        if e.vote:
            dt = max(t - e.vote_ns, 0)
            if slot - e.vote <= _lead(dt):  # a step at a pace wall time allows
                sample = dt // (slot - e.vote)
                e.step_ns = (7 * e.step_ns + sample) // 8 if e.step_ns else sample
            else:  # a jump: its steadiness starts again
                e.run_ns = t
        else:
            e.run_ns = t
        e.vote, e.vote_ns, e.pending = slot, t, 0
        if not e.anchor_slot or slot >= self._expected(e, t):
            e.anchor_slot, e.anchor_ns = slot, t  # on time: expected from here on
        self._decide_slot(t)

    def _expected(self, e: _Endpoint, t: int) -> int:
        """Where ``e``'s slot would be at ``t`` had it kept the chain's pace since it was
        last on time (its own slot while the pace is not known)."""
        if not self._pace_ns or not e.anchor_slot:
            return e.vote
        return max(e.vote, e.anchor_slot + max(t - e.anchor_ns, 0) // self._pace_ns)

    def _reach(self, e: _Endpoint, t: int) -> int:
        """The slot ``e`` counts for in a vote of three or more: its own, or where it is
        expected once it is more than ``LAG_SLOTS`` behind that."""
        expected = self._expected(e, t)
        return expected if expected > e.vote + LAG_SLOTS else e.vote

    def _pace_hint(self) -> int:
        """The pace an endpoint whose slot never moved is judged by: the chain's, else the
        slowest endpoint's (0: none known)."""
        return self._pace_ns or max((x.step_ns for x in self._eps.values()), default=0)

    def _live(self, e: _Endpoint, t: int, hint: int) -> bool:
        """Whether ``e``'s slot votes at ``t`` (see the module docstring)."""
        alive = bool(e.vote and e.slot_subs and not e.quarantined)
        return alive and t - e.vote_ns <= _live_ns(e, hint)

    def _decide_slot(self, t: int) -> None:
        """The chain's slot from the live votes (see the module docstring)."""
        hint = self._pace_hint()
        live = [(i, x) for i, x in sorted(self._eps.items()) if self._live(x, t, hint)]
        if not live:
            return
        steps = sorted(x.step_ns for _, x in live if x.step_ns)
        if len(live) >= 2 and len(steps) == len(live):  # the chain's pace, as they agree on it
            if len(steps) > 2:
                sample = steps[(len(steps) - 1) // 2]  # the (lower) median, when a strict
                # majority keeps it: voters falling behind neither slow it nor drag it along
                near = sum(1 for s in steps if 4 * s <= 5 * sample and 4 * sample <= 5 * s)
                if 2 * near <= len(steps):
                    sample = 0
            elif 4 * steps[1] <= 5 * steps[0]:
                sample = (steps[0] + steps[1]) // 2
            else:
                sample = 0
            if sample:
                self._pace_ns = (7 * self._pace_ns + sample) // 8 if self._pace_ns else sample
        leader = -1
        if len(live) == 1:
            leader, candidate = live[0][0], live[0][1].vote
        elif len(live) == 2:
            (i, a), (j, b) = live
            (hi, top), lo = ((i, a), b) if a.vote >= b.vote else ((j, b), a)
            # where the other is: its slot, where the chain's pace puts it, or where its own
            # account updates say the chain is (its slot stream behind its data: not trusted)
            other = max(self._expected(lo, t), lo.acct_slot)
            if (
                top.vote > lo.vote
                and t - top.run_ns >= STEADY_NS
                and top.vote <= other + MAX_LEADER_GAP
            ):
                leader, candidate = hi, top.vote  # the steady one leads the lagging one
            else:
                candidate = lo.vote  # both, or neither trusted: the strict majority
        else:
            # the highest slot a strict majority reached, one more than LAG_SLOTS behind where
            # the chain's pace puts it counted there, never beyond what two of them reached
            reach = sorted((self._reach(x, t) for _, x in live), reverse=True)
            votes = sorted((x.vote for _, x in live), reverse=True)
            candidate = min(reach[len(reach) // 2], votes[1])
        self._leader, self._voters = leader, len(live)
        chain = self._slot
        if candidate > chain:
            self._slot, self._chain_ns = candidate, t
            self._graph.set_slot(candidate)
            if not chain:  # the first slot: what a hostile copy put far ahead is not held,
                # and a slot told far ahead before it was a lie
                for h in self._held.values():
                    if h.slot > candidate + MAX_SLOT_LEAD:
                        h.slot, h.versions, h.applied = 0, [], None
                for x in self._eps.values():
                    if max(x.pending, x.early_max) > candidate + MAX_SLOT_LEAD:
                        x.implausible += 1
                    if x.pending > candidate + MAX_SLOT_LEAD:
                        x.pending = 0
                    x.early_max = 0
                self._judge_early()

    def _forget(self, key: bytes | None, ep: int) -> None:
        """A first copy refused: no lead for its endpoint, and a later copy of it is a
        first copy again (nobody else is charged for not sending it)."""
        if key is not None and self._dedup._retract(key, ep):
            self._ep(ep).refused_first += 1

    # ------------------------------------------------------------ account copies
    def _trusted_other(self, ep: int) -> bool:
        return any(i != ep and e.subs and not e.quarantined for i, e in self._eps.items())

    def _quarantine(self, e: _Endpoint) -> None:
        if not e.quarantined:
            e.quarantined = True
            e.offenses += 1
            self._quarantined += 1
        e.agree = 0

    def _agreed(self, e: _Endpoint) -> None:
        e.agree += 1
        if e.agree >= AGREE_TO_LIFT << min(e.offenses - 1, 10):
            e.quarantined, e.agree = False, 0
            e.ring.clear()
            self._quarantined -= 1

    def _account_copy(
        self, ep: int, pubkey: str, key: bytes, owner: str, raw: bytes, slot: int, recv_ns: int
    ) -> None:
        self._n["notifications"] += 1
        e = self._ep(ep)
        e.acct_slot = max(e.acct_slot, slot)
        if e.quarantined and key not in self._dedup and self._trusted_other(ep):
            i64(recv_ns)  # checked as the dedup would
            e.held_back += 1
            e.ring.append(key)
            return
        first = self._dedup.accept(key, ep, recv_ns)
        h = self._held.get(pubkey)
        if not first:
            self._n["duplicates"] += 1
            if e.quarantined:
                self._agreed(e)
            elif h is not None and slot == h.slot:
                for v in h.versions:
                    if v[0] == key:
                        if not v[1] & _bit(ep):
                            v[1] |= _bit(ep)
                            self._decide(pubkey, h, ep, key, owner, raw, slot)
                        break
            return
        self._n["first_copies"] += 1
        self._n["accounts"] += 1
        if self._quarantined:
            for q in self._eps.values():
                if q.quarantined and key in q.ring:
                    q.ring.remove(key)
                    self._agreed(q)
        if pubkey not in self._roles:
            return
        since = self._held[pubkey].slot if pubkey in self._held else 0
        if (
            not self._slot
            and since
            and slot > since + MAX_SLOT_LEAD
            and any(x.slot_subs for x in self._eps.values())
        ):
            # far ahead of the state held, and no chain yet to say whether it may be:
            # checked as applying it would be, then held back until the first slot
            try:
                self._validate(pubkey, owner, raw, slot, ep)
            except EngineError:
                self._forget(key, ep)
                raise
            self._early_copy(ep, pubkey, key, owner, raw, slot)
            return
        self._copy_checked(ep, pubkey, key, owner, raw, slot, recv_ns)

    def _early_copy(
        self, ep: int, pubkey: str, key: bytes, owner: str, raw: bytes, slot: int
    ) -> None:
        """Hold back a copy that came before the chain's first slot, more than
        ``MAX_SLOT_LEAD`` slots after the state held of its account (when some endpoint's
        slot subscription will decide one): the newest per account and endpoint."""
        was = self._early.get((pubkey, ep))
        if was is not None:
            if was[4] > slot:
                return  # the one held is newer
        elif len(self._early) >= EARLY_COPIES:
            oldest = min(self._early, key=lambda k: self._early[k][0])
            self._forget(self._early.pop(oldest)[1], oldest[1])
        self._early[(pubkey, ep)] = (self._n["notifications"], key, owner, raw, slot)

    def _judge_early(self) -> None:
        """The first slot is decided: the copies held back are judged now, in their order
        of arrival, as had they come at this moment. One that does not decode is refused
        (forgotten: a later copy of it is a first copy)."""
        copies = sorted(self._early.items(), key=lambda kv: kv[1][0])
        self._early.clear()
        for (pubkey, ep), (_, key, owner, raw, slot) in copies:
            try:
                self._copy_checked(ep, pubkey, key, owner, raw, slot, self._chain_ns)
            except EngineError:
                self._forget(key, ep)

    def _copy_checked(
        self, ep: int, pubkey: str, key: bytes, owner: str, raw: bytes, slot: int, recv_ns: int
    ) -> None:
        """An account's first copy, judged: from the future (refused), older than the
        state held (refused), another version of the slot held (the majority), or applied."""
        e = self._ep(ep)
        h = self._held.get(pubkey)
        if self._slot and slot > self._slot + _lead(recv_ns - self._chain_ns):
            e.implausible += 1
            self._forget(key, ep)
            return
        if h is None:
            h = self._held[pubkey] = _Held()
        if slot < h.slot:
            e.older += 1
            self._forget(key, ep)
            return
        if slot == h.slot and h.applied is not None:
            applied = next((v for v in h.versions if v[0] == h.applied), None)
            if not (applied is not None and len(h.versions) == 1 and applied[1] == _bit(ep)):
                if len(h.versions) < MAX_VERSIONS:
                    try:
                        self._validate(pubkey, owner, raw, slot, ep)  # garbage is no version
                    except EngineError:
                        self._forget(key, ep)
                        raise
                    h.versions.append([key, _bit(ep)])
                    self._decide(pubkey, h, ep, key, owner, raw, slot)
                return
        self._apply_copy(pubkey, h, ep, key, owner, raw, slot)

    def _apply_copy(
        self, pubkey: str, h: _Held, ep: int, key: bytes, owner: str, raw: bytes, slot: int
    ) -> None:
        """Apply a notification's copy; the held state follows unless it did not decode."""
        try:
            self._apply(pubkey, owner, raw, slot, ep)
        except DecodeError:  # refused (the held state does not follow): no lead either
            self._forget(key, ep)
            raise
        except EngineError:
            h.slot, h.versions, h.applied, h.digest = slot, [[key, _bit(ep)]], key, key[-16:]
            raise
        h.slot, h.versions, h.applied, h.digest = slot, [[key, _bit(ep)]], key, key[-16:]

    def _decide(
        self, pubkey: str, h: _Held, ep: int, key: bytes, owner: str, raw: bytes, slot: int
    ) -> None:
        """The majority of the copies of one account and slot: a version with at least
        two endpoints and more than any other is the state; the others' endpoints
        disagreed. ``key`` is the copy in hand (the only data there is to apply)."""
        if len(h.versions) < 2:
            return
        counts = [bin(v[1]).count("1") for v in h.versions]
        best = counts.index(max(counts))
        if counts[best] < 2 or counts.count(counts[best]) > 1:
            return
        winner = h.versions[best]
        for i, v in enumerate(h.versions):
            if i == best:
                continue
            lost = v[1] & ~winner[1]
            for b in range(VOTERS):
                if lost >> b & 1:
                    loser = self._ep(b)
                    loser.disagreed += 1
                    self._quarantine(loser)
        h.versions = [winner]
        if h.applied != winner[0] and winner[0] == key:
            self._apply(pubkey, owner, raw, slot, ep)
            h.applied, h.digest = key, key[-16:]

    # ------------------------------------------------------------ accounts
    def account(self, pubkey: str, owner: str, data: bytes, slot: int) -> bool:
        """Apply one account's bytes (no dedup): decode it in each of its roles and
        refresh the pools it belongs to. False when no role is known for it. A copy
        older than the state held is not applied (True all the same). This is the
        trusted path (the HTTP snapshot, a re-fetch): identity may change here."""
        roles = self._roles.get(pubkey)
        if not roles:
            return False
        h = self._held.get(pubkey)
        ok = _slot_ok(slot)
        if h is not None and ok and slot < h.slot:
            if pubkey in self._proposals:  # too old to settle it: ask again
                self._refetch.setdefault(pubkey, self._proposals[pubkey].endpoints[0])
            return True
        self._apply(pubkey, owner, data, slot, None)
        if ok:
            h = self._held.setdefault(pubkey, _Held())
            h.slot, h.versions, h.applied = slot, [], None
            h.digest = _content_digest(owner, data)
        return True

    def compare(self, accounts: Sequence[tuple[str, str, bytes]]) -> list[tuple[int, bool] | None]:
        """Each ``(pubkey, owner, data)`` of ``accounts`` (another copy of a watched
        account: a node's ``getMultipleAccounts`` answer) against the state held of it:
        None when it is not watched, else ``(the context slot held, whether the bytes last
        applied are these)``; ``(0, False)`` while nothing is held. Changes nothing."""
        out: list[tuple[int, bool] | None] = []
        for item in accounts:
            if not isinstance(item, tuple):
                raise TypeError(
                    f"accounts: expected (pubkey, owner, data) tuples, got {type(item).__name__}"
                )
            if len(item) != 3:
                raise TypeError("accounts: expected (pubkey, owner, data) tuples")
            pubkey, owner, data = item
            _str_arg(pubkey, "pubkey")
            _str_arg(owner, "owner")
            raw = _bytes(data)
            if not self._roles.get(pubkey):
                out.append(None)
                continue
            h = self._held.get(pubkey)
            if h is None:
                out.append((0, False))
                continue
            d = _content_digest(owner, raw)
            out.append((h.slot, h.digest is not None and h.digest == d))
        return out

    def slots(self, pubkeys: Sequence[str]) -> list[int]:
        """The context slot held of each of ``pubkeys`` (0: not watched, or nothing held
        yet)."""
        return [h.slot if (h := self._held.get(k)) is not None else 0 for k in pubkeys]

    def reconcile(self, pubkey: str, owner: str, data: bytes, slot: int) -> bool:
        """The reconcile's repair: ``pubkey``'s bytes re-read through the trusted path
        (``getMultipleAccounts``), applied as :meth:`account` applies them when they
        differ from the bytes last applied and are not older than the state held; every
        endpoint that streams the account (an account subscription bound to it, or a
        stream of every watched account: a gRPC one, whose only binding is its slot) is
        charged ``repaired``: a change it never delivered. False, nothing changed, when it
        is not watched, older, or the same."""
        _str_arg(pubkey, "pubkey")
        _str_arg(owner, "owner")
        raw = _bytes(data)
        if not isinstance(slot, int) or isinstance(slot, bool):
            raise TypeError(f"expected int, got {type(slot).__name__}")
        if not 0 <= slot < 1 << 64:
            raise MathOverflowError("slot does not fit in u64")
        if not self._roles.get(pubkey):
            return False
        h = self._held.get(pubkey)
        if h is not None and (slot < h.slot or h.digest == _content_digest(owner, raw)):
            return False
        self.account(pubkey, owner, raw, slot)
        streams = {ep for (ep, _), (kind, _) in self._subs.items() if kind == "account"}
        bound = {
            ep
            for (ep, _), (kind, label) in self._subs.items()
            if kind == "account" and label == pubkey
        }
        for i, e in self._eps.items():
            if e.subs and (i in bound or i not in streams):
                e.repaired += 1
        return True

    def _apply(self, pubkey: str, owner: str, data: bytes, slot: int, ep: int | None) -> None:
        """Decode in each role and refresh; ``ep`` None: trusted (snapshot / re-fetch)."""
        roles = self._roles.get(pubkey)
        if not roles:
            return
        minted = False  # a mint is given to the graph once, however many pools follow it
        gone = _is_absent(owner, data)
        for role, pool_id in list(roles):
            p = self._pools[pool_id]
            if gone:
                # the account does not exist: an array reads as its program reads an
                # absent one; any other account holds the pool out of the graph
                if role == p.venue.ARRAYS:
                    p.venue.absent(p.own, pubkey)
                else:
                    p.absent.add(pubkey)
                self._refresh(pool_id, p, slot)
                continue
            if role == p.venue.INFO.kind:
                self._pool_account(pubkey, p, owner, data, slot, ep)
                p.absent.discard(pubkey)  # held, so it exists again
                self._refresh(pool_id, p, slot)
            elif role in ("vault_a", "vault_b"):
                acc = decode_token_account(data, owner)
                side = 0 if role == "vault_a" else 1
                want = self._mints(p)[side]
                if acc.mint != want:
                    if ep is not None:  # a notification cannot re-point a vault
                        self._refused(ep)
                        raise DecodeError(
                            f"vault {pubkey} holds mint {acc.mint}, pool {pool_id} trades "
                            f"{want}: copy of endpoint {ep} refused, endpoint quarantined"
                        )
                    self._drop(pool_id, p)
                    raise DecodeError(
                        f"vault {pubkey} holds mint {acc.mint}, pool {pool_id} trades {want}"
                    )
                t22 = owner_text(owner) == TOKEN_2022
                if ep is not None:  # nor move it to another token program
                    self._same_program(pubkey, pool_id, p, side, t22, ep)
                if role == "vault_a":
                    p.vault_a = acc.amount
                else:
                    p.vault_b = acc.amount
                p.t22[side] = t22
                self._follow_mints(pool_id, p)
                p.absent.discard(pubkey)  # (a vault re-created)
                self._refresh(pool_id, p, slot)
            elif role == "mint":
                if not minted:
                    _mint_owner(owner)
                    self._graph.set_mint(pubkey, data, TOKEN_2022)
                    self._minted.add(pubkey)
                    minted = True
                p.absent.discard(pubkey)
                self._refresh(pool_id, p, slot)
            else:  # one of the venue's own accounts
                at = slot if _slot_ok(slot) else None
                p.venue.own_account(p.own, role, OwnAccount(pubkey, pool_id, data, owner, at))
                p.absent.discard(pubkey)
                self._refresh(pool_id, p, slot)

    def _validate(self, pubkey: str, owner: str, data: bytes, slot: int, ep: int) -> None:
        """The checks of :meth:`_apply` (decode in each role, identity, vault mint) on a
        copy that is not applied now; raises what applying it would."""
        if _is_absent(owner, data):
            return  # an account's absence is no malformed copy
        for role, pool_id in list(self._roles.get(pubkey, ())):
            p = self._pools[pool_id]
            v = p.venue
            if role == v.INFO.kind:
                rec = v.decode(data, owner)
                if p.record is not None and v.identity(p.record) != v.identity(rec):
                    self._propose(pubkey, ep, v.identity(rec), slot)
            elif role in ("vault_a", "vault_b"):
                acc = decode_token_account(data, owner)
                side = 0 if role == "vault_a" else 1
                want = self._mints(p)[side]
                if acc.mint != want:
                    self._refused(ep)
                    raise DecodeError(
                        f"vault {pubkey} holds mint {acc.mint}, pool {pool_id} trades "
                        f"{want}: copy of endpoint {ep} refused, endpoint quarantined"
                    )
                self._same_program(pubkey, pool_id, p, side, owner_text(owner) == TOKEN_2022, ep)
            elif role == "mint":
                _mint_owner(owner)
                mint_rules(data, TOKEN_2022)
            else:  # one of the venue's own accounts
                v.check_own_account(role, OwnAccount(pubkey, pool_id, data, owner))

    def _same_program(
        self, pubkey: str, pool_id: str, p: _Pool, side: int, t22: bool, ep: int
    ) -> None:
        """A notification's vault copy keeps the vault's token program (a token account
        never changes program: a copy that says so lies, as one re-pointing it does)."""
        was = p.t22[side]
        if was is not None and was != t22:
            self._refused(ep)
            raise DecodeError(
                f"vault {pubkey} of pool {pool_id} is a {_PROGRAM[was]} account, the copy "
                f"of endpoint {ep} says {_PROGRAM[t22]}: refused, endpoint quarantined"
            )

    def _follow_mints(self, pool_id: str, p: _Pool) -> None:
        """The mints of the pool's Token-2022 vaults get the role ``mint`` for it (their
        transfer fee and extensions are the graph's to know); those no longer needed lose
        it, and a mint no pool follows is forgotten as taken (followed again, it waits
        for its bytes once more)."""
        a, b = self._mints(p)
        want = []
        for side, m in ((0, a), (1, b)):
            if p.t22[side] and m not in want:
                want.append(m)
        if want == p.mint_roles:
            return
        for m in p.mint_roles:
            if m not in want:
                self._unrole(m, "mint", pool_id)
                if not any(r == "mint" for r, _ in self._roles.get(m, ())):
                    self._minted.discard(m)
        for m in want:
            self._role(m, "mint", pool_id)
        p.mint_roles = want

    def _propose(self, pubkey: str, ep: int, new_id: tuple[Any, ...], slot: int) -> None:
        """A notification's copy would change a pool's identity: refuse it, quarantine
        its endpoint, and ask for a re-fetch to settle it."""
        self._refused(ep)
        prop = self._proposals.get(pubkey)
        if prop is None or prop.identity != new_id:
            self._proposals[pubkey] = _Proposal(new_id, slot, [ep])
        elif ep not in prop.endpoints:
            prop.endpoints.append(ep)
        self._refetch.setdefault(pubkey, ep)
        raise DecodeError(
            f"pool {pubkey}: its identity (mints, vaults, programs, status) changed in a "
            f"copy of endpoint {ep}; refused until a re-fetch confirms it"
        )

    def _refused(self, ep: int) -> None:
        e = self._ep(ep)
        e.identity += 1
        self._quarantine(e)

    def _pool_account(
        self, pubkey: str, p: _Pool, owner: str, data: bytes, slot: Any, ep: int | None
    ) -> None:
        v = p.venue
        rec = v.decode(data, owner)
        old = p.record
        new_id = v.identity(rec)
        if old is not None and v.identity(old) != new_id and ep is not None:
            self._propose(pubkey, ep, new_id, slot)
        prop = self._proposals.get(pubkey) if ep is None else None
        if prop is not None and _slot_ok(slot) and slot >= prop.slot:
            del self._proposals[pubkey]
            self._refetch.pop(pubkey, None)
            for i in prop.endpoints:
                e = self._ep(i)
                if new_id == prop.identity:  # confirmed: it was right
                    if e.quarantined:
                        e.quarantined, e.agree = False, 0
                        e.ring.clear()
                        self._quarantined -= 1
                else:
                    e.disagreed += 1
        elif prop is not None:
            self._refetch.setdefault(pubkey, prop.endpoints[0])  # too old to settle it
        # the own accounts the pool account names (a CP-Swap pool's AmmConfig) follow it
        follow = v.followed(rec)
        if old is not None:
            for role, key in v.followed(old):
                if (role, key) not in follow:
                    self._unrole(key, role, pubkey)
        for role, key in follow:
            self._role(key, role, pubkey)
        self._record_seq += 1
        p.record, p.record_seq = rec, self._record_seq
        vaults = v.vaults(rec)
        if old is not None:
            was = v.vaults(old)
            remint = self._mints(p) != v.reserve_mints(old)
            if remint:  # the pool was re-initialised: wait for vaults
                p.vault_a = p.vault_b = None
                p.t22 = [None, None]
            if was[0] != vaults[0]:
                self._unrole(was[0], "vault_a", pubkey)
                p.vault_a = None  # the old vault's balance (and program) is not this pool's
                p.t22[0] = None
            if was[1] != vaults[1]:
                self._unrole(was[1], "vault_b", pubkey)
                p.vault_b = None
                p.t22[1] = None
            if remint or was != vaults:  # out of the graph until its state is whole
                self._drop(pubkey, p)
        self._role(vaults[0], "vault_a", pubkey)
        self._role(vaults[1], "vault_b", pubkey)
        self._follow_mints(pubkey, p)  # the old mints' roles go with the old vaults

    def _mints(self, p: _Pool) -> tuple[str, str]:
        return p.venue.reserve_mints(p.record)

    def _drop(self, pool_id: str, p: _Pool) -> None:
        if p.in_graph:
            self._graph.remove_pool(pool_id)
            p.in_graph = False
            self._changed[pool_id] = None

    def _refresh(self, pool_id: str, p: _Pool, slot: int) -> None:
        """Upsert the pool when everything it needs is known, at the newest slot of its
        accounts (one of them may be older than another: never the pool)."""
        if _slot_ok(slot):
            p.slot = slot = max(p.slot, slot)
        r = p.record
        if r is None:
            return
        if p.absent or any(m not in self._minted for m in p.mint_roles):
            # a Token-2022 vault: never quoted without its mint's transfer fee; nor a pool
            # an account of which the chain does not hold (a closed vault)
            self._drop(pool_id, p)
            return
        a, b = self._mints(p)
        try:
            got = p.venue.update(p.own, r, Assembly(pool_id, (a, b), (p.vault_a, p.vault_b), slot))
            if got is None:
                return
            state, slot = got
            self._graph._upsert_venue(pool_id, a, b, p.venue, state, slot)
        except EngineError:
            self._drop(pool_id, p)
            raise
        p.in_graph = True
        self._n["pool_updates"] += 1
        self._changed[pool_id] = None

    # ------------------------------------------------------------ results
    def half_moved(self, pools: list[str]) -> list[str]:
        """Those of ``pools`` caught halfway through a slot: one vault's copy of a newer
        slot came by a notification and the other vault's is older (a swap moves both: its
        copy is on its way). Deciding on such a pool would quote a state that never
        existed. Not tracked, not decoded, or without two vaults: not half-moved."""
        out = []
        for pool_id in pools:
            p = self._pools.get(pool_id)
            if p is None or p.record is None:
                continue
            a, b = (self._held.get(v) for v in p.venue.vaults(p.record))
            if a is None or b is None or a.slot == b.slot:
                continue
            if (a if a.slot > b.slot else b).applied is not None:
                out.append(pool_id)
        return out

    def take_changed(self) -> list[str]:
        """Pools whose graph state changed since the last call, first change first."""
        out = list(self._changed)
        self._changed.clear()
        return out

    @property
    def pending(self) -> int:
        """How many pools changed since the last ``take_changed`` (cheap: no list)."""
        return len(self._changed)

    def record(self, address: str) -> tuple[str, Any] | None:
        """``(kind, decoded pool account)`` of the tracked pool ``address`` as the graph
        holds it now; None when it is not tracked or not decoded yet."""
        p = self._pools.get(address)
        if p is None or p.record is None:
            return None
        return p.venue.INFO.kind, p.record

    def stats(self) -> IngestStats:
        """What this ingest has seen since it was made (counters and the chain's slot)."""
        return IngestStats(**self._n, slot=self._slot)

    def endpoint_stats(self) -> list[EndpointStats]:
        """Each endpoint it has heard of, by id: its slot vote, how it stands to the
        chain's slot (as of the newest slot notification) and its integrity counts."""
        out = []
        hint = self._pace_hint()
        for i, e in sorted(self._eps.items()):
            counts = (e.implausible, e.older, e.unknown, e.identity, e.disagreed, e.held_back)
            behind = max(self._slot - e.vote, 0) if e.vote else 0
            voting = self._live(e, self._now, hint)
            # behind by more than LAG_SLOTS, or behind and stalled (its slot stopped)
            stalled = e.slot_subs > 0 and self._now - e.vote_ns > _live_ns(e, hint)
            lagging = behind > LAG_SLOTS or (behind > 0 and stalled)
            out.append(
                EndpointStats(
                    i,
                    e.vote,
                    *counts,
                    e.quarantined,
                    e.backwards,
                    behind,
                    lagging,
                    voting,
                    i == self._leader and voting,
                    e.refused_first,
                    e.acct_slot,
                    e.repaired,
                )
            )
        return out

    def take_refetch(self) -> list[tuple[str, int]]:
        """Pool accounts to fetch again over HTTP (an identity change waits for it), each
        with the endpoint whose copy asked for it (fetch from another one if you can)."""
        out = list(self._refetch.items())
        self._refetch.clear()
        return out

    def dedup_stats(self) -> list[DedupStats]:
        """Lead/lag per endpoint (``Deduper.stats``)."""
        return self._dedup.stats()

    def records(
        self, kinds: Sequence[str] | None = None, since: int = 0
    ) -> list[tuple[str, str, Any]]:
        """``(address, kind, decoded pool account)`` of every tracked pool decoded so
        far, in the order they were tracked; with ``kinds``, only the pools of those
        kinds; with ``since`` (a value of :meth:`record_seq`), only the pools whose
        record was replaced after it."""
        return [
            (k, p.venue.INFO.kind, p.record)
            for k, p in self._pools.items()
            if p.record is not None
            and p.record_seq > since
            and (kinds is None or p.venue.INFO.kind in kinds)
        ]

    def record_seq(self) -> int:
        """Bumped whenever a pool's decoded record is replaced (never goes back):
        :meth:`records`' ``since``."""
        return self._record_seq

    def whirlpools(self) -> list[tuple[str, Any]]:
        """``(address, decoded Whirlpool)`` of every tracked Whirlpool decoded so far."""
        return [
            (k, p.record)
            for k, p in self._pools.items()
            if p.venue is orca_whirlpool and p.record is not None
        ]

    slot = Readonly[int]("_slot")


_PROGRAM = {True: "Token-2022", False: "SPL Token"}


def _is_absent(owner: object, data: bytes) -> bool:
    """Whether a copy of an account says it does not exist: owned by the system program
    with no data. A node sends it so for an account deleted (PubSub: lamports 0, owner the
    system program, no data) and Yellowstone for any account a transaction names
    writable that holds nothing (an uninitialized tick array a swap names). It is not
    malformed: it is the account's absence, read as its program reads it."""
    return not data and owner_text(owner) == SYSTEM_PROGRAM


def _mint_owner(owner: object) -> None:
    """A followed mint is a Token-2022 account (its vaults are): another owner is a
    ``WrongOwnerError`` (None, the trusted caller's "unchecked", passes)."""
    o = owner_text(owner)
    if o is not None and o != TOKEN_2022:
        raise WrongOwnerError(f"Mint: owner {o} is not {TOKEN_2022}")


def _slot_ok(slot: object) -> bool:
    """A slot argument the upsert will take (others fail there, with its error)."""
    return isinstance(slot, int) and not isinstance(slot, bool) and 0 <= slot < 1 << 64


def _str_arg(v: object, what: str) -> None:
    if not isinstance(v, str):
        raise TypeError(f"{what}: expected a str, got {type(v).__name__}")


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8; the lone surrogates JSON can carry ("\\ud800") as their 3-byte
    forms, so no text fails to encode."""
    return text.encode("utf-8", "surrogatepass")


def _address(address: object) -> None:
    """A tracked address: a base58 ``str`` of 32 bytes (other forms ``_id32`` reads raise
    its errors, or TypeError: the tables are keyed by the text)."""
    _id32(address, "address")
    if not isinstance(address, str):
        raise TypeError(f"address: expected a base58 str, got {type(address).__name__}")


def _u16(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"expected an int, got {type(v).__name__}")
    if not 0 <= v <= 0xFFFF:
        raise InvalidInputError(f"endpoint must be within 0..=65535, got {v}")
    return v


def _u64(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"expected an int, got {type(v).__name__}")
    if not 0 <= v < 1 << 64:
        raise InvalidInputError(f"subscription id must be a u64, got {v}")
    return v
