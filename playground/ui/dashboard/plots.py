"""The dashboard's live plots. Every curve is created once and then only ``setData``'d.

Widgets here only draw what they are given (runs, arrays); they never see the
worker or a network. :meth:`refresh` methods are called from the dashboard's
UI-rate timer, not per batch.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QLabel, QStackedWidget, QVBoxLayout, QWidget

from playground.ui.plotlook import look, restyle, set_title
from playground.ui.dashboard.runs import Run

#: class colors for points, decision regions and the confusion-matrix axes
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
LAYER_COLORS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999",
                "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3"]


def class_color(k: int) -> QColor:
    return QColor(CLASS_COLORS[k % len(CLASS_COLORS)])


def _style(w: pg.PlotWidget, title_html: str, left: str, bottom: str, si_prefix: bool = True) -> pg.PlotItem:
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


def _plot(title: str, left: str, bottom: str = "epoch", tip: str = "") -> pg.PlotWidget:
    w = pg.PlotWidget()
    _style(w, f"<b>{title}</b>", left, bottom, si_prefix=False)  # "loss (x0.001)" confuses more than it helps
    w.setMinimumSize(220, 150)
    w.setToolTip(tip)
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


def _pen(color: str, width: float = 1.0, alpha: int = 255, style=Qt.PenStyle.SolidLine) -> pg.QtGui.QPen:
    c = QColor(color)
    c.setAlpha(alpha)
    pen = pg.mkPen(c, width=width)
    pen.setStyle(style)
    return pen


class _RunCurves:
    """The items one run owns in the curve plots."""

    def __init__(self, panel: "CurvesPanel", run: Run, live: bool):
        self.run = run
        self.live = live
        self.drawn: tuple = (-1, -1, None)
        c = run.color
        lp, ap, rp = panel.loss.getPlotItem(), panel.acc.getPlotItem(), panel.lr.getPlotItem()
        self.items: list[tuple[pg.PlotItem, pg.PlotDataItem]] = []

        def add(plot, **kw) -> pg.PlotDataItem:
            item = pg.PlotDataItem(connect="finite", antialias=True, **kw)
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            plot.addItem(item)
            self.items.append((plot, item))
            return item

        # one-pixel lines, antialiased: Qt draws a wider line as polygons, which for a curve of a
        # thousand points costs a millisecond per repaint, 12 times a second, and that time is taken
        # from training; a shown run is told apart from the live one by its lighter colour
        strong = 255 if live else 150
        self.raw_loss = add(lp, pen=_pen(c, 1, 60)) if live else None
        self.loss = add(lp, pen=_pen(c, 1, strong), name=self._label())
        self.val_loss = add(lp, pen=_pen(c, 1, 220, Qt.PenStyle.DashLine), symbol="o", symbolSize=5,
                            symbolBrush=c, symbolPen=None)
        self.acc = add(ap, pen=_pen(c, 1, strong))
        self.val_acc = add(ap, pen=_pen(c, 1, 220, Qt.PenStyle.DashLine), symbol="o", symbolSize=5,
                           symbolBrush=c, symbolPen=None)
        self.lr = add(rp, pen=_pen(c, 1, strong))

    def _label(self) -> str:
        return f"{self.run.name}" + (f" ({self.run.note})" if self.run.note else "")

    def update(self, regression: bool) -> None:
        b, e = self.run.batch, self.run.epoch
        version = (len(b), len(e), regression)
        if version == self.drawn:
            return
        # every item set anew costs the scene a bounds update and a repaint: set only what changed
        batches_changed = version[0] != self.drawn[0] or version[2:] != self.drawn[2:]
        epochs_changed = version[1:] != self.drawn[1:]
        self.drawn = version
        if batches_changed:
            x = b.view("x")
            if self.raw_loss is not None:
                self.raw_loss.setData(x, b.view("loss"))
            self.loss.setData(x, b.view("loss_s"))
            if regression:
                self.acc.setData([], [])
            else:
                self.acc.setData(x, b.view("acc_s"))
            self.lr.setData(x, b.view("lr"))
        if epochs_changed:
            ex = e.view("x")
            self.val_loss.setData(ex, e.view("val_loss"))
            self.val_acc.setData(ex, e.view("val_r2" if regression else "val_acc"))

    def remove(self) -> None:
        for plot, item in self.items:
            plot.removeItem(item)
        self.items.clear()


class CurvesPanel(QWidget):
    """Loss, accuracy and learning rate against epochs, for the current run and any overlaid runs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss = _plot("Loss", "loss", tip=(
            "Training loss L per batch (faint), its moving average (solid) and the validation loss after each "
            "epoch (dashed, dots).\nValidation loss rising while training loss falls means overfitting."))
        self.acc = _plot("Accuracy", "accuracy", tip=(
            "Fraction of samples classified correctly: training batches (moving average, solid) and the "
            "validation set after each epoch (dashed, dots)."))
        self.lr = _plot("Learning rate", "η", tip=(
            "The learning rate η of each batch: W ← W − η·∂L/∂W (after the optimizer's own scaling).\n"
            "A schedule (step, cosine) lowers it as training goes on."))
        self.legend = self.loss.getPlotItem().addLegend(offset=(-8, 8))
        restyle(self.loss)
        self.acc.getPlotItem().setYRange(0, 1, padding=0.02)
        for w in (self.acc, self.lr):
            w.setXLink(self.loss)
        # linked plots line up in pixels: with left axes of one width they show the same epochs
        for w in (self.loss, self.acc, self.lr):
            w.getPlotItem().getAxis("left").setWidth(54)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.loss, 5)
        lay.addWidget(self.acc, 4)
        lay.addWidget(self.lr, 3)
        self._curves: dict[int, _RunCurves] = {}
        self._live: int | None = None
        self.regression = False
        self.frames = {"loss": Frame(self.loss), "acc": Frame(self.acc), "lr": Frame(self.lr)}

    def apply_look(self) -> None:
        """Colours of the app's current look (light or dark)."""
        for w in (self.loss, self.acc, self.lr):
            restyle(w)

    def set_kind(self, regression: bool) -> None:
        self.regression = regression
        item = self.acc.getPlotItem()
        if regression:
            set_title(self.acc, "<b>Validation R²</b>")
            item.setLabel("left", "R²")
            self.acc.setToolTip("Coefficient of determination on the validation set after each epoch: "
                                "R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²; 1 is a perfect fit.")
            item.enableAutoRange(axis="y")
        else:
            set_title(self.acc, "<b>Accuracy</b>")
            item.setLabel("left", "accuracy")
            item.setYRange(0, 1, padding=0.02)

    def show_runs(self, runs: Iterable[Run], live: Run | None) -> None:
        """Show exactly ``runs`` (the live one drawn with its per-batch loss too)."""
        wanted = {r.number: r for r in runs}
        if live is not None:
            wanted[live.number] = live
        for number in list(self._curves):
            c = self._curves[number]
            if number not in wanted or c.live != (live is not None and number == live.number):
                c.remove()
                del self._curves[number]
        for number, run in sorted(wanted.items()):
            if number not in self._curves:
                self._curves[number] = _RunCurves(self, run, live is not None and number == live.number)
        self.refresh()

    def refresh(self) -> None:
        for c in self._curves.values():
            c.update(self.regression)
        self._frame()

    def x_extent(self) -> float:
        """The epochs shown: see :func:`epoch_extent`, over the shown runs."""
        runs = [c.run for c in self._curves.values()]
        planned = max((float(r.epochs or 0) for r in runs), default=0.0)
        seen = finite_max([r.batch.view("x") for r in runs] + [r.epoch.view("x") for r in runs], 0.0)
        return epoch_extent(seen, planned)

    def _frame(self) -> None:
        """Fixed round-number ranges that grow with the data (see :class:`Frame`)."""
        if not self._curves:
            return
        x = (0.0, self.x_extent())
        runs = [c.run for c in self._curves.values()]
        losses = [r.batch.view("loss") for r in runs] + [r.batch.view("loss_s") for r in runs] \
            + [r.epoch.view("val_loss") for r in runs]
        # every loss here (cross-entropy, squared error, plus L1/L2) is at least 0
        self.frames["loss"].set(x, (0.0, nice_ceil(finite_max(losses, 1.0) * 1.05)))
        # the accuracy and learning-rate plots follow the loss plot's epochs (X-linked)
        if not self.regression:
            self.frames["acc"].set(None, (0.0, 1.02))
        self.frames["lr"].set(None, (0.0, nice_ceil(finite_max([r.batch.view("lr") for r in runs], 1e-3) * 1.05)))


class HealthPanel(QWidget):
    """Per-layer gradient norms (log scale) and activation histograms of the current run."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grads = _plot("Gradient norms per layer", "‖∂L/∂W‖₂ (log)", tip=(
            "For each layer with weights, the gradient norm ‖∂L/∂W‖₂ = √(Σ over its weights and biases of "
            "(∂L/∂w)²), on a log scale.\nNorms shrinking layer after layer towards the input: vanishing "
            "gradients. Norms growing by orders of magnitude: exploding gradients."))
        self.grads.getPlotItem().setLogMode(y=True)
        self.grads.getPlotItem().setYRange(-3, 1)  # log10 units, until there is data
        # the key sits under the plot: inside it, a legend covers the curves of a long run
        self.grad_key = QLabel()
        self.grad_key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grad_key.setWordWrap(True)
        self.grad_key.setToolTip(self.grads.toolTip())
        self.hists = pg.GraphicsLayoutWidget()
        self.hists.setBackground(look()["bg"])
        self.hists.setMinimumSize(220, 150)
        self.hists.setToolTip(
            "Histogram of each activation layer's outputs on the latest statistics batch.\n"
            "All mass at 0 after a ReLU: dead units (the 'dead' share is the fraction of units that output 0 "
            "for every sample of the batch). All mass at ±1 after tanh, or 0/1 after sigmoid: saturation, "
            "where gradients vanish.")
        title = QLabel("<b>Activation histograms</b> (latest statistics batch)")
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
            item = pg.PlotDataItem(pen=_pen(color, 1), name=layer, connect="finite", antialias=True)
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
            plot = self.hists.addPlot(row=i // cols, col=i % cols)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getAxis("left").setStyle(showValues=False)
            plot.getAxis("left").setWidth(8)
            cache_axes(plot)
            color = LAYER_COLORS[i % len(LAYER_COLORS)]
            fill = QColor(color)
            fill.setAlpha(120)
            curve = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=fill, pen=_pen(color, 1))
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


def _cell_text_colors() -> tuple[QColor, QColor, QColor]:
    """A count's colour: on a strongly coloured cell, on the diagonal or zero, a misclassification."""
    lk = look()
    return QColor("#ffffff"), QColor(lk["title"]), QColor(lk["bad"])


class _CellLabels(pg.GraphicsObject):
    """The counts of a k × k matrix (cell (r, c) spans [c, c+1] × [r, r+1]), drawn in one pass.

    A hundred TextItems cost 75 ms to create and a Python call each per repaint;
    this item draws every count at its cell's centre in screen pixels, so the text
    keeps its size however the view is scaled.
    """

    def __init__(self):
        super().__init__()
        self.k = 0
        self.cells: list[tuple[int, int, str, QColor]] = []
        self.font = QFont()

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
        p.save()
        p.resetTransform()
        p.setFont(self.font)
        for r, c, text, color in self.cells:
            at = tr.map(QPointF(c + 0.5, r + 0.5))
            p.setPen(color)
            p.drawText(QRectF(at.x() - 40, at.y() - 12, 80, 24), Qt.AlignmentFlag.AlignCenter, text)
        p.restore()


class ConfusionView(pg.PlotWidget):
    """``m[true, predicted]`` on the validation set; a click on a cell emits ``cell_clicked(true, pred)``."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = _style(self, "<b>Confusion matrix</b> (validation)", "true class", "predicted class")
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
        self.setMinimumSize(220, 200)
        self.setToolTip("Rows: the true class; columns: the class the network predicted, on the validation "
                        "set.\nThe diagonal holds the correct answers; color = share of the row (recall).\n"
                        "Click a cell to see its samples: off-diagonal cells are the misclassified ones.")
        self.empty = pg.TextItem("no predictions yet:\nthey come at the end of each epoch", anchor=(0.5, 0.5))
        item.addItem(self.empty)
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


class BoundaryView(pg.PlotWidget):
    """Class probabilities on a grid as colored regions, with the training and validation points."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = _style(self, "<b>Decision boundary</b>", "x₂", "x₁")
        item.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        self.train = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=0.8))
        self.val = pg.ScatterPlotItem(size=7, symbol="t", pen=pg.mkPen("k", width=0.8))
        self.marked = pg.ScatterPlotItem(size=16, symbol="o", pen=pg.mkPen("#000", width=2.2), brush=None)
        for it in (self.train, self.val, self.marked):
            item.addItem(it)
        self.setMinimumSize(220, 200)
        self.setToolTip("The class the network predicts at every point of the plane (color; paler = less "
                        "sure), with the training points (circles) and validation points (triangles).\n"
                        "Points circled in black are the samples picked in the confusion matrix.")

    def set_data(self, data) -> None:
        k = int(data.n_classes or 2)
        self.k = k
        self.train.setData(pos=data.x_train[:, :2], brush=[pg.mkBrush(class_color(int(c))) for c in data.y_train])
        self.val.setData(pos=data.x_val[:, :2], brush=[pg.mkBrush(class_color(int(c))) for c in data.y_val])
        self.marked.setData(pos=np.zeros((0, 2)))
        self.image.clear()
        from playground.engine.train.snapshots import plot_bounds
        allx = np.concatenate([data.x_train, data.x_val]) if len(data.x_val) else data.x_train
        x0, x1, y0, y1 = plot_bounds(allx)
        self.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def set_probs(self, probs: np.ndarray, bounds: tuple[float, float, float, float]) -> None:
        k = probs.shape[2]
        colors = np.array([class_color(i).getRgb()[:3] for i in range(k)], dtype=np.float32) / 255
        conf = probs.max(axis=2, keepdims=True)
        rgb = probs @ colors
        # confident regions keep their color, uncertain ones fade towards white
        strength = np.clip((conf - 1 / k) / (1 - 1 / k), 0, 1) * 0.55 + 0.15
        rgb = 1 - strength * (1 - rgb)
        self.image.setImage((rgb * 255).astype(np.uint8), autoLevels=False, levels=(0, 255))
        x0, x1, y0, y1 = bounds
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def mark(self, points: np.ndarray) -> None:
        self.marked.setData(pos=np.asarray(points, float).reshape(-1, 2))


class FitView(pg.PlotWidget):
    """The fitted curve over the data (1-D regression)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = _style(self, "<b>Fitted curve</b>", "y", "x")
        item.addLegend(offset=(8, 8))
        self.train = pg.ScatterPlotItem(size=5, brush=pg.mkBrush("#1f77b4aa"), pen=None, name="training data")
        self.val = pg.ScatterPlotItem(size=6, symbol="t", brush=pg.mkBrush("#ff7f0ecc"), pen=None,
                                      name="validation data")
        self.curve = pg.PlotDataItem(pen=pg.mkPen("#d62728", width=2.5), name="network ŷ(x)")
        for it in (self.train, self.val, self.curve):
            item.addItem(it)
        restyle(self)
        self.setMinimumSize(220, 200)
        self.setToolTip("The network's prediction ŷ(x) (red) over the training (blue) and validation (orange) "
                        "samples, redrawn as it trains.")

    def set_data(self, data) -> None:
        self.train.setData(data.x_train[:, 0], data.y_train[:, 0])
        self.val.setData(data.x_val[:, 0], data.y_val[:, 0]) if len(data.x_val) else self.val.setData([], [])
        self.curve.setData([], [])

    def set_fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self.curve.setData(x, y, connect="finite")


class ModelView(QStackedWidget):
    """Decision boundary (2-D classification), fitted curve (1-D regression), or a note why neither."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.boundary = BoundaryView()
        self.fit = FitView()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet("padding: 12px;")  # the palette's text colour, light or dark
        for w in (self.boundary, self.fit, self.note):
            self.addWidget(w)
        self.set_note("Press Start to train: the decision boundary (2-D data) or the fitted curve "
                      "(1-D regression) appears here.")

    def apply_look(self) -> None:
        """Colours of the app's current look (light or dark)."""
        restyle(self.boundary)
        restyle(self.fit)

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setToolTip(text)
        self.setCurrentWidget(self.note)

    def set_data(self, data) -> None:
        shape = tuple(data.input_shape)
        if data.kind == "classification" and shape == (2,):
            self.boundary.set_data(data)
            self.setCurrentWidget(self.boundary)
        elif data.kind != "classification" and shape == (1,) and data.y_train.shape[1:] == (1,):
            self.fit.set_data(data)
            self.setCurrentWidget(self.fit)
        else:
            what = "a decision boundary needs 2 input features" if data.kind == "classification" \
                else "a fitted curve needs 1 input feature and 1 target"
            self.set_note(f"{data.name}: inputs of shape {shape}; {what}. "
                          f"See the confusion matrix below for how the network does."
                          if data.kind == "classification" else f"{data.name}: {what}.")
