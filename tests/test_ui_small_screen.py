"""A 1024 x 700 screen: no tab or lab window scrolls sideways, no plot is clipped, no label is drawn over another."""

from __future__ import annotations

import numpy as np
import pytest
from pytestqt.exceptions import TimeoutError
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QScrollArea, QWidget


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    from test_ui_mainwindow import Messages, dispose

    from playground.ui import dialogs
    from playground.ui.app import make_application
    from playground.ui.mainwindow import MainWindow
    from playground.ui.settings import AppSettings

    monkeypatch.setattr(dialogs, "QMessageBox", Messages())
    made = []

    def make(width: int, height: int) -> MainWindow:
        make_application()
        w = MainWindow(settings=AppSettings(tmp_path / "settings.ini"))
        w.resize(width, height)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        dispose(w)


def box_in(widget: QWidget, ancestor: QWidget) -> QRect:
    """``widget``'s rectangle in ``ancestor``'s coordinates."""
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def digit_tab(qtbot, window) -> QScrollArea:
    window.show_tab(window.digit_pad)
    area = window.tabs.currentWidget()
    assert isinstance(area, QScrollArea) and area.widget() is window.digit_pad
    return area


def panels(pad) -> dict[str, QWidget]:
    return {"pad": pad.pad, "brush": pad.brush, "colours": pad.colours, "load": pad.load_button,
            "verdict": pad.verdict, "bars": pad.bars, "network": pad.network_box, "teach": pad.finetune_button,
            "steps": pad.explain.view_final, "saliency": pad.explain.view_saliency,
            "maps": pad.explain.view_maps}


def test_at_1024_by_700_the_digit_tab_wraps_its_panels_instead_of_scrolling_sideways(qtbot, make_window):
    from playground.ui.digits.pad import MIN_SIDE

    window = make_window(1024, 700)
    assert window.width() <= 1024 and window.height() <= 700
    area = digit_tab(qtbot, window)
    qtbot.waitUntil(lambda: window.digit_pad.width() <= area.viewport().width())
    assert area.horizontalScrollBar().maximum() == 0 and not area.horizontalScrollBar().isVisible()
    viewport = area.viewport().rect()
    for name, widget in panels(window.digit_pad).items():
        box = box_in(widget, area.viewport())
        assert viewport.left() <= box.left() and box.right() <= viewport.right(), name
    pad = window.digit_pad
    assert pad.pad.width() >= MIN_SIDE and pad.pad.height() >= MIN_SIDE
    assert pad.brush.width() >= 60  # the slider keeps room to be dragged
    # the pad and the bars side by side; what the network is given and why below them, read by scrolling down
    assert box_in(pad.bars, pad).left() > box_in(pad.pad, pad).right()
    assert box_in(pad.explain, pad).top() > box_in(pad.bars, pad).bottom()
    # below, the panel gets the height its width needs: no view runs over its caption
    ex = pad.explain
    for view, caption in ((ex.view_fit, ex.caption_fit), (ex.view_shift, ex.caption_shift),
                          (ex.view_saliency, ex.caption_saliency), (ex.view_maps, ex.caption_maps)):
        assert box_in(view, pad).bottom() < box_in(caption, pad).top(), caption.text()


def test_at_1600_by_1000_the_digit_tab_keeps_its_three_columns(qtbot, make_window):
    window = make_window(1600, 1000)
    area = digit_tab(qtbot, window)
    pad = window.digit_pad
    qtbot.waitUntil(lambda: pad.width() <= area.viewport().width() and not area.verticalScrollBar().isVisible())
    assert not area.horizontalScrollBar().isVisible()
    pad_box, bars, explain = (box_in(w, pad) for w in (pad.pad, pad.bars, pad.explain))
    assert pad_box.right() < bars.left() and bars.right() < explain.left()
    assert explain.top() < bars.bottom()
    assert pad_box.width() >= 400  # the wide screen makes the pad big


def plot_fits(plot) -> str:
    """"" when the plot's whole item (axes, title, the view, a key) lies inside the widget, else what sticks out."""
    item = plot.getPlotItem()
    inside = plot.rect().adjusted(-1, -1, 1, 1)
    parts = [("plot", item), ("title", item.titleLabel), ("view", item.getViewBox())]
    if item.legend is not None and item.legend.isVisible():
        parts.append(("key", item.legend))
    for name, part in parts:
        box = plot.mapFromScene(part.sceneBoundingRect()).boundingRect()
        if not inside.contains(box):
            return f"{name} {box} outside {plot.rect()}"
    label = item.titleLabel
    if label.isVisible() and label.item.boundingRect().width() > label.boundingRect().width() + 1:
        return f"title text {label.item.boundingRect().width():.0f} px wider than its label"
    return ""


def test_at_1024_by_700_no_training_plot_is_clipped_and_the_whole_matrix_shows(qtbot, make_window):
    from playground.engine.project import load_preset
    from playground.ui.dashboard.runs import Run

    window = make_window(1024, 700)
    window.show_tab(window.dashboard)
    dash = window.dashboard  # as during an MNIST run: five layers' statistics, a 10-class confusion matrix
    dash.health.prepare([f"dense{i}" for i in range(1, 6)], [f"dense{i}_relu" for i in range(1, 5)])
    matrix = np.eye(10, dtype=int) * 1000 + 3
    dash.confusion.set_matrix(matrix, tuple("0123456789"))
    run = Run(1, load_preset("mlp-mnist"), "#1f77b4")  # a live run: the accuracy plot wants its key
    dash.curves.show_runs([run], run)
    plots = {"loss": dash.curves.loss, "accuracy": dash.curves.acc, "learning rate": dash.curves.lr,
             "gradient norms": dash.health.grads, "confusion": dash.confusion}
    for name, plot in plots.items():
        try:
            qtbot.waitUntil(lambda: not plot_fits(plot), timeout=2000)
        except TimeoutError:
            pass
        assert not plot_fits(plot), f"{name}: {plot_fits(plot)}"
        assert plot.width() < 400, name  # the window is narrow: the test means something
    # every column of the matrix, the last one too, inside the part of the view that shows
    conf = dash.confusion
    shown = conf.mapFromScene(conf.getPlotItem().getViewBox().sceneBoundingRect()).boundingRect()
    cells = conf.mapFromScene(conf.image.sceneBoundingRect()).boundingRect()
    assert shown.adjusted(-1, -1, 1, 1).contains(cells) and conf.rect().contains(cells)


def test_a_count_bigger_than_its_cell_is_left_out_not_drawn_over_its_neighbours(qtbot):
    from playground.ui.dashboard.confusion import ConfusionView

    view = ConfusionView()
    qtbot.addWidget(view)
    view.set_matrix(np.eye(10, dtype=int) * 1000 + 3, tuple("0123456789"))
    view.resize(250, 160)  # cells of about 10 pixels: the diagonal's 1003 does not fit
    view.show()
    qtbot.waitExposed(view)
    view.grab()
    assert view.labels.drawn <= 90
    view.resize(700, 700)
    qtbot.waitUntil(lambda: view.grab() is not None and view.labels.drawn == 100)
    assert view.cell_text(9, 9) == "1003"


def test_at_1024_by_700_no_tab_scrolls_sideways(qtbot, make_window):
    window = make_window(1024, 700)
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        page = window.tabs.widget(i)
        area = page if isinstance(page, QScrollArea) else getattr(page, "scroll", None)
        if not isinstance(area, QScrollArea):  # the network editor: test_ui_newcomer
            continue
        name = window.tabs.tabText(i)
        try:
            qtbot.waitUntil(lambda: area.horizontalScrollBar().maximum() == 0, timeout=2000)
        except TimeoutError:
            pass
        assert area.horizontalScrollBar().maximum() == 0, (name, area.widget().minimumSizeHint())


def test_the_labs_fit_the_screen_and_the_perceptron_lab_does_not_scroll_sideways(qtbot):
    from PySide6.QtWidgets import QApplication

    from playground.ui.labs.window import LabsWindow

    labs = LabsWindow()
    qtbot.addWidget(labs)
    room = QApplication.primaryScreen().availableGeometry()
    assert labs.width() <= room.width() and labs.height() <= room.height()
    labs.resize(1004, 660)  # a maximized window on a 1024 x 700 screen
    page = labs.open_lab("perceptron")  # it runs at once: four gates side by side with their formulas and tables
    qtbot.waitUntil(lambda: "3 of 4" in page.verdict.text(), timeout=30000)
    areas = page.findChildren(QScrollArea)
    assert areas
    for area in areas:
        qtbot.waitUntil(lambda: area.horizontalScrollBar().maximum() == 0)
    labs.shutdown()


def test_a_narrow_axis_labels_its_ticks_a_label_and_a_half_apart(qtbot):
    import pyqtgraph as pg
    from PySide6.QtGui import QFontMetrics

    from playground.ui.dashboard.plotting import RoomyAxis

    axis = RoomyAxis("bottom")
    width = QFontMetrics(axis.font()).horizontalAdvance("0.2")
    plain = pg.AxisItem("bottom").tickSpacing(0.0, 1.0, 70)  # a histogram 70 px wide in a narrow window
    assert plain[0][0] * 70 < 1.5 * width  # pyqtgraph would label 0.2, 0.4, ... on top of each other
    step, _ = axis.tickSpacing(0.0, 1.0, 70)[0]
    assert step * 70 >= 1.5 * width
    assert axis.tickSpacing(0.0, 1.0, 700) == pg.AxisItem("bottom").tickSpacing(0.0, 1.0, 700)  # room: unchanged


def test_the_search_labs_trial_table_fits_beside_its_settings_on_a_small_screen(qtbot):
    from playground.engine.project import load_preset
    from playground.ui.builder.document import ProjectDocument
    from playground.ui.search_lab.table import TrialTable
    from playground.ui.search_lab.widget import SearchLabWidget

    lab = SearchLabWidget(ProjectDocument(load_preset("simple-convnet")))
    qtbot.addWidget(lab)
    lab.resize(1004, 660)  # maximized on a 1024 x 700 screen
    lab.show()
    qtbot.waitExposed(lab)
    table = lab.findChild(TrialTable)
    table.show_records([{"trial": i, "sampler": "random", "params": {"lr": 10 ** -(2 + i / 7), "weight_decay": 1e-6},
                         "val_accuracy": 0.9 + i / 1000, "val_loss": 0.31, "train_accuracy": 0.95,
                         "status": "finished", "seconds": 12.3, "worker": "local-1"} for i in range(5)])
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() == 0)
    lab.shutdown()
