"""Training steps per second of our LSTM against PyTorch's ``nn.LSTM`` on the CPU, for the same sizes.

Each case is a batch of ``(N, T, F)`` random sequences through one LSTM of
``H`` units and a Dense output, mean squared error, Adam: one step is forward,
backward and the update. Ours runs in this process; PyTorch (if installed) in a
fresh interpreter with the same number of threads, so neither changes the
other. ``ratio`` = our steps/s over theirs: above 1 we are faster.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import numpy as np

from playground.engine.nn.network import Network
from playground.engine.nn.optimizers import get_optimizer
from playground.engine.train.parallel import worker_threads

#: (name, batch N, steps T, features F, units H): the adding-lstm preset's size and a wider one
CASES = (("adding-lstm", 32, 50, 2, 16), ("wide", 64, 50, 32, 128))


def _data(n: int, t: int, f: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, t, f), dtype=np.float32), rng.standard_normal((n, 1), dtype=np.float32)


def _steps_per_second(step, seconds: float) -> float:
    for _ in range(3):
        step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or count < 5:
        step()
        count += 1
    return count / (time.perf_counter() - start)


def bench_ours(n: int, t: int, f: int, h: int, seconds: float) -> float:
    net = Network({"input_shape": [t, f], "layers": [{"type": "LSTM", "units": h}, {"type": "Dense", "units": 1}],
                   "loss": "mse"}, seed=0)
    opt = get_optimizer({"type": "adam", "lr": 1e-3})
    x, y = _data(n, t, f)

    def step():
        net.loss_and_grads(x, y)
        opt.update(net.params(), net.grads())

    return _steps_per_second(step, seconds)


def bench_torch(n: int, t: int, f: int, h: int, seconds: float, threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    lstm, head = torch.nn.LSTM(f, h, batch_first=True), torch.nn.Linear(h, 1)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    xs, ys = (torch.from_numpy(a) for a in _data(n, t, f))

    def step():
        opt.zero_grad()
        out, _ = lstm(xs)
        loss = torch.nn.functional.mse_loss(head(out[:, -1]), ys)
        loss.backward()
        opt.step()

    return _steps_per_second(step, seconds)


def run_bench_lstm(vs_torch: bool = True, seconds: float = 3.0) -> dict[str, Any]:
    threads = worker_threads()
    result: dict[str, Any] = {"threads": threads, "cases": {}}
    for name, n, t, f, h in CASES:
        case = {"batch": n, "steps": t, "features": f, "units": h,
                "ours_steps_per_s": round(bench_ours(n, t, f, h, seconds), 2)}
        if vs_torch:
            job = json.dumps({"args": [n, t, f, h, seconds, threads]})
            proc = subprocess.run([sys.executable, "-m", "playground.engine.bench_lstm", "--torch-worker", job],
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode == 0:
                theirs = json.loads(proc.stdout)
                case["torch_steps_per_s"] = round(theirs, 2)
                case["ratio"] = round(case["ours_steps_per_s"] / theirs, 3)
            else:
                lines = proc.stderr.strip().splitlines() or ["no output"]
                case["torch"] = f"not measured: {lines[-1]}"
        result["cases"][name] = case
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--torch-worker"]:
        print(json.dumps(bench_torch(*json.loads(sys.argv[2])["args"])))
    else:
        print(json.dumps(run_bench_lstm(vs_torch="--vs-torch" in sys.argv[1:]), indent=2))
