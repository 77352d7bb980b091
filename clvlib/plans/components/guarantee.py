"""Transition guarantee: for ``months`` months from the switch (``PayInputs.switch``), nobody eligible
gets less than ``share`` of what today's plan (the ``baseline`` lines) would have paid them that month.

The guaranteed amount is ``share x`` the baseline's month total for the rep (nothing when that is not
positive); it needs no pro-rating of its own, since the baseline already pays only for the days
worked. ``kind: top_up`` pays the shortfall as ``guarantee.top_up`` (kept). ``kind: draw`` pays it as
``guarantee.draw``, an advance: the balance is recovered (``guarantee.recovery``) from the part of
later pay above the guaranteed amount during the guarantee months, and from any positive pay after
them; what is left when the window ends (or the rep leaves) is the sum of draw and recovery lines.
Lines compare the rep's month total of this plan after everything else (holdbacks included).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import ParamsError
from clvlib.plans.components._common import STEPS, Context, Lines, cents, empty, grid_lines, grid_sum, money
from clvlib.plans.inputs import months_between

COMPONENT = "guarantee"


def guarantee_lines(ctx: Context, all_lines: Lines, baseline: pd.DataFrame | None) -> Lines:
    g = ctx.plan.guarantee
    if g is None:
        return empty()
    if baseline is None:
        raise ParamsError(f"{ctx.plan.file or ctx.plan.name}: guarantee: needs the baseline plan's lines "
                          "(run_plan(..., baseline=lines of today's plan))")
    base_pay = baseline_grid(ctx, baseline)
    pay = grid_sum(ctx, all_lines)
    since = np.array([months_between(ctx.inputs.switch, m) for m in ctx.months])
    inside = (since >= 0) & (since < g.months)
    eligible = ctx.eligible_grid(None)
    promised = cents(np.maximum(base_pay, 0) / 100, g.share)
    short = np.where(eligible & inside[None, :] & (pay < promised), promised - pay, 0)
    detail = np.array([[f"today's plan {money(b_ / 100)} x {g.share:g} = {money(p_ / 100)}; this plan {money(t / 100)}"
                        for b_, p_, t in zip(brow, prow, trow)]
                       for brow, prow, trow in zip(base_pay, promised, pay)], dtype=object)
    common = dict(component=COMPONENT, basis=base_pay / 100, rate=g.share, detail=detail, step=STEPS["guarantee"])
    if g.kind == "top_up":
        return grid_lines(ctx, short, "guarantee.top_up", **common)
    recovery = np.zeros_like(pay)
    owed = np.zeros(len(ctx.rep_index), dtype=np.int64)
    for j in range(len(ctx.months)):
        room = np.where(inside[j], pay[:, j] - promised[:, j], pay[:, j])
        room = np.where(eligible[:, j], np.maximum(room, 0), 0)
        recovery[:, j] = np.minimum(owed, room)
        owed = owed - recovery[:, j] + short[:, j]
    return Lines.concat([grid_lines(ctx, short, "guarantee.draw", **common),
                         grid_lines(ctx, -recovery, "guarantee.recovery", **common)])


def baseline_grid(ctx: Context, baseline: pd.DataFrame) -> np.ndarray:
    """The baseline's pay per (rep, month) of the window, in cents."""
    b = baseline[baseline["month"].isin(ctx.months) & baseline["rep_id"].isin(ctx.rep_index)]
    out = np.zeros((len(ctx.rep_index), len(ctx.months)), dtype=np.int64)
    r, c = ctx.positions(b["rep_id"], b["month"])
    np.add.at(out, (r, c), b["amount_cents"].to_numpy(dtype=np.int64))
    return out
