"""Draw a digit and watch the network read it.

:class:`DigitPadWidget` is the tab: a drawing pad, ten live probability bars,
the MNIST-style preprocessing step by step, a saliency map and the first
convolution layer's feature maps, and a panel to save one's own digits and
fine-tune on them. ``python -m playground.ui.digits`` opens it alone.
"""

from playground.ui.digits.widget import DigitPadWidget

__all__ = ["DigitPadWidget"]
