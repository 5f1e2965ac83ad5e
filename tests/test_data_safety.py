"""Bad data, images and processes never crash, hang or leak; the engine's inference-mode numbers are right."""

import numpy as np
import pytest

from playground.engine.data.datasets import Dataset
from playground.engine.nn.gradcheck import gradient_check
from playground.engine.nn.network import Network
from playground.engine.train.trainer import Trainer, evaluate


# ---------------------------------------------------------------------- the engine's escaped bugs
@pytest.mark.parametrize("input_shape", [[5], [3, 4, 4]])
def test_batchnorm_input_gradient_at_inference_matches_central_differences(input_shape):
    head = [{"type": "Flatten"}] if len(input_shape) == 3 else []
    spec = {"input_shape": input_shape, "layers": [{"type": "BatchNorm"}, {"type": "Tanh"}, *head,
                                                   {"type": "Dense", "units": 3}, {"type": "Softmax"}]}
    net = Network(spec, seed=0, dtype=np.float64)
    rng = np.random.default_rng(1)
    c = input_shape[0]
    bn = net.layers[0]
    # running statistics and a scale far from the defaults, as after training
    bn.state["running_mean"][:] = rng.normal(0.5, 1.0, c)
    bn.state["running_var"][:] = rng.uniform(0.2, 3.0, c)
    bn.params["gamma"][:] = rng.uniform(0.5, 2.0, c)
    x = rng.normal(0.0, 1.5, (6, *input_shape))
    y = rng.integers(0, 3, 6)
    result = gradient_check(net, x, y, training=False, max_entries=None)
    assert result.errors["input"] < 1e-7, result
    assert not result.failures(1e-6), result


def test_batchnorm_input_gradient_at_inference_is_gamma_over_running_std():
    spec = {"input_shape": [2], "layers": [{"type": "BatchNorm", "eps": 0.0}]}
    net = Network(spec, dtype=np.float64)
    bn = net.layers[0]
    bn.state["running_var"][:] = [4.0, 0.25]
    bn.params["gamma"][:] = [3.0, -1.0]
    net.need_input_grads(True)
    bn.forward(np.array([[1.0, 2.0], [3.0, -1.0]]), training=False)
    dx = bn.backward(np.array([[1.0, 1.0], [2.0, -4.0]]))
    # g * gamma / sqrt(running_var): gamma / std = 3/2 and -1/0.5
    np.testing.assert_array_equal(dx, [[1.5, -2.0], [3.0, 8.0]])


def _regression_set(x, y, x_val, y_val):
    return Dataset(x_train=x, y_train=y, x_val=x_val, y_val=y_val, kind="regression", n_classes=None,
                   input_shape=(x.shape[1],), name="by hand")


@pytest.mark.parametrize("middle", [{"type": "Dropout", "rate": 0.5},
                                    {"type": "BatchNorm", "momentum": 0.5, "eps": 0.0}])
def test_validation_and_evaluation_run_in_inference_mode(middle):
    """The validation loss is that of the network as it predicts: dropout off, running statistics."""
    spec = {"input_shape": [3], "loss": "mse",
            "layers": [{"type": "Dense", "units": 4}, middle, {"type": "Dense", "units": 2}]}
    net = Network(spec, seed=4, dtype=np.float64)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    x_val, y_val = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
    data = _regression_set(x, y, x_val, y_val)
    history = []

    class Keep:
        def on_epoch_end(self, epoch, logs):
            history.append((logs, {k: v.copy() for k, v in net.get_weights().items()}))

    Trainer(net, data, {"optimizer": {"type": "sgd", "lr": 0.01}, "batch_size": 8, "epochs": 2},
            callbacks=[Keep()]).run()

    def by_hand(w, xs):
        h = xs @ w["dense1.W"] + w["dense1.b"]
        if middle["type"] == "BatchNorm":
            h = (h - w["bn1.running_mean"]) / np.sqrt(w["bn1.running_var"]) * w["bn1.gamma"] + w["bn1.beta"]
        return h @ w["dense2.W"] + w["dense2.b"]

    for logs, w in history:
        expected = float(np.mean((by_hand(w, x_val) - y_val) ** 2))
        assert logs["val_loss"] == pytest.approx(expected, rel=1e-12)
    w = history[-1][1]
    res = evaluate(net, x_val, y_val, classification=False)
    assert res["loss"] == pytest.approx(float(np.mean((by_hand(w, x_val) - y_val) ** 2)), rel=1e-12)
    np.testing.assert_allclose(net.predict(x_val), by_hand(w, x_val), rtol=1e-12)


@pytest.mark.parametrize("weight_decay", [0.3, 0.0])
def test_weight_decay_adds_exactly_half_lambda_w_squared_and_lambda_w_on_one_step(weight_decay):
    """L2 weight decay λ: loss += λ/2·ΣW², gradient += λ·W, on weights only (never biases)."""
    spec = {"input_shape": [3], "loss": "mse", "layers": [{"type": "Dense", "units": 2}]}
    net = Network(spec, seed=5, dtype=np.float64)
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(3, 2))
    b0 = np.array([0.5, -0.25])
    net.set_weights({"dense1.W": w0, "dense1.b": b0})
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    logs = []

    class Keep:
        def on_batch_end(self, step, log):
            logs.append(log)

    lr = 0.1
    Trainer(net, _regression_set(x, y, x, y), {"optimizer": {"type": "sgd", "lr": lr}, "batch_size": 4,
                                               "epochs": 1, "weight_decay": weight_decay},
            callbacks=[Keep()]).run()
    out = x @ w0 + b0
    dout = 2 * (out - y) / out.size
    data_loss = float(np.mean((out - y) ** 2))
    assert logs[0]["loss"] == pytest.approx(data_loss + weight_decay / 2 * float(np.sum(w0 ** 2)), rel=1e-12)
    w1 = net.get_weights()
    np.testing.assert_allclose(w1["dense1.W"], w0 - lr * (x.T @ dout + weight_decay * w0), rtol=1e-12)
    np.testing.assert_allclose(w1["dense1.b"], b0 - lr * dout.sum(axis=0), rtol=1e-12)
