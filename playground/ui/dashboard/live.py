"""Redrawing the dashboard's panels at the UI's pace, a part at a time, from what the worker sent."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QElapsedTimer

from playground.ui.dashboard.confusion import ConfusionView
from playground.ui.dashboard.curves import CurvesPanel
from playground.ui.dashboard.health import HealthPanel
from playground.ui.dashboard.history import RunsPanel
from playground.ui.dashboard.model_views import ModelView
from playground.ui.dashboard.runs import Run

RUNS_LIST_MS = 500  # the live run's row in the runs list, at most this often


class LivePlots:
    """The panels of a training run and when each is redrawn.

    Reports only mark the curves dirty (:meth:`changed`) and keep the newest
    pictures (:meth:`take_pictures`); :meth:`refresh`, called on each tick of
    the dashboard's timer, draws them.
    """

    def __init__(self, curves: CurvesPanel, health: HealthPanel, model_view: ModelView, confusion: ConfusionView,
                 runs_panel: RunsPanel, class_names: Callable[[], tuple[str, ...]],
                 update_progress: Callable[[], None]):
        self.curves, self.health, self.model_view = curves, health, model_view
        self.confusion, self.runs_panel = confusion, runs_panel
        self._class_names = class_names
        self._update_progress = update_progress
        #: the latest confusion matrix drawn: {"matrix", "pred", "epoch"} (see SnapshotMaker)
        self.latest_confusion: dict | None = None
        #: the data set of the run drawn (None before a run)
        self.data = None
        #: number of redraws that had new data (the benchmark reads it)
        self.refresh_count = 0
        self._pictures: dict[str, Any] = {}
        self._dirty = False
        self._panels_dirty = False
        self._turn = 0
        self._health_turn = False  # which half of the health panel the next panel turn draws
        self._runs_clock = QElapsedTimer()
        self._runs_clock.start()
        #: called with each run's unit heatmaps (UnitMaps), at the pictures' pace
        self.on_units: Callable[[dict], None] | None = None

    def changed(self) -> None:
        """A run has new numbers to draw."""
        self._dirty = True

    def take_pictures(self, extras: dict[str, Any]) -> None:
        """Keep the newest pictures of a report's ``extras``: boundary, fitted curve, scatter, sequence,
        confusion matrix and unit heatmaps."""
        for key in ("boundary", "fit", "scatter", "sequence", "confusion", "units"):
            if key in extras:
                self._pictures[key] = extras[key]

    def clear(self) -> None:
        """Forget the pictures not drawn yet and the confusion matrix (a new run, or a reset)."""
        self._pictures = {}
        self.latest_confusion = None
        self.confusion.clear_matrix()

    def new_run(self) -> None:
        """The first report of a run lays out every plot anew: the runs list waits its turn."""
        self._runs_clock.restart()

    def refresh(self, live: Run | None, force: bool = False) -> None:
        """Redraw what changed, each part at its own pace, so no turn of the event loop paints
        everything at once and the window takes little CPU from training (same cores):

        - the curves on every other tick (12.5 a second),
        - the pictures on every fourth (6 a second), and there too, taking turns, the gradient norms
          and the histograms (3 a second each), and the live run's row in the runs list every 500 ms,
        - the progress bar on the remaining fourth (6 a second),
        - the unit heatmaps on every tick they are new: the neuron view only keeps them until it paints
          (see :meth:`NeuronCanvas.set_units <playground.ui.inside.neurons.NeuronCanvas.set_units>`).
        """
        if "units" in self._pictures and self.on_units is not None:
            self.on_units(self._pictures.pop("units"))
        self._turn = (self._turn + 1) % 4
        if (force or self._turn % 2 == 0) and (self._dirty or force):
            self._dirty = False
            self.refresh_count += 1
            self.curves.refresh()
            self._panels_dirty = True
        if (force or self._turn == 1) and (self._panels_dirty or self._pictures or force):
            self._panels_dirty = False
            # gradient norms and histograms change slowly: they take turns, each three times a
            # second, which still follows a run and leaves more of the cores to training (and a
            # run's first statistics, which lay both out anew, are drawn in two turns, not one)
            if force:
                self.health.refresh()
            else:
                self._health_turn = not self._health_turn
                (self.health.refresh_grads if self._health_turn else self.health.refresh_histograms)()
                self._panels_dirty = self._health_turn  # the other half still has to be drawn
            self._show_pictures()
            # the runs list shows a number or two per run: twice a second is live enough, and each
            # change re-measures its columns and repaints its header
            if live is not None and (force or self._runs_clock.elapsed() >= RUNS_LIST_MS):
                self._runs_clock.restart()
                self.runs_panel.update_run(live)
        if force or self._turn == 3:
            self._update_progress()

    def show_cell(self, true: int, pred: int, data, samples) -> str:
        """Show the validation samples of class ``true`` predicted as ``pred`` (in ``samples``, a
        SamplesDialog, and circled on the decision boundary); return what was shown ("" for nothing)."""
        cm = self.latest_confusion
        if cm is None or data is None:
            return ""
        y = np.asarray(data.y_val).reshape(-1)
        idx = np.flatnonzero((y == true) & (cm["pred"] == pred))
        names = self._class_names()
        samples.show_cell(data.x_val, idx, names[true], names[pred], cm.get("epoch", 0.0))
        if self.model_view.currentWidget() is self.model_view.boundary:
            self.model_view.boundary.mark(data.points("val")[idx, :2])
        return f"{len(idx)} validation samples: true {names[true]}, predicted {names[pred]}"

    def misclassified(self) -> dict[str, Any] | None:
        """The validation samples the latest confusion matrix counts off its diagonal: ``{"x", "true",
        "pred", "index", "epoch", "names"}``, or None before a confusion matrix."""
        cm, data = self.latest_confusion, self.data
        if cm is None or data is None or data.kind != "classification":
            return None
        y = np.asarray(data.y_val).reshape(-1)
        index = np.flatnonzero(y != cm["pred"])
        return {"x": data.x_val[index], "true": y[index], "pred": np.asarray(cm["pred"])[index], "index": index,
                "epoch": cm.get("epoch", 0.0), "names": self._class_names()}

    def set_data(self, data, recurrent: bool = False) -> None:
        """A run on ``data`` begins: the panels that fit its task (no confusion matrix for a regression; one
        sequence's pictures for a ``recurrent`` network)."""
        self.data = data
        self.model_view.set_data(data, recurrent)
        self.confusion.setVisible(data.kind == "classification")

    def forget_data(self) -> None:
        """No run and no data set: every panel back to how it starts (another project was opened)."""
        self.data = None
        self.health.prepare([], [])
        self.model_view.clear()
        self.confusion.show()

    def _show_pictures(self) -> None:
        pics, self._pictures = self._pictures, {}
        if "confusion" in pics:
            self.latest_confusion = pics["confusion"]
            self.confusion.set_matrix(self.latest_confusion["matrix"], self._class_names())
        self.model_view.show_pictures(pics, pics.get("confusion"), self._class_names())
