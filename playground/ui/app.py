"""Start the desktop app: ``run_app(argv)``.

``argv`` may hold one project file or preset name to open; without it the
window opens on a ready-to-train preset, so the first press of Train does
something.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

APP_NAME = "NumPy Neural Network Playground"


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists) with the app's names and look."""
    from playground.ui.settings import APPLICATION, ORGANIZATION, AppSettings
    from playground.ui.theme import Theme, current_theme, load_icon

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "playground", *(argv or [])[1:]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("numpy-nn-playground")
    app.setWindowIcon(load_icon("app"))
    if current_theme() is None:
        Theme(app, AppSettings().appearance())
    return app


def open_main_window(argv: list[str]):
    """Create and show the main window; open ``argv[0]`` (a project file or preset name) if given.

    A file that cannot be opened leaves the window on the default project and says why in a dialog.
    """
    from playground.ui.files import read_start_target
    from playground.ui.labs.menu import offer_on_first_start
    from playground.ui.mainwindow import MainWindow

    project, path, problem = None, None, None
    if argv:
        project, path, problem = read_start_target(argv[0])
    window = MainWindow(project, path)
    window.show()
    offer_on_first_start(window)
    if problem is not None:
        QTimer.singleShot(0, window, lambda: window.show_error("Cannot open the project", problem))
    return window


def run_app(argv: list[str]) -> int:
    """Run the app until its window closes; returns the exit status (2 when Qt cannot open a window here)."""
    from playground.ui.platform_check import platform_problem

    problem = platform_problem()
    if problem is not None:
        print(f"playground: error: {problem}", file=sys.stderr)
        return 2
    app = make_application()
    window = open_main_window(list(argv))
    app._playground_window = window
    return app.exec()
