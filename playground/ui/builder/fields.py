"""Validated input widgets shared by the inspector and the training panel."""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox, QToolTip, QWidget

_PARTIAL_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d*)?([eE][-+]?\d*)?")


class SciSpinBox(QDoubleSpinBox):
    """A number box for values across many orders of magnitude (1e-5 … 10).

    Shows up to 6 significant digits (``0.001``, ``1e-05``), accepts typed
    scientific notation, and the arrows multiply or divide by 2 (from 0 the
    first step up goes to ``zero_step``). A typed number outside the range is
    not taken: the box keeps its value and says so in a tooltip under it (and
    emits ``refused`` with that text).
    """

    #: a typed number was outside the range: what was expected, what was typed, what the box kept
    refused = Signal(str)

    def __init__(self, minimum: float = 0.0, maximum: float = 1e6, zero_step: float = 1e-4,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.zero_step = zero_step
        self.setDecimals(12)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)
        self.setCorrectionMode(QDoubleSpinBox.CorrectionMode.CorrectToNearestValue)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        if text.strip() == self.textFromValue(self.value()):
            return self.value()  # the shown text, rounded to 6 digits, stands for the value itself (−π stays −π)
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip()
        if not t:
            return QValidator.State.Intermediate, text, pos
        try:
            v = float(t)
        except ValueError:
            if _PARTIAL_NUMBER.fullmatch(t):
                return QValidator.State.Intermediate, text, pos
            return QValidator.State.Invalid, text, pos
        if not math.isfinite(v):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= v <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        kept = self.textFromValue(self.value())
        try:
            typed = float(text.strip())
        except ValueError:
            typed = math.nan
        if math.isfinite(typed) and not self.minimum() <= typed <= self.maximum():
            message = (f"Expected a number from {self.textFromValue(self.minimum())} to "
                       f"{self.textFromValue(self.maximum())}, got {text.strip()}: kept {kept}")
            self.refused.emit(message)
            QToolTip.showText(self.mapToGlobal(QPoint(0, self.height())), message, self)
        return kept

    def stepBy(self, steps: int) -> None:
        v = self.value()
        for _ in range(abs(steps)):
            if steps > 0:
                v = self.zero_step if v <= 0 else v * 2
            else:
                v = 0.0 if (v <= self.zero_step and self.minimum() <= 0) else v / 2
        v = float(f"{v:.3g}") if v else 0.0
        self.setValue(min(max(v, self.minimum()), self.maximum()))


class LinearSpinBox(SciSpinBox):
    """A :class:`SciSpinBox` whose arrows add or take away ``singleStep``: for values that cross zero, such
    as the ends of an x range. Its text stays short (``-1e+06``), so a wide range keeps the box narrow."""

    def __init__(self, minimum: float, maximum: float, step: float = 0.5, parent: QWidget | None = None):
        super().__init__(minimum, maximum, parent=parent)
        self.setSingleStep(step)

    def stepBy(self, steps: int) -> None:
        QDoubleSpinBox.stepBy(self, steps)


def int_spin(minimum: int, maximum: int, parent: QWidget | None = None, suffix: str = "") -> QSpinBox:
    box = QSpinBox(parent)
    box.setRange(minimum, maximum)
    box.setKeyboardTracking(False)
    box.setAccelerated(True)
    box.setAlignment(Qt.AlignmentFlag.AlignRight)
    if suffix:
        box.setSuffix(suffix)
    return box


def fraction_spin(minimum: float, maximum: float, step: float = 0.05, decimals: int = 3,
                  parent: QWidget | None = None) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setRange(minimum, maximum)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    box.setAlignment(Qt.AlignmentFlag.AlignRight)
    return box


def combo(items: list[tuple[str, str]], parent: QWidget | None = None,
          tooltips: dict[str, str] | None = None) -> QComboBox:
    """A combo box of (data, label) pairs, each with an optional rich tooltip."""
    box = QComboBox(parent)
    for data, label in items:
        box.addItem(label, data)
        if tooltips and data in tooltips:
            box.setItemData(box.count() - 1, tooltips[data], Qt.ItemDataRole.ToolTipRole)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(10)
    return box


def set_combo_data(box: QComboBox, data) -> None:
    """Select the item holding ``data`` without emitting signals."""
    i = box.findData(data)
    was = box.blockSignals(True)
    box.setCurrentIndex(i if i >= 0 else 0)
    box.blockSignals(was)


#: the text of a box whose value from the file it cannot show
_BAD_VALUE_STYLE = "QLineEdit { color: #dc2626; font-weight: bold; }"


def set_value(box: QSpinBox | QDoubleSpinBox, value) -> bool:
    """Set a spin box value without emitting signals; False when the box cannot show ``value``.

    A value it cannot show (not a number, NaN, beyond its range: a bad project
    file) shows as the nearest it can, in bold red, with a tooltip naming the
    value the file holds, until a value that fits comes.
    """
    try:
        number = float(value)
    except OverflowError:  # a whole number too large for a float
        number = math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        number = math.nan
    fits = box.minimum() <= number <= box.maximum()  # False for NaN
    shown = min(max(number, box.minimum()), box.maximum()) if fits or not math.isnan(number) else box.minimum()
    was = box.blockSignals(True)
    box.setValue(int(round(shown)) if isinstance(box, QSpinBox) else shown)
    box.blockSignals(was)
    _mark_bad_value(box, None if fits else value)
    return fits


def _mark_bad_value(box: QSpinBox | QDoubleSpinBox, value) -> None:
    plain_tip = box.property("plain_tooltip")
    if value is None:
        if plain_tip is not None:
            box.lineEdit().setStyleSheet("")
            box.setToolTip(plain_tip)
            box.setProperty("plain_tooltip", None)
        return
    if plain_tip is None:
        plain_tip = box.toolTip()
        box.setProperty("plain_tooltip", plain_tip)
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "…"
    box.lineEdit().setStyleSheet(_BAD_VALUE_STYLE)
    box.setToolTip(f"The file holds {shown} here, which this box cannot show (expected a number from "
                   f"{box.minimum():g} to {box.maximum():g}); it shows the nearest it can. "
                   f"Set a value to replace it.\n\n{plain_tip}".rstrip())
