"""Run one training at a time beside the GUI; talk to it only through queued signals.

Two sessions share one interface:

- :class:`ProcessTrainingSession` trains in a process of its own (the
  dashboard's sessions): the window's painting and the trainer never share a
  GIL, so training runs as fast as it does headless. The data set crosses
  once through shared memory; pictures come back as plain data.
- :class:`TrainingSession` trains in a QThread of this process (short jobs
  on a network the GUI already holds, such as fine-tuning on a user's digits).

The worker owns the network while it trains: the GUI never reads it then.
What the GUI needs (curves, gradient norms, histograms, a decision boundary,
a prediction) is computed beside the trainer between batches by a snapshot
function and sent as plain data, throttled to ``max_rate_hz``
(:class:`playground.engine.train.remote.Relay`).

Signals (payloads are dicts of plain data; receivers with a context in the
GUI thread get them queued):

- ``began(logs)``            once, with epochs, batches, samples
- ``progress(snapshot)``     at most ``max_rate_hz`` times a second, every batch since the previous one
- ``epoch_done(logs)``       per epoch (val_loss, val_accuracy, seconds, ...)
- ``warning(message)``
- ``ended(result)``          {"status": finished|cancelled|diverged|error, "message": ...}

``idle`` is True once the worker really is paused between batches, with
everything it trained reported; ``steps_done`` is then the number of batches trained.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal

from playground.engine.train import remote
from playground.engine.nn.network import Network
from playground.engine.train.trainer import TrainConfig, TrainControl, Trainer

_SIGNALS = {"began": "began", "progress": "progress", "epoch": "epoch_done", "warning": "warning",
            "ended": "ended"}


class Inbox:
    """A thread-safe mailbox: a worker's thread puts, the GUI thread takes everything at its own pace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[Any, str, Any]] = []

    def put(self, source: Any, kind: str, payload: Any) -> None:
        with self._lock:
            self._items.append((source, kind, payload))

    def take(self) -> list[tuple[Any, str, Any]]:
        with self._lock:
            items, self._items = self._items, []
        return items


class _Session(QObject):
    """The signals both sessions emit (see the module's docstring)."""

    began = Signal(object)
    progress = Signal(object)
    epoch_done = Signal(object)
    warning = Signal(str)
    ended = Signal(object)

    def _emit(self, kind: str, payload: Any) -> None:
        try:
            getattr(self, _SIGNALS[kind]).emit(payload)
        except RuntimeError:  # the session was deleted (its window closed): nobody left to tell
            pass


class _Thread(QThread):
    def __init__(self, session: "TrainingSession"):
        super().__init__()
        self.session = session

    def run(self):
        trainer = self.session.trainer

        def train() -> dict:
            trainer.run()
            return dict(trainer.status)

        self.session._emit("ended", remote.run_reporting_errors(train))


class TrainingSession(_Session):
    """One training run of ``net`` on ``data`` in a worker thread of this process."""

    def __init__(self, net: Network, data: Any, config: TrainConfig | dict, parent: QObject | None = None,
                 snapshot_fn: Callable[[Network], Any] | None = None, max_rate_hz: float = 20.0,
                 start_paused: bool = False):
        super().__init__(parent)
        self.net = net
        self.control = TrainControl()
        if start_paused:
            self.control.pause()
        self.relay = remote.Relay(self._emit, net, self.control, snapshot_fn, max_rate_hz)
        self.trainer = Trainer(net, data, config, control=self.control, callbacks=[self.relay])
        self._thread = _Thread(self)

    # -- control (GUI thread) --------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def step(self, n: int = 1) -> None:
        """Run ``n`` batches, then stay paused (starts the thread if needed)."""
        self.control.step(n)
        if not self._thread.isRunning() and not self._thread.isFinished():
            self._thread.start()

    def stop(self) -> None:
        """Ask the worker to stop after the current batch."""
        self.control.cancel()

    def set_optimizer(self, settings: dict[str, float]) -> None:
        """Optimizer settings (``lr``, ``momentum``, ...) the trainer applies from its next batch."""
        self.control.set_optimizer(settings)

    def is_running(self) -> bool:
        return self._thread.isRunning()

    @property
    def paused(self) -> bool:
        return self.control.paused

    @property
    def cancelled(self) -> bool:
        return self.control.cancelled

    @property
    def idle(self) -> bool:
        return self.control.blocked

    @property
    def steps_done(self) -> int:
        return self.trainer.step

    def wait(self, ms: int = 5000) -> bool:
        """Block until the worker has ended (for closing the window)."""
        return self._thread.wait(ms)

    def shutdown(self, ms: int = 5000) -> bool:
        self.stop()
        return self.wait(ms)


class ProcessTrainingSession(_Session):
    """One training run of a copy of ``net`` on ``data`` in a worker process.

    ``snapshot`` is ``(factory, kwargs)``: the worker calls
    ``factory(data, context, **kwargs)`` to make its snapshot function, where
    ``context()`` returns (latest batch logs, paused, cancelled); the factory
    must be importable without Qt. ``shared`` is a reference to the data set
    already in shared memory, which the session takes over and releases when it
    ends; without it the session shares ``data`` itself. When the run has ended, ``net``
    holds the trained weights.
    """

    def __init__(self, net: Network, data: Any, config: TrainConfig | dict, parent: QObject | None = None,
                 snapshot: tuple[Callable, dict] | None = None, max_rate_hz: float = 20.0,
                 start_paused: bool = False, shared: remote.SharedDataset | None = None):
        super().__init__(parent)
        self.net = net
        config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        config.validate()
        self._shared = shared if shared is not None else remote.SharedDataset(data)
        self._job = remote.make_job(net, self._shared.descriptor, config, snapshot, max_rate_hz)
        self._lock = threading.Lock()
        self._job_sent = False
        self._pending: list[Any] = ["pause"] if start_paused else []  # commands waiting for the job
        self._paused = start_paused
        self._cancelled = False
        self._seq = 0
        self._idle = (-1, 0)  # (seq, step) of the worker's latest "idle" report
        self._steps_done = 0
        self._conn = None
        self._process = None
        self._reader: threading.Thread | None = None
        self._ended = False

    # -- control (GUI thread) --------------------------------------------------
    def start(self) -> None:
        if self._reader is not None:
            return
        error = None
        try:
            self._process, self._conn = remote.spawn_worker()
        except (OSError, RuntimeError) as e:
            error = f"the training process could not be started: {e}"
        # the reader thread sends the job: the write waits until the new process reads it (0.1 s)
        self._reader = threading.Thread(target=self._read, args=(error,), name="playground-reader", daemon=True)
        self._reader.start()

    def _command(self, command: Any) -> None:
        with self._lock:
            self._seq += 1
            if not self._job_sent:  # the reader thread sends it after the job
                self._pending.append(command)
                return
            seq = self._seq
        self._send((command, seq))

    def _send(self, message: Any) -> bool:
        try:
            self._conn.send(message)
            return True
        except (OSError, ValueError):  # the worker has ended (its last message is on the way)
            return False

    def pause(self) -> None:
        self._paused = True
        self._command("pause")

    def resume(self) -> None:
        self._paused = False
        self._command("resume")

    def step(self, n: int = 1) -> None:
        """Run ``n`` batches, then stay paused (starts the worker if needed)."""
        self._paused = True
        self._command(("step", int(n)))
        if self._reader is None:
            self.start()

    def stop(self) -> None:
        """Ask the worker to stop after the current batch."""
        self._cancelled = True
        self._command("stop")

    def set_optimizer(self, settings: dict[str, float]) -> None:
        """Optimizer settings (``lr``, ``momentum``, ...) the trainer applies from its next batch."""
        self._command(("optimizer", {str(k): float(v) for k, v in settings.items()}))

    def is_running(self) -> bool:
        return self._reader is not None and not self._ended

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def idle(self) -> bool:
        return self._paused and self._idle[0] == self._seq

    @property
    def steps_done(self) -> int:
        return self._steps_done

    def wait(self, ms: int = 5000) -> bool:
        """Block until the worker has ended and its last message was handed on."""
        if self._reader is None:
            return True
        self._reader.join(ms / 1000)
        return not self._reader.is_alive()

    def shutdown(self, ms: int = 5000) -> bool:
        """Stop; if the worker has not ended within ``ms``, end its process."""
        self.stop()
        if self._reader is None:  # never started
            self._release()
            return True
        if self.wait(ms):
            return True
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
        return self.wait(2000)

    def _release(self) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            shared.release()

    # -- the reader thread -----------------------------------------------------
    def _send_job(self) -> str | None:
        """Send the job with the commands given so far, then any given meanwhile, in order."""
        with self._lock:
            job = dict(self._job, commands=tuple(self._pending), seq=self._seq)
            self._job, self._pending = None, []
        if not self._send(job):
            return "the training process ended before it took its job"
        while True:
            with self._lock:
                late, self._pending = self._pending, []
                if not late:
                    self._job_sent = True
                    return None
                seq = self._seq - len(late)
            for i, command in enumerate(late, 1):
                self._send((command, seq + i))

    def _read(self, error: str | None) -> None:
        try:
            result = {"status": "error", "message": error} if error else self._follow()
        except Exception as e:  # a bug or a garbled message: end the run with a message, never hang
            result = {"status": "error", "message": f"the window could not follow the training process "
                      f"({type(e).__name__}: {e}); train again"}
        finally:
            if self._conn is not None:
                self._conn.close()
            if self._process is not None:
                if self._process.is_alive() and self._process.exitcode is None:
                    self._process.join(2.0)
                if self._process.is_alive():
                    self._process.terminate()
            self._release()
            self._ended = True
        self._emit("ended", result)

    def _follow(self) -> dict:
        """Send the job, then hand on the worker's messages until it ends; return its result."""
        error = self._send_job()
        if error:
            return {"status": "error", "message": error}
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                code = self._process.exitcode
                if code is None:
                    self._process.join(1.0)
                    code = self._process.exitcode
                if self._cancelled:
                    return {"status": "cancelled", "message": "stopped by request"}
                return {"status": "error", "message": f"the training process ended unexpectedly "
                        f"(exit code {code}); train again, and if it happens again, with a smaller network"}
            kind = message[0]
            if kind == "ended":
                result, weights = message[1], message[2]
                if weights is not None:
                    self.net.set_weights(weights)
                return result
            if kind == "idle":
                self._steps_done = message[1]
                self._idle = (message[2], message[1])
                continue
            if kind not in _SIGNALS:
                raise ValueError(f"the training process sent a message of kind {kind!r}; expected one of "
                                 "began, progress, epoch, warning, idle or ended")
            payload = message[1]
            if kind == "progress":
                self._steps_done = payload["steps"][-1]
                if "extra" in payload:
                    payload["extra"] = remote.unpack_extra(payload["extra"])
            self._emit(kind, payload)
