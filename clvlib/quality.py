"""Data quality: the row accounting of a run, the reasons rows were set aside, the values repaired.

The reasons and notes of intake are stored in English with their key and values (``reason_args``);
``for_display`` and ``note_text`` give them in the report's language.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd


def counts_frame(counts: dict) -> pd.DataFrame:
    """One row per table: files, rows read / accepted / quarantined (read = accepted + quarantined), and
    of the accepted rows those with a repaired value; rows added on load (split credit) beside."""
    rows = []
    for table, c in counts.items():
        rows.append({"table": table, "files": ", ".join(Path(f["file"]).name for f in c.get("files", [])) or "–",
                     "rows_read": c["rows_read"], "rows_accepted": c["rows_accepted"],
                     "rows_quarantined": c["rows_quarantined"], "rows_repaired": c.get("rows_repaired", 0),
                     "rows_added": c.get("rows_added", 0),
                     "quarantined_pct": c["rows_quarantined"] / c["rows_read"] if c["rows_read"] else 0.0,
                     "provided": c.get("provided", True)})
    return pd.DataFrame(rows)


def top_reasons(quarantine: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Quarantined rows grouped by table and rule, most frequent first, with one example each
    (``example_args``: its ``reason_args``, for ``for_display(..., reason="example", args="example_args")``)."""
    if quarantine.empty:
        return pd.DataFrame(columns=["table", "rule", "rows", "example", "example_args"])
    if "reason_args" not in quarantine:
        quarantine = quarantine.assign(reason_args="")
    g = (quarantine.groupby(["table", "rule"], sort=False)
         .agg(rows=("reason", "size"), example=("reason", "first"), example_args=("reason_args", "first"))
         .reset_index().sort_values(["rows", "table"], ascending=[False, True]))
    return g.head(n).reset_index(drop=True)


def document_status(orders: pd.DataFrame) -> pd.DataFrame:
    """Accepted order documents by status and type: what counts (booked) and what is excluded."""
    g = orders.groupby(["status", "doc_type"]).agg(documents=("order_id", "size"),
                                                   amount_rc=("amount_rc", "sum")).reset_index()
    return g.sort_values(["status", "doc_type"]).reset_index(drop=True)


def totals(counts: dict) -> dict:
    """Rows read, accepted, quarantined, repaired (of the accepted) and added, over every table."""
    read = sum(c["rows_read"] for c in counts.values())
    acc = sum(c["rows_accepted"] for c in counts.values())
    qua = sum(c["rows_quarantined"] for c in counts.values())
    return {"rows_read": read, "rows_accepted": acc, "rows_quarantined": qua, "rows_repaired": rows_repaired(counts),
            "rows_added": sum(c.get("rows_added", 0) for c in counts.values()),
            "tables": sum(1 for c in counts.values() if c.get("provided", True))}


# ------------------------------------------------------------------------------------------- repairs
def repair_summary(repairs: pd.DataFrame) -> pd.DataFrame:
    """Repaired values grouped by table, rule and column, most frequent first, with one example each
    (``table, rule, column, rows, example, example_args, source_file, source_row``)."""
    from clvlib.sources.repairs import summary

    return summary(repairs)


def rows_repaired(counts: dict) -> int:
    """Accepted rows with at least one repaired value, over every table."""
    return sum(c.get("rows_repaired", 0) for c in counts.values())


# ------------------------------------------------------------------------------------------- language
def _localise_rows(text: str, t) -> str:
    """'row 12' / 'rows 7, 8' in another language (the English text is kept as it is)."""
    if getattr(t, "lang", "en") == "en" or not t.has("intake.rows_ref"):
        return text
    return re.sub(r"\brows? (\d+(?:, \d+)*)", lambda m: t("intake.rows_ref", rows=m.group(1).replace(", ", "、")),
                  text)


def reason_text(reason_args: str, english: str, t, block: str = "reason") -> str:
    """A quarantine (``block="reason"``) or repair (``"repair"``) reason in the translator's language.

    ``reason_args`` is the cell of that name (JSON, see ``clvlib.sources.reasons``); ``english`` the
    ``reason`` cell, returned as it is when the language is English or a key has no translation.
    """
    from clvlib.sources.reasons import parse_args

    parts = parse_args(reason_args)
    if getattr(t, "lang", "en") == "en" or not parts:
        return english
    out = []
    for p in parts:
        key = f"intake.{block}.{p['key']}"
        if not t.has(key):
            return english
        values = {k: _localise_rows(str(v), t) for k, v in p.items() if k != "key"}
        try:
            out.append(t(key, **values))
        except (KeyError, IndexError):
            return english
    return t("intake.sep").join(out)


def note_text(note, t) -> str:
    """An intake note in the translator's language (plain strings and untranslated keys: as they are)."""
    key, args = getattr(note, "key", None), getattr(note, "args", None)
    if getattr(t, "lang", "en") == "en" or key is None or not t.has(f"intake.note.{key}"):
        return str(note)
    values = {k: _localise_rows(str(v), t) for k, v in args.items()}
    if t.has(f"table.{values.get('table')}"):
        values["table"] = t(f"table.{values['table']}")
    if t.has(f"intake.repair_rule.{values.get('rule')}"):
        values["rule_text"] = t(f"intake.repair_rule.{values['rule']}")
    try:
        return t(f"intake.note.{key}", **values)
    except (KeyError, IndexError):
        return str(note)


def for_display(df: pd.DataFrame, t, reason: str = "reason", args: str = "reason_args",
                block: str = "reason") -> pd.DataFrame:
    """A quarantine, repairs or summary frame with its table, rule and reason in the translator's
    language (``reason``/``args``: the columns holding the English sentence and its ``reason_args``)."""
    out = df.copy()
    if "table" in out:
        out["table"] = [t(f"table.{v}") if t.has(f"table.{v}") else v for v in out["table"]]
    if "rule" in out:
        prefixes = ("intake.repair_rule.",) if block == "repair" else ("rule.", "intake.rule.")
        out["rule"] = [next((t(p + v) for p in prefixes if t.has(p + v)), v) for v in out["rule"]]
    if reason in out and args in out:
        out[reason] = [reason_text(a, e, t, block) for a, e in zip(out[args], out[reason])]
    return out
