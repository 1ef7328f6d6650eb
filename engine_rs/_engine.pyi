# Type stubs for the compiled extension engine_rs._engine (see engine_rs/python for docs).
from collections.abc import Sequence

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
