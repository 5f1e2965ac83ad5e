"""Latency of the digit pad: from a mouse move to the probability bars repainted.

    QT_QPA_PLATFORM=offscreen python benchmarks/digit_latency.py [--model FILE] [--moves 300]

Draws strokes on a real DigitPadWidget with mouse events and, for each move,
measures the time from sending the event to the bars' paint event (which
follows the prediction: preprocessing the pad's canvas and one forward pass).
A second pass sends bursts of moves before the event loop runs, as a fast
hand does; readings run in the pad's reader thread on the latest drawing only
(moves that come while one runs are coalesced into the next), and the latency
is counted from the first move of the burst. Prints the median, 95th
percentile and worst, and the widget's own split of the time. The goal is
under 30 ms.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication



class PaintClock(QObject):
    """Notes the time of the watched widget's first paint event after :meth:`arm` (called on a prediction)."""

    def __init__(self):
        super().__init__()
        self.armed = False
        self.painted_at: float | None = None

    def arm(self, *_):
        self.armed = True

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and self.armed and self.painted_at is None:
            self.painted_at = time.perf_counter()
        return False


def stroke_points(n: int, side: float, phase: float) -> list[QPointF]:
    """A looping stroke of ``n`` points inside a pad of ``side`` pixels."""
    c = side / 2
    return [QPointF(c + side * 0.3 * math.sin(2 * math.pi * (i / 60) + phase),
                    c + side * 0.35 * math.sin(4 * math.pi * (i / 60))) for i in range(n)]


def send_move(pad, p: QPointF) -> None:
    ev = QMouseEvent(QEvent.Type.MouseMove, p, pad.mapToGlobal(p), Qt.MouseButton.NoButton,
                     Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(pad, ev)


def wait_for_paint(app, clock: PaintClock, timeout: float = 2.0) -> float:
    end = time.perf_counter() + timeout
    while clock.painted_at is None:
        app.processEvents()
        if time.perf_counter() > end:
            raise RuntimeError("the bars were not repainted within 2 s")
    return clock.painted_at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model file (default: the bundled model, else an untrained "
                                        "simple-convnet of the same cost)")
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--burst", type=int, default=4, help="moves per burst in the second pass")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from playground.engine.nn.network import Network
    from playground.engine.project import load_model
    from playground.engine.project import load_preset
    from playground.ui.digits import DigitPadWidget

    store = tempfile.mkdtemp(prefix="digit-latency-")
    w = DigitPadWidget(store_dir=store)
    if args.model:
        net, _ = load_model(args.model)
        w.set_network(net, f"model {args.model}")
    elif w.network() is None:
        w.set_network(Network(load_preset("simple-convnet")["network"], seed=0), "untrained simple-convnet")
    print(f"network: {w.network_label()}")
    w.resize(1400, 820)
    w.show()
    QTest.qWaitForWindowExposed(w)
    pad = w.pad
    clock = PaintClock()
    w.bars.installEventFilter(clock)
    w.prediction_changed.connect(clock.arm)

    single: list[float] = []
    burst: list[float] = []
    side = min(pad.width(), pad.height())
    strokes = 0
    points = stroke_points(args.moves, side, 0.0)
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0].toPoint())
    wait_for_paint(app, clock)
    w.latencies.clear()
    for i, p in enumerate(points[1:], 1):
        if i % 60 == 0:  # a new stroke every 60 moves, so the pad fills like a real drawing
            QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p.toPoint())
            w.pad.clear()
            app.processEvents()
            QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p.toPoint())
            strokes += 1
            app.processEvents()
            continue
        clock.painted_at, clock.armed = None, False
        t0 = time.perf_counter()
        send_move(pad, p)
        single.append(wait_for_paint(app, clock) - t0)
    inside = list(w.latencies)

    points = stroke_points(args.moves * args.burst, side, 1.0)
    for k in range(0, len(points) - args.burst, args.burst):
        clock.painted_at, clock.armed = None, False
        t0 = time.perf_counter()
        for p in points[k:k + args.burst]:
            send_move(pad, p)
        burst.append(wait_for_paint(app, clock) - t0)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(10, 10))

    def report(name: str, xs: list[float]) -> None:
        ms = np.array(xs) * 1e3
        print(f"{name:<44} n={len(ms):4d}  median {statistics.median(ms):6.2f} ms   "
              f"p95 {np.percentile(ms, 95):6.2f} ms   worst {ms.max():6.2f} ms")

    report("one move → bars repainted", single)
    report(f"burst of {args.burst} moves → bars repainted (coalesced)", burst)
    report("ink changed → bars set (inside the widget)", inside)
    worst = max(max(single), max(burst)) * 1e3
    print(f"goal: under 30 ms — {'met' if worst < 30 else 'NOT met'} (worst {worst:.1f} ms)")
    w.shutdown()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
