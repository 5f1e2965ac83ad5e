"""The optimizer lab's internals on screen: the step panel follows Step, the map shows each optimizer's state."""

import numpy as np
from PySide6.QtCore import QPoint, Qt

from playground.engine.lab.internals import optimizer_state, update_lines
from playground.ui.optimizer_lab.widget import OptimizerLabWidget


def test_the_step_panel_and_the_map_show_the_optimizers_state(qtbot, shown):
    w = shown(OptimizerLabWidget(), 1400, 900)
    panel, overlay = w.step_panel, w.internals
    for _ in range(3):
        qtbot.mouseClick(w.transport.step_button, Qt.MouseButton.LeftButton)
    assert w.lab.step_count == 3
    momentum = w.lab.paths["momentum"]
    assert panel.name == "momentum" and panel.text.text().count("<br>") == len(update_lines(momentum)) - 1
    assert "step 4 at W = " in panel.text.text()
    # the velocity arrow starts at the point and ends at point + v (the optimizer's own v)
    x, y = overlay.arrows["momentum"].getData()
    v = momentum.optimizer.state["w"]["v"]
    np.testing.assert_allclose([x[0], y[0]], momentum.position)
    np.testing.assert_allclose([x[1], y[1]], momentum.position + v, rtol=1e-9)
    # AdaGrad's squares: the right one's side over the left one's is h1 / h2
    sx, sy = overlay.squares["adagrad"].getData()
    h = optimizer_state(w.lab.paths["adagrad"])["h"]
    pw, ph = w.map_view.vb.viewPixelSize()
    assert len(sx) == 16  # two squares of four sides, as pairs of points
    right, left = abs(sx[1] - sx[0]) / pw, abs(sx[9] - sx[8]) / pw
    np.testing.assert_allclose(right / left, h[0] / h[1], rtol=1e-6)
    # another optimizer in the panel; the state toggle hides the drawings
    panel.choice.setCurrentIndex(panel.choice.findData("adam"))
    assert "m̂ = m / (1 − β₁^4)" in panel.text.text()
    qtbot.mouseClick(panel.show_box, Qt.MouseButton.LeftButton, pos=QPoint(8, panel.show_box.height() // 2))
    assert not panel.show_box.isChecked()
    x, _ = overlay.arrows["momentum"].getData()
    assert x is None or len(x) == 0
