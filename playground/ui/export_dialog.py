"""File ▸ Export Trained Network: ONNX, NumPy or PyTorch, with the NumPy and PyTorch code side by side.

The two code previews are the lesson: the network trained here written out
the book's way in NumPy (im2col, one function per layer) beside the same
network as a PyTorch ``nn.Module``, the framework a student learns next.
Nothing is written until Export is pressed, and then all of the format's
files or none (:func:`playground.engine.export.files.export_network`).
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from pathlib import Path

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QRadioButton, QSplitter, QVBoxLayout, QWidget)

from playground.engine.errors import PlaygroundError
from playground.engine.export.files import FORMATS, export_network, render
from playground.engine.nn.network import Network
from playground.ui import dialogs
from playground.ui.plotlook import dark_look

#: what to type when the onnx package is missing (from a checkout of the project)
ONNX_INSTALL = 'pip install -e ".[export]"'
LABELS = {"onnx": "ONNX", "numpy": "NumPy", "pytorch": "PyTorch"}
TIPS = {
    "onnx": "One .onnx file: a graph of standard operators (Gemm, Conv, MaxPool, …) that onnxruntime, model "
            "viewers such as Netron, and most frameworks read. Input 'input', output 'probabilities', any batch size.",
    "numpy": "One .py file that needs only NumPy: the forward pass written the book's way (x·W + b, im2col for "
             "convolutions) with predict(x) → probabilities; the weights go beside it as NAME_weights.npz.",
    "pytorch": "One .py file with a torch.nn.Module of the same layers and load_model(), which reads the weights "
               "beside it (NAME_weights.npz): load_model().eval()(torch.from_numpy(x)) gives predict(x)'s numbers.",
}
FILTERS = {"onnx": "ONNX models (*.onnx)", "numpy": "Python files (*.py)", "pytorch": "Python files (*.py)"}


def onnx_installed() -> bool:
    """Whether the onnx package can be imported (the ONNX format needs it)."""
    return importlib.util.find_spec("onnx") is not None


def file_stem(name: str) -> str:
    """A Python module name from a project's name (``simple-convnet`` → ``simple_convnet``)."""
    stem = re.sub(r"\W", "_", name).strip("_") or "network"
    if stem[0].isdigit() or keyword.iskeyword(stem):
        stem = f"net_{stem}"
    return stem


def default_path(folder: str | Path, stem: str, fmt: str) -> Path:
    """Where a format's file goes by default: ``stem.onnx``, ``stem.py`` or ``stem_torch.py`` in ``folder``."""
    return Path(folder) / (f"{stem}_torch.py" if fmt == "pytorch" else f"{stem}{FORMATS[fmt][0]}")


class PythonHighlighter(QSyntaxHighlighter):
    """Python keywords, comments, strings and numbers in colour (docstrings over several lines too)."""

    def __init__(self, document: QTextDocument):
        super().__init__(document)
        dark = dark_look()
        colors = {"keyword": "#c792ea" if dark else "#7c3aed", "string": "#c3e88d" if dark else "#047857",
                  "comment": "#8a93a5" if dark else "#6b7280", "number": "#f78c6c" if dark else "#b45309"}
        self.formats = {}
        for name, color in colors.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            if name == "keyword":
                fmt.setFontWeight(QFont.Weight.Bold)
            if name == "comment":
                fmt.setFontItalic(True)
            self.formats[name] = fmt
        words = "|".join(keyword.kwlist + ["self"])
        self.rules = [
            (QRegularExpression(rf"\b(?:{words})\b"), "keyword"),
            (QRegularExpression(r"\b[0-9][0-9_]*(?:\.[0-9]*)?(?:e[-+]?[0-9]+)?\b"), "number"),
            (QRegularExpression(r"'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\""), "string"),
            (QRegularExpression(r"#[^\n]*"), "comment"),
        ]
        self.triple = QRegularExpression('"""')

    def highlightBlock(self, text: str) -> None:
        for pattern, name in self.rules:
            matches = pattern.globalMatch(text)
            while matches.hasNext():
                m = matches.next()
                self.setFormat(m.capturedStart(), m.capturedLength(), self.formats[name])
        self._docstrings(text)

    def _docstrings(self, text: str) -> None:
        """Text between triple quotes is a string, across lines (block state 1: inside one)."""
        inside = self.previousBlockState() == 1
        start = 0
        self.setCurrentBlockState(0)
        while start <= len(text):
            m = self.triple.match(text, start)
            if inside:
                end = m.capturedEnd() if m.hasMatch() else len(text)
                self.setFormat(start, end - start, self.formats["string"])
                if not m.hasMatch():
                    self.setCurrentBlockState(1)
                    return
                inside, start = False, end
            elif m.hasMatch():
                inside, start = True, m.capturedStart()
                self.setFormat(start, 3, self.formats["string"])
                start += 3
            else:
                return


class CodePane(QWidget):
    """A heading and a read-only, monospaced, highlighted view of one generated file."""

    def __init__(self, heading: str, tip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.heading = QLabel(heading)
        self.heading.setWordWrap(True)
        self.heading.setToolTip(tip)
        self.code = QPlainTextEdit()
        self.code.setReadOnly(True)
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.code.setToolTip(tip)
        self.highlighter = PythonHighlighter(self.code.document())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.heading)
        lay.addWidget(self.code, 1)

    def text(self) -> str:
        return self.code.toPlainText()

    def show_code(self, text: str, anchor: str) -> None:
        """Show ``text`` with the line starting ``anchor`` (the forward pass) at the top of the view."""
        self.code.setPlainText(text)
        found = self.code.document().find(anchor)
        if found.isNull():
            return
        self.code.moveCursor(found.MoveOperation.End)  # scrolling back up leaves the anchor's line at the top
        found.movePosition(found.MoveOperation.StartOfLine)
        self.code.setTextCursor(found)


class ExportDialog(QDialog):
    """Export ``net`` (titled ``title``) to a format and path the user chooses; ``written`` lists the files after Export."""

    def __init__(self, net: Network, title: str, folder: str | Path, about: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export trained network")
        self.net, self.title = net, title
        self.stem = file_stem(title)
        self.written: list[Path] = []
        self._previewed: str | None = None
        intro = QLabel(f"Take the trained network{f' ({about})' if about else ''} into the tools you use next. "
                       "Both code files below compute the same probabilities as the playground, within 1e-5.")
        intro.setWordWrap(True)

        self.buttons = QButtonGroup(self)
        self.choice: dict[str, QRadioButton] = {}
        row = QHBoxLayout()
        row.addWidget(QLabel("Format:"))
        for fmt in FORMATS:
            button = QRadioButton(LABELS[fmt])
            button.setToolTip(TIPS[fmt])
            self.buttons.addButton(button)
            self.choice[fmt] = button
            row.addWidget(button)
        row.addStretch(1)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.onnx_note = QLabel(f"ONNX needs the onnx package, which is not installed. Install it with "
                                f"<code>{ONNX_INSTALL}</code> in the app's folder (or <code>pip install onnx</code>), "
                                f"then export again.")
        self.onnx_note.setWordWrap(True)
        self.onnx_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.onnx_note.setStyleSheet(f"color: {'#f87171' if dark_look() else '#bb0000'}")

        self.path = QLineEdit(str(default_path(folder, self.stem, "numpy")))
        self.path.setToolTip("The file to write; the code formats put their weights beside it as NAME_weights.npz")
        self.path.editingFinished.connect(self._path_edited)
        self.browse = QPushButton("Choose…")
        self.browse.clicked.connect(self.choose_path)
        path_row = QHBoxLayout()
        path_row.addWidget(QLabel("Save as:"))
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)

        self.numpy_pane = CodePane(
            "<b>NumPy</b>: the book's way, every layer written out (x·W + b, im2col for convolutions)",
            TIPS["numpy"])
        self.torch_pane = CodePane("<b>PyTorch</b>: the same network in the framework you learn next", TIPS["pytorch"])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.numpy_pane)
        self.splitter.addWidget(self.torch_pane)
        self.splitter.setChildrenCollapsible(False)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(self.onnx_note.styleSheet())
        self.problem.hide()

        self.box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.box.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.box.accepted.connect(self.export)
        self.box.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(row)
        lay.addWidget(self.about)
        lay.addWidget(self.onnx_note)
        lay.addLayout(path_row)
        lay.addWidget(self.problem)
        lay.addWidget(self.splitter, 1)
        lay.addWidget(self.box)
        self.buttons.buttonToggled.connect(self._format_toggled)
        self.choice["numpy"].setChecked(True)
        room = self.screen().availableGeometry()  # a small screen gets a dialog that fits it
        self.resize(min(1100, room.width() - 40), min(680, room.height() - 60))

    # ------------------------------------------------------------ state
    def format(self) -> str:
        return next(fmt for fmt, button in self.choice.items() if button.isChecked())

    def set_format(self, fmt: str) -> None:
        self.choice[fmt].setChecked(True)

    def _format_toggled(self, button: QRadioButton, checked: bool) -> None:
        if not checked:
            return
        fmt = self.format()
        current = Path(self.path.text().strip() or default_path(".", self.stem, fmt))
        stem = current.stem.removesuffix("_torch") if current.suffix in (".py", ".onnx") else self.stem
        self.path.setText(str(default_path(current.parent, stem or self.stem, fmt)))
        self.about.setText(TIPS[fmt])
        missing = fmt == "onnx" and not onnx_installed()
        self.onnx_note.setVisible(missing)
        self.export_button.setEnabled(not missing)
        self.numpy_pane.heading.setEnabled(fmt != "pytorch")
        self.torch_pane.heading.setEnabled(fmt != "numpy")
        self.refresh_preview()

    def _path_edited(self) -> None:
        self.refresh_preview()

    def choose_path(self) -> None:
        fmt = self.format()
        path, _ = QFileDialog.getSaveFileName(self, f"Export as {LABELS[fmt]}", self.path.text(),
                                              f"{FILTERS[fmt]};;All files (*)")
        if not path:
            return
        if not Path(path).suffix:
            path += FORMATS[fmt][0]
        self.path.setText(path)
        self.refresh_preview()

    # ------------------------------------------------------------ preview and export
    def preview_stem(self) -> str:
        """The module name the previews import from: the chosen file's, where it is one."""
        stem = Path(self.path.text().strip()).stem.removesuffix("_torch")
        return stem if stem.isidentifier() and not keyword.iskeyword(stem) else self.stem

    def refresh_preview(self) -> None:
        """Generate both code files (nothing is written) and show them; a network that cannot be
        translated shows why instead."""
        stem = self.preview_stem()
        if self._previewed == stem:
            return
        self._previewed = stem
        try:
            numpy_files = render(self.net, "numpy", Path(f"{stem}.py"), self.title)
            torch_files = render(self.net, "pytorch", Path(f"{stem}_torch.py"), self.title)
        except PlaygroundError as e:
            self.problem.setText(f"This network cannot be exported: {e}")
            self.problem.show()
            for pane in (self.numpy_pane, self.torch_pane):
                pane.code.setPlainText("")
            return
        self.problem.hide()
        self.numpy_pane.show_code(numpy_files[Path(f"{stem}.py")].decode("utf-8"), "def forward(")
        self.torch_pane.show_code(torch_files[Path(f"{stem}_torch.py")].decode("utf-8"), "    def __init__(")

    def export(self) -> None:
        """Write the chosen format's files; a problem goes to a dialog, nothing is written and the dialog stays."""
        fmt = self.format()
        text = self.path.text().strip()
        if not text:
            dialogs.error(self, "Cannot export the network",
                          f"No file is chosen. Type a path or press Choose…, like {self.stem}{FORMATS[fmt][0]}.")
            return
        path = Path(text).expanduser()
        if not path.suffix:
            path = path.with_suffix(FORMATS[fmt][0])
        try:
            self.written = export_network(self.net, fmt, path, title=self.title)
        except PlaygroundError as e:
            dialogs.error(self, "Cannot export the network", f"Nothing was written: {e}")
            return
        self.accept()
