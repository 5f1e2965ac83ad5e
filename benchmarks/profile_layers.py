"""Per-layer forward/backward time of one training batch, plus the optimizer step, and each convolution's GFLOP/s.

    python benchmarks/profile_layers.py [simple-convnet|mlp-mnist|deep-convnet] [--batch 100] [--repeats 60]
                                        [--steps] [--wall]

Prints the median and the minimum milliseconds per batch for each layer: the
median shows the typical cost, the minimum what the code costs when nothing
else disturbs it. Times are the CPU time of this thread (OpenBLAS held to one
thread), so other jobs on a shared machine slow the figures only through the
caches they share; ``--wall`` takes wall-clock time instead. For each
convolution the line ends with its GFLOP/s forward and backward: 2 · N · the
layer's multiply-adds per sample for the forward pass, twice that for the
backward (the weight gradient and, unless it is the first layer, the input
gradient). Random MNIST-shaped data; no file is read.

Each layer runs on its own on the whole batch; with ``--steps`` the steps the
trainer runs instead (Conv2D → ReLU → MaxPool2D fused into one). The trainer
also runs the two halves of a convnet's batch on two threads, which
``playground bench`` measures.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from playground.engine.bench import preset_spec
from playground.engine.nn.conv import Conv2D
from playground.engine.nn.fused import ConvReluMaxPool
from playground.engine.nn.network import Network
from playground.engine.nn.optimizers import get_optimizer
from playground.engine.train.memory import keep_freed_memory


def _name(step) -> str:
    return "+".join(l.name for l in step.layers) if isinstance(step, ConvReluMaxPool) else step.name


def _conv(step) -> Conv2D | None:
    if isinstance(step, ConvReluMaxPool):
        return step.conv
    return step if isinstance(step, Conv2D) else None


def profile(name: str, batch: int, repeats: int, warmup: int = 5, steps: bool = False,
            clock=time.thread_time) -> list[tuple[str, list[float], list[float], Conv2D | None]]:
    net = Network(preset_spec(name), seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((batch, *net.input_shape), dtype=np.float32)
    y = rng.integers(0, net.output_shape[0], batch)
    opt = get_optimizer({"type": "adam", "lr": 0.001})
    params, grads, decay = net.optimizer_arrays()  # the flat arrays the trainer steps
    run = net._steps if steps else net.train_layers
    names = [_name(s) for s in run] + ["loss", "adam"]
    fwd: dict[str, list[float]] = {k: [] for k in names}
    bwd: dict[str, list[float]] = {k: [] for k in names}
    for r in range(warmup + repeats):
        keep = r >= warmup
        h = x
        for step in run:
            t = clock()
            h = step.forward(h, True)
            if keep:
                fwd[_name(step)].append(clock() - t)
        t = clock()
        _, g = net.loss(h, y)
        if keep:
            fwd["loss"].append(clock() - t)
        for step in reversed(run):
            t = clock()
            g = step.backward(g)
            if keep:
                bwd[_name(step)].append(clock() - t)
            if g is None:
                break
        t = clock()
        opt.update(params, grads, decay)
        if keep:
            bwd["adam"].append(clock() - t)
    convs = {_name(s): _conv(s) for s in run}
    return [(k, fwd[k], bwd[k], convs.get(k)) for k in names]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("preset", nargs="?", default="simple-convnet")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=60)
    ap.add_argument("--steps", action="store_true", help="the trainer's steps (fused conv+relu+pool) instead of layers")
    ap.add_argument("--wall", action="store_true", help="wall-clock time instead of this thread's CPU time")
    args = ap.parse_args()
    keep_freed_memory()  # as the Trainer does
    with threadpool_limits(limits=1, user_api="blas"):
        rows = profile(args.preset, args.batch, args.repeats, steps=args.steps,
                       clock=time.perf_counter if args.wall else time.thread_time)

    def ms(v: list[float], f) -> str:
        return f"{f(v) * 1e3:7.2f}" if v else "      -"

    clock = "wall-clock" if args.wall else "CPU (this thread)"
    print(f"{args.preset}, batch {args.batch}, {clock} ms per batch:  fwd median (min)   bwd median (min)"
          f"   GFLOP/s fwd / bwd at the median")
    tot_med = tot_min = 0.0
    for name, f, b, conv in rows:
        line = f"{name:26s} {ms(f, statistics.median)} ({ms(f, min)})  {ms(b, statistics.median)} ({ms(b, min)})"
        if conv is not None and f and b:
            flop = 2.0 * args.batch * conv.mult_adds()
            back = flop * (2 if conv.need_input_grad else 1)
            line += f"   {flop / statistics.median(f) / 1e9:5.1f} / {back / statistics.median(b) / 1e9:5.1f}"
        print(line)
        for v in (f, b):
            if v:
                tot_med += statistics.median(v)
                tot_min += min(v)
    print(f"{'total':26s} {tot_med * 1e3:7.2f} ({tot_min * 1e3:7.2f})"
          f"  → {args.batch / tot_med:,.0f} img/s on one core at the median")


if __name__ == "__main__":
    main()
