"""Stage ``history``: every customer valued at each of the last ``history.months`` month ends
(``clvlib.history``). Files: ``history_customer.parquet`` (long), ``history_owners.parquet``,
``history_models.parquet``, ``history.json``.
"""
from __future__ import annotations

from clvlib import history as h
from clvlib.stages.base import Stage, register


def build(wb):
    return h.build_history(wb.orders(), wb.table("ownership"), wb.period, wb.as_of, wb.params["clv"],
                           wb.params["history"]["months"], current=wb.stage("customer_value"),
                           lifespan_cap_months=wb.params["kpis"]["lifespan_cap_months"])


STAGE = register(Stage("history", build, h.save, h.load, needs=("intake", "customer_value"),
                       params=("clv", "history", "kpis.lifespan_cap_months"),
                       files=("history_customer.parquet", "history_owners.parquet", "history_models.parquet"),
                       doc="every customer valued at each month end of the window, models refitted each time"))
