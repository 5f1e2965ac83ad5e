"""The trainer: reproducibility, events, control between batches, divergence, metrics."""

import threading

import numpy as np
import pytest

from playground.engine.data.datasets import make_dataset
from playground.engine.metrics import confusion_matrix, precision_recall_f1, regression_metrics
from playground.engine.nn.network import Network
from playground.engine.train.trainer import TrainConfig, TrainControl, Trainer
from playground.engine.project import load_preset


class Recorder:
    def __init__(self):
        self.batches, self.epochs, self.warnings, self.end = [], [], [], None

    def on_batch_end(self, step, logs):
        self.batches.append((step, logs))

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(logs)

    def on_warning(self, message):
        self.warnings.append(message)

    def on_train_end(self, logs):
        self.end = logs


def spiral_run(seed=0, epochs=3, **training):
    project = load_preset("spiral")
    data = make_dataset(project["dataset"])
    cfg = {**project["training"], "epochs": epochs, "seed": seed, **training}
    net = Network(project["network"], seed=seed)
    rec = Recorder()
    Trainer(net, data, cfg, callbacks=[rec]).run()
    return net, rec


def test_same_seed_same_weights_and_curves_bit_for_bit():
    a, ra = spiral_run(seed=5)
    b, rb = spiral_run(seed=5)
    for k, v in a.get_weights().items():
        assert np.array_equal(v, b.get_weights()[k]), k
    assert [l["loss"] for _, l in ra.batches] == [l["loss"] for _, l in rb.batches]
    c, _ = spiral_run(seed=6)
    assert not np.array_equal(a.get_weights()["dense1.W"], c.get_weights()["dense1.W"])


def test_epoch_logs_are_flat_and_complete():
    _, rec = spiral_run(epochs=2, stats_every=5)
    ep = rec.epochs[-1]
    for key in ("epoch", "samples", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"):
        assert key in ep
    assert ep["samples"] == 480 and 0 <= ep["accuracy"] <= 1
    stats = [l for _, l in rec.batches if "grad_norm/dense1" in l]
    assert stats and stats[0]["grad_norm/dense1"] > 0
    assert "dead_fraction/dense1_relu" in stats[0] and "act_std/dense1_relu" in stats[0]
    counts, edges = stats[0]["histograms"]["dense1_relu"]
    assert counts.sum() > 0 and len(edges) == len(counts) + 1
    assert rec.end["status"] == "finished"


def test_a_callback_may_take_the_validation_predictions_of_each_epoch():
    """The trainer's own validation pass feeds a confusion matrix: no second pass over the set."""
    project = load_preset("spiral")
    data = make_dataset(project["dataset"])
    net = Network(project["network"], seed=0)
    events = []

    class Wants(Recorder):
        wants_val_predictions = True

        def on_val_predictions(self, epoch, pred):
            events.append(("predictions", epoch, pred, net.predict(data.x_val).argmax(axis=1)))

        def on_epoch_end(self, epoch, logs):
            events.append(("epoch", epoch, logs))

    plain = Recorder()  # a callback without the attribute is not asked
    plain.on_val_predictions = lambda *a: pytest.fail("a callback that did not ask got predictions")
    Trainer(net, data, {**project["training"], "epochs": 2}, callbacks=[Wants(), plain]).run()
    assert [e[:2] for e in events] == [("predictions", 1), ("epoch", 1), ("predictions", 2), ("epoch", 2)]
    for _, _, pred, expected in (e for e in events if e[0] == "predictions"):
        assert np.array_equal(pred, expected) and pred.shape == data.y_val.shape
    # the epoch's accuracy is the one these predictions give, and the logs stay numbers only
    _, _, pred, _ = events[2]
    assert events[3][2]["val_accuracy"] == pytest.approx(np.mean(pred == data.y_val))
    assert "predictions" not in events[3][2]


def test_spiral_preset_learns():
    net, rec = spiral_run(epochs=200)
    project = load_preset("spiral")
    data = make_dataset(project["dataset"])
    train_acc = np.mean(net.predict(data.x_train).argmax(1) == data.y_train)
    assert train_acc >= 0.98, f"spiral training accuracy {train_acc:.3f} < 0.98"


def test_control_pause_step_cancel_between_batches():
    project = load_preset("spiral")
    data = make_dataset(project["dataset"])
    control = TrainControl()
    control.pause()
    rec = Recorder()
    seen = threading.Event()

    class Signal:
        def on_batch_end(self, step, logs):
            seen.set()

    trainer = Trainer(Network(project["network"]), data, {**project["training"], "epochs": 50},
                      control=control, callbacks=[rec, Signal()])
    t = threading.Thread(target=trainer.run)
    t.start()
    control.step(2)
    assert seen.wait(5)
    t.join(0.3)  # paused after exactly two batches
    assert t.is_alive()
    assert len(rec.batches) == 2
    control.resume()
    control.cancel()
    t.join(5)
    assert not t.is_alive()
    assert rec.end["status"] == "cancelled"
    assert len(rec.batches) < 50 * 15


def test_divergence_stops_with_a_message():
    _, rec = spiral_run(epochs=5, optimizer={"type": "sgd", "lr": 1e6})
    assert rec.end["status"] == "diverged"
    assert "smaller learning rate" in rec.end["message"]


def test_step_activation_warns_that_nothing_learns():
    spec = {"input_shape": [2], "layers": [{"type": "Dense", "units": 4}, {"type": "Step"},
                                           {"type": "Dense", "units": 2}, {"type": "Softmax"}]}
    data = make_dataset({"name": "xor"})
    net = Network(spec)
    w0 = net.layers[0].params["W"].copy()
    rec = Recorder()
    Trainer(net, data, {"epochs": 1}, callbacks=[rec]).run()
    assert rec.warnings and "gradient is zero everywhere" in rec.warnings[0]
    assert np.array_equal(net.layers[0].params["W"], w0)  # Adam with a zero gradient moves nothing


def test_weight_decay_shrinks_weights_but_not_biases():
    a, _ = spiral_run(epochs=5)
    b, _ = spiral_run(epochs=5, weight_decay=0.05)
    assert np.linalg.norm(b.layers[2].params["W"]) < np.linalg.norm(a.layers[2].params["W"])
    spec = {"input_shape": [2], "layers": [{"type": "Dense", "units": 1, "l2": 1.0}], "loss": "mse"}
    net = Network(spec, dtype=np.float64)
    net.layers[0].params["b"][:] = 3.0
    reg_before = net.regularization()
    assert reg_before == pytest.approx(0.5 * float(np.sum(net.layers[0].params["W"] ** 2)))


def test_regression_preset_reports_regression_metrics():
    project = load_preset("sin-regression")
    data = make_dataset(project["dataset"])
    net = Network(project["network"])
    rec = Recorder()
    Trainer(net, data, {**project["training"], "epochs": 100}, callbacks=[rec]).run()
    ep = rec.epochs[-1]
    assert ep["accuracy"] is None and ep["val_r2"] > 0.8 and ep["val_mse"] == pytest.approx(ep["val_loss"], rel=0.2)


def test_train_config_rejects_bad_values():
    from playground.engine.errors import SpecError

    for bad, match in [({"batch_size": 0}, "batch_size"), ({"epochs": 2.5}, "epochs"),
                       ({"learning_rate": 0.1}, "unknown training settings"),
                       ({"optimizer": {"type": "adam", "lr": "fast"}}, "lr must be a number")]:
        with pytest.raises(SpecError, match=match):
            TrainConfig.from_dict(bad)


def test_metrics():
    y = np.array([0, 0, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0])
    cm = confusion_matrix(pred, y, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    prf = precision_recall_f1(cm)
    assert prf["precision"] == pytest.approx([0.5, 2 / 3, 0.0])
    assert prf["recall"] == pytest.approx([0.5, 1.0, 0.0])
    assert prf["f1"] == pytest.approx([0.5, 0.8, 0.0])
    r = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    assert r["mse"] == pytest.approx(1 / 3) and r["mae"] == pytest.approx(1 / 3)
    assert r["r2"] == pytest.approx(1 - 1 / (14 / 3))


# ------------------------------------------------------------------ train metrics in inference mode

def dropout_spiral():
    project = load_preset("spiral")
    layers = project["network"]["layers"]
    project["network"]["layers"] = layers[:1] + [{"type": "Dropout", "rate": 0.5}] + layers[1:]
    return project


def test_epoch_train_metrics_are_measured_in_inference_mode_on_a_seeded_subset(monkeypatch):
    """With more training samples than the limit, a fixed seeded choice of them is measured, dropout off."""
    from playground.engine.train import trainer as trainer_module
    from playground.engine.train.trainer import evaluate

    monkeypatch.setattr(trainer_module, "TRAIN_MEASURE_SAMPLES", 200)
    project = dropout_spiral()
    data = make_dataset(project["dataset"])
    cfg = {**project["training"], "epochs": 2, "seed": 3}
    net = Network(project["network"], seed=3)
    rec = Recorder()
    trainer = Trainer(net, data, cfg, callbacks=[rec])
    trainer.run()
    rows = trainer.measure_rows
    assert len(rows) == 200 and len(np.unique(rows)) == 200 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, Trainer(Network(project["network"], seed=3), data, cfg).measure_rows)
    assert not np.array_equal(rows, Trainer(Network(project["network"], seed=4), data, {**cfg, "seed": 4}).measure_rows)
    last = rec.epochs[-1]
    # the network after the last epoch is the one that epoch measured
    expect = evaluate(net, data.x_train[rows], data.y_train[rows])
    assert last["accuracy"] == expect["accuracy"]
    assert last["loss"] == pytest.approx(expect["loss"], rel=1e-12)
    assert last["accuracy"] != last["running_accuracy"] and last["loss"] != last["running_loss"]
    everything = evaluate(net, data.x_train, data.y_train)
    assert everything["accuracy"] != last["accuracy"]  # a subset, not the whole set


def test_epoch_train_metrics_see_the_network_without_dropout():
    """Dropout(0.5) before Dense(W = ln 3 · I): in inference mode every sample has p = 3/4 for its class,
    so loss ln(4/3) and accuracy 1; with dropout on, a dropped input ties the logits and half of
    those samples are wrong (running accuracy about 3/4)."""
    from playground.engine.data.datasets import Dataset

    n = 200
    y = np.repeat(np.array([0, 1]), n // 2)
    x = np.eye(2, dtype=np.float32)[y]
    data = Dataset(x, y, x, y, "classification", 2, (2,), "two points")
    spec = {"input_shape": [2], "layers": [{"type": "Dropout", "rate": 0.5}, {"type": "Dense", "units": 2},
                                           {"type": "Softmax"}], "loss": "softmax_cross_entropy"}
    net = Network(spec, seed=0)
    net.set_weights({"dense1.W": np.log(3.0) * np.eye(2, dtype=np.float32), "dense1.b": np.zeros(2, np.float32)})
    rec = Recorder()
    # a learning rate too small to move the weights: the numbers stay the hand-computed ones
    Trainer(net, data, {"optimizer": {"type": "sgd", "lr": 1e-30}, "batch_size": 50, "epochs": 1},
            callbacks=[rec]).run()
    ep = rec.epochs[0]
    assert ep["accuracy"] == 1.0
    assert ep["loss"] == pytest.approx(np.log(4 / 3), rel=1e-6)
    assert ep["val_loss"] == pytest.approx(np.log(4 / 3), rel=1e-6)
    assert 0.6 < ep["running_accuracy"] < 0.9 and ep["running_loss"] > 0.33


def _paused_spiral_trainer(optimizer, rec):
    project = load_preset("spiral")
    data = make_dataset(project["dataset"])
    control = TrainControl()
    control.pause()
    trainer = Trainer(Network(project["network"], seed=3), data,
                      {**project["training"], "epochs": 50, "seed": 3, "optimizer": optimizer, "schedule": None},
                      control=control, callbacks=[rec])
    thread = threading.Thread(target=trainer.run)
    thread.start()
    return trainer, control, thread


def _step_and_wait(control, rec, n):
    before = len(rec.batches)
    control.step(n)
    for _ in range(500):
        if len(rec.batches) == before + n and control.blocked:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the trainer did not step")


def test_a_learning_rate_changed_during_a_run_applies_from_the_next_batch():
    """SGD: W ← W − η·g. From the same weights and batch, η = 0.5 moves them 10 times as far as η = 0.05."""
    moves = {}
    for lr in (0.05, 0.5):
        rec = Recorder()
        trainer, control, thread = _paused_spiral_trainer({"type": "sgd", "lr": 0.05}, rec)
        try:
            _step_and_wait(control, rec, 2)
            before = trainer.net.get_weights()
            if lr != 0.05:
                control.set_optimizer({"lr": lr})
            _step_and_wait(control, rec, 1)
            after = trainer.net.get_weights()
        finally:
            control.cancel()
            thread.join(10)
        moves[lr] = {k: after[k].astype(np.float64) - before[k] for k in before}
        assert [logs["lr"] for _, logs in rec.batches] == [0.05, 0.05, lr]
        assert ("optimizer_changed" in rec.batches[2][1]) == (lr != 0.05)
        assert "optimizer_changed" not in rec.batches[1][1]
    for k in moves[0.05]:
        # float32 weights near 1 hold a step to about 1e-7: ten times that is the tolerance
        np.testing.assert_allclose(moves[0.5][k], 10 * moves[0.05][k], rtol=1e-3, atol=2e-6)


def test_the_optimizers_own_settings_change_live_and_a_bad_value_is_refused_with_a_warning():
    rec = Recorder()
    trainer, control, thread = _paused_spiral_trainer({"type": "momentum", "lr": 0.05}, rec)
    try:
        _step_and_wait(control, rec, 1)
        control.set_optimizer({"momentum": 0.5})
        _step_and_wait(control, rec, 1)
        assert trainer.optimizer.momentum == 0.5 and rec.batches[1][1]["optimizer_changed"] == {"momentum": 0.5}
        control.set_optimizer({"beta1": 0.5})
        _step_and_wait(control, rec, 1)
        assert "optimizer_changed" not in rec.batches[2][1]
        assert "has no setting beta1" in rec.warnings[-1] and trainer.optimizer.momentum == 0.5
    finally:
        control.cancel()
        thread.join(10)


def test_a_stopped_run_names_the_last_batch_it_trained():
    rec = Recorder()
    trainer, control, thread = _paused_spiral_trainer({"type": "sgd", "lr": 0.05}, rec)
    _step_and_wait(control, rec, 17)  # 15 batches an epoch: the second epoch's second batch
    control.cancel()
    thread.join(10)
    last = rec.batches[-1][1]
    assert (last["epoch"], last["batch"]) == (2, 2)
    assert rec.end["message"] == "stopped by request after epoch 2, batch 2"


def test_statistics_are_gathered_at_most_as_often_as_asked_and_never_change_the_numbers(monkeypatch):
    """stats_min_seconds caps how often a batch records statistics, whatever stats_every says."""
    import playground.engine.train.trainer as trainer_module

    def run(min_seconds):
        clock = iter(np.arange(0, 1000, 0.01))  # each batch starts 10 ms after the one before (fake time)
        monkeypatch.setattr(trainer_module.time, "perf_counter", lambda: float(next(clock)))
        project = load_preset("spiral")
        data = make_dataset(project["dataset"])
        net = Network(project["network"], seed=0)
        rec = Recorder()
        Trainer(net, data, {**project["training"], "epochs": 1, "stats_every": 1}, callbacks=[rec],
                stats_min_seconds=min_seconds).run()
        with_stats = [step for step, logs in rec.batches if any(k.startswith("grad_norm") for k in logs)]
        return net, with_stats, len(rec.batches)

    net_every, every, n = run(0.0)
    assert len(every) == n
    net_capped, capped, _ = run(0.1)
    assert capped[0] == every[0]
    # a batch's start is read once per batch here, plus around the epoch: ~4 batches per 0.1 s of fake time
    assert 1 < len(capped) < n / 2 and all(b - a >= 2 for a, b in zip(capped, capped[1:]))
    # the statistics only look: the weights are the same bit for bit
    for key, w in net_every.params().items():
        np.testing.assert_array_equal(net_capped.params()[key], w)
