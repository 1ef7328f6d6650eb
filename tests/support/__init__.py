"""What the tests share: helpers, fake endpoints, oracles and waits (no tests here). A test
module imports from this package, never from another test module (tests/test_layout.py)."""
