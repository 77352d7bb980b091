"""The article's claim, tested on the backtest: does pure commission pay the hunters more than the value
they build, and does the hybrid correct it?

Pure functions over the engine's lines (every plan over the backtest window) and the compared reps'
figures (:func:`clvlib.plans.backtest.rep_figures`: ``clv_built`` — the existing, new and lost parts
of the rep's CLV bridge over the window — and ``revenue`` credited).

**Value and pay shares.** For a group of reps and a plan: ``pay_share`` = the group's pay over the
window / the pay of all compared reps; ``value_share`` = the group's CLV built / the CLV built by all
compared reps (negative when the group's books lost value on balance); ``revenue_share`` likewise.
A group paid more than the value it builds has ``pay_share > value_share``. Shares do not depend on
the plan's budget, so plans of different cost compare. ``pay_to_value`` = pay_share / value_share
(pay per unit of value built, relative to the team's; empty when the value share is not positive).

**Ranks.** ``clv_rank`` (1 = most CLV built), ``commission_rank`` (1 = most revenue credited: what a
commission on revenue pays for) and, per plan, ``pay_rank`` (1 = best paid), across the compared reps,
ties sharing the best rank. ``rank_gap`` = clv_rank - pay_rank: positive when the plan ranks the rep
higher in pay than the value the rep built does. A rep *commission flatters* has clv_rank -
commission_rank > 0.

**Groups.** Always: reps commission flatters against the others (from the data alone — note that
under a commission plan this group is overpaid by construction; the question is what the other plans
do with it). With ``archetypes`` (the demo's truth, ``hunter | farmer | balanced``): by archetype.

:func:`hunter_claim` returns the per-rep table, the group table and plain-English findings that say
what the numbers show, including where they do not support the article.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvlib.errors import ParamsError
from clvlib.plans.backtest import rep_pay

GROUP_COLUMNS = ["plan", "grouping", "group", "reps", "pay_share", "value_share", "revenue_share", "pay_to_value",
                 "mean_rank_gap"]
LABELS = {"hunter": "hunters", "farmer": "farmers", "balanced": "balanced reps"}
#: a group paid within this many percentage points of its value share is "paid about the value it builds"
ABOUT = 0.05


@dataclass
class HunterClaim:
    """The claim's analysis: ``reps`` (one row per compared rep and plan), ``groups`` (:data:`GROUP_COLUMNS`),
    ``findings`` (sentences), and the plans compared."""

    reps: pd.DataFrame
    groups: pd.DataFrame
    findings: list[str] = field(default_factory=list)
    commission_plan: str = ""
    hybrid_plan: str = ""
    clv_only_plan: str | None = None


def _ranks(x: pd.Series) -> pd.Series:
    return x.rank(ascending=False, method="min")


def claim_reps(lines: pd.DataFrame, figures: pd.DataFrame, archetypes=None) -> pd.DataFrame:
    """One row per (plan, compared rep): ``plan, rep_id, archetype, flattered, clv_built, revenue,
    clv_rank, commission_rank, pay, pay_rank, rank_gap`` (money in the reporting currency)."""
    pay = rep_pay(lines).reindex(figures.index).fillna(0) / 100
    base = pd.DataFrame({"rep_id": figures.index, "clv_built": figures["clv_built"].astype(float),
                         "revenue": figures["revenue"].astype(float)})
    base["archetype"] = (pd.Series(archetypes).reindex(figures.index).to_numpy() if archetypes is not None
                         else None)
    base["clv_rank"] = _ranks(base["clv_built"])
    base["commission_rank"] = _ranks(base["revenue"])
    base["flattered"] = base["clv_rank"] - base["commission_rank"] > 0
    parts = []
    for plan in pay.columns:
        p = base.assign(plan=plan, pay=pay[plan].to_numpy())
        p["pay_rank"] = _ranks(p["pay"])
        p["rank_gap"] = p["clv_rank"] - p["pay_rank"]
        parts.append(p)
    cols = ["plan", "rep_id", "archetype", "flattered", "clv_built", "revenue", "clv_rank", "commission_rank", "pay",
            "pay_rank", "rank_gap"]
    return pd.concat(parts, ignore_index=True)[cols]


def claim_groups(reps: pd.DataFrame) -> pd.DataFrame:
    """The group table (:data:`GROUP_COLUMNS`) of :func:`claim_reps`' rows."""
    rows = []
    groupings = [("commission_flatters", reps["flattered"].map({True: "flattered", False: "others"}))]
    if reps["archetype"].notna().any():
        groupings.append(("archetype", reps["archetype"].fillna("unknown")))
    for plan, r in reps.groupby("plan", sort=False):
        totals = r[["pay", "clv_built", "revenue"]].sum()
        for grouping, labels in groupings:
            for group, g in r.groupby(labels.loc[r.index], sort=True):
                pay_s = _share(g["pay"].sum(), totals["pay"])
                val_s = _share(g["clv_built"].sum(), totals["clv_built"])
                rows.append({"plan": plan, "grouping": grouping, "group": group, "reps": len(g), "pay_share": pay_s,
                             "value_share": val_s, "revenue_share": _share(g["revenue"].sum(), totals["revenue"]),
                             "pay_to_value": pay_s / val_s if val_s > 0 else np.nan,
                             "mean_rank_gap": float(g["rank_gap"].mean())})
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def _share(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def hunter_claim(lines: pd.DataFrame, figures: pd.DataFrame, *, commission_plan: str, hybrid_plan: str,
                 clv_only_plan: str | None = None, archetypes=None) -> HunterClaim:
    """The claim tested (see the module docstring).

    Parameters
    ----------
    lines : DataFrame
        Every plan's lines over the window (the same budget is not needed: shares are compared).
    figures : DataFrame
        :func:`clvlib.plans.backtest.rep_figures` of the window.
    commission_plan, hybrid_plan : str
        The pure-commission plan (today's) and the article's hybrid.
    clv_only_plan : str, optional
        A plan paying only for CLV (the bound: what paying for value alone does).
    archetypes : mapping or Series, optional
        rep_id -> hunter | farmer | balanced (the demo's truth); without it the "flattered" grouping
        stands in for hunters.
    """
    names = set(lines["plan"])
    for role, name in (("commission_plan", commission_plan), ("hybrid_plan", hybrid_plan),
                       ("clv_only_plan", clv_only_plan)):
        if name is not None and name not in names:
            raise ParamsError(f"hunter_claim: {role} {name!r} has no lines (plans: {', '.join(sorted(names))})")
    reps = claim_reps(lines, figures, archetypes)
    groups = claim_groups(reps)
    findings = _findings(groups, commission_plan, hybrid_plan, clv_only_plan)
    return HunterClaim(reps=reps, groups=groups, findings=findings, commission_plan=commission_plan,
                       hybrid_plan=hybrid_plan, clv_only_plan=clv_only_plan)


# ------------------------------------------------------------------ the findings in words
def _row(groups, plan, grouping, group):
    r = groups[(groups["plan"] == plan) & (groups["grouping"] == grouping) & (groups["group"] == group)]
    return None if not len(r) else r.iloc[0]


def _places(gap: float) -> str:
    """'5.8 places higher in pay than in value built' (a mean rank gap)."""
    return f"{abs(gap):.1f} places {'higher' if gap >= 0 else 'lower'} in pay than in value built"


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def _findings(groups, commission: str, hybrid: str, clv_only: str | None) -> list[str]:
    archetypes = set(groups.loc[groups["grouping"] == "archetype", "group"])
    if "hunter" in archetypes:
        grouping, target, label = "archetype", "hunter", LABELS["hunter"]
    else:
        grouping, target, label = "commission_flatters", "flattered", "the reps commission flatters"
    out = []
    c, h = _row(groups, commission, grouping, target), _row(groups, hybrid, grouping, target)
    if c is None:
        return [f"There are no {label} among the compared reps: the claim cannot be tested on this data."]
    over = c["pay_share"] - c["value_share"]
    lost_value = " (their books lost value on balance)" if c["value_share"] < 0 else ""
    head = (f"Under the pure commission plan ({commission}) {label} ({int(c['reps'])} reps) get {_pct(c['pay_share'])} "
            f"of the pay and built {_pct(c['value_share'])} of the CLV built{lost_value}; ")
    if over > ABOUT:
        why = (" (by construction: these are the reps whose revenue ranks better than their CLV built)"
               if grouping == "commission_flatters" else ", as the article says")
        out.append(head + f"commission pays them more than the value they build{why}. On average it ranks them "
                          f"{_places(c['mean_rank_gap'])}.")
    else:
        out.append(head + "so on this data commission does not pay them clearly more than the value they build: "
                          "the data does not support the article here.")
    b = _row(groups, clv_only, grouping, target) if clv_only else None
    if h is not None and over > ABOUT:
        closed = (c["pay_share"] - h["pay_share"]) / over
        verdict = ("corrects it" if closed >= 0.9 else "corrects part of it" if closed > 0.1
                   else "does not correct it")
        s = (f"The hybrid ({hybrid}) gives them {_pct(h['pay_share'])} of the pay: it {verdict} ({closed:.0%} of "
             f"the gap between their pay share and their value share closed; the rank gap goes from "
             f"{c['mean_rank_gap']:.1f} to {h['mean_rank_gap']:.1f} places).")
        if closed < 0.9:
            s += (" Its commission part still pays for what is sold, and its floor means nobody is paid less than "
                  "nothing in a month: value lost can only be taken back from later pay.")
        out.append(s)
        if b is not None and c["pay_share"] > b["pay_share"]:
            part = (c["pay_share"] - h["pay_share"]) / (c["pay_share"] - b["pay_share"])
            out.append(f"Paying for CLV alone ({clv_only}) gives them {_pct(b['pay_share'])}, so the hybrid goes "
                       f"{part:.0%} of the way from commission to that. No plan that never pays below zero can bring "
                       f"a group's pay share down to its value share when that is "
                       f"{'below zero' if b['value_share'] < 0 else 'this small'}.")
    if grouping == "archetype":
        out += _other_archetypes(groups, commission, hybrid, sorted(archetypes - {"hunter"}))
    return out


def _other_archetypes(groups, commission: str, hybrid: str, others: list[str]) -> list[str]:
    out = []
    for a in others:
        c, h = _row(groups, commission, "archetype", a), _row(groups, hybrid, "archetype", a)
        gap = c["pay_share"] - c["value_share"]
        how = ("about the value they build" if abs(gap) <= ABOUT else
               "more than the value they build" if gap > 0 else "less than the value they build")
        s = (f"{LABELS.get(a, a + ' reps').capitalize()} ({int(c['reps'])} reps) get {_pct(c['pay_share'])} of the "
             f"commission pay and built {_pct(c['value_share'])} of the CLV: commission pays them {how} (on average "
             f"it ranks them {_places(c['mean_rank_gap'])})")
        if a == "farmer" and gap >= -ABOUT:
            s += "; the article's picture of farmers underpaid by commission is not borne out here"
        if h is not None:
            closer = abs(h["pay_share"] - h["value_share"]) < abs(gap) - 1e-12
            s += (f". The hybrid gives them {_pct(h['pay_share'])}, "
                  + ("closer to their value share." if closer else "further from their value share."))
            if a == "farmer" and not closer:
                s += " The hybrid does not help farmers on this data."
        else:
            s += "."
        out.append(s)
    return out
