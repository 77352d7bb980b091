"""Helpers for the intake tests (no tests here): a params file pointing at a sources file, summaries."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from clvlib import params as params_mod
from clvlib.paths import PARAMS_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def preset_for(tmp: Path, preset: str, folder: Path | None = None) -> Path:
    """The shipped preset with only its `folder:` line changed (to the fixture folder by default)."""
    text = (PARAMS_DIR / "sources" / f"{preset}.yaml").read_text(encoding="utf-8")
    folder = folder or FIXTURES / preset
    new, n = re.subn(r"(?m)^folder:.*$", f"folder: {yaml.safe_dump(str(folder)).splitlines()[0]}", text)
    assert n == 1, "the preset must have exactly one top-level folder: line"
    out = tmp / f"{preset}.yaml"
    out.write_text(new, encoding="utf-8")
    return out


def company(tmp: Path, sources: Path, **settings) -> params_mod.Params:
    """A company.yaml in ``tmp`` naming ``sources``; ``settings`` such as reporting_currency="EUR" or
    fx={"strict": True}."""
    raw = {"company": "Fixture Co.", "reporting_currency": "USD", "sources": str(sources), "demo": False}
    raw.update(settings)
    path = tmp / "company.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return params_mod.load(path)


def sources_file(tmp: Path, tables: dict, **top) -> Path:
    """A sources YAML written from a dict (folder defaults to ``tmp``)."""
    raw = {"folder": str(tmp), **top, "tables": tables}
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def set_aside(inputs, table: str) -> dict:
    """{(file, row): rule} of one table's quarantine."""
    q = inputs.quarantine
    q = q[q["table"] == table]
    return {(f, int(r)): rule for f, r, rule in zip(q["source_file"], q["source_row"], q["rule"])}


def reasons(inputs, table: str) -> dict:
    q = inputs.quarantine
    q = q[q["table"] == table]
    return {(f, int(r)): why for f, r, why in zip(q["source_file"], q["source_row"], q["reason"])}


def assert_accounted(inputs):
    for name, c in inputs.counts.items():
        assert c["rows_read"] == c["rows_accepted"] + c["rows_quarantined"], name
        assert c["rows_accepted"] == len(inputs.tables[name]), name
