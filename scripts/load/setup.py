#!/usr/bin/env python3
"""Prepares a load run against a server holding the InvestAI demo data (scripts/bench_load.sh).

  setup.py prepare URL DATA_DIR SOURCES   signs in as the demo users, finds the ids the scenarios
                                          use, creates SOURCES new private sources and writes one
                                          untaken (fund, tranche, source) pair per line to
                                          DATA_DIR/commitments.txt; prints shell assignments.
  setup.py count URL TOKEN AWARD          prints the number of commitments and the award's used
                                          GPU-hours, to check what the load wrote.
  setup.py postings URL TOKEN FUND COUNT  adds about COUNT postings to FUND's journal in manual
                                          entries of ENTRY_POSTINGS each (EUR 0.01 of fund expenses
                                          against investment income, accounts without a floor).
Standard library only.
"""
import json
import sys
import uuid
from decimal import Decimal
import urllib.request
from concurrent.futures import ThreadPoolExecutor

DEMO_PASSWORD = "investai-demo-2025"


def call(url, method="GET", token=None, body=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def sign_in(base, username):
    return call(f"{base}/api/v1/auth/token", "POST", body={"username": username, "password": DEMO_PASSWORD})["access_token"]


def prepare(base, data_dir, source_count):
    staff, investor, facility = (sign_in(base, name) for name in ("staff", "aurora", "seine-operator"))
    funds = call(f"{base}/api/v1/funds?limit=500", token=staff)["items"]
    umbrella = next(f for f in funds if f["name"] == "InvestAI")
    gigafactories = next(f for f in funds if f["name"] == "AI Gigafactories Fund")
    tranches = [t for f in funds for t in call(f"{base}/api/v1/funds/{f['id']}/tranches?limit=500", token=staff)["items"]]
    awards = call(f"{base}/api/v1/awards?limit=500", token=facility)["items"]
    award = next(a for a in awards if a["status"] in ("awarded", "active"))

    run = uuid.uuid4().hex[:8]

    def new_source(n):
        body = {"kind": "private", "legal_name": f"Load investor {run}-{n:06d}", "country": "DE"}
        return call(f"{base}/api/v1/sources", "POST", staff, body)["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        sources = list(pool.map(new_source, range(source_count)))
    with open(f"{data_dir}/commitments.txt", "w") as out:
        for source in sources:
            for t in tranches:
                ticket = max(Decimal(t["min_ticket"]), Decimal("1000000.00"))
                out.write(f"{t['fund_id']} {t['id']} {source} {ticket}\n")
    print(f"STAFF_TOKEN={staff}")
    print(f"INVESTOR_TOKEN={investor}")
    print(f"FACILITY_TOKEN={facility}")
    print(f"UMBRELLA_FUND={umbrella['id']}")
    print(f"INVESTOR_FUND={gigafactories['id']}")
    print(f"AWARD_ID={award['id']}")
    print(f"PAIRS={len(sources) * len(tranches)}")


def count(base, token, award_id):
    funds = call(f"{base}/api/v1/funds?limit=500", token=token)["items"]
    commitments = 0
    for f in funds:
        after = None
        while True:
            query = "?limit=500" + (f"&after={after}" if after else "")
            page = call(f"{base}/api/v1/funds/{f['id']}/commitments{query}", token=token)
            commitments += len(page["items"])
            after = page.get("next_after")
            if not after:
                break
    award = call(f"{base}/api/v1/awards/{award_id}", token=token)
    print(json.dumps({"commitments": commitments, "used_gpu_hours": award["used_gpu_hours"]}))


ENTRY_POSTINGS = 1000


def postings(base, token, fund, count):
    half = ENTRY_POSTINGS // 2
    lines = [{"account": "5010", "debit": "0.01"}] * half + [{"account": "4000", "credit": "0.01"}] * half

    def entry(n):
        body = {"effective_date": "2026-11-02", "description": f"Soak fill {n}", "postings": lines}
        call(f"{base}/api/v1/funds/{fund}/journal-entries", "POST", token, body)

    entries = -(-count // ENTRY_POSTINGS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(entry, range(entries)))
    print(f"{entries} entries of {ENTRY_POSTINGS} postings", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "postings":
        postings(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        count(sys.argv[2], sys.argv[3], sys.argv[4])
