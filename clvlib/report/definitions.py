"""The definitions each report section prints, in the report's language, filled from the settings.

The sentences live in the catalogues (``i18n/<lang>/*.yaml``, ``<section>.def.<name>``); the English
ones are the modules' own ``DEFINITIONS`` (``clvlib.tiers``, ``clvlib.kpis``, ...), checked equal by a test.
"""
from __future__ import annotations


def tier_definitions(t, tiers_params, silhouette_sample: int = 2000) -> list[str]:
    """How the tiers are made, for the settings in force (method, refit policy, hysteresis)."""
    p = tiers_params
    labels = list(p["labels"])
    shares = [round(100 * s) for s in p["value_shares"]]
    method = p["method"]
    refit = t(f"tiers.refit.{p['refit']}", month=t(f"tiers.month.{p['refit_month']}")) \
        if p["refit"] == "yearly" else t(f"tiers.refit.{p['refit']}")
    h = p["hysteresis"]
    out = [t("tiers.def.features")]
    if method == "value_share":
        out += [t("tiers.def.value_share", first=labels[0], first_share=shares[0],
                  second_share=shares[0] + shares[1]), t("tiers.def.value_share_defaults")]
    else:
        out.append(t(f"tiers.def.{method}", labels=" / ".join(labels)))
    out += [t("tiers.def.stable_model", refit=refit),
            t(f"tiers.def.hysteresis_{method}", hysteresis=f"{h:g}", percent=f"{100 * h:g}"),
            t("tiers.def.new_customers"), t("tiers.def.fallback"), t("tiers.def.migration"),
            t("tiers.def.share_changed"), t("tiers.def.psi"), t("tiers.def.silhouette", sample=silhouette_sample),
            t("tiers.def.profile"), t("tiers.def.rfm")]
    return out


def kpi_definitions(t, measures) -> list[str]:
    """``Name: definition`` of each KPI in ``measures`` (order kept), in the report's language."""
    out = []
    for m in measures:
        name = t(f"col.{m}") if t.has(f"col.{m}") else m
        out.append(f"{name}: {t(f'kpis.def.{m}')}")
    return out


def health_formula(t, weights: dict) -> str:
    """The health score's formula with the weights in force."""
    w = {f"w_{k}": f"{weights.get(k, 0):g}" for k in ("regularity", "complaints", "receivables", "nps")}
    return t("scorecards.health_formula", **w)


def kpi_notes(t, kpis, month: str, minimum: int, reps) -> list[str]:
    """What a reader must know about this month's KPIs: reps and teams whose NPS rests on too few
    responses, and (small firms) which figures are simple indicators."""
    tab = kpis.table
    few = tab[(tab["month"] == month) & (tab["measure"] == "nps_few_responses") & (tab["value"] == 1)
              & tab["level"].isin(["rep", "team"])]
    names = reps.set_index("rep_id")["name"]
    notes = []
    if len(few):
        who = [names.get(i, i) if lv == "rep" else i for lv, i in zip(few["level"], few["id"])]
        notes.append(t("scorecards.few_responses", names=", ".join(who), minimum=minimum))
    if kpis.fallback:
        simple = kpis.catalogue[kpis.catalogue["kind"] == "simple indicator"]["measure"] \
            if "kind" in kpis.catalogue else []
        shown = ", ".join(t(f"col.{m}") if t.has(f"col.{m}") else m for m in simple)
        notes.append(t("scorecards.simple_indicators", reason=kpis.fallback, measures=shown))
    return notes
