"""Panels for tasks without a decision boundary: per-class F1, prediction against truth, residuals."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from playground.engine.metrics import precision_recall_f1
from playground.ui.plotexport import add_save_menu
from playground.ui.dashboard.plotting import RIGHT_MIN_WIDTH, class_color, style_plot


class F1View(pg.PlotWidget):
    """Per-class F1 on the validation set, from the latest confusion matrix (images, sequences)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = style_plot(self, "<b>F1 per class</b> (validation)", "F1", "class")
        item.setYRange(0, 1.02, padding=0)
        item.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        item.addItem(self.bars)
        self.f1: list[float] = []
        self.setMinimumSize(RIGHT_MIN_WIDTH, 160)
        add_save_menu(self, "F1 per class")
        self.setToolTip("How well the network finds each class, after the latest epoch:\n"
                        "precision P = TP / (TP + FP), recall R = TP / (TP + FN), F1 = 2PR / (P + R).\n"
                        "A short bar is a class the network confuses; the confusion matrix below says with what.")

    def set_matrix(self, matrix: np.ndarray, names: tuple[str, ...]) -> None:
        scores = precision_recall_f1(np.asarray(matrix))
        self.f1 = scores["f1"]
        k = len(self.f1)
        self.bars.setOpts(x=np.arange(k), height=self.f1, width=0.7,
                          brushes=[pg.mkBrush(class_color(i)) for i in range(k)], pens=[None] * k)
        item = self.getPlotItem()
        labels = names if len(names) == k else tuple(str(i) for i in range(k))
        step = max(1, k // 12)  # a label per bar while they fit
        item.getAxis("bottom").setTicks([[(i, labels[i]) for i in range(0, k, step)]])
        item.setXRange(-0.6, k - 0.4, padding=0)
        item.setYRange(0, 1.02, padding=0)


class ScatterView(pg.PlotWidget):
    """Predictions against targets on validation samples (a regression without one input to plot against)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = style_plot(self, "<b>Prediction against truth</b> (validation)", "prediction ŷ", "target y")
        self.diagonal = pg.PlotDataItem(pen=pg.mkPen("#888", width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.points = pg.ScatterPlotItem(size=5, brush=pg.mkBrush("#1f77b4aa"), pen=None)
        item.addItem(self.diagonal)
        item.addItem(self.points)
        self.setMinimumSize(RIGHT_MIN_WIDTH, 160)
        add_save_menu(self, "Predictions against targets")
        self.setToolTip("Each validation sample at (target y, prediction ŷ). On the dashed line ŷ = y the "
                        "prediction is exact; the farther a point from it, the larger its error |y − ŷ|.")

    def set_points(self, true: np.ndarray, pred: np.ndarray) -> None:
        true, pred = np.asarray(true, float), np.asarray(pred, float)
        ok = np.isfinite(true) & np.isfinite(pred)
        self.points.setData(true[ok], pred[ok])
        if ok.any():
            lo = float(min(true[ok].min(), pred[ok].min()))
            hi = float(max(true[ok].max(), pred[ok].max()))
            self.diagonal.setData([lo, hi], [lo, hi])

    def clear_points(self) -> None:
        self.points.setData([], [])
        self.diagonal.setData([], [])


class ResidualView(pg.PlotWidget):
    """Residuals y − ŷ(x) of the samples of a 1-D regression, from the fitted curve."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = style_plot(self, "<b>Residuals</b> y − ŷ(x)", "y − ŷ", "x", si_prefix=False)
        item.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen("#888", width=1)))
        self.train = pg.ScatterPlotItem(size=5, brush=pg.mkBrush("#1f77b4aa"), pen=None)
        self.val = pg.ScatterPlotItem(size=6, symbol="t", brush=pg.mkBrush("#ff7f0ecc"), pen=None)
        item.addItem(self.train)
        item.addItem(self.val)
        self._data = None
        self.setMinimumSize(RIGHT_MIN_WIDTH, 140)
        add_save_menu(self, "Residuals")
        self.setToolTip("What the fitted curve misses at each training (blue) and validation (orange) sample: "
                        "y − ŷ(x). Residuals scattered evenly around 0 mean the curve has the data's shape; "
                        "a wave or a trend left in them is shape the network has not learnt yet.")

    def set_data(self, data) -> None:
        self._data = data
        self.train.setData([], [])
        self.val.setData([], [])

    def set_fit(self, x: np.ndarray, y: np.ndarray) -> None:
        """The residuals of the samples under the curve ŷ sampled at ``x`` (interpolated between)."""
        data = self._data
        if data is None or not np.isfinite(y).all():
            return
        for plot, xs, ys in ((self.train, data.x_train, data.y_train), (self.val, data.x_val, data.y_val)):
            if len(xs):
                px = np.asarray(xs, float)[:, 0]
                plot.setData(px, np.asarray(ys, float)[:, 0] - np.interp(px, x, y))
