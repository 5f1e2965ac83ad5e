"""The training dashboard, driven through its real widgets with pytest-qt (no sleeps)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from playground.engine.nn.network import Network
from playground.engine.project import load_preset
from playground.ui.dashboard import TrainingDashboard
from playground.ui.dashboard.plotting import nice_ceil
from playground.ui.dashboard.runs import Series, clone_project, clone_settings

TIMEOUT = 30000  # ms; generous for a busy 2-core machine


@pytest.fixture
def dashboard(qtbot):
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.resize(1400, 850)
    dash.show()
    yield dash
    dash.shutdown()
    # a test must not leave a training thread behind
    assert dash._session is None and not dash._stopping, "a training session is still alive"
    assert not dash.loader.busy(), "a data set is still loading"


def spiral(epochs: int = 1000, **training) -> dict:
    project = load_preset("spiral")
    project["training"].update(epochs=epochs, **training)
    return project


def npoints(item) -> int:
    x = item.getData()[0]
    return 0 if x is None else len(x)


def wait_state(qtbot, dash, state: str, timeout: int = TIMEOUT) -> None:
    qtbot.waitUntil(lambda: dash.state() == state, timeout=timeout)


def wait_ended(qtbot, dash, status: str | None = None, timeout: int = TIMEOUT) -> None:
    qtbot.waitUntil(lambda: dash.state() == "idle" and dash.live_run() is not None
                    and dash.live_run().status not in ("starting", "running", "paused"), timeout=timeout)
    if status is not None:
        run = dash.live_run()
        assert run.status == status, run.message


# ------------------------------------------------------------------ training, plots, stop

def test_training_spiral_updates_plots_and_stops_on_request(qtbot, dashboard):
    dashboard.set_project(spiral())
    assert dashboard.actions["start"].shortcut().toString() == "Space"
    assert dashboard.actions["stop"].shortcut().toString() == "Esc"
    dashboard.actions["start"].trigger()
    run = dashboard.live_run()
    assert run is not None and dashboard.actions["start"].text() == "Pause"

    curves = dashboard.curves._curves[run.number]
    qtbot.waitUntil(lambda: len(run.epoch) >= 3 and npoints(curves.loss) > 20, timeout=TIMEOUT)
    # the loss, accuracy and learning-rate curves are drawn from the run's history
    x, y = curves.loss.getData()
    assert np.all(np.diff(x) > 0) and np.isfinite(y).all()
    assert npoints(curves.acc) > 0 and npoints(curves.lr) > 0
    assert npoints(curves.val_loss) >= 1
    # network health: gradient norms per layer, activation histograms, dead-ReLU share
    qtbot.waitUntil(lambda: bool(dashboard.health._grad_items) and bool(run.histograms), timeout=TIMEOUT)
    assert set(run.grad_norms) == {"dense1", "dense2", "dense3"}
    key = dashboard.health.grad_key.text()  # the key under the plot names each layer's colour
    assert all(name in key for name in ("dense1", "dense2", "dense3"))
    assert {"dense1_relu", "dense2_relu"} <= set(run.histograms)
    assert "dead_fraction" in run.act_stats["dense1_relu"]
    dashboard.health.refresh()
    dead = 100 * run.act_stats["dense1_relu"]["dead_fraction"]
    assert dashboard.health.hist_title("dense1_relu").endswith(f"dead {dead:.0f}%")
    # decision boundary and confusion matrix
    qtbot.waitUntil(lambda: dashboard.model_view.boundary.image.image is not None
                    and dashboard.confusion.matrix is not None, timeout=TIMEOUT)
    assert dashboard.confusion.matrix.sum() == 120  # the spiral's validation set
    assert dashboard.current_network() is not None

    # the curve plots show the data in round-number ranges, the epoch axis no longer than the run
    # (redrawn here: the timer may have taken in batches since the curves' last turn)
    dashboard.curves.refresh()
    (x0, x1), (y0, y1) = dashboard.curves.loss.getPlotItem().getViewBox().viewRange()
    assert x0 == 0 and x1 >= curves.raw_loss.getData()[0][-1] and x1 <= run.epochs
    assert x1 == dashboard.curves.x_extent() and x1 == nice_ceil(x1)
    assert y0 == 0 and y1 >= np.nanmax(curves.raw_loss.getData()[1])

    with qtbot.waitSignal(dashboard.network_updated, timeout=TIMEOUT) as final:
        dashboard.actions["stop"].trigger()
        assert dashboard.state() == "stopping"
    wait_ended(qtbot, dashboard, "cancelled")
    assert isinstance(final.args[0], Network)
    assert dashboard.actions["start"].text() == "Start" and dashboard.actions["start"].isEnabled()
    assert not dashboard.actions["stop"].isEnabled()


def test_the_train_curve_is_measured_in_inference_mode_and_the_running_mean_is_faint(qtbot, dashboard):
    """The worker's trainer measures each epoch's training accuracy with dropout off; the window draws it
    as the training curve, the batches' running mean (dropout on) as a fainter line, and says which is which."""
    from playground.engine.train.trainer import evaluate
    from playground.ui.dashboard.curves import KEY_RUNNING, KEY_TRAIN, KEY_VALIDATION

    project = spiral(epochs=3)
    layers = project["network"]["layers"]
    project["network"]["layers"] = layers[:1] + [{"type": "Dropout", "rate": 0.5}] + layers[1:]
    dashboard.set_project(project)
    dashboard.actions["start"].trigger()
    wait_ended(qtbot, dashboard, "finished")
    run = dashboard.live_run()
    curves = dashboard.curves._curves[run.number]
    x, acc = curves.train_acc.getData()
    assert list(x) == [1.0, 2.0, 3.0]
    # the trained network, measured here as the trainer measured it there: all 480 training samples
    data = dashboard._data
    expect = evaluate(dashboard.current_network(), data.x_train, data.y_train)
    assert acc[-1] == pytest.approx(expect["accuracy"])
    assert curves.train_loss.getData()[1][-1] == pytest.approx(expect["loss"], rel=1e-5)
    running = run.epoch.view("running_acc")
    assert len(running) == 3 and np.isfinite(running).all() and running[-1] != acc[-1]
    assert npoints(curves.acc) > 3  # the running mean follows the batches
    assert curves.acc.opts["pen"].color().alpha() < curves.train_acc.opts["pen"].color().alpha()
    assert dashboard.curves.key_labels() == [KEY_TRAIN, KEY_RUNNING, KEY_VALIDATION]


def test_stop_takes_effect_within_half_a_second(qtbot, dashboard):
    dashboard.set_project(spiral())
    dashboard.actions["start"].trigger()
    run = dashboard.live_run()
    qtbot.waitUntil(lambda: len(run.batch) > 50, timeout=TIMEOUT)
    dashboard.actions["stop"].trigger()
    wait_ended(qtbot, dashboard, "cancelled", timeout=500)


def test_step_trains_one_batch_then_pauses(qtbot, dashboard):
    dashboard.set_project(spiral())
    with qtbot.waitSignal(dashboard.network_updated, timeout=TIMEOUT):
        dashboard.actions["step"].trigger()
    run = dashboard.live_run()
    qtbot.waitUntil(lambda: len(run.batch) == 1, timeout=TIMEOUT)
    assert dashboard.state() == "paused"
    assert dashboard.actions["start"].text() == "Resume"
    dashboard.actions["step"].trigger()
    qtbot.waitUntil(lambda: len(run.batch) == 2, timeout=TIMEOUT)
    assert list(run.batch.view("step")) == [1, 2]
    # the network handed out is a copy, never the one the worker trains
    qtbot.waitUntil(lambda: dashboard.current_network() is not None, timeout=TIMEOUT)
    assert dashboard.current_network() is not dashboard._session.net
    dashboard.actions["stop"].trigger()
    wait_ended(qtbot, dashboard, "cancelled")


def test_pause_and_resume(qtbot, dashboard):
    dashboard.set_project(spiral())
    dashboard.actions["start"].trigger()
    run = dashboard.live_run()
    qtbot.waitUntil(lambda: len(run.batch) > 20, timeout=TIMEOUT)
    dashboard.actions["start"].trigger()  # Pause
    assert dashboard.state() == "paused" and dashboard.actions["start"].text() == "Resume"
    session = dashboard._session
    # the worker ends the batch it is in, reports it, and waits: everything it trained reaches
    # the plots, then nothing more while paused
    qtbot.waitUntil(lambda: session.idle, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: len(run.batch) == session.steps_done, timeout=TIMEOUT)
    paused_at = len(run.batch)
    ticks = dashboard.tick_count
    qtbot.waitUntil(lambda: dashboard.tick_count >= ticks + 4, timeout=TIMEOUT)
    assert session.idle
    assert len(run.batch) == paused_at == session.steps_done
    assert "paused" in dashboard.progress.format()
    dashboard.actions["start"].trigger()  # Resume
    assert dashboard.state() == "running"
    qtbot.waitUntil(lambda: len(run.batch) > paused_at + 10, timeout=TIMEOUT)
    dashboard.actions["stop"].trigger()
    wait_ended(qtbot, dashboard, "cancelled")


# ------------------------------------------------------------------ divergence and errors

def test_diverging_run_stops_with_a_visible_message(qtbot, dashboard):
    dashboard.set_project(spiral(optimizer={"type": "sgd", "lr": 1000.0}, schedule=None))
    dashboard.actions["start"].trigger()
    wait_ended(qtbot, dashboard, "diverged")
    assert dashboard.banner.isVisible()
    text = dashboard.banner.text()
    assert "diverged" in text and "loss became" in text and "learning rate" in text
    assert "diverged" in dashboard.runs_panel.tree.topLevelItem(0).text(dashboard.runs_panel.STATUS)
    # the app stays usable: a sane project trains right after
    dashboard.set_project(spiral(epochs=1))
    assert dashboard.actions["start"].isEnabled()
    dashboard.actions["start"].trigger()
    wait_ended(qtbot, dashboard, "finished")
    assert not dashboard.banner.isVisible()


def test_missing_mnist_and_bad_project_show_messages(qtbot, dashboard, tmp_path):
    project = load_preset("simple-convnet")
    project["dataset"] = {"name": "mnist", "data_dir": str(tmp_path / "nowhere")}
    dashboard.set_project(project)
    dashboard.actions["start"].trigger()
    qtbot.waitUntil(lambda: dashboard.banner.isVisible(), timeout=TIMEOUT)
    assert "MNIST" in dashboard.banner.text() or "mnist" in dashboard.banner.text()
    assert dashboard.state() == "idle" and dashboard.live_run().status == "error"
    # the progress bar no longer moves as if the data set were still loading, and says so
    assert dashboard.progress.maximum() > 0 and dashboard.progress.format() == "Run 1 failed"

    bad = spiral()
    bad["network"]["layers"][0]["type"] = "NoSuchLayer"
    dashboard.set_project(bad)
    dashboard.actions["start"].trigger()
    assert dashboard.banner.isVisible() and "NoSuchLayer" in dashboard.banner.text()
    assert dashboard.state() == "idle"


def test_the_banner_shows_user_text_as_written_not_as_markup(qtbot, dashboard):
    from PySide6.QtGui import QTextDocument

    bad = spiral()
    bad["network"]["layers"][0]["type"] = "Dense<b>&Co"
    dashboard.set_project(bad)
    dashboard.actions["start"].trigger()
    assert dashboard.banner.isVisible()
    assert "Dense<b>&Co" in dashboard.banner.text()
    shown = QTextDocument()
    shown.setHtml(dashboard.banner.label.text())  # what the label draws
    assert "Dense<b>&Co" in shown.toPlainText()
    assert shown.toPlainText().startswith("The project cannot be trained:")
    dashboard.banner.show_message("warning", "Tom & Jerry <i>said</i>:", "a < b && c > d")
    shown.setHtml(dashboard.banner.label.text())
    assert shown.toPlainText() == "Tom & Jerry <i>said</i>: a < b && c > d" == dashboard.banner.text()


# ------------------------------------------------------------------ confusion matrix

def test_confusion_matrix_click_shows_the_misclassified_samples(qtbot, dashboard):
    dashboard.set_project(spiral(epochs=2, optimizer={"type": "sgd", "lr": 0.05}, schedule=None))
    dashboard.actions["start"].trigger()
    wait_ended(qtbot, dashboard, "finished")
    m = dashboard.confusion.matrix
    assert m is not None and m.sum() == 120
    wrong = [(r, c) for r in range(2) for c in range(2) if r != c and m[r, c] > 0]
    assert wrong, f"expected some mistakes after 2 epochs of slow SGD, got {m}"
    r, c = wrong[0]
    view = dashboard.confusion
    assert [[view.cell_text(i, j) for j in range(2)] for i in range(2)] == [[str(v) for v in row] for row in m]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cell_center(r, c))
    qtbot.waitUntil(dashboard.samples.isVisible, timeout=TIMEOUT)
    assert dashboard.samples.table.rowCount() == m[r, c]
    assert "misclassified" in dashboard.samples.header.text()
    # the picked points are circled in the decision-boundary plot
    assert len(dashboard.model_view.boundary.marked.data) == m[r, c]
    data = dashboard._data
    for row in range(dashboard.samples.table.rowCount()):
        i = int(dashboard.samples.table.item(row, 0).text())
        assert data.y_val[i] == r


# ------------------------------------------------------------------ run history and clone

def test_clone_run_changes_one_setting_and_keeps_the_start(qtbot, dashboard):
    dashboard.set_project(spiral(epochs=2))
    dashboard.actions["start"].trigger()
    wait_ended(qtbot, dashboard, "finished")
    first = dashboard.live_run()

    panel = dashboard.runs_panel
    panel.select(first.number)
    assert panel.clone_button.isEnabled()
    qtbot.mouseClick(panel.clone_button, Qt.MouseButton.LeftButton)
    dialog = dashboard._clone_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=TIMEOUT)
    dialog.select("lr")
    dialog.float_edit.clear()
    qtbot.keyClicks(dialog.float_edit, "0.05")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: len(dashboard.runs()) == 2, timeout=TIMEOUT)
    wait_ended(qtbot, dashboard, "finished")
    second = dashboard.live_run()
    assert second is not first and "0.01 → 0.05" in second.note
    assert second.project["training"]["optimizer"]["lr"] == 0.05
    assert second.project["training"]["seed"] == first.project["training"]["seed"]
    # same initial weights and first batch: the very first loss is identical, later ones differ
    assert second.batch.view("loss")[0] == first.batch.view("loss")[0]
    assert not np.allclose(second.batch.view("loss")[5:30], first.batch.view("loss")[5:30])
    # the cloned-from run is overlaid with the new one
    assert first.shown and set(dashboard.curves._curves) == {first.number, second.number}
    assert panel.tree.topLevelItemCount() == 2
    assert "clone" in panel.tree.topLevelItem(1).text(panel.SETTINGS)


def test_overlay_checkbox_adds_and_removes_a_runs_curves(qtbot, dashboard):
    dashboard.set_project(spiral(epochs=1))
    for _ in range(2):
        dashboard.actions["start"].trigger()
        wait_ended(qtbot, dashboard, "finished")
    first, second = dashboard.runs()
    assert set(dashboard.curves._curves) == {second.number}
    item = dashboard.runs_panel.tree.topLevelItem(0)
    item.setCheckState(0, Qt.CheckState.Checked)
    assert set(dashboard.curves._curves) == {first.number, second.number}
    item.setCheckState(0, Qt.CheckState.Unchecked)
    assert set(dashboard.curves._curves) == {second.number}


def test_reset_gives_new_weights_from_the_same_seed(qtbot, dashboard):
    project = spiral(epochs=3)
    dashboard.set_project(project)
    dashboard.actions["start"].trigger()
    wait_ended(qtbot, dashboard, "finished")
    trained = dashboard.current_network().get_weights()
    with qtbot.waitSignal(dashboard.network_updated, timeout=TIMEOUT) as sig:
        dashboard.actions["reset"].trigger()
    fresh = Network(project["network"], seed=project["training"]["seed"]).get_weights()
    reset = sig.args[0].get_weights()
    assert all(np.array_equal(reset[k], fresh[k]) for k in fresh)
    assert not all(np.array_equal(trained[k], fresh[k]) for k in fresh)
    assert dashboard.live_run() is None and dashboard.confusion.matrix is None


def test_set_project_never_touches_a_running_worker(qtbot, dashboard):
    dashboard.set_project(spiral())
    dashboard.actions["start"].trigger()
    run = dashboard.live_run()
    qtbot.waitUntil(lambda: len(run.batch) > 5, timeout=TIMEOUT)
    lr = run.batch.view("lr")[-1]
    dashboard.set_project(spiral(optimizer={"type": "sgd", "lr": 0.1}))
    assert run.project["training"]["optimizer"]["type"] == "adam"
    assert lr != 0.1
    # the worker goes on with the run's settings: batches after the edit keep its learning rate
    seen = len(run.batch)
    qtbot.waitUntil(lambda: len(run.batch) > seen + 5, timeout=TIMEOUT)
    later = run.batch.view("lr")[seen:]  # Adam's 0.01 on its schedule, never SGD's 0.1
    assert np.all(later <= lr) and np.all(later > 0.5 * lr)
    dashboard.actions["stop"].trigger()
    wait_ended(qtbot, dashboard, "cancelled")


def test_regression_shows_the_fitted_curve(qtbot, dashboard):
    project = load_preset("sin-regression")
    project["training"]["epochs"] = 3
    dashboard.set_project(project)
    dashboard.actions["start"].trigger()
    wait_ended(qtbot, dashboard, "finished")
    view = dashboard.model_view
    assert view.currentWidget() is view.fit_page and view.fit.isVisible()
    x, y = view.fit.curve.getData()
    assert len(x) == 200 and np.isfinite(y).all()
    assert dashboard.curves.regression
    assert npoints(dashboard.curves._curves[dashboard.live_run().number].val_acc) == 3  # val R²
    assert dashboard.curves.key_labels() == []  # no accuracies to tell apart


# ------------------------------------------------------------------ Qt-free parts

def test_series_grows_and_keeps_values():
    s = Series("x", "y", capacity=2)
    for i in range(5):
        s.append(x=i, y=None if i == 3 else 2 * i)
    assert len(s) == 5 and list(s.view("x")) == [0, 1, 2, 3, 4]
    assert np.isnan(s.view("y")[3]) and s.last("y") == 8


def test_clone_project_changes_exactly_one_setting():
    project = spiral()
    settings = {s.key: s for s in clone_settings(project)}
    clone, note = clone_project(project, settings["batch_size"], 64)
    assert note == "batch size 32 → 64"
    diff = copy.deepcopy(clone)
    diff["training"]["batch_size"] = 32
    assert diff == project
    with pytest.raises(Exception, match="already"):
        clone_project(project, settings["batch_size"], 32)


def test_plot_frames_are_round_change_rarely_and_yield_to_the_user(qtbot):
    import pyqtgraph as pg

    from playground.ui.dashboard.plotting import Frame
    assert [nice_ceil(v) for v in (0.7, 1.0, 1.3, 2.2, 2.6, 7.0, 0.0105, 340, 9.5)] == \
        [0.8, 1.0, 1.5, 2.5, 3.0, 8.0, 0.012, 400.0, 10.0]
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    frame = Frame(w)
    vb = w.getPlotItem().getViewBox()
    assert frame.set((0, 3), (0, 2.5)) is True
    assert vb.viewRange() == [[0, 3], [0, 2.5]]
    assert frame.set((0, 3), (0, 2.5)) is False  # unchanged: the axes keep their drawing
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])  # as a zoom with the mouse does
    assert frame.set((0, 4), (0, 5)) is False and vb.viewRange() == [[0, 3], [0, 2.5]]
    vb.enableAutoRange()  # the "A" button
    assert frame.set((0, 4), (0, 5)) is True and vb.viewRange() == [[0, 4], [0, 5]]


def test_confusion_counts_are_drawn_at_their_cells(shown):
    """The counts are painted in one item: render it and look for dark ink where a count is."""
    from playground.ui.dashboard.confusion import ConfusionView

    view = shown(ConfusionView(), 400, 400)
    m = np.array([[0, 0], [0, 888]])
    view.set_matrix(m, ("a", "b"))
    assert view.cell_text(1, 1) == "888" and view.cell_text(0, 1) == "0"

    def pixels(row, col, test):
        """How many pixels around a cell's centre pass ``test`` (a QColor → bool)."""
        img, p = view.grab().toImage(), view.cell_center(row, col)
        return sum(test(img.pixelColor(p.x() + dx, p.y() + dy)) for dx in range(-12, 13) for dy in range(-5, 6))

    def dark(c):
        return c.lightness() < 90

    def light(c):
        return c.lightness() > 200

    assert pixels(0, 1, dark) > 5, "the count 0 is not written (dark on white) in its cell"
    assert pixels(1, 1, light) > 5, "the count 888 is not written (white on dark blue) in its cell"
    view.clear_matrix()
    assert view.cell_text(1, 1) == "" and pixels(0, 1, dark) == 0


# ------------------------------------------------------------------ light and dark look

@pytest.fixture
def theme(qapp):
    """The app's Theme, installed for one test and taken away after it."""
    from playground.ui.theme import Theme

    import pyqtgraph as pg
    from PySide6.QtGui import QGuiApplication

    style, palette = qapp.style().name(), qapp.palette()
    colors = {k: pg.getConfigOption(k) for k in ("background", "foreground")}
    theme = Theme(qapp, appearance="light")
    yield theme
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.disconnect(theme._system_changed)
    qapp._playground_theme = None
    qapp.setStyle(style)
    qapp.setPalette(palette)
    for key, value in colors.items():
        pg.setConfigOption(key, value)
    theme.deleteLater()


def test_plots_follow_the_light_and_dark_look(shown, theme):
    from playground.ui.plotlook import LOOKS

    theme.set_appearance("dark")
    dash = TrainingDashboard()
    dash.set_project(spiral(epochs=2))
    shown(dash, 1200, 800)

    def plot_pixel(widget):
        """The colour in the middle of a plot's empty area (top right of its view, under no curve)."""
        vb = widget.getPlotItem().getViewBox()
        rect = widget.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        return widget.grab().toImage().pixelColor(rect.right() - 30, rect.top() + 30)

    def check(dark):
        lk = LOOKS[dark]
        for w in (dash.curves.loss, dash.curves.acc, dash.health.grads, dash.confusion):
            assert w.backgroundBrush().color().name() == pg_color(lk["bg"]), w
            axis = w.getPlotItem().getAxis("left")
            assert axis.textPen().color().name() == lk["text"]
            assert w.getPlotItem().titleLabel.opts["color"] == lk["title"]
        assert (plot_pixel(dash.curves.loss).lightness() < 80) == dark
        # the confusion matrix's empty cells take the background's colour
        assert dash.confusion.image.lut[0][:3].tolist() == list(bytes.fromhex(pg_color(lk["cells"][0])[1:]))

    check(dark=True)
    theme.set_appearance("light")
    check(dark=False)


def pg_color(name: str) -> str:
    """A colour as QColor.name() writes it (pyqtgraph takes 'w' for white)."""
    from PySide6.QtGui import QColor
    import pyqtgraph as pg

    return QColor(pg.mkColor(name)).name()


def test_the_health_panel_draws_every_new_histogram(qtbot):
    """New statistics are noticed by a version number, not by the identity of a dict (which Python reuses)."""
    from playground.ui.dashboard.health import HealthPanel
    from playground.ui.dashboard.runs import RUN_COLORS, Run

    run = Run(number=1, project=load_preset("spiral"), color=RUN_COLORS[0])
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.prepare(["d1"], ["r1"])
    panel.set_run(run)
    rng = np.random.default_rng(0)
    step = 0
    for _ in range(2000):
        for _ in range(rng.integers(1, 5)):  # the reports one refresh takes in, some with statistics
            k = int(rng.integers(0, 4))
            steps = list(range(step + 1, step + 1 + max(k, 1)))
            step = steps[-1]
            stats = [{"epoch": 1, "batch": s, "batches": 10**6, "grad_norm/d1": 1.0,
                      "histograms": {"r1": (np.array([float(s), 1.0]), np.array([0.0, 1.0, 2.0]))}}
                     for s in steps[:k]]
            run.add_batches({"steps": steps, "loss": [1.0] * len(steps), "accuracy": [0.5] * len(steps),
                             "lr": [0.1] * len(steps), "epoch_pos": [s / 10**6 for s in steps], "stats": stats,
                             "last": {}})
        panel.refresh_histograms()
        newest = run.histograms["r1"][0][0]
        assert panel._hist_plots["r1"][1].getData()[1][0] == newest, f"step {step}: an older histogram is shown"


def test_a_caption_too_wide_for_its_plot_ends_in_an_ellipsis_inside_it(qapp):
    """Four histograms side by side leave each caption ~150 px: a long one must not run into the next."""
    from PySide6.QtGui import QFont, QFontMetricsF

    from playground.ui.dashboard.health import fit_parts

    font = QFont()
    font.setPointSize(8)
    fm = QFontMetricsF(font)
    parts = [("dense1_relu  μ 0.4 σ 0.72", "#000000"), ("  dead 12%", "#aa0000")]  # as the panel writes it
    total = sum(fm.horizontalAdvance(t) for t, _ in parts)
    placed = fit_parts(parts, fm, total * 0.6)  # the first piece gives way: the dead share stays whole
    assert len(placed) == 2 and 0 <= placed[0][0] < 3 and placed[0][1].endswith("…")
    assert placed[0][1].startswith("dense1_") and placed[1][1] == "  dead 12%"
    x, last, _ = placed[-1]
    assert x + fm.horizontalAdvance(last) <= total * 0.6
    room = fm.horizontalAdvance("  dead 1")  # not even the warning fits: cut where the room ends
    tiny = fit_parts(parts, fm, room)
    assert tiny[-1][1].endswith("…") and tiny[-1][0] + fm.horizontalAdvance(tiny[-1][1]) <= room
    centred = fit_parts(parts, fm, total + 40)  # room enough: centred, whole
    assert [t for _, t, _ in centred] == [t for t, _ in parts] and centred[0][0] == pytest.approx(20)


def test_a_data_set_load_that_ends_after_the_window_closed_is_dropped(qtbot):
    """The window closes while a data set loads: its end, taken in after the loader is gone, emits nothing."""
    import shiboken6

    from playground.ui.dashboard.loading import DatasetLoader

    loader = DatasetLoader()
    key = loader.request(load_preset("spiral")["dataset"])
    threads = loader._threads
    loader.wait()
    loader.close()
    shiboken6.delete(loader)  # as the window's deletion does, before the load's end is taken in
    # the queued end arrives (pytest-qt fails the test on an exception raised in the event loop)
    qtbot.waitUntil(lambda: key not in threads)
