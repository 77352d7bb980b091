"""Commission on revenue or gross margin: crediting, dating, rate tables, accelerators and holdbacks.

**Base** (rate-independent, built once): every booked document credited to a rep (``credit`` shares),
dated by when it counts (``earned_on: collection`` — an invoice in the month of its ``paid_date``, an
unpaid one never; ``booking`` — its ``order_date``; a credit note always in the month of its own
``order_date``, negative), in the window, for reps of the paid roles, nothing dated after a rep's
leave date (``after_leave: nothing``). With a rate table the rep's monthly base is cut into bands:

* ``marginal`` — documents are taken in (date, order id) order and each is split across the bands
  its part of the running monthly total crosses: a line per (document, band) piece whose ``basis`` is
  the piece of the rep's credited amount (share already applied, so ``share`` is 1);
* ``whole`` — the band reached by the rep's month total gives its rate to every document of the
  month (``basis`` the document's figure, ``share`` the rep's credit share).

**Pricing**: ``amount = basis x rate x rate_factor x weight x share``, rounded once per line
(:mod:`clvlib.plans.rounding`). Lines: ``commission.flat`` / ``commission.marginal`` /
``commission.whole``, source ``order`` and the document id.

**Accelerators** (an adjustment line per rep-month, ``commission.accelerator``): attainment = the
month's collected (or booked) revenue credited to the rep / the rep's quota; the step reached gives a
multiplier; the line is ``(multiplier - 1) x`` the month's commission of this component (``basis``),
when that commission is positive. **Holdback** (``commission.holdback``, negative): ``share x`` the
month's commission of this component after its accelerator and cap/floor, when positive; released
(``commission.release``) ``months`` later, unless the rep has left by then (``after_leave: nothing``)
or the release month is past the window (then it is still held when the window ends).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import DataError
from clvlib.plans.components._common import (STEPS, Context, Lines, base_template, cents, grid_lines, grid_sum,
                                              money)
from clvlib.plans.inputs import add_months

COMPONENT = "commission"


def base(comp, entry: int, ctx: Context) -> dict:
    """The rate-independent lines of a commission component (see the module docstring)."""
    value = "amount_rc" if comp.base == "revenue" else "gross_margin_rc"
    docs = ctx.dated_orders(comp.earned_on, value, comp)
    if comp.table is None:
        pieces, rule = _flat(docs), "commission.flat"
    elif comp.table.tiering == "marginal":
        pieces, rule = _marginal(docs, comp.table.bands), "commission.marginal"
    else:
        pieces, rule = _whole(docs, comp.table.bands), "commission.whole"
    lines = base_template(ctx, pieces, rule=rule, source_type="order", source_id=pieces["order_id"],
                          step=STEPS["base"], entry=entry, component=COMPONENT, tie=(pieces["band"],),
                          basis=pieces["basis"], share=pieces["share"], detail=pieces["detail"],
                          customer_id=pieces["customer_id"])
    return {"lines": lines, "band": pieces["band"].to_numpy(dtype=int),
            "attainment": _attainment(comp, ctx) if comp.accelerators else None}


def _flat(docs: pd.DataFrame) -> pd.DataFrame:
    return docs.assign(band=0, detail="")


def _whole(docs: pd.DataFrame, bands) -> pd.DataFrame:
    aboves = np.array([b.above for b in bands])
    credited = docs["basis"] * docs["share"]
    total = credited.groupby([docs["rep_id"], docs["month"]]).transform("sum").to_numpy()
    band = np.clip(np.searchsorted(aboves, np.round(total, 6), side="right") - 1, 0, None)
    detail = [f"band {k + 1} (above {money(aboves[k])}): the month's total {money(t)}" for k, t in zip(band, total)]
    return docs.assign(band=band, detail=detail)


def _marginal(docs: pd.DataFrame, bands) -> pd.DataFrame:
    aboves = np.array([b.above for b in bands], dtype=float)
    credited = (docs["basis"] * docs["share"]).to_numpy()
    after = pd.Series(credited).groupby([docs["rep_id"].to_numpy(), docs["month"].to_numpy()]).cumsum().to_numpy()
    before = after - credited
    parts = []
    for k in range(len(aboves)):
        lo = -np.inf if k == 0 else aboves[k]
        hi = aboves[k + 1] if k + 1 < len(aboves) else np.inf
        piece = np.round(np.clip(after, lo, hi) - np.clip(before, lo, hi), 6)
        keep = piece != 0
        part = docs[keep].assign(basis=piece[keep], share=1.0, band=k)
        part["detail"] = [f"band {k + 1} (above {money(aboves[k])}): part of the rep's credited "
                          f"{money(c)} (running month total {money(b)} to {money(a)})"
                          for c, b, a in zip(credited[keep], before[keep], after[keep])]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else docs.assign(band=0, detail="")
    return out.sort_values(["rep_id", "date", "order_id", "band"], kind="stable").reset_index(drop=True)


def _attainment(comp, ctx: Context) -> pd.DataFrame:
    """Per rep-month: ``attainment`` (revenue credited / quota) and the step's ``multiplier``."""
    acc = comp.accelerators
    docs = ctx.dated_orders("collection" if acc.measure == "collected" else "booking", "amount_rc", comp)
    revenue = (docs["basis"] * docs["share"]).groupby([docs["rep_id"], docs["month"]]).sum().rename("revenue")
    q = ctx.inputs.quotas
    if q is None:
        raise DataError("commission accelerators need the quota table (PayInputs.quotas)")
    q = q.assign(month=q["month"].astype(str)).drop_duplicates(["rep_id", "month"]).set_index(["rep_id", "month"])
    out = revenue.to_frame().join(q["quota"], how="left").reset_index()
    if out["quota"].isna().any() or (out["quota"] <= 0).any():
        bad = out[out["quota"].isna() | (out["quota"] <= 0)].iloc[0]
        raise DataError(f"quotas: no positive quota for {bad['rep_id']} in {bad['month']} (run check_plan first)")
    out["attainment"] = out["revenue"] / out["quota"]
    steps = np.array([s.attainment for s in acc.steps])
    mult = np.array([s.multiplier for s in acc.steps])
    k = np.clip(np.searchsorted(steps, np.round(out["attainment"].to_numpy(), 9), side="right") - 1, 0, None)
    out["multiplier"] = mult[k]
    out["detail"] = [f"attainment {a:.1%} of quota {money(qt)} ({acc.measure}): x{m:g}"
                     for a, qt, m in zip(out["attainment"], out["quota"], out["multiplier"])]
    return out


def price(comp, entry: int, base_: dict, ctx: Context, factor: float, weight: float) -> Lines:
    """Priced lines of the component (documents, then accelerators)."""
    t = base_["lines"]
    rates = np.array([comp.rate]) if comp.table is None else np.array([b.rate for b in comp.table.bands])
    rate = rates[base_["band"]] * factor
    out = t.replace(rate=rate, weight=weight, amount_cents=cents(t["basis"], rate, weight, t["share"]))
    if base_["attainment"] is None:
        return out
    return Lines.concat([out, _accelerator_lines(entry, base_["attainment"], out, ctx)])


def _accelerator_lines(entry: int, att: pd.DataFrame, priced: Lines, ctx: Context) -> Lines:
    month_total = grid_sum(ctx, priced)
    mult = np.ones(month_total.shape)
    detail = np.full(month_total.shape, "", dtype=object)
    r, c = ctx.positions(att["rep_id"], att["month"])
    mult[r, c] = att["multiplier"].to_numpy()
    detail[r, c] = att["detail"].to_numpy()
    apply = (month_total > 0) & (mult != 1)
    amount = np.zeros(month_total.shape, dtype=np.int64)
    amount[apply] = cents(month_total[apply] / 100, mult[apply] - 1)
    return grid_lines(ctx, amount, "commission.accelerator", component=COMPONENT, basis=month_total / 100,
                      rate=mult - 1, detail=detail, step=STEPS["adjustment"], entry=entry)


def holdback_lines(comp, entry: int, entry_lines: Lines, ctx: Context) -> Lines:
    """Held (negative) and released (positive) lines of a component with a holdback."""
    hb = comp.holdback
    total = grid_sum(ctx, entry_lines)
    held = np.zeros(total.shape, dtype=np.int64)
    pos = total > 0
    held[pos] = cents(total[pos] / 100, hb.share)
    release_month = np.array([add_months(m, hb.months) for m in ctx.months], dtype=object)
    released_in = np.array([f"released in {m}" for m in release_month], dtype=object)
    hold = grid_lines(ctx, -held, "commission.holdback", component=COMPONENT, basis=total / 100,
                      rate=-hb.share, detail=np.broadcast_to(released_in, total.shape), step=STEPS["holdback"],
                      entry=entry)
    release = np.zeros(total.shape, dtype=np.int64)
    k = hb.months
    if k < len(ctx.months):
        release[:, k:] = held[:, :-k]
    paid = ctx.fraction > 0
    if ctx.plan.eligibility.after_leave == "pay":
        paid = np.ones_like(paid)
    release = np.where(paid, release, 0)
    origin = np.full(total.shape, "", dtype=object)
    if k < len(ctx.months):
        origin[:, k:] = np.array(ctx.months[:-k], dtype=object)[None, :]
    held_in = np.array([f"held in {add_months(m, -k)}" for m in ctx.months], dtype=object)
    rel = grid_lines(ctx, release, "commission.release", component=COMPONENT, basis=release / 100, rate=1.0,
                     source_id=origin, detail=np.broadcast_to(held_in, total.shape), step=STEPS["release"],
                     entry=entry)
    return Lines.concat([hold, rel])
