"""The optimizer lab's map: log-scaled heat map, contours, each optimizer's path and arrows, the start and minima."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from playground.engine.lab.functions import LabFunction
from playground.engine.lab.paths import LAB_OPTIMIZERS, OPTIMIZER_INFO, PathLab
from playground.ui.optimizer_lab.drawing import COLORS, arrow, contour_segments, log_heat
from playground.ui.plotexport import add_save_menu

__all__ = ["MapView", "GRID", "CONTOUR_LEVELS", "DOTS_UP_TO", "DIVERGED_SIZE", "top_room"]

GRID = 241          # heat-map samples per axis
CONTOUR_LEVELS = 14
DOTS_UP_TO = 400    # a path is drawn with a dot per step up to this many points
DIVERGED_SIZE = 18  # the ✕ where a path diverged, in pixels


def top_room(plot: pg.PlotWidget) -> int:
    """Pixels to leave above a plot with no title: half a tick label sticks out over its top line."""
    return plot.fontMetrics().height() // 2 + 2


class MapView(QWidget):
    """The 2-D map of what ``lab`` holds; clicking it emits :attr:`clicked` with (x, y).

    Heads and arrows are drawn again when the view moves (their size is in
    pixels); the rest when the widget calls :meth:`draw`.
    """

    #: a left click on the plot area, in data coordinates
    clicked = Signal(float, float)

    def __init__(self, lab: PathLab, parent: QWidget | None = None):
        super().__init__(parent)
        self.lab = lab
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumSize(360, 320)  # beside the optimizers' table in a 1024-pixel-wide window
        self.plot.setToolTip("Click to start every path there · drag to pan · wheel to zoom · "
                             "right-click to save the picture or the paths' points")
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", "x")
        pi.setLabel("left", "y")
        pi.showGrid(x=False, y=False)
        pi.setContentsMargins(0, top_room(self.plot), 4, 0)
        self.vb = pi.getViewBox()
        add_save_menu(self.plot, "Optimizer paths")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-100)
        pi.addItem(self.image)
        self.contours = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(0, 0, 0, 70, width=1))
        self.contours.setZValue(-50)
        pi.addItem(self.contours)
        self.minima_item = pg.ScatterPlotItem(symbol="star", size=15, pen=pg.mkPen("#222", width=1),
                                              brush=pg.mkBrush("#ffd60a"))
        self.minima_item.setZValue(20)
        pi.addItem(self.minima_item)
        self.start_item = pg.ScatterPlotItem(symbol="o", size=13, pen=pg.mkPen("#111", width=2),
                                             brush=pg.mkBrush(255, 255, 255, 230))
        self.start_item.setZValue(30)
        pi.addItem(self.start_item)

        self.path_items: dict[str, pg.PlotDataItem] = {}
        self.head_items: dict[str, pg.ScatterPlotItem] = {}
        self.grad_items: dict[str, pg.PlotCurveItem] = {}
        self.step_items: dict[str, pg.PlotCurveItem] = {}
        for z, name in enumerate(LAB_OPTIMIZERS):
            color = QColor(COLORS[name])
            path = pg.PlotDataItem(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4,
                                   symbolPen=None, symbolBrush=color, name=OPTIMIZER_INFO[name][0])
            path.setZValue(10 + z)
            head = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(color))
            head.setZValue(40 + z)
            grad = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(color, width=1.5,
                                                                   style=Qt.PenStyle.DashLine))
            grad.setZValue(50 + z)
            stepi = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(color, width=3))
            stepi.setZValue(60 + z)
            for item in (path, head, grad, stepi):
                pi.addItem(item)
            self.path_items[name], self.head_items[name] = path, head
            self.grad_items[name], self.step_items[name] = grad, stepi
        # the heat map, contours and axes change only with the function or the view: keep them as pixmaps
        # so that drawing a step repaints only the paths
        for item in (self.image, self.contours, pi.getAxis("left"), pi.getAxis("bottom")):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.vb.sigRangeChanged.connect(self.draw_marks)
        self.plot.scene().sigMouseClicked.connect(self._map_clicked)
        lay.addWidget(self.plot, 1)
        hint = QLabel("Click the map to move the start ○.  Dashed arrow: downhill, −∇f (direction only).  "
                      "Solid arrow: the step each optimizer takes next, to scale.  ★ known minimum, "
                      "✕ diverged.")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self._grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------ the function
    def show_function(self, fn: LabFunction, dark: bool) -> None:
        """Sample ``fn`` on the grid, paint it, show its minima and fit the view to its range."""
        xs = np.linspace(*fn.x_range, GRID)
        ys = np.linspace(*fn.y_range, GRID)
        X, Y = np.meshgrid(xs, ys)
        self._grid = (xs, ys, log_heat(fn.value(X, Y)))
        self.paint(dark)
        (x0, x1), (y0, y1) = fn.x_range, fn.y_range
        self.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.minima_item.setData(pos=np.asarray(fn.minima, dtype=float).reshape(-1, 2))

    @staticmethod
    def _colormap(dark: bool) -> pg.ColorMap:
        if dark:
            return pg.ColorMap([0.0, 0.35, 1.0], [QColor("#f1f5f9"), QColor("#64748b"), QColor("#1e293b")])
        return pg.ColorMap([0.0, 0.4, 1.0], [QColor("#ffffff"), QColor("#c7d2e3"), QColor("#51607a")])

    def paint(self, dark: bool) -> None:
        """The heat map and contour lines in the light or dark look."""
        if self._grid is None:
            return
        xs, ys, Z = self._grid
        finite = np.isfinite(Z)
        lo, hi = (float(Z[finite].min()), float(Z[finite].max())) if finite.any() else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        self.image.setImage(Z, levels=(lo, hi), lut=self._colormap(dark).getLookupTable(nPts=256), autoLevels=False)
        self.image.setRect(QRectF(xs[0], ys[0], xs[-1] - xs[0], ys[-1] - ys[0]))
        levels = np.linspace(lo, hi, CONTOUR_LEVELS + 2)[1:-1]
        segs = [contour_segments(Z, xs, ys, lv) for lv in levels]
        pts = np.concatenate(segs) if segs else np.empty((0, 2))
        color = (255, 255, 255, 60) if dark else (20, 30, 50, 70)
        self.contours.setPen(pg.mkPen(*color, width=1))
        self.contours.setData(pts[:, 0], pts[:, 1])

    # ------------------------------------------------------------ the race
    def set_visible(self, name: str, on: bool) -> None:
        for item in (self.path_items[name], self.head_items[name], self.grad_items[name], self.step_items[name]):
            item.setVisible(on)

    def draw(self) -> None:
        """The start, every path, each head and its arrows."""
        lab = self.lab
        self.start_item.setData(pos=[tuple(lab.start)])
        for name in LAB_OPTIMIZERS:
            pts = lab.paths[name].points
            item = self.path_items[name]
            dots = len(pts) <= DOTS_UP_TO
            if dots != (item.opts["symbol"] is not None):  # a dot per step while they can be told apart
                item.setSymbol("o" if dots else None)
            item.setData(pts[:, 0], pts[:, 1])
        self.draw_marks()

    def draw_marks(self, *_view_range) -> None:
        """Heads and arrows, which depend on the view's scale as well as on the paths."""
        self._draw_heads()
        self.draw_arrows()

    def _draw_heads(self) -> None:
        """A dot at each path's current point; a red ✕ where a path diverged, kept wholly inside the view."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        pw, ph = self.vb.viewPixelSize()
        ix = min(abs(pw) * DIVERGED_SIZE / 2, (x1 - x0) / 2) if math.isfinite(pw) else 0.0
        iy = min(abs(ph) * DIVERGED_SIZE / 2, (y1 - y0) / 2) if math.isfinite(ph) else 0.0
        for name in LAB_OPTIMIZERS:
            path = self.lab.paths[name]
            head = self.head_items[name]
            x, y = path.points[-1]
            if path.stopped:
                x, y = min(max(x, x0 + ix), x1 - ix), min(max(y, y0 + iy), y1 - iy)
                head.setData(pos=[(x, y)], symbol="x", size=DIVERGED_SIZE, brush=pg.mkBrush("#dc2626"),
                             pen=pg.mkPen("#7f1d1d", width=1))
            else:
                head.setData(pos=[(x, y)], symbol="o", size=11, brush=pg.mkBrush(COLORS[name]),
                             pen=pg.mkPen("w", width=1.5))

    def draw_arrows(self) -> None:
        """At each head: −∇f (dashed, fixed length) and the next step to scale (solid)."""
        pw, ph = self.vb.viewPixelSize()
        if not (pw > 0 and ph > 0):
            return
        previews = self.lab.preview()
        for name in LAB_OPTIMIZERS:
            grad_item, step_item = self.grad_items[name], self.step_items[name]
            path = self.lab.paths[name]
            if name not in previews or path.stopped:
                grad_item.setData([], [])
                step_item.setData([], [])
                continue
            g, delta = previews[name]
            here = path.position
            pts = np.empty((0, 2))
            big = float(np.max(np.abs(g))) if np.all(np.isfinite(g)) else 0.0
            if big > 0:  # scaled by the largest component first, so huge gradients do not overflow
                sx, sy = g[0] / big / pw, g[1] / big / ph
                down = -np.array([sx * pw, sy * ph]) * (38.0 / math.hypot(sx, sy))  # 38 px long on screen
                pts = arrow(here, down, (pw, ph), head_px=7.0)
            grad_item.setData(pts[:, 0], pts[:, 1]) if len(pts) else grad_item.setData([], [])
            spts = arrow(here, delta, (pw, ph))
            step_item.setData(spts[:, 0], spts[:, 1]) if len(spts) else step_item.setData([], [])

    def _map_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        pos = ev.scenePos()
        if not self.vb.sceneBoundingRect().contains(pos):
            return
        p = self.vb.mapSceneToView(pos)
        ev.accept()
        self.clicked.emit(p.x(), p.y())
