"""Where the neuron view lives: beside the dashboard (the Playground layout) or on the Inside tab (tabbed)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from playground.engine.errors import PlaygroundError
from playground.engine.data.mnist import load_mnist
from playground.ui.digits.models import load_bundled
from playground.ui.inside.cnn import CnnExplainer
from playground.ui.inside.neurons import NeuronView
from playground.ui.layout import scrolling

PLAYGROUND_NOTE = ("The neuron view is on the Training tab, beside the dashboard (View ▸ Playground Layout). "
                   "Untick it there to see the view here instead.")


class InsidePage(QTabWidget):
    """The Inside tab: the neuron view (unless it is on the Training tab) and the CNN explainer."""

    def __init__(self, neurons: NeuronView, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDocumentMode(True)
        self.neurons = neurons
        self.holder = QWidget()
        self._holder_layout = QVBoxLayout(self.holder)
        self._holder_layout.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel(PLAYGROUND_NOTE)
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._holder_layout.addWidget(self.note)
        self.addTab(self.holder, "Neurons")
        self.cnn = CnnExplainer()
        self.addTab(self.cnn, "CNN channels")
        self.currentChanged.connect(self._tab_shown)
        self.hold_neurons()

    #: test images offered to the CNN explainer
    SAMPLES = 500

    def _tab_shown(self, _index: int) -> None:
        """The explainer's first showing reads the first MNIST test images, and the bundled digit model
        when no network was trained yet."""
        if self.currentWidget() is not self.cnn or self.cnn.samples is not None:
            return
        try:
            x, y = load_mnist(None, "test", limit=self.SAMPLES)
        except (PlaygroundError, OSError) as e:
            self.cnn.note.setText(f"MNIST could not be read ({e}); download it with: playground data download mnist")
            return
        if self.cnn.net is None:
            bundled = load_bundled()
            if bundled.net is not None:
                self.cnn.set_network(bundled.net, bundled.label)
        self.cnn.set_samples(x, y)

    def hold_neurons(self) -> None:
        """Show the neuron view here (the tabbed layout)."""
        self.note.hide()
        self._holder_layout.addWidget(self.neurons)
        self.neurons.show()

    def let_go(self) -> None:
        """The neuron view goes to the Training tab: a note says where."""
        self.note.show()


class TrainingPage(QWidget):
    """The Training tab: the dashboard, and in the Playground layout the neuron view at its left, so the
    network, the loss curve and the decision boundary are seen together while a run goes on."""

    def __init__(self, dashboard: QWidget, inside: InsidePage, parent: QWidget | None = None):
        super().__init__(parent)
        self.dashboard = dashboard
        self.inside = inside
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.scroll = scrolling(dashboard)
        self.splitter.addWidget(self.scroll)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)
        self.playground = False

    def set_playground(self, on: bool) -> None:
        """Put the neuron view beside the dashboard (True) or back on the Inside tab (False)."""
        if on == self.playground:
            return
        self.playground = on
        if on:
            self.inside.let_go()
            self.splitter.insertWidget(0, self.inside.neurons)
            self.inside.neurons.show()
            total = max(self.splitter.width(), 1000)
            # the dashboard keeps the width it needs to show its plots whole; the network takes the rest,
            # at least 300 px and at most 36 %
            room = total - self.dashboard.minimumSizeHint().width()
            share = int(min(0.36 * total, max(300, room)))
            self.splitter.setSizes([share, total - share])
            self.splitter.setStretchFactor(0, 36)
            self.splitter.setStretchFactor(1, 64)
        else:
            self.inside.hold_neurons()
