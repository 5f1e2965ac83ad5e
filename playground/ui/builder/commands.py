"""Every edit of a project is one QUndoCommand.

Each command computes the project after the edit from the project before it
the first time it runs, and keeps both: redo and undo just put one of them
back. Commands that change the same setting one after another (spin-box
arrows, typing) merge into one undo step.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from playground.ui.builder.document import ProjectDocument, dataset_input_shape

__all__ = ["ApplyFix", "DuplicateLayer", "InsertLayer", "MoveLayer", "RemoveLayer", "ReplaceProject",
           "SetActivation", "SetAllInitializers", "SetDataset", "SetInitStd", "SetLayerOption", "SetNetworkOption",
           "SetTrainingOption"]

_MERGE_LAYER_OPTION, _MERGE_TRAINING, _MERGE_DATASET, _MERGE_NETWORK = 101, 102, 103, 104


class ProjectEdit(QUndoCommand):
    """Base class: subclasses implement :meth:`edit` on a copy of the project."""

    #: spec index the views should select after redo / after undo (None: keep)
    focus_redo: int | None = None
    focus_undo: int | None = None

    def __init__(self, doc: ProjectDocument, text: str):
        super().__init__(text)
        self.doc = doc
        self.before: dict[str, Any] | None = None
        self.after: dict[str, Any] | None = None

    def edit(self, project: dict[str, Any]) -> None:
        raise NotImplementedError

    def redo(self) -> None:
        if self.after is None:
            self.before = self.doc.project()
            after = copy.deepcopy(self.before)
            self.edit(after)
            self.after = after
        self.doc.replace_state(self.after, self.focus_redo)

    def undo(self) -> None:
        self.doc.replace_state(self.before, self.focus_undo)


def _layers(project: dict[str, Any]) -> list[dict[str, Any]]:
    return project["network"]["layers"]


def _check_index(project: dict[str, Any], index: int, allow_end: bool = False) -> None:
    n = len(_layers(project)) + (1 if allow_end else 0)
    if not 0 <= index < n:
        raise IndexError(f"layer index {index} is out of range 0..{n - 1}")


class InsertLayer(ProjectEdit):
    """Insert a layer entry (``{"type": "Dense", "units": 64}``) before ``index``."""

    def __init__(self, doc: ProjectDocument, index: int, entry: dict[str, Any], text: str | None = None):
        super().__init__(doc, text or f"Insert {entry.get('type', 'layer')}")
        self.index = index
        self.entry = copy.deepcopy(entry)
        self.focus_redo = index
        self.focus_undo = min(index, doc.layer_count() - 1)

    def edit(self, project):
        _check_index(project, self.index, allow_end=True)
        _layers(project).insert(self.index, copy.deepcopy(self.entry))


class DuplicateLayer(InsertLayer):
    """Insert a copy of the layer at ``index`` right after it (without its name)."""

    def __init__(self, doc: ProjectDocument, index: int):
        entry = doc.layer(index)
        entry.pop("name", None)
        super().__init__(doc, index + 1, entry, f"Duplicate {entry.get('type', 'layer')}")
        self.focus_undo = index


class RemoveLayer(ProjectEdit):
    def __init__(self, doc: ProjectDocument, index: int):
        super().__init__(doc, f"Delete {doc.layer(index).get('type', 'layer')}")
        self.index = index
        self.focus_redo = min(index, doc.layer_count() - 2)
        self.focus_undo = index

    def edit(self, project):
        _check_index(project, self.index)
        del _layers(project)[self.index]


class MoveLayer(ProjectEdit):
    """Move the layer at ``source`` so that it ends up at index ``target``."""

    def __init__(self, doc: ProjectDocument, source: int, target: int):
        super().__init__(doc, f"Move {doc.layer(source).get('type', 'layer')}")
        self.source, self.target = source, target
        self.focus_redo, self.focus_undo = target, source

    def edit(self, project):
        _check_index(project, self.source)
        _check_index(project, self.target)
        layers = _layers(project)
        layers.insert(self.target, layers.pop(self.source))


class SetLayerOption(ProjectEdit):
    """Set one setting of one layer; ``value=None`` removes it (back to the default)."""

    def __init__(self, doc: ProjectDocument, index: int, key: str, value: Any, text: str | None = None):
        t = doc.layer(index).get("type", "layer")
        super().__init__(doc, text or f"Set {t} {key}")
        self.index, self.key, self.value = index, key, copy.deepcopy(value)
        self.focus_redo = self.focus_undo = index

    def edit(self, project):
        _check_index(project, self.index)
        entry = _layers(project)[self.index]
        if self.value is None:
            entry.pop(self.key, None)
        else:
            entry[self.key] = copy.deepcopy(self.value)

    def id(self) -> int:
        return _MERGE_LAYER_OPTION

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (type(other) is type(self) and (other.index, other.key) == (self.index, self.key)):
            return False
        self.after = other.after
        self.value = other.value
        return True


class SetActivation(SetLayerOption):
    """Set the activation of a Dense or Conv2D layer (``None``/"none": no activation)."""

    def __init__(self, doc: ProjectDocument, index: int, activation: str | None):
        value = None if activation in (None, "", "none") else activation
        t = doc.layer(index).get("type", "layer")
        super().__init__(doc, index, "activation", value,
                         f"Set {t} activation to {value or 'none'}")


class SetInitStd(SetLayerOption):
    """Set the std of a layer's normal initializer (``{"type": "normal", "std": std}``).

    Its own command type, so that choosing the normal initializer and then its
    std are two undo steps, while successive std edits merge into one.
    """

    def __init__(self, doc: ProjectDocument, index: int, std: float):
        init = doc.layer(index).get("init")
        value = {**(init if isinstance(init, dict) else {}), "type": "normal", "std": float(std)}
        t = doc.layer(index).get("type", "layer")
        super().__init__(doc, index, "init", value, f"Set {t} normal init std")


class SetAllInitializers(ProjectEdit):
    """Set the weight initializer of every Dense and Conv2D layer at once."""

    def __init__(self, doc: ProjectDocument, init: str | None):
        super().__init__(doc, f"Set all initializers to {init or 'auto'}")
        self.init = init

    def edit(self, project):
        for entry in _layers(project):
            if entry.get("type") in ("Dense", "Conv2D"):
                if self.init in (None, "auto"):
                    entry.pop("init", None)
                else:
                    entry["init"] = self.init


class SetNetworkOption(ProjectEdit):
    """Set a key of the network spec itself (``loss``, ``input_shape``)."""

    def __init__(self, doc: ProjectDocument, key: str, value: Any):
        super().__init__(doc, f"Set {key.replace('_', ' ')}")
        self.key, self.value = key, copy.deepcopy(value)
        self.focus_redo = self.focus_undo = None

    def edit(self, project):
        project["network"][self.key] = copy.deepcopy(self.value)

    def id(self) -> int:
        return _MERGE_NETWORK

    def mergeWith(self, other):
        if not (type(other) is type(self) and other.key == self.key):
            return False
        self.after = other.after
        return True


class SetTrainingOption(ProjectEdit):
    """Set one key of the training section (``batch_size``, ``optimizer``, ``schedule`` ...)."""

    def __init__(self, doc: ProjectDocument, key: str, value: Any, text: str | None = None):
        super().__init__(doc, text or f"Set {key.replace('_', ' ')}")
        self.key, self.value = key, copy.deepcopy(value)

    def edit(self, project):
        project.setdefault("training", {})[self.key] = copy.deepcopy(self.value)

    def id(self) -> int:
        return _MERGE_TRAINING

    def mergeWith(self, other):
        if not (type(other) is type(self) and other.key == self.key and other.text() == self.text()):
            return False
        self.after = other.after
        return True


class SetDataset(ProjectEdit):
    """Replace the data set spec; the network's input shape follows the data set."""

    def __init__(self, doc: ProjectDocument, dataset: dict[str, Any], text: str | None = None):
        old = doc.dataset().get("name")
        new = dataset.get("name")
        super().__init__(doc, text or (f"Use data set {new}" if new != old else f"Set {new} parameters"))
        self.dataset = copy.deepcopy(dataset)
        self.same_name = new == old

    def edit(self, project):
        project["dataset"] = copy.deepcopy(self.dataset)
        project["network"]["input_shape"] = dataset_input_shape(self.dataset)

    def id(self) -> int:
        return _MERGE_DATASET

    def mergeWith(self, other):
        # successive parameter tweaks of one data set are one step; switching sets is not
        if not (type(other) is type(self) and self.same_name and other.same_name):
            return False
        if other.dataset.get("name") != self.dataset.get("name"):
            return False
        self.after = other.after
        return True


class ReplaceProject(ProjectEdit):
    """Replace the whole project (e.g. the network of an imported model)."""

    def __init__(self, doc: ProjectDocument, project: dict[str, Any], text: str):
        super().__init__(doc, text)
        self.new_project = copy.deepcopy(project)

    def edit(self, project):
        project.clear()
        project.update(copy.deepcopy(self.new_project))


def ApplyFix(doc: ProjectDocument, fix: dict[str, Any]) -> QUndoCommand:
    """The command carrying out an engine fix: ``{"insert": {...}, "at": i}`` or ``{"set": {...}, "at": i}``."""
    at = int(fix["at"])
    if "insert" in fix:
        return InsertLayer(doc, at, fix["insert"], f"Fix: insert {fix['insert'].get('type', 'layer')}")
    if "set" in fix and len(fix["set"]) == 1:
        (key, value), = fix["set"].items()
        return SetLayerOption(doc, at, key, value, f"Fix: set {key} to {value}")
    raise ValueError(f"unknown fix {fix!r}; expected 'insert' or 'set' with 'at'")
