"""The payout engine on tiny tables, against answers computed by hand (in the comments)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.errors import ParamsError
from clvlib.plans import base_lines, payouts, run_plan
from clvlib.plans.rounding import cents, exact_cents
from plans_support import inputs, orders_table, plan, reps_table

MONTHS = ["2026-01", "2026-02", "2026-03"]
# R1 employed throughout; R2 hired 15 Feb (14 of 28 days of February); R3 leaves 10 Feb; S1 service
REPS = reps_table(("R1", "T", "sales", "2020-01-01", None), ("R2", "T", "sales", "2026-02-15", None),
                  ("R3", "T", "sales", "2019-05-01", "2026-02-10"), ("S1", "T", "service", "2020-01-01", None))
FLAT = {"type": "commission", "rate": 0.03}


def pay(lines, by=("rep_id", "month")) -> dict:
    """{(rep, month): amount} from the payouts (sums of lines)."""
    p = payouts(lines).groupby(list(by))["amount_cents"].sum()
    return {k: v / 100 for k, v in p.items()}


def collection_orders():
    return orders_table(
        {"order_id": "I1", "rep_id": "R1", "order_date": "2026-01-05", "paid_date": "2026-02-03", "amount": 1000},
        {"order_id": "I2", "rep_id": "R1", "order_date": "2026-01-10", "amount": 500},                   # unpaid
        {"order_id": "I3", "rep_id": "R1", "order_date": "2026-02-20", "paid_date": "2026-03-01", "amount": 333.33},
        {"order_id": "C1", "rep_id": "R1", "order_date": "2026-03-15", "amount": -200, "doc_type": "credit_note",
         "original_order_id": "I1"},
        {"order_id": "I4", "rep_id": "R3", "order_date": "2026-01-20", "paid_date": "2026-02-15", "amount": 1000},
        {"order_id": "I5", "rep_id": "R3", "order_date": "2026-01-21", "paid_date": "2026-02-10", "amount": 100},
        {"order_id": "I6", "rep_id": "R1", "order_date": "2025-11-02", "paid_date": "2025-12-20", "amount": 900},
        {"order_id": "I7", "rep_id": "R1", "order_date": "2026-01-30", "paid_date": "2026-01-31", "amount": 0.5},
        {"order_id": "I8", "rep_id": "S1", "order_date": "2026-01-03", "paid_date": "2026-01-04", "amount": 100},
        {"order_id": "X1", "rep_id": "R1", "order_date": "2026-01-03", "paid_date": "2026-01-04", "amount": 100,
         "status": "cancelled"})


SPLITS = {"I3": [("R1", 0.7), ("R2", 0.3)]}


def test_commission_on_collection_credit_notes_splits_and_leave_date():
    lines = run_plan(plan([FLAT]), inputs(collection_orders(), REPS, MONTHS, SPLITS))
    assert pay(lines) == {
        ("R1", "2026-01"): 0.02,            # I7: 0.50 x 3 % = 0.015 -> 0.02 (half away from zero)
        ("R1", "2026-02"): 30.00,           # I1 paid in February: 1000 x 3 %
        ("R1", "2026-03"): 1.00,            # I3 70 %: 333.33 x 0.7 x 3 % = 6.99993 -> 7.00; C1 (I1's): -6.00
        ("R2", "2026-03"): 3.00,            # I3 30 %: 2.99997 -> 3.00
        ("R3", "2026-02"): 3.00,            # I5 paid on the leave day; I4 paid after it: nothing
    }                                       # I2 unpaid, I6 paid before the window, I8 service, X1 cancelled
    c1 = lines[lines["source_id"] == "C1"].iloc[0]
    assert (c1["rep_id"], c1["month"], c1["amount_cents"], c1["rule"], c1["source_type"], c1["basis"]) == \
        ("R1", "2026-03", -600, "commission.flat", "order", -200.0)
    i3 = lines[lines["source_id"] == "I3"].set_index("rep_id")
    assert i3.loc["R1", "share"] == 0.7 and i3.loc["R1", "rate"] == 0.03 and i3.loc["R1", "weight"] == 1.0


def test_after_leave_pay_and_booking_basis():
    o = collection_orders()
    lines = run_plan(plan([FLAT], eligibility={"after_leave": "pay"}), inputs(o, REPS, MONTHS, SPLITS))
    assert pay(lines)[("R3", "2026-02")] == 33.00          # I4 paid after the leave date now counts
    booked = run_plan(plan([{**FLAT, "earned_on": "booking"}]), inputs(o, REPS, MONTHS, SPLITS))
    # January by order date: I1 30.00 + I2 15.00 + I7 0.02 (R1); I4 30.00 + I5 3.00 for R3 (dated before leaving)
    assert pay(booked)[("R1", "2026-01")] == 45.02 and pay(booked)[("R3", "2026-01")] == 33.00
    margin = run_plan(plan([{**FLAT, "base": "gross_margin"}]), inputs(o, REPS, MONTHS, SPLITS))
    assert pay(margin)[("R1", "2026-02")] == 7.50          # margin 250 (a quarter of 1000) x 3 %


def tier_orders(with_credit_note=False):
    rows = [{"order_id": "A", "rep_id": "R1", "order_date": "2026-01-02", "paid_date": "2026-01-05", "amount": 4000},
            {"order_id": "B", "rep_id": "R1", "order_date": "2026-01-02", "paid_date": "2026-01-10", "amount": 5000},
            {"order_id": "C", "rep_id": "R1", "order_date": "2026-01-02", "paid_date": "2026-01-20", "amount": 3000}]
    if with_credit_note:
        rows.append({"order_id": "D", "rep_id": "R1", "order_date": "2026-01-25", "amount": -3000,
                     "doc_type": "credit_note", "original_order_id": "C"})
    return orders_table(*rows)


TABLE = {"bands": [{"above": 0, "rate": 0.02}, {"above": 10000, "rate": 0.05}]}


@pytest.mark.parametrize("credit_note, marginal, whole", [
    (False, 300.00, 600.00),    # marginal: 4000+5000 at 2 % = 180; C: 1000 at 2 % + 2000 at 5 % = 120.
                                # whole: the month reaches 12,000 -> 5 % on everything = 600
    (True, 180.00, 180.00),     # the credit note brings the month to 9,000: both 2 % x 9,000
])
def test_marginal_and_whole_tiering_on_the_same_numbers(credit_note, marginal, whole):
    inp = inputs(tier_orders(credit_note), REPS, ["2026-01"])
    m = run_plan(plan([{"type": "commission", "table": {"tiering": "marginal", **TABLE}}]), inp)
    w = run_plan(plan([{"type": "commission", "table": {"tiering": "whole", **TABLE}}]), inp)
    assert pay(m) == {("R1", "2026-01"): marginal} and pay(w) == {("R1", "2026-01"): whole}
    pieces = m[m["source_id"] == "C"]
    assert list(pieces["basis"]) == [1000.0, 2000.0] and list(pieces["rate"]) == [0.02, 0.05]
    assert "band 2" in pieces["detail"].iloc[1]
    if credit_note:                         # D takes 2,000 out of band 2 and 1,000 out of band 1
        assert sorted(m[m["source_id"] == "D"]["amount_cents"]) == [-10000, -2000]
    assert set(w["rate"]) == ({0.05} if not credit_note else {0.02})


def test_accelerators_on_attainment_of_quota():
    o = tier_orders()                                        # R1 collects 12,000 in January
    o2 = orders_table({"order_id": "F", "rep_id": "R1", "order_date": "2026-02-02", "paid_date": "2026-02-05",
                       "amount": 5000})
    quotas = pd.DataFrame([(r, m, 10000.0) for r in ("R1", "R2", "R3") for m in ("2026-01", "2026-02")],
                          columns=["rep_id", "month", "quota"])
    acc = {**FLAT, "accelerators": {"steps": [{"attainment": 0, "multiplier": 0.5}, {"attainment": 0.8, "multiplier": 1},
                                              {"attainment": 1.2, "multiplier": 1.5}]}}
    lines = run_plan(plan([acc]), inputs(pd.concat([o, o2]), REPS, ["2026-01", "2026-02"], quotas=quotas))
    a = lines[lines["rule"] == "commission.accelerator"].set_index("month")
    # January: 12,000 / 10,000 = 120 % -> x1.5: 360 commission + 180 accelerator
    assert a.loc["2026-01", "amount"] == 180.00 and a.loc["2026-01", "basis"] == 360.0
    assert "attainment 120.0% of quota 10,000.00 (collected): x1.5" in a.loc["2026-01", "detail"]
    # February: 50 % -> x0.5: 150 commission - 75 decelerator
    assert a.loc["2026-02", "amount"] == -75.00
    assert pay(lines) == {("R1", "2026-01"): 540.00, ("R1", "2026-02"): 75.00}


def hold_orders():
    rows = [("H1", "R1", "2026-01-10", 1000), ("H2", "R1", "2026-02-10", 500), ("H3", "R3", "2026-01-10", 1000)]
    return orders_table(*[{"order_id": i, "rep_id": r, "order_date": d, "paid_date": d, "amount": a}
                          for i, r, d, a in rows])


def test_holdback_and_release_and_forfeit_after_leaving():
    hb = {"type": "commission", "rate": 0.1, "holdback": {"share": 0.2, "months": 1}}
    lines = run_plan(plan([hb]), inputs(hold_orders(), REPS, MONTHS))
    # R1: Jan 100 - 20 held; Feb 50 - 10 held + 20 released; Mar 10 released
    assert {k: v for k, v in pay(lines).items() if k[0] == "R1"} == \
        {("R1", "2026-01"): 80.0, ("R1", "2026-02"): 60.0, ("R1", "2026-03"): 10.0}
    rel = lines[(lines["rule"] == "commission.release") & (lines["rep_id"] == "R1")]
    assert list(rel["source_id"]) == ["2026-01", "2026-02"]
    # R3 (left 10 February): held 20 in January, released in February (employed some days of it)
    assert pay(lines)[("R3", "2026-02")] == 20.0
    two = run_plan(plan([{**hb, "holdback": {"share": 0.2, "months": 2}}]), inputs(hold_orders(), REPS, MONTHS))
    assert ("R3", "2026-03") not in pay(two)                # due in March, after leaving: forfeited
    assert pay(two)[("R1", "2026-03")] == 20.0               # R1's January holdback; February's due in April


def test_caps_and_floors_show_what_is_withheld_or_topped_up():
    o = collection_orders()
    capped = run_plan(plan([{**FLAT, "cap": 25, "floor": 10}]), inputs(o, REPS, MONTHS, SPLITS))
    w = capped[capped["rule"] == "cap.withheld"].iloc[0]
    assert (w["rep_id"], w["month"], w["amount"], w["basis"]) == ("R1", "2026-02", -5.0, 30.0)
    p = pay(capped)
    assert p[("R1", "2026-02")] == 25.0 and p[("R1", "2026-01")] == 10.0      # 0.02 + 9.98 top-up
    assert p[("R2", "2026-02")] == 5.0                       # floor 10 x 14/28 of February employed
    assert p[("R2", "2026-03")] == 10.0                      # 3.00 + 7.00 top-up
    assert ("R2", "2026-01") not in p and ("S1", "2026-01") not in p            # not employed / not on commission
    assert p[("R3", "2026-02")] == round(10 * 10 / 28, 2)     # 3.00 + top-up to 3.57
    total = run_plan(plan([FLAT], caps={"cap": 20}), inputs(o, REPS, MONTHS, SPLITS))
    t = total[total["component"] == "total"]
    assert list(t["amount"]) == [-10.0] and pay(total)[("R1", "2026-02")] == 20.0


def claw_inputs():
    o = orders_table(*[{"order_id": i, "rep_id": "R1", "customer_id": c, "order_date": d, "paid_date": d, "amount": a}
                       for i, c, d, a in [("W1", "K1", "2026-01-10", 2000), ("W2", "K2", "2026-03-05", 400),
                                          ("W3", "K2", "2026-04-05", 500), ("W4", "K2", "2026-05-05", 300)]])
    events = pd.DataFrame([
        ("2026-01", "K1", "won", "R1", 1.0, "A", "W1"), ("2026-03", "K1", "lost", "R1", 1.0, "C", ""),
        ("2026-03", "K1", "lost", "R2", 1.0, "C", ""),      # the book had two reps: one clawback only
        ("2025-01", "K9", "won", "R1", 1.0, "A", "W0"), ("2026-03", "K9", "lost", "R1", 1.0, "A", "")],
        columns=["month", "customer_id", "event", "rep_id", "share", "tier", "order_id"])
    return inputs(o, REPS, ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"], events=events)


@pytest.mark.parametrize("carry, expected, extra", [
    # March: commission 400 x 10 % = 40; clawback -100 (K1, won in January as an A, lost in March).
    # K9 was won 14 months before: outside within_months.
    ("floor_zero", {"2026-03": 0.0, "2026-04": 50.0, "2026-05": 30.0}, {"clawback.forgiven": 60.0}),
    # carry_forward: 60 deferred, recovered from April (50) and May (10)
    ("carry_forward", {"2026-03": 0.0, "2026-04": 0.0, "2026-05": 20.0},
     {"clawback.deferred": 60.0, "clawback.recovered": -60.0}),
])
def test_clawback_never_makes_a_month_negative(carry, expected, extra):
    claw = {"type": "clawback", "tiers": ["A"], "within_months": 12, "amount": 100, "carry": carry}
    lines = run_plan(plan([{"type": "commission", "rate": 0.1}, claw]), claw_inputs())
    got = {m: v for (r, m), v in pay(lines).items() if r == "R1" and m >= "2026-03"}
    assert got == expected
    c = lines[lines["component"] == "clawback"].groupby("rule")["amount"].sum().to_dict()
    assert c == {"clawback.lost_customer": -100.0, **extra}
    one = lines[lines["rule"] == "clawback.lost_customer"].iloc[0]
    assert (one["source_id"], one["basis"], one["rate"], one["share"]) == ("K1", 100.0, -1.0, 1.0)
    assert "won 2026-01 (order W1), lost 2026-03" in one["detail"]


def test_clawback_of_commission_paid_and_tier_when_lost():
    claw = {"type": "clawback", "tiers": ["A"], "share_of_commission": 0.5, "carry": "floor_zero"}
    lines = run_plan(plan([{"type": "commission", "rate": 0.1}, claw]), claw_inputs())
    one = lines[lines["rule"] == "clawback.lost_customer"]
    assert list(one["basis"]) == [200.0] and list(one["amount"]) == [-100.0]   # half of W1's 200 commission
    by_lost_tier = run_plan(plan([{"type": "commission", "rate": 0.1}, {**claw, "tier_at": "lost"}]), claw_inputs())
    assert not (by_lost_tier["component"] == "clawback").any()                 # K1 was a C when lost


def pool_inputs(figure):
    o = orders_table({"order_id": "P", "rep_id": "R1", "order_date": "2026-01-02", "amount": 1})
    figures = pd.DataFrame({"month": ["2026-02", "2026-03"], "team": ["T", "T"], "clv_growth": [figure, -5000.0],
                            "gross_margin": [0.0, 0.0]})
    points = pd.DataFrame({"month": ["2026-02"] * 4, "rep_id": ["R1", "R2", "S1", "R3"], "points": [3.0, 2.0, 4.0, 0.0]})
    return inputs(o, REPS, ["2026-02", "2026-03"], team_figures=figures, collaboration=points)


def test_team_pool_split_by_collaboration_with_service_colleagues():
    pool = {"type": "team_pool", "share": 0.05, "of": "clv_growth", "roles": ["sales", "service"],
            "role_points": {"service": 0.5}}
    lines = run_plan(plan([pool]), pool_inputs(10000.0))
    # pool 500; weights R1 3, R2 2 x 14/28 = 1, S1 4 x 0.5 = 2, R3 0 (left, no points): 6
    assert pay(lines) == {("R1", "2026-02"): 250.00, ("R2", "2026-02"): 83.33, ("S1", "2026-02"): 166.67}
    assert set(lines["source_id"]) == {"T 2026-02"} and set(lines["basis"]) == {10000.0}   # March: no negative pool
    equal = run_plan(plan([{**pool, "split": "equal"}]), pool_inputs(10000.0))
    # equal split x days employed: R1 1, R2 0.5, S1 1, R3 10/28 -> 500 / 2.857143 per unit
    p = pay(equal)
    assert p[("R1", "2026-02")] == 175.00 and p[("R2", "2026-02")] == 87.50 and p[("R3", "2026-02")] == 62.50


def guarantee_case(kind):
    o = orders_table(*[{"order_id": f"G{m}", "rep_id": "R1", "order_date": f"2026-0{m}-05",
                        "paid_date": f"2026-0{m}-05", "amount": a} for m, a in [(1, 8000), (2, 9500), (3, 7000)]])
    baseline = pd.DataFrame({"month": MONTHS, "rep_id": "R1", "amount_cents": [100000, 100000, 100000]})
    g = plan([{"type": "commission", "rate": 0.1}], guarantee={"months": 2, "share": 0.9, "kind": kind})
    return run_plan(g, inputs(o, REPS, MONTHS), baseline=baseline)


def test_guarantee_top_up_and_recoverable_draw():
    top = guarantee_case("top_up")
    # promised 900 a month for two months; this plan pays 800, 950, 700
    assert pay(top) == {("R1", "2026-01"): 900.0, ("R1", "2026-02"): 950.0, ("R1", "2026-03"): 700.0}
    draw = guarantee_case("draw")
    rules = draw[draw["component"] == "guarantee"].set_index("month")["amount"].to_dict()
    # January: draw 100; February: 50 above the guarantee recovered; March (after it): the last 50
    assert rules == {"2026-01": 100.0, "2026-02": -50.0, "2026-03": -50.0}
    with pytest.raises(ParamsError, match="guarantee: needs the baseline"):
        run_plan(plan([FLAT], guarantee={"months": 2, "share": 0.9}), inputs(collection_orders(), REPS, MONTHS))


def test_effective_dating_changes_the_rate_mid_window():
    two = [{**FLAT, "effective_to": "2026-02"}, {"type": "commission", "rate": 0.04, "effective_from": "2026-03"}]
    lines = run_plan(plan(two), inputs(collection_orders(), REPS, MONTHS, SPLITS))
    assert pay(lines)[("R1", "2026-02")] == 30.00           # 3 % until February
    assert pay(lines)[("R1", "2026-03")] == 1.33            # 4 %: 333.33 x 0.7 x 4 % = 9.33; C1 -8.00


def bridge_inputs():
    rows = [("2026-01", "R1", "K1", "existing", 1000.0, "A"), ("2026-01", "R1", "K2", "new", 500.0, "B"),
            ("2026-01", "R1", "K3", "lost", -800.0, "A"), ("2026-01", "R1", "K4", "transferred", 300.0, "A"),
            ("2026-01", "R1", "K5", "existing", 700.0, "C"), ("2026-01", "S1", "K6", "new", 900.0, "A")]
    bridge = pd.DataFrame(rows, columns=["month", "rep_id", "customer_id", "part", "amount", "tier"])
    events = pd.DataFrame([("2026-01", "K1", "retained", "R1", 0.5, "A"), ("2026-01", "K5", "retained", "R1", 1.0, "C"),
                           ("2026-01", "K2", "won", "R1", 1.0, "B")],
                          columns=["month", "customer_id", "event", "rep_id", "share", "tier"])
    return inputs(tier_orders(), REPS, ["2026-01"], bridge=bridge, bridge_low=bridge.assign(amount=bridge["amount"] / 2),
                  events=events)


CLV = {"type": "clv_growth", "rates": {"existing": 0.1, "new": 0.2, "lost": 0.05}, "tier_weights": {"A": 1.5, "B": 1.0}}


def test_clv_growth_on_the_bridge_weighted_by_tier_and_its_lower_end():
    lines = run_plan(plan([CLV]), bridge_inputs())
    got = lines.set_index("source_id")["amount"].to_dict()
    # existing 1000 x 10 % x 1.5; new 500 x 20 % x 1; lost -800 x 5 % x 1.5; transferred rate 0; tier C weight 0;
    # S1 (service) is not paid by a plan for sales reps
    assert got == {"K1": 150.0, "K2": 100.0, "K3": -60.0}
    assert set(lines["rule"]) == {"clv_growth.existing", "clv_growth.new", "clv_growth.lost"}
    low = run_plan(plan([{**CLV, "basis": "lower"}]), bridge_inputs())
    assert low["amount"].sum() == 95.0                      # half of 190


def test_weights_rate_factor_and_retention():
    both = plan([FLAT, CLV, {"type": "retention", "amounts": {"A": 200, "B": 100}}],
                weights={"commission": 0.3, "clv_growth": 0.5, "retention": 0.2})
    lines = run_plan(both, bridge_inputs())
    by = lines.groupby("component")["amount"].sum().to_dict()
    # commission 12,000 x 3 % x 0.3 = 108; CLV 190 x 0.5 = 95; retention K1 200 x 0.5 share x 0.2 = 20 (C: none)
    assert by == {"commission": 108.0, "clv_growth": 95.0, "retention": 20.0}
    doubled = run_plan(both, bridge_inputs(), rate_factor=2.0)
    assert doubled.groupby("component")["amount"].sum().to_dict() == {"commission": 216.0, "clv_growth": 190.0,
                                                                        "retention": 40.0}
    swept = run_plan(both, bridge_inputs(), weights={"commission": 1.0, "clv_growth": 0.0, "retention": 0.0})
    assert swept.groupby("component")["amount"].sum().to_dict() == {"clv_growth": 0.0, "commission": 360.0,
                                                                      "retention": 0.0}
    with pytest.raises(ParamsError, match="summing to 1"):
        run_plan(both, bridge_inputs(), weights={"commission": 0.5})


def test_spif_on_won_customers_for_a_bounded_period():
    spif = {"type": "spif", "label": {"en": "New B customers", "zh": "新B客户"}, "base": "won", "tiers": ["B"],
            "amount": 300, "effective_from": "2026-01", "effective_to": "2026-01"}
    lines = run_plan(plan([FLAT, spif]), bridge_inputs())
    s = lines[lines["component"] == "spif"]
    assert list(s["amount"]) == [300.0] and list(s["source_id"]) == ["K2"] and s["detail"].iloc[0] == "New B customers"


def test_base_lines_reused_give_the_same_lines():
    p = plan([{"type": "commission", "table": {"tiering": "marginal", **TABLE}}, CLV],
             weights={"commission": 0.5, "clv_growth": 0.5})
    inp = bridge_inputs()
    bases = base_lines(p, inp)
    for f in (0.5, 1.0, 1.37):
        pd.testing.assert_frame_equal(run_plan(p, inp, rate_factor=f, bases=bases), run_plan(p, inp, rate_factor=f))


def test_payouts_are_sums_of_lines_and_reruns_are_identical_whatever_the_row_order():
    p = plan([{**FLAT, "cap": 25, "floor": 1, "holdback": {"share": 0.25, "months": 1}}], caps={"cap": 24})
    inp = inputs(collection_orders(), REPS, MONTHS, SPLITS)
    lines = run_plan(p, inp)
    po = payouts(lines)
    again = lines.groupby(["plan", "month", "rep_id", "component"])["amount_cents"].sum()
    assert (po.set_index(["plan", "month", "rep_id", "component"])["amount_cents"] == again).all()
    assert (po["amount"] * 100).round().astype(np.int64).equals(po["amount_cents"])
    assert lines["amount_cents"].dtype == np.int64 and (lines["amount"] * 100).round().eq(lines["amount_cents"]).all()
    shuffled = inputs(collection_orders().sample(frac=1, random_state=3), REPS.sample(frac=1, random_state=4),
                      MONTHS[::-1], SPLITS)
    pd.testing.assert_frame_equal(run_plan(p, shuffled), lines)


def test_one_rounding_rule_per_line():
    # half a cent rounds away from zero, once per line, on the decimals as written
    assert list(cents([0.5, -0.5, 1.005, 333.33], 0.03)) == [2, -2, 3, 1000]
    assert exact_cents(13207.94, 0.7, 0.03) == 27737            # 277.36674
    rng = np.random.default_rng(7)
    a = np.round(rng.uniform(-9999, 9999, 5000), 2)
    s = rng.choice([1.0, 0.7, 0.3, 0.25], 5000)
    assert list(cents(a, s, 0.03)) == [exact_cents(x, y, 0.03) for x, y in zip(a, s)]


@pytest.mark.parametrize("carry, expected", [
    ("forgive", {"2026-01": 0.0, "2026-02": 50.0, "2026-03": 20.0}),          # January's -30 forgiven
    ("carry_forward", {"2026-01": 0.0, "2026-02": 20.0, "2026-03": 20.0}),    # ... recovered in February
])
def test_a_negative_month_floored_at_zero_or_carried_forward(carry, expected):
    bridge = pd.DataFrame([("2026-01", "R1", "K1", "lost", -300.0, "A"), ("2026-02", "R1", "K2", "new", 500.0, "A"),
                           ("2026-03", "R1", "K3", "new", 200.0, "A")],
                          columns=["month", "rep_id", "customer_id", "part", "amount", "tier"])
    p = plan([{"type": "clv_growth", "rates": {"new": 0.1, "lost": 0.1}}], caps={"floor": 0, "carry": carry})
    lines = run_plan(p, inputs(tier_orders(), REPS, MONTHS, bridge=bridge))
    assert {m: v for (r, m), v in pay(lines).items() if r == "R1"} == expected
    total = lines[lines["component"] == "total"].set_index("month")["rule"].to_dict()
    assert total == ({"2026-01": "floor.top_up"} if carry == "forgive" else
                     {"2026-01": "floor.carried", "2026-02": "floor.recovered"})
