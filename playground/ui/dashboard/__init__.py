"""Live training dashboard: controls, curves, network health, decision boundary, confusion matrix, runs.

The main window embeds :class:`TrainingDashboard`; ``python -m playground.ui.dashboard``
opens it alone on the ``spiral`` preset.
"""

from playground.ui.dashboard.dashboard import TrainingDashboard

__all__ = ["TrainingDashboard"]
