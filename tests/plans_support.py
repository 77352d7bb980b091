"""Test support for the pay plans: tiny hand-made tables, and stand-ins for the CLV bridge and events.

The stand-ins (``demo_inputs``) are for integration tests only: the real bridge, events, team figures
and collaboration points come from the KPI stage (another module). Here a customer's "CLV" at a month
end is its gross margin of the last 12 months, its book is ``current_owners`` at the month end, and
its tier is by value share (A holds the top 70 % of that value, B the next 20 %).
"""
from __future__ import annotations

import pandas as pd

from clvlib.plans import PayInputs
from clvlib.plans.schema import plan_from_dict

TITLE = {"en": "Test plan", "zh": "测试方案"}


def plan(components, weights=None, name="test", **top):
    """A plan from a list of component mappings (title and description filled in)."""
    raw = {"title": TITLE, "description": TITLE, "components": components, **top}
    if weights is not None:
        raw["weights"] = weights
    return plan_from_dict(raw, name)


def reps_table(*rows) -> pd.DataFrame:
    """Rows ``(rep_id, team, role, hire_date, leave_date)``."""
    df = pd.DataFrame(rows, columns=["rep_id", "team", "role", "hire_date", "leave_date"])
    df["name"] = df["rep_id"]
    df["hire_date"] = pd.to_datetime(df["hire_date"])
    df["leave_date"] = pd.to_datetime(df["leave_date"])
    return df


def orders_table(*rows) -> pd.DataFrame:
    """Rows as dicts: order_id, rep_id, order_date, amount (and paid_date, doc_type, original_order_id,
    customer_id, margin, status); gross margin defaults to a quarter of the amount."""
    out = []
    for r in rows:
        amount = float(r["amount"])
        out.append({"order_id": r["order_id"], "order_date": pd.Timestamp(r["order_date"]),
                    "customer_id": r.get("customer_id", "C1"), "rep_id": r.get("rep_id"),
                    "doc_type": r.get("doc_type", "invoice"), "original_order_id": r.get("original_order_id"),
                    "status": r.get("status", "booked"),
                    "paid_date": pd.Timestamp(r["paid_date"]) if r.get("paid_date") else pd.NaT,
                    "amount_rc": amount, "gross_margin_rc": float(r.get("margin", round(amount / 4, 2)))})
    return pd.DataFrame(out)


def credit_table(orders: pd.DataFrame, splits: dict | None = None) -> pd.DataFrame:
    """Credit lines: an order's splits ``{order_id: [(rep, share), ...]}``, else its rep; a credit note
    is credited like its original invoice."""
    splits = splits or {}
    by_id = orders.set_index("order_id")
    rows = []
    for o in orders.itertuples():
        key = o.original_order_id if o.doc_type == "credit_note" and o.original_order_id else o.order_id
        if key in splits:
            rows += [(o.order_id, rep, share, "split") for rep, share in splits[key]]
        else:
            rows.append((o.order_id, by_id.loc[key, "rep_id"], 1.0, "booking"))
    return pd.DataFrame(rows, columns=["order_id", "rep_id", "share", "basis"])


def inputs(orders, reps, months, splits=None, **tables) -> PayInputs:
    return PayInputs(orders=orders, credit=credit_table(orders, splits), reps=reps, months=list(months), **tables)


def empty_orders() -> pd.DataFrame:
    return orders_table({"order_id": "X0", "rep_id": "R1", "order_date": "2020-01-01", "amount": 0})


# ------------------------------------------------------------------ demo stand-ins
def demo_tables(wb):
    """The demo's booked orders, credit lines and reps as the workbook knows them on the as-of date."""
    return wb.orders(), wb.credit(), wb.table("reps")


def _month_end(m: str) -> pd.Timestamp:
    return pd.Period(m, freq="M").to_timestamp(how="end").normalize()


def stand_in_bridge(orders, credit, ownership, months, lost_after_days=365):
    """Customer-level bridge lines, events, and the tiers they use (stand-ins, see the module docstring)."""
    from clvlib.attribution import current_owners

    o = orders.sort_values(["order_date", "order_id"])
    first = o.groupby("customer_id")["order_date"].min()
    prev_months = [str(pd.Period(months[0], freq="M") - 1)] + list(months)
    books, values = {}, {}
    for m in prev_months:
        end = _month_end(m)
        recent = o[(o["order_date"] > end - pd.DateOffset(months=12)) & (o["order_date"] <= end)]
        value = recent.groupby("customer_id")["gross_margin_rc"].sum().clip(lower=0)
        own = current_owners(ownership, end, o)
        own = own[own["customer_id"].isin(first[first <= end].index)]
        own["clv"] = own["customer_id"].map(value).fillna(0.0) * own["share"]
        books[m], values[m] = own, value
    tiers = {m: _value_share_tiers(values[m]) for m in prev_months}
    lines, events = [], []
    for prev, m in zip(prev_months[:-1], prev_months[1:]):
        a = books[prev][["customer_id", "rep_id", "clv"]]
        b = books[m][["customer_id", "rep_id", "clv"]]
        j = a.merge(b, on=["customer_id", "rep_id"], how="outer", suffixes=("_a", "_b"), indicator=True)
        last = o[o["order_date"] <= _month_end(m)].groupby("customer_id")["order_date"].max()
        lost_on = last + pd.Timedelta(days=lost_after_days)
        lost_now = set(lost_on[(lost_on.dt.strftime("%Y-%m") == m)].index)
        won_now = set(first[first.dt.strftime("%Y-%m") == m].index)
        j["part"] = "existing"
        j.loc[(j["_merge"] == "both") & j["customer_id"].isin(lost_now), "part"] = "lost"
        j.loc[j["_merge"] == "right_only", "part"] = "transferred"
        j.loc[(j["_merge"] == "right_only") & j["customer_id"].isin(won_now), "part"] = "new"
        j.loc[j["_merge"] == "left_only", "part"] = "transferred"
        j["amount"] = j["clv_b"].fillna(0.0) - j["clv_a"].fillna(0.0)
        j["month"] = m
        j["tier"] = j["customer_id"].map(tiers[m]).fillna("C")
        lines.append(j[["month", "rep_id", "customer_id", "part", "amount", "tier"]])
        events += _events(m, j, o, credit, won_now, lost_now, books[m], tiers[m], tiers[prev])
    bridge = pd.concat(lines, ignore_index=True)
    bridge = bridge[bridge["amount"] != 0].sort_values(["month", "rep_id", "customer_id"]).reset_index(drop=True)
    return bridge, pd.concat(events, ignore_index=True)


def _value_share_tiers(value: pd.Series) -> pd.Series:
    v = value.sort_values(ascending=False)
    share = v.cumsum() / max(v.sum(), 1e-9)
    return pd.Series(pd.cut(share, [-1, 0.7, 0.9, 2], labels=["A", "B", "C"]).astype(str).to_numpy(), index=v.index)


def _events(m, j, o, credit, won_now, lost_now, book, tiers, tiers_before):
    firsts = o[o["customer_id"].isin(won_now)].drop_duplicates("customer_id")[["customer_id", "order_id"]]
    won = firsts.merge(credit[["order_id", "rep_id", "share"]], on="order_id")
    won = won.assign(month=m, event="won", tier=won["customer_id"].map(tiers).fillna("C"), value=0.0)
    lost = j[j["part"] == "lost"][["customer_id", "rep_id"]].assign(share=1.0)
    lost = lost.assign(month=m, event="lost", tier=lost["customer_id"].map(tiers_before).fillna("C"), order_id="",
                       value=0.0)
    firsts_all = o.groupby("customer_id")["order_date"].min()
    anniv = firsts_all[(firsts_all.dt.month == int(m[5:])) & (firsts_all.dt.year < int(m[:4]))].index
    end = _month_end(m)
    active = set(o[(o["order_date"] > end - pd.DateOffset(months=12)) & (o["order_date"] <= end)]["customer_id"])
    kept = book[book["customer_id"].isin(anniv) & book["customer_id"].isin(active)][["customer_id", "rep_id", "share"]]
    kept = kept.assign(month=m, event="retained", tier=kept["customer_id"].map(tiers).fillna("C"), order_id="",
                       value=0.0)
    cols = ["month", "customer_id", "event", "rep_id", "share", "tier", "order_id", "value"]
    return [won[cols], lost[cols], kept[cols]]


def stand_in_team(bridge, orders, credit, reps, months):
    """Team figures (CLV growth of the team's books, gross margin credited to its reps) and
    collaboration points (split-credit documents of the last 12 months; 5 for service / supply chain)."""
    team = reps.set_index("rep_id")["team"]
    b = bridge[bridge["part"] != "transferred"].assign(team=lambda d: d["rep_id"].map(team))
    growth = b.groupby(["month", "team"])["amount"].sum().rename("clv_growth")
    c = orders.merge(credit, on="order_id", suffixes=("", "_credit"))
    c["month"] = c["order_date"].dt.strftime("%Y-%m")
    c["team"] = c["rep_id_credit"].map(team)
    c["gm"] = c["gross_margin_rc"] * c["share"]
    margin = c.groupby(["month", "team"])["gm"].sum().rename("gross_margin")
    figures = pd.concat([growth, margin], axis=1).fillna(0.0).reset_index()
    figures = figures[figures["month"].isin(months)].reset_index(drop=True)
    rows = []
    split = c[c["basis"] == "split"]
    for m in months:
        end = _month_end(m)
        recent = split[(split["order_date"] > end - pd.DateOffset(months=12)) & (split["order_date"] <= end)]
        pts = recent.groupby("rep_id_credit").size()
        for r in reps.itertuples():
            points = 5.0 if r.role in ("service", "supply_chain") else float(pts.get(r.rep_id, 0))
            rows.append((m, r.rep_id, points))
    return figures, pd.DataFrame(rows, columns=["month", "rep_id", "points"])


def demo_inputs(wb, months, with_clv=True, history: int = 12) -> PayInputs:
    """PayInputs for the demo over ``months`` (the CLV tables from the stand-ins when ``with_clv``, over
    ``history`` more months before the window too, as the history stage gives them: a clawback looks
    back to the win)."""
    from clvlib.plans.inputs import window

    orders, credit, reps = demo_tables(wb)
    extra = {}
    if with_clv:
        span = window(months[-1], len(months) + history)
        bridge, events = stand_in_bridge(orders, credit, wb.table("ownership"), span)
        low = bridge.assign(amount=bridge["amount"] * 0.8)
        figures, collab = stand_in_team(bridge, orders, credit, reps, months)
        extra = dict(bridge=bridge, bridge_low=low, events=events, team_figures=figures, collaboration=collab)
    return PayInputs(orders=orders, credit=credit, reps=reps, months=list(months), **extra)
