"""`python -m bench`: the Rust vs Python vs peer table (see engine_rs.kernels)."""
