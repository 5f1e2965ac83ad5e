"""``playground export``: a saved model to ONNX, a standalone NumPy file or PyTorch code, one JSON line on stdout.

    playground export MODEL.npz --format onnx|numpy|pytorch [--out PATH]

Without ``--out`` the file goes beside the model: MODEL.onnx, MODEL.py, or
MODEL_torch.py (the code formats put their weights beside the code as
``<name>_weights.npz``). A model a format cannot translate, a missing
``onnx`` package or a bad path raises a :class:`~playground.engine.errors.PlaygroundError`
that the caller prints as one line; no file is written then.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from playground.engine.export.files import FORMATS

__all__ = ["add_export_arguments", "run_export_command"]


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.npz", help="a model saved by 'playground train --out'")
    parser.add_argument("--format", required=True, choices=tuple(FORMATS),
                        help="; ".join(f"{name}: {about}" for name, (_, about) in FORMATS.items()))
    parser.add_argument("--out", metavar="PATH", help="the file to write (default: beside the model, named after it)")


def run_export_command(args: argparse.Namespace) -> int:
    from playground.engine.export.files import default_out, export_network
    from playground.engine.export.plan import plan_network
    from playground.engine.project import load_model

    model = Path(args.model)
    net, meta = load_model(model)
    out = Path(args.out) if args.out else default_out(model, args.format)
    title = str(meta.get("project_name") or net.spec.get("name") or model.stem)
    files = export_network(net, args.format, out, title=title, keep=(model,))
    plan = plan_network(net, title)
    print(json.dumps({"format": args.format, "files": [str(p) for p in files], "layers": len(plan.steps),
                      "parameters": plan.parameter_count(), "output": plan.describe_output()}), flush=True)
    return 0
