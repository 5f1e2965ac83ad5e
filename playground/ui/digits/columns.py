"""The digit pad's first two columns: the pad with its tools, and the reading (verdict, bars, network, teaching)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from playground.ui.digits.choice import NetworkBox
from playground.ui.digits.pad import SIDE, DrawingPad
from playground.ui.digits.teach import TeachBox
from playground.ui.digits.views import VERDICT_TIP, ProbabilityBars

#: the brush slider never gets narrower than this (a squeezed row would leave it a dot)
SLIDER_MIN = 90


class PadColumn(QWidget):
    """The pad, its brush and ink colours, Undo, Clear and Load; :class:`~.widget.DigitPadWidget` wires them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        left = QVBoxLayout(self)
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(6)
        title = QLabel("<b>Draw a digit</b> — any size, anywhere; the network reads it as you draw")
        title.setWordWrap(True)
        left.addWidget(title)
        self.pad = DrawingPad()
        row = QHBoxLayout()
        row.addWidget(QLabel("Brush"))
        self.brush = QSlider(Qt.Orientation.Horizontal)
        self.brush.setRange(4, 48)
        self.brush.setMinimumWidth(SLIDER_MIN)
        self.brush.setValue(int(self.pad.brush_width()))
        self.brush.setToolTip(f"Stroke width in pad pixels (the pad is {SIDE} pixels wide). "
                              "Any width reads the same: step 2 rescales the digit.")
        self.brush_value = QLabel()
        self.brush_value.setMinimumWidth(44)
        self.brush.valueChanged.connect(self._brush_changed)
        self._brush_changed(self.brush.value())
        row.addWidget(self.brush, 1)
        row.addWidget(self.brush_value)
        self.colours = QComboBox()
        self.colours.addItems(["Dark ink on light paper", "Light ink on dark paper"])
        self.colours.setToolTip("Both read the same: preprocessing inverts a light background (step 1).")
        self.colours.currentIndexChanged.connect(lambda i: self.pad.set_dark_on_light(i == 0))
        row.addWidget(self.colours)
        left.addLayout(row)
        row = QHBoxLayout()
        self.undo_button = QPushButton("Undo stroke")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear the pad (Esc)")
        self.clear_button.clicked.connect(self.pad.clear)
        self.load_button = QPushButton("Load image…")
        self.load_button.setToolTip("Read a photo or scan of one digit (PNG, JPEG, BMP, …); "
                                    "it goes through the same preprocessing.")
        for b in (self.undo_button, self.clear_button, self.load_button):
            row.addWidget(b)
        left.addLayout(row)
        left.addWidget(self.pad, 1)

    def _brush_changed(self, value: int) -> None:
        self.pad.set_brush_width(value)
        self.brush_value.setText(f"{value} px")


class ReadingColumn(QWidget):
    """What the pad reads (verdict and bars), which network reads it, a note, and the "Teach it" box."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        mid = QVBoxLayout(self)
        mid.setContentsMargins(0, 0, 0, 0)
        mid.setSpacing(8)
        self.verdict = QLabel()
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() * 1.5)
        self.verdict.setFont(f)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.verdict.setWordWrap(True)
        # room for the headline and a reason of two lines, so the bars below do not jump as the text changes
        self.verdict.setMinimumHeight(round(self.verdict.fontMetrics().lineSpacing() * 2.4))
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.verdict.setToolTip(VERDICT_TIP)
        mid.addWidget(self.verdict)
        self.bars = ProbabilityBars()
        mid.addWidget(self.bars, 1)
        self.network_box = NetworkBox()
        mid.addWidget(self.network_box)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setFrameShape(QFrame.Shape.StyledPanel)
        self.message.setStyleSheet("QLabel { padding: 6px; border-radius: 4px; "
                                   "background: rgba(245, 158, 11, 40); }")
        self.message.hide()
        mid.addWidget(self.message)
        self.teach = TeachBox()
        mid.addWidget(self.teach)
        self.setMinimumWidth(340)
