"""History in one pass: month ends as known then, the period's month equal to the report's CLV."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib import history as h


@pytest.fixture(scope="module")
def wb(staged):
    return staged


@pytest.fixture(scope="module")
def hist(wb):
    return wb.stage("history")


def test_month_window_and_ends():
    assert h.month_window("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert h.month_end("2024-02") == pd.Timestamp("2024-02-29")
    assert h.month_end("2026-10", as_of="2026-10-15") == pd.Timestamp("2026-10-15")
    assert h.month_end("2026-09", as_of="2026-10-15") == pd.Timestamp("2026-09-30")


def test_known_on_cuts_orders_and_later_payments():
    o = pd.DataFrame({"order_id": ["a", "b", "c"], "order_date": pd.to_datetime(["2026-01-10", "2026-01-20", "2026-02-02"]),
                      "paid_date": pd.to_datetime(["2026-01-15", "2026-02-10", None])})
    k = h.known_on(o, "2026-01-31")
    assert list(k["order_id"]) == ["a", "b"]
    assert k["paid_date"].isna().tolist() == [False, True]        # b was paid only after the month end


def test_long_round_trip():
    wide = pd.DataFrame({"month": ["2026-01", "2026-01", "2026-02"], "customer_id": ["C1", "C2", "C1"],
                         "clv": [1.5, -2.0, np.nan], "first_purchase": pd.to_datetime(["2025-03-01", "2025-05-02", "2025-03-01"])})
    long = h.to_long(wide, "customer", "customer_id", ["clv", "first_purchase"])
    assert list(long.columns) == ["month", "level", "id", "measure", "value"]
    assert set(long["level"]) == {"customer"} and len(long) == 6
    back = h.from_long(long, "customer_id", dates=["first_purchase"])
    pd.testing.assert_frame_equal(back[wide.columns], wide, check_dtype=False)


def test_history_covers_the_window_and_ends_with_the_report(wb, hist):
    n = wb.params["history"]["months"]
    assert hist.months == h.month_window("2026-10", n)
    assert sorted(hist.customers["month"].unique()) == hist.months
    last = hist.month("2026-10").set_index("customer_id")
    cv = wb.stage("customer_value").table.set_index("customer_id")
    np.testing.assert_allclose(last["clv"].reindex(cv.index), cv["clv"], rtol=1e-12)
    assert (hist.owners.groupby(["month", "customer_id"])["share"].sum().round(9) == 1).all()


def test_each_month_is_valued_on_what_was_known_then(wb, hist):
    """A year ago: only customers who had bought by then, valued by models fitted on data up to then."""
    from clvlib import customer_value as cv

    m = hist.months[-13]
    end = h.month_end(m)
    snap = hist.month(m).set_index("customer_id")
    assert snap["first_purchase"].max() <= end
    o = h.known_on(wb.orders(), end)
    own = wb.table("ownership")
    again = cv.build(o, own[own["valid_from"] <= end], end, wb.params["clv"], holdout=False)   # with intervals
    np.testing.assert_allclose(snap["clv"].reindex(again.table["customer_id"]), again.table["clv"], rtol=1e-9)
    assert set(hist.models["month"]) == set(hist.months)


def test_history_is_stored_long_and_reloads(wb, hist):
    long = pd.read_parquet(wb.data_dir / "history_customer.parquet")
    assert list(long.columns) == ["month", "level", "id", "measure", "value"]
    back = h.load(wb.data_dir)
    cols = ["month", "customer_id", "clv", "p_alive", "first_purchase"]
    a = hist.customers[cols].sort_values(["month", "customer_id"]).reset_index(drop=True)
    b = back.customers[cols].sort_values(["month", "customer_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_the_refits_on_integer_ids_equal_those_on_the_text(wb, hist):
    """The history refits on ``Coded`` orders (integer ids): the same table and books, to the last bit."""
    from clvlib import customer_value as cv
    from clvlib.attribution import current_owners

    orders, own = wb.orders(), wb.table("ownership")
    c = h.Coded.of(orders, own)
    end = h.month_end(hist.months[-7])
    kw = dict(holdout=False, intervals=False, lookback=False)
    text = cv.build(h.known_on(orders, end), own[own["valid_from"] <= end], end, wb.params["clv"], **kw)
    coded = cv.build(h.known_on(c.orders, end), c.ownership[c.ownership["valid_from"] <= end], end,
                     wb.params["clv"], **kw)
    cols = ["customer_id", *[m for m in h.MEASURES if m != "expected_remaining_months"], *h.DATES]
    pd.testing.assert_frame_equal(c.customer_ids(coded.table)[cols], text.table[cols], check_exact=True)
    pd.testing.assert_frame_equal(c.owners(end, h.known_on(c.orders, end)),
                                  current_owners(own[own["valid_from"] <= end], end, h.known_on(orders, end)))


def test_coded_ids_keep_their_order_and_missing_reps():
    """Codes follow the ids' sorted order (ties go to the lowest id, as on the text); a missing rep stays
    missing, so a lapsed account goes to the last rep who booked an order, not to 'no rep'."""
    from clvlib.attribution import current_owners

    orders = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "customer_id": pd.array(["C2", "C1", "C1"], dtype="string"),
                           "rep_id": pd.array(["R9", "R2", None], dtype="string"),
                           "order_date": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-07"]),
                           "paid_date": pd.NaT, "doc_type": "invoice", "original_order_id": [None, None, "o9"],
                           "amount_rc": 1.0, "gross_margin_rc": 1.0})
    own = pd.DataFrame({"customer_id": pd.array(["C2", "C2"], dtype="string"),
                        "rep_id": pd.array(["R10", "R1"], dtype="string"), "share": [0.5, 0.5],
                        "valid_from": pd.to_datetime(["2025-01-01"] * 2), "valid_to": pd.NaT})
    c = h.Coded.of(orders, own)
    assert list(c.customers) == ["C1", "C2"] and list(c.reps) == ["R1", "R10", "R2", "R9"]
    assert c.orders["rep_id"].isna().tolist() == [False, False, True]
    orig = c.orders["original_order_id"]
    assert (orig.iloc[:2] == -1).all() and orig.iloc[2] not in set(c.orders["order_id"])   # o9 is not in the log
    got = c.owners(pd.Timestamp("2026-01-31"), c.orders)
    want = current_owners(own, pd.Timestamp("2026-01-31"), orders)
    pd.testing.assert_frame_equal(got, want)
    assert got.set_index("customer_id").loc["C1", "rep_id"] == "R2"


def test_the_long_file_reads_back_by_blocks_or_by_pivot_alike(tmp_path):
    """to_long's layout is read back by reshaping; any other row order by the general pivot: the same
    wide table either way, sorted by month and id, whether the text columns are text or categoricals."""
    rng = np.random.default_rng(5)
    wide = pd.DataFrame({"month": np.repeat(["2026-02", "2026-01"], 4), "customer_id": ["C9", "C10", "C2", "C1"] * 2,
                         "clv": rng.normal(size=8), "p_alive": rng.random(8),
                         "first_purchase": pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 300, 8), "D")})
    long = h.to_long(wide, "customer", "customer_id", ["p_alive", "clv", "first_purchase"])
    long.to_parquet(tmp_path / "long.parquet", index=False)
    as_cats = pd.read_parquet(tmp_path / "long.parquet", read_dictionary=h.TEXT)
    assert isinstance(as_cats["id"].dtype, pd.CategoricalDtype)
    shuffled = long.sample(frac=1.0, random_state=1)
    want = wide.sort_values(["month", "customer_id"]).reset_index(drop=True)[["month", "customer_id", "clv",
                                                                               "first_purchase", "p_alive"]]
    assert h._from_blocks(long, "customer_id") is not None and h._from_blocks(shuffled, "customer_id") is None
    for rows in (long, as_cats, shuffled, shuffled.astype({"id": "category", "month": "category"})):
        got = h.from_long(rows, "customer_id", dates=["first_purchase"])
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        assert list(got["customer_id"][:4]) == ["C1", "C10", "C2", "C9"]      # sorted as text


def test_the_long_file_is_written_a_measure_at_a_time_with_to_longs_rows(tmp_path):
    """write_long never holds the long table; the file still has exactly to_long's rows, in its order."""
    wide = pd.DataFrame({"month": ["2026-01", "2026-01", "2026-02"], "customer_id": ["C1", "C2", "C1"],
                         "clv": [1.5, -2.0, np.nan], "first_purchase": pd.to_datetime(["2025-03-01", "2025-05-02", "2025-03-01"])})
    h.write_long(wide, "customer", "customer_id", ["clv", "first_purchase"], tmp_path / "long.parquet")
    back = pd.read_parquet(tmp_path / "long.parquet")
    assert all(isinstance(back[c].dtype, pd.CategoricalDtype) for c in h.TEXT)
    want = h.to_long(wide, "customer", "customer_id", ["clv", "first_purchase"])
    pd.testing.assert_frame_equal(back.astype({c: str for c in h.TEXT}), want, check_dtype=False)
    h.write_long(wide.iloc[:0], "customer", "customer_id", [], tmp_path / "empty.parquet")
    assert h.from_long(pd.read_parquet(tmp_path / "empty.parquet"), "customer_id").empty


def test_a_reloaded_history_reads_one_month_without_the_others(wb, hist):
    """Read back, a month comes from the file alone; all months are read on first use of ``customers``."""
    back = h.load(wb.data_dir)
    m = hist.months[-2]
    one = back.month(m)
    assert back.__dict__.get("_customers") is None                       # nothing else was read
    pd.testing.assert_frame_equal(one, hist.month(m)[one.columns], check_exact=True, check_dtype=False)
    assert set(back.customers["month"]) == set(hist.months) and back.__dict__.get("_customers") is not None
    pd.testing.assert_frame_equal(back.month(m), one, check_exact=True)
    nobody = h.load(wb.data_dir).month("1999-01")
    assert nobody.empty and list(nobody.columns) == list(back.customers.columns)
