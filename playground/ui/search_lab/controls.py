"""The Search lab's settings panel: ranges, budget, sampler, where trials run, Run / Stop, progress and messages."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from playground.engine.search.space import BOOK_LR, BOOK_WEIGHT_DECAY

#: (key, label) of the samplers the lab offers; "both" runs random, then TPE, with the same budget and seed
SAMPLER_CHOICES = (("random", "Random (the book)"), ("tpe", "TPE (Bayesian, Optuna)"),
                   ("both", "Both: random vs TPE"))
#: (key, label) of where the trials run
EXECUTOR_CHOICES = (("local", "This machine (processes)"), ("dask-local", "A local Dask cluster"),
                    ("dask", "A Dask scheduler at…"))

LR_TIP = ("Learning rate η of the update W ← W − η·∂L/∂W, drawn log-uniformly: η = 10^u with u uniform "
          "between the two exponents (the book: 10^U(−6, −2)). Equal exponents hold it fixed.")
WD_TIP = ("Weight decay λ: the loss gains ½·λ·ΣW², so each step also shrinks W by η·λ·W; drawn as "
          "λ = 10^U(low, high) (the book: 10^U(−8, −4)). Equal exponents hold it fixed.")
SAMPLER_TIP = ("Random: trial i's values come from the seed alone, the book's way.\n"
               "TPE (Tree-structured Parzen Estimator): after 10 random trials, each new trial is drawn where "
               "l(x)/g(x) is largest, l and g being densities fitted to the best and the other trials so far.\n"
               "Both: the two with the same trials budget and seed, compared in the 'Random vs TPE' tab.\n"
               "TPE repeats its trials for a seed on one worker; with several, results arrive in an order that "
               "may change, and so may its later trials.")


def _exponent_spin(value: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(-12.0, 1.0)
    spin.setDecimals(1)
    spin.setSingleStep(0.5)
    spin.setPrefix("10^")
    spin.setValue(value)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)
    return spin


def _int_spin(low: int, high: int, value: int, tip: str, special: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    if special:
        spin.setSpecialValueText(special)
    return spin


class SearchControls(QWidget):
    """The settings of the next search; :meth:`settings` reads them, checked, or says what is wrong."""

    runClicked = Signal()
    stopClicked = Signal()
    useBestClicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project_label = QLabel()
        self.project_label.setWordWrap(True)

        ranges = QGroupBox("Ranges (log-uniform)")
        form = QFormLayout(ranges)
        self.lr_low = _exponent_spin(math.log10(BOOK_LR[0]), LR_TIP)
        self.lr_high = _exponent_spin(math.log10(BOOK_LR[1]), LR_TIP)
        self.wd_low = _exponent_spin(math.log10(BOOK_WEIGHT_DECAY[0]), WD_TIP)
        self.wd_high = _exponent_spin(math.log10(BOOK_WEIGHT_DECAY[1]), WD_TIP)
        form.addRow(self._label("Learning rate", LR_TIP), self._pair(self.lr_low, self.lr_high))
        form.addRow(self._label("Weight decay", WD_TIP), self._pair(self.wd_low, self.wd_high))

        budget = QGroupBox("Budget")
        form = QFormLayout(budget)
        self.trials = _int_spin(1, 10000, 100, "How many trials (networks trained) per sampler; the book runs 100.")
        self.epochs = _int_spin(1, 1000, 50, "Epochs each trial trains; the book: 50.")
        self.samples = _int_spin(0, 60000, 500, "Use the first N training samples (the book: 500), a fifth of "
                                 "them held out for validation. The test set is never used to choose.",
                                 "the project's")
        self.seed = _int_spin(0, 2 ** 31 - 1, 0, "Seed of the draws and of the validation split: the same seed "
                              "gives the same trials.")
        for label, spin in (("Trials", self.trials), ("Epochs", self.epochs), ("Samples", self.samples),
                            ("Seed", self.seed)):
            form.addRow(self._label(label, spin.toolTip()), spin)
        self.sampler = QComboBox()
        for key, label in SAMPLER_CHOICES:
            self.sampler.addItem(label, key)
        self.sampler.setToolTip(SAMPLER_TIP)
        form.addRow(self._label("Sampler", SAMPLER_TIP), self.sampler)

        where = QGroupBox("Where trials run")
        form = QFormLayout(where)
        self.executor = QComboBox()
        for key, label in EXECUTOR_CHOICES:
            self.executor.addItem(label, key)
        self.executor.setToolTip("This machine: one process per core, one trial each. A Dask cluster: the trials "
                                 "as tasks, the data set sent to each worker once (needs pip install -e "
                                 "\".[cluster]\").")
        self.address = QLineEdit()
        self.address.setPlaceholderText("tcp://HOST:8786")
        self.address.setToolTip("The address of a running Dask scheduler ('dask scheduler' prints it).")
        self.workers = _int_spin(0, 256, 0, "Worker processes on this machine (or of the local Dask cluster).",
                                 "one per core")
        form.addRow("Run on", self.executor)
        form.addRow("Scheduler", self.address)
        form.addRow("Workers", self.workers)
        self.executor.currentIndexChanged.connect(self._executor_changed)
        self._executor_changed()

        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Start the search with these settings (the finished trials so far are cleared)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the search now: trials not started are dropped, finished ones kept")
        self.stop_button.setEnabled(False)
        self.use_best_button = QPushButton("Use best")
        self.use_best_button.setToolTip("Write the best trial's learning rate and weight decay into the open "
                                        "project (Edit ▸ Undo takes them back)")
        self.use_best_button.setEnabled(False)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.stop_button, self.use_best_button):
            buttons.addWidget(b)
        self.run_button.clicked.connect(self.runClicked)
        self.stop_button.clicked.connect(self.stopClicked)
        self.use_best_button.clicked.connect(self.useBestClicked)

        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m trials")
        self.progress.setValue(0)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMinimumHeight(self.message.fontMetrics().lineSpacing() * 3)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        layout = QVBoxLayout(self)
        layout.addWidget(self.project_label)
        for w in (ranges, budget, where):
            layout.addWidget(w)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)

    @staticmethod
    def _label(text: str, tip: str) -> QLabel:
        label = QLabel(text)
        label.setToolTip(tip)
        return label

    @staticmethod
    def _pair(low: QWidget, high: QWidget) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(low)
        row.addWidget(QLabel("to"))
        row.addWidget(high)
        return box

    def _executor_changed(self) -> None:
        key = self.executor.currentData()
        self.address.setEnabled(key == "dask")
        self.workers.setEnabled(key != "dask")

    def set_project(self, name: str, epochs: int, samples: int | None) -> None:
        """Show the project searched, and take its epochs and sample count as the budget's."""
        self.project_label.setText(f"Project: <b>{name}</b>")
        self.epochs.setValue(max(1, int(epochs)))
        self.samples.setValue(int(samples or 0))

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (self.lr_low, self.lr_high, self.wd_low, self.wd_high, self.trials, self.epochs, self.samples,
                  self.seed, self.sampler, self.executor):
            w.setEnabled(not running)
        if running:
            self.address.setEnabled(False)
            self.workers.setEnabled(False)
        else:
            self._executor_changed()

    def show_message(self, text: str, error: bool = False) -> None:
        from playground.ui.plotlook import look

        self.message.setStyleSheet(f"color: {look()['bad']};" if error else "")
        self.message.setText(text)

    def settings(self) -> dict[str, Any]:
        """The search's settings; a ValueError saying what to change when they do not fit together."""
        ranges = {}
        for name, low, high in (("learning rate", self.lr_low, self.lr_high),
                                ("weight decay", self.wd_low, self.wd_high)):
            if low.value() > high.value():
                raise ValueError(f"the {name}'s range runs from 10^{low.value():g} up to 10^{high.value():g}: "
                                 f"the low end is above the high end; swap them")
            ranges[name] = (10.0 ** low.value(), 10.0 ** high.value())
        executor = self.executor.currentData()
        address = self.address.text().strip()
        if executor == "dask" and not address:
            raise ValueError("no scheduler address: type one such as tcp://192.168.1.5:8786, or run on this "
                             "machine")
        return {"lr": ranges["learning rate"], "weight_decay": ranges["weight decay"],
                "trials": self.trials.value(), "epochs": self.epochs.value(),
                "samples": self.samples.value() or None, "seed": self.seed.value(),
                "sampler": self.sampler.currentData(),
                "scheduler": {"local": None, "dask-local": "local", "dask": address}[executor],
                "workers": (self.workers.value() or None) if executor != "dask" else None}
