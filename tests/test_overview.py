"""Customer flow (active, new, lost per month) on a handful of customers, counted by hand.

lost_after_days = 30. Invoices: A on 5 Jan and 20 Jan 2026; B on 15 Dec 2025 and 20 Feb 2026; C on
10 Mar 2026; D has only a credit note (credit notes do not make a customer active). So:

* A is active from 5 Jan; its last order (20 Jan) turns 30 days old on 19 Feb: lost in February;
* B is active from 15 Dec, lost on 14 Jan (no order within 30 days), back on 20 Feb, lost again 22 Mar;
* C is new and active from 10 Mar.
"""
from __future__ import annotations

import pandas as pd
import pytest

from clvlib.overview import customer_flow

ORDERS = pd.DataFrame({
    "customer_id": ["A", "A", "B", "B", "C", "D"],
    "order_date": pd.to_datetime(["2026-01-05", "2026-01-20", "2025-12-15", "2026-02-20", "2026-03-10",
                                  "2026-01-10"]),
    "doc_type": ["invoice"] * 5 + ["credit_note"],
})


@pytest.mark.parametrize("as_of,expect", [
    # month: (active at month end, new in month, lost in month)
    ("2026-03-31", {"2026-01": (1, 1, 1), "2026-02": (1, 0, 1), "2026-03": (1, 1, 1)}),
    # mid-March: the month so far — B and C active, nobody lost yet
    ("2026-03-15", {"2026-01": (1, 1, 1), "2026-02": (1, 0, 1), "2026-03": (2, 1, 0)}),
])
def test_customer_flow_by_hand(as_of, expect):
    flow = customer_flow(ORDERS, as_of, lost_after_days=30, n_months=3)
    got = {str(m): (a, n, lost) for m, a, n, lost in zip(flow["month"], flow["active"], flow["new"], flow["lost"])}
    assert got == expect


def test_a_customer_is_active_for_lost_after_days_then_lost():
    o = pd.DataFrame({"customer_id": ["X"], "order_date": pd.to_datetime(["2026-01-31"]), "doc_type": ["invoice"]})
    flow = customer_flow(o, "2026-04-30", lost_after_days=45, n_months=4)
    # active at the end of Jan and Feb (28 days after), lost on 17 Mar (31 Jan + 45 days)
    assert flow["active"].tolist() == [1, 1, 0, 0] and flow["lost"].tolist() == [0, 0, 1, 0]
    assert flow["new"].tolist() == [1, 0, 0, 0]


def test_a_repeat_order_before_the_limit_keeps_the_customer_active():
    o = pd.DataFrame({"customer_id": ["X", "X"], "order_date": pd.to_datetime(["2026-01-10", "2026-02-05"]),
                      "doc_type": ["invoice", "invoice"]})
    flow = customer_flow(o, "2026-03-31", lost_after_days=30, n_months=3)
    # 10 Jan -> 5 Feb (26 days): one stretch; lost 30 days after 5 Feb = 7 Mar
    assert flow["active"].tolist() == [1, 1, 0] and flow["lost"].tolist() == [0, 0, 1]
