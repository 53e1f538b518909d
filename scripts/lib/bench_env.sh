# Shared by the benchmark scripts (sourced): a work folder, a signing secret and a fresh
# database for backend $1 (`sqlite` or `postgres`, named after $2 on PostgreSQL), a server
# slot, and a trap that stops the server and drops the database however the script ends.
# Sets: work, DATABASE_URL, pg_admin, pg_db, server; defines stop_server, free_port and
# start_demo_server.
# A script may list more PostgreSQL databases to drop in extra_dbs.
bench_backend="$1"
work=$(mktemp -d)
export INVESTAI_JWT_SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export INVESTAI_LOG_LEVEL=warn INVESTAI_LAPSE_INTERVAL_SECONDS=0
pg_admin="${INVESTAI_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_db="" extra_dbs="" server=""
case "$bench_backend" in
  sqlite) export DATABASE_URL="sqlite://$work/bench.db" ;;
  postgres)
    pg_db="investai_${2}_$$"
    psql -q "$pg_admin" -c "CREATE DATABASE $pg_db"
    export DATABASE_URL="${pg_admin%/*}/$pg_db" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
stop_server() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
}
bench_cleanup() {
  stop_server
  for db in $pg_db $extra_dbs; do psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; done
  rm -rf "$work"
}
trap bench_cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Migrates and seeds the database with the demo data, starts the release server on a free port
# and waits until it answers. Sets: port, url, server.
start_demo_server() {
  target/release/investai migrate >/dev/null
  target/release/investai seed fixtures/investai.json >/dev/null
  port=$(free_port)
  url="http://127.0.0.1:$port"
  target/release/investai serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
}
