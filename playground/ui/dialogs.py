"""The main window's message boxes: errors, notes, the unsaved-changes question, the shortcuts list and About."""

from __future__ import annotations

import html

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

APP_TITLE = "NumPy Neural Network Playground"

#: the actions listed by :func:`show_shortcuts`, in this order
SHORTCUT_KEYS = ("new", "open", "save", "save_as", "undo", "redo", "delete", "duplicate", "move_up", "move_down",
                 "fix", "zoom_in", "zoom_out", "fit", "train_start", "train_stop", "train_step", "train_reset")


def error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.critical(parent, title, text)


def info(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def ask_to_save(parent: QWidget, name: str) -> str:
    """Ask whether to save the project ``name`` first: "save", "discard" or "cancel"."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.warning(parent, "Unsaved changes",
                                 f"The project “{name}” has unsaved changes.\nSave them first?",
                                 buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
    if answer == buttons.Save:
        return "save"
    return "discard" if answer == buttons.Discard else "cancel"


def show_shortcuts(parent: QWidget, actions: dict[str, QAction]) -> None:
    rows = []
    for key in SHORTCUT_KEYS:
        a = actions.get(key)
        if a is None:
            continue
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
        if keys:
            rows.append(f"<tr><td>{html.escape(a.text().replace('&', ''))}</td>"
                        f"<td>&nbsp;&nbsp;<b>{html.escape(keys)}</b></td></tr>")
    QMessageBox.information(parent, "Keyboard shortcuts", "<table>" + "".join(rows) + "</table>"
                            "<p>Ctrl+wheel zooms the network; drag blocks to reorder them.</p>")


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, f"About {APP_TITLE}",
                      f"<h3>{APP_TITLE}</h3><p>Build a neural network by drag-and-drop, train a "
                      "from-scratch NumPy network live, and watch it learn.</p>"
                      "<p>Following the book <i>Deep Learning from Scratch</i>.</p>")
