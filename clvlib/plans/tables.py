"""What the Pay section shows, from the payouts (sums of lines) of one month.

Pure functions: ``payouts`` rows are ``plan, month, rep_id, component, amount_cents, amount``
(``clvlib.plans.payouts``); every figure below is a sum of them, so it traces to the lines.
"""
from __future__ import annotations

import pandas as pd


def plan_components(payouts: pd.DataFrame) -> pd.DataFrame:
    """One row per plan: each component's amount, the total, and the number of people paid (≠ 0)."""
    comp = payouts.pivot_table(index="plan", columns="component", values="amount_cents", aggfunc="sum", fill_value=0)
    comp.columns.name = None
    people = payouts.groupby(["plan", "rep_id"])["amount_cents"].sum()
    paid = (people != 0).groupby(level="plan").sum()
    out = comp / 100
    out["total"] = comp.sum(axis=1) / 100
    out["people_paid"] = paid.reindex(out.index).fillna(0).astype(int)
    return out.reset_index()


def by_team(payouts: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Pay per team (rows) and plan (columns)."""
    p = payouts.merge(reps[["rep_id", "team"]], on="rep_id", how="left")
    t = p.pivot_table(index="team", columns="plan", values="amount_cents", aggfunc="sum", fill_value=0) / 100
    t.columns.name = None
    return t.reset_index()


def by_rep(payouts: pd.DataFrame, reps: pd.DataFrame, current: str) -> pd.DataFrame:
    """Pay per person under every plan (one column per plan), today's plan first, with each plan's
    difference from today's (``<plan>_vs_current``); sorted by today's pay, largest first."""
    t = payouts.pivot_table(index="rep_id", columns="plan", values="amount_cents", aggfunc="sum", fill_value=0) / 100
    t.columns.name = None
    plans = [current] + [c for c in t.columns if c != current]
    t = t.reindex(columns=plans, fill_value=0.0)
    for p in plans[1:]:
        t[f"{p}_vs_current"] = t[p] - t[current]
    out = reps[["rep_id", "name", "team", "role"]].merge(t.reset_index(), on="rep_id", how="inner")
    return out.sort_values([current, "rep_id"], ascending=[False, True]).reset_index(drop=True)


def monthly_totals(payouts: pd.DataFrame) -> pd.DataFrame:
    """Each plan's total pay per month: ``month, plan, amount``."""
    g = payouts.groupby(["month", "plan"], as_index=False)["amount_cents"].sum()
    return g.assign(amount=g["amount_cents"] / 100).drop(columns="amount_cents")


def plan_catalogue(plans: dict, lang: str) -> pd.DataFrame:
    """``plan, title, description`` of every plan (``Pay.plans``), in the report's language."""
    rows = [{"plan": name, "title": meta["title"].get(lang) or meta["title"]["en"],
             "description": (meta.get("description") or {}).get(lang) or (meta.get("description") or {}).get("en", "")}
            for name, meta in sorted(plans.items())]
    return pd.DataFrame(rows, columns=["plan", "title", "description"])
