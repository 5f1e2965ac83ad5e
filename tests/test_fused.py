"""The fused Conv2D → [ReLU] → MaxPool2D step and the two-shard batches give the layers' numbers."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from playground.engine.nn.fused import ConvReluMaxPool, plan_steps
from playground.engine.nn.base import Layer
from playground.engine.nn.network import SHARD_MIN_BATCH, Network
from playground.engine.train.parallel import shard_pool
from playground.engine.train.trainer import Trainer

from test_layers import check


def conv_pool_spec(conv=None, pool=None, relu=True, first=False, shape=(2, 11, 10)):
    conv = {"type": "Conv2D", "filters": 3, "kernel": 3, **(conv or {})}
    if relu:
        conv["activation"] = "relu"
    layers = [] if first else [{"type": "Conv2D", "filters": 2, "kernel": 1}]
    layers += [conv, {"type": "MaxPool2D", "pool": 2, **(pool or {})}, {"type": "Flatten"},
               {"type": "Dense", "units": 4}, {"type": "Softmax"}]
    return {"input_shape": list(shape), "layers": layers}


def layer_by_layer(net, x, y):
    """Forward and backward through each layer's own code, as if nothing were fused."""
    outs = []
    h = x
    for layer in net.train_layers:
        h = layer.forward(h, True)
        outs.append((layer.name, h.copy()))
    _, g = net.loss(h, y)
    for layer in reversed(net.train_layers):
        g = layer.backward(g)
        if g is None:
            break
    return outs, g, {k: v.copy() for k, v in net.grads().items()}


def test_plan_fuses_only_conv_relu_and_a_tiling_max_pool():
    def kinds(spec):
        steps = plan_steps(Network(spec).train_layers)
        return ["fused" if isinstance(s, ConvReluMaxPool) else s.type_name for s in steps]

    assert kinds(conv_pool_spec()) == ["Conv2D", "fused", "Flatten", "Dense"]
    assert kinds(conv_pool_spec(relu=False, first=True)) == ["fused", "Flatten", "Dense"]
    # overlapping or padded windows, average pooling, another activation: the layers run one by one
    assert kinds(conv_pool_spec(pool={"stride": 1}, first=True)) == ["Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense"]
    assert kinds(conv_pool_spec(pool={"padding": 1}, first=True))[:3] == ["Conv2D", "ReLU", "MaxPool2D"]
    spec = conv_pool_spec(first=True)
    spec["layers"][1]["type"] = "AvgPool2D"
    assert kinds(spec)[:3] == ["Conv2D", "ReLU", "AvgPool2D"]
    spec = conv_pool_spec(relu=False, first=True)
    spec["layers"].insert(1, {"type": "LeakyReLU"})
    assert kinds(spec)[:3] == ["Conv2D", "LeakyReLU", "MaxPool2D"]


@pytest.mark.parametrize("conv,pool,relu,shape", [
    ({}, {}, True, (2, 11, 10)),                                    # 9×8 output: a leftover row
    ({"stride": 2, "padding": 1}, {}, True, (2, 11, 10)),
    ({"kernel": 2}, {"pool": 3}, False, (1, 12, 9)),                # 11×8: two rows and two columns left over
    ({"padding": 1}, {"pool": 1}, True, (2, 5, 5)),
])
@pytest.mark.parametrize("ties", [False, True])
def test_fused_step_equals_the_layers(conv, pool, relu, shape, ties):
    net = Network(conv_pool_spec(conv, pool, relu, shape=shape), dtype=np.float64)
    assert any(isinstance(s, ConvReluMaxPool) for s in net._steps)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, *shape))
    y = rng.integers(0, 4, 5)
    if ties:  # small whole numbers: windows with several equal maxima, many exact zeros
        x = rng.integers(-2, 3, x.shape).astype(np.float64)
        for w in net.params().values():
            w[...] = rng.integers(-1, 2, w.shape)
    ref_outs, _, ref_grads = layer_by_layer(net, x, y)
    record = []
    out = net.forward(x, True, record)
    np.testing.assert_allclose(out, ref_outs[-1][1], rtol=1e-12, atol=1e-12)
    _, g = net.loss(out, y)
    net.backward(g)
    for key, ref in ref_grads.items():
        np.testing.assert_allclose(net.grads()[key], ref, rtol=1e-10, atol=1e-12, err_msg=key)
    # statistics see every layer, the conv output cropped to the rows and columns the pool reads
    assert [name for name, _ in record] == [name for name, _ in ref_outs]
    for (name, got), (_, ref) in zip(record, ref_outs):
        if ref.ndim == 4:
            ref = ref[:, :, :got.shape[2], :got.shape[3]]
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, err_msg=name)


def test_fused_step_input_gradient_equals_the_layers():
    net = Network(conv_pool_spec({"stride": 2, "padding": 1}, first=True), dtype=np.float64)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 11, 10))
    dx, _ = net.input_gradient(x, np.array([0, 1, 2]))
    first = net.train_layers[0]
    first.need_input_grad = True
    h = x
    for layer in net.train_layers:
        h = layer.forward(h, False)
    g = np.zeros_like(h)
    g[np.arange(3), [0, 1, 2]] = 1
    for layer in reversed(net.train_layers):
        g = layer.backward(g)
    np.testing.assert_allclose(dx, g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("conv,pool,relu", [({}, {}, True), ({"stride": 2, "padding": 1}, {"pool": 3}, False)])
def test_fused_step_gradient_check(conv, pool, relu):
    check(conv_pool_spec(conv, pool, relu), (3, 2, 11, 10))
    check(conv_pool_spec(conv, pool, relu, first=True), (3, 2, 11, 10))


def test_fused_step_keeps_float32():
    net = Network(conv_pool_spec())
    x = np.random.default_rng(0).random((4, 2, 11, 10), dtype=np.float32)
    loss, _, out = net.loss_and_grads(x, np.array([0, 1, 2, 3]))
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in net.grads().values())
    assert np.isfinite(loss)


# ---------------------------------------------------------------- two shards

def convnet_spec(dropout=0.0):
    layers = [{"type": "Conv2D", "filters": 4, "kernel": 3, "activation": "relu"},
              {"type": "MaxPool2D", "pool": 2}, {"type": "Flatten"}]
    if dropout:
        layers.append({"type": "Dropout", "rate": dropout})
    layers += [{"type": "Dense", "units": 6, "activation": "relu"}, {"type": "Dense", "units": 3},
               {"type": "Softmax"}]
    return {"input_shape": [1, 8, 8], "layers": layers}


def batch(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 8, 8)), rng.integers(0, 3, n)


def test_shardable_networks():
    assert Network(convnet_spec()).shardable
    spec = convnet_spec()
    spec["layers"].insert(1, {"type": "BatchNorm"})
    assert not Network(spec).shardable  # batch statistics need the whole batch
    assert not Network({"input_shape": [4], "layers": [{"type": "Dense", "units": 2}]}).shardable


@pytest.mark.parametrize("n", [SHARD_MIN_BATCH, SHARD_MIN_BATCH + 5])
def test_two_shards_give_the_whole_batch_gradient(n):
    x, y = batch(n)
    whole = Network(convnet_spec(), dtype=np.float64)
    whole.shardable = False
    loss_w, _, out_w = whole.loss_and_grads(x, y)
    split = Network(convnet_spec(), dtype=np.float64)
    loss_s, _, out_s = split.loss_and_grads(x, y)
    assert split._twins is not None  # it did split
    assert loss_s == pytest.approx(loss_w, rel=1e-12)
    np.testing.assert_allclose(out_s, out_w, rtol=1e-12)
    for key, g in whole.grads().items():
        np.testing.assert_allclose(split.grads()[key], g, rtol=1e-9, atol=1e-13, err_msg=key)


def test_shards_on_a_second_thread_give_the_same_bits_and_dropout_masks():
    x, y = batch(40, seed=1)
    x = x.astype(np.float32)
    results = []
    for threaded in (False, True):
        net = Network(convnet_spec(dropout=0.5), seed=3)
        record = []
        with ThreadPoolExecutor(1) as pool:
            loss, _, out = net.loss_and_grads(x, y, record=record, pool=pool if threaded else None)
        results.append((loss, out, net.grads(), record))
    (l0, o0, g0, r0), (l1, o1, g1, r1) = results
    assert l0 == l1
    np.testing.assert_array_equal(o0, o1)
    for key in g0:
        np.testing.assert_array_equal(g0[key], g1[key], err_msg=key)
    assert [n for n, _ in r0] == [n for n, _ in r1] and r0[0][1].shape[0] == 40
    # the masks are those an unsplit pass draws: one draw over the whole batch, from the same stream
    whole = Network(convnet_spec(dropout=0.5), seed=3, dtype=np.float32)
    whole.shardable = False
    rec = []
    whole.loss_and_grads(x, y, record=rec)
    drop = dict(rec)["dropout1"]
    np.testing.assert_array_equal(dict(r0)["dropout1"] == 0, drop == 0)


def test_replicas_share_parameters_not_gradients_or_buffers():
    net = Network(convnet_spec())
    twins = [layer.replicate() for layer in net.train_layers]
    for layer, twin in zip(net.train_layers, twins):
        assert isinstance(twin, Layer) and twin.params is layer.params
        for key in layer.grads:
            assert twin.grads[key] is not layer.grads[key]
    assert twins[0]._col is None


def test_shard_pool_only_when_it_can_help():
    with shard_pool(False, threads=2) as pool:
        assert pool is None
    with shard_pool(True, threads=1) as pool:
        assert pool is None
    with shard_pool(True, threads=2) as pool:
        assert pool is not None
        assert pool.submit(lambda: 7).result() == 7


def test_training_in_shards_is_reproducible(monkeypatch):
    from types import SimpleNamespace
    x, y = batch(200, seed=2)
    data = SimpleNamespace(x_train=x.astype(np.float32), y_train=y, x_val=None, y_val=None, kind="classification")
    cfg = {"optimizer": {"type": "adam", "lr": 0.01}, "batch_size": 50, "epochs": 2, "seed": 5}
    runs = []
    for threads in ("2", "1"):
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", threads)
        net = Network(convnet_spec(dropout=0.2), seed=5)
        hist = Trainer(net, data, cfg).run()
        runs.append(([h["loss"] for h in hist], net.get_weights()))
    assert runs[0][0] == runs[1][0]
    for key, w in runs[0][1].items():
        np.testing.assert_array_equal(w, runs[1][1][key], err_msg=key)


def test_statistics_from_shards_in_window_order_equal_the_whole_batch_ones():
    from types import SimpleNamespace
    x, y = batch(64, seed=4)
    data = SimpleNamespace(x_train=x, y_train=y, x_val=None, y_val=None, kind="classification")
    cfg = {"optimizer": {"type": "sgd", "lr": 0.1}, "batch_size": 64, "epochs": 1, "seed": 1, "stats_every": 1}
    logs = []
    for shardable in (True, False):
        net = Network(convnet_spec(), seed=2, dtype=np.float64)
        net.shardable = shardable
        rec = []
        Trainer(net, data, cfg, callbacks=[SimpleNamespace(on_batch_end=lambda s, l, rec=rec: rec.append(l))]).run()
        logs.append(rec[0])
    split, whole = logs
    names = [k for k in whole if k.startswith(("act_mean/", "act_std/", "dead_fraction/"))]
    assert {"act_mean/conv1_relu", "dead_fraction/conv1_relu", "dead_fraction/dense1_relu"} <= set(names)
    for key in names:
        assert split[key] == pytest.approx(whole[key], rel=1e-9, abs=1e-12), key
    for layer, (counts, edges) in whole["histograms"].items():
        np.testing.assert_array_equal(split["histograms"][layer][0], counts)


def test_inference_in_two_threads_gives_the_one_thread_numbers_with_half_the_batches_on_the_second():
    from threadpoolctl import threadpool_limits

    from playground.engine.train.trainer import evaluate

    x, y = batch(530, seed=6)
    net = Network(convnet_spec(dropout=0.3), seed=4)  # dropout: inference mode on both threads
    x = x.astype(np.float32)
    twin_calls = []
    forward_twin = net.forward_twin
    net.forward_twin = lambda xb: twin_calls.append(len(xb)) or forward_twin(xb)
    with threadpool_limits(limits=1, user_api="blas"):
        alone = evaluate(net, x, y, batch_size=100, return_predictions=True)
        with ThreadPoolExecutor(1) as pool:
            shared = evaluate(net, x, y, batch_size=100, return_predictions=True, pool=pool)
    assert twin_calls == [100, 100, 30]  # batches 2, 4 and 6 of six (the last one of 30)
    assert shared["loss"] == alone["loss"] and shared["accuracy"] == alone["accuracy"]
    np.testing.assert_array_equal(shared["predictions"], alone["predictions"])
    # a network that cannot be split (batch norm) runs every batch here
    spec = convnet_spec()
    spec["layers"].insert(1, {"type": "BatchNorm"})
    bn = Network(spec, seed=1)
    bn.forward_twin = lambda xb: pytest.fail("a network with batch norm was split")
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(1) as pool:
        assert evaluate(bn, x, y, pool=pool) == evaluate(bn, x, y)


def test_the_epoch_end_measures_run_on_two_threads(monkeypatch):
    from types import SimpleNamespace

    x, y = batch(300, seed=7)
    data = SimpleNamespace(x_train=x[:200].astype(np.float32), y_train=y[:200], x_val=x[200:].astype(np.float32),
                           y_val=y[200:], kind="classification")
    cfg = {"optimizer": {"type": "sgd", "lr": 0.1}, "batch_size": 50, "epochs": 1, "seed": 1}
    threads = []
    forward_twin = Network.forward_twin
    monkeypatch.setattr(Network, "forward_twin",
                        lambda self, xb: threads.append(threading.current_thread().name) or forward_twin(self, xb))
    hist = Trainer(Network(convnet_spec(), seed=2), data, cfg, threads=2).run()
    # train measure (200 samples, 2 batches) and validation (100, 1 batch): one batch on the second thread
    assert len(threads) == 1 and threads[0].startswith("playground-shard")
    assert hist[-1]["val_accuracy"] is not None
    threads.clear()
    Trainer(Network(convnet_spec(), seed=2), data, cfg, threads=1).run()  # one core: nothing on another thread
    assert threads == []
