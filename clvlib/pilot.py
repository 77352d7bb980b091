"""Pilot evaluation: did the new pay plan change the pilot team's results, beyond what the others did?

A pilot team switches to the new plan in one month; every other team stays on the old one. The
effect on an outcome (retention, repurchase rate, margin, CLV growth, ...) is estimated by
**difference in differences** on the rep-by-month panel: a two-way fixed-effects regression

.. math:: y_{it} = \\alpha_i + \\gamma_t + \\beta\\, D_{it} + \\varepsilon_{it}, \\qquad
          D_{it} = 1[\\text{rep } i \\text{ in the pilot team}]\\; 1[t \\ge \\text{switch}],

with a fixed effect per rep (reps differ in level) and per month (months differ for everyone), so
:math:`\\hat\\beta` compares the pilot reps' change from before to after the switch with the other
reps' change over the same months.

Inference with one treated team out of four
-------------------------------------------
Plain clustered standard errors need many clusters; with four teams and one of them treated they are
badly wrong, and so is the wild cluster bootstrap (MacKinnon & Webb 2017). Randomisation over teams
has only four assignments (smallest possible p-value 0.25: it can never reject at 5 %). The choice
here:

* **Rep-level randomisation inference** (the main interval). The p-value compares the estimate with
  the estimates obtained when the same number of reps, drawn at random from all reps, are labelled
  "pilot" (Fisher's randomisation test; Imbens & Rubin 2015, ch. 5; for DiD, MacKinnon & Webb 2020).
  The interval collects every effect size the test does not reject, by inverting it over a grid of
  effects (Rosenbaum 2002, ch. 2; the Hodges-Lehmann construction), with the estimate itself as the
  point. **Assumption:** given the rep and month fixed effects, which reps were in the pilot is as
  good as random -- in particular no shock hit the pilot team alone at the switch. It cannot be
  tested with one treated team; the pre-trend check below is the best available warning.
* **Team-level check** (always reported beside it; Donald & Lang 2007): each team's change from
  before to after the switch, the pilot team's minus the mean of the others, with a t-distribution
  on G - 2 degrees of freedom (2 with four teams). It allows for team-wide shocks but is very wide.
* **Pre-trend (event study):** the pilot-minus-others gap month by month relative to the last month
  before the switch, and a joint randomisation test that the gaps before the switch are all zero
  (a Wald-type statistic with the gaps' covariance over the relabellings; same rep-level
  permutations). If the pilot team was already drifting,
  a difference in differences cannot separate the plan from the drift.

The plain-English conclusion says "the data cannot tell" when the interval covers 0 or the pre-trend
test fails, and always names the few-teams limit.

References
----------
.. [1] Donald, S. G. & Lang, K. (2007). Inference with difference-in-differences and other panel
   data. Review of Economics and Statistics 89(2), 221-233.
.. [2] MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly different cluster
   sizes. Journal of Applied Econometrics 32(2), 233-254.
.. [3] MacKinnon, J. G. & Webb, M. D. (2020). Randomization inference for difference-in-differences
   with few treated clusters. Journal of Econometrics 218(2), 435-450.
.. [4] Imbens, G. W. & Rubin, D. B. (2015). Causal Inference for Statistics, Social, and Biomedical
   Sciences. Cambridge University Press, ch. 5.
.. [5] Rosenbaum, P. R. (2002). Observational Studies, 2nd ed. Springer, ch. 2.
.. [6] Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a small
   number of policy changes. Review of Economics and Statistics 93(1), 113-125.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from clvlib.errors import DataError, ParamsError
from clvlib.models.base import single_threaded_blas

__all__ = ["pilot_effect", "pilot_effects", "PilotResult", "CONCLUSIONS", "DEFINITIONS"]

#: Plain-English definitions for the report (the lead translates them).
DEFINITIONS = {
    "effect": "The pilot effect is how much more the pilot team's {outcome} changed after the switch than "
              "the other teams' did over the same months (difference in differences, per rep and month).",
    "interval": "The {level:.0%} interval holds every effect size that the data do not contradict when reps "
                "are relabelled as pilot at random ({n_permutations:,} relabellings).",
    "pre_trend": "The pre-trend check asks whether the pilot team was already moving away from the others "
                 "before the switch; if so, the comparison cannot separate the plan from that drift.",
    "few_groups": "Only {n_groups} teams took part, one of them the pilot. A comparison at team level has "
                  "{team_df} degrees of freedom, and relabelling whole teams gives only {n_groups} possible "
                  "assignments (smallest p-value {min_team_p:.2f}).",
}

#: Conclusion templates (format fields: outcome, level, p_value, p ("p = 0.012" / "p < 0.001"),
#: pre_trend_p, n_groups, team_df,
#: min_team_p, direction, and effect, size (its absolute value), low, high, team_low, team_high already
#: formatted by :func:`number`).
CONCLUSIONS = {
    "pre_trend": "The data cannot tell whether the new plan changed {outcome}: the pilot team was already "
                 "drifting away from the other teams before the switch (pre-trend test p = {pre_trend_p:.2f}), "
                 "so the comparison mixes the plan with that drift.",
    "covers_zero": "The data cannot tell whether the new plan changed {outcome}: the estimated effect is "
                   "{effect}, but the {level:.0%} interval ({low} to {high}) includes zero "
                   "({p}).",
    "clear": "The new plan {direction} {outcome} by {size} in the pilot team compared with the other "
             "teams ({level:.0%} interval {low} to {high}, {p}), assuming no shock hit "
             "the pilot team alone at the switch.",
    "few_groups": " Only {n_groups} teams took part: the team-level check, which allows for team-wide shocks, "
                  "has {team_df} degrees of freedom and gives {team_low} to {team_high}; "
                  "relabelling whole teams could never give a p-value below {min_team_p:.2f}.",
    "few_groups_no_team": " Only {n_groups} teams took part: there are too few teams for a team-level check, "
                          "so a shock that hit the pilot team alone cannot be ruled out.",
}

#: Relabellings used for the event study and its pre-trend test (each needs a small regression).
EVENT_PERMUTATIONS = 500

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class PilotResult:
    """Result of :func:`pilot_effect`.

    Attributes
    ----------
    effect, low, high, p_value : float
        The difference-in-differences estimate, its interval (rep-level randomisation inference,
        inverted) and the two-sided randomisation p-value of "no effect".
    pre_trend_p : float
        Randomisation p-value of the joint test that the pilot-minus-others gaps before the switch are
        all zero (NaN with fewer than two months before the switch).
    n_units, n_pilot_units, n_groups : int
        Reps, pilot reps, teams.
    method : str
    conclusion : str
        Plain English.
    outcome : str
    level : float
    n_permutations : int
        Relabellings used (all of them when there are few: ``exact``).
    exact : bool
    n_obs : int
        Rep-months used (rows with a missing outcome are left out and counted in ``notes``).
    event_study : pandas.DataFrame
        ``month``, ``relative_month`` (0 = the switch), ``coefficient`` (pilot minus others relative to
        the month before the switch), ``low``, ``high``.
    team_effect, team_low, team_high, team_p_value : float
        The team-level check (Donald & Lang 2007; t with ``team_df`` degrees of freedom).
    team_df : int
    team_randomisation_p : float
        p-value of relabelling whole teams (at least 1 / n_groups).
    notes : list of str
    """

    effect: float
    low: float
    high: float
    p_value: float
    pre_trend_p: float
    n_units: int
    n_pilot_units: int
    n_groups: int
    method: str
    conclusion: str
    outcome: str = ""
    level: float = 0.9
    n_permutations: int = 0
    exact: bool = False
    n_obs: int = 0
    event_study: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    team_effect: float = float("nan")
    team_low: float = float("nan")
    team_high: float = float("nan")
    team_p_value: float = float("nan")
    team_df: int = 0
    team_randomisation_p: float = float("nan")
    notes: list = field(default_factory=list)


# ------------------------------------------------------------------ input checks
def _prepare(panel, outcome, pilot_group, switch, unit, group, time):
    """Validated rows with a known outcome, and notes: (frame, unit codes, month codes, months, pilot mask)."""
    if not isinstance(panel, pd.DataFrame):
        raise DataError(f"pilot_effect: the panel must be a table (DataFrame); got {type(panel).__name__}")
    missing = [c for c in (unit, group, time, outcome) if c not in panel.columns]
    if missing:
        raise DataError(f"pilot_effect: the panel has no column(s) {', '.join(map(repr, missing))} "
                        f"(columns: {', '.join(map(str, panel.columns[:20]))})", column=missing[0])
    if not isinstance(switch, str) or not MONTH_RE.match(switch):
        raise ParamsError(f"pilot.switch: must be a month like 2026-04 (YYYY-MM); got {switch!r}",
                          key="pilot.switch")
    df = panel[[unit, group, time, outcome]].copy()
    for col, what in ((unit, "rep"), (group, "team"), (time, "month")):
        if df[col].isna().any():
            raise DataError(f"{int(df[col].isna().sum())} rows have no {what}", column=col)
    df[time] = df[time].astype(str)
    bad_month = ~df[time].str.match(MONTH_RE)
    if bad_month.any():
        raise DataError(f"{int(bad_month.sum())} rows have a month that is not YYYY-MM (e.g. "
                        f"{df.loc[bad_month, time].iloc[0]!r})", column=time)
    y = pd.to_numeric(df[outcome], errors="coerce")
    text = df[outcome].notna() & y.isna()
    if text.any():
        raise DataError(f"{int(text.sum())} values are not numbers (e.g. {df.loc[text, outcome].iloc[0]!r})",
                        column=outcome)
    df[outcome] = y
    teams = df.groupby(unit)[group].nunique()
    if (teams > 1).any():
        raise DataError(f"rep {teams.index[teams > 1][0]!r} belongs to more than one team in the panel; the pilot "
                        f"comparison needs one team per rep", column=group)
    if pilot_group not in set(df[group].dropna()):
        known = ", ".join(map(str, sorted(df[group].dropna().unique())))
        raise ParamsError(f"pilot.team: {pilot_group!r} is not a team in the panel (teams: {known})",
                          key="pilot.team")
    notes = []
    if df[outcome].isna().any():
        notes.append(f"{int(df[outcome].isna().sum())} rep-months without a value of {outcome} are left out")
        df = df[df[outcome].notna()]
    months = sorted(df[time].unique())
    if not months or not (months[0] < switch <= months[-1]):
        span = f"{months[0]} to {months[-1]}" if months else "no months with data"
        raise ParamsError(f"pilot.switch: {switch} is outside the panel ({span}): there must be months before "
                          f"and from the switch", key="pilot.switch")
    return df.reset_index(drop=True), notes


def _design(df, unit, time):
    """Codes and the pseudo-inverse of the two-way fixed-effects design (rep and month dummies)."""
    u, units = pd.factorize(df[unit], sort=True)
    t, months = pd.factorize(df[time], sort=True)
    n = len(df)
    X = np.zeros((n, len(units) + len(months) - 1))
    X[np.arange(n), u] = 1.0
    later = t > 0
    X[np.flatnonzero(later), len(units) + t[later] - 1] = 1.0
    return u, t, units, pd.Index(months), X, np.linalg.pinv(X)


def _residualise(A, X, Xp):
    """Residuals of the columns of A on the fixed effects (Frisch-Waugh-Lovell)."""
    return A - X @ (Xp @ A)


# ------------------------------------------------------------------ assignments
def _assignments(n_units, n_pilot, n_permutations, rng):
    """(P, n_units) boolean relabellings: all of them when there are at most n_permutations, else a
    random sample (the observed labelling is then added separately by the caller's p-value)."""
    total = math.comb(n_units, n_pilot)
    if total <= n_permutations:
        out = np.zeros((total, n_units), dtype=bool)
        for i, c in enumerate(itertools.combinations(range(n_units), n_pilot)):
            out[i, list(c)] = True
        return out, True
    keys = rng.random((n_permutations, n_units))
    pick = np.argsort(keys, axis=1)[:, :n_pilot]
    out = np.zeros((n_permutations, n_units), dtype=bool)
    np.put_along_axis(out, pick, True, axis=1)
    return out, False


def _p_value(stat_obs, stat_perm, exact):
    """Share of relabellings at least as extreme as the observed one (observed counted when sampled)."""
    hits = np.count_nonzero(stat_perm >= stat_obs - 1e-12 * max(1.0, abs(stat_obs)))
    return hits / len(stat_perm) if exact else (1 + hits) / (1 + len(stat_perm))


# ------------------------------------------------------------------ the estimate and its interval
def _did(y_t, D_t):
    """FWL estimates for residualised outcome (n,) and residualised treatment columns (n, P)."""
    den = np.einsum("ij,ij->j", D_t, D_t)
    return (D_t.T @ y_t) / den, den


def _invert(beta, a, b, level, exact):
    """Interval of beta0 not rejected at 1 - level: the permuted estimate under beta0 is a - beta0 * b."""
    alpha = 1 - level
    spread = max(np.std(a), 1e-12 * max(1.0, abs(beta)))

    def p(b0):
        return _p_value(abs(beta - b0), np.abs(a - b0 * b), exact)

    def edge(sign):
        inside, outside = beta, beta + sign * spread
        k = 0
        while p(outside) > alpha and k < 60:
            inside, outside = outside, beta + sign * spread * 2 ** (k + 1)
            k += 1
        for _ in range(60):
            mid = (inside + outside) / 2
            inside, outside = (mid, outside) if p(mid) > alpha else (inside, mid)
        return inside
    return edge(-1), edge(+1)


def _static(df, outcome, u, t, X, Xp, pilot_units, switch_code, perms):
    """DiD estimate, permuted estimates a, b (for the inversion) and the treatment column."""
    post = t >= switch_code
    D = (pilot_units[u] & post).astype(float)
    y_t = _residualise(df[outcome].to_numpy(dtype=float)[:, None], X, Xp)[:, 0]
    D_t = _residualise(D[:, None], X, Xp)[:, 0]
    beta = float(D_t @ y_t / (D_t @ D_t))
    a, b = np.empty(len(perms)), np.empty(len(perms))
    step = max(1, 2_000_000 // max(len(df), 1))
    for lo in range(0, len(perms), step):
        Dp = (perms[lo:lo + step][:, u].T & post[:, None]).astype(float)
        Dp_t = _residualise(Dp, X, Xp)
        a[lo:lo + step], den = _did(y_t, Dp_t)
        b[lo:lo + step] = (Dp_t.T @ D_t) / den
    return beta, a, b


def _event_study(df, outcome, u, t, months, X, Xp, pilot_units, switch_code, perms, exact, level):
    """Event-study coefficients (reference: the month before the switch), their null spread and the
    joint pre-trend randomisation p-value."""
    y = df[outcome].to_numpy(dtype=float)
    ref = switch_code - 1
    ks = [k for k in range(len(months)) if k != ref]
    pre = np.array([k < ref for k in ks])

    y_t = _residualise(y[:, None], X, Xp)[:, 0]
    cells = np.stack([t == k for k in ks], axis=1)          # (n, K): the row's month is k

    def coefs(labels):
        """(P, K) event-study coefficients for (P, n_units) pilot labellings (Frisch-Waugh-Lovell)."""
        out = np.empty((len(labels), len(ks)))
        step = max(1, 200_000 // max(len(y) * len(ks), 1))
        for lo in range(0, len(labels), step):
            lab = labels[lo:lo + step]
            E = (cells[None, :, :] & lab[:, u][:, :, None]).astype(float)            # (c, n, K)
            c = len(lab)
            E_t = _residualise(E.transpose(1, 0, 2).reshape(len(y), -1), X, Xp).reshape(len(y), c, -1)
            E_t = E_t.transpose(1, 0, 2)
            G = np.einsum("cnk,cnl->ckl", E_t, E_t)
            r = np.einsum("cnk,n->ck", E_t, y_t)
            out[lo:lo + step] = np.einsum("ckl,cl->ck", np.linalg.pinv(G, hermitian=True), r)
        return out

    obs = coefs(pilot_units[None, :])[0]
    n_null = min(len(perms), EVENT_PERMUTATIONS)
    null = coefs(perms[:n_null])
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    centred = null - null.mean(axis=0)
    table = pd.DataFrame({"month": months[ks], "relative_month": np.array(ks) - switch_code, "coefficient": obs,
                          "low": obs - np.quantile(centred, hi_q, axis=0),
                          "high": obs - np.quantile(centred, lo_q, axis=0)})
    ref_row = pd.DataFrame({"month": [months[ref]], "relative_month": [-1], "coefficient": [0.0], "low": [0.0],
                            "high": [0.0]})
    table = pd.concat([table, ref_row]).sort_values("relative_month").reset_index(drop=True)
    if pre.sum() < 1:
        return table, float("nan")
    # Wald-type statistic with the permutation covariance of the pre-switch gaps (they share the
    # reference month, so they are correlated); the same form for every relabelling keeps the test exact
    prec = np.linalg.pinv(np.atleast_2d(np.cov(null[:, pre], rowvar=False)))
    stat = float(obs[pre] @ prec @ obs[pre])
    null_stat = np.einsum("pi,ij,pj->p", null[:, pre], prec, null[:, pre])
    return table, _p_value(stat, null_stat, exact and n_null == len(perms))


def _team_level(df, outcome, unit, group, time, pilot_group, switch, level):
    """Donald & Lang (2007): teams' post-minus-pre changes of their rep-mean outcome; the pilot's minus
    the others' mean, t on G - 2 degrees of freedom; and the randomisation p-value over teams."""
    cell = df.groupby([group, time])[outcome].mean().reset_index()
    cell["post"] = cell[time] >= switch
    per = cell.groupby([group, "post"])[outcome].mean().unstack("post")
    per = per.dropna()
    if pilot_group not in per.index or True not in per.columns or False not in per.columns:
        return (float("nan"),) * 4 + (0, float("nan"))
    change = per[True] - per[False]
    ctrl = change.drop(pilot_group)
    G = len(change)
    effect = float(change[pilot_group] - ctrl.mean())
    ranks = np.array([abs(change[g] - change.drop(g).mean()) for g in change.index])
    team_ri = float(np.mean(ranks >= abs(effect) - 1e-12))
    if G < 3:
        return effect, float("nan"), float("nan"), float("nan"), 0, team_ri
    df_t = G - 2
    se = float(ctrl.std(ddof=1) * np.sqrt(1 + 1 / len(ctrl)))
    if se == 0:
        return effect, effect, effect, 0.0 if effect else 1.0, df_t, team_ri
    q = stats.t.ppf((1 + level) / 2, df_t)
    p = float(2 * stats.t.sf(abs(effect) / se, df_t))
    return effect, effect - q * se, effect + q * se, p, df_t, team_ri


def number(x) -> str:
    """A signed number for a sentence: thousands separated from 1,000 on, else three significant digits."""
    if not np.isfinite(x):
        return "n/a"
    return f"{x:+,.0f}" if abs(x) >= 1000 else f"{x:+.3g}"


def _conclusion(r: PilotResult, pre_trend_alpha: float) -> str:
    """The plain-English conclusion (:data:`CONCLUSIONS`)."""
    fields = {"outcome": r.outcome, "effect": number(r.effect), "low": number(r.low), "high": number(r.high),
              "level": r.level, "p_value": r.p_value, "pre_trend_p": r.pre_trend_p, "team_low": number(r.team_low),
              "team_high": number(r.team_high),
              "n_groups": r.n_groups, "team_df": r.team_df, "min_team_p": 1 / max(r.n_groups, 1),
              "direction": "raised" if r.effect > 0 else "lowered", "size": number(abs(r.effect)).lstrip("+"),
              "p": "p < 0.001" if r.p_value < 0.001 else f"p = {r.p_value:.3f}"}
    if np.isfinite(r.pre_trend_p) and r.pre_trend_p < pre_trend_alpha:
        text = CONCLUSIONS["pre_trend"]
    elif r.low <= 0 <= r.high:
        text = CONCLUSIONS["covers_zero"]
    else:
        text = CONCLUSIONS["clear"]
    text += CONCLUSIONS["few_groups" if r.team_df > 0 else "few_groups_no_team"]
    return text.format(**fields)


def pilot_effect(panel, outcome, *, pilot_group, switch, unit="rep_id", group="team", time="month", level=0.9,
                 n_permutations=2000, random_state=0, pre_trend_alpha=0.1) -> PilotResult:
    """Difference-in-differences effect of a pilot on one outcome, with inference valid for few teams.

    See the module docstring for the estimator, the inference and its assumption.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per rep and month: ``unit``, ``group``, ``time`` (``"YYYY-MM"``) and the outcome
        column(s). Rows with a missing outcome are left out (counted in ``notes``).
    outcome : str
        The outcome column (e.g. ``retention_rate``, ``repurchase_rate``, ``gross_margin_12m``,
        ``clv_change``).
    pilot_group : str
        The pilot team (``pilot.team`` in params).
    switch : str
        First month of the pilot, ``"YYYY-MM"`` (``pilot.switch``); the panel needs months before it.
    unit, group, time : str
        Column names of the rep, the team and the month.
    level : float, default 0.9
        Coverage of the interval.
    n_permutations : int, default 2000
        Random relabellings of which reps are "pilot" (all of them when there are fewer).
    random_state : int, default 0
        Seed: results are deterministic.
    pre_trend_alpha : float, default 0.1
        A pre-trend p-value below this makes the conclusion "cannot tell".

    Returns
    -------
    PilotResult

    Raises
    ------
    clvlib.errors.ParamsError
        Unknown pilot team, or a switch month outside the panel.
    clvlib.errors.DataError
        Missing columns, non-numeric outcomes, bad months, a rep in two teams, no control reps.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> months = [f"2025-{m:02d}" for m in range(1, 13)]
    >>> reps = pd.DataFrame({"rep_id": [f"R{i}" for i in range(16)], "team": np.repeat(list("ABCD"), 4)})
    >>> panel = reps.merge(pd.DataFrame({"month": months}), how="cross")
    >>> panel["y"] = rng.normal(0, 1, len(panel)) + 2.0 * ((panel.team == "A") & (panel.month >= "2025-07"))
    >>> r = pilot_effect(panel, "y", pilot_group="A", switch="2025-07", n_permutations=500)
    >>> r.n_units, r.n_pilot_units, r.n_groups, bool(r.p_value < 0.05 and r.low > 0)
    (16, 4, 4, True)
    """
    with single_threaded_blas():
        return _pilot_effect(panel, outcome, pilot_group, switch, unit, group, time, level, n_permutations,
                             random_state, pre_trend_alpha)


def _pilot_effect(panel, outcome, pilot_group, switch, unit, group, time, level, n_permutations, random_state,
                  pre_trend_alpha):
    df, notes = _prepare(panel, outcome, pilot_group, switch, unit, group, time)
    u, t, units, months, X, Xp = _design(df, unit, time)
    team_of = df.groupby(unit)[group].first().reindex(units)
    pilot_units = (team_of == pilot_group).to_numpy()
    n_pilot = int(pilot_units.sum())
    if n_pilot == len(units) or n_pilot == 0:
        raise DataError(f"pilot_effect: every rep with a value of {outcome} is in team {pilot_group!r}: there is no "
                        f"comparison group" if n_pilot else
                        f"pilot_effect: no rep of team {pilot_group!r} has a value of {outcome}", column=outcome)
    switch_code = int(np.searchsorted(months, switch))
    rng = np.random.default_rng(random_state)
    perms, exact = _assignments(len(units), n_pilot, n_permutations, rng)
    beta, a, b = _static(df, outcome, u, t, X, Xp, pilot_units, switch_code, perms)
    p = _p_value(abs(beta), np.abs(a), exact)
    low, high = _invert(beta, a, b, level, exact)
    events, pre_p = _event_study(df, outcome, u, t, months, X, Xp, pilot_units, switch_code, perms, exact,
                                 level)
    team = _team_level(df, outcome, unit, group, time, pilot_group, switch, level)
    r = PilotResult(effect=float(beta), low=float(low), high=float(high), p_value=float(p), pre_trend_p=float(pre_p), n_units=len(units),
                    n_pilot_units=n_pilot, n_groups=int(df[group].nunique()),
                    method="two-way fixed-effects difference in differences; rep-level randomisation inference "
                           "(interval by test inversion); team-level t check (Donald & Lang 2007)",
                    conclusion="", outcome=outcome, level=level, n_permutations=len(perms), exact=exact,
                    n_obs=len(df), event_study=events, team_effect=float(team[0]), team_low=float(team[1]),
                    team_high=float(team[2]),
                    team_p_value=float(team[3]), team_df=int(team[4]), team_randomisation_p=float(team[5]),
                    notes=notes)
    r.conclusion = _conclusion(r, pre_trend_alpha)
    return r


def pilot_effects(panel, outcomes, **kwargs) -> pd.DataFrame:
    """:func:`pilot_effect` for several outcomes: one row each (effect, low, high, p_value, pre_trend_p,
    team_low, team_high, conclusion)."""
    rows = []
    for o in outcomes:
        r = pilot_effect(panel, o, **kwargs)
        rows.append({"outcome": o, "effect": r.effect, "low": r.low, "high": r.high, "p_value": r.p_value,
                     "pre_trend_p": r.pre_trend_p, "team_low": r.team_low, "team_high": r.team_high,
                     "n_units": r.n_units, "n_pilot_units": r.n_pilot_units, "n_groups": r.n_groups,
                     "conclusion": r.conclusion})
    return pd.DataFrame(rows)
