"""The workbook's stages, declared once each (``clvlib.stages.base.Stage``) and looked up by name.

Import order is dependency order: a stage registers after the stages it needs.
"""
from clvlib.stages.base import REGISTRY, Stage, fingerprint, get, order, register, source_hash
from clvlib.stages import intake, credit, customer_value, history, tiers, kpis, noise, payouts, backtest  # noqa: F401  (registers)

__all__ = ["REGISTRY", "Stage", "fingerprint", "get", "order", "register", "source_hash"]
