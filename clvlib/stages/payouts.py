"""Stage ``payouts``: every plan in ``params/plans/`` computed for every person, month by month over
the backtest window (``pay.backtest_months``), today's plan first (the guarantees' baseline).

Files: ``payouts.parquet`` and ``payout_lines.parquet`` (the period's month: what each plan pays each
person, and every line behind it), ``plan_backtest.parquet`` (``plan, rep_id, month, component,
amount`` for every month of the window), ``plan_backtest_lines.parquet`` (every line of every month)
and ``payouts.json`` (the window, the plans and their titles).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clvlib.stages.base import Stage, register


@dataclass
class Pay:
    """The payouts stage's result: the lines of every plan and month, and what the period pays."""

    lines: pd.DataFrame                   # every line of every plan and month of the window
    months: list[str]
    period: str
    current: str
    plans: dict = field(default_factory=dict)   # name -> {"title": {en, zh}, "description": {en, zh}}

    @property
    def period_lines(self) -> pd.DataFrame:
        return self.lines[self.lines["month"] == self.period].reset_index(drop=True)

    def payouts(self, month: str | None = None) -> pd.DataFrame:
        """Pay per (plan, month, rep, component): sums of lines (``clvlib.plans.payouts``)."""
        from clvlib.plans import payouts

        lines = self.lines if month is None else self.lines[self.lines["month"] == month]
        return payouts(lines)


def plan_files_stamp(params) -> dict:
    """sha256 of every plan file (the plans are inputs of this stage)."""
    from clvlib.plans.schema import plans_folder

    folder = plans_folder(params)
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def stage_inputs(wb):
    """The payout engine's inputs for the period's backtest window, from the workbook's stages."""
    from clvlib.plans.assemble import pay_inputs

    k, p, noise = wb.stage("kpis"), wb.params["pay"], wb.stage("noise")
    return pay_inputs(orders=wb.orders(), credit=wb.credit(), reps=wb.table("reps"), quotas=wb.table("quotas"),
                      bridge=k.bridge, events=k.events, kpi_table=k.table, period=wb.period,
                      months=p["backtest_months"], switch=p["switch"], noise_lines=noise.lines)


def build(wb) -> Pay:
    from clvlib.plans import plans_from_params, run_plans

    plans = plans_from_params(wb.params)            # every plan checked before anything is computed
    p = wb.params["pay"]
    inputs = stage_inputs(wb)
    lines = run_plans(plans, inputs, p["current_plan"])
    meta = {name: {"title": dict(pl.title), "description": dict(pl.description)} for name, pl in plans.items()}
    return Pay(lines=lines, months=inputs.months, period=wb.period, current=p["current_plan"], plans=meta)


def save(pay: Pay, data_dir: Path) -> None:
    from clvlib.plans import save_payouts

    d = Path(data_dir)
    save_payouts(pay.period_lines, d)
    pay.payouts()[["plan", "rep_id", "month", "component", "amount", "amount_cents"]].to_parquet(
        d / "plan_backtest.parquet", index=False)
    pay.lines.to_parquet(d / "plan_backtest_lines.parquet", index=False)
    (d / "payouts.json").write_text(json.dumps({"months": pay.months, "period": pay.period, "current": pay.current,
                                                "plans": pay.plans}, indent=1, ensure_ascii=False))


def load(data_dir: Path) -> Pay:
    d = Path(data_dir)
    meta = json.loads((d / "payouts.json").read_text())
    return Pay(lines=pd.read_parquet(d / "plan_backtest_lines.parquet"), months=meta["months"], period=meta["period"],
               current=meta["current"], plans=meta["plans"])


STAGE = register(Stage("payouts", build, save, load, needs=("intake", "credit", "kpis", "noise"),
                       params=("pay", "tiers.labels"), stamp=plan_files_stamp,
                       files=("payouts.parquet", "payout_lines.parquet", "plan_backtest.parquet",
                              "plan_backtest_lines.parquet"),
                       doc="what every plan pays every person, month by month, line by line"))
