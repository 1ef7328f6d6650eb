# Type stubs for the compiled extension engine_rs._engine (see engine_rs/python for docs).
# `make lint` checks them against the built extension: python -m mypy.stubtest engine_rs._engine
# (classes are @final: a pyclass cannot be subclassed; constructors are PyO3's __new__).
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, final

import numpy as np
from numpy.typing import NDArray
from typing_extensions import Self

__all__ = [
    "BUILD_PROFILE",
    "Bollinger",
    "Cycle",
    "CyclePricer",
    "DedupStats",
    "Deduper",
    "DeltaEncoder",
    "Ema",
    "EndpointStats",
    "FeeEstimator",
    "FeedIngest",
    "GrpcBatch",
    "GrpcStream",
    "IngestStats",
    "Kama",
    "OpenBookBook",
    "OpenBookFill",
    "Opportunity",
    "PdaCache",
    "PoolGraph",
    "PriorityFee",
    "Rsi",
    "Score",
    "SwapResult",
    "TxSigner",
    "WHIRLPOOL_PROGRAM_ID",
    "Whirlpool",
    "__version__",
    "_call_floor",
    "b58decode",
    "b58encode",
    "bollinger",
    "clmm_spot_rate",
    "clmm_swap",
    "cpmm_amount_in",
    "cpmm_amount_out",
    "cpmm_spot_rate",
    "create_program_address",
    "decode_meteora_bin_array",
    "decode_meteora_bitmap_extension",
    "decode_manifest_global",
    "decode_manifest_market",
    "decode_meteora_damm_pool",
    "decode_meteora_lb_pair",
    "decode_mint",
    "decode_openbook_bookside",
    "decode_openbook_event_heap",
    "decode_openbook_market",
    "decode_pump_amm_global_config",
    "decode_pump_amm_pool",
    "decode_pump_fee_config",
    "decode_raydium_amm_config",
    "decode_raydium_amm_v4",
    "decode_raydium_clmm",
    "decode_raydium_clmm_bitmap_extension",
    "decode_raydium_clmm_config",
    "decode_raydium_clmm_tick_array",
    "decode_raydium_cpmm",
    "decode_tick_array",
    "decode_token_account",
    "decode_whirlpool",
    "delta_changes",
    "ema",
    "find_program_address",
    "is_on_curve",
    "kama",
    "manifest_ladder",
    "manifest_quote",
    "manifest_swap",
    "meteora_damm_v2_quote",
    "meteora_damm_v2_swap",
    "meteora_dlmm_bin_price",
    "meteora_dlmm_quote",
    "meteora_dlmm_swap",
    "openbook_book",
    "openbook_ladder",
    "openbook_take",
    "oracle_address",
    "parse_logs",
    "parse_program_data",
    "parse_ray_log",
    "priority_fee_lamports",
    "pump_swap",
    "raydium_clmm_address",
    "raydium_clmm_sqrt_price_at_tick",
    "raydium_clmm_swap",
    "raydium_clmm_swap_ledger",
    "raydium_clmm_tick_array_starts",
    "raydium_clmm_tick_at_sqrt_price",
    "rsi",
    "score",
    "sqrt_price_from_tick",
    "tick_array_address",
    "tick_array_starts",
    "tick_from_sqrt_price",
    "venue_infos",
    "inverse_transfer_fee",
    "post_fee_amount",
    "pre_fee_amount",
    "refused_extensions",
    "transfer_fee",
    "whirlpool_address",
]

__version__: str
BUILD_PROFILE: str

# --- amm -------------------------------------------------------------------
def cpmm_amount_out(
    amount_in: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int
) -> int: ...
def cpmm_amount_in(
    amount_out: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int
) -> int: ...
def cpmm_spot_rate(reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> float: ...

# five ints parsed as the fastcall quotes parse theirs, the first returned (the bench's floor)
def _call_floor(a: int, b: int, c: int, d: int, e: int) -> int: ...

# --- clmm ------------------------------------------------------------------
@final
class SwapResult:
    amount_in: int
    amount_out: int
    fee_amount: int
    protocol_fee: int
    fee_growth_x64: int
    sqrt_price_x64: int
    tick_current: int
    liquidity: int

def sqrt_price_from_tick(tick: int) -> int: ...
def tick_from_sqrt_price(sqrt_price_x64: int) -> int: ...
def clmm_spot_rate(sqrt_price_x64: int, fee_rate: int, a_to_b: bool) -> float: ...
def clmm_swap(
    sqrt_price_x64: int,
    liquidity: int,
    tick_current: int,
    tick_spacing: int,
    fee_rate: int,
    ticks: Sequence[tuple[int, int]],
    amount: int,
    a_to_b: bool,
    exact_in: bool = True,
    sqrt_price_limit: int | None = None,
    protocol_fee_rate: int = 0,
    max_tick_arrays: int | None = 3,
) -> SwapResult: ...

# --- graph / cycles / sizing -----------------------------------------------
@final
class Cycle:
    tokens: list[str]
    pools: list[str]
    rate_product: float

@final
class Opportunity:
    base_mint: str
    tokens: list[str]
    pools: list[str]
    kinds: list[str]
    hops: int
    spot_rate: float
    amount_in: int
    amount_out: int
    profit: int
    profit_bps: float
    hop_amounts: list[int]
    oldest_slot: int
    staleness_slots: int
    persistence: int
    ticks_missing: bool
    hop_steps: list[int]

@final
class PoolGraph:
    def __new__(cls, base_mints: Sequence[str] = (), max_hops: int = 4) -> Self: ...
    def __len__(self) -> int: ...
    @property
    def slot(self) -> int: ...
    @property
    def max_hops(self) -> int: ...
    @property
    def sizing(self) -> str: ...
    def set_sizing(self, rule: str) -> None: ...
    def set_slot(self, slot: int) -> None: ...
    @property
    def epoch(self) -> int: ...
    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None: ...
    def set_mint(self, mint: str, data: bytes, owner: object) -> list[str]: ...
    def mint_fee(self, mint: str) -> tuple[_Fee, _Fee] | None: ...
    def mint_program(self, mint: str) -> str | None: ...
    def refusal(self, mint: str) -> list[str]: ...
    def tokens(self) -> list[str]: ...
    def pools(self) -> list[str]: ...
    def base_mints(self) -> list[str]: ...
    def indexed_cycle_count(self) -> int: ...
    def add_base_mint(self, mint: str) -> None: ...
    def upsert_cpmm(
        self,
        pool_id: str,
        mint_a: str,
        mint_b: str,
        reserve_a: int,
        reserve_b: int,
        fee_num: int,
        fee_den: int,
        slot: int = 0,
    ) -> None: ...
    def upsert_pump(
        self,
        pool_id: str,
        mint_a: str,
        mint_b: str,
        base_reserve: int,
        quote_reserve: int,
        lp_fee_bps: int,
        protocol_fee_bps: int,
        creator_fee_bps: int,
        slot: int = 0,
    ) -> None: ...
    def upsert_clmm(
        self,
        pool_id: str,
        mint_a: str,
        mint_b: str,
        sqrt_price_x64: int,
        liquidity: int,
        tick_current: int,
        tick_spacing: int,
        fee_rate: int,
        ticks: Sequence[tuple[int, int]],
        slot: int = 0,
    ) -> None: ...
    def quote(self, pools: Sequence[str], token_in: str, amount_in: int) -> list[int]: ...
    def quote_steps(
        self, pools: Sequence[str], token_in: str, amount_in: int
    ) -> tuple[list[int], list[int]]: ...
    def pool_rate(self, pool_id: str) -> tuple[str, str, float, float, int]: ...
    def ladder(self, pool_id: str, depth: int = 20) -> Any: ...
    def remove_pool(self, pool_id: str) -> None: ...
    def find_negative_cycle(self) -> Cycle | None: ...
    def cycles(self, base_mint: str, max_hops: int = 4) -> list[Opportunity]: ...
    def cycles_touching(
        self,
        pool_id: str,
        max_hops: int = 4,
        only_live: bool = False,
        piece: tuple[int, int] | None = None,
    ) -> list[Opportunity]: ...
    # cycles_touching(only_live=True), each cycle priced: (opportunity, score, each hop's
    # compute-unit limit, the steps each was priced at (None: not known), token accounts)
    # piece (start, length): only the cycles at those positions of the pool's cycles in
    # their canonical order (by base mint, then the pools' ids along them)
    def score_touching(
        self,
        pool_id: str,
        pricer: CyclePricer,
        max_hops: int = 4,
        piece: tuple[int, int] | None = None,
    ) -> list[tuple[Opportunity, Score, tuple[int, ...], tuple[int | None, ...], int]]: ...
    # how many indexed cycles use pool_id (every length): what a piece's positions count in
    def touching_count(self, pool_id: str) -> int: ...

# --- pricing ---------------------------------------------------------------
# what PoolGraph.score_touching prices each cycle with: each venue's compute-unit model
# (kind, curve, base, per_step, max_steps, scale, t22_fixed, t22_per_mint), the fees, the
# policy, a lamport's price per base, each pool's program, the live wallet
@final
class CyclePricer:
    def __new__(
        cls,
        models: Sequence[tuple[str, str, int, int, int, int, int, int]],
        base_units: int,
        per_account: int,
        max_limit: int,
    ) -> Self: ...
    def set_fees(self, fees: object, policy: object, cu_override: int | None = None) -> None: ...
    def set_prices(self, prices: Mapping[str, tuple[int, int] | None]) -> None: ...
    def set_pool_kinds(self, kinds: Mapping[str, str], replace: bool = False) -> None: ...
    def pool_kind_count(self) -> int: ...
    def set_wallet(self, armed: bool, base: str, accounts: Sequence[str]) -> None: ...

# --- scorer ----------------------------------------------------------------
@final
class Score:
    gross_profit: int
    base_fee_lamports: int
    priority_fee_lamports: int
    tip_lamports: int
    total_fee_lamports: int
    fees_in_base: int
    net_profit: int
    net_profit_bps: float
    persistence: int
    staleness_slots: int
    go: bool
    reasons: list[str]

def score(opportunity: object, fees: object, policy: object) -> Score: ...
def priority_fee_lamports(cu_price_micro_lamports: int, cu_limit: int) -> int: ...

# --- fees ------------------------------------------------------------------
@final
class PriorityFee:
    cu_price_micro_lamports: int
    cu_limit: int
    priority_fee_lamports: int
    percentile: float
    samples: int
    newest_slot: int

@final
class FeeEstimator:
    def __new__(cls, window_slots: int = 150, saturation_cu_price: int = 1_000_000) -> Self: ...
    @property
    def window_slots(self) -> int: ...
    @property
    def saturation_cu_price(self) -> int: ...
    @property
    def newest_slot(self) -> int | None: ...
    @property
    def oldest_slot(self) -> int | None: ...
    @property
    def slot_count(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    def __len__(self) -> int: ...
    def add(self, slot: int, micro_lamports_per_cu: int) -> bool: ...
    def add_many(self, samples: Iterable[tuple[int, int]]) -> int: ...
    def percentile(self, p: float) -> int: ...
    def percentiles(self, ps: Iterable[float]) -> list[int]: ...
    def congestion(self) -> float: ...
    def recommend(self, cu_limit: int, percentile: float = 75.0) -> PriorityFee: ...
    def by_slot(self, percentile: float = 50.0) -> list[tuple[int, int, int, int]]: ...
    def clear(self) -> None: ...

# --- dedup -----------------------------------------------------------------
@final
class DedupStats:
    endpoint: int
    first_seen: int
    duplicates: int
    lag_mean_ns: float | None
    lag_p50_ns: int | None
    lag_p99_ns: int | None
    lag_samples: int

@final
class Deduper:
    def __new__(cls, capacity: int = 65_536, lag_window: int = 4_096) -> Self: ...
    @property
    def capacity(self) -> int: ...
    @property
    def lag_window(self) -> int: ...
    @property
    def evicted(self) -> int: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object, /) -> bool: ...
    def accept(self, key: bytes, endpoint: int, recv_ns: int) -> bool: ...
    def accept_many(
        self, keys: Sequence[bytes], endpoints: Sequence[int] | int, recv_ns: Sequence[int] | int
    ) -> list[bool]: ...
    def stats(self) -> list[DedupStats]: ...
    def clear(self) -> None: ...

# --- feed ingest -----------------------------------------------------------
@final
class IngestStats:
    frames: int
    notifications: int
    first_copies: int
    duplicates: int
    accounts: int
    logs: int
    slots: int
    swaps: int
    unknown: int
    pool_updates: int
    slot: int

@final
class EndpointStats:
    endpoint: int
    slot: int
    implausible: int
    older: int
    unknown: int
    identity: int
    disagreed: int
    held_back: int
    quarantined: bool
    backwards: int
    behind: int
    lagging: bool
    voting: bool
    leading: bool
    refused_first: int
    account_slot: int
    repaired: int

@final
class GrpcBatch:
    """A batch ``GrpcStream.take_batch`` handed over without a copy: its packed updates,
    read through the buffer protocol (read-only: ``memoryview(batch)``,
    ``FeedIngest.frames``, ``bytes(batch)``); ``len(batch)`` is its size. Its memory goes
    back to its stream when the last reference (a memoryview of it included) is gone: it
    is never written while one lives."""

    def __len__(self) -> int: ...

@final
class GrpcStream:
    """One Yellowstone ``Subscribe`` stream received natively (HTTP/2 in plaintext,
    ``host:port`` ``authority``), a task on the engine's one gRPC receive thread (every
    stream of the process shares it; it never holds the GIL); its updates wait, packed as the journal packs
    inputs (kind 17, ``endpoint``, receive ns, wall µs, length, bytes), for ``take``. A
    byte is written to ``wake_fd`` (a non-blocking pipe's write end, kept open by the
    caller while the stream lives; -1: none) when a batch waits or the stream ended: the
    byte ``wake_byte`` (0..255), so that streams sharing one pipe say which of them woke
    it. Pings are answered by the stream itself."""

    def __new__(
        cls,
        authority: str,
        path: str,
        request: bytes,
        endpoint: int,
        x_token: str | None = None,
        max_message: int = 67108864,
        keep_transactions: bool = False,
        wake_fd: int = -1,
        connect_timeout_s: float = 10.0,
        wake_byte: int = 1,
    ) -> Self: ...
    def send(self, request: bytes) -> bool:
        """Send another ``SubscribeRequest`` (serialized) on the stream; False once it
        ended."""
    def take(self) -> tuple[bytes, int, int, str | None, list[bytes]]:
        """The oldest batch waiting (a batch is closed at about 1 MiB; the wake byte is
        written again at once while more waits; empty: nothing came): ``(batch, updates,
        malformed, malformed_error, transactions)``: the packed updates, how many, how many
        of them the reader refused and its words for the last one (None: none), the
        transaction updates' bytes (when asked for)."""
    def take_batch(self) -> tuple[GrpcBatch, int, int, str | None, list[bytes]]:
        """As ``take``, the batch handed over without a copy: a ``GrpcBatch`` (a read-only
        buffer; its memory goes back to the stream once no one holds it) instead of bytes."""
    def seen(self) -> tuple[bool, int, int | None, int, int, int, int, int]:
        """``(open, updates, last_slot, pulse_ns, first_slot_ns, last_slot_ns, pings,
        pongs)`` since the stream began: the response came; every message; the highest
        slot an account, slot or transaction update carried (None: none yet); the receive
        ns of the last such update, of the first and the last slot update (0: none yet);
        pings answered, pongs."""
    def end(self) -> tuple[int, str] | None:
        """How the stream ended: None while it runs; ``(code, message)``: the server's gRPC
        status (0: it ended the stream), -1 a failed connection or stream (the message says
        why), -2 stopped."""
    def stop(self) -> None:
        """End the stream; its task ends soon after (``join`` waits for it)."""
    def join(self) -> None:
        """Wait for the stream's task to end (the GIL released meanwhile)."""

@final
class FeedIngest:
    def __new__(cls, graph: PoolGraph, capacity: int = 65_536, lag_window: int = 4_096) -> Self: ...
    def track_pool(self, address: str, kind: str) -> None: ...
    def track_array(self, address: str, pool: str) -> None: ...
    def untrack_array(self, address: str, pool: str) -> None: ...
    def watched(self) -> list[str]: ...
    def watched_version(self) -> int: ...
    def record_seq(self) -> int: ...
    def roles(self, pubkey: str) -> list[tuple[str, str]]: ...
    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None: ...
    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None: ...
    def unbind(self, endpoint: int) -> None: ...
    def frame(
        self, endpoint: int, frame: bytes | bytearray | memoryview | str, recv_ns: int
    ) -> int: ...
    def grpc(
        self, endpoint: int, update: bytes | bytearray | memoryview, recv_ns: int
    ) -> tuple[int, int]: ...
    def frame_delta(
        self,
        endpoint: int,
        key: bytes | bytearray | memoryview,
        head: bytes | bytearray | memoryview,
        how: int,
        body: bytes | bytearray | memoryview,
        tail: bytes | bytearray | memoryview,
        recv_ns: int,
    ) -> int: ...
    def drop_copy(self, key: bytes | bytearray | memoryview) -> None: ...
    def copies(self) -> tuple[int, int]: ...
    @staticmethod
    def scan_frames(
        raw: bytes, start: int, notice: bytes, within: int
    ) -> tuple[int, list[int], list[int], int, bool]: ...
    def frames(
        self,
        batch: bytes | bytearray | memoryview | GrpcBatch,
        start: int,
        endpoints: Sequence[int],
        offset_ns: int,
        deltas: bool = False,
    ) -> tuple[int, list[tuple[int, int, int, int]], int]: ...
    def account(
        self, pubkey: str, owner: object, data: bytes | bytearray | memoryview, slot: int
    ) -> bool: ...
    def compare(
        self, accounts: Iterable[tuple[str, str, bytes | bytearray | memoryview]]
    ) -> list[tuple[int, bool] | None]:
        """Each ``(pubkey, owner, data)`` (another copy of a watched account: a node's
        ``getMultipleAccounts`` answer) against the state held of it: None when it is not
        watched, else ``(the context slot held, whether the bytes last applied are
        these)``; ``(0, False)`` while nothing is held. Changes nothing."""
    def slots(self, pubkeys: list[str]) -> list[int]:
        """The context slot held of each of ``pubkeys`` (0: not watched, or nothing held)."""
    def reconcile(
        self, pubkey: str, owner: str, data: bytes | bytearray | memoryview, slot: int
    ) -> bool:
        """The reconcile's repair: ``pubkey``'s bytes re-read through the trusted path,
        applied as ``account`` applies them when they differ from the bytes last applied
        and are not older than the state held; each endpoint that streams the account (an
        account subscription bound to it, or a gRPC stream) is charged ``repaired``. False
        (nothing changed) when it is not watched, older, or the same."""
    def half_moved(self, pools: list[str]) -> list[str]: ...
    def take_changed(self) -> list[str]: ...
    @property
    def pending(self) -> int: ...
    def record(self, address: str) -> tuple[str, Any] | None: ...
    def stats(self) -> IngestStats: ...
    def endpoint_stats(self) -> list[EndpointStats]: ...
    def take_refetch(self) -> list[tuple[str, int]]: ...
    def take_transactions(self) -> list[tuple[str, int, bool, int, int]]: ...
    def dedup_stats(self) -> list[DedupStats]: ...
    def records(
        self, kinds: Sequence[str] | None = None, since: int = 0
    ) -> list[tuple[str, str, Any]]: ...
    def whirlpools(self) -> list[tuple[str, Any]]: ...
    @property
    def slot(self) -> int: ...

# --- the journal's deltas ------------------------------------------------
def delta_changes(
    base: bytes | bytearray | memoryview, span: bytes | bytearray | memoryview
) -> bytes: ...

@final
class DeltaEncoder:
    def __new__(cls, limit: int = 67108864) -> Self: ...
    def encode(
        self, kind: int, endpoint: int, payload: bytes | bytearray | memoryview
    ) -> tuple[int, bytes]: ...
    def bind(self, endpoint: int, subscription: int, account: bytes) -> None: ...
    @property
    def deltas(self) -> int: ...
    @property
    def same(self) -> int: ...
    def copies(self) -> tuple[int, int]: ...

# --- base58 and PDAs -------------------------------------------------------
WHIRLPOOL_PROGRAM_ID: str

def b58encode(data: bytes | bytearray | memoryview) -> str: ...
def b58decode(text: str) -> bytes: ...
def is_on_curve(address: object) -> bool: ...
def create_program_address(seeds: Sequence[object], program_id: object) -> str: ...
def find_program_address(seeds: Sequence[object], program_id: object) -> tuple[str, int]: ...
def whirlpool_address(
    config: object, mint_a: object, mint_b: object, fee_tier_index: int
) -> tuple[str, int]: ...
def tick_array_address(whirlpool: object, start_tick_index: int) -> tuple[str, int]: ...
def tick_array_starts(tick_spacing: int, center_tick: int, arrays_each_side: int) -> list[int]: ...
def oracle_address(whirlpool: object) -> tuple[str, int]: ...

@final
class PdaCache:
    def __new__(cls) -> Self: ...
    def find(self, seeds: Sequence[object], program_id: object) -> tuple[str, int]: ...
    def tick_array(self, whirlpool: object, start_tick_index: int) -> tuple[str, int]: ...
    def whirlpool(
        self, config: object, mint_a: object, mint_b: object, fee_tier_index: int
    ) -> tuple[str, int]: ...
    def oracle(self, whirlpool: object) -> tuple[str, int]: ...
    def warm_tick_arrays(
        self, whirlpool: object, tick_spacing: int, center_tick: int, arrays_each_side: int = 2
    ) -> list[int]: ...
    def find_many(
        self, requests: Iterable[tuple[Sequence[object], object]]
    ) -> list[tuple[str, int]]: ...
    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    def __len__(self) -> int: ...
    def clear(self) -> None: ...

# --- indicators ------------------------------------------------------------

def rsi(prices: object, period: int = 14) -> NDArray[np.float64]: ...
def ema(prices: object, period: int) -> NDArray[np.float64]: ...
def bollinger(
    prices: object, period: int = 20, k: float = 2.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
def kama(
    prices: object, period: int = 10, fast: int = 2, slow: int = 30
) -> NDArray[np.float64]: ...

class _Incremental:
    @property
    def value(self) -> float | None: ...
    @property
    def ready(self) -> bool: ...
    @property
    def period(self) -> int: ...
    @property
    def count(self) -> int: ...
    def update(self, price: float) -> float | None: ...
    def reset(self) -> None: ...

@final
class Rsi(_Incremental):
    def __new__(cls, period: int = 14) -> Self: ...

@final
class Ema(_Incremental):
    def __new__(cls, period: int) -> Self: ...

@final
class Kama(_Incremental):
    def __new__(cls, period: int = 10, fast: int = 2, slow: int = 30) -> Self: ...

@final
class Bollinger:
    def __new__(cls, period: int = 20, k: float = 2.0) -> Self: ...
    @property
    def value(self) -> tuple[float, float, float] | None: ...
    @property
    def ready(self) -> bool: ...
    @property
    def period(self) -> int: ...
    @property
    def k(self) -> float: ...
    @property
    def count(self) -> int: ...
    def update(self, price: float) -> tuple[float, float, float] | None: ...
    def reset(self) -> None: ...

# --- decoders (records in engine_rs.decoded) -------------------------------
@final
class Whirlpool:
    """Native `engine_rs.decoded.Whirlpool` (a registered virtual subclass of it)."""

    whirlpools_config: str
    whirlpool_bump: int
    tick_spacing: int
    fee_tier_index_seed: int
    fee_rate: int
    protocol_fee_rate: int
    liquidity: int
    sqrt_price: int
    tick_current_index: int
    protocol_fee_owed_a: int
    protocol_fee_owed_b: int
    token_mint_a: str
    token_vault_a: str
    fee_growth_global_a: int
    token_mint_b: str
    token_vault_b: str
    fee_growth_global_b: int
    reward_last_updated_timestamp: int
    reward_mints: tuple[str, str, str]
    @property
    def is_adaptive_fee(self) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]: ...

def decode_raydium_amm_v4(data: bytes, owner: object = None) -> Any: ...
def decode_raydium_cpmm(data: bytes, owner: object = None) -> Any: ...
def decode_raydium_amm_config(data: bytes, owner: object = None) -> Any: ...
def decode_raydium_clmm(data: bytes, owner: object = None) -> Any: ...
def decode_raydium_clmm_config(data: bytes, owner: object = None) -> Any: ...
def decode_raydium_clmm_tick_array(data: bytes, owner: object = None) -> Any: ...
def decode_raydium_clmm_bitmap_extension(data: bytes, owner: object = None) -> Any: ...
def raydium_clmm_swap(
    sqrt_price_x64: int,
    liquidity: int,
    tick_current: int,
    tick_spacing: int,
    fee_rate: int,
    fee_on: int,
    ticks: Sequence[tuple[int, int]],
    amount: int,
    zero_for_one: bool,
) -> Any: ...
def raydium_clmm_swap_ledger(
    sqrt_price_x64: int,
    liquidity: int,
    tick_current: int,
    tick_spacing: int,
    fee_rate: int,
    fee_on: int,
    protocol_fee_rate: int,
    fund_fee_rate: int,
    ticks: Sequence[tuple[int, int]],
    amount: int,
    zero_for_one: bool,
) -> tuple[Any, int, int, int, int, list[tuple[int, int]]]: ...
def raydium_clmm_address(kind: str, *args: object) -> tuple[str, int]: ...
def raydium_clmm_sqrt_price_at_tick(tick: int) -> int: ...
def raydium_clmm_tick_at_sqrt_price(sqrt_price_x64: int) -> int: ...
def raydium_clmm_tick_array_starts(
    tick_spacing: int, center_tick: int, arrays_each_side: int
) -> list[int]: ...
def decode_pump_amm_pool(data: bytes, owner: object = None) -> Any: ...
def decode_openbook_market(data: bytes, owner: object = None) -> Any: ...
def decode_openbook_bookside(data: bytes, owner: object = None) -> Any: ...
def decode_openbook_event_heap(data: bytes, owner: object = None) -> Any: ...
def openbook_ladder(
    market: bytes,
    bids: bytes,
    asks: bytes,
    now: int,
    depth: int = 20,
    oracle_price_lots: int | None = None,
) -> Any: ...

@final
class OpenBookBook:
    """A prepared OpenBook v2 book (`openbook_book`)."""

def openbook_book(
    market: bytes,
    bids: bytes,
    asks: bytes,
    now: int,
    event_heap: bytes | None = None,
    oracle_price_lots: int | None = None,
) -> OpenBookBook: ...

@final
class OpenBookFill:
    """Native `engine_rs.records.OpenBookFill`."""

    @property
    def amount_in(self) -> int: ...
    @property
    def amount_out(self) -> int: ...
    @property
    def base_lots(self) -> int: ...
    @property
    def quote_lots(self) -> int: ...
    @property
    def taker_fee(self) -> int: ...
    @property
    def maker_rebates(self) -> int: ...
    @property
    def orders(self) -> int: ...
    @property
    def events(self) -> int: ...
    @property
    def last_price_lots(self) -> int: ...
    @property
    def complete(self) -> bool: ...
    @property
    def refused(self) -> bool: ...

def openbook_take(
    book: OpenBookBook,
    amount: int,
    a_to_b: bool,
    limit: int = 50,
    price_lots: int | None = None,
) -> OpenBookFill: ...
def decode_pump_amm_global_config(data: bytes, owner: object = None) -> Any: ...
def decode_pump_fee_config(data: bytes, owner: object = None) -> Any: ...
def pump_swap(
    base_reserve: int,
    quote_reserve: int,
    lp_fee_bps: int,
    protocol_fee_bps: int,
    creator_fee_bps: int,
    amount: int,
    a_to_b: bool,
) -> int | None: ...
def decode_whirlpool(data: bytes, owner: object = None) -> Whirlpool: ...
def decode_tick_array(data: bytes, owner: object = None) -> Any: ...
def decode_meteora_lb_pair(data: bytes, owner: object = None) -> Any: ...
def decode_meteora_bin_array(data: bytes, owner: object = None) -> Any: ...
def decode_meteora_bitmap_extension(data: bytes, owner: object = None) -> Any: ...
def meteora_dlmm_bin_price(bin_id: int, bin_step: int) -> int: ...
def meteora_dlmm_quote(
    lb_pair: bytes, bin_arrays: list[bytes], amount: int, swap_for_y: bool, now: int, slot: int
) -> int | None: ...
def meteora_dlmm_swap(
    lb_pair: bytes, bin_arrays: list[bytes], amount: int, swap_for_y: bool, now: int, slot: int
) -> Any: ...
def decode_meteora_damm_pool(data: bytes, owner: object = None) -> Any: ...
def meteora_damm_v2_swap(
    pool: bytes, point: int, amount: int, a_to_b: bool, has_referral: bool = False
) -> Any: ...
def meteora_damm_v2_quote(pool: bytes, point: int, amount: int, a_to_b: bool) -> int | None: ...
def decode_manifest_market(data: bytes, owner: object = None) -> Any: ...
def decode_manifest_global(data: bytes, owner: object = None) -> Any: ...
def manifest_swap(
    market: bytes,
    now_slot: int,
    amount: int,
    a_to_b: bool,
    base_global: bytes | None = None,
    quote_global: bytes | None = None,
) -> Any: ...
def manifest_quote(
    market: bytes,
    now_slot: int,
    amount: int,
    a_to_b: bool,
    base_global: bytes | None = None,
    quote_global: bytes | None = None,
) -> int | None: ...
def manifest_ladder(
    market: bytes,
    now_slot: int,
    depth: int = 20,
    base_global: bytes | None = None,
    quote_global: bytes | None = None,
) -> Any: ...
def decode_token_account(data: bytes, owner: object = None) -> Any: ...
def decode_mint(data: bytes, owner: object = None) -> Any: ...
def parse_ray_log(b64: str) -> Any: ...
def parse_program_data(b64: str, program: str) -> Any: ...
def parse_logs(logs: list[str]) -> list[tuple[str, Any]]: ...

# --- venues (records in engine_rs.records) ---------------------------------
def venue_infos() -> list[Any]: ...

# Token-2022 (token2022.rs): a config is (older, newer), each (epoch, maximum_fee, bps)
_Fee = tuple[int, int, int]

def transfer_fee(config: tuple[_Fee, _Fee], epoch: int, amount: int) -> int: ...
def post_fee_amount(config: tuple[_Fee, _Fee], epoch: int, amount: int) -> int: ...
def pre_fee_amount(config: tuple[_Fee, _Fee], epoch: int, post_amount: int) -> int: ...
def inverse_transfer_fee(config: tuple[_Fee, _Fee], epoch: int, post_amount: int) -> int: ...
def refused_extensions(data: bytes, owner: object = None) -> list[str]: ...

# --- tx (tx.rs): the live fast path's build-and-sign step ------------------
@final
class TxSigner:
    def __new__(cls, keypair: bytes) -> Self: ...
    @property
    def pubkey(self) -> str: ...
    def sign(self, message: bytes) -> bytes: ...
    def sign_v0(
        self,
        message: bytes,
        blockhash_at: int,
        blockhash: object,
        patches: Sequence[tuple[int, bytes]],
    ) -> tuple[bytes, str]: ...
