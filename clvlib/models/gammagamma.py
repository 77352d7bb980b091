"""The Gamma-Gamma model of average transaction value."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, polygamma

from clvlib.errors import ClvWarning, DataError, ModelError
from clvlib.models.base import (_plain, BaseModel, single_threaded_blas,
                                summary_arrays, warm_start)

__all__ = ["GammaGammaModel"]

WARM_START_ABOVE = 60_000
WARM_START_SIZE = 20_000


class GammaGammaModel(BaseModel):
    r"""Gamma-Gamma model of a customer's average transaction value (Fader, Hardie & Lee 2005, JMR).

    A customer's transaction values are :math:`\mathrm{Gamma}(p, \nu)` with mean :math:`p/\nu`; across
    customers :math:`\nu \sim \mathrm{Gamma}(q, \gamma)`. The model assumes that a customer's spend
    level is independent of how often they buy -- check the correlation of ``frequency`` and
    ``monetary_value`` among repeat customers before relying on it. Values must be positive: it is a
    model of revenue or of (positive) gross margin per order.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * (p**2 + q**2 + gamma**2)`` on the mean negative log-likelihood, with
        gamma in an internal value unit in which the mean average value is 1.
    initial_params : dict, optional
        Start values for some of ``p``, ``q``, ``gamma`` (gamma in the value's currency unit).
    max_iter : int, default 500
        Maximum L-BFGS-B iterations.
    tol : float, default 1e-8
        Gradient tolerance on the mean log-likelihood.
    fallback : bool, default True
        Refit with a small penalizer (warning, ``fallback_``) when the plain fit does not converge;
        if False raise :class:`clvlib.errors.ModelError`.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``gamma`` (gamma in currency units).
    log_likelihood_ : float
        Full log-likelihood of the repeat customers' average values (density of eq. 1a of the note,
        constants included).
    standard_errors_, covariance_, n_customers_, converged_, n_iter_, fallback_
        As in :class:`BetaGeoModel`; ``n_customers_`` counts the repeat customers fitted.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves
       for customer base analysis. Journal of Marketing Research 42(4), 415-430 (CDNOW estimates
       p = 6.25, q = 3.74, gamma = 15.44).
    .. [2] Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
       http://brucehardie.com/notes/025/ -- likelihood eq. (1a), conditional expectation eq. (5).
    .. [3] Colombo, R. & Jiang, W. (1999). A stochastic RFM model. Journal of Interactive Marketing
       13(3), 2-12.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvlib.models import GammaGammaModel
    >>> summary = pd.DataFrame({"frequency": [0, 1, 3, 2, 5, 2, 1, 4],
    ...                         "monetary_value": [0.0, 20.0, 35.0, 18.0, 50.0, 25.0, 12.0, 30.0]})
    >>> model = GammaGammaModel().fit(summary)
    >>> model.n_customers_
    7
    >>> v = model.conditional_expected_average_value(summary)
    >>> bool(abs(v.iloc[0] - model.expected_average_value()) < 1e-9)  # frequency 0: population mean
    True
    """

    _param_names = ("p", "q", "gamma")

    # --------------------------------------------------------------- data
    def _repeat_arrays(self, summary, what):
        name = f"{type(self).__name__}.{what}"
        cols, idx = summary_arrays(summary, name, columns=("frequency",), monetary=True)
        x, m = cols["frequency"], cols["monetary_value"]
        bad = (x > 0) & (m <= 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(f"{name}: column 'monetary_value' is <= 0 for {int(bad.sum())} repeat customers "
                            f"(e.g. customer {_plain(idx[pos])!r}: {float(m[pos])!r}); the Gamma-Gamma model needs positive "
                            f"average values")
        return x, m, idx

    @staticmethod
    def _prepare(x, m):
        present = np.bincount(x.astype(np.int64)) > 0
        ux = np.flatnonzero(present).astype(float)
        xi = (np.cumsum(present) - 1)[x.astype(np.int64)]
        cx = np.bincount(xi, minlength=len(ux)).astype(float)
        lm = np.log(m)
        return {"x": x, "xm": x * m, "ux": ux, "cx": cx, "S_lm": lm.sum(), "S_xlm": x @ lm,
                "S_xlx": cx @ (ux * np.log(ux)), "S_x": x.sum(), "n": float(len(x))}

    @staticmethod
    def _nll_grad(z, d):
        f, g, _ = GammaGammaModel._nll_grad_hess(z, d, order=1)
        return f, g

    @staticmethod
    def _nll_grad_hess(z, d, order=2):
        """Total negative log-likelihood, gradient and Hessian in the log-parameters (see BetaGeoModel)."""
        p, q, v = np.exp(z)
        ux, cx, x, n = d["ux"], d["cx"], d["x"], d["n"]
        px = p * ux
        gv = v + d["xm"]
        lz = np.log(gv)
        S_lz, S_xlz = lz.sum(), x @ lz
        ll = (cx @ (gammaln(px + q) - gammaln(px)) - n * gammaln(q) + n * q * np.log(v)
              + p * d["S_xlm"] - d["S_lm"] + p * d["S_xlx"] - p * S_xlz - q * S_lz)
        if order == 0:
            return -ll, None, None
        iz = 1.0 / gv
        S_iz, S_xiz = iz.sum(), x @ iz
        g = np.array([cx @ (ux * (digamma(px + q) - digamma(px))) + d["S_xlm"] + d["S_xlx"] - S_xlz,
                      cx @ digamma(px + q) - n * digamma(q) + n * np.log(v) - S_lz,
                      n * q / v - p * S_xiz - q * S_iz])
        theta = np.array([p, q, v])
        if order == 1:
            return -ll, -g * theta, None
        iz2 = iz * iz
        t1 = polygamma(1, px + q)
        H = np.empty((3, 3))
        H[0, 0] = cx @ (ux * ux * (t1 - polygamma(1, px)))
        H[0, 1] = H[1, 0] = cx @ (ux * t1)
        H[0, 2] = H[2, 0] = -S_xiz
        H[1, 1] = cx @ t1 - n * polygamma(1, q)
        H[1, 2] = H[2, 1] = n / v - S_iz
        H[2, 2] = -n * q / v**2 + p * (x @ iz2) + q * iz2.sum()
        H_log = H * np.outer(theta, theta) + np.diag(theta * g)
        return -ll, -g * theta, -H_log

    # --------------------------------------------------------------- fit
    def fit(self, summary):
        """Fit to the repeat customers (``frequency`` > 0) of a per-customer summary.

        Parameters
        ----------
        summary : pandas.DataFrame
            Per-customer ``frequency`` and ``monetary_value`` (mean value of the repeat purchases), as
            made by :func:`clvlib.rfm_summary` with a value column. Customers with frequency 0 are
            ignored here.

        Returns
        -------
        self
        """
        self._validate_params()
        x, m, _ = self._repeat_arrays(summary, "fit")
        rep = x > 0
        x, m = x[rep], m[rep]
        n = len(x)
        if n < 2:
            raise ModelError(f"GammaGammaModel cannot be fitted: it needs at least 2 repeat customers "
                             f"(frequency > 0); got {n}")
        with single_threaded_blas():
            self._fit_arrays(x, m, n)
        if self.params_["q"] <= 1:
            warnings.warn(f"GammaGammaModel: q = {self.params_['q']:.3g} <= 1, so the fitted distribution of "
                          f"average values has no finite mean; expected values cannot be computed. The "
                          f"values are too heavy-tailed for this model.", ClvWarning, stacklevel=2)
        return self

    def _fit_arrays(self, x, m, n):
        scale = 1.0 / m.mean()  # internal value unit: the mean average value is 1
        log_unscale = np.array([0.0, 0.0, -np.log(scale)])
        z0 = np.log([2.0, 3.0, 2.0])  # p, q, gamma: mean value p * gamma / (q - 1) = 2 internal units
        if self.initial_params:
            z0 = self._initial_z(z0, log_unscale)
        elif n > WARM_START_ABOVE:
            step = n // WARM_START_SIZE
            sub = self._prepare(x[::step], m[::step] * scale)
            z0 = warm_start(self, sub, len(x[::step]), z0)
        data = self._prepare(x, m * scale)
        res = self._fit_with_fallback(data, n, z0)
        self._store_fit(res, n, log_unscale, const=n * np.log(scale))

    # --------------------------------------------------------------- predictions
    def expected_average_value(self) -> float:
        """Population mean transaction value p * gamma / (q - 1) (what a customer with no repeat
        purchase is expected to spend per purchase)."""
        p, q, v = self._p
        self._check_q(q)
        return p * v / (q - 1.0)

    @staticmethod
    def _check_q(q):
        if np.any(np.asarray(q) <= 1):
            raise ModelError(f"GammaGammaModel: q = {float(np.min(q)):.3g} <= 1, so the average transaction value has "
                             f"no finite mean; the model cannot give expected values for these data")

    @staticmethod
    def _expected(params, x, m):
        p, q, v = params
        return p * (v + m * x) / (p * x + q - 1.0)

    def conditional_expected_average_value(self, summary) -> pd.Series:
        r"""Expected value per future transaction of each customer, given their history.

        .. math:: E[Z \mid p, q, \gamma, \bar z, x] = \frac{p(\gamma + x\bar z)}{px + q - 1}
                  = \frac{q-1}{px+q-1}\,\frac{p\gamma}{q-1} + \frac{px}{px+q-1}\,\bar z,

        a weighted average of the population mean and the customer's observed mean (note 025 eq. 5;
        FHL 2005 JMR). Customers with frequency 0 get the population mean.

        Parameters
        ----------
        summary : pandas.DataFrame
            Per-customer ``frequency`` and ``monetary_value``.

        Returns
        -------
        pandas.Series
            Indexed like ``summary``, in the value column's currency.
        """
        self._check_fitted()
        x, m, idx = self._repeat_arrays(summary, "conditional_expected_average_value")
        params = self._p
        self._check_q(params[1])
        p, q, v = params
        out = np.where(x > 0, m, 0.0)      # p (v + m x) / (p x + q - 1), in place
        out *= x
        out += v
        out *= p
        den = x * p
        den += q - 1.0
        out /= den
        return pd.Series(out, index=idx, name="expected_average_value")

    def log_likelihood(self, summary) -> pd.Series:
        """Each repeat customer's log-likelihood (density of their average value); NaN for frequency 0."""
        self._check_fitted()
        x, m, idx = self._repeat_arrays(summary, "log_likelihood")
        p, q, v = self._p
        with np.errstate(all="ignore"):
            px = p * x
            ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m)
                  + px * np.log(x) - (px + q) * np.log(v + m * x))
        return pd.Series(np.where(x > 0, ll, np.nan), index=idx, name="log_likelihood")
