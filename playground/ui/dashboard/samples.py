"""The samples behind one confusion-matrix cell: thumbnails for images, a table for points.

A misclassified image (a cell off the diagonal) can be sent to the CNN
explainer: its "See every layer" button, a double click, or the thumbnail's
context menu.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListView, QListWidget, QListWidgetItem, QMenu,
                               QPushButton, QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

MAX_SHOWN = 300


def _image_icon(x: np.ndarray, scale: int = 2) -> QIcon:
    """A (1, H, W) or (H, W) image in [0, 1] (or any range) as a grey icon, ``scale`` times larger."""
    img = np.asarray(x, dtype=np.float32).reshape(x.shape[-2:])
    lo, hi = float(img.min()), float(img.max())
    grey = ((img - lo) / (hi - lo if hi > lo else 1) * 255).astype(np.uint8)
    grey = np.ascontiguousarray(grey)
    h, w = grey.shape
    qimg = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QIcon(QPixmap.fromImage(qimg).scaled(w * scale, h * scale, Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.FastTransformation))


class SamplesDialog(QDialog):
    """Non-modal: shows the validation samples of one (true, predicted) cell.

    ``inside_requested(validation index)``: the user asked to see every layer of the network for one
    misclassified image.
    """

    inside_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.misclassified = False
        self.setWindowTitle("Samples of a confusion-matrix cell")
        self.resize(520, 420)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.images = QListWidget()
        self.images.setViewMode(QListView.ViewMode.IconMode)
        self.images.setIconSize(QSize(56, 56))
        self.images.setGridSize(QSize(78, 84))
        self.images.setResizeMode(QListView.ResizeMode.Adjust)
        self.images.setMovement(QListView.Movement.Static)
        self.images.setToolTip("Validation images of this cell, with the validation index under each")
        self.images.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.images.customContextMenuRequested.connect(self._menu)
        self.images.itemDoubleClicked.connect(lambda _item: self.request_inside())
        self.images.currentRowChanged.connect(lambda _row: self._update_inside())
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["validation #", "x₁", "x₂"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setToolTip("Validation points of this cell; they are circled in the decision-boundary plot")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.images)
        self.stack.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        self.inside_button = QPushButton("See every layer…")
        self.inside_button.setToolTip("Open the chosen misclassified image in Inside ▸ CNN channels: every layer's "
                                      "output for it, each channel as a heatmap (also: double-click a thumbnail)")
        self.inside_button.clicked.connect(self.request_inside)
        buttons.addButton(self.inside_button, QDialogButtonBox.ButtonRole.ActionRole)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.stack, 1)
        lay.addWidget(buttons)
        self.indices = np.zeros(0, dtype=np.int64)
        self._update_inside()

    def chosen(self) -> int | None:
        """The validation index of the chosen misclassified image, or None."""
        row = self.images.currentRow()
        if not self.misclassified or self.stack.currentWidget() is not self.images or not 0 <= row < len(self.indices):
            return None
        return int(self.indices[row])

    def request_inside(self) -> None:
        """Ask for every layer of the chosen misclassified image (nothing without one). The window hides this
        dialog once the explainer shows the image: it would stay on top of it."""
        index = self.chosen()
        if index is not None:
            self.inside_requested.emit(index)

    def _update_inside(self) -> None:
        self.inside_button.setVisible(self.misclassified and self.stack.currentWidget() is self.images)
        self.inside_button.setEnabled(self.chosen() is not None)

    def _menu(self, pos: QPoint) -> None:
        item = self.images.itemAt(pos)
        if item is None or not self.misclassified:
            return
        self.images.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("See every layer (Inside ▸ CNN channels)", self.request_inside)
        menu.exec(self.images.viewport().mapToGlobal(pos))

    def show_cell(self, x_val: np.ndarray, indices: np.ndarray, true_name: str, pred_name: str,
                  epoch: float) -> None:
        self.indices = np.asarray(indices)
        n = len(self.indices)
        self.misclassified = true_name != pred_name
        kind = "misclassified" if self.misclassified else "correctly classified"
        more = f" (the first {MAX_SHOWN} shown)" if n > MAX_SHOWN else ""
        self.header.setText(f"<b>{n}</b> validation sample{'' if n == 1 else 's'} of class <b>{true_name}</b> predicted as "
                            f"<b>{pred_name}</b> ({kind}), as of epoch {epoch:.2f}{more}.")
        shown = self.indices[:MAX_SHOWN]
        if x_val.ndim >= 3:
            self.images.clear()
            for i in shown:
                QListWidgetItem(_image_icon(x_val[i]), f"#{int(i)}", self.images)
            self.stack.setCurrentWidget(self.images)
            if self.misclassified and len(shown):
                self.images.setCurrentRow(0)
        else:
            self.table.setRowCount(len(shown))
            for row, i in enumerate(shown):
                self.table.setItem(row, 0, QTableWidgetItem(str(int(i))))
                for col in range(min(2, x_val.shape[1])):
                    self.table.setItem(row, 1 + col, QTableWidgetItem(f"{float(x_val[i, col]):.3f}"))
            self.stack.setCurrentWidget(self.table)
        self._update_inside()
        self.show()
        self.raise_()
