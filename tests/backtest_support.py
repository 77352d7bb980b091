"""Test support for the plan backtest, calibration, transition and the hunters claim.

* :func:`tiny` — a two-month window small enough to compute every measure by hand (its docstring
  gives the figures);
* :func:`demo_backtest` — the demo company through the real stages (``payouts``, ``kpis``), built once
  per test session (the history stage takes most of a minute) and shared by the test modules.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from plans_support import credit_table, orders_table, plan, reps_table
from clvlib.plans import PayInputs

PERIOD = "2026-10"
MONTHS = ["2026-01", "2026-02"]


def today_plan():
    """3 % of collected revenue (like today's plan)."""
    return plan([{"type": "commission", "base": "revenue", "earned_on": "collection", "rate": 0.03}],
                name="today")


def margin_plan():
    """20 % of collected gross margin."""
    return plan([{"type": "commission", "base": "gross_margin", "earned_on": "collection", "rate": 0.2}],
                name="margin")


def pool_plan():
    """A team pool for service colleagues only: 10 % of the team's gross margin, split equally."""
    return plan([{"type": "team_pool", "share": 0.1, "of": "gross_margin", "split": "equal", "roles": ["service"]}],
                name="pool", eligibility={"roles": ["service"]})


def tiny(switch: str | None = None) -> PayInputs:
    """Two months (2026-01, 2026-02); reps R1, R2 (hired 2020), R3 (hired 2026-01-15: new), R4 (left
    2025-12-31: not compared), S1 (service, team T like everyone).

    Documents (amount / margin; paid):
    O1 R1 2026-01-10 10,000 / 2,000 paid 01-20;  O2 R2 2026-01-12 20,000 / 1,500 paid 02-05;
    O3 R3 2026-02-01 5,000 / 2,500 paid 02-10;   O4 R1 2026-02-15 4,000 / 1,000 unpaid;
    O5 R2 2025-12-20 1,000 / 250 paid 2026-01-05 (dated before the window).
    Window revenue 39,000, gross profit 7,000; credited revenue R1 14,000, R2 20,000, R3 5,000.

    Today's plan pays R1 300, R2 600 + 30 = 630, R3 150 (1,080); the margin plan R1 400, R2 300 + 50 =
    350, R3 500 (1,250); the pool plan S1 10 % of (1,000 + 2,000) = 300.

    CLV bridge: R1 +100, R2 -50 (and +1,000 transferred, not counted), R3 +300. Retained tier-A
    customers: R1 (1.0, 2026-01), one split R1 0.5 / R2 0.5 (2026-02) -> 2.0; a tier-B one and one
    before the window do not count. ``switch``: the first month of a new plan (guarantees).
    """
    reps = reps_table(("R1", "T", "sales", "2020-01-01", None), ("R2", "T", "sales", "2020-01-01", None),
                      ("R3", "T", "sales", "2026-01-15", None), ("R4", "T", "sales", "2019-01-01", "2025-12-31"),
                      ("S1", "T", "service", "2019-01-01", None))
    orders = orders_table(
        {"order_id": "O1", "rep_id": "R1", "order_date": "2026-01-10", "amount": 10000, "margin": 2000,
         "paid_date": "2026-01-20"},
        {"order_id": "O2", "rep_id": "R2", "order_date": "2026-01-12", "amount": 20000, "margin": 1500,
         "paid_date": "2026-02-05"},
        {"order_id": "O3", "rep_id": "R3", "order_date": "2026-02-01", "amount": 5000, "margin": 2500,
         "paid_date": "2026-02-10"},
        {"order_id": "O4", "rep_id": "R1", "order_date": "2026-02-15", "amount": 4000, "margin": 1000},
        {"order_id": "O5", "rep_id": "R2", "order_date": "2025-12-20", "amount": 1000, "margin": 250,
         "paid_date": "2026-01-05"})
    bridge = pd.DataFrame([("2026-01", "R1", "C1", "existing", 60.0, "A"), ("2026-02", "R1", "C1", "new", 40.0, "A"),
                           ("2026-01", "R2", "C2", "lost", -50.0, "B"), ("2026-02", "R2", "C9", "transferred", 1000.0, "A"),
                           ("2026-02", "R3", "C3", "new", 300.0, "A"), ("2025-12", "R3", "C3", "new", 999.0, "A")],
                          columns=["month", "rep_id", "customer_id", "part", "amount", "tier"])
    events = pd.DataFrame([("2026-01", "C1", "retained", "R1", 1.0, "A"), ("2026-02", "C4", "retained", "R1", 0.5, "A"),
                           ("2026-02", "C4", "retained", "R2", 0.5, "A"), ("2026-02", "C5", "retained", "R2", 1.0, "B"),
                           ("2025-12", "C6", "retained", "R1", 1.0, "A"), ("2026-01", "C7", "won", "R3", 1.0, "A")],
                          columns=["month", "customer_id", "event", "rep_id", "share", "tier"])
    team = pd.DataFrame({"month": MONTHS, "team": "T", "clv_growth": 0.0, "gross_margin": [1000.0, 2000.0]})
    return PayInputs(orders=orders, credit=credit_table(orders), reps=reps, months=MONTHS, bridge=bridge,
                     events=events, team_figures=team, switch=switch)


@dataclass
class DemoBacktest:
    wb: object
    pay: object              # the payouts stage (Pay)
    kpis: object             # the kpis stage
    inputs: PayInputs        # the window's tables, as the payouts stage builds them
    plans: dict
    current: str
    archetypes: dict         # the demo's truth: rep_id -> hunter | farmer | balanced

    @property
    def baseline(self) -> pd.DataFrame:
        return self.pay.lines[self.pay.lines["plan"] == self.current]


_DEMO: dict = {}


def demo_backtest(wb) -> DemoBacktest:
    """The demo company's payouts stage and the inputs behind it (``wb``: the session's demo workbook)."""
    if "demo" not in _DEMO:
        from clvlib.demo import load_truth
        from clvlib.paths import DEMO_DATA_DIR
        from clvlib.plans import plans_from_params
        from clvlib.plans.assemble import pay_inputs
        pay, k, p = wb.stage("payouts"), wb.stage("kpis"), wb.params["pay"]
        inputs = pay_inputs(orders=wb.orders(), credit=wb.credit(), reps=wb.table("reps"), quotas=wb.table("quotas"),
                            bridge=k.bridge, events=k.events, kpi_table=k.table, period=wb.period,
                            months=p["backtest_months"], switch=p["switch"])
        _DEMO["demo"] = DemoBacktest(wb=wb, pay=pay, kpis=k, inputs=inputs, plans=plans_from_params(wb.params),
                                     current=p["current_plan"],
                                     archetypes=load_truth(DEMO_DATA_DIR)["rep_archetypes"])
    return _DEMO["demo"]
