"""Retention bonus: an amount per customer of the listed tiers retained, x the rep's book share.

**Base**: ``retained`` events (``PayInputs.events``: the anniversary month of a customer's first
invoice, 12·k months later, with an invoice in the 12 months ending then; reps of the book) whose
tier has an amount, in eligible rep-months where the component applies.

**Pricing**: one line per (event, rep), ``retention.retained``, source ``customer``:
``amount = amounts[tier] (basis) x rate_factor (rate) x weight x book share``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import DataError
from clvlib.plans.components._common import STEPS, Context, cents, lines

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


def base(comp, entry: int, ctx: Context) -> pd.DataFrame:
    e = events_of(ctx, "retained")
    e = e[e["tier"].isin(list(comp.amounts))]
    e = ctx.keep_month_lines(e, comp).reset_index(drop=True)
    e["per_customer"] = e["tier"].map(comp.amounts).astype(float)
    e["detail"] = [f"tier {t} customer retained" for t in e["tier"]]
    return e


def price(comp, entry: int, e: pd.DataFrame, ctx: Context, factor: float, weight: float) -> pd.DataFrame:
    amount = cents(e["per_customer"], factor, weight, e["share"]) if len(e) else np.zeros(0, dtype=np.int64)
    return lines(len(e), month=e["month"], rep_id=e["rep_id"], component=COMPONENT, rule="retention.retained",
                 source_type="customer", source_id=e["customer_id"], basis=e["per_customer"], rate=factor,
                 weight=weight, share=e["share"], detail=e["detail"], amount_cents=amount, step=STEPS["base"],
                 entry=entry, customer_id=e["customer_id"])
