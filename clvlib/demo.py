"""The demo exporter: a realistic, deterministic export company to run the workbook on.

What it is
----------
A mid-size exporter with about 40 sales reps in 4 regional teams (some hired this year, some who left,
their customers handed over to a replacement), a few service and supply-chain colleagues, ~3,000 B2B
customers in 28 countries and 5 years of invoices in 7 currencies, with costs of goods, freight,
insurance and bank fees, returns (credit notes), cancelled documents, late and unpaid invoices, split
credit, NPS surveys, complaints and the reps' monthly quotas.

FX rates (USD per unit, every business day) are mean-reverting: an Ornstein-Uhlenbeck process on the
log rate around each currency's usual value (``FX_LEVEL``; half-life ``FX_HALF_LIFE`` business days),
so they wander like real rates but stay inside the plausible ranges of ``clvlib.money.USD_VALUE``.

How customers behave
--------------------
Purchases follow the BG/NBD buy-till-you-die process (Fader, Hardie & Lee 2005) with known parameters:
each customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)`` per week while alive and, after each
repeat purchase, drops out with probability ``p ~ Beta(a, b)``. Order values follow the Gamma-Gamma
spend model (``z ~ Gamma(p_gg, nu)``, ``nu ~ Gamma(q, gamma)``). The *population* is exactly this
mixture, so a fit on the demo data must recover the parameters within sampling error.

How reps differ
---------------
Reps follow archetypes, and the archetypes act through two levers that leave the population's purchase
and spend processes untouched (so the fits still recover the true parameters):

* **Who wins which account** (``_assign_reps``). Each new customer is won by one of the team's active
  sales reps, drawn with weight ``WIN_RATE`` x ``AFFINITY``: hunters chase volume (weight 3.5
  against a balanced rep's 1) and are drawn to one-off buyers (high drop-out probability); a farmer's
  weight (1.3) is concentrated on the most loyal customers (low drop-out probability), so farmers win
  most of those and few others -- they spend their time on the accounts they have; balanced reps take
  whatever comes. This is selection: every customer's latent lambda, p and nu are drawn from the
  mixture before the account is won.
* **The first deal** (``FIRST_ORDER``, ``HUNTER_FIRST_MARGIN``). A hunter pushes a stocking order of
  three usual orders, with 10 points more margin (high-margin products) and more returns, late payments
  and complaints; a farmer opens with a trial order of half a usual one. After the first order every
  customer buys their usual Gamma-Gamma amounts, whoever won them (the Gamma-Gamma fit leaves first
  orders out).

The world this makes, on the default company: in the commission era the sales champions are the hunters
-- about 28 new accounts a year each against 8 for a farmer and 15 for a balanced rep, each opened with
a big deal, so they top the revenue ranking (a median 3.0-3.6 million USD over 12 months against 1.8-2.0
million for farmers) -- but their customers drop out, and most of what they add to their books in a year
their earlier accounts lose again: the CLV of a hunter's book grows little (a median 5-10 % a year from
May 2026 on, once the young books have filled). A farmer's accounts stay and keep buying (the trial
order grows into regular orders), so the farmer's revenue is solid but not top while the CLV of the book
grows (a median 14-20 % a year from May 2026 on) -- more per rep than a hunter's in 12 of the last 13
months, on about 60 % of a hunter's revenue. A commission ranking (revenue) and a CLV ranking (CLV
built) of the same team therefore genuinely disagree: at each of the 13 month ends from 2025-10 to
2026-10 the median hunter ranks better by revenue than by CLV built (by 2-8 places) and the median
farmer the other way round (by 4-6 places). Farmers' customers also score a better NPS. The archetypes
and the true parameters are written to ``truth/truth.json`` so tests can check the analysis recovers
them.

The pilot
---------
The default company ran a pilot (``DEMO_PILOT``): from January 2026 (ten months before the October
2026 end) the Europe team's customers drop out after a repeat purchase with half the probability
(``effect`` 0.5: p becomes p * (1 - effect)). ``pilot=None`` (``clvlib demo-data --no-pilot``) builds
the company without it; ``truth.json`` records the pilot (``pilot: {team, switch, effect}``) and
``truth/customers.parquet`` flags the pilot team's customers.

Quotas
------
``quotas.csv`` holds each sales rep's monthly revenue quota in USD for every month employed, set each
January from the rep's credited revenue of the year before plus 10 % growth (``QUOTA_RULE``).

Deliberate defects
------------------
With ``defects=True`` (the default) a handful of realistic bad rows are planted — a typo'd currency, an
exact duplicate export row, a missing date, a split that does not sum to 1, an out-of-range NPS score,
a conflicting duplicate invoice number, an order for an unknown customer — each listed in
``truth.json`` so the data-quality section can be checked against them.

Everything is a pure function of ``seed`` (and size, end date and pilot).

Scale
-----
``clvlib demo-data --customers 1000000`` (about 6 million order rows) takes well under a minute and
under 3 GB: customers, reps and codes travel as integer arrays, sorts are single stable sorts of one
integer or float key, text columns are built once with pyarrow, and :func:`write_csv` formats and
writes each table in chunks of ``CSV_CHUNK_ROWS`` rows on two threads (``bench/bench_demo.py``).
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvlib.errors import ParamsError

DEMO_END = date(2026, 10, 31)
DEMO_YEARS = 5
FILES = ("orders", "order_splits", "customers", "reps", "ownership", "nps", "complaints", "fx_rates", "quotas")

# team -> {country: invoicing currency}
TEAMS: dict[str, dict[str, str]] = {
    "Europe": {"DE": "EUR", "FR": "EUR", "IT": "EUR", "ES": "EUR", "NL": "EUR", "PL": "EUR",
               "SE": "EUR", "GB": "GBP"},
    "Americas": {"US": "USD", "CA": "CAD", "MX": "USD", "BR": "USD", "CL": "USD", "CO": "USD"},
    "Asia-Pacific": {"JP": "JPY", "KR": "USD", "AU": "AUD", "SG": "USD", "VN": "USD", "TH": "USD",
                     "IN": "USD", "MY": "USD"},
    "Middle East & Africa": {"AE": "AED", "SA": "USD", "TR": "USD", "EG": "USD", "ZA": "USD",
                             "NG": "USD"},
}
COUNTRY_WEIGHT = {"DE": 9, "FR": 6, "IT": 5, "ES": 5, "NL": 4, "PL": 3, "SE": 2, "GB": 7, "US": 14,
                  "CA": 4, "MX": 4, "BR": 4, "CL": 2, "CO": 2, "JP": 5, "KR": 3, "AU": 5, "SG": 2,
                  "VN": 3, "TH": 2, "IN": 4, "MY": 2, "AE": 4, "SA": 3, "TR": 3, "EG": 2, "ZA": 2,
                  "NG": 2}
# FX: the reporting-currency (USD) value of one unit on the first business day (FX_START) reverts to
# the currency's typical value (FX_LEVEL) -- an Ornstein-Uhlenbeck (AR(1)) process on the log rate with a
# half-life of FX_HALF_LIFE business days and daily shocks of FX_VOL; AED is pegged. Stationary spread
# FX_VOL / sqrt(1 - phi^2), about 4-6 %: every path stays inside clvlib.money.USD_VALUE's range.
FX_START = {"EUR": 1.13, "GBP": 1.36, "JPY": 0.0088, "AUD": 0.74, "CAD": 0.79, "AED": 0.27229}
FX_LEVEL = {"EUR": 1.10, "GBP": 1.30, "JPY": 0.0078, "AUD": 0.70, "CAD": 0.75, "AED": 0.27229}
FX_VOL = {"EUR": 0.005, "GBP": 0.005, "JPY": 0.005, "AUD": 0.006, "CAD": 0.004, "AED": 0.0}
FX_HALF_LIFE = 130
INDUSTRIES = ("Building materials", "Auto parts", "Furniture", "Home appliances", "Textiles",
              "Industrial machinery", "Electronics components", "Packaging", "Medical supplies",
              "Lighting", "Hardware & tools", "Chemicals")
NAME_A = ("Nord", "Atlas", "Blue", "Prime", "Golden", "Pacific", "Iron", "Green", "Summit", "Delta",
          "Star", "Royal", "Alpha", "Crown", "Silver", "Ocean", "Eagle", "Metro", "Union", "Vista")
NAME_B = ("Trading", "Imports", "Supply", "Industries", "Distribution", "Group", "Solutions",
          "Partners", "Retail", "Engineering", "Wholesale", "Logistics")
SUFFIX = {"DE": "GmbH", "FR": "SARL", "IT": "S.r.l.", "ES": "S.L.", "NL": "B.V.", "PL": "Sp. z o.o.",
          "SE": "AB", "GB": "Ltd", "US": "Inc.", "CA": "Inc.", "MX": "S.A. de C.V.", "BR": "Ltda",
          "CL": "SpA", "CO": "S.A.S.", "JP": "K.K.", "KR": "Co., Ltd.", "AU": "Pty Ltd", "SG": "Pte Ltd",
          "VN": "JSC", "TH": "Co., Ltd.", "IN": "Pvt Ltd", "MY": "Sdn Bhd", "AE": "LLC", "SA": "Co.",
          "TR": "A.S.", "EG": "S.A.E.", "ZA": "(Pty) Ltd", "NG": "Ltd"}
# Chinese export sales staff usually work under an English given name
GIVEN = ("Alice", "Kevin", "Jason", "Cindy", "Tony", "Vivian", "Eric", "Grace", "Leo", "Sunny", "Jack",
         "Linda", "Peter", "Helen", "Frank", "Coco", "David", "Amy", "Steven", "Nancy", "Bruce", "Iris",
         "Ryan", "Judy", "Sam", "Echo", "Mike", "Lily", "Ken", "Rita")
LAST = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
        "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo")
TERMS = {"T/T 30": 30, "T/T 60": 60, "L/C at sight": 10, "D/P at sight": 20, "OA 90": 90}
ARCHETYPES = ("hunter", "farmer", "balanced")
#: The default demo company's pilot: one team of four retains its customers better from PILOT_MONTHS
#: months before the end on (switch None = that month; January 2026 for the October 2026 end).
DEMO_PILOT = MappingProxyType({"team": "Europe", "switch": None, "effect": 0.5})
PILOT_MONTHS = 10


@dataclass
class DemoTruth:
    """The generator's ground truth, written to ``truth/truth.json``."""

    seed: int
    n_customers: int
    start: str
    end: str
    time_unit: str = "W"
    bgnbd: dict = field(default_factory=lambda: {"r": 0.8, "alpha": 10.0, "a": 0.6, "b": 3.0})
    gamma_gamma: dict = field(default_factory=lambda: {"p": 4.0, "q": 5.0, "gamma": 15000.0})
    gamma_gamma_note: str = ("Gamma-Gamma describes the USD revenue of each purchase occasion (the sum of "
                             "its invoices, before returns) after the first. A customer's first order is "
                             "scaled on purpose by the acquiring rep's archetype (archetype_levers."
                             "first_order); first orders are not used by the Gamma-Gamma fit.")
    rep_archetypes: dict = field(default_factory=dict)
    archetype_levers: dict = field(default_factory=dict)
    archetype_note: str = ""
    defects: list = field(default_factory=list)
    n_occasions: int = 0
    pilot: dict | None = None
    pilot_note: str = ("From the pilot's switch month on, the pilot team's customers (every owner of a "
                       "customer is in the customer's team) drop out after a repeat purchase with "
                       "probability p * (1 - effect) instead of p; BG/NBD's parameters describe everyone "
                       "else, and the pilot team before the switch.")
    quota_note: str = ""


def _resolve_pilot(pilot, start: pd.Timestamp, end: pd.Timestamp) -> dict | None:
    """The pilot checked, with its switch month (``YYYY-MM``) and first day (``switch_date``)."""
    if pilot is None:
        return None
    unknown = set(pilot) - {"team", "switch", "effect"}
    if unknown:
        raise ParamsError(f"demo-data: the pilot has unknown key(s) {', '.join(sorted(unknown))} "
                       "(it takes team, switch, effect)")
    team = pilot.get("team")
    if team not in TEAMS:
        raise ParamsError(f"demo-data: the pilot team must be one of {', '.join(TEAMS)}; got {team!r}")
    effect = pilot.get("effect", DEMO_PILOT["effect"])
    if isinstance(effect, bool) or not isinstance(effect, (int, float)) or not 0 <= effect < 1:
        raise ParamsError(f"demo-data: the pilot effect must be a number in [0, 1) (the share of drop-out "
                       f"it removes); got {effect!r}")
    switch = pilot.get("switch")
    if switch is None:
        month = end.to_period("M") - (PILOT_MONTHS - 1)
    else:
        if not re.fullmatch(r"\d{4}-\d{2}", str(switch)) or not 1 <= int(str(switch)[5:]) <= 12:
            raise ParamsError(f"demo-data: the pilot switch must be a month YYYY-MM; got {switch!r}")
        month = pd.Period(str(switch), freq="M")
        if not start.to_period("M") < month <= end.to_period("M"):
            raise ParamsError(f"demo-data: the pilot switch {month} must be after the first month "
                           f"({start.to_period('M')}) and not after the last ({end.to_period('M')})")
    return {"team": team, "switch": str(month), "effect": float(effect), "switch_date": month.to_timestamp()}


def _reps(rng, n_customers: int, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    per_team = int(np.clip(round(9 * n_customers / 3000), 2, 100))
    rows: list[dict] = []

    def add(team, hire, archetype=None, role="sales", replaces=None):
        rows.append({"team": team, "hire_date": hire, "leave_date": pd.NaT, "role": role,
                     "archetype": archetype if role == "sales" else None, "replaces": replaces})

    days = (end - start).days
    for team in TEAMS:
        for _ in range(per_team):
            add(team, start - pd.Timedelta(days=int(rng.integers(120, 3650))),
                ARCHETYPES[int(rng.choice(3, p=[0.33, 0.40, 0.27]))])
        add(team, start - pd.Timedelta(days=int(rng.integers(200, 2000))), role="service")
        add(team, start - pd.Timedelta(days=int(rng.integers(200, 2000))), role="supply_chain")
    # leavers: about one in seven base reps, spread over the five years, at least one this year;
    # each is replaced by a new hire in the same team who takes over the accounts
    sales = [i for i, r in enumerate(rows) if r["role"] == "sales"]
    n_leave = max(2, len(sales) // 7)
    leavers = rng.choice(sales, n_leave, replace=False)
    leave_days = np.sort(rng.integers(200, days - 30, n_leave))
    leave_days[-1] = max(leave_days[-1], (pd.Timestamp(end.year, 1, 1) - start).days + 60)
    for idx, d in zip(leavers, leave_days):
        leave = start + pd.Timedelta(days=int(d))
        rows[idx]["leave_date"] = leave
        add(rows[idx]["team"], leave - pd.Timedelta(days=int(rng.integers(10, 40))),
            ARCHETYPES[int(rng.integers(0, 3))], replaces=int(idx))
    # growth hires this year
    year_start = pd.Timestamp(end.year, 1, 1)
    n_growth = max(2, per_team // 3)
    for team in rng.choice(list(TEAMS), n_growth, replace=n_growth > len(TEAMS)):
        add(team, year_start + pd.Timedelta(days=int(rng.integers(0, (end - year_start).days - 60))),
            ARCHETYPES[int(rng.integers(0, 3))])
    reps = pd.DataFrame(rows)
    n = len(reps)
    width = max(3, len(str(n)))
    reps.insert(0, "rep_id", [f"R{i:0{width}d}" for i in range(1, n + 1)])
    pairs = [f"{g} {s}" for g in GIVEN for s in LAST]
    reps.insert(1, "name", np.asarray(pairs, dtype=object)[rng.choice(len(pairs), n, replace=n > len(pairs))])
    reps["replaces"] = [reps.rep_id.iloc[int(r)] if pd.notna(r) else None for r in reps["replaces"]]
    reps["hire_date"] = pd.to_datetime(reps["hire_date"])
    reps["leave_date"] = pd.to_datetime(reps["leave_date"])
    return reps


def _fx(rng, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Daily rates (business days) of every currency: USD per unit, mean-reverting on the log scale.

    ``log rate[t] - mu = phi * (log rate[t-1] - mu) + FX_VOL * e[t]`` with ``mu = log FX_LEVEL``,
    ``phi = 0.5 ** (1 / FX_HALF_LIFE)``, ``e ~ N(0, 1)`` and ``log rate[-1] = log FX_START``: the
    discrete Ornstein-Uhlenbeck process. A random walk would drift anywhere in five years (GBP to
    0.80 USD, where an inverted table would put it); this one stays near each currency's usual value.
    """
    days = pd.bdate_range(start - pd.Timedelta(days=10), end)
    phi = 0.5 ** (1.0 / FX_HALF_LIFE)
    out = []
    for cur, base in FX_START.items():
        steps = rng.normal(0.0, FX_VOL[cur], len(days))
        mu = np.log(FX_LEVEL[cur])
        gap, last = np.empty(len(days)), np.log(base) - mu
        for t, step in enumerate(steps.tolist()):       # ~1,300 business days: a plain loop is fine
            last = phi * last + step
            gap[t] = last
        out.append(pd.DataFrame({"date": days, "currency": cur, "rate": np.round(np.exp(mu + gap), 6)}))
    return pd.concat(out, ignore_index=True)


# ------------------------------------------------------------------ vectorised text
def _text(values: pa.Array) -> pd.Series:
    """An arrow string array as a pandas string column (no Python object per value)."""
    return values.to_pandas()


def _take(labels, codes) -> pa.Array:
    """``labels[codes]`` as an arrow string array; a negative code is a missing value."""
    codes = np.asarray(codes)
    return pa.array(np.asarray(labels, dtype=object), from_pandas=True).take(pa.array(codes, mask=codes < 0))


def _numbered(prefix, numbers, width: int) -> pa.Array:
    """``prefix`` (a string or an array of strings) followed by the numbers zero-padded to ``width``."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _days(n) -> np.ndarray:
    """Whole days as timedelta64[ns] (``n`` integral)."""
    return np.asarray(n, dtype=np.int64) * np.timedelta64(1, "D").astype("timedelta64[ns]")


def _day_numbers(dates) -> np.ndarray:
    """Days since 1970-01-01 of datetime64 values, as int32."""
    return np.asarray(dates).astype("datetime64[D]").astype(np.int64).astype(np.int32)


def _ranges(starts, counts) -> np.ndarray:
    """The concatenated ranges ``starts[i] .. starts[i] + counts[i] - 1``."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return np.arange(total) + offsets


# ------------------------------------------------------------------ the steps of generate
#: How reps win accounts (see "How reps differ" in the module docstring). WIN_RATE: the scale of the
#: weight with which a rep of the archetype wins a new account (balanced = 1). AFFINITY: how strongly the
#: archetype is drawn to customers by their latent drop-out probability p, through its quantile u in
#: Beta(a, b) (u near 0: loyal, u near 1: a one-off buyer): a hunter wins a customer at u with weight
#: (k + 1) u^k, a farmer with (k + 1) (1 - u)^k (both average 1 over the population), balanced 1.
WIN_RATE = MappingProxyType({"hunter": 3.5, "farmer": 1.3, "balanced": 1.0})
AFFINITY = MappingProxyType({"hunter": 3.0, "farmer": 10.0})
#: The first order of an account, times the customer's usual order (Gamma-Gamma draw): hunters push a
#: big stocking order, farmers open with a trial order. The Gamma-Gamma fit leaves first orders out.
FIRST_ORDER = MappingProxyType({"hunter": 3.0, "farmer": 0.5, "balanced": 1.0})
#: hunters' first deals carry this much more gross margin (high-margin products pushed)
HUNTER_FIRST_MARGIN = 0.10
ARCHETYPE_RULE = (
    "Each new customer is won by one of its team's active sales reps, drawn with weight win_rate x affinity: "
    "win_rate is 3.5 for a hunter, 1.3 for a farmer and 1 for a balanced rep, and the affinity follows the "
    "customer's latent drop-out probability p through its quantile u (u near 0: loyal, near 1: a one-off "
    "buyer): (k + 1) u^k for a hunter (k = 3), (k + 1) (1 - u)^k for a farmer (k = 10), 1 for a balanced rep. "
    "So hunters win the most accounts, mostly one-off buyers, and farmers win few accounts, mostly the most "
    "loyal customers (on the default company, in the last 12 months, about 28 new accounts per hunter, 8 per "
    "farmer and 15 per balanced rep). A hunter's first deal is three usual "
    "orders with 10 points more margin, a farmer's a trial order of half a usual one; after the first order "
    "every customer buys their usual amounts. The customers' latent behaviour is drawn from the BG/NBD and "
    "Gamma-Gamma mixtures before they are won, so the population is unchanged. In the commission era the "
    "hunters top revenue but their customers drop out and the CLV of their books grows little; farmers' "
    "revenue is solid but not top while the CLV of their books grows: hunters rank better by revenue than by "
    "CLV built, farmers the other way round.")


def _win_weights(u: np.ndarray, archetype: np.ndarray) -> np.ndarray:
    """Weight of each (customer, rep) pair: ``WIN_RATE`` x the archetype's ``AFFINITY`` for the
    customers' drop-out quantiles ``u`` (column) and the reps' archetypes (row)."""
    kh, kf = AFFINITY["hunter"], AFFINITY["farmer"]
    return np.where(archetype == "hunter", WIN_RATE["hunter"] * (kh + 1) * u ** kh,
                    np.where(archetype == "farmer", WIN_RATE["farmer"] * (kf + 1) * (1 - u) ** kf,
                             WIN_RATE["balanced"]))


def _assign_reps(rng, cust: pd.DataFrame, reps: pd.DataFrame, bg: dict) -> np.ndarray:
    """Which rep wins each new account: among the team's sales reps active in the month of the first
    order, one drawn with probability proportional to ``_win_weights`` (archetype x the customer's
    latent drop-out probability). Selection only: the population of customers stays the BG/NBD mixture.

    Returns each customer's rep as a position in ``reps``.
    """
    from scipy.stats import beta

    owner = np.zeros(len(cust), dtype=np.int64)
    sales = reps[reps.role == "sales"]
    month = cust["first_date"].dt.to_period("M")
    u = beta.cdf(cust["p_true"].to_numpy(), bg["a"], bg["b"])
    for (team, m), idx in cust.groupby([cust["team"], month]).indices.items():
        day = m.to_timestamp(how="end")
        active = sales[(sales.team == team) & (sales.hire_date <= day - pd.Timedelta(days=14))
                       & (sales.leave_date.isna() | (sales.leave_date > day))]
        if active.empty:
            active = sales[sales.team == team]
        w = _win_weights(u[idx][:, None], active["archetype"].to_numpy()[None, :])
        w = w / w.sum(axis=1, keepdims=True)
        r = rng.random(len(idx))[:, None]
        choice = (w.cumsum(axis=1) < r).sum(axis=1)
        owner[idx] = active.index.to_numpy()[np.minimum(choice, len(active) - 1)]
    return owner


def _team_mates(rng, sales: pd.DataFrame, team, exclude, day, active: bool = False) -> np.ndarray:
    """For each row, a random colleague in ``team`` (not the rep at position ``exclude``) already hired on
    ``day`` (and, with ``active``, not yet gone), as a position in the reps table; -1 when there is none.
    Vectorised per team."""
    out = np.full(len(team), -1, dtype=np.int64)
    day = np.asarray(day, dtype="datetime64[ns]")
    team = np.asarray(team).astype(str)
    for t in np.unique(team):
        rows = np.flatnonzero(team == t)
        cand = sales[sales.team == t]
        if not len(rows) or cand.empty:
            continue
        ids = cand.index.to_numpy()
        hired = cand.hire_date.to_numpy()[None, :] <= day[rows][:, None]
        ok = hired & (ids[None, :] != np.asarray(exclude)[rows][:, None])
        if active:
            leave = cand.leave_date.to_numpy()
            ok &= pd.isna(leave)[None, :] | (leave[None, :] > day[rows][:, None])
        pick = np.where(ok, rng.random(ok.shape), -1.0).argmax(axis=1)
        has = ok.any(axis=1)
        out[rows[has]] = ids[pick[has]]
    return out


def _sorted_within(group, values, bound):
    """``values`` sorted within each ``group`` (``group`` non-decreasing, ``0 <= values < bound``), as
    ``np.lexsort((values, group))`` would, but with one stable sort of the float key group + value /
    bound (fast); where rounding in that key would misorder two values, the lexsort is used.
    Returns ``(values, group)`` in that order."""
    order = np.argsort(group + values / bound, kind="stable")
    g, v = group[order], values[order]
    if (np.diff(g) < 0).any() or ((np.diff(v) < 0) & (g[1:] == g[:-1])).any():
        order = np.lexsort((values, group))
        g, v = group[order], values[order]
    return v, g


def _simulate_occasions(rng, cust: pd.DataFrame, bg: dict, pilot: dict | None = None) -> pd.DataFrame:
    """Repeat purchase times under BG/NBD, vectorised; returns one row per occasion (by customer, in
    time order: ``cust`` position, ``t_weeks`` since the first purchase, ``occasion`` 0, 1, ...).

    With a ``pilot``, the pilot team's customers drop out after a repeat purchase made on or after the
    switch with probability ``p * (1 - effect)`` instead of ``p``. Drop-out is memoryless, so a
    customer who survived every purchase before the switch needs ``Geometric(p * (1 - effect))``
    further purchases to drop out.
    """
    n = len(cust)
    T = cust["T_weeks"].to_numpy()
    lam = cust["lam_true"].to_numpy()
    p = cust["p_true"].to_numpy()
    m = rng.poisson(lam * T)                       # Poisson events in (0, T] if never dying
    n_until_death = rng.geometric(p)               # repeat purchase after which the customer drops out
    owner_idx = np.repeat(np.arange(n), m)
    times = rng.random(m.sum()) * np.repeat(T, m)
    times, owner_idx = _sorted_within(owner_idx, times, np.repeat(T, m))
    if pilot is not None:
        in_pilot = (cust["team"] == pilot["team"]).to_numpy()
        switch_weeks = (pilot["switch_date"] - cust["first_date"]).dt.days.to_numpy() / 7.0
        n_before = np.bincount(owner_idx, weights=times < switch_weeks[owner_idx], minlength=n).astype(np.int64)
        later = np.flatnonzero(in_pilot & (n_until_death > n_before))     # alive at the switch
        n_until_death[later] = n_before[later] + rng.geometric(p[later] * (1.0 - pilot["effect"]))
    k = np.minimum(m, n_until_death)
    cust["died"] = n_until_death <= m
    starts = np.repeat(np.cumsum(m) - m, m)
    keep = (np.arange(len(times)) - starts) < np.repeat(k, m)
    del starts, owner_idx
    # one row per occasion: each customer's first (t = 0), then the repeats kept, in time order
    n_occ = 1 + k
    first_pos = np.cumsum(n_occ) - n_occ
    occasion = np.arange(int(n_occ.sum())) - np.repeat(first_pos, n_occ)
    t = np.zeros(len(occasion))
    t[occasion > 0] = times[keep]
    # death time: right after the last repeat purchase for those who died in the window
    cust["death_weeks"] = np.where(cust["died"], t[first_pos + k], np.nan)
    return pd.DataFrame({"cust": np.repeat(np.arange(n, dtype=np.int32), n_occ), "t_weeks": t,
                         "occasion": occasion.astype(np.int32)}, copy=False)


def generate(seed: int = 42, n_customers: int = 3000, end: date | str = DEMO_END, years: int = DEMO_YEARS,
             defects: bool = True, pilot: dict | None = DEMO_PILOT
             ) -> tuple[dict[str, pd.DataFrame], DemoTruth, pd.DataFrame]:
    """Build the demo company in memory.

    Returns ``(tables, truth, truth_customers)``: the canonical tables (as the export files will hold
    them; dates as datetime64), the ground truth, and per-customer latent values (lambda, p, nu, died,
    pilot).

    ``pilot`` is ``None`` (no pilot) or ``{"team": ..., "switch": "YYYY-MM", "effect": ...}``: from
    the switch month on, the team's customers drop out less (see :func:`_simulate_occasions`). A
    missing ``switch`` is ``PILOT_MONTHS`` months before the end (the default pilot, ``DEMO_PILOT``:
    Europe from January 2026 for the October 2026 end, effect 0.5 -- it halves the drop-out, which
    over ten months lifts the team's repeat purchases by about 7 %, some 10 % in the last months).

    The steps below draw from one random generator in a fixed order, so the company is a pure
    function of the arguments. Customers and reps are carried as integer positions and the text
    columns are built once at the end, so a million customers (six million orders) fit in a few GB.
    """
    if n_customers < 50:
        raise ParamsError(f"demo-data needs at least 50 customers, got {n_customers}")
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end)
    start = pd.Timestamp(end.year - years, end.month, 1) + pd.offsets.MonthBegin(1)
    truth = DemoTruth(seed=seed, n_customers=n_customers, start=str(start.date()), end=str(end.date()))
    pilot = _resolve_pilot(pilot, start, end)
    truth.pilot = None if pilot is None else {k: pilot[k] for k in ("team", "switch", "effect")}
    reps = _reps(rng, n_customers, start, end)
    fx = _fx(rng, start, end)
    cust = _customers(rng, n_customers, start, end, reps, truth)
    occ = _purchases(rng, cust, end, truth, pilot)
    ownership, occ_rep, co_rep = _ownership(rng, cust, reps, occ)
    inv = _invoices(rng, cust, occ, occ_rep, end)
    del occ, occ_rep
    docs, order_ids, original = _documents(inv, _credit_notes(rng, inv, end), _cancelled(rng, inv))
    del inv
    splits = _order_splits(rng, docs, reps, co_rep)
    order_splits = pd.DataFrame({"order_id": _text(order_ids.take(pa.array(splits["row"]))),
                                 "rep_id": _text(_take(reps["rep_id"], splits["rep"])), "share": splits["share"]})
    quotas = _quotas(reps, docs, splits, start, end)
    customers = _customers_table(rng, cust)
    nps = _nps(rng, cust, start, end)
    complaints = _complaints(rng, docs, cust, order_ids, end)
    # the orders export: the documents, with a duplicated and a conflicting row planted among them
    picks, rows = _defect_rows(rng, docs) if defects else (None, np.arange(len(docs)))
    orders = _orders_table(docs, order_ids, original, cust, reps, fx, rows)
    del docs, order_ids, original

    truth.rep_archetypes = {r.rep_id: r.archetype for r in reps.itertuples() if r.role == "sales"}
    truth.quota_note = QUOTA_RULE
    truth.archetype_note = ARCHETYPE_RULE
    truth.archetype_levers = {"win_rate": dict(WIN_RATE), "affinity": dict(AFFINITY),
                              "first_order": dict(FIRST_ORDER), "hunter_first_margin": HUNTER_FIRST_MARGIN}
    tables = {"orders": orders, "order_splits": order_splits, "customers": customers,
              "reps": reps[["rep_id", "name", "team", "hire_date", "leave_date", "role"]].astype(
                  {"hire_date": "datetime64[ns]", "leave_date": "datetime64[ns]"}),
              "ownership": _ownership_table(ownership, cust, reps), "nps": nps, "complaints": complaints,
              "fx_rates": fx.astype({"date": "datetime64[ns]"}), "quotas": quotas}
    if defects:
        tables, truth.defects = _plant_defects(rng, tables, picks, rows)
    truth_customers = cust[["customer_id", "country", "team", "first_date", "T_weeks", "lam_true", "p_true",
                            "nu_true", "died", "death_weeks", "acq_rep", "acq_arch", "pilot"]].copy()
    return tables, truth, truth_customers


def _customers(rng, n_customers, start, end, reps, truth) -> pd.DataFrame:
    """Arrival (more later: the company grows), country and team, latent behaviour and acquiring rep
    (``rep``: its position in ``reps``)."""
    bg, gg = truth.bgnbd, truth.gamma_gamma
    span = (end - start).days
    countries = np.array(list(COUNTRY_WEIGHT))
    w = np.array([COUNTRY_WEIGHT[c] for c in countries], float)
    country_idx = rng.choice(len(countries), n_customers, p=w / w.sum())
    team_of = {c: t for t, cs in TEAMS.items() for c in cs}
    g = 0.8                                                   # arrival density ~ 1 + g * t / span
    u = rng.random(n_customers)
    arrive = span * (-1 + np.sqrt(1 + g * (2 + g) * u)) / g * (span - 7) / span
    first_date = start.to_datetime64().astype("datetime64[ns]") + _days(np.floor(arrive))
    cust = pd.DataFrame({
        "customer_id": _text(_numbered("C", np.arange(1, n_customers + 1), 5 if n_customers < 100000 else 7)),
        "country": _text(_take(countries, country_idx)),
        "team": _text(_take([team_of[c] for c in countries], country_idx)),
        "first_date": first_date,
    })
    cust["country_idx"] = country_idx
    cust["T_weeks"] = ((end.to_datetime64() - first_date) / np.timedelta64(1, "D") + 1
                       - rng.random(n_customers)) / 7.0
    cust["lam_true"] = rng.gamma(bg["r"], 1.0 / bg["alpha"], n_customers)
    cust["p_true"] = rng.beta(bg["a"], bg["b"], n_customers)
    cust["nu_true"] = rng.gamma(gg["q"], 1.0 / gg["gamma"], n_customers)
    cust["rep"] = _assign_reps(rng, cust, reps, bg)
    cust["acq_rep"] = _text(_take(reps["rep_id"], cust["rep"]))
    cust["acq_arch"] = _text(_take(reps["archetype"], cust["rep"]))
    cust["hunter"] = (cust["acq_arch"] == "hunter").to_numpy()
    return cust


def _purchases(rng, cust, end, truth, pilot) -> pd.DataFrame:
    """Purchase occasions up to ``end`` with their date and USD value (Gamma-Gamma; each account's first
    order times ``FIRST_ORDER`` of the acquiring rep's archetype)."""
    gg = truth.gamma_gamma
    occ = _simulate_occasions(rng, cust, truth.bgnbd, pilot)
    cust["pilot"] = False if pilot is None else (cust["team"] == pilot["team"]).to_numpy()
    truth.n_occasions = int(len(occ))
    c_idx = occ["cust"].to_numpy()
    occ["date"] = cust["first_date"].to_numpy()[c_idx] + _days(np.floor(occ["t_weeks"].to_numpy() * 7))
    occ = occ[(occ["date"] <= end).to_numpy()].reset_index(drop=True)
    c_idx = occ["cust"].to_numpy()
    value = rng.gamma(gg["p"], 1.0 / cust["nu_true"].to_numpy()[c_idx])
    first = np.flatnonzero(occ["occasion"].to_numpy() == 0)
    factor = cust["acq_arch"].map(dict(FIRST_ORDER)).to_numpy(dtype=float)
    value[first] *= factor[c_idx[first]]
    occ["value_usd"] = np.round(value, 2)
    return occ


def _ownership(rng, cust, reps, occ):
    """Ownership over time -- the acquiring rep, handed over when a rep leaves; some key accounts
    co-owned 50/50 with a team mate -- and the rep who booked each occasion (positions in ``reps``).

    Returns ``(ownership, occasion rep, {customer position: co-owner})``; ``ownership`` has ``cust``
    and ``rep`` positions, ``valid_from``, ``valid_to``, ``share``.
    """
    n_customers = len(cust)
    c_idx = occ["cust"].to_numpy()
    first_date = cust["first_date"].to_numpy()
    owner_now = cust["rep"].to_numpy().copy()
    pieces = [(np.arange(n_customers), owner_now.copy(), first_date)]
    occ_rep = owner_now[c_idx]
    occ_dates = occ["date"].to_numpy()
    counts = np.bincount(c_idx, minlength=n_customers)
    starts = np.cumsum(counts) - counts                    # occasions are sorted by customer
    leavers = reps[reps.leave_date.notna() & (reps.role == "sales")].sort_values("leave_date")
    handed = np.zeros(n_customers, bool)
    for pos, lv in leavers.iterrows():
        repl = reps.index[reps["replaces"] == lv.rep_id]
        moved = np.flatnonzero((owner_now == pos) & (first_date <= lv.leave_date.to_datetime64()))
        if not len(repl) or not len(moved):
            continue
        new, when = int(repl[0]), (lv.leave_date + pd.Timedelta(days=1)).to_datetime64()
        owner_now[moved] = new
        handed[moved] = True
        pieces.append((moved, np.full(len(moved), new), np.full(len(moved), when, dtype="datetime64[ns]")))
        idx = _ranges(starts[moved], counts[moved])
        occ_rep[idx[occ_dates[idx] >= when]] = new
    # accounts opened by a rep after they left cannot happen: _assign_reps only picks active reps
    c, r, since = (np.concatenate(x) for x in zip(*pieces))
    order = np.lexsort((since, c))
    c, r, since = c[order], r[order], since[order]
    until = np.full(len(c), np.datetime64("NaT"), dtype="datetime64[ns]")
    same = np.flatnonzero(c[1:] == c[:-1])
    until[same] = since[same + 1] - np.timedelta64(1, "D")
    # key accounts co-owned 50/50 with a team mate (never handed over)
    sales = reps[(reps.role == "sales") & reps.leave_date.isna()]
    co = np.flatnonzero(~handed & (rng.random(n_customers) < 0.02))
    mate = _team_mates(rng, sales, cust["team"].to_numpy()[co], cust["rep"].to_numpy()[co], first_date[co])
    co, mate = co[mate >= 0], mate[mate >= 0]
    share = np.where(np.isin(c, co), 0.5, 1.0)
    c = np.concatenate([c, co])
    order = np.lexsort((np.concatenate([r, mate]), np.concatenate([since, first_date[co]]), c))
    ownership = pd.DataFrame({"cust": c, "rep": np.concatenate([r, mate]),
                              "share": np.concatenate([share, np.full(len(co), 0.5)]),
                              "valid_from": np.concatenate([since, first_date[co]]),
                              "valid_to": np.concatenate([until, np.full(len(co), np.datetime64("NaT"),
                                                                         dtype="datetime64[ns]")])}).iloc[order]
    return ownership.reset_index(drop=True), occ_rep, dict(zip(co, mate))


CURRENCIES = ("USD",) + tuple(FX_START)             # currency codes of the documents, USD first
INCOTERMS = ("FOB", "CIF", "DDP", "EXW")
DOC_KINDS = ("CN", "INV", "SO")                     # order id prefixes, in the order ids sort


def _invoices(rng, cust, occ, occ_rep, end) -> pd.DataFrame:
    """One invoice per occasion (5% shipped in two): currency, margin, costs, incoterm, payment terms,
    invoice number and payment (mostly on time, some late, a few never -- more among hunters' accounts).

    Text columns are codes: ``currency`` into ``CURRENCIES``, ``incoterm`` into ``INCOTERMS``,
    ``terms`` into ``TERMS``, ``rep`` a position in the reps table. Sorted by date (then customer and
    occasion) and numbered in that order.
    """
    n_customers = len(cust)
    split = rng.random(len(occ)) < 0.05
    occ_of_inv = np.repeat(np.arange(len(occ), dtype=np.int32), np.where(split, 2, 1))
    inv_c = occ["cust"].to_numpy()[occ_of_inv]
    occasion = occ["occasion"].to_numpy()[occ_of_inv]
    date = occ["date"].to_numpy()[occ_of_inv]
    second = np.r_[False, occ_of_inv[1:] == occ_of_inv[:-1]]
    part = np.where(split[occ_of_inv], np.where(second, 0.4, 0.6), 1.0)
    usd = np.round(occ["value_usd"].to_numpy()[occ_of_inv] * part, 2)
    rep = occ_rep[occ_of_inv].astype(np.int32)
    del occ_of_inv, second, part
    # invoicing currency: the country's, but some customers in EUR countries invoice in USD (their choice)
    cur_of = {c: cu for cs in TEAMS.values() for c, cu in cs.items()}
    country_cur = np.array([CURRENCIES.index(cur_of[c]) for c in COUNTRY_WEIGHT], dtype=np.int8)
    usd_pref = rng.random(n_customers) < 0.15
    currency = np.where(usd_pref, 0, country_cur[cust["country_idx"].to_numpy()]).astype(np.int8)[inv_c]
    hunter_acct = cust["hunter"].to_numpy()[inv_c]
    margin = rng.normal(0.23, 0.05, len(usd))
    margin += np.where((occasion == 0) & hunter_acct, HUNTER_FIRST_MARGIN, 0.0)
    np.clip(margin, 0.04, 0.55, out=margin)
    incoterm = rng.choice(4, n_customers, p=[0.45, 0.35, 0.1, 0.1]).astype(np.int8)[inv_c]
    freight_rate = np.where(incoterm == 1, rng.uniform(0.03, 0.06, len(usd)),
                            np.where(incoterm == 2, rng.uniform(0.07, 0.11, len(usd)), 0.0))
    terms = rng.choice(len(TERMS), n_customers, p=[0.4, 0.2, 0.15, 0.1, 0.15]).astype(np.int8)[inv_c]
    bank_fee = np.where(terms == list(TERMS).index("L/C at sight"), usd * 0.004 + 80, 35.0)
    insurance = np.where((incoterm == 1) | (incoterm == 2), usd * 0.003, 0.0)
    cols = {"cust": inv_c, "date": date, "usd": usd, "rep": rep, "currency": currency,
            "cogs_usd": np.round(usd * (1 - margin - freight_rate), 2), "freight_usd": np.round(usd * freight_rate, 2),
            "other_usd": np.round(insurance + bank_fee, 2), "incoterm": incoterm, "terms": terms,
            "hunter_acct": hunter_acct}
    del margin, freight_rate, bank_fee, insurance, usd, rep, currency, incoterm, terms, hunter_acct
    # by date, then customer and occasion: the occasions (so the invoices) are already in that order
    order = np.argsort(_day_numbers(date), kind="stable")
    del occasion, inv_c, date
    inv = pd.DataFrame({k: cols.pop(k)[order] for k in list(cols)}, copy=False)   # no block consolidation
    del order
    n = len(inv)
    inv["kind"] = np.int8(DOC_KINDS.index("INV"))
    inv["number"] = np.arange(1, n + 1, dtype=np.int32)
    inv["cancelled"] = False
    due = inv["date"].to_numpy() + _days(np.array(list(TERMS.values()))[inv["terms"].to_numpy()])
    inv["due_date"] = due
    r = rng.random(n)
    hunter_acct = inv["hunter_acct"].to_numpy()
    unpaid_p = np.where(hunter_acct, 0.035, 0.01)
    late = np.where(r < unpaid_p, np.nan,
                    np.where(r < unpaid_p + np.where(hunter_acct, 0.35, 0.18), rng.integers(1, 90, n),
                             -rng.integers(0, 6, n)))
    paid = due + _days(np.nan_to_num(late))
    paid[np.isnan(late) | (paid > end.to_datetime64())] = np.datetime64("NaT")
    inv["paid_date"] = paid
    return inv


def _credit_notes(rng, inv, end) -> pd.DataFrame:
    """Returns: credit notes 10-90 days after the invoice for part of the goods (more for hunters).
    ``orig`` is the row of the invoice in ``inv``."""
    ret = np.flatnonzero(rng.random(len(inv)) < np.where(inv["hunter_acct"].to_numpy(), 0.07, 0.02))
    frac = rng.uniform(0.1, 1.0, len(ret))
    date = inv["date"].to_numpy()[ret] + _days(rng.integers(10, 90, len(ret)))
    kept = date <= end.to_datetime64()
    cn = inv.take(ret[kept]).reset_index(drop=True)
    cn["orig"] = ret[kept]
    cn["date"] = date[kept]
    cn["kind"] = np.int8(DOC_KINDS.index("CN"))
    cn["number"] = np.arange(1, len(cn) + 1, dtype=np.int32)
    for col in ("usd", "cogs_usd"):
        cn[col] = -np.round(cn[col].to_numpy() * frac[kept], 2)
    cn["freight_usd"] = 0.0
    cn["other_usd"] = 0.0
    cn["due_date"] = np.datetime64("NaT")
    cn["paid_date"] = cn["date"]
    return cn


def _cancelled(rng, inv) -> pd.DataFrame:
    """Cancelled documents: an order raised, then cancelled before shipping (excluded everywhere)."""
    canc = inv.sample(frac=0.01, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)
    canc["kind"] = np.int8(DOC_KINDS.index("SO"))
    canc["number"] = np.arange(1, len(canc) + 1, dtype=np.int32)
    canc["cancelled"] = True
    canc["paid_date"] = np.datetime64("NaT")
    return canc


def _order_ids(kind: str, date, number) -> pa.Array:
    """INV-YYYY-NNNNNN, CN-YYYY-NNNNN or SO-X-NNNNN (the year is the document date's)."""
    if kind == "SO":
        return _numbered("SO-X-", number, 5)
    year = pc.cast(pa.array(pd.DatetimeIndex(date).year.to_numpy().astype(np.int64)), pa.string())
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(number, dtype=np.int64)), pa.string()), 6 if kind == "INV" else 5,
                          padding="0")
    return pc.binary_join_element_wise(kind, year, digits, "-")


def _documents(inv, cn, canc):
    """Invoices, credit notes and cancelled orders in the export's order (by date, then order id:
    prefix CN < INV < SO, then -- the year being the date's -- number).

    Returns ``(docs, order ids, original order ids)``: the documents' columns and, as arrow arrays
    in the same order, each one's order id and the invoice a credit note corrects.
    """
    parts = (inv, cn, canc)
    ids = [_order_ids("INV", inv["date"], inv["number"]), _order_ids("CN", cn["date"], cn["number"]),
           _order_ids("SO", None, canc["number"])]
    original = [pa.nulls(len(inv), pa.string()), ids[0].take(pa.array(cn["orig"].to_numpy())),
                pa.nulls(len(canc), pa.string())]
    key = {c: np.concatenate([p[c].to_numpy() for p in parts]) for c in ("date", "kind", "number")}
    # one integer key: day, then prefix, then number (unique per document)
    span = int(key["number"].max()) + 1
    day = _day_numbers(key["date"]).astype(np.int64)
    order = np.argsort((day - day.min()) * (len(DOC_KINDS) * span) + key["kind"].astype(np.int64) * span
                       + key["number"])
    del day
    columns = ["cust", "date", "usd", "rep", "currency", "cogs_usd", "freight_usd", "other_usd", "incoterm", "terms",
               "kind", "number", "cancelled", "due_date", "paid_date"]
    docs = {}
    for c in columns:
        docs[c] = key.pop(c)[order] if c in key else np.concatenate([p[c].to_numpy() for p in parts])[order]
    take = pa.array(order)
    return (pd.DataFrame(docs, copy=False), pa.concat_arrays(ids).take(take), pa.concat_arrays(original).take(take))


def _orders_table(docs, order_ids, original, cust, reps, fx, rows) -> pd.DataFrame:
    """The orders export, columns of the data contract: amounts in the document's currency at the
    order date's rate (JPY in whole yen). ``rows`` are the documents' rows to export, in order (a
    row may come twice: a planted duplicate)."""
    docs = {c: docs[c].to_numpy()[rows] for c in docs.columns}
    date = docs["date"]
    currency = docs["currency"]
    rate = np.ones(len(rows))
    fx_sorted = fx.sort_values("date")
    for code, cur in enumerate(CURRENCIES):
        sel = np.flatnonzero(currency == code)
        if cur != "USD" and len(sel):
            f = fx_sorted[fx_sorted.currency == cur]
            rate[sel] = f["rate"].to_numpy()[np.searchsorted(f["date"].to_numpy(), date[sel], side="right") - 1]
    yen = currency == CURRENCIES.index("JPY")
    local = {}
    for usd, col in (("usd", "amount"), ("cogs_usd", "cost_of_goods"), ("freight_usd", "freight_cost"),
                     ("other_usd", "other_cost")):
        v = docs[usd] / rate
        local[col] = np.where(yen, np.round(v), np.round(v, 2))
    del rate
    is_cn = docs["kind"] == DOC_KINDS.index("CN")
    take = pa.array(rows)
    return pd.DataFrame({
        "order_id": _text(order_ids.take(take)), "order_date": docs["date"],
        "customer_id": _text(pa.array(cust["customer_id"]).take(pa.array(docs["cust"]))),
        "rep_id": _text(_take(reps["rep_id"], docs["rep"])),
        "currency": _text(_take(CURRENCIES, currency)),
        **local,
        "doc_type": _text(_take(["invoice", "credit_note"], is_cn.astype(np.int8))),
        "original_order_id": _text(original.take(take)),
        "status": _text(_take(["booked", "cancelled"], docs["cancelled"].astype(np.int8))),
        "payment_terms": _text(_take(list(TERMS), docs["terms"])),
        "incoterm": _text(_take(INCOTERMS, docs["incoterm"])),
        "due_date": docs["due_date"], "paid_date": docs["paid_date"],
    }, copy=False)


def _order_splits(rng, docs, reps, co_rep) -> pd.DataFrame:
    """Split credit: co-owned accounts 50/50; some deals shared with a team mate 70/30.

    One row per (order, rep): ``row`` (the order's row in ``docs``), ``rep`` (position in ``reps``),
    ``share``; sorted like the export (by order id, the larger share first).
    """
    book = np.flatnonzero(~docs["cancelled"].to_numpy() & (docs["kind"] == DOC_KINDS.index("INV")).to_numpy())
    c, rep = docs["cust"].to_numpy()[book], docs["rep"].to_numpy()[book]
    is_co = np.zeros(int(docs["cust"].max()) + 1, bool)
    is_co[list(co_rep)] = True
    co = is_co[c]
    mate_of = np.full(len(is_co), -1)
    mate_of[list(co_rep)] = list(co_rep.values())
    rest = book[~co]
    shared = rest[rng.random(len(rest)) < 0.03]
    helpers = _team_mates(rng, reps[reps.role == "sales"], reps["team"].to_numpy()[docs["rep"].to_numpy()[shared]],
                          docs["rep"].to_numpy()[shared], docs["date"].to_numpy()[shared], active=True)
    shared, helpers = shared[helpers >= 0], helpers[helpers >= 0]
    rows = np.concatenate([book[co], book[co], shared, shared])
    reps_of = np.concatenate([rep[co], mate_of[c[co]], docs["rep"].to_numpy()[shared], helpers])
    share = np.concatenate([np.full(co.sum(), 0.5), np.full(co.sum(), 0.5), np.full(len(shared), 0.7),
                            np.full(len(shared), 0.3)])
    order = np.lexsort((-share, docs["number"].to_numpy()[rows]))
    return pd.DataFrame({"row": rows[order], "rep": reps_of[order], "share": share[order]})


def _customers_table(rng, cust) -> pd.DataFrame:
    """The customer list: a made-up company name, country, industry, first seen."""
    n_customers = len(cust)
    first = _take(NAME_A, rng.integers(0, len(NAME_A), n_customers))
    second = _take(NAME_B, rng.integers(0, len(NAME_B), n_customers))
    suffix = _take([SUFFIX[c] for c in COUNTRY_WEIGHT], cust["country_idx"])
    return pd.DataFrame({"customer_id": cust["customer_id"], "name": _text(pc.binary_join_element_wise(first, second, suffix, " ")),
                         "country": cust["country"],
                         "industry": _text(_take(INDUSTRIES, rng.integers(0, len(INDUSTRIES), n_customers))),
                         "first_seen": cust["first_date"]})


def _nps(rng, cust, start, end) -> pd.DataFrame:
    """NPS: surveys each January and July to a third of live accounts; farmers' accounts score higher."""
    rows = []
    arch = cust["acq_arch"].to_numpy()
    arch_adj = np.where(arch == "hunter", -1.0, np.where(arch == "farmer", 0.8, 0.0))
    first, died, death = cust["first_date"].to_numpy(), cust["died"].to_numpy(), cust["death_weeks"].to_numpy()
    for d in pd.date_range(start, end, freq="6MS"):
        d = d + pd.Timedelta(days=14)
        if d > end:
            continue
        age_w = (d.to_datetime64() - first) / np.timedelta64(1, "D") / 7
        alive = (age_w > 4) & ~(died & (death < age_w))
        idx = np.flatnonzero(alive & (rng.random(len(cust)) < 0.3))
        mu = 9.2 - 9.0 * cust["p_true"].to_numpy()[idx] + arch_adj[idx]
        score = np.clip(np.round(rng.normal(mu, 1.6)), 0, 10).astype(int)
        rows.append(pd.DataFrame({"cust": idx, "date": d.to_datetime64() + _days(rng.integers(0, 20, len(idx))),
                                  "score": score}))
    nps = pd.concat(rows, ignore_index=True)
    nps = nps[nps["date"] <= end].reset_index(drop=True)
    return pd.DataFrame({"customer_id": _text(pa.array(cust["customer_id"]).take(pa.array(nps["cust"]))),
                         "date": nps["date"], "score": nps["score"]})


def _complaints(rng, docs, cust, order_ids, end) -> pd.DataFrame:
    """Complaints: per invoice, more for hunters' accounts (oversold products)."""
    inv_ok = np.flatnonzero(~docs["cancelled"].to_numpy() & (docs["kind"] == DOC_KINDS.index("INV")).to_numpy())
    c = docs["cust"].to_numpy()[inv_ok]
    hp = np.where(cust["hunter"].to_numpy()[c], 0.09, 0.03)
    comp = inv_ok[rng.random(len(inv_ok)) < hp]
    date = docs["date"].to_numpy()[comp] + _days(rng.integers(10, 60, len(comp)))
    severity = _take(["low", "medium", "high"], rng.choice(3, len(comp), p=[0.6, 0.3, 0.1]))
    keep = date <= end.to_datetime64()
    return pd.DataFrame({"customer_id": _text(pa.array(cust["customer_id"]).take(pa.array(docs["cust"].to_numpy()[comp[keep]]))),
                         "date": date[keep], "severity": _text(severity.filter(pa.array(keep))),
                         "order_id": _text(order_ids.take(pa.array(comp[keep])))})


#: Quotas: this year's monthly quota = QUOTA_GROWTH x last year's average monthly credited revenue.
QUOTA_GROWTH = 1.10
QUOTA_MIN_MONTHS = 6        # months of last year a rep must have worked for a quota of their own
QUOTA_RAMP = (3, 0.5)       # a new hire's first 3 months (hire month included) carry half the quota
QUOTA_RULE = ("Each sales rep has a monthly revenue quota (USD, whole hundreds) for every month employed. "
              "For calendar year Y it is 110% of the rep's average monthly credited revenue (booked "
              "invoices and credit notes, split credit applied) over the months of Y-1 they were employed; "
              "a rep with fewer than 6 such months gets the team's median quota of year Y, and when no one "
              "in the team has 6 months (the first years of the data) the opening plan: 110% of the team's "
              "average monthly credited revenue per employed rep over the first 12 months of the data. A new "
              "hire's first 3 months (hire month included) carry half the quota.")


def _month_number(dates) -> np.ndarray:
    """Months since year 0 (year * 12 + month - 1) of datetime64 values."""
    return np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _quotas(reps, docs, splits, start, end) -> pd.DataFrame:
    """Monthly revenue quota of every sales rep for every month employed (``QUOTA_RULE``).

    Columns ``rep_id``, ``month`` (``YYYY-MM``), ``quota`` (int, USD).
    """
    booked = ~docs["cancelled"].to_numpy()
    split_row = np.zeros(len(docs), bool)
    split_row[splits["row"].to_numpy()] = True
    plain = np.flatnonzero(booked & ~split_row)
    rows = np.concatenate([plain, splits["row"].to_numpy()])
    sales = reps[reps["role"] == "sales"]
    months = np.arange(_month_number([start])[0], _month_number([end])[0] + 1)
    # credited revenue per (rep, month of the data): one scatter-add
    credit_rep = np.concatenate([docs["rep"].to_numpy()[plain], splits["rep"].to_numpy()])
    credit_month = _month_number(docs["date"].to_numpy()[rows]) - months[0]
    credit_usd = docs["usd"].to_numpy()[rows] * np.concatenate([np.ones(len(plain)), splits["share"].to_numpy()])
    revenue = np.bincount(credit_rep * len(months) + credit_month, weights=credit_usd,
                          minlength=len(reps) * len(months)).reshape(len(reps), len(months))
    hire = _month_number(sales["hire_date"])
    leave = np.where(sales["leave_date"].isna(), months[-1], _month_number(sales["leave_date"].fillna(end)))
    grid = pd.DataFrame({"rep": np.repeat(sales.index.to_numpy(), len(months)),
                         "team": np.repeat(sales["team"].to_numpy(), len(months)),
                         "hire": np.repeat(hire, len(months)), "month": np.tile(months, len(sales))})
    grid = grid[(grid["month"] >= grid["hire"]) & (grid["month"] <= np.repeat(leave, len(months)))]
    grid = grid.reset_index(drop=True)
    grid["revenue"] = revenue[grid["rep"].to_numpy(), grid["month"].to_numpy() - months[0]]
    grid["year"] = grid["month"] // 12
    opening = grid[grid["month"] < months[0] + 12].groupby("team")["revenue"].mean() * QUOTA_GROWTH
    last_year = grid.assign(year=grid["year"] + 1).groupby(["rep", "year"])["revenue"].agg(["mean", "size"])
    last_year = last_year[last_year["size"] >= QUOTA_MIN_MONTHS]
    per_year = grid.drop_duplicates(["rep", "year"])[["rep", "team", "year"]]
    per_year = per_year.join(last_year["mean"].rename("own") * QUOTA_GROWTH, on=["rep", "year"])
    team_median = per_year.groupby(["team", "year"])["own"].median()
    per_year["quota"] = per_year["own"].fillna(
        pd.Series(team_median.reindex(pd.MultiIndex.from_frame(per_year[["team", "year"]])).to_numpy(),
                  index=per_year.index)).fillna(per_year["team"].map(opening))
    out = grid.merge(per_year[["rep", "year", "quota"]], on=["rep", "year"])
    ramp = np.where(out["month"] - out["hire"] < QUOTA_RAMP[0], QUOTA_RAMP[1], 1.0)
    out["quota"] = (np.round(out["quota"].to_numpy() * ramp / 100) * 100).astype(np.int64)
    out = out.sort_values(["rep", "month"]).reset_index(drop=True)
    month = out["month"].to_numpy()
    text = pc.binary_join_element_wise(pc.cast(pa.array(month // 12), pa.string()),
                                       _numbered("", month % 12 + 1, 2), "-")
    return pd.DataFrame({"rep_id": _text(_take(reps["rep_id"], out["rep"])), "month": _text(text),
                         "quota": out["quota"]})


def _ownership_table(ownership, cust, reps) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": _text(pa.array(cust["customer_id"]).take(pa.array(ownership["cust"]))),
                         "rep_id": _text(_take(reps["rep_id"], ownership["rep"])), "share": ownership["share"],
                         "valid_from": ownership["valid_from"], "valid_to": ownership["valid_to"]})


def _defect_rows(rng, docs):
    """Which booked invoices the planted defects hit (``picks``: five drawn, the last of them
    duplicated, and the middle invoice, re-used with another amount), and the export's rows with the
    duplicate and the conflicting copy right after their originals."""
    inv = np.flatnonzero(~docs["cancelled"].to_numpy() & (docs["kind"] == DOC_KINDS.index("INV")).to_numpy())
    picks = rng.choice(inv, 5, replace=False)
    dup, conf = picks[4], inv[len(inv) // 2]
    return np.r_[picks, conf], np.insert(np.arange(len(docs)), [dup + 1, conf + 1], [dup, conf])


def _plant_defects(rng, tables: dict[str, pd.DataFrame], picks, rows):
    """Realistic export mistakes, each recorded so tests and the data-quality section can find them.

    ``picks`` and ``rows`` are from :func:`_defect_rows`: a change to a document is made to each of
    its rows in the export (a planted copy shows it too).
    """
    o = tables["orders"]
    defects = []

    def at(doc):
        return np.flatnonzero(rows == doc)
    # 1. a typo'd currency
    i = at(picks[0])
    o.loc[i, "currency"] = {"EUR": "EUO", "USD": "USS"}.get(o.loc[i[0], "currency"], "USX")
    defects.append({"table": "orders", "order_id": o.loc[i[0], "order_id"], "column": "currency",
                    "kind": "unknown currency", "value": o.loc[i[0], "currency"]})
    # 2. a missing order date
    i = at(picks[1])
    o.loc[i, "order_date"] = None
    defects.append({"table": "orders", "order_id": o.loc[i[0], "order_id"], "column": "order_date",
                    "kind": "missing value"})
    # 3. an amount that is not a number
    i = at(picks[2])
    o["amount"] = o["amount"].astype(object)
    o.loc[i, "amount"] = "12,O00.00"
    defects.append({"table": "orders", "order_id": o.loc[i[0], "order_id"], "column": "amount",
                    "kind": "not a number", "value": "12,O00.00"})
    # 4. an order for a customer that is not in the customer list
    i = at(picks[3])
    o.loc[i, "customer_id"] = "C99999"
    defects.append({"table": "orders", "order_id": o.loc[i[0], "order_id"], "column": "customer_id",
                    "kind": "unknown customer", "value": "C99999"})
    # 5. an exact duplicate export row (collapses to one) and a conflicting re-use of an invoice number:
    # the second row of each in the export, the conflicting one with twice the amount
    dup, conf = at(picks[4]), at(picks[5])
    defects.append({"table": "orders", "order_id": o.loc[dup[0], "order_id"], "column": None,
                    "kind": "exact duplicate row"})
    defects.append({"table": "orders", "order_id": o.loc[conf[0], "order_id"], "column": "order_id",
                    "kind": "conflicting duplicate"})
    o.loc[conf[-1], "amount"] = pd.to_numeric(pd.Series([o.loc[conf[-1], "amount"]])).iloc[0] * 2
    # 6. a split that does not sum to 1
    s = tables["order_splits"].copy()
    if len(s):
        oid = s.order_id.iloc[len(s) // 2]
        s.loc[s.order_id == oid, "share"] = s.loc[s.order_id == oid, "share"] + 0.05
        defects.append({"table": "order_splits", "order_id": oid, "column": "share",
                        "kind": "shares do not sum to 1"})
        tables["order_splits"] = s
    # 7. an NPS score out of range
    n = tables["nps"].copy()
    n["score"] = n["score"].astype(object)
    j = int(rng.integers(0, len(n)))
    n.loc[j, "score"] = 11
    defects.append({"table": "nps", "customer_id": n.loc[j, "customer_id"], "column": "score",
                    "kind": "out of range", "value": 11})
    tables["nps"] = n
    return tables, defects


# ------------------------------------------------------------------ CSV export
CSV_CHUNK_ROWS = 500_000
_NEEDS_QUOTES = r'[",\r\n]'


_SPECIAL = np.zeros(256, bool)
_SPECIAL[[ord(c) for c in '",\r\n']] = True


def _has_special_bytes(text: pa.Array) -> bool:
    """Whether any value of a large_string array holds a comma, quote or line break (a byte scan of
    its data, much cheaper than matching value by value)."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)
    lo, hi = offsets[text.offset], offsets[text.offset + len(text)]
    data = text.buffers()[2]
    return data is not None and hi > lo and bool(_SPECIAL[np.frombuffer(data, dtype=np.uint8)[lo:hi]].any())


def _csv_column(col: pd.Series) -> pa.Array:
    """A column as CSV text, one string per row (missing values empty): dates as YYYY-MM-DD, numbers
    in their shortest exact form, text quoted only where it holds a comma, quote or line break."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        days = col.to_numpy().astype("datetime64[D]")
        return pc.cast(pa.array(days, mask=np.isnat(days)), pa.large_string())
    if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
        return pc.cast(pa.array(col.to_numpy(), from_pandas=True), pa.large_string())
    try:
        text = pa.array(col, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):     # numbers with a few text cells (a planted defect)
        number = pd.to_numeric(col, errors="coerce")
        other = number.isna().to_numpy() & col.notna().to_numpy()
        text = pc.replace_with_mask(_csv_column(number), pa.array(other),
                                    pa.array(col[other].astype(str).tolist(), pa.large_string()))
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if not pa.types.is_large_string(text.type):
        text = pc.cast(text, pa.large_string())
    if _has_special_bytes(text):
        quote = pc.match_substring_regex(text, _NEEDS_QUOTES)
        q, empty = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
        quoted = pc.binary_join_element_wise(q, pc.replace_substring(text, '"', '""'), q, empty)
        text = pc.if_else(quote, quoted, text)
    return text


def _csv_chunk(df: pd.DataFrame) -> pa.Buffer:
    """The rows of ``df`` as CSV lines (``\\n``-terminated), as one buffer."""
    cols = [_csv_column(df[c]) for c in df.columns]
    text = pa.large_string()
    cols[-1] = pc.binary_join_element_wise(cols[-1], pa.scalar("", text), pa.scalar("\n", text),
                                           null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(*cols, pa.scalar(",", text), null_handling="replace", null_replacement="")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    lo, hi = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2][lo:hi]


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as a UTF-8 CSV with a header and ``\\n`` line ends, chunk by chunk (the text of the
    whole table never exists at once), formatting the next chunk while the last is written."""
    from concurrent.futures import ThreadPoolExecutor

    header = pd.DataFrame([list(map(str, df.columns))], columns=df.columns)
    with open(path, "wb") as f, ThreadPoolExecutor(max_workers=2) as pool:
        f.write(_csv_chunk(header.astype(object)))
        chunks = (df.iloc[lo:lo + CSV_CHUNK_ROWS] for lo in range(0, len(df), CSV_CHUNK_ROWS))
        pending = None
        for chunk in chunks:
            job = pool.submit(_csv_chunk, chunk)
            if pending is not None:
                f.write(pending.result())
            pending = job
        if pending is not None:
            f.write(pending.result())


def write(out_dir: Path | str, seed: int = 42, n_customers: int = 3000, end: date | str = DEMO_END,
          years: int = DEMO_YEARS, defects: bool = True, pilot: dict | None = DEMO_PILOT) -> Path:
    """Generate the demo company and write it as CSV exports plus ``truth/`` to ``out_dir``.

    ``pilot``: as in :func:`generate` (``None``: no pilot).

    Writes into a temporary sibling folder and renames it into place, so an interrupted run never
    leaves half a data set behind.
    """
    import shutil

    out = Path(out_dir)
    tables, truth, truth_customers = generate(seed, n_customers, end, years, defects, pilot)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "truth").mkdir(parents=True)
    for name, df in tables.items():
        write_csv(df, tmp / f"{name}.csv")
    (tmp / "truth" / "truth.json").write_text(json.dumps(asdict(truth), indent=2, default=str) + "\n")
    truth_customers.to_parquet(tmp / "truth" / "customers.parquet", index=False)
    (tmp / "README.md").write_text(_readme(truth))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out


def _readme(truth: DemoTruth) -> str:
    """data/demo/README.md: what the folder holds."""
    p = truth.pilot
    pilot = ("No pilot." if p is None else
             f"Pilot: the {p['team']} team from {p['switch']} on, effect {p['effect']:g} -- its customers' "
             f"drop-out probability after each repeat purchase is multiplied by {1 - p['effect']:g}.")
    return (f"Demo export company generated by `clvlib demo-data` (seed {truth.seed}, {truth.n_customers} "
            f"customers, {truth.start} to {truth.end}).\n"
            "CSV exports in the canonical columns of docs/data-contract.md; truth/ holds the generator's "
            "ground truth (never read by the workbook).\n\n"
            f"{pilot}\n\n"
            f"Reps follow archetypes (hunter, farmer, balanced; truth/truth.json rep_archetypes). {ARCHETYPE_RULE}\n\n"
            "quotas.csv -- columns rep_id, month (YYYY-MM), quota: each sales rep's monthly revenue quota in "
            f"the reporting currency (USD). {QUOTA_RULE}\n")


def load_truth(data_dir: Path | str) -> dict:
    return json.loads((Path(data_dir) / "truth" / "truth.json").read_text())
