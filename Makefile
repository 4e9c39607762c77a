# Retain: the two commands of the README, and the pieces they stand on.
#   make up     start the whole suite locally (services + gateway) with a data directory
#   make demo   run the demo scenario through the gateway (its own suite, in a temporary directory)
#   make test   check generated code, build, and run every test
#   make fuzz   run the fuzz target for FUZZ_SECONDS (CI runs it after the tests)
.PHONY: up demo test deps check-generated check-format build bench bench-anchors bench-instructions fuzz test-python-client test-console

SWIFT ?= swift

deps:
	@scripts/install-deps.sh

check-generated: deps
	scripts/generate-proto.sh --check
	python3 clients/python/generate.py --check

# Every Swift file as scripts/format.sh (the toolchain's swift-format, .swift-format) leaves it.
check-format:
	scripts/format.sh --check

build: deps
	$(SWIFT) build --build-tests

test: check-generated check-format
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel
	RETAIN_BIN_DIR=$$($(SWIFT) build --show-bin-path) Tests/GRPCFrontDoor/run_tests.sh
	RETAIN_BIN_DIR=$$($(SWIFT) build --show-bin-path) clients/python/run_tests.sh
	RETAIN_BIN_DIR=$$($(SWIFT) build --show-bin-path) CONSOLE_SCREENSHOT_DIR=$$(mktemp -d) Tests/Console/run_tests.sh

# The console in headless Chromium against a seeded suite (part of `make test`, which writes
# its screenshots to a temporary directory); this target refreshes the README's screenshots
# in docs/console/.
test-console: build
	RETAIN_BIN_DIR=$$($(SWIFT) build --show-bin-path) Tests/Console/run_tests.sh

# The Python client package's own tests, against the built servers (part of `make test`).
test-python-client: build
	RETAIN_BIN_DIR=$$($(SWIFT) build --show-bin-path) clients/python/run_tests.sh

up: deps
	$(SWIFT) build -c release
	.build/release/retain up --data-dir data

demo: deps
	$(SWIFT) build -c release
	.build/release/retain demo

bench: deps
	$(SWIFT) build -c release
	.build/release/retain-bench echo
	.build/release/retain-storage bench
	.build/release/retain-bench gateway

# The three anchors of the targets, one after another in one run: the echo beside bare SwiftNIO
# and grpc-swift 2, profile reads through `retain load` beside redis-benchmark GET, and ledger
# transfers beside PostgreSQL. Installs Debian's redis and PostgreSQL 15 when missing.
bench-anchors: deps
	@scripts/install-deps.sh --bench
	$(SWIFT) build -c release
	.build/release/retain-bench echo
	.build/release/retain-bench grpc-echo
	scripts/bench_profile_reads.py
	.build/release/retain-bench ledger

# Instructions per call (callgrind, not wall clock) of the echo beside bare SwiftNIO and of each
# service's hot path, client and server apart (needs valgrind).
bench-instructions: deps
	$(SWIFT) build -c release
	scripts/bench_echo_instructions.sh
	scripts/bench_instructions.sh

# libFuzzer over the frame decoder and the decoding of every message type, bounded in time.
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)
