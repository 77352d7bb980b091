"""Money: FX lookup (gaps, age limits, base currencies), conversion to cents, and implausible rate tables.

Every expected value is worked out by hand in the comment beside it.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from clvlib import money


def orders(rows):
    """Orders from (currency, date, amount[, doc_type]) tuples."""
    rows = [r + ("invoice",) if len(r) == 3 else r for r in rows]
    return pd.DataFrame({"currency": [r[0] for r in rows], "order_date": pd.to_datetime([r[1] for r in rows]),
                         "amount": [float(r[2]) for r in rows], "doc_type": [r[3] for r in rows],
                         "cost_of_goods": 0.0, "freight_cost": 0.0, "other_cost": 0.0})


def fx(rows):
    return pd.DataFrame({"date": pd.to_datetime([r[0] for r in rows]), "currency": [r[1] for r in rows],
                         "rate": [float(r[2]) for r in rows]})


RATES = fx([("2026-01-01", "EUR", 1.10), ("2026-01-10", "EUR", 1.20), ("2026-01-01", "GBP", 1.25)])


@pytest.mark.parametrize("day,max_age,rate", [
    ("2026-01-01", 3, 1.10),             # the rate of the day itself
    ("2026-01-04", 3, 1.10),             # 3 days old: still valid
    ("2026-01-05", 3, None),             # 4 days old: a gap, no rate
    ("2026-01-05", 366, 1.10),           # a longer age limit bridges it
    ("2026-01-10", 3, 1.20),             # the newer rate from its day on
    ("2025-12-31", 366, None),           # before the first rate: never the next one
])
def test_rate_is_the_newest_on_or_before_the_date_within_the_age_limit(day, max_age, rate):
    lk = money.fx_lookup(orders([("EUR", day, 100)]), RATES, "USD", max_age)
    if rate is None:
        assert lk.no_rate[0] and math.isnan(lk.rate[0]) and lk.missing[0] == "EUR" and not lk.unknown[0]
    else:
        assert lk.rate[0] == pytest.approx(rate) and not lk.no_rate[0]


def test_reporting_currency_is_1_and_an_unknown_currency_is_never_1():
    lk = money.fx_lookup(orders([("USD", "2026-01-02", 5), ("XYZ", "2026-01-02", 5)]), RATES, "USD", 7)
    assert lk.rate[0] == 1.0 and not lk.unknown[0]
    assert lk.unknown[1] and math.isnan(lk.rate[1]) and not lk.no_rate[1]


def test_rates_quoted_against_another_base_give_cross_rates():
    # EUR-quoted table: EUR per 1 USD = 0.80, EUR per 1 GBP = 1.20; reporting in USD
    table = fx([("2026-01-01", "USD", 0.80), ("2026-01-01", "GBP", 1.20)])
    lk = money.fx_lookup(orders([("GBP", "2026-01-02", 1), ("EUR", "2026-01-02", 1), ("USD", "2026-01-02", 1)]),
                         table, "USD", 7, base="EUR")
    assert lk.rate.tolist() == pytest.approx([1.20 / 0.80, 1 / 0.80, 1.0])      # 1.5, 1.25 USD per unit


def test_a_missing_reporting_currency_rate_names_the_reporting_currency():
    table = fx([("2026-01-01", "USD", 0.80), ("2026-01-01", "GBP", 1.20)])
    lk = money.fx_lookup(orders([("GBP", "2026-03-01", 1)]), table, "USD", 7, base="EUR")
    assert lk.no_rate[0] and lk.missing[0] == "GBP"          # both are stale; the order's own is named
    table = fx([("2026-01-01", "USD", 0.80), ("2026-03-01", "GBP", 1.20)])
    lk = money.fx_lookup(orders([("GBP", "2026-03-01", 1)]), table, "USD", 7, base="EUR")
    assert lk.no_rate[0] and lk.missing[0] == "USD"


def test_zero_and_empty_rates_are_ignored():
    table = fx([("2026-01-01", "EUR", 0.0), ("2025-12-31", "EUR", 1.05)])
    lk = money.fx_lookup(orders([("EUR", "2026-01-02", 1)]), table, "USD", 7)
    assert lk.rate[0] == pytest.approx(1.05)                  # the 0 of Jan 1 is not "the newest rate"


def test_conversion_rounds_each_amount_to_the_cent():
    o = orders([("EUR", "2026-01-02", 123.45)]).assign(cost_of_goods=50.0, freight_cost=10.0, other_cost=0.555)
    out = money.to_reporting(o, pd.Series([1.23456]))
    # 123.45 * 1.23456 = 152.406432 -> 152.41; (50 + 10 + 0.555) * 1.23456 = 74.7587... -> 74.76
    assert out.loc[0, "amount_rc"] == 152.41 and out.loc[0, "cost_rc"] == 74.76
    assert out.loc[0, "gross_margin_rc"] == 77.65                  # 152.41 - 74.76, the lines' difference
    assert "amount_rc" not in o                                     # copy=True leaves the input alone


def test_booked_keeps_booked_documents_only():
    o = pd.DataFrame({"status": ["booked", "cancelled", "open", "lost", "booked"]})
    assert money.booked(o).index.tolist() == [0, 4]


# ------------------------------------------------------------------------------------------- plausibility
def doubts(rows, rates, rc="USD"):
    o = orders(rows)
    return {(d.currency, d.kind) for d in money.fx_plausibility(o, pd.Series(rates, index=o.index), rc)}


def test_expected_rates_cross_through_usd():
    typ, lo, hi = money.expected_rate("JPY", "EUR")
    assert typ == pytest.approx(0.0075 / 1.1) and lo == pytest.approx(0.0062 / 1.6) and hi == pytest.approx(0.0132 / 0.82)
    assert money.expected_rate("XYZ", "USD") is None and money.expected_rate("EUR", "XYZ") is None


def test_plausible_rates_raise_no_doubt():
    assert doubts([("EUR", "2026-01-02", 100), ("JPY", "2026-01-02", 1e6), ("GBP", "2026-01-02", 50)],
                  [1.09, 0.0067, 1.27]) == set()


def test_a_table_kept_inverted_is_named_per_currency():
    # USD per unit already, inverted again: EUR 1/1.087 = 0.92 (cannot tell), GBP 0.80, JPY 149
    got = doubts([("EUR", "2026-01-02", 100), ("GBP", "2026-01-02", 50), ("JPY", "2026-01-02", 1.5e6)],
                 [0.92, 0.80, 1 / 0.0067])
    assert got == {("GBP", "inverted"), ("JPY", "inverted")}


def test_one_currency_far_off_while_others_fit_is_mis_scaled_not_inverted():
    # JPY quoted per 100 yen (0.67 USD) next to a plausible EUR and AED: the table is not inverted
    assert doubts([("EUR", "2026-01-02", 100), ("AED", "2026-01-02", 100), ("JPY", "2026-01-02", 1e6)],
                  [1.1, 0.2723, 0.67]) == {("JPY", "scale")}
    # a GBP that drifted low beside upright JPY and AED is not called inverted either (0.80 is within 2x)
    assert doubts([("GBP", "2026-01-02", 100), ("JPY", "2026-01-02", 1e6), ("AED", "2026-01-02", 100)],
                  [0.80, 0.0102, 0.2723]) == set()


def test_a_table_quoted_in_cny_read_as_usd_is_mis_scaled():
    # an ERP table of CNY per unit (EUR 7.81, GBP 9.0) without `base: CNY`
    assert doubts([("EUR", "2026-01-02", 100), ("GBP", "2026-01-02", 100)], [7.81, 9.0]) == {
        ("EUR", "scale"), ("GBP", "scale")}


def test_an_unknown_currency_is_judged_by_its_converted_order_sizes():
    rows = [("USD", "2026-01-02", 1000)] * 5 + [("KZT", "2026-01-02", 500_000)] * 5
    ok = [1.0] * 5 + [0.002] * 5                   # 1,000 USD each: like the USD orders
    inverted = [1.0] * 5 + [500.0] * 5             # 250M USD each: 250,000x the others
    assert doubts(rows, ok) == set() and doubts(rows, inverted) == {("KZT", "size")}
    assert doubts(rows[:4] + rows[5:9], inverted[:4] + inverted[5:9]) == set()      # too few orders to judge


def test_the_plausibility_setting_is_validated_like_the_others():
    from clvlib.errors import ParamsError
    from clvlib.params import validate

    assert validate({"sources": "x.yaml"})["fx"]["plausibility"] == "stop"
    assert validate({"sources": "x.yaml", "fx": {"plausibility": "warn"}})["fx"]["plausibility"] == "warn"
    with pytest.raises(ParamsError, match=r"fx\.plausibility: must be one of stop, warn, off, got 'maybe'"):
        validate({"sources": "x.yaml", "fx": {"plausibility": "maybe"}})
