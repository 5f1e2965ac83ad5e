"""The network's health: gradient norms per layer and activation histograms with their captions."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from playground.ui.plotexport import add_save_menu
from playground.ui.plotlook import look, restyle, set_title
from playground.ui.dashboard.plotting import (LAYER_COLORS, PLOT_MIN, Frame, RoomyAxis, cache_axes, epoch_extent,
                                              make_plot, make_pen, sticky_ceil)
from playground.ui.dashboard.runs import Run


class HealthPanel(QWidget):
    """Per-layer gradient norms (log scale) and activation histograms of the current run."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grads = make_plot("Gradient norms per layer", "‖∂L/∂W‖₂ (log)", tip=(
            "For each layer with weights, the gradient norm ‖∂L/∂W‖₂ = √(Σ over its weights and biases of "
            "(∂L/∂w)²), on a log scale.\nNorms shrinking layer after layer towards the input: vanishing "
            "gradients. Norms growing by orders of magnitude: exploding gradients."), log_y=True)
        self.grads.getPlotItem().setLogMode(y=True)
        set_title(self.grads, "<b>Gradient norms</b> per layer")  # a narrow plot shows the bold part only
        self.grads.getPlotItem().setYRange(-3, 1)  # log10 units, until there is data
        # the key sits under the plot: inside it, a legend covers the curves of a long run
        self.grad_key = QLabel()
        self.grad_key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grad_key.setWordWrap(True)
        self.grad_key.setToolTip(self.grads.toolTip())
        self.hists = pg.GraphicsLayoutWidget()
        self.hists.setBackground(look()["bg"])
        self.hists.setMinimumSize(*PLOT_MIN)
        add_save_menu(self.hists, "Activation histograms")
        self.hists.setToolTip(
            "Histogram of each activation layer's outputs on the latest statistics batch.\n"
            "All mass at 0 after a ReLU: dead units (the 'dead' share is the fraction of units that output 0 "
            "for every sample of the batch). All mass at ±1 after tanh, or 0/1 after sigmoid: saturation, "
            "where gradients vanish.")
        title = QLabel("<b>Activation histograms</b> (latest statistics batch)")
        title.setWordWrap(True)  # a narrow window wraps it rather than widening the panel
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setToolTip(self.hists.toolTip())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.grads, 1)
        lay.addWidget(self.grad_key)
        lay.addWidget(title)
        lay.addWidget(self.hists, 1)
        self.grad_frame = Frame(self.grads)
        self._hist_frames: dict[str, Frame] = {}
        self._hist_titles: dict[str, list[tuple[str, str]]] = {}  # layer: (text, role) pieces shown
        self._hist_captions: dict[str, _Caption] = {}
        self._grad_items: dict[str, pg.PlotDataItem] = {}
        self._hist_plots: dict[str, tuple[pg.PlotItem, pg.PlotDataItem]] = {}
        self._hist_layers: tuple[str, ...] = ()
        self._run: Run | None = None
        self._drawn_grads: int | None = None  # what is drawn: the number of norms,
        self._drawn_hists: tuple | None = None  # and (run number, statistics version) of the histograms

    def set_run(self, run: Run | None) -> None:
        """Show ``run`` (None: nothing). The plots stay, emptied, for a next run of the same layers."""
        self._run = run
        for item in self._grad_items.values():
            item.setData([], [])
        for layer, (_item, curve) in self._hist_plots.items():
            curve.setData([], [])
            self._hist_title(layer, [(layer, "")])
        self._drawn_grads = self._drawn_hists = None
        self.refresh()

    def prepare(self, param_layers: list[str], activation_layers: list[str]) -> None:
        """Have the curves and histogram plots of these layers ready before training starts.

        Creating them mid-run stutters, and creating them at all costs 25 ms, so
        the plots of the previous run are kept when the layers are the same.
        """
        if list(self._grad_items) != list(param_layers):
            for item in self._grad_items.values():
                self.grads.getPlotItem().removeItem(item)
            self._grad_items.clear()
            self.grad_key.clear()
            for layer in param_layers:
                self._grad_item(layer)
        self._layout_histograms(tuple(activation_layers))

    def _grad_item(self, layer: str) -> pg.PlotDataItem:
        item = self._grad_items.get(layer)
        if item is None:
            color = LAYER_COLORS[len(self._grad_items) % len(LAYER_COLORS)]
            item = pg.PlotDataItem(pen=make_pen(color, 1), name=layer, connect="finite", antialias=True)
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            self.grads.getPlotItem().addItem(item)
            self._grad_items[layer] = item
            self.grad_key.setText("&nbsp;&nbsp; ".join(
                f"<span style='color:{it.opts['pen'].color().name()}'>━━</span>&nbsp;{name}"
                for name, it in self._grad_items.items()))
        return item

    def refresh(self) -> None:
        self.refresh_grads()
        self.refresh_histograms()

    def refresh_grads(self) -> None:
        """Redraw the gradient norms if the run has new ones."""
        run = self._run
        if run is None:
            return
        version = sum(len(s) for s in run.grad_norms.values())
        if version == self._drawn_grads:
            return
        self._drawn_grads = version
        lows, highs, right = [], [], 0.0
        for layer, series in run.grad_norms.items():
            y = np.maximum(series.view("norm"), 1e-12)
            self._grad_item(layer).setData(series.view("x"), y)
            if len(y):
                lows.append(float(np.nanmin(y)))
                highs.append(float(np.nanmax(y)))
                right = max(right, float(series.view("x")[-1]))
        if highs:  # whole decades, so the log axis changes only when a norm crosses one
            lo = np.floor(np.log10(max(min(lows), 1e-12)))
            hi = np.ceil(np.log10(max(max(highs), 1e-12)))
            self.grad_frame.set((0.0, epoch_extent(right, float(run.epochs or 0))), (float(lo), float(max(hi, lo + 1))))

    def refresh_histograms(self) -> None:
        """Redraw the activation histograms if the run has new ones."""
        run = self._run
        if run is None or (run.number, run.stats_version) == self._drawn_hists:
            return
        self._drawn_hists = (run.number, run.stats_version)
        self._refresh_histograms(run)

    def _layout_histograms(self, layers: tuple[str, ...]) -> None:
        if layers == self._hist_layers:
            return
        self.hists.clear()
        self._hist_plots.clear()
        self._hist_frames = {}
        self._hist_titles = {}
        self._hist_captions = {}
        cols = 1 if len(layers) <= 3 else 2
        for i, layer in enumerate(layers):
            plot = self.hists.addPlot(row=i // cols, col=i % cols, axisItems={"bottom": RoomyAxis("bottom")})
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getAxis("left").setStyle(showValues=False)
            plot.getAxis("left").setWidth(8)
            cache_axes(plot)
            color = LAYER_COLORS[i % len(LAYER_COLORS)]
            fill = QColor(color)
            fill.setAlpha(120)
            curve = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=fill, pen=make_pen(color, 1))
            plot.addItem(curve)
            plot.setTitle(layer, size="8pt")  # sizes the title row; the caption draws the text
            self._hist_plots[layer] = (plot, curve)
            self._hist_captions[layer] = _Caption(plot.titleLabel)
            self._hist_frames[layer] = Frame(plot)
            self._hist_title(layer, [(layer, "")])
        self._hist_layers = layers
        restyle(self.hists, [plot for plot, _ in self._hist_plots.values()])

    def _hist_title(self, layer: str, parts: list[tuple[str, str]]) -> None:
        """A histogram's title: (text, role) pieces, the role "" (text) or "bad" (a warning)."""
        self._hist_titles[layer] = parts
        lk = look()
        self._hist_captions[layer].set_parts([(t, lk[role or "text"]) for t, role in parts])

    def hist_title(self, layer: str) -> str:
        """The title shown over a layer's histogram."""
        return self._hist_captions[layer].text()

    def apply_look(self) -> None:
        """Colours of the app's current look (light or dark)."""
        restyle(self.grads)
        restyle(self.hists, [plot for plot, _ in self._hist_plots.values()])
        for layer, parts in list(self._hist_titles.items()):
            self._hist_title(layer, parts)

    def _refresh_histograms(self, run: Run) -> None:
        layers = tuple(run.histograms)
        if not set(layers) <= set(self._hist_layers):
            self._layout_histograms(layers)
        for layer, (counts, edges) in run.histograms.items():
            if layer not in self._hist_plots:
                continue
            curve = self._hist_plots[layer][1]
            edges, counts = np.asarray(edges, float), np.asarray(counts, float)
            curve.setData(edges, counts)
            if len(edges) and np.isfinite(edges).all():
                frame = self._hist_frames[layer]
                (x0, x1), (_, y1) = frame.current or ((None, None), (None, None))
                lo = 0.0 if edges[0] >= 0 else -sticky_ceil(-x0 if x0 else None, -edges[0])
                hi = sticky_ceil(x1, edges[-1]) if edges[-1] > 0 else 0.0
                frame.set((lo, max(hi, lo + 1e-6)), (0.0, sticky_ceil(y1, float(counts.max()))))
            st = run.act_stats.get(layer, {})
            text = f"{layer}"
            if "act_mean" in st:
                text += f"  μ {st['act_mean']:.2g} σ {st.get('act_std', 0):.2g}"
            parts = [(text, "")]
            if "dead_fraction" in st:
                dead = st["dead_fraction"]
                parts.append((f"  dead {100 * dead:.0f}%", "bad" if dead >= 0.5 else ""))
            self._hist_title(layer, parts)


class _Caption(pg.GraphicsObject):
    """A line of text in colours, drawn in place of a plot's title.

    A pyqtgraph title is HTML: each new text is parsed and lays the plots out
    again (1 ms, and the axes redrawn). A histogram's title changes with every
    statistics batch, so it is drawn here instead; the title label keeps the
    row's height and hides its own text.
    """

    def __init__(self, label: pg.LabelItem, size_pt: int = 8):
        super().__init__(label)
        self.label = label
        self.parts: list[tuple[str, str]] = []
        self.font = QFont()
        self.font.setPointSize(size_pt)
        label.item.setVisible(False)
        label.geometryChanged.connect(self.prepareGeometryChange)

    def set_parts(self, parts: list[tuple[str, str]]) -> None:
        """``parts``: (text, colour name) pieces written one after the other, centred."""
        if parts != self.parts:
            self.parts = parts
            self.update()

    def text(self) -> str:
        return "".join(t for t, _ in self.parts)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.label.size().width(), self.label.size().height())

    def paint(self, p, *args) -> None:
        p.setFont(self.font)
        fm = p.fontMetrics()
        rect = self.boundingRect()
        y = (rect.height() + fm.ascent() - fm.descent()) / 2
        for x, text, color in fit_parts(self.parts, fm, rect.width()):
            p.setPen(QColor(color))
            p.drawText(QPointF(x, y), text)


def fit_parts(parts: list[tuple[str, str]], fm, width: float) -> list[tuple[float, str, str]]:
    """(x, text, colour) of each piece of a caption centred in ``width``.

    A caption too wide (next to it is the next plot's) starts at the left and
    shortens its first piece with "…", so that the later pieces, a warning such
    as the dead-unit share, stay whole; where even they do not fit, it is cut
    with "…" where the room ends.
    """
    widths = [fm.horizontalAdvance(t) for t, _ in parts]
    total = sum(widths)
    if total > width and len(parts) > 1:
        room = width - sum(widths[1:])
        first = fm.elidedText(parts[0][0], Qt.TextElideMode.ElideRight, int(room)) if room > 0 else ""
        if first:
            parts = [(first, parts[0][1])] + list(parts[1:])
            widths[0] = fm.horizontalAdvance(first)
            total = sum(widths)
    x = max((width - total) / 2, 0.0)
    out = []
    for (text, color), advance in zip(parts, widths):
        if x + advance > width:
            text = fm.elidedText(text, Qt.TextElideMode.ElideRight, int(width - x))
            if text:
                out.append((x, text, color))
            break
        out.append((x, text, color))
        x += advance
    return out

