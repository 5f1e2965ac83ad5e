"""The user's own digits: drawings saved as PNG files, the label being the folder name.

Layout (the "image folder" convention, so any tool can read it)::

    <root>/0/20250101-120000-123456.png
    <root>/7/20250101-120105-000001.png

Each file is the drawing pad as it was (grayscale, full size), so a later,
better preprocessing can be applied to the same drawings. :meth:`UserDigitStore.arrays`
returns them preprocessed as the network sees them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from playground.engine.errors import DataError, PlaygroundError
from playground.engine.data.preprocess import load_image, preprocess_digit

#: folder name under the app's data folder
STORE_NAME = "my-digits"


def default_store_dir() -> Path:
    """``<QStandardPaths.AppDataLocation>/my-digits`` (needs a QCoreApplication for the app name)."""
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:
        base = str(Path.home() / ".local" / "share" / "numpy-nn-playground")
    return Path(base) / STORE_NAME


class UserDigitStore:
    """Labelled drawings in a folder (created on the first save)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def save(self, image: np.ndarray, label: int) -> Path:
        """Write ``image`` (2-D uint8 grayscale) as ``<root>/<label>/<time>.png``; return the path."""
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) <= 9:
            raise DataError(f"a digit's label must be a whole number from 0 to 9, got {label!r}")
        a = np.asarray(image)
        if a.ndim != 2 or a.dtype != np.uint8 or a.size == 0:
            raise DataError(f"a drawing must be a 2-D uint8 grayscale image, got shape {a.shape} of {a.dtype}")
        folder = self.root / str(int(label))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000_000 // 1000:06d}"
            path = folder / f"{stamp}.png"
            n = 1
            while path.exists():
                path = folder / f"{stamp}-{n}.png"
                n += 1
            Image.fromarray(np.ascontiguousarray(a), mode="L").save(path)
        except OSError as e:
            raise DataError(f"cannot save the drawing into {folder}: {e.strerror or e}") from None
        return path

    def files(self) -> list[tuple[Path, int]]:
        """(path, label) of every saved drawing, oldest first within each label."""
        out = []
        if not self.root.is_dir():
            return out
        for label in range(10):
            folder = self.root / str(label)
            if folder.is_dir():
                out.extend((p, label) for p in sorted(folder.glob("*.png")))
        return out

    def counts(self) -> list[int]:
        """How many drawings each digit 0..9 has."""
        c = [0] * 10
        for _, label in self.files():
            c[label] += 1
        return c

    def __len__(self) -> int:
        return len(self.files())

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: x float32 (N, 1, 28, 28) preprocessed as the pad's drawings are, y int64 (N,).

        Files that cannot be read, or hold no ink, are skipped.
        """
        xs, ys = [], []
        for path, label in self.files():
            try:
                img = load_image(path)
            except PlaygroundError:
                continue
            final = preprocess_digit(img)
            if final.any():
                xs.append(final)
                ys.append(label)
        if not xs:
            return np.zeros((0, 1, 28, 28), np.float32), np.zeros((0,), np.int64)
        return np.stack(xs)[:, None].astype(np.float32), np.array(ys, np.int64)
