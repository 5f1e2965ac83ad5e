"""Small layout helpers shared by the panels."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QLayout, QLayoutItem, QScrollArea, QVBoxLayout, QWidget


def scrolling(widget: QWidget, horizontal: bool = True) -> QScrollArea:
    """``widget`` in a frameless scroll area, so its minimum size does not set the window's."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    if not horizontal:
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def fill_with_scrolling(owner: QWidget, body: QWidget) -> QScrollArea:
    """Make ``body`` the whole content of ``owner``, scrolling vertically only (side panels)."""
    area = scrolling(body, horizontal=False)
    outer = QVBoxLayout(owner)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
    return area


class WrapLayout(QLayout):
    """Widgets side by side while their minimum widths fit the width; the ones that do not, on rows below.

    The widths of a row are shared by stretch factors, none below a widget's
    minimum; a row is as tall as its tallest widget's size hint (or height for
    its width), and height beyond the rows' goes to the first row. The layout's minimum width is its
    widest widget's and its height follows its width, so a scroll area with
    resizable content makes it wrap instead of scrolling sideways.
    ``grow_first=False`` leaves the height beyond the rows' empty below them.
    """

    def __init__(self, parent: QWidget | None = None, spacing: int = 12, grow_first: bool = True):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._stretch: list[int] = []
        self._grow_first = grow_first  # False: rows keep their heights and the space left stays below them
        self.setSpacing(spacing)

    def add(self, widget: QWidget, stretch: int = 1) -> None:
        """Append ``widget``, given width beside the others of its row in proportion to ``stretch``."""
        self.addWidget(widget)
        self._stretch[-1] = stretch

    # ---- QLayout
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self._stretch.append(1)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        self._stretch.pop(index)
        return self._items.pop(index)

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal | Qt.Orientation.Vertical

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        m = self.contentsMargins()
        inner = width - m.left() - m.right()
        rows = self.rows(inner)
        gaps = self.spacing() * max(0, len(rows) - 1)  # no rows (nothing shown): no gap either
        return sum(self._row_height(r, inner) for r in rows) + gaps + m.top() + m.bottom()

    def minimumSize(self) -> QSize:
        m = self.contentsMargins()
        sizes = [it.minimumSize() for it in self._visible()] or [QSize(0, 0)]
        return QSize(max(s.width() for s in sizes) + m.left() + m.right(),
                     max(s.height() for s in sizes) + m.top() + m.bottom())

    def sizeHint(self) -> QSize:
        m = self.contentsMargins()
        hints = [it.sizeHint().expandedTo(it.minimumSize()) for it in self._visible()] or [QSize(0, 0)]
        return QSize(sum(h.width() for h in hints) + self.spacing() * (len(hints) - 1) + m.left() + m.right(),
                     max(h.height() for h in hints) + m.top() + m.bottom())

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        area = self.contentsRect()
        gap = self.spacing()
        rows = self.rows(area.width())
        heights = [self._row_height(r, area.width()) for r in rows]
        if heights and self._grow_first:
            heights[0] += max(0, area.height() - sum(heights) - gap * (len(rows) - 1))
        y = area.y()
        for row, h in zip(rows, heights):
            x = area.x()
            for i, w in zip(row, self._share(row, area.width() - gap * (len(row) - 1))):
                self._items[i].setGeometry(QRect(x, y, w, h))
                x += w + gap
            y += h + gap

    # ---- arranging
    def _visible(self) -> list[QLayoutItem]:
        return [it for it in self._items if not it.isEmpty()]

    def rows(self, width: int) -> list[list[int]]:
        """The items' indices row by row at ``width``: each row takes the next items whose minimum widths fit."""
        rows: list[list[int]] = []
        used = 0
        for i, item in enumerate(self._items):
            if item.isEmpty():
                continue
            need = item.minimumSize().width()
            if rows and rows[-1] and used + self.spacing() + need <= width:
                rows[-1].append(i)
                used += self.spacing() + need
            else:
                rows.append([i])
                used = need
        return rows

    def _row_height(self, row: list[int], width: int) -> int:
        """The tallest size hint of the row's items at the widths they get (height for width where they have one)."""
        heights = []
        for i, w in zip(row, self._share(row, width - self.spacing() * (len(row) - 1))):
            item = self._items[i]
            h = max(item.sizeHint().height(), item.minimumSize().height())
            heights.append(max(h, item.heightForWidth(w)) if item.hasHeightForWidth() else h)
        return max(heights)

    def _share(self, row: list[int], width: int) -> list[int]:
        """``width`` shared by the stretch factors, with every item at its minimum width at least."""
        mins = [self._items[i].minimumSize().width() for i in row]
        weights = [max(1, self._stretch[i]) for i in row]
        fixed: dict[int, int] = {}
        while True:
            free = [k for k in range(len(row)) if k not in fixed]
            left = width - sum(fixed.values())
            total = sum(weights[k] for k in free)
            low = [k for k in free if left * weights[k] / total < mins[k]]
            if not low or len(low) == len(free):
                break
            fixed.update((k, mins[k]) for k in low)
        widths = [fixed.get(k, max(mins[k], int(left * weights[k] / total))) if total else mins[k]
                  for k in range(len(row))]
        if free:  # the rounding's few pixels go to the last item that stretches
            widths[free[-1]] += max(0, width - sum(widths))
        return widths


def fit_on_screen(window: QWidget, width: int, height: int, share: float | None = None,
                  centre: bool = False) -> None:
    """Resize ``window`` to ``width`` x ``height``, less on a screen without that much room (its frame included),
    or at most ``share`` of the room when given; ``centre`` moves it to the middle of the room.

    The screen is the window's once it is shown, else the primary one: asking a window not yet shown for its
    screen crashed PySide6 here.
    """
    screen = (window.screen() if window.isVisible() else None) or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(width, height)
        return
    room = screen.availableGeometry()
    if share is None:
        width, height = min(width, room.width() - 20), min(height, room.height() - 40)
    else:
        width, height = min(width, int(room.width() * share)), min(height, int(room.height() * share))
    window.resize(width, height)
    if centre:
        window.move(room.x() + (room.width() - width) // 2, room.y() + (room.height() - height) // 2)
