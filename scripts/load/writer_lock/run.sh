#!/usr/bin/env bash
# pgbench simulations of the single writer lock (BENCHMARKS.md, "Load"): how many transactions
# a second one lock row allows with all statements under it, or only the journal's.
#   scripts/load/writer_lock/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
admin="${INVESTAI_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db="investai_writer_lock_$$"
psql -q "$admin" -c "CREATE DATABASE $db"
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
psql -q "${admin%/*}/$db" -f setup.sql
for script in all_under_lock journal_under_lock; do
  for clients in 10 64; do
    tps=$(pgbench -n -M prepared -f "$script.sql" -c "$clients" -j 2 -T "${1:-10}" "${admin%/*}/$db" 2>/dev/null \
      | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
    echo "$script, $clients clients: $tps transactions/s"
  done
done
