"""Hysteresis: a customer changes tier only when it is past the boundary by a margin.

Without it, a customer sitting on a boundary flips between two tiers from one month to the next on
noise alone. Each rule keeps the customer's previous tier unless the evidence for the new one beats
it by ``h`` (``tiers.hysteresis``); with ``h = 0`` every rule is the plain assignment. Customers
without a previous tier (new this month, or a label the model does not know) get the plain tier.

* **kmeans** (distance in scaled feature units): the customer moves from its previous tier p to the
  tier n of its nearest centre only if it lies beyond the bisecting hyperplane between the two
  centres by more than ``h``. The signed distance past that hyperplane is
  ``(d_p^2 - d_n^2) / (2 |c_n - c_p|)``, with ``d_k = |z - c_k|`` the distance of the scaled customer
  ``z`` to centre ``c_k``.
* **gmm**: the customer moves from p to the tier n of highest posterior probability only if
  ``P(n | z) - P(p | z) > h``.
* **value_share**: the customer moves up past a cut ``c`` (the lowest CLV of a tier) only if its CLV
  is at least ``c (1 + h)``, and down below a cut only if its CLV is below ``c (1 - h)``: the cuts above
  the previous tier are raised by ``h |c|``, those below lowered by ``h |c|``, and the customer is
  placed by the shifted cuts.

Functions take integer tier positions (0 = the most valuable tier) and ``previous`` positions with
-1 for "no previous tier"; they return the positions after hysteresis.
"""
from __future__ import annotations

import numpy as np

__all__ = ["kmeans_with_hysteresis", "gmm_with_hysteresis", "value_share_with_hysteresis",
           "value_share_tiers", "boundary_margin"]


def boundary_margin(z: np.ndarray, centres: np.ndarray, frm: np.ndarray, to: np.ndarray) -> np.ndarray:
    """Signed distance of each row of ``z`` past the bisecting hyperplane between centre ``frm`` and
    centre ``to``, towards ``to``: ``(d_frm^2 - d_to^2) / (2 |c_to - c_frm|)`` (0 where frm == to)."""
    cf, ct = centres[frm], centres[to]
    d_f = ((z - cf) ** 2).sum(axis=1)
    d_t = ((z - ct) ** 2).sum(axis=1)
    gap = np.sqrt(((ct - cf) ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        m = (d_f - d_t) / (2 * gap)
    return np.where(frm == to, 0.0, m)


def kmeans_with_hysteresis(z: np.ndarray, centres: np.ndarray, previous: np.ndarray, h: float) -> np.ndarray:
    """Tier positions by nearest centre, a customer leaving its previous tier only past the margin.

    Parameters
    ----------
    z : ndarray (n, d)
        Customers in scaled feature units.
    centres : ndarray (k, d)
        Centres in tier order.
    previous : ndarray (n,) of int
        Previous tier positions, -1 for none.
    h : float
        The margin (scaled feature units).
    """
    d2 = ((z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    nearest = d2.argmin(axis=1)
    has = previous >= 0
    prev = np.where(has, previous, nearest)
    margin = boundary_margin(z, centres, prev, nearest)
    move = (nearest == prev) | (margin > h)
    return np.where(move, nearest, prev)


def gmm_with_hysteresis(posteriors: np.ndarray, previous: np.ndarray, h: float) -> np.ndarray:
    """Tier positions by highest posterior, leaving the previous tier only when the new tier's
    posterior exceeds the previous tier's by more than ``h``."""
    best = posteriors.argmax(axis=1)
    has = previous >= 0
    prev = np.where(has, previous, best)
    rows = np.arange(len(best))
    move = (best == prev) | (posteriors[rows, best] - posteriors[rows, prev] > h)
    return np.where(move, best, prev)


def value_share_tiers(clv: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Plain value-share tiers: position of the first cut the CLV reaches (``clv >= cut``), else the
    last tier. ``cuts`` are the lowest CLV of each tier but the last, in tier order."""
    k = len(cuts)
    pos = np.full(len(clv), k, dtype=np.int64)
    for j in range(k - 1, -1, -1):
        pos = np.where(clv >= cuts[j], j, pos)
    return pos


def value_share_with_hysteresis(clv: np.ndarray, cuts: np.ndarray, previous: np.ndarray, h: float) -> np.ndarray:
    """Value-share tiers with each customer's cuts shifted away from its previous tier by ``h |cut|``."""
    clv = np.asarray(clv, dtype=float)
    cuts = np.asarray(cuts, dtype=float)
    k = len(cuts)
    j = np.arange(k)[None, :]
    prev = np.asarray(previous)[:, None]
    finite = np.isfinite(cuts)[None, :]        # an infinite cut (no positive CLV at the fit) stays put
    size = np.where(finite, np.abs(cuts)[None, :], 0.0)
    shifted = np.where((prev >= 0) & finite, cuts[None, :] + np.where(j < prev, h, -h) * size, cuts[None, :])
    reached = clv[:, None] >= shifted
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), k)
    return first.astype(np.int64)
