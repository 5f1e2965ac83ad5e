"""The run history table and the "Clone run" dialog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QDoubleValidator, QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QMenu, QPushButton, QSpinBox, QStackedWidget,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from playground.engine.errors import SpecError
from playground.ui.theme import muted, text_color
from playground.ui import dialogs
from playground.ui.dashboard.runs import Run, Setting, clone_project, clone_settings
from playground.ui.plotexport import save_csv, save_jsonl
from playground.ui.settings import AppSettings

#: the formats of a run's metrics: a table, or one JSON object per epoch as 'playground train' prints
METRIC_FILTERS = ("CSV table (*.csv)", "JSON lines (*.jsonl)")
STATUS_TEXT = {"starting": "loading…", "running": "training", "paused": "paused", "finished": "finished",
               "cancelled": "stopped", "diverged": "diverged", "error": "error"}


def _swatch(color: str) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(QColor(color))
    return QIcon(pm)


class RunsPanel(QWidget):
    """Every run with its settings; ticked runs are overlaid in the curve plots."""

    overlay_changed = Signal()
    clone_requested = Signal(int)  # run number

    COLS = ("Overlay", "Run", "Network", "Data set", "Settings", "Result", "Status")
    SETTINGS, RESULT, STATUS = 4, 5, 6

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(self.COLS))
        self.tree.setHeaderLabels(list(self.COLS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        head = self.tree.header()
        head.setStretchLastSection(False)
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,) * 4
                                   + (QHeaderView.ResizeMode.Stretch,)
                                   + (QHeaderView.ResizeMode.ResizeToContents,) * 2):
            head.setSectionResizeMode(col, mode)
        self.tree.setToolTip("Every training run with the network, data set and settings it used. Tick 'Overlay' to "
                             "draw a run's curves with the current one, to compare them (only runs on the "
                             "current project's data set can be overlaid).")
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.clone_button = QPushButton("Clone run…")
        self.clone_button.setToolTip("Train the selected run again with one setting changed, keeping its seed, "
                                     "initial weights and batch order, so the comparison is fair")
        self.clone_button.setEnabled(False)
        self.clone_button.clicked.connect(self._clone)
        self.save_button = QPushButton("Save metrics…")
        self.save_button.setToolTip("Save the selected run's per-epoch metrics (loss, accuracy, running means, "
                                    "validation) as a CSV table or as JSON lines, as 'playground train' prints them")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_metrics)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.clear_button = QPushButton("Hide all")
        self.clear_button.setToolTip("Untick every run's overlay")
        self.clear_button.clicked.connect(self._hide_all)
        title = QLabel("<b>Runs</b>")
        title.setToolTip(self.tree.toolTip())
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.clear_button)
        top.addWidget(self.save_button)
        top.addWidget(self.clone_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        lay.addLayout(top)
        lay.addWidget(self.tree)
        self._items: dict[int, QTreeWidgetItem] = {}
        self._runs: dict[int, Run] = {}
        self._updating = False
        self._comparable: tuple[str, str] | None = None  # the current project's data set and task

    def add_run(self, run: Run) -> None:
        self._updating = True
        item = QTreeWidgetItem(self.tree)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(0, Qt.CheckState.Checked if run.shown else Qt.CheckState.Unchecked)
        item.setData(0, Qt.ItemDataRole.UserRole, run.number)
        item.setIcon(1, _swatch(run.color))
        self._items[run.number] = item
        self._runs[run.number] = run
        self._updating = False
        self.update_run(run)
        self._mark_comparable(run)
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)

    def update_run(self, run: Run) -> None:
        item = self._items.get(run.number)
        if item is None:
            return
        self._updating = True
        item.setText(1, run.name + (" (current)" if run.status in ("starting", "running", "paused") else ""))
        item.setText(2, run.network_text())
        item.setText(3, run.dataset_text())
        settings = run.summary() + (f"   [clone: {run.note}]" if run.note else "")
        item.setText(self.SETTINGS, settings)
        item.setToolTip(self.SETTINGS, settings)
        item.setText(self.RESULT, run.result())
        item.setText(self.STATUS, STATUS_TEXT.get(run.status, run.status))
        item.setToolTip(self.STATUS, run.message or STATUS_TEXT.get(run.status, run.status))
        if run.status in ("diverged", "error"):
            item.setForeground(self.STATUS, QColor(text_color("error")))
        self._updating = False

    def set_comparable(self, key: tuple[str, str] | None) -> None:
        """Only runs on this data set and task (see :func:`~.runs.comparable_key`) can be overlaid;
        the others are unticked, greyed, and say why."""
        self._comparable = key
        for run in self._runs.values():
            self._mark_comparable(run)

    def comparable(self, run: Run) -> bool:
        return self._comparable is None or run.comparable_key() == self._comparable

    def _mark_comparable(self, run: Run) -> None:
        item = self._items[run.number]
        ok = self.comparable(run)
        self._updating = True
        flags = item.flags()
        item.setFlags(flags | Qt.ItemFlag.ItemIsUserCheckable if ok else flags & ~Qt.ItemFlag.ItemIsUserCheckable)
        if not ok:
            run.shown = False
            item.setCheckState(0, Qt.CheckState.Unchecked)
            name, task = self._comparable
            item.setToolTip(0, f"{run.name} learnt {run.dataset_text()}; the current project learns {name} "
                               f"({task}): their curves cannot be compared")
        else:
            item.setToolTip(0, "Tick to draw this run's curves with the current one")
        grey = self.palette().color(self.palette().ColorGroup.Disabled, self.palette().ColorRole.Text)
        for col in range(1, 4):
            item.setForeground(col, grey if not ok else self.palette().color(self.palette().ColorRole.Text))
        self._updating = False

    def selected(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else int(item.data(0, Qt.ItemDataRole.UserRole))

    def select(self, number: int) -> None:
        if number in self._items:
            self.tree.setCurrentItem(self._items[number])

    def set_shown(self, number: int, shown: bool) -> None:
        item = self._items.get(number)
        if item is not None:
            item.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating or column != 0:
            return
        run = self._runs.get(int(item.data(0, Qt.ItemDataRole.UserRole)))
        if run is not None:
            run.shown = item.checkState(0) == Qt.CheckState.Checked
            self.overlay_changed.emit()

    def _selection_changed(self) -> None:
        self.clone_button.setEnabled(self.selected() is not None)
        self.save_button.setEnabled(self.selected() is not None)

    def _context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        self.tree.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("Save metrics as CSV or JSON lines…", self.save_metrics)
        menu.addAction("Clone run…", self._clone)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def save_metrics(self) -> bool:
        """Ask where, then write the selected run's per-epoch metrics: CSV, or JSON lines for a .jsonl name."""
        number = self.selected()
        run = None if number is None else self._runs.get(number)
        if run is None:
            return False
        settings = AppSettings()
        start = str(Path(settings.last_folder()) / f"run_{run.number}_metrics.csv")
        path, chosen = QFileDialog.getSaveFileName(self.window(), f"Save the metrics of {run.name}", start,
                                                   f"{METRIC_FILTERS[0]};;{METRIC_FILTERS[1]}")
        if not path:
            return False
        path = Path(path)
        if path.suffix.lower() not in (".csv", ".jsonl", ".json"):
            path = path.with_name(path.name + (".jsonl" if chosen == METRIC_FILTERS[1] else ".csv"))
        records = run.epoch_records()
        try:
            if path.suffix.lower() == ".csv":
                header = list(records[0]) if records else ["epoch"]
                save_csv((header, [[r[k] for k in header] for r in records]), path)
            else:
                save_jsonl(records, path)
        except OSError as e:
            dialogs.error(self.window(), "Cannot save the metrics",
                          f"Cannot write {path}: {e.strerror or e}. Choose another folder or name.")
            return False
        settings.set_last_folder(path)
        return True

    def _clone(self) -> None:
        number = self.selected()
        if number is not None:
            self.clone_requested.emit(number)

    def _hide_all(self) -> None:
        for number in self._items:
            self.set_shown(number, False)


class CloneDialog(QDialog):
    """Pick one setting of a run and its new value; everything else (seed included) is kept."""

    def __init__(self, run: Run, parent: QWidget | None = None):
        super().__init__(parent)
        self.run = run
        self.setWindowTitle(f"Clone {run.name}")
        self.setMinimumWidth(460)
        self.settings: list[Setting] = clone_settings(run.project)
        self.which = QComboBox()
        self.which.setToolTip("The one setting the clone changes")
        for s in self.settings:
            self.which.addItem(s.label, s.key)
        self.current = QLabel()
        self.current.setToolTip("The value in the run being cloned")
        self.float_edit = QLineEdit()
        self.float_edit.setValidator(QDoubleValidator(0.0, 1e9, 10))
        self.int_edit = QSpinBox()
        self.choice_edit = QComboBox()
        self.editors = QStackedWidget()
        for w in (self.float_edit, self.int_edit, self.choice_edit):
            self.editors.addWidget(w)
        self.help = QLabel()
        self.help.setWordWrap(True)
        muted(self.help)
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {text_color('error')};")
        self.error.setWordWrap(True)
        seed = run.project.get("training", {}).get("seed", 0)
        kept = QLabel(f"Kept: seed {seed}, so the same initial weights and batch order "
                      f"(a different batch size reorders the batches), and every other setting.")
        kept.setWordWrap(True)
        muted(kept)
        form = QFormLayout()
        form.addRow("Change", self.which)
        form.addRow("Now", self.current)
        form.addRow("New value", self.editors)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Clone and train")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setToolTip(
            "Add the clone to the run history and train it now")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.help)
        lay.addWidget(kept)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.which.currentIndexChanged.connect(self._setting_changed)
        self._setting_changed()
        self.result_project: dict | None = None
        self.result_note = ""

    def setting(self) -> Setting:
        return self.settings[self.which.currentIndex()]

    def select(self, key: str) -> None:
        self.which.setCurrentIndex(self.which.findData(key))

    def set_value(self, value: Any) -> None:
        s = self.setting()
        if s.kind == "int":
            self.int_edit.setValue(int(value))
        elif s.kind == "choice":
            self.choice_edit.setCurrentText(str(value))
        else:
            self.float_edit.setText("" if value is None else f"{value:g}")

    def value(self) -> Any:
        s = self.setting()
        if s.kind == "int":
            return self.int_edit.value()
        if s.kind == "choice":
            return self.choice_edit.currentText()
        text = self.float_edit.text().strip()
        if not text:
            if s.kind == "optional_float":
                return None
            raise SpecError(f"enter a number for the {s.label.lower()}")
        try:
            v = float(text)
        except ValueError:
            raise SpecError(f"{text!r} is not a number") from None
        if not (s.minimum <= v <= s.maximum):
            raise SpecError(f"the {s.label.lower()} must be between {s.minimum:g} and {s.maximum:g}, got {v:g}")
        return v

    def _setting_changed(self) -> None:
        s = self.setting()
        current = s.get(self.run.project)
        self.current.setText("off" if current is None else (f"{current:g}" if isinstance(current, float)
                                                           else str(current)))
        self.help.setText(s.help)
        self.error.clear()
        if s.kind == "int":
            self.int_edit.setRange(int(s.minimum), int(s.maximum))
            self.int_edit.setValue(int(current))
            self.editors.setCurrentWidget(self.int_edit)
        elif s.kind == "choice":
            self.choice_edit.clear()
            self.choice_edit.addItems(list(s.choices))
            self.choice_edit.setCurrentText(str(current))
            self.editors.setCurrentWidget(self.choice_edit)
        else:
            self.float_edit.setText("" if current is None else f"{current:g}")
            self.editors.setCurrentWidget(self.float_edit)
        self.editors.currentWidget().setToolTip(s.help)

    def _accept(self) -> None:
        try:
            self.result_project, self.result_note = clone_project(self.run.project, self.setting(), self.value())
        except SpecError as e:
            self.error.setText(str(e))
            return
        self.accept()
