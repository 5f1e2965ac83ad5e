"""The neuron view: every unit's output over the input plane, the weights between them, the output with the data.

TensorFlow Playground's picture of a small network on 2-D points, drawn
from what the training worker sends (:class:`~playground.engine.train.unit_maps.UnitMaps`):
a column of small heatmaps per layer, the connections between the first 16
units of consecutive layers coloured by the weight's sign and as wide as its
size, and the output's heatmap with the training points (the test points on
a toggle). Hovering a unit shows it large, with the data points over it.
This window never computes a forward pass: it only turns numbers into pixels.

It does so cheaply, as its pictures come several times a second while the
worker trains on the same cores: a snapshot is only kept until the next paint
(a newer one replaces it, a hidden view draws none), and the paint writes each
map's palette indices through a lookup table of pixels straight into images
made once per run (``np.take`` into their memory). Lines, titles and frames
are a picture of their own, redrawn when the size or the layers change and,
for the weights' lines, at most every :data:`LINES_MS` when their drawn
colour or width changed.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np
from PySide6.QtCore import QElapsedTimer, QLineF, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap,
                           QPolygonF)
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from playground.engine.data.features import PLAIN
from playground.engine.train.unit_maps import MAX_UNITS
from playground.ui.dashboard.plotting import class_color
from playground.ui.builder.features import LABELS

#: TensorFlow Playground's colours: negative orange, zero near white, positive blue
NEGATIVE = np.array([245, 147, 34], dtype=np.float32)
ZERO = np.array([232, 234, 235], dtype=np.float32)
POSITIVE = np.array([8, 119, 189], dtype=np.float32)
GAP = 4.0
HEADER = 34.0
LARGE = 230.0
#: connection widths and opacities come in this many steps, so a layer's lines are drawn with a few pens
LEVELS = 6
#: the weights' lines are redrawn at most this often (ms); the heatmaps follow every snapshot
LINES_MS = 400

EXPLAIN = ("Each small square is one unit's output a over the whole input plane (x₁ left to right, x₂ bottom "
           "to top): blue where a > 0, orange where a < 0, white near 0, each square scaled by its own largest "
           "|a|.\nA Dense unit computes a_j = φ(Σᵢ wᵢⱼ·xᵢ + b_j): its square is a weighted sum of the squares "
           "of the layer before, bent by the activation φ.\nLines are the weights wᵢⱼ: blue positive, orange "
           "negative, wider = larger |w|.\nThe large square is the output: the class the network predicts at each "
           "point, paler where it is less sure. Hover a square to see it large with the data points.")


def _palette() -> np.ndarray:
    """(256, 3) uint8: index 0 is -1 (orange), 127.5 is 0 (near white), 255 is +1 (blue)."""
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    rgb = ZERO + np.where(t > 0, POSITIVE - ZERO, NEGATIVE - ZERO) * np.abs(t)
    return rgb.round().astype(np.uint8)


PALETTE = _palette()


def rgb32(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 -> (...) uint32 pixels of QImage.Format_RGB32 (0xffRRGGBB)."""
    c = rgb.astype(np.uint32)
    return np.uint32(0xFF000000) | c[..., 0] << 16 | c[..., 1] << 8 | c[..., 2]


#: the palette as RGB32 pixels: palette index -> pixel with one np.take
LUT32 = rgb32(PALETTE)


def diverging_index(maps: np.ndarray) -> np.ndarray:
    """(n, n, k) values -> (k, n, n) uint8 palette indices, each map scaled by its own largest |value|,
    row 0 at the top (the largest x2)."""
    scale = np.abs(maps).max(axis=(0, 1))
    scale[~(scale > 0)] = 1.0
    index = np.rint((np.clip(maps / scale, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    return index[::-1].transpose(2, 0, 1)


def class_image(probs: np.ndarray, discretize: bool) -> np.ndarray:
    """(n, n, K) probabilities -> (n, n, 3) uint8: the class colours mixed by probability, paler where unsure."""
    if probs.shape[2] == 1:  # a single sigmoid output: P(class 1)
        probs = np.concatenate([1 - probs, probs], axis=2)
    k = probs.shape[2]
    if discretize:
        probs = np.eye(k, dtype=np.float32)[probs.argmax(axis=2)]
    colors = np.array([class_color(i).getRgb()[:3] for i in range(k)], dtype=np.float32)
    conf = probs.max(axis=2, keepdims=True)
    rgb = probs @ colors
    fade = 1.0 if discretize else np.clip((conf - 1 / k) / (1 - 1 / k), 0, 1) * 0.8 + 0.2
    rgb = 255 - (255 - rgb) * fade * 0.75
    return np.ascontiguousarray(rgb[::-1].round().clip(0, 255).astype(np.uint8))


def pixel_images(buffer: np.ndarray) -> list[QImage]:
    """A QImage over each (n, n) uint32 plane of ``buffer`` (k, n, n): writing the buffer changes them."""
    k, h, w = buffer.shape
    return [QImage(buffer[i].data, w, h, 4 * w, QImage.Format.Format_RGB32) for i in range(k)]


class NeuronCanvas(QWidget):
    """The painted network: input features, hidden columns, output; a unit under the mouse drawn large."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(360, 300)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.units: dict[str, Any] | None = None  # the snapshot drawn
        self._pending: dict[str, Any] | None = None  # the newest snapshot, drawn at the next paint
        self.data: Any = None
        self.show_test = False
        self.discretize = False
        #: per column (the inputs first) the unit images; then the output's image. Made once per run (and
        #: shape) over the pixel buffers below, which each snapshot overwrites
        self.images: list[list[QImage]] = []
        self.output_image: QImage | None = None
        self._pixels: list[np.ndarray] = []  # per column (k, n, n) uint32
        self._output_pixels: np.ndarray | None = None  # (n, n) uint32
        self._shape: tuple = ()
        self.updates = 0  # unit snapshots drawn (the benchmark and tests read it)
        self.frames = 0  # times the lines, titles and frames were redrawn
        #: (wall, CPU) seconds each paint that drew a new snapshot took, pixels and all (the benchmark reads them)
        self.update_seconds: deque[tuple[float, float]] = deque(maxlen=5000)
        self.hover: tuple[int, int] | None = None
        self._static: QPixmap | None = None  # lines, titles and frames; None: redraw at the next paint
        self._lines: list[np.ndarray] = []  # the weights' lines as drawn: sign × level, per column
        self._lines_stale = False  # they changed since the picture was drawn
        self._lines_clock = QElapsedTimer()
        self._lines_timer = QTimer(self, singleShot=True)
        self._lines_timer.timeout.connect(self.update)
        self._rects: tuple[QSize, Any] | None = None  # layout_rects() for a size
        self._points: dict[tuple, QImage] = {}  # the data points over a rectangle of a size, drawn once
        self._small = QFont()
        self._small.setPointSizeF(self._small.pointSizeF() * 0.85)

    # ------------------------------------------------------------ data
    def set_data(self, data: Any) -> None:
        self.data = data
        self._points = {}
        self._static = None
        self.units = self._pending = None
        self.images, self.output_image, self._pixels, self._output_pixels, self._shape = [], None, [], None, ()
        self._rects = None
        self.hover = None
        self.update()

    def set_units(self, units: dict[str, Any]) -> None:
        """Draw ``units`` at the next paint; one arriving before then replaces it (a hidden view draws none)."""
        self._pending = units
        self.update()

    def _apply(self, units: dict[str, Any]) -> None:
        """Turn a snapshot into pixels, written into the images kept from the last one (made anew only when
        the columns' shapes change)."""
        self._pending = None
        maps = [units["inputs"]] + [col["maps"] for col in units["columns"][:-1]]
        shape = tuple(m.shape for m in maps) + (units["output"].shape[:2],)
        titles = self.column_titles()
        self.units = units
        if shape != self._shape:
            self._shape = shape
            self._pixels = [np.zeros((m.shape[2], m.shape[0], m.shape[1]), np.uint32) for m in maps]
            self.images = [pixel_images(b) for b in self._pixels]
            self._output_pixels = np.zeros((1,) + units["output"].shape[:2], np.uint32)
            self.output_image = pixel_images(self._output_pixels)[0]
            self._static, self._rects = None, None
        elif titles != self.column_titles():
            self._static = None
        for m, out in zip(maps, self._pixels):
            np.take(LUT32, diverging_index(m), out=out)
        self._paint_output()
        lines = self._line_levels()
        if self._static is not None and (len(lines) != len(self._lines)
                                         or any(not np.array_equal(a, b) for a, b in zip(lines, self._lines))):
            self._lines_stale = True
        self.updates += 1

    def _line_levels(self) -> list[np.ndarray]:
        """Each weight's line as drawn: its sign times its width level (1 to :data:`LEVELS`)."""
        out = []
        for col in self.units["columns"]:
            w = col.get("weights")
            if w is not None:
                big = float(np.abs(w).max()) or 1.0
                out.append(np.sign(w).astype(np.int8) * (np.minimum(np.abs(w) / big * LEVELS, LEVELS - 1)
                                                         .astype(np.int8) + 1))
        return out

    def set_discretize(self, on: bool) -> None:
        self.discretize = on
        self._paint_output()
        self._static = None
        self.update()

    def set_show_test(self, on: bool) -> None:
        self.show_test = on
        self._static = None
        self.update()

    def _paint_output(self) -> None:
        if self.units is not None and self._output_pixels is not None:
            self._output_pixels[0] = rgb32(class_image(self.units["output"], self.discretize))

    # ------------------------------------------------------------ geometry
    def column_titles(self) -> list[tuple[str, str]]:
        """(title, note) per column, the inputs first."""
        if self.units is None:
            return []
        out = [("Input", "features")]
        for col in self.units["columns"][:-1]:
            width = col["width"]
            act = col["output"][len(col["name"]) + 1:] if col["output"] != col["name"] else "linear"
            count = f"first {MAX_UNITS} of {width}" if width > MAX_UNITS else f"{width} unit{'s' * (width != 1)}"
            out.append((col["name"], f"{act} · {count}"))
        return out

    def layout_rects(self) -> tuple[list[list[QRectF]], QRectF]:
        """Tile rectangles per column and the output's rectangle, for the widget's current size."""
        if self.units is None:
            return [], QRectF()
        if self._rects is None or self._rects[0] != self.size():
            self._rects = (self.size(), self._layout())
        return self._rects[1]

    def _layout(self) -> tuple[list[list[QRectF]], QRectF]:
        w, h = float(self.width()), float(self.height())
        ncols = len(self.images)
        tallest = max(len(c) for c in self.images)
        avail = h - HEADER - 2 * GAP
        tile = max(12.0, min(44.0, (avail - GAP * (tallest - 1)) / tallest))
        out_side = max(80.0, min(avail, 0.36 * w, 320.0))
        left = 46.0  # room for the feature names
        span = max(w - left - out_side - 16 - tile, 1.0)
        step = span / max(ncols, 1)
        cols = []
        for c, images in enumerate(self.images):
            x = left + c * step
            total = len(images) * tile + (len(images) - 1) * GAP
            y0 = HEADER + max((avail - total) / 2, 0)
            cols.append([QRectF(x, y0 + i * (tile + GAP), tile, tile) for i in range(len(images))])
        out = QRectF(w - out_side - 8, HEADER + (avail - out_side) / 2, out_side, out_side)
        return cols, out

    def tile_at(self, pos: QPointF) -> tuple[int, int] | None:
        cols, _ = self.layout_rects()
        for c, rects in enumerate(cols):
            for i, r in enumerate(rects):
                if r.contains(pos):
                    return c, i
        return None

    # ------------------------------------------------------------ events
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.tile_at(event.position())
        if hit != self.hover:
            self.hover = hit
            self.update()

    def leaveEvent(self, event) -> None:
        if self.hover is not None:
            self.hover = None
            self.update()

    def resizeEvent(self, event) -> None:
        self._static = None
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        began = (time.perf_counter(), time.thread_time()) if self._pending is not None else None
        if began is not None:
            self._apply(self._pending)
        self._paint()
        if began is not None:
            self.update_seconds.append((time.perf_counter() - began[0], time.thread_time() - began[1]))

    def _paint(self) -> None:
        p = QPainter(self)
        pal = self.palette()
        if self.units is None:
            p.setPen(pal.color(pal.ColorRole.PlaceholderText))
            p.drawText(self.rect().adjusted(20, 20, -20, -20),
                       int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter),
                       "Train a network on a 2-D data set (spiral, circle, xor, moons, gaussians): each unit's "
                       "output over the plane appears here while it learns.")
            return
        ratio = self.devicePixelRatioF()
        size = QSize(int(self.width() * ratio), int(self.height() * ratio))
        if self._lines_stale and self._static is not None:  # the weights' lines, at most every LINES_MS
            wait = LINES_MS - self._lines_clock.elapsed()
            if wait <= 0:
                self._static = None
            elif not self._lines_timer.isActive():
                self._lines_timer.start(int(wait) + 1)
        if self._static is None or self._static.size() != size:
            self._static = QPixmap(size)
            self._static.setDevicePixelRatio(ratio)
            self._static.fill(Qt.GlobalColor.transparent)
            painter = QPainter(self._static)
            self._paint_static(painter)
            painter.end()
            self.frames += 1
            self._lines, self._lines_stale = self._line_levels(), False
            self._lines_clock.start()
        p.drawPixmap(0, 0, self._static)
        # the heatmaps: images kept from snapshot to snapshot, scaled without smoothing (RGB32: no conversion)
        cols, out = self.layout_rects()
        for rects, images in zip(cols, self.images):
            for r, img in zip(rects, images):
                p.drawImage(r, img)
        p.setPen(QPen(QColor(0, 0, 0, 90), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRects([r for rects in cols for r in rects])
        if self.output_image is not None:
            p.drawImage(out, self.output_image)
            self._draw_points(p, out)
            p.setPen(QPen(QColor(0, 0, 0, 120), 1))
            p.drawRects([out])
        if self.hover is not None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._draw_large(p, cols)

    def _paint_static(self, p: QPainter) -> None:
        """Connections, titles and feature names (the heatmaps and the output are drawn over them)."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        cols, out = self.layout_rects()
        self._draw_connections(p, cols, out)
        p.setFont(self._small)
        fm = QFontMetricsF(self._small)
        titles = self.column_titles()
        room = (cols[1][0].left() - cols[0][0].left() - 6) if len(cols) > 1 else 120.0  # a column's width
        for c, rects in enumerate(cols):
            title, note = titles[c]
            x = rects[0].center().x()
            box = QRectF(x - room / 2, 2, room, fm.height())
            p.setPen(pal.color(pal.ColorRole.WindowText))
            p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), fm.elidedText(title, Qt.TextElideMode.ElideRight, room))
            p.setPen(pal.color(pal.ColorRole.PlaceholderText))
            p.drawText(box.translated(0, fm.height()), int(Qt.AlignmentFlag.AlignCenter),
                       fm.elidedText(note, Qt.TextElideMode.ElideRight, room))
            if c == 0:
                p.setPen(pal.color(pal.ColorRole.WindowText))
                for i, r in enumerate(rects):
                    p.drawText(QRectF(0, r.top(), r.left() - 4, r.height()),
                               int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), self._feature(i))
        p.setPen(pal.color(pal.ColorRole.WindowText))
        p.drawText(QRectF(out.left(), out.top() - fm.height() - 2, out.width(), fm.height()),
                   int(Qt.AlignmentFlag.AlignCenter),
                   "Output: predicted class" + (" (discretized)" if self.discretize else ""))

    def _feature(self, i: int) -> str:
        names = self.units.get("features") or list(PLAIN)
        return LABELS.get(names[i], names[i]) if i < len(names) else ""

    def _draw_connections(self, p: QPainter, cols: list[list[QRectF]], out: QRectF) -> None:
        columns = self.units["columns"]
        for c, col in enumerate(columns):
            weights = col.get("weights")
            if weights is None or c >= len(cols):
                continue
            src = cols[c]
            last = c == len(columns) - 1
            if last:  # into the output: one anchor per output on its left edge
                k = weights.shape[1]
                dst = [QPointF(out.left(), out.top() + out.height() * (j + 1) / (k + 1)) for j in range(k)]
            else:
                if c + 1 >= len(cols):
                    continue
                dst = [QPointF(r.left(), r.center().y()) for r in cols[c + 1]]
            big = float(np.abs(weights).max()) or 1.0
            # lines grouped by sign and size: a few pens, one drawLines each
            groups: dict[tuple[bool, int], list[QLineF]] = {}
            for i in range(min(weights.shape[0], len(src))):
                a = QPointF(src[i].right(), src[i].center().y())
                for j in range(min(weights.shape[1], len(dst))):
                    w = float(weights[i, j])
                    level = min(int(abs(w) / big * LEVELS), LEVELS - 1)
                    groups.setdefault((w > 0, level), []).append(QLineF(a, dst[j]))
            back = np.array(self.palette().color(self.palette().ColorRole.Window).getRgb()[:3], dtype=np.float32)
            for (positive, level), lines in sorted(groups.items(), key=lambda g: g[0][1]):
                size = (level + 0.5) / LEVELS
                # opaque colours, paler for small weights: blending hundreds of translucent lines is slow
                rgb = back + ((POSITIVE if positive else NEGATIVE) - back) * (0.25 + 0.75 * size)
                p.setPen(QPen(QColor(int(rgb[0]), int(rgb[1]), int(rgb[2])), 0.5 + 3.0 * size))
                p.drawLines(lines)

    def _to_plane(self, rect: QRectF, pts: np.ndarray) -> np.ndarray:
        x0, x1, y0, y1 = self.units["bounds"]
        px = rect.left() + (pts[:, 0] - x0) / (x1 - x0) * rect.width()
        py = rect.bottom() - (pts[:, 1] - y0) / (y1 - y0) * rect.height()
        return np.stack([px, py], axis=1)

    def _draw_points(self, p: QPainter, rect: QRectF, radius: float = 2.6) -> None:
        """The data points over ``rect``, from an image drawn once per size (they do not move in a run)."""
        if self.data is None:
            return
        key = (round(rect.width()), round(rect.height()), self.show_test, radius, tuple(self.units["bounds"]))
        image = self._points.get(key)
        if image is None:
            ratio = self.devicePixelRatioF()
            image = QImage(int(key[0] * ratio) + 1, int(key[1] * ratio) + 1, QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(ratio)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._paint_points(painter, QRectF(0, 0, rect.width(), rect.height()), radius)
            painter.end()
            self._points[key] = image
        p.drawImage(rect.topLeft(), image)

    def _paint_points(self, p: QPainter, rect: QRectF, radius: float) -> None:
        data = self.data
        sets = [(data.points("train"), data.y_train, False)]
        if self.show_test and len(data.x_val):
            sets.append((data.points("val"), data.y_val, True))
        p.save()
        p.setClipRect(rect)
        for pts, labels, test in sets:
            xy = self._to_plane(rect, pts)
            for k in np.unique(labels):
                color = class_color(int(k))
                p.setBrush(color)
                p.setPen(QPen(QColor(20, 20, 20) if test else QColor(255, 255, 255), 1.0))
                for x, y in xy[labels == k]:
                    if test:  # test points: triangles with a dark edge
                        p.drawPolygon(QPolygonF([QPointF(x, y - radius * 1.3), QPointF(x - radius * 1.2, y + radius),
                                                 QPointF(x + radius * 1.2, y + radius)]))
                    else:
                        p.drawEllipse(QPointF(x, y), radius, radius)
        p.restore()

    def hover_text(self) -> str:
        """What the large view says about the unit under the mouse."""
        if self.hover is None or self.units is None:
            return ""
        c, i = self.hover
        if c == 0:
            maps, what = self.units["inputs"], f"input feature {self._feature(i)}"
        else:
            col = self.units["columns"][c - 1]
            maps, what = col["maps"], f"{col['output']} unit {i + 1}"
        m = maps[:, :, i]
        return f"{what}: from {float(m.min()):.3g} to {float(m.max()):.3g}"

    def _draw_large(self, p: QPainter, cols: list[list[QRectF]]) -> None:
        c, i = self.hover
        if c >= len(cols) or i >= len(cols[c]):
            return
        tile = cols[c][i]
        x = tile.right() + 10 if tile.right() + 10 + LARGE < self.width() else tile.left() - 10 - LARGE
        x = min(max(x, 4.0), self.width() - LARGE - 4)  # wholly inside the view, even a narrow one
        y = min(max(tile.top() - LARGE / 2, 4.0), self.height() - LARGE - 24)
        big = QRectF(x, y, LARGE, LARGE)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 60))
        p.drawRect(big.adjusted(-3, -3, 3, 23))
        p.drawImage(big, self.images[c][i])
        self._draw_points(p, big, 2.2)
        p.setBrush(self.palette().color(self.palette().ColorRole.Window))
        p.setPen(Qt.PenStyle.NoPen)
        label = QRectF(big.left(), big.bottom(), big.width(), 20)
        p.drawRect(label)
        p.setPen(self.palette().color(self.palette().ColorRole.WindowText))
        p.setFont(self._small)
        p.drawText(label, int(Qt.AlignmentFlag.AlignCenter), self.hover_text())


class NeuronView(QWidget):
    """The canvas under a line of explanation and the output's two toggles."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = NeuronCanvas(self)
        self.caption = QLabel("<b>Inside the network</b>: each unit's output over the input plane "
                              "(hover here for the formula; hover a square to see it large)", self)
        self.caption.setWordWrap(True)
        self.caption.setToolTip(EXPLAIN)
        self.test_box = QCheckBox("Show test points", self)
        self.test_box.setToolTip("Draw the validation points (triangles with a dark edge) over the output and the "
                                 "large view; the training points are circles")
        self.test_box.toggled.connect(self.canvas.set_show_test)
        self.discrete_box = QCheckBox("Discretize output", self)
        self.discrete_box.setToolTip("Colour each point of the output by its most probable class only "
                                     "(argmax), instead of mixing the classes' colours by probability")
        self.discrete_box.toggled.connect(self.canvas.set_discretize)
        toggles = QHBoxLayout()
        toggles.addWidget(self.test_box)
        toggles.addWidget(self.discrete_box)
        toggles.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.caption)
        lay.addLayout(toggles)
        lay.addWidget(self.canvas, 1)

    def set_data(self, data: Any) -> None:
        """A new run's data set: its points, and a note when it is not a set of 2-D points."""
        self.canvas.set_data(data if getattr(data, "plane", False) and data.kind == "classification" else None)

    def set_units(self, units: dict[str, Any]) -> None:
        self.canvas.set_units(units)
