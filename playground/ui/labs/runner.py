"""Run one lab in a worker process and hear from it through a pipe, never on the window's thread.

The child is started with the ``spawn`` context (the window runs Qt's threads, which a forked child would
inherit half-dead) and runs :func:`playground.engine.lab.registry.run_lab`. It sends ``("progress",
fraction, message)`` at most ten times a second, then one of ``("done", result)``, ``("cancelled",
message)`` or ``("error", message)``. The GUI side reads the pipe when a :class:`QSocketNotifier` says it
is readable, so no thread of ours waits on it. Stop sets a ``multiprocessing.Event`` the lab asks
between batches; a child that has not ended a few seconds later (still loading MNIST, say) is
terminated.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

#: seconds between two progress messages from the child
PROGRESS_INTERVAL = 0.1
#: milliseconds a stopped child has to end by itself before it is terminated
STOP_GRACE_MS = 3000


def serve(conn, name: str, settings: dict, quick: bool, seed: int, data_dir: str | None, cancel) -> None:
    """The child process: run lab ``name`` and send its progress and its end through ``conn``."""
    from playground.engine.errors import PlaygroundError
    from playground.engine.lab.common import LabCancelled
    from playground.engine.lab.registry import run_lab

    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL or fraction >= 1.0:
            last[0] = now
            conn.send(("progress", float(fraction), str(message)))

    try:
        result = run_lab(name, settings, quick=quick, seed=seed, progress=progress, cancel=cancel.is_set,
                         data_dir=data_dir)
        conn.send(("done", result))
    except LabCancelled as exc:
        conn.send(("cancelled", str(exc)))
    except (PlaygroundError, ValueError, TypeError, OSError, MemoryError) as exc:
        conn.send(("error", str(exc)))
    finally:
        conn.close()


class LabRunner(QObject):
    """One lab run at a time in a worker process.

    Signals: ``progress(fraction, message)``, ``finished(result)``, ``failed(message)`` (the lab's own
    words: a bad setting, a missing MNIST folder), ``cancelled()``; exactly one of the last three ends a run.
    """

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process = None
        self._conn = None
        self._notifier: QSocketNotifier | None = None
        self._cancel = None
        self._stopping = False
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill)

    @property
    def running(self) -> bool:
        return self._conn is not None

    def start(self, name: str, settings: dict[str, Any], quick: bool, seed: int, data_dir: str | None) -> None:
        if self.running:
            raise RuntimeError("a lab is already running; stop it first")
        ctx = multiprocessing.get_context("spawn")
        conn, child = ctx.Pipe(duplex=False)
        self._cancel = ctx.Event()
        self.process = ctx.Process(target=serve, args=(child, name, settings, quick, seed, data_dir, self._cancel),
                                   name=f"playground-lab-{name}", daemon=True)
        try:
            self.process.start()
        finally:
            child.close()
        self._conn = conn
        self._stopping = False
        self._notifier = QSocketNotifier(conn.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._readable)

    def stop(self) -> None:
        """Ask the lab to stop; terminate its process if it has not ended within :data:`STOP_GRACE_MS`."""
        if not self.running or self._stopping:
            return
        self._stopping = True
        self._cancel.set()
        self._kill_timer.start(STOP_GRACE_MS)

    def shutdown(self) -> None:
        """End a run at once (the window closes): terminate the process and wait for it."""
        if self.running:
            self._cancel.set()
            self.process.terminate()
            self._end()

    def _readable(self, *_args) -> None:
        while self._conn is not None and self._conn.poll():
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                process = self.process
                self._end()
                if self._stopping:
                    self.cancelled.emit()
                else:
                    self.failed.emit(f"the lab's process ended without an answer (exit code {process.exitcode}); "
                                     f"run it headless with 'playground lab {process.name[15:]}' to see why")
                return
            kind = message[0]
            if kind == "progress":
                self.progress.emit(message[1], message[2])
                continue
            self._end()
            if kind == "done":
                self.finished.emit(message[1])
            elif kind == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(message[1])
            return

    def _kill(self) -> None:
        if self.running:
            self.process.terminate()
            self._end()
            self.cancelled.emit()

    def _end(self) -> None:
        self._kill_timer.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.process is not None:
            self.process.join(2.0)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
