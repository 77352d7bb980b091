"""Charts: one visual theme and an offline, interactive Altair renderer.

Altair's default renderer loads Vega from a CDN, so its charts are blank offline. ``enable()``
registers the ``clv`` renderer instead: the first chart of a kernel carries the Vega/Vega-Lite/
vega-embed bundle that vl-convert ships (about 0.9 MB, wrapped so that a second copy is harmless);
every chart is a ``<div>`` plus a ``vegaEmbed`` call that waits for it. The page then draws every
chart, with tooltips, with no network at all. The spec's ``$schema`` URL is dropped and ``</`` is
escaped, so a customer called ``</script>`` stays text.

Chart builders take tidy, already-aggregated frames (Altair refuses more than 5,000 rows) and the
report's ``Translator``/``Fmt`` so titles, labels and tooltips follow ``language``.
"""
from __future__ import annotations

import hashlib
import json

import altair as alt
import numpy as np
import pandas as pd

FONT = "'Noto Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', Arial, sans-serif"
PALETTE = ["#1f5a96", "#e07b39", "#3a9d6e", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c",
           "#ccb974", "#64b5cd"]
WIDTH, HEIGHT = 640, 260

_state = {"bundle_sent": False, "count": 0}


def theme() -> dict:
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": HEIGHT},
            "range": {"category": PALETTE},
            "title": {"fontSize": 15, "fontWeight": 600, "anchor": "start", "color": "#1d2733", "offset": 10},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": 500, "labelColor": "#444",
                     "titleColor": "#333", "gridColor": "#e9edf2", "domainColor": "#b8c2cc", "tickColor": "#b8c2cc"},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom", "direction": "horizontal",
                       "labelLimit": 320, "columns": 3},
            "line": {"strokeWidth": 2.2},
            "point": {"size": 40},
            "bar": {"cornerRadiusEnd": 2},
        }
    }


def _bundle_script() -> str:
    import vl_convert as vlc

    return ('<script data-clv="vega-bundle">if(!window.vegaEmbed){(function(){\n' + vlc.javascript_bundle()
            + "\n})();}</script>")


def render(spec: dict, **_) -> dict:
    """The ``clv`` Altair renderer: offline HTML with the Vega bundle once per kernel."""
    spec = {k: v for k, v in spec.items() if k != "$schema"}
    payload = json.dumps(spec, sort_keys=True, ensure_ascii=False, default=str)
    payload = payload.replace("</", "<\\/").replace("<!--", "<\\!--")
    _state["count"] += 1
    div = f"clv-chart-{_state['count']}-{hashlib.sha1(payload.encode()).hexdigest()[:8]}"
    opts = json.dumps({"actions": False, "renderer": "svg"})
    html = (f'<div class="clv-chart" id="{div}"></div>\n<script>(function(){{var spec={payload};'
            f'function draw(){{if(!window.vegaEmbed){{return setTimeout(draw,30);}}'
            f'vegaEmbed("#{div}",spec,{opts}).catch(function(e){{var el=document.getElementById("{div}");'
            f'el.textContent="This chart could not be drawn: "+e;el.className+=" clv-chart-failed";}});}}draw();}})();</script>')
    if not _state["bundle_sent"]:
        _state["bundle_sent"] = True
        html = _bundle_script() + "\n" + html
    return {"text/html": html}


def enable() -> None:
    """Use the offline renderer and the project's theme for every chart in this kernel, starting a new
    page: its first chart carries the Vega bundle again (a kernel may run several notebooks in a row)."""
    _state["bundle_sent"] = False
    _state["count"] = 0
    if "clv" not in alt.renderers.names():
        alt.renderers.register("clv", render)
    _ = alt.renderers.enable("clv")
    if "clv" not in alt.theme.names():
        alt.theme.register("clv", enable=False)(theme)
    _ = alt.theme.enable("clv")


# ----------------------------------------------------------------------------------- chart builders
def _money(df: pd.DataFrame, col: str, fmt) -> tuple[pd.DataFrame, str, str]:
    div, unit, d3 = fmt.money_axis()
    df = df.copy()
    df[col + "_axis"] = df[col] / div
    df[col + "_label"] = df[col].map(fmt.money)
    return df, unit, d3


def _with_month_labels(df: pd.DataFrame, fmt) -> tuple[pd.DataFrame, list[str]]:
    """Add ``month_start`` and a localised ``month_label``; return the labels in time order."""
    d = df.copy()
    month = d["month"]
    d["month_start"] = month if pd.api.types.is_datetime64_any_dtype(month) else \
        pd.PeriodIndex(month, freq="M").to_timestamp()
    d["month_label"] = d["month_start"].map(fmt.month)
    return d, list(dict.fromkeys(d.sort_values("month_start")["month_label"]))


def month_bars(df: pd.DataFrame, value: str, *, fmt, title: str, y_title: str, color: str | None = None,
               color_title: str | None = None, money: bool = True, line: str | None = None,
               line_title: str | None = None) -> alt.Chart:
    """Bars per month (optionally stacked by ``color``), with an optional second series as a line.

    ``df`` has a ``month`` column (Period or Timestamp) and the value columns.
    """
    d, order = _with_month_labels(df, fmt)
    if money:
        d, unit, d3 = _money(d, value, fmt)
        y = alt.Y(f"{value}_axis:Q", title=f"{y_title} ({unit})", axis=alt.Axis(format=d3))
        tip_val = alt.Tooltip(f"{value}_label:N", title=y_title)
    else:
        y = alt.Y(f"{value}:Q", title=y_title, axis=alt.Axis(format=",.0f"))
        tip_val = alt.Tooltip(f"{value}:Q", title=y_title, format=",.0f")
    x = alt.X("month_label:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45))
    tips = [alt.Tooltip("month_label:N", title=fmt.month_word), tip_val]
    enc = {"x": x, "y": y, "tooltip": tips}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title, sort=list(dict.fromkeys(d[color])))
        enc["tooltip"] = [alt.Tooltip(f"{color}:N", title=color_title)] + tips
    chart = alt.Chart(d).mark_bar().encode(**enc)
    if line:
        if money:
            d, _, _ = _money(d, line, fmt)
            ly = alt.Y(f"{line}_axis:Q")
            lt = alt.Tooltip(f"{line}_label:N", title=line_title)
        else:
            ly, lt = alt.Y(f"{line}:Q"), alt.Tooltip(f"{line}:Q", title=line_title, format=",.0f")
        dl = d.drop_duplicates("month_label")
        ln = alt.Chart(dl).mark_line(color="#c44e52", point=True).encode(
            x=x, y=ly, tooltip=[alt.Tooltip("month_label:N", title=fmt.month_word), lt])
        chart = alt.layer(chart, ln)
    return chart.properties(title=title, width=WIDTH, height=HEIGHT)


def ranked_bars(df: pd.DataFrame, category: str, value: str, *, fmt, title: str, x_title: str,
                category_title: str = "", money: bool = True, color: str | None = None, color_title: str | None = None,
                extra_tooltips: list | None = None, keep_order: bool = False) -> alt.Chart:
    """Horizontal bars, largest first (teams, countries, currencies, reps), or in the frame's order."""
    d = df.copy()
    order = list((d if keep_order else d.sort_values(value, ascending=False))[category].astype(str))
    d[category] = d[category].astype(str)
    if money:
        d, unit, d3 = _money(d, value, fmt)
        x = alt.X(f"{value}_axis:Q", title=f"{x_title} ({unit})", axis=alt.Axis(format=d3))
        tip = alt.Tooltip(f"{value}_label:N", title=x_title)
    else:
        x = alt.X(f"{value}:Q", title=x_title)
        tip = alt.Tooltip(f"{value}:Q", title=x_title, format=",.0f")
    enc = {"y": alt.Y(f"{category}:N", sort=order, title=None), "x": x,
           "tooltip": [alt.Tooltip(f"{category}:N", title=category_title), tip] + (extra_tooltips or [])}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title)
    height = max(120, min(22 * len(d), 520))
    return alt.Chart(d).mark_bar().encode(**enc).properties(title=title, width=WIDTH - 120, height=height)


def month_lines(df: pd.DataFrame, value: str, series: str, *, fmt, title: str, y_title: str,
                series_title: str, money: bool = False, percent: bool = False) -> alt.Chart:
    """One line per ``series`` across months (e.g. active / new / lost customers)."""
    d, order = _with_month_labels(df, fmt)
    if money:
        d, unit, d3 = _money(d, value, fmt)
        y = alt.Y(f"{value}_axis:Q", title=f"{y_title} ({unit})", axis=alt.Axis(format=d3))
        tip = alt.Tooltip(f"{value}_label:N", title=y_title)
    elif percent:
        y = alt.Y(f"{value}:Q", title=y_title, axis=alt.Axis(format=".0%"))
        tip = alt.Tooltip(f"{value}:Q", title=y_title, format=".1%")
    else:
        y = alt.Y(f"{value}:Q", title=y_title, axis=alt.Axis(format=",.0f"))
        tip = alt.Tooltip(f"{value}:Q", title=y_title, format=",.0f")
    return alt.Chart(d).mark_line(point=True).encode(
        x=alt.X("month_label:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45)), y=y,
        color=alt.Color(f"{series}:N", title=series_title, sort=list(dict.fromkeys(d[series]))),
        tooltip=[alt.Tooltip(f"{series}:N", title=series_title), alt.Tooltip("month_label:N", title=fmt.month_word), tip],
    ).properties(title=title, width=WIDTH, height=HEIGHT)


def xy_lines(df: pd.DataFrame, x: str, y: str, series: str, *, title: str, x_title: str, y_title: str,
             series_title: str, x_format: str = ",.0f", y_format: str = ",.0f", dashed: str | None = None,
             rule_x: float | None = None) -> alt.Chart:
    """Lines over a numeric x (cumulative tracking, concentration curves); ``dashed`` names the
    series drawn dashed (e.g. the model's forecast); ``rule_x`` draws a vertical marker."""
    d = df.copy()
    order = list(dict.fromkeys(d[series]))
    legend = alt.Legend() if len(order) > 1 else None
    enc = dict(x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=x_format)),
               y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
               color=alt.Color(f"{series}:N", title=series_title, sort=order, legend=legend),
               tooltip=[alt.Tooltip(f"{series}:N", title=series_title),
                        alt.Tooltip(f"{x}:Q", title=x_title, format=x_format),
                        alt.Tooltip(f"{y}:Q", title=y_title, format=y_format)])
    if dashed is not None:
        enc["strokeDash"] = alt.condition(alt.datum[series] == dashed, alt.value([6, 4]), alt.value([1, 0]))
    chart = alt.Chart(d).mark_line().encode(**enc)
    if rule_x is not None:
        rule = alt.Chart(pd.DataFrame({"x": [rule_x]})).mark_rule(color="#8c8c8c", strokeDash=[2, 2]).encode(x="x:Q")
        chart = alt.layer(chart, rule)
    return chart.properties(title=title, width=WIDTH, height=HEIGHT)


def grouped_bars(df: pd.DataFrame, category: str, value: str, series: str, *, title: str, x_title: str,
                 y_title: str, series_title: str, y_format: str = ",.2f", category_order: list | None = None) -> alt.Chart:
    """Side-by-side bars per category (e.g. actual vs predicted per number of past purchases)."""
    order = category_order or list(dict.fromkeys(df[category].astype(str)))
    d = df.assign(**{category: df[category].astype(str)})
    return alt.Chart(d).mark_bar().encode(
        x=alt.X(f"{category}:N", sort=order, title=x_title, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset(f"{series}:N", sort=list(dict.fromkeys(d[series]))),
        y=alt.Y(f"{value}:Q", title=y_title, axis=alt.Axis(format=y_format)),
        color=alt.Color(f"{series}:N", title=series_title, sort=list(dict.fromkeys(d[series]))),
        tooltip=[alt.Tooltip(f"{category}:N", title=x_title), alt.Tooltip(f"{series}:N", title=series_title),
                 alt.Tooltip(f"{value}:Q", title=y_title, format=y_format)],
    ).properties(title=title, width=WIDTH, height=HEIGHT)


def interval_bars(df: pd.DataFrame, category: str, value: str, low: str, high: str, *, fmt, title: str,
                  x_title: str, category_title: str = "", range_title: str = "", color: str | None = None,
                  color_title: str | None = None
                  ) -> alt.Chart:
    """Horizontal bars with an interval whisker (a rep's book: CLV and its uncertainty)."""
    d = df.copy()
    d[category] = d[category].astype(str)
    order = list(d.sort_values(value, ascending=False)[category])
    div, unit, d3 = fmt.money_axis()
    for c in (value, low, high):
        d[c + "_axis"] = d[c] / div
    d["label"] = d[value].map(fmt.money)
    d["range"] = d[low].map(fmt.money) + " – " + d[high].map(fmt.money)
    base = alt.Chart(d).encode(y=alt.Y(f"{category}:N", sort=order, title=None))
    tips = [alt.Tooltip(f"{category}:N", title=category_title), alt.Tooltip("label:N", title=x_title),
            alt.Tooltip("range:N", title=range_title)]
    enc = {"x": alt.X(f"{value}_axis:Q", title=f"{x_title} ({unit})", axis=alt.Axis(format=d3)), "tooltip": tips}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title)
    bars = base.mark_bar(opacity=0.85).encode(**enc)
    whisk = base.mark_rule(color="#1d2733", strokeWidth=1.5).encode(x=f"{low}_axis:Q", x2=f"{high}_axis:Q")
    height = max(120, min(18 * len(d), 700))
    return alt.layer(bars, whisk).properties(title=title, width=WIDTH - 140, height=height)


def scatter(df: pd.DataFrame, x: str, y: str, *, fmt, title: str, x_title: str, y_title: str,
            color: str | None = None, color_title: str | None = None, tooltip: list | None = None,
            log: bool = False, diagonal: bool = False) -> alt.Chart:
    """Customers as points (≤ 5,000 rows); money on both axes; optional y = x diagonal."""
    d = df.copy()
    div, unit, d3 = fmt.money_axis()
    floor = 1.0 / div
    for c in (x, y):
        d[c + "_axis"] = (d[c] / div).clip(lower=floor) if log else d[c] / div
        d[c + "_label"] = d[c].map(fmt.money)
    scale = alt.Scale(type="log") if log else alt.Scale()
    enc = dict(x=alt.X(f"{x}_axis:Q", title=f"{x_title} ({unit})", scale=scale, axis=alt.Axis(format=d3)),
               y=alt.Y(f"{y}_axis:Q", title=f"{y_title} ({unit})", scale=scale, axis=alt.Axis(format=d3)),
               tooltip=(tooltip or []) + [alt.Tooltip(f"{x}_label:N", title=x_title),
                                          alt.Tooltip(f"{y}_label:N", title=y_title)])
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title)
    pts = alt.Chart(d).mark_circle(size=22, opacity=0.55).encode(**enc)
    if diagonal:
        lo = float(min(d[x + "_axis"].min(), d[y + "_axis"].min()))
        hi = float(max(d[x + "_axis"].max(), d[y + "_axis"].max()))
        line = alt.Chart(pd.DataFrame({"a": [lo, hi], "b": [lo, hi]})).mark_line(
            color="#8c8c8c", strokeDash=[4, 4]).encode(x="a:Q", y="b:Q")
        pts = alt.layer(pts, line)
    return pts.properties(title=title, width=WIDTH - 120, height=HEIGHT + 100)


def labelled_points(df: pd.DataFrame, x: str, y: str, label: str, *, fmt, title: str, x_title: str, y_title: str,
                    y_format: str = ".2f") -> alt.Chart:
    """A few named points (plans): money on x, a ratio on y, each point labelled."""
    d = df.copy()
    div, unit, d3 = fmt.money_axis()
    d[x + "_axis"] = d[x] / div
    d[x + "_label"] = d[x].map(fmt.money)
    base = alt.Chart(d).encode(
        x=alt.X(f"{x}_axis:Q", title=f"{x_title} ({unit})", axis=alt.Axis(format=d3), scale=alt.Scale(zero=False)),
        y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format), scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{x}_label:N", title=x_title),
                 alt.Tooltip(f"{y}:Q", title=y_title, format=y_format)])
    pts = base.mark_circle(size=110, color=PALETTE[0])
    text = base.mark_text(align="left", dx=8, dy=-6, fontSize=11).encode(text=f"{label}:N")
    return alt.layer(pts, text).properties(title=title, width=WIDTH - 60, height=HEIGHT + 40)


def diverging_bars(df: pd.DataFrame, category: str, value: str, *, fmt, title: str, x_title: str,
                   positive: str, negative: str) -> alt.Chart:
    """Horizontal bars around zero (gains and losses per person), largest gain first."""
    d = df.copy()
    d[category] = d[category].astype(str)
    order = list(d.sort_values(value, ascending=False)[category])
    div, unit, d3 = fmt.money_axis()
    d[value + "_axis"] = d[value] / div
    d[value + "_label"] = d[value].map(fmt.money)
    d["direction"] = np.where(d[value] >= 0, positive, negative)
    height = max(120, min(16 * len(d), 700))
    return alt.Chart(d).mark_bar().encode(
        y=alt.Y(f"{category}:N", sort=order, title=None),
        x=alt.X(f"{value}_axis:Q", title=f"{x_title} ({unit})", axis=alt.Axis(format=d3)),
        color=alt.Color("direction:N", title=None, sort=[positive, negative],
                        scale=alt.Scale(range=[PALETTE[2], PALETTE[3]])),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}_label:N", title=x_title)],
    ).properties(title=title, width=WIDTH - 140, height=height)


def effect_band(df: pd.DataFrame, x: str, y: str, low: str, high: str, *, title: str, x_title: str, y_title: str,
                y_format: str = ".3f", rule_x: float | None = None) -> alt.Chart:
    """Estimates with their intervals along x (an event study), a zero line and an optional marker."""
    base = alt.Chart(df).encode(x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format="d")))
    band = base.mark_area(opacity=0.2, color=PALETTE[0]).encode(y=alt.Y(f"{low}:Q", title=y_title,
                                                                         axis=alt.Axis(format=y_format)),
                                                                 y2=f"{high}:Q")
    line = base.mark_line(point=True, color=PALETTE[0]).encode(
        y=f"{y}:Q", tooltip=[alt.Tooltip(f"{x}:Q", title=x_title), alt.Tooltip(f"{y}:Q", title=y_title, format=y_format),
                             alt.Tooltip(f"{low}:Q", format=y_format), alt.Tooltip(f"{high}:Q", format=y_format)])
    zero = alt.Chart(pd.DataFrame({"z": [0.0]})).mark_rule(color="#8c8c8c").encode(y="z:Q")
    layers = [band, line, zero]
    if rule_x is not None:
        layers.append(alt.Chart(pd.DataFrame({"x": [rule_x]})).mark_rule(color="#c44e52", strokeDash=[4, 3])
                      .encode(x="x:Q"))
    return alt.layer(*layers).properties(title=title, width=WIDTH, height=HEIGHT)
