"""One lab's page: its text, its settings as a form, Run / Stop with progress, its figures and the verdict.

Perceptron and activations are instant and run here on every change; the others run in a worker
process through :class:`~playground.ui.labs.runner.LabRunner`, so the window never waits for them.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QSpinBox,
                               QVBoxLayout, QWidget)

from playground.engine.errors import PlaygroundError
from playground.engine.lab.registry import default_settings, lab_info, lab_module, run_lab
from playground.ui.labs.form import SettingsForm
from playground.ui.labs.runner import LabRunner
from playground.ui.labs.texts import page_html
from playground.ui.labs.views_basic import ActivationsView, GradcheckView, LabView, PerceptronView
from playground.ui.labs.views_curves import LossCurvesView, OverfittingView, SinView
from playground.ui.labs.views_grids import BatchnormView, FiltersView, GalleryView, InitHistogramsView

VIEWS: dict[str, type[LabView]] = {
    "perceptron": PerceptronView, "activations": ActivationsView, "gradcheck": GradcheckView,
    "optimizers-mnist": LossCurvesView, "init-histograms": InitHistogramsView, "init-mnist": LossCurvesView,
    "batchnorm": BatchnormView, "overfitting": OverfittingView, "filters": FiltersView,
    "deep-convnet": GalleryView, "sin-regression": SinView}
#: labs quick enough to run in the window's thread, again on every change
INSTANT = ("perceptron", "activations")
#: settings a view edits with its own controls, left out of the form
HIDDEN = {"perceptron": ("gates",)}


class LabPage(QWidget):
    """The page of lab ``name``. ``result`` is the last result drawn; ``ran(result)`` says a run ended with one."""

    ran = Signal(object)
    back_requested = Signal()

    def __init__(self, name: str, data_dir: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.info = lab_info(name)
        self.data_dir = data_dir if data_dir is not None else os.environ.get("PLAYGROUND_MNIST_DIR")
        self.result: dict | None = None
        self.run_seconds: float | None = None
        self._started = 0.0
        self.runner = LabRunner(self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.back = QPushButton("← All labs")
        self.back.setToolTip("Back to the list of labs by chapter")
        self.back.clicked.connect(self.back_requested)
        top.addWidget(self.back)
        chapter = f"ch. {self.info.chapter}" if self.info.chapter[0].isdigit() else self.info.chapter
        title = QLabel(f"<h2>{chapter} · {self.info.title}</h2>")
        title.setObjectName("lab_title")
        top.addWidget(title, 1)
        outer.addLayout(top)

        body = QHBoxLayout()
        outer.addLayout(body, 1)
        side = QVBoxLayout()
        intro = QLabel(page_html(name))
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setObjectName("lab_intro")
        side.addWidget(intro)
        self.form = SettingsForm(name, lab_module(name).Settings, HIDDEN.get(name, ()))
        side.addWidget(self.form)
        row = QHBoxLayout()
        self.quick = QCheckBox("Quick")
        self.quick.setToolTip("Smaller settings for a first look in seconds (fewer iterations, samples or "
                              "epochs); unticked, the book's own settings")
        self.quick.toggled.connect(self._quick_toggled)
        row.addWidget(self.quick)
        row.addWidget(QLabel("seed"))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The seed of every random draw (weights, batches): the same seed gives the same numbers")
        row.addWidget(self.seed)
        row.addStretch(1)
        side.addLayout(row)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the lab with these settings" + (
            "" if name in INSTANT else ", in a process of its own"))
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the run; its numbers so far are dropped")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        side.addLayout(buttons)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        side.addWidget(self.progress_bar)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("lab_status")
        side.addWidget(self.status)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_scroll = QScrollArea()
        side_scroll.setWidget(side_widget)
        side_scroll.setWidgetResizable(True)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setFixedWidth(380)
        body.addWidget(side_scroll)

        right = QVBoxLayout()
        self.verdict = QLabel("Press Run to see the result." if name not in INSTANT else "")
        self.verdict.setWordWrap(True)
        self.verdict.setObjectName("lab_verdict")
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict.setStyleSheet("QLabel { font-weight: bold; padding: 4px; }")
        right.addWidget(self.verdict)
        self.view = VIEWS[name]()
        self.view.changed.connect(self.run)
        scroll = QScrollArea()
        scroll.setWidget(self.view)
        scroll.setWidgetResizable(True)
        right.addWidget(scroll, 1)
        body.addLayout(right, 1)
        if isinstance(self.view, PerceptronView):
            self.view.set_gates(default_settings(name)["gates"])
        if name in INSTANT:
            self.run()

    # ------------------------------------------------------------ running
    def settings(self) -> dict:
        """The form's values and the view's, as changes to the lab's defaults (ValueError when one does not read)."""
        return {**self.form.values(), **self.view.overrides()}

    def run(self) -> None:
        if self.runner.running:
            return
        try:
            settings = self.settings()
        except ValueError as exc:
            self._say(str(exc), bad=True)
            return
        quick, seed = self.quick.isChecked(), self.seed.value()
        self._started = time.perf_counter()
        if self.name in INSTANT:
            try:
                result = run_lab(self.name, settings, quick=quick, seed=seed)
            except PlaygroundError as exc:
                self._failed(str(exc))
                return
            self._finished(result)
            return
        self.runner.start(self.name, settings, quick, seed, self.data_dir)
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.progress_bar.setValue(0)
        self._say("starting a worker process…")

    def stop(self) -> None:
        self.runner.stop()
        self.stop_button.setEnabled(False)
        self._say("stopping…")

    def shutdown(self) -> None:
        self.runner.shutdown()

    # ------------------------------------------------------------ what the worker says
    def _progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(round(fraction * 1000))
        self._say(f"{fraction:.0%} · {message}")

    def _finished(self, result: dict) -> None:
        self.run_seconds = time.perf_counter() - self._started
        self._idle()
        self.result = result
        self.progress_bar.setValue(1000)
        self.view.show_result(result)
        self.verdict.setText(result["verdict"])
        if self.name not in INSTANT:
            self._say(f"done in {self.run_seconds:.1f} s ({result['seconds']:.1f} s in the lab itself)")
        else:
            self._say("")
        self.ran.emit(result)

    def _failed(self, message: str) -> None:
        self._idle()
        self._say(message, bad=True)

    def _cancelled(self) -> None:
        self._idle()
        self.progress_bar.setValue(0)
        self._say("stopped; the figures show the last finished run")

    def _idle(self) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _say(self, text: str, bad: bool = False) -> None:
        self.status.setStyleSheet("QLabel { color: #d62728; }" if bad else "")
        self.status.setText(text)

    def _quick_toggled(self, quick: bool) -> None:
        values = default_settings(self.name, quick)
        self.form.set_values(values)
        if self.name in INSTANT:
            self.run()

