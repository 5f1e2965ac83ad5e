"""Project files (.json) and model files (.npz).

A project holds everything needed to train: the network spec, the data set
and the training settings. It is what the GUI edits and saves, what presets
are, and what ``playground train`` reads::

    {"format": "numpy-nn-playground/project", "version": 1,
     "name": "...", "description": "...",
     "network": {...spec...}, "dataset": {"name": "mnist"}, "training": {...}}

A model file is an uncompressed ``.npz`` holding every weight and batch-norm
statistic as float32 arrays plus one JSON string ``__meta__`` with the spec,
the training settings and the data set it was trained on. Loading checks the
whole file before anything is returned: a corrupt, truncated or foreign file
raises :class:`FileFormatError` saying what is wrong, and nothing is half-loaded.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from playground.assets import preset_names, resources_dir
from playground.engine.data.datasets import DATASETS
from playground.engine.errors import FileFormatError, PlaygroundError, SpecError
from playground.engine.nn.network import Network, normalize_spec
from playground.engine.train.trainer import TrainConfig

PROJECT_FORMAT = "numpy-nn-playground/project"
MODEL_FORMAT = "numpy-nn-playground/model"
PROJECT_VERSION = 1
MODEL_VERSION = 1
PROJECT_KEYS = {"format", "version", "name", "description", "network", "dataset", "training", "notes"}


# ------------------------------------------------------------------ projects

def new_project(network: Mapping[str, Any], dataset: Mapping[str, Any], training: Mapping[str, Any] | None = None,
                name: str = "untitled", description: str = "") -> dict[str, Any]:
    return validate_project({"format": PROJECT_FORMAT, "version": PROJECT_VERSION, "name": name,
                             "description": description, "network": dict(network), "dataset": dict(dataset),
                             "training": dict(training or {})})


def validate_project(project: Any, source: str = "project") -> dict[str, Any]:
    """Check a project dict (structure, spec, data set name, settings); return a normalized copy."""
    if not isinstance(project, Mapping):
        raise FileFormatError(f"{source}: expected a JSON object with 'network', 'dataset' and 'training', "
                              f"got {type(project).__name__}")
    fmt = project.get("format")
    if fmt != PROJECT_FORMAT:
        raise FileFormatError(f"{source}: not a playground project (expected \"format\": \"{PROJECT_FORMAT}\", "
                              f"got {fmt!r})")
    version = project.get("version")
    if not isinstance(version, int) or version < 1:
        raise FileFormatError(f"{source}: expected a whole 'version' >= 1, got {version!r}")
    if version > PROJECT_VERSION:
        raise FileFormatError(f"{source}: made by a newer version of the playground (format version {version}; "
                              f"this one reads up to {PROJECT_VERSION}); update the app to open it")
    unknown = set(project) - PROJECT_KEYS
    if unknown:
        raise FileFormatError(f"{source}: unknown keys {sorted(unknown)}; expected some of {sorted(PROJECT_KEYS)}")
    for key in ("network", "dataset"):
        if key not in project:
            raise FileFormatError(f"{source}: the project has no '{key}' section")
    out = copy.deepcopy(dict(project))
    out.setdefault("name", "untitled")
    out.setdefault("description", "")
    out.setdefault("training", {})
    try:
        out["network"] = normalize_spec(out["network"])
        ds = out["dataset"]
        if not isinstance(ds, Mapping) or ds.get("name") not in DATASETS:
            raise SpecError(f"the data set must be an object with a 'name' among {', '.join(sorted(DATASETS))}, "
                            f"got {ds!r}")
        unknown_ds = set(ds) - set(DATASETS[ds["name"]]) - {"name"}
        if unknown_ds:
            raise SpecError(f"data set {ds['name']!r} does not take {sorted(unknown_ds)}; its parameters are "
                            f"{sorted(DATASETS[ds['name']])}")
        out["training"] = TrainConfig.from_dict(out["training"]).to_dict()
    except SpecError as e:
        raise FileFormatError(f"{source}: {e}") from None
    return out


def save_project(project: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Validate and write a project as indented JSON (atomically: all or nothing)."""
    data = validate_project(project)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return _atomic_write(Path(path), text.encode("utf-8"))


def load_project(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a project file."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such project file (expected a .json project or a preset name)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: expected a UTF-8 JSON project file, got binary data") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
                              f"the file may be truncated or not a project") from None
    return validate_project(data, source=str(path))


def project_to_json(project: Mapping[str, Any]) -> str:
    return json.dumps(validate_project(project), indent=2, ensure_ascii=False)


# ------------------------------------------------------------------ models

def save_model(net: Network, path: str | os.PathLike, training: Mapping[str, Any] | None = None,
               dataset: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None,
               extra: Mapping[str, Any] | None = None) -> Path:
    """Write weights, batch-norm statistics, spec and settings to ``path`` (.npz)."""
    meta = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "network": net.spec,
            "training": dict(training or {}), "dataset": dict(dataset or {}), "metrics": dict(metrics or {}),
            "seed": net.seed, **dict(extra or {})}
    arrays: dict[str, np.ndarray] = {"__meta__": np.array(json.dumps(meta, default=_json_default))}
    for k, v in net.params().items():
        arrays[f"param/{k}"] = v
    for k, v in net.state().items():
        arrays[f"state/{k}"] = v
    path = Path(path)
    _check_folder(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_model_meta(path: str | os.PathLike) -> dict[str, Any]:
    return _open_model(Path(path))[0]


def load_model(path: str | os.PathLike) -> tuple[Network, dict[str, Any]]:
    """Read a model file; return (network, meta). Raises FileFormatError on any problem."""
    path = Path(path)
    meta, arrays = _open_model(path)
    try:
        net = Network(meta["network"], seed=int(meta.get("seed", 0)))
        weights = {k.split("/", 1)[1]: v for k, v in arrays.items() if "/" in k}
        net.set_weights(weights)
    except PlaygroundError as e:
        raise FileFormatError(f"{path}: the weights do not fit the network stored with them: {e}") from None
    return net, meta


def _open_model(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not path.is_file():
        raise FileFormatError(f"{path}: no such model file (expected a .npz saved by 'playground train --out' "
                              f"or File > Export model)")
    try:
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if "__meta__" not in names:
                raise FileFormatError(f"{path}: a .npz file, but not a playground model (no '__meta__' entry; "
                                      f"it holds {', '.join(names[:5]) or 'nothing'})")
            meta = json.loads(str(z["__meta__"]))
            arrays = {n: np.array(z[n]) for n in names if n != "__meta__"}
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, EOFError) as e:
        raise FileFormatError(f"{path}: not a complete .npz model file ({e}); it may be truncated or "
                              f"another kind of file") from None
    except (ValueError, OSError, KeyError, json.JSONDecodeError) as e:
        raise FileFormatError(f"{path}: cannot read it as a playground model: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise FileFormatError(f"{path}: not a playground model (expected format {MODEL_FORMAT!r}, "
                              f"got {meta.get('format') if isinstance(meta, dict) else meta!r})")
    if not isinstance(meta.get("version"), int) or meta["version"] > MODEL_VERSION:
        raise FileFormatError(f"{path}: model format version {meta.get('version')!r} is not one this app reads "
                              f"(up to {MODEL_VERSION}); update the app")
    if "network" not in meta:
        raise FileFormatError(f"{path}: the model file has no network spec")
    for name, arr in arrays.items():
        if arr.dtype.kind != "f":
            raise FileFormatError(f"{path}: entry {name!r} should hold numbers, got {arr.dtype}")
    return meta, arrays


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise PlaygroundError(f"cannot save {path.name}: the folder {path.parent} does not exist; "
                              f"create it or choose another place")


def _atomic_write(path: Path, data: bytes) -> Path:
    _check_folder(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot store {type(o).__name__} in a model file")


def load_preset(name: str) -> dict[str, Any]:
    """The validated project dict of a bundled preset (its spec is ``project["network"]``)."""
    path = resources_dir() / "presets" / f"{name}.json"
    if not path.is_file():
        raise FileFormatError(f"unknown preset {name!r}; presets: {', '.join(preset_names())}")
    return load_project(path)


def resolve_project(name_or_path: str) -> dict[str, Any]:
    """A project from a file path, or a preset name when no such file exists."""
    path = Path(name_or_path)
    if path.suffix.lower() == ".json" or path.exists():
        return load_project(path)
    if name_or_path in preset_names():
        return load_preset(name_or_path)
    raise FileFormatError(f"{name_or_path!r} is neither a project file nor a preset; "
                          f"presets: {', '.join(preset_names())}")
