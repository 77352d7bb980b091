"""Loyalty KPIs of a book of customers: repurchase, old-customer retention and churn, lifespan.

They count **invoices** (a credit note is not a purchase) and weight each customer by its owners'
shares in the book (``common.book_pairs``); the company counts every customer once.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.kpis.common import (DAYS_PER_MONTH, book_pairs, books, calendar_end, check_months, month_ends,
                                month_index, month_label, months_of, over_windows, ratio, require, rollup, to_long)


def invoice_days(orders: pd.DataFrame) -> pd.DataFrame:
    """Distinct invoice days per customer and month: customer_id, mi, days."""
    require(orders, "orders", ["customer_id", "order_date", "doc_type"])
    inv = orders[orders["doc_type"] == "invoice"][["customer_id", "order_date"]].drop_duplicates()
    inv = inv.assign(mi=months_of(inv["order_date"]), days=1.0)
    return inv.groupby(["customer_id", "mi"], sort=False)["days"].sum().reset_index()


def _window_days(days: pd.DataFrame, months, lag: int = 0) -> pd.DataFrame:
    """Distinct invoice days of each customer in the 12 months ending ``lag`` months before each month
    (a day belongs to one month, so the monthly counts add up): month, customer_id, days."""
    targets = [month_index(m) for m in check_months(months)]
    w = over_windows(days, ["customer_id"], ["days"], targets, lag=lag)
    labels = {i: month_label(i) for i in targets}
    return w.assign(month=w["mi"].map(labels)).drop(columns="mi")


def repurchase_rate(orders, owners, reps, months, as_of=None, pairs=None) -> pd.DataFrame:
    """``repurchase_rate``: of the customers with an invoice in the 12 months ending at the month end,
    the share with invoices on two or more distinct days in those months (book at the month end,
    share-weighted). Also ``buyers_12m`` and ``repeat_buyers_12m``. ``pairs``: the book, when already
    computed (:func:`common.books`)."""
    months = check_months(months)
    w = _window_days(invoice_days(orders), months)
    values = w.assign(buyers=1.0, repeat_buyers=(w["days"] >= 2).astype(float))
    wide = rollup(values, books(owners, reps, months, as_of, pairs), ["buyers", "repeat_buyers"])
    wide["repurchase_rate"] = ratio(wide["repeat_buyers"], wide["buyers"])
    wide = wide.rename(columns={"buyers": "buyers_12m", "repeat_buyers": "repeat_buyers_12m"})
    return to_long(wide, ["repurchase_rate", "buyers_12m", "repeat_buyers_12m"])


def old_customers(orders, months) -> pd.DataFrame:
    """Who counts as an **old customer** at month m: a customer with an invoice in the 12 months before
    the last 12 (months m-23 ... m-12); **retained** if it also has an invoice in the last 12 months
    (m-11 ... m), else **churned**. Returns month, customer_id, old (1), retained (1/0), churned (1/0)."""
    months = check_months(months)
    days = invoice_days(orders)
    old = _window_days(days, months, lag=12)[["month", "customer_id"]]
    now = _window_days(days, months)[["month", "customer_id"]].assign(retained=1.0)
    x = old.merge(now, on=["month", "customer_id"], how="left").fillna({"retained": 0.0})
    return x.assign(old=1.0, churned=1.0 - x["retained"])


def _retention(orders, owners, reps, months, as_of=None) -> pd.DataFrame:
    months = check_months(months)
    values = old_customers(orders, months)
    pairs = book_pairs(owners, reps, months, shift=12, as_of=as_of) if owners is not None else None
    wide = rollup(values, pairs, ["old", "retained", "churned"])
    wide["retention_rate"] = ratio(wide["retained"], wide["old"])
    wide["churn_rate"] = 1.0 - wide["retention_rate"]
    return wide.rename(columns={"old": "old_customers", "retained": "retained_customers",
                                "churned": "churned_customers"})


def retention_rate(orders, owners, reps, months, as_of=None) -> pd.DataFrame:
    """``retention_rate``: the share of the old customers (an invoice in months m-23 ... m-12) with an
    invoice in the last 12 months (m-11 ... m). Per rep and team: the old customers of the book at the
    end of month m-12, share-weighted (so a rep answers for the accounts they held a year ago); rows are
    missing for months whose m-12 book is not in ``owners``. Also ``old_customers``,
    ``retained_customers`` and ``churned_customers``."""
    return to_long(_retention(orders, owners, reps, months, as_of),
                   ["retention_rate", "old_customers", "retained_customers", "churned_customers"])


def churn_rate(orders, owners, reps, months, as_of=None) -> pd.DataFrame:
    """``churn_rate`` = 1 - retention_rate: the share of the old customers (an invoice in months
    m-23 ... m-12) with **no** invoice in the last 12 months (the article's churn; 40 % churn is 60 %
    retention). Same books as ``retention_rate``."""
    return to_long(_retention(orders, owners, reps, months, as_of), ["churn_rate"])


def customer_lifespans(customers: pd.DataFrame, months, as_of=None, lost_after_days: int = 365) -> pd.DataFrame:
    """Each customer's lifespan at each month end, for the customers **active** at it (an invoice within
    ``lost_after_days`` before) or **lost in the last 12 months** (their last invoice became
    ``lost_after_days`` old in the 12 months ending at it). Returns month, customer_id, active, lost,
    lifespan (months: observed first to last invoice for the lost; age + expected_remaining_months for
    the active, missing without a purchase model), observed (the lost ones' lifespan)."""
    require(customers, "customers", ["month", "customer_id", "first_purchase", "last_purchase",
                                     "expected_remaining_months"])
    ends = month_ends(months, as_of)
    c = customers[customers["month"].isin(list(ends.index))]
    end = c["month"].map(ends)
    year_before = c["month"].map({m: calendar_end(month_index(m) - 12) for m in ends.index})
    lag = pd.Timedelta(days=lost_after_days)
    first, last = pd.to_datetime(c["first_purchase"]), pd.to_datetime(c["last_purchase"])
    active = (last <= end) & (end < last + lag)
    lost = ~active & (last + lag > year_before) & (last + lag <= end)
    age = (end - first).dt.days / DAYS_PER_MONTH
    observed = (last - first).dt.days / DAYS_PER_MONTH
    remaining = c["expected_remaining_months"].astype(float)
    out = pd.DataFrame({"month": c["month"].to_numpy(), "customer_id": c["customer_id"].to_numpy(),
                        "active": active.to_numpy(float), "lost": lost.to_numpy(float),
                        "lifespan": np.where(active, age + remaining, observed),
                        "observed": np.where(lost, observed, np.nan)})
    return out[(out["active"] + out["lost"]) > 0].reset_index(drop=True)


def lifespan_months(customers, owners, reps, months, as_of=None, lost_after_days: int = 365,
                    pairs=None) -> pd.DataFrame:
    """``lifespan_months``: average customer lifespan in months (of 365.25/12 days) over the customers
    active at the month end or lost in the last 12 months: observed (first to last invoice) for the
    lost, age (first invoice to month end) + the purchase model's ``expected_remaining_months`` for the
    active. Book at the month end, share-weighted; missing when a needed expectation is missing (no
    purchase model). Also ``lifespan_observed_months`` (the lost customers only — a simple indicator
    that needs no model), ``active_customers`` and ``lost_customers_12m``; customer rows carry each
    customer's own lifespan. ``pairs``: the book, when already computed (:func:`common.books`)."""
    months = check_months(months)
    lives = customer_lifespans(customers, months, as_of, lost_after_days)
    values = lives.assign(n=1.0, known=lives["lifespan"].notna().astype(float),
                          life=lives["lifespan"].fillna(0.0), obs=lives["observed"].fillna(0.0))
    pairs = books(owners, reps, months, as_of, pairs)
    wide = rollup(values, pairs, ["n", "known", "life", "active", "lost", "obs"])
    complete = np.isclose(wide["known"], wide["n"])
    wide["lifespan_months"] = np.where(complete, ratio(wide["life"], wide["n"]), np.nan)
    wide["lifespan_observed_months"] = ratio(wide["obs"], wide["lost"])
    wide = wide.rename(columns={"active": "active_customers", "lost": "lost_customers_12m"})
    cust = lives.rename(columns={"customer_id": "id", "lifespan": "lifespan_months"}).assign(level="customer")
    return pd.concat([to_long(wide, ["lifespan_months", "lifespan_observed_months", "active_customers",
                                     "lost_customers_12m"]),
                      to_long(cust, ["lifespan_months"])], ignore_index=True)
