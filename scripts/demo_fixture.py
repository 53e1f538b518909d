#!/usr/bin/env python3
"""Writes fixtures/investai.json, the InvestAI demo data (run from the repository root).

Facts from the February 2025 announcement: EUR 200 bn mobilised, EUR 50 bn public and EUR 150 bn
private; a EUR 20 bn AI gigafactories fund; 4 gigafactories of about 100,000 chips; 7 AI factories
selected in December 2024. Everything else (split by programme, institutions, tranche terms, calls)
is illustrative and labelled so in the file.
"""
import json

BN = 1_000_000_000
M = 1_000_000


def eur(amount):
    return f"{amount:.2f}"


private_names = [
    ("aurora", "Aurora Pension Fund", "NL"), ("baltic", "Baltic Sovereign Partners", "LT"),
    ("cerulean", "Cerulean Insurance Group", "FR"), ("danube", "Danube Infrastructure Capital", "AT"),
    ("edelweiss", "Edelweiss Endowment", "CH"), ("fjord", "Fjord Growth Equity", "NO"),
    ("garonne", "Garonne Asset Management", "FR"), ("helix", "Helix Technology Ventures", "DE"),
    ("iberia", "Iberia Mutual Pension", "ES"), ("jura", "Jura Family Office", "CH"),
    ("kestrel", "Kestrel Capital Partners", "IE"), ("lagoon", "Lagoon Reinsurance", "IT"),
    ("meridian", "Meridian Global Investors", "US"), ("nordlys", "Nordlys Pension", "DK"),
    ("olympus", "Olympus Strategic Fund", "GR"), ("polaris", "Polaris Sovereign Wealth", "AE"),
    ("quay", "Quay Street Holdings", "IE"), ("rhine", "Rhine Industrial Holdings", "DE"),
    ("sava", "Sava Capital", "SI"), ("tagus", "Tagus Ventures", "PT"),
    ("umbra", "Umbra Technology Partners", "FR"), ("vistula", "Vistula Growth Fund", "PL"),
]

sources = [
    {"key": "dep", "kind": "eu_programme", "programme": "digital_europe", "legal_name": "Digital Europe Programme", "country": "EU"},
    {"key": "he", "kind": "eu_programme", "programme": "horizon_europe", "legal_name": "Horizon Europe", "country": "EU"},
    {"key": "investeu", "kind": "eu_programme", "programme": "investeu", "legal_name": "InvestEU", "country": "EU"},
    {"key": "eib", "kind": "eib_group", "programme": "eib", "legal_name": "EIB Group", "country": "LU"},
]
for code, name in [("fr", "France"), ("de", "Germany"), ("it", "Italy"), ("es", "Spain"), ("pl", "Poland")]:
    sources.append({"key": f"ms_{code}", "kind": "member_state", "programme": "cohesion",
                    "legal_name": f"{name}: cohesion funds", "country": code.upper()})
for key, name, country in private_names:
    sources.append({"key": key, "kind": "private", "programme": "private", "legal_name": name, "country": country})

tranches = [
    {"key": "u_senior", "fund": "investai", "name": "Senior: EU AI Champions", "seniority": 1,
     "target_size": eur(135 * BN), "pref_rate": "0.06", "return_cap": None, "first_loss": False, "min_ticket": eur(100 * M)},
    {"key": "u_public", "fund": "investai", "name": "Public capped-return class", "seniority": 2,
     "target_size": eur(45 * BN), "pref_rate": "0.02", "return_cap": "1.10", "first_loss": False, "min_ticket": eur(0)},
    {"key": "g_senior", "fund": "gigafactories", "name": "Senior", "seniority": 1,
     "target_size": eur(12 * BN), "pref_rate": "0.07", "return_cap": None, "first_loss": False, "min_ticket": eur(50 * M)},
    {"key": "g_mezz", "fund": "gigafactories", "name": "Mezzanine", "seniority": 2,
     "target_size": eur(4 * BN), "pref_rate": "0.05", "return_cap": None, "first_loss": False, "min_ticket": eur(50 * M)},
    {"key": "g_first_loss", "fund": "gigafactories", "name": "Public first-loss", "seniority": 3,
     "target_size": eur(4 * BN), "pref_rate": "0.00", "return_cap": "1.25", "first_loss": True, "min_ticket": eur(0)},
]

commitments = []


def commit(source, tranche, amount):
    commitments.append({"source": source, "tranche": tranche, "amount": eur(amount), "effective_date": "2025-03-31"})


# Umbrella public class: EUR 45 bn.
for key, amount in [("dep", 7), ("he", 8), ("investeu", 15), ("ms_fr", 4), ("ms_de", 4), ("ms_it", 3), ("ms_es", 2), ("ms_pl", 2)]:
    commit(key, "u_public", amount * BN)
# Compartment: public EUR 5 bn (first loss 4, EIB 1 in mezzanine), private EUR 15 bn.
for key, amount in [("dep", 1.5), ("he", 1.5), ("investeu", 1.0)]:
    commit(key, "g_first_loss", int(amount * BN))
commit("eib", "g_mezz", 1 * BN)
for key, amount in [("cerulean", 1.0), ("danube", 1.0), ("lagoon", 1.0)]:
    commit(key, "g_mezz", int(amount * BN))
senior_g = [("aurora", 2.0), ("helix", 1.5), ("kestrel", 1.5), ("meridian", 2.0), ("nordlys", 1.5), ("rhine", 1.5), ("umbra", 1.0), ("polaris", 1.0)]
for key, amount in senior_g:
    commit(key, "g_senior", int(amount * BN))
# Umbrella senior: EUR 135 bn from all 22 institutions.
umbrella_senior = [9, 7, 7, 6, 5, 6, 6, 7, 6, 5, 6, 6, 10, 6, 5, 9, 5, 7, 4, 4, 5, 4]
assert sum(umbrella_senior) == 135
for (key, _, _), amount in zip(private_names, umbrella_senior):
    commit(key, "u_senior", amount * BN)

facilities = []
for key, name, state in [("gf_fr", "Gigafactory Seine", "FR"), ("gf_de", "Gigafactory Rhein-Main", "DE"),
                         ("gf_it", "Gigafactory Po Valley", "IT"), ("gf_es", "Gigafactory Meseta", "ES")]:
    facilities.append({"key": key, "name": name, "kind": "gigafactory", "member_state": state,
                       "chip_count": 100_000, "chip_type": "last-generation AI accelerator",
                       "quarterly_capacity_gpu_hours": 100_000 * 2_160,
                       "prices": [{"effective_date": "2025-01-01", "price_per_gpu_hour": "2.00"},
                                  {"effective_date": "2026-07-01", "price_per_gpu_hour": "1.80"}]})
for key, city, state, chips in [("af_bcn", "Barcelona", "ES", 4_000), ("af_blq", "Bologna", "IT", 6_000),
                                ("af_kaj", "Kajaani", "FI", 3_000), ("af_str", "Stuttgart", "DE", 5_000),
                                ("af_lux", "Bissen", "LU", 2_000), ("af_ath", "Athens", "GR", 2_000),
                                ("af_lin", "Linköping", "SE", 2_500)]:
    facilities.append({"key": key, "name": f"AI Factory {city}", "kind": "ai_factory", "member_state": state,
                       "chip_count": chips, "chip_type": "AI-optimised supercomputer partition",
                       "quarterly_capacity_gpu_hours": chips * 2_160,
                       "prices": [{"effective_date": "2025-01-01", "price_per_gpu_hour": "2.50"}]})

calls = [
    {"key": "g_call1", "fund": "gigafactories", "call_date": "2025-06-02", "due_date": "2025-06-30",
     "description": "First drawdown: Gigafactory Seine equity and AI Factory Barcelona grant",
     "lines": [
         {"tranche": "g_senior", "purpose": "investment", "facility": "gf_fr", "amount": eur(480 * M)},
         {"tranche": "g_senior", "purpose": "fees", "facility": None, "amount": eur(6 * M)},
         {"tranche": "g_mezz", "purpose": "investment", "facility": "gf_fr", "amount": eur(160 * M)},
         {"tranche": "g_first_loss", "purpose": "investment", "facility": "af_bcn", "amount": eur(160 * M)},
         {"tranche": "g_first_loss", "purpose": "expenses", "facility": None, "amount": eur(2 * M)},
     ]},
    {"key": "u_call1", "fund": "investai", "call_date": "2025-09-01", "due_date": "2025-09-30",
     "description": "First drawdown: Gigafactory Rhein-Main",
     "lines": [
         {"tranche": "u_senior", "purpose": "investment", "facility": "gf_de", "amount": eur(1350 * M)},
         {"tranche": "u_public", "purpose": "investment", "facility": "gf_de", "amount": eur(450 * M)},
     ]},
]

contributions = []
for key, _ in senior_g:
    if key == "polaris":
        continue  # left unpaid: its notice shows as late
    contributions.append({"call": "g_call1", "source": key, "tranche": "g_senior", "amount": None, "value_date": "2025-06-25"})
for key in ["eib", "cerulean", "danube"]:
    contributions.append({"call": "g_call1", "source": key, "tranche": "g_mezz", "amount": None, "value_date": "2025-06-27"})
contributions.append({"call": "g_call1", "source": "lagoon", "tranche": "g_mezz", "amount": eur(20 * M), "value_date": "2025-06-30"})
for key in ["dep", "he", "investeu"]:
    contributions.append({"call": "g_call1", "source": key, "tranche": "g_first_loss", "amount": None, "value_date": "2025-06-20"})
for key, _, _ in private_names:
    contributions.append({"call": "u_call1", "source": key, "tranche": "u_senior", "amount": None, "value_date": "2025-09-29"})
for key in ["dep", "he", "investeu", "ms_fr", "ms_de", "ms_it", "ms_es", "ms_pl"]:
    contributions.append({"call": "u_call1", "source": key, "tranche": "u_public", "amount": None, "value_date": "2025-09-26"})

deployments = [
    {"fund": "gigafactories", "facility": "gf_fr", "kind": "equity", "amount": eur(600 * M), "value_date": "2025-07-15",
     "description": "Equity stake in Gigafactory Seine"},
    {"fund": "gigafactories", "facility": "af_bcn", "kind": "grant", "amount": eur(100 * M), "value_date": "2025-07-20",
     "description": "Grant towards AI Factory Barcelona"},
    {"fund": "investai", "facility": "gf_de", "kind": "equity", "amount": eur(1500 * M), "value_date": "2025-10-15",
     "description": "Equity stake in Gigafactory Rhein-Main"},
]

proceeds = [
    {"fund": "gigafactories", "facility": "gf_fr", "amount": eur(300 * M), "cost_returned": eur(200 * M), "value_date": "2026-06-30",
     "description": "Partial sale of the Gigafactory Seine stake (illustrative)"},
    {"fund": "gigafactories", "facility": "gf_fr", "amount": eur(900 * M), "cost_returned": eur(400 * M), "value_date": "2026-10-15",
     "description": "Sale of the remaining Gigafactory Seine stake (illustrative)"},
]

waterfalls = [
    {"fund": "gigafactories", "terms": {"steps": [
        {"type": "pref", "tranches": ["g_senior", "g_mezz"], "mode": "sequential"},
        {"type": "capital", "tranches": ["g_senior", "g_mezz", "g_first_loss"], "mode": "sequential"},
        {"type": "reserve", "account": "1010", "percent": "10", "cap": eur(20 * M)},
        {"type": "split", "shares": [{"tranche": "g_senior", "percent": "50"}, {"tranche": "g_mezz", "percent": "30"},
                                     {"tranche": "g_first_loss", "percent": "20"}]},
    ]}},
    {"fund": "investai", "terms": {"steps": [
        {"type": "pref", "tranches": ["u_senior", "u_public"], "mode": "sequential"},
        {"type": "capital", "tranches": ["u_senior", "u_public"], "mode": "sequential"},
        {"type": "reserve", "account": "1010", "percent": "5", "cap": None},
        {"type": "split", "shares": [{"tranche": "u_senior", "percent": "85"}, {"tranche": "u_public", "percent": "15"}]},
    ]}},
]

distributions = [
    {"fund": "gigafactories", "cash": eur(300 * M), "date": "2026-07-15", "description": "First distribution (illustrative)"},
    {"fund": "gigafactories", "cash": eur(900 * M), "date": "2026-10-20",
     "description": "Second distribution; its reserve step fills the compute-grant pool (illustrative)"},
]

# Compute grants: SMEs act by their own party ids; one call open for years so the demo stays
# usable, one awarded application with metered usage, one submitted application waiting for
# its second review, and nothing yet for the second SME user to apply with in the browser.
smes = [{"key": "sme_nordlicht"}, {"key": "sme_lumen"}, {"key": "sme_kestrel"}]

grant_calls = [
    {"key": "call_2026", "request": {
        "fund_id": "gigafactories", "name": "GPU-hours for SMEs 2026-2031 (illustrative)",
        "budget": eur(5 * M), "opens_at": "2026-09-01T00:00:00Z", "closes_at": "2031-12-31T23:59:59Z",
        "eligible_facility_ids": ["gf_fr", "gf_de"], "max_gpu_hours_per_award": "250000",
        "aid_basis": "de_minimis", "min_reviewers": 2, "min_average_score": "60"}},
]

def application(company, registration, country, region, nace, staff, turnover, balance, title, summary, hours, facility):
    return {
        "company": {"legal_name": company, "registration_number": registration, "country": country,
                    "nace_code": nace, "nuts2_region": region},
        "staff_awu": staff, "turnover": eur(turnover), "balance_sheet": eur(balance), "related": [],
        "de_minimis_received": eur(0), "project_title": title, "summary": summary,
        "requested_gpu_hours": hours, "facility_id": facility,
        "start_date": "2026-10-01", "end_date": "2027-09-30",
    }

applications = [
    {"key": "app_nordlicht", "call": "call_2026", "sme": "sme_nordlicht", "submit": True,
     "request": application("Nordlicht Robotics GmbH", "HRB 123456", "DE", "DE21", "62.01", "42", 6 * M, 4 * M,
                            "Vision models for warehouse robots",
                            "Training and evaluating vision models that let mobile robots pick mixed goods.",
                            "20000", "gf_fr"),
     "reviews": [{"reviewer": "staff:reviewer-1", "score": 82, "comment": "Clear plan, realistic hours."},
                 {"reviewer": "staff:reviewer-2", "score": 74, "comment": "Sound; data access to be confirmed."}],
     "award_gpu_hours": "20000"},
    {"key": "app_lumen", "call": "call_2026", "sme": "sme_lumen", "submit": True,
     "request": application("Lumen Bio SAS", "RCS 901 234 567", "FR", "FR10", "72.11", "120", 30 * M, 25 * M,
                            "Protein language model fine-tuning",
                            "Fine-tuning protein language models to screen enzyme candidates.",
                            "60000", "gf_fr"),
     "reviews": [{"reviewer": "staff:reviewer-1", "score": 71, "comment": "Good science; hours on the high side."}],
     "award_gpu_hours": None},
]

usage = [
    {"facility": "gf_fr", "records": [
        {"record_id": f"seine-2026-10-{day:02d}", "application": "app_nordlicht", "gpu_hours": "310.500",
         "period_start": f"2026-10-{day:02d}T08:00:00Z", "period_end": f"2026-10-{day:02d}T20:00:00Z"}
        for day in range(1, 31)
    ]},
]

valuations = [
    {"fund": "gigafactories", "as_of": "2025-12-31", "nav": eur(720 * M), "description": "Year-end valuation (illustrative)"},
]

users = [
    {"username": "staff", "role": "staff", "party": None},
    # A second staff user: proposals by one are approved by the other (four eyes).
    {"username": "verifier", "role": "staff", "party": None},
    {"username": "auditor", "role": "auditor", "party": None},
    {"username": "admin", "role": "admin", "party": None},
    # A second admin: role changes proposed by one are approved by the other (four eyes).
    {"username": "security-officer", "role": "admin", "party": None},
    {"username": "aurora", "role": "investor", "party": "aurora"},
    {"username": "digital-europe", "role": "investor", "party": "dep"},
    {"username": "seine-operator", "role": "facility", "party": "gf_fr"},
    {"username": "nordlicht", "role": "sme", "party": "sme_nordlicht"},
    {"username": "lumen", "role": "sme", "party": "sme_lumen"},
    {"username": "kestrel", "role": "sme", "party": "sme_kestrel"},
]
for user in users:
    user["password"] = "investai-demo-2025"

fixture = {
    "notes": [
        "InvestAI demo data. Facts from the February 2025 announcement: EUR 200 bn mobilised (EUR 50 bn public, EUR 150 bn private), a EUR 20 bn AI gigafactories fund, 4 gigafactories of about 100,000 chips each, 7 AI factories selected in December 2024.",
        "Illustrative, fixed by no public source: dates, fund terms and tranche terms; the split of public money by programme and Member State; every private institution (all fictional) and its amount; gigafactory names; chip counts of the AI factories; capacities (chips x 2,160 hours a quarter); list prices per GPU-hour; the calls, contributions, deployments and valuations; the fund's bank account (an IBAN from the published examples, valid check digits, not an account of the fund), the SMEs (fictional), grant calls, applications, reviews, awards and usage.",
        "Demo users all have the password investai-demo-2025; never use these users outside a demo.",
    ],
    "funds": [
        {"key": "investai", "name": "InvestAI", "parent": None, "target_size": eur(200 * BN), "inception_date": "2025-02-11", "term_years": 10,
         "bank_account": {"account_holder": "InvestAI Fund (demo)", "iban": "LU280019400644750000", "bic": "BCEELULL"}},
        {"key": "gigafactories", "name": "AI Gigafactories Fund", "parent": "investai", "target_size": eur(20 * BN), "inception_date": "2025-02-11", "term_years": 10},
    ],
    "tranches": tranches,
    "sources": sources,
    "facilities": facilities,
    "commitments": commitments,
    "calls": calls,
    "contributions": contributions,
    "deployments": deployments,
    "valuations": valuations,
    "proceeds": proceeds,
    "waterfalls": waterfalls,
    "distributions": distributions,
    "smes": smes,
    "grant_calls": grant_calls,
    "applications": applications,
    "usage": usage,
    "users": users,
}

with open("fixtures/investai.json", "w", encoding="utf-8") as out:
    json.dump(fixture, out, indent=1, ensure_ascii=False)
    out.write("\n")
