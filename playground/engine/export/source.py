"""Helpers shared by the code exporters: safe names and text, arrays written as Python literals, image reading."""

from __future__ import annotations

import ast
import importlib.util
import keyword
import re
import textwrap
from pathlib import Path

import numpy as np

#: networks with at most this many parameters are written into the NumPy file itself
EMBED_LIMIT = 1024
#: where the image reading of ``playground predict`` lives; the NumPy file carries a copy
PREPROCESS_MODULE = "playground.engine.data.preprocess"
#: the network's input size and outputs for which the files read digit images (as ``playground predict``)
DIGIT_FEATURES, DIGIT_CLASSES = 28 * 28, 10


def safe_text(text: str) -> str:
    """``text`` on one line, without the characters that would end a comment, string or docstring."""
    return re.sub(r"[\x00-\x1f\x7f\"'\\]+", " ", str(text)).strip() or "network"


def identifier(name: str, taken: set[str], reserved: frozenset[str] = frozenset()) -> str:
    """A Python identifier like ``name`` that is not a keyword, not in ``reserved`` and not yet in ``taken``
    (which it is added to)."""
    base = re.sub(r"\W", "_", name)
    if not base or base[0].isdigit():
        base = f"layer_{base}"
    if keyword.iskeyword(base) or base in reserved:
        base = f"{base}_"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def weights_path(out: Path) -> Path:
    """The .npz file that holds the weights of the code file ``out``."""
    return out.with_name(f"{out.stem}_weights.npz")


def array_literal(a: np.ndarray, indent: int) -> str:
    """``np.array([...], dtype=...).reshape(...)`` over lines indented by ``indent``: every value written
    so that it reads back exactly."""
    a = np.asarray(a)
    numbers = ", ".join(_number(v) for v in a.reshape(-1))
    body = textwrap.fill(numbers, 100, initial_indent=" " * indent, subsequent_indent=" " * indent)
    shape = f".reshape{a.shape}" if a.ndim > 1 else ""
    return f"np.array([\n{body}\n{' ' * (indent - 4)}], dtype=np.{a.dtype.name}){shape}"


def _number(v: np.generic) -> str:
    """The shortest text that reads back as ``v`` in its own precision."""
    if np.isfinite(v):
        return str(v)
    return "np.nan" if np.isnan(v) else ("np.inf" if v > 0 else "-np.inf")


def is_digit_model(input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> bool:
    """Whether ``playground predict`` reads digit images for a network of these shapes."""
    return int(np.prod(input_shape)) == DIGIT_FEATURES and tuple(output_shape) == (DIGIT_CLASSES,)


def image_reading_source() -> tuple[list[str], str]:
    """(imports, code): the image reading of ``playground predict`` (load_image, preprocess_digit and their helpers),
    as source for a file that does not import the playground.

    The code after the imports of :mod:`playground.engine.data.preprocess` is copied as written. Its
    imports are returned apart (for the top of the file), except that Pillow becomes optional (None when missing: only reading
    image files needs it) and the playground's error classes become local ones.
    """
    spec = importlib.util.find_spec(PREPROCESS_MODULE)
    source = Path(spec.origin).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    header: list[str] = []
    pillow: list[str] = []
    local_errors: list[str] = []
    for node in imports:
        module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        text = ast.get_source_segment(source, node)
        if module == "__future__":
            continue
        if module.split(".")[0] == "PIL":
            pillow.append(text)
        elif module.split(".")[0] == "playground":
            for alias in node.names:
                if not alias.name.endswith("Error"):
                    raise RuntimeError(f"{PREPROCESS_MODULE} imports {alias.name} from {module}; "
                                       f"the exported NumPy file cannot carry it")
                local_errors.append(f"class {alias.asname or alias.name}(ValueError):\n"
                                    f"    \"\"\"An image file that is missing or cannot be read.\"\"\"")
        else:
            header.append(text)
    names = [a.asname or a.name.split(".")[0] for node in imports for a in node.names
             if (node.module if isinstance(node, ast.ImportFrom) else a.name).split(".")[0] == "PIL"]
    lines = source.splitlines()
    body = "\n".join(lines[imports[-1].end_lineno:]).strip("\n")
    pil_block = ("try:  # Pillow reads image files; predict() needs NumPy only\n"
                 + textwrap.indent("\n".join(pillow), "    ")
                 + "\nexcept ImportError:\n    " + " = ".join(names) + " = None")
    return header, pil_block + "\n\n\n" + "\n\n\n".join(local_errors) + "\n\n\n" + body
