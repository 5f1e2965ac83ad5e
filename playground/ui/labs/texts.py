"""What each lab page says before its figures: what the book did, what to look for, the formula.

"What the book did" is the lab module's docstring (its first paragraph after the title); the rest is
written here, in :data:`LOOK_FOR` and :data:`FORMULA`.
"""

from __future__ import annotations

import html
import re

from playground.engine.lab.registry import lab_module

LOOK_FOR = {
    "perceptron": "Drag the sliders: the line w1·x1 + w2·x2 + b = 0 splits the four inputs; the dots on its "
                  "positive side output 1. No line puts XOR's two 1s on one side and its two 0s on the other; "
                  "two layers (NAND and OR, then AND) do.",
    "activations": "Sigmoid's derivative is a hump that never exceeds 0.25; tanh's reaches 1 at 0; ReLU's is 0 "
                   "or 1; the step's is 0 everywhere, so gradient descent learns nothing through it.",
    "gradcheck": "Every tensor's relative error should be far below 1e-5 (around 1e-8 or smaller in float64). "
                 "Compare the two timings: the numerical gradient needs two forward passes per weight.",
    "optimizers-mnist": "SGD's loss falls slowest; AdaGrad, Adam and Momentum leave it behind within a few "
                        "hundred iterations.",
    "init-histograms": "With std 1 the sigmoid's outputs pile up at 0 and 1, where its gradient vanishes (about "
                       "two thirds of layer 5's outputs within 0.05 of them, \"saturated\"); with "
                       "std 0.01 they crowd at 0.5 (every unit alike). The book's Xavier keeps sigmoid and tanh "
                       "spread; He keeps ReLU's spread through all five layers.",
    "init-mnist": "With std 0.01 the loss hardly leaves ln 10 ≈ 2.30; He learns fastest, the book's Xavier "
                  "close behind.",
    "batchnorm": "In most panels the solid line (with batch norm) climbs sooner and higher than the dashed one "
                 "(without), and it learns at scales where the plain network cannot start at all.",
    "overfitting": "Without help, train accuracy reaches 1.0 while test accuracy stays far below: the gap is "
                   "overfitting. Weight decay and dropout narrow it. The faint line is the running mean over "
                   "batches with dropout on, which understates the network's real train accuracy.",
    "filters": "Before training the filters are noise; after it, many are smooth blobs and edges. The "
               "responses show which strokes of the digit each filter picks up.",
    "deep-convnet": "The digits it gets wrong are the ones a person would hesitate over too.",
    "sin-regression": "Between the training points the fit follows sin; past x = 20 it goes on in a straight "
                      "line: a ReLU network is piecewise linear and knows nothing beyond its data.",
}

FORMULA = {
    "perceptron": "y = 1 if w1·x1 + w2·x2 + b > 0, else 0",
    "activations": "σ(x) = 1 / (1 + e^−x),  σ'(x) = σ(x)(1 − σ(x)) ≤ 0.25;  ReLU(x) = max(0, x)",
    "gradcheck": "∂L/∂w ≈ (L(w + h) − L(w − h)) / 2h;  relative error = |a − b| / max(|a|, |b|)",
    "optimizers-mnist": "SGD: W ← W − η∂L/∂W;  Momentum: v ← μv − η∂L/∂W, W ← W + v;  "
                        "AdaGrad: h ← h + (∂L/∂W)², W ← W − η∂L/∂W / √h",
    "init-histograms": "std 1;  std 0.01;  the book's Xavier (LeCun): 1/√n;  He: √(2/n), n = inputs per unit",
    "init-mnist": "W ~ N(0, σ²):  σ = 0.01;  σ = 1/√n (the book's Xavier, LeCun);  σ = √(2/n) (He)",
    "batchnorm": "x̂ = (x − μ_B) / √(σ_B² + ε),  y = γx̂ + β",
    "overfitting": "weight decay: L + ½λ‖W‖²;  dropout (the book's): train y = x·mask, test y = x·(1 − p)",
    "filters": "each output pixel: Σ filter ⊙ image patch + b, for every 5×5 patch (im2col does them all at once)",
    "deep-convnet": "conv 3×3 ×2, pool, conv ×2, pool, conv ×2, pool, dense 50, dropout 0.5, dense 10, dropout 0.5",
    "sin-regression": "loss = mean (ŷ − sin x)²;  ŷ = W8·ReLU(W7 ··· ReLU(W1 x + b1) ···) + b8",
}


def book_text(name: str) -> str:
    """The first paragraph after the title of the lab module's docstring, on one line."""
    doc = (lab_module(name).__doc__ or "").strip().split("\n\n")
    body = doc[1] if len(doc) > 1 else doc[0]
    body = re.sub(r":\w+:`~?([^`]*)`", lambda m: m.group(1).rsplit(".", 1)[-1], body)
    return " ".join(body.replace("``", "").split())


def page_html(name: str) -> str:
    """The page's introduction as rich text: what the book did, what to look for, the formula."""
    return (f"<p><b>What the book did.</b> {html.escape(book_text(name))}</p>"
            f"<p><b>What to look for.</b> {html.escape(LOOK_FOR[name])}</p>"
            f"<p><b>Formula.</b> <code>{html.escape(FORMULA[name])}</code></p>")
