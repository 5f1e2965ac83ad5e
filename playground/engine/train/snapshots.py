"""What the dashboard asks the training worker to compute between batches (no Qt here).

:class:`SnapshotMaker` is the ``snapshot_fn`` of a training session
(:mod:`playground.ui.worker`). It runs beside the trainer, in the worker
process or thread, where the network may be read safely, and
returns plain data: class probabilities on a grid (2-D classification), the
fitted curve (1-D regression), validation predictions for the confusion matrix,
and a copy of the network the GUI thread may use freely. At an epoch's end the
confusion matrix is made from the trainer's own validation pass
(:meth:`SnapshotMaker.from_val_predictions`, which the session's relay calls);
when the user pauses or stops mid-epoch, from a pass of its own.

Expensive parts are throttled by time, so a tiny network that finishes an
epoch every few milliseconds does not spend its time drawing pictures, and
are always computed when the user pauses or stops (then the picture must be
exact). The plane's pictures (the decision boundary from a 100 × 100 grid,
the unit heatmaps from a 48 × 48 one, each one batched forward pass) also
wait long enough that each takes at most :data:`PLANE_SHARE` of the worker's
time however slow a pass gets on a busy machine (so there the boundary, four
times the points, slows down first and the heatmaps keep their pace), and
run OpenBLAS on one thread: a grid of a few thousand points gains nothing
from a second thread, and on shared cores waiting for it made a pass 10 to
20 times slower. The validation pass for MNIST gives up as soon as Stop is pressed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
from threadpoolctl import ThreadpoolController

from playground.engine.data.features import feature_matrix
from playground.engine.metrics import confusion_matrix, predicted_labels
from playground.engine.nn.network import Network
from playground.engine.data.sequences import ALPHABET, sample_text
from playground.engine.nn.recurrent import RecurrentLayer
from playground.engine.train.remote import packed_network
from playground.engine.train.trainer import EVAL_BATCH
from playground.engine.train.unit_maps import UnitMaps, plane_bounds as plot_bounds, plane_points

#: characters a text network writes on its own in the sequence picture
SAMPLE_CHARS = 40
SCATTER_POINTS = 400  # validation samples in a regression's prediction-against-truth scatter
GRID = 100  # decision-boundary resolution (GRID × GRID predictions)
FIT_POINTS = 200
#: the largest share of the worker's time each of the plane's pictures may take (the rest trains)
PLANE_SHARE = 0.05

_blas: ThreadpoolController | None = None


def one_blas_thread():
    """A context in which OpenBLAS runs on one thread (entered in about 10 µs)."""
    global _blas
    if _blas is None:
        _blas = ThreadpoolController()
    return _blas.limit(limits=1, user_api="blas")


@dataclass
class Throttle:
    """True at most once per ``period`` seconds (unless forced).

    With a ``share``, the work let through waits longer when it is slow: after
    :meth:`spent` says it took ``d`` seconds, the next is due ``d / share``
    seconds later at the soonest, so it never takes more than ``share`` of the time.
    """

    period: float
    share: float = 0.0
    last: float = -1e9
    cost: float = 0.0

    def wait(self) -> float:
        """Seconds from one pass to the next."""
        return max(self.period, self.cost / self.share) if self.share else self.period

    def due(self, force: bool = False) -> bool:
        now = time.monotonic()
        if force or now - self.last >= self.wait():
            self.last = now
            return True
        return False

    def spent(self, seconds: float) -> None:
        """The pass just let through took ``seconds``."""
        self.cost = seconds


class SnapshotMaker:
    """``snapshot_fn(net) -> dict`` for one run; called only from the worker thread.

    ``context()`` returns ``(last_logs, paused, cancelled)`` at the moment of the
    call: ``last_logs`` are the newest batch logs (``batch == batches`` at an
    epoch's end).

    The returned dict may hold:

    - ``"boundary"``: ``{"probs": (GRID, GRID, K) float32, "bounds": (x0, x1, y0, y1)}``,
      row ``i`` is the i-th x2 value, column ``j`` the j-th x1 value
    - ``"fit"``: ``{"x": (FIT_POINTS,), "y": (FIT_POINTS,)}``
    - ``"scatter"`` (any other regression, such as a sequence set): ``{"true": (n,), "pred": (n,)}``, the
      targets and predictions of up to :data:`SCATTER_POINTS` validation samples
    - ``"confusion"``: ``{"matrix": (K, K) int64 m[true, pred], "pred": (N_val,), "epoch": float}``
    - ``"sequence"`` (a sequence set and a recurrent network): for one validation sequence, its inputs
      ``x`` (T, F), the target ``truth`` and the network's ``pred`` (per step for a sequence output), the
      first recurrent layer's hidden state ``hidden`` (T, H) (and an LSTM's ``cell``), and per recurrent
      layer ``grad_norms`` (T,): the gradient that reached each time step in the last training batch
    - ``"units"``: every unit's output over the plane (see :class:`~.unit_maps.UnitMaps`), when asked
      for with ``units=True`` on 2-D points
    - ``"network"``: the network as :func:`~.remote.packed_network` data, which the session turns
      back into a Network of the GUI's own (:func:`~.remote.unpack_extra`)
    """

    def __init__(self, data: Any, context: Callable[[], tuple[Mapping[str, Any], bool, bool]],
                 epochs: int = 0, boundary_period: float = 0.15, network_period: float = 0.5,
                 units: bool = False):
        self.data = data
        self.epochs = epochs
        self.context = context
        self.classification = data.kind == "classification"
        shape = tuple(data.input_shape)
        plane = bool(getattr(data, "features", ())) or shape == (2,)
        self.want_boundary = self.classification and plane
        self.want_fit = (not self.classification) and shape == (1,) and data.y_train.shape[1:] == (1,)
        self.want_sequence = len(shape) == 2
        if self.want_sequence:
            source_x, source_y = (data.x_val, data.y_val) if len(data.x_val) else (data.x_train, data.y_train)
            self.seq_x, self.seq_y = source_x[:1], source_y[:1]
        self.want_scatter = not self.classification and not self.want_fit and len(data.x_val) > 0
        self._boundary = Throttle(boundary_period)
        self._plane = Throttle(boundary_period, PLANE_SHARE)  # the decision boundary
        self._network = Throttle(network_period)
        self._units = Throttle(boundary_period, PLANE_SHARE)
        self.unit_maps = UnitMaps(data) if units and plane else None
        if self.want_boundary:
            self.bounds = plot_bounds(plane_points(data))
            x0, x1, y0, y1 = self.bounds
            gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
            self.grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
            if getattr(data, "features", ()):
                self.grid = feature_matrix(self.grid, data.features)
        if self.want_fit:
            allx = np.concatenate([data.x_train, data.x_val]) if len(data.x_val) else data.x_train
            lo, hi = float(allx.min()), float(allx.max())
            pad = 0.05 * max(hi - lo, 1e-6)
            self.fit_x = np.linspace(lo - pad, hi + pad, FIT_POINTS, dtype=np.float32)
        # the validation pass of a large set is split so Stop is noticed between chunks (and 100
        # images at a time are faster than 500: see trainer.EVAL_BATCH)
        self.val_chunk = EVAL_BATCH

    def __call__(self, net: Network) -> dict[str, Any]:
        last, paused, cancelled = self.context()
        epoch_end = bool(last) and last.get("batch") == last.get("batches")
        # the pictures must be exact when the user looks closely: paused, stopped, or the last epoch done
        exact = paused or cancelled or (epoch_end and last.get("epoch") == self.epochs)
        out: dict[str, Any] = {"epoch_end": epoch_end}
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.want_boundary and self._plane.due(exact):
                began = time.perf_counter()
                with one_blas_thread():
                    probs = self._probabilities(net, self.grid)
                self._plane.spent(time.perf_counter() - began)
                out["boundary"] = {"probs": probs.reshape(GRID, GRID, -1), "bounds": self.bounds}
            if self.unit_maps is not None and self._units.due(exact):
                began = time.perf_counter()
                with one_blas_thread():
                    out["units"] = self.unit_maps(net)
                self._units.spent(time.perf_counter() - began)
            if self.want_fit and self._boundary.due(exact):
                out["fit"] = {"x": self.fit_x, "y": net.predict(self.fit_x[:, None]).reshape(-1)}
            # a recurrent network on a sequence set shows one sequence; any other regression a scatter
            if (self.want_sequence or self.want_scatter) and self._boundary.due(exact):
                seq = self._sequence(net) if self.want_sequence else None
                if seq is not None:
                    out["sequence"] = seq
                elif self.want_scatter:
                    x, y = self.data.x_val[:SCATTER_POINTS], self.data.y_val[:SCATTER_POINTS]
                    out["scatter"] = {"true": np.asarray(y, np.float32).reshape(-1),
                                      "pred": np.asarray(net.predict(x), np.float32).reshape(-1)}
            # at an epoch's end the trainer predicts the validation set anyway: the confusion matrix
            # comes from those predictions (from_val_predictions), not from a second pass here
            if self.classification and len(self.data.x_val) and exact and not epoch_end:
                cm = self._confusion_matrix(net)
                if cm is not None:
                    cm["epoch"] = float(last.get("epoch", 0) - 1 + last.get("batch", 0) / max(last.get("batches", 1), 1)) \
                        if last else 0.0
                    out["confusion"] = cm
        if (exact or epoch_end) and self._network.due(exact):
            out["network"] = packed_network(net)  # the session rebuilds it: one copy, not two
        return out

    def from_val_predictions(self, pred: np.ndarray, epoch: int) -> dict[str, Any]:
        """The pictures made from the trainer's validation predictions after ``epoch``: the confusion matrix."""
        if not (self.classification and len(self.data.x_val)):
            return {}
        k = int(self.data.n_classes or 2)
        pred = np.clip(np.asarray(pred).reshape(-1), 0, k - 1)
        return {"confusion": {"matrix": confusion_matrix(pred, self.data.y_val, k), "pred": pred,
                              "epoch": float(epoch)}}

    # ------------------------------------------------------------------ parts

    def _probabilities(self, net: Network, x: np.ndarray) -> np.ndarray:
        return self._two_columns(net.predict(x, batch_size=len(x)).astype(np.float32))

    @staticmethod
    def _two_columns(p: np.ndarray) -> np.ndarray:
        if p.shape[1] == 1:  # a single sigmoid output: P(class 1)
            p = np.concatenate([1 - p, p], axis=1)
        return np.nan_to_num(p)

    def _sequence(self, net: Network) -> dict[str, Any] | None:
        recurrent = [layer for layer in net.layers if isinstance(layer, RecurrentLayer)]
        if not recurrent:
            return None
        # the norms come from the last training batch's backward pass: read them before this forward
        norms = {layer.name: np.asarray(layer.step_grad_norms, dtype=np.float32).copy() for layer in recurrent}
        pred = net.predict(self.seq_x, batch_size=1)[0]
        first = recurrent[0]
        out = {"x": self.seq_x[0], "truth": np.asarray(self.seq_y[0]), "pred": np.asarray(pred, dtype=np.float32),
               "hidden": first.hs[0].copy(), "layer": first.name, "grad_norms": norms,
               "classification": self.classification}
        if hasattr(first, "cs"):
            out["cell"] = first.cs[0].copy()
        if self.data.name == "counting-text":
            # what the network writes when it goes on from this window by itself, one character at a time
            prompt = "".join(ALPHABET[i] for i in self.seq_x[0].argmax(axis=1))
            out["prompt"], out["sample"] = prompt, sample_text(net, prompt, SAMPLE_CHARS)
        return out

    def _confusion_matrix(self, net: Network) -> dict[str, Any] | None:
        x, y = self.data.x_val, self.data.y_val
        preds = []
        for i in range(0, len(x), self.val_chunk):
            if i and self.context()[2]:  # stopped: give the thread back at once
                return None
            preds.append(predicted_labels(net.predict(x[i:i + self.val_chunk], batch_size=self.val_chunk)))
        pred = np.concatenate(preds)
        k = int(self.data.n_classes or 2)
        pred = np.clip(pred, 0, k - 1)
        return {"matrix": confusion_matrix(pred, y, k), "pred": pred}
