"""CLV-growth bonus: rates on the parts of each rep's monthly CLV bridge, weighted by customer tier.

**Base**: the customer-level bridge lines (``PayInputs.bridge``; ``bridge_low`` — the lower end of the
CLV interval — with ``basis: lower``) of eligible rep-months where the component applies, for parts
with a rate and tiers with a weight (``tier_weights``; a tier not listed weighs 0; no
``tier_weights``: 1 for every customer). Bridge amounts are already x the rep's book share, and the
``lost`` part is negative (a lost customer's CLV leaves the book), so a rate on it is a deduction.

**Pricing**: one line per bridge line, ``clv_growth.<part>``, source ``customer``:
``amount = bridge amount x rate[part] x tier_weight[tier] x rate_factor x weight`` (``rate`` shows
``rate[part] x tier_weight x rate_factor``).
"""
from __future__ import annotations

from clvlib.errors import DataError
from clvlib.plans.components._common import STEPS, Context, Lines, base_template, cents

COMPONENT = "clv_growth"
PARTS = ("existing", "new", "lost", "transferred")


def base(comp, entry: int, ctx: Context) -> dict:
    bridge = ctx.inputs.bridge_low if comp.basis == "lower" else ctx.inputs.bridge
    if bridge is None:
        raise DataError(f"clv_growth (basis: {comp.basis}) needs PayInputs.{'bridge_low' if comp.basis == 'lower' else 'bridge'}")
    b = bridge[["month", "rep_id", "customer_id", "part", "amount", "tier"]].copy()
    b["month"] = b["month"].astype(str)
    b = ctx.keep_month_lines(b, comp)
    if b["amount"].isna().any():
        raise DataError(f"bridge: {int(b['amount'].isna().sum())} line(s) without an amount (e.g. customer "
                        f"{b.loc[b['amount'].isna(), 'customer_id'].iloc[0]})")
    rates = {p: getattr(comp.rates, p) for p in PARTS}
    b["part_rate"] = b["part"].map(rates).fillna(0.0).astype(float)
    if comp.tier_weights is None:
        b["tier_weight"] = 1.0
    else:
        b["tier_weight"] = b["tier"].map(comp.tier_weights).fillna(0.0).astype(float)
    b = b[(b["part_rate"] > 0) & (b["tier_weight"] > 0) & (b["amount"] != 0)]
    b = b.sort_values(["month", "rep_id", "customer_id", "part"], kind="stable").reset_index(drop=True)
    detail = [f"tier {t}: {p} rate {r:g} x tier weight {w:g}"
              for t, p, r, w in zip(b["tier"], b["part"], b["part_rate"], b["tier_weight"])]
    lines = base_template(ctx, b, rule=("clv_growth." + b["part"].astype(str)).to_numpy(dtype=object),
                          source_type="customer", source_id=b["customer_id"], step=STEPS["base"], entry=entry,
                          component=COMPONENT, basis=b["amount"], detail=detail, customer_id=b["customer_id"])
    return {"lines": lines, "unit_rate": (b["part_rate"] * b["tier_weight"]).to_numpy(dtype=float)}


def price(comp, entry: int, base_: dict, ctx: Context, factor: float, weight: float) -> Lines:
    t = base_["lines"]
    rate = base_["unit_rate"] * factor
    return t.replace(rate=rate, weight=weight, amount_cents=cents(t["basis"], rate, weight))
