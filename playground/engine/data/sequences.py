"""Generated sequence data sets for recurrent networks: a noisy sine wave, the adding problem, a counting text.

Each generator returns ``(x, y)`` with ``x`` float32 of shape ``(N, T, features)``:

- :func:`sine_wave`: windows of ``steps`` values of a noisy sine; the target is
  the next (clean) value. Regression.
- :func:`adding`: the adding problem (Hochreiter & Schmidhuber 1997): each step
  holds a random number in [0, 1) and a marker; exactly two steps are marked,
  one in each half, and the target is the sum of their numbers. A network must
  carry the first number across up to ``steps`` steps. Predicting the mean (1.0)
  scores an MSE of about 1/6; below 0.01 the network has learnt to remember.
- :func:`counting_text`: a character-level text (counting in words, "one two
  three ..."); each window of ``steps`` one-hot characters predicts the next
  character. :func:`sample_text` continues a text with a trained network.
"""

from __future__ import annotations

import numpy as np

from playground.engine.errors import SpecError

#: the text the character-level set is cut from: counting in words, which has structure at two scales
COUNTING_WORDS = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                  "sixteen seventeen eighteen nineteen twenty ")
#: its alphabet, in a fixed order (the class index of each character)
ALPHABET = "".join(sorted(set(COUNTING_WORDS)))


def sine_wave(n_samples: int = 1000, noise: float = 0.05, seed=0, steps: int = 20,
              period: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a sine of ``period`` steps plus noise; the target is the wave's next clean value."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, period, (n_samples, 1))
    t = start + np.arange(steps + 1)
    wave = np.sin(2 * np.pi * t / period)
    x = wave[:, :steps] + noise * rng.standard_normal((n_samples, steps))
    return x[:, :, None].astype(np.float32), wave[:, steps:].astype(np.float32)


def adding(n_samples: int = 4000, noise: float = 0.0, seed=0, steps: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: (N, steps, 2) inputs (value, marker), target the sum of the two marked values."""
    if steps < 2:
        raise SpecError(f"the adding problem needs sequences of at least 2 steps, got {steps}")
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (n_samples, steps))
    half = steps // 2
    first = rng.integers(0, half, n_samples)
    second = rng.integers(half, steps, n_samples)
    marks = np.zeros((n_samples, steps))
    rows = np.arange(n_samples)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    x = np.stack([values + noise * rng.standard_normal(values.shape), marks], axis=2)
    return x.astype(np.float32), y[:, None].astype(np.float32)


def one_hot_text(text: str) -> np.ndarray:
    """(len(text), len(ALPHABET)) one-hot rows; characters outside the alphabet raise SpecError."""
    unknown = sorted(set(text) - set(ALPHABET))
    if unknown:
        raise SpecError(f"the text model knows only {ALPHABET!r}; got {''.join(unknown)!r}")
    idx = np.fromiter((ALPHABET.index(c) for c in text), dtype=np.int64, count=len(text))
    out = np.zeros((len(text), len(ALPHABET)), dtype=np.float32)
    out[np.arange(len(text)), idx] = 1.0
    return out


def counting_text(n_samples: int = 2000, noise: float = 0.0, seed=0, steps: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``steps`` one-hot characters of the counting text; the target is the next character."""
    rng = np.random.default_rng(seed)
    period = len(COUNTING_WORDS)
    text = COUNTING_WORDS * (steps // period + 2)
    codes = one_hot_text(text)
    starts = rng.integers(0, period, n_samples)
    windows = starts[:, None] + np.arange(steps)
    x = codes[windows]
    if noise:
        x = x + noise * rng.standard_normal(x.shape).astype(np.float32)
    y = np.array([ALPHABET.index(text[s + steps]) for s in starts], dtype=np.int64)
    return x.astype(np.float32), y


def sample_text(net, prompt: str, length: int, temperature: float = 0.0, seed=0) -> str:
    """Continue ``prompt`` by ``length`` characters, feeding the network's own output back in.

    ``temperature`` 0 takes the most likely character; above 0 it samples from the
    softmax sharpened (< 1) or flattened (> 1) by that temperature.
    """
    steps = net.input_shape[0]
    if len(prompt) < steps:
        raise SpecError(f"the prompt needs at least {steps} characters (the network reads {steps} at a time), "
                        f"got {len(prompt)}")
    rng = np.random.default_rng(seed)
    text = prompt
    for _ in range(length):
        probs = net.predict(one_hot_text(text[-steps:])[None])[0].astype(np.float64)
        if temperature > 0:
            logits = np.log(np.maximum(probs, 1e-12)) / temperature
            p = np.exp(logits - logits.max())
            k = int(rng.choice(len(ALPHABET), p=p / p.sum()))
        else:
            k = int(np.argmax(probs))
        text += ALPHABET[k]
    return text[len(prompt):]
