"""The neuron view, the input-feature chooser and the Playground layout, driven through the main window."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QSplitter

from playground import cli
from playground.engine.project import load_model, load_preset
from playground.ui.app import make_application
from playground.ui.mainwindow import MainWindow
from playground.ui.settings import AppSettings
from test_ui_mainwindow import dispose

TIMEOUT = 30000


@pytest.fixture
def make_window(qtbot, tmp_path):
    made = []

    def make(project=None):
        make_application()
        w = MainWindow(project=project, settings=AppSettings(tmp_path / "settings.ini"))
        w.resize(1600, 1000)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.dashboard.shutdown()
        dispose(w)


def select_input(qtbot, w):
    w.canvas.net_scene.select_index(-1)
    qtbot.waitUntil(lambda: w.inspector.index == -1 and w.inspector.features.isVisible())


def tick(qtbot, box):
    """Click a check box on its indicator (a wide box's middle is outside its click area)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def test_the_input_block_chooses_features_and_the_network_follows(qtbot, make_window):
    w = make_window()
    select_input(qtbot, w)
    boxes = w.inspector.features.boxes
    assert [n for n, b in boxes.items() if b.isChecked()] == ["x1", "x2"]
    tick(qtbot, boxes["sin(x1)"])
    tick(qtbot, boxes["x1^2"])
    assert w.doc.dataset()["features"] == ["x1", "x2", "x1^2", "sin(x1)"]
    assert w.doc.network_spec()["input_shape"] == [4] and w.doc.summary_or_error().ok
    assert w.inspector.features.isVisible()  # the input stays selected while choosing
    # down to one feature: it cannot be taken away
    for name in ("x1", "x2", "x1^2"):
        tick(qtbot, boxes[name])
    assert w.doc.dataset()["features"] == ["sin(x1)"] and not boxes["sin(x1)"].isEnabled()
    for _ in range(5):
        w.doc.undo_stack.undo()
    assert "features" not in w.doc.dataset() and w.doc.network_spec()["input_shape"] == [2]
    assert boxes["x1"].isChecked() and boxes["x2"].isChecked() and not boxes["sin(x1)"].isChecked()
    # a data set that is not a set of 2-D points has no features to choose
    w.load_preset("sin-regression")
    w.canvas.net_scene.select_index(-1)
    qtbot.waitUntil(lambda: w.inspector.index == -1)
    assert not w.inspector.features.isVisible()


def test_the_neuron_view_follows_training_and_shows_a_unit_large(qtbot, make_window):
    project = load_preset("spiral")
    project["training"]["epochs"] = 2000
    w = make_window(project)
    w.actions["playground_layout"].trigger()
    canvas = w.neurons.canvas
    assert isinstance(w.neurons.parent(), QSplitter) and w.current_tab_widget() is w.dashboard
    w.dashboard.actions["start"].trigger()
    qtbot.waitUntil(lambda: canvas.updates >= 3, timeout=TIMEOUT)
    # inputs, then the two hidden layers of 64 units: the first 16 of each
    assert [len(c) for c in canvas.images] == [2, 16, 16]
    assert [t for t, _ in canvas.column_titles()] == ["Input", "dense1 · relu", "dense2 · relu"]
    assert canvas.column_titles()[1][1] == "first 16 of 64"
    cols, out = canvas.layout_rects()
    assert out.width() > 100 and all(r.width() >= 12 for c in cols for r in c)
    # the network view, the loss curve and the decision boundary are on screen together
    page = w.training_page
    view = page.scroll.viewport()
    for widget in (w.dashboard.curves.loss, w.dashboard.model_view.boundary):
        top_left = widget.mapTo(view, QPoint(0, 0))
        assert view.rect().contains(QRect(top_left, widget.size())), (widget, top_left, widget.size(), view.size())
    assert canvas.isVisible() and canvas.width() > 400 and page.width() >= 1500
    tile = cols[2][5].center().toPoint()
    qtbot.mouseMove(canvas, tile)
    qtbot.waitUntil(lambda: canvas.hover == (2, 5))
    assert canvas.hover_text().startswith("dense2_relu unit 6: from 0")
    image = canvas.grab().toImage()
    assert image.pixelColor(tile + QPoint(60, 0)) != image.pixelColor(QPoint(2, canvas.height() - 2))
    tick(qtbot, w.neurons.discrete_box)
    colors = {canvas.output_image.pixelColor(x, y).name() for x in range(0, 48, 3) for y in range(0, 48, 3)}
    assert len(colors) == 2  # discretized: one colour per class
    w.dashboard.actions["stop"].trigger()
    qtbot.waitUntil(lambda: w.dashboard.state() == "idle", timeout=TIMEOUT)


def test_the_playground_layout_is_remembered(qtbot, make_window, tmp_path):
    w = make_window()
    assert not w.training_page.playground and w.neurons.parent() is w.inside_page.holder
    w.actions["playground_layout"].trigger()
    assert w.training_page.playground and AppSettings(tmp_path / "settings.ini").playground_layout()
    again = make_window()
    assert again.training_page.playground and again.actions["playground_layout"].isChecked()
    again.actions["playground_layout"].trigger()
    assert again.neurons.parent() is again.inside_page.holder and not again.inside_page.note.isVisible()
    assert not AppSettings(tmp_path / "settings.ini").playground_layout()


def test_features_train_the_same_in_the_app_and_on_the_command_line(qtbot, make_window, tmp_path, capsys):
    project = load_preset("xor")
    project["dataset"]["features"] = ["x1", "x2", "x1*x2", "sin(x2)"]
    project["network"]["input_shape"] = [4]
    project["training"]["epochs"] = 3
    path = tmp_path / "features.json"
    path.write_text(json.dumps(project))
    assert cli.main(["train", str(path), "--out", str(tmp_path / "cli.npz")]) == 0
    capsys.readouterr()
    by_cli, _ = load_model(tmp_path / "cli.npz")

    w = make_window(project)
    w.dashboard.actions["start"].trigger()
    qtbot.waitUntil(lambda: w.dashboard.state() == "idle" and w.dashboard.live_run() is not None
                    and w.dashboard.live_run().status == "finished", timeout=TIMEOUT)
    in_app = w.dashboard.current_network().get_weights()
    expected = by_cli.get_weights()
    assert set(in_app) == set(expected) and expected["dense1.W"].shape[0] == 4
    assert all(np.array_equal(in_app[k], expected[k]) for k in expected)
