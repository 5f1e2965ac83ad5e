"""File ▸ New: an empty network on a chosen data set, or one of the book's networks (the presets)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout,
                               QWidget)

from playground.assets import preset_names
from playground.engine.data.datasets import DATASET_DESCRIPTIONS, DATASET_KINDS, default_spec
from playground.engine.errors import PlaygroundError
from playground.engine.project import load_preset, new_project
from playground.ui.builder.document import dataset_input_shape, dataset_outputs

#: the first data set offered
DEFAULT_DATASET = "spiral"
_ROLE = Qt.ItemDataRole.UserRole


def empty_project(dataset: str) -> dict[str, Any]:
    """A project on ``dataset`` whose network is only what every network needs: the output layer
    (with Softmax for classes; after a Flatten for images and sequences). Blocks go in between."""
    spec = default_spec(dataset)
    shape = dataset_input_shape(spec)
    classes = DATASET_KINDS[dataset] == "classification"
    layers: list[dict[str, Any]] = [{"type": "Flatten"}] if len(shape) > 1 else []
    layers.append({"type": "Dense", "units": dataset_outputs(spec)})
    if classes:
        layers.append({"type": "Softmax"})
    big = dataset == "mnist"
    return new_project({"input_shape": shape, "loss": "softmax_cross_entropy" if classes else "mse",
                        "layers": layers}, spec,
                       {"optimizer": {"type": "adam", "lr": 0.001 if big else 0.01}, "schedule": None,
                        "batch_size": 100 if big else 32, "epochs": 2 if big else 50, "seed": 0,
                        "weight_decay": 0.0, "clip_norm": None, "stats_every": 0},
                       description=f"An empty network on {dataset}: {DATASET_DESCRIPTIONS[dataset]}")


class NewProjectDialog(QDialog):
    """A list of the data sets (each starts an empty network) and of the presets, with what each is.

    ``choice()`` is ``("dataset", name)`` or ``("preset", name)``.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.list = QListWidget()
        self.list.setMinimumSize(480, 360)
        self.list.setWordWrap(True)
        self._section("An empty network on a data set (you add the blocks)")
        for name in DATASET_DESCRIPTIONS:
            self._entry("dataset", name, f"{name} ({DATASET_KINDS[name]}): {DATASET_DESCRIPTIONS[name]}",
                        DATASET_DESCRIPTIONS[name])
        self._section("One of the book's networks, ready to train (a preset)")
        for name in preset_names():
            try:
                text = str(load_preset(name).get("description", ""))
            except PlaygroundError as e:  # a broken preset is listed, not opened
                text = f"cannot be read: {e}"
            self._entry("preset", name, name, text)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setMinimumHeight(48)
        self.about.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Create")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.currentItemChanged.connect(self._picked)
        self.list.itemDoubleClicked.connect(lambda item: self.accept() if item.data(_ROLE) else None)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Start from:"))
        lay.addWidget(self.list, 1)
        lay.addWidget(self.about)
        lay.addWidget(self.buttons)
        self.select("dataset", DEFAULT_DATASET)

    def _section(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a title: readable, not a choice
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        self.list.addItem(item)

    def _entry(self, kind: str, name: str, label: str, description: str) -> None:
        item = QListWidgetItem(f"    {label}")
        item.setData(_ROLE, (kind, name))
        item.setToolTip(description)
        self.list.addItem(item)

    def _picked(self, item: QListWidgetItem | None, _previous=None) -> None:
        choice = item.data(_ROLE) if item is not None else None
        self.ok.setEnabled(bool(choice))
        if choice:
            kind, name = choice
            what = "An empty network on" if kind == "dataset" else "The preset"
            self.about.setText(f"<b>{what} {name}</b>: {item.toolTip()}")

    def select(self, kind: str, name: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(_ROLE) == (kind, name):
                self.list.setCurrentRow(i)
                return

    def choice(self) -> tuple[str, str] | None:
        item = self.list.currentItem()
        return item.data(_ROLE) if item is not None and item.data(_ROLE) else None
