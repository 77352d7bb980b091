"""The data overview: revenue and gross margin by month, team, country and currency; active, new and
lost customers. Pure functions of the canonical tables (booked documents only) and an as-of date.

Definitions (stated in the report too):

* revenue and gross margin are net of credit notes, in the reporting currency, by document date;
* a customer is **active** at a month's end when it has ordered within ``lost_after_days`` before it;
  **new** in the month of its first order; **lost** in the month its last order becomes
  ``lost_after_days`` old without a new one (so "lost" is known only after that much silence).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def months_back(as_of, n: int) -> pd.PeriodIndex:
    end = pd.Period(pd.Timestamp(as_of), freq="M")
    return pd.period_range(end - (n - 1), end, freq="M")


def monthly(orders: pd.DataFrame, as_of, n_months: int) -> pd.DataFrame:
    """month, revenue, gross_margin, margin_pct, invoices, credit_notes for the last ``n_months``."""
    o = orders.assign(month=orders["order_date"].dt.to_period("M"))
    g = o.groupby("month").agg(revenue=("amount_rc", "sum"), gross_margin=("gross_margin_rc", "sum"),
                               invoices=("doc_type", lambda d: int((d == "invoice").sum())),
                               credit_notes=("doc_type", lambda d: int((d == "credit_note").sum())))
    g = g.reindex(months_back(as_of, n_months), fill_value=0)
    g.index.name = "month"
    g["margin_pct"] = np.where(g["revenue"] != 0, g["gross_margin"] / g["revenue"].where(g["revenue"] != 0), np.nan)
    return g.reset_index()


def window(orders: pd.DataFrame, as_of, months: int) -> pd.DataFrame:
    """Documents in the ``months`` months ending with the as-of month."""
    start = (pd.Period(pd.Timestamp(as_of), freq="M") - (months - 1)).to_timestamp()
    return orders[(orders["order_date"] >= start) & (orders["order_date"] <= pd.Timestamp(as_of))]


def by_dimension(lines: pd.DataFrame, dim: str, as_of, months: int = 12) -> pd.DataFrame:
    """Revenue, gross margin and margin % by ``dim`` over the last ``months`` months, and the share of
    the total. ``lines`` are orders (or credit lines) with ``amount_rc``/``gross_margin_rc`` columns
    already weighted by any credit share."""
    w = window(lines, as_of, months)
    g = w.groupby(dim, dropna=False).agg(revenue=("amount_rc", "sum"), gross_margin=("gross_margin_rc", "sum"),
                                         customers=("customer_id", "nunique"))
    g["margin_pct"] = g["gross_margin"] / g["revenue"].where(g["revenue"] != 0)
    total = g["revenue"].sum()
    g["share"] = g["revenue"] / total if total else np.nan
    return g.sort_values("revenue", ascending=False).reset_index()


def credited(orders: pd.DataFrame, credit: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Orders exploded to (order, rep) credit lines with amounts weighted by share, and the rep's team."""
    x = orders.merge(credit[["order_id", "rep_id", "share", "basis"]], on="order_id", how="left",
                     suffixes=("_order", ""))
    x["share"] = x["share"].fillna(1.0)
    x["rep_id"] = x["rep_id"].fillna(x.get("rep_id_order"))
    for col in ("amount_rc", "gross_margin_rc", "cost_rc"):
        x[col] = x[col] * x["share"]
    x = x.merge(reps[["rep_id", "team", "name"]].rename(columns={"name": "rep_name"}), on="rep_id", how="left")
    return x


def customer_flow(orders: pd.DataFrame, as_of, lost_after_days: int, n_months: int) -> pd.DataFrame:
    """Per month: active, new and lost customers (see the module's definitions).

    Each order day makes its customer active from that day until ``lost_after_days`` later or the next
    order day, whichever comes first; these spans do not overlap, so the active customers at a date are
    the spans started minus the spans ended by then — counted for all months at once.
    """
    inv = orders[orders["doc_type"] == "invoice"]
    cust_days = inv[["customer_id", "order_date"]].drop_duplicates().sort_values(["customer_id", "order_date"])
    lag = pd.Timedelta(days=lost_after_days)
    day = cust_days["order_date"]
    nxt = cust_days.groupby("customer_id")["order_date"].shift(-1)
    span_end = day + lag
    # a customer is lost at (order date + lag) when the next order comes later than that, or never
    lost_events = np.sort(span_end[nxt.isna() | (nxt > span_end)].to_numpy())
    span_end = span_end.where(nxt.isna() | (nxt > span_end), nxt)
    starts, ends = np.sort(day.to_numpy()), np.sort(span_end.to_numpy())
    firsts = np.sort(inv.groupby("customer_id")["order_date"].min().to_numpy())
    months = months_back(as_of, n_months)
    month_start = months.to_timestamp().to_numpy()
    month_end = np.minimum(months.to_timestamp(how="end").normalize().to_numpy(), np.datetime64(pd.Timestamp(as_of)))

    def upto(sorted_values, t, right=True):
        return np.searchsorted(sorted_values, t, side="right" if right else "left")

    return pd.DataFrame({
        "month": months,
        "active": upto(starts, month_end) - upto(ends, month_end),
        "new": upto(firsts, month_end) - upto(firsts, month_start, right=False),
        "lost": upto(lost_events, month_end) - upto(lost_events, month_start),
    })


def headline(orders: pd.DataFrame, as_of, lost_after_days: int) -> dict:
    """Figures for the summary: this month, the same month a year ago, year to date."""
    as_of = pd.Timestamp(as_of)
    m = pd.Period(as_of, freq="M")
    def span(a, b):
        w = orders[(orders["order_date"] >= a) & (orders["order_date"] <= b)]
        return w["amount_rc"].sum(), w["gross_margin_rc"].sum()
    rev, gm = span(m.to_timestamp(), as_of)
    ly = m - 12
    rev_ly, gm_ly = span(ly.to_timestamp(), ly.to_timestamp(how="end").normalize())
    ytd, ytd_gm = span(pd.Timestamp(as_of.year, 1, 1), as_of)
    ytd_ly, _ = span(pd.Timestamp(as_of.year - 1, 1, 1), as_of - pd.DateOffset(years=1))
    flow = customer_flow(orders, as_of, lost_after_days, 1).iloc[-1]
    return {"revenue": rev, "gross_margin": gm, "margin_pct": gm / rev if rev else np.nan,
            "revenue_ly": rev_ly, "revenue_yoy": (rev / rev_ly - 1) if rev_ly else np.nan,
            "ytd_revenue": ytd, "ytd_gross_margin": ytd_gm, "ytd_yoy": (ytd / ytd_ly - 1) if ytd_ly else np.nan,
            "active": int(flow["active"]), "new": int(flow["new"]), "lost": int(flow["lost"])}
