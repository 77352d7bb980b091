"""Notebook hygiene: committed without outputs, a tagged parameters cell, narrative in both languages."""
from __future__ import annotations

import ast

import nbformat
import pytest

from clvlib.paths import NOTEBOOKS_DIR
from clvlib.report.i18n import catalog
from clvlib.run import notebooks, section_of

NOTEBOOKS = notebooks(NOTEBOOKS_DIR)
EXPECTED_PARAMETERS = {"period", "as_of", "params_path", "out_dir"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = {t.id for node in ast.parse(tagged[0].source).body if isinstance(node, ast.Assign) for t in node.targets}
    assert names == EXPECTED_PARAMETERS
    assert 'period = "' in tagged[0].source          # a string, so Papermill's injection keeps the type


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_narrative_in_both_languages(path):
    nb = nbformat.read(path, as_version=4)
    md = [c for c in nb.cells if c.cell_type == "markdown"]
    tags = [set(c.metadata.get("tags", [])) & {"lang-en", "lang-zh"} for c in md]
    assert all(len(t) == 1 for t in tags), f"{path.name}: every markdown cell needs lang-en or lang-zh"
    en = [c for c, t in zip(md, tags) if t == {"lang-en"}]
    zh = [c for c, t in zip(md, tags) if t == {"lang-zh"}]
    assert len(en) == len(zh)
    for e, z in zip(en, zh):                                # same structure: the same headings
        assert e.source.count("#") == z.source.count("#")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_stay_short(path):
    """Notebooks narrate; logic lives in clvlib."""
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            assert len(c.source.splitlines()) <= 20, f"{path.name}: a code cell over 20 lines belongs in clvlib"
            assert "def " not in c.source and "class " not in c.source


def test_every_section_has_a_title():
    for lang in ("en", "zh"):
        cat = catalog(lang)
        for nb in NOTEBOOKS:
            assert f"section.{section_of(nb)}" in cat


def test_catalogues_have_the_same_keys():
    assert set(catalog("en")) == set(catalog("zh"))


def test_a_key_given_twice_in_a_catalogue_is_an_error(tmp_path):
    """YAML keeps the last of two equal keys silently; the catalogues refuse them."""
    import pytest as _pytest

    from clvlib.errors import ClvError
    from clvlib.report.i18n import _read

    f = tmp_path / "x.yaml"
    f.write_text("col:\n  a: A\nother:\n  b: B\ncol:\n  c: C\n", encoding="utf-8")
    with _pytest.raises(ClvError, match="'col' is given twice"):
        _read(f)
