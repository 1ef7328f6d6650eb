"""`python -m bench`: the Rust vs Python vs peer table (the cases: bench/cases.py)."""
