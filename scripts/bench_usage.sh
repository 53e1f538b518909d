#!/usr/bin/env bash
# Usage-ingestion throughput against the real release server on a fresh database.
#   scripts/bench_usage.sh [sqlite|postgres] [BATCHES] [CONCURRENCY] [DAYS]
# Builds the release server and the load client, starts the server on a free loopback port
# against a fresh SQLite file or a fresh PostgreSQL database, runs examples/usage_load.rs, and
# stops the server (and drops the database) when done; on PostgreSQL it then times psql's \copy of
# as many rows into the same table, the ceiling. Figures go to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
batches="${2:-30}"
concurrency="${3:-4}"
# Days of June 2026 each award's records of a batch fall on (1 to 30): the day sums a batch adds to.
days="${4:-1}"

cargo build --release --locked --bin investai --example usage_load >/dev/null
source scripts/lib/bench_env.sh "$backend" bench
# The load client funds its pool with a manual entry: one user sets up, so no second approves.
export INVESTAI_FOUR_EYES=false
port=$(free_port)
target/release/investai serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "backend: $backend, $(nproc) cores, $(date -u +%Y-%m-%d)"
target/release/examples/usage_load "http://127.0.0.1:$port" "$batches" "$concurrency" "$days"
# The writer lock over the whole run (set-up included; docs/scaling.md, "The chain head's cap").
curl -sf "http://127.0.0.1:$port/metrics" | awk '
  /^investai_write_lock_held_seconds_sum / { held = $2 }
  /^investai_write_lock_held_seconds_count / { writes = $2 }
  END { if (writes > 0) printf "writer lock: %d write transactions, held %.1f ms each, %.1f s in all\n", writes, held / writes * 1000, held }'

# The ceiling on PostgreSQL: psql's \copy of as many rows, in transactions of 10,000, into the
# same table of the same database (its keys, checks and the check of what each row names), each
# row naming the facility, award and journal entry of a record the run stored.
if [ "$backend" = postgres ]; then
  stop_server
  rows=$(( batches * 10000 ))
  source scripts/lib/usage_copy.sh
  usage_copy_files "$rows" ceiling
  usage_copy_time 'psql \copy, same table' "$rows"
fi
