"""A recurrent network at work on one sequence: its input and answer, its hidden state over time, the gradient per step.

Drawn from the ``"sequence"`` snapshot the worker sends
(:meth:`playground.engine.train.snapshots.SnapshotMaker._sequence`):

- the validation sequence's inputs over time (as lines, or as an image for
  many features such as one-hot characters), with the target and the
  network's answer;
- the first recurrent layer's hidden state, one row per unit, one column per
  time step (an LSTM's cell state below it): what the network remembers;
- the norm of the gradient that reached each time step in the last training
  batch, log scale, per recurrent layer: a plain RNN's falls off towards the
  start of the sequence (the vanishing gradient), an LSTM's much less.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from playground.ui.dashboard.plotting import class_color
from playground.ui.plotexport import add_save_menu
from playground.ui.plotlook import restyle

#: more input features than this are drawn as an image (T × F) instead of one line each
MAX_LINES = 4


def _diverging() -> pg.ColorMap:
    return pg.ColorMap([0.0, 0.5, 1.0], [(33, 102, 172), (247, 247, 247), (178, 24, 43)])


def answer_text(seq: Mapping[str, Any], class_names: tuple[str, ...] = ()) -> str:
    """'truth 1.23 · prediction 1.19' for regression; 'truth e · predicted e (93%)' for classes."""
    truth, pred = np.asarray(seq["truth"]), np.asarray(seq["pred"], dtype=float)
    if seq.get("classification"):
        k, t = int(np.argmax(pred)), int(truth.reshape(-1)[0])
        name = lambda i: class_names[i] if i < len(class_names) else str(i)  # noqa: E731
        return f"truth {name(t)} · predicted {name(k)} ({100 * pred[k]:.0f}%)"
    if truth.size == 1:
        return f"truth {float(truth.reshape(-1)[0]):.3f} · prediction {float(pred.reshape(-1)[0]):.3f}"
    return f"mean |error| per step {float(np.mean(np.abs(pred.reshape(truth.shape) - truth))):.3f}"


class SequenceView(QWidget):
    """Three stacked plots for one validation sequence; :meth:`set_sequence` with a snapshot."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.class_names: tuple[str, ...] = ()
        self.inputs = pg.PlotWidget()
        self.inputs.setTitle("One validation sequence", size="9pt")
        self.inputs.setLabel("bottom", "time step")
        self.inputs.setToolTip("The sequence the network reads, step by step; the target and the network's answer "
                               "are written above (and marked after the last step for one number).")
        self.answer = QLabel()
        self.answer.setToolTip("What the network should answer after reading the sequence, and what it answers")
        self.hidden = pg.PlotWidget()
        self.hidden.setTitle("Hidden state h_t (rows: units)", size="9pt")
        self.hidden.setLabel("bottom", "time step")
        self.hidden.setToolTip("The first recurrent layer's hidden state h_t for each unit (row) and time step "
                               "(column), blue −1 … red +1: what it carries forward. An LSTM's cell state c_t "
                               "(its long-term memory) is drawn below its h_t.")
        self.hidden_image = pg.ImageItem()
        self.hidden_image.setColorMap(_diverging())
        self.hidden.addItem(self.hidden_image)
        self.grads = pg.PlotWidget()
        self.grads.setTitle("Gradient reaching each step", size="9pt")
        self.grads.setLogMode(y=True)
        self.grads.setLabel("bottom", "time step")
        self.grads.setLabel("left", "‖∂L/∂h_t‖")
        self.grads.getAxis("left").enableAutoSIPrefix(False)
        self.grads.setToolTip("How much of the loss's gradient reaches the hidden state at each step, going back "
                              "through time: ∂L/∂h_t = ∂L/∂h_(t+1) · ∂h_(t+1)/∂h_t. A plain RNN multiplies by "
                              "Wh·diag(1 − h²) at every step, so it vanishes towards the start; an LSTM's cell "
                              "passes it through its forget gate.")
        self.grads.addLegend(offset=(-5, 5))
        self._grad_curves: dict[str, pg.PlotDataItem] = {}
        self._input_curves: list[pg.PlotDataItem] = []
        self._input_image = pg.ImageItem()
        self._input_image.setColorMap(pg.colormap.get("viridis"))
        self._marks = pg.ScatterPlotItem(size=9)
        self.inputs.addItem(self._marks)
        add_save_menu(self.inputs, "One validation sequence")
        add_save_menu(self.hidden, "Hidden state over time")
        add_save_menu(self.grads, "Gradient reaching each time step")
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.answer)
        for w in (self.inputs, self.hidden, self.grads):
            col.addWidget(w, 1)
        self.apply_look()

    def apply_look(self) -> None:
        for w in (self.inputs, self.hidden, self.grads):
            restyle(w)

    def set_data(self, data) -> None:
        """A new run on ``data``: forget the last sequence's pictures."""
        self.class_names = tuple(getattr(data, "class_names", ()) or ())
        self.answer.setText(f"{data.name}: the pictures appear after the first batches")
        for curve in self._input_curves:
            self.inputs.removeItem(curve)
        self._input_curves = []
        for curve in self._grad_curves.values():
            self.grads.removeItem(curve)
        self._grad_curves = {}
        self._marks.setData([], [])
        self.hidden_image.clear()
        self._input_image.clear()

    def set_sequence(self, seq: Mapping[str, Any]) -> None:
        x = np.asarray(seq["x"], dtype=np.float32)
        steps, features = x.shape
        text = answer_text(seq, self.class_names)
        if "sample" in seq:
            text += f" · goes on by itself: “{seq['prompt']}|{seq['sample']}”"
        self.answer.setText(text)
        self._draw_inputs(x, seq)
        hidden = np.asarray(seq["hidden"], dtype=np.float32)  # (T, H)
        picture = hidden if "cell" not in seq else np.concatenate(
            [hidden, np.full((steps, 1), np.nan, np.float32), np.tanh(np.asarray(seq["cell"], np.float32))], axis=1)
        self.hidden_image.setImage(np.nan_to_num(picture), levels=(-1.0, 1.0))
        self.hidden.setTitle("h_t above, tanh(c_t) below (rows: units)" if "cell" in seq
                             else "Hidden state h_t (rows: units)", size="9pt")
        for k, (name, norms) in enumerate(dict(seq.get("grad_norms", {})).items()):
            values = np.maximum(np.asarray(norms, dtype=float), 1e-30)
            curve = self._grad_curves.get(name)
            if curve is None:
                curve = self.grads.plot(pen=pg.mkPen(class_color(k), width=1), name=name)
                self._grad_curves[name] = curve
            curve.setData(np.arange(1, len(values) + 1), values)

    def _draw_inputs(self, x: np.ndarray, seq: Mapping[str, Any]) -> None:
        steps, features = x.shape
        if features > MAX_LINES:
            if self._input_image.scene() is None:
                self.inputs.addItem(self._input_image)
            self._input_image.setImage(x, levels=(float(x.min()), float(x.max()) or 1.0))
            self._input_image.setRect(0.5, 0, steps, features)
            self.inputs.setLabel("left", "feature")
            self._marks.setData([], [])
            return
        if self._input_image.scene() is not None:
            self.inputs.removeItem(self._input_image)
        while len(self._input_curves) < features:
            self._input_curves.append(self.inputs.plot(pen=pg.mkPen(class_color(len(self._input_curves)), width=1)))
        t = np.arange(1, steps + 1)
        for f, curve in enumerate(self._input_curves):
            curve.setData(t, x[:, f])
        self.inputs.setLabel("left", "input")
        truth = np.asarray(seq["truth"]).reshape(-1)
        pred = np.asarray(seq["pred"], dtype=float).reshape(-1)
        if not seq.get("classification") and truth.size == 1:
            self._marks.setData([steps + 1, steps + 1], [float(truth[0]), float(pred[0])],
                                brush=[pg.mkBrush(40, 160, 40), pg.mkBrush(200, 60, 60)],
                                symbol=["o", "x"])
        else:
            self._marks.setData([], [])
