"""The scene mirrors the document: input block, one block per spec entry, loss block, arrows."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QGraphicsScene

from playground.engine.data.datasets import DATASET_DESCRIPTIONS
from playground.engine.nn.activations import ACTIVATIONS
from playground.engine.nn.layers import LAYERS
from playground.ui.builder.document import ProjectDocument, Validation
from playground.ui.theme import LIGHT, Colors, current_theme
from playground.ui.builder.catalog import LOSS_LABELS, group_of, layer_tooltip, loss_tooltip
from playground.ui.builder.items import BLOCK_WIDTH, ArrowItem, BlockContent, BlockItem, DropIndicator

GAP = 34.0
INPUT_INDEX = -1


def format_shape(shape) -> str:
    if shape is None:
        return "?"
    return "×".join(str(int(s)) for s in shape)


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _count(n: Any, noun: str) -> str:
    """'1 unit', '64 units'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def layer_details(entry: dict[str, Any]) -> str:
    """A one-line summary of a layer's settings."""
    t = entry.get("type")
    parts: list[str] = []
    if t in ("Dense", "TimeDistributed"):
        parts.append(_count(entry.get("units", "?"), "unit") + (" per step" if t == "TimeDistributed" else ""))
        if entry.get("use_bias") is False:
            parts.append("no bias")
    elif t in ("SimpleRNN", "LSTM", "GRU"):
        parts.append(_count(entry.get("units", "?"), "unit"))
        parts.append("every step" if entry.get("return_sequences") else "last state")
        if t == "LSTM" and entry.get("forget_bias", 1.0) != 1.0:
            parts.append(f"forget bias {_num(entry['forget_bias'])}")
    elif t == "Conv2D":
        k = entry.get("kernel", 3)
        k = f"{k[0]}×{k[1]}" if isinstance(k, (list, tuple)) else f"{k}×{k}"
        parts.append(f"{_count(entry.get('filters', '?'), 'filter')} {k}")
        parts.append(f"stride {entry.get('stride', 1)}")
        parts.append(f"pad {entry.get('padding', 0)}")
    elif t in ("MaxPool2D", "AvgPool2D"):
        pool = entry.get("pool", 2)
        parts.append(f"{pool}×{pool}")
        parts.append(f"stride {entry.get('stride', pool)}")
        if entry.get("padding"):
            parts.append(f"pad {entry['padding']}")
    elif t == "Dropout":
        parts.append(f"rate {_num(entry.get('rate', 0.5))}")
    elif t == "BatchNorm":
        parts.append(f"momentum {_num(entry.get('momentum', 0.9))}")
    elif t == "Flatten":
        parts.append("C×H×W → one vector")
    else:
        cls = LAYERS.get(t)
        formula = getattr(cls, "formula", "")
        if formula:
            parts.append(f"y = {formula}")
        if "alpha" in entry:
            parts.append(f"α = {_num(entry['alpha'])}")
    if t in ("Dense", "Conv2D"):
        if entry.get("init"):
            init = entry["init"]
            text = f"init {init if isinstance(init, str) else init.get('type')}"
            if isinstance(init, dict) and init.get("type") == "normal" and "std" in init:  # its own std
                text += f" σ {_num(init['std'])[:12]}"
            parts.append(text)
        if entry.get("l2"):
            parts.append(f"L2 {_num(entry['l2'])}")
        if entry.get("l1"):
            parts.append(f"L1 {_num(entry['l1'])}")
    return " · ".join(parts)


class NetworkScene(QGraphicsScene):
    """Blocks from input to loss, rebuilt from the document on every change."""

    #: the selected block changed: spec index, -1 for the input, layer_count for the loss, None for nothing
    selected_index_changed = Signal(object)
    #: a block's fix button was pressed
    fix_requested = Signal(object)

    def __init__(self, doc: ProjectDocument, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.blocks: list[BlockItem] = []
        self._selected: int | None = None
        self._rebuilding = False
        self._indicator: DropIndicator | None = None
        self._target: BlockItem | None = None
        doc.changed.connect(self.rebuild)
        doc.focus_requested.connect(self.select_index)
        self.selectionChanged.connect(self._selection_changed)
        self.rebuild()

    @property
    def colors(self) -> Colors:
        theme = current_theme()
        return theme.colors if theme is not None else LIGHT

    # ------------------------------------------------------------ building
    def contents(self) -> list[BlockContent]:
        doc = self.doc
        v: Validation = doc.summary_or_error()
        spec = doc.network_spec()
        ds = doc.dataset()
        layers = spec.get("layers", [])
        out: list[BlockContent] = []
        inp = BlockContent("input", INPUT_INDEX, "Input", name=str(ds.get("name", "")), group="io",
                           details=DATASET_DESCRIPTIONS.get(ds.get("name"), ""),
                           shape=format_shape(spec.get("input_shape")),
                           tooltip="<b>Input</b> — one sample of the data set; its shape is set by the data set.")
        if v.error is not None and v.error_index is None:
            inp.status, inp.message = "error", v.error
        out.append(inp)
        failed_at = v.error_index if v.error is not None and v.error_index is not None else None
        for i, entry in enumerate(layers):
            t = entry.get("type", "?")
            info = v.blocks.get(i)
            act = entry.get("activation")
            act_name = ACTIVATIONS[act].type_name if act in ACTIVATIONS else ""
            if info is not None:
                shape = format_shape(info.output_shape)
                cls = LAYERS.get(t)
                params = f"{info.params:,} params" if (cls is not None and cls.has_params) else "0 params"
            else:
                shape, params = "?", ""
            name = entry.get("name") or (info.names[0] if info is not None else "")
            status, message, fix = v.problem_at(i)
            c = BlockContent("layer", i, t, name=name, group=group_of(t), details=layer_details(entry),
                             activation=act_name, shape=shape, params=params, status=status,
                             message=message or "", fix=fix, fix_label=doc.describe_fix(fix),
                             tooltip=layer_tooltip(t) if t in LAYERS else "")
            if failed_at is not None and i > failed_at:
                c.shape, c.params = "?", ""
            out.append(c)
        loss = spec.get("loss", "softmax_cross_entropy")
        total = v.total_params if v.ok else None
        out.append(BlockContent("loss", len(layers), "Loss", name=LOSS_LABELS.get(loss, loss), group="output",
                                details=_loss_formula(loss),
                                shape="scalar",
                                params=f"total {total:,} params" if total is not None else "",
                                tooltip=loss_tooltip(loss) if loss in LOSS_LABELS else ""))
        return out

    def rebuild(self) -> None:
        before = self._selected
        self._rebuilding = True
        try:
            self._target = None
            self._indicator = None
            self.clear()
            self.blocks = []
            colors = self.colors
            y = 0.0
            prev: BlockItem | None = None
            for content in self.contents():
                item = BlockItem(content, colors)
                item.setPos(-BLOCK_WIDTH / 2, y)
                item.fix_clicked.connect(self.fix_requested)
                self.addItem(item)
                if prev is not None:
                    a = QPointF(0, prev.y() + prev.height + 3)
                    b = QPointF(0, y - 3)
                    self.addItem(ArrowItem(a, b, colors))
                self.blocks.append(item)
                prev = item
                y += item.height + GAP
            bounds = self.itemsBoundingRect()
            self.setSceneRect(bounds.adjusted(-BLOCK_WIDTH * 0.6, -40, BLOCK_WIDTH * 0.6, 40))
            self._restore_selection()
        finally:
            self._rebuilding = False
        if self._selected != before:
            self.selected_index_changed.emit(self._selected)

    def _restore_selection(self) -> None:
        if self._selected is None:
            return
        item = self.block_for(self._selected)
        if item is None and self._selected >= 0:
            n = self.doc.layer_count()
            item = self.block_for(min(self._selected, n - 1)) if n else None
        if item is not None:
            item.setSelected(True)
            self._selected = item.index
        else:
            self._selected = None

    # ------------------------------------------------------------ selection
    def block_for(self, index: int) -> BlockItem | None:
        for b in self.blocks:
            if b.index == index:
                return b
        return None

    def layer_blocks(self) -> list[BlockItem]:
        return [b for b in self.blocks if b.content.kind == "layer"]

    def selected_index(self) -> int | None:
        return self._selected

    def selected_layer_index(self) -> int | None:
        """The selected spec index if a layer block (not input/loss) is selected."""
        i = self._selected
        return i if i is not None and 0 <= i < self.doc.layer_count() else None

    def select_index(self, index: int | None) -> None:
        item = self.block_for(index) if index is not None else None
        if item is not None and item.isSelected() and len(self.selectedItems()) == 1:
            return
        self._rebuilding = True
        try:
            self.clearSelection()
            if item is not None:
                item.setSelected(True)
        finally:
            self._rebuilding = False
        if item is not None:
            for view in self.views():
                view.ensureVisible(item, 20, 20)
        self._selection_changed()

    def _selection_changed(self) -> None:
        if self._rebuilding:
            return
        items = [i for i in self.selectedItems() if isinstance(i, BlockItem)]
        index = items[0].index if items else None
        if index != self._selected:
            self._selected = index
            self.selected_index_changed.emit(index)

    # ------------------------------------------------------------ drop targets
    def insertion_index_at(self, pos: QPointF) -> int:
        """The spec index a block dropped at ``pos`` would get (gap nearest above/below)."""
        idx = 0
        for b in self.layer_blocks():
            if pos.y() > b.y() + b.height / 2:
                idx = b.index + 1
        return idx

    def block_at(self, pos: QPointF) -> BlockItem | None:
        for b in self.blocks:
            if b.sceneBoundingRect().contains(pos):
                return b
        return None

    def gap_y(self, index: int) -> float:
        """The y of the middle of the gap before spec ``index``."""
        above = self.block_for(index - 1) if index > 0 else self.block_for(INPUT_INDEX)
        below = self.block_for(index)
        if above is None or below is None:
            return 0.0
        return (above.y() + above.height + below.y()) / 2

    def show_drop_indicator(self, index: int | None) -> None:
        if index is None:
            if self._indicator is not None:
                self._indicator.hide()
            return
        if self._indicator is None:
            self._indicator = DropIndicator(self.colors)
            self.addItem(self._indicator)
        self._indicator.setPos(-BLOCK_WIDTH / 2, self.gap_y(index))
        self._indicator.show()

    def set_drop_target(self, block: BlockItem | None) -> None:
        if self._target is not None and self._target is not block:
            self._target.set_drop_target(False)
        self._target = block
        if block is not None:
            block.set_drop_target(True)

    def clear_drop_feedback(self) -> None:
        self.show_drop_indicator(None)
        self.set_drop_target(None)

    def block_rect(self, index: int) -> QRectF:
        b = self.block_for(index)
        return b.sceneBoundingRect() if b is not None else QRectF()


def _loss_formula(loss: str) -> str:
    from playground.engine.nn.losses import LOSSES

    cls = LOSSES.get(loss)
    return getattr(cls, "formula", "") if cls is not None else ""
