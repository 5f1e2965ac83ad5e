"""The main window's files: new, open, save, presets, model import and export, recent files, unsaved work.

Reading a file goes through one last net, :func:`attempt`: whatever a bad
file makes the loaders raise (the engine's own errors, but also a
RecursionError from JSON nested too deep, a ValueError from a NaN where a
whole number belongs, an OSError, a broken zip) becomes one dialog saying
what was found, what was expected and what to do; the open project is left
as it was.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Callable

from PySide6.QtWidgets import QFileDialog, QMainWindow

from playground.engine.errors import PlaygroundError
from playground.engine.project import (load_model, load_preset, load_project, resolve_project, save_model, save_project,
                                      validate_project)
from playground.ui import dialogs
from playground.ui.builder.commands import ReplaceProject
from playground.ui.newproject import DEFAULT_DATASET, NewProjectDialog, empty_project

#: the main window (playground.ui.mainwindow imports this module, so it is not imported back)
MainWindow = QMainWindow

DEFAULT_PRESET = "spiral"
PROJECT_FILTER = "Playground projects (*.json);;All files (*)"
MODEL_FILTER = "Trained models (*.npz);;All files (*)"

EXPECTED_PROJECT = ("Expected a playground project (.json), as saved by File ▸ Save or shipped as a preset. "
                    "Your current project is unchanged: choose another file, or correct this one.")
EXPECTED_MODEL = ("Expected a trained model (.npz), as saved by File ▸ Export Trained Model (.npz) or "
                  "'playground train --out'. Your current project is unchanged: choose another file.")


def describe_problem(error: BaseException, path: str | Path) -> str:
    """What is wrong with the file at ``path``, in one line, from whatever its loader raised."""
    if isinstance(error, PlaygroundError):
        text = str(error)
        return text.removeprefix(f"{path}: ")
    if isinstance(error, RecursionError):
        return "it is nested too deeply to read (brackets inside brackets, thousands of levels deep)"
    if isinstance(error, MemoryError):
        return "it is too large to read into memory"
    if isinstance(error, (zipfile.BadZipFile, EOFError)):
        return f"it is not a complete .npz file ({error})"
    if isinstance(error, OSError):
        return f"it cannot be read ({error.strerror or error})"
    if isinstance(error, KeyError):
        return f"the entry {error} is missing"
    detail = " ".join(str(error).split()) or type(error).__name__
    return f"it holds a value this app cannot use ({detail})"


def attempt(load: Callable[..., Any], path: str | Path, *args) -> tuple[Any, str | None]:
    """``(load(path, *args), None)``, or ``(None, what is wrong)`` when loading raises anything at all."""
    try:
        return load(path, *args), None
    except Exception as e:  # the last net: a bad file must never reach sys.excepthook
        return None, describe_problem(e, path)


def read_start_target(target: str) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """What ``playground TARGET`` opens: ``(project, path or None for a preset, None)`` or ``(None, None, message)``."""
    project, problem = attempt(resolve_project, target)
    if problem is not None:
        return None, None, f"Cannot open {Path(target).name}: {problem}\n\n{EXPECTED_PROJECT}"
    return project, (target if Path(target).exists() else None), None


class ProjectFiles:
    """Reads and writes the window's project and models; a bad file shows why and changes nothing.

    ``window`` is the :class:`playground.ui.mainwindow.MainWindow` that owns it (its ``doc``,
    ``settings``, ``canvas``, ``recent_menu``, ``show_status``, ``set_trained``, ``trained_network``).
    """

    def __init__(self, window: QMainWindow):
        self.window = window
        self.doc = window.doc
        self.settings = window.settings
        self.new_dialog: NewProjectDialog | None = None  # File ▸ New's dialog, while open
        self.export_dialog = None  # File ▸ Export Trained Network's dialog while it is open

    # ------------------------------------------------------------ unsaved work
    def maybe_save(self) -> bool:
        """Ask to save unsaved work; False if the user cancelled."""
        if not self.doc.dirty:
            return True
        name = self.doc.path.name if self.doc.path else self.doc.name
        answer = dialogs.ask_to_save(self.window, name)
        if answer == "save":
            return self.save_project()
        return answer == "discard"

    # ------------------------------------------------------------ projects
    def new_project_dialog(self) -> NewProjectDialog | None:
        """File ▸ New: after any unsaved work is saved or dropped, ask what to start from (not modal to tests:
        the dialog is returned, open)."""
        if not self.maybe_save():
            return None
        dialog = NewProjectDialog(self.window)
        dialog.accepted.connect(lambda: self._new_from(dialog.choice()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self.new_dialog = dialog
        return dialog

    def _new_from(self, choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        kind, name = choice
        if kind == "preset":
            self.load_preset(name, ask=False)
        else:
            self.new_project(name, ask=False)

    def new_project(self, dataset: str = DEFAULT_DATASET, ask: bool = True) -> bool:
        """A fresh, untitled project: an empty network (only its output layer) on ``dataset``."""
        if ask and not self.maybe_save():
            return False
        self.doc.load(empty_project(dataset))
        self.window.canvas.net_scene.select_index(None)
        self.window.canvas.fit()
        self.window.show_status(f"New project on {dataset}: add blocks from the Layers panel before the output")
        return True

    def load_preset(self, name: str, ask: bool = True) -> bool:
        """Open one of the book's networks as a new, unsaved project."""
        try:
            project = load_preset(name)
        except PlaygroundError as e:
            dialogs.error(self.window, "Cannot load the preset", str(e))
            return False
        if ask and not self.maybe_save():
            return False
        self.doc.load(project)
        self.window.canvas.net_scene.select_index(None)
        self.window.canvas.fit()
        self.window.show_status(f"Loaded preset {name}: {project.get('description', '')}")
        return True

    def open_project_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", self.settings.last_folder(), PROJECT_FILTER)
        return self.open_project(path, ask=False) if path else False

    def open_project(self, path: str | Path, ask: bool = True) -> bool:
        """Open a project file; a bad file shows what is wrong and leaves the current project as it was."""
        project, problem = attempt(load_project, path)
        if problem is not None:
            dialogs.error(self.window, "Cannot open the project",
                          f"Cannot open {Path(path).name}: {problem}\n\n{EXPECTED_PROJECT}")
            if not Path(path).exists():
                self.settings.remove_recent_file(path)
            return False
        if ask and not self.maybe_save():
            return False
        self.doc.load(project, path)
        self.window.canvas.net_scene.select_index(None)
        self.settings.add_recent_file(path)
        self.settings.set_last_folder(path)
        self.window.show_status(f"Opened {path}")
        return True

    def save_project(self) -> bool:
        if self.doc.path is None:
            return self.save_project_as()
        return self.save_to(self.doc.path)

    def save_project_as(self) -> bool:
        start = str(self.doc.path or Path(self.settings.last_folder()) / f"{self.doc.name}.json")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project", start, PROJECT_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".json"
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Write the project to ``path`` (the engine's .json format)."""
        try:
            save_project(self.doc.project(), path)
        except (PlaygroundError, OSError) as e:
            dialogs.error(self.window, "Cannot save the project", str(e))
            return False
        self.doc.mark_saved(path)
        self.settings.add_recent_file(path)
        self.settings.set_last_folder(path)
        self.window.show_status(f"Saved {path}")
        return True

    # ------------------------------------------------------------ trained models
    def import_model_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import trained model", self.settings.last_folder(),
                                              MODEL_FILTER)
        return self.import_model(path) if path else False

    def import_model(self, path: str | Path) -> bool:
        """Load a trained model: its network replaces the project's (undoable) and its weights go to the digit pad."""
        loaded, problem = attempt(self._read_model, path)
        if problem is not None:
            dialogs.error(self.window, "Cannot import the model",
                          f"Cannot import {Path(path).name}: {problem}\n\n{EXPECTED_MODEL}")
            return False
        net, project = loaded
        # the project is the model's now: named after it, and no longer the file it was opened from (Save
        # would write the model's network over it, and "Save changes?" would name the wrong project)
        project["name"] = Path(path).stem
        self.doc.push(ReplaceProject(self.doc, project, f"Import model {Path(path).name}"))
        self.doc.forget_path()
        self.window.set_trained(net, f"imported from {Path(path).name}")
        self.settings.set_last_folder(path)
        self.window.show_status(f"Imported {path}: {net.param_count():,} trained parameters")
        return True

    def _read_model(self, path: str | Path) -> tuple[Any, dict[str, Any]]:
        """The model's network and the project it makes: its network, and its data set and training
        settings where they are valid (else the project's own)."""
        net, meta = load_model(path)
        project = self.doc.project()
        project["network"] = meta["network"]
        for key in ("dataset", "training"):
            candidate = dict(project, **{key: meta.get(key) or project[key]})
            try:
                validate_project(candidate)
                project = candidate
            except Exception:  # settings this app cannot use, whatever the engine raises: keep the project's
                pass
        validate_project(project)
        return net, project

    def export_model_dialog(self) -> bool:
        if self.window.trained_network() is None:
            dialogs.info(self.window, "Nothing to export yet",
                         "Train the network first (Train ▸ Start, or Space), or import a trained model.")
            return False
        start = str(Path(self.settings.last_folder()) / f"{self.doc.name}.npz")
        path, _ = QFileDialog.getSaveFileName(self.window, "Export trained model", start, MODEL_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".npz"
        return self.export_model(path)

    def export_model(self, path: str | Path) -> bool:
        net = self.window.trained_network()
        if net is None:
            dialogs.info(self.window, "Nothing to export yet", "Train the network first, or import a trained model.")
            return False
        try:
            save_model(net, path, training=self.doc.training(), dataset=self.doc.dataset())
        except (PlaygroundError, OSError) as e:
            dialogs.error(self.window, "Cannot export the model", str(e))
            return False
        self.settings.set_last_folder(path)
        self.window.show_status(f"Exported the trained model to {path}")
        return True

    def export_network_dialog(self) -> bool:
        """File ▸ Export Trained Network: the trained network as ONNX, NumPy or PyTorch code, chosen in a dialog
        that previews the code; True when files were written."""
        net = self.window.trained_network()
        if net is None:
            dialogs.info(self.window, "Nothing to export yet",
                         "Train the network first (Train ▸ Start, or Space), or import a trained model "
                         "(File ▸ Import Trained Model); then export it as ONNX, NumPy or PyTorch code.")
            return False
        from playground.ui.export_dialog import ExportDialog

        dialog = ExportDialog(net, self.doc.name, self.settings.last_folder(), parent=self.window)
        self.export_dialog = dialog  # the open dialog, reachable while it is shown
        try:
            if dialog.exec() != ExportDialog.DialogCode.Accepted or not dialog.written:
                return False
        finally:
            self.export_dialog = None
        self.settings.set_last_folder(dialog.written[-1])
        self.window.show_status("Exported the trained network: " + ", ".join(str(p) for p in dialog.written))
        return True

    # ------------------------------------------------------------ recent files
    def fill_recent_menu(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        files = self.settings.recent_files()
        for i, f in enumerate(files):
            act = menu.addAction(f"&{i + 1} {Path(f).name}")
            act.setToolTip(f)
            act.setStatusTip(f)
            act.triggered.connect(lambda _=False, p=f: self.open_project(p))
        if not files:
            none = menu.addAction("No recent projects")
            none.setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Menu", self.settings.clear_recent_files)
