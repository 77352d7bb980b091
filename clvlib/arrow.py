"""Fast set membership and lookup for text ids, through pyarrow.

pandas' ``Series.isin`` on pyarrow-backed text builds its value set in a Python loop over the
members, which costs seconds when the members are tens of thousands of order or customer ids; these
functions hash them in pyarrow instead. Used by the intake and by every stage that matches ids.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa_
import pyarrow.compute as pc


def _as_arrow(x) -> pa_.Array:
    arr = getattr(x, "array", x)
    if hasattr(arr, "_pa_array"):
        a = arr._pa_array
        return a.combine_chunks() if isinstance(a, pa_.ChunkedArray) else a
    values = np.asarray(x)
    if values.dtype.kind in "iu":       # integer codes (the history's ids): no detour through Python objects
        return pa_.array(values)
    return pa_.array(np.asarray(x, dtype=object), from_pandas=True)


def isin(values, members) -> np.ndarray:
    """``values.isin(members)`` for text ids, via pyarrow (pandas' string isin loops in Python).

    When ``members`` is much longer than ``values`` (5 million orders, a few thousand split lines), the
    members that occur among the values are found first, so only the short side is ever hashed.
    """
    left = _as_arrow(values)
    right = _as_arrow(members)
    if not len(left):
        return np.zeros(0, dtype=bool)
    if not len(right):
        return np.zeros(len(left), dtype=bool)
    if left.type != right.type:
        common = pa_.int64() if pa_.types.is_integer(left.type) and pa_.types.is_integer(right.type) else pa_.large_string()
        left, right = pc.cast(left, common), pc.cast(right, common)
    if len(right) > 4 * len(left):
        right = pc.unique(pc.filter(right, pc.fill_null(pc.is_in(right, value_set=pc.unique(left)), False)))
    else:
        right = pc.unique(right)
    hit = pc.fill_null(pc.is_in(left, value_set=right, skip_nulls=True), False)
    return hit.to_numpy(zero_copy_only=False)


def index_in(values, members) -> np.ndarray:
    """Position in ``members`` of each value (-1 where absent), via pyarrow."""
    left, right = _as_arrow(values), _as_arrow(members)
    if not len(left) or not len(right):
        return np.full(len(left), -1, dtype=np.int64)
    if left.type != right.type:
        left, right = pc.cast(left, pa_.large_string()), pc.cast(right, pa_.large_string())
    return pc.fill_null(pc.index_in(left, value_set=right), -1).to_numpy(zero_copy_only=False).astype(np.int64)
