"""The workbook context: what every notebook starts with.

``wb = Workbook(period, as_of, params_path, out_dir)`` validates the parameters, picks the language
and formats, turns on the offline chart renderer, and gives each notebook the stages it needs:

* ``wb.inputs()`` — the canonical tables, quarantine and row counts (stage ``intake``);
* ``wb.orders()`` etc. — the tables as known on the as-of date;
* later stages (customer value, tiers, KPIs, plans) follow the same pattern.

Each stage writes its tables as Parquet to ``<out_dir>/data/`` — the contract between notebooks and
the machine-readable output of a run — and later notebooks read them back instead of recomputing.
A stage's files are reused only when they were made from the same params, inputs, as-of date and
clvlib version (``data/_stages.json``), so a notebook run on its own in JupyterLab computes what it
needs and a scheduled run computes each stage once.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

from clvlib import __version__, contract, params as params_mod
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
        from clvlib.report.i18n import Fmt, Translator

        self.lang = self.params["language"]
        self.t = Translator(self.lang)
        self.fmt = Fmt(self.lang, self.params["reporting_currency"])
        if charts:
            from clvlib.report import charts as charts_mod

            charts_mod.enable()
        self._cache: dict[str, object] = {}

    # ------------------------------------------------------------------ stage cache
    def _stamp(self) -> dict:
        if "stamp" not in self._cache:
            from clvlib.sources.spec import load_sources

            ensure_demo_data(self.params)
            srcs = load_sources(self.params.path("sources"))
            files = {}
            for ts in srcs.tables.values():
                for f in ts.files():
                    st = f.stat() if f.exists() else None
                    files[str(f)] = [st.st_size, st.st_mtime_ns] if st else None
            self._cache["stamp"] = {"params": self.params.fingerprint(), "inputs": files,
                                    "as_of": str(self.as_of.date()), "clvlib": __version__}
        return self._cache["stamp"]

    def _stages(self) -> dict:
        p = self.data_dir / "_stages.json"
        return json.loads(p.read_text()) if p.exists() else {}

    def _fresh(self, stage: str) -> bool:
        return self._stages().get(stage) == self._stamp()

    def _done(self, stage: str):
        st = self._stages()
        st[stage] = self._stamp()
        (self.data_dir / "_stages.json").write_text(json.dumps(st, indent=1, sort_keys=True))

    def save(self, name: str, df: pd.DataFrame) -> Path:
        path = self.data_dir / f"{name}.parquet"
        df.to_parquet(path, index=False)
        return path

    def load(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.data_dir / f"{name}.parquet")

    # ------------------------------------------------------------------ stage: intake
    def inputs(self, refresh: bool = False):
        """Canonical tables + quarantine + counts, read from ``data/`` when fresh, else from the sources."""
        if "inputs" in self._cache and not refresh:
            return self._cache["inputs"]
        from clvlib.sources import Inputs, load_inputs

        if not refresh and self._fresh("intake"):
            tables = {name: self.load(name) for name in contract.TABLES}
            q = pd.read_csv(self.data_dir / "quarantine.csv", dtype=str, keep_default_na=False)
            meta = json.loads((self.data_dir / "intake.json").read_text())
            inp = Inputs(tables=tables, quarantine=q, counts=meta["counts"], seconds=meta["seconds"],
                         notes=meta.get("notes", []))
        else:
            self._stamp()
            inp = load_inputs(self.params)
            for name, df in inp.tables.items():
                self.save(name, df)
            from clvlib.safety import safe_csv

            safe_csv(inp.quarantine, self.data_dir / "quarantine.csv")
            (self.data_dir / "intake.json").write_text(json.dumps(
                {"counts": inp.counts, "seconds": round(inp.seconds, 3), "notes": inp.notes}, indent=1, default=str))
            self._done("intake")
        self._cache["inputs"] = inp
        return inp

    # ------------------------------------------------------------------ tables as known on as_of
    def orders(self) -> pd.DataFrame:
        """Booked invoices and credit notes dated on or before as_of; payments after it not yet known."""
        if "orders" not in self._cache:
            from clvlib.money import booked

            o = booked(self.inputs()["orders"])
            o = o[o["order_date"] <= self.as_of].copy()
            o.loc[o["paid_date"] > self.as_of, "paid_date"] = pd.NaT
            self._cache["orders"] = o.reset_index(drop=True)
        return self._cache["orders"]

    def table(self, name: str) -> pd.DataFrame:
        """Any canonical table, limited to what existed on as_of where it has a date."""
        df = self.inputs()[name]
        date_col = {"nps": "date", "complaints": "date", "fx_rates": "date", "ownership": "valid_from",
                    "reps": "hire_date"}.get(name)
        if date_col:
            df = df[df[date_col].isna() | (df[date_col] <= self.as_of)]
        return df.reset_index(drop=True)

    def credit(self) -> pd.DataFrame:
        """Booking attribution of the as-of orders (see ``clvlib.attribution``)."""
        if "credit" not in self._cache:
            from clvlib.attribution import credit_lines

            self._cache["credit"] = credit_lines(self.orders(), self.table("order_splits"),
                                                 self.table("ownership"))
        return self._cache["credit"]

    # ------------------------------------------------------------------ stage: customer value
    def customer_value(self, refresh: bool = False):
        """CLV per customer and per rep's book (``clvlib.customer_value``); ``data/customer_value.parquet``."""
        if "customer_value" in self._cache and not refresh:
            return self._cache["customer_value"]
        from clvlib import customer_value as cv

        if not refresh and self._fresh("customer_value"):
            result = cv.load(self.data_dir)
        else:
            result = cv.build(self.orders(), self.table("ownership"), self.as_of, self.params["clv"])
            cv.save(result, self.data_dir)
            self._done("customer_value")
        self._cache["customer_value"] = result
        return result

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

    # ------------------------------------------------------------------ output helpers for notebooks
    def show(self, html: str):
        from IPython.display import HTML, display

        display(HTML(html))

    def display(self, obj):
        """Show a chart or table from inside an ``if`` block (only a cell's last line shows by itself)."""
        from IPython.display import display

        display(obj)

    def say(self, key: str, css: str | None = None, **values):
        """A translated sentence with escaped values, as a paragraph of the report."""
        from clvlib.report.tables import sentence

        text = sentence(self.t(key), **values)
        cls = f' class="{css}"' if css else ""
        self.show(f"<p{cls}>{text}</p>")

    def show_table(self, df: pd.DataFrame, columns: dict[str, str], max_rows: int | None = None,
                   caption: str | None = None):
        from clvlib.report.tables import table_html

        self.show(table_html(df, columns, t=self.t, fmt=self.fmt, max_rows=max_rows, caption=caption))

    def bullets(self, items, title: str | None = None):
        """A list of plain-text items (escaped), with an optional heading line."""
        import html

        head = f"<p><b>{html.escape(title)}</b></p>" if title else ""
        self.show(head + "<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>")

    def label(self, values: pd.Series, prefix: str) -> pd.Series:
        """Translate codes (``team``, ``rule``, ``status`` ...) for display: ``t(prefix + "." + code)``."""
        return values.map(lambda v: self.t(f"{prefix}.{v}") if self.t.has(f"{prefix}.{v}") else v)

    def cards(self, cards: list[tuple[str, str, str | None]]):
        from clvlib.report.tables import kpi_cards

        self.show(kpi_cards(cards))
