"""Test support for clvlib.kpis: the demo company's month-by-month history, built the way the lead's
``history`` stage will build it (the purchase model refitted at each month end on the history known
then), with tiers faked by CLV terciles (the real tiers come from clvlib.tiers)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvlib.attribution import current_owners
from clvlib.customer_value import build
from clvlib.kpis import expected_remaining_months
from clvlib.kpis.common import month_ends, month_index, month_label

HISTORY_COLUMNS = ["clv", "p_alive", "frequency", "recency", "T", "monetary_value", "expected_purchases_12m",
                   "first_purchase", "last_purchase", "margin_to_date"]


@dataclass
class DemoHistory:
    orders: pd.DataFrame
    credit: pd.DataFrame
    reps: pd.DataFrame
    ownership: pd.DataFrame
    nps: pd.DataFrame
    complaints: pd.DataFrame
    customers: pd.DataFrame
    owners: pd.DataFrame
    tiers: pd.DataFrame
    months: list
    as_of: pd.Timestamp
    params: dict


def orders_known_on(orders: pd.DataFrame, day) -> pd.DataFrame:
    """The orders dated on or before ``day``, payments after it not yet known."""
    o = orders[orders["order_date"] <= day].copy()
    o.loc[o["paid_date"] > day, "paid_date"] = pd.NaT
    return o


def tercile_tiers(customers: pd.DataFrame) -> pd.DataFrame:
    """Fake tiers: per month, the top third of customers by CLV is A, the middle third B, the rest C."""
    pct = customers.groupby("month")["clv"].rank(method="first", pct=True)
    tier = np.where(pct > 2 / 3, "A", np.where(pct > 1 / 3, "B", "C"))
    return pd.DataFrame({"month": customers["month"].to_numpy(), "customer_id": customers["customer_id"].to_numpy(),
                         "tier": tier})


def month_history(orders, ownership, month: str, end, clv_params, cap_months) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, owners) rows of one month end."""
    known = orders_known_on(orders, end)
    cv = build(known, ownership, end, clv_params, holdout=False)
    t = cv.table
    summary = t.set_index("customer_id")[["frequency", "recency", "T"]]
    rem = expected_remaining_months(cv.purchase_model, summary, cap_months, clv_params["time_unit"])
    cust = t[["customer_id", *HISTORY_COLUMNS]].assign(month=month, expected_remaining_months=rem.to_numpy())
    own = current_owners(ownership, end, known).assign(month=month)
    return cust, own[["month", "customer_id", "rep_id", "share"]]


def demo_history(n_months: int = 25, period: str = "2026-10") -> DemoHistory:
    """The demo's history for the ``n_months`` month ends ending with ``period`` (about 0.5 s a month)."""
    from clvlib.workbook import Workbook

    wb = Workbook(period, charts=False)
    orders = wb.orders()
    ownership = wb.table("ownership")
    p = dict(wb.params["clv"])
    p["interval_draws"] = 20
    last = month_index(period)
    months = [month_label(i) for i in range(last - n_months + 1, last + 1)]
    ends = month_ends(months, wb.as_of)
    cust, own = [], []
    for m, end in ends.items():
        c, o = month_history(orders, ownership, m, end, p, wb.params["kpis"]["lifespan_cap_months"])
        cust.append(c)
        own.append(o)
    customers = pd.concat(cust, ignore_index=True)
    return DemoHistory(orders=orders, credit=wb.credit(), reps=wb.table("reps"), ownership=ownership,
                       nps=wb.table("nps"), complaints=wb.table("complaints"), customers=customers,
                       owners=pd.concat(own, ignore_index=True), tiers=tercile_tiers(customers), months=months,
                       as_of=wb.as_of, params=wb.params)
