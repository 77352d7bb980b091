"""customer_lifetime_value, clv_interval and simple_clv."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from clvlib.errors import ClvError, DataError, ModelError, ParamsError
from clvlib.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from clvlib.rfm import rfm_summary
from clvlib.value import DAYS_PER_MONTH, clv_interval, customer_lifetime_value, simple_clv



@pytest.fixture(scope="module")
def models(cdnow):
    return BetaGeoModel().fit(cdnow), ParetoNBDModel().fit(cdnow), GammaGammaModel().fit(cdnow)


@pytest.fixture(scope="module")
def ref(lifetimes_reference):
    return lifetimes_reference


def test_clv_matches_lifetimes(cdnow, models, ref):
    bg, _, gg = models
    # lifetimes' freq="W" month is 4.345 weeks = 30.415 days
    clv = customer_lifetime_value(bg, gg, cdnow, horizon_months=12, monthly_discount_rate=0.01, time_unit="W",
                                  days_per_month=4.345 * 7)
    assert clv.name == "clv" and clv.index.equals(cdnow.index)
    np.testing.assert_allclose(clv.to_numpy(), ref.loc[clv.index, "bg_clv_12"].to_numpy(), rtol=1e-6)


def test_clv_definition(cdnow, models):
    """CLV = sum over months of discounted (E[Y(t_m)] - E[Y(t_m-1)]) * E[value], month = 30.4375 days."""
    bg, _, gg = models
    month = DAYS_PER_MONTH / 7
    value = gg.conditional_expected_average_value(cdnow)
    want = sum((bg.predict_purchases(cdnow, m * month) - bg.predict_purchases(cdnow, (m - 1) * month)) * value
               / 1.02 ** m for m in range(1, 7))
    got = customer_lifetime_value(bg, gg, cdnow, horizon_months=6, monthly_discount_rate=0.02)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-10)
    # no discount: expected purchases over the whole horizon times the expected value
    flat = customer_lifetime_value(bg, gg, cdnow, horizon_months=12, monthly_discount_rate=0.0)
    np.testing.assert_allclose(flat.to_numpy(), (bg.predict_purchases(cdnow, 12 * month) * value).to_numpy(),
                               rtol=1e-10)


def test_clv_in_days_equals_clv_in_weeks(cdnow, models):
    bg, _, gg = models
    days = cdnow.assign(recency=cdnow["recency"] * 7, T=cdnow["T"] * 7)
    days.attrs["time_unit"] = "D"
    bg_days = BetaGeoModel.from_params({**bg.params_, "alpha": bg.params_["alpha"] * 7})
    np.testing.assert_allclose(customer_lifetime_value(bg_days, gg, days, time_unit="D").to_numpy(),
                               customer_lifetime_value(bg, gg, cdnow, time_unit="W").to_numpy(), rtol=1e-9)


def test_clv_with_paretonbd(cdnow, models):
    _, pn, gg = models
    clv = customer_lifetime_value(pn, gg, cdnow)
    assert np.all(np.isfinite(clv)) and (clv > 0).all()
    month = DAYS_PER_MONTH / 7
    flat = customer_lifetime_value(pn, gg, cdnow, horizon_months=3, monthly_discount_rate=0.0)
    want = pn.predict_purchases(cdnow, 3 * month) * gg.conditional_expected_average_value(cdnow)
    np.testing.assert_allclose(flat.to_numpy(), want.to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("kwargs, message", [
    ({"horizon_months": 0}, "horizon_months must be an int >= 1"),
    ({"monthly_discount_rate": -0.1}, "monthly_discount_rate must be a float >= 0"),
    ({"time_unit": "D"}, "the summary is in time unit 'W' but time_unit='D'"),
    ({"days_per_month": 0}, "days_per_month must be a float > 0"),
])
def test_clv_argument_checks(cdnow, models, kwargs, message):
    bg, _, gg = models
    with pytest.raises(ParamsError, match=message):
        customer_lifetime_value(bg, gg, cdnow, **kwargs)


def test_time_unit_comes_from_the_summary(cdnow_log, cdnow, models):
    """A daily summary from rfm_summary is valued without repeating time_unit="D"; a unit given that
    contradicts the summary's still raises."""
    bg, _, gg = models
    daily = rfm_summary(cdnow_log, "customer_id", "date", "value", calibration_end="1997-09-30",
                        as_of="1998-06-30", time_unit="D")
    assert daily.attrs["time_unit"] == "D"
    bg_days = BetaGeoModel.from_params({**bg.params_, "alpha": bg.params_["alpha"] * 7},
                                       covariance=bg.covariance_.to_numpy())
    weekly = customer_lifetime_value(bg, gg, cdnow)
    np.testing.assert_allclose(customer_lifetime_value(bg_days, gg, daily).to_numpy(), weekly.to_numpy(), rtol=1e-9)
    ci = clv_interval(bg_days, gg, daily, n_draws=20)
    np.testing.assert_allclose(ci.customers["clv"].to_numpy(), weekly.to_numpy(), rtol=1e-9)
    with pytest.raises(ClvError, match="the summary is in time unit 'D' but time_unit='W'"):
        customer_lifetime_value(bg_days, gg, daily, time_unit="W")
    with pytest.raises(ClvError, match="the summary is in time unit 'D' but time_unit='W'"):
        clv_interval(bg_days, gg, daily, time_unit="W", n_draws=20)
    # a summary without the attribute is in weeks unless told otherwise
    bare = daily.copy()
    bare.attrs = {}
    np.testing.assert_allclose(customer_lifetime_value(bg_days, gg, bare, time_unit="D").to_numpy(),
                               weekly.to_numpy(), rtol=1e-9)
    assert not np.allclose(customer_lifetime_value(bg_days, gg, bare).to_numpy(), weekly.to_numpy())


def test_clv_needs_fitted_models(cdnow, models):
    bg, _, gg = models
    with pytest.raises(ParamsError, match="spend_model must be a fitted GammaGammaModel"):
        customer_lifetime_value(bg, bg, cdnow)
    with pytest.raises(ModelError, match="call fit first"):
        customer_lifetime_value(BetaGeoModel(), gg, cdnow)


# ------------------------------------------------------------------ intervals
@pytest.fixture(scope="module")
def interval(cdnow, models):
    bg, _, gg = models
    groups = pd.Series(np.where(cdnow.index % 3 == 0, "rep A", "rep B"), index=cdnow.index)
    return clv_interval(bg, gg, cdnow, level=0.9, n_draws=200, random_state=7, groups=groups)


def test_interval_contains_the_point_estimate_and_is_deterministic(cdnow, models, interval):
    c = interval.customers
    assert c.index.equals(cdnow.index)
    bg, _, gg = models
    np.testing.assert_allclose(c["clv"], customer_lifetime_value(bg, gg, cdnow), rtol=1e-12)
    assert (c["clv_low"] <= c["clv_high"]).all()
    inside = (c["clv_low"] <= c["clv"]) & (c["clv"] <= c["clv_high"])
    assert inside.mean() > 0.99
    again = clv_interval(bg, gg, cdnow, level=0.9, n_draws=200, random_state=7,
                         groups=pd.Series(np.where(cdnow.index % 3 == 0, "rep A", "rep B"), index=cdnow.index))
    pd.testing.assert_frame_equal(again.customers, c)
    other = clv_interval(bg, gg, cdnow, n_draws=200, random_state=8)
    assert not other.customers["clv_low"].equals(c["clv_low"])


def test_group_totals(cdnow, interval):
    g = interval.groups
    assert list(g.index) == ["rep A", "rep B"]
    assert g["n_customers"].sum() == len(cdnow)
    c = interval.customers
    in_a = cdnow.index % 3 == 0
    assert g.loc["rep A", "clv"] == pytest.approx(c.loc[in_a, "clv"].sum())
    assert g.loc["rep A", "clv_low"] < g.loc["rep A", "clv"] < g.loc["rep A", "clv_high"]
    # the total's interval is narrower than the sum of the customers' interval ends (which would
    # pretend all customers sit at their 5% / 95% quantiles at once under different parameters)
    assert g.loc["rep A", "clv_low"] >= c.loc[in_a, "clv_low"].sum() - 1e-6
    assert g.loc["rep A", "clv_high"] <= c.loc[in_a, "clv_high"].sum() + 1e-6


def test_total_interval_is_the_quantile_of_the_summed_draws(cdnow, models):
    """The company total's interval is the quantile of the draw-by-draw total over every customer --
    rebuilt here by hand from the parameter draws -- not the sum of the books' interval ends."""
    bg, _, gg = models
    s = cdnow.iloc[:400]
    # two books unlike each other (one-off buyers, repeat buyers): they move differently with the parameters
    books_of = pd.Series(np.where(s["frequency"] == 0, "one-off", "repeat"), index=s.index)
    res = clv_interval(bg, gg, s, level=0.9, n_draws=100, random_state=11, groups=books_of, max_states=10**6)
    assert res.grid == 0
    totals = []
    for _, row in res.parameter_draws.iterrows():
        bg_d = BetaGeoModel.from_params({k: row[f"BetaGeoModel.{k}"] for k in ("r", "alpha", "a", "b")})
        gg_d = GammaGammaModel.from_params({k: row[f"GammaGammaModel.{k}"] for k in ("p", "q", "gamma")})
        totals.append(customer_lifetime_value(bg_d, gg_d, s).sum())
    low, median, high = np.quantile(totals, [0.05, 0.5, 0.95])
    t = res.total
    assert t["n_customers"] == 400
    assert t["clv"] == pytest.approx(res.customers["clv"].sum(), rel=1e-12)
    assert t["clv_low"] == pytest.approx(low, rel=1e-9)
    assert t["clv_median"] == pytest.approx(median, rel=1e-9)
    assert t["clv_high"] == pytest.approx(high, rel=1e-9)
    # every customer is in a book, yet the sum of the books' ends is wider than the total's interval:
    # the books do not sit at their 5% (95%) quantiles in the same draws
    books = res.groups
    assert t["clv"] == pytest.approx(books["clv"].sum())
    assert books["clv_low"].sum() < t["clv_low"] - 50 < t["clv"] < t["clv_high"] + 50 < books["clv_high"].sum()
    # customers in no book are in the total, not in the books
    part = clv_interval(bg, gg, s, n_draws=100, random_state=11, groups=books_of[books_of == "repeat"])
    assert part.total == pytest.approx(res.total)
    assert part.groups["clv_high"].sum() < part.total["clv_low"]


def test_interval_width_follows_the_parameter_covariance(cdnow, models):
    bg, _, gg = models
    narrow_bg = BetaGeoModel.from_params(bg.params_, covariance=bg.covariance_.to_numpy() / 4)
    narrow_gg = GammaGammaModel.from_params(gg.params_, covariance=gg.covariance_.to_numpy() / 4)
    wide = clv_interval(bg, gg, cdnow, random_state=1).customers
    narrow = clv_interval(narrow_bg, narrow_gg, cdnow, random_state=1).customers
    ratio = (narrow.clv_high - narrow.clv_low) / (wide.clv_high - wide.clv_low)
    assert 0.4 < ratio.median() < 0.6   # sd halves -> the interval roughly halves


def test_interval_level(cdnow, models):
    bg, _, gg = models
    a = clv_interval(bg, gg, cdnow, level=0.5, random_state=3).customers
    b = clv_interval(bg, gg, cdnow, level=0.95, random_state=3).customers
    assert ((b.clv_high - b.clv_low) >= (a.clv_high - a.clv_low)).all()


def test_coarse_states_agree_with_the_exact_draws(cdnow, models):
    bg, pn, gg = models
    for pm, states in ((bg, 60), (pn, 400)):
        exact = clv_interval(pm, gg, cdnow, random_state=5, n_draws=100)
        coarse = clv_interval(pm, gg, cdnow, random_state=5, n_draws=100, max_states=states)
        assert exact.grid == 0 and coarse.grid > 0
        for col in ("clv_low", "clv_high"):
            rel = (coarse.customers[col] - exact.customers[col]).abs() / exact.customers["clv"]
            assert rel.max() < 0.01, (type(pm).__name__, col, rel.max())


def test_interval_with_shared_customers(cdnow, models):
    bg, _, gg = models
    ids = cdnow.index[:4]
    book = pd.DataFrame({"customer": [ids[0], ids[1], ids[1], ids[2], 999999],
                         "group": ["a", "a", "b", "b", "b"], "share": [1.0, 0.5, 0.5, 1.0, 1.0]})
    res = clv_interval(bg, gg, cdnow, groups=book, n_draws=50)
    c = res.customers["clv"]
    assert res.groups.loc["a", "clv"] == pytest.approx(c[ids[0]] + 0.5 * c[ids[1]])
    assert res.groups.loc["b", "n_customers"] == 2   # the unknown customer is left out


@pytest.mark.parametrize("kwargs, message", [
    ({"level": 1.0}, "level must be a float in \\(0, 1\\)"),
    ({"n_draws": 1}, "n_draws must be an int >= 2"),
    ({"groups": [1, 2]}, "groups must be a Series"),
])
def test_interval_argument_checks(cdnow, models, kwargs, message):
    bg, _, gg = models
    with pytest.raises(ParamsError, match=message):
        clv_interval(bg, gg, cdnow, **kwargs)


def test_interval_needs_a_covariance(cdnow, models):
    _, _, gg = models
    bare = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    with pytest.raises(ModelError, match="has no parameter covariance"):
        clv_interval(bare, gg, cdnow)


# ------------------------------------------------------------------ simple formula
def test_simple_clv_formula():
    s = pd.DataFrame({"frequency": [3, 0, 1], "recency": [40.0, 0.0, 10.0], "T": [104.0, 10.0, 80.0],
                      "total_value": [400.0, 50.0, 60.0]}, index=["a", "b", "c"])
    out = simple_clv(s, lifespan_years=3.0, margin=pd.Series({"a": 0.5, "b": 1.0, "c": 0.2}))
    years_a = 104 * 7 / 365.25
    assert out.loc["a", "aov"] == 100.0
    assert out.loc["a", "purchases_per_year"] == pytest.approx(4 / years_a)
    assert out.loc["a", "simple_clv"] == pytest.approx(100 * 4 / years_a * 3 * 0.5)
    # customers younger than min_tenure_years count as observed for a full year
    assert out.loc["b", "purchases_per_year"] == 1.0


def test_simple_clv_estimates_the_lifespan_from_churn():
    # three customers at least a year old; one silent for more than a year -> churn 1/3, lifespan 3 years
    s = pd.DataFrame({"frequency": [5, 2, 0, 1], "recency": [100.0, 90.0, 0.0, 2.0], "T": [104.0, 100.0, 60.0, 20.0],
                      "total_value": [600.0, 300.0, 100.0, 40.0]})
    out = simple_clv(s)
    assert out.attrs["churn_rate"] == pytest.approx(1 / 3)
    assert out["lifespan_years"].eq(3.0).all()
    capped = simple_clv(s, horizon_years=1.0)
    assert capped["lifespan_years"].eq(1.0).all()
    with pytest.raises(ModelError, match="no customer is 1 years old"):
        simple_clv(s.assign(T=[30.0, 30.0, 30.0, 20.0], recency=[20.0, 10.0, 0.0, 2.0]))
    with pytest.raises(DataError, match="no column\\(s\\) 'total_value'"):
        simple_clv(s.drop(columns="total_value"))
