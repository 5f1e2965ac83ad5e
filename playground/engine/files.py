"""Saving files without losing any: output paths checked before the work, writes that are all or nothing.

:func:`check_output_path` is asked before a long job (training) whether its
result can be saved at a path, so a typo never throws the work away:
the name must end as expected, fit the file system's limits, not be a
folder, a device or the job's own input, and the folder must take a new file
(tried, not guessed: ``/proc`` and read-only disks say yes to
``os.access``).

:func:`atomic_write` then writes to a temporary file in the same folder,
flushes it to disk, renames it over the target and flushes the folder: the
target is either the old file or the new one, never half of either. A
symlink is written through to its target; an existing file keeps its mode
(a new one gets the umask's); the temporary file is removed on any exit
Python sees (an exception, Ctrl-C, SIGTERM through the command line's
handler).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

from playground.engine.checks import short_path
from playground.engine.errors import FileFormatError, PlaygroundError

#: longest path and file name (bytes) accepted; Linux's PATH_MAX and NAME_MAX
PATH_MAX = 4096
NAME_MAX = 255


class SaveError(PlaygroundError):
    """A file that cannot be saved where asked (the folder, the name or the disk)."""


def check_output_path(path: str | os.PathLike, suffix: str | None = None,
                      inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Check that a file can be saved at ``path``; return the path a save writes (symlinks followed).

    ``suffix`` (e.g. ``".npz"``): the name must end with it. ``inputs``: files
    the job reads, which the result must not replace. Raises :class:`SaveError`
    saying what is wrong and what to do.
    """
    raw = os.fspath(path)
    shown = short_path(raw)
    if not raw or "\0" in raw:
        raise SaveError(f"expected a file name to save to, got {raw!r}")
    encoded = os.fsencode(raw)
    longest = max(len(part) for part in encoded.split(b"/"))
    if len(encoded) >= PATH_MAX or longest > NAME_MAX:
        raise SaveError(f"cannot save to {shown}: expected a path under {PATH_MAX} bytes with names of at most "
                        f"{NAME_MAX}, got one of {len(encoded):,} bytes with a name of {longest:,}; "
                        f"choose a shorter name")
    if raw.endswith(os.sep):
        raise SaveError(f"cannot save to {shown}: expected a file name, got a folder's (it ends in {os.sep!r})")
    name = Path(raw).name
    if suffix and not name.lower().endswith(suffix):
        raise SaveError(f"cannot save to {shown}: expected a file name ending in {suffix}, got {name!r}")
    target = Path(os.path.realpath(raw))
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise SaveError(f"cannot save to {shown}: {e.strerror or e}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise SaveError(f"cannot save to {shown}: it is a folder; expected a file name such as "
                        f"{os.path.join(raw, 'model' + (suffix or ''))}")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise SaveError(f"cannot save to {shown}: it is not a regular file (a device, pipe or socket); "
                        f"expected a new file name or an existing file")
    for source in inputs:
        if os.path.realpath(os.fspath(source)) == str(target) or (st is not None and _same_file(source, st)):
            raise SaveError(f"cannot save to {shown}: it is the input {os.fspath(source)}, which the result "
                            f"would replace; choose another name")
    folder = target.parent
    if not folder.is_dir():
        raise SaveError(f"cannot save {name}: the folder {folder} does not exist; create it or choose another place")
    try:
        fd, tmp = _create_temp(folder, target.name)
    except OSError as e:
        raise SaveError(f"cannot save to {shown}: the folder {folder} does not take new files "
                        f"({e.strerror or e}); choose another place") from None
    os.close(fd)
    os.unlink(tmp)
    return target


def check_input_file(path: str | os.PathLike, kind: str, expected: str) -> Path:
    """``path`` when it names a regular file; otherwise raise FileFormatError saying what it is instead.

    ``kind`` names the file ("model file"), ``expected`` what was expected
    ("a .npz saved by ..."). A name too long for the file system, a folder, a
    device or a missing file each get their own message; nothing is opened.
    """
    raw = os.fspath(path)
    shown = short_path(raw)
    try:
        st = os.stat(raw)
    except FileNotFoundError:
        raise FileFormatError(f"{shown}: no such {kind} (expected {expected})") from None
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise FileFormatError(f"{shown}: cannot be opened ({reason}); expected {expected}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileFormatError(f"{shown}: a folder; expected {expected}")
    if not stat.S_ISREG(st.st_mode):
        raise FileFormatError(f"{shown}: not a regular file (a device, pipe or socket); expected {expected}")
    return Path(raw)


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], suffix: str | None = None) -> Path:
    """Write a file by ``write(f)`` into a temporary file beside it, then rename it over ``path``.

    Returns ``path``. Raises :class:`SaveError` when the path is refused (see
    :func:`check_output_path`) or the disk fails; the old file is then as it was.
    """
    target = check_output_path(path, suffix)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as e:
        raise SaveError(f"cannot save to {path}: {e.strerror or e}") from None
    tmp = None
    try:
        fd, tmp = _create_temp(target.parent, target.name)
        with os.fdopen(fd, "wb") as f:
            if old is not None:  # keep the file's mode (and owner, where we may)
                os.fchmod(f.fileno(), stat.S_IMODE(old.st_mode))
                try:
                    os.fchown(f.fileno(), old.st_uid, old.st_gid)
                except OSError:
                    pass
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
        _fsync_folder(target.parent)
    except OSError as e:
        raise SaveError(f"cannot save to {path}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return Path(path)


def _same_file(path: str | os.PathLike, st: os.stat_result) -> bool:
    """Whether ``path`` is the file ``st`` describes (a hard link counts)."""
    try:
        other = os.stat(path)
    except (OSError, ValueError):
        return False
    return (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino)


def _create_temp(folder: Path, name: str) -> tuple[int, str]:
    """A new file ``.NAME.RANDOM.part`` in ``folder``, opened for writing, with the umask's mode."""
    stem = name[: NAME_MAX - 24]
    for _ in range(100):
        tmp = os.path.join(folder, f".{stem}.{secrets.token_hex(6)}.part")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def _fsync_folder(folder: Path) -> None:
    """Flush the folder's entry for the renamed file (some file systems refuse; the data is safe anyway)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
