#!/usr/bin/env bash
# What each form of the usage_records table costs per row on PostgreSQL: psql's \copy of ROWS
# rows (default 1,000,000) in transactions of 10,000 into the table as migrated (checked once per
# statement), with the three per-row foreign keys it had before, and with neither. The real
# migrations make the table; one usage batch through the release server stores the facility,
# award and journal entry every row names.
#   scripts/bench_usage_table_forms.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
cargo build --release --locked --bin investai --example usage_load >/dev/null
source scripts/lib/bench_env.sh postgres forms
export INVESTAI_FOUR_EYES=false
port=$(free_port)
target/release/investai serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
target/release/examples/usage_load "http://127.0.0.1:$port" 1 1 >/dev/null
stop_server
source scripts/lib/usage_copy.sh
usage_copy_files "$rows" form
time_copy() {
  psql -q "$DATABASE_URL" -c "TRUNCATE usage_records"
  usage_copy_time "$1" "$rows"
}
echo "$(nproc) cores, $(date -u +%Y-%m-%d)"
time_copy "checked once per statement (as migrated)"
psql -q "$DATABASE_URL" -f migrations/postgres/2026-12-04-000001_usage_records_checked_per_batch/down.sql
time_copy "three per-row foreign keys"
psql -q "$DATABASE_URL" -c "ALTER TABLE usage_records DROP CONSTRAINT usage_records_facility_id_fkey,
  DROP CONSTRAINT usage_records_award_id_fkey, DROP CONSTRAINT usage_records_entry_id_fkey"
time_copy "neither"
