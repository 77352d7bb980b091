"""Kernels kept for a whole run: each notebook worker starts one Python kernel and executes its
notebooks in it one after the other, through Papermill, with the kernel's namespace cleared between
notebooks (``%reset -f``).

Why: starting a kernel and importing pandas, altair, scipy and clvlib costs a few seconds per notebook
— most of a monthly run's time on a 2-core machine. A notebook still runs as if alone: its variables
are gone before the next one starts, and nothing a notebook computes is handed to another except
through the stages' files in ``data/``. Modules stay imported (that is the saving); the stages'
source cannot change during a run.

A worker's kernel lives in that worker's thread (the kernel manager is bound to the thread's event
loop); when a notebook kills it, the next notebook gets a new one. :func:`shutdown` stops them all.
"""
from __future__ import annotations

import threading

_LOCAL = threading.local()
_ALL: list = []
_ALL_LOCK = threading.Lock()
ENGINE = "clvlib-kept-kernel"
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]
RESET = "get_ipython().run_line_magic('reset', '-f')"


def _client_class():
    from papermill.clientwrap import PapermillNotebookClient

    class KeptKernelClient(PapermillNotebookClient):
        """Papermill's client on a kernel it does not own: the namespace is cleared first, the
        channels closed after, the kernel left running."""

        def papermill_execute_cells(self):
            self.wait_for_reply(self.kc.execute(RESET, silent=True, store_history=False))
            super().papermill_execute_cells()

    return KeptKernelClient


def _engine_class():
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class KeptKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            from papermill.log import logger

            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log=logger, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = _client_class()(nb_man, km=kernel(final.get("cwd")), **final)
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    return KeptKernelEngine


def register() -> str:
    """Register the engine with Papermill (once); returns its name for ``engine_name=``."""
    from papermill.engines import papermill_engines

    if ENGINE not in papermill_engines._engines:
        papermill_engines.register(ENGINE, _engine_class())
    return ENGINE


def kernel(cwd=None):
    """This thread's kernel manager, started (again, if its kernel died) in ``cwd``."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    km = getattr(_LOCAL, "km", None)
    if km is not None and run_sync(km.is_alive)():
        return km
    if km is not None:
        run_sync(km.cleanup_resources)()
    km = AsyncKernelManager(kernel_name="python3")
    run_sync(km.start_kernel)(extra_arguments=KERNEL_ARGS, cwd=str(cwd) if cwd else None)
    _LOCAL.km = km
    with _ALL_LOCK:
        _ALL.append(km)
    return km


def shutdown_here() -> None:
    """Stop this thread's kernel (call it in the thread that started it)."""
    from jupyter_core.utils import run_sync

    km = getattr(_LOCAL, "km", None)
    _LOCAL.km = None
    if km is not None:
        try:
            run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - a kernel already gone
            pass
        with _ALL_LOCK:
            if km in _ALL:
                _ALL.remove(km)
