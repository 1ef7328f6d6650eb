//! Bindings for `arbscope_core::venues::raydium_cpmm`: `decode_raydium_cpmm`,
//! `decode_raydium_amm_config` and the `SwapEvent` record.

use arbscope_core::venues::raydium_cpmm::{self as cp, SwapEvent};
use pyo3::prelude::*;

use crate::decode::{add_functions, decoders, key, obj, rec, record};

decoders! {
    /// Raydium CP-Swap `PoolState` -> `engine_rs.decoded.RaydiumCpmmPool`.
    fn decode_raydium_cpmm(py, p = cp::decode_raydium_cpmm) {
        pool_record(py, &p)
    }

    /// Raydium CP-Swap `AmmConfig` -> `engine_rs.decoded.RaydiumAmmConfig`.
    fn decode_raydium_amm_config(py, c = cp::decode_raydium_amm_config) {
        rec!(py, "RaydiumAmmConfig", c => bump, disable_create_pool, index, each rates,
            key protocol_owner, key fund_owner, creator_fee_rate)
    }
}

/// A decoded CP-Swap pool as its record.
pub(crate) fn pool_record<'py>(
    py: Python<'py>,
    p: &cp::RaydiumCpmmPool,
) -> PyResult<Bound<'py, PyAny>> {
    rec!(py, "RaydiumCpmmPool", p => keys keys, each u8s, each u64s, creator_fee_on,
        enable_creator_fee, creator_fees[0], creator_fees[1])
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
    add_functions!(m, decode_raydium_cpmm, decode_raydium_amm_config)
}
