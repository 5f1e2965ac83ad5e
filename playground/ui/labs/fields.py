"""Form fields for a lab's lists and named arms, so no setting of the book's experiments is typed as JSON.

:class:`ChecklistField` picks some of a fixed set of names (the activation
functions to plot, the initializations to compare); :class:`ArmsField` edits
named arms, each with a few numbers (the optimizers raced on MNIST and their
settings, the overfitting lab's arms); :class:`InitField` picks an
initializer, with σ beside it for the normal one. Each gives its value with
``value()`` (ValueError naming the field and what it expects when it does
not read) and take one with ``set_value()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QWidget)

from playground.engine.nn.initializers import DEFAULT_NORMAL_STD




def _text(value: Any) -> str:
    """A setting's value as its box shows it: empty for none."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


class ChecklistField(QWidget):
    """Tick boxes for ``options`` (in that order, ``columns`` to a row); the value is the ticked names in that
    order. A value naming something else adds a box for it (the lab then says it does not know it)."""

    def __init__(self, label: str, options: tuple[str, ...], tips: dict[str, str] | None = None,
                 columns: int = 3, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = label
        self.tips = tips or {}
        self.columns = columns
        self.boxes: dict[str, QCheckBox] = {}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(2)
        for name in options:
            self._add(name)

    def _add(self, name: str) -> QCheckBox:
        box = QCheckBox(name)
        box.setObjectName(f"option_{name}")
        box.setToolTip(self.tips.get(name, ""))
        i = len(self.boxes)
        self._grid.addWidget(box, i // self.columns, i % self.columns)
        self.boxes[name] = box
        return box

    def set_value(self, names: list[str] | None) -> None:
        chosen = [str(n) for n in (names or [])]
        for name in chosen:
            if name not in self.boxes:
                self._add(name)
        for name, box in self.boxes.items():
            box.setChecked(name in chosen)

    def value(self) -> list[str]:
        names = [name for name, box in self.boxes.items() if box.isChecked()]
        if not names:
            raise ValueError(f"“{self.label}” needs at least one ticked; tick the ones to compare")
        return names


@dataclass(frozen=True)
class Setting:
    """One number of an arm: its key, column title and tooltip; ``low``/``high`` bound it (inclusive unless
    ``open_low``/``open_high``)."""

    key: str
    title: str
    tip: str
    low: float = 0.0
    high: float = math.inf
    open_low: bool = True
    open_high: bool = False

    def check(self, value: float) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return math.isfinite(value) and above and below

    def expects(self) -> str:
        low = f"{'above' if self.open_low else 'at least'} {self.low:g}"
        if math.isinf(self.high):
            return f"a number {low}"
        return f"a number {low} and {'below' if self.open_high else 'at most'} {self.high:g}"


@dataclass(frozen=True)
class ArmsSpec:
    """What an :class:`ArmsField` edits.

    ``settings``: the columns. ``names``: the fixed arms (one row each), or None for arms a person names and
    adds. ``applies(name)``: the keys of the settings that arm takes (the others get no box in its row).
    ``default(name, key)``: what an empty box means, shown greyed in it (None: the setting is left out).
    """

    settings: tuple[Setting, ...]
    names: tuple[str, ...] | None = None
    applies: Callable[[str], set[str]] | None = None
    default: Callable[[str, str], float | None] | None = None
    tips: dict[str, str] = field(default_factory=dict)


class ArmsField(QWidget):
    """Rows of named arms, ticked to take part, each with a box per setting it takes.

    The value is ``{name: {key: number}}`` for the ticked rows, in row order; an empty box leaves its key out
    (its default, shown greyed, applies). Arms a person names (``spec.names`` None) have their name in a box
    and an "Add arm" button below.
    """

    def __init__(self, label: str, spec: ArmsSpec, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = label
        self.spec = spec
        #: (fixed name or None, tick box, name box or None, setting boxes by key) per row
        self.rows: list[tuple[str | None, QCheckBox, QLineEdit | None, dict[str, QLineEdit]]] = []
        #: per arm name, settings it was given that have no box here (Adam's ε): kept as they were
        self._unboxed: dict[str, dict[str, Any]] = {}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(2)
        first = 2 if spec.names is None else 1
        self._first = first
        for j, s in enumerate(spec.settings):
            title = QLabel(s.title)
            title.setToolTip(s.tip)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._grid.addWidget(title, 0, first + j)
            self._grid.setColumnStretch(first + j, 1)
        self.add_button: QPushButton | None = None
        if spec.names is None:
            self.add_button = QPushButton("Add arm")
            self.add_button.setToolTip("Another arm to train and compare: name it and give its settings")
            self.add_button.clicked.connect(self.add_arm)
        else:
            for name in spec.names:
                self._add_row(name, {}, False)
        self._place_button()

    def add_arm(self) -> None:
        """A new ticked arm with a name of its own, selected in its box for the user to type over."""
        name_edit = self._add_row(self._free_name(), {}, True)
        name_edit.show()  # a widget added to a shown layout shows later; focus needs it shown now
        name_edit.setFocus()
        name_edit.selectAll()

    def _free_name(self) -> str:
        taken = {self._name(i) for i in range(len(self.rows))}
        k = len(self.rows) + 1
        while f"arm {k}" in taken:
            k += 1
        return f"arm {k}"

    def _place_button(self) -> None:
        if self.add_button is not None:
            self._grid.addWidget(self.add_button, len(self.rows) + 1, 0, 1, self._first + len(self.spec.settings),
                                 Qt.AlignmentFlag.AlignLeft)

    def _add_row(self, name: str, values: dict[str, Any], ticked: bool) -> QLineEdit | QCheckBox:
        r = len(self.rows) + 1
        fixed = self.spec.names is not None
        box = QCheckBox(name if fixed else "")
        box.setObjectName(f"arm_{name}" if fixed else f"arm_{r - 1}")
        box.setToolTip(self.spec.tips.get(name, "Tick to train and compare this arm") if fixed
                       else "Tick to train and compare this arm")
        box.setChecked(ticked)
        self._grid.addWidget(box, r, 0)
        name_edit = None
        if not fixed:
            name_edit = QLineEdit(name)
            name_edit.setObjectName(f"arm_{r - 1}_name")
            name_edit.setToolTip("The arm's name, as the plots and the verdict call it")
            self._grid.addWidget(name_edit, r, 1)
        applies = self.spec.applies(name) if self.spec.applies else {s.key for s in self.spec.settings}
        edits: dict[str, QLineEdit] = {}
        for j, s in enumerate(self.spec.settings):
            if s.key not in applies:  # left empty: this arm has no such setting
                continue
            edit = QLineEdit()
            edit.setObjectName(f"arm_{name if fixed else r - 1}_{s.key}")
            edit.setMinimumWidth(40)
            default = self.spec.default(name, s.key) if self.spec.default else None
            edit.setPlaceholderText("—" if default is None else f"{default:g}")
            edit.setToolTip(f"{s.tip}; {s.expects()}" + ("; empty: none" if default is None
                                                           else f"; empty: {default:g}, the default"))
            edit.setText(_text(values.get(s.key)))
            edits[s.key] = edit
            self._grid.addWidget(edit, r, self._first + j)
        self.rows.append((name if fixed else None, box, name_edit, edits))
        self._place_button()
        return name_edit if name_edit is not None else box

    def _name(self, i: int) -> str:
        fixed, _, name_edit, _ = self.rows[i]
        return fixed if fixed is not None else name_edit.text().strip()

    def set_value(self, arms: dict[str, dict[str, Any]] | None) -> None:
        arms = dict(arms or {})
        boxed = {s.key for s in self.spec.settings}
        self._unboxed = {str(name): {k: v for k, v in (values or {}).items() if k not in boxed}
                         for name, values in arms.items()}
        if self.spec.names is None:  # the rows are the arms given
            while self.rows:
                _, box, name_edit, edits = self.rows.pop()
                for w in (box, name_edit, *edits.values()):
                    if w is not None:
                        self._grid.removeWidget(w)
                        w.hide()  # gone from the screen now; deleted once the event loop gets to it
                        w.deleteLater()
            for name, values in arms.items():
                self._add_row(str(name), dict(values or {}), True)
            self._place_button()
            return
        for name in arms:
            if name not in self.spec.names and all(self._name(i) != name for i in range(len(self.rows))):
                self._add_row(str(name), {}, True)
        for fixed, box, _, edits in self.rows:
            values = arms.get(fixed)
            box.setChecked(values is not None)
            for key, edit in edits.items():
                edit.setText(_text((values or {}).get(key)))

    def value(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for i, (_, box, _, edits) in enumerate(self.rows):
            if not box.isChecked():
                continue
            name = self._name(i)
            if not name:
                raise ValueError(f"“{self.label}”: arm {i + 1} has no name; name it or untick it")
            if name in out:
                raise ValueError(f"“{self.label}”: two arms are called “{name}”; give each its own name")
            values: dict[str, float] = {}
            for s in self.spec.settings:
                edit = edits.get(s.key)
                text = edit.text().strip() if edit is not None else ""
                if not text:
                    continue
                try:
                    number = float(text)
                except ValueError:
                    number = math.nan
                if not s.check(number):
                    raise ValueError(f"“{self.label}”: {name}'s {s.title} expects {s.expects()}, got “{text}”; "
                                     f"type one there or leave it empty")
                values[s.key] = number
            out[name] = {**self._unboxed.get(name, {}), **values}
        if not out:
            raise ValueError(f"“{self.label}” needs at least one arm ticked; tick the ones to compare")
        return out


class InitField(QWidget):
    """An initializer: one of ``names``, and for "normal" its standard deviation σ in a box beside it.

    The value is ``{"type": "normal", "std": σ}`` or the initializer's name, as a network's layers take it.
    """

    def __init__(self, label: str, names: tuple[str, ...], tips: dict[str, str], max_std: float,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.label = label
        self.max_std = max_std
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.kind = QComboBox()
        self.kind.setObjectName("init_kind")
        for i, name in enumerate(names):
            self.kind.addItem(name, name)
            self.kind.setItemData(i, tips.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.std = QLineEdit(_text(DEFAULT_NORMAL_STD))
        self.std.setObjectName("init_std")
        self.std.setToolTip(f"σ of the normal initializer: every weight ~ N(0, σ²); a number above 0 and at most "
                            f"{max_std:g}")
        self.std_label = QLabel("σ")
        row.addWidget(self.kind, 2)
        row.addWidget(self.std_label)
        row.addWidget(self.std, 1)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    def _kind_changed(self, *_args) -> None:
        normal = self.kind.currentData() == "normal"
        self.std.setEnabled(normal)
        self.std_label.setEnabled(normal)

    def set_value(self, value: Any) -> None:
        std = DEFAULT_NORMAL_STD
        if isinstance(value, dict):
            name = str(value.get("type", "normal"))
            std = value.get("std", DEFAULT_NORMAL_STD)
        else:
            name = str(value)
        self.std.setText(_text(std))  # never a σ left from before
        if self.kind.findData(name) < 0:  # a name given elsewhere (an alias): kept, the engine reads it
            self.kind.addItem(name, name)
        self.kind.setCurrentIndex(self.kind.findData(name))

    def value(self) -> dict[str, Any] | str:
        name = self.kind.currentData()
        if name != "normal":
            return name
        text = self.std.text().strip()
        try:
            std = float(text)
        except ValueError:
            std = math.nan
        if not (math.isfinite(std) and 0 < std <= self.max_std):
            raise ValueError(f"“{self.label}”: σ expects a number above 0 and at most {self.max_std:g}, got "
                             f"“{text}”; type one there")
        return {"type": "normal", "std": std}
