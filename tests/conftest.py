"""Shared test fixtures.

- Qt runs offscreen (set before any Qt import).
- QSettings of every test lives in its own temporary folder.
- A test that leaves a thread running (a Python thread or a started QThread)
  fails, naming the thread and where it was started.
"""

from __future__ import annotations

import os
import threading
import traceback
import weakref

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

THREAD_GRACE_MS = 3000


@pytest.fixture
def shown(qtbot):
    """``shown(widget, width, height)``: ``widget`` closed with the test, resized, shown and exposed."""
    def show(widget, width: int | None = None, height: int | None = None):
        qtbot.addWidget(widget)
        if width is not None:
            widget.resize(width, height)
        widget.show()
        qtbot.waitExposed(widget)
        return widget
    return show


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """Point QSettings (INI and native, user and system scope) at a fresh folder."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("settings"))
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, folder)
    monkeypatch.setenv("XDG_CONFIG_HOME", folder)
    yield folder


@pytest.fixture(autouse=True)
def _no_leaked_threads(monkeypatch):
    """Fail a test that leaves threads running after it ends (after a short grace period)."""
    from PySide6.QtCore import QThread, QThreadPool

    started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    original_start = QThread.start

    def recording_start(self, *args, **kwargs):
        started[self] = "".join(traceback.format_stack(limit=6)[:-1])
        return original_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", recording_start)
    before = set(threading.enumerate())
    yield
    leaks = []
    for thread in list(started.keys()):
        try:
            running = thread.isRunning() and not thread.wait(THREAD_GRACE_MS)
        except RuntimeError:  # the C++ object is already gone
            continue
        if running:
            leaks.append(f"QThread {thread!r} started at:\n{started[thread]}")
    for thread in set(threading.enumerate()) - before:
        if isinstance(thread, threading._DummyThread):
            continue
        thread.join(THREAD_GRACE_MS / 1000)
        if thread.is_alive():
            leaks.append(f"Python thread {thread.name!r} ({thread!r})")
    pool = QThreadPool.globalInstance()
    if not pool.waitForDone(THREAD_GRACE_MS):
        leaks.append(f"{pool.activeThreadCount()} QThreadPool task(s)")
    if leaks:
        pytest.fail("the test left threads running:\n" + "\n".join(leaks), pytrace=False)


@pytest.fixture
def main_windows(qtbot, tmp_path, monkeypatch):
    """``make(project=None, width=1600, height=1000)``: a shown, exposed MainWindow with its own settings
    file and message boxes recorded instead of shown (``w.messages``); each is shut down and deleted
    with the test."""
    from test_ui_mainwindow import Messages, dispose

    from playground.ui import dialogs
    from playground.ui.app import make_application
    from playground.ui.mainwindow import MainWindow
    from playground.ui.settings import AppSettings

    messages = Messages()
    monkeypatch.setattr(dialogs, "QMessageBox", messages)
    made = []

    def make(project=None, width: int = 1600, height: int = 1000):
        make_application()
        w = MainWindow(project=project, settings=AppSettings(tmp_path / "settings.ini"))
        w.messages = messages
        w.resize(width, height)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.dashboard.shutdown()
        dispose(w)
