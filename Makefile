# Retain: the two commands of the README, and the pieces they stand on.
#   make up     start the whole suite locally (services + gateway) with a data directory
#   make test   check generated code, build, and run every test
.PHONY: up test deps check-generated build bench

SWIFT ?= swift

deps:
	@scripts/install-deps.sh

check-generated: deps
	scripts/generate-proto.sh --check

build: deps
	$(SWIFT) build --build-tests

test: check-generated
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

up: deps
	$(SWIFT) build -c release
	.build/release/retain up --data-dir data

bench: deps
	$(SWIFT) build -c release
	.build/release/retain-bench echo
	.build/release/retain-storage bench
