"""How often the digit pad says "sure": on MNIST test digits, and on drawings that are not digits.

    python benchmarks/digit_sureness.py [--model FILE] [--data-dir DIR] [--mnist 1000] [--per-kind 200] [--seed 1]

Reads the first ``--mnist`` t10k digits with the model (the bundled one by
default) and ``--per-kind`` seeded drawings of each kind in
:mod:`playground.engine.data.doodles`, judges each with
:func:`playground.engine.data.digit_judge.judge`, and prints one JSON object:
the share of correctly read MNIST digits called sure (the goal: at least
95 %), and for each kind of non-digit the share called sure (the lower the
better) with the reason most often given for the others.
"""

from __future__ import annotations

import argparse
import collections
import json

import numpy as np
from threadpoolctl import threadpool_limits

from playground.engine.data.digit_judge import read_digits
from playground.engine.data.doodles import KINDS, make_doodles
from playground.engine.data.mnist import load_mnist
from playground.engine.project import load_model
from playground.ui.digits.models import bundled_model_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(bundled_model_path()))
    ap.add_argument("--data-dir")
    ap.add_argument("--mnist", type=int, default=1000)
    ap.add_argument("--per-kind", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    net, _ = load_model(args.model)
    x, y = load_mnist(args.data_dir, "test")
    out = {}
    with threadpool_limits(2):
        images = [np.rint(x[i, 0] * 255).astype(np.uint8) for i in range(args.mnist)]
        read = read_digits(net, images)
        right = [j for (_, p, j), label in zip(read, y[:args.mnist]) if p is not None and j.digit == label]
        out["mnist"] = {"n": args.mnist, "read right": len(right),
                        "sure of those": round(sum(j.sure for j in right) / max(1, len(right)), 4)}
        for kind in KINDS:
            judged = [j for _, _, j in read_digits(net, make_doodles(kind, args.per_kind, args.seed))]
            reasons = collections.Counter(j.reason.split(":")[0] if j else "no ink" for j in judged
                                          if j is None or not j.sure)
            out[kind] = {"n": args.per_kind, "sure": round(sum(bool(j and j.sure) for j in judged) / args.per_kind, 4),
                         "commonest reason": reasons.most_common(1)[0][0] if reasons else ""}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
