"""The book's labs, each run with its quick settings, against the book's qualitative results.

MNIST labs read the IDX files from ``$PLAYGROUND_MNIST_DIR`` or
``../shared/data/mnist`` and are skipped, saying so, where neither exists.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from playground.cli import main
from playground.engine.data.datasets import make_dataset
from playground.engine.errors import SpecError
from playground.engine.lab.common import LabCancelled
from playground.engine.lab.registry import LABS, default_settings, lab_module, run_lab
from playground.engine.nn.network import Network

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mnist_dir() -> str:
    env = os.environ.get("PLAYGROUND_MNIST_DIR")
    for folder in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data" / "mnist"]:
        if (folder / "t10k-images-idx3-ubyte.gz").exists() or (folder / "t10k-images-idx3-ubyte").exists():
            return str(folder)
    pytest.skip("MNIST not found: set PLAYGROUND_MNIST_DIR or put the IDX files in ../shared/data/mnist")


def quick(name: str, data_dir: str | None = None, **settings):
    return run_lab(name, settings or None, quick=True, seed=0, data_dir=data_dir)


# ---------------------------------------------------------------- chapters 2 to 5

def test_perceptron_gates_follow_their_truth_tables_and_xor_needs_two_layers():
    res = quick("perceptron")
    tables = {name: [row[2] for row in gate["truth_table"]] for name, gate in res["gates"].items()}
    assert tables == {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0]}
    assert res["gates"]["AND"]["weights"] == [0.5, 0.5] and res["gates"]["AND"]["bias"] == -0.7
    assert [row[2] for row in res["xor"]["truth_table"]] == [0, 1, 1, 0]
    assert res["xor"]["hidden"] == [[1, 0], [1, 1], [1, 1], [0, 1]]   # NAND and OR of each input pair
    assert res["xor"]["best_single_line"]["correct_points"] == 3
    assert res["verdict"].startswith("AND, OR and NAND match their truth tables; XOR = AND(NAND, OR) is right")


def test_perceptron_with_wrong_weights_says_which_gate_fails():
    res = quick("perceptron", gates={"AND": [0.5, 0.5, -0.2], "OR": [0.5, 0.5, -0.2], "NAND": [-0.5, -0.5, 0.7]})
    assert not res["gates"]["AND"]["correct"] and res["verdict"].startswith("AND does not match its truth table")
    with pytest.raises(SpecError, match="needs \\[w1, w2, b\\]"):
        quick("perceptron", gates={"AND": [1, 2], "OR": [0.5, 0.5, -0.2], "NAND": [-0.5, -0.5, 0.7]})


def test_activation_derivatives_sigmoid_peaks_at_a_quarter():
    res = quick("activations")
    d = res["max_derivative"]
    assert d["sigmoid"] == pytest.approx(0.25, abs=1e-9) and d["softmax"] == pytest.approx(0.25, abs=1e-9)
    assert d["tanh"] == pytest.approx(1.0) and d["relu"] == 1.0 and d["step"] == 0.0
    assert d["leaky_relu"] == 1.0 and d["elu"] == pytest.approx(1.0)
    x = np.array(res["x"])
    np.testing.assert_allclose(res["curves"]["softmax"]["y"], 1 / (1 + np.exp(-x)), rtol=1e-4)
    # the derivative curve is the slope of the function curve
    y = np.array(res["curves"]["tanh"]["y"])
    np.testing.assert_allclose(np.gradient(y, x)[1:-1], np.array(res["curves"]["tanh"]["dy"])[1:-1], atol=2e-3)


EVERY_LAYER = {"input_shape": [2, 6, 6], "loss": "softmax_cross_entropy", "layers": [
    {"type": "Conv2D", "filters": 3, "kernel": 3, "padding": 1, "activation": "relu"},
    {"type": "BatchNorm"}, {"type": "MaxPool2D", "pool": 2},
    {"type": "Conv2D", "filters": 2, "kernel": 2, "activation": "elu"},
    {"type": "AvgPool2D", "pool": 2}, {"type": "Flatten"},
    {"type": "Dense", "units": 5, "activation": "tanh"}, {"type": "Dropout", "rate": 0.3, "variant": "book"},
    {"type": "Dense", "units": 4, "activation": "sigmoid"}, {"type": "Dropout", "rate": 0.2},
    {"type": "Dense", "units": 4, "activation": "leaky_relu"}, {"type": "BatchNorm"}, {"type": "Identity"},
    {"type": "Dense", "units": 3}, {"type": "Softmax"}]}


def test_gradcheck_is_under_1e_6_on_every_layer_type():
    """Every layer type but Step, whose gradient is zero by definition (see test_layers), and the recurrent
    ones, which read sequences: they are checked gate by gate in test_recurrent and by the next test."""
    from playground.engine.nn.layers import LAYERS

    net = Network(EVERY_LAYER)
    recurrent = {"SimpleRNN", "LSTM", "GRU", "TimeDistributed"}
    assert {l.type_name for l in net.layers} == set(LAYERS) - {"Step"} - recurrent
    res = quick("gradcheck", network=EVERY_LAYER, samples=4, max_entries=0)
    assert res["max_rel_error"] < 1e-6, res["tensors"]
    assert set(res["tensors"]) == set(net.params()) | {"input"} and res["sampled"] == {}
    assert res["inputs"] == "4 random normal inputs" and res["passed"]


def test_gradcheck_of_recurrent_networks(capsys):
    for preset in ("adding-lstm", "counting-gru", "sine-rnn"):
        assert main(["gradcheck", preset, "--max-entries", "20"]) == 0, preset
        out = json.loads(capsys.readouterr().out)
        assert out["max_rel_error"] < 1e-6, (preset, out["tensors"])


def test_gradcheck_of_the_book_network_samples_large_tensors_and_times_both(mnist_dir):
    res = quick("gradcheck", mnist_dir)
    assert res["network"] == "two-layer-net" and res["inputs"] == "the first 3 training samples of mnist"
    assert res["max_rel_error"] < 1e-6
    assert res["sampled"] == {"dense1.W": 30, "dense1.b": 30, "dense2.W": 30, "input": 30}
    assert res["checked"]["dense1.W"] == [30, 784 * 50]
    assert res["seconds_numerical_all"] > res["seconds_backprop"] > 0


def test_gradcheck_command_prints_json_and_exits_1_when_backprop_is_wrong(capsys, monkeypatch):
    assert main(["gradcheck", "xor", "--max-entries", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"max_rel_error", "tensors", "seconds_numerical", "seconds_backprop", "sampled"} <= set(out)
    assert out["max_rel_error"] < 1e-6 and out["sampled"] == {}
    from playground.engine.nn.dense import Dense

    right = Dense.backward

    def wrong(self, grad):
        dx = right(self, grad)
        self.grads["W"] *= 1.01
        return dx

    monkeypatch.setattr(Dense, "backward", wrong)
    assert main(["gradcheck", "xor", "--max-entries", "0"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["max_rel_error"] > 1e-5 and "DISAGREES" in out["verdict"]


# ---------------------------------------------------------------- chapter 6

def test_optimizers_on_mnist_sgd_ends_highest(mnist_dir):
    res = quick("optimizers-mnist", mnist_dir)
    final = res["final_loss"]
    assert set(final) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}
    assert max(final, key=final.get) == "sgd"
    assert all(len(r["loss"]) == res["settings"]["iterations"] for r in res["runs"].values())
    # the same first batch from the same weights: every optimizer starts at the same loss
    assert len({r["loss"][0] for r in res["runs"].values()}) == 1


def test_init_histograms_std_1_sigmoid_saturates_and_he_relu_keeps_its_spread():
    res = quick("init-histograms")
    runs = res["runs"]
    assert set(runs) == {f"{a}/{i}" for a in ("sigmoid", "tanh", "relu") for i in ("std=1", "std=0.01", "lecun", "he")}
    # saturated: within 0.05 of 0 or 1, the bars at the ends of the book's histogram (said in the JSON and verdict)
    assert res["settings"]["margin"] == 0.05 and "within 0.05 of the limits" in res["saturated_means"]
    share = runs["sigmoid/std=1"]["saturated"][4]
    assert f"{share:.0%} of layer 5's outputs saturated (within 0.05 of 0 or 1)" in res["verdict"]
    assert share > 0.5 > 500 * runs["sigmoid/lecun"]["saturated"][4] and max(runs["sigmoid/std=0.01"]["saturated"]) == 0
    # ReLU is flat only at 0: with std 0.01 its outputs are tiny but half of them still pass the gradient
    assert 0.4 < runs["relu/std=0.01"]["saturated"][4] < 0.6
    he = runs["relu/he"]["std"]
    assert len(he) == 5 and max(he) / min(he) < 2
    assert runs["relu/std=0.01"]["std"][4] < 1e-4 < runs["relu/std=0.01"]["std"][0]
    assert all(sum(h) == 1000 * 100 for h in runs["sigmoid/he"]["histograms"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_std_1_sigmoid_saturates_most_outputs_of_every_layer_whatever_the_seed(seed):
    """Over seeds 0 to 19, 60% to 74% of layer 5 (mean 65%, sd 4 points) and at least 59% of any layer are
    within 0.05 of 0 or 1: over half is four standard deviations away."""
    res = run_lab("init-histograms", {"activations": ["sigmoid"], "inits": ["std=1"]}, quick=True, seed=seed)
    shares = res["runs"]["sigmoid/std=1"]["saturated"]
    print(f"seed {seed}: sigmoid std 1, saturated per layer", [f"{s:.1%}" for s in shares])
    assert len(shares) == 5 and min(shares) > 0.5


def test_init_mnist_std_001_does_not_learn_and_he_learns_fastest(mnist_dir):
    final = quick("init-mnist", mnist_dir)["final_loss"]
    assert final["std=0.01"] > 2.2 and min(final, key=final.get) == "he"


def test_batchnorm_trains_better_at_most_weight_scales(mnist_dir):
    res = quick("batchnorm", mnist_dir)
    assert res["scales"] == pytest.approx(np.logspace(0, -4, 16).tolist())
    assert len(res["with_bn"]) == len(res["without_bn"]) == 16
    assert res["higher_with_bn"] >= 10, res["verdict"]
    assert all(len(c) == res["settings"]["epochs"] for c in res["curves"]["with_bn"])


def test_weight_decay_and_the_books_dropout_each_shrink_the_train_test_gap(mnist_dir):
    res = quick("overfitting", mnist_dir)
    arms = res["arms"]
    assert arms["none"]["train"] > 0.95
    assert arms["weight_decay"]["gap"] < arms["none"]["gap"] and arms["dropout"]["gap"] < arms["none"]["gap"]
    # train accuracy is measured with dropout off: above the running mean over batches with it on
    assert arms["dropout"]["train"] > arms["dropout"]["running_train"]


# ---------------------------------------------------------------- chapters 7 and 8, regression

def test_filters_before_and_after_training(mnist_dir):
    res = quick("filters", mnist_dir)
    before, after = np.array(res["filters_before"]), np.array(res["filters_after"])
    assert before.shape == after.shape == (30, 5, 5) and np.abs(before).std() < 0.02
    assert np.array(res["responses"]).shape == (30, 24, 24) and np.array(res["digit"]).shape == (28, 28)
    assert res["smoothness_after"] > res["smoothness_before"] + 0.1
    assert res["test_accuracy"] > res["test_accuracy_before"]


def test_deep_convnet_gallery_holds_the_misclassified_digits(mnist_dir):
    res = quick("deep-convnet", mnist_dir)
    assert res["tested"] == 200 and res["misclassified"] == round((1 - res["test_accuracy"]) * 200)
    assert res["gallery"] and all(g["label"] != g["predicted"] for g in res["gallery"])
    assert len(res["gallery"]) == min(20, res["misclassified"])
    assert np.array(res["gallery"][0]["image"]).shape == (28, 28)


def test_sin_regression_fits_inside_the_range_and_fails_past_it():
    res = quick("sin-regression")
    assert len(res["x_train"]) == 200 and res["x_train"][:3] == pytest.approx([0.0, 0.1, 0.2])
    assert res["x_grid"][0] == pytest.approx(0.05)
    assert res["mse_inside"] < 0.1 and res["mse_outside"] > 10 * res["mse_inside"]


def test_sin_data_set_takes_an_x_range_and_a_grid():
    d = make_dataset({"name": "sin", "n_samples": 50, "noise": 0.0, "x_min": 2.0, "x_max": 7.0, "grid": True,
                      "val_split": 0.0})
    assert sorted(d.x_train[:, 0]) == pytest.approx(2.0 + 0.1 * np.arange(50))
    np.testing.assert_allclose(d.y_train, np.sin(d.x_train), atol=1e-6)
    r = make_dataset({"name": "sin", "x_min": 10.0, "x_max": 11.0})
    assert r.x_train.min() >= 10.0 and r.x_train.max() < 11.0
    with pytest.raises(SpecError, match="x_max must be greater than x_min, got x_min 3 and x_max 1"):
        make_dataset({"name": "sin", "x_min": 3.0, "x_max": 1.0})
    with pytest.raises(SpecError, match="grid must be true or false"):
        make_dataset({"name": "sin", "grid": "yes"})


# ---------------------------------------------------------------- registry, settings, progress, cancel

def test_every_lab_has_book_settings_a_quick_variant_and_a_docstring():
    for name in LABS:
        module = lab_module(name)
        assert module.__doc__ and default_settings(name) == default_settings(name, quick=False)
        assert default_settings(name).keys() == default_settings(name, quick=True).keys()
    assert default_settings("batchnorm")["epochs"] == 20 and default_settings("batchnorm", quick=True)["epochs"] < 20
    with pytest.raises(SpecError, match="unknown lab 'xavier'; labs: perceptron, activations"):
        run_lab("xavier")
    with pytest.raises(SpecError, match="unknown lab setting 'epoch'; this lab's settings are: .*epochs"):
        run_lab("sin-regression", {"epoch": 3})


def test_a_result_with_a_blown_up_number_is_still_strict_json():
    from playground.engine.lab.common import strict_json

    out = strict_json({"loss": [np.float32(0.5), float("inf")], "n": np.int64(3), "ok": np.bool_(True),
                       "grid": np.array([[1.0, np.nan]])})
    assert json.loads(json.dumps(out, allow_nan=False)) == {"loss": [0.5, None], "n": 3, "ok": True,
                                                             "grid": [[1.0, None]]}


def test_progress_is_reported_and_cancel_stops_a_training_lab():
    seen = []
    quick_settings = {"epochs": 3, "units": 16}
    run_lab("sin-regression", quick_settings, quick=True, progress=lambda f, m: seen.append(f))
    assert seen and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(LabCancelled):
        run_lab("sin-regression", quick_settings, quick=True, cancel=cancel)
    assert len(calls) == 4  # asked between batches, and stopped at the first yes


def test_lab_command_lists_the_labs_and_runs_one(capsys):
    assert main(["lab"]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [l["name"] for l in lines] == list(LABS) and {"chapter", "title"} <= set(lines[0])
    assert main(["lab", "activations", "--quick", "--seed", "3", "--set", "points=11"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["lab"] == "activations" and out["seed"] == 3 and out["quick"] is True
    assert out["settings"]["points"] == 11 and len(out["x"]) == 11
    assert out["verdict"].startswith("sigmoid' peaks at 0.25") and out["seconds"] > 0


def test_lab_command_mistakes_end_with_one_line_and_exit_2(capsys):
    assert main(["lab", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown lab 'nope'; labs: perceptron" in err
    assert main(["lab", "activations", "--set", "points=0"]) == 2
    assert "'points' must be a whole number >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["lab", "activations", "--set", "points"])
    assert e.value.code == 2 and "expected KEY=VALUE" in capsys.readouterr().err
