"""Load and validate the workbook's settings (``params/company.yaml``) with clear messages.

Every setting is declared once, in the pydantic models below (:class:`CompanySettings` and one model
per section), with its type, default, limits and meaning; :mod:`clvlib.settings` is the one mechanism
that reads and checks them (the pay plans use it too). Loading fills in the defaults, rejects unknown
keys (a typo must not be silently ignored) and reports every problem at once, one line each:
``params/company.yaml: clv.horizon_months: must be a whole number between 1 and 120, got 'twelve'``.
Relative paths in a params file are relative to that file.

``load`` returns :class:`Params`, a plain dict tree that also allows attribute access
(``params["clv"]["horizon_months"] == params.clv.horizon_months``).
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from clvlib import settings
from clvlib.errors import ParamsError
from clvlib.paths import DEFAULT_PARAMS
from clvlib.settings import Problem, Settings, checked

LANGUAGES = ("en", "zh")
HEALTH_PARTS = ("regularity", "complaints", "receivables", "nps")


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


Text = checked(str, lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty text")
Currency = checked(str, lambda v: isinstance(v, str) and len(v) == 3 and v.isalpha() and v.isupper(),
                   "a 3-letter ISO 4217 code in capitals such as USD, EUR or CNY")
Month = checked(str, lambda v: isinstance(v, str) and bool(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v)),
                "a month such as 2026-01 (in quotes)")
Labels = checked(list[str], lambda v: isinstance(v, list) and len(v) >= 2 and len(set(v)) == len(v)
                 and all(isinstance(x, str) and x.strip() for x in v),
                 "a list of two or more distinct names such as [A, B, C]")
Shares = checked(list[float], lambda v: isinstance(v, list) and len(v) >= 2 and all(_number(x) and 0 < x < 1 for x in v)
                 and abs(sum(v) - 1) < 1e-9,
                 "a list of shares between 0 and 1 that sum to 1, such as [0.7, 0.2, 0.1]")
HealthWeights = checked(dict[str, float], lambda v: isinstance(v, dict) and bool(v) and set(v) <= set(HEALTH_PARTS)
                        and all(_number(x) and x >= 0 for x in v.values()) and sum(v.values()) > 0,
                        "a mapping of " + ", ".join(HEALTH_PARTS) + " to weights >= 0, not all 0")


class FxSettings(Settings):
    max_age_days: int = Field(7, ge=0, le=366, description="Newest FX rate on or before an order date may be this old")
    strict: bool = Field(False, description="Stop the run on an unknown currency or missing rate instead of "
                                            "quarantining the row")
    plausibility: Literal["stop", "warn", "off"] = Field(
        "stop", description="An FX table that looks inverted or mis-scaled (rates far from what the currency is "
                            "worth): stop the run, warn loudly in the notes, or off")


class CustomerSettings(Settings):
    lost_after_days: int = Field(365, ge=30, le=3650, description="A customer with no order for this long counts as lost")


class ClvSettings(Settings):
    time_unit: Literal["W", "D"] = Field("W", description="Model time unit: W (weeks) or D (days)")
    horizon_months: int = Field(12, ge=1, le=120, description="CLV horizon")
    monthly_discount_rate: float = Field(0.01, ge=0.0, le=0.2, description="Discount rate per month")
    holdout_weeks: int = Field(26, ge=4, le=104, description="Holdout window for the monthly model check")
    interval_level: float = Field(0.9, ge=0.5, le=0.99, description="Coverage of the CLV intervals")
    interval_draws: int = Field(200, ge=20, le=5000, description="Parameter draws for the CLV intervals")
    value: Literal["gross_margin", "revenue"] = Field(
        "gross_margin", description="What a purchase is worth: gross_margin (profit, the seed's definition) or revenue")
    model: Literal["bgnbd", "paretonbd"] = Field("bgnbd", description="Purchase model")
    seed: int = Field(2026, ge=0, description="Random seed for intervals (runs are reproducible)")


class HistorySettings(Settings):
    months: int = Field(24, ge=13, le=60, description="Month ends of history computed in one pass (models "
                                                      "refitted at each), for trends and the pay backtest")


class TierSettings(Settings):
    method: Literal["kmeans", "gmm", "value_share"] = Field(
        "kmeans", description="How customers are tiered: kmeans or gmm (clusters of CLV, P(alive), frequency, "
                              "margin per purchase, tenure) or value_share (A = the customers holding the top "
                              "share of CLV)")
    labels: Labels = Field(["A", "B", "C"], description="Tier names, most valuable first (their number is the "
                                                        "number of tiers)")
    value_shares: Shares = Field([0.7, 0.2, 0.1], description="value_share method: the share of total CLV each "
                                                              "tier holds, most valuable first (sums to 1)")
    transform: Literal["signed_log1p", "quantile"] = Field(
        "signed_log1p", description="Transform of the skewed features before scaling")
    refit: Literal["monthly", "yearly", "never"] = Field(
        "yearly", description="When the tier model is refitted: monthly, yearly (in refit_month) or never "
                              "(fitted once, or model_file)")
    refit_month: int = Field(1, ge=1, le=12, description="Month of the year the tier model is refitted (refit: yearly)")
    model_file: Text | None = Field(None, description="A tier model (JSON, as saved in data/tier_model.json) to "
                                                      "use instead of fitting one (refit: never)")
    hysteresis: float = Field(0.25, ge=0.0, le=2.0, description="A customer changes tier only when it is past the "
                                                                "boundary by this margin (scaled feature units; share "
                                                                "of the cut for value_share; probability for gmm)")
    n_init: int = Field(10, ge=1, le=100, description="KMeans restarts")
    seed: int = Field(2026, ge=0, description="Random seed of the tier model")

    @model_validator(mode="after")
    def _cross_checks(self):
        problems = []
        if self.method == "value_share" and len(self.labels) != len(self.value_shares):
            problems.append(Problem("value_shares", f"needs one share per tier label ({len(self.labels)}: "
                                                    f"{', '.join(self.labels)}), got {len(self.value_shares)}"))
        if self.refit != "never" and self.model_file:
            problems.append(Problem("model_file", "a fixed tier model needs tiers.refit: never, got "
                                                  f"refit: {self.refit}"))
        if problems:
            raise settings.Problems(problems)
        return self


class KpiSettings(Settings):
    nps_min_responses: int = Field(30, ge=1, le=10000, description="Fewer NPS responses than this: the NPS is "
                                                                   "flagged as unreliable")
    lifespan_cap_months: int = Field(120, ge=12, le=600, description="Expected remaining lifetime is counted up "
                                                                     "to this many months")
    health_weights: HealthWeights = Field(
        {"regularity": 0.3, "complaints": 0.2, "receivables": 0.3, "nps": 0.2},
        description="Weights of the customer health score's parts (regularity, complaints, receivables, nps)")
    handover_months: int = Field(6, ge=1, le=24, description="Value kept after a handover: book CLV this many "
                                                             "months after against at the handover")


class PaySettings(Settings):
    plans: Text | None = Field(None, description="Folder of pay plans (YAML), every one computed and compared; "
                                                 "relative to this file; empty = the workbook's params/plans/")
    current_plan: Text = Field("commission_revenue", description="Today's plan (the name of a file in the plans "
                                                                 "folder, without .yaml): the baseline")
    backtest_months: int = Field(12, ge=1, le=36, description="Months the plans are replayed over, ending with "
                                                              "the period")
    switch: Month | None = Field(None, description="First month a new plan applies (YYYY-MM; guarantees count "
                                                   "from it); empty = the backtest's first month")
    sweep_plan: Text = Field("seed_hybrid", description="The hybrid plan whose commission weight is swept from 0 to "
                                                        "100 % and recommended")
    clv_only_plan: Text = Field("clv_plan", description="A plan paying for CLV alone: the bound the hybrid is "
                                                        "compared with in the hunters claim")
    loss_threshold: float = Field(0.95, gt=0, le=1, description="A rep paid under this share of today's plan's pay "
                                                                "is a loser")
    big_loss: float = Field(0.2, gt=0, lt=1, description="The recommended weight keeps few reps losing more than "
                                                         "this share of today's pay (at equal cost)")
    max_big_loser_share: float = Field(0.25, ge=0, le=1, description="... at most this share of the reps")
    corr_tolerance: float = Field(0.05, ge=0, le=1, description="Weights whose pay follows CLV built within this "
                                                                "rank correlation of the best count as equally good")
    noise_sims: int = Field(300, ge=50, le=5000, description="Simulations behind the noise bands of CLV built "
                                                             "(parameter uncertainty and each customer's chance)")


class PilotSettings(Settings):
    team: Text | None = Field(None, description="The team that piloted the new plan (empty = no pilot)")
    switch: Month | None = Field(None, description="First month of the pilot (YYYY-MM)")

    @model_validator(mode="after")
    def _together(self):
        if bool(self.team) != bool(self.switch):
            raise Problem(None, "team and switch go together (both set, or both empty)")
        return self


class ReportSettings(Settings):
    top_n: int = Field(15, ge=3, le=100, description="Rows in 'top' tables")
    months_shown: int = Field(24, ge=3, le=120, description="Months of history in trend charts")
    parallel_notebooks: int = Field(2, ge=1, le=16, description="Notebooks executed at once by a run (the stages "
                                                                 "are computed first, so the notebooks only read them)")


class CompanySettings(Settings):
    """``params/company.yaml``: every setting of the workbook."""

    company: Text = Field("Demo Export Co.", description="Company name shown on the reports")
    reporting_currency: Currency = Field("USD", description="ISO code every amount is converted to")
    language: Literal["en", "zh"] = Field("en", description="Language of the reports")
    sources: Text = Field(description="Where the input files are and how their columns map to the data contract")
    demo: bool = Field(False, description="Build the demo company into the sources folder when it is missing")
    fx: FxSettings = Field(default_factory=FxSettings)
    customers: CustomerSettings = Field(default_factory=CustomerSettings)
    clv: ClvSettings = Field(default_factory=ClvSettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    tiers: TierSettings = Field(default_factory=TierSettings)
    kpis: KpiSettings = Field(default_factory=KpiSettings)
    pay: PaySettings = Field(default_factory=PaySettings)
    pilot: PilotSettings = Field(default_factory=PilotSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)


class Params(dict):
    """A validated settings tree: a dict that also allows ``params.clv.horizon_months``."""

    file: Path | None = None

    def __getattr__(self, name):
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(f"no setting '{name}'") from None
        return value

    def path(self, key: str) -> Path:
        """A path setting (a dotted key such as ``pay.plans``), resolved relative to the params file."""
        node = self
        for part in key.split("."):
            node = node[part]
        value = Path(node)
        if not value.is_absolute() and self.file is not None:
            value = (self.file.parent / value).resolve()
        return value

    def fingerprint(self) -> str:
        """sha256 of the resolved settings (for run.json and stage caches)."""
        return hashlib.sha256(json.dumps(self, sort_keys=True, default=str).encode()).hexdigest()


def _wrap(d: dict) -> Params:
    out = Params()
    for k, v in d.items():
        out[k] = _wrap(v) if isinstance(v, dict) else v
    return out


def validate(raw: dict) -> dict:
    """Fill defaults and check ``raw`` against :class:`CompanySettings`; the completed dict, or ParamsError."""
    return settings.validate(raw, CompanySettings).model_dump()


def load(path: str | Path | None = None, overrides: dict | None = None) -> Params:
    """Read a params file, apply ``overrides`` (a nested dict), validate, return ``Params``.

    Raises ``ParamsError`` with one line naming the file and every invalid setting.
    """
    path = Path(path) if path else DEFAULT_PARAMS
    try:
        model = settings.load_model(path, CompanySettings, overrides=overrides)
    except ParamsError as e:
        if str(e) == f"{path}: file not found":
            raise ParamsError("file not found; pass --params with the path to your company.yaml",
                              file=path) from None
        raise
    params = _wrap(model.model_dump())
    params.file = path.resolve()
    return params


def describe() -> list[tuple[str, str, str]]:
    """(key, default, help) for every setting — used by the README's settings table and `clvlib params`."""
    return [(key, default, help_) for key, _type, default, help_ in settings.describe(CompanySettings)]
