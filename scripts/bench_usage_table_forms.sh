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
IFS='|' read -r facility award entry < <(psql -qAt "$DATABASE_URL" -c \
  "SELECT facility_id, award_id, entry_id FROM usage_records WHERE entry_id IS NOT NULL LIMIT 1")
python3 - "$work" "$facility" "$award" "$entry" "$rows" <<'PY'
import sys
work, facility, award, entry, rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
for part in range(0, rows, 10000):
    with open(f"{work}/copy-{part // 10000:05d}.csv", "w") as out:
        for n in range(part, min(part + 10000, rows)):
            out.write(f"{facility},form-{n:09d},{award},1000,1767254400000000,1767258000000000,2,{entry},1767258000000000\n")
PY
time_copy() {
  psql -q "$DATABASE_URL" -c "TRUNCATE usage_records"
  local began ended
  began=$(date +%s.%N)
  for part in "$work"/copy-*.csv; do
    psql -q "$DATABASE_URL" -c "\copy usage_records FROM '$part' WITH (FORMAT csv)"
  done
  ended=$(date +%s.%N)
  python3 -c "import sys; r=int(sys.argv[2]); s=float(sys.argv[4])-float(sys.argv[3]); print(f'{sys.argv[1]}: {r} rows in {s:.2f} s: {r/s:.0f} rows per second')" \
    "$1" "$rows" "$began" "$ended"
}
echo "$(nproc) cores, $(date -u +%Y-%m-%d)"
time_copy "checked once per statement (as migrated)"
psql -q "$DATABASE_URL" -f migrations/postgres/2026-12-04-000001_usage_records_checked_per_batch/down.sql
time_copy "three per-row foreign keys"
psql -q "$DATABASE_URL" -c "ALTER TABLE usage_records DROP CONSTRAINT usage_records_facility_id_fkey,
  DROP CONSTRAINT usage_records_award_id_fkey, DROP CONSTRAINT usage_records_entry_id_fkey"
time_copy "neither"
