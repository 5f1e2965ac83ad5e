"""Train in another process and report through a pipe (no Qt here).

Why a process: a window that paints live plots in Python holds the GIL a
good part of every second, and a trainer in a thread of the same process
waits for it. In a process of its own the trainer has its interpreter to
itself; only small messages cross.

The worker side is :func:`serve`, the target of a ``spawn`` process. It
receives one job, trains, and sends messages; a listener thread applies the
control messages that arrive meanwhile. The GUI side lives in
:mod:`playground.ui.worker`.

Messages to the worker: the job dict first, then ``(command, seq)`` with
command one of ``"pause"``, ``"resume"``, ``"stop"``, ``("step", n)``, or
``("optimizer", {"lr": 0.5, ...})``: optimizer settings the trainer applies
from its next batch (a batch that applied them says so in its logs'
``optimizer_changed``).

Messages from the worker (tuples, the first item names them):

- ``("began", logs)``
- ``("progress", snapshot)``: see :class:`Relay`; a :class:`Network` in
  ``snapshot["extra"]`` travels as a :func:`network_image`
- ``("epoch", logs)``, ``("warning", message)``
- ``("idle", step, seq)``: the trainer is paused after ``step`` batches, all
  reported, having applied every command up to ``seq``
- ``("ended", result, weights)``: the last message; ``weights`` are the
  trained network's arrays (None if it could not be built)

Large arrays of the data set cross once, through shared memory
(:class:`SharedDataset`, a block without a name on Linux), not through the pipe.
"""

from __future__ import annotations

import dataclasses
import mmap
import multiprocessing
import os
import secrets
import threading
import time
from multiprocessing import shared_memory
from typing import Any, Callable

import numpy as np

from playground.engine.errors import PlaygroundError
from playground.engine.nn.network import Network, network_from_image, network_image
from playground.engine.train.trainer import TrainConfig, TrainControl, Trainer

#: data sets smaller than this travel inside the job message instead of shared memory
SHARE_MIN_BYTES = 4 << 20
#: the worker gathers statistics at most this often (seconds): the dashboard draws them 10 times a second
STATS_MIN_SECONDS = 0.1
_ALIGN = 64


# ---------------------------------------------------------------------- networks as plain data
def packed_network(net: Network) -> dict[str, Any]:
    """``net`` as a tagged :func:`~.model.network_image`, which :func:`unpack_extra` turns back into a Network."""
    return {"__network__": network_image(net)}


def pack_extra(extra: Any) -> Any:
    """A snapshot's extra with every Network replaced by a tagged image (to pickle it cheaply)."""
    if isinstance(extra, dict):
        return {k: (packed_network(v) if isinstance(v, Network) else v) for k, v in extra.items()}
    return extra


def unpack_extra(extra: Any) -> Any:
    if isinstance(extra, dict):
        return {k: (network_from_image(v["__network__"]) if isinstance(v, dict) and "__network__" in v else v)
                for k, v in extra.items()}
    return extra


# ---------------------------------------------------------------------- data in shared memory
class _AnonymousBlock:
    """Shared memory without a name (Linux's ``memfd_create``), as the helper's block in :mod:`.halfbatch`.

    Nothing appears in /dev/shm, so no kill of any process can leave it
    behind: the kernel frees it when the last process holding it ends. A
    worker opens it through ``/proc/<creator>/fd/<fd>``, read-only.
    """

    def __init__(self, size: int):
        self.tag = f"playground-data-{os.getpid()}-{secrets.token_hex(8)}"
        self.size = size
        self.fd = os.memfd_create(self.tag, os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, size)
            self._map = mmap.mmap(self.fd, size)
        except BaseException:
            os.close(self.fd)
            raise
        self.buf = memoryview(self._map)

    def handle(self) -> dict[str, Any]:
        return {"memfd": self.fd, "pid": os.getpid(), "tag": self.tag, "size": self.size}

    def close(self) -> None:
        self.buf.release()
        try:
            self._map.close()
        except BufferError:  # a view is still alive here: the mapping goes with it
            pass
        os.close(self.fd)


class _NamedBlock:
    """A named POSIX shared-memory block, where there is no memfd (macOS, Windows)."""

    def __init__(self, size: int):
        self.shm = shared_memory.SharedMemory(create=True, size=size)
        self.size = self.shm.size
        self.buf = self.shm.buf

    def handle(self) -> dict[str, Any]:
        return {"name": self.shm.name}

    def close(self) -> None:
        self.shm.close()
        try:
            self.shm.unlink()
        except FileNotFoundError:
            pass


def _new_block(size: int) -> _AnonymousBlock | _NamedBlock:
    if hasattr(os, "memfd_create") and os.path.isdir(f"/proc/{os.getpid()}/fd"):
        return _AnonymousBlock(size)
    return _NamedBlock(size)


class SharedDataset:
    """A copy of a data set's arrays in one shared-memory block, for worker processes to map.

    On Linux the block has no name (see :class:`_AnonymousBlock`), so nothing
    is left in /dev/shm whatever ends this process. Reference counted: the
    creator holds one reference; :meth:`acquire` one more per user. The block
    is let go when the last one is released (a worker that mapped it keeps its
    mapping until it exits).
    """

    def __init__(self, data: Any, min_bytes: int = SHARE_MIN_BYTES):
        if not dataclasses.is_dataclass(data):
            raise TypeError(f"expected a dataclass holding arrays, got {type(data).__name__}")
        arrays = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)
                  if isinstance(getattr(data, f.name), np.ndarray)}
        self.data = data
        self._refs = 1
        self._lock = threading.Lock()
        self.block: _AnonymousBlock | _NamedBlock | None = None
        total = sum(-(-a.nbytes // _ALIGN) * _ALIGN for a in arrays.values())
        if total < min_bytes:
            self.descriptor: dict[str, Any] = {"inline": data}
            return
        self.block = _new_block(max(total, 1))
        layout, offset = {}, 0
        try:
            for name, a in arrays.items():
                a = np.ascontiguousarray(a)
                np.ndarray(a.shape, a.dtype, buffer=self.block.buf, offset=offset)[...] = a
                layout[name] = (offset, a.shape, a.dtype.str)
                offset += -(-a.nbytes // _ALIGN) * _ALIGN
        except BaseException:  # no block left behind
            self.block.close()
            self.block = None
            raise
        empty = {name: np.empty((0,) + a.shape[1:], a.dtype) for name, a in arrays.items()}
        self.descriptor = {"block": self.block.handle(), "layout": layout,
                           "template": dataclasses.replace(data, **empty)}

    @property
    def nbytes(self) -> int:
        return self.block.size if self.block is not None else 0

    @property
    def released(self) -> bool:
        """True once the last reference was released (the block, if any, is let go)."""
        return self._refs <= 0

    def acquire(self) -> "SharedDataset":
        with self._lock:
            if self._refs <= 0:
                raise RuntimeError("this shared data set was already released")
            self._refs += 1
        return self

    def release(self) -> None:
        with self._lock:
            self._refs -= 1
            last = self._refs == 0
        if last and self.block is not None:
            self.block.close()
            self.block = None


def _map_block(handle: dict[str, Any]) -> Any:
    """The block a :meth:`_AnonymousBlock.handle` or :meth:`_NamedBlock.handle` names, mapped here read-only;
    something with ``close()``."""
    if "name" in handle:
        return shared_memory.SharedMemory(name=handle["name"])
    path = f"/proc/{int(handle['pid'])}/fd/{int(handle['memfd'])}"
    try:
        target = os.readlink(path)
        if target != f"/memfd:{handle['tag']} (deleted)":  # the window closed it and the number went to another file
            raise FileNotFoundError(f"{path} is {target}, not the data set's block")
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise PlaygroundError(f"the training process cannot map the data set the window shared: {exc}; "
                              "train again") from None
    try:
        if os.fstat(fd).st_size < int(handle["size"]):
            raise PlaygroundError("the data set the window shared is smaller than announced; train again")
        return mmap.mmap(fd, int(handle["size"]), prot=mmap.PROT_READ)
    finally:
        os.close(fd)


def attach_dataset(descriptor: dict[str, Any]) -> tuple[Any, Any]:
    """The data set a :class:`SharedDataset` describes, its arrays read-only views of the block, and the
    mapping (to ``close()`` when the views are gone), None when the data came inline."""
    if "inline" in descriptor:
        return descriptor["inline"], None
    block = _map_block(descriptor["block"])
    buffer = block.buf if isinstance(block, shared_memory.SharedMemory) else block
    views = {}
    for name, (offset, shape, dtype) in descriptor["layout"].items():
        a = np.ndarray(tuple(shape), np.dtype(dtype), buffer=buffer, offset=offset)
        a.flags.writeable = False
        views[name] = a
    return dataclasses.replace(descriptor["template"], **views), block


# ---------------------------------------------------------------------- reporting (either side)
class Relay:
    """Trainer callbacks → throttled reports through ``send(kind, payload)``.

    ``progress`` holds every batch since the previous one:
    ``{"steps": [...], "loss": [...], "accuracy": [...], "lr": [...], "epoch_pos": [...],
    "stats": [logs of statistics batches], "changes": [(epoch_pos, {setting: value}) of batches that
    applied new optimizer settings], "last": {latest batch logs}, "extra": snapshot_fn(net)}``.
    It is sent at most ``max_rate_hz`` times a second, and after every batch
    while paused (a user stepping batch by batch sees each one), and after the
    last batch of an epoch that took a second or more (before its validation pass).
    """

    def __init__(self, send: Callable[[str, Any], None], net: Network, control: TrainControl,
                 snapshot_fn: Callable[[Network], Any] | None = None, max_rate_hz: float = 20.0):
        self.send = send
        self.net = net
        self.control = control
        self.snapshot_fn = snapshot_fn
        self.period = 1.0 / max_rate_hz
        self.last_emit = 0.0
        self.step = 0
        self._epoch_extra: dict | None = None
        self._epoch_began = 0.0
        self._reset()

    def _reset(self) -> None:
        self.buf: dict[str, list] = {"steps": [], "loss": [], "accuracy": [], "lr": [], "epoch_pos": [],
                                     "stats": [], "changes": []}
        self.last: dict[str, Any] = {}

    def context(self) -> tuple[dict, bool, bool]:
        """(latest batch logs, paused, cancelled): what a snapshot function needs to know."""
        return self.last, self.control.paused, self.control.cancelled

    def on_train_begin(self, logs):
        self.send("began", dict(logs))

    def on_batch_end(self, step, logs):
        b = self.buf
        b["steps"].append(step)
        b["loss"].append(logs["loss"])
        b["accuracy"].append(logs.get("accuracy"))
        b["lr"].append(logs["lr"])
        b["epoch_pos"].append(logs["epoch"] - 1 + logs["batch"] / logs["batches"])
        if "optimizer_changed" in logs:
            b["changes"].append((b["epoch_pos"][-1], dict(logs["optimizer_changed"])))
        if "histograms" in logs:  # a statistics batch: keep it even when it is not the last one
            b["stats"].append(logs)
        self.last = logs
        self.step = step
        now = time.monotonic()
        if logs["batch"] == 1:
            self._epoch_began = now
        # a long epoch's last batch goes out at once, before the validation pass that follows (on a
        # big set it takes a while); a tiny network's epochs stay within the rate
        long_epoch_done = logs["batch"] == logs["batches"] and now - self._epoch_began >= 1.0
        if now - self.last_emit >= self.period or self.control.paused or long_epoch_done:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if not self.buf["steps"]:
            return
        snap = dict(self.buf)
        snap["last"] = self.last
        if self.snapshot_fn is not None:
            snap["extra"] = self.snapshot_fn(self.net)
        self.send("progress", snap)
        self.last_emit = time.monotonic() if now is None else now
        self._reset()

    @property
    def wants_val_predictions(self) -> bool:
        """True when the snapshot function turns the trainer's validation predictions into pictures."""
        return callable(getattr(self.snapshot_fn, "from_val_predictions", None))

    def on_val_predictions(self, epoch, pred):
        self._epoch_extra = self.snapshot_fn.from_val_predictions(pred, epoch)

    def on_epoch_end(self, epoch, logs):
        """Sends the epoch's logs, with ``"extra"``: the pictures made from its validation predictions."""
        self.flush()
        message = dict(logs)
        if self._epoch_extra:
            message["extra"], self._epoch_extra = self._epoch_extra, None
        self.send("epoch", message)

    def on_warning(self, message):
        self.send("warning", message)

    def on_train_end(self, logs):
        self.flush()


# ---------------------------------------------------------------------- the worker process
def apply_command(control: TrainControl, command: Any) -> None:
    if command == "pause":
        control.pause()
    elif command == "resume":
        control.resume()
    elif command == "stop":
        control.cancel()
    elif isinstance(command, (tuple, list)) and len(command) == 2 and command[0] == "step":
        control.step(int(command[1]))
    elif isinstance(command, (tuple, list)) and len(command) == 2 and command[0] == "optimizer" \
            and isinstance(command[1], dict):
        control.set_optimizer(command[1])
    else:
        raise ValueError(f"expected a command 'pause', 'resume', 'stop', ('step', n) or ('optimizer', "
                         f"{{setting: value}}), got {command!r}")


def serve(conn) -> None:
    """Entry point of a worker process: run one job from ``conn``, report through it, then return."""
    send_lock = threading.Lock()

    def send(*message) -> None:
        with send_lock:
            conn.send(message)

    control = TrainControl()
    state = {"seq": 0, "sent_seq": -1}
    held: dict[str, Any] = {}  # the shared memory attached and the trained weights
    try:
        job = conn.recv()
        state["seq"] = job.get("seq", 0)
        for command in job.get("commands", ()):
            apply_command(control, command)

        def listen() -> None:
            while True:
                try:
                    message = conn.recv()
                except (EOFError, OSError):  # the window went away: stop training
                    control.cancel()
                    return
                try:
                    if not (isinstance(message, (tuple, list)) and len(message) == 2):
                        raise ValueError(f"expected (command, sequence number), got {message!r}")
                    command, seq = message
                    apply_command(control, command)
                except (TypeError, ValueError, IndexError) as e:  # keep listening: Stop must still work
                    send("warning", f"the training process ignored a message from the window: {e}")
                    continue
                state["seq"] = seq
                if command == "stop":
                    return

        threading.Thread(target=listen, name="playground-control", daemon=True).start()

        def train() -> dict:
            data, held["shm"] = attach_dataset(job["data"])
            net = network_from_image(job["network"])
            relay = Relay(lambda kind, payload: send(kind, _packed(kind, payload)), net, control,
                          max_rate_hz=job.get("max_rate_hz", 20.0))
            factory = job.get("snapshot")
            if factory is not None:
                make, kwargs = factory
                relay.snapshot_fn = make(data, relay.context, **kwargs)
            control.on_block = idle_reporter(relay, state, send)
            trainer = Trainer(net, data, job["config"], control=control, callbacks=[relay],
                              stats_min_seconds=STATS_MIN_SECONDS)
            trainer.run()
            held["weights"] = net.get_weights()
            return dict(trainer.status)

        send("ended", run_reporting_errors(train), held.get("weights"))
    except (EOFError, OSError, BrokenPipeError):
        pass  # the window is gone; nobody to report to
    finally:
        conn.close()
        if held.get("shm") is not None:
            try:
                held["shm"].close()
            except BufferError:  # views of it are still alive; the process exit unmaps it
                pass


def run_reporting_errors(work: Callable[[], dict]) -> dict:
    """``work()``'s result, or the error it raised as ``{"status": "error", "message": ...}``: a user's
    mistake (a PlaygroundError) as it is, a bug with its type, so a run never ends without a word."""
    try:
        return work()
    except PlaygroundError as e:
        return {"status": "error", "message": str(e)}
    except Exception as e:
        return {"status": "error", "message": f"{type(e).__name__}: {e}"}


def idle_reporter(relay: Relay, state: dict, send: Callable[..., None]) -> Callable[[], None]:
    """The worker's ``on_block``: paused between batches, report every batch not yet sent, then
    ``("idle", step, seq)`` once per command seen (``state``: the latest command's ``seq`` and the
    ``sent_seq`` of the last idle report). A Pause that arrives just after the relay looked at the
    control leaves the batch's report in the relay: "idle" must never overtake it."""
    def on_block() -> None:
        relay.flush()
        if state["seq"] != state["sent_seq"]:
            state["sent_seq"] = state["seq"]
            send("idle", relay.step, state["seq"])
    return on_block


def spawn_worker() -> tuple[Any, Any]:
    """A new worker process running :func:`serve`, and this side's end of its pipe (send it a job).

    ``spawn``, never ``fork``: the caller may run Qt's threads, which a forked child would inherit half-dead.
    """
    ctx = multiprocessing.get_context("spawn")
    conn, child = ctx.Pipe(duplex=True)
    process = ctx.Process(target=serve, args=(child,), name="playground-trainer", daemon=True)
    try:
        process.start()
    except BaseException:
        conn.close()
        raise
    finally:
        child.close()
    return process, conn


def _packed(kind: str, payload: Any) -> Any:
    if kind == "progress" and "extra" in payload:
        payload = dict(payload)
        payload["extra"] = pack_extra(payload["extra"])
    return payload


def make_job(net: Network, data_descriptor: dict[str, Any], config: TrainConfig | dict,
             snapshot: tuple[Callable, dict] | None = None, max_rate_hz: float = 20.0,
             commands: tuple = ()) -> dict[str, Any]:
    """The first message to a worker: what to train, on what, how, and what to report."""
    return {"network": network_image(net), "data": data_descriptor, "config": config, "snapshot": snapshot,
            "max_rate_hz": max_rate_hz, "commands": tuple(commands)}
