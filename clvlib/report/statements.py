r"""Rep statements: one self-contained HTML page per person paid, with only that person's figures.

``statement_html(rep_id, pay=..., kpis=..., customer_value=..., reps=..., t=..., fmt=..., company=...,
period_label=...)`` builds the page directly (no nbconvert): the report's CSS
(``style.css``, as ``clvlib.report.render.CSS``) and the offline Vega bundle (``clvlib.report.charts``) once, and no
internet address. In plain words, summary first:

1. what the person is paid this month under today's plan and what each other plan would pay, by
   component (the payroll's columns, :func:`clvlib.plans.payroll.pay_group`);
2. the month-by-month path over the backtest window (a chart and a table);
3. every line behind this month's pay, per plan and component — rule in words, source (order,
   customer, month or team-month), the figure used, rate, weight, share, the engine's detail, amount —
   with subtotals and totals that are visibly the sums of the lines above them;
4. the person's KPIs, commission era beside CLV era, with definitions, and ranks as "12 of 39";
5. the book: the customers they own at the month end with CLV, tier and P(alive);
6. how each figure was computed: the rules of the lines shown (``clvlib.plans.rules.RULES``), the plans,
   the KPI and health-score definitions, the rounding rule.

**Only that person's data.** :func:`rep_view` filters every table by ``rep_id`` first, and the page is
rendered from that view alone. What may appear besides the person's own figures: the plans' texts,
the number of sales reps ranked (for "12 of 39"), and a team figure where a line of the person's
pay uses it (a team pool's basis: the person's own team). Never another person's name, id, amount or
rank. Names are data: every text is escaped, and invisible or bidirectional control characters are
shown as markers (``Acme\u202eLTD`` -> ``Acme⟨U+202E⟩LTD``, :func:`visible`).

:func:`write_statements` writes ``statements/<rep_id>.html`` for everyone paid by any plan in the
period — nothing lists or links them: the manager pages do not point into the folder. :func:`publish`
(called by the runner after the notebooks) writes the statements and the payroll export
(:mod:`clvlib.plans.payroll`) into the period's folder from the saved stage files in ``data/``.
"""
from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.errors import DataError
from clvlib.plans.payroll import GROUPS, pay_group, visible_text

COMMISSION_ERA = ("revenue_12m", "gross_margin_12m", "margin_pct", "invoices_12m", "avg_order_margin_12m",
                  "new_customers_12m", "commission_rank")
CLV_ERA = ("book_clv", "book_customers", "clv_built_12m", "clv_change_existing", "clv_change_new",
           "clv_change_lost", "clv_change_transferred", "repurchase_rate", "retention_rate", "churn_rate",
           "lifespan_months", "a_share_of_profit", "health_score", "nps", "nps_responses", "collaboration_score",
           "clv_rank")
KPI_KIND = {**{m: "money" for m in ("revenue_12m", "gross_margin_12m", "avg_order_margin_12m", "book_clv",
                                     "clv_built_12m", "clv_change_existing", "clv_change_new", "clv_change_lost",
                                     "clv_change_transferred")},
            **{m: "pct" for m in ("margin_pct", "repurchase_rate", "retention_rate", "churn_rate",
                                   "a_share_of_profit")},
            "commission_rank": "rank", "clv_rank": "rank"}
TREND = ("book_clv", "gross_margin_12m")
#: the stages a statement reads from ``data/``
STAGES = ("intake", "customer_value", "history", "kpis", "payouts")
#: the report's style sheet (the file ``clvlib.report.render.CSS`` is read from; read here directly so that a
#: statement does not import nbconvert)
CSS = (Path(__file__).parent / "style.css").read_text(encoding="utf-8")
EXTRA_CSS = """
.clv-statement .clv-confidential { color: var(--clv-muted); font-size: 13px; margin: 0 0 8px; }
table.clv-table tr.subtotal td { font-weight: 650; border-top: 1px solid #cfd7df; background: var(--clv-bg); }
table.clv-table tr.total td { font-weight: 700; border-top: 2px solid #1d2733; }
table.clv-table tr.today td { font-weight: 650; }
.clv-statement.jp-Notebook .jp-RenderedHTMLCommon table.clv-table th.wrap { white-space: normal; min-width: 90px; }
table.clv-table td.nowrap { white-space: nowrap; }
table.clv-table td.detail { color: var(--clv-muted); font-size: 12px; max-width: 320px; }
.clv-statement details { margin: 6px 0 14px; }
.clv-statement details > summary { cursor: pointer; font-weight: 600; font-size: 15px; padding: 4px 0; }
.clv-kpis { display: flex; flex-wrap: wrap; gap: 18px; }
.clv-kpis > div { flex: 1 1 460px; }
.clv-statement h3 { font-size: 15px; margin: 14px 0 4px; }
@media print { .clv-statement details { display: block; } }
"""


# ----------------------------------------------------------------------------------- text is data
def visible(value) -> str:
    r"""``str(value)`` with every invisible format or control character (Unicode Cf, Cc; tab, line
    feed and carriage return kept) shown as a marker: ``"Acme\u202eLTD"`` -> ``"Acme⟨U+202E⟩LTD"``
    (``clvlib.safety.visible_text`` where the package has it: the same markers in every output)."""
    return visible_text(str(value))


def esc(value) -> str:
    """A value as HTML text: hidden characters as markers, then ``<&>"'`` escaped."""
    return html.escape(visible(value))


def _fill(template: str, **values) -> str:
    """A trusted catalogue template filled with escaped values."""
    return template.format(**{k: esc(v) for k, v in values.items()})


# ----------------------------------------------------------------------------------- one rep's view
@dataclass
class RepView:
    """Everything a statement shows, already limited to one person (see the module docstring)."""

    rep: dict                  # rep_id, name, team, role
    period: str
    months: list
    current: str
    plans: dict                # plan name -> {"title": {en, zh}, "description": {en, zh}} (the plans' texts)
    lines: pd.DataFrame        # this person's lines, every plan and month, with ``group`` and ``customer_name``
    scorecard: dict | None     # this person's KPI scorecard row
    ranked: int                # how many sales reps the ranks are among
    trend: pd.DataFrame        # this person's ``month, measure, value`` for TREND
    book: pd.DataFrame         # customer_id, customer_name, share, clv, tier, p_alive, last_purchase
    health_formula: str

    @property
    def plan_order(self) -> list:
        """Today's plan first, then the others by name (the engine's order)."""
        return [self.current] + sorted(p for p in self.plans if p != self.current)


def rep_view(rep_id: str, *, pay, kpis, customer_value, reps: pd.DataFrame, owners: pd.DataFrame | None = None,
             customers: pd.DataFrame | None = None, orders: pd.DataFrame | None = None) -> RepView:
    """Every table of a statement filtered to ``rep_id`` (each filter is the first thing done to it).

    Parameters
    ----------
    rep_id : str
    pay : clvlib.stages.payouts.Pay
    kpis : clvlib.stages.kpis.Kpis
    customer_value : clvlib.customer_value.CustomerValue
        ``table``: each customer's ``clv``, ``p_alive``, ``tier``, ``last_purchase``, ``owner_rep_id``.
    reps : DataFrame
        The ``reps`` table.
    owners : DataFrame, optional
        The books (``month, customer_id, rep_id, share``: the history stage's ``owners``); without it
        the book is the customers whose ``owner_rep_id`` is the person, share 1.
    customers, orders : DataFrame, optional
        ``customer_id, name`` and ``order_id, customer_id``: customer names for the lines and the book.
    """
    r = reps[reps["rep_id"] == rep_id].drop_duplicates("rep_id")
    if not len(r):
        raise DataError(f"statement: rep {rep_id!r} is not in the reps table")
    rep = {k: (None if pd.isna(v) else v) for k, v in r.iloc[0][["rep_id", "name", "team", "role"]].items()}
    lines = pay.lines[pay.lines["rep_id"] == rep_id].copy()
    lines["group"] = pay_group(lines)
    names = _customer_names(customers)
    lines["customer_id"] = np.where(lines["source_type"] == "customer", lines["source_id"], None)
    if orders is not None and len(lines):
        own_orders = orders[orders["order_id"].isin(lines.loc[lines["source_type"] == "order", "source_id"])]
        by_order = own_orders.drop_duplicates("order_id").set_index("order_id")["customer_id"]
        is_order = lines["source_type"] == "order"
        lines.loc[is_order, "customer_id"] = lines.loc[is_order, "source_id"].map(by_order)
    lines["customer_name"] = lines["customer_id"].map(names) if names is not None else None
    sc = kpis.rep_scorecard
    mine = sc[sc["rep_id"] == rep_id]
    trend = kpis.table[(kpis.table["level"] == "rep") & (kpis.table["id"] == rep_id)
                       & kpis.table["measure"].isin(TREND)][["month", "measure", "value"]]
    return RepView(rep=rep, period=pay.period, months=list(pay.months), current=pay.current, plans=dict(pay.plans),
                   lines=lines.reset_index(drop=True), scorecard=mine.iloc[0].to_dict() if len(mine) else None,
                   ranked=int(sc["commission_rank"].notna().sum()) if "commission_rank" in sc else 0,
                   trend=trend.reset_index(drop=True),
                   book=_book(rep_id, pay.period, customer_value.table, owners, names),
                   health_formula=str(getattr(kpis, "health_formula", "") or ""))


def _customer_names(customers: pd.DataFrame | None) -> pd.Series | None:
    if customers is None:
        return None
    return customers.drop_duplicates("customer_id").set_index("customer_id")["name"]


def _book(rep_id: str, period: str, values: pd.DataFrame, owners: pd.DataFrame | None,
          names: pd.Series | None) -> pd.DataFrame:
    """The customers ``rep_id`` owns at the period's month end, with their share, CLV, tier and P(alive)."""
    if owners is not None:
        own = owners[(owners["rep_id"] == rep_id) & (owners["month"] == period)][["customer_id", "share"]]
    else:
        own = values[values["owner_rep_id"] == rep_id][["customer_id"]].assign(share=1.0)
    cols = [c for c in ("customer_id", "clv", "tier", "p_alive", "last_purchase") if c in values]
    book = own.merge(values[values["customer_id"].isin(own["customer_id"])][cols], on="customer_id", how="left")
    book["customer_name"] = book["customer_id"].map(names) if names is not None else None
    book["your_clv"] = book["share"] * book["clv"]
    return book.sort_values(["your_clv", "customer_id"], ascending=[False, True]).reset_index(drop=True)


# ----------------------------------------------------------------------------------- formats
class _Formats:
    """The statement's formats: money to the cent for pay, whole units for KPIs and CLV."""

    def __init__(self, t, fmt, lang: str):
        self.t, self.fmt, self.lang = t, fmt, lang

    def cents(self, c) -> str:
        return self.fmt.money(int(c) / 100, compact=False, cents=True)

    def signed_cents(self, c) -> str:
        return ("+" if int(c) > 0 else "") + self.cents(c)

    def money(self, x) -> str:
        return self.fmt.money(x, compact=False, cents=True)

    def whole(self, x) -> str:
        return self.fmt.money(x, compact=False)

    def count(self, x) -> str:
        """A count that may be fractional (a shared account counts by its share): 103.5, or 102."""
        return self.fmt.num(x, 0 if float(x) == round(float(x)) else 1)

    @staticmethod
    def factor(x) -> str:
        return "–" if x is None or pd.isna(x) else f"{float(x):.6g}"

    def plan(self, view: RepView, name: str) -> str:
        title = (view.plans.get(name) or {}).get("title") or {}
        return str(title.get(self.lang) or title.get("en") or name)

    def component(self, group: str) -> str:
        return self.t(f"statement.component.{group}")


def _table(head: list[tuple[str, str]], rows: list[tuple[str, list[str]]]) -> str:
    """``head``: [(label, 'num'|'txt')]; ``rows``: [(css class, [cell html])] (cells already escaped)."""
    th = "".join(f'<th class="{k}">{esc(label)}</th>' for label, k in head)
    body = "".join(f'<tr class="{cls}">' + "".join(f'<td class="{k}">{cell}</td>' for (_, k), cell in zip(head, cells))
                   + "</tr>" for cls, cells in rows)
    return f'<table class="clv-table"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


# ----------------------------------------------------------------------------------- charts
@lru_cache(maxsize=1)
def _bundle() -> str:
    from clvlib.report.charts import _bundle_script

    return _bundle_script()


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def chart_html(chart, div_id: str) -> str:
    """An Altair chart as a ``<div>`` and the ``vegaEmbed`` call that draws it once the page's bundle is
    loaded (as ``clvlib.report.charts.render`` does), with the project's theme; ``</`` escaped."""
    from clvlib.report.charts import theme

    spec = chart.to_dict()
    spec.pop("$schema", None)
    spec["config"] = _merge(theme()["config"], spec.get("config", {}))
    payload = json.dumps(spec, sort_keys=True, ensure_ascii=False, default=str)
    payload = payload.replace("</", "<\\/").replace("<!--", "<\\!--")
    opts = json.dumps({"actions": False, "renderer": "svg"})
    return (f'<div class="clv-chart" id="{div_id}"></div>\n<script>(function(){{var spec={payload};'
            f'function draw(){{if(!window.vegaEmbed){{return setTimeout(draw,30);}}'
            f'vegaEmbed("#{div_id}",spec,{opts}).catch(function(e){{var el=document.getElementById("{div_id}");'
            f'el.textContent="This chart could not be drawn: "+e;el.className+=" clv-chart-failed";}});}}draw();}})();'
            f'</script>')


def _axis(f: "_Formats", values: pd.Series) -> tuple[float, str, str]:
    """(divisor, unit, d3 format) of a money axis: the report's, except that Chinese axes count in 万 only
    when the amounts reach 100,000 (pay of a few thousand would round to 0 and 1 万)."""
    if f.lang != "zh":
        return f.fmt.money_axis()
    from clvlib.report.i18n import ZH_NAMES

    name = ZH_NAMES.get(f.fmt.currency, f.fmt.currency)
    if values.abs().max() >= 1e5:
        return 1e4, "万" + name, ",.0f"
    return 1.0, name, ",.0f"


def month_chart(d: pd.DataFrame, f: "_Formats", *, title: str, y_title: str, series_title: str, exact: bool):
    """Lines across months, one per ``series`` (``d``: ``month`` YYYY-MM, ``series``, ``value`` in currency
    units); tooltips give the exact amount (to the cent when ``exact``, else whole units)."""
    import altair as alt

    from clvlib.report.charts import HEIGHT, WIDTH

    d = d.copy()
    d["month_label"] = [f.fmt.month(pd.Period(m, freq="M").to_timestamp()) for m in d["month"]]
    d["label"] = [f.money(v) if exact else f.whole(v) for v in d["value"]]
    div, unit, d3 = _axis(f, d["value"])
    d["axis"] = d["value"] / div
    order = list(dict.fromkeys(d.sort_values("month")["month_label"]))
    legend = alt.Legend(orient="bottom", direction="vertical", columns=1, labelLimit=700, titleLimit=700)
    return alt.Chart(d[["month_label", "series", "axis", "label"]]).mark_line(point=True).encode(
        x=alt.X("month_label:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("axis:Q", title=f"{y_title} ({unit})", axis=alt.Axis(format=d3)),
        color=alt.Color("series:N", title=series_title, sort=list(dict.fromkeys(d["series"])), legend=legend),
        tooltip=[alt.Tooltip("series:N", title=series_title), alt.Tooltip("month_label:N", title=f.fmt.month_word),
                 alt.Tooltip("label:N", title=y_title)],
    ).properties(title=title, width=WIDTH, height=HEIGHT)


# ----------------------------------------------------------------------------------- sections
def _month_totals(view: RepView) -> pd.DataFrame:
    """Cents per (plan, month) of the window, zero where a plan paid nothing."""
    grid = pd.MultiIndex.from_product([view.plan_order, view.months], names=["plan", "month"])
    got = view.lines.groupby(["plan", "month"])["amount_cents"].sum()
    return got.reindex(grid, fill_value=0).astype(np.int64).reset_index()


def _period_groups(view: RepView) -> pd.DataFrame:
    """Cents per (plan, payroll group) in the period; plans in order, every plan present."""
    p = view.lines[view.lines["month"] == view.period]
    got = p.groupby(["plan", "group"])["amount_cents"].sum().unstack(fill_value=0)
    return got.reindex(index=view.plan_order, columns=list(GROUPS), fill_value=0).astype(np.int64)


def _summary(view: RepView, f: _Formats, month: str) -> str:
    t = f.t
    groups = _period_groups(view)
    totals = groups.sum(axis=1)
    today = int(totals.get(view.current, 0))
    window = _month_totals(view)
    window_today = int(window.loc[window["plan"] == view.current, "amount_cents"].sum())
    from clvlib.report.tables import kpi_cards

    book_clv = float(view.book["your_clv"].sum()) if len(view.book) else 0.0
    cards = kpi_cards([
        (t("statement.card_today", month=month), f.cents(today), f.plan(view, view.current)),
        (t("statement.card_window", n=len(view.months)), f.cents(window_today),
         t("statement.card_window_note", first=f.fmt.month(view.months[0]), last=f.fmt.month(view.months[-1]))),
        (t("statement.card_book"), f.whole(book_clv), t("statement.card_book_note", n=f.count(view.book["share"].sum()))),
    ])
    parts = [f"<h1>{esc(t('statement.h1', month=month))}</h1>",
             f'<p class="clv-confidential">{esc(t("statement.confidential", name=view.rep["name"]))}</p>', cards,
             f"<p>{_fill(t('statement.intro'), name=view.rep['name'], month=month)}</p>",
             f"<p>{_fill(t('statement.today_sentence'), plan=f.plan(view, view.current), amount=f.cents(today), month=month)}</p>"]
    others = [p for p in view.plan_order if p != view.current]
    if others:
        items = "".join(f"<li>{_fill(t('statement.other_item'), plan=f.plan(view, p), amount=f.cents(totals[p]), diff=f.signed_cents(int(totals[p]) - today))}</li>"
                        for p in others)
        parts.append(f"<p>{esc(t('statement.others_intro'))}</p><ul>{items}</ul>")
    return "\n".join(parts) + _by_plan(view, f, groups, month)


def _by_plan(view: RepView, f: _Formats, groups: pd.DataFrame, month: str) -> str:
    t = f.t
    used = [g for g in GROUPS if (groups[g] != 0).any()] or ["commission"]
    head = ([(t("statement.col.plan"), "txt")] + [(f.component(g), "num wrap") for g in used]
            + [(t("statement.col.total"), "num")])
    rows = []
    for p in view.plan_order:
        label = f.plan(view, p) + (" " + t("statement.today_mark") if p == view.current else "")
        cells = [esc(label)] + [esc(f.cents(groups.loc[p, g])) for g in used] + [esc(f.cents(groups.loc[p].sum()))]
        rows.append(("today" if p == view.current else "plan", cells))
    return (f"<h2>{esc(t('statement.by_plan_title', month=month))}</h2>{_table(head, rows)}"
            f'<p class="clv-note">{esc(t("statement.by_plan_note"))}</p>')


def _path(view: RepView, f: _Formats) -> str:
    t = f.t
    m = _month_totals(view)
    first, last = f.fmt.month(view.months[0]), f.fmt.month(view.months[-1])
    d = pd.DataFrame({"month": m["month"], "series": [visible(f.plan(view, p)) for p in m["plan"]],
                      "value": m["amount_cents"] / 100})
    chart = month_chart(d, f, title=t("statement.path_chart"), y_title=t("statement.path_y"),
                        series_title=t("statement.path_series"), exact=True)
    today = int(m.loc[m["plan"] == view.current, "amount_cents"].sum())
    wide = m.pivot(index="month", columns="plan", values="amount_cents").reindex(columns=view.plan_order)
    head = [(t("statement.col.month"), "txt nowrap")] + [(f.plan(view, p), "num wrap") for p in view.plan_order]
    rows = [("month", [esc(f.fmt.month(pd.Period(mo, freq="M").to_timestamp()))]
             + [esc(f.cents(wide.loc[mo, p])) for p in view.plan_order]) for mo in view.months]
    rows.append(("total", [esc(t("statement.col.total"))] + [esc(f.cents(wide[p].sum())) for p in view.plan_order]))
    return (f"<h2>{esc(t('statement.path_title', first=first, last=last))}</h2>"
            f"<p>{_fill(t('statement.path_sentence'), n=len(view.months), amount=f.cents(today))}</p>"
            + chart_html(chart, "clv-statement-pay") + _table(head, rows))


def _line_rows(g: pd.DataFrame, f: _Formats) -> list:
    t = f.t
    rows = []
    for ln in g.itertuples(index=False):
        src = (t(f"statement.source.{ln.source_type}", id=ln.source_id)
               if ln.source_type and t.has(f"statement.source.{ln.source_type}") else (ln.source_id or "–"))
        name = ln.customer_name if isinstance(ln.customer_name, str) else ""
        rows.append(("line", [esc(t(f"statement.rule.{ln.rule}.name")), esc(src), esc(name),
                              esc(f.money(ln.basis) if pd.notna(ln.basis) else "–"), esc(f.factor(ln.rate)),
                              esc(f.factor(ln.weight)), esc(f.factor(ln.share)), esc(ln.detail or ""),
                              esc(f.cents(ln.amount_cents))]))
    return rows


def _lines(view: RepView, f: _Formats, month: str) -> str:
    t = f.t
    head = [(t(f"statement.col.{c}"), k) for c, k in
            (("rule", "txt"), ("source", "txt nowrap"), ("customer", "txt"), ("basis", "num"), ("rate", "num"),
             ("weight", "num"), ("share", "num"), ("detail", "txt detail"), ("amount", "num"))]
    now = view.lines[view.lines["month"] == view.period]
    parts = [f"<h2>{esc(t('statement.lines_title', month=month))}</h2><p>{esc(t('statement.lines_intro'))}</p>"]
    for p in view.plan_order:
        mine = now[now["plan"] == p]
        summary = (f"{esc(f.plan(view, p))}{' ' + esc(t('statement.today_mark')) if p == view.current else ''}"
                   f" — {esc(f.cents(mine['amount_cents'].sum()))} · {esc(t('statement.lines_count', n=len(mine)))}")
        if not len(mine):
            body = f"<p>{esc(t('statement.lines_none'))}</p>"
        else:
            rows = []
            for grp in [g for g in GROUPS if g in set(mine["group"])]:
                g = mine[mine["group"] == grp]
                rows += _line_rows(g, f)
                rows.append(("subtotal", [esc(t("statement.subtotal", component=f.component(grp)))] + [""] * 7
                             + [esc(f.cents(g["amount_cents"].sum()))]))
            rows.append(("total", [esc(t("statement.total", plan=f.plan(view, p)))] + [""] * 7
                         + [esc(f.cents(mine["amount_cents"].sum()))]))
            body = _table(head, rows)
        parts.append(f'<details data-plan="{esc(p)}"{" open" if p == view.current else ""}>'
                     f"<summary>{summary}</summary>{body}</details>")
    return "\n".join(parts)


def _kpi_value(view: RepView, m: str, f: _Formats) -> str:
    v = view.scorecard.get(m) if view.scorecard else None
    if v is None or pd.isna(v):
        return "–"
    kind = KPI_KIND.get(m, "num1")
    if kind == "money":
        return f.whole(v)
    if kind == "pct":
        return f.fmt.pct(v)
    if kind == "rank":
        return f.t("statement.rank_of", rank=int(v), n=view.ranked)
    text = f.fmt.num(v, 1)
    if m == "nps" and view.scorecard.get("nps_few_responses") == 1:
        text += " " + f.t("statement.kpis_few_nps")
    return text


def _kpis(view: RepView, f: _Formats, month: str) -> str:
    t = f.t
    out = [f"<h2>{esc(t('statement.kpis_title', month=month))}</h2>"]
    if view.scorecard is None:
        return out[0] + f"<p>{esc(t('statement.kpis_none'))}</p>"
    out.append(f"<p>{esc(t('statement.kpis_intro', n=view.ranked))}</p>")
    head = [(t("statement.col.kpi"), "txt"), (t("statement.col.value"), "num"), (t("statement.col.definition"), "txt detail")]
    cols = []
    for title, kpis in (("statement.kpis_commission", COMMISSION_ERA), ("statement.kpis_clv", CLV_ERA)):
        rows = [("kpi", [esc(t(f"statement.kpi.{m}.name")), esc(_kpi_value(view, m, f)),
                         esc(t(f"statement.kpi.{m}.definition"))]) for m in kpis]
        cols.append(f"<div><h3>{esc(t(title))}</h3>{_table(head, rows)}</div>")
    out.append('<div class="clv-kpis">' + "".join(cols) + "</div>")
    if len(view.trend):
        d = pd.DataFrame({"month": view.trend["month"], "value": view.trend["value"],
                          "series": [visible(t(f"statement.kpi.{m}.name")) for m in view.trend["measure"]]})
        chart = month_chart(d, f, title=t("statement.kpi_chart"), y_title=t("statement.kpi_y"),
                            series_title=t("statement.kpi_series"), exact=False)
        out.append(chart_html(chart, "clv-statement-kpis"))
    return "\n".join(out)


def _book_section(view: RepView, f: _Formats, month: str) -> str:
    t = f.t
    out = f"<h2>{esc(t('statement.book_title', month=month))}</h2>"
    b = view.book
    if not len(b):
        return out + f"<p>{esc(t('statement.book_none'))}</p>"
    out += f"<p>{_fill(t('statement.book_sentence'), n=f.count(b['share'].sum()), clv=f.whole(b['your_clv'].sum()))}</p>"
    head = [(t(f"statement.col.{c}"), k) for c, k in
            (("customer_id", "txt"), ("customer", "txt"), ("tier", "txt"), ("share", "num"), ("clv", "num"),
             ("your_clv", "num"), ("p_alive", "num"), ("last_purchase", "txt"))]
    rows = [("customer", [esc(r.customer_id), esc(r.customer_name if isinstance(r.customer_name, str) else ""),
                          esc(r.tier if isinstance(getattr(r, "tier", None), str) else "–"), esc(f.factor(r.share)),
                          esc(f.whole(r.clv)), esc(f.whole(r.your_clv)),
                          esc(f.fmt.pct(r.p_alive) if pd.notna(getattr(r, "p_alive", np.nan)) else "–"),
                          esc(f.fmt.date(r.last_purchase) if pd.notna(getattr(r, "last_purchase", pd.NaT)) else "–")])
            for r in b.itertuples(index=False)]
    rows.append(("total", [esc(t("statement.book_total")), "", "", esc(f.count(b["share"].sum())), "",
                           esc(f.whole(b["your_clv"].sum())), "", ""]))
    return out + _table(head, rows)


def _how(view: RepView, f: _Formats) -> str:
    t = f.t
    used = sorted(set(view.lines.loc[view.lines["month"] == view.period, "rule"]))
    rules = "".join(f"<li><b>{esc(t(f'statement.rule.{r}.name'))}</b> (<code>{esc(r)}</code>): "
                    f"{esc(t(f'statement.rule.{r}.how'))}</li>" for r in used)
    plans = "".join(f"<li><b>{esc(f.plan(view, p))}</b>: {esc(_text(view.plans.get(p, {}).get('description'), f.lang))}</li>"
                    for p in view.plan_order)
    return (f"<h2>{esc(t('statement.how_title'))}</h2><p>{esc(t('statement.how_rounding'))}</p>"
            f"<h3>{esc(t('statement.how_rules'))}</h3><ul>{rules}</ul>"
            f'<p class="clv-note">{esc(t("statement.how_rules_note"))}</p>'
            f"<h3>{esc(t('statement.how_plans'))}</h3><ul>{plans}</ul>"
            f"<p>{esc(t('statement.how_kpis', formula=view.health_formula or '–'))}</p>"
            f"<p>{esc(t('statement.how_book'))}</p>")


def _text(d, lang: str) -> str:
    if isinstance(d, dict):
        return str(d.get(lang) or d.get("en") or "")
    return str(d or "")


# ----------------------------------------------------------------------------------- the page
def render_statement(view: RepView, *, t, fmt, company: str, period_label: str, footer: str | None = None) -> str:
    """The statement page of ``view`` (a :class:`RepView`): a complete, self-contained HTML document."""
    from clvlib import __version__

    lang = t.lang
    f = _Formats(t, fmt, lang)
    month = fmt.month(pd.Period(view.period, freq="M").to_timestamp())
    name = view.rep["name"] or view.rep["rep_id"]
    footer = footer or t("statement.footer", version=__version__, period=view.period, currency=fmt.currency, name=name)
    body = "\n".join([_summary(view, f, month), _path(view, f), _lines(view, f, month), _kpis(view, f, month),
                      _book_section(view, f, month), _how(view, f)])
    return (f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f'<title>{esc(t("statement.title", name=name, month=month))}</title>'
            f"<style>{CSS}{EXTRA_CSS}</style>\n{_bundle()}\n</head>"
            f'<body class="jp-Notebook clv-statement"><header class="clv-header">'
            f'<div class="clv-brand">{esc(company)}</div>'
            f'<div class="clv-period">{esc(t("statement.heading", name=name, rep_id=view.rep["rep_id"], month=month))}</div>'
            f'<div class="clv-note">{esc(period_label)}</div></header>'
            f'<main class="jp-RenderedHTMLCommon">{body}</main>'
            f'<footer class="clv-footer">{esc(footer)}</footer></body></html>\n')


def statement_html(rep_id: str, *, pay, kpis, customer_value, reps: pd.DataFrame, t, fmt, company: str,
                   period_label: str, owners: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                   orders: pd.DataFrame | None = None, footer: str | None = None) -> str:
    """The statement of ``rep_id`` as one self-contained HTML page (:func:`rep_view` then
    :func:`render_statement`; the arguments are theirs)."""
    view = rep_view(rep_id, pay=pay, kpis=kpis, customer_value=customer_value, reps=reps, owners=owners,
                    customers=customers, orders=orders)
    return render_statement(view, t=t, fmt=fmt, company=company, period_label=period_label, footer=footer)


def paid_reps(pay) -> list[str]:
    """Everyone with a line of pay under any plan in the period, by id."""
    return sorted(set(pay.lines.loc[pay.lines["month"] == pay.period, "rep_id"]))


def write_statements(out_dir, *, pay, kpis, customer_value, reps: pd.DataFrame, t, fmt, company: str,
                     period_label: str, owners=None, customers=None, orders=None) -> list[Path]:
    """``<out_dir>/statements/<rep_id>.html`` for everyone paid by any plan in the period (:func:`paid_reps`).

    Each file is written whole, then moved into place; a statement left in the folder by an earlier run
    for someone not paid now is removed. Nothing else goes in the folder (no index): the statements are
    handed to each person, not listed for managers. Returns the paths written.
    """
    folder = Path(out_dir) / "statements"
    folder.mkdir(parents=True, exist_ok=True)
    stale = set(folder.glob("*.html"))           # from an earlier run into the same folder
    written = []
    for rep_id in paid_reps(pay):
        page = statement_html(rep_id, pay=pay, kpis=kpis, customer_value=customer_value, reps=reps, t=t, fmt=fmt,
                              company=company, period_label=period_label, owners=owners, customers=customers,
                              orders=orders)
        path = folder / f"{_file_name(rep_id)}.html"
        tmp = path.with_suffix(".html.tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    for old in stale - set(written):             # someone no longer paid this period: not a statement of it
        old.unlink()
    return written


def _file_name(rep_id: str) -> str:
    """A rep id as a file name: kept when it is plain (letters, digits, ``-_.``), else refused."""
    text = str(rep_id)
    if not text or text.startswith(".") or not all(c.isalnum() or c in "-_." for c in text) or not text.isascii():
        raise DataError(f"statement: rep id {rep_id!r} cannot be a file name (use letters, digits, '-', '_' or '.')")
    return text


# ----------------------------------------------------------------------------------- the runner's call
def load_stages(data_dir: Path) -> dict:
    """The saved stages a statement needs, from ``data_dir`` (each must have been recorded complete)."""
    from clvlib import stages
    from clvlib.stages.base import recorded

    done = recorded(data_dir)
    missing = [s for s in STAGES if s not in done]
    if missing:
        raise DataError(f"statements: stage(s) {', '.join(missing)} have no complete files in {data_dir} "
                        f"(run the notebooks that compute them first)")
    try:
        return {s: stages.get(s).load(Path(data_dir)) for s in STAGES}
    except FileNotFoundError as e:
        raise DataError(f"statements: {e.filename} is missing (a stage's files in {data_dir} are incomplete)") from None


def publish(out_dir: Path, params, as_of=None) -> dict:
    """Write the period's statements and payroll export into ``out_dir`` from ``out_dir/data``.

    Parameters
    ----------
    out_dir : Path
        The period's folder (the runner's staging folder): reads ``data/``, writes ``statements/<rep_id>.html``,
        ``payroll.csv`` and ``payroll.xlsx``.
    params : clvlib.params.Params or path
        The run's settings (``language``, ``company``, ``reporting_currency``).
    as_of : date, optional
        The data's as-of date for the page header (default: the period's last day).

    Returns
    -------
    dict for run.json: ``statements`` (how many), ``statement_files`` and ``payroll_files`` (paths relative
    to ``out_dir``), ``payroll_rows``, ``seconds``.
    """
    from clvlib import params as params_mod
    from clvlib.plans.payroll import COLUMNS, payroll_table, write_payroll
    from clvlib.report.i18n import Fmt, Translator
    from clvlib.workbook import period_end

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    if not hasattr(params, "path"):
        params = params_mod.load(params)
    s = load_stages(out_dir / "data")
    pay, intake = s["payouts"], s["intake"]
    t, fmt = Translator(params["language"]), Fmt(params["language"], params["reporting_currency"])
    as_of = pd.Timestamp(as_of) if as_of is not None else period_end(pay.period)
    reps = intake.tables["reps"]
    files = write_statements(out_dir, pay=pay, kpis=s["kpis"], customer_value=s["customer_value"], reps=reps, t=t,
                             fmt=fmt, company=params["company"],
                             period_label=t("report.period", month=fmt.month(as_of), date=fmt.date(as_of)),
                             owners=s["history"].owners, customers=intake.tables["customers"],
                             orders=intake.tables["orders"][["order_id", "customer_id"]])
    table = payroll_table(pay, reps)
    payroll = write_payroll(table, out_dir, column_notes={c: t(f"payroll.col.{c}") for c in COLUMNS})
    return {"statements": len(files), "statement_files": [str(p.relative_to(out_dir)) for p in files],
            "payroll_files": [str(p.relative_to(out_dir)) for p in payroll], "payroll_rows": len(table),
            "seconds": round(time.perf_counter() - t0, 2)}
