"""Every plot's right-click menu saves a PNG, an SVG and its data as CSV; a run's metrics save as CSV or JSON lines."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QMenu

from playground.engine.project import load_preset
from playground.ui import plotexport
from playground.ui.dashboard import history
from playground.ui.dashboard.confusion import ConfusionView
from playground.ui.dashboard.dashboard import TrainingDashboard
from playground.ui.dashboard.health import HealthPanel
from playground.ui.dashboard.history import RunsPanel
from playground.ui.dashboard.model_views import BoundaryView
from playground.ui.dashboard.plotting import make_plot
from playground.ui.dashboard.runs import Run
from playground.ui.optimizer_lab.widget import OptimizerLabWidget
from test_ui_mainwindow import messages  # noqa: F401 (the fixture)


class SaveDialogs:
    """Stands in for QFileDialog in a module: answers ``answer`` (and the filter ``chosen``), records the calls."""

    def __init__(self, answer: Path | str, chosen: str = ""):
        self.answer, self.chosen = str(answer), chosen
        self.asked: list[tuple[str, str, str]] = []

    def getSaveFileName(self, parent, caption, start, filters):
        self.asked.append((caption, start, filters))
        return self.answer, self.chosen or filters.split(";;")[0]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def choose(qtbot, view: pg.GraphicsView, kind: str) -> None:
    """Right-click the middle of ``view`` and click the menu's ``kind`` entry, as a person would."""
    saver = view.plot_saver
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.RightButton, pos=view.viewport().rect().center())
    qtbot.waitUntil(saver.menu.isVisible)
    action = saver.actions[kind]
    qtbot.mouseClick(saver.menu, Qt.MouseButton.LeftButton, pos=saver.menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not saver.menu.isVisible())


@pytest.fixture
def loss_plot(shown):
    w = make_plot("Loss", "loss")
    w.getPlotItem().setLogMode(y=True)
    w.getPlotItem().addItem(pg.PlotDataItem([1, 2, 3], [0.5, 0.25, 0.125], name="Run 1 loss"))
    w.getPlotItem().addItem(pg.PlotDataItem([1, 2], [0.6, float("nan")]))
    return shown(w, 420, 300)


def test_csv_holds_the_numbers_drawn_not_their_logarithms(loss_plot, qtbot, tmp_path, monkeypatch):
    picker = SaveDialogs(tmp_path / "loss")
    monkeypatch.setattr(plotexport, "QFileDialog", picker)
    choose(qtbot, loss_plot, "csv")
    assert picker.asked[0][1].endswith("loss.csv")
    assert read_csv(tmp_path / "loss.csv") == [
        ["plot", "series", "x", "y"],
        ["Loss", "Run 1 loss", "1.0", "0.5"], ["Loss", "Run 1 loss", "2.0", "0.25"],
        ["Loss", "Run 1 loss", "3.0", "0.125"],
        ["Loss", "curve 1", "1.0", "0.6"], ["Loss", "curve 1", "2.0", ""]]


def test_png_and_svg_are_pictures_of_the_plot(loss_plot, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(plotexport, "QFileDialog", SaveDialogs(tmp_path / "loss.png"))
    choose(qtbot, loss_plot, "png")
    image = QImage(str(tmp_path / "loss.png"))
    ratio = loss_plot.devicePixelRatioF()
    assert (image.width(), image.height()) == (round(420 * ratio), round(300 * ratio))
    monkeypatch.setattr(plotexport, "QFileDialog", SaveDialogs(tmp_path / "loss.svg"))
    choose(qtbot, loss_plot, "svg")
    svg = tmp_path / "loss.svg"
    assert QSvgRenderer(str(svg)).isValid()
    texts = {"".join(t.itertext()).strip() for t in ET.parse(svg).iter("{http://www.w3.org/2000/svg}text")}
    assert {"Loss", "loss", "epoch"} <= texts, "title and axis labels stay text"
    assert not list(ET.parse(svg).iter("{http://www.w3.org/2000/svg}image")), "no axis pasted in as a picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "loss.svg"]


def test_a_right_drag_zooms_and_opens_no_menu(loss_plot, qtbot):
    vp = loss_plot.viewport()
    start = vp.rect().center()
    qtbot.mousePress(vp, Qt.MouseButton.RightButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(40, 30))
    qtbot.mouseRelease(vp, Qt.MouseButton.RightButton, pos=start + QPoint(40, 30))
    assert not loss_plot.plot_saver.menu.isVisible()
    assert not loss_plot.getPlotItem().vb.menuEnabled(), "pyqtgraph's own menu would open as well"


def test_the_confusion_matrix_saves_its_cells(shown, qtbot, tmp_path, monkeypatch):
    view = shown(ConfusionView(), 360, 320)
    view.set_matrix(np.array([[5, 1], [0, 0]]), ("cat", "dog"))
    monkeypatch.setattr(plotexport, "QFileDialog", SaveDialogs(tmp_path / "m.csv"))
    choose(qtbot, view, "csv")
    assert read_csv(tmp_path / "m.csv") == [["true", "predicted", "count", "share_of_row"],
                                            ["cat", "cat", "5", str(5 / 6)], ["cat", "dog", "1", str(1 / 6)],
                                            ["dog", "cat", "0", ""], ["dog", "dog", "0", ""]]
    monkeypatch.setattr(plotexport, "QFileDialog", SaveDialogs(tmp_path / "m.svg"))
    choose(qtbot, view, "svg")
    texts = ["".join(t.itertext()).strip() for t in ET.parse(tmp_path / "m.svg").iter("{http://www.w3.org/2000/svg}text")]
    assert texts.count("5") >= 1 and "1" in texts, "the painted counts are in the drawing"


def test_histograms_save_bin_centres_per_layer(shown, qtbot, tmp_path, monkeypatch):
    panel = shown(HealthPanel(), 500, 500)
    panel.prepare([], ["relu1", "relu2"])
    for layer, counts in (("relu1", [1, 3]), ("relu2", [2, 0])):
        panel._hist_plots[layer][1].setData([0.0, 0.5, 1.0], counts, stepMode="center")
    monkeypatch.setattr(plotexport, "QFileDialog", SaveDialogs(tmp_path / "h.csv"))
    choose(qtbot, panel.hists, "csv")
    assert read_csv(tmp_path / "h.csv")[1:] == [["relu1", "curve 1", "0.25", "1.0"], ["relu1", "curve 1", "0.75", "3.0"],
                                                ["relu2", "curve 1", "0.25", "2.0"], ["relu2", "curve 1", "0.75", "0.0"]]


def test_the_decision_boundary_saves_its_points_with_their_class(shown, qtbot, tmp_path, monkeypatch):
    view = shown(BoundaryView(), 360, 320)
    x_train, x_val = np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([[4.0, 5.0]])
    data = SimpleNamespace(n_classes=2, x_train=x_train, y_train=np.array([0, 1]), x_val=x_val, y_val=np.array([1]),
                           points=lambda which: {"train": x_train, "val": x_val}[which])
    view.set_data(data)
    monkeypatch.setattr(plotexport, "QFileDialog", SaveDialogs(tmp_path / "b.csv"))
    choose(qtbot, view, "csv")
    assert read_csv(tmp_path / "b.csv") == [["set", "x1", "x2", "class"], ["training", "0.0", "1.0", "0"],
                                            ["training", "2.0", "3.0", "1"], ["validation", "4.0", "5.0", "1"]]


def test_a_folder_that_takes_no_files_is_a_dialog(loss_plot, qtbot, tmp_path, monkeypatch, messages):  # noqa: F811
    monkeypatch.setattr(plotexport, "QFileDialog", SaveDialogs(tmp_path / "missing" / "loss.csv"))
    choose(qtbot, loss_plot, "csv")
    assert messages.kinds() == ["critical"] and "loss.csv" in messages.shown[0][2]
    assert list(tmp_path.iterdir()) == []


def test_every_plot_of_the_dashboard_and_the_lab_has_the_menu(qtbot):
    for widget in (TrainingDashboard(), OptimizerLabWidget()):
        qtbot.addWidget(widget)
        views = [v for v in widget.findChildren(pg.GraphicsView)]
        assert len(views) >= (6 if isinstance(widget, TrainingDashboard) else 2)
        assert all(isinstance(getattr(v, "plot_saver", None), plotexport.PlotSaver) for v in views), \
            [type(v).__name__ for v in views if not hasattr(v, "plot_saver")]


def finished_run() -> Run:
    run = Run(number=3, project=load_preset("spiral"), color="#1f77b4")
    run.add_epoch({"epoch": 1, "loss": 0.9, "accuracy": 0.5, "running_loss": 1.0, "running_accuracy": 0.4,
                   "val_loss": 0.95, "val_accuracy": 0.45})
    run.add_epoch({"epoch": 2, "loss": float("nan"), "accuracy": 0.75, "running_loss": 0.6, "running_accuracy": 0.7,
                   "val_loss": 0.5, "val_accuracy": 0.8})
    return run


@pytest.mark.parametrize("name,chosen", [("metrics.csv", ""), ("metrics", "JSON lines (*.jsonl)")])
def test_a_runs_metrics_save_per_epoch(name, chosen, shown, qtbot, tmp_path, monkeypatch):
    panel = shown(RunsPanel(), 700, 200)
    panel.add_run(finished_run())
    picker = SaveDialogs(tmp_path / name, chosen)
    monkeypatch.setattr(history, "QFileDialog", picker)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert picker.asked[0][0] == "Save the metrics of Run 3"
    keys = ["epoch", "loss", "accuracy", "running_loss", "running_accuracy", "val_loss", "val_accuracy"]
    if name.endswith(".csv"):
        assert read_csv(tmp_path / name) == [keys, ["1", "0.9", "0.5", "1.0", "0.4", "0.95", "0.45"],
                                             ["2", "", "0.75", "0.6", "0.7", "0.5", "0.8"]]
    else:
        lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == [
            dict(zip(keys, [1, 0.9, 0.5, 1.0, 0.4, 0.95, 0.45])), dict(zip(keys, [2, None, 0.75, 0.6, 0.7, 0.5, 0.8]))]


def test_the_runs_table_context_menu_saves_metrics(shown, qtbot, tmp_path, monkeypatch):
    panel = shown(RunsPanel(), 700, 200)
    panel.add_run(finished_run())
    monkeypatch.setattr(history, "QFileDialog", SaveDialogs(tmp_path / "m.csv"))
    item_rect = panel.tree.visualItemRect(panel.tree.topLevelItem(0))
    panel.tree.customContextMenuRequested.emit(item_rect.center())
    menu = next(m for m in QApplication.topLevelWidgets() if isinstance(m, QMenu) and m.isVisible())
    action = next(a for a in menu.actions() if a.text().startswith("Save metrics"))
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: (tmp_path / "m.csv").exists())
    assert read_csv(tmp_path / "m.csv")[0][0] == "epoch"


def test_the_loss_plot_names_each_curve_of_a_run(shown, qtbot, tmp_path, monkeypatch):
    from playground.ui.dashboard.curves import CurvesPanel

    panel = shown(CurvesPanel(), 700, 500)
    run = finished_run()
    run.add_batches({"steps": [1, 2], "loss": [1.0, 0.8], "accuracy": [0.3, 0.5], "epoch_pos": [0.5, 1.0],
                     "lr": [0.1, 0.1]})
    panel.show_runs([run], run)
    panel.refresh()
    monkeypatch.setattr(plotexport, "QFileDialog", SaveDialogs(tmp_path / "loss.csv"))
    choose(qtbot, panel.loss, "csv")
    series = {row[1] for row in read_csv(tmp_path / "loss.csv")[1:]}
    assert series == {"Run 3 batch loss", "Run 3 batch loss, running mean", "Run 3 training loss",
                      "Run 3 validation loss"}
