//! arbscope-core: the computation behind arbscope, free of any Python.
//!
//! Every public function here has a pure-Python twin in `engine_rs/python/` with the
//! same name, arguments and results; the parity tests prove the two agree.
//! Nothing in this crate does I/O, and nothing `unwrap()`s data from outside.

pub mod amm;
pub mod b58;
pub mod decode;
pub mod dedup;
pub mod derive;
pub mod error;
pub mod fees;
pub mod graph;
pub mod indicators;
pub mod ingest;
pub mod journal;
pub mod pda;
pub mod pricing;
pub mod scorer;
pub mod sizing;
pub mod token2022;
pub mod tx;
pub mod venues;

pub use error::{EngineError, Result};
