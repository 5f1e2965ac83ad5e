"""The package's layout rules, read from the source: no import circles, an engine free of Qt, small units."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "playground"
QT_ROOTS = {"PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "OpenGL"}
MAX_CLASS_LINES = 500
MAX_MODULE_LINES = 700


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


SOURCES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in SOURCES.items()}


def imported_modules(name: str) -> set[str]:
    """Every module ``name`` imports, at the top or inside a function, as absolute names."""
    path = SOURCES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            # ``from package import module`` imports the module
            found.update(f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in SOURCES)
    return found


GRAPH = {name: {m for m in imported_modules(name) if m in SOURCES and m != name} for name in SOURCES}


def test_the_graph_is_read_from_real_imports():
    """A guard for the tests below: the graph sees top-level, relative and function-level imports."""
    assert "playground.engine.nn.network" in GRAPH["playground.engine.train.trainer"]
    assert "playground.engine.project" in GRAPH["playground.cli"]  # imported inside a function
    assert len(SOURCES) > 60


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_a_circle_through_three_modules():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_engine_imports_no_qt_no_ui_and_nothing_outside_it_but_the_resources_loader():
    bad = []
    for name in SOURCES:
        if not name.startswith("playground.engine"):
            continue
        for module in imported_modules(name):
            root = module.split(".")[0]
            if root in QT_ROOTS:
                bad.append(f"{name} imports {module}")
            elif root == "playground" and not (module.startswith("playground.engine")
                                               or module == "playground.assets"):
                bad.append(f"{name} imports {module}")
    assert not bad, "the engine must stay NumPy only:\n" + "\n".join(bad)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_module_opens_with_a_line_saying_what_it_holds(name):
    doc = ast.get_docstring(TREES[name])
    assert doc and doc.splitlines()[0].strip(), f"{SOURCES[name]} has no opening docstring line"
    assert not re.search(r"\b[Ii]ssues? #?\d+|#\d+\b", doc), f"{SOURCES[name]}'s docstring names an issue number"


def test_no_module_over_700_lines_and_no_class_over_500():
    too_long = []
    for name, path in SOURCES.items():
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"module {path.relative_to(PACKAGE.parent)}: {lines} lines")
        for node in ast.walk(TREES[name]):
            if isinstance(node, ast.ClassDef):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    too_long.append(f"class {node.name} in {path.relative_to(PACKAGE.parent)}: {size} lines")
    assert not too_long, "\n".join(too_long)


def test_the_readmes_engine_example_runs_as_written(tmp_path, monkeypatch):
    readme = (PACKAGE.parent / "README.md").read_text()
    section = readme.split("## Use the engine from Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "spiral.npz").is_file()
    accuracy = float(printed[0].rsplit(" ", 1)[1])
    assert accuracy > 0.9, printed


def test_the_engines_public_names_all_resolve():
    from playground import engine

    missing = [name for name in engine.__all__ if getattr(engine, name, None) is None]
    assert not missing
    with pytest.raises(AttributeError, match="public names"):
        engine.no_such_name
