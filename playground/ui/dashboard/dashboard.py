"""TrainingDashboard: train the document's project live and watch it learn.

The dashboard owns at most one :class:`~playground.ui.worker.ProcessTrainingSession`
at a time: training runs in a worker process, so the plots' painting never
slows it down. The worker sends snapshots; slots here only append them to the
current :class:`~.runs.Run` and mark the plots dirty; a timer redraws at the
UI's pace. Networks handed out (``network_updated``, ``current_network``) are
copies made in the worker (or after it ended), never the one training.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QSplitter, QStyle,
                               QToolButton, QVBoxLayout, QWidget)

from playground.engine.errors import PlaygroundError
from playground.engine.nn.network import Network, copy_network
from playground.engine.project import validate_project
from playground.engine.train.trainer import TrainConfig
from playground.ui.theme import current_theme
from playground.ui.worker import Inbox, ProcessTrainingSession
from playground.ui.dashboard.history import CloneDialog, RunsPanel
from playground.ui.dashboard.loading import DatasetLoader, is_quick, spec_key
from playground.ui.dashboard.plots import ConfusionView, CurvesPanel, HealthPanel, ModelView
from playground.ui.dashboard.runs import RUN_COLORS, Run
from playground.ui.dashboard.samples import SamplesDialog
from playground.engine.train.snapshots import SnapshotMaker

#: gradient norms and activation histograms every this many batches (when the project says 0)
STATS_EVERY = 20
RUNS_LIST_MS = 500  # the live run's row in the runs list, at most this often
REFRESH_MS = 40  # a tick 25 times a second: curves and the other panels take turns (see _refresh)


class Banner(QFrame):
    """A visible message above the plots: errors, divergence, warnings. Closable."""

    STYLES = {"error": ("#fdecea", "#b71c1c"), "warning": ("#fff4e5", "#8a4b00"), "info": ("#e8f1fb", "#0d3c73")}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide this message")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.level = ""
        self.hide()

    def show_message(self, level: str, title: str, text: str) -> None:
        bg, fg = self.STYLES[level]
        self.level = level
        self.setStyleSheet(f"Banner {{ background: {bg}; border: 1px solid {fg}; border-radius: 4px; }}"
                           f"QLabel {{ color: {fg}; }}")
        self.label.setText(f"<b>{title}</b> {text}")
        self.show()

    def text(self) -> str:
        return self.label.text()


class TrainingDashboard(QWidget):
    """Start/Pause/Resume, Step, Stop and Reset training; live curves, health, boundary, confusion, runs."""

    network_updated = Signal(object)
    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._project: dict | None = None
        self._runs: list[Run] = []
        self._live: Run | None = None
        self._session: ProcessTrainingSession | None = None
        self._stopping: list[ProcessTrainingSession] = []
        self._data = None
        self._network: Network | None = None
        self._pending: tuple[Run, str, bool] | None = None  # run waiting for its data set
        self._after_stop: list = []
        self._dirty = False
        self._panels_dirty = False
        self._turn = 0
        self._pictures: dict[str, Any] = {}
        self._confusion: dict | None = None
        self._clone_dialog: CloneDialog | None = None
        #: number of redraws that had new data, and of timer ticks (the benchmark reads them)
        self.refresh_count = 0
        self.tick_count = 0
        self._progress = {"epoch": 0, "epochs": 0, "batch": 0, "batches": 0, "step": 0}
        self._clock = QElapsedTimer()
        self._runs_clock = QElapsedTimer()
        self._runs_clock.start()
        self._health_turn = False  # which half of the health panel the next panel turn draws
        self._active_ms = 0.0
        self._paused_clock = True

        self._inbox = Inbox()
        self.loader = DatasetLoader(self)
        self.loader.loaded.connect(self._data_loaded)
        self.loader.failed.connect(self._data_failed)
        self._build_actions()
        self._build_ui()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._update_actions()
        theme = current_theme()
        if theme is not None:
            theme.changed.connect(self.apply_look)

    def apply_look(self, *_dark) -> None:
        """Repaint the plots in the app's current look (the system or the user switched light/dark)."""
        for panel in (self.curves, self.health, self.model_view, self.confusion):
            panel.apply_look()

    # ------------------------------------------------------------------ building
    def _build_actions(self) -> None:
        style = self.style()

        def action(key: str, text: str, shortcut: str, tip: str, icon) -> QAction:
            a = QAction(style.standardIcon(icon), text, self)
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
            a.setStatusTip(tip)
            self.addAction(a)
            return a

        self.actions: dict[str, QAction] = {
            "start": action("start", "Start", "Space", "Start training; press again to pause or resume",
                            QStyle.StandardPixmap.SP_MediaPlay),
            "stop": action("stop", "Stop", "Esc", "Stop training after the current batch",
                           QStyle.StandardPixmap.SP_MediaStop),
            "step": action("step", "Step", "Ctrl+Right", "Train one batch, then pause",
                           QStyle.StandardPixmap.SP_MediaSeekForward),
            "reset": action("reset", "Reset", "Ctrl+R",
                            "Throw the trained weights away: new weights from the same seed, plots cleared",
                            QStyle.StandardPixmap.SP_BrowserReload),
        }
        self.actions["start"].triggered.connect(self.toggle_start)
        self.actions["stop"].triggered.connect(self.stop)
        self.actions["step"].triggered.connect(self.step)
        self.actions["reset"].triggered.connect(self.reset)

    def _build_ui(self) -> None:
        bar = QHBoxLayout()
        bar.setSpacing(4)
        self.buttons: dict[str, QToolButton] = {}
        for key in ("start", "step", "stop", "reset"):
            b = QToolButton()
            b.setDefaultAction(self.actions[key])
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setMinimumWidth(84)
            self.buttons[key] = b
            bar.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(260)
        self.progress.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.progress.setToolTip("Epoch and batch of the current run, and the training time left at the "
                                 "recent speed")
        self.progress.setFormat("Ready")
        self.progress.setValue(0)
        bar.addSpacing(8)
        bar.addWidget(self.progress, 1)
        self.status = QLabel("Ready")
        self.status.setMinimumWidth(180)
        self.status.setToolTip("What the dashboard is doing")
        bar.addWidget(self.status)

        self.banner = Banner()
        self.curves = CurvesPanel()
        self.health = HealthPanel()
        self.model_view = ModelView()
        self.confusion = ConfusionView()
        self.confusion.cell_clicked.connect(self.show_cell)
        self.samples = SamplesDialog(self)
        self.runs_panel = RunsPanel()
        self.runs_panel.overlay_changed.connect(self._overlays_changed)
        self.runs_panel.clone_requested.connect(self.open_clone_dialog)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.model_view)
        right.addWidget(self.confusion)
        right.setChildrenCollapsible(False)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.curves)
        plots.addWidget(self.health)
        plots.addWidget(right)
        plots.setStretchFactor(0, 4)
        plots.setStretchFactor(1, 3)
        plots.setStretchFactor(2, 3)
        plots.setChildrenCollapsible(False)
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(plots)
        main.addWidget(self.runs_panel)
        main.setStretchFactor(0, 5)
        main.setStretchFactor(1, 1)
        main.setChildrenCollapsible(False)
        self.runs_panel.setMinimumHeight(90)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        lay.addLayout(bar)
        lay.addWidget(self.banner)
        lay.addWidget(main, 1)

    # ------------------------------------------------------------------ public API
    def set_project(self, project: dict) -> None:
        """The document changed: used by the next Start or Reset; a running worker is left alone."""
        self._project = copy.deepcopy(project)
        if self._session is None and self._pending is None:
            self._show_idle_text()

    def current_network(self) -> Network | None:
        """The latest network copy safe to use in the GUI thread, or None."""
        return self._network

    def runs(self) -> list[Run]:
        return list(self._runs)

    def live_run(self) -> Run | None:
        return self._live

    def state(self) -> str:
        """idle, loading, running, paused or stopping."""
        if self._pending is not None:
            return "loading"
        s = self._session
        if s is None:
            return "stopping" if self._stopping else "idle"
        if s.cancelled:
            return "stopping"
        return "paused" if s.paused else "running"

    def toggle_start(self) -> None:
        """Start, or pause / resume the running session."""
        state = self.state()
        if state == "running":
            self._session.pause()
            self._pause_clock()
            self._set_status("Paused: Step trains one batch, Space resumes")
            if self._live:
                self._live.status = "paused"
        elif state == "paused":
            self._resume_clock()
            self._session.resume()
            self._set_status("Training")
            if self._live:
                self._live.status = "running"
        elif state in ("idle", "stopping"):
            self._start_or_queue(lambda: self.start_run(self._project))
        self._update_progress()  # "paused" / time left at once
        self._update_actions()

    def step(self) -> None:
        """One batch, then pause (starts a run, paused, when idle)."""
        state = self.state()
        if state in ("running", "paused"):
            if state == "running":
                self._pause_clock()
            self._session.step(1)
            if self._live:
                self._live.status = "paused"
            self._set_status("Stepping one batch")
        elif state in ("idle", "stopping"):
            self._start_or_queue(lambda: self.start_run(self._project, step=True))
        self._update_actions()

    def stop(self) -> None:
        """Ask the worker to stop after the current batch (or drop a run still loading its data)."""
        if self._pending is not None:
            run = self._pending[0]
            self._pending = None
            self._end_run(run, {"status": "cancelled", "message": "stopped while the data set was loading"})
        elif self._session is not None:
            session = self._session
            session.stop()
            self._resume_clock()
            self._session = None
            self._stopping.append(session)
            self._set_status("Stopping after the current batch…")
        self._after_stop.clear()
        self._update_actions()

    def reset(self) -> None:
        """Stop any run; clear the current plots; new weights from the same seed."""
        self.stop()
        self._live = None
        self._confusion = None
        self._pictures = {}
        self.confusion.clear_matrix()
        self.health.set_run(None)
        self._overlays_changed()
        self.banner.hide()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Ready")
        if self._project is None:
            self._set_status("Reset (no project yet)")
            return
        try:
            net = self._build_network(self._project, self._data_for(self._project))
        except PlaygroundError as e:
            self._error("Cannot build the network:", str(e))
            return
        self._network = net
        seed = self._project.get("training", {}).get("seed", 0)
        self.network_updated.emit(net)
        self._set_status(f"Reset: new weights from seed {seed}")

    def shutdown(self) -> None:
        """Cancel everything and wait for the workers (the main window's closeEvent)."""
        self._after_stop.clear()
        self._pending = None
        if self._session is not None:
            self._stopping.append(self._session)
            self._session = None
        for s in self._stopping:
            s.shutdown(10000)
        self._stopping.clear()
        self.loader.wait()
        self.loader.close()
        self._timer.stop()
        if self._clone_dialog is not None:
            self._clone_dialog.close()
        self.samples.close()

    # ------------------------------------------------------------------ runs
    def start_run(self, project: dict | None, note: str = "", step: bool = False) -> Run | None:
        """Add a run of ``project`` to the history and train it (paused after one batch if ``step``)."""
        if self.state() not in ("idle",):
            return None
        if project is None:
            self._error("Nothing to train:", "open a project or a preset first.")
            return None
        try:
            project = validate_project(project)
        except PlaygroundError as e:
            self._error("The project cannot be trained:", str(e))
            return None
        self.banner.hide()
        run = Run(number=len(self._runs) + 1, project=project, color=RUN_COLORS[len(self._runs) % len(RUN_COLORS)],
                  note=note)
        self._runs.append(run)
        self._live = run
        self.runs_panel.add_run(run)
        self.health.set_run(run)
        self.confusion.clear_matrix()
        self._confusion = None
        self._pictures = {}
        self._overlays_changed()
        key = spec_key(project["dataset"])
        data = self.loader.cached(project["dataset"])
        if data is None and is_quick(project["dataset"]):
            try:
                data = self.loader.load_now(project["dataset"])
            except PlaygroundError as e:
                self._end_run(run, {"status": "error", "message": str(e)})
                self._error("The data set cannot be made:", str(e))
                return run
        self._pending = (run, key, step)
        if data is not None:
            self._launch(data)
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(f"Loading the data set {project['dataset'].get('name')}…")
            self._set_status(f"Loading {project['dataset'].get('name')}…")
            self.loader.request(project["dataset"])
        self._update_actions()
        return run

    def open_clone_dialog(self, number: int) -> CloneDialog | None:
        run = next((r for r in self._runs if r.number == number), None)
        if run is None:
            return None
        if self._clone_dialog is not None:
            self._clone_dialog.close()
        dialog = CloneDialog(run, self)
        dialog.accepted.connect(partial(self._clone_accepted, dialog))
        self._clone_dialog = dialog
        dialog.open()
        return dialog

    def _clone_accepted(self, dialog: CloneDialog) -> None:
        source = dialog.run
        project, note = dialog.result_project, dialog.result_note
        source.shown = True
        self.runs_panel.set_shown(source.number, True)
        if self.state() in ("running", "paused", "loading"):
            self.stop()
        self._start_or_queue(lambda: self.start_run(project, note=f"{source.name}: {note}"))

    def _start_or_queue(self, start) -> None:
        if self.state() == "stopping":
            self._after_stop = [start]
            self._set_status("Starting once the previous run has stopped…")
        else:
            start()

    # ------------------------------------------------------------------ data and launching
    def _data_for(self, project: dict):
        return self.loader.cached(project["dataset"])

    def _data_loaded(self, key: str, data) -> None:
        if self._pending is not None and self._pending[1] == key:
            self._launch(data)

    def _data_failed(self, key: str, message: str) -> None:
        if self._pending is not None and self._pending[1] == key:
            run = self._pending[0]
            self._pending = None
            self._end_run(run, {"status": "error", "message": message})
            self._error("The data set could not be loaded:", message)

    def _build_network(self, project: dict, data) -> Network:
        spec = project["network"]
        seed = int(project.get("training", {}).get("seed", 0))
        shape = None if spec.get("input_shape") else (data.input_shape if data is not None else None)
        return Network(spec, seed=seed, input_shape=shape)

    def _launch(self, data) -> None:
        run, _, step = self._pending
        self._pending = None
        try:
            net = self._build_network(run.project, data)
            config = TrainConfig.from_dict(run.project.get("training"))
            if not config.stats_every:
                config.stats_every = STATS_EVERY
        except PlaygroundError as e:
            self._end_run(run, {"status": "error", "message": str(e)})
            self._error("The network cannot be built:", str(e))
            return
        self._data = data
        self._network = copy_network(net)
        self.network_updated.emit(self._network)
        self.model_view.set_data(data)
        self.health.prepare([l.name for l in net.layers if l.params], [l.name for l in net.activation_layers()])
        self.curves.set_kind(data.kind != "classification")
        # the worker process computes the pictures beside the trainer (SnapshotMaker has no Qt)
        session = ProcessTrainingSession(net, data, config, parent=self, snapshot=(SnapshotMaker, {"epochs": config.epochs}),
                                  start_paused=step, shared=self.loader.shared(data))
        session.began.connect(partial(self._began, session))
        # progress and epochs are pulled by the UI timer from an inbox the session's reader thread fills: however
        # fast a tiny network finishes its epochs, the GUI thread sees no flood of queued events
        session.progress.connect(partial(self._inbox.put, session, "progress"), Qt.ConnectionType.DirectConnection)
        session.epoch_done.connect(partial(self._inbox.put, session, "epoch"), Qt.ConnectionType.DirectConnection)
        session.warning.connect(partial(self._on_warning, session))
        session.ended.connect(partial(self._on_ended, session))
        self._session = session
        run.status = "paused" if step else "running"
        run.epochs = config.epochs
        self._progress = {"epoch": 0, "epochs": config.epochs, "batch": 0, "batches": 0, "step": 0}
        self._active_ms = 0.0
        self._clock.start()
        # the first report lays out every plot anew; the runs list waits its turn so that no single
        # turn of the event loop does it all
        self._runs_clock.restart()
        self._paused_clock = step
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        if step:
            session.step(1)
            self._set_status(f"{run.name}: stepping one batch")
        else:
            session.start()
            self._set_status(f"{run.name}: training {data.name}")
        self._timer.start()
        self._update_actions()

    # ------------------------------------------------------------------ worker signals
    def _began(self, session: ProcessTrainingSession, logs: dict) -> None:
        if session is not self._session or self._live is None:
            return
        self._live.batches = int(logs["batches"])
        self._progress.update(batches=int(logs["batches"]), epochs=int(logs["epochs"]))
        self.progress.setRange(0, int(logs["batches"]) * int(logs["epochs"]))

    def _drain(self) -> None:
        """Take what the worker sent since the last tick; draw only the newest pictures."""
        extras: dict[str, Any] = {}
        epoch_logs = None
        for session, kind, payload in self._inbox.take():
            run = self._run_of(session)
            if run is None:
                continue
            self._dirty = True
            if kind == "epoch":
                run.add_epoch(payload)
                epoch_logs = (run, payload) if session is self._session else epoch_logs
                extras.update(payload.get("extra") or {})  # the confusion matrix of the epoch's validation
                continue
            run.add_batches(payload)
            last = payload["last"]
            if session is self._session:
                self._progress.update(epoch=last["epoch"], batch=last["batch"], batches=last["batches"],
                                      step=payload["steps"][-1])
            extras.update(payload.get("extra") or {})
        for key in ("boundary", "fit", "confusion"):
            if key in extras:
                self._pictures[key] = extras[key]
        if "network" in extras:
            self._network = extras["network"]
            self.network_updated.emit(self._network)
        if epoch_logs is not None:
            run, logs = epoch_logs
            self._set_status(f"{run.name}: epoch {logs['epoch']}/{run.epochs} · {run.result()}")

    def _on_warning(self, session: ProcessTrainingSession, message: str) -> None:
        if self._run_of(session) is not None:
            self.banner.show_message("warning", "Warning:", message)
            self.status_message.emit(f"Warning: {message}")

    def _on_ended(self, session: ProcessTrainingSession, result: dict) -> None:
        self._drain()  # everything the worker sent before it ended
        run = self._run_of(session)
        if session in self._stopping:
            self._stopping.remove(session)
        was_current = session is self._session
        if was_current:
            self._session = None
        session.wait(2000)  # it has emitted its last signal; let its reader thread finish
        session.deleteLater()
        status = result.get("status")
        if run is not None and status in ("finished", "cancelled"):
            # the session's network now holds the trained weights: a copy made here is exact
            self._network = copy_network(session.net)
            self.network_updated.emit(self._network)
        if run is not None:
            self._end_run(run, result)
        if self._after_stop and not self._stopping and self._session is None:
            start = self._after_stop.pop()
            self._after_stop.clear()
            start()
        self._update_actions()

    def _run_of(self, session: ProcessTrainingSession) -> Run | None:
        """The run a session trains (the live run), or None for a session reset away."""
        if (session is self._session or session in self._stopping) and self._live is not None:
            return self._live
        return None

    def _end_run(self, run: Run, result: dict) -> None:
        status = result.get("status", "error")
        run.status = status
        run.message = result.get("message", "")
        self.runs_panel.update_run(run)
        self._refresh(force=True)
        if self._session is None and not self._stopping:
            self._timer.stop()
        name = run.name
        if status == "finished":
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat(f"{name} finished")
            self._set_status(f"{name} finished · {run.result()}")
        elif status == "cancelled":
            self.progress.setFormat(f"{name} stopped at epoch {self._progress['epoch']}, "
                                    f"batch {self._progress['batch']}")
            self._set_status(f"{name} stopped ({run.message})" if run.message else f"{name} stopped")
        elif status == "diverged":
            self.progress.setFormat(f"{name} diverged")
            self.banner.show_message("error", f"{name} diverged:", run.message + ". Change the setting, "
                                     "press Reset or Start to train again (or Clone run to try one change).")
            self.status_message.emit(f"{name} diverged: {run.message}")
            self.status.setText(f"{name} diverged")
        else:
            self.progress.setFormat(f"{name} failed")
            self._error(f"{name} failed:", run.message)
        self._update_actions()

    # ------------------------------------------------------------------ confusion matrix
    def _class_names(self) -> tuple[str, ...]:
        data = self._data
        if data is None:
            return ()
        names = tuple(data.class_names) or tuple(str(i) for i in range(int(data.n_classes or 2)))
        return names

    def show_cell(self, true: int, pred: int) -> None:
        """Show the validation samples of class ``true`` predicted as ``pred``."""
        cm, data = self._confusion, self._data
        if cm is None or data is None:
            return
        y = np.asarray(data.y_val).reshape(-1)
        idx = np.flatnonzero((y == true) & (cm["pred"] == pred))
        names = self._class_names()
        self.samples.show_cell(data.x_val, idx, names[true], names[pred], cm.get("epoch", 0.0))
        if self.model_view.currentWidget() is self.model_view.boundary:
            self.model_view.boundary.mark(data.x_val[idx, :2])
        self._set_status(f"{len(idx)} validation samples: true {names[true]}, predicted {names[pred]}")

    # ------------------------------------------------------------------ drawing
    def _overlays_changed(self) -> None:
        shown = [r for r in self._runs if r.shown]
        self.curves.show_runs(shown, self._live)

    def _tick(self) -> None:
        self.tick_count += 1
        self._drain()
        self._refresh()

    def _refresh(self, force: bool = False) -> None:
        """Redraw what changed, each part at its own pace, so no turn of the event loop paints
        everything at once and the window takes little CPU from training (same cores):

        - the curves on every other tick (12.5 a second),
        - the pictures on every fourth (6 a second), and there too, taking turns, the gradient norms
          and the histograms (3 a second each), and the live run's row in the runs list every 500 ms,
        - the progress bar on the remaining fourth (6 a second).
        """
        self._turn = (self._turn + 1) % 4
        if force or self._turn % 2 == 0:
            if self._dirty or force:
                self._dirty = False
                self.refresh_count += 1
                self.curves.refresh()
                self._panels_dirty = True
        if force or self._turn == 1:
            if self._panels_dirty or self._pictures or force:
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
                if self._live is not None and (force or self._runs_clock.elapsed() >= RUNS_LIST_MS):
                    self._runs_clock.restart()
                    self.runs_panel.update_run(self._live)
        if force or self._turn == 3:
            self._update_progress()

    def _show_pictures(self) -> None:
        pics, self._pictures = self._pictures, {}
        if "boundary" in pics:
            self.model_view.boundary.set_probs(pics["boundary"]["probs"], pics["boundary"]["bounds"])
        if "fit" in pics:
            self.model_view.fit.set_fit(pics["fit"]["x"], pics["fit"]["y"])
        if "confusion" in pics:
            self._confusion = pics["confusion"]
            self.confusion.set_matrix(self._confusion["matrix"], self._class_names())

    def _update_progress(self) -> None:
        if self._session is None or self._live is None:
            return
        p = self._progress
        total = max(p["epochs"] * p["batches"], 1)
        done = p["step"]
        active = self._active_ms + (0 if self._paused_clock else self._clock.elapsed())
        left = ""
        if done and not self._session.paused:
            seconds = active / 1000 / done * (total - done)
            left = f" · {_duration(seconds)} left"
        elif self._session.paused:
            left = " · paused"
        self._show_progress(min(done, total),
                            f"Epoch {max(p['epoch'], 1)}/{p['epochs']} · batch {p['batch']}/{p['batches']}{left}")

    def _show_progress(self, value: int, text: str) -> None:
        """Set the bar's value and text with one repaint (QProgressBar repaints at once on each)."""
        bar = self.progress
        if bar.value() == value and bar.format() == text:
            return
        bar.setUpdatesEnabled(False)
        bar.setValue(value)
        bar.setFormat(text)
        bar.setUpdatesEnabled(True)  # schedules the one repaint

    def _pause_clock(self) -> None:
        if not self._paused_clock:
            self._active_ms += self._clock.elapsed()
            self._paused_clock = True

    def _resume_clock(self) -> None:
        if self._paused_clock:
            self._clock.restart()
            self._paused_clock = False

    # ------------------------------------------------------------------ status
    def _update_actions(self) -> None:
        state = self.state()
        start, stop, step, reset = (self.actions[k] for k in ("start", "stop", "step", "reset"))
        style = self.style()
        if state == "running":
            start.setText("Pause")
            start.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause))
            start.setToolTip("Pause after the current batch (Space)")
        elif state == "paused":
            start.setText("Resume")
            start.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
            start.setToolTip("Go on training (Space)")
        else:
            start.setText("Start")
            start.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
            start.setToolTip("Start a new run of the project from its seed (Space)")
        start.setEnabled(state != "loading")
        stop.setEnabled(state in ("running", "paused", "loading"))
        step.setEnabled(state != "loading")
        reset.setEnabled(True)

    def _set_status(self, text: str) -> None:
        self.status.setText(text if len(text) < 48 else text[:47] + "…")
        self.status.setToolTip(text)
        self.status_message.emit(text)

    def _error(self, title: str, text: str) -> None:
        self.banner.show_message("error", title, text)
        self.status.setText(title.rstrip(":"))
        self.status_message.emit(f"{title} {text}")

    def _show_idle_text(self) -> None:
        p = self._project or {}
        ds = p.get("dataset", {}).get("name", "?") if isinstance(p.get("dataset"), dict) else "?"
        self.status.setText(f"Ready: {p.get('name', 'project')} on {ds}")
        self.status.setToolTip("Press Start (Space) to train the current project")

    def closeEvent(self, event) -> None:  # standalone use; the main window calls shutdown() itself
        self.shutdown()
        super().closeEvent(event)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"
