#!/usr/bin/env bash
# What admitting a commitment costs as a tranche fills (docs/scaling.md, "Commitments").
#   scripts/bench_commitments.sh [sqlite|postgres] [LEVELS]
# Fills one tranche of a fresh database through the real batch code and, at each level
# (default 1000,10000,50000,200000 commitments), times a batch of 64 new commitments and the
# sum of the tranche's commitments that the target check read before running totals, in the
# same run. Figures go to BENCHMARKS.md ("Commitments as a tranche fills").
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-postgres}"
levels="${2:-1000,10000,50000,200000}"
cargo build --release --locked --example commitment_cost >/dev/null
source scripts/lib/bench_env.sh "$backend" commitment_bench
echo "backend: $backend, $(nproc) cores, $(date -u +%Y-%m-%d)"
target/release/examples/commitment_cost "$DATABASE_URL" "$levels"
