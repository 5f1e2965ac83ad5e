"""The main window's Labs menu (the start page, then one item per lab by chapter) and the first-start offer.

:func:`build_labs_menu` adds the menu before Help and keeps the Labs window as ``window.labs_window``
(made when first needed); :func:`offer_on_first_start` shows the start page the first time the app runs.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu

from playground.ui.labs.start import entries
from playground.ui.labs.window import LabsWindow

FIRST_START_KEY = "labs/start_page_offered"


def labs_window(window: QMainWindow) -> LabsWindow:
    """The window's Labs window, made on first use."""
    labs = getattr(window, "labs_window", None)
    if labs is None:
        labs = LabsWindow(parent=None, settings=getattr(window, "settings", None))
        labs.main_window = window  # the Search lab works on the main window's open project
        window.labs_window = labs
    return labs


def build_labs_menu(window: QMainWindow) -> QMenu:
    """The "Labs" menu of ``window``'s menu bar (made before Help if there is none yet), the book's labs put
    first in it; its actions go to ``window.actions``."""
    window.labs_window = None
    bar = window.menuBar()
    existing = next((a.menu() for a in bar.actions() if a.text().replace("&", "") == "Labs" and a.menu()), None)
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    menu = existing or QMenu("&Labs", window)
    later = list(menu.actions())  # what the menu held already (the Search lab) comes after the book's labs
    for act in later:
        menu.removeAction(act)
    if existing is None:
        if help_action is not None:
            bar.insertMenu(help_action, menu)
        else:
            bar.addMenu(menu)
    start = QAction("All labs by chapter…", window)
    start.setStatusTip("The book's experiments by chapter: open one, run it with the book's settings")
    start.triggered.connect(lambda: labs_window(window).show_start())
    menu.addAction(start)
    window.actions["labs_start"] = start
    menu.addSeparator()
    for name, chapter, title, summary in entries():
        act = QAction(f"ch. {chapter}  {title}" if chapter[0].isdigit() else f"{chapter}:  {title}", window)
        act.setStatusTip(summary)
        act.setToolTip(summary)
        act.triggered.connect(lambda _=False, n=name: labs_window(window).open_lab(n))
        menu.addAction(act)
        window.actions[f"lab_{name}"] = act
    if later:
        menu.addSeparator()
        menu.addActions(later)
    menu.setToolTipsVisible(True)
    return menu


def offer_on_first_start(window: QMainWindow) -> bool:
    """Show the labs' start page if the app has never offered it; True when it did now."""
    s = window.settings.qsettings
    if s.value(FIRST_START_KEY, False, type=bool):
        return False
    s.setValue(FIRST_START_KEY, True)
    s.sync()
    labs_window(window).show_start()
    return True


def shutdown_labs(window: QMainWindow) -> None:
    """End the labs' worker processes and close their window (the main window closes)."""
    labs = getattr(window, "labs_window", None)
    if labs is not None:
        labs.shutdown()
        labs.close()
