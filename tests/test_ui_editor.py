"""The network builder driven as a user would: palette drags, block drags, fix buttons, inspector."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from playground.engine.nn.layers import LAYERS
from playground.engine.project import load_preset
from playground.ui.builder.document import ProjectDocument
from playground.ui.builder import Inspector, LayerPalette, NetworkCanvas
from playground.ui.builder.catalog import GROUPS, MIME_TYPE, encode_payload
from playground.ui.builder.items import BlockItem


def deliver_drag(view, mime: QMimeData, scene_pos: QPointF, action=Qt.DropAction.CopyAction) -> bool:
    """Drag ``mime`` into ``view``'s viewport, move to ``scene_pos`` and drop there; True if accepted."""
    vp = view.viewport()
    ipos = view.mapFromScene(scene_pos)  # drag enter/move take a QPoint, drop a QPointF
    pos = QPointF(ipos)
    enter = QDragEnterEvent(ipos, action, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, enter)
    if not enter.isAccepted():
        return False
    move = QDragMoveEvent(ipos, action, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, move)
    drop = QDropEvent(pos, action, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, drop)
    return drop.isAccepted()


def gap_point(scene, index: int) -> QPointF:
    """The scene point in the gap before spec ``index``."""
    return QPointF(0, scene.gap_y(index))


def block_center(scene, index: int) -> QPointF:
    return scene.block_for(index).sceneBoundingRect().center()


class Editor(QWidget):
    def __init__(self, doc):
        super().__init__()
        self.doc = doc
        self.palette_ = LayerPalette(self)
        self.canvas = NetworkCanvas(doc, self)
        self.inspector = Inspector(doc, self)
        self.canvas.net_scene.selected_index_changed.connect(self.inspector.show_index)
        lay = QHBoxLayout(self)
        lay.addWidget(self.palette_)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.inspector)
        self.resize(1200, 900)


@pytest.fixture
def editor(shown):
    return shown(Editor(ProjectDocument(load_preset("spiral"))))


def test_palette_drop_inserts_the_block_where_it_is_dropped(editor):
    doc, scene = editor.doc, editor.canvas.net_scene
    mime = editor.palette_.mime_for("Dropout")
    assert mime.hasFormat(MIME_TYPE)
    assert deliver_drag(editor.canvas, mime, gap_point(scene, 2))
    assert [e["type"] for e in doc.layers()] == ["Dense", "Dense", "Dropout", "Dense", "Softmax"]
    # the scene mirrors it: a block with its shape and parameter count, selected
    block = scene.block_for(2)
    assert block.content.title == "Dropout" and block.content.shape == "64"
    assert block.content.params == "0 params"
    assert scene.selected_index() == 2
    assert editor.inspector.editor("rate").value() == 0.5
    doc.undo_stack.undo()
    assert [e["type"] for e in doc.layers()] == ["Dense", "Dense", "Dense", "Softmax"]
    assert [b.content.title for b in scene.layer_blocks()] == ["Dense", "Dense", "Dense", "Softmax"]
    doc.undo_stack.redo()
    assert scene.block_for(2).content.title == "Dropout"


def test_drop_at_the_very_top_and_bottom(editor):
    doc, scene = editor.doc, editor.canvas.net_scene
    input_block = scene.block_for(-1)
    assert deliver_drag(editor.canvas, editor.palette_.mime_for("BatchNorm"), input_block.sceneBoundingRect().center())
    assert doc.layer(0)["type"] == "BatchNorm"
    loss = scene.block_for(doc.layer_count())
    assert deliver_drag(editor.canvas, editor.palette_.mime_for("Identity"), loss.sceneBoundingRect().center())
    assert doc.layers()[-1]["type"] == "Identity"


def test_dropping_an_activation_on_a_dense_block_sets_its_activation(editor):
    doc, scene = editor.doc, editor.canvas.net_scene
    assert deliver_drag(editor.canvas, editor.palette_.mime_for("Tanh"), block_center(scene, 1))
    assert doc.layer_count() == 4
    assert doc.layer(1)["activation"] == "tanh"
    assert scene.block_for(1).content.activation == "Tanh"
    assert doc.undo_stack.undoText().startswith("Set Dense activation")


def test_dragging_a_block_reorders(editor):
    doc, scene = editor.doc, editor.canvas.net_scene
    mime = QMimeData()
    mime.setData(MIME_TYPE, encode_payload({"move": 0}))
    assert deliver_drag(editor.canvas, mime, gap_point(scene, 3), Qt.DropAction.MoveAction)
    assert [e.get("units") for e in doc.layers()] == [64, 2, 64, None]
    assert doc.layer(1).get("activation") is None and doc.layer(2)["activation"] == "relu"
    doc.undo_stack.undo()
    assert [e.get("units") for e in doc.layers()] == [64, 64, 2, None]


def test_foreign_drags_are_refused(editor):
    mime = QMimeData()
    mime.setText("Dense")
    assert not deliver_drag(editor.canvas, mime, QPointF(0, 0))
    bad = QMimeData()
    bad.setData(MIME_TYPE, b"{not json")
    assert not deliver_drag(editor.canvas, bad, QPointF(0, 0))
    assert editor.doc.undo_stack.count() == 0


def test_invalid_network_turns_the_block_red_and_the_fix_button_inserts_flatten(qtbot, shown):
    project = load_preset("simple-convnet")
    del project["network"]["layers"][2]  # no Flatten between pooling and Dense
    doc = ProjectDocument(project)
    w = shown(Editor(doc))
    scene = w.canvas.net_scene
    bad = scene.block_for(2)
    assert bad.content.status == "error"
    assert "needs a flat (features,) input, got (30, 12, 12)" in bad.content.message
    assert bad.fix_button is not None and bad.fix_button.label == "Insert Flatten"
    assert scene.block_for(3).content.shape == "?"
    assert scene.block_for(1).content.shape == "30×12×12"
    # click the button on screen
    w.canvas.ensureVisible(bad.fix_button)
    qtbot.waitUntil(lambda: w.canvas.viewport().rect().contains(
        w.canvas.mapFromScene(bad.fix_button.sceneBoundingRect().center())))
    pos = w.canvas.mapFromScene(bad.fix_button.sceneBoundingRect().center())
    qtbot.mouseClick(w.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: doc.summary_or_error().ok)
    assert doc.layer(2) == {"type": "Flatten"}
    assert all(b.content.status == "" for b in scene.blocks)
    assert scene.block_for(2).content.shape == "4320"


def test_inspector_shows_the_problem_and_its_fix(qtbot):
    project = load_preset("simple-convnet")
    del project["network"]["layers"][2]
    doc = ProjectDocument(project)
    w = Editor(doc)
    qtbot.addWidget(w)
    w.show()
    w.canvas.net_scene.select_index(2)
    assert w.inspector.problem.isVisible()
    assert "Flatten" in w.inspector.problem_text.text()
    qtbot.mouseClick(w.inspector.fix_button, Qt.MouseButton.LeftButton)
    assert doc.summary_or_error().ok
    assert doc.layer(2)["type"] == "Flatten"


def test_inspector_edits_are_validated_and_undoable(editor, qtbot):
    doc, scene = editor.doc, editor.canvas.net_scene
    scene.select_index(0)
    units = editor.inspector.editor("units")
    assert units.value() == 64 and units.minimum() == 1
    units.setValue(0)  # clamped to the minimum: never an invalid spec
    assert doc.layer(0)["units"] == 1
    units.setValue(32)
    assert doc.layer(0)["units"] == 32
    assert scene.block_for(0).content.params == f"{2 * 32 + 32:,} params"
    assert doc.undo_stack.count() == 1  # successive edits of one setting merge
    l2 = editor.inspector.editor("l2")
    l2.lineEdit().setText("1e-4")
    l2.interpretText()
    assert doc.layer(0)["l2"] == pytest.approx(1e-4)
    act = editor.inspector.editor("activation")
    act.setCurrentIndex(act.findData("sigmoid"))
    assert doc.layer(0)["activation"] == "sigmoid"
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.layer(0) == load_preset("spiral")["network"]["layers"][0]
    assert editor.inspector.editor("units").value() == 64


def test_mouse_click_selects_and_inspector_follows(editor, qtbot):
    scene = editor.canvas.net_scene
    pos = editor.canvas.mapFromScene(block_center(scene, 1))
    qtbot.mouseClick(editor.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert scene.selected_index() == 1
    assert "dense2" in editor.inspector.title.text()
    loss_pos = editor.canvas.mapFromScene(block_center(scene, editor.doc.layer_count()))
    qtbot.mouseClick(editor.canvas.viewport(), Qt.MouseButton.LeftButton, pos=loss_pos)
    assert editor.inspector.title.text() == "Loss"


def test_every_palette_block_has_a_tooltip_with_its_formula(editor):
    for _key, _title, types in GROUPS:
        for t in types:
            tip = editor.palette_.item_for(t).toolTip(0)
            assert t in tip
            first_doc_line = LAYERS[t].__doc__.strip().splitlines()[0]
            assert first_doc_line.split(":")[-1].strip()[:8] in tip.replace("&gt;", ">").replace("&lt;", "<")


def test_palette_double_click_asks_to_add(editor, qtbot):
    item = editor.palette_.item_for("Flatten")
    with qtbot.waitSignal(editor.palette_.add_requested, timeout=1000) as blocker:
        editor.palette_.tree.itemActivated.emit(item, 0)
    assert blocker.args == ["Flatten"]


def test_palette_drag_starts_from_a_real_mouse_press(editor, qtbot, monkeypatch):
    """Mouse press and move on the palette start its drag; the data it carries drops onto the canvas."""
    from playground.ui.builder.palette import _BlockTree

    captured = []
    original = _BlockTree.mimeData

    def spy(self, items):
        data = original(self, items)
        captured.append(data)
        return data

    monkeypatch.setattr(_BlockTree, "mimeData", spy)
    tree = editor.palette_.tree
    rect = tree.visualItemRect(editor.palette_.item_for("Conv2D"))
    qtbot.mousePress(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    for dx in (5, 15, 30):  # QTest's mouseMove carries no buttons: send moves with the button held
        p = QPointF(rect.center() + QPoint(dx, 0))
        move = QMouseEvent(QEvent.Type.MouseMove, p, tree.viewport().mapToGlobal(p), Qt.MouseButton.NoButton,
                           Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(tree.viewport(), move)
    qtbot.mouseRelease(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center() + QPoint(30, 0))
    assert captured, "the palette did not start a drag"
    assert deliver_drag(editor.canvas, captured[-1], gap_point(editor.canvas.net_scene, 0))
    assert editor.doc.layer(0)["type"] == "Conv2D"


def test_block_items_are_blocks(editor):
    assert all(isinstance(b, BlockItem) for b in editor.canvas.net_scene.blocks)
    assert len(editor.canvas.net_scene.blocks) == editor.doc.layer_count() + 2


def test_no_block_formula_shows_raw_latex_braces():
    """A block shows its formula as text: the Softmax block printed 'e^{xₖ}' with its braces."""
    from playground.engine.nn.losses import LOSSES
    from playground.ui.builder.catalog import layer_formula

    formulas = {name: getattr(cls, "formula", "") + layer_formula(name) for name, cls in LAYERS.items()}
    formulas |= {name: cls.formula for name, cls in LOSSES.items()}
    assert "Σ" in formulas["Softmax"]
    braced = {name: f for name, f in formulas.items() if "{" in f or "}" in f}
    assert not braced
