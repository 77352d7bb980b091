"""The project's documents name no path of one machine: they must read the same in every checkout."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ABSOLUTE = re.compile(r"(?<![\w.~-])/(?:work|home|root|tmp|Users|opt|srv|mnt|var)/[\w.+-]+")


@pytest.mark.parametrize("doc", ["README.md", "bench/README.md", "reports/README.md", "docs/data-contract.md"])
def test_documents_name_no_absolute_path(doc):
    path = ROOT / doc
    if not path.exists():
        pytest.skip(f"{doc} is not in this checkout")
    found = ABSOLUTE.findall(path.read_text(encoding="utf-8"))
    assert not found, f"{doc} names absolute paths: {found}"
