"""``python -m playground.ui.dashboard [preset-or-project.json]``: the dashboard alone in a window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMainWindow

from playground.engine.errors import PlaygroundError
from playground.engine.project import resolve_project
from playground.ui.dashboard.dashboard import TrainingDashboard


class _Window(QMainWindow):
    def __init__(self, project: dict):
        super().__init__()
        self.dashboard = TrainingDashboard()
        self.dashboard.set_project(project)
        self.setCentralWidget(self.dashboard)
        self.setWindowTitle(f"Training dashboard: {project.get('name', 'project')}")
        self.dashboard.status_message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.resize(1500, 900)

    def closeEvent(self, event):
        self.dashboard.shutdown()
        super().closeEvent(event)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        project = resolve_project(argv[0] if argv else "spiral")
    except PlaygroundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    window = _Window(project)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
