//! Cycle search lives with the graph it walks: see `graph.rs` (negative cycles, enumeration, the pool -> cycles index).
