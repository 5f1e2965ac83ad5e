"""The optimizer lab widget, driven as a person drives it (pytest-qt, offscreen)."""

import numpy as np
import pytest

from PySide6.QtCore import QPoint, QPointF, Qt

from playground.engine.lab.functions import FUNCTIONS
from playground.engine.lab.paths import LAB_OPTIMIZERS, run_paths
from playground.ui.optimizer_lab import surface as optimizer_lab
from playground.ui.optimizer_lab.drawing import contour_segments, log_heat
from playground.ui.optimizer_lab.mapview import DIVERGED_SIZE
from playground.ui.optimizer_lab.widget import OptimizerLabWidget


@pytest.fixture
def lab(shown):
    w = shown(OptimizerLabWidget(), 1300, 850)
    yield w
    w.pause()


def map_point(w, x, y):
    """Where the data point (x, y) is, in the map's viewport pixels."""
    return w.plot.mapFromScene(w.vb.mapViewToScene(QPointF(x, y)))


def test_click_on_the_map_moves_the_start(qtbot, lab):
    lab.step(3)
    pw, ph = lab.vb.viewPixelSize()
    with qtbot.waitSignal(lab.startChanged, timeout=3000) as sig:
        qtbot.mouseClick(lab.plot.viewport(), Qt.MouseButton.LeftButton, pos=map_point(lab, 4.0, -2.5))
    x, y = sig.args
    assert x == pytest.approx(4.0, abs=2 * pw) and y == pytest.approx(-2.5, abs=2 * ph)
    assert lab.lab.step_count == 0
    for name in LAB_OPTIMIZERS:
        np.testing.assert_allclose(lab.lab.paths[name].points, [[x, y]])
        xs, ys = lab.path_items[name].getData()
        np.testing.assert_allclose([xs[0], ys[0]], [x, y])
    # and the next step starts from there
    lab.step(1)
    g = np.array([x / 10, 2 * y])
    np.testing.assert_allclose(lab.lab.paths["sgd"].points[1], np.array([x, y]) - 0.95 * g)


def test_click_outside_the_plot_area_does_nothing(qtbot, lab):
    start = lab.lab.start.copy()
    corner = lab.plot.mapFromScene(lab.vb.sceneBoundingRect().bottomLeft()) + QPointF(-15, 15).toPoint()
    qtbot.mouseClick(lab.plot.viewport(), Qt.MouseButton.LeftButton, pos=corner)
    qtbot.wait(50)
    np.testing.assert_array_equal(lab.lab.start, start)


def test_step_button_advances_every_path(qtbot, lab):
    with qtbot.waitSignal(lab.stepped, timeout=3000):
        qtbot.mouseClick(lab.step_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(lab.step_button, Qt.MouseButton.LeftButton)
    assert lab.lab.step_count == 2
    expected = run_paths(steps=2)["paths"]
    for name in LAB_OPTIMIZERS:
        xs, ys = lab.path_items[name].getData()
        np.testing.assert_allclose(np.column_stack([xs, ys]), expected[name])
        assert len(lab.fcurves[name].getData()[0]) == 3
    assert lab.step_label.text() == "Step 2"
    # arrows are drawn at each head: the dashed −∇f and the solid next step
    assert all(len(lab.step_items[n].getData()[0]) == 6 for n in LAB_OPTIMIZERS)
    assert all(len(lab.grad_items[n].getData()[0]) == 6 for n in LAB_OPTIMIZERS)


def test_play_runs_on_a_timer_and_pause_stops_it(qtbot, lab):
    lab.set_speed(100)
    qtbot.mouseClick(lab.play_button, Qt.MouseButton.LeftButton)
    assert lab.is_playing and lab.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: lab.lab.step_count >= 10, timeout=5000)
    qtbot.mouseClick(lab.play_button, Qt.MouseButton.LeftButton)
    assert not lab.is_playing and lab.play_button.text() == "Play"
    n = lab.lab.step_count
    qtbot.wait(100)
    assert lab.lab.step_count == n
    qtbot.mouseClick(lab.reset_button, Qt.MouseButton.LeftButton)
    assert lab.lab.step_count == 0


def test_typed_function_error_is_shown_inline(qtbot, lab):
    lab.expr_edit.clear()
    qtbot.keyClicks(lab.expr_edit, "x**2 + sin(y")
    qtbot.keyClick(lab.expr_edit, Qt.Key.Key_Return)
    assert lab.expr_error.isVisible()
    text = lab.expr_error.text()
    assert "column 13" in text and "x**2 + sin(y\n" + " " * 12 + "^" in text
    assert lab.lab.function is FUNCTIONS["book"]  # nothing changed, nothing crashed

    lab.expr_edit.clear()
    with qtbot.waitSignal(lab.functionChanged, timeout=3000) as sig:
        qtbot.keyClicks(lab.expr_edit, "x**2 + 3*y**2")
        qtbot.keyClick(lab.expr_edit, Qt.Key.Key_Return)
    assert sig.args == ["x**2 + 3*y**2"]
    assert not lab.expr_error.isVisible()
    assert lab.function_combo.currentText() == "Your function…"
    lab.step(1)
    assert lab.rows["sgd"].status.text() == "no known min"


def test_caret_is_a_power_in_the_typed_function(qtbot, lab):
    assert "^" in lab.expr_edit.toolTip() and "x^2 is x**2" in lab.expr_edit.toolTip()
    lab.expr_edit.clear()
    with qtbot.waitSignal(lab.functionChanged, timeout=3000):
        qtbot.keyClicks(lab.expr_edit, "x^2 + 3*y^2")
        qtbot.keyClick(lab.expr_edit, Qt.Key.Key_Return)
    assert not lab.expr_error.isVisible()
    assert lab.lab.function.value(2.0, 1.0) == pytest.approx(7.0)


def test_the_box_shows_the_expression_of_the_function_picked(qtbot, lab):
    assert lab.expr_edit.text() == "x**2/20 + y**2"
    lab.expr_edit.clear()
    qtbot.keyClicks(lab.expr_edit, "x^2 + y^4")
    qtbot.keyClick(lab.expr_edit, Qt.Key.Key_Return)
    assert lab.lab.function.name == "x^2 + y^4" and lab.expr_edit.text() == "x^2 + y^4"
    idx = lab.function_combo.findData("himmelblau")
    with qtbot.waitSignal(lab.functionChanged, timeout=3000):
        lab.function_combo.setCurrentIndex(idx)
        lab.function_combo.activated.emit(idx)
    assert lab.expr_edit.text() == FUNCTIONS["himmelblau"].expression.text
    # Enter on what the box shows keeps the catalogue function, its minima and analytic gradient
    qtbot.keyClick(lab.expr_edit, Qt.Key.Key_Return)
    assert lab.lab.function is FUNCTIONS["himmelblau"]
    assert lab.function_combo.currentData() == "himmelblau"


def test_function_menu_switches_function_and_rates(qtbot, lab):
    idx = lab.function_combo.findData("rosenbrock")
    with qtbot.waitSignal(lab.functionChanged, timeout=3000):
        lab.function_combo.setCurrentIndex(idx)
        lab.function_combo.activated.emit(idx)
    assert lab.lab.function is FUNCTIONS["rosenbrock"]
    assert lab.expr_edit.text() == "(1 - x)**2 + 100*(y - x**2)**2"
    assert lab.rows["adam"].lr.value() == pytest.approx(FUNCTIONS["rosenbrock"].lrs["adam"])
    (x0, x1), (y0, y1) = lab.vb.viewRange()
    assert (x0, x1) == pytest.approx(FUNCTIONS["rosenbrock"].x_range)


def test_settings_and_toggles_apply_live(qtbot, lab):
    lab.step(1)
    lab.rows["momentum"].lr.setValue(0.2)
    assert lab.lab.paths["momentum"].optimizer.lr == pytest.approx(0.2)
    lab.rows["adam"].params["beta1"].setValue(0.5)
    assert lab.lab.paths["adam"].optimizer.beta1 == pytest.approx(0.5)

    lab.rows["adam"].check.setChecked(False)
    assert not lab.path_items["adam"].isVisible()
    lab.step(2)
    assert lab.lab.paths["adam"].steps == 1 and lab.lab.paths["sgd"].steps == 3
    assert lab.rows["adam"].status.text() == "off"
    lab.rows["adam"].check.setChecked(True)
    assert lab.path_items["adam"].isVisible() and lab.lab.paths["adam"].steps == 3


def test_divergence_is_marked_and_the_others_go_on(qtbot, lab):
    lab.rows["sgd"].lr.setValue(1.1)
    lab.step(80)
    status = lab.rows["sgd"].status
    assert status.text() == "diverged at 72"
    assert lab.head_items["sgd"].opts["symbol"] == "x"
    assert lab.lab.paths["adam"].steps == 80
    assert lab.rows["adam"].status.text() != "diverged"


def test_a_start_where_f_is_undefined_is_said_so_not_called_divergence(qtbot, lab):
    assert lab.set_function("log(x)")
    lab.set_start(-3.0, 0.0)
    qtbot.mouseClick(lab.step_button, Qt.MouseButton.LeftButton)
    assert lab.lab.step_count == 0
    for name in LAB_OPTIMIZERS:
        assert lab.rows[name].status.text() == "undefined at start"
        assert "f is not defined at the start (-3, 0)" in lab.rows[name].status.toolTip()
        assert lab.head_items[name].opts["symbol"] != "x"
    assert "No optimizer can take a step: f is not defined at the start (-3, 0)" in lab.message.text()
    qtbot.mouseClick(lab.play_button, Qt.MouseButton.LeftButton)
    assert not lab.is_playing and "Nothing to run: f is not defined" in lab.message.text()

    with qtbot.waitSignal(lab.startChanged, timeout=3000):  # a click where log is defined starts over
        qtbot.mouseClick(lab.plot.viewport(), Qt.MouseButton.LeftButton, pos=map_point(lab, 2.0, 0.0))
    assert lab.message.text() == ""
    lab.step(1)
    assert lab.lab.step_count == 1 and lab.rows["sgd"].status.text() == "no known min"


def test_the_diverged_mark_is_drawn_wholly_inside_the_map(qtbot, lab):
    lab.rows["sgd"].lr.setValue(1.1)
    lab.step(80)  # SGD escapes far beyond the view along x (see the divergence test)
    xs, ys = lab.head_items["sgd"].getData()
    mark = lab.vb.mapViewToScene(QPointF(xs[0], ys[0]))
    half = DIVERGED_SIZE / 2
    inside = lab.vb.sceneBoundingRect().adjusted(half - 0.5, half - 0.5, 0.5 - half, 0.5 - half)
    assert inside.contains(mark), (mark, lab.vb.sceneBoundingRect())
    lab.vb.setRange(xRange=(-2, 2), yRange=(-1, 1), padding=0)  # and after a zoom
    xs, ys = lab.head_items["sgd"].getData()
    inside = lab.vb.sceneBoundingRect().adjusted(half - 0.5, half - 0.5, 0.5 - half, 0.5 - half)
    assert inside.contains(lab.vb.mapViewToScene(QPointF(xs[0], ys[0])))


def test_the_value_plot_key_covers_no_curve_and_top_labels_have_room(qtbot, lab):
    fplot = lab.fplot
    legend = fplot.legend
    assert legend.isVisible() and len(legend.items) == len(LAB_OPTIMIZERS)
    assert not legend.sceneBoundingRect().intersects(fplot.getPlotItem().vb.sceneBoundingRect())
    assert legend.sceneBoundingRect().top() >= fplot.getPlotItem().getAxis("bottom").sceneBoundingRect().bottom()
    # the top tick label is centred on the plot's top line: half of it must fit above, inside the widget
    for plot in (lab.plot, fplot):
        top = plot.getPlotItem().vb.sceneBoundingRect().top()
        assert top >= plot.fontMetrics().height() / 2, (plot, top)


def test_an_expression_error_does_not_move_the_controls(qtbot, lab):
    def places():
        lab.layout().activate()
        return [w.mapTo(lab, QPoint(0, 0)) for w in (lab.step_button, lab.plot, lab.rows["sgd"].check)] + \
            [lab.plot.size()]

    before = places()
    lab.expr_edit.clear()
    qtbot.keyClicks(lab.expr_edit, "x**2 + sin(y")
    qtbot.keyClick(lab.expr_edit, Qt.Key.Key_Return)
    assert lab.expr_error.isVisible() and lab.expr_error.text().count("\n") == 2
    assert places() == before
    assert lab.expr_error.height() >= lab.expr_error.sizeHint().height()  # all three lines shown
    qtbot.keyClicks(lab.expr_edit, ")")
    assert not lab.expr_error.isVisible() and places() == before


def test_reached_readout(qtbot, lab):
    lab.set_tolerance(1e-2)
    lab.step(70)
    # SGD on the book's function: xₙ = −7·0.905ⁿ, yₙ = 2·(−0.9)ⁿ; xₙ² + yₙ² ≤ 1e-4 first at n = 66
    assert lab.rows["sgd"].status.text() == "step 66"


def test_without_opengl_the_3d_tab_says_why(qtbot, monkeypatch):
    monkeypatch.setattr(optimizer_lab, "_opengl_problem",
                        lambda: "The 3-D view needs PyOpenGL: pip install 'numpy-nn-playground[opengl]'")
    w = OptimizerLabWidget()
    qtbot.addWidget(w)
    w.view_tabs.setCurrentIndex(1)
    assert "PyOpenGL" in w.gl_label.text() and "pip install" in w.gl_label.text()
    w.view_tabs.setCurrentIndex(0)
    w.step(2)  # the 2-D view works alone
    assert w.lab.step_count == 2


def test_contours_and_heat():
    xs = np.linspace(-2, 2, 81)
    X, Y = np.meshgrid(xs, xs)
    segs = contour_segments(X ** 2 + Y ** 2, xs, xs, 1.0)
    assert len(segs) > 40 and len(segs) % 2 == 0
    np.testing.assert_allclose(np.hypot(segs[:, 0], segs[:, 1]), 1.0, atol=2e-3)
    heat = log_heat(np.array([[0.0, 1.0], [np.nan, 100.0]]))
    assert np.isnan(heat[1, 0]) and heat[0, 0] < heat[0, 1] < heat[1, 1]


def test_the_3d_tab_names_the_extra_install():
    text = optimizer_lab.OPENGL_MISSING
    assert "PyOpenGL" in text and "[opengl]" in text and "pip install 'numpy-nn-playground[opengl]'" in text
    assert "2-D map works without it" in text


def test_paths_are_lifted_above_the_drawn_surface():
    gx = gy = np.linspace(-6.0, 6.0, 13)
    X, Y = np.meshgrid(gx, gy)
    Z = 0.1 * (X ** 2 + Y ** 2)  # a bowl; Z[i, j] at (gx[j], gy[i])
    # one cell by hand: corners 0 (at 0, 0), 0.1 (1, 0), 0.1 (0, 1), 0.2 (1, 1); at (0.5, 0.25) the two
    # triangulations give 0.075 (main diagonal) and 0.075 (other) -> the top of either
    h = optimizer_lab._mesh_height(gx, gy, Z, np.array([0.5]), np.array([0.25]))
    assert h[0] == pytest.approx(0.075)
    ridge = np.array([[0.0, 0.0], [1.0, 1.0]])
    skew = optimizer_lab._mesh_height(gx, gy, np.where((X == 1) & (Y == 0), 5.0, 0.0), np.array([0.75]),
                                      np.array([0.25]))
    assert skew[0] == pytest.approx(3.75)  # the other diagonal's triangle holds the raised corner
    # a path from one rim of the bowl to the other, given at its two ends only: its chord would pass far below
    xy = np.array([[-5.0, 0.0], [5.0, 0.0]])
    z = 0.1 * (xy ** 2).sum(axis=1) - 2.0  # the path's own heights, below the surface
    line = optimizer_lab.lift_path(xy, z, gx, gy, Z, lift=0.05)
    assert len(line) > 20 and np.all(np.diff(line[:, 0]) > 0)
    assert np.max(np.diff(line[:, 0])) <= 0.5 + 1e-9  # pieces of at most half a grid cell
    ground = optimizer_lab._mesh_height(gx, gy, Z, line[:, 0], line[:, 1])
    assert np.all(line[:, 2] >= ground + 0.05 - 1e-12)
    np.testing.assert_allclose(line[[0, -1], :2], xy)
    # a point above the surface keeps its height; one that diverged (NaN) lies on the surface
    above = optimizer_lab.lift_path(np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([3.0, np.nan]), gx, gy, Z, 0.05)
    np.testing.assert_allclose(above[:, 2], [3.05, 0.05])
    back = optimizer_lab.lift_path(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([np.nan, 3.0]), gx, gy, Z, 0.05)
    np.testing.assert_allclose(back[[0, -1], 2], [0.05, 3.05])
    assert optimizer_lab.lift_path(np.zeros((0, 2)), np.zeros(0), gx, gy, Z).shape == (0, 3)
