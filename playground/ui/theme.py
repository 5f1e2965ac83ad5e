"""Light and dark looks that follow the system (Qt >= 6.5 color scheme), or a user's choice.

The app uses the Fusion style with a light or dark palette. The editor's
block colours and pyqtgraph's background come from the same choice, and
:attr:`Theme.changed` tells the views to repaint when the system switches.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from playground.ui import plotlook

__all__ = ["Colors", "Theme", "current_theme", "muted", "text_color"]

#: text colours on the window's background, light and dark, each at least 4.5:1 (WCAG AA) against it:
#: "muted" is also the palette's placeholder text (hints and descriptions), "note" its link colour
TEXT_COLORS = {"muted": ("#565e6e", "#a3acbd"), "error": ("#b91c1c", "#f87171"), "warning": ("#8f5200", "#fbbf24"),
               "note": ("#1d4ed8", "#7cb5fb")}

#: accent colour of each palette group (blocks, palette icons)
GROUP_COLORS = {
    "core": "#3b82f6",
    "convolution": "#8b5cf6",
    "activation": "#f59e0b",
    "regularization": "#10b981",
    "output": "#ec4899",
    "recurrent": "#0ea5e9",
    "io": "#64748b",
}


@dataclass(frozen=True)
class Colors:
    """Colours for painted items (the network canvas)."""

    dark: bool
    canvas: QColor
    grid: QColor
    block: QColor
    block_border: QColor
    text: QColor
    muted: QColor
    arrow: QColor
    selection: QColor
    error: QColor
    error_fill: QColor
    warning: QColor
    warning_fill: QColor
    drop: QColor

    def group(self, name: str) -> QColor:
        return QColor(GROUP_COLORS.get(name, GROUP_COLORS["io"]))


LIGHT = Colors(False, QColor("#f4f6f9"), QColor("#e3e7ee"), QColor("#ffffff"), QColor("#c5ccd8"),
               QColor("#1f2430"), QColor("#5d6679"), QColor("#8792a6"), QColor("#2563eb"),
               QColor("#dc2626"), QColor("#fef2f2"), QColor("#c26d00"), QColor("#fff8e6"), QColor("#2563eb"))
DARK = Colors(True, QColor("#1b1e24"), QColor("#262a32"), QColor("#2b3039"), QColor("#444b58"),
              QColor("#e6e9ef"), QColor("#a3acbd"), QColor("#7c879b"), QColor("#60a5fa"),
              QColor("#f87171"), QColor("#3a2226"), QColor("#fbbf24"), QColor("#3a3020"), QColor("#60a5fa"))


def _dark_palette() -> QPalette:
    p = QPalette()
    window, base, alt, text = QColor("#23262d"), QColor("#1b1e24"), QColor("#2a2e36"), QColor("#e6e9ef")
    disabled = QColor("#7d8494")
    muted_text, link = QColor(TEXT_COLORS["muted"][1]), QColor(TEXT_COLORS["note"][1])
    for role, color in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, alt),
                        (QPalette.ColorRole.ToolTipBase, QColor("#2f343e")),
                        (QPalette.ColorRole.ToolTipText, text), (QPalette.ColorRole.PlaceholderText, muted_text),
                        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, QColor("#2d323b")),
                        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor("#ff6b6b")),
                        (QPalette.ColorRole.Link, link), (QPalette.ColorRole.Highlight, QColor("#2563eb")),
                        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
                        (QPalette.ColorRole.Light, QColor("#3a3f4a")), (QPalette.ColorRole.Midlight, QColor("#32363f")),
                        (QPalette.ColorRole.Mid, QColor("#262a31")), (QPalette.ColorRole.Dark, QColor("#16181d")),
                        (QPalette.ColorRole.Shadow, QColor("#0b0c0f"))):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def _light_palette(style) -> QPalette:
    """The style's own light palette, with hints, notes and selections that read at 4.5:1 (its placeholder
    text is half-transparent black, its selection too light for white text)."""
    p = style.standardPalette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.PlaceholderText, QColor(TEXT_COLORS["muted"][0]))
        p.setColor(group, QPalette.ColorRole.Link, QColor(TEXT_COLORS["note"][0]))
        p.setColor(group, QPalette.ColorRole.Highlight, QColor("#2563eb"))  # white on it reads at 5.2:1
    return p


def text_color(kind: str) -> str:
    """A text colour for ``kind`` ("muted", "error", "warning", "note") readable on the window in the current look."""
    theme = current_theme()
    return TEXT_COLORS[kind][1 if theme is not None and theme.dark else 0]


def muted(label) -> None:
    """Draw ``label``'s text in the palette's hint colour, which follows light and dark (a style sheet's
    ``palette(...)`` keeps the colour of the look it was set in)."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)


def system_is_dark() -> bool:
    """Whether the desktop asks for a dark look (Unknown counts as light)."""
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is None:  # Qt < 6.5: guess from the platform palette
        return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return scheme() == Qt.ColorScheme.Dark


class Theme(QObject):
    """Applies the look to the application and tells views when it changes."""

    #: the look changed; the argument is True for dark
    changed = Signal(bool)

    def __init__(self, app: QApplication, appearance: str = "system"):
        super().__init__(app)
        self.app = app
        self.appearance = appearance
        self.dark = False
        app._playground_theme = self
        app.setStyle("Fusion")
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._system_changed)
        self.apply()

    @property
    def colors(self) -> Colors:
        return DARK if self.dark else LIGHT

    def set_appearance(self, appearance: str) -> None:
        """"system", "light" or "dark"."""
        self.appearance = appearance
        self.apply()

    def _system_changed(self, *_args) -> None:
        if self.appearance == "system":
            self.apply()

    def apply(self) -> None:
        dark = system_is_dark() if self.appearance == "system" else self.appearance == "dark"
        style = self.app.style()
        self.app.setPalette(_dark_palette() if dark else _light_palette(style))
        changed = dark != self.dark
        self.dark = dark
        plotlook.use_look(dark)
        if changed:
            self.changed.emit(dark)


def current_theme() -> Theme | None:
    """The Theme installed on the running application, if any."""
    app = QApplication.instance()
    return getattr(app, "_playground_theme", None) if app is not None else None


def load_icon(name: str):
    """An icon from resources/icons/<name>.svg (FileNotFoundError lists the known names)."""
    from PySide6.QtGui import QIcon

    from playground.assets import resource_path

    return QIcon(str(resource_path("icons", f"{name}.svg")))
