"""The dashboard's sequence view: one validation sequence, the hidden state over time, the gradient per step."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.data.datasets import make_dataset
from playground.engine.nn.network import Network
from playground.engine.project import load_preset
from playground.engine.train.snapshots import SnapshotMaker
from playground.ui.dashboard import TrainingDashboard
from playground.ui.dashboard.sequence_view import SequenceView, answer_text

TIMEOUT = 60000


def test_the_sequence_snapshot_holds_the_layers_own_states_and_gradient_norms():
    project = load_preset("adding-lstm")
    data = make_dataset({**project["dataset"], "n_samples": 60, "steps": 12})
    net = Network({**project["network"], "input_shape": [12, 2]}, seed=0)
    net.loss_and_grads(data.x_train[:16], data.y_train[:16])
    norms = net.layers[0].step_grad_norms.copy()
    seq = SnapshotMaker(data, lambda: ({}, True, False))(net)["sequence"]
    np.testing.assert_array_equal(seq["grad_norms"]["lstm1"], norms.astype(np.float32))
    np.testing.assert_array_equal(seq["x"], data.x_val[0])
    # the hidden and cell states are the layer's own, for that sequence alone
    layer = net.layers[0]
    layer.forward(data.x_val[:1])
    np.testing.assert_allclose(seq["hidden"], layer.hs[0])
    np.testing.assert_allclose(seq["cell"], layer.cs[0])
    np.testing.assert_allclose(seq["pred"], net.predict(data.x_val[:1])[0])
    assert seq["hidden"].shape == (12, 16)


def test_a_network_without_a_recurrent_layer_sends_no_sequence():
    data = make_dataset({"name": "adding", "n_samples": 20, "steps": 4})
    net = Network({"input_shape": [4, 2], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 1}],
                   "loss": "mse"})
    assert "sequence" not in SnapshotMaker(data, lambda: ({}, True, False))(net)


def test_answer_text():
    assert answer_text({"truth": np.array([1.25]), "pred": np.array([1.2]), "classification": False}) == \
        "truth 1.250 · prediction 1.200"
    assert answer_text({"truth": np.array(1), "pred": np.array([0.1, 0.9]), "classification": True},
                       ("a", "b")) == "truth b · predicted b (90%)"


@pytest.mark.parametrize("preset", ["adding-lstm", "counting-gru"])
def test_training_a_recurrent_preset_fills_the_sequence_view(qtbot, preset):
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.resize(1400, 850)
    dash.show()
    try:
        project = load_preset(preset)
        project["dataset"]["n_samples"] = 200
        project["training"]["epochs"] = 2
        dash.set_project(project)
        view = dash.model_view
        dash.actions["start"].trigger()
        qtbot.waitUntil(lambda: view.currentWidget() is view.sequence, timeout=TIMEOUT)  # once the data is made
        qtbot.waitUntil(lambda: view.sequence.hidden_image.image is not None and bool(view.sequence._grad_curves),
                        timeout=TIMEOUT)
        qtbot.waitUntil(lambda: dash.state() == "idle", timeout=TIMEOUT)
        image = view.sequence.hidden_image.image
        steps = project["dataset"]["steps"]
        assert image.shape[0] == steps and np.isfinite(image).all()
        curve = next(iter(view.sequence._grad_curves.values()))
        assert len(curve.xData) == steps and (curve.yData > 0).all()  # raw norms (the axis is logarithmic)
        assert "truth" in view.sequence.answer.text()
        assert dash.confusion.isVisible() == (preset == "counting-gru")
        if preset == "counting-gru":
            assert "goes on by itself" in view.sequence.answer.text()
    finally:
        dash.shutdown()


def test_a_text_network_writes_on_from_the_validation_window():
    from playground.engine.data.sequences import ALPHABET, sample_text

    data = make_dataset({"name": "counting-text", "n_samples": 30, "steps": 6})
    net = Network({"input_shape": [6, len(ALPHABET)], "layers": [{"type": "GRU", "units": 8},
                   {"type": "Dense", "units": len(ALPHABET)}, {"type": "Softmax"}]}, seed=0)
    seq = SnapshotMaker(data, lambda: ({}, True, False))(net)["sequence"]
    prompt = "".join(ALPHABET[i] for i in data.x_val[0].argmax(axis=1))
    assert seq["prompt"] == prompt and seq["sample"] == sample_text(net, prompt, 40) and len(seq["sample"]) == 40
