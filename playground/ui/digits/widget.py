"""Draw a digit and watch the network read it: pad, bars, pipeline, saliency, teaching."""

from __future__ import annotations

import os
import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QIntValidator, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QComboBox, QFileDialog, QFrame, QGridLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from playground.engine.errors import PlaygroundError
from playground.engine.data.preprocess import DigitSteps, load_image, preprocess_digit_steps
from playground.engine.nn.network import Network, copy_network
from playground.ui.digits.explain import ExplainPanel
from playground.ui.digits.finetune import FineTuner
from playground.ui.digits.models import as_input, digit_network_problem, load_bundled
from playground.ui.digits.pad import SIDE, DrawingPad
from playground.ui.digits.store import UserDigitStore, default_store_dir
from playground.ui.digits.views import ProbabilityBars

#: while a stroke is drawn, the slower views (pipeline, saliency, feature maps) follow at most this often
EXPLAIN_MS = 120
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


class DigitPadWidget(QWidget):
    """Draw a digit, see the network's probabilities live, the preprocessing, and why it decided.

    ``set_network(net, label)`` reads with a network trained in the app (a
    copy is kept, so the caller may go on training its own);
    ``use_bundled_model()`` goes back to ``resources/models/digits.npz``.
    ``bundled_model``, ``store_dir`` and ``mnist_dir`` may be given for tests.
    """

    #: probabilities (10,) after each prediction, or None when the pad is empty or there is no network
    prediction_changed = Signal(object)
    #: the reading network changed: its label
    network_changed = Signal(str)
    #: a fine-tuning run ended: see :class:`FineTuner.finished`
    finetune_finished = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, bundled_model: str | os.PathLike | None = None,
                 store_dir: str | os.PathLike | None = None, mnist_dir: str | os.PathLike | None = None):
        super().__init__(parent)
        self._bundled_path = bundled_model
        self._store = UserDigitStore(store_dir if store_dir is not None else default_store_dir())
        self._net: Network | None = None
        self._label = ""
        self._is_bundled = False
        self._steps: DigitSteps | None = None
        self._x: np.ndarray | None = None
        self._winner = -1
        self._pending_since: float | None = None
        self._explained_at = 0.0
        #: seconds from the first ink change to the bars updated, for the latest predictions
        self.latencies: deque[float] = deque(maxlen=2000)
        self._finetuner = FineTuner(self, mnist_dir=mnist_dir)
        self._finetuner.progress.connect(self._on_finetune_progress)
        self._finetuner.finished.connect(self._on_finetune_finished)

        self._predict_timer = QTimer(self, singleShot=True, interval=0)
        self._predict_timer.timeout.connect(self._predict)
        self._explain_timer = QTimer(self, singleShot=True, interval=0)
        self._explain_timer.timeout.connect(self._explain)

        self._build()
        self.pad.changed.connect(self._ink_changed)
        self.pad.stroke_finished.connect(self._schedule_explain)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.use_bundled_model()
        self._refresh_store()

    # ================================================================== layout
    def _build(self) -> None:
        root = QHBoxLayout(self)
        root.setContentsMargins(10, 10, 10, 10)
        root.setSpacing(14)

        # ---- left: the pad and its tools
        left = QVBoxLayout()
        left.setSpacing(6)
        title = QLabel("<b>Draw a digit</b> — any size, anywhere; the network reads it as you draw")
        title.setWordWrap(True)
        left.addWidget(title)
        self.pad = DrawingPad()
        row = QHBoxLayout()
        row.addWidget(QLabel("Brush"))
        self.brush = QSlider(Qt.Orientation.Horizontal)
        self.brush.setRange(4, 48)
        self.brush.setValue(int(self.pad.brush_width()))
        self.brush.setToolTip(f"Stroke width in pad pixels (the pad is {SIDE} pixels wide). "
                              "Any width reads the same: step 2 rescales the digit.")
        self.brush_value = QLabel()
        self.brush_value.setMinimumWidth(44)
        self.brush.valueChanged.connect(self._brush_changed)
        self._brush_changed(self.brush.value())
        row.addWidget(self.brush, 1)
        row.addWidget(self.brush_value)
        self.colours = QComboBox()
        self.colours.addItems(["Dark ink on light paper", "Light ink on dark paper"])
        self.colours.setToolTip("Both read the same: preprocessing inverts a light background (step 1).")
        self.colours.currentIndexChanged.connect(lambda i: self.pad.set_dark_on_light(i == 0))
        row.addWidget(self.colours)
        left.addLayout(row)
        row = QHBoxLayout()
        self.undo_button = QPushButton("Undo stroke")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear the pad (Esc)")
        self.clear_button.clicked.connect(self.pad.clear)
        self.load_button = QPushButton("Load image…")
        self.load_button.setToolTip("Read a photo or scan of one digit (PNG, JPEG, BMP, …); "
                                    "it goes through the same preprocessing.")
        self.load_button.clicked.connect(self._choose_image)
        for b in (self.undo_button, self.clear_button, self.load_button):
            row.addWidget(b)
        left.addLayout(row)
        left.addWidget(self.pad, 1)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setMinimumWidth(300)
        root.addWidget(left_box, 6)

        # ---- middle: the verdict, which network, teaching
        mid = QVBoxLayout()
        mid.setSpacing(8)
        self.verdict = QLabel()
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() * 1.5)
        self.verdict.setFont(f)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        mid.addWidget(self.verdict)
        self.bars = ProbabilityBars()
        mid.addWidget(self.bars, 1)

        model_box = QGroupBox("Which network reads it")
        ml = QVBoxLayout(model_box)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        ml.addWidget(self.model_label)
        self.bundled_button = QPushButton("Use the bundled model")
        self.bundled_button.setToolTip("Go back to the model shipped with the app (resources/models/digits.npz), "
                                       "trained by the command in resources/models/README.md")
        self.bundled_button.clicked.connect(self.use_bundled_model)
        ml.addWidget(self.bundled_button, 0, Qt.AlignmentFlag.AlignLeft)
        mid.addWidget(model_box)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setFrameShape(QFrame.Shape.StyledPanel)
        self.message.setStyleSheet("QLabel { padding: 6px; border-radius: 4px; "
                                   "background: rgba(245, 158, 11, 40); }")
        self.message.hide()
        mid.addWidget(self.message)

        teach = QGroupBox("Teach it")
        tl = QGridLayout(teach)
        tl.addWidget(QLabel("Right digit:"), 0, 0)
        self.label_edit = QLineEdit()
        self.label_edit.setMaxLength(1)
        self.label_edit.setValidator(QIntValidator(0, 9, self.label_edit))
        self.label_edit.setFixedWidth(36)
        self.label_edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label_edit.setPlaceholderText("0–9")
        self.label_edit.setToolTip("Type the digit you drew (or press a digit key over the pad), then Enter")
        self.label_edit.returnPressed.connect(self.save_current_digit)
        tl.addWidget(self.label_edit, 0, 1)
        self.save_button = QPushButton("Save to my digits")
        self.save_button.setToolTip("Save the drawing with this label into your own digits set")
        self.save_button.clicked.connect(self.save_current_digit)
        tl.addWidget(self.save_button, 0, 2)
        self.store_label = QLabel()
        self.store_label.setWordWrap(True)
        tl.addWidget(self.store_label, 1, 0, 1, 2)
        self.open_store_button = QPushButton("Open folder")
        self.open_store_button.clicked.connect(self._open_store)
        tl.addWidget(self.open_store_button, 1, 2)
        tl.addWidget(QLabel("Fine-tune for"), 2, 0)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 2000)
        self.steps_spin.setValue(60)
        self.steps_spin.setSuffix(" steps")
        self.steps_spin.setToolTip("Batches of 32: ¾ MNIST training digits (so it does not forget them), "
                                   "¼ your digits, slightly rotated and shifted; Adam, learning rate 3·10⁻⁴")
        tl.addWidget(self.steps_spin, 2, 1)
        self.finetune_button = QPushButton("Fine-tune")
        self.finetune_button.setToolTip("Train a copy of the network a few steps on MNIST plus your digits, "
                                        "in the background; it replaces the network when done")
        self.finetune_button.clicked.connect(self._toggle_finetune)
        tl.addWidget(self.finetune_button, 2, 2)
        self.finetune_progress = QProgressBar()
        self.finetune_progress.setTextVisible(True)
        self.finetune_progress.hide()
        tl.addWidget(self.finetune_progress, 3, 0, 1, 3)
        self.finetune_label = QLabel()
        self.finetune_label.setWordWrap(True)
        self.finetune_label.setTextFormat(Qt.TextFormat.RichText)
        tl.addWidget(self.finetune_label, 4, 0, 1, 3)
        tl.setColumnStretch(0, 1)
        mid.addWidget(teach)
        mid_box = QWidget()
        mid_box.setLayout(mid)
        mid_box.setMinimumWidth(340)
        root.addWidget(mid_box, 4)

        # ---- right: the pipeline and why
        self.explain = ExplainPanel()
        root.addWidget(self.explain, 6)

    def _brush_changed(self, value: int) -> None:
        self.pad.set_brush_width(value)
        self.brush_value.setText(f"{value} px")

    # ================================================================== networks
    def network(self) -> Network | None:
        """The network reading the pad (the widget's own copy; do not train it)."""
        return self._net

    def network_label(self) -> str:
        return self._label

    def is_bundled(self) -> bool:
        return self._is_bundled

    def set_network(self, net: Network, label: str) -> bool:
        """Read with (a copy of) ``net``; refuse, with a message, a network that does not read digits."""
        problem = digit_network_problem(net)
        if problem:
            keep = f"Still reading with the {self._label}." if self._net is not None else ""
            self._show_message(f"This network does not read digits: it {problem}. {keep}".strip())
            return False
        try:
            twin = copy_network(net)
        except PlaygroundError as e:
            self._show_message(f"Cannot read with this network: {e}")
            return False
        self._set(twin, label, bundled=False)
        self._show_message("")
        return True

    def use_bundled_model(self) -> bool:
        """Read with the bundled model; False (and a message saying how to make it) when it is missing."""
        loaded = load_bundled(self._bundled_path)
        if loaded.net is None:
            self._show_message(loaded.message)
            if self._net is None:
                self._update_model_label()
            return False
        self._set(loaded.net, loaded.label, bundled=True)
        self._show_message("")
        return True

    def _set(self, net: Network, label: str, bundled: bool) -> None:
        self._net, self._label, self._is_bundled = net, label, bundled
        self._update_model_label()
        self.network_changed.emit(label)
        self._ink_changed()

    def _update_model_label(self) -> None:
        if self._net is None:
            self.model_label.setText("<i>No network yet.</i> Train one on MNIST in the app, "
                                     "or build the bundled model (see the note below).")
        else:
            n = self._net
            kind = "convolutional" if any(l.type_name == "Conv2D" for l in n.layers) else "fully connected"
            self.model_label.setText(f"<b>{self._label[:1].upper()}{self._label[1:]}</b><br>"
                                     f"{kind}, {len(n.layers)} layers, {n.param_count():,} parameters")
        self.bundled_button.setEnabled(not self._is_bundled)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def message_text(self) -> str:
        """The note shown under the network (missing model, refused network, …), or ""."""
        return self.message.text()

    # ================================================================== prediction
    def _ink_changed(self) -> None:
        if self._pending_since is None:
            self._pending_since = time.perf_counter()
        if not self._predict_timer.isActive():
            self._predict_timer.start()

    def _predict(self) -> None:
        """Preprocess the pad and update the bars: at most once per event-loop turn."""
        started = self._pending_since
        self._pending_since = None
        steps = preprocess_digit_steps(self.pad.canvas_array()) if not self.pad.is_empty() else None
        if steps is not None and steps.empty:
            steps = None
        self._steps = steps
        self.pad.set_bbox(steps.bbox if steps is not None else None)
        probs = None
        if steps is not None and self._net is not None:
            self._x = as_input(self._net, steps.final)
            probs = self._net.predict(self._x)[0]
        else:
            self._x = None
        self.bars.set_probabilities(probs)
        self._winner = int(np.argmax(probs)) if probs is not None else -1
        self._update_verdict(probs)
        if started is not None:
            self.latencies.append(time.perf_counter() - started)
        self.prediction_changed.emit(probs)
        self._schedule_explain()

    def _schedule_explain(self) -> None:
        """Pipeline, saliency and feature maps: after the bars, and while drawing at most every EXPLAIN_MS."""
        drawing = self.pad.is_drawing()
        if self._explain_timer.isActive() and drawing:
            return
        wait = 0
        if drawing:
            wait = max(0, round(EXPLAIN_MS - (time.perf_counter() - self._explained_at) * 1e3))
        self._explain_timer.start(wait)

    def probabilities(self) -> np.ndarray | None:
        return self.bars.probabilities()

    def _update_verdict(self, probs: np.ndarray | None) -> None:
        if self._net is None:
            self.verdict.setText("No network to read with")
        elif probs is None:
            self.verdict.setText("Draw a digit…")
        else:
            k = int(np.argmax(probs))
            p = float(probs[k])
            second = int(np.argsort(probs)[-2])
            self.verdict.setText(f"It reads <b>{k}</b> &nbsp;<span style='font-size:small'>"
                                 f"({p:.1%} sure; next: {second} at {float(probs[second]):.1%})</span>")

    # ================================================================== explaining
    def _explain(self) -> None:
        if self._predict_timer.isActive():  # new ink: the bars go first
            self._explain_timer.start(0)
            return
        self._explained_at = time.perf_counter()
        self.explain.show_reading(self._steps, self._net, self._x, self._winner)


    # ================================================================== files
    def _choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load an image of a digit", "", IMAGE_FILTER)
        if path:
            self.load_image_file(path)

    def load_image_file(self, path: str | os.PathLike) -> bool:
        """Put an image file on the pad (letterboxed); False with a message when it cannot be read."""
        try:
            gray = load_image(path)
        except PlaygroundError as e:
            self._show_message(str(e))
            return False
        dark_on_light = preprocess_digit_steps(gray).inverted
        self.colours.blockSignals(True)
        self.colours.setCurrentIndex(0 if dark_on_light else 1)
        self.colours.blockSignals(False)
        self.pad.clear()
        self.pad.set_dark_on_light(dark_on_light)
        self.pad.set_image(gray)
        self._show_message("")
        return True

    # ================================================================== teaching
    def user_store(self) -> UserDigitStore:
        return self._store

    def save_current_digit(self) -> Path | None:
        """Save the pad with the typed label into the user's digits; the file's path, or None."""
        text = self.label_edit.text().strip()
        if not text.isdigit():
            self._show_message("Type the digit you drew (0–9) first.")
            self.label_edit.setFocus()
            return None
        if self._steps is None:
            self._show_message("The pad is empty: draw the digit first, then save it.")
            return None
        try:
            path = self._store.save(self.pad.canvas_array(), int(text))
        except PlaygroundError as e:
            self._show_message(str(e))
            return None
        read = f" (the network read {self._winner})" if self._winner >= 0 else ""
        self._show_message("")
        self.finetune_label.setText(f"Saved as a <b>{text}</b>{read}. Save a few more, then Fine-tune.")
        self.label_edit.clear()
        self._refresh_store()
        return path

    def _refresh_store(self) -> None:
        counts = self._store.counts()
        total = sum(counts)
        detail = ", ".join(f"{d}: {c}" for d, c in enumerate(counts) if c)
        self.store_label.setText(f"My digits: {total} saved" + (f" ({detail})" if detail else ""))
        self.store_label.setToolTip(f"Saved as PNG images in {self._store.root}/<label>/")
        self.open_store_button.setEnabled(self._store.root.is_dir())
        self.finetune_button.setEnabled(self._finetuner.is_running() or (total > 0 and self._net is not None))

    def _open_store(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._store.root)))

    def _toggle_finetune(self) -> None:
        if self._finetuner.is_running():
            self._finetuner.stop()
        else:
            self.start_finetune()

    def start_finetune(self, steps: int | None = None) -> bool:
        """Fine-tune a copy of the network in the worker thread; False (with a message) if it cannot start."""
        if self._net is None:
            self._show_message("There is no network to fine-tune.")
            return False
        n = int(steps if steps is not None else self.steps_spin.value())
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            note = self._finetuner.start(self._net, self._store, self._x, n)
        finally:
            QApplication.restoreOverrideCursor()
        if note and not note.startswith("warning: "):
            self._show_message(note)
            return False
        self._show_message(note.removeprefix("warning: "))
        self._finetune_base = (self._net, self._label)
        self.finetune_button.setText("Stop")
        self.finetune_button.setEnabled(True)
        self.finetune_progress.setRange(0, n)
        self.finetune_progress.setValue(0)
        self.finetune_progress.setFormat("fine-tuning: step %v of %m")
        self.finetune_progress.show()
        self.finetune_label.setText("Training a copy in the background; the pad keeps reading with the current one.")
        return True

    def _on_finetune_progress(self, info: dict) -> None:
        self.finetune_progress.setMaximum(max(1, info["steps"]))
        self.finetune_progress.setValue(info["step"])
        p = info.get("probs")
        if p is not None:
            k = int(np.argmax(p))
            self.finetune_label.setText(f"The copy now reads the drawing as <b>{k}</b> ({float(p[k]):.0%})")

    def _on_finetune_finished(self, result: dict) -> None:
        self.finetune_button.setText("Fine-tune")
        self.finetune_progress.hide()
        base_net, base_label = getattr(self, "_finetune_base", (None, ""))
        net = result.get("net")
        if net is None:
            self.finetune_label.setText(f"Fine-tuning {result.get('status')}: {result.get('message') or 'no change'}")
        elif base_net is not self._net:
            self.finetune_label.setText("The fine-tuned copy was discarded: the network changed meanwhile.")
        else:
            before, after = result.get("before"), result.get("after")
            parts = []
            if before is not None and after is not None:
                kb, ka = int(np.argmax(before)), int(np.argmax(after))
                parts.append(f"This drawing: <b>{kb}</b> ({float(before[kb]):.0%}) → <b>{ka}</b> "
                             f"({float(after[ka]):.0%})")
            ub, ua = result.get("user_accuracy_before"), result.get("user_accuracy_after")
            if ub is not None and ua is not None:
                parts.append(f"your digits right: {ub:.0%} → {ua:.0%}")
            self.finetune_label.setText("; ".join(parts) or "Fine-tuned.")
            source = base_label.split(", fine-tuned")[0]
            mix = "MNIST + your digits" if result.get("mnist") else "your digits only"
            self._set(net, f"{source}, fine-tuned {result.get('steps')} steps on {mix}", bundled=False)
        self._refresh_store()
        self.finetune_finished.emit(result)

    def is_finetuning(self) -> bool:
        return self._finetuner.is_running()

    # ================================================================== keys, closing
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.pad.clear()
        elif event.matches(QKeySequence.StandardKey.Undo):
            self.pad.undo()
        elif len(event.text()) == 1 and event.text().isdigit() and not (
                event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)):
            self.label_edit.setText(event.text())
            self.label_edit.setFocus()
        else:
            super().keyPressEvent(event)

    def shutdown(self) -> None:
        """Stop a fine-tuning run and wait for its thread (call before the widget goes away)."""
        self._finetuner.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
