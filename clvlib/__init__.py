"""clvlib — the helper package behind the CLV workbook for export sales teams.

The data flows one way: params -> sources -> canonical tables -> per-customer summary -> models ->
customer value -> tiers and KPIs -> pay plans -> report. Each step is one module named in the
domain's words.
"""
from clvlib.errors import ClvError, DataError, ParamsError, RunError, ClvWarning

__version__ = "0.1.0"

__all__ = ["ClvError", "DataError", "ParamsError", "RunError", "ClvWarning", "__version__"]
