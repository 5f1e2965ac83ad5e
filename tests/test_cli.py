"""The command line, run as a user runs it: a subprocess of `python -m playground`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def mnist_dir() -> Path | None:
    env = os.environ.get("PLAYGROUND_MNIST_DIR")
    for folder in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data" / "mnist"]:
        if (folder / "t10k-images-idx3-ubyte.gz").exists() or (folder / "t10k-images-idx3-ubyte").exists():
            return folder
    return None


def run(*args, cwd=None, env=None):
    e = dict(os.environ)
    e.pop("PLAYGROUND_MNIST_DIR", None) if env == "no-mnist" else None
    if isinstance(env, dict):
        e.update(env)
    return subprocess.run([sys.executable, "-m", "playground", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO, env=e, timeout=300)


def json_lines(out: str):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def assert_user_error(res, *fragments):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for f in fragments:
        assert f in err, (f, err)


def test_train_prints_one_json_line_per_epoch_and_evaluate_reads_the_model(tmp_path):
    model = tmp_path / "spiral.npz"
    res = run("train", "spiral", "--epochs", "3", "--seed", "1", "--out", model)
    assert res.returncode == 0, res.stderr
    lines = json_lines(res.stdout)
    assert [l["epoch"] for l in lines] == [1, 2, 3]
    for l in lines:
        assert set(l) >= {"epoch", "samples", "loss", "accuracy", "running_loss", "running_accuracy", "val_loss",
                          "val_accuracy", "seconds"}
        assert l["samples"] == 480 and l["seconds"] > 0 and 0 <= l["val_accuracy"] <= 1
    again = json_lines(run("train", "spiral", "--epochs", "3", "--seed", "1").stdout)
    assert [l["loss"] for l in again] == [l["loss"] for l in lines]  # reproducible from the seed
    ev = run("evaluate", model)
    assert ev.returncode == 0, ev.stderr
    out = json.loads(ev.stdout)
    assert out["n"] == 120 and out["accuracy"] == pytest.approx(lines[-1]["val_accuracy"])
    assert np.array(out["confusion_matrix"]).sum() == 120 and len(out["f1"]) == 2
    # an epoch's loss and accuracy are the trained network's on the training set, as evaluate measures them
    train = json.loads(run("evaluate", model, "--split", "train").stdout)
    assert train["n"] == 480 and train["accuracy"] == pytest.approx(lines[-1]["accuracy"])
    assert train["loss"] == pytest.approx(lines[-1]["loss"], rel=1e-6)


def test_user_mistakes_end_with_one_line_and_status_2(tmp_path):
    assert_user_error(run("train", "resnet"), "neither a project file nor a preset", "spiral")
    assert_user_error(run("train", "spiral", "--epochs", "0"), "whole number >= 1")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert_user_error(run("evaluate", tmp_path / "bad.npz"), "bad.npz")
    assert_user_error(run("evaluate", tmp_path / "missing.npz"), "no such model file")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_user_error(run("train", "mlp-mnist", "--data-dir", empty), "playground data download mnist")
    project = json.loads((REPO / "resources" / "presets" / "simple-convnet.json").read_text())
    del project["network"]["layers"][2]  # the Flatten between pooling and Dense
    (tmp_path / "broken.json").write_text(json.dumps(project))
    assert_user_error(run("train", tmp_path / "broken.json"), "Dense 'dense1' needs a flat", "(30, 12, 12)")
    (tmp_path / "garbage.json").write_text("{not json")
    assert_user_error(run("train", tmp_path / "garbage.json"), "not valid JSON")
    assert_user_error(run("bench", "--case", "resnet"), "expected one of mlp-mnist, simple-convnet, deep-convnet",
                      "'resnet'")


def test_bench_measures_the_case_asked_for():
    res = run("bench", "--case", "deep-convnet", "--seconds", "0.05")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert list(out["cases"]) == ["deep-convnet"]
    assert out["cases"]["deep-convnet"]["ours"]["params"] == 123552 and out["cases"]["deep-convnet"]["ours"]["train_images_per_s"] > 0


@pytest.fixture(scope="module")
def digit_model(tmp_path_factory):
    folder = mnist_dir()
    if folder is None:
        pytest.skip("MNIST not found: set PLAYGROUND_MNIST_DIR or put the IDX files in ../shared/data/mnist")
    path = tmp_path_factory.mktemp("model") / "mlp.npz"
    res = run("train", "mlp-mnist", "--epochs", "1", "--limit", "10000", "--data-dir", folder, "--out", path)
    assert res.returncode == 0, res.stderr
    return path, folder


def test_predict_reads_drawn_digits_of_any_size_and_polarity(digit_model, tmp_path):
    from playground.engine.data.mnist import load_mnist

    path, folder = digit_model
    x, y = load_mnist(folder, "test", limit=40)
    files, labels = [], []
    for i in range(40):
        digit = (x[i, 0] * 255).astype(np.uint8)
        big = np.array(Image.fromarray(digit).resize((140, 140), Image.BILINEAR))
        canvas = np.zeros((300, 400), np.uint8)
        top, left = 20 + (i * 7) % 120, 30 + (i * 13) % 200
        canvas[top:top + 140, left:left + 140] = big
        if i % 2:
            canvas = 255 - canvas  # dark ink on light paper
        img = Image.fromarray(canvas).convert("RGB") if i % 3 == 0 else Image.fromarray(canvas)
        f = tmp_path / f"d{i}.{'jpg' if i % 5 == 0 else 'png'}"
        img.save(f)
        files.append(f)
        labels.append(int(y[i]))
    res = run("predict", path, *files)
    assert res.returncode == 0, res.stderr
    out = json_lines(res.stdout)
    assert [o["file"] for o in out] == [str(f) for f in files]
    for o in out:
        assert len(o["probabilities"]) == 10 and abs(sum(o["probabilities"]) - 1) < 1e-4
    hits = sum(o["digit"] == label for o, label in zip(out, labels))
    assert hits >= 34, f"only {hits}/40 transformed digits read correctly"


def test_predict_rejects_files_that_are_not_images(digit_model, tmp_path):
    path, _ = digit_model
    (tmp_path / "notes.txt").write_text("hello")
    assert_user_error(run("predict", path, tmp_path / "notes.txt"), "notes.txt")
    assert_user_error(run("predict", path, tmp_path / "nothing.png"), "nothing.png")


def test_engine_never_imports_qt():
    code = ("import sys, playground.engine.train.trainer, playground.engine.project, playground.engine.data.mnist, "
            "playground.engine.nn.gradcheck, playground.engine.lab.paths, playground.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6')]; "
            "print(','.join(bad))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "", f"Qt modules loaded by the engine: {res.stdout}"
