#!/usr/bin/env bash
# Memory and latency over a soak (docs/scaling.md, "Soak"). The release server on a fresh
# PostgreSQL database with the demo data is first filled with FILL_BATCHES usage batches of
# 10,000 records (default 1,000: 10,000,000 records) and FILL_POSTINGS journal postings (default
# 1,000,000), then takes MINUTES (default 30) one-minute rounds of mixed load, all at once:
#   - reads of the umbrella fund's overview, 8 connections;
#   - new commitments, 2 connections (each a new source and tranche pair);
#   - usage batches of 10,000 records, one at a time, 10 batches then a 10 s pause, repeated.
# Each round prints the server's resident memory at its end and the p99 of reads and commitments
# in it; at the end, the last round against round five (after the first five minutes), and the
# median of the last five rounds against that of the first five. Target: within 20%.
#   scripts/soak.sh [MINUTES] [FILL_BATCHES] [FILL_POSTINGS]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
fill_batches="${2:-1000}"
fill_postings="${3:-1000000}"
threads=2
read_connections=8
commit_connections=2
# Commitments a second the pairs are prepared for (2 connections stay well below it).
commit_rate_max=400
baseline_round=5
[ "$minutes" -gt "$baseline_round" ] || { echo "MINUTES must be more than $baseline_round" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
cargo build --release --locked --bin investai --example usage_load >/dev/null
source scripts/lib/bench_env.sh postgres soak
# One user sets everything up (no second to approve), and tokens outlive the run.
export INVESTAI_FOUR_EYES=false INVESTAI_TOKEN_TTL_MINUTES=$(( minutes + 120 ))
start_demo_server
stamp() { date -u +%H:%M:%S; }
usage_loop=""
stop_usage() { [ -z "$usage_loop" ] || { kill "$usage_loop" 2>/dev/null || true; wait "$usage_loop" 2>/dev/null || true; }; }
trap 'stop_usage; bench_cleanup' EXIT

echo "filling: $fill_batches usage batches ($(stamp))" >&2
for _ in $(seq 1 $(( fill_batches / 100 ))); do
  target/release/examples/usage_load "$url" 100 4 | grep -E '^records' >&2 || true
done
sources=$(( minutes * 60 * commit_rate_max / 5 ))
echo "preparing $sources sources ($(stamp))" >&2
eval "$(python3 scripts/load/setup.py prepare "$url" "$work" "$sources")"
echo "filling: $fill_postings postings ($(stamp))" >&2
python3 scripts/load/setup.py postings "$url" "$STAFF_TOKEN" "$UMBRELLA_FUND" "$fill_postings"
held() {
  psql -qAt "$DATABASE_URL" -c "SELECT (SELECT count(*) FROM usage_records), (SELECT count(*) FROM postings), \
    (SELECT count(*) FROM commitments)"
}
echo "backend: postgres, $(nproc) cores, $minutes rounds, $(date -u +%Y-%m-%d); usage records|postings|commitments: $(held)"

export LOAD_SCRIPTS="$PWD/scripts/load" LOAD_DATA="$work" LOAD_THREADS=$threads
(
  while true; do
    target/release/examples/usage_load "$url" 10 1 >/dev/null 2>&1 || true
    sleep 10
  done
) &
usage_loop=$!
rss=() read_p99=() commit_p99=()
for round in $(seq 1 "$minutes"); do
  export LOAD_OFFSET=$(cat "$work/commitments.sent" 2>/dev/null || echo 0)
  LOAD_TOKEN="$STAFF_TOKEN" LOAD_PATH="/api/v1/funds/$UMBRELLA_FUND/overview" \
    wrk -t"$threads" -c"$read_connections" -d60s --timeout 30s -s scripts/load/get.lua "$url" | tail -1 >"$work/reads.json" &
  reads=$!
  commits=$(LOAD_TOKEN="$STAFF_TOKEN" wrk -t1 -c"$commit_connections" -d60s --timeout 30s \
    -s scripts/load/commitments.lua "$url" | tail -1)
  wait "$reads"
  kib=$(ps -o rss= -p "$server" | tr -d ' ')
  read_figure=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["p99_ms"])' "$work/reads.json")
  commit_figure=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["p99_ms"])' "$commits")
  rss+=("$kib") read_p99+=("$read_figure") commit_p99+=("$commit_figure")
  echo "round $round ($(stamp)): rss ${kib} KiB; reads $(cat "$work/reads.json"); commitments $commits"
done
stop_usage
echo "at the end: usage records|postings|commitments: $(held)"
python3 - "$baseline_round" "${rss[*]}" "${read_p99[*]}" "${commit_p99[*]}" <<'PY'
import statistics
import sys
base = int(sys.argv[1]) - 1
for name, values in (("resident memory (KiB)", sys.argv[2]), ("reads p99 (ms)", sys.argv[3]),
                     ("commitments p99 (ms)", sys.argv[4])):
    figures = [float(v) for v in values.split()]
    first, last = figures[base], figures[-1]
    ratio = last / first if first else float("inf")
    verdict = "within 20%" if abs(ratio - 1) <= 0.2 else "NOT within 20%"
    print(f"{name}: round {base + 1} {first:g}, last round {last:g}: {ratio:.2f} ({verdict})")
    # One round's p99 rests on a few slow requests; the medians of five rounds show the trend.
    early, late = statistics.median(figures[:base + 1]), statistics.median(figures[-(base + 1):])
    print(f"  median of rounds 1-{base + 1} {early:g}, of the last {base + 1} rounds {late:g}: {late / early:.2f}")
PY
