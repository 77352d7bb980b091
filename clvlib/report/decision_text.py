"""The Pay plans section's sentences, in the report's language, from the decision's numbers
(``clvlib.decision.Decision``): the recommendation and its reasons, the noise, the transition, the
article's claim and the pilot. The analysis modules keep plain-English versions for the API; these are
the same statements built from catalogue templates so that a Chinese report says them in Chinese."""
from __future__ import annotations

import math

import pandas as pd


def _pct(fmt, x, d=0):
    return fmt.pct(x, d)


def recommendation_lines(t, fmt, sweep: pd.DataFrame, rec: dict, pay_params) -> list[str]:
    """The recommended weight, the rule and its reasons with the numbers."""
    if not rec:
        return []
    big, share = pay_params["big_loss"], pay_params["max_big_loser_share"]
    kept = sweep[sweep["big_losers_share"] <= share + 1e-12]["commission_weight"]
    dropped = sweep[sweep["big_losers_share"] > share + 1e-12]["commission_weight"]
    row = sweep.loc[(sweep["commission_weight"] - rec["weight"]).abs().idxmin()]
    span = lambda w: (f"{_pct(fmt, w.min())}–{_pct(fmt, w.max())}" if len(w) > 1 else _pct(fmt, w.iloc[0])) if len(w) else "–"
    out = [t("plans_report.recommend_sentence", weight=_pct(fmt, rec["weight"]), plan=rec["sweep_plan"],
             factor=fmt.num(row["factor"], 3)),
           t("plans_report.rule", max_share=_pct(fmt, share), big=_pct(fmt, big), tol=fmt.num(pay_params["corr_tolerance"], 2))]
    out.append(t("plans_report.reason_kept", kept=span(kept), dropped=span(dropped), big=_pct(fmt, big),
                 max_share=_pct(fmt, share)) if len(kept) else
               t("plans_report.reason_none_kept", big=_pct(fmt, big), max_share=_pct(fmt, share)))
    out.append(t("plans_report.reason_numbers", weight=_pct(fmt, rec["weight"]), corr_clv=fmt.num(row["corr_payout_clv_growth"], 2),
                 corr_rev=fmt.num(row["corr_payout_revenue"], 2), losers=fmt.num(row["losers_vs_current"]),
                 losers_share=_pct(fmt, row["losers_share"]), max_loss=_pct(fmt, row["max_loss_pct"]),
                 gini=fmt.num(row["gini"], 2)))
    return out


def noise_line(t, noise: pd.DataFrame, pairs: pd.DataFrame) -> str:
    return t("plans_report.noise_sentence", pairs_within=int(pairs["within_noise"].sum()), pairs=len(pairs),
             reps_within=int(noise["within_noise"].sum()), reps=len(noise))


def transition_line(t, fmt, plan: str, summary: dict) -> str:
    w = summary.get("window", {})
    return t("plans_report.transition_sentence", plan=plan, months=summary["months"], share=_pct(fmt, summary["share"]),
             cost=fmt.money(summary["cost"]), of_today=_pct(fmt, summary["share_of_today_cost"]),
             reps=fmt.num(summary["reps_protected"]), mean_months=fmt.num(summary["mean_months_protected"], 1),
             window_cost=fmt.money(w.get("cost")), window_reps=fmt.num(w.get("reps_protected")))


def claim_lines(t, fmt, claim: pd.DataFrame, current: str, hybrid: str) -> list[str]:
    """Pay share against value share of the reps commission flatters, under today's plan and the hybrid."""
    g = claim[claim["group"] == "flattered"].set_index("plan")
    if current not in g.index:
        return []
    c = g.loc[current]
    out = [t("plans_report.claim_line", plan=current, n=fmt.num(c["reps"]), pay_share=_pct(fmt, c["pay_share"]),
             value_share=_pct(fmt, c["value_share"]))]
    over = c["pay_share"] - c["value_share"]
    if over > 0.02 and hybrid in g.index:
        closed = (c["pay_share"] - g.loc[hybrid, "pay_share"]) / over
        out.append(t("plans_report.claim_verdict_yes", gap=fmt.num(100 * over, 0), closed=_pct(fmt, closed)))
        h = g.loc[hybrid]
        out.append(t("plans_report.claim_line", plan=hybrid, n=fmt.num(h["reps"]), pay_share=_pct(fmt, h["pay_share"]),
                     value_share=_pct(fmt, h["value_share"])))
    elif over <= 0.02:
        out.append(t("plans_report.claim_verdict_no"))
    return out


def pilot_lines(t, fmt, pilot: pd.DataFrame, pre_trend_alpha: float = 0.1) -> list[str]:
    """One verdict per outcome, then the few-teams caveat."""
    out = []
    for r in pilot.itertuples():
        name = t(f"plans_report.outcome.{r.outcome}")
        nd = 0 if r.outcome == "clv_change_built_1m" else 3
        num = (lambda v: fmt.money(v)) if nd == 0 else (lambda v: fmt.num(v, 3, signed=True))
        if not math.isnan(r.pre_trend_p) and r.pre_trend_p < pre_trend_alpha:
            out.append(t("plans_report.pilot_pretrend", outcome=name, pre=fmt.num(r.pre_trend_p, 2)))
        elif r.low <= 0 <= r.high:
            out.append(t("plans_report.pilot_cannot_tell", outcome=name))
        else:
            out.append(t("plans_report.pilot_effect_found", outcome=name, effect=num(r.effect), low=num(r.low),
                         high=num(r.high)))
    if len(pilot):
        r = pilot.iloc[0]
        out.append(t("plans_report.pilot_few_groups", groups=int(r["n_groups"]), min_p=fmt.num(1 / max(r["n_groups"], 1), 2),
                     df=max(int(r["n_groups"]) - 2, 1)))
    return out
