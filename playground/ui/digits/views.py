"""Small painted views: ten probability bars, and images shown at pixel scale with overlays."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from playground.engine.data import digit_judge as J
from playground.engine.data.digit_judge import Judgement


# ---------------------------------------------------------------- arrays → images

def gray_to_qimage(a: np.ndarray) -> QImage:
    """A float image in [0, 1] (or uint8) as a Grayscale8 QImage (a copy)."""
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)
    a = np.ascontiguousarray(a)
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """An H x W x 3 uint8 array as an RGB888 QImage (a copy)."""
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = a.shape
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _inferno_lut() -> np.ndarray:
    # A few stops of matplotlib's "inferno", interpolated to 256 entries.
    stops = np.array([[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66],
                      [245, 125, 21], [250, 193, 39], [252, 255, 164]], np.float64)
    t = np.linspace(0, 1, len(stops))
    u = np.linspace(0, 1, 256)
    return np.stack([np.interp(u, t, stops[:, c]) for c in range(3)], axis=1).astype(np.uint8)


INFERNO = _inferno_lut()


def saliency_overlay(image: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """RGB (28, 28, 3): the input dimmed to gray, red where ∂score/∂pixel > 0, blue where < 0.

    The colour's strength is |gradient| / max |gradient|.
    """
    base = 40 + 110 * np.clip(image, 0, 1)
    rgb = np.repeat(base[..., None], 3, axis=2)
    top = float(np.abs(grad).max())
    if top > 0:
        a = (np.abs(grad) / top)[..., None]
        colour = np.where(grad[..., None] >= 0, np.array([255.0, 70, 40]), np.array([50.0, 140, 255]))
        rgb = rgb * (1 - a) + colour * a
    return np.clip(rgb, 0, 255).astype(np.uint8)


def feature_map_grid(maps: np.ndarray, columns: int | None = None, gap: int = 1) -> np.ndarray:
    """RGB mosaic of (C, H, W) maps with the inferno colours, all on one scale (0 … max)."""
    c, h, w = maps.shape
    cols = columns or int(np.ceil(np.sqrt(c)))
    rows = int(np.ceil(c / cols))
    top = float(maps.max())
    low = min(float(maps.min()), 0.0)
    scaled = (maps - low) / (top - low) if top > low else np.zeros_like(maps)
    idx = np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, 3), 90, np.uint8)
    for i in range(c):
        r, k = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = INFERNO[idx[i]]
    return out


# ---------------------------------------------------------------- the verdict

VERDICT_TIP = (f"Sure only when the drawing looks like the MNIST digits the network reads right: ink under "
               f"{J.MAX_INK:.0%} of the 28×28 input (a stroke, not a blob), at most {J.MAX_ASPECT:g}× wider than "
               f"tall, at most {J.MAX_HOLES} closed loops (and at least one for an 8), and the network decided: top probability "
               f"p ≥ {J.MIN_P:.0%}, lead over the second ≥ {J.MIN_MARGIN * 100:.0f} points, entropy "
               f"H = −Σ p_k log₂ p_k ≤ {J.MAX_ENTROPY:g} bits.\nCalibrated on MNIST test digits and on drawn "
               "dots, scribbles, crosses, filled squares, crossed circles and lines (engine/data/digit_judge.py).")


def verdict_html(j: Judgement | None, has_net: bool) -> str:
    """The line above the bars: what the pad reads and how sure, or why it is not."""
    if not has_net:
        return "No network to read with"
    if j is None:
        return "Draw a digit…"
    if j.sure:
        return (f"It reads <b>{j.digit}</b> &nbsp;<span style='font-size:small'>({j.p:.1%} sure; "
                f"next: {j.second} at {j.p_second:.1%})</span>")
    head = "Not sure: maybe" if j.shape_ok else "Not a digit? Maybe"
    return (f"{head} <b>{j.digit}</b> ({j.p:.0%}), or <b>{j.second}</b> ({j.p_second:.0%})"
            f"<br><span style='font-size:small'>{j.reason}</span>")


# ---------------------------------------------------------------- probability bars

#: the winner's bar when the reading is not sure (amber: a caution, not an answer)
UNSURE = QColor(217, 119, 6)


class ProbabilityBars(QWidget):
    """Ten vertical bars, one per digit: the winner highlighted (amber when not sure), the second outlined."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._p = np.zeros(10)
        self._valid = False
        self._sure = True
        self._second: int | None = None
        self.setMinimumSize(300, 170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setToolTip("The network's output: softmax probabilities\n"
                        "p_k = exp(s_k) / Σ_j exp(s_j) for the scores s_0 … s_9.\n"
                        "The highlighted bar is the winner, argmax_k p_k (amber when the pad is not sure of it);\n"
                        "the outlined one is the second guess.")

    def probabilities(self) -> np.ndarray | None:
        return self._p.copy() if self._valid else None

    def is_sure(self) -> bool:
        return self._sure

    def second(self) -> int | None:
        """The outlined second guess, or None."""
        return self._second if self._valid else None

    def set_probabilities(self, p: np.ndarray | None, sure: bool = True, second: int | None = None) -> None:
        """Show ``p`` (10,) or nothing (None); ``sure``: the winner's colour; ``second``: the bar to outline."""
        self._sure, self._second = bool(sure), second
        if p is None:
            self._valid = False
            self._p = np.zeros(10)
        else:
            self._valid = True
            self._p = np.asarray(p, np.float64).reshape(10)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(420, 200)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.windowText().color()
        muted = pal.placeholderText().color()
        accent = pal.highlight().color()
        idle = QColor(muted)
        idle.setAlpha(150)
        w, h = self.width(), self.height()
        label_h, value_h = 24, 18
        top, bottom = value_h + 4, h - label_h
        slot = w / 10
        bar_w = slot * 0.62
        winner = int(np.argmax(self._p)) if self._valid else -1
        # base line
        p.setPen(QPen(muted, 1))
        p.drawLine(QPointF(0, bottom + 0.5), QPointF(w, bottom + 0.5))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
        big = QFont(self.font())
        big.setPointSizeF(self.font().pointSizeF() * 1.35)
        for k in range(10):
            x = k * slot + (slot - bar_w) / 2
            v = float(self._p[k])
            bh = (bottom - top) * v
            lead = accent if self._sure else UNSURE
            colour = lead if k == winner else idle
            if bh > 0:
                p.fillRect(QRectF(x, bottom - bh, bar_w, bh), colour)
            if self._valid and k == self._second:
                p.setPen(QPen(lead, 1.5, Qt.PenStyle.DashLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(QRectF(x - 2, bottom - max(bh, 2.0) - 2, bar_w + 4, max(bh, 2.0) + 2))
            if self._valid and v >= 0.005:
                p.setFont(small)
                p.setPen(text if k == winner else muted)
                p.drawText(QRectF(k * slot, bottom - bh - value_h, slot, value_h),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, f"{v:.0%}")
            big.setBold(k == winner)
            p.setFont(big)
            p.setPen(lead if k == winner else text)
            p.drawText(QRectF(k * slot, bottom, slot, label_h), Qt.AlignmentFlag.AlignCenter, str(k))
        if not self._valid:
            p.setPen(muted)
            p.setFont(self.font())
            p.drawText(QRectF(0, top, w, bottom - top), Qt.AlignmentFlag.AlignCenter,
                       "no ink yet: draw a digit")
        p.end()


# ---------------------------------------------------------------- pixel views

class PixelView(QWidget):
    """An image scaled to fit, square pixels kept sharp, with overlays in image coordinates.

    Overlays: ``("rect", x, y, w, h, colour)``, ``("cross", x, y, colour)``,
    ``("arrow", x0, y0, x1, y1, colour)``; coordinates are image pixels with
    (0, 0) the top-left corner of the top-left pixel.
    """

    def __init__(self, parent: QWidget | None = None, minimum: int = 96, grid: bool = False,
                 smooth: bool = False, bottom: bool = True):
        super().__init__(parent)
        self._bottom = bottom  # sit on the bottom edge, so a caption below stays close
        self._image = QImage()
        self._overlays: list[tuple] = []
        self._grid = grid
        self._smooth = smooth
        self._text = ""
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage, overlays: list[tuple] | None = None) -> None:
        if image.size() != self._image.size():  # another shape: the height for its width changes
            self.updateGeometry()
        self._image = image
        self._overlays = list(overlays or [])
        self._text = ""
        self.update()

    def set_text(self, text: str) -> None:
        """Show a message instead of an image."""
        self._image = QImage()
        self._overlays = []
        self._text = text
        self.update()

    def image(self) -> QImage:
        return self._image

    def heightForWidth(self, w: int) -> int:
        """The image's height at this width, but never more than the width: a tall image (the fitted box
        of a "1") is drawn narrower in a square instead of pushing everything below it down."""
        if self._image.isNull():
            return w
        return min(w, round(w * self._image.height() / self._image.width()))

    def hasHeightForWidth(self) -> bool:
        return True

    def _target(self) -> QRectF:
        iw, ih = self._image.width(), self._image.height()
        k = min(self.width() / iw, self.height() / ih)
        if not self._smooth and k >= 4:
            k = float(int(k))  # whole screen pixels per image pixel, when that costs little room
        y = self.height() - ih * k if self._bottom else (self.height() - ih * k) / 2
        return QRectF((self.width() - iw * k) / 2, y, iw * k, ih * k)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        pal = self.palette()
        if self._image.isNull():
            p.setPen(pal.placeholderText().color())
            p.drawText(self.rect().adjusted(4, 4, -4, -4),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._text)
            p.end()
            return
        t = self._target()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
        p.drawImage(t, self._image)
        iw, ih = self._image.width(), self._image.height()
        k = t.width() / iw
        if self._grid and k >= 6:
            c = QColor(128, 128, 128, 45)
            p.setPen(QPen(c, 1))
            for i in range(1, iw):
                x = t.x() + i * k
                p.drawLine(QPointF(x, t.top()), QPointF(x, t.bottom()))
            for j in range(1, ih):
                y = t.y() + j * k
                p.drawLine(QPointF(t.left(), y), QPointF(t.right(), y))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)

        def at(x: float, y: float) -> QPointF:
            return QPointF(t.x() + x * k, t.y() + y * k)

        for ov in self._overlays:
            kind, colour = ov[0], QColor(ov[-1])
            if kind == "rect":
                _, x, y, w, h, _c = ov
                p.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(QRectF(at(x, y), at(x + w, y + h)))
            elif kind == "cross":
                _, x, y, _c = ov
                c = at(x, y)
                r = max(4.0, k * 0.9)
                p.setPen(QPen(colour, 2))
                p.drawLine(c + QPointF(-r, 0), c + QPointF(r, 0))
                p.drawLine(c + QPointF(0, -r), c + QPointF(0, r))
            elif kind == "arrow":
                _, x0, y0, x1, y1, _c = ov
                a, b = at(x0, y0), at(x1, y1)
                p.setPen(QPen(colour, 2))
                p.drawLine(a, b)
                d = b - a
                n = (d.x() ** 2 + d.y() ** 2) ** 0.5
                if n > 3:
                    u = QPointF(d.x() / n, d.y() / n)
                    v = QPointF(-u.y(), u.x())
                    s = min(8.0, n / 2)
                    p.setBrush(colour)
                    p.drawPolygon(QPolygonF([b, b - u * s + v * (s / 2), b - u * s - v * (s / 2)]))
        p.end()
