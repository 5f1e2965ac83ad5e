"""How fast the engine trains and predicts, optionally against PyTorch on the same machine.

``run_bench()`` measures, for the presets ``mlp-mnist``, ``simple-convnet``
and ``deep-convnet`` (the book's chapter-8 network) on MNIST-shaped random float32 data (N × 1 × 28 × 28, labels 0–9):

- training images per second through the real :class:`~.trainer.Trainer`
  (Adam, lr 0.001, no validation), timed from the end of a few warm-up batches
  to the end of the last batch, so shuffling, batching and the per-batch
  bookkeeping are counted as they are in a real run (the measure of each
  epoch's training loss and accuracy at its end is not: PyTorch's loop has none);
- inference images per second (``Network.predict`` in batches of 1000);
- the latency of predicting one image (median over many calls), in ms;
- the peak resident memory of the process so far (``ru_maxrss``);
- how busy other processes kept the CPUs meanwhile (``other_load``, see
  :class:`OtherLoad`): on a shared machine, figures taken under load are low.

With ``vs_torch=True`` and PyTorch importable, the same networks written as
``torch.nn.Sequential`` (Adam, float32, ``torch.set_num_threads`` equal to
ours) are measured after ours, each variant in a fresh interpreter so that
nothing of ours changes them: ``torch`` as PyTorch ships, and ``torch_tuned``
with the two tricks our engine uses (subnormals flushed, freed memory kept;
see :data:`TORCH_VARIANTS`). Each case gets ``ratio`` (against ``torch``) and
``ratio_tuned``: ours / theirs for throughput, their ms / our ms for latency,
so above 1 always means we are faster. PyTorch is not a dependency: without
it the result says how to get it.

Our threads follow ``OPENBLAS_NUM_THREADS`` (or ``OMP_NUM_THREADS``), else
the CPUs this process may use: matrix products on OpenBLAS's threads; for
convolutional networks the two halves of each batch on two threads (see
:mod:`playground.engine.train.parallel`), for dense ones on two processes (see :mod:`playground.engine.train.halfbatch`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Any, Callable, Mapping

import numpy as np

from playground.engine.errors import SpecError
from playground.engine.project import load_preset
from playground.engine.train.memory import keep_freed_memory
from playground.engine.train.parallel import usable_cpus, worker_threads
from playground.engine.nn.network import Network
from playground.engine.train.trainer import TrainConfig, TrainControl, Trainer

CASES = ("mlp-mnist", "simple-convnet", "deep-convnet")
TORCH_HINT = "not installed: pip install torch==2.13.0 (CPU build)"
INFER_BATCH = 1000
WARMUP_BATCHES = 3

def preset_spec(name: str) -> dict[str, Any]:
    """The network spec of the bundled preset ``name``."""
    return load_preset(name)["network"]


def thread_settings() -> dict[str, Any]:
    """The thread-count settings in force and the number of threads both frameworks are given."""
    env = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return {"threads": worker_threads(), "cpu_count": os.cpu_count(), "usable_cpus": usable_cpus(), **env}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 2**20 if sys.platform == "darwin" else peak / 2**10, 1)


class OtherLoad:
    """How busy the other processes kept the CPUs while a measurement ran (Linux).

    The share of all CPU time spent outside this process and the helper
    processes it started and ended meanwhile (see halfbatch.py): 0 on a quiet machine;
    at 0.5 on two CPUs another job had a whole CPU, and the figures measured
    meanwhile are low, those with threads the most. None where /proc is missing.
    """

    def __enter__(self) -> "OtherLoad":
        self.value: float | None = None
        self._start = self._sample()
        return self

    def __exit__(self, *exc) -> None:
        end = self._sample()
        if self._start is None or end is None:
            return
        (t0, busy0, own0), (t1, busy1, own1) = self._start, end
        total = t1 - t0
        if total > 0:
            self.value = round(min(max((busy1 - busy0 - (own1 - own0)) / total, 0.0), 1.0), 3)

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        """(all CPU seconds, busy CPU seconds, CPU seconds of this process and its ended children)."""
        try:
            with open("/proc/stat") as f:
                ticks = [int(v) for v in f.readline().split()[1:]]
            hz = os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return None
        own = os.times()
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        return sum(ticks) / hz, (sum(ticks) - idle) / hz, own.user + own.system + own.children_user + own.children_system


def random_mnist(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` MNIST-shaped images with pixel values in [0, 1) and labels 0–9."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


# ---------------------------------------------------------------- timing helpers

class _StopAfter:
    """Trainer callback: start the clock after the warm-up batches, cancel when the budget is spent.

    The work at each epoch's end (the inference-mode measure of the training
    loss and accuracy, validation, gradient norms) is not training and has no
    counterpart in PyTorch's loop: the time from an epoch's last batch to its
    ``on_epoch_end`` is left out of the span.
    """

    def __init__(self, control: TrainControl, seconds: float, warmup: int, min_batches: int = 2):
        self.control, self.seconds, self.warmup, self.min_batches = control, seconds, warmup, min_batches
        self.t0 = self.t1 = 0.0
        self.timed_batches = 0
        self.left_out = 0.0  # seconds of epoch-end work inside the span
        self._last = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds of training from the end of the warm-up to the end of the last batch."""
        return self.t1 - self.t0 - self.left_out

    def on_batch_end(self, step: int, logs: Mapping[str, Any]) -> None:
        now = self._last = time.perf_counter()
        if step == self.warmup:
            self.t0 = now
        elif step > self.warmup:
            self.t1 = now
            self.timed_batches = step - self.warmup
            if self.timed_batches >= self.min_batches and self.elapsed >= self.seconds:
                self.control.cancel()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any]) -> None:
        if self.t0 and self._last >= self.t0:
            self.left_out += time.perf_counter() - self._last


def _timed_loop(fn: Callable[[int], int], seconds: float, min_calls: int) -> tuple[float, int]:
    """Call ``fn(i)`` (which returns how many images it handled) until ``seconds`` have passed.

    Returns (elapsed seconds, images) summed over the calls, after one untimed call.
    """
    fn(0)
    images, calls = 0, 0
    t0 = time.perf_counter()
    elapsed = 0.0
    while calls < min_calls or elapsed < seconds:
        images += fn(calls + 1)
        calls += 1
        elapsed = time.perf_counter() - t0
    return elapsed, images


def _latency_ms(fn: Callable[[int], Any], seconds: float, min_calls: int = 20, max_calls: int = 5000) -> float:
    """Median milliseconds of ``fn(i)`` over as many calls as ``seconds`` allow."""
    for i in range(5):
        fn(i)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_calls or (time.perf_counter() - start < seconds and len(times) < max_calls):
        t = time.perf_counter()
        fn(len(times))
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _split(seconds: float) -> tuple[float, float, float]:
    """The budget of one case: 60 % training, 20 % inference, 20 % latency."""
    return 0.6 * seconds, 0.2 * seconds, 0.2 * seconds


# ---------------------------------------------------------------- our engine

def bench_ours(spec: Mapping[str, Any], x: np.ndarray, y: np.ndarray, seconds: float,
               batch_size: int = 100, seed: int = 0) -> dict[str, Any]:
    """Training and inference speed of our engine on (x, y)."""
    t_train, t_infer, t_lat = _split(seconds)
    net = Network(spec, seed=seed)
    data = SimpleNamespace(x_train=x, y_train=y, x_val=None, y_val=None, kind="classification")
    control = TrainControl()
    clock = _StopAfter(control, t_train, WARMUP_BATCHES)
    config = TrainConfig(optimizer={"type": "adam", "lr": 0.001}, batch_size=batch_size, epochs=10**6, seed=seed)
    Trainer(net, data, config, control=control, callbacks=[clock]).run()
    train = clock.timed_batches * batch_size / clock.elapsed

    n = x.shape[0]
    chunks = max(1, n // INFER_BATCH)

    def infer(i: int) -> int:
        lo = (i % chunks) * INFER_BATCH
        return net.predict(x[lo:lo + INFER_BATCH], batch_size=INFER_BATCH).shape[0]

    elapsed, images = _timed_loop(infer, t_infer, min_calls=1)
    latency = _latency_ms(lambda i: net.predict(x[i % n:i % n + 1]), t_lat)
    return {"train_images_per_s": round(train, 1), "infer_images_per_s": round(images / elapsed, 1),
            "latency_ms": round(latency, 4), "params": net.param_count(), "peak_rss_mb": peak_rss_mb()}


# ---------------------------------------------------------------- PyTorch

def torch_model(net: Network):
    """``net``'s training layers as a ``torch.nn.Sequential`` (the final softmax stays in the loss)."""
    import torch.nn as nn

    acts = {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "Identity": nn.Identity}
    mods = []
    for layer in net.train_layers:
        kind = layer.type_name
        if kind == "Flatten":
            mods.append(nn.Flatten())
        elif kind == "Dense":
            mods.append(nn.Linear(layer.input_shape[0], layer.units, bias="b" in layer.params))
        elif kind == "Conv2D":
            mods.append(nn.Conv2d(layer.input_shape[0], layer.filters, (layer.kh, layer.kw),
                                  stride=layer.stride, padding=layer.pad))
        elif kind == "MaxPool2D":
            mods.append(nn.MaxPool2d(layer.pool, layer.stride, layer.pad))
        elif kind == "AvgPool2D":
            mods.append(nn.AvgPool2d(layer.pool, layer.stride, layer.pad))
        elif kind == "Dropout":
            mods.append(nn.Dropout(layer.rate))
        elif kind in acts:
            mods.append(acts[kind]())
        else:
            raise SpecError(f"the PyTorch comparison has no counterpart for {kind} '{layer.name}'")
    return nn.Sequential(*mods)


def bench_torch(spec: Mapping[str, Any], x: np.ndarray, y: np.ndarray, seconds: float,
                batch_size: int = 100, seed: int = 0) -> dict[str, Any]:
    """The same measurements for the same network written in PyTorch."""
    import torch

    t_train, t_infer, t_lat = _split(seconds)
    torch.manual_seed(seed)
    model = torch_model(Network(spec, seed=seed))
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y.astype(np.int64))
    n = x.shape[0]
    batches = -(-n // batch_size)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    step, t0, t1 = 0, 0.0, 0.0
    done = False
    while not done:
        perm = torch.randperm(n, generator=gen)
        for b in range(batches):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            float(loss.item())  # as our trainer reads the loss and the accuracy of every batch
            int((out.argmax(1) == yb).sum())
            step += 1
            now = time.perf_counter()
            if step == WARMUP_BATCHES:
                t0 = now
            elif step > WARMUP_BATCHES:
                t1 = now
                if step - WARMUP_BATCHES >= 2 and now - t0 >= t_train:
                    done = True
                    break
    train = (step - WARMUP_BATCHES) * batch_size / (t1 - t0)

    model.eval()
    chunks = max(1, n // INFER_BATCH)

    def infer(i: int) -> int:
        lo = (i % chunks) * INFER_BATCH
        with torch.inference_mode():
            return torch.softmax(model(xt[lo:lo + INFER_BATCH]), 1).numpy().shape[0]

    def one(i: int):
        with torch.inference_mode():
            return torch.softmax(model(xt[i % n:i % n + 1]), 1).numpy()

    elapsed, images = _timed_loop(infer, t_infer, min_calls=1)
    latency = _latency_ms(one, t_lat)
    return {"train_images_per_s": round(train, 1), "infer_images_per_s": round(images / elapsed, 1),
            "latency_ms": round(latency, 4), "params": sum(p.numel() for p in model.parameters())}


TORCH_VARIANTS = {
    "torch": "PyTorch as shipped, in a process of its own: only the thread count is set (to ours)",
    "torch_tuned": "the same with our two tricks: subnormal floats flushed to zero (torch.set_flush_denormal) "
                   "and glibc told to keep freed memory (as keep_freed_memory does for us)",
}


def _ratios(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, float]:
    """Ours / theirs for throughput, theirs / ours for latency: above 1 means we are faster."""
    return {"train": round(ours["train_images_per_s"] / theirs["train_images_per_s"], 3),
            "infer": round(ours["infer_images_per_s"] / theirs["infer_images_per_s"], 3),
            "latency": round(theirs["latency_ms"] / ours["latency_ms"], 3)}


def _torch_in_subprocess(job: Mapping[str, Any]) -> dict[str, Any]:
    """Run :func:`_torch_worker` in a fresh interpreter, so nothing of ours (allocator settings,
    thread pools, warm caches) changes PyTorch's figures."""
    proc = subprocess.run([sys.executable, "-m", "playground.engine.bench", "--torch-worker"],
                          input=json.dumps(job), capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"the PyTorch measurement failed: expected its figures as JSON, got exit status "
                           f"{proc.returncode} and '{last}'; run python -m playground.engine.bench --vs-torch "
                           f"to see the whole error")
    return json.loads(lines[-1])


def _torch_worker(job: Mapping[str, Any]) -> dict[str, Any]:
    """Measure every case of ``job`` with PyTorch in this process (see :func:`_torch_in_subprocess`)."""
    import torch

    torch.set_num_threads(int(job["threads"]))
    if job.get("tuned"):
        torch.set_flush_denormal(True)
        keep_freed_memory()
    x, y = random_mnist(int(job["samples"]), int(job["seed"]))
    cases = {}
    for name, spec in job["specs"].items():
        with OtherLoad() as load:
            figures = bench_torch(spec, x, y, float(job["seconds"]), int(job["batch_size"]), int(job["seed"]))
        cases[name] = {**figures, "other_load": load.value}
    return {"version": torch.__version__, "threads": torch.get_num_threads(), "cases": cases}


# ---------------------------------------------------------------- the whole run

def run_bench(vs_torch: bool = False, seconds_per_case: float = 5.0, batch_size: int = 100,
              samples: int = 5000, cases: tuple[str, ...] = CASES, seed: int = 0) -> dict[str, Any]:
    """Measure every case with our engine, then (``vs_torch``) with PyTorch; a JSON-able dict.

    ``seconds_per_case`` is the time given to each network in each framework,
    60 % of it to training. ``samples`` (at least 5000) is rounded up to a
    whole number of batches so every timed batch is full.
    """
    if batch_size < 1 or seconds_per_case <= 0:
        raise SpecError(f"batch_size must be >= 1 and seconds_per_case > 0, got {batch_size} and {seconds_per_case}")
    n = -(-max(int(samples), 5000, batch_size) // batch_size) * batch_size
    x, y = random_mnist(n, seed)
    threads = thread_settings()
    result: dict[str, Any] = {
        "batch_size": batch_size, "samples": n, "seconds_per_case": seconds_per_case,
        "dtype": "float32", "optimizer": "adam lr 0.001", "infer_batch": INFER_BATCH,
        "threads": threads, "numpy": np.__version__, "python": platform.python_version(),
        "machine": platform.machine(), "cases": {},
    }
    specs = {name: preset_spec(name) for name in cases}
    for name, spec in specs.items():
        with OtherLoad() as load:
            ours = bench_ours(spec, x, y, seconds_per_case, batch_size, seed)
        result["cases"][name] = {"ours": {**ours, "other_load": load.value}}
    if not vs_torch:
        result["torch"] = "not measured (vs_torch=False)"
    elif importlib.util.find_spec("torch") is None:
        result["torch"] = TORCH_HINT
    else:
        job = {"specs": specs, "seconds": seconds_per_case, "batch_size": batch_size, "samples": n, "seed": seed,
               "threads": threads["threads"]}
        for variant, key in (("as shipped", "torch"), ("tuned", "torch_tuned")):
            try:
                theirs = _torch_in_subprocess({**job, "tuned": variant == "tuned"})
            except RuntimeError as e:  # our figures stand; say why theirs are missing
                result["torch"] = str(e)
                break
            result["torch"] = theirs["version"]
            threads["torch_threads"] = theirs["threads"]
            for name, figures in theirs["cases"].items():
                case = result["cases"][name]
                case[key] = figures
                case["ratio" if key == "torch" else "ratio_tuned"] = _ratios(case["ours"], figures)
        result["torch_variants"] = TORCH_VARIANTS
    result["peak_rss_mb"] = peak_rss_mb()
    return result


if __name__ == "__main__":
    if sys.argv[1:] == ["--torch-worker"]:
        print(json.dumps(_torch_worker(json.load(sys.stdin))))
    else:
        print(json.dumps(run_bench(vs_torch="--vs-torch" in sys.argv[1:]), indent=2))
