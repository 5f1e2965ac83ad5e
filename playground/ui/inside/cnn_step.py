"""The CNN explainer's detail view: a kernel sliding over its input, or pooling windows, with the numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from playground.engine.nn.explain import conv_step, pool_step
from playground.ui.layout import scrolling

STEP_MS = 350  # one output position per tick while playing
NUMBER_CELL = 46.0
IMAGE_SIDE = 180.0  # the input and output channels' images
GRIDS_LEFT = 10 + 2 * IMAGE_SIDE + 100  # where the number grids start, right of the two images


def gray_image(a: np.ndarray) -> QImage:
    """A 2-D array as a grey image, black at its minimum and white at its maximum."""
    a = np.nan_to_num(np.asarray(a, dtype=np.float64))
    lo, hi = float(a.min()), float(a.max())
    g = np.zeros_like(a) if hi <= lo else (a - lo) / (hi - lo)
    u8 = np.ascontiguousarray((g * 255).round().astype(np.uint8))
    h, w = u8.shape
    return QImage(u8.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


#: the title over a convolution's kernel grid
KERNEL_TITLE = "kernel (same channel)"

class StepCanvas(QWidget):
    """Paints the input channel with the window, the output channel with its position, and the number grids."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.row: dict[str, Any] | None = None
        self.channel = 0
        self.in_channel = 0
        self.pos = (0, 0)
        self.step: dict[str, Any] | None = None
        self._mono = QFont("monospace")
        self._mono.setStyleHint(QFont.StyleHint.Monospace)
        self._mono.setPointSizeF(self._mono.pointSizeF() * 0.8)

    def show_step(self, row: dict[str, Any], channel: int, in_channel: int, pos: tuple[int, int]) -> None:
        self.row, self.channel, self.in_channel, self.pos = row, channel, in_channel, pos
        layer, x = row["layer"], row["input"]
        if row["type"] == "Conv2D":
            self.step = conv_step(layer, x, channel, *pos)
        else:
            self.step = pool_step(layer, x, channel, *pos)
        self.setMinimumSize(self.needed_size())
        self.update()

    def _kernel(self) -> tuple[int, int]:
        layer = self.row["layer"]
        return (layer.kh, layer.kw) if self.row["type"] == "Conv2D" else (layer.pool, layer.pool)

    def _lines(self) -> list[str]:
        """The arithmetic written under the number grids."""
        s, layer = self.step, self.row["layer"]
        if self.row["type"] == "Conv2D":
            part = float(np.sum(s["window"][self.in_channel] * s["kernel"][self.in_channel]))
            return [f"this channel: Σ window ⊙ kernel = {part:.4f}",
                    f"all {s['window'].shape[0]} input channels: dot = {s['dot']:.4f}",
                    f"+ bias b = {s['bias']:.4f}",
                    f"z = dot + b = {s['z']:.4f}",
                    f"ReLU(z) = max(z, 0) = {s['relu']:.4f}"]
        return [f"max of the window = {s['value']:.4f}" if s["at"] is not None
                else f"mean of the window = {s['value']:.4f}",
                f"stride {layer.stride}, padding {layer.pad}"
                + (" (padding is −∞: never chosen)" if layer.pad and s["at"] is not None else "")]

    def needed_size(self) -> QSize:
        """What the painting takes: the two images, the grids and the lines under them (its scroll area
        scrolls to the rest on a small screen)."""
        fm = QFontMetrics(self._mono)
        kh, kw = self._kernel()
        grid = kw * NUMBER_CELL
        conv = self.row["type"] == "Conv2D"
        grids = (max(grid, fm.horizontalAdvance(f"window, channel {self.in_channel + 1}")) + 30
                 + max(grid, fm.horizontalAdvance(KERNEL_TITLE)) if conv else grid)
        lines = self._lines()
        wide = max([grids] + [fm.horizontalAdvance(line) for line in lines])
        return QSize(int(GRIDS_LEFT + wide + 10), int(max(24 + IMAGE_SIDE, 40 + kh * NUMBER_CELL + 24
                                                          + (len(lines) - 1) * 20 + fm.descent() + 6)))

    def _padded_input(self) -> np.ndarray:
        layer, x = self.row["layer"], self.row["input"]
        c = self.in_channel if self.row["type"] == "Conv2D" else self.channel
        pad = layer.pad
        return np.pad(x[c], pad) if pad else x[c]

    def _grid(self, p: QPainter, origin: QPointF, values: np.ndarray, title: str,
              mark: tuple[int, int] | None = None) -> float:
        """Numbers in cells; returns the grid's width."""
        rows, cols = values.shape
        cell = NUMBER_CELL
        p.setPen(self.palette().color(self.palette().ColorRole.WindowText))
        p.drawText(QPointF(origin.x(), origin.y() - 6), title)
        big = float(np.abs(values[np.isfinite(values)]).max()) if np.isfinite(values).any() else 1.0
        for r in range(rows):
            for c in range(cols):
                v = float(values[r, c])
                rect = QRectF(origin.x() + c * cell, origin.y() + r * cell, cell, cell)
                share = 0.0 if not np.isfinite(v) or big == 0 else abs(v) / big
                base = QColor(8, 119, 189) if v > 0 else QColor(245, 147, 34)
                fill = QColor(base.red(), base.green(), base.blue(), int(30 + 140 * share))
                p.fillRect(rect, fill)
                chosen = (r, c) == mark
                p.setPen(QPen(QColor(20, 20, 20) if chosen else QColor(0, 0, 0, 60), 2.5 if chosen else 1))
                p.drawRect(rect)
                p.setPen(self.palette().color(self.palette().ColorRole.WindowText))
                p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), "−∞" if not np.isfinite(v) else f"{v:.2f}")
        return cols * cell

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.row is None or self.step is None:
            return
        p = QPainter(self)
        p.setFont(self._mono)
        s, layer = self.step, self.row["layer"]
        conv = self.row["type"] == "Conv2D"
        kh, kw = self._kernel()
        image = self._padded_input()
        side = IMAGE_SIDE
        scale = side / max(image.shape)
        inp = QRectF(10, 24, image.shape[1] * scale, image.shape[0] * scale)
        p.setPen(self.palette().color(self.palette().ColorRole.WindowText))
        what = f"input channel {self.in_channel + 1 if conv else self.channel + 1}"
        p.drawText(QPointF(inp.left(), 16), f"{what}" + (f" (+{layer.pad} padding)" if layer.pad else ""))
        p.drawImage(inp, gray_image(np.where(np.isfinite(image), image, 0)))
        window = QRectF(inp.left() + s["left"] * scale, inp.top() + s["top"] * scale, kw * scale, kh * scale)
        p.setPen(QPen(QColor(230, 40, 40), 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(window)
        out_map = self.row["output"][self.channel]
        oscale = side / max(out_map.shape)
        outr = QRectF(10 + side + 60, 24, out_map.shape[1] * oscale, out_map.shape[0] * oscale)
        p.setPen(self.palette().color(self.palette().ColorRole.WindowText))
        p.drawText(QPointF(outr.left(), 16), f"output channel {self.channel + 1} at {self.pos}")
        p.drawImage(outr, gray_image(out_map))
        i, j = self.pos
        p.setPen(QPen(QColor(230, 40, 40), 2))
        p.drawRect(QRectF(outr.left() + j * oscale, outr.top() + i * oscale, oscale, oscale))
        x = GRIDS_LEFT
        if conv:
            win = s["window"][self.in_channel]
            ker = s["kernel"][self.in_channel]
            title = f"window, channel {self.in_channel + 1}"
            w1 = max(self._grid(p, QPointF(x, 40), win, title), p.fontMetrics().horizontalAdvance(title))
            self._grid(p, QPointF(x + w1 + 30, 40), ker, KERNEL_TITLE)
        else:
            self._grid(p, QPointF(x, 40), s["window"], "window", mark=s["at"])
        lines = self._lines()
        y = 40 + kh * NUMBER_CELL + 24
        p.setPen(self.palette().color(self.palette().ColorRole.WindowText))
        for k, line in enumerate(lines):
            p.drawText(QPointF(x, y + k * 20), line)
        p.end()


class StepView(QWidget):
    """Play, pause and step the window over every output position of the chosen channel."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = StepCanvas(self)
        self.title = QLabel("Click a channel of a convolution or pooling layer above to see how it is computed.", self)
        self.title.setWordWrap(True)
        self.play = QPushButton("Play", self)
        self.play.setCheckable(True)
        self.play.setToolTip("Slide the window over every output position, one every "
                             f"{STEP_MS} ms (pause to read the numbers)")
        self.play.toggled.connect(self._playing)
        self.next = QPushButton("Step", self)
        self.next.setToolTip("Move the window to the next output position (row by row)")
        self.next.clicked.connect(self.advance)
        self.in_channel = QSpinBox(self)
        self.in_channel.setPrefix("input channel ")
        self.in_channel.setToolTip("Which input channel's window and kernel slice the grids show; the dot "
                                   "product sums over all of them")
        self.in_channel.valueChanged.connect(lambda _v: self._show())
        self.timer = QTimer(self)
        self.timer.setInterval(STEP_MS)
        self.timer.timeout.connect(self.advance)
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        row.addWidget(self.in_channel)
        row.addWidget(self.play)
        row.addWidget(self.next)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        self.scroll = scrolling(self.canvas)
        lay.addWidget(self.scroll, 1)
        self.row: dict[str, Any] | None = None
        self.channel = 0
        self.pos = (0, 0)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for w in (self.play, self.next, self.in_channel):
            w.setEnabled(on)

    def explain(self, row: dict[str, Any], channel: int) -> None:
        """Show output channel ``channel`` of ``row`` (a :func:`~playground.engine.nn.explain.trace` row)."""
        self.row, self.channel, self.pos = row, channel, (0, 0)
        conv = row["type"] == "Conv2D"
        layer = row["layer"]
        shape = "×".join(map(str, row["output"].shape))
        if conv:
            self.title.setText(f"<b>{row['name']}</b>, channel {channel + 1}: a {layer.kh}×{layer.kw} kernel over "
                               f"{row['input'].shape[0]} input channels, stride {layer.stride}, padding {layer.pad} "
                               f"→ {shape}. z = Σ window ⊙ kernel + b")
        else:
            self.title.setText(f"<b>{row['name']}</b>, channel {channel + 1}: {layer.pool}×{layer.pool} windows, "
                               f"stride {layer.stride}, padding {layer.pad} → {shape}")
        self.in_channel.setRange(1, row["input"].shape[0])
        self.in_channel.setVisible(conv)
        self._enable(True)
        self._show()

    def clear(self, text: str) -> None:
        """Nothing explained (a new image or network): the text says what to do."""
        self.play.setChecked(False)
        self.row = self.canvas.row = self.canvas.step = None
        self.canvas.setMinimumSize(0, 0)
        self.title.setText(text)
        self._enable(False)
        self.canvas.update()

    def advance(self) -> None:
        if self.row is None:
            return
        _, oh, ow = self.row["output"].shape
        i, j = self.pos
        j += 1
        if j >= ow:
            i, j = (i + 1) % oh, 0
        self.pos = (i, j)
        self._show()

    def _playing(self, on: bool) -> None:
        self.play.setText("Pause" if on else "Play")
        (self.timer.start if on else self.timer.stop)()

    def _show(self) -> None:
        if self.row is not None:
            self.canvas.show_step(self.row, self.channel, self.in_channel.value() - 1, self.pos)
