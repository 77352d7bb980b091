"""Settings are validated on load with one clear line per problem."""
from __future__ import annotations

import pytest

from clvlib import params
from clvlib.errors import ParamsError
from clvlib.paths import DEFAULT_PARAMS


def write(tmp_path, text):
    p = tmp_path / "company.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_params_load_with_defaults():
    p = params.load(DEFAULT_PARAMS)
    assert p.reporting_currency == "USD" and p.clv.horizon_months == 12
    assert p.path("sources").name == "demo.yaml" and p.path("sources").is_absolute()
    assert len(p.fingerprint()) == 64


def test_defaults_fill_missing_sections(tmp_path):
    p = params.load(write(tmp_path, "sources: s.yaml\n"))
    assert p.clv.monthly_discount_rate == 0.01 and p.language == "en"


@pytest.mark.parametrize("text, message", [
    ("sources: s.yaml\nclv:\n  horizon_months: twelve\n", "clv.horizon_months: must be a whole number between 1 and 120, got 'twelve'"),
    ("sources: s.yaml\nclv:\n  horizon_months: 500\n", "clv.horizon_months: must be between 1 and 120, got 500"),
    ("sources: s.yaml\nlanguage: fr\n", "language: must be one of en, zh, got 'fr'"),
    ("sources: s.yaml\nreporting_currency: usd\n", "reporting_currency: must be a 3-letter ISO 4217 code"),
    ("sources: s.yaml\nclv:\n  horizn_months: 3\n", "clv.horizn_months: unknown setting"),
    ("sources: s.yaml\nfx:\n  strict: maybe\n", "fx.strict: must be true or false"),
    ("company: X\n", "sources: required"),
])
def test_invalid_settings_are_named(tmp_path, text, message):
    f = write(tmp_path, text)
    with pytest.raises(ParamsError) as e:
        params.load(f)
    assert message in str(e.value)
    assert str(f) in str(e.value)
    assert "\n" not in str(e.value)


def test_every_problem_reported_at_once(tmp_path):
    with pytest.raises(ParamsError) as e:
        params.load(write(tmp_path, "sources: s.yaml\nlanguage: fr\nclv:\n  seed: -1\n"))
    assert "language" in str(e.value) and "clv.seed" in str(e.value)


def test_bad_yaml_names_the_line(tmp_path):
    with pytest.raises(ParamsError, match=r"not valid YAML at line 3, column 1"):
        params.load(write(tmp_path, "sources: s.yaml\nclv: [unclosed\n"))


def test_missing_file(tmp_path):
    with pytest.raises(ParamsError, match="file not found"):
        params.load(tmp_path / "nope.yaml")


def test_overrides_are_validated_too(tmp_path):
    with pytest.raises(ParamsError, match="clv.interval_level"):
        params.load(DEFAULT_PARAMS, overrides={"clv": {"interval_level": 2}})
    assert params.load(DEFAULT_PARAMS, overrides={"language": "zh"}).language == "zh"


def test_misspelled_key_suggests_the_right_one(tmp_path):
    with pytest.raises(ParamsError, match=r"clv.horizn_months: unknown setting \(did you mean horizon_months\?"):
        params.load(write(tmp_path, "sources: s.yaml\nclv:\n  horizn_months: 3\n"))


def test_empty_keys_take_their_defaults(tmp_path):
    p = params.load(write(tmp_path, "sources: s.yaml\nclv:\n  horizon_months:\npay:\n  switch:\n"))
    assert p.clv.horizon_months == 12 and p.pay.switch is None


def test_a_key_yaml_reads_as_true_is_named(tmp_path):
    with pytest.raises(ParamsError, match=r"report: a key YAML reads as True, not as a name .*write it in quotes"):
        params.load(write(tmp_path, "sources: s.yaml\nreport:\n  on: 3\n"))


def test_cross_checks_name_their_key(tmp_path):
    with pytest.raises(ParamsError) as e:
        params.load(write(tmp_path, "sources: s.yaml\ntiers:\n  method: value_share\n  labels: [A, B]\n"
                                    "pilot:\n  team: Europe\n"))
    msg = str(e.value)
    assert "tiers.value_shares: needs one share per tier label (2: A, B), got 3" in msg
    assert "pilot: team and switch go together" in msg and "\n" not in msg


def test_every_setting_is_described():
    rows = params.describe()
    keys = [k for k, _d, _h in rows]
    assert "clv.horizon_months" in keys and "pay.current_plan" in keys and "tiers.labels" in keys
    assert all(h for _k, _d, h in rows) and len(keys) == len(set(keys))
