# The words people type. `make run` starts the whole suite on SQLite; `make test` runs every test on
# SQLite and PostgreSQL. See README.md.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
BUF_VERSION := 1.75.0
TOOLS := .tools
BUF := $(TOOLS)/node_modules/.bin/buf
MOTCUA_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export MOTCUA_TEST_POSTGRES_URL

.PHONY: help run build test lint fmt buf-lint clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: ## Build and start intake, signing, receipt and reporting in one process on SQLite (Ctrl-C stops)
	MOTCUA_LOG_FORMAT=$${MOTCUA_LOG_FORMAT:-pretty} $(CARGO) run --bin motcua -- up

build: ## Build every crate
	$(CARGO) build --workspace --all-targets

test: ## Run every test, on SQLite and on PostgreSQL ($$MOTCUA_TEST_POSTGRES_URL)
	@hostport=$$(sed -E 's#^[a-z]+://([^@/]*@)?([^/:?]+)(:([0-9]+))?.*#\2 \4#' <<< "$$MOTCUA_TEST_POSTGRES_URL"); \
	read -r host port <<< "$$hostport"; port=$${port:-5432}; \
	if ! (exec 3<>"/dev/tcp/$$host/$$port") 2>/dev/null; then \
	  if [ "$${MOTCUA_REQUIRE_POSTGRES:-}" = 1 ]; then echo "PostgreSQL is not reachable at $$host:$$port and MOTCUA_REQUIRE_POSTGRES=1"; exit 1; fi; \
	  echo "PostgreSQL is not reachable at $$host:$$port: the PostgreSQL halves of the tests are skipped (MOTCUA_REQUIRE_POSTGRES=1 makes this an error)"; \
	fi
	$(CARGO) test --workspace --all-targets

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
