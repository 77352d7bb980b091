"""Net Promoter Score of a book, with its number of responses, an interval and a low-count flag.

A response scores 9-10 (promoter), 7-8 (passive) or 0-6 (detractor); NPS = 100 x (promoters -
detractors) / responses, from -100 to 100. The interval is the adjusted Wald interval of Rocks (2016),
found best among six methods there: add 3 to the number of responses and 3/4 to promoters and to
detractors, then NPS' ± z · sqrt((p'_pro + p'_det - (p'_pro - p'_det)^2) / n'), clipped to [-100, 100].

References
----------
.. [1] Rocks, B. (2016). Interval estimation for the "Net Promoter Score". The American Statistician
   70(4), 365-372 (arXiv:1601.07235).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from clvlib.kpis.common import (books, check_months, month_ends, month_index, month_labels, months_of,
                                over_windows, ratio, require, rollup, to_long)

NPS_MEASURES = ["nps", "nps_responses", "nps_low", "nps_high", "nps_few_responses"]


def nps_interval(promoters, detractors, responses, level: float = 0.9):
    """Adjusted Wald interval (Rocks 2016) of the NPS, in NPS points: (low, high) arrays.

    Works with share-weighted (fractional) counts; missing where there are no responses.
    """
    P, D, n = (np.asarray(v, dtype=float) for v in (promoters, detractors, responses))
    z = norm.ppf(0.5 + level / 2.0)
    n_adj = n + 3.0
    pp, pd_ = (P + 0.75) / n_adj, (D + 0.75) / n_adj
    centre = pp - pd_
    half = z * np.sqrt(np.maximum(pp + pd_ - centre ** 2, 0.0) / n_adj)
    low = np.where(n > 0, np.clip(centre - half, -1.0, 1.0) * 100.0, np.nan)
    high = np.where(n > 0, np.clip(centre + half, -1.0, 1.0) * 100.0, np.nan)
    return low, high


def responses_12m(nps_table: pd.DataFrame, months, as_of=None) -> pd.DataFrame:
    """Per month and customer: promoters, passives, detractors and responses among the NPS responses
    dated in the 12 months ending at the month end (on or before the as-of date)."""
    require(nps_table, "nps", ["customer_id", "date", "score"])
    months = check_months(months)
    ends = month_ends(months, as_of)
    r = nps_table.dropna(subset=["score", "date"])
    r = r[r["date"] <= ends.max()]
    s = r["score"].astype(float).to_numpy()
    r = pd.DataFrame({"customer_id": r["customer_id"].to_numpy(), "mi": months_of(r["date"]),
                      "promoters": (s >= 9).astype(float), "passives": ((s >= 7) & (s < 9)).astype(float),
                      "detractors": (s <= 6).astype(float), "responses": 1.0})
    cols = ["promoters", "passives", "detractors", "responses"]
    w = over_windows(r, ["customer_id"], cols, [month_index(m) for m in months])
    return w.assign(month=month_labels(w["mi"])).drop(columns="mi")


def nps(nps_table, owners, reps, months, as_of=None, level: float = 0.9, min_responses: int = 30,
        pairs=None) -> pd.DataFrame:
    """``nps`` (-100 ... 100) from the responses of the last 12 months of the customers in the book at
    the month end (share-weighted: a response of a co-owned account counts 0.5 for each owner);
    ``nps_responses`` their number; ``nps_low`` / ``nps_high`` the adjusted Wald interval at ``level``
    (Rocks 2016); ``nps_few_responses`` = 1 when there are fewer than ``min_responses`` responses (the
    NPS is then unreliable and the report says so), else 0. The company counts every response.
    ``pairs``: the book, when already computed (:func:`common.books`)."""
    months = check_months(months)
    values = responses_12m(nps_table, months, as_of)
    pairs = books(owners, reps, months, as_of, pairs)
    wide = rollup(values, pairs, ["promoters", "passives", "detractors", "responses"])
    wide["nps"] = 100.0 * ratio(wide["promoters"] - wide["detractors"], wide["responses"])
    wide["nps_low"], wide["nps_high"] = nps_interval(wide["promoters"], wide["detractors"], wide["responses"], level)
    wide["nps_responses"] = wide["responses"]
    wide["nps_few_responses"] = (wide["responses"] < min_responses).astype(float)
    return to_long(wide, NPS_MEASURES)
