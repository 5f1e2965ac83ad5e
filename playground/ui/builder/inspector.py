"""The inspector: settings of the selected block, edited through undoable commands."""

from __future__ import annotations

import html
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget)

from playground.engine.data.datasets import DATASET_DESCRIPTIONS
from playground.engine.nn.activations import ACTIVATIONS
from playground.engine.nn.initializers import MAX_NORMAL_STD
from playground.engine.nn.layers import LAYERS
from playground.engine.nn.losses import LOSSES
from playground.ui.theme import text_color
from playground.ui.builder.commands import ApplyFix, SetActivation, SetInitStd, SetLayerOption, SetNetworkOption
from playground.ui.builder.document import ProjectDocument
from playground.ui.builder.catalog import (INIT_CHOICES, LOSS_LABELS, SENTENCES, activation_tooltip, init_tooltip, layer_formula, loss_tooltip, takes_activation)
from playground.ui.builder.fields import SciSpinBox, combo, fraction_spin, int_spin, set_combo_data, set_value
from playground.ui.builder.scene import format_shape
from playground.ui.builder.features import FeatureChooser
from playground.ui.layout import fill_with_scrolling

#: the std row that follows every weight-init row: shown only for the normal initializer
_STD = ("init_std", "init_std", "Init std σ", (1e-8, MAX_NORMAL_STD), 0.01)

#: per layer type: (key, kind, label, arguments, default)
FIELDS: dict[str, list[tuple[str, str, str, tuple, Any]]] = {
    "Dense": [("units", "int", "Units", (1, 100000), 64),
              ("activation", "activation", "Activation", (), None),
              ("init", "init", "Weight init", (), "auto"), _STD,
              ("l2", "sci", "L2 penalty λ₂", (0.0, 10.0), 0.0),
              ("l1", "sci", "L1 penalty λ₁", (0.0, 10.0), 0.0),
              ("use_bias", "bool", "Bias", (), True)],
    "Conv2D": [("filters", "int", "Filters", (1, 4096), 16),
               ("kernel", "int", "Kernel size", (1, 31), 3),
               ("stride", "int", "Stride", (1, 16), 1),
               ("padding", "int", "Padding", (0, 16), 0),
               ("activation", "activation", "Activation", (), None),
               ("init", "init", "Weight init", (), "auto"), _STD,
               ("l2", "sci", "L2 penalty λ₂", (0.0, 10.0), 0.0),
               ("l1", "sci", "L1 penalty λ₁", (0.0, 10.0), 0.0)],
    "MaxPool2D": [("pool", "int", "Pool size", (1, 16), 2),
                  ("stride", "int", "Stride", (1, 16), None),
                  ("padding", "int", "Padding", (0, 8), 0)],
    "AvgPool2D": [("pool", "int", "Pool size", (1, 16), 2),
                  ("stride", "int", "Stride", (1, 16), None),
                  ("padding", "int", "Padding", (0, 8), 0)],
    "Dropout": [("rate", "fraction", "Drop rate", (0.0, 0.95, 0.05), 0.5)],
    "BatchNorm": [("momentum", "fraction", "Momentum", (0.0, 0.999, 0.01), 0.9),
                  ("eps", "sci", "ε", (1e-12, 1.0), 1e-5)],
    "SimpleRNN": [("units", "int", "Units", (1, 4096), 16),
                  ("return_sequences", "bool", "Return every step", (), False),
                  ("init", "init", "Input weight init", (), "xavier_normal"), _STD,
                  ("l2", "sci", "L2 penalty λ₂", (0.0, 10.0), 0.0)],
    "LSTM": [("units", "int", "Units", (1, 4096), 16),
             ("return_sequences", "bool", "Return every step", (), False),
             ("forget_bias", "sci", "Forget-gate bias", (-10.0, 10.0), 1.0),
             ("init", "init", "Input weight init", (), "xavier_normal"), _STD,
             ("l2", "sci", "L2 penalty λ₂", (0.0, 10.0), 0.0)],
    "GRU": [("units", "int", "Units", (1, 4096), 16),
            ("return_sequences", "bool", "Return every step", (), False),
            ("init", "init", "Input weight init", (), "xavier_normal"), _STD,
            ("l2", "sci", "L2 penalty λ₂", (0.0, 10.0), 0.0)],
    "TimeDistributed": [("units", "int", "Units", (1, 100000), 1),
                        ("init", "init", "Weight init", (), "auto"), _STD,
                        ("use_bias", "bool", "Bias", (), True)],
    "LeakyReLU": [("alpha", "fraction", "Slope α", (0.0, 1.0, 0.01), 0.01)],
    "ELU": [("alpha", "fraction", "α", (0.0, 10.0, 0.1), 1.0)],
}

FIELD_TIPS = {
    "units": "How many outputs (neurons) this layer has.",
    "filters": "How many filters, i.e. output channels (feature maps).",
    "kernel": "Height and width of each filter.",
    "stride": "How far the window moves each step; 2 halves the size.",
    "padding": "Zeros added around the image on every side.",
    "pool": "Height and width of the pooling window.",
    "rate": "The fraction of values switched off while training.",
    "momentum": "How slowly the running mean and variance follow each batch.",
    "eps": "Added to the variance to avoid dividing by zero.",
    "alpha": "The slope (LeakyReLU) or the negative limit (ELU).",
    "l2": "Adds (λ₂/2)·‖W‖² to the loss: pulls weights towards zero (weight decay).",
    "l1": "Adds λ₁·‖W‖₁ to the loss: drives many weights to exactly zero.",
    "use_bias": "Add a learned bias b to every output.",
    "return_sequences": "Output the hidden state of every time step (T, units) instead of only the last (units,); "
                        "needed before another recurrent layer or a TimeDistributed Dense.",
    "forget_bias": "The forget gate's starting bias: 1 makes the cell keep its memory at first (Jozefowicz et al. 2015).",
    "activation": "Applied right after this layer (drop an activation block on it to change it).",
    "init": "How the weights are drawn before training.",
    "init_std": "<p>The normal initializer's standard deviation σ: every weight is drawn from "
                "<code>W ~ N(0, σ²)</code>, whatever the layer's size (He and Xavier choose σ from it).</p>"
                "<p>The book's small random weights use σ = 0.01. In ch. 6.2, σ = 1 makes sigmoid outputs "
                "pile up at 0 and 1, σ = 0.01 makes them all alike. Shown for the normal initializer only; "
                f"from 1e-08 to {MAX_NORMAL_STD:g}.</p>",
}


class Inspector(QWidget):
    """Shows and edits the selected block. Call :meth:`show_index` when the selection changes."""

    #: a short message for the status bar
    message = Signal(str)

    def __init__(self, doc: ProjectDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.index: int | None = None
        self._form_key: tuple | None = None
        self._editors: dict[str, tuple[QWidget, Callable[[Any], None]]] = {}

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.2)
        f.setBold(True)
        self.title.setFont(f)
        self.about = QLabel(self)
        self.about.setWordWrap(True)
        self.about.setTextFormat(Qt.TextFormat.RichText)
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shape_label = QLabel(self)
        self.shape_label.setTextFormat(Qt.TextFormat.RichText)

        self.problem = QFrame(self)
        self.problem.setObjectName("problem")
        self.problem_text = QLabel(self.problem)
        self.problem_text.setWordWrap(True)
        self.problem_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fix_button = QPushButton(self.problem)
        self.fix_button.clicked.connect(self._apply_fix)
        pl = QVBoxLayout(self.problem)
        pl.setContentsMargins(8, 8, 8, 8)
        pl.addWidget(self.problem_text)
        row = QHBoxLayout()
        row.addWidget(self.fix_button)
        row.addStretch(1)
        pl.addLayout(row)
        self._fix: dict | None = None

        self.form_host = QWidget(self)
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(10, 10, 10, 10)
        lay.setSpacing(8)
        lay.addWidget(self.title)
        lay.addWidget(self.shape_label)
        self.features = FeatureChooser(doc, self)  # on the input block of a 2-D set
        lay.addWidget(self.features)
        lay.addWidget(self.problem)
        lay.addWidget(self.form_host)
        lay.addWidget(self.about)
        lay.addStretch(1)
        fill_with_scrolling(self, body)

        doc.changed.connect(self.refresh)
        self.show_index(None)

    # ------------------------------------------------------------ public
    def show_index(self, index: int | None) -> None:
        """Inspect spec ``index`` (-1: the input, layer_count: the loss, None: nothing)."""
        self.index = index
        self.refresh()

    def editor(self, key: str) -> QWidget:
        """The input widget of setting ``key`` of the shown block (for tests)."""
        return self._editors[key][0]

    # ------------------------------------------------------------ building
    def _kind(self) -> tuple[str, str]:
        n = self.doc.layer_count()
        i = self.index
        if i is None:
            return "none", ""
        if i < 0:
            return "input", ""
        if i >= n:
            return "loss", ""
        return "layer", self.doc.layer(i).get("type", "")

    def refresh(self) -> None:
        kind, t = self._kind()
        key = (kind, t, self.index)
        if key != self._form_key:
            self._build_form(kind, t)
            self._form_key = key
        self._fill(kind, t)

    def _clear_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors.clear()

    def _build_form(self, kind: str, t: str) -> None:
        self._clear_form()
        if kind == "loss":
            box = combo([(k, LOSS_LABELS.get(k, k)) for k in LOSSES], self,
                        {k: loss_tooltip(k) for k in LOSSES})
            box.currentIndexChanged.connect(
                lambda _i, b=box: self.doc.push(SetNetworkOption(self.doc, "loss", b.currentData())))
            self._add_row("loss", "Loss", box, lambda v, b=box: set_combo_data(b, v))
            return
        if kind != "layer":
            return
        for key, k, label, args, default in FIELDS.get(t, []):
            widget, setter = self._make_editor(key, k, args, default)
            self._add_row(key, label, widget, setter)

    def _add_row(self, key: str, label: str, widget: QWidget, setter) -> None:
        tip = FIELD_TIPS.get(key)
        lab = QLabel(label + ":")
        if tip:
            widget.setToolTip(widget.toolTip() or tip)
            lab.setToolTip(tip)
        lab.setBuddy(widget)
        widget.setAccessibleName(label)
        self.form.addRow(lab, widget)
        self._editors[key] = (widget, setter)

    def _make_editor(self, key: str, kind: str, args: tuple, default: Any):
        if kind == "int":
            w = int_spin(args[0], args[1], self)
            w.valueChanged.connect(lambda v, key=key: self._set(key, int(v)))
            return w, lambda v, w=w: set_value(w, v)
        if kind == "sci":
            w = SciSpinBox(args[0], args[1], parent=self)
            w.valueChanged.connect(lambda v, key=key, d=default: self._set(key, None if v == d else float(v)))
            return w, lambda v, w=w: set_value(w, v)
        if kind == "fraction":
            w = fraction_spin(args[0], args[1], args[2], parent=self)
            w.valueChanged.connect(lambda v, key=key: self._set(key, round(float(v), 6)))
            return w, lambda v, w=w: set_value(w, v)
        if kind == "bool":
            w = QCheckBox("use a bias", self)
            w.toggled.connect(lambda on, key=key: self._set(key, None if on else False))
            return w, lambda v, w=w: (w.blockSignals(True), w.setChecked(bool(v)), w.blockSignals(False))
        if kind == "activation":
            items = [("none", "none (linear)")] + [(k, c.type_name) for k, c in ACTIVATIONS.items()]
            w = combo(items, self, {k: activation_tooltip(k) for k in ACTIVATIONS})
            w.currentIndexChanged.connect(lambda _i, w=w: self._set_activation(w.currentData()))
            return w, lambda v, w=w: set_combo_data(w, v or "none")
        if kind == "init":
            w = combo([(k, k) for k in INIT_CHOICES], self, {k: init_tooltip(k) for k in INIT_CHOICES})
            w.currentIndexChanged.connect(
                lambda _i, w=w: self._set("init", None if w.currentData() == "auto" else w.currentData()))
            return w, lambda v, w=w: set_combo_data(w, (v if isinstance(v, str) else (v or {}).get("type"))
                                                    or "auto")
        if kind == "init_std":
            w = SciSpinBox(args[0], args[1], zero_step=0.01, parent=self)
            w.valueChanged.connect(lambda v: self._set_init_std(float(v)))
            return w, lambda v, w=w: set_value(w, v)
        raise ValueError(f"unknown field kind {kind!r}")

    # ------------------------------------------------------------ filling
    def _fill(self, kind: str, t: str) -> None:
        v = self.doc.summary_or_error()
        self.features.setVisible(kind == "input" and self.features.applies())
        self._show_problem("", None, None)
        if kind == "none":
            self.title.setText("Nothing selected")
            self.shape_label.setText("")
            self.about.setText("Click a block in the network to see and change its settings.")
            return
        if kind == "input":
            spec = self.doc.network_spec()
            ds = self.doc.dataset()
            self.title.setText("Input")
            self.shape_label.setText(f"shape <b>{format_shape(spec.get('input_shape'))}</b>")
            self.about.setText(f"One sample of the data set <b>{html.escape(str(ds.get('name')))}</b> "
                               f"({html.escape(DATASET_DESCRIPTIONS.get(ds.get('name'), ''))}). "
                               "Choose the data set in the Training panel; the input shape follows it.")
            if v.error is not None and v.error_index is None:
                self._show_problem("error", v.error, None)
            return
        if kind == "loss":
            spec = self.doc.network_spec()
            loss = spec.get("loss", "softmax_cross_entropy")
            self.title.setText("Loss")
            self.shape_label.setText(f"total <b>{v.total_params:,}</b> parameters" if v.ok else "")
            self.about.setText(loss_tooltip(loss) if loss in LOSSES else "")
            self._editors["loss"][1](loss)
            return
        entry = self.doc.layer(self.index)
        info = v.blocks.get(self.index)
        name = entry.get("name") or (info.names[0] if info else "")
        self.title.setText(f"{html.escape(t)} <span style='font-weight:normal'>{html.escape(name)}</span>")
        if info is not None and (v.error_index is None or v.error is None or self.index <= v.error_index):
            self.shape_label.setText(f"output <b>{format_shape(info.output_shape)}</b> · "
                                     f"<b>{info.params:,}</b> parameters · {info.mult_adds:,} multiply-adds")
        else:
            self.shape_label.setText("output <b>?</b> (an earlier block does not fit)")
        formula = html.escape(layer_formula(t)).replace("\n\n", "<br>").replace("\n", " ") if t in LAYERS else ""
        self.about.setText(f"{html.escape(SENTENCES.get(t, ''))}<br><br><code>{formula}</code>")
        for key, (widget, setter) in self._editors.items():
            field = next(f for f in FIELDS[t] if f[0] == key)
            default = field[4]
            if key == "init_std":
                init = entry.get("init")
                normal = _init_type(init) == "normal"
                self.form.setRowVisible(widget, normal)
                widget.setEnabled(normal)
                setter(init.get("std", default) if isinstance(init, dict) and normal else default)
                continue
            if key == "stride" and t in ("MaxPool2D", "AvgPool2D"):
                default = entry.get("pool", 2)
            value = entry.get(key, default)
            if key == "kernel" and isinstance(value, (list, tuple)):
                value = value[0]
            setter(value)
        status, message, fix = v.problem_at(self.index)
        self._show_problem(status, message, fix)

    def _show_problem(self, status: str, message: str | None, fix: dict | None) -> None:
        self._fix = fix
        if not status:
            self.problem.hide()
            return
        color = text_color("error" if status == "error" else "warning")  # readable in light and dark
        self.problem.setStyleSheet(f"QFrame#problem {{ border: 2px solid {color}; border-radius: 6px; }}")
        self.problem_text.setText(f"<b style='color:{color}'>{'Does not fit' if status == 'error' else 'Check'}:"
                                  f"</b> {html.escape(message or '')}")
        self.fix_button.setVisible(bool(fix))
        if fix:
            self.fix_button.setText(f"Fix: {self.doc.describe_fix(fix)}")
        self.problem.show()

    # ------------------------------------------------------------ editing
    def _set(self, key: str, value: Any) -> None:
        if self.index is None or not 0 <= self.index < self.doc.layer_count():
            return
        if self.doc.layer(self.index).get(key) == value:
            return
        self.doc.push(SetLayerOption(self.doc, self.index, key, value))

    def _set_init_std(self, std: float) -> None:
        if self.index is None or not 0 <= self.index < self.doc.layer_count():
            return
        init = self.doc.layer(self.index).get("init")
        if _init_type(init) != "normal" or (isinstance(init, dict) and init.get("std") == std):
            return
        self.doc.push(SetInitStd(self.doc, self.index, std))

    def _set_activation(self, key: str) -> None:
        if self.index is None or not 0 <= self.index < self.doc.layer_count():
            return
        entry = self.doc.layer(self.index)
        if not takes_activation(entry.get("type", "")):
            return
        if (entry.get("activation") or "none") == key:
            return
        self.doc.push(SetActivation(self.doc, self.index, key))

    def _apply_fix(self) -> None:
        if self._fix:
            self.doc.push(ApplyFix(self.doc, self._fix))
            self.message.emit("Applied the fix (Ctrl+Z undoes it)")


def _init_type(init: Any) -> str:
    """The initializer's name in a layer entry (a name, a ``{"type": ...}`` object or nothing: "auto")."""
    name = init.get("type", "auto") if isinstance(init, dict) else init
    return str(name or "auto").lower()
