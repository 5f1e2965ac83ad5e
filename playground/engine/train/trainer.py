"""Mini-batch training with events, pause/resume/cancel/step between batches.

Progress is reported through callbacks with flat ``logs`` dicts::

    on_train_begin(logs)              # {"epochs", "batches", "samples", ...}
    on_batch_end(step, logs)          # loss, accuracy, lr, epoch, batch, [grad_norm/…, act_…/…]
    on_val_predictions(epoch, pred)   # the validation labels predicted, just before on_epoch_end, for a
                                      # classifier and a callback whose wants_val_predictions is true
    on_epoch_end(epoch, logs)         # loss, accuracy, running_loss, running_accuracy, val_loss,
                                      # val_accuracy, lr, seconds, samples, …
    on_warning(message)
    on_train_end(logs)                # {"status": "finished" | "cancelled" | "diverged", "message": …}

An epoch's ``loss`` and ``accuracy`` are measured after its last batch in
inference mode (dropout off, batch normalization with its running statistics)
on up to :data:`TRAIN_MEASURE_SAMPLES` training samples; ``running_loss`` and
``running_accuracy`` are the means over the epoch's batches as they trained
(dropout on, the weights still changing).

Each method is optional. Histograms of activations (arrays, not numbers) come
in ``logs["histograms"]`` on the batches where statistics are gathered.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from playground.engine.data.augment import augment_images, check_augment
from playground.engine.checks import brief, nesting_depth, real_number, whole_number
from playground.engine.errors import SpecError
from playground.engine.nn.activations import ReLU
from playground.engine.train.memory import keep_freed_memory
from playground.engine.metrics import predicted_labels
from playground.engine.nn.fused import Recorder
from playground.engine.nn.network import SHARD_MIN_BATCH, Network, seed_streams
from playground.engine.nn.optimizers import AdamW, clip_by_global_norm, get_optimizer, get_schedule
from playground.engine.train.parallel import shard_pool, worker_threads
from playground.engine.train import halfbatch
from playground.engine.train.halfbatch import HalfBatchHelper, HelperError



#: samples per forward pass when evaluating: a convnet's unfolded patches of 100 images
#: (6 MB for simple-convnet) stay in cache, and 10,000 images take 0.4 s instead of 0.57 s with 1000
EVAL_BATCH = 100
#: an epoch's training loss and accuracy are measured on at most this many training samples (a fixed
#: random choice of them, from the seed, on a bigger set): one forward pass, batched like validation
TRAIN_MEASURE_SAMPLES = 10_000
#: whole-number training settings and their ranges (the caps keep a typo like 1e308 epochs from running for ever)
WHOLE_SETTINGS = {"batch_size": (1, 1_000_000), "epochs": (1, 1_000_000), "seed": (0, 2 ** 63 - 1),
                  "stats_every": (0, 1_000_000)}

@dataclass
class TrainConfig:
    """Everything about how a network learns (the project's ``training`` section)."""

    optimizer: dict = field(default_factory=lambda: {"type": "adam", "lr": 0.001})
    schedule: dict | None = None
    batch_size: int = 100
    epochs: int = 5
    seed: int = 0
    weight_decay: float = 0.0
    clip_norm: float | None = None
    #: gather gradient norms and activation statistics every N batches (0: at epoch ends only)
    stats_every: int = 0
    #: random warps of training images, e.g. {"rotate": 10, "shift": 2} (see augment.py)
    augment: dict | None = None

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any] | None) -> "TrainConfig":
        if cfg is not None and not isinstance(cfg, Mapping):
            raise SpecError(f"the training settings must be a JSON object, got {brief(cfg)}")
        cfg = dict(cfg or {})
        known = set(cls.__dataclass_fields__)
        unknown = set(cfg) - known
        if unknown:
            raise SpecError(f"unknown training settings {brief(sorted(map(str, unknown)))}; known: {sorted(known)}")
        out = cls(**cfg)
        out.validate()
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        for name, (lo, hi) in WHOLE_SETTINGS.items():
            setattr(self, name, whole_number(getattr(self, name), f"training setting '{name}'", lo, hi))
        self.weight_decay = real_number(self.weight_decay, "training setting 'weight_decay'", 0.0)
        if self.clip_norm is not None:
            self.clip_norm = real_number(self.clip_norm, "training setting 'clip_norm' (or null)", 0.0,
                                         low_open=True)
        for name in ("optimizer", "schedule", "augment"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, (str, Mapping)):
                raise SpecError(f"training setting '{name}' must be a name or a JSON object, got {brief(value)}")
            if isinstance(value, Mapping) and nesting_depth(dict(value)) > 2:
                raise SpecError(f"training setting '{name}' must be an object of plain values, got {brief(value)}")
        opt = get_optimizer(self.optimizer)
        get_schedule(self.schedule, opt.lr)
        check_augment(self.augment)


class TrainControl:
    """Thread-safe pause/resume/cancel/step token, checked between batches."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._cancelled = False
        self._steps = 0
        self._blocked = False
        self._optimizer: dict[str, float] = {}  # optimizer settings to apply before the next batch
        #: called (in the training thread, without the lock) when :meth:`wait` starts to block,
        #: and again every quarter second while it blocks
        self.on_block: Callable[[], None] | None = None

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def cancel(self) -> None:
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        """While paused, let ``n`` more batches run."""
        with self._cond:
            self._paused = True
            self._steps += n
            self._cond.notify_all()

    def set_optimizer(self, settings: Mapping[str, float]) -> None:
        """Change optimizer settings (``lr``, ``momentum``, ``beta1``, ...) from the next batch on."""
        with self._cond:
            self._optimizer.update(settings)

    def take_optimizer(self) -> dict[str, float]:
        """The optimizer settings changed since the last call (empty when none), forgotten here."""
        with self._cond:
            changes, self._optimizer = self._optimizer, {}
        return changes

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def blocked(self) -> bool:
        """True while the trainer waits in :meth:`wait` (paused between batches)."""
        return self._blocked

    def wait(self) -> bool:
        """Block while paused; return False if cancelled."""
        with self._cond:
            while self._paused and not self._cancelled and self._steps == 0:
                self._blocked = True
                if self.on_block is not None:
                    # outside the lock: it may report (pipe I/O) while Resume or Stop come in
                    self._cond.release()
                    try:
                        self.on_block()
                    finally:
                        self._cond.acquire()
                    if not (self._paused and not self._cancelled and self._steps == 0):
                        break
                self._cond.wait(0.25)
            self._blocked = False
            if self._steps:
                self._steps -= 1
            return not self._cancelled


def _call(callbacks, method: str, *args) -> None:
    for cb in callbacks:
        fn = getattr(cb, method, None)
        if fn is not None:
            fn(*args)


class Trainer:
    """Train ``net`` on ``data`` (an object with x_train, y_train, x_val, y_val, kind)."""

    def __init__(self, net: Network, data: Any, config: TrainConfig | Mapping[str, Any] | None = None,
                 control: TrainControl | None = None, callbacks: list | None = None, threads: int | None = None,
                 stats_min_seconds: float = 0.0):
        self.net = net
        #: statistics (every ``stats_every`` batches) are gathered at most once per this many seconds: a window
        #: drawing them 10 times a second needs no more, and a small network's batches of a quarter of a
        #: millisecond would otherwise spend a fifth of their time on statistics nobody sees
        self.stats_min_seconds = float(stats_min_seconds)
        self._last_stats = -math.inf
        #: CPUs this training may use (None: :func:`worker_threads`); 1 keeps it on one core, as a
        #: search that runs one trial per core wants, and gives the same numbers on every machine
        self.threads = threads
        self.data = data
        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        self.config.validate()
        self.control = control or TrainControl()
        self.callbacks = list(callbacks or [])
        self.optimizer = get_optimizer(self.config.optimizer)
        self.schedule = get_schedule(self.config.schedule, self.optimizer.lr)
        # AdamW decays weights itself (decoupled); the others see weight decay as L2 in the loss
        if isinstance(self.optimizer, AdamW):
            if self.config.weight_decay:
                self.optimizer.weight_decay = self.config.weight_decay
            net.weight_decay = 0.0
        else:
            net.weight_decay = float(self.config.weight_decay)
        streams = seed_streams(self.config.seed)
        self.rng = streams["shuffle"]
        self.augment = check_augment(self.config.augment)
        self.augment_rng = streams["extra"]
        n = len(data.x_train)
        #: the training samples each epoch's loss and accuracy are measured on (None: all of them), in order
        self.measure_rows = None if n <= TRAIN_MEASURE_SAMPLES \
            else np.sort(streams["measure"].choice(n, TRAIN_MEASURE_SAMPLES, replace=False))
        self.classification = getattr(data, "kind", "classification") == "classification"
        self.history: list[dict[str, Any]] = []
        self.step = 0
        keep_freed_memory()

    # ------------------------------------------------------------------ run
    def run(self) -> list[dict[str, Any]]:
        """Train for the configured epochs; return the per-epoch logs."""
        net, cfg, data = self.net, self.config, self.data
        x = data.x_train
        n = x.shape[0]
        if n == 0:
            raise SpecError("the training set is empty")
        if x.shape[1:] != net.input_shape:
            net._check_input(x[:1])
        bs = min(cfg.batch_size, n)
        batches = math.ceil(n / bs)
        self._stat_layers = [l.name for l in net.activation_layers()]
        _call(self.callbacks, "on_train_begin", {"epochs": cfg.epochs, "batches": batches, "samples": n,
                                                 "batch_size": bs, "params": net.param_count()})
        dead = net.zero_gradient_layers()
        if dead:
            _call(self.callbacks, "on_warning",
                  f"{', '.join(dead)}: the Step function's gradient is zero everywhere, so no layer before it "
                  f"can learn by backpropagation; use Sigmoid or ReLU to train, Step to demonstrate why")
        with contextlib.ExitStack() as stack:
            self._helper = self._start_helper(stack, bs)
            # the optimizer's view of the parameters: flat pieces, as the helper splits them when there is one
            self._pgd = self._helper.optimizer_arrays() if self._helper else net.optimizer_arrays()
            try:
                status, message = self._epochs(batches, bs)
            finally:
                self._pgd = None  # views of the helper's shared block, which closes now
        end = {"status": status, "message": message, "epochs_done": len(self.history), "steps": self.step}
        _call(self.callbacks, "on_train_end", end)
        self.status = end
        return self.history

    def _start_helper(self, stack: contextlib.ExitStack, bs: int) -> HalfBatchHelper | None:
        """A process for the second half of each batch of a dense network, when it is worth one
        (see :mod:`.halfbatch`); None, with a warning when it could not start, otherwise."""
        self._helper_warned = False
        if not halfbatch.worth_it(self.net, bs, self._threads()):
            return None
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # declared as a dependency; without it the batches are simply not split
            return None
        try:
            helper = stack.enter_context(HalfBatchHelper(self.net, bs, self.data.y_train[:1], self.optimizer))
        except (HelperError, OSError) as e:
            _call(self.callbacks, "on_warning", f"training runs on one core: {e}")
            return None
        # OpenBLAS on one thread here too: the helper has the other core, and both halves get the same numbers
        stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
        return helper

    def _epochs(self, batches: int, bs: int) -> tuple[str, str]:
        net, cfg, data = self.net, self.config, self.data
        n = data.x_train.shape[0]
        status, message = "finished", ""
        for epoch in range(cfg.epochs):
            perm = self.rng.permutation(n)
            # no thread (and OpenBLAS keeps its threads) when no batch is big enough to be split
            with shard_pool(net.shardable and bs >= SHARD_MIN_BATCH, self._threads()) as pool:
                status, message, seconds, loss_sum, correct, seen = self._epoch(epoch, perm, batches, bs, pool)
            if status == "cancelled":
                break  # a stop ends at once: no validation pass over a partial epoch
            blown = self._blown_up() if status == "finished" else None
            if blown:
                lr = self.optimizer.lr
                status = "diverged"
                message = (f"{blown} became NaN or infinite in epoch {epoch + 1}: the weights blew up. Try a "
                           f"smaller learning rate (now {lr:g}; try {lr / 10:g}), gradient clipping, or batch "
                           f"normalization")
            ep = {"epoch": epoch + 1, "samples": int(seen), "running_loss": loss_sum / max(seen, 1),
                  "running_accuracy": correct / seen if (self.classification and seen) else None,
                  "lr": self.optimizer.lr, "seconds": seconds}
            if status == "diverged":
                break
            # what the network has learnt, as it will be used: the running means above mix every
            # state of the weights in the epoch, and with dropout they measure a thinned network;
            # on two threads of one BLAS thread each, as training (OpenBLAS's own two threads would
            # wait for each other, twice as slow as one when another program has a core busy)
            with shard_pool(net.shardable, self._threads()) as pool:
                train = evaluate(self.net, data.x_train, data.y_train, self.classification, rows=self.measure_rows,
                                 pool=pool)
                # a callback that shows the validation predictions (a confusion matrix) gets them from this
                # pass instead of predicting the validation set a second time
                takers = [c for c in self.callbacks if getattr(c, "wants_val_predictions", False)] \
                    if self.classification else []
                val = self.evaluate(data.x_val, data.y_val, prefix="val_", return_predictions=bool(takers),
                                    pool=pool)
            ep.update(loss=train["loss"], accuracy=train["accuracy"])
            predictions = val.pop("predictions", None)
            ep.update(val)
            if status == "finished" and not cfg.stats_every:
                ep.update(self._grad_norms())
            self.history.append(ep)
            if predictions is not None:
                _call(takers, "on_val_predictions", epoch + 1, predictions)
            _call(self.callbacks, "on_epoch_end", epoch + 1, ep)
            if status != "finished":
                break
        return status, message

    def _epoch(self, epoch: int, perm: np.ndarray, batches: int, bs: int,
               pool) -> tuple[str, str, float, float, float, float]:
        """One epoch's batches: (status, message, seconds, loss sum, correct, seen)."""
        net, cfg = self.net, self.config
        x, y = self.data.x_train, self.data.y_train
        params, grads, decay = self._pgd
        status, message = "finished", ""
        seconds = loss_sum = correct = seen = 0.0
        for b in range(batches):
            if not self.control.wait():
                # where it stopped is where the last batch trained ended, as the progress reports say
                last = (epoch + 1, b) if b else (epoch, batches)
                status, message = "cancelled", (f"stopped by request after epoch {last[0]}, batch {last[1]}"
                                                if self.step else "stopped by request before the first batch")
                break
            changed = self._apply_optimizer(self.control.take_optimizer())
            t0 = time.perf_counter()
            idx = perm[b * bs:(b + 1) * bs]
            xb, yb = x[idx], y[idx]
            if self.augment and xb.ndim == 4:
                xb = augment_images(xb, self.augment_rng, self.augment)
            lr = self.schedule.lr_at(epoch + b / batches, cfg.epochs)
            self.optimizer.lr = lr
            want_stats = bool(cfg.stats_every and self.step % cfg.stats_every == 0
                              and t0 - self._last_stats >= self.stats_min_seconds)
            if want_stats:
                self._last_stats = t0
            record = Recorder(self._stat_layers) if want_stats else None
            # overflow is detected below from the loss itself, with a message that says what to do
            helper = self._helper
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss, reg, out = net.loss_and_grads(xb, yb, training=True, record=record, pool=helper or pool)
            total_loss = loss + reg
            if not math.isfinite(total_loss):
                status = "diverged"
                message = (f"the loss became {total_loss} in epoch {epoch + 1}, batch {b + 1}: the weights "
                           f"blew up. Try a smaller learning rate (now {lr:g}; try {lr / 10:g}), gradient "
                           f"clipping, or batch normalization")
                break
            logs: dict[str, Any] = {"epoch": epoch + 1, "batch": b + 1, "batches": batches, "lr": lr,
                                    "loss": total_loss}
            if changed:
                logs["optimizer_changed"] = changed
            if want_stats:
                logs.update(self._grad_norms())
            if cfg.clip_norm:
                logs["grad_norm"] = clip_by_global_norm(grads, cfg.clip_norm)
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is found at the epoch's end
                self.optimizer.update(params, grads, decay, helper or pool)
            if helper is not None and helper.failure and not self._helper_warned:
                # the batches are still split, now computed here (see halfbatch.py)
                self._helper_warned = True
                _call(self.callbacks, "on_warning", f"training goes on on one core: {helper.failure}")
            seconds += time.perf_counter() - t0
            m = xb.shape[0]
            loss_sum += total_loss * m
            seen += m
            if self.classification:
                hits = float(np.sum(predicted_labels(self._probs_for_accuracy(out)) == _labels(yb)))
                correct += hits
                logs["accuracy"] = hits / m
            if want_stats:
                logs.update(self._activation_stats(record, logs))
            self.step += 1
            _call(self.callbacks, "on_batch_end", self.step, logs)
        return status, message, seconds, loss_sum, correct, seen

    # ------------------------------------------------------------------ helpers
    def _apply_optimizer(self, changes: Mapping[str, Any]) -> dict[str, float]:
        """Apply optimizer settings changed during the run (see :meth:`TrainControl.set_optimizer`);
        return those applied. ``lr`` becomes the schedule's base rate, so a schedule goes on from it.
        Settings the optimizer does not have, or values it refuses, are skipped with a warning."""
        if not changes:
            return {}
        opt = self.optimizer
        try:
            checked = get_optimizer({**opt.get_config(), **changes})
        except SpecError as e:
            _call(self.callbacks, "on_warning", f"the optimizer settings were not changed: {e}")
            return {}
        applied = {}
        for key in changes:
            value = float(getattr(checked, key))
            if key == "lr":
                self.schedule.base_lr = value
            else:
                setattr(opt, key, value)
            applied[key] = value
        return applied

    def _blown_up(self) -> str | None:
        """What holds NaN or an infinity: a weight, or the optimizer's state (Adam's squared gradients
        overflow while the weights stay finite and stop moving), or None when all is finite."""
        for layer in self.net.layers:
            for key, arr in {**layer.params, **layer.state}.items():
                if not np.isfinite(arr).all():
                    return f"the weight {layer.name}.{key}"
        for key, slots in self.optimizer.state.items():
            for slot, arr in slots.items():
                if slot != "tmp" and arr.dtype.kind == "f" and not np.isfinite(arr).all():
                    return f"the optimizer's state ({slot})"
        return None

    def _threads(self) -> int:
        return worker_threads() if self.threads is None else self.threads

    def _probs_for_accuracy(self, out: np.ndarray) -> np.ndarray:
        # logits of a fused sigmoid: threshold at 0 ⇔ probability 0.5
        if out.shape[1] == 1 and self.net.fused_tail:
            return out > 0
        return out

    def evaluate(self, x: np.ndarray | None, y: np.ndarray | None, prefix: str = "",
                 batch_size: int = EVAL_BATCH, return_predictions: bool = False,
                 pool: Executor | None = None) -> dict[str, Any]:
        """Loss (with regularization) and accuracy or regression metrics on (x, y); with ``pool`` (see
        :func:`evaluate`) every other batch on its thread."""
        if x is None or y is None or len(x) == 0:
            return {}
        return evaluate(self.net, x, y, self.classification, prefix, batch_size, return_predictions, pool=pool)

    def _grad_norms(self) -> dict[str, float]:
        out = {}
        for layer in self.net.layers:
            if layer.grads:
                out[f"grad_norm/{layer.name}"] = math.sqrt(sum(float(np.vdot(g, g)) for g in layer.grads.values()))
        return out

    def _activation_stats(self, record: list, logs: dict) -> dict[str, Any]:
        """Mean, spread, dead share and histogram of each activation layer's outputs on this batch.

        A layer may appear more than once in ``record`` (one entry per batch
        shard); its entries are taken together.
        """
        acts = {l.name: l for l in self.net.activation_layers()}
        parts: dict[str, list[np.ndarray]] = {}
        for name, value in record:
            if name in acts:
                parts.setdefault(name, []).append(value)
        out: dict[str, Any] = {}
        hists = {}
        for name, values in parts.items():
            size = sum(v.size for v in values)
            step = size // 20000 + 1 if size > 20000 else 1
            v = np.concatenate([a.reshape(-1)[::step] for a in values])
            out[f"act_mean/{name}"] = float(v.mean())
            out[f"act_std/{name}"] = float(v.std())
            if isinstance(acts[name], ReLU):
                # a unit is dead when it outputs 0 for every sample of the batch
                alive = np.logical_or.reduce([np.any(a.reshape(a.shape[0], -1) > 0, axis=0) for a in values])
                out[f"dead_fraction/{name}"] = float(np.mean(~alive))
            counts, edges = np.histogram(v, bins=30)
            hists[name] = (counts, edges)
        out["histograms"] = hists
        return out


def _labels(y: np.ndarray) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1)


def _inference_batches(net: Network, x: np.ndarray, n: int, batch_size: int, rows: np.ndarray | None,
                       pool: Executor | None) -> Iterator[tuple[Any, np.ndarray]]:
    """(which samples, the network's output) for each batch in order. With ``pool`` (an executor with a free
    thread) and a :attr:`~Network.shardable` network, every second batch goes through the layers' twins on
    the pool's thread while this one does the first: the same numbers, on two cores."""
    takes = [slice(i, i + batch_size) if rows is None else rows[i:i + batch_size] for i in range(0, n, batch_size)]

    def gather(take: Any) -> np.ndarray:
        return np.asarray(x[take], dtype=net.dtype)

    if pool is None or not net.shardable:
        for take in takes:
            yield take, net.forward(gather(take), training=False)
        return
    errstate = np.geterr()  # error handling is per thread: the caller's applies to both
    net.make_twins()  # here, before the layers run on this thread

    def twin(take: Any) -> np.ndarray:
        with np.errstate(**errstate):
            return net.forward_twin(gather(take))

    for j in range(0, len(takes), 2):
        second = pool.submit(twin, takes[j + 1]) if j + 1 < len(takes) else None
        try:
            first = net.forward(gather(takes[j]), training=False)
        finally:
            other = second.result() if second is not None else None
        yield takes[j], first
        if second is not None:
            yield takes[j + 1], other


def evaluate(net: Network, x: np.ndarray, y: np.ndarray, classification: bool = True, prefix: str = "",
             batch_size: int = EVAL_BATCH, return_predictions: bool = False,
             rows: np.ndarray | None = None, pool: Executor | None = None) -> dict[str, Any]:
    """Mean loss and accuracy (or MSE/MAE/R²) of ``net`` in inference mode on (x, y), in batches;
    only on the samples ``rows`` when given (gathered a batch at a time, never copied whole). With ``pool``
    (an executor with a free thread, as :func:`~.parallel.shard_pool` gives) a convolutional network's
    batches run two at a time, one on each thread."""
    from playground.engine.metrics import regression_metrics

    total = 0.0
    preds = []
    outs = []
    n = len(x) if rows is None else len(rows)
    for take, out in _inference_batches(net, x, n, batch_size, rows, pool):
        loss, _ = net.loss(out, y[take])
        total += loss * out.shape[0]
        if classification:
            p = net.loss.output(out) if net.fused_tail else out
            preds.append(predicted_labels(p))
        else:
            outs.append(out)
    res: dict[str, Any] = {f"{prefix}loss": total / n + net.regularization()}
    if classification:
        pred = np.concatenate(preds)
        res[f"{prefix}accuracy"] = float(np.mean(pred == _labels(y if rows is None else y[rows])))
        if return_predictions:
            res["predictions"] = pred
    else:
        res[f"{prefix}accuracy"] = None
        reg = regression_metrics(np.concatenate(outs), y if rows is None else y[rows])
        res.update({f"{prefix}{k}": v for k, v in reg.items()})
        if return_predictions:
            res["predictions"] = np.concatenate(outs)
    return res
