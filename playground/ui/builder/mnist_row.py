"""The MNIST folder row of the training settings: the folder in use, Browse, and Download with progress.

The folder field shows the folder the engine will actually read (a folder
typed here, else ``$PLAYGROUND_MNIST_DIR``, else the cache folder), or says
that MNIST was not found; Download fetches the four files with the engine's
:func:`~playground.engine.data.mnist.download_mnist` (SHA-256 checked) on a
thread of its own, with a progress bar and Cancel.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Mapping

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from playground.engine.data.mnist import DEFAULT_URL, ENV_VAR, default_mnist_dir, download_mnist, find_mnist_dir
from playground.engine.errors import PlaygroundError


class DownloadCancelled(Exception):
    """Raised from the progress callback to stop a download the user cancelled."""


class _Download(QObject):
    """Runs one download on its thread; reports through queued signals only."""

    progress = Signal(str, int, int)  # file name, bytes done, bytes total (0: unknown)
    done = Signal(str)  # the folder
    failed = Signal(str)  # the message; empty when cancelled

    def __init__(self, dest: Path, base_url: str, checksums: Any):
        super().__init__()
        self.dest, self.base_url, self.checksums = dest, base_url, checksums
        self.cancel_flag = threading.Event()

    def run(self) -> None:
        def report(name: str, done: int, total: int | None) -> None:
            if self.cancel_flag.is_set():
                raise DownloadCancelled
            self.progress.emit(name, done, total or 0)

        try:
            folder = download_mnist(self.dest, base_url=self.base_url, progress=report, checksums=self.checksums)
        except DownloadCancelled:
            self.failed.emit("")
        except PlaygroundError as e:
            self.failed.emit(str(e))
        else:
            self.done.emit(str(folder))


class MnistFolderRow(QWidget):
    """Folder field, Browse and Download; ``folder_chosen(text)`` when the user picks or types a folder."""

    folder_chosen = Signal(str)  # "" for "the default"
    downloaded = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        #: where Download fetches from and the checksums it checks (tests point these at 127.0.0.1)
        self.base_url: str = DEFAULT_URL
        self.checksums: Mapping[str, str] | str | os.PathLike | None = None
        self._thread: QThread | None = None
        self._job: _Download | None = None
        self._sizes: dict[str, tuple[int, int]] = {}

        self.field = QLineEdit(self)
        self.field.setAccessibleName("MNIST folder")
        self.field.editingFinished.connect(lambda: self.folder_chosen.emit(self.field.text().strip()))
        self.field.editingFinished.connect(self.refresh_status)
        browse = QToolButton(self)
        browse.setText("…")
        browse.setToolTip("Choose the folder holding the four MNIST files")
        browse.clicked.connect(self._browse)
        self.download_button = QPushButton("Download MNIST", self)
        self.download_button.setToolTip(f"Download the four MNIST files (about 11 MB) into {default_mnist_dir()}, "
                                        "checking each file's SHA-256")
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cancel_button.hide()
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.hide()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.field, 1)
        top.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(top)
        col.addWidget(self.status)
        col.addWidget(self.bar)
        col.addLayout(buttons)
        self.refresh_status()

    # ------------------------------------------------------------ the folder in use
    def set_folder(self, text: object) -> None:
        """Show the project's folder (None: the default; anything else is shown as text, never trusted)."""
        self.field.setText("" if text is None else str(text))
        self.refresh_status()

    def refresh_status(self) -> None:
        """Say which folder the engine will read, or that MNIST is missing and how to get it."""
        typed = self.field.text().strip()
        env = os.environ.get(ENV_VAR, "")
        if env:
            self.field.setPlaceholderText(f"{env} (from {ENV_VAR})")
        else:
            self.field.setPlaceholderText(f"{default_mnist_dir()} (the cache folder)")
        try:
            folder = find_mnist_dir(typed or None)
        except PlaygroundError:
            where = typed or env or str(default_mnist_dir())
            self.status.setText(f"MNIST was not found in {where}: download it, or choose a folder holding the "
                                "four IDX files.")
            self.status.setForegroundRole(QPalette.ColorRole.Link)  # readable in light and dark
            self.download_button.setVisible(self._thread is None)
            self.found = None
            return
        self.found = folder
        self.status.setText(f"Using {folder}")
        self.status.setForegroundRole(QPalette.ColorRole.WindowText)
        self.download_button.setVisible(False)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder holding the MNIST files", self.field.text())
        if folder:
            self.field.setText(folder)
            self.folder_chosen.emit(folder)
            self.refresh_status()

    # ------------------------------------------------------------ downloading
    def start_download(self) -> None:
        if self._thread is not None:
            return
        typed = self.field.text().strip()
        dest = Path(typed).expanduser() if typed else default_mnist_dir()
        self._sizes.clear()
        self._job = _Download(dest, self.base_url, self.checksums)
        self._thread = QThread(self)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        self._job.progress.connect(self._on_progress)
        self._job.done.connect(self._on_done)
        self._job.failed.connect(self._on_failed)
        self.download_button.hide()
        self.cancel_button.show()
        self.bar.setValue(0)
        self.bar.setFormat("starting…")
        self.bar.show()
        self.status.setText(f"Downloading MNIST into {dest}…")
        self._thread.start()

    def cancel_download(self) -> None:
        if self._job is not None:
            self._job.cancel_flag.set()

    @property
    def downloading(self) -> bool:
        return self._thread is not None

    def _on_progress(self, name: str, done: int, total: int) -> None:
        self._sizes[name] = (done, total)
        known = [t for _, t in self._sizes.values() if t]
        fraction = sum(d for d, _ in self._sizes.values()) / sum(known) if known and len(known) == len(self._sizes) \
            else 0.0
        # four files, whose sizes become known one by one: weigh the files seen so far
        files = max(4, len(self._sizes))
        fraction = fraction * len(self._sizes) / files
        self.bar.setValue(int(1000 * min(fraction, 1.0)))
        self.bar.setFormat(f"{name}: {done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else ""))

    def _finish(self) -> None:
        thread, self._thread, self._job = self._thread, None, None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        self.cancel_button.hide()
        self.bar.hide()

    def _on_done(self, folder: str) -> None:
        self._finish()
        self.refresh_status()
        self.downloaded.emit(folder)

    def _on_failed(self, message: str) -> None:
        self._finish()
        self.refresh_status()
        if message:
            self.status.setText(f"The download failed: {message}")
        else:
            self.status.setText("Download cancelled; no partial file was kept.")
        self.download_button.show()

    def shutdown(self) -> None:
        """Cancel a download and wait for its thread (the window is closing)."""
        self.cancel_download()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
