"""The main window: actions and shortcuts, files, unsaved-work prompts, settings, wiring of the parts."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from playground.engine.nn.network import Network
from playground.engine.project import load_project, save_model
from playground.engine.project import load_preset
from playground.ui.app import make_application
from playground.ui.builder.commands import InsertLayer, SetLayerOption
from playground.ui import dialogs
from playground.ui.mainwindow import MainWindow
from playground.ui.settings import SETTINGS_VERSION, AppSettings
from playground.ui.theme import current_theme
from test_ui_editor import deliver_drag, gap_point


class Messages:
    """Stands in for QMessageBox in the main window's dialogs module: records each box instead of showing it.

    ``answer`` is what the "Save changes?" prompt returns. (The PySide class
    itself is left alone: patching attributes of Shiboken types corrupts
    reference counts.)
    """

    StandardButton = QMessageBox.StandardButton

    def __init__(self):
        self.shown: list[tuple[str, str, str]] = []
        self.answer = QMessageBox.StandardButton.Discard
        for kind in ("warning", "critical", "information", "question", "about"):
            setattr(self, kind, self._recorder(kind))

    def _recorder(self, kind):
        def show(parent, title, text, *args, **kwargs):
            self.shown.append((kind, title, text))
            return self.answer if kind in ("warning", "question") else QMessageBox.StandardButton.Ok
        return show

    def kinds(self) -> list[str]:
        return [k for k, _, _ in self.shown]


@pytest.fixture
def messages(monkeypatch):
    m = Messages()
    monkeypatch.setattr(dialogs, "QMessageBox", m)
    return m


@pytest.fixture
def settings_file(tmp_path):
    return tmp_path / "settings.ini"


def dispose(w: MainWindow) -> None:
    """Close without prompts and delete now (windows left for interpreter exit upset PySide). The close must
    not be refused: a window deleted without its close event would leave its threads running."""
    w.doc.undo_stack.setClean()
    w.maybe_save = lambda: True
    w.close()
    w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def window(qtbot, messages, settings_file):
    make_application()
    w = MainWindow(settings=AppSettings(settings_file))
    w.show()
    qtbot.waitExposed(w)
    yield w
    dispose(w)


def test_opens_on_a_ready_to_train_preset(window):
    assert window.doc.name == "spiral"
    assert window.doc.summary_or_error().ok
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("spiral")
    assert window.dashboard is not None
    assert window.dashboard.actions["start"].shortcut() == QKeySequence("Space")
    train_menu_actions = window.train_menu.actions()
    for key in ("start", "stop", "step", "reset"):
        assert window.dashboard.actions[key] in train_menu_actions
        assert window.dashboard.actions[key] in window.toolbar.actions()
    assert window.dashboard.actions["stop"].shortcut() == QKeySequence("Esc")


def test_standard_shortcuts(window):
    a = window.actions
    assert a["new"].shortcut() == QKeySequence("Ctrl+N")
    assert a["open"].shortcut() == QKeySequence("Ctrl+O")
    assert a["save"].shortcut() == QKeySequence("Ctrl+S")
    assert a["undo"].shortcut() == QKeySequence("Ctrl+Z")
    assert QKeySequence("Ctrl+Shift+Z") in a["redo"].shortcuts()
    assert a["duplicate"].shortcut() == QKeySequence("Ctrl+D")


def test_palette_drop_then_undo_redo_with_the_shortcuts(window, qtbot):
    doc, canvas = window.doc, window.canvas
    before = doc.project()
    assert deliver_drag(canvas, window.layer_palette.mime_for("Dropout"), gap_point(canvas.net_scene, 1))
    assert doc.layer(1)["type"] == "Dropout"
    assert window.isWindowModified()
    assert "5 blocks" in window.network_label.text()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.project() == before
    assert not window.isWindowModified()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert doc.layer(1)["type"] == "Dropout"
    window.actions["undo"].trigger()
    assert doc.project() == before
    window.actions["redo"].trigger()
    assert doc.layer(1)["type"] == "Dropout"


def test_delete_and_duplicate_keys_on_the_canvas(window, qtbot):
    doc, canvas = window.doc, window.canvas
    canvas.net_scene.select_index(0)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert doc.layer_count() == 5 and doc.layer(1) == doc.layer(0)
    assert canvas.net_scene.selected_index() == 1
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert doc.layer_count() == 4
    assert canvas.net_scene.selected_index() == 1
    window.actions["move_down"].trigger()
    assert [e.get("units") for e in doc.layers()] == [64, 2, 64, None]
    assert canvas.net_scene.selected_index() == 2


def test_invalid_network_shows_its_message_and_the_fix(window, messages, tmp_path):
    project = load_preset("simple-convnet")
    del project["network"]["layers"][2]
    window.doc.load(project)
    block = window.canvas.net_scene.block_for(2)
    assert block.content.status == "error" and "insert a Flatten" in block.content.message
    assert "does not fit" in window.network_label.text()
    assert window.actions["fix"].isEnabled()
    window.actions["fix"].trigger()
    assert window.doc.layer(2) == {"type": "Flatten"}
    assert "parameters" in window.network_label.text()


def test_save_and_reopen_is_identical(window, tmp_path, settings_file):
    doc = window.doc
    doc.push(InsertLayer(doc, 1, {"type": "Dropout", "rate": 0.25}))
    doc.push(SetLayerOption(doc, 0, "l2", 0.001))
    path = tmp_path / "net.json"
    assert window.save_to(path)
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("net.json")
    saved = doc.project()
    assert json.loads(path.read_text())["network"]["layers"][1] == {"type": "Dropout", "rate": 0.25}
    assert window.new_project()
    assert doc.project() != saved
    assert window.open_project(path)
    assert doc.project() == saved
    assert doc.path == path and not doc.dirty
    assert AppSettings(settings_file).recent_files()[0] == str(path.resolve())
    assert load_project(path)["network"]["layers"][1]["rate"] == 0.25


def test_opening_a_corrupt_file_shows_why_and_keeps_the_project(window, messages, tmp_path):
    doc = window.doc
    doc.push(InsertLayer(doc, 1, {"type": "Dropout"}))
    before = doc.project()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "numpy-nn-playground/project", "version": 1, "network": ')
    assert not window.open_project(bad)
    assert messages.kinds() == ["critical"]
    assert "not valid JSON" in messages.shown[0][2]
    assert doc.project() == before and doc.dirty
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": 1}')
    assert not window.open_project(foreign)
    assert "not a playground project" in messages.shown[-1][2]
    assert doc.project() == before


def test_unsaved_changes_are_confirmed_on_close_new_and_open(window, messages, tmp_path):
    doc = window.doc
    other = tmp_path / "other.json"
    other.write_text(json.dumps(load_preset("xor")))
    doc.push(SetLayerOption(doc, 0, "units", 8))
    messages.answer = QMessageBox.StandardButton.Cancel
    assert not window.new_project()
    assert not window.open_project(other)
    assert not window.load_preset("xor")
    assert not window.close()
    assert window.isVisible()
    assert messages.kinds() == ["warning"] * 4
    assert doc.layer(0)["units"] == 8
    messages.answer = QMessageBox.StandardButton.Discard
    assert window.open_project(other)
    assert doc.name == "xor" and not doc.dirty
    doc.push(SetLayerOption(doc, 0, "units", 9))
    messages.answer = QMessageBox.StandardButton.Save  # saves to its file, then goes on
    assert window.load_preset("spiral")
    assert load_project(other)["network"]["layers"][0]["units"] == 9


def test_bad_save_location_shows_a_message(window, messages, tmp_path):
    assert not window.save_to(tmp_path / "missing" / "x.json")
    assert messages.kinds() == ["critical"] and "does not exist" in messages.shown[0][2]
    assert window.doc.path is None


def test_window_layout_is_remembered_and_stale_layouts_dropped(qtbot, messages, settings_file):
    make_application()
    w = MainWindow(settings=AppSettings(settings_file))
    w.show()
    qtbot.waitExposed(w)
    w.docks["palette"].hide()
    assert w.close()
    s = AppSettings(settings_file)
    assert s.window_geometry() is not None and s.window_state() is not None
    w2 = MainWindow(settings=AppSettings(settings_file))
    w2.show()
    qtbot.waitExposed(w2)
    assert not w2.docks["palette"].isVisible()
    w2.reset_layout()
    assert w2.docks["palette"].isVisible()
    assert w2.close()
    q = QSettings(str(settings_file), QSettings.Format.IniFormat)
    q.setValue("settings_version", SETTINGS_VERSION - 1)
    q.sync()
    migrated = AppSettings(settings_file)
    assert migrated.window_geometry() is None and migrated.window_state() is None
    assert int(migrated.qsettings.value("settings_version")) == SETTINGS_VERSION
    dispose(w)
    dispose(w2)


def test_document_changes_reach_the_dashboard_and_trained_networks_reach_the_digit_pad(window, monkeypatch):
    seen = []
    monkeypatch.setattr(window.dashboard, "set_project", lambda project: seen.append(project))
    window.doc.push(SetLayerOption(window.doc, 0, "units", 12))
    assert seen and seen[-1]["network"]["layers"][0]["units"] == 12
    assert window.digit_pad is not None, "the digit pad package is installed"
    got = []
    monkeypatch.setattr(window.digit_pad, "offer_network", lambda net, label: got.append((net, label)))
    net = Network(window.doc.network_spec())
    window.dashboard.network_updated.emit(net)
    assert got == [(net, "trained in the app")]  # offered: the pad keeps its network until the user takes it
    assert window.trained_network() is net


def test_export_and_import_a_trained_model(window, messages, tmp_path, monkeypatch):
    assert not window.export_model(tmp_path / "none.npz")
    assert messages.kinds() == ["information"]
    mlp = load_preset("mlp-mnist")
    net = Network(mlp["network"], seed=3)
    model = tmp_path / "mlp.npz"
    save_model(net, model, training=mlp["training"], dataset=mlp["dataset"])
    got = []
    monkeypatch.setattr(window.digit_pad, "set_network", lambda n, label: got.append(label))
    assert window.import_model(model)
    assert window.doc.dataset()["name"] == "mnist"
    assert [e["type"] for e in window.doc.layers()] == [e["type"] for e in mlp["network"]["layers"]]
    assert got == ["imported from mlp.npz"]
    out = tmp_path / "again.npz"
    assert window.export_model(out)
    window.actions["undo"].trigger()
    assert window.doc.name == "spiral" and window.doc.dataset()["name"] == "spiral"
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 truncated")
    before = window.doc.project()
    assert not window.import_model(corrupt)
    assert messages.kinds()[-1] == "critical" and "corrupt.npz" in messages.shown[-1][2]
    assert window.doc.project() == before


def test_presets_menu_loads_the_books_networks(window):
    assert {"simple-convnet", "two-layer-net", "spiral"} <= {k[len("preset_"):] for k in window.actions
                                                               if k.startswith("preset_")}
    window.actions["preset_simple-convnet"].trigger()
    assert window.doc.name == "simple-convnet"
    assert [b.content.title for b in window.canvas.net_scene.layer_blocks()][:2] == ["Conv2D", "MaxPool2D"]
    assert not window.isWindowModified()


def test_dark_and_light_looks(window, qtbot):
    theme = current_theme()
    assert theme is not None
    window.set_appearance("dark")
    assert theme.dark
    qtbot.waitUntil(lambda: window.palette().color(window.backgroundRole()).lightness() < 100)
    assert window.canvas.net_scene.blocks[0].colors.dark
    window.set_appearance("light")
    assert not theme.dark
    assert not window.canvas.net_scene.blocks[0].colors.dark
    window.set_appearance("system")


def test_optional_parts_have_tabs_and_view_entries(window):
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles[:2] == ["Network", "Training"]
    for title in titles:
        assert f"Show {title}" in [a.text() for a in window.tab_actions.values()]
    window.tab_actions["Training"].trigger()
    assert window.current_tab_widget() is window.dashboard


def test_digit_pad_and_lab_get_the_whole_window_and_docks_come_back(window, qtbot):
    docks = [window.docks[k] for k in window.BUILDER_DOCKS if window.docks[k].isVisible()]
    assert docks, "the builder shows its docks"
    window.show_tab(window.digit_pad)
    qtbot.waitUntil(lambda: not any(d.isVisible() for d in docks))
    window.show_tab(window.optimizer_lab)
    assert not any(d.isVisible() for d in docks)
    window.show_tab(window.canvas)
    qtbot.waitUntil(lambda: all(d.isVisible() for d in docks))


def test_space_plays_the_lab_in_the_lab_and_trains_elsewhere(window, qtbot):
    from PySide6.QtCore import Qt

    window.show_tab(window.optimizer_lab)
    qtbot.waitUntil(lambda: window.optimizer_lab.isVisible())
    qtbot.keyClick(window.optimizer_lab, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.optimizer_lab.is_playing)
    assert window.dashboard.state() == "idle"
    qtbot.keyClick(window.optimizer_lab, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.optimizer_lab.is_playing)
    window.show_tab(window.canvas)
    assert window.dashboard.actions["start"].shortcut() == QKeySequence("Space")
