"""clvlib.tiers: the estimator's API, hand-computed rules (value-share cuts, RFM, hysteresis, PSI,
migration), JSON round trips, the thin-data fallback, and stability on the demo company."""
from __future__ import annotations

import doctest
import json
import math

import numpy as np
import pandas as pd
import pytest

from clvlib.errors import DataError, ModelError, NotFittedError
from clvlib.tiers import (DEFINITIONS, FEATURES, CustomerTiers, assign_tiers, migration_matrix, params_for_estimator,
                          population_stability_index, rfm_scores, share_changed, tier_features, tier_profile)
from clvlib.tiers import hysteresis as hy

LABELS = ["A", "B", "C"]


def synthetic(n=300, seed=0, month_shift=0.0) -> pd.DataFrame:
    """Tier features of three kinds of customers (big, middling, lapsed) plus some one-time buyers."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(4, size=n, p=[0.2, 0.35, 0.3, 0.15])
    clv = np.array([20000, 3000, 200, 1500])[kind] * rng.lognormal(0, 0.4, n)
    p_alive = np.clip(np.array([0.9, 0.8, 0.1, 1.0])[kind] + rng.normal(0, 0.05, n), 0, 1)
    p_alive[kind == 3] = 1.0
    freq = np.rint(np.array([12, 4, 3, 0])[kind] * rng.lognormal(0, 0.3, n))
    freq[kind != 3] = np.maximum(freq[kind != 3], 1)
    margin = np.array([3000, 2000, 1500, 2500])[kind] * rng.lognormal(0, 0.3, n)
    tenure = np.array([30, 20, 40, 6])[kind] * rng.lognormal(0, 0.2, n) + month_shift
    days = np.array([30, 90, 600, 150])[kind] * rng.lognormal(0, 0.3, n)
    idx = pd.Index([f"C{i:04d}" for i in range(n)], name="customer_id")
    return pd.DataFrame({"clv": clv, "p_alive": p_alive, "frequency": freq, "margin_per_purchase": margin,
                         "tenure_months": tenure, "days_since_last_purchase": np.rint(days)}, index=idx)


def drift(X: pd.DataFrame, seed: int, scale: float = 1.0) -> pd.DataFrame:
    """Next month's features: the same customers, figures moved a little (``scale`` times more)."""
    rng = np.random.default_rng(seed)
    Y = X.copy()
    Y["clv"] = Y["clv"] * rng.lognormal(0, 0.15 * scale, len(Y))
    Y["p_alive"] = np.clip(Y["p_alive"] + rng.normal(0, 0.03 * scale, len(Y)), 0, 1)
    Y["tenure_months"] = Y["tenure_months"] + 1
    return Y


@pytest.fixture(scope="module")
def X():
    return synthetic()


@pytest.fixture(scope="module")
def fitted(X):
    return {(m, t): CustomerTiers(method=m, transform=t, random_state=1).fit(X)
            for m in ("kmeans", "gmm", "value_share") for t in ("signed_log1p", "quantile")}


# ------------------------------------------------------------------ estimator API
@pytest.mark.parametrize("method", ["kmeans", "gmm", "value_share"])
def test_fit_returns_self_and_learned_values_end_in_underscore(X, method):
    m = CustomerTiers(method=method, labels=["Gold", "Silver", "Bronze"])
    before = m.get_params()
    assert m.fit(X) is m
    assert m.get_params() == before                        # fit does not touch the hyperparameters
    learned = set(vars(m)) - set(before)
    assert learned and all(k.endswith("_") for k in learned)
    assert {"method_", "fallback_", "feature_names_in_", "silhouette_", "tier_counts_"} <= learned
    assert (m.cuts_ is not None) if method == "value_share" else m.centres_.shape == (3, 5)
    assert set(m.predict(X)) <= {"Gold", "Silver", "Bronze"}


def test_predict_before_fit_says_call_fit_first(X):
    with pytest.raises(NotFittedError, match="not fitted yet: call fit first"):
        CustomerTiers().predict(X)
    with pytest.raises(NotFittedError, match="call fit first"):
        CustomerTiers().to_json()


@pytest.mark.parametrize("kw, message", [
    ({"method": "kmean"}, "The 'method' parameter of CustomerTiers must be one of 'kmeans', 'gmm', "
                          "'value_share'. Got 'kmean' instead."),
    ({"hysteresis": -0.1}, "The 'hysteresis' parameter of CustomerTiers must be a float >= 0. Got -0.1 instead."),
    ({"n_init": 0}, "The 'n_init' parameter of CustomerTiers must be an int >= 1. Got 0 instead."),
    ({"labels": ["A"]}, "The 'labels' parameter of CustomerTiers must be a list of at least 2 distinct non-empty "
                        "strings other than 'new' and 'gone'. Got ['A'] instead."),
    ({"labels": ["A", "new"], "value_shares": [0.5, 0.5]}, "The 'labels' parameter"),
    ({"value_shares": [0.7, 0.2, 0.2]}, "The 'value_shares' parameter of CustomerTiers must be a list of at least "
                                        "2 shares in (0, 1] summing to 1. Got [0.7, 0.2, 0.2] instead."),
    ({"labels": ["A", "B", "C", "D"]}, "The 'value_shares' parameter of CustomerTiers must have one share per label"),
    ({"transform": "log"}, "The 'transform' parameter of CustomerTiers must be one of 'signed_log1p', 'quantile'"),
    ({"random_state": None}, "The 'random_state' parameter of CustomerTiers must be an int >= 0. Got None instead."),
])
def test_parameter_validation_reads_like_scikit_learn(X, kw, message):
    with pytest.raises(ModelError) as e:
        CustomerTiers(**kw).fit(X)
    assert message in str(e.value)


def test_bad_input_is_one_line(X):
    with pytest.raises(ModelError, match="needs a DataFrame"):
        CustomerTiers().fit(X.to_numpy())
    with pytest.raises(ModelError, match="no column.*tenure_months"):
        CustomerTiers().fit(X.drop(columns="tenure_months"))
    with pytest.raises(ModelError, match=r"column 'clv' has 1 missing .*C0007"):
        CustomerTiers().fit(X.assign(clv=X["clv"].where(X.index != "C0007")))
    with pytest.raises(ModelError, match="'C0001' appears more than once"):
        CustomerTiers().fit(pd.concat([X, X.iloc[1:2]]))
    m = CustomerTiers().fit(X)
    with pytest.raises(ModelError, match="'C0004' has more than one previous tier"):
        m.predict(X, previous=pd.Series(["A", "B"], index=["C0004", "C0004"]))
    with pytest.raises(ModelError, match=r"column 'p_alive' has 1 missing"):
        m.predict(X.assign(p_alive=X["p_alive"].where(X.index != "C0003")))


def test_clone_gives_an_unfitted_copy(fitted):
    from sklearn.base import clone

    c = clone(fitted[("kmeans", "signed_log1p")])
    assert c.get_params() == fitted[("kmeans", "signed_log1p")].get_params()
    assert not hasattr(c, "centres_")


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
@pytest.mark.parametrize("transform", ["signed_log1p", "quantile"])
def test_tiers_are_ordered_by_mean_clv(X, fitted, method, transform):
    m = fitted[(method, transform)]
    assert m.fallback_ is None and m.method_ == method
    assert np.all(np.diff(m.tier_mean_clv_) < 0)
    means = X["clv"].groupby(m.predict(X)).mean()
    assert means["A"] > means["B"] > means["C"]
    assert m.tier_counts_.sum() == len(X)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
@pytest.mark.parametrize("transform", ["signed_log1p", "quantile"])
def test_numpy_predict_agrees_with_the_fitted_pipeline(X, fitted, method, transform):
    m = fitted[(method, transform)]
    F = X[list(FEATURES)].to_numpy(dtype=float)
    np.testing.assert_allclose(m._scaled(F), m.pipeline_[:-1].transform(F), rtol=0, atol=1e-12)
    ours, theirs = m._plain_positions(F), m.pipeline_.predict(F)
    pairs = set(zip(theirs.tolist(), ours.tolist()))
    assert len(pairs) == 3                                  # one-to-one relabelling of the clusters
    if method == "gmm":
        order = [dict((o, t) for t, o in pairs)[j] for j in range(3)]
        np.testing.assert_allclose(m.posteriors_of(F), m.pipeline_.predict_proba(F)[:, order], atol=1e-10)


@pytest.mark.parametrize("method", ["kmeans", "gmm", "value_share"])
@pytest.mark.parametrize("transform", ["signed_log1p", "quantile"])
def test_json_round_trip_reproduces_predict_exactly(X, fitted, method, transform):
    m = fitted[(method, transform)]
    text = json.dumps(m.to_json(), allow_nan=False)       # strict JSON: no NaN, no pickle
    r = CustomerTiers.from_json(json.loads(text))
    Y = drift(X, 5)
    prev = m.predict(X)
    pd.testing.assert_series_equal(r.predict(Y), m.predict(Y))
    pd.testing.assert_series_equal(r.predict(Y, previous=prev), m.predict(Y, previous=prev))
    for attr in ("centres_", "scaler_mean_", "scaler_scale_", "weights_", "precisions_cholesky_", "cuts_"):
        if hasattr(m, attr):
            assert np.array_equal(getattr(r, attr), getattr(m, attr))
    assert r.get_params() == {k: (list(v) if isinstance(v, tuple) else v) for k, v in m.get_params().items()}
    assert r.silhouette_ == m.silhouette_ and not hasattr(r, "pipeline_")


def test_from_json_rejects_what_is_not_a_tier_model(fitted):
    with pytest.raises(ModelError, match="not a saved tier model"):
        CustomerTiers.from_json({"format": "pickle"})
    d = fitted[("kmeans", "signed_log1p")].to_json()
    del d["centres_"]
    with pytest.raises(ModelError, match="incomplete or damaged.*centres_"):
        CustomerTiers.from_json(d)


# ------------------------------------------------------------------ hysteresis, by hand
def test_kmeans_hysteresis_by_hand():
    centres = np.array([[0.0, 0.0], [2.0, 0.0]])            # the bisecting line is x = 1
    z = np.array([[1.2, 0.0], [1.3, 5.0], [1.2, 0.0], [0.4, 0.0]])
    prev = np.array([0, 0, -1, 1])
    # row 0: 0.2 past the line (1.44 - 0.64) / (2 * 2) = 0.2 <= 0.25: stays in tier 0
    # row 1: 0.3 past it (26.69 - 25.49) / 4 = 0.3 > 0.25: moves; row 2: new: nearest; row 3: 0.6 past: moves
    np.testing.assert_allclose(hy.boundary_margin(z, centres, prev.clip(0), np.array([1, 1, 1, 0])),
                               [0.2, 0.3, 0.2, 0.6])
    assert hy.kmeans_with_hysteresis(z, centres, prev, 0.25).tolist() == [0, 1, 1, 0]
    assert hy.kmeans_with_hysteresis(z, centres, prev, 0.1).tolist() == [1, 1, 1, 0]
    assert hy.kmeans_with_hysteresis(z, centres, prev, 0.0).tolist() == [1, 1, 1, 0]


def test_gmm_hysteresis_by_hand():
    post = np.array([[0.5, 0.4, 0.1], [0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    prev = np.array([1, 1, -1, 0])
    # 0.5 - 0.4 = 0.1 <= 0.25: stays B; 0.7 - 0.2 = 0.5: moves to A; new: A; 0.6 - 0.1 = 0.5: moves to C
    assert hy.gmm_with_hysteresis(post, prev, 0.25).tolist() == [1, 0, 0, 2]
    assert hy.gmm_with_hysteresis(post, prev, 0.6).tolist() == [1, 1, 0, 0]


def test_value_share_hysteresis_by_hand():
    X = pd.DataFrame({"clv": [500.0, 200, 100, 80, 70, 50]}, index=list("abcdef"))
    m = CustomerTiers(method="value_share", hysteresis=0.25).fit(X)
    assert m.cuts_.tolist() == [200.0, 70.0]
    # cuts x 1.25 = 250, 87.5 to move up; cuts x 0.75 = 150, 52.5 to move down
    cases = {  # customer: (previous tier, CLV now, tier now)
        "b1": ("B", 240.0, "B"), "b2": ("B", 250.0, "A"), "b3": ("B", 53.0, "B"), "b4": ("B", 52.0, "C"),
        "c1": ("C", 80.0, "C"), "c2": ("C", 90.0, "B"), "c3": ("C", 260.0, "A"), "c4": ("C", 240.0, "B"),
        "a1": ("A", 160.0, "A"), "a2": ("A", 140.0, "B"), "a3": ("A", 50.0, "C"),
        "n1": (None, 200.0, "A"), "n2": (None, 69.0, "C"),
    }
    Y = pd.DataFrame({"clv": [v[1] for v in cases.values()]}, index=list(cases))
    prev = pd.Series({k: v[0] for k, v in cases.items() if v[0]})
    assert m.predict(Y, previous=prev).to_dict() == {k: v[2] for k, v in cases.items()}
    plain = m.predict(Y)
    assert plain["b1"] == "A" and plain["a1"] == "B" and plain["b3"] == "C"     # held by the margin


def test_kmeans_hysteresis_in_the_estimator(X, fitted):
    m = fitted[("kmeans", "signed_log1p")]
    prev = m.predict(X)
    Y = X.copy()                                           # 100 customers moved part of the way to another
    cols = list(FEATURES)
    t = np.linspace(0.2, 0.8, 100)[:, None]
    Y.iloc[:100, :5] = (1 - t) * X[cols].iloc[:100].to_numpy() + t * X[cols].iloc[::-1].iloc[:100].to_numpy()
    Y.loc["NEW1"] = Y.iloc[0]                               # a new customer: the plain tier
    plain, held = m.predict(Y), m.predict(Y, previous=prev)
    assert held["NEW1"] == plain["NEW1"]
    pd.testing.assert_series_equal(CustomerTiers(**{**m.get_params(), "hysteresis": 0.0}).fit(X).predict(Y, prev), plain)
    z = m._scaled(Y[list(FEATURES)].to_numpy(dtype=float))
    code = {t: j for j, t in enumerate(m.labels)}
    old = prev.reindex(Y.index).map(code).fillna(-1).astype(int).to_numpy()
    new = plain.map(code).to_numpy()
    d2 = ((z[:, None, :] - m.centres_[None]) ** 2).sum(axis=2)
    movers = np.flatnonzero((old >= 0) & (old != new))
    assert len(movers) > 10
    for i in movers:                                          # every customer the plain model would move
        gap = np.linalg.norm(m.centres_[new[i]] - m.centres_[old[i]])
        margin = (d2[i, old[i]] - d2[i, new[i]]) / (2 * gap)
        assert held.iloc[i] == (plain.iloc[i] if margin > m.hysteresis else prev[Y.index[i]])
    assert (held != plain).any() and (held == prev.reindex(Y.index)).mean() > (plain == prev.reindex(Y.index)).mean()


# ------------------------------------------------------------------ value-share cuts, by hand
def test_value_share_cuts_by_hand():
    # total 1000: A = the fewest top customers reaching 700 (500 + 200), B up to 900 (100 + 80 + 70 = 950 - 700
    # counted while the CLV before them is below 900), C the rest
    X = pd.DataFrame({"clv": [500.0, 200, 100, 80, 70, 50]}, index=list("abcdef"))
    m = CustomerTiers(method="value_share").fit(X)
    assert m.predict(X).tolist() == ["A", "A", "B", "B", "B", "C"]
    assert m.tier_counts_.tolist() == [2, 3, 1] and m.fallback_ is None and m.method_ == "value_share"
    assert list(m.feature_names_in_) == ["clv"]
    # ties share a tier; customers worth nothing or less are in the last tier
    T = pd.DataFrame({"clv": [80.0, 20, 20, 0, -30]}, index=list("vwxyz"))
    t = CustomerTiers(method="value_share", labels=["A", "B"], value_shares=[0.7, 0.3]).fit(T)
    assert t.cuts_.tolist() == [20.0]                         # 80 < 0.7 x 120 = 84, so the first 20 is in A
    assert t.predict(T).tolist() == ["A", "A", "A", "B", "B"]
    # other shares: A 50 %, B 30 %, C 20 %
    s = CustomerTiers(method="value_share", value_shares=[0.5, 0.3, 0.2]).fit(X)
    assert s.cuts_.tolist() == [500.0, 100.0]


def test_value_share_without_positive_clv_puts_everyone_in_the_last_tier():
    X = pd.DataFrame({"clv": [0.0, -5.0, 0.0]}, index=list("abc"))
    m = CustomerTiers(method="value_share").fit(X)
    assert m.predict(X).tolist() == ["C", "C", "C"] and "no customer has a positive CLV" in m.notes_[0]
    r = CustomerTiers.from_json(json.loads(json.dumps(m.to_json(), allow_nan=False)))
    assert r.predict(X, previous=pd.Series({"a": "A"})).tolist() == ["C", "C", "C"]


# ------------------------------------------------------------------ features and RFM
def test_tier_features_by_hand():
    c = pd.DataFrame({"customer_id": ["C1", "C2"], "clv": [100.0, 5.0], "p_alive": [0.9, np.nan],
                      "frequency": [3, 0], "monetary_value": [50.0, 0.0], "margin_to_date": [200.0, 30.0],
                      "first_purchase": pd.to_datetime(["2025-10-31", "2026-10-01"]),
                      "last_purchase": pd.to_datetime(["2026-10-21", "2026-10-01"])})
    f = tier_features(c, "2026-10-31")
    assert list(f.columns) == list(FEATURES) + ["days_since_last_purchase"]
    assert f.loc["C1", "tenure_months"] == pytest.approx(365 / (365.25 / 12))
    assert f.loc["C1", "margin_per_purchase"] == 50.0 and f.loc["C2", "margin_per_purchase"] == 30.0
    assert f["days_since_last_purchase"].tolist() == [10.0, 30.0] and np.isnan(f.loc["C2", "p_alive"])
    with pytest.raises(DataError, match="no column.*margin_to_date"):
        tier_features(c.drop(columns="margin_to_date"), "2026-10-31")
    with pytest.raises(DataError, match="'C1' appears more than once"):
        tier_features(pd.concat([c, c.iloc[:1]]), "2026-10-31")


def test_rfm_quartiles_by_hand():
    # score = 1 + floor(4 k / n), k = customers strictly worse; n = 8
    f = pd.DataFrame({"days_since_last_purchase": [5, 10, 10, 40, 60, 90, 200, 400],
                      "frequency": [0, 0, 0, 0, 1, 2, 2, 9],
                      "margin_per_purchase": [10.0, 20, 30, 40, 50, 60, 70, 80]}, index=list("abcdefgh"))
    s = rfm_scores(f)
    assert s["f_score"].tolist() == [1, 1, 1, 1, 3, 3, 3, 4]     # zeros: k = 0; 1: k = 4; 2: k = 5; 9: k = 7
    assert s["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert s.loc["h", "rfm_cell"] == "144"                   # r: nobody bought longer ago than h


def test_rfm_quartiles_recency_by_hand():
    # days 5: 7 customers bought longer ago -> 1 + 28 // 8 = 4; 10 (twice): 5 longer ago -> 1 + 20 // 8 = 3
    f = pd.DataFrame({"days_since_last_purchase": [5, 10, 10, 40, 60, 90, 200, 400], "frequency": [1] * 8,
                      "margin_per_purchase": [1.0] * 8})
    s = rfm_scores(f)
    assert s["r_score"].tolist() == [4, 3, 3, 3, 2, 2, 1, 1]
    assert s["f_score"].tolist() == [1] * 8                      # all tied: nobody is strictly worse


# ------------------------------------------------------------------ migration, PSI, profile, by hand
def test_population_stability_index_by_hand():
    prev = pd.Series(list("AABBBCCCCC"), index=[f"c{i}" for i in range(10)])
    curr = pd.Series(list("AAABBBCCCC"), index=[f"c{i}" for i in range(10)])
    expected = (0.3 - 0.2) * math.log(0.3 / 0.2) + 0 + (0.4 - 0.5) * math.log(0.4 / 0.5)
    assert population_stability_index(prev, curr) == pytest.approx(expected, abs=1e-15)
    assert expected == pytest.approx(0.0628609, abs=1e-7)
    # an empty tier counts with epsilon = 1e-4
    before = pd.Series(list("BBBBBCCCCC"))
    after = pd.Series(list("AABBBBCCCC"))
    e = (0.2 - 1e-4) * math.log(0.2 / 1e-4) + 2 * (0.4 - 0.5) * math.log(0.4 / 0.5)
    assert population_stability_index(before, after, labels=LABELS) == pytest.approx(e, abs=1e-12)
    assert population_stability_index(prev, prev) == 0.0


def test_migration_matrix_and_share_changed_by_hand():
    prev = pd.Series({"a": "A", "b": "A", "c": "B", "d": "B", "e": "C", "f": "C"})
    curr = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e", "g", "h"],
                         "tier": ["A", "B", "B", "B", "A", "C", "A"]})
    m = migration_matrix(prev, curr, labels=LABELS)
    expected = pd.DataFrame([[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 1], [1, 0, 1, 0]],
                            index=pd.Index(["A", "B", "C", "new"], name="from"),
                            columns=pd.Index(["A", "B", "C", "gone"], name="to"))
    pd.testing.assert_frame_equal(m, expected)
    shares = migration_matrix(prev, curr, labels=LABELS, normalize=True)
    assert shares.loc["A"].tolist() == [0.5, 0.5, 0.0, 0.0] and shares.loc["C", "gone"] == 0.5
    # in both months: a, b, c, d, e; changed: b (A -> B), e (C -> A)
    assert share_changed(prev, curr) == pytest.approx(2 / 5)
    assert math.isnan(share_changed(pd.Series({"x": "A"}), pd.Series({"y": "A"})))


def test_tier_profile_by_hand():
    tiers = pd.Series({"a": "A", "b": "A", "c": "B", "d": "C"})
    clv = pd.Series({"a": 600.0, "b": 200.0, "c": 150.0, "d": 50.0, "z": 999.0})
    o = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "c", "c", "d"],
        "order_date": pd.to_datetime(["2026-01-05", "2026-01-05", "2026-06-01", "2025-12-01", "2025-10-31",
                                      "2026-03-01", "2026-03-20", "2026-09-09"]),
        "doc_type": ["invoice", "invoice", "invoice", "invoice", "invoice", "invoice", "credit_note", "invoice"],
        "gross_margin_rc": [100.0, 50.0, 250.0, 80.0, 1000.0, 60.0, -20.0, 40.0]})
    p = tier_profile(tiers, clv, o, "2026-10-31", labels=LABELS).set_index("tier")
    # 12 months = 2025-11-01 .. 2026-10-31: b's 2025-10-31 invoice is outside; c's credit note nets
    assert p["customers"].tolist() == [2, 1, 1]
    assert p["clv_share"].tolist() == pytest.approx([0.8, 0.15, 0.05])
    assert p["mean_clv"].tolist() == pytest.approx([400.0, 150.0, 50.0])
    assert p["margin_12m"].tolist() == pytest.approx([480.0, 40.0, 40.0])
    assert p["margin_12m_share"].tolist() == pytest.approx([480 / 560, 40 / 560, 40 / 560])
    # repurchase: a bought on 2 days (2026-01-05 twice counts once), b on 1, c on 1 (credit note is no invoice)
    assert p["active_12m"].tolist() == [2, 1, 1]
    assert p["repurchase_rate"].tolist() == pytest.approx([0.5, 0.0, 0.0])


# ------------------------------------------------------------------ small firms
@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_thin_data_falls_back_to_value_share(X, method):
    cases = {
        "only 20 customers": (X.iloc[:20], {}),
        "the CLV model fell back to the simple formula (too few repeat buyers)": (X, {"clv_fallback": "too few repeat buyers"}),
        "1 customers have no p_alive (e.g. customer 'C0002')": (X.assign(p_alive=X["p_alive"].where(X.index != "C0002")), {}),
        "only 20 repeat customers": (X.assign(frequency=np.where(np.arange(len(X)) < 20, 1.0, 0.0)), {}),
    }
    for reason, (data, kw) in cases.items():
        m = CustomerTiers(method=method).fit(data, **kw)
        assert m.method_ == "value_share" and reason in m.fallback_, (reason, m.fallback_)
        tiers = m.predict(data)
        assert tiers.index.equals(data.index) and set(tiers) <= set(LABELS)
        assert CustomerTiers.from_json(m.to_json()).fallback_ == m.fallback_


def test_a_collapsing_cluster_falls_back_to_value_share():
    rng = np.random.default_rng(3)
    base = synthetic(60, seed=3)
    base["frequency"] = 3.0
    base.loc[base.index[0], ["clv", "margin_per_purchase", "frequency"]] = [1e9, 1e8, 5000.0]   # one outlier
    base["p_alive"] = np.clip(rng.normal(0.5, 0.01, 60), 0, 1)
    m = CustomerTiers(method="kmeans").fit(base)
    assert m.method_ == "value_share"
    assert "clusters collapse: tier A would hold only 1 customers (fewer than 2)" in m.fallback_


# ------------------------------------------------------------------ over months
@pytest.fixture(scope="module")
def months(X):
    out, cur = {}, X
    for i, m in enumerate(["2025-11", "2025-12", "2026-01", "2026-02"]):
        cur = cur if i == 0 else drift(cur, 100 + i)
        out[m] = cur
    return out


@pytest.mark.parametrize("refit, fitted_in", [
    ("yearly", ["2025-11", "2026-01"]), ("monthly", ["2025-11", "2025-12", "2026-01", "2026-02"]),
    ("never", ["2025-11"])])
def test_assign_tiers_refits_only_when_params_say(months, refit, fitted_in):
    a = assign_tiers(months, {"method": "kmeans", "random_state": 2}, refit=refit, refit_month=1)
    tiers, models, notes = a                                   # unpacks like a tuple
    assert [m["month"] for m in models] == fitted_in and len(notes) == len(fitted_in)
    assert tiers.groupby("month").size().tolist() == [300] * 4
    assert {"month", "customer_id", "tier", "plain_tier", "r_score", "f_score", "m_score"} <= set(tiers.columns)
    # between refits the same stored model places the customers (with hysteresis against last month)
    model = CustomerTiers.from_json(models[0]["model"])
    feb = tiers[tiers["month"] == "2026-02"].set_index("customer_id")
    if refit == "never":
        jan = tiers[tiers["month"] == "2026-01"].set_index("customer_id")["tier"]
        assert (feb["tier"] == model.predict(months["2026-02"], previous=jan)).all()
    held = feb["tier"] != feb["plain_tier"]
    jan_tier = tiers[tiers["month"] == "2026-01"].set_index("customer_id")["tier"]
    assert (feb.loc[held, "tier"] == jan_tier.reindex(feb.index[held])).all()   # held back = last month's tier


def test_assign_tiers_with_a_given_model_never_fits(months, fitted):
    given = fitted[("gmm", "signed_log1p")].to_json()
    a = assign_tiers(months, {"method": "kmeans"}, refit="never", refit_month=1, model=given)
    assert [m["why"] for m in a.models] == ["given model"] and a.notes == []
    first = a.tiers[a.tiers["month"] == "2025-11"].set_index("customer_id")["tier"]
    pd.testing.assert_series_equal(first, CustomerTiers.from_json(given).predict(months["2025-11"]),
                                   check_names=False)


def test_assign_tiers_uses_value_share_in_a_month_the_clv_model_fell_back(months):
    a = assign_tiers(months, {"method": "kmeans"}, refit="yearly", refit_month=1,
                     clv_fallback={"2025-12": "too little data"})
    one_off = [m for m in a.models if m["month"] == "2025-12"]
    assert len(one_off) == 1 and one_off[0]["model"]["method_"] == "value_share"
    assert any("2025-12: tiered by the value-share rules this month only" in n for n in a.notes)
    assert [m["model"]["method_"] for m in a.models if m["month"] == "2026-01"] == ["kmeans"]


def test_assign_tiers_rejects_bad_arguments(months):
    with pytest.raises(ModelError, match="refit must be one of monthly, yearly, never; got 'weekly'"):
        assign_tiers(months, {}, refit="weekly")
    with pytest.raises(ModelError, match="refit_month must be a month number 1-12; got 13"):
        assign_tiers(months, {}, refit_month=13)
    with pytest.raises(ModelError, match="months must look like 2026-10"):
        assign_tiers({"2026/01": months["2025-11"]}, {})


def test_params_for_estimator_maps_the_tiers_section(demo_params):
    kw = params_for_estimator(demo_params["tiers"])
    m = CustomerTiers(**kw)
    assert m.random_state == demo_params["tiers"]["seed"] and m.labels == ["A", "B", "C"]
    m._check_params()


def test_definitions_are_plain_sentences():
    assert {"psi", "hysteresis_kmeans", "hysteresis_gmm", "hysteresis_value_share", "value_share",
            "value_share_defaults", "fallback", "migration", "silhouette", "profile", "rfm"} <= set(DEFINITIONS)
    filled = {k: v.format(labels="A, B, C", first="A", first_share=70, second_share=90, refit="once a year",
                          hysteresis=0.25, percent=25, sample=2000) for k, v in DEFINITIONS.items()}
    assert all(isinstance(v, str) and v.endswith(".") and "{" not in v for v in filled.values())


def test_docstring_examples_hold():
    import clvlib.tiers.estimator as e
    import clvlib.tiers.features as f
    import clvlib.tiers.migration as m

    for mod in (e, f, m):
        r = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert r.attempted > 0 and r.failed == 0, mod.__name__


# ------------------------------------------------------------------ the demo company
@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_params):
    """13 month ends of the demo valued as the history stage will, tiered by each method (defaults)."""
    from tiers_support import demo_snapshots, month_end

    customers, orders, fallbacks = demo_snapshots(tmp_path_factory.mktemp("tiers_wb"))
    feats = {m: tier_features(c, month_end(m)) for m, c in customers.items()}
    kw = params_for_estimator(demo_params["tiers"])
    runs = {method: assign_tiers(feats, {**kw, "method": method}, refit=demo_params["tiers"]["refit"],
                                 refit_month=demo_params["tiers"]["refit_month"], clv_fallback=fallbacks)
            for method in ("kmeans", "gmm", "value_share")}
    return {"features": feats, "orders": orders, "runs": runs, "months": list(feats), "end": month_end}


def _tiers_of(run, month) -> pd.Series:
    t = run.tiers[run.tiers["month"] == month]
    return t.set_index("customer_id")["tier"]


@pytest.mark.parametrize("method", ["kmeans", "gmm", "value_share"])
def test_demo_customers_keep_their_tier_month_to_month(demo, method):
    run, months = demo["runs"][method], demo["months"]
    assert len(months) == 13 and all(m["model"]["fallback_"] is None for m in run.models)
    kept = [1 - share_changed(_tiers_of(run, a), _tiers_of(run, b)) for a, b in zip(months, months[1:])]
    assert min(kept) >= 0.90, kept
    psi = [population_stability_index(_tiers_of(run, a), _tiers_of(run, b)) for a, b in zip(months, months[1:])]
    assert max(psi) < 0.1, psi


@pytest.mark.parametrize("method", ["kmeans", "gmm", "value_share"])
def test_demo_tier_a_holds_most_of_the_clv_with_a_minority_of_customers(demo, method):
    last = demo["months"][-1]
    f = demo["features"][last]
    p = tier_profile(_tiers_of(demo["runs"][method], last), f["clv"], demo["orders"], demo["end"](last),
                     labels=LABELS).set_index("tier")
    assert p.loc["A", "clv_share"] > 0.5 and p.loc["A", "customer_share"] < 0.5, p
    assert p.loc["A", "mean_clv"] > p.loc["B", "mean_clv"] > p.loc["C", "mean_clv"]
    assert p.loc["A", "margin_12m_share"] > p.loc["C", "margin_12m_share"]
    assert p["customers"].sum() == len(f) and p["clv_share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_demo_silhouette_shows_some_structure(demo, method):
    run = demo["runs"][method]
    sil = [m["model"]["silhouette_"] for m in run.models]
    assert all(0.1 < s < 1 for s in sil), sil
    last = demo["months"][-1]
    model = CustomerTiers.from_json(run.models[-1]["model"])
    assert -1 < model.silhouette(demo["features"][last], _tiers_of(run, last)) < 1


def test_demo_migration_against_twelve_months_ago(demo):
    run, months = demo["runs"]["kmeans"], demo["months"]
    then, now = _tiers_of(run, months[0]), _tiers_of(run, months[-1])
    m = migration_matrix(then, now, labels=LABELS)
    assert m.loc[LABELS].sum(axis=1).sum() == len(then)          # every customer of then is somewhere now
    assert m.loc["new"].sum() == len(now.index.difference(then.index)) > 0
    assert m["gone"].sum() == 0                                  # the history keeps every customer
    shares = migration_matrix(then, now, labels=LABELS, normalize=True)
    assert np.allclose(shares.sum(axis=1), 1.0)
