"""clvlib — the helper package behind the CLV workbook for export sales teams.

The data flows one way: params -> sources -> canonical tables -> per-customer summary -> models ->
customer value -> tiers and KPIs -> pay plans -> report. Each step is one module named in the
domain's words.

The CLV engine is importable from the top level::

    from clvlib import rfm_summary, BetaGeoModel, GammaGammaModel, customer_lifetime_value
"""
from clvlib.errors import ClvError, ClvWarning, DataError, ModelError, NotFittedError, ParamsError, RunError

__version__ = "0.1.0"

# name -> module; imported on first use so that `import clvlib` (and the command line) stays fast
_LAZY = {
    "rfm_summary": "clvlib.rfm",
    "BetaGeoModel": "clvlib.models",
    "ParetoNBDModel": "clvlib.models",
    "GammaGammaModel": "clvlib.models",
    "customer_lifetime_value": "clvlib.value",
    "simple_clv": "clvlib.value",
    "clv_interval": "clvlib.value",
    "ClvInterval": "clvlib.value",
    "DAYS_PER_MONTH": "clvlib.value",
    "holdout_validation": "clvlib.holdout",
    "HoldoutResult": "clvlib.holdout",
}

__all__ = ["ClvError", "ClvWarning", "DataError", "ModelError", "NotFittedError", "ParamsError", "RunError",
           "__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'clvlib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
