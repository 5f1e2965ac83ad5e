"""The network builder: palette, canvas (scene, items) and inspector."""

from .canvas import NetworkCanvas
from .inspector import Inspector
from .palette import LayerPalette
from .scene import NetworkScene

__all__ = ["Inspector", "LayerPalette", "NetworkCanvas", "NetworkScene"]
