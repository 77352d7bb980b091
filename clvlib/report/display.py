"""Display helpers for the notebooks: translated sentences, tables, cards and lists as report HTML.

``page = Page(t, fmt)`` (a notebook gets it as ``wb.page``) shows everything through IPython's
display, so Papermill keeps it in the executed notebook and nbconvert in the report. Every value is
escaped: names are data, never markup.
"""
from __future__ import annotations

import pandas as pd


class Page:
    """What a notebook writes into its section of the report (``t``: Translator, ``fmt``: Fmt)."""

    def __init__(self, t, fmt):
        self.t = t
        self.fmt = fmt

    def show(self, markup: str):
        """Show trusted HTML (built by clvlib's own helpers)."""
        from IPython.display import HTML, display

        display(HTML(markup))

    def display(self, obj):
        """Show a chart or table from inside an ``if`` block (only a cell's last line shows by itself)."""
        from IPython.display import display

        display(obj)

    def say(self, key: str, css: str | None = None, **values):
        """A translated sentence with escaped values, as a paragraph of the report."""
        from clvlib.report.tables import sentence

        text = sentence(self.t(key), **values)
        cls = f' class="{css}"' if css else ""
        self.show(f"<p{cls}>{text}</p>")

    def show_table(self, df: pd.DataFrame, columns: dict[str, str], max_rows: int | None = None,
                   caption: str | None = None):
        """A formatted table of ``columns`` ({column: kind}, see ``clvlib.report.tables.KINDS``)."""
        from clvlib.report.tables import table_html

        self.show(table_html(df, columns, t=self.t, fmt=self.fmt, max_rows=max_rows, caption=caption))

    def bullets(self, items, title: str | None = None):
        """A list of plain-text items (escaped), with an optional heading line."""
        from clvlib.report.tables import escape

        head = f"<p><b>{escape(title)}</b></p>" if title else ""
        self.show(head + "<ul>" + "".join(f"<li>{escape(str(i))}</li>" for i in items) + "</ul>")

    def cards(self, cards: list[tuple[str, str, str | None]]):
        """Headline figures: [(label, value, note)] as a row of cards."""
        from clvlib.report.tables import kpi_cards

        self.show(kpi_cards(cards))

    def label(self, values: pd.Series, prefix: str) -> pd.Series:
        """Translate codes (``team``, ``rule``, ``status`` ...) for display: ``t(prefix + "." + code)``."""
        return values.map(lambda v: self.t(f"{prefix}.{v}") if self.t.has(f"{prefix}.{v}") else v)
