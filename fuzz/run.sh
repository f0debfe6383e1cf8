#!/usr/bin/env bash
# `make fuzz`: builds every cargo-fuzz target once, then runs each for at most $MOTCUA_FUZZ_SECONDS
# seconds (default 20) on a copy of its seed corpus (fuzz/corpus/<target>, so a run never grows the
# repository's corpus). A crash or a timeout fails the run and prints the path of the input that made it.
# Built with `--sanitizer none` on the stable toolchain: Rust is memory-safe, panics are what is hunted,
# and the build is much faster. The fuzz build uses its own target folder: its compiler flags differ.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${MOTCUA_FUZZ_SECONDS:-20}"
export CARGO_TARGET_DIR="${MOTCUA_FUZZ_TARGET_DIR:-$HOME/.cache/motcua/fuzz-target}"
# cargo fuzz's -Z options (its nightly-only flags) are not used with --sanitizer none; a stable cargo
# fuzz build needs no RUSTC_BOOTSTRAP. `--dev`: unoptimised, so that a first build on a new machine (every
# dependency instrumented) takes minutes rather than half an hour; a bounded run needs coverage more than speed.
build_flags=(--sanitizer none --debug-assertions --dev)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

targets=$(cargo fuzz list)
started=$(date +%s)
cargo fuzz build "${build_flags[@]}"
echo "fuzz: built $(wc -w <<< "$targets") targets in $(( $(date +%s) - started )) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for target in $targets; do
  mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
  cp -R "corpus/$target/." "$work/corpus/$target/" 2>/dev/null || true
  dictionary=()
  [ -f "dictionaries/$target.dict" ] && dictionary=(-dict="dictionaries/$target.dict")
  log="$work/$target.log"
  if cargo fuzz run "${build_flags[@]}" "$target" "$work/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/$target/" "${dictionary[@]}" > "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz: $target: ${runs:-?} runs, ${speed:-?} per second, no crash"
  else
    tail -n 40 "$log"
    kept="${MOTCUA_FUZZ_ARTIFACTS:-$HOME/.cache/motcua/fuzz-artifacts}/$target"
    mkdir -p "$kept"
    for artifact in "$work/artifacts/$target"/*; do
      [ -e "$artifact" ] || continue
      cp "$artifact" "$kept/"
      echo "fuzz: $target FAILED: the input is $kept/$(basename "$artifact")"
      echo "  (reproduce: cd fuzz && cargo fuzz run ${build_flags[*]} $target $kept/$(basename "$artifact"))"
    done
    failed+=("$target")
  fi
done

echo "fuzz: $(wc -w <<< "$targets") targets, ${seconds} s each, $(( $(date +%s) - started )) s in all"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (keep each input in fuzz/regressions/<target>/ once fixed)"
  exit 1
fi
