"""Threads for training: a second thread for the second half of each batch.

NumPy runs element-wise work on the calling thread only, so a convolutional
network, whose steps are mostly such work, keeps one core busy. When the
network is shardable (:attr:`Network.shardable`) and two or more CPUs may be
used, :func:`shard_pool` gives the trainer an executor whose thread runs the
second half of each batch while the trainer's thread runs the first; NumPy
releases the GIL inside its loops, so the halves run side by side.
Meanwhile OpenBLAS is held to one thread per half (its own threads would
compete with ours and spin between products). A dense network, whose steps
are many small calls that need the GIL, is split over two processes instead
(see :mod:`.halfbatch`).
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator

THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_threads() -> int:
    """Threads training may use: ``OPENBLAS_NUM_THREADS`` or ``OMP_NUM_THREADS`` if set, else the usable CPUs."""
    for key in THREAD_ENV:
        value = (os.environ.get(key) or "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return usable_cpus()


@contextmanager
def shard_pool(shardable: bool, threads: int | None = None) -> Iterator[Executor | None]:
    """An executor for the second shard of each batch, or None when there is nothing to gain.

    None when the network is not shardable, when fewer than two threads may be
    used, or when threadpoolctl cannot limit OpenBLAS. On leaving, the thread
    ends and OpenBLAS gets its threads back.
    """
    threads = worker_threads() if threads is None else threads
    if not shardable or threads < 2:
        yield None
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # declared as a dependency; without it the shards simply run one after the other
        yield None
        return
    with threadpool_limits(limits=max(1, threads // 2), user_api="blas"), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="playground-shard") as pool:
        yield pool
