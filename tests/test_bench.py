"""The benchmark's structure on a tiny time budget; no speed is asserted here."""

import importlib.util
import json
import sys

import numpy as np
import pytest

from playground.engine import bench
from playground.engine.bench import CASES, TORCH_HINT, preset_spec, run_bench
from playground.engine.nn.network import Network

FIGURES = ("train_images_per_s", "infer_images_per_s", "latency_ms")
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def check_figures(fig: dict) -> None:
    for key in FIGURES:
        assert isinstance(fig[key], float) and fig[key] > 0, (key, fig)
    assert fig["params"] > 0
    assert fig["other_load"] is None or 0 <= fig["other_load"] <= 1


def check_common(res: dict) -> None:
    json.dumps(res)  # the CLI prints it as JSON
    assert res["batch_size"] == 100 and res["samples"] >= 5000 and res["samples"] % 100 == 0
    assert set(res["cases"]) == set(CASES)
    t = res["threads"]
    assert t["threads"] >= 1 and t["cpu_count"] >= 1
    assert "OMP_NUM_THREADS" in t and "OPENBLAS_NUM_THREADS" in t
    assert res["peak_rss_mb"] > 0
    for case in res["cases"].values():
        check_figures(case["ours"])
        assert 0 < case["ours"]["peak_rss_mb"] <= res["peak_rss_mb"]


def test_run_bench_without_torch_comparison():
    res = run_bench(vs_torch=False, seconds_per_case=0.05)
    check_common(res)
    assert res["torch"] == "not measured (vs_torch=False)"
    assert all(set(case) == {"ours"} for case in res["cases"].values())
    assert res["cases"]["simple-convnet"]["ours"]["params"] == 30 * 25 + 30 + 4320 * 100 + 100 + 1010


def test_missing_torch_is_reported_not_raised(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    res = run_bench(vs_torch=True, seconds_per_case=0.05, cases=("mlp-mnist",))
    assert res["torch"] == TORCH_HINT == "not installed: pip install torch==2.13.0 (CPU build)"
    assert set(res["cases"]["mlp-mnist"]) == {"ours"}


def test_a_failed_torch_measurement_is_reported_with_our_figures(monkeypatch):
    import importlib.util
    import subprocess

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "torch"
                        else real_find_spec(name, *a))
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: subprocess.CompletedProcess(
        args, 1, "", "Traceback (most recent call last):\nOSError: libtorch_cpu.so: cannot open shared object"))
    res = run_bench(vs_torch=True, seconds_per_case=0.05, cases=("mlp-mnist",))
    assert res["torch"].startswith("the PyTorch measurement failed: expected its figures as JSON, got exit status 1")
    assert "libtorch_cpu.so" in res["torch"]
    check_figures(res["cases"]["mlp-mnist"]["ours"])
    assert "ratio" not in res["cases"]["mlp-mnist"]


@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed (it is only needed to compare)")
def test_run_bench_against_torch():
    import torch

    threads_before = torch.get_num_threads()
    res = run_bench(vs_torch=True, seconds_per_case=0.05)
    check_common(res)
    assert res["torch"] == torch.__version__
    assert res["threads"]["torch_threads"] == res["threads"]["threads"]
    assert torch.get_num_threads() == threads_before  # PyTorch ran in processes of its own
    assert set(res["torch_variants"]) == {"torch", "torch_tuned"}
    for case in res["cases"].values():
        for variant, ratio in (("torch", "ratio"), ("torch_tuned", "ratio_tuned")):
            check_figures(case[variant])
            assert case[variant]["params"] == case["ours"]["params"]
            assert set(case[ratio]) == {"train", "infer", "latency"}
            assert all(r > 0 for r in case[ratio].values())
            ours, theirs = case["ours"], case[variant]
            assert case[ratio]["train"] == pytest.approx(
                ours["train_images_per_s"] / theirs["train_images_per_s"], rel=1e-2)


@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed (it is only needed to compare)")
@pytest.mark.parametrize("name", CASES)
def test_torch_model_computes_what_our_network_computes(name):
    import torch

    net = Network(preset_spec(name), seed=0)
    model = bench.torch_model(net)
    for layer, mod in zip(net.train_layers, model):
        if layer.params:  # copy our weights into the torch layer
            w = layer.params["W"]
            mod.weight.data = torch.from_numpy(w.T.copy() if w.ndim == 2 else w.copy())
            mod.bias.data = torch.from_numpy(layer.params["b"].copy())
    model.eval()  # dropout off, as in our forward without training
    x = np.random.default_rng(0).random((3, 1, 28, 28), dtype=np.float32)
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net.forward(x), theirs, rtol=1e-4, atol=1e-4)


def test_optimizer_state_keeps_no_subnormal_floats():
    """A dead unit's moments decay through the subnormal floats, where arithmetic is slow: they are dropped."""
    from playground.engine.nn.optimizers import FLUSH_EVERY, get_optimizer

    for name in ("adam", "momentum"):
        opt = get_optimizer({"type": name, "lr": 0.01})
        w = {"w": np.ones(4, dtype=np.float32)}
        opt.update(w, {"w": np.full(4, 1e-3, dtype=np.float32)})
        zero = {"w": np.zeros(4, dtype=np.float32)}
        tiny = np.finfo(np.float32).tiny
        seen_subnormal = False
        for _ in range(80 * FLUSH_EVERY):  # 0.9^k takes 1e-4 below 1e-38 in ~750 steps
            opt.update(w, zero)
            slots = opt.state["w"].values()
            seen_subnormal |= any(np.any((s != 0) & (np.abs(s) < tiny)) for s in slots)
            if opt.t % FLUSH_EVERY == 0:
                assert not any(np.any((s != 0) & (np.abs(s) < tiny)) for s in slots)
        assert seen_subnormal  # the test does reach the subnormal range
        assert np.all(np.isfinite(w["w"]))


def test_epoch_end_work_is_left_out_of_the_training_time(monkeypatch):
    """The inference-mode measure at each epoch's end is not training (PyTorch's loop has none)."""
    from playground.engine.train.trainer import TrainControl

    now = [0.0]
    monkeypatch.setattr(bench.time, "perf_counter", lambda: now[0])
    clock = bench._StopAfter(TrainControl(), seconds=100.0, warmup=1)
    for step, t in ((1, 1.0), (2, 2.0), (3, 3.0)):  # warm-up batch, then two timed ones
        now[0] = t
        clock.on_batch_end(step, {})
    now[0] = 13.0  # ten seconds of measuring and validating at the epoch's end
    clock.on_epoch_end(1, {})
    now[0] = 14.0
    clock.on_batch_end(4, {})
    assert clock.timed_batches == 3 and clock.elapsed == pytest.approx(3.0)
