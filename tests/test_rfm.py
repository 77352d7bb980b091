"""rfm_summary: the CDNOW summary of Fader, Hardie & Lee, occasion rules, time units, bad input."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvlib.errors import DataError, ParamsError
from clvlib.rfm import rfm_summary





def test_cdnow_calibration_summary_matches_the_published_data(cdnow_log):
    s = rfm_summary(cdnow_log, "customer_id", "date", "value", calibration_end="1997-09-30", as_of="1998-06-30")
    assert len(s) == 2357
    assert s.index.is_monotonic_increasing and s.index[0] == 1
    # the Fader-Hardie CDNOW calibration data: 1,411 customers made no repeat purchase, 2,457 repeat
    # purchases in the 39 weeks; customer 1: x = 2, t_x = 30.43, T = 38.86 (rounded to 2 decimals)
    assert int((s["frequency"] == 0).sum()) == 1411
    assert int(s["frequency"].sum()) == 2457
    c1 = s.loc[1]
    assert c1["frequency"] == 2
    assert c1["recency"] == pytest.approx(213 / 7)      # continuous weeks, not whole periods
    assert c1["T"] == pytest.approx(272 / 7)
    assert c1["monetary_value"] == pytest.approx(22.345)  # mean of the two repeat occasions
    assert s["duration_holdout"].eq(39.0).all()
    assert int(s["frequency_holdout"].sum()) == 1882
    assert s.attrs["time_unit"] == "W"


def test_same_day_orders_are_one_occasion_with_summed_value():
    log = pd.DataFrame({
        "c": ["a", "a", "a", "a", "b"],
        "d": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 17:30", "2024-01-08 00:00", "2024-01-08 10:00",
                            "2024-01-03 00:00"]),
        "v": [10.0, 5.0, 7.0, 3.0, 4.0],
    })
    s = rfm_summary(log, "c", "d", "v", as_of="2024-01-15", time_unit="D")
    a = s.loc["a"]
    assert a["frequency"] == 1              # two occasions: Jan 1 (two orders) and Jan 8 (two orders)
    assert a["recency"] == 7.0 and a["T"] == 14.0
    assert a["monetary_value"] == 10.0      # repeat occasion = 7 + 3
    assert a["total_value"] == 25.0
    assert a["first_purchase"] == pd.Timestamp("2024-01-01")
    b = s.loc["b"]
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 12.0, 0.0)


def test_weeks_are_continuous_days_over_seven():
    log = pd.DataFrame({"c": [1, 1, 1], "d": pd.to_datetime(["2024-01-01", "2024-01-04", "2024-01-13"])})
    s = rfm_summary(log, "c", "d")
    assert s.loc[1, "recency"] == pytest.approx(12 / 7)
    assert s.loc[1, "T"] == pytest.approx(12 / 7)
    assert "monetary_value" not in s.columns
    assert s["frequency"].dtype == np.int64


def test_as_of_ignores_later_orders_and_drops_customers_without_orders():
    log = pd.DataFrame({"c": [1, 1, 2, 3], "d": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-10", "2024-05-01"]),
                        "v": [1.0, 2.0, 3.0, 4.0]})
    s = rfm_summary(log, "c", "d", "v", as_of="2024-02-01", time_unit="D")
    assert list(s.index) == [1, 2]
    assert s.loc[1, "frequency"] == 0 and s.loc[1, "T"] == 31
    assert s.loc[1, "total_value"] == 1.0
    # default as_of: the last order date
    assert rfm_summary(log, "c", "d", time_unit="D").loc[3, "T"] == 0


def test_calibration_split():
    log = pd.DataFrame({
        "c": [1, 1, 1, 1, 2, 2, 3],
        "d": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-10", "2024-02-12", "2024-01-20", "2024-01-20",
                             "2024-02-05"]),
        "v": [1.0, 2.0, 4.0, 8.0, 3.0, 3.0, 5.0],
    })
    s = rfm_summary(log, "c", "d", "v", calibration_end="2024-01-31", as_of="2024-02-29", time_unit="D")
    assert list(s.index) == [1, 2]  # customer 3 first bought after the calibration end
    assert s.loc[1, "frequency"] == 1 and s.loc[1, "recency"] == 4 and s.loc[1, "T"] == 30
    assert s.loc[1, "frequency_holdout"] == 2
    assert s.loc[1, "monetary_value"] == 2.0 and s.loc[1, "total_value"] == 3.0   # calibration values only
    assert s.loc[2, "frequency"] == 0 and s.loc[2, "frequency_holdout"] == 0
    assert s["duration_holdout"].eq(29).all()


@pytest.mark.parametrize("kind", ["strings", "dates", "tz", "int_sparse"])
def test_date_and_id_types(kind):
    dates = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15"])
    ids = ["x", "x", "y"]
    if kind == "strings":
        d = ["2024-01-01", "2024-01-08", "2024-01-15"]
    elif kind == "dates":
        d = [dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)]
    elif kind == "tz":
        d = dates.tz_localize("Asia/Tokyo")
    else:
        d, ids = dates, [10**12, 10**12, 5]
    s = rfm_summary(pd.DataFrame({"c": ids, "d": d}), "c", "d")
    first, second = s.index
    assert s.loc[ids[0], "frequency"] == 1 and s.loc[ids[0], "recency"] == pytest.approx(1.0)
    assert s.loc[ids[2], "T"] == 0
    assert list(s.index) == sorted(s.index)


@pytest.mark.parametrize("frame, kwargs, message", [
    (pd.DataFrame({"c": [1], "d": pd.to_datetime(["2024-01-01"])}), {"value_col": "v"}, "no column(s) 'v'"),
    (pd.DataFrame({"c": [], "d": pd.to_datetime([])}), {}, "empty"),
    (pd.DataFrame({"c": [1, None], "d": pd.to_datetime(["2024-01-01", "2024-01-02"])}), {}, "1 missing customer ids"),
    (pd.DataFrame({"c": [1, 2], "d": pd.to_datetime(["2024-01-01", None])}), {}, "column 'd': 1 missing dates"),
    (pd.DataFrame({"c": [1, 2], "d": ["2024-01-01", "not a date"]}), {}, "column 'd': values are not dates"),
    (pd.DataFrame({"c": [1, 2, 3], "d": pd.to_datetime(["2024-01-01"] * 3), "v": [1.0, -2.0, -1.0]}),
     {"value_col": "v"}, "column 'v': 2 negative values (e.g. row 1: -2)"),
    (pd.DataFrame({"c": [1, 2], "d": pd.to_datetime(["2024-01-01"] * 2), "v": [1.0, np.nan]}),
     {"value_col": "v"}, "column 'v': 1 missing or infinite values"),
    (pd.DataFrame({"c": [1, 2], "d": pd.to_datetime(["2024-01-01"] * 2), "v": ["a", "b"]}),
     {"value_col": "v"}, "column 'v': values must be numbers"),
    (pd.DataFrame({"c": [1], "d": pd.to_datetime(["2024-01-01"])}), {"time_unit": "M"}, "time_unit must be one of"),
    (pd.DataFrame({"c": [1, 1], "d": pd.to_datetime(["2024-01-01", "2024-02-01"])}),
     {"calibration_end": "2024-03-01"}, "must be before as_of"),
    (pd.DataFrame({"c": [1, 1], "d": pd.to_datetime(["2024-01-01", "2024-02-01"])}),
     {"calibration_end": "2023-03-01"}, "before the first order"),
    (pd.DataFrame({"c": [1], "d": pd.to_datetime(["2024-01-01"])}), {"as_of": "2023-01-01"}, "no orders on or before"),
])
def test_invalid_input_is_rejected_in_one_line(frame, kwargs, message):
    # a bad argument is a ParamsError, unusable data a DataError (clvlib.errors)
    expected = ParamsError if message in ("time_unit must be one of", "must be before as_of") else DataError
    with pytest.raises(expected) as err:
        rfm_summary(frame, "c", "d", **kwargs)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def _naive_summary(log, as_of):
    """Straightforward pandas version of the definitions (the oracle for the property test)."""
    occ = log[log.d <= as_of].groupby(["c", "d"], as_index=False)["v"].sum().sort_values(["c", "d"])
    rows = {}
    for c, g in occ.groupby("c"):
        days = g["d"].to_numpy()
        vals = g["v"].to_numpy()
        x = len(days) - 1
        rows[c] = {"frequency": x, "recency": (days[-1] - days[0]) / np.timedelta64(1, "D") / 7,
                   "T": (np.datetime64(as_of) - days[0]) / np.timedelta64(1, "D") / 7,
                   "monetary_value": vals[1:].mean() if x else 0.0, "total_value": vals.sum()}
    return pd.DataFrame.from_dict(rows, orient="index")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 60), st.integers(0, 1000)), min_size=1, max_size=40),
       st.integers(0, 70))
def test_matches_a_naive_implementation(rows, as_of_day):
    base = np.datetime64("2024-01-01")
    log = pd.DataFrame({"c": [r[0] for r in rows], "d": [base + np.timedelta64(r[1], "D") for r in rows],
                        "v": [r[2] / 10 for r in rows]})
    as_of = base + np.timedelta64(as_of_day, "D")
    if (log.d > as_of).all():
        with pytest.raises(DataError):
            rfm_summary(log, "c", "d", "v", as_of=as_of)
        return
    got = rfm_summary(log, "c", "d", "v", as_of=as_of)
    want = _naive_summary(log, as_of)
    assert list(got.index) == list(want.index)
    for col in ["frequency", "recency", "T", "monetary_value", "total_value"]:
        np.testing.assert_allclose(got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float), rtol=1e-12,
                                   atol=1e-9, err_msg=col)
