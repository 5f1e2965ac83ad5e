"""The main window's actions, menu bar and toolbar, built once from the window's parts.

``window`` is a :class:`playground.ui.mainwindow.MainWindow` whose parts (``doc``, ``files``,
``canvas``, ``tabs``, ``docks``, ``dashboard``, ``settings``) exist; the actions go to ``window.actions``.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QTabBar, QTabWidget, QToolBar

from playground.assets import preset_names
from playground.engine.errors import PlaygroundError
from playground.engine.project import load_preset
from playground.ui import dialogs
from playground.ui.theme import load_icon

#: the main window (playground.ui.mainwindow imports this module, so it is not imported back)
MainWindow = QMainWindow

def add_action(window: QMainWindow, key: str, text: str, slot=None, shortcut=None, tip: str = "",
               icon: str | None = None, checkable: bool = False) -> QAction:
    """A QAction of ``window`` kept in ``window.actions[key]``; the tooltip names its shortcut."""
    a = QAction(text, window)
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
    window.actions[key] = a
    return a


def build_actions(window: QMainWindow) -> None:
    SK = QKeySequence.StandardKey
    w, files, canvas = window, window.files, window.canvas
    add_action(w, "new", "&New…", files.new_project_dialog, SK.New,
               "Start a new project: an empty network on a data set you choose, or a preset", "new")
    add_action(w, "open", "&Open…", files.open_project_dialog, SK.Open, "Open a project file (.json)", "open")
    add_action(w, "save", "&Save", files.save_project, SK.Save, "Save the project", "save")
    add_action(w, "save_as", "Save &As…", files.save_project_as, SK.SaveAs, "Save the project to a new file")
    add_action(w, "import_model", "&Import Trained Model…", files.import_model_dialog, None,
               "Load a trained model (.npz): its network and weights")
    add_action(w, "export_model", "&Export Trained Model (.npz)…", files.export_model_dialog, None,
               "Save the trained network's weights (.npz)")
    add_action(w, "export_network", "Export Trained &Network (ONNX, NumPy, PyTorch)…", files.export_network_dialog, None,
               "The trained network as an ONNX model, a NumPy file or PyTorch code, with a preview of the code")
    add_action(w, "quit", "&Quit", w.close, SK.Quit, "Close the app")
    undo = w.doc.undo_stack.createUndoAction(w, "&Undo")
    undo.setShortcuts([QKeySequence(SK.Undo)])
    undo.setIcon(load_icon("undo"))
    undo.setToolTip("Undo the last edit (Ctrl+Z)")
    redo = w.doc.undo_stack.createRedoAction(w, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    redo.setIcon(load_icon("redo"))
    redo.setToolTip("Redo the last undone edit (Ctrl+Shift+Z)")
    w.actions["undo"], w.actions["redo"] = undo, redo
    add_action(w, "delete", "&Delete Block", w.delete_selected, [SK.Delete, "Backspace"],
               "Remove the selected block", "delete")
    add_action(w, "duplicate", "D&uplicate Block", w.duplicate_selected, "Ctrl+D",
               "Insert a copy of the selected block after it", "duplicate")
    add_action(w, "move_up", "Move Block &Up", lambda: w.move_selected(-1), "Alt+Up",
               "Move the selected block one place towards the input")
    add_action(w, "move_down", "Move Block Do&wn", lambda: w.move_selected(1), "Alt+Down",
               "Move the selected block one place towards the loss")
    add_action(w, "fix", "Apply Suggested &Fix", w.apply_fix, "Ctrl+Shift+X",
               "Apply the suggested fix for the block that does not fit")
    for a in (w.actions["delete"], w.actions["duplicate"], w.actions["move_up"], w.actions["move_down"]):
        a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        canvas.addAction(a)
    add_action(w, "zoom_in", "Zoom &In", canvas.zoom_in, SK.ZoomIn, "Zoom into the network")
    add_action(w, "zoom_out", "Zoom &Out", canvas.zoom_out, SK.ZoomOut, "Zoom out of the network")
    add_action(w, "zoom_reset", "&Actual Size", canvas.zoom_reset, "Ctrl+0", "Zoom to 100 %")
    add_action(w, "fit", "&Fit Network", canvas.fit, "Ctrl+Shift+0", "Zoom so the whole network fits", "fit")
    add_action(w, "reset_layout", "&Reset Layout", w.reset_layout, None, "Put all panels back in place")
    add_action(w, "playground_layout", "Play&ground Layout", None, None,
               "One page while training: every unit's output over the plane beside the loss curves and the "
               "decision boundary (off: the neuron view has the Inside tab)", checkable=True)
    w.actions["playground_layout"].toggled.connect(w.set_playground_layout)
    add_action(w, "shortcuts", "&Keyboard Shortcuts", lambda: dialogs.show_shortcuts(w, w.actions), SK.HelpContents,
               "List the keyboard shortcuts")
    add_action(w, "about", "&About", lambda: dialogs.show_about(w), None, "About this app")
    add_action(w, "about_qt", "About &Qt", QApplication.aboutQt, None, "About Qt")
    canvas.context_actions = [w.actions["duplicate"], w.actions["delete"], None,
                              w.actions["move_up"], w.actions["move_down"]]


def build_menus(window: QMainWindow) -> None:
    w = window
    mb = w.menuBar()
    a = w.actions
    file = mb.addMenu("&File")
    file.addActions([a["new"], a["open"]])
    w.recent_menu = file.addMenu("Open &Recent")
    w.recent_menu.aboutToShow.connect(w.files.fill_recent_menu)
    file.addSeparator()
    file.addActions([a["save"], a["save_as"]])
    file.addSeparator()
    file.addActions([a["import_model"], a["export_model"], a["export_network"]])
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
    w.tab_actions = {}
    for i in range(w.tabs.count()):
        title = w.tabs.tabText(i)
        act = QAction(f"Show {title}", w)
        act.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
        act.triggered.connect(lambda _=False, page=w.tabs.widget(i): w.tabs.setCurrentWidget(page))
        act.setStatusTip(f"Show the {title} tab")
        view.addAction(act)
        w.tab_actions[title] = act
    view.addSeparator()
    panels = view.addMenu("&Panels")
    for key in ("palette", "inspector", "training", "history"):
        act = w.docks[key].toggleViewAction()
        panels.addAction(act)
        a[f"show_{key}"] = act
    appearance = view.addMenu("A&ppearance")
    group = QActionGroup(w)
    for mode, label in (("system", "Follow the &System"), ("light", "&Light"), ("dark", "&Dark")):
        act = QAction(label, w, checkable=True)
        act.setData(mode)
        act.setChecked(w.settings.appearance() == mode)
        act.triggered.connect(lambda _=False, m=mode: w.set_appearance(m))
        group.addAction(act)
        appearance.addAction(act)
        a[f"appearance_{mode}"] = act
    view.addSeparator()
    view.addAction(a["playground_layout"])
    view.addAction(a["reset_layout"])

    presets = mb.addMenu("&Presets")
    for name in preset_names():
        act = QAction(name, w)
        try:
            desc = load_preset(name).get("description", "")
        except PlaygroundError:
            desc = ""
        act.setStatusTip(desc)
        act.setToolTip(desc)
        act.triggered.connect(lambda _=False, n=name: w.files.load_preset(n))
        presets.addAction(act)
        a[f"preset_{name}"] = act
    presets.setToolTipsVisible(True)

    train = mb.addMenu("&Train")
    w.train_menu = train
    for key in ("start", "stop", "step", "reset"):
        act = w.dashboard.actions.get(key) if hasattr(w.dashboard, "actions") else None
        if act is not None:
            train.addAction(act)
            a[f"train_{key}"] = act
    train.addSeparator()
    train.addAction(a["show_training"])
    train.addAction(w.tab_actions["Training"])

    labs = mb.addMenu("&Labs")
    labs.addAction(add_action(w, "search_lab", "&Hyperparameter search (ch. 6.5)", lambda: _open_search_lab(w), None,
                              "Random search and TPE over learning rate and weight decay, on this machine or a "
                              "Dask cluster"))

    help_ = mb.addMenu("&Help")
    help_.addActions([a["shortcuts"], a["about"], a["about_qt"]])


def _open_search_lab(window: QMainWindow) -> None:
    from playground.ui.search_lab import open_search_lab

    open_search_lab(window)


def build_toolbar(window: QMainWindow) -> QToolBar:
    tb = QToolBar("Main toolbar", window)
    tb.setObjectName("toolbar_main")
    tb.setIconSize(QSize(20, 20))
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    a = window.actions
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
        button = tb.widgetForAction(a[key])
        if button is not None:
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    return tb


def build_view_bar(window: MainWindow, tabs: QTabWidget) -> QTabBar:
    """The tabs' bar in a row of its own across the window, above the docks: it stays put when a tab
    shows or hides a dock (inside the central widget it moved 200 px sideways with the Layers panel)."""
    bar = QTabBar()
    bar.setObjectName("view_tabs")
    bar.setDocumentMode(True)
    bar.setExpanding(False)
    bar.setDrawBase(False)
    for i in range(tabs.count()):
        bar.addTab(tabs.tabText(i))
        bar.setTabToolTip(i, tabs.tabToolTip(i))
    bar.setCurrentIndex(tabs.currentIndex())
    bar.currentChanged.connect(tabs.setCurrentIndex)
    tabs.currentChanged.connect(bar.setCurrentIndex)
    tabs.setTabBarAutoHide(False)
    tabs.tabBar().hide()
    tb = QToolBar("Views", window)
    tb.setObjectName("toolbar_views")
    tb.setMovable(False)
    tb.setFloatable(False)
    tb.toggleViewAction().setVisible(False)  # the only way between the tabs: never hidden
    tb.setContentsMargins(0, 0, 0, 0)
    tb.addWidget(bar)
    window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    return bar
