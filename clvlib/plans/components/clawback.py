"""Churn clawback: pay taken back for a customer of the listed tiers lost within ``within_months``
months after it was won — charged to the reps credited with the winning invoice (the hunter pattern).

**Base**: each ``lost`` event (one per customer and month) paired with the customer's ``won``
event(s) (one per rep credited with its first invoice) at most ``within_months`` months before, when
the customer's tier — in the won month (``tier_at: won``, the default: a customer is seldom still
tiered A in the month it is lost) or in the lost month — is listed; kept in eligible rep-months of
the winning rep.

**Pricing** (``clawback.lost_customer``, source ``customer``): ``amount: A`` — ``-A x`` the winning
credit share; ``share_of_commission: s`` — ``-s x`` the commission this plan's commission lines paid
the rep on the customer's documents from the won month to the lost month (``basis``; nothing when
it is not positive). Not weighted, not scaled by the rate factor.

**Carry**: a clawback never makes a month's pay negative. Against the rep's pay of the month before
clawbacks (all components after their caps/floors), the clawback (and, with ``carry_forward``, the
balance still owed) is charged only up to that pay when positive; the rest is
``clawback.forgiven`` (``floor_zero``) or ``clawback.deferred`` (``carry_forward``: a balance,
recovered from later positive pay as ``clawback.recovered``, first thing each month). A balance left
when the window ends (or the rep leaves) is the sum of deferred and recovered lines.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.plans.components._common import STEPS, Context, Lines, base_template, cents, grid_lines, grid_sum, money
from clvlib.plans.components.retention import events_of
from clvlib.plans.inputs import months_between

COMPONENT = "clawback"


def base(comp, entry: int, ctx: Context) -> dict:
    lost = events_of(ctx, "lost").drop_duplicates(["customer_id", "month"])[["customer_id", "month", "tier"]]
    won = events_of(ctx, "won")[["customer_id", "month", "rep_id", "share", "order_id", "tier"]]
    pairs = lost.merge(won.rename(columns={"month": "won_month"}), on="customer_id", how="inner",
                       suffixes=("_lost", "_won"))
    pairs["tier"] = pairs[f"tier_{comp.tier_at}"]
    pairs = pairs[pairs["tier"].isin(comp.tiers)]
    if len(pairs):
        gap = np.array([months_between(w, m) for w, m in zip(pairs["won_month"], pairs["month"])])
        pairs = pairs[(gap >= 0) & (gap <= comp.within_months)]
    pairs = ctx.keep_month_lines(pairs, comp)
    pairs = pairs.sort_values(["month", "rep_id", "customer_id", "won_month"], kind="stable").reset_index(drop=True)
    detail = [f"tier {t} (when {comp.tier_at}) customer won {w} (order {o}), lost {m}"
              for t, w, o, m in zip(pairs["tier"], pairs["won_month"], pairs["order_id"], pairs["month"])]
    fixed = comp.amount is not None
    t = base_template(ctx, pairs, rule="clawback.lost_customer", source_type="customer",
                      source_id=pairs["customer_id"], step=STEPS["clawback"], entry=entry, component=COMPONENT,
                      tie=(pairs["won_month"],), basis=np.full(len(pairs), float(comp.amount) if fixed else np.nan),
                      rate=-1.0 if fixed else -float(comp.share_of_commission),
                      share=pairs["share"].to_numpy(dtype=float) if fixed else 1.0, detail=detail,
                      customer_id=pairs["customer_id"])
    won_col = ctx.month_index.get_indexer(pd.Index(pairs["won_month"]))   # -1: won before the window
    return {"lines": t, "won_ci": won_col}


def price(comp, entry: int, base_: dict, ctx: Context, commission: Lines) -> Lines:
    """The clawback lines (before carry); ``commission`` are this plan's priced commission document lines."""
    t = base_["lines"]
    if comp.amount is not None:
        return t.replace(amount_cents=cents(t["basis"], t["rate"], t["share"]))
    paid = _commission_paid(t, base_["won_ci"], commission)
    t = t.replace(basis=paid).where(paid > 0)
    return t.replace(amount_cents=cents(t["basis"], t["rate"]))


def _commission_paid(t: Lines, won_ci: np.ndarray, commission: Lines) -> np.ndarray:
    """Commission (currency units) paid to each line's rep on its customer from the won to the lost month."""
    if not t.n:
        return np.zeros(0)
    c = pd.DataFrame({"ri": commission["ri"], "customer_id": commission["customer_id"], "paid_ci": commission["ci"],
                      "amount_cents": commission["amount_cents"]})
    p = pd.DataFrame({"row": np.arange(t.n), "ri": t["ri"], "customer_id": t["customer_id"],
                      "won_ci": np.maximum(won_ci, 0), "ci": t["ci"]})
    m = p.merge(c, on=["ri", "customer_id"], how="inner")
    m = m[(m["paid_ci"] >= m["won_ci"]) & (m["paid_ci"] <= m["ci"])]
    paid = m.groupby("row")["amount_cents"].sum().reindex(range(t.n), fill_value=0)
    return paid.to_numpy(dtype=np.int64) / 100


def carry_lines(comp, entry: int, claw: Lines, before: Lines, ctx: Context) -> Lines:
    """Forgiven / deferred / recovered lines so that clawbacks never make a month's pay negative."""
    charge = -grid_sum(ctx, claw)                   # >= 0: what the month's clawbacks take
    pay = grid_sum(ctx, before)
    forward = comp.carry == "carry_forward"
    owed = np.zeros(len(ctx.rep_index), dtype=np.int64)
    recovered, excess = np.zeros_like(pay), np.zeros_like(pay)
    owed_before = np.zeros_like(pay)
    for j in range(len(ctx.months)):
        allowed = np.maximum(pay[:, j], 0)
        owed_before[:, j] = owed
        if forward:
            rec = np.minimum(owed, allowed)
            recovered[:, j], owed, allowed = rec, owed - rec, allowed - rec
        excess[:, j] = charge[:, j] - np.minimum(charge[:, j], allowed)
        if forward:
            owed = owed + excess[:, j]
    detail = np.array([[f"pay before clawback {money(p / 100)}; owed before {money(o / 100)}"
                        for p, o in zip(prow, orow)] for prow, orow in zip(pay, owed_before)], dtype=object)
    common = dict(component=COMPONENT, basis=pay / 100, detail=detail, step=STEPS["clawback_carry"], entry=entry)
    parts = [grid_lines(ctx, excess, "clawback.deferred" if forward else "clawback.forgiven", **common)]
    if forward:
        parts.append(grid_lines(ctx, -recovered, "clawback.recovered", **common))
    return Lines.concat(parts)
