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
import zipfile
import zlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from playground.assets import preset_names, resources_dir
from playground.engine.checks import MAX_DEPTH, brief, nesting_depth, real_number, short_path, text, whole_number
from playground.engine.data.datasets import DATASETS, check_dataset_spec
from playground.engine.errors import FileFormatError, PlaygroundError, SpecError
from playground.engine.files import atomic_write, check_input_file
from playground.engine.nn.network import MAX_SEED, Network, normalize_spec
from playground.engine.npz import read_npz
from playground.engine.train.trainer import TrainConfig

PROJECT_FORMAT = "numpy-nn-playground/project"
MODEL_FORMAT = "numpy-nn-playground/model"
PROJECT_VERSION = 1
MODEL_VERSION = 1
PROJECT_KEYS = {"format", "version", "name", "description", "network", "dataset", "training", "notes"}
#: the largest project file read (presets are a few KB)
MAX_PROJECT_BYTES = 16 << 20
#: the largest JSON header a model file may carry
MAX_META_BYTES = 16 << 20


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
    if nesting_depth(dict(project)) > MAX_DEPTH:
        raise FileFormatError(f"{source}: expected a project nested at most {MAX_DEPTH} levels deep, got more; "
                              f"the file is not a playground project")
    fmt = project.get("format")
    if fmt != PROJECT_FORMAT:
        raise FileFormatError(f"{source}: not a playground project (expected \"format\": \"{PROJECT_FORMAT}\", "
                              f"got {brief(fmt)})")
    version = project.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise FileFormatError(f"{source}: expected a whole 'version' >= 1, got {brief(version)}")
    if version > PROJECT_VERSION:
        raise FileFormatError(f"{source}: made by a newer version of the playground (format version "
                              f"{brief(version)}; this one reads up to {PROJECT_VERSION}); update the app to open it")
    unknown = set(project) - PROJECT_KEYS
    if unknown:
        raise FileFormatError(f"{source}: unknown keys {brief(sorted(map(str, unknown)))}; "
                              f"expected some of {sorted(PROJECT_KEYS)}")
    for key in ("network", "dataset"):
        if key not in project:
            raise FileFormatError(f"{source}: the project has no '{key}' section")
    out = copy.deepcopy(dict(project))
    out.setdefault("name", "untitled")
    out.setdefault("description", "")
    out.setdefault("training", {})
    try:
        for key, limit in (("name", 200), ("description", 100_000), ("notes", 1_000_000)):
            if key in out:
                text(out[key], f"the project's '{key}'", limit)
        out["network"] = normalize_spec(out["network"])
        ds = out["dataset"]
        if not isinstance(ds, dict) or not isinstance(ds.get("name"), str) or ds["name"] not in DATASETS:
            raise SpecError(f"the data set must be an object with a 'name' among {', '.join(sorted(DATASETS))}, "
                            f"got {brief(ds)}")
        check_dataset_spec(ds)
        if not isinstance(out["training"], Mapping):
            raise SpecError(f"'training' must be an object of settings, got {brief(out['training'])}")
        out["training"] = TrainConfig.from_dict(out["training"]).to_dict()
    except SpecError as e:
        raise FileFormatError(f"{source}: {e}") from None
    return out


def save_project(project: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Validate and write a project as indented JSON (atomically: all or nothing)."""
    data = validate_project(project)
    encoded = (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    return atomic_write(path, lambda f: f.write(encoded))


def load_project(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a project file."""
    path = check_input_file(path, "project file", "a .json project or a preset name")
    raw = _read_capped(path, MAX_PROJECT_BYTES, "project file")
    try:
        text_ = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: expected a UTF-8 JSON project file, got binary data") from None
    return validate_project(parse_json(text_, str(path), "a project"), source=str(path))


def parse_json(text_: str, source: str, what: str) -> Any:
    """JSON text as Python values; any problem (syntax, nesting, a 5,000-digit number) raises FileFormatError."""
    try:
        return json.loads(text_)
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
                              f"the file may be truncated or not {what}") from None
    except RecursionError:
        raise FileFormatError(f"{source}: expected {what} nested at most {MAX_DEPTH} levels deep, got JSON "
                              f"nested thousands of levels deep") from None
    except ValueError:  # a whole number with more digits than Python converts (4,300)
        raise FileFormatError(f"{source}: expected {what} with numbers of ordinary size, got a number with "
                              f"thousands of digits") from None


def _read_capped(path: Path, limit: int, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            raw = f.read(limit + 1)
    except OSError as e:
        raise FileFormatError(f"{path}: cannot read it ({e.strerror or e}); expected a readable {what}") from None
    if len(raw) > limit:
        raise FileFormatError(f"{path}: expected a {what} of at most {limit >> 20} MB, got a larger file")
    return raw


def project_to_json(project: Mapping[str, Any]) -> str:
    return json.dumps(validate_project(project), indent=2, ensure_ascii=False)


# ------------------------------------------------------------------ models

def save_model(net: Network, path: str | os.PathLike, training: Mapping[str, Any] | None = None,
               dataset: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None,
               extra: Mapping[str, Any] | None = None) -> Path:
    """Write weights, batch-norm statistics, spec and settings to ``path`` (.npz), all or nothing.

    Weights that are not all finite (a run that diverged) are refused: they
    would replace a model with one that predicts nothing.
    """
    meta = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "network": net.spec,
            "training": dict(training or {}), "dataset": dict(dataset or {}),
            "metrics": {k: _finite_or_none(v) for k, v in dict(metrics or {}).items()},
            "seed": net.seed, **dict(extra or {})}
    arrays: dict[str, np.ndarray] = {"__meta__": np.array(json.dumps(meta, default=_json_default,
                                                                    allow_nan=False))}
    for k, v in net.params().items():
        arrays[f"param/{k}"] = v
    for k, v in net.state().items():
        arrays[f"state/{k}"] = v
    bad = _non_finite(arrays)
    if bad:
        raise PlaygroundError(f"cannot save {Path(path).name}: {bad} holds NaN or infinite values (the training "
                              f"diverged); expected finite weights; train again with a smaller learning rate")
    return atomic_write(path, lambda f: np.savez(f, **arrays), suffix=None)


def read_model_meta(path: str | os.PathLike) -> dict[str, Any]:
    return _open_model(Path(path))[0]


def load_model(path: str | os.PathLike) -> tuple[Network, dict[str, Any]]:
    """Read a model file; return (network, meta). Raises FileFormatError on any problem."""
    path = Path(path)
    meta, arrays = _open_model(path)
    try:
        net = Network(meta["network"], seed=meta.get("seed", 0))
    except PlaygroundError as e:
        raise FileFormatError(f"{path}: the network stored in it cannot be built: {e}") from None
    try:
        weights = {k.split("/", 1)[1]: v for k, v in arrays.items() if "/" in k}
        net.set_weights(weights)
    except PlaygroundError as e:
        raise FileFormatError(f"{path}: the weights do not fit the network stored with them: {e}") from None
    return net, meta


def _open_model(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    check_input_file(path, "model file", "a .npz saved by 'playground train --out' or File > Export model")
    try:
        arrays = read_npz(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, ValueError, RuntimeError,
            NotImplementedError) as e:  # RuntimeError: an encrypted entry; NotImplementedError: unknown compression
        raise FileFormatError(f"{path}: not a complete .npz model file ({e}); it may be truncated or "
                              f"another kind of file") from None
    except OSError as e:
        raise FileFormatError(f"{path}: cannot read it ({e.strerror or e}); expected a readable .npz model "
                              f"file") from None
    raw_meta = arrays.pop("__meta__", None)
    if raw_meta is None:
        raise FileFormatError(f"{path}: a .npz file, but not a playground model (no '__meta__' entry; "
                              f"it holds {brief(', '.join(list(arrays)[:5])) or 'nothing'})")
    if raw_meta.dtype.kind != "U" or raw_meta.shape != () or raw_meta.nbytes > 4 * MAX_META_BYTES:
        raise FileFormatError(f"{path}: expected '__meta__' to be one JSON text, got {raw_meta.dtype} "
                              f"{raw_meta.shape}")
    meta = parse_json(str(raw_meta), str(path), "a model's header")
    _check_meta(path, meta)
    for name, arr in arrays.items():
        if arr.dtype.kind != "f":
            raise FileFormatError(f"{path}: entry {name!r} should hold numbers, got {arr.dtype}")
    bad = _non_finite(arrays)
    if bad:
        raise FileFormatError(f"{path}: {bad} holds NaN or infinite values; expected finite weights (the run "
                              f"that saved it diverged); train the model again")
    return meta, arrays


def _check_meta(path: Path, meta: Any) -> None:
    """The model header's types and ranges (the network itself is checked by building it)."""
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise FileFormatError(f"{path}: not a playground model (expected format {MODEL_FORMAT!r}, "
                              f"got {brief(meta.get('format') if isinstance(meta, dict) else meta)})")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MODEL_VERSION:
        raise FileFormatError(f"{path}: model format version {brief(version)} is not one this app reads "
                              f"(1 to {MODEL_VERSION}); update the app")
    if "network" not in meta:
        raise FileFormatError(f"{path}: the model file has no network spec")
    if nesting_depth(meta) > MAX_DEPTH:
        raise FileFormatError(f"{path}: expected a model header nested at most {MAX_DEPTH} levels deep")
    try:
        whole_number(meta.get("seed", 0), "the model's seed", 0, MAX_SEED)
        for key in ("training", "dataset", "metrics"):
            if not isinstance(meta.get(key, {}), dict):
                raise SpecError(f"the model's '{key}' must be an object, got {brief(meta[key])}")
        if meta.get("dataset"):
            check_dataset_spec(meta["dataset"])
        if meta.get("training"):
            TrainConfig.from_dict(meta["training"])
        for key, value in meta.get("metrics", {}).items():
            if value is not None:
                real_number(value, f"the model's metric {brief(key)}")
        if "project_name" in meta:
            text(meta["project_name"], "the model's 'project_name'", 200)
    except SpecError as e:
        raise FileFormatError(f"{path}: {e}") from None


def _non_finite(arrays: Mapping[str, np.ndarray]) -> str | None:
    """The name of the first float array holding NaN or an infinity, or None."""
    for name, arr in arrays.items():
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            return name
    return None


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


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
        raise FileFormatError(f"unknown preset {brief(name)}; presets: {', '.join(preset_names())}")
    return load_project(path)


def resolve_project(name_or_path: str) -> dict[str, Any]:
    """A project from a file path, or a preset name when no such file exists."""
    path = Path(name_or_path)
    try:
        exists = os.path.lexists(path)  # False, not an error, for a name too long to be a file
    except (OSError, ValueError):
        exists = False
    if path.suffix.lower() == ".json" or exists:
        return load_project(path)
    if name_or_path in preset_names():
        return load_preset(name_or_path)
    raise FileFormatError(f"{short_path(name_or_path)!r} is neither a project file nor a preset; "
                          f"presets: {', '.join(preset_names())}")
