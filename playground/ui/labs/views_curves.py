"""The figures of the labs that train arms and compare curves: optimizers, initializations, overfitting, sin."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from playground.engine.lab.init_mnist import INITS as INIT_MNIST_INITS
from playground.engine.lab.optimizers_mnist import Settings as OptimizerRace
from playground.engine.nn.optimizers import OPTIMIZERS
from playground.ui.builder.catalog import SETTING_SYMBOLS, optimizer_defaults
from playground.ui.labs.views_basic import PALETTE, LabView, _nan, restyle_all, small_plot
from playground.ui.optimizer_lab.drawing import COLORS as OPTIMIZER_COLORS
from playground.ui.plotlook import look


#: the book's settings of each optimizer raced on MNIST
_BOOK = OptimizerRace().optimizers
#: a colour for each initialization raced on MNIST, whichever others are ticked
_INIT_COLORS = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(INIT_MNIST_INITS)}


def _changed(name: str, cfg: dict | None) -> str:
    """`` (η 0.003, β₁ 0.8)``: the settings of optimizer ``name`` that differ from the book's (a setting the
    book leaves out counts at the optimizer's default), or ''."""
    if name not in OPTIMIZERS:
        return ""
    book = {**optimizer_defaults(name), **_BOOK.get(name, {})}
    changed = [f"{SETTING_SYMBOLS.get(k, k)} {v:g}" for k, v in (cfg or {}).items()
               if isinstance(v, (int, float)) and book.get(k) != v]
    return f" ({', '.join(changed)})" if changed else ""


class LossCurvesView(LabView):
    """Every arm's batch losses overlaid (optimizers-mnist, init-mnist), as the book's ch. 6.1 and 6.2 figures."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_area(420)
        self.plot = small_plot(self.plots, 0, 0, "loss of every batch")
        self.plot.setLabel("bottom", "iterations")
        self.plot.setLabel("left", "loss")
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.curves: dict[str, pg.PlotDataItem] = {}
        restyle_all(self.plots, [self.plot])

    def show_result(self, result: dict) -> None:
        self.plot.clear()
        self.legend.clear()
        self.curves.clear()
        for i, (name, run) in enumerate(result["runs"].items()):
            loss = _nan(run["loss"])
            label = (f"{name}{_changed(name, result.get('settings', {}).get('optimizers', {}).get(name))}: "
                     f"{result['final_loss'][name]:.3f}" + (" (diverged)" if run["diverged"] else ""))
            # each optimizer in its colour of the optimizer lab, whichever others are raced
            colour = OPTIMIZER_COLORS.get(name) or _INIT_COLORS.get(name) or PALETTE[i % len(PALETTE)]
            self.curves[name] = self.plot.plot(np.arange(1, len(loss) + 1), loss, name=label,
                                               pen=pg.mkPen(colour, width=1.5))
        self.plot.setYRange(0, 2.5)
        restyle_all(self.plots, [self.plot])


class OverfittingView(LabView):
    """One panel per arm: train accuracy (inference mode) and test accuracy over epochs, the running mean faint.

    Panels go :data:`PER_ROW` to a row (arms a person adds wrap to the next), and only the first carries
    the legend: the curves are the same three in each, and a legend in every narrow panel was cut off.
    """

    PER_ROW = 3
    ROW_HEIGHT = 380

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_area(self.ROW_HEIGHT)
        self.curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        self.plot_items: list[pg.PlotItem] = []

    def show_result(self, result: dict) -> None:
        self.plots.clear()
        self.curves.clear()
        self.plot_items = []
        rows = max(1, -(-len(result["arms"]) // self.PER_ROW))
        self.plots.setMinimumHeight(self.ROW_HEIGHT * rows)
        for i, (name, arm) in enumerate(result["arms"].items()):
            plot = small_plot(self.plots, i // self.PER_ROW, i % self.PER_ROW,
                              f"{name.replace('_', ' ')}: gap {arm['gap']:.2f}")
            plot.setLabel("bottom", "epochs")
            plot.setLabel("left", "accuracy")
            plot.setYRange(0, 1.0)
            if i == 0:
                plot.addLegend(offset=(-5, -5), labelTextSize="8pt")
            c = arm["curves"]
            epochs = np.arange(1, len(c["train"]) + 1)
            self.curves[name] = {
                "train": plot.plot(epochs, _nan(c["train"]), name="train", pen=pg.mkPen(PALETTE[0], width=2)),
                "test": plot.plot(epochs, _nan(c["test"]), name="test", pen=pg.mkPen(PALETTE[1], width=2)),
                "running_train": plot.plot(epochs, _nan(c["running_train"]), name="train, running mean (dropout on)",
                                           pen=pg.mkPen(PALETTE[2], width=1.5, style=Qt.PenStyle.DotLine))}
            self.plot_items.append(plot)
        restyle_all(self.plots, self.plot_items)


class SinView(LabView):
    """The training points, sin and the fit on a grid shifted by half a step and past the data; the loss."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_area(420)
        self.plot = small_plot(self.plots, 0, 0, "y = sin(x) and the network's fit")
        self.plot.setLabel("bottom", "x")
        self.plot.addLegend(offset=(10, 10))
        self.loss_plot = small_plot(self.plots, 1, 0, "training loss (MSE) per epoch")
        self.loss_plot.setLabel("bottom", "epochs")
        self.loss_plot.setLogMode(y=True)
        self.loss_plot.getAxis("left").setStyle(maxTextLevel=0)
        self.plots.ci.layout.setRowStretchFactor(0, 3)
        self.plots.ci.layout.setRowStretchFactor(1, 1)
        self.train = self.plot.plot([], [], pen=None, symbol="o", symbolSize=4, symbolBrush=PALETTE[0],
                                    symbolPen=None, name="training points")
        self.truth = self.plot.plot([], [], pen=pg.mkPen(look()["muted"], width=1, style=Qt.PenStyle.DashLine),
                                    name="sin(x)")
        self.fit = self.plot.plot([], [], pen=pg.mkPen(PALETTE[3], width=2), name="fit, between and past the points")
        self.edge = pg.InfiniteLine(angle=90, pen=pg.mkPen(look()["muted"]), label="end of the data",
                                    labelOpts={"position": 0.1, "color": look()["muted"]})
        self.plot.addItem(self.edge)
        self.loss = self.loss_plot.plot([], [], pen=pg.mkPen(PALETTE[0], width=1.5))
        restyle_all(self.plots, [self.plot, self.loss_plot])

    def show_result(self, result: dict) -> None:
        self.train.setData(result["x_train"], result["y_train"])
        self.truth.setData(result["x_grid"], result["y_true"])
        self.fit.setData(result["x_grid"], _nan(result["y_fit"]))
        self.edge.setValue(result["settings"]["x_max"])
        self.plot.setYRange(-2, 2)
        loss = _nan(result["loss"])
        self.loss.setData(np.arange(1, len(loss) + 1), loss)
