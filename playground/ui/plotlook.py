"""The colours of pyqtgraph plots in the app's light and dark look, applied in one place.

:data:`LOOKS` holds them; :func:`use_look` is told by the app's theme
(:class:`playground.ui.theme.Theme`) which look it shows and sets pyqtgraph's
defaults to match; :func:`dark_look` tells it back; :func:`restyle` gives a
plot (background, axes and their labels, title, legend) the current look. The
dashboard and the optimizer lab take their colours from here. This module
knows nothing of the theme: the theme imports it, never the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg

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


def set_title(w: pg.PlotWidget, title_html: str) -> None:
    """A plot's title, in the colour of the current look (set only when it changes: a new title lays
    the plot out again)."""
    w._title_html = title_html
    shown = (title_html, look()["title"])
    if getattr(w, "_title_shown", None) != shown:
        w._title_shown = shown
        w.getPlotItem().setTitle(title_html, size="10pt", color=shown[1])


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
