"""Qt widgets of the desktop app (PySide6 + pyqtgraph)."""
