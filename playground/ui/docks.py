"""The main window's side panels: docks per central tab, the default layout, and the layout kept between sessions."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from playground.ui.settings import SETTINGS_VERSION, AppSettings

#: docks that serve the builder; each tab shows only the ones it uses, so the
#: training plots, the digit pad and the optimizer lab get room to breathe
BUILDER_DOCKS = ("palette", "inspector", "training", "history")


class DockLayout:
    """The docks of ``window`` by key (``docks``), which of them each tab shows, and the saved window layout."""

    def __init__(self, window: QMainWindow, settings: AppSettings):
        self.window = window
        self.settings = settings
        self.docks: dict[str, QDockWidget] = {}
        self._hidden_by_tab: set[str] = set()  # docks the current tab put away
        self._default_state = None

    def add(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.window.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def show_only(self, wanted: set[str]) -> None:
        """Show the builder docks in ``wanted`` that a tab put away, and put away the others."""
        for key in BUILDER_DOCKS:
            dock = self.docks[key]
            if key in wanted and key in self._hidden_by_tab:
                dock.show()
                self._hidden_by_tab.discard(key)
            elif key not in wanted and dock.isVisible():
                dock.hide()
                self._hidden_by_tab.add(key)

    def show_builder_docks(self) -> None:
        for key in self._hidden_by_tab:
            self.docks[key].show()
        self._hidden_by_tab.clear()

    def remember_default(self) -> None:
        """Take the window's layout as it is now as the one :meth:`reset` goes back to."""
        self._default_state = self.window.saveState(SETTINGS_VERSION)

    def reset(self) -> None:
        self.window.restoreState(self._default_state, SETTINGS_VERSION)
        for key in ("palette", "inspector", "training"):
            self.docks[key].show()
        self.size_docks()

    def size_docks(self) -> None:
        w = self.window.width()
        self.window.resizeDocks([self.docks["palette"]], [max(190, int(w * 0.13))], Qt.Orientation.Horizontal)
        self.window.resizeDocks([self.docks["inspector"]], [max(320, int(w * 0.23))], Qt.Orientation.Horizontal)

    def restore(self) -> None:
        """The saved geometry and dock layout, or a window of 90 % of the screen, centred."""
        window = self.window
        geometry = self.settings.window_geometry()
        state = self.settings.window_state()
        if geometry is None or not window.restoreGeometry(geometry):
            screen = QApplication.primaryScreen()
            avail = screen.availableGeometry() if screen is not None else None
            if avail is not None:
                w = min(1600, int(avail.width() * 0.9))
                h = min(1000, int(avail.height() * 0.9))
                window.resize(w, h)
                window.move(avail.x() + (avail.width() - w) // 2, avail.y() + (avail.height() - h) // 2)
            else:
                window.resize(1400, 900)
            QTimer.singleShot(0, window, self.size_docks)
        if state is not None:
            window.restoreState(state, SETTINGS_VERSION)

    def save(self) -> None:
        self.show_builder_docks()  # remember the builder's layout, not the digit pad's
        self.settings.save_window(self.window.saveGeometry(), self.window.saveState(SETTINGS_VERSION))
