"""Project (.json) and model (.npz) files: round trips, and bad files that load nothing."""

import json
import zipfile

import numpy as np
import pytest

from playground.engine.errors import FileFormatError, PlaygroundError
from playground.engine.nn.network import Network
from playground.engine.project import (load_model, load_project, save_model, save_project, validate_project)
from playground.engine.project import load_preset, resolve_project
from playground.assets import preset_names


def test_every_preset_is_a_valid_project_that_builds():
    names = preset_names()
    for required in ("two-layer-net", "mlp-mnist", "simple-convnet", "deep-convnet", "xor", "spiral",
                     "sin-regression"):
        assert required in names
    for name in names:
        project = load_preset(name)
        assert project["description"]
        if name == "alexnet":  # to look at: its 61 million weights are never allocated here
            Network(project["network"], shapes_only=True)
        else:
            Network(project["network"])


def test_project_round_trip_is_identical(tmp_path):
    project = load_preset("simple-convnet")
    path = save_project(project, tmp_path / "p.json")
    assert load_project(path) == project
    assert resolve_project(str(path)) == project


@pytest.mark.parametrize("content,match", [
    (b"{\"format\": \"numpy-nn-playground/project\", \"version\": 1, ", "not valid JSON .*truncated"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary data"),
    (json.dumps({"hello": 1}).encode(), "not a playground project"),
    (json.dumps({"format": "numpy-nn-playground/project", "version": 99}).encode(), "newer version"),
])
def test_bad_project_files_say_what_is_wrong(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=match):
        load_project(path)


def test_project_with_a_bad_network_names_the_problem():
    project = load_preset("spiral")
    project["network"]["layers"][0]["type"] = "Dens"
    with pytest.raises(FileFormatError, match="unknown layer type 'Dens'"):
        validate_project(project)
    project = load_preset("spiral")
    project["dataset"] = {"name": "cifar"}
    with pytest.raises(FileFormatError, match="among adding, circle"):
        validate_project(project)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(PlaygroundError, match="presets: .*deep-convnet, .*spiral"):
        resolve_project("resnet")


def small_net(seed=0):
    spec = {"input_shape": [1, 6, 6], "layers": [{"type": "Conv2D", "filters": 2, "kernel": 3},
                                                 {"type": "BatchNorm"}, {"type": "Flatten"},
                                                 {"type": "Dense", "units": 3}, {"type": "Softmax"}]}
    net = Network(spec, seed=seed)
    net.layers[1].state["running_mean"][:] = [0.5, -0.5]
    return net


def test_model_round_trip_keeps_weights_and_batchnorm_statistics(tmp_path):
    net = small_net()
    path = save_model(net, tmp_path / "m.npz", training={"epochs": 3}, dataset={"name": "xor"})
    again, meta = load_model(path)
    assert meta["training"] == {"epochs": 3} and meta["dataset"] == {"name": "xor"}
    for k, v in net.get_weights().items():
        assert np.array_equal(v, again.get_weights()[k]), k
    x = np.random.default_rng(0).standard_normal((4, 1, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(net.predict(x), again.predict(x))


def test_truncated_foreign_and_mismatched_model_files(tmp_path):
    good = save_model(small_net(), tmp_path / "m.npz")
    data = good.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="truncated"):
        load_model(tmp_path / "trunc.npz")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with pytest.raises(FileFormatError, match="not a playground model"):
        load_model(tmp_path / "foreign.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(FileFormatError):
        load_model(tmp_path / "text.npz")
    # weights that do not fit the stored spec: nothing is returned half-loaded
    with zipfile.ZipFile(good) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    meta = json.loads(str(np.load(good)["__meta__"]))
    meta["network"]["layers"][3]["units"] = 4
    with np.load(good) as z:
        arrays = {n: z[n] for n in z.files}
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "mismatch.npz", **arrays)
    with pytest.raises(FileFormatError, match="do not fit"):
        load_model(tmp_path / "mismatch.npz")
    assert entries  # the good file was a real zip archive
    with pytest.raises(FileFormatError, match="no such model file"):
        load_model(tmp_path / "missing.npz")


def test_saving_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(PlaygroundError, match="does not exist"):
        save_model(small_net(), tmp_path / "nope" / "m.npz")
