"""The plan comparison, the transition of a guarantee plan and the hunters claim: every measure checked by
hand on tiny tables, then on the demo company through the real stages."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest_support import MONTHS, demo_backtest, margin_plan, pool_plan, tiny, today_plan
from plans_support import plan, reps_table
from clvlib.errors import ParamsError
from clvlib.plans import PayInputs, run_plan
from clvlib.plans.backtest import (COMPARISON_COLUMNS, DEFINITIONS, balances, comparison, gini, leverage, losers,
                                   max_loss, rep_comparison, rep_figures, spearman, top_share)
from clvlib.plans.claims import claim_groups, claim_reps, hunter_claim
from clvlib.plans.transition import (guarantee_summary, paths_long, protected_reps, rep_paths, window_guarantee_cost,
                                     without_guarantee)


# ------------------------------------------------------------------ the primitive measures, by hand
def test_gini_by_hand():
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)          # sum |xi - xj| = 6 / (2 x 16 x 0.25)
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)          # 20 / (2 x 16 x 2.5)
    assert gini([5, 5, 5]) == pytest.approx(0.0)
    assert gini([4, 1, 3, 2]) == gini([1, 2, 3, 4])           # order does not matter
    assert math.isnan(gini([0, 0])) and math.isnan(gini([]))


def test_top_share_takes_the_best_paid_tenth_rounded_up():
    assert top_share(range(1, 11)) == pytest.approx(10 / 55)          # 10 reps: the best 1
    assert top_share(range(1, 12)) == pytest.approx((11 + 10) / 66)   # 11 reps: the best 2
    assert top_share([3, 1, 2]) == pytest.approx(3 / 6)               # 3 reps: the best 1


def test_spearman_by_hand_with_ties():
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)     # 1 - 6 x 2 / (4 x 15)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(math.sqrt(0.9))   # ties share rank 2.5
    assert spearman([10, 20, 30], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3])) and math.isnan(spearman([1, 2], [1, 2]))


def test_leverage_losers_and_max_loss_by_hand():
    assert leverage(range(1, 11)) == pytest.approx(9.1 / 5.5)   # P90 = 9 + 0.1 x (10 - 9), P50 = 5.5
    assert math.isnan(leverage([0, 0, 1]))
    assert losers([94, 95, 100, 0], [100, 100, 100, 0]).tolist() == [True, False, False, False]
    assert max_loss([94, 95, 120, 0], [100, 100, 100, 0]) == pytest.approx(0.06)
    assert max_loss([100, 120], [100, 100]) == 0.0


# ------------------------------------------------------------------ the comparison on tiny tables
@pytest.fixture(scope="module")
def small():
    inputs = tiny()
    lines = pd.concat([run_plan(p, inputs) for p in (today_plan(), margin_plan(), pool_plan())], ignore_index=True)
    return inputs, lines, comparison(lines, inputs, current="today").set_index("plan")


def test_rep_figures_of_the_tiny_window(small):
    f = rep_figures(small[0])
    assert f.index.tolist() == ["R1", "R2", "R3"]                      # R4 left before, S1 is service
    assert f["revenue"].tolist() == [14000, 20000, 5000]
    assert f["clv_built"].tolist() == [100, -50, 300]                 # transfers and months before: out
    assert f["a_retained"].tolist() == [1.5, 0.5, 0.0]
    assert f["new_rep"].tolist() == [False, False, True]
    assert f.loc["R3", "employed_months"] == pytest.approx(17 / 31 + 1)


def test_comparison_of_the_tiny_window_by_hand(small):
    _, _, c = small
    assert list(c.reset_index().columns) == COMPARISON_COLUMNS and c.index.tolist() == ["today", "margin", "pool"]
    t, m, p = c.loc["today"], c.loc["margin"], c.loc["pool"]
    assert (t["total_cost"], m["total_cost"], p["total_cost"]) == (1080.0, 1250.0, 300.0)
    assert m["cost_vs_current"] == pytest.approx(1250 / 1080)
    assert m["cost_share_of_revenue"] == pytest.approx(1250 / 39000)
    assert m["cost_share_of_gross_profit"] == pytest.approx(1250 / 7000)
    assert m["payout_per_retained_a_customer"] == pytest.approx(1250 / 2)
    assert (t["cost_other_roles"], m["cost_other_roles"], p["cost_other_roles"]) == (0.0, 0.0, 300.0)
    # margin plan pays R1 400, R2 350, R3 500; today R1 300, R2 630, R3 150
    assert m["gini"] == pytest.approx(0.08)                     # |diffs| 50, 150, 100 -> 600 / (2 x 9 x 416.67)
    assert m["top10_share"] == pytest.approx(500 / 1250)
    assert m["leverage"] == pytest.approx(480 / 400)            # P90 = 400 + 0.8 x 100
    assert m["corr_payout_clv_growth"] == pytest.approx(1.0)    # ranks by pay and by CLV built agree
    assert m["corr_payout_revenue"] == pytest.approx(-1.0)
    assert t["corr_payout_revenue"] == pytest.approx(1.0) and t["corr_payout_clv_growth"] == pytest.approx(-1.0)
    assert (m["losers_vs_current"], m["losers_share"]) == (1, pytest.approx(1 / 3))      # R2: 350 < 0.95 x 630
    assert m["max_loss_pct"] == pytest.approx(1 - 350 / 630)
    assert m["new_rep_share"] == pytest.approx(500 / 1250) and t["new_rep_share"] == pytest.approx(150 / 1080)
    assert t["losers_vs_current"] == 0 and t["max_loss_pct"] == 0 and t["cost_vs_current"] == 1
    assert p["losers_vs_current"] == 3 and math.isnan(p["gini"])   # the pool pays no sales rep
    assert int(c["reps_compared"].iloc[0]) == 3


def test_every_measure_has_a_definition_in_words():
    assert set(COMPARISON_COLUMNS) - {"plan"} <= set(DEFINITIONS)
    assert all(isinstance(v, str) and v.endswith(".") for v in DEFINITIONS.values())


def test_comparison_needs_todays_plan_among_the_lines(small):
    inputs, lines, _ = small
    with pytest.raises(ParamsError, match="pay.current_plan: 'nope'"):
        comparison(lines, inputs, current="nope")


def test_rep_comparison_rows_sum_to_the_comparison(small):
    inputs, lines, c = small
    r = rep_comparison(lines, inputs, current="today")
    assert r.groupby("plan")["pay"].sum()["margin"] == 1250
    row = r[(r["plan"] == "margin") & (r["rep_id"] == "R2")].iloc[0]
    assert (row["today"], row["pay"], bool(row["loser"])) == (630, 350, True)
    assert row["change_pct"] == pytest.approx(350 / 630 - 1)


def test_balances_count_advances_of_stayers_and_leavers():
    """A CLV plan with a carried floor: R1 -100 then +300 (recovered: nothing left), R2 +50 then -80
    (80 carried at the end), R5 -40 and leaves in February (40 owed by a leaver)."""
    reps = reps_table(("R1", "T", "sales", "2020-01-01", None), ("R2", "T", "sales", "2020-01-01", None),
                      ("R5", "T", "sales", "2020-01-01", "2026-02-10"))
    bridge = pd.DataFrame([("2026-01", "R1", "C1", "existing", -100.0, "A"), ("2026-02", "R1", "C1", "existing", 300.0, "A"),
                           ("2026-01", "R2", "C2", "existing", 50.0, "A"), ("2026-02", "R2", "C2", "existing", -80.0, "A"),
                           ("2026-01", "R5", "C5", "existing", -40.0, "A")],
                          columns=["month", "rep_id", "customer_id", "part", "amount", "tier"])
    orders = pd.DataFrame({"order_id": ["X"], "order_date": [pd.Timestamp("2020-01-01")], "customer_id": ["C1"],
                           "doc_type": ["invoice"], "paid_date": [pd.NaT], "amount_rc": [0.0], "gross_margin_rc": [0.0]})
    inputs = PayInputs(orders=orders, credit=pd.DataFrame({"order_id": ["X"], "rep_id": ["R1"], "share": [1.0]}),
                       reps=reps, months=MONTHS, bridge=bridge)
    clv = plan([{"type": "clv_growth", "rates": {"existing": 1.0}}], name="clv",
               caps={"floor": 0, "carry": "carry_forward"})
    lines = run_plan(clv, inputs)
    assert lines.groupby("rep_id")["amount_cents"].sum().to_dict() == {"R1": 20000, "R2": 5000, "R5": 0}
    b = balances(lines, rep_figures(inputs)).loc["clv"]
    assert (b["advances_outstanding"], b["advances_of_leavers"]) == (120.0, 40.0)
    assert (b["clawbacks_outstanding"], b["holdbacks_outstanding"]) == (0.0, 0.0)


# ------------------------------------------------------------------ the transition on tiny tables
def guarantee_plan(kind="top_up"):
    return plan([{"type": "commission", "base": "gross_margin", "earned_on": "collection", "rate": 0.2}],
                name="guarded", guarantee={"months": 1, "share": 0.9, "kind": kind})


@pytest.fixture(scope="module")
def switched():
    """The tiny window with a switch in February: the guarantee covers February only."""
    inputs = tiny(switch="2026-02")
    return inputs, run_plan(today_plan(), inputs)


def test_transition_paths_and_cost_by_hand(switched):
    """In February the guarded margin plan pays R1 0 (today 0), R2 300 (today 600: promised 540, top-up
    240), R3 500 (today 150); January is outside the guarantee."""
    inputs, today = switched
    g = guarantee_plan()
    gl = run_plan(g, inputs, baseline=today)
    paths = rep_paths(g, gl, today, months=MONTHS, switch="2026-02").set_index(["rep_id", "month"])
    assert paths.loc[("R2", "2026-02"), ["today", "before_guarantee", "guarantee", "paid", "promised"]].tolist() == \
        [600.0, 300.0, 240.0, 540.0, 540.0]
    assert math.isnan(paths.loc[("R2", "2026-01"), "promised"]) and not paths.loc[("R2", "2026-01"), "in_guarantee"]
    assert np.allclose(paths["before_guarantee"] + paths["guarantee"], paths["paid"])
    s = guarantee_summary(g, gl, today, months=MONTHS, switch="2026-02")
    assert (s["cost"], s["plan_cost"], s["reps_protected"], s["guarantee_months"]) == (240.0, 1490.0, 1, ["2026-02"])
    assert s["share_of_plan_cost"] == pytest.approx(240 / 1490) and s["share_of_today_cost"] == pytest.approx(240 / 1080)
    prot = protected_reps(gl)
    assert prot.to_dict("records") == [{"rep_id": "R2", "months_protected": 1, "first_month": "2026-02",
                                        "last_month": "2026-02", "topped_up": 240.0, "recovered": 0.0,
                                        "owed_at_end": 0.0}]
    long = paths_long(paths.reset_index())
    assert set(long["series"]) == {"today", "before_guarantee", "paid", "promised"}
    assert len(long) == 4 * 3 * 2 - 3                        # R1, R2, R3; no "promised" in January
    assert window_guarantee_cost(paths.reset_index(), 0.9) == {"cost": 240.0, "reps_protected": 1,
                                                              "monthly_cost": 240.0}


def test_a_draw_left_at_the_end_is_owed(switched):
    inputs, today = switched
    g = guarantee_plan("draw")
    gl = run_plan(g, inputs, baseline=today)
    prot = protected_reps(gl).iloc[0]
    assert (prot["rep_id"], prot["topped_up"], prot["recovered"], prot["owed_at_end"]) == ("R2", 240.0, 0.0, 240.0)
    s = guarantee_summary(g, gl, today, months=MONTHS, switch="2026-02")
    assert (s["cost"], s["owed_at_end"]) == (240.0, 240.0)


def test_a_plan_without_guarantee_has_no_transition(small):
    inputs, lines, _ = small
    with pytest.raises(ParamsError, match="no guarantee"):
        rep_paths(margin_plan(), lines, lines, months=MONTHS, switch="2026-01")
    g = guarantee_plan()
    plain = without_guarantee(g)
    assert plain.guarantee is None and plain.name == g.name and g.guarantee is not None


# ------------------------------------------------------------------ the claim on tiny tables
def test_claim_groups_by_hand(small):
    """Margin plan: R1 400, R2 350, R3 500 (1,250); CLV built 100, -50, 300 (350); revenue 14,000,
    20,000, 5,000. Commission ranks: R2 1, R1 2, R3 3; CLV ranks: R3 1, R1 2, R2 3: commission flatters R2."""
    inputs, lines, _ = small
    f = rep_figures(inputs)
    reps = claim_reps(lines[lines["plan"] != "pool"], f, {"R1": "farmer", "R2": "hunter", "R3": "farmer"})
    assert reps.loc[reps["plan"] == "margin", "flattered"].tolist() == [False, True, False]
    g = claim_groups(reps).set_index(["plan", "grouping", "group"])
    h = g.loc[("margin", "archetype", "hunter")]
    assert (h["reps"], h["pay_share"], h["value_share"]) == (1, pytest.approx(350 / 1250), pytest.approx(-50 / 350))
    assert math.isnan(h["pay_to_value"]) and h["mean_rank_gap"] == 3 - 3          # CLV rank 3, pay rank 3
    assert g.loc[("today", "archetype", "hunter"), "mean_rank_gap"] == 3 - 1     # today's plan pays R2 best
    fa = g.loc[("margin", "archetype", "farmer")]
    assert fa["pay_to_value"] == pytest.approx((900 / 1250) / (400 / 350))
    assert g.loc[("today", "commission_flatters", "flattered"), "pay_share"] == pytest.approx(630 / 1080)


def test_claim_names_plans_that_have_lines(small):
    inputs, lines, _ = small
    with pytest.raises(ParamsError, match="hybrid_plan 'hybrid'"):
        hunter_claim(lines, rep_figures(inputs), commission_plan="today", hybrid_plan="hybrid")


# ------------------------------------------------------------------ the demo, through the real stages
@pytest.fixture(scope="module")
def demo(staged):
    return demo_backtest(staged)


@pytest.fixture(scope="module")
def demo_comparison(demo):
    return comparison(demo.pay.lines, demo.inputs, current=demo.current).set_index("plan")


def test_demo_figures_match_the_kpi_stage(demo):
    """Over a 12-month window the rep figures are the KPI stage's clv_built_12m and revenue_12m."""
    f = rep_figures(demo.inputs)
    sc = demo.kpis.rep_scorecard.set_index("rep_id")
    assert len(f) >= 35 and set(f.index) <= set(sc.index)
    assert np.allclose(f["clv_built"], sc.loc[f.index, "clv_built_12m"], atol=0.01)
    assert np.allclose(f["revenue"], sc.loc[f.index, "revenue_12m"], atol=0.01)


def test_demo_comparison_has_every_plan_and_sums_of_lines(demo, demo_comparison):
    c, lines = demo_comparison, demo.pay.lines
    assert set(c.index) == set(demo.plans) and c.index[0] == demo.current
    for name in c.index:
        assert c.loc[name, "total_cost"] == lines.loc[lines["plan"] == name, "amount_cents"].sum() / 100
    today = c.loc[demo.current]
    assert today["losers_vs_current"] == 0 and today["corr_payout_revenue"] > 0.95   # commission follows revenue
    assert c.loc["clv_plan", "corr_payout_clv_growth"] > 0.8 > today["corr_payout_clv_growth"]
    assert c.loc["seed_hybrid", "corr_payout_clv_growth"] > today["corr_payout_clv_growth"]
    assert 0.02 < today["cost_share_of_revenue"] < 0.04                              # 3 % of what is collected
    assert c.loc["clv_plan", "advances_outstanding"] > 0 and today["advances_outstanding"] == 0
    # the guarantee keeps everyone at 90 % of today's pay in every month, so nobody loses more than 10 %
    assert c.loc["seed_hybrid_guarantee", "max_loss_pct"] == pytest.approx(0.1, abs=1e-4)


def test_demo_transition_sums_and_floor(demo):
    name = "seed_hybrid_guarantee"
    g, lines, base = demo.plans[name], demo.pay.lines, demo.baseline
    pl = lines[lines["plan"] == name]
    paths = rep_paths(g, pl, base, months=demo.inputs.months, switch=demo.inputs.switch)
    cents = lambda s: np.round(s * 100).astype(np.int64)                             # noqa: E731
    assert (cents(paths["before_guarantee"]) + cents(paths["guarantee"]) == cents(paths["paid"])).all()
    inside = paths[paths["in_guarantee"]]
    assert (cents(inside["paid"]) >= cents(inside["promised"])).all()                # nobody under the floor
    s = guarantee_summary(g, pl, base, months=demo.inputs.months, switch=demo.inputs.switch)
    assert s["cost"] == pl.loc[pl["component"] == "guarantee", "amount_cents"].sum() / 100 > 0
    assert s["reps_protected"] == len(protected_reps(pl)) > 0
    assert paths.groupby("rep_id")["paid"].sum().sum() == pytest.approx(s["plan_cost"], abs=0.01)
    assert window_guarantee_cost(paths, g.guarantee.share)["cost"] < s["cost"]   # monthly swings cost more


def test_demo_hunters_claim(demo):
    """What the demo shows (see the report): commission pays hunters far more than the CLV they build;
    the hybrid moves part of the way; farmers and balanced reps are paid less than their value share by
    commission, and the hybrid brings them closer."""
    f = rep_figures(demo.inputs)
    hc = hunter_claim(demo.pay.lines, f, commission_plan=demo.current, hybrid_plan="seed_hybrid",
                      clv_only_plan="clv_plan", archetypes=demo.archetypes)
    g = hc.groups[hc.groups["grouping"] == "archetype"].set_index(["plan", "group"])
    hunters_c, hunters_h = g.loc[(demo.current, "hunter")], g.loc[("seed_hybrid", "hunter")]
    assert hunters_c["pay_share"] - hunters_c["value_share"] > 0.2            # far more pay than value
    assert hunters_c["value_share"] < hunters_h["pay_share"] < hunters_c["pay_share"]
    assert g.loc[("clv_plan", "hunter"), "pay_share"] < hunters_h["pay_share"]
    assert hunters_c["mean_rank_gap"] > hunters_h["mean_rank_gap"] > 0
    for group in ("farmer", "balanced"):
        c, h = g.loc[(demo.current, group)], g.loc[("seed_hybrid", group)]
        assert c["pay_share"] < c["value_share"]                               # commission underpays them
        assert abs(h["pay_share"] - h["value_share"]) < abs(c["pay_share"] - c["value_share"])
    text = " ".join(hc.findings)
    assert "as the article says" in text and "corrects part of it" in text
    # the ranking: hunters rank better by revenue than by CLV built, more so than farmers
    r = hc.reps[hc.reps["plan"] == demo.current]
    gap = (r["clv_rank"] - r["commission_rank"]).groupby(r["archetype"]).mean()
    assert gap["hunter"] > gap["farmer"] > gap["balanced"]
    # without the truth, the flattered reps stand in for hunters
    plain = hunter_claim(demo.pay.lines, f, commission_plan=demo.current, hybrid_plan="seed_hybrid")
    assert set(plain.groups["grouping"]) == {"commission_flatters"} and "by construction" in plain.findings[0]
