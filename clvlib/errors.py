"""One exception base class for the package, narrow subclasses with structured fields.

Every error a user can cause reads as one line: what is wrong, where (file, row, column) and what to
do. The command line prints ``str(error)`` and exits non-zero; it never shows a traceback for these.

The taxonomy: one kind of problem raises one type, wherever it is found.

=================  ======================================================================  =========
class              the kind of problem                                                     ``clvlib``
                                                                                           exit code
=================  ======================================================================  =========
``ParamsError``    a setting or an argument has an invalid value or type: a key of a       2
                   settings file (``params/``, a sources file), a command-line option
                   (``--period 2026-13``), a function argument (``time_unit="M"``,
                   ``horizon_months=0``, ``t=-1``) or a model hyperparameter
                   (``penalizer=-1``); also a function given something that is not a table
                   where it needs one
``DataError``      the data cannot be used: a missing file, sheet or column, an unreadable  2
                   file, a table without rows, values of the wrong kind or missing in a
                   table handed to a function (``rfm_summary``'s transactions, a model's
                   summary, ``groups``), no booked order to report on. Row-level problems in
                   the inputs are not errors: those rows are quarantined with a reason
``ModelError``     valid data that a model cannot be fitted to or answer on: no repeat     2 [#]_
                   purchases, no convergence, no parameter covariance, too young to
                   estimate churn. ``NotFittedError`` (a model used before ``fit``) is a
                   ``ModelError`` and an ``AttributeError``
``RunError``       a workbook run failed: a notebook raised, the kernel died, a template   1
                   could not be rendered, publishing did not complete.
                   ``RunLockedError``: another run of the same period holds its lock       75
=================  ======================================================================  =========

.. [#] The workbook catches it: the customer-value page falls back to the simple formula and says why.

``ParamsError``, ``DataError`` and ``ModelError`` are about bad values, so they are also
``ValueError`` (as scikit-learn's errors are): code written for the standard library's conventions
catches them. ``Interrupted`` (SIGINT or SIGTERM during a run) is a ``KeyboardInterrupt``, not a
``ClvError``: exit 130 or 143. Warnings derive from ``ClvWarning``.
"""
from __future__ import annotations

import signal


class ClvError(Exception):
    """Base class of every error clvlib raises on purpose."""


class ParamsError(ClvError, ValueError):
    """A setting or argument is invalid: a key of a settings file, a command-line option, a function
    argument or a model hyperparameter.

    Attributes: ``file`` (path of the settings file, or None), ``key`` (dotted path of the setting, or None).
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


class DataError(ClvError, ValueError):
    """The data cannot be used at all (fatal; row-level problems are quarantined instead).

    Attributes: ``file``, ``row`` (1-based line in the file, header = 1, or None), ``column``.
    """

    def __init__(self, message: str, *, file=None, row: int | None = None, column: str | None = None):
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        parts = [p for p in (self.file, f"row {row}" if row is not None else None,
                             f"column '{column}'" if column else None) if p]
        super().__init__(f"{', '.join(parts)}: {message}" if parts else message)


class ModelError(ClvError, ValueError):
    """A model cannot be fitted to or used on the data given (valid data, but too little of it, no
    convergence, no covariance)."""


class NotFittedError(ModelError, AttributeError):
    """A model was used before ``fit`` (an ``AttributeError`` too, so ``hasattr`` works)."""


class RunError(ClvError):
    """A workbook run failed: a notebook raised, the kernel died, rendering or publishing did not complete.

    Attributes: ``notebook`` (file name), ``cell`` (1-based index of the failing code cell), ``log``
    (path of the executed notebook kept for inspection).
    """

    def __init__(self, message: str, *, notebook: str | None = None, cell: int | None = None, log=None):
        self.notebook = notebook
        self.cell = cell
        self.log = str(log) if log is not None else None
        super().__init__(message)


class RunLockedError(RunError):
    """Another run of the same period holds its lock (``reports/.locks/<period>.lock``).

    Attributes: ``period``, ``pid`` (the other run's process id, or None when it could not be read).
    """

    def __init__(self, message: str, *, period: str, pid: int | None = None):
        self.period = period
        self.pid = pid
        super().__init__(message)


class Interrupted(KeyboardInterrupt):
    """A run was stopped by SIGINT (Ctrl-C) or SIGTERM; ``exit_code`` is 128 + the signal number."""

    def __init__(self, message: str, *, signum: int = signal.SIGINT):
        self.signum = int(signum)
        super().__init__(message)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class ClvWarning(UserWarning):
    """Base class of clvlib's warnings (e.g. a model fell back to a simpler one)."""
