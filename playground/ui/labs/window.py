"""The Labs window: the start page and, on demand, one page per lab, with a way back to the list.

It opens where it was last closed (its geometry kept in the app's settings), the first time at
:data:`DEFAULT_SIZE` (at most :data:`SCREEN_SHARE` of the screen), centred: a window beside the main
window, not one covering the screen.
"""

from __future__ import annotations

import importlib

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QWidget

from playground.ui.labs.page import LabPage
from playground.ui.labs.start import SEARCH_MODULE, SEARCH_OPENER, StartPage
from playground.ui.layout import fit_on_screen, scrolling
from playground.ui.settings import AppSettings

#: the window's size the first time it opens: the start page and a lab's figures read at it
DEFAULT_SIZE = (1360, 860)
#: the most of the available screen it takes the first time
SCREEN_SHARE = 0.92


class LabsWindow(QMainWindow):
    """``start`` (the list) and ``pages`` (name → :class:`LabPage`, made when first opened) in one stack."""

    def __init__(self, data_dir: str | None = None, parent: QWidget | None = None,
                 settings: AppSettings | None = None):
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Labs · Deep Learning from Scratch")
        self.data_dir = data_dir
        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.start = StartPage()
        self.start.open_requested.connect(self.open_lab)
        self.stack.addWidget(scrolling(self.start))
        self.pages: dict[str, LabPage] = {}
        self.search_window: QWidget | None = None
        self._place()

    def _place(self) -> None:
        """Where it was closed last, else :data:`DEFAULT_SIZE` within the available screen, centred on it."""
        geometry = self.settings.labs_geometry() if self.settings is not None else None
        if geometry is not None and self.restoreGeometry(geometry):
            return
        fit_on_screen(self, *DEFAULT_SIZE, share=SCREEN_SHARE, centre=True)

    def show_start(self) -> None:
        self.stack.setCurrentIndex(0)
        self._present()

    def open_lab(self, name: str) -> LabPage | None:
        """Show lab ``name``'s page (the search lab in its own window)."""
        if name == "search":
            self._open_search()
            return None
        page = self.pages.get(name)
        if page is None:
            page = LabPage(name, self.data_dir)
            page.back_requested.connect(self.show_start)
            self.pages[name] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        self._present()
        return page

    def _open_search(self) -> None:
        """The Search lab, on the main window's open project (its "Use best" writes there)."""
        owner = getattr(self, "main_window", None)
        if owner is None:
            return
        self.search_window = getattr(importlib.import_module(SEARCH_MODULE), SEARCH_OPENER)(owner)

    def _present(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()

    def shutdown(self) -> None:
        """End every lab's worker process."""
        for page in self.pages.values():
            page.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        if self.settings is not None:
            self.settings.save_labs_geometry(self.saveGeometry())
        event.accept()
