"""Chapters 4-5: backpropagation against central differences, per parameter tensor, with both timings.

The network (a project, a preset or a spec) is built in float64 and checked on
a few samples of its data set (the book's ch05/gradient_check.py takes three),
or on random inputs when only a spec is given. Large tensors are checked on a
random sample of their entries (``max_entries``; the output says how many);
``seconds_numerical_all`` extrapolates the central differences to every entry,
which is the lesson: backprop gets all of them in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.engine.data.datasets import make_dataset
from playground.engine.errors import SpecError
from playground.engine.lab.common import Cancel, Progress, Reporter, positive, settings_from
from playground.engine.nn.gradcheck import gradient_check
from playground.engine.nn.network import Network
from playground.engine.project import resolve_project

#: above this relative error a tensor's gradient is reported as wrong (``playground gradcheck`` exits 1)
TOLERANCE = 1e-5


@dataclass
class Settings:
    #: a project file or preset name; the book's chapter-5 network by default
    project: str = "two-layer-net"
    #: a network spec to check instead of a project (on random inputs)
    network: dict | None = None
    samples: int = 3
    #: entries checked per tensor (chosen at random); 0 checks every entry
    max_entries: int = 100

    @classmethod
    def quick(cls) -> "Settings":
        return cls(max_entries=30)


def _data_inputs(project: dict, s: Settings, data_dir: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The first ``samples`` training samples of the project's data set."""
    dataset = dict(project["dataset"])
    if dataset["name"] == "mnist":
        dataset.update(data_dir=data_dir, limit=int(s.samples), val_limit=1)
    data = make_dataset(dataset)
    x, y = data.x_train[:int(s.samples)], data.y_train[:int(s.samples)]
    return x.astype(np.float64), y, f"the first {len(x)} training samples of {data.name}"


def _random_inputs(net: Network, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """``n`` standard normal inputs and random targets that fit the network's loss."""
    x = rng.standard_normal((n, *net.input_shape))
    k = net.output_shape[0]
    if net.spec["loss"] == "mse":
        y = rng.standard_normal((n, k))
    elif net.spec["loss"] == "sigmoid_bce":
        y = rng.integers(0, 2, (n, k)).astype(np.float64)
    else:
        y = rng.integers(0, k, n)
    return x, y, f"{n} random normal inputs"


def run(settings: Settings | dict | None = None, seed: int = 0, progress: Progress | None = None,
        cancel: Cancel | None = None, data_dir: str | None = None) -> dict:
    s = settings_from(Settings, settings)
    positive(s.samples, "samples")
    if isinstance(s.max_entries, bool) or not isinstance(s.max_entries, int) or s.max_entries < 0:
        raise SpecError(f"lab setting 'max_entries' must be a whole number >= 0 (0: all), got {s.max_entries!r}")
    report = Reporter(progress, cancel, 2)
    rng = np.random.default_rng(seed)
    if s.network is not None:
        net = Network(s.network, seed=seed, dtype=np.float64)
        name = s.network.get("name") or "the given network"
        x, y, source = _random_inputs(net, int(s.samples), rng)
    else:
        project = resolve_project(s.project)
        name = project.get("name") or s.project
        x, y, source = _data_inputs(project, s, data_dir)
        net = Network(project["network"], seed=seed, dtype=np.float64, input_shape=x.shape[1:])
    report(1, f"checking {net.param_count():,} parameters")
    res = gradient_check(net, x, y, training=True, max_entries=s.max_entries or None, seed=seed)
    report(2, "done")
    errors = {k: float(v) for k, v in res.errors.items()}
    worst_name, worst = max(errors.items(), key=lambda kv: kv[1])
    checked = sum(c for c, _ in res.checked.values())
    total = sum(n for _, n in res.checked.values())
    per_entry = res.seconds_numerical / max(checked, 1)
    sampled = {k: c for k, (c, n) in res.checked.items() if c < n}
    edges = np.logspace(-16, 0, 17)
    hist = np.histogram(np.clip(list(errors.values()), 1e-16, 1.0), bins=edges)[0]
    ok = worst <= TOLERANCE
    verdict = (f"{name}: backprop {'agrees' if ok else 'DISAGREES'} with central differences "
               f"(worst relative error {worst:.1e} in {worst_name}, tolerance {TOLERANCE:g}); the numerical "
               f"gradient of all {total:,} entries would take about {per_entry * total:,.1f} s, backprop took "
               f"{res.seconds_backprop * 1000:.1f} ms")
    return {"network": name, "inputs": source, "max_rel_error": worst, "worst_tensor": worst_name,
            "tensors": errors, "checked": {k: list(v) for k, v in res.checked.items()}, "sampled": sampled,
            "seconds_backprop": res.seconds_backprop, "seconds_numerical": res.seconds_numerical,
            "seconds_numerical_all": per_entry * total, "tolerance": TOLERANCE, "passed": ok,
            "histogram": {"edges": edges.tolist(), "counts": hist.tolist()}, "verdict": verdict}
