"""The optimizer lab: six optimizers descending one 2-D function side by side.

The paths come from :class:`playground.engine.lab.PathLab`, which drives the
same optimizer classes that train networks. This module only draws them:

- a log-scaled heat map with contour lines, each optimizer's path in its own
  colour, the start (click the map to move it) and the known minima;
- at each path's head, a dashed arrow downhill (−∇f, fixed length) and a solid
  arrow for the step the optimizer takes next, to scale;
- Play / Pause / Step / Reset and a speed control (a QTimer, never a loop);
- per optimizer: on/off, learning rate and its other settings, applied live;
  f now and the step at which it came within the tolerance of a minimum, or
  where it diverged;
- f − f* (log scale) against the step number;
- a 3-D surface when PyOpenGL and an OpenGL context are there, else a label
  saying why.

Run alone with ``python -m playground.ui.optimizer_lab``.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QIcon, QPixmap
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QGraphicsItem, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QSlider,
                               QSplitter, QStyle, QTabWidget, QVBoxLayout, QWidget)

from playground.engine.errors import SpecError
from playground.engine.lab.paths import DEFAULT_TOLERANCE, LAB_OPTIMIZERS, OPTIMIZER_INFO, PathLab
from playground.engine.lab.functions import FUNCTIONS, LabFunction, get_function
from playground.engine.lab.expressions import ExpressionError, parse_expression
from playground.engine.nn.optimizers import OPTIMIZERS
from playground.ui.plotlook import dark_look, restyle
from playground.ui.theme import current_theme

__all__ = ["OptimizerLabWidget", "contour_segments", "heat_offset", "log_heat", "symlog", "main"]

#: one colour per optimizer, readable on the light and the dark heat map
COLORS = {"sgd": "#e6194b", "momentum": "#1f9e3a", "nesterov": "#2f6fdf", "adagrad": "#f58231",
          "rmsprop": "#9b2fc9", "adam": "#0a9396"}
#: steps per second offered by the speed slider
SPEEDS = (1, 2, 3, 5, 8, 12, 20, 30, 50, 100, 200, 500)
DEFAULT_SPEED = 8
#: tolerances offered for "reached" (distance to the nearest known minimum)
TOLERANCES = (1e-1, 1e-2, 1e-3, 1e-4, 1e-6)
#: Play stops by itself after this many steps
MAX_STEPS = 20000
GRID = 241          # heat-map samples per axis
GRID_3D = 81
CONTOUR_LEVELS = 14
F_FLOOR = 1e-20     # f − f* is drawn no lower than this on the log plot
DOTS_UP_TO = 400    # a path is drawn with a dot per step up to this many points
SYMLOG_ABOVE = 1e3  # without a known minimum, f is drawn as sign(f)·log10(1 + |f|) once |f| passes this
#: short labels of the optimizer settings shown beside the learning rate (ε stays as the book has it)
PARAM_LABELS = {"momentum": "μ", "rho": "ρ", "beta1": "β₁", "beta2": "β₂"}
OPENGL_HINT = "pip install 'numpy-nn-playground[opengl]'"


# ---------------------------------------------------------------- pure helpers (NumPy only)

def heat_offset(values: np.ndarray) -> tuple[float, float]:
    """(lowest finite f, δ) for the log scale log10(f − lowest + δ); δ is 1e-4 of the range."""
    f = np.asarray(values, dtype=np.float64)
    finite = f[np.isfinite(f)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return lo, max((hi - lo) * 1e-4, 1e-12)


def log_heat(values: np.ndarray, offset: tuple[float, float] | None = None) -> np.ndarray:
    """log10(f − lo + δ) with ``(lo, δ)`` from :func:`heat_offset` of the grid; non-finite f gives NaN."""
    f = np.asarray(values, dtype=np.float64)
    lo, delta = heat_offset(f) if offset is None else offset
    with np.errstate(all="ignore"):
        out = np.log10(np.maximum(f - lo, 0.0) + delta)
    out[~np.isfinite(f)] = np.nan
    return out


# marching squares: for each corner case, the pairs of cell edges a contour crosses
# (edges: 0 bottom, 1 right, 2 top, 3 left; corners: 1 bottom-left, 2 bottom-right, 4 top-right, 8 top-left)
_CASES = {1: ((3, 0),), 2: ((0, 1),), 3: ((3, 1),), 4: ((1, 2),), 5: ((3, 0), (1, 2)), 6: ((0, 2),),
          7: ((3, 2),), 8: ((2, 3),), 9: ((0, 2),), 10: ((0, 1), (2, 3)), 11: ((1, 2),), 12: ((3, 1),),
          13: ((0, 1),), 14: ((3, 0),)}


def contour_segments(z: np.ndarray, xs: np.ndarray, ys: np.ndarray, level: float) -> np.ndarray:
    """Line segments of the contour ``z = level`` by marching squares, vectorised.

    ``z`` is row-major, ``z[j, i]`` at ``(xs[i], ys[j])``. Returns a (2k, 2)
    array of segment end points, in pairs (for ``connect="pairs"``). Cells
    with a non-finite corner are skipped.
    """
    z = np.asarray(z, dtype=np.float64)
    a, b, c, d = z[:-1, :-1], z[:-1, 1:], z[1:, 1:], z[1:, :-1]
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    case = ((a > level) * 1 + (b > level) * 2 + (c > level) * 4 + (d > level) * 8) * ok
    x0, x1 = xs[None, :-1], xs[None, 1:]
    y0, y1 = ys[:-1, None], ys[1:, None]

    def cross(p, q, lo, hi):
        with np.errstate(all="ignore"):
            t = (level - p) / (q - p)
        return lo + np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0) * (hi - lo)

    shape = a.shape
    edges = (  # (x, y) of the crossing on each edge of every cell
        (cross(a, b, x0, x1), np.broadcast_to(y0, shape)),
        (np.broadcast_to(x1, shape), cross(b, c, y0, y1)),
        (cross(d, c, x0, x1), np.broadcast_to(y1, shape)),
        (np.broadcast_to(x0, shape), cross(a, d, y0, y1)),
    )
    parts = []
    for k, pairs in _CASES.items():
        mask = case == k
        if not mask.any():
            continue
        for e1, e2 in pairs:
            p = np.stack([edges[e1][0][mask], edges[e1][1][mask]], axis=1)
            q = np.stack([edges[e2][0][mask], edges[e2][1][mask]], axis=1)
            seg = np.empty((2 * len(p), 2))
            seg[0::2], seg[1::2] = p, q
            parts.append(seg)
    return np.concatenate(parts) if parts else np.empty((0, 2))


def _arrow(tail: np.ndarray, vec: np.ndarray, pixel: tuple[float, float], head_px: float = 9.0) -> np.ndarray:
    """Segments (pairs) of an arrow from ``tail`` along ``vec`` (data units), its head sized in pixels."""
    pw, ph = pixel
    sx, sy = vec[0] / pw, vec[1] / ph  # the vector in pixels (y up)
    length = math.hypot(sx, sy)
    if not (math.isfinite(length) and length >= 1.0):
        return np.empty((0, 2))
    tip = tail + vec
    ux, uy = sx / length, sy / length
    head = min(head_px, 0.6 * length)
    pts = [tail, tip]
    for ang in (math.radians(155), math.radians(-155)):
        ca, sa = math.cos(ang), math.sin(ang)
        hx, hy = (ux * ca - uy * sa) * head, (ux * sa + uy * ca) * head
        pts += [tip, tip + np.array([hx * pw, hy * ph])]
    return np.array(pts)


def _opengl_problem() -> str | None:
    """Why the 3-D view cannot be shown, or None if PyOpenGL is importable (the context is tried later)."""
    import importlib.util

    if importlib.util.find_spec("OpenGL") is None:
        return f"The 3-D view needs PyOpenGL: {OPENGL_HINT}\nThe 2-D map works without it."
    return None


def symlog(values: np.ndarray) -> np.ndarray:
    """sign(f)·log10(1 + |f|): readable when f runs from a few units to −10¹¹ (a saddle)."""
    v = np.asarray(values, dtype=np.float64)
    return np.sign(v) * np.log10(1.0 + np.abs(v))


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    return f"{v:.3g}" if v == 0 or 1e-3 <= abs(v) < 1e4 else f"{v:.2e}"


# ---------------------------------------------------------------- the widget

class _OptimizerRow:
    """The controls of one optimizer in the side panel."""

    def __init__(self, name: str):
        self.name = name
        self.check: QCheckBox
        self.lr: QDoubleSpinBox
        self.params: dict[str, QDoubleSpinBox] = {}
        self.value: QLabel
        self.status: QLabel


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
        self.lab = PathLab(function)
        self.tolerance = DEFAULT_TOLERANCE
        self._reached: dict[str, tuple[int, int | None]] = {}  # name → (points checked, first step within tol)
        self._dark = dark_look()
        self._gl: Any = None
        self._gl_items: dict[str, Any] = {}
        self._gl_problem = _opengl_problem()
        self._grid: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._symlog = False          # f drawn as sign(f)·log10(1 + |f|) (no known minimum, |f| large)
        self._value_label = ""
        self._step_span = 0
        self._value_span: tuple[float, float] | None = None

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
        return SPEEDS[self.speed_slider.value()]

    def set_speed(self, steps_per_second: float) -> None:
        idx = int(np.argmin([abs(s - steps_per_second) for s in SPEEDS]))
        self.speed_slider.setValue(idx)
        self._speed_changed(idx)

    def play(self) -> None:
        if not self.lab.running or self.lab.step_count >= MAX_STEPS:
            self._set_message("Nothing left to run: every path has stopped. Reset or click a new start.")
            self.play_button.setChecked(False)
            return
        self._timer.start()
        self.play_button.setChecked(True)
        self._play_look(True)
        self.playingChanged.emit(True)

    def pause(self) -> None:
        was = self._timer.isActive()
        self._timer.stop()
        self.play_button.setChecked(False)
        self._play_look(False)
        if was:
            self.playingChanged.emit(False)

    def step(self, n: int = 1) -> None:
        """Take ``n`` steps of every enabled optimizer and redraw."""
        self.lab.step(n)
        self._refresh()
        self.stepped.emit(self.lab.step_count)

    def reset(self) -> None:
        """Every path back to the start, optimizers' state forgotten, settings kept."""
        self.pause()
        self.lab.reset()
        self._reached.clear()
        self._refresh()
        self.stepped.emit(0)

    def set_start(self, x: float, y: float) -> None:
        """Start every path at (x, y) and reset."""
        self.lab.reset((float(x), float(y)))
        self._reached.clear()
        self._refresh()
        self.startChanged.emit(float(x), float(y))
        self.stepped.emit(0)

    def set_function(self, spec: str | LabFunction) -> bool:
        """Show a catalogue function or a typed expression; False (and the error shown inline) if unreadable."""
        try:
            fn = get_function(spec)
        except SpecError as e:
            self._show_expression_error(e)
            return False
        self.pause()
        self.lab.set_function(fn)
        self._reached.clear()
        self._sync_combo(fn)
        self._show_expression_error(None)
        self._set_message("")
        self._show_function()
        self.functionChanged.emit(fn.name)
        return True

    def shutdown(self) -> None:
        """Stop playing (the main window calls this when it closes)."""
        self.pause()

    def set_tolerance(self, tol: float) -> None:
        self.tolerance = float(tol)
        idx = int(np.argmin([abs(math.log10(t) - math.log10(tol)) for t in TOLERANCES]))
        self.tol_combo.blockSignals(True)
        self.tol_combo.setCurrentIndex(idx)
        self.tol_combo.blockSignals(False)
        self._reached.clear()
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
        root.addLayout(self._build_function_bar())
        self.expr_error = QLabel()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.expr_error.setFont(mono)
        self.expr_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expr_error.setStyleSheet("color: #dc2626;")
        self.expr_error.hide()
        root.addWidget(self.expr_error)
        self.formula_label = QLabel()
        self.formula_label.setWordWrap(True)
        root.addWidget(self.formula_label)
        root.addLayout(self._build_transport())

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        self.view_tabs = QTabWidget()
        self.view_tabs.addTab(self._build_map(), "Map (2-D)")
        self.view_tabs.addTab(self._build_3d_placeholder(), "Surface (3-D)")
        self.view_tabs.currentChanged.connect(self._tab_changed)
        split.addWidget(self.view_tabs)

        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(self._build_optimizer_panel())
        side_lay.addWidget(self._build_value_plot(), 1)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([820, 560])
        root.addWidget(split, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        root.addWidget(self.message)

    def _build_function_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Function:"))
        self.function_combo = QComboBox()
        for fn in FUNCTIONS.values():
            self.function_combo.addItem(fn.title, fn.name)
            self.function_combo.setItemData(self.function_combo.count() - 1, f"{fn.formula}\n{fn.note}",
                                            Qt.ItemDataRole.ToolTipRole)
        self.function_combo.addItem("Your function…", None)
        self.function_combo.setToolTip("The function all optimizers descend")
        self.function_combo.activated.connect(self._combo_activated)
        bar.addWidget(self.function_combo)
        bar.addSpacing(12)
        bar.addWidget(QLabel("f(x, y) ="))
        self.expr_edit = QLineEdit()
        self.expr_edit.setPlaceholderText("type a function, e.g. x**2 + 3*y**2 + sin(x)  — then Enter")
        self.expr_edit.setToolTip("x, y, numbers, + − * / **, sin cos exp log sqrt abs tanh, pi, e.\n"
                                  "Gradients by central differences. Press Enter to use it.")
        self.expr_edit.setClearButtonEnabled(True)
        self.expr_edit.returnPressed.connect(self._apply_expression)
        self.expr_edit.textEdited.connect(self._check_expression)
        bar.addWidget(self.expr_edit, 1)
        self.expr_button = QPushButton("Use")
        self.expr_button.setToolTip("Descend the typed function")
        self.expr_button.clicked.connect(self._apply_expression)
        bar.addWidget(self.expr_button)
        return bar

    def _build_transport(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        style = self.style()
        self.play_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Run the optimizers step after step at the chosen speed")
        self.play_button.clicked.connect(lambda on: self.play() if on else self.pause())
        self.step_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step")
        self.step_button.setToolTip("One step of every optimizer that is on")
        self.step_button.clicked.connect(lambda: self.step(1))
        self.reset_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), "Reset")
        self.reset_button.setToolTip("Back to the start; velocities and squared-gradient sums are forgotten")
        self.reset_button.clicked.connect(self.reset)
        for b in (self.play_button, self.step_button, self.reset_button):
            bar.addWidget(b)
        bar.addSpacing(16)
        bar.addWidget(QLabel("Speed:"))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setFixedWidth(160)
        self.speed_slider.setToolTip("Steps per second while playing")
        self.speed_slider.valueChanged.connect(self._speed_changed)
        bar.addWidget(self.speed_slider)
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(80)
        bar.addWidget(self.speed_label)
        bar.addSpacing(16)
        bar.addWidget(QLabel("Reached = within"))
        self.tol_combo = QComboBox()
        for t in TOLERANCES:
            self.tol_combo.addItem(f"{t:g}", t)
        self.tol_combo.setCurrentIndex(TOLERANCES.index(DEFAULT_TOLERANCE))
        self.tol_combo.setToolTip("A path has reached a minimum when its distance to the nearest known "
                                  "minimum is at most this")
        self.tol_combo.currentIndexChanged.connect(lambda i: self.set_tolerance(TOLERANCES[i]))
        bar.addWidget(self.tol_combo)
        bar.addWidget(QLabel("of a minimum"))
        bar.addStretch(1)
        self.step_label = QLabel()
        f = self.step_label.font()
        f.setBold(True)
        self.step_label.setFont(f)
        bar.addWidget(self.step_label)
        return bar

    def _build_map(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumSize(420, 320)
        self.plot.setToolTip("Click to start every path there · drag to pan · wheel to zoom · "
                             "right-click for view options")
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", "x")
        pi.setLabel("left", "y")
        pi.showGrid(x=False, y=False)
        pi.setMenuEnabled(True)
        self.vb = pi.getViewBox()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-100)
        pi.addItem(self.image)
        self.contours = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(0, 0, 0, 70, width=1))
        self.contours.setZValue(-50)
        pi.addItem(self.contours)
        self.minima_item = pg.ScatterPlotItem(symbol="star", size=15, pen=pg.mkPen("#222", width=1),
                                              brush=pg.mkBrush("#ffd60a"))
        self.minima_item.setZValue(20)
        pi.addItem(self.minima_item)
        self.start_item = pg.ScatterPlotItem(symbol="o", size=13, pen=pg.mkPen("#111", width=2),
                                             brush=pg.mkBrush(255, 255, 255, 230))
        self.start_item.setZValue(30)
        pi.addItem(self.start_item)

        self.path_items: dict[str, pg.PlotDataItem] = {}
        self.head_items: dict[str, pg.ScatterPlotItem] = {}
        self.grad_items: dict[str, pg.PlotCurveItem] = {}
        self.step_items: dict[str, pg.PlotCurveItem] = {}
        for z, name in enumerate(LAB_OPTIMIZERS):
            color = QColor(COLORS[name])
            path = pg.PlotDataItem(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4,
                                   symbolPen=None, symbolBrush=color, name=OPTIMIZER_INFO[name][0])
            path.setZValue(10 + z)
            head = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(color))
            head.setZValue(40 + z)
            grad = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(color, width=1.5,
                                                                   style=Qt.PenStyle.DashLine))
            grad.setZValue(50 + z)
            stepi = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(color, width=3))
            stepi.setZValue(60 + z)
            for item in (path, head, grad, stepi):
                pi.addItem(item)
            self.path_items[name], self.head_items[name] = path, head
            self.grad_items[name], self.step_items[name] = grad, stepi
        self.vb.sigRangeChanged.connect(self._view_moved)
        # the heat map, contours and axes change only with the function or the view: keep them as pixmaps
        # so that drawing a step repaints only the paths
        for item in (self.image, self.contours, pi.getAxis("left"), pi.getAxis("bottom")):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.plot.scene().sigMouseClicked.connect(self._map_clicked)
        lay.addWidget(self.plot, 1)
        hint = QLabel("Click the map to move the start ○.  Dashed arrow: downhill, −∇f (direction only).  "
                      "Solid arrow: the step each optimizer takes next, to scale.  ★ known minimum, "
                      "✕ diverged.")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        return box

    def _build_3d_placeholder(self) -> QWidget:
        self.gl_box = QWidget()
        lay = QVBoxLayout(self.gl_box)
        self.gl_label = QLabel(self._gl_problem or "The 3-D surface appears when this tab is opened.")
        self.gl_label.setWordWrap(True)
        self.gl_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.gl_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.gl_label, 1)
        return self.gl_box

    def _build_optimizer_panel(self) -> QWidget:
        group = QGroupBox("Optimizers (the same classes that train networks)")
        grid = QGridLayout(group)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        for col, (text, tip) in enumerate((("", ""), ("lr", "learning rate, changed live"),
                                           ("settings", "other settings, changed live"),
                                           ("f now", "f at the path's current point"),
                                           ("reached", "the step at which the path came within the "
                                                       "tolerance of a known minimum"))):
            head = QLabel(f"<b>{text}</b>")
            head.setToolTip(tip)
            grid.addWidget(head, 0, col)
        self.rows: dict[str, _OptimizerRow] = {}
        for r, name in enumerate(LAB_OPTIMIZERS, start=1):
            row = _OptimizerRow(name)
            title, formula = OPTIMIZER_INFO[name]
            tip = f"<b>{title}</b><br><code>{formula.splitlines()[0]}</code><br>" + \
                  "<br>".join(formula.splitlines()[1:])
            row.check = QCheckBox(title)
            row.check.setChecked(True)
            row.check.setIcon(self._swatch(COLORS[name]))
            row.check.setToolTip(tip)
            row.check.toggled.connect(lambda on, n=name: self._toggle(n, on))
            grid.addWidget(row.check, r, 0)

            row.lr = self._spin(1e-5, 10.0, 5, self.lab.paths[name].optimizer.lr)
            row.lr.setMaximumWidth(96)
            row.lr.setToolTip(f"{title} learning rate lr (live)")
            row.lr.valueChanged.connect(lambda v, n=name: self._setting(n, "lr", v))
            grid.addWidget(row.lr, r, 1)

            params = QWidget()
            play = QHBoxLayout(params)
            play.setContentsMargins(0, 0, 0, 0)
            play.setSpacing(4)
            opt = self.lab.paths[name].optimizer
            for attr, desc in OPTIMIZERS[name].settings:
                if attr not in PARAM_LABELS:
                    continue
                lab = QLabel(PARAM_LABELS[attr])
                lab.setToolTip(desc)
                box = self._spin(0.0, 0.9999, 4, getattr(opt, attr))
                box.setMaximumWidth(78)
                box.setToolTip(f"{title}: {desc} (live)")
                box.valueChanged.connect(lambda v, n=name, a=attr: self._setting(n, a, v))
                row.params[attr] = box
                play.addWidget(lab)
                play.addWidget(box)
            if not row.params:
                none = QLabel("ε = 1e-7" if name == "adagrad" else "")
                none.setToolTip("AdaGrad adds 1e-7 to √h, as in the book")
                play.addWidget(none)
            play.addStretch(1)
            grid.addWidget(params, r, 2)

            row.value = QLabel("—")
            row.value.setMinimumWidth(64)
            grid.addWidget(row.value, r, 3)
            row.status = QLabel("—")
            row.status.setMinimumWidth(110)
            grid.addWidget(row.status, r, 4)
            self.rows[name] = row
        grid.setColumnStretch(2, 1)
        return group

    def _build_value_plot(self) -> QWidget:
        self.fplot = pg.PlotWidget()
        self.fplot.setMinimumHeight(200)
        fi = self.fplot.getPlotItem()
        fi.setLabel("bottom", "step")
        for side in ("left", "bottom"):
            fi.getAxis(side).enableAutoSIPrefix(False)
            fi.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        fi.showGrid(x=True, y=True, alpha=0.25)
        fi.setClipToView(True)
        fi.setDownsampling(auto=True, mode="peak")
        self.legend = self.fplot.addLegend(offset=(8, -8), labelTextSize="8pt")
        self.fcurves: dict[str, pg.PlotDataItem] = {}
        for name in LAB_OPTIMIZERS:
            self.fcurves[name] = self.fplot.plot(pen=pg.mkPen(COLORS[name], width=2), name=OPTIMIZER_INFO[name][0])
        return self.fplot

    @staticmethod
    def _spin(lo: float, hi: float, decimals: int, value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(lo, hi)
        box.setDecimals(decimals)
        box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        box.setKeyboardTracking(False)
        box.setValue(value)
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        return box

    @staticmethod
    def _swatch(color: str) -> QIcon:
        pm = QPixmap(14, 14)
        pm.fill(QColor(color))
        return QIcon(pm)

    # ------------------------------------------------------------ function and its picture
    def _sync_combo(self, fn: LabFunction) -> None:
        idx = self.function_combo.findData(fn.name) if not fn.custom else self.function_combo.count() - 1
        self.function_combo.setCurrentIndex(idx)
        if fn.custom:
            self.expr_edit.setText(fn.name)

    def _combo_activated(self, index: int) -> None:
        name = self.function_combo.itemData(index)
        if name is None:  # "Your function…": start from the current formula
            if not self.expr_edit.text().strip():
                self.expr_edit.setText(self.lab.function.expression.text)
            self.expr_edit.setFocus()
            self.expr_edit.selectAll()
            self._set_message("Edit the formula and press Enter.")
            self._sync_combo_back()
            return
        self.set_function(name)

    def _sync_combo_back(self) -> None:
        fn = self.lab.function
        idx = self.function_combo.findData(fn.name) if not fn.custom else self.function_combo.count() - 1
        self.function_combo.setCurrentIndex(idx)

    def _check_expression(self, text: str) -> None:
        if not text.strip():
            self._show_expression_error(None)
            return
        try:
            parse_expression(text)
        except ExpressionError as e:
            self._show_expression_error(e)
        else:
            self._show_expression_error(None)

    def _apply_expression(self) -> None:
        text = self.expr_edit.text().strip()
        if not text:
            self._show_expression_error(ExpressionError("the function is empty; type an expression in x and y",
                                                        "", 1))
            return
        try:  # a catalogue name also works; anything else must parse, with a caret at the mistake
            fn = get_function(text if text.lower() in FUNCTIONS else parse_expression(text).text)
        except SpecError as e:
            self._show_expression_error(e)
            return
        self.set_function(fn)

    def _show_expression_error(self, error: SpecError | None) -> None:
        self.expr_edit.setStyleSheet("" if error is None else "QLineEdit { border: 1px solid #dc2626; }")
        if error is None:
            self.expr_error.clear()
            self.expr_error.hide()
            return
        text = error.pointer() if isinstance(error, ExpressionError) else str(error)
        self.expr_error.setText(text)
        self.expr_error.show()

    def _show_function(self) -> None:
        fn = self.lab.function
        grad = "analytic gradient" if fn.analytic else "gradient by central differences"
        mins = ", ".join(f"({m[0]:.4g}, {m[1]:.4g})" for m in fn.minima) or "none known"
        self.formula_label.setText(f"<b>{fn.formula}</b> &nbsp; · &nbsp; {grad} &nbsp; · &nbsp; minima: {mins}"
                                   + (f" &nbsp; · &nbsp; <i>{fn.note}</i>" if fn.note else ""))
        self._sync_rows()
        self._compute_grid()
        self._paint_map()
        x0, x1 = fn.x_range
        y0, y1 = fn.y_range
        self.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.minima_item.setData(pos=np.asarray(fn.minima, dtype=float).reshape(-1, 2))
        fi = self.fplot.getPlotItem()
        known = fn.f_min is not None
        fi.setLogMode(y=known)
        if self._gl is not None:
            self._build_gl_scene()
        self._step_span, self._value_span = 0, None
        self._refresh()

    def _sync_rows(self) -> None:
        for name, row in self.rows.items():
            cfg = self.lab.paths[name].optimizer
            for box, value in [(row.lr, cfg.lr)] + [(b, getattr(cfg, a)) for a, b in row.params.items()]:
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)
            row.lr.setToolTip(f"{OPTIMIZER_INFO[name][0]} learning rate lr (live); "
                              f"{self.lab.function.lrs[name]:g} suits this function")

    def _compute_grid(self) -> None:
        fn = self.lab.function
        xs = np.linspace(*fn.x_range, GRID)
        ys = np.linspace(*fn.y_range, GRID)
        X, Y = np.meshgrid(xs, ys)
        F = fn.value(X, Y)
        self._grid = (xs, ys, F, log_heat(F))

    def _colormap(self) -> pg.ColorMap:
        if self._dark:
            return pg.ColorMap([0.0, 0.35, 1.0], [QColor("#f1f5f9"), QColor("#64748b"), QColor("#1e293b")])
        return pg.ColorMap([0.0, 0.4, 1.0], [QColor("#ffffff"), QColor("#c7d2e3"), QColor("#51607a")])

    def _paint_map(self) -> None:
        xs, ys, _, Z = self._grid
        finite = np.isfinite(Z)
        lo, hi = (float(Z[finite].min()), float(Z[finite].max())) if finite.any() else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        self.image.setImage(Z, levels=(lo, hi), lut=self._colormap().getLookupTable(nPts=256), autoLevels=False)
        self.image.setRect(QRectF(xs[0], ys[0], xs[-1] - xs[0], ys[-1] - ys[0]))
        levels = np.linspace(lo, hi, CONTOUR_LEVELS + 2)[1:-1]
        segs = [contour_segments(Z, xs, ys, lv) for lv in levels]
        pts = np.concatenate(segs) if segs else np.empty((0, 2))
        color = (255, 255, 255, 60) if self._dark else (20, 30, 50, 70)
        self.contours.setPen(pg.mkPen(*color, width=1))
        self.contours.setData(pts[:, 0], pts[:, 1])

    # ------------------------------------------------------------ stepping and drawing
    def _speed_changed(self, idx: int) -> None:
        speed = SPEEDS[idx]
        interval = max(1000.0 / speed, 30.0)
        self._per_tick = max(1, round(speed * interval / 1000.0))
        self._timer.setInterval(int(round(interval)))
        self.speed_label.setText(f"{speed} steps/s")

    def _tick(self) -> None:
        n = min(self._per_tick, MAX_STEPS - self.lab.step_count)
        if n > 0:
            self.step(n)
        if not self.lab.running or self.lab.step_count >= MAX_STEPS:
            self.pause()
            done = "Every path has stopped." if not self.lab.running else f"Stopped after {MAX_STEPS} steps."
            self._set_message(done + " Reset or click a new start to run again.")

    def _play_look(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

    def _toggle(self, name: str, on: bool) -> None:
        self.lab.set_enabled(name, on)
        self._reached.pop(name, None)
        for item in (self.path_items[name], self.head_items[name], self.grad_items[name], self.step_items[name],
                     self.fcurves[name]):
            item.setVisible(on)
        if name in self._gl_items:
            self._gl_items[name].setVisible(on)
        self._refresh()

    def _setting(self, name: str, attr: str, value: float) -> None:
        try:
            self.lab.set_setting(name, attr, value)
        except SpecError as e:
            self._set_message(str(e), error=True)
            return
        self._set_message("")
        self._draw_arrows()

    def _map_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        pos = ev.scenePos()
        if not self.vb.sceneBoundingRect().contains(pos):
            return
        p = self.vb.mapSceneToView(pos)
        ev.accept()
        self.pause()
        self.set_start(p.x(), p.y())

    def _set_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #dc2626;" if error else "")
        self.message.setText(text)

    def _reached_step(self, name: str) -> int | None:
        """The first step within the tolerance, looking only at the points added since the last look."""
        path = self.lab.paths[name]
        checked, hit = self._reached.get(name, (0, None))
        if hit is None:
            hit = path.reached_at(self.tolerance, first=checked)
            self._reached[name] = (len(path.points), hit)
        return hit

    def _refresh(self) -> None:
        """Redraw paths, heads, readouts and the f plot from the lab."""
        fn = self.lab.function
        known = fn.f_min is not None
        self._choose_value_scale(known)
        self.start_item.setData(pos=[tuple(self.lab.start)])
        y_lo, y_hi = math.inf, -math.inf
        for name in LAB_OPTIMIZERS:
            path = self.lab.paths[name]
            on = self.lab.enabled[name]
            row = self.rows[name]
            pts = path.points
            item = self.path_items[name]
            dots = len(pts) <= DOTS_UP_TO
            if dots != (item.opts["symbol"] is not None):  # a dot per step while they can be told apart
                item.setSymbol("o" if dots else None)
            item.setData(pts[:, 0], pts[:, 1])
            vals = path.values
            steps = np.arange(len(vals))
            y = np.maximum(vals - fn.f_min, F_FLOOR) if known else symlog(vals) if self._symlog else vals
            self.fcurves[name].setData(steps, y)
            if on and len(y):
                finite = y[np.isfinite(y)]
                if finite.size:
                    y_lo, y_hi = min(y_lo, float(finite.min())), max(y_hi, float(finite.max()))
            row.value.setText(_fmt(float(vals[-1])) if on else "off")
            if not on:
                row.status.setText("off")
                row.status.setStyleSheet("color: gray;")
                row.status.setToolTip("")
            elif path.stopped:
                row.status.setText(f"diverged at {path.diverged_at}")
                row.status.setStyleSheet("color: #dc2626; font-weight: bold;")
                row.status.setToolTip(f"Stopped at step {path.diverged_at}: {path.diverged_reason}. "
                                      "The others go on.")
            elif not fn.minima:
                row.status.setText("no known min")
                row.status.setStyleSheet("color: gray;")
                row.status.setToolTip("This function has no known minimum to reach")
            else:
                hit = self._reached_step(name)
                row.status.setText("—" if hit is None else f"step {hit}")
                row.status.setStyleSheet("" if hit is None else "font-weight: bold;")
                row.status.setToolTip(f"The first step within {self.tolerance:g} of a minimum")
        self._draw_heads()
        self.step_label.setText(f"Step {self.lab.step_count}")
        if not math.isfinite(float(fn.value(*self.lab.start))):
            x, y = self.lab.start
            self._set_message(f"f is not defined at the start ({x:.3g}, {y:.3g}): click the map where it is "
                              "(the coloured area).", error=True)
        elif self.message.text().startswith("f is not defined at the start"):
            self._set_message("")
        self._grow_step_axis()
        self._fit_value_axis(y_lo, y_hi, known)
        self._draw_arrows()
        self._update_gl_paths()

    def _grow_step_axis(self) -> None:
        """The f plot's step axis grows in jumps (20, 40, 80, …), so its ticks are not redrawn every step."""
        n = self.lab.step_count
        span = 20
        while span < n:
            span *= 2
        if span != self._step_span:
            self._step_span = span
            self.fplot.getPlotItem().setXRange(0, span, padding=0.02)

    def _fit_value_axis(self, lo: float, hi: float, log: bool) -> None:
        """The f plot's value axis in whole decades (log) or round steps (linear), reset only when that changes."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return
        if log:
            lo, hi = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
            lo = min(lo, hi - 3)  # at least three decades, so the ticks stay whole powers of ten
        else:
            span = hi - lo
            unit = 10.0 ** math.floor(math.log10(span)) if span > 0 else max(abs(hi), 1.0) * 0.1
            lo, hi = math.floor(lo / unit) * unit, math.ceil(hi / unit) * unit
            if hi <= lo:
                lo, hi = lo - unit, hi + unit
        if (lo, hi) != self._value_span:
            self._value_span = (lo, hi)
            self.fplot.getPlotItem().setYRange(lo, hi, padding=0.03)

    def _choose_value_scale(self, known: bool) -> None:
        """f − f* on a log axis when the minimum is known; else f, or sign(f)·log₁₀(1 + |f|) once |f| > 1000."""
        if known:
            label = "f − f*  (log scale)"
        else:
            big = max((float(np.max(np.abs(p.values))) for n, p in self.lab.paths.items() if self.lab.enabled[n]),
                      default=0.0)
            self._symlog = big > SYMLOG_ABOVE
            label = "sign(f)·log₁₀(1 + |f|)" if self._symlog else "f"
        if label != self._value_label:
            self._value_label = label
            self.fplot.getPlotItem().setLabel("left", label)

    def _view_moved(self, *_args) -> None:
        self._draw_heads()
        self._draw_arrows()

    def _draw_heads(self) -> None:
        """A dot at each path's current point; a red ✕ where a path diverged, kept inside the view."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        for name in LAB_OPTIMIZERS:
            path = self.lab.paths[name]
            head = self.head_items[name]
            x, y = path.points[-1]
            if path.stopped:
                x, y = min(max(x, x0), x1), min(max(y, y0), y1)
                head.setData(pos=[(x, y)], symbol="x", size=18, brush=pg.mkBrush("#dc2626"),
                             pen=pg.mkPen("#7f1d1d", width=1))
            else:
                head.setData(pos=[(x, y)], symbol="o", size=11, brush=pg.mkBrush(COLORS[name]),
                             pen=pg.mkPen("w", width=1.5))

    def _draw_arrows(self) -> None:
        """At each head: −∇f (dashed, fixed length) and the next step to scale (solid)."""
        if not hasattr(self, "grad_items"):
            return
        pw, ph = self.vb.viewPixelSize()
        if not (pw > 0 and ph > 0):
            return
        previews = self.lab.preview()
        for name in LAB_OPTIMIZERS:
            grad_item, step_item = self.grad_items[name], self.step_items[name]
            path = self.lab.paths[name]
            if name not in previews or path.stopped:
                grad_item.setData([], [])
                step_item.setData([], [])
                continue
            g, delta = previews[name]
            here = path.position
            pts = np.empty((0, 2))
            big = float(np.max(np.abs(g))) if np.all(np.isfinite(g)) else 0.0
            if big > 0:  # scaled by the largest component first, so huge gradients do not overflow
                sx, sy = g[0] / big / pw, g[1] / big / ph
                down = -np.array([sx * pw, sy * ph]) * (38.0 / math.hypot(sx, sy))  # 38 px long on screen
                pts = _arrow(here, down, (pw, ph), head_px=7.0)
            grad_item.setData(pts[:, 0], pts[:, 1]) if len(pts) else grad_item.setData([], [])
            spts = _arrow(here, delta, (pw, ph))
            step_item.setData(spts[:, 0], spts[:, 1]) if len(spts) else step_item.setData([], [])

    # ------------------------------------------------------------ 3-D
    def _tab_changed(self, index: int) -> None:
        if self.view_tabs.widget(index) is self.gl_box and self._gl is None and self._gl_problem is None:
            self._init_gl()
        self._update_gl_paths()

    def _init_gl(self) -> None:
        from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

        try:
            import pyqtgraph.opengl as gl
        except Exception as e:  # PyOpenGL present but broken: say so, keep the 2-D view
            self._gl_problem = f"The 3-D view could not load pyqtgraph.opengl ({type(e).__name__}: {e}). " \
                               f"Try: {OPENGL_HINT}"
            self.gl_label.setText(self._gl_problem)
            return
        ctx = QOpenGLContext()
        surface = QOffscreenSurface()
        surface.create()
        if not ctx.create() or not ctx.makeCurrent(surface):
            self._gl_problem = ("The 3-D view needs an OpenGL context, and this display could not create one "
                                f"(platform: {QApplication.platformName()}). The 2-D map works without it.")
            self.gl_label.setText(self._gl_problem)
            return
        ctx.doneCurrent()
        self._gl_module = gl
        self._gl = gl.GLViewWidget()
        self._gl.setCameraPosition(pos=pg.Vector(0, 0, 1.5), distance=19, elevation=30, azimuth=-60)
        self.gl_label.hide()
        self.gl_box.layout().addWidget(self._gl, 1)
        note = QLabel("Height: log-scaled f, as on the map. Drag to turn, wheel to zoom.")
        self.gl_box.layout().addWidget(note)
        self._build_gl_scene()

    def _gl_xyz(self, x, y, zlog):
        fn = self.lab.function
        (x0, x1), (y0, y1) = fn.x_range, fn.y_range
        lo, hi = self._gl_zrange
        X = (np.asarray(x) - x0) / (x1 - x0) * 12.0 - 6.0
        Y = (np.asarray(y) - y0) / (y1 - y0) * 12.0 - 6.0
        Z = (np.asarray(zlog) - lo) / (hi - lo) * 5.0
        return X, Y, Z

    def _build_gl_scene(self) -> None:
        gl = self._gl_module
        for item in list(self._gl.items):
            self._gl.removeItem(item)
        self._gl_items.clear()
        fn = self.lab.function
        xs = np.linspace(*fn.x_range, GRID_3D)
        ys = np.linspace(*fn.y_range, GRID_3D)
        X, Y = np.meshgrid(xs, ys)
        F = fn.value(X, Y)
        self._gl_offset = heat_offset(F)
        Z = log_heat(F, self._gl_offset)
        finite = np.isfinite(Z)
        lo, hi = (float(Z[finite].min()), float(Z[finite].max())) if finite.any() else (0.0, 1.0)
        self._gl_zrange = (lo, hi if hi > lo else lo + 1.0)
        Zf = np.where(finite, Z, lo)
        gx, gy, gz = self._gl_xyz(xs, ys, Zf)
        cmap = pg.colormap.get("viridis")
        colors = cmap.map((Zf - lo) / (self._gl_zrange[1] - lo), mode="float")  # (ny, nx, 4)
        # the surface wants z[i, j] at (x[i], y[j]) and one colour per vertex in that order, flattened
        vertex_colors = np.ascontiguousarray(colors.reshape(GRID_3D, GRID_3D, 4).transpose(1, 0, 2)).reshape(-1, 4)
        surf = gl.GLSurfacePlotItem(x=gx, y=gy, z=gz.T, colors=vertex_colors, smooth=False, computeNormals=False)
        surf.setGLOptions("opaque")
        self._gl.addItem(surf)
        for name in LAB_OPTIMIZERS:
            line = gl.GLLinePlotItem(pos=np.zeros((1, 3)), color=QColor(COLORS[name]), width=3, antialias=True)
            line.setGLOptions("translucent")
            self._gl.addItem(line)
            line.setVisible(self.lab.enabled[name])
            self._gl_items[name] = line
        self._update_gl_paths()

    def _update_gl_paths(self) -> None:
        if self._gl is None or self.view_tabs.currentWidget() is not self.gl_box:
            return
        for name, line in self._gl_items.items():
            pts = self.lab.paths[name].points
            zlog = log_heat(self.lab.paths[name].values, self._gl_offset)
            X, Y, Z = self._gl_xyz(pts[:, 0], pts[:, 1], zlog)
            line.setData(pos=np.column_stack([X, Y, Z + 0.08]))

    # ------------------------------------------------------------ theme
    def _theme_changed(self, dark: bool) -> None:
        self._dark = dark
        self._apply_plot_colors()
        self._paint_map()

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
    w = OptimizerLabWidget()
    w.setWindowTitle("Optimizer lab — NumPy Neural Network Playground")
    w.resize(1500, 920)
    w.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
