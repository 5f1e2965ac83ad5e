"""The dashboard's banner: a visible, closable message above the plots."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

class Banner(QFrame):
    """A visible message above the plots: errors, divergence, warnings. Closable."""

    STYLES = {"error": ("#fdecea", "#b71c1c"), "warning": ("#fff4e5", "#8a4b00"), "info": ("#e8f1fb", "#0d3c73")}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide this message")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.level = ""
        self.message = ""
        self.hide()

    def show_message(self, level: str, title: str, text: str) -> None:
        bg, fg = self.STYLES[level]
        self.level = level
        self.setStyleSheet(f"Banner {{ background: {bg}; border: 1px solid {fg}; border-radius: 4px; }}"
                           f"QLabel {{ color: {fg}; }}")
        # the title and text hold the user's words (a project's names, a file's path): shown as they are
        self.message = f"{title} {text}"
        self.label.setText(f"<b>{html.escape(title)}</b> {html.escape(text)}")
        self.show()

    def text(self) -> str:
        """The message shown, as the user reads it (without the markup)."""
        return self.message
