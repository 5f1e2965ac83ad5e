"""Before Qt starts, a missing display or X11 library is named in one line instead of Qt's abort."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from playground.ui.platform_check import debian_package, missing_libraries, platform_problem


@pytest.mark.parametrize("soname, package", [
    ("libxcb-cursor.so.0", "libxcb-cursor0"), ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"), ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libEGL.so.1", "libegl1"), ("libX11-xcb.so.1", "libx11-xcb1"),
])
def test_debian_package_names(soname, package):
    assert debian_package(soname) == package


def test_offscreen_and_other_platforms_are_left_to_qt():
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert platform_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 check is for Linux")
def test_no_display_is_one_line_with_a_way_out():
    problem = platform_problem({})
    assert "DISPLAY is not set" in problem and "QT_QPA_PLATFORM=offscreen" in problem and "\n" not in problem


@pytest.mark.skipif(shutil.which("ldd") is None or shutil.which("cc") is None, reason="needs ldd and a C compiler")
def test_a_plugin_with_a_missing_library_names_the_package_to_install(tmp_path):
    """A stand-in plugin linked against a library that is then removed: exactly what a bare system shows."""
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    (tmp_path / "a.c").write_text("int xcb_cursor_stub(void) { return 1; }\n")
    (tmp_path / "p.c").write_text("int xcb_cursor_stub(void); int f(void) { return xcb_cursor_stub(); }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib_dir / "libpgtest-cursor.so.0"), str(tmp_path / "a.c"),
                    "-Wl,-soname,libpgtest-cursor.so.0"], check=True)
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(plugin), str(tmp_path / "p.c"), f"-L{lib_dir}",
                    "-l:libpgtest-cursor.so.0"], check=True)
    (lib_dir / "libpgtest-cursor.so.0").unlink()  # a name no system has
    assert missing_libraries(plugin) == ["libpgtest-cursor.so.0"]
    problem = platform_problem({"DISPLAY": ":0"}, plugin=plugin)
    assert problem.endswith("sudo apt-get install libpgtest-cursor0") and "\n" not in problem
