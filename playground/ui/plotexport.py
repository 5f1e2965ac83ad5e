"""Right-click any plot to save it as a PNG picture or an SVG drawing, and its data as CSV.

:func:`add_save_menu` gives a pyqtgraph view (a ``PlotWidget`` or a
``GraphicsLayoutWidget``) a menu of its own on a right click (a right drag
still zooms); it replaces pyqtgraph's view menu, whose export dialog knows
neither our painted items (the confusion matrix's counts, the histograms'
captions) nor our data. The picture is what the widget paints, so every item
is in it; the data is a table the plot gives, or by default every curve as
rows of ``plot, series, x, y`` (a curve's series is its object name, else its
legend name; a histogram's x is the centre of its bin).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QMouseEvent, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QGraphicsItem, QMenu, QWidget

from playground.ui import dialogs
from playground.ui.settings import AppSettings

#: what a plot's data table is: column names and rows of values (None: no value)
Table = tuple[list[str], list[Sequence[object]]]
#: how far (pixels) a right button may move between press and release and still open the menu
CLICK_SLOP = 4
KINDS = {"png": ("PNG picture (*.png)", ".png"), "svg": ("SVG drawing (*.svg)", ".svg"),
         "csv": ("CSV table (*.csv)", ".csv")}


def plain(text: str) -> str:
    """``text`` without HTML tags and entities, on one line."""
    text = re.sub(r"<[^>]*>", "", text or "").replace("&nbsp;", " ").replace("&amp;", "&")
    return " ".join(text.split())


def file_name(title: str) -> str:
    """A file name from a plot's title (``Gradient norms per layer`` → ``gradient_norms_per_layer``)."""
    return re.sub(r"\W+", "_", plain(title).lower()).strip("_") or "plot"


def plot_items(view: pg.GraphicsView) -> list[pg.PlotItem]:
    """The plots of ``view``, top to bottom and left to right."""
    items = [i for i in view.scene().items() if isinstance(i, pg.PlotItem) and i.isVisible()]
    return sorted(items, key=lambda i: (round(i.scenePos().y()), round(i.scenePos().x())))


def _series(item: pg.GraphicsObject) -> tuple[np.ndarray, np.ndarray] | None:
    """The x and y a curve was given (before log axes or downsampling), or None."""
    if isinstance(item, pg.PlotDataItem):
        x, y = item.xData, item.yData
    else:
        x, y = item.getData()
    if x is None or y is None or not len(y):
        return None
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) == len(y) + 1:  # a histogram: bin edges
        x = (x[:-1] + x[1:]) / 2
    return x, y


def curves_table(view: pg.GraphicsView) -> Table:
    """Every visible curve of every plot of ``view`` (and every named scatter) as ``plot, series, x, y`` rows."""
    rows: list[Sequence[object]] = []
    for plot in plot_items(view):
        title = plain(plot.titleLabel.text) if plot.titleLabel.isVisible() else ""
        unnamed = 0
        for item in plot.items:
            if not item.isVisible() or not isinstance(item, (pg.PlotDataItem, pg.ScatterPlotItem)):
                continue
            name = item.objectName() or (item.name() if hasattr(item, "name") else None)
            if isinstance(item, pg.ScatterPlotItem) and not name:
                continue  # markers (a start, the minima, the heads of paths), not data
            data = _series(item)
            if data is None:
                continue
            if not name:
                unnamed += 1
                name = f"curve {unnamed}"
            rows.extend((title, plain(name), number(x), number(y)) for x, y in zip(*data))
    return ["plot", "series", "x", "y"], rows


def number(v: float) -> float | None:
    """A float for the table, None where there is no finite value."""
    v = float(v)
    return v if math.isfinite(v) else None


def save_png(view: QWidget, path: Path) -> None:
    """The widget as it is painted, in a PNG file; raises OSError when it cannot be written."""
    if not view.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write {path}: the folder does not take new files, or the name is not allowed")


def save_svg(view: QWidget, path: Path, title: str) -> None:
    """The widget painted into an SVG drawing (lines and text stay vectors)."""
    size = view.size()
    with _written(path) as tmp:
        generator = QSvgGenerator()
        generator.setFileName(str(tmp))
        generator.setSize(QSize(size))
        generator.setViewBox(QRect(0, 0, size.width(), size.height()))
        generator.setResolution(view.logicalDpiX())  # the widget's fonts at the widget's size
        generator.setTitle(title)
        generator.setDescription("A plot from the NumPy Neural Network Playground")
        cached = [(item, item.cacheMode()) for item in view.scene().items()
                  if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
        for item, _ in cached:  # a cached item would be pasted in as a picture: draw it as lines and text
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        painter = QPainter(generator)
        try:
            view.render(painter)
        finally:
            painter.end()
            for item, mode in cached:
                item.setCacheMode(mode)


def save_csv(table: Table, path: Path) -> None:
    """``table`` as CSV: a header line, then a line per row (an empty field where there is no value)."""
    header, rows = table
    with _written(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def save_jsonl(records: Sequence[dict], path: Path) -> None:
    """``records`` as JSON lines, one object per line (a value that is not finite is ``null``)."""
    with _written(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
            f.write(json.dumps(clean, allow_nan=False) + "\n")


class _written:
    """A temporary file beside ``path`` that replaces it when the block succeeds (else it is removed)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __enter__(self) -> Path:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part")
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                mask = os.umask(0o022)
                os.umask(mask)
                os.chmod(self.tmp, 0o666 & ~mask)
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)


class PlotSaver(QObject):
    """The right-click menu of one view: Save as PNG…, Save as SVG…, Save data as CSV…."""

    def __init__(self, view: pg.GraphicsView, title: Callable[[], str], table: Callable[[], Table] | None = None):
        super().__init__(view)
        self.view = view
        self.title = title
        self.table = table or (lambda: curves_table(view))
        self.menu = QMenu(view)
        self.actions: dict[str, QAction] = {}
        for kind, text, tip in (
                ("png", "Save as &PNG picture…", "The plot as it looks now, as a PNG image"),
                ("svg", "Save as &SVG drawing…", "The plot as a vector drawing (SVG) for slides and papers"),
                ("csv", "Save data as &CSV…", "The numbers drawn in this plot, as a table for a spreadsheet")):
            action = self.menu.addAction(text)
            action.setStatusTip(tip)
            action.setToolTip(tip)
            action.triggered.connect(lambda _=False, k=kind: self.save(k))
            self.actions[kind] = action
        self._press: QPointF | None = None
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            self._press = event.position() if event.button() == Qt.MouseButton.RightButton else None
        elif kind == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent) and self._press is not None:
            moved = (event.position() - self._press).manhattanLength()
            self._press = None
            if event.button() == Qt.MouseButton.RightButton and moved <= CLICK_SLOP:
                self.menu.popup(event.globalPosition().toPoint())
        elif kind == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent) \
                and event.reason() == QContextMenuEvent.Reason.Keyboard:
            self.menu.popup(event.globalPos())
            return True
        return False

    def save(self, kind: str) -> bool:
        """Ask where, then write the picture or the data; a problem goes to a dialog."""
        settings = AppSettings()
        filters, suffix = KINDS[kind]
        start = str(Path(settings.last_folder()) / (file_name(self.title()) + suffix))
        caption = {"png": "Save the plot as a PNG picture", "svg": "Save the plot as an SVG drawing",
                   "csv": "Save the plot's data as CSV"}[kind]
        path, _ = QFileDialog.getSaveFileName(self.view.window(), caption, start, f"{filters};;All files (*)")
        if not path:
            return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(suffix)
        try:
            if kind == "png":
                save_png(self.view, path)
            elif kind == "svg":
                save_svg(self.view, path, plain(self.title()))
            else:
                save_csv(self.table(), path)
        except OSError as e:
            dialogs.error(self.view.window(), "Cannot save the plot",
                          f"Cannot write {path}: {e.strerror or e}. Choose another folder or name.")
            return False
        settings.set_last_folder(path)
        return True


def add_save_menu(view: pg.GraphicsView, title: str | Callable[[], str] | None = None,
                  table: Callable[[], Table] | None = None) -> PlotSaver:
    """Give ``view`` the right-click menu of :class:`PlotSaver` (named ``title``, or its plot's title), in place
    of pyqtgraph's view menu."""
    if isinstance(view, pg.PlotWidget):
        view.getPlotItem().setMenuEnabled(False)
    def name() -> str:
        if callable(title):
            return title()
        return title or next((p.titleLabel.text for p in plot_items(view) if p.titleLabel.text), "plot")

    view.plot_saver = PlotSaver(view, name, table)
    return view.plot_saver
