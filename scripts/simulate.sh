#!/usr/bin/env bash
# The seeded simulation's long mode (tests/simulation.rs, docs/testing.md):
#   scripts/simulate.sh [SEEDS] [STEPS] [FIRST_SEED] [BACKEND]
# Runs SEEDS seeds (default 10,000) of STEPS steps (default 150) from FIRST_SEED (default 1) on
# SQLite and on PostgreSQL (side by side; BACKEND sqlite or postgres runs one), on a release
# build, and prints per backend the seeds, steps, journal entries and violations. A failing seed prints its sequence and how to
# replay it (INVESTAI_SIM_SEED=N). The simulation restarts servers gracefully and tests no power
# cut, so the disk's flushes only cost time: SQLite files go to /dev/shm when it exists, and
# PostgreSQL test databases commit without waiting for the disk (INVESTAI_TEST_PG_SYNC_OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
export INVESTAI_SIM_SEEDS="${1:-10000}" INVESTAI_SIM_STEPS="${2:-150}" INVESTAI_SIM_FIRST_SEED="${3:-1}"
export INVESTAI_TEST_PG_URL="${INVESTAI_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_isready -q -d "$INVESTAI_TEST_PG_URL" || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
[ -d /dev/shm ] && export TMPDIR=/dev/shm
export INVESTAI_TEST_PG_SYNC_OFF=1
case "${4:-both}" in
  both) filter=seeded_runs ;;
  sqlite|postgres) filter="$4::seeded_runs" ;;
  *) echo "BACKEND is sqlite, postgres or both" >&2; exit 2 ;;
esac
echo "simulation: $INVESTAI_SIM_SEEDS seeds x $INVESTAI_SIM_STEPS steps from seed $INVESTAI_SIM_FIRST_SEED, $(nproc) cores, $(date -u +%Y-%m-%d)"
started=$(date +%s)
nice -n 10 cargo test --release --locked --test integration "simulation::$filter" -- --nocapture --test-threads 2 2>&1 |
  grep --line-buffered -E '^simulation|^test |^replay|panicked'
echo "elapsed: $(( $(date +%s) - started )) s"
