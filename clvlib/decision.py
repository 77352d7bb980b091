"""The decision: every plan compared on the company's own history, at its own rates and at equal cost;
the commission weight swept and a weight recommended; the transition of guarantee plans; the
article's claim about the reps commission flatters; the noise band of CLV-based pay (the bands of CLV
built and ranks are the ``noise`` stage's); the pilot.

Pure composition of the modules that compute each part (``clvlib.plans.backtest``, ``calibrate``,
``transition``, ``claims``, ``clvlib.pilot``) over the payouts stage's window — never
by re-running notebooks. :func:`decide` returns a :class:`Decision`; the ``backtest`` stage saves it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PILOT_OUTCOMES = ("retention_rate", "repurchase_rate", "margin_pct", "clv_change_built_1m")

@dataclass
class Decision:
    """What the Pay plans section shows (every table is also a file of the ``backtest`` stage)."""

    comparison: pd.DataFrame             # one row per (basis, plan): plan rates and equal cost
    calibration: pd.DataFrame            # plan, factor, cost, target, gap_cents, exact, evaluations
    reps: pd.DataFrame                   # per (plan, rep) at equal cost: pay, today, change, loser ...
    sweep: pd.DataFrame                  # the commission-weight sweep of ``sweep_plan``
    recommendation: dict                 # weight, reasons, sweep_plan, rule
    transition: dict                     # plan -> {summary, protected (DataFrame), paths (DataFrame)}
    claim: pd.DataFrame                  # groups table of the hunters claim (commission flatters / not)
    pay_bands: pd.DataFrame              # per rep: the sweep plan's CLV-growth pay and its noise band
    pilot: pd.DataFrame                  # one row per outcome (empty without a pilot)
    pilot_events: pd.DataFrame           # event-study coefficients per outcome
    notes: list[str] = field(default_factory=list)


def _calibrate_all(plans, inputs, baseline, current):
    """Budget-neutral factor of every plan, and every plan's lines at equal cost."""
    from clvlib.plans import base_lines, run_plan
    from clvlib.plans.calibrate import budget_neutral_factor

    target = int(baseline["amount_cents"].sum())
    rows, lines = [], [baseline]
    for name in sorted(plans):
        if name == current:
            rows.append({"plan": name, "factor": 1.0, "cost": target / 100, "target": target / 100, "gap_cents": 0,
                         "exact": True, "evaluations": 0})
            continue
        bases = base_lines(plans[name], inputs)
        cal = budget_neutral_factor(plans[name], inputs, target, bases=bases, baseline=baseline)
        rows.append({"plan": name, "factor": cal.factor, "cost": cal.cost_cents / 100, "target": target / 100,
                     "gap_cents": cal.gap_cents, "exact": cal.exact, "evaluations": cal.evaluations})
        lines.append(run_plan(plans[name], inputs, baseline=baseline, rate_factor=cal.factor, bases=bases))
    return pd.DataFrame(rows), pd.concat(lines, ignore_index=True)


def _transitions(plans, inputs, baseline, switch):
    """For every plan with a guarantee: the plan without it calibrated to today's cost, the guarantee
    priced on top at that factor — the honest cost of the promise — and who it protects."""
    from clvlib.plans import base_lines, run_plan
    from clvlib.plans.calibrate import budget_neutral_factor
    from clvlib.plans.transition import (guarantee_summary, paths_long, protected_reps, rep_paths,
                                         window_guarantee_cost, without_guarantee)

    out = {}
    target = int(baseline["amount_cents"].sum())
    for name, plan in sorted(plans.items()):
        if getattr(plan, "guarantee", None) is None:
            continue
        bare = without_guarantee(plan)
        cal = budget_neutral_factor(bare, inputs, target, bases=base_lines(bare, inputs), baseline=baseline)
        lines = run_plan(plan, inputs, baseline=baseline, rate_factor=cal.factor)
        paths = rep_paths(plan, lines, baseline, months=inputs.months, switch=switch)
        out[name] = {"summary": guarantee_summary(plan, lines, baseline, months=inputs.months, switch=switch)
                     | {"factor": cal.factor, "window": window_guarantee_cost(paths, plan.guarantee.share)},
                     "protected": protected_reps(lines), "paths": paths_long(paths)}
    return out


def pilot_panel(kpi_table: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """The rep-by-month panel of the pilot's outcomes (sales reps): retention, repurchase rate, margin %
    (12-month windows) and the month's CLV built (existing + new + lost)."""
    t = kpi_table[kpi_table["level"] == "rep"]
    wide = t.pivot_table(index=["month", "id"], columns="measure", values="value", aggfunc="first")
    wide.columns.name = None
    built = [c for c in ("clv_change_existing_1m", "clv_change_new_1m", "clv_change_lost_1m") if c in wide]
    wide["clv_change_built_1m"] = wide[built].sum(axis=1, min_count=1) if built else np.nan
    panel = wide.reset_index().rename(columns={"id": "rep_id"})
    info = reps[["rep_id", "team", "role"]].fillna({"role": "sales"})
    panel = panel.merge(info, on="rep_id")
    return panel[panel["role"] == "sales"][["rep_id", "team", "month", *[o for o in PILOT_OUTCOMES if o in panel]]]


def _pilot(kpi_table, reps, team, switch, level, seed):
    from clvlib.pilot import pilot_effect

    panel = pilot_panel(kpi_table, reps)
    rows, events = [], []
    for outcome in PILOT_OUTCOMES:
        r = pilot_effect(panel, outcome, pilot_group=team, switch=switch, level=level, random_state=seed)
        rows.append({"outcome": outcome, "effect": r.effect, "low": r.low, "high": r.high, "p_value": r.p_value,
                     "pre_trend_p": r.pre_trend_p, "team_effect": r.team_effect, "team_low": r.team_low,
                     "team_high": r.team_high, "team_p_value": r.team_p_value,
                     "team_randomisation_p": r.team_randomisation_p, "n_units": r.n_units,
                     "n_pilot_units": r.n_pilot_units, "n_groups": r.n_groups, "n_obs": r.n_obs,
                     "method": r.method, "conclusion": r.conclusion})
        events.append(r.event_study.assign(outcome=outcome))
    return pd.DataFrame(rows), pd.concat(events, ignore_index=True)


def decide(*, pay, plans, inputs, orders, history, kpis, reps, noise_bands, settings: dict) -> Decision:
    """Every part of the decision for the window of ``pay`` (the payouts stage's result).

    ``settings``: ``current`` (today's plan), ``sweep_plan``, ``switch``, ``loss_threshold``,
    ``big_loss``, ``max_big_loser_share``, ``corr_tolerance``, ``clv`` (the CLV settings), ``level``,
    ``noise_sims``, ``seed``, ``pilot_team``, ``pilot_switch``.
    """
    from clvlib.plans.backtest import comparison, rep_comparison, rep_figures
    from clvlib.plans.calibrate import recommend_weight, weight_sweep
    from clvlib.plans.claims import hunter_claim

    s, current = settings, settings["current"]
    baseline = pay.lines[pay.lines["plan"] == current]
    cmp_rates = comparison(pay.lines, inputs, current=current, loss_threshold=s["loss_threshold"])
    calib, equal = _calibrate_all(plans, inputs, baseline, current)
    cmp_equal = comparison(equal, inputs, current=current, loss_threshold=s["loss_threshold"])
    cmp = pd.concat([cmp_rates.assign(basis="plan_rates"), cmp_equal.assign(basis="equal_cost")], ignore_index=True)
    notes = []
    sweep, rec = pd.DataFrame(), {}
    if s["sweep_plan"] in plans:
        sweep = weight_sweep(plans[s["sweep_plan"]], inputs, baseline, loss_threshold=s["loss_threshold"],
                             big_loss=s["big_loss"])
        weight, reasons = recommend_weight(sweep, big_loss=s["big_loss"], max_big_loser_share=s["max_big_loser_share"],
                                           corr_tolerance=s["corr_tolerance"])
        rec = {"weight": weight, "reasons": reasons, "sweep_plan": s["sweep_plan"]}
    else:
        notes.append(f"no weight sweep: the sweep plan {s['sweep_plan']!r} is not among the plans")
    claim = hunter_claim(equal, rep_figures(inputs), commission_plan=current, hybrid_plan=s["sweep_plan"],
                         clv_only_plan=s.get("clv_only_plan") if s.get("clv_only_plan") in plans else None)
    pay_bands = _pay_bands(equal, s["sweep_plan"], noise_bands)
    pilot, events = pd.DataFrame(), pd.DataFrame()
    if s.get("pilot_team"):
        months = sorted(kpis.table["month"].unique())
        if not (months[0] < s["pilot_switch"] <= months[-1]):
            notes.append(f"the pilot ({s['pilot_team']} from {s['pilot_switch']}) is not evaluated: its switch is "
                         f"outside the months of history ({months[0]} to {months[-1]})")
        else:
            pilot, events = _pilot(kpis.table, reps, s["pilot_team"], s["pilot_switch"], s["level"], s["seed"])
    return Decision(comparison=cmp, calibration=calib,
                    reps=rep_comparison(equal, inputs, current=current, loss_threshold=s["loss_threshold"]),
                    sweep=sweep, recommendation=rec,
                    transition=_transitions(plans, inputs, baseline, s["switch"] or inputs.months[0]),
                    claim=claim.groups, pay_bands=pay_bands, pilot=pilot, pilot_events=events,
                    notes=notes)


def _pay_bands(lines: pd.DataFrame, plan: str, bands: pd.DataFrame) -> pd.DataFrame:
    """Each rep's CLV-growth pay over the window under ``plan`` (at equal cost) and its noise band: the
    band of the rep's CLV built times the rep's effective rate (pay / CLV built), the pay being linear in
    the bridge lines it is computed from (floors and caps aside)."""
    cols = ["rep_id", "pay", "pay_low", "pay_high", "clv_built", "within_noise"]
    if bands.empty:
        return pd.DataFrame(columns=cols)
    p = lines[(lines["plan"] == plan) & (lines["component"] == "clv_growth")].groupby("rep_id")["amount_cents"].sum() / 100
    b = bands.set_index("rep_id")
    out = pd.DataFrame({"pay": p.reindex(b.index).fillna(0.0), "clv_built": b["change"], "within_noise": b["within_noise"]})
    rate = (out["pay"] / out["clv_built"]).where(out["clv_built"].abs() > 0).clip(lower=0).fillna(0.0)
    out["pay_low"], out["pay_high"] = rate * b["low"], rate * b["high"]
    return out.rename_axis("rep_id").reset_index()[cols]
