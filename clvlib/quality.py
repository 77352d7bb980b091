"""Data quality: the row accounting of a run and the reasons rows were set aside."""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def counts_frame(counts: dict) -> pd.DataFrame:
    """One row per table: files, rows read / accepted / quarantined (read = accepted + quarantined)."""
    rows = []
    for table, c in counts.items():
        rows.append({"table": table, "files": ", ".join(Path(f["file"]).name for f in c.get("files", [])) or "–",
                     "rows_read": c["rows_read"], "rows_accepted": c["rows_accepted"],
                     "rows_quarantined": c["rows_quarantined"],
                     "quarantined_pct": c["rows_quarantined"] / c["rows_read"] if c["rows_read"] else 0.0,
                     "provided": c.get("provided", True)})
    return pd.DataFrame(rows)


def top_reasons(quarantine: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Quarantined rows grouped by table and rule, most frequent first, with one example each."""
    if quarantine.empty:
        return pd.DataFrame(columns=["table", "rule", "rows", "example"])
    g = (quarantine.groupby(["table", "rule"], sort=False)
         .agg(rows=("reason", "size"), example=("reason", "first"))
         .reset_index().sort_values(["rows", "table"], ascending=[False, True]))
    return g.head(n).reset_index(drop=True)


def document_status(orders: pd.DataFrame) -> pd.DataFrame:
    """Accepted order documents by status and type: what counts (booked) and what is excluded."""
    g = orders.groupby(["status", "doc_type"]).agg(documents=("order_id", "size"),
                                                   amount_rc=("amount_rc", "sum")).reset_index()
    return g.sort_values(["status", "doc_type"]).reset_index(drop=True)


def totals(counts: dict) -> dict:
    read = sum(c["rows_read"] for c in counts.values())
    acc = sum(c["rows_accepted"] for c in counts.values())
    qua = sum(c["rows_quarantined"] for c in counts.values())
    return {"rows_read": read, "rows_accepted": acc, "rows_quarantined": qua,
            "tables": sum(1 for c in counts.values() if c.get("provided", True))}
