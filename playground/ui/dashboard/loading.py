"""Data sets for training, built off the GUI thread and cached per spec.

Generated sets take milliseconds; MNIST takes about a second to decompress,
which must not freeze the window. :class:`DatasetLoader` builds a data set in
a QThread and reports with a queued signal; results are cached by the spec's
JSON, so the next run of the same project starts at once.

Training runs in a worker process (:mod:`playground.ui.worker`), which maps
the data set from shared memory. :meth:`DatasetLoader.shared` puts a cached
set there once (a large one already in the loading thread) and keeps it
while the set stays cached, so every run of it starts without a copy.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from playground.engine.data.datasets import Dataset, make_dataset
from playground.engine.errors import PlaygroundError
from playground.engine.train.remote import SharedDataset

CACHE_SIZE = 3
#: generated sets up to this many samples are built on the spot (they take milliseconds)
QUICK_SAMPLES = 20000


def is_quick(spec: dict) -> bool:
    """True for a generated set small enough to build in the GUI thread."""
    n = spec.get("n_samples", 0)
    return spec.get("name") != "mnist" and isinstance(n, int) and n <= QUICK_SAMPLES


def spec_key(spec: Any) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


class _LoadThread(QThread):
    def __init__(self, spec: dict):
        super().__init__()
        self.spec = spec
        self.result: Dataset | None = None
        self.shared: SharedDataset | None = None
        self.error = ""

    def run(self) -> None:
        try:
            self.result = make_dataset(dict(self.spec))
            self.shared = SharedDataset(self.result)  # the copy costs 0.1 s for MNIST: here, not in the GUI
        except PlaygroundError as e:
            self.error = str(e)
        except Exception as e:  # a bug in a loader must not take the app down
            self.error = f"{type(e).__name__}: {e}"


class DatasetLoader(QObject):
    """``request(spec)``; then ``loaded(key, dataset)`` or ``failed(key, message)`` (GUI thread)."""

    loaded = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._cache: OrderedDict[str, Dataset] = OrderedDict()
        self._shared: dict[str, SharedDataset] = {}
        self._threads: dict[str, _LoadThread] = {}
        self._closed = False  # the window closes: a load ending now is dropped

    def cached(self, spec: dict) -> Dataset | None:
        key = spec_key(spec)
        data = self._cache.get(key)
        if data is not None:
            self._cache.move_to_end(key)
        return data

    def load_now(self, spec: dict) -> Dataset:
        """Build a small generated set at once (milliseconds) and cache it; raises PlaygroundError."""
        key = spec_key(spec)
        if key not in self._cache:
            self._store(key, make_dataset(dict(spec)))
        return self._cache[key]

    def request(self, spec: dict) -> str:
        """Start loading ``spec`` (once, however often asked); returns its key."""
        key = spec_key(spec)
        if key in self._cache:
            self.loaded.emit(key, self._cache[key])
        elif key not in self._threads:
            thread = _LoadThread(spec)
            thread.finished.connect(lambda k=key: self._done(k))
            self._threads[key] = thread
            thread.start()
        return key

    def _store(self, key: str, data: Dataset, shared: SharedDataset | None = None) -> None:
        self._cache[key] = data
        if shared is not None:
            self._drop_shared(key)
            self._shared[key] = shared
        while len(self._cache) > CACHE_SIZE:
            old, _ = self._cache.popitem(last=False)
            self._drop_shared(old)

    def _drop_shared(self, key: str) -> None:
        shared = self._shared.pop(key, None)
        if shared is not None:
            shared.release()  # a run still training on it holds its own reference

    def shared(self, data: Dataset) -> SharedDataset:
        """A reference to ``data`` in shared memory, for the caller to release (a session does).

        The block is kept while ``data`` stays cached, so the next run reuses it.
        """
        key = next((k for k, d in self._cache.items() if d is data), None)
        if key is None:  # not one of ours: shared for the caller alone
            return SharedDataset(data)
        shared = self._shared.get(key)
        if shared is None or shared.data is not data:
            self._drop_shared(key)
            shared = self._shared[key] = SharedDataset(data)
        return shared.acquire()

    def close(self) -> None:
        """Release every shared block (closing the window), also those of loads whose end was not
        yet taken in."""
        self._closed = True
        for key in list(self._shared):
            self._drop_shared(key)
        for thread in self._threads.values():
            shared, thread.shared = thread.shared, None
            if shared is not None:
                shared.release()

    def busy(self) -> bool:
        return bool(self._threads)

    def _done(self, key: str) -> None:
        thread = self._threads.pop(key, None)
        if thread is None:
            return
        thread.deleteLater()
        if self._closed:  # its end came after close(), maybe after the loader itself was deleted
            return
        if thread.result is not None:
            self._store(key, thread.result, thread.shared)
            self.loaded.emit(key, thread.result)
        else:
            self.failed.emit(key, thread.error)

    def wait(self, ms: int = 10000) -> None:
        """Block until every load has ended (closing the window)."""
        for thread in list(self._threads.values()):
            thread.wait(ms)
