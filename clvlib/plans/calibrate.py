"""Budget-neutral calibration of a plan, the commission-weight sweep, and the recommended weight.

Pure functions over a plan and the window's :class:`~clvlib.plans.inputs.PayInputs`; every pricing
reuses the plan's base lines (:func:`clvlib.plans.base_lines`) and only sums pay
(:func:`clvlib.plans.engine.pay_grid`), so one calibration takes a fraction of a second.

**The budget-neutral factor** of a plan is the ``rate_factor`` (one number multiplying the rates of its
weighted components: commission, CLV growth, retention, team pool) at which the plan's backtest cost —
every line it pays every person over the window, in cents — equals today's plan's cost over the same
months, to the cent (:func:`budget_neutral_factor`). Clawbacks, SPIFs, caps, floors and the
guarantee keep their amounts.

**The sweep** (:func:`weight_sweep`): for each commission weight ``w`` (0 %, 10 %, ... 100 %) the rest
``1 - w`` is spread over the plan's other weighted components in their plan proportions; for each,
the cost at the plan's rates, the budget-neutral factor and, at that budget-neutral cost, the
fairness measures of :mod:`clvlib.plans.backtest` against today's plan.

**The recommended weight** (:func:`recommend_weight`) follows a stated rule (:data:`RULE`) with three
settings (defaults in :data:`RECOMMENDATION_DEFAULTS`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from clvlib.errors import ParamsError
from clvlib.plans.backtest import losers, pay_measures, rep_figures
from clvlib.plans.engine import PlanBase, base_lines, pay_grid
from clvlib.plans.inputs import PayInputs
from clvlib.plans.schema import Plan

#: the sweep's commission weights (0 % to 100 % in steps of 10 %)
SWEEP_WEIGHTS = tuple(k / 10 for k in range(11))

#: settings of :func:`recommend_weight` (proposed as params ``pay.calibration``)
RECOMMENDATION_DEFAULTS = {"big_loss": 0.20, "max_big_loser_share": 0.25, "corr_tolerance": 0.05}

RULE = ("Among the commission weights at which at most {max_big_loser_share:.0%} of the sales reps would be paid "
        "more than {big_loss:.0%} less than today (both plans costing the same), take those where pay follows "
        "the CLV the reps built almost as closely as it can (a rank correlation within {corr_tolerance:.2f} of "
        "the best of them); of these, the one with the fewest reps paid less than 95 % of today's pay, and the "
        "lower weight on a tie.")


class Calibration(tuple):
    """``(factor, cost_cents)`` of a calibration, with attributes ``target_cents``, ``gap_cents``
    (cost - target), ``exact`` (gap 0), ``evaluations`` (pricings), ``costs`` (every factor tried ->
    its cost in cents; ``costs[1.0]`` is the cost at the plan's rates) and ``grid`` (each person's pay
    per month in cents at ``factor``: :func:`clvlib.plans.engine.pay_grid`)."""

    def __new__(cls, factor: float, cost_cents: int, target_cents: int, evaluations: int, costs=None, grid=None):
        self = super().__new__(cls, (float(factor), int(cost_cents)))
        self.target_cents, self.evaluations = int(target_cents), int(evaluations)
        self.costs, self.grid = dict(costs or {}), grid
        return self

    factor = property(lambda self: self[0])
    cost_cents = property(lambda self: self[1])
    gap_cents = property(lambda self: self[1] - self.target_cents)
    exact = property(lambda self: self[1] == self.target_cents)

    def __repr__(self):
        return (f"Calibration(factor={self.factor!r}, cost_cents={self.cost_cents}, gap_cents={self.gap_cents}, "
                f"evaluations={self.evaluations})")


def plan_cost_cents(plan: Plan, inputs: PayInputs, *, rate_factor: float = 1.0, weights: dict | None = None,
                    bases: PlanBase | None = None, baseline: pd.DataFrame | None = None) -> int:
    """The plan's backtest cost in cents: every line it pays every person over the window."""
    grid = pay_grid(plan, inputs, baseline=baseline, rate_factor=rate_factor, weights=weights, bases=bases)
    return int(grid.to_numpy(dtype=np.int64).sum())


def budget_neutral_factor(plan: Plan, inputs: PayInputs, baseline_cost_cents: int, *, bases: PlanBase | None = None,
                          baseline: pd.DataFrame | None = None, weights: dict | None = None,
                          max_evaluations: int = 120) -> Calibration:
    """The ``rate_factor`` at which the plan's backtest cost equals ``baseline_cost_cents`` to the cent.

    How: the cost at factor 0 and 1, then doubling until the target is bracketed, then a bracketing
    root-finder on the step function: the Illinois variant of regula falsi (a secant step inside the
    bracket; the end that stays twice in a row has its gap halved), with a bisection step whenever an
    interpolation does not halve the bracket. It stops when the cost equals the target.

    Why an exact factor almost always exists: the cost is a sum of thousands of lines, each rounded to
    the cent once. As the factor rises, each line's cents step up (or, for a credit note, down) by one
    at its own factor, where its exact amount crosses a half cent; lines with different amounts cross
    at different factors, so the total moves one cent at a time and passes through every whole cent
    between its values at the bracket's ends. Floors, caps and the guarantee add differences of
    rounded amounts, so they keep the total moving in whole cents. When it is not possible:

    * several lines step at the same factor (equal amounts: e.g. retention bonuses of the same size and
      share), so the total jumps over the target between two adjacent floating-point factors;
    * the target is below the cost at factor 0 (clawbacks, SPIFs or a guarantee alone cost more) or
      out of reach (nothing the factor scales pays anything);
    * ``max_evaluations`` pricings were not enough.

    Then the closest cost found is returned with its factor, and ``gap_cents`` (cost - target) says by
    how much it misses; ``exact`` is False.

    Parameters
    ----------
    plan : Plan
    inputs : PayInputs
        The window's tables.
    baseline_cost_cents : int
        Today's plan's cost over the same window, in cents (the target).
    bases : PlanBase, optional
        ``base_lines(plan, inputs)`` (built here when not given).
    baseline : DataFrame, optional
        Today's plan's lines (needed by a plan with a guarantee).
    weights : dict, optional
        Weights replacing the plan's (the sweep).
    max_evaluations : int, default=120

    Returns
    -------
    Calibration
        ``(factor, cost_cents)`` with ``gap_cents``, ``exact`` and ``evaluations``.
    """
    target = int(baseline_cost_cents)
    pb = bases if bases is not None else base_lines(plan, inputs)
    seen: dict[float, int] = {}
    grids: dict[float, pd.DataFrame] = {}

    def cost(f: float) -> int:
        if f not in seen:
            grids[f] = pay_grid(plan, inputs, baseline=baseline, rate_factor=f, weights=weights, bases=pb)
            seen[f] = int(grids[f].to_numpy(dtype=np.int64).sum())
        return seen[f]

    def done(f: float) -> Calibration:
        return Calibration(f, cost(f), target, len(seen), costs=seen, grid=grids[f])

    def closest() -> Calibration:
        return done(min(seen, key=lambda x: (abs(seen[x] - target), x)))

    c0, c1 = cost(0.0), cost(1.0)
    if c0 >= target or c1 == target:
        return closest()
    lo, hi = 0.0, 1.0
    if c1 < target:                                   # a hair above the straight line through 0 and 1
        lo, hi = 1.0, ((target - c0) / (c1 - c0) if c1 > c0 else 2.0) * 1.001
        while cost(hi) < target:
            if len(seen) >= max_evaluations or hi > 1e6:
                return closest()
            lo, hi = hi, hi * 2
    return _bracketed(cost, target, lo, hi, max_evaluations, seen, done, closest)


def _bracketed(cost, target: int, lo: float, hi: float, max_evaluations: int, seen: dict, done,
               closest) -> Calibration:
    """Illinois regula falsi with a bisection safeguard on ``[lo, hi]``, ``cost(lo) < target <= cost(hi)``."""
    y_lo, y_hi = float(cost(lo) - target), float(cost(hi) - target)
    side, widths = 0, [hi - lo]                       # side: the end replaced last (-1 lo, +1 hi)
    while y_hi != 0 and len(seen) < max_evaluations:
        f = lo - y_lo * (hi - lo) / (y_hi - y_lo)
        if not (lo < f < hi) or (len(widths) > 2 and widths[-1] > widths[-3] / 2):
            f = lo + (hi - lo) / 2                    # bisect: interpolation left the bracket or stalled
        if not (lo < f < hi):                         # lo and hi are adjacent floats: the cost jumps here
            break
        y = float(cost(f) - target)
        if y == 0:
            return done(f)
        if y > 0:
            hi, y_hi = f, y
            y_lo = y_lo / 2 if side == 1 else y_lo    # hi replaced twice in a row: halve lo's gap
            side = 1
        else:
            lo, y_lo = f, y
            y_hi = y_hi / 2 if side == -1 else y_hi
            side = -1
        widths.append(hi - lo)
    return done(hi) if cost(hi) == target else closest()


# ------------------------------------------------------------------ the sweep
def sweep_weights(plan: Plan, commission_weight: float) -> dict:
    """The plan's weights with commission at ``commission_weight`` and the rest spread over its other
    weighted components in their plan proportions (equally when those are all 0)."""
    present = plan.weighted_types()
    where = plan.file or plan.name
    if "commission" not in present or len(present) < 2:
        raise ParamsError(f"{where}: the commission-weight sweep needs a plan with commission and at least one "
                          f"other weighted component (it has: {', '.join(present) or 'none'})")
    if not 0 <= commission_weight <= 1:
        raise ParamsError(f"{where}: a commission weight must be between 0 and 1, got {commission_weight!r}")
    others = [t for t in present if t != "commission"]
    base = {t: plan.weight(t) for t in others}
    total = sum(base.values())
    rest = 1.0 - commission_weight
    out = {"commission": float(commission_weight)}
    out |= {t: rest * (base[t] / total if total > 0 else 1 / len(others)) for t in others}
    out[others[-1]] = 1.0 - sum(v for k, v in out.items() if k != others[-1])    # exact sum 1
    return out


def weight_sweep(plan: Plan, inputs: PayInputs, baseline: pd.DataFrame, *, weights=SWEEP_WEIGHTS,
                 bases: PlanBase | None = None, loss_threshold: float = 0.95,
                 big_loss: float = RECOMMENDATION_DEFAULTS["big_loss"]) -> pd.DataFrame:
    """The cost and fairness curves of the commission weight (see the module docstring).

    Parameters
    ----------
    plan : Plan
        A plan with a commission and at least one other weighted component.
    inputs : PayInputs
    baseline : DataFrame
        Today's plan's lines over the window: the budget (its cost) and the reference of losses.
    weights : sequence of float, default=0, 0.1, ..., 1
        The commission weights.
    loss_threshold : float, default=0.95
        Paid under this share of today's pay: a loser (``losers_vs_current``).
    big_loss : float, default=0.2
        ``big_losers_share``: the share of compared reps paid more than this much less than today.

    Returns
    -------
    DataFrame, one row per commission weight: ``commission_weight``, ``weight_<type>`` for every weighted
    type, ``cost_at_plan_rates`` (reporting currency, the plan's rates at these weights), ``factor``
    (budget-neutral), ``cost_budget_neutral``, ``gap_cents``, and at the budget-neutral factor the
    measures of :func:`clvlib.plans.backtest.pay_measures` (``gini, top10_share,
    corr_payout_clv_growth, corr_payout_revenue, losers_vs_current, losers_share, max_loss_pct,
    new_rep_share, leverage``) and ``big_losers_share``.
    """
    pb = bases if bases is not None else base_lines(plan, inputs)
    target = int(baseline["amount_cents"].sum())
    figures = rep_figures(inputs)
    today = baseline.groupby("rep_id")["amount_cents"].sum()
    rows = []
    for w in weights:
        ws = sweep_weights(plan, w)
        cal = budget_neutral_factor(plan, inputs, target, bases=pb, baseline=baseline, weights=ws)
        at_rates = cal.costs[1.0]
        pay = pd.Series(cal.grid.to_numpy(dtype=np.int64).sum(axis=1), index=cal.grid.index)
        row = {"commission_weight": float(w)} | {f"weight_{t}": v for t, v in ws.items()}
        row |= {"cost_at_plan_rates": at_rates / 100, "factor": cal.factor, "cost_budget_neutral": cal.cost_cents / 100,
                "gap_cents": cal.gap_cents}
        m = pay_measures(pay, today, figures, loss_threshold=loss_threshold)
        p = pay.reindex(figures.index).fillna(0).to_numpy(dtype=float)
        t = today.reindex(figures.index).fillna(0).to_numpy(dtype=float)
        m["big_losers_share"] = float(losers(p, t, 1 - big_loss).mean())
        rows.append(row | {k: v for k, v in m.items() if k != "reps_compared"})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ the recommendation
def recommend_weight(sweep: pd.DataFrame, *, big_loss: float = RECOMMENDATION_DEFAULTS["big_loss"],
                     max_big_loser_share: float = RECOMMENDATION_DEFAULTS["max_big_loser_share"],
                     corr_tolerance: float = RECOMMENDATION_DEFAULTS["corr_tolerance"]) -> tuple[float, list[str]]:
    """The recommended commission weight of a :func:`weight_sweep` and the reasons in plain words.

    The rule (:data:`RULE`): (1) keep the weights at which at most ``max_big_loser_share`` of the
    compared reps lose more than ``big_loss`` against today's plan at equal cost (``big_losers_share``;
    the sweep must have been computed with the same ``big_loss``); (2) of those, keep the weights whose
    ``corr_payout_clv_growth`` is within ``corr_tolerance`` of the best kept one; (3) take the one with
    the fewest ``losers_vs_current``, the lower commission weight on a tie. When no weight passes (1),
    the weight with the fewest big losers is recommended and the first reason says so.

    Why this rule: the point of the new plan is that pay follows the value reps build (2); but a plan
    that cuts many people's pay sharply will not survive its first month (1); and between weights whose
    correlations differ by less than a rank correlation's noise across a few dozen reps (about 0.15 for
    40 reps), the one that moves fewer people's pay is the easier transition (3).

    Returns
    -------
    (weight, reasons)
        ``weight`` a float in [0, 1]; ``reasons`` a list of plain-English sentences with numbers.
    """
    s = sweep.sort_values("commission_weight").reset_index(drop=True)
    if not len(s):
        raise ParamsError("recommend_weight: the sweep is empty")
    ok = s[s["big_losers_share"] <= max_big_loser_share + 1e-12]
    reasons = []
    if not len(ok):
        best = s.sort_values(["big_losers_share", "commission_weight"]).iloc[0]
        reasons.append(f"No commission weight keeps the reps paid more than {big_loss:.0%} less than today at or "
                       f"under {max_big_loser_share:.0%}; the fewest is {best['big_losers_share']:.0%}, at "
                       f"{best['commission_weight']:.0%} commission, recommended for that reason only.")
        return float(best["commission_weight"]), reasons + [_describe(best)]
    corr = ok["corr_payout_clv_growth"].fillna(-np.inf)
    top = corr.max()
    near = ok[corr >= top - corr_tolerance]
    pick = near.sort_values(["losers_vs_current", "commission_weight"]).iloc[0]
    w = float(pick["commission_weight"])
    shut = s[s["big_losers_share"] > max_big_loser_share + 1e-12]["commission_weight"]
    reasons.append(f"At equal cost, {_weights_text(ok['commission_weight'])} commission keep the reps paid more than "
                   f"{big_loss:.0%} less than today at or under {max_big_loser_share:.0%} of the team"
                   + (f" ({_weights_text(shut)} would not)." if len(shut) else "."))
    reasons.append(f"Among those, pay follows the CLV the reps built most closely at "
                   f"{_weights_text(near['commission_weight'])} commission (rank correlation {_corr(top)}; "
                   f"differences under {corr_tolerance:.2f} are treated as equal).")
    reasons.append(f"{w:.0%} commission moves the fewest people's pay among them: {int(pick['losers_vs_current'])} "
                   f"reps ({pick['losers_share']:.0%}) would be paid less than 95 % of today's pay.")
    reasons.append(_describe(pick))
    return w, reasons


def _describe(row) -> str:
    return (f"At {row['commission_weight']:.0%} commission the plan's rates are multiplied by {row['factor']:.3f} to "
            f"cost what today's plan costs ({row['cost_budget_neutral']:,.2f}); pay then follows CLV built with a rank "
            f"correlation of {_corr(row['corr_payout_clv_growth'])} and revenue with {_corr(row['corr_payout_revenue'])}"
            f"; the largest loss of one rep is {row['max_loss_pct']:.0%} and the Gini coefficient of pay "
            f"{row['gini']:.2f}.")


def _corr(x) -> str:
    return "not defined" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _weights_text(ws) -> str:
    ws = sorted(float(x) for x in ws)
    if not ws:
        return "no weight"
    steps = np.diff(ws)
    if len(ws) > 2 and np.allclose(steps, steps[0]):
        return f"weights from {ws[0]:.0%} to {ws[-1]:.0%}"
    return ", ".join(f"{x:.0%}" for x in ws[:-1]) + (" and " if len(ws) > 1 else "") + f"{ws[-1]:.0%}"
