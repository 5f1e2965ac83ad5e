"""The input block's feature chooser: which of x1, x2, x1², x2², x1·x2, sin x1, sin x2 the network sees."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from playground.engine.data.datasets import PLANE_SETS
from playground.engine.data.features import FEATURES, PLAIN
from playground.ui.builder.commands import SetDataset
from playground.ui.builder.document import ProjectDocument

#: how each feature is written on its box
LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁·x₂", "sin(x1)": "sin x₁",
          "sin(x2)": "sin x₂"}


class FeatureChooser(QWidget):
    """Check boxes, one per feature; a change is one undoable edit of the data set spec (``"features"``),
    and the network's input shape follows. At least one feature stays chosen."""

    def __init__(self, doc: ProjectDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QLabel("<b>Input features</b>: the network sees these columns, computed from each point (x₁, x₂)")
        head.setWordWrap(True)
        lay.addWidget(head)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for i, (name, (formula, _fn)) in enumerate(FEATURES.items()):
            box = QCheckBox(LABELS[name], self)
            box.setToolTip(f"{formula}.\nA feature the data needs (x₁² + x₂² for a circle) lets even a network "
                           "without hidden layers draw the boundary.")
            box.toggled.connect(self._toggled)
            grid.addWidget(box, i // 4, i % 4)
            self.boxes[name] = box
        lay.addLayout(grid)
        self._filling = False
        doc.changed.connect(self.refresh)
        self.refresh()

    def applies(self) -> bool:
        """True when the project's data set is a set of 2-D points."""
        return self.doc.dataset().get("name") in PLANE_SETS

    def chosen(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def refresh(self) -> None:
        names = self.doc.dataset().get("features") or list(PLAIN)
        self._filling = True
        for name, box in self.boxes.items():
            box.setChecked(name in names)
        self._filling = False
        self._guard_last()

    def _guard_last(self) -> None:
        chosen = self.chosen()
        for name, box in self.boxes.items():  # the last feature chosen cannot be taken away
            box.setEnabled(not (len(chosen) == 1 and name in chosen))

    def _toggled(self, _on: bool) -> None:
        if self._filling:
            return
        self._guard_last()
        chosen = self.chosen()
        dataset = dict(self.doc.dataset())
        if chosen == list(PLAIN):
            dataset.pop("features", None)  # the plain set: nothing to write in the file
        else:
            dataset["features"] = chosen
        command = SetDataset(self.doc, dataset, "Choose input features")
        command.focus_redo = command.focus_undo = -1  # the input block stays selected, and this chooser shown
        self.doc.push(command)
