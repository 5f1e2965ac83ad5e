"""The book's networks as ready-to-train projects, found by name in resources/presets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .assets import preset_names, resources_dir
from .engine.errors import FileFormatError
from .engine.project import load_project

__all__ = ["load_preset", "preset_names", "resolve_project"]


def load_preset(name: str) -> dict[str, Any]:
    """The validated project dict of a preset (its spec is ``project["network"]``)."""
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
