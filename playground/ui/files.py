"""The main window's files: new, open, save, presets, model import and export, recent files, unsaved work."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from playground.engine.errors import PlaygroundError
from playground.engine.project import load_model, load_preset, load_project, save_model, save_project, validate_project
from playground.ui import dialogs
from playground.ui.builder.commands import ReplaceProject

if TYPE_CHECKING:
    from playground.ui.mainwindow import MainWindow

DEFAULT_PRESET = "spiral"
PROJECT_FILTER = "Playground projects (*.json);;All files (*)"
MODEL_FILTER = "Trained models (*.npz);;All files (*)"


class ProjectFiles:
    """Reads and writes the window's project and models; a bad file shows why and changes nothing."""

    def __init__(self, window: MainWindow):
        self.window = window
        self.doc = window.doc
        self.settings = window.settings

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
    def new_project(self) -> bool:
        """A fresh project: the default preset, untitled."""
        if not self.maybe_save():
            return False
        project = load_preset(DEFAULT_PRESET)
        project["name"] = "untitled"
        self.doc.load(project)
        self.window.canvas.net_scene.select_index(None)
        self.window.show_status("New project (from the spiral preset)")
        return True

    def load_preset(self, name: str) -> bool:
        """Open one of the book's networks as a new, unsaved project."""
        try:
            project = load_preset(name)
        except PlaygroundError as e:
            dialogs.error(self.window, "Cannot load the preset", str(e))
            return False
        if not self.maybe_save():
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
        try:
            project = load_project(path)
        except (PlaygroundError, OSError) as e:
            dialogs.error(self.window, "Cannot open the project", str(e))
            self.settings.remove_recent_file(path) if not Path(path).exists() else None
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
        try:
            net, meta = load_model(path)
        except (PlaygroundError, OSError) as e:
            dialogs.error(self.window, "Cannot import the model", str(e))
            return False
        project = self.doc.project()
        project["network"] = meta["network"]
        for key in ("dataset", "training"):
            candidate = dict(project, **{key: meta.get(key) or project[key]})
            try:
                validate_project(candidate)
                project = candidate
            except PlaygroundError:
                pass
        try:
            validate_project(project)
        except PlaygroundError as e:
            dialogs.error(self.window, "Cannot import the model", str(e))
            return False
        self.doc.push(ReplaceProject(self.doc, project, f"Import model {Path(path).name}"))
        self.window.set_trained(net, f"imported from {Path(path).name}")
        self.settings.set_last_folder(path)
        self.window.show_status(f"Imported {path}: {net.param_count():,} trained parameters")
        return True

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
