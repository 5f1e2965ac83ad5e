"""The training panel: data set, optimizer, schedule and the other training settings."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGroupBox, QLabel,
                               QVBoxLayout, QWidget)

from playground.engine.data.datasets import (DATASET_DESCRIPTIONS, DATASET_KINDS, DATASETS, MAX_STEPS,
                                             check_dataset_spec, default_spec)
from playground.engine.errors import SpecError
from playground.engine.nn.optimizers import OPTIMIZERS, SCHEDULES
from playground.ui.builder.commands import SetAllInitializers, SetDataset, SetTrainingOption
from playground.ui.builder.document import ProjectDocument
from playground.ui.builder.catalog import (INIT_CHOICES, init_tooltip, optimizer_defaults, optimizer_tooltip,
                                          schedule_tooltip)
from playground.ui.builder.mnist_row import MnistFolderRow
from playground.ui.builder.fields import (LinearSpinBox, SciSpinBox, combo, fraction_spin, int_spin, set_combo_data,
                                          set_value)
from playground.ui.layout import fill_with_scrolling
from playground.ui.theme import muted, text_color

#: the x range of a 1-D regression set: the engine's bounds
X_LIMIT = 1e6

DATASET_ORDER = ["mnist", "spiral", "moons", "circle", "xor", "gaussians", "sin", "xsin", "step", "sine-wave",
                 "adding", "counting-text", "imagenet"]
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
                    "rmsprop": "RMSProp", "adam": "Adam", "adamw": "AdamW"}
SETTING_LABELS = {"momentum": "Momentum μ", "rho": "Decay ρ", "eps": "ε", "beta1": "β₁", "beta2": "β₂",
                  "weight_decay": "Decoupled decay λ"}


def _label(text: str, tip: str = "") -> QLabel:
    lab = QLabel(text)
    if tip:
        lab.setToolTip(tip)
    return lab


class TrainingPanel(QWidget):
    """Edits the project's ``dataset`` and ``training`` sections (and all layers' initializers)."""

    def __init__(self, doc: ProjectDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self._filling = False
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(10)
        lay.addWidget(self._data_group())
        lay.addWidget(self._optimizer_group())
        lay.addWidget(self._run_group())
        lay.addStretch(1)
        fill_with_scrolling(self, body)
        doc.changed.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------ building
    def _form(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title, self)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        return box, form

    def _data_group(self) -> QGroupBox:
        box, form = self._form("Data")
        self.data_form = form
        names = [n for n in DATASET_ORDER if n in DATASETS] + sorted(set(DATASETS) - set(DATASET_ORDER))
        self.dataset_box = combo([(n, n if n != "mnist" else "MNIST") for n in names], self,
                                 {n: f"<b>{n}</b> — {DATASET_DESCRIPTIONS[n]} ({DATASET_KINDS[n]})" for n in names})
        self.dataset_box.setAccessibleName("Data set")
        self.dataset_box.currentIndexChanged.connect(self._dataset_chosen)
        form.addRow(_label("Data set:"), self.dataset_box)
        self.dataset_about = QLabel(self)
        self.dataset_about.setWordWrap(True)
        muted(self.dataset_about)
        form.addRow(self.dataset_about)
        self.n_samples = int_spin(2, 100000, self)
        self.noise = fraction_spin(0.0, 2.0, 0.05, parent=self)
        self.val_split = fraction_spin(0.0, 0.9, 0.05, 2, self)
        self.n_classes = int_spin(2, 10, self)
        self.data_seed = int_spin(0, 2**31 - 1, self)
        self.steps = int_spin(2, MAX_STEPS, self)
        self.limit = int_spin(0, 60000, self)
        self.limit.setSpecialValueText("all")
        self.val_limit = int_spin(0, 10000, self)
        self.val_limit.setSpecialValueText("all")
        self.x_min = LinearSpinBox(-X_LIMIT, X_LIMIT, 0.5, self)
        self.x_max = LinearSpinBox(-X_LIMIT, X_LIMIT, 0.5, self)
        self.grid = QCheckBox("evenly spaced", self)
        self.mnist_row = MnistFolderRow(self)
        self.mnist_row.folder_chosen.connect(lambda text: self._set_data("data_dir", text or None))
        dir_row = self.mnist_row
        self._data_rows = {
            "n_samples": (self.n_samples, "Samples:", "How many points are generated."),
            "noise": (self.noise, "Noise:", "Standard deviation of the Gaussian noise added to every point."),
            "val_split": (self.val_split, "Validation split:", "The fraction held out to measure generalization."),
            "n_classes": (self.n_classes, "Classes:", "How many spiral arms (classes)."),
            "seed": (self.data_seed, "Data seed:", "The seed the points are drawn with."),
            "steps": (self.steps, "Time steps:", "How long each sequence is (the adding problem gets harder "
                                                 "for a plain RNN as it grows)."),
            "limit": (self.limit, "Training samples:", "Train on the first N training images only (faster)."),
            "val_limit": (self.val_limit, "Validation samples:", "Validate on the first N test images only."),
            "x_min": (self.x_min, "x min:", "The smallest x: samples are drawn from [x min, x max); "
                                           f"x min < x max, both within ±{X_LIMIT:,g}."),
            "x_max": (self.x_max, "x max:", "The end of the x range (not included): samples are drawn from "
                                          f"[x min, x max); x min < x max, both within ±{X_LIMIT:,g}."),
            "grid": (self.grid, "Grid:", "Place the samples at x min + k·(x max − x min)/samples, in random "
                                         "order, instead of drawing x at random (the classic sin fit: 200 "
                                         "samples on [0, 20), a step of 0.1)."),
            "data_dir": (dir_row, "MNIST folder:", "Where the MNIST files are; empty: $PLAYGROUND_MNIST_DIR if set, "
                                              "else the cache folder."),
        }
        for key, (w, text, tip) in self._data_rows.items():
            w.setToolTip(tip)
            form.addRow(_label(text, tip), w)
            if key == "grid":
                w.toggled.connect(lambda on: self._set_data("grid", bool(on)))
            elif key not in ("data_dir",):
                sig = w.valueChanged
                if key in ("limit", "val_limit"):
                    sig.connect(lambda v, key=key: self._set_data(key, int(v) or None))
                elif key in ("noise", "val_split", "x_min", "x_max"):
                    sig.connect(lambda v, key=key: self._set_data(key, round(float(v), 6)))
                else:
                    sig.connect(lambda v, key=key: self._set_data(key, int(v)))
        # a value the engine refuses (x min above x max) is not applied: this says why
        self.data_problem = QLabel(self)
        self.data_problem.setWordWrap(True)
        self.data_problem.setObjectName("data_problem")
        form.addRow(self.data_problem)
        form.setRowVisible(self.data_problem, False)
        return box

    def _optimizer_group(self) -> QGroupBox:
        box, form = self._form("Optimizer")
        self.opt_form = form
        self.optimizer_box = combo([(k, OPTIMIZER_LABELS.get(k, k)) for k in OPTIMIZERS], self,
                                   {k: optimizer_tooltip(k) for k in OPTIMIZERS})
        self.optimizer_box.setAccessibleName("Optimizer")
        self.optimizer_box.currentIndexChanged.connect(self._optimizer_chosen)
        form.addRow(_label("Optimizer:"), self.optimizer_box)
        self.lr = SciSpinBox(1e-7, 10.0, zero_step=1e-3, parent=self)
        self.lr.setToolTip("The learning rate lr: how big each step is.")
        self.lr.valueChanged.connect(lambda v: self._set_opt("lr", float(v)))
        form.addRow(_label("Learning rate:", "lr in the update rule"), self.lr)
        self.opt_settings: dict[str, SciSpinBox] = {}
        for key in ("momentum", "rho", "beta1", "beta2", "eps", "weight_decay"):
            w = SciSpinBox(0.0, 0.999999 if key in ("momentum", "rho", "beta1", "beta2") else 10.0,
                           zero_step=1e-8 if key == "eps" else 0.01, parent=self)
            w.valueChanged.connect(lambda v, key=key: self._set_opt(key, float(v)))
            form.addRow(_label(SETTING_LABELS[key]), w)
            self.opt_settings[key] = w
        self.schedule_box = combo([(k, k) for k in SCHEDULES], self, {k: schedule_tooltip(k) for k in SCHEDULES})
        self.schedule_box.setAccessibleName("Learning-rate schedule")
        self.schedule_box.currentIndexChanged.connect(self._schedule_chosen)
        form.addRow(_label("LR schedule:"), self.schedule_box)
        self.step_every = SciSpinBox(0.01, 1000.0, zero_step=1.0, parent=self)
        self.step_every.valueChanged.connect(lambda v: self._set_schedule("step", float(v)))
        self.gamma = fraction_spin(0.01, 1.0, 0.05, 3, self)
        self.gamma.valueChanged.connect(lambda v: self._set_schedule("gamma", round(float(v), 6)))
        self.min_lr = SciSpinBox(0.0, 10.0, zero_step=1e-5, parent=self)
        self.min_lr.valueChanged.connect(lambda v: self._set_schedule("min_lr", float(v)))
        form.addRow(_label("Every (epochs):", "Multiply the rate by γ every this many epochs"), self.step_every)
        form.addRow(_label("Factor γ:"), self.gamma)
        form.addRow(_label("Minimum lr:"), self.min_lr)
        return box

    def _run_group(self) -> QGroupBox:
        box, form = self._form("Training")
        self.batch_size = int_spin(1, 60000, self)
        self.batch_size.valueChanged.connect(lambda v: self._set_train("batch_size", int(v)))
        self.epochs = int_spin(1, 100000, self)
        self.epochs.valueChanged.connect(lambda v: self._set_train("epochs", int(v)))
        self.weight_decay = SciSpinBox(0.0, 10.0, zero_step=1e-4, parent=self)
        self.weight_decay.valueChanged.connect(lambda v: self._set_train("weight_decay", float(v)))
        self.clip_norm = SciSpinBox(0.0, 1e6, zero_step=1.0, parent=self)
        self.clip_norm.setSpecialValueText("off")
        self.clip_norm.valueChanged.connect(lambda v: self._set_train("clip_norm", float(v) or None))
        self.seed = int_spin(0, 2**31 - 1, self)
        self.seed.valueChanged.connect(lambda v: self._set_train("seed", int(v)))
        self.init_box = combo([(k, k) for k in INIT_CHOICES] + [("mixed", "(per layer)")], self,
                              {k: init_tooltip(k) for k in INIT_CHOICES})
        self.init_box.currentIndexChanged.connect(self._init_chosen)
        rows = [("Batch size:", self.batch_size, "Samples per gradient step."),
                ("Epochs:", self.epochs, "Passes over the training set."),
                ("Weight init:", self.init_box, "The initializer of every Dense and Conv2D layer "
                                                "(each can be changed in the inspector)."),
                ("Weight decay:", self.weight_decay, "L2 penalty λ on every weight: adds (λ/2)·‖W‖² to the loss."),
                ("Clip grad norm:", self.clip_norm, "Scale gradients down when their joint norm exceeds this."),
                ("Seed:", self.seed, "Seeds the initial weights, dropout masks and batch order.")]
        for text, w, tip in rows:
            w.setToolTip(w.toolTip() or tip)
            form.addRow(_label(text, tip), w)
        return box

    # ------------------------------------------------------------ filling from the document
    def refresh(self) -> None:
        self._filling = True
        try:
            ds = self.doc.dataset()
            name = ds.get("name", "mnist")
            set_combo_data(self.dataset_box, name)
            self.dataset_about.setText(f"{DATASET_DESCRIPTIONS.get(name, '')} ({DATASET_KINDS.get(name, '')})")
            full = {**DATASETS.get(name, {}), **ds}
            for key, (w, _text, _tip) in self._data_rows.items():
                present = key in DATASETS.get(name, {})
                self.data_form.setRowVisible(w, present)
                if not present:
                    continue
                value = full.get(key)
                if key == "data_dir":
                    self.mnist_row.set_folder(value)
                elif key == "grid":
                    was = w.blockSignals(True)
                    w.setChecked(value is True)
                    w.blockSignals(was)
                elif key in ("limit", "val_limit"):
                    set_value(w, value or 0)
                elif key in ("noise", "val_split"):
                    set_value(w, value)
                else:
                    set_value(w, value if value is not None else 0)
            self.data_form.setRowVisible(self.data_problem, False)
            tr = self.doc.training()
            opt = dict(tr.get("optimizer") or {"type": "adam"})
            oname = str(opt.get("type", "adam")).lower()
            set_combo_data(self.optimizer_box, oname)
            defaults = optimizer_defaults(oname) if oname in OPTIMIZERS else {}
            set_value(self.lr, opt.get("lr", defaults.get("lr", 0.01)))
            allowed = {a for a, _ in OPTIMIZERS[oname].settings} if oname in OPTIMIZERS else set()
            for key, w in self.opt_settings.items():
                show = key in allowed
                self.opt_form.setRowVisible(w, show)
                if show:
                    set_value(w, opt.get(key, defaults.get(key, 0.0)))
                    w.setToolTip(dict(OPTIMIZERS[oname].settings).get(key, ""))
            sched = tr.get("schedule") or {"type": "constant"}
            sname = sched.get("type", "constant")
            set_combo_data(self.schedule_box, sname)
            self.opt_form.setRowVisible(self.step_every, sname == "step")
            self.opt_form.setRowVisible(self.gamma, sname == "step")
            self.opt_form.setRowVisible(self.min_lr, sname == "cosine")
            set_value(self.step_every, sched.get("step", 1.0))
            set_value(self.gamma, sched.get("gamma", 0.5))
            set_value(self.min_lr, sched.get("min_lr", 0.0))
            set_value(self.batch_size, tr.get("batch_size", 100))
            set_value(self.epochs, tr.get("epochs", 5))
            set_value(self.weight_decay, tr.get("weight_decay") or 0.0)
            set_value(self.clip_norm, tr.get("clip_norm") or 0.0)
            set_value(self.seed, tr.get("seed", 0))
            inits = {(e.get("init") if isinstance(e.get("init"), str) else (e.get("init") or {}).get("type", "auto"))
                     or "auto" for e in self.doc.layers() if e.get("type") in ("Dense", "Conv2D")}
            set_combo_data(self.init_box, inits.pop() if len(inits) == 1 else "mixed")
        finally:
            self._filling = False

    # ------------------------------------------------------------ edits
    def _set_data(self, key: str, value: Any) -> None:
        if self._filling:
            return
        ds = self.doc.dataset()
        if ds.get(key) == value or (value is None and key not in ds):
            return
        if value is None:
            ds.pop(key, None)
        else:
            ds[key] = value
        try:
            check_dataset_spec(ds)
        except SpecError as e:  # e.g. x min above x max: keep the project, put the box back, say why
            self.refresh()
            self.data_problem.setText(f"<b style='color:{text_color('error')}'>Not applied:</b> "
                                      f"{html.escape(str(e))}")
            self.data_form.setRowVisible(self.data_problem, True)
            return
        self.doc.push(SetDataset(self.doc, ds))

    def _dataset_chosen(self) -> None:
        if self._filling:
            return
        name = self.dataset_box.currentData()
        if name == self.doc.dataset().get("name"):
            return
        self.doc.push(SetDataset(self.doc, {"name": "mnist"} if name == "mnist" else default_spec(name)))


    def _set_train(self, key: str, value: Any) -> None:
        if self._filling or self.doc.training().get(key) == value:
            return
        self.doc.push(SetTrainingOption(self.doc, key, value))

    def _set_opt(self, key: str, value: float) -> None:
        if self._filling:
            return
        opt = dict(self.doc.training().get("optimizer") or {"type": "adam"})
        if opt.get(key) == value:
            return
        opt[key] = value
        self.doc.push(SetTrainingOption(self.doc, "optimizer", opt, f"Set optimizer {key}"))

    def _optimizer_chosen(self) -> None:
        if self._filling:
            return
        name = self.optimizer_box.currentData()
        opt = dict(self.doc.training().get("optimizer") or {})
        if opt.get("type") == name:
            return
        new = {"type": name, "lr": float(opt.get("lr", optimizer_defaults(name)["lr"]))}
        self.doc.push(SetTrainingOption(self.doc, "optimizer", new, f"Use optimizer {OPTIMIZER_LABELS[name]}"))

    def _schedule_chosen(self) -> None:
        if self._filling:
            return
        name = self.schedule_box.currentData()
        cur = self.doc.training().get("schedule") or {"type": "constant"}
        if cur.get("type") == name:
            return
        new = None if name == "constant" else ({"type": "step", "step": 1.0, "gamma": 0.5} if name == "step"
                                               else {"type": "cosine", "min_lr": 0.0})
        self.doc.push(SetTrainingOption(self.doc, "schedule", new, f"Use {name} learning-rate schedule"))

    def _set_schedule(self, key: str, value: float) -> None:
        if self._filling:
            return
        cur = dict(self.doc.training().get("schedule") or {})
        if not cur or cur.get(key) == value:
            return
        cur[key] = value
        self.doc.push(SetTrainingOption(self.doc, "schedule", cur, f"Set schedule {key}"))

    def _init_chosen(self) -> None:
        if self._filling:
            return
        name = self.init_box.currentData()
        if name == "mixed":
            return
        self.doc.push(SetAllInitializers(self.doc, name))
