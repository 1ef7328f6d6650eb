//! Bindings for `arbscope_core::venues::pump_amm`: `decode_pump_amm_pool`,
//! `decode_pump_amm_global_config` and the `PumpSwapEvent` record.

use arbscope_core::venues::pump_amm::{self as pa, PumpState, PumpSwapEvent};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args::U64;
use crate::decode::{add_functions, decoders, key, obj, rec, record};
use crate::errors::guard;

decoders! {
    /// PumpSwap `Pool` -> `engine_rs.decoded.PumpAmmPool`.
    fn decode_pump_amm_pool(py, p = pa::decode_pump_amm_pool) {
        pool_record(py, &p)
    }

    /// PumpSwap `GlobalConfig` -> `engine_rs.decoded.PumpAmmGlobalConfig`.
    fn decode_pump_amm_global_config(py, c = pa::decode_pump_amm_global_config) {
        let recipients = c.protocol_fee_recipients.iter().map(|k| key(py, k));
        rec!(py, "PumpAmmGlobalConfig", c => key admin, lp_fee_basis_points,
            protocol_fee_basis_points, disable_flags, [PyTuple::new(py, recipients)?.into_any()],
            coin_creator_fee_basis_points)
    }

    /// pump_fees `FeeConfig` -> `engine_rs.decoded.PumpFeeConfig`.
    fn decode_pump_fee_config(py, c = pa::decode_pump_fee_config) {
        let tiers = |ts: &[(u128, pa::Fees)]| -> PyResult<Bound<'_, PyAny>> {
            let items = ts
                .iter()
                .map(|(t, f)| PyTuple::new(py, [obj!(py, *t), obj!(py, f[0]), obj!(py, f[1]), obj!(py, f[2])]))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyTuple::new(py, items)?.into_any())
        };
        rec!(py, "PumpFeeConfig", c => bump, key admin, tuple flat_fees, [tiers(&c.fee_tiers)?],
            [tiers(&c.stable_fee_tiers)?])
    }
}

/// A decoded PumpSwap pool as its record.
pub(crate) fn pool_record<'py>(
    py: Python<'py>,
    p: &pa::PumpAmmPool,
) -> PyResult<Bound<'py, PyAny>> {
    rec!(py, "PumpAmmPool", p => pool_bump, index, keys keys, lp_supply, key coin_creator,
        is_mayhem_mode, is_cashback_coin, virtual_quote_reserves)
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
    add_functions!(
        m,
        pump_swap,
        decode_pump_amm_pool,
        decode_pump_amm_global_config,
        decode_pump_fee_config
    )
}
