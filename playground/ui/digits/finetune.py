"""Fine-tune a copy of the reading network on MNIST plus the user's own digits, in the worker thread.

The copy belongs to the worker while it trains; the pad keeps reading with
the original. When the run ends the copy is handed back in ``finished`` and
the widget swaps it in. Each batch mixes MNIST training digits (so the
network does not forget them) with the user's digits, repeated so they make
up about a quarter of every batch, slightly warped by augmentation.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from playground.engine.data.datasets import Dataset
from playground.engine.errors import PlaygroundError
from playground.engine.data.mnist import load_mnist
from playground.engine.nn.network import Network, copy_network
from playground.ui.worker import TrainingSession
from playground.ui.digits.store import UserDigitStore

#: share of every batch taken from the user's digits
USER_SHARE = 0.25
AUGMENT = {"rotate": 8.0, "scale": 0.1, "shift": 1.0}


class FineTuner(QObject):
    """One fine-tuning run at a time.

    ``progress(dict)``: ``{"step", "steps", "probs"}``, probs being the copy's
    prediction for the drawing the run started with.
    ``finished(dict)``: ``{"status", "message", "net" (the fine-tuned copy, or
    None unless finished), "before", "after" (probabilities for that drawing),
    "steps", "mnist" (whether MNIST was mixed in), "user_accuracy_before",
    "user_accuracy_after"}``.
    """

    progress = Signal(object)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None, mnist_dir: str | os.PathLike | None = None):
        super().__init__(parent)
        self.mnist_dir = mnist_dir
        self._mnist: tuple[np.ndarray, np.ndarray] | None = None
        self._mnist_error = ""
        self._session: TrainingSession | None = None
        self._run: dict[str, Any] = {}

    def is_running(self) -> bool:
        return self._session is not None

    def _load_mnist(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._mnist is None and not self._mnist_error:
            try:
                self._mnist = load_mnist(self.mnist_dir, "train")
            except PlaygroundError as e:
                self._mnist_error = str(e)
        return self._mnist

    def start(self, net: Network, store: UserDigitStore, x_current: np.ndarray | None, steps: int,
              batch_size: int = 32, lr: float = 3e-4, seed: int = 0) -> str:
        """Start; return "" or a message saying why it cannot start (or a warning prefixed "warning: ")."""
        if self._session is not None:
            return "a fine-tuning run is already going"
        try:
            xu, yu = store.arrays()
        except PlaygroundError as e:
            return f"cannot read your digits: {e}"
        if len(xu) == 0:
            return "save at least one of your own digits first (type the right digit, then Save)"
        shape = (1,) + tuple(net.input_shape)
        xu = xu.reshape((len(xu),) + tuple(net.input_shape)).astype(net.dtype)
        n_total = max(1, int(steps)) * batch_size
        rng = np.random.default_rng(seed)
        n_user = max(1, round(n_total * USER_SHARE))
        pick_u = np.resize(rng.permutation(len(xu)), n_user)
        mnist = self._load_mnist()
        warning = ""
        if mnist is not None:
            xm, ym = mnist
            pick_m = rng.choice(len(xm), n_total - n_user, replace=False)
            x = np.concatenate([xm[pick_m].reshape((-1,) + tuple(net.input_shape)).astype(net.dtype), xu[pick_u]])
            y = np.concatenate([ym[pick_m], yu[pick_u]])
        else:
            pick_u = np.resize(rng.permutation(len(xu)), n_total)
            x, y = xu[pick_u], yu[pick_u]
            warning = ("warning: MNIST was not found, so only your digits are used; the network may "
                       f"forget the others. ({self._mnist_error})")
        data = Dataset(x, y, xu, yu, "classification", 10, tuple(net.input_shape), "mnist+my-digits",
                       tuple(str(d) for d in range(10)))
        config = {"optimizer": {"type": "adam", "lr": lr}, "batch_size": batch_size, "epochs": 1,
                  "seed": seed, "augment": AUGMENT if len(net.input_shape) == 3 else None}
        xc = None if x_current is None else np.asarray(x_current, net.dtype).reshape(shape).copy()
        twin = copy_network(net)

        def snapshot(n: Network) -> Any:  # runs in the worker, on the copy it owns
            return None if xc is None else n.predict(xc)[0]

        self._run = {"steps": -(-len(x) // batch_size), "x": xc, "mnist": mnist is not None,
                     "before": None if xc is None else net.predict(xc)[0],
                     "user_accuracy_before": _accuracy(net, xu, yu), "twin": twin, "xu": xu, "yu": yu}
        try:
            session = TrainingSession(twin, data, config, parent=self, snapshot_fn=snapshot, max_rate_hz=15)
        except PlaygroundError as e:
            self._run = {}
            return f"cannot fine-tune this network: {e}"
        session.progress.connect(self._on_progress)
        session.ended.connect(self._on_ended)
        self._session = session
        session.start()
        return warning

    def stop(self) -> None:
        if self._session is not None:
            self._session.stop()

    def shutdown(self, ms: int = 10000) -> bool:
        """Cancel and wait for the worker (for closing the window)."""
        if self._session is None:
            return True
        return self._session.shutdown(ms)

    def _on_progress(self, snap: dict) -> None:
        self.progress.emit({"step": snap["steps"][-1], "steps": self._run.get("steps", 0),
                            "probs": snap.get("extra")})

    def _on_ended(self, result: dict) -> None:
        session, run = self._session, self._run
        if session is not None:
            session.wait()
            session.deleteLater()
        self._session = None
        self._run = {}
        twin = run.get("twin")
        ok = result.get("status") == "finished" and twin is not None
        xc = run.get("x")
        self.finished.emit({
            "status": result.get("status"), "message": result.get("message", ""),
            "net": twin if ok else None, "steps": run.get("steps", 0), "mnist": run.get("mnist", False),
            "before": run.get("before"), "after": twin.predict(xc)[0] if (ok and xc is not None) else None,
            "user_accuracy_before": run.get("user_accuracy_before"),
            "user_accuracy_after": _accuracy(twin, run["xu"], run["yu"]) if ok else None,
        })


def _accuracy(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    if len(x) == 0:
        return float("nan")
    return float(np.mean(net.predict(x).argmax(axis=1) == y))
