"""Where the profit comes from: the top tier's share of the last 12 months' gross margin."""
from __future__ import annotations

import pandas as pd

from clvlib.kpis.common import books, check_months, month_index, month_labels, months_of, over_windows, \
    ratio, require, rollup, to_long


def margin_by_customer_12m(orders: pd.DataFrame, months) -> pd.DataFrame:
    """month, customer_id, gross_margin: each customer's booked gross margin (credit notes net) dated in
    the 12 months ending at the month end."""
    require(orders, "orders", ["customer_id", "order_date", "gross_margin_rc"])
    o = pd.DataFrame({"customer_id": orders["customer_id"].to_numpy(), "mi": months_of(orders["order_date"]),
                      "gross_margin": orders["gross_margin_rc"].astype(float).to_numpy()})
    w = over_windows(o, ["customer_id"], ["gross_margin"], [month_index(m) for m in check_months(months)])
    return w.assign(month=month_labels(w["mi"])).drop(columns="mi")


def a_share_of_profit(orders, tiers, owners, reps, months, as_of=None, top_tier: str = "A",
                      pairs=None) -> pd.DataFrame:
    """``a_share_of_profit``: the share of the last 12 months' gross margin that came from customers in
    tier ``top_tier`` (A) at the month end (the article: high-CLV customers gave 60 % of profit). Book at
    the month end, share-weighted; the company counts every customer. A customer without a tier counts
    in the total only. May exceed 1 when the other tiers lose money. Also ``a_gross_margin_12m``.
    ``pairs``: the book, when already computed (:func:`common.books`)."""
    months = check_months(months)
    require(tiers, "tiers", ["month", "customer_id", "tier"])
    gm = margin_by_customer_12m(orders, months)
    t = tiers[tiers["month"].isin(months)][["month", "customer_id", "tier"]]
    x = gm.merge(t, on=["month", "customer_id"], how="left")
    x["a_margin"] = x["gross_margin"].where(x["tier"] == top_tier, 0.0)
    pairs = books(owners, reps, months, as_of, pairs)
    wide = rollup(x, pairs, ["gross_margin", "a_margin"])
    wide["a_share_of_profit"] = ratio(wide["a_margin"], wide["gross_margin"])
    return to_long(wide.rename(columns={"a_margin": "a_gross_margin_12m"}), ["a_share_of_profit", "a_gross_margin_12m"])
