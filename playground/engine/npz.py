"""Reading ``.npz`` archives safely: each entry's header checked against its size and a cap before allocating.

``numpy.load`` believes an entry's header: a 2 KB file may claim 10^10
numbers and ask for 40 GB, or be an ``.npy`` file renamed ``.npz`` and come
back as a bare array. :func:`read_npz` reads the zip directory, reads each
entry's ``.npy`` header (never pickles), and allocates an entry only when its
shape times its item size is exactly the bytes the archive holds for it and
the total stays under a cap. Anything else raises :class:`FileFormatError`
saying what was expected and what was found.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from playground.engine.errors import FileFormatError

#: the most entries an archive may hold
MAX_ENTRIES = 10_000
#: the most bytes all entries together may hold once read (512 MiB: the largest network's weights in float64,
#: with batch-norm statistics)
MAX_BYTES = 1 << 29
_NPY_MAGIC = b"\x93NUMPY"


def read_npz(path: str | os.PathLike, kinds: str = "fU", max_bytes: int = MAX_BYTES) -> dict[str, np.ndarray]:
    """Every entry of the archive at ``path`` as an array; dtypes limited to the kinds in ``kinds``
    (``"f"`` floats, ``"U"`` text, ...)."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_NPY_MAGIC):
        raise FileFormatError(f"{path}: a single .npy array renamed .npz; expected a .npz archive "
                              f"(a zip of .npy entries, as numpy.savez writes)")
    if not zipfile.is_zipfile(path):
        raise FileFormatError(f"{path}: not a .npz archive (expected a zip of .npy entries, got a file "
                              f"starting {head[:4]!r}); it may be truncated or another kind of file")
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if len(infos) > MAX_ENTRIES:
            raise FileFormatError(f"{path}: expected at most {MAX_ENTRIES:,} entries, got {len(infos):,}")
        left = max_bytes
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise FileFormatError(f"{path}: expected only .npy entries, got {info.filename[:80]!r}")
            key = info.filename[:-4]
            if key in out:
                raise FileFormatError(f"{path}: the entry {key[:80]!r} is there twice")
            with z.open(info) as entry:
                out[key] = _read_entry(path, key, entry, info.file_size, kinds, left)
            left -= out[key].nbytes
    return out


def _read_entry(path: Path, key: str, f, size: int, kinds: str, left: int) -> np.ndarray:
    where = f"{path}: entry {key[:80]!r}"
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, SyntaxError, EOFError) as e:
        raise FileFormatError(f"{where}: not a readable .npy header ({e})") from None
    if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None:
        raise FileFormatError(f"{where}: expected an array of {_kinds_text(kinds)}, got dtype {dtype}")
    count = math.prod(int(s) for s in shape)  # Python ints: a claim of 10^30 elements is just a number
    nbytes = count * dtype.itemsize
    header = f.tell()
    if nbytes > left:
        raise FileFormatError(f"{where}: claims {count:,} numbers ({nbytes / 2**20:,.1f} MiB), more than the "
                              f"{left / 2**20:,.0f} MiB a file may hold; the file is damaged or not ours")
    if header + nbytes != size:
        raise FileFormatError(f"{where}: its header claims {count:,} values of {dtype} ({nbytes:,} bytes), but "
                              f"the archive holds {max(size - header, 0):,} bytes for it; the file is damaged")
    flat = np.empty(count, dtype=dtype)
    buffer = memoryview(flat.view(np.uint8))  # read straight into the array: no second copy of a big entry
    got = 0
    while got < nbytes:
        n = f.readinto(buffer[got:])
        if not n:
            raise FileFormatError(f"{where}: expected {nbytes:,} bytes, got {got:,}; the file is truncated")
        got += n
    return flat.reshape(shape, order="F" if fortran else "C")


def _kinds_text(kinds: str) -> str:
    names = {"f": "floating-point numbers", "U": "text", "i": "whole numbers", "u": "whole numbers"}
    return " or ".join(dict.fromkeys(names.get(k, k) for k in kinds))
