"""What the palette offers: layer blocks in groups, their defaults and their tooltips.

Tooltips give one sentence and the formula; the formulas are the engine's own
docstrings (layers, optimizers) so the app and the code never disagree.
"""

from __future__ import annotations

import html
import inspect
import json
from typing import Any

from playground.engine.nn.initializers import INITIALIZERS
from playground.engine.nn.activations import ACTIVATIONS
from playground.engine.nn.layers import LAYERS
from playground.engine.nn.conv import Conv2D
from playground.engine.nn.dense import Dense
from playground.engine.nn.losses import LOSSES
from playground.engine.nn.optimizers import OPTIMIZERS, SCHEDULES

#: the MIME type of a palette block or a block being moved on the canvas
MIME_TYPE = "application/x-playground-layer"

GROUPS: list[tuple[str, str, list[str]]] = [
    ("core", "Core", ["Dense", "Flatten"]),
    ("convolution", "Convolution", ["Conv2D", "MaxPool2D", "AvgPool2D"]),
    ("activation", "Activation", ["ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Step"]),
    ("regularization", "Regularization", ["Dropout", "BatchNorm"]),
    ("recurrent", "Recurrent", ["SimpleRNN", "LSTM", "GRU", "TimeDistributed"]),
    ("output", "Output", ["Softmax", "Identity"]),
]

#: what a freshly dropped block holds
DEFAULTS: dict[str, dict[str, Any]] = {
    "Dense": {"units": 64, "activation": "relu"},
    "Conv2D": {"filters": 16, "kernel": 3, "stride": 1, "padding": 1, "activation": "relu"},
    "MaxPool2D": {"pool": 2, "stride": 2},
    "AvgPool2D": {"pool": 2, "stride": 2},
    "Dropout": {"rate": 0.5},
    "SimpleRNN": {"units": 16},
    "LSTM": {"units": 16},
    "GRU": {"units": 16},
    "TimeDistributed": {"units": 1},
}

SENTENCES: dict[str, str] = {
    "Dense": "Every output is a weighted sum of all inputs plus a bias: the book's Affine layer.",
    "Flatten": "Turns an image (channels × height × width) into one long vector, so Dense layers can follow.",
    "Conv2D": "Slides small learned filters over the image; each filter makes one feature map.",
    "MaxPool2D": "Shrinks each feature map by keeping the largest value of every window.",
    "AvgPool2D": "Shrinks each feature map by averaging every window.",
    "BatchNorm": "Normalizes each feature over the mini-batch, then rescales it: training gets faster and steadier.",
    "Dropout": "While training, randomly switches off a fraction of the values so the network cannot rely on any one.",
    "ReLU": "Passes positive values and zeroes negative ones; the usual choice for hidden layers.",
    "LeakyReLU": "Like ReLU, but negative values keep a small slope so their gradient never dies.",
    "ELU": "Like ReLU for positive values, smoothly saturating to −α for negative ones.",
    "Sigmoid": "Squashes any value into (0, 1); the book's first activation.",
    "Tanh": "Squashes any value into (−1, 1), centred on zero.",
    "Step": "The perceptron's all-or-nothing output; its gradient is zero, so nothing before it can learn.",
    "Identity": "Leaves values unchanged: a linear output for regression.",
    "Softmax": "Turns the scores into class probabilities that sum to 1; pairs with cross-entropy.",
    "SimpleRNN": "Reads a sequence one step at a time, mixing each input into a hidden state it carries along.",
    "LSTM": "A recurrent layer with a memory cell and gates that decide what to keep, add and show: it "
            "remembers across long sequences.",
    "GRU": "A lighter LSTM: an update gate blends the old state with a new candidate, a reset gate decides "
           "how much of the past the candidate sees.",
    "TimeDistributed": "A Dense layer applied at every time step of a sequence.",
}

GROUP_OF: dict[str, str] = {t: key for key, _, types in GROUPS for t in types}

INIT_FORMULAS: dict[str, tuple[str, str]] = {
    "auto": ("Chooses by activation: He for ReLU-like, Xavier for sigmoid/tanh.", "he_normal or xavier_normal"),
    "normal": ("The book's small random weights; the inspector sets std.",
               "W ~ N(0, std²), std = 0.01 unless set"),
    "xavier_normal": ("Keeps the signal's variance for sigmoid and tanh.", "Var(W) = 2 / (fan_in + fan_out)"),
    "xavier_uniform": ("Xavier, drawn uniformly on [−a, a].", "Var(W) = 2 / (fan_in + fan_out), a = √(3·Var)"),
    "he_normal": ("Keeps the signal's variance through ReLU.", "Var(W) = 2 / fan_in"),
    "he_uniform": ("He, drawn uniformly on [−a, a].", "Var(W) = 2 / fan_in, a = √(3·Var)"),
    "lecun_normal": ("For SELU and tanh; what the book calls Xavier (std 1/√n).", "Var(W) = 1 / fan_in"),
    "lecun_uniform": ("LeCun, drawn uniformly on [−a, a].", "Var(W) = 1 / fan_in, a = √(3·Var)"),
    "zeros": ("All weights zero: every unit learns the same thing (try it to see why not).", "W = 0"),
}
INIT_CHOICES = ["auto", *INITIALIZERS]

LOSS_LABELS = {"softmax_cross_entropy": "Softmax cross-entropy", "mse": "Mean squared error",
               "sigmoid_bce": "Sigmoid binary cross-entropy"}
LOSS_SENTENCES = {"softmax_cross_entropy": "For classes: how surprised the softmax output is by the true class.",
                  "mse": "For regression: the mean squared distance between output and target.",
                  "sigmoid_bce": "For yes/no outputs: the cross-entropy of a sigmoid probability."}


def _docstring(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def _rich(title: str, sentence: str, formula: str) -> str:
    f = html.escape(formula).replace("\n\n", "<br>").replace("\n", " ")
    return (f"<p style='white-space:pre-wrap'><b>{html.escape(title)}</b> — {html.escape(sentence)}</p>"
            f"<p><code>{f}</code></p>")


def layer_formula(type_name: str) -> str:
    """The formula text of a layer type: the engine class's docstring."""
    return _docstring(LAYERS[type_name])


def layer_tooltip(type_name: str) -> str:
    return _rich(type_name, SENTENCES.get(type_name, ""), layer_formula(type_name))


def activation_tooltip(key: str) -> str:
    cls = ACTIVATIONS[key]
    return _rich(cls.type_name, SENTENCES.get(cls.type_name, ""), _docstring(cls))


def init_tooltip(name: str) -> str:
    sentence, formula = INIT_FORMULAS.get(name, ("", ""))
    return _rich(name, sentence, formula)


def optimizer_tooltip(name: str) -> str:
    cls = OPTIMIZERS[name]
    doc = _docstring(cls)
    first, _, rest = doc.partition(":")
    sentence = {"sgd": "Steps straight down the gradient.",
                "momentum": "Builds up speed along directions the gradient keeps pointing to.",
                "nesterov": "Momentum that looks ahead before it steps.",
                "adagrad": "Gives each weight its own learning rate, shrinking where gradients were large.",
                "rmsprop": "AdaGrad that forgets old gradients, so learning does not stall.",
                "adam": "Momentum plus RMSProp with bias correction; a strong default.",
                "adamw": "Adam with weight decay applied directly to the weights."}.get(name, first)
    return _rich(cls.__name__, sentence, doc)


def optimizer_defaults(name: str) -> dict[str, float]:
    """The settings optimizer ``name`` takes, with the engine's defaults (``lr``, ``momentum``, ...)."""
    sig = inspect.signature(OPTIMIZERS[name].__init__)
    return {k: p.default for k, p in sig.parameters.items() if k != "self" and p.default is not inspect.Parameter.empty}


#: how the app writes each optimizer setting (the engine's docstrings use the same letters)
SETTING_SYMBOLS = {"lr": "η", "momentum": "μ", "rho": "ρ", "eps": "ε", "beta1": "β₁", "beta2": "β₂",
                   "weight_decay": "λ"}


def schedule_tooltip(name: str) -> str:
    cls = SCHEDULES[name]
    sentence = {"constant": "The learning rate stays the same.",
                "step": "Multiplies the learning rate by γ every few epochs.",
                "cosine": "Lowers the learning rate along a half cosine to its minimum at the last epoch."}[name]
    return _rich(name, sentence, _docstring(cls) if name != "constant" else "lr = lr₀")


def loss_tooltip(name: str) -> str:
    cls = LOSSES[name]
    return _rich(LOSS_LABELS.get(name, name), LOSS_SENTENCES.get(name, ""), getattr(cls, "formula", ""))


def new_entry(type_name: str) -> dict[str, Any]:
    """A fresh spec entry for a block dropped from the palette."""
    return {"type": type_name, **DEFAULTS.get(type_name, {})}


def takes_activation(type_name: str) -> bool:
    cls = LAYERS.get(type_name)
    return cls is not None and issubclass(cls, (Dense, Conv2D))


def activation_key(type_name: str) -> str | None:
    """The activation key ("relu") of an activation block type ("ReLU"), else None."""
    for key, cls in ACTIVATIONS.items():
        if cls.type_name == type_name:
            return key
    return None


def group_of(type_name: str) -> str:
    return GROUP_OF.get(type_name, "activation" if activation_key(type_name) else "core")


def encode_payload(payload: dict[str, Any]) -> bytes:
    """``{"type": "Dense"}`` for a new block, ``{"move": 3}`` for a block being reordered."""
    return json.dumps(payload).encode("utf-8")


def decode_payload(data: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    if "type" in payload and payload["type"] in LAYERS:
        return payload
    if isinstance(payload.get("move"), int):
        return payload
    return None
