"""Input features of 2-D sets and the unit heatmaps the worker sends, checked against plain NumPy."""

import json
import time

import numpy as np
import pytest

from playground import cli
from playground.engine.data.datasets import make_dataset
from playground.engine.data.features import FEATURES, feature_matrix
from playground.engine.errors import SpecError
from playground.engine.nn.network import Network
from playground.engine.project import load_preset
from playground.engine.train.snapshots import SnapshotMaker, Throttle
from playground.engine.train.unit_maps import MAX_UNITS, UnitMaps, grid_points


def test_each_feature_is_its_formula():
    p = np.array([[0.5, -2.0], [1.5, 3.0]], dtype=np.float32)
    got = feature_matrix(p, list(FEATURES))
    want = [[0.5, -2.0, 0.25, 4.0, -1.0, np.sin(0.5), np.sin(-2.0)],
            [1.5, 3.0, 2.25, 9.0, 4.5, np.sin(1.5), np.sin(3.0)]]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.dtype == np.float32


def test_a_set_with_features_keeps_its_points_and_gives_the_network_the_columns():
    plain = make_dataset({"name": "circle", "n_samples": 100})
    feat = make_dataset({"name": "circle", "n_samples": 100, "features": ["x1^2", "x2^2", "sin(x1)"]})
    assert feat.input_shape == (3,) and feat.features == ("x1^2", "x2^2", "sin(x1)") and feat.plane
    np.testing.assert_array_equal(feat.points("train"), plain.x_train)
    np.testing.assert_array_equal(feat.points("val"), plain.x_val)
    np.testing.assert_allclose(feat.x_train[:, 0], plain.x_train[:, 0].astype(np.float64) ** 2, rtol=1e-6)
    np.testing.assert_allclose(feat.x_val[:, 2], np.sin(plain.x_val[:, 0].astype(np.float64)), rtol=1e-6)
    np.testing.assert_array_equal(feat.y_train, plain.y_train)
    assert plain.points("train") is plain.x_train and plain.plane


@pytest.mark.parametrize("features, message", [
    ([], "non-empty list"), ("x1", "non-empty list"), (["x3"], "unknown feature 'x3'"),
    (["x1", "x1"], "listed twice"), ([1], "unknown feature 1")])
def test_bad_features_say_what_to_choose(features, message):
    with pytest.raises(SpecError, match=message):
        make_dataset({"name": "xor", "features": features})


def test_only_2d_sets_take_features():
    with pytest.raises(SpecError, match="does not take 'features'"):
        make_dataset({"name": "sin", "features": ["x1"]})


def by_hand(net: Network, x: np.ndarray) -> list[np.ndarray]:
    """Each Dense column's output after its activation, computed in float64."""
    outs, h = [], x.astype(np.float64)
    for layer in net.layers:
        if type(layer).__name__ == "Dense":
            h = h @ layer.params["W"].astype(np.float64) + layer.params["b"]
            outs.append(h)
        elif type(layer).__name__ == "ReLU":
            h = np.maximum(h, 0)
            outs[-1] = h
        elif type(layer).__name__ == "Tanh":
            h = np.tanh(h)
            outs[-1] = h
    return outs


def test_unit_maps_equal_the_layer_outputs_on_the_grid():
    data = make_dataset({"name": "xor", "n_samples": 80, "features": ["x1", "x2", "x1*x2"]})
    spec = {"layers": [{"type": "Dense", "units": 20, "activation": "relu"},
                       {"type": "Dense", "units": 5, "activation": "tanh"},
                       {"type": "Dense", "units": 2}, {"type": "Softmax"}],
            "loss": "softmax_cross_entropy"}
    net = Network(spec, seed=4, input_shape=data.input_shape)
    maps = UnitMaps(data, size=12)(net)
    grid = grid_points(maps["bounds"], 12)
    x = feature_matrix(grid, data.features)
    expected = by_hand(net, x)
    assert [c["width"] for c in maps["columns"]] == [20, 5, 2]
    for col, want in zip(maps["columns"], expected):
        k = min(col["width"], MAX_UNITS)
        assert col["maps"].shape == (12, 12, k)
        np.testing.assert_allclose(col["maps"].reshape(144, k), want[:, :k], rtol=1e-4, atol=1e-5)
    # row i of a map is the i-th x2 value, column j the j-th x1 value
    x0, x1, y0, y1 = maps["bounds"]
    assert grid[12 * 3 + 5, 0] == pytest.approx(x0 + 5 * (x1 - x0) / 11)
    assert grid[12 * 3 + 5, 1] == pytest.approx(y0 + 3 * (y1 - y0) / 11)
    # the inputs' own maps are the features over the grid; the weights are the first units'
    np.testing.assert_allclose(maps["inputs"][:, :, 2].ravel(), grid[:, 0] * grid[:, 1], rtol=1e-5)
    w = net.layers[0].params["W"]
    np.testing.assert_array_equal(maps["columns"][0]["weights"], w[:3, :16])
    np.testing.assert_array_equal(maps["columns"][1]["weights"], net.layers[2].params["W"][:16, :5])
    logits = expected[-1]
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(maps["output"].reshape(144, 2), softmax, rtol=1e-4, atol=1e-6)


def test_the_snapshot_carries_unit_maps_only_when_asked():
    data = make_dataset({"name": "spiral", "n_samples": 60})
    net = Network(load_preset("spiral")["network"], seed=0)
    context = lambda: ({}, True, False)  # noqa: E731 (paused: everything exact)
    assert "units" not in SnapshotMaker(data, context)(net)
    shot = SnapshotMaker(data, context, units=True)(net)
    units = shot["units"]
    assert units["columns"][0]["maps"].shape == (48, 48, 16) and units["columns"][0]["width"] == 64
    # the maps cover the decision boundary's plane, on a 48 x 48 grid of their own
    assert units["bounds"] == pytest.approx(shot["boundary"]["bounds"])
    grid = grid_points(units["bounds"], 48)
    expected = by_hand(net, grid)
    for col, want in zip(units["columns"], expected):
        np.testing.assert_allclose(col["maps"].reshape(48 * 48, -1), want[:, :16], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(units["output"].reshape(48 * 48, 2), net.predict(grid), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(shot["boundary"]["probs"].reshape(-1, 2),
                               net.predict(grid_points(shot["boundary"]["bounds"], 100)), rtol=1e-5, atol=1e-7)


def test_the_plane_pictures_wait_longer_when_a_pass_is_slow(monkeypatch):
    """Each picture takes at most PLANE_SHARE of the worker's time: a pass of d seconds waits d / share."""
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    throttle = Throttle(0.15, 0.05)
    assert throttle.due()
    throttle.spent(0.002)  # a cheap pass: the period holds
    clock[0] += 0.15
    assert throttle.due()
    throttle.spent(0.02)  # a slow one: 0.4 s until the next
    clock[0] += 0.39
    assert not throttle.due()
    clock[0] += 0.02
    assert throttle.due() and throttle.due(force=True)  # paused or stopped: always


def test_the_boundary_of_a_feature_set_is_drawn_over_its_points():
    data = make_dataset({"name": "circle", "n_samples": 60, "features": ["x1^2", "x2^2"]})
    spec = {"layers": [{"type": "Dense", "units": 2}, {"type": "Softmax"}], "loss": "softmax_cross_entropy"}
    net = Network(spec, seed=0, input_shape=(2,))
    shot = SnapshotMaker(data, lambda: ({}, True, False))(net)
    probs, bounds = shot["boundary"]["probs"], shot["boundary"]["bounds"]
    x0, x1, y0, _ = bounds
    assert x0 < data.points("train")[:, 0].min() and x1 > data.points("train")[:, 0].max()
    corner = np.array([[x0, y0]], dtype=np.float32)
    want = net.predict(feature_matrix(corner, data.features))[0]
    np.testing.assert_allclose(probs[0, 0], want, rtol=1e-5)


def test_the_command_line_trains_on_the_features(tmp_path, capsys):
    project = load_preset("xor")
    project["dataset"]["features"] = ["x1", "x2", "x1*x2"]
    project["network"].pop("input_shape", None)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(project))
    assert cli.main(["train", str(path), "--epochs", "2", "--out", str(tmp_path / "m.npz")]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines() if l.startswith("{")]
    assert len(lines) == 2
    from playground.engine.project import load_model
    net, _ = load_model(tmp_path / "m.npz")
    assert net.layers[0].params["W"].shape[0] == 3
