"""The optimizer lab's controls: the function bar, Play / Step / Reset with speed and tolerance, the optimizer rows."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QFontMetrics, QIcon, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSizePolicy, QSlider, QStackedWidget, QStyle, QVBoxLayout,
                               QWidget)

from playground.engine.errors import SpecError
from playground.engine.lab.expressions import ExpressionError, parse_expression
from playground.engine.lab.functions import FUNCTIONS, LabFunction, get_function
from playground.engine.lab.paths import DEFAULT_TOLERANCE, LAB_OPTIMIZERS, OPTIMIZER_INFO, PathLab
from playground.engine.nn.optimizers import OPTIMIZERS
from playground.ui.builder.catalog import SETTING_SYMBOLS
from playground.ui.optimizer_lab.drawing import COLORS
from playground.ui.optimizer_lab.race import RowStatus

__all__ = ["FunctionBar", "Transport", "OptimizerPanel", "OptimizerRow", "SPEEDS", "DEFAULT_SPEED", "TOLERANCES",
           "PARAM_LABELS", "EXPRESSION_HELP"]

#: steps per second offered by the speed slider
SPEEDS = (1, 2, 3, 5, 8, 12, 20, 30, 50, 100, 200, 500)
DEFAULT_SPEED = 8
#: tolerances offered for "reached" (distance to the nearest known minimum)
TOLERANCES = (1e-1, 1e-2, 1e-3, 1e-4, 1e-6)
#: short labels of the optimizer settings shown beside the learning rate (ε stays as the book has it)
PARAM_LABELS = {key: SETTING_SYMBOLS[key] for key in ("momentum", "rho", "beta1", "beta2")}
#: the tooltip of the typed-function box: what it reads
EXPRESSION_HELP = ("x, y, numbers, + − * /, powers as ** or ^ (x^2 is x**2), sin cos exp log sqrt abs tanh, "
                   "pi, e.\nGradients by central differences. Press Enter to use it.")
ERROR_LINES = 3     # an expression error: the problem, the expression, a caret under the column
_RED = "#dc2626"
_STATUS_STYLE = {"off": "color: gray;", "undefined": f"color: {_RED}; font-weight: bold;",
                 "diverged": f"color: {_RED}; font-weight: bold;", "none": "color: gray;", "waiting": "",
                 "reached": "font-weight: bold;"}


class FunctionBar(QWidget):
    """The function menu, the f(x, y) box, and under them the formula, or what is wrong with the typed text.

    The formula and the error share one slot of fixed height, so an error
    never moves the controls below. :attr:`requested` carries a catalogue
    name or a parsed :class:`LabFunction`; :attr:`hint` a message for the
    person.
    """

    requested = Signal(object)
    hint = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._function: LabFunction | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
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
        self.expr_edit.setPlaceholderText("type a function, e.g. x^2 + 3*y^2 + sin(x)  — then Enter")
        self.expr_edit.setToolTip(EXPRESSION_HELP)
        self.expr_edit.setClearButtonEnabled(True)
        self.expr_edit.returnPressed.connect(self._apply_expression)
        self.expr_edit.textEdited.connect(self._check_expression)
        bar.addWidget(self.expr_edit, 1)
        self.expr_button = QPushButton("Use")
        self.expr_button.setToolTip("Descend the typed function")
        self.expr_button.clicked.connect(self._apply_expression)
        bar.addWidget(self.expr_button)
        lay.addLayout(bar)

        self.formula_label = QLabel()
        self.formula_label.setWordWrap(True)
        self.formula_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.expr_error = QLabel()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.expr_error.setFont(mono)
        self.expr_error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.expr_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expr_error.setStyleSheet(f"color: {_RED};")
        self.slot = QStackedWidget()
        self.slot.addWidget(self.formula_label)
        self.slot.addWidget(self.expr_error)
        self.slot.setFixedHeight(QFontMetrics(mono).lineSpacing() * ERROR_LINES + 4)
        lay.addWidget(self.slot)

    def show_function(self, fn: LabFunction) -> None:
        """The menu, the box (the function's expression, to edit) and the formula line follow ``fn``."""
        self._function = fn
        self._sync_combo()
        self.expr_edit.setText(fn.expression.text)
        self.show_error(None)
        grad = "analytic gradient" if fn.analytic else "gradient by central differences"
        mins = ", ".join(f"({m[0]:.4g}, {m[1]:.4g})" for m in fn.minima) or "none known"
        self.formula_label.setText(f"<b>{fn.formula}</b> &nbsp; · &nbsp; {grad} &nbsp; · &nbsp; minima: {mins}"
                                   + (f" &nbsp; · &nbsp; <i>{fn.note}</i>" if fn.note else ""))

    def show_error(self, error: SpecError | None) -> None:
        """What is wrong with the typed text, with a caret under the column (None: the formula again)."""
        self.expr_edit.setStyleSheet("" if error is None else f"QLineEdit {{ border: 1px solid {_RED}; }}")
        if error is None:
            self.expr_error.clear()
            self.slot.setCurrentWidget(self.formula_label)
            return
        self.expr_error.setText(error.pointer() if isinstance(error, ExpressionError) else str(error))
        self.slot.setCurrentWidget(self.expr_error)

    def _sync_combo(self) -> None:
        fn = self._function
        idx = self.function_combo.findData(fn.name) if not fn.custom else self.function_combo.count() - 1
        self.function_combo.setCurrentIndex(idx)

    def _combo_activated(self, index: int) -> None:
        name = self.function_combo.itemData(index)
        if name is None:  # "Your function…": edit the current formula
            if not self.expr_edit.text().strip() and self._function is not None:
                self.expr_edit.setText(self._function.expression.text)
            self.expr_edit.setFocus()
            self.expr_edit.selectAll()
            self.hint.emit("Edit the formula and press Enter.")
            self._sync_combo()
            return
        self.requested.emit(name)

    def _check_expression(self, text: str) -> None:
        if not text.strip():
            self.show_error(None)
            return
        try:
            parse_expression(text)
        except ExpressionError as e:
            self.show_error(e)
        else:
            self.show_error(None)

    def _apply_expression(self) -> None:
        text = self.expr_edit.text().strip()
        if not text:
            self.show_error(ExpressionError("the function is empty; type an expression in x and y", "", 1))
            return
        try:  # a catalogue name also works; anything else must parse, with a caret at the mistake
            fn = get_function(text if text.lower() in FUNCTIONS else parse_expression(text).text)
        except SpecError as e:
            self.show_error(e)
            return
        # a catalogue function's own expression, as the box shows it, stays that function (minima, gradient)
        same = [f for f in FUNCTIONS.values() if f.expression.text == fn.expression.text]
        self.requested.emit(same[0] if same else fn)


class Transport(QWidget):
    """Play / Step / Reset, the speed, the tolerance for "reached" and the step count."""

    playClicked = Signal(bool)
    stepClicked = Signal()
    resetClicked = Signal()
    speedChanged = Signal(float)
    toleranceChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        style = self.style()
        self.play_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Run the optimizers step after step at the chosen speed")
        self.play_button.clicked.connect(self.playClicked)
        self.step_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step")
        self.step_button.setToolTip("One step of every optimizer that is on")
        self.step_button.clicked.connect(self.stepClicked)
        self.reset_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), "Reset")
        self.reset_button.setToolTip("Back to the start; velocities and squared-gradient sums are forgotten")
        self.reset_button.clicked.connect(self.resetClicked)
        for b in (self.play_button, self.step_button, self.reset_button):
            bar.addWidget(b)
        bar.addSpacing(16)
        bar.addWidget(QLabel("Speed:"))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setFixedWidth(160)
        self.speed_slider.setToolTip("Steps per second while playing")
        self.speed_slider.valueChanged.connect(self._speed_moved)
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
        self.tol_combo.currentIndexChanged.connect(lambda i: self.toleranceChanged.emit(TOLERANCES[i]))
        bar.addWidget(self.tol_combo)
        bar.addWidget(QLabel("of a minimum"))
        bar.addStretch(1)
        self.step_label = QLabel()
        f = self.step_label.font()
        f.setBold(True)
        self.step_label.setFont(f)
        bar.addWidget(self.step_label)

    @property
    def speed(self) -> float:
        """Steps per second while playing."""
        return SPEEDS[self.speed_slider.value()]

    def set_speed(self, steps_per_second: float) -> None:
        """The offered speed nearest ``steps_per_second`` (:attr:`speedChanged` follows)."""
        idx = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - steps_per_second))
        self.speed_slider.setValue(idx)
        self._speed_moved(idx)

    def _speed_moved(self, idx: int) -> None:
        self.speed_label.setText(f"{SPEEDS[idx]} steps/s")
        self.speedChanged.emit(SPEEDS[idx])

    def show_tolerance(self, tol: float) -> None:
        """The menu shows the offered tolerance nearest ``tol``, without emitting."""
        idx = min(range(len(TOLERANCES)), key=lambda i: abs(math.log10(TOLERANCES[i]) - math.log10(tol)))
        self.tol_combo.blockSignals(True)
        self.tol_combo.setCurrentIndex(idx)
        self.tol_combo.blockSignals(False)

    def show_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setChecked(playing)
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

    def show_step(self, n: int) -> None:
        self.step_label.setText(f"Step {n}")


class OptimizerRow:
    """The controls of one optimizer in the side panel."""

    def __init__(self, name: str):
        self.name = name
        self.check: QCheckBox
        self.lr: QDoubleSpinBox
        self.params: dict[str, QDoubleSpinBox] = {}
        self.value: QLabel
        self.status: QLabel

    def show_status(self, value: str, status: RowStatus) -> None:
        self.value.setText(value)
        self.status.setText(status.text)
        self.status.setStyleSheet(_STATUS_STYLE[status.kind])
        self.status.setToolTip(status.tooltip)


class OptimizerPanel(QGroupBox):
    """One row per optimizer: on/off, learning rate and other settings (live), f now and when it got there."""

    toggled = Signal(str, bool)
    settingChanged = Signal(str, str, float)

    def __init__(self, lab: PathLab, parent: QWidget | None = None):
        super().__init__("Optimizers (the same classes that train networks)", parent)
        self.lab = lab
        grid = QGridLayout(self)
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
        self.rows: dict[str, OptimizerRow] = {}
        for r, name in enumerate(LAB_OPTIMIZERS, start=1):
            self.rows[name] = self._row(grid, r, name)
        grid.setColumnStretch(2, 1)

    def _row(self, grid: QGridLayout, r: int, name: str) -> OptimizerRow:
        row = OptimizerRow(name)
        title, formula = OPTIMIZER_INFO[name]
        tip = f"<b>{title}</b><br><code>{formula.splitlines()[0]}</code><br>" + \
              "<br>".join(formula.splitlines()[1:])
        row.check = QCheckBox(title)
        row.check.setChecked(True)
        row.check.setIcon(_swatch(COLORS[name]))
        row.check.setToolTip(tip)
        row.check.toggled.connect(lambda on, n=name: self.toggled.emit(n, on))
        grid.addWidget(row.check, r, 0)

        opt = self.lab.paths[name].optimizer
        row.lr = _spin(1e-5, 10.0, 5, opt.lr)
        row.lr.setMaximumWidth(96)
        row.lr.setToolTip(f"{title} learning rate lr (live)")
        row.lr.valueChanged.connect(lambda v, n=name: self.settingChanged.emit(n, "lr", v))
        grid.addWidget(row.lr, r, 1)

        params = QWidget()
        play = QHBoxLayout(params)
        play.setContentsMargins(0, 0, 0, 0)
        play.setSpacing(4)
        for attr, desc in OPTIMIZERS[name].settings:
            if attr not in PARAM_LABELS:
                continue
            lab = QLabel(PARAM_LABELS[attr])
            lab.setToolTip(desc)
            box = _spin(0.0, 0.9999, 4, getattr(opt, attr))
            box.setMaximumWidth(78)
            box.setToolTip(f"{title}: {desc} (live)")
            box.valueChanged.connect(lambda v, n=name, a=attr: self.settingChanged.emit(n, a, v))
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
        return row

    def sync(self) -> None:
        """Every spin box shows its optimizer's setting now (without emitting); lr tooltips name the suited rate."""
        for name, row in self.rows.items():
            cfg = self.lab.paths[name].optimizer
            for box, value in [(row.lr, cfg.lr)] + [(b, getattr(cfg, a)) for a, b in row.params.items()]:
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)
            row.lr.setToolTip(f"{OPTIMIZER_INFO[name][0]} learning rate lr (live); "
                              f"{self.lab.function.lrs[name]:g} suits this function")


def _spin(lo: float, hi: float, decimals: int, value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
    box.setKeyboardTracking(False)
    box.setValue(value)
    box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return box


def _swatch(color: str) -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(QColor(color))
    return QIcon(pm)
