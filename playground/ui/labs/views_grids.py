"""The labs drawn as small multiples: init histograms, batch norm's 4 × 4 grid, filters, the misclassified gallery."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from playground.ui.labs.views_basic import PALETTE, LabView, graphics, restyle_all, small_plot
from playground.ui.plotlook import look


def image_grid(layout: pg.GraphicsLayout, images, cols: int, captions=None, symmetric: bool = False,
               ink: bool = False, filters: bool = False) -> list[pg.ImageItem]:
    """``images`` (each 2-D) as a grid of ``cols`` columns of square cells in ``layout``, captions above.

    ``symmetric`` draws each image with levels ±max|value| (a filter: grey is 0); ``ink`` draws dark on
    light (the book's gray_r), for digits; ``filters`` the same from each image's own minimum to its maximum
    (the book's filter pictures).
    """
    items = []
    for i, image in enumerate(images):
        row, col = divmod(i, cols)
        cell = layout.addLayout(row=row, col=col)
        cell.setSpacing(0)
        if captions is not None:
            cell.addLabel(captions[i], size="8pt", color=look()["text"])
            cell.nextRow()
        box = cell.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        a = np.asarray(image, float)
        item = pg.ImageItem(a.T)
        if symmetric:
            m = float(np.abs(a).max()) or 1.0
            item.setLevels([-m, m])
        elif filters:
            item.setImage(-a.T, levels=[-float(a.max()), -float(a.min()) or 1.0])
        elif ink:
            item.setImage(1.0 - a.T, levels=[0.0, 1.0])
        else:
            item.setLevels([float(a.min()), float(a.max()) or 1.0])
        box.addItem(item)
        box.setRange(xRange=(0, a.shape[1]), yRange=(0, a.shape[0]), padding=0.02)
        items.append(item)
    return items


#: the initializations' names in a panel's title (the lab's result names them in full)
SHORT_INITS = {"std=1": "std 1", "std=0.01": "std 0.01", "lecun": "book's Xavier 1/√n", "he": "He √(2/n)"}


class InitHistogramsView(LabView):
    """For one activation (chosen above): one row per initialization, five histograms (one per layer) each."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Activation:"))
        self.activation = QComboBox()
        self.activation.setToolTip("Which activation's histograms to show; each row is one way to draw the "
                                   "initial weights, each column one of the five layers")
        self.activation.currentTextChanged.connect(self._draw)
        row.addWidget(self.activation)
        row.addStretch(1)
        layout.addLayout(row)
        self.plots = graphics()
        self.plots.setMinimumHeight(560)
        layout.addWidget(self.plots)
        self.result: dict | None = None
        self.bars: dict[str, list[pg.BarGraphItem]] = {}
        self.plot_items: list[pg.PlotItem] = []

    def show_result(self, result: dict) -> None:
        self.result = result
        acts = list(dict.fromkeys(k.split("/")[0] for k in result["runs"]))
        self.activation.blockSignals(True)
        current = self.activation.currentText()
        self.activation.clear()
        self.activation.addItems(acts)
        self.activation.setCurrentText(current if current in acts else acts[0])
        self.activation.blockSignals(False)
        self._draw(self.activation.currentText())

    def _draw(self, act: str) -> None:
        if self.result is None or not act:
            return
        self.plots.clear()
        self.bars.clear()
        self.plot_items = []
        runs = {k: v for k, v in self.result["runs"].items() if k.startswith(act + "/")}
        for r, (key, run) in enumerate(runs.items()):
            init = key.split("/", 1)[1]
            label = SHORT_INITS.get(init, init)
            lo, hi = run["range"]
            self.bars[key] = []
            for layer, counts in enumerate(run["histograms"]):
                title = (f"<b>{label}</b> · " if layer == 0 else "") + (
                    f"layer {layer + 1}<br>σ {run['std'][layer]:.2g} · {run['saturated'][layer]:.0%} saturated")
                plot = small_plot(self.plots, r, layer, title, points=8)
                edges = np.linspace(lo, hi, len(counts) + 1)
                bars = pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts, brush=PALETTE[r % len(PALETTE)],
                                       pen=None)
                plot.addItem(bars)
                plot.setXRange(lo, hi, padding=0.02)
                plot.getAxis("left").setStyle(showValues=layer == 0)
                self.bars[key].append(bars)
                self.plot_items.append(plot)
        restyle_all(self.plots, self.plot_items)


class BatchnormView(LabView):
    """The book's 4 × 4 grid: train accuracy over epochs at each weight scale, with (solid) and without (dashed)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_area(620)
        self.curves: list[dict[str, pg.PlotDataItem]] = []
        self.plot_items: list[pg.PlotItem] = []

    def show_result(self, result: dict) -> None:
        self.plots.clear()
        self.curves = []
        self.plot_items = []
        n = len(result["scales"])
        cols = max(1, math.ceil(math.sqrt(n)))
        for i, scale in enumerate(result["scales"]):
            plot = small_plot(self.plots, i // cols, i % cols, f"W: {scale:.3g}")
            plot.setYRange(0, 1, padding=0.02)
            with_bn = result["curves"]["with_bn"][i]
            without = result["curves"]["without_bn"][i]
            epochs = np.arange(1, len(with_bn) + 1)
            if i == 0:
                plot.addLegend(offset=(5, 5), labelTextSize="8pt")
            self.curves.append({
                "with_bn": plot.plot(epochs, with_bn, pen=pg.mkPen(PALETTE[0], width=2), name="with batch norm"),
                "without_bn": plot.plot(epochs, without, name="without",
                                        pen=pg.mkPen(PALETTE[1], width=2, style=Qt.PenStyle.DashLine))})
            left, bottom = i % cols == 0, i // cols == (n - 1) // cols
            plot.getAxis("left").setStyle(showValues=left)
            plot.getAxis("bottom").setStyle(showValues=bottom)
            if left:
                plot.setLabel("left", "accuracy")
            if bottom:
                plot.setLabel("bottom", "epochs")
            self.plot_items.append(plot)
        restyle_all(self.plots, self.plot_items)


class FiltersView(LabView):
    """The first layer's filters before and after training, the digit, and each filter's response to it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.plots = graphics()
        self.plots.setFixedHeight(760)
        layout.addWidget(self.plots)
        self.before: list[pg.ImageItem] = []
        self.after: list[pg.ImageItem] = []
        self.responses: list[pg.ImageItem] = []

    def show_result(self, result: dict) -> None:
        self.plots.clear()
        cols = 10
        look_text = look()["text"]
        self.plots.addLabel(f"<b>before training</b> (smoothness {result['smoothness_before']:.2f})",
                            row=0, col=0, color=look_text)
        self.before = image_grid(self.plots.addLayout(row=1, col=0), result["filters_before"], cols, filters=True)
        self.plots.addLabel(f"<b>after training</b> (smoothness {result['smoothness_after']:.2f})",
                            row=0, col=1, color=look_text)
        self.after = image_grid(self.plots.addLayout(row=1, col=1), result["filters_after"], cols, filters=True)
        self.plots.addLabel(f"<b>the test digit</b> (a {result['digit_label']}) and what each trained filter "
                            "makes of it (before the ReLU; dark is a strong response)", row=2, col=0, colspan=2,
                            color=look_text)
        bottom = self.plots.addLayout(row=3, col=0, colspan=2)
        image_grid(bottom.addLayout(row=0, col=0), [result["digit"]], 1, ink=True)
        self.responses = image_grid(bottom.addLayout(row=0, col=1), result["responses"], cols, filters=True)
        bottom.layout.setColumnStretchFactor(0, 1)
        bottom.layout.setColumnStretchFactor(1, 4)
        self.plots.ci.layout.setRowStretchFactor(1, 2)
        self.plots.ci.layout.setRowStretchFactor(3, 3)


class GalleryView(LabView):
    """The misclassified test digits, each with its label and the network's guess, as the book's ch. 8 figure."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.plots = graphics()
        layout.addWidget(self.plots)
        layout.addStretch(1)
        self.images: list[pg.ImageItem] = []

    def show_result(self, result: dict) -> None:
        self.plots.clear()
        gallery = result["gallery"]
        captions = [f"{g['label']} → {g['predicted']} ({g['confidence']:.0%})" for g in gallery]
        cols = 10
        self.plots.setFixedHeight(max(1, math.ceil(len(gallery) / cols)) * 130 + 20)
        self.images = image_grid(self.plots.addLayout(row=0, col=0), [g["image"] for g in gallery], cols, captions,
                                 ink=True)
        common = ", ".join(f"{c['label']} read as {c['predicted']} ({c['count']})" for c in result["confusions"])
        self.summary.setText(f"{result['misclassified']} of {result['tested']:,} test digits misclassified; "
                             f"each shown as label → the network's answer (its probability). Most often: "
                             f"{common or 'none'}.")
