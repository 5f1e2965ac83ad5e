"""``python -m playground.ui.search_lab [PRESET]``: the Search lab alone in a window."""

import sys

from playground.ui.search_lab.widget import main

sys.exit(main())
