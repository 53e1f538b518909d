#!/usr/bin/env bash
# A sign-in flood against the real release server on the demo data, and what it does to the
# server's memory and to a staff read, measured in the same run (BENCHMARKS.md, "Sign-in flood"):
#   scripts/bench_sign_in_flood.sh [sqlite|postgres] [SECONDS]
# 1. idle: a staff read (GET /api/v1/funds, 2 connections) for 10 s: its p50.
# 2. one address: CONNECTIONS (64) connections send wrong passwords to POST /api/v1/auth/token for
#    SECONDS (60) from this machine, while the staff read runs again; the server's resident memory
#    is sampled every second.
# 3. many addresses: the same, the server trusting X-Forwarded-For and every request claiming
#    another address, so throttling holds back little and the hashing bound does the work.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
seconds="${2:-60}"
connections="${FLOOD_CONNECTIONS:-64}"

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
cargo build --release --locked --bin investai >/dev/null
source scripts/lib/bench_env.sh "$backend" flood
export LOAD_SCRIPTS="$PWD/scripts/load" LOAD_THREADS=2
target/release/investai migrate >/dev/null
target/release/investai seed fixtures/investai.json >/dev/null
staff=$(target/release/investai token --user staff)

start() {
  port=$(free_port)
  url="http://127.0.0.1:$port"
  target/release/investai serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
}
rss_mb() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }
staff_read() {
  LOAD_TOKEN="$staff" LOAD_PATH="/api/v1/funds" wrk -t1 -c2 -d"$1s" -s scripts/load/get.lua "$url" | tail -1
}
# Runs the flood with the staff read beside it; prints the flood's figures, the read's, and the
# largest resident memory seen.
flood() {
  local spread=$1 peak=0 sample
  FLOOD_SPREAD=$spread wrk -t2 -c"$connections" -d"${seconds}s" --timeout 30s -s scripts/load/sign_in_flood.lua "$url" \
    | tail -1 >"$work/flood.json" &
  local flood_pid=$!
  sleep 5
  staff_read $(( seconds - 10 )) >"$work/read.json" &
  local read_pid=$!
  while kill -0 "$flood_pid" 2>/dev/null; do
    sample=$(rss_mb); [ "${sample:-0}" -gt "$peak" ] && peak=$sample
    sleep 1
  done
  wait "$read_pid"
  echo "flood $(cat "$work/flood.json")"
  echo "staff_read $(cat "$work/read.json")"
  echo "rss_peak_mb $peak rss_after_mb $(rss_mb)"
}

echo "backend: $backend, $(nproc) cores, $connections connections, ${seconds} s, $(date -u +%Y-%m-%d)"
start
echo "rss_idle_mb $(rss_mb)"
echo "idle staff_read $(staff_read 10)"
echo "== one address"
flood 0
stop_server
export INVESTAI_CLIENT_IP_HEADER=X-Forwarded-For
start
echo "== many addresses (X-Forwarded-For trusted)"
echo "rss_idle_mb $(rss_mb)"
echo "idle staff_read $(staff_read 10)"
flood 1
if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "the server logged errors:" >&2; grep '"level":"ERROR"' "$work/server.log" | head -5 >&2; exit 1
fi
