"""Export a network to a format and write its files: all of them or, on any problem, none."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from playground.engine.errors import ExportError
from playground.engine.export.plan import Plan, plan_network
from playground.engine.nn.network import Network

#: format name -> (the file suffix it writes, a one-line description)
FORMATS = {
    "onnx": (".onnx", "an ONNX model (needs the onnx package)"),
    "numpy": (".py", "one Python file that needs only NumPy, with the weights beside it"),
    "pytorch": (".py", "a PyTorch nn.Module with load_model(), with the weights beside it"),
}

#: modules the generated code files import, which a file of the same name would hide
_IMPORTED = {"numpy", "torch", "json", "sys", "os", "pathlib", "dataclasses", "PIL", "io", "math"}


def _renderer(fmt: str) -> Callable[[Plan, Path], dict[Path, bytes]]:
    if fmt == "onnx":
        from playground.engine.export.onnx import render_onnx
        return render_onnx
    if fmt == "numpy":
        from playground.engine.export.numpy_code import render_numpy
        return render_numpy
    from playground.engine.export.pytorch_code import render_pytorch
    return render_pytorch


def default_out(model: Path, fmt: str) -> Path:
    """Where ``playground export`` writes when not told: beside the model, named after it."""
    stem = model.stem if fmt != "pytorch" else f"{model.stem}_torch"
    return model.with_name(stem + FORMATS[fmt][0])


def render(net: Network, fmt: str, out: str | os.PathLike, title: str = "") -> dict[Path, bytes]:
    """The files exporting ``net`` to ``fmt`` at ``out`` would write, path -> contents; nothing is written.

    Raises :class:`ExportError` for an unknown format, a wrong suffix, or a layer the format
    cannot translate (naming it).
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = Path(out)
    suffix = FORMATS[fmt][0]
    if out.suffix.lower() != suffix:
        raise ExportError(f"the {fmt} format writes a {suffix} file, got {str(out)!r}; "
                          f"name the output like model{suffix}")
    if fmt != "onnx" and not out.stem.isidentifier():
        raise ExportError(f"{out.name!r} cannot be imported from Python; name the output with letters, digits and "
                          f"underscores (not starting with a digit), like model{suffix}")
    if fmt != "onnx" and out.stem in _IMPORTED:
        raise ExportError(f"a file named {out.name!r} would hide the {out.stem} module it imports; "
                          f"choose another name, like model{suffix}")
    return _renderer(fmt)(plan_network(net, title), out)


def export_network(net: Network, fmt: str, out: str | os.PathLike, title: str = "",
                   keep: tuple[str | os.PathLike, ...] = ()) -> list[Path]:
    """Write ``net`` in format ``fmt`` (``onnx``, ``numpy`` or ``pytorch``) to ``out``; return the files written.

    Everything is translated before anything is written, and each file is
    written whole or not at all; a file in ``keep`` (the model exported from)
    is never overwritten.
    """
    files = render(net, fmt, out, title)
    kept = {Path(k).resolve() for k in keep}
    for path in files:
        if path.resolve() in kept:
            raise ExportError(f"exporting to {path} would overwrite the model file itself; choose another --out")
        if not path.parent.is_dir():
            raise ExportError(f"cannot write {path.name}: the folder {path.parent} does not exist; "
                              f"create it or choose another place")
    return write_all(files)


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_all(files: dict[Path, bytes]) -> list[Path]:
    """Write every file through a temporary one beside it, renamed into place only once all are written.

    A rename that fails after others succeeded removes the files it had just
    created (files it replaced keep their new contents).
    """
    for path in files:
        if path.exists() and not path.is_file():
            raise ExportError(f"cannot write {path}: something that is not a file is in the way; "
                              f"choose another --out")
    existed = {path: path.exists() for path in files}
    mode = 0o666 & ~_umask()
    temps: list[tuple[str, Path]] = []
    placed: list[Path] = []
    try:
        for path, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, mode)  # mkstemp makes files only their owner may read
        for tmp, path in temps:
            os.replace(tmp, path)
            placed.append(path)
    except OSError as e:
        for path in placed:
            if not existed[path]:
                path.unlink(missing_ok=True)
        raise ExportError(f"cannot write {e.filename or 'the exported files'}: {e.strerror or e}; "
                          f"choose another place") from None
    finally:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
    return list(files)
