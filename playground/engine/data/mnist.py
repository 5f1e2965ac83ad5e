"""MNIST: find, read and download the four standard IDX files.

A folder holds MNIST when it has, each gzipped (``.gz``) or not::

    train-images-idx3-ubyte   train-labels-idx1-ubyte
    t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte

The counts come from the file headers (60,000 + 10,000 for an official
download, but any count is read). IDX is big-endian: a 4-byte magic number
``00 00 08 <ndim>`` (``08`` = unsigned bytes), then ``ndim`` uint32 sizes,
then the data. The data is decompressed straight into one array, never more
than the header announces, so the whole training set loads in a fraction of
a second and a damaged or hostile file costs no more memory than a real one.

Where MNIST is looked for, in order (:func:`find_mnist_dir`): a folder given
explicitly, the ``PLAYGROUND_MNIST_DIR`` environment variable, the user cache
folder that :func:`download_mnist` fills (:func:`default_mnist_dir`).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import numpy.typing as npt

from playground.engine.errors import DataError, FileFormatError, SpecError

ENV_VAR = "PLAYGROUND_MNIST_DIR"
APP_DIR_NAME = "numpy-nn-playground"

#: A public mirror of the official files (yann.lecun.com no longer serves them reliably).
DEFAULT_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

#: split -> (images file, labels file), without the ``.gz``
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: The four files an official download consists of.
MNIST_GZ_FILES: tuple[str, ...] = tuple(f"{name}.gz" for pair in MNIST_FILES.values() for name in pair)

#: SHA-256 of the official gzipped files.
MNIST_SHA256: Mapping[str, str] = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaaefb259924204aec",
}

IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
IMAGE_SIZE = 28
N_CLASSES = 10

_CHUNK = 1 << 16
#: the most data one IDX file may hold (MNIST's training images: 47 MB; EMNIST's largest: 548 MB)
MAX_IDX_BYTES = 1 << 30
#: deflate's best compression ratio is about 1032:1; a gzip cannot expand to more than this times its size
_DEFLATE_MAX_RATIO = 1100
#: the largest file a download may fetch (MNIST's largest gzipped file: 9.9 MB)
MAX_DOWNLOAD_BYTES = 64 << 20
_GZIP_MAGIC = b"\x1f\x8b"

#: ``progress(filename, bytes_done, bytes_total)``; ``bytes_total`` is None when
#: the server does not say. It may raise to cancel; the partial file is removed.
ProgressCallback = Callable[[str, int, "int | None"], None]


# ---------------------------------------------------------------- where MNIST is

def user_cache_dir() -> Path:
    """The app's cache folder.

    ``%LOCALAPPDATA%\\numpy-nn-playground`` on Windows, else
    ``$XDG_CACHE_HOME/numpy-nn-playground`` (an absolute ``XDG_CACHE_HOME``
    only, as the XDG spec says), else ``~/.cache/numpy-nn-playground``.
    """
    if os.name == "nt":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / APP_DIR_NAME


def default_mnist_dir() -> Path:
    """Where :func:`download_mnist` puts the files and :func:`find_mnist_dir` looks last."""
    return user_cache_dir() / "mnist"


def how_to_get_mnist() -> str:
    """The instructions every "MNIST not found" error ends with."""
    return (
        "To get MNIST, run `playground data download mnist` "
        f"(it downloads about 11 MB into {default_mnist_dir()}), "
        "or point at a folder holding the four IDX files "
        f"({', '.join(name for pair in MNIST_FILES.values() for name in pair)}, each optionally .gz), "
        f"or set the environment variable {ENV_VAR} to such a folder."
    )


def _as_path(value, what: str) -> Path:
    """``value`` (a str or path) as a Path with ``~`` expanded; a :class:`DataError` for anything else."""
    text = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(text, str) or "\0" in text:
        raise DataError(f"the MNIST {what} must be a folder's path, got {value!r}")
    return Path(value).expanduser()


def _candidates(name: str) -> tuple[str, ...]:
    # Official names first; some mirrors (Kaggle) spell "-idx3" as ".idx3".
    dotted = name.replace("-idx", ".idx")
    return (name, f"{name}.gz", dotted, f"{dotted}.gz")


def _locate(folder: Path, name: str) -> Path | None:
    for candidate in _candidates(name):
        path = folder / candidate
        if path.is_file():
            return path
    return None


def _missing(folder: Path, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if _locate(folder, name) is None]


def _check_folder(folder: Path, names: tuple[str, ...], source: str) -> Path:
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"MNIST folder {folder} ({source}) {what}. {how_to_get_mnist()}")
    missing = _missing(folder, names)
    if missing:
        raise DataError(
            f"MNIST folder {folder} ({source}) lacks {', '.join(missing)} (or .gz). {how_to_get_mnist()}"
        )
    return folder


def find_mnist_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The folder holding the four MNIST files.

    Looks at ``explicit``, then ``$PLAYGROUND_MNIST_DIR``, then
    :func:`default_mnist_dir`. A folder given explicitly or through the
    environment is used or refused, never silently skipped. Raises
    :class:`DataError` saying how to get MNIST when none holds the files.
    """
    all_files = tuple(name for pair in MNIST_FILES.values() for name in pair)
    if explicit is not None and str(explicit) != "":
        return _check_folder(_as_path(explicit, "folder"), all_files, "given folder")
    env = os.environ.get(ENV_VAR, "")
    if env:
        return _check_folder(Path(env).expanduser(), all_files, f"from {ENV_VAR}")
    cache = default_mnist_dir()
    if cache.is_dir() and not _missing(cache, all_files):
        return cache
    raise DataError(f"MNIST was not found: no folder given, {ENV_VAR} is not set "
                    f"and {cache} does not hold it. {how_to_get_mnist()}")


# ---------------------------------------------------------------- reading IDX

class _Stream:
    """An IDX file's bytes, decompressed on the fly when it is gzip (judged by content, not name)."""

    def __init__(self, path: Path, raw):
        self.path = path
        self.raw = raw
        self.size = os.fstat(raw.fileno()).st_size
        self.gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        self.file = gzip.GzipFile(fileobj=raw, mode="rb") if self.gzipped else raw

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` as far as the data goes; the number of bytes read."""
        done = 0
        try:
            while done < len(buffer):
                n = self.file.readinto(buffer[done:])
                if not n:
                    break
                done += n
        except (OSError, EOFError, zlib.error) as exc:
            if not self.gzipped:
                raise DataError(f"cannot read MNIST file {self.path}: {getattr(exc, 'strerror', None) or exc}") \
                    from None
            raise FileFormatError(
                f"{self.path} starts like a gzip file but cannot be decompressed "
                f"(truncated or corrupt download?): {exc}"
            ) from None
        return done

    def read(self, n: int) -> bytes:
        buffer = bytearray(n)
        return bytes(buffer[:self.readinto(memoryview(buffer))])


def read_idx(path: str | os.PathLike, magic: int | None = None, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read one IDX file of unsigned bytes, gzipped or not, into a read-only uint8 array.

    ``magic`` (e.g. :data:`IMAGE_MAGIC`), when given, is the one expected.
    The data is read streaming, never more than the header announces (plus
    one byte to tell a file that is too long), so a gzip bomb costs nothing.
    Raises :class:`FileFormatError` naming the file when the header is not
    IDX, announces more than ``max_bytes`` of data or more than the file can
    hold, or the data is shorter or longer than the header says.
    """
    path = Path(path)
    try:
        with open(path, "rb") as raw:
            return _read_idx(_Stream(path, raw), path, magic, max_bytes)
    except FileNotFoundError:
        raise DataError(f"MNIST file {path} does not exist. {how_to_get_mnist()}") from None
    except OSError as exc:  # opening or seeking; errors while reading are said by _Stream
        raise DataError(f"cannot read MNIST file {path}: {exc.strerror or exc}") from None


def _read_idx(stream: _Stream, path: Path, magic: int | None, max_bytes: int) -> np.ndarray:
    head = stream.read(4)
    if len(head) < 4:
        raise FileFormatError(f"{path} is not an IDX file: it has {len(head)} bytes, "
                              "expected at least a 4-byte header")
    found = int.from_bytes(head, "big")
    zero, dtype_code, ndim = found >> 16, (found >> 8) & 0xFF, found & 0xFF
    if magic is not None and found != magic:
        raise FileFormatError(
            f"{path} is not the expected IDX file: magic number 0x{magic:08x} expected, "
            f"found 0x{found:08x}{_magic_hint(found)}"
        )
    if zero != 0 or dtype_code != 0x08 or ndim == 0:
        raise FileFormatError(
            f"{path} is not an IDX file of unsigned bytes: magic number 0x000008NN expected, "
            f"found 0x{found:08x}"
        )
    header = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise FileFormatError(f"{path} is truncated: its header needs {header} bytes, "
                              f"the file has {4 + len(dims)}")
    shape = tuple(int.from_bytes(dims[i:i + 4], "big") for i in range(0, 4 * ndim, 4))
    count = math.prod(shape)  # Python integers: no overflow however large the header's sizes
    expected = header + count
    described = " x ".join(str(d) for d in shape)
    # deflate shrinks data at most about 1032 times, so a small gzip cannot hold what a huge header says
    room = stream.size * _DEFLATE_MAX_RATIO if stream.gzipped else stream.size
    if count > max_bytes or expected > room:
        state = f"more than the {max_bytes:,}-byte limit" if count > max_bytes \
            else f"more than a file of {stream.size:,} bytes can hold"
        raise FileFormatError(
            f"{path} is truncated or corrupt: the header announces {described} = {count:,} bytes of data, "
            f"{state}; a real IDX file's header matches its data"
        )
    data = np.empty(count, dtype=np.uint8)
    got = stream.readinto(memoryview(data))
    extra = len(stream.read(1)) if got == count else 0
    if got != count or extra:
        state = "truncated" if got < count else "longer than its header says"
        found_bytes = f"{header + got}" if got < count else f"more than {expected}"
        raise FileFormatError(
            f"{path} is {state}: the header announces {described} bytes of data, "
            f"so {expected} bytes (decompressed) were expected, found {found_bytes}"
        )
    data.flags.writeable = False
    return data.reshape(shape)


def _magic_hint(found: int) -> str:
    if found == IMAGE_MAGIC:
        return " (an images file; labels expected)"
    if found == LABEL_MAGIC:
        return " (a labels file; images expected)"
    return ""


def _split_files(folder: Path, split: str) -> tuple[Path, Path]:
    if split not in MNIST_FILES:
        raise SpecError(f"MNIST split must be one of {', '.join(map(repr, MNIST_FILES))}, got {split!r}")
    paths = []
    for name in MNIST_FILES[split]:
        path = _locate(folder, name)
        if path is None:
            raise DataError(f"MNIST file {name} (or {name}.gz) is not in {folder}. {how_to_get_mnist()}")
        paths.append(path)
    return paths[0], paths[1]


def load_mnist(folder: str | os.PathLike | None = None, split: str = "train", normalize: bool = True,
               flatten: bool = False, dtype: npt.DTypeLike = np.float32, *,
               limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load one MNIST split.

    ``folder`` is resolved with :func:`find_mnist_dir` when None. ``split`` is
    ``"train"`` or ``"test"`` (the t10k files); only its two files are read.
    Returns ``(x, y)``: ``x`` of shape ``(N, 1, 28, 28)`` (``(N, 784)`` when
    ``flatten``) in ``dtype``, divided by 255 into [0, 1] when ``normalize``
    (white digit on black); ``y`` int64 labels 0..9. ``limit`` keeps the
    first ``limit`` samples.
    """
    folder = find_mnist_dir() if folder is None else _check_folder(
        _as_path(folder, "folder"), MNIST_FILES.get(split, ()), "given folder")
    images_path, labels_path = _split_files(folder, split)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise SpecError(f"MNIST limit must be a whole number >= 1 or None, got {limit!r}")
    if normalize and not np.issubdtype(np.dtype(dtype), np.floating):
        raise SpecError(f"normalize=True needs a floating dtype, got {np.dtype(dtype).name}")

    images = read_idx(images_path, IMAGE_MAGIC)
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise FileFormatError(
            f"{images_path} holds images of {images.shape[1]} x {images.shape[2]} pixels, "
            f"MNIST's {IMAGE_SIZE} x {IMAGE_SIZE} expected"
        )
    if len(images) == 0:
        raise DataError(f"{images_path} holds no images (its header says 0); at least one image is expected. "
                        f"{how_to_get_mnist()}")
    labels = read_idx(labels_path, LABEL_MAGIC)
    if len(labels) != len(images):
        raise FileFormatError(
            f"MNIST {split} split does not match: {images_path.name} has {len(images)} images "
            f"but {labels_path.name} has {len(labels)} labels (same count expected)"
        )
    if labels.size and labels.max() >= N_CLASSES:
        bad = int(np.argmax(labels >= N_CLASSES))
        raise FileFormatError(f"{labels_path} has label {int(labels[bad])} at index {bad}; "
                              f"labels 0..{N_CLASSES - 1} expected")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]

    x = images.astype(dtype)  # a writable copy
    if normalize:
        np.divide(x, 255, out=x)
    x = x.reshape(len(x), IMAGE_SIZE * IMAGE_SIZE) if flatten else x.reshape(len(x), 1, IMAGE_SIZE, IMAGE_SIZE)
    return x, labels.astype(np.int64)


# ---------------------------------------------------------------- download

def parse_sha256sums(text: str) -> dict[str, str]:
    """``{filename: hex digest}`` from the output of ``sha256sum`` (``<hash>  <name>``)."""
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise FileFormatError(f"line {number} of a SHA256SUMS file should be '<64 hex digits>  <file>', "
                                  f"got {line!r}")
        sums[parts[1].lstrip("*").strip()] = parts[0].lower()
    return sums


def _checksums(checksums: Mapping[str, str] | str | os.PathLike | None) -> Mapping[str, str]:
    if checksums is None:
        return MNIST_SHA256
    if isinstance(checksums, Mapping):
        return {name: digest.lower() for name, digest in checksums.items()}
    path = Path(checksums)
    try:
        return parse_sha256sums(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read the checksum file {path}: {exc.strerror or exc}") from None


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_mnist(dest: str | os.PathLike | None = None, base_url: str = DEFAULT_URL,
                   progress: ProgressCallback | None = None, files: tuple[str, ...] = MNIST_GZ_FILES,
                   checksums: Mapping[str, str] | str | os.PathLike | None = None,
                   timeout: float = 30.0, max_bytes: int = MAX_DOWNLOAD_BYTES) -> Path:
    """Download MNIST into ``dest`` (default :func:`default_mnist_dir`) and return that folder.

    Each of ``files`` is fetched from ``base_url + name`` (an ``http://`` or
    ``https://`` address), streamed to ``name.part`` while hashing, and renamed
    into place only when its SHA-256 matches ``checksums`` (a ``{name: hex}``
    mapping or the path of a ``sha256sum``-style file; default: the official
    :data:`MNIST_SHA256`). A file already present with the right checksum is
    not fetched again; a file larger than ``max_bytes`` is refused.
    ``progress(name, bytes_done, bytes_total)`` is called after every chunk.
    A bad address, network failures, HTTP errors and checksum mismatches
    raise :class:`DataError`; no partial file is left behind, nor a folder
    this call created and left empty.
    """
    base = _check_url(base_url)
    folder = _as_path(dest, "download folder") if dest is not None else default_mnist_dir()
    sums = _checksums(checksums)
    unknown = [name for name in files if name not in sums]
    if unknown:
        raise DataError(f"no known SHA-256 for {', '.join(unknown)}; checksums are known for "
                        f"{', '.join(sorted(sums)) or 'no file'}, and unverified files are not downloaded")
    created: list[Path] = []
    try:
        created = [p for p in (folder, *folder.parents) if not p.exists()]
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        _remove_empty(created)
        raise DataError(f"cannot create the download folder {folder}: "
                        f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        for name in files:
            target = folder / name
            target.with_name(name + ".part").unlink(missing_ok=True)  # left by a download that was killed
            if target.is_file() and sha256_of(target) == sums[name]:
                if progress is not None:
                    size = target.stat().st_size
                    progress(name, size, size)
                continue
            _download_one(base + name, target, sums[name], progress, timeout, max_bytes)
    except BaseException:
        _remove_empty(created)
        raise
    return folder


def _check_url(base_url) -> str:
    """``base_url`` ending in ``/``; a :class:`DataError` unless it is an http(s) address."""
    if not isinstance(base_url, str):
        raise DataError(f"the download address must be an http:// or https:// URL, got {base_url!r}")
    try:
        parts = urllib.parse.urlsplit(base_url.strip()) if base_url.isprintable() else None
        port_ok = parts is not None and (parts.port is None or parts.port > 0)
    except ValueError:  # brackets that are not an IPv6 address, a port that is not a number
        parts, port_ok = None, False
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        shown = base_url if len(base_url) <= 200 else base_url[:200] + "..."
        raise DataError(f"the download address must be an http:// or https:// URL such as {DEFAULT_URL}, "
                        f"got {shown!r}")
    base = base_url.strip()
    return base if base.endswith("/") else base + "/"


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a download created, deepest first, as far as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty, or gone: leave it
            return


def _by_hand(folder: Path) -> str:
    return (f"You can also fetch {', '.join(MNIST_GZ_FILES)} from any MNIST mirror into {folder}, "
            f"or into another folder named by {ENV_VAR}.")


def _download_one(url: str, target: Path, expected: str, progress: ProgressCallback | None,
                  timeout: float, max_bytes: int) -> None:
    name = target.name
    part = target.with_name(name + ".part")
    digest = hashlib.sha256()
    done = 0
    try:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise DataError(f"downloading {url} failed: the server answered HTTP {exc.code} {exc.reason} "
                            f"(200 OK expected). {_by_hand(target.parent)}") from None
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise DataError(f"cannot reach {url}: {reason}. Check the internet connection or "
                            f"proxy settings. {_by_hand(target.parent)}") from None
        with response, open(part, "wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isascii() and length.isdigit() and len(length) < 20 else None
            if total is not None and total > max_bytes:
                raise DataError(f"{url} is {total:,} bytes, more than the {max_bytes:,} bytes a file of "
                                f"MNIST may have; is the address right? {_by_hand(target.parent)}")
            if progress is not None:
                progress(name, 0, total)
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise DataError(f"the download of {url} broke off after {done} bytes: {exc}") from None
                if not chunk:
                    break
                if done + len(chunk) > max_bytes:
                    raise DataError(f"{url} sent more than the {max_bytes:,} bytes a file of MNIST may have; "
                                    f"the download was stopped. Is the address right? {_by_hand(target.parent)}")
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(name, done, total)
        if total is not None and done != total:
            raise DataError(f"the download of {url} is incomplete: {total} bytes announced, {done} received")
        got = digest.hexdigest()
        if got != expected:
            raise DataError(f"{name} downloaded from {url} has the wrong SHA-256: expected {expected}, "
                            f"got {got}; the file was discarded")
        os.replace(part, target)
    except OSError as exc:
        raise DataError(f"cannot write {part}: {exc.strerror or exc}") from None
    finally:
        part.unlink(missing_ok=True)
