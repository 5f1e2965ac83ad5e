"""The app's persistent settings (window layout, recent files, appearance) in one place.

Stored with QSettings in INI format under the user scope, organization
:data:`ORGANIZATION`, application :data:`APPLICATION`. Tests redirect it
into a temporary folder with ``QSettings.setPath(QSettings.IniFormat,
QSettings.UserScope, folder)`` or pass ``path`` explicitly.

A settings version is kept: when it differs from :data:`SETTINGS_VERSION`
the saved window geometry and dock layout are dropped (the widgets they
describe may no longer exist) and everything else is kept.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "numpy-nn-playground"
APPLICATION = "playground"
SETTINGS_VERSION = 2
MAX_RECENT = 8
APPEARANCES = ("system", "light", "dark")


class AppSettings:
    """Typed access to the few values the app remembers."""

    def __init__(self, path: str | Path | None = None):
        if path is not None:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                       ORGANIZATION, APPLICATION)
        self._migrate()

    def _migrate(self) -> None:
        s = self.qsettings
        version = s.value("settings_version", None)
        try:
            version = int(version) if version is not None else None
        except (TypeError, ValueError):
            version = None
        if version != SETTINGS_VERSION:
            # the layout of an older (or unknown) version describes other docks: drop it
            s.remove("window")
            s.setValue("settings_version", SETTINGS_VERSION)
            s.sync()

    # ------------------------------------------------------------ window
    def window_geometry(self) -> QByteArray | None:
        return _bytes(self.qsettings.value("window/geometry"))

    def window_state(self) -> QByteArray | None:
        return _bytes(self.qsettings.value("window/state"))

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.qsettings.sync()

    def labs_geometry(self) -> QByteArray | None:
        """Where the Labs window was and how big, as it was closed (None: never closed yet)."""
        return _bytes(self.qsettings.value("window/labs_geometry"))

    def save_labs_geometry(self, geometry: QByteArray) -> None:
        self.qsettings.setValue("window/labs_geometry", geometry)
        self.qsettings.sync()

    # ------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        value = self.qsettings.value("recent/files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent_file(self, path: str | Path) -> list[str]:
        p = str(Path(path).resolve())
        files = [f for f in self.recent_files() if f != p]
        files.insert(0, p)
        del files[MAX_RECENT:]
        self.qsettings.setValue("recent/files", files)
        self.qsettings.sync()
        return files

    def remove_recent_file(self, path: str | Path) -> list[str]:
        p = str(path)
        files = [f for f in self.recent_files() if f != p]
        self.qsettings.setValue("recent/files", files)
        return files

    def clear_recent_files(self) -> None:
        self.qsettings.setValue("recent/files", [])

    # ------------------------------------------------------------ appearance
    def appearance(self) -> str:
        value = str(self.qsettings.value("appearance", "system"))
        return value if value in APPEARANCES else "system"

    def set_appearance(self, value: str) -> None:
        if value not in APPEARANCES:
            raise ValueError(f"appearance must be one of {', '.join(APPEARANCES)}, got {value!r}")
        self.qsettings.setValue("appearance", value)

    # ------------------------------------------------------------ layout
    def playground_layout(self) -> bool:
        """True: the neuron view beside the training dashboard; False (default): on a tab of its own."""
        return str(self.qsettings.value("layout/playground", "false")).lower() == "true"

    def set_playground_layout(self, on: bool) -> None:
        self.qsettings.setValue("layout/playground", "true" if on else "false")

    # ------------------------------------------------------------ folders
    def last_folder(self) -> str:
        return str(self.qsettings.value("last_folder", str(Path.home())))

    def set_last_folder(self, path: str | Path) -> None:
        p = Path(path)
        self.qsettings.setValue("last_folder", str(p if p.is_dir() else p.parent))

    def sync(self) -> None:
        self.qsettings.sync()


def _bytes(value) -> QByteArray | None:
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    if isinstance(value, (bytes, bytearray)) and value:
        return QByteArray(bytes(value))
    return None
