"""Each optimizer's inner state on the map, and the selected one's next update written out with numbers.

On the map, at each optimizer's current point: Momentum's and Nesterov's
velocity v as an arrow (to scale: W moves by v); AdaGrad's and RMSProp's
accumulated squared gradient h as two squares, one per axis, whose sides are
h₁ and h₂ (one scale for all squares, so they compare); Adam's bias-corrected
m̂ as an arrow and v̂ as squares. Beside it, the step panel writes the chosen
optimizer's update rule with the current numbers put in (see
:func:`~playground.engine.lab.internals.update_lines`), following each Step.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from playground.engine.lab.internals import optimizer_state, update_lines
from playground.engine.lab.paths import LAB_OPTIMIZERS, PathLab
from playground.ui.optimizer_lab.drawing import COLORS, arrow

#: the largest square, in pixels
SQUARE_PX = 46.0


class InternalsOverlay:
    """Arrows and squares drawn over a :class:`~.mapview.MapView`'s plot."""

    def __init__(self, lab: PathLab, map_view):
        self.lab = lab
        self.map_view = map_view
        self.visible = True
        self.arrows: dict[str, pg.PlotCurveItem] = {}
        self.squares: dict[str, pg.PlotCurveItem] = {}
        plot = map_view.plot.getPlotItem()
        for name in LAB_OPTIMIZERS:
            a = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(COLORS[name], width=3))
            s = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(COLORS[name], width=2))
            a.setZValue(25)
            s.setZValue(24)
            plot.addItem(a)
            plot.addItem(s)
            self.arrows[name], self.squares[name] = a, s
        map_view.vb.sigRangeChanged.connect(self.draw)

    def set_visible(self, on: bool) -> None:
        self.visible = on
        self.draw()

    def draw(self, *_view_range) -> None:
        pw, ph = self.map_view.vb.viewPixelSize()
        states = {n: optimizer_state(self.lab.paths[n]) for n in LAB_OPTIMIZERS}
        sides = [s[k] for s in states.values() for k in ("h", "v_hat") if k in s and self.lab.enabled[s["name"]]]
        big = max((float(np.max(x)) for x in sides if np.all(np.isfinite(x))), default=0.0)
        for name in LAB_OPTIMIZERS:
            path, state = self.lab.paths[name], states[name]
            show = self.visible and self.lab.enabled[name] and not path.stopped and pw > 0 and ph > 0
            vec = state.get("v") if name in ("momentum", "nesterov") else state.get("m_hat")
            if name == "adam" and vec is not None and show:  # −m̂, the way Adam steps, 40 px long
                length = float(np.hypot(vec[0] / pw, vec[1] / ph))
                vec = -vec * (40.0 / length) if length > 0 and np.isfinite(length) else None
            pts = arrow(path.position, vec, (pw, ph), 8.0) \
                if show and vec is not None and np.all(np.isfinite(vec)) else np.empty((0, 2))
            self.arrows[name].setData(pts[:, 0], pts[:, 1]) if len(pts) else self.arrows[name].setData([], [])
            h = state.get("h", state.get("v_hat"))
            if not show or h is None or not big > 0 or not np.all(np.isfinite(h)):
                self.squares[name].setData([], [])
                continue
            x, y = path.position
            segs = []
            for axis, side in enumerate(h):
                px = SQUARE_PX * float(side) / big  # the side in pixels, on one scale for every square
                if px < 1.0:
                    continue
                sx, sy = px * pw, px * ph
                x0 = x + (4 * pw if axis == 0 else -4 * pw - sx)  # h₁ right of the point, h₂ left of it
                y0 = y + 4 * ph
                corners = [(x0, y0), (x0 + sx, y0), (x0 + sx, y0 + sy), (x0, y0 + sy)]
                for k in range(4):
                    segs += [corners[k], corners[(k + 1) % 4]]
            arr = np.array(segs) if segs else np.empty((0, 2))
            self.squares[name].setData(arr[:, 0], arr[:, 1]) if len(arr) else self.squares[name].setData([], [])


class StepPanel(QWidget):
    """The chosen optimizer's next update, equation by equation, with the numbers of this point."""

    def __init__(self, lab: PathLab, parent: QWidget | None = None):
        super().__init__(parent)
        self.lab = lab
        self.choice = QComboBox(self)
        for name in LAB_OPTIMIZERS:
            self.choice.addItem(name, name)
        self.choice.setCurrentIndex(LAB_OPTIMIZERS.index("momentum"))
        self.choice.setToolTip("Whose update rule to write out")
        self.choice.currentIndexChanged.connect(lambda _i: self.refresh())
        self.show_box = QCheckBox("Show state on the map", self)
        self.show_box.setChecked(True)
        self.show_box.setToolTip("Momentum/Nesterov: the velocity v as an arrow (W moves by v).\n"
                                 "AdaGrad/RMSProp: the accumulated squared gradient h per axis as squares of side "
                                 "h₁ (right of the point) and h₂ (left), one scale for all.\n"
                                 "Adam: −m̂ as an arrow (the direction it steps, drawn 40 px long) and v̂ as "
                                 "squares.")
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setToolTip("The next step, as Step will take it: g is the gradient at the current point; "
                             "the state (v, h, m, v̂) after the update is what the next step starts from")
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Next step of</b>", self))
        top.addWidget(self.choice)
        top.addStretch(1)
        top.addWidget(self.show_box)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.text)

    @property
    def name(self) -> str:
        return self.choice.currentData()

    def refresh(self) -> None:
        path = self.lab.paths[self.name]
        if not self.lab.enabled[self.name]:
            self.text.setText(f"{self.name} is switched off: tick it in the list to race it.")
            return
        lines = update_lines(path)
        self.text.setText("<span style='font-family: monospace'>" + "<br>".join(html.escape(line) for line in lines)
                          + "</span>")
