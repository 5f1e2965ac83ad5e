"""A form built from a lab's Settings dataclass: whole numbers, numbers, choices, switches, tick boxes for lists
of names, rows of arms for named settings (:mod:`.fields`), and JSON for the rest (a network spec).

:class:`SettingsForm` shows the book's settings (or the quick ones) and gives back the values a person
typed with :meth:`SettingsForm.values`, which raises :class:`ValueError` naming the field, what it
expects and what it got when a value does not read.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from playground.engine.lab import activations_lab, init_histograms, init_mnist
from playground.engine.nn.initializers import INITIALIZERS, MAX_NORMAL_STD
from playground.engine.nn.optimizers import OPTIMIZERS
from playground.ui.builder.catalog import (SETTING_SYMBOLS, activation_tooltip, init_tooltip, optimizer_defaults,
                                          optimizer_tooltip)
from playground.ui.labs.fields import ArmsField, ArmsSpec, ChecklistField, InitField, Setting

#: fields offered as a list of choices: (lab, field) -> choices
CHOICES = {
    ("overfitting", "dropout_variant"): ("book", "inverted"),
    ("sin-regression", "init"): ("xavier_uniform", "xavier_normal", "he_normal", "he_uniform", "lecun_normal"),
    ("init-mnist", "activation"): ("relu", "sigmoid", "tanh"),
}
def _init_tip(spec: str | dict) -> str:
    """A lab's initialization (an initializer's name, or {"type": "normal", "std": σ}) explained as the
    builder explains initializers, with its σ."""
    if isinstance(spec, str):
        return init_tooltip(spec)
    return init_tooltip(spec["type"]) + (f"<p>σ = {spec['std']:g}</p>" if "std" in spec else "")


#: list fields chosen from a fixed set of names: (lab, field) -> (the names in the lab's order, their tooltips)
CHECKLISTS = {
    ("activations", "functions"): (activations_lab.FUNCTIONS,
                                   {k: activation_tooltip(k) for k in activations_lab.FUNCTIONS}),
    ("init-histograms", "activations"): (tuple(init_histograms.LIMITS),
                                         {k: activation_tooltip(k) for k in init_histograms.LIMITS}),
    ("init-histograms", "inits"): (tuple(init_histograms.INITS),
                                   {k: _init_tip(v[0]) for k, v in init_histograms.INITS.items()}),
    ("init-mnist", "inits"): (tuple(init_mnist.INITS), {k: _init_tip(v) for k, v in init_mnist.INITS.items()}),
}
#: initializer fields: (lab, field) -> the names offered ("normal" takes its σ in a box beside it)
INITS = {("filters", "init"): INITIALIZERS}

_FRACTION = {"low": 0.0, "high": 1.0, "open_low": False, "open_high": True}
_SYMBOL = SETTING_SYMBOLS
#: mapping fields of named arms with a few numbers each: (lab, field) -> what the rows hold
ARMS = {
    ("optimizers-mnist", "optimizers"): ArmsSpec(
        settings=(Setting("lr", _SYMBOL["lr"], "learning rate η: W ← W − η·(the optimizer's step)"),
                  Setting("momentum", _SYMBOL["momentum"], "momentum μ: v ← μv − η∂L/∂W; W ← W + v", **_FRACTION),
                  Setting("rho", _SYMBOL["rho"], "RMSProp's decay ρ: h ← ρh + (1 − ρ)g⊙g", **_FRACTION),
                  Setting("beta1", _SYMBOL["beta1"], "Adam's β₁: m ← β₁m + (1 − β₁)g", **_FRACTION),
                  Setting("beta2", _SYMBOL["beta2"], "Adam's β₂: v ← β₂v + (1 − β₂)g⊙g", **_FRACTION)),
        names=("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"),
        applies=lambda name: set(optimizer_defaults(name)) if name in OPTIMIZERS else {"lr"},
        default=lambda name, key: optimizer_defaults(name).get(key) if name in OPTIMIZERS else None,
        tips={name: optimizer_tooltip(name) for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                                         "adam")}),
    ("overfitting", "arms"): ArmsSpec(
        settings=(Setting("weight_decay", "weight decay λ", "weight decay λ: ½λ‖W‖² added to the loss, so "
                                                            "∂L/∂W gains λW", open_low=False),
                  Setting("dropout", "dropout", "dropout rate: the share of hidden units switched off at random "
                                                "at each training step", **_FRACTION))),
}

#: what each field means, shown as its tooltip (fields not named here show their name and type)
TIPS = {
    "iterations": "Batches each arm trains on (the book: 2,000).",
    "batch_size": "Samples per batch: each step's gradient is their mean.",
    "train_samples": "Training images used, from the start of MNIST's training set.",
    "test_samples": "Test images the accuracy is measured on.",
    "lr": "Learning rate η: each step moves W ← W − η ∂L/∂W.",
    "epochs": "Passes over the training samples.",
    "hidden_layers": "Hidden Dense layers.",
    "units": "Units per hidden layer.",
    "scales": "Weight scales σ tried: logspace(0, low exponent, scales); every weight ~ N(0, σ²).",
    "scale_exponent_low": "The smallest scale is 10 to this power.",
    "bn_eps": "Batch norm's ε in x̂ = (x − μ) / √(σ² + ε); the book's is 1e-6.",
    "margin": "A sigmoid or tanh output within this distance of a limit (0 or 1; −1 or 1) counts as saturated; "
              "for ReLU the outputs at exactly 0 do.",
    "bins": "Histogram bins per layer.",
    "samples": "Input samples.",
    "features": "Inputs per sample, and units per layer.",
    "layers": "Layers the inputs pass through.",
    "max_entries": "Entries checked per tensor by central differences, at random; 0 checks all.",
    "project": "A preset name or a project file whose network is checked.",
    "search_steps": "Lines tried for XOR: this many values of w1, w2 and b each over [−1, 1].",
    "points": "Points on the x axis.",
    "dropout_variant": "book: keep units with probability 1 − p while training, scale outputs by 1 − p at test "
                       "time; inverted: divide by 1 − p while training, nothing at test time.",
    "filters": "Filters of the first convolution.",
    "kernel": "Each filter's height and width.",
    "digit_index": "The test image the filters are applied to.",
    "model": "A trained model file (.npz) to evaluate instead of training; empty trains the preset.",
    "gallery": "Misclassified digits shown.",
    "extrapolate_to": "The fit is drawn up to here, past the training range.",
    "init": "How the initial weights are drawn.",
    "functions": "The activation functions drawn, each beside its derivative.",
    "activations": "The activation of every layer: one run each, for every initialization ticked.",
    "inits": "The initial weight distributions compared (n: a layer's inputs).",
    "optimizers": "The optimizers trained on the same batches from the same initial weights, each with its "
                  "settings; an empty box takes the optimizer's default (shown greyed).",
    "arms": "Each arm trains the same network from the same start with its own weight decay λ and dropout rate; "
            "an empty box means none.",
    "step": "The distance between training points.",
}


class SettingsForm(QWidget):
    """Fields for a lab's settings; ``hidden`` fields are left out (the page edits them some other way)."""

    def __init__(self, lab: str, settings_cls: type, hidden: tuple[str, ...] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.lab = lab
        self.fields: dict[str, QWidget] = {}
        self._kinds: dict[str, str] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        defaults = settings_cls()
        for f in dataclasses.fields(settings_cls):
            if f.name in hidden:
                continue
            value = getattr(defaults, f.name)
            choices = CHOICES.get((lab, f.name))
            label = f.name.replace("_", " ")
            if (lab, f.name) in CHECKLISTS:
                options, tips = CHECKLISTS[(lab, f.name)]
                w, kind = ChecklistField(label, options, tips), "checklist"
            elif (lab, f.name) in ARMS:
                w, kind = ArmsField(label, ARMS[(lab, f.name)]), "arms"
            elif (lab, f.name) in INITS:
                names = INITS[(lab, f.name)]
                w, kind = InitField(label, names, {n: init_tooltip(n) for n in names}, MAX_NORMAL_STD), "init"
            elif choices:
                w, kind = QComboBox(), "choice"
                w.addItems(choices)
            elif isinstance(value, bool):
                w, kind = QCheckBox(), "bool"
            elif isinstance(value, int):
                w, kind = QSpinBox(), "int"
                w.setRange(0, 10_000_000)
                w.setGroupSeparatorShown(True)
            elif isinstance(value, float):
                w, kind = QLineEdit(), "float"
            elif isinstance(value, str) or (value is None and "str" in str(f.type)):
                w, kind = QLineEdit(), "str"
            else:
                w, kind = QLineEdit(), "json"
            w.setObjectName(f"setting_{f.name}")
            tip = TIPS.get(f.name, "")
            if kind == "json":
                tip = (tip + " " if tip else "") + "Written as JSON, e.g. {\"name\": 0.1} or [\"a\", \"b\"]."
            self.fields[f.name] = w
            self._kinds[f.name] = kind
            if kind == "arms":  # a table: the whole width, under its name
                title = QLabel(label)
                title.setToolTip(tip)
                layout.addRow(title)
                layout.addRow(w)
                continue
            w.setToolTip(tip)
            layout.addRow(label, w)
        self.set_values(dataclasses.asdict(defaults))

    def set_values(self, values: dict[str, Any]) -> None:
        for name, w in self.fields.items():
            if name not in values:
                continue
            value, kind = values[name], self._kinds[name]
            if kind in ("checklist", "arms", "init"):
                w.set_value(value)
            elif kind == "choice":
                w.setCurrentText(str(value))
            elif kind == "bool":
                w.setChecked(bool(value))
            elif kind == "int":
                w.setValue(int(value))
            elif kind == "float":
                w.setText(f"{value:g}")
            elif kind == "str":
                w.setText(value or "")
            else:
                w.setText("" if value is None else json.dumps(value))
            if isinstance(w, QLineEdit):
                w.setCursorPosition(0)

    def values(self) -> dict[str, Any]:
        """The settings as typed; ValueError names a field that does not read."""
        out: dict[str, Any] = {}
        for name, w in self.fields.items():
            kind = self._kinds[name]
            label = name.replace("_", " ")
            if kind in ("checklist", "arms", "init"):
                out[name] = w.value()
            elif kind == "choice":
                out[name] = w.currentText()
            elif kind == "bool":
                out[name] = w.isChecked()
            elif kind == "int":
                out[name] = w.value()
            elif kind == "float":
                try:
                    out[name] = float(w.text().strip())
                except ValueError:
                    raise ValueError(f"“{label}” expects a number such as 0.01 or 1e-6, got “{w.text()}”; "
                                     f"type a number there") from None
            elif kind == "str":
                out[name] = w.text().strip() or (None if name == "model" else "")
            else:
                text = w.text().strip()
                if not text:
                    out[name] = None
                    continue
                try:
                    out[name] = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"“{label}” expects JSON (a list in [ ], a mapping in {{ }}, a number or "
                                     f"a quoted string), got “{text}”: {exc.msg} at character {exc.pos + 1}"
                                     ) from None
        return out
