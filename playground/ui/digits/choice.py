"""The pad's "Which network reads it" box: what reads, and the user's choices (bundled, the app's, save)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

TIP_OFFER = ("Read with the network the Training tab has now. The pad then follows that training as it goes, "
             "until you pick another network here.\nStarting a run does not change the pad by itself: "
             "a fresh run's untrained network reads every drawing as about 10 % each.")
TIP_SAVE = ("Save the network the pad reads with (for example after fine-tuning it on your digits) as a model "
            "file (.npz):\nFile > Import Trained Model reads it back, and `playground predict MODEL.npz IMAGE` "
            "uses it.")


class NetworkBox(QGroupBox):
    """Which network reads the pad: its name and size, and buttons to change or keep it.

    ``bundled_button``: go back to the bundled model. ``offer_button``: read
    with the network trained in the app (shown while one is on offer).
    ``save_button``: save the network read with (enabled unless it is the
    bundled model, which is already a file).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Which network reads it", parent)
        lay = QVBoxLayout(self)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.label)
        self.offer_label = QLabel()
        self.offer_label.setWordWrap(True)
        self.offer_label.setToolTip(TIP_OFFER)
        lay.addWidget(self.offer_label)
        self.offer_button = QPushButton("Read with the app's network")
        self.offer_button.setToolTip(TIP_OFFER)
        lay.addWidget(self.offer_button, 0, Qt.AlignmentFlag.AlignLeft)
        row = QHBoxLayout()
        self.bundled_button = QPushButton("Use the bundled model")
        self.bundled_button.setToolTip("Go back to the model shipped with the app (resources/models/digits.npz), "
                                       "trained by the command in resources/models/README.md")
        self.save_button = QPushButton("Save network…")
        self.save_button.setToolTip(TIP_SAVE)
        row.addWidget(self.bundled_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.show_offer("")

    def show_offer(self, label: str) -> None:
        """Offer the app's network described by ``label``; "" withdraws the offer."""
        self.offer_label.setText(f"<i>The Training tab offers its network</i> ({label}); "
                                 "the pad goes on reading with the one above until you take it." if label else "")
        self.offer_label.setVisible(bool(label))
        self.offer_button.setVisible(bool(label))
