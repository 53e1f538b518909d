#!/usr/bin/env bash
# Usage-ingestion throughput against the real release server on a fresh database.
#   scripts/bench_usage.sh [sqlite|postgres] [BATCHES] [CONCURRENCY]
# Builds the release server and the load client, starts the server on a free loopback port
# against a fresh SQLite file or a fresh PostgreSQL database, runs examples/usage_load.rs, and
# stops the server (and drops the database) when done; on PostgreSQL it then times psql's \copy of
# as many rows into the same table, the ceiling. Figures go to BENCHMARKS.md.
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
# The writer lock over the whole run (set-up included; docs/scaling.md, "The chain head's cap").
curl -sf "http://127.0.0.1:$port/metrics" | awk '
  /^investai_write_lock_held_seconds_sum / { held = $2 }
  /^investai_write_lock_held_seconds_count / { writes = $2 }
  END { if (writes > 0) printf "writer lock: %d write transactions, held %.1f ms each, %.1f s in all\n", writes, held / writes * 1000, held }'

# The ceiling on PostgreSQL: psql's \copy of as many rows, in transactions of 10,000, into the
# same table of the same database (its keys, checks and foreign keys), each row naming the
# facility, award and journal entry of a record the run stored.
if [ "$backend" = postgres ]; then
  stop_server
  IFS='|' read -r facility award entry < <(psql -qAt "$DATABASE_URL" -c \
    "SELECT facility_id, award_id, entry_id FROM usage_records WHERE entry_id IS NOT NULL LIMIT 1")
  rows=$(( batches * 10000 ))
  python3 - "$work" "$facility" "$award" "$entry" "$rows" <<'PY'
import sys
work, facility, award, entry, rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
for part in range(0, rows, 10000):
    with open(f"{work}/copy-{part // 10000:05d}.csv", "w") as out:
        for n in range(part, min(part + 10000, rows)):
            out.write(f"{facility},ceiling-{n:09d},{award},1000,1767254400000000,1767258000000000,2,{entry},1767258000000000\n")
PY
  began=$(date +%s.%N)
  for part in "$work"/copy-*.csv; do
    psql -q "$DATABASE_URL" -c "\copy usage_records FROM '$part' WITH (FORMAT csv)"
  done
  ended=$(date +%s.%N)
  python3 -c "import sys; r=int(sys.argv[1]); s=float(sys.argv[3])-float(sys.argv[2]); print(f'psql \\\\copy, same table: {r} rows in {s:.2f} s: {r/s:.0f} rows per second')" "$rows" "$began" "$ended"
fi
