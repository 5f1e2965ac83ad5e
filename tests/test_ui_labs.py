"""The Labs window: the start page by chapter, every lab's page, instant labs, worker runs, Stop and bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit

from playground.engine.lab.registry import LABS, default_settings
from playground.ui.labs.page import LabPage
from playground.ui.labs.window import LabsWindow

WORKER_TIMEOUT_MS = 120_000


@pytest.fixture
def labs(shown):
    window = LabsWindow()
    shown(window, 1400, 900)
    yield window
    window.shutdown()


def type_into(qtbot, field, text: str) -> None:
    field.selectAll()
    qtbot.keyClicks(field, text)


def run_and_wait(qtbot, page: LabPage) -> dict:
    with qtbot.waitSignal(page.ran, timeout=WORKER_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_start_page_lists_every_lab_by_chapter_and_opens_each(labs, qtbot):
    buttons = labs.start.buttons
    assert set(LABS) <= set(buttons)
    rows = [labs.start.layout().itemAt(1).layout().itemAtPosition(r, 1).widget() for r in range(len(buttons))]
    assert rows[0] is buttons["perceptron"] and rows[-1] is buttons["sin-regression"]
    for name, info in LABS.items():
        qtbot.mouseClick(buttons[name], Qt.MouseButton.LeftButton)
        page = labs.pages[name]
        assert labs.stack.currentWidget() is page
        assert info.title in page.findChild(QLabel, "lab_title").text()
        assert "What the book did" in page.findChild(QLabel, "lab_intro").text()
        qtbot.mouseClick(page.back, Qt.MouseButton.LeftButton)
        assert labs.stack.currentIndex() == 0


def test_perceptron_sliders_redraw_the_line_and_the_truth_table(labs, qtbot):
    page = labs.open_lab("perceptron")
    view = page.view
    assert "AND, OR and NAND match" in page.verdict.text()
    line = page.result["gates"]["AND"]["line"]
    assert np.allclose(view.lines["AND"].getData()[1], line["y"])
    bias = view.sliders["AND"]["b"]
    bias.setFocus()
    for _ in range(60):                        # b from -0.70 to -1.30: no input reaches it
        qtbot.keyClick(bias, Qt.Key.Key_Left)
    assert page.result["gates"]["AND"]["bias"] == pytest.approx(-1.3)
    assert [r[2] for r in page.result["gates"]["AND"]["truth_table"]] == [0, 0, 0, 0]
    assert page.verdict.text() == page.result["verdict"] and "AND does not match" in page.verdict.text()
    assert np.allclose(view.lines["AND"].getData()[1], page.result["gates"]["AND"]["line"]["y"])
    xs, ys = view.points["XOR"].getData()
    assert list(zip(xs, ys)) == [(r[0], r[1]) for r in page.result["xor"]["truth_table"]]


def test_activations_draw_the_result_and_quick_changes_the_grid(labs, qtbot):
    page = labs.open_lab("activations")
    result = page.result
    assert page.verdict.text() == result["verdict"]
    x, y = page.view.derivatives["sigmoid"].getData()
    assert np.allclose(x, result["x"]) and np.allclose(y, result["curves"]["sigmoid"]["dy"])
    assert y.max() == pytest.approx(0.25, abs=1e-3)
    qtbot.mouseClick(page.quick, Qt.MouseButton.LeftButton)
    assert len(page.result["x"]) == 201 and len(page.view.curves["relu"].getData()[0]) == 201


def test_init_histograms_run_in_a_worker_and_draw_its_numbers(labs, qtbot):
    page = labs.open_lab("init-histograms")
    type_into(qtbot, page.form.fields["samples"].lineEdit(), "200")
    result = run_and_wait(qtbot, page)
    assert result["settings"]["samples"] == 200
    assert page.verdict.text() == result["verdict"]
    assert page.runner.process is None or not page.runner.process.is_alive()
    shown = page.view.activation.currentText()
    for key, bars in page.view.bars.items():
        assert key.startswith(shown + "/")
        for layer, item in enumerate(bars):
            assert list(item.opts["height"]) == result["runs"][key]["histograms"][layer]
    page.view.activation.setCurrentText("relu")
    assert list(page.view.bars["relu/he"][4].opts["height"]) == result["runs"]["relu/he"]["histograms"][4]


def test_a_narrow_window_scrolls_to_the_last_histogram_instead_of_cutting_it_off(labs, qtbot):
    """pyqtgraph cuts a grid wider than its widget off at the right; the widget takes the grid's width,
    so the page's scroll area reaches layer 5."""
    labs.resize(900, 700)
    page = labs.open_lab("init-histograms")
    type_into(qtbot, page.form.fields["samples"].lineEdit(), "200")
    run_and_wait(qtbot, page)
    plots = page.view.plots
    qtbot.waitUntil(lambda: plots.width() >= plots.minimumWidth() > 0)
    last = page.view.plot_items[4]  # the first row's layer 5
    right = plots.mapFromScene(last.mapToScene(last.boundingRect().bottomRight())).x()
    assert right <= plots.width(), (right, plots.width())


def test_gradcheck_of_a_preset_fills_the_table_and_the_histogram(labs, qtbot):
    page = labs.open_lab("gradcheck")
    type_into(qtbot, page.form.fields["project"], "xor")
    result = run_and_wait(qtbot, page)
    assert result["network"] and result["passed"]
    assert page.view.table.rowCount() == len(result["tensors"])
    errors = {page.view.table.item(r, 0).text(): page.view.table.item(r, 2).text()
              for r in range(page.view.table.rowCount())}
    assert errors == {k: f"{v:.2e}" for k, v in result["tensors"].items()}
    assert list(page.view.bars.opts["height"]) == result["histogram"]["counts"]
    assert page.verdict.text() == result["verdict"]


def test_stop_ends_the_process_and_the_page_runs_again(labs, qtbot):
    page = labs.open_lab("sin-regression")
    type_into(qtbot, page.form.fields["epochs"].lineEdit(), "100000")
    type_into(qtbot, page.form.fields["units"].lineEdit(), "8")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert not page.run_button.isEnabled()
    qtbot.waitUntil(lambda: page.progress_bar.value() > 0 or "batch" in page.status.text(),
                    timeout=WORKER_TIMEOUT_MS)
    process = page.runner.process
    with qtbot.waitSignal(page.runner.cancelled, timeout=WORKER_TIMEOUT_MS):
        qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
    assert not process.is_alive() and not page.runner.running
    assert page.run_button.isEnabled() and page.result is None
    type_into(qtbot, page.form.fields["epochs"].lineEdit(), "3")
    result = run_and_wait(qtbot, page)
    assert np.allclose(page.view.fit.getData()[1], result["y_fit"])
    assert page.verdict.text() == result["verdict"]


def test_bad_settings_say_what_was_expected_and_run_nothing(labs, qtbot):
    page = labs.open_lab("batchnorm")
    type_into(qtbot, page.form.fields["lr"], "fast")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert "“lr” expects a number" in page.status.text() and "got “fast”" in page.status.text()
    assert not page.runner.running and page.run_button.isEnabled()


def tick(qtbot, box: QCheckBox) -> None:
    """Click a tick box on its indicator."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def test_the_optimizers_are_ticked_and_set_in_rows_not_typed_as_json(labs, qtbot):
    page = labs.open_lab("optimizers-mnist")
    field = page.form.fields["optimizers"]
    assert page.form.values()["optimizers"] == default_settings("optimizers-mnist")["optimizers"]
    beta1 = field.findChild(QLineEdit, "arm_adam_beta1")
    assert beta1.text() == "" and beta1.placeholderText() == "0.9"  # empty: Adam's own default, shown greyed
    assert field.findChild(QLineEdit, "arm_sgd_momentum") is None  # SGD has no momentum to set
    for name in ("nesterov", "adagrad", "rmsprop"):
        tick(qtbot, field.findChild(QCheckBox, f"arm_{name}"))
    type_into(qtbot, field.findChild(QLineEdit, "arm_adam_lr"), "0.002")
    type_into(qtbot, beta1, "0.8")
    assert page.form.values()["optimizers"] == {"sgd": {"lr": 0.01}, "momentum": {"lr": 0.01, "momentum": 0.9},
                                                 "adam": {"lr": 0.002, "beta1": 0.8}}
    # a momentum of 1 never forgets: said before anything runs, naming the box
    type_into(qtbot, field.findChild(QLineEdit, "arm_momentum_momentum"), "1")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.status.text() == ("“optimizers”: momentum's μ expects a number at least 0 and below 1, got “1”; "
                                  "type one there or leave it empty")
    assert not page.runner.running
    for name in ("sgd", "momentum", "adam"):
        tick(qtbot, field.findChild(QCheckBox, f"arm_{name}"))
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert "“optimizers” needs at least one arm ticked" in page.status.text() and not page.runner.running
    # Quick puts the book's settings back
    tick(qtbot, page.quick)
    assert page.form.values()["optimizers"] == default_settings("optimizers-mnist", True)["optimizers"]
    # a setting without a box (Adam's ε, from a lab file or the command line) is kept as it was given
    field.set_value({"adam": {"lr": 0.001, "eps": 1e-6}})
    assert page.form.values()["optimizers"] == {"adam": {"lr": 0.001, "eps": 1e-6}}


def test_each_optimizer_keeps_its_colour_whichever_others_race(qtbot):
    from playground.ui.labs.views_curves import LossCurvesView
    from playground.ui.optimizer_lab.drawing import COLORS

    view = LossCurvesView()
    qtbot.addWidget(view)
    run = {"loss": [2.3, 1.0], "diverged": False}
    for names in (["sgd", "momentum", "adam"], ["adam"]):
        view.show_result({"runs": {n: run for n in names}, "final_loss": {n: 1.0 for n in names}})
        assert {n: view.curves[n].opts["pen"].color().name() for n in names} == {n: COLORS[n] for n in names}
    # the legend says which settings differ from the book's (Adam's own β₂ 0.999 typed in is no change)
    view.show_result({"runs": {"sgd": run, "adam": run}, "final_loss": {"sgd": 1.5, "adam": 0.25},
                      "settings": {"optimizers": {"sgd": {"lr": 0.01},
                                                  "adam": {"lr": 0.003, "beta1": 0.8, "beta2": 0.999}}}})
    assert view.curves["sgd"].name() == "sgd: 1.500"
    assert view.curves["adam"].name() == "adam (η 0.003, β₁ 0.8): 0.250"
    # the initializations raced on MNIST keep their colours too
    colours = {}
    for names in (["std=0.01", "lecun", "he"], ["he"]):
        view.show_result({"runs": {n: run for n in names}, "final_loss": {n: 1.0 for n in names}})
        for n in names:
            colours.setdefault(n, set()).add(view.curves[n].opts["pen"].color().name())
    assert all(len(seen) == 1 for seen in colours.values()), colours


def test_an_arm_added_to_the_overfitting_lab_is_trained_beside_the_others(labs, qtbot):
    page = labs.open_lab("overfitting")
    field = page.form.fields["arms"]
    qtbot.mouseClick(field.add_button, Qt.MouseButton.LeftButton)
    name = field.findChild(QLineEdit, "arm_3_name")
    assert name.hasFocus() and name.text() == "arm 4"
    type_into(qtbot, name, "both")
    type_into(qtbot, field.findChild(QLineEdit, "arm_3_weight_decay"), "0.1")
    type_into(qtbot, field.findChild(QLineEdit, "arm_3_dropout"), "0.2")
    tick(qtbot, field.findChild(QCheckBox, "arm_0"))  # no "none" arm this time
    assert page.form.values()["arms"] == {"weight_decay": {"weight_decay": 0.1}, "dropout": {"dropout": 0.2},
                                          "both": {"weight_decay": 0.1, "dropout": 0.2}}
    type_into(qtbot, name, "dropout")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert "two arms are called “dropout”" in page.status.text() and not page.runner.running
    type_into(qtbot, name, "both")
    mnist = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    folder = os.environ.get("PLAYGROUND_MNIST_DIR") or str(mnist)
    if not Path(folder, "t10k-images-idx3-ubyte.gz").exists() and not Path(folder, "t10k-images-idx3-ubyte").exists():
        pytest.skip("MNIST not found for the run: set PLAYGROUND_MNIST_DIR (the form's checks above ran)")
    page.data_dir = folder
    for key, value in (("train_samples", "100"), ("test_samples", "100"), ("hidden_layers", "1"), ("units", "10"),
                       ("epochs", "2")):
        type_into(qtbot, page.form.fields[key].lineEdit(), value)
    result = run_and_wait(qtbot, page)
    assert list(result["arms"]) == ["weight_decay", "dropout", "both"]
    assert "both: train" in page.verdict.text()
    # Quick puts the book's three arms back: the added row leaves the screen at once
    tick(qtbot, page.quick)

    def shown() -> list[str]:
        return [e.text() for e in field.findChildren(QLineEdit) if e.objectName().endswith("_name") and e.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 3)  # the new rows show once the event loop runs
    assert shown() == ["none", "weight_decay", "dropout"] and len(field.rows) == 3
    assert page.form.values()["arms"] == default_settings("overfitting", True)["arms"]


def test_a_fourth_arm_wraps_to_a_second_row_and_one_legend_names_the_curves(qtbot):
    from playground.ui.labs.views_curves import OverfittingView

    view = OverfittingView()
    qtbot.addWidget(view)
    curves = {"train": [0.5, 0.9], "test": [0.4, 0.6], "running_train": [0.45, 0.8]}
    arms = {name: {"curves": curves, "gap": 0.3} for name in ("none", "weight_decay", "dropout", "both")}
    view.show_result({"arms": arms})
    layout = view.plots.ci
    assert [layout.getItem(0, c) for c in range(3)] == view.plot_items[:3]
    assert layout.getItem(1, 0) is view.plot_items[3]
    assert view.plots.minimumHeight() == 2 * OverfittingView.ROW_HEIGHT
    legends = [plot.legend for plot in view.plot_items]
    assert legends[0] is not None and legends[1:] == [None, None, None]
    assert [label.text for _, label in legends[0].items] == ["train", "test", "train, running mean (dropout on)"]


def test_the_lists_of_names_are_tick_boxes(labs, qtbot):
    page = labs.open_lab("init-histograms")
    inits = page.form.fields["inits"]
    assert list(inits.boxes) == ["std=1", "std=0.01", "lecun", "he"]
    assert "Var(W) = 2 / fan_in" in inits.boxes["he"].toolTip()  # the builder's words for He
    assert "σ = 0.01" in inits.boxes["std=0.01"].toolTip()
    tick(qtbot, inits.boxes["std=1"])
    tick(qtbot, page.form.fields["activations"].boxes["tanh"])
    values = page.form.values()
    assert values["inits"] == ["std=0.01", "lecun", "he"] and values["activations"] == ["sigmoid", "relu"]
    for box in page.form.fields["activations"].boxes.values():
        if box.isChecked():
            tick(qtbot, box)
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.status.text() == "“activations” needs at least one ticked; tick the ones to compare"


def test_the_filters_initializer_is_chosen_from_a_list_with_its_sigma_beside(labs, qtbot):
    page = labs.open_lab("filters")
    init = page.form.fields["init"]
    assert page.form.values()["init"] == {"type": "normal", "std": 0.01}
    type_into(qtbot, init.std, "0.1")
    assert page.form.values()["init"] == {"type": "normal", "std": 0.1}
    type_into(qtbot, init.std, "-1")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.status.text() == "“init”: σ expects a number above 0 and at most 10, got “-1”; type one there"
    init.kind.setFocus()
    while init.kind.currentData() != "he_normal":  # the keyboard walks the list, as a person would
        qtbot.keyClick(init.kind, Qt.Key.Key_Down)
    assert not init.std.isEnabled() and page.form.values()["init"] == "he_normal"
    tick(qtbot, page.quick)  # the book's normal σ 0.01 again
    assert init.kind.currentData() == "normal" and init.std.isEnabled() and init.std.text() == "0.01"
    type_into(qtbot, init.std, "-1")
    init.set_value("he_normal")  # a value with no σ of its own leaves no bad σ behind
    init.set_value({"type": "normal"})
    assert page.form.values()["init"] == {"type": "normal", "std": 0.01}


def test_a_lab_error_comes_back_as_its_message(labs, qtbot):
    page = labs.open_lab("gradcheck")
    type_into(qtbot, page.form.fields["project"], "no-such-preset")
    with qtbot.waitSignal(page.runner.failed, timeout=WORKER_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert "no-such-preset" in blocker.args[0] and blocker.args[0] in page.status.text()
    assert page.run_button.isEnabled()


def test_the_main_windows_labs_menu_opens_the_start_page_and_a_lab(qtbot, tmp_path):
    from playground.ui.mainwindow import MainWindow
    from playground.ui.settings import AppSettings

    window = MainWindow(settings=AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(window)
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles.index("Labs") == titles.index("Help") - 1
    window.actions["labs_start"].trigger()
    labs = window.labs_window
    qtbot.addWidget(labs)
    assert labs.isVisible() and labs.stack.currentIndex() == 0
    window.actions["lab_batchnorm"].trigger()
    assert labs.stack.currentWidget() is labs.pages["batchnorm"]
    # one Labs menu: the book's labs, then the Search lab, which the start page opens on the window's project
    assert titles.count("Labs") == 1
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Labs")
    assert window.actions["search_lab"] in menu.actions() and window.actions["lab_perceptron"] in menu.actions()
    labs.open_lab("search")
    search = window.search_lab
    qtbot.addWidget(search)
    assert search.isVisible() and labs.search_window is search


def test_the_start_page_is_offered_on_first_start_only(qtbot, tmp_path):
    from playground.ui.labs.menu import offer_on_first_start
    from playground.ui.mainwindow import MainWindow
    from playground.ui.settings import AppSettings

    window = MainWindow(settings=AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(window)
    assert offer_on_first_start(window)
    qtbot.addWidget(window.labs_window)
    assert window.labs_window.isVisible()
    window.labs_window.close()
    again = MainWindow(settings=AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(again)
    assert not offer_on_first_start(again) and again.labs_window is None


def test_the_labs_window_opens_at_a_window_size_within_the_screen_and_comes_back_where_it_was(qtbot, tmp_path):
    from PySide6.QtGui import QGuiApplication

    from playground.ui.labs.window import DEFAULT_SIZE, SCREEN_SHARE
    from playground.ui.settings import AppSettings

    avail = QGuiApplication.primaryScreen().availableGeometry()
    first = LabsWindow(settings=AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(first)
    first.show_start()
    qtbot.waitExposed(first)
    w, h = min(DEFAULT_SIZE[0], int(avail.width() * SCREEN_SHARE)), min(DEFAULT_SIZE[1],
                                                                        int(avail.height() * SCREEN_SHARE))
    assert (first.width(), first.height()) == (w, h)
    assert first.width() < avail.width() and first.height() < avail.height()   # not the whole screen
    assert avail.contains(first.frameGeometry().center())
    first.resize(w - 100, h - 80)
    first.move(avail.x() + 10, avail.y() + 20)
    first.close()
    again = LabsWindow(settings=AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(again)
    again.show_start()
    qtbot.waitExposed(again)
    assert (again.width(), again.height()) == (w - 100, h - 80)
    assert (again.pos() - first.pos()).manhattanLength() <= 8   # the offscreen platform's frame moves it a little


def test_the_main_windows_labs_window_keeps_its_geometry_in_the_apps_settings(qtbot, tmp_path):
    from playground.ui.labs.menu import labs_window, shutdown_labs
    from playground.ui.mainwindow import MainWindow
    from playground.ui.settings import AppSettings

    window = MainWindow(settings=AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(window)
    labs = labs_window(window)
    qtbot.addWidget(labs)
    labs.show_start()
    labs.resize(700, 510)
    shutdown_labs(window)                           # the main window closes, and the labs window with it
    assert window.settings.labs_geometry() is not None
    later = MainWindow(settings=AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(later)
    reopened = labs_window(later)
    qtbot.addWidget(reopened)
    assert reopened.size().toTuple() == (700, 510)
