"""The BG/NBD purchase model (beta-geometric / negative binomial distribution)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, exprel, gammaln, hyp2f1, polygamma

from clvlib.models._purchase import PurchaseModel

__all__ = ["BetaGeoModel"]


def _hyp_tail(A, a, C, z, tol=1e-17, max_terms=100_000):
    """S = sum_{k>=1} (A)_k (a)_{k-1} z^k / ((C)_k k!) by direct summation (used when a is close to 1).

    With eps = a - 1: 2F1(A, eps; C; z) = 1 + eps * S.
    """
    A, a, C, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (A, a, C, z)))
    term = A * z / C
    total = term.copy()
    active = np.ones(term.shape, dtype=bool)
    k = 1
    while active.any() and k < max_terms:
        term = np.where(active, term * (A + k) * (a + k - 1) / ((C + k) * (k + 1)) * z, 0.0)
        total += term
        active &= np.abs(term) > tol * np.abs(total)
        k += 1
    return total


class BetaGeoModel(PurchaseModel):
    r"""BG/NBD model of repeat purchasing ("buy till you die"), Fader, Hardie & Lee (2005).

    While active, a customer buys as a Poisson process with rate :math:`\lambda`; after each purchase
    they drop out with probability :math:`p`. Across customers :math:`\lambda \sim
    \mathrm{Gamma}(r, \alpha)` and :math:`p \sim \mathrm{Beta}(a, b)`.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters, added to the mean negative log-likelihood as
        ``penalizer * (r**2 + alpha**2 + a**2 + b**2)`` with alpha in an internal time unit in which the
        oldest customer's T is 10 -- the same penalty as lifetimes' ``penalizer_coef``. 0 is plain
        maximum likelihood.
    initial_params : dict, optional
        Start values for some of ``r``, ``alpha``, ``a``, ``b`` (alpha in the summary's time unit).
        By default the fit starts from 1 (internal units) or, above 60,000 customers, from a fit to a
        systematic subsample.
    max_iter : int, default 500
        Maximum L-BFGS-B iterations.
    tol : float, default 1e-8
        Gradient tolerance of L-BFGS-B on the mean log-likelihood (Newton steps polish afterwards).
    fallback : bool, default True
        If the unpenalised fit does not converge (e.g. a parameter runs off to infinity on tiny data),
        refit with a small penalizer, warn (:class:`clvlib.errors.ClvWarning`) and say so in
        ``fallback_``. If False, raise :class:`clvlib.errors.ModelError` instead.

    Attributes
    ----------
    params_ : dict
        Maximum-likelihood estimates ``r``, ``alpha`` (in the summary's time unit), ``a``, ``b``.
    log_likelihood_ : float
        Full log-likelihood of the data at ``params_`` (sum over customers of eq. 6 of the paper,
        constants included; -9582.4 on the CDNOW calibration data).
    standard_errors_ : dict
        Standard errors from the observed information (inverse Hessian of the log-likelihood).
    covariance_ : pandas.DataFrame
        Covariance matrix of the estimates (delta method from the log-parameter scale).
    n_customers_, converged_, n_iter_, fallback_
        Number of customers fitted, whether the fit converged, iterations, and the fallback taken
        (None if none).

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
       an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284. Likelihood eq. (6),
       unconditional expectation eq. (9), conditional expectation eq. (10).
    .. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) using the BG/NBD
       model. http://brucehardie.com/notes/021/ (eq. 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from clvlib.models import BetaGeoModel
    >>> summary = pd.DataFrame({"frequency": [0, 1, 3, 0, 5, 2, 0, 7],
    ...                         "recency": [0.0, 10.0, 30.0, 0.0, 35.0, 5.0, 0.0, 38.0],
    ...                         "T": [39.0, 38.0, 39.0, 20.0, 39.0, 30.0, 12.0, 39.0]})
    >>> model = BetaGeoModel().fit(summary)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> bool((model.predict_purchases(summary, t=52) >= 0).all())
    True
    """

    _param_names = ("r", "alpha", "a", "b")
    _time_params = (1,)

    # --------------------------------------------------------------- likelihood
    @staticmethod
    def _prepare(x, tx, T, scale=1.0):
        """Data for the likelihood: customers without repeat purchases grouped by T, repeat customers'
        (x, t_x, T) with the times through tables of their distinct values when there are few."""
        zero = x == 0
        k0, uT0 = pd.factorize(T[zero])
        rep = np.flatnonzero(~zero)
        del zero
        x1 = x[rep]
        present = np.bincount(x1.astype(np.int64)) > 0
        ux = np.flatnonzero(present).astype(float)
        remap = (np.cumsum(present) - 1).astype(np.int32)
        xi = remap[x1.astype(np.int64)]
        d = {
            "N": float(len(x)),
            "uT0": np.asarray(uT0, dtype=float) * scale, "cT0": np.bincount(k0, minlength=len(uT0)).astype(float),
            "ux": ux, "cx": np.bincount(xi, minlength=len(ux)).astype(float), "xi": xi, "x1": x1,
        }
        for name, full in (("T", T), ("tx", tx)):
            col = full[rep]
            k, u = pd.factorize(col)
            if len(u) * 4 < len(col):
                d[name + "_u"], d[name + "_i"] = np.asarray(u, dtype=float) * scale, k.astype(np.int32)
            else:
                col *= scale
                d[name + "_u"], d[name + "_i"] = col, None
            del k, col
        return d

    @staticmethod
    def _nll_grad(z, d):
        f, g, _ = BetaGeoModel._nll_grad_hess(z, d, order=1)
        return f, g

    #: rows per chunk of the repeat customers' likelihood terms: the temporaries stay in cache
    CHUNK = 1 << 16

    @staticmethod
    def _repeat_sums(r, al, a, b, d, order):
        """Sums over the repeat customers of the terms of the log-likelihood and its derivatives.

        D = log a - log(b+x-1) + (r+x)(log(alpha+T) - log(alpha+t_x)) and the likelihood of a repeat
        customer is (alpha+T)^-(r+x) (1 + e^D); s = expit(D), q = s(1-s).
        """
        x1, xi = d["x1"], d["xi"]
        ux = d["ux"]
        btab = b + ux - 1.0
        ctab = np.log(a) - np.log(btab)
        dbtab = -1.0 / btab
        tabs = {}
        for name in ("T", "tx"):
            u, i = d[name + "_u"], d[name + "_i"]
            if i is not None:
                tabs[name] = (np.log(al + u), 1.0 / (al + u) if order else None)
        keys = ["rxlT", "sp"] + (["lT", "s_dl", "rx_iT", "s_Da", "s", "s_Db"] if order >= 1 else []) + \
            (["q_dl2", "iT", "qdl_Da", "s_dI", "rx_iT2", "qDa_Da", "srx_dd", "qdl", "qdl_Db", "qDa", "qDa_Db", "q",
              "q_Db", "qs_Db2"] if order >= 2 else [])
        acc = dict.fromkeys(keys, 0.0)
        n = len(x1)
        step = BetaGeoModel.CHUNK
        for lo in range(0, n, step):
            sl = slice(lo, lo + step)
            xc, xic = x1[sl], xi[sl]
            if "T" in tabs:
                iT_idx = d["T_i"][sl]
                lT = tabs["T"][0][iT_idx]
            else:
                lT = np.log(al + d["T_u"][sl])
            if "tx" in tabs:
                itx_idx = d["tx_i"][sl]
                ltx = tabs["tx"][0][itx_idx]
            else:
                ltx = np.log(al + d["tx_u"][sl])
            rx = xc + r
            dl = lT - ltx
            D = ctab[xic]
            D += rx * dl
            e = np.exp(-np.abs(D))
            acc["rxlT"] += rx @ lT
            acc["sp"] += np.maximum(D, 0.0).sum() + np.log1p(e).sum()
            if order == 0:
                continue
            inv1e = 1.0 / (1.0 + e)
            s = np.where(D >= 0, inv1e, e * inv1e)
            iT = tabs["T"][1][iT_idx] if "T" in tabs else 1.0 / (al + d["T_u"][sl])
            itx = tabs["tx"][1][itx_idx] if "tx" in tabs else 1.0 / (al + d["tx_u"][sl])
            dI = iT - itx
            Da = rx * dI
            Db = dbtab[xic]
            acc["lT"] += lT.sum()
            acc["s_dl"] += s @ dl
            acc["rx_iT"] += rx @ iT
            acc["s_Da"] += s @ Da
            acc["s"] += s.sum()
            acc["s_Db"] += s @ Db
            if order == 1:
                continue
            q = s * (1.0 - s)
            qdl = q * dl
            qDa = q * Da
            acc["q_dl2"] += qdl @ dl
            acc["iT"] += iT.sum()
            acc["qdl_Da"] += qdl @ Da
            acc["s_dI"] += s @ dI
            acc["rx_iT2"] += rx @ (iT * iT)
            acc["qDa_Da"] += qDa @ Da
            acc["srx_dd"] += (s * rx) @ ((itx - iT) * (itx + iT))
            acc["qdl"] += qdl.sum()
            acc["qdl_Db"] += qdl @ Db
            acc["qDa"] += qDa.sum()
            acc["qDa_Db"] += qDa @ Db
            acc["q"] += q.sum()
            acc["q_Db"] += q @ Db
            acc["qs_Db2"] += (q + s) @ (Db * Db)
        return acc

    @staticmethod
    def _nll_grad_hess(z, d, order=2):
        """Total negative log-likelihood, its gradient and Hessian in the log-parameters.

        ``order`` 0: value only (gradient and Hessian None), 1: with gradient, 2: with Hessian.
        """
        r, al, a, b = np.exp(z)
        N, ux, cx = d["N"], d["ux"], d["cx"]
        lal = np.log(al)
        S = BetaGeoModel._repeat_sums(r, al, a, b, d, order)
        S_l0 = d["cT0"] @ np.log(al + d["uT0"])
        ll = (r * N * lal - r * S_l0
              + cx @ (gammaln(r + ux) - gammaln(r) + betaln(a, b + ux) - betaln(a, b))
              - S["rxlT"] + S["sp"])
        if order == 0:
            return -ll, None, None
        S_i0 = d["cT0"] @ (1.0 / (al + d["uT0"]))
        g = np.array([
            N * lal - S_l0 + cx @ (digamma(r + ux) - digamma(r)) - S["lT"] + S["s_dl"],
            r * N / al - r * S_i0 - S["rx_iT"] + S["s_Da"],
            cx @ (digamma(a + b) - digamma(a + b + ux)) + S["s"] / a,
            cx @ (digamma(b + ux) - digamma(a + b + ux) - digamma(b) + digamma(a + b)) + S["s_Db"],
        ])
        theta = np.array([r, al, a, b])
        if order == 1:
            return -ll, -g * theta, None
        S_i02 = d["cT0"] @ (1.0 / (al + d["uT0"]) ** 2)
        tg_ab = cx @ (polygamma(1, a + b) - polygamma(1, a + b + ux))
        H = np.empty((4, 4))
        H[0, 0] = cx @ (polygamma(1, r + ux) - polygamma(1, r)) + S["q_dl2"]
        H[0, 1] = N / al - S_i0 - S["iT"] + S["qdl_Da"] + S["s_dI"]
        H[1, 1] = -r * N / al**2 + r * S_i02 + S["rx_iT2"] + S["qDa_Da"] + S["srx_dd"]
        H[0, 2] = S["qdl"] / a
        H[0, 3] = S["qdl_Db"]
        H[1, 2] = S["qDa"] / a
        H[1, 3] = S["qDa_Db"]
        H[2, 2] = tg_ab + (S["q"] - S["s"]) / a**2
        H[2, 3] = tg_ab + S["q_Db"] / a
        H[3, 3] = (cx @ (polygamma(1, b + ux) - polygamma(1, a + b + ux) - polygamma(1, b) + polygamma(1, a + b))
                   + S["qs_Db2"])
        H = np.triu(H) + np.triu(H, 1).T
        # to log-parameters: d2/dz2 = theta theta' * H + diag(theta * g)
        H_log = H * np.outer(theta, theta) + np.diag(theta * g)
        return -ll, -g * theta, -H_log

    @staticmethod
    def _loglik_rows(params, x, tx, T):
        r, al, a, b = params
        with np.errstate(divide="ignore", invalid="ignore"):
            A = gammaln(r + x) - gammaln(r) + r * np.log(al) + betaln(a, b + x) - betaln(a, b)
            A3 = -(r + x) * np.log(al + T)
            A4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(al + tx)
            return A + np.where(x > 0, np.logaddexp(A3, A4), A3)

    # --------------------------------------------------------------- predictions
    @staticmethod
    def _alive(params, x, tx, T):
        """P(alive | x, t_x, T): Fader, Hardie & Lee (2008), note 021, eq. (1)."""
        r, al, a, b = params
        with np.errstate(divide="ignore", invalid="ignore"):
            if all(np.ndim(v) == 0 for v in params) and np.ndim(x) == 1:
                # the same, in place (a million customers without a dozen temporaries)
                D = np.maximum(x, 1.0)
                D += b - 1.0
                np.log(D, out=D)
                np.subtract(np.log(a), D, out=D)
                t1 = np.add(T, al)
                np.log(t1, out=t1)
                t2 = np.add(tx, al)
                np.log(t2, out=t2)
                t1 -= t2
                np.add(x, r, out=t2)
                t1 *= t2
                del t2
                D += t1
                del t1
                np.negative(D, out=D)
                expit(D, out=D)
                D[x == 0] = 1.0
                return D
            D = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(al + T) - np.log(al + tx))
            return np.where(x > 0, expit(-D), 1.0)

    @staticmethod
    def _g(params, x, T, t):
        r"""Expected purchases in (T, T + t] of a customer alive at T with x repeat purchases.

        FHL (2005) eq. (10) is :math:`E = P(\text{alive}) \cdot g` with

        .. math:: g = \frac{C}{a-1}\Big[1 - (1-z)^{r+x}\,{}_2F_1(r+x, b+x; C; z)\Big],
                  \quad C = a+b+x-1,\; z = \frac{t}{\alpha+T+t}.

        Euler's transformation turns the hypergeometric term into
        :math:`(1-z)^{a-1}\,{}_2F_1(a+b-1-r, a-1; C; z)`, whose series is well behaved for any x
        (the original one grows like :math:`(1-z)^{a-1-r-x}`), and writing
        :math:`{}_2F_1 = 1 + (a-1)S` removes the 0/0 at a = 1:
        :math:`g = C\,[-L\,\mathrm{exprel}((a-1)L) - e^{(a-1)L} S]`, :math:`L = \log(1-z)`.
        With x = T = 0 this is the unconditional expectation, eq. (9).
        """
        r, al, a, b, x, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (*params, x, T, t)))
        eps = a - 1.0
        aT = al + T
        L = np.log(aT) - np.log(aT + t)
        z = t / (aT + t)
        C = a + b + x - 1.0
        A = a + b - 1.0 - r
        small = np.abs(eps) < 1e-5
        S = np.empty(x.shape)
        big = ~small
        if big.any():
            S[big] = (hyp2f1(A[big], eps[big], C[big], z[big]) - 1.0) / eps[big]
        if small.any():
            S[small] = _hyp_tail(A[small], a[small], C[small], z[small])
        out = C * (-L * exprel(eps * L) - np.exp(eps * L) * S)
        return np.where(t > 0, out, 0.0)
