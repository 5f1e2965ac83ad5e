"""Keep large temporaries on the heap so they are reused, not re-faulted.

glibc serves allocations above M_MMAP_THRESHOLD (128 KiB at first, adapted
upwards later) with a fresh mmap that is returned on free; every training step
then pays page faults for its big arrays. Raising the threshold and the trim
threshold lets freed blocks be reused by the next step. Linux/glibc only; a
no-op elsewhere.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def keep_freed_memory(limit_bytes: int = 512 * 2**20) -> bool:
    """Raise glibc's mmap and trim thresholds once; True if it took effect."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(limit_bytes // 2)) == 1
        ok &= libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(limit_bytes)) == 1
    except (OSError, AttributeError):
        return False
    _done = bool(ok)
    return _done
