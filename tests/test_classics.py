"""LeNet-5 and AlexNet as presets, networks built for their shapes only, and ``playground summary``."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from playground.cli import main
from playground.engine.errors import DataError, SpecError
from playground.engine.nn.network import Network, check_spec
from playground.engine.project import load_preset


def test_lenet5_shapes_and_parameter_count():
    rows = check_spec(load_preset("lenet5")["network"])
    shapes = {r["name"]: tuple(r["output_shape"]) for r in rows}
    assert shapes["conv1"] == (6, 28, 28) and shapes["maxpool1"] == (6, 14, 14)
    assert shapes["conv2"] == (16, 10, 10) and shapes["maxpool2"] == (16, 5, 5)
    assert shapes["dense1"] == (120,) and shapes["dense2"] == (84,) and shapes["dense3"] == (10,)
    # conv1: 6·(1·5·5) + 6 = 156; conv2: 16·(6·5·5) + 16 = 2,416; 400·120 + 120 = 48,120;
    # 120·84 + 84 = 10,164; 84·10 + 10 = 850: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706
    assert sum(r["params"] for r in rows) == 61_706
    classic = check_spec(load_preset("lenet5-classic")["network"])
    assert sum(r["params"] for r in classic) == 61_706
    assert {r["type"] for r in classic} >= {"Tanh", "AvgPool2D"} and "ReLU" not in {r["type"] for r in classic}


def test_alexnet_parameter_count_to_the_unit_from_its_shapes():
    rows = check_spec(load_preset("alexnet")["network"])
    shapes = {r["name"]: tuple(r["output_shape"]) for r in rows}
    # 227 → (227 − 11)/4 + 1 = 55 → pool 3/2: 27 → 27 → 13 → 13 → 13 → 13 → pool: 6
    assert shapes["conv1"] == (64, 55, 55) and shapes["maxpool1"] == (64, 27, 27)
    assert shapes["conv2"] == (192, 27, 27) and shapes["maxpool2"] == (192, 13, 13)
    assert shapes["conv5"] == (256, 13, 13) and shapes["maxpool3"] == (256, 6, 6) and shapes["flatten1"] == (9216,)
    expected = ((3 * 11 * 11 * 64 + 64) + (64 * 5 * 5 * 192 + 192) + (192 * 3 * 3 * 384 + 384)
                + (384 * 3 * 3 * 256 + 256) + (256 * 3 * 3 * 256 + 256)
                + (9216 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000))
    assert sum(r["params"] for r in rows) == expected == 61_100_840
    macs = sum(r["mult_adds"] for r in rows)
    assert 0.65e9 < macs < 0.75e9, macs


def test_a_network_built_for_its_shapes_allocates_no_weights():
    spec = load_preset("alexnet")["network"]
    tracemalloc.start()
    try:
        net = Network(spec, shapes_only=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert net.param_count() == 61_100_840
    assert peak < 5_000_000, f"building AlexNet's shapes took {peak / 1e6:.0f} MB"
    with pytest.raises(SpecError, match="shapes only"):
        net.forward(np.zeros((1, 3, 227, 227), np.float32))


def test_shapes_only_and_real_networks_describe_the_same_layers():
    for name in ("simple-convnet", "deep-convnet", "lenet5", "adding-lstm", "spiral"):
        spec = load_preset(name)["network"]
        assert Network(spec, seed=0).summary() == Network(spec, seed=0, shapes_only=True).summary(), name


def test_alexnet_opens_in_the_builder_and_says_why_it_cannot_train(qtbot):
    from playground.engine.data.datasets import make_dataset
    from playground.ui.builder.document import ProjectDocument

    project = load_preset("alexnet")
    doc = ProjectDocument(project)
    v = doc.summary_or_error()
    assert v.ok and v.warning is None, (v.error, v.warning)
    assert v.total_params == 61_100_840
    with pytest.raises(DataError, match="ImageNet is not included.*GPUs"):
        make_dataset(project["dataset"])


def test_summary_json_equals_the_builders_numbers(capsys, qtbot):
    from playground.ui.builder.document import ProjectDocument

    for name in ("lenet5", "alexnet", "simple-convnet", "adding-lstm"):
        assert main(["summary", name, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        v = ProjectDocument(load_preset(name)).summary_or_error()
        assert out["params"] == v.total_params == sum(r["params"] for r in out["layers"]), name
        assert out["macs"] == sum(b.mult_adds for b in v.blocks.values()), name
        assert set(out["layers"][0]) == {"name", "type", "output_shape", "params", "macs"}


def test_summary_table_and_a_project_without_an_input_shape(capsys, tmp_path):
    assert main(["summary", "alexnet"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["layer", "type", "output", "params", "mult-adds"]
    assert table[-1].split()[:2] == ["total", "61,100,840"]
    project = load_preset("spiral")
    del project["network"]["input_shape"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(project))
    assert main(["summary", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == 4482
    assert main(["summary", "no-such-preset"]) == 2
    assert "neither a project file nor a preset" in capsys.readouterr().err


def test_building_alexnet_for_real_is_refused_before_any_weight_is_allocated():
    spec = load_preset("alexnet")["network"]
    tracemalloc.start()
    try:
        with pytest.raises(SpecError, match=r"more than [\d,]+ parameters .* at most 50,000,000"):
            Network(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"refusing AlexNet took {peak / 1e6:.0f} MB"
