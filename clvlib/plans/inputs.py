"""What the payout engine reads: :class:`PayInputs`, plain tables for the months of a replay window.

Shapes (``month`` is always a ``"YYYY-MM"`` string; money in the reporting currency):

``orders``
    Booked invoices and credit notes, data-contract columns plus ``amount_rc, gross_margin_rc``, with
    ``paid_date`` as known on the as-of date. It must hold every document that can count in the
    window: for commission on collection that includes invoices dated before the window and paid in it.
    Rows whose ``status`` is not ``booked`` (when the column is there) are ignored.
``credit``
    ``clvlib.attribution.credit_lines``: ``order_id, rep_id, share, basis`` (a credit note is already
    credited like its original invoice).
``reps``
    ``rep_id, name, team, hire_date, leave_date, role``.
``quotas`` (optional)
    ``rep_id, month, quota`` (revenue, reporting currency): needed by accelerators.
``bridge`` / ``bridge_low`` (optional)
    Customer-level CLV bridge lines ``month, rep_id, customer_id, part, amount, tier`` (``part`` in
    existing | new | lost | transferred; amounts already x the rep's book share); ``bridge_low`` the
    same on the lower end of the CLV interval.
``events`` (optional)
    ``month, customer_id, event, rep_id, share, tier, order_id, value`` with event in won | lost |
    retained.
``team_figures`` (optional)
    ``month, team, clv_growth, gross_margin``.
``collaboration`` (optional)
    ``month, rep_id, points`` (the team-pool split).
``months``, ``period``, ``switch``
    The replay window (sorted months), the month being paid, and the first month a new plan applies
    (guarantees count from it; default: the window's first month).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvlib.errors import DataError

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
COLUMNS = {
    "orders": ("order_id", "order_date", "customer_id", "doc_type", "paid_date", "amount_rc", "gross_margin_rc"),
    "credit": ("order_id", "rep_id", "share"),
    "reps": ("rep_id", "team", "hire_date", "leave_date", "role"),
    "quotas": ("rep_id", "month", "quota"),
    "bridge": ("month", "rep_id", "customer_id", "part", "amount", "tier"),
    "bridge_low": ("month", "rep_id", "customer_id", "part", "amount", "tier"),
    "events": ("month", "customer_id", "event", "rep_id", "share", "tier"),
    "team_figures": ("month", "team", "clv_growth", "gross_margin"),
    "collaboration": ("month", "rep_id", "points"),
}


def month_of(dates: pd.Series) -> pd.Series:
    """``"YYYY-MM"`` of each date (missing stays missing)."""
    d = pd.to_datetime(dates)
    out = d.dt.strftime("%Y-%m")
    return out.where(d.notna(), None)


def window(period: str, n: int) -> list[str]:
    """The ``n`` months ending with ``period`` (``window("2026-10", 3) == ["2026-08", "2026-09", "2026-10"]``)."""
    end = pd.Period(period, freq="M")
    return [str(end - k) for k in range(n - 1, -1, -1)]


def add_months(month: str, k: int) -> str:
    """``month`` shifted by ``k`` months."""
    return str(pd.Period(month, freq="M") + k)


def months_between(a: str, b: str) -> int:
    """Whole months from ``a`` to ``b`` (``b - a``)."""
    ya, ma = int(a[:4]), int(a[5:7])
    yb, mb = int(b[:4]), int(b[5:7])
    return (yb - ya) * 12 + (mb - ma)


@dataclass
class PayInputs:
    """The tables a plan is computed from (see the module docstring for the shapes)."""

    orders: pd.DataFrame
    credit: pd.DataFrame
    reps: pd.DataFrame
    months: list[str]
    period: str | None = None
    quotas: pd.DataFrame | None = None
    bridge: pd.DataFrame | None = None
    bridge_low: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    team_figures: pd.DataFrame | None = None
    collaboration: pd.DataFrame | None = None
    switch: str | None = None
    _employment: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self):
        self.months = sorted(str(m) for m in self.months)
        if not self.months:
            raise DataError("PayInputs: the replay window (months) is empty")
        self.period = self.period or self.months[-1]
        self.switch = self.switch or self.months[0]
        bad = [m for m in self.months + [self.period, self.switch] if not MONTH.fullmatch(str(m))]
        if bad:
            raise DataError(f"PayInputs: months must look like 2026-10, got {bad[0]!r}")
        for name, cols in COLUMNS.items():
            df = getattr(self, name)
            if df is None:
                continue
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise DataError(f"PayInputs.{name}: missing column(s) {', '.join(missing)} (expected "
                                f"{', '.join(cols)})")

    def employment(self) -> pd.DataFrame:
        """One row per (rep, window month): ``rep_id, month, team, role, fraction`` (days employed / days)."""
        if self._employment is None:
            self._employment = employment(self.reps, self.months)
        return self._employment


def employment(reps: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Days employed in each calendar month over its days, per rep (hire and leave days count)."""
    r = reps[["rep_id", "team", "role", "hire_date", "leave_date"]].copy()
    r["role"] = r["role"].fillna("sales")
    rows = []
    for m in months:
        y, mo = int(m[:4]), int(m[5:7])
        days = calendar.monthrange(y, mo)[1]
        start, end = pd.Timestamp(y, mo, 1), pd.Timestamp(y, mo, days)
        first = pd.to_datetime(r["hire_date"]).clip(lower=start)
        last = pd.to_datetime(r["leave_date"]).fillna(end).clip(upper=end)
        worked = ((last - first).dt.days + 1).clip(lower=0)
        rows.append(pd.DataFrame({"rep_id": r["rep_id"].to_numpy(), "month": m, "team": r["team"].to_numpy(),
                                  "role": r["role"].to_numpy(), "fraction": (worked / days).to_numpy(dtype=float)}))
    out = pd.concat(rows, ignore_index=True)
    out["fraction"] = np.round(out["fraction"], 6)
    return out.sort_values(["month", "rep_id"], kind="stable").reset_index(drop=True)
