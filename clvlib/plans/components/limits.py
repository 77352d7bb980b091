"""Caps and floors: per component (``cap`` / ``floor`` of a component) and in total (``caps``).

A cap withholds the excess of a rep's month total over it (``cap.withheld``, negative, ``basis`` the
total before the cap); a floor tops the month total up to it (``floor.top_up``, positive) in every
month the rep is eligible and the component applies — pro-rated by the share of the month employed
with ``eligibility.prorate`` (a cap is not pro-rated). Component limits act on the component's lines
(after its weight and accelerators); total limits on all lines before holdbacks and the guarantee,
as component ``total``.
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
    return limit_lines(ctx, all_lines, caps.cap, caps.floor, ctx.eligible_grid(None), "total", -1,
                       STEPS["total_limit"])
