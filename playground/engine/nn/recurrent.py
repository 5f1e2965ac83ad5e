"""Recurrent layers on sequences (N, T, features): SimpleRNN, LSTM, GRU, and Dense applied at every time step.

Each layer takes an input of per-sample shape ``(T, F)`` and returns its last
hidden state ``(units,)`` or, with ``return_sequences``, every state
``(T, units)``. The input's contribution to every step is one matrix product
over the whole batch and sequence; only the recurrence itself loops over time.
Backpropagation through time runs the same loop backwards, and records the norm
of the gradient reaching each time step's hidden state
(:attr:`RecurrentLayer.step_grad_norms`), which shows the vanishing gradient of
a plain RNN against an LSTM or GRU.

Weights: input weights Glorot (Xavier) normal, recurrent weights orthogonal
(a random rotation keeps ‖h‖ from growing or shrinking at the start), biases 0;
an LSTM's forget-gate bias starts at 1 (``forget_bias``), so it remembers by
default. Gradient clipping is the trainer's ``clip_norm`` (global norm).
"""

from __future__ import annotations

import numpy as np

from playground.engine.nn.activations import sigmoid
from playground.engine.nn.base import Layer, int_option, float_option
from playground.engine.nn.dense import Dense
from playground.engine.nn.initializers import initialize, normalize_init, placeholder


def orthogonal(shape: tuple[int, int], rng: np.random.Generator, dtype) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal columns (or rows), from the QR of a Gaussian matrix."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # a uniform draw over rotations, not one biased by QR's sign convention
    return (q if rows >= cols else q.T).astype(dtype)


class RecurrentLayer(Layer):
    """What the three recurrent layers share: options, shapes, weights and the output's layout.

    A gate layer has ``gates`` blocks of ``units`` columns in ``Wx`` (F, k·H),
    ``Wh`` (H, k·H) and ``b`` (k·H,).
    """

    options = ("units", "return_sequences", "init", "l1", "l2")
    has_params = True
    gates = 1

    def _build(self, input_shape, rng, source):
        owner = f"{self.type_name} '{self.name}'"
        self.units = int_option(self.cfg, "units", owner)
        if len(input_shape) != 2:
            raise self._shape_error("a sequence input (time steps, features)", source,
                                    hint="recurrent layers read (T, features): choose a sequence data set, "
                                         "or put it after another recurrent layer with return_sequences")
        self.return_sequences = bool(self.cfg.get("return_sequences", False))
        self.l1 = float_option(self.cfg, "l1", owner, 0.0)
        self.l2 = float_option(self.cfg, "l2", owner, 0.0)
        normalize_init(self.cfg.get("init", "xavier_normal"))
        steps, features = input_shape
        h, k = self.units, self.gates
        wx = initialize(self.cfg.get("init", "xavier_normal"), (features, k * h), features, h, rng, self.dtype)
        wh = placeholder((h, k * h), self.dtype) if rng is None else \
            np.concatenate([orthogonal((h, h), rng, self.dtype) for _ in range(k)], axis=1)
        self._add_param("Wx", wx, 1.0)
        self._add_param("Wh", wh, 1.0)
        self._add_param("b", self._initial_bias(), 0.0)
        self.step_grad_norms = np.zeros(steps)
        return (steps, h) if self.return_sequences else (h,)

    def _initial_bias(self) -> np.ndarray:
        return np.zeros(self.gates * self.units, dtype=self.dtype)

    def mult_adds(self):
        steps, features = self.input_shape
        return steps * (features + self.units) * self.gates * self.units

    def _output(self, hs: np.ndarray) -> np.ndarray:
        """hs (N, T, H) → the layer's output: all states, or the last."""
        return hs if self.return_sequences else hs[:, -1]

    def _output_grad(self, grad: np.ndarray, n: int, steps: int) -> np.ndarray:
        """The output's gradient as one (N, T, H) array (zeros before the last step for a last-state output)."""
        if self.return_sequences:
            return grad
        full = np.zeros((n, steps, self.units), dtype=grad.dtype)
        full[:, -1] = grad
        return full

    def _finish_backward(self, x: np.ndarray, dz: np.ndarray, hs_prev: np.ndarray) -> np.ndarray | None:
        """Parameter gradients from the pre-activation gradients dz (N, T, k·H) of every step."""
        n, steps, features = x.shape
        kh = dz.shape[-1]
        dz2 = dz.reshape(n * steps, kh)
        np.matmul(x.reshape(n * steps, features).T, dz2, out=self.grads["Wx"])
        self._recurrent_weight_grad(dz, hs_prev)
        np.sum(dz2, axis=0, out=self.grads["b"])
        if not self.need_input_grad:
            return None
        return (dz2 @ self.params["Wx"].T).reshape(n, steps, features)

    def _recurrent_weight_grad(self, dz: np.ndarray, hs_prev: np.ndarray) -> None:
        n, steps, h = hs_prev.shape
        np.matmul(hs_prev.reshape(n * steps, h).T, dz.reshape(n * steps, -1), out=self.grads["Wh"])


class SimpleRNN(RecurrentLayer):
    """Plain RNN: hₜ = tanh(xₜ·Wx + hₜ₋₁·Wh + b), h₀ = 0.

    Its gradient through time is multiplied by Wh·diag(1 − hₜ²) at every step,
    so over long sequences it vanishes (or explodes)."""

    type_name = "SimpleRNN"
    gates = 1

    def forward(self, x, training=False):
        n, steps, _ = x.shape
        h = self.units
        zx = (x.reshape(n * steps, -1) @ self.params["Wx"]).reshape(n, steps, h) + self.params["b"]
        hs = np.empty((n, steps, h), dtype=x.dtype)
        prev = np.zeros((n, h), dtype=x.dtype)
        wh = self.params["Wh"]
        for t in range(steps):
            prev = np.tanh(zx[:, t] + prev @ wh)
            hs[:, t] = prev
        self.x, self.hs = x, hs
        return self._output(hs)

    def backward(self, grad):
        x, hs = self.x, self.hs
        n, steps, h = hs.shape
        dh_out = self._output_grad(grad, n, steps)
        dz = np.empty_like(hs)
        carry = np.zeros((n, h), dtype=hs.dtype)
        wh_t = self.params["Wh"].T
        norms = self.step_grad_norms = np.zeros(steps)
        for t in range(steps - 1, -1, -1):
            dh = dh_out[:, t] + carry
            norms[t] = float(np.linalg.norm(dh))
            dz[:, t] = dh * (1.0 - hs[:, t] ** 2)
            carry = dz[:, t] @ wh_t
        hs_prev = np.concatenate([np.zeros((n, 1, h), dtype=hs.dtype), hs[:, :-1]], axis=1)
        return self._finish_backward(x, dz, hs_prev)


class LSTM(RecurrentLayer):
    """Long short-term memory, gates in the order i, f, g, o:

    i = σ(zᵢ), f = σ(z_f), g = tanh(z_g), o = σ(zₒ) with z = xₜ·Wx + hₜ₋₁·Wh + b;
    cₜ = f ⊙ cₜ₋₁ + i ⊙ g;  hₜ = o ⊙ tanh(cₜ).
    The cell state cₜ carries information (and gradient) across steps through the
    forget gate alone: no repeated squashing, so the gradient does not vanish."""

    type_name = "LSTM"
    options = RecurrentLayer.options + ("forget_bias",)
    gates = 4

    def _initial_bias(self):
        b = np.zeros(4 * self.units, dtype=self.dtype)
        b[self.units:2 * self.units] = float_option(self.cfg, "forget_bias", f"LSTM '{self.name}'", 1.0, -10.0, 10.0)
        return b

    def forward(self, x, training=False):
        n, steps, _ = x.shape
        h = self.units
        zx = (x.reshape(n * steps, -1) @ self.params["Wx"]).reshape(n, steps, 4 * h) + self.params["b"]
        acts = np.empty((n, steps, 4 * h), dtype=x.dtype)  # i, f, g, o after their nonlinearities
        cs = np.empty((n, steps, h), dtype=x.dtype)
        hs = np.empty((n, steps, h), dtype=x.dtype)
        prev_h = np.zeros((n, h), dtype=x.dtype)
        prev_c = np.zeros((n, h), dtype=x.dtype)
        wh = self.params["Wh"]
        for t in range(steps):
            z = zx[:, t] + prev_h @ wh
            a = acts[:, t]
            a[:, :2 * h] = sigmoid(z[:, :2 * h])
            a[:, 2 * h:3 * h] = np.tanh(z[:, 2 * h:3 * h])
            a[:, 3 * h:] = sigmoid(z[:, 3 * h:])
            prev_c = a[:, h:2 * h] * prev_c + a[:, :h] * a[:, 2 * h:3 * h]
            prev_h = a[:, 3 * h:] * np.tanh(prev_c)
            cs[:, t], hs[:, t] = prev_c, prev_h
        self.x, self.acts, self.cs, self.hs = x, acts, cs, hs
        return self._output(hs)

    def backward(self, grad):
        x, acts, cs, hs = self.x, self.acts, self.cs, self.hs
        n, steps, h = hs.shape
        dh_out = self._output_grad(grad, n, steps)
        dz = np.empty_like(acts)
        dh_next = np.zeros((n, h), dtype=hs.dtype)
        dc_next = np.zeros((n, h), dtype=hs.dtype)
        wh_t = self.params["Wh"].T
        norms = self.step_grad_norms = np.zeros(steps)
        zero = np.zeros((n, h), dtype=hs.dtype)
        for t in range(steps - 1, -1, -1):
            i, f, g, o = (acts[:, t, k * h:(k + 1) * h] for k in range(4))
            c_prev = cs[:, t - 1] if t else zero
            dh = dh_out[:, t] + dh_next
            norms[t] = float(np.linalg.norm(dh))
            tanh_c = np.tanh(cs[:, t])
            dc = dc_next + dh * o * (1.0 - tanh_c ** 2)
            d = dz[:, t]
            d[:, :h] = dc * g * i * (1.0 - i)
            d[:, h:2 * h] = dc * c_prev * f * (1.0 - f)
            d[:, 2 * h:3 * h] = dc * i * (1.0 - g ** 2)
            d[:, 3 * h:] = dh * tanh_c * o * (1.0 - o)
            dc_next = dc * f
            dh_next = d @ wh_t
        hs_prev = np.concatenate([np.zeros((n, 1, h), dtype=hs.dtype), hs[:, :-1]], axis=1)
        return self._finish_backward(x, dz, hs_prev)


class GRU(RecurrentLayer):
    """Gated recurrent unit, gates in the order z (update), r (reset), n (candidate):

    z = σ(xₜWx_z + hₜ₋₁Wh_z + b_z), r = σ(xₜWx_r + hₜ₋₁Wh_r + b_r),
    n = tanh(xₜWx_n + b_n + r ⊙ (hₜ₋₁Wh_n)), hₜ = (1 − z) ⊙ n + z ⊙ hₜ₋₁.
    When z is near 1 the state is copied forward unchanged, gradient included."""

    type_name = "GRU"
    gates = 3

    def forward(self, x, training=False):
        n, steps, _ = x.shape
        h = self.units
        zx = (x.reshape(n * steps, -1) @ self.params["Wx"]).reshape(n, steps, 3 * h) + self.params["b"]
        acts = np.empty((n, steps, 3 * h), dtype=x.dtype)  # z, r, n
        rec_n = np.empty((n, steps, h), dtype=x.dtype)  # hₜ₋₁·Wh_n, needed by backward
        hs = np.empty((n, steps, h), dtype=x.dtype)
        prev = np.zeros((n, h), dtype=x.dtype)
        wh = self.params["Wh"]
        for t in range(steps):
            zh = prev @ wh
            a = acts[:, t]
            a[:, :2 * h] = sigmoid(zx[:, t, :2 * h] + zh[:, :2 * h])
            rec_n[:, t] = zh[:, 2 * h:]
            a[:, 2 * h:] = np.tanh(zx[:, t, 2 * h:] + a[:, h:2 * h] * zh[:, 2 * h:])
            z = a[:, :h]
            prev = (1.0 - z) * a[:, 2 * h:] + z * prev
            hs[:, t] = prev
        self.x, self.acts, self.rec_n, self.hs = x, acts, rec_n, hs
        return self._output(hs)

    def backward(self, grad):
        x, acts, rec_n, hs = self.x, self.acts, self.rec_n, self.hs
        n, steps, h = hs.shape
        dh_out = self._output_grad(grad, n, steps)
        dzx = np.empty_like(acts)      # gradient of the input part xₜ·Wx + b of each gate
        dzh = np.empty_like(acts)      # gradient of the recurrent part hₜ₋₁·Wh of each gate
        carry = np.zeros((n, h), dtype=hs.dtype)
        wh_t = self.params["Wh"].T
        norms = self.step_grad_norms = np.zeros(steps)
        zero = np.zeros((n, h), dtype=hs.dtype)
        for t in range(steps - 1, -1, -1):
            z, r, cand = acts[:, t, :h], acts[:, t, h:2 * h], acts[:, t, 2 * h:]
            prev = hs[:, t - 1] if t else zero
            dh = dh_out[:, t] + carry
            norms[t] = float(np.linalg.norm(dh))
            dn = dh * (1.0 - z) * (1.0 - cand ** 2)
            dz_ = dh * (prev - cand) * z * (1.0 - z)
            dr = dn * rec_n[:, t] * r * (1.0 - r)
            gx, gh = dzx[:, t], dzh[:, t]
            gx[:, :h], gx[:, h:2 * h], gx[:, 2 * h:] = dz_, dr, dn
            gh[:, :h], gh[:, h:2 * h], gh[:, 2 * h:] = dz_, dr, dn * r
            carry = dh * z + gh @ wh_t
        hs_prev = np.concatenate([np.zeros((n, 1, h), dtype=hs.dtype), hs[:, :-1]], axis=1)
        self._dzh = dzh
        return self._finish_backward(x, dzx, hs_prev)

    def _recurrent_weight_grad(self, dz, hs_prev):
        n, steps, h = hs_prev.shape
        np.matmul(hs_prev.reshape(n * steps, h).T, self._dzh.reshape(n * steps, -1), out=self.grads["Wh"])


class TimeDistributed(Dense):
    """Dense applied at every time step: yₜ = xₜ·W + b for an input (T, features), output (T, units)."""

    type_name = "TimeDistributed"

    def _build(self, input_shape, rng, source):
        if len(input_shape) != 2:
            raise self._shape_error("a sequence input (time steps, features)", source,
                                    hint="put it after a recurrent layer with return_sequences")
        self.steps = input_shape[0]
        out = super()._build(input_shape[1:], rng, source)
        return (self.steps, *out)

    def forward(self, x, training=False):
        n = x.shape[0]
        return super().forward(x.reshape(n * self.steps, -1), training).reshape(n, self.steps, self.units)

    def backward(self, grad):
        n = grad.shape[0]
        dx = super().backward(grad.reshape(n * self.steps, self.units))
        return None if dx is None else dx.reshape(n, self.steps, -1)

    def mult_adds(self):
        return self.steps * self.input_shape[1] * self.units

