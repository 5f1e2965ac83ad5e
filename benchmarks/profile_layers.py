"""Per-layer forward/backward time of one training batch, plus the optimizer step.

    python benchmarks/profile_layers.py [simple-convnet|mlp-mnist] [--batch 100] [--repeats 60]

Prints the median and the minimum milliseconds per batch for each layer: on a
shared machine the median shows the typical cost, the minimum what the code
costs when nothing else runs. Random MNIST-shaped data; no file is read.

Each layer runs on its own here, on the whole batch and on this thread: the
trainer instead fuses Conv2D → ReLU → MaxPool2D into one step and runs the two
halves of a convnet's batch on two threads, which ``playground bench`` measures.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from playground.engine.bench import preset_spec
from playground.engine.train.memory import keep_freed_memory
from playground.engine.nn.network import Network
from playground.engine.nn.optimizers import get_optimizer


def profile(name: str, batch: int, repeats: int, warmup: int = 5) -> list[tuple[str, list[float], list[float]]]:
    net = Network(preset_spec(name), seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((batch, *net.input_shape), dtype=np.float32)
    y = rng.integers(0, net.output_shape[0], batch)
    opt = get_optimizer({"type": "adam", "lr": 0.001})
    params, grads, decay = net.optimizer_arrays()  # the flat arrays the trainer steps
    names = [layer.name for layer in net.train_layers] + ["loss", "adam"]
    fwd: dict[str, list[float]] = {k: [] for k in names}
    bwd: dict[str, list[float]] = {k: [] for k in names}
    for r in range(warmup + repeats):
        keep = r >= warmup
        h = x
        for layer in net.train_layers:
            t = time.perf_counter()
            h = layer.forward(h, True)
            if keep:
                fwd[layer.name].append(time.perf_counter() - t)
        t = time.perf_counter()
        _, g = net.loss(h, y)
        if keep:
            fwd["loss"].append(time.perf_counter() - t)
        for layer in reversed(net.train_layers):
            t = time.perf_counter()
            g = layer.backward(g)
            if keep:
                bwd[layer.name].append(time.perf_counter() - t)
            if g is None:
                break
        t = time.perf_counter()
        opt.update(params, grads, decay)
        if keep:
            bwd["adam"].append(time.perf_counter() - t)
    return [(k, fwd[k], bwd[k]) for k in names]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("preset", nargs="?", default="simple-convnet")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=60)
    args = ap.parse_args()
    keep_freed_memory()  # as the Trainer does
    rows = profile(args.preset, args.batch, args.repeats)

    def ms(v: list[float], f) -> str:
        return f"{f(v) * 1e3:7.2f}" if v else "      -"

    print(f"{args.preset}, batch {args.batch}: ms per batch   fwd median (min)   bwd median (min)")
    tot_med = tot_min = 0.0
    for name, f, b in rows:
        print(f"{name:14s} {ms(f, statistics.median)} ({ms(f, min)})  {ms(b, statistics.median)} ({ms(b, min)})")
        for v in (f, b):
            if v:
                tot_med += statistics.median(v)
                tot_min += min(v)
    print(f"{'total':14s} {tot_med * 1e3:7.2f} ({tot_min * 1e3:7.2f})"
          f"  → {args.batch / tot_med:,.0f} img/s at the median")


if __name__ == "__main__":
    main()
