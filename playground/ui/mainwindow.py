"""The main window: menus, toolbar, docks, files, and the wiring between the parts.

Layout: the network editor and the training dashboard as central tabs (with
the digit pad and the optimizer lab as further tabs when they are installed),
the layer palette on the left, the inspector and the training settings on the
right. Docks and window geometry are remembered between sessions.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QScrollArea, QTabWidget,
                               QToolBar, QUndoView, QWidget)

from playground.engine.errors import PlaygroundError
from playground.engine.project import load_model, load_project, save_model, save_project, validate_project
from playground.engine.project import load_preset
from playground.assets import preset_names
from playground.ui.builder.commands import DuplicateLayer, InsertLayer, MoveLayer, RemoveLayer, ReplaceProject
from playground.ui.builder.document import ProjectDocument
from playground.ui.builder import Inspector, LayerPalette, NetworkCanvas
from playground.ui.builder.catalog import new_entry
from playground.ui.settings import SETTINGS_VERSION, AppSettings
from playground.ui.theme import current_theme, load_icon
from playground.ui.builder.training_panel import TrainingPanel
from playground.ui.layout import scrolling

APP_TITLE = "NumPy Neural Network Playground"
DEFAULT_PRESET = "spiral"
PROJECT_FILTER = "Playground projects (*.json);;All files (*)"
MODEL_FILTER = "Trained models (*.npz);;All files (*)"


class MainWindow(QMainWindow):
    """The app's window around one :class:`ProjectDocument`.

    Public API: ``doc`` (the document), ``canvas``, ``layer_palette``, ``inspector``,
    ``training_panel``, ``dashboard`` (the training dashboard or None),
    ``digit_pad`` / ``optimizer_lab``, ``actions`` (dict of QActions by
    name), and the file operations :meth:`new_project`, :meth:`open_project`,
    :meth:`save_project`, :meth:`save_project_as`, :meth:`load_preset`,
    :meth:`import_model`, :meth:`export_model`, :meth:`maybe_save`.
    """

    def __init__(self, project: dict[str, Any] | None = None, path: str | Path | None = None,
                 settings: AppSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.setWindowIcon(load_icon("app"))
        self.setDockNestingEnabled(True)
        self.doc = ProjectDocument(parent=self)
        self.doc.load(project if project is not None else load_preset(DEFAULT_PRESET), path)
        self._trained = None  # the latest trained or imported network (for export and the digit pad)
        self._trained_label = ""

        self.canvas = NetworkCanvas(self.doc, self)
        self.layer_palette = LayerPalette(self)
        self.inspector = Inspector(self.doc, self)
        self.training_panel = TrainingPanel(self.doc, self)
        self.undo_view = QUndoView(self.doc.undo_stack, self)
        self.undo_view.setEmptyLabel("<opened>")
        self.layer_palette.setMinimumWidth(180)
        self.inspector.setMinimumWidth(300)
        self.training_panel.setMinimumWidth(300)
        self.dashboard = self._make_dashboard()
        from playground.ui.digits import DigitPadWidget
        from playground.ui.optimizer_lab.widget import OptimizerLabWidget

        self.digit_pad = DigitPadWidget(self)
        self.optimizer_lab = OptimizerLabWidget(self)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.setTabBarAutoHide(True)
        self.tabs.addTab(self.canvas, "Network")
        self.tabs.addTab(scrolling(self.dashboard), "Training")
        self.tabs.addTab(scrolling(self.digit_pad), "Draw a digit")
        self.tabs.addTab(scrolling(self.optimizer_lab), "Optimizer lab")
        self.setCentralWidget(self.tabs)

        self.docks: dict[str, QDockWidget] = {}
        self._hidden_by_tab: set[str] = set()  # docks the current tab put away
        self._lab_space = QShortcut(QKeySequence("Space"), self)
        self._lab_space.setEnabled(False)
        self._lab_space.activated.connect(
            lambda: self.optimizer_lab.pause() if self.optimizer_lab.is_playing else self.optimizer_lab.play())
        self._add_dock("palette", "Layers", self.layer_palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("training", "Training settings", self.training_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("history", "Undo history", self.undo_view, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.docks["inspector"], self.docks["training"])
        self.docks["inspector"].raise_()
        self.splitDockWidget(self.docks["palette"], self.docks["history"], Qt.Orientation.Vertical)
        self.docks["history"].hide()
        self.setTabPosition(Qt.DockWidgetArea.RightDockWidgetArea, QTabWidget.TabPosition.North)

        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_statusbar()
        self._connect()
        self._default_layout_state = self.saveState(SETTINGS_VERSION)
        self._restore_window()
        self._document_changed()
        self._update_title()
        self._update_edit_actions()

    # ------------------------------------------------------------ parts
    def _make_dashboard(self) -> QWidget:
        from playground.ui.dashboard import TrainingDashboard

        return TrainingDashboard(self)

    def _add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    # ------------------------------------------------------------ actions
    def _action(self, key: str, text: str, slot=None, shortcut=None, tip: str = "", icon: str | None = None,
                checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if icon:
            a.setIcon(load_icon(icon))
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                a.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                a.setShortcut(QKeySequence(shortcut))
        if tip:
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            a.setToolTip(f"{tip} ({keys})" if keys else tip)
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        if slot is not None:
            a.triggered.connect(slot)
        self.actions[key] = a
        return a

    def _build_actions(self) -> None:
        SK = QKeySequence.StandardKey
        self._action("new", "&New", self.new_project, SK.New, "Start a new project from the default preset", "new")
        self._action("open", "&Open…", self.open_project_dialog, SK.Open, "Open a project file (.json)", "open")
        self._action("save", "&Save", self.save_project, SK.Save, "Save the project", "save")
        self._action("save_as", "Save &As…", self.save_project_as, SK.SaveAs, "Save the project to a new file")
        self._action("import_model", "&Import Trained Model…", self.import_model_dialog, None,
                     "Load a trained model (.npz): its network and weights")
        self._action("export_model", "&Export Trained Model…", self.export_model_dialog, None,
                     "Save the trained network's weights (.npz)")
        self._action("quit", "&Quit", self.close, SK.Quit, "Close the app")
        undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts([QKeySequence(SK.Undo)])
        undo.setIcon(load_icon("undo"))
        undo.setToolTip("Undo the last edit (Ctrl+Z)")
        redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        redo.setIcon(load_icon("redo"))
        redo.setToolTip("Redo the last undone edit (Ctrl+Shift+Z)")
        self.actions["undo"], self.actions["redo"] = undo, redo
        self._action("delete", "&Delete Block", self.delete_selected, [SK.Delete, "Backspace"],
                     "Remove the selected block", "delete")
        self._action("duplicate", "D&uplicate Block", self.duplicate_selected, "Ctrl+D",
                     "Insert a copy of the selected block after it", "duplicate")
        self._action("move_up", "Move Block &Up", lambda: self.move_selected(-1), "Alt+Up",
                     "Move the selected block one place towards the input")
        self._action("move_down", "Move Block Do&wn", lambda: self.move_selected(1), "Alt+Down",
                     "Move the selected block one place towards the loss")
        self._action("fix", "Apply Suggested &Fix", self.apply_fix, "Ctrl+Shift+X",
                     "Apply the suggested fix for the block that does not fit")
        for a in (self.actions["delete"], self.actions["duplicate"], self.actions["move_up"],
                  self.actions["move_down"]):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.canvas.addAction(a)
        self._action("zoom_in", "Zoom &In", self.canvas.zoom_in, SK.ZoomIn, "Zoom into the network")
        self._action("zoom_out", "Zoom &Out", self.canvas.zoom_out, SK.ZoomOut, "Zoom out of the network")
        self._action("zoom_reset", "&Actual Size", self.canvas.zoom_reset, "Ctrl+0", "Zoom to 100 %")
        self._action("fit", "&Fit Network", self.canvas.fit, "Ctrl+Shift+0", "Zoom so the whole network fits",
                     "fit")
        self._action("reset_layout", "&Reset Layout", self.reset_layout, None, "Put all panels back in place")
        self._action("shortcuts", "&Keyboard Shortcuts", self.show_shortcuts, SK.HelpContents,
                     "List the keyboard shortcuts")
        self._action("about", "&About", self.show_about, None, "About this app")
        self._action("about_qt", "About &Qt", QApplication.aboutQt, None, "About Qt")
        self.canvas.context_actions = [self.actions["duplicate"], self.actions["delete"], None,
                                       self.actions["move_up"], self.actions["move_down"]]

    def _build_menus(self) -> None:
        mb = self.menuBar()
        a = self.actions
        file = mb.addMenu("&File")
        file.addActions([a["new"], a["open"]])
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file.addSeparator()
        file.addActions([a["save"], a["save_as"]])
        file.addSeparator()
        file.addActions([a["import_model"], a["export_model"]])
        file.addSeparator()
        file.addAction(a["quit"])

        edit = mb.addMenu("&Edit")
        edit.addActions([a["undo"], a["redo"]])
        edit.addSeparator()
        edit.addActions([a["delete"], a["duplicate"], a["move_up"], a["move_down"]])
        edit.addSeparator()
        edit.addAction(a["fix"])

        view = mb.addMenu("&View")
        view.addActions([a["zoom_in"], a["zoom_out"], a["zoom_reset"], a["fit"]])
        view.addSeparator()
        self.tab_actions: dict[str, QAction] = {}
        for i in range(self.tabs.count()):
            title = self.tabs.tabText(i)
            act = QAction(f"Show {title}", self)
            act.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            act.triggered.connect(lambda _=False, w=self.tabs.widget(i): self.tabs.setCurrentWidget(w))
            act.setStatusTip(f"Show the {title} tab")
            view.addAction(act)
            self.tab_actions[title] = act
        view.addSeparator()
        panels = view.addMenu("&Panels")
        for key in ("palette", "inspector", "training", "history"):
            act = self.docks[key].toggleViewAction()
            panels.addAction(act)
            self.actions[f"show_{key}"] = act
        appearance = view.addMenu("A&ppearance")
        group = QActionGroup(self)
        for mode, label in (("system", "Follow the &System"), ("light", "&Light"), ("dark", "&Dark")):
            act = QAction(label, self, checkable=True)
            act.setData(mode)
            act.setChecked(self.settings.appearance() == mode)
            act.triggered.connect(lambda _=False, m=mode: self.set_appearance(m))
            group.addAction(act)
            appearance.addAction(act)
            self.actions[f"appearance_{mode}"] = act
        view.addSeparator()
        view.addAction(a["reset_layout"])

        presets = mb.addMenu("&Presets")
        for name in preset_names():
            act = QAction(name, self)
            try:
                desc = load_preset(name).get("description", "")
            except PlaygroundError:
                desc = ""
            act.setStatusTip(desc)
            act.setToolTip(desc)
            act.triggered.connect(lambda _=False, n=name: self.load_preset(n))
            presets.addAction(act)
            self.actions[f"preset_{name}"] = act
        presets.setToolTipsVisible(True)

        train = mb.addMenu("&Train")
        self.train_menu = train
        for key in ("start", "stop", "step", "reset"):
            act = self.dashboard.actions.get(key) if hasattr(self.dashboard, "actions") else None
            if act is not None:
                train.addAction(act)
                self.actions[f"train_{key}"] = act
        train.addSeparator()
        train.addAction(self.actions["show_training"])
        train.addAction(self.tab_actions["Training"])

        help_ = mb.addMenu("&Help")
        help_.addActions([a["shortcuts"], a["about"], a["about_qt"]])

    def _build_toolbar(self) -> None:
        tb = QToolBar("Main toolbar", self)
        tb.setObjectName("toolbar_main")
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        a = self.actions
        for key in ("new", "open", "save"):
            tb.addAction(a[key])
        tb.addSeparator()
        for key in ("undo", "redo"):
            tb.addAction(a[key])
        tb.addSeparator()
        for key in ("duplicate", "delete", "fit"):
            tb.addAction(a[key])
        tb.addSeparator()
        for key in ("train_start", "train_step", "train_stop", "train_reset"):
            if key in a:
                tb.addAction(a[key])
        for key in ("new", "open", "save", "undo", "redo", "duplicate", "delete", "fit"):
            w = tb.widgetForAction(a[key])
            if w is not None:
                w.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb

    def _build_statusbar(self) -> None:
        self.network_label = QLabel(self)
        self.network_label.setTextFormat(Qt.TextFormat.RichText)
        self.network_label.setContentsMargins(6, 0, 6, 0)
        self.statusBar().addPermanentWidget(self.network_label)
        self.statusBar().showMessage("Ready: press Space (Train ▸ Start) to train, or edit the network", 8000)

    def _connect(self) -> None:
        doc = self.doc
        doc.changed.connect(self._document_changed)
        doc.dirty_changed.connect(self._update_title)
        doc.path_changed.connect(self._update_title)
        doc.undo_stack.indexChanged.connect(self._update_edit_actions)
        scene = self.canvas.net_scene
        scene.selected_index_changed.connect(self.inspector.show_index)
        scene.selected_index_changed.connect(self._update_edit_actions)
        self.layer_palette.add_requested.connect(self.add_block)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.canvas.message.connect(self.show_status)
        self.inspector.message.connect(self.show_status)
        dash = self.dashboard
        if hasattr(dash, "status_message"):
            dash.status_message.connect(self.show_status)
        if hasattr(dash, "network_updated"):
            dash.network_updated.connect(self._network_trained)
        start = self.actions.get("train_start")
        if start is not None:
            start.triggered.connect(self._training_started)
        theme = current_theme()
        if theme is not None:
            theme.changed.connect(self._theme_changed)

    # ------------------------------------------------------------ reacting to the document
    def _document_changed(self) -> None:
        if hasattr(self.dashboard, "set_project"):
            self.dashboard.set_project(self.doc.project())
        v = self.doc.summary_or_error()
        n = self.doc.layer_count()
        if v.error is not None:
            where = (f"layer {v.error_index + 1} " if v.error_index is not None else "")
            text = v.error if len(v.error) < 110 else v.error[:107] + "…"
            self.network_label.setText(f"<span style='color:#dc2626'><b>✖ {where}does not fit:</b> "
                                       f"{html.escape(text)}</span>")
            self.network_label.setToolTip(v.error)
        elif v.warning is not None:
            self.network_label.setText(f"<span style='color:#c26d00'><b>⚠</b> {html.escape(v.warning[:110])}</span>")
            self.network_label.setToolTip(v.warning)
        else:
            self.network_label.setText(f"{n} layer{'s' if n != 1 else ''} · <b>{v.total_params:,}</b> parameters")
            self.network_label.setToolTip("")
        self.actions["fix"].setEnabled(bool(v.fix or v.warning_fix))
        self._update_edit_actions()

    def _update_title(self, *_args) -> None:
        path = self.doc.path
        name = path.name if path is not None else self.doc.name
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}")
        self.setWindowFilePath(str(path) if path is not None else "")
        self.setWindowModified(self.doc.dirty)

    def _update_edit_actions(self, *_args) -> None:
        i = self.canvas.net_scene.selected_layer_index()
        n = self.doc.layer_count()
        has = i is not None
        self.actions["delete"].setEnabled(has)
        self.actions["duplicate"].setEnabled(has)
        self.actions["move_up"].setEnabled(has and i > 0)
        self.actions["move_down"].setEnabled(has and i < n - 1)

    def _theme_changed(self, dark: bool) -> None:
        self.canvas.net_scene.rebuild()
        self.canvas.viewport().update()

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    # ------------------------------------------------------------ editing
    def selected_index(self) -> int | None:
        return self.canvas.net_scene.selected_layer_index()

    def add_block(self, type_name: str) -> None:
        """Insert a new block after the selected one (at the end when nothing is selected)."""
        i = self.canvas.net_scene.selected_index()
        n = self.doc.layer_count()
        index = n if i is None or i >= n else i + 1
        self.doc.push(InsertLayer(self.doc, index, new_entry(type_name)))
        self.show_status(f"Inserted {type_name} at position {index + 1}")

    def delete_selected(self) -> None:
        i = self.selected_index()
        if i is not None:
            self.doc.push(RemoveLayer(self.doc, i))

    def duplicate_selected(self) -> None:
        i = self.selected_index()
        if i is not None:
            self.doc.push(DuplicateLayer(self.doc, i))

    def move_selected(self, delta: int) -> None:
        i = self.selected_index()
        if i is None:
            return
        j = i + delta
        if 0 <= j < self.doc.layer_count():
            self.doc.push(MoveLayer(self.doc, i, j))

    def apply_fix(self) -> None:
        v = self.doc.summary_or_error()
        fix = v.fix or v.warning_fix
        if fix:
            self.canvas.apply_fix(fix)

    # ------------------------------------------------------------ files
    def maybe_save(self) -> bool:
        """Ask to save unsaved work; False if the user cancelled."""
        if not self.doc.dirty:
            return True
        name = self.doc.path.name if self.doc.path else self.doc.name
        answer = QMessageBox.warning(
            self, "Unsaved changes", f"The project “{name}” has unsaved changes.\nSave them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save_project()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> bool:
        """A fresh project: the default preset, untitled."""
        if not self.maybe_save():
            return False
        project = load_preset(DEFAULT_PRESET)
        project["name"] = "untitled"
        self.doc.load(project)
        self.canvas.net_scene.select_index(None)
        self.show_status("New project (from the spiral preset)")
        return True

    def load_preset(self, name: str) -> bool:
        """Open one of the book's networks as a new, unsaved project."""
        try:
            project = load_preset(name)
        except PlaygroundError as e:
            self._error("Cannot load the preset", str(e))
            return False
        if not self.maybe_save():
            return False
        self.doc.load(project)
        self.canvas.net_scene.select_index(None)
        self.canvas.fit()
        self.show_status(f"Loaded preset {name}: {project.get('description', '')}")
        return True

    def open_project_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self.settings.last_folder(), PROJECT_FILTER)
        return self.open_project(path, ask=False) if path else False

    def open_project(self, path: str | Path, ask: bool = True) -> bool:
        """Open a project file; a bad file shows what is wrong and leaves the current project as it was."""
        try:
            project = load_project(path)
        except (PlaygroundError, OSError) as e:
            self._error("Cannot open the project", str(e))
            self.settings.remove_recent_file(path) if not Path(path).exists() else None
            return False
        if ask and not self.maybe_save():
            return False
        self.doc.load(project, path)
        self.canvas.net_scene.select_index(None)
        self.settings.add_recent_file(path)
        self.settings.set_last_folder(path)
        self.show_status(f"Opened {path}")
        return True

    def save_project(self) -> bool:
        if self.doc.path is None:
            return self.save_project_as()
        return self.save_to(self.doc.path)

    def save_project_as(self) -> bool:
        start = str(self.doc.path or Path(self.settings.last_folder()) / f"{self.doc.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, PROJECT_FILTER)
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
            self._error("Cannot save the project", str(e))
            return False
        self.doc.mark_saved(path)
        self.settings.add_recent_file(path)
        self.settings.set_last_folder(path)
        self.show_status(f"Saved {path}")
        return True

    def import_model_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self, "Import trained model", self.settings.last_folder(),
                                              MODEL_FILTER)
        return self.import_model(path) if path else False

    def import_model(self, path: str | Path) -> bool:
        """Load a trained model: its network replaces the project's (undoable) and its weights go to the digit pad."""
        try:
            net, meta = load_model(path)
        except (PlaygroundError, OSError) as e:
            self._error("Cannot import the model", str(e))
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
            self._error("Cannot import the model", str(e))
            return False
        self.doc.push(ReplaceProject(self.doc, project, f"Import model {Path(path).name}"))
        self._set_trained(net, f"imported from {Path(path).name}")
        self.settings.set_last_folder(path)
        self.show_status(f"Imported {path}: {net.param_count():,} trained parameters")
        return True

    def export_model_dialog(self) -> bool:
        if self.trained_network() is None:
            self._info("Nothing to export yet",
                       "Train the network first (Train ▸ Start, or Space), or import a trained model.")
            return False
        start = str(Path(self.settings.last_folder()) / f"{self.doc.name}.npz")
        path, _ = QFileDialog.getSaveFileName(self, "Export trained model", start, MODEL_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".npz"
        return self.export_model(path)

    def export_model(self, path: str | Path) -> bool:
        net = self.trained_network()
        if net is None:
            self._info("Nothing to export yet", "Train the network first, or import a trained model.")
            return False
        try:
            save_model(net, path, training=self.doc.training(), dataset=self.doc.dataset())
        except (PlaygroundError, OSError) as e:
            self._error("Cannot export the model", str(e))
            return False
        self.settings.set_last_folder(path)
        self.show_status(f"Exported the trained model to {path}")
        return True

    def trained_network(self):
        """The latest trained (or imported) network, or None."""
        if self._trained is None and hasattr(self.dashboard, "current_network"):
            return self.dashboard.current_network()
        return self._trained

    def _training_started(self) -> None:
        """A first press of Start from the editor shows the training curves."""
        state = self.dashboard.state() if hasattr(self.dashboard, "state") else ""
        if state in ("loading", "running") and self.current_tab_widget() is self.canvas:
            self.show_tab(self.dashboard)

    #: docks that serve the builder; each tab shows only the ones it uses, so the
    #: training plots, the digit pad and the optimizer lab get room to breathe
    BUILDER_DOCKS = ("palette", "inspector", "training", "history")

    def _docks_for(self, current: QWidget) -> set[str]:
        if current is self.canvas:
            return set(self.BUILDER_DOCKS)
        if current is self.dashboard:
            return {"inspector", "training"}
        return set()

    def _tab_changed(self, _index: int) -> None:
        """The settings that go with the tab come to the front: inspector for the editor, training otherwise."""
        current = self.current_tab_widget()
        # Space starts or pauses what is in front: the lab's race there, training elsewhere
        lab_front = current is self.optimizer_lab
        self.dashboard.actions["start"].setShortcut(QKeySequence() if lab_front else QKeySequence("Space"))
        self._lab_space.setEnabled(lab_front)
        wanted = self._docks_for(current)
        for key in self.BUILDER_DOCKS:
            dock = self.docks[key]
            if key in wanted and key in self._hidden_by_tab:
                dock.show()
                self._hidden_by_tab.discard(key)
            elif key not in wanted and dock.isVisible():
                dock.hide()
                self._hidden_by_tab.add(key)
        if current is self.canvas:
            self.docks["inspector"].raise_()
        elif current is self.dashboard:
            self.docks["training"].raise_()

    def _show_builder_docks(self) -> None:
        for key in self._hidden_by_tab:
            self.docks[key].show()
        self._hidden_by_tab.clear()

    def show_tab(self, widget: QWidget) -> None:
        """Bring the central tab holding ``widget`` (the canvas, dashboard, digit pad or lab) to the front."""
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            if page is widget or (isinstance(page, QScrollArea) and page.widget() is widget):
                self.tabs.setCurrentIndex(i)
                return

    def current_tab_widget(self) -> QWidget:
        page = self.tabs.currentWidget()
        return page.widget() if isinstance(page, QScrollArea) else page

    def _network_trained(self, net) -> None:
        self._set_trained(net, "trained in the app")

    def _set_trained(self, net, label: str) -> None:
        self._trained, self._trained_label = net, label
        self.digit_pad.set_network(net, label)

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
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

    # ------------------------------------------------------------ messages
    def _error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    def _info(self, title: str, text: str) -> None:
        QMessageBox.information(self, title, text)

    def show_shortcuts(self) -> None:
        rows = []
        for key in ("new", "open", "save", "save_as", "undo", "redo", "delete", "duplicate", "move_up", "move_down",
                    "fix", "zoom_in", "zoom_out", "fit", "train_start", "train_stop", "train_step", "train_reset"):
            a = self.actions.get(key)
            if a is None:
                continue
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
            if keys:
                rows.append(f"<tr><td>{html.escape(a.text().replace('&', ''))}</td>"
                            f"<td>&nbsp;&nbsp;<b>{html.escape(keys)}</b></td></tr>")
        QMessageBox.information(self, "Keyboard shortcuts", "<table>" + "".join(rows) + "</table>"
                                "<p>Ctrl+wheel zooms the network; drag blocks to reorder them.</p>")

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_TITLE}",
                          f"<h3>{APP_TITLE}</h3><p>Build a neural network by drag-and-drop, train a "
                          "from-scratch NumPy network live, and watch it learn.</p>"
                          "<p>Following the book <i>Deep Learning from Scratch</i>.</p>")

    # ------------------------------------------------------------ appearance and layout
    def set_appearance(self, mode: str) -> None:
        self.settings.set_appearance(mode)
        theme = current_theme()
        if theme is not None:
            theme.set_appearance(mode)

    def reset_layout(self) -> None:
        self.restoreState(self._default_layout_state, SETTINGS_VERSION)
        for key in ("palette", "inspector", "training"):
            self.docks[key].show()
        self._size_docks()

    def _size_docks(self) -> None:
        w = self.width()
        self.resizeDocks([self.docks["palette"]], [max(190, int(w * 0.13))], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["inspector"]], [max(320, int(w * 0.23))], Qt.Orientation.Horizontal)

    def _restore_window(self) -> None:
        geometry = self.settings.window_geometry()
        state = self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            screen = QApplication.primaryScreen()
            avail = screen.availableGeometry() if screen is not None else None
            if avail is not None:
                w = min(1600, int(avail.width() * 0.9))
                h = min(1000, int(avail.height() * 0.9))
                self.resize(w, h)
                self.move(avail.x() + (avail.width() - w) // 2, avail.y() + (avail.height() - h) // 2)
            else:
                self.resize(1400, 900)
            QTimer.singleShot(0, self, self._size_docks)
        if state is not None:
            self.restoreState(state, SETTINGS_VERSION)

    def save_window(self) -> None:
        self._show_builder_docks()  # remember the builder's layout, not the digit pad's
        self.settings.save_window(self.saveGeometry(), self.saveState(SETTINGS_VERSION))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.dashboard.shutdown()
        self.digit_pad.shutdown()
        self.optimizer_lab.shutdown()
        self.save_window()
        event.accept()
