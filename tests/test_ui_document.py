"""ProjectDocument and its commands: every edit undoable, validation mapped to blocks."""

from __future__ import annotations

import pytest

from playground.engine.errors import FileFormatError
from playground.engine.nn.network import Network
from playground.engine.project import load_preset
from playground.ui.builder.commands import (ApplyFix, DuplicateLayer, InsertLayer, MoveLayer, RemoveLayer, SetActivation, SetAllInitializers, SetDataset, SetLayerOption, SetTrainingOption)
from playground.ui.builder.document import ProjectDocument


@pytest.fixture
def doc(qapp):
    return ProjectDocument(load_preset("spiral"))


def conv_then_dense() -> dict:
    project = load_preset("simple-convnet")
    layers = project["network"]["layers"]
    del layers[2]  # the Flatten: Dense now follows MaxPool2D
    return project


def test_loaded_document_is_clean_and_valid(doc):
    v = doc.summary_or_error()
    assert not doc.dirty
    assert v.ok and v.warning is None
    net = Network(doc.network_spec())
    assert v.total_params == net.param_count()
    assert v.blocks[0].output_shape == (64,)
    assert v.blocks[0].names == ["dense1", "dense1_relu"]


def test_insert_undo_redo_restore_the_project(doc, qtbot):
    before = doc.project()
    with qtbot.waitSignal(doc.changed, timeout=1000):
        doc.push(InsertLayer(doc, 1, {"type": "Dropout", "rate": 0.3}))
    assert doc.dirty
    assert doc.layer(1) == {"type": "Dropout", "rate": 0.3}
    doc.undo_stack.undo()
    assert doc.project() == before
    assert not doc.dirty
    doc.undo_stack.redo()
    assert doc.layer(1)["type"] == "Dropout"
    assert doc.undo_stack.undoText() == "Insert Dropout"


def test_remove_move_duplicate(doc):
    types = [e["type"] for e in doc.layers()]
    doc.push(MoveLayer(doc, 0, 2))
    assert [e["type"] for e in doc.layers()] == [types[1], types[2], types[0], types[3]]
    doc.undo_stack.undo()
    doc.push(DuplicateLayer(doc, 0))
    assert doc.layer(1) == doc.layer(0)
    doc.push(RemoveLayer(doc, 1))
    assert [e["type"] for e in doc.layers()] == types
    assert doc.undo_stack.count() == 2  # the undone move was dropped by the next edit


def test_consecutive_changes_of_one_setting_are_one_undo_step(doc):
    doc.push(SetLayerOption(doc, 0, "units", 65))
    doc.push(SetLayerOption(doc, 0, "units", 66))
    doc.push(SetLayerOption(doc, 0, "units", 67))
    assert doc.undo_stack.count() == 1
    assert doc.layer(0)["units"] == 67
    doc.undo_stack.undo()
    assert doc.layer(0)["units"] == 64
    doc.push(SetLayerOption(doc, 0, "units", 70))
    doc.push(SetLayerOption(doc, 1, "units", 70))
    assert doc.undo_stack.count() == 2


def test_shape_error_is_mapped_to_the_block_with_a_fix(qapp):
    doc = ProjectDocument(conv_then_dense())
    v = doc.summary_or_error()
    assert not v.ok
    assert v.error_index == 2
    assert "Flatten" in v.error and "Dense" in v.error
    assert v.fix == {"insert": {"type": "Flatten"}, "at": 2}
    # blocks before the failing one still know their shapes
    assert v.blocks[0].output_shape == (30, 24, 24)
    assert v.blocks[1].output_shape == (30, 12, 12)
    assert doc.describe_fix(v.fix) == "Insert Flatten"
    doc.push(ApplyFix(doc, v.fix))
    v = doc.summary_or_error()
    assert v.ok
    assert doc.layer(2) == {"type": "Flatten"}
    assert v.total_params == Network(doc.network_spec()).param_count()


def test_a_setting_error_without_index_is_found_by_building_prefixes(doc):
    doc.push(InsertLayer(doc, 2, {"type": "Flatten", "activation": "relu"}))
    v = doc.summary_or_error()
    assert v.error_index == 2
    assert "cannot take an activation" in v.error


def test_output_width_mismatch_is_a_warning_with_a_fix(doc):
    ds = doc.dataset()
    ds["n_classes"] = 3
    doc.push(SetDataset(doc, ds))
    v = doc.summary_or_error()
    assert v.ok
    assert v.warning_index == 2 and "3 outputs" in v.warning
    doc.push(ApplyFix(doc, v.warning_fix))
    assert doc.layer(2)["units"] == 3
    assert doc.summary_or_error().warning is None


def test_switching_data_set_sets_the_input_shape(doc):
    doc.push(SetDataset(doc, {"name": "mnist"}))
    assert doc.network_spec()["input_shape"] == [1, 28, 28]
    v = doc.summary_or_error()  # Dense after images: the engine asks for a Flatten
    assert v.error_index == 0 and v.fix == {"insert": {"type": "Flatten"}, "at": 0}
    doc.push(SetDataset(doc, {"name": "sin", "n_samples": 100, "noise": 0.1, "val_split": 0.2, "seed": 0}))
    assert doc.network_spec()["input_shape"] == [1]
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.network_spec()["input_shape"] == [2]
    assert doc.dataset()["name"] == "spiral"


def test_activation_training_and_initializer_edits(doc):
    doc.push(SetActivation(doc, 2, "tanh"))
    assert doc.layer(2)["activation"] == "tanh"
    doc.push(SetActivation(doc, 2, "none"))
    assert "activation" not in doc.layer(2)
    doc.push(SetTrainingOption(doc, "batch_size", 16))
    assert doc.training()["batch_size"] == 16
    doc.push(SetAllInitializers(doc, "xavier_uniform"))
    assert {e.get("init") for e in doc.layers() if e["type"] == "Dense"} == {"xavier_uniform"}
    for _ in range(5):
        doc.undo_stack.undo()
    assert doc.project() == ProjectDocument(load_preset("spiral")).project()


def test_loading_a_bad_project_changes_nothing(doc):
    before = doc.project()
    bad = doc.project()
    bad["network"]["layers"] = []
    with pytest.raises(FileFormatError, match="non-empty list 'layers'"):
        doc.load(bad)
    assert doc.project() == before


def test_dirty_follows_the_clean_state(doc, qtbot, tmp_path):
    with qtbot.waitSignal(doc.dirty_changed, timeout=1000) as blocker:
        doc.push(SetLayerOption(doc, 0, "units", 10))
    assert blocker.args == [True]
    doc.mark_saved(tmp_path / "x.json")
    assert not doc.dirty and doc.path == tmp_path / "x.json"
    doc.undo_stack.undo()
    assert doc.dirty
    doc.undo_stack.redo()
    assert not doc.dirty


def test_the_xor_preset_opens_without_an_output_warning():
    """One sigmoid output with binary cross-entropy is right for two classes; the old check asked for 2 units."""
    doc = ProjectDocument(load_preset("xor"))
    v = doc.summary_or_error()
    assert v.ok and v.warning is None, v.warning


def test_binary_cross_entropy_with_three_outputs_on_two_classes_is_warned_with_a_fix_to_one():
    project = load_preset("xor")
    project["network"]["layers"][1]["units"] = 3
    doc = ProjectDocument(project)
    v = doc.summary_or_error()
    assert v.warning and "needs 1 output " in v.warning and v.warning_fix == {"set": {"units": 1}, "at": 1}
