"""Run one training at a time in a QThread; talk to the GUI only through queued signals.

The worker thread owns the network while it trains: the GUI never reads it
then. What the GUI needs (curves, gradient norms, histograms, a decision
boundary, a prediction) is computed in the worker between batches by
``snapshot_fn`` and sent as plain data, throttled to ``max_rate_hz``.

Signals (all queued to the GUI thread; payloads are dicts of plain data):

- ``began(logs)``            once, with epochs, batches, samples
- ``progress(snapshot)``     at most ``max_rate_hz`` times a second:
  ``{"steps": [...], "loss": [...], "accuracy": [...], "lr": [...],
  "last": {latest batch logs}, "stats": [logs of every batch since the previous
  snapshot that gathered statistics (grad_norm/…, act_…/…, "histograms")],
  "extra": snapshot_fn(net)}`` holding every batch since the previous snapshot
- ``epoch_done(logs)``       per epoch (val_loss, val_accuracy, seconds, ...)
- ``warning(message)``
- ``ended(result)``          {"status": finished|cancelled|diverged|error, "message": ...}
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal

from ..engine.errors import PlaygroundError
from ..engine.model import Network
from ..engine.trainer import TrainConfig, TrainControl, Trainer


class _Relay:
    """Trainer callbacks → throttled signal emissions (runs in the worker thread)."""

    def __init__(self, session: "TrainingSession", net: Network,
                 snapshot_fn: Callable[[Network], Any] | None, max_rate_hz: float):
        self.s = session
        self.net = net
        self.snapshot_fn = snapshot_fn
        self.period = 1.0 / max_rate_hz
        self.last_emit = 0.0
        self._reset()

    def _reset(self):
        self.buf: dict[str, list] = {"steps": [], "loss": [], "accuracy": [], "lr": [], "epoch_pos": [],
                                     "stats": []}
        self.last: dict[str, Any] = {}

    def on_train_begin(self, logs):
        self.s.began.emit(dict(logs))

    def on_batch_end(self, step, logs):
        b = self.buf
        b["steps"].append(step)
        b["loss"].append(logs["loss"])
        b["accuracy"].append(logs.get("accuracy"))
        b["lr"].append(logs["lr"])
        b["epoch_pos"].append(logs["epoch"] - 1 + logs["batch"] / logs["batches"])
        if "histograms" in logs:  # a statistics batch: keep it even when it is not the last one
            b["stats"].append(logs)
        self.last = logs
        now = time.monotonic()
        # flush at the UI's pace, and always when the user is stepping batch by batch
        if now - self.last_emit >= self.period or self.s.control.paused:
            self.flush(now)

    def flush(self, now: float | None = None):
        if not self.buf["steps"]:
            return
        snap = dict(self.buf)
        snap["last"] = self.last
        if self.snapshot_fn is not None:
            snap["extra"] = self.snapshot_fn(self.net)
        self.s.progress.emit(snap)
        self.last_emit = time.monotonic() if now is None else now
        self._reset()

    def on_epoch_end(self, epoch, logs):
        self.flush()
        self.s.epoch_done.emit(dict(logs))

    def on_warning(self, message):
        self.s.warning.emit(message)

    def on_train_end(self, logs):
        self.flush()


class _Thread(QThread):
    def __init__(self, session: "TrainingSession"):
        super().__init__()
        self.session = session

    def run(self):
        s = self.session
        try:
            s.trainer.run()
            result = dict(s.trainer.status)
        except PlaygroundError as e:
            result = {"status": "error", "message": str(e)}
        except Exception as e:  # a bug: report it instead of killing the app
            result = {"status": "error", "message": f"{type(e).__name__}: {e}"}
        s.ended.emit(result)


class TrainingSession(QObject):
    """One training run of ``net`` on ``data`` in a worker thread."""

    began = Signal(object)
    progress = Signal(object)
    epoch_done = Signal(object)
    warning = Signal(str)
    ended = Signal(object)

    def __init__(self, net: Network, data: Any, config: TrainConfig | dict, parent: QObject | None = None,
                 snapshot_fn: Callable[[Network], Any] | None = None, max_rate_hz: float = 20.0,
                 start_paused: bool = False):
        super().__init__(parent)
        self.net = net
        self.control = TrainControl()
        if start_paused:
            self.control.pause()
        self.relay = _Relay(self, net, snapshot_fn, max_rate_hz)
        self.trainer = Trainer(net, data, config, control=self.control, callbacks=[self.relay])
        self._thread = _Thread(self)
        self._lock = threading.Lock()

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

    def is_running(self) -> bool:
        return self._thread.isRunning()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def wait(self, ms: int = 5000) -> bool:
        """Block until the worker has ended (for closing the window)."""
        return self._thread.wait(ms)

    def shutdown(self, ms: int = 5000) -> bool:
        self.stop()
        return self.wait(ms)
