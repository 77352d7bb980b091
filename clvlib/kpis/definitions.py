"""Every KPI's definition in plain English (the lead translates them for the report), and which ones
need the purchase model (``MODEL_KPIS``: for a small firm whose data are too thin for the models).

"The last 12 months" are the 12 calendar months ending at the month end; "the book" is the customers a
rep owns at the month end (shares applied); a service or supply-chain colleague's book is their team's.
"""
from __future__ import annotations

import pandas as pd

DEFINITIONS: dict[str, str] = {
    # commission era
    "revenue_12m": "Revenue of the last 12 months (invoices minus credit notes), credited to the reps who "
                   "made each sale by their share of the credit.",
    "gross_margin_12m": "Gross margin of the last 12 months (revenue minus cost of goods, freight and other "
                        "costs; returns deducted), credited by share.",
    "invoices_12m": "Invoices of the last 12 months, each counted by the rep's share of its credit.",
    "avg_order_margin_12m": "Average gross margin per invoice over the last 12 months: gross margin divided by "
                            "the number of invoices.",
    "margin_pct": "Profit margin: gross margin divided by revenue over the last 12 months.",
    "new_customers_12m": "Customers won in the last 12 months (first invoice in them), credited to the reps of "
                         "that first invoice.",
    "commission_rank": "Rank by revenue of the last 12 months among the sales reps employed at the month end "
                       "(1 = most revenue) — how a commission plan sees them.",
    # loyalty
    "repurchase_rate": "Of the book's customers who bought in the last 12 months, the share who bought on two "
                       "or more different days in them.",
    "buyers_12m": "Customers of the book with an invoice in the last 12 months.",
    "repeat_buyers_12m": "Customers of the book with invoices on two or more days in the last 12 months.",
    "old_customers": "Old customers: customers with an invoice in the 12 months before the last 12 (for a rep, "
                     "those in the rep's book a year ago).",
    "retained_customers": "Old customers who bought again in the last 12 months.",
    "churned_customers": "Old customers with no invoice in the last 12 months (churned).",
    "retention_rate": "Old-customer retention: the share of old customers (an invoice in months 13-24 before "
                      "the month end) who bought again in the last 12 months.",
    "churn_rate": "Old-customer churn: the share of old customers who did not buy in the last 12 months "
                  "(1 minus the retention rate).",
    "lifespan_months": "Average customer lifespan in months: for customers lost in the last 12 months, first to "
                       "last invoice; for active customers, their age plus the purchase model's expected "
                       "remaining lifetime (counted up to the cap).",
    "lifespan_observed_months": "Average lifespan, first to last invoice, of the customers lost in the last 12 "
                                "months (needs no model).",
    "active_customers": "Customers of the book with an invoice within the 'lost after' period before the month "
                        "end.",
    "lost_customers_12m": "Customers of the book lost in the last 12 months (no invoice for the 'lost after' "
                          "period) and not back.",
    # satisfaction
    "nps": "Net Promoter Score (-100 to 100): percentage of promoters (9-10) minus percentage of detractors "
           "(0-6) among the NPS responses of the last 12 months from the book's customers.",
    "nps_responses": "Number of NPS responses behind the score (a co-owned account's response counts half for "
                     "each owner).",
    "nps_low": "Lower end of the NPS interval (adjusted Wald, Rocks 2016).",
    "nps_high": "Upper end of the NPS interval (adjusted Wald, Rocks 2016).",
    "nps_few_responses": "1 when the NPS rests on fewer responses than the minimum set: read it as unreliable.",
    # profit
    "a_share_of_profit": "Share of the last 12 months' gross margin that came from the customers in tier A at "
                         "the month end.",
    "a_gross_margin_12m": "Gross margin of the last 12 months from the tier-A customers of the book.",
    # health
    "health_score": "Customer health, 0-100, from order regularity, complaints, overdue receivables and NPS "
                    "(weighted; a missing part's weight is spread over the others); for a book, the average "
                    "over its active customers.",
    "health_regularity": "Regularity part of the health score: 1 for orders at steady intervals, 0.5 for "
                         "random timing, 0 for very irregular ordering or a long unusual silence.",
    "health_complaints": "Complaints part of the health score: 1 with no complaints, lower with more and more "
                         "severe complaints per invoice in the last 12 months.",
    "health_receivables": "Receivables part of the health score: 1 minus the share of the last 12 months' "
                          "invoicing that is past due and unpaid at the month end.",
    "health_nps": "NPS part of the health score: the customer's latest score in the last 12 months, out of 10.",
    "overdue_receivables": "Invoices past their due date and unpaid at the month end.",
    # collaboration
    "shared_accounts_12m": "Customers with an order in the last 12 months whose credit the rep split with a "
                           "colleague.",
    "shared_margin_12m": "The rep's share of the gross margin on orders whose credit was split with a "
                         "colleague, last 12 months.",
    "handovers_given_12m": "Accounts the rep handed over to a colleague in the last 12 months.",
    "handovers_received_12m": "Accounts the rep took over from a colleague in the last 12 months.",
    "handover_value_kept": "Value kept after a handover: CLV of the accounts taken over, six months after the "
                           "handover, against their CLV at the handover (1 = as valuable as before).",
    "collaboration_score": "Collaboration, 0-100: the rep's average standing among the sales reps in shared "
                           "accounts, shared margin and value kept after handovers (50 = middle of the field).",
    # CLV era
    "book_clv": "CLV of the book at the month end: the expected, discounted gross margin of the next 12 months "
                "of the customers the rep owns, shares applied.",
    "book_customers": "Customers in the book at the month end (co-owned accounts count by share).",
    "clv_change_existing": "Change in the book's CLV over the last 12 months from customers the rep already had.",
    "clv_change_new": "CLV added over the last 12 months by customers won in them.",
    "clv_change_lost": "CLV change over the last 12 months of customers in the month they were lost.",
    "clv_change_transferred": "CLV of accounts handed to or taken from colleagues over the last 12 months, at "
                              "their value before the move.",
    "clv_change_existing_1m": "This month's CLV change from customers the rep already had.",
    "clv_change_new_1m": "CLV of the customers won this month.",
    "clv_change_lost_1m": "CLV change of the customers lost this month.",
    "clv_change_transferred_1m": "CLV of accounts moved to or from the rep this month.",
    "clv_built_12m": "CLV built in the last 12 months: existing + new + lost (handovers excluded).",
    "clv_rank": "Rank by CLV built in the last 12 months among the sales reps employed at the month end "
                "(1 = most built) — how a CLV plan sees them.",
}

#: KPIs that need the purchase model (BG/NBD or Pareto/NBD) fitted at each month end. Without it the
#: CLV-based ones are simple indicators (CLV from the simple formula) and ``lifespan_months`` is missing.
MODEL_KPIS: frozenset[str] = frozenset({
    "lifespan_months", "book_clv", "clv_change_existing", "clv_change_new", "clv_change_lost",
    "clv_change_transferred", "clv_change_existing_1m", "clv_change_new_1m", "clv_change_lost_1m",
    "clv_change_transferred_1m", "clv_built_12m", "clv_rank", "handover_value_kept", "a_share_of_profit",
    "a_gross_margin_12m",
})
NEEDS_EXPECTATION = frozenset({"lifespan_months"})     # missing (not simplified) without the model


def kpi_catalogue(fallback: str | None = None) -> pd.DataFrame:
    """measure, definition, needs_model, kind for every KPI. ``kind`` is ``model`` (from the fitted
    models), ``simple`` (needs no model), or, when ``fallback`` says why the models could not be
    fitted, ``simple indicator`` (computed from the simple CLV formula) or ``missing``."""
    rows = []
    for measure, text in DEFINITIONS.items():
        needs = measure in MODEL_KPIS
        if not needs:
            kind = "simple"
        elif fallback is None:
            kind = "model"
        else:
            kind = "missing" if measure in NEEDS_EXPECTATION else "simple indicator"
        rows.append({"measure": measure, "definition": text, "needs_model": needs, "kind": kind})
    return pd.DataFrame(rows)
