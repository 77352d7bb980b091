"""The Pareto/NBD purchase model."""
from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit, exprel, gammaln, hyp2f1

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
        Gradient tolerance on the mean log-likelihood. The gradient is analytic (``_nll_grad``: the
        hypergeometric terms and their parameter derivatives as one series); the Hessian behind the
        standard errors is central differences of that gradient.
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
    .. [3] Abramowitz, M. & Stegun, I. A. (1964). Handbook of Mathematical Functions, 15.3.3 (Euler's
       transformation of 2F1, used for the series of the likelihood and its gradient).

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
        """Distinct customers (x, t_x, T) with their counts, and the distinct (x, t) pairs at which the
        tail integral G is needed: ``i_tx`` / ``i_T`` point each distinct customer at its two pairs."""
        inv, first = unique_rows(x, tx, T)
        w = np.bincount(inv).astype(float)
        x, tx, T = x[first], tx[first] * scale, T[first] * scale
        both_x, both_t = np.concatenate([x, x]), np.concatenate([tx, T])
        pinv, pfirst = unique_rows(both_x, both_t)
        n = len(x)
        return {"x": x, "tx": tx, "T": T, "w": w, "px": both_x[pfirst], "pt": both_t[pfirst],
                "i_tx": pinv[:n], "i_T": pinv[n:], "same": tx == T}

    @classmethod
    def _nll_grad(cls, z, d, order=1):
        r"""Negative log-likelihood (and, with ``order`` 1, its gradient in the log-parameters).

        Schmittlein, Morrison & Colombo (1987); in the form of Fader & Hardie (2005, note 009,
        eqs. 18-20), a customer with x repeat purchases, the last at t_x, observed for T contributes

        .. math:: L = \frac{\Gamma(r+x)\,\alpha^r\beta^s}{\Gamma(r)}\Big[\frac{1}{(\alpha+T)^{r+x}
                  (\beta+T)^s} + \frac{s}{r+s+x}A_0\Big],

        :math:`A_0 = F(t_x) - F(T)`, :math:`F(t) = {}_2F_1\big(r+s+x, b; r+s+x+1;
        \frac{|\alpha-\beta|}{\max(\alpha,\beta)+t}\big) / (\max(\alpha,\beta)+t)^{r+s+x}` with
        b = s + 1 if alpha >= beta, else r + x. Both terms come from integrating over the drop-out time:
        :math:`\frac{s}{r+s+x}F(t) = s\,G(t)` with the tail integral

        .. math:: G(t) = \int_t^\infty (\alpha+\tau)^{-(r+x)}(\beta+\tau)^{-(s+1)}\,d\tau,

        so :math:`L = C\,[A + s\,(G(t_x) - G(T))]` with :math:`C = \Gamma(r+x)\alpha^r\beta^s/\Gamma(r)`
        and :math:`A = (\alpha+T)^{-(r+x)}(\beta+T)^{-s}`. The derivatives of G are integrals of the same kind:
        :math:`\partial_\alpha G = -(r+x)\int(\alpha+\tau)^{-1}(\cdot)`, :math:`\partial_\beta G =
        -(s+1)\int(\beta+\tau)^{-1}(\cdot)`, :math:`\partial_r G = -\int\log(\alpha+\tau)(\cdot)`,
        :math:`\partial_s G = -\int\log(\beta+\tau)(\cdot)`; ``_log_tail`` evaluates G and its
        gradient in closed series form, and

        .. math:: \nabla\log L = \nabla\log C + (1-\omega)\nabla\log A + \omega\,\nabla\log\big(s\,
                  (G(t_x) - G(T))\big), \quad \omega = \frac{s(G(t_x)-G(T))}{A + s(G(t_x)-G(T))},

        :math:`\nabla\log(G_1 - G_2) = (\nabla\log G_1 - e^{\delta}\nabla\log G_2)/(1 - e^{\delta})`,
        :math:`\delta = \log G_2 - \log G_1`, all in logs (no under- or overflow for large x).
        """
        r, al, s, be = theta = np.exp(z)
        x, T, wts = d["x"], d["T"], d["w"]
        lG, dG = cls._log_tail(theta, d["px"], d["pt"], order)
        l1, l2 = lG[d["i_tx"]], lG[d["i_T"]]
        delta = np.minimum(l2 - l1, 0.0)
        same = d["same"] | (delta == 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_dead = np.where(same, -np.inf, np.log(s) + l1 + np.log(-np.expm1(delta)))
        log_alive = -(r + x) * np.log(al + T) - s * np.log(be + T)
        log_c = gammaln(r + x) - gammaln(r) + r * np.log(al) + s * np.log(be)
        ll = log_c + np.logaddexp(log_alive, log_dead)
        f = -(wts @ ll)
        if not np.isfinite(f):
            f = np.inf
        if order == 0:
            return f, None
        # the customers' weights, pushed onto the pairs whose gradients they combine
        w_dead = wts * np.where(same, 0.0, expit(log_dead - log_alive))
        w_alive = wts - w_dead
        with np.errstate(divide="ignore", invalid="ignore"):
            c1 = np.where(same, 0.0, w_dead / -np.expm1(delta))
        n_pairs = len(lG)
        per_pair = (np.bincount(d["i_tx"], weights=c1, minlength=n_pairs)
                    - np.bincount(d["i_T"], weights=c1 * np.exp(delta), minlength=n_pairs))
        grad = per_pair @ dG
        lT_a, lT_b = np.log(al + T), np.log(be + T)
        W = wts.sum()
        grad += [wts @ digamma(r + x) - W * digamma(r) + W * np.log(al) - w_alive @ lT_a,
                 W * r / al - w_alive @ ((r + x) / (al + T)),
                 W * np.log(be) - w_alive @ lT_b + w_dead.sum() / s,
                 W * s / be - s * (w_alive @ (1.0 / (be + T)))]
        return f, -grad * theta

    #: the series of ``_series`` is used where its argument w is at most this; closer to 1 it
    #: converges slowly, and G is the series at this w plus a quadrature from t up to that point
    W_SERIES = 0.7
    #: Gauss-Legendre nodes for that quadrature
    N_NODES = 48

    @classmethod
    def _log_tail(cls, theta, x, t, order=1):
        r"""log G(t) of ``_nll_grad`` for pairs (x, t), and (order 1) its gradient in (r, alpha, s, beta).

        With m = max(alpha, beta), o the other rate, p_m and p_o their exponents (r + x for alpha,
        s + 1 for beta), k = p_m + p_o - 1 and :math:`w = (m-o)/(m+t) \in [0, 1)`, expanding the
        factor of the smaller rate around the larger gives :math:`G = \frac{(m+t)^{-k}}{k}\,
        {}_2F_1(p_o, k; k+1; w)` (which is eq. 19/20's F(t) / (r+s+x)), and Euler's transformation
        :math:`{}_2F_1(p_o, k; k+1; w) = (1-w)^{1-p_o}\,{}_2F_1(p_m, 1; k+1; w)` a series with
        positive, decreasing terms:

        .. math:: G(t) = \frac{(m+t)^{-p_m}(o+t)^{1-p_o}}{k}\,S(w), \qquad
                  S(w) = \sum_{n\ge 0}\frac{(p_m)_n}{(k+1)_n}\,w^n .

        Hence :math:`\partial_m\log G = -\frac{p_m}{m+t} + \frac{S_w}{S}\frac{1-w}{m+t}`,
        :math:`\partial_o\log G = \frac{1-p_o}{o+t} - \frac{S_w}{S}\frac{1}{m+t}`,
        :math:`\partial_{p_m}\log G = -\log(m+t) + \frac{S_{p_m} + S_k}{S} - \frac1k`,
        :math:`\partial_{p_o}\log G = -\log(o+t) + \frac{S_k}{S} - \frac1k` (k moves with both).
        Where w > ``W_SERIES`` (the rates far apart and t small), G is split at the t* with
        w(t*) = ``W_SERIES``: the series there plus a Gauss-Legendre quadrature over (t, t*).
        """
        r, al, s, be = theta
        a_main = al >= be
        m, o = (al, be) if a_main else (be, al)
        pm = (r + x) if a_main else np.full_like(x, s + 1.0)
        po = np.full_like(x, s + 1.0) if a_main else (r + x)
        lG = np.empty(len(x))
        grad = np.empty((len(x), 4)) if order else None
        w = (m - o) / (m + t)
        near = w > cls.W_SERIES
        far = ~near
        lG[far], g = cls._log_tail_series(m, o, pm[far], po[far], t[far], order)
        if order:
            grad[far] = g
        if near.any():
            lG[near], g = cls._log_tail_split(m, o, pm[near], po[near], t[near], order)
            if order:
                grad[near] = g
        if order:
            # columns (p_m, p_o, m, o) -> (r, alpha, s, beta)
            grad = grad[:, [0, 2, 1, 3]] if a_main else grad[:, [1, 3, 0, 2]]
        return lG, grad

    @classmethod
    def _log_tail_series(cls, m, o, pm, po, t, order):
        """``_log_tail`` by the series, for w <= ``W_SERIES``; gradient columns (p_m, p_o, m, o)."""
        k = pm + po - 1.0
        mt, ot = m + t, o + t
        w = (m - o) / mt
        S, Sw, Spm, Sk = _series(w, pm, k, order)
        lG = -pm * np.log(mt) + (1.0 - po) * np.log(ot) + np.log(S) - np.log(k)
        if not order:
            return lG, None
        g = np.column_stack([-np.log(mt) + (Spm + Sk) / S - 1.0 / k, -np.log(ot) + Sk / S - 1.0 / k,
                             -pm / mt + Sw / S * (1.0 - w) / mt, (1.0 - po) / ot - Sw / S / mt])
        return lG, g

    @classmethod
    def _log_tail_split(cls, m, o, pm, po, t, order):
        r"""``_log_tail`` where w > ``W_SERIES``: G(t) = \int_t^{t*} + G(t*), w(t*) = ``W_SERIES``.

        The finite part is integrated in :math:`y = \log(o+\tau)` (the integrand is then smooth:
        :math:`e^{(1-p_o)y}(m-o+e^y)^{-p_m}`), over the stretch where it is not negligible; its
        derivatives are the same integrals with the weights of ``_nll_grad``. The split point's own
        dependence on the parameters cancels between the two parts (Leibniz), so both are differentiated
        at a fixed t*.
        """
        dmo = m - o
        t_star = dmo / cls.W_SERIES - m
        ref = -pm * np.log(m + t) + (1.0 - po) * np.log(o + t)          # log integrand (tau-measure x (o+t))
        l_star, g_star = cls._log_tail_series(m, o, pm, po, np.full_like(t, t_star), order)
        y0, y1 = np.log(o + t), np.log(o + t_star)
        # the log integrand falls at least at rate (p_o - 1) + p_m (o+t)/(m+t) in y: cut where it is e^-45 down
        rate = np.maximum(po - 1.0 + pm * (o + t) / (m + t), 1e-3)
        y1 = np.minimum(y1, y0 + 45.0 / rate)
        u, wq = np.polynomial.legendre.leggauss(cls.N_NODES)
        half = (y1 - y0) / 2
        y = (y0 + y1)[:, None] / 2 + half[:, None] * u
        ey = np.exp(y)
        lm = np.log(dmo + ey)                                            # log(m + tau)
        f = np.exp((1.0 - po)[:, None] * y - pm[:, None] * lm - ref[:, None]) * (wq * half[:, None])
        Q = f.sum(axis=1)
        G_star = np.exp(l_star - ref)
        total = Q + G_star
        lG = ref + np.log(total)
        if not order:
            return lG, None
        dQ = np.column_stack([-(f * lm).sum(axis=1), -(f * y).sum(axis=1), -pm * (f / (dmo + ey)).sum(axis=1),
                              -po * (f / ey).sum(axis=1)])
        g = (dQ + G_star[:, None] * g_star) / total[:, None]
        return lG, g

    @staticmethod
    def _log_terms(params, x, tx, T):
        """log of the 'still alive at T' term and of the 'died in (t_x, T]' term of the likelihood
        (eqs. 18-20 with scipy's hyp2f1; the predictions use it, the fit uses ``_nll_grad``)."""
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


#: the series stops when the remaining terms are below this, relative to the sum
_SERIES_EPS = 1e-17
#: at most this many terms (w <= W_SERIES = 0.7 needs about 130)
_SERIES_MAX = 2000


def _series(w, pm, k, order):
    r""":math:`S = \sum_n \frac{(p_m)_n}{(k+1)_n} w^n = {}_2F_1(p_m, 1; k+1; w)` for 0 <= w < 1 and
    (order 1) :math:`\partial S/\partial w`, :math:`\partial S/\partial p_m`, :math:`\partial S/\partial k`.

    The terms are positive and fall at least like :math:`w^n` (p_m < k + 1); the parameter derivatives
    of a term are the term times :math:`\sum_{j<n} 1/(p_m+j)` and :math:`-\sum_{j<n} 1/(k+1+j)`
    (digamma differences), accumulated along. Each value is summed until its terms are negligible.
    """
    n_all = len(w)
    out = [np.ones(n_all)] + ([np.zeros(n_all) for _ in range(3)] if order else [None] * 3)
    idx = np.arange(n_all)
    w, pm, k = w.astype(float), np.asarray(pm, dtype=float), np.asarray(k, dtype=float)
    term = np.ones(n_all)
    S = np.ones(n_all)
    Sw, Spm, Sk, Hm, Hk = (np.zeros(n_all) for _ in range(5))
    tail = 1.0 / np.maximum(1.0 - w, 1e-300)
    for n in range(_SERIES_MAX):
        a = pm + n
        b = k + 1.0 + n
        if order:
            Sw += (n + 1) * term * a / b                 # d/dw of the next term
            Hm += 1.0 / a
            Hk += 1.0 / b
        term = term * (a / b) * w
        S += term
        if order:
            Spm += term * Hm
            Sk -= term * Hk
        small = term * (n + 2.0 + Hm + Hk) * tail <= _SERIES_EPS * S
        if small.all() or n == _SERIES_MAX - 1:
            small[:] = True
        if small.any():
            done = idx[small]
            out[0][done] = S[small]
            if order:
                out[1][done], out[2][done], out[3][done] = Sw[small], Spm[small], Sk[small]
            keep = ~small
            if not keep.any():
                break
            idx, w, pm, k, term, S, tail = idx[keep], w[keep], pm[keep], k[keep], term[keep], S[keep], tail[keep]
            Sw, Spm, Sk, Hm, Hk = Sw[keep], Spm[keep], Sk[keep], Hm[keep], Hk[keep]
    return out[0], out[1], out[2], out[3]
