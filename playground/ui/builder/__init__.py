"""The network builder: palette, canvas (scene, items) and inspector."""

from playground.ui.builder.canvas import NetworkCanvas
from playground.ui.builder.inspector import Inspector
from playground.ui.builder.palette import LayerPalette
from playground.ui.builder.scene import NetworkScene

__all__ = ["Inspector", "LayerPalette", "NetworkCanvas", "NetworkScene"]
