"""Language of the reports: translated strings and number formats (``language: en | zh``).

Strings live in ``i18n/<lang>.yaml`` and in the section files ``i18n/<lang>/*.yaml`` (one per report
section, merged in; a key defined twice is an error), under dotted keys; both languages must have the
same keys (a test checks it). ``Fmt`` formats money, percentages, counts and dates the way a reader of that
language expects: ``$1.23M`` / ``123.5万美元``, ``31 Oct 2026`` / ``2026年10月31日``.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from clvlib.errors import ClvError

CATALOG_DIR = Path(__file__).parent / "i18n"
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "AUD": "A$", "CAD": "C$",
           "HKD": "HK$", "SGD": "S$"}
ZH_NAMES = {"USD": "美元", "EUR": "欧元", "GBP": "英镑", "JPY": "日元", "CNY": "元", "AUD": "澳元",
            "CAD": "加元", "HKD": "港元", "SGD": "新加坡元", "AED": "迪拉姆"}
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


class _UniqueKeys(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (plain YAML keeps the last one silently)."""


def _mapping(loader, node, deep=False):
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ClvError(f"translation key '{twice[0]}' is given twice in one block of {loader.name}")
    return loader.construct_mapping(node, deep=deep)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _read(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_UniqueKeys) or {}


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{lang}.yaml"
    if not path.exists():
        raise ClvError(f"no translations for language '{lang}' ({path} is missing)")
    out = _flatten(_read(path))
    for part in sorted((CATALOG_DIR / lang).glob("*.yaml")):
        more = _flatten(_read(part))
        twice = sorted(set(more) & set(out))
        if twice:
            raise ClvError(f"translation key '{twice[0]}' is defined twice ({part} and another {lang} file)")
        out.update(more)
    return out


class Translator:
    """``t("overview.title")`` or ``t("overview.revenue_up", pct="5%")``."""

    def __init__(self, lang: str = "en"):
        self.lang = lang
        self.strings = catalog(lang)

    def __call__(self, key: str, **values) -> str:
        try:
            text = self.strings[key]
        except KeyError:
            raise ClvError(f"missing translation '{key}' for language '{self.lang}' "
                           f"(add it to {CATALOG_DIR / (self.lang + '.yaml')})") from None
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.strings


class Fmt:
    """Number and date formats for one language and reporting currency."""

    def __init__(self, lang: str = "en", currency: str = "USD"):
        self.lang, self.currency = lang, currency
        self.month_word = "月份" if lang == "zh" else "Month"

    # ---- numbers
    def _compact(self, x: float, decimals: int = 1) -> str:
        a = abs(x)
        if self.lang == "zh":
            for div, unit in ((1e8, "亿"), (1e4, "万")):
                if a >= div:
                    return f"{x / div:,.{decimals if a / div < 100 else 0}f}{unit}"
            return f"{x:,.0f}"
        for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if a >= div:
                v = x / div
                return f"{v:,.{2 if abs(v) < 10 else decimals if abs(v) < 100 else 0}f}{unit}"
        return f"{x:,.0f}"

    def money(self, x, compact: bool = True, cents: bool = False) -> str:
        if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
            return "–"
        x = float(x)
        body = self._compact(x) if compact else (f"{x:,.2f}" if cents else f"{x:,.0f}")
        if self.lang == "zh":
            return f"{body}{ZH_NAMES.get(self.currency, ' ' + self.currency)}"
        sym = SYMBOLS.get(self.currency)
        neg = body.startswith("-")
        body = body.lstrip("-")
        text = f"{sym}{body}" if sym else f"{self.currency} {body}"
        return f"-{text}" if neg else text

    def money_band(self, low, high) -> str:
        """A value band for a chart axis: '$1k – $3k', or '≤ $1' for the bottom band."""
        def short(x):
            return re.sub(r"\.0+(?=[kMB万亿])", "", self.money(x))
        if low is None or not math.isfinite(low):
            return f"< {short(high)}"
        return f"{short(low)} – {short(high)}"

    def pct(self, x, decimals: int = 1, signed: bool = False) -> str:
        if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
            return "–"
        return f"{x * 100:{'+' if signed else ''}.{decimals}f}%"

    def num(self, x, decimals: int = 0, signed: bool = False) -> str:
        if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
            return "–"
        return f"{x:{'+' if signed else ''},.{decimals}f}"

    def pts(self, x, decimals: int = 1) -> str:
        """A change of a share in percentage points: ``+1.2 pts`` / ``+1.2个百分点``."""
        if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
            return "–"
        unit = "个百分点" if self.lang == "zh" else " pts"
        return f"{x * 100:+.{decimals}f}{unit}"

    def date(self, d) -> str:
        d = pd.Timestamp(d)
        return f"{d.year}年{d.month}月{d.day}日" if self.lang == "zh" else f"{d.day} {EN_MONTHS[d.month - 1]} {d.year}"

    def month(self, d) -> str:
        d = pd.Timestamp(d) if not isinstance(d, pd.Period) else d.to_timestamp()
        return f"{d.year}年{d.month}月" if self.lang == "zh" else f"{EN_MONTHS[d.month - 1]} {d.year}"

    # ---- chart axes: (divisor, unit suffix for the axis title, d3 format)
    def money_axis(self) -> tuple[float, str, str]:
        if self.lang == "zh":
            return 1e4, f"万{ZH_NAMES.get(self.currency, self.currency)}", ",.0f"
        sym = SYMBOLS.get(self.currency, "")
        return 1.0, self.currency, f"{'$' if sym == '$' else ''},.3~s"
