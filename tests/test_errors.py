"""The error taxonomy (clvlib.errors): one kind of problem raises one type everywhere; errors about bad
values are ValueErrors too, as scikit-learn's are."""
from __future__ import annotations

import pandas as pd
import pytest

from clvlib.errors import ClvError, DataError, ModelError, NotFittedError, ParamsError, RunError
from clvlib.holdout import holdout_validation
from clvlib.models import BetaGeoModel, GammaGammaModel
from clvlib.rfm import rfm_summary
from clvlib.value import clv_interval, customer_lifetime_value, simple_clv


def test_errors_about_values_are_value_errors():
    for cls in (ParamsError, DataError, ModelError, NotFittedError):
        assert issubclass(cls, ClvError) and issubclass(cls, ValueError), cls
    assert issubclass(NotFittedError, AttributeError) and issubclass(NotFittedError, ModelError)
    assert not issubclass(RunError, ValueError)
    with pytest.raises(ValueError):
        BetaGeoModel(penalizer=-1).fit(pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]}))
    assert not hasattr(BetaGeoModel(), "params_")                  # hasattr still works (AttributeError)


@pytest.fixture(scope="module")
def fitted(cdnow):
    return BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)


def test_a_bad_time_unit_is_a_params_error_everywhere(cdnow_log, cdnow, fitted):
    bg, gg = fitted
    calls = [
        lambda: rfm_summary(cdnow_log, "customer_id", "date", time_unit="M"),
        lambda: customer_lifetime_value(bg, gg, cdnow, time_unit="M"),
        lambda: clv_interval(bg, gg, cdnow, time_unit="M"),
        lambda: simple_clv(cdnow, time_unit="M"),
        lambda: holdout_validation(cdnow_log, "customer_id", "date", holdout_weeks=39, time_unit="M"),
    ]
    for call in calls:
        with pytest.raises(ParamsError, match="time_unit must be one of"):
            call()


def test_bad_arguments_are_params_errors(cdnow_log, cdnow, fitted):
    bg, gg = fitted
    calls = [
        (lambda: BetaGeoModel(max_iter=0).fit(cdnow), "The 'max_iter' parameter"),
        (lambda: BetaGeoModel().set_params(foo=1), "Invalid parameter 'foo'"),
        (lambda: BetaGeoModel.from_params({"r": 1.0}), "needs positive values"),
        (lambda: bg.predict_purchases(cdnow, -1), "t must be a finite number >= 0"),
        (lambda: customer_lifetime_value(bg, gg, cdnow, horizon_months=0), "horizon_months"),
        (lambda: clv_interval(bg, gg, cdnow, level=2.0), "level must be"),
        (lambda: holdout_validation(cdnow_log, "customer_id", "date"), "give exactly one of"),
        (lambda: rfm_summary(cdnow_log, "customer_id", "date", as_of="not a date"), "as_of must be a date"),
        (lambda: rfm_summary([1, 2], "c", "d"), "must be a pandas DataFrame"),
        (lambda: BetaGeoModel().fit([1, 2]), "needs a per-customer summary DataFrame"),
    ]
    for call, message in calls:
        with pytest.raises(ParamsError, match=message):
            call()


def test_unusable_tables_are_data_errors(cdnow_log, cdnow):
    calls = [
        (lambda: rfm_summary(cdnow_log.drop(columns="date"), "customer_id", "date"), "no column"),
        (lambda: BetaGeoModel().fit(cdnow.drop(columns="recency")), "no column"),
        (lambda: simple_clv(cdnow.drop(columns="total_value")), "no column"),
        (lambda: BetaGeoModel().fit(cdnow.assign(frequency=-1)), "negative values"),
        (lambda: rfm_summary(cdnow_log, "customer_id", "date", as_of="1990-01-01"), "no orders on or before"),
    ]
    for call, message in calls:
        with pytest.raises(DataError, match=message):
            call()


def test_a_model_that_cannot_be_fitted_is_a_model_error():
    one_timers = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [3.0, 4.0]})
    with pytest.raises(ModelError, match="none of the 2 customers made a repeat purchase"):
        BetaGeoModel(fallback=False).fit(one_timers)
