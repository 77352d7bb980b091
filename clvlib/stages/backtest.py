"""Stage ``backtest``: the decision (``clvlib.decision``) — every plan compared over the backtest window at
its own rates and at equal cost, the commission-weight sweep and the recommended weight, the transition
of guarantee plans, the hunters claim, the noise in CLV built and ranks, and the pilot.

Files: ``plan_comparison.parquet`` (one row per plan, at its own rates, with its budget-neutral
``factor``), ``plan_comparison_equal_cost.parquet`` (the same at equal cost),
``plan_calibration.parquet``, ``plan_reps.parquet`` (each rep under each plan at equal cost),
``weight_sweep.parquet``, ``transition_paths.parquet``, ``transition_protected.parquet``,
``hunter_claim.parquet``, ``noise_pay_bands.parquet``, ``pilot_effects.parquet``,
``pilot_event_study.parquet`` and ``decision.json`` (recommendation, transition summaries, notes).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from clvlib.stages.base import Stage, register
from clvlib.stages.payouts import plan_files_stamp

TABLES = {"comparison": "plan_comparison", "calibration": "plan_calibration", "reps": "plan_reps",
          "sweep": "weight_sweep", "claim": "hunter_claim", "pay_bands": "noise_pay_bands",
          "pilot": "pilot_effects", "pilot_events": "pilot_event_study"}


def build(wb):
    from clvlib.decision import decide
    from clvlib.plans import plans_from_params
    from clvlib.stages.payouts import stage_inputs

    p = wb.params
    settings = {**{k: p["pay"][k] for k in ("sweep_plan", "clv_only_plan", "switch", "loss_threshold", "big_loss",
                                             "max_big_loser_share", "corr_tolerance", "noise_sims")},
                "current": p["pay"]["current_plan"], "clv": p["clv"], "level": p["clv"]["interval_level"],
                "seed": p["clv"]["seed"], "as_of": wb.as_of, "pilot_team": p["pilot"]["team"],
                "pilot_switch": p["pilot"]["switch"]}
    return decide(pay=wb.stage("payouts"), plans=plans_from_params(p), inputs=stage_inputs(wb), orders=wb.orders(),
                  history=wb.stage("history"), kpis=wb.stage("kpis"), reps=wb.table("reps"),
                  noise_bands=wb.stage("noise").bands, settings=settings)


def save(d, data_dir: Path) -> None:
    data_dir = Path(data_dir)
    for attr, name in TABLES.items():
        if attr != "comparison":
            getattr(d, attr).to_parquet(data_dir / f"{name}.parquet", index=False)
    c = d.comparison.merge(d.calibration[["plan", "factor"]], on="plan", how="left")
    for basis, name in (("plan_rates", "plan_comparison"), ("equal_cost", "plan_comparison_equal_cost")):
        c[c["basis"] == basis].drop(columns="basis").to_parquet(data_dir / f"{name}.parquet", index=False)
    paths = [t["paths"].assign(plan=n) for n, t in d.transition.items()]
    prot = [t["protected"].assign(plan=n) for n, t in d.transition.items()]
    (pd.concat(paths, ignore_index=True) if paths else pd.DataFrame()).to_parquet(data_dir / "transition_paths.parquet",
                                                                                 index=False)
    (pd.concat(prot, ignore_index=True) if prot else pd.DataFrame()).to_parquet(
        data_dir / "transition_protected.parquet", index=False)
    meta = {"recommendation": d.recommendation, "notes": d.notes,
            "transition": {n: t["summary"] for n, t in d.transition.items()}}
    (data_dir / "decision.json").write_text(json.dumps(meta, indent=1, default=float, ensure_ascii=False))


def load(data_dir: Path):
    from clvlib.decision import Decision

    data_dir = Path(data_dir)
    meta = json.loads((data_dir / "decision.json").read_text())
    t = {name: pd.read_parquet(data_dir / f"{file}.parquet") for name, file in TABLES.items() if name != "comparison"}
    t["comparison"] = pd.concat([pd.read_parquet(data_dir / f"{f}.parquet").assign(basis=b).drop(columns="factor")
                                 for b, f in (("plan_rates", "plan_comparison"),
                                              ("equal_cost", "plan_comparison_equal_cost"))], ignore_index=True)
    paths = pd.read_parquet(data_dir / "transition_paths.parquet")
    prot = pd.read_parquet(data_dir / "transition_protected.parquet")
    transition = {n: {"summary": s, "paths": paths[paths["plan"] == n].drop(columns="plan"),
                      "protected": prot[prot["plan"] == n].drop(columns="plan")} for n, s in meta["transition"].items()}
    return Decision(**t, recommendation=meta["recommendation"], transition=transition, notes=meta["notes"])


STAGE = register(Stage("backtest", build, save, load, needs=("intake", "credit", "history", "kpis", "noise", "payouts"),
                       params=("pay", "clv", "pilot", "tiers.labels"), stamp=plan_files_stamp,
                       files=tuple(f"{n}.parquet" for n in TABLES.values()) + (
                           "plan_comparison_equal_cost.parquet", "transition_paths.parquet", "decision.json"),
                       doc="the plans compared at equal cost, the weight sweep, transition, pay bands and the pilot"))
