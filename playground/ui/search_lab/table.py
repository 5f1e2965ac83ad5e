"""The Search lab's table of trials, best first, and the ranking it and the plots share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

COLUMNS = ("rank", "trial", "sampler", "learning rate", "weight decay", "val accuracy", "val loss",
           "train accuracy", "status", "seconds", "worker")
TIPS = {"val accuracy": "Accuracy on the validation split cut from the training samples, after the last epoch: "
                        "the number the search ranks by (never the test set)",
        "train accuracy": "Accuracy on the samples the trial trained on: far above the validation accuracy "
                          "means overfitting",
        "status": "finished; diverged (the loss overflowed: the learning rate was too large); failed (could not "
                  "run: hover for why)",
        "rank": "Place by validation accuracy (the lower trial number first among equals)"}


def ranked(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Finished trials by validation accuracy (best first), then the diverged and failed ones."""
    records = list(records)
    done = [r for r in records if r["status"] == "finished" and r["val_accuracy"] is not None]
    done.sort(key=lambda r: (-r["val_accuracy"], r["trial"], r.get("sampler", "")))
    rest = [r for r in records if not (r["status"] == "finished" and r["val_accuracy"] is not None)]
    rest.sort(key=lambda r: (r["trial"], r.get("sampler", "")))
    return done + rest


def _number(value: Any, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


class TrialTable(QTableWidget):
    """Every finished trial, best first, filled again as trials come (a few hundred rows at most)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        # two-word names on two lines: the eleven columns fit beside the settings on a 1024-pixel screen
        self.setHorizontalHeaderLabels([c.capitalize().replace(" ", "\n") for c in COLUMNS])
        for i, name in enumerate(COLUMNS):
            if name in TIPS:
                self.horizontalHeaderItem(i).setToolTip(TIPS[name])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setDefaultSectionSize(64)  # the stretched last column's least width (else 100 px)
        self.horizontalHeader().setStretchLastSection(True)
        self.setAlternatingRowColors(True)

    def show_records(self, records: list[dict[str, Any]]) -> None:
        rows = ranked(records)
        self.setRowCount(len(rows))
        for row, r in enumerate(rows):
            finished = r["status"] == "finished" and r["val_accuracy"] is not None
            cells = (str(row + 1) if finished else "", str(r["trial"]), r.get("sampler", ""),
                     f"{r['params']['lr']:.3g}", f"{r['params']['weight_decay']:.3g}",
                     _number(r["val_accuracy"], ".3f"), _number(r["val_loss"], ".3f"),
                     _number(r["train_accuracy"], ".3f"), r["status"], f"{r['seconds']:.1f}", r["worker"])
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if COLUMNS[col] not in ("sampler", "status", "worker"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if r.get("message"):
                    item.setToolTip(r["message"])
                self.setItem(row, col, item)

    def column_values(self, name: str) -> list[str]:
        col = COLUMNS.index(name)
        return [self.item(row, col).text() for row in range(self.rowCount())]
