"""Retention bonus: an amount per customer of the listed tiers retained, x the rep's book share.

**Base**: ``retained`` events (``PayInputs.events``: the anniversary month of a customer's first
invoice, 12·k months later, with an invoice in the 12 months ending then; reps of the book) whose
tier has an amount, in eligible rep-months where the component applies.

**Pricing**: one line per (event, rep), ``retention.retained``, source ``customer``:
``amount = amounts[tier] (basis) x rate_factor (rate) x weight x book share``.
"""
from __future__ import annotations

import pandas as pd

from clvlib.errors import DataError
from clvlib.plans.components._common import STEPS, Context, Lines, base_template, cents

COMPONENT = "retention"


def events_of(ctx: Context, kind: str) -> pd.DataFrame:
    """Events of one kind (won | lost | retained), months as text, sorted."""
    ev = ctx.inputs.events
    if ev is None:
        raise DataError(f"a {kind}-event component needs PayInputs.events")
    e = ev[ev["event"] == kind].copy()
    e["month"] = e["month"].astype(str)
    if "order_id" not in e.columns:
        e["order_id"] = ""
    return e.sort_values(["month", "customer_id", "rep_id"], kind="stable").reset_index(drop=True)


def base(comp, entry: int, ctx: Context) -> Lines:
    e = events_of(ctx, "retained")
    e = e[e["tier"].isin(list(comp.amounts))]
    e = ctx.keep_month_lines(e, comp).reset_index(drop=True)
    return base_template(ctx, e, rule="retention.retained", source_type="customer", source_id=e["customer_id"],
                         step=STEPS["base"], entry=entry, component=COMPONENT,
                         basis=e["tier"].map(comp.amounts).astype(float), share=e["share"].astype(float),
                         detail=[f"tier {t} customer retained" for t in e["tier"]], customer_id=e["customer_id"])


def price(comp, entry: int, t: Lines, ctx: Context, factor: float, weight: float) -> Lines:
    return t.replace(rate=factor, weight=weight, amount_cents=cents(t["basis"], factor, weight, t["share"]))
