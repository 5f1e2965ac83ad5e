"""The MNIST folder row: it names the folder actually used, and Download fetches MNIST with progress."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading

import pytest
from PySide6.QtCore import Qt

from playground.engine.data.mnist import MNIST_GZ_FILES
from playground.ui.builder.mnist_row import MnistFolderRow
from test_data import tiny_mnist


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def no_mnist(monkeypatch, tmp_path):
    """No $PLAYGROUND_MNIST_DIR and an empty cache folder; returns where the cache's MNIST goes."""
    monkeypatch.delenv("PLAYGROUND_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "xdg" / "numpy-nn-playground" / "mnist"


@pytest.fixture
def served(tmp_path):
    """A tiny MNIST served on 127.0.0.1: (base URL, checksums)."""
    folder = tiny_mnist(tmp_path / "served")
    sums = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in MNIST_GZ_FILES}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", sums
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_field_names_the_folder_from_the_environment(monkeypatch, tmp_path, qtbot):
    folder = tiny_mnist(tmp_path / "from-env")
    monkeypatch.setenv("PLAYGROUND_MNIST_DIR", str(folder))
    row = MnistFolderRow()
    qtbot.addWidget(row)
    assert str(folder) in row.field.placeholderText() and "PLAYGROUND_MNIST_DIR" in row.field.placeholderText()
    assert row.status.text() == f"Using {folder}"
    assert row.download_button.isHidden()


def test_without_mnist_download_fetches_it_with_progress(no_mnist, served, qtbot, shown):
    row = shown(MnistFolderRow(), 500, 150)
    assert "not found" in row.status.text() and row.download_button.isVisible()
    row.base_url, row.checksums = served
    seen = []
    row.bar.valueChanged.connect(seen.append)
    with qtbot.waitSignal(row.downloaded, timeout=20000) as blocker:
        qtbot.mouseClick(row.download_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [str(no_mnist)]
    assert sorted(p.name for p in no_mnist.iterdir()) == sorted(MNIST_GZ_FILES)
    assert row.status.text() == f"Using {no_mnist}" and not row.downloading
    assert row.download_button.isHidden() and row.bar.isHidden()
    assert seen and seen[-1] == 1000 and seen == sorted(seen)  # the bar went up to full, never back


def test_a_failed_download_says_why_and_offers_download_again(no_mnist, served, qtbot, shown):
    row = shown(MnistFolderRow(), 500, 150)
    base, sums = served
    row.base_url, row.checksums = base, {name: "0" * 64 for name in sums}  # every checksum wrong
    qtbot.mouseClick(row.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not row.downloading, timeout=20000)
    assert row.status.text().startswith("The download failed:") and "SHA-256" in row.status.text()
    assert row.download_button.isVisible()
    assert not no_mnist.exists() or not any(no_mnist.iterdir())  # nothing half-downloaded kept
