"""holdout_validation on CDNOW: totals, by calibration frequency, weekly tracking, metrics."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from clvlib.errors import ParamsError
from clvlib.holdout import holdout_validation
from clvlib.models import BetaGeoModel, ParetoNBDModel



@pytest.fixture(scope="module")
def res(cdnow_log):
    return holdout_validation(cdnow_log, "customer_id", "date", "value", calibration_end="1997-09-30")


@pytest.fixture(scope="module")
def ref(lifetimes_reference):
    return lifetimes_reference


def test_cdnow_holdout_totals(res, ref):
    assert res.as_of == pd.Timestamp("1998-06-30") and res.calibration_end == pd.Timestamp("1997-09-30")
    t = res.totals.iloc[0]
    assert t["customers"] == 2357 and t["actual"] == 1882
    # the 39-week forecast equals lifetimes' conditional expectation summed over customers
    assert t["predicted"] == pytest.approx(ref["bg_pred_39"].sum(), rel=1e-6)
    assert t["bias"] == pytest.approx((t["predicted"] - 1882) / 1882)
    assert res.model.params_["r"] == pytest.approx(0.243, abs=1e-3)


def test_by_calibration_frequency(res, ref):
    b = res.by_frequency
    assert list(b.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert b["customers"].sum() == 2357 and b.loc["0", "customers"] == 1411
    assert b["actual_total"].sum() == 1882
    bucket = np.minimum(ref["frequency"], 7)
    want = ref.groupby(bucket)["bg_pred_39"].mean().to_numpy()
    np.testing.assert_allclose(b["predicted_mean"].to_numpy(), want, rtol=1e-6)
    # conditional expectations rise with past purchases (FHL 2005, figure 4)
    assert np.all(np.diff(b["predicted_mean"].to_numpy()) > 0)


def test_weekly_tracking(res, cdnow_log):
    tr = res.tracking
    assert len(tr) == 78 and (tr["period"] == "calibration").sum() == 39
    assert tr["week_end"].iloc[38] == pd.Timestamp("1997-09-30")
    cal = res.summary
    # actual cumulative repeat purchases: 2,457 by week 39, plus the 1,882 of the holdout by week 78
    assert tr["actual_cumulative"].iloc[38] == cal["frequency"].sum() == 2457
    assert tr["actual_cumulative"].iloc[-1] == 2457 + 1882
    # predicted cumulative at the calibration end = sum of each customer's unconditional E[X(T_i)]
    assert tr["predicted_cumulative"].iloc[38] == pytest.approx(res.model.expected_purchases(cal["T"].to_numpy()).sum())
    np.testing.assert_allclose(tr["predicted"].cumsum(), tr["predicted_cumulative"])
    m = res.metrics
    assert 0 < m["tracking_mape"] < 0.1 and m["mae"] > 0 and m["rmse"] >= m["mae"] and 0 < m["correlation"] < 1


def test_holdout_weeks_and_model_choices(cdnow_log, res):
    by_weeks = holdout_validation(cdnow_log, "customer_id", "date", holdout_weeks=39)
    assert by_weeks.calibration_end == res.calibration_end
    assert by_weeks.totals["predicted"].iloc[0] == pytest.approx(res.totals["predicted"].iloc[0])
    pn = holdout_validation(cdnow_log, "customer_id", "date", holdout_weeks=39, model="paretonbd")
    assert isinstance(pn.model, ParetoNBDModel)
    given = BetaGeoModel(penalizer=0.01)
    own = holdout_validation(cdnow_log, "customer_id", "date", holdout_weeks=39, model=given)
    assert own.model is not given and own.model.penalizer == 0.01 and not hasattr(given, "params_")


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give exactly one of calibration_end and holdout_weeks"),
    ({"holdout_weeks": 39, "calibration_end": "1997-09-30"}, "give exactly one"),
    ({"holdout_weeks": -1}, "holdout_weeks must be a number > 0"),
    ({"holdout_weeks": 39, "model": "nbd"}, "model must be one of"),
    ({"holdout_weeks": 39, "max_frequency": 0}, "max_frequency must be an int >= 1"),
])
def test_argument_checks(cdnow_log, kwargs, message):
    with pytest.raises(ParamsError, match=message):
        holdout_validation(cdnow_log, "customer_id", "date", **kwargs)
