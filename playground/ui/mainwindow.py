"""The main window: its parts in tabs and docks, and the wiring between them.

Layout: the network editor and the training dashboard as central tabs (with
the digit pad and the optimizer lab as further tabs when they are installed),
the layer palette on the left, the inspector and the training settings on the
right. The window owns helpers for the rest: :class:`ProjectFiles` (files),
:class:`DockLayout` (docks per tab, layout remembered between sessions), and
:mod:`playground.ui.menus` builds its actions, menus and toolbar.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow, QScrollArea, QTabWidget, QUndoView, QWidget

from playground.engine.project import load_preset
from playground.ui import dialogs
from playground.ui.builder import Inspector, LayerPalette, NetworkCanvas
from playground.ui.builder.catalog import new_entry
from playground.ui.builder.commands import DuplicateLayer, InsertLayer, MoveLayer, RemoveLayer
from playground.ui.builder.document import ProjectDocument
from playground.ui.builder.training_panel import TrainingPanel
from playground.ui.dashboard.runs import plural
from playground.ui.docks import BUILDER_DOCKS, DockLayout
from playground.ui.files import DEFAULT_PRESET, ProjectFiles
from playground.ui.inside.cnn import CnnExplainer
from playground.ui.inside.neurons import NeuronView
from playground.ui.inside.pages import InsidePage, TrainingPage
from playground.ui.labs.menu import build_labs_menu, shutdown_labs
from playground.ui.layout import scrolling
from playground.ui.menus import build_actions, build_menus, build_toolbar, build_view_bar
from playground.ui.settings import AppSettings
from playground.ui.theme import current_theme, load_icon, text_color

APP_TITLE = dialogs.APP_TITLE


class MainWindow(QMainWindow):
    """The app's window around one :class:`ProjectDocument`.

    Public API: ``doc`` (the document), ``canvas``, ``layer_palette``, ``inspector``,
    ``training_panel``, ``dashboard`` (the training dashboard or None),
    ``digit_pad`` / ``optimizer_lab``, ``actions`` (dict of QActions by
    name), ``files`` and ``dock_layout`` (the helpers), and the file operations
    :meth:`new_project`, :meth:`open_project`, :meth:`save_project`,
    :meth:`save_project_as`, :meth:`load_preset`, :meth:`import_model`,
    :meth:`export_model`, :meth:`maybe_save` (passed on to ``files``).
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
        # the neuron view: on the Inside tab, or beside the dashboard in the Playground layout
        self.neurons = NeuronView(self)
        self.inside_page = InsidePage(self.neurons, self)
        self.training_page = TrainingPage(self.dashboard, self.inside_page, self)
        self.tabs.addTab(self.canvas, "Network")
        self.tabs.addTab(self.training_page, "Training")
        self.tabs.addTab(scrolling(self.digit_pad), "Draw a digit")
        self.tabs.addTab(scrolling(self.optimizer_lab), "Optimizer lab")
        self.tabs.addTab(self.inside_page, "Inside")
        self.setCentralWidget(self.tabs)

        self.dock_layout = DockLayout(self, self.settings)
        self.docks = self.dock_layout.docks
        self.files = ProjectFiles(self)
        self._lab_space = QShortcut(QKeySequence("Space"), self)
        self._lab_space.setEnabled(False)
        self._lab_space.activated.connect(
            lambda: self.optimizer_lab.pause() if self.optimizer_lab.is_playing else self.optimizer_lab.play())
        add_dock = self.dock_layout.add
        add_dock("palette", "Layers", self.layer_palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        add_dock("inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        add_dock("training", "Training settings", self.training_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        add_dock("history", "Undo history", self.undo_view, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.docks["inspector"], self.docks["training"])
        self.docks["inspector"].raise_()
        self.splitDockWidget(self.docks["palette"], self.docks["history"], Qt.Orientation.Vertical)
        self.docks["history"].hide()
        self.setTabPosition(Qt.DockWidgetArea.RightDockWidgetArea, QTabWidget.TabPosition.North)

        self.actions: dict[str, QAction] = {}
        build_actions(self)
        build_menus(self)
        build_labs_menu(self)
        self.toolbar = build_toolbar(self)
        self.view_bar = build_view_bar(self, self.tabs)
        self._build_statusbar()
        self._connect()
        if self.settings.playground_layout():  # as the user left it; the window still opens on the editor
            self.training_page.set_playground(True)
            toggle = self.actions["playground_layout"]
            toggle.blockSignals(True)  # no tab switch now
            toggle.setChecked(True)
            toggle.blockSignals(False)
        self.dock_layout.remember_default()
        self.dock_layout.restore()
        self._document_changed()
        self._update_title()
        self._update_edit_actions()

    # ------------------------------------------------------------ parts
    def _make_dashboard(self) -> QWidget:
        from playground.ui.dashboard import TrainingDashboard

        return TrainingDashboard(self)

    def _build_statusbar(self) -> None:
        self.network_label = QLabel(self)
        self.network_label.setTextFormat(Qt.TextFormat.RichText)
        self.network_label.setContentsMargins(6, 0, 6, 0)
        self.statusBar().addPermanentWidget(self.network_label)
        self.statusBar().showMessage("Ready: press Space (Train ▸ Start) to train, or edit the network", 8000)

    def _connect(self) -> None:
        doc = self.doc
        doc.changed.connect(self._document_changed)
        if hasattr(self.dashboard, "project_opened"):
            doc.loaded.connect(self.dashboard.project_opened)
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
        dash.run_data.connect(self.neurons.set_data)
        dash.live.on_units = self.neurons.set_units
        # the CNN explainer's other inputs: the pad's drawing, and a misclassified sample of the confusion matrix
        self.digit_pad.explain.inside_requested.connect(self.explain_drawing)
        self.digit_pad.drawing_read.connect(self.inside_page.cnn.follow_drawing)  # later strokes follow
        dash.samples.inside_requested.connect(self.explain_misclassified)
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
            self.network_label.setText(f"<span style='color:{text_color('error')}'><b>✖ {where}does not fit:</b> "
                                       f"{html.escape(text)}</span>")
            self.network_label.setToolTip(v.error)
        elif v.warning is not None:
            self.network_label.setText(f"<span style='color:{text_color('warning')}'><b>⚠</b> "
                                       f"{html.escape(v.warning[:110])}</span>")
            self.network_label.setToolTip(v.warning)
        else:
            self.network_label.setText(f"{plural(n, 'block')} · <b>{v.total_params:,}</b> parameters")
            self.network_label.setToolTip("Blocks: the boxes of the network as drawn in the Network tab, between "
                                          "the input and the loss; a Dense block with its activation is one block")
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
        self._document_changed()  # the counter's colours
        self.canvas.net_scene.rebuild()
        self.canvas.viewport().update()

    def show_status(self, text: str) -> None:
        """``text`` in the status bar for 6 s, shortened with "…" to end before the block counter (all of it
        in the bar's tooltip)."""
        bar = self.statusBar()
        room = bar.width() - self.network_label.sizeHint().width() - 40
        shown = bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max(room, 80))
        bar.showMessage(shown, 6000)
        bar.setToolTip(text)

    # ------------------------------------------------------------ files (see ProjectFiles)
    def maybe_save(self) -> bool:
        return self.files.maybe_save()

    def new_project(self, dataset: str = "spiral") -> bool:
        """An empty network on ``dataset`` (File ▸ New asks which, or offers a preset)."""
        return self.files.new_project(dataset)

    def load_preset(self, name: str) -> bool:
        return self.files.load_preset(name)

    def open_project(self, path: str | Path, ask: bool = True) -> bool:
        return self.files.open_project(path, ask)

    def save_project(self) -> bool:
        return self.files.save_project()

    def save_project_as(self) -> bool:
        return self.files.save_project_as()

    def save_to(self, path: str | Path) -> bool:
        return self.files.save_to(path)

    def import_model(self, path: str | Path) -> bool:
        return self.files.import_model(path)

    def export_model(self, path: str | Path) -> bool:
        return self.files.export_model(path)

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

    #: docks that serve the builder; each tab shows only the ones it uses
    BUILDER_DOCKS = BUILDER_DOCKS

    def _docks_for(self, current: QWidget) -> set[str]:
        if current is self.canvas:
            return set(self.BUILDER_DOCKS)
        if current is self.dashboard:  # the Playground layout needs the width (View ▸ Panels brings them back)
            return set() if self.training_page.playground else {"inspector", "training"}
        return set()

    def _tab_changed(self, _index: int) -> None:
        """The settings that go with the tab come to the front: inspector for the editor, training otherwise."""
        current = self.current_tab_widget()
        # Space starts or pauses what is in front: the lab's race there, training elsewhere
        lab_front = current is self.optimizer_lab
        self.dashboard.actions["start"].setShortcut(QKeySequence() if lab_front else QKeySequence("Space"))
        self._lab_space.setEnabled(lab_front)
        self.dock_layout.show_only(self._docks_for(current))
        if current is self.canvas:
            self.docks["inspector"].raise_()
        elif current is self.dashboard and not self.training_page.playground:  # raise_ would show it
            self.docks["training"].raise_()

    def show_tab(self, widget: QWidget) -> None:
        """Bring the central tab holding ``widget`` (the canvas, dashboard, digit pad or lab) to the front."""
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            if page is widget or (isinstance(page, QScrollArea) and page.widget() is widget) \
                    or (isinstance(page, TrainingPage) and page.dashboard is widget):
                self.tabs.setCurrentIndex(i)
                return

    def current_tab_widget(self) -> QWidget:
        page = self.tabs.currentWidget()
        if isinstance(page, TrainingPage):
            return page.dashboard
        return page.widget() if isinstance(page, QScrollArea) else page

    def _network_trained(self, net) -> None:
        """The Training tab's network (at Start, Reset and as it trains): exported next, offered to the digit pad.

        The pad keeps the network it reads until the user takes this one.
        """
        self._trained, self._trained_label = net, "trained in the app"
        self.digit_pad.offer_network(net, "trained in the app")

    def set_trained(self, net, label: str) -> None:
        """``net`` (trained in the app or imported, described by ``label``) is the one to export and draw with."""
        self._trained, self._trained_label = net, label
        self.digit_pad.set_network(net, label)
        self.inside_page.cnn.set_network(net, label)

    # ------------------------------------------------------------ the CNN explainer's inputs
    def show_cnn_explainer(self) -> CnnExplainer:
        """Bring Inside ▸ CNN channels to the front (its first showing reads the MNIST test images)."""
        self.show_tab(self.inside_page)
        self.inside_page.setCurrentWidget(self.inside_page.cnn)
        return self.inside_page.cnn

    def explain_drawing(self, image) -> None:
        """The pad's input ``image`` through every layer of the network the pad reads with."""
        # set before the explainer shows, so it runs once, on this drawing
        self.inside_page.cnn.show_drawing(image, self.digit_pad.network(), self.digit_pad.network_label())
        self.show_cnn_explainer()

    def explain_misclassified(self, index: int) -> None:
        """Misclassified validation sample ``index`` through every layer of the network trained in the app;
        a note in the status bar, and no tab switched, when it is no longer among them (a later epoch)."""
        cnn = self.inside_page.cnn
        wrong = self.dashboard.live.misclassified()
        if wrong is not None:
            cnn.set_misclassified(**wrong)
        if wrong is None or not cnn.show_misclassified(index, self.dashboard.current_network(),
                                                       "the network trained in the app"):
            self.show_status(f"Validation sample #{index} is not among the misclassified samples of the latest "
                             f"epoch: click the confusion-matrix cell again to see its samples now")
            return
        # the samples dialog steps aside: as this window's child it would stay on top of the explainer, whose
        # chooser steps through the other misclassified samples (a click on the cell brings it back)
        self.dashboard.samples.hide()
        self.show_cnn_explainer()

    # ------------------------------------------------------------ messages
    def show_error(self, title: str, text: str) -> None:
        dialogs.error(self, title, text)

    # ------------------------------------------------------------ appearance and layout
    def set_appearance(self, mode: str) -> None:
        self.settings.set_appearance(mode)
        theme = current_theme()
        if theme is not None:
            theme.set_appearance(mode)

    def set_playground_layout(self, on: bool) -> None:
        """The neuron view beside the dashboard (on) or on the Inside tab (off); remembered."""
        self.training_page.set_playground(on)
        self.settings.set_playground_layout(on)
        self._tab_changed(self.tabs.currentIndex())  # the side panels make room, or come back
        if self.actions["playground_layout"].isChecked() != on:
            self.actions["playground_layout"].setChecked(on)
        if on:
            self.show_tab(self.dashboard)

    def reset_layout(self) -> None:
        self.dock_layout.reset()

    def save_window(self) -> None:
        self.dock_layout.save()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.dashboard.shutdown()
        self.digit_pad.shutdown()
        self.optimizer_lab.shutdown()
        shutdown_labs(self)
        self.save_window()
        event.accept()
