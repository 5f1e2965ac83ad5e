"""``playground summary PROJECT_OR_PRESET [--json]``: a network's layers, shapes, parameters and multiply-adds.

The network is built for its shapes only, so a network far too big to train
here (AlexNet's 61 million parameters) is summarized at once, without memory.
"""

from __future__ import annotations

import argparse
from typing import Any

from playground.jsonout import print_json


def add_summary_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT_OR_PRESET", help="a project .json or a preset name")
    parser.add_argument("--json", action="store_true",
                        help='print {"layers": [...], "params": N, "macs": N} instead of a table')


def project_summary(project: dict[str, Any]) -> dict[str, Any]:
    """Per layer (name, type, output shape, parameters, multiply-adds for one sample) and the totals."""
    from playground.engine.data.datasets import input_shape_of
    from playground.engine.nn.network import Network

    spec = project["network"]
    shape = spec.get("input_shape") or input_shape_of(project["dataset"])
    net = Network(spec, seed=0, input_shape=shape, shapes_only=True)
    layers = [{"name": r["name"], "type": r["type"], "output_shape": r["output_shape"], "params": r["params"],
               "macs": r["mult_adds"]} for r in net.summary()]
    return {"name": project.get("name", ""), "input_shape": list(net.input_shape), "layers": layers,
            "params": sum(r["params"] for r in layers), "macs": sum(r["macs"] for r in layers)}


def summary_table(summary: dict[str, Any]) -> str:
    rows = [("layer", "type", "output", "params", "mult-adds")]
    rows.append(("input", "", "×".join(map(str, summary["input_shape"])), "", ""))
    for r in summary["layers"]:
        rows.append((r["name"], r["type"], "×".join(map(str, r["output_shape"])), f"{r['params']:,}", f"{r['macs']:,}"))
    rows.append(("total", "", "", f"{summary['params']:,}", f"{summary['macs']:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    right = {3, 4}
    return "\n".join("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     .rstrip() for r in rows)


def run_summary_command(args: argparse.Namespace) -> int:
    from playground.engine.project import resolve_project

    summary = project_summary(resolve_project(args.project))
    if args.json:
        print_json({"layers": summary["layers"], "params": summary["params"], "macs": summary["macs"]})
    else:
        print(summary_table(summary))
    return 0
