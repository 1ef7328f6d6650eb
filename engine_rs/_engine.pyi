# Type stubs for the compiled extension engine_rs._engine (see engine_rs/python for docs).
from collections.abc import Sequence

__version__: str
BUILD_PROFILE: str

# --- amm -------------------------------------------------------------------
def cpmm_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> int: ...
def cpmm_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> int: ...
def cpmm_spot_rate(reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> float: ...

# --- clmm ------------------------------------------------------------------

# --- graph / cycles / sizing -----------------------------------------------

# --- scorer ----------------------------------------------------------------
