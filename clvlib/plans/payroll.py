"""The payroll export: what each plan pays each person for the period, one row per (rep, plan), to the cent.

:func:`payroll_table` sums the period's lines of pay (``Pay.lines``, :mod:`clvlib.plans.engine`) into
fixed columns, so a payroll system can map them once:

===============  ======================================================================================
column           what it holds (sums of lines, ``Decimal`` to the cent)
===============  ======================================================================================
``rep_id``       the person paid
``name``         their name (from the ``reps`` table)
``period``       the month paid (``YYYY-MM``)
``plan``         the plan's name (its file name in ``params/plans/``)
``in_force``     True for today's plan (``pay.current_plan``); the other plans are what they *would*
                 pay, for the comparison — never sum the whole file
``commission``   commission lines (documents, bands, accelerators, the component's caps/floors), without
                 holdbacks and releases
``clv_growth``   CLV-growth bonus lines
``retention``    retention bonus lines
``team_pool``    team-pool lines
``spif``         one-off incentive lines
``clawback``     clawbacks and their carry (deferred, forgiven, recovered)
``caps_floors``  the plan's caps and floors on the whole month (the engine's component ``total``)
``holdback``     net holdback: commission held this month (negative) plus earlier holdbacks released
``guarantee``    guarantee top-ups, draws and draw recoveries
``total``        the sum of all the lines: the amount to pay
===============  ======================================================================================

``total`` equals the sum of the other money columns exactly (integer cents underneath). A statement
(:mod:`clvlib.report.statements`) groups a rep's lines by the same columns (:func:`pay_group`), so a
statement and the payroll file always show the same figures.

:func:`write_payroll` writes ``payroll.csv`` (UTF-8; money as plain decimals such as ``-108.62``) and
``payroll.xlsx`` (money as numbers with a two-decimal format, not text) through
:func:`clvlib.safety.safe_csv` / :func:`clvlib.safety.safe_xlsx`: a name such as ``=HYPERLINK(...)``,
``+cmd`` or ``@SUM(A1)`` is written as text, never run as a formula, and invisible or bidirectional
control characters in a name are shown as markers (:func:`visible_text`: ``⟨U+202E⟩``).
"""
from __future__ import annotations

import unicodedata
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.errors import DataError

try:      # one rule for every output: hidden characters shown as markers (clvlib.safety)
    from clvlib.safety import visible_text
except ImportError:      # a clvlib.safety that does not have it yet: the same rule, here
    def visible_text(value):
        r"""A text with every invisible format or control character (Unicode Cf, Cc; tab, line feed and
        carriage return kept) shown as a marker: ``"Acme\u202eLTD"`` -> ``"Acme⟨U+202E⟩LTD"``."""
        if not isinstance(value, str):
            return value
        return "".join(f"\u27e8U+{ord(c):04X}\u27e9" if unicodedata.category(c) in ("Cf", "Cc") and c not in "\t\n\r"
                       else c for c in value)

#: the money columns of the payroll, in order (``total`` last)
GROUPS = ("commission", "clv_growth", "retention", "team_pool", "spif", "clawback", "caps_floors", "holdback",
          "guarantee")
MONEY_COLUMNS = GROUPS + ("total",)
COLUMNS = ("rep_id", "name", "period", "plan", "in_force") + MONEY_COLUMNS
#: rules whose lines form the ``holdback`` column rather than their component's
HOLDBACK_RULES = frozenset({"commission.holdback", "commission.release"})
_COMPONENT_GROUP = {"total": "caps_floors"}


def pay_group(lines: pd.DataFrame) -> pd.Series:
    """The payroll column of each line of pay: its component, except holdback/release lines
    (``holdback``) and whole-pay caps and floors (component ``total`` -> ``caps_floors``).

    Raises
    ------
    DataError
        A line of a component the payroll has no column for (a new component must get one, not vanish).
    """
    group = lines["component"].astype(str).map(lambda c: _COMPONENT_GROUP.get(c, c))
    group = group.where(~lines["rule"].isin(HOLDBACK_RULES), "holdback")
    unknown = sorted(set(group) - set(GROUPS))
    if unknown:
        raise DataError(f"payroll: lines of component(s) {', '.join(unknown)} have no payroll column "
                        f"(known: {', '.join(GROUPS)})")
    return group


def to_decimal(cents) -> Decimal:
    """Whole cents as a Decimal amount with two places: 10862 -> Decimal('108.62'), 0 -> Decimal('0.00')."""
    return Decimal(int(cents)).scaleb(-2)


def payroll_table(pay, reps: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """One row per (rep, plan) paid in ``period``: the columns of the module docstring, money as Decimal.

    Parameters
    ----------
    pay : clvlib.stages.payouts.Pay
        The payouts stage's result (``lines`` of every plan and month, ``current``, ``period``).
    reps : DataFrame
        The ``reps`` table (``rep_id``, ``name``).
    period : str, optional
        The month to export (default: ``pay.period``).

    Returns
    -------
    DataFrame with :data:`COLUMNS`, today's plan first, then the other plans by name; within a plan by
    ``rep_id``.

    Raises
    ------
    DataError
        A paid rep missing from ``reps``, or a line of an unknown component (:func:`pay_group`).
    """
    period = period or pay.period
    lines = pay.lines[pay.lines["month"] == period]
    if not len(lines):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    cents = (lines.assign(group=pay_group(lines))
             .pivot_table(index=["plan", "rep_id"], columns="group", values="amount_cents", aggfunc="sum",
                          fill_value=0)
             .reindex(columns=list(GROUPS), fill_value=0).astype(np.int64))
    cents["total"] = cents[list(GROUPS)].sum(axis=1)
    out = cents.reset_index()
    out.columns.name = None
    names = reps.drop_duplicates("rep_id").set_index("rep_id")["name"]
    missing = sorted(set(out["rep_id"]) - set(names.index))
    if missing:
        raise DataError(f"payroll: rep(s) {', '.join(missing)} are paid in {period} but not in the reps table")
    out["name"] = out["rep_id"].map(names).astype(object).where(lambda s: s.notna(), "")
    out["period"] = period
    out["in_force"] = out["plan"] == pay.current
    out = out.sort_values(["in_force", "plan", "rep_id"], ascending=[False, True, True], kind="stable")
    for col in MONEY_COLUMNS:
        out[col] = out[col].map(to_decimal).astype(object)
    return out[list(COLUMNS)].reset_index(drop=True)


def write_payroll(table: pd.DataFrame, out_dir: str | Path, *, column_notes: dict[str, str] | None = None
                  ) -> list[Path]:
    """Write ``payroll.csv`` and ``payroll.xlsx`` into ``out_dir`` (formula injection neutralised).

    Parameters
    ----------
    table : DataFrame
        :func:`payroll_table`.
    out_dir : path
        The period's folder.
    column_notes : dict, optional
        ``{column: meaning}`` in the report's language: written to a second sheet, ``columns``, of the xlsx.

    Returns
    -------
    The two paths written.
    """
    from openpyxl import load_workbook

    from clvlib.safety import safe_csv, safe_xlsx

    out_dir = Path(out_dir)
    table = table.copy()
    table["name"] = table["name"].map(visible_text)          # a bidi control cannot reverse a name or figure
    csv_path = safe_csv(table, out_dir / "payroll.csv")
    xlsx = table.copy()
    for col in MONEY_COLUMNS:                     # numbers, not text: a Decimal is written exactly
        xlsx[col] = xlsx[col].map(lambda d: float(d) if isinstance(d, Decimal) else d)
    sheets = {"payroll": xlsx}
    if column_notes:
        sheets["columns"] = pd.DataFrame({"column": list(column_notes), "meaning": list(column_notes.values())})
    xlsx_path = safe_xlsx(sheets, out_dir / "payroll.xlsx")
    book = load_workbook(xlsx_path)
    sheet = book["payroll"]
    money = {i + 1 for i, c in enumerate(table.columns) if c in MONEY_COLUMNS}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.column in money:
                cell.number_format = "#,##0.00"
    sheet.freeze_panes = "A2"
    for i, col in enumerate(table.columns, 1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(10, min(32, len(str(col)) + 4))
    book.save(xlsx_path)
    return [csv_path, xlsx_path]
