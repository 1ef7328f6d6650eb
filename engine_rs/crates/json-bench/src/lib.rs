//! The feed hot path's JSON reader ([`arbscope_core::ingest::json`], hand-written to read
//! frames exactly as Python's `json.loads` does) against well-kept Rust JSON parsers, on a
//! recorded frame mix. `benches/json_parsers.rs` times them; `make bench` runs it through
//! `python -m bench.json_parsers`, whose `--record` writes the mix anew.
//!
//! - [`corpus`]: the recorded session (frames and the inputs that set the ingest up), and
//!   its replay into a fresh [`arbscope_core::ingest::FeedIngest`].
//! - [`readers`]: each parser reading, from one frame, exactly what the ingest reads
//!   (a [`readers::Frame`]); the hand-written reader's result is turned into one too, so
//!   the bench checks that every parser read the same values before timing any.

pub mod corpus;
pub mod readers;
