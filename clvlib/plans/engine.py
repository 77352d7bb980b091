"""The payout engine: pure functions from a plan and the window's tables to lines of pay.

``run_plan(plan, inputs)`` computes every month of ``inputs.months`` in the ICM pipeline's order:

1. **crediting** — documents to reps by their credit shares (``credit``), book lines and events to
   the reps of the book, team figures to team members;
2. **base** — the rate-independent lines of each component (documents dated by when they count,
   band pieces, bridge lines, events, pool members): :func:`base_lines`, built once;
3. **rates** — each base line priced: ``basis x rate x rate_factor x weight x share``, rounded once;
4. **adjustments** — accelerators on attainment of quota;
5. **caps/floors** — per component, then (after clawbacks and their carry) in total;
6. **holdbacks and releases**;
7. **guarantee** — against the baseline (today's plan's lines over the same months).

State carried month to month: holdback releases, clawback balances, draw balances; guarantee months
counted from ``inputs.switch``. The replay starts with no balances (a holdback made before the
window is not released in it).

**Lines** (``LINE_COLUMNS``): ``plan, month, rep_id, component, amount_cents`` (int64), ``amount``
(= cents / 100), ``rule`` (:data:`clvlib.plans.rules.RULES` says how each is computed),
``source_type`` (order | customer | rep_month | team_month), ``source_id``, ``basis`` (the figure
used), ``rate``, ``weight``, ``share`` and ``detail`` (words: the band, the tier, the attainment ...).
For base lines ``amount = basis x rate x weight x share`` exactly, rounded to the cent half away from
zero (:mod:`clvlib.plans.rounding`). Every total is a sum of lines (:func:`payouts`). Lines are sorted
(month, rep, pipeline step, component, rule, source), so a re-run gives identical lines whatever the
order of the input rows. (This adds ``share`` and ``detail`` to the columns WAVE.md lists, and for an
accelerator line ``basis`` is the month's commission it multiplies — the attainment is in ``detail``
— so that every line can be recomputed from itself.)

**Repricing** is cheap: ``bases = base_lines(plan, inputs)`` once, then
``run_plan(plan, inputs, rate_factor=f, weights=w, bases=bases)`` for each f / w. ``rate_factor``
scales the rates of the weighted components (commission rates and bands, CLV-growth rates,
retention amounts, team-pool shares) — not accelerator multipliers, holdbacks, clawbacks, SPIFs,
caps, floors or the guarantee. ``weights`` replaces the plan's weights (same rules: the weighted
components present, summing to 1). :func:`pay_grid` gives only each rep's month totals (the sums of
the lines), about twice as fast: for calibration (:mod:`clvlib.plans.calibrate`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvlib.errors import ParamsError
from clvlib.plans.checks import check_plan
from clvlib.plans.components import clawback, clv_growth, commission, retention, spif, team_pool
from clvlib.plans.components._common import Context, Lines, grid_sum
from clvlib.plans.components.guarantee import guarantee_lines
from clvlib.plans.components.limits import component_limits, total_limits
from clvlib.plans.inputs import PayInputs
from clvlib.plans.schema import WEIGHTED, Plan

LINE_COLUMNS = ["plan", "month", "rep_id", "component", "amount_cents", "amount", "rule", "source_type",
                "source_id", "basis", "rate", "weight", "share", "detail"]
PAYOUT_COLUMNS = ["plan", "month", "rep_id", "component", "amount_cents", "amount"]

MODULES = {"commission": commission, "clv_growth": clv_growth, "retention": retention, "team_pool": team_pool,
           "spif": spif, "clawback": clawback}
PRIMARY = ("commission", "clv_growth", "retention", "team_pool", "spif")

@dataclass
class PlanBase:
    """The rate-independent part of a plan over a window (build once, price many times)."""

    plan: Plan
    inputs: PayInputs
    context: Context
    bases: list


def base_lines(plan: Plan, inputs: PayInputs) -> PlanBase:
    """Crediting and base lines of every component of ``plan`` (checked first: :func:`check_plan`)."""
    ctx = Context(plan, inputs)
    check_plan(plan, inputs, ctx)
    bases = [MODULES[c.type].base(c, i, ctx) for i, c in enumerate(plan.components)]
    return PlanBase(plan, inputs, ctx, bases)


def _weights(plan: Plan, weights: dict | None) -> dict:
    present = plan.weighted_types()
    if weights is None:
        return {t: plan.weight(t) for t in present}
    where = plan.file or plan.name
    extra = sorted(set(weights) - set(present))
    missing = [t for t in present if t not in weights]
    if extra or missing or abs(sum(weights.get(t, 0) for t in present) - 1) > 1e-9 \
            or any(not 0 <= weights[t] <= 1 for t in present):
        raise ParamsError(f"{where}: weights given to run_plan must be one share between 0 and 1 for each of "
                          f"{', '.join(present)}, summing to 1; got {weights}")
    return {t: float(weights[t]) for t in present}


def run_plan(plan: Plan, inputs: PayInputs, *, baseline: pd.DataFrame | None = None, rate_factor: float = 1.0,
             weights: dict | None = None, bases: PlanBase | None = None) -> pd.DataFrame:
    """Every line of pay of ``plan`` for every rep and month of ``inputs.months`` (see the module docstring).

    Parameters
    ----------
    plan : Plan
        A validated plan (:func:`clvlib.plans.load_plan`).
    inputs : PayInputs
        The window's tables.
    baseline : DataFrame, optional
        Today's plan's lines over the same months (needed by a plan with a guarantee).
    rate_factor : float, default=1.0
        Multiplies the rates of the weighted components (budget calibration).
    weights : dict, optional
        Replaces the plan's weights.
    bases : PlanBase, optional
        ``base_lines(plan, inputs)``, when pricing the same plan many times.

    Returns
    -------
    DataFrame with :data:`LINE_COLUMNS`.
    """
    ctx, done = _priced(plan, inputs, baseline, rate_factor, weights, bases)
    return _publish(plan, ctx, done)


def pay_grid(plan: Plan, inputs: PayInputs, *, baseline: pd.DataFrame | None = None, rate_factor: float = 1.0,
             weights: dict | None = None, bases: PlanBase | None = None) -> pd.DataFrame:
    """Each rep's pay per month in cents (rows: every rep of ``inputs.reps``, columns: the window's months):
    the sums of the lines :func:`run_plan` would return with the same arguments, without building them
    as a table (about half the time; for calibration, which prices a plan dozens of times)."""
    ctx, done = _priced(plan, inputs, baseline, rate_factor, weights, bases)
    return pd.DataFrame(grid_sum(ctx, done), index=ctx.rep_index.rename("rep_id"),
                        columns=ctx.month_index.rename("month"))


def _priced(plan, inputs, baseline, rate_factor, weights, bases) -> tuple[Context, Lines]:
    """The pipeline of :func:`run_plan` up to its lines (not yet a table)."""
    if not (np.isfinite(rate_factor) and rate_factor >= 0):
        raise ParamsError(f"rate_factor must be a number >= 0, got {rate_factor!r}")
    pb = bases if bases is not None else base_lines(plan, inputs)
    ctx, w = pb.context, _weights(plan, weights)
    entries = list(enumerate(plan.components))
    parts, commission_docs = [], []
    for i, c in entries:                               # base, rates, adjustments, component caps/floors
        if c.type in PRIMARY:
            factor = rate_factor if c.type in WEIGHTED else 1.0
            priced = MODULES[c.type].price(c, i, pb.bases[i], ctx, factor, w.get(c.type, 1.0))
            parts += [priced, component_limits(c, i, priced, ctx)]
            if c.type == "commission":
                commission_docs.append(priced.where(priced["step"] == 1))
    done = Lines.concat(parts)
    for i, c in entries:                               # clawbacks and their carry
        if c.type == "clawback":
            claw = clawback.price(c, i, pb.bases[i], ctx, Lines.concat(commission_docs))
            done = Lines.concat([done, claw, clawback.carry_lines(c, i, claw, done, ctx)])
    done = Lines.concat([done, total_limits(ctx, done)])
    for i, c in entries:                               # holdbacks and releases
        if c.type == "commission" and c.holdback is not None:
            done = Lines.concat([done, commission.holdback_lines(c, i, done.where(done["entry"] == i), ctx)])
    done = Lines.concat([done, guarantee_lines(ctx, done, baseline)])
    return ctx, done


def run_plans(plans: dict, inputs: PayInputs, current: str) -> pd.DataFrame:
    """The lines of every plan (by name) over the window, today's plan ``current`` first: it is the
    baseline of the guarantees. Every plan is checked before any is computed."""
    if current not in plans:
        raise ParamsError(f"pay.current_plan: {current!r} is not one of the plans ({', '.join(plans)})")
    bases = {name: base_lines(plan, inputs) for name, plan in plans.items()}
    baseline = run_plan(plans[current], inputs, bases=bases[current])
    out = [baseline] + [run_plan(plan, inputs, baseline=baseline, bases=bases[name])
                        for name, plan in sorted(plans.items()) if name != current]
    return pd.concat(out, ignore_index=True)


def _publish(plan: Plan, ctx: Context, d: Lines) -> pd.DataFrame:
    """The lines as a DataFrame, sorted by month, rep, pipeline step, component entry, then rule and source."""
    order = np.lexsort((d["key"], d["entry"], d["step"], d["ri"], d["ci"]))
    cents = d["amount_cents"][order]
    cols = {"plan": np.full(len(order), plan.name, dtype=object),
            "month": ctx.month_index.to_numpy(dtype=object)[d["ci"][order]],
            "rep_id": ctx.rep_index.to_numpy(dtype=object)[d["ri"][order]],
            "component": d["component"][order], "amount_cents": cents, "amount": cents / 100}
    for name in LINE_COLUMNS[6:]:
        cols[name] = d[name][order]
    return pd.DataFrame(cols, columns=LINE_COLUMNS)


def save_payouts(lines: pd.DataFrame, data_dir) -> None:
    """Write ``payout_lines.parquet`` (every line) and ``payouts.parquet`` (:func:`payouts`) to
    ``data_dir``; the same lines give byte-identical files."""
    from pathlib import Path

    data_dir = Path(data_dir)
    lines[LINE_COLUMNS].reset_index(drop=True).to_parquet(data_dir / "payout_lines.parquet", index=False)
    payouts(lines).to_parquet(data_dir / "payouts.parquet", index=False)


def payouts(lines: pd.DataFrame) -> pd.DataFrame:
    """Pay per (plan, month, rep, component): the sum of its lines' cents (``amount`` = cents / 100)."""
    if not len(lines):
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "amount_cents" else
                                          ("float" if c == "amount" else object)) for c in PAYOUT_COLUMNS})
    g = lines.groupby(["plan", "month", "rep_id", "component"], as_index=False, sort=True)["amount_cents"].sum()
    g["amount_cents"] = g["amount_cents"].astype(np.int64)
    g["amount"] = g["amount_cents"] / 100
    return g[PAYOUT_COLUMNS]
