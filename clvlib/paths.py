"""Paths built from the project root, in one place."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The workbook's root folder: $CLV_ROOT, else the checkout this package lives in, else the cwd."""
    env = os.environ.get("CLV_ROOT")
    if env:
        return Path(env).resolve()
    candidate = PACKAGE_DIR.parent
    if (candidate / "params").is_dir() and (candidate / "notebooks").is_dir():
        return candidate
    return Path.cwd().resolve()


ROOT = project_root()
NOTEBOOKS_DIR = ROOT / "notebooks"
PARAMS_DIR = ROOT / "params"
REPORTS_DIR = ROOT / "reports"
DEMO_DATA_DIR = ROOT / "data" / "demo"
DEFAULT_PARAMS = PARAMS_DIR / "company.yaml"
TEMPLATES_DIR = PACKAGE_DIR / "report" / "templates"
