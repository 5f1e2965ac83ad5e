"""The Search lab's worker: drives the engine's searches on a thread of their own and reports by queued signals.

:class:`SearchWorker` lives on a :class:`QThread` and never touches a widget.
It runs one search, or two in turn (random, then TPE, with the same budget
and seed), and emits each finished trial's record as it comes; the lab's
widget receives them through queued connections to its own methods.
:meth:`SearchWorker.stop` may be called from the GUI thread: the running
search ends soon, keeping its finished trials, and no further one starts.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from playground.engine.errors import PlaygroundError


class SearchWorker(QObject):
    """Runs the engine's ``Search`` objects in turn (one per sampler); each loads its data set and starts its
    workers on this worker's thread, where the waiting does not hold up the window."""

    #: one finished trial's record (a dict, with its "sampler")
    record = Signal(object)
    #: a search started: its sampler's name
    started = Signal(str)
    #: a search could not start or go on: the message, one line
    failed = Signal(str)
    #: everything ended (finished, stopped or failed): whether Stop was asked for
    done = Signal(bool)

    def __init__(self, searches: list[Any]):
        super().__init__()
        self._searches = list(searches)
        self._lock = threading.Lock()
        self._search: Any = None
        self._stopped = False

    @Slot()
    def run(self) -> None:
        try:
            for search in self._searches:
                with self._lock:
                    if self._stopped:
                        break
                    self._search = search
                self.started.emit(search.sampler)
                for rec in search:
                    self.record.emit(rec)
        except PlaygroundError as e:
            self.failed.emit(" ".join(str(e).split()))
        except Exception as e:  # noqa: BLE001 - the lab says what went wrong instead of losing the thread
            self.failed.emit(f"the search stopped: {type(e).__name__}: {' '.join(str(e).split())}")
        finally:
            with self._lock:
                self._search = None
            self.done.emit(self._stopped)

    def stop(self) -> None:
        """End the running search soon (its finished trials are kept) and start no other (any thread)."""
        with self._lock:
            self._stopped = True
            search = self._search
        if search is not None:
            search.stop()
