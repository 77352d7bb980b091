"""The plan language: shipped plans load; a bad plan stops with one line naming the file and every key."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from clvlib import settings
from clvlib.cli import main
from clvlib.errors import ParamsError
from clvlib.paths import PARAMS_DIR
from clvlib.plans import check_plan, describe_plans, load_plan, load_plans
from clvlib.plans.schema import COMPONENT_MODELS, Plan
from plans_support import inputs, orders_table, reps_table

PLANS = PARAMS_DIR / "plans"
SHIPPED = ("clv_plan", "commission_margin", "commission_revenue", "seed_hybrid", "seed_hybrid_guarantee")
HEAD = "title: {en: T, zh: 题}\ndescription: {en: D, zh: 述}\n"


def write(tmp_path, body, name="p"):
    f = tmp_path / f"{name}.yaml"
    f.write_text(HEAD + body, encoding="utf-8")
    return f


def problems_of(f, **kw):
    with pytest.raises(ParamsError) as e:
        load_plan(f, **kw)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(f))
    return msg


def _setting_lines(path):
    """The lines of a plan file that set a value (not the title / description texts, not comments)."""
    out, text_indent = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        indent = len(line) - len(line.lstrip())
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if text_indent is not None and indent > text_indent:
            continue                                     # inside a folded text block (>-)
        text_indent = indent if line.rstrip().endswith(">-") else None
        if line.startswith(("title:", "description:")) or line.strip().startswith(("en:", "zh:")):
            continue
        if not line.rstrip().endswith(":"):
            out.append(line)
    return out


def test_shipped_plans_load_and_are_commented_line_by_line():
    plans = load_plans(PLANS, current="commission_revenue")
    assert tuple(plans) == SHIPPED
    for name, plan in plans.items():
        assert plan.name == name and plan.title.en and plan.title.zh and plan.description.zh
        bare = [x for x in _setting_lines(PLANS / f"{name}.yaml") if "#" not in x]
        assert not bare, f"{name}: lines without a comment: {bare}"
    today = plans["commission_revenue"]
    (c,) = today.components
    assert (c.type, c.base, c.earned_on, c.rate, c.table, c.accelerators, c.holdback, c.cap) == \
        ("commission", "revenue", "collection", 0.03, None, None, None, None)
    assert today.eligibility.after_leave == "nothing" and today.caps.cap is None
    hybrid = plans["seed_hybrid"]
    assert hybrid.weight("commission") == 0.3 and {c.type for c in hybrid.components} == \
        {"commission", "clv_growth", "team_pool"}
    g = plans["seed_hybrid_guarantee"].guarantee
    assert (g.months, g.share, g.kind) == (12, 0.9, "top_up")


@pytest.mark.parametrize("body, message", [
    ("components:\n  - {type: comission, rate: 0.03}\n",
     "components[1].type: unknown type 'comission' (did you mean commission?"),
    ("components:\n  - {type: commission, rate: 3}\n",
     "components.commission.rate: must be a rate between 0 and 1 (3 % is written 0.03), got 3"),
    ("weights: {commission: 0.3, clv_growth: 0.6}\ncomponents:\n  - {type: commission, rate: 0.03}\n"
     "  - {type: clv_growth, rates: {new: 0.1}}\n",
     "weights: must sum to 1, got 0.9 (commission 0.3 + clv_growth 0.6)"),
    ("components:\n  - {type: commission, rate: 0.03, effective_to: '2026-06'}\n"
     "  - {type: commission, rate: 0.04, effective_from: '2026-05'}\n",
     "components.commission[2].effective_from: overlaps components.commission[1] (start to 2026-06)"),
    ("components:\n  - {type: retention, amounts: {A: 100, D: 50}}\n",
     "components.retention.amounts: unknown tier 'D' (tiers are A, B, C"),
    ("eligibility: {roles: [salse]}\ncomponents:\n  - {type: commission, rate: 0.03}\n",
     "eligibility.roles[1]: must be one of sales, service, supply_chain, got 'salse'"),
    ("components:\n  - {type: commission, rat: 0.03}\n",
     "components.commission.rat: unknown setting (did you mean rate?"),
    ("components:\n  - {type: commission, rate: 0.03, table: {tiering: whole, bands: [{above: 0, rate: 0.1}]}}\n",
     "components.commission.rate: give either rate (a flat rate) or table (tiered rates), exactly one"),
    ("components:\n  - {type: commission, table: {tiering: flat, bands: [{above: 0, rate: 0.1}]}}\n",
     "components.commission.table.tiering: must be one of marginal, whole, got 'flat'"),
    ("components:\n  - {type: commission, table: {tiering: whole, bands: [{above: 0, rate: 0.1}, {above: 0, rate: 0.2}]}}\n",
     "components.commission.table.bands[2].above: bands must be in increasing order"),
    ("components:\n  - {type: clawback, amount: 100}\n", "components.clawback.carry: required"),
    ("components:\n  - {type: commission, rate: 0.03}\n  - {type: clv_growth, rates: {new: 0.1}}\n",
     "weights: required: the plan has 2 weighted components (commission, clv_growth)"),
    ("weights: {commission: 0.5, retention: 0.5}\ncomponents:\n  - {type: commission, rate: 0.03}\n",
     "weights.retention: the plan has no retention component"),
    ("components:\n  - type: spif\n    label: {en: x, zh: y}\n    base: won\n    amount: 100\n",
     "components.spif.effective_from: a SPIF is one-off: give effective_from and effective_to"),
    ("components:\n  - {type: commission, rate: 0.03, effective_from: 2026-1}\n",
     "components.commission.effective_from: must be a month such as 2026-01 (in quotes), got '2026-1'"),
    ("guarantee: {months: 12, share: 90}\ncomponents:\n  - {type: commission, rate: 0.03}\n",
     "guarantee.share: must be a share between 0 and 1 (90 % is written 0.9), got 90"),
    ("components: []\ntitel: x\n", "titel: unknown setting (did you mean title?"),
])
def test_bad_plan_is_one_line_naming_file_and_key(tmp_path, body, message):
    assert message in problems_of(write(tmp_path, body))


def test_every_problem_of_a_plan_at_once(tmp_path):
    msg = problems_of(write(tmp_path, "weights: {commission: 0.5, clv_growth: 0.4}\ncomponents:\n"
                                      "  - {type: comission, rate: 0.03}\n  - {type: commission, rate: 3}\n"
                                      "  - {type: clv_growth, rates: {new: 0.1}, tier_weights: {Z: 1}}\n"))
    for part in ("components[1].type", "components.commission.rate", "weights: must sum to 1, got 0.9",
                 "components.clv_growth.tier_weights: unknown tier 'Z'"):
        assert part in msg
    assert msg.count(str(tmp_path)) == 1


def test_tier_labels_come_from_the_settings(tmp_path):
    f = write(tmp_path, "components:\n  - {type: retention, amounts: {Gold: 100}}\n")
    assert "unknown tier 'Gold'" in problems_of(f)
    assert load_plan(f, tier_labels=("Gold", "Silver")).components[0].amounts == {"Gold": 100}


def test_all_plan_files_are_checked_together(tmp_path):
    write(tmp_path, "components:\n  - {type: commission, rate: 0.03}\n", "good")
    a = write(tmp_path, "components:\n  - {type: commission, rate: 30}\n", "bad_a")
    b = write(tmp_path, "components:\n  - {type: team_pol}\n", "bad_b")
    with pytest.raises(ParamsError) as e:
        load_plans(tmp_path, current="today")
    msg = str(e.value)
    assert "\n" not in msg and str(a) in msg and str(b) in msg and "did you mean team_pool?" in msg
    assert "pay.current_plan: no plan file today.yaml" in msg
    with pytest.raises(ParamsError, match="no plan files"):
        load_plans(tmp_path / "missing")


def quota_plan(tmp_path):
    return load_plan(write(tmp_path, "components:\n  - type: commission\n    rate: 0.03\n"
                                     "    accelerators: {steps: [{attainment: 0, multiplier: 1}, "
                                     "{attainment: 1.2, multiplier: 1.5}]}\n", "quota"))


def test_quota_table_missing_a_rep_stops_before_anything_is_computed(tmp_path):
    plan = quota_plan(tmp_path)
    reps = reps_table(("R1", "T", "sales", "2020-01-01", None), ("R2", "T", "sales", "2026-02-10", None),
                      ("S1", "T", "service", "2020-01-01", None))
    o = orders_table({"order_id": "I1", "rep_id": "R1", "order_date": "2026-01-05", "paid_date": "2026-01-20",
                      "amount": 100})
    months = ["2026-01", "2026-02", "2026-03"]
    quotas = pd.DataFrame({"rep_id": ["R1"] * 3 + ["R2"], "month": months + ["2026-02"], "quota": [1000.0] * 4})
    with pytest.raises(ParamsError) as e:
        check_plan(plan, inputs(o, reps, months, quotas=quotas))
    msg = str(e.value)
    assert msg.startswith(str(tmp_path / "quota.yaml")) and "\n" not in msg
    assert "components.commission.accelerators: the quota table has no positive quota for R2 (2026-03)" in msg
    assert "S1" not in msg and "R1" not in msg                 # service staff are not on commission
    with pytest.raises(ParamsError, match="needs the quota table"):
        check_plan(plan, inputs(o, reps, months))
    full = pd.concat([quotas, pd.DataFrame({"rep_id": ["R2"], "month": ["2026-03"], "quota": [5.0]})])
    check_plan(plan, inputs(o, reps, months, quotas=full))       # R2 in January is not employed: no quota needed


def test_a_component_without_its_table_stops_the_run(tmp_path):
    plan = load_plan(write(tmp_path, "weights: {clv_growth: 0.5, team_pool: 0.5}\ncomponents:\n"
                                     "  - {type: clv_growth, rates: {new: 0.1}, basis: lower}\n"
                                     "  - {type: team_pool, share: 0.1, of: clv_growth}\n"))
    reps = reps_table(("R1", "T", "sales", "2020-01-01", None))
    o = orders_table({"order_id": "I1", "rep_id": "R1", "order_date": "2026-01-05", "amount": 100})
    with pytest.raises(ParamsError) as e:
        check_plan(plan, inputs(o, reps, ["2026-01"]))
    for part in ("components.clv_growth: needs the bridge_low table", "components.team_pool: needs the "
                 "team_figures table", "components.team_pool: needs the collaboration table"):
        assert part in str(e.value)


def test_describe_lists_every_key_of_every_component():
    keys = {r[0] for r in describe_plans()}
    for kind, model in COMPONENT_MODELS.items():
        for name in model.model_fields:
            if name != "type":
                assert any(k.startswith(f"components[{kind}].{name}") for k in keys), (kind, name)
    for name in Plan.model_fields:
        assert any(k == name or k.startswith(name + ".") for k in keys), name
    assert all(meaning for key, _t, _d, meaning in describe_plans()), "every key says what it means"


def test_plans_command_lists_the_language_and_checks_the_files(capsys, tmp_path):
    assert main(["plans"]) == 0
    out = capsys.readouterr().out
    assert "components[commission] (type: commission)" in out and "tiering" in out and "carry" in out
    assert main(["plans", "--check"]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok") == len(SHIPPED) and "today's plan: the baseline" in out
    bad = write(tmp_path, "components:\n  - {type: commission, rate: 3}\n")
    assert main(["plans", "--check", "--file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "components.commission.rate" in err


def test_the_settings_mechanism_is_shared(tmp_path):
    """params and plans read through clvlib.settings: a YAML error reads the same in both."""
    f = tmp_path / "p.yaml"
    f.write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"not valid YAML at line 2"):
        load_plan(f)
    with pytest.raises(ParamsError, match="file not found"):
        settings.load_model(tmp_path / "none.yaml", Plan)
    raw = yaml.safe_load((PLANS / "commission_revenue.yaml").read_text(encoding="utf-8"))
    assert settings.validate(raw, Plan).components[0].rate == 0.03


def test_the_readme_example_plan_is_valid(tmp_path):
    readme = (PARAMS_DIR.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Pay plans"):]
    example = section[section.index("```yaml\n") + 8:section.index("```", section.index("```yaml\n") + 8)]
    f = tmp_path / "readme_example.yaml"
    f.write_text(example, encoding="utf-8")
    plan = load_plan(f)
    assert [c.rate for c in plan.components] == [0.03, 0.035] and plan.components[1].holdback.months == 3
