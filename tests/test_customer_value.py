"""The workbook's customer-value stage on the demo company: artifact, accounting, truth recovery."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib import customer_value as cv, demo
from clvlib.models import BetaGeoModel, GammaGammaModel
from clvlib.rfm import rfm_summary


@pytest.fixture(scope="module")
def wb(staged):
    return staged


@pytest.fixture(scope="module")
def value(wb):
    return wb.stage("customer_value")


def test_artifact_has_the_contract_columns(wb, value):
    t = pd.read_parquet(wb.data_dir / "customer_value.parquet")
    assert list(t.columns[:len(cv.COLUMNS)]) == cv.COLUMNS
    assert t["customer_id"].is_unique
    buyers = wb.orders().query("doc_type == 'invoice'")["customer_id"].nunique()
    assert len(t) == buyers
    assert t["p_alive"].between(0, 1).all()
    assert (t["clv_low"] <= t["clv"] + 1e-6).all() and (t["clv"] <= t["clv_high"] + 1e-6).all()
    assert t["owner_rep_id"].notna().mean() > 0.99
    assert (t["expected_purchases_12m"] >= 0).all()


def test_credit_notes_are_netted_into_their_invoices(wb):
    orders = wb.orders()
    occ = cv.occasions(orders)
    assert len(occ) == (orders["doc_type"] == "invoice").sum()
    # every cent of margin is kept: invoices + credit notes == occasions (no credit note before its customer's first invoice)
    assert occ["value"].sum() == pytest.approx(orders["gross_margin_rc"].sum(), abs=0.01)
    cn = orders[orders["doc_type"] == "credit_note"].iloc[0]
    inv = orders[orders["order_id"] == cn["original_order_id"]].iloc[0]
    row = occ[occ["order_id"] == inv["order_id"]].iloc[0]
    assert row["value"] == pytest.approx(inv["gross_margin_rc"] + cn["gross_margin_rc"])


def test_books_add_up_to_the_customers(value):
    owned = value.table[value.table["owner_rep_id"].notna()]
    assert value.books["clv"].sum() == pytest.approx(owned["clv"].sum(), rel=1e-6)
    assert (value.books["clv_low"] <= value.books["clv"]).all() and (value.books["clv"] <= value.books["clv_high"]).all()


def test_loss_making_customers_are_not_given_the_average_margin(value):
    t = value.table
    loss = (t["frequency"] > 0) & (t["monetary_value"] <= 0)
    assert (t.loc[loss, "clv"] <= 1e-9).all()
    assert value.settings["loss_making_customers"] == int(loss.sum())


def test_stage_is_deterministic_and_reloads(wb, value):
    again = cv.build(wb.orders(), wb.table("ownership"), wb.as_of, wb.params["clv"])
    pd.testing.assert_frame_equal(value.table, again.table)
    loaded = cv.load(wb.data_dir)
    pd.testing.assert_frame_equal(loaded.table[cv.COLUMNS], value.table[cv.COLUMNS], check_dtype=False)
    assert loaded.holdout.metrics["actual_total"] == value.holdout.metrics["actual_total"]


def test_holdout_check_is_close_on_the_demo(value):
    m = value.holdout.metrics
    assert abs(m["bias"]) < 0.15
    assert m["actual_total"] > 500


def test_fit_recovers_the_generators_bgnbd_parameters(wb, value):
    truth = demo.load_truth(wb.params.path("sources").parent.parent.parent / "data" / "demo")["bgnbd"]
    est = value.parameters.set_index("parameter")
    for k, true in truth.items():
        e, se = est.loc[k, "estimate"], est.loc[k, "std_error"]
        assert abs(e - true) < 3 * se, f"{k}: {e:.3f} ± {se:.3f} vs true {true}"


def test_fit_recovers_the_generators_spend_parameters(wb):
    """Gamma-Gamma on what the generator drew: occasion revenue before returns (repeat occasions)."""
    truth = demo.load_truth(wb.params.path("sources").parent.parent.parent / "data" / "demo")["gamma_gamma"]
    inv = wb.orders().query("doc_type == 'invoice'")
    s = rfm_summary(inv, "customer_id", "order_date", "amount_rc", as_of=wb.as_of)
    gg = GammaGammaModel().fit(s)
    for k, true in truth.items():
        e, se = gg.params_[k], gg.standard_errors_[k]
        assert abs(e - true) < 3 * se, f"{k}: {e:.3f} ± {se:.3f} vs true {true}"


def test_at_risk_lists_valuable_customers_whose_p_alive_fell():
    t = pd.DataFrame({"customer_id": list("abcdef"), "clv": [10, 90, 5, 50, 1, 2.0],
                      "clv_prev": [100, 100, 5, 60, 1, 2.0], "p_alive": [0.2, 0.9, 0.1, 0.3, 0.5, 0.5],
                      "p_alive_prev": [0.9, 0.95, 0.9, 0.35, 0.5, 0.5]})
    r = cv.at_risk(t, top_share=0.5)
    assert list(r["customer_id"]) == ["a"]            # b barely moved; c was never valuable; d fell < 0.2
    assert r["value_lost"].iloc[0] == 90


def test_customers_without_positive_margin_three_months_ago_are_valued(wb):
    """A repeat customer whose first repeat order made no margin (fully credited) and whose next one
    did: three months ago the Gamma-Gamma model could not value them; that must not stop the stage
    (it did, on the 1,000,000-customer demo)."""
    orders = wb.orders()
    extra = orders.iloc[[0, 0, 0]].copy()
    extra["customer_id"] = "CX"
    extra["order_id"] = ["X1", "X2", "X3"]
    extra["order_date"] = pd.to_datetime(["2026-05-01", "2026-06-01", "2026-10-01"])
    extra["gross_margin_rc"] = [100.0, 0.0, 300.0]
    res = cv.build(pd.concat([orders, extra], ignore_index=True), wb.table("ownership"), wb.as_of,
                   wb.params["clv"], holdout=False)
    assert res.fallback is None
    row = res.table.set_index("customer_id").loc["CX"]
    assert row["clv"] > 0 and np.isfinite(row["clv_prev"]) and np.isfinite(row["p_alive_prev"])


def test_total_interval_covers_every_customer_and_is_saved(wb, value):
    """The company total and its interval come from the draws over all customers, owned or not --
    not from adding up the books' interval ends."""
    t, table, books = value.total, value.table, value.books
    assert t["n_customers"] == len(table)
    assert t["clv"] == pytest.approx(table["clv"].sum(), rel=1e-12)
    assert t["clv_low"] < t["clv_median"] < t["clv_high"] and t["clv_low"] < t["clv"] < t["clv_high"]
    # every demo customer has an owner, and still the books' summed ends are wider than the total's
    # interval: the books do not all sit at their 5% (95%) quantiles in the same draws
    assert table["owner_rep_id"].notna().all()
    assert books["clv_low"].sum() < t["clv_low"] and t["clv_high"] < books["clv_high"].sum()
    loaded = cv.load(wb.data_dir)
    assert loaded.total == pytest.approx(t, rel=1e-12)
    # customers without an owner on the as-of date stay in the total (the books leave them out)
    own, orders = wb.table("ownership"), wb.orders()
    orphans = table["customer_id"].iloc[::10]
    orders = orders.assign(rep_id=orders["rep_id"].mask(orders["customer_id"].isin(orphans)))
    part = cv.build(orders, own[~own["customer_id"].isin(orphans)], wb.as_of, wb.params["clv"], holdout=False)
    assert part.total == pytest.approx(t, rel=1e-12)
    unowned = part.table.loc[part.table["owner_rep_id"].isna(), "clv"].sum()
    assert part.table["owner_rep_id"].isna().sum() == len(orphans) and unowned > 0
    assert part.books["clv"].sum() == pytest.approx(t["clv"] - unowned, rel=1e-9)
    assert part.books["clv_high"].sum() < t["clv_low"]


def test_total_without_models_has_no_interval(wb, tmp_path):
    orders = wb.orders()
    few = orders[orders["customer_id"].isin(orders["customer_id"].unique()[:2])]
    res = cv.build(few, wb.table("ownership"), wb.as_of, wb.params["clv"])
    assert res.fallback is not None
    assert res.total["clv"] == pytest.approx(res.table["clv"].sum())
    assert np.isnan(res.total["clv_low"]) and np.isnan(res.total["clv_high"])
    cv.save(res, tmp_path)
    loaded = cv.load(tmp_path)
    assert loaded.total["clv"] == pytest.approx(res.total["clv"]) and np.isnan(loaded.total["clv_low"])


def test_too_uncertain_models_fall_back_to_the_simple_formula(wb, monkeypatch):
    """Models that fit but cannot give an interval (on a handful of customers, a parameter draw with
    q <= 1 has no finite mean value): the stage falls back to the simple formula and says why
    instead of failing."""
    from clvlib.errors import ModelError

    def no_interval(*args, **kwargs):
        raise ModelError("GammaGammaModel: q = 0.406 <= 1, so the average transaction value has no finite mean")

    monkeypatch.setattr(cv, "clv_interval", no_interval)
    res = cv.build(wb.orders(), wb.table("ownership"), wb.as_of, wb.params["clv"])
    assert res.fallback.startswith("the models were fitted but cannot value customers with an interval: "
                                   "GammaGammaModel: q = 0.406 <= 1")
    assert res.table["clv"].notna().all() and res.table["clv_low"].isna().all() and res.holdout is None
    assert np.isnan(res.total["clv_low"])
