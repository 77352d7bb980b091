"""Money: every amount in the reporting currency at the order date's rate, and gross margin.

The rate for an order is the newest rate on or before its date, at most ``max_age_days`` old. A
currency with no rates at all, or a date with no rate in that window, is never given a silent rate of
1: the row is quarantined with the reason (or, with ``fx.strict: true``, the run stops).
Converted amounts are rounded to the cent, as a ledger would book them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def fx_rates_for(orders: pd.DataFrame, fx: pd.DataFrame, reporting_currency: str, max_age_days: int):
    """Return ``(rate, unknown_currency_mask, no_rate_mask)`` aligned with ``orders``."""
    rate = pd.Series(np.nan, index=orders.index)
    same = orders["currency"] == reporting_currency
    rate[same] = 1.0
    known = set(fx["currency"].dropna().unique()) if len(fx) else set()
    unknown = ~same & ~orders["currency"].isin(known) & orders["currency"].notna()
    need = ~same & ~unknown & orders["currency"].notna() & orders["order_date"].notna()
    if need.any():
        left = pd.DataFrame({"_i": orders.index[need], "currency": orders.loc[need, "currency"].astype(str),
                             "date": orders.loc[need, "order_date"].astype("datetime64[ns]")}).sort_values("date")
        right = fx[["date", "currency", "rate"]].dropna().astype({"currency": str})
        right = right.assign(date=right["date"].astype("datetime64[ns]")).sort_values("date")
        m = pd.merge_asof(left, right, on="date", by="currency", direction="backward",
                          tolerance=pd.Timedelta(days=max_age_days))
        rate[m["_i"].to_numpy()] = m["rate"].to_numpy()
    no_rate = need & rate.isna()
    return rate, unknown, no_rate


def to_reporting(orders: pd.DataFrame, rate: pd.Series) -> pd.DataFrame:
    """Add fx_rate, amount_rc, cost_rc and gross_margin_rc (all rounded to the cent)."""
    o = orders.copy()
    o["fx_rate"] = rate
    cost = o["cost_of_goods"].fillna(0) + o["freight_cost"].fillna(0) + o["other_cost"].fillna(0)
    o["amount_rc"] = (o["amount"] * rate).round(2)
    o["cost_rc"] = (cost * rate).round(2)
    o["gross_margin_rc"] = (o["amount_rc"] - o["cost_rc"]).round(2)
    return o


def booked(orders: pd.DataFrame) -> pd.DataFrame:
    """The documents that count in every figure: booked invoices and credit notes (not cancelled,
    open or lost)."""
    return orders[orders["status"] == "booked"]
