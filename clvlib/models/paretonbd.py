"""The Pareto/NBD purchase model."""
from __future__ import annotations

import numpy as np
from scipy.special import expit, exprel, gammaln, hyp2f1

from clvlib.models._purchase import PurchaseModel
from clvlib.models.base import unique_rows

__all__ = ["ParetoNBDModel"]


class ParetoNBDModel(PurchaseModel):
    r"""Pareto/NBD model of repeat purchasing, Schmittlein, Morrison & Colombo (1987).

    While active, a customer buys as a Poisson process with rate :math:`\lambda \sim
    \mathrm{Gamma}(r, \alpha)`; their unobserved lifetime is exponential with rate :math:`\mu \sim
    \mathrm{Gamma}(s, \beta)` (drop-out can happen at any time, not only after a purchase as in BG/NBD).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * (r**2 + alpha**2 + s**2 + beta**2)`` on the mean negative
        log-likelihood, with alpha and beta in an internal time unit in which the oldest T is 10.
    initial_params : dict, optional
        Start values for some of ``r``, ``alpha``, ``s``, ``beta`` (rates in the summary's time unit).
    max_iter : int, default 500
        Maximum L-BFGS-B iterations.
    tol : float, default 1e-8
        Gradient tolerance on the mean log-likelihood. The gradient is by central differences (the
        likelihood involves Gauss hypergeometric functions of the parameters).
    fallback : bool, default True
        Refit with a small penalizer (warning, ``fallback_``) when the plain fit does not converge;
        if False raise :class:`clvlib.errors.ModelError`.

    Attributes
    ----------
    params_, log_likelihood_, standard_errors_, covariance_, n_customers_, converged_, n_iter_, fallback_
        As in :class:`BetaGeoModel`; ``log_likelihood_`` is the full log-likelihood (-9595.0 on the
        CDNOW calibration data).

    References
    ----------
    .. [1] Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who are
       they and what will they do next? Management Science 33(1), 1-24.
    .. [2] Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and related
       expressions. http://brucehardie.com/notes/009/ -- likelihood eqs. (18)-(20), P(alive)
       eq. (24), unconditional expectation eq. (27), conditional expectation eq. (41).

    Examples
    --------
    >>> import pandas as pd
    >>> from clvlib.models import ParetoNBDModel
    >>> summary = pd.DataFrame({"frequency": [0, 1, 3, 0, 5, 2, 0, 7, 1, 0],
    ...                         "recency": [0.0, 10.0, 30.0, 0.0, 35.0, 5.0, 0.0, 38.0, 2.0, 0.0],
    ...                         "T": [39.0, 38.0, 39.0, 20.0, 39.0, 30.0, 12.0, 39.0, 25.0, 8.0]})
    >>> model = ParetoNBDModel().fit(summary)
    >>> p = model.probability_alive(summary)
    >>> bool(((p > 0) & (p <= 1)).all())
    True
    """

    _param_names = ("r", "alpha", "s", "beta")
    _time_params = (1, 3)

    # --------------------------------------------------------------- likelihood
    @staticmethod
    def _prepare(x, tx, T, scale=1.0):
        inv, first = unique_rows(x, tx, T)
        w = np.bincount(inv).astype(float)
        return {"x": x[first], "tx": tx[first] * scale, "T": T[first] * scale, "w": w}

    @staticmethod
    def _log_terms(params, x, tx, T):
        """log of the 'still alive at T' term and of the 'died in (t_x, T]' term of the likelihood."""
        r, al, s, be = params
        rsx = r + s + x
        m = np.maximum(al, be)
        bb = np.where(al >= be, s + 1.0, r + x)
        dab = np.abs(al - be)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lF_tx = np.log(hyp2f1(rsx, bb, rsx + 1.0, dab / (m + tx))) - rsx * np.log(m + tx)
            lF_T = np.log(hyp2f1(rsx, bb, rsx + 1.0, dab / (m + T))) - rsx * np.log(m + T)
            # A0 = F(t_x) - F(T) >= 0, in logs; -inf when t_x == T
            log_A0 = lF_tx + np.log(-np.expm1(np.minimum(lF_T - lF_tx, 0.0)))
            log_alive = -(r + x) * np.log(al + T) - s * np.log(be + T)
            log_dead = np.log(s) - np.log(rsx) + log_A0
        return log_alive, log_dead

    @classmethod
    def _loglik_rows(cls, params, x, tx, T):
        r, al, s, be = params
        la, ld = cls._log_terms(params, x, tx, T)
        return gammaln(r + x) - gammaln(r) + r * np.log(al) + s * np.log(be) + np.logaddexp(la, ld)

    @classmethod
    def _nll(cls, z, d):
        ll = cls._loglik_rows(np.exp(z), d["x"], d["tx"], d["T"])
        return -(d["w"] @ ll)

    @classmethod
    def _nll_grad(cls, z, d, h=1e-6):
        f = cls._nll(z, d)
        g = np.empty(len(z))
        for i in range(len(z)):
            e = np.zeros(len(z))
            e[i] = h
            g[i] = (cls._nll(z + e, d) - cls._nll(z - e, d)) / (2 * h)
        if not np.isfinite(f):
            f = np.inf
        return f, g

    def _hessian(self, obj, z, h=1e-4):
        return super()._hessian(obj, z, h=h)

    # --------------------------------------------------------------- predictions
    @classmethod
    def _alive(cls, params, x, tx, T):
        """P(alive | x, t_x, T), Fader & Hardie (2005) note 009 eq. (24)."""
        la, ld = cls._log_terms(params, x, tx, T)
        return expit(la - ld)

    @staticmethod
    def _g(params, x, T, t):
        r"""Expected purchases in (T, T + t] of a customer alive at T (note 009 eq. (41) / P(alive)):

        .. math:: g = \frac{(r+x)(\beta+T)}{(\alpha+T)(s-1)}\Big[1 - \Big(\frac{\beta+T}{\beta+T+t}
                  \Big)^{s-1}\Big] = \frac{(r+x)(\beta+T)}{\alpha+T}\,[-L\,\mathrm{exprel}((s-1)L)],

        with :math:`L = \log\frac{\beta+T}{\beta+T+t}`, which stays finite at s = 1. With x = T = 0
        it is the unconditional expectation, eq. (27).
        """
        r, al, s, be = params
        x, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, T, t)))
        L = np.log(be + T) - np.log(be + T + t)
        return (r + x) * (be + T) / (al + T) * (-L * exprel((s - 1.0) * L))
