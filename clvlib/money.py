"""Money: every amount in the reporting currency at the order date's rate, and gross margin.

The rate for an order is the newest rate on or before its date, at most ``max_age_days`` old. A
currency with no rates at all, or a date with no rate in that window, is never given a silent rate of
1: the row is quarantined with the reason (or, with ``fx.strict: true``, the run stops). Rates may be
quoted against another currency than the reporting one (``base`` in the sources file, e.g. a
Salesforce corporate currency): the rate used is then the cross rate through that base.
Converted amounts are rounded to the cent, as a ledger would book them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def _asof(dates: pd.Series, codes: np.ndarray, fx_dates: np.ndarray, fx_codes: np.ndarray, fx_rate: np.ndarray,
          max_age_days: int) -> np.ndarray:
    """Newest rate on or before each date for each currency code, at most ``max_age_days`` old."""
    out = np.full(len(dates), np.nan)
    if not len(dates) or not len(fx_dates):
        return out
    left = pd.DataFrame({"_i": np.arange(len(dates)), "code": codes,
                         "date": dates.to_numpy(dtype="datetime64[ns]")}).sort_values("date", kind="stable")
    right = pd.DataFrame({"code": fx_codes, "date": fx_dates, "rate": fx_rate}).sort_values("date", kind="stable")
    m = pd.merge_asof(left, right, on="date", by="code", direction="backward",
                      tolerance=pd.Timedelta(days=max_age_days))
    out[m["_i"].to_numpy()] = m["rate"].to_numpy(dtype=float)
    return out


@dataclass
class FxLookup:
    rate: pd.Series                # reporting-currency units per unit of the order's currency
    unknown: pd.Series             # the currency has no rates at all
    no_rate: pd.Series             # no rate within max_age_days before the order date
    missing: pd.Series             # for no_rate rows: the currency whose rate is missing


def fx_lookup(orders: pd.DataFrame, fx: pd.DataFrame, reporting_currency: str, max_age_days: int,
              base: str | None = None) -> FxLookup:
    """Rates for every order. ``fx`` is quoted in ``base`` units per unit of currency (default: the
    reporting currency); with another base the rate is the cross rate base(currency) / base(reporting)."""
    base = base or reporting_currency
    cur = orders["currency"].astype("string")
    dates = orders["order_date"]
    fx = fx[["date", "currency", "rate"]].dropna()
    fx = fx[fx["rate"] > 0]
    cats = pd.Index(pd.unique(pd.concat([cur.dropna(), fx["currency"].astype("string"),
                                         pd.Series([base, reporting_currency], dtype="string")])))
    codes = cats.get_indexer(cur.fillna("\x00"))
    fx_codes = cats.get_indexer(fx["currency"].astype("string"))
    fx_dates = fx["date"].to_numpy(dtype="datetime64[ns]")
    fx_rate = fx["rate"].to_numpy(dtype=float)
    rate = pd.Series(np.nan, index=orders.index)
    missing = pd.Series(pd.NA, index=orders.index, dtype="string")
    same = (cur == reporting_currency).fillna(False).to_numpy(dtype=bool)
    rate[same] = 1.0
    known = set(fx["currency"].astype(str).unique()) | {base}
    unknown = (~same & cur.notna().to_numpy() & ~cur.isin(known).fillna(False).to_numpy(dtype=bool))
    need = ~same & ~unknown & cur.notna().to_numpy() & dates.notna().to_numpy()
    if need.any():
        idx = np.flatnonzero(need)
        d = dates.iloc[idx]
        own = (cur.iloc[idx] == base).fillna(False).to_numpy(dtype=bool)
        num = np.where(own, 1.0, _asof(d, codes[idx], fx_dates, fx_codes, fx_rate, max_age_days))
        if base == reporting_currency:
            den = np.ones(len(idx))
        else:
            rc_code = np.full(len(idx), cats.get_loc(reporting_currency))
            den = _asof(d, rc_code, fx_dates, fx_codes, fx_rate, max_age_days)
        rate.iloc[idx] = num / den
        gap = np.isnan(num) | np.isnan(den)
        if gap.any():
            sel = idx[gap]
            missing.iloc[sel] = np.where(np.isnan(num[gap]), cur.iloc[sel].to_numpy(dtype=object),
                                         reporting_currency)
    no_rate = need & rate.isna().to_numpy()
    return FxLookup(rate, pd.Series(unknown, index=orders.index), pd.Series(no_rate, index=orders.index),
                    missing)


def fx_rates_for(orders: pd.DataFrame, fx: pd.DataFrame, reporting_currency: str, max_age_days: int,
                 base: str | None = None):
    """Return ``(rate, unknown_currency_mask, no_rate_mask)`` aligned with ``orders``."""
    r = fx_lookup(orders, fx, reporting_currency, max_age_days, base)
    return r.rate, r.unknown, r.no_rate


def to_reporting(orders: pd.DataFrame, rate: pd.Series, copy: bool = True) -> pd.DataFrame:
    """Add fx_rate, amount_rc, cost_rc and gross_margin_rc (all rounded to the cent); ``copy=False``
    adds them to ``orders`` itself."""
    o = orders.copy() if copy else orders
    o["fx_rate"] = rate
    cost = o["cost_of_goods"].fillna(0) + o["freight_cost"].fillna(0) + o["other_cost"].fillna(0)
    o["amount_rc"] = (o["amount"] * rate).round(2)
    o["cost_rc"] = (cost * rate).round(2)
    o["gross_margin_rc"] = (o["amount_rc"] - o["cost_rc"]).round(2)
    return o


def booked(orders: pd.DataFrame) -> pd.DataFrame:
    """The documents that count in every figure: booked invoices and credit notes (not cancelled,
    open or lost)."""
    return orders[orders["status"] == "booked"]
