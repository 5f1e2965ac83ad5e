"""A 1024 x 700 screen: no tab or lab window scrolls sideways, no plot is clipped, no label is drawn over another."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QScrollArea, QTabWidget, QWidget


@pytest.fixture
def make_window(main_windows):
    return lambda width, height: main_windows(width=width, height=height)


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
        def fits(plot=plot, name=name) -> None:
            assert not plot_fits(plot), f"{name}: {plot_fits(plot)}"

        qtbot.waitUntil(fits, timeout=2000)  # waits while the callback raises, and reports its last assertion
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


def explain_bundled_model(cnn) -> None:
    """The CNN explainer reads one image with the bundled 14-block digit model (no MNIST needed)."""
    from playground.ui.digits.models import load_bundled

    bundled = load_bundled()
    assert bundled.net is not None, bundled.message
    cnn.set_samples(np.random.default_rng(0).uniform(size=(2, 1, 28, 28)).astype(np.float32), np.array([3, 7]))
    cnn.set_network(bundled.net, bundled.label)


def scroll_areas(tabs: QTabWidget) -> list[tuple[str, QWidget, QScrollArea]]:
    """(name, page, its scroll area) for every tab and sub-tab (the Inside tab's) that has one."""
    found = []
    for i in range(tabs.count()):
        page, name = tabs.widget(i), tabs.tabText(i)
        if isinstance(page, QTabWidget):
            found += [(f"{name} ▸ {sub}", p, a) for sub, p, a in scroll_areas(page)]
            continue
        area = page if isinstance(page, QScrollArea) else getattr(page, "scroll", None)
        if isinstance(area, QScrollArea):  # not the network editor: test_ui_newcomer
            found.append((name, page, area))
    return found


def bring_forward(page: QWidget) -> None:
    """Make ``page`` the current tab of every tab widget it lies in."""
    w = page
    while w is not None:
        parent = w.parentWidget()
        tabs = parent.parentWidget() if parent is not None else None
        if isinstance(tabs, QTabWidget) and tabs.indexOf(w) >= 0:
            tabs.setCurrentWidget(w)
        w = parent


def test_at_1024_by_700_no_tab_scrolls_sideways(qtbot, make_window):
    window = make_window(1024, 700)
    explain_bundled_model(window.inside_page.cnn)
    areas = scroll_areas(window.tabs)
    assert "Inside ▸ CNN channels" in [name for name, _, _ in areas]
    for name, page, area in areas:
        bring_forward(page)
        def no_sideways_scroll(area=area, name=name) -> None:
            assert area.horizontalScrollBar().maximum() == 0, (name, area.widget().minimumSizeHint())

        qtbot.waitUntil(no_sideways_scroll, timeout=2000)


def test_at_1024_by_700_the_cnn_channels_wrap_their_layers_and_a_click_still_explains(qtbot, make_window):
    window = make_window(1024, 700)
    cnn = window.show_cnn_explainer()
    explain_bundled_model(cnn)
    area, cols = cnn.scroll, cnn.columns
    assert len(cols.rows) == 21  # the input, 14 blocks' layers and the dense end: far wider than the screen
    qtbot.waitUntil(lambda: area.viewport().width() > 900)  # laid out in the window: all the width there is
    qtbot.waitUntil(lambda: area.horizontalScrollBar().maximum() == 0 and cols.width() == area.viewport().width())
    viewport = area.viewport().rect()
    for k in range(len(cols.rows)):
        box = cols.column_rect(k).toAlignedRect().translated(cols.mapTo(area.viewport(), QPoint(0, 0)))
        assert viewport.left() <= box.left() and box.right() <= viewport.right(), cols.rows[k]["name"]
    bands = sorted({round(cols.column_rect(k).top()) for k in range(len(cols.rows))})
    assert len(bands) >= 2  # wrapped into rows, read top to bottom
    for k in range(1, len(cols.rows)):  # in order: left to right along a row, then the next row
        before, here = cols.column_rect(k - 1), cols.column_rect(k)
        assert here.top() > before.top() or (here.top() == before.top() and here.left() > before.right())
    # a channel of the last convolution, on a lower row: its click explains that layer's channel
    k = max(m for m, r in enumerate(cols.rows) if r["type"] == "Conv2D")
    assert cols.column_rect(k).top() > cols.column_rect(0).top()
    tile = cols.tile_rects(k)[5]
    area.ensureVisible(int(tile.center().x()), int(tile.center().y()))
    qtbot.mouseClick(cols, Qt.MouseButton.LeftButton, pos=tile.center().toPoint())
    assert cnn.step.row is cols.rows[k] and cnn.step.channel == 5 and cols.selected == (k, 5)
    assert cols.rows[k]["name"] in cnn.step.title.text()
    # the click makes room for the detail: the images, the 3 × 3 grids and the sums whole, neither way scrolled
    canvas, detail = cnn.step.canvas, cnn.step.scroll
    qtbot.waitUntil(lambda: canvas.isVisible() and detail.verticalScrollBar().maximum() == 0)
    assert detail.horizontalScrollBar().maximum() == 0 and canvas.minimumHeight() > 250
    assert area.viewport().height() >= 140  # and the columns keep a strip, the clicked channel in it
    shown = QRect(-cols.pos(), area.viewport().size())
    assert shown.contains(tile.toAlignedRect())


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
