"""Shared look and ranges of the dashboard's plots: colours, pens, round axis limits, frames."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

from playground.ui.plotexport import add_save_menu
from playground.ui.plotlook import restyle

#: class colors for points, decision regions and the confusion-matrix axes
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
LAYER_COLORS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999",
                "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3"]


def class_color(k: int) -> QColor:
    return QColor(CLASS_COLORS[k % len(CLASS_COLORS)])


def style_plot(w: pg.PlotWidget, title_html: str, left: str, bottom: str, si_prefix: bool = True) -> pg.PlotItem:
    """The dashboard's look for a plot: a bold title, grey axes with their labels, on the app's look."""
    item = w.getPlotItem()
    w._title_html = title_html
    item.setLabel("left", left)
    item.setLabel("bottom", bottom)
    for name in ("left", "bottom"):
        item.getAxis(name).enableAutoSIPrefix(si_prefix)
    cache_axes(item)
    restyle(w)
    return item


def cache_axes(item: pg.PlotItem) -> None:
    """Keep each axis as a picture in a pixmap of its own.

    A curve's changed region reaches a pixel or two past the plot's edge, into
    the axes, and without a cache every refresh draws the axes' labels and
    ticks again: a fifth of a millisecond per axis, 90 times a second in a
    training dashboard. With the cache they are redrawn only when they change.
    """
    for name in ("left", "bottom", "right", "top"):
        item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def make_plot(title: str, left: str, bottom: str = "epoch", tip: str = "") -> pg.PlotWidget:
    w = pg.PlotWidget()
    style_plot(w, f"<b>{title}</b>", left, bottom, si_prefix=False)  # "loss (x0.001)" confuses more than it helps
    w.setMinimumSize(220, 150)
    w.setToolTip(tip)
    add_save_menu(w, title)
    return w


NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceil(v: float) -> float:
    """The smallest number of the form m × 10^k, m in :data:`NICE`, that is at least ``v`` (> 0)."""
    if not np.isfinite(v) or v <= 0:
        return 1.0
    k = 10.0 ** np.floor(np.log10(v))
    for m in NICE:
        if m * k >= v * (1 - 1e-12):
            return float(round(m * k, 12))
    return float(10 * k)


#: the epoch axis shows at least this many epochs of a planned run (all of a shorter one)
MIN_EPOCHS_SHOWN = 10


def epoch_extent(seen: float, planned: float) -> float:
    """The epochs axis: the data so far rounded up, at least the first ``MIN_EPOCHS_SHOWN``
    planned epochs, at most all of them.

    A run of up to 10 epochs gets its whole axis at once (no axis redraws while it trains); a
    longer one grows in round steps, a few times per run, so a 300-epoch run is not a sliver at the
    left for minutes.
    """
    extent = nice_ceil(max(seen, 1e-3) * 1.05)
    if planned:
        extent = min(max(extent, min(planned, MIN_EPOCHS_SHOWN)), planned)
    return max(extent, seen, 1e-3)


def sticky_ceil(current: float | None, needed: float, shrink: float = 0.4) -> float:
    """A round upper bound for ``needed`` that stays ``current`` while it still fits well.

    It grows when the data leave it and shrinks only when they use less than ``shrink`` of it,
    so values that hover around a round number do not make the axis jump (and redraw) each time.
    """
    if current is not None and shrink * current < needed <= current:
        return current
    return nice_ceil(needed * 1.05)


def finite_max(arrays: Iterable[np.ndarray], default: float) -> float:
    vals = [float(np.nanmax(a)) for a in arrays if len(a) and np.isfinite(a).any()]
    vals = [v for v in vals if np.isfinite(v)]
    return max(vals) if vals else default


class Frame:
    """Sets a plot's visible range only when it must change.

    pyqtgraph redraws an axis (ticks, labels: the most expensive part of a
    live plot) whenever its view range changes, which auto-range does on every
    new point. A frame of round numbers that grows only when the data leave it
    keeps the axes as they are on almost every refresh. A user who zooms or
    pans takes over; the plot's "A" button (auto-range) hands it back.
    """

    def __init__(self, plot: pg.PlotWidget | pg.PlotItem):
        item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
        self.vb = item.getViewBox()
        self.current: tuple | None = None
        self.managed = True
        self.vb.sigRangeChangedManually.connect(self._user_moved)

    def _user_moved(self, *_):
        self.managed = False

    def set(self, x: tuple[float, float] | None = None, y: tuple[float, float] | None = None) -> bool:
        """Show ``x`` and ``y`` (None: leave that axis to auto-range); True if the range changed."""
        if not self.managed and any(self.vb.state["autoRange"]):
            self.managed, self.current = True, None  # the user pressed "A": ours again
        if not self.managed or (x, y) == self.current:
            return False
        self.current = (x, y)
        if x is not None:
            self.vb.setXRange(*x, padding=0)
        if y is not None:
            self.vb.setYRange(*y, padding=0)
        return True


def make_pen(color: str, width: float = 1.0, alpha: int = 255, style=Qt.PenStyle.SolidLine) -> pg.QtGui.QPen:
    c = QColor(color)
    c.setAlpha(alpha)
    pen = pg.mkPen(c, width=width)
    pen.setStyle(style)
    return pen

