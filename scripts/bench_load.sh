#!/usr/bin/env bash
# Load at 64 connections against the real release server on the InvestAI demo data.
#   scripts/bench_load.sh [sqlite|postgres] [SECONDS]
#   LOAD_ONLY="healthz commitments pgbench" LOAD_CONNECTIONS=8 scripts/bench_load.sh postgres 10
# Starts `investai serve` on a fresh database seeded with fixtures/investai.json and runs wrk
# (Debian's, installed when missing) for SECONDS per scenario: the trivial endpoint (/healthz,
# the ceiling), an investor's dashboard figures, a fund overview, commitment recording and usage
# ingestion (100 records a request). On PostgreSQL it then runs pgbench's TPC-B on the same
# server for the write ceiling. It checks that every acknowledged write is in the books and
# prints one table; figures go to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
seconds="${2:-20}"
connections="${LOAD_CONNECTIONS:-64}"
threads=$(( connections < 2 ? connections : 2 ))
# Each commitment takes an untaken (tranche, source) pair; five tranches a source, so 600
# sources a second leave pairs for 3,000 commitments a second.
sources=$(( seconds * 600 > 4000 ? seconds * 600 : 4000 ))

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
cargo build --release --locked --bin investai >/dev/null
source scripts/lib/bench_env.sh "$backend" load
export INVESTAI_TOKEN_TTL_MINUTES=120

start_demo_server
setup=$(python3 scripts/load/setup.py prepare "$url" "$work" "$sources")
eval "$setup"

export LOAD_SCRIPTS="$PWD/scripts/load" LOAD_DATA="$work" LOAD_THREADS=$threads LOAD_BATCH=100
# Runs one scenario (unless LOAD_ONLY names others); prints its JSON figures line after its name.
scenario() {
  local name=$1 script=$2
  [ -z "${LOAD_ONLY:-}" ] || [[ " $LOAD_ONLY " == *" $name "* ]] || return 0
  local figures
  figures=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 30s -s "scripts/load/$script" "$url" | tail -1)
  echo "$name $figures"
}
count() { python3 scripts/load/setup.py count "$url" "$STAFF_TOKEN" "$AWARD_ID"; }

echo "backend: $backend, $(nproc) cores, $connections connections, ${seconds} s per scenario, $(date -u +%Y-%m-%d)" >&2
{
  LOAD_TOKEN="" LOAD_PATH="/healthz" scenario healthz get.lua
  LOAD_TOKEN="$INVESTOR_TOKEN" LOAD_PATH="/api/v1/funds/$INVESTOR_FUND/metrics" scenario investor_metrics get.lua
  LOAD_TOKEN="$STAFF_TOKEN" LOAD_PATH="/api/v1/funds/$UMBRELLA_FUND/overview" scenario fund_overview get.lua
  before=$(count)
  LOAD_TOKEN="$STAFF_TOKEN" scenario commitments commitments.lua
  LOAD_TOKEN="$FACILITY_TOKEN" LOAD_AWARD="$AWARD_ID" LOAD_RUN="load$$" scenario usage usage.lua
  after=$(count)
  echo "books_before $before"
  echo "books_after $after"
  if [ "$backend" = postgres ] && { [ -z "${LOAD_ONLY:-}" ] || [[ " $LOAD_ONLY " == *" pgbench "* ]]; }; then
    bench_db="investai_pgbench_$$"
    extra_dbs="$bench_db"
    psql -q "$pg_admin" -c "CREATE DATABASE $bench_db"
    pgbench -q -i -s "$connections" "${pg_admin%/*}/$bench_db" >/dev/null 2>&1
    tps=$(pgbench -c "$connections" -j "$threads" -T "$seconds" "${pg_admin%/*}/$bench_db" 2>/dev/null \
      | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
    latency=$(pgbench -c "$connections" -j "$threads" -T 5 "${pg_admin%/*}/$bench_db" 2>/dev/null \
      | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
    echo "pgbench_tpcb {\"tps\":$tps,\"latency_avg_ms\":$latency}"
  fi
} >"$work/figures.txt"
python3 scripts/load/report.py "$work/figures.txt" "$PAIRS" "$connections"
if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "the server logged errors:" >&2; grep '"level":"ERROR"' "$work/server.log" | head -5 >&2; exit 1
fi
