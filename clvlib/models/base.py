"""Shared machinery of the purchase and spend models: hyperparameter checks, input checks, fitting.

Fitting maximises the full log-likelihood over the logarithms of the (positive) parameters with
L-BFGS-B and an analytic gradient, then polishes with Newton steps on a finite-difference Hessian of
that gradient. The same Hessian, the observed information, gives the standard errors and the
covariance used for the Laplace (asymptotic normal) draws behind :func:`clvlib.value.clv_interval`.
"""
from __future__ import annotations

import contextlib
import inspect
import math
import numbers
import warnings

import numpy as np
import pandas as pd

from clvlib.errors import ClvWarning, DataError, ModelError, NotFittedError, ParamsError

__all__ = ["BaseModel", "Real", "Integral", "Options", "ParamDict", "Boolean"]

#: Bounds of the log-parameters while optimising: exp(+-30) is effectively 0 or infinity.
LOG_BOUND = 30.0
#: A solution beyond exp(+-12) (in the internal units, where the time and value scales are 10 and 1)
#: means "the parameter ran off" along a ridge of the likelihood: the data do not identify it, and the
#: model's formulas stop being numerically meaningful (e.g. a, b -> infinity in BG/NBD).
LOG_EDGE = 12.0
#: Penalizers tried, in order, when an unpenalised fit does not converge and fallback is on.
FALLBACK_PENALIZERS = (1e-3, 1e-2, 1e-1, 1.0)


def single_threaded_blas():
    """Context keeping BLAS on one thread.

    The likelihoods make thousands of short dot products; a multi-threaded OpenBLAS spends far more
    time waking and synchronising its threads than computing (and collapses when the other cores
    are busy: 10x slower on a loaded 2-core machine). One thread is also deterministic.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# ------------------------------------------------------------------ hyperparameter constraints
class Real:
    """A real number in an interval; ``closed`` says which ends belong to it."""

    def __init__(self, low=None, high=None, closed="both"):
        self.low, self.high, self.closed = low, high, closed

    def is_satisfied_by(self, v) -> bool:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            return False
        lo_ok = self.low is None or (v >= self.low if self.closed in ("both", "left") else v > self.low)
        hi_ok = self.high is None or (v <= self.high if self.closed in ("both", "right") else v < self.high)
        return lo_ok and hi_ok

    def __str__(self):
        lo_op = ">=" if self.closed in ("both", "left") else ">"
        hi_op = "<=" if self.closed in ("both", "right") else "<"
        if self.low is not None and self.high is not None:
            return f"a float {lo_op} {self.low:g} and {hi_op} {self.high:g}"
        if self.low is not None:
            return f"a float {lo_op} {self.low:g}"
        if self.high is not None:
            return f"a float {hi_op} {self.high:g}"
        return "a finite float"


class Integral:
    def __init__(self, low=None):
        self.low = low

    def is_satisfied_by(self, v) -> bool:
        return (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                and (self.low is None or v >= self.low))

    def __str__(self):
        return "an int" + (f" >= {self.low}" if self.low is not None else "")


class Boolean:
    def is_satisfied_by(self, v) -> bool:
        return isinstance(v, (bool, np.bool_))

    def __str__(self):
        return "a bool"


class Options:
    def __init__(self, *values):
        self.values = values

    def is_satisfied_by(self, v) -> bool:
        return any(v is o or (type(v) is type(o) and v == o) for o in self.values)

    def __str__(self):
        return "one of " + ", ".join(repr(o) for o in self.values)


class ParamDict:
    """None, or a dict giving a positive finite start value for some of the model's parameters."""

    def __init__(self, names):
        self.names = tuple(names)

    def is_satisfied_by(self, v) -> bool:
        if v is None:
            return True
        if not isinstance(v, dict) or not set(v) <= set(self.names):
            return False
        return all(Real(0, None, "neither").is_satisfied_by(x) for x in v.values())

    def __str__(self):
        return f"None or a dict of positive floats with keys among {', '.join(self.names)}"


# ------------------------------------------------------------------ input checks
def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _example(index, mask, values=None) -> str:
    pos = int(np.flatnonzero(mask)[0])
    label = f"customer {_plain(index[pos])!r}"
    return f"{label}: {_plain(values[pos])!r}" if values is not None else label


def summary_arrays(summary, owner: str, *, columns=("frequency", "recency", "T"), monetary=False):
    """Check a per-customer summary and return its columns as float64 arrays (and the index).

    Raises DataError with one line naming the column, the number of offending customers and one
    example (ParamsError when ``summary`` is not a DataFrame).
    """
    if not isinstance(summary, pd.DataFrame):
        raise ParamsError(f"{owner} needs a per-customer summary DataFrame (see clvlib.rfm_summary); "
                          f"got {type(summary).__name__}")
    cols = list(columns) + (["monetary_value"] if monetary else [])
    missing = [c for c in cols if c not in summary.columns]
    if missing:
        raise DataError(f"{owner}: the summary has no column(s) {', '.join(repr(c) for c in missing)} "
                        f"(columns: {', '.join(map(str, summary.columns[:20]))})")
    if len(summary) == 0:
        raise DataError(f"{owner}: the summary has no customers")
    idx = summary.index
    out = {}
    for c in cols:
        col = summary[c]
        if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            raise DataError(f"{owner}: column '{c}' must be numeric; got dtype {col.dtype}")
        v = col.to_numpy()
        if v.dtype != np.float64:
            v = col.to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isfinite(v).all():
            bad = ~np.isfinite(v)
            raise DataError(f"{owner}: column '{c}' has {int(bad.sum())} missing or infinite values "
                            f"(e.g. {_example(idx, bad)})")
        if (v < 0).any():
            neg = v < 0
            raise DataError(f"{owner}: column '{c}' has {int(neg.sum())} negative values "
                            f"(e.g. {_example(idx, neg, v)})")
        out[c] = v
    if "frequency" in out:
        x = out["frequency"]
        if (x != np.floor(x)).any():
            frac = x != np.floor(x)
            raise DataError(f"{owner}: column 'frequency' has {int(frac.sum())} non-integer values "
                            f"(e.g. {_example(idx, frac, x)}); it counts repeat purchase occasions")
    if "recency" in out and "T" in out:
        x, tx, T = out.get("frequency"), out["recency"], out["T"]
        if (tx > T).any():
            over = tx > T
            pos = int(np.flatnonzero(over)[0])
            raise DataError(f"{owner}: column 'recency' exceeds 'T' for {int(over.sum())} customers "
                            f"(e.g. customer {_plain(idx[pos])!r}: recency {tx[pos]:g} > T {T[pos]:g})")
        if x is not None:
            odd = (x == 0) & (tx != 0)
            if odd.any():
                raise DataError(f"{owner}: column 'recency' is not 0 for {int(odd.sum())} customers with "
                                f"frequency 0 (e.g. {_example(idx, odd, tx)})")
    return out, idx


# ------------------------------------------------------------------ fit result
class _FitResult:
    def __init__(self, z, fun, grad, hess, converged, reason, n_iter, penalizer):
        self.z, self.fun, self.grad, self.hess = z, fun, grad, hess
        self.converged, self.reason, self.n_iter, self.penalizer = converged, reason, n_iter, penalizer


class BaseModel:
    """Base class: scikit-learn style hyperparameters, fitted attributes ending in ``_``.

    Subclasses declare ``_param_names`` (the model's parameters, in order) and implement ``_prepare``,
    ``_nll_grad``, ``_start``. The hyperparameters below are shared by every model; their limits are
    declared once here (``_parameter_constraints``, filled in for each subclass's parameter names).
    """

    def __init__(self, *, penalizer=0.0, initial_params=None, max_iter=500, tol=1e-8, fallback=True):
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.max_iter = max_iter
        self.tol = tol
        self.fallback = fallback

    def _initial_z(self, z0, log_unscale):
        """Start the optimiser (log scale, internal units) at the user's ``initial_params`` where given."""
        z0 = np.array(z0, dtype=float)
        for i, k in enumerate(self._param_names):
            if k in self.initial_params:
                z0[i] = np.log(self.initial_params[k]) - log_unscale[i]
        return z0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_param_names" in cls.__dict__ and "_parameter_constraints" not in cls.__dict__:
            cls._parameter_constraints = {
                "penalizer": Real(0, None, "left"),
                "initial_params": ParamDict(cls._param_names),
                "max_iter": Integral(1),
                "tol": Real(0, None, "neither"),
                "fallback": Boolean(),
            }

    _param_names: tuple = ()
    _parameter_constraints: dict = {}

    # -- scikit-learn protocol
    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self")

    def get_params(self, deep=True):
        """Hyperparameters as a dict (scikit-learn protocol, so ``sklearn.base.clone`` works)."""
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params):
        """Set hyperparameters; returns self. Takes effect at the next ``fit``."""
        valid = self._get_param_names()
        for k, v in params.items():
            if k not in valid:
                raise ParamsError(f"Invalid parameter {k!r} for {type(self).__name__}; valid: {', '.join(valid)}")
            setattr(self, k, v)
        return self

    def __repr__(self):
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = []
        for k, v in self.get_params().items():
            d = defaults.get(k)
            same = v is d or (type(v) is type(d) and not isinstance(v, dict) and v == d)
            if not same:
                changed.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def _validate_params(self):
        for name, constraint in self._parameter_constraints.items():
            value = getattr(self, name)
            if not constraint.is_satisfied_by(value):
                raise ParamsError(f"The '{name}' parameter of {type(self).__name__} must be {constraint}. "
                                  f"Got {value!r} instead.")

    # -- fitted state
    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit first.")

    @property
    def _p(self):
        self._check_fitted()
        return tuple(self.params_[k] for k in self._param_names)

    @classmethod
    def from_params(cls, params: dict, covariance=None, **hyperparameters):
        """A model with given parameters, as if fitted (e.g. published estimates, or last month's fit).

        ``covariance`` (optional) is the parameters' covariance matrix in ``_param_names`` order; it is
        needed only for :func:`clvlib.value.clv_interval`.
        """
        model = cls(**hyperparameters)
        names = cls._param_names
        if set(params) != set(names) or not all(Real(0, None, "neither").is_satisfied_by(params[k]) for k in names):
            raise ParamsError(f"{cls.__name__}.from_params needs positive values for exactly {', '.join(names)}; "
                              f"got {params!r}")
        model.params_ = {k: float(params[k]) for k in names}
        if covariance is not None:
            cov = np.asarray(covariance, dtype=float)
            if cov.shape != (len(names), len(names)):
                raise ParamsError(f"covariance must be a {len(names)}x{len(names)} matrix")
            theta = np.array([model.params_[k] for k in names])
            model.covariance_ = pd.DataFrame(cov, index=list(names), columns=list(names))
            model._cov_log = cov / np.outer(theta, theta)
            model.standard_errors_ = dict(zip(names, np.sqrt(np.diag(cov)).tolist()))
        model.log_likelihood_ = np.nan
        model.n_customers_ = 0
        model.converged_ = True
        model.fallback_ = None
        return model

    def _log_param_draws(self, n_draws, rng):
        """(n_draws, k) parameter sets drawn from the asymptotic normal law of the log-parameters."""
        self._check_fitted()
        cov = getattr(self, "_cov_log", None)
        if cov is None:
            raise ModelError(f"{type(self).__name__} has no parameter covariance (fit it, or give covariance "
                             f"to from_params) so its uncertainty cannot be drawn")
        mean = np.log([self.params_[k] for k in self._param_names])
        # eigen-decomposition: works for a covariance that is only positive semi-definite
        w, v = np.linalg.eigh((cov + cov.T) / 2)
        root = v * np.sqrt(np.clip(w, 0, None))
        eps = rng.standard_normal((n_draws, len(mean)))
        return np.exp(mean + eps @ root.T)

    # -- fitting
    def _objective(self, data, n, penalizer):
        def obj(z):
            f, g = self._nll_grad(z, data)
            th2 = np.exp(2 * z)
            return f / n + penalizer * th2.sum(), g / n + 2 * penalizer * th2
        return obj

    def _hessian(self, obj, z, h=1e-4):
        k = len(z)
        H = np.empty((k, k))
        for i in range(k):
            e = np.zeros(k)
            e[i] = h
            H[:, i] = (obj(z + e)[1] - obj(z - e)[1]) / (2 * h)
        return (H + H.T) / 2

    def _newton(self, data, n, z0, penalizer, max_iter=60):
        """Damped Newton on the mean penalised objective with the model's analytic Hessian.

        Returns (z, f, g, H, n_iter, ok); ok is False when it could not make progress (the caller then
        falls back to L-BFGS-B).
        """
        def F(z, order):
            f, g, H = self._nll_grad_hess(z, data, order)
            th2 = np.exp(2 * z)
            f = f / n + penalizer * th2.sum()
            if order >= 1:
                g = g / n + 2 * penalizer * th2
            if order >= 2:
                H = H / n + np.diag(4 * penalizer * th2)
            return f, g, H

        z = np.asarray(z0, dtype=float)
        f, g, H = F(z, 2)
        if not (np.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
            return z, f, g, H, 0, False
        max_iter = min(max_iter, 100)
        for it in range(1, max_iter + 1):
            if np.max(np.abs(g)) < 1e-10:
                return z, f, g, H, it - 1, True
            w, V = np.linalg.eigh(H)
            # Levenberg damping where the Hessian is not positive definite
            w = np.maximum(w, max(1e-8, 1e-6 * np.abs(w).max()))
            step = -V @ ((V.T @ g) / w)
            # Newton decrement / step size: the remaining gain is below rounding
            if -(g @ step) < 1e-15 * max(1.0, abs(f)) or np.abs(step).max() < 1e-10:
                return z, f, g, H, it - 1, bool(np.max(np.abs(g)) < 1e-7)
            big = np.abs(step).max()
            if big > 2.0:  # at most a factor e^2 per parameter per step
                step *= 2.0 / big
            # full step evaluated with derivatives (usually accepted); backtrack on values only
            z2 = np.clip(z + step, -LOG_BOUND, LOG_BOUND)
            f2, g2, H2 = F(z2, 2)
            near = np.isfinite(f2) and abs(f2 - f) <= 1e-13 * abs(f) and np.max(np.abs(g2)) < np.max(np.abs(g))
            if not (np.isfinite(f2) and (f2 <= f + 1e-4 * (g @ step) or near)):
                t, accepted = 0.5, False
                while t > 1e-10:
                    z2 = np.clip(z + t * step, -LOG_BOUND, LOG_BOUND)
                    f2 = F(z2, 0)[0]
                    if np.isfinite(f2) and f2 <= f + 1e-4 * t * (g @ step):
                        accepted = True
                        break
                    t *= 0.5
                if not accepted:
                    # no decrease along the Newton direction: at the optimum to rounding, or stuck
                    return z, f, g, H, it, bool(np.max(np.abs(g)) < 1e-7)
                f2, g2, H2 = F(z2, 2)
            z, f, g, H = z2, f2, g2, H2
            if not (np.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
                return z, f, g, H, it, False
            if np.abs(z).max() > LOG_EDGE:
                return z, f, g, H, it, True  # ran off: diagnosed by the caller
        return z, f, g, H, max_iter, bool(np.max(np.abs(g)) < 1e-7)

    def _optimize(self, data, n, z0, penalizer) -> _FitResult:
        obj = self._objective(data, n, penalizer)
        k = len(z0)
        res_message = "Newton converged"
        H = None
        ok = False
        with np.errstate(all="ignore"):
            if hasattr(self, "_nll_grad_hess"):
                z, f, g, H, n_iter, ok = self._newton(data, n, z0, penalizer, max_iter=self.max_iter)
            if not ok:
                from scipy.optimize import minimize  # imported only when needed (it is large)
                res = minimize(obj, z0, jac=True, method="L-BFGS-B", bounds=[(-LOG_BOUND, LOG_BOUND)] * k,
                               options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 1e-15, "maxcor": 20})
                res_message = res.message
                z, (f, g) = res.x, obj(res.x)
                n_iter = int(res.nit)
                if hasattr(self, "_nll_grad_hess") and np.abs(z).max() <= LOG_EDGE:
                    z, f, g, H, n_extra, _ = self._newton(data, n, z, penalizer, max_iter=20)
                    n_iter += n_extra
                else:
                    H = None
                    # Newton polish on a finite-difference Hessian of the gradient
                    for _ in range(6):
                        if not np.all(np.isfinite(g)) or np.abs(z).max() > LOG_EDGE:
                            break
                        H = self._hessian(obj, z)
                        if np.max(np.abs(g)) < 1e-11:
                            break
                        try:
                            np.linalg.cholesky(H)
                            step = -np.linalg.solve(H, g)
                        except np.linalg.LinAlgError:
                            break
                        improved = False
                        t = 1.0
                        while t > 1e-6:
                            z2 = np.clip(z + t * step, -LOG_BOUND, LOG_BOUND)
                            f2, g2 = obj(z2)
                            if np.isfinite(f2) and (f2 < f or (f2 <= f + 1e-14 * abs(f)
                                                               and np.max(np.abs(g2)) < np.max(np.abs(g)))):
                                improved = True
                                break
                            t /= 2
                        if not improved:
                            break
                        z, f, g = z2, f2, g2
                        n_iter += 1
                        H = None
                    if H is None and np.all(np.isfinite(g)) and np.abs(z).max() <= LOG_EDGE:
                        H = self._hessian(obj, z)
        names = self._param_names
        reason = None
        if not np.isfinite(f) or not np.all(np.isfinite(g)):
            reason = "the log-likelihood is not finite at the solution"
        elif np.abs(z).max() > LOG_EDGE:
            i = int(np.argmax(np.abs(z)))
            where = "infinity" if z[i] > 0 else "zero"
            reason = (f"parameter '{names[i]}' runs off to {where}: the data do not identify it "
                      f"(too few customers or too little repeat buying)")
        elif H is None or not np.all(np.isfinite(H)):
            reason = "the information matrix could not be computed"
        else:
            try:
                np.linalg.cholesky(H)
            except np.linalg.LinAlgError:
                reason = "the information matrix is not positive definite (the maximum is flat or a saddle)"
        if reason is None and np.max(np.abs(g)) > max(1e-5, 100 * self.tol):
            reason = f"the optimizer stopped with gradient {np.max(np.abs(g)):.2g} ({res_message})"
        return _FitResult(z, f, g, H, reason is None, reason, n_iter, penalizer)

    def _fit_with_fallback(self, data, n, z0):
        res = self._optimize(data, n, z0, self.penalizer)
        self.fallback_ = None
        if not res.converged and self.fallback and self.penalizer == 0:
            first_reason = res.reason
            for pen in FALLBACK_PENALIZERS:
                res = self._optimize(data, n, z0, pen)
                if res.converged:
                    self.fallback_ = (f"refitted with penalizer={pen:g} because the unpenalised maximum-likelihood "
                                      f"fit failed: {first_reason}")
                    warnings.warn(f"{type(self).__name__}: {self.fallback_}. Estimates are shrunk; treat them "
                                  f"with caution.", ClvWarning, stacklevel=4)
                    break
            else:
                raise ModelError(f"{type(self).__name__} could not be fitted on {n} customers: {first_reason}; "
                                 f"penalised refits did not converge either ({res.reason})")
        elif not res.converged:
            hint = "" if self.penalizer > 0 else " Try a penalizer > 0, or fallback=True."
            raise ModelError(f"{type(self).__name__} could not be fitted on {n} customers: {res.reason}.{hint}")
        return res

    def _store_fit(self, res, n, log_unscale, const=0.0):
        """Fitted attributes from an optimiser result; ``log_unscale`` maps internal to natural log-params."""
        names = self._param_names
        zn = res.z + log_unscale
        theta = np.exp(zn)
        self.params_ = dict(zip(names, theta.tolist()))
        # log-likelihood of the data at the estimate (without penalty), in natural units
        pen = res.penalizer * np.exp(2 * res.z).sum()
        self.log_likelihood_ = float(-(res.fun - pen) * n + const)
        cov_log = np.linalg.inv(res.hess * n)  # inverse observed information, log-parameter scale
        self._cov_log = (cov_log + cov_log.T) / 2
        cov = self._cov_log * np.outer(theta, theta)
        self.covariance_ = pd.DataFrame(cov, index=list(names), columns=list(names))
        self.standard_errors_ = dict(zip(names, np.sqrt(np.diag(cov)).tolist()))
        self.n_customers_ = int(n)
        self.converged_ = bool(res.converged)
        self.n_iter_ = res.n_iter
        return self

    def summary_table(self) -> pd.DataFrame:
        """Estimates with standard errors and approximate 95% intervals (log-normal, so always positive)."""
        self._check_fitted()
        rows = []
        for k in self._param_names:
            est = self.params_[k]
            se = getattr(self, "standard_errors_", {}).get(k, np.nan)
            sl = se / est
            rows.append({"parameter": k, "estimate": est, "std_error": se,
                         "low_95": est * np.exp(-1.959964 * sl), "high_95": est * np.exp(1.959964 * sl)})
        return pd.DataFrame(rows).set_index("parameter")


def unique_rows(*cols):
    """Distinct rows of equal-length arrays: ``(inverse, first)``.

    ``inverse[i]`` is the number of row i's distinct row (numbered in order of first appearance) and
    ``first[k]`` the position where distinct row k first appears, so ``col[first][inverse] == col``.
    Hash based (pandas.factorize): linear time, no sort.
    """
    n = len(cols[0])
    codes = np.zeros(n, dtype=np.int64)
    card = 1
    for c in cols:
        k, u = pd.factorize(c)
        if card * max(len(u), 1) >= 2**62:
            codes, uu = pd.factorize(codes)
            card = len(uu)
        codes = codes * len(u) + k
        card *= max(len(u), 1)
    inv = pd.factorize(codes)[0]
    if n == 0:
        return inv, np.zeros(0, dtype=np.int64)
    run_max = np.maximum.accumulate(inv)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.greater(run_max[1:], run_max[:-1], out=new[1:])
    return inv, np.flatnonzero(new)


def warm_start(model, data, n, z0):
    """Start values from a fit to a subsample (Newton if the model has a Hessian, else L-BFGS-B)."""
    with np.errstate(all="ignore"):
        if hasattr(model, "_nll_grad_hess"):
            z, f, g, H, _, ok = model._newton(data, n, z0, model.penalizer, max_iter=100)
            if ok and np.all(np.isfinite(z)) and np.abs(z).max() < 15:
                return z
        from scipy.optimize import minimize
        obj = model._objective(data, n, model.penalizer)
        res = minimize(obj, z0, jac=True, method="L-BFGS-B", bounds=[(-20.0, 20.0)] * len(z0),
                       options={"maxiter": 200, "gtol": 1e-6})
    z = res.x
    return z if np.all(np.isfinite(z)) and np.abs(z).max() < 15 else z0


def pair_codes(x, T):
    """Distinct (x, T) pairs of integer-valued x and any T: ``(inverse, x_unique, T_unique)``.

    Dense addressing of ``x * n_T + code(T)`` when that range is small (the usual case), hashing
    otherwise; low on memory for millions of customers.
    """
    kT, uT = pd.factorize(T)
    uT = np.asarray(uT, dtype=float)
    nT = max(len(uT), 1)
    key = x.astype(np.int64)
    xmax = int(key.max(initial=0))
    key *= nT
    key += kT
    del kT
    size = (xmax + 1) * nT
    if size <= 4 * len(key) + 1_000_000:
        present = np.zeros(size, dtype=bool)
        present[key] = True
        remap = np.cumsum(present, dtype=np.int64)
        remap -= 1
        ukey = np.flatnonzero(present)
        inv = remap[key].astype(np.int32 if len(ukey) < 2**31 else np.int64)
    else:
        inv, ukey = pd.factorize(key)
        ukey = np.asarray(ukey)
    del key
    return inv, (ukey // nT).astype(float), uT[ukey % nT]
