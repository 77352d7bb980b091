"""Commission-era KPIs: what a rep sold in the last 12 months, credited by the order's split credit.

All are sums over the booked documents (invoices and credit notes, credit notes negative) dated in the
12 months ending at the month end, each credited to its reps by ``share`` (``credit_lines``). Customer
rows are the customer's own documents; team rows add their reps; company rows add every document
(also one no rep was credited for).
"""
from __future__ import annotations

import pandas as pd

from clvlib.kpis.common import (COMPANY, check_months, employed, month_ends, month_index, month_label,
                                months_of, over_windows, ratio, require, team_rows, to_long)

ORDER_COLUMNS = ["order_id", "order_date", "customer_id", "doc_type", "amount_rc", "gross_margin_rc"]
SALES_MEASURES = ["revenue_12m", "gross_margin_12m", "invoices_12m", "avg_order_margin_12m", "margin_pct"]


def _targets(months):
    months = check_months(months)
    return months, [month_index(m) for m in months]


def _labelled(df: pd.DataFrame) -> pd.DataFrame:
    labels = {i: month_label(i) for i in df["mi"].unique()}
    return df.assign(month=df["mi"].map(labels)).drop(columns="mi")


def _order_values(orders: pd.DataFrame) -> pd.DataFrame:
    o = require(orders, "orders", ORDER_COLUMNS)[ORDER_COLUMNS].copy()
    o["mi"] = months_of(o["order_date"])
    o["revenue"] = o["amount_rc"].astype(float)
    o["gross_margin"] = o["gross_margin_rc"].astype(float)
    o["invoices"] = (o["doc_type"] == "invoice").astype(float)
    return o


def sales_12m(orders: pd.DataFrame, credit: pd.DataFrame, reps: pd.DataFrame, months) -> pd.DataFrame:
    """Wide rows (month, level, id, revenue_12m, gross_margin_12m, invoices_12m, avg_order_margin_12m,
    margin_pct) at the customer, rep, team and company levels; the functions below are its columns."""
    months, targets = _targets(months)
    o = _order_values(orders)
    cols = ["revenue", "gross_margin", "invoices"]
    cust = _labelled(over_windows(o, ["customer_id"], cols, targets)).rename(columns={"customer_id": "id"})
    comp = _labelled(over_windows(o.assign(id=COMPANY), ["id"], cols, targets))
    cr = require(credit, "credit", ["order_id", "rep_id", "share"])
    x = o.merge(cr[["order_id", "rep_id", "share"]], on="order_id")
    for c in cols:
        x[c] = x[c] * x["share"]
    rep = _labelled(over_windows(x.rename(columns={"rep_id": "id"}), ["id"], cols, targets))
    team = team_rows(rep, reps, cols)
    wide = pd.concat([cust.assign(level="customer"), rep.assign(level="rep"), team,
                      comp.assign(level="company")], ignore_index=True)
    wide = wide.rename(columns={"revenue": "revenue_12m", "gross_margin": "gross_margin_12m",
                                "invoices": "invoices_12m"})
    wide["avg_order_margin_12m"] = ratio(wide["gross_margin_12m"], wide["invoices_12m"])
    wide["margin_pct"] = ratio(wide["gross_margin_12m"], wide["revenue_12m"])
    return wide[["month", "level", "id"] + SALES_MEASURES]


def revenue_12m(orders, credit, reps, months) -> pd.DataFrame:
    """``revenue_12m``: revenue (``amount_rc``) of the booked documents dated in the 12 months ending at
    the month end, credit notes net, credited to reps by share."""
    return to_long(sales_12m(orders, credit, reps, months), ["revenue_12m"])


def gross_margin_12m(orders, credit, reps, months) -> pd.DataFrame:
    """``gross_margin_12m``: gross margin (revenue - cost of goods, freight and other costs) of the booked
    documents of the 12 months ending at the month end, credit notes net, credited by share."""
    return to_long(sales_12m(orders, credit, reps, months), ["gross_margin_12m"])


def invoices_12m(orders, credit, reps, months) -> pd.DataFrame:
    """``invoices_12m``: invoices (not credit notes) dated in the 12 months, each counted by the rep's
    credit share (a 70/30 split counts 0.7 and 0.3)."""
    return to_long(sales_12m(orders, credit, reps, months), ["invoices_12m"])


def avg_order_margin_12m(orders, credit, reps, months) -> pd.DataFrame:
    """``avg_order_margin_12m`` = gross_margin_12m / invoices_12m: the margin an order brings on average,
    returns included (missing when there were no invoices)."""
    return to_long(sales_12m(orders, credit, reps, months), ["avg_order_margin_12m"])


def margin_pct(orders, credit, reps, months) -> pd.DataFrame:
    """``margin_pct`` = gross_margin_12m / revenue_12m: the profit margin of the last 12 months."""
    return to_long(sales_12m(orders, credit, reps, months), ["margin_pct"])


def first_invoices(orders: pd.DataFrame) -> pd.DataFrame:
    """Each customer's first invoice (earliest date, then lowest order_id): customer_id, order_id,
    order_date, mi."""
    inv = orders[orders["doc_type"] == "invoice"][["customer_id", "order_id", "order_date"]]
    first = inv.sort_values(["customer_id", "order_date", "order_id"]).drop_duplicates("customer_id")
    return first.assign(mi=months_of(first["order_date"])).reset_index(drop=True)


def new_customers_12m(orders, credit, reps, months) -> pd.DataFrame:
    """``new_customers_12m``: customers won in the 12 months ending at the month end (their first
    invoice is dated in them), credited to the reps of that first invoice by share."""
    months, targets = _targets(months)
    require(orders, "orders", ORDER_COLUMNS)
    first = first_invoices(orders).assign(n=1.0)
    comp = _labelled(over_windows(first.assign(id=COMPANY), ["id"], ["n"], targets)).assign(level="company")
    x = first.merge(credit[["order_id", "rep_id", "share"]], on="order_id").assign(n=lambda d: d["share"])
    rep = _labelled(over_windows(x.rename(columns={"rep_id": "id"}), ["id"], ["n"], targets)).assign(level="rep")
    wide = pd.concat([rep, team_rows(rep, reps, ["n"]), comp], ignore_index=True)
    return to_long(wide.rename(columns={"n": "new_customers_12m"}), ["new_customers_12m"])


def commission_rank(sales: pd.DataFrame, reps: pd.DataFrame, months, as_of=None,
                    measure: str = "revenue_12m", name: str = "commission_rank") -> pd.DataFrame:
    """``commission_rank``: rank by revenue_12m among the sales reps employed at the month end (1 =
    most revenue; ties share the better rank; a rep with no sales counts as 0). Teams are ranked among
    teams the same way. ``sales`` is the wide or long table holding ``measure`` at the rep level."""
    if "measure" in sales.columns:
        sales = sales[sales["measure"] == measure].rename(columns={"value": measure})
    ends = month_ends(months, as_of)
    emp = employed(reps, ends)
    r = sales[sales["level"] == "rep"][["month", "id", measure]]
    r = emp.rename(columns={"rep_id": "id"}).merge(r, on=["month", "id"], how="left").fillna({measure: 0.0})
    r["value"] = r.groupby("month")[measure].rank(method="min", ascending=False)
    t = sales[(sales["level"] == "team") & sales["month"].isin(list(ends.index))][["month", "id", measure]]
    t = t.assign(value=t.groupby("month")[measure].rank(method="min", ascending=False))
    out = pd.concat([r.assign(level="rep"), t.assign(level="team")], ignore_index=True)
    out["measure"] = name
    out["value"] = out["value"].astype(float)
    return out[["month", "level", "id", "measure", "value"]].reset_index(drop=True)


__all__ = ["sales_12m", "revenue_12m", "gross_margin_12m", "invoices_12m", "avg_order_margin_12m", "margin_pct",
           "new_customers_12m", "commission_rank", "first_invoices", "SALES_MEASURES"]
