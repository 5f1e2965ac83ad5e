"""Bad project and model files in the app: one dialog saying what is wrong, nothing lost, nothing raised later."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from playground.engine.errors import PlaygroundError
from PySide6.QtWidgets import QApplication

from playground.engine.nn.network import Network
from playground.engine.project import load_preset, save_model
from playground.ui import dialogs
from playground.ui.app import make_application, open_main_window
from playground.ui.builder.commands import InsertLayer
from playground.ui.files import describe_problem
from playground.ui.mainwindow import MainWindow
from playground.ui.settings import AppSettings
from test_ui_mainwindow import Messages, dispose


@pytest.fixture
def messages(monkeypatch):
    m = Messages()
    monkeypatch.setattr(dialogs, "QMessageBox", m)
    return m


@pytest.fixture
def uncaught(monkeypatch):
    """Exceptions that reach sys.excepthook (a slot or paint event that raised)."""
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: seen.append(value))
    return seen


@pytest.fixture
def window(qtbot, messages, tmp_path):
    make_application()
    w = MainWindow(settings=AppSettings(tmp_path / "settings.ini"))
    w.show()
    qtbot.waitExposed(w)
    yield w
    dispose(w)


def redraw_everything(w: MainWindow) -> None:
    """Paint the editor, the training tab and the docks now (grab() paints) and let queued updates run."""
    for page in (w.canvas, w.dashboard):
        w.show_tab(page)
        QApplication.processEvents()
        w.grab()
    w.show_tab(w.canvas)
    for dock in w.docks.values():
        dock.widget().grab()
    QApplication.processEvents()


def spiral_text(change) -> str:
    """The spiral preset as JSON text after ``change(project)`` (NaN and Infinity written as JSON allows)."""
    project = load_preset("spiral")
    change(project)
    return json.dumps(project)


def mnist_with(**dataset) -> str:
    project = load_preset("mlp-mnist")
    project["dataset"].update(dataset)
    return json.dumps(project)


def set_layer(key, value, index=0):
    return lambda p: p["network"]["layers"][index].__setitem__(key, value)


def set_training(key, value):
    return lambda p: p["training"].__setitem__(key, value)


BAD_PROJECTS = {
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "object nested 100,000 deep": '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "units NaN": spiral_text(set_layer("units", float("nan"))),
    "units Infinity": spiral_text(set_layer("units", float("inf"))),
    "units 1e308": spiral_text(set_layer("units", 1e308)),
    "init std 1e6": spiral_text(set_layer("init", {"type": "normal", "std": 1e6})),
    "input_shape NaN": spiral_text(lambda p: p["network"].__setitem__("input_shape", [float("nan")])),
    "input_shape 1e308": spiral_text(lambda p: p["network"].__setitem__("input_shape", [1e308])),
    "epochs Infinity": spiral_text(set_training("epochs", float("inf"))),
    "epochs NaN": spiral_text(set_training("epochs", float("nan"))),
    "batch size 1e308": spiral_text(set_training("batch_size", 1e308)),
    "seed NaN": spiral_text(set_training("seed", float("nan"))),
    "seed Infinity": spiral_text(set_training("seed", float("inf"))),
    "layer name a list": spiral_text(set_layer("type", ["Dense"])),
    "layer name a dict": spiral_text(set_layer("type", {"name": "Dense"})),
    "training a list": spiral_text(lambda p: p.__setitem__("training", [1, 2])),
    "data_dir a number": mnist_with(data_dir=5),
    "limit NaN": mnist_with(limit=float("nan")),
}


def test_bad_projects_are_refused_with_one_dialog_or_open_showing_their_problem(window, messages, uncaught,
                                                                               tmp_path):
    """Each file is refused, the edited project kept; or (what the engine lets through) it opens and the
    views show its problem instead of raising on every redraw."""
    doc = window.doc
    folder = tmp_path / "folder.json"
    folder.mkdir()
    cases = {**{case: tmp_path / f"{i}.json" for i, case in enumerate(BAD_PROJECTS)}, "a folder": folder}
    opened_cases = set()
    for case, path in cases.items():
        if case in BAD_PROJECTS:
            path.write_text(BAD_PROJECTS[case])
        doc.load(load_preset("spiral"))
        doc.push(InsertLayer(doc, 1, {"type": "Dropout"}))
        before = doc.project()
        messages.shown.clear()
        opened = window.open_project(path)
        redraw_everything(window)
        assert uncaught == [], case
        if opened:
            assert messages.kinds() == ["warning"], case  # only "save your changes first?"
            assert doc.path == path, case
            opened_cases.add(case)
            continue
        assert messages.kinds() == ["critical"], case
        _kind, title, text = messages.shown[0]
        assert title == "Cannot open the project"
        assert text.startswith(f"Cannot open {path.name}: "), case
        assert "Expected a playground project" in text and "unchanged" in text, case
        assert doc.project() == before and doc.dirty and doc.path is None, case
    assert not opened_cases & {"nested 100,000 deep", "epochs NaN", "training a list", "a folder"}


def test_views_show_a_network_the_engine_cannot_build_instead_of_raising(window, messages, uncaught):
    project = load_preset("spiral")
    project["network"]["layers"][1]["units"] = float("nan")
    window.doc.load(project)
    redraw_everything(window)
    assert uncaught == []
    assert "does not fit" in window.network_label.text() and "layer 2" in window.network_label.text()
    block = window.canvas.net_scene.block_for(1)
    assert block.content.status == "error" and "nan" in block.content.message.lower()
    assert window.canvas.net_scene.block_for(0).content.status != "error"


def test_a_training_value_no_box_can_show_is_framed_and_named(window, messages, uncaught):
    project = load_preset("spiral")
    project["training"]["batch_size"] = 10 ** 400  # refused when read: no box is ever asked to show it
    with pytest.raises(PlaygroundError, match="batch_size' must be a whole number from 1 to 1,000,000"):
        window.doc.load(project)
    project["training"]["batch_size"] = 1_000_000  # a size the engine takes, beyond the box's 60,000
    window.doc.load(project)
    redraw_everything(window)
    assert uncaught == []
    box = window.training_panel.batch_size
    assert box.value() == box.maximum()
    assert "cannot show" in box.toolTip() and "1000000" in box.toolTip()
    window.doc.load(load_preset("spiral"))
    assert box.value() == 32 and "cannot show" not in box.toolTip()


def model_file(tmp_path, name="model.npz", **meta_changes):
    """A small trained-model file of the spiral network, its metadata changed by ``meta_changes``."""
    spiral = load_preset("spiral")
    path = tmp_path / name
    save_model(Network(spiral["network"], seed=1), path, training=spiral["training"], dataset=spiral["dataset"])
    if meta_changes:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays["__meta__"]))
        for key, change in meta_changes.items():
            change(meta)
        arrays["__meta__"] = np.array(json.dumps(meta))
        np.savez(path, **arrays)
    return path


def bad_models(tmp_path):
    npy = tmp_path / "array.npz"
    np.save(tmp_path / "array.npy", np.zeros(3))
    (tmp_path / "array.npy").rename(npy)
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    return {
        "an .npy renamed .npz": npy,
        "a folder": folder,
        "a string seed": model_file(tmp_path, "seed.npz", seed=lambda m: m.__setitem__("seed", "abc")),
        "NaN units": model_file(tmp_path, "units.npz",
                                units=lambda m: m["network"]["layers"][0].__setitem__("units", float("nan"))),
        "network a list": model_file(tmp_path, "network.npz", network=lambda m: m.__setitem__("network", [1])),
        "metadata emptied": model_file(tmp_path, "meta.npz", meta=lambda m: m.clear()),
    }


def test_bad_model_files_are_refused_with_one_dialog_each(window, messages, uncaught, tmp_path):
    doc = window.doc
    doc.push(InsertLayer(doc, 1, {"type": "Dropout"}))
    before = doc.project()
    for case, path in bad_models(tmp_path).items():
        messages.shown.clear()
        assert not window.import_model(path), case
        redraw_everything(window)
        assert uncaught == [], case
        assert messages.kinds() == ["critical"], case
        _kind, title, text = messages.shown[0]
        assert title == "Cannot import the model"
        assert text.startswith(f"Cannot import {path.name}: "), case
        assert "Expected a trained model (.npz)" in text and "unchanged" in text, case
        assert doc.project() == before and doc.dirty, case
        assert window.trained_network() is None, case


def test_a_model_with_unusable_training_settings_is_refused_and_the_project_kept(window, messages, uncaught,
                                                                              tmp_path):
    path = model_file(tmp_path, "training.npz", training=lambda m: m.__setitem__("training", [1]))
    project = window.doc.project()
    assert not window.import_model(path)  # the model file's metadata is refused as a whole, with one dialog
    redraw_everything(window)
    assert uncaught == [] and messages.kinds() == ["critical"]
    assert "training" in messages.shown[0][2]
    assert window.doc.project() == project


@pytest.mark.parametrize("case", ["nested 100,000 deep", "units NaN"])
def test_the_app_starts_on_the_default_project_and_says_why_the_file_did_not_open(qtbot, messages, uncaught,
                                                                                   tmp_path, case):
    make_application()
    bad = tmp_path / "start.json"
    bad.write_text(BAD_PROJECTS[case])
    window = open_main_window([str(bad)])
    try:
        qtbot.waitExposed(window)
        redraw_everything(window)
        assert uncaught == []
        if window.doc.path is None:  # refused: the default project and one dialog, once the window is up
            qtbot.waitUntil(lambda: bool(messages.shown))
            assert window.doc.name == "spiral"
            assert messages.kinds() == ["critical"]
            assert messages.shown[0][2].startswith("Cannot open start.json: ")
        else:
            assert messages.shown == []
    finally:
        dispose(window)


def test_a_project_that_is_not_there_at_start_says_so(qtbot, messages, uncaught, tmp_path):
    make_application()
    window = open_main_window([str(tmp_path / "missing.json")])
    try:
        qtbot.waitUntil(lambda: bool(messages.shown))
        assert window.doc.name == "spiral" and window.doc.path is None
        assert "missing.json" in messages.shown[0][2] and "no such project file" in messages.shown[0][2]
    finally:
        dispose(window)


@pytest.mark.parametrize("error, words", [
    (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
    (MemoryError(), "too large"),
    (OverflowError("cannot convert float infinity to integer"), "infinity"),
    (ValueError("cannot convert float NaN to integer"), "NaN"),
    (TypeError("unhashable type: 'list'"), "unhashable"),
    (KeyError("network"), "'network' is missing"),
    (IsADirectoryError(21, "Is a directory"), "Is a directory"),
])
def test_every_kind_of_loading_error_is_described_in_words(error, words):
    text = describe_problem(error, "/some/file.json")
    assert words in text
    assert "\n" not in text and "Traceback" not in text
