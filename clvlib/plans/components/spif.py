"""SPIF: a one-off incentive for a bounded period (not weighted, not scaled by the rate factor).

``base: won | retained`` — an amount per customer event of the listed tiers, x the rep's share (the
won event's credit share, the retained event's book share); ``base: revenue | gross_margin`` — a rate on
the collected amounts credited to the rep (dated as commission on collection). Lines ``spif.<on>``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.plans.components._common import STEPS, Context, cents, lines
from clvlib.plans.components.retention import events_of

COMPONENT = "spif"


def base(comp, entry: int, ctx: Context) -> pd.DataFrame:
    if comp.base in ("won", "retained"):
        e = events_of(ctx, comp.base)
        if comp.tiers:
            e = e[e["tier"].isin(comp.tiers)]
        e = ctx.keep_month_lines(e, comp).reset_index(drop=True)
        return pd.DataFrame({"month": e["month"], "rep_id": e["rep_id"], "source_type": "customer",
                             "source_id": e["customer_id"], "customer_id": e["customer_id"],
                             "basis": float(comp.amount), "rate": 1.0, "share": e["share"].astype(float)})
    value = "amount_rc" if comp.base == "revenue" else "gross_margin_rc"
    d = ctx.dated_orders("collection", value, comp)
    return pd.DataFrame({"month": d["month"], "rep_id": d["rep_id"], "source_type": "order",
                         "source_id": d["order_id"], "customer_id": d["customer_id"], "basis": d["basis"],
                         "rate": float(comp.rate), "share": d["share"]})


def price(comp, entry: int, b: pd.DataFrame, ctx: Context, factor: float, weight: float) -> pd.DataFrame:
    amount = cents(b["basis"], b["rate"], b["share"]) if len(b) else np.zeros(0, dtype=np.int64)
    return lines(len(b), month=b["month"], rep_id=b["rep_id"], component=COMPONENT, rule=f"spif.{comp.base}",
                 source_type=b["source_type"], source_id=b["source_id"], basis=b["basis"], rate=b["rate"],
                 weight=1.0, share=b["share"], detail=comp.label.en, amount_cents=amount, step=STEPS["base"],
                 entry=entry, customer_id=b["customer_id"])
