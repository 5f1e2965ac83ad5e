"""Reading the pad in a thread of its own, on the latest drawing only, so strokes never wait for the network.

The GUI thread only records strokes and hands the newest canvas to
:class:`PadReader`. One reading runs at a time; a canvas handed in while one
runs waits in a single slot, and a newer one replaces it (readings are
never queued). :func:`read_canvas` does the work: the MNIST-style
preprocessing, one forward pass, the judgement (sure or not), and on request
the saliency map and the first feature maps. Inference and saliency for one
image run on one BLAS thread: more threads only fight each other, and the
rest of the machine, for a 28 x 28 input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from threadpoolctl import threadpool_limits

from playground.engine.data.digit_judge import Judgement, judge
from playground.engine.data.preprocess import DigitSteps, preprocess_digit_steps
from playground.engine.nn.network import Network
from playground.ui.digits.models import as_input, first_conv_maps, saliency


@dataclass
class Job:
    """A canvas to read (uint8, the pad's), with the network that reads it; ``explain``: saliency and maps too."""

    canvas: np.ndarray | None  # None: the pad is empty
    net: Network | None
    explain: bool
    number: int = 0


@dataclass
class Reading:
    """What :func:`read_canvas` found. ``steps`` is None when the canvas holds no ink, ``probs`` when there is
    no network too; ``grad`` and ``maps`` only for a job that asked to explain."""

    number: int
    net: Network | None
    steps: DigitSteps | None
    x: np.ndarray | None
    probs: np.ndarray | None
    judgement: Judgement | None
    explained: bool
    grad: np.ndarray | None = None
    maps: tuple[str, np.ndarray] | None = None


def read_canvas(job: Job) -> Reading:
    """Preprocess, read, judge and (if asked) explain one canvas. Runs in the reader's thread."""
    steps = None if job.canvas is None else preprocess_digit_steps(job.canvas)
    if steps is None or steps.empty:
        return Reading(job.number, job.net, None, None, None, None, job.explain)
    net = job.net
    if net is None:
        return Reading(job.number, net, steps, None, None, None, job.explain)
    with threadpool_limits(limits=1, user_api="blas"):
        x = as_input(net, steps.final)
        probs = net.predict(x)[0]
        verdict = judge(steps, probs)
        grad = maps = None
        if job.explain:
            grad = saliency(net, x, verdict.digit)
            maps = first_conv_maps(net, x)
    return Reading(job.number, net, steps, x, probs, verdict, job.explain, grad, maps)


class _Worker(QObject):
    done = Signal(object)

    @Slot(object)
    def run(self, job: Job) -> None:
        try:
            reading: Any = read_canvas(job)
        except Exception as e:  # a network that breaks on this input: say so instead of killing the thread
            reading = e
        self.done.emit((job, reading))


class PadReader(QObject):
    """Reads canvases in a worker thread, the latest first: at most one running and one waiting.

    ``read(job)`` returns at once. ``reading(Reading)`` is emitted in the GUI
    thread for every job that ran, in order; ``failed(str)`` when a reading
    raised. ``busy()`` says whether a reading is running.
    """

    reading = Signal(object)
    failed = Signal(str)
    _request = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName("digit-pad-reader")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.run)
        self._worker.done.connect(self._finished)
        self._thread.finished.connect(self._worker.deleteLater)
        self._running: Job | None = None
        self._waiting: Job | None = None
        self._count = 0
        self._thread.start()

    def busy(self) -> bool:
        return self._running is not None

    def read(self, job: Job) -> None:
        """Read ``job`` as soon as the reader is free; it replaces any job still waiting (its ``explain`` kept)."""
        self._count += 1
        job.number = self._count
        if self._running is None:
            self._dispatch(job)
            return
        if self._waiting is not None:
            job.explain = job.explain or self._waiting.explain
        self._waiting = job

    def _dispatch(self, job: Job) -> None:
        self._running = job
        self._request.emit(job)

    @Slot(object)
    def _finished(self, outcome: tuple[Job, Any]) -> None:
        _, reading = outcome
        self._running = None
        waiting, self._waiting = self._waiting, None
        if waiting is not None and self._thread.isRunning():
            self._dispatch(waiting)
        if isinstance(reading, Exception):
            self.failed.emit(f"{type(reading).__name__}: {reading}")
        else:
            self.reading.emit(reading)

    def shutdown(self, ms: int = 5000) -> bool:
        """Let a running reading end and stop the thread; True when it stopped within ``ms``."""
        self._waiting = None
        if not self._thread.isRunning():
            return True
        self._thread.quit()
        return self._thread.wait(ms)
