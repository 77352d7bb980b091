"""What every component module shares: the context of one plan's run, and the shape of its lines."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvlib.errors import DataError
from clvlib.plans.inputs import PayInputs, month_of
from clvlib.plans.rounding import cents
from clvlib.plans.rules import RULE_KEY

#: the pipeline's steps, in order (a line's ``step`` sorts it within its rep-month)
STEPS = {"base": 1, "adjustment": 2, "limit": 3, "clawback": 4, "clawback_carry": 5, "total_limit": 6,
         "holdback": 7, "release": 8, "guarantee": 9}

#: the fields of a line while a plan is priced (``ri`` / ``ci``: row of the rep and column of the month in
#: the context's grids; ``key``: the tie-break within a rep-month, step and component)
FIELDS = ("ri", "ci", "component", "rule", "source_type", "source_id", "basis", "rate", "weight", "share",
          "detail", "amount_cents", "step", "entry", "key", "customer_id")
_TEXT = {"component", "rule", "source_type", "source_id", "detail", "customer_id"}
_INTS = {"ri", "ci", "amount_cents", "step", "entry", "key"}
_DEFAULTS = {"source_type": "", "source_id": "", "detail": "", "basis": np.nan, "rate": np.nan, "weight": 1.0,
             "share": 1.0, "entry": -1, "key": 0, "customer_id": "", "amount_cents": 0}


class Lines:
    """Lines of pay while a plan is priced: one numpy array per field of :data:`FIELDS`, all as long.

    (Plain arrays, not a DataFrame: pricing a plan sixty times must take seconds, and building frames
    of text columns is most of the cost. :func:`clvlib.plans.engine.run_plan` publishes a DataFrame.)
    """

    __slots__ = ("a",)

    def __init__(self, arrays: dict):
        self.a = arrays

    @classmethod
    def make(cls, n: int, **cols) -> "Lines":
        """``n`` lines; a scalar value is repeated, a missing field takes its default."""
        out = {}
        for name in FIELDS:
            value = cols[name] if name in cols else _DEFAULTS.get(name)
            kind = object if name in _TEXT else (np.int64 if name in _INTS else float)
            if np.ndim(value) == 0:
                out[name] = np.full(n, value, dtype=kind)
            else:
                arr = np.asarray(value)
                out[name] = arr if arr.dtype == kind else arr.astype(kind)
        return cls(out)

    @property
    def n(self) -> int:
        return len(self.a["amount_cents"])

    def __getitem__(self, name):
        return self.a[name]

    def where(self, mask) -> "Lines":
        return Lines({k: v[mask] for k, v in self.a.items()})

    def replace(self, **cols) -> "Lines":
        """A copy with some fields replaced (scalars repeated)."""
        out = dict(self.a)
        for name, value in cols.items():
            kind = object if name in _TEXT else (np.int64 if name in _INTS else float)
            out[name] = np.full(self.n, value, dtype=kind) if np.ndim(value) == 0 else np.asarray(value, dtype=kind)
        return Lines(out)

    @staticmethod
    def concat(parts) -> "Lines":
        parts = [p for p in parts if p.n]
        if not parts:
            return Lines.make(0)
        if len(parts) == 1:
            return parts[0]
        return Lines({k: np.concatenate([p.a[k] for p in parts]) for k in FIELDS})


def rank(*columns) -> np.ndarray:
    """The position of each row when sorted by ``columns`` (first column first; ties keep their order)."""
    if not len(columns) or not len(columns[0]):
        return np.zeros(0, dtype=np.int64)
    codes = [pd.factorize(pd.Series(np.asarray(c)), sort=True)[0] for c in columns]
    order = np.lexsort(codes[::-1])
    out = np.empty(len(order), dtype=np.int64)
    out[order] = np.arange(len(order))
    return out


@dataclass
class Context:
    """One plan over one window: the inputs, who is employed when, and the plan's eligibility."""

    plan: object
    inputs: PayInputs
    employment: pd.DataFrame = field(init=False)
    _orders: pd.DataFrame | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self.months = list(self.inputs.months)
        self.employment = self.inputs.employment()
        self.rep_index = pd.Index(sorted(self.employment["rep_id"].unique()))
        self.month_index = pd.Index(self.months)
        grid = self.employment.pivot(index="rep_id", columns="month", values="fraction")
        self.fraction = grid.reindex(index=self.rep_index, columns=self.month_index).fillna(0.0).to_numpy()
        reps = self.inputs.reps.drop_duplicates("rep_id").set_index("rep_id")
        self.role = reps["role"].fillna("sales").reindex(self.rep_index)
        self.team = reps["team"].reindex(self.rep_index)
        self.leave = pd.to_datetime(reps["leave_date"]).reindex(self.rep_index)

    # -------------------------------------------------------------- who
    def roles(self, component=None) -> set:
        roles = getattr(component, "roles", None) or self.plan.eligibility.roles
        return set(roles)

    def eligible_grid(self, component=None) -> np.ndarray:
        """Boolean (rep x month): role paid by ``component`` (or the plan), employed some day, component active."""
        ok = self.role.isin(self.roles(component)).to_numpy()[:, None] & (self.fraction > 0)
        if component is not None:
            active = np.array([component.active(m) for m in self.months])
            ok = ok & active[None, :]
        return ok

    def positions(self, rep_ids, months) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of each (rep, month) in the grids; unknown reps are a DataError."""
        r = self.rep_index.get_indexer(pd.Index(rep_ids))
        if (r < 0).any():
            unknown = sorted(set(np.asarray(rep_ids, dtype=object)[r < 0]))
            raise DataError(f"pay inputs name rep(s) not in the reps table: {', '.join(map(str, unknown[:5]))}"
                            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""))
        c = self.month_index.get_indexer(pd.Index(months))
        if (c < 0).any():
            raise ValueError("a pay line dated outside the window")      # a bug: lines are filtered first
        return r, c

    def keep_month_lines(self, df: pd.DataFrame, component=None) -> pd.DataFrame:
        """Rows (with ``rep_id, month``) of eligible rep-months for ``component``."""
        if not len(df):
            return df
        df = df[df["month"].isin(self.months)]
        r, c = self.positions(df["rep_id"], df["month"])
        return df[self.eligible_grid(component)[r, c]]

    # -------------------------------------------------------------- what
    def orders(self) -> pd.DataFrame:
        """Booked documents credited to reps: one row per (document, rep), sorted by order id and rep."""
        if self._orders is None:
            o = self.inputs.orders
            if "status" in o.columns:
                o = o[o["status"] == "booked"]
            cols = ["order_id", "order_date", "customer_id", "doc_type", "paid_date", "amount_rc", "gross_margin_rc"]
            o = o[cols].drop_duplicates("order_id")
            credit = self.inputs.credit[["order_id", "rep_id", "share"]]
            m = o.merge(credit, on="order_id", how="left")
            if m["rep_id"].isna().any():
                miss = m.loc[m["rep_id"].isna(), "order_id"].astype(str).tolist()
                raise DataError(f"pay inputs: {len(miss)} booked document(s) have no credit line (e.g. "
                                f"{', '.join(miss[:3])}): nobody could be paid for them")
            no_figure = m[["amount_rc", "gross_margin_rc", "share"]].isna().any(axis=1)
            if no_figure.any():
                miss = m.loc[no_figure, "order_id"].astype(str).tolist()
                raise DataError(f"pay inputs: {len(miss)} booked document(s) have no amount_rc, gross_margin_rc or "
                                f"credit share (e.g. {', '.join(miss[:3])}): their pay cannot be computed")
            m["order_date"] = pd.to_datetime(m["order_date"])
            m["paid_date"] = pd.to_datetime(m["paid_date"])
            m["credit_note"] = m["doc_type"].eq("credit_note").to_numpy()
            self._orders = m.sort_values(["order_id", "rep_id"], kind="stable").reset_index(drop=True)
        return self._orders

    def dated_orders(self, earned_on: str, value: str, component) -> pd.DataFrame:
        """Credited documents dated by when they count, in the window, for eligible reps of ``component``.

        ``earned_on``: ``collection`` — an invoice in the month of its paid_date (unpaid: never);
        ``booking`` — in the month of its order_date. A credit note: its own order_date, always. With
        ``after_leave: nothing`` a document dated after the rep's leave date gives nothing.
        Columns: ``month, date, rep_id, order_id, customer_id, basis`` (the document's figure), ``share``.
        """
        o = self.orders()
        date = o["order_date"] if earned_on == "booking" else o["paid_date"].where(~o["credit_note"], o["order_date"])
        out = pd.DataFrame({"date": date, "rep_id": o["rep_id"], "order_id": o["order_id"],
                            "customer_id": o["customer_id"], "basis": o[value].astype(float),
                            "share": o["share"].astype(float)})
        out = out[out["date"].notna()]
        out["month"] = month_of(out["date"])
        out = out[out["month"].isin(self.months)]
        r, c = self.positions(out["rep_id"], out["month"])
        keep = self.role.isin(self.roles(component)).to_numpy()[r]
        keep &= np.array([component.active(m) for m in self.months], dtype=bool)[c]
        if self.plan.eligibility.after_leave == "nothing":
            leave = self.leave.to_numpy()[r]
            keep &= ~(pd.notna(leave) & (out["date"].to_numpy() > leave))
        out = out[keep]
        return out.sort_values(["rep_id", "date", "order_id"], kind="stable").reset_index(drop=True)


def empty() -> Lines:
    return Lines.make(0)


def grid_sum(ctx: "Context", lines: Lines) -> np.ndarray:
    """Sum of ``amount_cents`` per (rep, month) as an int64 grid."""
    out = np.zeros((len(ctx.rep_index), len(ctx.months)), dtype=np.int64)
    if lines.n:
        np.add.at(out, (lines["ri"], lines["ci"]), lines["amount_cents"])
    return out


def grid_lines(ctx: "Context", amounts: np.ndarray, rule: str, **cols) -> Lines:
    """Lines for the non-zero cells of an int64 (rep x month) grid; ``cols`` may hold grids or scalars."""
    r, c = np.nonzero(amounts)
    extra = {k: (v[r, c] if isinstance(v, np.ndarray) and v.ndim == 2 else v) for k, v in cols.items()}
    extra.setdefault("source_type", "rep_month")
    extra.setdefault("source_id", ctx.month_index.to_numpy(dtype=object)[c])
    return Lines.make(len(r), ri=r, ci=c, amount_cents=amounts[r, c], rule=rule, key=RULE_KEY[rule], **extra)


def base_template(ctx: "Context", df: pd.DataFrame, *, rule, source_type: str, source_id, step: int, entry: int,
                  component: str, tie=(), **cols) -> Lines:
    """The rate-independent lines of a component from its base rows (with ``rep_id, month``): positions,
    texts and the tie-break key (by rule, source id, ``tie`` columns, then basis)."""
    ri, ci = ctx.positions(df["rep_id"], df["month"])
    n = len(df)
    rules = np.full(n, rule, dtype=object) if np.ndim(rule) == 0 else np.asarray(rule, dtype=object)
    sid = np.asarray(source_id, dtype=object)
    basis = np.asarray(cols.get("basis", np.full(n, np.nan)), dtype=float)
    key = rank(rules, sid, *tie, basis)
    return Lines.make(n, ri=ri, ci=ci, rule=rules, source_type=source_type, source_id=sid, step=step, entry=entry,
                      component=component, key=key, **cols)


def money(x) -> str:
    """1234.5 -> '1,234.50' (details only)."""
    return f"{x:,.2f}"


__all__ = ["Context", "Lines", "STEPS", "FIELDS", "base_template", "cents", "empty", "grid_lines", "grid_sum", "money",
           "rank"]
