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

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from playground.engine.errors import PlaygroundError
from playground.engine.nn.network import Network, copy_network
from playground.engine.nn.recurrent import RecurrentLayer
from playground.engine.project import validate_project
from playground.engine.train.snapshots import SnapshotMaker
from playground.engine.train.trainer import TrainConfig
from playground.ui.dashboard.banner import Banner
from playground.ui.dashboard.confusion import ConfusionView
from playground.ui.dashboard.controls import ControlBar
from playground.ui.dashboard.curves import CurvesPanel
from playground.ui.dashboard.health import HealthPanel
from playground.ui.dashboard.history import CloneDialog, RunsPanel
from playground.ui.dashboard.live import LivePlots
from playground.ui.dashboard.loading import DatasetLoader, is_quick, spec_key
from playground.ui.dashboard.model_views import ModelView
from playground.ui.dashboard.runs import RUN_COLORS, Run, comparable_key, describe_end
from playground.ui.dashboard.samples import SamplesDialog
from playground.ui.theme import current_theme
from playground.ui.worker import Inbox, ProcessTrainingSession
from playground.ui.dashboard.midrun import MidRun, changes_during_run, describe_live
from playground.ui.builder.document import validate_spec

#: gradient norms and activation histograms every this many batches (when the project says 0)
STATS_EVERY = 20
REFRESH_MS = 40  # a tick 25 times a second: curves and the other panels take turns (see LivePlots.refresh)


class TrainingDashboard(QWidget):
    """Start/Pause/Resume, Step, Stop and Reset training; live curves, health, boundary, confusion, runs."""

    network_updated = Signal(object)
    status_message = Signal(str)
    run_data = Signal(object)  # a run starts on this data set (its unit heatmaps: live.on_units)

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
        self._clone_dialog: CloneDialog | None = None
        self._midrun: MidRun | None = None  # the live run's optimizer, for changes made while it trains
        #: number of timer ticks (the benchmark reads it)
        self.tick_count = 0

        self._inbox = Inbox()
        self.loader = DatasetLoader(self)
        self.loader.loaded.connect(self._data_loaded)
        self.loader.failed.connect(self._data_failed)
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
    @property
    def refresh_count(self) -> int:
        """The number of redraws that had new data (the benchmark reads it)."""
        return self.live.refresh_count

    def _build_ui(self) -> None:
        self.controls = ControlBar(self)
        self.actions, self.buttons = self.controls.actions, self.controls.buttons
        self.progress, self.status = self.controls.progress, self.controls.status
        for key, slot in (("start", self.toggle_start), ("stop", self.stop), ("step", self.step),
                          ("reset", self.reset)):
            self.actions[key].triggered.connect(slot)
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
        self.live = LivePlots(self.curves, self.health, self.model_view, self.confusion, self.runs_panel,
                              self._class_names, self._update_progress)

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
        lay.addWidget(self.controls)
        lay.addWidget(self.banner)
        lay.addWidget(main, 1)

    # ------------------------------------------------------------------ public API
    def set_project(self, project: dict) -> None:
        """The document changed: used by the next Start or Reset. During a run, a new learning rate or
        optimizer setting goes to the worker, which applies it from its next batch; any other change
        waits for the next run, and the banner says so."""
        old, self._project = self._project, copy.deepcopy(project)
        self.runs_panel.set_comparable(comparable_key(self._project))
        if self._session is None and self._pending is None:
            self._show_idle_text()
            return
        live, later = changes_during_run(self._midrun if self._session is not None else None, old or {}, self._project)
        if live:
            self._session.set_optimizer(live)
            self._set_status(f"From the next batch: {describe_live(live)}")
        if later:
            self.banner.show_message("info", "Applies to the next run:", later)

    def project_opened(self) -> None:
        """Another project was opened: stop any run, empty every plot; only comparable runs can be overlaid."""
        self._clear_plots()
        self._midrun = None
        self.live.forget_data()
        self._show_idle_text()

    def _clear_plots(self) -> None:
        self.stop()
        self._live = None
        self.live.clear()
        self.health.set_run(None)
        self._overlays_changed()
        self.banner.hide()
        self.controls.clear_progress("Ready")

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
            self.controls.pause_clock()
            self._set_status("Paused: Step trains one batch, Space resumes")
            if self._live:
                self._live.status = "paused"
        elif state == "paused":
            self.controls.resume_clock()
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
                self.controls.pause_clock()
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
            self.controls.resume_clock()
            self._session = None
            self._stopping.append(session)
            self._set_status("Stopping after the current batch…")
        self._after_stop.clear()
        self._update_actions()

    def reset(self) -> None:
        """Stop any run; clear the current plots; new weights from the same seed."""
        self._clear_plots()
        if self._project is None:
            self._set_status("Reset (no project yet)")
            return
        try:
            net = build_network(self._project, self.loader.cached(self._project["dataset"]))
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
        problem = validate_spec(project["network"]).error if project["network"].get("input_shape") else None
        if problem is not None:  # refused before it becomes a run: no row in the history
            self._error("The network cannot be built:", f"{problem}. Fix it in the Network tab, then Start.")
            return None
        self.banner.hide()
        run = Run(number=len(self._runs) + 1, project=project, color=RUN_COLORS[len(self._runs) % len(RUN_COLORS)],
                  note=note)
        self._runs.append(run)
        self._live = run
        self.runs_panel.add_run(run)
        self.health.set_run(run)
        self.live.clear()
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
            self.controls.busy(f"Loading the data set {project['dataset'].get('name')}…")
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
    def _data_loaded(self, key: str, data) -> None:
        if self._pending is not None and self._pending[1] == key:
            self._launch(data)

    def _data_failed(self, key: str, message: str) -> None:
        if self._pending is not None and self._pending[1] == key:
            run = self._pending[0]
            self._pending = None
            self._end_run(run, {"status": "error", "message": message})
            self._error("The data set could not be loaded:", message)

    def _launch(self, data) -> None:
        run, _, step = self._pending
        self._pending = None
        try:
            net = build_network(run.project, data)
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
        self.live.set_data(data, any(isinstance(layer, RecurrentLayer) for layer in net.layers))
        self.health.prepare([l.name for l in net.layers if l.params], [l.name for l in net.activation_layers()])
        self.curves.set_kind(data.kind != "classification")
        # the worker process computes the pictures beside the trainer (SnapshotMaker has no Qt)
        self.run_data.emit(data)
        session = ProcessTrainingSession(net, data, config, parent=self, snapshot=(SnapshotMaker, {
                                  "epochs": config.epochs, "units": True}),
                                  start_paused=step, shared=self.loader.shared(data))
        session.began.connect(partial(self._began, session))
        # progress and epochs are pulled by the UI timer from an inbox the session's reader thread fills: however
        # fast a tiny network finishes its epochs, the GUI thread sees no flood of queued events
        session.progress.connect(partial(self._inbox.put, session, "progress"), Qt.ConnectionType.DirectConnection)
        session.epoch_done.connect(partial(self._inbox.put, session, "epoch"), Qt.ConnectionType.DirectConnection)
        session.warning.connect(partial(self._on_warning, session))
        session.ended.connect(partial(self._on_ended, session))
        self._session = session
        self._midrun = MidRun(run.project)
        run.status = "paused" if step else "running"
        run.epochs = config.epochs
        self.controls.start_run(config.epochs, paused=step)
        self.live.new_run()
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
        self.controls.began(int(logs["batches"]), int(logs["epochs"]))

    def _drain(self) -> None:
        """Take what the worker sent since the last tick; draw only the newest pictures."""
        extras: dict[str, Any] = {}
        epoch_logs = None
        for session, kind, payload in self._inbox.take():
            run = self._run_of(session)
            if run is None:
                continue
            self.live.changed()
            if kind == "epoch":
                run.add_epoch(payload)
                epoch_logs = (run, payload) if session is self._session else epoch_logs
                extras.update(payload.get("extra") or {})  # the confusion matrix of the epoch's validation
                continue
            run.add_batches(payload)
            last = payload["last"]
            if run is self._live:  # a stopping run's last batches too: they say where it stopped
                self.controls.counts.update(epoch=last["epoch"], batch=last["batch"], batches=last["batches"],
                                            step=payload["steps"][-1])
            extras.update(payload.get("extra") or {})
        self.live.take_pictures(extras)
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
        self.live.refresh(self._live, force=True)
        if self._session is None and not self._stopping:
            self._timer.stop()
        bar, status_text, banner = describe_end(run, self.controls.counts)
        self.controls.show_end(bar, full=status == "finished")
        if status == "diverged":
            self.banner.show_message("error", *banner)
            self.status_message.emit(status_text)
            self.status.setText(bar)
        elif banner is not None:
            self._error(*banner)
        else:
            self._set_status(status_text)
        self._update_actions()

    # ------------------------------------------------------------------ confusion matrix
    def _class_names(self) -> tuple[str, ...]:
        data = self._data
        return () if data is None else tuple(data.class_names) or tuple(map(str, range(int(data.n_classes or 2))))

    def show_cell(self, true: int, pred: int) -> None:
        """Show the validation samples of class ``true`` predicted as ``pred``."""
        text = self.live.show_cell(true, pred, self._data, self.samples)
        if text:
            self._set_status(text)

    # ------------------------------------------------------------------ drawing
    def _overlays_changed(self) -> None:
        shown = [r for r in self._runs if r.shown and self.runs_panel.comparable(r)]
        self.curves.show_runs(shown, self._live)

    def _tick(self) -> None:
        self.tick_count += 1
        self._drain()
        self.live.refresh(self._live)

    def _update_progress(self) -> None:
        if self._session is None or self._live is None:
            return
        self.controls.update_progress(self._session.paused)

    # ------------------------------------------------------------------ status
    def _update_actions(self) -> None:
        self.controls.show_state(self.state())

    def _set_status(self, text: str) -> None:
        self.controls.set_status(text)
        self.status_message.emit(text)

    def _error(self, title: str, text: str) -> None:
        self.banner.show_message("error", title, text)
        self.status.setText(title.rstrip(":"))
        self.status_message.emit(f"{title} {text}")

    def _show_idle_text(self) -> None:
        p = self._project or {}
        ds = p["dataset"].get("name", "?") if isinstance(p.get("dataset"), dict) else "?"
        self.status.setText(f"Ready: {p.get('name', 'project')} on {ds}")
        self.status.setToolTip("Press Start (Space) to train the current project")

    def closeEvent(self, event) -> None:  # standalone use; the main window calls shutdown() itself
        self.shutdown()
        super().closeEvent(event)


def build_network(project: dict, data) -> Network:
    """``project``'s network with its seed's weights (its input shape from ``data`` if the spec has none)."""
    spec = project["network"]
    seed = int(project.get("training", {}).get("seed", 0))
    shape = None if spec.get("input_shape") else (data.input_shape if data is not None else None)
    return Network(spec, seed=seed, input_shape=shape)
