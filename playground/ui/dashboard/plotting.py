"""Shared look and ranges of the dashboard's plots: colours, pens, round axis limits, frames."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics
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


class LogAxis(pg.AxisItem):
    """A log10 axis that labels only what fits: whole decades (every second or third when they are
    close), and 2 and 5 times each decade when a decade is tall enough for three labels; the other
    multiples are unlabelled ticks. (pyqtgraph labels 0.1 ... 0.9 each, stacked on one another.)"""

    def __init__(self, orientation: str = "left"):
        super().__init__(orientation)
        self.labelled: set[float] = set()

    def _label_room(self) -> float:
        """Pixels a label needs along the axis (its height, or a width for a horizontal axis), with a gap."""
        metrics = QFontMetrics(self.style.get("tickFont") or self.font())
        return metrics.height() * 1.4 if self.orientation in ("left", "right") else metrics.horizontalAdvance("0.001") * 1.3

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        span = max(maxVal - minVal, 1e-9)
        per_decade = size / span
        room = self._label_room()
        every = max(1, math.ceil(room / per_decade)) if per_decade > 0 else 1
        first, last = math.floor(minVal), math.ceil(maxVal)
        decades = [float(d) for d in range(first, last + 1) if minVal - 1e-9 <= d <= maxVal + 1e-9]
        major = [d for d in decades if int(d) % every == 0]
        minor = [d + math.log10(m) for d in range(first, last) for m in range(2, 10)
                 if minVal < d + math.log10(m) < maxVal]
        self.labelled = set(major)
        # 2 and 5 sit 0.3 and 0.7 of a decade up: room for them when 0.3 of a decade holds a label
        if per_decade * 0.3 >= room:
            self.labelled |= {v for v in minor if round(10 ** (v - math.floor(v + 1e-9))) in (2, 5)}
        return [(1.0, major), (None, minor)]

    def logTickStrings(self, values, scale, spacing):
        return [f"{10 ** v:.12g}" if any(abs(v - w) < 1e-9 for w in self.labelled) else "" for v in values]


class RoomyAxis(pg.AxisItem):
    """An axis whose labelled ticks are at least one and a half labels apart: the step doubles until they are.

    pyqtgraph labels every major tick however close they come, so a narrow
    histogram read "0.20.40.60.8"; the ticks in between stay, unlabelled.
    """

    def tickSpacing(self, minVal, maxVal, size):
        levels = super().tickSpacing(minVal, maxVal, size)
        span = maxVal - minVal
        if not levels or size <= 0 or not span > 0:
            return levels
        metrics = QFontMetrics(self.style.get("tickFont") or self.font())
        along = (lambda text: metrics.horizontalAdvance(text)) if self.orientation in ("top", "bottom") \
            else (lambda text: metrics.height())
        major, offset = levels[0]
        step = major
        while step * size / span < 1.5 * max(along(f"{v:g}") for v in (minVal, maxVal, minVal + step)):
            step *= 2
        if step == major:
            return levels
        return [(step, offset), (major, offset)]


def make_plot(title: str, left: str, bottom: str = "epoch", tip: str = "", log_y: bool = False) -> pg.PlotWidget:
    axes = {"bottom": RoomyAxis("bottom")}
    if log_y:
        axes["left"] = LogAxis("left")
    w = pg.PlotWidget(axisItems=axes)
    style_plot(w, f"<b>{title}</b>", left, bottom, si_prefix=False)  # "loss (x0.001)" confuses more than it helps
    w.setMinimumSize(*PLOT_MIN)
    w.setToolTip(tip)
    add_save_menu(w, title)
    return w


#: the smallest a plot gets: three columns of them beside the settings fit a 1024-pixel-wide window
PLOT_MIN = (170, 130)
#: the boundary and the confusion matrix need a little more: a 10-class matrix with its axes and title
RIGHT_MIN_WIDTH = 250

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

