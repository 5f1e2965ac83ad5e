"""Random specs, project files, model files and typed functions: each gives a result or our error, nothing else.

Property-based (hypothesis): whatever JSON a file holds, the loaders either
return something usable or raise :class:`PlaygroundError`; never a
``TypeError``, ``OverflowError``, ``RecursionError`` or a hang.
"""

import contextlib
import copy
import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.engine.data.datasets import DATASETS, check_dataset_spec, make_dataset
from playground.engine.errors import FileFormatError, PlaygroundError
from playground.engine.lab.expressions import parse_expression
from playground.engine.nn.layers import LAYERS
from playground.engine.nn.network import Network
from playground.engine.project import load_model, load_preset, load_project, save_model, validate_project
from playground.engine.train.trainer import TrainConfig

FEW = settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

numbers = (st.integers(-3, 40) | st.sampled_from([0, 10**8, 2**63, 10**400, -(10**30)])
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e308, -0.0, 0.5, 2.0]))
scalars = st.none() | st.booleans() | numbers | st.text(max_size=6)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=12)

OPTIONS = sorted({"units", "filters", "kernel", "stride", "padding", "pool", "rate", "momentum", "eps", "alpha",
                  "init", "l1", "l2", "use_bias", "activation", "name", "type"})
layer_entries = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(LAYERS)) | json_values},
    optional={key: (st.integers(0, 6) | json_values) for key in OPTIONS if key != "type"})


def _accepts(fn, *args, **kwargs):
    """``fn(*args)``, or None when it raised our error; anything else fails the test."""
    try:
        return fn(*args, **kwargs)
    except PlaygroundError:
        return None


@FEW
@given(layers=st.lists(layer_entries, min_size=1, max_size=4),
       shape=st.sampled_from([[2], [1, 8, 8], [3, 6, 6]]) | json_values)
def test_random_network_specs_build_and_run_or_raise_our_error(layers, shape):
    spec = {"input_shape": shape, "layers": layers + [{"type": "Flatten"}, {"type": "Dense", "units": 2},
                                                      {"type": "Softmax"}]}
    net = _accepts(Network, spec)
    if net is not None:
        with np.errstate(all="ignore"):
            out = net.predict(np.zeros((2,) + net.input_shape, np.float32))
        assert out.shape == (2, 2)


PROJECT_PATHS = ["name", "description", "version", "format", "network", "network.input_shape", "network.layers",
                 "network.loss", "network.layers.0", "network.layers.0.units", "network.layers.0.activation",
                 "network.layers.0.init", "network.layers.3", "dataset", "dataset.name", "dataset.n_samples",
                 "dataset.n_classes", "dataset.noise", "dataset.seed", "dataset.val_split", "training",
                 "training.optimizer", "training.optimizer.lr", "training.optimizer.type", "training.schedule",
                 "training.epochs", "training.batch_size", "training.seed", "training.weight_decay",
                 "training.clip_norm", "training.augment", "training.stats_every", "notes"]


@FEW
@given(changes=st.lists(st.tuples(st.sampled_from(PROJECT_PATHS), json_values), min_size=1, max_size=3))
def test_random_project_dicts_validate_or_raise_our_error(changes):
    project = load_preset("spiral")
    for dotted, value in changes:
        target = project
        keys = dotted.split(".")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) and k.isdigit() and int(k) < len(target) else (
                target.get(k) if isinstance(target, dict) else None)
            if target is None:
                break
        if isinstance(target, dict):
            target[keys[-1]] = copy.deepcopy(value)
    checked = _accepts(validate_project, project)
    if checked is not None:
        json.dumps(checked, allow_nan=False)  # a valid project is strict JSON
        _accepts(Network, checked["network"], seed=checked["training"]["seed"])


@FEW
@given(settings_=st.dictionaries(st.sampled_from(["optimizer", "schedule", "batch_size", "epochs", "seed",
                                                  "weight_decay", "clip_norm", "stats_every", "augment"]),
                                 json_values | st.fixed_dictionaries({"type": st.sampled_from(
                                     ["adam", "sgd", "momentum", "step", "cosine"])},
                                     optional={"lr": numbers, "gamma": numbers, "step": numbers,
                                               "min_lr": numbers, "beta1": numbers, "rotate": numbers}),
                                 max_size=4))
def test_random_training_settings_validate_or_raise_our_error(settings_):
    config = _accepts(TrainConfig.from_dict, settings_)
    if config is not None:
        assert 1 <= config.epochs <= 1_000_000 and isinstance(config.seed, int)


@FEW
@given(name=st.sampled_from(sorted(DATASETS)), params=st.dictionaries(
    st.sampled_from(["n_samples", "noise", "val_split", "seed", "n_classes", "limit", "data_dir"]), json_values,
    max_size=3))
def test_random_data_set_specs_check_or_raise_our_error(name, params):
    full = _accepts(check_dataset_spec, {"name": name, **params})
    if full is not None and name not in ("mnist", "imagenet") and full["n_samples"] <= 2000:
        data = make_dataset(full)
        assert len(data.x_train) + len(data.x_val) == full["n_samples"]


@FEW
@given(text=st.text(alphabet="xy0123456789.e+-*/^()pisncoqrtabhlg ,", max_size=40))
def test_random_expressions_parse_and_evaluate_or_raise_our_error(text):
    expr = _accepts(parse_expression, text)
    if expr is not None:
        with np.errstate(all="ignore"):
            value = np.asarray(expr(np.linspace(-2, 2, 5), np.linspace(-1, 1, 5)), dtype=float)
        assert value.size in (1, 5)


@FEW
@given(content=st.text(max_size=200) | json_values.map(json.dumps))
def test_random_project_files_load_or_raise_our_error(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.json"
        path.write_text(content)
        _accepts(load_project, path)


@pytest.fixture(scope="module", params=["stored", "deflated"])
def model_bytes(request, tmp_path_factory):
    net = Network({"input_shape": [4], "layers": [{"type": "Dense", "units": 3}, {"type": "BatchNorm"},
                                                  {"type": "Dense", "units": 2}, {"type": "Softmax"}]})
    path = save_model(net, tmp_path_factory.mktemp("m") / "m.npz", dataset={"name": "spiral"})
    if request.param == "deflated":  # as numpy.savez_compressed writes them
        with zipfile.ZipFile(path) as z:
            entries = {n: z.read(n) for n in z.namelist()}
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for n, data in entries.items():
                z.writestr(n, data)
    return path.read_bytes()


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.none() | st.integers(0, 10**6))
def test_damaged_model_files_load_or_raise_our_error(model_bytes, edits, cut):
    data = bytearray(model_bytes)
    for where, byte in edits:
        data[where % len(data)] = byte
    if cut is not None:
        data = data[:cut % len(data)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.npz"
        path.write_bytes(bytes(data))
        try:
            net, meta = load_model(path)
        except FileFormatError:
            return
        assert all(np.isfinite(w).all() for w in net.get_weights().values())


@FEW
@given(argv=st.lists(st.sampled_from(["--steps", "--function", "--start", "--optimizers", "--lr"])
                     | st.sampled_from(["3", "0", "-1", "nan", "inf", "1e308", "9" * 50, "x", "adam=1e308", "sgd=0",
                                        "adam", ",", "sgd,sgd", "x**2", "log(x)", "1/0", "exp(x*1000)", "book", ""])
                     | st.text(max_size=8), max_size=6))
def test_random_paths_arguments_end_in_json_or_one_line(argv):
    from playground.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["paths", *argv] + ([] if "--steps" in argv else ["--steps", "3"]))
        except SystemExit as e:  # argparse's own errors
            code = e.code
    out, err = out.getvalue(), err.getvalue()
    if code == 0:
        json.loads(out)  # strict JSON: no NaN, no Infinity
    else:
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
