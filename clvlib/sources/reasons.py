"""The sentences of intake: why a row was set aside, why a value was repaired, what a note says.

Every quarantine reason, repair reason and intake note is a template with named values, declared once
here under a stable key. The English sentence is written into ``quarantine.csv`` / ``repairs.csv`` /
``intake.json`` (column ``reason``); the key and the values go beside it (column ``reason_args``, JSON:
``[{"key": "unknown_currency", "currency": "USS"}]``, one object per reason of the row), so a report in
another language translates the sentence where it is shown (``clvlib.quality.reason_text``; the
catalogues have the same templates under ``intake.reason.*``, ``intake.repair.*`` and
``intake.note.*`` — a test checks the English ones are these).
"""
from __future__ import annotations

import json
import string

import numpy as np
import pandas as pd

#: why a row is set aside: key -> English template
QUARANTINE = {
    "wrong_field_count": "the row has {fields} fields but the header has {header}; check the delimiter and quotes "
                         "in this row",
    "formula_without_value": "{column}: the cell holds a formula ({formula}), not a value — open and save the file "
                             "in Excel, or export values",
    "zero_cannot_invert": "{column} is 0 and cannot be inverted",
    "not_a_date": "{column}: not a date",
    "not_a_month": "{column}: not a month (write it as YYYY-MM)",
    "not_a_number": "{column}: not a number",
    "not_a_whole_number": "{column}: not a whole number",
    "ambiguous_date": "{column}: '{text}' could be {d1} {month1} or {d2} {month2}; write it as YYYY-MM-DD",
    "date_is_day_first": "{column}: '{text}' is day-first but the column's other dates are month-first (e.g. "
                         "'{example}'); write it as YYYY-MM-DD",
    "date_is_month_first": "{column}: '{text}' is month-first but the column's other dates are day-first (e.g. "
                           "'{example}'); write it as YYYY-MM-DD",
    "date_not_ymd": "{column}: '{text}' is not year-month-day as `date_order: ymd` declares; write it as YYYY-MM-DD",
    "missing_value": "{column} is empty (required)",
    "not_allowed": "{column} '{value}' is not one of {allowed} — map it with values.{column} in the sources file",
    "not_allowed_mapped": "{column} '{value}' is not one of {allowed} — map it under values.{column} in the sources "
                          "file",
    "out_of_range": "{column} must be between {low} and {high}",
    "invalid_check": "{column} fails {check}",
    "zero_rate": "rate must be greater than 0 (a rate of 0 would erase the amounts)",
    "leave_before_hire": "leave_date is before hire_date",
    "valid_to_before_from": "valid_to is before valid_from",
    "duplicate_row": "exact duplicate of {where} (collapsed to one)",
    "conflicting_duplicate": "conflicting rows share the same {key_column} ({where}); none is used until the source "
                             "is corrected",
    "split_not_one": "shares of order {order} sum to {total}, not 1; the order is credited to its own rep instead",
    "split_line_set_aside": "another line of the split of order {order} ({where}) was set aside, so the shares left "
                            "sum to {total}; the order is credited to its own rep instead",
    "unknown_customer": "unknown customer (not in the customers table)",
    "unknown_rep": "unknown rep (not in the reps table)",
    "unknown_order": "unknown order (not in the orders table)",
    "customer_set_aside": "its customer {id} was set aside ({where} of the customers table)",
    "rep_set_aside": "its rep {id} was set aside ({where} of the reps table)",
    "order_set_aside": "its order {id} was set aside ({where} of the orders table)",
    "customer_name_ambiguous": "the name '{name}' matches several customers ({ids}); export the id instead",
    "rep_name_ambiguous": "the name '{name}' matches several reps ({ids}); export the id instead",
    "customer_name_unknown": "no customer named '{name}' in the customers table",
    "rep_name_unknown": "no rep named '{name}' in the reps table",
    "unknown_currency": "unknown currency '{currency}' (no FX rates for it)",
    "no_fx_rate": "no FX rate for {currency} on or before {date}",
    "no_fx_rate_window": "no FX rate for {currency} on or up to {days} days before {date}",
    "credit_note_waits": "its original invoice {order} was set aside ({where}); the credit note waits for it",
    "no_rep_no_owner": "no rep on the order and nobody owned the account {customer} on {date} (no ownership row "
                       "covers that day); add the rep to the order or the owner to the ownership table",
    "ownership_over_one": "the shares of customer {customer}'s owners on {date} sum to {total}, more than 1 "
                          "({where}); none of these rows is used until the source is corrected",
}

#: why an accepted value was changed: key -> English template
REPAIR = {
    "default_filled": "{column} was empty; the data contract's default {after} is used",
    "empty_mapped": "{column} was empty; the sources file maps an empty {column} to '{after}' (values.{column})",
    "negative_invoice": "the amount {amount} is negative, so the document is a credit note, not an invoice",
    "credit_note_sign": "a credit note reduces revenue: {column} {before} is counted as {after}",
    "credit_note_follows_invoice": "a credit note is credited like its original invoice {order}: {column} "
                                   "'{before}' becomes '{after}'",
    "rep_from_owner": "no rep on the order and no split credit: credited to {after}, the account's owner on {date}",
    "rep_from_shared_owners": "no rep on the order and no split credit: the account had {n} owners on {date} "
                              "({owners}); rep_id is the largest share, {after}, and the credit is split by the "
                              "ownership shares",
    "owner_split_added": "split credit added for order {order} from the account's owners on {date}: {after}",
    "duplicates_collapsed": "{n} identical rows ({where}) are used once",
}

#: notes about the inputs as a whole (nothing set aside, nothing changed row by row)
NOTE = {
    "column_absent": "{table}: {file} has no column {header}; {column} is {default} for its rows",
    "columns_defaulted": "{table}: no column for {columns} in the files; every row gets the data contract's "
                         "default ({defaults})",
    "blank_rows": "{table}: {file}: {n} blank row(s) skipped (no value in any mapped column)",
    "star_matched": "{table}.{column}: {listed} matched only \"*\" and became '{value}' — list them in "
                    "values.{column} if that is wrong",
    "fx_base": "fx_rates are quoted in {base}; amounts are converted to {currency} through {base}",
    "credit_note_original_missing": "orders: {n} credit note(s) name an original invoice that is not in the orders "
                                    "(older than the export?); they reduce their own customer's and rep's figures",
    "repaired": "{table}.{column}: {rule_text} — {n} row(s), e.g. {file} row {row}: {example}; each is listed "
                "in repairs.csv",
    "fx_doubt": "WARNING (fx.plausibility: warn): {message}",
}

_FIELDS: dict[str, list[tuple[str, str | None]]] = {}


def _parts(template: str) -> list[tuple[str, str | None]]:
    if template not in _FIELDS:
        _FIELDS[template] = [(lit, field) for lit, field, _, _ in string.Formatter().parse(template)]
    return _FIELDS[template]


def fields(template: str) -> set[str]:
    """The names a template needs."""
    return {f for _, f in _parts(template) if f}


def _text(v):
    """A value as text: a scalar stays a scalar, a Series/array becomes an object array ('' for empty)."""
    if isinstance(v, (pd.Series, np.ndarray, pd.Index, list)):
        s = pd.Series(np.asarray(v, dtype=object) if not isinstance(v, pd.Series) else v.to_numpy(dtype=object))
        return s.where(s.notna(), "").astype(str).to_numpy(dtype=object)
    return "" if v is None or (isinstance(v, float) and v != v) else str(v)


def at_rows(x, mask: np.ndarray, index: pd.Index):
    """A scalar as is; a Series (aligned to ``index``) or array: its values at ``mask``, as text."""
    if isinstance(x, pd.Series):
        x = x if x.index.equals(index) else x.reindex(index)
        x = x[mask]
    elif isinstance(x, np.ndarray):
        x = pd.Series(x[mask])
    else:
        return x
    return x.astype(object).where(x.notna(), "").astype(str).to_numpy(dtype=object)


def render(template: str, args: dict):
    """``template.format(**args)`` where each value may be a scalar or a sequence (all of one length).

    Returns a str when every value is a scalar, else an object array of sentences.
    """
    vals = {k: _text(v) for k, v in args.items()}
    if not any(isinstance(v, np.ndarray) for v in vals.values()):
        return template.format(**vals)
    n = next(len(v) for v in vals.values() if isinstance(v, np.ndarray))
    out = np.full(n, "", dtype=object)
    for lit, field in _parts(template):
        if lit:
            out = out + lit
        if field:
            out = out + vals[field]
    return out


def _json_strings(v: np.ndarray) -> np.ndarray:
    """Each text as a JSON string: each distinct value once, quoted as it is unless it needs escaping."""
    codes, uniques = pd.factorize(v)
    u = pd.Series(uniques, dtype=object)
    enc = ('"' + u + '"').to_numpy(dtype=object, copy=True)
    risky = u.str.contains(r'["\\\x00-\x1f]', regex=True).fillna(True).to_numpy(dtype=bool)
    if risky.any():
        enc[risky] = [json.dumps(x, ensure_ascii=False) for x in u[risky]]
    return enc[codes] if len(enc) else np.array([], dtype=object)


def args_json(key: str, args: dict):
    """The JSON object ``{"key": key, name: value ...}`` for each row (scalar or object array)."""
    if "key" in args:
        raise ValueError("a reason's values cannot be named 'key' (it names the template)")
    vals = {k: _text(v) for k, v in args.items()}
    head = '{"key": ' + json.dumps(key)
    if not any(isinstance(v, np.ndarray) for v in vals.values()):
        return head + "".join(f", {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in vals.items()) + "}"
    n = next(len(v) for v in vals.values() if isinstance(v, np.ndarray))
    out = np.full(n, head, dtype=object)
    for k, v in vals.items():
        if isinstance(v, np.ndarray):
            enc = _json_strings(v)
        else:
            enc = json.dumps(v, ensure_ascii=False)
        out = out + f", {json.dumps(k)}: " + enc
    return out + "}"


def parse_args(text: str) -> list[dict]:
    """The reason objects of one ``reason_args`` cell ([] for an empty or unreadable cell)."""
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        got = json.loads(text)
    except ValueError:
        return []
    return [g for g in (got if isinstance(got, list) else [got]) if isinstance(g, dict) and "key" in g]


class Note(str):
    """A note about the inputs: reads as its English sentence, and keeps ``key`` and ``args`` so a report
    in another language can translate it (``clvlib.quality.note_text``)."""

    key: str
    args: dict

    def __new__(cls, key: str, **args):
        self = super().__new__(cls, render(NOTE[key], args))
        self.key, self.args = key, {k: _text(v) for k, v in args.items()}
        return self


def shown(value) -> str:
    """A contract default or constant as a person writes it: 0 (not 0.0), 1, booked."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def note(key: str, **args) -> Note:
    """``Note(key, **args)``; raises KeyError for an unknown key (a test would catch a typo)."""
    if key not in NOTE:
        raise KeyError(f"no intake note '{key}'")
    return Note(key, **args)
