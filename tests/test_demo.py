"""The demo exporter: deterministic, valid against the contract, realistic, scalable, with truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib import demo, params as params_mod
from clvlib.sources import load_inputs
from clvlib.sources.spec import load_sources


@pytest.fixture(scope="module")
def small():
    return demo.generate(seed=7, n_customers=600)


def test_same_seed_same_company(small):
    again = demo.generate(seed=7, n_customers=600)
    for name, df in small[0].items():
        pd.testing.assert_frame_equal(df, again[0][name], obj=name)
    assert small[1] == again[1]


def test_other_seed_other_company(small):
    other = demo.generate(seed=8, n_customers=600)[0]["orders"]
    assert not other["amount"].astype(str).equals(small[0]["orders"]["amount"].astype(str))


def test_shape_of_a_realistic_exporter():
    tables, truth, cust = demo.generate(seed=42, n_customers=3000)
    reps, orders = tables["reps"], tables["orders"]
    sales = reps[reps.role == "sales"]
    active = sales[sales.leave_date.isna()]
    assert 35 <= len(active) <= 45 and sales["team"].nunique() == 4
    assert (sales.leave_date.notna()).sum() >= 2                           # some left ...
    assert (pd.to_datetime(sales.hire_date).dt.year == 2026).sum() >= 2    # ... some hired this year
    assert 20 <= tables["customers"]["country"].nunique() <= 30
    assert orders["currency"].nunique() >= 6
    years = pd.to_datetime(orders["order_date"]).dt.year.dropna()
    assert years.min() == 2021 and years.max() == 2026
    assert (orders["doc_type"] == "credit_note").sum() > 50
    assert (orders["status"] == "cancelled").sum() > 50
    assert orders["paid_date"].isna().sum() > 100                         # unpaid invoices exist
    assert len(tables["nps"]) > 500 and len(tables["complaints"]) > 100
    # handed-over customers: ownership changes on leavers' accounts
    own = tables["ownership"]
    assert own.groupby("customer_id")["rep_id"].nunique().gt(1).sum() > 20
    assert set(truth.rep_archetypes.values()) == {"hunter", "farmer", "balanced"}


def test_archetypes_make_commission_and_clv_disagree():
    """Hunters open more accounts with bigger, richer first deals; their customers leave sooner."""
    _, truth, cust = demo.generate(seed=42, n_customers=3000)
    by = cust.groupby("acq_arch")
    assert by["p_true"].mean()["hunter"] > 2 * by["p_true"].mean()["farmer"]
    assert by.size()["hunter"] / truth.rep_archetypes.__len__() > 0
    per_rep = cust.groupby("acq_rep").size()
    arch = pd.Series(truth.rep_archetypes)
    assert per_rep.reindex(arch[arch == "hunter"].index).mean() > per_rep.reindex(arch[arch == "farmer"].index).mean()


def test_population_follows_the_true_bgnbd_mixture():
    _, truth, cust = demo.generate(seed=42, n_customers=3000)
    r, alpha, a, b = (truth.bgnbd[k] for k in ("r", "alpha", "a", "b"))
    assert cust["lam_true"].mean() == pytest.approx(r / alpha, rel=0.1)
    assert cust["p_true"].mean() == pytest.approx(a / (a + b), rel=0.1)


def test_written_demo_passes_the_contract_except_planted_defects(demo_params):
    inputs = load_inputs(demo_params)
    truth = demo.load_truth(load_sources(demo_params.path("sources")).folder)
    q = inputs.quarantine
    # every planted defect is quarantined with the right rule, and nothing else is
    expected = {"unknown currency": "unknown_currency", "missing value": "missing_value",
                "not a number": "not_a_number", "unknown customer": "unknown_customer",
                "exact duplicate row": "duplicate_row", "conflicting duplicate": "conflicting_duplicate",
                "shares do not sum to 1": "split_not_one", "out of range": "out_of_range"}
    for d in truth["defects"]:
        rule = expected[d["kind"]]
        hit = q[(q["table"] == d["table"]) & (q["rule"] == rule)]
        assert len(hit), f"planted defect not found: {d}"
    assert set(q["rule"]) <= set(expected.values()) | {"unknown_order"}
    # the offending value is shown wherever there is one (a person must see what to fix)
    shown = q[q["rule"] != "missing_value"]
    assert (shown["value"].astype(str).str.len() > 0).all(), shown[shown["value"].astype(str) == ""]
    assert len(q) <= 15
    for name, c in inputs.counts.items():
        assert c["rows_read"] == c["rows_accepted"] + c["rows_quarantined"], name


def test_scale_option_scales_reps_and_orders():
    t_small, _, _ = demo.generate(seed=1, n_customers=1000, defects=False)
    t_big, _, _ = demo.generate(seed=1, n_customers=4000, defects=False)
    ratio = len(t_big["orders"]) / len(t_small["orders"])
    assert 3.2 < ratio < 4.8
    assert len(t_big["reps"]) > len(t_small["reps"])


def test_write_is_atomic_and_has_truth(tmp_path):
    out = demo.write(tmp_path / "d", seed=3, n_customers=300)
    assert {p.name for p in out.glob("*.csv")} == {f"{n}.csv" for n in demo.FILES}
    truth = demo.load_truth(out)
    assert truth["bgnbd"]["r"] > 0 and truth["rep_archetypes"]
    assert (out / "truth" / "customers.parquet").exists()
    assert not (tmp_path / "d.tmp").exists()


def test_too_small_is_refused():
    from clvlib.errors import ClvError

    with pytest.raises(ClvError, match="at least 50"):
        demo.generate(n_customers=10)
