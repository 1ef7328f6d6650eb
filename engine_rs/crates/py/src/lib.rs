//! `engine_rs._engine`: a thin PyO3 skin over `arbscope-core`.
//!
//! Rules for every binding here: errors become the classes in `engine_rs.errors` (see
//! [`errors::to_py`]); panics are caught by [`errors::guard`] and become `InternalError`
//! instead of a `PanicException` that `except Exception` would miss; integers cross as
//! Python `int`, never through float; the GIL is released only around real work.

use pyo3::prelude::*;

mod amm;
mod args;
mod decode;
mod dedup;
mod errors;
mod fast;
mod fees;
mod graph;
mod grpc;
mod indicators;
mod ingest;
mod journal;
mod pda;
mod pricing;
mod scorer;
mod token2022;
mod tx;
mod venues;

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "BUILD_PROFILE",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    amm::register(m)?;
    graph::register(m)?;
    grpc::register(m)?;
    scorer::register(m)?;
    pricing::register(m)?;
    fees::register(m)?;
    dedup::register(m)?;
    pda::register(m)?;
    indicators::register(m)?;
    decode::register(m)?;
    venues::register(m)?;
    ingest::register(m)?;
    journal::register(m)?;
    token2022::register(m)?;
    tx::register(m)?;
    Ok(())
}
