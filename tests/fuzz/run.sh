#!/usr/bin/env bash
# Fuzzing (issue #10): each cargo-fuzz target for a few seconds (default 10), from the seeds in
# tests/fuzz/seeds/<target>, new inputs kept in $CARGO_FUZZ_TARGET_DIR/corpus (outside the
# clone). A crash stops the run with its input in …/artifacts/<target>/; make it a regression
# test (a unit test on the function that failed) before fixing it.
#
# Usage: tests/fuzz/run.sh [seconds per target] [target …]
# Longer runs: tests/fuzz/run.sh 3600 needs_import   (an hour on one target)
# cargo-fuzz needs nightly features: the stable toolchain is used with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-10}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(needs_import spreadsheet solver_input identifiers)
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_FUZZ_TARGET_DIR:-/var/tmp/groupement-fuzz-target}"
cargo fuzz build --fuzz-dir tests/fuzz -O 2>&1 | tail -n 1
for target in "${targets[@]}"; do
  corpus="$CARGO_TARGET_DIR/corpus/$target"
  artifacts="$CARGO_TARGET_DIR/artifacts/$target/"
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  echo "fuzz: $target for ${seconds} s"
  cargo fuzz run --fuzz-dir tests/fuzz -O "$target" "$corpus" "tests/fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -artifact_prefix="$artifacts" -print_final_stats=1 \
    -malloc_limit_mb=512 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+==( )?ERROR|SUMMARY|Done)" || true
  if ls "$artifacts" | grep -q .; then
    echo "fuzz: $target found a crash: $(ls "$artifacts")" >&2
    exit 1
  fi
done
