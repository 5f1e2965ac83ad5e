"""Print the engine's benchmark as JSON (what ``playground bench`` prints).

    python benchmarks/run_bench.py [--vs-torch] [--seconds 5] [--batch-size 100]

Run it on a quiet machine: ``other_load`` in each case says how much CPU time
other processes took meanwhile, and figures measured under load are low.
"""

from __future__ import annotations

import argparse
import json

from playground.engine.bench import CASES, run_bench


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vs-torch", action="store_true", help="measure the same networks in PyTorch too")
    ap.add_argument("--seconds", type=float, default=5.0, help="time per network and framework")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated preset names")
    args = ap.parse_args()
    result = run_bench(vs_torch=args.vs_torch, seconds_per_case=args.seconds, batch_size=args.batch_size,
                       cases=tuple(args.cases.split(",")))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
