"""What the network computes over its inputs: the decision boundary (2-D) or the fitted curve (1-D)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from playground.engine.train.snapshots import plot_bounds
from playground.ui.plotexport import Table, add_save_menu
from playground.ui.plotlook import restyle
from playground.ui.dashboard.plotting import class_color, style_plot


class BoundaryView(pg.PlotWidget):
    """Class probabilities on a grid as colored regions, with the training and validation points."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = style_plot(self, "<b>Decision boundary</b>", "x₂", "x₁")
        item.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        self.train = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=0.8))
        self.val = pg.ScatterPlotItem(size=7, symbol="t", pen=pg.mkPen("k", width=0.8))
        self.marked = pg.ScatterPlotItem(size=16, symbol="o", pen=pg.mkPen("#000", width=2.2), brush=None)
        for it in (self.train, self.val, self.marked):
            item.addItem(it)
        self.points: list[tuple[str, np.ndarray, np.ndarray]] = []  # (set, x, class) of the points shown
        add_save_menu(self, "Decision boundary", self.table)
        self.setMinimumSize(220, 200)
        self.setToolTip("The class the network predicts at every point of the plane (color; paler = less "
                        "sure), with the training points (circles) and validation points (triangles).\n"
                        "Points circled in black are the samples picked in the confusion matrix.")

    def set_data(self, data) -> None:
        k = int(data.n_classes or 2)
        self.k = k
        self.train.setData(pos=data.x_train[:, :2], brush=[pg.mkBrush(class_color(int(c))) for c in data.y_train])
        self.val.setData(pos=data.x_val[:, :2], brush=[pg.mkBrush(class_color(int(c))) for c in data.y_val])
        self.marked.setData(pos=np.zeros((0, 2)))
        self.points = [("training", data.x_train[:, :2], data.y_train), ("validation", data.x_val[:, :2], data.y_val)]
        self.image.clear()
        allx = np.concatenate([data.x_train, data.x_val]) if len(data.x_val) else data.x_train
        x0, x1, y0, y1 = plot_bounds(allx)
        self.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def table(self) -> Table:
        """The training and validation points: their set, both inputs and their class."""
        return ["set", "x1", "x2", "class"], [(name, float(p[0]), float(p[1]), int(c))
                                             for name, xs, ys in self.points for p, c in zip(xs, ys)]

    def set_probs(self, probs: np.ndarray, bounds: tuple[float, float, float, float]) -> None:
        k = probs.shape[2]
        colors = np.array([class_color(i).getRgb()[:3] for i in range(k)], dtype=np.float32) / 255
        conf = probs.max(axis=2, keepdims=True)
        rgb = probs @ colors
        # confident regions keep their color, uncertain ones fade towards white
        strength = np.clip((conf - 1 / k) / (1 - 1 / k), 0, 1) * 0.55 + 0.15
        rgb = 1 - strength * (1 - rgb)
        self.image.setImage((rgb * 255).astype(np.uint8), autoLevels=False, levels=(0, 255))
        x0, x1, y0, y1 = bounds
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def mark(self, points: np.ndarray) -> None:
        self.marked.setData(pos=np.asarray(points, float).reshape(-1, 2))


class FitView(pg.PlotWidget):
    """The fitted curve over the data (1-D regression)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = style_plot(self, "<b>Fitted curve</b>", "y", "x")
        item.addLegend(offset=(8, 8))
        self.train = pg.ScatterPlotItem(size=5, brush=pg.mkBrush("#1f77b4aa"), pen=None, name="training data")
        self.val = pg.ScatterPlotItem(size=6, symbol="t", brush=pg.mkBrush("#ff7f0ecc"), pen=None,
                                      name="validation data")
        self.curve = pg.PlotDataItem(pen=pg.mkPen("#d62728", width=2.5), name="network ŷ(x)")
        for it in (self.train, self.val, self.curve):
            item.addItem(it)
        restyle(self)
        add_save_menu(self, "Fitted curve")
        self.setMinimumSize(220, 200)
        self.setToolTip("The network's prediction ŷ(x) (red) over the training (blue) and validation (orange) "
                        "samples, redrawn as it trains.")

    def set_data(self, data) -> None:
        self.train.setData(data.x_train[:, 0], data.y_train[:, 0])
        self.val.setData(data.x_val[:, 0], data.y_val[:, 0]) if len(data.x_val) else self.val.setData([], [])
        self.curve.setData([], [])

    def set_fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self.curve.setData(x, y, connect="finite")


class ModelView(QStackedWidget):
    """Decision boundary (2-D classification), fitted curve (1-D regression), or a note why neither."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.boundary = BoundaryView()
        self.fit = FitView()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet("padding: 12px;")  # the palette's text colour, light or dark
        for w in (self.boundary, self.fit, self.note):
            self.addWidget(w)
        self.set_note("Press Start to train: the decision boundary (2-D data) or the fitted curve "
                      "(1-D regression) appears here.")

    def apply_look(self) -> None:
        """Colours of the app's current look (light or dark)."""
        restyle(self.boundary)
        restyle(self.fit)

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setToolTip(text)
        self.setCurrentWidget(self.note)

    def set_data(self, data) -> None:
        shape = tuple(data.input_shape)
        if data.kind == "classification" and shape == (2,):
            self.boundary.set_data(data)
            self.setCurrentWidget(self.boundary)
        elif data.kind != "classification" and shape == (1,) and data.y_train.shape[1:] == (1,):
            self.fit.set_data(data)
            self.setCurrentWidget(self.fit)
        else:
            what = "a decision boundary needs 2 input features" if data.kind == "classification" \
                else "a fitted curve needs 1 input feature and 1 target"
            self.set_note(f"{data.name}: inputs of shape {shape}; {what}. "
                          f"See the confusion matrix below for how the network does."
                          if data.kind == "classification" else f"{data.name}: {what}.")
