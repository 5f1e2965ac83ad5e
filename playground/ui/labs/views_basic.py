"""The figures of the instant labs and the gradient check: perceptron lines, activation curves, relative errors.

Every view is a :class:`LabView`: ``show_result(result)`` draws a lab's result; a view whose controls
change the lab's settings (the perceptron's sliders) gives them with ``overrides()`` and says so with
``changed``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QSlider, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from playground.engine.lab.perceptron import _line
from playground.ui.plotlook import look, restyle

#: curve colours, one per arm (the book's matplotlib order)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


class LabView(QWidget):
    """A lab's figures."""

    changed = Signal()

    def plot_area(self, min_height: int) -> QVBoxLayout:
        """The view's layout holding ``self.plots``, a grid of plots at least ``min_height`` px tall."""
        layout = QVBoxLayout(self)
        self.plots = graphics()
        self.plots.setMinimumHeight(min_height)
        layout.addWidget(self.plots)
        return layout

    def overrides(self) -> dict[str, Any]:
        """Settings the view's own controls set (none for most labs)."""
        return {}

    def show_result(self, result: dict) -> None:
        raise NotImplementedError


def small_plot(layout: pg.GraphicsLayoutWidget, row: int, col: int, title: str = "",
               points: int = 9) -> pg.PlotItem:
    plot = layout.addPlot(row=row, col=col)
    if title:
        plot.setTitle(title, size=f"{points}pt", color=look()["title"])
    plot.showGrid(x=True, y=True, alpha=0.15)
    return plot


def graphics() -> pg.GraphicsLayoutWidget:
    w = pg.GraphicsLayoutWidget()
    w.setBackground(look()["bg"])
    return w


def restyle_all(w: pg.GraphicsLayoutWidget, plots) -> None:
    """Restyle a grid of plots, and make the widget as wide as the grid needs: pyqtgraph draws a grid wider
    than its widget cut off at the right edge, where the lab page's scroll area can scroll to it instead."""
    restyle(w, list(plots))
    w.setMinimumWidth(math.ceil(w.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).width()))


GATES = ("AND", "OR", "NAND")
SLIDER_STEPS = 100  # slider units per 1.0


class PerceptronView(LabView):
    """Per gate: sliders for w1, w2 and b, the four points and the line, the truth table; then XOR in two layers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.plots = graphics()
        self.plots.setMinimumHeight(300)
        layout.addWidget(self.plots, 1)
        controls = QGridLayout()
        layout.addLayout(controls)
        self.sliders: dict[str, dict[str, QSlider]] = {}
        self.values: dict[str, QLabel] = {}
        self.tables: dict[str, QLabel] = {}
        self.points: dict[str, pg.ScatterPlotItem] = {}
        self.lines: dict[str, pg.PlotDataItem] = {}
        self.plot_items: dict[str, pg.PlotItem] = {}
        for col, gate in enumerate((*GATES, "XOR")):
            plot = small_plot(self.plots, 0, col, gate)
            plot.setXRange(-0.5, 1.5, padding=0)
            plot.setYRange(-0.5, 1.5, padding=0)
            plot.disableAutoRange()
            plot.setMouseEnabled(x=False, y=False)
            plot.setLabel("bottom", "x1")
            plot.setLabel("left", "x2")
            plot.getAxis("bottom").setTicks([[(0, "0"), (1, "1")], [(0.5, "")]])  # 0.5 and 1.0 collide when narrow
            self.plot_items[gate] = plot
            self.lines[gate] = plot.plot([], [], pen=pg.mkPen(PALETTE[3], width=2))
            self.points[gate] = pg.ScatterPlotItem(size=16)
            plot.addItem(self.points[gate])
            box = QVBoxLayout()
            if gate != "XOR":
                self.sliders[gate] = {}
                for key, tip in (("w1", "the weight of x1"), ("w2", "the weight of x2"), ("b", "the bias")):
                    row = QHBoxLayout()
                    s = QSlider(Qt.Orientation.Horizontal)
                    s.setObjectName(f"{gate}_{key}")
                    s.setRange(-150, 150)
                    s.setToolTip(f"{gate}: {tip}; the unit fires (y = 1) when w1·x1 + w2·x2 + b > 0")
                    s.valueChanged.connect(self._slid)
                    name = QLabel(key)
                    name.setMinimumWidth(18)
                    row.addWidget(name)
                    row.addWidget(s, 1)
                    self.sliders[gate][key] = s
                    box.addLayout(row)
                self.values[gate] = QLabel()
                self.values[gate].setWordWrap(True)  # four gates side by side fit a 1024-pixel screen
                box.addWidget(self.values[gate])
            table = QLabel()
            table.setTextFormat(Qt.TextFormat.RichText)
            table.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            table.setWordWrap(True)
            self.tables[gate] = table
            box.addWidget(table)
            box.addStretch(1)
            controls.addLayout(box, 0, col)
        restyle_all(self.plots, self.plot_items.values())
        self._quiet = False

    def set_gates(self, gates: dict[str, list[float]]) -> None:
        """Put the sliders at these [w1, w2, b] without a ``changed`` for each."""
        self._quiet = True
        for gate, (w1, w2, b) in gates.items():
            for key, v in zip(("w1", "w2", "b"), (w1, w2, b)):
                self.sliders[gate][key].setValue(round(v * SLIDER_STEPS))
        self._quiet = False

    def gates(self) -> dict[str, list[float]]:
        return {g: [self.sliders[g][k].value() / SLIDER_STEPS for k in ("w1", "w2", "b")] for g in GATES}

    def overrides(self) -> dict[str, Any]:
        return {"gates": self.gates()}

    def _slid(self, _value: int) -> None:
        if not self._quiet:
            self.changed.emit()

    def show_result(self, result: dict) -> None:
        gates = result["gates"]
        for gate in GATES:
            g = gates[gate]
            self.values[gate].setText(f"y = step({g['weights'][0]:g}·x1 + {g['weights'][1]:g}·x2 + {g['bias']:g})")
            self._draw(gate, g["truth_table"], g["line"], g["correct"])
        xor = result["xor"]
        best = xor["best_single_line"]
        w = best["weights"]
        self._draw("XOR", xor["truth_table"], _line(w, best["bias"]), xor["correct"])
        rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{h[0]}</td><td>{h[1]}</td><td><b>{y}</b></td></tr>"
                       for (a, b, y), h in zip(xor["truth_table"], xor["hidden"]))
        self.tables["XOR"].setText(
            "<b>XOR = AND(NAND(x), OR(x))</b><table cellpadding='3'><tr><th>x1</th><th>x2</th><th>NAND</th>"
            f"<th>OR</th><th>y</th></tr>{rows}</table><br>the dashed line: the best single line of "
            f"{best['lines_tried']:,}, right on {best['correct_points']} of 4 points")
        self.lines["XOR"].setPen(pg.mkPen(look()["muted"], width=2, style=Qt.PenStyle.DashLine))

    def _draw(self, gate: str, table: list[list[int]], line: dict, correct: bool) -> None:
        xs = [r[0] for r in table]
        ys = [r[1] for r in table]
        fill = [pg.mkBrush(PALETTE[0]) if r[2] else pg.mkBrush(look()["bg"]) for r in table]
        self.points[gate].setData(xs, ys, brush=fill, pen=pg.mkPen(PALETTE[0], width=2))
        self.lines[gate].setData(line["x"], line["y"])
        if gate != "XOR":
            rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td><b>{y}</b></td></tr>" for a, b, y in table)
            mark = "matches" if correct else "<span style='color:#d62728'>does not match</span>"
            self.tables[gate].setText(f"<table cellpadding='3'><tr><th>x1</th><th>x2</th><th>y</th></tr>{rows}"
                                      f"</table>{mark} {gate}'s truth table")


class ActivationsView(LabView):
    """One small plot per function: the curve (solid) and its derivative (dashed), its peak marked."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_area(420)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.derivatives: dict[str, pg.PlotDataItem] = {}
        self.plot_items: dict[str, pg.PlotItem] = {}

    def show_result(self, result: dict) -> None:
        self.plots.clear()
        self.curves.clear()
        self.derivatives.clear()
        self.plot_items.clear()
        x = np.asarray(result["x"], float)
        for i, (name, c) in enumerate(result["curves"].items()):
            peak = result["max_derivative"][name]
            title = f"{'softmax([x, 0])[0]' if name == 'softmax' else name}: max slope {peak:.3g}"
            plot = small_plot(self.plots, i // 4, i % 4, title)
            plot.addLegend(offset=(5, 5), labelTextSize="8pt")
            self.curves[name] = plot.plot(x, _nan(c["y"]), pen=pg.mkPen(PALETTE[0], width=2), name="f(x)")
            self.derivatives[name] = plot.plot(x, _nan(c["dy"]), name="f′(x)",
                                               pen=pg.mkPen(PALETTE[1], width=2, style=Qt.PenStyle.DashLine))
            plot.addItem(pg.InfiniteLine(pos=peak, angle=0, pen=pg.mkPen(look()["muted"], style=Qt.PenStyle.DotLine)))
            self.plot_items[name] = plot
        restyle_all(self.plots, self.plot_items.values())


def _nan(values: list) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], float)


class GradcheckView(LabView):
    """A table of relative errors per tensor, their histogram on a log scale, and both timings."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["tensor", "entries checked", "relative error"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("Relative error |backprop − numerical| / max(|backprop|, |numerical|), the worst "
                              "entry of each tensor")
        self.table.setMinimumWidth(420)
        left.addWidget(self.table, 1)
        self.timings = QLabel()
        self.timings.setWordWrap(True)
        left.addWidget(self.timings)
        layout.addLayout(left, 1)
        self.plots = graphics()
        self.plots.setMinimumHeight(320)
        self.hist_plot = small_plot(self.plots, 0, 0, "tensors by relative error")
        self.hist_plot.setLabel("bottom", "log10 relative error")
        self.hist_plot.setLabel("left", "tensors")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.9, brush=PALETTE[0])
        self.hist_plot.addItem(self.bars)
        self.tolerance = pg.InfiniteLine(angle=90, pen=pg.mkPen(PALETTE[3], style=Qt.PenStyle.DashLine),
                                         label="tolerance", labelOpts={"position": 0.9, "color": PALETTE[3]})
        self.hist_plot.addItem(self.tolerance)
        layout.addWidget(self.plots, 1)
        restyle_all(self.plots, [self.hist_plot])

    def show_result(self, result: dict) -> None:
        tensors = result["tensors"]
        self.table.setRowCount(len(tensors))
        for row, (name, err) in enumerate(tensors.items()):
            checked, total = result["checked"][name]
            cells = (name, f"{checked:,} of {total:,}", f"{err:.2e}")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 2 and err > result["tolerance"]:
                    item.setForeground(pg.mkColor(PALETTE[3]))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        edges = np.log10(np.asarray(result["histogram"]["edges"]))
        counts = result["histogram"]["counts"]
        self.bars.setOpts(x=(edges[:-1] + edges[1:]) / 2, height=counts, width=0.9 * np.diff(edges))
        self.tolerance.setValue(math.log10(result["tolerance"]))
        self.timings.setText(
            f"<b>Backprop</b>: every gradient in {result['seconds_backprop'] * 1000:.1f} ms. "
            f"<b>Central differences</b>: {sum(c for c, _ in result['checked'].values()):,} entries in "
            f"{result['seconds_numerical']:.2f} s; all of them would take about "
            f"{result['seconds_numerical_all']:,.1f} s. Inputs: {result['inputs']}.")
