"""File ▸ Export Trained Network: the dialog, its code previews, the files it writes and what it refuses."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from playground.engine.nn.network import Network
from playground.engine.project import load_preset
from playground.ui import export_dialog
from playground.ui.export_dialog import ExportDialog
from test_export import untranslatable
from test_ui_mainwindow import messages, settings_file, window  # noqa: F401 (fixtures)


def small_net() -> Network:
    spec = {"input_shape": [2], "layers": [{"type": "Dense", "units": 4, "name": "hidden"}, {"type": "ReLU"},
                                           {"type": "Dense", "units": 3}, {"type": "Softmax"}]}
    return Network(spec, seed=1)


class SaveDialogs:
    """Stands in for QFileDialog in the export dialog's module: answers ``answer`` and records the calls."""

    def __init__(self, answer: str):
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def getSaveFileName(self, parent, caption, start, filters):
        self.asked.append((caption, filters))
        return self.answer, filters.split(";;")[0]


@pytest.fixture
def dialog(shown, tmp_path, messages):  # noqa: F811 (the fixture)
    return shown(ExportDialog(small_net(), "tiny-net", tmp_path), 1024, 700)


def import_generated(path, monkeypatch):
    monkeypatch.syspath_prepend(str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, path.stem, module)
    spec.loader.exec_module(module)
    return module


def test_nothing_trained_says_so(window, messages):  # noqa: F811
    window.actions["export_network"].trigger()
    assert messages.kinds() == ["information"]
    assert "Train the network first" in messages.shown[0][2]
    assert window.files.export_dialog is None


def test_the_action_exports_the_trained_network(window, messages, qtbot, tmp_path, monkeypatch):  # noqa: F811
    net = small_net()
    window.set_trained(net, "trained in the app")
    out = tmp_path / "carried.py"
    seen = []

    def drive():
        dialog = window.files.export_dialog
        seen.append(dialog.net)
        dialog.path.setText(str(out))
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, drive)
    assert window.files.export_network_dialog()
    assert seen == [net]
    assert out.exists() and (tmp_path / "carried_weights.npz").exists() is False  # 26 parameters: embedded
    assert "carried.py" in window.statusBar().currentMessage()
    x = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    np.testing.assert_allclose(import_generated(out, monkeypatch).predict(x), net.predict(x), atol=1e-5)
    assert messages.kinds() == []


def test_both_previews_show_the_forward_pass_highlighted(dialog):
    numpy_code, torch_code = dialog.numpy_pane.text(), dialog.torch_pane.text()
    assert "def forward(x):" in numpy_code and "from tiny_net import predict" in numpy_code
    assert "class TinyNet(nn.Module):" in torch_code and "self.hidden = nn.Linear(2, 4)" in torch_code
    assert dialog.numpy_pane.code.isReadOnly() and dialog.torch_pane.code.isReadOnly()
    # the view opens at the forward pass, and keywords are coloured
    top = dialog.numpy_pane.code.cursorForPosition(dialog.numpy_pane.code.viewport().rect().topLeft())
    assert top.block().text().startswith("def forward(")
    block = dialog.numpy_pane.code.document().findBlock(numpy_code.index("def forward("))
    formats = block.layout().formats()
    assert any(f.start == 0 and f.length == 3 for f in formats), "'def' is highlighted"


def test_choose_names_the_file_and_the_previews_follow(dialog, tmp_path, monkeypatch, qtbot):
    picker = SaveDialogs(str(tmp_path / "digits_reader"))
    monkeypatch.setattr(export_dialog, "QFileDialog", picker)
    qtbot.mouseClick(dialog.choice["pytorch"], Qt.MouseButton.LeftButton)
    assert dialog.path.text() == str(tmp_path / "tiny_net_torch.py")
    qtbot.mouseClick(dialog.browse, Qt.MouseButton.LeftButton)
    assert picker.asked == [("Export as PyTorch", "Python files (*.py);;All files (*)")]
    assert dialog.path.text() == str(tmp_path / "digits_reader.py")
    assert "from digits_reader import predict" in dialog.numpy_pane.text()
    assert "digits_reader_torch_weights.npz" in dialog.torch_pane.text()


@pytest.mark.parametrize("fmt", ["onnx", "numpy", "pytorch"])
def test_export_writes_the_chosen_format(fmt, dialog, tmp_path, qtbot, messages):  # noqa: F811
    qtbot.mouseClick(dialog.choice[fmt], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    names = sorted(p.name for p in tmp_path.iterdir())
    expected = {"onnx": ["tiny_net.onnx"], "numpy": ["tiny_net.py"],
                "pytorch": ["tiny_net_torch.py", "tiny_net_torch_weights.npz"]}[fmt]
    assert names == expected
    assert sorted(p.name for p in dialog.written) == expected
    assert messages.kinds() == []


def test_onnx_without_the_package_says_how_to_install_it(dialog, monkeypatch, qtbot):
    monkeypatch.setattr(export_dialog, "onnx_installed", lambda: False)
    qtbot.mouseClick(dialog.choice["onnx"], Qt.MouseButton.LeftButton)
    assert dialog.onnx_note.isVisible()
    assert 'pip install -e ".[export]"' in dialog.onnx_note.text()
    assert not dialog.export_button.isEnabled()
    qtbot.mouseClick(dialog.choice["numpy"], Qt.MouseButton.LeftButton)
    assert not dialog.onnx_note.isVisible() and dialog.export_button.isEnabled()


def test_a_layer_that_cannot_be_exported_is_named_and_nothing_is_written(shown, tmp_path, qtbot, messages):  # noqa: F811
    dialog = shown(ExportDialog(untranslatable(), "mystery", tmp_path))
    assert dialog.problem.isVisible() and "lstm1" in dialog.problem.text()
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert messages.kinds() == ["critical"]
    assert "cannot export layer 'lstm1' (Recurrent)" in messages.shown[0][2]
    assert list(tmp_path.iterdir()) == [] and dialog.isVisible()


def test_a_folder_that_does_not_exist_is_refused_and_the_dialog_stays(dialog, tmp_path, qtbot, messages):  # noqa: F811
    dialog.path.setText(str(tmp_path / "missing" / "net.py"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert messages.kinds() == ["critical"] and "does not exist" in messages.shown[0][2]
    assert "Nothing was written" in messages.shown[0][2]
    assert list(tmp_path.iterdir()) == [] and dialog.isVisible()


def test_a_preset_trained_in_the_app_previews_im2col(shown, tmp_path):
    net = Network(load_preset("simple-convnet")["network"], seed=0)
    dialog = shown(ExportDialog(net, "simple-convnet", tmp_path))
    assert "x = conv2d(x, params['conv1.W']" in dialog.numpy_pane.text()
    assert "nn.Conv2d(1, 30, kernel_size=5" in dialog.torch_pane.text()
