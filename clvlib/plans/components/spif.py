"""SPIF: a one-off incentive for a bounded period (not weighted, not scaled by the rate factor).

``base: won | retained`` — an amount per customer event of the listed tiers, x the rep's share (the
won event's credit share, the retained event's book share); ``base: revenue | gross_margin`` — a rate on
the collected amounts credited to the rep (dated as commission on collection). Lines ``spif.<on>``.
"""
from __future__ import annotations

import numpy as np

from clvlib.plans.components._common import STEPS, Context, Lines, base_template, cents
from clvlib.plans.components.retention import events_of

COMPONENT = "spif"


def base(comp, entry: int, ctx: Context) -> Lines:
    """The SPIF's lines (priced already: neither weighted nor scaled)."""
    if comp.base in ("won", "retained"):
        e = events_of(ctx, comp.base)
        if comp.tiers:
            e = e[e["tier"].isin(comp.tiers)]
        e = ctx.keep_month_lines(e, comp).reset_index(drop=True)
        rows, source_type, source_id = e, "customer", e["customer_id"]
        basis, rate, share = np.full(len(e), float(comp.amount)), 1.0, e["share"].to_numpy(dtype=float)
    else:
        value = "amount_rc" if comp.base == "revenue" else "gross_margin_rc"
        rows = ctx.dated_orders("collection", value, comp)
        source_type, source_id = "order", rows["order_id"]
        basis, rate, share = rows["basis"].to_numpy(dtype=float), float(comp.rate), rows["share"].to_numpy(dtype=float)
    t = base_template(ctx, rows, rule=f"spif.{comp.base}", source_type=source_type, source_id=source_id,
                      step=STEPS["base"], entry=entry, component=COMPONENT, basis=basis, share=share,
                      detail=comp.label.en, customer_id=rows["customer_id"])
    return t.replace(rate=rate, amount_cents=cents(basis, rate, share))


def price(comp, entry: int, t: Lines, ctx: Context, factor: float, weight: float) -> Lines:
    return t
