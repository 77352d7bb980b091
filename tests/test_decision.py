"""The decision's stages on the demo: noise bands, pay on the band's lower end, the comparison files, the
tiers' stability as the report shows it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest



@pytest.fixture(scope="module")
def wb(staged):
    staged.stage("backtest")
    return staged


def test_the_lower_end_bridge_adds_up_to_each_reps_lower_end(wb):
    from clvlib.stages.payouts import stage_inputs

    noise, inputs = wb.stage("noise"), stage_inputs(wb)
    assert inputs.bridge_low is not None
    value = ["existing", "new", "lost"]
    win = lambda b: b[b["part"].isin(value) & b["month"].isin(inputs.months)]
    low, point = win(inputs.bridge_low), win(inputs.bridge)
    lines = noise.lines
    margin = (lines["change"] - lines["lower_end"]).groupby(lines["rep_id"]).sum()
    taken = point.groupby("rep_id")["amount"].sum() - low.groupby("rep_id")["amount"].sum()
    attached = lines[lines.set_index(["rep_id", "customer_id"]).index.isin(
        point.set_index(["rep_id", "customer_id"]).index)]
    expected = (attached["change"] - attached["lower_end"]).groupby(attached["rep_id"]).sum()
    np.testing.assert_allclose(taken.reindex(expected.index), expected, atol=0.01 * len(point))
    assert (margin >= -1e-6).all()                        # the lower end is never above the estimate
    outside = inputs.bridge[~inputs.bridge.index.isin(win(inputs.bridge).index)]
    pd.testing.assert_frame_equal(outside, inputs.bridge_low.loc[outside.index])   # only the window moves


def test_a_plan_can_pay_clv_growth_on_the_bands_lower_end(wb):
    from clvlib.plans import run_plan
    from clvlib.plans.schema import plan_from_dict
    from clvlib.stages.payouts import stage_inputs

    inputs = stage_inputs(wb)
    title = {"en": "t", "zh": "t"}
    comp = {"type": "clv_growth", "rates": {"existing": 0.1, "new": 0.1, "lost": 0.1, "transferred": 0.0}}
    point = plan_from_dict({"title": title, "description": title, "components": [comp]}, "point")
    lower = plan_from_dict({"title": title, "description": title, "components": [{**comp, "basis": "lower"}]}, "lower")
    a, b = run_plan(point, inputs), run_plan(lower, inputs)
    assert b["amount_cents"].sum() < a["amount_cents"].sum()
    by_rep_a, by_rep_b = a.groupby("rep_id")["amount_cents"].sum(), b.groupby("rep_id")["amount_cents"].sum()
    assert (by_rep_b <= by_rep_a.reindex(by_rep_b.index).fillna(0) + len(inputs.months)).all()


def test_the_comparison_files_have_one_row_per_plan_and_equal_costs(wb):
    c = pd.read_parquet(wb.data_dir / "plan_comparison.parquet")
    e = pd.read_parquet(wb.data_dir / "plan_comparison_equal_cost.parquet")
    plans = set(wb.stage("payouts").plans)
    assert set(c["plan"]) == plans and len(c) == len(plans) and c["factor"].notna().all()
    today = c.set_index("plan").loc[wb.params["pay"]["current_plan"], "total_cost"]
    assert set(e["total_cost"].round(2)) == {round(today, 2)}              # every plan at today's cost, to the cent
    cal = wb.stage("backtest").calibration
    assert (cal["gap_cents"] == 0).all()


def test_noise_bands_hold_the_estimate_and_flag_pairs(wb):
    n = wb.stage("noise")
    assert len(n.bands) >= 30
    assert ((n.bands["low"] <= n.bands["change"]) & (n.bands["change"] <= n.bands["high"])).all()
    assert (n.bands["rank_low"] <= n.bands["rank"]).all() and (n.bands["rank"] <= n.bands["rank_high"]).all()
    assert n.pairs["within_noise"].any() and not n.pairs["within_noise"].all()
    pb = wb.stage("backtest").pay_bands
    assert (pb["pay_low"] <= pb["pay_high"]).all()


def test_the_tiers_stage_keeps_ninety_percent_of_customers_month_to_month(wb):
    st = wb.stage("tiers").stability
    assert st["worst_month_share_kept"] >= 0.9 and st["psi_previous_month"] < 0.1
