"""The labs' start page: every lab of the book by chapter, with its title, its summary and a button to open it.

The search lab (chapter 6.5) is listed when :mod:`playground.ui.search_lab` is installed; it opens in
its own place, so the start page only says ``search_requested``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from playground.engine.lab.registry import LABS, lab_module

SEARCH_MODULE = "playground.ui.search_lab"


#: the function of the search lab's module that opens it: open_search_lab(parent) -> its window
SEARCH_OPENER = "open_search_lab"


def search_lab_available() -> bool:
    """Whether the search lab is installed and can be opened from here."""
    if importlib.util.find_spec(SEARCH_MODULE) is None:
        return False
    return hasattr(importlib.import_module(SEARCH_MODULE), SEARCH_OPENER)


def chapter_key(chapter: str) -> tuple[float, str]:
    """Order chapters as the book does ("2" < "4-5" < "6.1" < "6.5" < "8"), anything else last."""
    head = chapter.split("-")[0]
    try:
        return float(head), chapter
    except ValueError:
        return float("inf"), chapter


def entries() -> list[tuple[str, str, str, str]]:
    """(name, chapter, title, summary) of every lab listed, by chapter; "search" for the search lab."""
    rows = [(name, info.chapter, info.title, info.summary) for name, info in LABS.items()]
    if search_lab_available():
        rows.append(("search", "6.5", "Hyperparameter search",
                     "Random learning rates and weight decays on a validation split: which settings learn best."))
    return sorted(rows, key=lambda r: chapter_key(r[1]))


def book_scripts(name: str) -> str:
    """The book's scripts a lab follows, as its module names them ("ch06/overfit_weight_decay.py and
    overfit_dropout.py" gives both)."""
    if name not in LABS:
        return "ch06/hyperparameter_optimization.py"
    source = Path(lab_module(name).__file__).read_text()
    found: list[str] = []
    for chapter, first, more in re.findall(r"(ch\d\d)/(\w+\.py)((?:(?:,| and|, and) \w+\.py)*)", source):
        found += [f"{chapter}/{first}"] + [f"{chapter}/{m}" for m in re.findall(r"\w+\.py", more)]
    return ", ".join(dict.fromkeys(found)) or "none: a classic exercise beside the book"


class StartPage(QWidget):
    """The labs by chapter. ``open_requested(name)`` when a lab's button is pressed."""

    open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        head = QLabel("<h2>The book's experiments, one click each</h2>"
                      "<p>Each lab runs an experiment of <i>Deep Learning from Scratch</i> with the book's settings "
                      "(editable), draws the result as the book does, and says in one line what the numbers "
                      "show. Tick <b>Quick</b> on a lab's page for a first look in seconds.</p>")
        head.setWordWrap(True)
        layout.addWidget(head)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setColumnStretch(2, 1)
        self.buttons: dict[str, QPushButton] = {}
        for row, (name, chapter, title, summary) in enumerate(entries()):
            ch = QLabel(f"ch. {chapter}" if chapter[0].isdigit() else chapter)
            ch.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            button = QPushButton(title)
            button.setObjectName(f"open_{name}")
            button.setToolTip(summary)
            button.clicked.connect(lambda _=False, n=name: self.open_requested.emit(n))
            text = QLabel(f"{summary}<br><small>the book: {book_scripts(name)}</small>")
            text.setWordWrap(True)
            grid.addWidget(ch, row, 0)
            grid.addWidget(button, row, 1)
            grid.addWidget(text, row, 2)
            self.buttons[name] = button
        layout.addLayout(grid)
        layout.addStretch(1)
