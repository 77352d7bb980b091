"""Budget-neutral calibration, the commission-weight sweep and the recommended weight: on tiny inputs
(costs by hand) and on the demo company through the real stages."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest_support import MONTHS, demo_backtest, margin_plan, tiny, today_plan
from plans_support import plan, reps_table
from clvlib.errors import ParamsError
from clvlib.plans import PayInputs, base_lines, payouts, run_plan
from clvlib.plans.calibrate import (RECOMMENDATION_DEFAULTS, SWEEP_WEIGHTS, budget_neutral_factor, plan_cost_cents,
                                    recommend_weight, sweep_weights, weight_sweep)
from clvlib.plans.engine import pay_grid


def cost(lines) -> int:
    return int(lines["amount_cents"].sum())


# ------------------------------------------------------------------ tiny inputs
def test_pay_grid_is_the_sum_of_the_lines():
    inputs = tiny()
    for p in (today_plan(), margin_plan()):
        lines = run_plan(p, inputs, rate_factor=1.37)
        grid = pay_grid(p, inputs, rate_factor=1.37)
        sums = payouts(lines).groupby(["rep_id", "month"])["amount_cents"].sum()
        assert grid.stack().loc[sums.index].tolist() == sums.tolist()
        assert int(grid.to_numpy().sum()) == cost(lines) == plan_cost_cents(p, inputs, rate_factor=1.37)


def test_calibration_on_tiny_inputs_hits_todays_cost_to_the_cent():
    """Today's plan costs 1,080.00; the margin plan 1,250.00 at its rates: a factor near 0.864."""
    inputs = tiny()
    target = cost(run_plan(today_plan(), inputs))
    assert target == 108000
    cal = budget_neutral_factor(margin_plan(), inputs, target)
    factor, cents = cal
    assert cents == target and cal.exact and cal.gap_cents == 0
    assert factor == pytest.approx(1080 / 1250, rel=1e-4)
    assert cost(run_plan(margin_plan(), inputs, rate_factor=factor)) == target
    assert cal.costs[1.0] == 125000 and cal.costs[0.0] == 0 and cal.evaluations == len(cal.costs)


def test_calibration_reports_the_closest_cost_when_the_target_cannot_be_hit():
    """Three retention bonuses of the same size and share step together: the cost moves 3 cents at a
    time, so 10.00 cannot be hit; 9.99 (gap -1 cent) is the closest."""
    reps = reps_table(("R1", "T", "sales", "2020-01-01", None))
    events = pd.DataFrame([("2026-01", f"C{i}", "retained", "R1", 1.0, "A") for i in range(3)],
                          columns=["month", "customer_id", "event", "rep_id", "share", "tier"])
    inputs = PayInputs(orders=tiny().orders.iloc[:0], credit=tiny().credit.iloc[:0], reps=reps, months=MONTHS,
                       events=events)
    retention = plan([{"type": "retention", "amounts": {"A": 100}}], name="retention")
    cal = budget_neutral_factor(retention, inputs, 1000)
    assert not cal.exact and abs(cal.gap_cents) == 1 and cal.cost_cents % 3 == 0
    assert plan_cost_cents(retention, inputs, rate_factor=cal.factor) == cal.cost_cents


def test_calibration_when_the_unscaled_part_alone_costs_more():
    """A SPIF (not scaled by the factor) of 500 per customer won costs more than the target: factor 0."""
    inputs = tiny()
    spif = plan([{"type": "commission", "rate": 0.03},
                 {"type": "spif", "label": {"en": "won", "zh": "赢得"}, "base": "won", "amount": 500,
                  "effective_from": "2026-01", "effective_to": "2026-02"}], name="spif")
    cal = budget_neutral_factor(spif, inputs, 40000)
    assert (cal.factor, cal.cost_cents, cal.gap_cents) == (0.0, 50000, 10000)


def hybrid_plan():
    """Commission on revenue (3 %) and a retention bonus (20 per tier-A customer retained), 50/50."""
    return plan([{"type": "commission", "rate": 0.03}, {"type": "retention", "amounts": {"A": 20}}],
                weights={"commission": 0.5, "retention": 0.5}, name="hybrid")


def test_sweep_weights_spread_the_rest_in_plan_proportions():
    three = plan([{"type": "commission", "rate": 0.03}, {"type": "retention", "amounts": {"A": 20}},
                  {"type": "clv_growth", "rates": {"new": 0.1}}],
                 weights={"commission": 0.3, "clv_growth": 0.5, "retention": 0.2}, name="three")
    w = sweep_weights(three, 0.3)
    assert w == pytest.approx({"commission": 0.3, "clv_growth": 0.5, "retention": 0.2})
    w = sweep_weights(three, 0.65)
    assert w["clv_growth"] / w["retention"] == pytest.approx(2.5) and sum(w.values()) == pytest.approx(1)
    assert sweep_weights(three, 1.0)["retention"] == pytest.approx(0)
    with pytest.raises(ParamsError, match="commission and at least one other weighted component"):
        sweep_weights(today_plan(), 0.5)
    with pytest.raises(ParamsError, match="between 0 and 1"):
        sweep_weights(three, 1.5)


def test_tiny_sweep_is_monotone_and_budget_neutral():
    """Commission pays 1,080 as the whole pay, retention 2 x 20 = 40: the cost at the plan's rates
    rises with the commission weight (w x 1,080 + (1 - w) x 40), the factor falls, and every row costs
    today's 1,080.00 exactly."""
    inputs = tiny()
    baseline = run_plan(today_plan(), inputs)
    s = weight_sweep(hybrid_plan(), inputs, baseline)
    assert s["commission_weight"].tolist() == list(SWEEP_WEIGHTS)
    assert np.allclose(s["cost_at_plan_rates"], s["commission_weight"] * 1080 + (1 - s["commission_weight"]) * 40,
                       atol=0.02)
    assert s["cost_at_plan_rates"].is_monotonic_increasing and s["factor"].is_monotonic_decreasing
    assert (s["cost_budget_neutral"] == 1080.0).all() and (s["gap_cents"] == 0).all()
    last = s.iloc[-1]                                      # all commission: today's plan
    assert last["factor"] == pytest.approx(1.0) and last["losers_vs_current"] == 0


# ------------------------------------------------------------------ the recommendation rule
def sweep_table(rows):
    cols = ["commission_weight", "factor", "cost_budget_neutral", "corr_payout_clv_growth", "corr_payout_revenue",
            "losers_vs_current", "losers_share", "big_losers_share", "max_loss_pct", "gini"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows])


def test_recommend_weight_follows_its_rule():
    s = sweep_table([(0.0, 2.0, 100, 0.90, 0.4, 20, 0.50, 0.50, 1.0, 0.4),   # too many big losers
                     (0.3, 1.7, 100, 0.85, 0.7, 15, 0.38, 0.25, 0.9, 0.37),  # admissible, best corr 0.85
                     (0.4, 1.6, 100, 0.82, 0.8, 12, 0.30, 0.20, 0.8, 0.36),  # within 0.05, fewer losers
                     (0.5, 1.5, 100, 0.81, 0.85, 12, 0.30, 0.10, 0.7, 0.35),  # same losers, higher weight
                     (1.0, 1.0, 100, 0.20, 0.98, 0, 0.0, 0.0, 0.0, 0.33)])    # corr too low
    w, reasons = recommend_weight(s)
    assert w == 0.4
    assert "0% would not" in reasons[0] and "0.85" in reasons[1] and "12 reps (30%)" in reasons[2]
    assert recommend_weight(s, corr_tolerance=0.0)[0] == 0.3               # only the best correlation
    assert recommend_weight(s, max_big_loser_share=0.5)[0] == 0.3          # 0 % allowed; 30 % moves fewer
    assert recommend_weight(s, max_big_loser_share=0.5, corr_tolerance=0.0)[0] == 0.0


def test_recommend_weight_says_when_no_weight_meets_the_limit():
    s = sweep_table([(0.0, 2.0, 100, 0.9, 0.4, 20, 0.5, 0.5, 1.0, 0.4), (0.5, 1.5, 100, 0.6, 0.8, 15, 0.4, 0.3, 0.8, 0.35)])
    w, reasons = recommend_weight(s)
    assert w == 0.5 and reasons[0].startswith("No commission weight")
    assert RECOMMENDATION_DEFAULTS == {"big_loss": 0.2, "max_big_loser_share": 0.25, "corr_tolerance": 0.05}


# ------------------------------------------------------------------ the demo
@pytest.fixture(scope="module")
def demo(staged):
    return demo_backtest(staged)


def test_every_shipped_plan_calibrated_costs_todays_plan_to_the_cent(demo):
    base = demo.baseline
    target = cost(base)
    for name, p in sorted(demo.plans.items()):
        bases = base_lines(p, demo.inputs)
        cal = budget_neutral_factor(p, demo.inputs, target, bases=bases, baseline=base)
        assert cal.exact, (name, cal)
        lines = run_plan(p, demo.inputs, rate_factor=cal.factor, baseline=base, bases=bases)
        assert cost(lines) == target, name                       # the published lines, not only the grid
        if name == demo.current:
            assert cal.factor == 1.0
        else:
            assert cal.costs[1.0] == cost(demo.pay.lines[demo.pay.lines["plan"] == name])


def test_demo_sweep_of_the_hybrid(demo):
    hybrid = demo.plans["seed_hybrid"]
    base = demo.baseline
    target = cost(base)
    s = weight_sweep(hybrid, demo.inputs, base)
    assert len(s) == 11 and (s["gap_cents"].abs() <= 2).all()
    exact = s["gap_cents"] == 0
    assert exact.mean() >= 0.8 and (s.loc[exact, "cost_budget_neutral"] * 100).round().eq(target).all()
    # the plan is homogeneous in its rates (no clawback, a floor at 0): factor x cost at rates = budget
    assert np.allclose(s["factor"] * s["cost_at_plan_rates"], target / 100, rtol=1e-3)
    assert (s["cost_at_plan_rates"].rank().to_numpy() == s["factor"].rank(ascending=False).to_numpy()).all()
    # the plan's own weights (30 % commission) give the plan's own calibration
    own = s.set_index("commission_weight").loc[0.3]
    assert own["factor"] == pytest.approx(budget_neutral_factor(hybrid, demo.inputs, target).factor, rel=1e-6)
    # all commission: pay follows revenue; no commission: pay follows CLV built
    assert s.iloc[-1]["corr_payout_revenue"] > 0.95 and s.iloc[0]["corr_payout_clv_growth"] > 0.85
    assert s.iloc[0]["corr_payout_clv_growth"] > s.iloc[-1]["corr_payout_clv_growth"] + 0.5
    assert s.iloc[0]["big_losers_share"] > s.iloc[-1]["big_losers_share"]
    w, reasons = recommend_weight(s)
    assert w in set(s["commission_weight"]) and len(reasons) >= 3
    row = s.set_index("commission_weight").loc[w]
    assert row["big_losers_share"] <= RECOMMENDATION_DEFAULTS["max_big_loser_share"]
