"""What the BG/NBD and Pareto/NBD models share: fit on a summary, predictions by (x, T) pairs.

Both models' conditional expectation factorises as

    E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) * g(x, T, t),

where g, the expected purchases in the next t time units *if the customer is alive*, does not depend
on recency. Predictions therefore evaluate the (costly, hypergeometric) g only once per distinct
(x, T) pair and the cheap P(alive) once per customer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import ModelError, ParamsError
from clvlib.models.base import BaseModel, single_threaded_blas, summary_arrays, unique_rows, warm_start

#: Above this many customers the fit first runs on a systematic subsample to get a good start.
WARM_START_ABOVE = 60_000
WARM_START_SIZE = 20_000


def _as_horizon(t, n, owner):
    arr = np.asarray(t, dtype=float)
    if arr.ndim == 0:
        if not np.isfinite(arr) or arr < 0:
            raise ParamsError(f"{owner}: t must be a finite number >= 0; got {t!r}")
        return float(arr)
    if arr.shape != (n,):
        raise ParamsError(f"{owner}: t must be a number or one value per customer ({n}); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise ParamsError(f"{owner}: t must be finite and >= 0")
    return arr


class PurchaseModel(BaseModel):
    """Base of the buy-till-you-die purchase models (BG/NBD, Pareto/NBD)."""

    _time_params: tuple = ()  # indices of the rate parameters that carry a time unit

    # --------------------------------------------------------------- fitting
    def fit(self, summary):
        """Fit the model by maximum likelihood to a per-customer summary.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer with columns ``frequency`` (repeat purchases, integer >= 0),
            ``recency`` and ``T`` (in one time unit, 0 <= recency <= T), as made by
            :func:`clvlib.rfm_summary`.

        Returns
        -------
        self
        """
        self._validate_params()
        name = type(self).__name__
        cols, _ = summary_arrays(summary, f"{name}.fit")
        x, tx, T = cols["frequency"], cols["recency"], cols["T"]
        n = len(x)
        if not (x > 0).any():
            raise ModelError(f"{name} cannot be fitted: none of the {n} customers made a repeat purchase "
                             f"(all frequency 0), so repeat buying and drop-out cannot be estimated")
        if T.max() <= 0:
            raise ModelError(f"{name} cannot be fitted: every customer's age T is 0")
        scale = 10.0 / T.max()  # internal time unit: the oldest customer is 10 units old (as in lifetimes)
        log_unscale = np.zeros(len(self._param_names))
        log_unscale[list(self._time_params)] = -np.log(scale)
        with single_threaded_blas():
            return self._fit_arrays(x, tx, T, n, scale, log_unscale)

    def _fit_arrays(self, x, tx, T, n, scale, log_unscale):
        z0 = np.zeros(len(self._param_names))
        if self.initial_params:
            z0 = self._initial_z(z0, log_unscale)
        elif n > WARM_START_ABOVE:
            step = n // WARM_START_SIZE
            sub = self._prepare(x[::step], tx[::step], T[::step], scale)
            z0 = self._warm_start(sub, len(x[::step]), z0)
        data = self._prepare(x, tx, T, scale)
        res = self._fit_with_fallback(data, n, z0)
        return self._store_fit(res, n, log_unscale, const=float(x.sum()) * np.log(scale))

    def _warm_start(self, data, n, z0):
        return warm_start(self, data, n, z0)

    # --------------------------------------------------------------- predictions
    def _arrays(self, summary, what):
        self._check_fitted()
        cols, idx = summary_arrays(summary, f"{type(self).__name__}.{what}")
        return cols["frequency"], cols["recency"], cols["T"], idx

    def _g_by_pairs(self, params, x, T, t):
        """g(x, T, t) for every customer, evaluated once per distinct (x, T[, t])."""
        if np.ndim(t) == 0:
            inv, first = unique_rows(x, T)
            return self._g(params, x[first], T[first], t)[inv]
        inv, first = unique_rows(x, T, t)
        return self._g(params, x[first], T[first], t[first])[inv]

    def probability_alive(self, summary) -> pd.Series:
        """Probability that each customer is still active (has not dropped out) at the end of the data.

        Parameters
        ----------
        summary : pandas.DataFrame
            Per-customer ``frequency``, ``recency``, ``T`` (see :func:`clvlib.rfm_summary`).

        Returns
        -------
        pandas.Series
            Values in (0, 1], indexed like ``summary``.
        """
        x, tx, T, idx = self._arrays(summary, "probability_alive")
        return pd.Series(self._alive(self._p, x, tx, T), index=idx, name="probability_alive")

    def predict_purchases(self, summary, t) -> pd.Series:
        """Expected number of repeat purchases of each customer in the next ``t`` time units.

        The conditional expectation given the customer's history (x, t_x, T).

        Parameters
        ----------
        summary : pandas.DataFrame
            Per-customer ``frequency``, ``recency``, ``T`` (see :func:`clvlib.rfm_summary`).
        t : float or array-like
            Forecast horizon in the summary's time unit (one value, or one per customer).

        Returns
        -------
        pandas.Series
            Indexed like ``summary``.
        """
        x, tx, T, idx = self._arrays(summary, "predict_purchases")
        t = _as_horizon(t, len(x), f"{type(self).__name__}.predict_purchases")
        p = self._p
        with np.errstate(all="ignore"):
            out = self._alive(p, x, tx, T) * self._g_by_pairs(p, x, T, t)
        return pd.Series(out, index=idx, name="predicted_purchases")

    def expected_purchases(self, t):
        """Expected repeat purchases of a newly acquired customer in the first ``t`` time units after the
        first purchase (unconditional expectation). ``t`` may be an array."""
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        if not np.all(np.isfinite(t)) or (t < 0).any():
            raise ParamsError(f"{type(self).__name__}.expected_purchases: t must be finite and >= 0")
        zero = np.zeros_like(t)
        with np.errstate(all="ignore"):
            out = self._g(self._p, zero, zero, t)
        return float(out) if out.ndim == 0 else out

    def log_likelihood(self, summary) -> pd.Series:
        """Each customer's log-likelihood at the fitted parameters (their sum is ``log_likelihood_``
        when evaluated on the data the model was fitted to)."""
        x, tx, T, idx = self._arrays(summary, "log_likelihood")
        return pd.Series(self._loglik_rows(self._p, x, tx, T), index=idx, name="log_likelihood")
