"""Holdout validation of a purchase model: fit on the past, forecast a window the model has not seen.

Follows the checks of Fader, Hardie & Lee (2005), "Counting your customers the easy way", section 5:
total repeat purchases in the holdout period, conditional expectations by number of calibration
purchases (0, 1, ..., 7+), and weekly tracking of cumulative repeat purchases over calibration and
holdout (the unconditional expectation summed over customers' ages).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvlib.errors import DataError, ParamsError
from clvlib.models._purchase import PurchaseModel
from clvlib.models.bgnbd import BetaGeoModel
from clvlib.models.paretonbd import ParetoNBDModel
from clvlib.rfm import DAYS_PER_UNIT, _customer_codes, _to_day, _to_days, rfm_summary

__all__ = ["holdout_validation", "HoldoutResult"]

_MODELS = {"bgnbd": BetaGeoModel, "paretonbd": ParetoNBDModel}


@dataclass
class HoldoutResult:
    """Result of :func:`holdout_validation`; every table can be charted directly.

    Attributes
    ----------
    model : BetaGeoModel or ParetoNBDModel
        The model fitted on the calibration period.
    summary : pandas.DataFrame
        Calibration summary per customer plus ``predicted_holdout`` (expected repeat purchases in the
        holdout) next to the actual ``frequency_holdout``.
    totals : pandas.DataFrame
        One row: ``customers``, ``actual``, ``predicted`` repeat purchases in the holdout, ``bias``
        = (predicted - actual) / actual.
    by_frequency : pandas.DataFrame
        Index ``calibration_purchases`` ("0", "1", ..., "7+"): ``customers``, ``actual_mean``,
        ``predicted_mean`` (mean holdout repeat purchases per customer), ``actual_total``,
        ``predicted_total``.
    tracking : pandas.DataFrame
        One row per week since the first purchase in the data: ``week`` (1, 2, ...), ``week_end``
        (date), ``period`` ("calibration"/"holdout"), ``actual`` and ``predicted`` repeat purchases in
        that week, and their cumulative sums ``actual_cumulative``, ``predicted_cumulative``.
    metrics : pandas.Series
        ``mae`` and ``rmse`` of the per-customer holdout forecast, ``bias`` (as in totals),
        ``correlation`` of predicted and actual, ``tracking_mape`` (mean absolute percentage error of
        the cumulative tracking over the holdout weeks), ``actual_total``, ``predicted_total``.
    calibration_end, as_of : pandas.Timestamp
    """

    model: PurchaseModel
    summary: pd.DataFrame
    totals: pd.DataFrame
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame
    metrics: pd.Series
    calibration_end: pd.Timestamp
    as_of: pd.Timestamp


def _repeat_occasion_days(transactions, customer_col, date_col, as_day, cal_day):
    """Days (int) of the repeat purchase occasions, up to as_of, of customers first buying by cal_day,
    and the first-purchase days of those customers."""
    days = _to_days(transactions[date_col], date_col)
    codes, _ = _customer_codes(transactions[customer_col], customer_col)
    keep = days <= as_day
    codes, days = codes[keep].astype(np.int64), days[keep]
    occ = pd.unique((codes << 32) + (days - days.min()))  # distinct (customer, day)
    occ_c = occ >> 32
    occ_d = (occ & 0xFFFFFFFF) + days.min()
    first = np.full(int(codes.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, occ_c, occ_d)
    cohort = first <= cal_day
    rep = (occ_d > first[occ_c]) & cohort[occ_c]
    return occ_d[rep], first[cohort]


def holdout_validation(transactions, customer_col, date_col, value_col=None, *, as_of=None, calibration_end=None,
                       holdout_weeks=None, model="bgnbd", time_unit="W", max_frequency=7) -> HoldoutResult:
    """Fit a purchase model on a calibration period and check its forecast of the following holdout.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The order log.
    customer_col, date_col, value_col : str
        As in :func:`clvlib.rfm_summary` (``value_col`` is only carried into the summary).
    as_of : date-like, optional
        End of the holdout period (default: the last order date).
    calibration_end : date-like, optional
        Last day of the calibration period. Give this or ``holdout_weeks``.
    holdout_weeks : int or float, optional
        Length of the holdout period in weeks; ``calibration_end = as_of - 7 * holdout_weeks`` days.
    model : {"bgnbd", "paretonbd"} or an unfitted BetaGeoModel / ParetoNBDModel
        The purchase model (a model instance is copied with its hyperparameters, then fitted).
    time_unit : {"W", "D"}
        Time unit of the summary the model is fitted on.
    max_frequency : int, default 7
        Calibration purchase counts from this one up are pooled ("7+") in ``by_frequency``.

    Returns
    -------
    HoldoutResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> n = 300
    >>> cust = np.repeat(np.arange(n), 4)
    >>> days = np.sort(rng.integers(0, 400, (n, 4)), axis=1).ravel()
    >>> log = pd.DataFrame({"c": cust, "d": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D")})
    >>> res = holdout_validation(log, "c", "d", holdout_weeks=13)
    >>> list(res.by_frequency.columns)
    ['customers', 'actual_mean', 'predicted_mean', 'actual_total', 'predicted_total']
    """
    est = _estimator(model)
    if isinstance(max_frequency, bool) or not isinstance(max_frequency, (int, np.integer)) or max_frequency < 1:
        raise ParamsError(f"holdout_validation: max_frequency must be an int >= 1; got {max_frequency!r}")
    if not isinstance(transactions, pd.DataFrame) or date_col not in transactions.columns:
        # rfm_summary gives the detailed message
        return rfm_summary(transactions, customer_col, date_col, value_col)  # raises
    if len(transactions) == 0:
        raise DataError("the transaction table is empty: there are no orders to validate on")
    as_day, cal_day = _holdout_days(transactions, date_col, as_of, calibration_end, holdout_weeks)
    as_ts = pd.Timestamp(np.datetime64(as_day, "D"))
    cal_ts = pd.Timestamp(np.datetime64(cal_day, "D"))

    summary = rfm_summary(transactions, customer_col, date_col, value_col, as_of=as_ts, calibration_end=cal_ts,
                          time_unit=time_unit)
    est.fit(summary)
    horizon = summary["duration_holdout"].to_numpy()
    pred = est.predict_purchases(summary, horizon[0]).to_numpy()
    actual = summary["frequency_holdout"].to_numpy().astype(float)
    summary = summary.assign(predicted_holdout=pred)
    totals = _totals(actual, pred)
    by_frequency = _by_frequency(summary["frequency"].to_numpy(), actual, pred, max_frequency)
    rep_days, first_days = _repeat_occasion_days(transactions, customer_col, date_col, as_day, cal_day)
    tracking = _tracking(est, rep_days, first_days, as_day, cal_day, DAYS_PER_UNIT[time_unit])
    metrics = _metrics(actual, pred, tracking, totals["bias"].iloc[0])
    return HoldoutResult(est, summary, totals, by_frequency, tracking, metrics, cal_ts, as_ts)


def _estimator(model) -> PurchaseModel:
    """An unfitted purchase model from a name or a model (copied with its hyperparameters)."""
    if isinstance(model, str):
        if model not in _MODELS:
            raise ParamsError(f"holdout_validation: model must be one of {', '.join(map(repr, _MODELS))} or a "
                             f"BetaGeoModel / ParetoNBDModel; got {model!r}")
        return _MODELS[model]()
    if isinstance(model, PurchaseModel):
        return type(model)(**model.get_params())
    raise ParamsError(f"holdout_validation: model must be 'bgnbd', 'paretonbd' or a purchase model; "
                     f"got {type(model).__name__}")


def _holdout_days(transactions, date_col, as_of, calibration_end, holdout_weeks) -> tuple[int, int]:
    """(as_of, calibration_end) as day numbers, from exactly one of calibration_end and holdout_weeks."""
    if as_of is None:
        as_day = int(_to_days(transactions[date_col], date_col).max())
    else:
        as_day = _to_day(as_of, "as_of")
    if (calibration_end is None) == (holdout_weeks is None):
        raise ParamsError("holdout_validation: give exactly one of calibration_end and holdout_weeks")
    if calibration_end is None:
        if isinstance(holdout_weeks, bool) or not isinstance(holdout_weeks, (int, float, np.number)) \
                or not np.isfinite(holdout_weeks) or holdout_weeks <= 0:
            raise ParamsError(f"holdout_validation: holdout_weeks must be a number > 0; got {holdout_weeks!r}")
        cal_day = as_day - int(round(7 * holdout_weeks))
    else:
        cal_day = _to_day(calibration_end, "calibration_end")
    return as_day, cal_day


def _totals(actual, pred) -> pd.DataFrame:
    """Total repeat purchases in the holdout, actual and predicted, and the bias (predicted / actual - 1)."""
    tot_a, tot_p = float(actual.sum()), float(pred.sum())
    bias = (tot_p - tot_a) / tot_a if tot_a > 0 else np.nan
    return pd.DataFrame({"customers": [len(actual)], "actual": [tot_a], "predicted": [tot_p], "bias": [bias]},
                        index=pd.Index(["holdout"], name="period"))


def _by_frequency(x, actual, pred, max_frequency) -> pd.DataFrame:
    """Holdout purchases by number of calibration purchases (FHL 2005, figure 4), pooled from max_frequency."""
    bucket = np.minimum(x, max_frequency).astype(int)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    cnt = np.bincount(bucket, minlength=max_frequency + 1)
    sa = np.bincount(bucket, weights=actual, minlength=max_frequency + 1)
    sp = np.bincount(bucket, weights=pred, minlength=max_frequency + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({"customers": cnt, "actual_mean": sa / cnt, "predicted_mean": sp / cnt,
                             "actual_total": sa, "predicted_total": sp},
                            index=pd.Index(labels, name="calibration_purchases"))


def _tracking(est, rep_days, first_days, as_day, cal_day, unit) -> pd.DataFrame:
    """Weekly tracking of repeat purchases over calibration and holdout (FHL 2005, figure 2): actual
    counts against the unconditional expectation summed over the customers' ages."""
    start = int(first_days.min())
    n_weeks = int(np.ceil((as_day - start + 1) / 7))
    week_end = np.minimum(start + 7 * np.arange(1, n_weeks + 1) - 1, as_day)
    actual_week = np.bincount((rep_days - start) // 7, minlength=n_weeks)[:n_weeks].astype(float)
    u_first, n_first = np.unique(first_days, return_counts=True)
    age = np.maximum(week_end[:, None] - u_first[None, :], 0) / unit
    cum_pred = est.expected_purchases(age) @ n_first
    pred_week = np.diff(cum_pred, prepend=0.0)
    return pd.DataFrame({
        "week": np.arange(1, n_weeks + 1),
        "week_end": pd.to_datetime(week_end.astype("datetime64[D]")),
        "period": np.where(week_end <= cal_day, "calibration", "holdout"),
        "actual": actual_week, "predicted": pred_week,
        "actual_cumulative": np.cumsum(actual_week), "predicted_cumulative": cum_pred,
    })


def _metrics(actual, pred, tracking, bias) -> pd.Series:
    """Per-customer errors, bias, correlation and the tracking error over the holdout weeks."""
    err = pred - actual
    hold = tracking["period"].to_numpy() == "holdout"
    ac = tracking["actual_cumulative"].to_numpy()[hold]
    cum_pred = tracking["predicted_cumulative"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mape = float(np.mean(np.abs(cum_pred[hold] - ac) / ac)) if hold.any() and (ac > 0).all() else np.nan
        corr = float(np.corrcoef(pred, actual)[0, 1]) if len(pred) > 1 and actual.std() > 0 else np.nan
    return pd.Series({"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
                      "bias": bias, "correlation": corr, "tracking_mape": mape,
                      "actual_total": float(actual.sum()), "predicted_total": float(pred.sum())}, name="holdout")
