"""Per-month customer snapshots of the demo company, for tier (and KPI) tests.

In production the ``history`` stage provides them; here each month end's snapshot is the
customer-value table computed on the orders known at that month end (the same valuation, the purchase
and spend models refitted each month, intervals at the minimum number of draws to be quick).
"""
from __future__ import annotations

import pandas as pd

PERIOD = "2026-10"


def month_ends(period: str = PERIOD, n: int = 13) -> list[str]:
    """The ``n`` months ending with ``period``, oldest first (``"YYYY-MM"``)."""
    last = pd.Period(period, freq="M")
    return [str(last - k) for k in range(n - 1, -1, -1)]


def month_end(month: str) -> pd.Timestamp:
    return pd.Period(month, freq="M").to_timestamp(how="end").normalize()


def demo_snapshots(out_dir, months: list[str] | None = None, period: str = PERIOD):
    """Customers per month end of the demo (as the history stage's ``customers`` table would have them).

    Parameters
    ----------
    out_dir : path
        Where the throw-away workbook writes its intake files.
    months : list of str, optional
        Month ends to value (default: the 13 months ending with ``period``).

    Returns
    -------
    (customers, orders, fallbacks)
        ``customers``: dict month -> customer-value table of that month end; ``orders``: the booked
        orders as of ``period``; ``fallbacks``: dict month -> the CLV model's fallback reason (or None).
    """
    from clvlib import customer_value
    from clvlib.workbook import Workbook

    wb = Workbook(period, out_dir=out_dir, charts=False)
    orders, ownership = wb.orders(), wb.table("ownership")
    clv_params = dict(wb.params["clv"])
    clv_params["interval_draws"] = 20
    customers, fallbacks = {}, {}
    for m in months or month_ends(period):
        end = month_end(m)
        cv = customer_value.build(orders[orders["order_date"] <= end], ownership, end, clv_params, holdout=False)
        customers[m] = cv.table
        fallbacks[m] = cv.fallback
    return customers, orders, fallbacks
