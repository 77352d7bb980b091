"""Checks of a plan against the inputs, before anything is computed (what the file alone cannot tell).

* every rep a quota-based component pays (its roles, employed in a month it applies) has a positive
  quota for each such month;
* the tables a component reads are given (bridge, bridge_low, events, team figures, collaboration).

All problems at once, in ONE ``ParamsError`` naming the plan file and each key.
"""
from __future__ import annotations

import numpy as np

from clvlib.errors import ParamsError


def _span(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{len(months)} months, {months[0]} to {months[-1]}"


def _quota_problem(name: str, comp, inputs, ctx) -> str | None:
    q = inputs.quotas
    if q is None:
        return f"{name}.accelerators: needs the quota table (rep_id, month, quota), none given"
    have = q[q["quota"] > 0].assign(month=lambda d: d["month"].astype(str))
    have = set(zip(have["rep_id"], have["month"]))
    eligible = ctx.eligible_grid(comp)
    missing = {}
    for r, c in zip(*np.nonzero(eligible)):
        rep, month = ctx.rep_index[r], ctx.months[c]
        if (rep, month) not in have:
            missing.setdefault(rep, []).append(month)
    if not missing:
        return None
    listed = [f"{rep} ({_span(ms)})" for rep, ms in sorted(missing.items())]
    more = f" and {len(listed) - 5} more reps" if len(listed) > 5 else ""
    return (f"{name}.accelerators: the quota table has no positive quota for {', '.join(listed[:5])}{more}; "
            "every rep the plan pays needs one for each month")


def _needs(comp) -> list[str]:
    kind = comp.type
    if kind == "clv_growth":
        return ["bridge_low" if comp.basis == "lower" else "bridge"]
    if kind in ("retention", "clawback") or (kind == "spif" and comp.base in ("won", "retained")):
        return ["events"]
    if kind == "team_pool":
        return ["team_figures"] + (["collaboration"] if comp.split == "points" else [])
    return []


def check_plan(plan, inputs, ctx=None) -> None:
    """Raise ONE ParamsError (plan file, keys) if ``plan`` cannot be computed from ``inputs``."""
    from clvlib.plans.components._common import Context

    ctx = ctx or Context(plan, inputs)
    problems = []
    for name, comp in zip(plan.component_names(), plan.components):
        for table in _needs(comp):
            if getattr(inputs, table) is None:
                problems.append(f"{name}: needs the {table} table (PayInputs.{table}), none given")
        if comp.type == "commission" and comp.accelerators is not None:
            p = _quota_problem(name, comp, inputs, ctx)
            if p:
                problems.append(p)
    if problems:
        raise ParamsError("; ".join(problems), file=plan.file or plan.name)
