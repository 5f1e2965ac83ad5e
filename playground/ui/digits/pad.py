"""The drawing pad: round, anti-aliased, smoothed strokes painted on a QImage.

Strokes are kept as point lists in the pad's own square coordinates
(``SIDE`` x ``SIDE``), so they can be undone and re-rendered at any widget
size. Two images are painted with the same strokes: ``canvas`` (grayscale,
``SIDE`` x ``SIDE``), which is what the network reads, and the on-screen view
at the widget's device pixels, so the screen stays sharp when the pad grows.

A stroke is smoothed with quadratic Bézier curves through the midpoints of
successive mouse positions (each position is the control point), painted
piece by piece while the mouse moves. Pen tablets work through the mouse
events Qt synthesizes from tablet events.

Every mouse event is a point: while a stroke is drawn, Qt's merging of
mouse moves that pile up (``AA_CompressHighFrequencyEvents``) is switched
off, so a busy moment loses no part of the stroke; it is restored when the
button is released.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

_COMPRESS = Qt.ApplicationAttribute.AA_CompressHighFrequencyEvents

#: side of the canvas the network reads, in pad units (strokes are stored in these units)
SIDE = 320
MIN_SIDE = 280


@dataclass
class Stroke:
    width: float
    ink: int  # 0..255 gray level of the ink when it was drawn
    points: list[QPointF] = field(default_factory=list)


@dataclass
class PastedImage:
    """A loaded image, letterboxed into the square canvas (uint8 SIDE x SIDE)."""

    pixels: np.ndarray


def _mid(a: QPointF, b: QPointF) -> QPointF:
    return QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)


def stroke_path(points: list[QPointF]) -> QPainterPath:
    """The whole smoothed stroke: a line to the first midpoint, quadratic pieces, a line to the end."""
    path = QPainterPath(points[0])
    if len(points) == 1:
        path.lineTo(points[0])
        return path
    path.lineTo(_mid(points[0], points[1]))
    for i in range(1, len(points) - 1):
        path.quadTo(points[i], _mid(points[i], points[i + 1]))
    path.lineTo(points[-1])
    return path


def gray_image(pixels: np.ndarray) -> QImage:
    """A QImage (Grayscale8) copy of a 2-D uint8 array."""
    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def letterbox(gray: np.ndarray, side: int = SIDE) -> np.ndarray:
    """A float [0, 1] image scaled to fit a ``side`` square, the rest filled with its border's median."""
    from PIL import Image

    h, w = gray.shape
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    fill = float(np.median(border))
    scale = side / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    img = Image.fromarray(np.asarray(gray, np.float32)).resize((nw, nh), Image.Resampling.BILINEAR)
    out = np.full((side, side), fill, np.float32)
    y, x = (side - nh) // 2, (side - nw) // 2
    out[y:y + nh, x:x + nw] = np.asarray(img)
    return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)


class DrawingPad(QWidget):
    """A square pad to draw one digit on with the mouse or a pen.

    ``changed`` is emitted whenever the ink changes (while drawing, on undo,
    clear, load); ``stroke_finished`` when the button is released.
    """

    changed = Signal()
    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(MIN_SIDE, MIN_SIDE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._items: list[Stroke | PastedImage] = []
        self._current: Stroke | None = None
        self._compressing: bool | None = None  # the app's setting while a stroke keeps every mouse event
        self._width = 18.0
        self._dark_on_light = True
        self._bbox: QRectF | None = None
        self._canvas = QImage(SIDE, SIDE, QImage.Format.Format_Grayscale8)
        self._view = QImage()
        self._render_all()
        self.setToolTip("Draw one digit: any size, anywhere on the pad.\n"
                        "Esc clears, Ctrl+Z undoes the last stroke.")

    # ------------------------------------------------------------ settings
    def brush_width(self) -> float:
        return self._width

    def set_brush_width(self, width: float) -> None:
        """Width of new strokes, in pad units (the pad is 320 units wide)."""
        self._width = float(max(1.0, min(width, SIDE / 4)))

    def dark_on_light(self) -> bool:
        return self._dark_on_light

    def set_dark_on_light(self, on: bool) -> None:
        """Dark ink on light paper (True) or light ink on dark paper; recolours every stroke."""
        if bool(on) == self._dark_on_light:
            return
        self._dark_on_light = bool(on)
        for item in self._items:
            if isinstance(item, Stroke):
                item.ink = self._ink()
        self._render_all()
        self.changed.emit()

    def _ink(self) -> int:
        return 0 if self._dark_on_light else 255

    def _paper(self) -> int:
        return 255 if self._dark_on_light else 0

    # ------------------------------------------------------------ content
    def is_empty(self) -> bool:
        return not self._items and self._current is None

    def is_drawing(self) -> bool:
        """A stroke is being drawn (the button is held)."""
        return self._current is not None

    def stroke_count(self) -> int:
        return sum(isinstance(i, Stroke) for i in self._items) + (self._current is not None)

    def clear(self) -> None:
        self._items.clear()
        self._current = None
        self._keep_every_event(False)
        self._render_all()
        self.changed.emit()

    def undo(self) -> bool:
        """Remove the last stroke (or loaded image); False when there is nothing to undo."""
        if self._current is not None:
            self._current = None
            self._keep_every_event(False)
        elif self._items:
            self._items.pop()
        else:
            return False
        self._render_all()
        self.changed.emit()
        return True

    def set_image(self, gray: np.ndarray) -> None:
        """Put a loaded image (2-D float in [0, 1]) on the pad, letterboxed, under any later strokes."""
        self._current = None
        self._items.append(PastedImage(letterbox(np.asarray(gray, np.float32))))
        self._render_all()
        self.changed.emit()

    def canvas_array(self) -> np.ndarray:
        """The canvas the network reads: a uint8 SIDE x SIDE copy."""
        img = self._canvas
        bpl = img.bytesPerLine()
        buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * SIDE)
        return buf.reshape(SIDE, bpl)[:, :SIDE].copy()

    def set_bbox(self, bbox: tuple[int, int, int, int] | None) -> None:
        """Show the ink's bounding box ``(top, left, bottom, right)`` in canvas pixels (None hides it)."""
        rect = None if bbox is None else QRectF(bbox[1], bbox[0], bbox[3] - bbox[1], bbox[2] - bbox[0])
        if rect != self._bbox:
            self._bbox = rect
            self.update()

    # ------------------------------------------------------------ geometry
    def _square(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, 0, side, side)  # top-aligned: the tools sit above

    def to_pad(self, pos: QPointF) -> QPointF:
        """Widget position → pad units."""
        sq = self._square()
        k = SIDE / sq.width()
        return QPointF((pos.x() - sq.x()) * k, (pos.y() - sq.y()) * k)

    def from_pad(self, p: QPointF) -> QPointF:
        """Pad units → widget position."""
        sq = self._square()
        k = sq.width() / SIDE
        return QPointF(sq.x() + p.x() * k, sq.y() + p.y() * k)

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    # ------------------------------------------------------------ painting
    def _painters(self):
        """Painters on the canvas and on the view, both in pad units."""
        out = []
        for img, scale in ((self._canvas, 1.0), (self._view, self._view_scale())):
            if img.isNull():
                continue
            p = QPainter(img)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.scale(scale, scale)
            out.append(p)
        return out

    def _view_scale(self) -> float:
        return self._view.width() / SIDE if not self._view.isNull() else 1.0

    @staticmethod
    def _pen(stroke: Stroke) -> QPen:
        pen = QPen(QColor(stroke.ink, stroke.ink, stroke.ink), stroke.width, Qt.PenStyle.SolidLine,
                   Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        return pen

    def _render_all(self) -> None:
        sq = self._square()
        dpr = self.devicePixelRatioF()
        side = max(1, round(sq.width() * dpr))
        if self._view.width() != side:
            self._view = QImage(side, side, QImage.Format.Format_RGB32)
        paper = QColor(self._paper(), self._paper(), self._paper())
        self._canvas.fill(paper)
        self._view.fill(paper)
        items = list(self._items) + ([self._current] if self._current is not None else [])
        painters = self._painters()
        for p in painters:
            for item in items:
                if isinstance(item, PastedImage):
                    p.drawImage(QRectF(0, 0, SIDE, SIDE), gray_image(item.pixels))
                else:
                    p.setPen(self._pen(item))
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawPath(stroke_path(item.points))
            p.end()
        self.update()

    def _paint_piece(self, path: QPainterPath, stroke: Stroke) -> None:
        pen = self._pen(stroke)
        for p in self._painters():
            p.setPen(pen)
            p.drawPath(path)
            p.end()
        r = path.boundingRect().adjusted(-stroke.width, -stroke.width, stroke.width, stroke.width)
        tl, br = self.from_pad(r.topLeft()), self.from_pad(r.bottomRight())
        self.update(QRectF(tl, br).toAlignedRect().adjusted(-2, -2, 2, 2))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        sq = self._square()
        p.drawImage(sq, self._view)
        frame = self.palette().mid().color()
        p.setPen(QPen(frame, 1))
        p.drawRect(sq.adjusted(0, 0, -1, -1))
        if self._bbox is not None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            pen = QPen(QColor(230, 60, 60, 220), 1.5, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawRect(QRectF(self.from_pad(self._bbox.topLeft()), self.from_pad(self._bbox.bottomRight())))
        if self.is_empty():
            p.setPen(self.palette().placeholderText().color())
            p.drawText(sq, Qt.AlignmentFlag.AlignCenter, "draw a digit here")
        p.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._render_all()
        super().resizeEvent(event)

    # ------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        pt = self.to_pad(event.position())
        self._keep_every_event(True)
        self._current = Stroke(self._width, self._ink(), [pt])
        path = QPainterPath(pt)
        path.lineTo(pt)
        self._paint_piece(path, self._current)
        self.changed.emit()

    def _keep_every_event(self, on: bool) -> None:
        """While drawing, Qt delivers every mouse move instead of merging those that wait (restored after)."""
        if on and self._compressing is None:
            self._compressing = QApplication.testAttribute(_COMPRESS)
            QApplication.setAttribute(_COMPRESS, False)
        elif not on and self._compressing is not None:
            QApplication.setAttribute(_COMPRESS, self._compressing)
            self._compressing = None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        s = self._current
        if s is None or not (event.buttons() & Qt.MouseButton.LeftButton):
            return
        pt = self.to_pad(event.position())
        last = s.points[-1]
        if abs(pt.x() - last.x()) + abs(pt.y() - last.y()) < 0.5:
            return
        s.points.append(pt)
        pts = s.points
        if len(pts) == 2:
            path = QPainterPath(pts[0])
            path.lineTo(_mid(pts[0], pts[1]))
        else:
            path = QPainterPath(_mid(pts[-3], pts[-2]))
            path.quadTo(pts[-2], _mid(pts[-2], pts[-1]))
        self._paint_piece(path, s)
        self.changed.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        s = self._current
        if s is None or event.button() != Qt.MouseButton.LeftButton:
            return
        pt = self.to_pad(event.position())
        if abs(pt.x() - s.points[-1].x()) + abs(pt.y() - s.points[-1].y()) >= 0.5:
            s.points.append(pt)
        self._items.append(s)
        self._current = None
        self._keep_every_event(False)
        # repaint from the stored strokes, so the canvas is exactly what undo and redraws give
        self._render_all()
        self.changed.emit()
        self.stroke_finished.emit()
