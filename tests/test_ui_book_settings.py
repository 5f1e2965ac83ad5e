"""Settings the book uses, set in the app's widgets: the normal initializer's std in the inspector, and the sin
set's x range, sample count and noise in the training panel; each undoable, saved, and trained on as the CLI
trains."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from playground.cli import main
from playground.engine.data.datasets import default_spec, make_dataset
from playground.engine.project import load_model, load_preset, save_project
from playground.engine.train.trainer import TrainConfig, Trainer
from playground.ui.builder.document import ProjectDocument
from playground.ui.dashboard.dashboard import build_network
from test_ui_editor import Editor


def type_into(qtbot, box, text: str) -> None:
    """Type ``text`` into a spin box as a user does: select all, type, press Enter."""
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)


def choose(box, data) -> None:
    box.setCurrentIndex(box.findData(data))


# ------------------------------------------------------------------ the normal initializer's std

@pytest.fixture
def editor(shown):
    return shown(Editor(ProjectDocument(load_preset("spiral"))))


def test_the_std_field_shows_for_the_normal_initializer_only_and_its_edits_undo(editor, qtbot):
    doc, inspector = editor.doc, editor.inspector
    editor.canvas.net_scene.select_index(0)
    std = inspector.editor("init_std")
    assert doc.layer(0)["init"] == "he_normal" and not std.isVisible() and not std.isEnabled()
    assert "N(0, σ²)" in std.toolTip() and "0.01" in std.toolTip()
    choose(inspector.editor("init"), "normal")
    assert doc.layer(0)["init"] == "normal"
    assert std.isVisible() and std.isEnabled() and std.value() == pytest.approx(0.01)
    type_into(qtbot, std, "0.05")
    assert doc.layer(0)["init"] == {"type": "normal", "std": 0.05}
    std.stepBy(1)                                   # the arrows double it; one undo step with the typing
    assert doc.layer(0)["init"] == {"type": "normal", "std": 0.1}
    assert "init normal σ 0.1" in editor.canvas.net_scene.block_for(0).content.details   # the block says it too
    assert doc.undo_stack.count() == 2              # choosing normal, then its std
    doc.undo_stack.undo()
    assert doc.layer(0)["init"] == "normal" and std.value() == pytest.approx(0.01)
    doc.undo_stack.undo()
    assert doc.layer(0)["init"] == "he_normal" and not std.isVisible()
    doc.undo_stack.redo()
    doc.undo_stack.redo()
    assert doc.layer(0)["init"] == {"type": "normal", "std": 0.1} and std.value() == pytest.approx(0.1)
    editor.canvas.net_scene.select_index(1)         # another layer shows its own initializer
    assert doc.layer(1)["init"] == "he_normal" and not inspector.editor("init_std").isVisible()


def test_the_std_is_saved_and_the_cli_trains_the_weights_the_app_trains(editor, qtbot, tmp_path, capsys):
    doc, inspector = editor.doc, editor.inspector
    editor.canvas.net_scene.select_index(0)
    choose(inspector.editor("init"), "normal")
    type_into(qtbot, inspector.editor("init_std"), "0.3")
    path = save_project(doc.project(), tmp_path / "std.json")
    assert json.loads(path.read_text())["network"]["layers"][0]["init"] == {"type": "normal", "std": 0.3}

    project = doc.project()                         # the app: the dashboard's network, trained one epoch
    project["training"]["epochs"] = 1
    net = build_network(project, None)
    dense = [layer for layer in net.layers if "W" in layer.params]
    assert dense[0].params["W"].std() == pytest.approx(0.3, rel=0.2)
    assert dense[1].params["W"].std() == pytest.approx(np.sqrt(2 / 64), rel=0.1)   # He, as the preset has it
    Trainer(net, make_dataset(project["dataset"]), TrainConfig.from_dict(project["training"])).run()

    assert main(["train", str(path), "--epochs", "1", "--out", str(tmp_path / "cli.npz")]) == 0
    capsys.readouterr()
    cli, _meta = load_model(tmp_path / "cli.npz")
    for ours, theirs in zip(net.layers, cli.layers):
        for key, value in ours.params.items():
            np.testing.assert_allclose(theirs.params[key], value, rtol=1e-5, atol=1e-7)
    other = build_network({**project, "network": {**project["network"], "layers": [
        {**project["network"]["layers"][0], "init": {"type": "normal", "std": 0.01}},
        *project["network"]["layers"][1:]]}}, None)
    assert other.layers[0].params["W"].std() < 0.02  # another std, other weights: the std is what is used


@pytest.mark.parametrize("std, words", [(1e6, "must be a number in (0, 10], got 1000000.0"),
                                        (-0.01, "must be a number in (0, 10], got -0.01"),
                                        ("0.01", "must be a number in (0, 10], got '0.01'")])
def test_a_bad_std_in_a_project_file_is_named_by_the_cli_and_shown_on_its_block(tmp_path, capsys, qtbot, std,
                                                                                 words):
    project = load_preset("spiral")
    project["network"]["layers"][0]["init"] = {"type": "normal", "std": std}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(project))
    assert main(["train", str(path), "--epochs", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{path}: initializer 'normal': std {words}" in err

    doc = ProjectDocument(project)                  # the app opens it and says what is wrong on the block
    editor = Editor(doc)
    qtbot.addWidget(editor)
    editor.show()
    status, message, _fix = doc.summary_or_error().problem_at(0)
    assert status == "error" and f"initializer 'normal': std {words}" in message
    editor.canvas.net_scene.select_index(0)
    assert editor.inspector.problem.isVisible()
    assert "std must be a number in (0, 10]" in editor.inspector.problem_text.text()
    box = editor.inspector.editor("init_std")
    assert box.isVisible()
    if not isinstance(std, str):                    # a number it cannot show: in red, naming the file's value
        assert "cannot show" in box.toolTip() and repr(std) in box.toolTip()


# ------------------------------------------------------------------ the sin set's x range

@pytest.fixture
def panel(shown):
    from playground.ui.builder.training_panel import TrainingPanel

    return shown(TrainingPanel(ProjectDocument(load_preset("spiral"))), 460, 1000)


def test_the_sin_sets_range_samples_and_noise_are_set_in_the_panel_checked_and_undone(panel, qtbot, tmp_path):
    doc = panel.doc
    assert not panel.x_min.isVisible() and not panel.grid.isVisible()   # spiral has no x range
    choose(panel.dataset_box, "sin")
    assert doc.dataset()["name"] == "sin"
    for box in (panel.x_min, panel.x_max, panel.grid, panel.n_samples, panel.noise):
        assert box.isVisible()
    assert panel.x_min.value() == pytest.approx(-np.pi, abs=1e-4) and panel.x_max.value() == pytest.approx(np.pi,
                                                                                                             abs=1e-4)
    # Enter in a box left as it was changes nothing: its 6 digits stand for −π, not for −3.14159
    steps = doc.undo_stack.count()
    panel.x_min.setFocus()
    qtbot.keyClick(panel.x_min, Qt.Key.Key_Return)
    assert doc.dataset()["x_min"] == -np.pi and doc.undo_stack.count() == steps
    type_into(qtbot, panel.x_min, "0")
    type_into(qtbot, panel.x_max, "20")
    type_into(qtbot, panel.n_samples, "200")
    type_into(qtbot, panel.noise, "0")
    qtbot.mouseClick(panel.grid, Qt.MouseButton.LeftButton, pos=QPoint(8, panel.grid.height() // 2))
    spec = doc.dataset()
    assert (spec["x_min"], spec["x_max"], spec["n_samples"], spec["noise"], spec["grid"]) == (0, 20, 200, 0, True)
    assert not panel.data_problem.isVisible()

    type_into(qtbot, panel.x_min, "25")             # above x max: refused, the box put back, the reason shown
    assert doc.dataset() == spec and panel.x_min.value() == 0
    assert panel.data_problem.isVisible()
    assert "x_max must be greater than x_min, got x_min 25 and x_max 20" in panel.data_problem.text()
    with qtbot.waitSignal(panel.x_max.refused) as refusal:
        type_into(qtbot, panel.x_max, "-2000000")   # beyond the engine's bound: the box says so and keeps 20
    assert refusal.args == ["Expected a number from -1e+06 to 1e+06, got -2000000: kept 20"]
    assert doc.dataset()["x_max"] == 20 and panel.x_max.value() == 20
    panel.x_max.stepBy(1)                           # the arrows add and take away 0.5
    assert doc.dataset()["x_max"] == 20.5
    panel.x_max.stepBy(-1)
    type_into(qtbot, panel.x_min, "25")
    assert panel.data_problem.isVisible()           # shown again, so the good value below has something to clear
    type_into(qtbot, panel.x_min, "-1")
    assert doc.dataset()["x_min"] == -1 and not panel.data_problem.isVisible()   # a good value clears it
    type_into(qtbot, panel.x_min, "0")

    path = save_project(doc.project(), tmp_path / "sin.json")
    from playground.engine.project import load_project
    data = make_dataset(load_project(path)["dataset"])
    x = np.sort(np.concatenate([data.x_train, data.x_val])[:, 0])
    np.testing.assert_allclose(x, np.arange(200) * 0.1, atol=1e-5)   # the classic sin fit's grid

    doc.undo_stack.undo()                           # parameter tweaks of one set are one step, as for the others
    assert doc.dataset() == default_spec("sin")
    assert panel.x_min.value() == pytest.approx(-np.pi, abs=1e-4) and not panel.grid.isChecked()
    doc.undo_stack.redo()
    assert panel.x_max.value() == 20 and panel.grid.isChecked() and doc.dataset() == spec


@pytest.mark.parametrize("change, words", [({"x_min": 5, "x_max": 3}, "x_max must be greater than x_min"),
                                           ({"x_min": 1e7}, "x_min must be a number in [-1e+06, 1e+06]"),
                                           ({"x_max": float("nan")}, "x_max must be a number in [-1e+06, 1e+06]")])
def test_a_bad_x_range_in_a_project_file_is_one_line_from_the_cli(tmp_path, capsys, change, words):
    project = load_preset("sin-regression")
    project["dataset"].update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(project))
    assert main(["train", str(path), "--epochs", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and f"data set 'sin': {words}" in err
