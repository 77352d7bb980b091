"""Pilot evaluation: difference in differences with inference that holds for one treated team of four."""
from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from clvlib import pilot
from clvlib.errors import DataError, ParamsError
from clvlib.pilot import pilot_effect

TEAMS = ["Americas", "Asia-Pacific", "Europe", "Middle East & Africa"]


def make_panel(seed, effect=0.0, *, reps_per_team=6, n_months=12, switch=7, pre_trend=0.0, team_post_sd=0.0,
               noise=1.0):
    """A rep-by-month panel: rep levels, month effects common to all, idiosyncratic noise, and for the
    pilot team (Europe) an effect from the switch month on; optionally a linear pre-trend of the pilot
    team (per month, before the switch) and team-wide shifts from the switch on (every team its own,
    drawn with sd ``team_post_sd``: the shock a rep-level analysis cannot tell from the plan)."""
    rng = np.random.default_rng(seed)
    months = [str(p) for p in pd.period_range("2025-01", periods=n_months, freq="M")]
    reps = pd.DataFrame({"rep_id": [f"R{i:03d}" for i in range(4 * reps_per_team)],
                         "team": np.repeat(TEAMS, reps_per_team)})
    level = rng.normal(0.6, 0.1, len(reps))
    p = reps.assign(level=level).merge(pd.DataFrame({"month": months, "k": range(n_months)}), how="cross")
    month_effect = rng.normal(0, 0.5, n_months)
    team_code = p["team"].map({t: i for i, t in enumerate(TEAMS)}).to_numpy()
    shift = rng.normal(0, team_post_sd, 4) if team_post_sd else np.zeros(4)
    k = p["k"].to_numpy()
    is_pilot = (p["team"] == "Europe").to_numpy()
    post = k >= switch - 1
    p["retention_rate"] = (p["level"] + month_effect[k] + shift[team_code] * post + rng.normal(0, noise, len(p))
                           + effect * (is_pilot & post) + pre_trend * is_pilot * np.minimum(k - (switch - 1), 0))
    return p.drop(columns=["level", "k"]), months[switch - 1]


def test_doctests():
    assert doctest.testmod(pilot).failed == 0


def test_the_difference_in_differences_is_the_hand_computed_one():
    """Balanced panel: the two-way fixed-effects estimate is (pilot after - before) - (others after - before)."""
    rows = []
    values = {("A", "E"): [1, 2, 5, 6], ("B", "E"): [2, 2, 6, 8], ("C", "X"): [3, 4, 4, 5], ("D", "X"): [1, 1, 2, 2],
              ("F", "Y"): [0, 1, 1, 1], ("G", "Y"): [5, 5, 6, 7]}
    months = ["2025-01", "2025-02", "2025-03", "2025-04"]
    for (rep, team), ys in values.items():
        rows += [{"rep_id": rep, "team": team, "month": m, "y": y} for m, y in zip(months, ys)]
    panel = pd.DataFrame(rows)
    r = pilot_effect(panel, "y", pilot_group="E", switch="2025-03", n_permutations=100)
    pilot_change = np.mean([5, 6, 6, 8]) - np.mean([1, 2, 2, 2])
    other_change = np.mean([4, 5, 2, 2, 1, 1, 6, 7]) - np.mean([3, 4, 1, 1, 0, 1, 5, 5])
    assert r.effect == pytest.approx(pilot_change - other_change)
    assert r.team_effect == pytest.approx(r.effect)
    assert r.exact and r.n_permutations == 15                 # C(6, 2) relabellings: all of them
    assert r.p_value * 15 == pytest.approx(round(r.p_value * 15))
    assert (r.n_units, r.n_pilot_units, r.n_groups, r.n_obs) == (6, 2, 3, 24)
    assert r.low <= r.effect <= r.high


def test_a_planted_effect_is_recovered_within_its_interval():
    """20 seeded panels, effect +0.8: a calibrated 90 % interval covers it in at least 16 of 20 with
    probability 0.96 (binomial), so a failure here means the interval is too narrow (or biased)."""
    covered, excludes_zero = 0, 0
    for seed in range(20):
        panel, switch = make_panel(seed, effect=0.8)
        r = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, n_permutations=400,
                         random_state=seed)
        covered += r.low <= 0.8 <= r.high
        excludes_zero += not (r.low <= 0 <= r.high)
    assert covered >= 16
    assert excludes_zero >= 12                                    # and the effect is usually seen


def test_no_effect_gives_an_interval_around_zero_and_says_the_data_cannot_tell():
    covers, p_values = 0, []
    for seed in range(20):
        panel, switch = make_panel(100 + seed, effect=0.0)
        r = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, n_permutations=400,
                         random_state=seed)
        covers += r.low <= 0 <= r.high
        p_values.append(r.p_value)
        if r.low <= 0 <= r.high and r.pre_trend_p >= 0.1:
            assert r.conclusion.startswith("The data cannot tell")
    assert covers >= 16
    assert np.mean(np.array(p_values) < 0.1) <= 0.25


def test_a_violated_pre_trend_is_detected():
    hits = 0
    for seed in range(5):
        panel, switch = make_panel(200 + seed, effect=0.0, pre_trend=0.7)
        r = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, n_permutations=400)
        hits += r.pre_trend_p < 0.1
        if r.pre_trend_p < 0.1:
            assert "already drifting" in r.conclusion and r.conclusion.startswith("The data cannot tell")
    assert hits >= 4
    pre = r.event_study[r.event_study["relative_month"] < -1]
    assert (pre["coefficient"].diff().dropna() > 0).mean() > 0.5     # the gap closes month after month


def test_the_event_study_is_relative_to_the_month_before_the_switch():
    panel, switch = make_panel(7, effect=1.5, noise=0.3)
    r = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, n_permutations=300)
    es = r.event_study.set_index("relative_month")
    assert es.loc[-1, "coefficient"] == 0 and es.loc[0, "month"] == switch
    assert list(es.index) == list(range(-6, 6))
    assert es.loc[0:, "coefficient"].mean() == pytest.approx(r.effect, abs=0.3)
    assert (es.loc[0:, "low"] > 0).all() and (es.loc[:-2, "low"] < 0).all()


def test_the_few_teams_limit_is_always_stated():
    panel, switch = make_panel(3, effect=1.5, noise=0.3)
    r = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, n_permutations=300)
    assert r.n_groups == 4 and r.team_df == 2
    assert r.team_randomisation_p >= 0.25
    assert "Only 4 teams" in r.conclusion and "0.25" in r.conclusion and "2 degrees of freedom" in r.conclusion
    assert r.conclusion.startswith("The new plan raised retention_rate")
    assert r.team_low <= r.team_effect <= r.team_high


def test_team_wide_shocks_are_why_the_team_level_check_is_reported():
    """Every team gets its own shift at the switch and the plan does nothing: the rep-level interval
    (which assumes no such shock) claims an effect far more often than 10 %; the team-level check,
    which allows for team shocks, keeps its coverage. The conclusion prints both."""
    rep_cover, team_cover = 0, 0
    for seed in range(20):
        panel, switch = make_panel(300 + seed, team_post_sd=1.0, noise=0.5)
        r = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, n_permutations=300)
        rep_cover += r.low <= 0 <= r.high
        team_cover += r.team_low <= 0 <= r.team_high
    assert team_cover >= 16 and rep_cover <= 12
    assert f"{pilot.number(r.team_low)} to {pilot.number(r.team_high)}" in r.conclusion


def test_results_are_deterministic_with_a_seed():
    panel, switch = make_panel(5, effect=0.5)
    a = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, random_state=4, n_permutations=300)
    b = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, random_state=4, n_permutations=300)
    assert (a.effect, a.low, a.high, a.p_value, a.pre_trend_p) == (b.effect, b.low, b.high, b.p_value, b.pre_trend_p)


def test_missing_outcomes_are_left_out_and_counted():
    panel, switch = make_panel(6)
    panel.loc[[0, 5, 9], "retention_rate"] = np.nan
    r = pilot_effect(panel, "retention_rate", pilot_group="Europe", switch=switch, n_permutations=200)
    assert r.n_obs == len(panel) - 3
    assert r.notes == ["3 rep-months without a value of retention_rate are left out"]


def test_numbers_in_the_conclusion_read_well():
    assert [pilot.number(v) for v in (12345.6, -0.0312, 2.648, float("nan"))] == ["+12,346", "-0.0312", "+2.65", "n/a"]


def test_several_outcomes_at_once():
    panel, switch = make_panel(8, effect=0.5)
    panel["margin"] = panel["retention_rate"] * 1000
    t = pilot.pilot_effects(panel, ["retention_rate", "margin"], pilot_group="Europe", switch=switch,
                            n_permutations=200)
    assert t["outcome"].tolist() == ["retention_rate", "margin"]
    assert t.loc[1, "effect"] == pytest.approx(1000 * t.loc[0, "effect"])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"pilot_group": "Antarctica"}, ParamsError, "pilot.team: 'Antarctica' is not a team in the panel"),
    ({"switch": "2024-06"}, ParamsError, "pilot.switch: 2024-06 is outside the panel"),
    ({"switch": "2025-01"}, ParamsError, "pilot.switch: 2025-01 is outside the panel"),
    ({"switch": "2026-01"}, ParamsError, "pilot.switch: 2026-01 is outside the panel"),
    ({"switch": "June"}, ParamsError, "pilot.switch: must be a month like"),
    ({"outcome": "nps"}, DataError, "column 'nps'"),
    ({"unit": "rep"}, DataError, "no column"),
])
def test_bad_inputs_raise_one_line_errors(kwargs, error, match):
    panel, switch = make_panel(1)
    args = {"outcome": "retention_rate", "pilot_group": "Europe", "switch": switch, **kwargs}
    outcome = args.pop("outcome")
    with pytest.raises(error, match=match) as e:
        pilot_effect(panel, outcome, n_permutations=50, **args)
    assert "\n" not in str(e.value)


def test_bad_panels_raise_one_line_errors():
    panel, switch = make_panel(1)
    moved = panel.copy()
    moved.loc[moved.index[0], "team"] = "Asia-Pacific"           # R000 is in Americas otherwise
    with pytest.raises(DataError, match="rep 'R000' belongs to more than one team"):
        pilot_effect(moved, "retention_rate", pilot_group="Europe", switch=switch)
    words = panel.astype({"retention_rate": object})
    words.loc[3, "retention_rate"] = "high"
    with pytest.raises(DataError, match="not numbers"):
        pilot_effect(words, "retention_rate", pilot_group="Europe", switch=switch)
    no_team = panel.copy()
    no_team.loc[2, "team"] = None
    with pytest.raises(DataError, match="1 rows have no team"):
        pilot_effect(no_team, "retention_rate", pilot_group="Europe", switch=switch)
    only = panel[panel["team"] == "Europe"]
    with pytest.raises(DataError, match="no comparison group"):
        pilot_effect(only, "retention_rate", pilot_group="Europe", switch=switch)
