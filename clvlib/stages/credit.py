"""Stage ``credit``: booking attribution of the orders known on the as-of date.

One row per (order, rep) with ``share`` and ``basis`` (``split`` or ``booking``; see
``clvlib.attribution.credit_lines``). Sales, margin and commission figures are credited by it.
File: ``credit_lines.parquet``.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from clvlib.stages.base import Stage, register


def build(wb) -> pd.DataFrame:
    from clvlib.attribution import credit_lines

    return credit_lines(wb.orders(), wb.table("order_splits"), wb.table("ownership"))


def save(credit: pd.DataFrame, data_dir: Path) -> None:
    credit.to_parquet(data_dir / "credit_lines.parquet", index=False)


def load(data_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "credit_lines.parquet")


STAGE = register(Stage("credit", build, save, load, needs=("intake",), files=("credit_lines.parquet",),
                       doc="who gets the credit for each order (split credit, else the booking rep)"))
