"""Money: every amount in the reporting currency at the order date's rate, and gross margin.

The rate for an order is the newest rate on or before its date, at most ``max_age_days`` old. A
currency with no rates at all, or a date with no rate in that window, is never given a silent rate of
1: the row is quarantined with the reason (or, with ``fx.strict: true``, the run stops). Rates may be
quoted against another currency than the reporting one (``base`` in the sources file, e.g. a
Salesforce corporate currency): the rate used is then the cross rate through that base.
Converted amounts are rounded to the cent, as a ledger would book them.

A rate table can be complete and still wrong: quoted the other way round (``invert`` kept on a table that
is already in reporting-currency units turns a ¥1.5M deal into $223.9M), against another currency than
the one declared (``base``), or per 100 units (``scale``). ``fx_plausibility`` compares the rates used
with what the major currencies are roughly worth (``USD_VALUE``) and the converted order sizes of the
other currencies with each other, and names each currency that is off.
"""
from __future__ import annotations

from dataclasses import dataclass, field

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


#: roughly what one unit of a major currency was worth in USD since 2000: (typical, lowest, highest),
#: rounded outward. Only orders of magnitude matter: a rate table that is inverted, quoted against the
#: wrong currency or per 100 units is off by far more than these ranges are wide.
USD_VALUE: dict[str, tuple[float, float, float]] = {
    "USD": (1.0, 1.0, 1.0), "EUR": (1.1, 0.82, 1.6), "GBP": (1.3, 1.03, 2.11), "JPY": (0.0075, 0.0062, 0.0132),
    "CNY": (0.14, 0.12, 0.165), "HKD": (0.128, 0.126, 0.130), "CHF": (1.05, 0.58, 1.3), "CAD": (0.75, 0.62, 1.1),
    "AUD": (0.7, 0.47, 1.1), "NZD": (0.62, 0.39, 0.88), "SGD": (0.74, 0.54, 0.83), "KRW": (0.00075, 0.00062, 0.0011),
    "INR": (0.012, 0.0113, 0.0235), "SEK": (0.1, 0.084, 0.17), "NOK": (0.1, 0.084, 0.19), "DKK": (0.15, 0.11, 0.21),
    "PLN": (0.26, 0.2, 0.36), "CZK": (0.045, 0.024, 0.07), "MXN": (0.055, 0.04, 0.11), "BRL": (0.19, 0.15, 0.66),
    "ZAR": (0.06, 0.05, 0.18), "AED": (0.2723, 0.2720, 0.2726), "SAR": (0.2667, 0.2660, 0.2670),
    "THB": (0.029, 0.022, 0.037), "MYR": (0.23, 0.2, 0.34), "IDR": (0.000065, 0.00006, 0.00012),
    "VND": (0.00004, 0.000038, 0.00007), "PHP": (0.018, 0.016, 0.027), "TWD": (0.032, 0.028, 0.037),
    "ILS": (0.27, 0.2, 0.34),
}
#: how far outside the range of ``USD_VALUE`` a rate may lie before it is called mis-scaled
SCALE_SLACK = 2.0
#: how far outside that range a rate whose inverse is inside it may lie before it is called inverted
#: (1 GBP has not been worth less than 1.03 USD since 2000; an inverted GBP table reads about 0.78)
INVERTED_SLACK = 1.25
#: converted median order sizes this many times apart between currencies are called implausible
SIZE_FACTOR = 100.0


@dataclass
class FxDoubt:
    """One currency whose rates look wrong: ``kind`` is ``inverted``, ``scale`` or ``size``."""
    currency: str
    kind: str
    median_rate: float                        # reporting-currency units per unit, median over its orders
    expected: tuple[float, float] | None      # (low, high) from USD_VALUE (None: judged by order sizes)
    median_order: float = float("nan")        # median converted order (kind "size")
    others_order: float = float("nan")        # median converted order of the other currencies
    example: dict = field(default_factory=dict)   # a big order: {"amount", "amount_rc"}


def expected_rate(currency: str, reporting_currency: str) -> tuple[float, float, float] | None:
    """(typical, low, high) reporting-currency units per unit of ``currency`` from ``USD_VALUE``."""
    if currency not in USD_VALUE or reporting_currency not in USD_VALUE:
        return None
    c, r = USD_VALUE[currency], USD_VALUE[reporting_currency]
    return c[0] / r[0], c[1] / r[2], c[2] / r[1]


def _outside(x: float, lo: float, hi: float) -> float:
    """How many times ``x`` lies outside [lo, hi] (1.0 inside)."""
    return max(lo / x, x / hi, 1.0) if x > 0 else float("inf")


def fx_plausibility(orders: pd.DataFrame, rate: pd.Series, reporting_currency: str, min_orders: int = 5
                    ) -> list[FxDoubt]:
    """The currencies whose rates are implausible, judged on the orders converted with them.

    For the currencies in ``USD_VALUE``, the median rate used is compared with their range since 2000
    (reporting-currency units per unit):

    * ``inverted`` — the whole table reads the other way round: some currencies lie more than
      ``INVERTED_SLACK`` times outside their range while their inverse is inside it (a GBP rate on the
      wrong side of 1, JPY at 149 USD), and none fits as read but not inverted. One setting (``invert``)
      turns the whole table, so the table is judged as a whole;
    * ``scale`` — more than ``SCALE_SLACK`` times outside its range (quoted per 100 units, against
      another base than declared ...).

    For another currency with at least ``min_orders`` invoices, its median converted invoice is compared
    with the other currencies': ``SIZE_FACTOR`` times larger or smaller is ``size``.
    """
    live = rate.notna() & orders["currency"].notna() & (orders["currency"] != reporting_currency)
    if not live.any():
        return []
    o = orders.loc[live, ["currency", "amount", "doc_type"]].assign(rate=rate[live])
    o["amount_rc"] = o["amount"] * o["rate"]
    judged, doubts = {}, []
    for cur, g in o.groupby("currency", sort=True):
        big = g.loc[g["amount"].abs().fillna(-1).idxmax()]
        judged[str(cur)] = (float(g["rate"].median()), {"amount": float(big["amount"]),
                                                         "amount_rc": float(big["amount_rc"])})
    banded = {c: expected_rate(c, reporting_currency) for c in judged}
    banded = {c: e for c, e in banded.items() if e is not None}
    flipped = [c for c, (_, lo, hi) in banded.items()
               if _outside(judged[c][0], lo, hi) > INVERTED_SLACK and _outside(1 / judged[c][0], lo, hi) <= 1.05]
    upright = [c for c, (_, lo, hi) in banded.items()
               if _outside(judged[c][0], lo, hi) <= 1.05 and _outside(1 / judged[c][0], lo, hi) > INVERTED_SLACK]
    inverted = flipped if flipped and not upright else []
    for cur, (med, example) in judged.items():
        if cur in banded:
            _, lo, hi = banded[cur]
            if cur in inverted:
                doubts.append(FxDoubt(cur, "inverted", med, (lo, hi), example=example))
            elif _outside(med, lo, hi) > SCALE_SLACK:
                doubts.append(FxDoubt(cur, "scale", med, (lo, hi), example=example))
            continue
        doubt = _size_doubt(o, orders, cur, med, reporting_currency, min_orders)
        if doubt is not None:
            doubts.append(doubt)
    return doubts


def _size_doubt(o: pd.DataFrame, orders: pd.DataFrame, cur: str, med: float, reporting_currency: str,
                min_orders: int) -> FxDoubt | None:
    """``size`` when the median converted invoice in ``cur`` is ``SIZE_FACTOR`` times off the others'."""
    inv = (o["doc_type"] == "invoice") & (o["amount"] > 0)
    mine = o.loc[inv & (o["currency"] == cur), "amount_rc"]
    same = orders.loc[(orders["currency"] == reporting_currency) & (orders["doc_type"] == "invoice")
                      & (orders["amount"] > 0), "amount"]
    others = pd.concat([o.loc[inv & (o["currency"] != cur), "amount_rc"], same])
    if len(mine) < min_orders or len(others) < min_orders:
        return None
    a, b = float(mine.median()), float(others.median())
    if b > 0 and not 1 / SIZE_FACTOR <= a / b <= SIZE_FACTOR:
        return FxDoubt(cur, "size", med, None, a, b)
    return None
