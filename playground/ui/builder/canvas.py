"""The network editor view: drop palette blocks, drag blocks to reorder, zoom."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QDrag, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QApplication, QGraphicsView, QMenu, QStyleOptionGraphicsItem

from playground.engine.nn.layers import LAYERS
from playground.ui.builder.commands import ApplyFix, InsertLayer, MoveLayer, SetActivation
from playground.ui.builder.document import ProjectDocument
from playground.ui.builder.catalog import (MIME_TYPE, activation_key, decode_payload, encode_payload, new_entry, takes_activation)
from playground.ui.builder.items import BlockItem
from playground.ui.builder.scene import NetworkScene


#: the smallest zoom Fit uses: block texts stay readable (a long network scrolls instead)
READABLE_ZOOM = 0.75


class NetworkCanvas(QGraphicsView):
    """Shows a :class:`NetworkScene`; every edit made here goes through the document's undo stack."""

    #: a short message for the status bar ("Inserted Dense at position 3")
    message = Signal(str)

    def __init__(self, doc: ProjectDocument, parent=None):
        self.doc = doc
        self.net_scene = NetworkScene(doc)
        super().__init__(self.net_scene, parent)
        self.net_scene.setParent(self)
        self.setAcceptDrops(True)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setAccessibleName("Network editor")
        self._press_pos: QPoint | None = None
        self._press_block: BlockItem | None = None
        self._zoom = 1.0
        self._fitted = True  # the zoom follows the window's size until the user zooms
        self.context_actions: list = []
        self.net_scene.fix_requested.connect(self.apply_fix)

    # ------------------------------------------------------------ background
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        colors = self.net_scene.colors
        painter.fillRect(rect, colors.canvas)
        step = 24
        left = int(rect.left()) - int(rect.left()) % step
        top = int(rect.top()) - int(rect.top()) % step
        painter.setPen(colors.grid)
        pts = [QPointF(x, y) for x in range(left, int(rect.right()) + 1, step)
               for y in range(top, int(rect.bottom()) + 1, step)]
        if len(pts) < 20000:
            painter.drawPoints(pts)

    # ------------------------------------------------------------ zoom
    def set_zoom(self, zoom: float) -> None:
        self._zoom = max(0.3, min(zoom, 2.5))
        self.setTransform(QTransform.fromScale(self._zoom, self._zoom))

    def _zoomed_by_hand(self) -> None:
        self._fitted = False
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def zoom_in(self) -> None:
        self._zoomed_by_hand()
        self.set_zoom(self._zoom * 1.15)

    def zoom_out(self) -> None:
        self._zoomed_by_hand()
        self.set_zoom(self._zoom / 1.15)

    def zoom_reset(self) -> None:
        self._zoomed_by_hand()
        self.set_zoom(1.0)

    def fit(self) -> None:
        """Zoom so that the whole network fits (never larger than 100 %), but never below
        :data:`READABLE_ZOOM`: a long network then fills the width and scrolls from its input down.
        Until the user zooms, the fit follows the window's size."""
        self._fitted = True
        rect = self.net_scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
        if rect.isEmpty():
            return
        vw, vh = self.viewport().width(), self.viewport().height()
        whole = min(1.0, vw / rect.width(), vh / rect.height())
        self.set_zoom(max(whole, min(1.0, READABLE_ZOOM, vw / rect.width())))
        # the scene has room beside the blocks (for dragging); when the blocks fit across, no sideways scrolling
        across = rect.width() * self._zoom <= vw
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff if across
                                          else Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        if whole >= self._zoom - 1e-9:
            self.centerOn(rect.center())
        else:  # too long to fit readably: its top, centred across
            self.centerOn(rect.center().x(), rect.top() + vh / (2 * self._zoom))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def wheelEvent(self, event):
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_in() if event.angleDelta().y() > 0 else self.zoom_out()
            event.accept()
            return
        super().wheelEvent(event)

    # ------------------------------------------------------------ drag to reorder
    def mousePressEvent(self, event):
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            item = self._block_at_view(event.position().toPoint())
            if item is not None and item.content.kind == "layer" and not self._on_fix_button(event):
                self._press_pos = event.position().toPoint()
                self._press_block = item
            else:
                self._press_pos = None

    def _on_fix_button(self, event) -> bool:
        from playground.ui.builder.items import FixButton

        it = self.itemAt(event.position().toPoint())
        return isinstance(it, FixButton)

    def mouseMoveEvent(self, event):
        if (self._press_pos is not None and event.buttons() & Qt.MouseButton.LeftButton
                and (event.position().toPoint() - self._press_pos).manhattanLength()
                >= QApplication.startDragDistance()):
            block = self._press_block
            self._press_pos = None
            self._press_block = None
            if block is not None:
                self.start_block_drag(block)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        self._press_pos = None
        self._press_block = None
        super().mouseReleaseEvent(event)

    def start_block_drag(self, block: BlockItem) -> None:
        """Drag a block to another place in the network (a QDrag with the block as its picture)."""
        from PySide6.QtCore import QMimeData

        data = QMimeData()
        data.setData(MIME_TYPE, encode_payload({"move": block.index}))
        drag = QDrag(self)
        drag.setMimeData(data)
        pm = self._block_pixmap(block)
        drag.setPixmap(pm)
        drag.setHotSpot(QPoint(pm.width() // 2, 12))
        drag.exec(Qt.DropAction.MoveAction)

    def _block_pixmap(self, block: BlockItem) -> QPixmap:
        r = block.boundingRect()
        scale = self._zoom
        pm = QPixmap(int(r.width() * scale) + 2, int(r.height() * scale) + 2)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setOpacity(0.85)
        p.scale(scale, scale)
        p.translate(-r.topLeft())
        block.paint(p, QStyleOptionGraphicsItem(), None)
        p.end()
        return pm

    def _block_at_view(self, pos: QPoint) -> BlockItem | None:
        return self.net_scene.block_at(self.mapToScene(pos))

    # ------------------------------------------------------------ drops
    def _payload(self, event):
        md = event.mimeData()
        if md is None or not md.hasFormat(MIME_TYPE):
            return None
        return decode_payload(md.data(MIME_TYPE).data())

    def _target(self, payload: dict, scene_pos: QPointF):
        """("activation", block) to set an activation, ("insert", index), ("move", index) or None."""
        if "type" in payload:
            key = activation_key(payload["type"])
            block = self.net_scene.block_at(scene_pos)
            if key and block is not None and block.content.kind == "layer" and takes_activation(block.content.title):
                r = block.sceneBoundingRect()
                inner = r.adjusted(0, r.height() * 0.2, 0, -r.height() * 0.2)
                if inner.contains(scene_pos):
                    return ("activation", block)
            return ("insert", self.net_scene.insertion_index_at(scene_pos))
        gap = self.net_scene.insertion_index_at(scene_pos)
        src = payload["move"]
        target = gap if gap <= src else gap - 1
        return ("move", gap, target)

    def dragEnterEvent(self, event):
        if self._payload(event) is not None:
            event.acceptProposedAction()
            self._update_feedback(event)
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        payload = self._payload(event)
        if payload is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self._update_feedback(event)

    def _update_feedback(self, event) -> None:
        payload = self._payload(event)
        target = self._target(payload, self.mapToScene(event.position().toPoint()))
        if target[0] == "activation":
            self.net_scene.show_drop_indicator(None)
            self.net_scene.set_drop_target(target[1])
        else:
            self.net_scene.set_drop_target(None)
            self.net_scene.show_drop_indicator(target[1])
        # scroll when dragging near the edges
        y = event.position().y()
        bar = self.verticalScrollBar()
        if y < 30:
            bar.setValue(bar.value() - 20)
        elif y > self.viewport().height() - 30:
            bar.setValue(bar.value() + 20)

    def dragLeaveEvent(self, event):
        self.net_scene.clear_drop_feedback()
        event.accept()

    def dropEvent(self, event):
        payload = self._payload(event)
        self.net_scene.clear_drop_feedback()
        if payload is None:
            event.ignore()
            return
        target = self._target(payload, self.mapToScene(event.position().toPoint()))
        if target[0] == "activation":
            block = target[1]
            key = activation_key(payload["type"])
            self.doc.push(SetActivation(self.doc, block.index, key))
            self.message.emit(f"Set the activation of {block.content.title} {block.content.name} to "
                              f"{LAYERS[payload['type']].type_name}")
        elif target[0] == "insert":
            index = target[1]
            self.doc.push(InsertLayer(self.doc, index, new_entry(payload["type"])))
            self.message.emit(f"Inserted {payload['type']} at position {index + 1}")
        else:
            _, _gap, to = target
            src = payload["move"]
            if to != src and 0 <= src < self.doc.layer_count():
                self.doc.push(MoveLayer(self.doc, src, to))
                self.message.emit(f"Moved layer {src + 1} to position {to + 1}")
        event.setDropAction(Qt.DropAction.MoveAction if "move" in payload else Qt.DropAction.CopyAction)
        event.accept()

    def apply_fix(self, fix: dict) -> None:
        """Carry out an engine fix (from a block's fix button) as one undoable command."""
        try:
            cmd = ApplyFix(self.doc, fix)
        except (ValueError, KeyError, IndexError) as e:
            self.message.emit(f"Cannot apply the fix: {e}")
            return
        self.doc.push(cmd)
        self.message.emit(f"{cmd.text()} (Ctrl+Z undoes it)")

    # ------------------------------------------------------------ context menu
    def contextMenuEvent(self, event):
        block = self._block_at_view(event.pos())
        if block is None or not self.context_actions:
            return
        self.net_scene.select_index(block.index)
        menu = QMenu(self)
        for a in self.context_actions:
            if a is None:
                menu.addSeparator()
            else:
                menu.addAction(a)
        menu.exec(event.globalPos())

    def keyPressEvent(self, event):
        """Up/Down walk through the blocks."""
        key = event.key()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not event.modifiers():
            scene = self.net_scene
            i = scene.selected_index()
            n = self.doc.layer_count()
            if i is None:
                i = -1 if key == Qt.Key.Key_Down else n
            else:
                i = max(-1, min(n, i + (1 if key == Qt.Key.Key_Down else -1)))
            scene.select_index(i)
            event.accept()
            return
        super().keyPressEvent(event)
