"""The Search lab driven by its controls: a tiny search's table, scatter and curves, Use best and Undo, Stop,
random vs TPE, and mistakes in its message line."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt

from playground.engine.project import load_preset
from playground.ui.builder.document import ProjectDocument
from playground.ui.search_lab import SearchLabWidget
from playground.ui.search_lab.table import COLUMNS

SEARCH_TIMEOUT_MS = 180_000


def tiny_project() -> dict:
    """The spiral preset at a test's size: 2-8-2, 200 samples, plain SGD."""
    project = load_preset("spiral")
    project["network"]["layers"] = [{"type": "Dense", "units": 8, "activation": "relu"},
                                    {"type": "Dense", "units": 2}, {"type": "Softmax"}]
    project["dataset"]["n_samples"] = 200
    project["training"].update(optimizer={"type": "sgd", "lr": 0.1}, schedule=None, epochs=2, weight_decay=0.0)
    return project


def type_into(qtbot, spin, text: str) -> None:
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Tab)


def choose(qtbot, combo, key: str) -> None:
    combo.setFocus()
    keys = [combo.itemData(i) for i in range(combo.count())]
    while combo.currentData() != key:
        qtbot.keyClick(combo, Qt.Key.Key_Down if keys.index(key) > combo.currentIndex() else Qt.Key.Key_Up)


@pytest.fixture
def lab(qtbot, shown):
    """The lab on the tiny project, set for 4 trials of 1 epoch on 100 samples, on one local worker, with
    learning rates from 10^-2 to 10^0.5 (large enough for one epoch to tell the trials apart)."""
    doc = ProjectDocument(tiny_project())
    w = shown(SearchLabWidget(doc), 1200, 800)
    c = w.controls
    for spin, text in ((c.trials, "4"), (c.epochs, "1"), (c.samples, "100"), (c.workers, "1"),
                       (c.lr_high, "0.5"), (c.lr_low, "-2")):
        type_into(qtbot, spin, text)
    assert (c.trials.value(), c.epochs.value(), c.samples.value(), c.workers.value()) == (4, 1, 100, 1)
    yield w
    w.shutdown()


def run_search(qtbot, w) -> None:
    with qtbot.waitSignal(w.searchFinished, timeout=SEARCH_TIMEOUT_MS):
        qtbot.mouseClick(w.controls.run_button, Qt.MouseButton.LeftButton)


def test_a_search_fills_the_table_best_first_and_the_scatter_with_its_trials(qtbot, lab):
    run_search(qtbot, lab)
    records = lab.records
    assert sorted(r["trial"] for r in records) == [0, 1, 2, 3]
    assert all(r["status"] == "finished" and r["sampler"] == "random" for r in records)
    assert lab.controls.progress.value() == 4 and lab.controls.run_button.isEnabled()
    # the table: every trial, by validation accuracy, best first
    accuracies = [float(v) for v in lab.table.column_values("val accuracy")]
    assert len(accuracies) == 4 and len(set(accuracies)) > 1 and accuracies == sorted(accuracies, reverse=True)
    best = max(records, key=lambda r: (r["val_accuracy"], -r["trial"]))
    assert lab.table.column_values("trial")[0] == str(best["trial"])
    assert lab.table.column_values("rank") == ["1", "2", "3", "4"]
    assert COLUMNS.index("val accuracy") > COLUMNS.index("weight decay")
    # the scatter: one dot per trial at its (learning rate, weight decay), coloured by its accuracy
    assert sorted(lab.scatter.point_values()) == sorted((r["params"]["lr"], r["params"]["weight_decay"])
                                                        for r in records)
    assert lab.scatter.plot.getAxis("bottom").logMode and lab.scatter.plot.getAxis("left").logMode
    # the curves: Best-1 is the best trial, its validation curve solid and its training curve dashed
    assert lab.grid.titles[0] == f"Best-1 ({best['val_accuracy']:.2f})" and lab.grid.titles[4] == ""
    assert list(lab.grid.val_curves[0].yData) == [e["val_accuracy"] for e in best["epochs"]]
    assert list(lab.grid.train_curves[0].yData) == [e["accuracy"] for e in best["epochs"]]
    assert lab.grid.train_curves[0].opts["pen"].style() == Qt.PenStyle.DashLine
    assert "Done: 4 trials" in lab.controls.message.text()


def test_use_best_writes_the_best_values_into_the_project_and_undo_restores_them(qtbot, lab):
    before = lab.doc.project()
    assert not lab.controls.use_best_button.isEnabled()  # nothing to use yet
    run_search(qtbot, lab)
    best = max(lab.records, key=lambda r: (r["val_accuracy"], -r["trial"]))
    qtbot.mouseClick(lab.controls.use_best_button, Qt.MouseButton.LeftButton)
    training = lab.doc.training()
    assert training["optimizer"] == {"type": "sgd", "lr": best["params"]["lr"]}
    assert training["weight_decay"] == best["params"]["weight_decay"]
    assert lab.doc.project()["network"] == before["network"]
    assert "Undo" in lab.controls.message.text()
    lab.doc.undo_stack.undo()
    assert lab.doc.project() == before


def test_stop_ends_the_search_and_keeps_the_finished_trials(qtbot, lab):
    type_into(qtbot, lab.controls.trials, "40")
    type_into(qtbot, lab.controls.epochs, "30")
    qtbot.mouseClick(lab.controls.run_button, Qt.MouseButton.LeftButton)
    assert lab.controls.stop_button.isEnabled() and not lab.controls.run_button.isEnabled()
    qtbot.waitUntil(lambda: len(lab.records) >= 1, timeout=SEARCH_TIMEOUT_MS)
    with qtbot.waitSignal(lab.searchFinished, timeout=SEARCH_TIMEOUT_MS):
        qtbot.mouseClick(lab.controls.stop_button, Qt.MouseButton.LeftButton)
    kept = len(lab.records)
    assert 1 <= kept < 40 and lab.table.rowCount() == kept and lab.controls.progress.value() == kept
    assert lab.controls.message.text().startswith("Stopped") and lab.controls.run_button.isEnabled()
    assert lab.controls.use_best_button.isEnabled()


def test_both_samplers_race_with_the_same_budget_and_seed(qtbot, lab):
    pytest.importorskip("optuna", reason="TPE needs Optuna, the [cluster] extra")
    choose(qtbot, lab.controls.sampler, "both")
    run_search(qtbot, lab)
    assert lab.tabs.currentWidget() is lab.compare
    for sampler in ("random", "tpe"):
        mine = sorted((r for r in lab.records if r["sampler"] == sampler), key=lambda r: r["trial"])
        assert [r["trial"] for r in mine] == [0, 1, 2, 3]
        x, y = lab.compare.curves[sampler].getData()
        assert list(x) == [1, 2, 3, 4]
        assert list(y) == list(np.maximum.accumulate([r["val_accuracy"] for r in mine]))
        assert sorted(lab.compare.scatters[sampler].point_values()) == sorted(
            (r["params"]["lr"], r["params"]["weight_decay"]) for r in mine)
    assert lab.controls.progress.value() == lab.controls.progress.maximum() == 8


def test_mistakes_end_in_the_message_line(qtbot, lab, monkeypatch):
    c = lab.controls
    type_into(qtbot, c.lr_low, "1")
    qtbot.mouseClick(c.run_button, Qt.MouseButton.LeftButton)
    assert "low end is above the high end" in c.message.text() and not lab.running
    type_into(qtbot, c.lr_low, "-2")
    choose(qtbot, c.executor, "dask")
    qtbot.mouseClick(c.run_button, Qt.MouseButton.LeftButton)
    assert "no scheduler address" in c.message.text()
    qtbot.keyClicks(c.address, "nonsense")
    qtbot.mouseClick(c.run_button, Qt.MouseButton.LeftButton)
    assert "expected a scheduler address such as tcp://HOST:8786" in c.message.text() and not lab.running
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
        qtbot.mouseClick(c.run_button, Qt.MouseButton.LeftButton)
        assert 'pip install -e ".[cluster]"' in c.message.text() and not lab.running


def test_a_scheduler_where_nothing_listens_ends_in_the_message_line(qtbot, lab):
    pytest.importorskip("distributed", reason="Dask is the [cluster] extra")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    choose(qtbot, lab.controls.executor, "dask")
    qtbot.keyClicks(lab.controls.address, f"tcp://127.0.0.1:{port}")
    run_search(qtbot, lab)
    assert f"cannot reach a Dask scheduler at tcp://127.0.0.1:{port}" in lab.controls.message.text()
    assert lab.records == [] and lab.controls.run_button.isEnabled()


def test_the_labs_menu_opens_the_search_lab_on_the_open_project(qtbot, tmp_path):
    from playground.ui.mainwindow import MainWindow
    from playground.ui.settings import AppSettings

    w = MainWindow(settings=AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(w)
    w.actions["search_lab"].trigger()
    lab = w.search_lab
    assert lab.isVisible() and lab.doc is w.doc
    assert w.doc.name in lab.controls.project_label.text()
    w.actions["search_lab"].trigger()
    assert w.search_lab is lab  # made once
    lab.close()
