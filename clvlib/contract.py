"""The data contract: the canonical tables every source is mapped into, and their columns.

Each input — a CRM export, an ERP invoice list, the demo company — is read, its columns mapped to the
names below, and each row checked against these declarations. A row that breaks one is quarantined
with the reason; it is never silently dropped. A value that is filled in or corrected on load (an
empty optional cell given its default, a missing rep credited to the account's owner) is listed in the
repairs (``repairs.csv``) with the rule, the value before and after: it is never silently repaired.
The links between tables are declared here too (``ForeignKey``), and the order they are checked in
follows from them (``load_order``). ``docs/data-contract.md`` is generated from this module
(``clvlib contract --markdown``), so the two cannot drift apart.

Column kinds
------------
``id``     text identifier, stripped of surrounding spaces, never empty when required
``text``   free text (names, industries); kept as data, never markup
``date``   calendar date (ISO, Excel serial, or the day-first/month-first form the source declares)
``money``  amount in the row's own currency; thousands separators, currency symbols and parentheses
           for negatives are understood
``number`` a plain real number (shares, FX rates)
``int``    a whole number (NPS scores)
``code``   one of a fixed set of values (``allowed``)
``month``  a calendar month, kept as ``YYYY-MM`` text (``2026-01``, ``2026/1``, ``2026年1月`` or a date in it)
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = True
    description: str = ""
    default: object = None
    allowed: tuple = ()
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class ForeignKey:
    """``column`` names a row of ``table`` (by that table's key): a row whose value is not there is
    quarantined ("unknown customer"). ``what`` is the word the reasons use (customer, rep, order)."""
    column: str
    table: str
    what: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True
    derived: tuple[Column, ...] = field(default_factory=tuple)
    refs: tuple[ForeignKey, ...] = ()
    uses: tuple[str, ...] = ()       # other tables its checks read (orders are converted with fx_rates)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


DOC_TYPES = ("invoice", "credit_note")
ORDER_STATUSES = ("booked", "cancelled", "open", "lost")
SEVERITIES = ("low", "medium", "high")
REP_ROLES = ("sales", "service", "supply_chain")

ORDERS = Table(
    "orders",
    "One row per sales document (invoice or credit note). Amounts are net of tax, in the document's "
    "currency. A return or credit note is a negative line that names the original order.",
    (
        Column("order_id", "id", description="Document number; unique per document"),
        Column("order_date", "date", description="Invoice / order date; the date used for FX and periods"),
        Column("customer_id", "id", description="Buying customer (customers.customer_id)"),
        Column("rep_id", "id", required=False,
               description="Rep who booked it; empty = the customer's owner on the order date (filled in on "
                           "load for booked documents without split credit, and listed in repairs.csv; a "
                           "shared account's owners get split credit by their shares)"),
        Column("currency", "code", description="ISO 4217 code of amount and costs"),
        Column("amount", "money", description="Net revenue; negative for credit notes"),
        Column("cost_of_goods", "money", required=False, default=0.0,
               description="Cost of the goods sold (negative on a return)"),
        Column("freight_cost", "money", required=False, default=0.0,
               description="Freight paid by the seller (CIF/DDP shipments)"),
        Column("other_cost", "money", required=False, default=0.0,
               description="Insurance, bank and L/C fees, agent commissions"),
        Column("doc_type", "code", required=False, default="invoice", allowed=DOC_TYPES,
               description="invoice | credit_note"),
        Column("original_order_id", "id", required=False,
               description="For a credit note: the invoice it corrects"),
        Column("status", "code", required=False, default="booked", allowed=ORDER_STATUSES,
               description="booked | cancelled | open | lost (only booked documents count in the figures)"),
        Column("payment_terms", "text", required=False, description="e.g. 'T/T 30', 'L/C at sight'"),
        Column("incoterm", "text", required=False, description="e.g. FOB, CIF, DDP"),
        Column("due_date", "date", required=False, description="Payment due date"),
        Column("paid_date", "date", required=False, description="Date paid in full; empty = unpaid"),
    ),
    key=("order_id",),
    derived=(
        Column("fx_rate", "number", description="Reporting-currency units per unit of currency, "
                                                "on the order date"),
        Column("amount_rc", "money", description="amount in the reporting currency"),
        Column("cost_rc", "money", description="cost of goods + freight + other costs, reporting currency"),
        Column("gross_margin_rc", "money", description="amount_rc - cost_rc"),
        Column("source_file", "text", description="File the row came from"),
        Column("source_row", "int", description="Line of that file (header = line 1)"),
    ),
    refs=(ForeignKey("customer_id", "customers", "customer"), ForeignKey("rep_id", "reps", "rep")),
    uses=("fx_rates",),
)

ORDER_SPLITS = Table(
    "order_splits",
    "Split credit: an order's credit shared between reps. Shares of one order must sum to 1. Orders "
    "without splits credit their rep_id in full (an empty rep_id is the account's owner's, filled in on load).",
    (
        Column("order_id", "id"),
        Column("rep_id", "id"),
        Column("share", "number", min=0.0, max=1.0, description="Fraction of the order's credit, 0-1"),
    ),
    key=("order_id", "rep_id"),
    required=False,
    derived=(
        Column("origin", "code", description="'file' for a line read from the split file; 'owners' for a line "
                                             "added on load for a booked order without a rep on a shared "
                                             "account (its owners' shares; listed in repairs.csv)"),
    ),
    refs=(ForeignKey("order_id", "orders", "order"), ForeignKey("rep_id", "reps", "rep")),
)

CUSTOMERS = Table(
    "customers",
    "One row per customer account.",
    (
        Column("customer_id", "id"),
        Column("name", "text"),
        Column("country", "code", description="ISO 3166 alpha-2"),
        Column("industry", "text", required=False),
        Column("first_seen", "date", required=False,
               description="Date the account was opened; empty = its first order"),
    ),
    key=("customer_id",),
)

REPS = Table(
    "reps",
    "One row per person who can hold accounts or share in a team bonus.",
    (
        Column("rep_id", "id"),
        Column("name", "text"),
        Column("team", "text"),
        Column("hire_date", "date"),
        Column("leave_date", "date", required=False, description="Empty = still employed"),
        Column("role", "code", required=False, default="sales", allowed=REP_ROLES,
               description="sales | service | supply_chain"),
    ),
    key=("rep_id",),
)

OWNERSHIP = Table(
    "ownership",
    "Who owns each customer account over time: handovers close one row and open the next; split "
    "ownership gives two rows with shares summing to 1. The shares of a customer's owners on any one day "
    "must not sum to more than 1 (such rows are quarantined).",
    (
        Column("customer_id", "id"),
        Column("rep_id", "id"),
        Column("share", "number", required=False, default=1.0, min=0.0, max=1.0),
        Column("valid_from", "date"),
        Column("valid_to", "date", required=False, description="Last day (inclusive); empty = open"),
    ),
    key=("customer_id", "rep_id", "valid_from"),
    refs=(ForeignKey("customer_id", "customers", "customer"), ForeignKey("rep_id", "reps", "rep")),
)

NPS = Table(
    "nps",
    "Net Promoter Score survey responses.",
    (
        Column("customer_id", "id"),
        Column("date", "date"),
        Column("score", "int", min=0, max=10, description="0-10: 9-10 promoter, 0-6 detractor"),
    ),
    required=False,
    refs=(ForeignKey("customer_id", "customers", "customer"),),
)

COMPLAINTS = Table(
    "complaints",
    "Customer complaints (quality, delivery, documents).",
    (
        Column("customer_id", "id"),
        Column("date", "date"),
        Column("severity", "code", allowed=SEVERITIES),
        Column("order_id", "id", required=False),
    ),
    required=False,
    refs=(ForeignKey("customer_id", "customers", "customer"),),
)

FX_RATES = Table(
    "fx_rates",
    "Exchange rates: reporting-currency units per one unit of `currency`. The rate used for an order "
    "is the latest one on or before its date (within params `fx.max_age_days`).",
    (
        Column("date", "date"),
        Column("currency", "code"),
        Column("rate", "number", min=0.0),
    ),
    key=("date", "currency"),
)

QUOTAS = Table(
    "quotas",
    "Sales quotas: each rep's revenue target for a calendar month, in the reporting currency. Needed only "
    "by pay plans whose commission has accelerators on attainment of quota.",
    (
        Column("rep_id", "id"),
        Column("month", "month", description="The calendar month (YYYY-MM; a date in the month is read as its month)"),
        Column("quota", "money", min=0.0, description="Revenue target for the month, reporting currency"),
    ),
    key=("rep_id", "month"),
    required=False,
    refs=(ForeignKey("rep_id", "reps", "rep"),),
)

TABLES: dict[str, Table] = {t.name: t for t in
                            (ORDERS, ORDER_SPLITS, CUSTOMERS, REPS, OWNERSHIP, NPS, COMPLAINTS, FX_RATES, QUOTAS)}


def load_order() -> list[str]:
    """The tables in the order their links can be checked: every table after the tables it refers to
    or uses (declaration order otherwise)."""
    done: list[str] = []
    todo = list(TABLES)
    while todo:
        ready = next(n for n in todo if all(p in done or p == n for p in [r.table for r in TABLES[n].refs]
                                            + list(TABLES[n].uses)))
        done.append(ready)
        todo.remove(ready)
    return done


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table '{name}'; the contract has: {', '.join(TABLES)}") from None


def markdown() -> str:
    """The contract as Markdown (docs/data-contract.md is this text)."""
    out = ["# Data contract", "",
           "Generated from `clvlib/contract.py` by `clvlib contract --markdown`; do not edit by hand.", "",
           "Every source is mapped into these tables (see `params/sources/`). Required columns must be "
           "present in the mapped file or the run stops with one line naming the file and column; rows "
           "that break a rule are quarantined with a reason (`reports/<period>/data/quarantine.csv`). A "
           "value that is not taken as given — an empty optional cell given its default, an order without a "
           "rep credited to the account's owner on the order date, a credit note given its invoice's "
           "customer and rep — is listed with its rule and the value before and after "
           "(`reports/<period>/data/repairs.csv`).", ""]
    for t in TABLES.values():
        out += [f"## {t.name}" + ("" if t.required else " (optional)"), "", t.description, ""]
        if t.key:
            out += [f"Key: {', '.join(t.key)}", ""]
        if t.refs:
            out += ["References: " + ", ".join(f"{r.column} → {r.table}.{TABLES[r.table].key[0]}" for r in t.refs),
                    ""]
        out += ["| column | kind | required | rule | meaning |", "|---|---|---|---|---|"]
        for c in t.columns:
            rule = []
            if c.allowed:
                rule.append(" / ".join(c.allowed))
            if c.min is not None:
                rule.append(f">= {c.min:g}")
            if c.max is not None:
                rule.append(f"<= {c.max:g}")
            if c.default is not None:
                rule.append(f"default {c.default}")
            desc = c.description.replace("|", "\\|")
            out.append(f"| {c.name} | {c.kind} | {'yes' if c.required else 'no'} | {'; '.join(rule)} | {desc} |")
        if t.derived:
            out += ["", "Added on load:", ""]
            out += [f"- `{c.name}` — {c.description}" for c in t.derived]
        out.append("")
    return "\n".join(out)
