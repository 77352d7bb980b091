"""Executed notebook -> self-contained HTML page, with nbconvert and the project's ``clv`` template.

Code, prompts, the parameters cells and the other language's narrative are removed; warnings printed
to stderr are not shown to managers (they stay in the executed notebook, which is the run's log).
The page's own texts (company, period, navigation, footer, title) show hidden characters as markers
(``clvlib.safety.visible_text``) before the template escapes them.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from clvlib.paths import TEMPLATES_DIR
from clvlib.safety import visible_text

CSS = (Path(__file__).parent / "style.css").read_text(encoding="utf-8")
LANG_TAGS = ("lang-en", "lang-zh")


def prepare(nb: nbformat.NotebookNode, lang: str) -> nbformat.NotebookNode:
    """The cells a manager reads: narrative in ``lang`` and outputs, nothing else."""
    nb = copy.deepcopy(nb)
    drop = {"injected-parameters", "parameters", "report-skip"} | {t for t in LANG_TAGS if t != f"lang-{lang}"}
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & drop:
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            if not cell.outputs:
                continue
        cells.append(cell)
    nb.cells = cells
    return nb


def render_html(nb: nbformat.NotebookNode, *, lang: str, title: str, company: str, period_label: str,
                nav: list[dict], footer: str) -> str:
    exporter = HTMLExporter(template_name="clv", extra_template_basedirs=[str(TEMPLATES_DIR)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            anchor_link_text="", language_code=lang)
    page = prepare(nb, lang)
    page.metadata["title"] = visible_text(title)
    nav = [{**item, "label": visible_text(item["label"])} for item in nav]
    resources = {"clv": {"css": CSS, "company": visible_text(company), "period_label": visible_text(period_label),
                         "nav": nav, "footer": visible_text(footer)}}
    body, _ = exporter.from_notebook_node(page, resources=resources)
    return strip_css_comments(body)


def strip_css_comments(html: str) -> str:
    """Drop comments inside <style> blocks: JupyterLab's theme CSS cites web pages there, and a report
    should not name any internet address it does not need."""
    def clean(m):
        return re.sub(r"/\*.*?\*/", "", m.group(0), flags=re.S)
    return re.sub(r"<style[^>]*>.*?</style>", clean, html, flags=re.S | re.I)
