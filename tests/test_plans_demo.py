"""The payout engine on the demo company: today's plan recomputed independently, to the cent."""
from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest

from clvlib.paths import PARAMS_DIR
from clvlib.errors import ParamsError
from clvlib.plans import PayInputs, load_plans, payouts, run_plan, run_plans, save_payouts, window
from plans_support import demo_inputs

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def wb(staged):
    w = staged
    w.credit()                                   # the intake and credit stages write data/*.parquet
    return w


@pytest.fixture(scope="module")
def plans():
    return load_plans(PARAMS_DIR / "plans", current="commission_revenue")


@pytest.fixture(scope="module")
def demo(wb):
    return demo_inputs(wb, window(PERIOD, 12))


def todays_commission(orders, splits, reps, months, as_of) -> dict:
    """commission_revenue by its definition, word by word, from the canonical tables:

    3 % of revenue in the reporting currency; a booked invoice counts in the calendar month of its
    paid_date; a booked credit note counts, negative, in the month of its own order_date; credit goes
    to the reps by the order's split shares, otherwise 100 % to the order's rep_id (a credit note
    follows its original invoice's credit); nothing for a rep dated after their leave_date; only sales
    reps; each (document, rep) line rounded to the cent, half away from zero.
    """
    known = orders[(orders["status"] == "booked") & (orders["order_date"] <= as_of)]
    by_id = known.set_index("order_id")
    shares = {k: list(zip(g["rep_id"], g["share"])) for k, g in splits.groupby("order_id")}
    leave = reps.set_index("rep_id")["leave_date"]
    role = reps.set_index("rep_id")["role"]
    out = defaultdict(int)
    for doc in known.itertuples():
        if doc.doc_type == "credit_note":
            day, credited_as = doc.order_date, doc.original_order_id
        else:
            day = doc.paid_date if pd.notna(doc.paid_date) and doc.paid_date <= as_of else pd.NaT
            credited_as = doc.order_id
        if pd.isna(day) or day.strftime("%Y-%m") not in months:
            continue
        for rep, share in shares.get(credited_as, [(by_id.loc[credited_as, "rep_id"], 1.0)]):
            if role[rep] != "sales" or (pd.notna(leave[rep]) and day > leave[rep]):
                continue
            amount = Decimal(str(doc.amount_rc)) * Decimal(str(share)) * Decimal("0.03")
            out[(rep, day.strftime("%Y-%m"))] += int((amount / Decimal("0.01")).quantize(Decimal(1), ROUND_HALF_UP))
    return dict(out)


def test_todays_plan_recomputed_from_the_tables_matches_payouts_to_the_cent(wb, plans, tmp_path):
    months = window(PERIOD, 24)
    inputs = PayInputs(orders=wb.orders(), credit=wb.credit(), reps=wb.table("reps"), months=months)
    save_payouts(run_plan(plans["commission_revenue"], inputs), tmp_path)
    data = wb.data_dir
    orders = pd.read_parquet(data / "orders.parquet")
    expected = todays_commission(orders, pd.read_parquet(data / "order_splits.parquet"),
                                 pd.read_parquet(data / "reps.parquet"), months, wb.as_of)
    paid = pd.read_parquet(tmp_path / "payouts.parquet")
    got = {(r.rep_id, r.month): r.amount_cents for r in paid.itertuples()}
    assert got == expected
    assert len({rep for rep, _ in got}) >= 35 and len({m for _, m in got}) == 24
    lines = pd.read_parquet(tmp_path / "payout_lines.parquet")
    assert set(lines["rule"]) == {"commission.flat"} and set(lines["source_type"]) == {"order"}
    r041 = lines[lines["rep_id"] == "R041"]                  # left on 2026-03-02: nothing after it
    assert len(r041) and r041["month"].max() <= "2026-03"


def test_every_plan_pays_the_sum_of_its_lines_and_reruns_give_identical_files(plans, demo, tmp_path):
    baseline = run_plan(plans["commission_revenue"], demo)
    for name, plan in plans.items():
        lines = run_plan(plan, demo, baseline=baseline)
        assert len(lines) and (lines["plan"] == name).all()
        per = payouts(lines).set_index(["month", "rep_id", "component"])["amount_cents"]
        assert per.equals(lines.groupby(["month", "rep_id", "component"])["amount_cents"].sum())
        for run in ("a", "b"):
            (tmp_path / run / name).mkdir(parents=True)
            save_payouts(run_plan(plan, demo, baseline=baseline), tmp_path / run / name)
        for f in ("payouts.parquet", "payout_lines.parquet"):
            assert (tmp_path / "a" / name / f).read_bytes() == (tmp_path / "b" / name / f).read_bytes(), (name, f)


def test_demo_plans_use_their_components(plans, demo):
    baseline = run_plan(plans["commission_revenue"], demo)
    seen = {name: set(run_plan(p, demo, baseline=baseline)["component"]) for name, p in plans.items()}
    assert seen["clv_plan"] == {"clv_growth", "retention", "clawback", "total"}    # total: the floor at 0
    assert seen["seed_hybrid"] == {"commission", "clv_growth", "team_pool", "total"}
    assert seen["seed_hybrid_guarantee"] == seen["seed_hybrid"] | {"guarantee"}
    pool = run_plan(plans["seed_hybrid"], demo)
    per_month = payouts(pool).groupby(["rep_id", "month"])["amount_cents"].sum()
    assert (per_month >= 0).all()                            # never negative: carried forward instead
    roles = demo.reps.set_index("rep_id")["role"]
    assert {"service", "supply_chain"} <= set(pool[pool["component"] == "team_pool"]["rep_id"].map(roles))


def test_the_guarantee_holds_on_the_demo(plans, demo):
    every = run_plans(plans, demo, "commission_revenue")
    assert list(dict.fromkeys(every["plan"])) == ["commission_revenue", "clv_plan", "commission_margin",
                                                  "seed_hybrid", "seed_hybrid_guarantee"]
    baseline = every[every["plan"] == "commission_revenue"]
    guaranteed = payouts(every[every["plan"] == "seed_hybrid_guarantee"])
    got = guaranteed.groupby(["rep_id", "month"])["amount_cents"].sum()
    base = payouts(baseline).groupby(["rep_id", "month"])["amount_cents"].sum()
    both = pd.concat([got.rename("new"), base.rename("today")], axis=1).fillna(0)
    months = window(PERIOD, 12)                              # switch: the window's first month; 12 months
    inside = both[both.index.get_level_values("month").isin(months) & (both["today"] > 0)]
    assert len(inside) > 100
    assert (inside["new"] >= (inside["today"] * 0.9).round() - 1).all()
    with pytest.raises(ParamsError, match="pay.current_plan"):
        run_plans(plans, demo, "today")
