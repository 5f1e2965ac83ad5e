"""The optimizer lab: six optimizers descending one 2-D function side by side, its parts wired together.

The paths come from :class:`playground.engine.lab.paths.PathLab`, which drives
the same optimizer classes that train networks, held with what the lab shows
about them by :class:`~playground.ui.optimizer_lab.race.RaceModel`. The parts:

- :class:`~playground.ui.optimizer_lab.mapview.MapView`: a log-scaled heat map
  with contour lines, each optimizer's path in its own colour, the start (click
  the map to move it), the known minima, and at each path's head a dashed arrow
  downhill (−∇f, fixed length) and a solid arrow for the next step, to scale;
- :mod:`~playground.ui.optimizer_lab.controls`: the function menu and typed
  f(x, y), Play / Pause / Step / Reset and a speed (a QTimer, never a loop),
  and per optimizer on/off, learning rate and its other settings, applied live,
  f now and the step at which it came within the tolerance of a minimum, or
  where it diverged;
- :class:`~playground.ui.optimizer_lab.valueplot.ValuePlot`: f − f* (log
  scale) against the step number;
- :class:`~playground.ui.optimizer_lab.surface.SurfaceView`: a 3-D surface when
  PyOpenGL and an OpenGL context are there, else a label saying why.

Run alone with ``python -m playground.ui.optimizer_lab``.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from playground.engine.errors import SpecError
from playground.engine.lab.functions import LabFunction, get_function
from playground.engine.lab.paths import LAB_OPTIMIZERS
from playground.ui.optimizer_lab.controls import DEFAULT_SPEED, FunctionBar, OptimizerPanel, Transport
from playground.ui.optimizer_lab.drawing import fmt
from playground.ui.optimizer_lab.internals import InternalsOverlay, StepPanel
from playground.ui.optimizer_lab.mapview import MapView
from playground.ui.optimizer_lab.race import RaceModel
from playground.ui.optimizer_lab.surface import SurfaceView
from playground.ui.optimizer_lab.valueplot import ValuePlot
from playground.ui.layout import fit_on_screen, scrolling
from playground.ui.theme import text_color
from playground.ui.plotlook import dark_look, restyle
from playground.ui.theme import current_theme

__all__ = ["OptimizerLabWidget", "main"]

MESSAGE_LINES = 2   # the message line under the lab keeps this height, shown or not


class OptimizerLabWidget(QWidget):
    """The optimizer lab, embeddable as a tab or dock; see the module docstring."""

    #: the start point moved (x, y)
    startChanged = Signal(float, float)
    #: steps were taken; the argument is the step count now
    stepped = Signal(int)
    #: a new function is shown; the argument is its name (or the typed expression)
    functionChanged = Signal(str)
    #: Play started (True) or stopped (False)
    playingChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None, function: str = "book"):
        super().__init__(parent)
        self.race = RaceModel(function)
        self.lab = self.race.lab
        self._dark = dark_look()
        self._per_tick = 1
        self._start_message = False   # the message shown says f is not defined at the start
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._build()
        self.set_speed(DEFAULT_SPEED)
        self._apply_plot_colors()
        self._show_function()
        theme = current_theme()
        if theme is not None:
            theme.changed.connect(self._theme_changed)

    # ------------------------------------------------------------ public API
    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        """Steps per second while playing."""
        return self.transport.speed

    @property
    def tolerance(self) -> float:
        """The distance to a known minimum at which a path has reached it."""
        return self.race.tolerance

    def set_speed(self, steps_per_second: float) -> None:
        self.transport.set_speed(steps_per_second)

    def play(self) -> None:
        if not self.race.can_step:
            self._say_stop(refused=True)
            self.transport.show_playing(False)
            return
        self._timer.start()
        self.transport.show_playing(True)
        self.playingChanged.emit(True)

    def pause(self) -> None:
        was = self._timer.isActive()
        self._timer.stop()
        self.transport.show_playing(False)
        if was:
            self.playingChanged.emit(False)

    def step(self, n: int = 1) -> None:
        """Take ``n`` steps of every enabled optimizer and redraw."""
        self.race.step(n)
        self._refresh()
        self.stepped.emit(self.lab.step_count)

    def reset(self) -> None:
        """Every path back to the start, optimizers' state forgotten, settings kept."""
        self.pause()
        self.race.reset()
        self._refresh()
        self.stepped.emit(0)

    def set_start(self, x: float, y: float) -> None:
        """Start every path at (x, y) and reset."""
        self.race.reset((float(x), float(y)))
        self._refresh()
        self.startChanged.emit(float(x), float(y))
        self.stepped.emit(0)

    def set_function(self, spec: str | LabFunction) -> bool:
        """Show a catalogue function or a typed expression; False (and the error shown inline) if unreadable."""
        try:
            fn = get_function(spec)
        except SpecError as e:
            self.function_bar.show_error(e)
            return False
        self.pause()
        self.race.set_function(fn)
        self._set_message("")
        self._show_function()
        self.functionChanged.emit(fn.name)
        return True

    def shutdown(self) -> None:
        """Stop playing (the main window calls this when it closes)."""
        self.pause()

    def set_tolerance(self, tol: float) -> None:
        self.race.set_tolerance(tol)
        self.transport.show_tolerance(tol)
        self._refresh()

    def set_enabled(self, name: str, on: bool) -> None:
        """Turn one optimizer on or off (its check box follows)."""
        self.rows[name].check.setChecked(on)

    def set_setting(self, name: str, attr: str, value: float) -> None:
        """Change one optimizer setting (its spin box follows)."""
        box = self.rows[name].lr if attr == "lr" else self.rows[name].params[attr]
        box.setValue(value)

    # ------------------------------------------------------------ building
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)
        self.function_bar = FunctionBar()
        self.function_bar.requested.connect(self.set_function)
        self.function_bar.hint.connect(self._set_message)
        root.addWidget(self.function_bar)
        self.transport = Transport()
        self.transport.playClicked.connect(lambda on: self.play() if on else self.pause())
        self.transport.stepClicked.connect(lambda: self.step(1))
        self.transport.resetClicked.connect(self.reset)
        self.transport.speedChanged.connect(self._speed_changed)
        self.transport.toleranceChanged.connect(self.set_tolerance)
        root.addWidget(self.transport)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        self.map_view = MapView(self.lab)
        self.map_view.clicked.connect(self._map_clicked)
        self.internals = InternalsOverlay(self.lab, self.map_view)
        self.surface = SurfaceView(self.lab)
        self.view_tabs = QTabWidget()
        self.view_tabs.addTab(self.map_view, "Map (2-D)")
        self.view_tabs.addTab(self.surface, "Surface (3-D)")
        self.view_tabs.currentChanged.connect(self._tab_changed)
        split.addWidget(self.view_tabs)

        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        self.panel = OptimizerPanel(self.lab)
        self.panel.toggled.connect(self._toggle)
        self.panel.settingChanged.connect(self._setting)
        side_lay.addWidget(self.panel)
        self.step_panel = StepPanel(self.lab)  # the chosen optimizer's next update, with numbers
        self.step_panel.show_box.toggled.connect(self.internals.set_visible)
        side_lay.addWidget(self.step_panel)
        self.fplot = ValuePlot()
        side_lay.addWidget(self.fplot, 1)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([820, 560])
        root.addWidget(split, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.message.setFixedHeight(self.message.fontMetrics().lineSpacing() * MESSAGE_LINES + 2)
        root.addWidget(self.message)
        self._name_parts()

    def _name_parts(self) -> None:
        """The parts' widgets and plot items under the names the lab has always offered its users and tests."""
        m, t, f = self.map_view, self.transport, self.function_bar
        self.plot, self.vb = m.plot, m.vb
        self.path_items, self.head_items = m.path_items, m.head_items
        self.grad_items, self.step_items = m.grad_items, m.step_items
        self.play_button, self.step_button, self.reset_button = t.play_button, t.step_button, t.reset_button
        self.speed_slider, self.tol_combo, self.step_label = t.speed_slider, t.tol_combo, t.step_label
        self.function_combo, self.expr_edit, self.expr_error = f.function_combo, f.expr_edit, f.expr_error
        self.formula_label = f.formula_label
        self.rows = self.panel.rows
        self.fcurves = self.fplot.fcurves
        self.gl_label = self.surface.gl_label

    # ------------------------------------------------------------ function, stepping and drawing
    def _show_function(self) -> None:
        fn = self.race.function
        self.function_bar.show_function(fn)
        self.panel.sync()
        self.map_view.show_function(fn, self._dark)
        self.fplot.show_function(fn.f_min is not None)
        self.surface.show_function()
        self._refresh()

    def _speed_changed(self, speed: float) -> None:
        interval = max(1000.0 / speed, 30.0)
        self._per_tick = max(1, round(speed * interval / 1000.0))
        self._timer.setInterval(int(round(interval)))

    def _tick(self) -> None:
        self.step(self._per_tick)
        if not self.race.can_step:
            self.pause()
            self._say_stop()

    def _toggle(self, name: str, on: bool) -> None:
        self.race.set_enabled(name, on)
        self.map_view.set_visible(name, on)
        self.fplot.set_visible(name, on)
        self.surface.set_visible(name, on)
        self._refresh()

    def _setting(self, name: str, attr: str, value: float) -> None:
        try:
            self.lab.set_setting(name, attr, value)
        except SpecError as e:
            self._set_message(str(e), error=True)
            return
        self._set_message("")
        self.map_view.draw_arrows()

    def _map_clicked(self, x: float, y: float) -> None:
        self.pause()
        self.set_start(x, y)

    def _set_message(self, text: str, error: bool = False, about_start: bool = False) -> None:
        """The line under the lab; ``about_start`` marks a message that goes once the start is fine again."""
        self.message.setStyleSheet(f"color: {text_color('error')};" if error else "")
        self.message.setText(text)
        self._start_message = about_start

    def _say_stop(self, refused: bool = False) -> None:
        bad_start = self.race.start_problem is not None
        self._set_message(self.race.stop_message(refused), error=bad_start, about_start=bad_start)

    def _refresh(self) -> None:
        """Redraw paths, heads, readouts and the f plot from the lab."""
        for name in LAB_OPTIMIZERS:
            on = self.lab.enabled[name]
            value = fmt(float(self.lab.paths[name].values[-1])) if on else "off"
            self.rows[name].show_status(value, self.race.status(name))
        self.fplot.draw(self.race)
        self.map_view.draw()
        self.internals.draw()
        self.step_panel.refresh()
        self.transport.show_step(self.lab.step_count)
        problem = self.race.start_problem
        if problem is not None:
            self._set_message(f"No optimizer can take a step: {problem}. Click the map where f is defined "
                              "(the coloured area).", error=True, about_start=True)
        elif self._start_message:
            self._set_message("")
        self.surface.draw_paths()

    def _tab_changed(self, index: int) -> None:
        if self.view_tabs.widget(index) is self.surface:
            self.surface.open()

    # ------------------------------------------------------------ theme and lifetime
    def _theme_changed(self, dark: bool) -> None:
        self._dark = dark
        self._apply_plot_colors()
        self.map_view.paint(dark)

    def _apply_plot_colors(self) -> None:
        """Background, axes and legend in the app's light or dark look, whatever pyqtgraph's defaults say."""
        restyle(self.plot)
        restyle(self.fplot)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name): a hidden tab does not keep playing
        self.pause()
        super().hideEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.shutdown()
        super().closeEvent(event)


def main(argv: list[str] | None = None) -> int:
    """Show the lab alone in a window."""
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    try:
        from playground.ui.theme import Theme

        Theme(app)
    except ImportError:
        pass
    w = scrolling(OptimizerLabWidget())  # a small screen scrolls it down, as the main window's tab does
    w.setWindowTitle("Optimizer lab — NumPy Neural Network Playground")
    fit_on_screen(w, 1500, 920)
    w.show()
    return app.exec()
