//! Bindings for `arbscope_core::venues::pump_amm`: `decode_pump_amm_pool`,
//! `decode_pump_amm_global_config` and the `PumpSwapEvent` record.

use arbscope_core::venues::pump_amm::{self as pa, PumpState, PumpSwapEvent};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args::U64;
use crate::decode::{data_of, key, obj, owner_of, record};
use crate::errors::guard;

/// PumpSwap `Pool` -> `engine_rs.decoded.PumpAmmPool`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_pump_amm_pool<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let p = guard(py, || pa::decode_pump_amm_pool(&d, o.as_ref()))?;
    pool_record(py, &p)
}

/// A decoded PumpSwap pool as its record.
pub(crate) fn pool_record<'py>(
    py: Python<'py>,
    p: &pa::PumpAmmPool,
) -> PyResult<Bound<'py, PyAny>> {
    let mut args: Vec<Bound<'py, PyAny>> = vec![obj!(py, p.pool_bump), obj!(py, p.index)];
    args.extend(p.keys.iter().map(|k| key(py, k)));
    args.push(obj!(py, p.lp_supply));
    args.push(key(py, &p.coin_creator));
    args.push(obj!(py, p.is_mayhem_mode));
    args.push(obj!(py, p.is_cashback_coin));
    args.push(obj!(py, p.virtual_quote_reserves));
    record(py, "PumpAmmPool", args)
}

/// PumpSwap `GlobalConfig` -> `engine_rs.decoded.PumpAmmGlobalConfig`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_pump_amm_global_config<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let c = guard(py, || pa::decode_pump_amm_global_config(&d, o.as_ref()))?;
    let recipients: Vec<Bound<'py, PyAny>> = c
        .protocol_fee_recipients
        .iter()
        .map(|k| key(py, k))
        .collect();
    let args: Vec<Bound<'py, PyAny>> = vec![
        key(py, &c.admin),
        obj!(py, c.lp_fee_basis_points),
        obj!(py, c.protocol_fee_basis_points),
        obj!(py, c.disable_flags),
        PyTuple::new(py, recipients)?.into_any(),
        obj!(py, c.coin_creator_fee_basis_points),
    ];
    record(py, "PumpAmmGlobalConfig", args)
}

/// pump_fees `FeeConfig` -> `engine_rs.decoded.PumpFeeConfig`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_pump_fee_config<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let c = guard(py, || pa::decode_pump_fee_config(&d, o.as_ref()))?;
    let tiers = |ts: &[(u128, pa::Fees)]| -> PyResult<Bound<'py, PyAny>> {
        let items = ts
            .iter()
            .map(|(t, f)| {
                PyTuple::new(
                    py,
                    [obj!(py, *t), obj!(py, f[0]), obj!(py, f[1]), obj!(py, f[2])],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, items)?.into_any())
    };
    let flat = PyTuple::new(py, c.flat_fees)?.into_any();
    let args: Vec<Bound<'py, PyAny>> = vec![
        obj!(py, c.bump),
        key(py, &c.admin),
        flat,
        tiers(&c.fee_tiers)?,
        tiers(&c.stable_fee_tiers)?,
    ];
    record(py, "PumpFeeConfig", args)
}

/// `engine_rs.decoded.PumpSwapEvent` of a parsed `BuyEvent` / `SellEvent`.
pub(crate) fn swap_event_record(py: Python<'_>, ev: PumpSwapEvent) -> PyResult<Bound<'_, PyAny>> {
    let mut args = vec![obj!(py, ev.buy), obj!(py, ev.timestamp)];
    for a in ev.amounts {
        args.push(obj!(py, a));
    }
    args.push(key(py, &ev.pool));
    if let Some((bps, fee)) = ev.creator_fee {
        args.push(obj!(py, bps));
        args.push(obj!(py, fee));
    }
    record(py, "PumpSwapEvent", args)
}

/// One PumpSwap swap, exact in: `sell` (base in, `a_to_b`) or `buy_exact_quote_in`
/// (quote in); None when the program would refuse it (fees not covered).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn pump_swap(
    py: Python<'_>,
    base_reserve: U64,
    quote_reserve: U64,
    lp_fee_bps: U64,
    protocol_fee_bps: U64,
    creator_fee_bps: U64,
    amount: U64,
    a_to_b: bool,
) -> PyResult<Option<u64>> {
    let s = guard(py, || {
        PumpState::checked(
            "pump_swap",
            base_reserve.0,
            quote_reserve.0,
            (lp_fee_bps.0, protocol_fee_bps.0, creator_fee_bps.0),
            0,
        )
    })?;
    Ok(if a_to_b {
        s.sell(amount.0)
    } else {
        s.buy(amount.0)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pump_swap, m)?)?;
    m.add_function(wrap_pyfunction!(decode_pump_amm_pool, m)?)?;
    m.add_function(wrap_pyfunction!(decode_pump_amm_global_config, m)?)?;
    m.add_function(wrap_pyfunction!(decode_pump_fee_config, m)?)?;
    Ok(())
}
