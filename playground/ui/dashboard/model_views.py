"""What the network computes over its inputs: the decision boundary (2-D) or the fitted curve (1-D)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from playground.engine.train.unit_maps import plane_bounds as plot_bounds, plane_points
from playground.ui.dashboard.sequence_view import SequenceView
from playground.ui.plotexport import Table, add_save_menu
from playground.ui.plotlook import restyle
from playground.ui.dashboard.plotting import RIGHT_MIN_WIDTH, class_color, style_plot
from playground.ui.dashboard.task_views import F1View, ResidualView, ScatterView


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
        self.setMinimumSize(RIGHT_MIN_WIDTH, 160)
        self.setToolTip("The class the network predicts at every point of the plane (color; paler = less "
                        "sure), with the training points (circles) and validation points (triangles).\n"
                        "Points circled in black are the samples picked in the confusion matrix.")

    def set_data(self, data) -> None:
        k = int(data.n_classes or 2)
        self.k = k
        # with input features (x1², sin x1, ...) the points are still drawn where they lie in the plane
        self.train.setData(pos=data.points("train")[:, :2], brush=[pg.mkBrush(class_color(int(c))) for c in data.y_train])
        self.val.setData(pos=data.points("val")[:, :2], brush=[pg.mkBrush(class_color(int(c))) for c in data.y_val])
        self.marked.setData(pos=np.zeros((0, 2)))
        self.points = [("training", data.points("train")[:, :2], data.y_train),
                       ("validation", data.points("val")[:, :2], data.y_val)]
        self.image.clear()
        x0, x1, y0, y1 = plot_bounds(plane_points(data))
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
        self.setMinimumSize(RIGHT_MIN_WIDTH, 160)
        self.setToolTip("The network's prediction ŷ(x) (red) over the training (blue) and validation (orange) "
                        "samples, redrawn as it trains.")

    def set_data(self, data) -> None:
        self.train.setData(data.x_train[:, 0], data.y_train[:, 0])
        self.val.setData(data.x_val[:, 0], data.y_val[:, 0]) if len(data.x_val) else self.val.setData([], [])
        self.curve.setData([], [])

    def set_fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self.curve.setData(x, y, connect="finite")


class ModelView(QStackedWidget):
    """What fits the task: the decision boundary (2-D classification), the fitted curve with its residuals
    (1-D regression), the F1 of each class (images, sequences of classes), predictions against truth (any
    other regression), or, before a run, a note."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.boundary = BoundaryView()
        self.fit = FitView()
        self.residuals = ResidualView()
        self.fit_page = QWidget()
        page = QVBoxLayout(self.fit_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(4)
        page.addWidget(self.fit, 3)
        page.addWidget(self.residuals, 2)
        self.f1 = F1View()
        self.scatter = ScatterView()
        self.sequence = SequenceView()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setMargin(12)  # no style sheet: with one, a widget keeps the palette of the look it was polished in
        for w in (self.boundary, self.fit_page, self.f1, self.scatter, self.sequence, self.note):
            self.addWidget(w)
        self.clear()

    def clear(self) -> None:
        """No run: say what will appear here."""
        self.set_note("Press Start to train: what fits the task appears here (the decision boundary of 2-D "
                      "data, the fitted curve of 1-D regression, the F1 of each class of images or "
                      "sequences, or predictions against truth).")

    def apply_look(self) -> None:
        """Colours of the app's current look (light or dark)."""
        for plot in (self.boundary, self.fit, self.residuals, self.f1, self.scatter):
            restyle(plot)
        self.sequence.apply_look()

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setToolTip(text)
        self.setCurrentWidget(self.note)

    def set_data(self, data, recurrent: bool = False) -> None:
        shape = tuple(data.input_shape)
        if data.kind == "classification" and data.plane:
            self.boundary.set_data(data)
            self.setCurrentWidget(self.boundary)
        elif len(shape) == 2 and recurrent:
            self.sequence.set_data(data)
            self.setCurrentWidget(self.sequence)
        elif data.kind == "classification":
            self.f1.set_matrix(np.zeros((int(data.n_classes or 2),) * 2, int), tuple(data.class_names))
            self.setCurrentWidget(self.f1)
        elif shape == (1,) and data.y_train.shape[1:] == (1,):
            self.fit.set_data(data)
            self.residuals.set_data(data)
            self.setCurrentWidget(self.fit_page)
        else:
            self.scatter.clear_points()
            self.setCurrentWidget(self.scatter)

    def show_pictures(self, pics: dict, confusion: dict | None, names: tuple[str, ...]) -> None:
        """Draw what a report brought that this view shows."""
        if "boundary" in pics:
            self.boundary.set_probs(pics["boundary"]["probs"], pics["boundary"]["bounds"])
        if "fit" in pics:
            self.fit.set_fit(pics["fit"]["x"], pics["fit"]["y"])
            self.residuals.set_fit(pics["fit"]["x"], pics["fit"]["y"])
        if "scatter" in pics:
            self.scatter.set_points(pics["scatter"]["true"], pics["scatter"]["pred"])
        if "sequence" in pics:
            self.sequence.set_sequence(pics["sequence"])
        if confusion is not None and self.currentWidget() is self.f1:
            self.f1.set_matrix(confusion["matrix"], names)
