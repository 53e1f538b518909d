#!/usr/bin/env bash
# Whether a commitment costs the same as the books grow (docs/scaling.md): commitment recording
# at 64 connections on PostgreSQL for MINUTES one-minute wrk runs back to back on one server and
# database (each run continues the prepared pairs where the last stopped), then pgbench's TPC-B
# on the same server for as long as one minute, the write ceiling.
#   scripts/bench_commitment_minutes.sh [MINUTES] [RATE_MAX]
# RATE_MAX (commitments a second, default 3,000) sizes the prepared pairs: MINUTES x 60 x RATE_MAX.
# Prints each minute's rate, the last minute against the first and against pgbench, and the
# commitments the books hold. Figures go to BENCHMARKS.md ("Commitments as a tranche fills").
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
rate_max="${2:-3000}"
connections=64
threads=2
command -v wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
# Built with the examples, as the other benchmarks build it, so one release build serves them all.
cargo build --release --locked --bin investai --example usage_load >/dev/null
source scripts/lib/bench_env.sh postgres minutes
export INVESTAI_TOKEN_TTL_MINUTES=$(( minutes + 60 ))
start_demo_server
# Five tranches a source in the demo data.
sources=$(( minutes * 60 * rate_max / 5 ))
echo "preparing $sources sources ($(date -u +%H:%M:%S))" >&2
eval "$(python3 scripts/load/setup.py prepare "$url" "$work" "$sources")"
export LOAD_SCRIPTS="$PWD/scripts/load" LOAD_DATA="$work" LOAD_THREADS=$threads LOAD_TOKEN="$STAFF_TOKEN"
echo "backend: postgres, $(nproc) cores, $connections connections, $minutes one-minute runs, $(date -u +%Y-%m-%d)"
# A minute's rate is the commitments the books gained in it (a replayed key answers 2xx too, so
# wrk's request count alone would not tell).
held() { psql -qAt "$DATABASE_URL" -c "SELECT count(*) FROM commitments"; }
# The writer lock as the server saw it (docs/scaling.md, "The chain head's cap"): write
# transactions so far and the seconds they held the lock.
lock_figures() { curl -sf "$url/metrics" | awk '/^investai_write_lock_held_seconds_(count|sum) /{printf "%s ", $2}'; }
rates=()
for minute in $(seq 1 "$minutes"); do
  export LOAD_OFFSET=$(cat "$work/commitments.sent" 2>/dev/null || echo 0)
  before=$(held)
  lock_before=$(lock_figures)
  figures=$(wrk -t"$threads" -c"$connections" -d60s --timeout 30s -s scripts/load/commitments.lua "$url" | tail -1)
  after=$(held)
  lock_after=$(lock_figures)
  rate=$(python3 -c 'import json,sys; f=json.loads(sys.argv[1]); print(round((int(sys.argv[3])-int(sys.argv[2]))/f["seconds"]))' "$figures" "$before" "$after")
  rates+=("$rate")
  echo "minute $minute: $rate new commitments/s, $after in the books; wrk: $figures"
  python3 - "$figures" "$lock_before" "$lock_after" "$(( after - before ))" <<'PY'
import json, sys
seconds = json.loads(sys.argv[1])["seconds"]
(sum0, count0), (sum1, count1) = (map(float, a.split()) for a in sys.argv[2:4])
writes, held, added = count1 - count0, sum1 - sum0, int(sys.argv[4])
if writes > 0:
    print(f"  writer lock: {writes / seconds:.0f} write transactions/s, held {held / writes * 1e3:.3f} ms each,"
          f" {held / seconds:.2f} of the minute; {added / writes:.1f} commitments a transaction;"
          f" the lock alone would allow {writes / held:.0f} transactions/s")
PY
  if python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["non_2xx"] > 0 else 1)' "$figures"; then
    echo "minute $minute: answers other than 2xx (each status's first body is printed above; a refused pair means the prepared pairs ran out: raise RATE_MAX)" >&2
  fi
done
stop_server
bench_db="investai_pgbench_$$"
extra_dbs="$bench_db"
psql -q "$pg_admin" -c "CREATE DATABASE $bench_db"
pgbench -q -i -s "$connections" "${pg_admin%/*}/$bench_db" >/dev/null 2>&1
tps=$(pgbench -c "$connections" -j "$threads" -T 60 "${pg_admin%/*}/$bench_db" 2>/dev/null \
  | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
held=$(held)
first=${rates[0]} last=${rates[$(( minutes - 1 ))]}
python3 - "$first" "$last" "$tps" "$held" <<'PY'
import sys
first, last, tps, held = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"first minute {first:.0f}/s, last minute {last:.0f}/s: last/first {last/first:.2f}")
print(f"pgbench TPC-B {tps:.0f} transactions/s: last minute / pgbench {last/tps:.2f}")
print(f"commitments in the books: {held}")
PY
