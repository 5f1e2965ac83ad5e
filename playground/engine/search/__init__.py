"""Random hyperparameter search (the book's chapter 6.5): parameter draws, trials, executors, the search itself."""
