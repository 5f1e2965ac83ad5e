"""The digit pad's right column: the preprocessing step by step, the saliency map and the first feature maps."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QWidget

from playground.engine.data.preprocess import BOX, CENTRE, FIELD, MARGIN, DigitSteps
from playground.ui.digits.views import PixelView, feature_map_grid, gray_to_qimage, rgb_to_qimage, saliency_overlay
from playground.ui.layout import WrapLayout

TIP_BBOX = ("Step 1 · the ink and its bounding box.\n"
            "Gray levels are stretched: g = (v − background) / (ink − background), where the background is "
            "the median of the border;\nif the paper is lighter than the ink, the image is inverted first "
            "(g = 1 − v), so dark-on-light and light-on-dark read the same.\n"
            "Bounding box: the first and last rows and columns with g > 0.2 (dashed, also drawn on the pad).")
TIP_FIT = (f"Step 2 · fit in {BOX}×{BOX}.\n"
           f"The box is scaled by s = {BOX} / max(height, width), keeping the aspect ratio,\n"
           "area-averaged when shrinking (anti-aliased, like MNIST), with a 2-pixel margin of its surroundings.\n"
           "So size and stroke width on the pad stop mattering.")
TIP_SHIFT = (f"Step 3 · centre of mass.\nThe fitted box is put in the middle of a {FIELD}×{FIELD} field; its centre "
             "of mass (ȳ, x̄) = Σ g·(y, x) / Σ g (cross) is moved by\n"
             f"(dy, dx) = round({CENTRE:g} − ȳ, {CENTRE:g} − x̄) onto pixel ({CENTRE:g}, {CENTRE:g}) (arrow), "
             "as LeCun did when making MNIST.\nSo where the digit was drawn stops mattering.")
TIP_FINAL = (f"Step 4 · the input the network sees: {FIELD}×{FIELD} = 784 numbers in [0, 1], white ink on black, "
             "shown at pixel scale.")
TIP_SALIENCY = ("Saliency = ∂score_k / ∂pixel: the gradient of the winning digit's score s_k (before the softmax) "
                "with respect to each input pixel, by one backward pass.\n"
                "Red: more ink here would raise the score of the winner; blue: more ink here would lower it.\n"
                "Colour strength is |∂s_k/∂x| / max |∂s_k/∂x|.")
TIP_MAPS = ("The first convolution layer's feature maps for this drawing: map c = ReLU(W_c ∗ x + b_c), one per "
            "filter,\nall on one colour scale (black 0 → yellow the largest value). Each lights up where its "
            "pattern (an edge, a stroke direction) is found.")
TIP_INSIDE_FLAT = ("This network reads the 784 values as one flat vector, not as an image: Inside ▸ CNN "
                   "channels shows networks with convolutions (choose the bundled model or a convnet)")
TIP_INSIDE = ("Open this drawing in the Inside tab's CNN channels: the 28 × 28 input above goes through every layer "
              "of the network reading it,\neach channel shown as a heatmap; click one to see its kernel slide over "
              "its input with the numbers.")


def _caption(text: str, tip: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    label.setToolTip(tip)
    label.setWordWrap(True)
    return label

class ExplainPanel(QWidget):
    """What the network is given (four preprocessing steps) and why it decided (saliency, feature maps).

    :meth:`show_reading` draws one reading of the pad; :meth:`clear` empties
    the views. ``view_bbox``, ``view_fit``, ``view_shift``, ``view_final``,
    ``view_saliency`` and ``view_maps`` are the :class:`PixelView` s.
    ``inside_requested(input)`` asks to see every layer for the input read
    last (28 × 28, step 4), from ``inside_button``.
    """

    inside_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._final: np.ndarray | None = None
        right = WrapLayout(self, spacing=8, grow_first=False)  # side by side when the panel is wide
        pipe = QGroupBox("What the network is given")
        pipe.setToolTip("The same preprocessing as `playground predict` (engine/data/preprocess.py), step by step")
        pl = QGridLayout(pipe)
        self.view_bbox = PixelView(smooth=True)
        self.view_fit = PixelView(grid=True)
        self.view_shift = PixelView(grid=True)
        self.view_final = PixelView(grid=True)
        self.caption_fit = _caption(f"2 · fit in {BOX}×{BOX}", TIP_FIT)
        self.caption_shift = _caption("3 · centre of mass", TIP_SHIFT)
        views = [(self.view_bbox, _caption("1 · ink, bounding box", TIP_BBOX), TIP_BBOX),
                 (self.view_fit, self.caption_fit, TIP_FIT),
                 (self.view_shift, self.caption_shift, TIP_SHIFT),
                 (self.view_final, _caption(f"4 · input {FIELD}×{FIELD}", TIP_FINAL), TIP_FINAL)]
        for i, (view, caption, tip) in enumerate(views):
            view.setToolTip(tip)
            view.setMinimumHeight(130)
            pl.addWidget(view, 0, i)
            pl.addWidget(caption, 1, i)
            pl.setColumnStretch(i, 1)
        right.add(pipe, 4)

        why = QGroupBox("Why it decided")
        wl = QGridLayout(why)
        self.view_saliency = PixelView(minimum=220, grid=True)
        self.view_saliency.setToolTip(TIP_SALIENCY)
        self.caption_saliency = _caption("saliency ∂score/∂pixel", TIP_SALIENCY)
        self.view_maps = PixelView(minimum=220)
        self.view_maps.setToolTip(TIP_MAPS)
        self.caption_maps = _caption("first conv layer's feature maps", TIP_MAPS)
        wl.addWidget(self.view_saliency, 0, 0)
        wl.addWidget(self.caption_saliency, 1, 0)
        wl.addWidget(self.view_maps, 0, 1)
        wl.addWidget(self.caption_maps, 1, 1)
        self.inside_button = QPushButton("See every layer…")
        self.inside_button.setToolTip(TIP_INSIDE)
        self.inside_button.clicked.connect(lambda: self._final is not None and self.inside_requested.emit(self._final))
        wl.addWidget(self.inside_button, 2, 1, Qt.AlignmentFlag.AlignRight)
        wl.setColumnStretch(0, 2)
        wl.setColumnStretch(1, 3)
        right.add(why, 5)
        self.clear()

    def clear(self) -> None:
        for v in (self.view_bbox, self.view_fit, self.view_shift, self.view_final):
            v.set_text("—")
        self.view_saliency.set_text("draw a digit to see which pixels decided")
        self.view_maps.set_text("")
        self.caption_shift.setText("3 · centre of mass")
        self.caption_saliency.setText("saliency ∂score/∂pixel")
        self.caption_maps.setText("first conv layer's feature maps")
        self._final = None
        self.inside_button.setEnabled(False)

    def show_reading(self, steps: DigitSteps | None, grad: np.ndarray | None,
                     maps: tuple[str, np.ndarray] | None, winner: int, has_net: bool, images: bool = True) -> None:
        """The preprocessing ``steps`` of the pad and, when a network read it as ``winner``, why.

        ``grad``: ∂s_winner/∂input (28 x 28); ``maps``: the first conv layer's
        (name, maps), None for a network without one.
        """
        if steps is None:
            self.clear()
            return
        red, green = "#e53e3e", "#22c55e"
        top, left, bottom, right = steps.bbox
        self.view_bbox.set_image(gray_to_qimage(steps.gray), [("rect", left, top, right - left, bottom - top, red)])
        fh, fw = steps.fitted.shape
        self.view_fit.set_image(gray_to_qimage(steps.fitted),
                                [("rect", MARGIN, MARGIN, fw - 2 * MARGIN, fh - 2 * MARGIN, red)])
        mass = float(steps.boxed.sum())
        overlays = []
        if mass > 0:
            cy = float(steps.boxed.sum(axis=1) @ np.arange(FIELD)) / mass + 0.5
            cx = float(steps.boxed.sum(axis=0) @ np.arange(FIELD)) / mass + 0.5
            dy, dx = steps.shift
            overlays = [("cross", cx, cy, red), ("arrow", cx, cy, cx + dx, cy + dy, green),
                        ("cross", CENTRE + 0.5, CENTRE + 0.5, green)]
        self.view_shift.set_image(gray_to_qimage(steps.boxed), overlays)
        self.caption_shift.setText(f"3 · centre of mass, shift ({steps.shift[0]:+d}, {steps.shift[1]:+d})")
        self.view_final.set_image(gray_to_qimage(steps.final))
        self._final = steps.final
        # Inside ▸ CNN channels shows networks that take images; a dense one reads the 784 values flat
        self.inside_button.setEnabled(has_net and images)
        self.inside_button.setToolTip(TIP_INSIDE if images else TIP_INSIDE_FLAT)

        if not has_net or grad is None:
            self.view_saliency.set_text("no network")
            self.caption_saliency.setText("saliency ∂score/∂pixel")
            self.view_maps.set_text("")
            self.caption_maps.setText("first conv layer's feature maps")
            return
        self.view_saliency.set_image(rgb_to_qimage(saliency_overlay(steps.final, grad)))
        self.caption_saliency.setText(f"saliency ∂s<sub>{winner}</sub>/∂pixel "
                                      f"(<span style='color:{red}'>red +</span>, "
                                      f"<span style='color:#3b82f6'>blue −</span>)")
        if maps is None:
            self.view_maps.set_text("This network has no convolution layer, so there are no feature maps: "
                                    "its first layer sees all 784 pixels at once.")
            self.caption_maps.setText("first conv layer's feature maps")
        else:
            name, m = maps
            self.view_maps.set_image(rgb_to_qimage(feature_map_grid(m)))
            self.caption_maps.setText(f"'{name}': {m.shape[0]} feature maps of {m.shape[1]}×{m.shape[2]}")
