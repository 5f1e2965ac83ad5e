"""The curve plots: loss, accuracy and learning rate of the live run and any overlaid runs.

Every curve is created once and then only ``setData``'d; :meth:`CurvesPanel.refresh`
is called from the dashboard's UI-rate timer, not per batch.
"""

from __future__ import annotations

from typing import Iterable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.ui.plotlook import restyle, set_title
from playground.ui.dashboard.plotting import Frame, epoch_extent, finite_max, make_plot, make_pen, nice_ceil
from playground.ui.dashboard.runs import Run

#: the accuracy plot's key
KEY_TRAIN = "training set, inference mode"
KEY_RUNNING = "running mean of the batches (dropout on)"
KEY_VALIDATION = "validation set"

class _RunCurves:
    """The items one run owns in the curve plots."""

    def __init__(self, panel: "CurvesPanel", run: Run, live: bool):
        self.run = run
        self.live = live
        self.drawn: tuple = (-1, -1, None)
        c = run.color
        lp, ap, rp = panel.loss.getPlotItem(), panel.acc.getPlotItem(), panel.lr.getPlotItem()
        self.items: list[tuple[pg.PlotItem, pg.PlotDataItem]] = []

        def add(plot, series: str, **kw) -> pg.PlotDataItem:
            item = pg.PlotDataItem(connect="finite", antialias=True, **kw)
            item.setObjectName(f"{run.name} {series}")  # its name in the plot's saved data
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            plot.addItem(item)
            self.items.append((plot, item))
            return item

        # one-pixel lines, antialiased: Qt draws a wider line as polygons, which for a curve of a
        # thousand points costs a millisecond per repaint, 12 times a second, and that time is taken
        # from training; a shown run is told apart from the live one by its lighter colour.
        # The training set's numbers are the ones measured at each epoch's end in inference mode
        # (solid, dots); the batches' running mean, with dropout on and the weights moving, is faint
        strong = 255 if live else 150
        faint = 110 if live else 70
        dots = {"symbol": "o", "symbolSize": 5, "symbolBrush": c, "symbolPen": None}
        self.raw_loss = add(lp, "batch loss", pen=make_pen(c, 1, 60)) if live else None
        self.loss = add(lp, "batch loss, running mean", pen=make_pen(c, 1, faint))
        self.train_loss = add(lp, "training loss", pen=make_pen(c, 1, strong), name=self._label(), **dots)
        self.val_loss = add(lp, "validation loss", pen=make_pen(c, 1, 220, Qt.PenStyle.DashLine), **dots)
        self.acc = add(ap, "batch accuracy, running mean", pen=make_pen(c, 1, faint))
        self.train_acc = add(ap, "training accuracy", pen=make_pen(c, 1, strong), **dots)
        self.val_acc = add(ap, "validation", pen=make_pen(c, 1, 220, Qt.PenStyle.DashLine), **dots)
        self.lr = add(rp, "learning rate", pen=make_pen(c, 1, strong))
        self._lr_plot = rp
        #: a dashed line on the learning-rate plot where each change made during the run took effect
        self.marks: list[pg.InfiniteLine] = []

    def _label(self) -> str:
        return f"{self.run.name}" + (f" ({self.run.note})" if self.run.note else "")

    def _mark_changes(self) -> None:
        for x, change in self.run.changes[len(self.marks):]:
            text = ", ".join(f"{'η' if k == 'lr' else k} {v:g}" for k, v in change.items())
            line = pg.InfiniteLine(pos=x, angle=90, pen=make_pen(self.run.color, 1, 200, Qt.PenStyle.DashLine),
                                   label=text, labelOpts={"position": 0.9, "color": self.run.color,
                                                          "anchors": [(0, 0.5), (0, 0.5)]})
            line.setToolTip(f"From here on: {text} (changed during the run)")
            self._lr_plot.addItem(line)
            self.items.append((self._lr_plot, line))
            self.marks.append(line)

    def update(self, regression: bool) -> None:
        b, e = self.run.batch, self.run.epoch
        if len(self.run.changes) > len(self.marks):
            self._mark_changes()
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
            self.train_loss.setData(ex, e.view("loss"))
            self.val_loss.setData(ex, e.view("val_loss"))
            if regression:
                self.train_acc.setData([], [])
            else:
                self.train_acc.setData(ex, e.view("acc"))
            self.val_acc.setData(ex, e.view("val_r2" if regression else "val_acc"))

    def remove(self) -> None:
        for plot, item in self.items:
            plot.removeItem(item)
        self.items.clear()


class CurvesPanel(QWidget):
    """Loss, accuracy and learning rate against epochs, for the current run and any overlaid runs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss = make_plot("Loss", "loss", tip=(
            "Training loss L after each epoch (solid, dots), measured as the network is used: in inference "
            "mode, dropout off and batch normalization with its running statistics, on the training set "
            "(up to 10,000 of its samples);\nthe loss of each batch as it trained (faintest) and its running "
            "mean (faint); the validation loss after each epoch (dashed, dots).\n"
            "Validation loss rising while training loss falls means overfitting."))
        self.acc = make_plot("Accuracy", "accuracy", tip=(
            "Fraction of samples classified correctly: on the training set after each epoch, in inference "
            "mode (solid, dots);\nthe running mean over the training batches as they trained, with dropout "
            "on (faint): lower than the network's real accuracy when dropout is used;\n"
            "the validation set after each epoch (dashed, dots)."))
        self.lr = make_plot("Learning rate", "η", tip=(
            "The learning rate η of each batch: W ← W − η·∂L/∂W (after the optimizer's own scaling).\n"
            "A schedule (step, cosine) lowers it as training goes on."))
        self.legend = self.loss.getPlotItem().addLegend(offset=(-8, 8))
        #: which line is which, for the live run (accuracies rise: the lower right stays free)
        self.key = self.acc.getPlotItem().addLegend(offset=(-8, -8))
        self._key_wanted = False  # the live run's key is shown when it fits inside the plot (see _fit_key)
        self.acc.getPlotItem().getViewBox().sigResized.connect(self._fit_key)
        restyle(self.loss)
        restyle(self.acc)
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
            self._key_wanted = False
            self._fit_key()
            set_title(self.acc, "<b>Validation R²</b>")
            item.setLabel("left", "R²")
            self.acc.setToolTip("Coefficient of determination on the validation set after each epoch: "
                                "R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²; 1 is a perfect fit.")
            item.enableAutoRange(axis="y")
        else:
            self._key_wanted = bool(self.key.items)
            self._fit_key()
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
        self._show_key(self._curves.get(live.number) if live is not None else None)
        self.refresh()

    def _show_key(self, curves: _RunCurves | None) -> None:
        self.key.clear()
        if curves is not None:
            self.key.addItem(curves.train_acc, KEY_TRAIN)
            self.key.addItem(curves.acc, KEY_RUNNING)
            self.key.addItem(curves.val_acc, KEY_VALIDATION)
        self._key_wanted = curves is not None and not self.regression
        self._fit_key()

    def _fit_key(self, *_) -> None:
        """Show the key when it is wanted and fits in the plot (a narrow window would cut it and cover the
        lines with it; the plot's tooltip says which line is which)."""
        view, key = self.acc.getPlotItem().getViewBox().boundingRect(), self.key.boundingRect()
        self.key.setVisible(self._key_wanted and key.width() <= view.width() - 16
                            and key.height() <= view.height() * 0.6)

    def key_labels(self) -> list[str]:
        """The texts of the accuracy plot's key, as shown (empty while it is hidden)."""
        if not self.key.isVisible():
            return []
        return [label.text for _, label in self.key.items]

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
            + [r.epoch.view("loss") for r in runs] + [r.epoch.view("val_loss") for r in runs]
        # every loss here (cross-entropy, squared error, plus L1/L2) is at least 0
        self.frames["loss"].set(x, (0.0, nice_ceil(finite_max(losses, 1.0) * 1.05)))
        # the accuracy and learning-rate plots follow the loss plot's epochs (X-linked)
        if not self.regression:
            self.frames["acc"].set(None, (0.0, 1.02))
        self.frames["lr"].set(None, (0.0, nice_ceil(finite_max([r.batch.view("lr") for r in runs], 1e-3) * 1.05)))

