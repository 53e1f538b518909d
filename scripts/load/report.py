#!/usr/bin/env python3
"""Turns the figures of scripts/bench_load.sh into one table with ratios to the ceilings, and
checks the books: every acknowledged commitment and usage record is there. Exit 1 on a
refused request, a socket error or a missing write."""
import json
import sys
from decimal import Decimal

BATCH = 100
RECORD_HOURS = Decimal("0.001")


def main(path, pairs, connections):
    figures = {}
    for line in open(path):
        name, _, data = line.partition(" ")
        figures[name] = json.loads(data)
    ceiling = figures.get("healthz", {}).get("rps")
    pgbench = figures.get("pgbench_tpcb")
    print("| scenario | requests/s | p50 ms | p99 ms | ratio |")
    print("|---|---|---|---|---|")
    failed = []
    for name in ("healthz", "investor_metrics", "fund_overview", "commitments", "usage"):
        if name not in figures:
            continue
        f = figures[name]
        if name == "commitments" and pgbench:
            ratio = f"{f['rps'] / pgbench['tps']:.2f} of pgbench TPC-B"
        elif name in ("commitments", "usage") or not ceiling:
            ratio = "(write)"
        else:
            ratio = f"{f['rps'] / ceiling:.2f} of /healthz"
        extra = f" ({f['rps'] * BATCH:,.0f} records/s)" if name == "usage" else ""
        print(f"| {name} | {f['rps']:,.0f}{extra} | {f['p50_ms']:.1f} | {f['p99_ms']:.1f} | {ratio} |")
        if f["non_2xx"] or f["socket_errors"]:
            failed.append(f"{name}: {f['non_2xx']} refused, {f['socket_errors']} socket errors")
    if pgbench:
        print(f"| pgbench TPC-B, same PostgreSQL | {pgbench['tps']:,.0f} transactions/s | avg {pgbench['latency_avg_ms']} | | ceiling |")
    before, after = figures["books_before"], figures["books_after"]
    # Requests in flight when wrk stops are written but not counted by wrk: up to one per connection.
    if "commitments" in figures:
        acknowledged = figures["commitments"]["requests"] - figures["commitments"]["non_2xx"]
        recorded = after["commitments"] - before["commitments"]
        if not acknowledged <= recorded <= acknowledged + connections or recorded > pairs:
            failed.append(f"commitments: {acknowledged} acknowledged, {recorded} in the books")
        print(f"\nbooks: {recorded} commitments recorded ({acknowledged} acknowledged)")
    if "usage" in figures:
        batches = figures["usage"]["requests"] - figures["usage"]["non_2xx"]
        hours = Decimal(after["used_gpu_hours"]) - Decimal(before["used_gpu_hours"])
        if not batches * BATCH * RECORD_HOURS <= hours <= (batches + connections) * BATCH * RECORD_HOURS:
            failed.append(f"usage: {batches} batches acknowledged, {hours} GPU-hours in the books")
        print(f"books: {hours} GPU-hours debited ({batches} batches of {BATCH} acknowledged)")
    for failure in failed:
        print(f"FAILED {failure}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
