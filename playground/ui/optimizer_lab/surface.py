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

__all__ = ["SurfaceView", "GRID_3D", "OPENGL_HINT", "OPENGL_MISSING", "lift_path"]

GRID_3D = 81
OPENGL_HINT = "pip install 'numpy-nn-playground[opengl]'"
#: what the tab says when PyOpenGL is not installed
OPENGL_MISSING = ("The 3-D view needs PyOpenGL, which the app does not install by itself: it is the optional "
                  f"[opengl] extra. Install it with\n{OPENGL_HINT}\n(from a clone of the repository: "
                  ".venv/bin/pip install -e '.[opengl]') and open this tab again after restarting the app.\n"
                  "The 2-D map works without it.")
#: scene units: x and y span [-HALF, HALF], the height [0, HEIGHT]
HALF, HEIGHT = 6.0, 5.0
#: how far a path floats above the surface, in scene units
LIFT = 0.06


def _opengl_problem() -> str | None:
    """Why the 3-D view cannot be shown, or None if PyOpenGL is importable (the context is tried later)."""
    if importlib.util.find_spec("OpenGL") is None:
        return OPENGL_MISSING
    return None


def _mesh_height(gx: np.ndarray, gy: np.ndarray, Z: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The highest the triangulated grid surface can be at (x, y), whichever diagonal splits each cell.

    ``Z[i, j]`` is the height at ``(gx[j], gy[i])`` (increasing grids). A cell
    cut along either diagonal is two flat triangles; the larger of the two
    linear interpolations is at or above the drawn surface.
    """
    j = np.clip(np.searchsorted(gx, x) - 1, 0, len(gx) - 2)
    i = np.clip(np.searchsorted(gy, y) - 1, 0, len(gy) - 2)
    u = np.clip((x - gx[j]) / (gx[j + 1] - gx[j]), 0.0, 1.0)
    v = np.clip((y - gy[i]) / (gy[i + 1] - gy[i]), 0.0, 1.0)
    z00, z10, z01, z11 = Z[i, j], Z[i, j + 1], Z[i + 1, j], Z[i + 1, j + 1]
    main = np.where(u >= v, z00 + u * (z10 - z00) + v * (z11 - z10), z00 + v * (z01 - z00) + u * (z11 - z01))
    anti = np.where(u + v <= 1, z00 + u * (z10 - z00) + v * (z01 - z00),
                    z11 + (1 - u) * (z01 - z11) + (1 - v) * (z10 - z11))
    return np.maximum(main, anti)


def lift_path(xy: np.ndarray, z: np.ndarray, gx: np.ndarray, gy: np.ndarray, Z: np.ndarray,
              lift: float = LIFT) -> np.ndarray:
    """An (m, 3) polyline for a path that never dips into the surface (no Qt; scene units).

    ``xy`` (n, 2) and ``z`` (n,) are the path's points and heights; ``gx``,
    ``gy``, ``Z`` the surface's grid as in :func:`_mesh_height`. Each segment
    is cut into pieces no longer than half a grid cell, so a chord cannot
    pass under a ridge between two points; every point is then put at its own
    height or the surface's, whichever is higher, plus ``lift``. A height
    that is not finite (a diverged step) takes the surface's.
    """
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    z = np.asarray(z, np.float64).reshape(-1)
    if len(xy) == 0:
        return np.zeros((0, 3))
    cell = min(np.min(np.diff(gx)), np.min(np.diff(gy))) / 2
    if len(xy) > 1:
        seg = np.hypot(*np.diff(xy, axis=0).T)
        pieces = np.maximum(1, np.ceil(np.nan_to_num(seg, nan=0.0, posinf=0.0) / cell)).astype(int)
        pieces = np.minimum(pieces, 200)
        t = np.concatenate([k + np.arange(n) / n for k, n in enumerate(pieces)] + [[len(xy) - 1.0]])
        k = np.minimum(t.astype(int), len(xy) - 2)
        f = (t - k)[:, None]
        pts = xy[k] * (1 - f) + xy[k + 1] * f
        with np.errstate(invalid="ignore"):
            zz = z[k] * (1 - f[:, 0]) + z[k + 1] * f[:, 0]
        zz = np.where(f[:, 0] == 0, z[k], np.where(f[:, 0] == 1, z[k + 1], zz))  # the path's own points exact
    else:
        pts, zz = xy, z
    ground = _mesh_height(gx, gy, Z, pts[:, 0], pts[:, 1])
    height = np.where(np.isfinite(zz), np.maximum(zz, ground), ground) + lift
    return np.column_stack([pts, height])


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
        self._grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # scene x, y and heights of the surface
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
        X = (np.asarray(x) - x0) / (x1 - x0) * 2 * HALF - HALF
        Y = (np.asarray(y) - y0) / (y1 - y0) * 2 * HALF - HALF
        Z = (np.asarray(zlog) - lo) / (hi - lo) * HEIGHT
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
        self._grid = (gx, gy, gz)
        self._add_axes(fn)
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
            line.setData(pos=lift_path(np.column_stack([X, Y]), Z, *self._grid))

    def _add_axes(self, fn) -> None:
        """Axis lines along the near edges with their names and end values, and a vertical height axis."""
        gl = self._gl_module
        colour = QColor(self.palette().windowText().color())
        colour.setAlpha(220)
        h = HALF
        (x0, x1), (y0, y1) = fn.x_range, fn.y_range
        lo, delta = self._offset
        z_top = 10 ** self._zrange[1] - delta + lo  # the largest f on the grid
        edges = [((-h, -h, 0), (h, -h, 0)), ((-h, -h, 0), (-h, h, 0)), ((-h, -h, 0), (-h, -h, HEIGHT))]
        for a, b in edges:
            axis = gl.GLLinePlotItem(pos=np.array([a, b], float), color=colour, width=2, antialias=True)
            self._gl.addItem(axis)
        # one label per axis, at its middle (the corner where the three meet stays clear)
        labels = [((0, -h - 1.0, 0), f"x: {x0:g} … {x1:g}"), ((-h - 1.0, 0, 0), f"y: {y0:g} … {y1:g}"),
                  ((-h, -h, HEIGHT + 0.4), f"f (log scale): {lo:.3g} … {z_top:.3g}")]
        for pos, text in labels:
            self._gl.addItem(gl.GLTextItem(pos=np.array(pos, float), text=text, color=colour))
