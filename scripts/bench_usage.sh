#!/usr/bin/env bash
# Usage-ingestion throughput against the real release server on a fresh database.
#   scripts/bench_usage.sh [sqlite|postgres] [BATCHES] [CONCURRENCY]
# Builds the release server and the load client, starts the server on a free loopback port
# against a fresh SQLite file or a fresh PostgreSQL database, runs examples/usage_load.rs, and
# stops the server (and drops the database) when done. Figures go to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
batches="${2:-30}"
concurrency="${3:-4}"

cargo build --release --locked --bin investai --example usage_load >/dev/null
source scripts/lib/bench_env.sh "$backend" bench
# The load client funds its pool with a manual entry: one user sets up, so no second approves.
export INVESTAI_FOUR_EYES=false
port=$(free_port)
target/release/investai serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "backend: $backend, $(nproc) cores, $(date -u +%Y-%m-%d)"
target/release/examples/usage_load "http://127.0.0.1:$port" "$batches" "$concurrency"
