"""What a stage is, the registry of stages, and the fingerprint that decides when a stage's files
can be reused.

A **stage** is one step of the monthly computation whose result is kept as files in
``<out_dir>/data/`` — the contract between notebooks and the machine-readable output of a run. It is
declared once (:class:`Stage`): its name, the stages it reads (``needs``), the settings it depends
on (``params``: dotted keys of ``params/company.yaml``, each standing for its whole subtree), and three
functions — ``build(wb)`` computes the result from the workbook context, ``save(result, data_dir)``
writes its files, ``load(data_dir)`` reads them back.

A stage's **fingerprint** is the sha256 of

* its name and the as-of date,
* the values of its ``params`` keys,
* the fingerprints of the stages it needs (so a change upstream invalidates everything downstream),
* the source of the clvlib package (so an edited clvlib never reuses stale Parquet), and
* for stages that read files of their own (``stamp``: the intake's input files and sources file,
  the pay stage's plan files), what ``stamp(params)`` says of them (sizes and times, or contents).

``data/_stages.json`` records the fingerprint each stage's files were made with; a stage whose
recorded fingerprint equals the current one is loaded, any other is built and saved.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from clvlib.paths import PACKAGE_DIR

STAGES_FILE = "_stages.json"


@dataclass(frozen=True)
class Stage:
    """A declared step of the workbook (see the module docstring).

    Parameters
    ----------
    name : str
        The stage's name, used by ``Workbook.stage(name)``.
    build : callable
        ``build(wb) -> result``: computes the result; ``wb`` is the :class:`clvlib.workbook.Workbook`
        (settings, as-of date, and ``wb.stage(...)`` for upstream results).
    save : callable
        ``save(result, data_dir)``: writes the result's files.
    load : callable
        ``load(data_dir) -> result``: reads them back (an equivalent result).
    needs : tuple of str, default=()
        Upstream stages.
    params : tuple of str, default=()
        Dotted settings keys the result depends on (``"clv"``, ``"customers.lost_after_days"``).
    stamp : callable, optional
        ``stamp(params) -> JSON-able``: what the stage's own files are (input files' sizes and times,
        plan files' contents); it enters the fingerprint.
    files : tuple of str, default=()
        The main files the stage writes in ``data/`` (for documentation and tests).
    doc : str, default=""
        One line on what the stage computes.
    """

    name: str
    build: Callable[[Any], Any]
    save: Callable[[Any, Path], None]
    load: Callable[[Path], Any]
    needs: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    stamp: Callable[[Any], Any] | None = None
    files: tuple[str, ...] = ()
    doc: str = ""


REGISTRY: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    """Add ``stage`` to the registry (its ``needs`` must be registered already: no cycles)."""
    missing = [n for n in stage.needs if n not in REGISTRY]
    if missing:
        raise ValueError(f"stage {stage.name!r} needs unknown stage(s) {missing}; register them first")
    REGISTRY[stage.name] = stage
    return stage


def get(name: str) -> Stage:
    """The stage called ``name``."""
    from clvlib.errors import ParamsError

    try:
        return REGISTRY[name]
    except KeyError:
        raise ParamsError(f"unknown stage {name!r}; the workbook has: {', '.join(REGISTRY)}") from None


def order(names=None) -> list[str]:
    """Stage names in dependency order (upstream first), limited to ``names`` and what they need."""
    out: list[str] = []

    def visit(n):
        if n in out:
            return
        for u in get(n).needs:
            visit(u)
        out.append(n)

    for n in (names if names is not None else REGISTRY):
        visit(n)
    return out


_SOURCE_HASH: str | None = None


def source_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """sha256 over every ``.py`` file of the clvlib package (relative path and content)."""
    global _SOURCE_HASH
    if _SOURCE_HASH is not None and package_dir == PACKAGE_DIR:
        return _SOURCE_HASH
    h = hashlib.sha256()
    for f in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in f.parts:
            continue
        h.update(str(f.relative_to(package_dir)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    digest = h.hexdigest()
    if package_dir == PACKAGE_DIR:
        _SOURCE_HASH = digest
    return digest


def params_subtree(params, key: str):
    """The value of a dotted settings key (a subtree or a leaf)."""
    node = params
    for part in key.split("."):
        node = node[part]
    return node


def fingerprint(stage: Stage, params, as_of, upstream: dict[str, str], stamp=None,
                source: str | None = None) -> str:
    """The stage's fingerprint (see the module docstring)."""
    doc = {"stage": stage.name, "as_of": str(as_of),
           "params": {k: params_subtree(params, k) for k in stage.params},
           "upstream": {n: upstream[n] for n in stage.needs},
           "clvlib": source or source_hash()}
    if stage.stamp is not None:
        doc["files"] = stamp
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def recorded(data_dir: Path) -> dict:
    """The fingerprints recorded in ``data/_stages.json`` (empty when absent or unreadable)."""
    p = Path(data_dir) / STAGES_FILE
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return {}


def record(data_dir: Path, name: str, fp: str) -> None:
    """Record that stage ``name``'s files in ``data_dir`` were made with fingerprint ``fp``."""
    st = recorded(data_dir)
    st[name] = fp
    p = Path(data_dir) / STAGES_FILE
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(st, indent=1, sort_keys=True))
    tmp.replace(p)


def forget(data_dir: Path, name: str) -> None:
    """Drop stage ``name``'s record (before rebuilding it, so a crash mid-save never looks fresh)."""
    st = recorded(data_dir)
    if st.pop(name, None) is not None:
        (Path(data_dir) / STAGES_FILE).write_text(json.dumps(st, indent=1, sort_keys=True))
