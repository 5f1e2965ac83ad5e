"""JSON lines on stdout for the command line: strict JSON, NaN and infinities written as null."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np


def clean(obj: Any) -> Any:
    """``obj`` with NumPy values made plain and every NaN or infinity replaced by None (JSON null)."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def print_json(obj: Any) -> None:
    """One line of strict JSON (never NaN, which JSON does not have) on stdout, flushed."""
    sys.stdout.write(json.dumps(clean(obj), allow_nan=False) + "\n")
    sys.stdout.flush()
