#!/usr/bin/env bash
# Server memory while exporting a large journal.
#   scripts/bench_export.sh [sqlite|postgres] [ENTRIES]
# Builds the release server and examples/export_fill.rs, fills a fresh database with ENTRIES
# entries of 4 postings (default 250,000: one million postings) through the real posting
# code, checks the chain with `investai verify`, then for each journal export starts the
# server afresh, downloads the export with curl and reports the server's peak resident memory
# (VmHWM from /proc/PID/status, before and after the download), the time and the size.
# Figures go to BENCHMARKS.md ("Ledger exports").
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
entries="${2:-250000}"
as_of=2030-12-31

cargo build --release --locked --bin investai --example export_fill >/dev/null
source scripts/lib/bench_env.sh "$backend" export_bench

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

echo "backend: $backend, $(nproc) cores, $(date -u +%Y-%m-%d), $entries entries of 4 postings"
fill_start=$(date +%s.%N)
fund=$(target/release/examples/export_fill "$DATABASE_URL" "$entries")
echo "filled in $(elapsed "$fill_start") s"
target/release/investai verify >/dev/null && echo "investai verify: chain intact"
echo 'bench-auditor-password' | target/release/investai user add --role auditor --name bench >/dev/null
token=$(target/release/investai token --user bench)

hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
port=$(free_port)
printf '%-16s %10s %12s %12s %10s %14s\n' export rows_or_lines peak_before peak_after seconds bytes
for name in journal.csv journal.jsonl journal.hledger workbook.xlsx trial-balance.csv; do
  target/release/investai serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  # One small authenticated request first, so the baseline includes a warm worker and a
  # database connection.
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/funds/$fund/accounts" >/dev/null
  before=$(hwm_kib "$server")
  out="$work/export.$name"
  timing=$(curl -sf -o "$out" -w '%{time_total} %{size_download}' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/funds/$fund/exports/$name?as_of=$as_of")
  after=$(hwm_kib "$server")
  case "$name" in
    workbook.xlsx) rows="-" ;;
    *) rows=$(wc -l <"$out") ;;
  esac
  printf '%-16s %10s %9s MiB %9s MiB %10s %14s\n' "$name" "$rows" \
    "$((before / 1024))" "$((after / 1024))" "${timing% *}" "${timing#* }"
  if [ "$name" = journal.hledger ] && command -v hledger >/dev/null; then
    start=$(date +%s.%N)
    hledger -f "$out" balance --flat --depth 1 >"$work/hledger.txt"
    echo "  hledger balance --depth 1 read it in $(elapsed "$start") s:"
    sed 's/^/    /' "$work/hledger.txt"
  fi
  rm -f "$out"
  stop_server
done
