"""The digit pad, driven with real mouse and key events (pytest-qt)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from playground.engine.nn.network import Network
from playground.engine.project import save_model
from playground.engine.project import load_preset
from playground.ui.digits import DigitPadWidget
from playground.ui.digits.store import UserDigitStore

ROOT = Path(__file__).resolve().parents[1]

#: a "7" and a "1" in widget coordinates of a pad at least 280 px wide
SEVEN = [(60, 60), (100, 59), (140, 58), (190, 58), (215, 62), (200, 100), (180, 150), (160, 200), (145, 245)]
ONE = [(150, 50), (151, 100), (152, 150), (153, 200), (154, 250)]


def _mnist_dir() -> Path | None:
    env = os.environ.get("PLAYGROUND_MNIST_DIR")
    folder = Path(env) if env else ROOT.parent / "shared" / "data" / "mnist"
    return folder if folder.is_dir() else None


def _digit_net(seed: int = 0) -> Network:
    return Network(load_preset("simple-convnet")["network"], seed=seed)


@pytest.fixture
def net():
    return _digit_net()


@pytest.fixture(scope="module", autouse=True)
def _engine_pool_started():
    """The engine keeps one process-wide pool of worker threads for large batches, started on first use.

    Start it before the per-test thread-leak check looks, so fine-tuning's
    first large batch does not count as a thread the test left running.
    """
    _digit_net().forward(np.zeros((64, 1, 28, 28), np.float32))


@pytest.fixture
def make_widget(shown, tmp_path):
    made = []

    def make(network=None, bundled=None, mnist=None):
        w = shown(DigitPadWidget(bundled_model=bundled or tmp_path / "no-such-model.npz",
                                 store_dir=tmp_path / "store", mnist_dir=mnist), 1400, 820)
        if network is not None:
            assert w.set_network(network, "test network")
        made.append(w)
        return w

    yield make
    for w in made:
        w.shutdown()
        assert not w.is_finetuning(), "a fine-tuning thread was left running"


def press(qtbot, pad, point):
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(*point))


def move(pad, point):
    """A mouse move with the left button held (QTest's mouseMove cannot hold a button)."""
    local = QPointF(*point)
    event = QMouseEvent(QEvent.Type.MouseMove, local, pad.mapToGlobal(local), Qt.MouseButton.NoButton,
                        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(pad, event)


def release(qtbot, pad, point):
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(*point))


def draw(qtbot, pad, points):
    press(qtbot, pad, points[0])
    for p in points[1:]:
        move(pad, p)
    release(qtbot, pad, points[-1])


# ---------------------------------------------------------------- drawing and reading

def test_bars_update_while_the_stroke_is_drawn(qtbot, make_widget, net):
    w = make_widget(net)
    assert w.probabilities() is None
    seen = []
    w.prediction_changed.connect(seen.append)
    press(qtbot, w.pad, SEVEN[0])
    for p in SEVEN[1:5]:
        move(w.pad, p)
    # before the button is released, the bars already show a reading
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    first = w.probabilities()
    assert first.shape == (10,) and abs(first.sum() - 1) < 1e-4
    for p in SEVEN[5:]:
        move(w.pad, p)
    qtbot.waitUntil(lambda: not np.allclose(w.probabilities(), first), timeout=2000)
    release(qtbot, w.pad, SEVEN[-1])
    assert w.pad.stroke_count() == 1
    # moves are coalesced: fewer predictions than mouse events, but at least one
    assert 1 <= len(seen) <= len(SEVEN) + 1
    # the ink's bounding box is shown, and the pipeline views are filled
    qtbot.waitUntil(lambda: not w.explain.view_final.image().isNull(), timeout=2000)
    assert w.pad._bbox is not None
    assert not w.explain.view_saliency.image().isNull()
    assert not w.explain.view_maps.image().isNull()  # a conv network: its feature maps
    # an untrained network gives about 10 % to each digit: the pad says it is not sure, and names two guesses
    # (once the whole 7 is read: its top bar alone, read mid-stroke, is a dash, "Not a digit?")
    qtbot.waitUntil(lambda: "Not sure: maybe" in w.verdict.text(), timeout=3000)
    assert not w.judgement().sure and w.bars.second() == w.judgement().second


def test_both_ink_colours_read_the_same(qtbot, make_widget, net):
    w = make_widget(net)
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    dark = w.probabilities()
    w.colours.setCurrentIndex(1)  # light ink on dark paper: the same strokes, recoloured
    assert not w.pad.dark_on_light()
    qtbot.waitUntil(lambda: w.pad.canvas_array()[0, 0] == 0, timeout=2000)
    qtbot.waitUntil(lambda: np.allclose(w.probabilities(), dark, atol=1e-5), timeout=2000)


def test_clear_button_and_escape(qtbot, make_widget, net):
    w = make_widget(net)
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    qtbot.mouseClick(w.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.probabilities() is None, timeout=2000)
    assert w.pad.is_empty() and w.pad.canvas_array().min() == 255

    draw(qtbot, w.pad, ONE)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    w.pad.setFocus()
    qtbot.keyClick(w.pad, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.probabilities() is None, timeout=2000)
    assert w.pad.is_empty()


def test_undo_removes_the_last_stroke(qtbot, make_widget, net):
    w = make_widget(net)
    draw(qtbot, w.pad, ONE)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    one_only = w.probabilities()
    canvas_one = w.pad.canvas_array()
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: not np.allclose(w.probabilities(), one_only), timeout=2000)
    assert w.pad.stroke_count() == 2
    qtbot.mouseClick(w.undo_button, Qt.MouseButton.LeftButton)
    assert w.pad.stroke_count() == 1
    assert np.array_equal(w.pad.canvas_array(), canvas_one)  # re-rendered exactly as it was
    qtbot.waitUntil(lambda: np.allclose(w.probabilities(), one_only, atol=1e-6), timeout=2000)
    w.pad.setFocus()
    qtbot.keyClick(w.pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.probabilities() is None, timeout=2000)
    assert not w.pad.undo()  # nothing left


def test_loading_an_image_file(qtbot, make_widget, net, tmp_path):
    w = make_widget(net)
    img = np.full((90, 140), 250, np.uint8)  # dark ink on light paper, not square, off-centre
    img[10:60, 100:108] = 20
    path = tmp_path / "digit.png"
    Image.fromarray(img).save(path)
    assert w.load_image_file(path)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    assert w.pad.dark_on_light() and w.colours.currentIndex() == 0
    assert w.pad.canvas_array().min() < 60
    # undo takes the image away
    assert w.pad.undo()
    qtbot.waitUntil(lambda: w.probabilities() is None, timeout=2000)

    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"hello")
    assert not w.load_image_file(bad)
    assert "not an image" in w.message_text()


# ---------------------------------------------------------------- networks

def test_missing_bundled_model_says_what_is_missing_and_how_to_make_it(qtbot, make_widget, tmp_path):
    w = make_widget()
    assert w.network() is None
    text = w.message_text()
    assert "missing" in text and "no-such-model.npz" in text and "playground train" in text
    draw(qtbot, w.pad, ONE)  # no crash, no reading
    qtbot.waitUntil(lambda: "No network" in w.verdict.text(), timeout=2000)
    assert w.probabilities() is None


def test_bundled_model_and_going_back_to_it(qtbot, make_widget, tmp_path, net):
    bundled = tmp_path / "models" / "digits.npz"
    bundled.parent.mkdir()
    save_model(_digit_net(seed=5), bundled, metrics={"val_accuracy": 0.9931}, extra={"project_name": "simple-convnet"})
    (bundled.parent / "README.md").write_text("Rebuild with:\n\n    python -m playground train simple-convnet "
                                              "--out resources/models/digits.npz\n")
    w = make_widget(bundled=bundled)
    assert w.is_bundled() and "bundled model" in w.network_label() and "99.31%" in w.network_label()
    assert not w.bundled_button.isEnabled()
    assert w.set_network(net, "trained in the app, epoch 3")
    assert not w.is_bundled() and w.network_label() == "trained in the app, epoch 3"
    assert w.bundled_button.isEnabled()
    qtbot.mouseClick(w.bundled_button, Qt.MouseButton.LeftButton)
    assert w.is_bundled()


def test_set_network_keeps_its_own_copy(qtbot, make_widget, net):
    w = make_widget(net)
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    before = w.probabilities()
    for v in net.params().values():  # the caller goes on training its network
        v += 0.5
    w.pad.undo()
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    assert np.allclose(w.probabilities(), before, atol=1e-6)


def test_a_network_that_does_not_read_digits_is_refused(qtbot, make_widget, net):
    w = make_widget(net)
    flat = Network({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}, {"type": "Softmax"}]})
    assert not w.set_network(flat, "spiral classifier")
    text = w.message_text()
    assert "does not read digits" in text and "28×28" in text and "10 class" in text
    assert "test network" in text  # says which one it still reads with
    assert w.network_label() == "test network"
    mlp = Network(load_preset("mlp-mnist")["network"], seed=0)
    if tuple(mlp.input_shape) in ((1, 28, 28), (784,)):
        assert w.set_network(mlp, "an MLP")
        draw(qtbot, w.pad, ONE)
        qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
        qtbot.waitUntil(lambda: "no convolution" in w.explain.view_maps._text, timeout=2000)


# ---------------------------------------------------------------- teaching

def test_typing_the_right_digit_saves_the_drawing(qtbot, make_widget, net, tmp_path):
    w = make_widget(net)
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    w.pad.setFocus()
    qtbot.keyClick(w.pad, "7")  # a digit key over the pad goes to the label field
    assert w.label_edit.text() == "7"
    qtbot.keyClick(w.label_edit, Qt.Key.Key_Return)
    store = UserDigitStore(tmp_path / "store")
    files = store.files()
    assert len(files) == 1 and files[0][1] == 7 and files[0][0].parent.name == "7"
    saved = np.asarray(Image.open(files[0][0]))
    assert saved.shape == w.pad.canvas_array().shape and np.array_equal(saved, w.pad.canvas_array())
    x, y = store.arrays()
    assert x.shape == (1, 1, 28, 28) and y.tolist() == [7]
    assert "1 saved" in w.store_label.text()
    assert w.label_edit.text() == ""
    assert w.finetune_button.isEnabled()


def test_saving_needs_a_label_and_ink(qtbot, make_widget, net, tmp_path):
    w = make_widget(net)
    w.label_edit.setText("3")
    assert w.save_current_digit() is None and "empty" in w.message_text()
    draw(qtbot, w.pad, ONE)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    w.label_edit.clear()
    assert w.save_current_digit() is None and "0–9" in w.message_text()
    assert len(UserDigitStore(tmp_path / "store")) == 0


def test_fine_tune_runs_in_the_worker_and_changes_the_prediction(qtbot, make_widget, net):
    mnist = _mnist_dir()
    if mnist is None:
        pytest.skip("MNIST not found: set PLAYGROUND_MNIST_DIR or put it in ../shared/data/mnist")
    w = make_widget(net, mnist=mnist)
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    w.label_edit.setText("7")
    assert w.save_current_digit() is not None
    reading = w.network()
    with qtbot.waitSignal(w.finetune_finished, timeout=120000) as blocker:
        assert w.start_finetune(steps=3)
        assert w.is_finetuning()
        assert w.network() is reading  # the GUI keeps reading with the original meanwhile
    result = blocker.args[0]
    assert result["status"] == "finished", result
    assert result["mnist"] and result["steps"] == 3
    assert not np.allclose(result["before"], result["after"])
    assert w.network() is result["net"] and w.network() is not reading
    assert "fine-tuned 3 steps" in w.network_label()
    qtbot.waitUntil(lambda: w.probabilities() is not None and np.allclose(w.probabilities(), result["after"],
                                                                          atol=1e-5), timeout=2000)
    assert "→" in w.finetune_label.text()


def test_fine_tune_without_saved_digits_says_so(qtbot, make_widget, net):
    w = make_widget(net)
    assert not w.start_finetune(steps=2)
    assert "save at least one" in w.message_text()
    assert not w.is_finetuning()


# ---------------------------------------------------------------- the pad keeps its network (issue 15, item 14)

def test_the_app_offers_its_network_and_the_pad_keeps_its_own_until_the_user_takes_it(qtbot, make_widget, net):
    trained = _digit_net(seed=1)
    w = make_widget(trained)
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    before = w.probabilities()
    fresh = _digit_net(seed=9)  # Start on an MNIST project: the untrained network of the new run
    w.offer_network(fresh, "trained in the app")
    assert w.network_label() == "test network" and not w.follows_app()
    assert w.offer_button.isVisibleTo(w) and "trained in the app" in w.network_box.offer_label.text()
    w.pad.undo()
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)
    assert np.allclose(w.probabilities(), before, atol=1e-6)  # still read by the network the user had
    # a network that does not read digits is not even offered
    w.offer_network(Network({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}), "trained in the app")
    assert not w.offer_button.isVisibleTo(w) and w.message_text() == ""
    w.offer_network(fresh, "trained in the app")
    qtbot.mouseClick(w.offer_button, Qt.MouseButton.LeftButton)
    assert w.follows_app() and w.network_label() == "trained in the app" and not w.offer_button.isVisibleTo(w)
    later = _digit_net(seed=10)
    w.offer_network(later, "trained in the app")  # following: the next one is read at once
    assert w.follows_app() and not w.offer_button.isVisibleTo(w)
    qtbot.waitUntil(lambda: not np.allclose(w.probabilities(), before, atol=1e-4), timeout=2000)
    qtbot.mouseClick(w.bundled_button, Qt.MouseButton.LeftButton)  # no bundled model here: a message, no change
    assert w.follows_app() and "missing" in w.message_text()


def test_the_network_read_with_can_be_saved_and_read_back(qtbot, make_widget, net, tmp_path):
    from playground.engine.project import load_model

    w = make_widget(net)
    assert w.save_network_button.isEnabled()
    out = tmp_path / "mine.npz"
    assert w.save_network(out)
    again, meta = load_model(out)
    for k, v in net.params().items():
        assert np.array_equal(again.params()[k], v)
    assert meta["dataset"] == {"name": "mnist"} and meta["project_name"] == "test network"
    assert "Saved the network" in w.finetune_label.text()
    assert not w.save_network(tmp_path / "no-such-folder" / "x.npz")
    assert "not saved" in w.message_text()


def test_a_fine_tuned_model_is_labelled_without_the_base_accuracy_and_can_be_saved(qtbot, make_widget, tmp_path):
    bundled = tmp_path / "models" / "digits.npz"
    bundled.parent.mkdir()
    save_model(_digit_net(seed=5), bundled, metrics={"val_accuracy": 0.9949}, extra={"project_name": "digit-reader"})
    w = make_widget(bundled=bundled)
    assert "99.49%" in w.network_label() and not w.save_network_button.isEnabled()
    w.finetune_label.setText("This drawing: 3 → 7")
    base = w.network()
    w._finetune_base = (base, w.network_label())
    w._on_finetune_finished({"status": "finished", "net": _digit_net(seed=6), "steps": 5, "mnist": True,
                             "before": np.eye(10)[3], "after": np.eye(10)[7],
                             "user_accuracy_before": 0.5, "user_accuracy_after": 1.0})
    assert "fine-tuned 5 steps" in w.network_label() and "%" not in w.network_label()
    assert "digit-reader" in w.network_label()
    assert "→" in w.finetune_label.text() and "Save network" in w.finetune_label.text()
    assert w.save_network_button.isEnabled()
    # the fine-tune result goes when another network is picked: it was about the old one
    qtbot.mouseClick(w.bundled_button, Qt.MouseButton.LeftButton)
    assert w.finetune_label.text() == "" and w.is_bundled()


# ---------------------------------------------------------------- stale texts, blank images (items 16, 17)

def test_clear_resets_the_saliency_caption(qtbot, make_widget, net):
    w = make_widget(net)
    draw(qtbot, w.pad, SEVEN)
    qtbot.waitUntil(lambda: "∂s<sub>" in w.explain.caption_saliency.text(), timeout=3000)
    assert "feature maps of" in w.explain.caption_maps.text()
    qtbot.mouseClick(w.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.probabilities() is None, timeout=2000)
    assert w.explain.caption_saliency.text() == "saliency ∂score/∂pixel"
    assert w.explain.caption_maps.text() == "first conv layer's feature maps"
    assert w.verdict.text() == "Draw a digit…"


def test_the_refusal_note_goes_when_a_network_that_reads_digits_comes(qtbot, make_widget, net):
    w = make_widget(net)
    assert not w.set_network(Network({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}), "spiral")
    assert "does not read digits" in w.message_text()
    assert w.set_network(_digit_net(seed=3), "imported from mine.npz")
    assert w.message_text() == "" and not w.message.isVisibleTo(w)


def test_a_blank_image_is_refused_and_the_pad_keeps_its_colours(qtbot, make_widget, net, tmp_path):
    w = make_widget(net)
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((60, 80), 255, np.uint8)).save(blank)
    assert not w.load_image_file(blank)
    assert "No ink in blank.png" in w.message_text()
    assert w.pad.dark_on_light() and w.colours.currentIndex() == 0 and w.pad.is_empty()
    draw(qtbot, w.pad, SEVEN)  # later strokes are dark on the white paper, and read
    assert w.pad.canvas_array().min() == 0
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)


# ---------------------------------------------------------------- every point kept while readings are slow (item 18)

def test_strokes_keep_every_point_while_readings_are_slow(qtbot, make_widget, net, monkeypatch):
    import threading
    import time as clock

    from playground.ui.digits import reader

    real = reader.read_canvas
    where, canvases = [], []

    def slow(job):
        where.append(threading.current_thread() is threading.main_thread())
        clock.sleep(0.05)  # a busy machine: 50 ms a reading
        canvases.append(job.canvas)
        return real(job)

    monkeypatch.setattr(reader, "read_canvas", slow)
    w = make_widget(net)
    seen = []
    w.prediction_changed.connect(seen.append)
    points = [(60 + 2 * i, 60 + (i * 7) % 180) for i in range(120)]
    press(qtbot, w.pad, points[0])
    started = clock.perf_counter()
    for p in points[1:]:
        move(w.pad, p)
        QApplication.processEvents()  # the event loop turns between moves, as it does for a hand
    fed = clock.perf_counter() - started
    release(qtbot, w.pad, points[-1])
    stroke = w.pad._items[-1]
    got = [(round(q.x(), 3), round(q.y(), 3)) for q in stroke.points]
    want = [(round(w.pad.to_pad(QPointF(*p)).x(), 3), round(w.pad.to_pad(QPointF(*p)).y(), 3)) for p in points]
    assert got == want  # every mouse event is a point of the stroke
    # the GUI thread never waited for a reading: 120 moves took less than 120 readings would
    assert fed < 0.05 * len(points) / 2
    qtbot.waitUntil(lambda: not reader.PadReader.busy(w._reader) and len(canvases) >= 2, timeout=5000)
    qtbot.waitUntil(lambda: np.array_equal(canvases[-1], w.pad.canvas_array()), timeout=5000)
    assert where and not any(where)  # read in the reader's thread
    assert len(canvases) < len(points) / 2  # coalesced: the latest drawing only, never a queue
    qtbot.waitUntil(lambda: w.probabilities() is not None, timeout=2000)


def test_a_tall_fitted_one_is_drawn_in_a_square_and_keeps_the_see_every_layer_button_in_view(qtbot, make_widget, net):
    w = make_widget(net)
    draw(qtbot, w.pad, ONE)
    qtbot.waitUntil(lambda: w.explain.inside_button.isEnabled() and not w._reader.busy(), timeout=10000)
    fit = w.explain.view_fit
    assert fit.image().height() > 2 * fit.image().width()  # a 1: its box is tall and narrow
    assert fit.heightForWidth(100) == 100
    # it was 3.3x its width; now at most what its row's other box leaves it (the views stretch together)
    qtbot.waitUntil(lambda: fit.height() <= 1.5 * max(fit.width(), fit.minimumHeight()))
    button = w.explain.inside_button
    bottom = button.mapTo(w, QPoint(0, button.height())).y()
    assert bottom <= w.height(), (bottom, w.height())


def test_a_dense_reader_cannot_open_its_drawing_in_the_cnn_explainer_and_says_why(qtbot, make_widget):
    dense = Network({"input_shape": [784], "layers": [{"type": "Dense", "units": 10}, {"type": "Softmax"}]}, seed=0)
    w = make_widget(dense)
    draw(qtbot, w.pad, ONE)
    qtbot.waitUntil(lambda: w.explain._final is not None and not w._reader.busy(), timeout=10000)
    button = w.explain.inside_button
    assert not button.isEnabled() and "not as an image" in button.toolTip()
    assert w.set_network(_digit_net(), "a convnet")
    draw(qtbot, w.pad, ONE)
    qtbot.waitUntil(lambda: button.isEnabled(), timeout=10000)
    assert "Open this drawing" in button.toolTip()
