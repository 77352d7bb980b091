"""History in one pass: every customer valued at each of the last N month ends, as known then.

Trends, tier migration, the CLV bridge and the pay backtest all need monthly figures. They are
computed here from the canonical tables — never by re-running notebooks per month: for each month end
of the window the order log is cut to what was known on that day (orders dated on or before it,
payments after it not yet known), the purchase and spend models are refitted on it, and every
customer is valued with the same steps as the customer-value stage (``clvlib.customer_value``),
without the intervals and the holdout check. The period's own month is the customer-value stage's
result itself, so the history's last month and the report's CLV are the same numbers.

Stored long (``month, level, id, measure, value``; the text columns dictionary-encoded, written one
measure at a time by ``write_long``) as ``history_customer.parquet``, with the books
(``history_owners.parquet``: month, customer_id, rep_id, share — also for the 12 months before the
window, which a rep's retention needs) and the models' parameters (``history_models.parquet``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: the per-customer measures kept for every month end
MEASURES = ("clv", "p_alive", "frequency", "recency", "T", "monetary_value", "expected_purchases_12m",
            "margin_to_date", "expected_remaining_months")
DATES = ("first_purchase", "last_purchase")
LONG = ["month", "level", "id", "measure", "value"]
#: months of books kept before the window: a rep's old-customer retention at a month reads the book of a
#: year before, so the first month of the window has it too
BOOK_YEAR = 12


def month_window(period: str, n: int) -> list[str]:
    """The ``n`` months ending with ``period`` (``"YYYY-MM"`` strings, oldest first)."""
    end = pd.Period(period, freq="M")
    return [str(p) for p in pd.period_range(end - (n - 1), end, freq="M")]


def month_end(month: str, as_of=None) -> pd.Timestamp:
    """The last day of ``month``, or ``as_of`` when that falls inside the month (the period's own end)."""
    end = pd.Period(month, freq="M").to_timestamp(how="end").normalize()
    if as_of is not None and pd.Timestamp(as_of) < end:
        return pd.Timestamp(as_of).normalize()
    return end


def known_on(orders: pd.DataFrame, day) -> pd.DataFrame:
    """Orders as known on ``day``: dated on or before it; payments after it not yet made."""
    day = pd.Timestamp(day)
    o = orders[orders["order_date"] <= day].copy()
    o.loc[o["paid_date"] > day, "paid_date"] = pd.NaT
    return o.reset_index(drop=True)


@dataclass
class History:
    """The monthly snapshots (see the module docstring).

    Read back by :func:`load`, ``customers`` is read from its file on first use (``source``), and until
    then :meth:`month` reads only the month asked for: a page that shows two months of a million
    customers does not hold 24.
    """

    months: list[str]
    customers: pd.DataFrame | None     # month, customer_id, MEASURES..., first_purchase, last_purchase
    owners: pd.DataFrame               # month, customer_id, rep_id, share
    models: pd.DataFrame               # month, model, parameter, estimate, std_error
    notes: list[str] = field(default_factory=list)
    fallback: dict = field(default_factory=dict)   # month -> why the models could not be fitted
    source: object = field(default=None, repr=False)   # history_customer.parquet, when read back

    def month(self, month: str) -> pd.DataFrame:
        """One month's customers."""
        if _unread(self):
            one = read_customers(self.source, month)
            if len(one):
                return one      # (a month with nobody: from the whole table below, with all its columns)
        return self.customers[self.customers["month"] == month].reset_index(drop=True)


def _unread(h: History) -> bool:
    """The customers are in the file and not read yet."""
    return h.__dict__.get("_customers") is None and h.source is not None


def _get_customers(self) -> pd.DataFrame:
    if _unread(self):
        self.__dict__["_customers"] = read_customers(self.source)
    return self.__dict__.get("_customers")


def _set_customers(self, value) -> None:
    self.__dict__["_customers"] = value


# a property set after the class is made (in the class body a dataclass would take it for the default)
History.customers = property(_get_customers, _set_customers)


def read_customers(path, month: str | None = None) -> pd.DataFrame:
    """The wide customer snapshots from ``history_customer.parquet`` (only ``month``'s when given)."""
    filters = [("month", "==", month)] if month is not None else None
    cust = from_long(pd.read_parquet(path, read_dictionary=TEXT, filters=filters), "customer_id", DATES)
    cust["customer_id"] = cust["customer_id"].astype(str)
    return cust


def purchase_model_from(parameters: pd.DataFrame):
    """The fitted purchase model rebuilt from a ``clv_parameters`` table (None when there is none)."""
    from clvlib.models import BetaGeoModel, ParetoNBDModel

    for cls in (BetaGeoModel, ParetoNBDModel):
        rows = parameters[parameters["model"] == cls.__name__]
        if len(rows):
            return cls.from_params(dict(zip(rows["parameter"], rows["estimate"])))
    return None


def _snapshot(table: pd.DataFrame, month: str, parameters: pd.DataFrame, time_unit: str,
              cap_months: float) -> pd.DataFrame:
    from clvlib.kpis.lifetime import expected_remaining_months

    out = table[["customer_id", *[c for c in MEASURES if c != "expected_remaining_months"], *DATES]].copy()
    summary = out[["frequency", "recency", "T"]]
    out["expected_remaining_months"] = expected_remaining_months(
        purchase_model_from(parameters), summary, cap_months, time_unit).to_numpy()
    out.insert(0, "month", month)
    return out


@dataclass
class Coded:
    """The order log and the ownership rows with their ids as integer codes, for the history's refits.

    Customer and rep ids are numbered in the ids' sorted order, so every sort and tie-break on a code is
    the one on the text (``primary_owner``'s lowest rep, the summary's customer order); a missing id is
    NaN. Order ids are numbered too, a credit note's original with its invoice's code (missing: -1; an
    original not in the log gets a code no order has). The monthly refits and books cut, copy and group
    these integers instead of text; ``customers`` and ``reps`` turn codes back into ids at the edges.
    """

    orders: pd.DataFrame       # order_id, customer_id, rep_id, order_date, paid_date, doc_type, original_order_id, values
    ownership: pd.DataFrame    # customer_id, rep_id, share, valid_from, valid_to
    customers: pd.Index
    reps: pd.Index

    @classmethod
    def of(cls, orders: pd.DataFrame, ownership: pd.DataFrame) -> "Coded":
        (o_cust, w_cust), customers = _numbered(orders["customer_id"], ownership["customer_id"])
        (o_rep, w_rep), reps = _numbered(orders["rep_id"], ownership["rep_id"])
        (oid, orig), _ = _numbered(orders["order_id"], orders["original_order_id"], sort=False)
        o = pd.DataFrame({"order_id": oid, "customer_id": _nullable(o_cust), "rep_id": _nullable(o_rep),
                          "order_date": orders["order_date"].to_numpy(), "paid_date": orders["paid_date"].to_numpy(),
                          "doc_type": orders["doc_type"].astype("category").to_numpy(), "original_order_id": orig,
                          **{c: orders[c].to_numpy() for c in ("amount_rc", "gross_margin_rc")}})
        w = pd.DataFrame({"customer_id": _nullable(w_cust), "rep_id": _nullable(w_rep),
                          **{c: ownership[c].to_numpy() for c in ("share", "valid_from", "valid_to")}})
        return cls(o, w, customers, reps)

    def owners(self, as_of, orders: pd.DataFrame) -> pd.DataFrame:
        """``attribution.current_owners`` on ``as_of`` from the coded ``orders``, with the ids as text."""
        from clvlib.attribution import current_owners

        return self.decoded(current_owners(self.ownership[self.ownership["valid_from"] <= as_of], as_of, orders))

    def decoded(self, owners: pd.DataFrame) -> pd.DataFrame:
        """Owners (customer_id, rep_id, share) of the coded tables with the ids as text."""
        return owners.assign(customer_id=_decoded(self.customers, owners["customer_id"]),
                             rep_id=_decoded(self.reps, owners["rep_id"]))

    def customer_ids(self, table: pd.DataFrame) -> pd.DataFrame:
        """A customer-value table of the coded orders (its ``customer_id`` the code as text) with the ids."""
        codes = table["customer_id"].astype(np.int64)
        return table.assign(customer_id=pd.Index(self.customers.take(codes)).astype(str))


def _numbered(*columns: pd.Series, sort: bool = True) -> tuple[list[np.ndarray], pd.Index]:
    """One numbering of the values of several columns (missing: -1), and the values numbered."""
    codes, uniques = pd.factorize(pd.concat([c.reset_index(drop=True) for c in columns], ignore_index=True),
                                  sort=sort)
    return np.split(codes.astype(np.int64), np.cumsum([len(c) for c in columns])[:-1]), pd.Index(uniques)


def _nullable(codes: np.ndarray) -> np.ndarray:
    """Codes with the missing ones NaN (float) when there are any, so ``notna`` sees them."""
    return codes if (codes >= 0).all() else np.where(codes < 0, np.nan, codes)


def _decoded(values: pd.Index, codes: pd.Series) -> pd.Series:
    """The values the codes number (missing where a code is NaN), indexed like ``codes``."""
    c = codes.to_numpy()
    missing = np.isnan(c) if c.dtype.kind == "f" else np.zeros(len(c), dtype=bool)
    out = pd.Series(values.take(np.where(missing, 0, c).astype(np.int64)), index=codes.index)
    return out.mask(missing) if missing.any() else out


def build_history(orders: pd.DataFrame, ownership: pd.DataFrame, period: str, as_of, clv_params, months: int,
                  current=None, *, lifespan_cap_months: float = 120, log=None) -> History:
    """Value every customer at each of the last ``months`` month ends (see the module docstring).

    ``current`` is the customer-value stage's result for the period itself (reused, not refitted).
    Each snapshot also has the purchase model's expected remaining lifetime of every customer
    (``clvlib.kpis.lifetime.expected_remaining_months``, truncated at ``lifespan_cap_months``). The
    refits run on the order log with integer ids (:class:`Coded`); the results are the same.
    """
    from clvlib import customer_value as cv

    window = month_window(period, months)
    c = Coded.of(orders, ownership)
    snaps, books, models, notes, fallback = [], [], [], [], {}
    for m in month_window(period, months + BOOK_YEAR)[:BOOK_YEAR]:      # books of the year before the window
        end = month_end(m, as_of)
        o_m = c.orders[c.orders["order_date"] <= end]
        if (o_m["doc_type"] == "invoice").any():
            books.append(c.owners(end, o_m).assign(month=m))
    for m in window:
        end = month_end(m, as_of)
        o_m = known_on(c.orders, end)
        if not (o_m["doc_type"] == "invoice").any():
            continue
        if m == window[-1] and current is not None:
            res, table, owners = current, current.table, c.owners(end, o_m)
        else:       # the refit looks up the owners on the same orders, ownership and day: its own are reused
            res = cv.build(o_m, c.ownership[c.ownership["valid_from"] <= end], end, clv_params, holdout=False,
                           intervals=False, lookback=False, books=False)
            table, owners = c.customer_ids(res.table), c.decoded(res.owners)
        snaps.append(_snapshot(table, m, res.parameters, clv_params["time_unit"], lifespan_cap_months))
        books.append(owners.assign(month=m))
        if res.fallback:
            fallback[m] = res.fallback
        if len(res.parameters):
            models.append(res.parameters.assign(month=m))
        if log:
            log(f"history {m}: {len(res.table):,} customers")
    if fallback:
        notes.append(f"the models could not be fitted at {len(fallback)} month end(s) "
                     f"({', '.join(sorted(fallback))}); those months use the simple formula")
    cust = pd.concat(snaps, ignore_index=True) if snaps else pd.DataFrame(columns=["month", "customer_id"])
    own = (pd.concat(books, ignore_index=True)[["month", "customer_id", "rep_id", "share"]] if books
           else pd.DataFrame(columns=["month", "customer_id", "rep_id", "share"]))
    mod = (pd.concat(models, ignore_index=True) if models
           else pd.DataFrame(columns=["model", "parameter", "estimate", "std_error", "month"]))
    return History(months=window, customers=cust, owners=own, models=mod, notes=notes, fallback=fallback)


# ------------------------------------------------------------------ long storage
#: the text columns of a long file, read as Arrow dictionaries (categoricals: no text per row)
TEXT = ["month", "level", "id", "measure"]


def _as_values(v: pd.Series) -> np.ndarray:
    """A measure as floats (dates as days since 1970)."""
    if pd.api.types.is_datetime64_any_dtype(v):
        v = (v - pd.Timestamp("1970-01-01")).dt.days.astype(float)
    return pd.to_numeric(v).to_numpy(dtype=float)


def _dictionary(codes: np.ndarray, values):
    """An Arrow dictionary array of text: ``values`` once, a 32-bit code per row (-1: missing)."""
    import pyarrow as pa

    missing = codes < 0
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=missing if missing.any() else None),
                                          pa.array(np.asarray(pd.Index(values).astype(str), dtype=object),
                                                   pa.large_string()))


def _long_blocks(wide: pd.DataFrame, level: str, id_col: str, measures):
    """The long rows of ``wide`` as one Arrow table per measure (``month, level, id, measure, value``,
    text as dictionaries): the rows of the first measure for every row of ``wide``, then the next."""
    import pyarrow as pa

    n = len(wide)
    month, ids = (_dictionary(*pd.factorize(wide[c])) for c in ("month", id_col))
    level_, schema = _dictionary(np.zeros(n, dtype=np.int32), [level]), _long_schema()
    for j, m in enumerate(measures):
        measure = _dictionary(np.full(n, j, dtype=np.int32), measures)
        yield pa.table([month, level_, ids, measure, pa.array(_as_values(wide[m]))], schema=schema)


def _long_schema():
    """The long file's columns: the text ones as dictionaries, the value a double."""
    import pyarrow as pa

    text = pa.dictionary(pa.int32(), pa.large_string())
    return pa.schema([(c, text) for c in TEXT] + [("value", pa.float64())])


def to_long(wide: pd.DataFrame, level: str, id_col: str, measures) -> pd.DataFrame:
    """``month, level, id, measure, value`` rows from a wide table (dates stored as days since 1970),
    the text columns as text — the rows :func:`write_long` writes."""
    import pyarrow as pa

    measures = list(measures)
    if not measures:
        return pd.DataFrame(columns=LONG)
    long = pa.concat_tables(list(_long_blocks(wide, level, id_col, measures))).to_pandas()
    return long.astype({c: str for c in TEXT})[LONG]


def write_long(wide: pd.DataFrame, level: str, id_col: str, measures, path) -> None:
    """:func:`to_long`'s rows written to Parquet one measure at a time, the text columns as dictionaries.

    The long table is never whole in memory (24 month ends of a million customers and 13 measures are
    300M rows; as text columns that alone took more memory than the machine has). Read back, the rows
    are to_long's, with the text columns as categoricals.
    """
    import pyarrow.parquet as pq

    with pq.ParquetWriter(path, _long_schema()) as out:
        for block in _long_blocks(wide, level, id_col, list(measures)):
            out.write_table(block)


def from_long(long: pd.DataFrame, id_col: str, dates=()) -> pd.DataFrame:
    """The wide table back from :func:`to_long` rows of one level, sorted by month and id, the measures
    as columns in alphabetical order."""
    if long.empty:
        return pd.DataFrame(columns=["month", id_col])
    wide = _from_blocks(long, id_col)
    if wide is None:        # rows not in to_long's layout: the general pivot, on text (sorted as text)
        long = long.astype({c: str for c in TEXT if isinstance(long[c].dtype, pd.CategoricalDtype)})
        wide = long.set_index(["month", "id", "measure"])["value"].unstack("measure").sort_index()
        wide = wide.reset_index().rename(columns={"id": id_col})
        wide.columns.name = None
    for d in dates:
        if d in wide:
            wide[d] = pd.Timestamp("1970-01-01") + pd.to_timedelta(wide[d], unit="D")
    return wide


def _codes(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and the values they number (a categorical's own, else factorised)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), col.cat.categories
    codes, uniques = pd.factorize(col)
    return codes, pd.Index(uniques)


def _from_blocks(long: pd.DataFrame, id_col: str) -> pd.DataFrame | None:
    """The wide table of rows laid out as :func:`to_long` writes them — one block per measure, each block
    the same (month, id) rows in the same order — by reshaping the values, no pivot; None for any other
    layout (or duplicate rows, which the pivot reports)."""
    m, measures = _codes(long["measure"])
    n_rows = len(m)
    starts = np.flatnonzero(np.r_[True, m[1:] != m[:-1]])
    k = len(starts)
    n = n_rows // k
    if n * k != n_rows or not np.array_equal(starts, np.arange(k) * n) or len(np.unique(m[starts])) != k:
        return None
    (mo, months), (ids, id_values) = _codes(long["month"]), _codes(long["id"])
    if (mo < 0).any() or (ids < 0).any():
        return None
    for b in range(1, k):
        if not (np.array_equal(mo[b * n:(b + 1) * n], mo[:n]) and np.array_equal(ids[b * n:(b + 1) * n], ids[:n])):
            return None
    key = mo[:n].astype(np.int64) * len(id_values) + ids[:n]
    if len(np.unique(key)) != n:
        return None
    rank_m, rank_i = np.argsort(np.argsort(months.astype(str))), np.argsort(np.argsort(id_values.astype(str)))
    order = np.lexsort((rank_i[ids[:n]], rank_m[mo[:n]]))
    values = long["value"].to_numpy(dtype=float).reshape(k, n)[:, order]
    names = [str(measures[c]) for c in m[starts]]
    cols = {name: values[j] for j, name in sorted(enumerate(names), key=lambda t: t[1])}
    return pd.DataFrame({"month": pd.Index(months.take(mo[:n][order])).astype(str),
                         id_col: pd.Index(id_values.take(ids[:n][order])).astype(str), **cols})


def save(h: History, data_dir) -> None:
    import json
    from pathlib import Path

    d = Path(data_dir)
    measures = [c for c in (*MEASURES, *DATES) if c in h.customers] + [
        c for c in h.customers.columns if c not in ("month", "customer_id", *MEASURES, *DATES)]
    write_long(h.customers, "customer", "customer_id", measures, d / "history_customer.parquet")
    h.owners.to_parquet(d / "history_owners.parquet", index=False)
    h.models.to_parquet(d / "history_models.parquet", index=False)
    (d / "history.json").write_text(json.dumps({"months": h.months, "notes": h.notes, "fallback": h.fallback},
                                               indent=1))


def load(data_dir) -> History:
    import json
    from pathlib import Path

    d = Path(data_dir)
    meta = json.loads((d / "history.json").read_text())
    return History(months=meta["months"], customers=None, owners=pd.read_parquet(d / "history_owners.parquet"),
                   models=pd.read_parquet(d / "history_models.parquet"), notes=meta["notes"],
                   fallback=meta["fallback"], source=d / "history_customer.parquet")


def change(a: pd.Series, b: pd.Series) -> float:
    """Relative change from ``a`` to ``b`` (NaN when ``a`` is 0 or missing)."""
    return float(b / a - 1) if a and not np.isnan(a) else float("nan")
