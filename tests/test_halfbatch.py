"""A helper process for the second half of each batch of a dense network (engine/train/halfbatch.py)."""

import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from playground.engine.train import halfbatch
from playground.engine.data.datasets import Dataset
from playground.engine.train.halfbatch import HalfBatchHelper, HelperError, Layout
from playground.engine.nn.network import Network
from playground.engine.nn.optimizers import get_optimizer
from playground.engine.train.parallel import worker_threads
from playground.engine.train.trainer import TrainConfig, Trainer
from test_remote import run_worker

pytestmark = pytest.mark.skipif(not halfbatch.available(), reason="the helper needs Linux (memfd_create, eventfd)")

MLP = {"input_shape": [1, 8, 8],
       "layers": [{"type": "Flatten"},
                  {"type": "Dense", "units": 32, "activation": "relu", "init": "he_normal"},
                  {"type": "Dense", "units": 32, "activation": "relu", "init": "he_normal"},
                  {"type": "Dense", "units": 4}, {"type": "Softmax"}],
       "loss": "softmax_cross_entropy"}


def mlp(dropout=False, **extra):
    spec = {**MLP, **extra}
    if dropout:
        spec = {**spec, "layers": spec["layers"][:2] + [{"type": "Dropout", "rate": 0.3}] + spec["layers"][2:]}
    return Network(spec, seed=3)


def blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.normal(0, 1, (n, 1, 8, 8)).astype(np.float32)
    x[np.arange(n), 0, y, y] += 3.0  # a learnable class signal
    return SimpleNamespace(x_train=x, y_train=y, x_val=x[:100], y_val=y[:100], kind="classification")


class Events:
    def __init__(self, on_batch=None):
        self.warnings, self.losses, self.on_batch = [], [], on_batch

    def on_warning(self, message):
        self.warnings.append(message)

    def on_batch_end(self, step, logs):
        self.losses.append(logs["loss"])
        if self.on_batch is not None:
            self.on_batch(step)


@pytest.fixture
def always_split(monkeypatch):
    """Use a helper for any splittable network, whatever its size and the number of CPUs here."""
    monkeypatch.setattr(halfbatch, "worth_it", lambda net, bs, threads: halfbatch.splittable(net))


def train(net, data, events, trainer_box=None, **cfg):
    config = {"optimizer": {"type": "adam", "lr": 0.01}, "batch_size": 50, "epochs": 2, "seed": 1, **cfg}
    t = Trainer(net, data, TrainConfig.from_dict(config), callbacks=[events])
    if trainer_box is not None:
        trainer_box.append(t)
    t.run()
    return t


def test_the_helper_gives_the_numbers_this_process_gets_for_the_same_halves(always_split):
    """One run with the helper; one whose helper is killed after its first batch, so that this process
    computes every later second half and optimizer share itself: the same weights, bit for bit."""
    data = blobs()
    with_helper = mlp()
    events = Events()
    t = train(with_helper, data, events)
    assert not events.warnings and t._helper is not None and t._helper.failure == ""

    box = []
    killed = mlp()
    events2 = Events(on_batch=lambda step: box[0]._helper._proc.kill() if step == 1 else None)
    train(killed, data, events2, trainer_box=box)
    assert any(w.startswith("training goes on on one core: the helper process stopped") for w in events2.warnings)
    assert box[0]._helper.failure.startswith("the helper process stopped")
    np.testing.assert_array_equal(with_helper._flat_p, killed._flat_p)
    assert events.losses == events2.losses


def test_dropout_masks_reach_the_helper(always_split):
    data = blobs()
    a, b = mlp(dropout=True), mlp(dropout=True)
    train(a, data, Events())
    box = []
    events = Events(on_batch=lambda step: box[0]._helper._proc.kill() if step == 1 else None)
    train(b, data, events, trainer_box=box)
    assert box[0]._helper.failure
    np.testing.assert_array_equal(a._flat_p, b._flat_p)


def test_split_gradients_are_those_of_the_whole_batch():
    net = mlp()
    data = blobs(64)
    x, y = data.x_train, data.y_train
    opt = get_optimizer("adam")
    with HalfBatchHelper(net, 64, y[:1], opt) as helper:
        loss, _, out = net.loss_and_grads(x, y, pool=helper)
        split = {k: g.copy() for k, g in net.grads().items()}
        assert helper.alive
    whole_loss, _, whole_out = net.loss_and_grads(x, y)
    assert loss == pytest.approx(whole_loss, rel=1e-6)
    np.testing.assert_allclose(out, whole_out, rtol=1e-5, atol=1e-6)
    for k, g in net.grads().items():
        np.testing.assert_allclose(split[k], g, rtol=1e-4, atol=1e-6, err_msg=k)


def test_the_network_leaves_the_shared_block_when_the_helper_closes():
    net = mlp()
    before = net.get_weights()
    opt = get_optimizer("adam")
    helper = HalfBatchHelper(net, 50, np.zeros(1, np.int64), opt)
    assert np.shares_memory(net._flat_p, helper.v["p"])
    proc = helper._proc
    fds = list(helper._fds)
    shared = helper.v["p"]
    helper.close()
    assert proc.returncode == 0  # told to stop, it ended by itself
    assert not np.shares_memory(net._flat_p, shared)
    for k, w in net.get_weights().items():
        np.testing.assert_array_equal(w, before[k])
    # the layers' arrays are views of the network's own flat arrays again
    assert all(np.shares_memory(w, net._flat_p) for w in net.params().values())
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)
    assert opt.slot_memory is None


def test_a_helper_that_cannot_start_says_why_and_training_runs_unsplit(always_split, monkeypatch):
    monkeypatch.setattr(halfbatch.sys, "executable", "/bin/false")
    net = mlp()
    events = Events()
    t = train(net, blobs(), events, epochs=1)
    assert t._helper is None
    assert events.warnings and events.warnings[0].startswith("training runs on one core: the helper process "
                                                             "ended as it started")
    reference = mlp()
    monkeypatch.setattr(halfbatch, "worth_it", lambda *a: False)
    train(reference, blobs(), Events(), epochs=1)
    np.testing.assert_array_equal(net._flat_p, reference._flat_p)


def test_helper_error_when_it_cannot_start(monkeypatch):
    monkeypatch.setattr(halfbatch.sys, "executable", "/bin/false")
    net = mlp()
    before = net._flat_p.copy()
    with pytest.raises(HelperError, match="ended as it started"):
        HalfBatchHelper(net, 50, np.zeros(1, np.int64), get_optimizer("adam"))
    np.testing.assert_array_equal(net._flat_p, before)
    assert all(np.shares_memory(w, net._flat_p) for w in net.params().values())


def test_who_gets_a_helper():
    big = Network({**MLP, "input_shape": [1, 28, 28],
                   "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 100}, {"type": "Dense", "units": 10},
                              {"type": "Softmax"}]})
    assert big.mult_adds() == 784 * 100 + 100 * 10
    assert halfbatch.worth_it(big, 100, 2)
    assert not halfbatch.worth_it(big, 100, 1)                     # one CPU
    assert not halfbatch.worth_it(big, 8, 2)                       # batches too small to split
    assert not halfbatch.worth_it(mlp(), 100, 2)                   # too little work a batch
    bn = Network({**MLP, "layers": MLP["layers"][:2] + [{"type": "BatchNorm"}] + MLP["layers"][2:]})
    assert not halfbatch.splittable(bn)                            # needs the whole batch's statistics
    conv = Network({"input_shape": [1, 8, 8], "layers": [{"type": "Conv2D", "filters": 2, "kernel": 3},
                                                         {"type": "Flatten"}, {"type": "Dense", "units": 2},
                                                         {"type": "Softmax"}]})
    assert not halfbatch.splittable(conv)                          # split over threads instead


def test_layout_keeps_arrays_apart_and_aligned():
    net = mlp(dropout=True)
    layout = Layout.for_network(net, 25, (), np.dtype(np.int64), 1000)
    spans = sorted((off, off + int(np.prod(shape)) * np.dtype(dt).itemsize) for off, shape, dt in
                   layout.entries.values())
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert all(off % 64 == 0 for off, _ in spans)
    assert layout.entries["x"][1] == (25, 1, 8, 8) and "keep/dropout1" in layout.entries
    assert Layout.from_json(layout.to_json()).entries == layout.entries


def test_optimizer_state_may_live_in_given_memory():
    opt = get_optimizer("adam")
    given = {}

    def memory(key, slot, like):
        if key == "b":
            given[slot] = np.zeros_like(like)
            return given[slot]
        return None

    opt.slot_memory = memory
    p = {"a": np.ones(3), "b": np.ones(3)}
    opt.update(p, {"a": np.ones(3), "b": np.ones(3)})
    assert set(given) == {"m", "v", "tmp"}
    assert all(opt.state["b"][s] is given[s] for s in given)
    assert not any(opt.state["a"][s] is given.get(s) for s in opt.state["a"])


def test_the_helper_ends_when_its_trainer_process_dies(tmp_path):
    """A helper whose parent is killed exits by itself (it asks for its parent while it waits)."""
    import select
    import subprocess

    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, numpy as np\n"
        "from playground.engine.train.halfbatch import HalfBatchHelper\n"
        "from playground.engine.nn.network import Network\n"
        "from playground.engine.nn.optimizers import get_optimizer\n"
        f"net = Network({MLP!r})\n"
        "h = HalfBatchHelper(net, 50, np.zeros(1, np.int64), get_optimizer('adam'))\n"
        "print(h._proc.pid, flush=True)\n"
        "sys.stdin.read()\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    pid = int(parent.stdout.readline())
    watch = os.pidfd_open(pid)  # readable when the helper ends, though it is not our child
    try:
        parent.kill()
        parent.wait()
        ready, _, _ = select.select([watch], [], [], 10.0)
        if not ready:
            os.kill(pid, 9)
        assert ready, "the helper outlived its trainer by 10 s"
    finally:
        os.close(watch)


@pytest.mark.skipif(worker_threads() < 2, reason="a helper needs two CPUs")
def test_the_apps_worker_process_trains_with_a_helper_to_the_same_bits():
    """The app trains in a worker process, which starts its own helper: the same weights as here."""
    from playground.engine.train import remote

    spec = {"input_shape": [1, 28, 28], "loss": "softmax_cross_entropy",
            "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 128, "activation": "relu"},
                       {"type": "Dense", "units": 10}, {"type": "Softmax"}]}
    rng = np.random.default_rng(5)
    x = rng.random((600, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 600)
    data = Dataset(x_train=x, y_train=y, x_val=x[:100], y_val=y[:100], kind="classification", n_classes=10,
                   input_shape=(1, 28, 28), name="random digits")
    config = TrainConfig.from_dict({"batch_size": 100, "epochs": 2, "seed": 2, "stats_every": 4})
    net = Network(spec, seed=2)
    assert halfbatch.worth_it(net, 100, worker_threads())
    start = net.get_weights()
    shared = remote.SharedDataset(data, min_bytes=0)
    try:
        messages = run_worker(remote.make_job(net, shared.descriptor, config, max_rate_hz=1000.0))
    finally:
        shared.release()
    result, weights = messages[-1][1], messages[-1][2]
    assert result["status"] == "finished", result
    assert not [m for m in messages if m[0] == "warning"]
    here = Network(spec, seed=2)
    here.set_weights(start)
    t = Trainer(here, data, config)
    t.run()
    assert t._helper is not None and not t._helper.failure
    expected = here.get_weights()
    assert all(np.array_equal(weights[k], expected[k]) for k in expected)
