"""The Search lab's plots: where trials sampled, the best trials' curves as the book draws them, and the samplers'
best-so-far race.

- :class:`ScatterView`: learning rate against weight decay on log axes, each
  finished trial a dot coloured by its validation accuracy (a colour bar says
  how), diverged and failed trials grey crosses;
- :class:`CurvesGrid`: the best 20 trials' accuracy curves in a 5 x 4 grid,
  "Best-1" first, validation solid and training dashed (the book's figure in
  chapter 6.5);
- :class:`CompareView`: best-so-far validation accuracy against trial number
  for random search and TPE, run with the same budget and seed, and where each
  sampled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from playground.engine.search.space import BOOK_LR, BOOK_WEIGHT_DECAY
from playground.ui.plotlook import look, restyle
from playground.ui.search_lab.table import ranked

GRID_COLUMNS, GRID_ROWS = 5, 4
SAMPLER_COLORS = {"random": "#1f77b4", "tpe": "#e8710a"}
SAMPLER_NAMES = {"random": "Random", "tpe": "TPE"}
COLORMAP = pg.colormap.get("viridis")


def is_done(r: dict[str, Any]) -> bool:
    return r["status"] == "finished" and r["val_accuracy"] is not None


class ScatterView(pg.GraphicsLayoutWidget):
    """Learning rate (x) against weight decay (y), both on log axes, coloured by validation accuracy."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = self.addPlot(0, 0)
        self.plot.setTitle(title, size="10pt")
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "weight decay")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLogMode(x=True, y=True)
        for name in ("left", "bottom"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)  # 10^-3 on the axis, not "(x0.001)" in its label
        self.points = pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=9, symbolPen=pg.mkPen("#444", width=0.5))
        self.bad = pg.PlotDataItem([], [], pen=None, symbol="x", symbolSize=9, symbolPen=None,
                                   symbolBrush=pg.mkBrush("#999999"))
        self.plot.addItem(self.points)
        self.plot.addItem(self.bad)
        self.bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=COLORMAP, interactive=False, width=12,
                                   label="validation accuracy")
        self.addItem(self.bar, 0, 1)
        self.setToolTip("Each dot is a finished trial at its learning rate and weight decay, coloured by its "
                        "validation accuracy (yellow best, purple worst); grey crosses diverged or failed. "
                        "Good trials gather in a band: narrow the ranges to it and search again.")
        self.setMinimumSize(260, 200)
        self.set_ranges(BOOK_LR, BOOK_WEIGHT_DECAY)
        restyle(self, [self.plot])

    def set_ranges(self, lr: tuple[float, float], weight_decay: tuple[float, float]) -> None:
        """Frame the searched ranges (a decade more when a range is one value)."""
        for axis, (low, high) in (("x", lr), ("y", weight_decay)):
            if axis == "y" and low <= 0:
                self.plot.enableAutoRange(axis="y")
                continue
            a, b = np.log10(low), np.log10(high)
            (self.plot.setXRange if axis == "x" else self.plot.setYRange)(a - (a == b), b + (a == b), padding=0.05)

    def show_records(self, records: list[dict[str, Any]]) -> None:
        done = [r for r in records if is_done(r)]
        bad = [r for r in records if not is_done(r)]
        positive = all(r["params"]["weight_decay"] > 0 for r in records)
        self.plot.setLogMode(x=True, y=positive)  # a weight decay held at 0 has no logarithm
        self.plot.setLabel("left", "weight decay" if positive else "weight decay (linear: it includes 0)")
        lr = np.array([r["params"]["lr"] for r in done], dtype=float)
        wd = np.array([r["params"]["weight_decay"] for r in done], dtype=float)
        acc = np.array([r["val_accuracy"] for r in done], dtype=float)
        brushes = [pg.mkBrush(c) for c in COLORMAP.map(np.clip(acc, 0, 1), mode="qcolor")] if len(done) else []
        self.points.setData(lr, wd, symbolBrush=brushes)
        self.bad.setData(np.array([r["params"]["lr"] for r in bad], dtype=float),
                         np.array([r["params"]["weight_decay"] for r in bad], dtype=float))

    def point_values(self) -> list[tuple[float, float]]:
        """The dots' (learning rate, weight decay), as given (not their logarithms)."""
        return list(zip(self.points.xData.tolist(), self.points.yData.tolist(), strict=True))


class CurvesGrid(QWidget):
    """The best 20 trials' training and validation accuracy per epoch, each in its own small plot."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel("The best 20 trials by validation accuracy, as the book draws them: "
                              "<b>solid</b> validation accuracy, <b>dashed</b> training accuracy, per epoch "
                              "(0 to 1). A wide gap between them means overfitting.")
        self.caption.setWordWrap(True)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setMinimumSize(500, 340)
        self.plots: list[pg.PlotItem] = []
        self.val_curves: list[pg.PlotDataItem] = []
        self.train_curves: list[pg.PlotDataItem] = []
        pen = look()["text"]
        for k in range(GRID_COLUMNS * GRID_ROWS):
            row, col = divmod(k, GRID_COLUMNS)
            p = self.canvas.addPlot(row, col)
            p.setYRange(0, 1, padding=0.02)
            p.setMouseEnabled(False, False)
            p.hideButtons()
            p.getAxis("left").setStyle(showValues=col == 0, tickLength=-4)
            p.getAxis("bottom").setStyle(showValues=row == GRID_ROWS - 1, tickLength=-4)
            p.getAxis("left").setWidth(28 if col == 0 else 6)
            self.val_curves.append(p.plot([], [], pen=pg.mkPen(pen, width=1.5)))
            self.train_curves.append(p.plot([], [], pen=pg.mkPen(pen, width=1.2, style=Qt.PenStyle.DashLine)))
            self.plots.append(p)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.canvas, 1)
        restyle(self.canvas, self.plots)
        self.titles: list[str] = [""] * len(self.plots)

    def show_records(self, records: list[dict[str, Any]]) -> None:
        best = [r for r in ranked(records) if is_done(r)][:len(self.plots)]
        both = len({r.get("sampler") for r in records}) > 1
        for k, p in enumerate(self.plots):
            if k < len(best):
                r = best[k]
                epochs = [e["epoch"] for e in r["epochs"]]
                val = [np.nan if e["val_accuracy"] is None else e["val_accuracy"] for e in r["epochs"]]
                train = [np.nan if e["accuracy"] is None else e["accuracy"] for e in r["epochs"]]
                self.val_curves[k].setData(epochs, val)
                self.train_curves[k].setData(epochs, train)
                who = f" {SAMPLER_NAMES.get(r.get('sampler'), '')}" if both else ""
                title = f"Best-{k + 1}{who} ({r['val_accuracy']:.2f})"
            else:
                self.val_curves[k].setData([], [])
                self.train_curves[k].setData([], [])
                title = ""
            if self.titles[k] != title:
                self.titles[k] = title
                p.setTitle(title, size="8pt")


def best_so_far(records: list[dict[str, Any]], sampler: str) -> tuple[list[int], list[float]]:
    """Trial numbers (from 1) and the best validation accuracy among the trials up to each (0 before any
    finished), for one sampler's trials received so far, in trial order."""
    mine = sorted((r for r in records if r.get("sampler") == sampler), key=lambda r: r["trial"])
    xs, ys, best = [], [], 0.0
    for r in mine:
        if is_done(r):
            best = max(best, r["val_accuracy"])
        xs.append(r["trial"] + 1)
        ys.append(best)
    return xs, ys


class CompareView(QWidget):
    """Random search and TPE side by side: best-so-far validation accuracy, and where each sampled."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.note = QLabel("Choose the sampler <b>Both: random vs TPE</b> and Run: the two search with the same "
                           "number of trials and seed, one after the other. TPE's first 10 trials are random; "
                           "then it samples where the good trials so far are denser than the others.")
        self.note.setWordWrap(True)
        self.race = pg.PlotWidget()
        item = self.race.getPlotItem()
        item.setTitle("Best validation accuracy so far", size="10pt")
        item.setLabel("bottom", "trial")
        item.setLabel("left", "best val accuracy")
        item.showGrid(x=True, y=True, alpha=0.25)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.setYRange(0, 1, padding=0.02)
        item.addLegend(offset=(-10, -10))
        self.race.setToolTip("For trial n: the best validation accuracy among trials 1..n of each sampler. "
                             "The higher curve found good values with fewer trials.")
        self.race.setMinimumSize(300, 180)
        self.curves = {s: self.race.plot([], [], pen=pg.mkPen(c, width=2), symbol="o", symbolSize=5,
                                         symbolBrush=c, symbolPen=None, name=SAMPLER_NAMES[s])
                       for s, c in SAMPLER_COLORS.items()}
        self.scatters = {s: ScatterView(f"{SAMPLER_NAMES[s]}: where it sampled") for s in SAMPLER_COLORS}
        layout = QGridLayout(self)
        layout.addWidget(self.note, 0, 0, 1, 2)
        layout.addWidget(self.race, 1, 0, 1, 2)
        layout.addWidget(self.scatters["random"], 2, 0)
        layout.addWidget(self.scatters["tpe"], 2, 1)
        layout.setRowStretch(1, 2)
        layout.setRowStretch(2, 3)
        restyle(self.race)

    def show_records(self, records: list[dict[str, Any]]) -> None:
        for sampler, curve in self.curves.items():
            curve.setData(*best_so_far(records, sampler))
        for sampler, view in self.scatters.items():
            view.show_records([r for r in records if r.get("sampler") == sampler])
