"""The Search lab (the book's chapter 6.5): random and TPE hyperparameter search, run and seen in the app."""

from playground.ui.search_lab.widget import SearchLabWidget, open_search_lab

__all__ = ["SearchLabWidget", "open_search_lab"]
