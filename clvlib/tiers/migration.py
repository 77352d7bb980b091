"""How tiers move and what they hold: migration matrix, share changed, PSI, tier profile.

Tiers are given as a Series of tier labels indexed by customer_id (or a DataFrame with columns
``customer_id, tier``), one per month.

* ``migration_matrix(prev, curr)``: customers by tier then (rows) and tier now (columns). Row
  ``new``: customers with no tier then (won since); column ``gone``: customers with a tier then and
  none now. ``normalize=True`` gives row shares (each row sums to 1).
* ``share_changed(prev, curr)``: of the customers tiered in both months, the share whose tier differs.
* ``population_stability_index(prev, curr)``: PSI of the tier shares,
  ``PSI = sum_k (q_k - p_k) ln(q_k / p_k)`` with ``p_k``, ``q_k`` the share of customers in tier k
  then and now, each share at least ``epsilon`` (1e-4) so an empty tier does not divide by zero
  (Siddiqi 2006, ch. 8; Yurdakul 2018). Usual reading: below 0.1 stable, 0.1–0.25 a moderate shift,
  above 0.25 a large shift.
* ``tier_profile(...)``: per tier, customers, share of CLV, share of the last 12 months' gross margin,
  mean CLV and repurchase rate.

References
----------
Siddiqi, N. (2006). Credit Risk Scorecards: Developing and Implementing Intelligent Credit Scoring.
Wiley.
Yurdakul, B. (2018). Statistical Properties of Population Stability Index. Dissertation, Western
Michigan University.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import DataError

__all__ = ["migration_matrix", "share_changed", "population_stability_index", "tier_profile",
           "last_12_months", "PSI_EPSILON", "NEW", "GONE"]

NEW, GONE = "new", "gone"
#: Smallest share a tier counts with in the PSI (an empty tier would make ln(q/p) infinite).
PSI_EPSILON = 1e-4


def _tiers(t, what: str) -> pd.Series:
    if isinstance(t, pd.DataFrame):
        if not {"customer_id", "tier"} <= set(t.columns):
            raise DataError(f"{what} tiers need columns customer_id and tier", column="tier")
        t = t.set_index("customer_id")["tier"]
    if not isinstance(t, pd.Series):
        raise DataError(f"{what} tiers must be a Series of tier labels indexed by customer_id "
                        f"(got {type(t).__name__})")
    s = t.dropna()
    s = pd.Series(s.astype(str).to_numpy(), index=s.index.astype(str), name="tier")
    if s.index.duplicated().any():
        raise DataError(f"{what} tiers: customer {s.index[s.index.duplicated()][0]!r} appears twice",
                        column="customer_id")
    return s


def _labels(labels, *series) -> list:
    if labels is not None:
        return [str(x) for x in labels]
    return sorted(set().union(*(set(s.unique()) for s in series)))


def migration_matrix(prev, curr, labels=None, normalize: bool = False) -> pd.DataFrame:
    """Customers by previous tier (rows, plus ``new``) and current tier (columns, plus ``gone``).

    Parameters
    ----------
    prev, curr : Series or DataFrame
        The tiers then and now.
    labels : list of str, optional
        Tier order (default: the labels seen, sorted). Tiers without customers are kept as zeros.
    normalize : bool, default=False
        Row shares instead of counts (a row without customers is NaN).

    Examples
    --------
    >>> import pandas as pd
    >>> prev = pd.Series({"a": "A", "b": "B", "c": "B"})
    >>> curr = pd.Series({"a": "A", "b": "A", "d": "B"})
    >>> migration_matrix(prev, curr, labels=["A", "B"])
    to    A  B  gone
    from
    A     1  0     0
    B     1  0     1
    new   0  1     0
    """
    p, c = _tiers(prev, "previous"), _tiers(curr, "current")
    labels = _labels(labels, p, c)
    ids = p.index.union(c.index)
    frm = p.reindex(ids).fillna(NEW)
    to = c.reindex(ids).fillna(GONE)
    counts = pd.crosstab(frm, to).reindex(index=labels + [NEW], columns=labels + [GONE], fill_value=0)
    counts = counts.astype(np.int64).rename_axis(index="from", columns="to")
    if normalize:
        total = counts.sum(axis=1)
        return counts.div(total.where(total > 0), axis=0)
    return counts


def share_changed(prev, curr) -> float:
    """Share of the customers tiered in both months whose tier changed (NaN when none are in both)."""
    p, c = _tiers(prev, "previous"), _tiers(curr, "current")
    pos = p.index.get_indexer(c.index)          # ids are unique in each (checked): one lookup, no re-sorting
    both = pos >= 0
    if not both.any():
        return float("nan")
    return float((p.to_numpy()[pos[both]] != c.to_numpy()[both]).mean())


def population_stability_index(prev, curr, labels=None, epsilon: float = PSI_EPSILON) -> float:
    """PSI of the tier shares: ``sum_k (q_k - p_k) ln(q_k / p_k)``, shares floored at ``epsilon``.

    Examples
    --------
    >>> import pandas as pd
    >>> prev = pd.Series(list("AABBBCCCCC"), index=range(10))
    >>> curr = pd.Series(list("AAABBBCCCC"), index=range(10))
    >>> round(population_stability_index(prev, curr), 6)
    0.062861
    """
    p, c = _tiers(prev, "previous"), _tiers(curr, "current")
    if len(p) == 0 or len(c) == 0:
        return float("nan")
    labels = _labels(labels, p, c)
    ps = np.maximum(p.value_counts().reindex(labels, fill_value=0).to_numpy() / len(p), epsilon)
    qs = np.maximum(c.value_counts().reindex(labels, fill_value=0).to_numpy() / len(c), epsilon)
    return float(((qs - ps) * np.log(qs / ps)).sum())


def last_12_months(orders: pd.DataFrame, month_end) -> pd.DataFrame:
    """Per customer, from booked documents dated in the 12 months ending at ``month_end``
    (after ``month_end`` minus 12 calendar months, up to it): ``margin_12m`` (invoices and credit
    notes, net), ``invoice_days_12m`` (distinct days with an invoice)."""
    need = ("customer_id", "order_date", "doc_type", "gross_margin_rc")
    missing = [c for c in need if c not in orders.columns]
    if missing:
        raise DataError(f"the orders have no column(s) {', '.join(missing)}", column=missing[0])
    end = pd.Timestamp(month_end)
    start = end - pd.DateOffset(months=12)
    w = orders[(orders["order_date"] > start) & (orders["order_date"] <= end)]
    ids = w["customer_id"].astype(str)
    margin = w["gross_margin_rc"].astype(float).groupby(ids).sum()
    inv = w[w["doc_type"] == "invoice"]
    days = inv["order_date"].dt.normalize().groupby(inv["customer_id"].astype(str)).nunique()
    out = pd.DataFrame({"margin_12m": margin}).join(days.rename("invoice_days_12m"), how="outer")
    out["margin_12m"] = out["margin_12m"].fillna(0.0)
    out["invoice_days_12m"] = out["invoice_days_12m"].fillna(0).astype(np.int64)
    return out.rename_axis("customer_id")


def tier_profile(tiers, clv: pd.Series, orders: pd.DataFrame, month_end, labels=None) -> pd.DataFrame:
    """What each tier holds at a month end.

    Parameters
    ----------
    tiers : Series or DataFrame
        The month's tiers.
    clv : Series
        CLV per customer_id (e.g. ``tier_features(...)["clv"]``).
    orders : DataFrame
        Booked invoices and credit notes (``customer_id, order_date, doc_type, gross_margin_rc``).
    month_end : date-like
    labels : list of str, optional
        Tier order.

    Returns
    -------
    DataFrame
        One row per tier: ``tier, customers, customer_share, clv, clv_share, mean_clv, margin_12m,
        margin_12m_share, active_12m`` (customers with an invoice in the 12 months) and
        ``repurchase_rate`` = of those active customers, the share with invoices on two or more distinct
        days in the 12 months (the KPI ``repurchase_rate``'s definition; NaN when none is active).
        Shares are of the tiered customers' totals.
    """
    t = _tiers(tiers, "the month's")
    labels = _labels(labels, t)
    v = pd.Series(clv.to_numpy(dtype=float), index=clv.index.astype(str)).reindex(t.index)
    if v.isna().any():
        raise DataError(f"no CLV for customer {v.index[v.isna()][0]!r} of the tiers", column="clv")
    act = last_12_months(orders, month_end).reindex(t.index)
    d = pd.DataFrame({"tier": t, "clv": v, "margin_12m": act["margin_12m"].fillna(0.0),
                      "active": act["invoice_days_12m"].fillna(0) >= 1,
                      "repeat": act["invoice_days_12m"].fillna(0) >= 2})
    g = d.groupby("tier").agg(customers=("clv", "size"), clv=("clv", "sum"), margin_12m=("margin_12m", "sum"),
                              active_12m=("active", "sum"), repeat=("repeat", "sum"))
    g = g.reindex(labels).fillna(0)
    g["customers"] = g["customers"].astype(np.int64)
    g["active_12m"] = g["active_12m"].astype(np.int64)
    n, total_clv, total_margin = len(d), d["clv"].sum(), d["margin_12m"].sum()
    g["customer_share"] = g["customers"] / n if n else np.nan
    g["clv_share"] = g["clv"] / total_clv if total_clv else np.nan
    g["mean_clv"] = g["clv"] / g["customers"].where(g["customers"] > 0)
    g["margin_12m_share"] = g["margin_12m"] / total_margin if total_margin else np.nan
    g["repurchase_rate"] = g["repeat"] / g["active_12m"].where(g["active_12m"] > 0)
    cols = ["customers", "customer_share", "clv", "clv_share", "mean_clv", "margin_12m", "margin_12m_share",
            "active_12m", "repurchase_rate"]
    return g[cols].rename_axis("tier").reset_index()


def tier_counts(tiers: pd.DataFrame, labels=None) -> pd.DataFrame:
    """Customers per (month, tier): ``month, tier, customers`` in tier order (for the trend chart)."""
    labels = _labels(labels, tiers["tier"])
    g = tiers.groupby(["month", "tier"]).size().rename("customers").reset_index()
    g["tier"] = pd.Categorical(g["tier"], categories=labels, ordered=True)
    return g.sort_values(["month", "tier"]).assign(tier=lambda d: d["tier"].astype(str)).reset_index(drop=True)


def migration_table(migration: pd.DataFrame, against: str) -> pd.DataFrame:
    """One saved migration (``against`` = previous_month | twelve_months_ago) as a matrix: ``from`` and one
    column per tier now (counts), rows in the saved order."""
    m = migration[migration["against"] == against]
    if m.empty:
        return pd.DataFrame()
    rows = list(dict.fromkeys(m["from"]))
    cols = list(dict.fromkeys(m["to"]))
    wide = m.pivot(index="from", columns="to", values="customers").reindex(index=rows, columns=cols)
    wide.columns.name = None
    return wide.reset_index()


def movers(tiers: pd.DataFrame, before: str, now: str, clv_now: pd.Series, clv_before: pd.Series,
           labels=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers who moved up and down between two month ends: ``customer_id, tier_before, tier,
    clv_before, clv``, up by CLV now (largest first), down by CLV lost (largest first)."""
    labels = _labels(labels, tiers["tier"])
    rank = {lab: i for i, lab in enumerate(labels)}
    b = tiers[tiers["month"] == before].set_index("customer_id")["tier"]
    a = tiers[tiers["month"] == now].set_index("customer_id")["tier"]
    both = a.index.intersection(b.index)
    d = pd.DataFrame({"tier_before": b.reindex(both), "tier": a.reindex(both)})
    d = d[d["tier_before"] != d["tier"]]
    d["clv_before"] = clv_before.reindex(d.index).to_numpy()
    d["clv"] = clv_now.reindex(d.index).to_numpy()
    up = d["tier"].map(rank) < d["tier_before"].map(rank)
    d = d.rename_axis("customer_id").reset_index()
    return (d[up.to_numpy()].sort_values("clv", ascending=False).reset_index(drop=True),
            d[~up.to_numpy()].assign(lost=lambda x: x["clv_before"] - x["clv"])
            .sort_values("lost", ascending=False).drop(columns="lost").reset_index(drop=True))
