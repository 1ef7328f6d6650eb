//! Bindings for `arbscope_core::token2022`: a Token-2022 mint's transfer fee and the
//! extensions arbscope refuses. A config crosses as `(older, newer)`, each
//! `(epoch, maximum_fee, transfer_fee_basis_points)` of ints.

use arbscope_core::decode::TransferFee;
use arbscope_core::token2022 as t22;
use pyo3::prelude::*;

use crate::args::U64;
use crate::decode::{add_functions, data_of, owner_of};
use crate::errors::{guard, raise};

type FeeArg = (U64, U64, U64);

fn fee_of(py: Python<'_>, f: FeeArg) -> PyResult<TransferFee> {
    match u16::try_from(f.2 .0) {
        Ok(b) => Ok((f.0 .0, f.1 .0, b)),
        Err(_) => Err(raise(
            py,
            "InvalidInputError",
            format!(
                "transfer_fee_basis_points {} is above {}",
                f.2 .0,
                t22::MAX_FEE_BASIS_POINTS
            ),
        )),
    }
}

fn config_of(py: Python<'_>, c: (FeeArg, FeeArg)) -> PyResult<(TransferFee, TransferFee)> {
    Ok((fee_of(py, c.0)?, fee_of(py, c.1)?))
}

/// One Python function per fee kernel: `name(config, epoch, amount)`, the config checked
/// first.
macro_rules! fee_kernels {
    ($($(#[$m:meta])* fn $name:ident($amount:ident);)*) => {$(
        $(#[$m])*
        #[pyfunction]
        fn $name(py: Python<'_>, config: (FeeArg, FeeArg), epoch: U64, $amount: U64) -> PyResult<u64> {
            let c = config_of(py, config)?;
            guard(py, || t22::$name(&c, epoch.0, $amount.0))
        }
    )*};
}

fee_kernels! {
    /// The fee withheld when `amount` is sent at `epoch` (spl-token-2022's
    /// `calculate_epoch_fee`).
    fn transfer_fee(amount);
    /// What arrives when `amount` is sent at `epoch` (`calculate_post_fee_amount`).
    fn post_fee_amount(amount);
    /// The amount to send at `epoch` so that `post_amount` arrives
    /// (`calculate_pre_fee_amount`).
    fn pre_fee_amount(post_amount);
    /// The fee on the amount `pre_fee_amount` sends (`calculate_inverse_epoch_fee`).
    fn inverse_transfer_fee(post_amount);
}

/// The extensions of a mint that arbscope refuses to swap through, by name.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn refused_extensions<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Vec<String>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    guard(py, || t22::refused_extensions(&d, o.as_ref()))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(
        m,
        transfer_fee,
        post_fee_amount,
        pre_fee_amount,
        inverse_transfer_fee,
        refused_extensions
    )
}
