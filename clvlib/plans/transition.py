"""The transition to a plan with a guarantee: what the guarantee costs, who it protects and for how long,
and each rep's path from today's pay to the new plan, month by month.

Pure functions over the engine's lines (:func:`clvlib.plans.run_plan`) of the plan and of today's plan
(the guarantee's baseline) over the same window. The guarantee (:mod:`clvlib.plans.components.guarantee`)
applies for ``guarantee.months`` months from the switch (``PayInputs.switch``); in them nobody eligible
is paid less than ``guarantee.share`` x today's plan's month pay: the shortfall is a
``guarantee.top_up`` (kept) or a ``guarantee.draw`` (an advance, recovered by ``guarantee.recovery``
from later pay).

* :func:`guarantee_months` — the window's months under the guarantee;
* :func:`rep_paths` — per (rep, month): ``today`` (today's plan), ``before_guarantee`` (the new plan's
  pay without its guarantee lines), ``guarantee`` (top-ups and draws less recoveries), ``paid`` (the new
  plan's pay: ``before_guarantee + guarantee``, exactly), ``promised`` (``share x max(today, 0)`` in a
  guarantee month, else empty) — money in the reporting currency;
* :func:`paths_long` — the same as long rows (``rep_id, month, series, amount``) for a chart;
* :func:`protected_reps` — the reps with a guarantee line: months topped up, first and last such
  month, total top-up / draw, and what is still owed at the window's end (draws);
* :func:`guarantee_summary` — the guarantee's cost, its share of the plan's cost and of today's cost,
  reps protected, and their months;
* :func:`window_guarantee_cost` — for comparison, what the same promise would cost on the guarantee
  months' *total* instead of month by month (a plan whose pay swings from month to month — CLV
  growth with a carried floor — is topped up in its low months even when its total is above the
  promise; the engine's guarantee is monthly).

A guarantee's cost at the plan's rates depends on the rates: :func:`without_guarantee` gives the same
plan without it, so that the plan can be calibrated to today's cost first
(:func:`clvlib.plans.calibrate.budget_neutral_factor`) and the guarantee then costed on top at that
factor — the honest price of the transition.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import ParamsError
from clvlib.plans.inputs import months_between
from clvlib.plans.schema import Plan

GUARANTEE_RULES = ("guarantee.top_up", "guarantee.draw", "guarantee.recovery")
PATH_COLUMNS = ["rep_id", "month", "in_guarantee", "today", "before_guarantee", "guarantee", "paid", "promised"]
SERIES = ("today", "before_guarantee", "paid", "promised")


def without_guarantee(plan: Plan) -> Plan:
    """The same plan (same name and file) without its guarantee."""
    out = plan.model_copy(update={"guarantee": None})
    out._name, out._file = plan.name, plan.file
    return out


def _guarantee(plan: Plan):
    if plan.guarantee is None:
        raise ParamsError(f"{plan.file or plan.name}: the plan has no guarantee (a transition needs one)")
    return plan.guarantee


def guarantee_months(plan: Plan, months: list[str], switch: str) -> list[str]:
    """The months of ``months`` under the guarantee: ``guarantee.months`` months from ``switch``."""
    g = _guarantee(plan)
    return [m for m in months if 0 <= months_between(switch, m) < g.months]


def _grid(lines: pd.DataFrame, index: pd.MultiIndex) -> pd.Series:
    return lines.groupby(["rep_id", "month"])["amount_cents"].sum().reindex(index, fill_value=0).astype(np.int64)


def rep_paths(plan: Plan, plan_lines: pd.DataFrame, baseline_lines: pd.DataFrame, *, months: list[str],
              switch: str) -> pd.DataFrame:
    """Each rep's path month by month (:data:`PATH_COLUMNS`; see the module docstring).

    Rows: every person with a line of either plan, for every month of ``months``.
    """
    g = _guarantee(plan)
    inside = set(guarantee_months(plan, months, switch))
    p = plan_lines[plan_lines["month"].isin(months)]
    b = baseline_lines[baseline_lines["month"].isin(months)]
    reps = sorted(set(p["rep_id"]) | set(b["rep_id"]))
    index = pd.MultiIndex.from_product([reps, sorted(months)], names=["rep_id", "month"])
    is_g = p["rule"].isin(GUARANTEE_RULES)
    today, paid, guarantee = _grid(b, index), _grid(p, index), _grid(p[is_g], index)
    out = pd.DataFrame(index=index).reset_index()
    out["in_guarantee"] = out["month"].isin(inside).to_numpy()
    out["today"] = today.to_numpy() / 100
    out["before_guarantee"] = (paid - guarantee).to_numpy() / 100
    out["guarantee"] = guarantee.to_numpy() / 100
    out["paid"] = paid.to_numpy() / 100
    promised = _promised_cents(today.to_numpy(), g.share)
    out["promised"] = np.where(out["in_guarantee"], promised / 100, np.nan)
    return out[PATH_COLUMNS]


def _promised_cents(today_cents: np.ndarray, share: float) -> np.ndarray:
    """``share x max(today, 0)`` rounded to the cent as the engine rounds it."""
    from clvlib.plans.rounding import cents

    return cents(np.maximum(today_cents, 0) / 100, share)


def paths_long(paths: pd.DataFrame) -> pd.DataFrame:
    """:func:`rep_paths` as long rows ``rep_id, month, series, amount`` (series in :data:`SERIES`; no
    ``promised`` row outside the guarantee months) — small enough for a chart (reps x months x 4)."""
    long = paths.melt(id_vars=["rep_id", "month"], value_vars=list(SERIES), var_name="series", value_name="amount")
    return long[long["amount"].notna()].sort_values(["rep_id", "month", "series"], kind="stable").reset_index(drop=True)


def protected_reps(plan_lines: pd.DataFrame) -> pd.DataFrame:
    """The reps with a guarantee line: ``rep_id, months_protected`` (months with a top-up or draw),
    ``first_month, last_month, topped_up`` (sum of top-ups and draws), ``recovered`` (draws recovered,
    as a positive amount), ``owed_at_end`` (draws not yet recovered), money in the reporting currency;
    by the amount topped up, largest first."""
    cols = ["rep_id", "months_protected", "first_month", "last_month", "topped_up", "recovered", "owed_at_end"]
    g = plan_lines[plan_lines["rule"].isin(GUARANTEE_RULES)]
    paid = g[g["rule"] != "guarantee.recovery"]
    paid = paid[paid["amount_cents"] > 0]
    if not len(paid):
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("rep_id", "first_month", "last_month") else float)
                             for c in cols})
    by = paid.groupby("rep_id")
    out = pd.DataFrame({"months_protected": by["month"].nunique(), "first_month": by["month"].min(),
                        "last_month": by["month"].max(), "topped_up": by["amount_cents"].sum() / 100})
    rec = g[g["rule"] == "guarantee.recovery"].groupby("rep_id")["amount_cents"].sum()
    out["recovered"] = -rec.reindex(out.index).fillna(0) / 100 + 0.0       # + 0.0: no "-0.0"
    draws = g[g["rule"] == "guarantee.draw"].groupby("rep_id")["amount_cents"].sum().reindex(out.index).fillna(0) / 100
    out["owed_at_end"] = (draws - out["recovered"]).clip(lower=0)
    out = out.reset_index().sort_values(["topped_up", "rep_id"], ascending=[False, True], kind="stable")
    return out[cols].reset_index(drop=True)


def guarantee_summary(plan: Plan, plan_lines: pd.DataFrame, baseline_lines: pd.DataFrame, *, months: list[str],
                      switch: str) -> dict:
    """The guarantee in numbers over ``months`` (money in the reporting currency).

    Keys: ``kind, share, months`` (the plan's settings), ``guarantee_months`` (the window's months under
    it), ``cost`` (the sum of its lines: top-ups and draws less recoveries), ``plan_cost`` (everything
    the plan pays), ``share_of_plan_cost`` (cost / plan_cost), ``today_cost`` (today's plan),
    ``share_of_today_cost``, ``reps_protected`` (reps with a top-up or draw), ``rep_months_protected``,
    ``mean_months_protected`` (over the protected reps), ``owed_at_end`` (draws not yet recovered),
    ``people_in_guarantee`` (people today's plan pays something in a guarantee month).
    """
    g = _guarantee(plan)
    inside = guarantee_months(plan, months, switch)
    p = plan_lines[plan_lines["month"].isin(months)]
    b = baseline_lines[baseline_lines["month"].isin(months)]
    cost = p.loc[p["rule"].isin(GUARANTEE_RULES), "amount_cents"].sum() / 100
    plan_cost, today_cost = p["amount_cents"].sum() / 100, b["amount_cents"].sum() / 100
    prot = protected_reps(p)
    return {"kind": g.kind, "share": g.share, "months": g.months, "guarantee_months": inside,
            "cost": round(float(cost), 2), "plan_cost": round(float(plan_cost), 2),
            "share_of_plan_cost": float(cost / plan_cost) if plan_cost else float("nan"),
            "today_cost": round(float(today_cost), 2),
            "share_of_today_cost": float(cost / today_cost) if today_cost else float("nan"),
            "reps_protected": int(len(prot)), "rep_months_protected": int(prot["months_protected"].sum()),
            "mean_months_protected": float(prot["months_protected"].mean()) if len(prot) else 0.0,
            "owed_at_end": round(float(prot["owed_at_end"].sum()), 2),
            "people_in_guarantee": int(b[b["month"].isin(inside)].groupby("rep_id")["amount_cents"].sum()
                                       .gt(0).sum())}


def window_guarantee_cost(paths: pd.DataFrame, share: float) -> dict:
    """What a guarantee on the guarantee months' total would cost, from :func:`rep_paths`.

    Per rep over the months ``in_guarantee``: ``max(0, share x max(sum of today, 0) - sum of
    before_guarantee)``, rounded to the cent. Returns ``cost`` (the sum, reporting currency),
    ``reps_protected`` (reps with a positive top-up) and ``monthly_cost`` (the sum of the paths'
    ``guarantee`` column over the same months, for comparison). Not a rule of the engine: an
    estimate for the report's discussion of the guarantee's design.
    """
    from clvlib.plans.rounding import cents

    g = paths[paths["in_guarantee"]]
    if not len(g):
        return {"cost": 0.0, "reps_protected": 0, "monthly_cost": 0.0}
    per = g.groupby("rep_id")[["today", "before_guarantee", "guarantee"]].sum()
    promised = cents(np.maximum(per["today"].to_numpy(), 0), share)
    before = np.round(per["before_guarantee"].to_numpy() * 100).astype(np.int64)
    short = np.maximum(promised - before, 0)
    return {"cost": float(short.sum()) / 100, "reps_protected": int((short > 0).sum()),
            "monthly_cost": round(float(per["guarantee"].sum()), 2)}


def rep_totals(paths_long: pd.DataFrame) -> pd.DataFrame:
    """Each rep's path over the window in totals, from :func:`paths_long`: ``rep_id, today,
    before_guarantee, paid, topped_up`` (= paid - before_guarantee) and ``change`` (= paid - today),
    largest top-up first."""
    t = paths_long[paths_long["series"].isin(["today", "before_guarantee", "paid"])]
    w = t.pivot_table(index="rep_id", columns="series", values="amount", aggfunc="sum", fill_value=0.0)
    w = w.reindex(columns=["today", "before_guarantee", "paid"], fill_value=0.0)
    w.columns.name = None
    w["topped_up"] = w["paid"] - w["before_guarantee"]
    w["change"] = w["paid"] - w["today"]
    return w.sort_values(["topped_up", "today"], ascending=False).reset_index()
