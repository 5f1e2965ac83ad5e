"""Training in a worker process: data through shared memory, networks as plain data, the protocol.

No Qt here: the worker side (:mod:`playground.engine.train.remote`) is driven through a
real ``spawn`` process and a pipe, as the app's session drives it.
"""

import dataclasses
import threading

import numpy as np
import pytest

from playground.engine.errors import PlaygroundError
from playground.engine.train import remote
from playground.engine.data.datasets import make_dataset
from playground.engine.nn.network import Network
from playground.engine.train.trainer import TrainConfig, TrainControl, Trainer
from playground.engine.project import load_preset


def spiral_setup(epochs=2, **training):
    project = load_preset("spiral")
    data = make_dataset(project["dataset"])
    config = TrainConfig.from_dict({**project["training"], "epochs": epochs, **training})
    return project, data, config


def test_a_large_data_set_crosses_through_shared_memory_read_only():
    data = make_dataset({"name": "spiral", "n_samples": 2000})
    shared = remote.SharedDataset(data, min_bytes=0)
    assert shared.block is not None and shared.nbytes >= data.x_train.nbytes + data.x_val.nbytes
    copy, block = remote.attach_dataset(shared.descriptor)
    try:
        for f in dataclasses.fields(data):
            a, b = getattr(data, f.name), getattr(copy, f.name)
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and np.array_equal(a, b)
                assert not b.flags.writeable  # a worker cannot change the window's data
            else:
                assert a == b
        with pytest.raises(ValueError):
            copy.x_train[0, 0] = 1.0
    finally:
        del copy
        block.close()
    user = shared.acquire()
    shared.release()  # the creator lets go; a user still holds it
    remote.attach_dataset(shared.descriptor)[1].close()  # still there
    user.release()
    assert shared.released and shared.block is None  # the last reference lets the block go
    with pytest.raises(PlaygroundError, match="cannot map the data set"):
        remote.attach_dataset(shared.descriptor)
    with pytest.raises(RuntimeError, match="already released"):
        shared.acquire()


def test_a_small_data_set_travels_inside_the_job():
    data = make_dataset({"name": "xor", "n_samples": 200})
    shared = remote.SharedDataset(data)
    assert shared.block is None and shared.descriptor["inline"] is data
    assert remote.attach_dataset(shared.descriptor) == (data, None)
    shared.release()


def test_a_network_crosses_as_an_image_with_its_weights():
    project = load_preset("simple-convnet")
    net = Network(project["network"], seed=3)
    net.weight_decay = 0.01
    extra = remote.pack_extra({"network": net, "other": 1})
    assert extra["other"] == 1 and "__network__" in extra["network"]
    back = remote.unpack_extra(extra)["network"]
    assert isinstance(back, Network) and back.summary() == net.summary() and back.weight_decay == 0.01
    w0, w1 = net.get_weights(), back.get_weights()
    assert all(np.array_equal(w0[k], w1[k]) and w1[k].dtype == w0[k].dtype for k in w0)


def run_worker(job):
    """Run ``serve`` in a spawned process; return every message it sent."""
    process, conn = remote.spawn_worker()
    conn.send(job)
    return rest_of(process, conn)


def rest_of(process, conn):
    """Every message the worker still sends until it closes the pipe; it must then end cleanly."""
    messages = []
    while True:
        try:
            messages.append(conn.recv())
        except EOFError:
            break
    process.join(10)
    assert process.exitcode == 0
    return messages


def test_the_worker_trains_the_same_bits_as_the_trainer_here():
    project, data, config = spiral_setup(epochs=2, stats_every=5)
    net = Network(project["network"], seed=1)
    start = net.get_weights()
    shared = remote.SharedDataset(data, min_bytes=0)  # through shared memory, as MNIST goes
    try:
        messages = run_worker(remote.make_job(net, shared.descriptor, config, max_rate_hz=1000.0))
    finally:
        shared.release()
    kinds = [m[0] for m in messages]
    assert kinds[0] == "began" and kinds[-1] == "ended" and kinds.count("epoch") == 2
    result, weights = messages[-1][1], messages[-1][2]
    assert result["status"] == "finished", result
    # the same network, data and seed trained here: bit for bit the worker's weights
    here = Network(project["network"], seed=1)
    here.set_weights(start)
    Trainer(here, data, config).run()
    expected = here.get_weights()
    assert set(weights) == set(expected)
    assert all(np.array_equal(weights[k], expected[k]) for k in expected)
    # every batch is reported once, in order, with its statistics batches
    steps = [s for m in messages if m[0] == "progress" for s in m[1]["steps"]]
    assert steps == list(range(1, result["steps"] + 1))
    stats = [log for m in messages if m[0] == "progress" for log in m[1]["stats"]]
    assert stats and all("histograms" in log for log in stats)


def test_the_worker_obeys_commands_and_says_when_it_is_paused():
    project, data, config = spiral_setup(epochs=50)
    net = Network(project["network"], seed=0)
    job = remote.make_job(net, remote.SharedDataset(data).descriptor, config, max_rate_hz=1000.0,
                          commands=("pause",))
    process, conn = remote.spawn_worker()
    conn.send(job)

    def until_idle():
        seen = []
        while True:
            assert conn.poll(30), "the worker said nothing for 30 s"
            message = conn.recv()
            if message[0] == "idle":
                return seen, message
            if message[0] == "progress":
                seen += message[1]["steps"]

    # paused from the start: nothing trained, and it says so
    assert until_idle() == ([], ("idle", 0, 0))
    conn.send((("step", 1), 1))
    assert until_idle() == ([1], ("idle", 1, 1))
    conn.send((("step", 2), 2))
    assert until_idle() == ([2, 3], ("idle", 3, 2))
    # a message it does not understand is reported, and it still obeys the next one
    conn.send((("dance", 1), 3))
    conn.send("stop")
    conn.send(("stop", 4))
    rest = rest_of(process, conn)
    warnings = [m[1] for m in rest if m[0] == "warning"]
    assert len(warnings) == 2 and "expected a command 'pause', 'resume', 'stop', ('step', n) or ('optimizer', {setting: value}), got ('dance', 1)" \
        in warnings[0] and "expected (command, sequence number), got 'stop'" in warnings[1]
    assert rest[-1][0] == "ended" and rest[-1][1]["status"] == "cancelled" and rest[-1][1]["steps"] == 3


def test_a_job_that_cannot_be_built_ends_with_an_error_not_a_dead_process():
    project, data, config = spiral_setup()
    net = Network(project["network"], seed=0)
    job = remote.make_job(net, remote.SharedDataset(data).descriptor, config)
    job["network"]["weights"] = {"nonsense": np.zeros(3)}
    messages = run_worker(job)
    assert messages[-1][0] == "ended"
    result, weights = messages[-1][1], messages[-1][2]
    assert result["status"] == "error" and "do not match" in result["message"] and weights is None


def test_an_epochs_confusion_matrix_comes_from_the_trainers_validation_pass(monkeypatch):
    """The relay hands the trainer's validation predictions to the snapshot maker: one pass per epoch."""
    from playground.engine.train.snapshots import SnapshotMaker

    project, data, config = spiral_setup(epochs=3)
    net = Network(project["network"], seed=0)
    sent, control = [], TrainControl()
    relay = remote.Relay(lambda kind, payload: sent.append((kind, payload)), net, control)
    relay.snapshot_fn = SnapshotMaker(data, relay.context, epochs=3)
    trainer = Trainer(net, data, config, control=control, callbacks=[relay])
    monkeypatch.setattr(SnapshotMaker, "_confusion_matrix",
                        lambda *a: pytest.fail("a second validation pass at an epoch's end"))
    trainer.run()
    epochs = [p for kind, p in sent if kind == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for e in epochs:
        cm = e["extra"]["confusion"]
        assert cm["epoch"] == e["epoch"] and cm["matrix"].sum() == len(data.y_val)
        assert np.trace(cm["matrix"]) / len(data.y_val) == pytest.approx(e["val_accuracy"])
    assert not any("confusion" in (p.get("extra") or {}) for kind, p in sent if kind == "progress")


def test_a_long_epochs_last_batch_is_reported_before_its_validation(monkeypatch):
    """Reports keep to the rate, except that a long epoch's last batch goes out at once."""
    sent, clock = [], iter([100.0, 101.2, 101.21, 200.0, 200.01, 200.02])
    monkeypatch.setattr(remote.time, "monotonic", lambda: next(clock))
    relay = remote.Relay(lambda kind, payload: sent.append(payload["steps"]), None, TrainControl())

    def batch(step, b):
        relay.on_batch_end(step, {"epoch": 1, "batch": b, "batches": 3, "loss": 1.0, "lr": 0.1})

    for step, b in ((1, 1), (2, 2), (3, 3)):  # an epoch of 1.21 s: its last batch within 10 ms of a report
        batch(step, b)
    assert sent == [[1], [2], [3]]
    for step, b in ((4, 1), (5, 2), (6, 3)):  # an epoch of 20 ms: one report, the rest waits for the rate
        batch(step, b)
    assert sent == [[1], [2], [3], [4]]


def test_idle_is_reported_after_every_batch_is(monkeypatch):
    """Pause pressed just after the relay looked (so the batch stayed in its buffer): the paused
    worker first sends that batch, then says it is idle, never the other way round."""
    sent, control = [], TrainControl()
    monkeypatch.setattr(remote.time, "monotonic", lambda: 100.0)  # no report is due by the rate
    relay = remote.Relay(lambda kind, payload: sent.append((kind, payload["steps"])), None, control)
    relay.last_emit = 100.0
    relay.on_batch_end(7, {"epoch": 1, "batch": 7, "batches": 50, "loss": 1.0, "lr": 0.1})
    control.pause()
    assert sent == []  # the batch waits in the relay
    state = {"seq": 4, "sent_seq": -1}
    on_block = remote.idle_reporter(relay, state, lambda *message: sent.append(message))
    on_block()
    on_block()  # a quarter second later, still paused: nothing new to say
    assert sent == [("progress", [7]), ("idle", 7, 4)]


def test_the_blocked_trainer_reports_without_holding_the_control():
    """on_block runs without the control's lock, so Resume (from the command thread) never waits for it."""
    control, resumed = TrainControl(), []
    control.pause()

    def on_block():
        t = threading.Thread(target=lambda: (control.resume(), resumed.append(True)))
        t.start()
        t.join(2)  # under the lock this would time out: resume() needs it
        assert resumed, "resume() waited for on_block"

    control.on_block = on_block
    assert control.wait() is True and resumed


def test_the_worker_applies_new_optimizer_settings_from_its_next_batch_and_reports_where():
    project, data, config = spiral_setup(epochs=50, optimizer={"type": "momentum", "lr": 0.05}, schedule=None)
    net = Network(project["network"], seed=0)
    job = remote.make_job(net, remote.SharedDataset(data).descriptor, config, max_rate_hz=1000.0,
                          commands=("pause",))
    process, conn = remote.spawn_worker()
    conn.send(job)
    progress = []

    def until_idle(seq):
        while True:
            assert conn.poll(30), "the worker said nothing for 30 s"
            message = conn.recv()
            if message[0] == "progress":
                progress.append(message[1])
            if message[0] == "idle" and message[2] == seq:
                return

    conn.send((("step", 2), 1))
    until_idle(1)
    conn.send((("optimizer", {"lr": 0.5, "momentum": 0.5}), 2))
    conn.send((("step", 1), 3))
    until_idle(3)
    conn.send(("stop", 4))
    rest_of(process, conn)
    lrs = [lr for p in progress for lr in p["lr"]]
    changes = [c for p in progress for c in p["changes"]]
    assert lrs == [0.05, 0.05, 0.5]
    # the third batch (epoch position 3 of 15 batches) applied them
    assert changes == [(pytest.approx(3 / 15), {"lr": 0.5, "momentum": 0.5})]
