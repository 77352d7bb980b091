"""The one rounding rule of pay: each line's amount is rounded to the cent, half away from zero, once.

A line's amount is the product of a few figures (a basis, a rate, a weight, a share), each taken as
the decimal it is written as — the shortest decimal that reads back as the stored float (``0.03``,
``0.7``, ``13207.94``) — multiplied exactly and rounded to the cent with ``decimal.ROUND_HALF_UP``
(half away from zero: 0.125 -> 0.13, -0.125 -> -0.13). Every total is a sum of such cents.

:func:`cents` does this vectorised: the product in float64 is exact enough to round correctly unless
it lies within a hair of a half cent; those few lines are recomputed exactly with ``Decimal``. So a
reader who recomputes a line with ``Decimal(str(x))`` and ``ROUND_HALF_UP`` gets the same cent.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np

CENT = Decimal("0.01")


def round_half_up(value: Decimal) -> int:
    """A Decimal amount (currency units) in whole cents, half away from zero."""
    return int((value / CENT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def exact_cents(*factors) -> int:
    """The product of ``factors`` (each as its shortest decimal) in cents, rounded half away from zero."""
    product = Decimal(1)
    for f in factors:
        product *= Decimal(repr(float(f)))
    return round_half_up(product)


def cents(*factors) -> np.ndarray:
    """Element-wise product of the factor arrays (currency units) in int64 cents, rounded once, half up.

    Non-finite products (a missing figure) raise ValueError: pay is never silently zero.
    """
    arrays = np.broadcast_arrays(*[np.asarray(f, dtype=float) for f in factors])
    product = np.ones(arrays[0].shape, dtype=float)
    for a in arrays:
        product = product * a
    x = product * 100.0
    if not np.all(np.isfinite(x)):
        raise ValueError("a pay line has a missing or infinite figure")
    mag = np.abs(x)
    out = np.sign(x) * np.floor(mag + 0.5)
    frac = mag - np.floor(mag)
    near = np.abs(frac - 0.5) <= 1e-11 * np.maximum(mag, 1.0)
    if near.any():
        for i in np.flatnonzero(near.ravel()):
            idx = np.unravel_index(i, x.shape)
            out[idx] = exact_cents(*[a[idx] for a in arrays])
    return out.astype(np.int64)
