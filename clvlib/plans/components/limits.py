"""Caps and floors: per component (``cap`` / ``floor`` of a component) and in total (``caps``).

A cap withholds the excess of a rep's month total over it (``cap.withheld``, negative, ``basis`` the
total before the cap); a floor tops the month total up to it (``floor.top_up``, positive) in every
month the rep is eligible and the component applies — pro-rated by the share of the month employed
with ``eligibility.prorate`` (a cap is not pro-rated). Component limits act on the component's lines
(after its weight and accelerators); total limits on all lines before holdbacks and the guarantee,
as component ``total``. A total floor with ``caps.carry: carry_forward`` does not forgive: its
top-up is carried (``floor.carried``) and recovered from later months' pay above the floor
(``floor.recovered``), so a negative month (CLV lost) is made good later instead of paid.
"""
from __future__ import annotations

import numpy as np

from clvlib.plans.components._common import STEPS, Context, Lines, cents, empty, grid_lines, grid_sum, money


def limit_lines(ctx: Context, subject: Lines, cap, floor, eligible: np.ndarray, component: str,
                entry: int, step: int) -> Lines:
    """Withheld and top-up lines for ``subject``'s rep-month totals against ``cap`` / ``floor``."""
    total = grid_sum(ctx, subject)
    parts = []
    if cap is None and floor is None:
        return empty()
    if cap is not None:
        cap_c = int(cents(cap)[()])
        withheld = np.where(total > cap_c, cap_c - total, 0)
        parts.append(grid_lines(ctx, withheld, "cap.withheld", component=component, basis=total / 100,
                                detail=f"cap {money(cap)} a month", step=step, entry=entry))
    if floor is not None:
        frac = ctx.fraction if ctx.plan.eligibility.prorate else np.ones_like(ctx.fraction)
        floor_c = cents(floor, frac)
        top_up = np.where(eligible & (total < floor_c), floor_c - total, 0)
        detail = np.array([[f"floor {money(floor)} a month x {f:g} of the month employed" for f in row]
                           for row in frac], dtype=object)
        parts.append(grid_lines(ctx, top_up, "floor.top_up", component=component, basis=total / 100,
                                detail=detail, step=step, entry=entry))
    return Lines.concat(parts)


def component_limits(comp, entry: int, entry_lines: Lines, ctx: Context) -> Lines:
    return limit_lines(ctx, entry_lines, comp.cap, comp.floor, ctx.eligible_grid(comp), comp.type, entry,
                       STEPS["limit"])


def total_limits(ctx: Context, all_lines: Lines) -> Lines:
    caps = ctx.plan.caps
    if caps.cap is None and caps.floor is None:
        return empty()
    out = limit_lines(ctx, all_lines, caps.cap, caps.floor, ctx.eligible_grid(None), "total", -1,
                      STEPS["total_limit"])
    if caps.floor is None or caps.carry == "forgive":
        return out
    return _carry_floor(ctx, out, grid_sum(ctx, all_lines))


def _carry_floor(ctx: Context, limits: Lines, total: np.ndarray) -> Lines:
    """``caps.carry: carry_forward``: a floor top-up becomes a balance, recovered from later months'
    pay above the floor (after the total cap)."""
    topped = limits.where(limits["rule"] == "floor.top_up")
    kept = limits.where(limits["rule"] != "floor.top_up")
    top_up = grid_sum(ctx, topped)
    after_cap = total + grid_sum(ctx, kept)
    frac = ctx.fraction if ctx.plan.eligibility.prorate else np.ones_like(ctx.fraction)
    floor_c = cents(ctx.plan.caps.floor, frac)
    eligible = ctx.eligible_grid(None)
    recovered = np.zeros_like(top_up)
    owed = np.zeros(len(ctx.rep_index), dtype=np.int64)
    for j in range(len(ctx.months)):
        room = np.where(eligible[:, j], np.maximum(after_cap[:, j] - floor_c[:, j], 0), 0)
        recovered[:, j] = np.minimum(owed, room)
        owed = owed - recovered[:, j] + top_up[:, j]
    common = dict(component="total", basis=after_cap / 100, step=STEPS["total_limit"], entry=-1,
                  detail=f"floor {money(ctx.plan.caps.floor)} a month, carried forward")
    return Lines.concat([kept, grid_lines(ctx, top_up, "floor.carried", **common),
                         grid_lines(ctx, -recovered, "floor.recovered", **common)])
