"""Purchase models (BG/NBD, Pareto/NBD) and the Gamma-Gamma spend model, scikit-learn style.

``fit(summary)`` learns from a per-customer summary made by :func:`clvlib.rfm_summary`; learned values
end in ``_``; using a model before ``fit`` raises :class:`clvlib.errors.NotFittedError`.
"""
from clvlib.models.base import BaseModel
from clvlib.models.bgnbd import BetaGeoModel
from clvlib.models.gammagamma import GammaGammaModel
from clvlib.models.paretonbd import ParetoNBDModel

__all__ = ["BaseModel", "BetaGeoModel", "ParetoNBDModel", "GammaGammaModel"]
