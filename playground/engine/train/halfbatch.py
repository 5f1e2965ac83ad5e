"""A second process that computes half of each training step of a dense network.

A multilayer perceptron's step is a chain of small matrix products with many
small NumPy calls between them. OpenBLAS's second thread barely shortens
products this small (100×784×100: 146 µs on one thread, 120 µs on two), and a
second Python *thread* cannot help either: every small call needs the GIL,
and handing work to a thread costs 60–80 µs on a virtual machine whose idle
CPU must be woken. A second *process* has a GIL of its own. So each step:

1. while the trainer's thread runs forward and backward over the first half
   of the batch, the helper started here runs them over the second half; the
   trainer adds the helper's gradients to its own (:meth:`Network._sharded`);
2. the optimizer step is split too: the helper updates the last 40 % of the
   parameters (:data:`TRAINER_UPDATE_SHARE`) while the trainer updates the rest
   (:meth:`Optimizer.update` with the helper as its ``pool``).

mlp-mnist trains 1.3× faster this way (0.86–0.96 → 0.66–0.70 ms a step here).

How the two processes talk, each hand-over in about 10 µs:

- **Memory**: one anonymous block (``memfd_create``) mapped by both, holding
  the parameters and the trainer's gradients (the network's own flat arrays
  move there while the helper runs), the helper's gradients, its half of the
  batch (inputs, labels, dropout masks), its outputs, the optimizer state of
  its share of the parameters and a small header (:class:`Layout`).
- **Signals**: two ``eventfd`` counters, "go" and "done". The waiting side
  polls its counter without sleeping for a moment (a sleeping virtual CPU
  takes tens of microseconds to wake), then sleeps on it. The kernel's
  counter also orders the memory writes before it for the reader.

The helper runs the very code the trainer would run for its part (the same
layers and optimizer, one OpenBLAS thread on both sides), so its numbers are
the ones the trainer gets when it does that part itself. That is what happens
on a batch whose activation statistics are recorded, and after the helper
fails between two steps: training goes on, only slower, without changing a
bit. (Should it fail in the middle of an optimizer step, the trainer redoes
that share of the step from wherever the helper left it.) A helper that does
not answer within :data:`WAIT_TIMEOUT_S` (stopped, or starved of CPU) is
ended first, so that it can never write into the block again, and counts as
failed. Where the helper is used is decided by the network, the batch size
and the CPUs (:func:`worth_it`), so a run is reproducible on one machine; a
machine with one CPU does not split the batches and gets other, equally
valid, numbers.

Linux only (``memfd_create`` and ``eventfd``); elsewhere :func:`available` is
False and batches are not split.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import select
import subprocess
import sys
import time
from typing import Any, Mapping

import numpy as np

from playground.engine.nn.network import SHARD_MIN_BATCH, HalfBatchWorker, Network, _backward, _forward
from playground.engine.nn.normalization import BatchNorm, Dropout
from playground.engine.nn.optimizers import get_optimizer

#: a batch is split only when one forward pass over it takes at least this many multiply-adds: below
#: that a step is mostly Python's per-call overhead, which a split does not shorten (measured: the
#: book's 784-50-10 net, 1.3 million at batch 32, takes 0.20 ms a step with the helper, 0.23–0.25 without)
MIN_MULT_ADDS = 1_000_000
#: how long the helper polls for the next batch before it sleeps: longer than the trainer's own
#: work between two batches (optimizer step and bookkeeping, ~0.3 ms for mlp-mnist)
HELPER_SPIN_S = 0.002
#: how long the trainer polls for the helper's half before it sleeps (the halves end together,
#: unless the machine is busy, and then a polling trainer would take the CPU the helper needs)
TRAINER_SPIN_S = 0.0005
#: the trainer's share of the optimizer step's parameters; the helper reads the gradients of its share
#: from the other CPU's cache, which makes its part slower
TRAINER_UPDATE_SHARE = 0.7
#: how long the helper may take to start and report ready
START_TIMEOUT_S = 60.0
#: how long the trainer waits for the helper's part of a step (a millisecond, usually) before it ends the
#: helper and does the part itself: a helper that was stopped (SIGSTOP) or starved must not hang training
WAIT_TIMEOUT_S = 10.0

#: optimizer state arrays that may live in the shared block (every optimizer's slot names)
STATE_SLOTS = ("m", "v", "h", "tmp")

# header slots (float64)
_CMD, _ROWS, _TOTAL, _STATUS, _LOSS, _KEEP, _LR, _T = range(8)
_STEP, _UPDATE, _STOP = 1.0, 2.0, 3.0
_READY, _OK, _FAILED = 1.0, 2.0, 3.0
_MESSAGE_BYTES = 4096
_ALIGN = 64


class HelperError(RuntimeError):
    """The helper process could not start or failed; the message says why."""


def available() -> bool:
    """Whether this system has what the helper needs (Linux's memfd_create and eventfd)."""
    return hasattr(os, "memfd_create") and hasattr(os, "eventfd") and sys.platform.startswith("linux")


def splittable(net) -> bool:
    """Whether a helper may take half of each batch of ``net``: no layer may need the whole batch
    (batch normalization), and convolutional networks are split over threads instead (see :mod:`.parallel`)."""
    return not net.shardable and not any(isinstance(l, BatchNorm) for l in net.train_layers)


def worth_it(net, batch_size: int, threads: int) -> bool:
    """Whether training ``net`` in batches of ``batch_size`` with ``threads`` CPUs should start a helper."""
    return (threads >= 2 and batch_size >= SHARD_MIN_BATCH and available() and splittable(net)
            and net.mult_adds() * batch_size >= MIN_MULT_ADDS)


class Layout:
    """Where each array lives in the shared block: name → (offset, shape, dtype)."""

    def __init__(self, entries: Mapping[str, tuple[int, tuple[int, ...], str]]):
        self.entries = dict(entries)

    @classmethod
    def for_network(cls, net, rows: int, y_shape: tuple[int, ...], y_dtype: np.dtype,
                    state_size: int) -> "Layout":
        size = net._flat_p.size
        wanted = [("p", (size,), net.dtype), ("g", (size,), net.dtype), ("g2", (size,), net.dtype),
                  ("x", (rows, *net.input_shape), net.dtype), ("y", (rows, *y_shape), np.dtype(y_dtype)),
                  ("out", (rows, *net.train_layers[-1].output_shape), net.dtype),
                  ("header", (8,), np.dtype(np.float64)), ("message", (_MESSAGE_BYTES,), np.dtype(np.uint8))]
        wanted += [(f"keep/{l.name}", (rows, *l.input_shape), np.dtype(bool))
                   for l in net.train_layers if isinstance(l, Dropout)]
        wanted += [(f"state/{slot}", (state_size,), net.dtype) for slot in STATE_SLOTS if state_size]
        entries, offset = {}, 0
        for name, shape, dtype in wanted:
            entries[name] = (offset, tuple(int(s) for s in shape), np.dtype(dtype).str)
            offset += -(-max(1, math.prod(shape)) * np.dtype(dtype).itemsize // _ALIGN) * _ALIGN
        return cls(entries)

    @property
    def nbytes(self) -> int:
        return max(off + math.prod(shape) * np.dtype(dt).itemsize for off, shape, dt in self.entries.values())

    def views(self, buffer) -> dict[str, np.ndarray]:
        return {name: np.ndarray(shape, np.dtype(dt), buffer=buffer, offset=off)
                for name, (off, shape, dt) in self.entries.items()}

    def to_json(self) -> dict[str, Any]:
        return {name: [off, list(shape), dt] for name, (off, shape, dt) in self.entries.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Layout":
        return cls({name: (int(off), tuple(shape), dt) for name, (off, shape, dt) in data.items()})


def _try_take(fd: int) -> bool:
    """Take the counter's value if it is non-zero; never block."""
    try:
        os.eventfd_read(fd)
        return True
    except BlockingIOError:
        return False


def _wait(fd: int, spin_s: float, alive, poll_s: float = 0.05) -> bool:
    """Wait until ``fd``'s counter is non-zero and take it: poll for ``spin_s``, then sleep on it,
    asking ``alive()`` every ``poll_s``. False when ``alive()`` says to give up."""
    if _try_take(fd):
        return True
    end = time.perf_counter() + spin_s
    while time.perf_counter() < end:
        if _try_take(fd):
            return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        if poller.poll(poll_s * 1000) and _try_take(fd):
            return True
        if not alive():
            return _try_take(fd)


def _helper_keys(net) -> tuple[list[tuple[str, slice]] | None, list[str]]:
    """The optimizer pieces of ``net`` when a helper trains it (two, whatever its size), and the keys
    of those the helper updates (the second half, as :meth:`Optimizer.update` hands them to a pool)."""
    pieces = net.flat_parts(2, min_part=1, first=TRAINER_UPDATE_SHARE)
    if pieces is None or len(pieces) < 2:
        return pieces, []
    return pieces, [k for k, _ in pieces[len(pieces) // 2:]]


# ---------------------------------------------------------------------- the trainer's side
class HalfBatchHelper(HalfBatchWorker):
    """The trainer's handle on a helper process for ``net`` (batches of at most ``batch_size``)
    and its ``optimizer``.

    Use as a context manager. While it is open, ``net``'s parameters and
    gradients live in the shared block; :meth:`close` moves them back. Pass it
    as the ``pool`` of :meth:`Network.loss_and_grads` (it computes the second
    half of the batch) and of :meth:`Optimizer.update` with the arrays of
    :meth:`optimizer_arrays` (it updates the second half of the parameters).
    Raises :class:`HelperError` when the helper cannot start. After a failure
    :attr:`failure` says what went wrong, :attr:`alive` is False and this
    process does the helper's work from then on.
    """

    def __init__(self, net, batch_size: int, y_example: np.ndarray, optimizer=None,
                 start_timeout: float = START_TIMEOUT_S, wait_timeout: float | None = None):
        if not available():
            raise HelperError("a helper process needs Linux (memfd_create and eventfd)")
        self.net = net
        self.optimizer = optimizer
        self.rows = batch_size // 2
        #: seconds to wait for the helper's part of a step before ending it (default :data:`WAIT_TIMEOUT_S`)
        self.wait_timeout = WAIT_TIMEOUT_S if wait_timeout is None else float(wait_timeout)
        self.failure = ""
        self.alive = False
        self._pieces, self._keys = _helper_keys(net) if optimizer is not None else (None, [])
        state_size = sum(c.stop - c.start for k, c in self._pieces if k in self._keys) if self._keys else 0
        y_example = np.asarray(y_example)
        self.layout = Layout.for_network(net, self.rows, y_example.shape[1:], y_example.dtype, state_size)
        self._fds: list[int] = []
        self._map: mmap.mmap | None = None
        self._proc: subprocess.Popen | None = None
        self._adopted = False
        self.v: dict[str, np.ndarray] = {}
        try:
            self._open(start_timeout)
        except BaseException:
            self.close()
            raise

    def _open(self, start_timeout: float) -> None:
        mem = os.memfd_create("playground-halfbatch")
        self._fds.append(mem)
        os.ftruncate(mem, self.layout.nbytes)
        self._map = mmap.mmap(mem, self.layout.nbytes)
        self.v = self.layout.views(self._map)
        self._go = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._fds.append(self._go)
        self._done = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._fds.append(self._done)
        # from here on the parameters and gradients live in the shared block
        self.net.adopt_flat_arrays(self.v["p"], self.v["g"])
        self._adopted = True
        self._sent_config = self.optimizer.get_config() | {"lr": 0} if self._keys else None
        job = {"spec": self.net.spec, "dtype": self.net.dtype.str, "layout": self.layout.to_json(),
               "fds": [mem, self._go, self._done], "parent": os.getpid(),
               "optimizer": self.optimizer.get_config() if self._keys else None}
        # the helper computes with one OpenBLAS thread, as the trainer does while it runs
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self._proc = subprocess.Popen([sys.executable, "-m", "playground.engine.train.halfbatch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      pass_fds=tuple(self._fds), env=env)
        try:
            self._proc.stdin.write(json.dumps(job).encode())
            self._proc.stdin.close()
        except BrokenPipeError:  # it has ended already: said below, with what it printed
            pass
        deadline = time.monotonic() + start_timeout
        if not _wait(self._done, 0.0, lambda: self._running() and time.monotonic() < deadline):
            if self._running():
                raise HelperError(f"the helper process did not start within {start_timeout:g} s")
            raise HelperError(f"the helper process ended as it started: {self._stderr()}")
        if self.v["header"][_STATUS] != _READY:
            raise HelperError(f"the helper process could not build the network: {self._message()}")
        if self._keys:
            self.optimizer.slot_memory = self._shared_slot
        self.alive = True

    def optimizer_arrays(self):
        """(params, grads, decay) for the optimizer, in the pieces this helper splits the update by."""
        if not self._keys:
            return self.net.optimizer_arrays()
        return self.net.optimizer_arrays(2, min_part=1, first=TRAINER_UPDATE_SHARE)

    def _shared_slot(self, key: str, slot: str, like: np.ndarray) -> np.ndarray | None:
        # the helper's pieces keep their state in the block, so that this process can take them over
        if key in self._keys and slot in STATE_SLOTS and len(self._keys) == 1:
            buf = self.v.get(f"state/{slot}")
            if buf is not None and buf.shape == like.shape and buf.dtype == like.dtype:
                return buf
        return None

    def _running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _stderr(self) -> str:
        try:
            text = self._proc.stderr.read().decode(errors="replace").strip() if self._proc else ""
        except (OSError, ValueError):
            text = ""
        return (text.splitlines() or ["no message"])[-1]

    def _message(self) -> str:
        raw = bytes(self.v["message"]).split(b"\0", 1)[0]
        return raw.decode(errors="replace") or "no message"

    # -- forward and backward
    def start(self, x: np.ndarray, y: np.ndarray, total: int, keeps: Mapping[str, np.ndarray]) -> None:
        """Hand over ``x``, ``y`` (the second half of a batch of ``total``) and the dropout masks for it."""
        v = self.v
        m = x.shape[0]
        v["x"][:m] = x
        v["y"][:m] = y
        for name, keep in keeps.items():
            v[f"keep/{name}"][:m] = keep
        header = v["header"]
        header[_CMD], header[_ROWS], header[_TOTAL], header[_KEEP] = _STEP, m, total, bool(keeps)
        header[_STATUS] = 0.0
        os.eventfd_write(self._go, 1)

    def finish(self) -> tuple[float, np.ndarray, np.ndarray] | None:
        """(loss, outputs, gradients) of the half handed over, or None when the helper failed
        (then :attr:`failure` says why and the caller computes the half itself)."""
        if not self._finished():
            return None
        header = self.v["header"]
        m = int(header[_ROWS])
        return float(header[_LOSS]), self.v["out"][:m], self.v["g2"]

    def _finished(self) -> bool:
        deadline = time.monotonic() + self.wait_timeout
        if not _wait(self._done, TRAINER_SPIN_S, lambda: self._running() and time.monotonic() < deadline):
            if self._running():
                self._fail(f"the helper process did not answer within {self.wait_timeout:g} s (stopped, or "
                           "starved of CPU?), so it was ended", kill=True)
                # had it answered just before it was ended, its part is whole: not to be done twice
                return bool(_try_take(self._done) and self.v["header"][_STATUS] == _OK)
            code = self._proc.returncode if self._proc is not None else None
            self._fail(f"the helper process stopped (exit status {code}): {self._stderr()}")
            return False
        if self.v["header"][_STATUS] != _OK:
            self._fail(f"the helper process failed: {self._message()}")
            return False
        return True

    # -- the optimizer step
    def update_elsewhere(self, optimizer, keys: list[str], run):
        """Called by :meth:`Optimizer.update`: start updating ``keys`` in the helper and return what to
        wait on, or None to decline (then the caller updates them)."""
        if not (self.alive and optimizer is self.optimizer and keys == self._keys):
            return None
        if optimizer.get_config() | {"lr": 0} != self._sent_config:
            # settings changed during the run (not the learning rate, which goes with each update): the
            # helper's optimizer has the old ones, so this process updates every key (the state is shared)
            return None
        header = self.v["header"]
        header[_CMD], header[_LR], header[_T], header[_STATUS] = _UPDATE, optimizer.lr, optimizer.t, 0.0
        os.eventfd_write(self._go, 1)
        return _PendingUpdate(self, keys, run)

    def _fail(self, message: str, kill: bool = False) -> None:
        self.failure = message
        self.alive = False
        self._stop_process(kill)

    def _stop_process(self, kill: bool = False) -> None:
        """End the helper: ask it to stop, or (``kill``, or when it does not within 2 s) kill it. It has
        ended on return, so nothing more of it reaches the shared block."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if kill and proc.poll() is None:
            proc.kill()  # SIGKILL ends a stopped process too
            proc.wait()
        if proc.poll() is None:
            try:
                self.v["header"][_CMD] = _STOP
                os.eventfd_write(self._go, 1)
                proc.wait(timeout=2.0)
            except (OSError, KeyError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()

    def close(self) -> None:
        """Stop the helper and move the network's arrays and the optimizer's state out of the block."""
        self.alive = False
        self._stop_process()
        if self._adopted:
            self.net.adopt_flat_arrays(np.empty_like(self.v["p"]), np.empty_like(self.v["g"]))
            self._adopted = False
        if self.optimizer is not None:
            self.optimizer.slot_memory = None
            for slots in self.optimizer.state.values():
                for name, buf in slots.items():
                    if any(np.shares_memory(buf, a) for a in self.v.values()):
                        slots[name] = buf.copy()
        self.v = {}
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a caller still holds a view: the block goes when the last view does
                pass
            self._map = None
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self) -> "HalfBatchHelper":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _PendingUpdate:
    """The helper's part of an optimizer step; :meth:`result` waits for it. Should the helper fail, this
    process updates those parameters itself (their state is in the shared block)."""

    def __init__(self, helper: HalfBatchHelper, keys: list[str], run):
        self.helper, self.keys, self.run = helper, keys, run

    def result(self) -> None:
        if not self.helper._finished():
            self.run(self.keys)


# ---------------------------------------------------------------------- the helper's side
def serve(job: Mapping[str, Any]) -> None:
    """The helper's loop: build the network on the shared parameters, then compute halves and
    optimizer steps until told to stop."""
    mem, go, done = job["fds"]
    parent = int(job["parent"])
    layout = Layout.from_json(job["layout"])
    block = mmap.mmap(mem, layout.nbytes)
    v = layout.views(block)
    header = v["header"]

    def report(exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}".encode(errors="replace")[:_MESSAGE_BYTES - 1]
        v["message"][:] = 0
        v["message"][:len(text)] = np.frombuffer(text, np.uint8)
        header[_STATUS] = _FAILED

    try:
        net = Network(job["spec"], dtype=np.dtype(job["dtype"]))
        # the trainer's parameters as they are (the block holds them), and gradients of its own
        params = v["p"].copy()
        net.adopt_flat_arrays(v["p"], v["g2"])
        v["p"][:] = params
        opt = params = grads = decay = None
        if job.get("optimizer"):
            opt = get_optimizer(job["optimizer"])
            pieces, keys = _helper_keys(net)
            params = {k: v["p"][c] for k, c in pieces if k in keys}
            grads = {k: v["g"][c] for k, c in pieces if k in keys}  # the trainer's summed gradients
            decay = {k: net._flat_decay[c] for k, c in pieces if k in keys}

            def shared_slot(key, slot, like):
                buf = v.get(f"state/{slot}")
                if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
                    return None
                buf[...] = 0
                return buf

            opt.slot_memory = shared_slot
        header[_STATUS] = _READY
    except Exception as exc:  # said to the trainer, which trains without the helper
        report(exc)
        os.eventfd_write(done, 1)
        return
    os.eventfd_write(done, 1)
    dropouts = [l for l in net.train_layers if isinstance(l, Dropout)]
    x, y, out = v["x"], v["y"], v["out"]

    def parent_alive() -> bool:
        return os.getppid() == parent

    while _wait(go, HELPER_SPIN_S, parent_alive):
        command = header[_CMD]
        try:
            if command == _STEP:
                m, n = int(header[_ROWS]), int(header[_TOTAL])
                if header[_KEEP]:
                    for layer in dropouts:
                        layer.preset_keep = v[f"keep/{layer.name}"][:m]
                # as the trainer computes: overflow is judged there, from the summed loss
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    result = _forward(net._steps, x[:m], True, None)
                    loss, grad = net.loss(result, y[:m])
                    grad *= m / n
                    _backward(net._steps, grad)
                out[:m] = result
                header[_LOSS] = loss
            elif command == _UPDATE and opt is not None:
                opt.lr = float(header[_LR])
                opt.t = int(header[_T]) - 1  # update() counts it
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    opt.update(params, grads, decay)
            else:
                break
            header[_STATUS] = _OK
        except Exception as exc:
            report(exc)
        os.eventfd_write(done, 1)


if __name__ == "__main__":
    serve(json.loads(sys.stdin.buffer.read()))
