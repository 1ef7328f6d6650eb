//! Bindings for `arbscope_core::venues::raydium_cpmm`: `decode_raydium_cpmm`,
//! `decode_raydium_amm_config` and the `SwapEvent` record.

use arbscope_core::venues::raydium_cpmm::{self as cp, SwapEvent};
use pyo3::prelude::*;

use crate::decode::{data_of, key, obj, owner_of, record};
use crate::errors::guard;

/// Raydium CP-Swap `PoolState` -> `engine_rs.decoded.RaydiumCpmmPool`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_cpmm<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let p = guard(py, || cp::decode_raydium_cpmm(&d, o.as_ref()))?;
    pool_record(py, &p)
}

/// A decoded CP-Swap pool as its record.
pub(crate) fn pool_record<'py>(
    py: Python<'py>,
    p: &cp::RaydiumCpmmPool,
) -> PyResult<Bound<'py, PyAny>> {
    let mut args: Vec<Bound<'py, PyAny>> = p.keys.iter().map(|k| key(py, k)).collect();
    for v in p.u8s {
        args.push(obj!(py, v));
    }
    for v in p.u64s {
        args.push(obj!(py, v));
    }
    args.push(obj!(py, p.creator_fee_on));
    args.push(obj!(py, p.enable_creator_fee));
    args.push(obj!(py, p.creator_fees[0]));
    args.push(obj!(py, p.creator_fees[1]));
    record(py, "RaydiumCpmmPool", args)
}

/// Raydium CP-Swap `AmmConfig` -> `engine_rs.decoded.RaydiumAmmConfig`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_amm_config<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let c = guard(py, || cp::decode_raydium_amm_config(&d, o.as_ref()))?;
    let mut args: Vec<Bound<'py, PyAny>> = vec![
        obj!(py, c.bump),
        obj!(py, c.disable_create_pool),
        obj!(py, c.index),
    ];
    for v in c.rates {
        args.push(obj!(py, v));
    }
    args.push(key(py, &c.protocol_owner));
    args.push(key(py, &c.fund_owner));
    args.push(obj!(py, c.creator_fee_rate));
    record(py, "RaydiumAmmConfig", args)
}

/// `engine_rs.decoded.CpmmSwapEvent` of a parsed `SwapEvent`.
pub(crate) fn swap_event_record(py: Python<'_>, ev: SwapEvent) -> PyResult<Bound<'_, PyAny>> {
    let mut args = vec![key(py, &ev.pool_id)];
    for a in ev.amounts {
        args.push(obj!(py, a));
    }
    args.push(obj!(py, ev.base_input));
    if let Some((im, om, tf, cf, on_in)) = ev.newer {
        args.extend([
            key(py, &im),
            key(py, &om),
            obj!(py, tf),
            obj!(py, cf),
            obj!(py, on_in),
        ]);
    }
    record(py, "CpmmSwapEvent", args)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_raydium_cpmm, m)?)?;
    m.add_function(wrap_pyfunction!(decode_raydium_amm_config, m)?)?;
    Ok(())
}
