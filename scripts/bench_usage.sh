#!/usr/bin/env bash
# Usage-ingestion throughput against the real release server on a fresh database.
#   scripts/bench_usage.sh [sqlite|postgres] [BATCHES] [CONCURRENCY]
# Builds the release server and the load client, starts the server on a free loopback port
# against a fresh SQLite file or a fresh PostgreSQL database, runs examples/usage_load.rs, and
# stops the server (and drops the database) when done. Figures go to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
batches="${2:-30}"
concurrency="${3:-4}"

cargo build --release --locked --bin investai --example usage_load >/dev/null
work=$(mktemp -d)
export INVESTAI_JWT_SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export INVESTAI_LOG_LEVEL=warn INVESTAI_LAPSE_INTERVAL_SECONDS=0
pg_admin="${INVESTAI_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_db=""
case "$backend" in
  sqlite) export DATABASE_URL="sqlite://$work/bench.db" ;;
  postgres)
    pg_db="investai_bench_$$"
    psql -q "$pg_admin" -c "CREATE DATABASE $pg_db"
    export DATABASE_URL="${pg_admin%/*}/$pg_db" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/investai serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  [ -n "$pg_db" ] && psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "backend: $backend, $(nproc) cores, $(date -u +%Y-%m-%d)"
target/release/examples/usage_load "http://127.0.0.1:$port" "$batches" "$concurrency"
