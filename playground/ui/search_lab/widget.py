"""The Search lab: settings on the left; the trials' table and scatter, the best 20 curves and random vs TPE on the
right.

A search runs the open project's trials through the engine
(:class:`playground.engine.search.runner.Search`) on this machine's worker
processes or a Dask cluster, driven from a :class:`QThread` by
:class:`~playground.ui.search_lab.worker.SearchWorker`, whose queued signals
bring each finished trial here. "Use best" writes the best trial's values into
the project as one undoable edit. Run alone with
``python -m playground.ui.search_lab [PRESET]``; in the app, Labs ▸
Hyperparameter search opens it (:func:`open_search_lab`).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from PySide6.QtCore import QThread, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget

from playground.engine.errors import PlaygroundError
from playground.engine.search.space import SearchSpace, apply_params
from playground.ui.builder.commands import ReplaceProject
from playground.ui.builder.document import ProjectDocument
from playground.ui.layout import fit_on_screen
from playground.ui.search_lab.controls import SearchControls
from playground.ui.search_lab.plots import CompareView, CurvesGrid, ScatterView, is_done
from playground.ui.search_lab.table import TrialTable, ranked
from playground.ui.search_lab.worker import SearchWorker

__all__ = ["SearchLabWidget", "main", "open_search_lab"]

#: from this width (pixels) on, the table and the scatter stand side by side
WIDE_WINDOW = 1280
WINDOW_TITLE = "Hyperparameter search — NumPy Neural Network Playground"


class SearchLabWidget(QWidget):
    """The Search lab on the project of ``doc``; see the module docstring."""

    #: a search ended (finished, stopped or failed) and its thread is gone
    searchFinished = Signal()
    #: a trial's record arrived (the number of records now)
    trialArrived = Signal(int)

    def __init__(self, doc: ProjectDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.records: list[dict[str, Any]] = []
        self._thread: QThread | None = None
        self._worker: SearchWorker | None = None
        self._error = ""
        self._t0 = 0.0

        self.controls = SearchControls()
        self.table = TrialTable()
        self.scatter = ScatterView("Where the trials sampled")
        self.grid = CurvesGrid()
        self.compare = CompareView()

        self.trials_split = trials = QSplitter(Qt.Orientation.Vertical)
        trials.addWidget(self.table)
        trials.addWidget(self.scatter)
        self.tabs = QTabWidget()
        self.tabs.addTab(trials, "Trials")
        self.tabs.addTab(self.grid, "Best 20 curves")
        self.tabs.addTab(self.compare, "Random vs TPE")

        side = QScrollArea()
        side.setWidget(self.controls)
        side.setWidgetResizable(True)
        side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side.setMinimumWidth(self.controls.sizeHint().width() + 20)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(side)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setCollapsible(0, False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

        self.controls.runClicked.connect(self.run)
        self.controls.stopClicked.connect(self.stop)
        self.controls.useBestClicked.connect(self.use_best)
        self.doc.changed.connect(self._project_changed)
        self._project_changed()
        self.controls.show_message("Set the ranges and the budget, then Run. Trials are judged on a validation "
                                   "split cut from the training samples; the test set stays unseen.")

    # ------------------------------------------------------------------ the project

    def _project_changed(self) -> None:
        if self.running:
            return
        project = self.doc.project()
        dataset = project.get("dataset", {})
        samples = dataset.get("limit") if dataset.get("name") == "mnist" else None
        self.controls.set_project(self.doc.name, project.get("training", {}).get("epochs", 1), samples)

    # ------------------------------------------------------------------ running

    @property
    def running(self) -> bool:
        return self._thread is not None

    def searches(self, settings: dict[str, Any]) -> list[Any]:
        """The engine's searches for these settings (one per sampler); a PlaygroundError when they cannot run."""
        from playground.engine.search.executors import import_distributed, make_executor
        from playground.engine.search.runner import Search

        if settings["scheduler"]:
            import_distributed()
        space = SearchSpace(lr=settings["lr"], weight_decay=settings["weight_decay"])
        samplers = ("random", "tpe") if settings["sampler"] == "both" else (settings["sampler"],)
        return [Search(self.doc.project(), settings["trials"], settings["epochs"], space,
                       samples=settings["samples"], seed=settings["seed"], sampler=sampler,
                       executor=make_executor(settings["scheduler"], settings["workers"]))
                for sampler in samplers]

    @Slot()
    def run(self) -> None:
        """Start a search with the panel's settings (the previous trials are cleared)."""
        if self.running:
            return
        try:
            settings = self.controls.settings()
            searches = self.searches(settings)
        except (ValueError, PlaygroundError) as e:
            self.controls.show_message(" ".join(str(e).split()), error=True)
            return
        self.records = []
        self._error = ""
        for view in (self.scatter, *self.compare.scatters.values()):
            view.set_ranges(settings["lr"], settings["weight_decay"])
        self._show()
        self.controls.progress.setRange(0, settings["trials"] * len(searches))
        self.controls.progress.setValue(0)
        self.controls.set_running(True)
        self.controls.show_message("Loading the data and starting the workers…")
        if len(searches) > 1:
            self.tabs.setCurrentWidget(self.compare)
        self._t0 = time.monotonic()
        thread = QThread(self)
        worker = SearchWorker(searches)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.record.connect(self._on_record)
        worker.started.connect(self._on_started)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)
        worker.done.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()

    @Slot()
    def stop(self) -> None:
        """End the search soon; the finished trials stay."""
        if self._worker is not None:
            self._worker.stop()
            self.controls.stop_button.setEnabled(False)
            self.controls.show_message("Stopping: the finished trials are kept…")

    def shutdown(self) -> None:
        """Stop a running search and wait for its thread (the window closes)."""
        if self._thread is not None:
            self.stop()
            self._thread.wait()
            self._on_thread_finished()

    @Slot(object)
    def _on_record(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        self.controls.progress.setValue(len(self.records))
        self._show()
        best = next((r for r in ranked(self.records) if is_done(r)), None)
        text = f"{len(self.records)} trials done in {self._elapsed()}"
        if best is not None:
            text += (f"; best so far: validation accuracy {best['val_accuracy']:.3f} (trial {best['trial']}, "
                     f"learning rate {best['params']['lr']:.3g}, weight decay {best['params']['weight_decay']:.3g})")
        self.controls.show_message(text)
        self.trialArrived.emit(len(self.records))

    @Slot(str)
    def _on_started(self, sampler: str) -> None:
        name = {"random": "random search", "tpe": "TPE"}.get(sampler, sampler)
        if not self.records:
            self.controls.show_message(f"Running {name}: loading the data and starting the workers…")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._error = message

    @Slot(bool)
    def _on_done(self, stopped: bool) -> None:
        kept = sum(r["status"] != "failed" for r in self.records)
        if self._error:
            self.controls.show_message(f"{self._error} ({len(self.records)} trials kept)", error=True)
        elif stopped:
            self.controls.show_message(f"Stopped after {self._elapsed()}: {len(self.records)} finished trials kept "
                                       f"({kept} trained).")
        else:
            best = next((r for r in ranked(self.records) if is_done(r)), None)
            summary = (f"best: validation accuracy {best['val_accuracy']:.3f} with learning rate "
                       f"{best['params']['lr']:.3g} and weight decay {best['params']['weight_decay']:.3g}; "
                       f"Use best writes them into the project" if best else "no trial finished")
            self.controls.show_message(f"Done: {len(self.records)} trials in {self._elapsed()}; {summary}.")

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is None:
            return
        self._worker.deleteLater()
        self._thread.deleteLater()
        self._thread = self._worker = None
        self.controls.set_running(False)
        self.controls.use_best_button.setEnabled(any(is_done(r) for r in self.records))
        self.searchFinished.emit()

    def _elapsed(self) -> str:
        s = int(time.monotonic() - self._t0)
        return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"

    def _show(self) -> None:
        self.table.show_records(self.records)
        self.scatter.show_records(self.records)
        self.grid.show_records(self.records)
        self.compare.show_records(self.records)
        self.controls.use_best_button.setEnabled(any(is_done(r) for r in self.records))

    # ------------------------------------------------------------------ the best values

    @Slot()
    def use_best(self) -> None:
        """Write the best trial's values into the project, as one undoable edit."""
        best = next((r for r in ranked(self.records) if is_done(r)), None)
        if best is None:
            return
        params = best["params"]
        self.doc.push(ReplaceProject(self.doc, apply_params(self.doc.project(), params),
                                     "Use the search's best values"))
        self.controls.show_message(f"The project now trains with learning rate {params['lr']:.3g} and weight "
                                   f"decay {params['weight_decay']:.3g} (trial {best['trial']}); Edit ▸ Undo "
                                   f"takes them back.")

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The table beside the scatter in a wide window, above it in a narrow one."""
        super().resizeEvent(event)
        wide = event.size().width() >= WIDE_WINDOW
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.trials_split.orientation() != orientation:
            self.trials_split.setOrientation(orientation)
            extent = self.trials_split.width() if wide else self.trials_split.height()
            self.trials_split.setSizes([extent * 11 // 20, extent * 9 // 20])

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)


def open_search_lab(window: Any) -> SearchLabWidget:
    """Show the Search lab of ``window`` (a main window with a ``doc``) in a window of its own, made once."""
    lab = getattr(window, "search_lab", None)
    if lab is None:
        lab = SearchLabWidget(window.doc, window)
        lab.setWindowFlag(Qt.WindowType.Window, True)
        lab.setWindowTitle(WINDOW_TITLE)
        fit_on_screen(lab, 1400, 860)
        QApplication.instance().aboutToQuit.connect(lab.shutdown)
        window.search_lab = lab
    lab.show()
    lab.raise_()
    lab.activateWindow()
    return lab


def main(argv: list[str] | None = None) -> int:
    """Show the lab alone in a window, on a preset (default ``book-search``)."""
    from playground.engine.project import load_preset
    from playground.ui.theme import Theme

    args = sys.argv[1:] if argv is None else argv
    app = QApplication.instance() or QApplication(sys.argv[:1])
    Theme(app)
    name = args[0] if args else "book-search"
    try:
        project = load_preset(name)
    except PlaygroundError as e:
        print(f"playground.ui.search_lab: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    doc = ProjectDocument(project)
    lab = SearchLabWidget(doc)
    lab.setWindowTitle(WINDOW_TITLE)
    fit_on_screen(lab, 1400, 860)
    app.aboutToQuit.connect(lab.shutdown)
    lab.show()
    return app.exec()
