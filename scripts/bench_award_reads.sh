#!/usr/bin/env bash
# What the growing reads of usage cost on PostgreSQL (docs/scaling.md, "Reads that stay flat"): a
# page of 100 of an award's records after a record id, its use by day, its facility's statement
# for a quarter, and the usage the fund's entries posted (the attribution), each as the service
# reads it now and as it read it before migrations 2026-12-05-000002 (the award's records summed;
# an index of award_id alone, then a sort), 2026-12-06-000001 (the facility's records summed by
# award) and 2026-12-06-000002 (the records summed by entry; the join with the fund's awards,
# which both sides make, is left out of both). ROWS records (default 2,000,000) over AWARDS awards
# (default 10) of one facility, one a second over a year of days, in batches of 10,000 that post
# one entry per award, go into a freshly migrated database with triggers off (the rows name no
# stored award; only the reads are timed). Prints the median of five `EXPLAIN ANALYZE` execution
# times of each read.
#   scripts/bench_award_reads.sh [ROWS] [AWARDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-2000000}"
awards="${2:-10}"
# Built with the examples, as the other benchmarks build it, so one release build serves them all.
cargo build --release --locked --bin investai --example usage_load >/dev/null
source scripts/lib/bench_env.sh postgres award_reads
target/release/investai migrate >/dev/null
sql() { psql -qAt -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
sql -c "SET session_replication_role = replica;
  INSERT INTO usage_records SELECT 'facility', 'record-' || lpad(n::text, 10, '0'), 'award-' || (n % $awards),
    1000, 1767225600000000 + (n % 365) * 86400000000, 1767229200000000 + (n % 365) * 86400000000, 140,
    'entry-' || (n / 10000) || '-' || (n % $awards), 0
  FROM generate_series(1, $rows) n;
  INSERT INTO award_day_usage SELECT award_id, period_end_us / 86400000000, SUM(milli_hours), SUM(subsidy_cents)
  FROM usage_records GROUP BY award_id, period_end_us / 86400000000;
  ANALYZE usage_records; ANALYZE award_day_usage;"
# The quarter and entry sums are filled as their migrations fill them.
for kept in 000001_award_quarter_usage 000002_entry_usage; do
  sed -n '/^INSERT INTO /,$p' "migrations/postgres/2026-12-06-${kept}/up.sql" |
    sql -c "SET session_replication_role = replica;" -f - -c "ANALYZE;"
done
# The median execution time of five runs of a read, in milliseconds.
median_ms() {
  for _ in 1 2 3 4 5; do
    sql -c "EXPLAIN (ANALYZE, TIMING OFF) $1" | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p'
  done | sort -n | sed -n 3p
}
page="SELECT * FROM usage_records WHERE award_id = 'award-3' AND record_id > 'record-0000500000'
  ORDER BY record_id LIMIT 100"
by_records="SELECT period_end_us / 86400000000, SUM(milli_hours), SUM(subsidy_cents) FROM usage_records
  WHERE award_id = 'award-3' GROUP BY 1 ORDER BY 1"
by_days="SELECT day, milli_hours, subsidy_cents FROM award_day_usage WHERE award_id = 'award-3' ORDER BY day"
# 2026-Q2: quarter key 2026 * 4 + 1.
statement_by_records="SELECT award_id, COUNT(*), SUM(milli_hours), SUM(subsidy_cents) FROM usage_records
  WHERE facility_id = 'facility' AND period_start_us >= 1775001600000000 AND period_start_us < 1782864000000000
  GROUP BY award_id"
statement_kept="SELECT award_id, records, milli_hours, subsidy_cents FROM award_quarter_usage
  WHERE facility_id = 'facility' AND quarter_key = 8105 ORDER BY award_id"
entries_by_records="SELECT entry_id, award_id, SUM(subsidy_cents), SUM(milli_hours) FROM usage_records
  WHERE entry_id IS NOT NULL GROUP BY entry_id, award_id"
entries_kept="SELECT entry_id, award_id, subsidy_cents, milli_hours FROM entry_usage"
echo "$rows records over $awards awards, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "page of 100, index (award_id, record_id): $(median_ms "$page") ms"
echo "use by day, from award_day_usage: $(median_ms "$by_days") ms"
echo "facility statement for a quarter, from award_quarter_usage: $(median_ms "$statement_kept") ms"
echo "facility statement for a quarter, the facility's records summed (before): $(median_ms "$statement_by_records") ms"
echo "usage by entry, from entry_usage: $(median_ms "$entries_kept") ms"
echo "usage by entry, the records summed (before): $(median_ms "$entries_by_records") ms"
sql -c "DROP INDEX usage_records_award_record; CREATE INDEX usage_records_award ON usage_records (award_id);
  ANALYZE usage_records;"
echo "page of 100, index (award_id) and a sort (before): $(median_ms "$page") ms"
echo "use by day, the award's records summed (before): $(median_ms "$by_records") ms"
