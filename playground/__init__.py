"""NumPy Neural Network Playground: learn deep learning by doing it."""

__version__ = "0.1.0"
