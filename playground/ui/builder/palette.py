"""The palette: layer blocks in groups, dragged onto the canvas (or double-clicked to add)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from playground.ui.theme import GROUP_COLORS, muted
from playground.ui.builder.catalog import GROUPS, MIME_TYPE, SENTENCES, encode_payload, layer_tooltip

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


def group_icon(group: str, size: int = 16) -> QIcon:
    """A small rounded square in the group's colour."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor(GROUP_COLORS.get(group, GROUP_COLORS["io"]))
    p.setPen(color.darker(130))
    p.setBrush(color)
    p.drawRoundedRect(1.5, 1.5, size - 3, size - 3, 4, 4)
    p.end()
    return QIcon(pm)


class _BlockTree(QTreeWidget):
    """A tree whose leaf items drag as layer blocks."""

    def mimeTypes(self):
        return [MIME_TYPE]

    def mimeData(self, items):
        types = [it.data(0, TYPE_ROLE) for it in items if it.data(0, TYPE_ROLE)]
        if not types:
            return None
        data = QMimeData()
        data.setData(MIME_TYPE, encode_payload({"type": types[0]}))
        data.setText(types[0])
        return data

    def supportedDragActions(self):
        return Qt.DropAction.CopyAction


class LayerPalette(QWidget):
    """Grouped layer blocks with a filter box. Double-click (or Enter) asks to add a block."""

    #: the user asked to add a block of this type (double-click / Enter)
    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter blocks…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.tree = _BlockTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        self.tree.setIconSize(QSize(14, 14))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.itemActivated.connect(self._activated)
        self.tree.setAccessibleName("Layer palette")
        hint = QLabel("Drag a block onto the network, or double-click to add it after the selected block.", self)
        hint.setWordWrap(True)
        small = hint.font()
        small.setPixelSize(11)
        hint.setFont(small)  # a font, not a style sheet: a widget with a style sheet keeps its first palette
        muted(hint)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        lay.addWidget(self.filter)
        lay.addWidget(self.tree, 1)
        lay.addWidget(hint)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._populate()

    def _populate(self) -> None:
        bold = self.tree.font()
        bold.setBold(True)
        for key, title, types in GROUPS:
            head = QTreeWidgetItem(self.tree, [title])
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            head.setFont(0, bold)
            head.setIcon(0, group_icon(key))
            for t in types:
                it = QTreeWidgetItem(head, [t])
                it.setData(0, TYPE_ROLE, t)
                it.setToolTip(0, layer_tooltip(t))
                it.setStatusTip(0, SENTENCES.get(t, ""))
                it.setIcon(0, group_icon(key, 12))
                it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                self._items[t] = it
        self.tree.expandAll()

    def item_for(self, type_name: str) -> QTreeWidgetItem:
        """The palette item of a layer type (for tests and keyboard navigation)."""
        return self._items[type_name]

    def mime_for(self, type_name: str) -> QMimeData:
        """The drag data this palette produces for a block type."""
        return self.tree.mimeData([self._items[type_name]])

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        t = item.data(0, TYPE_ROLE)
        if t:
            self.add_requested.emit(t)

    def _apply_filter(self, text: str) -> None:
        text = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            visible = 0
            for j in range(head.childCount()):
                child = head.child(j)
                t = child.data(0, TYPE_ROLE)
                show = not text or text in t.lower() or text in SENTENCES.get(t, "").lower()
                child.setHidden(not show)
                visible += show
            head.setHidden(visible == 0)
