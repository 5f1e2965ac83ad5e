"""The trainer's end-of-epoch measure: one thread with OpenBLAS's own threads, against two threads of one each.

    python benchmarks/eval_threads.py [simple-convnet|deep-convnet ...] [--samples 10000] [--busy]

After each epoch the trainer measures the network in inference mode on up to
10,000 training samples and on the validation set. It used to run the batches
one after another, OpenBLAS splitting each product over its two threads; now
a convolutional network's batches go two at a time, one per thread, each on
one OpenBLAS thread (as training does). This prints the seconds of one pass
over ``--samples`` random MNIST-shaped images both ways, in one run, and
whether they give the same loss and accuracy. With ``--busy`` a process keeps
one core busy meanwhile, as another program on a shared machine would:
OpenBLAS's two threads then wait for each other.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import numpy as np


def spin(stop) -> None:
    while not stop.is_set():
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("presets", nargs="*", default=["simple-convnet", "deep-convnet"])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    args = parser.parse_args()

    from playground.engine.nn.network import Network
    from playground.engine.project import load_preset
    from playground.engine.train.parallel import shard_pool
    from playground.engine.train.trainer import evaluate

    stop = multiprocessing.Event()
    busy = multiprocessing.Process(target=spin, args=(stop,), daemon=True) if args.busy else None
    if busy is not None:
        busy.start()
    try:
        rng = np.random.default_rng(0)
        x = rng.random((args.samples, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, args.samples)
        for name in args.presets:
            net = Network(load_preset(name)["network"], seed=0)

            def timed(pool=None):
                evaluate(net, x[:200], y[:200], pool=pool)  # buffers and threads warmed up
                t0 = time.perf_counter()
                result = evaluate(net, x, y, pool=pool)
                return time.perf_counter() - t0, result

            before, r0 = timed()
            with shard_pool(net.shardable, 2) as pool:
                now, r1 = timed(pool)
            print(f"{name}: {args.samples:,} images, one thread (OpenBLAS on two) {before:.2f} s, two threads "
                  f"{now:.2f} s: {before / now:.2f}x; accuracy {r0['accuracy']:.4f} / {r1['accuracy']:.4f}, "
                  f"loss {r0['loss']:.6f} / {r1['loss']:.6f}" + (" (one core busy)" if busy else ""))
    finally:
        if busy is not None:
            stop.set()
            busy.join()


if __name__ == "__main__":
    main()
