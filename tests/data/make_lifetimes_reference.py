"""Regenerate the lifetimes 0.11.3 reference values used by tests/test_models.py and tests/test_value.py.

Run with the benchmark environment (it has lifetimes; the tests themselves do not need it):

    make -C bench venv        # creates /work/main/.venv-bench with lifetimes==0.11.3
    .venv-bench/bin/python tests/data/make_lifetimes_reference.py

Input: the CDNOW calibration summary (1997-01-01..1997-09-30, weeks = days / 7), built by
clvlib.rfm_summary from tests/data/CDNOW_sample.txt, so both libraries see identical inputs.
Output (next to this script):

* cdnow_lifetimes_reference.csv -- per customer: the summary, and lifetimes' predictions:
  ``bg_pred_39`` / ``pnbd_pred_39`` (conditional expected purchases in the next 39 weeks),
  ``bg_palive`` / ``pnbd_palive``, ``gg_avg`` (conditional expected average profit),
  ``bg_clv_12`` (12-month CLV, 1% monthly discount, freq="W", i.e. a month of 4.345 weeks);
* cdnow_lifetimes_params.csv -- the fitted parameters and lifetimes' log-likelihoods.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def cdnow_summary():
    from clvlib.rfm import rfm_summary
    log = pd.read_csv(HERE / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["customer_master_id", "customer_id", "date", "n_cds", "value"])
    log["date"] = pd.to_datetime(log["date"].astype(str), format="%Y%m%d")
    return rfm_summary(log, "customer_id", "date", "value", calibration_end="1997-09-30", as_of="1998-06-30")


def main():
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    assert lifetimes.__version__ == "0.11.3", lifetimes.__version__
    s = cdnow_summary()
    f, r, T, m = s["frequency"].astype(float), s["recency"], s["T"], s["monetary_value"]
    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(f, r, T, tol=1e-10)
    pnf = ParetoNBDFitter(penalizer_coef=0.0).fit(f, r, T, tol=1e-10)
    rep = f > 0
    ggf = GammaGammaFitter(penalizer_coef=0.0).fit(f[rep], m[rep], tol=1e-8)
    out = pd.DataFrame({
        "customer_id": s.index, "frequency": s["frequency"].to_numpy(), "recency": r.to_numpy(),
        "T": T.to_numpy(), "monetary_value": m.to_numpy(),
        "bg_pred_39": np.asarray(bgf.conditional_expected_number_of_purchases_up_to_time(39, f, r, T)),
        "bg_palive": np.asarray(bgf.conditional_probability_alive(f, r, T)),
        "pnbd_pred_39": np.asarray(pnf.conditional_expected_number_of_purchases_up_to_time(39, f, r, T)),
        "pnbd_palive": np.asarray(pnf.conditional_probability_alive(f, r, T)),
        "gg_avg": np.asarray(ggf.conditional_expected_average_profit(f, m)),
        "bg_clv_12": np.asarray(ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01, freq="W")),
    })
    out.to_csv(HERE / "cdnow_lifetimes_reference.csv", index=False, float_format="%.15g")
    rows = [("bgnbd", k, float(v)) for k, v in bgf.params_.items()]
    rows += [("paretonbd", k, float(v)) for k, v in pnf.params_.items()]
    rows += [("gammagamma", {"v": "gamma"}.get(k, k), float(v)) for k, v in ggf.params_.items()]
    n = len(s)
    rows += [("bgnbd", "mean_negative_log_likelihood", float(bgf._negative_log_likelihood_)),
             ("paretonbd", "negative_log_likelihood_over_mean_weight", float(pnf._negative_log_likelihood_)),
             ("all", "n_customers", float(n))]
    pd.DataFrame(rows, columns=["model", "name", "value"]).to_csv(HERE / "cdnow_lifetimes_params.csv", index=False,
                                                                 float_format="%.15g")
    print(f"wrote reference values for {n} customers; BG/NBD {dict(bgf.params_)}")


if __name__ == "__main__":
    main()
