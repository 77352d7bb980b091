"""The workbook context: what every notebook starts with.

``wb = Workbook(period, as_of, params_path, out_dir)`` validates the parameters, picks the language
and formats, turns on the offline chart renderer, and gives each notebook:

* ``wb.stage(name)`` — a stage's result (``intake``, ``credit``, ``customer_value``, ...; the stages
  are declared in ``clvlib.stages``, each once, and the workbook holds no per-stage code);
* ``wb.orders()``, ``wb.table(name)``, ``wb.credit()`` — the tables as known on the as-of date;
* ``wb.page`` — the display helpers (``say``, ``show_table``, ``cards``, ``bullets``; ``clvlib.report.display``).

Each stage writes its files to ``<out_dir>/data/`` — the contract between notebooks and the
machine-readable output of a run — and later notebooks read them back instead of recomputing. A
stage's files are reused only when its fingerprint (its settings, its upstream stages, the clvlib
source, the as-of date and, for the intake, the input files) matches the one recorded in
``data/_stages.json``; so a notebook run on its own in JupyterLab computes what it needs, a scheduled
run computes each stage once, and an edited clvlib never reuses stale files.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from clvlib import params as params_mod
from clvlib.errors import ParamsError
from clvlib.paths import DEFAULT_PARAMS, REPORTS_DIR

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def parse_period(period: str) -> pd.Period:
    if not isinstance(period, str) or not PERIOD_RE.match(period):
        raise ParamsError(f"period must look like 2026-10 (year-month), got {period!r}")
    return pd.Period(period, freq="M")


def period_end(period: str) -> pd.Timestamp:
    return parse_period(period).to_timestamp(how="end").normalize()


def ensure_demo_data(params) -> bool:
    """Build the demo company into the sources folder when params say ``demo: true`` and it is absent."""
    if not params["demo"]:
        return False
    from clvlib import demo
    from clvlib.sources.spec import load_sources

    folder = load_sources(params.path("sources")).folder
    if (folder / "orders.csv").exists():
        return False
    demo.write(folder)
    return True


def _resolve(path) -> Path:
    """A relative path as given, else relative to notebooks/ (notebook defaults use ../params/...)."""
    from clvlib.paths import NOTEBOOKS_DIR

    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return (NOTEBOOKS_DIR / p).resolve()


class Workbook:
    def __init__(self, period: str, as_of: str | None = None, params_path: str | os.PathLike | None = None,
                 out_dir: str | os.PathLike | None = None, charts: bool = True):
        self.period = str(period)
        self.period_ = parse_period(self.period)
        end = period_end(self.period)
        self.as_of = pd.Timestamp(as_of).normalize() if as_of else end
        if not (self.period_.to_timestamp() <= self.as_of <= end):
            raise ParamsError(f"as_of {self.as_of:%Y-%m-%d} is outside period {self.period}")
        self.params = params_mod.load(_resolve(params_path) if params_path else DEFAULT_PARAMS)
        self.out_dir = Path(out_dir) if out_dir else REPORTS_DIR / "_lab" / self.period
        self.data_dir = self.out_dir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        from clvlib.report.display import Page
        from clvlib.report.i18n import Fmt, Translator

        self.lang = self.params["language"]
        self.t = Translator(self.lang)
        self.fmt = Fmt(self.lang, self.params["reporting_currency"])
        self.page = Page(self.t, self.fmt)
        if charts:
            from clvlib.report import charts as charts_mod

            charts_mod.enable()
        self._results: dict[str, object] = {}
        self._fingerprints: dict[str, str] = {}
        self._views: dict[str, pd.DataFrame] = {}

    # ------------------------------------------------------------------ stages
    def fingerprint(self, name: str) -> str:
        """The current fingerprint of stage ``name`` (see ``clvlib.stages.base``)."""
        from clvlib import stages

        if name not in self._fingerprints:
            stage = stages.get(name)
            upstream = {n: self.fingerprint(n) for n in stage.needs}
            stamp = stage.stamp(self.params) if stage.stamp is not None else None
            self._fingerprints[name] = stages.fingerprint(stage, self.params, self.as_of.date(), upstream, stamp)
        return self._fingerprints[name]

    def is_fresh(self, name: str) -> bool:
        """True when stage ``name``'s files in ``data/`` were made with its current fingerprint."""
        from clvlib.stages.base import recorded

        return recorded(self.data_dir).get(name) == self.fingerprint(name)

    def stage(self, name: str, refresh: bool = False):
        """The result of stage ``name``: loaded from ``data/`` when fresh, else built and saved.

        ``refresh=True`` rebuilds it, and the later stages that need it are built again when next
        asked for (their records in ``data/`` are dropped as well as this workbook's results: a later
        stage may add to an earlier stage's file, as ``tiers`` adds the tier to
        ``customer_value.parquet``, and a rebuilt file would lack it).
        """
        from clvlib import stages
        from clvlib.stages.base import forget, record

        if name in self._results and not refresh:
            return self._results[name]
        stage = stages.get(name)
        if not refresh and self.is_fresh(name):
            result = stage.load(self.data_dir)
        else:
            forget(self.data_dir, name)
            result = stage.build(self)
            stage.save(result, self.data_dir)
            record(self.data_dir, name, self.fingerprint(name))
            if refresh:
                self._forget_downstream(name)
        self._results[name] = result
        return result

    def _forget_downstream(self, name: str):
        from clvlib import stages
        from clvlib.stages.base import forget

        for other in stages.order():
            if other != name and name in stages.order([other]):
                self._results.pop(other, None)
                forget(self.data_dir, other)
        self._views.clear()

    # ------------------------------------------------------------------ tables as known on as_of
    def orders(self) -> pd.DataFrame:
        """Booked invoices and credit notes dated on or before as_of; payments after it not yet known."""
        if "orders" not in self._views:
            from clvlib.money import booked

            o = booked(self.stage("intake")["orders"])
            o = o[o["order_date"] <= self.as_of].copy()
            o.loc[o["paid_date"] > self.as_of, "paid_date"] = pd.NaT
            self._views["orders"] = o.reset_index(drop=True)
        return self._views["orders"]

    def table(self, name: str) -> pd.DataFrame:
        """Any canonical table, limited to what existed on as_of where it has a date."""
        df = self.stage("intake")[name]
        date_col = {"nps": "date", "complaints": "date", "fx_rates": "date", "ownership": "valid_from",
                    "reps": "hire_date"}.get(name)
        if date_col:
            df = df[df[date_col].isna() | (df[date_col] <= self.as_of)]
        return df.reset_index(drop=True)

    def credit(self) -> pd.DataFrame:
        """Booking attribution of the as-of orders (stage ``credit``, see ``clvlib.attribution``)."""
        return self.stage("credit")

    def with_names(self, df: pd.DataFrame, customer_col: str | None = "customer_id",
                   rep_col: str | None = None) -> pd.DataFrame:
        """Add customer name/country and rep name/team columns for display."""
        out = df
        if customer_col:
            c = self.table("customers")[["customer_id", "name", "country"]]
            out = out.merge(c.rename(columns={"customer_id": customer_col, "name": "customer_name"}),
                            on=customer_col, how="left")
        if rep_col:
            r = self.table("reps")[["rep_id", "name", "team"]]
            out = out.merge(r.rename(columns={"rep_id": rep_col, "name": "rep_name"}), on=rep_col, how="left")
        return out
