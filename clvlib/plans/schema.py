"""The pay-plan language: one plan per YAML file in ``params/plans/``, declared as pydantic models.

A plan (:class:`Plan`) has a ``title`` and a ``description`` in English and Chinese, ``eligibility``
(who is paid), ``weights`` (each weighted component's share of the target variable pay), a list of
``components`` (each with ``type:`` and optional ``effective_from`` / ``effective_to`` months), total
``caps`` and an optional transition ``guarantee``. Component types: ``commission``, ``clv_growth``,
``retention``, ``clawback``, ``team_pool``, ``spif``. Example (today's plan)::

    title: {en: "Commission: 3 % of collected revenue", zh: "提成：回款收入的 3%"}
    description: {en: "...", zh: "..."}
    eligibility: {roles: [sales], after_leave: nothing}
    weights: {commission: 1.0}
    components:
      - type: commission
        base: revenue            # revenue | gross_margin
        earned_on: collection    # an invoice counts in the month it is paid; a credit note in its own month
        rate: 0.03

**Weights.** A weighted component (commission, clv_growth, retention, team_pool) states its rates as
what it would pay if it were the whole variable pay; its lines are that raw amount x its weight, and
the weights of the weighted components in a plan must sum to 1 (a plan with a single weighted
component may leave ``weights`` out). Moving weight between components thus keeps the budget
comparable. Clawback, SPIF, caps/floors and the guarantee are not weighted.

**Validation.** :func:`load_plan` / :func:`load_plans` check everything that can be checked without
the data — unknown keys and component types ("did you mean ..."), rates outside [0, 1] (3 % is 0.03),
weights not summing to 1, overlapping effective dates of two components of one type, unknown tier
labels and roles — and :func:`check_plan` what needs the inputs (a quota for every rep a quota-based
plan pays, the tables a component reads). Every problem comes at once, in ONE ``ParamsError`` line
naming the file and each key. In messages a component is named by its type
(``components.commission.rate``), numbered when a type is listed twice (``components.commission[2]``)
and by its position when its type is unknown (``components[3].type``).
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, PrivateAttr, model_validator

from clvlib import settings
from clvlib.contract import REP_ROLES
from clvlib.errors import ParamsError
from clvlib.params import Month, Text
from clvlib.settings import Problem, Problems, Settings, checked

WEIGHTED = ("commission", "clv_growth", "retention", "team_pool")
TYPES = ("commission", "clv_growth", "retention", "clawback", "team_pool", "spif")
Role = Literal["sales", "service", "supply_chain"]
assert set(Role.__args__) == set(REP_ROLES)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


Rate = checked(float, lambda v: _number(v) and 0 <= v <= 1, "a rate between 0 and 1 (3 % is written 0.03)")
Share = checked(float, lambda v: _number(v) and 0 <= v <= 1, "a share between 0 and 1 (90 % is written 0.9)")
Money = checked(float, lambda v: _number(v) and v >= 0, "an amount >= 0 in the reporting currency")
NonNegative = checked(float, lambda v: _number(v) and v >= 0, "a number >= 0")


class Bilingual(Settings):
    en: Text = Field(description="English")
    zh: Text = Field(description="Chinese")


class Eligibility(Settings):
    roles: list[Role] = Field(["sales"], description="Roles the plan pays (sales, service, supply_chain); a "
                                                     "component's own roles override it")
    after_leave: Literal["nothing", "pay"] = Field(
        "nothing", description="nothing: no commission on payments received (or credit notes dated) after a "
                               "rep's leave date, and no month line for a month after the leave month; pay: they "
                               "are still paid")
    prorate: bool = Field(True, description="Team-pool shares and floors of a month are pro-rated by the days the "
                                            "rep was employed in it (hire and leave months)")


class Component(Settings):
    """What every component has: effective dates (months, inclusive; empty = open)."""

    effective_from: Month | None = Field(None, description="First month the component applies (YYYY-MM); empty = "
                                                           "from the start")
    effective_to: Month | None = Field(None, description="Last month the component applies (YYYY-MM); empty = open")
    roles: list[Role] | None = Field(None, description="Roles this component pays; empty = the plan's eligibility.roles")

    def active(self, month: str) -> bool:
        """True when the component applies in ``month`` (``YYYY-MM``)."""
        return ((self.effective_from is None or self.effective_from <= month)
                and (self.effective_to is None or month <= self.effective_to))


class Limits(Settings):
    cap: Money | None = Field(None, description="Most this component pays a rep in a month (after its weight); the "
                                                "excess is a withheld line")
    floor: Money | None = Field(None, description="Least this component pays a rep in a month it applies (a top-up "
                                                  "line; pro-rated for partial months)")


def _starts_at_zero_and_increases(model, items: str, key: str, what: str):
    """A table's rows (``model.<items>``) must start at 0 and increase in ``key``."""
    rows = getattr(model, items)
    problems = []
    if not rows:
        problems.append(Problem(items, f"must list at least one {what}"))
    elif getattr(rows[0], key) != 0:
        problems.append(Problem(f"{items}[1].{key}", f"the first {what} must start at 0, got {getattr(rows[0], key):g}"))
    for i in range(1, len(rows)):
        now, before = getattr(rows[i], key), getattr(rows[i - 1], key)
        if now <= before:
            problems.append(Problem(f"{items}[{i + 1}].{key}", f"{items} must be in increasing order, got {now:g} "
                                                               f"after {before:g}"))
    if problems:
        raise Problems(problems)
    return model


class Band(Settings):
    above: Money = Field(description="The band starts at this monthly base (the first band at 0)")
    rate: Rate = Field(description="Commission rate in the band")


class RateTable(Settings):
    tiering: Literal["marginal", "whole"] = Field(
        description="marginal: each band's rate on the part of the month's base inside the band (like tax "
                    "brackets); whole: the rate of the band the month's total reaches, on the whole amount")
    bands: list[Band] = Field(description="Bands in increasing order of `above`, the first at 0")

    @model_validator(mode="after")
    def _ordered(self):
        return _starts_at_zero_and_increases(self, "bands", "above", "band")


class Step(Settings):
    attainment: NonNegative = Field(description="From this attainment of quota upward (1.0 = 100 %)")
    multiplier: checked(float, lambda v: _number(v) and 0 <= v <= 5, "a multiplier between 0 and 5") = Field(
        description="The month's commission is multiplied by this (below 1: a decelerator)")


class Accelerators(Settings):
    measure: Literal["collected", "booked"] = Field(
        "collected", description="Attainment = the month's collected (by payment month) or booked (by document "
                                 "date) revenue credited to the rep / the rep's quota for the month")
    steps: list[Step] = Field(description="Steps in increasing order of attainment, the first at 0")

    @model_validator(mode="after")
    def _ordered(self):
        return _starts_at_zero_and_increases(self, "steps", "attainment", "step")


class Holdback(Settings):
    share: Share = Field(description="Share of the month's commission held back")
    months: int = Field(ge=1, le=36, description="Released this many months later (forfeited if the rep has left "
                                                 "by then, with after_leave: nothing)")


class Commission(Component, Limits):
    type: Literal["commission"]
    base: Literal["revenue", "gross_margin"] = Field("revenue", description="What the rate applies to (reporting "
                                                                            "currency, credited by share)")
    earned_on: Literal["collection", "booking"] = Field(
        "collection", description="collection: an invoice counts in the month of its paid_date (unpaid: never); "
                                  "booking: in the month of its order_date. A credit note always counts, negative, "
                                  "in the month of its own order_date")
    rate: Rate | None = Field(None, description="A flat rate (or give `table`)")
    table: RateTable | None = Field(None, description="Tiered rates on the rep's monthly base (or give `rate`)")
    accelerators: Accelerators | None = Field(None, description="Multipliers on attainment of quota (needs the "
                                                                "quota table)")
    holdback: Holdback | None = Field(None, description="Part of each month's commission held back and released later")

    @model_validator(mode="after")
    def _rate_or_table(self):
        if (self.rate is None) == (self.table is None):
            raise Problem("rate", "give either rate (a flat rate) or table (tiered rates), exactly one of them")
        return self


class BridgeRates(Settings):
    existing: Rate = Field(0.0, description="On the change of CLV of customers in the book at both month ends")
    new: Rate = Field(0.0, description="On the CLV of customers won in the month")
    lost: Rate = Field(0.0, description="On the CLV lost with customers lost in the month (a negative amount)")
    transferred: Rate = Field(0.0, description="On CLV handed over between books (usually 0)")


class ClvGrowth(Component, Limits):
    type: Literal["clv_growth"]
    rates: BridgeRates = Field(description="Rates on the parts of the rep's monthly CLV bridge")
    tier_weights: dict[str, NonNegative] | None = Field(
        None, description="Multiplier per customer tier (a tier not listed: 0); empty = 1 for every customer")
    basis: Literal["point", "lower"] = Field("point", description="point: the CLV estimate; lower: the lower end of "
                                                                  "its interval (pay only growth that is sure)")


class Retention(Component, Limits):
    type: Literal["retention"]
    amounts: dict[str, Money] = Field(description="Bonus per customer of these tiers retained (anniversary with "
                                                  "an invoice in the last 12 months), x the rep's book share")


class Clawback(Component):
    type: Literal["clawback"]
    tiers: list[str] = Field(["A"], description="Tiers whose loss is clawed back")
    tier_at: Literal["won", "lost"] = Field(
        "won", description="Whose tier counts: the customer's tier in the month it was won (a customer lost is "
                           "seldom still tiered A when lost) or in the month it was lost")
    within_months: int = Field(12, ge=1, le=36, description="A customer lost at most this many months after it "
                                                            "was won is clawed back")
    amount: Money | None = Field(None, description="Fixed amount per customer, x the winning invoice's credit "
                                                   "share (or give share_of_commission)")
    share_of_commission: Share | None = Field(None, description="Share of the commission this plan paid the rep "
                                                                "on the customer since the win")
    carry: Literal["floor_zero", "carry_forward"] = Field(
        description="A clawback never makes a month's pay negative: floor_zero forgives the rest, carry_forward "
                    "carries it as a balance recovered from later pay")

    @model_validator(mode="after")
    def _amount_or_share(self):
        if (self.amount is None) == (self.share_of_commission is None):
            raise Problem("amount", "give either amount or share_of_commission, exactly one of them")
        return self


class TeamPool(Component, Limits):
    type: Literal["team_pool"]
    share: Rate = Field(description="Share of the team's month figure put in the pool (no pool when it is negative)")
    of: Literal["clv_growth", "gross_margin"] = Field(description="The team's figure: CLV growth of its book or "
                                                                  "gross margin credited to its reps")
    split: Literal["points", "equal"] = Field("points", description="points: by collaboration points (equal when "
                                                                    "nobody has any); equal: the same to each")
    role_points: dict[Role, NonNegative] = Field({}, description="Multiplier of a role's points (default 1), e.g. "
                                                                 "{service: 1.0, supply_chain: 0.5}")


class Spif(Component, Limits):
    type: Literal["spif"]
    label: Bilingual = Field(description="What the SPIF is for")
    base: Literal["won", "retained", "revenue", "gross_margin"] = Field(
        description="won / retained: an amount per customer event; revenue / gross_margin: a rate on collected amounts")
    tiers: list[str] | None = Field(None, description="Only customers of these tiers (won / retained); empty = all")
    amount: Money | None = Field(None, description="Per customer event (won / retained), x the rep's share")
    rate: Rate | None = Field(None, description="On collected revenue or margin (revenue / gross_margin)")

    @model_validator(mode="after")
    def _one_off(self):
        problems = []
        if self.effective_from is None or self.effective_to is None:
            problems.append(Problem("effective_from", "a SPIF is one-off: give effective_from and effective_to"))
        events = self.base in ("won", "retained")
        if events and (self.amount is None or self.rate is not None):
            problems.append(Problem("amount", f"a SPIF on {self.base} events needs amount (and no rate)"))
        if not events and (self.rate is None or self.amount is not None):
            problems.append(Problem("rate", f"a SPIF on {self.base} needs rate (and no amount)"))
        if problems:
            raise Problems(problems)
        return self


AnyComponent = Annotated[Union[Commission, ClvGrowth, Retention, Clawback, TeamPool, Spif], Field(discriminator="type")]
COMPONENT_MODELS = {"commission": Commission, "clv_growth": ClvGrowth, "retention": Retention,
                    "clawback": Clawback, "team_pool": TeamPool, "spif": Spif}


class Weights(Settings):
    commission: Share | None = Field(None, description="Commission's share of the target variable pay")
    clv_growth: Share | None = Field(None, description="CLV-growth bonus's share")
    retention: Share | None = Field(None, description="Retention bonus's share")
    team_pool: Share | None = Field(None, description="Team pool's share")


class Caps(Settings):
    cap: Money | None = Field(None, description="Most a rep is paid in a month, all components together (before "
                                                "holdbacks and the guarantee)")
    floor: Money | None = Field(None, description="Least a rep is paid in a month (a top-up line; pro-rated)")
    carry: Literal["forgive", "carry_forward"] = Field(
        "forgive", description="With a floor: forgive keeps the top-up; carry_forward recovers it from later pay "
                               "above the floor (a negative month is carried, not paid)")


class Guarantee(Settings):
    months: int = Field(ge=1, le=36, description="For this many months from the switch (pay.switch) ...")
    share: Share = Field(description="... nobody gets less than this share of what today's plan would have paid "
                                     "them in the month")
    kind: Literal["top_up", "draw"] = Field(
        "top_up", description="top_up: the difference is paid and kept; draw: paid as an advance, recovered from "
                              "later pay above the guarantee (after the guarantee months: from any pay)")


class Plan(Settings):
    """A pay plan (one file in params/plans/)."""

    title: Bilingual = Field(description="The plan's name on the reports")
    description: Bilingual = Field(description="What the plan pays for, in a few sentences")
    eligibility: Eligibility = Field(default_factory=Eligibility)
    weights: Weights = Field(default_factory=Weights)
    components: list[AnyComponent] = Field(description="The components (see below), each optional and combinable")
    caps: Caps = Field(default_factory=Caps)
    guarantee: Guarantee | None = Field(None, description="A transition guarantee against today's plan")
    _name: str = PrivateAttr("")
    _file: str | None = PrivateAttr(None)

    @property
    def name(self) -> str:
        """The file name without .yaml (``commission_revenue``)."""
        return self._name

    @property
    def file(self) -> str | None:
        return self._file

    def weight(self, kind: str) -> float:
        """The weight of a component type: its stated weight, 1 when it is the plan's only weighted type."""
        if kind not in WEIGHTED:
            return 1.0
        w = getattr(self.weights, kind)
        if w is None:
            return 1.0 if self.weighted_types() == [kind] else 0.0
        return w

    def weighted_types(self) -> list[str]:
        return sorted({c.type for c in self.components if c.type in WEIGHTED}, key=WEIGHTED.index)

    def component_names(self) -> list[str]:
        """How each component is named in messages (``components.commission`` / ``components.commission[2]``)."""
        return _component_names([c.model_dump() | {"type": c.type} for c in self.components])


# ------------------------------------------------------------------ naming and the plan-wide checks
def _component_names(raw_components) -> list[str]:
    types_ = [c.get("type") if isinstance(c, dict) and isinstance(c.get("type"), str) else None
              for c in raw_components]
    names, seen = [], {}
    for i, t in enumerate(types_):
        if t not in TYPES:
            names.append(f"components[{i + 1}]")
            continue
        seen[t] = seen.get(t, 0) + 1
        names.append(f"components.{t}" + (f"[{seen[t]}]" if types_.count(t) > 1 else ""))
    return names


def plan_key_name(raw, loc: tuple) -> str:
    """Message keys for plan files: components named by type (see the module docstring)."""
    comps = raw.get("components") if isinstance(raw, dict) else None
    if len(loc) >= 2 and loc[0] == "components" and isinstance(loc[1], int) and isinstance(comps, list):
        names = _component_names(comps)
        head = names[loc[1]] if loc[1] < len(names) else f"components[{loc[1] + 1}]"
        rest = loc[2:]
        if rest and rest[0] in TYPES:
            rest = rest[1:]
        tail = settings.default_key_name(raw, rest)
        return f"{head}.{tail}" if tail else head
    return settings.default_key_name(raw, loc)


def _checks(tier_labels):
    def run(raw, plan):
        listed = raw.get("components") if isinstance(raw.get("components"), list) else []
        named = [(n, c) for n, c in zip(_component_names(listed), listed) if isinstance(c, dict)]
        comps = [c for _, c in named]
        return _weight_problems(raw, comps) + _overlap_problems(named) + _tier_problems(named, tier_labels)
    return run


def _weight_problems(raw, comps) -> list[str]:
    present = sorted({c.get("type") for c in comps if c.get("type") in WEIGHTED}, key=WEIGHTED.index)
    weights = raw.get("weights")
    weights = {k: v for k, v in weights.items() if v is not None} if isinstance(weights, dict) else {}
    if not weights:
        if len(present) > 1:
            return [f"weights: required: the plan has {len(present)} weighted components ({', '.join(present)}); "
                    "give each its share of the target variable pay, summing to 1"]
        return []
    problems = [f"weights.{k}: the plan has no {k} component" for k in weights
                if k in WEIGHTED and k not in present]
    problems += [f"weights.{k}: missing: the plan has a {k} component (the weights of "
                 f"{', '.join(present)} must sum to 1)" for k in present if k not in weights]
    numbers = {k: v for k, v in weights.items() if k in WEIGHTED and _number(v)}
    if len(numbers) == len(weights) and not problems and abs(sum(numbers.values()) - 1) > 1e-9:
        parts = " + ".join(f"{k} {v:g}" for k, v in numbers.items())
        problems.append(f"weights: must sum to 1, got {sum(numbers.values()):g} ({parts})")
    return problems


def _overlap_problems(named) -> list[str]:
    problems, spans = [], {}
    for name, c in named:
        lo, hi = c.get("effective_from"), c.get("effective_to")
        if not all(v is None or (isinstance(v, str) and len(v) == 7) for v in (lo, hi)):
            continue                                  # a malformed month is reported by the model
        if lo and hi and hi < lo:
            problems.append(f"{name}.effective_to: must be on or after effective_from ({lo}), got {hi}")
            continue
        for other, (olo, ohi) in spans.get(c.get("type"), []):
            if (lo or "0000-00") <= (ohi or "9999-99") and (olo or "0000-00") <= (hi or "9999-99"):
                problems.append(f"{name}.effective_from: overlaps {other} ({olo or 'start'} to {ohi or 'open'}): "
                                f"one {c.get('type')} at a time")
        spans.setdefault(c.get("type"), []).append((name, (lo, hi)))
    return problems


def _tier_problems(named, tier_labels) -> list[str]:
    if not tier_labels:
        return []
    problems = []

    def check(key, labels):
        if not isinstance(labels, (list, dict)):
            return
        for t in labels:
            if t not in tier_labels:
                close = difflib.get_close_matches(str(t), list(tier_labels), n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                problems.append(f"{key}: unknown tier {t!r} ({hint}tiers are {', '.join(tier_labels)}: "
                                "params tiers.labels)")

    for name, c in named:
        field = {"clv_growth": "tier_weights", "retention": "amounts", "clawback": "tiers", "spif": "tiers"}.get(c.get("type"))
        if field:
            check(f"{name}.{field}", c.get(field))
    return problems


# ------------------------------------------------------------------ loading
def load_plan(path: str | Path, tier_labels=("A", "B", "C")) -> Plan:
    """Read and validate one plan file; ONE ParamsError naming the file and every problem."""
    path = Path(path)
    raw = settings.read_yaml(path)
    return plan_from_dict({} if raw is None else raw, path.stem, tier_labels, file=path)


def plan_from_dict(raw, name: str, tier_labels=("A", "B", "C"), file=None) -> Plan:
    """A plan from its parsed YAML mapping (``name`` = the file name without .yaml)."""
    plan = settings.validate(raw, Plan, file=file or f"{name}.yaml", checks=_checks(tuple(tier_labels)),
                             key_name=plan_key_name)
    plan._name = name
    plan._file = str(file) if file is not None else f"{name}.yaml"
    return plan


def load_plans(folder: str | Path, current: str | None = None, tier_labels=("A", "B", "C")) -> dict[str, Plan]:
    """Every ``*.yaml`` plan of ``folder`` by name (sorted); the problems of all files in ONE ParamsError.

    ``current`` (``pay.current_plan``) must be one of them.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise ParamsError(f"pay.plans: no plan files (*.yaml) in {folder}")
    plans, problems = {}, []
    for f in files:
        try:
            plans[f.stem] = load_plan(f, tier_labels)
        except ParamsError as e:
            problems.append(str(e))
    if current is not None and current not in plans and not any(f.stem == current for f in files):
        problems.append(f"pay.current_plan: no plan file {current}.yaml in {folder} (there are: "
                        f"{', '.join(f.stem for f in files)})")
    if problems:
        raise ParamsError("; ".join(problems))
    return plans


def plans_folder(params) -> Path:
    """The folder of pay plans: ``pay.plans`` (relative to the params file), else the workbook's
    ``params/plans/``."""
    from clvlib.paths import PARAMS_DIR

    return params.path("pay.plans") if params["pay"]["plans"] else PARAMS_DIR / "plans"


def plans_from_params(params) -> dict[str, Plan]:
    """The plans of ``params`` (folder ``pay.plans``, baseline ``pay.current_plan``, tiers ``tiers.labels``)."""
    return load_plans(plans_folder(params), params["pay"]["current_plan"], params["tiers"]["labels"])


def describe_plans() -> list[tuple[str, str, str, str]]:
    """(key, type, default, meaning) of every plan key, then of every component type's keys
    (``components[commission].rate``; its own keys first, then those every component has)."""
    rows = [r for r in settings.describe(Plan) if r[0] != "components"]
    at = max(i for i, r in enumerate(rows) if r[0].startswith("description")) + 1
    rows.insert(at, ("components", "list", "(required)", "The components below, each optional and combinable; "
                                                         "`type:` says which"))
    for kind, model in COMPONENT_MODELS.items():
        own = [n for n in model.__annotations__ if n in model.model_fields and n != "type"]
        shared = [n for n in model.model_fields if n not in own and n != "type"]
        rows.append((f"components[{kind}]", f"type: {kind}", "", _TYPE_HELP[kind]))
        rows += settings.describe(model, f"components[{kind}].", own + shared)
    return rows


_TYPE_HELP = {
    "commission": "Commission on revenue or gross margin: flat or tiered, accelerators, holdback (weighted)",
    "clv_growth": "CLV-growth bonus: rates on the parts of the CLV bridge, weighted by tier (weighted)",
    "retention": "Retention bonus per A/B customer retained (weighted)",
    "clawback": "Churn clawback per customer lost within N months after it was won (the hunter pattern)",
    "team_pool": "Team pool: a share of the team's CLV growth or margin, split by collaboration (weighted)",
    "spif": "A one-off SPIF (sales incentive) for a bounded period",
}
