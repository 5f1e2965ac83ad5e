"""Draw a digit and watch the network read it: pad, bars, pipeline, saliency, teaching."""

from __future__ import annotations

import os
import re
import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from playground.engine.data.digit_judge import Judgement
from playground.engine.errors import PlaygroundError
from playground.engine.data.preprocess import DigitSteps, load_image, preprocess_digit_steps
from playground.engine.nn.network import Network, copy_network
from playground.engine.project import save_model
from playground.ui.digits.columns import PadColumn, ReadingColumn
from playground.ui.digits.explain import ExplainPanel
from playground.ui.digits.finetune import FineTuner
from playground.ui.digits.models import digit_network_problem, load_bundled
from playground.ui.digits.reader import Job, PadReader, Reading
from playground.ui.digits.store import UserDigitStore, default_store_dir
from playground.ui.digits.teach import finetune_summary
from playground.ui.digits.views import verdict_html
from playground.ui.layout import WrapLayout

#: while a stroke is drawn, the slower views (pipeline, saliency, feature maps) follow at most this often
EXPLAIN_MS = 120
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
MODEL_FILTER = "Model files (*.npz)"
#: what the bundled model's label says about its accuracy; a fine-tuned copy no longer has it
_ACCURACY = re.compile(r",\s*[\d.]+% on MNIST t10k")


class DigitPadWidget(QWidget):
    """Draw a digit, see the network's probabilities live, the preprocessing, and why it decided.

    ``set_network(net, label)`` reads with a network the user picked (a
    copy is kept, so the caller may go on training its own);
    ``offer_network(net, label)`` offers the network training in the app: the
    pad keeps the network it reads until the user takes the offer (and then
    follows the training) or picks another. ``use_bundled_model()`` goes back
    to ``resources/models/digits.npz``; ``save_network(path)`` saves the one
    read with. Readings run in :class:`~.reader.PadReader`'s thread, the latest
    drawing only. ``bundled_model``, ``store_dir`` and ``mnist_dir`` may be
    given for tests.
    """

    #: probabilities (10,) after each prediction, or None when the pad is empty or there is no network
    prediction_changed = Signal(object)
    #: after each reading: the pad's input as the network is given it (28 × 28), or None for an empty pad
    drawing_read = Signal(object)
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
        self._reader_net: Network | None = None  # the reader thread's own copy of self._net
        self._offer: tuple[Network, str] | None = None
        self._follow_app = False
        self._steps: DigitSteps | None = None
        self._finetune_base: tuple[Network | None, str] = (None, "")
        self._x: np.ndarray | None = None
        self._winner = -1
        self._judgement: Judgement | None = None
        self._pending_since: float | None = None
        self._explained_at = 0.0
        #: seconds from the first ink change to the bars updated, for the latest predictions
        self.latencies: deque[float] = deque(maxlen=2000)
        self._finetuner = FineTuner(self, mnist_dir=mnist_dir)
        self._finetuner.progress.connect(self._on_finetune_progress)
        self._finetuner.finished.connect(self._on_finetune_finished)

        self._reader = PadReader(self)
        self._reader.reading.connect(self._on_reading)
        self._reader.failed.connect(self._on_reading_failed)
        self._explain_timer = QTimer(self, singleShot=True, interval=EXPLAIN_MS)
        self._explain_timer.timeout.connect(self._read_explained)

        self._build()
        self.pad.changed.connect(self._ink_changed)
        self.pad.stroke_finished.connect(self._read_explained)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.use_bundled_model()
        self._refresh_store()

    # ================================================================== layout
    def _build(self) -> None:
        """Three columns (the pad, the reading, the explanation) that wrap onto rows when the width is short."""
        tools, reading = PadColumn(), ReadingColumn()
        self.explain = ExplainPanel()
        root = WrapLayout(self, spacing=14)
        root.setContentsMargins(10, 10, 10, 10)
        root.add(tools, 6)
        root.add(reading, 4)
        root.add(self.explain, 6)
        for name in ("pad", "brush", "brush_value", "colours", "undo_button", "clear_button", "load_button"):
            setattr(self, name, getattr(tools, name))
        self.load_button.clicked.connect(self._choose_image)
        for name in ("verdict", "bars", "network_box", "message"):
            setattr(self, name, getattr(reading, name))
        box = self.network_box
        self.model_label, self.bundled_button = box.label, box.bundled_button
        self.offer_button, self.save_network_button = box.offer_button, box.save_button
        self.bundled_button.clicked.connect(self.use_bundled_model)
        self.offer_button.clicked.connect(self.take_offer)
        self.save_network_button.clicked.connect(self._choose_model_file)
        for name in ("label_edit", "save_button", "store_label", "open_store_button", "steps_spin",
                     "finetune_button", "finetune_progress", "finetune_label"):
            setattr(self, name, getattr(reading.teach, name))
        self.label_edit.returnPressed.connect(self.save_current_digit)
        self.save_button.clicked.connect(self.save_current_digit)
        self.open_store_button.clicked.connect(self._open_store)
        self.finetune_button.clicked.connect(self._toggle_finetune)

    # ================================================================== networks
    def network(self) -> Network | None:
        """The network reading the pad (the widget's own copy; do not train it)."""
        return self._net

    def network_label(self) -> str:
        return self._label

    def is_bundled(self) -> bool:
        return self._is_bundled

    def set_network(self, net: Network, label: str, *, follow_app: bool = False) -> bool:
        """Read with (a copy of) ``net``; refuse, with a message, a network that does not read digits.

        ``follow_app``: ``net`` is the app's training network, and later ones offered replace it.
        """
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
        self._follow_app = follow_app
        self._set(twin, label, bundled=False)
        return True

    def offer_network(self, net: Network, label: str) -> None:
        """The app's training has (a copy of) a network: read with it only if the user chose to follow the app.

        Otherwise it is offered with a button, and the network read with stays:
        starting a run does not swap a trained or fine-tuned network for an
        untrained one. A network that does not read digits is not offered.
        """
        if digit_network_problem(net):
            self._offer = None
            self.network_box.show_offer("")
            return
        if self._follow_app or self._net is None:
            self._offer = None
            self.network_box.show_offer("")
            self.set_network(net, label, follow_app=True)
            return
        self._offer = (net, label)
        self.network_box.show_offer(f"{label}, {net.param_count():,} parameters")

    def take_offer(self) -> bool:
        """Read with the network on offer from the app, and follow the app's training from now on."""
        if self._offer is None:
            return False
        net, label = self._offer
        self._offer = None
        self.network_box.show_offer("")
        return self.set_network(net, label, follow_app=True)

    def follows_app(self) -> bool:
        """The pad reads with the app's training network and takes each new one."""
        return self._follow_app

    def use_bundled_model(self) -> bool:
        """Read with the bundled model; False (and a message saying how to make it) when it is missing."""
        loaded = load_bundled(self._bundled_path)
        if loaded.net is None:
            self._show_message(loaded.message)
            if self._net is None:
                self._update_model_label()
            return False
        self._follow_app = False
        self._set(loaded.net, loaded.label, bundled=True)
        return True

    def _set(self, net: Network, label: str, bundled: bool, result: str = "") -> None:
        """Read with ``net`` from now on; every text about the previous network goes (``result``: the new one's)."""
        self._net, self._label, self._is_bundled = net, label, bundled
        self._reader_net = copy_network(net)
        self._show_message("")
        self.finetune_label.setText(result)
        self._update_model_label()
        self._refresh_store()
        self.network_changed.emit(label)
        self._ink_changed()

    def save_network(self, path: str | os.PathLike) -> bool:
        """Save the network read with as a model file; False, with a message, when it cannot be."""
        if self._net is None:
            self._show_message("There is no network to save.")
            return False
        try:
            saved = save_model(self._net, path, dataset={"name": "mnist"},
                               extra={"project_name": _ACCURACY.sub("", self._label)})
        except PlaygroundError as e:
            self._show_message(f"The network was not saved: {e}")
            return False
        self._show_message("")
        self.finetune_label.setText(f"Saved the network to {saved}.")
        return True

    def _choose_model_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the network the pad reads with", "digits-finetuned.npz",
                                              MODEL_FILTER)
        if path:
            self.save_network(path if path.endswith(".npz") else path + ".npz")

    def _update_model_label(self) -> None:
        if self._net is None:
            self.model_label.setText("<i>No network yet.</i> Train one on MNIST in the app, "
                                     "or build the bundled model (see the note below).")
        else:
            n = self._net
            kind = "convolutional" if any(l.type_name == "Conv2D" for l in n.layers) else "fully connected"
            blocks = len(n.spec["layers"])  # as the editor and the status bar count: one per block
            self.model_label.setText(f"<b>{self._label[:1].upper()}{self._label[1:]}</b><br>{kind}, {blocks} "
                                     f"block{'s' if blocks != 1 else ''}, {n.param_count():,} parameters")
        self.bundled_button.setEnabled(not self._is_bundled)
        self.save_network_button.setEnabled(self._net is not None and not self._is_bundled)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def message_text(self) -> str:
        """The note shown under the network (missing model, refused network, …), or ""."""
        return self.message.text()

    # ================================================================== reading
    def _ink_changed(self) -> None:
        """The ink changed: read the newest drawing (explained, unless a stroke is going on and one was lately)."""
        if self._pending_since is None:
            self._pending_since = time.perf_counter()
        due = (time.perf_counter() - self._explained_at) * 1e3 >= EXPLAIN_MS
        self._read(explain=not self.pad.is_drawing() or due)

    def _read_explained(self) -> None:
        self._read(explain=True)

    def _read(self, explain: bool) -> None:
        """Hand the pad's canvas to the reader thread; it runs when the reading before it is done."""
        if explain:
            self._explained_at = time.perf_counter()
            self._explain_timer.stop()
        elif not self._explain_timer.isActive():  # the saliency follows within EXPLAIN_MS while drawing
            self._explain_timer.start()
        canvas = None if self.pad.is_empty() else self.pad.canvas_array()
        self._reader.read(Job(canvas, self._reader_net, explain))

    def _on_reading(self, r: Reading) -> None:
        """A reading is back from the reader's thread: bars, verdict, and (when explained) the right column."""
        if r.net is not self._reader_net:
            return  # read by a network no longer used; the new one's reading follows
        started, self._pending_since = self._pending_since, None
        self._steps, self._x, self._judgement = r.steps, r.x, r.judgement
        self.pad.set_bbox(r.steps.bbox if r.steps is not None else None)
        j = r.judgement
        self.bars.set_probabilities(r.probs, sure=j is None or j.sure, second=j.second if j else None)
        self._winner = j.digit if j is not None else -1
        self._update_verdict()
        if started is not None and not self._reader.busy():
            self.latencies.append(time.perf_counter() - started)
        self.prediction_changed.emit(r.probs)
        self.drawing_read.emit(r.steps.final if r.steps is not None else None)
        if r.steps is None:
            self.explain.clear()
        elif r.explained:
            self.explain.show_reading(r.steps, r.grad, r.maps, self._winner, self._net is not None,
                                      images=self._net is None or len(self._net.input_shape) == 3)

    def _on_reading_failed(self, text: str) -> None:
        self._pending_since = None
        self._show_message(f"This network could not read the drawing ({text}). Pick another network.")

    def probabilities(self) -> np.ndarray | None:
        return self.bars.probabilities()

    def judgement(self) -> Judgement | None:
        """The latest reading's judgement (sure or not, the signals and why), or None without a reading."""
        return self._judgement

    def _update_verdict(self) -> None:
        self.verdict.setText(verdict_html(self._judgement, self._net is not None))

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
        steps = preprocess_digit_steps(gray)
        if steps.empty:  # a blank page: nothing to read, and no way to tell which way round its ink would be
            self._show_message(f"No ink in {Path(path).name}: every pixel is about the same shade. Expected a "
                               f"picture of one digit that stands out from its paper; the pad is unchanged.")
            return False
        dark_on_light = steps.inverted
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
        if self.pad.is_empty() or preprocess_digit_steps(self.pad.canvas_array()).empty:
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
        base_net, base_label = self._finetune_base
        net = result.get("net")
        if net is None:
            self.finetune_label.setText(f"Fine-tuning {result.get('status')}: {result.get('message') or 'no change'}")
        elif base_net is not self._net:
            self.finetune_label.setText("The fine-tuned copy was discarded: the network changed meanwhile.")
        else:
            # the base's MNIST accuracy no longer holds for the copy: the label drops it
            source = _ACCURACY.sub("", base_label.split(", fine-tuned")[0])
            mix = "MNIST + your digits" if result.get("mnist") else "your digits only"
            self._follow_app = False
            self._set(net, f"{source}, fine-tuned {result.get('steps')} steps on {mix}", bundled=False,
                      result=finetune_summary(result) + ". Save network… keeps it.")
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
        """Stop a fine-tuning run and the reader, waiting for their threads (call before the widget goes away)."""
        self._finetuner.shutdown()
        self._explain_timer.stop()
        self._reader.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
