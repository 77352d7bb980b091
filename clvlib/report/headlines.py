"""The article's headline figures as report cards: old-customer churn and retention, the A tier's
share of profit, margin and average customer lifespan, each with its change on the previous month and
on a year ago (``clvlib.kpis.front_page``). Used by the scorecards section and the front page."""
from __future__ import annotations

from clvlib.kpis import front_page

MEASURES = ("churn_rate", "retention_rate", "a_share_of_profit", "margin_pct", "lifespan_months")


def headline_cards(kpis, t, fmt, top_tier: str) -> list[tuple[str, str, str]]:
    """``[(label, value, change note)]`` for the period's month of the KPI stage."""
    front = front_page(kpis.table, kpis.months[-1]).set_index("measure")
    cards = []
    for m in MEASURES:
        r = front.loc[m]
        if m == "lifespan_months":
            value = t("scorecards.months_value", n=fmt.num(r["value"], 1))
            c1, c12 = fmt.num(r["change_1m"], 1, signed=True), fmt.num(r["change_12m"], 1, signed=True)
        else:
            value, c1, c12 = fmt.pct(r["value"], 1), fmt.pts(r["change_1m"]), fmt.pts(r["change_12m"])
        cards.append((t(f"scorecards.front.{m}", a=top_tier), value,
                      t("scorecards.card_value_change", change_1m=c1, change_12m=c12)))
    return cards
