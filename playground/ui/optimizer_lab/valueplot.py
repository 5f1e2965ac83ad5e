"""The optimizer lab's f − f* (or f) against step plot, its key under the curves and its axes grown in jumps."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QWidget

from playground.engine.lab.paths import LAB_OPTIMIZERS, OPTIMIZER_INFO
from playground.ui.optimizer_lab.drawing import COLORS
from playground.ui.plotexport import add_save_menu
from playground.ui.optimizer_lab.mapview import top_room
from playground.ui.optimizer_lab.race import RaceModel

__all__ = ["ValuePlot", "LEGEND_COLUMNS"]

LEGEND_COLUMNS = 3  # the key under the plot: two rows of three


class ValuePlot(pg.PlotWidget):
    """f − f* on a log axis when the minimum is known, else f (or its symlog), per optimizer, against the step.

    The key sits under the plot, in the plot item's own layout, so it never
    covers a curve. The step axis grows in jumps (20, 40, 80, …) and the value
    axis snaps to whole decades or round steps, so ticks are not redrawn at
    every step.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumHeight(200)
        fi = self.getPlotItem()
        fi.setLabel("bottom", "step")
        for side in ("left", "bottom"):
            fi.getAxis(side).enableAutoSIPrefix(False)
            fi.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        fi.showGrid(x=True, y=True, alpha=0.25)
        fi.setClipToView(True)
        fi.setDownsampling(auto=True, mode="peak")
        fi.setContentsMargins(0, top_room(self), 6, 0)
        self.legend = pg.LegendItem(labelTextSize="8pt", colCount=LEGEND_COLUMNS, frame=False, horSpacing=6)
        fi.layout.addItem(self.legend, 4, 1)  # under the bottom axis, beside no curve
        fi.legend = self.legend  # curves named below join it, and restyle() colours it with the plot
        self.fcurves: dict[str, pg.PlotDataItem] = {}
        for name in LAB_OPTIMIZERS:
            self.fcurves[name] = self.plot(pen=pg.mkPen(COLORS[name], width=2), name=OPTIMIZER_INFO[name][0])
        self._label = ""
        add_save_menu(self, "Value per step")
        self._step_span = 0
        self._value_span: tuple[float, float] | None = None

    def show_function(self, log: bool) -> None:
        """A new function: log value axis when its minimum is known; axes fitted afresh at the next draw."""
        self.getPlotItem().setLogMode(y=log)
        self._step_span, self._value_span = 0, None

    def set_visible(self, name: str, on: bool) -> None:
        self.fcurves[name].setVisible(on)

    def draw(self, race: RaceModel) -> None:
        """Every optimizer's curve in the scale the race chose; the axes follow the enabled ones."""
        label = race.value_label()
        if label != self._label:
            self._label = label
            self.getPlotItem().setLabel("left", label)
        lab = race.lab
        y_lo, y_hi = math.inf, -math.inf
        for name in LAB_OPTIMIZERS:
            y = race.curve(name)
            self.fcurves[name].setData(np.arange(len(y)), y)
            if lab.enabled[name] and len(y):
                finite = y[np.isfinite(y)]
                if finite.size:
                    y_lo, y_hi = min(y_lo, float(finite.min())), max(y_hi, float(finite.max()))
        self._grow_step_axis(lab.step_count)
        self._fit_value_axis(y_lo, y_hi, race.function.f_min is not None)

    def _grow_step_axis(self, n: int) -> None:
        """The step axis grows in jumps (20, 40, 80, …), so its ticks are not redrawn every step."""
        span = 20
        while span < n:
            span *= 2
        if span != self._step_span:
            self._step_span = span
            self.getPlotItem().setXRange(0, span, padding=0.02)

    def _fit_value_axis(self, lo: float, hi: float, log: bool) -> None:
        """The value axis in whole decades (log) or round steps (linear), reset only when that changes."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return
        if log:
            lo, hi = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
            lo = min(lo, hi - 3)  # at least three decades, so the ticks stay whole powers of ten
        else:
            span = hi - lo
            unit = 10.0 ** math.floor(math.log10(span)) if span > 0 else max(abs(hi), 1.0) * 0.1
            lo, hi = math.floor(lo / unit) * unit, math.ceil(hi / unit) * unit
            if hi <= lo:
                lo, hi = lo - unit, hi + unit
        if (lo, hi) != self._value_span:
            self._value_span = (lo, hi)
            self.getPlotItem().setYRange(lo, hi, padding=0.03)
