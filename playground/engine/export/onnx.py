"""The ONNX format: one graph, input ``input`` with a dynamic batch, output ``probabilities``, opset 17.

Every layer becomes a node named after it (two for Step), writing a tensor of
the same name; weights are initializers named ``<layer>.<key>`` as in our
model files. Recurrent layers are ONNX's RNN, LSTM and GRU operators between
transposes (ONNX runs them time-major, (T, N, F)), their gate blocks in ONNX's
order, our one bias as ``Wb`` and zeros as ``Rb``; our GRU is ONNX's with
``linear_before_reset=1``. TimeDistributed is a MatMul and an Add. The ``onnx`` package (the ``[export]`` extra) is imported only
here, when a model is exported; shape inference fills in every intermediate
shape so a model viewer shows them, and ``onnx.checker`` passes the model
before it is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from playground.engine.errors import ExportError
from playground.engine.export.plan import Plan, Step

OPSET = 17
INPUT, OUTPUT = "input", "probabilities"
#: the batch dimension's name in the input and output shapes
BATCH = "N"
PRODUCER = "numpy-nn-playground"
INSTALL_HINT = "pip install 'numpy-nn-playground[export]' (or: pip install onnx)"
#: ONNX's recurrent operators and where each of their gate blocks is among ours
#: (ours: LSTM i, f, g, o and GRU z, r, n; ONNX: LSTM i, o, f, c and GRU z, r, h)
_RECURRENT = {"rnn": ("RNN", [0]), "lstm": ("LSTM", [0, 3, 1, 2]), "gru": ("GRU", [0, 1, 2])}
#: our activations and the ONNX operator of each
_ELEMENTWISE = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "identity": "Identity"}


def import_onnx() -> Any:
    """The onnx module, or an :class:`ExportError` saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ExportError(f"the onnx format needs the onnx package, which is not installed; "
                          f"install it with: {INSTALL_HINT}") from None
    return onnx


def render_onnx(plan: Plan, out: Path) -> dict[Path, bytes]:
    """The one file of the ONNX format for ``out``."""
    onnx = import_onnx()
    model = build_model(onnx, plan)
    return {out: model.SerializeToString()}


def build_model(onnx: Any, plan: Plan) -> Any:
    """The checked ONNX model of ``plan``, with every intermediate shape inferred."""
    helper = onnx.helper
    elem = helper.np_dtype_to_tensor_dtype(plan.dtype)
    graph = _GraphBuilder(onnx, plan.dtype)
    x = INPUT
    for i, step in enumerate(plan.steps):
        last = i == len(plan.steps) - 1 and plan.output is None
        x = graph.add_step(step, x, OUTPUT if last else None)
    if plan.output is not None:
        op = {"softmax": "Softmax", "sigmoid": "Sigmoid"}[plan.output]
        attrs = {"axis": -1} if op == "Softmax" else {}
        graph.node(op, [x], OUTPUT, f"output_{plan.output}", **attrs)
    inputs = [helper.make_tensor_value_info(INPUT, elem, [BATCH, *plan.input_shape])]
    outputs = [helper.make_tensor_value_info(OUTPUT, elem, [BATCH, *plan.output_shape])]
    g = helper.make_graph(graph.nodes, _graph_name(plan.title), inputs, outputs, graph.initializers,
                          doc_string=plan.describe_output())
    model = helper.make_model(g, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", OPSET)],
                              doc_string=f"{plan.title}: exported from the NumPy Neural Network Playground. "
                                         f"{plan.describe_output()}")
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def _graph_name(title: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in title) or "network"


class _GraphBuilder:
    """Nodes and initializers of one graph; tensor names are kept unique."""

    def __init__(self, onnx: Any, dtype: np.dtype):
        self.onnx = onnx
        self.dtype = dtype
        self.nodes: list = []
        self.initializers: list = []
        self.names = {INPUT, OUTPUT}

    def tensor_name(self, wanted: str) -> str:
        name, n = wanted, 1
        while name in self.names:
            n += 1
            name = f"{wanted}_{n}"
        self.names.add(name)
        return name

    def constant(self, name: str, value: np.ndarray) -> str:
        name = self.tensor_name(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, outputs: list[str] | None = None,
             **attrs: Any) -> str:
        """A node writing ``output`` (or the list ``outputs``, "" for an output left out); returns ``output``."""
        self.nodes.append(self.onnx.helper.make_node(op, inputs, outputs or [output], name=name, **attrs))
        return output

    def recurrent(self, step: Step, x: str, out: str) -> str:
        """An RNN, LSTM or GRU node between transposes: (N, T, F) in, (N, T, H) or (N, H) out."""
        name, h = step.name, step.settings["units"]
        op, order = _RECURRENT[step.kind]
        a = step.arrays

        def blocks(m: np.ndarray) -> np.ndarray:
            return np.concatenate([m[..., k * h:(k + 1) * h] for k in order], axis=-1)

        w = self.constant(f"{name}.W", blocks(a["Wx"]).T[None])            # (1, k·H, F)
        r = self.constant(f"{name}.R", blocks(a["Wh"]).T[None])            # (1, k·H, H)
        b = self.constant(f"{name}.B", np.concatenate([blocks(a["b"]), np.zeros_like(a["b"])])[None])  # Wb, Rb
        tx = self.node("Transpose", [x], self.tensor_name(f"{name}.time_major"), f"{name}.to_time_major",
                       perm=[1, 0, 2])
        attrs = {"hidden_size": h, **({"linear_before_reset": 1} if step.kind == "gru" else {})}
        axis = self.constant(f"{name}.direction_axis", np.array([1 if step.settings["return_sequences"] else 0]))
        if step.settings["return_sequences"]:
            y = self.tensor_name(f"{name}.Y")                            # (T, 1, N, H)
            self.node(op, [tx, w, r, b], y, name, outputs=[y], **attrs)
            ty = self.node("Squeeze", [y, axis], self.tensor_name(f"{name}.states"), f"{name}.squeeze")
            return self.node("Transpose", [ty], out, f"{name}.to_batch_major", perm=[1, 0, 2])
        y_h = self.tensor_name(f"{name}.Y_h")                            # (1, N, H)
        self.node(op, [tx, w, r, b], y_h, name, outputs=["", y_h], **attrs)
        return self.node("Squeeze", [y_h, axis], out, f"{name}.last_state")

    def add_step(self, step: Step, x: str, output: str | None) -> str:
        """Nodes for ``step`` reading tensor ``x``; returns the tensor they write (``output`` if given)."""
        kind, s, name = step.kind, step.settings, step.name
        out = output or self.tensor_name(name)
        if kind in _RECURRENT:
            return self.recurrent(step, x, out)
        p = {k: self.constant(f"{name}.{k}", a) for k, a in step.arrays.items()}
        if kind == "dense":
            return self.node("Gemm", [x, p["W"]] + ([p["b"]] if "b" in p else []), out, name)
        if kind == "time_dense":
            if "b" not in p:
                return self.node("MatMul", [x, p["W"]], out, name)
            xw = self.node("MatMul", [x, p["W"]], self.tensor_name(f"{name}.xW"), f"{name}.matmul")
            return self.node("Add", [xw, p["b"]], out, name)
        if kind == "conv":
            kh, kw = step.arrays["W"].shape[2:]
            return self.node("Conv", [x, p["W"], p["b"]], out, name, kernel_shape=[kh, kw],
                             strides=[s["stride"]] * 2, pads=[s["pad"]] * 4)
        if kind in ("maxpool", "avgpool"):
            attrs = {"kernel_shape": [s["pool"]] * 2, "strides": [s["stride"]] * 2, "pads": [s["pad"]] * 4}
            if kind == "avgpool":
                return self.node("AveragePool", [x], out, name, count_include_pad=1, **attrs)
            return self.node("MaxPool", [x], out, name, **attrs)
        if kind == "flatten":
            return self.node("Flatten", [x], out, name, axis=1)
        if kind == "batchnorm":
            return self.node("BatchNormalization", [x, p["gamma"], p["beta"], p["running_mean"], p["running_var"]],
                             out, name, epsilon=float(s["eps"]))
        if kind == "dropout":
            if s["scale"] == 1.0:
                return self.node("Identity", [x], out, name)
            scale = self.constant(f"{name}.scale", np.array(s["scale"], dtype=self.dtype))
            return self.node("Mul", [x, scale], out, name)
        if kind in ("leaky_relu", "elu"):
            op = "LeakyRelu" if kind == "leaky_relu" else "Elu"
            return self.node(op, [x], out, name, alpha=float(s["alpha"]))
        if kind == "softmax":
            return self.node("Softmax", [x], out, name, axis=-1)
        if kind == "step":
            zero = self.constant(f"{name}.zero", np.array(0, dtype=self.dtype))
            positive = self.node("Greater", [x, zero], self.tensor_name(f"{name}.positive"), f"{name}.greater")
            elem = self.onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
            return self.node("Cast", [positive], out, name, to=elem)
        return self.node(_ELEMENTWISE[kind], [x], out, name)


def describe_graph(model: Any) -> list[str]:
    """One line per node, ``name: OpType(inputs) -> output (shape)``, from an inferred model."""
    shapes = {}
    for info in list(model.graph.value_info) + list(model.graph.output) + list(model.graph.input):
        dims = [d.dim_param or str(d.dim_value) for d in info.type.tensor_type.shape.dim]
        shapes[info.name] = "(" + ", ".join(dims) + ")"
    lines = [f"input: {INPUT} {shapes.get(INPUT, '?')}"]
    for node in model.graph.node:
        out = node.output[0]
        lines.append(f"{node.name}: {node.op_type}({', '.join(node.input)}) -> {out} {shapes.get(out, '?')}")
    return lines
