"""Find files under ``resources/`` by name, installed or from a source tree."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The folder holding presets, icons and the bundled model."""
    installed = Path(__file__).with_name("resources")
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a resource file; raises FileNotFoundError naming what exists."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        parent = path.parent
        known = sorted(p.name for p in parent.iterdir()) if parent.is_dir() else []
        raise FileNotFoundError(
            f"resource {'/'.join(parts)!r} not found in {parent}; known: {', '.join(known) or 'none'}"
        )
    return path


def preset_names() -> list[str]:
    """Names of the bundled presets, usable wherever a project file is."""
    folder = resources_dir() / "presets"
    return sorted(p.stem for p in folder.glob("*.json"))
