"""Soak test of the app's training process: does its memory stay flat over a long run?

    python benchmarks/soak.py                      # 10 minutes of mlp-mnist, as the app trains it
    python benchmarks/soak.py --minutes 3 --preset simple-convnet
    python benchmarks/soak.py --minutes 1 --interval 10 --preset spiral

The window's side is played here without Qt: the data set goes into shared
memory (:class:`~playground.engine.train.remote.SharedDataset`), a worker
process is spawned (:func:`~playground.engine.train.remote.spawn_worker`) and
given the job the dashboard gives it (the dashboard's snapshot maker,
statistics every 20 batches, endless epochs), and a reader takes in every
message, as the app's session does. After ``--minutes`` the worker is told
to stop.

Every ``--interval`` seconds (a minute) it prints the resident memory (RSS)
of the worker, of the helper process it may start (:mod:`~playground.engine.train.halfbatch`)
and of this process, read from /proc (Linux). At the end it
says whether each stayed within 5 % of its size at the first report, i.e.
once the first minute's allocations (data, caches, pools) were made, and
prints the figures as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from playground.engine.data.datasets import make_dataset
from playground.engine.nn.network import Network
from playground.engine.project import load_preset
from playground.engine.train import remote
from playground.engine.train.snapshots import SnapshotMaker
from playground.engine.train.trainer import TrainConfig

#: the dashboard's statistics period (playground.ui.dashboard.dashboard.STATS_EVERY)
STATS_EVERY = 20
#: how far memory may grow after the first report and still count as flat
TOLERANCE = 0.05


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (Linux's /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise OSError(f"no VmRSS for process {pid}")


def children_mib(pid: int) -> float:
    """Resident memory of the processes ``pid`` started (the worker's helper, :mod:`.halfbatch`), in MiB."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return 0.0
    total = 0.0
    for kid in kids:
        try:
            total += rss_mib(kid)
        except OSError:  # it ended meanwhile
            pass
    return total


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to train (default 10)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between reports (default 60)")
    parser.add_argument("--preset", default="mlp-mnist", help="the project to train (default mlp-mnist)")
    parser.add_argument("--data-dir", default=None, help="the MNIST folder (default: where the app finds it)")
    args = parser.parse_args(argv)
    if not args.minutes > 0 or not args.interval > 0:
        parser.error("--minutes and --interval must be > 0")
    return args


def soak(args: argparse.Namespace) -> dict:
    project = load_preset(args.preset)
    spec = dict(project["dataset"])
    if args.data_dir and spec.get("name") == "mnist":
        spec["data_dir"] = args.data_dir
    data = make_dataset(spec)
    net = Network(project["network"], seed=0)
    config = TrainConfig.from_dict({**project["training"], "epochs": 1_000_000, "stats_every": STATS_EVERY})
    shared = remote.SharedDataset(data)
    process, conn = remote.spawn_worker()
    reports: list[dict] = []
    steps = epochs = 0
    result: dict = {}
    try:
        conn.send(remote.make_job(net, shared.descriptor, config,
                                  snapshot=(SnapshotMaker, {"epochs": config.epochs})))
        began = time.monotonic()
        next_report = began + args.interval
        end = began + args.minutes * 60
        stopping = False
        while True:
            now = time.monotonic()
            if now >= next_report:
                report = {"minute": round((now - began) / 60, 2), "steps": steps, "epochs": epochs,
                          "worker_mib": round(rss_mib(process.pid), 1),
                          "helper_mib": round(children_mib(process.pid), 1),
                          "parent_mib": round(rss_mib(os.getpid()), 1)}
                reports.append(report)
                print(f"{report['minute']:6.2f} min  {steps:8d} steps  {epochs:4d} epochs  "
                      f"worker {report['worker_mib']:8.1f} MiB  its helper {report['helper_mib']:7.1f} MiB  "
                      f"this process {report['parent_mib']:8.1f} MiB",
                      flush=True)
                next_report += args.interval
            if now >= end and not stopping:
                conn.send(("stop", 1))
                stopping = True
            if not conn.poll(min(max(next_report - now, 0.0), 0.5)):
                continue
            kind, payload = conn.recv()[:2]
            if kind == "progress":
                steps = payload["steps"][-1]
            elif kind == "epoch":
                epochs += 1
            elif kind == "ended":
                result = payload
                break
    finally:
        conn.close()
        process.join(10)
        if process.is_alive():
            process.terminate()
        shared.release()
    return summary(args, reports, result)


def summary(args: argparse.Namespace, reports: list[dict], result: dict) -> dict:
    """Growth of each process's memory from the first report to the largest after it."""
    out: dict = {"preset": args.preset, "minutes": args.minutes, "reports": reports,
                 "status": result.get("status"), "message": result.get("message", "")}
    if len(reports) < 2:
        out["flat"] = None
        return out
    flat = True
    for who in ("worker", "helper", "parent"):
        first = reports[0][f"{who}_mib"]
        if not first:  # no helper
            continue
        peak = max(r[f"{who}_mib"] for r in reports[1:])
        last = reports[-1][f"{who}_mib"]
        growth = (peak - first) / first
        out[f"{who}_growth"] = round(growth, 4)
        flat = flat and growth <= TOLERANCE
        print(f"{who:>6}: {first:.1f} MiB at the first report, at most {peak:.1f} after it, {last:.1f} at the end "
              f"({growth:+.1%}; within {TOLERANCE:.0%}: {'yes' if growth <= TOLERANCE else 'NO'})")
    out["flat"] = flat
    return out


def main(argv: list[str] | None = None) -> int:
    if not os.path.isdir("/proc/self"):
        print("soak.py reads memory from /proc: Linux only", file=sys.stderr)
        return 2
    args = parse_args(argv)
    out = soak(args)
    print(json.dumps(out))
    if out["status"] not in ("cancelled", "finished"):
        print(f"the run ended with {out['status']}: {out['message']}", file=sys.stderr)
        return 1
    return 0 if out["flat"] is not False else 1


if __name__ == "__main__":
    sys.exit(main())
