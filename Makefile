# The words people type. `make run` starts the whole suite on SQLite; `make test` runs every test on
# SQLite and, where they store anything, on PostgreSQL too (docs/testing.md). See README.md.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
BUF_VERSION := 1.75.0
TOOLS := .tools
BUF := $(TOOLS)/node_modules/.bin/buf
MOTCUA_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export MOTCUA_TEST_POSTGRES_URL
PYTHON ?= python3
VENV := $(TOOLS)/venv
DEPLOY_CHECK_TOOLS := $(VENV)/.deploy-check-requirements
INTEROP_TOOLS := $(VENV)/.interop-requirements
SERVICES := intake signing receipt reporting
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)

.PHONY: help run build test lint fmt buf-lint clean bench
.PHONY: deploy-check images interop
.PHONY: fuzz

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: ## Build and start intake, signing, receipt and reporting in one process on SQLite (Ctrl-C stops)
	MOTCUA_LOG_FORMAT=$${MOTCUA_LOG_FORMAT:-pretty} $(CARGO) run --bin motcua -- up

build: ## Build every crate
	$(CARGO) build --workspace --all-targets

test: ## Run every test; storage tests on SQLite and on PostgreSQL ($$MOTCUA_TEST_POSTGRES_URL), see docs/testing.md
	@hostport=$$(sed -E 's#^[a-z]+://([^@/]*@)?([^/:?]+)(:([0-9]+))?.*#\2 \4#' <<< "$$MOTCUA_TEST_POSTGRES_URL"); \
	read -r host port <<< "$$hostport"; port=$${port:-5432}; \
	if ! (exec 3<>"/dev/tcp/$$host/$$port") 2>/dev/null; then \
	  if [ "$${MOTCUA_REQUIRE_POSTGRES:-}" = 1 ]; then echo "PostgreSQL is not reachable at $$host:$$port and MOTCUA_REQUIRE_POSTGRES=1"; exit 1; fi; \
	  echo "PostgreSQL is not reachable at $$host:$$port: the PostgreSQL halves of the tests are skipped (MOTCUA_REQUIRE_POSTGRES=1 makes this an error)"; \
	fi
	$(CARGO) test --workspace --all-targets
	$(MAKE) --no-print-directory interop
	$(MAKE) --no-print-directory deploy-check

# --tests: the binary built with the features `cargo test --workspace` resolves (the dev-dependencies'
# chassis `testing`), so that after `make test`'s cargo run this build is already fresh.
interop: $(INTEROP_TOOLS) ## A Python agency client, stubs generated from proto/, drives the demo path against `motcua up`
	$(CARGO) build --workspace --bin motcua --tests
	$(VENV)/bin/python tests/interop/test_agency_client.py

$(INTEROP_TOOLS): tests/interop/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --requirement tests/interop/requirements.txt
	touch $@

bench: ## Benchmarks, each beside its floors from one run, and docs/benchmarks.md (release build; PostgreSQL parts need $$MOTCUA_TEST_POSTGRES_URL)
	$(CARGO) bench -p motcua-receipt --bench numbering
	$(CARGO) build --release --bin motcua
	cli/bench/run.sh

fuzz: ## Fuzz each parser of outside bytes for $$MOTCUA_FUZZ_SECONDS s (default 20) with cargo fuzz, see docs/testing.md
	fuzz/run.sh

lint: ## rustfmt, clippy with warnings as errors, buf lint
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(MAKE) --no-print-directory buf-lint

buf-lint: $(BUF) ## Lint the proto contracts with buf (installed from npm into .tools/)
	cd proto && ../$(BUF) lint && ../$(BUF) build -o /dev/null

$(BUF):
	npm install --no-save --no-audit --no-fund --prefix $(TOOLS) @bufbuild/buf@$(BUF_VERSION)

fmt: ## Format the Rust code
	$(CARGO) fmt --all

clean: ## Remove build output and the SQLite files of `make run`
	$(CARGO) clean
	rm -rf data

deploy-check: $(DEPLOY_CHECK_TOOLS) ## Render the Kubernetes overlays; check them, the Dockerfile, compose.yaml, the collector
	$(VENV)/bin/python deploy/check/deploy_check.py --self-test
	$(VENV)/bin/python deploy/check/deploy_check.py

$(DEPLOY_CHECK_TOOLS): deploy/check/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --requirement deploy/check/requirements.txt
	touch $@

images: ## Build the four service images motcua/<service>:<version> with Docker, where an engine runs
	@if ! docker info >/dev/null 2>&1; then \
	  echo "make images: no Docker engine is available here ('docker info' failed), so no image was built."; \
	  exit 0; \
	fi; \
	for service in $(SERVICES); do \
	  echo "make images: building motcua/$$service:$(VERSION)"; \
	  docker build --file deploy/docker/Dockerfile --build-arg SERVICE=$$service --tag motcua/$$service:$(VERSION) .; \
	done
