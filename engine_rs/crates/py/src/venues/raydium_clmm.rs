//! Bindings for `arbscope_core::venues::raydium_clmm`: its decoders, its `SwapEvent`
//! record, its PDAs and the swap kernel `raydium_clmm_swap` (conversions only).

use arbscope_core::venues::raydium_clmm::pda;
use arbscope_core::venues::raydium_clmm::{self as rc, RaydiumClmmSwapEvent, Swap};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args::{I32, I64, U128, U64};
use crate::decode::{add_functions, decoders, key, native_record, obj, owner_of, rec, record};
use crate::errors::{guard, raise};

decoders! {
    /// Raydium CLMM `PoolState` -> `engine_rs.decoded.RaydiumClmmPool`.
    fn decode_raydium_clmm(py, p = rc::decode_pool) {
        pool_record(py, &p)
    }

    /// Raydium CLMM `AmmConfig` -> `engine_rs.decoded.RaydiumClmmConfig`.
    fn decode_raydium_clmm_config(py, c = rc::decode_amm_config) {
        rec!(py, "RaydiumClmmConfig", c => bump, index, key owner, protocol_fee_rate,
            trade_fee_rate, tick_spacing, fund_fee_rate, key fund_owner)
    }

    /// Raydium CLMM `TickArrayState` -> `engine_rs.decoded.RaydiumClmmTickArray`.
    fn decode_raydium_clmm_tick_array(py, t = rc::decode_tick_array) {
        let ticks = t.ticks.iter().map(|x| {
            let orders = (x.orders_amount, x.part_filled_orders_remaining);
            (x.offset, x.tick, x.liquidity_net, x.liquidity_gross, orders.0, orders.1)
        });
        rec!(py, "RaydiumClmmTickArray", t => key pool_id, start_tick_index,
            initialized_tick_count, [PyTuple::new(py, ticks)?.into_any()])
    }

    /// Raydium CLMM `TickArrayBitmapExtension` ->
    /// `engine_rs.decoded.RaydiumClmmBitmapExtension`.
    fn decode_raydium_clmm_bitmap_extension(py, e = rc::decode_bitmap_extension) {
        rec!(py, "RaydiumClmmBitmapExtension", e => key pool_id, tuple positive, tuple negative)
    }
}

/// `engine_rs.decoded.RaydiumClmmPool` of a decoded pool account.
pub(crate) fn pool_record<'py>(
    py: Python<'py>,
    p: &rc::RaydiumClmmPool,
) -> PyResult<Bound<'py, PyAny>> {
    rec!(py, "RaydiumClmmPool", p => bump, keys keys, mint_decimals[0], mint_decimals[1],
        tick_spacing, liquidity, sqrt_price_x64, tick_current, fee_growth_global_x64[0],
        fee_growth_global_x64[1], protocol_fees[0], protocol_fees[1], status, fee_on,
        tuple tick_array_bitmap, fund_fees[0], fund_fees[1], open_time, recent_epoch,
        dynamic_fee)
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

native_record! {
    /// One swap's result (fields as `engine_rs.decoded.RaydiumClmmSwap`), a native record:
    /// the kernel is called per quote, and building the dataclass cost more than the swap.
    PyRaydiumClmmSwap = "RaydiumClmmSwap" from Swap {
        amount_in: u64,
        amount_out: u64,
        fee_amount: u64,
        sqrt_price_x64: u128,
        tick_current: i32,
        liquidity: u128,
    }
}

/// `v` as the program's narrower type (MathOverflowError when it does not fit).
fn small<T: TryFrom<u64>>(py: Python<'_>, v: U64, label: &str) -> PyResult<T> {
    let v = v.0;
    T::try_from(v).map_err(|_| {
        raise(
            py,
            "MathOverflowError",
            format!("{v} does not fit in {label}"),
        )
    })
}

/// The pool's swap arguments as the core takes them.
type Pool = (U128, U128, I32, U64, U64, U64);

/// The swap of `pool` on `ticks`, with the program's fee bookkeeping when its
/// `(protocol_fee_rate, fund_fee_rate)` are given (the arguments checked in order).
fn swap_with(
    py: Python<'_>,
    pool: Pool,
    ticks: &Bound<'_, PyAny>,
    amount: U64,
    zero_for_one: bool,
    rates: Option<(U64, U64)>,
) -> PyResult<(PyRaydiumClmmSwap, Option<rc::Ledger>)> {
    let (sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, fee_on) = pool;
    let spacing: u16 = small(py, tick_spacing, "u16")?;
    let fee: u32 = small(py, fee_rate, "u32")?;
    let on: u8 = small(py, fee_on, "u8")?;
    let mut ledger = match rates {
        Some((protocol, fund)) => Some(rc::Ledger::new(
            small(py, protocol, "u32")?,
            small(py, fund, "u32")?,
        )),
        None => None,
    };
    // SAFETY: `ticks` is a live object borrowed for the call; get_ticks runs no Python code
    let ticks = unsafe { crate::fast::get_ticks(py, ticks.as_ptr())? };
    let (sqrt, liq, tick) = (sqrt_price_x64.0, liquidity.0, tick_current.0);
    let s = guard(py, || {
        let ledger = ledger.as_mut();
        rc::swap_ledger(
            sqrt,
            liq,
            tick,
            spacing,
            fee,
            on,
            &ticks,
            amount.0,
            zero_for_one,
            ledger,
        )
    })?;
    Ok((s.into(), ledger))
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
    let pool = (
        sqrt_price_x64,
        liquidity,
        tick_current,
        tick_spacing,
        fee_rate,
        fee_on,
    );
    Ok(swap_with(py, pool, ticks, amount, zero_for_one, None)?.0)
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
    let pool = (
        sqrt_price_x64,
        liquidity,
        tick_current,
        tick_spacing,
        fee_rate,
        fee_on,
    );
    let rates = Some((protocol_fee_rate, fund_fee_rate));
    let (s, ledger) = swap_with(py, pool, ticks, amount, zero_for_one, rates)?;
    let ledger = ledger.unwrap_or_else(|| rc::Ledger::new(0, 0));
    Ok((
        s,
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
            let index: u16 = small(py, args.get_item(0)?.extract()?, "u16")?;
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
    add_functions!(
        m,
        raydium_clmm_sqrt_price_at_tick,
        raydium_clmm_tick_at_sqrt_price,
        decode_raydium_clmm,
        decode_raydium_clmm_config,
        decode_raydium_clmm_tick_array,
        decode_raydium_clmm_bitmap_extension,
        raydium_clmm_swap,
        raydium_clmm_swap_ledger,
        raydium_clmm_address,
        raydium_clmm_tick_array_starts
    )
}
