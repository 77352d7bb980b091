"""Customer health score (0-100) from four parts, each between 0 (bad) and 1 (good), at a month end:

* **regularity** = clip(1 - CV / 2, 0, 1), CV = standard deviation / mean of the gaps in days between
  the customer's invoice days up to the month end; the time since the last invoice day counts as one
  more gap once it is longer than the average gap (a silence that is already unusual). Needs two gaps.
  A steady buyer (CV 0) scores 1, purely random timing (CV 1, a Poisson buyer) 0.5, CV >= 2 scores 0.
* **complaints** = 1 / (1 + severity points per invoice in the last 12 months), points low 1, medium 2,
  high 3 (no complaints: 1; one medium complaint per two invoices: 0.5).
* **receivables** = 1 - min(1, overdue / invoiced): overdue = invoices past their due date and unpaid
  on the month end, invoiced = invoice amounts of the last 12 months (nothing overdue: 1).
* **nps** = the customer's latest NPS score in the last 12 months / 10.

health = 100 · Σ w_k · part_k / Σ w_k over the parts the customer has (a missing part's weight is
spread over the others); weights ``kpis.health_weights``. Scored for the customers active at the month
end (an invoice within ``lost_after_days``); a rep's, team's or the company's score is the
share-weighted mean over its active customers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.kpis.common import (as_ns, books, check_months, month_ends, month_index, month_indexes, month_labels,
                                months_of, over_windows, ratio, require, rollup, to_long)

PARTS = ("regularity", "complaints", "receivables", "nps")
SEVERITY_POINTS = {"low": 1.0, "medium": 2.0, "high": 3.0}


def health_formula(weights: dict) -> str:
    """The health score's formula with its weights, as the report prints it."""
    w = {k: float(weights.get(k, 0.0)) for k in PARTS}
    terms = " + ".join(f"{w[k]:g} × {k}" for k in PARTS)
    return (f"health = 100 × ({terms}) / (sum of the weights of the parts the customer has); "
            "regularity = clip(1 − CV of the gaps between invoice days / 2, 0, 1); "
            "complaints = 1 / (1 + severity points per invoice, last 12 months; low 1, medium 2, high 3); "
            "receivables = 1 − min(1, overdue and unpaid at the month end / invoiced in the last 12 months); "
            "nps = latest NPS score in the last 12 months / 10")


def _active(orders, ends: pd.Series, lost_after_days: int) -> pd.DataFrame:
    """(month, customer_id, end, last_day, k, s1, s2) for the customers active at each month end:
    their last invoice day on or before it, the number of invoice days k and the sums of the k - 1 gaps
    and squared gaps (days) between them."""
    inv = orders[orders["doc_type"] == "invoice"][["customer_id", "order_date"]].drop_duplicates()
    inv = inv.assign(order_date=as_ns(inv["order_date"])).sort_values(["customer_id", "order_date"])
    inv = inv.reset_index(drop=True)
    gap = inv.groupby("customer_id")["order_date"].diff().dt.days.astype(float).fillna(0.0)
    inv["k"] = inv.groupby("customer_id").cumcount() + 1
    inv["s1"] = gap.groupby(inv["customer_id"]).cumsum()
    inv["s2"] = (gap ** 2).groupby(inv["customer_id"]).cumsum()
    span = int(np.ceil(lost_after_days / 28)) + 1
    recent = inv.assign(mi=months_of(inv["order_date"]), n=1.0)
    q = over_windows(recent, ["customer_id"], ["n"], [month_index(m) for m in ends.index], span=span)
    q = q.assign(month=month_labels(q["mi"]), customer_id=q["customer_id"].astype(object))
    q["end"] = q["month"].map(ends)
    inv["customer_id"] = inv["customer_id"].astype(object)
    q = pd.merge_asof(q.sort_values("end"), inv.rename(columns={"order_date": "last_day"}).sort_values("last_day"),
                      left_on="end", right_on="last_day", by="customer_id", direction="backward")
    q = q[(q["end"] - q["last_day"]).dt.days < lost_after_days]
    return q[["month", "customer_id", "end", "last_day", "k", "s1", "s2"]].reset_index(drop=True)


def regularity(q: pd.DataFrame) -> np.ndarray:
    """The regularity part for the rows of ``_active`` (missing with fewer than two gaps)."""
    closed = q["k"].to_numpy(float) - 1.0
    s1, s2 = q["s1"].to_numpy(float), q["s2"].to_numpy(float)
    open_gap = (q["end"] - q["last_day"]).dt.days.to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_closed = s1 / closed
        add = (closed >= 1) & (open_gap > mean_closed)
        n = closed + add
        m1 = (s1 + add * open_gap) / n
        var = np.maximum((s2 + add * open_gap ** 2) / n - m1 ** 2, 0.0)
        cv = np.sqrt(var) / m1
    return np.where((n >= 2) & (m1 > 0), np.clip(1.0 - cv / 2.0, 0.0, 1.0), np.nan)


def _window_sum(df, date_col, value_col, months, name) -> pd.DataFrame:
    x = pd.DataFrame({"customer_id": df["customer_id"].to_numpy(), "mi": months_of(df[date_col]),
                      name: df[value_col].astype(float).to_numpy()})
    w = over_windows(x, ["customer_id"], [name], [month_index(m) for m in months])
    return w.assign(month=month_labels(w["mi"])).drop(columns="mi")


def overdue_receivables(orders: pd.DataFrame, ends: pd.Series) -> pd.DataFrame:
    """month, customer_id, overdue: invoice amounts past due and unpaid at each month end (due date
    before it, paid after it or not at all). Each invoice is counted for the month ends in its overdue
    span, found by binary search."""
    inv = orders[(orders["doc_type"] == "invoice") & orders["due_date"].notna()]
    e = ends.sort_values()
    ev = e.to_numpy()
    lo = np.maximum(np.searchsorted(ev, as_ns(inv["due_date"]).to_numpy(), side="right"),
                    np.searchsorted(ev, as_ns(inv["order_date"]).to_numpy(), side="left"))
    paid = as_ns(inv["paid_date"]).to_numpy()
    hi = np.where(pd.isna(paid), len(ev), np.searchsorted(ev, paid, side="left"))
    n = np.maximum(hi - lo, 0)
    rows = np.repeat(np.arange(len(inv)), n)
    pos = np.repeat(lo, n) + (np.arange(len(rows)) - np.repeat(np.cumsum(n) - n, n))
    x = pd.DataFrame({"month": e.index.to_numpy()[pos], "customer_id": inv["customer_id"].to_numpy()[rows],
                      "overdue": inv["amount_rc"].astype(float).to_numpy()[rows]})
    return x.groupby(["month", "customer_id"], sort=False)["overdue"].sum().reset_index()


def health_parts(orders, months, nps_table=None, complaints=None, as_of=None,
                 lost_after_days: int = 365) -> pd.DataFrame:
    """Per month and active customer: the four parts (missing where the data are missing) and
    ``overdue``. The complaints / nps parts are missing for everyone when their table is not given,
    the receivables part when no invoice has a due date."""
    require(orders, "orders", ["customer_id", "order_date", "doc_type", "amount_rc"])
    months = check_months(months)
    ends = month_ends(months, as_of)
    q = _active(orders, ends, lost_after_days)
    q["regularity"] = regularity(q)
    inv = orders[orders["doc_type"] == "invoice"]
    counts = _window_sum(inv.assign(one=1.0), "order_date", "one", months, "invoices")
    billed = _window_sum(inv, "order_date", "amount_rc", months, "invoiced")
    q = q.merge(counts, on=["month", "customer_id"], how="left").merge(billed, on=["month", "customer_id"], how="left")
    q = q.fillna({"invoices": 0.0, "invoiced": 0.0})
    if complaints is not None:
        require(complaints, "complaints", ["customer_id", "date", "severity"])
        c = complaints.assign(points=complaints["severity"].map(SEVERITY_POINTS).fillna(1.0))
        pts = _window_sum(c[c["date"] <= ends.max()], "date", "points", months, "points")
        q = q.merge(pts, on=["month", "customer_id"], how="left").fillna({"points": 0.0})
        q["complaints"] = 1.0 / (1.0 + q["points"] / np.maximum(q["invoices"], 1.0))
    else:
        q["complaints"] = np.nan
    if "due_date" in orders.columns and orders["due_date"].notna().any():
        od = overdue_receivables(orders, ends)
        q = q.merge(od, on=["month", "customer_id"], how="left").fillna({"overdue": 0.0})
        share = np.where(q["invoiced"] > 0, q["overdue"] / q["invoiced"].where(q["invoiced"] > 0), np.inf)
        q["receivables"] = np.where(q["overdue"] > 0, 1.0 - np.minimum(share, 1.0), 1.0)
    else:
        q["overdue"], q["receivables"] = np.nan, np.nan
    q["nps"] = _latest_nps(nps_table, q, lost_after_days) if nps_table is not None else np.nan
    return q[["month", "customer_id", *PARTS, "overdue"]]


def _latest_nps(nps_table, q, lost_after_days) -> np.ndarray:
    """The latest NPS score (/ 10) of each (month, customer) of ``q`` dated in the 12 months to its end."""
    require(nps_table, "nps", ["customer_id", "date", "score"])
    r = nps_table.dropna(subset=["score", "date"])[["customer_id", "date", "score"]]
    r = r.assign(date=as_ns(r["date"])).sort_values("date")
    left = q[["customer_id", "end", "month"]].reset_index().sort_values("end")
    left["customer_id"] = left["customer_id"].astype(object)
    r["customer_id"] = r["customer_id"].astype(object)
    m = pd.merge_asof(left, r, left_on="end", right_on="date", by="customer_id", direction="backward")
    recent = months_of(m["date"]) > month_indexes(m["month"]).to_numpy() - 12
    m["value"] = np.where(m["date"].notna() & recent, m["score"].astype(float) / 10.0, np.nan)
    return m.set_index("index")["value"].reindex(q.index).to_numpy()


def health_score(orders, owners, reps, months, weights: dict, nps_table=None, complaints=None, as_of=None,
                 lost_after_days: int = 365, pairs=None) -> pd.DataFrame:
    """``health_score`` (0-100) of each active customer (see the module's formula; ``health_formula``
    prints it), and of each rep's, team's and the company's book: the share-weighted mean over its
    active customers. Customer rows also carry the parts (``health_regularity``, ...); every level has
    ``overdue_receivables`` (past due and unpaid at the month end). ``pairs``: the book, when already
    computed (:func:`common.books`)."""
    months = check_months(months)
    p = health_parts(orders, months, nps_table, complaints, as_of, lost_after_days)
    w = np.array([float(weights.get(k, 0.0)) for k in PARTS])
    parts = p[list(PARTS)].to_numpy(float)
    have = ~np.isnan(parts)
    num = np.where(have, parts, 0.0) @ w
    den = have.astype(float) @ w
    p["health_score"] = 100.0 * ratio(num, den)
    scored = p["health_score"].notna()
    values = p.assign(scored=scored.astype(float), score_sum=p["health_score"].fillna(0.0),
                      overdue_receivables=p["overdue"])
    pairs = books(owners, reps, months, as_of, pairs)
    wide = rollup(values, pairs, ["scored", "score_sum", "overdue_receivables"])
    wide["health_score"] = ratio(wide["score_sum"], wide["scored"])
    cust = p.rename(columns={"customer_id": "id", "overdue": "overdue_receivables",
                             **{k: f"health_{k}" for k in PARTS}}).assign(level="customer")
    return pd.concat([to_long(wide, ["health_score", "overdue_receivables"]),
                      to_long(cust, ["health_score", *[f"health_{k}" for k in PARTS], "overdue_receivables"])],
                     ignore_index=True)
