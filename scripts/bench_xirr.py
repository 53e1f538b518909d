#!/usr/bin/env python3
"""XIRR side by side: investai's Rust XIRR against pyxirr (PyPI, Rust-backed), same series.

Run from the repository root: `python3 scripts/bench_xirr.py` (installs pyxirr with pip if
missing). Generates 1,000 deterministic 100-flow series, runs the release example
`xirr_series` on them and times pyxirr.xirr on each (call overhead included, best of several
passes), checks that both give the same rate to 1e-9, and prints both timings and the ratio.
"""
import datetime
import json
import random
import subprocess
import sys
import tempfile
import timeit

SERIES = 1000
FLOWS = 100
PASSES = 7

try:
    import pyxirr
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pyxirr"], check=True)
    import pyxirr


def make_series(seed):
    rng = random.Random(seed)
    start = datetime.date(2020, 1, 1)
    dates, amounts = [start], [-1_000_000_000]
    day = 0
    for i in range(1, FLOWS):
        day += 25 + rng.randrange(20)
        cents = -rng.randrange(100_000_000) if i < 20 else rng.randrange(200_000_000)
        dates.append(start + datetime.timedelta(days=day))
        amounts.append(cents)
    return dates, amounts


def main():
    series = [make_series(seed) for seed in range(SERIES)]
    payload = [{"dates": [d.isoformat() for d in dates], "amounts": [f"{c / 100:.2f}" for c in cents]}
               for dates, cents in series]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump(payload, out)
        path = out.name
    rust = json.loads(subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", "xirr_series", "--", path],
        check=True, capture_output=True, text=True).stdout)

    inputs = [(dates, [c / 100 for c in cents]) for dates, cents in series]
    py_rates = [pyxirr.xirr(dates, amounts) for dates, amounts in inputs]
    worst = max(abs(a - b) for a, b in zip(rust["rates"], py_rates))
    per_pass = min(timeit.repeat(lambda: [pyxirr.xirr(d, a) for d, a in inputs], number=1, repeat=PASSES))
    py_seconds = per_pass / SERIES
    rs_seconds = rust["seconds_per_series"]
    print(f"series: {SERIES} x {FLOWS} flows")
    print(f"investai xirr: {rs_seconds * 1e6:.2f} us per series")
    print(f"pyxirr {pyxirr.__version__}: {py_seconds * 1e6:.2f} us per series (Python call included)")
    print(f"ratio:         {py_seconds / rs_seconds:.2f}x faster")
    print(f"largest rate difference: {worst:.3e}")
    if worst > 1e-9:
        sys.exit("rates differ by more than 1e-9")


if __name__ == "__main__":
    main()
