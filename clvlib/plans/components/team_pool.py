"""Team pool: a share of the team's month figure (CLV growth of its book, or gross margin credited to
its reps), split among the team's eligible members — service and supply-chain colleagues included
when the component's ``roles`` say so (the article's team rewards).

**Base**: per (team, month) where the component applies and the figure is positive (no negative
pool), the members of the team (``reps.team``) of the paid roles employed in the month. A member's
weight is ``collaboration points x role_points[role]`` (default 1), x the share of the month employed
with ``eligibility.prorate``; ``split: equal`` gives every member the same weight (x the share
employed). A team-month where nobody has points is split equally (the line's detail says so).

**Pricing**: one line per member, ``team_pool.<of>``, source ``team_month`` (``<team> <month>``):
``amount = team figure (basis) x share x rate_factor (rate) x weight x member's split share``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import DataError
from clvlib.plans.components._common import STEPS, Context, Lines, base_template, cents

COMPONENT = "team_pool"


def base(comp, entry: int, ctx: Context) -> Lines:
    tf = ctx.inputs.team_figures
    if tf is None:
        raise DataError("team_pool needs PayInputs.team_figures")
    pools = tf[["month", "team", comp.of]].rename(columns={comp.of: "figure"}).copy()
    pools["month"] = pools["month"].astype(str)
    if pools["figure"].isna().any():
        raise DataError(f"team_figures: no {comp.of} for team {pools.loc[pools['figure'].isna(), 'team'].iloc[0]}")
    pools = pools[pools["month"].isin(ctx.months) & (pools["figure"] > 0)]
    pools = pools[[comp.active(m) for m in pools["month"]]] if len(pools) else pools
    emp = ctx.employment
    emp = emp[emp["role"].isin(ctx.roles(comp)) & (emp["fraction"] > 0)]
    m = pools.merge(emp, on=["month", "team"], how="inner")
    m = m.sort_values(["month", "team", "rep_id"], kind="stable").reset_index(drop=True)
    scale = m["fraction"] if ctx.plan.eligibility.prorate else pd.Series(1.0, index=m.index)
    if comp.split == "points":
        collab = ctx.inputs.collaboration
        if collab is None:
            raise DataError("team_pool (split: points) needs PayInputs.collaboration")
        c = collab[["month", "rep_id", "points"]].assign(month=lambda d: d["month"].astype(str))
        c = c.groupby(["month", "rep_id"], as_index=False)["points"].sum()
        m = m.merge(c, on=["month", "rep_id"], how="left")
        m["points"] = m["points"].fillna(0.0).clip(lower=0)
        factor = m["role"].map(lambda r: comp.role_points.get(r, 1.0)).astype(float)
        w = m["points"] * factor * scale
    else:
        m["points"] = 0.0
        w = scale.copy()
    key = [m["month"], m["team"]]
    total = w.groupby(key).transform("sum")
    no_points = total <= 0
    w = w.where(~no_points, scale)
    total = w.groupby(key).transform("sum")
    m["share"] = (w / total).astype(float)
    m["detail"] = np.where(no_points, [f"team {t}: nobody has collaboration points, equal split" for t in m["team"]],
                           [f"team {t}: weight {a:g} of {b:g}" for t, a, b in zip(m["team"], w, total)])
    m = m[m["share"] > 0].reset_index(drop=True)
    return base_template(ctx, m, rule=f"team_pool.{comp.of}", source_type="team_month",
                         source_id=(m["team"].astype(str) + " " + m["month"]).to_numpy(dtype=object),
                         step=STEPS["base"], entry=entry, component=COMPONENT, basis=m["figure"].astype(float),
                         share=m["share"], detail=m["detail"])


def price(comp, entry: int, t: Lines, ctx: Context, factor: float, weight: float) -> Lines:
    rate = comp.share * factor
    return t.replace(rate=rate, weight=weight, amount_cents=cents(t["basis"], rate, weight, t["share"]))
