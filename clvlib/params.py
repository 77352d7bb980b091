"""Load and validate the workbook's settings (``params/company.yaml``) with clear messages.

Every setting is declared once in ``SCHEMA`` with its type, default and limits. Loading fills in the
defaults, rejects unknown keys (a typo must not be silently ignored) and reports every problem at once,
one line each: ``params/company.yaml: clv.horizon_months: must be a whole number between 1 and 120,
got 'twelve'``. Relative paths in a params file are relative to that file.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from clvlib.errors import ParamsError
from clvlib.paths import DEFAULT_PARAMS

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Setting:
    kind: str                      # str | int | float | bool | choice | path | currency
    default: Any = None
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    required: bool = False


SCHEMA: dict[str, Any] = {
    "company": Setting("str", "Demo Export Co.", "Company name shown on the reports"),
    "reporting_currency": Setting("currency", "USD", "ISO code every amount is converted to"),
    "language": Setting("choice", "en", "Language of the reports", choices=LANGUAGES),
    "sources": Setting("path", "sources/demo.yaml", "Where the input files are and how their columns "
                                                    "map to the data contract", required=True),
    "demo": Setting("bool", False, "Build the demo company into the sources folder when it is missing"),
    "fx": {
        "max_age_days": Setting("int", 7, "Newest FX rate on or before an order date may be this old",
                                min=0, max=366),
        "strict": Setting("bool", False, "Stop the run on an unknown currency or missing rate instead "
                                         "of quarantining the row"),
        "plausibility": Setting("choice", "stop", "Rates that look inverted or mis-scaled (a currency's orders "
                                                  "orders of magnitude off): stop the run, warn in the notes, or "
                                                  "off", choices=("stop", "warn", "off")),
    },
    "customers": {
        "lost_after_days": Setting("int", 365, "A customer with no order for this long counts as lost",
                                   min=30, max=3650),
    },
    "clv": {
        "time_unit": Setting("choice", "W", "Model time unit: W (weeks) or D (days)", choices=("W", "D")),
        "horizon_months": Setting("int", 12, "CLV horizon", min=1, max=120),
        "monthly_discount_rate": Setting("float", 0.01, "Discount rate per month", min=0.0, max=0.2),
        "holdout_weeks": Setting("int", 26, "Holdout window for the monthly model check", min=4, max=104),
        "interval_level": Setting("float", 0.9, "Coverage of the CLV intervals", min=0.5, max=0.99),
        "interval_draws": Setting("int", 200, "Parameter draws for the CLV intervals", min=20, max=5000),
        "value": Setting("choice", "gross_margin", "What a purchase is worth: gross_margin (profit, the "
                                                   "seed's definition) or revenue",
                         choices=("gross_margin", "revenue")),
        "model": Setting("choice", "bgnbd", "Purchase model", choices=("bgnbd", "paretonbd")),
        "seed": Setting("int", 2026, "Random seed for intervals (runs are reproducible)", min=0),
    },
    "report": {
        "top_n": Setting("int", 15, "Rows in 'top' tables", min=3, max=100),
        "months_shown": Setting("int", 24, "Months of history in trend charts", min=3, max=120),
    },
}


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
        """A path setting, resolved relative to the params file."""
        value = Path(self[key])
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


def _check(value, s: Setting, key: str, problems: list[str]):
    def bad(what):
        problems.append(f"{key}: must be {what}, got {value!r}")

    if s.kind in ("str", "path"):
        if not isinstance(value, str) or not value.strip():
            return bad("a non-empty text")
    elif s.kind == "currency":
        if not (isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper()):
            return bad("a 3-letter ISO 4217 code in capitals such as USD, EUR or CNY")
    elif s.kind == "choice":
        if value not in s.choices:
            return bad("one of " + ", ".join(map(str, s.choices)))
    elif s.kind == "bool":
        if not isinstance(value, bool):
            return bad("true or false")
    elif s.kind in ("int", "float"):
        ok = isinstance(value, int) if s.kind == "int" else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            lim = ""
            if s.min is not None and s.max is not None:
                lim = f" between {s.min:g} and {s.max:g}"
            elif s.min is not None:
                lim = f" >= {s.min:g}"
            return bad(("a whole number" if s.kind == "int" else "a number") + lim)
        if (s.min is not None and value < s.min) or (s.max is not None and value > s.max):
            hi = f" and {s.max:g}" if s.max is not None else ""
            return bad(f"between {s.min:g}{hi}" if s.max is not None else f">= {s.min:g}")
    return None


def validate(raw: dict, schema: dict = SCHEMA, prefix: str = "", problems: list[str] | None = None) -> dict:
    """Fill defaults and check ``raw`` against ``schema``; returns the completed dict or raises."""
    top = problems is None
    problems = [] if problems is None else problems
    if not isinstance(raw, dict):
        problems.append(f"{prefix.rstrip('.') or 'the file'}: must be a mapping of settings")
        raw = {}
    out = {}
    for key in raw:
        if key not in schema:
            known = ", ".join(schema)
            problems.append(f"{prefix}{key}: unknown setting (known here: {known})")
    for key, s in schema.items():
        if isinstance(s, dict):
            out[key] = validate(raw.get(key) or {}, s, f"{prefix}{key}.", problems)
            continue
        if key not in raw or raw[key] is None:
            if s.required and key not in raw:
                problems.append(f"{prefix}{key}: required ({s.help})")
            out[key] = copy.deepcopy(s.default)
            continue
        _check(raw[key], s, prefix + key, problems)
        out[key] = raw[key]
    if top and problems:
        raise ParamsError("; ".join(problems))
    return out


def load(path: str | Path | None = None, overrides: dict | None = None) -> Params:
    """Read a params file, apply ``overrides`` (a nested dict), validate, return ``Params``.

    Raises ``ParamsError`` with one line naming the file and every invalid setting.
    """
    path = Path(path) if path else DEFAULT_PARAMS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError("file not found; pass --params with the path to your company.yaml",
                          file=path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ParamsError(f"cannot read it ({e.__class__.__name__}: {e})", file=path) from None
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParamsError(f"not valid YAML{where}: {getattr(e, 'problem', e)}", file=path) from None
    if overrides:
        raw = _merge(raw if isinstance(raw, dict) else {}, overrides)
    try:
        done = validate(raw)
    except ParamsError as e:
        raise ParamsError(str(e), file=path) from None
    params = _wrap(done)
    params.file = path.resolve()
    return params


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out.get(k) or {}, v) if isinstance(v, dict) else v
    return out


def describe(schema: dict = SCHEMA, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, help) for every setting — used by the README's settings table and `clvlib params`."""
    rows = []
    for key, s in schema.items():
        if isinstance(s, dict):
            rows += describe(s, f"{prefix}{key}.")
        else:
            rows.append((prefix + key, repr(s.default), s.help))
    return rows
