"""``python -m playground.ui.optimizer_lab``: the optimizer lab alone in a window."""

import sys

from playground.ui.optimizer_lab.widget import main

sys.exit(main())
