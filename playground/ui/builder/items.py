"""Graphics items of the network canvas: blocks, arrows, the drop indicator and fix buttons."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyle, QStyleOptionGraphicsItem, QWidget

from playground.ui.theme import LIGHT, Colors

BLOCK_WIDTH = 320.0
PAD = 10.0


@dataclass
class BlockContent:
    """Everything a block shows; made by the scene from the document."""

    kind: str                      # "input" | "layer" | "loss"
    index: int                     # spec index (-1 for input, len(layers) for loss)
    title: str
    name: str = ""
    group: str = "core"
    details: str = ""
    activation: str = ""
    shape: str = ""
    params: str = ""
    status: str = ""               # "" | "error" | "warning"
    message: str = ""
    fix: dict[str, Any] | None = None
    fix_label: str = ""
    tooltip: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _Hovered:
    """Keeps ``_hover`` true while the mouse is over the item, and repaints on each change."""

    def hoverEnterEvent(self, event):
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hover = False
        self.update()


class FixButton(_Hovered, QGraphicsObject):
    """A small push button inside a block ("Insert Flatten")."""

    clicked = Signal()

    def __init__(self, label: str, colors: Colors, parent: QGraphicsItem):
        super().__init__(parent)
        self.label = label
        self.colors = colors
        self._hover = False
        self._font = QFont()
        self._font.setBold(True)
        fm = QFontMetricsF(self._font)
        self._rect = QRectF(0, 0, fm.horizontalAdvance(label) + 22, fm.height() + 8)
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Apply the suggested fix (undoable)")

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        base = self.colors.error
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(base.darker(115) if self._hover else base)
        p.drawRoundedRect(self._rect, 5, 5)
        p.setPen(QColor("white"))
        p.setFont(self._font)
        p.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.label)

    def mousePressEvent(self, event):
        event.accept()

    def mouseReleaseEvent(self, event):
        if self._rect.contains(event.pos()):
            self.clicked.emit()
        event.accept()


class BlockItem(_Hovered, QGraphicsObject):
    """One block of the network: input, a layer (with its fused activation) or the loss."""

    #: the fix button was clicked; carries the engine's fix dict
    fix_clicked = Signal(object)

    def __init__(self, content: BlockContent, colors: Colors = LIGHT):
        super().__init__()
        self.content = content
        self.colors = colors
        self._hover = False
        self._drop_target = False
        self._title_font = QFont()
        self._title_font.setBold(True)
        self._title_font.setPointSizeF(self._title_font.pointSizeF() * 1.08)
        self._small = QFont()
        self._small.setPointSizeF(self._small.pointSizeF() * 0.92)
        self._mono = QFont("monospace")
        self._mono.setStyleHint(QFont.StyleHint.Monospace)
        self._mono.setPointSizeF(self._small.pointSizeF())
        self._layout()
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable, True)
        self.setCursor(Qt.CursorShape.OpenHandCursor if content.kind == "layer" else Qt.CursorShape.ArrowCursor)
        if content.tooltip:
            self.setToolTip(content.tooltip)
        self.fix_button: FixButton | None = None
        if content.fix and content.fix_label:
            self.fix_button = FixButton(content.fix_label, colors, self)
            self.fix_button.setPos(PAD + 8, self._fix_y)
            self.fix_button.clicked.connect(lambda: self.fix_clicked.emit(self.content.fix))

    # ------------------------------------------------------------ geometry
    def _layout(self) -> None:
        c = self.content
        fm_t = QFontMetricsF(self._title_font)
        fm_s = QFontMetricsF(self._small)
        self._line_t = fm_t.height()
        self._line_s = fm_s.height()
        h = PAD + self._line_t + 4
        if c.details:
            h += self._line_s + 2
        h += self._line_s + PAD
        self._body_h = h
        self._message_rect = QRectF()
        self._fix_y = 0.0
        if c.status and c.message:
            r = fm_s.boundingRect(QRectF(0, 0, BLOCK_WIDTH - 2 * PAD - 8, 1000),
                                  int(Qt.TextFlag.TextWordWrap), c.message)
            self._message_rect = QRectF(PAD + 8, h, BLOCK_WIDTH - 2 * PAD - 8, r.height())
            h += r.height() + 6
            if c.fix and c.fix_label:
                self._fix_y = h
                h += fm_s.height() + 8 + 8
            h += 2
        self._height = h

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, BLOCK_WIDTH + 4, self._height + 4)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, BLOCK_WIDTH, self._height), 8, 8)
        return path

    @property
    def height(self) -> float:
        return self._height

    def rect(self) -> QRectF:
        return QRectF(0, 0, BLOCK_WIDTH, self._height)

    @property
    def index(self) -> int:
        return self.content.index

    # ------------------------------------------------------------ state
    def set_drop_target(self, on: bool) -> None:
        if on != self._drop_target:
            self._drop_target = on
            self.update()

    # ------------------------------------------------------------ painting
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c, col = self.content, self.colors
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.rect()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        accent = col.group(c.group)
        fill = col.block
        border = col.block_border
        width = 1.2
        if c.status == "error":
            fill, border, width = col.error_fill, col.error, 2.0
        elif c.status == "warning":
            fill, border, width = col.warning_fill, col.warning, 2.0
        if self._hover:
            border = border.darker(115) if not col.dark else border.lighter(130)
        if selected:
            border, width = col.selection, 2.6
        if self._drop_target:
            border, width = col.drop, 3.0
        # shadow
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 60 if col.dark else 28))
        p.drawRoundedRect(r.translated(0, 2), 8, 8)
        p.setBrush(fill)
        p.setPen(QPen(border, width))
        p.drawRoundedRect(r, 8, 8)
        # accent bar
        bar = QPainterPath()
        bar.addRoundedRect(QRectF(0, 0, 8, r.height()), 4, 4)
        clip = QPainterPath()
        clip.addRoundedRect(r, 8, 8)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(accent)
        p.drawPath(bar.intersected(clip))

        x = PAD + 8
        right = BLOCK_WIDTH - PAD
        y = PAD
        # title line
        p.setFont(self._title_font)
        p.setPen(col.text)
        fm_t = QFontMetricsF(self._title_font)
        p.drawText(QPointF(x, y + fm_t.ascent()), c.title)
        tx = x + fm_t.horizontalAdvance(c.title) + 8
        chip_w = 0.0
        if c.activation:
            p.setFont(self._small)
            fm_s = QFontMetricsF(self._small)
            chip_w = fm_s.horizontalAdvance(c.activation) + 14
            chip = QRectF(right - chip_w, y + 1, chip_w, fm_s.height() + 2)
            act = col.group("activation")
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(act if not col.dark else act.darker(140))
            p.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
            p.setPen(QColor("#1f2430") if not col.dark else QColor("#fff7e6"))
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, c.activation)
        if c.name:
            p.setFont(self._small)
            p.setPen(col.muted)
            fm_s = QFontMetricsF(self._small)
            avail = right - chip_w - 8 - tx
            name = fm_s.elidedText(c.name, Qt.TextElideMode.ElideRight, max(avail, 0))
            p.drawText(QPointF(tx, y + fm_t.ascent()), name)
        y += self._line_t + 4
        p.setFont(self._small)
        fm_s = QFontMetricsF(self._small)
        if c.details:
            p.setPen(col.muted)
            text = fm_s.elidedText(c.details, Qt.TextElideMode.ElideRight, right - x)
            p.drawText(QPointF(x, y + fm_s.ascent()), text)
            y += self._line_s + 2
        # shape and params
        p.setFont(self._mono)
        p.setPen(col.text if c.shape and c.shape != "?" else col.muted)
        p.drawText(QPointF(x, y + fm_s.ascent()), f"→ {c.shape}" if c.shape else "")
        if c.params:
            p.setPen(col.muted)
            p.drawText(QRectF(x, y, right - x, self._line_s),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, c.params)
        if c.status and c.message:
            p.setFont(self._small)
            p.setPen(col.error if c.status == "error" else col.warning.darker(110 if not col.dark else 100))
            p.drawText(self._message_rect, int(Qt.TextFlag.TextWordWrap), c.message)


class ArrowItem(QGraphicsItem):
    """A vertical arrow from one block to the next."""

    def __init__(self, start: QPointF, end: QPointF, colors: Colors = LIGHT):
        super().__init__()
        self.start, self.end, self.colors = start, end, colors
        self.setZValue(-1)

    def boundingRect(self) -> QRectF:
        return QRectF(self.start, self.end).normalized().adjusted(-8, -2, 8, 2)

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.colors.arrow, 2)
        p.setPen(pen)
        head = 7.0
        a, b = self.start, self.end
        ang = math.atan2(b.y() - a.y(), b.x() - a.x())
        tip_base = QPointF(b.x() - head * math.cos(ang), b.y() - head * math.sin(ang))
        p.drawLine(a, tip_base)
        left = QPointF(b.x() - head * math.cos(ang - 0.5) * 1.2, b.y() - head * math.sin(ang - 0.5) * 1.2)
        right = QPointF(b.x() - head * math.cos(ang + 0.5) * 1.2, b.y() - head * math.sin(ang + 0.5) * 1.2)
        p.setBrush(self.colors.arrow)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawPolygon(QPolygonF([b, left, right]))


class DropIndicator(QGraphicsItem):
    """Where a dragged block will land: a bar across the gap between two blocks."""

    def __init__(self, colors: Colors = LIGHT):
        super().__init__()
        self.colors = colors
        self.setZValue(10)

    def boundingRect(self) -> QRectF:
        return QRectF(-12, -8, BLOCK_WIDTH + 24, 16)

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = self.colors.drop
        p.setPen(QPen(c, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(0, 0), QPointF(BLOCK_WIDTH, 0))
        p.setBrush(QBrush(c))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QPointF(0, 0), 5, 5)
        p.drawEllipse(QPointF(BLOCK_WIDTH, 0), 5, 5)
