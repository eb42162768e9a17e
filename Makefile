# Meshward: `make demo` and `make test` are the contract (see README).
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-wasip1
WASM_DIR := target/$(WASM_TARGET)/wasm
STACK_INFO := build/stack.env
STACK_PID := build/stack.pid

VERSION ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
.PHONY: setup build wasm wasm-oci test lint unit e2e sql-compat demo up down bench quality soak clean

## setup: install everything a fresh machine needs (idempotent)
setup:
	@bash scripts/setup.sh

## wasm: the filter and the no-op baseline filter, for Envoy
wasm: setup
	$(CARGO) build --target $(WASM_TARGET) --profile wasm -p meshward-filter -p meshward-noop-filter

## wasm-oci: the filter as an OCI Wasm artifact in build/oci/meshward-filter (push it with skopeo or oras)
wasm-oci: wasm
	python3 scripts/wasm_oci.py target/$(WASM_TARGET)/wasm/meshward_filter.wasm build/oci/meshward-filter $(VERSION)

## build: the collector, the harness binaries and the filters
build: setup wasm
	$(CARGO) build --workspace --bins

## lint: formatting and clippy (native and wasm32), warnings are errors
lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --target $(WASM_TARGET) -p meshward-filter -- -D warnings

## test: lint, unit tests, end-to-end tests (real Envoy, collector, ClickHouse), SQL on old and new ClickHouse
test: build lint
	@rm -rf build/runs  # the servers' folders of the previous run; this run's stay for reading
	$(CARGO) test --workspace --no-fail-fast

## soak: fault-injection soak with release builds (every answered request stored once or counted as dropped); writes RELIABILITY.md
soak: build
	$(CARGO) build --release -p meshward -p meshward-e2e --bin meshward --bin meshward-soak
	MESHWARD_BIN=target/release/meshward target/release/meshward-soak --rounds 4 --rate 200 --write RELIABILITY.md

## quality: measure detection on the labelled corpora (../shared/corpora or MESHWARD_CORPORA) and sqlmap's payloads through Envoy into DETECTION.md
quality: build
	$(CARGO) build --release -p meshward-e2e --bin meshward-quality
	target/release/meshward-quality --write DETECTION.md

## demo: start the stack, drive traffic through Envoy, print what landed in ClickHouse, stop
demo: build
	$(CARGO) run -q -p meshward-e2e --bin meshward-stack -- demo

## up: start the stack in the background and print how to reach it; `make down` stops it
up: build
	@mkdir -p build; rm -f $(STACK_INFO)
	@if [ -f $(STACK_PID) ] && kill -0 $$(cat $(STACK_PID)) 2>/dev/null; then echo "already up (make down first)"; cat $(STACK_INFO); exit 1; fi
	@nohup target/debug/meshward-stack up --info-file $(STACK_INFO) > build/stack.log 2>&1 & echo $$! > $(STACK_PID)
	@for i in $$(seq 1 120); do [ -f $(STACK_INFO) ] && break; kill -0 $$(cat $(STACK_PID)) 2>/dev/null || { cat build/stack.log; exit 1; }; sleep 0.5; done
	@cat $(STACK_INFO)
	@echo "stop it with: make down"

down:
	@if [ -f $(STACK_PID) ]; then kill $$(cat $(STACK_PID)) 2>/dev/null || true; \
	  for i in $$(seq 1 40); do kill -0 $$(cat $(STACK_PID)) 2>/dev/null || break; sleep 0.25; done; \
	  rm -f $(STACK_PID) $(STACK_INFO); echo "stack stopped"; else echo "no stack running"; fi

## bench: release builds, filter and collector benchmarks side by side; writes BENCHMARKS.md
bench:
	@bash scripts/setup.sh wrk time valgrind  # everything `make setup` installs, plus the load generator, GNU time and cachegrind
	$(CARGO) build --target $(WASM_TARGET) --profile wasm -p meshward-filter -p meshward-noop-filter
	$(CARGO) build --release -p meshward -p meshward-e2e --bins
	$(CARGO) build --profile wasm -p meshward-core --example exchange_loop
	@mkdir -p build
	$(CARGO) bench -p meshward-core --bench core -- --noplot | tee build/core-bench.txt
	MESHWARD_BIN=target/release/meshward target/release/meshward-bench --core-bench build/core-bench.txt --exchange-loop target/wasm/examples/exchange_loop --write BENCHMARKS.md

clean:
	rm -rf build target/wasm32-wasip1
