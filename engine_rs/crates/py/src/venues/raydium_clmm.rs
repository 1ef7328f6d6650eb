//! Bindings for `arbscope_core::venues::raydium_clmm`: its decoders, its `SwapEvent`
//! record, its PDAs and the swap kernel `raydium_clmm_swap` (conversions only).

use arbscope_core::venues::raydium_clmm::pda;
use arbscope_core::venues::raydium_clmm::{self as rc, RaydiumClmmSwapEvent, Swap};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args::{I32, I64, U128, U64};
use crate::decode::{data_of, key, obj, owner_of, record};
use crate::errors::{guard, raise};

/// Raydium CLMM `PoolState` -> `engine_rs.decoded.RaydiumClmmPool`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_clmm<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let p = guard(py, || rc::decode_pool(&d, o.as_ref()))?;
    pool_record(py, &p)
}

/// `engine_rs.decoded.RaydiumClmmPool` of a decoded pool account.
pub(crate) fn pool_record<'py>(
    py: Python<'py>,
    p: &rc::RaydiumClmmPool,
) -> PyResult<Bound<'py, PyAny>> {
    let mut args = vec![obj!(py, p.bump)];
    for k in &p.keys {
        args.push(key(py, k));
    }
    args.extend([
        obj!(py, p.mint_decimals[0]),
        obj!(py, p.mint_decimals[1]),
        obj!(py, p.tick_spacing),
        obj!(py, p.liquidity),
        obj!(py, p.sqrt_price_x64),
        obj!(py, p.tick_current),
        obj!(py, p.fee_growth_global_x64[0]),
        obj!(py, p.fee_growth_global_x64[1]),
        obj!(py, p.protocol_fees[0]),
        obj!(py, p.protocol_fees[1]),
        obj!(py, p.status),
        obj!(py, p.fee_on),
        PyTuple::new(py, p.tick_array_bitmap)?.into_any(),
        obj!(py, p.fund_fees[0]),
        obj!(py, p.fund_fees[1]),
        obj!(py, p.open_time),
        obj!(py, p.recent_epoch),
        obj!(py, p.dynamic_fee),
    ]);
    record(py, "RaydiumClmmPool", args)
}

/// Raydium CLMM `AmmConfig` -> `engine_rs.decoded.RaydiumClmmConfig`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_clmm_config<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let c = guard(py, || rc::decode_amm_config(&d, o.as_ref()))?;
    let args = vec![
        obj!(py, c.bump),
        obj!(py, c.index),
        key(py, &c.owner),
        obj!(py, c.protocol_fee_rate),
        obj!(py, c.trade_fee_rate),
        obj!(py, c.tick_spacing),
        obj!(py, c.fund_fee_rate),
        key(py, &c.fund_owner),
    ];
    record(py, "RaydiumClmmConfig", args)
}

/// Raydium CLMM `TickArrayState` -> `engine_rs.decoded.RaydiumClmmTickArray`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_clmm_tick_array<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let t = guard(py, || rc::decode_tick_array(&d, o.as_ref()))?;
    let ticks = t
        .ticks
        .iter()
        .map(|x| {
            (
                x.offset,
                x.tick,
                x.liquidity_net,
                x.liquidity_gross,
                x.orders_amount,
                x.part_filled_orders_remaining,
            )
        })
        .collect::<Vec<_>>();
    let args = vec![
        key(py, &t.pool_id),
        obj!(py, t.start_tick_index),
        obj!(py, t.initialized_tick_count),
        PyTuple::new(py, ticks)?.into_any(),
    ];
    record(py, "RaydiumClmmTickArray", args)
}

/// Raydium CLMM `TickArrayBitmapExtension` ->
/// `engine_rs.decoded.RaydiumClmmBitmapExtension`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_clmm_bitmap_extension<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let e = guard(py, || rc::decode_bitmap_extension(&d, o.as_ref()))?;
    let args = vec![
        key(py, &e.pool_id),
        PyTuple::new(py, e.positive)?.into_any(),
        PyTuple::new(py, e.negative)?.into_any(),
    ];
    record(py, "RaydiumClmmBitmapExtension", args)
}

/// `engine_rs.decoded.RaydiumClmmSwapEvent` of a parsed `SwapEvent`.
pub(crate) fn swap_event_record(
    py: Python<'_>,
    ev: RaydiumClmmSwapEvent,
) -> PyResult<Bound<'_, PyAny>> {
    let mut args: Vec<Bound<'_, PyAny>> = ev.keys.iter().map(|k| key(py, k)).collect();
    for a in ev.amounts {
        args.push(obj!(py, a));
    }
    args.extend([
        obj!(py, ev.zero_for_one),
        obj!(py, ev.sqrt_price_x64),
        obj!(py, ev.liquidity),
        obj!(py, ev.tick),
    ]);
    match ev.trade_fees {
        Some([a, b]) => args.extend([obj!(py, a), obj!(py, b)]),
        None => args.extend([obj!(py, py.None()), obj!(py, py.None())]),
    }
    record(py, "RaydiumClmmSwapEvent", args)
}

/// One swap's result (fields as `engine_rs.decoded.RaydiumClmmSwap`), a native record:
/// the kernel is called per quote, and building the dataclass cost more than the swap.
#[pyclass(
    frozen,
    get_all,
    module = "engine_rs._engine",
    name = "RaydiumClmmSwap"
)]
pub struct PyRaydiumClmmSwap {
    amount_in: u64,
    amount_out: u64,
    fee_amount: u64,
    sqrt_price_x64: u128,
    tick_current: i32,
    liquidity: u128,
}

impl From<Swap> for PyRaydiumClmmSwap {
    fn from(s: Swap) -> Self {
        Self {
            amount_in: s.amount_in,
            amount_out: s.amount_out,
            fee_amount: s.fee_amount,
            sqrt_price_x64: s.sqrt_price_x64,
            tick_current: s.tick_current,
            liquidity: s.liquidity,
        }
    }
}

#[pymethods]
impl PyRaydiumClmmSwap {
    fn __repr__(&self) -> String {
        format!(
            "RaydiumClmmSwap(amount_in={}, amount_out={}, fee_amount={}, sqrt_price_x64={}, \
             tick_current={}, liquidity={})",
            self.amount_in,
            self.amount_out,
            self.fee_amount,
            self.sqrt_price_x64,
            self.tick_current,
            self.liquidity
        )
    }
}

fn small<T: TryFrom<i64>>(py: Python<'_>, v: i64, label: &str) -> PyResult<T> {
    T::try_from(v).map_err(|_| {
        raise(
            py,
            "MathOverflowError",
            format!("{v} does not fit in {label}"),
        )
    })
}

/// The program's exact-input swap (see `engine_rs.python.venues.raydium_clmm.swap`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn raydium_clmm_swap(
    py: Python<'_>,
    sqrt_price_x64: U128,
    liquidity: U128,
    tick_current: I32,
    tick_spacing: U64,
    fee_rate: U64,
    fee_on: U64,
    ticks: &Bound<'_, PyAny>,
    amount: U64,
    zero_for_one: bool,
) -> PyResult<PyRaydiumClmmSwap> {
    let spacing: u16 = small(py, i64::try_from(tick_spacing.0).unwrap_or(i64::MAX), "u16")?;
    let fee: u32 = small(py, i64::try_from(fee_rate.0).unwrap_or(i64::MAX), "u32")?;
    let on: u8 = small(py, i64::try_from(fee_on.0).unwrap_or(i64::MAX), "u8")?;
    // SAFETY: `ticks` is a live object borrowed for the call; get_ticks runs no Python code
    let ticks = unsafe { crate::fast::get_ticks(py, ticks.as_ptr())? };
    let s = guard(py, || {
        rc::swap(
            sqrt_price_x64.0,
            liquidity.0,
            tick_current.0,
            spacing,
            fee,
            on,
            &ticks,
            amount.0,
            zero_for_one,
        )
    })?;
    Ok(s.into())
}

/// The swap with the program's fee bookkeeping (see
/// `engine_rs.python.venues.raydium_clmm.raydium_clmm_swap_ledger`): `(swap, lp_fee,
/// protocol_fee, fund_fee, fee_growth_x64, crossings)`.
#[pyfunction]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn raydium_clmm_swap_ledger(
    py: Python<'_>,
    sqrt_price_x64: U128,
    liquidity: U128,
    tick_current: I32,
    tick_spacing: U64,
    fee_rate: U64,
    fee_on: U64,
    protocol_fee_rate: U64,
    fund_fee_rate: U64,
    ticks: &Bound<'_, PyAny>,
    amount: U64,
    zero_for_one: bool,
) -> PyResult<(PyRaydiumClmmSwap, u64, u64, u64, u128, Vec<(i32, u128)>)> {
    let spacing: u16 = small(py, i64::try_from(tick_spacing.0).unwrap_or(i64::MAX), "u16")?;
    let fee: u32 = small(py, i64::try_from(fee_rate.0).unwrap_or(i64::MAX), "u32")?;
    let on: u8 = small(py, i64::try_from(fee_on.0).unwrap_or(i64::MAX), "u8")?;
    let protocol: u32 = small(
        py,
        i64::try_from(protocol_fee_rate.0).unwrap_or(i64::MAX),
        "u32",
    )?;
    let fund: u32 = small(
        py,
        i64::try_from(fund_fee_rate.0).unwrap_or(i64::MAX),
        "u32",
    )?;
    // SAFETY: `ticks` is a live object borrowed for the call; get_ticks runs no Python code
    let ticks = unsafe { crate::fast::get_ticks(py, ticks.as_ptr())? };
    let mut ledger = rc::Ledger::new(protocol, fund);
    let s = guard(py, || {
        rc::swap_ledger(
            sqrt_price_x64.0,
            liquidity.0,
            tick_current.0,
            spacing,
            fee,
            on,
            &ticks,
            amount.0,
            zero_for_one,
            Some(&mut ledger),
        )
    })?;
    Ok((
        s.into(),
        ledger.lp_fee,
        ledger.protocol_fee,
        ledger.fund_fee,
        ledger.fee_growth_x64,
        ledger.crossings,
    ))
}

fn address(
    py: Python<'_>,
    r: arbscope_core::error::Result<([u8; 32], u8)>,
) -> PyResult<(Bound<'_, PyAny>, u8)> {
    let (k, bump) = guard(py, || r)?;
    Ok((key(py, &k), bump))
}

fn key32(py: Python<'_>, v: &Bound<'_, PyAny>, what: &str) -> PyResult<[u8; 32]> {
    owner_of(Some(v))?
        .filter(|k| *k != [0xff; 32])
        .ok_or_else(|| raise(py, "Base58Error", format!("{what}: not a 32-byte address")))
}

/// The Raydium CLMM PDA of `kind` (`pool`, `vault`, `observation`, `bitmap_extension`,
/// `tick_array`, `amm_config`) from its seeds' values, as (address, bump).
#[pyfunction]
#[pyo3(signature = (kind, *args))]
fn raydium_clmm_address<'py>(
    py: Python<'py>,
    kind: &str,
    args: &Bound<'py, PyTuple>,
) -> PyResult<(Bound<'py, PyAny>, u8)> {
    let n = args.len();
    let want = match kind {
        "pool" => 3,
        "vault" | "tick_array" => 2,
        "observation" | "bitmap_extension" | "amm_config" => 1,
        _ => {
            return Err(raise(
                py,
                "InvalidInputError",
                format!("no Raydium CLMM address kind {kind:?}"),
            ))
        }
    };
    if n != want {
        return Err(raise(
            py,
            "InvalidInputError",
            format!("{kind} takes {want} seeds, got {n}"),
        ));
    }
    let a = |i: usize, what: &str| -> PyResult<[u8; 32]> { key32(py, &args.get_item(i)?, what) };
    match kind {
        "pool" => {
            let (c, m0, m1) = (a(0, "config")?, a(1, "mint_0")?, a(2, "mint_1")?);
            address(py, pda::pool_address(&c, &m0, &m1))
        }
        "vault" => {
            let (p, m) = (a(0, "pool")?, a(1, "mint")?);
            address(py, pda::vault_address(&p, &m))
        }
        "observation" => address(py, pda::observation_address(&a(0, "pool")?)),
        "bitmap_extension" => address(py, pda::bitmap_extension_address(&a(0, "pool")?)),
        "tick_array" => {
            let p = a(0, "pool")?;
            let start: I32 = args.get_item(1)?.extract()?;
            address(py, pda::tick_array_address(&p, start.0))
        }
        _ => {
            let index: U64 = args.get_item(0)?.extract()?;
            let index: u16 = small(py, i64::try_from(index.0).unwrap_or(i64::MAX), "u16")?;
            address(py, pda::amm_config_address(index))
        }
    }
}

/// Raydium CLMM tick-array starts around `center_tick` (60 ticks of `tick_spacing` per
/// array), `arrays_each_side` arrays each side.
#[pyfunction]
fn raydium_clmm_tick_array_starts(
    py: Python<'_>,
    tick_spacing: I64,
    center_tick: I64,
    arrays_each_side: I64,
) -> PyResult<Vec<i32>> {
    guard(py, || {
        pda::tick_array_starts(tick_spacing.0, center_tick.0, arrays_each_side.0)
    })
}

/// The program's `get_sqrt_price_at_tick` (InvalidTickError out of range).
#[pyfunction]
fn raydium_clmm_sqrt_price_at_tick(py: Python<'_>, tick: I32) -> PyResult<u128> {
    guard(py, || {
        rc::math::sqrt_price_at_tick(tick.0).map_err(rc::fail_error)
    })
}

/// The program's `get_tick_at_sqrt_price` (InvalidTickError out of range).
#[pyfunction]
fn raydium_clmm_tick_at_sqrt_price(py: Python<'_>, sqrt_price_x64: U128) -> PyResult<i32> {
    guard(py, || {
        rc::math::tick_at_sqrt_price(sqrt_price_x64.0).map_err(rc::fail_error)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(raydium_clmm_sqrt_price_at_tick, m)?)?;
    m.add_function(wrap_pyfunction!(raydium_clmm_tick_at_sqrt_price, m)?)?;
    m.add_function(wrap_pyfunction!(decode_raydium_clmm, m)?)?;
    m.add_function(wrap_pyfunction!(decode_raydium_clmm_config, m)?)?;
    m.add_function(wrap_pyfunction!(decode_raydium_clmm_tick_array, m)?)?;
    m.add_function(wrap_pyfunction!(decode_raydium_clmm_bitmap_extension, m)?)?;
    m.add_function(wrap_pyfunction!(raydium_clmm_swap, m)?)?;
    m.add_function(wrap_pyfunction!(raydium_clmm_swap_ledger, m)?)?;
    m.add_function(wrap_pyfunction!(raydium_clmm_address, m)?)?;
    m.add_function(wrap_pyfunction!(raydium_clmm_tick_array_starts, m)?)?;
    Ok(())
}
