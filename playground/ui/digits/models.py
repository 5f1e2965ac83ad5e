"""Which network reads the pad: the bundled model, or one trained in the app (no Qt here).

The bundled model lives in ``resources/models/digits.npz``; the command that
made it is written in ``resources/models/README.md`` next to it. A network
reads digits when it takes a 28 x 28 image (``(1, 28, 28)`` or flat ``(784,)``)
and gives 10 class scores.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from playground.assets import resources_dir
from playground.engine.errors import PlaygroundError
from playground.engine.nn.activations import Activation
from playground.engine.nn.conv import Conv2D
from playground.engine.nn.network import Network
from playground.engine.project import load_model

BUNDLED_NAME = "digits.npz"
#: used when the README cannot be read
FALLBACK_COMMAND = ("python -m playground train deep-convnet --data-dir <MNIST folder> "
                    "--out resources/models/digits.npz")
_ACCEPTED_INPUTS = ((1, 28, 28), (784,))


def bundled_model_path() -> Path:
    return resources_dir() / "models" / BUNDLED_NAME


def rebuild_command(model_path: str | os.PathLike | None = None) -> str:
    """The ``playground train ...`` command written in the README beside the model."""
    folder = Path(model_path).parent if model_path else bundled_model_path().parent
    readme = folder / "README.md"
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return FALLBACK_COMMAND
    for line in text.splitlines():
        s = line.strip().strip("`").strip()
        s = re.sub(r"^\$\s*", "", s)
        if re.match(r"^(\S*python\S*\s+-m\s+playground|playground)\s+train\b", s):
            return s
    return FALLBACK_COMMAND


@dataclass
class LoadedModel:
    net: Network | None
    label: str
    message: str  # why there is no network, or ""


def load_bundled(path: str | os.PathLike | None = None) -> LoadedModel:
    """The bundled model, or a message saying what is missing and the command that makes it."""
    path = Path(path) if path is not None else bundled_model_path()
    if not path.is_file():
        return LoadedModel(None, "", f"The bundled digit model is missing: {path} does not exist. "
                                     f"Train it with:\n{rebuild_command(path)}\n"
                                     f"or train a network on MNIST in the app.")
    try:
        net, meta = load_model(path)
    except PlaygroundError as e:
        return LoadedModel(None, "", f"The bundled digit model cannot be read: {e}\n"
                                     f"Rebuild it with:\n{rebuild_command(path)}")
    problem = digit_network_problem(net)
    if problem:
        return LoadedModel(None, "", f"The bundled model {path.name} {problem}. Rebuild it with:\n"
                                     f"{rebuild_command(path)}")
    acc = (meta.get("metrics") or {}).get("val_accuracy")
    name = meta.get("project_name") or "network"
    label = f"bundled model ({name}" + (f", {acc:.2%} on MNIST t10k)" if isinstance(acc, (int, float)) else ")")
    return LoadedModel(net, label, "")


def digit_network_problem(net: Network) -> str:
    """Why ``net`` cannot read the pad (phrased to follow "this network"), or ""."""
    problems = []
    shape = tuple(net.input_shape)
    if shape not in _ACCEPTED_INPUTS:
        problems.append(f"takes inputs of shape {'×'.join(map(str, shape))}, not a 28×28 image")
    out = tuple(net.output_shape)
    if out != (10,):
        problems.append(f"gives {'×'.join(map(str, out))} outputs, not 10 class scores (one per digit)")
    return " and ".join(problems)


def as_input(net: Network, final: np.ndarray) -> np.ndarray:
    """The 28 x 28 image as a batch of one in the network's input shape."""
    return np.asarray(final, dtype=net.dtype).reshape((1,) + tuple(net.input_shape))


def first_conv_maps(net: Network, x: np.ndarray) -> tuple[str, np.ndarray] | None:
    """(name, maps (C, H, W)) of the first Conv2D layer for input ``x``, after its activation if any."""
    layers = net.train_layers
    idx = next((i for i, l in enumerate(layers) if isinstance(l, Conv2D)), None)
    if idx is None:
        return None
    take = idx
    if idx + 1 < len(layers) and isinstance(layers[idx + 1], Activation) \
            and layers[idx + 1].spec_index == layers[idx].spec_index:
        take = idx + 1
    h = x
    for layer in layers[:take + 1]:
        h = layer.forward(h, False)
    return layers[take].name, np.asarray(h[0])


def saliency(net: Network, x: np.ndarray, target: int) -> np.ndarray:
    """∂score_target / ∂input for one input, as a 28 x 28 array (score: before the softmax)."""
    dx, _ = net.input_gradient(x, np.array([target]))
    return np.asarray(dx, dtype=np.float32).reshape(28, 28)
