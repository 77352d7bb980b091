"""``CustomerTiers``: customers grouped into tiers A/B/C (labels in params), a scikit-learn estimator.

Methods (``method``):

* ``kmeans`` — a Pipeline of a transform of the skewed features (``signed_log1p`` of CLV, frequency,
  margin per purchase and tenure, P(alive) as it is; or a ``quantile`` transform of all five to a
  uniform distribution), ``StandardScaler`` and ``KMeans`` (``n_init`` restarts, fixed
  ``random_state``; Lloyd 1982, k-means++ starts of Arthur & Vassilvitskii 2007). Clustering the raw
  features would put a handful of customers in tier A: CLV is far too skewed.
* ``gmm`` — the same Pipeline ending in a ``GaussianMixture`` (EM; Dempster, Laird & Rubin 1977); a
  customer's tier is the component of highest posterior probability. Defaults: diagonal covariances
  with a variance floor ``reg_covar = 0.1`` (scaled units: no component narrower than about a third of
  the population's spread in any feature). Without the floor a component collapses onto the one-time
  buyers, a point mass (frequency 0 and, under BG/NBD, P(alive) exactly 1) where the likelihood grows
  without bound (Bishop 2006, section 9.2.1): on the demo that made tier A 55-60 % of the customers;
  with the defaults it is about 30 % holding about 70 % of the CLV.
* ``value_share`` — rules, no model: customers ranked by CLV, tier A = the fewest top customers whose
  CLV together reaches ``value_shares[0]`` of the total positive CLV (default 70 %), B the next ones up
  to ``value_shares[0] + value_shares[1]`` (default 90 %), C the rest (customers worth nothing or less
  are always in the last tier). Formally, with customers sorted by CLV descending and ``S_j`` the
  cumulative share of tiers up to j, customer i is in a tier <= j when the positive CLV of the customers
  ranked before it is below ``S_j`` times the total; the cut ``c_j`` is the lowest CLV so placed, and a
  customer is in the first tier whose cut it reaches (``clv >= c_j``), so ties share a tier.

Clusters are ordered by the mean CLV of their customers at the fit and named by ``labels`` in that
order (KMeans numbers its clusters arbitrarily). The fitted transform, scaler and centres (or the cuts)
are kept and stored as JSON (``to_json`` / ``from_json``, never pickle) so next month's customers are
placed by the same model; ``predict`` computes from those stored numbers with numpy (the fitted
scikit-learn ``pipeline_`` is kept after ``fit`` for inspection; tests check both agree).

**Stable tiers**: ``predict(X, previous=...)`` applies hysteresis (``clvlib.tiers.hysteresis``).

**Thin data** (small firms): ``fit`` with ``method`` kmeans or gmm uses the value-share rules instead,
and says why in ``fallback_``, when the CLV model fell back to the simple formula (``clv_fallback``),
a cluster feature is missing for some customers, there are fewer than ``min_customers_per_tier`` x
tiers customers or repeat customers, fewer distinct customers than tiers, or a fitted cluster
collapses (fewer than ``max(2, min_cluster_share x customers)`` customers).

References
----------
Lloyd, S. (1982). Least squares quantization in PCM. IEEE Trans. Information Theory 28(2).
Arthur, D. & Vassilvitskii, S. (2007). k-means++: the advantages of careful seeding. SODA.
Dempster, A., Laird, N. & Rubin, D. (1977). Maximum likelihood from incomplete data via the EM
algorithm. JRSS B 39(1).
Bishop, C. (2006). Pattern Recognition and Machine Learning, ch. 9. Springer.
Rousseeuw, P. (1987). Silhouettes: a graphical aid to the interpretation and validation of cluster
analysis. J. Comput. Appl. Math. 20.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from clvlib.errors import ModelError, NotFittedError
from clvlib.models.base import Integral, Options, Real
from clvlib.tiers import hysteresis as hy
from clvlib.tiers.features import FEATURES, signed_log1p
from clvlib.tiers.space import (full_precisions_cholesky, gmm_posteriors, one_thread, quantile_uniform,
                                transform_skewed)

__all__ = ["CustomerTiers", "JSON_FORMAT", "N_QUANTILES"]

JSON_FORMAT = "clvlib.tiers.CustomerTiers/1"
#: Quantiles kept by the ``quantile`` transform (fewer when there are fewer customers).
N_QUANTILES = 200
RESERVED = ("new", "gone")          # the migration matrix's extra row and column


class _Labels:
    def is_satisfied_by(self, v) -> bool:
        return (isinstance(v, (list, tuple)) and len(v) >= 2 and all(isinstance(x, str) and x.strip() for x in v)
                and len(set(v)) == len(v) and not set(v) & set(RESERVED))

    def __str__(self):
        return "a list of at least 2 distinct non-empty strings other than 'new' and 'gone'"


class _Shares:
    def is_satisfied_by(self, v) -> bool:
        return (isinstance(v, (list, tuple)) and len(v) >= 2
                and all(Real(0, 1, "right").is_satisfied_by(x) for x in v) and math.isclose(sum(v), 1.0, abs_tol=1e-9))

    def __str__(self):
        return "a list of at least 2 shares in (0, 1] summing to 1"


class CustomerTiers(BaseEstimator):
    """Tier customers by value: KMeans or a Gaussian mixture on five features, or value-share rules.

    Parameters
    ----------
    method : {"kmeans", "gmm", "value_share"}, default="kmeans"
    labels : list of str, default=("A", "B", "C")
        Tier names, most valuable first; their number is the number of tiers.
    value_shares : list of float, default=(0.7, 0.2, 0.1)
        value_share rules (and the thin-data fallback): the share of total CLV each tier holds, most
        valuable first; one per label, summing to 1.
    transform : {"signed_log1p", "quantile"}, default="signed_log1p"
    hysteresis : float, default=0.25
        The margin a customer must pass a boundary by to change tier (scaled feature units for
        kmeans, probability for gmm, share of the cut for value_share; see ``clvlib.tiers.hysteresis``).
    n_init : int, default=10
        KMeans / EM restarts; the best is kept.
    random_state : int, default=0
        Seed of the restarts and of the silhouette's sample.
    min_customers_per_tier : int, default=10
        Fewer customers (or repeat customers) than this times the number of tiers: value_share instead.
    min_cluster_share : float, default=0.01
        A fitted cluster holding fewer than this share of the customers (and never fewer than 2) has
        collapsed: value_share instead.
    silhouette_sample : int, default=2000
        The silhouette (O(n^2)) is computed on a seeded random sample of this many customers.
    covariance_type : {"diag", "full", "tied", "spherical"}, default="diag"
        gmm only: the components' covariance matrices.
    reg_covar : float, default=0.1
        gmm only: added to the covariances' diagonal (scaled units), a floor on the components' spread.

    Attributes
    ----------
    method_ : str
        The method used (value_share after a fallback).
    fallback_ : str or None
        Why the value-share rules were used instead of ``method``.
    feature_names_in_ : ndarray of str
        The features used (``FEATURES``; only ``clv`` for value_share).
    n_customers_ : int
    tier_counts_, tier_mean_clv_ : ndarray
        Customers and mean CLV per tier at the fit (tier order).
    transform_ : dict
        ``{"kind": "signed_log1p"}`` or ``{"kind": "quantile", "quantiles": (q, 5), "references": (q,)}``.
    scaler_mean_, scaler_scale_ : ndarray
        The StandardScaler's mean and scale of the transformed features.
    centres_ : ndarray (tiers, 5)
        Cluster centres (the mixture's means for gmm) in scaled feature units, in tier order.
    weights_, precisions_cholesky_ : ndarray
        gmm only: component weights and Cholesky factors of the precision matrices (as (tiers, 5, 5)
        matrices whatever the covariance type), in tier order.
    cuts_ : ndarray (tiers - 1,)
        value_share only: the lowest CLV of each tier but the last.
    silhouette_ : float
        Mean silhouette (Rousseeuw 1987) of the fit's tiers, in the scaled feature space (on
        signed_log1p CLV alone for value_share); NaN when undefined.
    notes_ : list of str
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted Pipeline (after ``fit`` of kmeans / gmm only; not stored in JSON).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"clv": [500.0, 200, 100, 80, 70, 50]}, index=list("abcdef"))
    >>> m = CustomerTiers(method="value_share").fit(X)      # A: 70 % of the CLV, B: the next 20 %
    >>> m.predict(X).tolist(), m.cuts_.tolist()
    (['A', 'A', 'B', 'B', 'B', 'C'], [200.0, 70.0])
    """

    _constraints = {
        "method": Options("kmeans", "gmm", "value_share"),
        "labels": _Labels(),
        "value_shares": _Shares(),
        "transform": Options("signed_log1p", "quantile"),
        "hysteresis": Real(0, None, "left"),
        "n_init": Integral(1),
        "random_state": Integral(0),
        "min_customers_per_tier": Integral(1),
        "min_cluster_share": Real(0, 1, "left"),
        "silhouette_sample": Integral(2),
        "covariance_type": Options("diag", "full", "tied", "spherical"),
        "reg_covar": Real(0, None, "left"),
    }

    def __init__(self, method="kmeans", labels=("A", "B", "C"), value_shares=(0.7, 0.2, 0.1),
                 transform="signed_log1p", hysteresis=0.25, n_init=10, random_state=0,
                 min_customers_per_tier=10, min_cluster_share=0.01, silhouette_sample=2000,
                 covariance_type="diag", reg_covar=0.1):
        self.method = method
        self.labels = labels
        self.value_shares = value_shares
        self.transform = transform
        self.hysteresis = hysteresis
        self.n_init = n_init
        self.random_state = random_state
        self.min_customers_per_tier = min_customers_per_tier
        self.min_cluster_share = min_cluster_share
        self.silhouette_sample = silhouette_sample
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        for name, constraint in self._constraints.items():
            value = getattr(self, name)
            if not constraint.is_satisfied_by(value):
                raise ModelError(f"The '{name}' parameter of {type(self).__name__} must be {constraint}. "
                                 f"Got {value!r} instead.")
        if len(self.value_shares) != len(self.labels):
            raise ModelError(f"The 'value_shares' parameter of {type(self).__name__} must have one share per "
                             f"label ({len(self.labels)}: {', '.join(self.labels)}; the value-share rules are "
                             f"also the thin-data fallback). Got {list(self.value_shares)!r} instead.")

    def _check_fitted(self):
        if not hasattr(self, "method_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit first.")

    @staticmethod
    def _frame(X, columns) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise ModelError(f"CustomerTiers needs a DataFrame of tier features indexed by customer_id "
                             f"(see clvlib.tiers.tier_features); got {type(X).__name__}")
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ModelError(f"CustomerTiers: the tier features have no column(s) {', '.join(missing)} "
                             f"(columns: {', '.join(map(str, X.columns))})")
        if len(X) == 0:
            raise ModelError("CustomerTiers: there are no customers to tier")
        if X.index.has_duplicates:
            raise ModelError(f"CustomerTiers: customer {X.index[X.index.duplicated()][0]!r} appears more than once")
        return X

    @staticmethod
    def _missing(X, columns):
        """(column, count, example customer) of the first column with missing or infinite values."""
        for c in columns:
            v = pd.to_numeric(X[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            bad = ~np.isfinite(v)
            if bad.any():
                return c, int(bad.sum()), X.index[int(np.flatnonzero(bad)[0])]
        return None

    def _finite(self, X, columns) -> np.ndarray:
        gap = self._missing(X, columns)
        if gap:
            c, n, who = gap
            raise ModelError(f"CustomerTiers: column '{c}' has {n} missing or infinite values (e.g. customer "
                             f"{who!r}); the {self.method_ if hasattr(self, 'method_') else self.method} "
                             f"tiers need it for every customer")
        return X[list(columns)].to_numpy(dtype=float)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, *, clv_fallback=None):
        """Fit the tiers on one month's tier features.

        Parameters
        ----------
        X : DataFrame
            ``clvlib.tiers.tier_features`` output, indexed by customer_id.
        y : ignored
        clv_fallback : str or None
            Why the CLV model fell back to the simple formula this month (``CustomerValue.fallback``);
            given, kmeans / gmm fall back to the value-share rules.

        Returns
        -------
        self
        """
        self._check_params()
        self._frame(X, ("clv",))
        clv = self._finite(X, ("clv",))[:, 0]
        for attr in ("pipeline_", "weights_", "precisions_cholesky_", "centres_", "cuts_", "scaler_mean_",
                     "scaler_scale_", "transform_"):
            self.__dict__.pop(attr, None)
        self.notes_ = []
        reason = None
        if self.method != "value_share":
            reason = self._thin_data(X, clv_fallback)
            if reason is None:
                reason = self._fit_clusters(X, clv)
        if self.method == "value_share" or reason is not None:
            self._fit_value_share(X, clv)
        self.fallback_ = reason
        self.n_customers_ = int(len(X))
        return self

    def _thin_data(self, X, clv_fallback):
        need = self.min_customers_per_tier * len(self.labels)
        if clv_fallback:
            return f"the CLV model fell back to the simple formula ({clv_fallback})"
        self._frame(X, FEATURES)
        gap = self._missing(X, FEATURES)
        if gap:
            return f"{gap[1]} customers have no {gap[0]} (e.g. customer {gap[2]!r})"
        if len(X) < need:
            return (f"only {len(X)} customers: clusters need at least {need} "
                    f"({self.min_customers_per_tier} per tier)")
        repeat = int((X["frequency"].to_numpy(dtype=float) > 0).sum())
        if repeat < need:
            return (f"only {repeat} repeat customers: clusters need at least {need} "
                    f"({self.min_customers_per_tier} per tier)")
        distinct = len(np.unique(X[list(FEATURES)].to_numpy(dtype=float), axis=0))
        if distinct < len(self.labels):
            return f"only {distinct} distinct customers for {len(self.labels)} tiers"
        return None

    def _pipeline(self, n):
        from sklearn.cluster import KMeans
        from sklearn.mixture import GaussianMixture
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer, QuantileTransformer, StandardScaler

        k, seed = len(self.labels), self.random_state
        if self.transform == "quantile":
            tf = QuantileTransformer(n_quantiles=min(N_QUANTILES, n), output_distribution="uniform",
                                     subsample=None, random_state=seed)
        else:
            tf = FunctionTransformer(transform_skewed)
        if self.method == "kmeans":
            model = KMeans(n_clusters=k, n_init=self.n_init, random_state=seed)
        else:
            model = GaussianMixture(n_components=k, covariance_type=self.covariance_type, reg_covar=self.reg_covar,
                                    n_init=self.n_init, random_state=seed)
        return Pipeline([("transform", tf), ("scale", StandardScaler()), ("cluster", model)])

    def _fit_clusters(self, X, clv):
        """Fit the Pipeline, order its clusters by mean CLV; a collapse reason, or None."""
        F = X[list(FEATURES)].to_numpy(dtype=float)
        with one_thread():
            pipe = self._pipeline(len(F)).fit(F)
        tf, scaler, model = pipe.named_steps["transform"], pipe.named_steps["scale"], pipe.named_steps["cluster"]
        self.transform_ = ({"kind": "quantile", "quantiles": tf.quantiles_.copy(), "references": tf.references_.copy()}
                           if self.transform == "quantile" else {"kind": "signed_log1p"})
        self.scaler_mean_, self.scaler_scale_ = scaler.mean_.copy(), scaler.scale_.copy()
        self.feature_names_in_ = np.array(FEATURES, dtype=object)
        self.method_ = self.method
        self.pipeline_ = pipe
        centres = model.cluster_centers_ if self.method == "kmeans" else model.means_
        self.centres_ = np.asarray(centres, dtype=float)
        if self.method == "gmm":
            self.weights_ = model.weights_.copy()
            self.precisions_cholesky_ = full_precisions_cholesky(model.precisions_cholesky_, self.covariance_type,
                                                                  k=len(self.labels), d=len(FEATURES))
        raw = self._plain_positions(F)
        k = len(self.labels)
        mean = np.array([clv[raw == j].mean() if (raw == j).any() else -np.inf for j in range(k)])
        order = np.argsort(-mean, kind="stable")
        self.centres_ = self.centres_[order]
        if self.method == "gmm":
            self.weights_, self.precisions_cholesky_ = self.weights_[order], self.precisions_cholesky_[order]
        pos = np.argsort(order)[raw]
        self._summarise(clv, pos, self._scaled(F))
        smallest = max(2, math.ceil(self.min_cluster_share * len(F)))
        if self.tier_counts_.min() < smallest:
            j = int(self.tier_counts_.argmin())
            return (f"the {self.method} clusters collapse: tier {self.labels[j]} would hold only "
                    f"{int(self.tier_counts_[j])} customers (fewer than {smallest})")
        return None

    def _fit_value_share(self, X, clv):
        for attr in ("pipeline_", "weights_", "precisions_cholesky_", "centres_", "scaler_mean_",
                     "scaler_scale_", "transform_"):
            self.__dict__.pop(attr, None)
        self.method_ = "value_share"
        self.feature_names_in_ = np.array(["clv"], dtype=object)
        v = np.sort(clv)[::-1]
        pos = np.clip(v, 0, None)
        total = pos.sum()
        before = np.cumsum(pos) - pos
        cuts = []
        for s in np.cumsum(self.value_shares)[:-1]:
            inside = int((before < s * total).sum()) if total > 0 else 0
            cuts.append(v[inside - 1] if inside else np.inf)
        if total <= 0:
            self.notes_.append("no customer has a positive CLV: all are in the last tier")
        self.cuts_ = np.array(cuts, dtype=float)
        tiers = hy.value_share_tiers(clv, self.cuts_)
        self._summarise(clv, tiers, signed_log1p(clv)[:, None])

    def _summarise(self, clv, pos, space):
        k = len(self.labels)
        self.tier_counts_ = np.bincount(pos, minlength=k).astype(np.int64)
        sums = np.bincount(pos, weights=clv, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.tier_mean_clv_ = np.where(self.tier_counts_ > 0, sums / np.maximum(self.tier_counts_, 1), np.nan)
        self.silhouette_ = self._silhouette(space, pos)

    def _silhouette(self, space, pos) -> float:
        from sklearn.metrics import silhouette_score

        n_tiers = len(np.unique(pos))
        if n_tiers < 2 or n_tiers >= len(pos):
            return float("nan")
        sample = self.silhouette_sample if len(pos) > self.silhouette_sample else None
        if sample is not None:       # the sample must hold two tiers too
            idx = np.random.RandomState(self.random_state).permutation(len(pos))[:sample]
            if len(np.unique(pos[idx])) < 2:
                return float("nan")
            space, pos = space[idx], pos[idx]
        with one_thread():
            return float(silhouette_score(space, pos))

    # ------------------------------------------------------------------ predict
    def _scaled(self, F) -> np.ndarray:
        t = self.transform_
        if t["kind"] == "quantile":
            G = quantile_uniform(F, np.asarray(t["quantiles"]), np.asarray(t["references"]))
        else:
            G = transform_skewed(F)
        return (G - self.scaler_mean_) / self.scaler_scale_

    def _plain_positions(self, F) -> np.ndarray:
        none = np.full(len(F), -1)
        if self.method_ == "kmeans":
            return hy.kmeans_with_hysteresis(self._scaled(F), self.centres_, none, 0.0)
        if self.method_ == "gmm":
            return self.posteriors_of(F).argmax(axis=1)
        return hy.value_share_tiers(F[:, 0], self.cuts_)

    def posteriors_of(self, F) -> np.ndarray:
        """gmm: posterior tier probabilities (tier order) of feature rows ``F`` (FEATURES order)."""
        return gmm_posteriors(self._scaled(F), self.centres_, self.precisions_cholesky_, self.weights_)

    def _previous_positions(self, index, previous) -> np.ndarray:
        if previous is None:
            return np.full(len(index), -1)
        prev = previous.set_index("customer_id")["tier"] if isinstance(previous, pd.DataFrame) else previous
        code = {label: j for j, label in enumerate(self.labels)}
        if prev.index.has_duplicates:
            raise ModelError(f"CustomerTiers: customer {prev.index[prev.index.duplicated()][0]!r} has more than "
                             f"one previous tier")
        mapped = pd.Series(prev.to_numpy(), index=prev.index.astype(str)).map(code)
        return mapped.reindex(index.astype(str)).fillna(-1).to_numpy(dtype=np.int64)

    def predict(self, X, previous=None) -> pd.Series:
        """Each customer's tier, with hysteresis against its ``previous`` tier.

        Parameters
        ----------
        X : DataFrame
            Tier features indexed by customer_id.
        previous : Series or DataFrame, optional
            Last month's tiers: labels indexed by customer_id (or columns customer_id, tier).
            Customers absent from it (new) get the plain tier.

        Returns
        -------
        Series
            Tier labels indexed like ``X``, named ``tier``.
        """
        self._check_fitted()
        self._frame(X, list(self.feature_names_in_))
        F = self._finite(X, list(self.feature_names_in_))
        prev = self._previous_positions(X.index, previous)
        h = float(self.hysteresis)
        if self.method_ == "kmeans":
            pos = hy.kmeans_with_hysteresis(self._scaled(F), self.centres_, prev, h)
        elif self.method_ == "gmm":
            pos = hy.gmm_with_hysteresis(self.posteriors_of(F), prev, h)
        else:
            pos = hy.value_share_with_hysteresis(F[:, 0], self.cuts_, prev, h)
        return pd.Series(np.asarray(self.labels, dtype=object)[pos], index=X.index, name="tier")

    def silhouette(self, X, tiers=None) -> float:
        """Mean silhouette of ``tiers`` (default: the plain tiers) of the customers ``X``, in the
        model's feature space, on the same seeded sample size as the fit's."""
        self._check_fitted()
        F = self._finite(self._frame(X, list(self.feature_names_in_)), list(self.feature_names_in_))
        if tiers is None:
            pos = self._plain_positions(F)
        else:
            code = {label: j for j, label in enumerate(self.labels)}
            pos = pd.Series(tiers).reindex(X.index).map(code).to_numpy()
            if pd.isna(pos).any():
                raise ModelError("CustomerTiers.silhouette: every customer needs one of the tiers "
                                 f"{', '.join(self.labels)}")
            pos = pos.astype(np.int64)
        space = self._scaled(F) if self.method_ != "value_share" else signed_log1p(F[:, 0])[:, None]
        return self._silhouette(space, pos)

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict:
        """The fitted model as a JSON-ready dict (numbers as floats, exact on a round trip)."""
        self._check_fitted()
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        d = {"format": JSON_FORMAT, "params": params, "method_": self.method_, "fallback_": self.fallback_,
             "feature_names_in_": list(self.feature_names_in_), "n_customers_": self.n_customers_,
             "tier_counts_": self.tier_counts_.tolist(), "tier_mean_clv_": _floats(self.tier_mean_clv_),
             "silhouette_": _float(self.silhouette_), "notes_": list(self.notes_)}
        if self.method_ == "value_share":
            d["cuts_"] = _floats(self.cuts_)
            return d
        t = self.transform_
        d["transform_"] = ({"kind": "quantile", "quantiles": t["quantiles"].tolist(),
                            "references": t["references"].tolist()} if t["kind"] == "quantile" else dict(t))
        d["scaler_mean_"], d["scaler_scale_"] = self.scaler_mean_.tolist(), self.scaler_scale_.tolist()
        d["centres_"] = self.centres_.tolist()
        if self.method_ == "gmm":
            d["weights_"], d["precisions_cholesky_"] = self.weights_.tolist(), self.precisions_cholesky_.tolist()
        return d

    @classmethod
    def from_json(cls, d: dict) -> "CustomerTiers":
        """A fitted model from ``to_json``'s dict; ``predict`` gives exactly the same tiers."""
        if not isinstance(d, dict) or d.get("format") != JSON_FORMAT:
            got = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise ModelError(f"not a saved tier model (expected format {JSON_FORMAT!r}, got {got!r})")
        try:
            m = cls(**d["params"])
            m._check_params()
            m.method_, m.fallback_ = d["method_"], d["fallback_"]
            m.feature_names_in_ = np.array(d["feature_names_in_"], dtype=object)
            m.n_customers_ = int(d["n_customers_"])
            m.tier_counts_ = np.array(d["tier_counts_"], dtype=np.int64)
            m.tier_mean_clv_ = _array(d["tier_mean_clv_"])
            m.silhouette_ = float("nan") if d["silhouette_"] is None else float(d["silhouette_"])
            m.notes_ = list(d.get("notes_", []))
            if m.method_ == "value_share":
                m.cuts_ = _array(d["cuts_"], none=np.inf)
            else:
                t = d["transform_"]
                m.transform_ = ({"kind": "quantile", "quantiles": np.array(t["quantiles"], dtype=float),
                                 "references": np.array(t["references"], dtype=float)}
                                if t["kind"] == "quantile" else {"kind": t["kind"]})
                m.scaler_mean_ = np.array(d["scaler_mean_"], dtype=float)
                m.scaler_scale_ = np.array(d["scaler_scale_"], dtype=float)
                m.centres_ = np.array(d["centres_"], dtype=float)
                if m.method_ == "gmm":
                    m.weights_ = np.array(d["weights_"], dtype=float)
                    m.precisions_cholesky_ = np.array(d["precisions_cholesky_"], dtype=float)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"the saved tier model is incomplete or damaged ({e.__class__.__name__}: {e})") from None
        if m.method_ not in ("kmeans", "gmm", "value_share"):
            raise ModelError(f"the saved tier model has an unknown method {m.method_!r}")
        return m


def _float(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _floats(a):
    return [_float(x) for x in np.asarray(a, dtype=float)]


def _array(values, none=np.nan):
    return np.array([none if v is None else v for v in values], dtype=float)

