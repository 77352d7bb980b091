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


@pytest.fixture(scope="module")
def default_company():
    return demo.generate(seed=42, n_customers=3000)


def test_archetypes_make_commission_and_clv_disagree(default_company):
    """Hunters open the most accounts, mostly with one-off buyers; farmers the fewest, mostly with the
    loyal customers; balanced reps in between (accounts per month employed, hand-checked levers)."""
    tables, truth, cust = default_company
    p = cust.groupby("acq_arch")["p_true"].mean()
    assert p["hunter"] > p["balanced"] > p["farmer"] and p["hunter"] > 3 * p["farmer"]
    reps = tables["reps"].set_index("rep_id")
    arch = pd.Series(truth.rep_archetypes)
    last = pd.Timestamp(truth.end)
    months = ((reps["leave_date"].fillna(last) - reps["hire_date"].clip(lower=pd.Timestamp(truth.start))).dt.days
              / 30.4).reindex(arch.index)
    rate = (cust.groupby("acq_rep").size().reindex(arch.index).fillna(0) / months).groupby(arch).median()
    assert rate["hunter"] > 1.5 * rate["balanced"] and rate["balanced"] > 1.3 * rate["farmer"], rate
    assert truth.archetype_levers["first_order"] == dict(demo.FIRST_ORDER) and "win_rate" in truth.archetype_note


def test_first_deals_are_sized_by_the_archetype_and_later_orders_are_not(default_company):
    """A customer's first purchase is FIRST_ORDER times a usual one (hunters 3, farmers 0.5, balanced 1);
    the repeat purchases follow Gamma-Gamma whoever won the customer. Measured on the USD invoices:
    an occasion = a customer's booked invoices of one day; each customer's first occasion against the
    mean of their repeat occasions, and the repeat occasions against the truth's nu (E[z] = p / nu)."""
    tables, truth, cust = default_company
    o = tables["orders"]
    o = o[(o["currency"] == "USD") & (o["doc_type"] == "invoice") & (o["status"] == "booked")].copy()
    o["amount"] = pd.to_numeric(o["amount"], errors="coerce")
    occ = o.dropna(subset=["amount", "order_date"]).groupby(["customer_id", "order_date"])["amount"].sum()
    occ = occ.reset_index().sort_values(["customer_id", "order_date"])
    occ["first"] = ~occ["customer_id"].duplicated()
    truth_c = cust.set_index("customer_id")
    occ["arch"] = occ["customer_id"].map(truth_c["acq_arch"])
    occ["expected"] = truth.gamma_gamma["p"] / occ["customer_id"].map(truth_c["nu_true"])
    occ["ratio"] = occ["amount"] / occ["expected"]
    first = occ[occ["first"]].groupby("arch")["ratio"].mean()
    repeat = occ[~occ["first"]].groupby("arch")["ratio"].mean()
    for a, factor in demo.FIRST_ORDER.items():
        assert first[a] == pytest.approx(factor, rel=0.12), (a, first[a])
        assert repeat[a] == pytest.approx(1.0, rel=0.08), (a, repeat[a])


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


def test_fx_rates_stay_in_each_currencys_plausible_range(small):
    """The FX paths revert to each currency's usual value (a random walk let GBP drift to 0.80 USD,
    where an inverted table puts it): every rate of every currency lies inside clvlib.money's range
    since 2000, for the default company and other seeds, on every business day of the data."""
    from clvlib.money import USD_VALUE

    start, end = pd.Timestamp("2021-11-01"), pd.Timestamp(demo.DEMO_END)
    tables = {7: small[0]["fx_rates"]}
    tables.update({seed: demo._fx(np.random.default_rng(seed), start, end) for seed in (42, *range(100, 130))})
    for seed, fx in tables.items():
        for cur, g in fx.groupby("currency"):
            _, lo, hi = USD_VALUE[cur]
            assert lo <= g["rate"].min() and g["rate"].max() <= hi, (seed, cur, g["rate"].min(), g["rate"].max())
            assert g["rate"].iloc[-260:].median() == pytest.approx(demo.FX_LEVEL[cur], rel=0.15), (seed, cur)
    fx = tables[42]
    days = pd.bdate_range(start - pd.Timedelta(days=10), end)
    assert (fx.groupby("currency")["date"].apply(lambda d: pd.DatetimeIndex(d).equals(days))).all()
    assert set(fx["currency"]) == set(demo.CURRENCIES) - {"USD"}


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


# ------------------------------------------------------------------ the pilot
def test_pilot_halves_the_drop_out_after_the_switch():
    """Hand-made population: every customer in the pilot team, 0.1 purchases a week, p = 0.2, the switch
    half-way. Drop-outs per repeat purchase: 0.2 before the switch, 0.2 * (1 - 0.5) after."""
    n = 40_000
    start = pd.Timestamp("2024-01-01")
    cust = pd.DataFrame({"team": "Europe", "first_date": start, "T_weeks": 100.0, "lam_true": 0.1,
                         "p_true": 0.2}, index=range(n))
    pilot = demo._resolve_pilot({"team": "Europe", "switch": "2024-12", "effect": 0.5}, start - pd.Timedelta(days=1),
                                pd.Timestamp("2025-12-31"))
    occ = demo._simulate_occasions(np.random.default_rng(3), cust, {}, pilot)
    switch_weeks = (pilot["switch_date"] - start).days / 7
    rep = occ[occ["occasion"] > 0]
    last = rep.groupby("cust")["t_weeks"].max()
    died_at = last[cust["died"].to_numpy()[last.index]]
    for before, rate in ((True, 0.2), (False, 0.1)):
        trials = (rep["t_weeks"] < switch_weeks).eq(before).sum()
        deaths = (died_at < switch_weeks).eq(before).sum()
        se = np.sqrt(rate * (1 - rate) / trials)
        assert abs(deaths / trials - rate) < 4 * se, (before, deaths / trials, rate)


def test_default_company_has_a_pilot_recorded_in_the_truth(small, tmp_path):
    assert small[1].pilot == {"team": "Europe", "switch": "2026-01", "effect": 0.5}
    assert demo.DEMO_PILOT["switch"] is None        # 10 months before the end, whatever the end
    _, truth, cust = demo.generate(seed=7, n_customers=600, end="2025-06-30")
    assert truth.pilot["switch"] == "2024-09"
    assert (cust["pilot"] == (cust["team"] == "Europe")).all()
    out = demo.write(tmp_path / "d", seed=3, n_customers=300, pilot=None)
    assert demo.load_truth(out)["pilot"] is None
    assert "No pilot." in (out / "README.md").read_text()


def test_pilot_changes_only_the_pilot_teams_customers_after_the_switch(small):
    _, _, with_pilot = small
    _, _, without = demo.generate(seed=7, n_customers=600, pilot=None)
    team = with_pilot["team"] == "Europe"
    for col in ("lam_true", "p_true", "acq_rep"):
        assert with_pilot[col].equals(without[col])
    pd.testing.assert_frame_equal(with_pilot[~team].drop(columns="pilot"), without[~team].drop(columns="pilot"))
    switch_weeks = (pd.Timestamp("2026-01-01") - with_pilot["first_date"]).dt.days / 7
    died_before = without["died"] & (without["death_weeks"] < switch_weeks)
    assert (with_pilot.loc[team & died_before, "death_weeks"] == without.loc[team & died_before, "death_weeks"]).all()
    assert with_pilot.loc[team, "died"].sum() < without.loc[team, "died"].sum()


@pytest.mark.parametrize("pilot, message", [
    ({"team": "Mars"}, "pilot team must be one of Europe"),
    ({"team": "Europe", "switch": "2030-01"}, "must be after the first month"),
    ({"team": "Europe", "switch": "January"}, "must be a month YYYY-MM"),
    ({"team": "Europe", "switch": "2026-13"}, "must be a month YYYY-MM"),
    ({"team": "Europe", "effect": 1.0}, "effect must be a number in \\[0, 1\\)"),
    ({"team": "Europe", "size": 3}, "unknown key\\(s\\) size"),
])
def test_bad_pilot_is_refused(pilot, message):
    from clvlib.errors import ClvError

    with pytest.raises(ClvError, match=message):
        demo.generate(n_customers=60, pilot=pilot)


def test_demo_data_command_pilot_options(tmp_path):
    from clvlib.cli import main

    assert main(["demo-data", "--out", str(tmp_path / "a"), "--customers", "200", "--pilot-team", "Americas",
                 "--pilot-switch", "2025-06", "--pilot-effect", "0.2"]) == 0
    assert demo.load_truth(tmp_path / "a")["pilot"] == {"team": "Americas", "switch": "2025-06", "effect": 0.2}
    assert main(["demo-data", "--out", str(tmp_path / "b"), "--customers", "200", "--no-pilot"]) == 0
    assert demo.load_truth(tmp_path / "b")["pilot"] is None
    assert main(["demo-data", "--out", str(tmp_path / "c"), "--customers", "200"]) == 0
    assert demo.load_truth(tmp_path / "c")["pilot"] == {"team": "Europe", "switch": "2026-01", "effect": 0.5}
    assert main(["demo-data", "--out", str(tmp_path / "d"), "--no-pilot", "--pilot-team", "Europe"]) == 2


# ------------------------------------------------------------------ quotas
@pytest.fixture(scope="module")
def clean():
    return demo.generate(seed=11, n_customers=1500, defects=False)


def _credited_usd(tables) -> pd.DataFrame:
    """Credited revenue in USD per (rep, month), rebuilt from the export files' tables."""
    o = tables["orders"]
    o = o[o["status"] == "booked"].copy()
    o["date"] = pd.to_datetime(o["order_date"])
    fx = tables["fx_rates"].assign(date=lambda f: pd.to_datetime(f["date"])).sort_values("date")
    o = o.sort_values("date")
    o = pd.merge_asof(o, fx, on="date", by="currency", direction="backward")
    o["usd"] = o["amount"].astype(float) * o["rate"].fillna(1.0)
    s = tables["order_splits"]
    split = o.drop(columns="rep_id").merge(s, on="order_id")
    credit = pd.concat([o[~o["order_id"].isin(s["order_id"])], split.assign(usd=split["usd"] * split["share"])])
    return credit.groupby(["rep_id", credit["date"].dt.strftime("%Y-%m")])["usd"].sum()


def test_quotas_cover_every_month_each_sales_rep_is_employed(clean):
    tables, truth, _ = clean
    q, reps = tables["quotas"], tables["reps"]
    assert list(q.columns) == ["rep_id", "month", "quota"] and q["quota"].dtype.kind == "i"
    assert q["month"].str.fullmatch(r"\d{4}-\d{2}").all() and not q.duplicated(["rep_id", "month"]).any()
    assert (q["quota"] > 0).all() and (q["quota"] % 100 == 0).all()
    sales = reps[reps["role"] == "sales"]
    assert set(q["rep_id"]) == set(sales["rep_id"])
    first, last = pd.Period(truth.start, "M"), pd.Period(truth.end, "M")
    for r in sales.itertuples():
        lo = max(pd.Period(r.hire_date, "M"), first)
        hi = last if pd.isna(r.leave_date) else min(pd.Period(r.leave_date, "M"), last)
        want = [str(m) for m in pd.period_range(lo, hi, freq="M")]
        assert q.loc[q["rep_id"] == r.rep_id, "month"].tolist() == want, r.rep_id


def test_quota_is_last_years_credited_revenue_plus_growth(clean):
    """2026's quota of a rep employed all of 2025 = 110 % of their average monthly credited revenue in
    2025 (rebuilt here from orders, FX rates and split credit), to the nearest 100 USD."""
    tables, _, _ = clean
    q = tables["quotas"].set_index(["rep_id", "month"])["quota"]
    revenue = _credited_usd(tables)
    reps = tables["reps"]
    sales = reps[(reps["role"] == "sales") & (pd.to_datetime(reps["hire_date"]) < "2025-01-01")
                 & reps["leave_date"].isna()]
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    checked = 0
    for rep_id in sales["rep_id"]:
        mean = sum(revenue.get((rep_id, m), 0.0) for m in months) / 12
        assert abs(q[(rep_id, "2026-03")] - 1.1 * mean) <= 51, rep_id     # rounding to 100 (+ FX cents)
        assert q[(rep_id, "2026-01")] == q[(rep_id, "2026-10")]            # one figure for the year
        checked += 1
    assert checked >= 10
    # a new hire: the team's median quota, at half for the first three months
    hires = reps[(reps["role"] == "sales") & (pd.to_datetime(reps["hire_date"]).dt.year == 2026)]
    r = hires.iloc[0]
    month0 = pd.Period(r["hire_date"], "M")
    mine = q[r["rep_id"]]
    assert mine[str(month0)] * 2 == pytest.approx(mine[str(month0 + 3)], abs=100)
    assert mine[str(month0 + 1)] == mine[str(month0)] and mine[str(month0 + 2)] == mine[str(month0)]


def test_quotas_are_written_and_described(tmp_path):
    out = demo.write(tmp_path / "d", seed=3, n_customers=300)
    q = pd.read_csv(out / "quotas.csv", dtype={"month": str})
    assert list(q.columns) == ["rep_id", "month", "quota"] and len(q) > 100
    readme = (out / "README.md").read_text()
    assert "quotas.csv" in readme and "rep_id, month (YYYY-MM), quota" in readme and "Pilot: the Europe team" in readme
