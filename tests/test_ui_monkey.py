"""A monkey at the main window: 2,000 seeded random actions, and not one exception.

The actions are what a person does: add, drag in, select, delete, duplicate,
move and undo blocks; apply fixes; change training settings and the data set;
open presets; start, pause, step and stop training; draw on the pad; switch
tabs; zoom; step the optimizer lab. Every exception that reaches
``sys.excepthook`` (or that pytest-qt catches in a Qt callback) fails the test,
with the seed and the action that raised. Dialogs go through the recorded
stand-in of ``test_ui_mainwindow``, so nothing modal opens.
"""

from __future__ import annotations

import random
import sys
import traceback

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QPushButton

from playground.assets import preset_names
from playground.ui.builder.catalog import DEFAULTS, GROUPS, MIME_TYPE, encode_payload
from test_ui_editor import deliver_drag, gap_point
from test_ui_mainwindow import dispose, messages, settings_file  # noqa: F401  (fixtures)

ACTIONS = 2000
SEED = 20261202
#: presets quick enough to train a few batches of while the monkey plays (MNIST ones load 60 MB)
TRAINABLE = ("spiral", "xor", "sin-regression", "sine-rnn", "two-layer-net", "alexnet", "lenet5")
BLOCKS = [t for _, _, types in GROUPS for t in types]


@pytest.fixture
def window(qtbot, messages, settings_file):  # noqa: F811
    from playground.ui.app import make_application
    from playground.ui.mainwindow import MainWindow
    from playground.ui.settings import AppSettings

    make_application()
    w = MainWindow(settings=AppSettings(settings_file))
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    dashboard = w.dashboard
    if hasattr(dashboard, "shutdown"):
        dashboard.shutdown()
    dispose(w)


class Monkey:
    def __init__(self, window, qtbot, rng: random.Random):
        self.w, self.qtbot, self.rng = window, qtbot, rng

    # ------------------------------------------------------------ the network
    def add(self):
        self.w.add_block(self.rng.choice(BLOCKS))

    def drop(self):
        scene = self.w.canvas.scene()
        n = len(self.w.doc.project()["network"]["layers"])
        kind = self.rng.choice(BLOCKS)
        mime = QMimeData()
        mime.setData(MIME_TYPE, encode_payload({"type": kind, **DEFAULTS.get(kind, {})}))
        deliver_drag(self.w.canvas, mime, gap_point(scene, self.rng.randint(0, n)))

    def select(self):
        scene = self.w.canvas.scene()
        count = len(self.w.doc.project()["network"]["layers"])
        if count:
            block = scene.block_for(self.rng.randrange(count))
            if block is not None:
                scene.clearSelection()
                block.setSelected(True)

    def edit(self):
        key = self.rng.choice(["delete", "duplicate", "move_up", "move_down", "undo", "redo", "undo", "fix",
                               "zoom_in", "zoom_out", "fit", "zoom_reset"])
        self.w.actions[key].trigger()

    # ------------------------------------------------------------ settings and data
    def setting(self):
        panel = self.w.training_panel
        widgets = [w for w in panel.findChildren(QAbstractSpinBox) + panel.findChildren(QComboBox)
                   if w.isEnabled() and w.isVisibleTo(panel)]
        if not widgets:
            return
        target = self.rng.choice(widgets)
        if isinstance(target, QComboBox):
            if target.count():
                target.setCurrentIndex(self.rng.randrange(target.count()))
        else:
            lo, hi = target.minimum(), target.maximum()
            value = self.rng.choice([lo, hi, lo + (hi - lo) * self.rng.random(), target.value() * 2,
                                     target.value() / 2])
            target.setValue(type(target.value())(value) if isinstance(target.value(), int) else value)

    def preset(self):
        self.w.load_preset(self.rng.choice(preset_names()))

    # ------------------------------------------------------------ training
    def train(self):
        actions = self.w.dashboard.actions
        key = self.rng.choice(["start", "start", "step", "stop", "reset"])
        if key in ("start", "step") and self.w.doc.project().get("name") not in TRAINABLE:
            self.w.load_preset(self.rng.choice(TRAINABLE))
        action = actions.get(key)
        if action is not None and action.isEnabled():
            action.trigger()

    # ------------------------------------------------------------ the pad, tabs, the lab
    def draw(self):
        pad = self.w.digit_pad.pad
        if not pad.isVisible():
            self.w.show_tab(self.w.digit_pad)
        size = pad.size()
        pts = [QPoint(self.rng.randrange(max(size.width(), 1)), self.rng.randrange(max(size.height(), 1)))
               for _ in range(self.rng.randint(1, 6))]
        self.qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=pts[0])
        for p in pts[1:]:
            self.qtbot.mouseMove(pad, p)
        self.qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=pts[-1])

    def tab(self):
        tabs = self.w.tabs
        tabs.setCurrentIndex(self.rng.randrange(tabs.count()))

    def lab(self):
        buttons = [b for b in self.w.optimizer_lab.findChildren(QPushButton) if b.isEnabled() and b.isVisible()]
        if buttons:
            self.rng.choice(buttons).click()


WEIGHTS = {"add": 8, "drop": 6, "select": 14, "edit": 20, "setting": 14, "preset": 4, "train": 3, "draw": 8,
           "tab": 10, "lab": 5}


def test_two_thousand_random_actions_raise_nothing(window, qtbot, monkeypatch):
    raised: list[str] = []
    step = {"i": -1, "name": ""}

    def hook(kind, value, tb):
        raised.append(f"action {step['i']} ({step['name']}): "
                      + "".join(traceback.format_exception(kind, value, tb)))

    monkeypatch.setattr(sys, "excepthook", hook)
    rng = random.Random(SEED)
    monkey = Monkey(window, qtbot, rng)
    names = list(WEIGHTS)
    weights = [WEIGHTS[n] for n in names]
    for i in range(ACTIONS):
        name = rng.choices(names, weights)[0]
        step.update(i=i, name=name)
        getattr(monkey, name)()
        QApplication.processEvents()
        assert not raised, raised[0]
    # a run left going ends cleanly
    stop = window.dashboard.actions.get("stop")
    if stop is not None and stop.isEnabled():
        stop.trigger()
    qtbot.waitUntil(lambda: window.dashboard.state() == "idle", timeout=30000)
    assert not raised, raised[0]
