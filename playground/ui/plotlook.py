"""The colours of pyqtgraph plots in the app's light and dark look, applied in one place.

:data:`LOOKS` holds them; :func:`use_look` is told by the app's theme
(:class:`playground.ui.theme.Theme`) which look it shows and sets pyqtgraph's
defaults to match; :func:`dark_look` tells it back; :func:`restyle` gives a
plot (background, axes and their labels, title, legend) the current look. The
dashboard and the optimizer lab take their colours from here. This module
knows nothing of the theme: the theme imports it, never the reverse.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QGraphicsTextItem

LOOKS = {
    False: {"bg": "w", "axis": "#555555", "text": "#333333", "title": "#222222", "muted": "#777777",
            "legend": (255, 255, 255, 200), "cells": ("#ffffff", "#08519c"), "bad": "#bb0000"},
    True: {"bg": "#1b1e24", "axis": "#8a93a5", "text": "#d6dae2", "title": "#e6e9ef", "muted": "#8a93a5",
           "legend": (27, 30, 36, 210), "cells": ("#1b1e24", "#2f7fe0"), "bad": "#f87171"},
}


#: the look the app shows now, as :func:`use_look` was last told (light until a theme says otherwise)
_current = {"dark": False}


def use_look(dark: bool) -> None:
    """Show the dark (or light) look from now on: pyqtgraph's defaults for new plots, and :func:`dark_look`."""
    _current["dark"] = bool(dark)
    pg.setConfigOption("background", LOOKS[_current["dark"]]["bg"])
    pg.setConfigOption("foreground", LOOKS[_current["dark"]]["text"])


def dark_look() -> bool:
    """Whether the app shows its dark look."""
    return _current["dark"]


def look() -> dict:
    return LOOKS[dark_look()]


#: a title's point sizes, largest first: the first at which it fits the plot's width is used
TITLE_POINTS = (10, 9, 8)


@functools.lru_cache(maxsize=256)
def title_width(title_html: str, points: int) -> float:
    """Pixels ``title_html`` takes as a plot's title at ``points``, measured as pyqtgraph lays it out."""
    item = QGraphicsTextItem()
    item.setHtml(f"<span style='font-size: {points}pt'>{title_html}</span>")
    return item.boundingRect().width()


def fitting_title(w: pg.PlotWidget, title_html: str) -> tuple[str, int]:
    """The title and point size to show over ``w`` at its width: the whole title, smaller if need be, else
    only its bold part (``<b>Confusion matrix</b> (validation)`` → Confusion matrix); the plot's own
    minimum width is its title's, so a longer title would push the plot out of its widget."""
    item = w.getPlotItem()
    axes = sum(item.getAxis(name).width() for name in ("left", "right") if item.getAxis(name).isVisible())
    room = w.width() - axes - 8
    bold = title_html.split("</b>", 1)[0] + "</b>" if title_html.startswith("<b>") else title_html
    tries = [(title_html, p) for p in TITLE_POINTS[:2]] + [(bold, p) for p in TITLE_POINTS]
    return next((t for t in tries if title_width(*t) <= room), tries[-1])


class _TitleFitter(QObject):
    """Fits a plot's title to its width each time the plot is resized."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and getattr(watched, "_title_html", None):
            set_title(watched, watched._title_html)
        return False


def set_title(w: pg.PlotWidget, title_html: str) -> None:
    """A plot's title, in the colour of the current look and as much of it as fits the plot's width (set
    only when it changes: a new title lays the plot out again)."""
    w._title_html = title_html
    if getattr(w, "_title_fitter", None) is None:
        w._title_fitter = _TitleFitter(w)
        w.installEventFilter(w._title_fitter)
    text, points = fitting_title(w, title_html)
    shown = (text, points, look()["title"])
    if getattr(w, "_title_shown", None) != shown:
        w._title_shown = shown
        w.getPlotItem().setTitle(text, size=f"{points}pt", color=shown[2])


def restyle(w: pg.PlotWidget | pg.GraphicsLayoutWidget, items: Iterable[pg.PlotItem] = ()) -> None:
    """Background, axes, title and legend of ``w`` (and of its plot ``items``) in the current look."""
    lk = look()
    w.setBackground(lk["bg"])
    plots = [w.getPlotItem()] if isinstance(w, pg.PlotWidget) else []
    for item in plots + list(items):
        for name in ("left", "bottom"):
            ax = item.getAxis(name)
            ax.setPen(lk["axis"])
            ax.setTextPen(lk["text"])
            # setPen and setTextPen keep an axis label's own colour: give it the look's
            ax.labelStyle["color"] = lk["text"]
            ax._updateLabel()
        legend = item.legend
        if legend is not None:
            legend.setBrush(pg.mkBrush(*lk["legend"]))
            legend.setLabelTextColor(lk["title"])
            for _sample, label in legend.items:  # setLabelTextColor alone does not redraw existing labels
                label.setText(label.text, color=lk["title"])
    if isinstance(w, pg.PlotWidget) and getattr(w, "_title_html", None):
        set_title(w, w._title_html)
