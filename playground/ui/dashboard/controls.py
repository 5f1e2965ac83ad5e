"""The dashboard's control bar: Start/Pause, Step, Stop and Reset, the progress bar with the time left, the status."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QStyle, QToolButton, QWidget


class ControlBar(QWidget):
    """The buttons of the dashboard's actions, the current run's progress and a one-line status.

    The actions belong to ``owner`` (the dashboard): their shortcuts work
    wherever its window has the focus. The bar also keeps the run's training
    clock, which stops while the run is paused, for the time left.
    """

    def __init__(self, owner: QWidget):
        super().__init__(owner)
        self.actions = self._build_actions(owner)
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(4)
        self.buttons: dict[str, QToolButton] = {}
        for key in ("start", "step", "stop", "reset"):
            b = QToolButton()
            b.setDefaultAction(self.actions[key])
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            self.buttons[key] = b
            bar.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(150)
        self.progress.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.progress.setToolTip("Epoch and batch of the current run, and the training time left at the "
                                 "recent speed")
        self.progress.setFormat("Ready")
        self.progress.setValue(0)
        bar.addSpacing(8)
        bar.addWidget(self.progress, 2)
        self.status = ElidedLabel("Ready")
        self.status.setMinimumWidth(90)
        self.status.setToolTip("What the dashboard is doing")
        bar.addWidget(self.status, 1)
        #: where the current run is: epoch and batch, of how many, and the batches trained in all
        self.counts = {"epoch": 0, "epochs": 0, "batch": 0, "batches": 0, "step": 0}
        self._clock = QElapsedTimer()
        self._active_ms = 0.0
        self._paused_clock = True

    def _build_actions(self, owner: QWidget) -> dict[str, QAction]:
        style = self.style()

        def action(text: str, shortcut: str, tip: str, icon) -> QAction:
            a = QAction(style.standardIcon(icon), text, owner)
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
            a.setStatusTip(tip)
            owner.addAction(a)
            return a

        return {
            "start": action("Start", "Space", "Start training; press again to pause or resume",
                            QStyle.StandardPixmap.SP_MediaPlay),
            "stop": action("Stop", "Esc", "Stop training after the current batch",
                           QStyle.StandardPixmap.SP_MediaStop),
            "step": action("Step", "Ctrl+Right", "Train one batch, then pause",
                           QStyle.StandardPixmap.SP_MediaSeekForward),
            "reset": action("Reset", "Ctrl+R",
                            "Throw the trained weights away: new weights from the same seed, plots cleared",
                            QStyle.StandardPixmap.SP_BrowserReload),
        }

    def show_state(self, state: str) -> None:
        """Texts, icons and enabled actions for the dashboard's ``state`` (idle, loading, running, …)."""
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

    def set_status(self, text: str) -> None:
        """``text`` in the status label, shortened with "…" to the room it has; the whole of it in its tooltip."""
        self.status.setText(text)
        self.status.setToolTip(text)

    # ------------------------------------------------------------------ progress
    def clear_progress(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(text)

    def busy(self, text: str) -> None:
        """A bar that moves without a value (a data set loading) and says why."""
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)

    def start_run(self, epochs: int, paused: bool) -> None:
        """A new run of ``epochs``: counts from zero, its clock started (held if it starts ``paused``)."""
        self.counts = {"epoch": 0, "epochs": epochs, "batch": 0, "batches": 0, "step": 0}
        self._active_ms = 0.0
        self._clock.start()
        self._paused_clock = paused
        self.clear_progress("Starting…")

    def began(self, batches: int, epochs: int) -> None:
        """The worker said how many batches an epoch has."""
        self.counts.update(batches=batches, epochs=epochs)
        self.progress.setRange(0, batches * epochs)

    def pause_clock(self) -> None:
        if not self._paused_clock:
            self._active_ms += self._clock.elapsed()
            self._paused_clock = True

    def resume_clock(self) -> None:
        if self._paused_clock:
            self._clock.restart()
            self._paused_clock = False

    def update_progress(self, paused: bool) -> None:
        """The bar at the current counts, with the time left at the speed so far (or "paused")."""
        p = self.counts
        total = max(p["epochs"] * p["batches"], 1)
        done = p["step"]
        active = self._active_ms + (0 if self._paused_clock else self._clock.elapsed())
        left = ""
        if done and not paused:
            seconds = active / 1000 / done * (total - done)
            left = f" · {duration(seconds)} left"
        elif paused:
            left = " · paused"
        self.show_progress(min(done, total),
                           f"Epoch {max(p['epoch'], 1)}/{p['epochs']} · batch {p['batch']}/{p['batches']}{left}")

    def show_progress(self, value: int, text: str) -> None:
        """Set the bar's value and text with one repaint (QProgressBar repaints at once on each)."""
        bar = self.progress
        if bar.value() == value and bar.format() == text:
            return
        bar.setUpdatesEnabled(False)
        bar.setValue(value)
        bar.setFormat(text)
        bar.setUpdatesEnabled(True)  # schedules the one repaint

    def show_end(self, text: str, full: bool = False) -> None:
        """How the run ended, in the bar (filled if it ``full``-y finished)."""
        if self.progress.maximum() == 0:  # still moving for a data set that did not load: it stops
            self.progress.setRange(0, 1)
        if full:
            self.progress.setValue(self.progress.maximum())
        self.progress.setFormat(text)


class ElidedLabel(QLabel):
    """A one-line label that takes the room left to it and ends its text with "…" when it does not fit
    (``full_text()`` is the whole of it)."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        return QSize(min(super().sizeHint().width(), 360), super().sizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(self.width(), 20))
        super().setText(shown)


def duration(seconds: float) -> str:
    """``seconds`` as m:ss, or h:mm:ss from an hour."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"
