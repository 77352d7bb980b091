r"""Readable tables and sentences for the reports: formatted, translated, escaped.

Names are data, never markup: every value placed in a table or sentence goes through ``escape``,
so a customer called ``<script>alert(1)</script>`` shows as that text, and one whose name hides a
right-to-left override (``"Acme\u202eLTD"``) shows as ``Acme⟨U+202E⟩LTD`` instead of reading backwards
(``clvlib.safety.visible_text``).
"""
from __future__ import annotations

import html

import pandas as pd

from clvlib.safety import visible_text


def escape(value) -> str:
    """``str(value)`` as HTML text: hidden characters shown as markers, then ``<&>"'`` escaped."""
    return html.escape(visible_text(str(value)))

KINDS = ("money", "money_cents", "pct", "pct2", "pct_signed", "num", "num1", "num3", "date", "month", "text", "plain")
TEXT_KINDS = ("text", "date", "month", "plain")


def _cell(v, kind: str, fmt) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "–"
    if kind == "money":
        return fmt.money(v)
    if kind == "money_cents":
        return fmt.money(v, compact=False, cents=True)
    if kind == "pct":
        return fmt.pct(v)
    if kind == "pct2":
        return fmt.pct(v, 2)
    if kind == "pct_signed":
        return fmt.pct(v, signed=True)
    if kind == "num":
        return fmt.num(v)
    if kind == "num1":
        return fmt.num(v, 1)
    if kind == "num3":
        return fmt.num(v, 3)
    if kind == "date":
        return fmt.date(v)
    if kind == "month":
        return fmt.month(v)
    return str(v)


def table_html(df: pd.DataFrame, columns: dict[str, str], *, t, fmt, max_rows: int | None = None,
               caption: str | None = None, css_class: str = "clv-table") -> str:
    """An HTML table of ``columns`` ({column: kind}) with headers translated via ``t("col.<name>")``."""
    cols = list(columns)
    body = df[cols] if max_rows is None else df[cols].head(max_rows)
    head = "".join(
        f'<th class="{"num" if columns[c] not in TEXT_KINDS else "txt"}">'
        f'{escape(t("col." + c) if t.has("col." + c) else c)}</th>' for c in cols)
    rows = []
    for rec in body.itertuples(index=False):
        tds = []
        for c, v in zip(cols, rec):
            kind = columns[c]
            cls = ("num" if kind not in TEXT_KINDS else "txt") + (" nowrap" if kind in ("date", "month") else "")
            tds.append(f'<td class="{cls}">{escape(_cell(v, kind, fmt))}</td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<table class="{css_class}">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def sentence(text: str, **values) -> str:
    """Fill a trusted template (from the translation catalogue) with escaped values."""
    return text.format(**{k: escape(v) for k, v in values.items()})


def kpi_cards(cards: list[tuple[str, str, str | None]]) -> str:
    """Headline figures: [(label, value, note)] as a row of cards."""
    out = []
    for label, value, note in cards:
        n = f'<div class="note">{escape(note)}</div>' if note else ""
        out.append(f'<div class="card"><div class="label">{escape(label)}</div>'
                   f'<div class="value">{escape(value)}</div>{n}</div>')
    return '<div class="clv-cards">' + "".join(out) + "</div>"
