"""Tiers over a window of months: one model reused month to month, refitted only when params say.

``assign_tiers`` walks the months in order. The tier model is fitted at the window's first month
(unless a saved model is given), then refitted every month (``refit: monthly``), in the month of the
year ``refit_month`` (``yearly``), or never; in between, each month's customers are placed by the same
stored model, with hysteresis against the previous month's tiers (``clvlib.tiers.hysteresis``), so a
customer changes tier only when it clearly crosses a boundary. Across a refit the hysteresis still
applies (the new model's tiers are ordered by mean CLV like the old one's).

A month whose CLV model fell back to the simple formula (``clv_fallback``), or whose features lack a
cluster feature for some customer, cannot be placed by a kmeans / gmm model: that month alone is tiered
by the value-share rules (noted, and its model listed). A fit on thin data falls back to the
value-share rules itself (``CustomerTiers.fallback_``) and that model is used until the next refit.

Note for the stage: the result depends on the window's first month (the first fit). Passing the last
run's saved model as ``model`` keeps published months unchanged when the window slides.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

import pandas as pd

from clvlib.errors import ModelError
from clvlib.tiers.estimator import CustomerTiers
from clvlib.tiers.features import FEATURES, rfm_scores

__all__ = ["assign_tiers", "Assignment", "params_for_estimator", "REFIT"]

REFIT = ("monthly", "yearly", "never")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_RFM_NEEDS = ("days_since_last_purchase", "frequency", "margin_per_purchase")


class Assignment(NamedTuple):
    """What ``assign_tiers`` returns (a tuple: ``tiers, models, notes = assign_tiers(...)``).

    tiers : DataFrame
        One row per (month, customer_id): ``tier`` (after hysteresis), ``plain_tier`` (where the
        model alone would put it) and, when the features allow, ``r_score, f_score, m_score, rfm_cell``.
    models : list of dict
        Each model used: ``{"month", "why", "model"}`` with ``model`` the ``CustomerTiers.to_json`` dict.
    notes : list of str
        Plain sentences: each fit and why, each fallback.
    """

    tiers: pd.DataFrame
    models: list
    notes: list


def params_for_estimator(tiers_params: Mapping) -> dict:
    """``CustomerTiers`` keyword arguments from the ``tiers`` section of the params."""
    p = dict(tiers_params)
    return {"method": p["method"], "labels": list(p["labels"]), "value_shares": list(p["value_shares"]),
            "transform": p["transform"], "hysteresis": float(p["hysteresis"]), "n_init": int(p["n_init"]),
            "random_state": int(p["seed"])}


def _by_month(features_by_month) -> dict:
    if isinstance(features_by_month, pd.DataFrame):
        if "month" not in features_by_month.columns:
            raise ModelError("assign_tiers: the features table has no 'month' column")
        f = features_by_month
        if "customer_id" in f.columns:
            f = f.set_index("customer_id")
        out = {str(m): g.drop(columns="month") for m, g in f.groupby("month", sort=True)}
    elif isinstance(features_by_month, Mapping):
        out = {str(m): g for m, g in features_by_month.items()}
    else:
        raise ModelError(f"assign_tiers needs a dict month -> tier features (or one table with a 'month' "
                         f"column); got {type(features_by_month).__name__}")
    bad = [m for m in out if not _MONTH.match(m)]
    if bad:
        raise ModelError(f"assign_tiers: months must look like 2026-10 (year-month); got {bad[0]!r}")
    if not out:
        raise ModelError("assign_tiers: no months to tier")
    return dict(sorted(out.items()))


def _refit_why(first: bool, month: str, refit: str, refit_month: int, have_model: bool) -> str | None:
    if refit == "monthly":
        return "monthly refit"
    if refit == "yearly" and int(month[5:7]) == refit_month and not (first and not have_model):
        return f"yearly refit (month {refit_month})"
    if not have_model:
        return "first month of the window" + (" (refit: never: fitted once)" if refit == "never" else "")
    return None


def assign_tiers(features_by_month, estimator_params: Mapping, refit: str = "yearly", refit_month: int = 1,
                 model: dict | None = None, clv_fallback: Mapping | None = None) -> Assignment:
    """Tier every customer of every month, reusing one model between refits, with hysteresis.

    Parameters
    ----------
    features_by_month : dict of str -> DataFrame, or DataFrame
        ``tier_features`` output per month (``"YYYY-MM"``), or one table with a ``month`` column.
    estimator_params : dict
        ``CustomerTiers`` keyword arguments (``params_for_estimator(params["tiers"])``).
    refit : {"monthly", "yearly", "never"}
    refit_month : int
        Month of the year of the yearly refit (1–12).
    model : dict, optional
        A saved model (``CustomerTiers.to_json``) to start from instead of fitting one.
    clv_fallback : dict of str -> str or None, optional
        Per month, why the CLV model fell back to the simple formula (from the history stage).

    Returns
    -------
    Assignment
        ``(tiers, models, notes)``.
    """
    if refit not in REFIT:
        raise ModelError(f"assign_tiers: refit must be one of {', '.join(REFIT)}; got {refit!r}")
    if isinstance(refit_month, bool) or not isinstance(refit_month, int) or not 1 <= refit_month <= 12:
        raise ModelError(f"assign_tiers: refit_month must be a month number 1-12; got {refit_month!r}")
    months = _by_month(features_by_month)
    params = dict(estimator_params)
    current = CustomerTiers.from_json(model) if model is not None else None
    models, notes, frames = [], [], []
    if current is not None:
        models.append({"month": next(iter(months)), "why": "given model", "model": model})
    previous = None
    for i, (month, X) in enumerate(months.items()):
        flag = (clv_fallback or {}).get(month)
        why = _refit_why(i == 0, month, refit, refit_month, current is not None)
        if why:
            current = CustomerTiers(**params).fit(X, clv_fallback=flag)
            models.append({"month": month, "why": why, "model": current.to_json()})
            notes.append(f"{month}: tier model fitted ({why}), method {current.method_}"
                         + (f"; value-share rules because {current.fallback_}" if current.fallback_ else ""))
        used = current
        if current.method_ != "value_share" and (flag or CustomerTiers._missing(X, FEATURES)):
            used = CustomerTiers(**{**params, "method": "value_share"}).fit(X)
            reason = (f"the CLV model fell back to the simple formula ({flag})" if flag
                      else "some customers lack a cluster feature")
            models.append({"month": month, "why": f"this month only: {reason}", "model": used.to_json()})
            notes.append(f"{month}: tiered by the value-share rules this month only, because {reason}")
        tier = used.predict(X, previous=previous)
        frame = pd.DataFrame({"month": month, "customer_id": X.index.astype(str),
                              "tier": tier.to_numpy(), "plain_tier": used.predict(X).to_numpy()})
        if all(c in X.columns for c in _RFM_NEEDS):
            frame = pd.concat([frame, rfm_scores(X).reset_index(drop=True)], axis=1)
        frames.append(frame)
        previous = tier
    return Assignment(pd.concat(frames, ignore_index=True), models, notes)
