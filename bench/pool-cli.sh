#!/usr/bin/env bash
# End-to-end timing of `groupement pool` on generated CSV files (reading, checking every row,
# pooling, writing plan.json), with peak memory. Usage: bench/pool-cli.sh [NEEDS SUPPLIERS]
set -euo pipefail
cd "$(dirname "$0")/.."
needs="${1:-20000}"
suppliers="${2:-2000}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cargo build --release -q --bin groupement
cargo run --release -q -p groupement-solver --example write_instance -- "$dir" "$needs" "$suppliers"
target="${CARGO_TARGET_DIR:-target}"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "wall %e s, peak memory %M KiB" "$target/release/groupement" pool \
    --needs "$dir/needs.csv" --suppliers "$dir/suppliers.csv" --out "$dir/plan.json" | tail -n 4
else
  start=$(date +%s.%N)
  "$target/release/groupement" pool --needs "$dir/needs.csv" --suppliers "$dir/suppliers.csv" \
    --out "$dir/plan.json" | tail -n 4
  echo "wall $(echo "$(date +%s.%N) - $start" | bc) s"
fi
