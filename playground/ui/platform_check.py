"""Before Qt starts: find what would make Qt abort (no display, missing X11 libraries) and say it in one line.

Qt ends the process with its own multi-line abort when its platform plugin
cannot load; on a bare Debian or Ubuntu that is usually a missing ``libxcb-*``
library. This check runs first, costs a few milliseconds, and names the
Debian packages to install instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: the libraries a bare Debian/Ubuntu most often lacks for Qt's xcb plugin, as Debian packages
XCB_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
                "libxkbcommon-x11-0")


def debian_package(soname: str) -> str:
    """The Debian package that usually ships ``soname``: libxcb-cursor.so.0 → libxcb-cursor0,
    libxkbcommon-x11.so.0 → libxkbcommon-x11-0, libEGL.so.1 → libegl1."""
    m = re.match(r"(lib[\w.+-]+?)\.so\.(\d+)", soname)
    if not m:
        return soname
    name, major = m.group(1).lower(), m.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def missing_libraries(plugin: Path) -> list[str]:
    """The shared libraries ``plugin`` needs that the dynamic loader cannot find ([] when ldd is absent)."""
    ldd = shutil.which("ldd")
    if ldd is None or not plugin.is_file():
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line})


def _xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"


def platform_problem(environ: dict[str, str] | None = None, plugin: Path | None = None) -> str | None:
    """One line saying why Qt could not open a window here and what to do, or None when it can."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, vnc, ...: Qt's own checks apply
    if not platform and env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return ("no display to open the window on: DISPLAY is not set (start the app from a desktop session, "
                "or set QT_QPA_PLATFORM=offscreen to run it without a screen)")
    plugin = plugin or _xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin)
    if not missing:
        return None
    packages = sorted({debian_package(name) for name in missing})
    return (f"Qt's X11 plugin cannot load: {', '.join(missing)} not found. On Debian or Ubuntu install them with: "
            f"sudo apt-get install {' '.join(packages)}")
