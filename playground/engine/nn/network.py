"""A network built from a plain JSON-able spec (the same spec the GUI edits).

A spec::

    {"input_shape": [1, 28, 28],
     "layers": [{"type": "Conv2D", "filters": 30, "kernel": 5, "activation": "relu"},
                {"type": "MaxPool2D", "pool": 2},
                {"type": "Flatten"},
                {"type": "Dense", "units": 100, "activation": "relu"},
                {"type": "Dense", "units": 10},
                {"type": "Softmax"}],
     "loss": "softmax_cross_entropy"}

``activation`` on a Dense or Conv2D entry becomes a separate activation layer
(named after its parent) when the network is built. Building infers every
shape; a layer that does not fit raises :class:`ShapeError` naming the layer
and both shapes.
"""

from __future__ import annotations

import copy
import math
from concurrent.futures import Executor
from typing import Any, Iterable, Mapping

import numpy as np

from playground.engine.checks import (MAX_DEPTH, MAX_FEATURES, MAX_MULT_ADDS, MAX_PARAMS, brief, nesting_depth,
                                      text, whole_number)
from playground.engine.errors import ShapeError, SpecError
from playground.engine.nn.fused import Recorder, plan_steps, wants
from playground.engine.nn.activations import Activation, Step, activation_class
from playground.engine.nn.normalization import BatchNorm, Dropout
from playground.engine.nn.conv import Conv2D
from playground.engine.nn.dense import Dense
from playground.engine.nn.base import Layer
from playground.engine.nn.layers import layer_class
from playground.engine.nn.losses import Loss, get_loss

#: the most memory one batch of :meth:`Network.predict` may give its largest working array (about L3-sized)
PREDICT_WORK_BYTES = 48 << 20
#: a training batch of at least this many samples is split in two shards when the network is shardable
SHARD_MIN_BATCH = 32
#: below this many parameters per piece, an optimizer step is not worth splitting between threads
PARTS_MIN_SIZE = 1 << 16
#: the most layers a spec may list
MAX_LAYERS = 1000
#: the largest seed (NumPy takes any; 63 bits keep it an int64 wherever it is stored)
MAX_SEED = 2 ** 63 - 1
SPEC_KEYS = {"input_shape", "layers", "loss", "name", "description"}
_SHORT = {"Conv2D": "conv", "MaxPool2D": "maxpool", "AvgPool2D": "avgpool", "BatchNorm": "bn"}


def seed_streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent random streams of one run: weights, dropout masks, batch order, augmentation,
    and the training samples the trainer measures the network on.

    Keeping them apart means a change to dropout does not change the initial
    weights or the batch order, so two runs can be compared fairly.
    """
    ss = np.random.SeedSequence(whole_number(seed, "the seed", 0, MAX_SEED))
    init, dropout, shuffle, extra, measure = ss.spawn(5)  # a child depends only on its place: add at the end
    return {"init": np.random.default_rng(init), "dropout": np.random.default_rng(dropout),
            "shuffle": np.random.default_rng(shuffle), "extra": np.random.default_rng(extra),
            "measure": np.random.default_rng(measure)}


def normalize_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Check the structure of a spec and return a deep copy with defaults filled in."""
    if not isinstance(spec, Mapping):
        raise SpecError(f"a network spec must be a JSON object with 'layers', got {type(spec).__name__}")
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise SpecError(f"the network spec has unknown keys {brief(sorted(map(str, unknown)))}; "
                        f"expected some of {sorted(SPEC_KEYS)}")
    if nesting_depth(dict(spec)) > MAX_DEPTH:
        raise SpecError(f"the network spec is nested more than {MAX_DEPTH} levels deep")
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers or len(layers) > MAX_LAYERS:
        raise SpecError(f"the network spec needs a non-empty list 'layers' (at most {MAX_LAYERS:,}), "
                        f"got {brief(layers)}")
    for key in ("name", "description"):
        if spec.get(key) is not None:
            text(spec[key], f"the network's '{key}'")
    out = copy.deepcopy(dict(spec))
    for i, entry in enumerate(out["layers"]):
        if not isinstance(entry, Mapping) or "type" not in entry:
            raise SpecError(f"layer {i + 1} must be an object with a 'type', got {brief(entry)}")
        layer_class(entry["type"])  # raises with the known names
        if "spec_index" in entry:
            raise SpecError(f"layer {i + 1} has a setting 'spec_index', which only the playground itself sets")
        if entry.get("name") is not None:
            text(entry["name"], f"the name of layer {i + 1}", 200)
        act = entry.get("activation")
        if act not in (None, "", "none"):
            activation_class(text(act, f"the activation of layer {i + 1}", 200))
    out.setdefault("loss", "softmax_cross_entropy")
    get_loss(text(out["loss"], "the network's 'loss'", 200))
    if out.get("input_shape") is not None:
        out["input_shape"] = _shape(out["input_shape"])
    return out


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or len(value) not in (1, 2, 3):
        raise SpecError(f"input_shape must be [features], [time steps, features] or [channels, height, width] "
                        f"of positive whole numbers, got {brief(value)}")
    shape = tuple(whole_number(v, "each number of input_shape", 1, MAX_FEATURES) for v in value)
    _check_features(shape, "the input")
    return shape


def _check_features(shape: tuple[int, ...], where: str) -> None:
    """Refuse a per-sample shape with more than :data:`MAX_FEATURES` numbers (counted with Python ints)."""
    count = math.prod(shape)
    if count > MAX_FEATURES:
        raise SpecError(f"{where} would have {' × '.join(map(str, shape))} = {count:,} numbers per sample; "
                        f"at most {MAX_FEATURES:,} fit: use smaller images, fewer filters or more pooling")


class HalfBatchWorker:
    """What :meth:`Network.loss_and_grads` needs of a process that computes the second half of a batch.

    The trainer's helper process (:class:`playground.engine.train.halfbatch.HalfBatchHelper`)
    implements it; the network only hands it work and collects the result.
    """

    #: False once the worker has failed; this process then computes both halves
    alive: bool = False

    def start(self, x: np.ndarray, y: np.ndarray, total: int, keeps: Mapping[str, np.ndarray]) -> None:
        """Begin forward and backward over the half batch ``(x, y)`` of a batch of ``total`` samples."""
        raise NotImplementedError

    def finish(self) -> tuple[float, np.ndarray, np.ndarray] | None:
        """(loss, outputs, flat gradients) of the half batch, or None when the worker failed."""
        raise NotImplementedError


class Network:
    """Layers built from a spec, with a loss; float32 unless told otherwise."""

    def __init__(self, spec: Mapping[str, Any], seed: int = 0, dtype=np.float32,
                 input_shape: Iterable[int] | None = None, shapes_only: bool = False,
                 size_limits: bool | None = None):
        #: built for shapes, parameter counts and multiply-adds only: no weight is allocated (a network
        #: too big to train here, such as AlexNet, can still be looked at), and it cannot run
        self.shapes_only = bool(shapes_only)
        #: refuse networks over MAX_PARAMS parameters or MAX_MULT_ADDS multiply-adds (default: unless shapes only)
        self.size_limits = (not self.shapes_only) if size_limits is None else bool(size_limits)
        self.spec = normalize_spec(spec)
        if input_shape is not None:
            self.spec["input_shape"] = _shape(input_shape)
        if self.spec.get("input_shape") is None:
            raise SpecError("the network needs an input shape: set 'input_shape' in the spec or choose a data set")
        self.input_shape: tuple[int, ...] = tuple(self.spec["input_shape"])
        self.dtype = np.dtype(dtype)
        self.seed = whole_number(seed, "the seed", 0, MAX_SEED)
        self.loss: Loss = get_loss(self.spec["loss"])
        self.weight_decay = 0.0  # global L2 on every weight, set by the trainer
        if not self.shapes_only:
            # the sizes are checked on the shapes alone, before a single weight is allocated
            Network(self.spec, seed=self.seed, dtype=self.dtype, shapes_only=True, size_limits=self.size_limits)
        streams = seed_streams(seed)
        self.layers: list[Layer] = []
        self._sample_work_bytes: int | None = None
        self._build(streams)

    # -------------------------------------------------------------- building
    def _build(self, streams: dict[str, np.random.Generator]) -> None:
        names: set[str] = set()
        counts: dict[str, int] = {}
        shape = self.input_shape
        source = "input"
        params = work = 0
        entries = self.spec["layers"]
        for i, entry in enumerate(entries):
            cls = layer_class(entry["type"])
            cfg = {k: v for k, v in entry.items() if k not in ("type", "name")}
            act = cfg.get("activation")
            if act in ("", "none", "identity", None):
                cfg.pop("activation", None)
                act = None
            elif not issubclass(cls, (Dense, Conv2D)):
                raise SpecError(f"layer {i + 1} ({cls.type_name}) cannot take an activation; "
                                f"only Dense and Conv2D can")
            name = entry.get("name") or self._auto_name(cls, counts)
            if name in names:
                raise SpecError(f"two layers are named {brief(name)}; layer names must be unique")
            names.add(name)
            layer = cls(name=name, spec_index=i, **cfg)
            shape = layer.build(shape, None if self.shapes_only else streams["init"], self.dtype, source)
            _check_features(shape, f"the output of layer {i + 1} ({name})")
            params += layer.param_count()
            work += layer.mult_adds()
            if params > MAX_PARAMS and self.size_limits:
                raise SpecError(f"the network would have more than {params:,} parameters by layer {i + 1} "
                                f"({name}); at most {MAX_PARAMS:,} fit: use fewer units or filters")
            if work > MAX_MULT_ADDS and self.size_limits:
                raise SpecError(f"the network would need {work:,} multiply-adds per sample by layer {i + 1} "
                                f"({name}); at most {MAX_MULT_ADDS:,}: use smaller kernels, fewer filters or "
                                f"more pooling")
            self.layers.append(layer)
            source = name
            if act:
                acls = activation_class(act)
                alayer = acls(name=f"{name}_{acls.key}", spec_index=i)
                shape = alayer.build(shape, None if self.shapes_only else streams["init"], self.dtype, source)
                self.layers.append(alayer)
                names.add(alayer.name)
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.rng = streams["dropout"]
        self.output_shape = shape
        # nothing before the first layer with parameters learns, so nothing needs the gradient of
        # its input (for mlp-mnist, behind a Flatten, that product is as big as the first layer's own)
        self.need_input_grads(False)
        # the final Softmax/Sigmoid is folded into a fused loss while training
        last = self.layers[-1]
        self.fused_tail = bool(self.loss.fused_output and last.type_name == self.loss.fused_output)
        self.train_layers = self.layers[:-1] if self.fused_tail else list(self.layers)
        if not self.train_layers:
            raise SpecError("the network has only an output activation; add a Dense layer before it")
        # Convolutional networks spend most of a step in element-wise NumPy work, which runs on one
        # core; two halves of the batch, each through its own twin of the layers, can run on two.
        # Batch norm needs the statistics of the whole batch, so a network with it is never split.
        self.shardable = (any(isinstance(l, Conv2D) for l in self.train_layers)
                          and not any(isinstance(l, BatchNorm) for l in self.train_layers))
        self._twins: list[Layer] | None = None
        #: what forward and backward run: the layers, with Conv2D → [ReLU] → MaxPool2D runs fused
        self._steps = [] if self.shapes_only else plan_steps(self.train_layers)
        self._twin_steps: list = []
        if not self.shapes_only:
            self._flatten_parameters()
        sequence_out = len(self.output_shape) == 2 and self.loss.name == "mse"  # a value per time step
        if len(self.output_shape) != 1 and not sequence_out:
            raise ShapeError(f"the network's output must be flat (outputs,), got {self.output_shape} from "
                             f"'{self.layers[-1].name}'; end with Flatten and Dense",
                             layer_index=len(entries) - 1, layer_name=self.layers[-1].name,
                             fix={"insert": {"type": "Flatten"}, "at": len(entries)})

    def _flatten_parameters(self, flat_p: np.ndarray | None = None, flat_g: np.ndarray | None = None) -> None:
        """Keep every parameter in one array and every gradient in another, layers holding views.

        An optimizer step is then a dozen whole-array operations instead of a
        dozen per parameter, which is most of its cost on small networks.
        ``flat_p`` and ``flat_g``, when given, are the arrays to use (see
        :meth:`adopt_flat_arrays`).
        """
        pairs = [(layer, key) for layer in self.layers for key in layer.params]
        total = sum(layer.params[key].size for layer, key in pairs)
        self._flat_p = np.empty(total, dtype=self.dtype) if flat_p is None else flat_p
        self._flat_g = np.empty(total, dtype=self.dtype) if flat_g is None else flat_g
        self._flat_decay = np.empty(total, dtype=bool)
        self._flat_mult = {float(layer.decay[key]) for layer, key in pairs}
        lo = 0
        for layer, key in pairs:
            value = layer.params[key]
            hi = lo + value.size
            self._flat_p[lo:hi] = value.reshape(-1)
            self._flat_g[lo:hi] = layer.grads[key].reshape(-1)
            self._flat_decay[lo:hi] = bool(layer.decay[key])
            layer.params[key] = self._flat_p[lo:hi].reshape(value.shape)
            layer.grads[key] = self._flat_g[lo:hi].reshape(value.shape)
            lo = hi

    def adopt_flat_arrays(self, flat_p: np.ndarray, flat_g: np.ndarray) -> None:
        """Move the parameters into ``flat_p`` and the gradients into ``flat_g`` (memory shared with
        another process, see :mod:`playground.engine.train.halfbatch`); both must be 1-D, of this network's dtype and size."""
        size = self._flat_p.size
        for a in (flat_p, flat_g):
            if a.shape != (size,) or a.dtype != self.dtype:
                raise ValueError(f"expected a flat {self.dtype} array of {size} values, got {a.dtype} {a.shape}")
        self._twins = None  # they hold views of the old arrays
        self._flatten_parameters(flat_p, flat_g)

    @staticmethod
    def _auto_name(cls: type[Layer], counts: dict[str, int]) -> str:
        base = _SHORT.get(cls.type_name, cls.type_name.lower())
        counts[base] = counts.get(base, 0) + 1
        return f"{base}{counts[base]}"

    # -------------------------------------------------------------- parameters
    def params(self) -> dict[str, np.ndarray]:
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.params.items()}

    def grads(self) -> dict[str, np.ndarray]:
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.grads.items()}

    def decay(self) -> dict[str, float]:
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.decay.items()}

    def optimizer_arrays(self, parts: int = 2, min_part: int = PARTS_MIN_SIZE, first: float | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
        """(params, grads, decay) for an optimizer: all parameters as one flat array.

        With ``parts`` > 1 and at least ``min_part`` parameters a piece the flat arrays come in that many
        contiguous pieces (keys ``all@0``, ``all@1``, …) that an optimizer may
        update on different threads; the pieces do not depend on whether it
        does, so neither do the numbers. ``decay`` maps each piece to a
        boolean mask of the entries weight decay applies to.
        """
        pieces = self.flat_parts(parts, min_part, first)
        if pieces is None:
            return self.params(), self.grads(), self.decay()
        return ({k: self._flat_p[c] for k, c in pieces}, {k: self._flat_g[c] for k, c in pieces},
                {k: self._flat_decay[c] for k, c in pieces})

    def flat_parts(self, parts: int = 2, min_part: int = PARTS_MIN_SIZE,
                   first: float | None = None) -> list[tuple[str, slice]] | None:
        """The keys and slices of :meth:`optimizer_arrays`'s pieces, or None when it gives one array
        per parameter (no parameters, or per-layer decay multipliers other than 0 and 1). The pieces
        are equal, or with ``first`` and two pieces, the first holds that share of the parameters."""
        if not self._flat_p.size or not self._flat_mult <= {0.0, 1.0}:
            return None
        n = self._flat_p.size
        parts = parts if n >= min_part * parts else 1
        bounds = [n * i // parts for i in range(parts + 1)]
        if first is not None and parts == 2:
            bounds[1] = min(max(int(n * first), 1), n - 1)
        keys = ["all"] if parts == 1 else [f"all@{i}" for i in range(parts)]
        return [(k, slice(bounds[i], bounds[i + 1])) for i, k in enumerate(keys)]

    def state(self) -> dict[str, np.ndarray]:
        """Non-trainable arrays saved with the model (batch-norm running statistics)."""
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.state.items()}

    def param_count(self) -> int:
        return sum(l.param_count() for l in self.layers)

    def mult_adds(self) -> int:
        """Multiply-adds of one forward pass for one sample."""
        return sum(l.mult_adds() for l in self.layers)

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and state array."""
        out = {k: v.copy() for k, v in self.params().items()}
        out.update({k: v.copy() for k, v in self.state().items()})
        return out

    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Replace parameters and states; all are checked before any is written."""
        targets = {**self.params(), **self.state()}
        missing = sorted(set(targets) - set(weights))
        extra = sorted(set(weights) - set(targets))
        if missing or extra:
            raise SpecError(f"the weights do not match this network: missing {missing or 'none'}, "
                            f"unexpected {extra or 'none'}")
        for k, arr in targets.items():
            if np.shape(weights[k]) != arr.shape:
                raise ShapeError(f"weight {k!r} has shape {np.shape(weights[k])}, the network needs {arr.shape}")
        for k, arr in targets.items():
            arr[...] = weights[k]

    # -------------------------------------------------------------- running
    def forward(self, x: np.ndarray, training: bool = False, record: list | None = None) -> np.ndarray:
        """The last training layer's output (logits when the tail is fused).

        With ``record`` a list, each layer's (name, output) is appended to it; with
        a :class:`~.fused.Recorder`, only the layers it names (see there).
        """
        self._check_input(x)
        return _forward(self._steps, x, training, record)

    def forward_twin(self, x: np.ndarray) -> np.ndarray:
        """What ``forward(x)`` gives in inference mode, computed through the twins of the layers (their own
        buffers, the same parameters): a second thread runs it beside a :meth:`forward` on this one."""
        self._check_input(x)
        self.make_twins()
        return _forward(self._twin_steps, x, False, None)

    def make_twins(self) -> None:
        """Build the layers' twins (once), on the thread that also runs the layers: copying a layer while
        another thread runs it could copy its buffers half-way."""
        if self._twins is None:
            self._twins = [layer.replicate() for layer in self.train_layers]
            self._twin_steps = plan_steps(self._twins)

    def predict(self, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """Outputs as the user sees them (probabilities for classifiers), in batches.

        A batch is cut smaller when its largest working array would pass
        :data:`PREDICT_WORK_BYTES` (a convolution's patch matrix grows by C·kh·kw
        values per output pixel): deep-convnet's 1000 images at once need 455 MB
        for one layer's patches and run 7 times slower than in batches of 100.
        """
        x = np.asarray(x, dtype=self.dtype)
        batch_size = max(1, min(batch_size, PREDICT_WORK_BYTES // max(1, self.sample_work_bytes())))
        outs = [self.loss.output(self.forward(x[i:i + batch_size])) if self.fused_tail
                else self.forward(x[i:i + batch_size])
                for i in range(0, x.shape[0], batch_size)]
        return np.concatenate(outs) if outs else np.zeros((0,) + self.output_shape, self.dtype)

    def sample_work_bytes(self) -> int:
        """The largest array one sample needs in a forward pass: a layer's output, or a convolution's patches
        (from the shapes alone, so worked out once)."""
        if self._sample_work_bytes is None:
            most = 0
            for layer in self.layers:
                values = int(np.prod(layer.output_shape))
                if isinstance(layer, Conv2D):
                    values = max(values, (layer.k + 1) * layer.oh * layer.ow)
                most = max(most, values)
            self._sample_work_bytes = most * self.dtype.itemsize
        return self._sample_work_bytes

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        return _backward(self._steps, grad)

    def regularization(self) -> float:
        """Σ (λ₂/2)·‖W‖² + λ₁·‖W‖₁ over weights (never biases)."""
        total = 0.0
        if not (self.weight_decay or any(l.l1 or l.l2 for l in self.layers)):
            return total
        for layer in self.layers:
            l2 = layer.l2 + self.weight_decay
            for k, w in layer.params.items():
                if not layer.decay[k]:
                    continue
                if l2:
                    total += 0.5 * l2 * float(np.vdot(w, w))
                if layer.l1:
                    total += layer.l1 * float(np.abs(w).sum())
        return total

    def _add_regularization_grads(self) -> None:
        if not (self.weight_decay or any(l.l1 or l.l2 for l in self.layers)):
            return
        for layer in self.layers:
            l2 = layer.l2 + self.weight_decay
            if not (l2 or layer.l1):
                continue
            for k, w in layer.params.items():
                if not layer.decay[k]:
                    continue
                g = layer.grads[k]
                if l2:
                    g += l2 * w
                if layer.l1:
                    g += layer.l1 * np.sign(w)

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, training: bool = True,
                       record: list | None = None,
                       pool: Executor | HalfBatchWorker | None = None) -> tuple[float, float, np.ndarray]:
        """Forward, loss, backward. Returns (data loss, regularization, outputs).

        Parameter gradients are left in each layer's ``grads``. A training batch
        of a :attr:`shardable` network with at least :data:`SHARD_MIN_BATCH`
        samples is split in two halves whose gradients are added (see
        :meth:`_sharded`); with ``pool`` (an executor with a free thread) the
        second half runs there while this thread does the first. The result is
        the same, bit for bit, with or without ``pool``. A dense network's
        batches are split only when ``pool`` is a :class:`HalfBatchWorker`,
        a process of its own for the second half.
        """
        if training and (self.shardable or isinstance(pool, HalfBatchWorker)) and x.shape[0] >= SHARD_MIN_BATCH:
            loss, out = self._sharded(x, y, record, pool)
        else:
            out = self.forward(x, training, record)
            loss, grad = self.loss(out, y)
            self.backward(grad)
        self._add_regularization_grads()
        return loss, self.regularization(), out

    def _sharded(self, x: np.ndarray, y: np.ndarray, record: list | None,
                 pool: Executor | HalfBatchWorker | None) -> tuple[float, np.ndarray]:
        """Forward and backward over two halves of the batch; gradients and loss as for the whole.

        Each half's loss gradient is scaled by its share of the batch, so the
        summed gradients are those of the mean loss over the batch. Dropout
        masks are drawn for the whole batch first, in layer order, so they are
        the ones an unsplit pass would draw.
        """
        self._check_input(x)
        n = x.shape[0]
        h = (n + 1) // 2
        self.make_twins()
        keeps = {}
        for layer, twin in zip(self.train_layers, self._twins):
            if isinstance(layer, Dropout) and layer.rate:
                keep = layer.draw_keep(n)
                layer.preset_keep, twin.preset_keep = keep[:h], keep[h:]
                keeps[layer.name] = keep[h:]
        errstate = np.geterr()  # error handling is per thread: the caller's applies to both halves

        def run(steps: list, lo: int, hi: int, rec: list | None) -> tuple[float, np.ndarray]:
            with np.errstate(**errstate):
                out = _forward(steps, x[lo:hi], True, rec)
                loss, grad = self.loss(out, y[lo:hi])
                grad *= (hi - lo) / n
                _backward(steps, grad)
            return loss, out

        if record is None:
            rec0 = rec1 = None
        elif isinstance(record, Recorder):
            rec0, rec1 = Recorder(record.names), Recorder(record.names)
        else:
            rec0, rec1 = [], []
        if isinstance(pool, HalfBatchWorker) and pool.alive and record is None:
            # a process computes the second half meanwhile (on a batch with statistics to record the
            # twins compute it here instead, with the same numbers)
            pool.start(x[h:], y[h:], n, keeps)
            loss0, out0 = run(self._steps, 0, h, rec0)
            done = pool.finish()
            if done is not None:
                loss1, out1, flat_g = done
                self._flat_g += flat_g
                for twin in self._twins:
                    if isinstance(twin, Dropout):
                        twin.preset_keep = None
            else:  # the helper failed (pool.failure says why): this thread computes its half
                loss1, out1 = run(self._twin_steps, h, n, rec1)
                self._add_twin_grads()
        elif pool is not None and not isinstance(pool, HalfBatchWorker):
            second = pool.submit(run, self._twin_steps, h, n, rec1)
            try:
                loss0, out0 = run(self._steps, 0, h, rec0)
            finally:
                loss1, out1 = second.result()
            self._add_twin_grads()
        else:
            loss0, out0 = run(self._steps, 0, h, rec0)
            loss1, out1 = run(self._twin_steps, h, n, rec1)
            self._add_twin_grads()
        if isinstance(record, Recorder):  # each half under its name: statistics take both
            record.extend(rec0)
            record.extend(rec1)
        elif record is not None:
            record.extend((name, np.concatenate([a, b])) for (name, a), (_, b) in zip(rec0, rec1))
        return (loss0 * h + loss1 * (n - h)) / n, np.concatenate([out0, out1])

    def _add_twin_grads(self) -> None:
        for layer, twin in zip(self.train_layers, self._twins):
            for key, g in layer.grads.items():
                g += twin.grads[key]

    def input_gradient(self, x: np.ndarray, target: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """d(score of ``target`` class)/d(input) for each sample: the saliency map.

        The score is the output before the final softmax. Returns (gradient, scores).
        """
        x = np.asarray(x, dtype=self.dtype)
        self.need_input_grads(True)
        try:
            out = self.forward(x, training=False)
            if target is None:
                target = out.argmax(axis=1)
            g = np.zeros_like(out)
            g[np.arange(out.shape[0]), np.asarray(target).reshape(-1)] = 1
            dx = self.backward(g)
        finally:
            self.need_input_grads(False)
        return dx, out

    def need_input_grads(self, wanted: bool) -> None:
        """Whether backward goes on to the gradient of the network's input (for saliency maps and
        gradient checks) or stops at the first layer with parameters (for training)."""
        for layer in self.layers:
            layer.need_input_grad = wanted
            if layer.params:
                break
        for twin in getattr(self, "_twins", None) or ():
            twin.need_input_grad = wanted
            if twin.params:
                break

    def zero_gradient_layers(self) -> list[str]:
        """Names of layers through which no gradient can flow (Step)."""
        return [l.name for l in self.train_layers if isinstance(l, Step)]

    def _check_input(self, x: np.ndarray) -> None:
        if self.shapes_only:
            raise SpecError("this network was built for its shapes only (no weights were allocated): "
                            "build it again without shapes_only to run it")
        if x.shape[1:] != self.input_shape:
            if x.ndim == 2 and len(self.input_shape) == 3 and x.shape[1] == int(np.prod(self.input_shape)):
                hint = "; the data is flat, so start the network with a Dense layer (or reshape the data)"
            elif x.ndim == 4 and len(self.input_shape) == 1:
                hint = "; the data are images, so start the network with Flatten or Conv2D"
            else:
                hint = ""
            raise ShapeError(f"the network expects inputs of shape {self.input_shape}, got {x.shape[1:]}{hint}",
                             layer_index=0)

    # -------------------------------------------------------------- describing
    def summary(self) -> list[dict[str, Any]]:
        """Per layer: name, type, spec index, output shape, parameter count, multiply-adds."""
        return [{"name": l.name, "type": l.type_name, "spec_index": l.spec_index,
                 "output_shape": list(l.output_shape), "params": l.param_count(),
                 "mult_adds": l.mult_adds()} for l in self.layers]

    def summary_text(self) -> str:
        rows = [("layer", "type", "output", "params", "mult-adds")]
        for s in self.summary():
            rows.append((s["name"], s["type"], "×".join(map(str, s["output_shape"])),
                         f"{s['params']:,}", f"{s['mult_adds']:,}"))
        total_p = sum(s["params"] for s in self.summary())
        total_m = sum(s["mult_adds"] for s in self.summary())
        rows.append(("total", "", "", f"{total_p:,}", f"{total_m:,}"))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)

    def activation_layers(self) -> list[Layer]:
        return [l for l in self.train_layers if isinstance(l, Activation)]


def _forward(steps: list, x: np.ndarray, training: bool, record: list | None) -> np.ndarray:
    """Run ``steps`` (layers and fused steps); with ``record``, append each layer's (name, output)."""
    for step in steps:
        if isinstance(step, Layer):
            x = step.forward(x, training)
            if wants(record, step.name):
                record.append((step.name, x))
        else:
            x = step.forward(x, training, record)
    return x


def _backward(steps: list, grad: np.ndarray) -> np.ndarray | None:
    for step in reversed(steps):
        grad = step.backward(grad)
        if grad is None:
            break
    return grad


def network_image(net: Network) -> dict[str, Any]:
    """Everything needed to rebuild ``net`` elsewhere, as plain data: spec (with its input shape), seed,
    dtype, weights and batch-norm statistics (copies), weight decay."""
    return {"spec": net.spec, "seed": net.seed, "dtype": net.dtype.str, "weights": net.get_weights(),
            "weight_decay": net.weight_decay}


def network_from_image(image: Mapping[str, Any]) -> Network:
    net = Network(image["spec"], seed=image["seed"], dtype=np.dtype(image["dtype"]))
    net.set_weights(image["weights"])
    net.weight_decay = image.get("weight_decay", 0.0)
    return net


def copy_network(net: Network) -> Network:
    """An independent copy: same spec, seed, dtype, weights and statistics, sharing no array with ``net``."""
    return network_from_image(network_image(net))


def check_spec(spec: Mapping[str, Any], input_shape: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Build ``spec`` for its shapes (no weights allocated) and return its summary; raise on the first problem."""
    return Network(spec, seed=0, input_shape=input_shape, shapes_only=True).summary()
