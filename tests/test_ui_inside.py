"""The neuron view, the input-feature chooser and the Playground layout, driven through the main window."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtWidgets import QApplication, QSplitter

from playground import cli
from playground.engine.data.datasets import make_dataset
from playground.engine.nn.network import Network
from playground.engine.project import load_model, load_preset
from playground.engine.train.unit_maps import UnitMaps
from playground.ui.dashboard.samples import MAX_SHOWN
from playground.ui.inside.cnn import CnnExplainer
from playground.ui.inside.neurons import LUT32, NeuronView, class_image, diverging_index, rgb32
from playground.ui.settings import AppSettings

TIMEOUT = 30000


@pytest.fixture
def make_window(main_windows):
    return lambda project=None: main_windows(project)


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
    assert canvas.column_titles() == [("Input", "features"), ("dense1", "relu · first 16 of 64"),
                                      ("dense2", "relu · first 16 of 64")]
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


# ------------------------------------------------------------------ the CNN explainer

def tiny_cnn() -> Network:
    spec = {"input_shape": [1, 12, 12],
            "layers": [{"type": "Conv2D", "filters": 4, "kernel": 3, "stride": 2, "padding": 1,
                        "activation": "relu"},
                       {"type": "MaxPool2D", "pool": 2, "stride": 1, "padding": 1},
                       {"type": "Flatten"}, {"type": "Dense", "units": 3}, {"type": "Softmax"}],
            "loss": "softmax_cross_entropy"}
    net = Network(spec, seed=5)
    net.layers[0].params["b"][...] = [0.3, -0.2, 0.1, -0.4]
    return net


def test_a_click_on_a_channel_explains_it_and_step_and_play_move_the_window(qtbot):
    ex = CnnExplainer()
    qtbot.addWidget(ex)
    ex.resize(1400, 900)
    ex.show()
    x = np.random.default_rng(0).uniform(size=(3, 1, 12, 12)).astype(np.float32)
    ex.set_network(tiny_cnn(), "a tiny net")
    ex.set_samples(x, np.array([0, 1, 2]))
    cols = ex.columns
    assert [r["type"] for r in cols.rows] == ["Input", "Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "Softmax"]
    assert "a tiny net" in ex.note.text() and "reads" in ex.note.text()
    conv = cols.rows[1]
    qtbot.mouseClick(cols, Qt.MouseButton.LeftButton, pos=cols.tile_rects(1)[2].center().toPoint())
    step = ex.step
    assert step.row is conv and step.channel == 2 and cols.selected == (1, 2)
    assert "stride 2, padding 1" in step.title.text()
    _, oh, ow = conv["output"].shape
    for k in range(ow + 2):  # along the first row, then onto the second
        i, j = step.pos
        assert (i, j) == divmod(k, ow)
        assert step.canvas.step["z"] == pytest.approx(float(conv["output"][2, i, j]), abs=1e-5)
        assert step.canvas.step["relu"] == pytest.approx(float(cols.rows[2]["output"][2, i, j]), abs=1e-5)
        qtbot.mouseClick(step.next, Qt.MouseButton.LeftButton)
    start = step.pos
    qtbot.mouseClick(step.play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: step.pos != start, timeout=3000)
    qtbot.mouseClick(step.play, Qt.MouseButton.LeftButton)
    assert not step.timer.isActive() and step.play.text() == "Play"
    # a pooling channel: the window's maximum is the layer's output
    pool = cols.rows[3]
    qtbot.mouseClick(cols, Qt.MouseButton.LeftButton, pos=cols.tile_rects(3)[1].center().toPoint())
    assert step.row is pool and step.channel == 1
    for _ in range(5):
        qtbot.mouseClick(step.next, Qt.MouseButton.LeftButton)
        i, j = step.pos
        shown = step.canvas.step
        assert shown["value"] == pytest.approx(float(pool["output"][1, i, j]), abs=1e-6)
        assert shown["window"][shown["at"]] == shown["window"].max()
    # another image: the columns follow, the explanation waits for a new click
    ex.sample.setValue(2)
    assert np.array_equal(cols.rows[0]["output"], x[2]) and step.row is None and not step.next.isEnabled()


def test_a_network_without_images_keeps_the_one_explained(qtbot):
    ex = CnnExplainer()
    qtbot.addWidget(ex)
    ex.set_samples(np.zeros((1, 1, 12, 12), np.float32), np.array([0]))
    ex.set_network(tiny_cnn(), "a tiny net")
    dense = Network(load_preset("spiral")["network"], seed=0)
    ex.set_network(dense, "the spiral net")
    assert "not images" in ex.note.text() and ex.label == "a tiny net" and len(ex.columns.rows) == 7
    # nor through the pad's drawing: a dense digit reader (784 flat inputs) leaves the convnet in place
    flat = Network({"input_shape": [144], "layers": [{"type": "Dense", "units": 10}, {"type": "Softmax"}]}, seed=0)
    ex.show_drawing(np.ones((12, 12), np.float32), flat, "a dense reader")
    assert ex.label == "a tiny net" and ex.source_key() == "drawing" and len(ex.columns.rows) == 7
    assert "The network a dense reader takes inputs of shape (144,), not images" in ex.note.text()


def test_the_inside_tab_explains_the_bundled_digit_model_on_mnist(qtbot, make_window, monkeypatch):
    folder = os.environ.get("PLAYGROUND_MNIST_DIR") or str(Path(__file__).resolve().parents[2] / "shared/data/mnist")
    if not Path(folder).is_dir():
        pytest.skip("MNIST not found: set PLAYGROUND_MNIST_DIR or put the IDX files in ../shared/data/mnist")
    monkeypatch.setenv("PLAYGROUND_MNIST_DIR", folder)  # the app finds MNIST there, as a user who set it
    w = make_window()
    w.show_tab(w.inside_page)
    w.inside_page.setCurrentWidget(w.inside_page.cnn)
    cnn = w.inside_page.cnn
    assert cnn.net is not None and cnn.samples is not None and len(cnn.samples[0]) == 500
    assert cnn.columns.rows[1]["type"] == "Conv2D" and cnn.columns.rows[-1]["type"] == "Softmax"


# ------------------------------------------------------------------ the CNN explainer's inputs

def mnist_folder() -> str:
    folder = os.environ.get("PLAYGROUND_MNIST_DIR") or str(Path(__file__).resolve().parents[2] / "shared/data/mnist")
    if not Path(folder).is_dir():
        pytest.skip("MNIST not found: set PLAYGROUND_MNIST_DIR or put the IDX files in ../shared/data/mnist")
    return folder


def test_the_pads_drawing_opens_in_the_explainer_as_the_pad_reads_it(qtbot, make_window, monkeypatch):
    from test_ui_digits import ONE, SEVEN, draw

    monkeypatch.setenv("PLAYGROUND_MNIST_DIR", mnist_folder())
    w = make_window()
    pad = w.digit_pad
    w.show_tab(pad)
    w.show_cnn_explainer()  # the explainer reads with the bundled model; the pad, from now on, with another
    assert w.inside_page.cnn.label == pad.network_label()
    assert pad.set_network(Network(load_preset("simple-convnet")["network"], seed=3), "a fresh convnet")
    w.show_tab(pad)
    button = pad.explain.inside_button
    assert not button.isEnabled()  # nothing drawn yet
    draw(qtbot, pad.pad, SEVEN)
    # the explained reading of the whole stroke: step 4 of the pipeline is the reader's input
    qtbot.waitUntil(lambda: button.isEnabled() and pad._x is not None and not pad._reader.busy()
                    and np.array_equal(pad.explain._final.reshape(pad._x.shape), pad._x), timeout=TIMEOUT)
    read = pad._x[0].copy()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    cnn = w.inside_page.cnn
    assert w.tabs.currentWidget() is w.inside_page and w.inside_page.currentWidget() is cnn
    assert cnn.source_key() == "drawing" and not cnn.sample.isVisible()
    rows = cnn.columns.rows
    assert np.array_equal(rows[0]["output"], read)  # exactly what the pad's reader gave the network
    # read by the pad's network: its weights, and its first layer's output is the engine's on that input
    expected = pad.network().get_weights()
    assert all(np.array_equal(cnn.net.get_weights()[k], v) for k, v in expected.items())
    record: list = []
    probs = pad.network().forward(read[None], training=False, record=record)
    first = pad.network().layers[0]
    assert rows[1]["name"] == first.name and rows[1]["type"] == "Conv2D"
    np.testing.assert_array_equal(rows[1]["output"], dict(record)[first.name][0])
    guess = int(np.argmax(pad.probabilities()))
    assert cnn.label == "a fresh convnet"
    assert f"reads <b>{guess}</b>" in cnn.note.text() and "your drawing" in cnn.note.text()
    np.testing.assert_allclose(rows[-1]["output"], pad.probabilities(), atol=1e-6)
    # the chooser goes back to test images and to the drawing again
    cnn.source.setCurrentIndex(cnn.source.findData("test"))
    assert cnn.sample.isVisible() and "test image #0" in cnn.note.text()
    cnn.source.setCurrentIndex(cnn.source.findData("drawing"))
    assert np.array_equal(cnn.columns.rows[0]["output"], read)
    # drawing on: the explainer's "your drawing" follows the pad's later readings, without the button
    w.show_tab(pad)
    qtbot.mouseClick(pad.clear_button, Qt.MouseButton.LeftButton)
    draw(qtbot, pad.pad, ONE)
    qtbot.waitUntil(lambda: button.isEnabled() and pad._x is not None and not pad._reader.busy()
                    and not np.array_equal(pad._x[0], read)
                    and np.array_equal(pad.explain._final.reshape(pad._x.shape), pad._x), timeout=TIMEOUT)
    one = pad._x[0].copy()
    assert np.array_equal(cnn.columns.rows[0]["output"], read)  # hidden: not run for every stroke
    w.show_cnn_explainer()
    assert np.array_equal(cnn.columns.rows[0]["output"], one)
    assert "your drawing" in cnn.note.text()
    # the button, with the drawing already followed while hidden: one pass through the network, not two
    import playground.ui.inside.cnn as cnn_module
    traces = []
    real_trace = cnn_module.trace
    monkeypatch.setattr(cnn_module, "trace", lambda net, image: traces.append(1) or real_trace(net, image))
    w.show_tab(pad)
    qtbot.mouseClick(pad.clear_button, Qt.MouseButton.LeftButton)
    draw(qtbot, pad.pad, SEVEN)
    qtbot.waitUntil(lambda: button.isEnabled() and not pad._reader.busy()
                    and np.array_equal(pad.explain._final.reshape(pad._x.shape), pad._x)
                    and not np.array_equal(pad._x[0], one), timeout=TIMEOUT)
    assert traces == []  # hidden: the drawing waits
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert len(traces) == 1 and np.array_equal(cnn.columns.rows[0]["output"], pad._x[0])


def test_a_misclassified_sample_opens_in_the_explainer_with_its_labels(qtbot, make_window, monkeypatch):
    folder = mnist_folder()
    monkeypatch.setenv("PLAYGROUND_MNIST_DIR", folder)
    project = load_preset("simple-convnet")
    project["dataset"].update({"limit": 200, "val_limit": 100, "data_dir": folder})
    project["training"].update({"epochs": 1, "batch_size": 50})
    w = make_window(project)
    dash = w.dashboard
    dash.actions["start"].trigger()
    qtbot.waitUntil(lambda: dash.state() == "idle" and dash.live_run() is not None
                    and dash.live_run().status == "finished" and dash.live.latest_confusion is not None,
                    timeout=TIMEOUT * 2)
    matrix = dash.live.latest_confusion["matrix"]
    off = np.argwhere((matrix > 0) & ~np.eye(len(matrix), dtype=bool))
    assert len(off), "an epoch on 200 images leaves some test digits misclassified"
    true, pred = map(int, off[0])
    dash.confusion.cell_clicked.emit(true, pred)  # what a click on the cell sends
    dialog = dash.samples
    qtbot.waitUntil(dialog.isVisible)
    # a diagonal cell's samples are not misclassified: no button; this cell's are
    assert dialog.inside_button.isVisible() and dialog.inside_button.isEnabled()
    dialog.images.setCurrentRow(len(dialog.indices[:MAX_SHOWN]) - 1)
    index = int(dialog.indices[len(dialog.indices[:MAX_SHOWN]) - 1])
    qtbot.mouseClick(dialog.inside_button, Qt.MouseButton.LeftButton)
    cnn = w.inside_page.cnn
    assert w.inside_page.currentWidget() is cnn and cnn.source_key() == "wrong"
    assert not dialog.isVisible()  # out of the explainer's way; the cell brings it back
    x_val, y_val = dash.live.data.x_val, dash.live.data.y_val
    assert np.array_equal(cnn.columns.rows[0]["output"], x_val[index])
    assert int(y_val[index]) == true and int(dash.live.latest_confusion["pred"][index]) == pred
    assert f"validation sample #{index}, a {true} taken for a {pred}" in cnn.note.text()
    assert cnn.sample.prefix() == "misclassified #" and cnn.sample.maximum() == int(matrix.sum() - np.trace(matrix)) - 1
    # read by the network trained in the app
    trained = dash.current_network().get_weights()
    assert all(np.array_equal(cnn.net.get_weights()[k], v) for k, v in trained.items())
    # the next misclassified sample, through the chooser's index
    k = cnn.sample.value()
    cnn.sample.setValue((k + 1) % (cnn.sample.maximum() + 1))
    other = int(cnn.wrong["index"][cnn.sample.value()])
    assert np.array_equal(cnn.columns.rows[0]["output"], x_val[other])
    assert int(y_val[other]) != int(dash.live.latest_confusion["pred"][other])
    # a diagonal cell: its samples were read right, so there is nothing to send
    # a sample no longer misclassified (the list moved on with a later epoch): said, and no tab switched
    w.show_tab(dash)
    dialog.show()
    w.explain_misclassified(-1)
    assert w.tabs.currentWidget() is not w.inside_page and dialog.isVisible()  # the dialog stays to choose again
    assert w.statusBar().toolTip().startswith("Validation sample #-1 is not among the misclassified samples")
    assert w.statusBar().currentMessage().startswith("Validation sample #-1")
    dash.confusion.cell_clicked.emit(true, true)
    qtbot.waitUntil(dialog.isVisible)  # back, with this cell's samples
    assert not dialog.inside_button.isVisible() and "correctly classified" in dialog.header.text()


# ------------------------------------------------------------------ the neuron view's drawing

def image_pixels(image) -> np.ndarray:
    """The (h, w) uint32 pixels of an RGB32 QImage."""
    return np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), image.width())


def test_a_snapshot_is_written_into_the_images_of_the_one_before(qtbot):
    data = make_dataset({"name": "spiral", "n_samples": 100})
    net = Network(load_preset("spiral")["network"], seed=0)
    a = UnitMaps(data)(net)
    # another snapshot of the same network: every map (and the output) changed, the weights not
    b = copy.deepcopy(a)
    b["inputs"] = -b["inputs"]
    for col in b["columns"]:
        col["maps"] = -col["maps"][::-1]
    b["output"] = b["output"][:, :, ::-1].copy()
    view = NeuronView()
    qtbot.addWidget(view)
    view.resize(560, 800)
    view.set_data(data)
    view.show()
    qtbot.waitExposed(view)
    canvas = view.canvas
    canvas.set_units(a)
    qtbot.waitUntil(lambda: canvas.updates == 1)
    images, output, frames = [list(c) for c in canvas.images], canvas.output_image, canvas.frames
    assert [len(c) for c in images] == [2, 16, 16] and frames == 1
    corner = canvas.layout_rects()[0][0][0]  # x1 over the plane: largest at the right
    spot = (corner.topRight() + QPointF(-3, 3)).toPoint()
    before = canvas.grab().toImage().pixelColor(spot)
    canvas.set_units(copy.deepcopy(a))
    canvas.set_units(b)  # two before a paint: only the newest is drawn
    qtbot.waitUntil(lambda: canvas.updates == 2)
    assert canvas.units is b
    # the same image objects, over the same memory, now holding b's pixels
    assert all(x is y for was, now in zip(images, canvas.images) for x, y in zip(was, now))
    assert canvas.output_image is output
    for maps, column in zip([b["inputs"]] + [c["maps"] for c in b["columns"][:-1]], canvas.images):
        for want, image in zip(LUT32[diverging_index(maps)], column):
            np.testing.assert_array_equal(image_pixels(image), want)
    np.testing.assert_array_equal(image_pixels(output), rgb32(class_image(b["output"], False)))
    assert canvas.frames == frames  # the weights' lines did not change: not redrawn
    after = canvas.grab().toImage().pixelColor(spot)
    assert before.blue() > before.red() and after.red() > after.blue()  # x1 > 0 blue, then its negation orange
    # a hidden view draws nothing; shown again, the newest snapshot
    view.hide()
    canvas.set_units(a)
    QApplication.processEvents()
    assert canvas.updates == 2 and canvas.units is b
    view.show()
    qtbot.waitUntil(lambda: canvas.updates == 3 and canvas.units is a)
    # new weights: the lines follow, within LINES_MS
    c = copy.deepcopy(a)
    for col in c["columns"]:
        if col["weights"] is not None:
            col["weights"] = -col["weights"]
    canvas.set_units(c)
    qtbot.waitUntil(lambda: canvas.frames == frames + 1, timeout=3000)
    assert all(x is y for was, now in zip(images, canvas.images) for x, y in zip(was, now))


def test_the_step_view_is_wide_enough_for_the_kernel_grids_title(qtbot):
    from PySide6.QtGui import QFontMetrics

    from playground.engine.nn.explain import trace
    from playground.ui.inside.cnn_step import GRIDS_LEFT, KERNEL_TITLE, StepCanvas

    net = tiny_cnn()
    rows = trace(net, np.ones((1, 12, 12), np.float32))
    canvas = StepCanvas()
    qtbot.addWidget(canvas)
    canvas.show_step(rows[0], 0, 0, (0, 0))
    fm = QFontMetrics(canvas._mono)
    title = fm.horizontalAdvance(KERNEL_TITLE)
    window = fm.horizontalAdvance("window, channel 1")
    assert title > 3 * 46  # wider than the 3 × 3 grid under it: the case that was cut off
    assert canvas.minimumWidth() >= GRIDS_LEFT + max(3 * 46, window) + 30 + title
