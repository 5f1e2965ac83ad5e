"""The NumPy deep-learning engine. It never imports Qt."""
