# Shared by scripts/bench_usage.sh and scripts/bench_usage_table_forms.sh (sourced, after
# scripts/lib/bench_env.sh): psql's \copy into usage_records, the ceiling of usage ingestion.

# Writes ROWS usage rows (record ids PREFIX-000000000 on) as CSV files of 10,000 into $work, each
# naming the facility, award and journal entry of a record already stored.
usage_copy_files() {
  local rows="$1" prefix="$2" facility award entry
  IFS='|' read -r facility award entry < <(psql -qAt "$DATABASE_URL" -c \
    "SELECT facility_id, award_id, entry_id FROM usage_records WHERE entry_id IS NOT NULL LIMIT 1")
  python3 - "$work" "$facility" "$award" "$entry" "$rows" "$prefix" <<'PY'
import sys
work, facility, award, entry, rows, prefix = *sys.argv[1:5], int(sys.argv[5]), sys.argv[6]
for part in range(0, rows, 10000):
    with open(f"{work}/copy-{part // 10000:05d}.csv", "w") as out:
        for n in range(part, min(part + 10000, rows)):
            out.write(f"{facility},{prefix}-{n:09d},{award},1000,1767254400000000,1767258000000000,2,{entry},1767258000000000\n")
PY
}

# Times psql's \copy of the files, one transaction each, and prints "LABEL: ROWS rows in S s: R
# rows per second".
usage_copy_time() {
  local label="$1" rows="$2" began ended part
  began=$(date +%s.%N)
  for part in "$work"/copy-*.csv; do
    psql -q "$DATABASE_URL" -c "\copy usage_records FROM '$part' WITH (FORMAT csv)"
  done
  ended=$(date +%s.%N)
  python3 -c "import sys; r=int(sys.argv[2]); s=float(sys.argv[4])-float(sys.argv[3]); print(f'{sys.argv[1]}: {r} rows in {s:.2f} s: {r/s:.0f} rows per second')" \
    "$label" "$rows" "$began" "$ended"
}
