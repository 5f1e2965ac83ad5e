"""Does the window stay responsive while a convnet trains? Prints one JSON object.

Trains a project (default: the ``simple-convnet`` preset on MNIST) in the real
:class:`~playground.ui.dashboard.TrainingDashboard`, shown offscreen (or on
``$DISPLAY`` with ``--platform xcb``), for one epoch (or ``--batches`` batches), and measures:

- ``max_gap_ms`` / ``p99_gap_ms``: the longest (and 99th-percentile) interval
  between two turns of the Qt event loop, seen by a precise QTimer probe
  (``--probe-ms``, default 5) timed with QElapsedTimer (goal: under 50 ms). An
  interval is the gap plus at most one probe period, so this errs high. The
  probe runs in segments of its own (``--probe-rounds``) after the speed
  rounds: waking the GUI thread 200 times a second costs it 1-2% of a core,
  which, through the shared cores, would slow the training the speed rounds
  measure (a 1 ms probe costs about 5%); ``max_busy_gap_ms`` / ``p99_busy_gap_ms``:
  the CPU time the window's thread spent within a gap (``time.thread_time``),
  which tells the window's own work from waiting for a core on a busy machine;
- ``plot_refreshes_per_s``: how often the curve plots were redrawn with new
  data, and ``ui_ticks_per_s``: how often the dashboard's redraw timer ran
  (goal: at least 10 a second; new data can only come as fast as batches end),
  both counted while the worker trains: from its first report to Stop, or in
  whole-epoch mode to the last report before the epoch's end (before the
  first report the worker process is still starting, with nothing to draw;
  at the end it validates); ``worker_reports_per_s``: how often the worker's
  reports (every batch since the previous one) arrived in that span;
- ``gui_thread_cpu_share``: the GUI thread's CPU time over the same span, per
  second (0.12: 12% of one core): what the window takes from training, and
  ``gui_process_cpu_share``: the same for the window's whole process (its
  thread that reads the worker's reports included);
- ``app_vs_headless``: seconds per batch in the app divided by seconds per
  batch of the engine's Trainer alone on the same project in this process
  (goal: at most 1.15). By default both train one whole epoch and the speed is
  the epoch's training seconds (validation excluded) as the trainer reports
  them, which is what ``playground train`` prints; so the start of a run, when
  the window lays out its plots, counts as it does in use. With ``--batches``
  the app's speed comes from the worker's reports received before Stop.
  Segments alternate (headless, app, headless, app, ...) so a busy machine
  penalizes both alike; medians are reported.
- ``stop_latency_ms``: from pressing Stop to the worker having ended (the
  engine evaluates the validation set once more after a cancel), and
  ``batches_after_stop``: training batches that still ended after Stop (at most the running one).

With ``--neurons`` the neuron view (every hidden unit's output over the
plane, :mod:`playground.ui.inside.neurons`) is on screen beside the dashboard,
as in the app's Playground layout, and ``unit_updates_per_s`` says how often
it drew new unit heatmaps (goal: at least 5 a second); use it with a 2-D
project such as ``--project spiral --batches 2000``. Each round then also runs
the app with the view hidden (the ``without_view`` figures), so the view's cost
is read off one run on one machine load; and the headless segments keep the
validation pass after each epoch, as ``playground train`` does (a spiral
epoch is 15 batches). ``--profile`` prints where the window's thread spent its
time in the segments with the view (cProfile, to stderr). A last line,
``summary``, prints the figures in short, with the load average
(``/proc/loadavg``) before and after: the machine may be shared, and every
figure here moves with its load.

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/ui_responsiveness.py [--rounds 3] [--probe-rounds 2] [--batches N]
    QT_QPA_PLATFORM=offscreen python benchmarks/ui_responsiveness.py --project spiral --batches 2000 --neurons
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def _setup_env(platform: str | None) -> None:
    if platform:
        os.environ["QT_QPA_PLATFORM"] = platform
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    shared = Path("/work/shared/data/mnist")
    if "PLAYGROUND_MNIST_DIR" not in os.environ and shared.is_dir():
        os.environ["PLAYGROUND_MNIST_DIR"] = str(shared)


def headless_seconds_per_batch(project: dict, data, batches: int | None) -> float:
    """The engine's Trainer alone: seconds per batch over batches 2..N (the first one warms up).

    With ``batches`` None, one whole epoch as ``playground train`` times it: the
    epoch's training seconds (validation excluded) over its batches. With ``batches``, the
    validation pass after each epoch is kept, as ``playground train`` runs it (and the app's
    worker): for a set of short epochs it is part of the training's time.
    """
    from playground.engine.nn.network import Network
    from playground.engine.train.trainer import TrainConfig, Trainer

    net = Network(project["network"], seed=project["training"]["seed"])
    if batches is None:
        config = TrainConfig.from_dict(project["training"])
        config.epochs = 1
        trainer = Trainer(net, data, config)
        trainer.evaluate = lambda *a, **k: {}  # validation is not part of the timed seconds anyway
        (epoch,) = trainer.run()
        return epoch["seconds"] / -(-epoch["samples"] // config.batch_size)
    times: list[float] = []

    class Stopper:
        def on_batch_end(self, step, logs):
            times.append(time.perf_counter())
            if step >= batches:
                trainer.control.cancel()

    trainer = Trainer(net, data, TrainConfig.from_dict(project["training"]), callbacks=[Stopper()])
    trainer.run()  # the pass after the cancel comes after the last batch's time
    return (times[-1] - times[0]) / (len(times) - 1)


def app_segment(app, dash, batches: int | None, probe_ms: int | None = 5, units=lambda: 0) -> dict:
    """One run in the dashboard: seconds per batch, event-loop gaps, refresh rates, stop latency.

    With ``batches`` None the run is stopped after its first epoch, and the speed is that
    epoch's training seconds as the worker's trainer reports them (as ``playground train`` does).
    With ``probe_ms`` None no gaps are measured: a 50 ms timer only watches for the end, so the
    segment's speed is the app's as a user runs it (a 5 ms probe takes 1-2% of a core).
    ``units()`` counts the unit heatmaps the neuron view drew (0 without it).
    """
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    gaps: list[int] = []
    busy: list[float] = []  # the window thread's CPU time within each gap (ms)
    cpu = [time.thread_time()]
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(probe_ms or 50)
    when: list[float] = []

    def tick() -> None:
        gaps.append(clock.restart())
        now = time.thread_time()
        busy.append(1000 * (now - cpu[0]))
        cpu[0] = now
        when.append(time.perf_counter())
        watch()  # the probe also ends the segment: one timer waking the GUI thread, not two

    probe.timeout.connect(tick)
    stamps: list[tuple[float, int]] = []  # (time, step) at each snapshot, recorded in the worker thread

    loop = QEventLoop()
    state = {"stop_at": None, "ended_at": None}

    dash.toggle_start()
    session = dash._session
    if session is None:  # still loading the data set
        while dash._session is None:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        session = dash._session

    sent_units: list[float] = []  # when reports with unit heatmaps arrived

    def on_progress(snap):
        stamps.append((time.perf_counter(), snap["steps"][-1]))
        if "units" in (snap.get("extra") or {}):
            sent_units.append(stamps[-1][0])
        state.setdefault("epoch_batches", snap["last"]["batches"])

    def on_epoch(logs):
        state.setdefault("epoch_log", dict(logs))

    session.progress.connect(on_progress, Qt.ConnectionType.DirectConnection)
    session.epoch_done.connect(on_epoch, Qt.ConnectionType.DirectConnection)

    def on_ended(result):
        state["ended_at"] = time.perf_counter()
        QTimer.singleShot(0, loop.quit)

    session.ended.connect(on_ended)

    def mark() -> tuple[int, int, float, float, float, int]:
        return (dash.tick_count, dash.refresh_count, time.perf_counter(), time.thread_time(), time.process_time(),
                units())

    def watch():
        if stamps and "trained0" not in state:  # the first report: the worker process has started training
            state["trained0"] = mark()
        last = batches if batches is not None else state.get("epoch_batches")
        if batches is None:
            # the report of an epoch's last batch waits for the epoch's pictures (a confusion matrix
            # over the validation set): count refreshes and CPU up to the report before it
            if stamps and last and stamps[-1][1] < last and len(stamps) != state.get("seen"):
                state["seen"], state["trained1"] = len(stamps), mark()
        elif stamps and stamps[-1][1] >= last and "trained1" not in state:
            state["trained1"] = mark()
        # with --batches, epochs may be shorter than the segment (spiral: 15 batches): only the count ends it
        done = "trained1" in state if batches is not None else "epoch_log" in state
        if done and state["stop_at"] is None:
            state["stop_at"] = time.perf_counter()
            state["step_at_stop"] = stamps[-1][1]
            dash.stop()

    state["t0"] = time.perf_counter()
    clock.start()
    probe.start()
    loop.exec()
    probe.stop()
    g = np.array(gaps[5:] if probe_ms and gaps[5:] else [np.nan])
    b = np.array(busy[5:] if probe_ms and busy[5:] else [np.nan])
    if os.environ.get("BENCH_DEBUG") and probe_ms:
        order = np.argsort(g)[-5:]
        print("worst gaps (ms, s after start, s after stop):",
              [(int(g[i]), round(when[i + 5] - state["t0"], 2), round(when[i + 5] - state["stop_at"], 2))
               for i in order], file=sys.stderr)
    # training speed from the reports received before Stop: the report after Stop also carries the
    # exact pictures drawn for a stopped run (a confusion matrix, a network copy), which is not training
    trained = [st for st in stamps if st[0] <= state["stop_at"]]
    first = next((i for i, (_, s) in enumerate(trained) if s >= 2), 0)
    (ta, sa), (tb, sb) = trained[first], trained[-1]
    (ticks0, refresh0, t0, cpu0, all0, units0), (ticks1, refresh1, t1, cpu1, all1, units1) = \
        state["trained0"], state["trained1"]
    span = t1 - t0
    if batches is None:
        log = state["epoch_log"]
        seconds_per_batch = log["seconds"] / state["epoch_batches"]
    else:
        seconds_per_batch = (tb - ta) / max(sb - sa, 1)
    return {
        "seconds_per_batch": seconds_per_batch,
        "max_gap_ms": float(g.max()),
        "p99_gap_ms": float(np.percentile(g, 99)),
        # of a gap, the time the window's thread worked (the rest it waited for a core, on a busy machine)
        "max_busy_gap_ms": float(b.max()),
        "p99_busy_gap_ms": float(np.percentile(b, 99)),
        "plot_refreshes_per_s": (refresh1 - refresh0) / span,
        "ui_ticks_per_s": (ticks1 - ticks0) / span,
        "unit_updates_per_s": (units1 - units0) / span,
        "gui_thread_cpu_share": (cpu1 - cpu0) / span,
        "gui_process_cpu_share": (all1 - all0) / span,
        "worker_reports_per_s": sum(t0 < t <= t1 for t, _ in stamps) / span,
        "unit_snapshots_per_s": sum(t0 < t <= t1 for t in sent_units) / span,
        "stop_latency_ms": 1000 * (state["ended_at"] - state["stop_at"]),
        # batches that still ended after Stop was pressed (the one running then, at most)
        "batches_after_stop": stamps[-1][1] - state["step_at_stop"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default="simple-convnet", help="preset name or project file")
    ap.add_argument("--batches", type=int, default=None,
                    help="batches per segment (default: one whole epoch, timed as playground train times it)")
    ap.add_argument("--rounds", type=int, default=3, help="headless/app segment pairs (speed)")
    ap.add_argument("--probe-rounds", type=int, default=2,
                    help="app segments with the event-loop probe (gaps), after the speed rounds")
    ap.add_argument("--probe-ms", type=int, default=5, help="period of the event-loop probe (ms)")
    ap.add_argument("--platform", default=None, help="Qt platform (default: offscreen unless set)")
    ap.add_argument("--neurons", action="store_true",
                    help="keep the neuron view with every unit's heatmap on screen beside the dashboard")
    ap.add_argument("--profile", action="store_true",
                    help="with --neurons: cProfile the window's thread in the segments with the view (stderr)")
    args = ap.parse_args(argv)
    if args.probe_rounds < 1:
        ap.error(f"--probe-rounds must be at least 1 (the event-loop gaps come from those segments), got "
                 f"{args.probe_rounds}")
    if args.profile and not args.neurons:
        ap.error("--profile profiles the segments with the neuron view: add --neurons")
    load_before = _loadavg()
    _setup_env(args.platform)

    from PySide6.QtWidgets import QApplication

    from playground.engine.data.datasets import make_dataset
    from playground.engine.project import resolve_project
    from playground.ui.dashboard import TrainingDashboard

    app = QApplication.instance() or QApplication(sys.argv[:1])
    project = resolve_project(args.project)
    t = time.perf_counter()
    data = make_dataset(dict(project["dataset"]))
    load_s = time.perf_counter() - t

    dash = TrainingDashboard()
    dash.set_project(project)
    units = lambda: 0  # noqa: E731
    if args.neurons:  # as the Playground layout shows it: the neuron view at the dashboard's left
        from PySide6.QtWidgets import QSplitter

        from playground.ui.inside.neurons import NeuronView

        view = NeuronView()
        dash.run_data.connect(view.set_data)
        dash.live.on_units = view.set_units
        window = QSplitter()
        window.addWidget(view)
        window.addWidget(dash)
        window.resize(1600, 950)
        window.setSizes([560, 1040])
        window.show()
        units = lambda: view.canvas.updates  # noqa: E731
        show_view = view.setVisible
    else:
        dash.resize(1500, 900)
        dash.show()
    # hand the dashboard the loaded set as if it had loaded it itself (its cache), to time training only
    from playground.ui.dashboard.loading import spec_key
    dash.loader._cache[spec_key(project["dataset"])] = data

    profiler = None
    if args.profile and args.neurons:
        import cProfile

        profiler = cProfile.Profile()

    def with_view(probe_ms):
        show_view(True)
        if profiler is not None:
            profiler.enable()
        try:
            return app_segment(app, dash, args.batches, probe_ms, units)
        finally:
            if profiler is not None:
                profiler.disable()

    def without_view(probe_ms):
        show_view(False)
        return app_segment(app, dash, args.batches, probe_ms, units)

    headless, segments, probed, bare, bare_probed = [], [], [], [], []
    for _ in range(args.rounds):
        headless.append(headless_seconds_per_batch(project, data, args.batches))
        if args.neurons:
            bare.append(without_view(None))
            segments.append(with_view(None))
        else:
            segments.append(app_segment(app, dash, args.batches, None, units))
    for _ in range(args.probe_rounds):
        if args.neurons:
            bare_probed.append(without_view(args.probe_ms))
            probed.append(with_view(args.probe_ms))
        else:
            probed.append(app_segment(app, dash, args.batches, args.probe_ms, units))
    dash.shutdown()
    shown = segments + probed
    if profiler is not None:
        import pstats

        print("the window's thread with the neuron view on (cProfile, by own time):", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)

    app_spb = statistics.median(s["seconds_per_batch"] for s in segments)
    head_spb = statistics.median(headless)
    result = {
        "project": project.get("name"),
        "platform": os.environ.get("QT_QPA_PLATFORM"),
        "batches_per_segment": args.batches,
        "rounds": args.rounds,
        "probe_rounds": args.probe_rounds,
        "probe_ms": args.probe_ms,
        "max_gap_ms": max((s["max_gap_ms"] for s in probed), default=None),
        "p99_gap_ms": max((s["p99_gap_ms"] for s in probed), default=None),
        "max_busy_gap_ms": max((s["max_busy_gap_ms"] for s in probed), default=None),
        "p99_busy_gap_ms": max((s["p99_busy_gap_ms"] for s in probed), default=None),
        "plot_refreshes_per_s": min(s["plot_refreshes_per_s"] for s in shown),
        "ui_ticks_per_s": min(s["ui_ticks_per_s"] for s in shown),
        "neurons": args.neurons,
        "unit_updates_per_s": min(s["unit_updates_per_s"] for s in shown) if args.neurons else None,
        "gui_thread_cpu_share": statistics.median(s["gui_thread_cpu_share"] for s in segments),
        "gui_process_cpu_share": statistics.median(s["gui_process_cpu_share"] for s in segments),
        # from the probed segments, where Stop follows the last report within 5 ms (in the others the
        # 50 ms watch presses it later, and the batches of that wait are reported after it)
        "stop_latency_ms": max(s["stop_latency_ms"] for s in (probed or segments)),
        "batches_after_stop": max(s["batches_after_stop"] for s in (probed or segments)),
        "app_seconds_per_batch": app_spb,
        "headless_seconds_per_batch": head_spb,
        "app_vs_headless": app_spb / head_spb,
        "data_load_s": load_s,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "goals": {"max_gap_ms": "< 50", "plot_refreshes_per_s": ">= 10", "app_vs_headless": "<= 1.15",
                  "unit_updates_per_s": ">= 5 (with --neurons)"},
        "segments": segments,
        "probe_segments": probed,
        "headless_segments_s_per_batch": headless,
        "load_average_before": load_before,
        "load_average_after": _loadavg(),
    }
    if args.neurons:
        # the window's own work per heatmap update: writing the pixels and painting the view (wall time,
        # and the CPU time of it: the rest is waiting for a core); a view that does not time itself has none
        took = np.array(getattr(view.canvas, "update_seconds", ())).reshape(-1, 2) * 1e3
        if len(took):
            result["view_update_ms"] = {
                "median": float(np.median(took[:, 0])), "p99": float(np.percentile(took[:, 0], 99)),
                "max": float(took[:, 0].max()), "cpu_median": float(np.median(took[:, 1])),
                "cpu_max": float(took[:, 1].max()), "count": len(took)}
        bare_spb = statistics.median(s["seconds_per_batch"] for s in bare)
        result["without_view"] = {
            "app_seconds_per_batch": bare_spb,
            "app_vs_headless": bare_spb / head_spb,
            "max_gap_ms": max((s["max_gap_ms"] for s in bare_probed), default=None),
            "p99_gap_ms": max((s["p99_gap_ms"] for s in bare_probed), default=None),
            "max_busy_gap_ms": max((s["max_busy_gap_ms"] for s in bare_probed), default=None),
            "p99_busy_gap_ms": max((s["p99_busy_gap_ms"] for s in bare_probed), default=None),
            "gui_thread_cpu_share": statistics.median(s["gui_thread_cpu_share"] for s in bare),
            "segments": bare, "probe_segments": bare_probed}
    print(json.dumps(result, indent=2))
    print(summary(result, args.batches), file=sys.stderr)
    return 0


def _loadavg() -> str | None:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return None


def summary(result: dict, batches: int | None) -> str:
    """The figures in short: heatmap rate, event-loop stalls, training seconds in the app against the CLI."""
    def seconds(spb: float) -> str:
        return f"{spb * batches:.2f} s" if batches else f"{spb * 1e3:.3f} ms/batch"

    lines = [f"summary ({result['project']}, {batches or 'one epoch of'} batches, load average before "
             f"[{result['load_average_before']}] after [{result['load_average_after']}])"]
    if result["neurons"]:
        lines.append(f"  unit heatmap updates/s (slowest segment): {result['unit_updates_per_s']:.1f}")
        took = result.get("view_update_ms")
        if took:
            lines.append(f"  the view's work per update: median {took['median']:.1f} ms, p99 {took['p99']:.1f} ms, "
                         f"max {took['max']:.1f} ms (CPU: median {took['cpu_median']:.1f} ms, "
                         f"max {took['cpu_max']:.1f} ms)")
    lines.append(f"  event loop: max stall {result['max_gap_ms']} ms, p99 {result['p99_gap_ms']} ms; of which the "
                 f"window's thread worked at most {result['max_busy_gap_ms']:.0f} ms (p99 "
                 f"{result['p99_busy_gap_ms']:.0f} ms)")
    lines.append(f"  training: CLI (Trainer as playground train) {seconds(result['headless_seconds_per_batch'])}, "
                 f"app {seconds(result['app_seconds_per_batch'])} ({result['app_vs_headless']:.2f}x)")
    bare = result.get("without_view")
    if bare:
        lines.append(f"  without the view: app {seconds(bare['app_seconds_per_batch'])} "
                     f"({bare['app_vs_headless']:.2f}x), max stall {bare['max_gap_ms']} ms, "
                     f"p99 {bare['p99_gap_ms']} ms; "
                     f"worked at most {bare['max_busy_gap_ms']:.0f} ms (p99 {bare['p99_busy_gap_ms']:.0f} ms)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
