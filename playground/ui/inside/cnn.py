"""The CNN explainer: one input through the network, every layer's channels side by side, a click explains one.

For one input, chosen from three sources (an MNIST test image, the digit
pad's drawing as the pad's network reads it, or a validation sample the
network trained in the app misclassified), every layer's output: each
channel of an image-shaped output as a small heatmap, in a column per
layer; vectors (dense layers, the softmax) as bars; each
column headed by its name and shape. Columns too many for the width wrap
into numbered rows joined by arrows, so the page scrolls down, not sideways. A click on a channel of a convolution or
pooling layer opens its arithmetic below (:class:`~.cnn_step.StepView`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSpinBox, QSplitter,
                               QVBoxLayout, QWidget)

from playground.engine.errors import PlaygroundError
from playground.engine.nn.explain import trace
from playground.engine.nn.network import Network, copy_network
from playground.ui.inside.cnn_step import StepView

COLUMN_GAP = 18.0
HEAD = 40.0
MARGIN = 10.0
#: wrapped rows: the left margin the arrow from the row above comes down in, the gap between rows
WRAPPED_MARGIN = 12.0
BAND_GAP = 22.0
#: lines of tiles a column has at most when the columns wrap (16 in one row)
WRAPPED_LINES = 8
#: the columns' least height when a click makes room for the detail below them
MIN_COLUMNS_HEIGHT = 150
#: layers that change nothing worth a column of their own (their shape is written on the next one)
SKIPPED = ("Dropout",)
#: where the explained input comes from: (key, what the chooser says)
SOURCES = (("test", "MNIST test image"), ("drawing", "your drawing (Draw a digit)"),
           ("wrong", "misclassified validation sample"))


def channel_images(output: np.ndarray) -> list[QImage]:
    """One grey image per channel of a (C, H, W) output, all on one scale, so channels compare."""
    lo, hi = float(output.min()), float(output.max())
    span = hi - lo if hi > lo else 1.0
    images = []
    for c in range(output.shape[0]):
        u8 = np.ascontiguousarray(((output[c] - lo) / span * 255).round().clip(0, 255).astype(np.uint8))
        h, w = u8.shape
        images.append(QImage(u8.data, w, h, w, QImage.Format.Format_Grayscale8).copy())
    return images


class LayerColumns(QWidget):
    """The painted columns; ``channel_clicked(row index, channel)`` for a convolution or pooling channel.

    The columns stand in one row when the width holds them; otherwise they
    wrap into rows read top to bottom, each column more compact (at most
    :data:`WRAPPED_LINES` lines of tiles, shorter bars), numbered, with
    arrows from one to the next and from the end of a row to the start of the
    next. The height follows the width, so a scroll area scrolls down, never
    sideways.
    """

    channel_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[dict[str, Any]] = []
        self.images: list[list[QImage] | None] = []
        self.selected: tuple[int, int] | None = None
        self.class_names: tuple[str, ...] = ()
        self._small = QFont()
        self._small.setPointSizeF(self._small.pointSizeF() * 0.85)
        self._placed: tuple[int, list[QRectF], bool] | None = None  # (width, column rectangles, wrapped)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMouseTracking(True)

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows = [r for r in rows if r["type"] not in SKIPPED]
        self.images = [channel_images(r["output"]) if r["output"].ndim == 3 else None for r in self.rows]
        self.selected = None
        self._placed = None
        widest = max((self._column_width(k, True) for k in range(len(self.rows))), default=0.0)
        self.setMinimumWidth(int(math.ceil(widest + WRAPPED_MARGIN + MARGIN)))
        self.updateGeometry()
        self.update()

    # ------------------------------------------------------------ geometry
    def _tile(self, row: dict[str, Any], wrapped: bool = False) -> tuple[float, int]:
        """(tile side, tiles per line) for an image-shaped output."""
        channels = row["output"].shape[0]
        per_line = max(1, math.ceil(channels / (WRAPPED_LINES if wrapped else 16)))
        side = 40.0 if per_line == 1 else (30.0 if per_line == 2 else 22.0)
        return side, per_line

    def _bar_pitch(self, row: dict[str, Any], wrapped: bool) -> float:
        """The height of one bar: less when wrapped, unless the bars are labelled (classes, a short vector)."""
        labelled = row["type"] in ("Softmax", "Sigmoid") or row["output"].size <= 12
        return 9.0 if labelled or not wrapped else 5.0

    def _column_width(self, k: int, wrapped: bool = False) -> float:
        row = self.rows[k]
        if row["output"].ndim == 3:
            side, per_line = self._tile(row, wrapped)
            return max(per_line * (side + 3), 84.0)
        return 110.0

    def _column_height(self, k: int, wrapped: bool = False) -> float:
        row = self.rows[k]
        if row["output"].ndim == 3:
            side, per_line = self._tile(row, wrapped)
            return HEAD + math.ceil(row["output"].shape[0] / per_line) * (side + 3)
        values = min(row["output"].size, 50)
        return HEAD + values * self._bar_pitch(row, wrapped) + (18 if row["type"] in ("Softmax", "Sigmoid") else 0)

    def _one_row_width(self) -> float:
        return MARGIN + sum(self._column_width(k) + COLUMN_GAP for k in range(len(self.rows))) - COLUMN_GAP + MARGIN

    def placed(self, width: int | None = None) -> tuple[list[QRectF], bool]:
        """(each column's rectangle, whether they wrap) at ``width`` (the widget's own by default)."""
        width = self.width() if width is None else width
        if self._placed is not None and self._placed[0] == width:
            return self._placed[1], self._placed[2]
        wrapped = self._one_row_width() > width
        rects: list[QRectF] = []
        left = MARGIN + (WRAPPED_MARGIN if wrapped else 0.0)
        x, top, band = left, 0.0, 0.0
        for k in range(len(self.rows)):
            w, h = self._column_width(k, wrapped), self._column_height(k, wrapped)
            if rects and x + w > width - MARGIN:
                x, top, band = left, top + band + BAND_GAP, 0.0
            rects.append(QRectF(x, top, w, h))
            band = max(band, h)
            x += w + COLUMN_GAP
        self._placed = (width, rects, wrapped)
        return rects, wrapped

    def column_rect(self, k: int) -> QRectF:
        """Where column ``k`` (its heading, tiles or bars) is painted."""
        return self.placed()[0][k]

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        rects, _ = self.placed(width)
        return int(math.ceil(max((r.bottom() for r in rects), default=0.0))) + 12

    def sizeHint(self) -> QSize:
        width = int(math.ceil(self._one_row_width()))
        return QSize(width, self.heightForWidth(width))

    def tile_rects(self, k: int) -> list[QRectF]:
        row = self.rows[k]
        if row["output"].ndim != 3:
            return []
        rects, wrapped = self.placed()
        x, y = rects[k].left(), rects[k].top() + HEAD
        side, per_line = self._tile(row, wrapped)
        return [QRectF(x + (c % per_line) * (side + 3), y + (c // per_line) * (side + 3), side, side)
                for c in range(row["output"].shape[0])]

    def hit(self, pos: QPointF) -> tuple[int, int] | None:
        for k in range(len(self.rows)):
            for c, r in enumerate(self.tile_rects(k)):
                if r.contains(pos):
                    return k, c
        return None

    # ------------------------------------------------------------ events
    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.hit(event.position())
        if hit is not None and self.rows[hit[0]]["type"] in ("Conv2D", "MaxPool2D", "AvgPool2D"):
            self.selected = hit
            self.update()
            self.channel_clicked.emit(*hit)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.hit(event.position())
        clickable = hit is not None and self.rows[hit[0]]["type"] in ("Conv2D", "MaxPool2D", "AvgPool2D")
        self.setCursor(Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.ArrowCursor)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setFont(self._small)
        fm = QFontMetricsF(self._small)
        text = self.palette().color(self.palette().ColorRole.WindowText)
        muted = self.palette().color(self.palette().ColorRole.PlaceholderText)
        rects, wrapped = self.placed()
        for k, (row, rect) in enumerate(zip(self.rows, rects)):
            x, top, width = rect.left(), rect.top(), rect.width()
            name = f"{k + 1} {row['name']}" if wrapped else row["name"]
            p.setPen(text)
            p.drawText(QRectF(x, top + 2, width + COLUMN_GAP - 4, fm.height()), int(Qt.AlignmentFlag.AlignLeft),
                       fm.elidedText(name, Qt.TextElideMode.ElideRight, width + COLUMN_GAP - 4))
            p.setPen(muted)
            p.drawText(QRectF(x, top + 2 + fm.height(), width + COLUMN_GAP, fm.height()),
                       int(Qt.AlignmentFlag.AlignLeft), "×".join(map(str, row["output"].shape)))
            if self.images[k] is not None:
                for c, (r, img) in enumerate(zip(self.tile_rects(k), self.images[k])):
                    p.drawImage(r, img)
                    chosen = self.selected == (k, c)
                    p.setPen(QPen(QColor(230, 40, 40) if chosen else QColor(0, 0, 0, 70), 2.5 if chosen else 1))
                    p.drawRect(r)
            else:
                self._bars(p, row, QRectF(x, top + HEAD, width, rect.height() - HEAD),
                           self._bar_pitch(row, wrapped))
            if k + 1 < len(rects):
                self._arrow(p, muted, rect, rects[k + 1])
        p.end()

    def _arrow(self, p: QPainter, color: QColor, here: QRectF, after: QRectF) -> None:
        """An arrow from column ``here`` to the next: across the gap, or from the end of a row to the next row's
        start (in the margin the rows leave at the left when they wrap)."""
        y = here.top() + HEAD / 2
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(color, 1.3))
        if after.top() == here.top():
            self._arrow_head(p, QPointF(here.right() + 4, y), QPointF(after.left() - 4, y))
            p.restore()
            return
        y2 = after.top() + HEAD / 2
        gap = after.top() - BAND_GAP / 2
        end = min(here.right() + COLUMN_GAP - 4, self.width() - 2)
        p.drawPolyline([QPointF(here.right() + 4, y), QPointF(end, y), QPointF(end, gap), QPointF(MARGIN, gap),
                        QPointF(MARGIN, y2)])
        self._arrow_head(p, QPointF(MARGIN, y2), QPointF(after.left() - 4, y2))
        p.restore()

    @staticmethod
    def _arrow_head(p: QPainter, start: QPointF, end: QPointF) -> None:
        p.drawLine(start, end)
        p.drawLine(end, QPointF(end.x() - 4, end.y() - 3))
        p.drawLine(end, QPointF(end.x() - 4, end.y() + 3))

    def _bars(self, p: QPainter, row: dict[str, Any], rect: QRectF, pitch: float) -> None:
        values = np.asarray(row["output"], dtype=np.float64).reshape(-1)[:50]
        probs = row["type"] in ("Softmax", "Sigmoid")
        big = 1.0 if probs else (float(np.abs(values).max()) or 1.0)
        best = int(np.argmax(values)) if probs else -1
        for i, v in enumerate(values):
            y = rect.top() + i * pitch
            w = (rect.width() - 34) * abs(v) / big
            color = QColor(8, 119, 189) if v >= 0 else QColor(245, 147, 34)
            if probs and i == best:
                color = QColor(30, 150, 60)
            p.fillRect(QRectF(rect.left() + 34, y + 1, w, pitch - 2), color)
            if probs or len(values) <= 12:
                label = self.class_names[i] if probs and i < len(self.class_names) else str(i)
                p.setPen(self.palette().color(self.palette().ColorRole.WindowText))
                p.drawText(QRectF(rect.left(), y - 2, 30, 11), int(Qt.AlignmentFlag.AlignRight), label)
        if probs:
            p.drawText(QPointF(rect.left(), rect.top() + len(values) * pitch + 14), f"{values[best]:.0%} '{best}'")


class CnnExplainer(QWidget):
    """Choose an input (a test image, the pad's drawing, a misclassified sample); see every layer's output;
    click a channel for its arithmetic."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.net: Network | None = None
        self.label = ""
        self.samples: tuple[np.ndarray, np.ndarray] | None = None
        #: the pad's input (as its reader gives it to the network), or None before a drawing was sent
        self.drawing: np.ndarray | None = None
        self._stale = False  # the drawing changed while this view was hidden: run it when it shows
        #: misclassified validation samples: {"x", "true", "pred", "index", "epoch", "names"}
        self.wrong: dict[str, Any] | None = None
        self.rows: list[dict[str, Any]] = []
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.source = QComboBox(self)
        for key, text in SOURCES:
            self.source.addItem(text, key)
        self.source.setToolTip("Where the input comes from: an MNIST test image; the digit pad's drawing, "
                               "preprocessed as the pad reads it (its 'See every layer' button sends it here); or "
                               "a validation sample the network trained in the app got wrong (from a confusion-"
                               "matrix cell off the diagonal)")
        self.source.currentIndexChanged.connect(self._source_changed)
        self.sample = QSpinBox(self)
        self.sample.setPrefix("test image #")
        self.sample.setRange(0, 0)
        self.sample.setToolTip("Which MNIST test image goes through the network")
        self.sample.valueChanged.connect(self._run)
        self.columns = LayerColumns(self)
        self.columns.class_names = tuple(str(d) for d in range(10))
        self.columns.channel_clicked.connect(self._explain)
        self.step = StepView(self)
        self.scroll = QScrollArea(self)
        self.scroll.setWidget(self.columns)
        self.scroll.setWidgetResizable(True)  # the columns take the width and wrap, the height follows
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.scroll)
        split.addWidget(self.step)
        split.setChildrenCollapsible(False)
        split.setSizes([470, 330])
        self.split = split
        top = QHBoxLayout()
        top.addWidget(self.note, 1)
        top.addWidget(self.source)
        top.addWidget(self.sample)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self._say("No network yet: train a convolutional network on MNIST (for example the simple-convnet preset), "
                  "or import a model; this page shows what each of its layers makes of one input.")

    def _say(self, text: str) -> None:
        self.note.setText(text)

    def source_key(self) -> str:
        """Where the input comes from: "test", "drawing" or "wrong"."""
        return self.source.currentData()

    def set_samples(self, x: np.ndarray, y: np.ndarray) -> None:
        """The test images to choose from ((N, 1, 28, 28)) and their labels."""
        self.samples = (x, y)
        self._source_changed()

    def show_drawing(self, image: np.ndarray, net: Network | None = None, label: str = "") -> None:
        """Explain the pad's input ``image`` (what its reader gives the network), with ``net`` (the pad's
        network) when given; the chooser switches to the drawing."""
        self.drawing = np.array(image, dtype=np.float32)
        refused = self._adopt(net, label)
        self._choose("drawing")
        if refused:
            self._say(refused)

    def follow_drawing(self, image: np.ndarray | None) -> None:
        """The pad read a new drawing (its 28 × 28 input; None when the pad was cleared, which keeps the last
        one): "your drawing" is that one from now on. Shown at once when the drawing is the chosen input and
        this view is on screen, else when it next shows."""
        if image is None:
            return
        self.drawing = np.array(image, dtype=np.float32)
        if self.source_key() != "drawing":
            return
        if self.isVisible():
            self._run()
        else:
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._run()

    def set_misclassified(self, x: np.ndarray, true: np.ndarray, pred: np.ndarray, index: np.ndarray,
                          epoch: float = 0.0, names: tuple[str, ...] = ()) -> None:
        """The validation samples ``x`` (at validation positions ``index``) the app's network took for
        ``pred`` instead of ``true``, as of ``epoch``."""
        self.wrong = {"x": x, "true": np.asarray(true), "pred": np.asarray(pred), "index": np.asarray(index),
                      "epoch": float(epoch), "names": tuple(names)}
        if self.source_key() == "wrong":
            self._source_changed()

    def show_misclassified(self, val_index: int, net: Network | None = None, label: str = "") -> bool:
        """Explain the misclassified validation sample ``val_index`` (of :meth:`set_misclassified`), with
        ``net`` when given; False when it is not among them."""
        hits = np.flatnonzero(self.wrong["index"] == val_index) if self.wrong is not None else []
        if not len(hits):
            return False
        refused = self._adopt(net, label)
        self._choose("wrong", int(hits[0]))
        if refused:
            self._say(refused)
        return True

    def _choose(self, key: str, k: int = 0) -> None:
        self.source.blockSignals(True)
        self.source.setCurrentIndex(self.source.findData(key))
        self.source.blockSignals(False)
        self._source_changed(k=k)

    def _source_changed(self, *_args, k: int | None = None) -> None:
        """The chooser moved (or its samples changed): the index box fits the source, then the input runs."""
        key = self.source_key()
        count = {"test": len(self.samples[0]) if self.samples is not None else 0, "drawing": 0,
                 "wrong": len(self.wrong["x"]) if self.wrong is not None else 0}[key]
        self.sample.blockSignals(True)
        self.sample.setVisible(key != "drawing")
        self.sample.setPrefix("test image #" if key == "test" else "misclassified #")
        self.sample.setToolTip("Which MNIST test image goes through the network" if key == "test" else
                               "Which misclassified validation sample goes through the network")
        self.sample.setRange(0, max(count - 1, 0))
        if k is not None:
            self.sample.setValue(k)
        self.sample.blockSignals(False)
        self._run()

    def set_network(self, net: Network | None, label: str = "") -> None:
        """Explain ``net`` (a copy is kept); a network that does not take images is refused with a note,
        and the one explained before stays."""
        if net is None:
            self.net, self.label = None, label
        elif refused := self._adopt(net, label):
            self._say(refused)
            return
        self._run()

    def _adopt(self, net: Network | None, label: str) -> str:
        """Keep a copy of ``net`` to explain (None: keep the one explained); '' when taken, else why not: a
        network that does not take images leaves the one explained before in place."""
        if net is None:
            return ""
        if len(net.input_shape) != 3 and self.net is not None:
            return (f"The network {label} takes inputs of shape {tuple(net.input_shape)}, not images: still "
                    f"explaining {self.label}.")
        self.net, self.label = copy_network(net), label
        return ""

    def current_input(self) -> tuple[np.ndarray | None, str]:
        """(the chosen input, what it is), or (None, what to do to have one)."""
        key, i = self.source_key(), self.sample.value()
        if key == "test":
            if self.samples is None:
                return None, "MNIST is not available: download it (playground data download mnist) to choose " \
                             "a test image."
            x, y = self.samples
            return x[i], f"test image #{i} (a {int(y[i])})"
        if key == "drawing":
            if self.drawing is None:
                return None, ("No drawing yet: draw a digit on the Draw a digit tab; the pad's input "
                              "(preprocessed to 28 × 28) comes here as the pad reads it.")
            return self.drawing, "your drawing (the pad's 28 × 28 input)"
        w = self.wrong
        if w is None or not len(w["x"]):
            return None, ("No misclassified samples yet: train on MNIST in the app, click a confusion-matrix cell "
                          "off the diagonal and press 'See every layer' under its samples.")
        names = w["names"] or tuple(map(str, range(10)))
        t, p = int(w["true"][i]), int(w["pred"][i])
        return w["x"][i], (f"validation sample #{int(w['index'][i])}, a {names[t]} taken for a {names[p]} "
                           f"(epoch {w['epoch']:.2f}; {len(w['x'])} misclassified)")

    def _run(self) -> None:
        self._stale = False  # what shows is the input chosen now
        if self.net is None:
            return
        shape = tuple(self.net.input_shape)
        if len(shape) != 3:
            self.columns.set_rows([])
            self._say(f"The network ({self.label}) takes inputs of shape {shape}; the explainer needs one that "
                      "takes images (channels × height × width), such as simple-convnet.")
            return
        image, what = self.current_input()
        if image is None:
            self._say(what)
            return
        if image.size != math.prod(shape):
            self._say(f"The network takes {shape}, the input is {image.shape}.")
            return
        image = np.asarray(image, dtype=np.float32).reshape(shape)
        try:
            self.rows = trace(self.net, image)
        except (PlaygroundError, ValueError, FloatingPointError) as e:
            self._say(f"This network cannot read the image: {e}")
            return
        self.columns.set_rows([{"name": "input", "type": "Input", "input": image, "output": image, "layer": None}]
                              + self.rows)
        guess = int(np.argmax(self.rows[-1]["output"]))
        self._say(f"<b>{self.label or 'the network'}</b> on {what}: it reads <b>{guess}</b>. "
                  "Each column is a layer's output, each square a channel (black low, white high, one scale per "
                  "layer). Click a channel of a convolution or pooling layer to see how it is computed.")
        self.step.clear("Click a channel above to see how it is computed for this image.")

    def _explain(self, k: int, channel: int) -> None:
        self.step.explain(self.columns.rows[k], channel)
        self._make_room(k, channel)

    def _make_room(self, k: int, channel: int) -> None:
        """The detail gets the height its painting takes (a small screen's columns keep at least
        :data:`MIN_COLUMNS_HEIGHT`, the detail scrolls for the rest), and the clicked channel stays in view."""
        top, below = self.split.sizes()
        frame = self.step.scroll.frameWidth() * 2
        want = self.step.canvas.minimumHeight() + frame + self.step.title.sizeHint().height() + 8
        want = min(want, top + below - MIN_COLUMNS_HEIGHT)
        if below < want:
            self.split.setSizes([top + below - want, want])
        tile = self.columns.tile_rects(k)[channel]
        self.scroll.ensureVisible(int(tile.center().x()), int(tile.center().y()), int(tile.width()),
                                  int(tile.height()))
