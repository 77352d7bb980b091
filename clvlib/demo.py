"""The demo exporter: a realistic, deterministic export company to run the workbook on.

What it is
----------
A mid-size exporter with about 40 sales reps in 4 regional teams (some hired this year, some who left,
their customers handed over to a replacement), a few service and supply-chain colleagues, ~3,000 B2B
customers in 28 countries and 5 years of invoices in 7 currencies, with costs of goods, freight,
insurance and bank fees, returns (credit notes), cancelled documents, late and unpaid invoices, split
credit, NPS surveys and complaints.

How customers behave
--------------------
Purchases follow the BG/NBD buy-till-you-die process (Fader, Hardie & Lee 2005) with known parameters:
each customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)`` per week while alive and, after each
repeat purchase, drops out with probability ``p ~ Beta(a, b)``. Order values follow the Gamma-Gamma
spend model (``z ~ Gamma(p_gg, nu)``, ``nu ~ Gamma(q, gamma)``). The *population* is exactly this
mixture, so a fit on the demo data must recover the parameters within sampling error.

How reps differ
---------------
Reps follow archetypes. Which rep wins a new account depends on the customer's latent nature:
*hunters* win (and are drawn to) one-off buyers with a high drop-out probability, push high-margin
products on the first deal (bigger, more profitable first orders, more returns and complaints);
*farmers* end up with loyal, frequent buyers and better NPS. So a commission ranking (first-order
revenue and margin) and a CLV ranking of the same team genuinely disagree. The archetypes and the true
parameters are written to ``truth/truth.json`` so tests can check the analysis recovers them.

Deliberate defects
------------------
With ``defects=True`` (the default) a handful of realistic bad rows are planted — a typo'd currency, an
exact duplicate export row, a missing date, a split that does not sum to 1, an out-of-range NPS score,
a conflicting duplicate invoice number, an order for an unknown customer — each listed in
``truth.json`` so the data-quality section can be checked against them.

Everything is a pure function of ``seed`` (and size and end date).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.errors import ParamsError

DEMO_END = date(2026, 10, 31)
DEMO_YEARS = 5
FILES = ("orders", "order_splits", "customers", "reps", "ownership", "nps", "complaints", "fx_rates")

# team -> {country: invoicing currency}
TEAMS: dict[str, dict[str, str]] = {
    "Europe": {"DE": "EUR", "FR": "EUR", "IT": "EUR", "ES": "EUR", "NL": "EUR", "PL": "EUR",
               "SE": "EUR", "GB": "GBP"},
    "Americas": {"US": "USD", "CA": "CAD", "MX": "USD", "BR": "USD", "CL": "USD", "CO": "USD"},
    "Asia-Pacific": {"JP": "JPY", "KR": "USD", "AU": "AUD", "SG": "USD", "VN": "USD", "TH": "USD",
                     "IN": "USD", "MY": "USD"},
    "Middle East & Africa": {"AE": "AED", "SA": "USD", "TR": "USD", "EG": "USD", "ZA": "USD",
                             "NG": "USD"},
}
COUNTRY_WEIGHT = {"DE": 9, "FR": 6, "IT": 5, "ES": 5, "NL": 4, "PL": 3, "SE": 2, "GB": 7, "US": 14,
                  "CA": 4, "MX": 4, "BR": 4, "CL": 2, "CO": 2, "JP": 5, "KR": 3, "AU": 5, "SG": 2,
                  "VN": 3, "TH": 2, "IN": 4, "MY": 2, "AE": 4, "SA": 3, "TR": 3, "EG": 2, "ZA": 2,
                  "NG": 2}
# reporting-currency (USD) value of one unit, at the start; the rest is a random walk (AED is pegged)
FX_START = {"EUR": 1.13, "GBP": 1.36, "JPY": 0.0088, "AUD": 0.74, "CAD": 0.79, "AED": 0.27229}
FX_VOL = {"EUR": 0.006, "GBP": 0.007, "JPY": 0.007, "AUD": 0.008, "CAD": 0.005, "AED": 0.0}
INDUSTRIES = ("Building materials", "Auto parts", "Furniture", "Home appliances", "Textiles",
              "Industrial machinery", "Electronics components", "Packaging", "Medical supplies",
              "Lighting", "Hardware & tools", "Chemicals")
NAME_A = ("Nord", "Atlas", "Blue", "Prime", "Golden", "Pacific", "Iron", "Green", "Summit", "Delta",
          "Star", "Royal", "Alpha", "Crown", "Silver", "Ocean", "Eagle", "Metro", "Union", "Vista")
NAME_B = ("Trading", "Imports", "Supply", "Industries", "Distribution", "Group", "Solutions",
          "Partners", "Retail", "Engineering", "Wholesale", "Logistics")
SUFFIX = {"DE": "GmbH", "FR": "SARL", "IT": "S.r.l.", "ES": "S.L.", "NL": "B.V.", "PL": "Sp. z o.o.",
          "SE": "AB", "GB": "Ltd", "US": "Inc.", "CA": "Inc.", "MX": "S.A. de C.V.", "BR": "Ltda",
          "CL": "SpA", "CO": "S.A.S.", "JP": "K.K.", "KR": "Co., Ltd.", "AU": "Pty Ltd", "SG": "Pte Ltd",
          "VN": "JSC", "TH": "Co., Ltd.", "IN": "Pvt Ltd", "MY": "Sdn Bhd", "AE": "LLC", "SA": "Co.",
          "TR": "A.S.", "EG": "S.A.E.", "ZA": "(Pty) Ltd", "NG": "Ltd"}
# Chinese export sales staff usually work under an English given name
GIVEN = ("Alice", "Kevin", "Jason", "Cindy", "Tony", "Vivian", "Eric", "Grace", "Leo", "Sunny", "Jack",
         "Linda", "Peter", "Helen", "Frank", "Coco", "David", "Amy", "Steven", "Nancy", "Bruce", "Iris",
         "Ryan", "Judy", "Sam", "Echo", "Mike", "Lily", "Ken", "Rita")
LAST = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
        "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo")
TERMS = {"T/T 30": 30, "T/T 60": 60, "L/C at sight": 10, "D/P at sight": 20, "OA 90": 90}
ARCHETYPES = ("hunter", "farmer", "balanced")


@dataclass
class DemoTruth:
    """The generator's ground truth, written to ``truth/truth.json``."""

    seed: int
    n_customers: int
    start: str
    end: str
    time_unit: str = "W"
    bgnbd: dict = field(default_factory=lambda: {"r": 0.8, "alpha": 10.0, "a": 0.6, "b": 3.0})
    gamma_gamma: dict = field(default_factory=lambda: {"p": 4.0, "q": 5.0, "gamma": 15000.0})
    gamma_gamma_note: str = ("Gamma-Gamma describes the USD revenue of each purchase occasion (the sum of "
                             "its invoices, before returns). Hunters' first orders are inflated on purpose; "
                             "first orders are not used by the Gamma-Gamma fit.")
    rep_archetypes: dict = field(default_factory=dict)
    defects: list = field(default_factory=list)
    n_occasions: int = 0


def _months(start: pd.Timestamp, end: pd.Timestamp) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _pick(rng, seq, n):
    return np.asarray(seq, dtype=object)[rng.integers(0, len(seq), n)]


def _reps(rng, n_customers: int, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    per_team = int(np.clip(round(9 * n_customers / 3000), 2, 100))
    rows: list[dict] = []

    def add(team, hire, archetype=None, role="sales", replaces=None):
        rows.append({"team": team, "hire_date": hire, "leave_date": pd.NaT, "role": role,
                     "archetype": archetype if role == "sales" else None, "replaces": replaces})

    days = (end - start).days
    for team in TEAMS:
        for _ in range(per_team):
            add(team, start - pd.Timedelta(days=int(rng.integers(120, 3650))),
                ARCHETYPES[int(rng.choice(3, p=[0.33, 0.40, 0.27]))])
        add(team, start - pd.Timedelta(days=int(rng.integers(200, 2000))), role="service")
        add(team, start - pd.Timedelta(days=int(rng.integers(200, 2000))), role="supply_chain")
    # leavers: about one in seven base reps, spread over the five years, at least one this year;
    # each is replaced by a new hire in the same team who takes over the accounts
    sales = [i for i, r in enumerate(rows) if r["role"] == "sales"]
    n_leave = max(2, len(sales) // 7)
    leavers = rng.choice(sales, n_leave, replace=False)
    leave_days = np.sort(rng.integers(200, days - 30, n_leave))
    leave_days[-1] = max(leave_days[-1], (pd.Timestamp(end.year, 1, 1) - start).days + 60)
    for idx, d in zip(leavers, leave_days):
        leave = start + pd.Timedelta(days=int(d))
        rows[idx]["leave_date"] = leave
        add(rows[idx]["team"], leave - pd.Timedelta(days=int(rng.integers(10, 40))),
            ARCHETYPES[int(rng.integers(0, 3))], replaces=int(idx))
    # growth hires this year
    year_start = pd.Timestamp(end.year, 1, 1)
    n_growth = max(2, per_team // 3)
    for team in rng.choice(list(TEAMS), n_growth, replace=n_growth > len(TEAMS)):
        add(team, year_start + pd.Timedelta(days=int(rng.integers(0, (end - year_start).days - 60))),
            ARCHETYPES[int(rng.integers(0, 3))])
    reps = pd.DataFrame(rows)
    n = len(reps)
    width = max(3, len(str(n)))
    reps.insert(0, "rep_id", [f"R{i:0{width}d}" for i in range(1, n + 1)])
    pairs = [f"{g} {s}" for g in GIVEN for s in LAST]
    reps.insert(1, "name", np.asarray(pairs, dtype=object)[rng.choice(len(pairs), n, replace=n > len(pairs))])
    reps["replaces"] = [reps.rep_id.iloc[int(r)] if pd.notna(r) else None for r in reps["replaces"]]
    reps["hire_date"] = pd.to_datetime(reps["hire_date"])
    reps["leave_date"] = pd.to_datetime(reps["leave_date"])
    return reps


def _fx(rng, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    days = pd.bdate_range(start - pd.Timedelta(days=10), end)
    out = []
    for cur, base in FX_START.items():
        steps = rng.normal(0.0, FX_VOL[cur], len(days))
        rate = base * np.exp(np.cumsum(steps) - 0.5 * FX_VOL[cur] ** 2 * np.arange(len(days)))
        out.append(pd.DataFrame({"date": days, "currency": cur, "rate": np.round(rate, 6)}))
    return pd.concat(out, ignore_index=True)


def _assign_reps(rng, cust: pd.DataFrame, reps: pd.DataFrame, mean_p: float) -> np.ndarray:
    """Which rep wins each new account: archetype x the customer's latent drop-out odds."""
    owner = np.empty(len(cust), dtype=object)
    sales = reps[reps.role == "sales"]
    month = cust["first_date"].dt.to_period("M")
    for (team, m), idx in cust.groupby([cust["team"], month]).indices.items():
        day = m.to_timestamp(how="end")
        active = sales[(sales.team == team) & (sales.hire_date <= day - pd.Timedelta(days=14))
                       & (sales.leave_date.isna() | (sales.leave_date > day))]
        if active.empty:
            active = sales[sales.team == team]
        p = cust["p_true"].to_numpy()[idx][:, None] / mean_p          # relative drop-out risk
        lam_rel = cust["lam_true"].to_numpy()[idx][:, None]
        lam_rel = lam_rel / max(lam_rel.mean(), 1e-9)
        arch = active["archetype"].to_numpy()[None, :]
        w = np.where(arch == "hunter", 2.2 * np.minimum(p, 4.0) ** 1.2,
                     np.where(arch == "farmer", 1.0 / (0.35 + p) * np.minimum(lam_rel, 4) ** 0.3, 1.0))
        w = w / w.sum(axis=1, keepdims=True)
        u = rng.random(len(idx))[:, None]
        choice = (w.cumsum(axis=1) < u).sum(axis=1)
        owner[idx] = active["rep_id"].to_numpy()[np.minimum(choice, len(active) - 1)]
    return owner


def _team_mates(rng, sales: pd.DataFrame, team, exclude, day, active: bool = False) -> np.ndarray:
    """For each row, a random colleague in ``team`` (not ``exclude``) already hired on ``day`` (and, with
    ``active``, not yet gone); None when there is none. Vectorised per team."""
    out = np.full(len(team), None, dtype=object)
    day = np.asarray(day, dtype="datetime64[ns]")
    for t in np.unique(team.astype(str)):
        rows = np.flatnonzero(team.astype(str) == t)
        cand = sales[sales.team == t]
        if not len(rows) or cand.empty:
            continue
        ids = cand.rep_id.to_numpy()
        hired = cand.hire_date.to_numpy()[None, :] <= day[rows][:, None]
        ok = hired & (ids[None, :] != exclude[rows][:, None])
        if active:
            leave = cand.leave_date.to_numpy()
            ok &= pd.isna(leave)[None, :] | (leave[None, :] > day[rows][:, None])
        pick = np.where(ok, rng.random(ok.shape), -1.0).argmax(axis=1)
        has = ok.any(axis=1)
        out[rows[has]] = ids[pick[has]]
    return out


def _simulate_occasions(rng, cust: pd.DataFrame, bg: dict) -> pd.DataFrame:
    """Repeat purchase times under BG/NBD, vectorised; returns one row per occasion."""
    n = len(cust)
    T = cust["T_weeks"].to_numpy()
    lam = cust["lam_true"].to_numpy()
    p = cust["p_true"].to_numpy()
    m = rng.poisson(lam * T)                       # Poisson events in (0, T] if never dying
    n_until_death = rng.geometric(p)               # repeat purchase after which the customer drops out
    k = np.minimum(m, n_until_death)
    cust["died"] = n_until_death <= m
    owner_idx = np.repeat(np.arange(n), m)
    times = rng.random(m.sum()) * np.repeat(T, m)
    order = np.lexsort((times, owner_idx))
    owner_idx, times = owner_idx[order], times[order]
    starts = np.repeat(np.cumsum(m) - m, m)
    rank = np.arange(len(times)) - starts
    keep = rank < np.repeat(k, m)
    rep_idx, rep_t = owner_idx[keep], times[keep]
    first = pd.DataFrame({"cust": np.arange(n), "t_weeks": 0.0, "occasion": 0})
    repeat = pd.DataFrame({"cust": rep_idx, "t_weeks": rep_t, "occasion": rank[keep] + 1})
    occ = pd.concat([first, repeat], ignore_index=True).sort_values(["cust", "occasion"], kind="stable")
    # death time: right after the last repeat purchase for those who died in the window
    last_t = occ.groupby("cust")["t_weeks"].max().to_numpy()
    cust["death_weeks"] = np.where(cust["died"], last_t, np.nan)
    return occ.reset_index(drop=True)


def generate(seed: int = 42, n_customers: int = 3000, end: date | str = DEMO_END, years: int = DEMO_YEARS,
             defects: bool = True) -> tuple[dict[str, pd.DataFrame], DemoTruth, pd.DataFrame]:
    """Build the demo company in memory.

    Returns ``(tables, truth, truth_customers)``: the canonical tables (as the export files will hold
    them), the ground truth, and per-customer latent values (lambda, p, nu, died).
    """
    if n_customers < 50:
        raise ParamsError(f"demo-data needs at least 50 customers, got {n_customers}")
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end)
    start = pd.Timestamp(end.year - years, end.month, 1) + pd.offsets.MonthBegin(1)
    span = (end - start).days
    truth = DemoTruth(seed=seed, n_customers=n_customers, start=str(start.date()), end=str(end.date()))
    bg, gg = truth.bgnbd, truth.gamma_gamma

    reps = _reps(rng, n_customers, start, end)
    fx = _fx(rng, start, end)

    # ---- customers: arrival (more later: the company grows), country, latent behaviour
    countries = np.array(list(COUNTRY_WEIGHT))
    w = np.array([COUNTRY_WEIGHT[c] for c in countries], float)
    country = countries[rng.choice(len(countries), n_customers, p=w / w.sum())]
    team_of = {c: t for t, cs in TEAMS.items() for c in cs}
    g = 0.8                                                   # arrival density ~ 1 + g * t / span
    u = rng.random(n_customers)
    arrive = span * (-1 + np.sqrt(1 + g * (2 + g) * u)) / g * (span - 7) / span
    first_date = start + pd.to_timedelta(np.floor(arrive), unit="D")
    cust = pd.DataFrame({
        "customer_id": [f"C{i:05d}" if n_customers < 100000 else f"C{i:07d}" for i in range(1, n_customers + 1)],
        "country": country, "team": [team_of[c] for c in country],
        "first_date": first_date,
    })
    cust["T_weeks"] = ((end - cust["first_date"]).dt.days.to_numpy() + 1 - rng.random(n_customers)) / 7.0
    cust["lam_true"] = rng.gamma(bg["r"], 1.0 / bg["alpha"], n_customers)
    cust["p_true"] = rng.beta(bg["a"], bg["b"], n_customers)
    cust["nu_true"] = rng.gamma(gg["q"], 1.0 / gg["gamma"], n_customers)
    mean_p = bg["a"] / (bg["a"] + bg["b"])
    cust["acq_rep"] = _assign_reps(rng, cust, reps, mean_p)
    arche = reps.set_index("rep_id")["archetype"]
    cust["acq_arch"] = arche.reindex(cust["acq_rep"]).to_numpy()

    occ = _simulate_occasions(rng, cust, bg)
    truth.n_occasions = int(len(occ))
    c_idx = occ["cust"].to_numpy()
    occ["date"] = (cust["first_date"].to_numpy()[c_idx]
                   + pd.to_timedelta(np.floor(occ["t_weeks"].to_numpy() * 7), unit="D"))
    occ = occ[occ["date"] <= end].reset_index(drop=True)
    c_idx = occ["cust"].to_numpy()
    hunter_first = (occ["occasion"].to_numpy() == 0) & (cust["acq_arch"].to_numpy()[c_idx] == "hunter")
    value = rng.gamma(gg["p"], 1.0 / cust["nu_true"].to_numpy()[c_idx])
    value = np.where(hunter_first, value * 1.6, value)
    occ["value_usd"] = np.round(value, 2)

    # ---- ownership over time: acquiring rep, handed over when a rep leaves
    owner_now = cust["acq_rep"].to_numpy().copy()
    own_rows = [pd.DataFrame({"customer_id": cust["customer_id"], "rep_id": owner_now,
                              "valid_from": cust["first_date"], "share": 1.0})]
    occ_rep = owner_now[c_idx].copy()
    occ_dates = occ["date"].to_numpy()
    leavers = reps[reps.leave_date.notna() & (reps.role == "sales")].sort_values("leave_date")
    handovers = []
    for _, lv in leavers.iterrows():
        repl = reps.loc[reps["replaces"] == lv.rep_id, "rep_id"]
        new = repl.iloc[0] if len(repl) else None
        moved = np.flatnonzero((owner_now == lv.rep_id) & (cust["first_date"].to_numpy() <= lv.leave_date))
        if new is None or not len(moved):
            continue
        when = lv.leave_date + pd.Timedelta(days=1)
        owner_now[moved] = new
        handovers.append((moved, when, new))
        own_rows.append(pd.DataFrame({"customer_id": cust["customer_id"].to_numpy()[moved], "rep_id": new,
                                      "valid_from": when, "share": 1.0}))
        is_moved = np.zeros(n_customers, bool)
        is_moved[moved] = True
        hit = is_moved[c_idx] & (occ_dates >= np.datetime64(when))
        occ_rep[hit] = new
    # accounts opened by a rep after they left cannot happen: _assign_reps only picks active reps
    ownership = pd.concat(own_rows, ignore_index=True).sort_values(["customer_id", "valid_from"])
    ownership["valid_to"] = (ownership.groupby("customer_id")["valid_from"].shift(-1)
                             - pd.Timedelta(days=1))
    # key accounts co-owned 50/50 with a team mate (never handed over)
    handed = np.zeros(n_customers, bool)
    for moved, _, _ in handovers:
        handed[moved] = True
    sales = reps[(reps.role == "sales") & reps.leave_date.isna()]
    co = np.flatnonzero(~handed & (rng.random(n_customers) < 0.02))
    mate = _team_mates(rng, sales, cust["team"].to_numpy()[co], cust["acq_rep"].to_numpy()[co],
                       cust["first_date"].to_numpy()[co])
    co = co[pd.notna(mate)]
    co_rep = dict(zip(co, mate[pd.notna(mate)]))
    co_ids = cust["customer_id"].to_numpy()[list(co_rep)]
    ownership.loc[ownership.customer_id.isin(co_ids), "share"] = 0.5
    ownership = pd.concat([ownership, pd.DataFrame({
        "customer_id": co_ids, "rep_id": list(co_rep.values()),
        "valid_from": cust["first_date"].to_numpy()[list(co_rep)], "share": 0.5, "valid_to": pd.NaT})],
        ignore_index=True).sort_values(["customer_id", "valid_from", "rep_id"]).reset_index(drop=True)

    # ---- invoices: split shipments, margins, costs, currencies
    split = rng.random(len(occ)) < 0.05
    occ_of_inv = np.repeat(np.arange(len(occ)), np.where(split, 2, 1))
    inv = occ.loc[occ_of_inv].reset_index(drop=True)
    second = np.r_[False, occ_of_inv[1:] == occ_of_inv[:-1]]
    part = np.where(split[occ_of_inv], np.where(second, 0.4, 0.6), 1.0)
    inv["usd"] = np.round(inv["value_usd"].to_numpy() * part, 2)
    inv_c = inv["cust"].to_numpy()
    inv["rep_id"] = occ_rep[occ_of_inv]
    inv["customer_id"] = cust["customer_id"].to_numpy()[inv_c]
    country_of = cust["country"].to_numpy()[inv_c]
    cur_of = {c: cu for cs in TEAMS.values() for c, cu in cs.items()}
    inv["currency"] = [cur_of[c] for c in country_of]
    # some customers in EUR countries invoice in USD (their choice)
    usd_pref = rng.random(n_customers) < 0.15
    inv.loc[usd_pref[inv_c], "currency"] = "USD"
    is_hunter_first = (inv["occasion"].to_numpy() == 0) & (cust["acq_arch"].to_numpy()[inv_c] == "hunter")
    margin = np.clip(rng.normal(0.23, 0.05, len(inv)) + np.where(is_hunter_first, 0.10, 0.0), 0.04, 0.55)
    incoterm = np.asarray(["FOB", "CIF", "DDP", "EXW"], dtype=object)[
        rng.choice(4, n_customers, p=[0.45, 0.35, 0.1, 0.1])][inv_c]
    freight_rate = np.where(incoterm == "CIF", rng.uniform(0.03, 0.06, len(inv)),
                            np.where(incoterm == "DDP", rng.uniform(0.07, 0.11, len(inv)), 0.0))
    terms_names = np.array(list(TERMS), dtype=object)
    cust_terms = terms_names[rng.choice(len(TERMS), n_customers, p=[0.4, 0.2, 0.15, 0.1, 0.15])]
    terms = cust_terms[inv_c]
    bank_fee = np.where(np.char.startswith(terms.astype(str), "L/C"), inv["usd"] * 0.004 + 80, 35.0)
    insurance = np.where(np.isin(incoterm, ["CIF", "DDP"]), inv["usd"] * 0.003, 0.0)
    inv["cogs_usd"] = np.round(inv["usd"] * (1 - margin - freight_rate), 2)
    inv["freight_usd"] = np.round(inv["usd"] * freight_rate, 2)
    inv["other_usd"] = np.round(insurance + bank_fee, 2)
    inv["incoterm"] = incoterm
    inv["payment_terms"] = terms
    inv = inv.sort_values(["date", "cust", "occasion"], kind="stable").reset_index(drop=True)
    inv["order_id"] = [f"INV-{d.year}-{i:06d}" for i, d in enumerate(inv["date"], 1)]
    inv["doc_type"] = "invoice"
    inv["status"] = "booked"
    inv["original_order_id"] = None
    # payments: due by terms; mostly on time, some late, a few never (more among hunters' accounts)
    hunter_acct = cust["acq_arch"].to_numpy()[inv["cust"].to_numpy()] == "hunter"
    inv["due_date"] = inv["date"] + pd.to_timedelta([TERMS[t] for t in inv["payment_terms"]], unit="D")
    r = rng.random(len(inv))
    unpaid_p = np.where(hunter_acct, 0.035, 0.01)
    late = np.where(r < unpaid_p, np.nan,
                    np.where(r < unpaid_p + np.where(hunter_acct, 0.35, 0.18), rng.integers(1, 90, len(inv)),
                             -rng.integers(0, 6, len(inv))))
    paid = inv["due_date"] + pd.to_timedelta(late, unit="D")
    inv["paid_date"] = paid.where(paid <= end)

    # returns: credit notes 10-90 days later for part of the goods
    ret = rng.random(len(inv)) < np.where(hunter_acct, 0.07, 0.02)
    cn = inv[ret].copy()
    frac = rng.uniform(0.1, 1.0, len(cn))
    cn["date"] = cn["date"] + pd.to_timedelta(rng.integers(10, 90, len(cn)), unit="D")
    frac = frac[(cn["date"] <= end).to_numpy()]
    cn = cn[cn["date"] <= end]
    cn["original_order_id"] = cn["order_id"]
    cn["order_id"] = [f"CN-{d.year}-{i:05d}" for i, d in enumerate(cn["date"], 1)]
    cn["doc_type"] = "credit_note"
    for col in ("usd", "cogs_usd"):
        cn[col] = -np.round(cn[col] * frac, 2)
    cn["freight_usd"] = 0.0
    cn["other_usd"] = 0.0
    cn["due_date"] = pd.NaT
    cn["paid_date"] = cn["date"]
    # cancelled documents: an order raised, then cancelled before shipping (excluded everywhere)
    canc = inv.sample(frac=0.01, random_state=int(rng.integers(1 << 30))).copy()
    canc["order_id"] = [f"SO-X-{i:05d}" for i in range(1, len(canc) + 1)]
    canc["status"] = "cancelled"
    canc["paid_date"] = pd.NaT
    docs = pd.concat([inv, cn, canc], ignore_index=True)

    # in the document's currency, at the order date's rate
    fx_idx = fx.sort_values("date")
    rate = np.ones(len(docs))
    for cur in FX_START:
        sel = (docs["currency"] == cur).to_numpy()
        if sel.any():
            f = fx_idx[fx_idx.currency == cur]
            pos = np.searchsorted(f["date"].to_numpy(), docs.loc[sel, "date"].to_numpy(), side="right") - 1
            rate[sel] = f["rate"].to_numpy()[pos]
    dec = np.where(docs["currency"] == "JPY", 0, 2)
    orders = pd.DataFrame({
        "order_id": docs["order_id"], "order_date": docs["date"].dt.date, "customer_id": docs["customer_id"],
        "rep_id": docs["rep_id"], "currency": docs["currency"],
        "amount": [round(v, int(d)) for v, d in zip(docs["usd"] / rate, dec)],
        "cost_of_goods": [round(v, int(d)) for v, d in zip(docs["cogs_usd"] / rate, dec)],
        "freight_cost": [round(v, int(d)) for v, d in zip(docs["freight_usd"] / rate, dec)],
        "other_cost": [round(v, int(d)) for v, d in zip(docs["other_usd"] / rate, dec)],
        "doc_type": docs["doc_type"], "original_order_id": docs["original_order_id"],
        "status": docs["status"], "payment_terms": docs["payment_terms"], "incoterm": docs["incoterm"],
        "due_date": docs["due_date"].dt.date, "paid_date": docs["paid_date"].dt.date,
    }).sort_values(["order_date", "order_id"], kind="stable").reset_index(drop=True)

    # ---- split credit: co-owned accounts 50/50; some deals shared with a team mate 70/30
    book = orders[(orders.status == "booked") & (orders.doc_type == "invoice")]
    co_orders = book[book.customer_id.isin(co_ids)]
    co_map = dict(zip(co_ids, co_rep.values()))
    splits = [pd.DataFrame({"order_id": co_orders.order_id, "rep_id": co_orders.rep_id, "share": 0.5}),
              pd.DataFrame({"order_id": co_orders.order_id, "rep_id": co_orders.customer_id.map(co_map),
                            "share": 0.5})]
    rest = book[~book.customer_id.isin(co_ids)]
    shared = rest[rng.random(len(rest)) < 0.03]
    team_of_rep = reps.set_index("rep_id")["team"]
    helpers = _team_mates(rng, reps[reps.role == "sales"], team_of_rep.reindex(shared.rep_id).to_numpy(),
                          shared.rep_id.to_numpy(), pd.to_datetime(shared.order_date).to_numpy(), active=True)
    shared = shared.assign(helper=helpers).dropna(subset=["helper"])
    splits += [pd.DataFrame({"order_id": shared.order_id, "rep_id": shared.rep_id, "share": 0.7}),
               pd.DataFrame({"order_id": shared.order_id, "rep_id": shared.helper, "share": 0.3})]
    order_splits = pd.concat(splits, ignore_index=True).sort_values(["order_id", "share"],
                                                                     ascending=[True, False]).reset_index(drop=True)

    # ---- customers table
    name = (_pick(rng, NAME_A, n_customers) + " " + _pick(rng, NAME_B, n_customers) + " "
            + np.array([SUFFIX[c] for c in country], dtype=object))
    customers = pd.DataFrame({"customer_id": cust["customer_id"], "name": name, "country": country,
                              "industry": _pick(rng, INDUSTRIES, n_customers),
                              "first_seen": cust["first_date"].dt.date})

    # ---- NPS: surveys each January and July to a third of live accounts; farmers' accounts score higher
    rows = []
    arch_adj = {"hunter": -1.0, "farmer": 0.8, "balanced": 0.0}
    for d in pd.date_range(start, end, freq="6MS"):
        d = d + pd.Timedelta(days=14)
        if d > end:
            continue
        age_w = (d - cust["first_date"]).dt.days.to_numpy() / 7
        alive = (age_w > 4) & ~(cust["died"].to_numpy() & (cust["death_weeks"].to_numpy() < age_w))
        resp = alive & (rng.random(n_customers) < 0.3)
        idx = np.flatnonzero(resp)
        owner_arch = cust["acq_arch"].to_numpy()[idx]
        mu = (9.2 - 9.0 * cust["p_true"].to_numpy()[idx]
              + np.array([arch_adj.get(a, 0.0) for a in owner_arch]))
        score = np.clip(np.round(rng.normal(mu, 1.6)), 0, 10).astype(int)
        rows.append(pd.DataFrame({"customer_id": cust["customer_id"].to_numpy()[idx],
                                  "date": (d + pd.to_timedelta(rng.integers(0, 20, len(idx)), unit="D")),
                                  "score": score}))
    nps = pd.concat(rows, ignore_index=True)
    nps = nps[nps["date"] <= end]
    nps["date"] = nps["date"].dt.date

    # ---- complaints: per invoice, more for hunters' accounts (oversold products)
    inv_ok = orders[(orders.doc_type == "invoice") & (orders.status == "booked")]
    cust_arch = dict(zip(cust["customer_id"], cust["acq_arch"]))
    hp = np.where(inv_ok.customer_id.map(cust_arch).to_numpy() == "hunter", 0.09, 0.03)
    comp = inv_ok[rng.random(len(inv_ok)) < hp]
    complaints = pd.DataFrame({
        "customer_id": comp.customer_id.to_numpy(),
        "date": (pd.to_datetime(comp.order_date) + pd.to_timedelta(rng.integers(10, 60, len(comp)), unit="D")).dt.date,
        "severity": np.asarray(["low", "medium", "high"], dtype=object)[rng.choice(3, len(comp), p=[0.6, 0.3, 0.1])],
        "order_id": comp.order_id.to_numpy()})
    complaints = complaints[complaints["date"] <= end.date()].reset_index(drop=True)

    truth.rep_archetypes = {r.rep_id: r.archetype for r in reps.itertuples() if r.role == "sales"}
    reps_out = reps[["rep_id", "name", "team", "hire_date", "leave_date", "role"]].copy()
    reps_out["hire_date"] = reps_out["hire_date"].dt.date
    reps_out["leave_date"] = reps_out["leave_date"].dt.date
    fx_out = fx.assign(date=fx["date"].dt.date)
    own_out = ownership[["customer_id", "rep_id", "share", "valid_from", "valid_to"]].copy()
    own_out["valid_from"] = pd.to_datetime(own_out["valid_from"]).dt.date
    own_out["valid_to"] = pd.to_datetime(own_out["valid_to"]).dt.date

    tables = {"orders": orders, "order_splits": order_splits, "customers": customers, "reps": reps_out,
              "ownership": own_out, "nps": nps.reset_index(drop=True), "complaints": complaints,
              "fx_rates": fx_out}
    if defects:
        tables, truth.defects = _plant_defects(rng, tables)
    truth_customers = cust[["customer_id", "country", "team", "first_date", "T_weeks", "lam_true", "p_true",
                            "nu_true", "died", "death_weeks", "acq_rep", "acq_arch"]].copy()
    return tables, truth, truth_customers


def _plant_defects(rng, tables: dict[str, pd.DataFrame]):
    """Realistic export mistakes, each recorded so tests and the data-quality section can find them."""
    o = tables["orders"].copy()
    defects = []
    inv = o.index[(o.doc_type == "invoice") & (o.status == "booked")].to_numpy()
    picks = rng.choice(inv, 5, replace=False)
    # 1. a typo'd currency
    i = picks[0]
    o.loc[i, "currency"] = {"EUR": "EUO", "USD": "USS"}.get(o.loc[i, "currency"], "USX")
    defects.append({"table": "orders", "order_id": o.loc[i, "order_id"], "column": "currency",
                    "kind": "unknown currency", "value": o.loc[i, "currency"]})
    # 2. a missing order date
    i = picks[1]
    o.loc[i, "order_date"] = None
    defects.append({"table": "orders", "order_id": o.loc[i, "order_id"], "column": "order_date",
                    "kind": "missing value"})
    # 3. an amount that is not a number
    i = picks[2]
    o["amount"] = o["amount"].astype(object)
    o.loc[i, "amount"] = "12,O00.00"
    defects.append({"table": "orders", "order_id": o.loc[i, "order_id"], "column": "amount",
                    "kind": "not a number", "value": "12,O00.00"})
    # 4. an order for a customer that is not in the customer list
    i = picks[3]
    o.loc[i, "customer_id"] = "C99999"
    defects.append({"table": "orders", "order_id": o.loc[i, "order_id"], "column": "customer_id",
                    "kind": "unknown customer", "value": "C99999"})
    # 5. an exact duplicate export row (collapses to one) and a conflicting re-use of an invoice number
    dup_row = o.loc[[picks[4]]]
    conflict = o.loc[[inv[len(inv) // 2]]].copy()
    conflict["amount"] = pd.to_numeric(conflict["amount"]) * 2
    defects.append({"table": "orders", "order_id": dup_row.order_id.iloc[0], "column": None,
                    "kind": "exact duplicate row"})
    defects.append({"table": "orders", "order_id": conflict.order_id.iloc[0], "column": "order_id",
                    "kind": "conflicting duplicate"})
    pos_dup, pos_conf = picks[4] + 1, inv[len(inv) // 2] + 1
    o = pd.concat([o.iloc[:pos_dup], dup_row, o.iloc[pos_dup:]], ignore_index=True)
    pos_conf += 1 if pos_conf >= pos_dup else 0
    o = pd.concat([o.iloc[:pos_conf], conflict, o.iloc[pos_conf:]], ignore_index=True)
    tables["orders"] = o
    # 6. a split that does not sum to 1
    s = tables["order_splits"].copy()
    if len(s):
        oid = s.order_id.iloc[len(s) // 2]
        s.loc[s.order_id == oid, "share"] = s.loc[s.order_id == oid, "share"] + 0.05
        defects.append({"table": "order_splits", "order_id": oid, "column": "share",
                        "kind": "shares do not sum to 1"})
        tables["order_splits"] = s
    # 7. an NPS score out of range
    n = tables["nps"].copy()
    n["score"] = n["score"].astype(object)
    j = int(rng.integers(0, len(n)))
    n.loc[j, "score"] = 11
    defects.append({"table": "nps", "customer_id": n.loc[j, "customer_id"], "column": "score",
                    "kind": "out of range", "value": 11})
    tables["nps"] = n
    return tables, defects


def write(out_dir: Path | str, seed: int = 42, n_customers: int = 3000, end: date | str = DEMO_END,
          years: int = DEMO_YEARS, defects: bool = True) -> Path:
    """Generate the demo company and write it as CSV exports plus ``truth/`` to ``out_dir``.

    Writes into a temporary sibling folder and renames it into place, so an interrupted run never
    leaves half a data set behind.
    """
    import shutil

    out = Path(out_dir)
    tables, truth, truth_customers = generate(seed, n_customers, end, years, defects)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "truth").mkdir(parents=True)
    for name, df in tables.items():
        df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
    (tmp / "truth" / "truth.json").write_text(json.dumps(asdict(truth), indent=2, default=str) + "\n")
    truth_customers.to_parquet(tmp / "truth" / "customers.parquet", index=False)
    (tmp / "README.md").write_text(
        f"Demo export company generated by `clvlib demo-data` (seed {seed}, {n_customers} customers, "
        f"{truth.start} to {truth.end}).\nCSV exports in the canonical columns of docs/data-contract.md; "
        "truth/ holds the generator's ground truth (never read by the workbook).\n")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out


def load_truth(data_dir: Path | str) -> dict:
    return json.loads((Path(data_dir) / "truth" / "truth.json").read_text())
