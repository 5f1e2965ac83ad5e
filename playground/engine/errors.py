"""User-facing errors. Each message says what was expected and what was received.

The command line turns a :class:`PlaygroundError` into one line on stderr and
exit status 2; the app shows it in a message box. Anything else is a bug.
"""


class PlaygroundError(Exception):
    """A user's mistake (a bad file, setting or shape), not a bug."""


class SpecError(PlaygroundError):
    """A network spec or setting that cannot be built."""


class ShapeError(SpecError):
    """A layer whose input shape does not fit it."""

    def __init__(self, message: str, layer_index: int | None = None, layer_name: str | None = None,
                 fix: dict | None = None):
        super().__init__(message)
        self.layer_index = layer_index
        self.layer_name = layer_name
        # A suggested one-click fix, e.g. {"insert": {"type": "Flatten"}, "at": 3}.
        self.fix = fix


class DataError(PlaygroundError):
    """A data set that is missing or malformed."""


class FileFormatError(PlaygroundError):
    """A model or project file that is corrupt, truncated or foreign."""


class ExportError(PlaygroundError):
    """A network, or a place to write it, that an export format cannot take."""
