#!/usr/bin/env bash
# `make bench`, after the receipt numbering bench: starts `motcua up` (release build) on SQLite in a
# throw-away data folder, on 127.0.0.5 so that `make run` on 127.0.0.1 is not disturbed, and runs
# `motcua bench` over every scenario at a few concurrency levels; then the same on PostgreSQL (four
# throw-away databases, when $MOTCUA_TEST_POSTGRES_URL is reachable); then cli/bench/report.py writes
# docs/benchmarks.md and docs/benchmarks.svg from the figures. Bounded: short durations and a short
# pipeline count by default (each can be set below through the environment).
set -euo pipefail

cd "$(dirname "$0")/../.."
MOTCUA=${MOTCUA:-${CARGO_TARGET_DIR:-target}/release/motcua}
HOST=${MOTCUA_BENCH_HOST:-127.0.0.5}
LEVELS=${MOTCUA_BENCH_CONCURRENCY:-1,16,64,256}
DURATION=${MOTCUA_BENCH_DURATION:-3s}
PIPELINE_LEVELS=${MOTCUA_BENCH_PIPELINE_CONCURRENCY:-16,64}
PIPELINE_COUNT=${MOTCUA_BENCH_PIPELINE_COUNT:-200}
POSTGRES=${MOTCUA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SERVICES=(intake signing receipt reporting)

work=$(mktemp -d -t motcua-bench-XXXXXX)
# A copy, so that a build in the shared target folder during the run does not swap the binary.
cp "$MOTCUA" "$work/motcua"
MOTCUA=$work/motcua
up_pid=""
stop_up() {
  if [ -n "$up_pid" ]; then
    kill "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
    up_pid=""
  fi
}
trap 'stop_up' EXIT

# A load generator is one caller: the per-identity limits protect agencies from each other, not the
# services from their own benchmark, so they are raised here (and only here).
export MOTCUA_RATE_LIMIT_PER_IDENTITY=1000000 MOTCUA_CONCURRENCY_PER_IDENTITY=100000
export MOTCUA_MAX_CONCURRENT_REQUESTS=4096 MOTCUA_LOG=warn
unset OTEL_EXPORTER_OTLP_ENDPOINT

# start_up LABEL [motcua up options...]: starts the suite and waits until it says it is up.
start_up() {
  local label=$1
  shift
  "$MOTCUA" up --host "$HOST" --data-dir "$work/$label-data" "$@" >"$work/$label-up.log" 2>&1 &
  up_pid=$!
  for _ in $(seq 1 240); do
    if grep -q '^motcua is up' "$work/$label-up.log"; then return 0; fi
    if ! kill -0 "$up_pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "motcua up ($label) did not come up:" >&2
  tail -n 40 "$work/$label-up.log" >&2
  exit 1
}

# bench LABEL [motcua bench options...]: every scenario, then the pipeline with a count.
bench() {
  local label=$1
  shift
  echo "== $label: motcua bench (levels $LEVELS, $DURATION each; pipeline $PIPELINE_COUNT dossiers at $PIPELINE_LEVELS)"
  "$MOTCUA" bench --host "$HOST" --scenario create-dossier,issue-receipt,sign,report-query \
    --concurrency "$LEVELS" --warmup 1s --duration "$DURATION" --floor-duration 1s \
    --label "$label" --json "$work/$label.json" "$@"
  "$MOTCUA" bench --host "$HOST" --scenario pipeline --concurrency "$PIPELINE_LEVELS" --warmup 1s \
    --count "$PIPELINE_COUNT" --duration 120s --floor-duration 1s \
    --label "$label" --json "$work/$label-pipeline.json"
}

start_up sqlite
bench sqlite
stop_up

if psql "$POSTGRES" -qtAc 'select 1' >/dev/null 2>&1; then
  for service in "${SERVICES[@]}"; do
    psql "$POSTGRES" -qc "DROP DATABASE IF EXISTS motcua_bench_$service WITH (FORCE)" -c "CREATE DATABASE motcua_bench_$service"
  done
  start_up postgres --database-url "${POSTGRES%/*}/motcua_bench_{service}"
  bench postgres --postgres-floor "$POSTGRES"
  stop_up
  for service in "${SERVICES[@]}"; do
    psql "$POSTGRES" -qc "DROP DATABASE IF EXISTS motcua_bench_$service WITH (FORCE)"
  done
else
  echo "PostgreSQL is not reachable at $POSTGRES: the PostgreSQL half is skipped" >&2
fi

# The transparency log at 10 million leaves (MOTCUA_LOG_SCALE_LEAVES to change it), on PostgreSQL.
if psql "$POSTGRES" -qtAc 'select 1' >/dev/null 2>&1; then
  MOTCUA_TEST_POSTGRES_URL=$POSTGRES MOTCUA_LOG_SCALE_JSON=$work/log-scale.out \
    ${CARGO:-cargo} bench -p motcua-signing --bench log_scale
fi

python3 cli/bench/report.py --markdown docs/benchmarks.md --svg docs/benchmarks.svg \
  --postgres "$POSTGRES" --log-scale "$work/log-scale.out" "$work"/*.json
rm -rf "$work"
