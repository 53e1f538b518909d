#!/usr/bin/env python3
"""XIRR side by side: investai's Rust XIRR against pyxirr (PyPI, Rust-backed), same series.

Run from the repository root: `python3 scripts/bench_xirr.py [RANDOM_SERIES]` (installs pyxirr
with pip if missing). Two sets of deterministic series:

- regular: 1,000 series of 100 flows (a fund's life: calls, then distributions);
- random: RANDOM_SERIES (default 100,000) series of 2 to 12 flows drawn to reach every corner:
  deep losses (what comes back is 10^-6 to 0.9 of what went in, after a day to ten years: rates
  down to -99.9999...%), very large gains (up to 10^4 times in a few days), ordinary funds, and
  flows of random signs (several sign changes).

For each set it runs the release example `xirr_series` (best of several passes) and times
pyxirr.xirr on each series (Python call overhead included, best of several passes), and compares
every rate pyxirr finds with ours: they agree when ours (or, with several roots, one of the roots
ours reports) is within 1e-9 relative of pyxirr's (|ours - pyxirr| <= 1e-9 x |pyxirr|, measured
against 0.001 for rates smaller than 0.1%). Each disagreement is then settled by an exact root
(mpmath, 50 digits, found from pyxirr's rate): it counts against ours when ours misses that root
by more than 1e-9, and against pyxirr when pyxirr does and ours does not. Prints the figures and
exits 1 on any disagreement that counts against ours, or if ours is not at least twice as fast
on either set.
"""
import datetime
import json
import math
import random
import subprocess
import sys
import tempfile
import timeit

REGULAR_SERIES = 1000
REGULAR_FLOWS = 100
RANDOM_SERIES = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
PASSES = 5
TOLERANCE = 1e-9
SPEED_RATIO_MIN = 2.0

try:
    import mpmath
    import pyxirr
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pyxirr", "mpmath"], check=True)
    import mpmath
    import pyxirr

mpmath.mp.dps = 50

START = datetime.date(2020, 1, 1)


def regular(seed):
    rng = random.Random(seed)
    dates, amounts = [START], [-1_000_000_000]
    day = 0
    for i in range(1, REGULAR_FLOWS):
        day += 25 + rng.randrange(20)
        cents = -rng.randrange(100_000_000) if i < 20 else rng.randrange(200_000_000)
        dates.append(START + datetime.timedelta(days=day))
        amounts.append(cents)
    return dates, amounts


def flows_in_then_out(rng, ratio, horizon_days):
    """1-5 payments over up to 90 days, then 1-4 receipts adding to `ratio` x what was paid,
    the last after `horizon_days`."""
    paid_days = sorted(rng.randrange(0, 90) for _ in range(rng.randint(1, 5)))
    paid = [rng.randint(100_00, 10_000_000_00) for _ in paid_days]
    total_back = max(1, int(sum(paid) * ratio))
    last = paid_days[-1] + horizon_days
    back_days = sorted({last} | {rng.randint(paid_days[-1] + 1, last) for _ in range(rng.randint(0, 3))})
    weights = [rng.random() + 0.01 for _ in back_days]
    back = [max(1, int(total_back * w / sum(weights))) for w in weights]
    days = paid_days + back_days
    amounts = [-p for p in paid] + back
    return [START + datetime.timedelta(days=d) for d in days], amounts


def random_series(seed):
    rng = random.Random(1_000_003 + seed)
    kind = seed % 4
    if kind == 0:  # deep loss
        return flows_in_then_out(rng, 10 ** rng.uniform(-6, math.log10(0.9)), rng.randint(1, 3650))
    if kind == 1:  # very large gain
        return flows_in_then_out(rng, 10 ** rng.uniform(0.3, 4), rng.randint(1, 60))
    if kind == 2:  # ordinary
        return flows_in_then_out(rng, rng.uniform(0.5, 3.0), rng.randint(30, 3650))
    # random signs, possibly several changes
    count = rng.randint(2, 12)
    days = sorted(rng.sample(range(0, 3650), count))
    amounts = [rng.choice((-1, 1)) * rng.randint(1, 10_000_000_00) for _ in days]
    return [START + datetime.timedelta(days=d) for d in days], amounts


def ours(series):
    payload = [{"dates": [d.isoformat() for d in dates], "amounts": [f"{c / 100:.2f}" for c in cents]}
               for dates, cents in series]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump(payload, out)
        path = out.name
    return json.loads(subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", "xirr_series", "--", path],
        check=True, capture_output=True, text=True).stdout)


def theirs(series):
    inputs = [(dates, [c / 100 for c in cents]) for dates, cents in series]

    def one(dates, amounts):
        try:
            return pyxirr.xirr(dates, amounts)
        except pyxirr.InvalidPaymentsError:
            return None

    rates = [one(d, a) for d, a in inputs]
    best = min(timeit.repeat(lambda: [one(d, a) for d, a in inputs], number=1, repeat=PASSES))
    return rates, best / len(series)


def difference(mine, reference):
    """Relative difference, against 0.001 for rates smaller than that."""
    return abs(mine - reference) / max(abs(reference), 1e-3)


def agrees(mine, roots, reference):
    return any(r is not None and difference(r, reference) <= TOLERANCE for r in [mine] + (roots or []))


def exact_root(series, near):
    """The root of the series' present value nearest `near`, to 50 digits, or None."""
    dates, cents = series
    start = dates[0]
    flows = [(mpmath.mpf((d - start).days) / 365, mpmath.mpf(c) / 100) for d, c in zip(dates, cents)]

    def npv(log_growth):
        return sum(v * mpmath.exp(-t * log_growth) for t, v in flows)
    try:
        x = mpmath.findroot(npv, mpmath.log1p(mpmath.mpf(near)))
    except (ValueError, ZeroDivisionError):
        return None
    return float(mpmath.expm1(x))


def compare(name, series):
    rust = ours(series)
    py_rates, py_seconds = theirs(series)
    found = against_ours = against_pyxirr = 0
    worst = 0.0
    examples = []
    for index, (mine, roots, reference) in enumerate(zip(rust["rates"], rust["roots"], py_rates)):
        if reference is None or not math.isfinite(reference):
            continue
        found += 1
        candidates = [r for r in [mine] + (roots or []) if r is not None]
        if agrees(mine, roots, reference):
            worst = max(worst, min(difference(r, reference) for r in candidates))
            continue
        exact = exact_root(series[index], reference)
        if exact is not None and any(difference(r, exact) <= TOLERANCE for r in candidates):
            against_pyxirr += 1
        else:
            against_ours += 1
            if len(examples) < 5:
                examples.append((index, reference, exact, mine, roots))
    ratio = py_seconds / rust["seconds_per_series"]
    ours_only = sum(1 for m, r in zip(rust["rates"], py_rates) if m is not None and (r is None or not math.isfinite(r)))
    print(f"{name}: {len(series)} series")
    print(f"  investai xirr: {rust['seconds_per_series'] * 1e6:.2f} us per series")
    print(f"  pyxirr {pyxirr.__version__}: {py_seconds * 1e6:.2f} us per series (Python call included)")
    print(f"  ratio: {ratio:.2f}x faster")
    print(f"  pyxirr finds a rate in {found}; ours in {sum(1 for m in rust['rates'] if m is not None)}"
          f" ({ours_only} where pyxirr finds none)")
    print(f"  agree within {TOLERANCE:g} relative: {found - against_ours - against_pyxirr} (largest difference {worst:.3e});"
          f" pyxirr off the exact root and ours on it: {against_pyxirr}; ours off: {against_ours}")
    for index, reference, exact, mine, roots in examples:
        dates, cents = series[index]
        print(f"    series {index}: pyxirr {reference!r}, exact {exact!r}, ours {mine!r} roots {roots}:"
              f" {list(zip([d.isoformat() for d in dates], cents))}")
    return against_ours, ratio


def main():
    failures = []
    for name, series in (("regular", [regular(s) for s in range(REGULAR_SERIES)]),
                         ("random", [random_series(s) for s in range(RANDOM_SERIES)])):
        disagreements, ratio = compare(name, series)
        if disagreements:
            failures.append(f"{name}: {disagreements} disagreements")
        if ratio < SPEED_RATIO_MIN:
            failures.append(f"{name}: only {ratio:.2f}x pyxirr's speed")
    if failures:
        sys.exit("; ".join(failures))


if __name__ == "__main__":
    main()
