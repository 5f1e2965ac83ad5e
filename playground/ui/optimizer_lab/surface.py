"""The optimizer lab's 3-D surface: log-scaled f with each path on it, or a label saying why it cannot be shown."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from playground.engine.lab.paths import LAB_OPTIMIZERS, PathLab
from playground.ui.optimizer_lab.drawing import COLORS, heat_offset, log_heat

__all__ = ["SurfaceView", "GRID_3D", "OPENGL_HINT"]

GRID_3D = 81
OPENGL_HINT = "pip install 'numpy-nn-playground[opengl]'"


def _opengl_problem() -> str | None:
    """Why the 3-D view cannot be shown, or None if PyOpenGL is importable (the context is tried later)."""
    if importlib.util.find_spec("OpenGL") is None:
        return f"The 3-D view needs PyOpenGL: {OPENGL_HINT}\nThe 2-D map works without it."
    return None


class SurfaceView(QWidget):
    """The surface of ``lab``'s function, built the first time it is shown (:meth:`open`).

    Until then, or when PyOpenGL or an OpenGL context is missing, a label
    says what it needs; the 2-D map works without it.
    """

    def __init__(self, lab: PathLab, parent: QWidget | None = None):
        super().__init__(parent)
        self.lab = lab
        self._gl: Any = None
        self._gl_module: Any = None
        self._items: dict[str, Any] = {}
        self._offset = (0.0, 1.0)
        self._zrange = (0.0, 1.0)
        self.problem = _opengl_problem()
        lay = QVBoxLayout(self)
        self.gl_label = QLabel(self.problem or "The 3-D surface appears when this tab is opened.")
        self.gl_label.setWordWrap(True)
        self.gl_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.gl_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.gl_label, 1)

    @property
    def live(self) -> bool:
        """The surface is built and its tab is the current one (a tab widget hides the others)."""
        return self._gl is not None and not self.isHidden()

    def open(self) -> None:
        """Build the surface if it can be and is not yet, then draw the paths on it."""
        if self._gl is None and self.problem is None:
            self._init_gl()
        self.draw_paths()

    def set_visible(self, name: str, on: bool) -> None:
        if name in self._items:
            self._items[name].setVisible(on)

    def show_function(self) -> None:
        """A new function: the surface again, if it is built."""
        if self._gl is not None:
            self._build_scene()

    def _init_gl(self) -> None:
        from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

        try:
            import pyqtgraph.opengl as gl
        except Exception as e:  # PyOpenGL present but broken: say so, keep the 2-D view
            self.problem = f"The 3-D view could not load pyqtgraph.opengl ({type(e).__name__}: {e}). " \
                           f"Try: {OPENGL_HINT}"
            self.gl_label.setText(self.problem)
            return
        ctx = QOpenGLContext()
        surface = QOffscreenSurface()
        surface.create()
        if not ctx.create() or not ctx.makeCurrent(surface):
            self.problem = ("The 3-D view needs an OpenGL context, and this display could not create one "
                            f"(platform: {QApplication.platformName()}). The 2-D map works without it.")
            self.gl_label.setText(self.problem)
            return
        ctx.doneCurrent()
        self._gl_module = gl
        self._gl = gl.GLViewWidget()
        self._gl.setCameraPosition(pos=pg.Vector(0, 0, 1.5), distance=19, elevation=30, azimuth=-60)
        self.gl_label.hide()
        self.layout().addWidget(self._gl, 1)
        self.layout().addWidget(QLabel("Height: log-scaled f, as on the map. Drag to turn, wheel to zoom."))
        self._build_scene()

    def _xyz(self, x, y, zlog):
        fn = self.lab.function
        (x0, x1), (y0, y1) = fn.x_range, fn.y_range
        lo, hi = self._zrange
        X = (np.asarray(x) - x0) / (x1 - x0) * 12.0 - 6.0
        Y = (np.asarray(y) - y0) / (y1 - y0) * 12.0 - 6.0
        Z = (np.asarray(zlog) - lo) / (hi - lo) * 5.0
        return X, Y, Z

    def _build_scene(self) -> None:
        gl = self._gl_module
        for item in list(self._gl.items):
            self._gl.removeItem(item)
        self._items.clear()
        fn = self.lab.function
        xs = np.linspace(*fn.x_range, GRID_3D)
        ys = np.linspace(*fn.y_range, GRID_3D)
        X, Y = np.meshgrid(xs, ys)
        F = fn.value(X, Y)
        self._offset = heat_offset(F)
        Z = log_heat(F, self._offset)
        finite = np.isfinite(Z)
        lo, hi = (float(Z[finite].min()), float(Z[finite].max())) if finite.any() else (0.0, 1.0)
        self._zrange = (lo, hi if hi > lo else lo + 1.0)
        Zf = np.where(finite, Z, lo)
        gx, gy, gz = self._xyz(xs, ys, Zf)
        cmap = pg.colormap.get("viridis")
        colors = cmap.map((Zf - lo) / (self._zrange[1] - lo), mode="float")  # (ny, nx, 4)
        # the surface wants z[i, j] at (x[i], y[j]) and one colour per vertex in that order, flattened
        vertex_colors = np.ascontiguousarray(colors.reshape(GRID_3D, GRID_3D, 4).transpose(1, 0, 2)).reshape(-1, 4)
        surf = gl.GLSurfacePlotItem(x=gx, y=gy, z=gz.T, colors=vertex_colors, smooth=False, computeNormals=False)
        surf.setGLOptions("opaque")
        self._gl.addItem(surf)
        for name in LAB_OPTIMIZERS:
            line = gl.GLLinePlotItem(pos=np.zeros((1, 3)), color=QColor(COLORS[name]), width=3, antialias=True)
            line.setGLOptions("translucent")
            self._gl.addItem(line)
            line.setVisible(self.lab.enabled[name])
            self._items[name] = line
        self.draw_paths()

    def draw_paths(self) -> None:
        """Each path on the surface, when the surface is built and shown."""
        if not self.live:
            return
        for name, line in self._items.items():
            pts = self.lab.paths[name].points
            zlog = log_heat(self.lab.paths[name].values, self._offset)
            X, Y, Z = self._xyz(pts[:, 0], pts[:, 1], zlog)
            line.setData(pos=np.column_stack([X, Y, Z + 0.08]))
