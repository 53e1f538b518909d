#!/usr/bin/env bash
# What the floor rule costs a write at a large journal (docs/ledger.md, "Floors").
#   scripts/bench_floors.sh [sqlite|postgres] [ENTRIES] [WRITES]
# Fills a fresh database with ENTRIES entries (default 100,000) over 700 days through the real
# posting code, then times writes that raise cash (nothing to check), lower it today and lower
# it back-dated to the first day (every day checked), alternately, in the same run; the floor
# check's cost is the difference. Figures go to BENCHMARKS.md ("Floors").
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
entries="${2:-100000}"
writes="${3:-300}"
cargo build --release --locked --example floor_cost >/dev/null
source scripts/lib/bench_env.sh "$backend" floor_bench
echo "backend: $backend, $(nproc) cores, $(date -u +%Y-%m-%d)"
target/release/examples/floor_cost "$DATABASE_URL" "$entries" "$writes"
