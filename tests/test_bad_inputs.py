"""Bad files and arguments, as an attacker would try them: each ends in one line and exit 2, no file lost.

The command line runs in this process (``playground.cli.main``), which is
what ``python -m playground`` calls; a table lists each bad input with words
its message must hold (what was expected, what was found).
"""

import json
import os
import stat
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playground.cli import main
from playground.engine.errors import FileFormatError, PlaygroundError
from playground.engine.nn.network import Network
from playground.engine.project import load_model, load_preset, save_model

REPO = Path(__file__).resolve().parents[1]
DIGIT_SPEC = {"input_shape": [1, 28, 28], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10},
                                                      {"type": "Softmax"}]}


def run_cli(capsys, *argv):
    """(exit status, stdout, stderr) of ``playground ARGV``."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def spiral_project(tmp_path, filename="p.json", raw=None, **changes):
    """The spiral preset with ``changes`` ("network.layers.0.units": value, ...), written as JSON."""
    project = load_preset("spiral")
    project["training"]["epochs"] = 1
    for dotted, value in changes.items():
        keys = dotted.split(".")
        target = project
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    path = tmp_path / filename
    path.write_text(raw if raw is not None else json.dumps(project))  # json.dumps writes NaN and Infinity
    return path


def digit_model(tmp_path, name="digits.npz", seed=0):
    return save_model(Network(DIGIT_SPEC, seed=seed), tmp_path / name, dataset={"name": "mnist"})


# ------------------------------------------------------------------ bad project files

NESTED = "[" * 100_000 + "]" * 100_000
BAD_PROJECTS = [
    # (id, changes or raw text, fragments of the message)
    ("nested-100000-deep", {"raw": NESTED}, ["nested", "deep"]),
    ("nested-in-network", {"raw": '{"format": "numpy-nn-playground/project", "version": 1, "dataset": {"name": '
                                  '"spiral"}, "network": {"layers": ' + "[" * 500 + "]" * 500 + "}}"},
     ["nested", "64"]),
    ("units-nan", {"network.layers.0.units": float("nan")}, ["'units' must be a whole number", "nan"]),
    ("units-infinity", {"network.layers.0.units": float("inf")}, ["'units' must be a whole number", "inf"]),
    ("units-1e308", {"network.layers.0.units": 1e308}, ["'units' must be a whole number from 1", "1e+308"]),
    ("units-string", {"network.layers.0.units": "64"}, ["'units' must be a whole number", "'64'"]),
    ("input-shape-nan", {"network.input_shape": [float("nan")]}, ["input_shape", "whole number", "nan"]),
    ("input-shape-1e308", {"network.input_shape": [1e308]}, ["input_shape", "whole number from 1", "1e+308"]),
    ("input-shape-terabytes", {"network.input_shape": [3, 10**6, 10**6]},
     ["the input would have", "3,000,000,000,000 numbers", "at most 16,777,216"]),
    ("work-per-sample", {"network.input_shape": [1, 1000, 1000],
                         "network.layers": [{"type": "Conv2D", "filters": 8, "kernel": 15}, {"type": "Flatten"},
                                            {"type": "Dense", "units": 2}, {"type": "Softmax"}]},
     ["would need", "multiply-adds per sample", "at most 1,000,000,000"]),
    ("weights-need-terabytes", {"network.input_shape": [4_000_000], "network.layers.0.units": 4_000_000},
     ["4000000 × 4000000", "at most 50,000,000"]),
    ("epochs-nan", {"training.epochs": float("nan")}, ["'epochs' must be a whole number", "nan"]),
    ("epochs-infinity", {"training.epochs": float("inf")}, ["'epochs' must be a whole number", "inf"]),
    ("epochs-1e308", {"training.epochs": 1e308}, ["'epochs' must be a whole number from 1 to 1,000,000"]),
    ("batch-size-nan", {"training.batch_size": float("nan")}, ["'batch_size' must be a whole number"]),
    ("batch-size-1e308", {"training.batch_size": 1e308}, ["'batch_size' must be a whole number from 1"]),
    ("seed-nan", {"training.seed": float("nan")}, ["'seed' must be a whole number", "nan"]),
    ("seed-infinity", {"training.seed": float("-inf")}, ["'seed' must be a whole number", "-inf"]),
    ("seed-400-digits", {"training.seed": 10**400}, ["'seed' must be a whole number from 0", "401 digits"]),
    ("name-list", {"name": ["a", "b"]}, ["'name' must be a string", "['a', 'b']"]),
    ("name-dict", {"name": {"a": 1}}, ["'name' must be a string", "{'a': 1}"]),
    ("layer-name-list", {"network.layers.0.name": ["x"]}, ["name of layer 1 must be a string", "['x']"]),
    ("layer-type-dict", {"network.layers.0.type": {"a": 1}}, ["'type' must be a name", "{'a': 1}"]),
    ("training-list", {"training": [1, 2]}, ["'training' must be an object", "[1, 2]"]),
    ("dataset-list", {"dataset": ["spiral"]}, ["data set must be an object", "['spiral']"]),
    ("data-dir-number", {"dataset": {"name": "mnist", "data_dir": 5}}, ["data_dir", "must be a string", "got 5"]),
    ("n-classes-1e8", {"dataset.n_classes": 10**8}, ["n_classes must be a whole number from 2 to 100",
                                                     "100000000"]),
    ("n-samples-1e12", {"dataset.n_samples": 10**12}, ["n_samples must be a whole number from 2 to 1,000,000"]),
    ("noise-infinity", {"dataset.noise": float("inf")}, ["noise must be a number >= 0", "inf"]),
    ("lr-400-digits", {"training.optimizer": {"type": "adam", "lr": 10**400}}, ["lr must be a number"]),
    ("weight-decay-infinity", {"training.weight_decay": float("inf")}, ["weight_decay", "inf"]),
    ("optimizer-list", {"training.optimizer": ["adam"]}, ["'optimizer' must be a name or a JSON object"]),
    ("number-5000-digits", {"raw": '{"format": "numpy-nn-playground/project", "version": ' + "9" * 5000 + "}"},
     ["expected a project with numbers of ordinary size", "thousands of digits"]),
    ("not-json", {"raw": "{not json"}, ["not valid JSON"]),
    ("binary", {"raw": None, "bytes": b"\xff\xfe\x00garbage"}, ["expected a UTF-8 JSON project file"]),
]


@pytest.mark.parametrize("changes, fragments", [c[1:] for c in BAD_PROJECTS], ids=[c[0] for c in BAD_PROJECTS])
def test_bad_project_files_end_in_one_line(tmp_path, capsys, changes, fragments):
    changes = dict(changes)
    raw, data = changes.pop("raw", None), changes.pop("bytes", None)
    path = spiral_project(tmp_path, raw=raw, **changes)
    if data is not None:
        path.write_bytes(data)
    before = path.read_bytes()
    code, out, err = run_cli(capsys, "train", path, "--out", tmp_path / "m.npz")
    assert_one_line_error(code, err, str(path), *fragments)
    assert out == "" and path.read_bytes() == before and not (tmp_path / "m.npz").exists()


def test_an_unreadable_project_file_or_a_folder_says_so(tmp_path, capsys):
    # /proc/self/mem exists and is a regular file, but reading it from the start fails, even as root
    code, _, err = run_cli(capsys, "train", "/proc/self/mem")
    assert_one_line_error(code, err, "/proc/self/mem", "cannot read it", "expected a readable project file")
    (tmp_path / "folder.json").mkdir()
    code, _, err = run_cli(capsys, "train", tmp_path / "folder.json")
    assert_one_line_error(code, err, "folder.json", "a folder; expected a .json project")


# ------------------------------------------------------------------ bad arguments

BAD_ARGUMENTS = [
    ("epochs-400-digits", ["train", "spiral", "--epochs", "9" * 400], ["--epochs", "expected a whole number",
                                                                      "400 characters"]),
    ("epochs-too-many", ["train", "spiral", "--epochs", "10000000"], ["--epochs", "<= 1,000,000"]),
    ("epochs-nan", ["train", "spiral", "--epochs", "nan"], ["--epochs", "'nan'"]),
    ("lr-infinity", ["train", "spiral", "--lr", "inf"], ["--lr", "expected a number > 0", "'inf'"]),
    ("seed-negative", ["train", "spiral", "--seed", "-1"], ["--seed", ">= 0"]),
    ("limit-1e308", ["train", "mlp-mnist", "--limit", "1e308"], ["--limit", "whole number"]),
    ("paths-steps-1e8", ["paths", "--steps", "100000000"], ["--steps", "from 0 to 100,000", "100000000"]),
    ("paths-steps-huge", ["paths", "--steps", "9" * 5000], ["--steps", "5,000 characters"]),
    ("paths-lr-nan", ["paths", "--lr", "adam=nan"], ["--lr adam", "finite number > 0", "nan"]),
    ("name-5000-characters", ["train", "/tmp/" + "p" * 5000], ["neither a project file nor a preset",
                                                                "(5,005 characters)"]),
    ("project-name-5000-characters", ["train", "/tmp/" + "p" * 5000 + ".json"], ["cannot be opened",
                                                                                 "File name too long",
                                                                                 "(5,010 characters)"]),
    ("model-name-5000-characters", ["evaluate", "/tmp/" + "m" * 5000 + ".npz"], ["cannot be opened",
                                                                                 "(5,009 characters)"]),
    ("image-name-5000-characters", ["predict", REPO / "resources" / "models" / "digits.npz",
                                    "/tmp/" + "i" * 5000 + ".png"], ["1 of 1 images", "(5,009 characters)"]),
    ("control-characters", ["paths", "--steps", "3\n4\x1e5"], ["--steps", "3\\n4\\x1e5"]),
    ("control-characters-in-a-function", ["paths", "--function", "x +\n\x1b[2J"], ["x +\\n\\x1b[2J"]),
    ("a-device-as-project", ["train", "/dev/zero"], ["/dev/zero: not a regular file", "expected a .json project"]),
]


@pytest.mark.parametrize("argv, fragments", [c[1:] for c in BAD_ARGUMENTS], ids=[c[0] for c in BAD_ARGUMENTS])
def test_bad_arguments_end_in_one_line(capsys, argv, fragments):
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *fragments)
    assert len(err) < 500
    assert out == "" or json.loads(out)["error"]


def bad_outs(tmp_path):
    (tmp_path / "folder.npz").mkdir()
    project = spiral_project(tmp_path, filename="project.npz")  # a project file may have any name
    return [
        ("a-folder", tmp_path / "folder.npz", ["it is a folder", "expected a file name such as"]),
        ("a-folder-without-suffix", tmp_path, ["expected a file name ending in .npz"]),
        ("under-proc", "/proc/model.npz", ["/proc", "does not take new files"]),
        ("5000-characters", tmp_path / ("m" * 5000 + ".npz"), ["5,0", "choose a shorter name"]),
        ("not-npz", tmp_path / "model.json", ["expected a file name ending in .npz", "model.json"]),
        ("a-device", "/dev/full", ["expected a file name ending in .npz"]),
        ("a-device-named-npz", _device_named_npz(tmp_path), ["not a regular file"]),
        ("missing-folder", tmp_path / "nope" / "m.npz", ["does not exist"]),
        ("the-input-project", project, ["it is the input", "choose another name"]),
        ("empty", "", ["expected a file name to save to, got ''"]),
        ("a-trailing-slash", str(tmp_path / "new.npz") + "/", ["expected a file name, got a folder's"]),
        ("a-hard-link-to-the-input", _hard_link(project, tmp_path / "link.npz"), ["it is the input"]),
        ("a-symlink-loop", _symlink_loop(tmp_path), ["Too many levels of symbolic links"]),
    ]


def _hard_link(target, link):
    os.link(target, link)
    return link


def _symlink_loop(tmp_path):
    (tmp_path / "loop.npz").symlink_to(tmp_path / "loop2.npz")
    (tmp_path / "loop2.npz").symlink_to(tmp_path / "loop.npz")
    return tmp_path / "loop.npz"



def _device_named_npz(tmp_path):
    link = tmp_path / "full.npz"
    link.symlink_to("/dev/full")
    return link


@pytest.mark.parametrize("case", range(13))
def test_a_bad_out_is_refused_before_training(tmp_path, capsys, case):
    name, out, fragments = bad_outs(tmp_path)[case]
    project = tmp_path / "project.npz"
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    code, stdout, err = run_cli(capsys, "train", project, "--out", out)
    assert_one_line_error(code, err, *fragments)
    assert stdout == "", f"{name}: trained before refusing --out"
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert not list(tmp_path.glob(".*.part"))


# ------------------------------------------------------------------ bad model files

def _npy_header(dtype: str, shape: tuple) -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _model_with(tmp_path, name, meta_changes=None, arrays_changes=None, raw_entries=None):
    good = digit_model(tmp_path, "good-" + name)
    with np.load(good) as z:
        arrays = {n: z[n] for n in z.files}
    meta = json.loads(str(arrays["__meta__"]))
    for k, v in (meta_changes or {}).items():
        if k == "units":
            meta["network"]["layers"][1]["units"] = v
        else:
            meta[k] = v
    arrays["__meta__"] = np.array(json.dumps(meta))
    arrays.update(arrays_changes or {})
    path = tmp_path / name
    np.savez(path, **arrays)
    if raw_entries:
        with zipfile.ZipFile(path, "a") as z:
            for entry, data in raw_entries.items():
                z.writestr(entry, data)
    return path


def bad_models(tmp_path):
    npy = tmp_path / "renamed.npz"
    np.save(tmp_path / "renamed.npy", np.zeros(3))
    (tmp_path / "renamed.npy").rename(npy)
    nan_w = np.full((784, 10), np.nan, np.float32)
    return [
        ("npy-renamed-npz", npy, ["a single .npy array renamed .npz", "expected a .npz archive"]),
        ("header-claims-1e10", _model_with(tmp_path, "claims.npz", raw_entries={
            "param/extra.npy": _npy_header("<f4", (10**10,)) + b"\0" * 64}), ["claims 10,000,000,000 numbers"]),
        ("header-claims-more-than-held", _model_with(tmp_path, "short.npz", raw_entries={
            "param/extra.npy": _npy_header("<f4", (1000,)) + b"\0" * 64}), ["header claims 1,000", "holds 64 bytes"]),
        ("object-entry", _model_with(tmp_path, "object.npz", raw_entries={
            "param/extra.npy": _npy_header("|O", (1,)) + b"\0" * 8}), ["expected an array of", "got dtype object"]),
        ("string-seed", _model_with(tmp_path, "seed.npz", {"seed": "abc"}), ["seed must be a whole number",
                                                                               "'abc'"]),
        ("nan-units", _model_with(tmp_path, "units.npz", {"units": float("nan")}),
         ["network stored in it cannot be built", "'units' must be a whole number", "nan"]),
        ("dataset-list", _model_with(tmp_path, "ds.npz", {"dataset": [1]}), ["'dataset' must be an object"]),
        ("metric-string", _model_with(tmp_path, "metric.npz", {"metrics": {"val_accuracy": "high"}}),
         ["metric 'val_accuracy' must be a number", "'high'"]),
        ("nan-weights", _model_with(tmp_path, "nan.npz", arrays_changes={"param/dense1.W": nan_w}),
         ["param/dense1.W", "NaN or infinite", "expected finite weights"]),
        ("meta-nested-deep", _savez(tmp_path / "deep.npz", __meta__=np.array(
            '{"format": "numpy-nn-playground/model", "x": ' + NESTED + "}")), ["nested", "deep"]),
        ("not-a-zip", _write(tmp_path / "text.npz", b"hello, not a zip"), ["not a .npz archive"]),
        ("a-folder", _mkdir(tmp_path / "dir.npz"), ["a folder; expected a .npz saved by"]),
    ]


def _savez(path, **arrays):
    np.savez(path, **arrays)
    return path


def _write(path, data):
    path.write_bytes(data)
    return path


def _mkdir(path):
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def bad_model_files(tmp_path_factory):
    return bad_models(tmp_path_factory.mktemp("models"))


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("case", range(12))
def test_bad_model_files_end_in_one_line(bad_model_files, capsys, command, case):
    _, path, fragments = bad_model_files[case]
    argv = [command, path] + (["nothing.png"] if command == "predict" else [])
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, str(path), *fragments)
    assert out == ""


def test_non_finite_weights_are_refused_on_load_and_never_saved(tmp_path):
    net = Network(DIGIT_SPEC)
    good = save_model(net, tmp_path / "good.npz")
    before = good.read_bytes()
    net.params()["dense1.b"][3] = np.inf
    with pytest.raises(PlaygroundError, match="dense1.b holds NaN or infinite values"):
        save_model(net, good)
    assert good.read_bytes() == before and not list(tmp_path.glob(".*.part"))
    net.params()["dense1.b"][3] = 0
    arrays = dict(np.load(good))
    arrays["param/dense1.b"] = np.full(10, np.nan, np.float32)
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(FileFormatError, match="param/dense1.b holds NaN"):
        load_model(tmp_path / "nan.npz")


# ------------------------------------------------------------------ predict

def test_predict_gives_every_image_a_line_and_exit_2_when_one_failed(tmp_path, capsys):
    model = digit_model(tmp_path)
    digit = np.zeros((40, 40), np.uint8)
    digit[8:32, 18:22] = 255  # a "1"
    Image.fromarray(digit).save(tmp_path / "one.png")
    Image.fromarray(np.full((40, 40), 200, np.uint8)).save(tmp_path / "blank.png")
    (tmp_path / "notes.png").write_text("not an image")
    files = [tmp_path / "one.png", tmp_path / "blank.png", tmp_path / "missing.png", tmp_path / "notes.png",
             tmp_path / "one.png"]
    code, out, err = run_cli(capsys, "predict", model, *files)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]
    assert "digit" in lines[0] and lines[0] == lines[4] and len(lines[0]["probabilities"]) == 10
    assert lines[1]["error"].startswith("no ink found in") and "blank image" in lines[1]["error"]
    assert "does not exist" in lines[2]["error"] and "notes.png" in lines[3]["error"]
    assert_one_line_error(code, err, "3 of 5 images could not be read", "no ink")


def test_predict_refuses_outputs_that_are_not_numbers(tmp_path, capsys):
    net = Network(DIGIT_SPEC)
    net.params()["dense1.W"][...] = 3e38  # finite, but a sum of 784 of them is not
    model = save_model(net, tmp_path / "huge.npz")
    digit = np.zeros((30, 30), np.uint8)
    digit[5:25, 12:16] = 255
    Image.fromarray(digit).save(tmp_path / "one.png")
    code, out, err = run_cli(capsys, "predict", model, tmp_path / "one.png")
    assert "NaN" not in out and "not numbers" in json.loads(out)["error"]
    assert_one_line_error(code, err, "1 of 1 images", "weights are too large")


def test_predict_with_good_images_exits_0(tmp_path, capsys):
    model = digit_model(tmp_path)
    digit = np.full((30, 30), 255, np.uint8)
    digit[5:25, 12:16] = 0  # dark ink on white paper
    Image.fromarray(digit).save(tmp_path / "one.png")
    code, out, err = run_cli(capsys, "predict", model, tmp_path / "one.png")
    assert code == 0 and err == ""
    assert 0 <= json.loads(out)["digit"] <= 9


# ------------------------------------------------------------------ output

def test_json_output_never_holds_nan():
    from playground.jsonout import clean

    text = json.dumps(clean({"loss": float("nan"), "a": [np.float32("inf"), np.float64(1.5)], "n": np.int64(3)}),
                      allow_nan=False)
    assert json.loads(text) == {"loss": None, "a": [None, 1.5], "n": 3}


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path, capsys, monkeypatch):
    import io
    import sys

    class ClosedPipe(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = main(["paths", "--steps", "3"])
    monkeypatch.undo()
    assert code == 141
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ saving never loses a file

def test_saving_writes_through_a_symlink_and_keeps_the_mode(tmp_path):
    target = digit_model(tmp_path, "target.npz", seed=0)
    os.chmod(target, 0o640)
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    save_model(Network(DIGIT_SPEC, seed=1), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert load_model(target)[0].seed == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz", "target.npz"]


def test_a_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        path = digit_model(tmp_path, "new.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_an_interrupted_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = digit_model(tmp_path, "m.npz")
    before = path.read_bytes()

    def killed(f, **arrays):
        f.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        save_model(Network(DIGIT_SPEC, seed=3), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_saving_over_a_device_is_refused(tmp_path):
    with pytest.raises(PlaygroundError, match="not a regular file"):
        save_model(Network(DIGIT_SPEC), "/dev/full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_diverged_run_never_replaces_the_model_at_out(tmp_path, capsys):
    out = tmp_path / "sin.npz"
    code, _, err = run_cli(capsys, "train", "sin-regression", "--epochs", "1", "--out", out)
    assert code == 0, err
    before = out.read_bytes()
    project = load_preset("sin-regression")
    project["training"].update(optimizer={"type": "sgd", "lr": 1e6}, epochs=2)
    (tmp_path / "wild.json").write_text(json.dumps(project))
    code, stdout, err = run_cli(capsys, "train", tmp_path / "wild.json", "--out", out)
    assert code == 1
    assert "training diverged" in err and f"{out} was not written" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == before
    assert not list(tmp_path.glob(".*.part"))


def test_an_optimizer_whose_state_overflowed_is_reported_as_diverged():
    from playground.engine.data.datasets import make_dataset
    from playground.engine.train.trainer import Trainer

    data = make_dataset({"name": "spiral", "n_samples": 64})
    net = Network({"input_shape": [2], "layers": [{"type": "Dense", "units": 8}, {"type": "Dense", "units": 2},
                                                  {"type": "Softmax"}]})
    trainer = Trainer(net, data, {"optimizer": {"type": "adam", "lr": 1e-3}, "epochs": 2, "batch_size": 64})
    trainer.run()
    assert trainer.status["status"] == "finished"
    # an overflowed squared-gradient average: the weights stay finite, but Adam's steps are 0 from now on
    for slots in trainer.optimizer.state.values():
        slots["v"][...] = np.inf
    trainer.run()
    assert trainer.status["status"] == "diverged"
    assert "optimizer's state (v) became NaN or infinite in epoch 1" in trainer.status["message"]


def test_a_terminated_save_leaves_the_old_file_and_no_temporary_file(tmp_path, capsys, monkeypatch):
    import signal

    out = tmp_path / "spiral.npz"
    code, _, err = run_cli(capsys, "train", "spiral", "--epochs", "1", "--out", out)
    assert code == 0, err
    before = out.read_bytes()
    real_savez = np.savez

    def terminated(f, **arrays):
        real_savez(f, **arrays)
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` while the file is being written

    monkeypatch.setattr(np, "savez", terminated)
    with pytest.raises(SystemExit) as stopped:
        main(["train", "spiral", "--epochs", "1", "--seed", "5", "--out", str(out)])
    assert stopped.value.code == 128 + signal.SIGTERM
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["spiral.npz"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
