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
    assert "Not sure" in w.verdict.text() and "maybe" in w.verdict.text()
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
