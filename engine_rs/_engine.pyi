# Type stubs for the compiled extension engine_rs._engine (see engine_rs/python for docs).
from collections.abc import Iterable, Sequence

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

# --- clmm ------------------------------------------------------------------
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
class Cycle:
    tokens: list[str]
    pools: list[str]
    rate_product: float

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

class PoolGraph:
    def __init__(self, base_mints: Sequence[str] = ..., max_hops: int = 4) -> None: ...
    def __len__(self) -> int: ...
    @property
    def slot(self) -> int: ...
    @property
    def max_hops(self) -> int: ...
    def set_slot(self, slot: int) -> None: ...
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
    def remove_pool(self, pool_id: str) -> None: ...
    def find_negative_cycle(self) -> Cycle | None: ...
    def cycles(self, base_mint: str, max_hops: int = 4) -> list[Opportunity]: ...
    def cycles_touching(self, pool_id: str, max_hops: int = 4) -> list[Opportunity]: ...

# --- scorer ----------------------------------------------------------------
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
class PriorityFee:
    cu_price_micro_lamports: int
    cu_limit: int
    priority_fee_lamports: int
    percentile: float
    samples: int
    newest_slot: int

class FeeEstimator:
    def __init__(self, window_slots: int = 150, saturation_cu_price: int = 1_000_000) -> None: ...
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
class DedupStats:
    endpoint: int
    first_seen: int
    duplicates: int
    lag_mean_ns: float | None
    lag_p99_ns: int | None
    lag_samples: int

class Deduper:
    def __init__(self, capacity: int = 65_536, lag_window: int = 4_096) -> None: ...
    @property
    def capacity(self) -> int: ...
    @property
    def lag_window(self) -> int: ...
    @property
    def evicted(self) -> int: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object) -> bool: ...
    def accept(self, key: bytes, endpoint: int, recv_ns: int) -> bool: ...
    def accept_many(
        self, keys: Sequence[bytes], endpoints: Sequence[int] | int, recv_ns: Sequence[int] | int
    ) -> list[bool]: ...
    def stats(self) -> list[DedupStats]: ...
    def clear(self) -> None: ...
