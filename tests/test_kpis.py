"""clvlib.kpis: each KPI on tiny hand-made tables with hand-computed answers, the expected remaining
lifetime against a seeded simulation, and the whole KPI pass on the demo company (bridge to the cent,
hunters and farmers, the article's units)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib import kpis
from clvlib.errors import DataError, ParamsError
from clvlib.kpis.common import DAYS_PER_MONTH, month_ends, over_windows

W = {"regularity": 0.3, "complaints": 0.2, "receivables": 0.3, "nps": 0.2}


# ------------------------------------------------------------------ hand-made tables
def make_orders(rows) -> pd.DataFrame:
    """rows: (order_id, date, customer, rep, doc_type, amount, margin[, due, paid, original])."""
    out = []
    for r in rows:
        oid, d, c, rep, doc, amount, margin, *rest = r
        due, paid, orig = (rest + [None, None, None])[:3]
        out.append({"order_id": oid, "order_date": pd.Timestamp(d), "customer_id": c, "rep_id": rep,
                    "doc_type": doc, "original_order_id": orig, "amount_rc": float(amount),
                    "gross_margin_rc": float(margin), "due_date": pd.Timestamp(due) if due else pd.NaT,
                    "paid_date": pd.Timestamp(paid) if paid else pd.NaT})
    return pd.DataFrame(out)


def booking_credit(orders, splits=None) -> pd.DataFrame:
    """Credit lines: each order to its rep, except the orders in ``splits`` {order_id: {rep: share}}."""
    splits = splits or {}
    rows = []
    for _, o in orders.iterrows():
        key = o["original_order_id"] if isinstance(o["original_order_id"], str) else o["order_id"]
        if key in splits:
            rows += [{"order_id": o["order_id"], "rep_id": r, "share": s, "basis": "split"}
                     for r, s in splits[key].items()]
        else:
            rows.append({"order_id": o["order_id"], "rep_id": o["rep_id"], "share": 1.0, "basis": "booking"})
    return pd.DataFrame(rows)


def make_reps(extra=()) -> pd.DataFrame:
    rows = [("R1", "Ann", "East", "2015-01-01", None, "sales"), ("R2", "Bo", "East", "2015-01-01", None, "sales"),
            ("R3", "Cy", "West", "2015-01-01", None, "sales"), ("R4", "Di", "East", "2015-01-01", None, "service"),
            *extra]
    return pd.DataFrame([{"rep_id": a, "name": b, "team": t, "hire_date": pd.Timestamp(h),
                          "leave_date": pd.Timestamp(lv) if lv else pd.NaT, "role": ro} for a, b, t, h, lv, ro in rows])


def make_owners(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["month", "customer_id", "rep_id", "share"])


def value(long, month, level, id_, measure):
    x = long[(long["month"] == month) & (long["level"] == level) & (long["id"] == id_) & (long["measure"] == measure)]
    assert len(x) == 1, f"{month} {level} {id_} {measure}: {len(x)} rows"
    return float(x["value"].iloc[0])


# ------------------------------------------------------------------ months and windows
def test_month_ends_use_the_as_of_date_in_its_month():
    ends = month_ends(["2026-09", "2026-10"], as_of="2026-10-15")
    assert ends["2026-09"] == pd.Timestamp("2026-09-30")
    assert ends["2026-10"] == pd.Timestamp("2026-10-15")
    with pytest.raises(ParamsError, match="2026-10"):
        month_ends(["2026-13"])


def test_over_windows_sums_the_12_months_ending_at_each_target():
    rows = pd.DataFrame({"k": ["a", "a", "a"], "mi": [100, 105, 112], "v": [1.0, 2.0, 4.0]})
    w = over_windows(rows, ["k"], ["v"], [105, 111, 112, 130]).set_index("mi")["v"]
    # 105: months 94..105 -> 1+2; 111: 100..111 -> 1+2; 112: 101..112 -> 2+4; 130: nothing
    assert w.to_dict() == {105: 3.0, 111: 3.0, 112: 6.0}
    lagged = over_windows(rows, ["k"], ["v"], [117], lag=12).set_index("mi")["v"]
    assert lagged.to_dict() == {117: 3.0}          # months 94..105 of the year before 117


# ------------------------------------------------------------------ commission era
def test_sales_kpis_are_credited_by_share_and_net_of_credit_notes():
    o = make_orders([
        ("I1", "2026-01-10", "C1", "R1", "invoice", 1000, 300),
        ("N1", "2026-02-01", "C1", "R1", "credit_note", -200, -60, None, None, "I1"),
        ("I2", "2026-03-05", "C2", "R2", "invoice", 500, 100),
        ("I3", "2025-01-05", "C2", "R2", "invoice", 999, 999),          # 14 months before: outside
    ])
    cr = booking_credit(o, {"I1": {"R1": 0.7, "R2": 0.3}})
    reps = make_reps()
    s = kpis.sales_12m(o, cr, reps, ["2026-03"]).set_index(["level", "id"])
    assert s.loc[("rep", "R1"), "revenue_12m"] == pytest.approx(0.7 * 800)
    assert s.loc[("rep", "R2"), "revenue_12m"] == pytest.approx(0.3 * 800 + 500)
    assert s.loc[("rep", "R2"), "gross_margin_12m"] == pytest.approx(0.3 * 240 + 100)
    assert s.loc[("rep", "R2"), "invoices_12m"] == pytest.approx(1.3)           # credit notes are not invoices
    assert s.loc[("rep", "R2"), "avg_order_margin_12m"] == pytest.approx((0.3 * 240 + 100) / 1.3)
    assert s.loc[("team", "East"), "revenue_12m"] == pytest.approx(1300)
    assert s.loc[("company", "all"), "margin_pct"] == pytest.approx(340 / 1300)
    assert s.loc[("customer", "C1"), "revenue_12m"] == pytest.approx(800)


def test_new_customers_go_to_the_reps_of_the_first_invoice():
    o = make_orders([("I1", "2026-01-10", "C1", "R1", "invoice", 10, 1), ("I2", "2026-02-10", "C1", "R2", "invoice", 10, 1),
                     ("I3", "2024-05-01", "C2", "R2", "invoice", 10, 1), ("I4", "2026-02-11", "C2", "R2", "invoice", 10, 1)])
    cr = booking_credit(o, {"I1": {"R1": 0.5, "R3": 0.5}})
    n = kpis.new_customers_12m(o, cr, make_reps(), ["2026-02"])
    assert value(n, "2026-02", "rep", "R1", "new_customers_12m") == 0.5
    assert value(n, "2026-02", "rep", "R3", "new_customers_12m") == 0.5
    assert value(n, "2026-02", "company", "all", "new_customers_12m") == 1.0   # C2 was won in 2024
    assert n[(n["id"] == "R2")].empty


def test_commission_rank_ranks_employed_sales_reps_and_counts_no_sales_as_zero():
    reps = make_reps(extra=[("R5", "Ed", "West", "2015-01-01", "2026-01-15", "sales"),
                            ("R6", "Fy", "West", "2015-01-01", None, "sales")])
    o = make_orders([("I1", "2026-01-05", "C1", "R1", "invoice", 100, 10), ("I2", "2026-01-06", "C2", "R2", "invoice", 300, 10),
                     ("I3", "2026-01-07", "C3", "R5", "invoice", 900, 10), ("I4", "2026-01-08", "C4", "R3", "invoice", 100, 10)])
    s = kpis.sales_12m(o, booking_credit(o), reps, ["2026-02"])
    r = kpis.commission_rank(s, reps, ["2026-02"])
    rank = r[r["level"] == "rep"].set_index("id")["value"].to_dict()
    assert rank == {"R2": 1.0, "R1": 2.0, "R3": 2.0, "R6": 4.0}                # R5 left, R4 is service


# ------------------------------------------------------------------ loyalty
def loyalty_case():
    """Month 2026-12: old customers are those with an invoice in 2025-01 ... 2025-12.

    C_A (invoices 2025-03, 2026-05): old, retained. C_B (2025-06 only): old, churned. C_C (2026-02 only):
    new, not old. C_D (2024-11 only): not old (before the window). C_E (2025-12, 2026-12): old, retained.
    C_F (invoice 2025-04, credit note 2026-03): old, churned (a credit note is not a purchase).
    Book a year before (2025-12): C_A, C_B -> R1; C_E half R1 half R2; C_F -> R2.
    """
    o = make_orders([("1", "2025-03-01", "C_A", "R1", "invoice", 1, 1), ("2", "2026-05-01", "C_A", "R1", "invoice", 1, 1),
                     ("3", "2025-06-01", "C_B", "R1", "invoice", 1, 1), ("4", "2026-02-01", "C_C", "R1", "invoice", 1, 1),
                     ("5", "2024-11-01", "C_D", "R1", "invoice", 1, 1), ("6", "2025-12-31", "C_E", "R1", "invoice", 1, 1),
                     ("7", "2026-12-01", "C_E", "R1", "invoice", 1, 1), ("8", "2025-04-01", "C_F", "R2", "invoice", 1, 1),
                     ("9", "2026-03-01", "C_F", "R2", "credit_note", -1, -1, None, None, "8")])
    owners = make_owners([("2025-12", "C_A", "R1", 1.0), ("2025-12", "C_B", "R1", 1.0), ("2025-12", "C_E", "R1", 0.5),
                          ("2025-12", "C_E", "R2", 0.5), ("2025-12", "C_F", "R2", 1.0),
                          ("2026-12", "C_A", "R2", 1.0)])        # a later handover does not change who answers
    return o, owners


def test_old_customer_retention_and_churn_with_a_stated_old_customer_set():
    o, owners = loyalty_case()
    old = kpis.old_customers(o, ["2026-12"]).set_index("customer_id")
    assert set(old.index) == {"C_A", "C_B", "C_E", "C_F"}
    assert old["retained"].to_dict() == {"C_A": 1.0, "C_B": 0.0, "C_E": 1.0, "C_F": 0.0}
    r = kpis.retention_rate(o, owners, make_reps(), ["2026-12"])
    c = kpis.churn_rate(o, owners, make_reps(), ["2026-12"])
    assert value(r, "2026-12", "company", "all", "retention_rate") == 0.5
    assert value(c, "2026-12", "company", "all", "churn_rate") == 0.5
    assert value(r, "2026-12", "rep", "R1", "retention_rate") == pytest.approx(1.5 / 2.5)   # A + half E of A, B, half E
    assert value(r, "2026-12", "rep", "R2", "retention_rate") == pytest.approx(0.5 / 1.5)   # half E of half E, F
    assert value(r, "2026-12", "team", "East", "retention_rate") == 0.5
    assert value(r, "2026-12", "rep", "R4", "old_customers") == 4.0        # the service colleague: the team's book


def test_repurchase_rate_counts_distinct_invoice_days():
    o = make_orders([("1", "2026-03-01", "X", "R1", "invoice", 1, 1), ("2", "2026-03-01", "X", "R1", "invoice", 1, 1),
                     ("3", "2026-01-01", "Y", "R1", "invoice", 1, 1), ("4", "2026-06-01", "Y", "R1", "invoice", 1, 1),
                     ("5", "2025-06-01", "Z", "R1", "invoice", 1, 1), ("6", "2026-06-02", "Z", "R1", "invoice", 1, 1),
                     ("7", "2026-07-01", "Z", "R1", "credit_note", -1, -1, None, None, "6")])
    owners = make_owners([("2026-06", "X", "R1", 1.0), ("2026-06", "Y", "R2", 1.0), ("2026-06", "Z", "R1", 1.0)])
    r = kpis.repurchase_rate(o, owners, make_reps(), ["2026-06"])
    # X: two invoices on one day (no repeat); Y: two days (repeat); Z: one day in the window (2025-06 is outside)
    assert value(r, "2026-06", "company", "all", "repurchase_rate") == pytest.approx(1 / 3)
    assert value(r, "2026-06", "rep", "R1", "repurchase_rate") == 0.0
    assert value(r, "2026-06", "rep", "R2", "repurchase_rate") == 1.0


def test_lifespan_observed_for_the_lost_and_expected_for_the_active():
    cust = pd.DataFrame({
        "month": "2026-02", "customer_id": ["ACT", "LOST", "OLD"],
        "first_purchase": pd.to_datetime(["2025-02-03", "2024-02-20", "2020-01-01"]),
        "last_purchase": pd.to_datetime(["2025-12-01", "2025-02-15", "2023-01-01"]),
        "expected_remaining_months": [10.0, 0.5, 0.1]})
    owners = make_owners([("2026-02", "ACT", "R1", 1.0), ("2026-02", "LOST", "R2", 1.0), ("2026-02", "OLD", "R1", 1.0)])
    long = kpis.lifespan_months(cust, owners, make_reps(), ["2026-02"], as_of="2026-02-28", lost_after_days=365)
    act = 390 / DAYS_PER_MONTH + 10.0            # 2025-02-03 .. 2026-02-28, plus the expected remainder
    lost = 361 / DAYS_PER_MONTH                  # 2024-02-20 .. 2025-02-15; lost on 2026-02-15 (in the last 12 months)
    assert value(long, "2026-02", "customer", "ACT", "lifespan_months") == pytest.approx(act)
    assert value(long, "2026-02", "company", "all", "lifespan_months") == pytest.approx((act + lost) / 2)
    assert value(long, "2026-02", "company", "all", "lifespan_observed_months") == pytest.approx(lost)
    assert value(long, "2026-02", "rep", "R1", "lifespan_months") == pytest.approx(act)   # OLD was lost in 2024
    no_model = kpis.lifespan_months(cust.assign(expected_remaining_months=np.nan), owners, make_reps(), ["2026-02"],
                                    as_of="2026-02-28")
    assert np.isnan(value(no_model, "2026-02", "company", "all", "lifespan_months"))
    assert value(no_model, "2026-02", "company", "all", "lifespan_observed_months") == pytest.approx(lost)


# ------------------------------------------------------------------ expected remaining lifetime
def simulate_bgnbd(rng, n, params, T, H):
    """BG/NBD histories up to T and the true remaining lifetime min(L, H) after T (0 when dead)."""
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    t, x, tx = np.zeros(n), np.zeros(n), np.zeros(n)
    dead_at = np.full(n, np.inf)
    active = np.arange(n)
    while active.size:                                   # the history: purchases until T or drop-out
        tn = t[active] + rng.exponential(1 / lam[active])
        buy = active[tn <= T[active]]
        t[buy], x[buy], tx[buy] = tn[tn <= T[active]], x[buy] + 1, tn[tn <= T[active]]
        die = rng.random(buy.size) < p[buy]
        dead_at[buy[die]] = t[buy[die]]
        active = buy[~die]
    remaining = np.zeros(n)
    alive = np.flatnonzero(np.isinf(dead_at))
    t = T.copy()
    going = alive
    while going.size:                                    # the future: drop out at a purchase
        t[going] += rng.exponential(1 / lam[going])
        over = t[going] - T[going] >= H
        remaining[going[over]] = H
        rest = going[~over]
        die = rng.random(rest.size) < p[rest]
        remaining[rest[die]] = t[rest[die]] - T[rest[die]]
        going = rest[~die]
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T}), remaining


def simulate_paretonbd(rng, n, params, T, H):
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    tau = rng.exponential(1 / rng.gamma(params["s"], 1 / params["beta"], n))
    seen = np.minimum(tau, T)
    x = rng.poisson(lam * seen)
    tx = np.array([rng.random(k).max() * s if k else 0.0 for k, s in zip(x, seen)])
    return pd.DataFrame({"frequency": x.astype(float), "recency": tx, "T": T}), np.clip(tau - T, 0, H)


@pytest.mark.parametrize("kind", ["bgnbd", "paretonbd"])
def test_expected_remaining_months_matches_a_seeded_simulation(kind):
    from clvlib.models import BetaGeoModel, ParetoNBDModel

    rng = np.random.default_rng(7)
    n, cap = 20000, 60
    H = cap * DAYS_PER_MONTH / 7
    T = rng.uniform(20, 150, n)
    if kind == "bgnbd":
        params = {"r": 0.8, "alpha": 10.0, "a": 0.6, "b": 3.0}
        summary, true = simulate_bgnbd(rng, n, params, T, H)
        model = BetaGeoModel.from_params(params)
    else:
        params = {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}
        summary, true = simulate_paretonbd(rng, n, params, T, H)
        model = ParetoNBDModel.from_params(params)
    pred = kpis.expected_remaining_months(model, summary, cap, "W").to_numpy()
    true_months = true * 7 / DAYS_PER_MONTH
    assert ((pred >= 0) & (pred <= cap + 1e-9)).all()
    groups = pd.cut(summary["frequency"], [-1, 0, 1, 4, np.inf])
    for _, idx in summary.groupby(groups, observed=True).indices.items():
        se = true_months[idx].std() / np.sqrt(len(idx))
        assert abs(pred[idx].mean() - true_months[idx].mean()) < 4 * se + 0.05


def test_a_customers_remaining_lifetime_does_not_depend_on_who_else_is_valued():
    """Evaluated once per distinct (frequency, T): each customer's value is the same, to the last bit,
    alone, among 40,000 others, or with its duplicates."""
    from clvlib.models import BetaGeoModel

    rng = np.random.default_rng(3)
    model = BetaGeoModel.from_params({"r": 0.8, "alpha": 10.0, "a": 0.6, "b": 3.0})
    n = 40000
    T = rng.integers(1, 700, n) / 7.0
    x = np.minimum(rng.poisson(2.0, n), (T * 7).astype(int)).astype(float)
    summary = pd.DataFrame({"frequency": x, "recency": np.minimum(T, x), "T": T})
    batch = kpis.expected_remaining_months(model, summary, 120, "W").to_numpy()
    half = kpis.expected_remaining_months(model, summary.iloc[1::2], 120, "W").to_numpy()
    assert np.array_equal(half, batch[1::2])
    for i in (0, 17, n - 1):
        alone = kpis.expected_remaining_months(model, summary.iloc[[i]], 120, "W").to_numpy()
        twice = kpis.expected_remaining_months(model, summary.iloc[[i, i, 0]], 120, "W").to_numpy()
        assert alone[0] == batch[i] == twice[0] == twice[1]
    assert len(np.unique(summary[["frequency", "T"]].to_numpy(), axis=0)) < n / 4    # the pairs are shared


def test_expected_remaining_months_without_a_model_is_missing():
    s = pd.DataFrame({"frequency": [1.0], "recency": [2.0], "T": [3.0]})
    assert kpis.expected_remaining_months(None, s, 120, "W").isna().all()


# ------------------------------------------------------------------ NPS
def test_nps_with_its_interval_and_the_low_count_flag():
    scores = [10, 9, 9, 10, 9, 7, 8, 8, 3, 6]                  # 5 promoters, 3 passives, 2 detractors
    r = pd.DataFrame({"customer_id": [f"C{i}" for i in range(10)], "date": pd.Timestamp("2026-05-10"), "score": scores})
    owners = make_owners([("2026-06", f"C{i}", "R1" if i < 5 else "R2", 1.0) for i in range(10)])
    long = kpis.nps(r, owners, make_reps(), ["2026-06"], level=0.9, min_responses=30)
    assert value(long, "2026-06", "company", "all", "nps") == pytest.approx(30.0)
    assert value(long, "2026-06", "company", "all", "nps_responses") == 10
    # adjusted Wald: n' = 13, p'pro = 5.75/13, p'det = 2.75/13, z(0.95) = 1.6449
    assert value(long, "2026-06", "company", "all", "nps_low") == pytest.approx(-12.2776, abs=1e-3)
    assert value(long, "2026-06", "company", "all", "nps_high") == pytest.approx(58.4315, abs=1e-3)
    assert value(long, "2026-06", "company", "all", "nps_few_responses") == 1.0
    assert value(long, "2026-06", "rep", "R1", "nps") == 100.0
    assert value(long, "2026-06", "rep", "R2", "nps") == pytest.approx(100 * (0 - 2) / 5)
    later = kpis.nps(r, owners.assign(month="2027-06"), make_reps(), ["2027-06"])
    assert later.empty or later[later["measure"] == "nps"]["value"].isna().all()   # older than 12 months


# ------------------------------------------------------------------ health
def test_health_score_by_its_formula():
    # H: invoice days 30, 30 and 60 days apart, last 10 days before the month end (not an unusual silence)
    days = ["2025-10-22", "2025-11-21", "2025-12-21", "2026-02-19"]
    rows = [(f"H{i}", d, "H", "R1", "invoice", 250, 50, d, d) for i, d in enumerate(days)]
    rows[2] = ("H2", days[2], "H", "R1", "invoice", 100, 20, "2026-01-20", None)      # 100 overdue, unpaid
    rows.append(("Q1", "2026-02-01", "Q", "R2", "invoice", 400, 40, "2026-03-01", None))
    rows.append(("Q2", "2025-09-01", "Q", "R2", "invoice", 400, 40, "2025-10-01", "2026-01-15"))
    o = make_orders(rows)
    complaints = pd.DataFrame({"customer_id": ["H"], "date": [pd.Timestamp("2026-01-05")], "severity": ["high"]})
    npsr = pd.DataFrame({"customer_id": ["H", "H"], "date": pd.to_datetime(["2025-12-01", "2026-02-01"]), "score": [3, 8]})
    owners = make_owners([("2026-02", "H", "R1", 1.0), ("2026-02", "Q", "R2", 1.0)])
    long = kpis.health_score(o, owners, make_reps(), ["2026-02"], W, npsr, complaints, as_of="2026-02-28")
    cv = np.std([30.0, 30.0, 60.0]) / 40.0
    reg = 1 - cv / 2
    comp = 1 / (1 + 3 / 4)                     # a high complaint (3 points) over 4 invoices
    recv = 1 - 100 / 850                       # 100 overdue out of 850 invoiced in the last 12 months
    expected_h = 100 * (0.3 * reg + 0.2 * comp + 0.3 * recv + 0.2 * 0.8)
    assert value(long, "2026-02", "customer", "H", "health_regularity") == pytest.approx(reg)
    assert value(long, "2026-02", "customer", "H", "health_receivables") == pytest.approx(recv)
    assert value(long, "2026-02", "customer", "H", "health_score") == pytest.approx(expected_h)
    # Q: one gap (missing regularity), no complaint, nothing overdue (Q2 was paid late, but before), no NPS
    expected_q = 100 * (0.2 * 1.0 + 0.3 * 1.0) / 0.5
    assert value(long, "2026-02", "customer", "Q", "health_score") == pytest.approx(expected_q)
    assert value(long, "2026-02", "team", "East", "health_score") == pytest.approx((expected_h + expected_q) / 2)
    assert value(long, "2026-02", "customer", "H", "overdue_receivables") == 100.0
    at_dec = kpis.health_score(o, owners.assign(month="2025-12"), make_reps(), ["2025-12"], W)
    assert value(at_dec, "2025-12", "customer", "Q", "overdue_receivables") == 400.0  # Q2 still unpaid then
    assert "0.3 × regularity" in kpis.health_formula(W)


def test_a_long_silence_lowers_regularity():
    rows = [(f"S{i}", d, "S", "R1", "invoice", 10, 1) for i, d in enumerate(["2025-01-01", "2025-02-01", "2025-03-01"])]
    long = kpis.health_score(make_orders(rows), None, make_reps(), ["2025-03", "2025-12"], W)
    steady = value(long, "2025-03", "customer", "S", "health_regularity")
    silent = value(long, "2025-12", "customer", "S", "health_regularity")
    assert steady > 0.9 and silent < 0.5


# ------------------------------------------------------------------ collaboration
def bridge_case():
    """Jan -> Feb 2026. C1 stays with R1 (CLV 100 -> 120); C2 handed over R1 -> R2 (200 -> 150); C3 becomes
    co-owned R1/R3 (80 -> 90); C4 won in Feb by R2 (60; in R2's book already in Jan, but not a customer
    yet); C5 lost in Feb (last invoice 2025-02-15), R3 (10 -> 4). Mar: C2 worth 165."""
    o = make_orders([("F1", "2025-02-03", "C1", "R1", "invoice", 10, 5), ("L1", "2025-12-01", "C1", "R1", "invoice", 10, 5),
                     ("F2", "2025-06-01", "C2", "R1", "invoice", 10, 5), ("F3", "2025-07-01", "C3", "R1", "invoice", 10, 5),
                     ("F4", "2026-02-10", "C4", "R2", "invoice", 10, 5), ("F5", "2024-02-20", "C5", "R3", "invoice", 10, 5),
                     ("L5", "2025-02-15", "C5", "R3", "invoice", 10, 5)])
    cr = booking_credit(o, {"F4": {"R2": 0.7, "R1": 0.3}})
    fp = {"C1": "2025-02-03", "C2": "2025-06-01", "C3": "2025-07-01", "C4": "2026-02-10", "C5": "2024-02-20"}
    lp = {"C1": "2025-12-01", "C2": "2025-06-01", "C3": "2025-07-01", "C4": "2026-02-10", "C5": "2025-02-15"}
    clv = {"2026-01": {"C1": 100, "C2": 200, "C3": 80, "C5": 10},
           "2026-02": {"C1": 120, "C2": 150, "C3": 90, "C4": 60, "C5": 4},
           "2026-03": {"C1": 120, "C2": 165, "C3": 90, "C4": 60, "C5": 3}}
    cust = pd.DataFrame([{"month": m, "customer_id": c, "clv": float(v), "first_purchase": pd.Timestamp(fp[c]),
                          "last_purchase": pd.Timestamp(lp[c]), "expected_remaining_months": 1.0}
                         for m, d in clv.items() for c, v in d.items()])
    jan = [("C1", "R1", 1.0), ("C2", "R1", 1.0), ("C3", "R1", 1.0), ("C4", "R2", 1.0), ("C5", "R3", 1.0)]
    feb = [("C1", "R1", 1.0), ("C2", "R2", 1.0), ("C3", "R1", 0.5), ("C3", "R3", 0.5), ("C4", "R2", 1.0), ("C5", "R3", 1.0)]
    owners = make_owners([("2026-01", *r) for r in jan] + [(m, *r) for m in ("2026-02", "2026-03") for r in feb])
    tiers = pd.DataFrame({"month": "2026-02", "customer_id": ["C1", "C2", "C3", "C4", "C5"], "tier": list("ABBAC")})
    return o, cr, cust, owners, tiers


def test_collaboration_shared_accounts_handovers_and_value_kept():
    o = make_orders([("O1", "2026-01-10", "X", "R1", "invoice", 500, 100), ("O2", "2025-06-10", "X", "R1", "invoice", 200, 50),
                     ("O3", "2026-01-12", "Y", "R1", "invoice", 300, 80)])
    cr = booking_credit(o, {"O1": {"R1": 0.7, "R2": 0.3}, "O2": {"R1": 0.5, "R2": 0.5}})
    _, _, cust, owners, _ = bridge_case()
    long = kpis.collaboration(o, cr, make_reps(), owners, cust, ["2026-02", "2026-03"], handover_months=1)
    assert value(long, "2026-02", "rep", "R1", "shared_accounts_12m") == 1
    assert value(long, "2026-02", "rep", "R1", "shared_margin_12m") == pytest.approx(70 + 25)
    assert value(long, "2026-02", "rep", "R2", "shared_margin_12m") == pytest.approx(30 + 25)
    assert value(long, "2026-02", "team", "East", "shared_accounts_12m") == 1        # one customer, two reps
    assert value(long, "2026-02", "company", "all", "shared_margin_12m") == pytest.approx(150)
    assert value(long, "2026-02", "rep", "R1", "handovers_given_12m") == 1          # C2 (C3 only became shared)
    assert value(long, "2026-02", "rep", "R2", "handovers_received_12m") == 1
    assert value(long, "2026-03", "rep", "R2", "handover_value_kept") == pytest.approx(165 / 150)
    # percentiles among R1, R2, R3: accounts 1, 1, 0 -> .75, .75, 0; margin 95, 55, 0 -> 1, .5, 0
    assert value(long, "2026-02", "rep", "R1", "collaboration_score") == pytest.approx(87.5)
    assert value(long, "2026-02", "rep", "R2", "collaboration_score") == pytest.approx(62.5)
    assert value(long, "2026-02", "rep", "R3", "collaboration_score") == pytest.approx(0.0)


# ------------------------------------------------------------------ CLV bridge and events
def test_bridge_lines_by_hand_with_handover_split_ownership_new_and_lost():
    o, cr, cust, owners, tiers = bridge_case()
    lines = kpis.bridge_lines(cust, owners, o, tiers, ["2026-02"], as_of="2026-02-28")
    got = {(r.rep_id, r.customer_id, r.part): r.amount_cents for r in lines.itertuples()}
    assert got == {("R1", "C1", "existing"): 2000, ("R1", "C2", "transferred"): -20000,
                   ("R1", "C3", "transferred"): -4000, ("R1", "C3", "existing"): 500,
                   ("R2", "C2", "transferred"): 20000, ("R2", "C2", "existing"): -5000, ("R2", "C4", "new"): 6000,
                   ("R3", "C3", "transferred"): 4000, ("R3", "C3", "existing"): 500, ("R3", "C5", "lost"): -600}
    assert lines.loc[lines["customer_id"] == "C4", "tier"].iloc[0] == "A"
    book = kpis.book_clv(cust, owners, make_reps(), ["2026-01", "2026-02"], as_of="2026-02-28")
    for rep, jan, feb in (("R1", 380, 165), ("R2", 0, 210), ("R3", 10, 49)):
        assert value(book, "2026-02", "rep", rep, "book_clv") == feb
        assert feb - jan == lines.loc[lines["rep_id"] == rep, "amount"].sum()
    assert value(book, "2026-02", "rep", "R4", "book_clv") == 165 + 210       # service colleague: team East
    assert value(book, "2026-02", "company", "all", "book_clv") == 424
    b = kpis.clv_bridge(lines, make_reps(), ["2026-02"], ["2026-02"], as_of="2026-02-28")
    assert value(b, "2026-02", "company", "all", "clv_change_transferred_1m") == 0.0
    assert value(b, "2026-02", "company", "all", "clv_change_new_1m") == 60.0
    assert b[b["measure"] == "clv_built_12m"]["value"].isna().all()          # one bridge is not twelve
    span = kpis.bridge_between(lines, make_reps(), "2026-01", "2026-02", as_of="2026-02-28").set_index(["level", "id"])
    assert span.loc[("rep", "R1")].to_dict() == {"existing": 25.0, "new": 0.0, "lost": 0.0, "transferred": -240.0,
                                                 "total": -215.0}
    assert span.loc[("team", "East"), "total"] == 165 + 210 - 380


def test_bridge_adds_up_to_the_cent_with_fractional_shares():
    rng = np.random.default_rng(3)
    cust_ids = [f"K{i}" for i in range(40)]
    months = ["2026-01", "2026-02", "2026-03"]
    cust = pd.DataFrame([{"month": m, "customer_id": c, "clv": float(rng.uniform(0, 5000)), "first_purchase": pd.Timestamp("2025-01-01"),
                          "last_purchase": pd.Timestamp("2025-12-01")} for m in months for c in cust_ids])
    rows = []
    for m in months:
        for c in cust_ids:
            a, b = rng.choice(["R1", "R2", "R3"], 2, replace=False)
            s = float(rng.choice([1.0, 0.5, 1 / 3, 0.7]))
            rows += [(m, c, a, s)] + ([(m, c, b, 1 - s)] if s < 1 else [])
    owners = make_owners(rows)
    o = make_orders([("X", "2025-12-01", "K0", "R1", "invoice", 1, 1)])
    lines = kpis.bridge_lines(cust, owners, o, None, months)
    book = kpis.book_clv(cust, owners, make_reps(), months)
    for m_prev, m in zip(months, months[1:]):
        for rep in ("R1", "R2", "R3"):
            change = round(value(book, m, "rep", rep, "book_clv") - value(book, m_prev, "rep", rep, "book_clv"), 2)
            cents = lines[(lines["month"] == m) & (lines["rep_id"] == rep)]["amount_cents"].sum()
            assert round(change * 100) == cents


def test_events_won_lost_and_retained():
    o, cr, cust, owners, tiers = bridge_case()
    ev = kpis.events(o, cr, owners, cust, tiers, ["2026-02"], as_of="2026-02-28")
    rows = {(r.event, r.customer_id, r.rep_id): r for r in ev.itertuples()}
    assert set(rows) == {("won", "C4", "R2"), ("won", "C4", "R1"), ("retained", "C1", "R1"), ("lost", "C5", "R3")}
    assert rows[("won", "C4", "R2")].share == 0.7 and rows[("won", "C4", "R2")].order_id == "F4"
    assert rows[("won", "C4", "R2")].value == 60.0 and rows[("won", "C4", "R2")].tier == "A"
    assert rows[("retained", "C1", "R1")].order_id == "L1"              # the latest invoice of the 12 months
    assert rows[("lost", "C5", "R3")].value == 10.0                      # CLV before it was lost
    assert rows[("lost", "C5", "R3")].order_id == "L5"
    assert list(ev.columns) == kpis.EVENT_COLUMNS


def test_missing_clv_is_an_error_not_a_silent_zero():
    _, _, cust, owners, _ = bridge_case()
    cust.loc[0, "clv"] = np.nan
    with pytest.raises(DataError, match="clv is missing"):
        kpis.book_clv(cust, owners, make_reps(), ["2026-01"])


# ------------------------------------------------------------------ small firms
def test_small_firm_without_a_purchase_model_still_gets_the_simple_kpis():
    from kpis_support import month_history

    o = make_orders([(f"I{i}", f"2026-0{1 + i % 3}-1{i}", f"C{i}", "R1" if i % 2 else "R2", "invoice", 1000, 200)
                     for i in range(6)])
    own = pd.DataFrame({"customer_id": [f"C{i}" for i in range(6)], "rep_id": ["R1" if i % 2 else "R2" for i in range(6)],
                        "share": 1.0, "valid_from": pd.Timestamp("2025-01-01"), "valid_to": pd.NaT})
    clv_params = {"time_unit": "W", "horizon_months": 12, "monthly_discount_rate": 0.01, "holdout_weeks": 26,
                  "interval_level": 0.9, "interval_draws": 20, "value": "gross_margin", "model": "bgnbd", "seed": 1}
    parts = [month_history(o, own, m, e, clv_params, 120) for m, e in month_ends(["2026-02", "2026-03"]).items()]
    cust = pd.concat([p[0] for p in parts], ignore_index=True)
    owners = pd.concat([p[1] for p in parts], ignore_index=True)
    res = kpis.compute_kpis(o, booking_credit(o), make_reps(), cust, owners, None, ["2026-03"])
    t = res.table
    assert res.fallback is not None
    assert value(t, "2026-03", "company", "all", "revenue_12m") == 6000
    assert value(t, "2026-03", "company", "all", "repurchase_rate") == 0.0
    assert np.isnan(value(t, "2026-03", "company", "all", "lifespan_months"))
    cat = res.catalogue.set_index("measure")["kind"]
    assert cat["lifespan_months"] == "missing" and cat["book_clv"] == "simple indicator"
    assert cat["revenue_12m"] == "simple"
    assert any("simple indicators" in n for n in res.notes)


# ------------------------------------------------------------------ the demo company
@pytest.fixture(scope="module")
def demo():
    from kpis_support import demo_history

    h = demo_history(13)
    res = kpis.compute_kpis(h.orders, h.credit, h.reps, h.customers, h.owners, h.tiers, h.months, as_of=h.as_of,
                            nps_table=h.nps, complaints=h.complaints, **kpis.settings_from(h.params))
    return h, res


def test_demo_bridge_adds_up_to_the_cent_for_every_rep_and_month(demo):
    h, res = demo
    t = res.table
    book = t[(t["measure"] == "book_clv") & (t["level"].isin(["rep", "team", "company"]))]
    book = book.pivot_table(index=["level", "id"], columns="month", values="value")
    parts = t[t["measure"].str.endswith("_1m") & t["measure"].str.startswith("clv_change_")]
    parts = parts.pivot_table(index=["level", "id"], columns="month", values="value", aggfunc="sum")
    months = h.months[1:]
    change = book[months].fillna(0).to_numpy() - book[h.months[:-1]].fillna(0).to_numpy()
    bridged = parts.reindex(index=book.index, columns=months).fillna(0).to_numpy()
    assert np.abs(np.round(change, 2) - np.round(bridged, 2)).max() < 0.005
    lines = res.bridge
    by_line = lines.groupby(["month", "rep_id"])["amount_cents"].sum()
    rep_parts = t[(t["level"] == "rep") & t["measure"].str.endswith("_1m")].groupby(["month", "id"])["value"].sum()
    common = by_line.index.intersection(rep_parts.index)
    assert len(common) > 100
    assert np.allclose(by_line[common] / 100, rep_parts[common], atol=1e-6)
    assert set(lines["part"]) == {"existing", "new", "lost", "transferred"}
    assert list(lines.columns) == kpis.BRIDGE_COLUMNS
    span = kpis.bridge_between(lines, h.reps, h.months[0], h.months[-1], h.as_of).set_index(["level", "id"])
    total = book[h.months[-1]].fillna(0) - book[h.months[0]].fillna(0)
    assert np.allclose(span["total"].reindex(total.index).fillna(0), total.round(2), atol=0.005)
    year = t[(t["month"] == h.months[-1]) & (t["measure"] == "clv_change_existing")].set_index(["level", "id"])["value"]
    assert np.allclose(span.loc[year.index, "existing"], year)


def test_demo_hunters_rank_better_by_revenue_than_by_clv_built(demo):
    from clvlib.demo import load_truth
    from clvlib.paths import DEMO_DATA_DIR

    h, res = demo
    arch = load_truth(DEMO_DATA_DIR)["rep_archetypes"]
    rep, _ = kpis.scorecards(res.table, h.months[-1], h.reps, h.as_of)
    s = rep.dropna(subset=["commission_rank", "clv_rank"]).assign(arch=lambda d: d["rep_id"].map(arch))
    gap = (s["clv_rank"] - s["commission_rank"]).groupby(s["arch"])
    assert gap.median()["hunter"] > 0                   # hunters: commission rank better than CLV rank
    assert (gap.apply(lambda g: (g > 0).mean())["hunter"]) > 0.5
    assert gap.median()["hunter"] > gap.median()["farmer"]
    # the CLV-era relationship KPIs surface them plainly
    by = s.groupby("arch")[["retention_rate", "nps"]].median()
    assert by.loc["farmer", "retention_rate"] > by.loc["hunter", "retention_rate"] + 0.1
    assert by.loc["farmer", "nps"] > by.loc["hunter", "nps"] + 30


def test_demo_farmers_rank_better_by_clv_built_than_by_revenue(demo):
    from clvlib.demo import load_truth
    from clvlib.paths import DEMO_DATA_DIR

    h, res = demo
    arch = load_truth(DEMO_DATA_DIR)["rep_archetypes"]
    rep, _ = kpis.scorecards(res.table, h.months[-1], h.reps, h.as_of)
    s = rep.dropna(subset=["commission_rank", "clv_rank"]).assign(arch=lambda d: d["rep_id"].map(arch))
    assert (s["commission_rank"] - s["clv_rank"]).groupby(s["arch"]).median()["farmer"] > 0


def test_demo_articles_units_and_front_page(demo):
    h, res = demo
    t = res.table
    r = t[t["measure"] == "retention_rate"].set_index(["month", "level", "id"])["value"]
    c = t[t["measure"] == "churn_rate"].set_index(["month", "level", "id"])["value"]
    assert len(r) > 40 and np.allclose(r + c.reindex(r.index), 1.0)
    assert ((r >= 0) & (r <= 1)).all()
    fp = kpis.front_page(t, h.months[-1]).set_index("measure")
    assert fp.loc["churn_rate", "value"] + fp.loc["retention_rate", "value"] == pytest.approx(1.0)
    assert fp.loc["retention_rate", "change_1m"] == pytest.approx(
        fp.loc["retention_rate", "value"] - fp.loc["retention_rate", "previous_month"])
    assert 0 < fp.loc["a_share_of_profit", "value"] < 1.5
    assert 6 < fp.loc["lifespan_months", "value"] < 120
    nps = t[(t["measure"] == "nps")]["value"]
    assert ((nps >= -100) & (nps <= 100)).all()


def test_demo_scorecards_have_the_issue_columns_and_every_measure_is_defined(demo):
    h, res = demo
    rep, team = kpis.scorecards(res.table, h.months[-1], h.reps, h.as_of)
    needed = ["rep_id", "name", "team", "role", "revenue_12m", "gross_margin_12m", "new_customers_12m",
              "avg_order_margin_12m", "repurchase_rate", "retention_rate", "churn_rate", "nps", "nps_responses",
              "lifespan_months", "health_score", "collaboration_score", "book_clv", "clv_change_existing",
              "clv_change_new", "clv_change_lost", "commission_rank", "clv_rank"]
    assert set(needed) <= set(rep.columns)
    assert set(needed[4:]) <= set(team.columns) and "team" in team
    assert rep["rep_id"].is_unique and len(team) == 4
    sales = rep[rep["employed"] & (rep["role"] == "sales")]
    assert sales["commission_rank"].notna().all() and sales["clv_rank"].notna().all()
    assert rep.loc[rep["role"] != "sales", "commission_rank"].isna().all()
    built = rep["clv_change_existing"] + rep["clv_change_new"] + rep["clv_change_lost"]
    assert np.allclose(built.dropna(), rep.loc[built.notna(), "clv_built_12m"])
    assert set(res.table["measure"]) <= set(kpis.DEFINITIONS)
    assert kpis.MODEL_KPIS <= set(kpis.DEFINITIONS)
    ev = res.events
    assert set(ev["event"]) == {"won", "lost", "retained"}
    won = ev[ev["event"] == "won"].groupby(["month", "customer_id"])["share"].sum()
    assert np.allclose(won, 1.0)
    chart = kpis.rank_chart(rep)
    assert chart.to_dict()["layer"]


def test_month_codes_of_a_column_parse_each_label_once_and_reject_a_bad_one():
    from clvlib.kpis.common import month_index, month_indexes, month_label, month_labels

    s = pd.Series(["2026-10", "2025-12", "2026-10", "2024-01"], index=[5, 6, 7, 8], dtype="string[pyarrow]")
    got = month_indexes(s)
    assert got.index.tolist() == [5, 6, 7, 8] and got.tolist() == [month_index(m) for m in s]
    back = month_labels(got)
    assert back.tolist() == list(s) and back.tolist() == [month_label(i) for i in got]
    assert month_indexes(s.iloc[:0]).empty and month_labels(got.iloc[:0]).empty
    with pytest.raises(ParamsError, match="got '2026-13'"):
        month_indexes(pd.Series(["2026-10", "2026-13"]))


def test_joint_codes_join_like_a_merge_on_the_keys_with_missing_matching_missing():
    from clvlib.kpis.common import joint_codes, shared_codes

    left = pd.DataFrame({"month": ["2026-01", "2026-02", "2026-01", None], "customer_id": ["A", "A", "B", "A"],
                         "v": [1.0, 2.0, 3.0, 4.0]})
    right = pd.DataFrame({"month": ["2026-02", "2026-01", "2026-01", None, "2026-03"],
                          "customer_id": ["A", "A", "C", "A", "A"], "w": [10.0, 20.0, 30.0, 40.0, 50.0]})
    want = left.merge(right, on=["month", "customer_id"])
    for a, b in ((left, right), tuple(shared_codes("customer_id", [left, right]))):
        ka, kb = joint_codes(a, b, ["month", "customer_id"])
        got = a.assign(_k=ka).merge(b.drop(columns=["month", "customer_id"]).assign(_k=kb), on="_k")
        assert got[["v", "w"]].values.tolist() == want[["v", "w"]].values.tolist() == [[1.0, 20.0], [2.0, 10.0],
                                                                                      [4.0, 40.0]]
    coded = shared_codes("customer_id", [left, None, right])
    assert coded[1] is None and coded[0]["customer_id"].dtype == coded[2]["customer_id"].dtype
    assert list(coded[0]["customer_id"].cat.categories) == ["A", "B", "C"]
    numbers = [left.assign(customer_id=[1, 1, 2, 1]), right.assign(customer_id=[1, 1, 3, 1, 1])]
    assert all(a is b for a, b in zip(shared_codes("customer_id", numbers), numbers))      # not text: as they are


def test_kpis_do_not_depend_on_the_text_dtype_of_the_ids_and_give_ids_back_as_text():
    o, cr, cust, owners, tiers = bridge_case()
    args = dict(months=["2026-02", "2026-03"], as_of="2026-03-31")
    plain = kpis.compute_kpis(o, cr, make_reps(), cust, owners, tiers, **args)
    nullable = {"customer_id": "string", "rep_id": "string"}
    typed = kpis.compute_kpis(*(t.astype({c: d for c, d in nullable.items() if c in t.columns})
                                for t in (o, cr, make_reps(), cust, owners, tiers)), **args)
    pd.testing.assert_frame_equal(plain.table, typed.table)
    pd.testing.assert_frame_equal(plain.bridge, typed.bridge)
    pd.testing.assert_frame_equal(plain.events, typed.events)
    for df in (plain.bridge, plain.events):
        assert df["customer_id"].dtype == "str" and df["rep_id"].dtype == "str"
    assert plain.table["id"].dtype == "str" and set(plain.bridge["customer_id"]) <= {"C1", "C2", "C3", "C4", "C5"}
