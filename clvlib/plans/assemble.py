"""The payout engine's inputs (:class:`~clvlib.plans.inputs.PayInputs`) from the workbook's stages.

Pure: tables in, ``PayInputs`` out. What each input is made of:

* ``orders``, ``credit``, ``reps``, ``quotas`` — the canonical tables as known on the as-of date;
* ``bridge`` — the KPI stage's customer-level CLV bridge lines (each rep's book, month by month);
* ``events`` — won / lost / retained customers (``clvlib.kpis.bridge.events``);
* ``team_figures`` — per team and month: ``clv_growth`` = the existing + new + lost parts of the
  bridge of its members' books (transfers between reps create no value), ``gross_margin`` = the
  gross margin of the documents dated in the month, credited to its members;
* ``collaboration`` — per person and month: ``points`` = the KPI ``collaboration_score`` (0–100) of a
  sales rep; a service or supply-chain colleague, who holds no accounts of their own and so has no
  score, gets the median points of their team's sales reps that month (they serve the whole team).
"""
from __future__ import annotations

import pandas as pd

from clvlib.plans.inputs import PayInputs, month_of, window

VALUE_PARTS = ("existing", "new", "lost")


def team_figures(bridge: pd.DataFrame, orders: pd.DataFrame, credit: pd.DataFrame, reps: pd.DataFrame,
                 months: list[str]) -> pd.DataFrame:
    """``month, team, clv_growth, gross_margin`` for every team and month of ``months``."""
    team = reps.set_index("rep_id")["team"]
    b = bridge[bridge["part"].isin(VALUE_PARTS) & bridge["month"].isin(months)]
    growth = b.assign(team=b["rep_id"].map(team)).groupby(["month", "team"])["amount"].sum()
    c = credit.merge(orders[["order_id", "order_date", "gross_margin_rc"]], on="order_id")
    c = c.assign(month=month_of(c["order_date"]), team=c["rep_id"].map(team),
                 gross_margin=c["gross_margin_rc"] * c["share"])
    margin = c[c["month"].isin(months)].groupby(["month", "team"])["gross_margin"].sum()
    grid = pd.MultiIndex.from_product([sorted(months), sorted(team.dropna().unique())], names=["month", "team"])
    out = pd.DataFrame({"clv_growth": growth.reindex(grid, fill_value=0.0),
                        "gross_margin": margin.reindex(grid, fill_value=0.0)})
    return out.round(2).reset_index()


def collaboration_points(kpi_table: pd.DataFrame, months: list[str], reps: pd.DataFrame) -> pd.DataFrame:
    """``month, rep_id, points``: the KPI ``collaboration_score`` of every sales rep and month, and for
    service and supply-chain colleagues the median points of their team's sales reps that month."""
    t = kpi_table[(kpi_table["level"] == "rep") & (kpi_table["measure"] == "collaboration_score")
                  & kpi_table["month"].isin(months)]
    sales = (t.rename(columns={"id": "rep_id", "value": "points"})[["month", "rep_id", "points"]]
             .fillna({"points": 0.0}))
    info = reps[["rep_id", "team", "role"]].fillna({"role": "sales"})
    team_median = (sales.merge(info, on="rep_id").query("role == 'sales'")
                   .groupby(["month", "team"])["points"].median().rename("points").reset_index())
    support = info[info["role"] != "sales"].merge(team_median, on="team")[["month", "rep_id", "points"]]
    support = support[~support.set_index(["month", "rep_id"]).index.isin(sales.set_index(["month", "rep_id"]).index)]
    out = pd.concat([sales, support], ignore_index=True)
    return out.sort_values(["month", "rep_id"]).reset_index(drop=True)


def pay_inputs(*, orders, credit, reps, quotas, bridge, events, kpi_table, period: str, months: int,
               switch: str | None = None, noise_lines=None) -> PayInputs:
    """The window of ``months`` months ending with ``period``, every table the plans may read;
    ``bridge_low`` (the bridge on the lower end of each rep's noise band: ``clvlib.noise.lower_end_bridge``)
    when ``noise_lines`` are given."""
    from clvlib.noise import lower_end_bridge

    window_months = window(period, months)
    low = lower_end_bridge(bridge, noise_lines, window_months) if noise_lines is not None and len(noise_lines) else None
    q = None
    if quotas is not None and len(quotas):
        q = quotas[["rep_id", "month", "quota"]].copy()
    return PayInputs(orders=orders, credit=credit, reps=reps, months=window_months, period=period, quotas=q,
                     bridge=bridge, bridge_low=low, events=events,
                     team_figures=team_figures(bridge, orders, credit, reps, window_months),
                     collaboration=collaboration_points(kpi_table, window_months, reps), switch=switch)
