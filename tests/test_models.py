"""BG/NBD, Pareto/NBD and Gamma-Gamma: published CDNOW estimates, lifetimes' predictions, hard data."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from clvlib.errors import ClvWarning, DataError, ModelError, NotFittedError, ParamsError
from clvlib.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from clvlib.rfm import rfm_summary

DATA = Path(__file__).parent / "data"




@pytest.fixture(scope="module")
def bg(cdnow):
    return BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def pnbd(cdnow):
    return ParetoNBDModel().fit(cdnow)


@pytest.fixture(scope="module")
def gg(cdnow):
    return GammaGammaModel().fit(cdnow)


@pytest.fixture(scope="module")
def ref(lifetimes_reference):
    return lifetimes_reference


@pytest.fixture(scope="module")
def ref_params():
    p = pd.read_csv(DATA / "cdnow_lifetimes_params.csv")
    return {m: dict(zip(g["name"], g["value"])) for m, g in p.groupby("model")}


# ------------------------------------------------------------------ published estimates
def test_bgnbd_reproduces_fader_hardie_lee_2005(bg):
    # FHL (2005) Marketing Science, section 5: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    p = bg.params_
    assert p["r"] == pytest.approx(0.243, abs=1e-3)
    assert p["alpha"] == pytest.approx(4.414, abs=1e-3)
    assert p["a"] == pytest.approx(0.793, abs=1e-3)
    assert p["b"] == pytest.approx(2.426, abs=1e-3)
    assert bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert bg.converged_ and bg.fallback_ is None and bg.n_customers_ == 2357


def test_paretonbd_reproduces_published_estimates(pnbd):
    # r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0 (FHL 2005, table 1)
    p = pnbd.params_
    assert p["r"] == pytest.approx(0.553, abs=1e-3)
    assert p["alpha"] == pytest.approx(10.578, abs=1e-3)
    assert p["s"] == pytest.approx(0.606, abs=1e-3)
    assert p["beta"] == pytest.approx(11.669, abs=1e-3)
    assert pnbd.log_likelihood_ == pytest.approx(-9595.0, abs=0.1)


def test_gammagamma_reproduces_fader_hardie_lee_2005_jmr(gg):
    # FHL (2005) JMR: p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat customers' mean repeat spend
    p = gg.params_
    assert gg.n_customers_ == 946
    assert p["p"] == pytest.approx(6.25, abs=0.005)
    assert p["q"] == pytest.approx(3.74, abs=0.005)
    assert p["gamma"] == pytest.approx(15.44, abs=0.005)


def test_log_likelihood_is_the_sum_of_customer_terms(bg, pnbd, gg, cdnow):
    assert bg.log_likelihood(cdnow).sum() == pytest.approx(bg.log_likelihood_, rel=1e-12)
    assert pnbd.log_likelihood(cdnow).sum() == pytest.approx(pnbd.log_likelihood_, rel=1e-10)
    assert gg.log_likelihood(cdnow).sum() == pytest.approx(gg.log_likelihood_, rel=1e-12)


# ------------------------------------------------------------------ lifetimes 0.11.3 on the same summary
def test_parameters_match_lifetimes(bg, pnbd, gg, ref_params):
    for model, key in ((bg, "bgnbd"), (pnbd, "paretonbd"), (gg, "gammagamma")):
        for name, value in model.params_.items():
            assert value == pytest.approx(ref_params[key][name], rel=2e-6), (key, name)


@pytest.mark.parametrize("column, model, method", [
    ("bg_pred_39", "bg", "predict"), ("bg_palive", "bg", "alive"),
    ("pnbd_pred_39", "pnbd", "predict"), ("pnbd_palive", "pnbd", "alive"),
])
def test_predictions_match_lifetimes(column, model, method, request, cdnow, ref):
    m = request.getfixturevalue(model)
    got = m.predict_purchases(cdnow, 39) if method == "predict" else m.probability_alive(cdnow)
    np.testing.assert_allclose(got.to_numpy(), ref.loc[got.index, column].to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("cls, key, column, method", [
    (BetaGeoModel, "bgnbd", "bg_pred_39", "predict"), (BetaGeoModel, "bgnbd", "bg_palive", "alive"),
    (ParetoNBDModel, "paretonbd", "pnbd_pred_39", "predict"), (ParetoNBDModel, "paretonbd", "pnbd_palive", "alive"),
])
def test_formulas_equal_lifetimes_at_identical_parameters(cls, key, column, method, cdnow, ref, ref_params):
    m = cls.from_params({k: ref_params[key][k] for k in cls._param_names})
    got = m.predict_purchases(cdnow, 39) if method == "predict" else m.probability_alive(cdnow)
    np.testing.assert_allclose(got.to_numpy(), ref[column].to_numpy(), rtol=1e-9)


def test_gammagamma_expectation_matches_lifetimes(gg, cdnow, ref, ref_params):
    got = gg.conditional_expected_average_value(cdnow)
    np.testing.assert_allclose(got.to_numpy(), ref["gg_avg"].to_numpy(), rtol=1e-6)
    exact = GammaGammaModel.from_params(ref_params["gammagamma"] and {k: ref_params["gammagamma"][k]
                                                                      for k in ("p", "q", "gamma")})
    np.testing.assert_allclose(exact.conditional_expected_average_value(cdnow).to_numpy(), ref["gg_avg"].to_numpy(),
                               rtol=1e-12)
    assert got[cdnow["frequency"] == 0].eq(gg.expected_average_value()).all()


def test_bgnbd_expectation_formula_against_the_paper_form():
    """The Euler-transformed hypergeometric form equals FHL eq. (10) as printed, and its a -> 1 series."""
    r, al, a, b = 0.243, 4.414, 0.793, 2.426
    x = np.array([0, 1, 3, 10, 0, 5.0])
    T = np.array([38.0, 30.0, 20.0, 39.0, 0.0, 2.0])
    t = np.array([39.0, 10.0, 52.0, 5.0, 39.0, 104.0])
    z = t / (al + T + t)
    paper = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    np.testing.assert_allclose(BetaGeoModel._g((r, al, a, b), x, T, t), paper, rtol=1e-10)
    # near a = 1 the series branch takes over and agrees with the hypergeometric branch
    g_hyp = BetaGeoModel._g((r, al, 1 + 2e-5, b), x, T, t)
    g_series = BetaGeoModel._g((r, al, 1 + 5e-6, b), x, T, t)
    np.testing.assert_allclose(g_hyp, g_series, rtol=1e-4)
    assert np.all(np.isfinite(BetaGeoModel._g((r, al, 1.0, b), x, T, t)))


def test_unconditional_expectation(bg):
    r, al, a, b = (bg.params_[k] for k in ("r", "alpha", "a", "b"))
    t = np.array([1.0, 39.0, 78.0])
    paper = (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * hyp2f1(r, b, a + b - 1, t / (al + t)))  # eq. (9)
    np.testing.assert_allclose(bg.expected_purchases(t), paper, rtol=1e-10)
    assert bg.expected_purchases(0.0) == 0.0


# ------------------------------------------------------------------ Pareto/NBD: the analytic gradient
#: (r, alpha, s, beta): alpha < beta, alpha > beta, alpha = beta, alpha ~ beta, and rates so far apart
#: that the tail integral is split (series + quadrature), both ways round
PNBD_POINTS = [(0.55, 10.6, 0.6, 11.7), (0.55, 12.0, 0.6, 10.0), (0.55, 10.0, 0.6, 10.0),
               (0.55, 10.0, 0.6, 10.0 * (1 + 1e-9)), (0.55, 2.0, 0.6, 40.0), (0.55, 40.0, 0.6, 2.0),
               (2.0, 0.05, 0.3, 100.0), (0.3, 300.0, 1.5, 0.2), (1.0, 5.0, 1.0, 5.0)]


@pytest.fixture(scope="module")
def pnbd_data(cdnow):
    x, tx, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    return ParetoNBDModel._prepare(x, tx, T)


@pytest.mark.parametrize("theta", PNBD_POINTS)
def test_paretonbd_likelihood_is_the_hypergeometric_form(pnbd_data, theta):
    d = pnbd_data
    f, _ = ParetoNBDModel._nll_grad(np.log(theta), d, order=0)
    with_hyp2f1 = -(d["w"] @ ParetoNBDModel._loglik_rows(np.array(theta), d["x"], d["tx"], d["T"]))
    assert f == pytest.approx(with_hyp2f1, rel=1e-12)


@pytest.mark.parametrize("theta", PNBD_POINTS)
def test_paretonbd_gradient_matches_finite_differences(pnbd_data, theta):
    z, h = np.log(theta), 1e-5
    f, g = ParetoNBDModel._nll_grad(z, pnbd_data)
    fd = np.array([(ParetoNBDModel._nll_grad(z + h * e, pnbd_data, order=0)[0]
                    - ParetoNBDModel._nll_grad(z - h * e, pnbd_data, order=0)[0]) / (2 * h) for e in np.eye(4)])
    # central differences are good to about h^2 f''' + eps f / h: 1e-6 of the largest component here
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(fd).max()))


@pytest.mark.parametrize("theta", [(0.55, 10.6, 0.6, 11.7), (0.55, 12.0, 0.6, 10.0), (2.0, 0.05, 0.3, 100.0),
                                   (0.3, 300.0, 1.5, 0.2)])
def test_paretonbd_tail_gradient_per_pair(theta):
    x = np.array([0.0, 0.0, 1.0, 5.0, 20.0, 3.0, 60.0])
    t = np.array([0.0, 10.0, 3.0, 30.0, 35.0, 0.5, 38.0])
    theta = np.array(theta)
    _, g = ParetoNBDModel._log_tail(theta, x, t)

    def lG(step):
        return ParetoNBDModel._log_tail(theta * np.exp(step), x, t, 0)[0]

    h = 1e-3        # five-point central differences in the log-parameters: error O(h^4) + rounding
    fd = np.column_stack([(-lG(2 * h * e) + 8 * lG(h * e) - 8 * lG(-h * e) + lG(-2 * h * e)) / (12 * h)
                          for e in np.eye(4)])
    np.testing.assert_allclose(g * theta, fd, rtol=1e-8, atol=1e-9)


def test_paretonbd_series_is_the_hypergeometric_function():
    from clvlib.models.paretonbd import _series

    w = np.array([0.0, 0.05, 0.3, 0.6, 0.9, 0.9, 0.5])
    pm = np.array([0.55, 1.6, 3.0, 20.0, 1.6, 70.0, 0.2])
    k = pm + np.array([0.6, 10.0, 1.6, 1.6, 0.55, 1.6, 0.3])
    S, Sw, Spm, Sk = _series(w, pm, k, 1)
    np.testing.assert_allclose(S, hyp2f1(pm, 1.0, k + 1.0, w), rtol=1e-13)
    np.testing.assert_allclose(Sw, pm / (k + 1.0) * hyp2f1(pm + 1.0, 2.0, k + 2.0, w), rtol=1e-12)  # DLMF 15.5.1
    h = 1e-6
    np.testing.assert_allclose(Spm, (hyp2f1(pm + h, 1.0, k + 1.0, w) - hyp2f1(pm - h, 1.0, k + 1.0, w)) / (2 * h),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(Sk, (hyp2f1(pm, 1.0, k + 1.0 + h, w) - hyp2f1(pm, 1.0, k + 1.0 - h, w)) / (2 * h),
                               rtol=1e-6, atol=1e-9)


def test_paretonbd_finite_at_s_equal_one():
    g = ParetoNBDModel._g((0.5, 10.0, 1.0, 12.0), np.array([2.0]), np.array([30.0]), 39.0)
    g_near = ParetoNBDModel._g((0.5, 10.0, 1.0 + 1e-7, 12.0), np.array([2.0]), np.array([30.0]), 39.0)
    assert np.isfinite(g).all() and g == pytest.approx(g_near, rel=1e-6)


def test_standard_errors_are_the_inverse_observed_information(bg, cdnow):
    """SEs from the analytic Hessian agree with a finite-difference Hessian of the log-likelihood."""
    names = bg._param_names
    theta = np.array([bg.params_[k] for k in names])
    x, tx, T = (cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))

    def ll(th):
        return BetaGeoModel._loglik_rows(tuple(th), x, tx, T).sum()

    h = theta * 1e-4
    H = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            H[i, j] = (ll(theta + ei + ej) - ll(theta + ei - ej) - ll(theta - ei + ej) + ll(theta - ei - ej)) / (
                4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose([bg.standard_errors_[k] for k in names], se, rtol=1e-3)
    cov = bg.covariance_.to_numpy()
    np.testing.assert_allclose(cov, cov.T)
    assert np.all(np.linalg.eigvalsh(cov) > 0)


# ------------------------------------------------------------------ invariances and determinism
def test_time_unit_invariance(cdnow, bg):
    days = cdnow.assign(recency=cdnow["recency"] * 7, T=cdnow["T"] * 7)
    m = BetaGeoModel().fit(days)
    for k in ("r", "a", "b"):
        assert m.params_[k] == pytest.approx(bg.params_[k], rel=1e-6)
    assert m.params_["alpha"] == pytest.approx(7 * bg.params_["alpha"], rel=1e-6)
    # the likelihood is a density in time: each repeat purchase time contributes a factor 1/7
    assert m.log_likelihood_ == pytest.approx(bg.log_likelihood_ - cdnow["frequency"].sum() * np.log(7), rel=1e-9)
    np.testing.assert_allclose(m.predict_purchases(days, 7 * 39), bg.predict_purchases(cdnow, 39), rtol=1e-5)


def test_gammagamma_scale_invariance_and_huge_values(cdnow, gg):
    big = cdnow.assign(monetary_value=cdnow["monetary_value"] * 1e9)
    m = GammaGammaModel().fit(big)
    assert m.params_["p"] == pytest.approx(gg.params_["p"], rel=1e-5)
    assert m.params_["q"] == pytest.approx(gg.params_["q"], rel=1e-5)
    assert m.params_["gamma"] == pytest.approx(1e9 * gg.params_["gamma"], rel=1e-5)


def test_deterministic(cdnow):
    a, b = BetaGeoModel().fit(cdnow), BetaGeoModel().fit(cdnow)
    assert a.params_ == b.params_ and a.standard_errors_ == b.standard_errors_


def test_penalizer_shrinks(cdnow, bg):
    pen = BetaGeoModel(penalizer=0.1).fit(cdnow)
    assert pen.params_["b"] < bg.params_["b"] and pen.log_likelihood_ < bg.log_likelihood_


def test_large_data_warm_start_gives_the_same_fit(cdnow, bg):
    big = pd.concat([cdnow] * 30, ignore_index=True)  # 70,710 customers: subsample warm start path
    m = BetaGeoModel().fit(big)
    for k, v in bg.params_.items():
        assert m.params_[k] == pytest.approx(v, rel=1e-6)
    assert m.log_likelihood_ == pytest.approx(30 * bg.log_likelihood_, rel=1e-9)


# ------------------------------------------------------------------ hard data
def _summary(freq, rec, T, m=None):
    d = {"frequency": freq, "recency": rec, "T": T}
    if m is not None:
        d["monetary_value"] = m
    return pd.DataFrame(d)


def test_all_zero_frequency_is_refused_with_the_reason():
    s = _summary([0, 0, 0, 0], [0.0] * 4, [10.0, 20.0, 30.0, 5.0])
    for cls in (BetaGeoModel, ParetoNBDModel):
        with pytest.raises(ModelError, match="none of the 4 customers made a repeat purchase"):
            cls().fit(s)
    with pytest.raises(ModelError, match="at least 2 repeat customers"):
        GammaGammaModel().fit(s.assign(monetary_value=0.0))


@pytest.mark.parametrize("cls", [BetaGeoModel, ParetoNBDModel])
def test_five_customers_fit_or_fall_back_loudly(cls):
    s = _summary([0, 1, 0, 3, 2], [0.0, 5.0, 0.0, 20.0, 9.0], [30.0, 25.0, 12.0, 30.0, 28.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = cls().fit(s)
    assert all(np.isfinite(v) and v > 0 for v in m.params_.values())
    if m.fallback_ is not None:
        assert any(issubclass(w.category, ClvWarning) and "penalizer" in str(w.message) for w in caught)
    else:
        assert m.converged_
    p = m.predict_purchases(s, 10)
    assert np.all(np.isfinite(p)) and (p >= 0).all()


def test_no_fallback_raises_model_error():
    # one repeat buyer among many one-off buyers: the drop-out process is not identified
    s = _summary([0] * 8 + [1], [0.0] * 8 + [1.0], [30.0] * 9)
    with pytest.raises(ModelError, match="could not be fitted on 9 customers"):
        BetaGeoModel(fallback=False).fit(s)


def test_mostly_one_purchase_customers(cdnow):
    # keep 10% of the repeat customers: 1,411 one-purchase customers and 95 repeat customers
    rep = cdnow[cdnow["frequency"] > 0]
    s = pd.concat([cdnow[cdnow["frequency"] == 0], rep.iloc[::10]])
    m = BetaGeoModel().fit(s)
    assert m.converged_ or m.fallback_
    pa = m.probability_alive(s)
    assert ((pa > 0) & (pa <= 1)).all()


@pytest.mark.parametrize("frame, message", [
    (_summary([1, -1], [1.0, 0.0], [2.0, 2.0]), "column 'frequency' has 1 negative values (e.g. customer 1: -1.0)"),
    (_summary([1, 2], [3.0, 1.0], [2.0, 2.0]), "'recency' exceeds 'T' for 1 customers (e.g. customer 0: recency 3 > T 2)"),
    (_summary([1.5, 2], [1.0, 1.0], [2.0, 2.0]), "column 'frequency' has 1 non-integer values"),
    (_summary([1, 2], [np.nan, 1.0], [2.0, 2.0]), "column 'recency' has 1 missing or infinite values"),
    (_summary([0, 2], [1.0, 1.0], [2.0, 2.0]), "'recency' is not 0 for 1 customers with frequency 0"),
    (_summary([], [], []), "has no customers"),
    (pd.DataFrame({"frequency": [1], "T": [2.0]}), "no column(s) 'recency'"),
    (pd.DataFrame({"frequency": ["1"], "recency": [1.0], "T": [2.0]}), "column 'frequency' must be numeric"),
    ([[1, 1.0, 2.0]], "needs a per-customer summary DataFrame"),
])
def test_invalid_summaries_are_rejected(frame, message):
    expected = ParamsError if message.startswith("needs a per-customer") else DataError
    with pytest.raises(expected) as err:
        BetaGeoModel().fit(frame)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_gammagamma_needs_positive_values():
    s = _summary([1, 2, 0], [1.0, 2.0, 0.0], [3.0, 3.0, 3.0], m=[10.0, 0.0, 0.0])
    with pytest.raises(DataError, match="'monetary_value' is <= 0 for 1 repeat customers"):
        GammaGammaModel().fit(s)


# ------------------------------------------------------------------ scikit-learn habits
@pytest.mark.parametrize("cls", [BetaGeoModel, ParetoNBDModel, GammaGammaModel])
def test_not_fitted(cls, cdnow):
    m = cls()
    with pytest.raises(NotFittedError, match="call fit first"):
        m.summary_table()
    with pytest.raises(AttributeError):  # NotFittedError is also an AttributeError (hasattr-friendly)
        m.log_likelihood(cdnow)
    if cls is GammaGammaModel:
        with pytest.raises(NotFittedError, match="call fit first"):
            m.conditional_expected_average_value(cdnow)
    else:
        for call in (lambda: m.predict_purchases(cdnow, 10), lambda: m.probability_alive(cdnow),
                     lambda: m.expected_purchases(10)):
            with pytest.raises(NotFittedError, match="call fit first"):
                call()


@pytest.mark.parametrize("kwargs, message", [
    ({"penalizer": -1}, "The 'penalizer' parameter of BetaGeoModel must be a float >= 0. Got -1 instead."),
    ({"penalizer": float("nan")}, "The 'penalizer' parameter of BetaGeoModel must be a float >= 0. Got nan instead."),
    ({"max_iter": 0}, "The 'max_iter' parameter of BetaGeoModel must be an int >= 1. Got 0 instead."),
    ({"tol": 0.0}, "The 'tol' parameter of BetaGeoModel must be a float > 0. Got 0.0 instead."),
    ({"fallback": "yes"}, "The 'fallback' parameter of BetaGeoModel must be a bool. Got 'yes' instead."),
    ({"initial_params": {"r": -1}}, "The 'initial_params' parameter of BetaGeoModel must be None or a dict of "
                                    "positive floats with keys among r, alpha, a, b."),
])
def test_hyperparameters_are_validated_at_fit(kwargs, message, cdnow):
    m = BetaGeoModel(**kwargs)  # __init__ stores only
    assert m.get_params()[next(iter(kwargs))] is kwargs[next(iter(kwargs))]
    with pytest.raises(ParamsError) as err:
        m.fit(cdnow)
    assert str(err.value).startswith(message)


def test_sklearn_clone_and_params(cdnow):
    from sklearn.base import clone
    m = BetaGeoModel(penalizer=0.01, max_iter=50)
    c = clone(m)
    assert c.get_params() == m.get_params() and c is not m
    assert repr(m) == "BetaGeoModel(max_iter=50, penalizer=0.01)"
    assert m.set_params(penalizer=0.0) is m and m.penalizer == 0.0
    with pytest.raises(ValueError, match="Invalid parameter"):
        m.set_params(foo=1)


def test_initial_params_are_used(cdnow, bg):
    m = BetaGeoModel(initial_params=dict(bg.params_)).fit(cdnow)
    assert m.n_iter_ <= 2
    for k, v in bg.params_.items():
        assert m.params_[k] == pytest.approx(v, rel=1e-7)


def test_from_params_validation():
    with pytest.raises(ParamsError, match="needs positive values for exactly r, alpha, a, b"):
        BetaGeoModel.from_params({"r": 1.0, "alpha": 1.0, "a": 1.0})
