"""Stage ``customer_value``: CLV per customer and per rep's book (``clvlib.customer_value``).

Files: ``customer_value.parquet`` (the contract), ``rep_books.parquet``, ``clv_parameters.parquet``,
``holdout_*.parquet`` and ``customer_value.json``.
"""
from __future__ import annotations

from clvlib import customer_value as cv
from clvlib.stages.base import Stage, register


def build(wb):
    return cv.build(wb.orders(), wb.table("ownership"), wb.as_of, wb.params["clv"])


STAGE = register(Stage("customer_value", build, cv.save, cv.load, needs=("intake",), params=("clv",),
                       files=("customer_value.parquet", "rep_books.parquet", "clv_parameters.parquet"),
                       doc="CLV per customer and per rep's book, with intervals and the holdout check"))
