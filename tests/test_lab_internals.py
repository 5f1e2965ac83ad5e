"""The optimizer lab's internals: the state shown is the optimizer's, and the written step is the step taken."""

import copy

import numpy as np
import pytest

from playground.engine.lab.functions import get_function
from playground.engine.lab.internals import optimizer_state, update_lines
from playground.engine.lab.paths import OptimizerPath


def path_after(name: str, steps: int) -> tuple[OptimizerPath, list[np.ndarray]]:
    path = OptimizerPath(name, get_function("book"), (-7.0, 2.0))
    grads = []
    for _ in range(steps):
        w = path.position
        grads.append(np.asarray(path.function.gradient(w[0], w[1]), dtype=np.float64))
        path.step()
    return path, grads


def test_momentum_velocity_is_the_optimizer_s_and_the_sum_of_past_steps():
    path, grads = path_after("momentum", 4)
    v = np.zeros(2)
    for g in grads:  # v ← μ·v − lr·g, by hand in float64
        v = path.optimizer.momentum * v - path.optimizer.lr * g
    state = optimizer_state(path)
    np.testing.assert_allclose(state["v"], v, rtol=1e-12)
    np.testing.assert_allclose(state["v"], path.points[-1] - path.points[-2], rtol=1e-9)  # W ← W + v


@pytest.mark.parametrize("name", ["adagrad", "rmsprop"])
def test_accumulated_squared_gradients_per_axis(name):
    path, grads = path_after(name, 5)
    h = np.zeros(2)
    for g in grads:
        h = h + g * g if name == "adagrad" else path.optimizer.rho * h + (1 - path.optimizer.rho) * g * g
    np.testing.assert_allclose(optimizer_state(path)["h"], h, rtol=1e-12)


def test_adam_moments_and_their_bias_correction():
    path, grads = path_after("adam", 3)
    b1, b2 = path.optimizer.beta1, path.optimizer.beta2
    m, v = np.zeros(2), np.zeros(2)
    for g in grads:
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    state = optimizer_state(path)
    assert state["t"] == 3
    np.testing.assert_allclose(state["m"], m, rtol=1e-10)
    np.testing.assert_allclose(state["v"], v, rtol=1e-10)
    np.testing.assert_allclose(state["m_hat"], m / (1 - b1 ** 3), rtol=1e-10)
    np.testing.assert_allclose(state["v_hat"], v / (1 - b2 ** 3), rtol=1e-10)
    # the step Adam takes is −lr·m̂ / (√v̂ + ε)
    np.testing.assert_allclose(path.points[-1] - path.points[-2],
                               -path.optimizer.lr * state["m_hat"] / (np.sqrt(state["v_hat"]) + path.optimizer.eps),
                               rtol=1e-9)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_the_written_step_is_the_step_taken_and_writing_it_changes_nothing(name):
    path, _ = path_after(name, 2)
    kept = copy.deepcopy(optimizer_state(path))
    lines = update_lines(path)
    assert optimizer_state(path)["t"] == kept["t"] and path.steps == 2  # only a copy stepped
    for key, value in kept.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(optimizer_state(path)[key], value)
    result = path.step()
    assert lines[0].startswith("step 3 at W = ") and lines[-1].startswith(
        f"step = ({result.delta[0]:.4g}, {result.delta[1]:.4g})  →  W = ({result.after[0]:.4g}, {result.after[1]:.4g})")
    g = result.gradient
    assert lines[1] == f"g = ∇f(W) = ({g[0]:.4g}, {g[1]:.4g})"
