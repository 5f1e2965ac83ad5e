"""Cold-start time of the desktop app: from process start to the main window shown.

    python benchmarks/startup.py            # 3 fresh processes, prints each and the median
    python benchmarks/startup.py --runs 5
    python benchmarks/startup.py --once     # one measurement in this process

Process start is read from /proc (Linux) so interpreter start-up and imports
count; elsewhere it falls back to the first line of this script. The window
is "shown" when the event loop runs its first zero-delay timer after show(),
i.e. after the first paint has been queued. The goal is under 3 seconds.
"""

from __future__ import annotations

import time

_T_SCRIPT = time.perf_counter()
_WALL_SCRIPT = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

GOAL_SECONDS = 3.0


def _process_age_at_script_start() -> float:
    """Seconds between the process start and the first line of this script (0 if unknown)."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22: starttime, in clock ticks since boot
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        age_now = uptime - start_ticks / os.sysconf("SC_CLK_TCK")
        return max(0.0, age_now - (time.time() - _WALL_SCRIPT))
    except (OSError, ValueError, IndexError):
        return 0.0


def measure_once() -> dict:
    before_script = _process_age_at_script_start()
    from PySide6.QtCore import QTimer

    from playground.ui.app import make_application, open_main_window

    app = make_application()
    window = open_main_window([])
    result: dict = {}

    def shown() -> None:
        result["seconds"] = before_script + time.perf_counter() - _T_SCRIPT
        result["visible"] = window.isVisible()
        window.doc.undo_stack.setClean()
        window.close()
        app.quit()

    QTimer.singleShot(0, shown)
    app.exec()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes to measure (default 3)")
    parser.add_argument("--once", action="store_true", help="measure this process only and print JSON")
    args = parser.parse_args()
    if args.once:
        print(json.dumps(measure_once()))
        return 0
    times = []
    with tempfile.TemporaryDirectory() as config:
        env = dict(os.environ, XDG_CONFIG_HOME=config)
        for i in range(args.runs):
            out = subprocess.run([sys.executable, __file__, "--once"], capture_output=True, text=True, env=env,
                                 check=True)
            seconds = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
            times.append(seconds)
            print(f"run {i + 1}: window shown {seconds:.2f} s after process start")
    median = statistics.median(times)
    verdict = "ok" if median < GOAL_SECONDS else "TOO SLOW"
    print(f"median {median:.2f} s (goal < {GOAL_SECONDS:.0f} s): {verdict}")
    return 0 if median < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
