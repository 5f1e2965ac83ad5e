"""Data sets: MNIST files, generated sets, augmentation, and turning a drawing into an MNIST input."""
