"""Metrics for classification and regression (plain NumPy, no state)."""

from __future__ import annotations

import numpy as np


def labels_of(y: np.ndarray) -> np.ndarray:
    """Class indices from indices (N,), a column (N, 1) or one-hot (N, K)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype(np.int64)


def predicted_labels(out: np.ndarray) -> np.ndarray:
    """Argmax for several outputs; a threshold at 0.5 (probability) for one."""
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] == 1:
        return (out[:, 0] > 0.5).astype(np.int64)
    return out.argmax(axis=1)


def accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    pred, y = labels_of(pred) if np.ndim(pred) == 2 else np.asarray(pred), labels_of(y)
    return float(np.mean(pred == y)) if y.size else float("nan")


def confusion_matrix(pred: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """``m[true, predicted]`` counts."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (labels_of(y), np.asarray(pred).reshape(-1)), 1)
    return m


def precision_recall_f1(cm: np.ndarray) -> dict[str, list[float]]:
    """Per class: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R) (0 where undefined)."""
    tp = np.diag(cm).astype(float)
    pred_pos = cm.sum(axis=0)
    true_pos = cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(pred_pos > 0, tp / pred_pos, 0.0)
        r = np.where(true_pos > 0, tp / true_pos, 0.0)
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return {"precision": p.tolist(), "recall": r.tolist(), "f1": f1.tolist()}


def regression_metrics(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """MSE, MAE and R² = 1 − SS_res / SS_tot."""
    pred = np.asarray(pred, dtype=np.float64).reshape(len(y), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    err = pred - y
    ss_res = float(np.sum(err ** 2))
    ss_tot = float(np.sum((y - y.mean(axis=0)) ** 2))
    return {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err))),
            "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")}
