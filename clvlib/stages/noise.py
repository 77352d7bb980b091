"""Stage ``noise``: how much of each rep's CLV built over the pay window could be chance
(``clvlib.noise``): its band (the models' parameter uncertainty and each customer's own chance,
simulated), the rank band, the pairs of reps whose difference is within the noise, and the customer
lines of the band's lower end (for plans that pay CLV growth on it: ``clv_growth`` ``basis: lower``).

Files: ``noise_bands.parquet``, ``noise_pairs.parquet``, ``noise_lines.parquet``, ``noise.json``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clvlib.stages.base import Stage, register

BAND_COLUMNS = ["rep_id", "change", "expected_by_chance", "noise_sd", "low", "high", "within_noise", "lower_end",
                "value", "rank", "rank_low", "rank_high", "tied_within_noise"]
PAIR_COLUMNS = ["rep_a", "rep_b", "difference", "low", "high", "p_a_ahead", "within_noise"]
LINE_COLUMNS = ["customer_id", "rep_id", "share_start", "share_end", "change", "noise_share", "lower_end"]


@dataclass
class Noise:
    bands: pd.DataFrame
    pairs: pd.DataFrame
    lines: pd.DataFrame
    start: str
    end: str
    notes: list[str] = field(default_factory=list)


def build(wb) -> Noise:
    from clvlib.noise import window_bands
    from clvlib.plans.inputs import add_months, window

    h, p = wb.stage("history"), wb.params
    months = window(wb.period, p["pay"]["backtest_months"])
    start, end = add_months(months[0], -1), months[-1]
    unfit = [m for m in (start, end) if m in h.fallback or m not in set(h.customers["month"].unique())]
    if unfit:
        return Noise(pd.DataFrame(columns=BAND_COLUMNS), pd.DataFrame(columns=PAIR_COLUMNS),
                     pd.DataFrame(columns=LINE_COLUMNS), start, end,
                     [f"no noise bands: the purchase model could not be fitted at {', '.join(unfit)}, so CLV "
                      "built is a simple indicator without a band"])
    table, pairs, bands = window_bands(wb.orders(), h.owners, start, end, wb.as_of, p["clv"],
                                       p["clv"]["interval_level"], p["pay"]["noise_sims"], p["clv"]["seed"])
    return Noise(table[BAND_COLUMNS], pairs[PAIR_COLUMNS], bands.lines[LINE_COLUMNS], start, end)


def save(n: Noise, data_dir: Path) -> None:
    d = Path(data_dir)
    n.bands.to_parquet(d / "noise_bands.parquet", index=False)
    n.pairs.to_parquet(d / "noise_pairs.parquet", index=False)
    n.lines.to_parquet(d / "noise_lines.parquet", index=False)
    (d / "noise.json").write_text(json.dumps({"start": n.start, "end": n.end, "notes": n.notes}, indent=1))


def load(data_dir: Path) -> Noise:
    d = Path(data_dir)
    meta = json.loads((d / "noise.json").read_text())
    return Noise(pd.read_parquet(d / "noise_bands.parquet"), pd.read_parquet(d / "noise_pairs.parquet"),
                 pd.read_parquet(d / "noise_lines.parquet"), meta["start"], meta["end"], meta["notes"])


STAGE = register(Stage("noise", build, save, load, needs=("intake", "history"),
                       params=("clv", "pay.backtest_months", "pay.noise_sims"),
                       files=("noise_bands.parquet", "noise_pairs.parquet", "noise_lines.parquet"),
                       doc="the band of every rep's CLV built over the pay window, ranks and pairs within noise"))
