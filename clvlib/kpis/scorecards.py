"""Scorecards (one row per rep, one per team) for a month, the commission-rank-against-CLV-rank chart,
and the front page's headline figures with their change."""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.kpis.common import check_months, employed, month_ends, month_index, month_label

SCORECARD_KPIS = ["revenue_12m", "gross_margin_12m", "new_customers_12m", "avg_order_margin_12m", "repurchase_rate",
                  "retention_rate", "churn_rate", "nps", "nps_responses", "lifespan_months", "health_score",
                  "collaboration_score", "book_clv", "clv_change_existing", "clv_change_new", "clv_change_lost",
                  "commission_rank", "clv_rank"]
EXTRA_KPIS = ["clv_change_transferred", "clv_built_12m", "margin_pct", "invoices_12m", "nps_low", "nps_high",
              "nps_few_responses", "a_share_of_profit", "book_customers", "active_customers", "old_customers",
              "lifespan_observed_months", "overdue_receivables", "shared_accounts_12m", "shared_margin_12m",
              "handovers_given_12m", "handovers_received_12m", "handover_value_kept"]
#: counts and sums that are 0 (not missing) for a rep with no rows
ZERO_IF_ABSENT = ["revenue_12m", "gross_margin_12m", "new_customers_12m", "invoices_12m", "nps_responses",
                  "shared_accounts_12m", "shared_margin_12m", "handovers_given_12m", "handovers_received_12m"]
FRONT_PAGE = ["churn_rate", "retention_rate", "a_share_of_profit", "margin_pct", "lifespan_months"]


def _wide(long: pd.DataFrame, month: str, level: str) -> pd.DataFrame:
    x = long[(long["month"] == month) & (long["level"] == level)]
    return x.pivot_table(index="id", columns="measure", values="value", aggfunc="first")


def _fill(card: pd.DataFrame) -> pd.DataFrame:
    for c in SCORECARD_KPIS + EXTRA_KPIS:
        if c not in card:
            card[c] = np.nan
    card[ZERO_IF_ABSENT] = card[ZERO_IF_ABSENT].fillna(0.0)
    card["nps_few_responses"] = card["nps_few_responses"].where(card["nps"].notna(), 1.0)
    card["rank_gap"] = card["clv_rank"] - card["commission_rank"]
    return card


def scorecards(long: pd.DataFrame, month: str, reps: pd.DataFrame, as_of=None):
    """(rep_scorecard, team_scorecard) for ``month`` from the long KPI rows.

    rep_scorecard: ``rep_id, name, team, role, employed`` and one column per KPI (``SCORECARD_KPIS`` then
    ``EXTRA_KPIS``), plus ``rank_gap`` = clv_rank - commission_rank (positive: the rep looks better
    under commission than under CLV — a hunter; negative: a farmer). Every rep employed at the month end
    is listed, and any other rep with figures that month (e.g. revenue credited before leaving).
    team_scorecard: ``team`` and the same KPI columns.
    """
    month = check_months([month])[0]
    w = _wide(long, month, "rep")
    emp = set(employed(reps, month_ends([month], as_of), role=None)["rep_id"])
    r = reps[reps["rep_id"].isin(emp | set(w.index))][["rep_id", "name", "team", "role"]].copy()
    r["role"] = r["role"].fillna("sales")
    r["employed"] = r["rep_id"].isin(emp)
    card = _fill(r.merge(w, left_on="rep_id", right_index=True, how="left"))
    card = card[["rep_id", "name", "team", "role", "employed", *SCORECARD_KPIS, *EXTRA_KPIS, "rank_gap"]]
    card = card.sort_values(["commission_rank", "rep_id"], na_position="last").reset_index(drop=True)
    t = _wide(long, month, "team")
    team = _fill(pd.DataFrame({"team": sorted(set(reps["team"].dropna()) | set(t.index))}).merge(
        t, left_on="team", right_index=True, how="left"))
    team = team[["team", *SCORECARD_KPIS, *EXTRA_KPIS, "rank_gap"]].reset_index(drop=True)
    return card, team


def rank_chart(rep_scorecard: pd.DataFrame, *, title: str = "Commission rank against CLV rank",
               x_title: str = "Rank by revenue, last 12 months (commission)",
               y_title: str = "Rank by CLV built, last 12 months", better_label: str = "better by CLV",
               worse_label: str = "better by commission", same_label: str = "same rank"):
    """A scatter of the sales reps: commission rank (x) against CLV rank (y), 1 at the top left, with
    the diagonal. Above it are the reps who rank better by CLV built than by revenue (what a commission
    plan overlooks), below it those a commission plan flatters (hunters); the tooltip names the rep, team
    and both ranks. Titles and labels are arguments (the report translates)."""
    import altair as alt

    d = rep_scorecard.dropna(subset=["commission_rank", "clv_rank"])[
        ["rep_id", "name", "team", "commission_rank", "clv_rank", "revenue_12m", "clv_built_12m"]].copy()
    gap = d["clv_rank"] - d["commission_rank"]
    d["reading"] = np.where(gap < 0, better_label, np.where(gap > 0, worse_label, same_label))
    n = float(max(d["commission_rank"].max(), d["clv_rank"].max(), 1.0)) if len(d) else 1.0
    x_scale, y_scale = alt.Scale(domain=[0.5, n + 0.5]), alt.Scale(domain=[n + 0.5, 0.5])
    pts = alt.Chart(d).mark_circle(size=70, opacity=0.85).encode(
        x=alt.X("commission_rank:Q", title=x_title, scale=x_scale),
        y=alt.Y("clv_rank:Q", title=y_title, scale=y_scale),
        color=alt.Color("reading:N", title=None,
                        scale=alt.Scale(domain=[better_label, same_label, worse_label],
                                        range=["#3a9d6e", "#8c8c8c", "#c44e52"])),
        tooltip=[alt.Tooltip("name:N"), alt.Tooltip("team:N"), alt.Tooltip("commission_rank:Q", title=x_title),
                 alt.Tooltip("clv_rank:Q", title=y_title)])
    line = alt.Chart(pd.DataFrame({"a": [0.5, n + 0.5], "b": [0.5, n + 0.5]})).mark_line(
        color="#8c8c8c", strokeDash=[4, 4]).encode(x=alt.X("a:Q", scale=x_scale, title=x_title),
                                                    y=alt.Y("b:Q", scale=y_scale, title=y_title))
    return alt.layer(line, pts).properties(title=title, width=420, height=420)


def front_page(long: pd.DataFrame, month: str) -> pd.DataFrame:
    """The article's headline figures for ``month`` at the company level — old-customer churn and
    retention, the A tier's share of profit, margin, average customer lifespan — with their value a
    month and a year before and the changes: columns ``measure, value, previous_month, change_1m,
    year_ago, change_12m`` (missing where the month is not in ``long``)."""
    month = check_months([month])[0]
    i = month_index(month)
    comp = long[(long["level"] == "company") & long["measure"].isin(FRONT_PAGE)]
    v = comp.pivot_table(index="measure", columns="month", values="value", aggfunc="first")
    v = v.reindex(index=FRONT_PAGE)

    def col(m):
        return v[m] if m in v.columns else pd.Series(np.nan, index=v.index)

    out = pd.DataFrame({"measure": FRONT_PAGE, "value": col(month).to_numpy(),
                        "previous_month": col(month_label(i - 1)).to_numpy(),
                        "year_ago": col(month_label(i - 12)).to_numpy()})
    out["change_1m"] = out["value"] - out["previous_month"]
    out["change_12m"] = out["value"] - out["year_ago"]
    return out[["measure", "value", "previous_month", "change_1m", "year_ago", "change_12m"]]
