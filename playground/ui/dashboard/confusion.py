"""The confusion matrix of the validation set, its counts drawn in the cells, cells clickable."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QWidget

from playground.ui.plotexport import Table, add_save_menu
from playground.ui.plotlook import look, restyle
from playground.ui.dashboard.plotting import RIGHT_MIN_WIDTH, style_plot


class _ClickableImage(pg.ImageItem):
    clicked = None  # set by the owner: callable(row, col)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton and self.clicked is not None and self.image is not None:
            p = ev.pos()
            rows, cols = self.image.shape[:2]
            r, c = int(p.y()), int(p.x())
            if 0 <= r < rows and 0 <= c < cols:
                ev.accept()
                self.clicked(r, c)
                return
        ev.ignore()


def _cell_text_colors() -> tuple[QColor, QColor, QColor]:
    """A count's colour: on a strongly coloured cell, on the diagonal or zero, a misclassification."""
    lk = look()
    return QColor("#ffffff"), QColor(lk["title"]), QColor(lk["bad"])


class _CellLabels(pg.GraphicsObject):
    """The counts of a k × k matrix (cell (r, c) spans [c, c+1] × [r, r+1]), drawn in one pass.

    A hundred TextItems cost 75 ms to create and a Python call each per repaint;
    this item draws every count at its cell's centre in screen pixels, so the text
    keeps its size however the view is scaled. A count wider or taller than its
    cell on screen is left out (``drawn``: how many the last paint showed);
    clicking the cell still shows its samples.
    """

    def __init__(self):
        super().__init__()
        self.k = 0
        self.cells: list[tuple[int, int, str, QColor]] = []
        self.font = QFont()
        self.drawn = 0

    def set_cells(self, k: int, cells: list[tuple[int, int, str, QColor]]) -> None:
        self.prepareGeometryChange()
        self.k = k
        self.cells = cells
        self.font.setPointSize(9 if k <= 5 else 7)
        self.update()

    def text(self, row: int, col: int) -> str:
        return next((t for r, c, t, _ in self.cells if (r, c) == (row, col)), "")

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.k, self.k)

    def paint(self, p, *args) -> None:
        if not self.cells:
            return
        tr = p.transform()
        cell_w = abs(tr.map(QPointF(1, 0)).x() - tr.map(QPointF(0, 0)).x())
        cell_h = abs(tr.map(QPointF(0, 1)).y() - tr.map(QPointF(0, 0)).y())
        metrics = QFontMetrics(self.font)
        p.save()
        p.resetTransform()
        p.setFont(self.font)
        self.drawn = 0
        for r, c, text, color in self.cells:
            if metrics.horizontalAdvance(text) + 2 > cell_w or metrics.height() > cell_h + 2:
                continue
            self.drawn += 1
            at = tr.map(QPointF(c + 0.5, r + 0.5))
            p.setPen(color)
            p.drawText(QRectF(at.x() - 40, at.y() - 12, 80, 24), Qt.AlignmentFlag.AlignCenter, text)
        p.restore()


class ConfusionView(pg.PlotWidget):
    """``m[true, predicted]`` on the validation set; a click on a cell emits ``cell_clicked(true, pred)``."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = style_plot(self, "<b>Confusion matrix</b> (validation)", "true class", "predicted class")
        item.invertY(True)
        item.setAspectLocked(True)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        self.image = _ClickableImage(axisOrder="row-major")
        self.image.clicked = lambda r, c: self.cell_clicked.emit(r, c)
        item.addItem(self.image)
        self.image.setLevels([0, 1])
        self.labels = _CellLabels()
        item.addItem(self.labels)
        self._axes: tuple = ()
        self.matrix: np.ndarray | None = None
        self.names: tuple[str, ...] = ()
        self.setMinimumSize(RIGHT_MIN_WIDTH, 160)
        self.setToolTip("Rows: the true class; columns: the class the network predicted, on the validation "
                        "set.\nThe diagonal holds the correct answers; color = share of the row (recall).\n"
                        "Click a cell to see its samples: off-diagonal cells are the misclassified ones.")
        self.empty = pg.TextItem("no predictions yet:\nthey come at the end of each epoch", anchor=(0.5, 0.5))
        item.addItem(self.empty)
        add_save_menu(self, "Confusion matrix (validation)", self.table)
        self.apply_look()
        self.clear_matrix()

    def apply_look(self) -> None:
        """Colours of the app's current look: cells from the background to blue, counts to match."""
        lk = look()
        restyle(self)
        cmap = pg.ColorMap([0.0, 1.0], [QColor(lk["cells"][0]), QColor(lk["cells"][1])])
        self.image.setLookupTable(cmap.getLookupTable(nPts=256))
        self.empty.setColor(lk["muted"])
        if self.matrix is not None:
            self.set_matrix(self.matrix, self.names)

    def set_matrix(self, m: np.ndarray, names: tuple[str, ...]) -> None:
        k = m.shape[0]
        self.matrix = m
        self.names = names
        self.empty.setVisible(False)
        rows = m.sum(axis=1, keepdims=True)
        frac = np.where(rows > 0, m / np.maximum(rows, 1), 0.0)
        self.image.setImage(frac, levels=[0, 1], autoLevels=False)
        self.image.setRect(QRectF(0, 0, k, k))
        item = self.getPlotItem()
        if self._axes != (k, names):
            self._axes = (k, names)
            labels = [(i + 0.5, str(names[i]) if i < len(names) else str(i)) for i in range(k)]
            item.getAxis("bottom").setTicks([labels])
            item.getAxis("left").setTicks([labels])
            item.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)
        colors = np.where(frac > 0.55, 0, np.where((np.eye(k, dtype=bool)) | (m == 0), 1, 2))
        palette = _cell_text_colors()
        self.labels.set_cells(k, [(r, c, str(int(m[r, c])), palette[colors[r, c]])
                                  for r in range(k) for c in range(k)])

    def table(self) -> Table:
        """One row per cell: the true class, the predicted class, the count and its share of the row."""
        if self.matrix is None:
            return ["true", "predicted", "count", "share_of_row"], []
        m = self.matrix
        rows = m.sum(axis=1)
        name = [str(self.names[i]) if i < len(self.names) else str(i) for i in range(m.shape[0])]
        return ["true", "predicted", "count", "share_of_row"], [
            (name[r], name[c], int(m[r, c]), float(m[r, c] / rows[r]) if rows[r] else None)
            for r in range(m.shape[0]) for c in range(m.shape[1])]

    def cell_text(self, row: int, col: int) -> str:
        """The count shown in a cell."""
        return self.labels.text(row, col)

    def cell_center(self, row: int, col: int):
        """Widget coordinates of a cell's center (for tests and keyboard access)."""
        scene = self.image.mapToScene(pg.Point(col + 0.5, row + 0.5))
        return self.mapFromScene(scene)

    def clear_matrix(self) -> None:
        self.matrix = None
        self.image.clear()
        item = self.getPlotItem()
        self.labels.set_cells(0, [])
        self._axes = ()
        for ax in ("left", "bottom"):
            item.getAxis(ax).setTicks([[]])
        item.setRange(xRange=(0, 2), yRange=(0, 2), padding=0.02)
        self.empty.setVisible(True)
        self.empty.setPos(1, 1)

