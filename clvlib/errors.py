"""One exception base class for the package, narrow subclasses with structured fields.

Every error a user can cause reads as one line: what is wrong, where (file, row, column) and what to
do. The command line prints ``str(error)`` and exits non-zero; it never shows a traceback for these.
"""
from __future__ import annotations


class ClvError(Exception):
    """Base class of every error clvlib raises on purpose."""


class ParamsError(ClvError):
    """A settings file in ``params/`` is missing, unreadable or invalid.

    Attributes: ``file`` (path), ``key`` (dotted path of the setting, or None).
    """

    def __init__(self, message: str, *, file=None, key: str | None = None):
        self.file = str(file) if file is not None else None
        self.key = key
        where = ""
        if self.file:
            where = f"{self.file}"
            if key:
                where += f": {key}"
            where += ": "
        super().__init__(f"{where}{message}")


class DataError(ClvError):
    """An input table cannot be used at all (fatal; row-level problems are quarantined instead).

    Attributes: ``file``, ``row`` (1-based line in the file, header = 1, or None), ``column``.
    """

    def __init__(self, message: str, *, file=None, row: int | None = None, column: str | None = None):
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        parts = [p for p in (self.file, f"row {row}" if row is not None else None,
                             f"column '{column}'" if column else None) if p]
        super().__init__(f"{', '.join(parts)}: {message}" if parts else message)


class ModelError(ClvError):
    """A model cannot be fitted or used on the data given (invalid input, no convergence)."""


class NotFittedError(ModelError, AttributeError):
    """A model was used before ``fit``."""


class RunError(ClvError):
    """A workbook run failed: a notebook raised, or publishing did not complete.

    Attributes: ``notebook`` (file name), ``cell`` (1-based index of the failing code cell), ``log``
    (path of the executed notebook kept for inspection).
    """

    def __init__(self, message: str, *, notebook: str | None = None, cell: int | None = None, log=None):
        self.notebook = notebook
        self.cell = cell
        self.log = str(log) if log is not None else None
        super().__init__(message)


class ClvWarning(UserWarning):
    """Base class of clvlib's warnings (e.g. a model fell back to a simpler one)."""
