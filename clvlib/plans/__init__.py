"""Pay plans: the plan language, and the payout engine that turns a plan and the month's tables into
lines of pay.

* :mod:`clvlib.plans.schema` — the plan files (``params/plans/*.yaml``) as pydantic models:
  :func:`load_plan`, :func:`load_plans`, :func:`plans_from_params`, :func:`describe_plans`;
* :mod:`clvlib.plans.inputs` — :class:`PayInputs`, the tables a plan is computed from;
* :mod:`clvlib.plans.checks` — :func:`check_plan`, what the inputs must give a plan;
* :mod:`clvlib.plans.engine` — :func:`run_plan` (lines), :func:`run_plans` (every plan, today's
  first as the guarantees' baseline), :func:`base_lines` (build once, reprice
  cheaply), :func:`payouts` (sums of lines), :func:`save_payouts` (``payout_lines.parquet``,
  ``payouts.parquet``), :data:`RULES`;
* :mod:`clvlib.plans.components` — one module per component (commission, clv_growth, retention,
  clawback, team_pool, spif, limits, guarantee);
* :mod:`clvlib.plans.rounding` — the one rounding rule (per line, to the cent, half away from zero).

Example::

    from clvlib.plans import PayInputs, load_plan, run_plan, payouts
    plan = load_plan("params/plans/commission_revenue.yaml")
    inputs = PayInputs(orders=orders, credit=credit, reps=reps, months=["2026-09", "2026-10"])
    lines = run_plan(plan, inputs)            # one row per line of pay, with its rule and source
    pay = payouts(lines)                      # per plan, month, rep and component: sums of lines
"""
from clvlib.plans.checks import check_plan
from clvlib.plans.engine import (LINE_COLUMNS, PAYOUT_COLUMNS, PlanBase, base_lines, payouts, run_plan, run_plans,
                                 save_payouts)
from clvlib.plans.rules import RULES
from clvlib.plans.inputs import PayInputs, window
from clvlib.plans.schema import Plan, describe_plans, load_plan, load_plans, plans_from_params

__all__ = ["PayInputs", "Plan", "PlanBase", "LINE_COLUMNS", "PAYOUT_COLUMNS", "RULES", "base_lines", "check_plan",
           "describe_plans", "load_plan", "load_plans", "payouts", "plans_from_params", "run_plan", "run_plans", "save_payouts", "window"]
