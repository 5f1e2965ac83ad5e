"""The pad's "Teach it" box: label and save the drawing, fine-tune on the saved ones; and a run's summary."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QLabel, QLineEdit, QProgressBar, QPushButton, QSizePolicy,
                               QSpinBox, QWidget)


class TeachBox(QGroupBox):
    """The widgets to teach the network one's own digits; :class:`~.widget.DigitPadWidget` wires them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Teach it", parent)
        tl = QGridLayout(self)
        tl.addWidget(QLabel("Right digit:"), 0, 0)
        self.label_edit = QLineEdit()
        self.label_edit.setMaxLength(1)
        self.label_edit.setValidator(QIntValidator(0, 9, self.label_edit))
        self.label_edit.setFixedWidth(36)
        self.label_edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label_edit.setPlaceholderText("0–9")
        self.label_edit.setToolTip("Type the digit you drew (or press a digit key over the pad), then Enter")
        tl.addWidget(self.label_edit, 0, 1)
        self.save_button = QPushButton("Save to my digits")
        self.save_button.setToolTip("Save the drawing with this label into your own digits set")
        tl.addWidget(self.save_button, 0, 2)
        self.store_label = QLabel()
        self.store_label.setWordWrap(True)
        tl.addWidget(self.store_label, 1, 0, 1, 2)
        self.open_store_button = QPushButton("Open folder")
        tl.addWidget(self.open_store_button, 1, 2)
        tl.addWidget(QLabel("Fine-tune for"), 2, 0)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 2000)
        self.steps_spin.setValue(60)
        self.steps_spin.setSuffix(" steps")
        self.steps_spin.setToolTip("Batches of 32: ¾ MNIST training digits (so it does not forget them), "
                                   "¼ your digits, slightly rotated and shifted; Adam, learning rate 3·10⁻⁴")
        tl.addWidget(self.steps_spin, 2, 1)
        self.finetune_button = QPushButton("Fine-tune")
        self.finetune_button.setToolTip("Train a copy of the network a few steps on MNIST plus your digits, "
                                        "in the background; it replaces the network when done")
        tl.addWidget(self.finetune_button, 2, 2)
        self.finetune_progress = QProgressBar()
        self.finetune_progress.setTextVisible(True)
        self.finetune_progress.hide()
        tl.addWidget(self.finetune_progress, 3, 0, 1, 3)
        self.finetune_label = QLabel()
        self.finetune_label.setWordWrap(True)
        self.finetune_label.setTextFormat(Qt.TextFormat.RichText)
        tl.addWidget(self.finetune_label, 4, 0, 1, 3)
        tl.setColumnStretch(0, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)


def finetune_summary(result: dict) -> str:
    """What a finished fine-tuning run changed: the drawing's reading and the share of one's digits read right."""
    before, after = result.get("before"), result.get("after")
    parts = []
    if before is not None and after is not None:
        kb, ka = int(np.argmax(before)), int(np.argmax(after))
        parts.append(f"This drawing: <b>{kb}</b> ({float(before[kb]):.0%}) → <b>{ka}</b> ({float(after[ka]):.0%})")
    ub, ua = result.get("user_accuracy_before"), result.get("user_accuracy_after")
    if ub is not None and ua is not None:
        parts.append(f"your digits right: {ub:.0%} → {ua:.0%}")
    return "; ".join(parts) or "Fine-tuned"
