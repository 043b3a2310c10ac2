# Sluice build entry points. `make help` lists the targets.
#
# `make test` is what CI runs (.ci/run): it starts the test services
# (PostgreSQL, MariaDB, FerretDB — see scripts/test-services.sh), installs the
# test tools that are missing (wat2wasm, the clang toolchain for examples/c,
# chromium for the console's browser test — scripts/tools.sh), checks
# formatting, vets, lints the OpenAPI document (Redocly, from npm), runs every
# module's tests, and always stops FerretDB again.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Go lives in /usr/local/go/bin on our machines; CI's PATH may not have it.
export PATH := $(PATH):/usr/local/go/bin

GO ?= go
TEST_TIMEOUT ?= 12m
BENCHTIME ?= 1s
# Which benchmarks `make bench` runs (a -bench pattern), e.g. make bench BENCH=Hostile,
# and in which packages, e.g. make bench BENCH=SideBySide BENCHPKG=./internal/sidebyside.
BENCH ?= .
BENCHPKG ?= ./...
# Extra flags for every `go test`, e.g. make test TESTFLAGS='-run TestLogin -v'.
TESTFLAGS ?=

# Test service locations (docs/contract.md "Test services"); override from the environment.
export SLUICE_TEST_PG_DSN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export SLUICE_TEST_MYSQL_DSN ?= root@tcp(127.0.0.1:3306)/test
export SLUICE_TEST_MONGO_URI ?= mongodb://127.0.0.1:27017/

SERVICES := scripts/test-services.sh
TOOLS := scripts/tools.sh
# Nested modules tested with the host toolchain (when they have tests).
SUBMODULES = $(patsubst %/go.mod,%,$(wildcard guest-sdk/go.mod examples/*/go.mod internal/jsrt/runtime/go.mod))
EXAMPLES = $(patsubst %/go.mod,%,$(wildcard examples/*/go.mod))
# C examples: a build.sh instead of a go.mod (examples/c).
C_EXAMPLES = $(patsubst %/build.sh,%,$(wildcard examples/*/build.sh))

.PHONY: help build run examples test check tools fmt-check vet openapi-lint test-root test-modules \
	services-up services-down bench clean

help: ## list targets
	@echo 'Sluice make targets:'
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

build: ## build the sluice binary into bin/sluice
	$(GO) build -o bin/sluice ./cmd/sluice

run: ## run the server on the embedded default store
	$(GO) run ./cmd/sluice serve

examples: ## build every examples/NAME module into examples/NAME/NAME.wasm (C ones when clang is installed)
	@if [ -z "$(EXAMPLES)" ]; then echo 'examples: no example modules (examples/*/go.mod); nothing to build'; fi
	@for dir in $(EXAMPLES); do \
		name=$$(basename "$$dir"); \
		echo "examples: $$dir/$$name.wasm"; \
		(cd "$$dir" && GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -o "$$name.wasm" .); \
	done
	@for dir in $(C_EXAMPLES); do \
		name=$$(basename "$$dir"); \
		if ! command -v clang >/dev/null 2>&1; then \
			echo "examples: $$dir skipped: no clang (make tools installs it)"; continue; \
		fi; \
		echo "examples: $$dir/$$name.wasm"; \
		sh "$$dir/build.sh" "$$name.wasm"; \
	done

test: ## start test services, check gofmt, vet, run all tests, stop services (CI)
	@trap '$(SERVICES) down' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(SERVICES) up; \
	$(MAKE) check

# check runs the checks and tests without touching the services (use it when
# `scripts/test-services.sh up` already ran). Every step runs; any failure fails it.
check: ## gofmt check, vet and all tests (services must already be up)
	@failed=(); \
	$(MAKE) tools || failed+=(tools); \
	$(MAKE) fmt-check || failed+=(fmt-check); \
	$(MAKE) vet || failed+=(vet); \
	$(MAKE) openapi-lint || failed+=(openapi-lint); \
	$(MAKE) test-root || failed+=(test-root); \
	$(MAKE) test-modules || failed+=(test-modules); \
	if (( $${#failed[@]} )); then echo "make check: FAILED: $${failed[*]}" >&2; exit 1; fi; \
	echo 'make check: all passed'

tools: ## install the test tools that are missing (Debian's wabt, clang, lld, wasi-libc, libclang-rt-14-dev-wasm32, chromium)
	@$(TOOLS)

fmt-check: ## fail listing Go files that gofmt would change
	@files=$$(find . -mindepth 1 \( -name '.*' -o -name testdata -o -name vendor -o -name node_modules -o -path ./bin \) -prune -o \
		-type f -name '*.go' -print | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then echo 'gofmt: these files need `gofmt -w`:' >&2; echo "$$files" >&2; exit 1; fi; \
	echo 'gofmt: ok'

openapi-lint: ## lint api/openapi.yaml with Redocly (npm ci into .cache/openapi-lint; 0 errors required)
	@scripts/openapi-lint/run.sh

vet: ## go vet the root module and the JavaScript runtime's module (internal/jsrt/runtime)
	$(GO) vet ./...
	cd internal/jsrt/runtime && $(GO) vet ./...

test-root: ## go test the root module
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

test-modules: ## go test guest-sdk, examples/* and internal/jsrt/runtime modules (host toolchain)
	@failed=(); \
	for dir in $(SUBMODULES); do \
		if [ -z "$$(find "$$dir" -name '*_test.go' -not -path '*/testdata/*' -print -quit)" ]; then \
			echo "test-modules: $$dir has no tests; skipped"; continue; \
		fi; \
		echo "test-modules: $$dir"; \
		(cd "$$dir" && $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...) || failed+=("$$dir"); \
	done; \
	if (( $${#failed[@]} )); then echo "test-modules: FAILED: $${failed[*]}" >&2; exit 1; fi

services-up: ## start PostgreSQL, MariaDB and FerretDB for tests
	$(SERVICES) up

services-down: ## stop the FerretDB started by services-up
	$(SERVICES) down

bench: ## run benchmarks (root module) against the test services; BENCHTIME=1s, BENCH=., BENCHPKG=./...
	@trap '$(SERVICES) down' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(TOOLS); \
	$(SERVICES) up; \
	$(GO) test -count=1 -run '^$$' -bench '$(BENCH)' -benchmem -benchtime=$(BENCHTIME) -timeout 30m $(TESTFLAGS) $(BENCHPKG)

clean: ## stop test services and remove build outputs (bin/, .cache/, examples/*/*.wasm)
	$(SERVICES) down
	rm -rf bin .cache
	rm -f $(foreach d,$(EXAMPLES) $(C_EXAMPLES),$(d)/$(notdir $(d)).wasm)
