"""The wheel ships every package and the resources (presets, icons, bundled model)."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_python_package_is_listed_in_pyproject():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "playground").rglob("__init__.py")}
    missing = sorted(found - listed)
    assert not missing, f"packages missing from pyproject.toml [tool.setuptools] packages: {missing}"
    assert cfg["package-dir"]["playground.resources"] == "resources"


def test_resources_are_found_by_the_loader():
    from playground.assets import preset_names, resource_path, resources_dir

    assert resources_dir().is_dir()
    assert "simple-convnet" in preset_names()
    assert resource_path("presets", "spiral.json").is_file()
    try:
        resource_path("presets", "nope.json")
    except FileNotFoundError as e:
        assert "spiral.json" in str(e)  # the error lists what exists
    else:
        raise AssertionError("a missing resource must raise")
